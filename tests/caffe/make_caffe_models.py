#!/usr/bin/env python3
"""Writes the Caffe test models and their ONNX twins.

    OUT/lenet/deploy.prototxt     MNIST LeNet as in Caffe's examples (Input 1x1x28x28)
    OUT/lenet/lenet.caffemodel    deterministic random weights (binary NetParameter)
    OUT/lenet/mean.binaryproto    a 1x1x28x28 mean (BlobProto, legacy 4-D fields)
    OUT/lenet/lenet.onnx          the same net with the same weights, mean subtracted
    OUT/lenet/input.pb, prob.pb   an input and onnxruntime's output for it
    OUT/lenet/bad_shape.caffemodel  conv1 weights 20x1x3x3 (error test)
    OUT/lenet/v1.caffemodel       a legacy V1 ('layers') file (error test)
    OUT/zoo/...                   a net using the other layer types, same files
                                  (no mean; outputs found as unconsumed blobs)

The caffemodels are encoded by a small protobuf wire writer below (field
numbers from Caffe's caffe.proto), so no Caffe and no generated protobuf
classes are needed. Expected outputs come from onnxruntime with graph
optimizations off.

Usage: python3 make_caffe_models.py OUT_DIR
"""

import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper, TensorProto

# ---- protobuf wire format ---------------------------------------------------


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_bytes(number, payload):
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def field_varint(number, value):
    return varint(number << 3) + varint(value)


def field_string(number, text):
    return field_bytes(number, text.encode())


def blob_proto(arr, legacy=False):
    """BlobProto: shape (7) or legacy num/channels/height/width (1-4), data (5)."""
    arr = np.asarray(arr, dtype=np.float32)
    out = b""
    if legacy:
        dims = [1] * (4 - arr.ndim) + list(arr.shape)
        for number, d in zip((1, 2, 3, 4), dims):
            out += field_varint(number, d)
    else:
        out += field_bytes(7, field_bytes(1, b"".join(varint(d) for d in arr.shape)))
    out += field_bytes(5, arr.astype("<f4").tobytes())
    return out


def layer_proto(name, type_, blobs):
    out = field_string(1, name) + field_string(2, type_)
    for b in blobs:
        out += field_bytes(7, b)
    return out


def net_proto(name, layers):
    """layers: [(name, type, [blob bytes])] as NetParameter.layer (100)."""
    out = field_string(1, name)
    for l in layers:
        out += field_bytes(100, layer_proto(*l))
    return out


def v1_net_proto(name):
    """A NetParameter with a V1 'layers' entry (2): name 4, type 5 (enum)."""
    v1 = field_string(4, "conv1") + field_varint(5, 4)
    return field_string(1, name) + field_bytes(2, v1)


# ---- helpers ----------------------------------------------------------------


def write(path, data):
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)


def write_tensor(path, arr, name):
    write(path, numpy_helper.from_array(np.asarray(arr), name=name).SerializeToString())


def run_ort(model, feeds):
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(model.SerializeToString(), sess_options=so,
                                providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(names, feeds)))


class Onnx:
    """Collects nodes and initializers of an ONNX twin."""

    def __init__(self):
        self.nodes, self.inits, self.count = [], [], 0

    def const(self, arr, dtype=np.float32):
        self.count += 1
        name = f"c{self.count}"
        self.inits.append(numpy_helper.from_array(np.asarray(arr, dtype=dtype), name))
        return name

    def op(self, op_type, inputs, out=None, n_out=1, **attrs):
        self.count += 1
        outs = [out] if out else [f"t{self.count}_{i}" for i in range(n_out)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, **attrs))
        return outs[0] if n_out == 1 else outs

    def model(self, inputs, outputs):
        g = helper.make_graph(self.nodes, "twin", inputs, outputs, self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
        m.ir_version = 8
        onnx.checker.check_model(m)
        return m


def value_info(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


# ---- LeNet ------------------------------------------------------------------

LENET_PROTOTXT = """# MNIST LeNet in Caffe's deploy form
name: "LeNet"
layer {
  name: "data"
  type: "Input"
  top: "data"
  input_param { shape: { dim: 1 dim: 1 dim: 28 dim: 28 } }
}
layer {
  name: "conv1"
  type: "Convolution"
  bottom: "data"
  top: "conv1"
  param { lr_mult: 1 }
  param { lr_mult: 2 }
  convolution_param {
    num_output: 20
    kernel_size: 5
    stride: 1
    weight_filler { type: "xavier" }
    bias_filler { type: "constant" }
  }
}
layer {
  name: "pool1"
  type: "Pooling"
  bottom: "conv1"
  top: "pool1"
  pooling_param { pool: MAX kernel_size: 2 stride: 2 }
}
layer {
  name: "conv2"
  type: "Convolution"
  bottom: "pool1"
  top: "conv2"
  convolution_param { num_output: 50 kernel_size: 5 stride: 1 }
}
layer {
  name: "pool2"
  type: "Pooling"
  bottom: "conv2"
  top: "pool2"
  pooling_param { pool: MAX kernel_size: 2 stride: 2 }
}
layer {
  name: "ip1"
  type: "InnerProduct"
  bottom: "pool2"
  top: "ip1"
  inner_product_param { num_output: 500 }
}
layer { name: "relu1" type: "ReLU" bottom: "ip1" top: "ip1" }
layer {
  name: "ip2"
  type: "InnerProduct"
  bottom: "ip1"
  top: "ip2"
  inner_product_param { num_output: 10 }
}
layer { name: "prob" type: "Softmax" bottom: "ip2" top: "prob" }
"""


def make_lenet(out):
    rng = np.random.default_rng(7)

    def rand(*shape, scale=0.1):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    w = {
        "conv1": (rand(20, 1, 5, 5, scale=0.2), rand(20)),
        "conv2": (rand(50, 20, 5, 5, scale=0.05), rand(50)),
        "ip1": (rand(500, 800, scale=0.03), rand(500)),
        "ip2": (rand(10, 500, scale=0.05), rand(10)),
    }
    mean = (rng.random((1, 1, 28, 28)) * 0.5).astype(np.float32)
    os.makedirs(out, exist_ok=True)
    write(os.path.join(out, "deploy.prototxt"), LENET_PROTOTXT)
    # ip1's weights use the legacy 4-D fields (1x1x500x800), as old files do
    layers = [("data", "Input", []),
              ("conv1", "Convolution", [blob_proto(w["conv1"][0]), blob_proto(w["conv1"][1])]),
              ("pool1", "Pooling", []),
              ("conv2", "Convolution", [blob_proto(w["conv2"][0]), blob_proto(w["conv2"][1])]),
              ("pool2", "Pooling", []),
              ("ip1", "InnerProduct", [blob_proto(w["ip1"][0], legacy=True),
                                       blob_proto(w["ip1"][1], legacy=True)]),
              ("relu1", "ReLU", []),
              ("ip2", "InnerProduct", [blob_proto(w["ip2"][0]), blob_proto(w["ip2"][1])]),
              ("prob", "Softmax", [])]
    write(os.path.join(out, "lenet.caffemodel"), net_proto("LeNet", layers))
    bad = list(layers)
    bad[1] = ("conv1", "Convolution", [blob_proto(rand(20, 1, 3, 3)), blob_proto(w["conv1"][1])])
    write(os.path.join(out, "bad_shape.caffemodel"), net_proto("LeNet", bad))
    write(os.path.join(out, "v1.caffemodel"), v1_net_proto("LeNet"))
    write(os.path.join(out, "mean.binaryproto"), blob_proto(mean, legacy=True))

    o = Onnx()
    x = o.op("Sub", ["data", o.const(mean[0])])
    x = o.op("Conv", [x, o.const(w["conv1"][0]), o.const(w["conv1"][1])], kernel_shape=[5, 5])
    x = o.op("MaxPool", [x], kernel_shape=[2, 2], strides=[2, 2])
    x = o.op("Conv", [x, o.const(w["conv2"][0]), o.const(w["conv2"][1])], kernel_shape=[5, 5])
    x = o.op("MaxPool", [x], kernel_shape=[2, 2], strides=[2, 2])
    x = o.op("Flatten", [x], axis=1)
    x = o.op("Gemm", [x, o.const(w["ip1"][0]), o.const(w["ip1"][1])], transB=1)
    x = o.op("Relu", [x])
    x = o.op("Gemm", [x, o.const(w["ip2"][0]), o.const(w["ip2"][1])], transB=1)
    o.op("Softmax", [x], out="prob", axis=1)
    model = o.model([value_info("data", [1, 1, 28, 28])], [value_info("prob", [1, 10])])
    write(os.path.join(out, "lenet.onnx"), model.SerializeToString())
    data = rng.random((1, 1, 28, 28)).astype(np.float32)
    write_tensor(os.path.join(out, "input.pb"), data, "data")
    for name, value in run_ort(model, {"data": data}).items():
        write_tensor(os.path.join(out, name + ".pb"), value, name)


# ---- the layer zoo ----------------------------------------------------------

ZOO_PROTOTXT = """# Every other supported layer type once; shapes in the comments.
name: "Zoo"
input: "data"
input_dim: 1 input_dim: 4 input_dim: 16 input_dim: 16
layer {  # 8x16x16, two groups
  name: "conv_a" type: "Convolution" bottom: "data" top: "conv_a"
  convolution_param { num_output: 8 kernel_size: 3 pad: 1 group: 2 }
}
layer { name: "bn_a" type: "BatchNorm" bottom: "conv_a" top: "conv_a"
        batch_norm_param { use_global_stats: true eps: 1e-4 } }
layer { name: "sc_a" type: "Scale" bottom: "conv_a" top: "conv_a" scale_param { bias_term: true } }
layer { name: "prelu_a" type: "PReLU" bottom: "conv_a" top: "conv_a" }
layer {  # dilated, no bias: 8x16x16
  name: "conv_b" type: "Convolution" bottom: "conv_a" top: "conv_b"
  convolution_param { num_output: 8 kernel_h: 3 kernel_w: 3 pad_h: 2 pad_w: 2 dilation: 2
                      bias_term: false }
}
layer { name: "lrn_b" type: "LRN" bottom: "conv_b" top: "lrn_b"
        lrn_param { local_size: 3 alpha: 0.5 beta: 0.75 k: 2 } }
layer { name: "elt_sum" type: "Eltwise" bottom: "conv_a" bottom: "lrn_b" top: "elt_sum"
        eltwise_param { operation: SUM coeff: 0.5 coeff: -1 } }
layer { name: "elt_prod" type: "Eltwise" bottom: "elt_sum" bottom: "conv_b" top: "elt_prod"
        eltwise_param { operation: PROD } }
layer { name: "elt_max" type: "Eltwise" bottom: "elt_prod" bottom: "elt_sum" bottom: "lrn_b"
        top: "elt_max" eltwise_param { operation: MAX } }
layer {  # ceil rounding: 8x9x9, the last window clipped at the padded edge
  name: "pool_ave" type: "Pooling" bottom: "elt_max" top: "pool_ave"
  pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 }
}
layer { name: "lrn_w" type: "LRN" bottom: "pool_ave" top: "lrn_w"
        lrn_param { norm_region: WITHIN_CHANNEL local_size: 3 alpha: 0.2 beta: 0.75 } }
layer {  # 6x18x18
  name: "deconv" type: "Deconvolution" bottom: "pool_ave" top: "deconv"
  convolution_param { num_output: 6 kernel_size: 4 stride: 2 pad: 1 group: 2 }
}
layer { name: "gpool" type: "Pooling" bottom: "deconv" top: "gpool"
        pooling_param { pool: AVE global_pooling: true } }
layer {  # ceil without padding: 6x9x9
  name: "pool_max" type: "Pooling" bottom: "deconv" top: "pool_max"
  pooling_param { pool: MAX kernel_size: 3 stride: 2 }
}
layer { name: "slice" type: "Slice" bottom: "pool_max" top: "s0" top: "s1" top: "s2"
        slice_param { axis: 1 slice_point: 2 slice_point: 5 } }
layer { name: "power" type: "Power" bottom: "s0" top: "pw"
        power_param { power: 2 scale: 0.5 shift: 1.5 } }
layer { name: "sig" type: "Sigmoid" bottom: "s1" top: "s1" }
layer { name: "tanh" type: "TanH" bottom: "s2" top: "s2" }
layer { name: "concat" type: "Concat" bottom: "pw" bottom: "s1" bottom: "s2" top: "concat"
        concat_param { axis: 1 } }
layer { name: "permute" type: "Permute" bottom: "concat" top: "permute"
        permute_param { order: 0 order: 2 order: 3 order: 1 } }
layer { name: "reshape" type: "Reshape" bottom: "permute" top: "reshape"
        reshape_param { shape { dim: 0 dim: -1 dim: 6 } } }
layer { name: "ip_t" type: "InnerProduct" bottom: "reshape" top: "ip_t"
        inner_product_param { num_output: 5 axis: 2 transpose: true } }
layer { name: "flat" type: "Flatten" bottom: "ip_t" top: "flat" }
layer { name: "ip" type: "InnerProduct" bottom: "flat" top: "ip"
        inner_product_param { num_output: 10 } }
layer { name: "drop" type: "Dropout" bottom: "ip" top: "ip" dropout_param { dropout_ratio: 0.3 } }
layer { name: "relu_leaky" type: "ReLU" bottom: "ip" top: "ip" relu_param { negative_slope: 0.1 } }
layer { name: "prob" type: "Softmax" bottom: "ip" top: "prob" }
layer { name: "train_only" type: "Accuracy" bottom: "prob" top: "accuracy"
        include { phase: TRAIN } }
"""


def make_zoo(out):
    rng = np.random.default_rng(11)

    def rand(*shape, scale=0.3):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    conv_a = (rand(8, 2, 3, 3), rand(8))
    bn_mean, bn_var = rand(8), (rng.random(8) + 0.5).astype(np.float32)
    bn_factor = np.array([2.0], np.float32)
    sc = ((rng.random(8) + 0.5).astype(np.float32), rand(8))
    prelu = (rng.random(8) * 0.5).astype(np.float32)
    conv_b = rand(8, 8, 3, 3, scale=0.15)
    deconv = (rand(8, 3, 4, 4, scale=0.2), rand(6))
    ip_t = (rand(6, 5), rand(5))
    ip = (rand(10, 405, scale=0.05), rand(10))
    os.makedirs(out, exist_ok=True)
    write(os.path.join(out, "deploy.prototxt"), ZOO_PROTOTXT)
    B = blob_proto
    layers = [("conv_a", "Convolution", [B(conv_a[0]), B(conv_a[1])]),
              ("bn_a", "BatchNorm", [B(bn_mean * 2), B(bn_var * 2), B(bn_factor)]),
              ("sc_a", "Scale", [B(sc[0]), B(sc[1])]),
              ("prelu_a", "PReLU", [B(prelu)]),
              ("conv_b", "Convolution", [B(conv_b)]),
              ("deconv", "Deconvolution", [B(deconv[0]), B(deconv[1])]),
              ("ip_t", "InnerProduct", [B(ip_t[0]), B(ip_t[1])]),
              ("ip", "InnerProduct", [B(ip[0]), B(ip[1])])]
    write(os.path.join(out, "zoo.caffemodel"), net_proto("Zoo", layers))

    o = Onnx()
    c = o.const
    x = o.op("Conv", ["data", c(conv_a[0]), c(conv_a[1])], kernel_shape=[3, 3], pads=[1] * 4,
             group=2)
    # the stored sums divided by the factor, as Caffe does
    x = o.op("BatchNormalization", [x, c(np.ones(8)), c(np.zeros(8)), c(bn_mean * 2 / 2.0),
                                    c(bn_var * 2 / 2.0)], epsilon=1e-4)
    x = o.op("Mul", [x, c(sc[0].reshape(8, 1, 1))])
    x = o.op("Add", [x, c(sc[1].reshape(8, 1, 1))])
    conv_a_out = o.op("PRelu", [x, c(prelu.reshape(8, 1, 1))])
    conv_b_out = o.op("Conv", [conv_a_out, c(conv_b)], kernel_shape=[3, 3], pads=[2] * 4,
                      dilations=[2, 2])
    lrn_b = o.op("LRN", [conv_b_out], size=3, alpha=0.5, beta=0.75, bias=2.0)
    elt_sum = o.op("Sub", [o.op("Mul", [conv_a_out, c(np.float32(0.5))]), lrn_b])
    elt_prod = o.op("Mul", [elt_sum, conv_b_out])
    elt_max = o.op("Max", [elt_prod, elt_sum, lrn_b])
    pool_ave = o.op("AveragePool", [elt_max], kernel_shape=[3, 3], strides=[2, 2], pads=[1] * 4,
                    ceil_mode=1, count_include_pad=1)
    # WITHIN_CHANNEL LRN: x * (1 + alpha * avgpool(x^2))^-beta
    sq = o.op("Mul", [pool_ave, pool_ave])
    avg = o.op("AveragePool", [sq], kernel_shape=[3, 3], pads=[1] * 4, count_include_pad=1)
    scaled = o.op("Add", [o.op("Mul", [avg, c(np.float32(0.2))]), c(np.float32(1.0))])
    o.op("Mul", [pool_ave, o.op("Pow", [scaled, c(np.float32(-0.75))])], out="lrn_w")
    dec = o.op("ConvTranspose", [pool_ave, c(deconv[0]), c(deconv[1])], kernel_shape=[4, 4],
               strides=[2, 2], pads=[1] * 4, group=2)
    o.op("GlobalAveragePool", [dec], out="gpool")
    pool_max = o.op("MaxPool", [dec], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)
    s0, s1, s2 = o.op("Split", [pool_max, c([2, 3, 1], np.int64)], n_out=3, axis=1)
    pw = o.op("Pow", [o.op("Add", [o.op("Mul", [s0, c(np.float32(0.5))]), c(np.float32(1.5))]),
                      c(np.float32(2.0))])
    cat = o.op("Concat", [pw, o.op("Sigmoid", [s1]), o.op("Tanh", [s2])], axis=1)
    perm = o.op("Transpose", [cat], perm=[0, 2, 3, 1])
    resh = o.op("Reshape", [perm, c([0, -1, 6], np.int64)])
    ipt = o.op("Add", [o.op("MatMul", [resh, c(ip_t[0])]), c(ip_t[1])])
    flat = o.op("Flatten", [ipt], axis=1)
    y = o.op("Gemm", [flat, c(ip[0]), c(ip[1])], transB=1)
    y = o.op("LeakyRelu", [y], alpha=0.1)
    o.op("Softmax", [y], out="prob", axis=1)
    outputs = [value_info("lrn_w", [1, 8, 9, 9]), value_info("gpool", [1, 6, 1, 1]),
               value_info("prob", [1, 10])]
    model = o.model([value_info("data", [1, 4, 16, 16])], outputs)
    write(os.path.join(out, "zoo.onnx"), model.SerializeToString())
    data = rng.standard_normal((1, 4, 16, 16)).astype(np.float32)
    write_tensor(os.path.join(out, "input.pb"), data, "data")
    for name, value in run_ort(model, {"data": data}).items():
        write_tensor(os.path.join(out, name + ".pb"), value, name)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    make_lenet(os.path.join(out, "lenet"))
    make_zoo(os.path.join(out, "zoo"))
    # meson's custom_target output: a stamp inside the folder
    write(os.path.join(out, "stamp"), "ok\n")


if __name__ == "__main__":
    main()
