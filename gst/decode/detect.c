/* Detector outputs: guessing the format from names and shapes, and decoding
 * YOLOv8, YOLOv5, SSD and NMS-inside outputs into detections (see decode.h).
 *
 * Choices the contract leaves open:
 * - Format guess, in this order:
 *   1. NMS inside: outputs whose names contain "num", "box", "score" and
 *      "class" (case-insensitive, first fitting output per role) with shapes
 *      [N, 1] (or [N]), [N, K, 4], [N, K], [N, K].
 *   2. SSD: two rank-3 outputs [N, A, 4] and [N, A, C]; names containing
 *      "box"/"loc" (boxes) and "score"/"conf"/"class"/"cls" (scores) decide
 *      which is which, otherwise the shapes, otherwise output order.
 *   3. YOLO: the first rank-3 output [N, D1, D2] with D1 < D2 and D1 >= 5
 *      (transposed, [N, 4 + C, A]) or D2 >= 5 ([N, A, 4 + C]). YOLOv5 only
 *      when its name contains "v5" (and not "v8"); otherwise YOLOv8, since
 *      the shapes alone cannot tell them apart. Callers that know better set
 *      params.format.
 *   Nothing fitting is INFER_ERR_UNSUPPORTED listing names, shapes, dtypes.
 * - With an explicit format the same matching is used, except that
 *   NMS-inside roles not found by name are filled by shape (of two [N, K]
 *   outputs an integer one is the classes, else the first is the scores).
 *   YOLOv5 outputs may be transposed too (same rule).
 * - Box format AUTO: YOLOv8 is x_min,y_min,x_max,y_max unless the output's
 *   name contains "xywh" or "cxcywh" (and not "xyxy"); YOLOv5 is
 *   cx,cy,w,h; SSD and NMS inside are x_min,y_min,x_max,y_max (note: the
 *   raw ultralytics export is cx,cy,w,h and needs box_format CXCYWH or a
 *   name that says so). An explicit box_format applies to every format.
 *   boxes_normalized applies to every format (x times input_width, y times
 *   input_height), which then must be positive.
 * - YOLOv8 score: max over classes (equal: lower class id). YOLOv5 score:
 *   objectness * class probability, max over classes; with no class column
 *   ([N, A, 5]) the score is the objectness and the class 0. SSD: every
 *   score column is a class, including a "background" column 0 (models with
 *   a background class want a threshold or a label file that handles it).
 * - NMS inside: num_dets[b] is clamped to [0, K] (NaN: 0); num_dets and
 *   classes may be f32, f16, i32 or i64; entries whose class is negative or
 *   not finite are skipped (padding). Threshold, max_candidates, top_k apply;
 *   NMS only when nms_iou > 0 (as for every format).
 * - Candidates need confidence >= confidence_threshold (NaN never passes);
 *   ranking is by confidence then lower anchor (or entry) index, so results
 *   are deterministic. Box coordinates are used as they come (degenerate or
 *   non-finite boxes have IoU 0 with everything).
 * - b outside the batch, NULL data (with elements), NULL arguments:
 *   INFER_ERR_INVALID_ARGUMENT. Unknown, negative or huge dims (> INT32_MAX,
 *   or more than 2^52 elements) make an output fit no format
 *   (INFER_ERR_UNSUPPORTED). Other dtypes than the above:
 *   INFER_ERR_UNSUPPORTED naming the output. */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

/* ---- small helpers ---- */

static bool name_has(const char *name, const char *needle) {
  if (!name) return false;
  size_t nl = strlen(needle);
  for (const char *p = name; *p; p++) {
    size_t i = 0;
    while (i < nl && p[i] && tolower((unsigned char)p[i]) == needle[i]) i++;
    if (i == nl) return true;
  }
  return false;
}

static const char *name_of(const InferNamedTensor *t) { return t->name ? t->name : "(unnamed)"; }

/* Rank within limits, every dim known, >= 0 and <= INT32_MAX, and the
 * element count small enough to index with int64 arithmetic. */
static bool shape_ok(const InferShape *s) {
  if (s->rank < 0 || s->rank > INFER_MAX_RANK) return false;
  int64_t numel = 1;
  for (int i = 0; i < s->rank; i++) {
    if (s->d[i] < 0 || s->d[i] > INT32_MAX) return false;
    if (s->d[i] != 0 && numel > (INT64_C(1) << 52) / s->d[i]) return false;
    numel *= s->d[i];
  }
  return true;
}

static bool has_shape(const InferNamedTensor *t, int rank) {
  return t->view.shape.rank == rank && shape_ok(&t->view.shape) && t->view.shape.d[0] >= 1;
}

static bool is_int_dtype(InferDType d) { return d == INFER_DTYPE_I32 || d == INFER_DTYPE_I64; }

static double load(const InferTensorView *v, int64_t i) {
  switch (v->dtype) {
    case INFER_DTYPE_F16: return infer_half_to_float(((const uint16_t *)v->data)[i]);
    case INFER_DTYPE_I32: return ((const int32_t *)v->data)[i];
    case INFER_DTYPE_I64: return (double)((const int64_t *)v->data)[i];
    default: return ((const float *)v->data)[i];
  }
}

static void describe_outputs(const InferNamedTensor *outputs, int n, char *buf, size_t size) {
  size_t used = 0;
  buf[0] = 0;
  for (int i = 0; i < n && used + 1 < size; i++) {
    char sh[160];
    const InferShape *s = &outputs[i].view.shape;
    if (s->rank < 0 || s->rank > INFER_MAX_RANK)
      snprintf(sh, sizeof sh, "[rank %d]", (int)s->rank);
    else
      infer_shape_str(s, sh, sizeof sh);
    int w = snprintf(buf + used, size - used, "%s'%s' %s %s", i ? ", " : "", name_of(&outputs[i]),
                     sh, infer_dtype_name(outputs[i].view.dtype));
    if (w < 0) break;
    used += (size_t)w;
  }
  if (n <= 0) snprintf(buf, size, "(none)");
}

static const char *format_name(InferDetectorFormat f) {
  switch (f) {
    case INFER_DET_YOLOV8: return "YOLOv8 [N, A, 4 + C] or [N, 4 + C, A]";
    case INFER_DET_YOLOV5: return "YOLOv5 [N, A, 5 + C]";
    case INFER_DET_SSD: return "SSD boxes [N, A, 4] + scores [N, A, C]";
    case INFER_DET_NMS_INSIDE:
      return "NMS-inside num_dets [N, 1] + boxes [N, K, 4] + scores [N, K] + classes [N, K]";
    default: return "auto";
  }
}

/* ---- matching outputs to a format ---- */

typedef struct Layout {
  InferDetectorFormat format;
  /* YOLO */
  const InferNamedTensor *pred;
  bool transposed;
  int64_t channels;
  /* SSD and NMS inside */
  const InferNamedTensor *boxes, *scores, *classes, *num;
  int64_t anchors; /* A or K */
  int64_t n_classes; /* SSD */
} Layout;

static bool fits_num(const InferNamedTensor *t) {
  return (has_shape(t, 1)) || (has_shape(t, 2) && t->view.shape.d[1] == 1);
}
static bool fits_boxes(const InferNamedTensor *t) {
  return has_shape(t, 3) && t->view.shape.d[2] == 4;
}
static bool fits_nk(const InferNamedTensor *t) { return has_shape(t, 2); }

static bool nms_inside_consistent(const Layout *L) {
  if (!L->num || !L->boxes || !L->scores || !L->classes) return false;
  int64_t n = L->boxes->view.shape.d[0], k = L->boxes->view.shape.d[1];
  return L->num->view.shape.d[0] == n && L->scores->view.shape.d[0] == n &&
         L->classes->view.shape.d[0] == n && L->scores->view.shape.d[1] == k &&
         L->classes->view.shape.d[1] == k;
}

static bool role_taken(const Layout *L, const InferNamedTensor *t) {
  return t == L->num || t == L->boxes || t == L->scores || t == L->classes;
}

static bool match_nms_inside(const InferNamedTensor *o, int n, bool by_shape, Layout *L) {
  memset(L, 0, sizeof *L);
  for (int i = 0; i < n; i++) {
    const InferNamedTensor *t = &o[i];
    if (name_has(t->name, "num")) {
      if (!L->num && fits_num(t)) L->num = t;
    } else if (name_has(t->name, "box")) {
      if (!L->boxes && fits_boxes(t)) L->boxes = t;
    } else if (name_has(t->name, "score")) {
      if (!L->scores && fits_nk(t)) L->scores = t;
    } else if (name_has(t->name, "class")) {
      if (!L->classes && fits_nk(t)) L->classes = t;
    }
  }
  if (by_shape) {
    for (int i = 0; i < n && !L->boxes; i++)
      if (!role_taken(L, &o[i]) && fits_boxes(&o[i])) L->boxes = &o[i];
    if (L->boxes) {
      const int64_t bn = L->boxes->view.shape.d[0], bk = L->boxes->view.shape.d[1];
      /* [N, K] outputs: an integer one is preferably the classes, a float
       * one the scores; what is left goes in output order, scores first. */
      for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < n; i++) {
          const InferNamedTensor *t = &o[i];
          if (role_taken(L, t) || !fits_nk(t) || t->view.shape.d[0] != bn ||
              t->view.shape.d[1] != bk)
            continue;
          bool int_like = is_int_dtype(t->view.dtype);
          if (pass == 0) {
            if (int_like && !L->classes) L->classes = t;
            else if (!int_like && !L->scores) L->scores = t;
          } else {
            if (!L->scores) L->scores = t;
            else if (!L->classes) L->classes = t;
          }
        }
      }
    }
    for (int i = 0; i < n && !L->num; i++)
      if (!role_taken(L, &o[i]) && fits_num(&o[i])) L->num = &o[i];
  }
  if (!nms_inside_consistent(L)) return false;
  L->format = INFER_DET_NMS_INSIDE;
  L->anchors = L->boxes->view.shape.d[1];
  return true;
}

static bool match_ssd(const InferNamedTensor *o, int n, Layout *L) {
  memset(L, 0, sizeof *L);
  int best = -1, bi = -1, bj = -1;
  for (int i = 0; i < n; i++) {
    if (!fits_boxes(&o[i])) continue;
    for (int j = 0; j < n; j++) {
      if (j == i || !has_shape(&o[j], 3)) continue;
      const InferShape *a = &o[i].view.shape, *s = &o[j].view.shape;
      if (s->d[0] != a->d[0] || s->d[1] != a->d[1] || s->d[2] < 1) continue;
      int score = 0;
      if (name_has(o[i].name, "box") || name_has(o[i].name, "loc")) score += 2;
      if (name_has(o[j].name, "score") || name_has(o[j].name, "conf") ||
          name_has(o[j].name, "class") || name_has(o[j].name, "cls"))
        score += 2;
      if (s->d[2] != 4) score += 1;
      if (score > best) best = score, bi = i, bj = j;
    }
  }
  if (bi < 0) return false;
  L->format = INFER_DET_SSD;
  L->boxes = &o[bi];
  L->scores = &o[bj];
  L->anchors = o[bi].view.shape.d[1];
  L->n_classes = o[bj].view.shape.d[2];
  return true;
}

static bool match_yolo(const InferNamedTensor *o, int n, Layout *L) {
  memset(L, 0, sizeof *L);
  for (int i = 0; i < n; i++) {
    if (!has_shape(&o[i], 3)) continue;
    int64_t d1 = o[i].view.shape.d[1], d2 = o[i].view.shape.d[2];
    if (d1 < d2 && d1 >= 5) {
      L->transposed = true, L->channels = d1, L->anchors = d2;
    } else if (d2 >= 5) {
      L->transposed = false, L->channels = d2, L->anchors = d1;
    } else {
      continue;
    }
    L->pred = &o[i];
    bool v5 = name_has(o[i].name, "v5") && !name_has(o[i].name, "v8");
    L->format = v5 ? INFER_DET_YOLOV5 : INFER_DET_YOLOV8;
    return true;
  }
  return false;
}

static InferStatus *check_outputs_arg(const InferNamedTensor *outputs, int n_outputs) {
  if (!outputs || n_outputs <= 0)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "detection decoding: no outputs given");
  return NULL;
}

static InferStatus *guess(const InferNamedTensor *outputs, int n_outputs, Layout *L) {
  if (match_nms_inside(outputs, n_outputs, false, L)) return NULL;
  if (match_ssd(outputs, n_outputs, L)) return NULL;
  if (match_yolo(outputs, n_outputs, L)) return NULL;
  char desc[1024];
  describe_outputs(outputs, n_outputs, desc, sizeof desc);
  return infer_status_new(
      INFER_ERR_UNSUPPORTED,
      "cannot tell the detector format from the outputs %s: expected one output [N, A, 4 + C] or "
      "[N, 4 + C, A] (YOLOv8) or [N, A, 5 + C] (YOLOv5), boxes [N, A, 4] + scores [N, A, C] "
      "(SSD), or num_dets [N, 1] + boxes [N, K, 4] + scores [N, K] + classes [N, K] (NMS inside "
      "the model)",
      desc);
}

InferStatus *infer_detector_format_guess(const InferNamedTensor *outputs, int n_outputs,
                                         InferDetectorFormat *format) {
  if (!format) return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "format guess: NULL format");
  INFER_TRY(check_outputs_arg(outputs, n_outputs));
  Layout L;
  INFER_TRY(guess(outputs, n_outputs, &L));
  *format = L.format;
  return NULL;
}

static InferStatus *resolve(const InferNamedTensor *o, int n, InferDetectorFormat f, Layout *L) {
  bool ok = false;
  switch (f) {
    case INFER_DET_AUTO: return guess(o, n, L);
    case INFER_DET_YOLOV8:
    case INFER_DET_YOLOV5:
      ok = match_yolo(o, n, L);
      if (ok) L->format = f;
      break;
    case INFER_DET_SSD: ok = match_ssd(o, n, L); break;
    case INFER_DET_NMS_INSIDE: ok = match_nms_inside(o, n, true, L); break;
    default:
      return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "unknown detector format %d", (int)f);
  }
  if (ok) return NULL;
  char desc[1024];
  describe_outputs(o, n, desc, sizeof desc);
  return infer_status_new(INFER_ERR_UNSUPPORTED, "the outputs %s do not fit the %s layout", desc,
                          format_name(f));
}

static InferStatus *check_tensor(const InferNamedTensor *t, int b, bool allow_int) {
  const InferTensorView *v = &t->view;
  bool ok = v->dtype == INFER_DTYPE_F32 || v->dtype == INFER_DTYPE_F16 ||
            (allow_int && is_int_dtype(v->dtype));
  if (!ok)
    return infer_status_new(INFER_ERR_UNSUPPORTED,
                            "output '%s' has dtype %s; the detection decoder reads f32 or f16%s",
                            name_of(t), infer_dtype_name(v->dtype),
                            allow_int ? " (or i32, i64)" : "");
  if (b < 0 || b >= v->shape.d[0]) {
    char sh[160];
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "batch item %d is outside output '%s' of shape %s", b, name_of(t),
                            infer_shape_str(&v->shape, sh, sizeof sh));
  }
  if (!v->data && infer_shape_numel(&v->shape) > 0)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "output '%s' has no data", name_of(t));
  return NULL;
}

/* ---- candidates: the best max_candidates, ranked deterministically ---- */

typedef struct Cand {
  InferDetection d;
  int64_t index;
} Cand;

/* a ranks before b */
static bool better(const Cand *a, const Cand *b) {
  return a->d.confidence > b->d.confidence ||
         (a->d.confidence == b->d.confidence && a->index < b->index);
}

static int compare_cands(const void *pa, const void *pb) {
  const Cand *a = pa, *b = pb;
  return better(a, b) ? -1 : better(b, a) ? 1 : 0;
}

typedef struct Collector {
  Cand *buf;
  int64_t cap, count;
  bool heap; /* buf is a heap whose root ranks last */
} Collector;

static void heap_down(Cand *h, int64_t n, int64_t i) {
  for (;;) {
    int64_t l = 2 * i + 1, r = l + 1, w = i;
    if (l < n && better(&h[w], &h[l])) w = l;
    if (r < n && better(&h[w], &h[r])) w = r;
    if (w == i) return;
    Cand t = h[i];
    h[i] = h[w];
    h[w] = t;
    i = w;
  }
}

static void collect(Collector *c, const InferDetection *d, int64_t index) {
  Cand x = {*d, index};
  if (!c->heap) {
    if (c->count < c->cap) c->buf[c->count++] = x;
    return;
  }
  if (c->count < c->cap) {
    int64_t i = c->count++;
    c->buf[i] = x;
    while (i > 0) {
      int64_t parent = (i - 1) / 2;
      if (!better(&c->buf[parent], &c->buf[i])) break;
      Cand t = c->buf[parent];
      c->buf[parent] = c->buf[i];
      c->buf[i] = t;
      i = parent;
    }
  } else if (c->cap > 0 && better(&x, &c->buf[0])) {
    c->buf[0] = x;
    heap_down(c->buf, c->count, 0);
  }
}

/* ---- per-format readers ---- */

typedef struct BoxXform {
  bool cxcywh;
  float sx, sy;
} BoxXform;

static void make_box(const BoxXform *x, double a, double b, double c, double d, InferDetection *o) {
  double x0 = a, y0 = b, x1 = c, y1 = d;
  if (x->cxcywh) {
    x0 = a - c / 2.0;
    x1 = a + c / 2.0;
    y0 = b - d / 2.0;
    y1 = b + d / 2.0;
  }
  o->x_min = (float)(x0 * x->sx);
  o->y_min = (float)(y0 * x->sy);
  o->x_max = (float)(x1 * x->sx);
  o->y_max = (float)(y1 * x->sy);
}

/* The box format and scale for the matched layout (box_format AUTO: see
 * the header comment). */
static InferStatus *box_xform(const Layout *L, const InferDetectorParams *p, int input_width,
                              int input_height, BoxXform *bx) {
  const char *box_name = L->pred ? L->pred->name : NULL;
  bx->cxcywh = false;
  bx->sx = bx->sy = 1.0f;
  switch (p->box_format) {
    case INFER_BOX_XYXY: bx->cxcywh = false; break;
    case INFER_BOX_CXCYWH: bx->cxcywh = true; break;
    case INFER_BOX_AUTO:
      if (L->format == INFER_DET_YOLOV5)
        bx->cxcywh = true;
      else if (L->format == INFER_DET_YOLOV8)
        bx->cxcywh = (name_has(box_name, "xywh") || name_has(box_name, "cxcywh")) &&
                     !name_has(box_name, "xyxy");
      break;
    default:
      return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "unknown box format %d",
                              (int)p->box_format);
  }
  if (p->boxes_normalized) {
    if (input_width <= 0 || input_height <= 0)
      return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                              "normalized boxes need the model input size (got %dx%d)", input_width,
                              input_height);
    bx->sx = (float)input_width;
    bx->sy = (float)input_height;
  }
  return NULL;
}

/* Element c of anchor a of a YOLO prediction tensor. */
static double yolo_at(const Layout *L, int64_t base, int64_t a, int64_t c) {
  return load(&L->pred->view,
              L->transposed ? base + c * L->anchors + a : base + a * L->channels + c);
}

static void emit_yolo(const Layout *L, int64_t base, int64_t a, double best, int64_t best_c,
                      const BoxXform *bx, float thr, Collector *col) {
  if (best_c < 0 || best_c > INT32_MAX) return;
  float conf = (float)best;
  if (isnan(conf) || !(conf >= thr)) return;
  InferDetection d;
  make_box(bx, yolo_at(L, base, a, 0), yolo_at(L, base, a, 1), yolo_at(L, base, a, 2),
           yolo_at(L, base, a, 3), &d);
  d.confidence = conf;
  d.class_id = (int)best_c;
  collect(col, &d, a);
}

/* Transposed layout [N, 4 + C, A]: sweeps the class rows in memory order
 * (much kinder to the cache than striding per anchor). Same results as the
 * per-anchor loop; false when there is no memory for the running maxima. */
static bool read_yolo_transposed(const Layout *L, int b, const BoxXform *bx, float thr,
                                 Collector *col) {
  const int64_t A = L->anchors, ch = L->channels;
  const int64_t base = (int64_t)b * A * ch;
  const bool v5 = L->format == INFER_DET_YOLOV5;
  const int64_t first_class = v5 ? 5 : 4;
  double *best = malloc((size_t)A * sizeof *best);
  double *obj = v5 ? malloc((size_t)A * sizeof *obj) : NULL;
  int64_t *best_c = malloc((size_t)A * sizeof *best_c);
  if (!best || !best_c || (v5 && !obj)) {
    free(best);
    free(obj);
    free(best_c);
    return false;
  }
  for (int64_t a = 0; a < A; a++) {
    best[a] = 0.0;
    best_c[a] = -1;
    if (v5) {
      obj[a] = yolo_at(L, base, a, 4);
      if (ch == 5 && !isnan(obj[a])) best[a] = obj[a], best_c[a] = 0;
    }
  }
  const bool f32 = L->pred->view.dtype == INFER_DTYPE_F32;
  for (int64_t c = first_class; c < ch; c++) {
    const float *row = f32 ? (const float *)L->pred->view.data + base + c * A : NULL;
    for (int64_t a = 0; a < A; a++) {
      double v = row ? (double)row[a] : yolo_at(L, base, a, c);
      if (v5) v *= obj[a];
      if (isnan(v)) continue;
      if (best_c[a] < 0 || v > best[a]) best[a] = v, best_c[a] = c - first_class;
    }
  }
  for (int64_t a = 0; a < A; a++) emit_yolo(L, base, a, best[a], best_c[a], bx, thr, col);
  free(best);
  free(obj);
  free(best_c);
  return true;
}

static void read_yolo(const Layout *L, int b, const BoxXform *bx, float thr, Collector *col) {
  if (L->transposed && read_yolo_transposed(L, b, bx, thr, col)) return;
  const int64_t A = L->anchors, ch = L->channels;
  const int64_t base = (int64_t)b * A * ch;
  const bool v5 = L->format == INFER_DET_YOLOV5;
  const int64_t first_class = v5 ? 5 : 4;
  for (int64_t a = 0; a < A; a++) {
    double best = 0.0;
    int64_t best_c = -1;
    double obj = 1.0;
    if (v5) {
      obj = yolo_at(L, base, a, 4);
      if (isnan(obj)) continue;
      if (ch == 5) best = obj, best_c = 0;
    }
    const float *row = L->pred->view.dtype == INFER_DTYPE_F32 && !L->transposed
                           ? (const float *)L->pred->view.data + base + a * ch
                           : NULL;
    for (int64_t c = first_class; c < ch; c++) {
      double v = row ? (double)row[c] : yolo_at(L, base, a, c);
      if (v5) v *= obj;
      if (isnan(v)) continue;
      if (best_c < 0 || v > best) best = v, best_c = c - first_class;
    }
    emit_yolo(L, base, a, best, best_c, bx, thr, col);
  }
}

static void read_ssd(const Layout *L, int b, const BoxXform *bx, float thr, Collector *col) {
  const InferTensorView *bv = &L->boxes->view, *sv = &L->scores->view;
  const int64_t A = L->anchors, C = L->n_classes;
  for (int64_t a = 0; a < A; a++) {
    const int64_t sb = ((int64_t)b * A + a) * C;
    double best = 0.0;
    int64_t best_c = -1;
    for (int64_t c = 0; c < C; c++) {
      double s = load(sv, sb + c);
      if (isnan(s)) continue;
      if (best_c < 0 || s > best) best = s, best_c = c;
    }
    if (best_c < 0 || best_c > INT32_MAX) continue;
    float conf = (float)best;
    if (isnan(conf) || !(conf >= thr)) continue;
    const int64_t bb = ((int64_t)b * A + a) * 4;
    InferDetection d;
    make_box(bx, load(bv, bb), load(bv, bb + 1), load(bv, bb + 2), load(bv, bb + 3), &d);
    d.confidence = conf;
    d.class_id = (int)best_c;
    collect(col, &d, a);
  }
}

static void read_nms_inside(const Layout *L, int b, const BoxXform *bx, float thr, Collector *col) {
  const InferTensorView *nv = &L->num->view, *bv = &L->boxes->view, *sv = &L->scores->view,
                        *cv = &L->classes->view;
  const int64_t K = L->anchors;
  double num = load(nv, b); /* [N] or [N, 1] */
  int64_t count = 0;
  if (num >= (double)K)
    count = K;
  else if (num > 0.0)
    count = (int64_t)num;
  for (int64_t k = 0; k < count; k++) {
    const int64_t i = (int64_t)b * K + k;
    float conf = (float)load(sv, i);
    if (isnan(conf) || !(conf >= thr)) continue;
    double cls = load(cv, i);
    if (!isfinite(cls) || cls < 0.0 || cls > (double)INT32_MAX) continue;
    const int64_t bb = i * 4;
    InferDetection d;
    make_box(bx, load(bv, bb), load(bv, bb + 1), load(bv, bb + 2), load(bv, bb + 3), &d);
    d.confidence = conf;
    d.class_id = (int)floor(cls + 0.5);
    collect(col, &d, k);
  }
}

InferStatus *infer_decode_detections(const InferNamedTensor *outputs, int n_outputs, int b,
                                     int input_width, int input_height,
                                     const InferDetectorParams *p, InferDetection *out,
                                     int max_out, int *n) {
  if (n) *n = 0;
  if (!p || !n)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "detection decoding: NULL argument");
  if (max_out < 0 || (max_out > 0 && !out))
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "detection decoding: invalid output buffer (max_out %d)", max_out);
  INFER_TRY(check_outputs_arg(outputs, n_outputs));
  Layout L;
  INFER_TRY(resolve(outputs, n_outputs, p->format, &L));

  switch (L.format) {
    case INFER_DET_YOLOV8:
    case INFER_DET_YOLOV5:
      INFER_TRY(check_tensor(L.pred, b, false));
      break;
    case INFER_DET_SSD:
      INFER_TRY(check_tensor(L.boxes, b, false));
      INFER_TRY(check_tensor(L.scores, b, false));
      break;
    case INFER_DET_NMS_INSIDE:
      INFER_TRY(check_tensor(L.num, b, true));
      INFER_TRY(check_tensor(L.boxes, b, false));
      INFER_TRY(check_tensor(L.scores, b, false));
      INFER_TRY(check_tensor(L.classes, b, true));
      break;
    default: return infer_status_new(INFER_ERR_INTERNAL, "detection decoding: no format");
  }

  BoxXform bx;
  INFER_TRY(box_xform(&L, p, input_width, input_height, &bx));

  int keep = (p->top_k > 0 && p->top_k < max_out) ? p->top_k : max_out;
  int64_t total = L.anchors;
  if (keep == 0 || total == 0) return NULL;
  int64_t cap = (p->max_candidates > 0 && p->max_candidates < total) ? p->max_candidates : total;
  Collector col = {NULL, cap, 0, cap < total};
  col.buf = malloc((size_t)cap * sizeof *col.buf);
  if (!col.buf)
    return infer_status_new(INFER_ERR_OUT_OF_MEMORY,
                            "detection decoding: no memory for %lld candidates", (long long)cap);
  float thr = p->confidence_threshold;
  switch (L.format) {
    case INFER_DET_SSD: read_ssd(&L, b, &bx, thr, &col); break;
    case INFER_DET_NMS_INSIDE: read_nms_inside(&L, b, &bx, thr, &col); break;
    default: read_yolo(&L, b, &bx, thr, &col); break;
  }
  qsort(col.buf, (size_t)col.count, sizeof *col.buf, compare_cands);

  /* Greedy NMS straight into out: a candidate is kept unless a kept box of
   * higher rank (same class unless class-agnostic) overlaps it by more than
   * nms_iou. */
  const bool do_nms = p->nms_iou > 0.0f;
  int kept = 0;
  for (int64_t i = 0; i < col.count && kept < keep; i++) {
    const InferDetection *c = &col.buf[i].d;
    bool suppressed = false;
    for (int k = 0; do_nms && k < kept; k++) {
      if (!p->class_agnostic_nms && out[k].class_id != c->class_id) continue;
      if (infer_box_iou(&out[k], c) > p->nms_iou) {
        suppressed = true;
        break;
      }
    }
    if (!suppressed) out[kept++] = *c;
  }
  free(col.buf);
  *n = kept;
  return NULL;
}

static bool readable(const InferNamedTensor *t) {
  return t->view.dtype == INFER_DTYPE_F32 || t->view.dtype == INFER_DTYPE_F16;
}

InferStatus *infer_detector_layout(const InferNamedTensor *outputs, int n_outputs,
                                   int input_width, int input_height,
                                   const InferDetectorParams *p, InferDetectorLayout *out) {
  if (!p || !out)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "detector layout: NULL argument");
  memset(out, 0, sizeof *out);
  out->pred = out->boxes = out->scores = -1;
  INFER_TRY(check_outputs_arg(outputs, n_outputs));
  Layout L;
  INFER_TRY(resolve(outputs, n_outputs, p->format, &L));
  BoxXform bx;
  INFER_TRY(box_xform(&L, p, input_width, input_height, &bx));
  out->format = L.format;
  out->transposed = L.transposed;
  out->anchors = L.anchors;
  out->channels = L.channels;
  out->n_classes = L.n_classes;
  out->cxcywh = bx.cxcywh;
  out->sx = bx.sx;
  out->sy = bx.sy;
  const InferNamedTensor *first = NULL;
  if (L.pred) out->pred = (int)(L.pred - outputs), first = L.pred;
  if (L.boxes) out->boxes = (int)(L.boxes - outputs), first = L.boxes;
  if (L.scores) out->scores = (int)(L.scores - outputs);
  out->batch = first ? first->view.shape.d[0] : 0;
  bool ok = L.format == INFER_DET_NMS_INSIDE ||
            (L.pred ? readable(L.pred) : readable(L.boxes) && readable(L.scores));
  if (!ok) {
    char desc[1024];
    describe_outputs(outputs, n_outputs, desc, sizeof desc);
    return infer_status_new(INFER_ERR_UNSUPPORTED,
                            "the detector outputs %s are not f32 or f16", desc);
  }
  return NULL;
}
