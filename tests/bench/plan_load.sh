#!/usr/bin/env bash
# Benchmark: how long loading a plan file of ResNet-50 size takes.
# Builds ResNet-50 (onnx's "light" test model: the real architecture, its
# ~100 MB of weights made by ConstantOfShape and folded at build time),
# saves the plan, then loads it N times with inferexec and prints the
# median "plan load" time. Usage: tests/bench/plan_load.sh [BUILD_DIR] [N]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
runs=${2:-7}
python=${PYTHON:-python3}
[ -x "$root/.venv/bin/python3" ] && python="$root/.venv/bin/python3"
model=$("$python" -c "import onnx, os; print(os.path.join(os.path.dirname(onnx.__file__), 'backend/test/data/light/light_resnet50.onnx'))")
[ -f "$model" ] || { echo "plan_load: $model not found (pip install onnx)"; exit 1; }
plan=$(mktemp --suffix=.plan)
trap 'rm -f "$plan"' EXIT
"$build/engine/tools/inferexec" --onnx "$model" --save-engine "$plan" --iterations 1 --warmup 0 \
  >/dev/null 2>&1
size=$(stat -c %s "$plan")
times=()
for _ in $(seq "$runs"); do
  t=$("$build/engine/tools/inferexec" --load-engine "$plan" --iterations 1 --warmup 0 2>/dev/null |
      sed -n 's/^plan load: \([0-9.]*\) ms/\1/p')
  times+=("$t")
done
median=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "plan_load: resnet50 plan $((size / 1048576)) MiB, load median ${median} ms over $runs runs (${times[*]})"
