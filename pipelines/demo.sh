#!/usr/bin/env bash
# The project's main job, end to end on a fresh Debian 12 machine: installs
# what is missing, builds, and runs the bundled classifier
# (pipelines/models/tiny_classifier.onnx, a small CNN over 32x32 RGB) with
# inferexec on seeded random input, printing its class probabilities and
# timing. Run as root or with sudo.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash pipelines/install-deps.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null
./build/engine/tools/inferexec --onnx pipelines/models/tiny_classifier.onnx \
  --shapes input:4x3x32x32 --print 10 --iterations 20
