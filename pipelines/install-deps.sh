#!/usr/bin/env bash
# Installs what building, testing and the demo need on Debian 12, skipping
# what is already there: compilers and Meson, protobuf-c, GStreamer 1.22,
# ONNX's backend test data, and a Python environment (.venv) with onnx,
# onnxruntime and numpy for the test-model generator. Run as root or with sudo.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

pkgs="build-essential meson ninja-build pkg-config protobuf-c-compiler libprotobuf-c-dev
 libglib2.0-dev libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev gstreamer1.0-tools
 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
 gstreamer1.0-plugins-ugly libonnx-testdata python3 python3-venv
 python3-pip"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "install-deps: installing$missing"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq $missing >/dev/null
fi

venv="$root/.venv"
if [ ! -x "$venv/bin/python3" ] || ! "$venv/bin/python3" -c "import onnx, onnxruntime, numpy" 2>/dev/null; then
  echo "install-deps: creating $venv with onnx, onnxruntime, numpy"
  python3 -m venv "$venv"
  "$venv/bin/python3" -m pip install -q --upgrade pip >/dev/null
  "$venv/bin/python3" -m pip install -q onnx onnxruntime numpy
fi
echo "install-deps: ready"
