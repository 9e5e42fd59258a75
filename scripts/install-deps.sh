#!/usr/bin/env bash
# Installs Tandem's build and test dependencies from Debian's packages.
# Idempotent: packages already present are not fetched again.
#   scripts/install-deps.sh [extra-package...]   (e.g. scripts/fuzz.sh adds clang's)
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  libopenblas-dev          # CBLAS for every matrix product
  libgtest-dev             # unit and end-to-end tests
  libbenchmark-dev         # micro-benchmarks under bench/
  libcli11-dev             # command-line parsing
  nlohmann-json3-dev       # JSON output and model metadata
  libxxhash-dev            # model-file checksums
  libcpp-httplib-dev       # HTTP(S) client of tandem data download; test clients
  libboost-dev             # Boost.Asio/Beast: the connection layer of tandem serve
  wrk                      # scripts/loadtest.sh and the server's load tests
  libhnswlib-dev           # approximate (HNSW) top-K index
  libtomlplusplus-dev      # experiment config files (TOML)
  libssl-dev               # SHA-256/MD5 of downloaded archives (and HTTPS)
  libzip-dev               # extracting downloaded MovieLens archives
  ca-certificates          # verifying files.grouplens.org over HTTPS
  libpng-dev               # decodes the report's screenshots in its browser test
  libopenmpi-dev openmpi-bin  # training on several ranks (mpirun -np N tandem train)
  pybind11-dev python3-dev python3-numpy  # the Python module (import tandem)
  python3-pytest python3-pandas python3-tqdm  # its tests, frames and progress bars
  python3-faiss            # a real client of the exported embeddings (python/tests)
  "$@"
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
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# On a shared machine another apt run may hold the lock for a while: wait.
APT=($SUDO apt-get -o DPkg::Lock::Timeout=600)
"${APT[@]}" update -qq
"${APT[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
