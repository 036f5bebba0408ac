#!/bin/sh
# inferexec with the sample plugin library (ScaledSoftsign): builds the
# ONNX model with --plugins and saves a plan and the output; loads the plan
# in fresh processes with the library (--plugins, then INFER_PLUGIN_PATH)
# and gets the same output, equal to numpy's; without the library the load
# names the missing plugin, and the model build names the op.
#   plugin_inferexec.sh INFEREXEC PLUGIN_LIBRARY MODELS_DIR PYTHON [cpu|cuda]
set -eu
exe=$1 lib=$2 models=$3 python=$4 backend=${5:-cpu}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unset INFER_PLUGIN_PATH || true

fail() {
  echo "FAIL: $1"
  [ -f "$work/log" ] && cat "$work/log"
  exit 1
}

run() { # OUTDIR ARGS...: one run on the model's input, output saved in OUTDIR
  out=$1
  shift
  mkdir -p "$work/$out"
  "$exe" --backend "$backend" --load-inputs "x:$models/x.pb" --save-outputs "$work/$out" \
    --iterations 1 --warmup 0 "$@" > "$work/log" 2>&1
}

run built --plugins "$lib" --onnx "$models/scaled_softsign.onnx" --save-engine "$work/p.plan" ||
  fail "build with --plugins"
run loaded --plugins "$lib" --load-engine "$work/p.plan" || fail "load with --plugins"
cmp "$work/built/y.pb" "$work/loaded/y.pb" || fail "the loaded plan computes another output"
INFER_PLUGIN_PATH="/nonexistent/first.so:$lib" run env --load-engine "$work/p.plan" ||
  fail "load with INFER_PLUGIN_PATH"
cmp "$work/built/y.pb" "$work/env/y.pb" || fail "the plan loaded through INFER_PLUGIN_PATH differs"

"$python" - "$models/y.pb" "$work/built/y.pb" <<'PY' || fail "the output differs from numpy's"
import sys
import numpy as np
from onnx import TensorProto, numpy_helper
def load(path):
    t = TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)
want, got = load(sys.argv[1]), load(sys.argv[2])
err = float(np.max(np.abs(want - got)))
print(f"max abs error against numpy: {err:.3g}")
sys.exit(0 if want.shape == got.shape and err <= 1e-5 else 1)
PY

# without the library: the plan says which plugin it needs
if run missing --load-engine "$work/p.plan"; then fail "the plan loaded without its plugin"; fi
grep -q "p.plan: plan needs plugin 'ScaledSoftsign' version 1, which is not registered (load its library with --plugins / INFER_PLUGIN_PATH)" "$work/log" ||
  fail "no message naming the missing plugin"
if run missing --onnx "$models/scaled_softsign.onnx"; then fail "the model built without its plugin"; fi
grep -q "node 'softsign' (ScaledSoftsign): op domain 'com.infer.test' is not supported and no plugin 'ScaledSoftsign' is registered for it" "$work/log" ||
  fail "no message naming the op"
# a library that does not load is named, and so is the failure in later errors
if run missing --plugins /nonexistent/lib.so --onnx "$models/scaled_softsign.onnx"; then
  fail "a missing library was accepted"
fi
grep -q "cannot load plugin library '/nonexistent/lib.so'" "$work/log" || fail "no message naming the library"
echo "plugin_inferexec: ok"
