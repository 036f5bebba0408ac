"""Deterministic synthetic shape scenes for training and testing infer's models.

numpy only.  Every sample is drawn from its own numpy Generator seeded with
split_seed(split, index), so a sample does not depend on how many samples, or
which worker processes, produced the rest of a data set.

Classes (CLASSES, ids 0..7): circle, square, triangle, diamond (a rhombus
twice as long as it is wide, so it is never a rotated square), cross, ring,
star (five points), half_disc.

Rendering: every object is given by a signed distance function of its own
rotated frame, evaluated at pixel centres; coverage is clip(0.5 - sdf, 0, 1),
which anti-aliases edges by about one pixel.  An object's pixels are those of
coverage >= 0.5 (sdf <= 0).

Boxes: float32 [n, 4] = x_min, y_min, x_max, y_max in pixels, with pixel edges
as coordinates (pixel (row y, col x) spans [x, x+1] x [y, y+1]).  A box is the
exact tight bound of the object's pixels over its FULL extent, the parts that
other objects or bars hide included.  Detection scenes keep every object
wholly inside the image.  An object that would have more than MAX_HIDDEN of its
coverage hidden by later layers is not drawn at all (and so is not in the
ground truth); in videos, where objects move, such an object is still drawn
but left out of that frame's ground truth.

Splits: split_seed('train', i) and split_seed('test', i) never meet; 'calib'
(for int8 calibration) is drawn from train: split_seed('calib', i) is
split_seed('train', CALIB_STRIDE * i), so the test split is never used for
training or calibration.
"""

import math
import mmap
import multiprocessing as mp
import os

import numpy as np

CLASSES = ["circle", "square", "triangle", "diamond", "cross", "ring", "star", "half_disc"]
NUM_CLASSES = len(CLASSES)
MAX_HIDDEN = 0.5          # objects with more of their coverage hidden are dropped
EXTENT = 1.12             # every shape lies within EXTENT * r of its centre
CALIB_STRIDE = 7
_SPLIT_BASE = {"train": 1_000_003, "test": 7_000_000_000_019}


def split_seed(split, index):
    """Seed of sample `index` of `split` ('train', 'calib' or 'test')."""
    index = int(index)
    if index < 0 or index >= 1_000_000_000_000:
        raise ValueError("index out of range")
    if split == "calib":
        return split_seed("train", CALIB_STRIDE * index)
    if split not in _SPLIT_BASE:
        raise ValueError(f"unknown split {split!r}")
    return _SPLIT_BASE[split] + index


# ---------------------------------------------------------------- shapes ----
_STAR_IN = 0.45
_SO = np.array([1.0, 0.0])
_SI = _STAR_IN * np.array([math.cos(math.pi / 5), math.sin(math.pi / 5)])
_SE = _SI - _SO
_SN = np.array([_SE[1], -_SE[0]]) / np.hypot(*_SE)
if np.dot(_SN, -_SO) > 0:
    _SN = -_SN                      # outward normal of the star's edge


def _sdf(cls, u, v, r):
    """Approximate signed distance (pixels, negative inside) of shape `cls`
    of size r at coordinates u, v of its own frame."""
    name = CLASSES[cls]
    if name == "circle":
        return np.hypot(u, v) - r
    if name == "square":
        return np.maximum(np.abs(u), np.abs(v)) - 0.74 * r
    if name == "triangle":
        d = None
        for k in range(3):
            a = math.pi / 2 + k * 2 * math.pi / 3
            t = u * math.cos(a) + v * math.sin(a) - 0.5 * r
            d = t if d is None else np.maximum(d, t)
        return d
    if name == "diamond":
        a, b = r, 0.5 * r
        return (np.abs(u) * b + np.abs(v) * a - a * b) / math.hypot(a, b)
    if name == "cross":
        arm, w = 0.95 * r, 0.3 * r
        au, av = np.abs(u), np.abs(v)
        return np.minimum(np.maximum(au - arm, av - w), np.maximum(av - arm, au - w))
    if name == "ring":
        d = np.hypot(u, v)
        return np.maximum(d - r, 0.55 * r - d)
    if name == "star":
        d = np.hypot(u, v)
        sector = 2 * math.pi / 5
        a = np.mod(np.arctan2(v, u), sector)
        a = np.minimum(a, sector - a)
        px, py = d * np.cos(a), d * np.sin(a)
        return ((px - _SO[0] * r) * _SN[0] + (py - _SO[1] * r) * _SN[1])
    if name == "half_disc":
        vv = v + 0.4 * r
        return np.maximum(np.hypot(u, vv) - r, -vv)
    raise ValueError(cls)


def _rotated_grid(cx, cy, theta, y0, y1, x0, x1):
    dy = (np.arange(y0, y1, dtype=np.float32) + 0.5 - cy)[:, None]
    dx = (np.arange(x0, x1, dtype=np.float32) + 0.5 - cx)[None, :]
    c, s = math.cos(theta), math.sin(theta)
    return c * dx + s * dy, -s * dx + c * dy


def _object_layer(cls, r, theta, cx, cy, height, width):
    """Coverage patch of one object; None if it covers no pixel."""
    ext = EXTENT * r + 2.0
    x0, x1 = max(int(math.floor(cx - ext)), 0), min(int(math.ceil(cx + ext)), width)
    y0, y1 = max(int(math.floor(cy - ext)), 0), min(int(math.ceil(cy + ext)), height)
    if x1 <= x0 or y1 <= y0:
        return None
    u, v = _rotated_grid(cx, cy, theta, y0, y1, x0, x1)
    alpha = np.clip(0.5 - _sdf(cls, u, v, r), 0.0, 1.0).astype(np.float32)
    inside = alpha >= 0.5
    rows, cols = np.flatnonzero(inside.any(1)), np.flatnonzero(inside.any(0))
    if rows.size == 0:
        return None
    box = np.array([x0 + cols[0], y0 + rows[0], x0 + cols[-1] + 1, y0 + rows[-1] + 1],
                   np.float32)
    return {"kind": "object", "cls": int(cls), "sl": (y0, y1, x0, x1), "alpha": alpha,
            "box": box, "u": u, "v": v, "r": r}


def _bar_layer(rng, height, width):
    """A long straight bar across the image (an occluder, not an object)."""
    y, x = _grid(height, width)
    theta = rng.uniform(0, math.pi)
    px, py = rng.uniform(0.1, 0.9) * width - 0.5, rng.uniform(0.1, 0.9) * height - 0.5
    half_w = rng.uniform(0.01, 0.035) * min(height, width) + 1.0
    d = (y - py) * math.cos(theta) - (x - px) * math.sin(theta)
    alpha = np.clip(half_w + 0.5 - np.abs(d), 0.0, 1.0)
    return {"kind": "bar", "sl": (0, height, 0, width), "alpha": alpha}


# ----------------------------------------------------------- backgrounds ----
_GRIDS = {}


def _grid(height, width):
    """Cached (y, x) pixel-index grids, float32."""
    key = (height, width)
    if key not in _GRIDS:
        if len(_GRIDS) > 8:
            _GRIDS.clear()
        y, x = np.mgrid[0:height, 0:width].astype(np.float32)
        _GRIDS[key] = (y, x)
    return _GRIDS[key]


def _smooth_noise(rng, height, width, cells, amp):
    """Bilinearly upsampled (cells+1)^2 Gaussian grid, separably."""
    g = rng.normal(0.0, amp, (cells + 1, cells + 1, 3)).astype(np.float32)
    xx = np.linspace(0, cells, width, dtype=np.float32)
    xi = np.minimum(xx.astype(np.int64), cells - 1)
    wx = (xx - xi)[None, :, None]
    rows = g[:, xi] * (1 - wx) + g[:, xi + 1] * wx              # (cells+1, W, 3)
    yy = np.linspace(0, cells, height, dtype=np.float32)
    yi = np.minimum(yy.astype(np.int64), cells - 1)
    wy = (yy - yi)[:, None, None]
    out = rows[yi] * (1 - wy)
    out += rows[yi + 1] * wy
    return out


def _background(rng, height, width):
    kind = rng.integers(4)
    c1 = rng.uniform(0, 255, 3).astype(np.float32)
    if kind == 0:                                   # flat
        bg = np.broadcast_to(c1, (height, width, 3)).copy()
    elif kind == 1:                                 # linear gradient
        c2 = rng.uniform(0, 255, 3).astype(np.float32)
        a = rng.uniform(0, 2 * math.pi)
        y, x = _grid(height, width)
        t = x * math.cos(a) + y * math.sin(a)
        t = (t - t.min()) / max(float(t.max() - t.min()), 1.0)
        bg = c1 + (c2 - c1) * t[..., None]
    elif kind == 2:                                 # low-frequency noise
        bg = c1 + _smooth_noise(rng, height, width, int(rng.integers(2, 7)), 45.0)
    else:                                           # stripes
        c2 = np.clip(c1 + rng.normal(0, 45, 3), 0, 255).astype(np.float32)
        a = rng.uniform(0, math.pi)
        period = rng.uniform(6, 40)
        y, x = _grid(height, width)
        t = 0.5 + 0.5 * np.sin((x * math.cos(a) + y * math.sin(a)) * (2 * math.pi / period)
                               + rng.uniform(0, 2 * math.pi))
        bg = c1 + (c2 - c1) * t[..., None]
    if rng.random() < 0.5:
        bg = bg + _smooth_noise(rng, height, width, int(rng.integers(3, 9)), 15.0)
    return bg.astype(np.float32)


def _contrast_colour(rng, local_mean, min_dist=90.0):
    cand = rng.uniform(0, 255, (24, 3)).astype(np.float32)
    dist = np.linalg.norm(cand - local_mean, axis=1)
    ok = np.flatnonzero(dist >= min_dist)
    return cand[ok[0]] if ok.size else cand[int(np.argmax(dist))]


# ----------------------------------------------------------- compositing ----
def _visible_fractions(layers, height, width):
    """Fraction of each layer's coverage left visible by the layers above."""
    trans = np.ones((height, width), np.float32)
    vis = [0.0] * len(layers)
    for i in range(len(layers) - 1, -1, -1):
        y0, y1, x0, x1 = layers[i]["sl"]
        a, t = layers[i]["alpha"], trans[y0:y1, x0:x1]
        vis[i] = float((a * t).sum() / max(float(a.sum()), 1e-6))
        t *= 1.0 - a
    return vis


def _paint(rng, img, layers):
    for L in layers:
        y0, y1, x0, x1 = L["sl"]
        a = L["alpha"][..., None]
        region = img[y0:y1, x0:x1]
        base = L.get("colour")
        if base is None:
            base = _contrast_colour(rng, region.reshape(-1, 3).mean(0))
        if L["kind"] == "object":
            g = L.get("grad")
            if g is None:
                g = rng.uniform(-35, 35, 2).astype(np.float32) / max(L["r"], 1.0)
            fill = base + (L["u"] * g[0] + L["v"] * g[1])[..., None]
        else:
            fill = base
        region *= 1.0 - a
        region += a * fill


def _finish(rng, img, max_noise=10.0):
    sigma = rng.uniform(0, max_noise)
    if sigma > 0.5:
        noise = rng.standard_normal(img.shape, dtype=np.float32)
        noise *= sigma
        img += noise
    np.clip(img, 0, 255, out=img)
    return img.astype(np.uint8)


def _drop_hidden(layers, height, width, keep_min=1.0 - MAX_HIDDEN):
    vis = _visible_fractions(layers, height, width)
    return [L for L, f in zip(layers, vis) if L["kind"] != "object" or f >= keep_min]


def _gt(layers):
    objs = [L for L in layers if L["kind"] == "object"]
    boxes = np.array([L["box"] for L in objs], np.float32).reshape(-1, 4)
    classes = np.array([L["cls"] for L in objs], np.int64)
    return boxes, classes


# -------------------------------------------------------------- samples ----
def make_classification_sample(rng, size=96):
    """One object centred in a size x size RGB crop -> (uint8 image, class id).

    The object's size r is 0.25..0.42 of the crop; up to two smaller
    distractors sit near the border and may be cut by it; bars may cross the
    crop, though never hiding more than 25% of the object."""
    cls = int(rng.integers(NUM_CLASSES))
    img = _background(rng, size, size)
    layers = []
    for _ in range(int(rng.choice(3, p=[0.5, 0.3, 0.2]))):
        a = rng.uniform(0, 2 * math.pi)
        dist = rng.uniform(0.45, 0.6) * size
        L = _object_layer(int(rng.integers(NUM_CLASSES)), rng.uniform(0.07, 0.16) * size,
                          rng.uniform(0, 2 * math.pi), size / 2 + dist * math.cos(a),
                          size / 2 + dist * math.sin(a), size, size)
        if L is not None:
            layers.append(L)
    jitter = rng.uniform(-0.06, 0.06, 2) * size
    target = _object_layer(cls, rng.uniform(0.25, 0.42) * size, rng.uniform(0, 2 * math.pi),
                           size / 2 + jitter[0], size / 2 + jitter[1], size, size)
    layers.append(target)
    if rng.random() < 0.3:
        layers.append(_bar_layer(rng, size, size))
        if _visible_fractions(layers, size, size)[-2] < 0.75:
            layers.pop()
    _paint(rng, img, layers)
    return _finish(rng, img), cls


def _place_objects(rng, height, width, n, rmin, rmax):
    placed = []
    for _ in range(n):
        for _try in range(12):
            r = math.exp(rng.uniform(math.log(rmin), math.log(rmax)))
            ext = EXTENT * r + 1.0
            if 2 * ext >= min(height, width):
                continue
            cx, cy = rng.uniform(ext, width - ext), rng.uniform(ext, height - ext)
            if all(math.hypot(cx - px, cy - py) > 0.7 * (r + pr) for px, py, pr, _ in placed):
                placed.append((cx, cy, r, rng.uniform(0, 2 * math.pi)))
                break
    return placed


def make_detection_scene(rng, height=320, width=320, max_objects=8, rmin=8.0, rmax=60.0):
    """A scene of 1..max_objects objects -> (uint8 HxWx3 image, boxes float32
    [n, 4] x_min, y_min, x_max, y_max in pixels, class ids int64 [n]).
    Object sizes r are log-uniform in [rmin, rmax] (boxes about 2r wide)."""
    img = _background(rng, height, width)
    n = int(rng.integers(1, max_objects + 1))
    layers = []
    for cx, cy, r, th in _place_objects(rng, height, width, n, rmin, rmax):
        L = _object_layer(int(rng.integers(NUM_CLASSES)), r, th, cx, cy, height, width)
        if L is not None:
            layers.append(L)
    for _ in range(int(rng.choice(3, p=[0.5, 0.3, 0.2]))):
        layers.insert(int(rng.integers(len(layers) + 1)), _bar_layer(rng, height, width))
    layers = _drop_hidden(layers, height, width)
    _paint(rng, img, layers)
    boxes, classes = _gt(layers)
    return _finish(rng, img), boxes, classes


def make_video(rng, frames, height=320, width=320, max_objects=6, rmin=10.0, rmax=40.0,
               with_ids=False):
    """Objects moving at constant velocities, bouncing off the frame edges,
    on a fixed background -> list of (image, boxes, classes[, track ids]).
    Objects that are more than MAX_HIDDEN hidden in a frame are left out of
    that frame's ground truth."""
    bg = _background(rng, height, width)
    n = int(rng.integers(1, max_objects + 1))
    objs = []
    for cx, cy, r, th in _place_objects(rng, height, width, n, rmin, rmax):
        objs.append({"cls": int(rng.integers(NUM_CLASSES)), "r": r, "th": th,
                     "p": np.array([cx, cy]), "vel": rng.uniform(-4, 4, 2),
                     "w": rng.uniform(-0.05, 0.05)})
    for o in objs:                               # fixed colours for the whole video
        ext = int(EXTENT * o["r"])
        x, y = int(o["p"][0]), int(o["p"][1])
        local = bg[max(y - ext, 0):y + ext, max(x - ext, 0):x + ext].reshape(-1, 3).mean(0)
        o["colour"] = _contrast_colour(rng, local)
        o["grad"] = rng.uniform(-35, 35, 2).astype(np.float32) / o["r"]
    out = []
    for _f in range(frames):
        layers = []
        for tid, o in enumerate(objs):
            L = _object_layer(o["cls"], o["r"], o["th"], o["p"][0], o["p"][1], height, width)
            if L is not None:
                L.update(tid=tid, colour=o["colour"], grad=o["grad"])
                layers.append(L)
        vis = _visible_fractions(layers, height, width)
        img = bg.copy()
        _paint(rng, img, layers)
        keep = [L for L, f in zip(layers, vis) if f >= 1.0 - MAX_HIDDEN]
        boxes, classes = _gt(keep)
        item = (_finish(rng, img), boxes, classes)
        if with_ids:
            item += (np.array([L["tid"] for L in keep], np.int64),)
        out.append(item)
        for o in objs:                           # move and bounce
            ext = EXTENT * o["r"] + 1.0
            o["p"] = o["p"] + o["vel"]
            o["th"] += o["w"]
            for k, lim in ((0, width), (1, height)):
                if o["p"][k] < ext:
                    o["p"][k], o["vel"][k] = 2 * ext - o["p"][k], abs(o["vel"][k])
                elif o["p"][k] > lim - ext:
                    o["p"][k], o["vel"][k] = 2 * (lim - ext) - o["p"][k], -abs(o["vel"][k])
    return out


# -------------------------------------------------- parallel generation ----
_SHARED = {}


def _work(task):
    kind, split, start, stop, params = task
    buf = _SHARED["array"]
    labels = []
    for i in range(start, stop):
        rng = np.random.default_rng(split_seed(split, i))
        if kind == "cls":
            buf[i - _SHARED["first"]], c = make_classification_sample(rng, params["size"])
            labels.append(c)
        else:
            buf[i - _SHARED["first"]], b, c = make_detection_scene(
                rng, params["size"], params["size"], params["max_objects"])
            labels.append((b, c))
    return start, labels


def generate(kind, split, count, size, start=0, workers=None, max_objects=8):
    """Generate samples start..start+count-1 of `split` in parallel.

    kind 'cls' -> (uint8 [count, size, size, 3], int64 labels [count]);
    kind 'det' -> (uint8 images, list of boxes arrays, list of class arrays).
    Workers are forked (call before initialising CUDA) and write straight into
    one shared anonymous mapping."""
    workers = workers or os.cpu_count() or 1
    shape = (count, size, size, 3)
    mm = mmap.mmap(-1, max(int(np.prod(shape)), 1))
    arr = np.frombuffer(mm, np.uint8, count=int(np.prod(shape))).reshape(shape)
    _SHARED.update(array=arr, first=start)
    params = {"size": size, "max_objects": max_objects}
    chunk = max(1, min(64, count // (workers * 4) or 1))
    tasks = [(kind, split, s, min(s + chunk, start + count), params)
             for s in range(start, start + count, chunk)]
    results = {}
    if workers <= 1 or count < 2 * chunk:
        for t in tasks:
            s, lab = _work(t)
            results[s] = lab
    else:
        with mp.get_context("fork").Pool(workers) as pool:
            for s, lab in pool.imap_unordered(_work, tasks):
                results[s] = lab
    labels = [x for s in sorted(results) for x in results[s]]
    _SHARED.clear()
    images = arr          # keeps the mapping alive
    if kind == "cls":
        return images, np.array(labels, np.int64)
    return images, [b for b, _ in labels], [c for _, c in labels]


def main(argv=None):
    """Dump samples: scenes.py {cls,det} SPLIT COUNT OUT.npz [--size S] [--start I].
    cls: images uint8 [n,S,S,3] RGB, labels; det: images, boxes [n,M,4] and
    classes [n,M] padded with -1, counts [n]."""
    import argparse
    ap = argparse.ArgumentParser(description=main.__doc__.split("\n")[0])
    ap.add_argument("kind", choices=["cls", "det"])
    ap.add_argument("split", choices=["train", "calib", "test"])
    ap.add_argument("count", type=int)
    ap.add_argument("out")
    ap.add_argument("--size", type=int, default=None, help="default 96 (cls) / 320 (det)")
    ap.add_argument("--start", type=int, default=0)
    a = ap.parse_args(argv)
    size = a.size or (96 if a.kind == "cls" else 320)
    if a.kind == "cls":
        images, labels = generate("cls", a.split, a.count, size, a.start)
        np.savez_compressed(a.out, images=images, labels=labels, classes=np.array(CLASSES))
        return
    images, boxes, classes = generate("det", a.split, a.count, size, a.start)
    m = max([len(c) for c in classes] + [1])
    pb = np.full((a.count, m, 4), -1, np.float32)
    pc = np.full((a.count, m), -1, np.int64)
    for i, (b, c) in enumerate(zip(boxes, classes)):
        pb[i, :len(c)], pc[i, :len(c)] = b, c
    np.savez_compressed(a.out, images=images, boxes=pb, class_ids=pc,
                        counts=np.array([len(c) for c in classes]), classes=np.array(CLASSES))


if __name__ == "__main__":
    main()
