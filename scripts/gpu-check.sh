#!/usr/bin/env bash
# One prepared check for a machine with a CUDA GPU, nvcc, CMake and ninja
# (no network needed): builds nbsim and its tests with CUDA, compares
# -device cuda with the CPU backend on every golden case (images,
# statistics, traces), runs the GPU benchmark and prints one table with the
# device name. Meant to finish in under 5 minutes on a 16-core machine.
#
#   scripts/gpu-check.sh            # build in build-gpu/, logs in $OUT or build-gpu/gpu-check/
#   NB_GPU_SKIP_BUILD=1 scripts/gpu-check.sh   # use build-gpu/ as it is (built elsewhere)
#
# The golden cases are read from ../shared or ./shared. On a lent device
# machine that receives only the working tree, copy them in first
# (cp -r ../shared/golden shared/golden: about 20 MB) so shared/ travels.
#
# Environment: NB_GPU_BUILD_DIR (default build-gpu), NB_CUDA_ARCH (default
# "80;90"), NB_SHARED_DIR (default ../shared or ./shared, whichever holds
# golden/), NB_JOBS (default all cores).
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${NB_GPU_BUILD_DIR:-$root/build-gpu}"
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

echo "== CUDA vs CPU on every golden case, then the benchmark"
t0=$(date +%s)
NB_GPU_BENCH=1 timeout 240 "$tests" --source-file='*test_sim_cuda.cpp' --no-intro >"$logs/cuda-tests.log" 2>&1
rc=$?
echo "tests + benchmark: $(( $(date +%s) - t0 )) s, exit $rc (77 = skipped: no GPU)"
"$tests" --source-file='*test_sim_cuda_errors.cpp' --no-intro >"$logs/cuda-errors.log" 2>&1
rc_err=$?

device=$(sed -n 's/^GPU_BENCH device=//p' "$logs/cuda-tests.log" | head -1)
echo
echo "== nbsim -device cuda on ${device:-unknown device} ($(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'))"
printf '%-24s %10s %10s %10s %10s %12s\n' "golden case" pixels identical adjacent outside max_rel
sed -n 's/^CUDA_VS_CPU //p' "$logs/cuda-tests.log" | while read -r name rest; do
  get() { echo "$rest" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
  printf '%-24s %10s %10s %10s %10s %12s\n' "$name" "$(get pixels)" "$(get identical)" "$(get adjacent_float)" \
    "$(get outside)" "$(get max_rel)"
done
echo
printf '%-44s %14s %14s %16s %10s\n' "benchmark (float64, 5 runs)" "kernel median" "kernel min" "process median" "goal"
sed -n 's/^GPU_BENCH case=//p' "$logs/cuda-tests.log" | while read -r line; do
  label=$(echo "$line" | sed 's/^"\([^"]*\)".*/\1/')
  get() { echo "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
  goal=$(get goal_kernel_ms)
  case "$goal" in -*) goal="process<=0.5s" ;; *) goal="<=${goal} ms" ;; esac
  printf '%-44s %11s ms %11s ms %14s s %10s\n' "$label" "$(get kernel_ms_median)" "$(get kernel_ms_min)" \
    "$(get process_s_median)" "$goal"
done
echo
echo "float32: not implemented yet (-dtype float32 is refused)."
echo "CUDA tests: exit $rc; error tests: exit $rc_err; total $(( $(date +%s) - start )) s; logs in $logs"
if [ "$rc" -eq 77 ]; then
  echo "gpu-check: the CUDA tests SKIPPED: $(grep -m1 '^SKIPPED' "$logs/cuda-tests.log")"
elif [ "$rc" -ne 0 ]; then
  echo "--- failures (tail of $logs/cuda-tests.log)"
  grep -v '^CUDA_VS_CPU\|^GPU_BENCH' "$logs/cuda-tests.log" | tail -40
fi
[ "$rc" -eq 0 ] && [ "$rc_err" -eq 0 ]
