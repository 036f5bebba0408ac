/* Shape functions of the data-movement operators: reshape family, transpose,
 * concat, split, slice, gather, gather_elements, expand, tile, range, shape,
 * size and constant_of_shape. Unknown dims (-1) propagate as -1. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op_table.h"

/* "layer '<node>' (<op>): <reason>" */
__attribute__((format(printf, 3, 4))) static InferStatus *mv_err(const InferOpCall *c,
                                                                 InferStatusCode code,
                                                                 const char *fmt, ...) {
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return infer_status_new(code, "layer '%s' (%s): %s", c->node, infer_op_name(c->op), msg);
}

static InferStatus *need_input(const InferOpCall *c, int i) {
  if (!infer_call_has_input(c, i))
    return mv_err(c, INFER_ERR_INVALID_ARGUMENT, "input %d is missing", i);
  return NULL;
}

/* Tensors of more elements are rejected: far beyond any memory, and the
 * cap keeps products of dims (taken from shape inputs) clear of overflow. */
#define MV_MAX_ELEMS ((int64_t)1 << 48)

/* a * b for a, b >= 0, saturating just above MV_MAX_ELEMS. */
static int64_t mul_capped(int64_t a, int64_t b) {
  if (a == 0 || b == 0) return 0;
  return a > MV_MAX_ELEMS / b ? MV_MAX_ELEMS + 1 : a * b;
}

/* Product of dims [from, to); -1 when any of them is unknown. */
static int64_t dims_product(const InferShape *s, int from, int to) {
  int64_t p = 1;
  for (int i = from; i < to; i++) {
    if (s->d[i] < 0) return -1;
    p = mul_capped(p, s->d[i]);
  }
  return p;
}

/* Sets output i, rejecting shapes of more than MV_MAX_ELEMS elements (or
 * such a dim, even next to a 0: the element count must never overflow). */
static InferStatus *set_out(const InferOpCall *c, int i, InferDType t, const InferShape *s) {
  int64_t n = 1;
  bool huge = false;
  for (int k = 0; k < s->rank; k++) {
    if (s->d[k] > MV_MAX_ELEMS) huge = true;
    if (s->d[k] >= 0) n = mul_capped(n, s->d[k]);
  }
  if (huge || n > MV_MAX_ELEMS) {
    char buf[160];
    return mv_err(c, INFER_ERR_UNSUPPORTED, "output shape %s is too large",
                  infer_shape_str(s, buf, sizeof buf));
  }
  c->out[i].dtype = t;
  c->out[i].shape = *s;
  return NULL;
}

static bool is_index_dtype(InferDType t) { return t == INFER_DTYPE_I32 || t == INFER_DTYPE_I64; }

/* ---- reshape family ------------------------------------------------------ */

/* Resolves the -1 entry of a reshape target once the other dims are known.
 * When every unknown input dim is copied over by a 0 (Reshape(x, [0, -1])
 * with a dynamic batch), both sides share those dims and they cancel. */
static InferStatus *reshape_infer_dim(const InferOpCall *c, const InferShape *x, InferShape *out,
                                      int infer_at, bool unknowns_copied) {
  int64_t total = 1, known = 1;
  bool unknown = false;
  for (int i = 0; i < x->rank; i++) {
    if (x->d[i] < 0) unknown |= !unknowns_copied;
    else total = mul_capped(total, x->d[i]);
  }
  for (int i = 0; i < out->rank; i++) {
    if (i == infer_at) continue;
    if (out->d[i] < 0) unknown |= !unknowns_copied;
    else known = mul_capped(known, out->d[i]);
  }
  if (infer_at >= 0) {
    if (unknown) {
      out->d[infer_at] = -1;
      return NULL;
    }
    if (known != 0 && total % known == 0) {
      out->d[infer_at] = total / known;
      return NULL;
    }
  } else if (unknown || total == known) {
    return NULL;
  }
  char sx[96], so[96];
  return mv_err(c, INFER_ERR_INVALID_ARGUMENT, "cannot reshape %s to %s",
                infer_shape_str(x, sx, sizeof sx), infer_shape_str(out, so, sizeof so));
}

static InferStatus *reshape_to_shape(const InferOpCall *c, const InferShape *x, InferShape *out) {
  bool allowzero = c->params->reshape.allowzero;
  int64_t v[INFER_MAX_RANK];
  int n, infer_at = -1;
  bool has_zero = false, unknowns_copied = true;
  INFER_TRY(need_input(c, 1));
  INFER_TRY(infer_read_int_input(c, 1, v, INFER_MAX_RANK, &n));
  for (int i = 0; i < x->rank; i++)
    if (x->d[i] < 0 && (i >= n || v[i] != 0 || allowzero)) unknowns_copied = false;
  out->rank = n;
  for (int i = 0; i < n; i++) {
    int64_t d = v[i];
    if (d == 0) has_zero = true;
    if (d == 0 && !allowzero) {
      if (i >= x->rank)
        return mv_err(c, INFER_ERR_INVALID_ARGUMENT,
                      "shape[%d] = 0 copies a dimension the rank-%d input does not have", i,
                      x->rank);
      d = x->d[i];
    } else if (d == -1) {
      if (infer_at >= 0)
        return mv_err(c, INFER_ERR_INVALID_ARGUMENT, "shape has more than one -1");
      infer_at = i;
    } else if (d < -1) {
      return mv_err(c, INFER_ERR_INVALID_ARGUMENT, "shape[%d] = %lld is negative", i,
                    (long long)d);
    }
    out->d[i] = d;
  }
  if (allowzero && has_zero && infer_at >= 0)
    return mv_err(c, INFER_ERR_INVALID_ARGUMENT, "allowzero shape has both 0 and -1");
  return reshape_infer_dim(c, x, out, infer_at, unknowns_copied);
}

static InferStatus *reshape_flatten(const InferOpCall *c, const InferShape *x, InferShape *out) {
  int64_t axis = c->params->reshape.axis;
  if (axis < 0) axis += x->rank;
  if (axis < 0 || axis > x->rank)
    return mv_err(c, INFER_ERR_INVALID_ARGUMENT, "axis %lld is out of range for rank %d",
                  (long long)c->params->reshape.axis, x->rank);
  out->rank = 2;
  out->d[0] = dims_product(x, 0, (int)axis);
  out->d[1] = dims_product(x, (int)axis, x->rank);
  return NULL;
}

static InferStatus *reshape_squeeze(const InferOpCall *c, const InferShape *x, InferShape *out) {
  bool drop[INFER_MAX_RANK] = {false};
  if (!infer_call_has_input(c, 1)) {
    for (int i = 0; i < x->rank; i++) {
      if (x->d[i] < 0)
        return mv_err(c, INFER_ERR_UNSUPPORTED,
                      "squeezing without axes needs known dims, dim %d is unknown", i);
      drop[i] = x->d[i] == 1;
    }
  } else {
    int64_t axes[INFER_MAX_RANK];
    int n;
    INFER_TRY(infer_read_int_input(c, 1, axes, INFER_MAX_RANK, &n));
    for (int k = 0; k < n; k++) {
      int32_t a;
      INFER_TRY(infer_normalize_axis(c, axes[k], x->rank, &a));
      if (drop[a]) return mv_err(c, INFER_ERR_INVALID_ARGUMENT, "axis %d is repeated", a);
      if (x->d[a] >= 0 && x->d[a] != 1)
        return mv_err(c, INFER_ERR_INVALID_ARGUMENT, "cannot squeeze dim %d of size %lld", a,
                      (long long)x->d[a]);
      drop[a] = true;
    }
  }
  out->rank = 0;
  for (int i = 0; i < x->rank; i++)
    if (!drop[i]) out->d[out->rank++] = x->d[i];
  return NULL;
}

static InferStatus *reshape_unsqueeze(const InferOpCall *c, const InferShape *x, InferShape *out) {
  int64_t axes[INFER_MAX_RANK];
  bool ins[INFER_MAX_RANK] = {false};
  int n;
  INFER_TRY(need_input(c, 1));
  INFER_TRY(infer_read_int_input(c, 1, axes, INFER_MAX_RANK, &n));
  int32_t rank = x->rank + n;
  if (rank > INFER_MAX_RANK)
    return mv_err(c, INFER_ERR_UNSUPPORTED, "output rank %d exceeds the maximum %d", rank,
                  INFER_MAX_RANK);
  for (int k = 0; k < n; k++) {
    int32_t a;
    INFER_TRY(infer_normalize_axis(c, axes[k], rank, &a));
    if (ins[a]) return mv_err(c, INFER_ERR_INVALID_ARGUMENT, "axis %d is repeated", a);
    ins[a] = true;
  }
  out->rank = rank;
  for (int i = 0, j = 0; i < rank; i++) out->d[i] = ins[i] ? 1 : x->d[j++];
  return NULL;
}

InferStatus *infer_shape_reshape(const InferOpCall *c) {
  INFER_TRY(need_input(c, 0));
  const InferShape *x = &c->in[0].shape;
  InferShape out = *x;
  switch (c->params->reshape.kind) {
    case INFER_RESHAPE_SHAPE: INFER_TRY(reshape_to_shape(c, x, &out)); break;
    case INFER_RESHAPE_FLATTEN: INFER_TRY(reshape_flatten(c, x, &out)); break;
    case INFER_RESHAPE_SQUEEZE: INFER_TRY(reshape_squeeze(c, x, &out)); break;
    case INFER_RESHAPE_UNSQUEEZE: INFER_TRY(reshape_unsqueeze(c, x, &out)); break;
    case INFER_RESHAPE_IDENTITY: break;
    default:
      return mv_err(c, INFER_ERR_INVALID_ARGUMENT, "unknown reshape kind %d",
                    (int)c->params->reshape.kind);
  }
  return set_out(c, 0, c->in[0].dtype, &out);
}

/* ---- transpose, concat, split ------------------------------------------- */

InferStatus *infer_shape_transpose(const InferOpCall *c) {
  INFER_TRY(need_input(c, 0));
  const InferShape *x = &c->in[0].shape;
  const InferTransposeParams *p = &c->params->transpose;
  bool used[INFER_MAX_RANK] = {false};
  InferShape out = *x;
  if (p->n_perm != 0 && p->n_perm != x->rank)
    return mv_err(c, INFER_ERR_INVALID_ARGUMENT, "perm has %d entries for rank %d", p->n_perm,
                  x->rank);
  for (int i = 0; i < x->rank; i++) {
    int64_t src = p->n_perm ? p->perm[i] : x->rank - 1 - i;
    if (src < 0 || src >= x->rank || used[src])
      return mv_err(c, INFER_ERR_INVALID_ARGUMENT, "perm is not a permutation of 0..%d",
                    x->rank - 1);
    used[src] = true;
    out.d[i] = x->d[src];
  }
  return set_out(c, 0, c->in[0].dtype, &out);
}

InferStatus *infer_shape_concat(const InferOpCall *c) {
  INFER_TRY(need_input(c, 0));
  const InferTensorView *first = &c->in[0];
  if (first->shape.rank < 1)
    return mv_err(c, INFER_ERR_INVALID_ARGUMENT, "cannot concatenate scalars");
  int32_t axis;
  INFER_TRY(infer_normalize_axis(c, c->params->axis.axis, first->shape.rank, &axis));
  InferShape out = first->shape;
  out.d[axis] = 0;
  for (int i = 0; i < c->n_in; i++) {
    INFER_TRY(need_input(c, i));
    const InferTensorView *v = &c->in[i];
    if (v->dtype != first->dtype || v->shape.rank != out.rank)
      return mv_err(c, INFER_ERR_INVALID_ARGUMENT,
                    "input %d (%s, rank %d) does not match input 0 (%s, rank %d)", i,
                    infer_dtype_name(v->dtype), v->shape.rank, infer_dtype_name(first->dtype),
                    out.rank);
    for (int k = 0; k < out.rank; k++) {
      int64_t d = v->shape.d[k];
      if (k == axis) {
        out.d[k] = (out.d[k] < 0 || d < 0) ? -1 : out.d[k] + d;
      } else if (out.d[k] < 0) {
        out.d[k] = d;
      } else if (d >= 0 && d != out.d[k]) {
        return mv_err(c, INFER_ERR_INVALID_ARGUMENT,
                      "input %d has size %lld in dim %d where input 0 has %lld", i,
                      (long long)d, k, (long long)out.d[k]);
      }
    }
  }
  return set_out(c, 0, first->dtype, &out);
}

/* Sizes of the split parts from the `split` input (n values, must sum to dim). */
static InferStatus *split_given_sizes(const InferOpCall *c, int64_t dim, int n, int64_t *sizes) {
  const InferTensorView *s = &c->in[1];
  if (!s->data) return infer_shape_input_unknown(c, 1);
  if (infer_shape_numel(&s->shape) != n)
    return mv_err(c, INFER_ERR_INVALID_ARGUMENT, "split has %lld values for %d outputs",
                  (long long)infer_shape_numel(&s->shape), n);
  int got;
  INFER_TRY(infer_read_int_input(c, 1, sizes, n, &got));
  int64_t sum = 0;
  for (int i = 0; i < n; i++) {
    if (sizes[i] < 0 || sizes[i] > MV_MAX_ELEMS)
      return mv_err(c, INFER_ERR_INVALID_ARGUMENT, "split[%d] = %lld is out of range", i,
                    (long long)sizes[i]);
    sum += sizes[i];
  }
  if (dim >= 0 && sum != dim)
    return mv_err(c, INFER_ERR_INVALID_ARGUMENT, "split sizes sum to %lld, the dim is %lld",
                  (long long)sum, (long long)dim);
  return NULL;
}

/* Equal parts of ceil(dim / n); only the last may be smaller (ONNX 18). */
static InferStatus *split_equal_sizes(const InferOpCall *c, int64_t dim, int n, int64_t *sizes) {
  int64_t parts = c->params->split.num_outputs;
  if (parts != 0 && parts != n)
    return mv_err(c, INFER_ERR_INVALID_ARGUMENT, "num_outputs is %lld but the layer has %d",
                  (long long)parts, n);
  int64_t chunk = dim < 0 ? -1 : (dim + n - 1) / n;
  if (dim > 0 && (int64_t)(n - 1) * chunk >= dim)
    return mv_err(c, INFER_ERR_INVALID_ARGUMENT, "cannot split a dim of %lld into %d parts",
                  (long long)dim, n);
  for (int i = 0; i < n; i++) {
    if (dim < 0) {
      sizes[i] = -1;
    } else {
      int64_t left = dim - (int64_t)i * chunk;
      sizes[i] = left < chunk ? (left > 0 ? left : 0) : chunk;
    }
  }
  return NULL;
}

InferStatus *infer_shape_split(const InferOpCall *c) {
  INFER_TRY(need_input(c, 0));
  const InferTensorView *x = &c->in[0];
  int n = c->n_out;
  int32_t axis;
  if (n < 1) return mv_err(c, INFER_ERR_INVALID_ARGUMENT, "split needs at least one output");
  INFER_TRY(infer_normalize_axis(c, c->params->split.axis, x->shape.rank, &axis));
  int64_t *sizes = malloc(sizeof *sizes * (size_t)n);
  if (!sizes) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "out of memory");
  int64_t dim = x->shape.d[axis];
  InferStatus *st = infer_call_has_input(c, 1) ? split_given_sizes(c, dim, n, sizes)
                                               : split_equal_sizes(c, dim, n, sizes);
  for (int i = 0; !st && i < n; i++) {
    InferShape s = x->shape;
    s.d[axis] = sizes[i];
    st = set_out(c, i, x->dtype, &s);
  }
  free(sizes);
  return st;
}

/* ---- slice, gather ------------------------------------------------------- */

/* ONNX Slice on one axis of size d: clamps start/end and counts the steps.
 * Written to avoid overflow with INT64_MIN/INT64_MAX starts, ends and steps. */
static int64_t slice_count(int64_t d, int64_t start, int64_t end, int64_t step) {
  if (start < 0) start += d;
  if (end < 0) end += d;
  if (step > 0) {
    start = start < 0 ? 0 : (start > d ? d : start);
    end = end < 0 ? 0 : (end > d ? d : end);
    return end > start ? (end - start - 1) / step + 1 : 0;
  }
  start = start < 0 ? 0 : (start > d - 1 ? d - 1 : start);
  end = end < -1 ? -1 : (end > d - 1 ? d - 1 : end);
  int64_t mag = step == INT64_MIN ? INT64_MAX : -step;
  return start > end ? (start - end - 1) / mag + 1 : 0;
}

/* Reads optional slice input i, which must have n values; false when absent. */
static InferStatus *slice_read(const InferOpCall *c, int i, int n, int64_t *v, bool *present) {
  *present = infer_call_has_input(c, i);
  if (!*present) return NULL;
  int got;
  INFER_TRY(infer_read_int_input(c, i, v, INFER_MAX_RANK, &got));
  if (got != n)
    return mv_err(c, INFER_ERR_INVALID_ARGUMENT, "input %d has %d values, starts has %d", i, got,
                  n);
  return NULL;
}

InferStatus *infer_shape_slice(const InferOpCall *c) {
  INFER_TRY(need_input(c, 0));
  INFER_TRY(need_input(c, 1));
  INFER_TRY(need_input(c, 2));
  for (int i = 1; i < 5; i++)
    if (infer_call_has_input(c, i) && !is_index_dtype(c->in[i].dtype))
      return mv_err(c, INFER_ERR_INVALID_ARGUMENT, "input %d must be i32 or i64, not %s", i,
                    infer_dtype_name(c->in[i].dtype));
  const InferTensorView *x = &c->in[0];
  int64_t starts[INFER_MAX_RANK], ends[INFER_MAX_RANK], axes[INFER_MAX_RANK],
      steps[INFER_MAX_RANK];
  bool seen[INFER_MAX_RANK] = {false};
  int n;
  bool has_ends, has_axes, has_steps;
  INFER_TRY(infer_read_int_input(c, 1, starts, INFER_MAX_RANK, &n));
  INFER_TRY(slice_read(c, 2, n, ends, &has_ends));
  INFER_TRY(slice_read(c, 3, n, axes, &has_axes));
  INFER_TRY(slice_read(c, 4, n, steps, &has_steps));
  for (int k = 0; k < n; k++) {
    if (!has_axes) axes[k] = k;
    if (!has_steps) steps[k] = 1;
  }
  InferShape out = x->shape;
  for (int k = 0; k < n; k++) {
    int32_t a;
    INFER_TRY(infer_normalize_axis(c, axes[k], x->shape.rank, &a));
    if (seen[a]) return mv_err(c, INFER_ERR_INVALID_ARGUMENT, "axis %d is repeated", a);
    if (steps[k] == 0) return mv_err(c, INFER_ERR_INVALID_ARGUMENT, "step %d is 0", k);
    seen[a] = true;
    int64_t d = x->shape.d[a];
    out.d[a] = d < 0 ? -1 : slice_count(d, starts[k], ends[k], steps[k]);
  }
  return set_out(c, 0, x->dtype, &out);
}

InferStatus *infer_shape_gather(const InferOpCall *c) {
  INFER_TRY(need_input(c, 0));
  INFER_TRY(need_input(c, 1));
  const InferShape *x = &c->in[0].shape, *idx = &c->in[1].shape;
  if (!is_index_dtype(c->in[1].dtype))
    return mv_err(c, INFER_ERR_INVALID_ARGUMENT, "indices must be i32 or i64, not %s",
                  infer_dtype_name(c->in[1].dtype));
  if (x->rank < 1) return mv_err(c, INFER_ERR_INVALID_ARGUMENT, "cannot gather from a scalar");
  int32_t axis;
  INFER_TRY(infer_normalize_axis(c, c->params->axis.axis, x->rank, &axis));
  int rank = x->rank - 1 + idx->rank;
  if (rank > INFER_MAX_RANK)
    return mv_err(c, INFER_ERR_UNSUPPORTED, "output rank %d exceeds the maximum %d", rank,
                  INFER_MAX_RANK);
  InferShape out = {rank, {0}};
  int j = 0;
  for (int i = 0; i < axis; i++) out.d[j++] = x->d[i];
  for (int i = 0; i < idx->rank; i++) out.d[j++] = idx->d[i];
  for (int i = axis + 1; i < x->rank; i++) out.d[j++] = x->d[i];
  return set_out(c, 0, c->in[0].dtype, &out);
}

InferStatus *infer_shape_gather_elements(const InferOpCall *c) {
  INFER_TRY(need_input(c, 0));
  INFER_TRY(need_input(c, 1));
  const InferShape *x = &c->in[0].shape, *idx = &c->in[1].shape;
  if (!is_index_dtype(c->in[1].dtype))
    return mv_err(c, INFER_ERR_INVALID_ARGUMENT, "indices must be i32 or i64, not %s",
                  infer_dtype_name(c->in[1].dtype));
  if (x->rank < 1 || idx->rank != x->rank)
    return mv_err(c, INFER_ERR_INVALID_ARGUMENT,
                  "data (rank %d) and indices (rank %d) must have the same rank >= 1", x->rank,
                  idx->rank);
  int32_t axis;
  INFER_TRY(infer_normalize_axis(c, c->params->axis.axis, x->rank, &axis));
  for (int i = 0; i < x->rank; i++)
    if (i != axis && x->d[i] >= 0 && idx->d[i] > x->d[i])
      return mv_err(c, INFER_ERR_INVALID_ARGUMENT,
                    "indices dim %d (%lld) is larger than the data's (%lld)", i,
                    (long long)idx->d[i], (long long)x->d[i]);
  return set_out(c, 0, c->in[0].dtype, idx);
}

/* ---- expand, tile --------------------------------------------------------- */

InferStatus *infer_shape_expand(const InferOpCall *c) {
  INFER_TRY(need_input(c, 0));
  INFER_TRY(need_input(c, 1));
  InferShape target = {0, {0}}, out;
  int n;
  INFER_TRY(infer_read_int_input(c, 1, target.d, INFER_MAX_RANK, &n));
  target.rank = n;
  for (int i = 0; i < n; i++)
    if (target.d[i] < 0)
      return mv_err(c, INFER_ERR_INVALID_ARGUMENT, "shape[%d] = %lld is negative", i,
                    (long long)target.d[i]);
  INFER_TRY(infer_broadcast_shapes(c, &c->in[0].shape, &target, &out));
  return set_out(c, 0, c->in[0].dtype, &out);
}

InferStatus *infer_shape_tile(const InferOpCall *c) {
  INFER_TRY(need_input(c, 0));
  INFER_TRY(need_input(c, 1));
  const InferShape *x = &c->in[0].shape;
  int64_t rep[INFER_MAX_RANK];
  int n;
  INFER_TRY(infer_read_int_input(c, 1, rep, INFER_MAX_RANK, &n));
  if (n != x->rank)
    return mv_err(c, INFER_ERR_INVALID_ARGUMENT, "repeats has %d values for rank %d", n,
                  x->rank);
  InferShape out = *x;
  for (int i = 0; i < n; i++) {
    if (rep[i] < 0)
      return mv_err(c, INFER_ERR_INVALID_ARGUMENT, "repeats[%d] = %lld is negative", i,
                    (long long)rep[i]);
    out.d[i] = x->d[i] < 0 ? -1 : mul_capped(x->d[i], rep[i]);
  }
  return set_out(c, 0, c->in[0].dtype, &out);
}

/* ---- generators ------------------------------------------------------------ */

/* Scalar input i of range as a double (f32/i32/i64); the dtype must match input 0. */
static InferStatus *range_scalar(const InferOpCall *c, int i, double *v) {
  INFER_TRY(need_input(c, i));
  const InferTensorView *t = &c->in[i];
  InferDType want = c->in[0].dtype;
  if (want != INFER_DTYPE_F32 && want != INFER_DTYPE_I32 && want != INFER_DTYPE_I64)
    return mv_err(c, INFER_ERR_UNSUPPORTED, "type %s is not supported", infer_dtype_name(want));
  if (t->dtype != want)
    return mv_err(c, INFER_ERR_INVALID_ARGUMENT, "input %d is %s, input 0 is %s", i,
                  infer_dtype_name(t->dtype), infer_dtype_name(want));
  if (infer_shape_numel(&t->shape) != 1)
    return mv_err(c, INFER_ERR_INVALID_ARGUMENT, "input %d must be a scalar", i);
  if (!t->data) return infer_shape_input_unknown(c, i);
  if (want == INFER_DTYPE_F32) *v = *(const float *)t->data;
  else if (want == INFER_DTYPE_I32) *v = *(const int32_t *)t->data;
  else *v = (double)*(const int64_t *)t->data;
  return NULL;
}

/* max(ceil((limit - start) / delta), 0): exactly for integers, in f32 for f32. */
static InferStatus *range_count(const InferOpCall *c, int64_t *count) {
  double start = 0, limit = 0, delta = 0;
  INFER_TRY(range_scalar(c, 0, &start));
  INFER_TRY(range_scalar(c, 1, &limit));
  INFER_TRY(range_scalar(c, 2, &delta));
  if (delta == 0 || isnan(start) || isnan(limit) || isnan(delta))
    return mv_err(c, INFER_ERR_INVALID_ARGUMENT, "delta must be non-zero and values not NaN");
  double q = ceil((limit - start) / delta);
  if (c->in[0].dtype == INFER_DTYPE_F32) /* ONNX (and numpy) count in the input type */
    q = ceilf(((float)limit - (float)start) / (float)delta);
  if (!(q < 4e18) || fabs(limit - start) >= 4e18)
    return mv_err(c, INFER_ERR_UNSUPPORTED, "range from %g to %g is too long", start, limit);
  if (c->in[0].dtype == INFER_DTYPE_I64) {
    /* doubles lose precision above 2^53: redo it in integers */
    int64_t s = *(const int64_t *)c->in[0].data, l = *(const int64_t *)c->in[1].data;
    int64_t d = *(const int64_t *)c->in[2].data, diff = l - s;
    int64_t n = diff / d;
    if (n * d != diff && (diff > 0) == (d > 0)) n++;
    *count = n > 0 ? n : 0;
    return NULL;
  }
  *count = q > 0 ? (int64_t)q : 0;
  return NULL;
}

InferStatus *infer_shape_range(const InferOpCall *c) {
  int64_t n = 0;
  INFER_TRY(range_count(c, &n));
  InferShape out = {1, {n}};
  return set_out(c, 0, c->in[0].dtype, &out);
}

/* Shape-15 slicing of the dims: [start, end) after clamping into [0, rank]. */
static int64_t shape_clamp(int64_t v, int32_t rank) {
  if (v < 0) v += rank;
  return v < 0 ? 0 : (v > rank ? rank : v);
}

InferStatus *infer_shape_shape(const InferOpCall *c) {
  INFER_TRY(need_input(c, 0));
  const InferShapeOpParams *p = &c->params->shape;
  int32_t rank = c->in[0].shape.rank;
  int64_t start = shape_clamp(p->start, rank), end = p->has_end ? shape_clamp(p->end, rank) : rank;
  InferShape out = {1, {end > start ? end - start : 0}};
  return set_out(c, 0, INFER_DTYPE_I64, &out);
}

InferStatus *infer_shape_size(const InferOpCall *c) {
  INFER_TRY(need_input(c, 0));
  InferShape out = {0, {0}};
  return set_out(c, 0, INFER_DTYPE_I64, &out);
}

InferStatus *infer_shape_constant_of_shape(const InferOpCall *c) {
  INFER_TRY(need_input(c, 0));
  InferDType t = c->params->constant_of_shape.dtype;
  if (infer_dtype_size(t) == 0 || infer_dtype_size(t) > 8)
    return mv_err(c, INFER_ERR_INVALID_ARGUMENT, "value type %s is not valid",
                  infer_dtype_name(t));
  if (c->in[0].shape.rank != 1)
    return mv_err(c, INFER_ERR_INVALID_ARGUMENT, "shape input must be 1-D");
  InferShape out = {0, {0}};
  int n;
  INFER_TRY(infer_read_int_input(c, 0, out.d, INFER_MAX_RANK, &n));
  out.rank = n;
  for (int i = 0; i < n; i++)
    if (out.d[i] < 0)
      return mv_err(c, INFER_ERR_INVALID_ARGUMENT, "shape[%d] = %lld is negative", i,
                    (long long)out.d[i]);
  return set_out(c, 0, t, &out);
}
