#!/usr/bin/env bash
# For every model folder given: inferexec builds and saves a plan, loads it
# back with --compare, and must print a summary and a compare line per
# output with zero error (the plan runs the same kernels as the reference).
set -euo pipefail
inferexec=$1; shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0; n=0
for dir in "$@"; do
  for model in "$dir"/*/model.onnx; do
    name=$(basename "$(dirname "$model")")
    n=$((n + 1))
    # strict FP32 at build and eager runs at load: the switches a GPU user
    # reaches for (no-ops on the CPU, which must still accept them)
    if ! "$inferexec" --backend cpu --onnx "$model" --save-engine "$tmp/$name.plan" --iterations 2 --warmup 1 \
         --no-tf32 >"$tmp/build.log" 2>&1; then
      echo "FAIL $name: build/save"; cat "$tmp/build.log"; fail=$((fail + 1)); continue
    fi
    if ! "$inferexec" --backend cpu --load-engine "$tmp/$name.plan" --compare --iterations 2 --warmup 1 \
         --no-cuda-graph \
         >"$tmp/load.log" 2>&1; then
      echo "FAIL $name: load/compare"; cat "$tmp/load.log"; fail=$((fail + 1)); continue
    fi
    if ! grep -q '^Throughput: [0-9.]* qps' "$tmp/load.log" ||
       ! grep -q '^compare ' "$tmp/load.log" ||
       grep '^compare ' "$tmp/load.log" | grep -qv 'max_abs=0 max_rel=0$'; then
      echo "FAIL $name: summary or compare lines"; cat "$tmp/load.log"; fail=$((fail + 1)); continue
    fi
    echo "ok $name: $(grep -c '^compare ' "$tmp/load.log") outputs equal"
  done
done
echo "inferexec_roundtrip: $((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$n" -gt 0 ]
