/* CPU reference kernel for INFER_OP_UNARY, and the shared activation
 * function that fused layers (conv, gemm, ...) evaluate. */
#include <math.h>

#include "cpu_util.h"

/* ---- float math ----------------------------------------------------------- */

/* log(1 + exp(x)) without overflowing for large x. */
static double softplus(double x) {
  return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

static double clamp01(double v) { return v < 0 ? 0 : (v > 1 ? 1 : v); }

/* Round half to even, independent of the FPU rounding mode. */
static double round_half_even(double x) {
  double r = floor(x);
  double diff = x - r;
  if (diff > 0.5 || (diff == 0.5 && fmod(r, 2.0) != 0.0)) r += 1.0;
  return r == 0.0 ? copysign(0.0, x) : r;
}

static double sign_of(double x) {
  if (isnan(x)) return x;
  return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0);
}

static double gelu(double x, bool tanh_form) {
  if (tanh_form) {
    const double k = 0.79788456080286535588; /* sqrt(2 / pi) */
    return 0.5 * x * (1.0 + tanh(k * (x + 0.044715 * x * x * x)));
  }
  return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
}

/* Activations with parameters (alpha/beta). NaN handling follows the ONNX
 * reference formulas (ThresholdedRelu and Shrink map NaN to 0). */
static double activation_param(const InferUnaryParams *p, double x, bool *handled) {
  double a = p->alpha, b = p->beta;
  *handled = true;
  switch (p->kind) {
    case INFER_UNARY_LEAKY_RELU: return x < 0 ? a * x : x;
    /* max first, then min: min > max gives max, as ONNX Clip specifies */
    case INFER_UNARY_CLIP: x = x < a ? a : x; return x > b ? b : x;
    case INFER_UNARY_HARD_SIGMOID: return isnan(x) ? x : clamp01(a * x + b);
    case INFER_UNARY_ELU: return x < 0 ? a * expm1(x) : x;
    case INFER_UNARY_SELU: return x <= 0 ? b * a * expm1(x) : b * x;
    case INFER_UNARY_CELU: return isnan(x) ? x : (x > 0 ? x : 0) + fmin(0.0, a * expm1(x / a));
    case INFER_UNARY_THRESHOLDED_RELU: return x > a ? x : 0.0;
    case INFER_UNARY_SHRINK: return x < -b ? x + a : (x > b ? x - a : 0.0);
    case INFER_UNARY_GELU: return gelu(x, a != 0.0f);
    case INFER_UNARY_IS_INF:
      return ((a != 0.0f && isinf(x) && x > 0) || (b != 0.0f && isinf(x) && x < 0)) ? 1.0 : 0.0;
    default: *handled = false; return x;
  }
}

/* Every unary kind evaluated on a real number (bool kinds give 0 or 1). */
static double unary_float(const InferUnaryParams *p, double x) {
  bool handled;
  double y = activation_param(p, x, &handled);
  if (handled) return y;
  switch (p->kind) {
    case INFER_UNARY_RELU: return x < 0 ? 0.0 : x;
    case INFER_UNARY_SIGMOID: return sigmoid(x);
    case INFER_UNARY_HARD_SWISH: return isnan(x) ? x : x * clamp01(x / 6.0 + 0.5);
    case INFER_UNARY_TANH: return tanh(x);
    case INFER_UNARY_SILU: return x * sigmoid(x);
    case INFER_UNARY_MISH: return x * tanh(softplus(x));
    case INFER_UNARY_SOFTPLUS: return softplus(x);
    case INFER_UNARY_SOFTSIGN: return x / (1.0 + fabs(x));
    case INFER_UNARY_EXP: return exp(x);
    case INFER_UNARY_LOG: return log(x);
    case INFER_UNARY_SQRT: return sqrt(x);
    case INFER_UNARY_NEG: return -x;
    case INFER_UNARY_ABS: return fabs(x);
    case INFER_UNARY_RECIPROCAL: return 1.0 / x;
    case INFER_UNARY_ERF: return erf(x);
    case INFER_UNARY_FLOOR: return floor(x);
    case INFER_UNARY_CEIL: return ceil(x);
    case INFER_UNARY_ROUND: return round_half_even(x);
    case INFER_UNARY_SIGN: return sign_of(x);
    case INFER_UNARY_SIN: return sin(x);
    case INFER_UNARY_COS: return cos(x);
    case INFER_UNARY_TAN: return tan(x);
    case INFER_UNARY_ASIN: return asin(x);
    case INFER_UNARY_ACOS: return acos(x);
    case INFER_UNARY_ATAN: return atan(x);
    case INFER_UNARY_SINH: return sinh(x);
    case INFER_UNARY_COSH: return cosh(x);
    case INFER_UNARY_ASINH: return asinh(x);
    case INFER_UNARY_ACOSH: return acosh(x);
    case INFER_UNARY_ATANH: return atanh(x);
    case INFER_UNARY_NOT: return x == 0.0 ? 1.0 : 0.0;
    case INFER_UNARY_IS_NAN: return isnan(x) ? 1.0 : 0.0;
    default: return x; /* NONE */
  }
}

float infer_cpu_activation(const InferActivation *act, float x) {
  if (!act || act->kind == INFER_UNARY_NONE) return x;
  return (float)unary_float(act, x);
}

/* ---- integers ------------------------------------------------------------- */

static int64_t load_int(const void *data, InferDType t, int64_t i) {
  switch (t) {
    case INFER_DTYPE_I8: return ((const int8_t *)data)[i];
    case INFER_DTYPE_U8: return ((const uint8_t *)data)[i];
    case INFER_DTYPE_I32: return ((const int32_t *)data)[i];
    case INFER_DTYPE_I64: return ((const int64_t *)data)[i];
    default: return ((const uint8_t *)data)[i] != 0; /* bool */
  }
}

/* Stores with two's-complement wraparound, as numpy does. */
static void store_int(void *data, InferDType t, int64_t i, int64_t v) {
  switch (t) {
    case INFER_DTYPE_I8: ((int8_t *)data)[i] = (int8_t)(uint8_t)(uint64_t)v; break;
    case INFER_DTYPE_U8: ((uint8_t *)data)[i] = (uint8_t)(uint64_t)v; break;
    case INFER_DTYPE_I32: ((int32_t *)data)[i] = (int32_t)(uint32_t)(uint64_t)v; break;
    case INFER_DTYPE_I64: ((int64_t *)data)[i] = v; break;
    default: ((uint8_t *)data)[i] = v != 0; break;
  }
}

/* A float bound as the nearest integer inside it (clip bounds on integers). */
static int64_t int_bound(double v, bool lower) {
  if (isnan(v)) return lower ? INT64_MIN : INT64_MAX;
  v = lower ? ceil(v) : floor(v);
  if (v <= -9223372036854775808.0) return INT64_MIN;
  if (v >= 9223372036854775807.0) return INT64_MAX;
  return (int64_t)v;
}

static int64_t unary_int(const InferUnaryParams *p, int64_t x) {
  switch (p->kind) {
    case INFER_UNARY_RELU: return x < 0 ? 0 : x;
    case INFER_UNARY_NEG: return (int64_t)(0 - (uint64_t)x);
    case INFER_UNARY_ABS: return x < 0 ? (int64_t)(0 - (uint64_t)x) : x;
    case INFER_UNARY_SIGN: return x > 0 ? 1 : (x < 0 ? -1 : 0);
    case INFER_UNARY_CLIP: {
      int64_t lo = int_bound(p->alpha, true), hi = int_bound(p->beta, false);
      x = x < lo ? lo : x;
      return x > hi ? hi : x;
    }
    case INFER_UNARY_NOT: return x == 0;
    default: return x; /* NONE */
  }
}

/* ---- dtype support -------------------------------------------------------- */

static bool is_float_kind_only(InferUnaryKind k) {
  switch (k) {
    case INFER_UNARY_NONE:
    case INFER_UNARY_RELU:
    case INFER_UNARY_NEG:
    case INFER_UNARY_ABS:
    case INFER_UNARY_SIGN:
    case INFER_UNARY_CLIP:
    case INFER_UNARY_NOT:
      return false;
    default:
      return true;
  }
}

static bool int_kind_ok(InferUnaryKind k, InferDType t) {
  if (t == INFER_DTYPE_BOOL) return k == INFER_UNARY_NONE || k == INFER_UNARY_NOT;
  if (k == INFER_UNARY_NOT) return false;
  if (t == INFER_DTYPE_U8 && (k == INFER_UNARY_NEG || k == INFER_UNARY_RELU)) return false;
  return !is_float_kind_only(k);
}

InferStatus *infer_cpu_supports_unary(const InferOpCall *call) {
  const InferUnaryParams *p = &call->params->unary;
  InferDType t = infer_call_input(call, 0)->dtype;
  if ((int)p->kind < 0 || p->kind >= INFER_UNARY_KIND_COUNT)
    return infer_status_new(INFER_ERR_UNSUPPORTED, "layer '%s' (%s): unary kind %d is not supported",
                            call->node, infer_op_name(call->op), (int)p->kind);
  if (p->kind == INFER_UNARY_NOT) {
    INFER_CPU_REQUIRE(call, 0, INFER_DTYPE_BOOL);
    return NULL;
  }
  if (infer_dtype_is_float(t)) return NULL;
  if (p->kind != INFER_UNARY_IS_NAN && p->kind != INFER_UNARY_IS_INF) {
    switch (t) {
      case INFER_DTYPE_I8: case INFER_DTYPE_U8: case INFER_DTYPE_I32: case INFER_DTYPE_I64:
      case INFER_DTYPE_BOOL:
        if (int_kind_ok(p->kind, t)) return NULL;
        break;
      default: break;
    }
  }
  return infer_status_new(INFER_ERR_UNSUPPORTED,
                          "layer '%s' (%s): %s on %s is not supported on the CPU backend",
                          call->node, infer_op_name(call->op), infer_unary_kind_name(p->kind),
                          infer_dtype_name(t));
}

InferStatus *infer_cpu_run_unary(const InferOpCall *call) {
  INFER_TRY(infer_cpu_supports_unary(call));
  const InferUnaryParams *p = &call->params->unary;
  const InferTensorView *x = &call->in[0];
  InferTensorView *y = &call->out[0];
  int64_t n = infer_shape_numel(&y->shape);
  if (infer_dtype_is_float(x->dtype)) {
    for (int64_t i = 0; i < n; i++)
      infer_cpu_store(y->data, y->dtype, i, unary_float(p, infer_cpu_load(x->data, x->dtype, i)));
  } else {
    for (int64_t i = 0; i < n; i++)
      store_int(y->data, y->dtype, i, unary_int(p, load_int(x->data, x->dtype, i)));
  }
  return NULL;
}
