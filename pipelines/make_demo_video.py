#!/usr/bin/env python3
"""Writes a synthetic test video for the pipelines/ scripts: shapes moving on a
fixed background, drawn by tests/models/synthetic/scenes.py make_video (the
generator the bundled detector and classifier were trained on, test split
seeds, so no frame was seen in training).

Output, in OUT:
  video.rgb   raw RGB frames, one after the other (width*height*3 bytes each);
              read it with
                filesrc location=OUT/video.rgb ! rawvideoparse format=rgb
                  width=W height=H framerate=30/1
  video.json  the ground truth: {"width", "height", "fps", "frames", "classes",
              "annotations": [[{"x_min", "y_min", "x_max", "y_max" (pixels),
                                "class_id", "label", "track_id"}, ...] per frame]}

Usage: make_demo_video.py OUT [--frames 60] [--width 640] [--height 360]
                              [--seed 17] [--max-objects 6] [--rmin R] [--rmax R]
Object sizes r (about half the box width) default to 5% .. 15% of the frame
height. Writes nothing if OUT already holds a video made with the same
arguments."""

import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "models", "synthetic"))
import scenes  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=360)
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--max-objects", type=int, default=6)
    ap.add_argument("--rmin", type=float, default=None)
    ap.add_argument("--rmax", type=float, default=None)
    a = ap.parse_args(argv)
    if a.frames < 1 or a.width < 32 or a.height < 32:
        ap.error("need at least 1 frame of at least 32x32")
    rmin = a.rmin if a.rmin is not None else 0.05 * a.height
    rmax = a.rmax if a.rmax is not None else 0.15 * a.height
    params = {"frames": a.frames, "width": a.width, "height": a.height, "seed": a.seed,
              "max_objects": a.max_objects, "rmin": rmin, "rmax": rmax}

    os.makedirs(a.out, exist_ok=True)
    raw, meta = os.path.join(a.out, "video.rgb"), os.path.join(a.out, "video.json")
    try:
        with open(meta) as f:
            old = json.load(f)
        if old.get("params") == params and \
                os.path.getsize(raw) == a.frames * a.width * a.height * 3:
            return 0
    except (OSError, ValueError):
        pass

    rng = np.random.default_rng(scenes.split_seed("test", 500_000 + a.seed))
    video = scenes.make_video(rng, a.frames, height=a.height, width=a.width,
                              max_objects=a.max_objects, rmin=rmin, rmax=rmax, with_ids=True)
    annotations = []
    with open(raw + ".tmp", "wb") as f:
        for img, boxes, classes, ids in video:
            f.write(np.ascontiguousarray(img, np.uint8).tobytes())
            annotations.append([
                {"x_min": float(b[0]), "y_min": float(b[1]), "x_max": float(b[2]),
                 "y_max": float(b[3]), "class_id": int(c), "label": scenes.CLASSES[int(c)],
                 "track_id": int(t)}
                for b, c, t in zip(boxes, classes, ids)])
    os.replace(raw + ".tmp", raw)
    with open(meta + ".tmp", "w") as f:
        json.dump({"width": a.width, "height": a.height, "fps": 30, "frames": a.frames,
                   "classes": scenes.CLASSES, "params": params, "annotations": annotations}, f)
    os.replace(meta + ".tmp", meta)
    n = sum(len(x) for x in annotations)
    print(f"make_demo_video: {a.frames} frames {a.width}x{a.height}, {n} objects in all "
          f"-> {raw}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
