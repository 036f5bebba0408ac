#!/usr/bin/env python3
"""INT8 Conv / Gemm reference cases for test_int8_ops, computed with numpy
independently of the engine: integer products summed in int64 (the engine
sums in int32; the cases stay far from overflow), then the rescale, bias,
residual and ReLU in float32 in the order infer/ops.h documents, and for i8
outputs numpy's rint (round half to even) clipped to [-128, 127].

  int8_reference.py TEST_INT8_OPS OUT_DIR

writes OUT_DIR/int8_cases.txt and runs TEST_INT8_OPS on it (its exit status
is this script's)."""

import os
import subprocess
import sys

import numpy as np

F = np.float32


def conv_acc(x, w, stride, pad, group):
    n, c, h, wd = x.shape
    m, cg, kh, kw = w.shape
    xp = np.pad(x.astype(np.int64), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))
    win = win[:, :, ::stride, ::stride]             # N, C, OH, OW, kh, kw
    mg = m // group
    outs = []
    for g in range(group):
        xs = win[:, g * cg:(g + 1) * cg]             # N, cg, OH, OW, kh, kw
        ws = w[g * mg:(g + 1) * mg].astype(np.int64)  # mg, cg, kh, kw
        outs.append(np.einsum("ncyxij,mcij->nmyx", xs, ws))
    return np.concatenate(outs, axis=1)


def finish(v, y_scale):
    if y_scale > 0:
        return np.clip(np.rint(v / F(y_scale)), -128, 127).astype(F)
    return v.astype(F)


def ints(a):
    return " ".join(str(int(v)) for v in a.ravel())


def floats(a):
    return " ".join(repr(float(v)) for v in np.asarray(a, F).ravel())


def conv_case(rng, n, c, h, w_, m, k, stride, pad, group, act, bias, res, res_i8, y_scale):
    x = rng.integers(-128, 128, (n, c, h, w_), dtype=np.int64)
    w = rng.integers(-127, 128, (m, c // group, k, k), dtype=np.int64)
    xs = F(rng.uniform(0.005, 0.05))
    ws = rng.uniform(0.001, 0.02, m).astype(F)
    b = rng.normal(0, 2, m).astype(F)
    acc = conv_acc(x, w, stride, pad, group)
    v = acc.astype(F) * (xs * ws)[None, :, None, None]
    if bias:
        v = v + b[None, :, None, None]
    rs = F(0.03)
    r = None
    if res:
        if res_i8:
            r = rng.integers(-128, 128, acc.shape, dtype=np.int64)
            v = v + r.astype(F) * rs
        else:
            r = rng.normal(0, 3, acc.shape).astype(F)
            v = v + r
    if act:
        v = np.maximum(v, F(0))
    y = finish(v.astype(F), y_scale)
    head = (f"conv {n} {c} {h} {w_} {m} {k} {k} {stride} {pad} {group} {c // group} {int(act)} "
            f"{int(bias)} {int(res)} {int(res_i8)} {float(xs)!r} {float(y_scale)!r} {float(rs)!r}")
    parts = [head, ints(x), ints(w)]
    if bias:
        parts.append(floats(b))
    parts.append(floats(ws))
    if res:
        parts.append(ints(r) if res_i8 else floats(r))
    parts.append(floats(y))
    return "\n".join(parts)


def gemm_case(rng, m, k, n, ta, tb, act, bias, y_scale):
    a = rng.integers(-128, 128, (k, m) if ta else (m, k), dtype=np.int64)
    b = rng.integers(-127, 128, (n, k) if tb else (k, n), dtype=np.int64)
    xs = F(rng.uniform(0.005, 0.05))
    ws = rng.uniform(0.001, 0.02, n).astype(F)
    c = rng.normal(0, 2, n).astype(F)
    acc = (a.T if ta else a) @ (b.T if tb else b)
    v = acc.astype(F) * (xs * ws)[None, :]
    if bias:
        v = v + c[None, :]
    if act:
        v = np.maximum(v, F(0))
    y = finish(v.astype(F), y_scale)
    head = (f"gemm {a.shape[0]} {a.shape[1]} {b.shape[0]} {b.shape[1]} {int(ta)} {int(tb)} "
            f"{int(act)} {int(bias)} {float(xs)!r} {float(y_scale)!r}")
    parts = [head, ints(a), ints(b)]
    if bias:
        parts.append(floats(c))
    parts.append(floats(ws))
    parts.append(floats(y))
    return "\n".join(parts)


def main():
    exe, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(8)
    cases = [
        conv_case(rng, 1, 3, 9, 9, 4, 3, 1, 1, 1, False, True, False, False, 0.0),
        conv_case(rng, 2, 4, 8, 7, 6, 3, 2, 1, 1, True, True, False, False, 0.05),
        conv_case(rng, 1, 6, 7, 7, 6, 3, 1, 1, 6, True, False, False, False, 0.02),   # depthwise
        conv_case(rng, 1, 8, 5, 5, 4, 1, 1, 0, 2, False, True, False, False, 0.0),    # groups 2
        conv_case(rng, 1, 16, 6, 6, 8, 1, 1, 0, 1, True, True, True, True, 0.04),     # i8 residual
        conv_case(rng, 1, 5, 6, 6, 3, 3, 1, 1, 1, True, True, True, False, 0.0),      # f32 residual
        conv_case(rng, 1, 64, 4, 4, 2, 5, 1, 2, 1, False, True, False, False, 0.1),   # long sums
        gemm_case(rng, 3, 17, 5, False, True, False, True, 0.0),
        gemm_case(rng, 4, 9, 6, True, False, True, True, 0.03),
        gemm_case(rng, 2, 300, 7, True, True, False, False, 0.2),
        gemm_case(rng, 5, 8, 3, False, False, True, True, 0.0),
    ]
    path = os.path.join(out, "int8_cases.txt")
    with open(path, "w") as f:
        f.write("\n".join(cases) + "\n")
    sys.exit(subprocess.run([exe, path]).returncode)


if __name__ == "__main__":
    main()
