#!/usr/bin/env python3
"""Seed corpora of the fuzz targets, written at build time.

Usage: make_seeds.py OUT_DIR --inferexec PATH --generated DIR [--element DIR]
                     [--caffe DIR] [--calibration DIR]

  OUT_DIR/onnx/        the generated test models under 128 KiB, the element
                       models, and small models of one op each (shape
                       sub-graphs, Resize, Slice, Pad, TopK, NMS, ...)
  OUT_DIR/plan/        plans of small models written by `inferexec --save-engine`
                       (CPU backend, this machine's fingerprint)
  OUT_DIR/labels/      label files (the element's, CRLF, blank lines, UTF-8)
  OUT_DIR/properties/  mean / std strings
  OUT_DIR/caffe_prototxt/  deploy prototxts of tests/caffe (--caffe) and small
                       hand-written ones
  OUT_DIR/caffe_model/ the layer zoo's caffemodel (fuzz_caffe_model parses
                       against the zoo prototxt), the legacy V1 file
  OUT_DIR/calibration/ calibration caches (--calibration DIR: *.cache), and
                       small hand-written ones
"""

import argparse
import glob
import os
import shutil
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MAX_SEED_BYTES = 128 * 1024


def vinfo(name, shape, dtype=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, dtype, shape)


def const(name, arr, dtype=np.int64):
    return numpy_helper.from_array(np.asarray(arr, dtype=dtype), name=name)


def model(nodes, inputs, outputs, inits=(), opset=17):
    g = helper.make_graph(nodes, "seed", inputs, outputs, initializer=list(inits))
    m = helper.make_model(g, producer_name="infer-fuzz-seeds",
                          opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m.SerializeToString()


def one_op_models():
    """Small models that reach different importers and shape functions."""
    x = vinfo("x", ["N", 3, 8, 8])
    y = vinfo("y", None)
    n = helper.make_node
    w = const("w", np.ones((4, 3, 3, 3)), np.float32)
    yield "conv", model([n("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1], strides=[2, 2])],
                        [x], [y], [w])
    yield "shape_reshape", model(
        [n("Shape", ["x"], ["s"]), n("Gather", ["s", "i0"], ["b"], axis=0),
         n("Unsqueeze", ["b", "ax"], ["bu"]), n("Concat", ["bu", "m1"], ["ns"], axis=0),
         n("Reshape", ["x", "ns"], ["y"])],
        [x], [y], [const("i0", 0), const("ax", [0]), const("m1", [-1])])
    yield "resize", model([n("Resize", ["x", "", "sc"], ["y"], mode="nearest")], [x], [y],
                          [const("sc", [1, 1, 2, 2], np.float32)])
    yield "slice", model([n("Slice", ["x", "st", "en", "ax", "sp"], ["y"])], [x], [y],
                         [const("st", [1, -1]), const("en", [3, -100]), const("ax", [1, 3]),
                          const("sp", [1, -2])])
    yield "pad", model([n("Pad", ["x", "p"], ["y"], mode="reflect")], [x], [y],
                       [const("p", [0, 0, 1, 2, 0, 0, 1, 2])])
    yield "topk", model([n("TopK", ["x", "k"], ["y", "idx"], axis=-1)], [x],
                        [y, vinfo("idx", None, TensorProto.INT64)], [const("k", [3])])
    yield "transpose_softmax", model(
        [n("Transpose", ["x"], ["t"], perm=[0, 2, 3, 1]), n("Softmax", ["t"], ["y"], axis=-1)],
        [x], [y])
    yield "pool", model([n("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                           strides=[2, 2], ceil_mode=1)], [x], [y])
    yield "gemm", model([n("Flatten", ["x"], ["f"]), n("Gemm", ["f", "gw"], ["y"], transB=1)],
                        [x], [y], [const("gw", np.ones((5, 192)), np.float32)])
    yield "range_cos", model(
        [n("Range", ["a", "b", "c"], ["r"]),
         n("ConstantOfShape", ["sh"], ["y"], value=helper.make_tensor("v", 1, [1], [2.0]))],
        [x], [y, vinfo("r", None, TensorProto.INT64)],
        [const("a", 0), const("b", 10), const("c", 3), const("sh", [2, 3])])
    boxes = vinfo("boxes", [1, 6, 4])
    scores = vinfo("scores", [1, 2, 6])
    yield "nms", model([n("NonMaxSuppression", ["boxes", "scores", "mo", "iou", "th"], ["y"])],
                       [boxes, scores], [vinfo("y", None, TensorProto.INT64)],
                       [const("mo", [3]), const("iou", [0.5], np.float32),
                        const("th", [0.1], np.float32)])
    yield "where_cast", model(
        [n("Greater", ["x", "z"], ["g"]), n("Where", ["g", "x", "z"], ["w0"]),
         n("Cast", ["w0"], ["y"], to=TensorProto.FLOAT16)],
        [x], [vinfo("y", None, TensorProto.FLOAT16)], [const("z", [0.5], np.float32)])
    yield "split_concat", model(
        [n("Split", ["x", "sp"], ["a", "b"], axis=1), n("Concat", ["b", "a"], ["y"], axis=1)],
        [x], [y], [const("sp", [1, 2])])
    yield "old_opset_upsample", model(
        [n("Upsample", ["x"], ["y"], scales=[1.0, 1.0, 2.0, 2.0])], [x], [y], opset=7)


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--inferexec", required=True)
    ap.add_argument("--generated", required=True)
    ap.add_argument("--element")
    ap.add_argument("--caffe")
    ap.add_argument("--calibration")
    a = ap.parse_args()
    dirs = {k: os.path.join(a.out, k) for k in ("onnx", "plan", "labels", "properties",
                                                "caffe_prototxt", "caffe_model", "calibration")}
    for d in dirs.values():
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)

    small = []  # models small enough to be plan seeds too
    for path in sorted(glob.glob(os.path.join(a.generated, "*", "model.onnx"))):
        if os.path.getsize(path) <= MAX_SEED_BYTES:
            name = os.path.basename(os.path.dirname(path))
            shutil.copy(path, os.path.join(dirs["onnx"], name + ".onnx"))
            small.append((name, path))
    if a.element:
        for path in sorted(glob.glob(os.path.join(a.element, "*.onnx"))):
            name = "element_" + os.path.basename(path)
            shutil.copy(path, os.path.join(dirs["onnx"], name))
            small.append((name[:-5], path))
        for path in sorted(glob.glob(os.path.join(a.element, "*.txt"))):
            shutil.copy(path, os.path.join(dirs["labels"], os.path.basename(path)))
    for name, data in one_op_models():
        p = os.path.join(dirs["onnx"], "op_" + name + ".onnx")
        write(p, data)
        small.append(("op_" + name, p))

    plans = 0
    for name, path in small:
        out = os.path.join(dirs["plan"], name + ".plan")
        r = subprocess.run([a.inferexec, "--onnx", path, "--save-engine", out, "--backend", "cpu",
                            "--iterations", "1", "--warmup", "0"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        if r.returncode == 0 and os.path.getsize(out) <= 4 * MAX_SEED_BYTES:
            plans += 1
        elif os.path.exists(out):
            os.remove(out)
    if plans == 0:
        sys.exit("make_seeds.py: inferexec wrote no plan")

    write(os.path.join(dirs["labels"], "crlf.txt"), b"person\r\ncar\r\n\r\nbus\r\n")
    write(os.path.join(dirs["labels"], "utf8.txt"), "chat\nh\u00e9risson\n\u732b\n".encode())
    write(os.path.join(dirs["labels"], "no_newline.txt"), b"  one  \ntwo")
    for i, text in enumerate(["0.485,0.456,0.406", "0.5", "1,0,1", " 1e-3 , 2 ,3", "nan",
                              "1,2", "0x10,1,1", "-inf,1,1"]):
        write(os.path.join(dirs["properties"], "p%d.txt" % i), text.encode())

    caffe_seeds(a.caffe, dirs["caffe_prototxt"], dirs["caffe_model"])
    calibration_seeds(a.calibration, dirs["calibration"])


SMALL_PROTOTXTS = {
    "mlp": """name: "mlp"
input: "x" input_shape { dim: 1 dim: 8 }
layer { name: "ip1" type: "InnerProduct" bottom: "x" top: "h" inner_product_param { num_output: 4 } }
layer { name: "relu" type: "ReLU" bottom: "h" top: "h" }
layer { name: "prob" type: "Softmax" bottom: "h" top: "prob" }
""",
    "conv_pool": """name: "cp"
layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 2 dim: 9 dim: 9 } } }
layer { name: "conv" type: "Convolution" bottom: "data" top: "conv"
        convolution_param { num_output: 3 kernel_size: 3 stride: 2 pad: 1 } }
layer { name: "pool" type: "Pooling" bottom: "conv" top: "pool"
        pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "flat" type: "Flatten" bottom: "pool" top: "flat" }
""",
    "eltwise_concat": """name: "ec"
input: "a" input_dim: 1 input_dim: 2 input_dim: 3 input_dim: 3
input: "b" input_dim: 1 input_dim: 2 input_dim: 3 input_dim: 3
layer { name: "sum" type: "Eltwise" bottom: "a" bottom: "b" top: "s" eltwise_param { operation: SUM } }
layer { name: "cat" type: "Concat" bottom: "s" bottom: "a" top: "c" concat_param { axis: 1 } }
layer { name: "perm" type: "Permute" bottom: "c" top: "p" permute_param { order: 0 order: 2 order: 3 order: 1 } }
""",
}


def caffe_seeds(caffe_dir, prototxt_dir, model_dir):
    for name, text in SMALL_PROTOTXTS.items():
        write(os.path.join(prototxt_dir, name + ".prototxt"), text.encode())
    if not caffe_dir:
        return
    for path in sorted(glob.glob(os.path.join(caffe_dir, "*", "deploy.prototxt"))):
        name = os.path.basename(os.path.dirname(path))
        shutil.copy(path, os.path.join(prototxt_dir, name + ".prototxt"))
    for name in ("zoo/zoo.caffemodel", "lenet/v1.caffemodel"):
        path = os.path.join(caffe_dir, name)
        if os.path.exists(path) and os.path.getsize(path) <= MAX_SEED_BYTES:
            shutil.copy(path, os.path.join(model_dir, os.path.basename(path)))


def calibration_seeds(calib_dir, out_dir):
    write(os.path.join(out_dir, "small.cache"),
          b"TRT-8601-EntropyCalibration2\ninput: 3c010204\nconv1:0: 3f800000\n")
    write(os.path.join(out_dir, "crlf.cache"),
          b"TRT-8500-MinMaxCalibration\r\nx: 0\r\n\r\ny: 7f7fffff")
    write(os.path.join(out_dir, "header_only.cache"), b"TRT-1-Percentile\n")
    if not calib_dir:
        return
    for path in sorted(glob.glob(os.path.join(calib_dir, "*.cache"))):
        if os.path.getsize(path) <= MAX_SEED_BYTES:
            shutil.copy(path, os.path.join(out_dir, os.path.basename(path)))


if __name__ == "__main__":
    main()
