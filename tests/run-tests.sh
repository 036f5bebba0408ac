#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: the normal build
# (unit, model, conformance and demo tests) and all of them again under
# AddressSanitizer + UndefinedBehaviorSanitizer. Run as root or with sudo.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash pipelines/install-deps.sh || exit 1
export PATH="$root/.venv/bin:$PATH"

status=0
total_ok=0
total_fail=0
total_skip=0

# Runs one build configuration's tests and adds up meson's counts.
run_config() {
  local dir=$1; shift
  local suites=$1; shift
  if [ ! -d "$dir" ]; then
    meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log"; status=1; return; }
  fi
  ninja -C "$dir" || { status=1; return; }
  local log
  log=$(mktemp)
  # shellcheck disable=SC2086
  meson test -C "$dir" --print-errorlogs $suites 2>&1 | tee "$log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  local ok fail skip
  ok=$(sed -n 's/^Ok: *\([0-9]*\).*/\1/p' "$log" | tail -1)
  fail=$(sed -n 's/^Fail: *\([0-9]*\).*/\1/p' "$log" | tail -1)
  skip=$(sed -n 's/^Skipped: *\([0-9]*\).*/\1/p' "$log" | tail -1)
  total_ok=$((total_ok + ${ok:-0}))
  total_fail=$((total_fail + ${fail:-0}))
  total_skip=$((total_skip + ${skip:-0}))
  rm -f "$log"
}

run_config build ""
run_config build-sanitize "" -Dsanitize=true

[ $status -ne 0 ] && [ $total_fail -eq 0 ] && total_fail=1
echo "tests: $total_ok passed, $total_fail failed, $total_skip skipped"
exit $status
