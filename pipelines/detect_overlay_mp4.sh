#!/usr/bin/env bash
# Detection drawn into an MP4: the bundled detector finds the shapes of a
# synthetic 640x360 video, inferoverlay draws boxes and labels, and
# x264enc + mp4mux write OUT/detections.mp4 (x264enc is in
# gstreamer1.0-plugins-ugly; without it, Motion JPEG in OUT/detections.mkv).
# The file is decoded back once (when a decoder is installed) to check
# that it holds every frame.
# Prints the frame rate of the whole run (engine build included).
#
# Usage: pipelines/detect_overlay_mp4.sh [OUT]   (default ./pipelines-output/detect)
# Environment: BUILD (./build), BACKEND (auto), FRAMES (60), WIDTH (640), HEIGHT (360).
source "$(dirname "$0")/lib.sh"
OUT=${1:-./pipelines-output/detect}
check_build
mkdir -p "$OUT"
make_video "$OUT/input" --frames "${FRAMES:-60}" --width "${WIDTH:-640}" --height "${HEIGHT:-360}"
encoder_tail "$OUT/detections"
start=$(now)
launch -q -e "$SRC ! infer $DETECTOR backend=$BACKEND ! inferoverlay line-thickness=3 ! $ENCODE"
end=$(now)
[ -s "$OUTFILE" ] || die "nothing was written to $OUTFILE"
# decode it back: count the frames (needs an H.264 decoder for the .mp4:
# gstreamer1.0-libav's avdec_h264 or plugins-bad's openh264dec)
summary="$VFRAMES frames, $(stat -c %s "$OUTFILE") bytes in $OUTFILE; $(rate "$VFRAMES" "$start" "$end") frames/s (whole run)"
if n=$("$PRINT_META" "filesrc location=\"$OUTFILE\" ! decodebin ! fakesink name=sink" 2>"$OUT/decode.log" |
       grep -c '^{'); then
  echo "detect_overlay_mp4: $summary; $n frames decoded back"
  [ "$n" -eq "$VFRAMES" ] || die "expected $VFRAMES frames in $OUTFILE, found $n"
else
  echo "detect_overlay_mp4: $summary; not decoded back (no decoder for it here, see $OUT/decode.log)"
fi
