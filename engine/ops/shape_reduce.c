/* Shape functions of the reduction family: softmax, reduce, argmax, topk,
 * cumsum and non-max suppression. */
#include <stdarg.h>
#include <stdio.h>

#include "op_table.h"

/* An error naming the layer and op, with a printf-style reason. */
static InferStatus *shape_error(const InferOpCall *c, InferStatusCode code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static InferStatus *shape_error(const InferOpCall *c, InferStatusCode code, const char *fmt, ...) {
  char reason[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason, sizeof reason, fmt, ap);
  va_end(ap);
  return infer_status_new(code, "layer '%s' (%s): %s", c->node, infer_op_name(c->op), reason);
}

static InferStatus *require_input(const InferOpCall *c, int i, const char *what) {
  if (!infer_call_has_input(c, i))
    return shape_error(c, INFER_ERR_INVALID_ARGUMENT, "input %d (%s) is missing", i, what);
  return NULL;
}

/* Reads a shape input that must hold exactly one integer. */
static InferStatus *read_single_int(const InferOpCall *c, int input, const char *what,
                                    int64_t *out) {
  int64_t v[2];
  int n = 0;
  INFER_TRY(infer_read_int_input(c, input, v, 2, &n));
  if (n != 1)
    return shape_error(c, INFER_ERR_INVALID_ARGUMENT, "input %d (%s) must hold one value, not %d",
                       input, what, n);
  *out = v[0];
  return NULL;
}

/* ---- softmax ------------------------------------------------------------ */

InferStatus *infer_shape_softmax(const InferOpCall *call) {
  const InferSoftmaxParams *p = &call->params->softmax;
  INFER_TRY(require_input(call, 0, "x"));
  const InferTensorView *x = &call->in[0];
  if (!infer_dtype_is_float(x->dtype))
    return shape_error(call, INFER_ERR_INVALID_ARGUMENT, "input of type %s must be a float type",
                       infer_dtype_name(x->dtype));
  if (p->kind != INFER_SOFTMAX && p->kind != INFER_LOG_SOFTMAX && p->kind != INFER_HARDMAX)
    return shape_error(call, INFER_ERR_INVALID_ARGUMENT, "unknown softmax kind %d", (int)p->kind);
  if (x->shape.rank < 1)
    return shape_error(call, INFER_ERR_INVALID_ARGUMENT, "input must have rank >= 1");
  int32_t axis = 0;
  INFER_TRY(infer_normalize_axis(call, p->axis, x->shape.rank, &axis));
  call->out[0].dtype = x->dtype;
  call->out[0].shape = x->shape;
  return NULL;
}

/* ---- reduce ------------------------------------------------------------- */

InferStatus *infer_shape_reduce(const InferOpCall *call) {
  const InferReduceParams *p = &call->params->reduce;
  INFER_TRY(require_input(call, 0, "data"));
  const InferTensorView *x = &call->in[0];
  if ((int)p->kind < INFER_REDUCE_SUM || p->kind > INFER_REDUCE_SUM_SQUARE)
    return shape_error(call, INFER_ERR_INVALID_ARGUMENT, "unknown reduce kind %d", (int)p->kind);
  int32_t rank = x->shape.rank;
  int64_t axes[64];
  int n_axes = 0;
  /* An empty axes tensor needs no value (its data pointer may be NULL). */
  const InferTensorView *axes_in = infer_call_input(call, 1);
  if (axes_in->dtype != INFER_DTYPE_UNDEFINED && infer_shape_numel(&axes_in->shape) != 0)
    INFER_TRY(infer_read_int_input(call, 1, axes, 64, &n_axes));

  call->out[0].dtype = x->dtype;
  if (n_axes == 0 && p->noop_with_empty_axes) {
    call->out[0].shape = x->shape;
    return NULL;
  }
  bool reduced[INFER_MAX_RANK] = {false};
  if (n_axes == 0) {
    for (int i = 0; i < rank; i++) reduced[i] = true;
  }
  for (int i = 0; i < n_axes; i++) {
    int32_t a = 0;
    if (rank == 0)
      return shape_error(call, INFER_ERR_INVALID_ARGUMENT, "axes given for a rank-0 input");
    INFER_TRY(infer_normalize_axis(call, axes[i], rank, &a));
    if (reduced[a])
      return shape_error(call, INFER_ERR_INVALID_ARGUMENT, "axis %lld is repeated",
                         (long long)axes[i]);
    reduced[a] = true;
  }
  InferShape out = {0, {0}};
  for (int i = 0; i < rank; i++) {
    if (!reduced[i])
      out.d[out.rank++] = x->shape.d[i];
    else if (p->keepdims)
      out.d[out.rank++] = 1;
  }
  call->out[0].shape = out;
  return NULL;
}

/* ---- argmax ------------------------------------------------------------- */

InferStatus *infer_shape_argmax(const InferOpCall *call) {
  const InferArgMaxParams *p = &call->params->argmax;
  INFER_TRY(require_input(call, 0, "data"));
  const InferTensorView *x = &call->in[0];
  if (x->shape.rank < 1)
    return shape_error(call, INFER_ERR_INVALID_ARGUMENT, "input must have rank >= 1");
  int32_t axis = 0;
  INFER_TRY(infer_normalize_axis(call, p->axis, x->shape.rank, &axis));
  if (x->shape.d[axis] == 0)
    return shape_error(call, INFER_ERR_INVALID_ARGUMENT, "cannot take the arg%s of an empty axis",
                       p->is_min ? "min" : "max");
  InferShape out = {0, {0}};
  for (int i = 0; i < x->shape.rank; i++) {
    if (i != axis)
      out.d[out.rank++] = x->shape.d[i];
    else if (p->keepdims)
      out.d[out.rank++] = 1;
  }
  call->out[0].dtype = INFER_DTYPE_I64;
  call->out[0].shape = out;
  return NULL;
}

/* ---- topk --------------------------------------------------------------- */

InferStatus *infer_shape_topk(const InferOpCall *call) {
  const InferTopKParams *p = &call->params->topk;
  INFER_TRY(require_input(call, 0, "x"));
  INFER_TRY(require_input(call, 1, "k"));
  const InferTensorView *x = &call->in[0];
  if (x->shape.rank < 1)
    return shape_error(call, INFER_ERR_INVALID_ARGUMENT, "input must have rank >= 1");
  int32_t axis = 0;
  INFER_TRY(infer_normalize_axis(call, p->axis, x->shape.rank, &axis));
  int64_t k = 0;
  INFER_TRY(read_single_int(call, 1, "k", &k));
  int64_t dim = x->shape.d[axis];
  if (k < 0 || (dim >= 0 && k > dim))
    return shape_error(call, INFER_ERR_INVALID_ARGUMENT,
                       "k = %lld is out of range for an axis of size %lld", (long long)k,
                       (long long)dim);
  InferShape out = x->shape;
  out.d[axis] = k;
  if (call->n_out < 2)
    return shape_error(call, INFER_ERR_INVALID_ARGUMENT, "needs two outputs (values, indices)");
  call->out[0].dtype = x->dtype;
  call->out[0].shape = out;
  call->out[1].dtype = INFER_DTYPE_I64;
  call->out[1].shape = out;
  return NULL;
}

/* ---- cumsum ------------------------------------------------------------- */

InferStatus *infer_shape_cumsum(const InferOpCall *call) {
  INFER_TRY(require_input(call, 0, "x"));
  INFER_TRY(require_input(call, 1, "axis"));
  const InferTensorView *x = &call->in[0];
  if (x->shape.rank < 1)
    return shape_error(call, INFER_ERR_INVALID_ARGUMENT, "input must have rank >= 1");
  int64_t axis = 0;
  INFER_TRY(read_single_int(call, 1, "axis", &axis));
  int32_t a = 0;
  INFER_TRY(infer_normalize_axis(call, axis, x->shape.rank, &a));
  call->out[0].dtype = x->dtype;
  call->out[0].shape = x->shape;
  return NULL;
}

/* ---- non-max suppression ------------------------------------------------- */

/* Equal dims, where both are known. */
static bool dims_agree(int64_t a, int64_t b) { return a < 0 || b < 0 || a == b; }

/* A run-time scalar threshold: absent, or a float tensor of at most one value. */
static InferStatus *check_threshold(const InferOpCall *c, int i, const char *what) {
  if (!infer_call_has_input(c, i)) return NULL;
  const InferTensorView *t = &c->in[i];
  int64_t n = infer_shape_numel(&t->shape);
  if (!infer_dtype_is_float(t->dtype) || t->shape.rank > 1 || n > 1)
    return shape_error(c, INFER_ERR_INVALID_ARGUMENT,
                       "input %d (%s) must be a float scalar or 1-element tensor", i, what);
  return NULL;
}

InferStatus *infer_shape_nms(const InferOpCall *call) {
  INFER_TRY(require_input(call, 0, "boxes"));
  INFER_TRY(require_input(call, 1, "scores"));
  const InferShape *b = &call->in[0].shape, *s = &call->in[1].shape;
  if (b->rank != 3 || !dims_agree(b->d[2], 4))
    return shape_error(call, INFER_ERR_INVALID_ARGUMENT, "boxes must have shape [B, N, 4]");
  if (s->rank != 3 || !dims_agree(b->d[0], s->d[0]) || !dims_agree(b->d[1], s->d[2]))
    return shape_error(call, INFER_ERR_INVALID_ARGUMENT,
                       "scores must have shape [B, C, N] matching boxes [B, N, 4]");
  INFER_TRY(check_threshold(call, 3, "iou_threshold"));
  INFER_TRY(check_threshold(call, 4, "score_threshold"));

  /* An absent or empty max_output_boxes_per_class selects nothing. */
  int64_t vals[2] = {0, 0};
  int n = 0;
  INFER_TRY(infer_read_int_input(call, 2, vals, 2, &n));
  if (n > 1)
    return shape_error(call, INFER_ERR_INVALID_ARGUMENT,
                       "max_output_boxes_per_class must hold one value");
  int64_t max_out = n == 1 && vals[0] > 0 ? vals[0] : 0;

  int64_t batches = b->d[0] >= 0 ? b->d[0] : s->d[0];
  int64_t boxes = b->d[1] >= 0 ? b->d[1] : s->d[2];
  int64_t classes = s->d[1];
  int64_t bound;
  if (max_out == 0 || batches == 0 || classes == 0 || boxes == 0)
    bound = 0;
  else if (batches < 0 || classes < 0 || boxes < 0)
    bound = -1;
  else
    bound = batches * classes * (boxes < max_out ? boxes : max_out);
  call->out[0].dtype = INFER_DTYPE_I64;
  call->out[0].shape.rank = 2;
  call->out[0].shape.d[0] = bound;
  call->out[0].shape.d[1] = 3;
  return NULL;
}
