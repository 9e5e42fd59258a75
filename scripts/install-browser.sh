#!/usr/bin/env bash
# Installs Debian's chromium for the report's browser test
# (tests/e2e/report_browser_test.cc renders the HTML report headless). Kept
# apart from the default package list: it is ~120 MB to download (~360 MB
# installed, about 30 s on the project's machine) for that one test. Without
# it the test fails, unless TANDEM_ALLOW_NO_BROWSER=1 makes it skip.
# Idempotent: install-deps.sh skips packages already present.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exec "$root/scripts/install-deps.sh" \
  chromium          `# headless rendering: --screenshot and --dump-dom` \
  fonts-liberation  `# metric-compatible sans-serif fonts for the page's text`
