#!/usr/bin/env bash
# Many streams, one engine: STREAMS (16) branches, each reading the
# synthetic 640x360 video, run the bundled detector through infer elements
# that share one engine (model-instance-id=multistream) and fill batches of
# up to 16 frames together (batch-size=16, batch-timeout 50 ms). Each branch
# ends in fpsdisplaysink (text-overlay=false video-sink=fakesink; from
# gstreamer1.0-plugins-bad, a fakesink without it), whose last measurement
# is printed per stream, then the total frames per second of all streams.
#
# Usage: pipelines/multistream.sh [OUT]   (default ./pipelines-output/multistream:
#        the input video and the gst-launch log)
# Environment: BUILD (./build), BACKEND (auto), STREAMS (16), FRAMES (30 per stream).
source "$(dirname "$0")/lib.sh"
OUT=${1:-./pipelines-output/multistream}
STREAMS=${STREAMS:-16}
check_build
mkdir -p "$OUT"
make_video "$OUT/input" --frames "${FRAMES:-30}" --width "${WIDTH:-640}" --height "${HEIGHT:-360}"
if have fpsdisplaysink; then
  sink="fpsdisplaysink text-overlay=false video-sink=fakesink sync=false fps-update-interval=1000"
else
  echo "multistream: fpsdisplaysink is missing (gstreamer1.0-plugins-bad): fakesink, total fps only" >&2
  sink="fakesink sync=false"
fi
desc=""
for i in $(seq 0 $((STREAMS - 1))); do
  desc="$desc $SRC ! infer name=infer$i $DETECTOR backend=$BACKEND model-instance-id=multistream
        batch-size=16 batch-timeout=50000 ! $sink name=stream$i"
done
echo "multistream: $STREAMS streams of $VFRAMES frames ${VW}x${VH}, backend $BACKEND" >&2
start=$(now)
launch -v "$desc" >"$OUT/launch.log" 2>&1 || { tail -n 20 "$OUT/launch.log" >&2; die "the pipeline failed"; }
end=$(now)
# fpsdisplaysink's "last-message" notifications: the last one of each stream
if have fpsdisplaysink; then
  for i in $(seq 0 $((STREAMS - 1))); do
    m=$(grep -o "stream$i: last-message = rendered: .*" "$OUT/launch.log" | tail -n 1 || true)
    echo "${m:-stream$i: no measurement (ended within the first fps-update-interval)}"
  done
fi
total=$((STREAMS * VFRAMES))
echo "multistream: $total frames in $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') s:" \
     "$(rate "$total" "$start" "$end") frames/s over all streams (engine build included)"
