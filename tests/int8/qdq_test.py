#!/usr/bin/env python3
"""Explicitly quantized (QDQ) ONNX models through inferexec on the CPU
(or the CUDA backend), against onnxruntime.

  qdq_test.py INFEREXEC OUT_DIR [cpu|cuda]

With cuda the test exits 77 (skipped) where no NVIDIA GPU is present.

Builds small QDQ models with onnx.helper (int8, zero point 0: Q -> DQ on
activations, DQ of int8 weights per output channel or per tensor, DQ of
int32 biases), runs them in onnxruntime (which executes QDQ groups with its
int8 kernels) and through `inferexec --int8`, and checks:
  * every Conv/Gemm became an INT8 layer (--dump-graph precision column);
  * outputs (Q -> DQ, so on the grid of the output scale) within one LSB of
    the output scale of onnxruntime's, and how many are equal;
  * the same with --disable-pass quantize (Q/DQ run as layers, float math
    between them);
  * --int8 without --calib on a model without Q/DQ nodes fails clearly."""

import os
import re
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

F = np.float32
RNG = np.random.default_rng(5)


class Builder:
    def __init__(self):
        self.nodes, self.inits, self.n = [], [], 0

    def name(self, base):
        self.n += 1
        return f"{base}_{self.n}"

    def const(self, base, arr):
        nm = self.name(base)
        self.inits.append(numpy_helper.from_array(arr, nm))
        return nm

    def node(self, op, inputs, **attrs):
        out = self.name(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def qdq(self, x, scale):
        """Q -> DQ of an activation (per tensor, int8 zero point 0)."""
        s = self.const("s", np.array(scale, F))
        z = self.const("zp", np.array(0, np.int8))
        q = self.node("QuantizeLinear", [x, s, z])
        return self.node("DequantizeLinear", [q, s, z])

    def weights(self, w, axis, per_channel=True):
        """DQ of int8 weights quantized symmetric; returns (dq output, scales)."""
        red = tuple(i for i in range(w.ndim) if i != axis)
        amax = np.abs(w).max(axis=red) if per_channel else np.abs(w).max(keepdims=False)
        scale = (np.maximum(amax, 1e-8) / 127).astype(F)
        shape = [1] * w.ndim
        if per_channel:
            shape[axis] = -1
        wq = np.clip(np.rint(w / scale.reshape(shape)), -127, 127).astype(np.int8)
        s = self.const("ws", scale)
        z = self.const("wzp", np.zeros(scale.shape, np.int8))
        attrs = {"axis": axis} if per_channel else {}
        return self.node("DequantizeLinear", [self.const("wq", wq), s, z], **attrs), scale

    def bias(self, b, scale):
        """DQ of an int32 bias at scale x_scale * w_scale (what quantizers emit)."""
        bq = np.rint(b / scale).astype(np.int32)
        s = self.const("bs", scale.astype(F))
        attrs = {"axis": 0} if scale.ndim == 1 and scale.size > 1 else {}
        return self.node("DequantizeLinear", [self.const("bq", bq), s], **attrs)

    def conv(self, x, x_scale, cin, cout, k, pad, per_channel=True, relu=False):
        w = RNG.normal(0, 1.0 / np.sqrt(cin * k * k), (cout, cin, k, k)).astype(F)
        wd, ws = self.weights(w, 0, per_channel)
        b = self.bias(RNG.normal(0, 0.1, cout).astype(F), F(x_scale) * np.broadcast_to(ws, (cout,)))
        y = self.node("Conv", [x, wd, b], pads=[pad] * 4)
        return self.node("Relu", [y]) if relu else y

    def model(self, x_shape, y, y_shape, opset=13):
        g = helper.make_graph(self.nodes, "qdq",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
                              [helper.make_tensor_value_info(y, TensorProto.FLOAT, y_shape)],
                              self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
        m.ir_version = 8
        onnx.checker.check_model(m)
        return m


def qdq_conv():
    b = Builder()
    a = b.qdq("x", 0.02)
    y = b.conv(a, 0.02, 3, 8, 3, 1, relu=True)
    return b.model([1, 3, 16, 16], b.qdq(y, 0.015), [1, 8, 16, 16]), 1, 0.015


def qdq_residual_gemm():
    b = Builder()
    a = b.qdq("x", 0.03)
    c1 = b.qdq(b.conv(a, 0.03, 8, 8, 3, 1, relu=True), 0.02)
    c2 = b.conv(c1, 0.02, 8, 8, 3, 1)
    r = b.qdq(b.node("Relu", [b.node("Add", [c2, a])]), 0.04)
    p = b.node("Flatten", [b.node("GlobalAveragePool", [r])])
    p = b.qdq(p, 0.01)
    w = RNG.normal(0, 0.3, (10, 8)).astype(F)
    wd, ws = b.weights(w, 0, per_channel=False)
    bias = b.bias(RNG.normal(0, 0.1, 10).astype(F), np.array(F(0.01) * ws, F))
    g = b.node("Gemm", [p, wd, bias], transB=1)
    return b.model([2, 8, 10, 10], b.qdq(g, 0.02), [2, 10]), 3, 0.02


def qdq_gemm():
    b = Builder()
    a = b.qdq("x", 0.05)
    w = RNG.normal(0, 0.2, (16, 32)).astype(F)
    wd, ws = b.weights(w, 0)
    bias = b.bias(RNG.normal(0, 0.1, 16).astype(F), (F(0.05) * ws).astype(F))
    g = b.node("Relu", [b.node("Gemm", [a, wd, bias], transB=1)])
    return b.model([4, 32], b.qdq(g, 0.03), [4, 16]), 1, 0.03


def float_model():
    w = numpy_helper.from_array(RNG.normal(0, 1, (4, 3, 3, 3)).astype(F), "w")
    g = helper.make_graph([helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])], "f",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [w])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def main():
    exe, out = sys.argv[1], sys.argv[2]
    backend = sys.argv[3] if len(sys.argv) > 3 else "cpu"
    if backend == "cuda":
        try:
            gpus = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True).stdout
        except OSError:
            gpus = ""
        if "GPU" not in gpus:
            print("skipped: no CUDA device (nvidia-smi -L lists no GPU)")
            sys.exit(77)
    failures = 0
    for make in (qdq_conv, qdq_residual_gemm, qdq_gemm):
        name = make.__name__
        model, want_int8, y_scale = make()
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, "model.onnx")
        onnx.save(model, path)
        shape = [v.dim_value for v in model.graph.input[0].type.tensor_type.shape.dim]
        x = RNG.uniform(-2, 2, shape).astype(F)
        with open(os.path.join(d, "x.pb"), "wb") as f:
            f.write(numpy_helper.from_array(x, "x").SerializeToString())
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        want = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"]).run(
            None, {"x": x})[0]
        yname = model.graph.output[0].name
        # --int8-exact: the fused layers stay bit-equal to the CPU reference, so
        # one LSB against onnxruntime holds through chains of layers
        for variant, extra in (("int8", ["--int8", "--int8-exact"]),
                               ("qdq-layers", ["--int8", "--disable-pass", "quantize"])):
            od = os.path.join(d, variant)
            os.makedirs(od, exist_ok=True)
            rc, text = run([exe, "--onnx", path, "--backend", backend, *extra, "--load-inputs",
                            "x:" + os.path.join(d, "x.pb"), "--save-outputs", od, "--iterations",
                            "1", "--warmup", "0", "--dump-graph"])
            if rc != 0:
                print(f"FAIL {name} {variant}: inferexec failed:\n{text}")
                failures += 1
                continue
            after = text.split("after optimization", 1)[-1]
            n_int8 = len(re.findall(r"\s(conv|gemm)\s+int8\s", after))
            got = numpy_helper.to_array(onnx.load_tensor(os.path.join(od, yname + ".pb")))
            lsb = np.abs(got.astype(np.float64) - want) / y_scale
            equal = float(np.mean(lsb < 1e-3))
            ok = got.shape == want.shape and lsb.max() <= 1.0 + 1e-3
            if variant == "int8":
                ok = ok and n_int8 == want_int8
            print(f"{'ok' if ok else 'FAIL'} {name} {variant} ({backend}): int8 layers {n_int8} "
                  f"(want {want_int8 if variant == 'int8' else 'any'}), max |diff| "
                  f"{lsb.max():.3f} LSB, equal {equal * 100:.1f}% of {got.size}")
            failures += not ok
    # --int8 without a cache on a float model: a clear error
    path = os.path.join(out, "float_conv.onnx")
    onnx.save(float_model(), path)
    rc, text = run([exe, "--onnx", path, "--backend", backend, "--int8", "--iterations", "1",
                    "--warmup", "0"])
    ok = rc != 0 and "calibration cache" in text and "Quantize/Dequantize" in text
    print(f"{'ok' if ok else 'FAIL'} --int8 without --calib on a float model: exit {rc}: "
          f"{text.strip().splitlines()[-1] if text.strip() else ''}")
    failures += not ok
    print(f"qdq: {failures} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
