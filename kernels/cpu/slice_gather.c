/* CPU kernels for slice, gather and gather_elements. They copy elements by
 * byte size, so every dtype works; indices are i32 or i64. */
#include "cpu_util.h"

#include <stdarg.h>
#include <stdio.h>

__attribute__((format(printf, 2, 3))) static InferStatus *mv_invalid(const InferOpCall *c,
                                                                     const char *fmt, ...) {
  char msg[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "layer '%s' (%s): %s", c->node,
                          infer_op_name(c->op), msg);
}

static bool is_index_dtype(InferDType t) { return t == INFER_DTYPE_I32 || t == INFER_DTYPE_I64; }

static int64_t load_index(const InferTensorView *t, int64_t i) {
  return t->dtype == INFER_DTYPE_I64 ? ((const int64_t *)t->data)[i]
                                     : ((const int32_t *)t->data)[i];
}

/* Checks the data input's dtype (any sized type) against the output's. */
static InferStatus *check_data(const InferOpCall *c) {
  if (infer_dtype_size(c->in[0].dtype) == 0) return infer_cpu_unsupported_dtype(c, 0);
  if (c->out[0].dtype != c->in[0].dtype) return mv_invalid(c, "output type differs from input");
  return NULL;
}

/* ---- slice ------------------------------------------------------------------ */

/* Dense `out` of shape `s` where element idx comes from element
 * base + sum(idx[k] * strides[k]) of `in` (strides in elements, any sign). */
static void strided_copy(void *out, const void *in, size_t es, const InferShape *s, int64_t base,
                         const int64_t *strides) {
  int64_t n = infer_shape_numel(s), idx[INFER_MAX_RANK] = {0}, off = base;
  char *o = out;
  const char *src = in;
  for (int64_t i = 0; i < n; i++) {
    memcpy(o + (size_t)i * es, src + (size_t)off * es, es);
    for (int k = s->rank - 1; k >= 0; k--) {
      off += strides[k];
      if (++idx[k] < s->d[k]) break;
      off -= strides[k] * s->d[k];
      idx[k] = 0;
    }
  }
}

/* Values of optional input i (i32/i64, at most rank of them); -1 when absent. */
static int read_ints(const InferOpCall *c, int i, int64_t *v) {
  const InferTensorView *t = infer_call_input(c, i);
  if (t->dtype == INFER_DTYPE_UNDEFINED) return -1;
  int64_t n = infer_shape_numel(&t->shape);
  for (int64_t k = 0; k < n && k < INFER_MAX_RANK; k++) v[k] = load_index(t, k);
  return (int)n;
}

/* ONNX Slice's clamping on an axis of size d: the first index taken. */
static int64_t slice_first(int64_t d, int64_t start, int64_t step) {
  if (start < 0) start += d;
  int64_t hi = step > 0 ? d : d - 1;
  return start < 0 ? 0 : (start > hi ? hi : start);
}

InferStatus *infer_cpu_supports_slice(const InferOpCall *c) {
  INFER_TRY(check_data(c));
  for (int i = 1; i < 5; i++) {
    const InferTensorView *t = infer_call_input(c, i);
    if (t->dtype == INFER_DTYPE_UNDEFINED) {
      if (i < 3) return mv_invalid(c, "input %d is missing", i);
      continue;
    }
    if (!is_index_dtype(t->dtype)) return infer_cpu_unsupported_dtype(c, i);
    int64_t n = infer_shape_numel(&t->shape);
    if (t->shape.rank > 1 || n > c->in[0].shape.rank)
      return mv_invalid(c, "input %d must be 1-D with at most one value per axis", i);
  }
  return NULL;
}

InferStatus *infer_cpu_run_slice(const InferOpCall *c) {
  const InferShape *x = &c->in[0].shape, *y = &c->out[0].shape;
  int64_t starts[INFER_MAX_RANK], ends[INFER_MAX_RANK], axes[INFER_MAX_RANK],
      steps[INFER_MAX_RANK], first[INFER_MAX_RANK] = {0}, step_of[INFER_MAX_RANK];
  INFER_TRY(infer_cpu_supports_slice(c));
  int n = read_ints(c, 1, starts);
  if (read_ints(c, 2, ends) != n) return mv_invalid(c, "starts and ends differ in length");
  if (read_ints(c, 3, axes) < 0)
    for (int k = 0; k < n; k++) axes[k] = k;
  if (read_ints(c, 4, steps) < 0)
    for (int k = 0; k < n; k++) steps[k] = 1;
  if (y->rank != x->rank) return mv_invalid(c, "output rank differs from input");
  for (int a = 0; a < x->rank; a++) step_of[a] = 1;
  for (int k = 0; k < n; k++) {
    int64_t a = axes[k] < 0 ? axes[k] + x->rank : axes[k];
    if (a < 0 || a >= x->rank || steps[k] == 0) return mv_invalid(c, "bad axis or step");
    first[a] = slice_first(x->d[a], starts[k], steps[k]);
    step_of[a] = steps[k];
  }
  if (infer_shape_numel(y) == 0) return NULL; /* empty output */
  int64_t in_strides[INFER_MAX_RANK], strides[INFER_MAX_RANK], base = 0;
  infer_cpu_strides(x, in_strides);
  for (int a = 0; a < x->rank; a++) {
    /* the last index taken must lie inside the input (steps come from a
     * tensor: checked arithmetic) */
    int64_t last;
    if (y->d[a] < 1 || __builtin_mul_overflow(y->d[a] - 1, step_of[a], &last) ||
        __builtin_add_overflow(last, first[a], &last) || last < 0 || last >= x->d[a])
      return mv_invalid(c, "output dim %d does not fit the input", a);
    base += first[a] * in_strides[a];
    /* one index taken: the step is never applied (and may be huge) */
    strides[a] = y->d[a] == 1 ? 0 : step_of[a] * in_strides[a];
  }
  strided_copy(c->out[0].data, c->in[0].data, infer_dtype_size(c->in[0].dtype), y, base,
               strides);
  return NULL;
}

/* ---- gather --------------------------------------------------------------- */

static int64_t dims_product(const InferShape *s, int from, int to) {
  int64_t p = 1;
  for (int i = from; i < to; i++) p *= s->d[i];
  return p;
}

static InferStatus *check_gather(const InferOpCall *c, int64_t *axis) {
  INFER_TRY(check_data(c));
  if (!is_index_dtype(c->in[1].dtype)) return infer_cpu_unsupported_dtype(c, 1);
  int rank = c->in[0].shape.rank;
  *axis = c->params->axis.axis < 0 ? c->params->axis.axis + rank : c->params->axis.axis;
  if (*axis < 0 || *axis >= rank) return mv_invalid(c, "axis is out of range");
  return NULL;
}

static InferStatus *gather_checks(const InferOpCall *c, int64_t *axis) {
  INFER_TRY(check_gather(c, axis));
  if (c->out[0].shape.rank != c->in[0].shape.rank - 1 + c->in[1].shape.rank)
    return mv_invalid(c, "output rank does not match");
  return NULL;
}

InferStatus *infer_cpu_supports_gather(const InferOpCall *c) {
  int64_t axis = 0;
  return gather_checks(c, &axis);
}

/* y[outer, j, inner] = x[outer, idx[j], inner]; negative indices count from the end. */
InferStatus *infer_cpu_run_gather(const InferOpCall *c) {
  int64_t axis = 0;
  INFER_TRY(gather_checks(c, &axis));
  const InferTensorView *x = &c->in[0], *idx = &c->in[1];
  size_t es = infer_dtype_size(x->dtype);
  int64_t dim = x->shape.d[axis], n_idx = infer_shape_numel(&idx->shape);
  int64_t outer = dims_product(&x->shape, 0, (int)axis);
  int64_t inner = dims_product(&x->shape, (int)axis + 1, x->shape.rank);
  size_t row = (size_t)inner * es;
  if (infer_shape_numel(&c->out[0].shape) != outer * n_idx * inner)
    return mv_invalid(c, "output size does not match");
  for (int64_t j = 0; j < n_idx; j++) {
    int64_t k = load_index(idx, j);
    if (k < -dim || k >= dim)
      return mv_invalid(c, "index %lld is out of range for a dim of %lld", (long long)k,
                        (long long)dim);
  }
  if (row == 0) return NULL;
  char *out = c->out[0].data;
  const char *in = x->data;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < n_idx; j++) {
      int64_t k = load_index(idx, j);
      if (k < 0) k += dim;
      memcpy(out + (size_t)(o * n_idx + j) * row, in + (size_t)(o * dim + k) * row, row);
    }
  return NULL;
}

/* ---- gather_elements --------------------------------------------------------- */

static InferStatus *gather_elements_checks(const InferOpCall *c, int64_t *axis_out) {
  int64_t axis = 0;
  INFER_TRY(check_gather(c, &axis));
  *axis_out = axis;
  const InferShape *x = &c->in[0].shape, *idx = &c->in[1].shape;
  if (idx->rank != x->rank || !infer_shape_equal(&c->out[0].shape, idx))
    return mv_invalid(c, "indices and output must have the data's rank and the same shape");
  for (int i = 0; i < x->rank; i++)
    if (i != axis && x->d[i] >= 0 && idx->d[i] > x->d[i])
      return mv_invalid(c, "indices dim %d is larger than the data's", i);
  return NULL;
}

InferStatus *infer_cpu_supports_gather_elements(const InferOpCall *c) {
  int64_t axis = 0;
  return gather_elements_checks(c, &axis);
}

/* y[i0..i(r-1)] = x[i0.., idx[i0..i(r-1)], ..] with the index replacing dim axis. */
InferStatus *infer_cpu_run_gather_elements(const InferOpCall *c) {
  int64_t axis = 0;
  INFER_TRY(gather_elements_checks(c, &axis));
  const InferTensorView *x = &c->in[0], *idx = &c->in[1];
  const InferShape *s = &idx->shape;
  size_t es = infer_dtype_size(x->dtype);
  int64_t xs[INFER_MAX_RANK], pos[INFER_MAX_RANK] = {0}, n = infer_shape_numel(s);
  int64_t dim = x->shape.d[axis];
  infer_cpu_strides(&x->shape, xs);
  for (int64_t i = 0; i < n; i++) {
    int64_t k = load_index(idx, i);
    if (k < -dim || k >= dim)
      return mv_invalid(c, "index %lld is out of range for a dim of %lld", (long long)k,
                        (long long)dim);
    if (k < 0) k += dim;
    int64_t off = 0;
    for (int d = 0; d < s->rank; d++) off += (d == axis ? k : pos[d]) * xs[d];
    memcpy((char *)c->out[0].data + (size_t)i * es, (const char *)x->data + (size_t)off * es, es);
    for (int d = s->rank - 1; d >= 0; d--) {
      if (++pos[d] < s->d[d]) break;
      pos[d] = 0;
    }
  }
  return NULL;
}
