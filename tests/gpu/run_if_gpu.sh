#!/bin/sh
# Runs the given command only where an NVIDIA GPU is present; elsewhere
# exits 77, which meson reports as a skipped test.
#   run_if_gpu.sh PROGRAM [ARGS...]
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then
  echo "skipped: no CUDA device (nvidia-smi -L lists no GPU)"
  exit 77
fi
exec "$@"
