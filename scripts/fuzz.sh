#!/usr/bin/env bash
# Fuzzes the parsers of outside bytes with libFuzzer (clang-14, ASan+UBSan;
# the build scripts/sanitize-build.sh makes, shared with the sanitizer tests).
#   scripts/fuzz.sh [--seconds N] [target...]     default: every target, 60 s each
# Targets are fuzz/<name>_fuzzer.cc (see docs/robustness.md). Each runs over a
# fresh copy of fuzz/corpus/<name>/ in build-sanitize/work/<name>/, so the
# committed corpus never grows by itself (copy an input worth keeping by
# hand), plus fuzz/regressions/<name>/ (read only), with fuzz/dict/<name>.dict
# when there is one. Prints per target the executions, seconds, edges
# covered before and after, inputs added to the working corpus and findings.
# Any finding (crash, uncaught exception, leak, UB, timeout, out-of-memory)
# leaves its reproducer in build-sanitize/findings/<name>/ and makes the script
# exit 1; replay one with build-sanitize/<name>_fuzzer FILE.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds=60
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option '$1' (see the header of $0)" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
all=()
for f in "$root"/fuzz/*_fuzzer.cc; do all+=("$(basename "$f" _fuzzer.cc)"); done
[ "${#targets[@]}" -gt 0 ] || targets=("${all[@]}")
for t in "${targets[@]}"; do
  [ -f "$root/fuzz/${t}_fuzzer.cc" ] || { echo "fuzz.sh: no target '$t' (have: ${all[*]})" >&2; exit 2; }
done

build="$("$root/scripts/sanitize-build.sh" "${targets[@]/%/_fuzzer}")"

# Leaks are findings: LeakSanitizer stays on even if the caller's environment
# turned it off.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1"
export ASAN_SYMBOLIZER_PATH="${ASAN_SYMBOLIZER_PATH:-/usr/lib/llvm-14/bin/llvm-symbolizer}"

for t in "${targets[@]}"; do
  [ -x "$build/${t}_fuzzer" ] || { echo "fuzz.sh: $build/${t}_fuzzer was not built" >&2; exit 2; }
done

failed=0
printf '%-18s %12s %8s %15s %10s  %s\n' target executions seconds "edges (start>end)" "new inputs" findings
for t in "${targets[@]}"; do
  work="$build/work/$t"
  findings="$build/findings/$t"
  rm -rf "$work"
  mkdir -p "$work/corpus" "$findings"
  cp -R "$root/fuzz/corpus/$t/." "$work/corpus/"
  dict=()
  [ -f "$root/fuzz/dict/$t.dict" ] && dict=(-dict="$root/fuzz/dict/$t.dict")
  # Past findings are read too (libFuzzer only writes to the first corpus
  # directory), so a regression shows up under clang's sanitizers at once.
  seeds=("$work/corpus")
  [ -d "$root/fuzz/regressions/$t" ] && seeds+=("$root/fuzz/regressions/$t")
  start=$(date +%s.%N)
  set +e
  "$build/${t}_fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$findings/" "${dict[@]}" "${seeds[@]}" \
    >"$work/log" 2>&1
  rc=$?
  set -e
  wall=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.0f", e - s }')
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
  added=$(sed -n 's/^stat::new_units_added: *//p' "$work/log" | tail -n 1)
  cov0=$(sed -n 's/.*INITED cov: \([0-9]*\).*/\1/p' "$work/log" | head -n 1)
  cov1=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' "$work/log" | tail -n 1)
  # libFuzzer names each reproducer it writes: "Test unit written to PATH".
  mapfile -t units < <(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$work/log")
  if [ "$rc" -eq 0 ] && [ "${#units[@]}" -eq 0 ]; then
    result=none
  else
    failed=1
    result="rc $rc: ${units[*]:-no reproducer written, see $work/log}"
  fi
  printf '%-18s %12s %8s %15s %10s  %s\n' "$t" "${execs:-?}" "$wall" "${cov0:-?}>${cov1:-?}" \
    "${added:-?}" "$result"
  if [ "$rc" -ne 0 ]; then
    grep -m 1 -E 'ERROR: |runtime error|uncaught exception|fuzz invariant failed' "$work/log" >&2 || true
    echo "  log: $work/log" >&2
  fi
done
exit "$failed"
