#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang, ASan+UBSan, in
# build-fuzz/) and runs each for a bounded time, one after the other.
#
#   scripts/fuzz.sh [--time SECONDS] [TARGET...]
#
# TARGET: trace manifest hkl mat smv (default: all), with or without the
# fuzz_ prefix. --time: seconds per target (default 600).
# Each target's corpus starts from its committed seeds (tests/fuzz/seeds/)
# and the reference data of ../shared (traces, logs, HKL, -mat, SMV files),
# copied into a scratch folder: build-fuzz/fuzz-runs/<target>/corpus (kept
# between runs, so coverage carries over; delete it to start afresh).
# Prints, per target: executions, exec/s, coverage (libFuzzer's cov and ft)
# and findings (crash, leak, timeout and out-of-memory reproducers in
# build-fuzz/fuzz-runs/<target>/findings). Exits 1 when any target found
# something, 2 when a target could not run.
# Environment: NB_FUZZ_BUILD_DIR (build-fuzz), NB_SHARED_DIR (../shared),
# NB_JOBS (build jobs), NB_FUZZ_NICE (niceness, 10).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${NB_FUZZ_BUILD_DIR:-$root/build-fuzz}"
shared="${NB_SHARED_DIR:-$root/../shared}"
all_targets=(trace manifest hkl mat smv)

usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; }

seconds=600
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --time) [ $# -ge 2 ] || { echo "fuzz.sh: error: --time needs SECONDS" >&2; exit 1; }
            seconds="$2"; shift 2 ;;
    --time=*) seconds="${1#--time=}"; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "fuzz.sh: error: unknown option $1 (see --help)" >&2; exit 1 ;;
    *) t="${1#fuzz_}"
       case " ${all_targets[*]} " in *" $t "*) targets+=("$t") ;;
         *) echo "fuzz.sh: error: unknown target $1 (targets: ${all_targets[*]})" >&2; exit 1 ;; esac
       shift ;;
  esac
done
case "$seconds" in ''|*[!0-9]*) echo "fuzz.sh: error: --time takes whole seconds, not '$seconds'" >&2; exit 1 ;; esac
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")

if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
    -DNB_FUZZ=ON -DNB_PCH=OFF -DNB_CUDA=OFF -DNB_MPI=OFF -DNB_BUILD_BENCH=OFF >/dev/null
fi
ninja -C "$build" -j "${NB_JOBS:-$(nproc)}" "${targets[@]/#/fuzz_}" |
  { grep -v -E '^(\[[0-9]+/[0-9]+\]|ninja: (Entering|no work))' || true; }

# Reference files each target starts from (all optional: without ../shared
# the committed seeds alone are used).
shared_seeds() {
  case "$1" in
    trace) ls "$shared"/golden/*/*.log 2>/dev/null ;;
    manifest) find "$root/bundles" "$shared/seed-bundle" -name 'sha256*.txt' 2>/dev/null ;;
    hkl) ls "$shared"/inputs/*.hkl "$shared"/golden/*/*.hkl 2>/dev/null ;;
    mat) ls "$shared"/inputs/*.mat 2>/dev/null ;;
    smv) ls "$shared"/golden/*/*.img 2>/dev/null ;;
  esac
}
# Longest input per target (bytes): the seeds' size, so mutations stay fast.
max_len() {
  case "$1" in
    trace) echo 16384 ;; manifest) echo 4096 ;; hkl) echo 4096 ;; mat) echo 512 ;; smv) echo 9000 ;;
  esac
}

runs="$build/fuzz-runs"
found=0
failed=0
summary=()
for t in "${targets[@]}"; do
  dir="$runs/$t"
  corpus="$dir/corpus"
  findings="$dir/findings"
  mkdir -p "$corpus" "$findings"
  cp -f "$root/tests/fuzz/seeds/$t"/* "$corpus"/ 2>/dev/null || true
  while IFS= read -r f; do
    [ -n "$f" ] || continue
    rel="${f#"$shared"/}"
    rel="${rel#"$root"/}"
    cp -f "$f" "$corpus/shared_${rel//\//_}"
  done < <(shared_seeds "$t")
  dict=()
  [ -f "$root/tests/fuzz/dicts/$t.dict" ] && dict=(-dict="$root/tests/fuzz/dicts/$t.dict")
  log="$dir/fuzz.log"
  before=$(find "$findings" -type f | wc -l)
  echo "fuzz_$t: ${seconds} s, corpus $(ls "$corpus" | wc -l) files, log $log"
  rc=0
  # -timeout: one input over 30 s is a finding (a hang; a grid near the HKL
  # reader's 1 GiB limit takes seconds under ASan); -rss_limit_mb: the
  # default 2 GiB; -print_final_stats: executions and exec/s at the end.
  nice -n "${NB_FUZZ_NICE:-10}" "$build/fuzz/fuzz_$t" "$corpus" "${dict[@]}" \
    -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=30 -rss_limit_mb=2048 \
    -artifact_prefix="$findings/" -print_final_stats=1 >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -E '^#[0-9]+' "$log" | grep -o 'cov: [0-9]*' | tail -1 | cut -d' ' -f2)
  ft=$(grep -E '^#[0-9]+' "$log" | grep -o 'ft: [0-9]*' | tail -1 | cut -d' ' -f2)
  units=$(ls "$corpus" | wc -l)
  new=$(($(find "$findings" -type f | wc -l) - before))
  if [ "$new" -gt 0 ] || { [ "$rc" -ne 0 ] && grep -q -E '^==[0-9]+==ERROR|^SUMMARY: |deadly signal|libFuzzer: (timeout|out-of-memory)' "$log"; }; then
    verdict="FOUND ($new new in $findings; see $log)"
    found=1
  elif [ "$rc" -ne 0 ]; then
    verdict="DID NOT RUN (exit $rc; see $log)"
    failed=1
  else
    verdict="nothing found"
  fi
  line="fuzz_$t: ${seconds} s, ${execs:-?} executions, ${rate:-?} exec/s, cov ${cov:-?}, ft ${ft:-?}, corpus ${units}, ${verdict}"
  echo "$line"
  summary+=("$line")
done

echo
echo "fuzz summary ($(date -u +%Y-%m-%dT%H:%M:%SZ)):"
printf '  %s\n' "${summary[@]}" | tee -a "$runs/summary.txt"
[ "$found" -eq 0 ] || exit 1
[ "$failed" -eq 0 ] || exit 2
