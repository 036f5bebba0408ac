/* NonMaxSuppression on the CPU, following the ONNX reference step by step
 * (float32 arithmetic, the same comparisons) so that boxes on a threshold's
 * edge are kept or dropped exactly as there. */
#include <stdlib.h>

#include "cpu_util.h"

typedef struct NmsCandidate {
  float score;
  int64_t box;
} NmsCandidate;

typedef struct NmsSettings {
  int64_t max_out;      /* per class */
  float iou_threshold;
  bool has_score_threshold;
  float score_threshold;
  bool center_point_box;
} NmsSettings;

static InferStatus *nms_error(const InferOpCall *c, InferStatusCode code, const char *reason) {
  return infer_status_new(code, "layer '%s' (%s): %s", c->node, infer_op_name(c->op), reason);
}

/* A float scalar input; an absent or empty one leaves *out unchanged. */
static bool read_float_scalar(const InferOpCall *c, int i, float *out) {
  const InferTensorView *t = infer_call_input(c, i);
  if (t->dtype == INFER_DTYPE_UNDEFINED || infer_shape_numel(&t->shape) < 1) return false;
  *out = (float)infer_cpu_load(t->data, t->dtype, 0);
  return true;
}

/* Equal dims, where both are known (shapes may still be dynamic here). */
static bool dims_agree(int64_t a, int64_t b) { return a < 0 || b < 0 || a == b; }

InferStatus *infer_cpu_supports_nms(const InferOpCall *call) {
  INFER_CPU_REQUIRE(call, 0, INFER_DTYPE_F32);
  INFER_CPU_REQUIRE(call, 1, INFER_DTYPE_F32);
  if (infer_call_has_input(call, 2)) INFER_CPU_REQUIRE(call, 2, INFER_DTYPE_I64, INFER_DTYPE_I32);
  for (int i = 3; i <= 4; i++) {
    if (!infer_call_has_input(call, i)) continue;
    INFER_CPU_REQUIRE(call, i, INFER_DTYPE_F32, INFER_DTYPE_F16);
    if (infer_shape_numel(&call->in[i].shape) > 1)
      return nms_error(call, INFER_ERR_UNSUPPORTED, "thresholds must be single values");
  }
  const InferShape *b = &call->in[0].shape, *s = &call->in[1].shape;
  if (b->rank != 3 || s->rank != 3 || !dims_agree(b->d[2], 4) || !dims_agree(b->d[0], s->d[0]) ||
      !dims_agree(b->d[1], s->d[2]))
    return nms_error(call, INFER_ERR_UNSUPPORTED, "expects boxes [B,N,4] and scores [B,C,N]");
  return NULL;
}

static NmsSettings nms_settings(const InferOpCall *call) {
  NmsSettings st = {0, 0.0f, false, 0.0f, call->params->nms.center_point_box};
  const InferTensorView *m = infer_call_input(call, 2);
  if (m->dtype != INFER_DTYPE_UNDEFINED && infer_shape_numel(&m->shape) >= 1) {
    st.max_out = m->dtype == INFER_DTYPE_I64 ? *(const int64_t *)m->data
                                             : *(const int32_t *)m->data;
    if (st.max_out < 0) st.max_out = 0;
  }
  read_float_scalar(call, 3, &st.iou_threshold);
  st.has_score_threshold = read_float_scalar(call, 4, &st.score_threshold);
  return st;
}

/* The box as min/max corners along x and y. */
static void box_extent(const float *b, bool center, float *x0, float *x1, float *y0, float *y1) {
  if (center) { /* [x_center, y_center, width, height] */
    float hw = b[2] / 2, hh = b[3] / 2;
    *x0 = b[0] - hw;
    *x1 = b[0] + hw;
    *y0 = b[1] - hh;
    *y1 = b[1] + hh;
  } else { /* [y1, x1, y2, x2], either corner order */
    *x0 = b[1] <= b[3] ? b[1] : b[3];
    *x1 = b[1] <= b[3] ? b[3] : b[1];
    *y0 = b[0] <= b[2] ? b[0] : b[2];
    *y1 = b[0] <= b[2] ? b[2] : b[0];
  }
}

/* Whether the IoU of boxes a and b exceeds the threshold. */
static bool nms_suppresses(const float *a, const float *b, const NmsSettings *st) {
  float ax0, ax1, ay0, ay1, bx0, bx1, by0, by1;
  box_extent(a, st->center_point_box, &ax0, &ax1, &ay0, &ay1);
  box_extent(b, st->center_point_box, &bx0, &bx1, &by0, &by1);
  float ix0 = ax0 > bx0 ? ax0 : bx0, ix1 = ax1 < bx1 ? ax1 : bx1;
  if (ix1 <= ix0) return false;
  float iy0 = ay0 > by0 ? ay0 : by0, iy1 = ay1 < by1 ? ay1 : by1;
  if (iy1 <= iy0) return false;
  float inter = (ix1 - ix0) * (iy1 - iy0);
  if (inter <= 0) return false;
  float area_a = (ax1 - ax0) * (ay1 - ay0), area_b = (bx1 - bx0) * (by1 - by0);
  float uni = area_a + area_b - inter;
  if (area_a <= 0 || area_b <= 0 || uni <= 0) return false;
  return inter / uni > st->iou_threshold;
}

/* Higher score first; equal scores keep the lower box index first. */
static bool candidate_before(const NmsCandidate *a, const NmsCandidate *b) {
  return a->score > b->score || (a->score == b->score && a->box < b->box);
}

static void sort_candidates(NmsCandidate *c, NmsCandidate *tmp, int64_t n) {
  for (int64_t width = 1; width < n; width *= 2) {
    for (int64_t lo = 0; lo < n; lo += 2 * width) {
      int64_t mid = lo + width < n ? lo + width : n;
      int64_t hi = lo + 2 * width < n ? lo + 2 * width : n;
      int64_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) tmp[k++] = candidate_before(&c[j], &c[i]) ? c[j++] : c[i++];
      while (i < mid) tmp[k++] = c[i++];
      while (j < hi) tmp[k++] = c[j++];
    }
    memcpy(c, tmp, (size_t)n * sizeof *c);
  }
}

/* Selects boxes of one (batch, class) into sel (box indices); returns the count. */
static int64_t nms_class(const float *boxes, const float *scores, int64_t n,
                         const NmsSettings *st, NmsCandidate *cand, NmsCandidate *tmp,
                         int64_t *sel) {
  int64_t n_cand = 0, n_sel = 0;
  for (int64_t i = 0; i < n; i++)
    if (!st->has_score_threshold || scores[i] > st->score_threshold)
      cand[n_cand++] = (NmsCandidate){scores[i], i};
  sort_candidates(cand, tmp, n_cand);
  for (int64_t c = 0; c < n_cand && n_sel < st->max_out; c++) {
    const float *box = boxes + cand[c].box * 4;
    bool keep = true;
    for (int64_t s = 0; s < n_sel && keep; s++)
      keep = !nms_suppresses(box, boxes + sel[s] * 4, st);
    if (keep) sel[n_sel++] = cand[c].box;
  }
  return n_sel;
}

InferStatus *infer_cpu_run_nms(const InferOpCall *call) {
  const float *boxes = call->in[0].data, *scores = call->in[1].data;
  int64_t batches = call->in[0].shape.d[0], n = call->in[0].shape.d[1];
  int64_t classes = call->in[1].shape.d[1];
  InferTensorView *y = &call->out[0];
  int64_t capacity = y->shape.d[0], count = 0;
  if (call->in[0].shape.d[2] != 4 || call->in[1].shape.d[0] != batches ||
      call->in[1].shape.d[2] != n)
    return nms_error(call, INFER_ERR_INVALID_ARGUMENT, "expects boxes [B,N,4] and scores [B,C,N]");
  NmsSettings st = nms_settings(call);
  if (st.max_out == 0 || n == 0 || batches * classes == 0) {
    y->shape.d[0] = 0;
    return NULL;
  }
  NmsCandidate *cand = malloc((size_t)n * 2 * sizeof *cand);
  int64_t *sel = malloc((size_t)n * sizeof *sel);
  InferStatus *err = NULL;
  if (!cand || !sel) err = nms_error(call, INFER_ERR_OUT_OF_MEMORY, "out of memory");
  int64_t *out = y->data;
  for (int64_t b = 0; b < batches && !err; b++) {
    for (int64_t c = 0; c < classes && !err; c++) {
      int64_t k = nms_class(boxes + b * n * 4, scores + (b * classes + c) * n, n, &st, cand,
                            cand + n, sel);
      if (count + k > capacity) {
        err = nms_error(call, INFER_ERR_INTERNAL, "more boxes selected than the output holds");
        break;
      }
      for (int64_t i = 0; i < k; i++, count++) {
        out[count * 3 + 0] = b;
        out[count * 3 + 1] = c;
        out[count * 3 + 2] = sel[i];
      }
    }
  }
  free(cand);
  free(sel);
  if (!err) y->shape.d[0] = count; /* the engine reads the actual count back */
  return err;
}
