#!/usr/bin/env bash
# Installs what is missing, builds everything and runs every test (CTest).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/bootstrap.sh"
"$root/scripts/build.sh"
cd "${NB_BUILD_DIR:-$root/build}"
ctest --output-on-failure -j "${NB_JOBS:-$(nproc)}" "$@"
