#!/usr/bin/env bash
# Installs the Debian packages nbparity needs, only those missing.
# Idempotent and silent when everything is already there.
set -euo pipefail

packages=(
  cmake ninja-build g++ git
  nlohmann-json3-dev libfmt-dev libcli11-dev libboost-program-options-dev libssl-dev doctest-dev libfast-float-dev libpng-dev libyaml-cpp-dev
  # CBF images in nb-compare and parity runs (CBFlib; optional at configure time).
  libcbf-dev
  # nbparity batch/matrix over MPI ranks; Open MPI's mpirun wants an ssh client even on one node.
  libopenmpi-dev openmpi-bin openssh-client
  # Install rules: man pages from --help, pkg-config files checked by the install test.
  help2man pkg-config
  # The Python module nbparity (pybind11) and its tests, with Debian's interpreter.
  pybind11-dev python3-dev python3-pytest python3-numpy
  # report.browser: headless Chromium renders a bundle's report.html (tests/report/browser_check.py).
  chromium
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "bootstrap: missing packages (${missing[*]}) and not root; install them and rerun" >&2
    exit 1
  fi
fi
echo "bootstrap: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
