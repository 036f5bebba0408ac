#!/usr/bin/env python3
"""Writes the plugin tests' ONNX model and data into OUTDIR:

  scaled_softsign.onnx  x [2,3,4,5] -> Mul 2 -> ScaledSoftsign (domain
                        com.infer.test, alpha 0.75) -> Add 1 -> y
  x.pb, y.pb            an input and numpy's output for it (TensorProto)
  unknown_plugin.onnx   a node "Mystery" of domain com.example (no plugin)

usage: make_plugin_model.py OUTDIR
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ALPHA = 0.75
DOMAIN = "com.infer.test"


def reference(x):
    v = x * np.float32(2)
    return (np.float32(ALPHA) * v / (np.float32(1) + np.abs(v)) + np.float32(1)).astype(np.float32)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    shape = [2, 3, 4, 5]
    nodes = [
        helper.make_node("Mul", ["x", "two"], ["x2"], name="scale"),
        helper.make_node("ScaledSoftsign", ["x2"], ["s"], name="softsign", domain=DOMAIN,
                         alpha=ALPHA),
        helper.make_node("Add", ["s", "one"], ["y"], name="shift"),
    ]
    graph = helper.make_graph(
        nodes, "plugin_model",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)],
        [numpy_helper.from_array(np.array(2, np.float32), "two"),
         numpy_helper.from_array(np.array(1, np.float32), "one")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                    helper.make_opsetid(DOMAIN, 1)])
    model.ir_version = 8
    onnx.save(model, os.path.join(out, "scaled_softsign.onnx"))
    # a node of a domain no plugin answers, for the error test
    graph = helper.make_graph(
        [helper.make_node("Mystery", ["x"], ["y"], name="mystery", domain="com.example")],
        "unknown_plugin",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                    helper.make_opsetid("com.example", 1)])
    model.ir_version = 8
    onnx.save(model, os.path.join(out, "unknown_plugin.onnx"))
    rng = np.random.default_rng(7)
    x = rng.uniform(-3, 3, shape).astype(np.float32)
    for name, value in (("x", x), ("y", reference(x))):
        with open(os.path.join(out, name + ".pb"), "wb") as f:
            f.write(numpy_helper.from_array(value, name).SerializeToString())


if __name__ == "__main__":
    main()
