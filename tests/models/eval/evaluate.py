#!/usr/bin/env python3
"""Accuracy of the project's own models (pipelines/models/) through the real
inference path: the GStreamer `infer` element (print_meta) or inferexec.

Samples are generated with tests/models/synthetic/scenes.py from a split's
per-sample seeds (default: the held-out 'test' split), so no data set is
stored anywhere.

  classifier  96x96 crops, scenes.make_classification_sample; metric: top-1
              of the frame classification (argmax of the softmax).
  detector    --count scenes at 320x320 (the training distribution, no
              resize), and --letterbox scenes rendered at --frame WxH
              (default 640x360) with object sizes scaled by
              max(W, H) / 320, the inverse of the letterbox scale, so that
              after the element's letterbox (scale to fit 320x320,
              symmetric grey bands) objects have the training sizes (a
              640x360 frame: r 16..120 px, shown at 8..60 px in a 320x180
              band between two 70-px grey bands).  Metrics: COCO-style mAP@0.5 and
              mAP@0.5:0.95 (tests/models/training/detection_metrics.py),
              boxes in frame pixels.

Sample indices: square samples use split indices seed .. seed+count-1;
letterboxed frames use split indices 1_000_000 + seed .. (so they never
repeat a square scene's random stream).

Paths:
  element    BUILD/pipelines/print_meta "filesrc ! rawvideoparse format=rgb !
             infer model=.. <preprocessing> threshold=.. nms-iou=0.6
             top-k=100 batch-size=B ! fakesink name=sink" with
             GST_PLUGIN_PATH=BUILD/gst; the JSON lines are the results.
  inferexec  the same preprocessing in numpy (RGB, letterbox as the element
             does it, u8 * 2/255 - 1, NCHW), one TensorProto per batch,
             BUILD/engine/tools/inferexec --load-inputs --save-outputs; the
             outputs are decoded in numpy (softmax argmax; detector:
             detection_metrics.postprocess: every (anchor, class) score >
             0.001, per-class NMS 0.6, best 100 -- the model card's
             protocol; --decode best-class decodes like the element, one
             class per anchor).

The last lines printed are `top1: <x>` (classifier) or `mAP@0.5: <x>` and
`mAP@0.5:0.95: <x>` (detector), fractions in 0..1.  Exit status: 0, 1 when
a --min-top1 / --min-map50 bar is missed, 2 on usage or run errors.
"""

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "models", "synthetic"))
sys.path.insert(0, os.path.join(ROOT, "tests", "models", "training"))

import numpy as np  # noqa: E402

import detection_metrics as dm  # noqa: E402
import scenes  # noqa: E402

LETTERBOX_BASE = 1_000_000     # split index offset of the letterboxed frames
DET_SIZE = 320                 # detector input (and training scene) size
CLS_SIZE = 96                  # classifier input / crop size


class EvalError(Exception):
    pass


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------- samples ----
def classifier_samples(split, start, count):
    images, labels = scenes.generate("cls", split, count, CLS_SIZE, start=start)
    return np.array(images), labels


def detector_samples(split, start, count, width, height):
    """(uint8 [n, H, W, 3], [(boxes, classes)]) for frames of width x height.
    Square 320x320 frames are exactly the training distribution; other sizes
    scale the object sizes by max(W, H) / 320, the inverse of the letterbox
    scale (see the module docstring)."""
    if count <= 0:
        return np.zeros((0, height, width, 3), np.uint8), []
    if width == height == DET_SIZE:
        images, boxes, classes = scenes.generate("det", split, count, DET_SIZE, start=start)
        return np.array(images), list(zip(boxes, classes))
    f = max(width, height) / DET_SIZE
    images = np.zeros((count, height, width, 3), np.uint8)
    gts = []
    for i in range(count):
        rng = np.random.default_rng(scenes.split_seed(split, start + i))
        img, b, c = scenes.make_detection_scene(rng, height, width, 8, rmin=8.0 * f,
                                                rmax=60.0 * f)
        images[i] = img
        gts.append((b, c))
    return images, gts


# ------------------------------------------------------- preprocessing ----
def letterbox_geometry(w, h, out_w, out_h, keep_aspect=True, symmetric=True):
    """The element's geometry (kernels/cpu/preprocess.c): (scale_x, scale_y,
    content_w, content_h, pad_x, pad_y)."""
    sx, sy = np.float32(out_w) / np.float32(w), np.float32(out_h) / np.float32(h)
    if not keep_aspect:
        return float(sx), float(sy), out_w, out_h, 0, 0
    s = min(sx, sy)
    if sx <= sy:
        cw, ch = out_w, min(max(int(math.floor(h * float(s) + 0.5)), 1), out_h)
    else:
        cw, ch = min(max(int(math.floor(w * float(s) + 0.5)), 1), out_w), out_h
    px = (out_w - cw) // 2 if symmetric else 0
    py = (out_h - ch) // 2 if symmetric else 0
    return float(s), float(s), cw, ch, px, py


def _taps(n_out, scale, n_src):
    sx = (np.arange(n_out, dtype=np.float64) + 0.5) / scale - 0.5
    sx = np.clip(sx, 0, n_src - 1)
    x0 = np.floor(sx).astype(np.int64)
    x1 = np.minimum(x0 + 1, n_src - 1)
    return x0, x1, (sx - x0).astype(np.float32)


def letterbox(img, out_w, out_h, pad_value=114.0, keep_aspect=True, symmetric=True):
    """uint8 HxWx3 -> float32 out_h x out_w x 3 in pixel units 0..255
    (bilinear, as the element's preprocessing), and the geometry."""
    h, w = img.shape[:2]
    g = letterbox_geometry(w, h, out_w, out_h, keep_aspect, symmetric)
    scx, scy, cw, ch, px, py = g
    out = np.full((out_h, out_w, 3), pad_value, np.float32)
    if (cw, ch) == (w, h) and scx == scy == 1.0:
        out[py:py + ch, px:px + cw] = img
        return out, g
    x0, x1, fx = _taps(cw, scx, w)
    y0, y1, fy = _taps(ch, scy, h)
    src = img.astype(np.float32)
    rows = src[y0] * (1 - fy)[:, None, None] + src[y1] * fy[:, None, None]
    out[py:py + ch, px:px + cw] = rows[:, x0] * (1 - fx)[None, :, None] + rows[:, x1] * fx[None, :, None]
    return out, g


def normalize(hwc):
    """Training's preprocessing: RGB, x/255, (x-0.5)/0.5 -> CHW float32."""
    return np.ascontiguousarray((hwc * np.float32(2.0 / 255.0) - 1.0).transpose(2, 0, 1),
                                np.float32)


# ---------------------------------------------------------- running ----
def run_cmd(cmd, env=None, timeout=None, what="command"):
    try:
        p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, text=True)
    except subprocess.TimeoutExpired:
        raise EvalError(f"{what} ran past {timeout} s: {' '.join(cmd)[:300]}")
    except OSError as e:
        raise EvalError(f"{what} could not start: {e}")
    if p.returncode != 0:
        raise EvalError(f"{what} failed (exit {p.returncode}): {' '.join(cmd)[:400]}\n"
                        f"{p.stderr[-3000:]}")
    return p


def write_raw_frames(path, images):
    """Raw RGB frames with GStreamer's default stride (rows rounded up to 4
    bytes); returns the frame size in bytes."""
    n, h, w, _ = images.shape
    stride = (w * 3 + 3) & ~3
    with open(path, "wb") as f:
        if stride == w * 3:
            f.write(np.ascontiguousarray(images).tobytes())
        else:
            buf = np.zeros((n, h, stride), np.uint8)
            buf[:, :, :w * 3] = images.reshape(n, h, w * 3)
            f.write(buf.tobytes())
    return stride * h


def element_run(a, images, model, labels, model_type, tmp, tag):
    """Runs the frames through the infer element; one parsed JSON dict per
    frame, in order."""
    n, h, w, _ = images.shape
    raw = os.path.join(tmp, f"frames-{tag}.rgb")
    frame_bytes = write_raw_frames(raw, images)
    if model_type == "classifier":
        post = f"threshold=0 top-k={scenes.NUM_CLASSES}"
    else:
        post = f"threshold={a.conf_thr:g} nms-iou={a.nms_iou:g} top-k={a.max_det}"
    calib = f" calibration-cache={a.calib}" if a.calib else ""
    desc = (f"filesrc location={raw} blocksize={frame_bytes} ! "
            f"rawvideoparse format=rgb width={w} height={h} framerate=30/1 ! "
            f"infer model={model} labels={labels} model-type={model_type} "
            f"backend={a.backend} precision={a.precision}{calib} batch-size={a.batch_size} "
            f"input-order=rgb scale={1.0 / 255.0:.17g} mean=0.5,0.5,0.5 std=0.5,0.5,0.5 "
            f"keep-aspect-ratio=true padding=symmetric pad-value={a.pad_value:g} "
            f"interpolation=bilinear {post} ! fakesink name=sink")
    env = dict(os.environ)
    env["GST_PLUGIN_PATH"] = a.plugin_path + (
        os.pathsep + env["GST_PLUGIN_PATH"] if env.get("GST_PLUGIN_PATH") else "")
    env.setdefault("GST_REGISTRY", os.path.join(tmp, "registry.bin"))
    cmd = [a.print_meta, desc]
    log(f"element: {a.print_meta} \"{desc}\"")
    t0 = time.time()
    p = run_cmd(cmd, env=env, timeout=a.timeout, what="print_meta")
    dt = time.time() - t0
    frames = [None] * n
    for line in p.stdout.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        d = json.loads(line)
        if d.get("pts") is None:
            raise EvalError("print_meta: a buffer without a timestamp")
        i = int(round(d["pts"] * 30 / 1e9))
        if not 0 <= i < n or frames[i] is not None:
            raise EvalError(f"print_meta: unexpected buffer pts {d['pts']}")
        frames[i] = d
    missing = [i for i, f in enumerate(frames) if f is None]
    if missing:
        raise EvalError(f"print_meta: {len(missing)} of {n} frames came back without "
                        f"results (first: {missing[0]})\n{p.stderr[-2000:]}")
    return frames, dt, " ".join(cmd[:1]) + f' "{desc}"'


def element_classifier(a, images, tmp):
    frames, dt, cmd = element_run(a, images, a.model_file, a.labels_file, "classifier", tmp, "cls")
    pred, conf = [], []
    for d in frames:
        cl = d.get("classes") or []
        if not cl:
            pred.append(-1)
            conf.append(0.0)
            continue
        best = max(cl, key=lambda c: (c["confidence"] if c["confidence"] is not None else -1))
        pred.append(int(best["label_id"]))
        conf.append(float(best["confidence"]))
    return np.array(pred, np.int64), np.array(conf, np.float32), dt, [cmd]


def element_detector(a, images, tmp, tag):
    frames, dt, cmd = element_run(a, images, a.model_file, a.labels_file, "detector", tmp, tag)
    h, w = images.shape[1:3]
    dets = []
    for d in frames:
        objs = d.get("objects") or []
        b = np.array([[o["x_min"] * w, o["y_min"] * h, o["x_max"] * w, o["y_max"] * h]
                      for o in objs], np.float32).reshape(-1, 4)
        s = np.array([o["confidence"] for o in objs], np.float32)
        c = np.array([o["label_id"] for o in objs], np.int64)
        dets.append((b, s, c))
    return dets, dt, [cmd]


def onnx_io(model):
    import onnx
    m = onnx.load(model, load_external_data=False)
    inits = {t.name for t in m.graph.initializer}
    ins = [i.name for i in m.graph.input if i.name not in inits]
    outs = [o.name for o in m.graph.output]
    return ins[0], outs


def inferexec_batches(a, tensors, tmp, tag):
    """tensors: float32 [n, 3, H, W]; returns the model's first output for all
    samples, the inference wall time and the first command."""
    import onnx
    from onnx import numpy_helper
    in_name, out_names = onnx_io(a.model_file)
    outs, cmds, dt = [], [], 0.0
    n = len(tensors)
    for k, s in enumerate(range(0, n, a.batch_size)):
        x = np.ascontiguousarray(tensors[s:s + a.batch_size], np.float32)
        bdir = os.path.join(tmp, f"{tag}-{k:05d}")
        os.makedirs(bdir, exist_ok=True)
        xpb = os.path.join(bdir, "x.pb")
        with open(xpb, "wb") as f:
            f.write(numpy_helper.from_array(x, in_name).SerializeToString())
        shape = "x".join(str(d) for d in x.shape)
        cmd = [a.inferexec, "--onnx", a.model_file, "--backend", a.backend,
               "--shapes", f"{in_name}:{shape}", "--load-inputs", f"{in_name}:{xpb}",
               "--save-outputs", bdir, "--iterations", "1", "--warmup", "0"]
        if a.precision == "fp16":
            cmd.append("--fp16")
        elif a.precision == "int8":
            cmd.append("--int8")
        if a.calib:
            cmd += ["--calib", a.calib]
        if k == 0:
            log("inferexec: " + " ".join(cmd))
        t0 = time.time()
        run_cmd(cmd, timeout=a.timeout, what="inferexec")
        dt += time.time() - t0
        cmds.append(cmd)
        safe = out_names[0].replace("/", "_").replace(":", "_")
        t = onnx.load_tensor(os.path.join(bdir, safe + ".pb"))
        y = numpy_helper.to_array(t)
        if y.shape[0] != len(x):
            raise EvalError(f"inferexec: output {out_names[0]} has shape {y.shape} for a batch "
                            f"of {len(x)}")
        outs.append(y.astype(np.float32))
        if not a.keep:
            shutil.rmtree(bdir, ignore_errors=True)
    return np.concatenate(outs), dt, [" ".join(cmds[0])] if cmds else []


def inferexec_classifier(a, images, tmp):
    x = np.stack([normalize(letterbox(im, CLS_SIZE, CLS_SIZE, a.pad_value)[0]) for im in images])
    logits, dt, cmds = inferexec_batches(a, x, tmp, "cls")
    e = np.exp(logits - logits.max(1, keepdims=True))
    prob = e / e.sum(1, keepdims=True)
    return prob.argmax(1).astype(np.int64), prob.max(1).astype(np.float32), dt, cmds


def best_class_decode(pred, conf_thr, iou_thr, max_det):
    """The element's YOLOv8 decoding: one candidate per anchor (its best
    class), confidence >= threshold, per-class greedy NMS, best max_det."""
    boxes, scores = pred[:, :4], pred[:, 4:]
    c = scores.argmax(1)
    s = scores[np.arange(len(scores)), c]
    keep = np.flatnonzero(s >= conf_thr)
    if keep.size == 0:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64)
    b, s, c = boxes[keep].astype(np.float64), s[keep], c[keep]
    offset = c[:, None].astype(np.float64) * (np.abs(b).max() + 1.0) * 2.0
    k = dm.nms(b + offset, s, iou_thr, max_det)
    return boxes[keep[k]], s[k], c[k].astype(np.int64)


def inferexec_detector(a, images, tmp, tag):
    h, w = images.shape[1:3]
    x = np.empty((len(images), 3, DET_SIZE, DET_SIZE), np.float32)
    geo = None
    for i, im in enumerate(images):
        lb, geo = letterbox(im, DET_SIZE, DET_SIZE, a.pad_value)
        x[i] = normalize(lb)
    preds, dt, cmds = inferexec_batches(a, x, tmp, tag)
    scx, scy, _, _, px, py = geo
    dets = {"multilabel": [], "best-class": []}
    for p in preds:
        for mode, out in dets.items():
            if mode == "best-class":
                b, s, c = best_class_decode(p, a.conf_thr, a.nms_iou, a.max_det)
            else:
                b, s, c = dm.postprocess(p, conf_thr=a.conf_thr, iou_thr=a.nms_iou,
                                         max_det=a.max_det)
            b = b.astype(np.float32).copy()
            b[:, [0, 2]] = np.clip((b[:, [0, 2]] - px) / scx, 0, w)
            b[:, [1, 3]] = np.clip((b[:, [1, 3]] - py) / scy, 0, h)
            out.append((b, s.astype(np.float32), c))
    other = "best-class" if a.decode == "multilabel" else "multilabel"
    return dets[a.decode], dt, cmds, dets[other]


# ------------------------------------------------------------ evaluate ----
def eval_classifier(a, tmp):
    t0 = time.time()
    images, labels = classifier_samples(a.split, a.seed, a.count)
    gen_s = time.time() - t0
    log(f"generated {len(images)} {CLS_SIZE}x{CLS_SIZE} crops of split '{a.split}' "
        f"(indices {a.seed}..{a.seed + a.count - 1}) in {gen_s:.1f} s")
    if a.path == "element":
        pred, conf, dt, cmds = element_classifier(a, images, tmp)
    else:
        pred, conf, dt, cmds = inferexec_classifier(a, images, tmp)
    correct = pred == labels
    top1 = float(correct.mean()) if len(labels) else 0.0
    k = scenes.NUM_CLASSES
    conf_m = np.zeros((k, k), np.int64)
    for t, p in zip(labels, pred):
        if p >= 0:
            conf_m[t, p] += 1
    per_class = [float(correct[labels == c].mean()) if (labels == c).any() else None
                 for c in range(k)]
    res = {"model": "classifier", "top1": top1, "samples": int(len(labels)),
           "correct": int(correct.sum()), "per_class_top1": per_class,
           "confusion": conf_m.tolist(), "mean_confidence": float(conf.mean()) if len(conf) else 0,
           "wrong": [int(i) + a.seed for i in np.flatnonzero(~correct)][:50],
           "infer_seconds": dt, "generate_seconds": gen_s, "commands": cmds,
           "predictions": pred.tolist()}
    print(f"{'class':<10} {'n':>5} {'top1':>7}")
    for c in range(k):
        n = int((labels == c).sum())
        print(f"{scenes.CLASSES[c]:<10} {n:>5} "
              f"{per_class[c] if per_class[c] is not None else float('nan'):>7.4f}")
    print(f"{'all':<10} {len(labels):>5} {top1:>7.4f}")
    print(f"inference: {dt:.1f} s for {len(labels)} crops "
          f"({1000 * dt / max(len(labels), 1):.1f} ms/crop, engine build included)")
    return res, [f"top1: {top1:.4f}"], top1


def eval_detector(a, tmp):
    groups = []
    if a.count > 0:
        groups.append(("square", DET_SIZE, DET_SIZE, a.seed, a.count))
    if a.letterbox > 0:
        groups.append(("letterbox", a.frame[0], a.frame[1], LETTERBOX_BASE + a.seed,
                       a.letterbox))
    if not groups:
        raise EvalError("nothing to evaluate: --count and --letterbox are 0")
    all_dets, all_gts, table, cmds, dt_total, gen_total = [], [], [], [], 0.0, 0.0
    alt_dets = []
    res = {"model": "detector", "groups": {}}
    for name, w, h, start, n in groups:
        t0 = time.time()
        images, gts = detector_samples(a.split, start, n, w, h)
        gen_s = time.time() - t0
        gen_total += gen_s
        log(f"generated {n} {w}x{h} scenes of split '{a.split}' (indices {start}.."
            f"{start + n - 1}) in {gen_s:.1f} s")
        if a.path == "element":
            dets, dt, c = element_detector(a, images, tmp, name)
        else:
            dets, dt, c, alt = inferexec_detector(a, images, tmp, name)
            alt_dets += alt
        dt_total += dt
        cmds += c
        r = dm.evaluate(dets, gts, scenes.NUM_CLASSES)
        r["infer_seconds"] = dt
        r["frame"] = [w, h]
        r["indices"] = [start, start + n - 1]
        r["detections"] = int(sum(len(d[0]) for d in dets))
        res["groups"][f"{name} {w}x{h}"] = r
        table.append((f"{w}x{h}" + (" letterboxed" if name == "letterbox" else ""), r))
        all_dets += dets
        all_gts += gts
    r = dm.evaluate(all_dets, all_gts, scenes.NUM_CLASSES)
    res.update(r)
    res.update(infer_seconds=dt_total, generate_seconds=gen_total, commands=cmds)
    if len(table) > 1:
        table.append(("all", r))
    print(f"{'frames':<22} {'images':>6} {'gt':>5} {'dets':>6} {'mAP@0.5':>8} "
          f"{'mAP@.5:.95':>10} {'P@0.25':>7} {'R@0.25':>7}")
    for label, g in table:
        nd = g.get("detections", sum(x.get("detections", 0) for x in res["groups"].values()))
        print(f"{label:<22} {g['images']:>6} {g['gt_boxes']:>5} {nd:>6} {g['map50']:>8.4f} "
              f"{g['map50_95']:>10.4f} {g['precision_at_thr']:>7.3f} {g['recall_at_thr']:>7.3f}")
    print("AP@0.5 per class: " + ", ".join(
        f"{scenes.CLASSES[c]} {v:.3f}" if v is not None else f"{scenes.CLASSES[c]} -"
        for c, v in enumerate(r["ap50_per_class"])))
    if alt_dets:
        other = "best-class" if a.decode == "multilabel" else "multilabel"
        ra = dm.evaluate(alt_dets, all_gts, scenes.NUM_CLASSES)
        res["other_decode"] = {"decode": other, "map50": ra["map50"],
                               "map50_95": ra["map50_95"]}
        print(f"same outputs, {other} decoding"
              f"{' (as the element)' if other == 'best-class' else ''}: "
              f"mAP@0.5 {ra['map50']:.4f}, mAP@0.5:0.95 {ra['map50_95']:.4f}")
    n_img = len(all_gts)
    print(f"inference: {dt_total:.1f} s for {n_img} frames "
          f"({1000 * dt_total / max(n_img, 1):.0f} ms/frame, engine build included)")
    return res, [f"mAP@0.5: {r['map50']:.4f}", f"mAP@0.5:0.95: {r['map50_95']:.4f}"], r["map50"]


def parse_frame(text):
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not WxH")
    if w <= 0 or h <= 0:
        raise argparse.ArgumentTypeError(f"'{text}': sizes must be positive")
    return w, h


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Evaluate pipelines/models/{classifier,detector}.onnx on generated "
                    "held-out samples through the infer element or inferexec.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--build", required=True, help="meson build folder")
    ap.add_argument("--model", required=True, choices=["classifier", "detector"])
    ap.add_argument("--split", default="test", choices=["test", "train", "calib"])
    ap.add_argument("--count", type=int, default=None,
                    help="crops (classifier) or 320x320 scenes (detector); "
                         "default 2000 / 500 (the model card's test sets)")
    ap.add_argument("--letterbox", type=int, default=0,
                    help="detector: extra scenes rendered at --frame and letterboxed")
    ap.add_argument("--frame", type=parse_frame, default=(640, 360),
                    help="size WxH of the --letterbox scenes")
    ap.add_argument("--seed", type=int, default=0,
                    help="first sample index in the split (samples seed..seed+count-1)")
    ap.add_argument("--path", default="element", choices=["element", "inferexec"])
    ap.add_argument("--backend", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--precision", default="fp32", choices=["fp32", "fp16", "int8"])
    ap.add_argument("--calib", help="INT8 calibration cache (precision int8)")
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--pad-value", type=float, default=114.0,
                    help="letterbox padding (the element's pad-value)")
    ap.add_argument("--conf-thr", type=float, default=0.001, help="detector score threshold")
    ap.add_argument("--nms-iou", type=float, default=0.6)
    ap.add_argument("--max-det", type=int, default=100)
    ap.add_argument("--decode", default="multilabel", choices=["multilabel", "best-class"],
                    help="inferexec path, detector: every (anchor, class) pair "
                         "(detection_metrics.postprocess, the model card's protocol) or the "
                         "best class per anchor (as the element decodes)")
    ap.add_argument("--models-dir", default=os.path.join(ROOT, "pipelines", "models"))
    ap.add_argument("--print-meta", help="default BUILD/pipelines/print_meta")
    ap.add_argument("--inferexec", help="default BUILD/engine/tools/inferexec")
    ap.add_argument("--plugin-path", help="default BUILD/gst")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per subprocess")
    ap.add_argument("--min-top1", type=float, help="exit 1 when top-1 is below")
    ap.add_argument("--min-map50", type=float, help="exit 1 when mAP@0.5 is below")
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--keep", help="keep the frames and tensors in this folder")
    a = ap.parse_args(argv)

    if a.count is None:
        a.count = 2000 if a.model == "classifier" else 500
    if a.count < 0 or a.letterbox < 0 or a.seed < 0 or a.batch_size < 1:
        ap.error("--count, --letterbox and --seed must be >= 0, --batch-size >= 1")
    if a.model == "classifier" and a.count == 0:
        ap.error("--count must be > 0")
    if a.precision == "int8" and not a.calib:
        ap.error("--precision int8 needs --calib FILE")
    build = os.path.abspath(a.build)
    a.print_meta = os.path.abspath(a.print_meta or os.path.join(build, "pipelines", "print_meta"))
    a.inferexec = os.path.abspath(a.inferexec or os.path.join(build, "engine", "tools", "inferexec"))
    a.plugin_path = os.path.abspath(a.plugin_path or os.path.join(build, "gst"))
    a.model_file = os.path.abspath(os.path.join(a.models_dir, f"{a.model}.onnx"))
    a.labels_file = os.path.abspath(os.path.join(a.models_dir, f"{a.model}_labels.txt"))
    if a.calib:
        a.calib = os.path.abspath(a.calib)
    need = [a.model_file, a.labels_file]
    need.append(a.print_meta if a.path == "element" else a.inferexec)
    for f in need:
        if not os.path.exists(f):
            print(f"evaluate.py: {f} does not exist (build first: ninja -C {a.build})",
                  file=sys.stderr)
            return 2
    if a.path == "element" and any(c in p for p in (a.model_file, a.labels_file)
                                   for c in " !\"'"):
        print("evaluate.py: model paths with spaces or quotes cannot go into a pipeline "
              "description", file=sys.stderr)
        return 2

    if a.keep:
        tmp = os.path.abspath(a.keep)
        os.makedirs(tmp, exist_ok=True)
        cleanup = None
    else:
        cleanup = tempfile.TemporaryDirectory(prefix="infer-eval-")
        tmp = cleanup.name
    t0 = time.time()
    try:
        print(f"model: {a.model_file}")
        print(f"path: {a.path}, backend {a.backend}, precision {a.precision}, batch size "
              f"{a.batch_size}, split '{a.split}', first index {a.seed}")
        if a.model == "classifier":
            res, last, value = eval_classifier(a, tmp)
            bar, name = a.min_top1, "top1"
        else:
            res, last, value = eval_detector(a, tmp)
            bar, name = a.min_map50, "mAP@0.5"
    except EvalError as e:
        print(f"evaluate.py: {e}", file=sys.stderr)
        return 2
    finally:
        if cleanup:
            cleanup.cleanup()
    res.update(path=a.path, backend=a.backend, precision=a.precision, batch_size=a.batch_size,
               split=a.split, seed=a.seed, pad_value=a.pad_value,
               decode=(a.decode if a.path == "inferexec" else "element"),
               model_file=a.model_file, wall_seconds=time.time() - t0,
               command=" ".join([os.path.basename(sys.executable), *sys.argv]))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
    status = 0
    if bar is not None and value < bar:
        print(f"FAIL: {name} {value:.4f} is below the bar {bar:g}")
        status = 1
    elif bar is not None:
        print(f"ok: {name} {value:.4f} >= {bar:g}")
    print("\n".join(last))
    sys.stdout.flush()
    return status


if __name__ == "__main__":
    sys.exit(main())
