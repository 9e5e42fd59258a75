#!/usr/bin/env bash
# Benchmarks on this machine, side by side in one run:
#   scripts/bench.sh                 tandem bench (training, softmax memory, evaluation)
#   scripts/bench.sh --pytorch       ... plus the same model in PyTorch (Debian's
#                                    python3-torch, installed if missing) as the reference
#   scripts/bench.sh --scaling       ... plus synthetic scaling runs (1M, 10M, 50M interactions)
# Other arguments go to `tandem bench` (e.g. --repeats 5, --threads 2).
# Results are also written as JSON lines under out/bench/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/build.sh"
out="$root/out/bench"
mkdir -p "$out"
pytorch=0
args=()
for a in "$@"; do
  case "$a" in
    --pytorch) pytorch=1 ;;
    --scaling) args+=(--scaling 1000000:100000:100000 10000000:500000:500000 50000000:1000000:1000000) ;;
    *) args+=("$a") ;;
  esac
done
data="${TANDEM_DATA:-$root/../shared/data/ml-100k}"
if [ "$pytorch" = 1 ]; then
  if ! dpkg-query -W -f='${Status}' python3-torch 2>/dev/null | grep -q "install ok installed"; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get install -y -qq --no-install-recommends python3-torch >/dev/null
  fi
  echo "Running the PyTorch reference (same model and protocol)..." >&2
  /usr/bin/python3 "$root/bench/pytorch_reference.py" --data "$data" --threads "$(nproc)" \
    > "$out/pytorch.jsonl"
  args+=(--reference "$out/pytorch.jsonl")
fi
"$root/build/tandem" bench --data "$data" "${args[@]}" | tee "$out/tandem.txt"
