#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite (unit, gradient, end-to-end on
# MovieLens-100K from ../shared/data/ml-100k or $TANDEM_DATA), then the suite
# again under sanitizers and every fuzz target for a bounded time.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/build.sh"
# The HTML report's end-to-end test renders it in a real browser.
"$root/scripts/install-browser.sh"
(cd "${TANDEM_BUILD_DIR:-$root/build}" && ctest --output-on-failure -j 2 "$@")
# Then the same suite under ASan + UBSan + LeakSanitizer, and a bounded run of
# every fuzz target (TANDEM_SKIP_SANITIZERS=1 skips both, for quick local runs).
if [ "${TANDEM_SKIP_SANITIZERS:-0}" != 1 ]; then
  "$root/scripts/test-sanitizers.sh" --fuzz-seconds "${TANDEM_FUZZ_SECONDS:-5}"
fi
