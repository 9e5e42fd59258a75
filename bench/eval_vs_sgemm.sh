#!/usr/bin/env bash
# tandem evaluate's whole evaluation (eval_seconds) beside the bare blocked
# sgemm of the same shape (bench/numpy_score_product.py: test pairs x
# catalogue items x dimension, float32, OpenBLAS), on the same threads, run
# alternately, medians of RUNS runs each; prints both and their ratio.
#
#   bench/eval_vs_sgemm.sh MODEL [TEST_FILE] [THREADS] [RUNS] [BINARY...]
#
# MODEL: a .tandem file; TEST_FILE: a u.data-format file (default: the
# model's own test split); several binaries (e.g. main's build and this one)
# are timed in the same loop, so that their figures share the machine's load.
# DIM: the model's retrieval dimension (default 32).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
model=$1
test=${2:-}
threads=${3:-2}
runs=${4:-5}
shift $(( $# < 4 ? $# : 4 ))
bins=("$@")
[ ${#bins[@]} -gt 0 ] || bins=("$here/../build/tandem")
test_args=()
[ -n "$test" ] && test_args=(--test "$test")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Shape of the product: pairs evaluated, candidates, dimension (from one run).
"${bins[0]}" evaluate --model "$model" "${test_args[@]}" --threads "$threads" --json >"$tmp/first.json"
read -r pairs items <<<"$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["evaluated_pairs"], j["candidates"])' "$tmp/first.json")"
dim=${DIM:-32}  # the model's retrieval dimension (the presets': 32)

for r in $(seq "$runs"); do
  for i in "${!bins[@]}"; do
    "${bins[$i]}" evaluate --model "$model" "${test_args[@]}" --threads "$threads" --json |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["eval_seconds"])' >>"$tmp/eval.$i"
  done
  OPENBLAS_NUM_THREADS=$threads /usr/bin/python3 "$here/numpy_score_product.py" --queries "$pairs" \
    --items "$items" --dim "$dim" --runs 1 |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["median_seconds"])' >>"$tmp/numpy"
done

median() { sort -g "$1" | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
np=$(median "$tmp/numpy")
flops=$(python3 -c "print(2 * $pairs * $items * $dim)")
echo "shape: $pairs queries x $items items x $dim dims = $flops FLOP; $threads threads; $runs runs"
echo "numpy blocked sgemm: median $np s ($(python3 -c "print(round($flops / $np / 1e9, 1))") GFLOP/s) runs: $(tr '\n' ' ' <"$tmp/numpy")"
for i in "${!bins[@]}"; do
  e=$(median "$tmp/eval.$i")
  echo "${bins[$i]}: eval_seconds median $e s, $(python3 -c "print(round($e / $np, 2))")x the sgemm; runs: $(tr '\n' ' ' <"$tmp/eval.$i")"
done
