#!/usr/bin/env bash
# The main job on the embedded example: nanoBragg.c's trace of one pixel of
# the demo_scaling case against the PyTorch port's trace of the same pixel.
# Installs what is missing, builds, compares, and says where the outputs are.
# Usage: scripts/demo.sh [OUTPUT_DIR]   (default: demo-out/)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/bootstrap.sh"
"$root/scripts/build.sh" compare_scaling_traces nbtrace

cd "$root"
out="${1:-demo-out}"
bin="build/bin"
ex="examples/demo_scaling"
c_trace="$ex/c_trace_s27_f488.log"
py_trace="$ex/py_trace_s27_f488.log"
mkdir -p "$out"

echo "== 1. compare_scaling_traces: the nine scaling factors (C vs PyTorch, pixel 27,488)"
"$bin/compare_scaling_traces" --c "$c_trace" --py "$py_trace" --out "$out/scaling/summary.md"

echo
echo "== 2. nbtrace diff: every common field, in the C code's computation order"
set +e
"$bin/nbtrace" diff "$c_trace" "$py_trace" --quiet \
  --json "$out/diff/diff.json" --md "$out/diff/diff.md"
rc=$?
set -e
# 3 means "divergence found", which is what this example shows.
if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then exit "$rc"; fi

echo
echo "== outputs"
echo "  $out/scaling/summary.md, metrics.json, run_metadata.json"
echo "  $out/diff/diff.md (readable report), $out/diff/diff.json (per component)"
echo "  full table: $bin/nbtrace diff $c_trace $py_trace"
