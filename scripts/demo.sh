#!/usr/bin/env bash
# The main job on the embedded example (demo_scaling): nanoBragg.c's trace of
# one pixel against the PyTorch port's, then nbsim in both modes against both.
# Installs what is missing, builds, compares, and says where the outputs are.
# Usage: scripts/demo.sh [OUTPUT_DIR]   (default: demo-out/)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/bootstrap.sh"
"$root/scripts/build.sh" compare_scaling_traces nbtrace nbbundle nbsim nbparity

cd "$root"
out="${1:-demo-out}"
bin="build/bin"
ex="examples/demo_scaling"
c_trace="$ex/c_trace_s27_f488.log"
py_trace="$ex/py_trace_s27_f488.log"
mkdir -p "$out"

bundle="$out/scaling/$(date -u +%Y%m%dT%H%M%SZ)"
echo "== 1. compare_scaling_traces: the nine scaling factors (C vs PyTorch, pixel 27,488),"
echo "      kept as a sealed evidence bundle"
"$bin/compare_scaling_traces" --c "$c_trace" --py "$py_trace" --bundle "$bundle" --seal
"$bin/nbbundle" verify "$bundle" | tail -n 1
"$bin/nbbundle" audit "$bundle"

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
echo "== 3. nbtrace attribute: where the I_before_scaling gap comes from"
"$bin/nbtrace" attribute "$c_trace" "$py_trace" --ref-label C --test-label PyTorch \
  --md "$out/attribution/attribution.md" --json "$out/attribution/attribution.json"

echo
echo "== 4. nbparity demo: nbsim (reference simulator) in c-parity and spec mode against nanoBragg.c"
echo "      and the PyTorch port: images, traces, attribution, one sealed bundle"
"$bin/nbparity" demo --out "$out"

echo
echo "== outputs"
echo "  $bundle/ (summary.md, metrics.json, run_metadata.json, the traces, commands.txt, env.json, sha256.txt)"
echo "  $out/attribution/attribution.md (+ .svg chart, .json)"
echo "  $out/diff/diff.md (readable report), $out/diff/diff.json (per component)"
echo "  $out/parity/<id>/summary.md: the nbparity demo report (images, traces, attribution)"
echo "  full table: $bin/nbtrace diff $c_trace $py_trace"
