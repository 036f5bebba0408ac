#!/usr/bin/env bash
# GPU only: throughput of the infer element on 1080p NV12 frames that are
# already in CUDA memory, against the engine alone on the same plan.
#
#   element: videotestsrc ! NV12 1920x1080 ! cudaupload ! imagefreeze !
#            infer backend=cuda batch-size=64 precision=fp16 ! fpsdisplaysink
#            (one frame uploaded once and repeated by imagefreeze, so that
#            neither videotestsrc nor the upload bounds the rate: what is
#            measured is the element's preprocessing from CUDA memory,
#            batching, inference, result download and decoding)
#   engine:  inferexec --load-engine PLAN --batch 64 --no-data-transfers
#            (the plan the element built and saved through engine-cache)
#
# Prints both rates and their ratio (the goal is >= 90%), then, for
# reference, the rate with a new frame drawn and uploaded every time
# (videotestsrc ! cudaupload ! infer, bound by the CPU drawing 1080p frames).
#
# The model is ResNet-18 from torchvision (random weights, exported to ONNX
# with a dynamic batch) when python3 has torch and torchvision, else the
# bundled pipelines/models/classifier.onnx.
#
# Usage: pipelines/bench_cuda_nv12.sh [OUT]   (default ./pipelines-output/bench_cuda)
# Environment: BUILD (./build, a tree configured with -Dcuda=enabled),
#   FRAMES (frames per element run, default 64000), BATCH (64),
#   PRECISION (fp16), LIVE_FRAMES (frames of the reference run, 2000; 0: skip it).
source "$(dirname "$0")/lib.sh"
OUT=${1:-./pipelines-output/bench_cuda}
FRAMES=${FRAMES:-64000}
BATCH=${BATCH:-64}
PRECISION=${PRECISION:-fp16}
LIVE_FRAMES=${LIVE_FRAMES:-2000}

for e in infer cudaupload imagefreeze fpsdisplaysink; do
  have "$e" || die "no $e element (infer: GST_PLUGIN_PATH=$BUILD/gst; cudaupload: gstreamer1.0-plugins-bad's nvcodec with an NVIDIA driver; fpsdisplaysink and imagefreeze: plugins-bad / -good)"
done
INFEREXEC="$BUILD/engine/tools/inferexec"
[ -x "$INFEREXEC" ] || die "no $INFEREXEC: build the tree first"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# ---- the model ---------------------------------------------------------------------------
model="$OUT/resnet18.onnx"
norm="mean=0.485,0.456,0.406 std=0.229,0.224,0.225"
if [ ! -s "$model" ]; then
  "$PYTHON" - "$model" <<'PY' || true
import sys
try:
    import torch, torchvision
except ImportError:
    sys.exit(1)
m = torchvision.models.resnet18(weights=None).eval()
x = torch.randn(1, 3, 224, 224)
kw = dict(input_names=["input"], output_names=["output"], opset_version=17,
          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
try:
    torch.onnx.export(m, x, sys.argv[1], dynamo=False, **kw)
except TypeError:
    torch.onnx.export(m, x, sys.argv[1], **kw)
PY
fi
if [ -s "$model" ]; then
  name="resnet18 (torchvision, random weights)"
else
  model="$MODELS/classifier.onnx"
  norm="mean=0.5,0.5,0.5 std=0.5,0.5,0.5"
  name="pipelines/models/classifier.onnx (no torchvision here)"
fi
plan="$OUT/$(basename "$model" .onnx)-b$BATCH-$PRECISION.plan"
INFER="infer model=$model $norm backend=cuda batch-size=$BATCH precision=$PRECISION
       engine-cache=$plan max-frames-in-flight=$((3 * BATCH))"
# src1080 N: N frames of 1080p NV12 from videotestsrc
src1080() {
  echo "videotestsrc pattern=smpte num-buffers=$1 !
        video/x-raw,format=NV12,width=1920,height=1080,framerate=30/1"
}

# fpsdisplaysink's last-message lines ("rendered: N, dropped: D, current: C,
# average: A"): the median of the rates over whole intervals (the first and
# last cut off: start-up and the partial end), and the last average.
fps_of() {
  local cur avg
  cur=$(grep -o 'current: [0-9.]*' "$1" | awk '{ print $2 }' || true)
  avg=$(grep -o 'average: [0-9.]*' "$1" | tail -1 | awk '{ print $2 }' || true)
  if [ "$(printf '%s\n' "$cur" | grep -c .)" -gt 2 ]; then cur=$(printf '%s\n' "$cur" | sed '1d;$d'); fi
  printf '%s\n' "$cur" | grep . | sort -g |
    awk -v a="${avg:-0}" '{ v[NR] = $1 } END { printf "%.1f %.1f\n", NR ? v[int((NR + 1) / 2)] : 0, a }'
}

run_element() { # LOG HEAD: the pipeline with HEAD as its source part
  launch -v "$2 ! $INFER ! fpsdisplaysink video-sink=fakesink text-overlay=false sync=false
             fps-update-interval=500 signal-fps-measurements=false" >"$1" 2>&1 ||
    { tail -20 "$1"; die "the pipeline failed (log: $1)"; }
}

echo "model: $name; batch $BATCH, $PRECISION; plan $plan"
echo "== building the plan (first run; not timed)"
rm -f "$plan"
run_element "$OUT/build.log" "$(src1080 1) ! cudaupload ! imagefreeze num-buffers=$((2 * BATCH))"
[ -s "$plan" ] || die "the element did not write $plan (log: $OUT/build.log)"

echo "== element: $FRAMES frames of 1080p NV12 in CUDA memory"
GST_DEBUG=${GST_DEBUG:-infer:4} run_element "$OUT/element.log" \
  "$(src1080 1) ! cudaupload ! imagefreeze num-buffers=$FRAMES"
read -r el_fps el_avg < <(fps_of "$OUT/element.log")
path=$(grep -o 'reach the GPU [a-z ]*' "$OUT/element.log" | head -1)
echo "element: $el_fps frames/s (median of 0.5 s intervals; whole-run average $el_avg); frames ${path:-?}"

echo "== engine only: inferexec --load-engine --batch $BATCH"
"$INFEREXEC" --load-engine "$plan" --batch "$BATCH" --iterations 400 --warmup 20 \
  --no-data-transfers >"$OUT/inferexec.log" 2>&1 || { tail -20 "$OUT/inferexec.log"; die "inferexec failed"; }
qps=$(sed -n 's/^Throughput: \([0-9.]*\) qps.*/\1/p' "$OUT/inferexec.log" | tail -1)
eng=$(awk -v q="$qps" -v b="$BATCH" 'BEGIN { printf "%.1f", q * b }')
echo "engine: $eng images/s ($qps batches/s)"

# parenthesized: a bare '>' in awk's printf arguments redirects the output
ratio=$(awk -v a="$el_fps" -v b="$eng" 'BEGIN { printf "%.1f", (b > 0 ? 100 * a / b : 0) }')
verdict=$(awk -v r="$ratio" 'BEGIN { print (r >= 90 ? "meets" : "below") }')
echo "RESULT element $el_fps frames/s, engine $eng images/s: $ratio% of the engine ($verdict the 90% goal)"

if [ "$LIVE_FRAMES" -gt 0 ]; then
  echo "== reference: a new frame drawn and uploaded each time ($LIVE_FRAMES frames)"
  run_element "$OUT/live.log" "$(src1080 "$LIVE_FRAMES") ! cudaupload"
  read -r live_fps live_avg < <(fps_of "$OUT/live.log")
  echo "videotestsrc ! cudaupload ! infer: $live_fps frames/s (average $live_avg; bound by the source)"
fi
