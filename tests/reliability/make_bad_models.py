#!/usr/bin/env python3
"""Models (and other files) that inferexec and the infer element must refuse
with a clear message, never a crash, a hang or a giant allocation.

Usage: python3 tests/reliability/make_bad_models.py OUT_DIR

Every file is small; the trouble is in what it declares. Names:

  huge_input.onnx        input [1,3,100000,100000] -> Relu (120 GB activations)
  huge_input_dyn.onnx    input [N,3,100000,100000] (dynamic batch)
  huge_initializer.onnx  an initializer that declares 2^31 floats and holds none
  huge_constant_of_shape.onnx  ConstantOfShape([100000,100000,10]) added to the input
  huge_reshape.onnx      Reshape of a small input to [100000,100000,100]
  huge_expand.onnx       Expand of the input to [1,3,100000,100000]
  external_escape.onnx   an initializer whose external data is ../../../etc/passwd
  external_missing.onnx  external data in a file that does not exist
  cycle.onnx             two nodes that feed each other
  undefined_input.onnx   a node reads a tensor nobody produces
  opset_too_new.onnx     opset 99
  unknown_domain.onnx    an op of the domain com.example
  rank2_input.onnx       input [N,10] (not an image)
  five_channels.onnx     input [N,5,32,32] (not 1 or 3 channels)
  int_input.onnx         input int64 [N,3,32,32]
  dynamic_hw.onnx        input [N,3,H,W]
  two_inputs.onnx        two image inputs
  no_outputs.onnx        a graph without outputs
  empty.onnx, truncated.onnx (the first 40 bytes of a good model), random.onnx
  labels_empty.txt, labels_binary.txt, labels_huge_line.txt, labels_many.txt
  plan_random.plan, plan_empty.plan
"""

import os
import random
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17


def save(graph, path, opset=OPSET, extra_opsets=()):
    opsets = [helper.make_opsetid("", opset)] + [helper.make_opsetid(d, v) for d, v in extra_opsets]
    model = helper.make_model(graph, producer_name="infer-reliability", opset_imports=opsets)
    model.ir_version = 8
    with open(path, "wb") as f:
        f.write(model.SerializeToString())


def vinfo(name, shape, dtype=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, dtype, shape)


def i64(name, values):
    return numpy_helper.from_array(np.asarray(values, dtype=np.int64), name=name)


def relu_graph(in_shape, name="g", dtype=TensorProto.FLOAT):
    return helper.make_graph([helper.make_node("Relu", ["input"], ["output"], name="relu")], name,
                             [vinfo("input", in_shape, dtype)], [vinfo("output", in_shape, dtype)])


def image_classifier(in_shape):
    """GlobalAveragePool + Flatten: any [N,C,H,W] -> [N,C]."""
    nodes = [helper.make_node("GlobalAveragePool", ["input"], ["pooled"], name="gap"),
             helper.make_node("Flatten", ["pooled"], ["output"], name="flat", axis=1)]
    return helper.make_graph(nodes, "cls", [vinfo("input", in_shape)],
                             [vinfo("output", [in_shape[0], in_shape[1]])])


def write(out, name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    p = lambda n: os.path.join(out, n)  # noqa: E731

    save(relu_graph([1, 3, 100000, 100000]), p("huge_input.onnx"))
    save(relu_graph(["N", 3, 100000, 100000]), p("huge_input_dyn.onnx"))

    big = TensorProto()
    big.name = "W"
    big.data_type = TensorProto.FLOAT
    big.dims.extend([1 << 31])
    g = helper.make_graph([helper.make_node("Add", ["input", "W"], ["output"], name="add")], "g",
                          [vinfo("input", [1])], [vinfo("output", [1 << 31])], initializer=[big])
    save(g, p("huge_initializer.onnx"))

    g = helper.make_graph(
        [helper.make_node("ConstantOfShape", ["shape"], ["c"], name="cos",
                          value=helper.make_tensor("v", TensorProto.FLOAT, [1], [1.0])),
         helper.make_node("Add", ["input", "c"], ["output"], name="add")],
        "g", [vinfo("input", [1])], [vinfo("output", [100000, 100000, 10])],
        initializer=[i64("shape", [100000, 100000, 10])])
    save(g, p("huge_constant_of_shape.onnx"))

    g = helper.make_graph([helper.make_node("Reshape", ["input", "shape"], ["output"], name="rs")],
                          "g", [vinfo("input", [1, 3, 32, 32])],
                          [vinfo("output", [100000, 100000, 100])],
                          initializer=[i64("shape", [100000, 100000, 100])])
    save(g, p("huge_reshape.onnx"))

    g = helper.make_graph([helper.make_node("Expand", ["input", "shape"], ["output"], name="ex")],
                          "g", [vinfo("input", [1, 3, 1, 1])],
                          [vinfo("output", [1, 3, 100000, 100000])],
                          initializer=[i64("shape", [1, 3, 100000, 100000])])
    save(g, p("huge_expand.onnx"))

    for name, location in (("external_escape.onnx", "../../../../../../etc/passwd"),
                           ("external_missing.onnx", "no_such_weights.bin")):
        w = TensorProto()
        w.name = "W"
        w.data_type = TensorProto.FLOAT
        w.dims.extend([4])
        w.data_location = TensorProto.EXTERNAL
        e = w.external_data.add()
        e.key, e.value = "location", location
        g = helper.make_graph([helper.make_node("Add", ["input", "W"], ["output"], name="add")],
                              "g", [vinfo("input", [4])], [vinfo("output", [4])], initializer=[w])
        save(g, p(name))

    g = helper.make_graph([helper.make_node("Add", ["input", "b"], ["a"], name="n1"),
                           helper.make_node("Relu", ["a"], ["b"], name="n2")],
                          "g", [vinfo("input", [4])], [vinfo("b", [4])])
    save(g, p("cycle.onnx"))
    g = helper.make_graph([helper.make_node("Add", ["input", "ghost"], ["output"], name="add")],
                          "g", [vinfo("input", [4])], [vinfo("output", [4])])
    save(g, p("undefined_input.onnx"))
    save(relu_graph([1, 4]), p("opset_too_new.onnx"), opset=99)
    g = helper.make_graph([helper.make_node("Frob", ["input"], ["output"], name="frob",
                                            domain="com.example")],
                          "g", [vinfo("input", [4])], [vinfo("output", [4])])
    save(g, p("unknown_domain.onnx"), extra_opsets=[("com.example", 1)])

    save(relu_graph(["N", 10]), p("rank2_input.onnx"))
    save(image_classifier(["N", 5, 32, 32]), p("five_channels.onnx"))
    save(relu_graph(["N", 3, 32, 32], dtype=TensorProto.INT64), p("int_input.onnx"))
    save(image_classifier(["N", 3, "H", "W"]), p("dynamic_hw.onnx"))
    g = helper.make_graph([helper.make_node("Add", ["a", "b"], ["output"], name="add")], "g",
                          [vinfo("a", ["N", 3, 32, 32]), vinfo("b", ["N", 3, 32, 32])],
                          [vinfo("output", ["N", 3, 32, 32])])
    save(g, p("two_inputs.onnx"))
    g = helper.make_graph([helper.make_node("Relu", ["input"], ["output"], name="relu")], "g",
                          [vinfo("input", [1, 3, 32, 32])], [])
    save(g, p("no_outputs.onnx"))

    good = onnx.load(p("five_channels.onnx")).SerializeToString()
    rng = random.Random(1234)
    write(out, "empty.onnx", b"")
    write(out, "truncated.onnx", good[:40])
    write(out, "random.onnx", bytes(rng.randrange(256) for _ in range(4096)))

    write(out, "labels_empty.txt", b"")
    write(out, "labels_binary.txt", bytes(rng.randrange(256) for _ in range(2048)))
    write(out, "labels_huge_line.txt", b"x" * (1 << 20) + b"\n")
    write(out, "labels_many.txt", b"".join(b"label%d\n" % i for i in range(100000)))
    write(out, "plan_empty.plan", b"")
    write(out, "plan_random.plan", b"INFERPLN" + bytes(rng.randrange(256) for _ in range(4096)))


if __name__ == "__main__":
    main()
