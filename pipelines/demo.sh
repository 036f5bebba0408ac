#!/usr/bin/env bash
# The project's main job, end to end on a fresh Debian 12 machine: installs
# what is missing (pipelines/install-deps.sh), builds (meson + ninja into
# build/), then runs the detection demo (pipelines/run_demo.sh): the bundled
# detector (pipelines/models/detector.onnx) finds the shapes moving through a
# synthetic 640x360 video on the GPU when one is present (CPU otherwise),
# inferoverlay draws them, and it writes to OUT (default ./demo-output):
#   demo.mp4 (demo.mkv without x264enc)  the annotated video
#   snapshot.png                         one annotated frame
#   detections.jsonl                     per-frame detections as JSON lines
# printing the JSON lines, the measured frames per second and how the
# detections match the video's ground truth. Run as root or with sudo.
#
# Usage: sudo pipelines/demo.sh [OUT]
# Environment: BACKEND (auto, cpu, cuda), FRAMES (60); see run_demo.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$PWD/demo-output}
cd "$root"
bash pipelines/install-deps.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null
BUILD="$root/build" exec pipelines/run_demo.sh "$out"
