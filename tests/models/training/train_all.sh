#!/usr/bin/env bash
# Generate the synthetic data, train, export and evaluate both models.
#
#   bash tests/models/training/train_all.sh OUT_DIR [--quick] [--strict]
#
# Writes OUT_DIR/classifier.onnx, classifier_labels.txt, detector.onnx,
# detector_labels.txt, metrics.json (plus per-model *_metrics.json and logs)
# and prints a summary table last.  --quick: tiny data and one epoch, a
# pipeline check that runs on a CPU in a few minutes (accuracy meaningless).
# --strict: exit 3 when a full run misses an accuracy target.
# Environment: PYTHON (default python3); CLS_ARGS / DET_ARGS are appended to
# the train_classifier.py / train_detector.py command lines (e.g.
# DET_ARGS="--epochs 40").
set -euo pipefail

usage() { echo "usage: $0 OUT_DIR [--quick] [--strict]" >&2; exit 2; }
[ $# -ge 1 ] || usage
OUT=$1; shift
QUICK=()
STRICT=()
for a in "$@"; do
  case "$a" in
    --quick) QUICK=(--quick) ;;
    --strict) STRICT=(--strict) ;;
    *) usage ;;
  esac
done

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=${PYTHON:-python3}
export PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
rm -f "$OUT/metrics.json" "$OUT/classifier_metrics.json" "$OUT/detector_metrics.json"

trap 'echo "train_all.sh: FAILED (line $LINENO, status $?)" >&2' ERR
start=$(date +%s.%N)
echo "== train_all: out=$OUT ${QUICK[*]:-} python=$($PY -c 'import sys; print(sys.version.split()[0])')"
$PY -c 'import torch; print("== torch", torch.__version__, "cuda", torch.cuda.is_available(),
        torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")'
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version \
  --format=csv,noheader || true

echo "== classifier"
# shellcheck disable=SC2086
$PY "$HERE/train_classifier.py" --out "$OUT" "${QUICK[@]}" ${CLS_ARGS:-} 2>&1 \
  | tee "$OUT/classifier.log"
echo "== detector"
# shellcheck disable=SC2086
$PY "$HERE/train_detector.py" --out "$OUT" "${QUICK[@]}" ${DET_ARGS:-} 2>&1 \
  | tee "$OUT/detector.log"

for f in classifier.onnx classifier_labels.txt detector.onnx detector_labels.txt \
         classifier_metrics.json detector_metrics.json; do
  [ -s "$OUT/$f" ] || { echo "train_all.sh: missing $OUT/$f" >&2; exit 1; }
done
wall=$($PY -c "import time; print(round(time.time() - $start, 1))")
cmd="bash tests/models/training/train_all.sh OUT_DIR ${QUICK[*]:-} ${STRICT[*]:-} CLS_ARGS='${CLS_ARGS:-}' DET_ARGS='${DET_ARGS:-}'"
$PY "$HERE/summarize.py" "$OUT" "$wall" "$cmd" "${STRICT[@]}"
