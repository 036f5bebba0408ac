#!/usr/bin/env python3
"""Reads the JSON lines of print_meta (one per frame) and reports on them:
frames, measured frames per second, and, given the ground truth of
make_demo_video.py, how well the detections or classes match it.

  print_meta "..." | report.py [--echo] [--save FILE] [--gt video.json]
                               [--check-detections MIN_RECALL]
                               [--check-classes MIN_ACCURACY]
                               [--check-secondary MIN_AGREEMENT]
                               [--snapshot-rgb FILE --snapshot-frame K]

--echo prints every line as it comes (stdout), --save writes them to FILE.
Frames per second: (frames - 1) / (time between the first and last line),
i.e. the steady rate after the engine is built and the pipeline prerolled.
Detections match a ground-truth box of the same class at IoU >= 0.5;
classes (frame mode) are compared with the class of the frame's largest
object; secondary classes with their object's detector label. The
snapshot check reads a raw RGB frame (the overlay's output of frame K) and
looks for the class colour of inferoverlay's palette on each detected
box's outline. A --check-* below its minimum (or a failed snapshot check)
exits 1; the summary goes to stderr when --echo is on, stdout otherwise."""

import argparse
import json
import sys
import time

# inferoverlay's palette (gst/overlay_draw.c), by label_id % 16
PALETTE = [(255, 56, 56), (56, 200, 80), (40, 120, 255), (255, 170, 0), (170, 60, 230),
           (0, 210, 210), (255, 80, 200), (180, 230, 40), (255, 140, 120), (0, 140, 120),
           (150, 150, 255), (170, 110, 50), (255, 235, 60), (140, 20, 40), (120, 255, 180),
           (110, 110, 0)]


def iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def pixel_box(o, w, h):
    return (o["x_min"] * w, o["y_min"] * h, o["x_max"] * w, o["y_max"] * h)


def match_detections(frames, gt):
    w, h = gt["width"], gt["height"]
    tp = n_det = n_gt = 0
    ious = []
    for i, fr in enumerate(frames):
        if i >= len(gt["annotations"]):
            break
        truth = [((g["x_min"], g["y_min"], g["x_max"], g["y_max"]), g["class_id"])
                 for g in gt["annotations"][i]]
        n_gt += len(truth)
        used = set()
        for o in sorted(fr.get("objects", []), key=lambda o: -(o["confidence"] or 0)):
            n_det += 1
            best, best_j = 0.5, -1
            for j, (box, cls) in enumerate(truth):
                v = iou(pixel_box(o, w, h), box)
                if j not in used and cls == o["label_id"] and v >= best:
                    best, best_j = v, j
            if best_j >= 0:
                used.add(best_j)
                tp += 1
                ious.append(best)
    recall = tp / n_gt if n_gt else 1.0
    precision = tp / n_det if n_det else 1.0
    mean_iou = sum(ious) / len(ious) if ious else 0.0
    return recall, precision, mean_iou, n_gt, n_det


def class_accuracy(frames, gt):
    right = n = 0
    for i, fr in enumerate(frames):
        if i >= len(gt["annotations"]) or not gt["annotations"][i]:
            continue
        big = max(gt["annotations"][i],
                  key=lambda g: (g["x_max"] - g["x_min"]) * (g["y_max"] - g["y_min"]))
        classes = fr.get("classes", [])
        n += 1
        right += bool(classes) and classes[0]["label_id"] == big["class_id"]
    return right / n if n else 0.0, n


def secondary_agreement(frames):
    agree = n = 0
    for fr in frames:
        for o in fr.get("objects", []):
            if o.get("classes"):
                n += 1
                agree += o["classes"][0]["label_id"] == o["label_id"]
    return agree / n if n else 0.0, n


def check_snapshot(path, frame, gt, out):
    """Fraction of the frame's detected boxes whose left edge shows its class colour."""
    w, h = gt["width"], gt["height"]
    data = open(path, "rb").read()
    if len(data) != w * h * 3:
        print(f"snapshot: {path} has {len(data)} bytes, expected {w * h * 3}", file=out)
        return False
    objs = frame.get("objects", [])
    hits = 0
    for o in objs:
        x0, y0, x1, y1 = pixel_box(o, w, h)
        col = PALETTE[o["label_id"] % 16]
        x, ys = min(max(int(round(x0)), 0), w - 1), range(int(y0) + 2, int(y1) - 2)
        near = 0
        for y in ys:
            for dx in (-1, 0, 1):
                xx = min(max(x + dx, 0), w - 1)
                p = data[(y * w + xx) * 3:(y * w + xx) * 3 + 3]
                if all(abs(p[c] - col[c]) <= 6 for c in range(3)):
                    near += 1
                    break
        hits += near >= 0.8 * max(len(ys), 1)
    print(f"snapshot: {hits} of {len(objs)} boxes drawn in their class colour where the "
          f"metadata puts them", file=out)
    return hits == len(objs) and len(objs) > 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--echo", action="store_true")
    ap.add_argument("--save")
    ap.add_argument("--gt")
    ap.add_argument("--check-detections", type=float)
    ap.add_argument("--check-classes", type=float)
    ap.add_argument("--check-secondary", type=float)
    ap.add_argument("--snapshot-rgb")
    ap.add_argument("--snapshot-frame", type=int, default=0)
    a = ap.parse_args(argv)
    out = sys.stderr if a.echo else sys.stdout
    save = open(a.save, "w") if a.save else None
    frames, times = [], []
    for line in sys.stdin:
        line = line.strip()
        if not line.startswith("{"):
            continue
        times.append(time.monotonic())
        frames.append(json.loads(line))
        if a.echo:
            print(line, flush=True)
        if save:
            save.write(line + "\n")
    if save:
        save.close()
    ok = True
    n_obj = sum(len(f.get("objects", [])) for f in frames)
    fps = (len(frames) - 1) / (times[-1] - times[0]) if len(frames) > 1 and \
        times[-1] > times[0] else 0.0
    print(f"frames: {len(frames)}, objects: {n_obj}, fps: {fps:.2f} (first to last frame)",
          file=out)
    if not frames:
        print("no frames reached the sink", file=out)
        return 1
    gt = json.load(open(a.gt)) if a.gt else None
    if gt and a.check_detections is not None:
        recall, precision, miou, n_gt, n_det = match_detections(frames, gt)
        print(f"detections vs ground truth (IoU >= 0.5, same class): recall {recall:.3f} "
              f"({n_gt} true objects), precision {precision:.3f} ({n_det} detections), "
              f"mean IoU of matches {miou:.3f}", file=out)
        ok &= recall >= a.check_detections
    if gt and a.check_classes is not None:
        acc, n = class_accuracy(frames, gt)
        print(f"frame classes vs the largest object's class: accuracy {acc:.3f} over {n} "
              f"frames", file=out)
        ok &= acc >= a.check_classes
    if a.check_secondary is not None:
        agree, n = secondary_agreement(frames)
        print(f"secondary classes agree with the detector's labels on {agree:.3f} of {n} "
              f"objects", file=out)
        ok &= n > 0 and agree >= a.check_secondary
    if gt and a.snapshot_rgb:
        k = min(a.snapshot_frame, len(frames) - 1)
        ok &= check_snapshot(a.snapshot_rgb, frames[k], gt, out)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
