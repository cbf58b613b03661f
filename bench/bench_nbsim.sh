#!/usr/bin/env bash
# Times nbsim against nanoBragg.c on the same machine and cores.
#
#   NANOBRAGG=/path/to/nanoBragg bench/bench_nbsim.sh [path/to/nbsim] [repeats]
#
# NANOBRAGG is a nanoBragg.c binary you built yourself (the reference used
# gcc -O2 -fopenmp); this project neither ships nor builds it. Without it
# only nbsim is timed. Each case runs from a scratch copy of its golden
# inputs (../shared/golden, or $NB_SHARED_DIR/golden) with the case's
# image_command on the full detector (the supervisor case's -roi is
# dropped), both programs on the same number of threads (all cores, or
# $THREADS: OMP_NUM_THREADS for nanoBragg.c, -nthreads for nbsim). Runs
# alternate between the two programs so that load from elsewhere hits both
# alike. Prints per program and case the median, min and max wall seconds,
# and whether the two float images are bit-identical.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
nbsim=$(realpath "${1:-$here/build/bin/nbsim}")
repeats=${2:-3}
shared=${NB_SHARED_DIR:-$here/../shared}
threads=${THREADS:-$(nproc)}
cases=${CASES:-"simple_cubic_1024 supervisor_scaling"}

[ -x "$nbsim" ] || { echo "bench: nbsim not found at $nbsim (build first)" >&2; exit 1; }
[ -d "$shared/golden" ] || { echo "bench: $shared/golden not found" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Arguments of a case's image_command minus the program name and any -roi.
case_args() {
  python3 - "$shared/golden/$1/case.json" <<'PY'
import json, shlex, sys
cmd = json.load(open(sys.argv[1]))["image_command"][1:]
out, i = [], 0
while i < len(cmd):
    if cmd[i] == "-roi":
        i += 5
        continue
    out.append(cmd[i]); i += 1
print(shlex.join(out))
PY
}

# Wall seconds of one run of "$@" (output to run.log); exits on failure.
time_one() {
  local t0 t1
  t0=$(date +%s.%N)
  if ! "$@" > run.log 2>&1; then
    echo "bench: command failed: $*" >&2
    tail -3 run.log >&2
    exit 1
  fi
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}

summary() {  # median min max of the arguments
  printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {printf "%.3f %.3f %.3f", a[int((NR+1)/2)], a[1], a[NR]}'
}

echo "# machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; threads: $threads; repeats: $repeats"
echo "# program case median_s min_s max_s"
for c in $cases; do
  dir="$work/$c"
  mkdir -p "$dir"
  find "$shared/golden/$c" -maxdepth 1 \( -name '*.mat' -o -name '*.hkl' -o -name '*.txt' \) -exec cp {} "$dir/" \;
  eval "args=($(case_args "$c"))"
  cd "$dir"
  sim_times=()
  ref_times=()
  for _ in $(seq "$repeats"); do
    sim_times+=("$(time_one "$nbsim" -mode c-parity -nthreads "$threads" -quiet "${args[@]/image.bin/nbsim.bin}")")
    if [ -n "${NANOBRAGG:-}" ]; then
      ref_times+=("$(OMP_NUM_THREADS=$threads time_one "$NANOBRAGG" "${args[@]/image.bin/c.bin}")")
    fi
  done
  echo "nbsim $c $(summary "${sim_times[@]}")"
  if [ -n "${NANOBRAGG:-}" ]; then
    echo "nanoBragg.c $c $(summary "${ref_times[@]}")"
    if cmp -s nbsim.bin c.bin; then echo "# $c: images bit-identical"; else echo "# $c: images differ"; fi
  fi
  cd "$work"
done
