/* Helpers shared by the shape functions. */
#include <stdio.h>

#include "op_table.h"

InferStatus *infer_normalize_axis(const InferOpCall *c, int64_t axis, int32_t rank, int32_t *out) {
  int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank || (rank == 0 && a != 0))
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "layer '%s' (%s): axis %lld is out of range for rank %d", c->node,
                            infer_op_name(c->op), (long long)axis, rank);
  *out = (int32_t)a;
  return NULL;
}

InferStatus *infer_broadcast_shapes(const InferOpCall *c, const InferShape *a, const InferShape *b,
                                    InferShape *out) {
  InferShape r = {0, {0}};
  r.rank = a->rank > b->rank ? a->rank : b->rank;
  for (int i = 0; i < r.rank; i++) {
    int ia = i - (r.rank - a->rank), ib = i - (r.rank - b->rank);
    int64_t da = ia >= 0 ? a->d[ia] : 1, db = ib >= 0 ? b->d[ib] : 1;
    if (da == db || db == 1) {
      r.d[i] = da;
    } else if (da == 1) {
      r.d[i] = db;
    } else if (da < 0 || db < 0) {
      r.d[i] = da < 0 ? db : da; /* unknown vs n: n (or the op fails at run time) */
    } else {
      char sa[96], sb[96];
      return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                              "layer '%s' (%s): shapes %s and %s cannot be broadcast", c->node,
                              infer_op_name(c->op), infer_shape_str(a, sa, sizeof sa),
                              infer_shape_str(b, sb, sizeof sb));
    }
  }
  *out = r;
  return NULL;
}

InferStatus *infer_shape_input_unknown(const InferOpCall *c, int input) {
  return infer_status_new(INFER_ERR_UNSUPPORTED,
                          "layer '%s' (%s): input %d must be known when shapes are inferred "
                          "(a constant or computed from shapes), but it depends on run-time data",
                          c->node, infer_op_name(c->op), input);
}

InferStatus *infer_read_int_input(const InferOpCall *c, int input, int64_t *out, int max, int *n) {
  const InferTensorView *v = infer_call_input(c, input);
  if (v->dtype == INFER_DTYPE_UNDEFINED) {
    *n = 0;
    return NULL;
  }
  if (!v->data) return infer_shape_input_unknown(c, input);
  if (v->shape.rank > 1)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "layer '%s' (%s): input %d must be a scalar or 1-D", c->node,
                            infer_op_name(c->op), input);
  int64_t count = infer_shape_numel(&v->shape);
  if (count > max)
    return infer_status_new(INFER_ERR_UNSUPPORTED,
                            "layer '%s' (%s): input %d has %lld values, at most %d are supported",
                            c->node, infer_op_name(c->op), input, (long long)count, max);
  for (int64_t i = 0; i < count; i++) {
    if (v->dtype == INFER_DTYPE_I64)
      out[i] = ((const int64_t *)v->data)[i];
    else if (v->dtype == INFER_DTYPE_I32)
      out[i] = ((const int32_t *)v->data)[i];
    else
      return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                              "layer '%s' (%s): input %d must be i32 or i64, not %s", c->node,
                              infer_op_name(c->op), input, infer_dtype_name(v->dtype));
  }
  *n = (int)count;
  return NULL;
}
