#!/usr/bin/env python3
"""Reference models for the optimizer's figures, written as ONNX graphs.

torchvision's ResNet-50 and MobileNetV2 and the YOLO-style detector of
tests/bench/gpu_vs_pytorch.py (ResNet-18 trunk, FPN-like neck, two heads),
with random weights. Where PyTorch is installed the script exports them
with torch.onnx.export (opset 17, dynamic batch), as gpu_vs_pytorch.py
does. Where it is not, it builds the same graphs node for node with the
onnx helper API, in the form torch.onnx.export gives in eval mode:
BatchNorm folded into the convolutions, ReLU6 as Clip with constant
bounds, SiLU as Sigmoid + Mul, Upsample as Resize with constant scales,
the detector's reshapes computed from Shape/Gather nodes, the classifier's
Dropout gone (ResNet-50: 122 nodes, as torchvision's export).

    python3 tests/models/export_reference_models.py OUT_DIR [--models resnet50,...]
        [--force-helper]

writes OUT_DIR/<model>.onnx and prints the node count of each.
"""
import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MODELS = ("resnet50", "mobilenet_v2", "yolo_style")
SIZES = {"resnet50": 224, "mobilenet_v2": 224, "yolo_style": 320}


class Graph:
    """Nodes and initializers of one graph, with fresh names."""

    def __init__(self, seed):
        self.nodes, self.inits, self.count = [], [], {}
        self.rng = np.random.default_rng(seed)

    def name(self, base):
        self.count[base] = self.count.get(base, 0) + 1
        return "%s_%d" % (base, self.count[base])

    def const(self, array, base="const"):
        n = self.name(base)
        self.inits.append(numpy_helper.from_array(np.asarray(array), n))
        return n

    def node(self, op, inputs, base=None, **attrs):
        out = self.name(base or op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    # layers ---------------------------------------------------------------

    def conv(self, x, cin, cout, k, stride=1, pad=0, group=1):
        """A convolution with its BatchNorm folded in (weights and bias)."""
        fan_in = cin // group * k * k
        w = self.rng.normal(0, np.sqrt(2.0 / fan_in), (cout, cin // group, k, k))
        b = self.rng.uniform(-0.1, 0.1, cout)
        return self.node("Conv", [x, self.const(w.astype(np.float32), "w"),
                                  self.const(b.astype(np.float32), "b")],
                         kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4,
                         group=group, dilations=[1, 1])

    def relu(self, x):
        return self.node("Relu", [x])

    def relu6(self, x):
        lo = self.const(np.array(0, np.float32), "min")
        hi = self.const(np.array(6, np.float32), "max")
        return self.node("Clip", [x, lo, hi])

    def silu(self, x):
        return self.node("Mul", [x, self.node("Sigmoid", [x])])

    def add(self, a, b):
        return self.node("Add", [a, b])

    def classifier(self, x, features, classes=1000):
        x = self.node("GlobalAveragePool", [x])
        x = self.node("Flatten", [x], axis=1)
        w = self.rng.normal(0, np.sqrt(1.0 / features), (classes, features)).astype(np.float32)
        b = np.zeros(classes, np.float32)
        return self.node("Gemm", [x, self.const(w, "fc_w"), self.const(b, "fc_b")],
                         alpha=1.0, beta=1.0, transB=1)

    def model(self, x, out, size, out_shape):
        inp = helper.make_tensor_value_info(x, TensorProto.FLOAT, ["batch", 3, size, size])
        self.nodes[-1].output[0] = out
        outp = helper.make_tensor_value_info(out, TensorProto.FLOAT, out_shape)
        graph = helper.make_graph(self.nodes, "main_graph", [inp], [outp], self.inits)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="export_reference_models.py")
        onnx.checker.check_model(m)
        return m


# ---- torchvision ResNet (v1.5: stride in the 3x3 conv) ----------------------


def bottleneck(g, x, cin, width, stride):
    y = g.relu(g.conv(x, cin, width, 1))
    y = g.relu(g.conv(y, width, width, 3, stride, 1))
    y = g.conv(y, width, width * 4, 1)
    if stride != 1 or cin != width * 4:
        x = g.conv(x, cin, width * 4, 1, stride)
    return g.relu(g.add(y, x)), width * 4


def basic_block(g, x, cin, width, stride):
    y = g.relu(g.conv(x, cin, width, 3, stride, 1))
    y = g.conv(y, width, width, 3, 1, 1)
    if stride != 1 or cin != width:
        x = g.conv(x, cin, width, 1, stride)
    return g.relu(g.add(y, x)), width


def resnet_stem(g, x):
    x = g.relu(g.conv(x, 3, 64, 7, 2, 3))
    return g.node("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])


def resnet_stage(g, x, cin, block, width, blocks, stride):
    for i in range(blocks):
        x, cin = block(g, x, cin, width, stride if i == 0 else 1)
    return x, cin


def resnet50():
    g = Graph(50)
    x = resnet_stem(g, "input")
    c = 64
    for width, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        x, c = resnet_stage(g, x, c, bottleneck, width, blocks, stride)
    g.classifier(x, c)
    return g.model("input", "output", 224, ["batch", 1000])


# ---- torchvision MobileNetV2 --------------------------------------------------


def mobilenet_v2():
    g = Graph(2)
    x = g.relu6(g.conv("input", 3, 32, 3, 2, 1))
    c = 32
    for t, cout, n, s in ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                          (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)):
        for i in range(n):
            stride, hidden = (s if i == 0 else 1), c * t
            y = x
            if t != 1:
                y = g.relu6(g.conv(y, c, hidden, 1))
            y = g.relu6(g.conv(y, hidden, hidden, 3, stride, 1, group=hidden))
            y = g.conv(y, hidden, cout, 1)
            x = g.add(x, y) if stride == 1 and c == cout else y
            c = cout
    x = g.relu6(g.conv(x, c, 1280, 1))
    g.classifier(x, 1280)
    return g.model("input", "output", 224, ["batch", 1000])


# ---- the YOLO-style detector of tests/bench/gpu_vs_pytorch.py -----------------


def shape_dim(g, shape, i):
    """x.shape[i] as torch traces it: Gather of Shape, a 0-d i64."""
    return g.node("Gather", [shape, g.const(np.array(i, np.int64), "idx")], axis=0)


def unsqueeze0(g, v):
    return g.node("Unsqueeze", [v, g.const(np.array([0], np.int64), "axes")])


def flat(g, x):
    """x.view(n, 3, 85, h * w).permute(0, 1, 3, 2).reshape(n, 3 * h * w, 85)."""
    s = g.node("Shape", [x])
    n, h, w = shape_dim(g, s, 0), shape_dim(g, s, 2), shape_dim(g, s, 3)
    hw = g.node("Mul", [h, w])
    three = g.const(np.array([3], np.int64), "c3")
    c85 = g.const(np.array([85], np.int64), "c85")
    view = g.node("Concat", [unsqueeze0(g, n), three, c85, unsqueeze0(g, hw)], axis=0)
    x = g.node("Reshape", [x, view])
    x = g.node("Transpose", [x], perm=[0, 1, 3, 2])
    cells = g.node("Mul", [g.const(np.array(3, np.int64), "c3s"), hw])
    rows = g.node("Concat", [unsqueeze0(g, n), unsqueeze0(g, cells), c85], axis=0)
    return g.node("Reshape", [x, rows])


def yolo_style():
    g = Graph(8)
    x = resnet_stem(g, "input")
    c = 64
    for width, stride in ((64, 1), (128, 2)):
        x, c = resnet_stage(g, x, c, basic_block, width, 2, stride)
    x4, c = resnet_stage(g, x, c, basic_block, 256, 2, 2)
    x5, c = resnet_stage(g, x4, c, basic_block, 512, 2, 2)
    p5 = g.silu(g.conv(x5, 512, 256, 1))
    scales = g.const(np.array([1, 1, 2, 2], np.float32), "scales")
    up = g.node("Resize", [p5, "", scales], mode="nearest",
                coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    p4 = g.silu(g.conv(g.node("Concat", [up, x4], axis=1), 512, 256, 3, 1, 1))
    heads = [flat(g, g.conv(p5, 256, 255, 1)), flat(g, g.conv(p4, 256, 255, 1))]
    g.node("Sigmoid", [g.node("Concat", heads, axis=1)])
    return g.model("input", "output", 320, ["batch", 1500, 85])  # 3 x (10² + 20²) cells


BUILDERS = {"resnet50": resnet50, "mobilenet_v2": mobilenet_v2, "yolo_style": yolo_style}


def export_torch(name, path):
    """The models through PyTorch, as tests/bench/gpu_vs_pytorch.py exports them."""
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "bench"))
    import gpu_vs_pytorch  # noqa: E402 (needs torch and torchvision)

    model, size = gpu_vs_pytorch.make_model(name)
    gpu_vs_pytorch.export(model, size, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--force-helper", action="store_true",
                    help="build with the onnx helper API even where PyTorch is installed")
    args = ap.parse_args()
    try:
        import torch  # noqa: F401
        import torchvision  # noqa: F401
        have_torch = not args.force_helper
    except ImportError:
        have_torch = False
    os.makedirs(args.out, exist_ok=True)
    for name in args.models.split(","):
        if name not in BUILDERS:
            sys.exit("unknown model %r (models: %s)" % (name, ", ".join(MODELS)))
        path = os.path.join(args.out, name + ".onnx")
        if have_torch:
            export_torch(name, path)
        else:
            onnx.save(BUILDERS[name](), path)
        m = onnx.load(path)
        print("%s: %d nodes, input 1x3x%d^2 (%s) -> %s" % (
            name, len(m.graph.node), SIZES[name], "torch.onnx.export" if have_torch else
            "onnx helper", path))


if __name__ == "__main__":
    main()
