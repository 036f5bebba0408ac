#!/usr/bin/env python3
"""infer-calibrate end to end: caches from .pb batches, single-sample .pb
files, multi-input models and PPM images, read back by the library
(test_calib_driver --check-cache) and by an independent parser here.

Usage: cli_test.py INFER_CALIBRATE TEST_CALIB_DRIVER GENERATED_MODELS CALIB_DATA SCRATCH
"""

import os
import re
import shutil
import struct
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper

failures = 0


def check(cond, what):
    global failures
    print(("ok: " if cond else "FAILED: ") + what)
    if not cond:
        failures += 1


def run(args, expect_rc=0):
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode != expect_rc:
        print("$ " + " ".join(args))
        print(p.stdout + p.stderr)
    return p


def read_cache(path):
    """TensorRT's format, parsed independently of the library."""
    with open(path) as f:
        text = f.read()
    lines = text.split("\n")
    assert text.endswith("\n"), "the last line ends with a newline"
    m = re.fullmatch(r"TRT-(\d+)-(\w+)", lines[0])
    assert m, f"header {lines[0]!r}"
    scales = {}
    for line in lines[1:-1]:
        m = re.fullmatch(r"(.+): ([0-9a-f]{8})", line)
        assert m, f"line {line!r}"
        scales[m.group(1)] = struct.unpack(">f", bytes.fromhex(m.group(2)))[0]
    return lines[0], scales


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    tool, checker, models, data, scratch = sys.argv[1:]
    out = os.path.join(scratch, "cli_test")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)

    def model(name):
        return os.path.join(models, name, "model.onnx")

    # batches of 2 from [2, ...] .pb files, each algorithm
    for algo, name in (("minmax", "minmax"), ("entropy", "entropy"),
                       ("percentile=99.9", "percentile")):
        cache = os.path.join(out, f"cnn_{name}.cache")
        p = run([tool, "--onnx", model("cnn_classifier"), "--data",
                 os.path.join(data, "cnn_classifier"), "--algo", algo, "--batch", "2",
                 "--cache", cache, "--backend", "cpu"])
        check(p.returncode == 0 and os.path.exists(cache), f"cnn_classifier {algo}: cache written")
        if p.returncode:
            continue
        c = run([checker, "--check-cache", cache, os.path.join(data, "cnn_classifier"), name])
        check(c.returncode == 0, f"cnn_classifier {algo}: the library reads the cache back")
        header, scales = read_cache(cache)
        check(header.endswith({"minmax": "-MinMaxCalibration", "entropy": "-EntropyCalibration2",
                               "percentile": "-PercentileCalibration"}[name]),
              f"header {header}")
        check(len(scales) == 12 and all(s > 0 for s in scales.values()),
              f"{len(scales)} positive scales")

    # a model with two inputs (files are matched to inputs by tensor name)
    cache = os.path.join(out, "fpn.cache")
    p = run([tool, "--onnx", model("fpn_upsample_concat"), "--data",
             os.path.join(data, "fpn_upsample_concat"), "--algo", "minmax", "--batch", "2",
             "--cache", cache, "--backend", "cpu"])
    c = run([checker, "--check-cache", cache, os.path.join(data, "fpn_upsample_concat"),
             "minmax"]) if p.returncode == 0 else p
    check(c.returncode == 0, "fpn_upsample_concat (two inputs): min-max cache as expected")

    # one sample per file gives the same batches
    single = os.path.join(out, "single")
    os.makedirs(single)
    src = os.path.join(data, "cnn_classifier")
    k = 0
    for f in sorted(x for x in os.listdir(src) if x.endswith(".pb")):
        t = onnx.load_tensor(os.path.join(src, f))
        arr = numpy_helper.to_array(t)
        for j in range(arr.shape[0]):
            with open(os.path.join(single, f"s{k:04d}.pb"), "wb") as fh:
                fh.write(numpy_helper.from_array(arr[j], name=t.name).SerializeToString())
            k += 1
    with open(os.path.join(single, "README.txt"), "w") as fh:
        fh.write("not data: skipped\n")
    shutil.copy(os.path.join(src, "expected.txt"), single)
    cache = os.path.join(out, "single.cache")
    p = run([tool, "--onnx", model("cnn_classifier"), "--data", single, "--algo", "minmax",
             "--shape", "input:2x3x32x32", "--cache", cache, "--backend", "cpu"])
    check(p.returncode == 0 and "2 files skipped" in p.stderr,
          "single samples: run, README.txt and expected.txt skipped")
    c = run([checker, "--check-cache", cache, single, "minmax"]) if p.returncode == 0 else p
    check(c.returncode == 0, "single samples: the min-max cache equals the batched one")

    # PPM images, preprocessed like the infer element: (pixel * scale - mean) / std
    images = os.path.join(out, "images")
    os.makedirs(images)
    rng = np.random.default_rng(7)
    pixels = []
    for i in range(4):
        px = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
        px[0, 0, 0] = 255 if i == 2 else px[0, 0, 0]
        pixels.append(px)
        with open(os.path.join(images, f"img{i}.ppm"), "wb") as fh:
            fh.write(b"P6\n# calibration image\n32 32\n255\n" + px.tobytes())
    cache = os.path.join(out, "images.cache")
    p = run([tool, "--onnx", model("cnn_classifier"), "--data", images, "--algo", "minmax",
             "--batch", "2", "--scale", "0.00392156862745098", "--mean", "0.5,0.25,0",
             "--std", "0.5", "--cache", cache, "--backend", "cpu"])
    check(p.returncode == 0, "PPM images: run")
    if p.returncode == 0:
        _, scales = read_cache(cache)
        mean = np.array([0.5, 0.25, 0.0], dtype=np.float32)
        vals = [(px.astype(np.float32) * np.float32(1 / 255) - mean) / np.float32(0.5)
                for px in pixels]
        want = np.float32(max(np.abs(v).max() for v in vals)) / np.float32(127)
        check(abs(scales["input"] - want) <= 1e-6 * want,
              f"PPM images: input scale {scales['input']:.9g}, expected {float(want):.9g}")

    # errors: exit status 1 with a message naming the culprit, 2 for usage
    p = run([tool, "--onnx", model("cnn_classifier"), "--data", os.path.join(out, "nope"),
             "--cache", os.path.join(out, "x.cache")], expect_rc=1)
    check(p.returncode == 1 and "nope" in p.stderr, "missing data folder: exit 1, named")
    bad = os.path.join(out, "bad")
    os.makedirs(bad)
    with open(os.path.join(bad, "b.pb"), "wb") as fh:
        fh.write(numpy_helper.from_array(np.zeros((2, 3, 8, 8), np.float32),
                                         name="input").SerializeToString())
    p = run([tool, "--onnx", model("cnn_classifier"), "--data", bad, "--batch", "2",
             "--cache", os.path.join(out, "x.cache")], expect_rc=1)
    check(p.returncode == 1 and "b.pb: shape [2,3,8,8] does not fit input 'input'" in p.stderr,
          "a tensor of the wrong shape: exit 1, file named")
    p = run([tool, "--onnx", model("cnn_classifier"), "--data", bad, "--algo", "kl",
             "--cache", os.path.join(out, "x.cache")], expect_rc=2)
    check(p.returncode == 2, "unknown --algo: exit 2")
    p = run([tool, "--onnx", model("cnn_classifier"), "--data", single, "--batch", "100",
             "--cache", os.path.join(out, "x.cache")], expect_rc=1)
    check(p.returncode == 1 and "fewer than one batch of 100" in p.stderr,
          "too few samples: exit 1")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
