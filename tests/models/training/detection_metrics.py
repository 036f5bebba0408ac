"""Detection post-processing and COCO-style mAP, numpy only.

postprocess(): YOLOv8-style decoding of one image's [A, 4 + C] predictions
(x_min, y_min, x_max, y_max, then per-class confidences): every
(anchor, class) pair above conf_thr is a candidate, the best pre_nms of them
go through greedy per-class NMS, and the best max_det survivors are kept.

evaluate(): per class, detections of all images are ranked by score and
matched greedily (each ground-truth box at most once, to the unmatched box of
highest IoU >= threshold); AP is the 101-point interpolated area under the
precision envelope (COCO's recall points 0, 0.01, ..., 1).  mAP is the mean
over classes that have ground truth; mAP@0.5:0.95 also averages over IoU
thresholds 0.50, 0.55, ..., 0.95.
"""

import numpy as np

IOU_THRESHOLDS = np.round(np.arange(0.5, 0.951, 0.05), 2)


def box_iou(a, b):
    """IoU matrix [len(a), len(b)] of x_min, y_min, x_max, y_max boxes."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def nms(boxes, scores, iou_thr, max_keep=None):
    """Greedy NMS; returns kept indices in descending score order."""
    order = np.argsort(-scores, kind="stable")
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        if max_keep is not None and len(keep) >= max_keep:
            break
        rest = order[1:]
        iou = box_iou(boxes[i:i + 1], boxes[rest])[0]
        order = rest[iou <= iou_thr]
    return np.array(keep, np.int64)


def postprocess(pred, conf_thr=0.001, iou_thr=0.6, max_det=100, pre_nms=3000):
    """pred: [A, 4 + C] -> (boxes [k, 4], scores [k], classes [k])."""
    pred = np.asarray(pred, np.float32)
    boxes, scores = pred[:, :4], pred[:, 4:]
    a_idx, c_idx = np.nonzero(scores > conf_thr)
    s = scores[a_idx, c_idx]
    if s.size > pre_nms:
        top = np.argpartition(-s, pre_nms)[:pre_nms]
        a_idx, c_idx, s = a_idx[top], c_idx[top], s[top]
    if s.size == 0:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64)
    b = boxes[a_idx].astype(np.float64)
    offset = c_idx[:, None].astype(np.float64) * (np.abs(b).max() + 1.0) * 2.0
    keep = nms(b + offset, s, iou_thr, max_det)
    return boxes[a_idx[keep]], s[keep], c_idx[keep].astype(np.int64)


def postprocess_batch(preds, **kw):
    return [postprocess(p, **kw) for p in preds]


def _match(det_boxes, det_scores, gt_boxes, thr):
    """Greedy matching of one image/class; True where a detection is a TP."""
    tp = np.zeros(len(det_boxes), bool)
    if len(gt_boxes) == 0 or len(det_boxes) == 0:
        return tp
    order = np.argsort(-det_scores, kind="stable")
    iou = box_iou(det_boxes, gt_boxes)
    used = np.zeros(len(gt_boxes), bool)
    for d in order:
        cand = np.where(used, -1.0, iou[d])
        g = int(np.argmax(cand))
        if cand[g] >= thr:
            used[g] = True
            tp[d] = True
    return tp


def average_precision(tp, scores, n_gt):
    """101-point interpolated AP of one class."""
    if n_gt == 0:
        return float("nan")
    if tp.size == 0:
        return 0.0
    order = np.argsort(-scores, kind="stable")
    tp = tp[order].astype(np.float64)
    ctp, cfp = np.cumsum(tp), np.cumsum(1.0 - tp)
    recall = ctp / n_gt
    precision = ctp / np.maximum(ctp + cfp, 1e-12)
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    points = np.linspace(0.0, 1.0, 101)
    idx = np.searchsorted(recall, points, side="left")
    q = np.where(idx < len(precision), precision[np.minimum(idx, len(precision) - 1)], 0.0)
    return float(q.mean())


def evaluate(dets, gts, num_classes, iou_thresholds=IOU_THRESHOLDS, score_thr=0.25):
    """dets: per image (boxes, scores, classes); gts: per image (boxes, classes).
    Returns mAP@0.5, mAP@0.5:0.95, per-class AP@0.5 and, at score_thr and IoU
    0.5, precision / recall over all classes."""
    assert len(dets) == len(gts)
    n_thr = len(iou_thresholds)
    tps = [[[] for _ in range(n_thr)] for _ in range(num_classes)]
    scs = [[] for _ in range(num_classes)]
    n_gt = np.zeros(num_classes, np.int64)
    for (db, ds, dc), (gb, gc) in zip(dets, gts):
        db, ds, dc = np.asarray(db), np.asarray(ds), np.asarray(dc)
        gb, gc = np.asarray(gb).reshape(-1, 4), np.asarray(gc)
        for c in range(num_classes):
            dm, gm = dc == c, gc == c
            n_gt[c] += int(gm.sum())
            if not dm.any():
                continue
            scs[c].append(ds[dm])
            for t, thr in enumerate(iou_thresholds):
                tps[c][t].append(_match(db[dm], ds[dm], gb[gm], thr))
    ap = np.full((num_classes, n_thr), np.nan)
    tp_at, fp_at = 0, 0
    for c in range(num_classes):
        s = np.concatenate(scs[c]) if scs[c] else np.zeros(0)
        for t in range(n_thr):
            tp = np.concatenate(tps[c][t]) if tps[c][t] else np.zeros(0, bool)
            ap[c, t] = average_precision(tp, s, n_gt[c])
            if t == 0 and s.size:
                sel = s >= score_thr
                tp_at += int(tp[sel].sum())
                fp_at += int((~tp[sel]).sum())
    valid = n_gt > 0
    total_gt = int(n_gt.sum())
    return {
        "map50": float(np.mean(ap[valid, 0])) if valid.any() else 0.0,
        "map50_95": float(np.mean(ap[valid])) if valid.any() else 0.0,
        "ap50_per_class": [None if np.isnan(v) else round(float(v), 5) for v in ap[:, 0]],
        "gt_per_class": n_gt.tolist(),
        "score_thr": score_thr,
        "precision_at_thr": tp_at / max(tp_at + fp_at, 1),
        "recall_at_thr": tp_at / max(total_gt, 1),
        "images": len(gts),
        "gt_boxes": total_gt,
    }


if __name__ == "__main__":                       # self-check
    rng = np.random.default_rng(0)
    gts, dets = [], []
    for _ in range(20):
        xy = rng.uniform(0, 200, (5, 2))
        gb = np.concatenate([xy, xy + rng.uniform(10, 60, (5, 2))], 1).astype(np.float32)
        gc = rng.integers(0, 3, 5)
        gts.append((gb, gc))
        dets.append((gb.copy(), rng.uniform(0.5, 1, 5).astype(np.float32), gc.copy()))
    r = evaluate(dets, gts, 3)
    assert abs(r["map50"] - 1) < 1e-9 and abs(r["map50_95"] - 1) < 1e-9, r
    shifted = [(b + 3.0, s, c) for b, s, c in dets]
    r2 = evaluate(shifted, gts, 3)
    assert r2["map50_95"] < 1.0 and r2["map50"] > 0.9, r2
    pred = np.zeros((4, 6), np.float32)
    pred[:, :4] = [[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60], [0, 0, 10, 10]]
    pred[:, 4] = [0.9, 0.8, 0.7, 0.0]
    pred[3, 5] = 0.6
    b, s, c = postprocess(pred)
    assert len(b) == 3 and list(c) == [0, 0, 1], (b, s, c)
    print("detection_metrics self-check ok", round(r2["map50_95"], 4))
