#!/usr/bin/env bash
# The GPU test run, for the machine with the GPU (nvcc, cuDNN, cuBLAS there;
# GStreamer from `source .gpu/on-device.sh`, done before). Builds with the
# CUDA backend into build-gpu (or $BUILD_DIR), runs `meson test --suite gpu`
# and prints a table of the results; with BENCH=1 then runs the benchmark
# against PyTorch (tests/bench/gpu_vs_pytorch.py, BENCH_ARGS passed on) and
# appends its table to $BENCH_OUT (default tests/bench/RESULTS.md). Exits
# non-zero when a test fails.
#   [BENCH=1] [MEMCHECK=1] [SOAK=SECONDS] tests/gpu/run_gpu_suite.sh [extra meson setup options]
# MEMCHECK=1 then runs the CUDA op tests (test_cuda_ops family by family,
# and the INT8 kernels) under compute-sanitizer's memcheck and prints the
# errors found per run. SOAK=SECONDS runs the 16-branch soak
# (tests/reliability/soak_multistream, the project's detector, FP16, memory
# sampled every SOAK_INTERVAL seconds, default 60) alongside the tests and
# prints its log at the end; its figures are memory, not speed. With
# SOAK_DETACH=1 the soak runs in its own session (setsid) and the script
# does not wait: it outlives the command that started it, and a later
# command reads $BUILD_DIR/soak.log (the build folder persists; /tmp may
# not), e.g. for a 30-minute run on a machine that limits one command.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
dir=${BUILD_DIR:-build-gpu}
export PATH=/usr/local/cuda/bin:$PATH

# cuDNN may come with the toolkit or as NVIDIA's Python wheel; make the
# compiler, the linker and the loader see it either way.
if ! ls /usr/local/cuda/lib64/libcudnn.so >/dev/null 2>&1 && \
   ! ldconfig -p 2>/dev/null | grep -q 'libcudnn.so '; then
  wheel=$(python3 -c 'import nvidia.cudnn, os; print(os.path.dirname(nvidia.cudnn.__file__))' \
          2>/dev/null || true)
  if [ -n "$wheel" ] && [ -d "$wheel/lib" ]; then
    links=$root/$dir.cudnn
    mkdir -p "$links"
    for so in "$wheel"/lib/libcudnn*.so.*; do
      base=$(basename "$so"); ln -sf "$so" "$links/${base%%.so.*}.so"
    done
    export CPATH=$wheel/include${CPATH:+:$CPATH}
    export LIBRARY_PATH=$links${LIBRARY_PATH:+:$LIBRARY_PATH}
    export LD_LIBRARY_PATH=$wheel/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    echo "cuDNN from the Python wheel: $wheel"
  fi
fi

echo "== device"
nvidia-smi -L || echo "nvidia-smi: no GPU listed"
nvcc --version | tail -1

echo "== build ($dir, -Dcuda=enabled)"
if [ -d "$dir" ]; then
  meson configure "$dir" -Dcuda=enabled "$@" >/dev/null || exit 1
else
  meson setup "$dir" -Dcuda=enabled "$@" || exit 1
fi
# everything (the gpu suite spans tests/gpu, plugins, caffe and the element)
ninja -C "$dir" || exit 1

soak_pid=
if [ -n "${SOAK:-}" ]; then
  echo "== soak: $SOAK s in the background ($dir/soak.log)"
  soak=(env GST_PLUGIN_PATH="$root/$dir/gst" "$root/$dir/tests/reliability/soak_multistream"
        "$root/pipelines/models/detector.onnx" "$SOAK" "${SOAK_INTERVAL:-60}" cuda fp16)
  if [ "${SOAK_DETACH:-0}" = 1 ]; then
    setsid nohup "${soak[@]}" >"$root/$dir/soak.log" 2>&1 </dev/null &
    echo "soak detached (pid $!): read $root/$dir/soak.log when it says 'soak: finished'"
  else
    "${soak[@]}" >"$dir/soak.log" 2>&1 &
    soak_pid=$!
  fi
fi

echo "== meson test --suite gpu"
meson test -C "$dir" --no-rebuild --suite gpu --print-errorlogs ${GPU_TESTS:-}
rc=$?

echo "== results"
python3 - "$dir/meson-logs/testlog.json" <<'PY'
import json, re, sys
rows = []
for line in open(sys.argv[1]):
    t = json.loads(line)
    out = t.get("stdout") or ""
    summary = ""
    for pat in (r"cuda_ops: .*", r"conformance: \d+ passed.*", r"skipped.*"):
        m = re.findall(pat, out)
        if m:
            summary = m[-1]
            break
    rows.append((t["name"], t["result"], "%.1f s" % t.get("duration", 0), summary))
w = [max(len(r[i]) for r in rows + [("test", "result", "time", "summary")]) for i in range(4)]
for r in [("test", "result", "time", "summary")] + rows:
    print("  ".join(r[i].ljust(w[i]) for i in range(4)))
PY
if [ "${MEMCHECK:-0}" = 1 ]; then
  echo "== compute-sanitizer memcheck"
  if ! command -v compute-sanitizer >/dev/null; then
    echo "compute-sanitizer: not found"; rc=1
  else
    runs=()
    for fam in elementwise nn reduce movement pad_resize generators; do
      runs+=("cuda_ops $fam|$dir/tests/gpu/test_cuda_ops $fam")
    done
    [ -x "$dir/tests/int8/test_int8_gpu" ] && runs+=("int8_gpu ops|$dir/tests/int8/test_int8_gpu ops")
    for r in "${runs[@]}"; do
      name=${r%%|*}; cmd=${r#*|}
      log=$dir/memcheck-${name// /_}.log
      # shellcheck disable=SC2086
      timeout "${MEMCHECK_TIMEOUT:-300}" compute-sanitizer --tool memcheck --error-exitcode 3 $cmd >"$log" 2>&1
      mrc=$?
      errors=$(sed -n 's/^========= ERROR SUMMARY: \([0-9]*\) error.*/\1/p' "$log" | tail -1)
      verdict=$([ "$mrc" = 0 ] && echo clean || ([ "$mrc" = 124 ] && echo "timed out") || echo "exit $mrc")
      printf '  memcheck %-22s %-10s errors: %s  (%s)\n' "$name" "$verdict" "${errors:-?}" \
        "$(grep -E '^(cuda_ops|int8_gpu)[^:]*: [0-9]+ passed' "$log" | tail -1)"
      [ "$mrc" = 0 ] || [ "$mrc" = 124 ] || rc=1
    done
  fi
fi
if [ -n "$soak_pid" ]; then
  echo "== soak (waiting for it to finish)"
  wait "$soak_pid" || rc=1
  cat "$dir/soak.log"
fi
if [ "${BENCH:-0}" = 1 ]; then
  echo "== benchmark against PyTorch"
  # shellcheck disable=SC2086
  python3 tests/bench/gpu_vs_pytorch.py --inferexec "$dir/engine/tools/inferexec" \
    --out "${BENCH_OUT:-tests/bench/RESULTS.md}" ${BENCH_ARGS:-} || rc=1
fi
exit $rc
