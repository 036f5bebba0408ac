"""Helpers shared by train_classifier.py and train_detector.py."""

import copy
import inspect
import json
import math
import os
import platform
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "synthetic"))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

import scenes  # noqa: E402,F401  (re-exported)

# ONNX ops the infer engine supports; exports are checked against this set.
ALLOWED_OPS = {
    "Conv", "BatchNormalization", "Relu", "Sigmoid", "Mul", "Add", "Sub", "Div",
    "MaxPool", "AveragePool", "GlobalAveragePool", "Gemm", "MatMul", "Flatten",
    "Reshape", "Transpose", "Concat", "Split", "Slice", "Resize", "Shape", "Gather",
    "Unsqueeze", "Squeeze", "Constant", "ConstantOfShape", "Exp", "Softplus", "Clip",
    "Cast", "Range", "Expand", "Where", "Equal",
}
OPSET = 17
T0 = time.time()


def log(msg):
    print(f"[{time.time() - T0:7.1f}s] {msg}", flush=True)


def setup(seed, want_cuda=True):
    torch.manual_seed(seed)
    np.random.seed(seed)
    dev = torch.device("cuda" if want_cuda and torch.cuda.is_available() else "cpu")
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    return dev


def exact_fp32():
    """Turn TF32 off so that PyTorch evaluation matches onnxruntime closely."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False


def autocast(dev):
    if dev.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return torch.autocast("cpu", enabled=False)


def normalize(batch_u8):
    """uint8 NHWC RGB -> float NCHW (channels_last), x/255 then (x-0.5)/0.5."""
    x = batch_u8.permute(0, 3, 1, 2).float().mul_(2.0 / 255.0).sub_(1.0)
    return x.contiguous(memory_format=torch.channels_last)


def normalize_np(batch_u8):
    x = batch_u8.astype(np.float32).transpose(0, 3, 1, 2)
    return np.ascontiguousarray(x * (2.0 / 255.0) - 1.0, np.float32)


def conv_bn_relu(cin, cout, k=3, s=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, s, k // 2, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


def count_params(model):
    return int(sum(p.numel() for p in model.parameters()))


def lr_at(step, total, warmup, base, final_frac=0.02):
    """Linear warm-up, then cosine decay to final_frac * base."""
    if step < warmup:
        return base * (step + 1) / warmup
    t = (step - warmup) / max(total - warmup, 1)
    return base * (final_frac + (1 - final_frac) * 0.5 * (1 + math.cos(math.pi * t)))


def make_adamw(model, lr, wd, dev):
    """AdamW, no weight decay on biases and BN parameters; fused on CUDA."""
    decay = [p for p in model.parameters() if p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.ndim <= 1]
    groups = [{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}]
    try:
        return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.99), fused=dev.type == "cuda")
    except (TypeError, RuntimeError):             # old torch without fused AdamW
        return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.99))


class EMA:
    """Exponential moving average of a model's parameters and buffers."""

    def __init__(self, model, decay=0.999, tau=400.0):
        self.model = copy.deepcopy(model).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.decay, self.tau, self.updates = decay, tau, 0

    @torch.no_grad()
    def update(self, model):
        self.updates += 1
        d = self.decay * (1 - math.exp(-self.updates / self.tau))
        if not hasattr(self, "_pairs"):
            src = model.state_dict()
            dst = self.model.state_dict()
            fl = [k for k, v in dst.items() if v.dtype.is_floating_point]
            ot = [k for k, v in dst.items() if not v.dtype.is_floating_point]
            self._pairs = ([dst[k] for k in fl], [src[k] for k in fl],
                           [dst[k] for k in ot], [src[k] for k in ot])
        ema_f, src_f, ema_o, src_o = self._pairs
        if hasattr(torch, "_foreach_lerp_"):
            torch._foreach_lerp_(ema_f, src_f, 1.0 - d)
        else:
            for e, s in zip(ema_f, src_f):
                e.lerp_(s, 1.0 - d)
        for e, s in zip(ema_o, src_o):
            e.copy_(s)


def dihedral(x, flip_h, flip_v, transpose):
    """Per-sample flips/transpose of an NCHW (square) batch; masks are bool [N]."""
    m = lambda t: t[:, None, None, None]  # noqa: E731
    x = torch.where(m(transpose), x.transpose(2, 3), x)
    x = torch.where(m(flip_h), x.flip(3), x)
    return torch.where(m(flip_v), x.flip(2), x)


def export_onnx(model, example, path, output_name):
    import warnings
    model = model.eval().float().cpu().to(memory_format=torch.contiguous_format)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")            # the TorchScript exporter's deprecation
        kw = {}
        if "dynamo" in inspect.signature(torch.onnx.export).parameters:
            kw["dynamo"] = False                   # the TorchScript exporter: predictable ops
        torch.onnx.export(model, (example.cpu(),), path, opset_version=OPSET,
                          input_names=["input"], output_names=[output_name],
                          dynamic_axes={"input": {0: "N"}, output_name: {0: "N"}},
                          do_constant_folding=True, **kw)
    return check_onnx(path, output_name)


def check_onnx(path, output_name):
    """Checks the exported model's ops, names and batch dimension; returns info."""
    m = onnx.load(path)
    onnx.checker.check_model(m)
    ops = sorted({n.op_type for n in m.graph.node})
    bad = sorted(set(ops) - ALLOWED_OPS)
    log(f"{os.path.basename(path)} ops: {', '.join(ops)}")
    if bad:
        raise RuntimeError(f"{path}: ops outside the engine's set: {bad}")
    ins = [i for i in m.graph.input if i.name not in {t.name for t in m.graph.initializer}]
    outs = list(m.graph.output)
    if [i.name for i in ins] != ["input"] or [o.name for o in outs] != [output_name]:
        raise RuntimeError(f"{path}: unexpected io names {[i.name for i in ins]} -> "
                           f"{[o.name for o in outs]}")
    dims = lambda v: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]  # noqa
    if not isinstance(dims(ins[0])[0], str) or not isinstance(dims(outs[0])[0], str):
        raise RuntimeError(f"{path}: batch dimension is not dynamic")
    opsets = {o.domain or "ai.onnx": o.version for o in m.opset_import}
    return {"ops": ops, "input_shape": dims(ins[0]), "output_shape": dims(outs[0]),
            "opset": opsets.get("ai.onnx"), "nodes": len(m.graph.node),
            "bytes": os.path.getsize(path)}


def ort_run(path, x, batch=64):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = min(os.cpu_count() or 1, 16)
    sess = ort.InferenceSession(path, sess_options=so, providers=["CPUExecutionProvider"])
    name = sess.get_outputs()[0].name
    outs = [sess.run([name], {"input": x[i:i + batch]})[0] for i in range(0, len(x), batch)]
    return np.concatenate(outs, 0)


def env_info(dev):
    info = {"torch": torch.__version__, "python": platform.python_version(),
            "numpy": np.__version__, "onnx": onnx.__version__, "device": dev.type,
            "cpu_count": os.cpu_count()}
    try:
        import onnxruntime
        info["onnxruntime"] = onnxruntime.__version__
    except ImportError:
        pass
    if dev.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(0)
        info["cuda"] = torch.version.cuda
    return info


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")
