#!/usr/bin/env bash
# Frame classification of a video file: the bundled classifier
# (pipelines/models/classifier.onnx, 96x96 input, 8 shape classes) labels
# every frame of a synthetic 320x320 video of one large moving shape
# (pipelines/make_demo_video.py), and build/pipelines/print_meta prints the
# frame classes of each frame as a JSON line ("classes": best first, top 3).
# Ends with the frame rate and the share of frames whose best class is the
# shape's true class.
#
# Usage: pipelines/classify_video.sh [OUT]   (default ./pipelines-output/classify)
# Environment: BUILD (./build), BACKEND (auto), FRAMES (60), QUIET=1 (no JSON lines).
source "$(dirname "$0")/lib.sh"
OUT=${1:-./pipelines-output/classify}
check_build
mkdir -p "$OUT"
make_video "$OUT/input" --frames "${FRAMES:-60}" --width 320 --height 320 --max-objects 1 \
  --rmin 80 --rmax 105 --seed 3
echo_flag=--echo
[ "${QUIET:-0}" = 1 ] && echo_flag=
"$PRINT_META" "$SRC ! infer $CLASSIFIER backend=$BACKEND top-k=3 threshold=0.05 !
               fakesink name=sink sync=false" |
  "$PYTHON" "$root/pipelines/report.py" $echo_flag --save "$OUT/classes.jsonl" --gt "$GT" \
    --check-classes "${MIN_ACCURACY:-0}"
echo "classify_video: wrote $OUT/classes.jsonl" >&2
