#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite (unit, gradient, end-to-end on
# MovieLens-100K from ../shared/data/ml-100k or $TANDEM_DATA).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/build.sh"
# The HTML report's end-to-end test renders it in a real browser.
"$root/scripts/install-browser.sh"
cd "${TANDEM_BUILD_DIR:-$root/build}"
ctest --output-on-failure -j 2 "$@"
