#!/usr/bin/env bash
# INT8 accuracy of the project's own models (pipelines/models/).
#
#   tests/models/eval/int8_accuracy.sh BUILD_DIR cpu|cuda [OUT_DIR]
#
# 1. calibration samples of the 'calib' split, preprocessed as evaluate.py's
#    inferexec path does it (RGB, u8 * 2/255 - 1, NCHW): 256 classifier crops
#    (96x96) and 64 detector scenes (320x320), one TensorProto batch each;
# 2. infer-calibrate --algo entropy on BACKEND -> OUT_DIR/{classifier,detector}.cache;
# 3. evaluate.py --path inferexec on the test split (classifier: crops 0..999,
#    top-1; detector: scenes 0..99, mAP@0.5 and mAP@0.5:0.95), FP32 and INT8;
# 4. inferexec --dump-graph of each INT8 engine: Conv/Gemm layers that run in INT8.
# Prints a table; logs, JSON results and graph dumps stay in OUT_DIR (default:
# a new temporary folder). Takes about 13 minutes on a 2-core CPU (BACKEND=cpu;
# calibration 2 1/4 min, classifier FP32 + INT8 7 min, detector 4 min); needs
# python3 with numpy and onnx. BATCH (default 100): samples per inferexec run;
# each run builds its engine, so on a GPU, where the build (tactic timing)
# dominates, use BATCH=1000.
set -euo pipefail

if [[ $# -lt 2 || $# -gt 3 || ( $2 != cpu && $2 != cuda ) ]]; then
  echo "usage: $0 BUILD_DIR cpu|cuda [OUT_DIR]" >&2
  exit 2
fi
BUILD=$(cd "$1" && pwd)
BACKEND=$2
OUT=${3:-$(mktemp -d "${TMPDIR:-/tmp}/int8-accuracy.XXXXXX")}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
PY=${PYTHON:-python3}
BATCH=${BATCH:-100}
CALIBRATE=$BUILD/calibration/tools/infer-calibrate
INFEREXEC=$BUILD/engine/tools/inferexec
for f in "$CALIBRATE" "$INFEREXEC"; do
  [[ -x $f ]] || { echo "$0: $f is missing (ninja -C $BUILD)" >&2; exit 2; }
done
step() { echo "[$(date +%T) +${SECONDS}s] $*" >&2; }

step "calibration samples (calib split) -> $OUT/calib-{classifier,detector}/input.pb"
"$PY" - "$HERE" "$OUT" <<'EOF'
import os, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import evaluate as ev
from onnx import numpy_helper
for model, images in (("classifier", ev.classifier_samples("calib", 0, 256)[0]),
                      ("detector", ev.detector_samples("calib", 0, 64, ev.DET_SIZE, ev.DET_SIZE)[0])):
    size = images.shape[1]
    x = np.stack([ev.normalize(ev.letterbox(im, size, size)[0]) for im in images])
    d = os.path.join(sys.argv[2], "calib-" + model)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "input.pb"), "wb") as f:
        f.write(numpy_helper.from_array(x, "input").SerializeToString())
EOF

for m in classifier detector; do
  step "infer-calibrate --algo entropy: $m"
  "$CALIBRATE" --onnx "$ROOT/pipelines/models/$m.onnx" --data "$OUT/calib-$m" \
    --cache "$OUT/$m.cache" --algo entropy --batch 8 --backend "$BACKEND" --verbose \
    2>&1 | tee "$OUT/calibrate-$m.log" >&2
done

for m in classifier detector; do
  if [[ $m == classifier ]]; then count=1000 size=96; else count=100 size=320; fi
  for p in fp32 int8; do
    step "evaluate.py: $m $p ($count test samples, $BACKEND)"
    calib=()
    [[ $p == int8 ]] && calib=(--calib "$OUT/$m.cache")
    "$PY" "$HERE/evaluate.py" --build "$BUILD" --model "$m" --split test --count "$count" \
      --path inferexec --backend "$BACKEND" --precision "$p" "${calib[@]}" --batch-size "$BATCH" \
      --json "$OUT/$m-$p.json" > "$OUT/eval-$m-$p.log" 2>&1 ||
      { tail -20 "$OUT/eval-$m-$p.log" >&2; exit 1; }
    tail -2 "$OUT/eval-$m-$p.log" >&2
  done
  step "inferexec --dump-graph: $m int8"
  "$INFEREXEC" --onnx "$ROOT/pipelines/models/$m.onnx" --backend "$BACKEND" --int8 \
    --calib "$OUT/$m.cache" --shapes "input:1x3x${size}x${size}" --iterations 1 --warmup 0 \
    --dump-graph > "$OUT/graph-$m-int8.txt" 2>&1
done

step "done; results in $OUT"
"$PY" - "$OUT" "$BACKEND" <<'EOF'
import json, os, re, sys
out, backend = sys.argv[1:]
def layers(m):
    """(INT8 Conv/Gemm layers after optimization, Conv/Gemm layers of the model)."""
    n_int8 = total = 0
    section = None
    for line in open(os.path.join(out, f"graph-{m}-int8.txt")):
        if line.startswith(("before optimization", "after optimization")):
            section = line.split()[0]
        r = re.match(r"\s+\[\s*\d+\]\s+\S+\s+(conv|gemm)\b\s*(\S*)", line)
        if r and section == "before":
            total += 1
        elif r and section == "after":
            n_int8 += r.group(2) == "int8"
    return f"{n_int8} of {total}"
rows = [("classifier", "top-1 (crops 0..999)", "top1"),
        ("detector", "mAP@0.5 (scenes 0..99)", "map50"),
        ("detector", "mAP@0.5:0.95", "map50_95")]
print(f"\n| model | metric (test split) | {backend} FP32 | {backend} INT8 | INT8 Conv/Gemm layers |")
print("| --- | --- | --- | --- | --- |")
for m, label, key in rows:
    v = [json.load(open(os.path.join(out, f"{m}-{p}.json")))[key] for p in ("fp32", "int8")]
    print(f"| {m} | {label} | {v[0]:.4f} | {v[1]:.4f} | {layers(m)} |")
EOF
