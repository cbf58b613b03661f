#!/usr/bin/env bash
# The whole check for a lent GPU machine that has the NVIDIA driver but not
# this project's build dependencies: it runs binaries built elsewhere
# (scripts/prepare-device-carry.sh) and puts everything that should come
# back into $OUT, in at most 6 files:
#
#   $OUT/summary.txt     this script's output (probes, gpu-check table, batch)
#   $OUT/gpu-check.txt   scripts/gpu-check.sh's output (the table)
#   $OUT/probe.txt       machine, driver, tools present, shared libraries
#   $OUT/batch.json      the nbparity batch --device cuda run's record
#   $OUT/logs.tar.gz     every log, the batch's output folder
#
#   bash scripts/device-run.sh
#
# Environment (paths relative to the repository root or absolute):
#   NB_DEVCARRY        folder with the carried build: build-gpu/{bin,tests}
#                      and lib/ (shared libraries); default .devcarry
#   NB_GPU_BUILD_DIR   the build to use (default NB_DEVCARRY/build-gpu, else
#                      build-gpu); needs bin/nbsim, bin/nbparity and
#                      tests/nbsim_tests
#   NB_REF_BIN         a nanoBragg binary for the benchmark and the parity
#                      jobs of the batch (optional)
#   NB_DEVCARRY_LIBS   auto (default): only the carried libraries the system
#                      lacks are put on LD_LIBRARY_PATH; all: the whole
#                      NB_DEVCARRY/lib folder; none
#   NB_SHARED_DIR      the folder holding golden/ (default ./shared or ../shared)
# The golden cases must be in ./shared/golden (or NB_SHARED_DIR) on the machine
# (case.json and input files suffice: scripts/prepare-device-carry.sh).
# Bounded by timeouts to about 6 minutes; about 2 expected on 16 cores + H200.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root" || exit 2
start=$(date +%s)
out="${OUT:-}"
if [ -z "$out" ]; then out="$(mktemp -d /tmp/device-run-XXXXXX)"; fi
mkdir -p "$out"
work="$(mktemp -d /tmp/device-run-work-XXXXXX)"
logs="$work/logs"
mkdir -p "$logs"
abspath() { case "$1" in /*) echo "$1" ;; *) echo "$root/$1" ;; esac; }
elapsed() { echo "$(( $(date +%s) - start )) s"; }

main() {
carry="$(abspath "${NB_DEVCARRY:-.devcarry}")"
if [ -n "${NB_GPU_BUILD_DIR:-}" ]; then
  build="$(abspath "$NB_GPU_BUILD_DIR")"
elif [ -x "$carry/build-gpu/bin/nbsim" ]; then
  build="$carry/build-gpu"
else
  build="$root/build-gpu"
fi
ref=""
if [ -n "${NB_REF_BIN:-}" ]; then ref="$(abspath "$NB_REF_BIN")"; fi
echo "device-run: repo $root, build $build, carry $carry, reference ${ref:-none}, OUT $out"

# --- shared libraries: the carried ones the system lacks -----------------
bins=("$build/bin/nbsim" "$build/bin/nbparity" "$build/tests/nbsim_tests")
[ -x "$build/bin/nbbundle" ] && bins+=("$build/bin/nbbundle")
[ -n "$ref" ] && bins+=("$ref")
missing() {  # sonames ldd cannot resolve, one a line
  for b in "${bins[@]}"; do [ -e "$b" ] && ldd "$b" 2>/dev/null; done | awk '/=> not found/ {print $1}' | sort -u
}
mode="${NB_DEVCARRY_LIBS:-auto}"
libdir=""
if [ "$mode" = all ] && [ -d "$carry/lib" ]; then
  libdir="$carry/lib"
elif [ "$mode" = auto ] && [ -d "$carry/lib" ]; then
  libdir="$work/lib"
  mkdir -p "$libdir"
  for round in 1 2 3 4; do
    added=0
    for so in $(LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" missing); do
      if [ -e "$carry/lib/$so" ] && [ ! -e "$libdir/$so" ]; then ln -s "$carry/lib/$so" "$libdir/$so"; added=1; fi
    done
    [ "$added" = 0 ] && break
  done
fi
if [ -n "$libdir" ]; then export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; fi

# --- probes ----------------------------------------------------------------
{
  echo "== date";  date -u +%Y-%m-%dT%H:%M:%SZ
  echo "== uname"; uname -a
  echo "== os";    grep -E '^(PRETTY_NAME|VERSION_ID)=' /etc/os-release 2>/dev/null
  echo "== glibc"; ldd --version 2>&1 | head -1
  echo "== cpus";  nproc; grep -m1 'model name' /proc/cpuinfo
  echo "== memory"; free -g 2>&1 | head -2
  echo "== tools"
  for t in nvidia-smi nvcc cmake ninja mpirun mpiexec srun python3 gcc g++ git; do
    printf '%-11s %s\n' "$t" "$(command -v "$t" || echo absent)"
  done
  echo "== nvidia-smi"; nvidia-smi 2>&1 | head -30
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,compute_cap --format=csv 2>&1
  nvidia-smi --query-gpu=compute_mode,mig.mode.current,persistence_mode --format=csv 2>&1
  echo "== nvcc"; nvcc --version 2>&1 | tail -2
  echo "== mpirun"; mpirun --version 2>&1 | head -2
  echo "== carried libraries (mode $mode): LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
  [ -n "$libdir" ] && ls -l "$libdir" 2>&1
  for b in "${bins[@]}"; do echo "-- ldd $b"; ldd "$b" 2>&1; done
  echo "== still unresolved: $(missing | tr '\n' ' ')"
} >"$out/probe.txt" 2>&1
grep -A20 '^== tools' "$out/probe.txt" | sed -n '1,12p'
grep '^== still unresolved' "$out/probe.txt"
grep -A1 'compute_cap' "$out/probe.txt" | tail -1

# --- gpu-check: CUDA vs CPU on every golden case, the benchmark ------------
echo
echo "== scripts/gpu-check.sh ($(elapsed))"
NB_GPU_SKIP_BUILD=1 NB_GPU_BUILD_DIR="$build" NB_REF_BIN="$ref" OUT="$logs/gpu-check" \
  NB_GPU_TEST_TIMEOUT="${NB_GPU_TEST_TIMEOUT:-100}" NB_GPU_BENCH_TIMEOUT="${NB_GPU_BENCH_TIMEOUT:-150}" \
  timeout 290 bash "$root/scripts/gpu-check.sh" >"$out/gpu-check.txt" 2>&1
rc_check=$?
cat "$out/gpu-check.txt"
echo "gpu-check: exit $rc_check ($(elapsed))"

# --- nbparity batch --device cuda: 16 small jobs on 4 local workers --------
echo
echo "== nbparity batch --device cuda --jobs 4 ($(elapsed))"
jobs="$work/batch-jobs"
mkdir -p "$jobs"
{
  n=0
  for px in 64 96 128 160; do
    for N in 3 5 7; do
      n=$((n + 1))
      printf '{"id": "cubic%02d", "args": ["-cell", "100", "100", "100", "90", "90", "90", "-default_F", "100", "-lambda", "6.2", "-N", "%s", "-distance", "100", "-pixel", "0.1", "-detpixels", "%s"]}\n' "$n" "$N" "$px"
    done
  done
  # Parity jobs (the reference against nbsim on the GPU) when there is one;
  # simulations otherwise.
  for px in 64 128 192 256; do
    n=$((n + 1))
    parity=""
    [ -n "$ref" ] && parity=', "parity": {"auto_pixels": 2}'
    printf '{"id": "tilted%02d", "args": ["-cell", "70", "80", "90", "90", "95", "100", "-default_F", "100", "-lambda", "1.5", "-N", "5", "-distance", "100", "-pixel", "0.1", "-detpixels", "%s", "-twotheta", "5"]%s}\n' "$n" "$px" "$parity"
  done
} >"$jobs/jobs.jsonl"
batch_args=(batch "$jobs/jobs.jsonl" --out "$work/batch" --device cuda --jobs 4)
[ -n "$ref" ] && batch_args+=(--ref-bin "$ref")
# The reference of the parity jobs: the cores shared by the 4 workers.
OMP_NUM_THREADS=$(( $(nproc) / 4 > 0 ? $(nproc) / 4 : 1 )) timeout 45 "$build/bin/nbparity" "${batch_args[@]}" \
  >"$logs/batch.log" 2>&1
rc_batch=$?
tail -25 "$logs/batch.log"
echo "nbparity batch: exit $rc_batch ($(elapsed))"
if [ -f "$work/batch/batch.json" ]; then
  cp "$work/batch/batch.json" "$out/batch.json"
  python3 - "$out/batch.json" <<'EOF' 2>/dev/null || true
import collections, json, sys
d = json.load(open(sys.argv[1]))
jobs = d.get("jobs", [])
print("batch.json:", len(jobs), "jobs;", dict(collections.Counter(j.get("status") for j in jobs)),
      "; devices:", dict(collections.Counter(j.get("device") for j in jobs)))
EOF
fi

# --- everything else in one archive ----------------------------------------
cp "$jobs/jobs.jsonl" "$logs/batch-jobs.jsonl"
[ -d "$work/batch" ] && cp -r "$work/batch" "$logs/batch-out"
echo
echo "device-run: gpu-check exit $rc_check, batch exit $rc_batch, total $(elapsed)"
tar -C "$work" -czf "$out/logs.tar.gz" logs
rm -rf "$work"
[ "$rc_check" -eq 0 ] && [ "$rc_batch" -eq 0 ]
}

main 2>&1 | tee "$out/summary.txt"
exit "${PIPESTATUS[0]}"
