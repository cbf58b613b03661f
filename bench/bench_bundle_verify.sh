#!/usr/bin/env bash
# Makes a 1 GiB bundle of 1,000 random files in a temporary folder, seals it
# with nbbundle, times verify against coreutils sha256sum -c, then deletes it.
# Usage: bench/bench_bundle_verify.sh [BUILD_DIR] [REPS]   (default: build, 5)
set -euo pipefail
build=${1:-build}
reps=${2:-5}
bin=$build/bin
for exe in nbbundle bench_bundle_verify; do
  [ -x "$bin/$exe" ] || { echo "missing $bin/$exe: build the project first" >&2; exit 1; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/bundle-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
bundle=$work/20251008T212459Z
mkdir -p "$bundle/data"
# 1 GiB of random bytes split into 1,000 files (1,073,742 bytes each, the last a little shorter).
head -c $((1024 * 1024 * 1024)) /dev/urandom | split -b 1073742 -d -a 3 - "$bundle/data/f"
"$bin/nbbundle" init "$bundle" >/dev/null
"$bin/nbbundle" seal "$bundle" >/dev/null
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(sha256sum --version | head -1)"
echo "load average before: $(cut -d" " -f1-3 /proc/loadavg)"
"$bin/bench_bundle_verify" "$bundle" "$reps"
echo "load average after: $(cut -d" " -f1-3 /proc/loadavg)"
