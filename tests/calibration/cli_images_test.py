#!/usr/bin/env python3
"""infer-calibrate on PNG and JPEG images.

With GStreamer (MODE gst):
  * PNG (written here with zlib, no image library) and JPEG (made with
    gst-launch-1.0 jpegenc) files at the model's size give the min-max cache
    that .pb tensors give when they hold the same pixels preprocessed here in
    numpy ((pixel * scale - mean) * (1 / std), BGR order): every line equal.
    The JPEG's pixels are the ones gst-launch-1.0 jpegdec decodes.
  * PNG files of another size (RGB and grey), letterboxed (the default) or
    stretched with nearest sampling, give the cache that PPM/PGM files of the
    same pixels give with the same options: the decoder and the options
    reach the preprocessing as they do for PPM.
  * a corrupt PNG, a text file named .jpg, a PNG truncated inside its data:
    exit status 1, the message names the file.
Without GStreamer (MODE none): a folder with a PNG is refused before
calibration with a message naming the file and the GStreamer build.

Usage: cli_images_test.py INFER_CALIBRATE MODEL_ONNX SCRATCH gst|none
"""

import os
import shutil
import struct
import subprocess
import sys
import zlib

import numpy as np
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


def png_bytes(px):
    """uint8 [H, W] (grey), [H, W, 3] (RGB) or [H, W, 4] (RGBA) as PNG:
    8-bit samples, no interlace; rows use filter types 0..4 in turn (each
    decoder must undo them) and the data is split over two IDAT chunks."""
    h, w = px.shape[:2]
    ch = 1 if px.ndim == 2 else px.shape[2]
    color = {1: 0, 3: 2, 4: 6}[ch]
    rows = px.reshape(h, w * ch).astype(np.int32)
    raw = bytearray()
    prev = np.zeros(w * ch, np.int32)
    for y in range(h):
        ft = y % 5
        cur = rows[y]
        left = np.concatenate([np.zeros(ch, np.int32), cur[:-ch]])
        upleft = np.concatenate([np.zeros(ch, np.int32), prev[:-ch]])
        if ft == 0:
            pred = np.zeros_like(cur)
        elif ft == 1:
            pred = left
        elif ft == 2:
            pred = prev
        elif ft == 3:
            pred = (left + prev) // 2
        else:
            pa, pb, pc = np.abs(prev - upleft), np.abs(left - upleft), np.abs(left + prev - 2 * upleft)
            pred = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, prev, upleft))
        raw.append(ft)
        raw += ((cur - pred) & 0xFF).astype(np.uint8).tobytes()
        prev = cur
    data = zlib.compress(bytes(raw), 9)

    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    half = len(data) // 2
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0))
            + chunk(b"IDAT", data[:half]) + chunk(b"IDAT", data[half:])
            + chunk(b"IEND", b""))


def pnm_bytes(px):
    h, w = px.shape[:2]
    magic = b"P5" if px.ndim == 2 else b"P6"
    return magic + f"\n{w} {h}\n255\n".encode() + px.tobytes()


def gst(*args):
    p = subprocess.run(["gst-launch-1.0", "-q"] + list(args), capture_output=True, text=True)
    if p.returncode:
        print(p.stdout + p.stderr)
    return p.returncode == 0


def make_jpeg(px, path, raw_dir):
    """JPEG of px (RGB) with jpegenc; returns the pixels jpegdec gives back."""
    h, w = px.shape[:2]
    src = os.path.join(raw_dir, "in.rgb")
    back = os.path.join(raw_dir, "out.rgb")
    with open(src, "wb") as f:
        f.write(px.tobytes())
    ok = gst("filesrc", f"location={src}", f"blocksize={px.size}", "!", "rawvideoparse",
             "format=rgb", f"width={w}", f"height={h}", "framerate=1/1", "!", "videoconvert",
             "!", "jpegenc", "quality=90", "!", "filesink", f"location={path}")
    ok = ok and gst("filesrc", f"location={path}", "!", "jpegdec", "!", "videoconvert", "!",
                    "video/x-raw,format=RGB", "!", "filesink", f"location={back}")
    if not ok:
        return None
    with open(back, "rb") as f:
        return np.frombuffer(f.read(), np.uint8).reshape(h, w, 3)


def read_lines(path):
    with open(path) as f:
        return f.read().splitlines()


def same_cache(a, b, what):
    la, lb = read_lines(a), read_lines(b)
    diff = [x for x, y in zip(la, lb) if x != y]
    check(len(la) == len(lb) and len(la) > 2 and not diff,
          f"{what}: {len(la)} lines, {len(diff)} differ" + (f" (first: {diff[0]})" if diff else ""))


def main():
    if len(sys.argv) != 5 or sys.argv[4] not in ("gst", "none"):
        sys.exit(__doc__)
    tool, model, scratch, mode = sys.argv[1:]
    out = os.path.join(scratch, "cli_images_test")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    rng = np.random.default_rng(11)
    base = [tool, "--onnx", model, "--algo", "minmax", "--backend", "cpu"]

    if mode == "none":
        d = os.path.join(out, "png")
        os.makedirs(d)
        for i in range(2):
            with open(os.path.join(d, f"a{i}.png"), "wb") as f:
                f.write(png_bytes(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)))
        p = run(base + ["--data", d, "--batch", "2", "--cache", os.path.join(out, "x.cache")],
                expect_rc=1)
        check(p.returncode == 1 and "a0.png" in p.stderr and "GStreamer" in p.stderr,
              "PNG without GStreamer: exit 1, the file and the GStreamer build named")
        h = run([tool, "--help"])
        check("only in the GStreamer build" in h.stdout, "--help says PNG/JPEG need GStreamer")
        sys.exit(1 if failures else 0)

    # 1. PNG + JPEG at the model's size against .pb tensors preprocessed here
    coded, tensors = os.path.join(out, "coded"), os.path.join(out, "tensors")
    os.makedirs(coded)
    os.makedirs(tensors)
    pixels = []
    for i in range(2):
        px = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
        px[i, i, :] = 255  # the largest value of the input is reached
        with open(os.path.join(coded, f"img{i}.png"), "wb") as f:
            f.write(png_bytes(px))
        pixels.append(px)
    for i in range(2, 4):
        # smooth content survives JPEG; the decoded pixels are the reference
        yy, xx = np.mgrid[0:32, 0:32]
        px = np.stack([(xx * 8 + i * 10) % 256, (yy * 8) % 256, ((xx + yy) * 4) % 256],
                      -1).astype(np.uint8)
        dec = make_jpeg(px, os.path.join(coded, f"img{i}.jpg"), out)
        check(dec is not None, f"img{i}.jpg made and decoded with gst-launch-1.0")
        if dec is None:
            sys.exit(1)
        pixels.append(dec)
    scale = np.float32(1) / np.float32(255)
    mean = np.array([0.5, 0.25, 0.125], np.float32)  # in the model's (BGR) order
    std = np.array([0.5, 0.2, 1.5], np.float32)
    inv_std = np.float32(1) / std
    for i, px in enumerate(pixels):
        bgr = px[:, :, ::-1].astype(np.float32)
        v = (bgr * scale - mean) * inv_std
        t = np.ascontiguousarray(v.transpose(2, 0, 1), np.float32)
        with open(os.path.join(tensors, f"s{i}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(t, name="input").SerializeToString())
    c_img, c_pb = os.path.join(out, "coded.cache"), os.path.join(out, "tensors.cache")
    p = run(base + ["--data", coded, "--batch", "2", "--cache", c_img, "--input-order", "bgr",
                    "--mean", "0.5,0.25,0.125", "--std", "0.5,0.2,1.5"])
    check(p.returncode == 0 and "4 samples from 4 files" in p.stderr,
          "2 PNG + 2 JPEG: calibrated, 4 samples")
    p2 = run(base + ["--data", tensors, "--batch", "2", "--cache", c_pb])
    check(p2.returncode == 0, "the same pixels as .pb tensors: calibrated")
    if p.returncode == 0 and p2.returncode == 0:
        same_cache(c_img, c_pb, "PNG/JPEG cache vs .pb cache (BGR, mean/std)")

    # 2. other sizes (RGB and grey): PNG vs PPM/PGM of the same pixels, per option set
    png_dir, pnm_dir = os.path.join(out, "png"), os.path.join(out, "pnm")
    os.makedirs(png_dir)
    os.makedirs(pnm_dir)
    shots = [rng.integers(0, 256, (24, 40, 3), dtype=np.uint8),
             rng.integers(0, 256, (50, 20), dtype=np.uint8),
             rng.integers(0, 256, (17, 33, 3), dtype=np.uint8),
             rng.integers(0, 256, (32, 64, 3), dtype=np.uint8)]
    for i, px in enumerate(shots):
        ext = "pgm" if px.ndim == 2 else "ppm"
        with open(os.path.join(png_dir, f"p{i}.png"), "wb") as f:
            f.write(png_bytes(px))
        with open(os.path.join(pnm_dir, f"p{i}.{ext}"), "wb") as f:
            f.write(pnm_bytes(px))
    # an RGBA PNG reads as its RGB part
    rgba = np.concatenate([shots[3], rng.integers(0, 256, (32, 64, 1), dtype=np.uint8)], -1)
    with open(os.path.join(png_dir, "p3.png"), "wb") as f:
        f.write(png_bytes(rgba))
    caches = {}
    for tag, opts in (("letterbox", []),
                      ("stretch", ["--keep-aspect-ratio=false", "--interpolation", "nearest"]),
                      ("bottom-right", ["--padding", "bottom-right", "--pad-value", "0"])):
        for kind, d in (("png", png_dir), ("pnm", pnm_dir)):
            c = os.path.join(out, f"{kind}-{tag}.cache")
            p = run(base + ["--data", d, "--batch", "2", "--cache", c] + opts)
            check(p.returncode == 0, f"{kind} {tag}: calibrated")
            caches[kind, tag] = c if p.returncode == 0 else None
        if caches["png", tag] and caches["pnm", tag]:
            same_cache(caches["png", tag], caches["pnm", tag], f"PNG vs PPM/PGM, {tag}")
    if caches["png", "letterbox"] and caches["png", "stretch"]:
        a, b = read_lines(caches["png", "letterbox"]), read_lines(caches["png", "stretch"])
        check(a != b, "letterbox and stretch give different caches (the options reach "
              "the preprocessing)")

    # 3. unreadable images: exit 1, the file named
    bad_cases = {
        "corrupt.png": b"\x89PNG\r\n\x1a\n" + bytes(rng.integers(0, 256, 200, dtype=np.uint8)),
        "text.jpg": b"this is not a JPEG image\n" * 4,
        "truncated.png": png_bytes(shots[0])[:60],
    }
    for name, data in bad_cases.items():
        d = os.path.join(out, "bad-" + name.replace(".", "-"))
        os.makedirs(d)
        shutil.copy(os.path.join(png_dir, "p0.png"), os.path.join(d, "a.png"))
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
        p = run(base + ["--data", d, "--batch", "2", "--cache", os.path.join(out, "x.cache")],
                expect_rc=1)
        msg = [line for line in p.stderr.splitlines() if name in line]
        check(p.returncode == 1 and msg, f"{name}: exit 1, named: {msg[0] if msg else p.stderr!r}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
