#!/usr/bin/env python3
"""Tiny hand-weighted models for the `infer` GStreamer element tests.

Usage: python3 tests/gst/make_element_models.py OUT_DIR

Writes into OUT_DIR (opset 17, IR version 8, float32, dynamic batch "N"):

  classifier.onnx       input [N,3,32,32] -> logits [N,4]. GlobalAveragePool
                        gives the mean colour (r, g, b) in 0..1; a Gemm with
                        hand-set weights gives logit_k = 10 * (2 c_k - r - g - b)
                        for k = 0 (red), 1 (green), 2 (blue) and logit_3 = 1
                        (grey/black/white): red frames -> class 0, green -> 1,
                        blue -> 2, grey -> 3.
  classifier_v2.onnx    the same graph with another bias for class 3 (a
                        "modified model" with identical shapes).
  classifier_nhwc.onnx  the classifier with an NHWC input [N,32,32,3].
  detector.onnx         input [N,3,48,64] (H=48, W=64) -> output0 [N,2,6]
                        (YOLOv8 layout: x_min, y_min, x_max, y_max, then 2
                        class scores). Boxes are constants in model pixels:
                        anchor 0 = (16, 8, 48, 34) class 0, anchor 1 =
                        (2, 12, 10, 30) class 1; both scores are
                        sigmoid(20 * (mean(input) - 0.5)), so boxes appear on
                        bright frames only.
  bad_op.onnx           a graph with an operator the engine does not know.
  not_image.onnx        input [N,10] -> output [N,10] (cannot take video).
  classifier_labels.txt, detector_labels.txt
"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8


def save(graph, path):
    model = helper.make_model(graph, producer_name="infer-tests-make_element_models",
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    with open(path, "wb") as f:
        f.write(model.SerializeToString())


def f32(name, arr):
    return numpy_helper.from_array(np.asarray(arr, dtype=np.float32), name=name)


def classifier(nhwc=False, grey_bias=1.0):
    w = np.zeros((4, 3), dtype=np.float32)
    for k in range(3):
        for c in range(3):
            w[k, c] = 10.0 * (2.0 if c == k else 0.0) - 10.0
    b = np.array([0.0, 0.0, 0.0, grey_bias], dtype=np.float32)
    nodes = []
    src = "input"
    if nhwc:
        in_shape = ["N", 32, 32, 3]
        nodes.append(helper.make_node("Transpose", ["input"], ["nchw"], name="to_nchw",
                                      perm=[0, 3, 1, 2]))
        src = "nchw"
    else:
        in_shape = ["N", 3, 32, 32]
    nodes += [
        helper.make_node("GlobalAveragePool", [src], ["pooled"], name="gap"),
        helper.make_node("Flatten", ["pooled"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "W", "B"], ["logits"], name="fc", transB=1),
    ]
    graph = helper.make_graph(
        nodes, "element_classifier",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, in_shape)],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 4])],
        initializer=[f32("W", w), f32("B", b)])
    return graph


def detector():
    boxes = np.array([[[16, 8, 48, 34], [2, 12, 10, 30]]], dtype=np.float32)  # [1, 2, 4]
    mask = np.array([[[1, 0], [0, 1]]], dtype=np.float32)                      # [1, 2, 2]
    nodes = [
        helper.make_node("GlobalAveragePool", ["images"], ["gap"], name="gap"),
        helper.make_node("ReduceMean", ["gap"], ["mean4"], name="mean", axes=[1, 2, 3],
                         keepdims=1),
        helper.make_node("Reshape", ["mean4", "shape_n11"], ["m"], name="m"),       # [N,1,1]
        helper.make_node("Mul", ["m", "zero"], ["m0"], name="m0"),
        helper.make_node("Add", ["m0", "boxes"], ["box_n"], name="box_n"),          # [N,2,4]
        helper.make_node("Sub", ["m", "half"], ["centered"], name="centered"),
        helper.make_node("Mul", ["centered", "gain"], ["z"], name="z"),
        helper.make_node("Sigmoid", ["z"], ["s"], name="s"),
        helper.make_node("Mul", ["s", "mask"], ["scores"], name="scores"),         # [N,2,2]
        helper.make_node("Concat", ["box_n", "scores"], ["output0"], name="concat", axis=2),
    ]
    inits = [
        numpy_helper.from_array(np.array([-1, 1, 1], dtype=np.int64), name="shape_n11"),
        f32("zero", 0.0), f32("half", 0.5), f32("gain", 20.0),
        f32("boxes", boxes), f32("mask", mask),
    ]
    return helper.make_graph(
        nodes, "element_detector",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["N", 3, 48, 64])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, ["N", 2, 6])],
        initializer=inits)


def bad_op():
    node = helper.make_node("FrobnicateColours", ["input"], ["out"], name="frob",
                            domain="")
    return helper.make_graph(
        [node], "element_bad_op",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 32, 32])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["N", 3, 32, 32])])


def not_image():
    node = helper.make_node("Relu", ["x"], ["y"], name="relu")
    return helper.make_graph(
        [node], "element_not_image",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 10])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 10])])


def save_unchecked(graph, path):
    model = helper.make_model(graph, producer_name="infer-tests-make_element_models",
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    with open(path, "wb") as f:
        f.write(model.SerializeToString())


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    save(classifier(), os.path.join(out, "classifier.onnx"))
    save(classifier(grey_bias=2.0), os.path.join(out, "classifier_v2.onnx"))
    save(classifier(nhwc=True), os.path.join(out, "classifier_nhwc.onnx"))
    save(detector(), os.path.join(out, "detector.onnx"))
    save_unchecked(bad_op(), os.path.join(out, "bad_op.onnx"))  # the checker rejects it too
    save(not_image(), os.path.join(out, "not_image.onnx"))
    with open(os.path.join(out, "classifier_labels.txt"), "w") as f:
        f.write("red\ngreen\nblue\ngrey\n")
    with open(os.path.join(out, "detector_labels.txt"), "w") as f:
        f.write("big\nsmall\n")


if __name__ == "__main__":
    main()
