#!/usr/bin/env python3
"""Per-layer GPU profile of a benchmark model (a script, not a test).

Exports the model as gpu_vs_pytorch.py does (torchvision, random weights),
builds our engine for one precision and batch, and prints inferexec's
--dump-graph (layer, precision, layout, kernel) and --dump-profile (time per
layer), followed by the time summed per op and per kernel, so that the layers
worth optimizing can be read off one run.

    python3 tests/bench/profile_layers.py --inferexec build-gpu/engine/tools/inferexec \
        --model resnet50 --batch 256 --precision fp16|fp32|int8 [--out FILE]
"""
import argparse
import collections
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpu_vs_pytorch as bench  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--inferexec", required=True)
    ap.add_argument("--model", default="resnet50")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--precision", default="fp16", choices=["fp32", "fp16", "int8"])
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--calibrate", default=None)
    ap.add_argument("--out", default=None, help="also write the raw inferexec output here")
    args = ap.parse_args()
    if args.calibrate is None:
        args.calibrate = bench.default_calibrate(args.inferexec)
    workdir = args.workdir or tempfile.mkdtemp(prefix="infer_profile_")
    os.makedirs(workdir, exist_ok=True)
    model, size = bench.make_model(args.model)
    onnx_path = os.path.join(workdir, args.model + ".onnx")
    if not os.path.exists(onnx_path):
        bench.export(model, size, onnx_path)
    flags = ["--onnx", onnx_path, "--shapes", "input:%dx3x%dx%d" % (args.batch, size, size),
             "--iterations", str(args.iterations), "--warmup", "5", "--no-data-transfers",
             "--dump-graph", "--dump-profile"]
    if args.precision == "fp16":
        flags.append("--fp16")
    if args.precision == "int8":
        flags += ["--int8", "--fp16", "--calib",
                  bench.calibration_cache(args, onnx_path, size, workdir)]
    out = bench.run_inferexec(args, flags)
    if args.out:
        with open(args.out, "w") as f:
            f.write(out)
    print(out)
    summarize(out)


def summarize(out):
    # kernel per layer name, from the "after optimization" part of --dump-graph
    after = out.split("after optimization", 1)[-1].split("=== Profile", 1)[0]
    kernel_of = {}
    for line in after.splitlines():
        m = re.match(r"\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+(\S+)\s+\S+\s+(.+?)\s+->", line)
        if m:
            kernel_of[m.group(1)] = m.group(3) + " " + m.group(2)
    profile = out.split("=== Profile", 1)[-1]
    per_op = collections.Counter()
    per_kernel = collections.Counter()
    total = 0.0
    for line in profile.splitlines():
        m = re.match(r"(\S+)\s+(\S+)\s+([0-9.]+)\s+[0-9.]+%", line)
        if not m:
            continue
        name, op, ms = m.group(1), m.group(2), float(m.group(3))
        per_op[op] += ms
        per_kernel[kernel_of.get(name, "?")] += ms
        total += ms
    print("=== time per op (ms, share)")
    for op, ms in per_op.most_common():
        print("%-24s %9.4f %5.1f%%" % (op, ms, 100 * ms / max(total, 1e-9)))
    print("=== time per kernel (ms, share)")
    for k, ms in per_kernel.most_common(25):
        print("%-40s %9.4f %5.1f%%" % (k, ms, 100 * ms / max(total, 1e-9)))


if __name__ == "__main__":
    main()
