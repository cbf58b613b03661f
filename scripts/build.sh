#!/usr/bin/env bash
# Configures (once) and builds nbparity into build/ (binaries in build/bin).
# Extra arguments are passed to ninja (e.g. target names).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${NB_BUILD_DIR:-$root/build}"
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="${NB_BUILD_TYPE:-Release}" >/dev/null
fi
jobs="${NB_JOBS:-$(nproc)}"
# Progress lines are dropped; warnings and errors still show.
ninja -C "$build" -j "$jobs" "$@" | { grep -v -E '^(\[[0-9]+/[0-9]+\]|ninja: (Entering|no work))' || true; }
