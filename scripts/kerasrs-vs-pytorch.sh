#!/usr/bin/env bash
# The kerasrs protocol in Tandem and in bench/pytorch_reference.py on the same
# seeded splits: for each seed, Tandem writes its split (tandem data prepare
# --write-split) and trains the three models (tandem compare), and PyTorch
# trains on those very files. JSON lines go to OUT/tandem.jsonl and
# OUT/pytorch.jsonl; scripts/kerasrs-vs-pytorch.py summarises them.
#   scripts/kerasrs-vs-pytorch.sh OUT [SEEDS=1-10] [PYTORCH_MODELS="joint"]
# Env: TANDEM (build/tandem), DATA ($TANDEM_DATA, else ../shared/data/ml-100k beside the checkout),
#      PYTHON (/usr/bin/python3, which has Debian's python3-torch), THREADS (2).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:?usage: $0 OUT [SEEDS] [PYTORCH_MODELS]}"
seeds="${2:-1-10}"
models="${3:-joint}"
tandem="${TANDEM:-$root/build/tandem}"
data="${DATA:-${TANDEM_DATA:-$root/../shared/data/ml-100k}}"
python="${PYTHON:-/usr/bin/python3}"
threads="${THREADS:-2}"
"$python" -c "import torch" 2>/dev/null ||
  { echo "$python has no torch: apt-get install python3-torch (Debian's, as scripts/bench.sh --pytorch does)" >&2; exit 1; }
mkdir -p "$out/splits"
: > "$out/tandem.jsonl"
list=$(python3 -c "import sys
s=[]
for p in sys.argv[1].split(','):
    a,_,b=p.partition('-'); s+=range(int(a),int(b or a)+1)
print(' '.join(map(str,s)))" "$seeds")
for s in $list; do
  mkdir -p "$out/splits/$s"
  "$tandem" data prepare --preset kerasrs --data "$data" --seed "$s" \
    --write-split "$out/splits/$s" --json > /dev/null
  "$tandem" compare --preset kerasrs --data "$data" --seed "$s" --threads "$threads" --json \
    2> /dev/null >> "$out/tandem.jsonl"
  echo "tandem seed $s done" >&2
done
# shellcheck disable=SC2086
"$python" "$root/bench/pytorch_reference.py" --quality --data "$data" --seeds "$seeds" \
  --split-from "$out/splits/{seed}" --model $models --threads "$threads" > "$out/pytorch.jsonl"
