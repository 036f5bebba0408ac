/* CPU kernels for expand (broadcast to a shape) and tile (repeat along each
 * axis). Both copy elements by byte size, so every dtype works. The target
 * shape / repeats are already in the output shape, so input 1 is not read. */
#include "cpu_util.h"

static InferStatus *mv_invalid(const InferOpCall *c, const char *what) {
  return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "layer '%s' (%s): %s", c->node,
                          infer_op_name(c->op), what);
}

static InferStatus *check_data(const InferOpCall *c) {
  if (infer_dtype_size(c->in[0].dtype) == 0) return infer_cpu_unsupported_dtype(c, 0);
  if (c->out[0].dtype != c->in[0].dtype) return mv_invalid(c, "output type differs from input");
  return NULL;
}

/* Unknown dims (supports() may see them) are not compared. */
static bool dims_known(int64_t a, int64_t b) { return a >= 0 && b >= 0; }

/* ---- expand ------------------------------------------------------------------ */

InferStatus *infer_cpu_supports_expand(const InferOpCall *c) {
  INFER_TRY(check_data(c));
  const InferShape *x = &c->in[0].shape, *y = &c->out[0].shape;
  if (x->rank > y->rank) return mv_invalid(c, "output rank is below the input's");
  for (int i = 0; i < x->rank; i++) {
    int64_t dx = x->d[i], dy = y->d[i + y->rank - x->rank];
    if (dims_known(dx, dy) && dx != 1 && dx != dy)
      return mv_invalid(c, "input does not broadcast to the output shape");
  }
  return NULL;
}

InferStatus *infer_cpu_run_expand(const InferOpCall *c) {
  INFER_TRY(infer_cpu_supports_expand(c));
  const InferShape *y = &c->out[0].shape;
  size_t es = infer_dtype_size(c->in[0].dtype);
  int64_t strides[INFER_MAX_RANK], idx[INFER_MAX_RANK] = {0}, off = 0, n = infer_shape_numel(y);
  infer_cpu_broadcast_strides(&c->in[0].shape, y, strides);
  char *out = c->out[0].data;
  const char *in = c->in[0].data;
  for (int64_t i = 0; i < n; i++) {
    memcpy(out + (size_t)i * es, in + (size_t)off * es, es);
    for (int k = y->rank - 1; k >= 0; k--) {
      off += strides[k];
      if (++idx[k] < y->d[k]) break;
      off -= strides[k] * y->d[k];
      idx[k] = 0;
    }
  }
  return NULL;
}

/* ---- tile -------------------------------------------------------------------- */

InferStatus *infer_cpu_supports_tile(const InferOpCall *c) {
  INFER_TRY(check_data(c));
  const InferShape *x = &c->in[0].shape, *y = &c->out[0].shape;
  if (x->rank != y->rank) return mv_invalid(c, "output rank differs from the input's");
  for (int i = 0; i < x->rank; i++) {
    int64_t dx = x->d[i], dy = y->d[i];
    if (dims_known(dx, dy) && (dx == 0 ? dy != 0 : dy % dx != 0))
      return mv_invalid(c, "output dims are not multiples of the input's");
  }
  return NULL;
}

/* y[i] = x[i mod dims(x)], walking both indices together. */
InferStatus *infer_cpu_run_tile(const InferOpCall *c) {
  INFER_TRY(infer_cpu_supports_tile(c));
  const InferShape *x = &c->in[0].shape, *y = &c->out[0].shape;
  size_t es = infer_dtype_size(c->in[0].dtype);
  int64_t xs[INFER_MAX_RANK], idx[INFER_MAX_RANK] = {0}, src[INFER_MAX_RANK] = {0}, off = 0;
  int64_t n = infer_shape_numel(y);
  infer_cpu_strides(x, xs);
  char *out = c->out[0].data;
  const char *in = c->in[0].data;
  for (int64_t i = 0; i < n; i++) {
    memcpy(out + (size_t)i * es, in + (size_t)off * es, es);
    for (int k = y->rank - 1; k >= 0; k--) {
      if (++src[k] == x->d[k]) {
        src[k] = 0;
        off -= xs[k] * (x->d[k] - 1);
      } else {
        off += xs[k];
      }
      if (++idx[k] < y->d[k]) break;
      idx[k] = 0; /* y->d[k] is a multiple of x->d[k], so src[k] wrapped to 0 too */
    }
  }
  return NULL;
}
