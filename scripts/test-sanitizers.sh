#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer
# (gcc, -DTANDEM_SANITIZE=ON, build-sanitize/; LeakSanitizer on, as ASan has
# it by default on Linux, and forced on here), including the fuzz_replay.*
# tests over every seed and past finding; then a short bounded run of every
# fuzz target (scripts/fuzz.sh, clang + libFuzzer, build-fuzz/).
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

"$root/scripts/install-deps.sh"
build="${TANDEM_SANITIZE_BUILD_DIR:-$root/build-sanitize}"
# -O1 with line tables (-g1) compiles in half the time of -O2 -g, and reports
# still give file:line; assertions stay on. Benchmarks are not tests.
phase_start=$SECONDS
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" -DTANDEM_SANITIZE=ON -DTANDEM_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j 2 >/dev/null
echo "test-sanitizers: sanitizer build $((SECONDS - phase_start)) s" >&2

# Later flags win, so a caller's detect_leaks=0 cannot switch leak checking off.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1"
phase_start=$SECONDS
(cd "$build" && ctest -j 2 --output-on-failure "${ctest_args[@]}")
echo "test-sanitizers: tests $((SECONDS - phase_start)) s" >&2

if [ "$fuzz_seconds" -gt 0 ]; then
  phase_start=$SECONDS
  "$root/scripts/fuzz.sh" --seconds "$fuzz_seconds"
  echo "test-sanitizers: fuzz build and runs $((SECONDS - phase_start)) s" >&2
fi
echo "test-sanitizers: passed in $SECONDS s" >&2
