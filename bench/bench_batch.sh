#!/usr/bin/env bash
# Times `nbparity batch` over MPI ranks and over local workers, and the
# per-job cost of the batch machinery itself. Everything it writes goes to a
# temporary folder that is deleted at the end (KEEP=1 keeps it).
#
#   bench/bench_batch.sh
#
# Settings (environment; the defaults take about 4–7 minutes on 2 cores, most of
# it in the rewrite test):
#   BUILD=build             folder holding bin/nbparity, bin/nbsim and bin/nbbundle
#   NJOBS=64                jobs in the scaling batch
#   DETPIXELS="96 160"      -detpixels range of the scaling jobs (spread over the jobs)
#   RANKS="1 2 4"           mpirun -n R for the scaling batch ("" skips MPI)
#   LOCAL="1 2 4"           --jobs N without MPI for the scaling batch ("" skips)
#   NTRIVIAL=200            jobs in the overhead batch (-detpixels 4 images; 0 skips)
#   TRIVIAL_RANKS="1 2"     mpirun -n R for the overhead batch
#   TRIVIAL_LOCAL="1"       --jobs N for the overhead batch
#   REWRITE_SIZES="2000 2001"  jobs in the batch.json-rewrite test ("" skips):
#                           each job runs a stand-in simulator (a /bin/sh script
#                           that prints nbsim's statistics lines) on 1 local
#                           worker; batch.json is rewritten at every change up
#                           to 2,000 jobs and at most once a second above, so
#                           2000 vs 2001 shows what the rewrites cost
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
rewrite_sizes=${REWRITE_SIZES-2000 2001}
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
# one is taken from the exited (not yet reaped) process, so it is final.
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

# A stand-in simulator for the rewrite test: prints nbsim's statistics lines.
cat > fake_sim.sh <<'SH'
#!/bin/sh
echo "max_I = 154.652  at 0.00025 0.00025"
echo "mean= 142.673 rms= 147.72 rmsd= 10.4212"
SH
chmod +x fake_sim.sh

sim_args='"-cell", "100", "100", "100", "90", "90", "90", "-default_F", "100", "-N", "5", "-lambda", "6.2", "-distance", "100", "-pixel", "0.1"'
make_jobs() {  # FILE N PIX_LO PIX_HI [EXTRA ARGS]: N jobs, -detpixels spread over [LO, HI], each its own misset
  local file=$1 n=$2 lo=$3 hi=$4 i pix extra="" a
  shift 4
  for a in "$@"; do extra+=", \"$a\""; done
  : > "$file"
  for ((i = 0; i < n; i++)); do
    pix=$(( n > 1 ? lo + (hi - lo) * i / (n - 1) : lo ))
    printf '{"id": "j%04d", "args": [%s, "-detpixels", "%d", "-misset", "%d", "%d", "%d"%s]}\n' \
      "$i" "$sim_args" "$pix" $((i % 17)) $((i * 7 % 23)) $((i * 11 % 29)) "$extra" >> "$file"
  done
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
# wall ok n sum mean_rt mean_sim spread json_bytes complete main_ticks proc_ticks hz seal
run_once() {
  local label=$1 kind=$2 w=$3 jobsfile=$4
  shift 4
  local out=$work/out-$label-$kind$w stat=$work/stat-$label-$kind$w t0 t1 wall seal rc=0 cmd
  rm -rf "$out"
  if [ "$kind" = mpi ]; then
    cmd=("${mpirun[@]}" -n "$w" ./sample_rank0.sh "$stat" "$nbparity" batch "$jobsfile" --out "$out" "$@")
  else
    cmd=(./sample_rank0.sh "$stat" "$nbparity" batch "$jobsfile" --out "$out" --no-mpi --jobs "$w" "$@")
  fi
  t0=$(now)
  "${cmd[@]}" > "$out.log" 2>&1 || rc=$?
  t1=$(now)
  if [ "$rc" != 0 ]; then
    echo "bench: exit $rc: ${cmd[*]}" >&2
    tail -5 "$out.log" >&2
    return 1
  fi
  wall=$(echo "$t1 - $t0" | bc -l)
  # The final seal of DIR hashes every job's files again: time it alone (page cache warm).
  t0=$(now)
  "$nbbundle" seal "$out" > /dev/null
  t1=$(now)
  seal=$(echo "$t1 - $t0" | bc -l)
  echo "$wall $(analyse "$out") $(cat "$stat") $seal"
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
  local wall ok n sum mean_rt mean_sim spread json_bytes complete main_t proc_t hz seal
  read -r wall ok n sum mean_rt mean_sim spread json_bytes complete main_t proc_t hz seal <<< "$median"
  [ "$ok" = "$n" ] && [ "$complete" = True ] || { echo "bench: $label $kind $w: $ok of $n ok, complete=$complete" >&2; exit 1; }
  last_out=$work/out-$label-$kind$w
  [ -z "$baseline" ] && baseline=$wall
  local over=no launch=-
  [ "$w" -gt "$cores" ] && over=yes
  [ "$kind" = mpi ] && launch=$(printf %.2f "${launch_s[$w]}")
  awk -v label="$label" -v kind="$kind" -v w="$w" -v over="$over" -v n="$n" -v wall="$wall" -v base="$baseline" \
      -v sum="$sum" -v mrt="$mean_rt" -v msim="$mean_sim" -v main="$main_t" -v proc="$proc_t" -v hz="$hz" \
      -v spread="$spread" -v launch="$launch" -v jb="$json_bytes" -v seal="$seal" -v walls="$walls" -v reps="$repeats" 'BEGIN {
    cfg = (kind == "mpi" ? "mpirun -n " w : "--jobs " w) (over == "yes" ? " (oversub.)" : "")
    printf "%-8s %-22s %4d %7.2f %7.1f %6.2f %8.2f %8.1f %7.1f %7.1f %8.1f %8.1f %6s %6.2f %-9s %8d%s\n",
      label, cfg, n, wall, n / wall, base / wall, sum, (wall * w - sum) * 1000 / n,
      mrt * 1000, msim * 1000, main / hz * 1000 / n, proc / hz * 1000 / n, launch, seal, spread, jb,
      (reps > 1 ? "  walls: " walls : "")
  }'
}

header() {
  printf '%-8s %-22s %4s %7s %7s %6s %8s %8s %7s %7s %8s %8s %6s %6s %-9s %8s\n' \
    batch config jobs wall_s jobs/s speedup sum_rt_s ovh_ms/j rt_ms/j sim_ms/j r0main_ms r0proc_ms mpi_s seal_s per_rank json_B
}

echo "# nbparity batch benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "# machine: $(lscpu | sed -n 's/^Model name: *//p'), $(lscpu | sed -n 's/^CPU(s): *//p') CPUs ($(lscpu | sed -n 's/^Core(s) per socket: *//p') cores/socket, $(lscpu | sed -n 's/^Thread(s) per core: *//p') threads/core), nproc $cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $("${mpirun[0]}" --version 2>/dev/null | head -1); nbparity $("$nbparity" --version 2>/dev/null | head -1)"
echo "# ${mpirun[*]}; --threads-per-job $tpj; $repeats run(s) per configuration; configurations with more workers than cores are marked oversub."
echo "# columns: wall_s wall seconds incl. mpirun; speedup vs the first row; sum_rt_s sum of batch.json runtime_s;"
echo "#   ovh_ms/j (wall x workers - sum_rt) / jobs; rt_ms/j mean runtime_s; sim_ms/j mean simulator time (bundle commands.txt);"
echo "#   r0main_ms / r0proc_ms CPU of rank 0's main thread / whole nbparity process per job; mpi_s mpirun -n R /bin/true;"
echo "#   seal_s nbbundle seal DIR afterwards (what the run's final seal costs); per_rank jobs per rank"
echo "#   (local workers all count as rank 0); json_B final batch.json bytes"

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
