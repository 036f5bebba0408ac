/* CPU kernels for concat and split: both move contiguous row chunks along one
 * axis, so they work for every dtype by copying bytes. */
#include "cpu_util.h"

static InferStatus *mv_invalid(const InferOpCall *c, const char *what) {
  return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "layer '%s' (%s): %s", c->node,
                          infer_op_name(c->op), what);
}

static int64_t normalized_axis(int64_t axis, int32_t rank) { return axis < 0 ? axis + rank : axis; }

/* Product of dims [from, to). */
static int64_t dims_product(const InferShape *s, int from, int to) {
  int64_t p = 1;
  for (int i = from; i < to; i++) p *= s->d[i];
  return p;
}

/* `part` equals `whole` in every dim but `axis` (unknown dims match anything). */
static bool same_but_axis(const InferShape *part, const InferShape *whole, int64_t axis) {
  if (part->rank != whole->rank) return false;
  for (int i = 0; i < whole->rank; i++)
    if (i != axis && part->d[i] >= 0 && whole->d[i] >= 0 && part->d[i] != whole->d[i])
      return false;
  return true;
}

/* Checks that `parts` stacked along `axis` make up `whole` (as far as dims
 * are known: supports() may see unknown dims). */
static InferStatus *check_parts(const InferOpCall *c, const InferTensorView *whole,
                                const InferTensorView *parts, int n, int64_t axis_param) {
  int64_t axis = normalized_axis(axis_param, whole->shape.rank), sum = 0;
  bool known = true;
  if (infer_dtype_size(whole->dtype) == 0) return infer_cpu_unsupported_dtype(c, 0);
  if (axis < 0 || axis >= whole->shape.rank) return mv_invalid(c, "axis is out of range");
  for (int i = 0; i < n; i++) {
    if (parts[i].dtype != whole->dtype) return mv_invalid(c, "input and output types differ");
    if (!same_but_axis(&parts[i].shape, &whole->shape, axis))
      return mv_invalid(c, "shapes differ outside the axis");
    if (parts[i].shape.d[axis] < 0) known = false;
    sum += parts[i].shape.d[axis];
  }
  if (known && whole->shape.d[axis] >= 0 && sum != whole->shape.d[axis]) return mv_invalid(c, "sizes along the axis do not add up");
  return NULL;
}

/* Copies between `whole` and its `parts` along the axis: rows of `whole`
 * (everything from the axis on) are the parts' rows side by side. */
static void move_parts(const InferTensorView *whole, const InferTensorView *parts, int n,
                       int64_t axis, bool to_whole) {
  size_t es = infer_dtype_size(whole->dtype);
  int rank = whole->shape.rank;
  int64_t outer = dims_product(&whole->shape, 0, (int)axis);
  size_t inner = (size_t)dims_product(&whole->shape, (int)axis + 1, rank) * es;
  size_t whole_row = (size_t)whole->shape.d[axis] * inner, col = 0;
  for (int i = 0; i < n; i++) {
    size_t row = (size_t)parts[i].shape.d[axis] * inner;
    if (row == 0) continue;
    for (int64_t o = 0; o < outer; o++) {
      char *w = (char *)whole->data + (size_t)o * whole_row + col;
      char *p = (char *)parts[i].data + (size_t)o * row;
      if (to_whole) memcpy(w, p, row);
      else memcpy(p, w, row);
    }
    col += row;
  }
}

InferStatus *infer_cpu_supports_concat(const InferOpCall *c) {
  return check_parts(c, &c->out[0], c->in, c->n_in, c->params->axis.axis);
}

InferStatus *infer_cpu_run_concat(const InferOpCall *c) {
  INFER_TRY(check_parts(c, &c->out[0], c->in, c->n_in, c->params->axis.axis));
  move_parts(&c->out[0], c->in, c->n_in,
             normalized_axis(c->params->axis.axis, c->out[0].shape.rank), true);
  return NULL;
}

/* Split's sizes are already in the output shapes: the split input is not read. */
InferStatus *infer_cpu_supports_split(const InferOpCall *c) {
  return check_parts(c, &c->in[0], c->out, c->n_out, c->params->split.axis);
}

InferStatus *infer_cpu_run_split(const InferOpCall *c) {
  INFER_TRY(check_parts(c, &c->in[0], c->out, c->n_out, c->params->split.axis));
  move_parts(&c->in[0], c->out, c->n_out,
             normalized_axis(c->params->split.axis, c->in[0].shape.rank), false);
  return NULL;
}
