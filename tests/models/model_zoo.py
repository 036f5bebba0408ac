"""Definitions of the small vision test models used by generate_models.py.

Every model is built with onnx.helper (opset 17, IR version 8, float32) from a
restricted set of ONNX ops that the infer engine supports.  Weights are drawn
from a numpy Generator that the caller seeds, so building the same model twice
gives byte-identical protobufs.

Each builder function returns a ModelSpec: the ModelProto plus, for every graph
input, its shape with the batch dimension left symbolic (the string "N") where
the model accepts a dynamic batch.
"""

import math
from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8


@dataclass
class ModelSpec:
    name: str
    model: onnx.ModelProto
    # graph input name -> shape (ints, or "N" for the dynamic batch dim)
    inputs: dict
    # graph output name -> declared shape (same convention)
    outputs: dict
    dynamic_batch: bool = field(default=False)


class GraphBuilder:
    """Tiny helper that accumulates nodes/initializers with unique names."""

    def __init__(self, name, rng):
        self.name = name
        self.rng = rng
        self.nodes = []
        self.initializers = []
        self.inputs = []
        self.outputs = []
        self.input_shapes = {}
        self.output_shapes = {}
        self._counts = {}

    # ---- naming -----------------------------------------------------------
    def _uniq(self, hint):
        n = self._counts.get(hint, 0)
        self._counts[hint] = n + 1
        return f"{hint}_{n}"

    # ---- graph interface ---------------------------------------------------
    def input(self, name, shape):
        self.inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))
        self.input_shapes[name] = list(shape)
        return name

    def output(self, name, shape):
        self.outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))
        self.output_shapes[name] = list(shape)
        return name

    def init(self, hint, array):
        """Add an initializer (float arrays are stored as float32)."""
        arr = np.asarray(array)
        if arr.dtype.kind == "f":
            arr = arr.astype(np.float32)
        name = self._uniq(hint)
        self.initializers.append(numpy_helper.from_array(arr, name=name))
        return name

    def constant(self, hint, array):
        """Emit a Constant node (exercises the Constant op) and return its output."""
        arr = np.asarray(array)
        if arr.dtype.kind == "f":
            arr = arr.astype(np.float32)
        out = self._uniq(hint)
        self.nodes.append(helper.make_node(
            "Constant", [], [out], name=self._uniq("Constant"),
            value=numpy_helper.from_array(arr, name=out + "_value")))
        return out

    def node(self, op, inputs, n_out=1, out=None, **attrs):
        """Append a node; returns its output name (or list of names if n_out > 1)."""
        if out is None:
            outs = [self._uniq(op.lower()) for _ in range(n_out)]
        else:
            outs = [out] if isinstance(out, str) else list(out)
        self.nodes.append(helper.make_node(op, list(inputs), outs,
                                           name=self._uniq(op), **attrs))
        return outs[0] if len(outs) == 1 else outs

    # ---- layers ---------------------------------------------------------------
    def he(self, shape, fan_in, gain=2.0):
        return self.rng.standard_normal(shape) * math.sqrt(gain / fan_in)

    def conv(self, x, cin, cout, k, stride=1, pad=None, group=1, bias=True, gain=2.0):
        if pad is None:
            pad = k // 2
        fan_in = (cin // group) * k * k
        w = self.init("conv_w", self.he((cout, cin // group, k, k), fan_in, gain))
        ins = [x, w]
        if bias:
            ins.append(self.init("conv_b", self.rng.standard_normal(cout) * 0.05))
        return self.node("Conv", ins, kernel_shape=[k, k], strides=[stride, stride],
                         pads=[pad, pad, pad, pad], dilations=[1, 1], group=group)

    def bn(self, x, c):
        r = self.rng
        scale = self.init("bn_scale", r.uniform(0.5, 1.5, c))
        bias = self.init("bn_bias", r.standard_normal(c) * 0.1)
        mean = self.init("bn_mean", r.standard_normal(c) * 0.1)
        var = self.init("bn_var", r.uniform(0.5, 1.5, c))
        return self.node("BatchNormalization", [x, scale, bias, mean, var],
                         epsilon=1e-5, momentum=0.9)

    def conv_bn(self, x, cin, cout, k, stride=1, group=1):
        return self.bn(self.conv(x, cin, cout, k, stride=stride, group=group, bias=False), cout)

    def relu(self, x):
        return self.node("Relu", [x])

    def relu6(self, x):
        lo = self.init("clip_min", np.array(0.0, np.float32))
        hi = self.init("clip_max", np.array(6.0, np.float32))
        return self.node("Clip", [x, lo, hi])

    def gemm(self, x, fin, fout, trans_b=True, gain=2.0, out=None):
        w = self.he((fout, fin) if trans_b else (fin, fout), fin, gain)
        wn = self.init("gemm_w", w)
        bn = self.init("gemm_b", self.rng.standard_normal(fout) * 0.05)
        return self.node("Gemm", [x, wn, bn], out=out, alpha=1.0, beta=1.0,
                         transB=int(trans_b))

    def i64(self, hint, values):
        return self.init(hint, np.array(values, dtype=np.int64))

    # ---- finish ----------------------------------------------------------------
    def build(self, dynamic_batch):
        graph = helper.make_graph(self.nodes, self.name, self.inputs, self.outputs,
                                  initializer=self.initializers)
        model = helper.make_model(graph, producer_name="infer-tests-generate_models",
                                  opset_imports=[helper.make_opsetid("", OPSET)])
        model.ir_version = IR_VERSION
        model.doc_string = f"infer conformance test model '{self.name}'"
        return ModelSpec(self.name, model, dict(self.input_shapes),
                         dict(self.output_shapes), dynamic_batch)


# ============================================================================
# Model definitions
# ============================================================================

def cnn_classifier(rng):
    g = GraphBuilder("cnn_classifier", rng)
    x = g.input("input", ["N", 3, 32, 32])
    h = g.relu(g.conv_bn(x, 3, 16, 3, stride=2))                  # [N,16,16,16]
    h = g.node("MaxPool", [h], kernel_shape=[2, 2], strides=[2, 2])  # [N,16,8,8]
    h = g.relu(g.conv_bn(h, 16, 32, 3))                           # [N,32,8,8]
    h = g.node("GlobalAveragePool", [h])                          # [N,32,1,1]
    h = g.node("Flatten", [h], axis=1)                            # [N,32]
    h = g.gemm(h, 32, 10, trans_b=True, gain=1.0)                 # [N,10]
    g.node("Softmax", [h], out="probs", axis=1)
    g.output("probs", ["N", 10])
    return g.build(dynamic_batch=True)


def residual_block(rng):
    g = GraphBuilder("residual_block", rng)
    x = g.input("input", ["N", 16, 16, 16])
    # Block 1: identity shortcut.
    h = g.relu(g.conv_bn(x, 16, 16, 3))
    h = g.conv_bn(h, 16, 16, 3)
    h = g.node("Add", [h, x])
    b1 = g.relu(h)                                                # [N,16,16,16]
    # Block 2: stride-2 main path with a strided 1x1 projection shortcut.
    h = g.relu(g.conv_bn(b1, 16, 32, 3, stride=2))
    h = g.conv_bn(h, 32, 32, 3)
    sc = g.conv_bn(b1, 16, 32, 1, stride=2)
    h = g.node("Add", [h, sc])
    g.node("Relu", [h], out="output")
    g.output("output", ["N", 32, 8, 8])
    return g.build(dynamic_batch=True)


def depthwise_separable(rng):
    g = GraphBuilder("depthwise_separable", rng)
    x = g.input("input", ["N", 16, 16, 16])
    # MobileNetV2 inverted residual, expansion 6, ReLU6 via Clip(0, 6).
    c, e = 16, 96
    h = g.relu6(g.conv_bn(x, c, e, 1))
    h = g.relu6(g.conv_bn(h, e, e, 3, group=e))
    h = g.conv_bn(h, e, c, 1)
    b1 = g.node("Add", [h, x])
    # MobileNetV3-style variant: HardSwish, plus a squeeze-excite gate with
    # HardSigmoid (Mul with a [N,C,1,1] broadcast).
    e = 64
    h = g.node("HardSwish", [g.conv_bn(b1, c, e, 1)])
    h = g.node("HardSwish", [g.conv_bn(h, e, e, 3, group=e)])
    s = g.node("GlobalAveragePool", [h])
    s = g.relu(g.conv(s, e, 16, 1))
    s = g.conv(s, 16, e, 1, gain=1.0)
    s = g.node("HardSigmoid", [s], alpha=1.0 / 6.0, beta=0.5)
    h = g.node("Mul", [h, s])
    h = g.conv_bn(h, e, c, 1)
    g.node("Add", [h, b1], out="output")
    g.output("output", ["N", 16, 16, 16])
    return g.build(dynamic_batch=True)


def fpn_upsample_concat(rng):
    g = GraphBuilder("fpn_upsample_concat", rng)
    coarse = g.input("coarse", ["N", 32, 8, 8])
    fine = g.input("fine", ["N", 16, 16, 16])
    scales = g.init("resize_scales", np.array([1, 1, 2, 2], np.float32))
    # Path A: nearest 2x (PyTorch-style asymmetric / floor), concat, 3x3 conv.
    up_n = g.node("Resize", [coarse, "", scales], mode="nearest",
                  coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    cat = g.node("Concat", [up_n, fine], axis=1)                  # [N,48,16,16]
    h = g.conv(cat, 48, 32, 3)
    g.node("Relu", [h], out="out_nearest")
    # Path B: 1x1 lateral conv, bilinear 2x with half_pixel, concat, 3x3 conv.
    lat = g.conv(coarse, 32, 16, 1)
    up_l = g.node("Resize", [lat, "", scales], mode="linear",
                  coordinate_transformation_mode="half_pixel")
    cat = g.node("Concat", [fine, up_l], axis=1)                  # [N,32,16,16]
    g.node("Conv", [cat, g.init("conv_w", g.he((16, 32, 3, 3), 32 * 9)),
                    g.init("conv_b", rng.standard_normal(16) * 0.05)],
           out="out_linear", kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    g.output("out_nearest", ["N", 32, 16, 16])
    g.output("out_linear", ["N", 16, 16, 16])
    return g.build(dynamic_batch=True)


def yolo_head(rng):
    num_classes = 3
    ch = 4 + 1 + num_classes
    g = GraphBuilder("yolo_head", rng)
    x = g.input("input", ["N", 32, 10, 10])
    p = g.conv(x, 32, ch, 1, gain=1.0)                            # [N,8,10,10]
    split = g.i64("split_sizes", [4, 1 + num_classes])
    box, conf = g.node("Split", [p, split], n_out=2, axis=1)
    conf = g.node("Sigmoid", [conf])
    p = g.node("Concat", [box, conf], axis=1)
    # PyTorch export pattern for a dynamic-batch view(n, ch, -1).
    shp = g.node("Shape", [p])
    n = g.node("Gather", [shp, g.i64("idx0", 0)], axis=0)         # scalar
    n = g.node("Unsqueeze", [n, g.i64("axes0", [0])])             # [1]
    rest = g.i64("rest_shape", [ch, -1])
    new_shape = g.node("Concat", [n, rest], axis=0)               # [3]
    p = g.node("Reshape", [p, new_shape])                         # [N,8,100]
    g.node("Transpose", [p], out="output", perm=[0, 2, 1])        # [N,100,8]
    g.output("output", ["N", 100, ch])
    return g.build(dynamic_batch=True)


def transformer_bits(rng):
    d = 64
    g = GraphBuilder("transformer_bits", rng)
    x = g.input("input", ["N", 16, d])
    # LayerNorm over the last axis, spelled out op by op.
    mean = g.node("ReduceMean", [x], axes=[-1], keepdims=1)
    xc = g.node("Sub", [x, mean])
    sq = g.node("Pow", [xc, g.init("two", np.array(2.0, np.float32))])
    var = g.node("ReduceMean", [sq], axes=[-1], keepdims=1)
    std = g.node("Sqrt", [g.node("Add", [var, g.init("eps", np.array(1e-5, np.float32))])])
    ln = g.node("Div", [xc, std])
    ln = g.node("Mul", [ln, g.init("ln_gamma", rng.uniform(0.5, 1.5, d))])
    ln = g.node("Add", [ln, g.init("ln_beta", rng.standard_normal(d) * 0.1)])
    # Linear layer [N,16,64] x [64,64] + bias.
    w = g.init("fc_w", g.he((d, d), d, gain=1.0))
    h = g.node("MatMul", [ln, w])
    h = g.node("Add", [h, g.init("fc_b", rng.standard_normal(d) * 0.05)])
    # GELU, erf form: x * 0.5 * (1 + erf(x / sqrt(2))).
    e = g.node("Erf", [g.node("Div", [h, g.constant("sqrt2", np.array(math.sqrt(2.0)))])])
    e = g.node("Add", [e, g.constant("one", np.array(1.0))])
    gelu = g.node("Mul", [g.node("Mul", [h, g.constant("half", np.array(0.5))]), e])
    # Self-attention-like scores: softmax(h h^T / sqrt(d)) h, plus residual.
    ht = g.node("Transpose", [gelu], perm=[0, 2, 1])              # [N,64,16]
    scores = g.node("MatMul", [gelu, ht])                         # [N,16,16]
    scores = g.node("Mul", [scores, g.init("attn_scale", np.array(1.0 / math.sqrt(d), np.float32))])
    attn = g.node("Softmax", [scores], axis=-1)
    ctx = g.node("MatMul", [attn, gelu])                          # [N,16,64]
    g.node("Add", [ctx, x], out="output")
    g.output("output", ["N", 16, d])
    return g.build(dynamic_batch=True)


def static_shapes_mlp(rng):
    g = GraphBuilder("static_shapes_mlp", rng)
    x = g.input("input", [4, 1, 8, 8])
    h = g.node("Flatten", [x], axis=1)                            # [4,64]
    h = g.relu(g.gemm(h, 64, 32, trans_b=True))
    h = g.node("Sigmoid", [g.gemm(h, 32, 16, trans_b=False, gain=1.0)])
    g.gemm(h, 16, 10, trans_b=True, gain=1.0, out="output")
    g.output("output", [4, 10])
    return g.build(dynamic_batch=False)


def misc_ops(rng):
    """Extra coverage for supported ops not used by the models above:
    ConvTranspose, LeakyRelu, Tanh, AveragePool, Slice, Squeeze, Exp."""
    g = GraphBuilder("misc_ops", rng)
    x = g.input("input", ["N", 8, 8, 8])
    h = g.conv(x, 8, 16, 3)
    h = g.node("LeakyRelu", [h], alpha=0.1)
    # ConvTranspose 2x upsample: weight layout [Cin, Cout/group, kH, kW].
    wt = g.init("deconv_w", g.he((16, 8, 2, 2), 16))  # stride == kernel: fan-in Cin
    bt = g.init("deconv_b", rng.standard_normal(8) * 0.05)
    h = g.node("ConvTranspose", [h, wt, bt], kernel_shape=[2, 2], strides=[2, 2])  # [N,8,16,16]
    h = g.node("Tanh", [h])
    h = g.node("AveragePool", [h], kernel_shape=[3, 3], strides=[2, 2],
               pads=[1, 1, 1, 1], count_include_pad=0)            # [N,8,8,8]
    # Crop channels 2..6 and a spatial window with step 2 on W.
    h = g.node("Slice", [h, g.i64("starts", [2, 1, 0]), g.i64("ends", [6, 7, 8]),
                         g.i64("axes", [1, 2, 3]), g.i64("steps", [1, 1, 2])])  # [N,4,6,4]
    h = g.node("Exp", [h])
    p = g.node("GlobalAveragePool", [h])                          # [N,4,1,1]
    g.node("Squeeze", [p, g.i64("sq_axes", [2, 3])], out="pooled")  # [N,4]
    g.node("Mul", [h, g.constant("k", np.array(0.5))], out="output")
    g.output("output", ["N", 4, 6, 4])
    g.output("pooled", ["N", 4])
    return g.build(dynamic_batch=True)


# name -> (builder, seed).  Seeds are fixed so output files are deterministic.
MODELS = {
    "cnn_classifier": (cnn_classifier, 1001),
    "residual_block": (residual_block, 1002),
    "depthwise_separable": (depthwise_separable, 1003),
    "fpn_upsample_concat": (fpn_upsample_concat, 1004),
    "yolo_head": (yolo_head, 1005),
    "transformer_bits": (transformer_bits, 1006),
    "static_shapes_mlp": (static_shapes_mlp, 1007),
    "misc_ops": (misc_ops, 1008),
}


def build(name):
    fn, seed = MODELS[name]
    return fn(np.random.default_rng(seed))
