#!/usr/bin/env python3
"""Engine throughput against PyTorch on the same GPU, in the same run.

Exports torchvision models (random weights) and a YOLO-style detector graph
to ONNX, then for every model, batch and precision measures
  - PyTorch: eval mode, channels_last, cudnn.benchmark, replayed CUDA graph
    (the strongest eager setting), FP32 (PyTorch's defaults, TF32 convs)
    and FP16 (model.half());
  - the engine: `inferexec --onnx M --shapes input:Bx3xHxW [--fp16]` with a
    shared timing cache, inputs already on the device;
  - INT8 (precision `int8`): the engine built with `--int8 --fp16 --calib
    CACHE` (INT8 where the GPU has INT8 kernels, FP16 elsewhere, as
    TensorRT builds), the cache made by `infer-calibrate --algo minmax` on
    32 random-normal images; PyTorch has no INT8 baseline on the GPU, so
    the row's PyTorch figure is its FP16 one, and the row also gives ours
    INT8 / ours FP16 (when fp16 is among the precisions);
prints throughput (images/s), latency and the ratio ours/PyTorch, engine
build time (cold and with the timing cache) and plan load time, checks that
outputs match PyTorch (normalized error ||a-b||/||a||), and appends the
table to a Markdown results file.

  python3 tests/bench/gpu_vs_pytorch.py --inferexec build-gpu/engine/tools/inferexec \
      --out RESULTS.md [--models resnet50,resnet18,mobilenet_v2,yolo_style]
      [--batches 1,8,64,256] [--precisions fp32,fp16,int8] [--compile]
      [--calibrate build-gpu/calibration/tools/infer-calibrate]

--compile adds torch.compile(mode="max-autotune") for ResNet-50 (minutes).
This is a benchmark, not a test: it asserts nothing about speed.
"""
import argparse
import datetime
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torchvision


class YoloStyle(nn.Module):
    """A detector-shaped graph: ResNet-18 trunk, a small FPN-like neck with
    upsampling and concatenation, and a head of 3 anchors x (4 + 1 + 80)
    per cell over two scales, flattened to [N, cells, 85] with sigmoid."""

    def __init__(self):
        super().__init__()
        r = torchvision.models.resnet18(weights=None)
        self.stem = nn.Sequential(r.conv1, r.bn1, r.relu, r.maxpool, r.layer1, r.layer2)
        self.c4, self.c5 = r.layer3, r.layer4
        self.lat5 = nn.Sequential(nn.Conv2d(512, 256, 1), nn.BatchNorm2d(256), nn.SiLU())
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.fuse4 = nn.Sequential(nn.Conv2d(512, 256, 3, padding=1), nn.BatchNorm2d(256), nn.SiLU())
        self.head5 = nn.Conv2d(256, 3 * 85, 1)
        self.head4 = nn.Conv2d(256, 3 * 85, 1)

    @staticmethod
    def flat(x):
        n, _, h, w = x.shape
        return x.view(n, 3, 85, h * w).permute(0, 1, 3, 2).reshape(n, 3 * h * w, 85)

    def forward(self, x):
        x3 = self.stem(x)
        x4 = self.c4(x3)
        x5 = self.c5(x4)
        p5 = self.lat5(x5)
        p4 = self.fuse4(torch.cat([self.up(p5), x4], 1))
        return torch.sigmoid(torch.cat([self.flat(self.head5(p5)), self.flat(self.head4(p4))], 1))


def make_model(name):
    torch.manual_seed(0)
    if name == "yolo_style":
        m = YoloStyle()
        size = 320
    else:
        m = getattr(torchvision.models, name)(weights=None)
        size = 224
    m.eval()
    # random but well-scaled BatchNorm statistics, as a trained model has
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.1, 0.1)
                mod.running_var.uniform_(0.5, 1.5)
    return m, size


def export(model, size, path):
    x = torch.randn(1, 3, size, size)
    kw = dict(input_names=["input"], output_names=["output"], opset_version=17,
              dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    try:
        torch.onnx.export(model, x, path, dynamo=False, **kw)
    except TypeError:
        torch.onnx.export(model, x, path, **kw)


def time_graph(fn, x, iters):
    """Replays a captured CUDA graph of fn(x); returns ms per call."""
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(3):
            fn(x)
    torch.cuda.current_stream().wait_stream(s)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        fn(x)
    for _ in range(5):
        g.replay()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(iters):
        g.replay()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / iters


def pytorch_ms(model, size, batch, precision, iters):
    torch.backends.cudnn.benchmark = True
    dtype = torch.float16 if precision == "fp16" else torch.float32
    m = model.to("cuda", dtype=dtype).to(memory_format=torch.channels_last)
    x = torch.randn(batch, 3, size, size, device="cuda", dtype=dtype).to(
        memory_format=torch.channels_last)
    with torch.inference_mode():
        return time_graph(m, x, iters)


def compiled_ms(model, size, batch, precision, iters):
    dtype = torch.float16 if precision == "fp16" else torch.float32
    m = model.to("cuda", dtype=dtype).to(memory_format=torch.channels_last)
    c = torch.compile(m, mode="max-autotune")
    x = torch.randn(batch, 3, size, size, device="cuda", dtype=dtype).to(
        memory_format=torch.channels_last)
    with torch.inference_mode():
        for _ in range(3):
            c(x)
        torch.cuda.synchronize()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(iters):
            c(x)
        end.record()
        torch.cuda.synchronize()
    return start.elapsed_time(end) / iters


def write_tensor(path, name, array):
    from onnx import numpy_helper
    t = numpy_helper.from_array(array, name)
    with open(path, "wb") as f:
        f.write(t.SerializeToString())


def read_tensor(path):
    import onnx
    from onnx import numpy_helper
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def run_inferexec(args, extra):
    cmd = [args.inferexec] + extra
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("inferexec failed: %s\n%s" % (" ".join(cmd), r.stderr[-2000:]))
    return r.stdout


def parse(out, key, pattern):
    m = re.search(pattern, out)
    return float(m.group(1)) if m else float("nan")


def default_calibrate(inferexec):
    """infer-calibrate of the build inferexec belongs to."""
    build = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(inferexec))))
    return os.path.join(build, "calibration", "tools", "infer-calibrate")


def calibration_cache(args, onnx_path, size, workdir):
    """A min-max calibration cache of the model from 32 random-normal images
    (4 files of 8), made once per model by infer-calibrate."""
    path = os.path.join(workdir, "calib_minmax.cache")
    if os.path.exists(path):
        return path
    data = os.path.join(workdir, "calib_data")
    os.makedirs(data, exist_ok=True)
    rng = np.random.default_rng(11)
    for i in range(4):
        write_tensor(os.path.join(data, "batch_%d.pb" % i), "input",
                     rng.standard_normal((8, 3, size, size)).astype(np.float32))
    cmd = [args.calibrate, "--onnx", onnx_path, "--data", data, "--cache", path, "--algo",
           "minmax", "--batch", "8", "--shape", "input:8x3x%dx%d" % (size, size)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("infer-calibrate failed: %s\n%s" % (" ".join(cmd), r.stderr[-2000:]))
    return path


def ours(args, onnx_path, size, batch, precision, cache, workdir):
    shapes = "input:%dx3x%dx%d" % (batch, size, size)
    plan = os.path.join(workdir, "plan_%s_%d.plan" % (precision, batch))
    common = ["--shapes", shapes, "--timing-cache", cache]
    if precision == "fp16":
        common.append("--fp16")
    if precision == "int8":
        common += ["--int8", "--fp16", "--calib", calibration_cache(args, onnx_path, size, workdir)]
    # cold: no timing cache yet for this model, precision and batch
    if os.path.exists(cache):
        os.remove(cache)
    out = run_inferexec(args, ["--onnx", onnx_path, "--save-engine", plan, "--iterations", "1",
                               "--warmup", "0"] + common)
    cold = parse(out, "build", r"build: ([0-9.]+) ms")
    out = run_inferexec(args, ["--onnx", onnx_path, "--iterations", "1", "--warmup", "0"] + common)
    cached = parse(out, "build", r"build: ([0-9.]+) ms")
    iters = max(20, min(400, 4000 // batch))
    out = run_inferexec(args, ["--load-engine", plan, "--shapes", shapes, "--iterations",
                               str(iters), "--warmup", "10", "--no-data-transfers"])
    qps = parse(out, "qps", r"Throughput: ([0-9.]+) qps")
    lat = parse(out, "latency", r"Latency: min = [0-9.]+ ms, max = [0-9.]+ ms, mean = ([0-9.]+) ms")
    load = parse(out, "load", r"plan load: ([0-9.]+) ms")
    layers = out and re.search(r"layers: (\d+)", out)
    if precision == "int8":
        graph = run_inferexec(args, ["--load-engine", plan, "--shapes", shapes, "--iterations",
                                     "1", "--warmup", "0", "--dump-graph"])
        after = graph.split("after optimization", 1)[-1]
        print("  int8 engine: %d int8 Conv/Gemm layers, %d other conv/gemm layers" % (
            len(re.findall(r"\s(conv|gemm)\s+int8\s", after)),
            len(re.findall(r"\s(conv|gemm)\s+fp(16|32)\s", after))), flush=True)
    return {"img_s": qps * batch, "lat_ms": lat, "build_cold_s": cold / 1000.0,
            "build_cached_s": cached / 1000.0, "load_ms": load,
            "layers": int(layers.group(1)) if layers else -1, "plan": plan}


def accuracy(args, model, size, precision, plan, workdir, batch):
    x = torch.randn(batch, 3, size, size, generator=torch.Generator().manual_seed(7))
    with torch.inference_mode():
        ref = model.float().cpu()(x).numpy()  # FP32 on the CPU: the reference
    inp = os.path.join(workdir, "input.pb")
    write_tensor(inp, "input", x.numpy())
    outdir = os.path.join(workdir, "out_%s" % precision)
    os.makedirs(outdir, exist_ok=True)
    run_inferexec(args, ["--load-engine", plan, "--load-inputs", "input:" + inp,
                         "--save-outputs", outdir, "--iterations", "1", "--warmup", "0"])
    got = read_tensor(os.path.join(outdir, "output.pb")).astype(np.float64)
    return float(np.linalg.norm(got - ref) / max(np.linalg.norm(ref), 1e-30))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--inferexec", required=True)
    ap.add_argument("--out", required=True, help="Markdown file the table is appended to")
    ap.add_argument("--models", default="resnet50,resnet18,mobilenet_v2,yolo_style")
    ap.add_argument("--batches", default="1,8,64,256")
    ap.add_argument("--precisions", default="fp32,fp16")
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--calibrate", default=None,
                    help="infer-calibrate (default: calibration/tools/ of the inferexec build)")
    args = ap.parse_args()
    if args.calibrate is None:
        args.calibrate = default_calibrate(args.inferexec)
    workdir = args.workdir or tempfile.mkdtemp(prefix="infer_bench_")
    os.makedirs(workdir, exist_ok=True)
    gpu = torch.cuda.get_device_name(0)
    date = datetime.date.today().isoformat()
    rows = []
    compiled = []  # (model, precision, batch, img/s, ms, ours img/s) of torch.compile
    pt_cache = {}  # (model, precision, batch) -> PyTorch ms
    for name in args.models.split(","):
        model, size = make_model(name)
        onnx_path = os.path.join(workdir, name + ".onnx")
        export(model, size, onnx_path)
        for precision in args.precisions.split(","):
            err = None
            for b in [int(v) for v in args.batches.split(",")]:
                mdir = os.path.join(workdir, name)
                os.makedirs(mdir, exist_ok=True)
                cache = os.path.join(mdir, "%s_%d.timing" % (precision, b))
                try:
                    o = ours(args, onnx_path, size, b, precision, cache, mdir)
                except RuntimeError as e:
                    print(str(e), file=sys.stderr)
                    o = None
                iters = max(20, min(400, 4000 // b))
                # no INT8 PyTorch baseline on the GPU: INT8 rows compare with its FP16
                pt_prec = "fp16" if precision == "int8" else precision
                pt = pt_cache.get((name, pt_prec, b))
                if pt is None:
                    pt = pytorch_ms(model, size, b, pt_prec, iters)
                    pt_cache[(name, pt_prec, b)] = pt
                model = model.float().cpu().to(memory_format=torch.contiguous_format)
                torch.cuda.empty_cache()
                pt_img_s = b * 1000.0 / pt
                if o and err is None and b == min(8, max(int(v) for v in args.batches.split(","))):
                    err = accuracy(args, model, size, precision, o["plan"], mdir, b)
                row = {"model": name, "precision": precision, "batch": b, "pt_img_s": pt_img_s,
                       "pt_ms": pt, "ours": o, "err": err, "vs_fp16": None}
                if precision == "int8" and o:
                    fp16 = [r for r in rows if r["model"] == name and r["precision"] == "fp16"
                            and r["batch"] == b and r["ours"]]
                    if fp16:
                        row["vs_fp16"] = o["img_s"] / fp16[0]["ours"]["img_s"]
                rows.append(row)
                print_row(row, flush=True)
            if args.compile and name == "resnet50":
                for b in [int(v) for v in args.batches.split(",")]:
                    ms = compiled_ms(model, size, b, precision, 50)
                    model = model.float().cpu().to(memory_format=torch.contiguous_format)
                    same = [r["ours"] for r in rows if r["model"] == name and r["ours"]
                            and r["precision"] == precision and r["batch"] == b]
                    compiled.append((name, precision, b, b * 1000.0 / ms, ms,
                                     same[0]["img_s"] if same else None))
                    print("torch.compile max-autotune %s %s b%d: %.1f img/s %.3f ms"
                          % (name, precision, b, b * 1000.0 / ms, ms), flush=True)
    table = format_table(rows, gpu, date)
    if compiled:
        table += ("\ntorch.compile(mode=\"max-autotune\") in the same run (`--compile`):\n\n"
                  "| model | prec | batch | torch.compile img/s | latency ms | ours img/s | "
                  "ours/torch.compile |\n| --- | --- | --- | --- | --- | --- | --- |\n")
        for name, precision, b, img_s, ms, ours_img_s in compiled:
            table += "| %s | %s | %d | %.1f | %.3f | %s | %s |\n" % (
                name, precision, b, img_s, ms, fmt(ours_img_s, "%.1f"),
                fmt(ours_img_s / img_s if ours_img_s else None, "%.2f"))
    print(table)
    with open(args.out, "a") as f:
        f.write(table)


def fmt(v, spec):
    return "—" if v is None or v != v else spec % v


def print_row(r, flush=False):
    o = r["ours"] or {}
    print("%-13s %-4s b%-4d pytorch %9.1f img/s %7.3f ms | ours %9s img/s %8s ms ratio %5s "
          "build %s/%s s load %s ms err %s" % (
              r["model"], r["precision"], r["batch"], r["pt_img_s"], r["pt_ms"],
              fmt(o.get("img_s"), "%.1f"), fmt(o.get("lat_ms"), "%.3f"),
              fmt(o.get("img_s", float("nan")) / r["pt_img_s"], "%.2f"),
              fmt(o.get("build_cold_s"), "%.1f"), fmt(o.get("build_cached_s"), "%.1f"),
              fmt(o.get("load_ms"), "%.1f"), fmt(r["err"], "%.1e")) +
          (" | int8/ours-fp16 %s" % fmt(r.get("vs_fp16"), "%.2f")
           if r["precision"] == "int8" else ""), flush=flush)


def format_table(rows, gpu, date):
    out = ["", "## Engine vs PyTorch, %s, %s" % (gpu, date), "",
           "`python3 tests/bench/gpu_vs_pytorch.py --inferexec build-gpu/engine/tools/inferexec "
           "--out RESULTS.md` (PyTorch %s: channels_last, cudnn.benchmark, CUDA-graph replay; "
           "images/s; latency = one batch; error = ||ours - PyTorch FP32||/||PyTorch FP32|| at "
           "batch 8; int8 rows: PyTorch figures are its FP16 ones, and the last column is ours "
           "INT8 / ours FP16)" % torch.__version__, "",
           "| model | prec | batch | PyTorch img/s | ours img/s | ours/PyTorch | ours latency ms | "
           "PyTorch latency ms | build cold s | build cached s | plan load ms | error | "
           "int8 / ours fp16 |",
           "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        o = r["ours"] or {}
        out.append("| %s | %s | %d | %.1f | %s | %s | %s | %.3f | %s | %s | %s | %s | %s |" % (
            r["model"], r["precision"], r["batch"], r["pt_img_s"], fmt(o.get("img_s"), "%.1f"),
            fmt(o.get("img_s", float("nan")) / r["pt_img_s"], "%.2f"),
            fmt(o.get("lat_ms"), "%.3f"), r["pt_ms"], fmt(o.get("build_cold_s"), "%.1f"),
            fmt(o.get("build_cached_s"), "%.1f"), fmt(o.get("load_ms"), "%.1f"),
            fmt(r["err"], "%.1e"), fmt(r.get("vs_fp16"), "%.2f")))
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
