#!/usr/bin/env bash
# Runs a fixed set of training, evaluation and serving commands with one
# tandem binary and writes their outputs, timings removed, to OUT_DIR; run it
# with two binaries (say, a build of an older commit and the current one) and
# `diff -r` the two directories to show that a restructuring changed no
# result. Every run is seeded and uses 2 threads, so the figures are
# deterministic on one machine.
#
#   scripts/bit-identity.sh BINARY OUT_DIR [DATA_DIR]
#   diff -r before/ after/ && echo identical
set -euo pipefail
bin=$(realpath "$1")
out=$2
data=${3:-$(cd "$(dirname "$0")/.." && pwd)/../shared/data/ml-100k}
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Timings and paths differ between runs of the same model; everything else
# must not.
strip() {
  python3 -c '
import json, sys
DROP = {"seconds", "output", "model", "model_file", "timing_ms"}
def clean(v):
    if isinstance(v, dict):
        return {k: clean(x) for k, x in v.items() if k not in DROP and not k.endswith("_seconds")}
    if isinstance(v, list):
        return [clean(x) for x in v]
    return v
for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    try:
        print(json.dumps(clean(json.loads(line)), sort_keys=True))
    except ValueError:
        print(line)
'
}

run() {  # NAME ARGS...
  local name=$1
  shift
  "$bin" "$@" --data "$data" --threads 2 --json --quiet 2>"$work/err" | strip >"$out/$name.json" ||
    { echo "$name failed:"; cat "$work/err"; exit 1; }
  echo "$name"
}

run compare-kerasrs-seed7 compare --preset kerasrs --seed 7
run train-mmoe-logq-features train --preset kerasrs --seed 7 --epochs 2 --multitask mmoe \
  --logq-correction --user-features age,gender,occupation --item-features genres --tower-layers 32
run compare-tfrs-seed7 compare --preset tfrs --seed 7
run train-bce train --preset kerasrs --seed 3 --epochs 2 --ranking-loss bce
run train-listwise train --preset kerasrs --seed 3 --epochs 2 --ranking-loss softmax-listwise
run train-negatives train --preset kerasrs --seed 3 --epochs 2 --hard-negatives 10 \
  --mixed-negatives 50 --remove-accidental-hits --temperature 0.5
run train-ple-uncertainty train --preset kerasrs --seed 3 --epochs 2 --multitask ple \
  --task-weighting uncertainty
run train-full-matrix train --preset kerasrs --seed 3 --epochs 2 --full-score-matrix
run train-retrieval-only train --preset kerasrs --seed 3 --epochs 2 --ranking-weight 0
run train-ranking-only train --preset kerasrs --seed 3 --epochs 2 --retrieval-weight 0
run train-timestamp-tower train --preset kerasrs --seed 3 --epochs 2 --timestamp-buckets 8 \
  --user-features age --item-features genres --tower-layers 16
run train-tfrs-adam-blas train --preset tfrs --seed 3 --epochs 1 --optimizer adam --parallelism blas
run train-weighted-mmoe-features train --preset tfrs --seed 5 --epochs 1 --multitask mmoe \
  --ranking-weight 0.3 --retrieval-weight 0.7 --user-features age,gender --item-features genres,year \
  --mixed-negatives 20
run train-saved train --preset kerasrs --seed 11 --epochs 1 --output "$work/m.tandem"
"$bin" evaluate --model "$work/m.tandem" --data "$data" --threads 2 --json 2>/dev/null | strip >"$out/evaluate-saved.json"
"$bin" recommend --model "$work/m.tandem" --user 42 --k 10 --candidates 50 --json | strip >"$out/recommend-saved.json"
echo "outputs in $out"
