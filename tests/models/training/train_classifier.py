#!/usr/bin/env python3
"""Train the synthetic-shape classifier and export it to ONNX.

Model: a small ResNet (basic residual blocks, BN + ReLU, global average pool,
one linear layer), about 1.6 M parameters.
Input "input": float32 [N, 3, S, S] RGB, S = 96 by default, pixels scaled to
[0, 1] and then normalized (x - 0.5) / 0.5, i.e. x_u8 * 2/255 - 1.
Output "logits": float32 [N, C] raw logits (no softmax), class order as in
the labels file (scenes.CLASSES).

Writes OUT/classifier.onnx, OUT/classifier_labels.txt and
OUT/classifier_metrics.json.  Data: scenes.make_classification_sample with the
'train' split for training and the disjoint 'test' split for evaluation.

Usage: python3 train_classifier.py --out DIR [--quick] [options]
"""

import argparse
import os
import time

import common
from common import conv_bn_relu, log, scenes

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                       nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)), inplace=True)
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.short is None else self.short(x)), inplace=True)


class ShapeResNet(nn.Module):
    def __init__(self, num_classes, widths=(32, 64, 128, 256), blocks=(1, 2, 2, 1)):
        super().__init__()
        self.stem = conv_bn_relu(3, widths[0], 3, 2)
        layers, cin = [], widths[0]
        for i, (w, n) in enumerate(zip(widths, blocks)):
            for j in range(n):
                layers.append(BasicBlock(cin, w, 2 if (j == 0 and i > 0) else 1))
                cin = w
        self.stages = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        for m in self.modules():                  # zero-init last BN of each block
            if isinstance(m, BasicBlock):
                nn.init.zeros_(m.bn2.weight)

    def forward(self, x):
        x = self.pool(self.stages(self.stem(x)))
        return self.fc(torch.flatten(x, 1))


@torch.no_grad()
def predict(model, images_u8, dev, batch=500):
    model.eval()
    outs = []
    for i in range(0, len(images_u8), batch):
        x = common.normalize(torch.from_numpy(images_u8[i:i + batch]).to(dev))
        outs.append(model(x).float().cpu())
    return torch.cat(outs).numpy()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true", help="tiny CPU smoke run")
    ap.add_argument("--size", type=int, default=96)
    ap.add_argument("--train", type=int, default=48000)
    ap.add_argument("--test", type=int, default=2000)
    ap.add_argument("--epochs", type=int, default=16)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--wd", type=float, default=0.05)
    ap.add_argument("--workers", type=int, default=0, help="generator processes (0: all)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cpu", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.train, args.test, args.epochs, args.batch = 256, 128, 1, 32
    os.makedirs(args.out, exist_ok=True)
    t_start = time.time()
    ncls = scenes.NUM_CLASSES

    # Data first: the generator forks, which must happen before CUDA starts.
    t = time.time()
    xtr, ytr = scenes.generate("cls", "train", args.train, args.size, workers=args.workers or None)
    xte, yte = scenes.generate("cls", "test", args.test, args.size, workers=args.workers or None)
    t_data = time.time() - t
    log(f"data: {args.train} train + {args.test} test crops {args.size}x{args.size} "
        f"in {t_data:.1f}s; train class counts {np.bincount(ytr, minlength=ncls).tolist()}")

    dev = common.setup(args.seed, not args.cpu)
    model = ShapeResNet(ncls).to(dev).to(memory_format=torch.channels_last)
    nparams = common.count_params(model)
    log(f"device {dev}; ShapeResNet {nparams / 1e6:.2f} M parameters")
    ema = common.EMA(model, decay=0.998, tau=200.0)
    opt = common.make_adamw(model, args.lr, args.wd, dev)
    xtr_d = torch.from_numpy(xtr).to(dev)
    ytr_d = torch.from_numpy(ytr).to(dev)
    steps_per_epoch = args.train // args.batch
    total = steps_per_epoch * args.epochs
    warmup = min(300, max(total // 10, 1))
    gen = torch.Generator(device=dev).manual_seed(args.seed)
    step = 0
    t_train = time.time()
    for epoch in range(args.epochs):
        model.train()
        te = time.time()
        perm = torch.randperm(args.train, device=dev, generator=gen)
        loss_sum = torch.zeros((), device=dev)
        correct = torch.zeros((), device=dev)
        for b in range(steps_per_epoch):
            idx = perm[b * args.batch:(b + 1) * args.batch]
            x = common.normalize(xtr_d[idx])
            y = ytr_d[idx]
            flips = torch.rand(3, len(idx), device=dev, generator=gen) < 0.5
            x = common.dihedral(x, flips[0], flips[1], flips[2])
            for g in opt.param_groups:
                g["lr"] = common.lr_at(step, total, warmup, args.lr)
            with common.autocast(dev):
                logits = model(x)
            loss = F.cross_entropy(logits.float(), y, label_smoothing=0.05)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            ema.update(model)
            step += 1
            loss_sum += loss.detach()
            correct += (logits.argmax(1) == y).sum()
        n = steps_per_epoch * args.batch
        dt = time.time() - te
        log(f"epoch {epoch + 1}/{args.epochs} loss {loss_sum.item() / steps_per_epoch:.4f} "
            f"train_acc {correct.item() / n:.4f} lr {opt.param_groups[0]['lr']:.2e} "
            f"{dt:.1f}s {n / dt:.0f} img/s")
    t_train = time.time() - t_train

    # Evaluation: EMA weights, fp32, PyTorch and onnxruntime on the test split.
    common.exact_fp32()
    final = ema.model
    logits_pt = predict(final, xte, dev)
    top1_pt = float((logits_pt.argmax(1) == yte).mean())
    log(f"test top-1 (PyTorch, EMA, fp32): {top1_pt:.4f}")
    onnx_path = os.path.join(args.out, "classifier.onnx")
    example = torch.zeros(1, 3, args.size, args.size)
    info = common.export_onnx(final, example, onnx_path, "logits")
    xte_n = common.normalize_np(xte)
    logits_ort = common.ort_run(onnx_path, xte_n, batch=250)
    top1_ort = float((logits_ort.argmax(1) == yte).mean())
    agree = float((logits_ort.argmax(1) == logits_pt.argmax(1)).mean())
    maxdiff = float(np.abs(logits_ort - logits_pt).max())
    log(f"test top-1 (onnxruntime): {top1_ort:.4f}; argmax agreement {agree:.4f}; "
        f"max |logit diff| {maxdiff:.2e}")
    if agree < 0.995 or abs(top1_ort - top1_pt) > 0.005:
        raise SystemExit("PyTorch and onnxruntime disagree")
    pred = logits_ort.argmax(1)
    per_class = [float((pred[yte == c] == c).mean()) if (yte == c).any() else None
                 for c in range(ncls)]
    log("top-1 per class: " + ", ".join(
        f"{n} {v:.3f}" for n, v in zip(scenes.CLASSES, per_class) if v is not None))
    confusion = np.zeros((ncls, ncls), np.int64)
    np.add.at(confusion, (yte, pred), 1)

    with open(os.path.join(args.out, "classifier_labels.txt"), "w") as f:
        f.write("\n".join(scenes.CLASSES) + "\n")
    metrics = {
        "model": "ShapeResNet", "params": nparams, "input": info["input_shape"],
        "output": info["output_shape"], "onnx": info,
        "preprocessing": "RGB, x/255, (x-0.5)/0.5, NCHW, %dx%d" % (args.size, args.size),
        "labels": scenes.CLASSES, "quick": args.quick,
        "train_samples": args.train, "test_samples": args.test, "test_split": "test",
        "epochs": args.epochs, "batch": args.batch, "lr": args.lr,
        "top1_torch": top1_pt, "top1_onnxruntime": top1_ort, "argmax_agreement": agree,
        "max_abs_logit_diff": maxdiff, "per_class_top1": per_class,
        "confusion": confusion.tolist(), "data_seconds": round(t_data, 2),
        "train_seconds": round(t_train, 2), "total_seconds": round(time.time() - t_start, 2),
        "env": common.env_info(dev),
    }
    common.write_json(os.path.join(args.out, "classifier_metrics.json"), metrics)
    log(f"classifier done in {time.time() - t_start:.1f}s: top-1 {top1_ort:.4f}")


if __name__ == "__main__":
    main()
