#!/usr/bin/env bash
# The one sanitizer build that the test suite under sanitizers
# (scripts/test-sanitizers.sh) and the fuzz targets (scripts/fuzz.sh) share:
# clang-14 with AddressSanitizer, UndefinedBehaviorSanitizer (float-cast-
# overflow included) and LeakSanitizer, plus libFuzzer's coverage
# instrumentation (-DTANDEM_FUZZ=ON), at -O1 with line tables: quick to
# build, reports with file:line, assertions (nlohmann's included) left on.
# One build instead of a gcc one for the tests and a clang one for the fuzz
# targets halves what CI compiles under sanitizers.
#   scripts/sanitize-build.sh [target...]   default: everything but the benchmarks
# Builds in ${TANDEM_SANITIZE_BUILD_DIR:-build-sanitize}, prints that
# directory on stdout, the build's own output only on failure.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# clang-14 and its runtimes: libFuzzer (libclang_rt.fuzzer*) comes with
# libclang-rt-14-dev; llvm-14 brings llvm-symbolizer for readable reports.
# Ninja schedules the two cores better than make (links overlap compiles).
"$root/scripts/install-deps.sh" clang-14 libclang-rt-14-dev llvm-14 ninja-build
build="${TANDEM_SANITIZE_BUILD_DIR:-$root/build-sanitize}"
if [ -f "$build/CMakeCache.txt" ] && ! { grep -q '^TANDEM_FUZZ:BOOL=ON' "$build/CMakeCache.txt" &&
                                        grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja' "$build/CMakeCache.txt"; }; then
  # A build-sanitize/ from before this script (gcc and -DTANDEM_SANITIZE=ON,
  # or make) cannot switch compilers or generators in place.
  echo "sanitize-build: $build was configured differently (an older sanitizer build); removing it" >&2
  rm -rf "$build"
fi
# Test files at -O0: half the compile time of -O1 under the sanitizers; the
# libraries they test stay at -O1.
cmake -G Ninja -S "$root" -B "$build" -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" -DTANDEM_FUZZ=ON \
  -DTANDEM_TEST_OPTIMIZATION=-O0 -DTANDEM_BUILD_BENCH=OFF >/dev/null
targets=()
[ $# -gt 0 ] && targets=(--target "$@")
log="$build/last-build.log"
if ! cmake --build "$build" -j "$(nproc)" "${targets[@]}" >"$log" 2>&1; then
  grep -E -m 20 'error|Error' "$log" >&2 || tail -n 40 "$log" >&2
  echo "sanitize-build: build failed; full log: $log" >&2
  exit 1
fi
echo "$build"
