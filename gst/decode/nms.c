/* Box overlap, greedy non-maximum suppression and the mapping of boxes from
 * model-input pixels back to frame pixels (see decode.h).
 *
 * Choices the contract leaves open:
 * - infer_box_iou is 0 for degenerate boxes (x_max <= x_min or
 *   y_max <= y_min), for boxes with a non-finite coordinate and whenever the
 *   union is not positive; it is computed in double and never exceeds 1.
 * - infer_nms sorts stably (equal confidences keep their input order), drops
 *   detections whose confidence is NaN, and treats iou_threshold <= 0 (or
 *   NaN) as "no suppression": it then only sorts and truncates to max_keep,
 *   like InferDetectorParams.nms_iou. A box is suppressed when its IoU with a
 *   kept box of higher rank (of the same class unless class_agnostic) is
 *   strictly greater than iou_threshold.
 * - infer_map_detections with xf == NULL is the identity; a scale that is not
 *   a positive finite number counts as 1; a frame dimension <= 0 disables
 *   clipping along that axis. NaN coordinates become 0. Nothing is dropped
 *   and boxes are not reordered. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

float infer_box_iou(const InferDetection *a, const InferDetection *b) {
  if (!a || !b) return 0.0f;
  if (!isfinite(a->x_min) || !isfinite(a->y_min) || !isfinite(a->x_max) ||
      !isfinite(a->y_max) || !isfinite(b->x_min) || !isfinite(b->y_min) ||
      !isfinite(b->x_max) || !isfinite(b->y_max))
    return 0.0f;
  double aw = (double)a->x_max - a->x_min, ah = (double)a->y_max - a->y_min;
  double bw = (double)b->x_max - b->x_min, bh = (double)b->y_max - b->y_min;
  if (!(aw > 0.0) || !(ah > 0.0) || !(bw > 0.0) || !(bh > 0.0)) return 0.0f;
  double ix0 = a->x_min > b->x_min ? a->x_min : b->x_min;
  double iy0 = a->y_min > b->y_min ? a->y_min : b->y_min;
  double ix1 = a->x_max < b->x_max ? a->x_max : b->x_max;
  double iy1 = a->y_max < b->y_max ? a->y_max : b->y_max;
  double iw = ix1 - ix0, ih = iy1 - iy0;
  if (!(iw > 0.0) || !(ih > 0.0)) return 0.0f;
  double inter = iw * ih;
  double uni = aw * ah + bw * bh - inter;
  if (!(uni > 0.0)) return 0.0f;
  double iou = inter / uni;
  if (!(iou >= 0.0)) return 0.0f;
  return iou > 1.0 ? 1.0f : (float)iou;
}

/* Stable sort by confidence, highest first. */
static void sort_by_confidence(InferDetection *d, int n) {
  bool sorted = true;
  for (int i = 1; i < n && sorted; i++) sorted = !(d[i].confidence > d[i - 1].confidence);
  if (sorted) return;
  InferDetection *tmp = malloc((size_t)n * sizeof *tmp);
  if (!tmp) {
    /* Insertion sort: stable, needs no memory. */
    for (int i = 1; i < n; i++) {
      InferDetection x = d[i];
      int j = i;
      while (j > 0 && d[j - 1].confidence < x.confidence) {
        d[j] = d[j - 1];
        j--;
      }
      d[j] = x;
    }
    return;
  }
  /* Bottom-up merge sort; takes from the left run on ties. */
  InferDetection *src = d, *dst = tmp;
  for (int width = 1; width < n; width *= 2) {
    for (int lo = 0; lo < n; lo += 2 * width) {
      int mid = lo + width < n ? lo + width : n;
      int hi = lo + 2 * width < n ? lo + 2 * width : n;
      int i = lo, j = mid, k = lo;
      while (i < mid && j < hi)
        dst[k++] = (src[j].confidence > src[i].confidence) ? src[j++] : src[i++];
      while (i < mid) dst[k++] = src[i++];
      while (j < hi) dst[k++] = src[j++];
    }
    InferDetection *t = src;
    src = dst;
    dst = t;
  }
  if (src != d) memcpy(d, src, (size_t)n * sizeof *d);
  free(tmp);
}

int infer_nms(InferDetection *dets, int n, float iou_threshold, bool class_agnostic, int max_keep) {
  if (!dets || n <= 0) return 0;
  int m = 0;
  for (int i = 0; i < n; i++)
    if (!isnan(dets[i].confidence)) dets[m++] = dets[i];
  sort_by_confidence(dets, m);
  int limit = (max_keep > 0 && max_keep < m) ? max_keep : m;
  if (!(iou_threshold > 0.0f)) return limit;
  /* Greedy NMS, checking each candidate against the boxes kept so far: a
   * box is dropped exactly when a kept box of higher rank overlaps it. */
  int kept = 0;
  for (int i = 0; i < m && kept < limit; i++) {
    InferDetection c = dets[i];
    bool suppressed = false;
    for (int k = 0; k < kept; k++) {
      if (!class_agnostic && dets[k].class_id != c.class_id) continue;
      if (infer_box_iou(&dets[k], &c) > iou_threshold) {
        suppressed = true;
        break;
      }
    }
    if (!suppressed) dets[kept++] = c;
  }
  return kept;
}

static float clip(float v, float hi, bool enabled) {
  if (!(v >= 0.0f)) return isnan(v) || enabled ? 0.0f : v;
  if (enabled && v > hi) return hi;
  return v;
}

void infer_map_detections(InferDetection *dets, int n, const InferLetterbox *xf, int frame_width,
                          int frame_height) {
  if (!dets || n <= 0) return;
  float sx = 1.0f, sy = 1.0f, px = 0.0f, py = 0.0f, ox = 0.0f, oy = 0.0f;
  if (xf) {
    if (xf->scale_x > 0.0f && isfinite(xf->scale_x)) sx = xf->scale_x;
    if (xf->scale_y > 0.0f && isfinite(xf->scale_y)) sy = xf->scale_y;
    if (isfinite(xf->pad_x)) px = xf->pad_x;
    if (isfinite(xf->pad_y)) py = xf->pad_y;
    if (isfinite(xf->offset_x)) ox = xf->offset_x;
    if (isfinite(xf->offset_y)) oy = xf->offset_y;
  }
  bool cx = frame_width > 0, cy = frame_height > 0;
  float w = (float)frame_width, h = (float)frame_height;
  for (int i = 0; i < n; i++) {
    InferDetection *d = &dets[i];
    d->x_min = clip((d->x_min - px) / sx + ox, w, cx);
    d->x_max = clip((d->x_max - px) / sx + ox, w, cx);
    d->y_min = clip((d->y_min - py) / sy + oy, h, cy);
    d->y_max = clip((d->y_max - py) / sy + oy, h, cy);
  }
}
