/* CPU reference kernels for INFER_OP_WHERE (select with numpy broadcasting,
 * any element type) and INFER_OP_CAST (conversions among all engine dtypes). */
#include <math.h>

#include "cpu_util.h"

/* ---- where ---------------------------------------------------------------- */

InferStatus *infer_cpu_supports_where(const InferOpCall *call) {
  INFER_CPU_REQUIRE(call, 0, INFER_DTYPE_BOOL);
  InferDType x = infer_call_input(call, 1)->dtype, y = infer_call_input(call, 2)->dtype;
  if (infer_dtype_size(x) == 0) return infer_cpu_unsupported_dtype(call, 1);
  if (x != y) return infer_cpu_unsupported_dtype(call, 2);
  return NULL;
}

InferStatus *infer_cpu_run_where(const InferOpCall *call) {
  INFER_TRY(infer_cpu_supports_where(call));
  InferTensorView *z = &call->out[0];
  size_t es = infer_dtype_size(z->dtype);
  int64_t strides[3][INFER_MAX_RANK];
  for (int j = 0; j < 3; j++) infer_cpu_broadcast_strides(&call->in[j].shape, &z->shape, strides[j]);
  const uint8_t *cond = call->in[0].data;
  const char *x = call->in[1].data, *y = call->in[2].data;
  char *out = z->data;
  int64_t n = infer_shape_numel(&z->shape);
  for (int64_t i = 0; i < n; i++) {
    bool pick_x = cond[infer_cpu_offset(&z->shape, strides[0], i)] != 0;
    int64_t src = infer_cpu_offset(&z->shape, strides[pick_x ? 1 : 2], i);
    memcpy(out + (size_t)i * es, (pick_x ? x : y) + (size_t)src * es, es);
  }
  return NULL;
}

/* ---- cast ----------------------------------------------------------------- */

static bool is_int(InferDType t) {
  return t == INFER_DTYPE_I8 || t == INFER_DTYPE_U8 || t == INFER_DTYPE_I32 ||
         t == INFER_DTYPE_I64 || t == INFER_DTYPE_BOOL;
}

static int64_t load_int(const void *data, InferDType t, int64_t i) {
  switch (t) {
    case INFER_DTYPE_I8: return ((const int8_t *)data)[i];
    case INFER_DTYPE_U8: return ((const uint8_t *)data)[i];
    case INFER_DTYPE_I32: return ((const int32_t *)data)[i];
    case INFER_DTYPE_I64: return ((const int64_t *)data)[i];
    default: return ((const uint8_t *)data)[i] != 0; /* bool */
  }
}

/* Narrowing keeps the low bits (two's complement), as numpy's astype does. */
static void store_int(void *data, InferDType t, int64_t i, int64_t v) {
  switch (t) {
    case INFER_DTYPE_I8: ((int8_t *)data)[i] = (int8_t)(uint8_t)(uint64_t)v; break;
    case INFER_DTYPE_U8: ((uint8_t *)data)[i] = (uint8_t)(uint64_t)v; break;
    case INFER_DTYPE_I32: ((int32_t *)data)[i] = (int32_t)(uint32_t)(uint64_t)v; break;
    case INFER_DTYPE_I64: ((int64_t *)data)[i] = v; break;
    default: ((uint8_t *)data)[i] = v != 0; break;
  }
}

/* Float to integer truncates toward zero; NaN gives 0 and values outside
 * int64 saturate, so the result is deterministic (then wraps when narrowed). */
static int64_t float_to_int(double v) {
  if (isnan(v)) return 0;
  if (v <= -9223372036854775808.0) return INT64_MIN;
  if (v >= 9223372036854775807.0) return INT64_MAX;
  return (int64_t)v;
}

static void cast_element(const InferTensorView *x, InferTensorView *y, int64_t i) {
  if (is_int(x->dtype)) {
    int64_t v = load_int(x->data, x->dtype, i);
    if (is_int(y->dtype))
      store_int(y->data, y->dtype, i, v);
    else /* to f32 rounds to nearest; to f16 goes through f32 */
      infer_cpu_store(y->data, y->dtype, i, (double)(float)v);
    return;
  }
  double v = infer_cpu_load(x->data, x->dtype, i);
  if (y->dtype == INFER_DTYPE_BOOL)
    store_int(y->data, y->dtype, i, v != 0.0); /* NaN is true, as in numpy */
  else if (is_int(y->dtype))
    store_int(y->data, y->dtype, i, float_to_int(v));
  else
    infer_cpu_store(y->data, y->dtype, i, v);
}

InferStatus *infer_cpu_supports_cast(const InferOpCall *call) {
  InferDType from = infer_call_input(call, 0)->dtype, to = call->params->cast.to;
  if (infer_dtype_size(from) == 0) return infer_cpu_unsupported_dtype(call, 0);
  if (infer_dtype_size(to) == 0)
    return infer_status_new(INFER_ERR_UNSUPPORTED,
                            "layer '%s' (%s): cast to %s is not supported on the CPU backend",
                            call->node, infer_op_name(call->op), infer_dtype_name(to));
  return NULL;
}

InferStatus *infer_cpu_run_cast(const InferOpCall *call) {
  INFER_TRY(infer_cpu_supports_cast(call));
  const InferTensorView *x = &call->in[0];
  InferTensorView *y = &call->out[0];
  int64_t n = infer_shape_numel(&y->shape);
  if (x->dtype == y->dtype) {
    if (n > 0) memcpy(y->data, x->data, (size_t)n * infer_dtype_size(x->dtype));
    return NULL;
  }
  for (int64_t i = 0; i < n; i++) cast_element(x, y, i);
  return NULL;
}
