#!/usr/bin/env python3
"""Generate small vision test models for the infer engine's conformance runner.

Writes each model of model_zoo.py in ONNX's backend-test folder layout:

    OUT_DIR/<name>/model.onnx
    OUT_DIR/<name>/test_data_set_0/input_<i>.pb, output_<i>.pb   (declared batch, 1 if dynamic)
    OUT_DIR/<name>/test_data_set_1/input_<i>.pb, output_<i>.pb   (batch 2; dynamic-batch models only)

Each .pb file is a serialized onnx TensorProto named after the graph input or
output it belongs to.  Inputs are random (numpy default_rng, fixed seed per
model) and expected outputs come from onnxruntime's CPUExecutionProvider with
all graph optimizations disabled, so the files are deterministic reference data.

Usage: python3 tests/models/generate_models.py OUT_DIR [MODEL_NAME ...]
"""

import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model_zoo  # noqa: E402

MAX_MODEL_BYTES = 2 * 1024 * 1024


def resolve(shape, batch):
    return [batch if isinstance(d, str) else int(d) for d in shape]


def make_session(model_bytes):
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(model_bytes, sess_options=so,
                                providers=["CPUExecutionProvider"])


def write_tensor(path, arr, name):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(arr, name=name).SerializeToString())


def write_data_set(sess, spec, out_dir, index, batch, seed):
    rng = np.random.default_rng(seed)
    feeds = {}
    for name, shape in spec.inputs.items():
        feeds[name] = rng.standard_normal(resolve(shape, batch)).astype(np.float32)
    out_names = [o.name for o in sess.get_outputs()]
    results = sess.run(out_names, feeds)

    ds_dir = os.path.join(out_dir, f"test_data_set_{index}")
    os.makedirs(ds_dir, exist_ok=True)
    for i, name in enumerate(spec.inputs):
        write_tensor(os.path.join(ds_dir, f"input_{i}.pb"), feeds[name], name)
    for i, (name, arr) in enumerate(zip(out_names, results)):
        want = resolve(spec.outputs[name], batch)
        if list(arr.shape) != want:
            raise RuntimeError(f"{spec.name}: output {name} has shape {list(arr.shape)}, "
                               f"declared {want}")
        if not np.all(np.isfinite(arr)):
            raise RuntimeError(f"{spec.name}: output {name} has non-finite values")
        write_tensor(os.path.join(ds_dir, f"output_{i}.pb"), arr, name)
    return results


def generate(name, out_root):
    spec = model_zoo.build(name)
    model = spec.model
    onnx.checker.check_model(model, full_check=True)
    data = model.SerializeToString()
    if len(data) > MAX_MODEL_BYTES:
        raise RuntimeError(f"{name}: model is {len(data)} bytes (> {MAX_MODEL_BYTES})")

    out_dir = os.path.join(out_root, name)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "model.onnx"), "wb") as f:
        f.write(data)

    _, seed = model_zoo.MODELS[name]
    sess = make_session(data)
    write_data_set(sess, spec, out_dir, 0, 1, seed * 10)
    n_sets = 1
    if spec.dynamic_batch:
        write_data_set(sess, spec, out_dir, 1, 2, seed * 10 + 1)
        n_sets = 2
    print(f"wrote {out_dir}: {len(model.graph.node)} nodes, {len(data)} bytes, "
          f"{n_sets} data set(s)", flush=True)


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    out_root = argv[1]
    names = argv[2:] or list(model_zoo.MODELS)
    unknown = [n for n in names if n not in model_zoo.MODELS]
    if unknown:
        print(f"unknown model(s): {', '.join(unknown)}; known: "
              f"{', '.join(model_zoo.MODELS)}", file=sys.stderr)
        return 2
    os.makedirs(out_root, exist_ok=True)
    for name in names:
        generate(name, out_root)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
