#!/usr/bin/env bash
# Times nbsim against nanoBragg.c on the same machine and cores (issue 16).
#
#   bench/bench_nbsim.sh [-n NANOBRAGG] [-x NANOBRAGG_NATIVE] [-s NBSIM] [-r REPEATS]
#
# NANOBRAGG: a nanoBragg.c binary built the golden way
# (gcc -O2 -fno-fast-math -ffp-contract=off -fopenmp); NANOBRAGG_NATIVE: one
# built gcc -O3 -march=native -fopenmp. Both are yours: this project neither
# ships nor builds nanoBragg.c (the environment variables of the same names
# work too; without either only nbsim is timed). NBSIM defaults to
# build/bin/nbsim, REPEATS to 3.
#
# Programs: the two nanoBragg.c builds, nbsim -mode spec and -mode c-parity,
# each -dtype float64 and float32, and c-parity float64 with -scalar_sin
# (every sine from the C library, as before the checked vector sines). Threads: 1 and all cores ($THREADS
# overrides "all"; OMP_NUM_THREADS for nanoBragg.c, -nthreads for nbsim).
# Cases ($CASES): simple_cubic_1024 and supervisor_scaling on the full
# 2463x2527 detector (its golden -roi dropped), each from a scratch copy of
# its golden inputs (../shared/golden or $NB_SHARED_DIR/golden).
#
# Paired runs: each repeat runs every program once, in an order rotated from
# repeat to repeat, so load from elsewhere hits all of them alike. Per case,
# thread count and program it prints the median, min and max wall seconds,
# the speed-up over the golden nanoBragg.c build as the ratio of the medians
# and as the median of the per-repeat ratios, the largest peak resident set
# (/usr/bin/time -v), and for nbsim c-parity float64 (both) whether its image is
# bit-identical to nanoBragg.c's single-thread image (nanoBragg.c's image at
# T threads differs where each thread's phi carry-over starts; nbsim
# -c_threads T reproduces that one, docs/c-parity.md).
# The load averages (uptime) are printed before and after each case.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
nanobragg=${NANOBRAGG:-}
native=${NANOBRAGG_NATIVE:-}
nbsim=$here/build/bin/nbsim
repeats=3
while getopts "n:x:s:r:h" opt; do
  case $opt in
    n) nanobragg=$OPTARG ;;
    x) native=$OPTARG ;;
    s) nbsim=$OPTARG ;;
    r) repeats=$OPTARG ;;
    *) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done
shared=${NB_SHARED_DIR:-$here/../shared}
all=${THREADS:-$(nproc)}
cases=${CASES:-"simple_cubic_1024 supervisor_scaling"}

nbsim=$(realpath "$nbsim")
[ -x "$nbsim" ] || { echo "bench: nbsim not found at $nbsim (build first)" >&2; exit 1; }
[ -d "$shared/golden" ] || { echo "bench: $shared/golden not found" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time not found (apt-get install time)" >&2; exit 1; }
for b in "$nanobragg" "$native"; do
  [ -z "$b" ] || [ -x "$b" ] || { echo "bench: nanoBragg.c binary $b is not executable" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Arguments of a case's image_command minus the program name, any -roi and
# the float image's name (each program names its own).
case_args() {
  python3 - "$shared/golden/$1/case.json" <<'PY'
import json, shlex, sys
cmd = json.load(open(sys.argv[1]))["image_command"][1:]
out, i = [], 0
while i < len(cmd):
    if cmd[i] == "-roi":
        i += 5
        continue
    if cmd[i] == "-floatfile":
        i += 2
        continue
    out.append(cmd[i]); i += 1
print(shlex.join(out))
PY
}

# Runs "$@" under /usr/bin/time (for the peak RSS; its %e has 10 ms steps,
# so the wall time is taken here, in microseconds); prints "wall_s peak_kB".
# Exits on failure.
time_one() {
  local t0=$EPOCHREALTIME t1
  if ! /usr/bin/time -f "%M" -o time.txt "$@" > run.log 2>&1; then
    echo "bench: command failed: $*" >&2
    tail -3 run.log >&2
    exit 1
  fi
  t1=$EPOCHREALTIME
  echo "$(python3 -c "print(f'{$t1 - $t0:.4f}')") $(tail -1 time.txt)"
}

# The programs: "label|kind|extra" (kind c: nanoBragg.c binary; nbsim: flags).
programs=()
[ -n "$nanobragg" ] && programs+=("nanoBragg.c golden|c|$nanobragg")
[ -n "$native" ] && programs+=("nanoBragg.c -O3 -march=native|c|$native")
programs+=("nbsim spec float64|nbsim|-mode spec -dtype float64"
           "nbsim spec float32|nbsim|-mode spec -dtype float32"
           "nbsim c-parity float64|nbsim|-mode c-parity -dtype float64"
           "nbsim c-parity float64 -scalar_sin|nbsim|-mode c-parity -dtype float64 -scalar_sin"
           "nbsim c-parity float32|nbsim|-mode c-parity -dtype float32")
np=${#programs[@]}

run_program() {  # index threads output -> "wall peak"
  local label kind extra
  IFS='|' read -r label kind extra <<< "${programs[$1]}"
  if [ "$kind" = c ]; then
    OMP_NUM_THREADS=$2 time_one "$extra" "${args[@]}" -floatfile "$3"
  else
    # shellcheck disable=SC2086
    time_one "$nbsim" $extra -nthreads "$2" -quiet "${args[@]}" -floatfile "$3"
  fi
}

echo "# machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; repeats: $repeats"
echo "# nbsim: $("$nbsim" --version 2>/dev/null | head -1)"
echo "| case | threads | program | median s | min–max s | speed-up (ratio of medians) | median of paired ratios | peak RSS MB | image |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for c in $cases; do
  dir="$work/$c"
  mkdir -p "$dir"
  find "$shared/golden/$c" -maxdepth 1 \( -name '*.mat' -o -name '*.hkl' -o -name '*.txt' \) -exec cp {} "$dir/" \;
  eval "args=($(case_args "$c"))"
  cd "$dir"
  echo "# $c: load before: $(uptime | sed 's/.*load average: //')" >&2
  # nanoBragg.c's single-thread image: the reference for bit-identity.
  reference=""
  if [ -n "$nanobragg" ]; then
    OMP_NUM_THREADS=1 time_one "$nanobragg" "${args[@]}" -floatfile c_reference.bin > /dev/null
    reference=c_reference.bin
  fi
  for threads in 1 "$all"; do
    declare -A wall=() peak=()
    for r in $(seq 0 $((repeats - 1))); do
      for k in $(seq 0 $((np - 1))); do
        i=$(( (k + r) % np ))
        read -r w m <<< "$(run_program "$i" "$threads" "out_$i.bin")"
        wall[$i]="${wall[$i]:-} $w"
        peak[$i]="${peak[$i]:-} $m"
      done
    done
    for i in $(seq 0 $((np - 1))); do
      IFS='|' read -r label kind _ <<< "${programs[$i]}"
      image=""
      if [[ "$label" == "nbsim c-parity float64"* ]] && [ -n "$reference" ]; then
        if cmp -s "out_$i.bin" "$reference"; then image="bit-identical to nanoBragg.c"; else image="DIFFERS from nanoBragg.c"; fi
      fi
      base=""
      [ -n "$nanobragg" ] && base=${wall[0]}
      python3 - "$c" "$threads" "$label" "${wall[$i]}" "$base" "${peak[$i]}" "$image" <<'PY'
import statistics as st, sys
case, threads, label, walls, base, peaks, image = sys.argv[1:]
w = [float(x) for x in walls.split()]
b = [float(x) for x in base.split()] if base.strip() else []
m = st.median(w)
ratio = f"{st.median(b) / m:.2f}x" if b else ""
paired = f"{st.median([x / y for x, y in zip(b, w)]):.2f}x" if b else ""
mb = max(int(x) for x in peaks.split()) / 1024
print(f"| {case} | {threads} | {label} | {m:.3f} | {min(w):.3f}–{max(w):.3f} | {ratio} | {paired} | {mb:.1f} | {image} |")
PY
    done
    unset wall peak
  done
  echo "# $c: load after: $(uptime | sed 's/.*load average: //')" >&2
  cd "$work"
done
