#!/usr/bin/env python3
"""Train the synthetic-shape detector (anchor-free, single stage) and export it.

Model: ResNet-style backbone (strided conv + basic residual blocks, BN + ReLU)
giving C3/C4/C5 at strides 8/16/32, a small PAN neck (top-down then
bottom-up, nearest upsampling), and per-level decoupled heads predicting at
each cell: box distances l, t, r, b = softplus(raw) * stride from the cell
centre, one objectness logit and C class logits.

Targets: a cell is positive for a ground-truth box if its centre lies inside
the box and within 1.5 strides of the box centre, and the box's longer side is
in the level's range (stride 8: <= 64 px, 16: 32..128, 32: >= 96); a cell
that fits several boxes takes the smallest.  Losses: GIoU on positives (x5),
BCE objectness on all cells, BCE one-hot classes on positives.

Exported ONNX: input "input" float32 [N, 3, 320, 320] (RGB, x/255, then
(x-0.5)/0.5), output "detections" float32 [N, A, 4 + C], A = 40*40 + 20*20 +
10*10 = 2100: x_min, y_min, x_max, y_max in input pixels, then per-class
confidences sigmoid(obj) * sigmoid(cls).  Decoding is in the graph, NMS is not.

Usage: python3 train_detector.py --out DIR [--quick] [options]
"""

import argparse
import os
import time

import common
import detection_metrics as dm
from common import conv_bn_relu, log, scenes

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

STRIDES = (8, 16, 32)
RANGES = ((0.0, 64.0), (32.0, 128.0), (96.0, 1e9))
CENTER_RADIUS = 1.5


class Res(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.a = conv_bn_relu(c, c)
        self.b = nn.Sequential(nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c))
        nn.init.zeros_(self.b[1].weight)

    def forward(self, x):
        return F.relu(x + self.b(self.a(x)), inplace=True)


class Head(nn.Module):
    def __init__(self, cin, width, num_classes):
        super().__init__()
        self.stem = conv_bn_relu(cin, width, 1)
        self.cls = nn.Sequential(conv_bn_relu(width, width), conv_bn_relu(width, width),
                                 nn.Conv2d(width, num_classes, 1))
        self.reg = nn.Sequential(conv_bn_relu(width, width), conv_bn_relu(width, width))
        self.box = nn.Conv2d(width, 4, 1)
        self.obj = nn.Conv2d(width, 1, 1)
        prior = -4.6                                    # sigmoid ~ 0.01
        nn.init.constant_(self.cls[-1].bias, prior)
        nn.init.constant_(self.obj.bias, prior)
        nn.init.constant_(self.box.bias, 0.5)

    def forward(self, x):
        x = self.stem(x)
        r = self.reg(x)
        return torch.cat([self.box(r), self.obj(r), self.cls(x)], 1)


class ShapeDetector(nn.Module):
    def __init__(self, num_classes, widths=(24, 48, 96, 160, 224), neck=96, head=64,
                 img_size=320):
        super().__init__()
        w = widths
        self.num_classes = num_classes
        self.stem = conv_bn_relu(3, w[0], 3, 2)                               # /2
        self.s1 = nn.Sequential(conv_bn_relu(w[0], w[1], 3, 2), Res(w[1]))    # /4
        self.s2 = nn.Sequential(conv_bn_relu(w[1], w[2], 3, 2), Res(w[2]), Res(w[2]))  # /8
        self.s3 = nn.Sequential(conv_bn_relu(w[2], w[3], 3, 2), Res(w[3]), Res(w[3]))  # /16
        self.s4 = nn.Sequential(conv_bn_relu(w[3], w[4], 3, 2), Res(w[4]))    # /32
        self.l3, self.l4, self.l5 = (conv_bn_relu(c, neck, 1) for c in w[2:])
        self.td4, self.td3 = conv_bn_relu(neck, neck), conv_bn_relu(neck, neck)
        self.dn3, self.dn4 = conv_bn_relu(neck, neck, 3, 2), conv_bn_relu(neck, neck, 3, 2)
        self.bu4, self.bu5 = conv_bn_relu(neck, neck), conv_bn_relu(neck, neck)
        self.heads = nn.ModuleList(Head(neck, head, num_classes) for _ in STRIDES)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        centers, strides = [], []
        for s in STRIDES:
            n = img_size // s
            ys, xs = torch.meshgrid(torch.arange(n), torch.arange(n), indexing="ij")
            centers.append(torch.stack([xs.flatten(), ys.flatten()], 0).float().add(0.5) * s)
            strides.append(torch.full((n * n,), float(s)))
        self.register_buffer("centers", torch.cat(centers, 1)[None], persistent=False)  # 1,2,A
        self.register_buffer("strides", torch.cat(strides)[None, None], persistent=False)  # 1,1,A
        for m in self.modules():
            if isinstance(m, nn.Conv2d) and m.bias is None:
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        """Raw predictions [N, 5 + C, A]: 4 box, 1 objectness, C class logits."""
        c3 = self.s2(self.s1(self.stem(x)))
        c4 = self.s3(c3)
        c5 = self.s4(c4)
        p5 = self.l5(c5)
        p4 = self.td4(self.l4(c4) + self.up(p5))
        p3 = self.td3(self.l3(c3) + self.up(p4))
        n4 = self.bu4(p4 + self.dn3(p3))
        n5 = self.bu5(p5 + self.dn4(n4))
        outs = [h(f) for h, f in zip(self.heads, (p3, n4, n5))]
        return torch.cat([o.reshape(o.shape[0], o.shape[1], -1) for o in outs], 2)

    def decode_boxes(self, raw):
        """Box part of raw [N, 5 + C, A] -> x_min, y_min, x_max, y_max [N, 4, A]."""
        ltrb = F.softplus(raw[:, :4]) * self.strides
        return torch.cat([self.centers - ltrb[:, :2], self.centers + ltrb[:, 2:]], 1)


class ExportWrapper(nn.Module):
    """raw -> detections [N, A, 4 + C] with per-class confidences."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        raw = self.model(x)
        boxes = self.model.decode_boxes(raw)
        scores = torch.sigmoid(raw[:, 4:5]) * torch.sigmoid(raw[:, 5:])
        return torch.cat([boxes, scores], 1).transpose(1, 2)


def giou_loss(p, t):
    """1 - GIoU for [K, 4] box pairs."""
    area_p = (p[:, 2] - p[:, 0]) * (p[:, 3] - p[:, 1])
    area_t = (t[:, 2] - t[:, 0]) * (t[:, 3] - t[:, 1])
    wh = (torch.min(p[:, 2:], t[:, 2:]) - torch.max(p[:, :2], t[:, :2])).clamp(min=0)
    inter = wh[:, 0] * wh[:, 1]
    union = area_p + area_t - inter
    iou = inter / union.clamp(min=1e-6)
    ewh = torch.max(p[:, 2:], t[:, 2:]) - torch.min(p[:, :2], t[:, :2])
    enclose = (ewh[:, 0] * ewh[:, 1]).clamp(min=1e-6)
    return 1.0 - (iou - (enclose - union) / enclose), iou


def assign(centers, strides, gt):
    """centers [2, A], strides [A], gt [B, M, 5] (cls, x0, y0, x1, y1; cls -1 =
    padding) -> positive mask [B, A], matched gt index [B, A]."""
    cx, cy = centers[0][None, :, None], centers[1][None, :, None]     # 1, A, 1
    s = strides[None, :, None]
    cls, x0, y0, x1, y1 = (gt[..., i][:, None, :] for i in range(5))   # B, 1, M
    inside = (cx > x0) & (cx < x1) & (cy > y0) & (cy < y1)
    gcx, gcy = (x0 + x1) / 2, (y0 + y1) / 2
    near = ((cx - gcx).abs() < CENTER_RADIUS * s) & ((cy - gcy).abs() < CENTER_RADIUS * s)
    side = torch.max(x1 - x0, y1 - y0)
    lo = torch.zeros_like(strides)
    hi = torch.zeros_like(strides)
    for st, (a, b) in zip(STRIDES, RANGES):
        lo = torch.where(strides == st, torch.full_like(lo, a), lo)
        hi = torch.where(strides == st, torch.full_like(hi, b), hi)
    fits = (side >= lo[None, :, None]) & (side <= hi[None, :, None])
    cand = inside & near & fits & (cls >= 0)
    area = ((x1 - x0) * (y1 - y0)).expand_as(cand)
    cost = torch.where(cand, area, torch.full_like(area, float("inf")))
    best, idx = cost.min(2)
    return torch.isfinite(best), idx


def det_batch_targets(boxes, classes, max_objects):
    """Lists of numpy arrays -> padded float32 [n, M, 5] (cls, box)."""
    out = np.full((len(boxes), max_objects, 5), -1.0, np.float32)
    for i, (b, c) in enumerate(zip(boxes, classes)):
        out[i, :len(c), 0] = c
        out[i, :len(c), 1:] = b
    return out


def augment(x, gt, size, gen):
    """Random per-image flips and transpose of images [N,3,S,S] and gt [N,M,5]."""
    n = x.shape[0]
    fh, fv, tr = torch.rand(3, n, device=x.device, generator=gen) < 0.5
    x = common.dihedral(x, fh, fv, tr)
    c, b = gt[..., :1], gt[..., 1:]
    b = torch.where(tr[:, None, None], b[..., [1, 0, 3, 2]], b)
    b = torch.where(fh[:, None, None], torch.stack([size - b[..., 2], b[..., 1],
                                                    size - b[..., 0], b[..., 3]], -1), b)
    b = torch.where(fv[:, None, None], torch.stack([b[..., 0], size - b[..., 3],
                                                    b[..., 2], size - b[..., 1]], -1), b)
    return x, torch.cat([c, b], -1)


def compute_loss(model, raw, gt):
    raw = raw.float()
    ncls = model.num_classes
    pos, idx = assign(model.centers[0], model.strides[0, 0], gt)
    npos = pos.sum().clamp(min=1).float()
    matched = torch.gather(gt, 1, idx[..., None].expand(-1, -1, 5))   # B, A, 5
    obj_loss = F.binary_cross_entropy_with_logits(raw[:, 4], pos.float(), reduction="sum")
    boxes = model.decode_boxes(raw).transpose(1, 2)                    # B, A, 4
    gl, iou = giou_loss(boxes[pos], matched[..., 1:][pos])
    cls_logits = raw[:, 5:].transpose(1, 2)[pos]                       # K, C
    onehot = F.one_hot(matched[..., 0][pos].long(), ncls).float()
    cls_loss = F.binary_cross_entropy_with_logits(cls_logits, onehot, reduction="sum")
    box_loss = gl.sum()
    loss = (5.0 * box_loss + obj_loss + cls_loss) / npos
    return loss, {"box": box_loss / npos, "obj": obj_loss / npos, "cls": cls_loss / npos,
                  "iou": iou.mean() if iou.numel() else torch.zeros((), device=raw.device),
                  "npos": npos}


@torch.no_grad()
def predict(model, images_u8, dev, batch=100):
    wrapper = ExportWrapper(model).eval()
    outs = []
    for i in range(0, len(images_u8), batch):
        x = common.normalize(torch.from_numpy(images_u8[i:i + batch]).to(dev))
        outs.append(wrapper(x).float().cpu())
    return torch.cat(outs).numpy()


def evaluate(preds, gts):
    dets = dm.postprocess_batch(preds, conf_thr=0.001, iou_thr=0.6, max_det=100)
    return dm.evaluate(dets, gts, scenes.NUM_CLASSES)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true", help="tiny CPU smoke run")
    ap.add_argument("--size", type=int, default=320)
    ap.add_argument("--max-objects", type=int, default=8)
    ap.add_argument("--train", type=int, default=20000)
    ap.add_argument("--test", type=int, default=500)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--wd", type=float, default=0.05)
    ap.add_argument("--workers", type=int, default=0, help="generator processes (0: all)")
    ap.add_argument("--seed", type=int, default=2)
    ap.add_argument("--cpu", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.train, args.test, args.epochs, args.batch = 64, 32, 1, 16
    os.makedirs(args.out, exist_ok=True)
    t_start = time.time()
    ncls, size = scenes.NUM_CLASSES, args.size

    t = time.time()
    w = args.workers or None
    xtr, btr, ctr = scenes.generate("det", "train", args.train, size, workers=w,
                                    max_objects=args.max_objects)
    xte, bte, cte = scenes.generate("det", "test", args.test, size, workers=w,
                                    max_objects=args.max_objects)
    t_data = time.time() - t
    nobj = sum(len(c) for c in ctr)
    log(f"data: {args.train} train + {args.test} test scenes {size}x{size} in {t_data:.1f}s; "
        f"{nobj / max(args.train, 1):.2f} objects/scene")

    dev = common.setup(args.seed, not args.cpu)
    model = ShapeDetector(ncls, img_size=size).to(dev).to(memory_format=torch.channels_last)
    nparams = common.count_params(model)
    log(f"device {dev}; ShapeDetector {nparams / 1e6:.2f} M parameters, "
        f"{model.centers.shape[-1]} anchors")
    ema = common.EMA(model, decay=0.9995, tau=500.0)
    opt = common.make_adamw(model, args.lr, args.wd, dev)
    xtr_d = torch.from_numpy(xtr).to(dev)
    gtr_d = torch.from_numpy(det_batch_targets(btr, ctr, args.max_objects)).to(dev)
    steps_per_epoch = args.train // args.batch
    total = steps_per_epoch * args.epochs
    warmup = min(500, max(total // 10, 1))
    gen = torch.Generator(device=dev).manual_seed(args.seed)
    step = 0
    t_train = time.time()
    for epoch in range(args.epochs):
        model.train()
        te = time.time()
        perm = torch.randperm(args.train, device=dev, generator=gen)
        sums = {}
        for b in range(steps_per_epoch):
            idx = perm[b * args.batch:(b + 1) * args.batch]
            x, gt = augment(common.normalize(xtr_d[idx]), gtr_d[idx], float(size), gen)
            for g in opt.param_groups:
                g["lr"] = common.lr_at(step, total, warmup, args.lr)
            with common.autocast(dev):
                raw = model(x)
            loss, parts = compute_loss(model, raw, gt)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
            opt.step()
            ema.update(model)
            step += 1
            for k, v in [("loss", loss)] + list(parts.items()):
                sums[k] = sums.get(k, 0.0) + v.detach()
        dt = time.time() - te
        n = steps_per_epoch * args.batch
        msg = " ".join(f"{k} {float(v) / steps_per_epoch:.3f}" for k, v in sums.items())
        log(f"epoch {epoch + 1}/{args.epochs} {msg} lr {opt.param_groups[0]['lr']:.2e} "
            f"{dt:.1f}s {n / dt:.0f} img/s")
    t_train = time.time() - t_train

    common.exact_fp32()
    final = ema.model.eval()
    gts = list(zip(bte, cte))
    t = time.time()
    pred_pt = predict(final, xte, dev)
    res_pt = evaluate(pred_pt, gts)
    log(f"test (PyTorch, EMA, fp32): mAP@0.5 {res_pt['map50']:.4f} "
        f"mAP@0.5:0.95 {res_pt['map50_95']:.4f} ({time.time() - t:.1f}s)")
    onnx_path = os.path.join(args.out, "detector.onnx")
    wrapper = ExportWrapper(final)
    info = common.export_onnx(wrapper, torch.zeros(1, 3, size, size), onnx_path, "detections")
    expect = [model.centers.shape[-1], 4 + ncls]
    if info["output_shape"][1:] != expect:
        raise SystemExit(f"detector output shape {info['output_shape']} != [N, {expect}]")
    t = time.time()
    pred_ort = common.ort_run(onnx_path, common.normalize_np(xte), batch=50)
    res_ort = evaluate(pred_ort, gts)
    maxdiff = float(np.abs(pred_ort - pred_pt).max())
    log(f"test (onnxruntime): mAP@0.5 {res_ort['map50']:.4f} "
        f"mAP@0.5:0.95 {res_ort['map50_95']:.4f}; max |output diff| {maxdiff:.2e} "
        f"({time.time() - t:.1f}s)")
    log("AP@0.5 per class: " + ", ".join(
        f"{n} {v:.3f}" for n, v in zip(scenes.CLASSES, res_ort["ap50_per_class"]) if v is not None))
    log(f"at score >= 0.25: precision {res_ort['precision_at_thr']:.4f} "
        f"recall {res_ort['recall_at_thr']:.4f}")
    if abs(res_ort["map50"] - res_pt["map50"]) > 0.01 or maxdiff > 0.5:
        raise SystemExit("PyTorch and onnxruntime disagree")

    with open(os.path.join(args.out, "detector_labels.txt"), "w") as f:
        f.write("\n".join(scenes.CLASSES) + "\n")
    metrics = {
        "model": "ShapeDetector", "params": nparams, "input": info["input_shape"],
        "output": info["output_shape"], "onnx": info, "strides": list(STRIDES),
        "preprocessing": "RGB, x/255, (x-0.5)/0.5, NCHW, %dx%d" % (size, size),
        "labels": scenes.CLASSES, "quick": args.quick,
        "train_scenes": args.train, "test_scenes": args.test, "test_split": "test",
        "max_objects": args.max_objects, "epochs": args.epochs, "batch": args.batch,
        "lr": args.lr,
        "postprocess": {"conf_thr": 0.001, "nms_iou": 0.6, "max_det": 100, "per_class": True},
        "map50_torch": res_pt["map50"], "map50_95_torch": res_pt["map50_95"],
        "map50_onnxruntime": res_ort["map50"], "map50_95_onnxruntime": res_ort["map50_95"],
        "max_abs_output_diff": maxdiff, "eval_torch": res_pt, "eval_onnxruntime": res_ort,
        "data_seconds": round(t_data, 2), "train_seconds": round(t_train, 2),
        "total_seconds": round(time.time() - t_start, 2), "env": common.env_info(dev),
    }
    common.write_json(os.path.join(args.out, "detector_metrics.json"), metrics)
    log(f"detector done in {time.time() - t_start:.1f}s: mAP@0.5 {res_ort['map50']:.4f}")


if __name__ == "__main__":
    main()
