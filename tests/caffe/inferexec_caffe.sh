#!/usr/bin/env bash
# inferexec's Caffe path (--deploy/--model/--mean/--output/--batch):
#  1. LeNet at batch 4: build, save a plan, load it back with --compare
#     (zero error against the CPU reference) and the right output shape;
#  2. LeNet at batch 1 on the generator's input: the saved output matches
#     onnxruntime's (normalized error <= 1e-5);
#  3. the layer zoo with outputs as a comma list plus a repeated --output;
#  4. option and import errors exit non-zero with a message.
set -euo pipefail
inferexec=$1; models=$2; python=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
L=$models/lenet Z=$models/zoo
fail() { echo "FAIL: $1"; [ -f "${2:-}" ] && cat "$2"; exit 1; }
run() { "$inferexec" --backend cpu --iterations 2 --warmup 1 "$@"; }

run --deploy "$L/deploy.prototxt" --model "$L/lenet.caffemodel" --mean "$L/mean.binaryproto" \
    --output prob --batch 4 --save-engine "$tmp/lenet.plan" >"$tmp/build.log" 2>&1 ||
  fail "lenet build/save" "$tmp/build.log"
grep -q '^prob: f32 \[4,10\] = ' "$tmp/build.log" || fail "lenet output shape at batch 4" "$tmp/build.log"
grep -q "^model: $L/deploy.prototxt" "$tmp/build.log" || fail "model line" "$tmp/build.log"
run --load-engine "$tmp/lenet.plan" --compare >"$tmp/load.log" 2>&1 || fail "lenet load" "$tmp/load.log"
grep -q '^compare prob: max_abs=0 max_rel=0$' "$tmp/load.log" || fail "plan compare" "$tmp/load.log"
grep -q '^Throughput: [0-9.]* qps' "$tmp/load.log" || fail "summary" "$tmp/load.log"
echo "ok lenet: batch 4 plan round trip"

mkdir "$tmp/out"
run --deploy "$L/deploy.prototxt" --model "$L/lenet.caffemodel" --mean "$L/mean.binaryproto" \
    --output prob --load-inputs "data:$L/input.pb" --save-outputs "$tmp/out" >"$tmp/run.log" 2>&1 ||
  fail "lenet run on the given input" "$tmp/run.log"
"$python" - "$tmp/out/prob.pb" "$L/prob.pb" <<'PY' || fail "lenet output vs onnxruntime" "$tmp/run.log"
import sys
import numpy as np
from onnx import TensorProto, numpy_helper
def load(p):
    t = TensorProto()
    t.ParseFromString(open(p, "rb").read())
    return numpy_helper.to_array(t).astype(np.float64)
got, ref = load(sys.argv[1]), load(sys.argv[2])
err = np.linalg.norm(got - ref) / np.linalg.norm(ref)
print(f"lenet prob vs onnxruntime: normalized error {err:.3g}")
sys.exit(0 if got.shape == ref.shape and err <= 1e-5 else 1)
PY

run --deploy "$Z/deploy.prototxt" --model "$Z/zoo.caffemodel" --output lrn_w,gpool --output prob \
    >"$tmp/zoo.log" 2>&1 || fail "zoo build" "$tmp/zoo.log"
for o in 'lrn_w: f32 \[1,8,9,9\]' 'gpool: f32 \[1,6,1,1\]' 'prob: f32 \[1,10\]'; do
  grep -q "^$o = " "$tmp/zoo.log" || fail "zoo output $o" "$tmp/zoo.log"
done
echo "ok zoo: three named outputs"

if "$inferexec" --onnx "$L/lenet.onnx" --model "$L/lenet.caffemodel" >"$tmp/e1.log" 2>&1; then
  fail "--model without --deploy accepted"
fi
grep -q -- '--model, --mean and --output go with --deploy' "$tmp/e1.log" || fail "option message" "$tmp/e1.log"
if run --deploy "$L/deploy.prototxt" --model "$L/lenet.caffemodel" --output nope >"$tmp/e2.log" 2>&1; then
  fail "unknown output accepted"
fi
grep -q "output blob 'nope' is not produced" "$tmp/e2.log" || fail "output message" "$tmp/e2.log"
echo "ok errors"
echo "inferexec_caffe: passed"
