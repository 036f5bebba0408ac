#!/usr/bin/env bash
# INT8 calibration from a stream, then INT8 inference with the result: the
# infercalib element calibrates the bundled classifier
# (pipelines/models/classifier.onnx) on every INTERVAL-th frame of a
# synthetic 320x320 video of one moving shape (pipelines/make_demo_video.py)
# while the frames pass on, and writes a TensorRT-format calibration cache
# and the INT8 plan; then `infer precision=int8 calibration-cache=...`
# classifies every frame of the same video (build/pipelines/print_meta
# prints the frame classes as JSON lines) and the same run in FP32 follows.
# Ends with both runs' share of frames whose best class is the shape's true
# class (MIN_ACCURACY: the least the INT8 run must reach).
#
# Usage: pipelines/calibrate_int8.sh [OUT]   (default ./pipelines-output/calibrate_int8)
# Environment: BUILD (./build), BACKEND (auto), FRAMES (60), INTERVAL (2),
#   ALGORITHM (entropy), MIN_ACCURACY (0), QUIET=1 (no JSON lines).
source "$(dirname "$0")/lib.sh"
OUT=${1:-./pipelines-output/calibrate_int8}
check_build
have infercalib || die "the infercalib element is missing from $BUILD/gst/libgstinfer.so"
mkdir -p "$OUT"
make_video "$OUT/input" --frames "${FRAMES:-60}" --width 320 --height 320 --max-objects 1 \
  --rmin 80 --rmax 105 --seed 5
CACHE="$OUT/classifier.cache"
PLAN="$OUT/classifier-int8.plan"
rm -f "$CACHE" "$PLAN"
# infer's model and preprocessing properties, without the labels (decoding
# is not infercalib's business)
MODEL="model=\"$MODELS/classifier.onnx\" mean=0.5,0.5,0.5 std=0.5,0.5,0.5 backend=$BACKEND"

# 1. calibrate: -m prints the element messages; infercalib-done names the files
launch -m "$SRC ! infercalib $MODEL algorithm=${ALGORITHM:-entropy}
           interval=${INTERVAL:-2} max-frames=0 calibration-cache=\"$CACHE\"
           engine-cache=\"$PLAN\" ! fakesink sync=false" |
  grep -o 'infercalib-done.*' || die "no infercalib-done message"
[ -s "$CACHE" ] || die "no calibration cache at $CACHE"
[ -s "$PLAN" ] || die "no INT8 plan at $PLAN"
echo "calibrate_int8: $(($(wc -l < "$CACHE") - 1)) tensor scales in $CACHE ($(head -1 "$CACHE"))" >&2

# 2. classify with the cache (and the plan as engine cache), then in FP32
echo_flag=--echo
[ "${QUIET:-0}" = 1 ] && echo_flag=
for precision in int8 fp32; do
  extra=
  min=0
  if [ $precision = int8 ]; then
    extra="calibration-cache=\"$CACHE\" engine-cache=\"$PLAN\""
    min=${MIN_ACCURACY:-0}
  fi
  echo "calibrate_int8: $precision:" >&2
  "$PRINT_META" "$SRC ! infer $CLASSIFIER backend=$BACKEND precision=$precision $extra top-k=3
                 threshold=0.05 ! fakesink name=sink sync=false" |
    "$PYTHON" "$root/pipelines/report.py" $echo_flag --save "$OUT/classes-$precision.jsonl" \
      --gt "$GT" --check-classes "$min"
done
echo "calibrate_int8: wrote $CACHE, $PLAN, $OUT/classes-int8.jsonl, $OUT/classes-fp32.jsonl" >&2
