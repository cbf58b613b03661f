#!/usr/bin/env bash
# Installs what is missing, builds everything and runs every test (CTest).
# Arguments are passed to ctest (e.g. -R trace), except:
#   --sanitize  build in build-sanitize/ with AddressSanitizer, LeakSanitizer
#               and UndefinedBehaviorSanitizer (NB_SANITIZE=ON, NB_CUDA=OFF,
#               NB_PCH=OFF; g++, or $NB_SANITIZE_CXX) and run the whole suite there. The tools the
#               tests spawn are that folder's sanitized binaries. A sanitizer
#               report from any process (test or tool) fails the run; reports
#               are kept in build-sanitize/sanitizer-logs/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

sanitize=0
ctest_args=()
for a in "$@"; do
  if [ "$a" = "--sanitize" ]; then sanitize=1; else ctest_args+=("$a"); fi
done

"$root/scripts/bootstrap.sh"

if [ "$sanitize" -eq 0 ]; then
  "$root/scripts/build.sh"
  cd "${NB_BUILD_DIR:-$root/build}"
  exec ctest --output-on-failure -j "${NB_JOBS:-$(nproc)}" "${ctest_args[@]}"
fi

build="${NB_SANITIZE_BUILD_DIR:-$root/build-sanitize}"
if [ ! -f "$build/build.ninja" ]; then
  # g++: the project's compiler (Debian's clang 14 lacks C++20's capture of
  # structured bindings, which libtrace/parity uses).
  cxx="${NB_SANITIZE_CXX:-g++}"
  launcher=()
  command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  # RelWithDebInfo: optimised as the tests expect (heavy simulations), with
  # line numbers in the reports.
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$cxx" \
    "${launcher[@]}" -DNB_SANITIZE=ON -DNB_CUDA=OFF -DNB_PCH=OFF >/dev/null
fi
NB_BUILD_DIR="$build" "$root/scripts/build.sh"

logs="$build/sanitizer-logs"
rm -rf "$logs"
mkdir -p "$logs"
# Every process of the run (tests and the tools they spawn) inherits these.
# log_path: reports go to files as well as failing the process, so a report
# from a tool whose exit code a test does not check is still seen. exitcode
# 99: a tool that reports exits with a code no test expects.
# Suppressions: tests/lsan.supp (leaks inside Open MPI, not ours).
export NB_TEST_BIN_DIR="$build/bin"
export ASAN_OPTIONS="detect_leaks=1:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1:exitcode=99:log_path=$logs/asan"
export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp:print_suppressions=0:exitcode=99"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=99:log_path=$logs/ubsan"
rc=0
(cd "$build" && ctest --output-on-failure -j "${NB_JOBS:-$(nproc)}" "${ctest_args[@]}") || rc=$?
reports=$(find "$logs" -type f | sort)
if [ -n "$reports" ]; then
  echo "test.sh: sanitizer reports ($(echo "$reports" | wc -l) processes):" >&2
  for f in $reports; do
    echo "--- $f" >&2
    head -n 60 "$f" >&2
  done
  [ "$rc" -ne 0 ] || rc=1
fi
exit "$rc"
