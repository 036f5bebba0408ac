#!/usr/bin/env python3
"""Calibration data and independent min-max expectations for infer's tests.

For each named model of a generated-models folder (tests/models) writes

    OUT/<model>/batch_<k>_<i>.pb  batch k of graph input i (ONNX TensorProto
                                  named after the input; normal, fixed seed)
    OUT/<model>/expected.txt      "<tensor>\t<scale hex>\t<abs-max>\t<kind>"
                                  per float activation: graph inputs (kind
                                  "input") and node outputs computed from them
                                  ("computed"; outputs of Constant nodes and of
                                  nodes fed by constants only are weights)

The abs-max values come from onnxruntime with every intermediate tensor
exposed as a graph output, and scale = float32(abs-max) / float32(127) as
float32 bits: what min-max calibration must produce (bit for bit for
inputs; computed tensors may differ in the last bits, as engines sum in
different orders).

Usage: calib_reference.py MODELS_DIR OUT_DIR BATCH N_BATCHES MODEL [MODEL ...]
"""

import os
import struct
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper, shape_inference

FLOAT_TYPES = {onnx.TensorProto.FLOAT}


def expose_intermediates(model):
    """The model with every float node output also a graph output."""
    inferred = shape_inference.infer_shapes(model)
    types = {vi.name: vi.type.tensor_type.elem_type for vi in inferred.graph.value_info}
    for vi in list(inferred.graph.output) + list(inferred.graph.input):
        types[vi.name] = vi.type.tensor_type.elem_type
    outputs = {o.name for o in model.graph.output}
    initializers = {i.name for i in model.graph.initializer}
    active = {i.name for i in model.graph.input if i.name not in initializers}
    names = []
    for node in model.graph.node:
        # values that follow from the inputs' data (not only their shapes)
        if node.op_type in ("Shape", "Size") or not any(i in active for i in node.input):
            continue
        active.update(o for o in node.output if o)
        for out in node.output:
            if not out or types.get(out) not in FLOAT_TYPES:
                continue
            names.append(out)
            if out not in outputs:
                model.graph.output.append(helper.make_tensor_value_info(out, types[out], None))
    return model, names


def resolve(dims, batch):
    return [batch if (d.dim_param or d.dim_value <= 0) else d.dim_value for d in dims]


def main():
    if len(sys.argv) < 6:
        sys.exit(__doc__)
    models_dir, out_dir = sys.argv[1], sys.argv[2]
    batch, n_batches = int(sys.argv[3]), int(sys.argv[4])
    for name in sys.argv[5:]:
        model = onnx.load(os.path.join(models_dir, name, "model.onnx"))
        initializers = {i.name for i in model.graph.initializer}
        inputs = [i for i in model.graph.input if i.name not in initializers]
        model, names = expose_intermediates(model)
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        so.intra_op_num_threads = 1
        sess = ort.InferenceSession(model.SerializeToString(), sess_options=so,
                                    providers=["CPUExecutionProvider"])
        dest = os.path.join(out_dir, name)
        os.makedirs(dest, exist_ok=True)
        rng = np.random.default_rng(1234)
        absmax = {}
        for k in range(n_batches):
            feeds = {}
            for index, inp in enumerate(inputs):
                shape = resolve(inp.type.tensor_type.shape.dim, batch)
                # a different spread per batch, so that ranges grow across batches
                arr = (rng.standard_normal(shape) * (1.0 + 0.5 * k)).astype(np.float32)
                feeds[inp.name] = arr
                with open(os.path.join(dest, f"batch_{k:03d}_{index}.pb"), "wb") as f:
                    f.write(numpy_helper.from_array(arr, name=inp.name).SerializeToString())
            results = sess.run(names, feeds)
            for n, arr in list(zip(names, results)) + list(feeds.items()):
                m = np.float32(np.max(np.abs(arr))) if arr.size else np.float32(0)
                absmax[n] = max(absmax.get(n, np.float32(0)), m)
        with open(os.path.join(dest, "expected.txt"), "w") as f:
            for n in [i.name for i in inputs] + names:
                scale = np.float32(absmax[n]) / np.float32(127)
                bits = struct.unpack(">I", struct.pack(">f", float(scale)))[0]
                kind = "input" if n in feeds else "computed"
                f.write(f"{n}\t{bits:08x}\t{float(absmax[n]):.9g}\t{kind}\n")


if __name__ == "__main__":
    main()
