#!/usr/bin/env bash
# Remakes the reference images of this folder with a nanoBragg.c binary you
# built (README.md says how): OMP_NUM_THREADS = 2, 3, 4; each run twice,
# refused unless both runs agree byte for byte.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 PATH/TO/nanoBragg" >&2; exit 1; }
nb="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
here="$(cd "$(dirname "$0")" && pwd)"
shared="$here/../../../../shared"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$shared/golden/supervisor_scaling/A.mat" "$shared/golden/supervisor_scaling/scaled.hkl" "$work/"
cp "$here/../../../examples/demo_scaling/demo.mat" "$here/../../../examples/demo_scaling/demo.hkl" "$work/"
cd "$work"
for t in 2 3 4; do
  for c in phi_osc_256 supervisor_scaling_roi interpolating_roi; do
    # shellcheck disable=SC2046
    OMP_NUM_THREADS=$t "$nb" $(cat "$here/$c/args.txt") -floatfile "$c.$t.a.bin" > /dev/null
    OMP_NUM_THREADS=$t "$nb" $(cat "$here/$c/args.txt") -floatfile "$c.$t.b.bin" > /dev/null
    cmp -s "$c.$t.a.bin" "$c.$t.b.bin" || { echo "$c, $t threads: two runs differ; not reproducible" >&2; exit 1; }
  done
  cp "phi_osc_256.$t.a.bin" "$here/phi_osc_256/c_T$t.bin"
  cp "interpolating_roi.$t.a.bin" "$here/interpolating_roi/c_T$t.bin"
  python3 - "supervisor_scaling_roi.$t.a.bin" "$here/supervisor_scaling_roi/c_T$t.roi.bin" <<'PY'
import struct, sys
fast, slow, (xmin, xmax, ymin, ymax) = 2463, 2527, (1000, 1040, 830, 1290)
v = struct.unpack("%df" % (fast * slow), open(sys.argv[1], "rb").read())
crop = [v[s * fast + f] for s in range(ymin, ymax + 1) for f in range(xmin, xmax + 1)]
open(sys.argv[2], "wb").write(struct.pack("%df" % len(crop), *crop))
PY
done
echo "regenerated $here"
