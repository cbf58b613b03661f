#!/usr/bin/env bash
# One prepared check for a machine with a CUDA GPU, nvcc, CMake and ninja
# (no network needed): builds nbsim and its tests with CUDA, compares
# -device cuda with the CPU backend on every golden case (images,
# statistics, traces), runs the GPU benchmark and prints one table with the
# device name. Meant to finish in under 5 minutes on a 16-core machine.
#
#   scripts/gpu-check.sh            # build in build-gpu/, logs in $OUT or build-gpu/gpu-check/
#   NB_GPU_SKIP_BUILD=1 scripts/gpu-check.sh   # use build-gpu/ as it is (built elsewhere)
#   NB_GPU_SKIP_BUILD=1 NB_GPU_BUILD_DIR=DIR NB_REF_BIN=PATH scripts/gpu-check.sh
#
# The golden cases are read from ../shared or ./shared. On a lent device
# machine that receives only the working tree, copy them in first
# (cp -r ../shared/golden shared/golden: about 20 MB) so shared/ travels.
#
# The benchmark times, per case and in the same run: nbsim -device cuda
# (kernel and whole process), nbsim on the CPU with all cores and, when
# NB_REF_BIN names a nanoBragg binary, that reference with OMP_NUM_THREADS =
# all cores (NB_REF_THREADS to change), and prints the ratios.
#
# Environment: NB_GPU_BUILD_DIR (default build-gpu; with NB_GPU_SKIP_BUILD=1
# it needs only bin/nbsim and tests/nbsim_tests, e.g. a slim copy carried to
# the machine), NB_CUDA_ARCH (default "80;90"), NB_SHARED_DIR (default
# ../shared or ./shared, whichever holds golden/), NB_JOBS (default all
# cores), NB_REF_BIN, NB_REF_THREADS, NB_GPU_TEST_TIMEOUT and
# NB_GPU_BENCH_TIMEOUT (seconds, default 150 each).
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${NB_GPU_BUILD_DIR:-$root/build-gpu}"
case "$build" in /*) ;; *) build="$PWD/$build" ;; esac
logs="${OUT:-$build/gpu-check}"
mkdir -p "$logs"
start=$(date +%s)

if [ -z "${NB_SHARED_DIR:-}" ]; then
  for d in "$root/../shared" "$root/shared"; do
    if [ -d "$d/golden" ]; then NB_SHARED_DIR="$(cd "$d" && pwd)"; break; fi
  done
fi
if [ -z "${NB_SHARED_DIR:-}" ] || [ ! -d "$NB_SHARED_DIR/golden" ]; then
  echo "gpu-check: reference data not found (set NB_SHARED_DIR to the folder holding golden/)" >&2
  exit 2
fi
export NB_SHARED_DIR
# The test binaries look for the tools and sources here rather than at the
# paths compiled in (they may have been built on another machine).
export NB_TEST_BIN_DIR="$build/bin" NB_TEST_SOURCE_DIR="$root"
if [ -n "${NB_REF_BIN:-}" ]; then
  case "$NB_REF_BIN" in /*) ;; *) NB_REF_BIN="$PWD/$NB_REF_BIN" ;; esac
  if [ -x "$NB_REF_BIN" ]; then
    export NB_REF_BIN
  else
    echo "gpu-check: NB_REF_BIN=$NB_REF_BIN is not an executable file: the benchmark runs without the reference" >&2
    unset NB_REF_BIN
  fi
fi

echo "== GPU"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv,noheader 2>&1 | tee "$logs/gpu.txt" \
  || echo "(nvidia-smi not available)"

if [ "${NB_GPU_SKIP_BUILD:-0}" != 1 ]; then
  echo "== build (CUDA architectures ${NB_CUDA_ARCH:-80;90})"
  t0=$(date +%s)
  if ! cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DNB_CUDA=ON \
      -DCMAKE_CUDA_ARCHITECTURES="${NB_CUDA_ARCH:-80;90}" >"$logs/configure.log" 2>&1; then
    tail -20 "$logs/configure.log"
    echo "gpu-check: configure failed (log: $logs/configure.log)" >&2
    exit 1
  fi
  if ! ninja -C "$build" -j "${NB_JOBS:-$(nproc)}" nbsim nbsim_tests >"$logs/build.log" 2>&1; then
    tail -40 "$logs/build.log"
    echo "gpu-check: build failed (log: $logs/build.log)" >&2
    exit 1
  fi
  echo "build: $(( $(date +%s) - t0 )) s"
  # Registers, shared memory and spills of the kernels (costs no GPU time).
  obj=$(find "$build/libsim" -name 'cuda.cu.o' | head -1)
  if [ -n "$obj" ] && command -v cuobjdump >/dev/null; then
    cuobjdump --dump-resource-usage "$obj" >"$logs/resource-usage.txt" 2>&1 || true
  fi
fi

tests="$build/tests/nbsim_tests"
if [ ! -x "$tests" ] || [ ! -x "$build/bin/nbsim" ]; then
  echo "gpu-check: $tests or $build/bin/nbsim missing" >&2
  exit 1
fi

echo "== nbsim -list_devices"
"$build/bin/nbsim" -list_devices 2>&1 | tee "$logs/list-devices.txt"

echo "== CUDA vs CPU on every golden case"
t0=$(date +%s)
timeout "${NB_GPU_TEST_TIMEOUT:-150}" "$tests" --source-file='*test_sim_cuda.cpp' --no-intro >"$logs/cuda-tests.log" 2>&1
rc=$?
echo "tests: $(( $(date +%s) - t0 )) s, exit $rc (77 = skipped: no GPU; 124 = timed out)"
timeout 30 "$tests" --source-file='*test_sim_cuda_errors.cpp' --no-intro >"$logs/cuda-errors.log" 2>&1
rc_err=$?
echo "== benchmark (reference: ${NB_REF_BIN:-none})"
t0=$(date +%s)
NB_GPU_BENCH=1 timeout "${NB_GPU_BENCH_TIMEOUT:-150}" "$tests" --source-file='*test_sim_cuda.cpp' \
  --test-case='GPU benchmark*' --no-intro >"$logs/cuda-bench.log" 2>&1
rc_bench=$?
echo "benchmark: $(( $(date +%s) - t0 )) s, exit $rc_bench"

device=$(sed -n 's/^GPU_BENCH device=//p' "$logs/cuda-bench.log" | head -1)
[ -n "$device" ] || device=$(sed -n 's/^cuda 0: //p' "$logs/list-devices.txt" | head -1)
echo
echo "== nbsim -device cuda on ${device:-unknown device} ($(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'))"
printf '%-24s %10s %10s %10s %10s %12s\n' "golden case" pixels identical adjacent outside max_rel
sed -n 's/^CUDA_VS_CPU //p' "$logs/cuda-tests.log" | while read -r name rest; do
  get() { echo "$rest" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
  printf '%-24s %10s %10s %10s %10s %12s\n' "$name" "$(get pixels)" "$(get identical)" "$(get adjacent_float)" \
    "$(get outside)" "$(get max_rel)"
done
echo
setup=$(sed -n 's/^GPU_BENCH_SETUP //p' "$logs/cuda-bench.log" | head -1)
echo "benchmark, float64; medians of whole-process wall times (cuda 5 runs, cpu and ref 3 runs); $setup"
echo "  cuda = nbsim -device cuda, cpu = nbsim on all cores, ref = NB_REF_BIN (nanoBragg.c, OpenMP)"
printf '%-42s %10s %10s %9s %9s %9s %9s %10s %9s %12s\n' "case" "kernel" "kern.min" "cuda" "cpu" "ref" \
  "ref/cuda" "ref/kernel" "cpu/cuda" "goal"
fmt() { case "$1" in ""|-1) echo "-" ;; *) printf "%.${3:-3}f%s" "$1" "$2" ;; esac; }
sed -n 's/^GPU_BENCH case=//p' "$logs/cuda-bench.log" | while read -r line; do
  label=$(echo "$line" | sed 's/^"\([^"]*\)".*/\1/')
  get() { echo "$line" | sed 's/^"[^"]*"//' | tr ' ' '\n' | sed -n "s/^$1=//p"; }
  goal=$(get goal_kernel_ms)
  case "$goal" in -*) goal="proc<=0.5s" ;; *) goal="<=${goal} ms" ;; esac
  printf '%-42s %10s %10s %9s %9s %9s %9s %10s %9s %12s\n' "$label" \
    "$(fmt "$(get kernel_ms_median)" " ms")" "$(fmt "$(get kernel_ms_min)" " ms")" "$(fmt "$(get process_s_median)" " s")" \
    "$(fmt "$(get cpu_process_s_median)" " s")" "$(fmt "$(get ref_process_s_median)" " s")" \
    "$(fmt "$(get ref_over_gpu_process)" x 1)" "$(fmt "$(get ref_over_gpu_kernel)" x 1)" \
    "$(fmt "$(get cpu_over_gpu_process)" x 1)" "$goal"
done
sed -n 's/^GPU_BENCH case=\("[^"]*"\).* ref_vs_gpu_max_rel=\([^ ]*\) ref_vs_gpu_outside=\([^ ]*\).*/  ref vs cuda image: \3 pixels outside the tolerance, max relative difference \2: \1/p' \
  "$logs/cuda-bench.log"
grep -q 'ref_vs_gpu_outside=' "$logs/cuda-bench.log" &&
  echo "  (nanoBragg.c with OpenMP differs from itself at the first pixel of each thread's block of rows)"
grep '^GPU_BENCH_NOTE' "$logs/cuda-bench.log" | cut -c1-400
echo
echo "float32: -dtype float32 runs on the GPU (pixel_kernel<float>); this script checks float64 only."
echo "CUDA tests: exit $rc; error tests: exit $rc_err; benchmark: exit $rc_bench; total $(( $(date +%s) - start )) s; logs in $logs"
for f in cuda-tests cuda-bench; do
  r=$rc; [ "$f" = cuda-bench ] && r=$rc_bench
  if [ "$r" -eq 77 ]; then
    echo "gpu-check: $f SKIPPED: $(grep -m1 '^SKIPPED' "$logs/$f.log")"
  elif [ "$r" -ne 0 ]; then
    echo "--- failures (tail of $logs/$f.log)"
    grep -v '^CUDA_VS_CPU\|^GPU_BENCH' "$logs/$f.log" | tail -40
  fi
done
if [ "$rc_err" -ne 0 ]; then
  echo "--- error tests (tail of $logs/cuda-errors.log)"
  tail -30 "$logs/cuda-errors.log"
fi
[ "$rc" -eq 0 ] && [ "$rc_err" -eq 0 ] && [ "$rc_bench" -eq 0 ]
