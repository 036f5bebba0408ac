/* The float formulas of the elementwise ops on the device, shared by the
 * Unary/Binary kernels (cuda_elementwise.cu) and the fused pointwise
 * programs (cuda_pointwise.cu), so a fused chain computes exactly what the
 * unfused layers do. Twins of the CPU reference (kernels/cpu/unary.c,
 * binary.c), which device code cannot call. CUDA C++ only. */
#ifndef INFER_CUDA_FLOAT_MATH_CUH
#define INFER_CUDA_FLOAT_MATH_CUH

#include <math.h>

#include "infer/ops.h"

namespace infer_cu {

__device__ __forceinline__ float clamp01(float v) { return v < 0.f ? 0.f : (v > 1.f ? 1.f : v); }
__device__ __forceinline__ float softplus(float x) {
  return x > 0.f ? x + log1pf(expf(-x)) : log1pf(expf(x));
}
__device__ __forceinline__ float sigmoid(float x) { return 1.f / (1.f + expf(-x)); }

__device__ __forceinline__ float unary_float(int kind, float a, float b, float x) {
  switch (kind) {
    case INFER_UNARY_RELU: return x < 0.f ? 0.f : x;
    case INFER_UNARY_LEAKY_RELU: return x < 0.f ? a * x : x;
    case INFER_UNARY_CLIP: x = x < a ? a : x; return x > b ? b : x;
    case INFER_UNARY_SIGMOID: return sigmoid(x);
    case INFER_UNARY_HARD_SIGMOID: return isnan(x) ? x : clamp01(a * x + b);
    case INFER_UNARY_HARD_SWISH: return isnan(x) ? x : x * clamp01(x / 6.f + 0.5f);
    case INFER_UNARY_TANH: return tanhf(x);
    case INFER_UNARY_GELU:
      if (a != 0.f)
        return 0.5f * x * (1.f + tanhf(0.7978845608028654f * (x + 0.044715f * x * x * x)));
      return 0.5f * x * (1.f + erff(x * 0.7071067811865476f));
    case INFER_UNARY_SILU: return x * sigmoid(x);
    case INFER_UNARY_MISH: return x * tanhf(softplus(x));
    case INFER_UNARY_ELU: return x < 0.f ? a * expm1f(x) : x;
    case INFER_UNARY_SELU: return x <= 0.f ? b * a * expm1f(x) : b * x;
    case INFER_UNARY_CELU:
      return isnan(x) ? x : (x > 0.f ? x : 0.f) + fminf(0.f, a * expm1f(x / a));
    case INFER_UNARY_SOFTPLUS: return softplus(x);
    case INFER_UNARY_SOFTSIGN: return x / (1.f + fabsf(x));
    case INFER_UNARY_THRESHOLDED_RELU: return x > a ? x : 0.f;
    case INFER_UNARY_SHRINK: return x < -b ? x + a : (x > b ? x - a : 0.f);
    case INFER_UNARY_EXP: return expf(x);
    case INFER_UNARY_LOG: return logf(x);
    case INFER_UNARY_SQRT: return sqrtf(x);
    case INFER_UNARY_NEG: return -x;
    case INFER_UNARY_ABS: return fabsf(x);
    case INFER_UNARY_RECIPROCAL: return 1.f / x;
    case INFER_UNARY_ERF: return erff(x);
    case INFER_UNARY_FLOOR: return floorf(x);
    case INFER_UNARY_CEIL: return ceilf(x);
    case INFER_UNARY_ROUND: return rintf(x); /* half to even */
    case INFER_UNARY_SIGN: return isnan(x) ? x : (x > 0.f ? 1.f : (x < 0.f ? -1.f : 0.f));
    case INFER_UNARY_SIN: return sinf(x);
    case INFER_UNARY_COS: return cosf(x);
    case INFER_UNARY_TAN: return tanf(x);
    case INFER_UNARY_ASIN: return asinf(x);
    case INFER_UNARY_ACOS: return acosf(x);
    case INFER_UNARY_ATAN: return atanf(x);
    case INFER_UNARY_SINH: return sinhf(x);
    case INFER_UNARY_COSH: return coshf(x);
    case INFER_UNARY_ASINH: return asinhf(x);
    case INFER_UNARY_ACOSH: return acoshf(x);
    case INFER_UNARY_ATANH: return atanhf(x);
    case INFER_UNARY_NOT: return x == 0.f ? 1.f : 0.f;
    case INFER_UNARY_IS_NAN: return isnan(x) ? 1.f : 0.f;
    case INFER_UNARY_IS_INF:
      return ((a != 0.f && isinf(x) && x > 0.f) || (b != 0.f && isinf(x) && x < 0.f)) ? 1.f : 0.f;
    default: return x; /* NONE */
  }
}

__device__ __forceinline__ float binary_float(int k, float a, float b) {
  switch (k) {
    case INFER_BINARY_ADD: return a + b;
    case INFER_BINARY_SUB: return a - b;
    case INFER_BINARY_MUL: return a * b;
    case INFER_BINARY_DIV: return a / b;
    case INFER_BINARY_POW: return powf(a, b);
    case INFER_BINARY_MIN: return isnan(a) || isnan(b) ? a + b : (a < b ? a : b);
    case INFER_BINARY_MAX: return isnan(a) || isnan(b) ? a + b : (a > b ? a : b);
    case INFER_BINARY_MOD: {
      float r = fmodf(a, b);
      if (r != 0.f && (r < 0.f) != (b < 0.f)) r += b;
      return r;
    }
    case INFER_BINARY_FMOD: return fmodf(a, b);
    case INFER_BINARY_PRELU: return a < 0.f ? a * b : a;
    case INFER_BINARY_EQUAL: return a == b;
    case INFER_BINARY_GREATER: return a > b;
    case INFER_BINARY_GREATER_EQUAL: return a >= b;
    case INFER_BINARY_LESS: return a < b;
    case INFER_BINARY_LESS_EQUAL: return a <= b;
    default: return 0.f;
  }
}

}  // namespace infer_cu

#endif
