/* ArgMax/ArgMin and TopK on the CPU. Values compare as int64 for integer
 * types (exact) and as double for floats; NaN ranks above every number,
 * as in numpy's argmax and sort. */
#include <math.h>
#include <stdlib.h>

#include "cpu_util.h"

static bool is_int_dtype(InferDType t) {
  return t == INFER_DTYPE_I8 || t == INFER_DTYPE_U8 || t == INFER_DTYPE_I32 ||
         t == INFER_DTYPE_I64;
}

static int64_t load_int(const void *data, InferDType t, int64_t i) {
  switch (t) {
    case INFER_DTYPE_I8: return ((const int8_t *)data)[i];
    case INFER_DTYPE_U8: return ((const uint8_t *)data)[i];
    case INFER_DTYPE_I32: return ((const int32_t *)data)[i];
    default: return ((const int64_t *)data)[i];
  }
}

/* -1, 0 or 1 as element i is below, equal to or above element j. */
static int compare_elems(const InferTensorView *x, int64_t i, int64_t j) {
  if (is_int_dtype(x->dtype)) {
    int64_t a = load_int(x->data, x->dtype, i), b = load_int(x->data, x->dtype, j);
    return (a > b) - (a < b);
  }
  double a = infer_cpu_load(x->data, x->dtype, i), b = infer_cpu_load(x->data, x->dtype, j);
  if (isnan(a) || isnan(b)) return isnan(a) - isnan(b);
  return (a > b) - (a < b);
}

/* The input seen as [outer, n, inner] around `axis` (already normalized). */
static void axis_geometry(const InferShape *s, int axis, int64_t *outer, int64_t *n,
                          int64_t *inner) {
  *outer = *inner = 1;
  for (int i = 0; i < s->rank; i++) {
    if (i < axis) *outer *= s->d[i];
    if (i > axis) *inner *= s->d[i];
  }
  *n = s->d[axis];
}

static InferStatus *check_axis(const InferOpCall *c, int64_t axis, int32_t rank, int *out) {
  int64_t a = axis < 0 ? axis + rank : axis;
  if (rank < 1 || a < 0 || a >= rank)
    return infer_status_new(INFER_ERR_UNSUPPORTED,
                            "layer '%s' (%s): axis %lld is out of range for rank %d", c->node,
                            infer_op_name(c->op), (long long)axis, rank);
  *out = (int)a;
  return NULL;
}

/* ---- argmax / argmin ---------------------------------------------------- */

InferStatus *infer_cpu_supports_argmax(const InferOpCall *call) {
  INFER_CPU_REQUIRE(call, 0, INFER_DTYPE_F32, INFER_DTYPE_F16, INFER_DTYPE_I8, INFER_DTYPE_U8,
                    INFER_DTYPE_I32, INFER_DTYPE_I64);
  int axis = 0;
  INFER_TRY(check_axis(call, call->params->argmax.axis, call->in[0].shape.rank, &axis));
  if (call->in[0].shape.d[axis] == 0 && infer_shape_numel(&call->out[0].shape) != 0)
    return infer_status_new(INFER_ERR_UNSUPPORTED, "layer '%s' (%s): the axis is empty",
                            call->node, infer_op_name(call->op));
  return NULL;
}

/* Whether element a replaces the current best element b. ArgMin flips the
 * order, but NaN wins either way (numpy); ties go to the later element only
 * with select_last_index. */
static bool arg_better(const InferTensorView *x, int64_t a, int64_t b,
                       const InferArgMaxParams *p) {
  if (!is_int_dtype(x->dtype)) {
    bool a_nan = isnan(infer_cpu_load(x->data, x->dtype, a));
    bool b_nan = isnan(infer_cpu_load(x->data, x->dtype, b));
    if (b_nan) return a_nan && p->select_last_index;
    if (a_nan) return true;
  }
  int c = compare_elems(x, a, b);
  if (p->is_min) c = -c;
  return c > 0 || (c == 0 && p->select_last_index);
}

InferStatus *infer_cpu_run_argmax(const InferOpCall *call) {
  const InferArgMaxParams *p = &call->params->argmax;
  const InferTensorView *x = &call->in[0];
  int64_t *y = call->out[0].data;
  int axis = 0;
  INFER_TRY(check_axis(call, p->axis, x->shape.rank, &axis));
  int64_t outer, n, inner;
  axis_geometry(&x->shape, axis, &outer, &n, &inner);
  if (n == 0 && outer * inner != 0)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "layer '%s' (%s): the axis is empty",
                            call->node, infer_op_name(call->op));
  for (int64_t o = 0; o < outer; o++) {
    for (int64_t i = 0; i < inner; i++) {
      int64_t base = o * n * inner + i, best = 0;
      for (int64_t j = 1; j < n; j++)
        if (arg_better(x, base + j * inner, base + best * inner, p)) best = j;
      y[o * inner + i] = best;
    }
  }
  return NULL;
}

/* ---- topk --------------------------------------------------------------- */

typedef struct TopKOrder {
  const InferTensorView *x;
  int64_t base, step;
  bool largest;
} TopKOrder;

/* Whether position a must come before position b; ties keep index order. */
static bool topk_before(const TopKOrder *o, int64_t a, int64_t b) {
  int c = compare_elems(o->x, o->base + a * o->step, o->base + b * o->step);
  return o->largest ? c > 0 : c < 0;
}

/* Stable merge sort of idx[0..n) by topk_before, using tmp of n entries. */
static void topk_sort(const TopKOrder *o, int64_t *idx, int64_t *tmp, int64_t n) {
  for (int64_t width = 1; width < n; width *= 2) {
    for (int64_t lo = 0; lo < n; lo += 2 * width) {
      int64_t mid = lo + width < n ? lo + width : n;
      int64_t hi = lo + 2 * width < n ? lo + 2 * width : n;
      int64_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) tmp[k++] = topk_before(o, idx[j], idx[i]) ? idx[j++] : idx[i++];
      while (i < mid) tmp[k++] = idx[i++];
      while (j < hi) tmp[k++] = idx[j++];
    }
    memcpy(idx, tmp, (size_t)n * sizeof *idx);
  }
}

InferStatus *infer_cpu_supports_topk(const InferOpCall *call) {
  INFER_CPU_REQUIRE(call, 0, INFER_DTYPE_F32, INFER_DTYPE_F16, INFER_DTYPE_I8, INFER_DTYPE_U8,
                    INFER_DTYPE_I32, INFER_DTYPE_I64);
  int axis = 0;
  INFER_TRY(check_axis(call, call->params->topk.axis, call->in[0].shape.rank, &axis));
  int64_t n = call->in[0].shape.d[axis]; /* -1 while the dim is still dynamic */
  if (call->n_out < 2 || (n >= 0 && call->out[0].shape.d[axis] > n))
    return infer_status_new(INFER_ERR_UNSUPPORTED, "layer '%s' (%s): bad output shape",
                            call->node, infer_op_name(call->op));
  return NULL;
}

InferStatus *infer_cpu_run_topk(const InferOpCall *call) {
  const InferTensorView *x = &call->in[0];
  InferTensorView *values = &call->out[0];
  int64_t *indices = call->out[1].data;
  int axis = 0;
  INFER_TRY(check_axis(call, call->params->topk.axis, x->shape.rank, &axis));
  int64_t outer, n, inner;
  axis_geometry(&x->shape, axis, &outer, &n, &inner);
  int64_t k = values->shape.d[axis];
  if (k > n || k < 0)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "layer '%s' (%s): k = %lld > %lld",
                            call->node, infer_op_name(call->op), (long long)k, (long long)n);
  if (k == 0 || outer * inner == 0) return NULL;
  int64_t *idx = malloc((size_t)n * 2 * sizeof *idx);
  if (!idx)
    return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "layer '%s' (%s): out of memory",
                            call->node, infer_op_name(call->op));
  size_t esize = infer_dtype_size(x->dtype);
  /* Always sorted: for sorted=0 ONNX leaves the order unspecified. */
  for (int64_t o = 0; o < outer; o++) {
    for (int64_t i = 0; i < inner; i++) {
      TopKOrder ord = {x, o * n * inner + i, inner, call->params->topk.largest};
      for (int64_t j = 0; j < n; j++) idx[j] = j;
      topk_sort(&ord, idx, idx + n, n);
      for (int64_t j = 0; j < k; j++) {
        int64_t dst = o * k * inner + j * inner + i;
        memcpy((char *)values->data + dst * esize,
               (const char *)x->data + (ord.base + idx[j] * inner) * esize, esize);
        indices[dst] = idx[j];
      }
    }
  }
  free(idx);
  return NULL;
}
