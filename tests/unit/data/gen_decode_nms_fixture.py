#!/usr/bin/env python3
"""Writes decode_nms_fixture.txt: 200 random boxes and the result of a numpy
greedy NMS over them for a few settings, for tests/unit/test_decode.c.

Boxes have integer corners (so IoUs are exact ratios of integers), scores are
multiples of 1/256 (exact in float32, with many ties: equal scores keep input
order), classes 0..3, a few boxes degenerate. Settings whose result would
depend on an IoU within 1e-6 of the threshold are avoided by re-drawing.

Usage: gen_decode_nms_fixture.py [OUT]   (default: next to this script)
"""
import os
import sys

import numpy as np

N = 200
# (iou_threshold, class_agnostic, max_keep; 0 = all)
CASES = [(0.5, 0, 0), (0.3, 1, 0), (0.5, 0, 25), (0.65, 1, 10), (0.45, 0, 0)]


def draw(rng):
    centers = rng.integers(40, 280, size=(10, 2))
    c = centers[rng.integers(0, len(centers), size=N)] + rng.integers(-8, 9, size=(N, 2))
    wh = rng.integers(24, 64, size=(N, 2))
    boxes = np.concatenate([c - wh // 2, c - wh // 2 + wh], axis=1)
    degenerate = rng.choice(N, 6, replace=False)
    boxes[degenerate[:3], 2] = boxes[degenerate[:3], 0]          # zero width
    boxes[degenerate[3:], 3] = boxes[degenerate[3:], 1] - 5      # negative height
    scores = rng.integers(1, 256, size=N) / 256.0
    classes = rng.integers(0, 4, size=N)
    return boxes.astype(np.float64), scores, classes


def iou_matrix(b):
    w = np.clip(b[:, 2] - b[:, 0], 0, None)
    h = np.clip(b[:, 3] - b[:, 1], 0, None)
    area = np.where((b[:, 2] > b[:, 0]) & (b[:, 3] > b[:, 1]), w * h, 0.0)
    iw = np.clip(np.minimum(b[:, None, 2], b[None, :, 2]) - np.maximum(b[:, None, 0], b[None, :, 0]), 0, None)
    ih = np.clip(np.minimum(b[:, None, 3], b[None, :, 3]) - np.maximum(b[:, None, 1], b[None, :, 1]), 0, None)
    inter = iw * ih
    union = area[:, None] + area[None, :] - inter
    return np.where((union > 0) & (inter > 0), inter / np.where(union > 0, union, 1), 0.0)


def nms(iou, scores, classes, thr, agnostic, max_keep):
    order = np.argsort(-scores, kind="stable")
    keep = []
    while order.size:
        i = order[0]
        keep.append(int(i))
        if max_keep and len(keep) >= max_keep:
            break
        rest = order[1:]
        same = np.ones(rest.size, bool) if agnostic else classes[rest] == classes[i]
        order = rest[~(same & (iou[i, rest] > thr))]
    return keep


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "decode_nms_fixture.txt")
    seed = 20240601
    while True:
        rng = np.random.default_rng(seed)
        boxes, scores, classes = draw(rng)
        iou = iou_matrix(boxes)
        rows = {tuple(r) for r in np.column_stack([boxes, scores, classes])}
        near = any(np.any(np.abs(iou - thr) < 1e-6) for thr, _, _ in CASES)
        if len(rows) == N and not near:
            break
        seed += 1
    with open(out, "w") as f:
        f.write("# decode NMS fixture: written by gen_decode_nms_fixture.py (numpy greedy NMS), seed %d\n" % seed)
        f.write("# boxes N, then N lines: x_min y_min x_max y_max score class\n")
        f.write("# case iou_threshold class_agnostic max_keep n_kept, then the kept input indices\n")
        f.write("boxes %d\n" % N)
        for b, s, c in zip(boxes, scores, classes):
            f.write("%d %d %d %d %.8f %d\n" % (b[0], b[1], b[2], b[3], s, c))
        for thr, agnostic, max_keep in CASES:
            keep = nms(iou, scores, classes, thr, agnostic, max_keep)
            f.write("case %g %d %d %d\n" % (thr, agnostic, max_keep, len(keep)))
            f.write(" ".join(str(k) for k in keep) + "\n")


if __name__ == "__main__":
    main()
