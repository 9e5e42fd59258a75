#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer
# (clang-14, build-sanitize/ from scripts/sanitize-build.sh; LeakSanitizer
# on, as ASan has it by default on Linux, and forced on here), including the
# fuzz_replay.* tests over every seed and past finding; then a short bounded
# run of every fuzz target (scripts/fuzz.sh, libFuzzer, the same build).
#   scripts/test-sanitizers.sh [--fuzz-seconds N]   default 20 per target; 0 skips fuzzing
# Extra arguments go to ctest (e.g. -R serve). Exits non-zero on any failure.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fuzz_seconds=20
ctest_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --fuzz-seconds) fuzz_seconds="$2"; shift 2 ;;
    *) ctest_args+=("$1"); shift ;;
  esac
done

phase_start=$SECONDS
build="$("$root/scripts/sanitize-build.sh")"
echo "test-sanitizers: sanitizer build $((SECONDS - phase_start)) s" >&2

# Later flags win, so a caller's detect_leaks=0 cannot switch leak checking off.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1"
# The end-to-end quality bands train full models on MovieLens-100K (and
# index-eval builds HNSW graphs over it), as do two of the three kill -9 /
# resume runs (the third, Adam with a schedule on two threads, stays) and the
# bench run: under the sanitizers they take several minutes and run the same
# code as the unit, gradient and smaller end-to-end tests, which do run here.
# They run in the normal pass only; TANDEM_SANITIZE_ALL=1 runs them here too.
# The mpirun tests (e2e.MpiTraining) also run in the normal pass only: under
# LeakSanitizer every rank would report Open MPI's own allocations at exit;
# the sharded step itself runs here, on the thread communicator (dist tests).
skip=()
if [ "${TANDEM_SANITIZE_ALL:-0}" != 1 ]; then
  skip=(-E '^e2e\.(Quality|SideFeaturesQuality|ExpertsQuality|OptimizerQuality|RankingLossE2e|JointBest)\.|^e2e\.ServeProcess\.IndexEvalRecallOnMovieLens$|^e2e\.Checkpoints\.Killed(KerasRsRunResumesToTheSameModelOneThread|TfrsRunResumesToTheSameModelTwoThreads)$|^e2e\.Cli\.BenchReportsEvaluationThroughputAndSoftmaxMemory$|^e2e\.MpiTraining\.')
fi
phase_start=$SECONDS
(cd "$build" && ctest -j 2 --output-on-failure "${skip[@]}" "${ctest_args[@]}")
echo "test-sanitizers: tests $((SECONDS - phase_start)) s" >&2

if [ "$fuzz_seconds" -gt 0 ]; then
  phase_start=$SECONDS
  "$root/scripts/fuzz.sh" --seconds "$fuzz_seconds"
  echo "test-sanitizers: fuzz build and runs $((SECONDS - phase_start)) s" >&2
fi
echo "test-sanitizers: passed in $SECONDS s" >&2
