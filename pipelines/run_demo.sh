#!/usr/bin/env bash
# The detection demo, without installing or building (pipelines/demo.sh
# does both, then runs this): the bundled detector (pipelines/models/
# detector.onnx, 8 shape classes) finds the shapes moving through a
# synthetic 640x360 video (pipelines/make_demo_video.py), inferoverlay draws
# them, and one pipeline writes
#   OUT/demo.mp4          the annotated video (H.264; demo.mkv with Motion
#                         JPEG when x264enc is missing)
#   OUT/snapshot.png      one annotated frame (frame SNAPSHOT_FRAME)
#   OUT/detections.jsonl  the detections of every frame, one JSON line each
#                         (also printed), read by build/pipelines/print_meta
# (the snapshot by a second run over that frame alone), then prints the
# measured frames per second and how the detections match
# the video's ground truth, and checks that the snapshot shows every box of
# its frame in its class colour.
#
# Usage: pipelines/run_demo.sh [OUT]   (default ./demo-output)
# Environment: BUILD, BACKEND (auto: GPU if present, CPU otherwise),
# FRAMES (60), WIDTH (640), HEIGHT (360), SNAPSHOT_FRAME (FRAMES / 2),
# QUIET=1 (no JSON lines on stdout).
source "$(dirname "$0")/lib.sh"
OUT=${1:-./demo-output}
FRAMES=${FRAMES:-60}
SNAPSHOT_FRAME=${SNAPSHOT_FRAME:-$((FRAMES / 2))}
[ "$SNAPSHOT_FRAME" -lt "$FRAMES" ] || die "SNAPSHOT_FRAME must be below FRAMES"
check_build
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
make_video "$OUT/input" --frames "$FRAMES" --width "${WIDTH:-640}" --height "${HEIGHT:-360}"
encoder_tail "$OUT/demo"
rm -f "$OUT/snapshot.png" "$OUT/demo.mp4" "$OUT/demo.mkv"

# The main pass: infer -> overlay -> tee: the encoder and the sink that
# print_meta reads.
desc="$SRC ! infer name=detector $DETECTOR backend=$BACKEND ! inferoverlay ! tee name=t
  t. ! queue ! $ENCODE
  t. ! queue ! fakesink name=sink sync=false"
echo "run_demo: $VFRAMES frames ${VW}x${VH}, backend $BACKEND" >&2
echo_flag=--echo
[ "${QUIET:-0}" = 1 ] && echo_flag=
start=$(now)
"$PRINT_META" "$desc" | "$PYTHON" "$root/pipelines/report.py" $echo_flag \
  --save "$OUT/detections.jsonl" || die "the pipeline failed"
end=$(now)

# The snapshot: frame SNAPSHOT_FRAME alone through the same elements, to PNG.
frame_bytes=$((VW * VH * 3))
"$PYTHON" -c 'import sys
src, size, index, dst = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
with open(src, "rb") as f:
    f.seek(size * index)
    open(dst, "wb").write(f.read(size))' "$OUT/input/video.rgb" "$frame_bytes" "$SNAPSHOT_FRAME" "$OUT/.frame.rgb"
launch -q "filesrc location=\"$OUT/.frame.rgb\" !
  rawvideoparse format=rgb width=$VW height=$VH framerate=30/1 !
  infer $DETECTOR backend=$BACKEND ! inferoverlay ! videoconvert ! pngenc !
  filesink location=\"$OUT/snapshot.png\"" >/dev/null
rm -f "$OUT/.frame.rgb"
[ -s "$OUTFILE" ] || die "no video was written to $OUTFILE"

# Check the snapshot: decode it back to RGB and look for every box of that
# frame on it, in its class colour.
launch -q "filesrc location=\"$OUT/snapshot.png\" ! pngdec ! videoconvert !
  video/x-raw,format=RGB ! filesink location=\"$OUT/.snapshot.rgb\""
status=0
"$PYTHON" "$root/pipelines/report.py" --gt "$GT" --check-detections 0.5 \
  --snapshot-rgb "$OUT/.snapshot.rgb" --snapshot-frame "$SNAPSHOT_FRAME" \
  <"$OUT/detections.jsonl" 2>&1 | grep -v '^frames:' >&2 || status=1
rm -f "$OUT/.snapshot.rgb"
echo "run_demo: whole run (engine build included) $(rate "$VFRAMES" "$start" "$end") frames/s" >&2
echo "run_demo: wrote $OUTFILE, $OUT/snapshot.png, $OUT/detections.jsonl" >&2
exit $status
