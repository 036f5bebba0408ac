#!/usr/bin/env bash
# Secondary inference: the bundled detector finds the shapes of a synthetic
# 640x360 video, then the bundled classifier runs in process-mode=roi on
# every detected object (its crop, letterboxed to 96x96) and adds its class
# to the object; inferoverlay writes both ("square 0.99 | square 0.97").
# print_meta prints each frame's objects with their classes as JSON lines;
# the script ends with the frame rate and how often the classifier agrees
# with the detector. Writes OUT/objects.jsonl.
#
# Usage: pipelines/secondary.sh [OUT]   (default ./pipelines-output/secondary)
# Environment: BUILD (./build), BACKEND (auto), FRAMES (60), QUIET=1 (no JSON lines).
source "$(dirname "$0")/lib.sh"
OUT=${1:-./pipelines-output/secondary}
check_build
mkdir -p "$OUT"
make_video "$OUT/input" --frames "${FRAMES:-60}" --width "${WIDTH:-640}" --height "${HEIGHT:-360}"
echo_flag=--echo
[ "${QUIET:-0}" = 1 ] && echo_flag=
"$PRINT_META" "$SRC ! infer name=detector $DETECTOR backend=$BACKEND !
               infer name=classifier $CLASSIFIER backend=$BACKEND process-mode=roi batch-size=8
                 batch-timeout=20000 top-k=1 !
               inferoverlay ! fakesink name=sink sync=false" |
  "$PYTHON" "$root/pipelines/report.py" $echo_flag --save "$OUT/objects.jsonl" \
    --check-secondary "${MIN_AGREEMENT:-0}"
echo "secondary: wrote $OUT/objects.jsonl" >&2
