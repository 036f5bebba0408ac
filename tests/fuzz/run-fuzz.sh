#!/usr/bin/env bash
# Long libFuzzer runs of every fuzz target, one after the other, and the
# executions per target and in total.
#
#   CC=clang meson setup build-fuzz -Dfuzz=true -Dsanitize=true -Dgst=disabled -Dcuda=disabled
#   ninja -C build-fuzz
#   tests/fuzz/run-fuzz.sh build-fuzz SECONDS_PER_TARGET [TARGET...]
#
# Targets default to every fuzz_* executable in BUILD/tests/fuzz. Each run
# grows its own corpus in BUILD/tests/fuzz/corpus/<target> (kept between
# runs), starting from the seeds and the committed regressions; crashes go
# to BUILD/tests/fuzz/crashes/<target>/ (minimize one with
# `fuzz_<target> -minimize_crash=1 FILE`, then commit it under
# tests/fuzz/regressions/<target>/ with the fix). Exits non-zero when any
# target crashed.
set -u
build=${1:?usage: run-fuzz.sh BUILD_DIR SECONDS_PER_TARGET [TARGET...]}
seconds=${2:?usage: run-fuzz.sh BUILD_DIR SECONDS_PER_TARGET [TARGET...]}
shift 2
src=$(cd "$(dirname "$0")" && pwd)
dir=$build/tests/fuzz
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for exe in "$dir"/fuzz_*; do
    [ -x "$exe" ] && [ -f "$exe" ] && targets+=("$(basename "$exe" | sed 's/^fuzz_//')")
  done
fi
seed_dir() { echo "$dir/seeds/$1"; } # as in meson.build: seeds/<target>

total=0
status=0
for t in "${targets[@]}"; do
  exe=$dir/fuzz_$t
  corpus=$dir/corpus/$t
  crashes=$dir/crashes/$t
  mkdir -p "$corpus" "$crashes"
  inputs=("$corpus")
  [ -d "$(seed_dir "$t")" ] && inputs+=("$(seed_dir "$t")")
  [ -d "$src/regressions/$t" ] && inputs+=("$src/regressions/$t")
  log=$dir/fuzz_$t.log
  # -rss_limit_mb: a model that makes the engine allocate gigabytes is a
  # finding too; -timeout: one input may not take more than 10 s
  "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$crashes/" "${inputs[@]}" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  execs=${execs:-0}
  total=$((total + execs))
  result=ok
  if [ $rc -ne 0 ]; then
    result="CRASH (exit $rc, see $log and $crashes)"
    status=1
  fi
  printf '%-12s %12s executions  %s\n' "$t" "$execs" "$result"
done
printf '%-12s %12s executions\n' total "$total"
exit $status
