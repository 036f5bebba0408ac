/* CPU kernels for the operators that make new values: range, shape, size and
 * constant_of_shape. Shape and size read only their input's shape: its data
 * pointer may be NULL. */
#include "cpu_util.h"

static InferStatus *mv_invalid(const InferOpCall *c, const char *what) {
  return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "layer '%s' (%s): %s", c->node,
                          infer_op_name(c->op), what);
}

/* ---- range ------------------------------------------------------------------- */

InferStatus *infer_cpu_supports_range(const InferOpCall *c) {
  InferDType t = c->in[0].dtype;
  INFER_CPU_REQUIRE(c, 0, INFER_DTYPE_F32, INFER_DTYPE_I32, INFER_DTYPE_I64);
  for (int i = 1; i < 3; i++)
    if (infer_call_input(c, i)->dtype != t) return infer_cpu_unsupported_dtype(c, i);
  if (c->out[0].dtype != t || c->out[0].shape.rank != 1)
    return mv_invalid(c, "output must be 1-D of the inputs' type");
  return NULL;
}

/* y[i] = start + i * delta; the length came from shape inference. Integers
 * are computed exactly; f32 like numpy's arange (in double, then rounded). */
InferStatus *infer_cpu_run_range(const InferOpCall *c) {
  INFER_TRY(infer_cpu_supports_range(c));
  int64_t n = c->out[0].shape.d[0];
  void *y = c->out[0].data;
  switch (c->in[0].dtype) {
    case INFER_DTYPE_F32: {
      double start = *(const float *)c->in[0].data, delta = *(const float *)c->in[2].data;
      for (int64_t i = 0; i < n; i++) ((float *)y)[i] = (float)(start + (double)i * delta);
      break;
    }
    case INFER_DTYPE_I32: {
      int64_t start = *(const int32_t *)c->in[0].data, delta = *(const int32_t *)c->in[2].data;
      for (int64_t i = 0; i < n; i++) ((int32_t *)y)[i] = (int32_t)(start + i * delta);
      break;
    }
    default: {
      int64_t start = *(const int64_t *)c->in[0].data, delta = *(const int64_t *)c->in[2].data;
      for (int64_t i = 0; i < n; i++) ((int64_t *)y)[i] = start + i * delta;
      break;
    }
  }
  return NULL;
}

/* ---- shape, size ------------------------------------------------------------------ */

/* The first input dim that shape's output starts at (Shape-15 start/end). */
static int64_t shape_start(const InferOpCall *c) {
  int32_t rank = c->in[0].shape.rank;
  int64_t v = c->params->shape.start;
  if (v < 0) v += rank;
  return v < 0 ? 0 : (v > rank ? rank : v);
}

InferStatus *infer_cpu_supports_shape(const InferOpCall *c) {
  const InferShape *y = &c->out[0].shape;
  if (c->out[0].dtype != INFER_DTYPE_I64 || y->rank != 1)
    return mv_invalid(c, "output must be 1-D i64");
  if (y->d[0] >= 0 && shape_start(c) + y->d[0] > c->in[0].shape.rank)
    return mv_invalid(c, "output is longer than the input's rank");
  return NULL;
}

InferStatus *infer_cpu_run_shape(const InferOpCall *c) {
  INFER_TRY(infer_cpu_supports_shape(c));
  int64_t start = shape_start(c);
  for (int64_t i = 0; i < c->out[0].shape.d[0]; i++)
    ((int64_t *)c->out[0].data)[i] = c->in[0].shape.d[start + i];
  return NULL;
}

InferStatus *infer_cpu_supports_size(const InferOpCall *c) {
  if (c->out[0].dtype != INFER_DTYPE_I64 || infer_shape_numel(&c->out[0].shape) != 1)
    return mv_invalid(c, "output must be an i64 scalar");
  return NULL;
}

InferStatus *infer_cpu_run_size(const InferOpCall *c) {
  INFER_TRY(infer_cpu_supports_size(c));
  *(int64_t *)c->out[0].data = infer_shape_numel(&c->in[0].shape);
  return NULL;
}

/* ---- constant_of_shape ---------------------------------------------------------- */

InferStatus *infer_cpu_supports_constant_of_shape(const InferOpCall *c) {
  InferDType t = c->params->constant_of_shape.dtype;
  size_t es = infer_dtype_size(t);
  if (es == 0 || es > sizeof c->params->constant_of_shape.value)
    return mv_invalid(c, "value type is not valid");
  if (c->out[0].dtype != t) return mv_invalid(c, "output type differs from the value's");
  if (t == INFER_DTYPE_BOOL && c->params->constant_of_shape.value[0] > 1)
    return mv_invalid(c, "bool value must be 0 or 1");
  return NULL;
}

/* The value is one element stored little-endian, the host order of every
 * supported CPU, so it is copied as bytes. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "constant_of_shape assumes a little-endian host"
#endif
InferStatus *infer_cpu_run_constant_of_shape(const InferOpCall *c) {
  INFER_TRY(infer_cpu_supports_constant_of_shape(c));
  size_t es = infer_dtype_size(c->out[0].dtype);
  int64_t n = infer_shape_numel(&c->out[0].shape);
  for (int64_t i = 0; i < n; i++)
    memcpy((char *)c->out[0].data + (size_t)i * es, c->params->constant_of_shape.value, es);
  return NULL;
}
