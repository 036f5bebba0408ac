/* Pad: constant / edge / reflect / wrap padding; negative pads crop.
 * Elements are copied by size, so every dtype works. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cpu_util.h"

static InferStatus *pad_fail(const InferOpCall *c, InferStatusCode code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static InferStatus *pad_fail(const InferOpCall *c, InferStatusCode code, const char *fmt, ...) {
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return infer_status_new(code, "layer '%s' (%s): %s", c->node, infer_op_name(c->op), msg);
}

/* Values of a scalar or 1-D i32/i64 input. */
static InferStatus *read_ints(const InferOpCall *c, int input, int64_t *out, int max, int *n) {
  const InferTensorView *v = infer_call_input(c, input);
  int64_t count = infer_shape_numel(&v->shape);
  if ((count > 0 && !v->data) || v->shape.rank > 1 || count < 0 || count > max)
    return pad_fail(c, INFER_ERR_INVALID_ARGUMENT, "input %d must be 1-D with at most %d values",
                    input, max);
  for (int64_t i = 0; i < count; i++)
    out[i] = v->dtype == INFER_DTYPE_I64 ? ((const int64_t *)v->data)[i]
                                          : ((const int32_t *)v->data)[i];
  *n = (int)count;
  return NULL;
}

/* Per-dimension begin/end amounts (pads laid out as all begins, then all ends). */
static InferStatus *pad_amounts(const InferOpCall *c, int rank, int64_t *begin, int64_t *end) {
  int64_t pads[2 * INFER_MAX_RANK], axes[INFER_MAX_RANK];
  int n_pads = 0, n_axes = rank;
  INFER_TRY(read_ints(c, 1, pads, 2 * INFER_MAX_RANK, &n_pads));
  if (infer_call_has_input(c, 3)) {
    INFER_TRY(read_ints(c, 3, axes, INFER_MAX_RANK, &n_axes));
  } else {
    for (int i = 0; i < rank; i++) axes[i] = i;
  }
  if (n_pads != 2 * n_axes)
    return pad_fail(c, INFER_ERR_INVALID_ARGUMENT, "pads has %d values, expected %d", n_pads,
                    2 * n_axes);
  bool seen[INFER_MAX_RANK] = {false};
  for (int i = 0; i < rank; i++) begin[i] = end[i] = 0;
  for (int i = 0; i < n_axes; i++) {
    int64_t a = axes[i] < 0 ? axes[i] + rank : axes[i];
    if (a < 0 || a >= rank || seen[a])
      return pad_fail(c, INFER_ERR_INVALID_ARGUMENT, "bad or repeated axis %lld",
                      (long long)axes[i]);
    seen[a] = true;
    begin[a] = pads[i];
    end[a] = pads[n_axes + i];
  }
  return NULL;
}

InferStatus *infer_cpu_supports_pad(const InferOpCall *call) {
  const InferTensorView *x = infer_call_input(call, 0);
  if (infer_dtype_size(x->dtype) == 0) return infer_cpu_unsupported_dtype(call, 0);
  INFER_CPU_REQUIRE(call, 1, INFER_DTYPE_I64, INFER_DTYPE_I32);
  if (infer_call_has_input(call, 3)) INFER_CPU_REQUIRE(call, 3, INFER_DTYPE_I64, INFER_DTYPE_I32);
  InferPadMode mode = call->params->pad.mode;
  if ((int)mode < INFER_PAD_CONSTANT || mode > INFER_PAD_WRAP)
    return pad_fail(call, INFER_ERR_UNSUPPORTED, "pad mode %d is not supported", (int)mode);
  return NULL;
}

/* Source index along one axis for output position o, or -1 for the constant.
 * The kept input range is [lo, lo + m); pb elements are added before it. */
static int64_t pad_source(InferPadMode mode, int64_t o, int64_t lo, int64_t m, int64_t pb) {
  int64_t i = o - pb;
  if (i >= 0 && i < m) return lo + i;
  switch (mode) {
    case INFER_PAD_EDGE: return lo + (i < 0 ? 0 : m - 1);
    case INFER_PAD_WRAP: return lo + ((i % m) + m) % m;
    case INFER_PAD_REFLECT: {
      if (m == 1) return lo;
      /* numpy's reflect: period 2(m-1), edges not repeated */
      int64_t period = 2 * (m - 1), t = ((i % period) + period) % period;
      return lo + (t < m ? t : period - t);
    }
    default: return -1;
  }
}

/* One element of x's dtype holding the constant (zero when absent). */
static void pad_constant(const InferOpCall *call, uint8_t *elem) {
  InferDType t = call->out[0].dtype;
  memset(elem, 0, 8);
  if (!infer_call_has_input(call, 2) || infer_shape_numel(&call->in[2].shape) < 1) return;
  const InferTensorView *v = &call->in[2];
  if (v->dtype == t)
    memcpy(elem, v->data, infer_dtype_size(t)); /* exact, even for large i64 */
  else
    infer_cpu_store(elem, t, 0, infer_cpu_load(v->data, v->dtype, 0));
}

/* Builds the per-axis source-index tables (one int64 per output position;
 * called only for a non-empty output, whose every dim is then at most its
 * element count: the tables never outgrow the output). Pads come from a
 * tensor at run time: every sum is checked. */
static InferStatus *pad_tables(const InferOpCall *call, int64_t **tab) {
  const InferShape *xs = &call->in[0].shape, *ys = &call->out[0].shape;
  InferPadMode mode = call->params->pad.mode;
  int64_t begin[INFER_MAX_RANK], end[INFER_MAX_RANK];
  INFER_TRY(pad_amounts(call, xs->rank, begin, end));
  if (ys->rank != xs->rank)
    return pad_fail(call, INFER_ERR_INVALID_ARGUMENT, "the output rank differs from the input's");
  for (int a = 0; a < xs->rank; a++) {
    int64_t n = xs->d[a], b = begin[a], e = end[a], sum;
    if (b == INT64_MIN || e == INT64_MIN || __builtin_add_overflow(n, b, &sum) ||
        __builtin_add_overflow(sum, e, &sum) || sum != ys->d[a])
      return pad_fail(call, INFER_ERR_INVALID_ARGUMENT, "pads do not match dim %d", a);
    int64_t lo = b < 0 ? -b : 0, crop_end = e < 0 ? -e : 0, pb = b > 0 ? b : 0, m;
    if (__builtin_sub_overflow(n, lo, &m) || __builtin_sub_overflow(m, crop_end, &m) || m < 0)
      return pad_fail(call, INFER_ERR_INVALID_ARGUMENT, "pads do not match dim %d", a);
    if (mode != INFER_PAD_CONSTANT && m == 0 && ys->d[a] > 0)
      return pad_fail(call, INFER_ERR_INVALID_ARGUMENT, "cannot pad empty dim %d in this mode", a);
    bool mixed = (b < 0 && e > 0) || (b > 0 && e < 0);
    if ((mode == INFER_PAD_REFLECT || mode == INFER_PAD_WRAP) && mixed)
      return pad_fail(call, INFER_ERR_UNSUPPORTED, "mixed crop and pad on dim %d", a);
    if (ys->d[a] <= 0 || (uint64_t)ys->d[a] > SIZE_MAX / sizeof(int64_t))
      return pad_fail(call, INFER_ERR_INVALID_ARGUMENT, "bad output dim %d", a);
    tab[a] = malloc(sizeof(int64_t) * (size_t)ys->d[a]);
    if (!tab[a]) return pad_fail(call, INFER_ERR_OUT_OF_MEMORY, "out of memory");
    for (int64_t o = 0; o < ys->d[a]; o++) tab[a][o] = pad_source(mode, o, lo, m, pb);
  }
  return NULL;
}

/* Row by row along the last axis: the outer axes' source offset is found
 * once per row (or the whole row is the constant), then the row is copied
 * through the last axis' table. */
static void pad_copy(const InferOpCall *call, int64_t *const *tab, const uint8_t *constant) {
  const InferShape *xs = &call->in[0].shape, *ys = &call->out[0].shape;
  size_t es = infer_dtype_size(call->out[0].dtype);
  const uint8_t *src = call->in[0].data;
  uint8_t *dst = call->out[0].data;
  int64_t xstr[INFER_MAX_RANK], total = infer_shape_numel(ys);
  infer_cpu_strides(xs, xstr);
  if (ys->rank == 0) {
    memcpy(dst, src, es);
    return;
  }
  int last = ys->rank - 1;
  int64_t row = ys->d[last], rows = total / row;
  const int64_t *inner = tab[last], inner_stride = xstr[last];
  for (int64_t r = 0; r < rows; r++) {
    int64_t rem = r, off = 0;
    bool outside = false;
    for (int a = last - 1; a >= 0; a--) {
      int64_t s = tab[a][rem % ys->d[a]];
      rem /= ys->d[a];
      if (s < 0) outside = true;
      off += s * xstr[a];
    }
    uint8_t *out = dst + (size_t)(r * row) * es;
    if (outside) {
      for (int64_t o = 0; o < row; o++) memcpy(out + (size_t)o * es, constant, es);
      continue;
    }
    const uint8_t *in = src + (size_t)off * es;
    for (int64_t o = 0; o < row; o++) {
      int64_t s = inner[o];
      memcpy(out + (size_t)o * es, s < 0 ? constant : in + (size_t)(s * inner_stride) * es, es);
    }
  }
}

InferStatus *infer_cpu_run_pad(const InferOpCall *call) {
  /* an empty output needs nothing (and its other dims may be huge) */
  if (infer_shape_numel(&call->out[0].shape) == 0) return NULL;
  int64_t *tab[INFER_MAX_RANK] = {NULL};
  InferStatus *st = pad_tables(call, tab);
  if (!st) {
    uint8_t constant[8];
    pad_constant(call, constant);
    pad_copy(call, tab, constant);
  }
  for (int a = 0; a < INFER_MAX_RANK; a++) free(tab[a]);
  return st;
}
