#!/usr/bin/env bash
# Installs Debian's chromium for the report's browser test
# (tests/e2e/report_browser_test.cc renders the HTML report headless). Kept
# apart from install-deps.sh: it is ~120 MB to download (~360 MB installed,
# about 30 s on the project's machine) for that one test. Without it the test
# fails, unless TANDEM_ALLOW_NO_BROWSER=1 makes it skip.
# Idempotent: packages already present are not fetched again.
set -euo pipefail

PACKAGES=(
  chromium          # headless rendering: --screenshot and --dump-dom
  fonts-liberation  # metric-compatible sans-serif fonts for the page's text
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-browser: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# On a shared machine another apt run may hold the lock for a while: wait.
APT=($SUDO apt-get -o DPkg::Lock::Timeout=600)
"${APT[@]}" update -qq
"${APT[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
