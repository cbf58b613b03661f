#!/usr/bin/env bash
# Prepares .devcarry/ (ignored, never committed) for scripts/device-run.sh on
# a lent GPU machine that has the NVIDIA driver but not this project's build
# dependencies: builds nbsim, nbparity, nbbundle and nbsim_tests with CUDA
# (no MPI) here, copies them stripped into .devcarry/build-gpu/{bin,tests},
# and the shared libraries they load, glibc and the C++ runtime excepted,
# into .devcarry/lib
# (device-run.sh puts on LD_LIBRARY_PATH only those the machine lacks).
#
#   scripts/prepare-device-carry.sh [BUILD_DIR]     # default build-gpu
#   NB_REF_BIN=/path/to/nanoBragg scripts/prepare-device-carry.sh
#       also copies a reference binary you built yourself (OpenMP, for the
#       all-cores comparison) into .devcarry/nanoBragg, with the libraries
#       it loads (this project never builds or ships the reference)
#   NB_SHARED_SRC=../shared scripts/prepare-device-carry.sh
#       also copies what the CUDA tests read of the golden cases (case.json
#       and the input files, about 2 MB; not the reference images) into
#       ./shared/golden (ignored), so they travel with the working tree
#
# Environment: NB_DEVCARRY (default .devcarry), NB_CUDA_ARCH (default 90:
# H100/H200), NB_JOBS (default 2), NB_REF_BIN, NB_SHARED_SRC.
# Binaries built here run on machines with this glibc or a newer one.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
build="${1:-build-gpu}"
carry="${NB_DEVCARRY:-$root/.devcarry}"

if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DNB_CUDA=ON \
    -DCMAKE_CUDA_ARCHITECTURES="${NB_CUDA_ARCH:-90}" -DNB_MPI=OFF
fi
ninja -C "$build" -j "${NB_JOBS:-2}" nbsim nbsim_tests nbparity nbbundle

rm -rf "$carry/build-gpu" "$carry/lib"
mkdir -p "$carry/build-gpu/bin" "$carry/build-gpu/tests" "$carry/lib"
for t in nbsim nbparity nbbundle; do cp "$build/bin/$t" "$carry/build-gpu/bin/"; done
cp "$build/tests/nbsim_tests" "$carry/build-gpu/tests/"
strip "$carry"/build-gpu/bin/* "$carry/build-gpu/tests/nbsim_tests"

bins=("$carry"/build-gpu/bin/* "$carry/build-gpu/tests/nbsim_tests")
if [ -n "${NB_REF_BIN:-}" ]; then
  cp "$NB_REF_BIN" "$carry/nanoBragg"
  bins+=("$carry/nanoBragg")
fi

# Every library the binaries load, by soname, except glibc's own.
for b in "${bins[@]}"; do ldd "$b"; done | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' | sort -u |
  while read -r so path; do
    case "$so" in
      # glibc, and the C++ runtime every machine with nvcc has (a copy from
      # here would need this machine's glibc or a newer one).
      linux-vdso*|ld-linux*|libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|libresolv.so*|libutil.so*) continue ;;
      libstdc++.so*|libgcc_s.so*) continue ;;
    esac
    cp -L "$path" "$carry/lib/$so"
  done

if for b in "${bins[@]}"; do ldd "$b"; done | grep -q 'not found'; then
  echo "prepare-device-carry: unresolved libraries:" >&2
  for b in "${bins[@]}"; do ldd "$b" | grep 'not found'; done >&2
  exit 1
fi
if for b in "${bins[@]}"; do ldd "$b"; done | grep -q 'libcudart'; then
  echo "prepare-device-carry: warning: the CUDA runtime is linked dynamically" >&2
fi
if [ -n "${NB_SHARED_SRC:-}" ]; then
  rm -rf "$root/shared/golden"
  mkdir -p "$root/shared"
  (cd "$NB_SHARED_SRC" && find golden -type f \( -name case.json -o -name '*.mat' -o -name '*.hkl' -o -name '*.txt' \) \
    -print0 | xargs -0 cp --parents -t "$root/shared")
  du -sh --apparent-size "$root/shared"
fi
ls -l "$carry/lib" "$carry/build-gpu/bin" "$carry/build-gpu/tests"
du -sh --apparent-size "$carry"
