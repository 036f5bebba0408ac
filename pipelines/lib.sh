# shellcheck disable=SC2034  # the variables set here are for the scripts sourcing it
# Shared by the pipelines/ scripts (source it; not run on its own):
# where the build tree and models are, the synthetic input video, the
# encoder to use, and small helpers.
#
# Environment (all optional):
#   BUILD    the meson build tree (default: build/ in the repository);
#            GST_PLUGIN_PATH is set to $BUILD/gst
#   BACKEND  backend of the infer elements: auto (default: CUDA when built
#            and a GPU is present, else CPU), cpu or cuda
#   FRAMES, WIDTH, HEIGHT   size of the synthetic input (defaults per script)
#   PYTHON   a python3 with numpy (default: .venv/bin/python3, else python3)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$root/build}
case $BUILD in /*) ;; *) BUILD="$PWD/$BUILD" ;; esac
BACKEND=${BACKEND:-auto}
if [ -z "${PYTHON:-}" ]; then
  if [ -x "$root/.venv/bin/python3" ]; then PYTHON="$root/.venv/bin/python3"; else PYTHON=python3; fi
fi
MODELS="$root/pipelines/models"
PRINT_META="$BUILD/pipelines/print_meta"
export GST_PLUGIN_PATH="$BUILD/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"

# The bundled models with their preprocessing (x / 255, then (x - 0.5) / 0.5).
DETECTOR="model=\"$MODELS/detector.onnx\" labels=\"$MODELS/detector_labels.txt\" mean=0.5,0.5,0.5 std=0.5,0.5,0.5"
CLASSIFIER="model=\"$MODELS/classifier.onnx\" labels=\"$MODELS/classifier_labels.txt\" mean=0.5,0.5,0.5 std=0.5,0.5,0.5"

die() { echo "$(basename "$0"): $*" >&2; exit 1; }
# (not --exists: it also wants the plugin version to be GStreamer's, and infer is 0.x)
have() { gst-inspect-1.0 "$1" >/dev/null 2>&1; }
now() { date +%s.%N; }
# launch [gst-launch-1.0 options] DESCRIPTION: gst-launch-1.0 without its
# fault handler (which waits for a debugger on a crash). gst-launch-1.0
# takes the description as words (a location="..." word keeps its quotes
# for the parser), so DESCRIPTION is split here: no spaces in paths.
launch() {
  local desc=${!#}
  # shellcheck disable=SC2086
  gst-launch-1.0 --no-fault "${@:1:$#-1}" $desc
}
# rate N START END: N / (END - START), two decimals
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { d = b - a; printf "%.2f", (d > 0 ? n / d : 0) }'; }

check_build() {
  [ -e "$BUILD/gst/libgstinfer.so" ] || die "no plugin in $BUILD/gst: build first (meson setup build && ninja -C build), or set BUILD"
  have infer || die "GStreamer does not load $BUILD/gst/libgstinfer.so (gst-inspect-1.0 infer says why)"
  [ -x "$PRINT_META" ] || die "no $PRINT_META: build the tree first"
}

# make_video DIR [make_demo_video.py options]: writes (once) the synthetic
# video and sets SRC to a source description reading it, GT to its ground
# truth, and VW, VH, VFRAMES to its size.
make_video() {
  local dir=$1
  shift
  "$PYTHON" "$root/pipelines/make_demo_video.py" "$dir" "$@"
  GT="$dir/video.json"
  read -r VW VH VFRAMES < <("$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["width"], d["height"], d["frames"])' "$GT")
  SRC="filesrc location=\"$dir/video.rgb\" ! rawvideoparse format=rgb width=$VW height=$VH framerate=30/1"
}

# encoder_tail FILE_STEM: sets ENCODE to the end of a pipeline writing
# FILE_STEM.mp4 (H.264, x264enc from gstreamer1.0-plugins-ugly) or, without
# x264enc, FILE_STEM.mkv (Motion JPEG), and OUTFILE to the file name.
encoder_tail() {
  if have x264enc && have mp4mux; then
    OUTFILE="$1.mp4"
    ENCODE="videoconvert ! video/x-raw,format=I420 ! x264enc speed-preset=veryfast ! mp4mux ! filesink location=\"$OUTFILE\""
  else
    OUTFILE="$1.mkv"
    echo "$(basename "$0"): x264enc is missing (gstreamer1.0-plugins-ugly): writing Motion JPEG in Matroska" >&2
    ENCODE="videoconvert ! jpegenc ! matroskamux ! filesink location=\"$OUTFILE\""
  fi
}
