#!/usr/bin/env bash
# Times `nbparity batch` over MPI ranks and over local workers, and the
# per-job cost of the batch machinery itself. Everything it writes goes to a
# temporary folder that is deleted at the end (KEEP=1 keeps it).
#
#   bench/bench_batch.sh
#
# Settings (environment; the defaults take about 3–4 minutes on 2 cores, most of
# it in the rewrite and large-image tests):
#   BUILD=build             folder holding bin/nbparity, bin/nbsim and bin/nbbundle
#   NJOBS=64                jobs in the scaling batch
#   DETPIXELS="96 160"      -detpixels range of the scaling jobs (spread over the jobs)
#   RANKS="1 2 4"           mpirun -n R for the scaling batch ("" skips MPI)
#   LOCAL="1 2 4"           --jobs N without MPI for the scaling batch ("" skips)
#   NTRIVIAL=200            jobs in the overhead batch (-detpixels 4 images; 0 skips)
#   TRIVIAL_RANKS="1 2"     mpirun -n R for the overhead batch
#   TRIVIAL_LOCAL="1"       --jobs N for the overhead batch
#   REWRITE_SIZES="2000"    jobs in the batch.json-rewrite test, run to the end
#                           ("" skips): each job runs a stand-in simulator (a
#                           /bin/sh script that prints nbsim's statistics
#                           lines and writes its -stats_json summary, where
#                           batch.json's metrics come from) on 1 local worker. batch.json is rewritten
#                           after a job starts or finishes unless the time since
#                           the last rewrite ended is under 20 x that rewrite's
#                           duration, so the json_w column (rewrites counted
#                           with inotify) falls as the file grows
#   REWRITE_STOPPED="20000 100000"  the same with large jobs files, killed
#                           (SIGKILL, like a crash) after REWRITE_STOP_S seconds:
#                           jobs sealed, jobs/s, rewrites, their spacing and
#                           duration, and how stale batch.json was at the kill
#   REWRITE_STOP_S=30
#   NLARGE=64               jobs in the large-image test (0 skips): -detpixels
#   LARGE_PIX=1024          LARGE_PIX (4 bytes a pixel: 4 MB at 1024), --jobs
#   LARGE_LOCAL=2           LARGE_LOCAL; then nbbundle verify DIR, and --resume
#                           of the complete DIR on all CPUs and under taskset -c 0
#                           (one verifying thread)
#   SIM_EXTRA=""            more nbsim arguments for the scaling jobs (e.g. "-oversample 2"
#                           for jobs where the simulation, not process start, dominates)
#   THREADS_PER_JOB=1       --threads-per-job
#   REPEATS=1               runs per configuration; the row shows the run of median wall
#                           time and lists all wall times
#   MPIRUN="mpirun --oversubscribe --allow-run-as-root --bind-to none"
#                           Open MPI binds each rank (and the simulators it
#                           starts) to one core when ranks <= cores; on a
#                           machine shared with other work a bound rank cannot
#                           leave a busy core, and local workers are not bound
#                           either, hence --bind-to none (drop it to compare)
#   KEEP=0                  1: keep the temporary folder and say where it is
#
# Per configuration it prints: workers, wall seconds, jobs/s, speed-up against
# the first row of its table (mpirun -n 1 by default), the sum of the jobs'
# runtime_s from batch.json, overhead = wall x workers - sum (launch, setup,
# scheduling gaps, batch.json rewrites, the final seal, load imbalance at the
# end), and rank 0's own CPU time: its main thread (with MPI and more than one
# rank, that is the thread that hands out jobs and rewrites batch.json) and the
# whole nbparity process (all threads, simulators excluded), sampled from
# /proc. mpirun's own start-up is timed separately (mpirun -n R /bin/true).
# An inotify watch on DIR (python3, ctypes) counts the batch.json rewrites and
# times the run's own final seal (complete batch.json renamed into place ->
# DIR/sha256.txt renamed into place); `nbbundle seal DIR` afterwards times a
# seal that hashes every file again.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${BUILD:-$here/build}" 2>/dev/null && pwd) || { echo "bench: no build folder ${BUILD:-$here/build}" >&2; exit 1; }
nbparity=$build/bin/nbparity
nbsim=$build/bin/nbsim
nbbundle=$build/bin/nbbundle
njobs=${NJOBS:-64}
read -r pix_lo pix_hi <<< "${DETPIXELS:-96 160}"
ranks=${RANKS-1 2 4}
local_jobs=${LOCAL-1 2 4}
ntrivial=${NTRIVIAL:-200}
trivial_ranks=${TRIVIAL_RANKS-1 2}
trivial_local=${TRIVIAL_LOCAL-1}
rewrite_sizes=${REWRITE_SIZES-2000}
rewrite_stopped=${REWRITE_STOPPED-20000 100000}
rewrite_stop_s=${REWRITE_STOP_S:-30}
nlarge=${NLARGE:-64}
large_pix=${LARGE_PIX:-1024}
large_local=${LARGE_LOCAL:-2}
tpj=${THREADS_PER_JOB:-1}
repeats=${REPEATS:-1}
read -r -a sim_extra <<< "${SIM_EXTRA:-}"
read -r -a mpirun <<< "${MPIRUN:-mpirun --oversubscribe --allow-run-as-root --bind-to none}"
cores=$(nproc)

for exe in "$nbparity" "$nbsim" "$nbbundle"; do
  [ -x "$exe" ] || { echo "bench: $exe not found (build nbparity, nbsim and nbbundle first)" >&2; exit 1; }
done
if [ -n "$ranks$trivial_ranks" ] && ! command -v "${mpirun[0]}" > /dev/null; then
  echo "bench: ${mpirun[0]} not found; set RANKS= TRIVIAL_RANKS= to time local workers only" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/nbparity-batch-bench.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then
  trap 'echo "bench: kept $work" >&2' EXIT
else
  trap 'rm -rf "$work"' EXIT
fi
cd "$work"  # not a git tree: no git commands per rank, and nothing lands in the repository

# Rank 0 (or the only process) runs under this sampler: it keeps the last
# /proc reading of nbparity's main thread and of the whole process; the last
# one is taken from the exited (not yet reaped) process, so it is final. It
# looks every 0.1 s, so wall_s and tail_s include up to 0.1 s after the exit.
cat > sample_rank0.sh <<'SH'
#!/usr/bin/env bash
out=$1; shift
"$@" &
pid=$!
if [ "${OMPI_COMM_WORLD_RANK:-${PMIX_RANK:-0}}" = 0 ]; then
  main="" proc=""
  while :; do
    read -r p < "/proc/$pid/stat" || break
    read -r m < "/proc/$pid/task/$pid/stat" 2>/dev/null && main=$m
    proc=$p
    set -- $p
    [ "$3" = Z ] && break
    sleep 0.1
  done
  set -- $main; main_ticks=$(( ${14:-0} + ${15:-0} ))
  set -- $proc; proc_ticks=$(( ${14:-0} + ${15:-0} ))
  echo "$main_ticks $proc_ticks $(getconf CLK_TCK)" > "$out"
fi
wait "$pid"
SH
chmod +x sample_rank0.sh

# Watches DIR (not below it) until SIGTERM: when batch.json temporaries are
# created and batch.json / sha256.txt are renamed into place, one line each:
# "wall-clock-time C|M name".
cat > watch_dir.py <<'PY'
import ctypes, os, select, signal, struct, sys, time
d, out, ready = sys.argv[1:4]
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
IN_MOVED_TO, IN_CREATE = 0x80, 0x100
if fd < 0 or libc.inotify_add_watch(fd, d.encode(), IN_CREATE | IN_MOVED_TO) < 0:
    sys.exit("watch_dir: inotify failed")
stop = []
signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
open(ready, "w").close()
lines = []
while True:
    r, _, _ = select.select([fd], [], [], 0.05)
    if not r:
        if stop: break
        continue
    t = time.time()
    buf = os.read(fd, 1 << 16)
    off = 0
    while off < len(buf):
        _, mask, _, n = struct.unpack_from("iIII", buf, off)
        name = buf[off + 16:off + 16 + n].split(b"\0")[0].decode()
        off += 16 + n
        if name.startswith("batch.json") or name == "sha256.txt":
            lines.append("%.6f %s %s\n" % (t, "M" if mask & IN_MOVED_TO else "C", name))
open(out, "w").writelines(lines)
PY

# Summary of a watch_dir.py log: rewrites of batch.json, mean and largest gap
# between them (s), mean and largest create-to-rename time of one (ms), the
# final seal (last batch.json rename -> sha256.txt rename, s; - if none), the
# time of the last batch.json rename.
watch_summary() {  # LOG
  python3 - "$1" <<'PY'
import sys
ev = [l.split() for l in open(sys.argv[1])]
moved = [float(t) for t, k, n in ev if k == "M" and n == "batch.json"]
seal = [float(t) for t, k, n in ev if k == "M" and n == "sha256.txt"]
dur, start = [], None
for t, k, n in ev:
    if k == "C" and n.startswith("batch.json.tmp"): start = float(t)
    elif k == "M" and n == "batch.json" and start is not None: dur.append(float(t) - start); start = None
gaps = [b - a for a, b in zip(moved, moved[1:])] or [0.0]
print(len(moved), "%.3f %.3f" % (sum(gaps) / len(gaps), max(gaps)),
      "%.1f %.1f" % (1000 * sum(dur) / max(1, len(dur)), 1000 * max(dur or [0.0])),
      ("%.3f" % (seal[-1] - moved[-1])) if seal and moved and seal[-1] > moved[-1] else "-",
      "%.6f" % (moved[-1] if moved else 0.0))
PY
}

# Seconds from the last job bundle's seal (newest DIR/*/sha256.txt) to EXIT_TIME:
# the final batch.json, the final seal of DIR, and the exit (under MPI also
# the other ranks' and mpirun's).
last_sealed() {  # DIR EXIT_TIME
  python3 - "$1" "$2" <<'PY'
import os, sys
d = sys.argv[1]
t = max(os.stat(os.path.join(d, e, "sha256.txt")).st_mtime for e in os.listdir(d)
        if os.path.isfile(os.path.join(d, e, "sha256.txt")))
print("%.3f" % (float(sys.argv[2]) - t))
PY
}

# start_watch DIR LOG: sets watch_pid once the watch is in place; stop_watch ends it.
watch_pid=""
start_watch() {
  local ready=$2.ready i
  rm -f "$ready"
  python3 "$work/watch_dir.py" "$1" "$2" "$ready" < /dev/null > /dev/null 2> "$2.err" &
  watch_pid=$!
  for ((i = 0; i < 250; i++)); do [ -e "$ready" ] && break; sleep 0.02; done
  [ -e "$ready" ] || { echo "bench: inotify watcher did not start: $(cat "$2.err")" >&2; exit 1; }
}
stop_watch() { kill -TERM "$watch_pid" 2> /dev/null || true; wait "$watch_pid" 2> /dev/null || true; }

# A stand-in simulator for the rewrite test: prints nbsim's statistics lines
# and writes its run summary where -stats_json says (batch reads the metrics there).
cat > fake_sim.sh <<'SH'
#!/bin/sh
stats=''
while [ $# -gt 0 ]; do [ "$1" = -stats_json ] && stats=$2; shift; done
echo "max_I = 154.652  at 0.00025 0.00025"
echo "mean= 142.673 rms= 147.72 rmsd= 10.4212"
[ -z "$stats" ] || cat > "$stats" <<JSON
{"tool": "nbsim", "version": "stand-in", "mode": "spec", "device": "cpu", "dtype": "float64", "fpixels": 4,
 "spixels": 4, "statistics": {"max_I": 154.652, "max_I_x_m": 0.00025, "max_I_y_m": 0.00025, "mean": 142.673,
 "rms": 147.72, "rmsd": 10.4212, "pixels": 16}, "solid_angle_sr": 0, "interpolation_stop": null}
JSON
SH
chmod +x fake_sim.sh

sim_args='"-cell", "100", "100", "100", "90", "90", "90", "-default_F", "100", "-N", "5", "-lambda", "6.2", "-distance", "100", "-pixel", "0.1"'
make_jobs() {  # FILE N PIX_LO PIX_HI [EXTRA ARGS]: N jobs, -detpixels spread over [LO, HI], each its own misset
  local file=$1 n=$2 lo=$3 hi=$4 i pix extra="" a
  shift 4
  for a in "$@"; do extra+=", \"$a\""; done
  for ((i = 0; i < n; i++)); do
    pix=$(( n > 1 ? lo + (hi - lo) * i / (n - 1) : lo ))
    printf '{"id": "j%04d", "args": [%s, "-detpixels", "%d", "-misset", "%d", "%d", "%d"%s]}\n' \
      "$i" "$sim_args" "$pix" $((i % 17)) $((i * 7 % 23)) $((i * 11 % 29)) "$extra"
  done > "$file"
}

now() { date +%s.%N; }

# Seconds mpirun takes to start and end R ranks of a trivial program.
declare -A launch_s
launch_cost() {
  local r=$1 t0 t1
  [ -n "${launch_s[$r]:-}" ] && return
  t0=$(now)
  "${mpirun[@]}" -n "$r" /bin/true
  t1=$(now)
  launch_s[$r]=$(echo "$t1 - $t0" | bc -l)
}

# Per-job figures of a finished batch: ok count, sum and mean runtime_s, the
# mean simulator time recorded in the job bundles, jobs per rank, batch.json bytes.
analyse() {  # DIR
  python3 - "$1" <<'PY'
import json, os, re, sys
d = sys.argv[1]
b = json.load(open(os.path.join(d, "batch.json")))
jobs = b["jobs"]
ok = sum(j["status"] == "ok" for j in jobs)
rt = [j["runtime_s"] for j in jobs]
sim = []
for j in jobs:
    try:
        m = re.findall(r"duration_s=([0-9.]+)", open(os.path.join(d, j["bundle"], "commands.txt")).read())
        if m: sim.append(float(m[-1]))
    except OSError:
        pass
per_rank = {}
for j in jobs:
    per_rank[j["rank"]] = per_rank.get(j["rank"], 0) + 1
spread = "/".join(str(per_rank[k]) for k in sorted(per_rank, key=lambda r: -1 if r is None else r))
print(ok, len(jobs), sum(rt), sum(rt) / len(rt), (sum(sim) / len(sim)) if sim else 0.0, spread,
      os.path.getsize(os.path.join(d, "batch.json")), b["complete"])
PY
}

baseline="" last_out=""
# run_once LABEL KIND(mpi|local) WORKERS JOBSFILE [extra nbparity args...]: one timed run; prints
# wall ok n sum mean_rt mean_sim spread json_bytes complete main_ticks proc_ticks hz nbseal
# json_writes gap_mean gap_max wdur_ms_mean wdur_ms_max fseal last_json_time tail
run_once() {
  local label=$1 kind=$2 w=$3 jobsfile=$4
  shift 4
  local out=$work/out-$label-$kind$w stat=$work/stat-$label-$kind$w t0 t1 t_exit wall seal rc=0 cmd
  rm -rf "$out"
  mkdir -p "$out"
  if [ "$kind" = mpi ]; then
    cmd=("${mpirun[@]}" -n "$w" ./sample_rank0.sh "$stat" "$nbparity" batch "$jobsfile" --out "$out" "$@")
  else
    cmd=(./sample_rank0.sh "$stat" "$nbparity" batch "$jobsfile" --out "$out" --no-mpi --jobs "$w" "$@")
  fi
  start_watch "$out" "$out.events"
  t0=$(now)
  "${cmd[@]}" > "$out.log" 2>&1 || rc=$?
  t1=$(now)
  t_exit=$t1
  stop_watch
  if [ "$rc" != 0 ]; then
    echo "bench: exit $rc: ${cmd[*]}" >&2
    tail -5 "$out.log" >&2
    return 1
  fi
  wall=$(echo "$t1 - $t0" | bc -l)
  # A seal that hashes every file of DIR again (page cache warm), against the
  # run's own final seal, which reuses the job bundles' digests.
  t0=$(now)
  "$nbbundle" seal "$out" > /dev/null
  t1=$(now)
  seal=$(echo "$t1 - $t0" | bc -l)
  echo "$wall $(analyse "$out") $(cat "$stat") $seal $(watch_summary "$out.events") $(last_sealed "$out" "$t_exit")"
}

# run_case LABEL KIND WORKERS JOBSFILE [args...]: REPEATS runs, the row of the median wall time.
run_case() {
  local label=$1 kind=$2 w=$3 rows=() i
  [ "$kind" = mpi ] && launch_cost "$w"
  for ((i = 0; i < repeats; i++)); do
    rows+=("$(run_once "$@")") || exit 1
  done
  local walls median
  walls=$(printf '%s\n' "${rows[@]}" | awk '{printf "%.2f ", $1}')
  median=$(printf '%s\n' "${rows[@]}" | sort -g | sed -n "$(( (repeats + 1) / 2 ))p")
  local wall ok n sum mean_rt mean_sim spread json_bytes complete main_t proc_t hz seal jw gap gapmax wd wdmax fseal tl tail
  read -r wall ok n sum mean_rt mean_sim spread json_bytes complete main_t proc_t hz seal jw gap gapmax wd wdmax fseal tl tail <<< "$median"
  [ "$ok" = "$n" ] && [ "$complete" = True ] || { echo "bench: $label $kind $w: $ok of $n ok, complete=$complete" >&2; exit 1; }
  last_out=$work/out-$label-$kind$w
  [ -z "$baseline" ] && baseline=$wall
  local over=no launch=-
  [ "$w" -gt "$cores" ] && over=yes
  [ "$kind" = mpi ] && launch=$(printf %.2f "${launch_s[$w]}")
  awk -v label="$label" -v kind="$kind" -v w="$w" -v over="$over" -v n="$n" -v wall="$wall" -v base="$baseline" \
      -v sum="$sum" -v mrt="$mean_rt" -v msim="$mean_sim" -v main="$main_t" -v proc="$proc_t" -v hz="$hz" \
      -v spread="$spread" -v launch="$launch" -v jb="$json_bytes" -v seal="$seal" -v walls="$walls" -v reps="$repeats" \
      -v jw="$jw" -v gap="$gap" -v gapmax="$gapmax" -v wd="$wd" -v wdmax="$wdmax" -v fseal="$fseal" -v tail="$tail" 'BEGIN {
    cfg = (kind == "mpi" ? "mpirun -n " w : "--jobs " w) (over == "yes" ? " (oversub.)" : "")
    printf "%-8s %-22s %5d %7.2f %7.1f %6.2f %8.2f %8.1f %7.1f %7.1f %8.1f %8.1f %6s %7s %6.3f %7.2f %-9s %9d %6d %6.3f %6.3f %7.1f %7.1f%s\n",
      label, cfg, n, wall, n / wall, base / wall, sum, (wall * w - sum) * 1000 / n,
      mrt * 1000, msim * 1000, main / hz * 1000 / n, proc / hz * 1000 / n, launch, fseal, tail, seal, spread, jb,
      jw, gap, gapmax, wd, wdmax, (reps > 1 ? "  walls: " walls : "")
  }'
}

header() {
  printf '%-8s %-22s %5s %7s %7s %6s %8s %8s %7s %7s %8s %8s %6s %7s %6s %7s %-9s %9s %6s %6s %6s %7s %7s\n' \
    batch config jobs wall_s jobs/s speedup sum_rt_s ovh_ms/j rt_ms/j sim_ms/j r0main_ms r0proc_ms mpi_s fseal_s tail_s nbseal_s per_rank json_B \
    json_w gap_s gapmx_s jw_ms jwmx_ms
}

echo "# nbparity batch benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "# machine: $(lscpu | sed -n 's/^Model name: *//p'), $(lscpu | sed -n 's/^CPU(s): *//p') CPUs ($(lscpu | sed -n 's/^Core(s) per socket: *//p') cores/socket, $(lscpu | sed -n 's/^Thread(s) per core: *//p') threads/core), nproc $cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $("${mpirun[0]}" --version 2>/dev/null | head -1); nbparity $("$nbparity" --version 2>/dev/null | head -1)"
echo "# ${mpirun[*]}; --threads-per-job $tpj; $repeats run(s) per configuration; configurations with more workers than cores are marked oversub."
echo "# columns: wall_s wall seconds incl. mpirun; speedup vs the first row; sum_rt_s sum of batch.json runtime_s;"
echo "#   ovh_ms/j (wall x workers - sum_rt) / jobs; rt_ms/j mean runtime_s; sim_ms/j mean simulator time (bundle commands.txt);"
echo "#   r0main_ms / r0proc_ms CPU of rank 0's main thread / whole nbparity process per job; mpi_s mpirun -n R /bin/true;"
echo "#   fseal_s the run's own final seal (complete batch.json renamed -> DIR/sha256.txt renamed; reuses job digests);"
echo "#   tail_s last job bundle sealed -> exit (final batch.json, final seal, exit of every rank and of mpirun);"
echo "#   nbseal_s nbbundle seal DIR afterwards (hashes every file); per_rank jobs per rank (local workers all count"
echo "#   as rank 0); json_B final batch.json bytes; json_w batch.json writes (inotify, start and end included);"
echo "#   gap_s / gapmx_s mean / largest time between them; jw_ms / jwmx_ms mean / largest create-to-rename of one"

make_jobs jobs.jsonl "$njobs" "$pix_lo" "$pix_hi" "${sim_extra[@]}"
if [ -n "$ranks$local_jobs" ]; then
  echo
  echo "## scaling: $njobs jobs, -detpixels $pix_lo..$pix_hi, -N 5 ${sim_extra[*]}"
  header
  for r in $ranks; do run_case scaling mpi "$r" jobs.jsonl --threads-per-job "$tpj"; done
  for j in $local_jobs; do run_case scaling local "$j" jobs.jsonl --threads-per-job "$tpj"; done
  # --resume on a complete DIR: rank 0 verifies every job bundle, runs nothing, seals DIR.
  t0=$(now)
  "$nbparity" batch jobs.jsonl --out "$last_out" --no-mpi --resume > "$work/resume.log" 2>&1 ||
    { echo "bench: --resume failed" >&2; tail -5 "$work/resume.log" >&2; exit 1; }
  t1=$(now)
  echo "# --resume of a complete $njobs-job DIR (all verified and skipped, DIR resealed): $(echo "$t1 - $t0" | bc -l | xargs printf %.2f) s"
fi

if [ "$ntrivial" -gt 0 ]; then
  make_jobs trivial.jsonl "$ntrivial" 4 4
  echo
  echo "## overhead: $ntrivial jobs of -detpixels 4 (process start, bundle, seal, batch.json dominate)"
  header
  baseline=""
  for r in $trivial_ranks; do run_case trivial mpi "$r" trivial.jsonl --threads-per-job "$tpj"; done
  for j in $trivial_local; do run_case trivial local "$j" trivial.jsonl --threads-per-job "$tpj"; done
fi

if [ -n "$rewrite_sizes" ]; then
  echo
  echo "## batch.json rewrites: stand-in simulator (/bin/sh script), 1 local worker"
  header
  baseline=""
  for n in $rewrite_sizes; do
    make_jobs "rewrite$n.jsonl" "$n" 4 4
    run_case "rw$n" local 1 "rewrite$n.jsonl" --threads-per-job "$tpj" --test "$work/fake_sim.sh"
  done
fi

if [ -n "$rewrite_stopped" ]; then
  echo
  echo "## large jobs files, stopped: stand-in simulator, 1 local worker, SIGKILL after $rewrite_stop_s s"
  echo "# sealed: job bundles with a sha256.txt; json_done: jobs batch.json lists as finished; stale: sealed but"
  echo "#   not finished in batch.json; age_s: time from the last batch.json rename to the kill"
  printf '%-8s %7s %7s %7s %6s %6s %7s %7s %7s %9s %9s %6s %6s\n' \
    batch jobs sealed jobs/s json_w gap_s gapmx_s jw_ms jwmx_ms json_B json_done stale age_s
  for n in $rewrite_stopped; do
    make_jobs "rewrite$n.jsonl" "$n" 4 4
    out=$work/out-stop$n
    rm -rf "$out"
    mkdir -p "$out"
    start_watch "$out" "$out.events"
    "$nbparity" batch "rewrite$n.jsonl" --out "$out" --no-mpi --jobs 1 --threads-per-job "$tpj" \
      --test "$work/fake_sim.sh" > "$out.log" 2>&1 &
    pid=$!
    sleep "$rewrite_stop_s"
    kill -KILL "$pid"
    t1=$(now)
    wait "$pid" 2> /dev/null || true
    stop_watch
    read -r jw gap gapmax wd wdmax _ tl <<< "$(watch_summary "$out.events")"
    python3 - "$out" "$n" "$rewrite_stop_s" "$jw" "$gap" "$gapmax" "$wd" "$wdmax" "$t1" "$tl" <<'PY'
import json, os, sys
d, n, stop_s, jw, gap, gapmax, wd, wdmax, t1, tl = sys.argv[1:]
b = json.load(open(os.path.join(d, "batch.json")))
done = {j["id"] for j in b["jobs"] if j["status"] != "not done"}
sealed = {e for e in os.listdir(d) if os.path.isfile(os.path.join(d, e, "sha256.txt"))}
print("%-8s %7s %7d %7.1f %6s %6s %7s %7s %7s %9d %9d %6d %6.2f" % (
    "stop" + n, n, len(sealed), len(sealed) / float(stop_s), jw, gap, gapmax, wd, wdmax,
    os.path.getsize(os.path.join(d, "batch.json")), len(done), len(sealed - done), float(t1) - float(tl)))
PY
  done
fi

if [ "$nlarge" -gt 0 ]; then
  make_jobs large.jsonl "$nlarge" "$large_pix" "$large_pix"
  echo
  echo "## large images: $nlarge jobs of -detpixels $large_pix (-N 5), --jobs $large_local; the final seal"
  header
  baseline=""
  run_case large local "$large_local" large.jsonl --threads-per-job "$tpj"
  echo "# DIR: $(du -sh "$last_out" | cut -f1), $(find "$last_out" -type f | wc -l) files"
  t0=$(now)
  "$nbbundle" verify "$last_out" > /dev/null
  t1=$(now)
  echo "# nbbundle verify DIR (hashes every file, page cache warm): $(echo "$t1 - $t0" | bc -l | xargs printf %.2f) s"
  # Unpinned it verifies on all CPUs; under taskset -c 0 with one thread (as before the change).
  for pin in "" "taskset -c 0"; do
    t0=$(now)
    $pin "$nbparity" batch large.jsonl --out "$last_out" --no-mpi --resume > "$work/resume-large.log" 2>&1 ||
      { echo "bench: --resume failed" >&2; tail -5 "$work/resume-large.log" >&2; exit 1; }
    t1=$(now)
    echo "# --resume of the complete DIR (all verified and skipped, DIR resealed), ${pin:-unpinned}: $(echo "$t1 - $t0" | bc -l | xargs printf %.2f) s"
  done
fi
