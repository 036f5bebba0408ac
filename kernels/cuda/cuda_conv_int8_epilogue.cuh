/* The INT8 epilogue on the device, shared by every INT8 Conv / Gemm kernel:
 * the CPU reference's float expression (kernels/cpu/quantize.c) with each
 * product and sum rounded on its own (__fmul_rn / __fadd_rn are never
 * contracted into an FMA, which would round once and differ), the same
 * multiply by the reciprocal of the output scale, round half to even
 * (__float2int_rn) and saturation, NaN giving 0. The activation is infer_cuda_act, the device
 * twin of infer_cpu_activation. CUDA C++ only. */
#ifndef INFER_CUDA_CONV_INT8_EPILOGUE_CUH
#define INFER_CUDA_CONV_INT8_EPILOGUE_CUH

#include <stdint.h>

#include "cuda_conv_int8.h"
#include "cuda_epilogue.h"

namespace infer_i8 {

/* Round half to even, then saturate: the conversion itself saturates to
 * the int range and gives 0 for NaN (PTX cvt.rni.s32.f32), the clamp to the
 * int8 range follows; the same result as clamping first, bounds being
 * integers. */
__device__ __forceinline__ int saturate_round_int(float v) {
  return min(max(__float2int_rn(v), -128), 127);
}

__device__ __forceinline__ int8_t saturate_round(float v) { return (int8_t)saturate_round_int(v); }

/* Byte k (0..3) of a word as a signed value. */
__device__ __forceinline__ int byte_s8(unsigned w, int k) { return (int)(int8_t)(w >> (8 * k)); }

/* Per output channel: x_scale * w_scales[c] and the bias (0 when absent,
 * added all the same: the reference adds +0.0f, which turns -0 into +0). */
struct Channel {
  float k, b;
};

__device__ __forceinline__ Channel channel(const InferCudaInt8Epilogue &e, int64_t c) {
  Channel ch;
  ch.k = __fmul_rn(e.x_scale, __ldg(e.w_scales + c));
  ch.b = e.bias ? __ldg(e.bias + c) : 0.0f;
  return ch;
}

/* v before the residual: conv acc * k + b; gemm alpha * (acc * k) + beta * C. */
__device__ __forceinline__ float conv_value(const Channel &ch, int32_t acc) {
  return __fadd_rn(__fmul_rn(__int2float_rn(acc), ch.k), ch.b);
}

__device__ __forceinline__ float gemm_value(const InferCudaInt8Epilogue &e, const Channel &ch,
                                            int32_t acc, int64_t i, int64_t j) {
  float v = __fmul_rn(e.alpha, __fmul_rn(__int2float_rn(acc), ch.k));
  if (e.c) v = __fadd_rn(v, __fmul_rn(e.beta, e.c[i * e.c_stride[0] + j * e.c_stride[1]]));
  return v;
}

/* Residual element `idx` (the output's index), then the activation. */
__device__ __forceinline__ float finish(const InferCudaInt8Epilogue &e, float v, int64_t idx) {
  if (e.residual) {
    if (e.residual_i8)
      v = __fadd_rn(v, __fmul_rn((float)((const int8_t *)e.residual)[idx], e.residual_scale));
    else
      v = __fadd_rn(v, ((const float *)e.residual)[idx]);
  }
  if (e.act.kind != INFER_UNARY_NONE) v = infer_cuda_act(e.act, v);
  return v;
}

/* y_inv: 1 / y_scale (InferCudaInt8Epilogue.y_inv). */
__device__ __forceinline__ void store(void *y, int y_i8, int64_t idx, float v, float y_inv) {
  if (y_i8) ((int8_t *)y)[idx] = saturate_round(__fmul_rn(v, y_inv));
  else ((float *)y)[idx] = v;
}

}  // namespace infer_i8

#endif
