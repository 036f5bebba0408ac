/* Generic element access and dtype checks for the CPU reference kernels. */
#include "cpu_util.h"

double infer_cpu_load(const void *data, InferDType t, int64_t i) {
  switch (t) {
    case INFER_DTYPE_F32: return ((const float *)data)[i];
    case INFER_DTYPE_F16: return infer_half_to_float(((const uint16_t *)data)[i]);
    case INFER_DTYPE_I8: return ((const int8_t *)data)[i];
    case INFER_DTYPE_U8: return ((const uint8_t *)data)[i];
    case INFER_DTYPE_I32: return ((const int32_t *)data)[i];
    case INFER_DTYPE_I64: return (double)((const int64_t *)data)[i];
    case INFER_DTYPE_BOOL: return ((const uint8_t *)data)[i] ? 1.0 : 0.0;
    default: return 0.0;
  }
}

void infer_cpu_store(void *data, InferDType t, int64_t i, double v) {
  switch (t) {
    case INFER_DTYPE_F32: ((float *)data)[i] = (float)v; break;
    case INFER_DTYPE_F16: ((uint16_t *)data)[i] = infer_float_to_half((float)v); break;
    case INFER_DTYPE_I8: ((int8_t *)data)[i] = (int8_t)v; break;
    case INFER_DTYPE_U8: ((uint8_t *)data)[i] = (uint8_t)v; break;
    case INFER_DTYPE_I32: ((int32_t *)data)[i] = (int32_t)v; break;
    case INFER_DTYPE_I64: ((int64_t *)data)[i] = (int64_t)v; break;
    case INFER_DTYPE_BOOL: ((uint8_t *)data)[i] = v != 0.0; break;
    default: break;
  }
}

InferStatus *infer_cpu_unsupported_dtype(const InferOpCall *c, int input) {
  return infer_status_new(INFER_ERR_UNSUPPORTED,
                          "layer '%s' (%s): input %d of type %s is not supported on the CPU "
                          "backend",
                          c->node, infer_op_name(c->op), input,
                          infer_dtype_name(infer_call_input(c, input)->dtype));
}

InferStatus *infer_cpu_require_dtype(const InferOpCall *c, int input, int n, const InferDType *ok) {
  InferDType t = infer_call_input(c, input)->dtype;
  for (int i = 0; i < n; i++)
    if (ok[i] == t) return NULL;
  return infer_cpu_unsupported_dtype(c, input);
}
