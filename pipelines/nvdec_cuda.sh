#!/usr/bin/env bash
# GPU only: decode H.264 on the GPU (nvh264dec, NVDEC), detect on the GPU
# (infer backend=cuda), draw with inferoverlay on the GPU and encode with
# x264enc to OUT/nvdec_cuda.mp4; prints the frame rate. The input is the
# synthetic 640x360 video encoded once to H.264 (x264enc, or nvh264enc
# without it). Frames stay in CUDA memory (memory:CUDAMemory) from the
# decoder through infer (read in place) and inferoverlay (drawn in place);
# cudadownload brings them to system memory only for the encoder. The
# detections are read where they are drawn (print_meta probes the element
# named "sink", here inferoverlay): cudadownload, like other base
# transforms, drops metadata tagged as video-dependent (as it does
# GstVideoRegionOfInterestMeta). No tee in CUDA memory: with one, the
# encoder branch's queue held decoder surfaces while x264enc filled its
# look-ahead, and the pipeline stalled on the H200. Exits 0 with a message
# when there is no NVIDIA decoder (nvh264dec and cudadownload come with
# gstreamer1.0-plugins-bad and are only registered when an NVIDIA driver and
# GPU are present).
#
# Usage: pipelines/nvdec_cuda.sh [OUT]   (default ./pipelines-output/nvdec)
# Environment: BUILD (./build), FRAMES (300), WIDTH (640), HEIGHT (360).
source "$(dirname "$0")/lib.sh"
OUT=${1:-./pipelines-output/nvdec}
if ! have nvh264dec || ! have cudadownload; then
  echo "nvdec_cuda: no NVIDIA decoder here (nvh264dec, cudadownload: gstreamer1.0-plugins-bad with an NVIDIA driver and GPU); nothing to do"
  exit 0
fi
if have x264enc; then h264enc="x264enc speed-preset=veryfast"
elif have nvh264enc; then h264enc="nvh264enc"
else
  echo "nvdec_cuda: no H.264 encoder (x264enc from gstreamer1.0-plugins-ugly, or nvh264enc) to make the input; nothing to do"
  exit 0
fi
check_build
mkdir -p "$OUT"
make_video "$OUT/input" --frames "${FRAMES:-300}" --width "${WIDTH:-640}" --height "${HEIGHT:-360}"
input="$OUT/input/video-h264.mp4"
if [ ! -s "$input" ] || [ "$input" -ot "$OUT/input/video.rgb" ]; then
  launch -q -e "$SRC ! videoconvert ! video/x-raw,format=I420 ! $h264enc ! h264parse ! mp4mux !
    filesink location=\"$input\""
fi
encoder_tail "$OUT/nvdec_cuda"
start=$(now)
"$PRINT_META" "filesrc location=\"$input\" ! qtdemux ! h264parse ! nvh264dec !
               video/x-raw(memory:CUDAMemory) !
               infer $DETECTOR backend=cuda ! inferoverlay name=sink ! cudadownload ! $ENCODE" |
  "$PYTHON" "$root/pipelines/report.py" --save "$OUT/detections.jsonl" --gt "$GT" \
    --check-detections 0
end=$(now)
echo "nvdec_cuda: wrote $OUTFILE; $(rate "$VFRAMES" "$start" "$end") frames/s (whole run)"
