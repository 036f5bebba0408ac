/* Quantize / Dequantize on the CUDA backend: elementwise, symmetric (zero
 * point 0), one scale per tensor or per channel along an axis, the same
 * semantics as the CPU reference (kernels/cpu/quantize.c): Quantize
 * rounds x / scale half to even (__float2int_rn) and saturates to
 * [-128, 127], NaN giving 0; Dequantize multiplies i8 or i32 by the scale.
 * The scales are a device tensor (a constant of the engine), read per
 * element. INT8 Conv / Gemm are in cuda_conv_int8*.{c,cu} and
 * cuda_gemm_int8.c. */
#include <cuda_fp16.h>

#include "cuda_common.cuh"

using namespace infer_cu;

#define GRID_STRIDE INFER_CU_GRID_STRIDE
#define STREAM ((cudaStream_t)exec->stream)

namespace {

__device__ __forceinline__ int8_t saturate_round(float v) {
  if (!(v == v)) return 0;
  v = fminf(fmaxf(v, -128.0f), 127.0f);
  return (int8_t)__float2int_rn(v);
}

__device__ __forceinline__ float load_float(const float *x, int64_t i) { return x[i]; }
__device__ __forceinline__ float load_float(const uint16_t *x, int64_t i) {
  return __half2float(__ushort_as_half(x[i]));
}

/* Per element: scale index (i / inner) % channels (channels 1: one scale). */
template <typename T>
__global__ void quantize_kernel(const T *__restrict__ x, const float *__restrict__ scale,
                                int8_t *__restrict__ y, int64_t n, int64_t inner,
                                int64_t channels) {
  GRID_STRIDE(i, n) {
    float s = scale[channels > 1 ? (i / inner) % channels : 0];
    y[i] = saturate_round(load_float(x, i) / s);
  }
}

template <typename T>
__global__ void dequantize_kernel(const T *__restrict__ x, const float *__restrict__ scale,
                                  float *__restrict__ y, int64_t n, int64_t inner,
                                  int64_t channels) {
  GRID_STRIDE(i, n) {
    y[i] = (float)x[i] * scale[channels > 1 ? (i / inner) % channels : 0];
  }
}

void scale_layout(const InferOpCall *c, int64_t *inner, int64_t *channels) {
  const InferShape *xs = &c->in[0].shape;
  *inner = 1;
  *channels = 1;
  if (infer_shape_numel(&c->in[1].shape) == 1) return;
  int64_t axis = c->params->quantize.axis;
  if (axis < 0) axis += xs->rank;
  *channels = xs->d[axis];
  for (int i = (int)axis + 1; i < xs->rank; i++) *inner *= xs->d[i];
}

}  // namespace

extern "C" {

InferStatus *infer_cuda_supports_quantize(const InferOpCall *c) {
  InferDType x = infer_call_input(c, 0)->dtype;
  if (x != INFER_DTYPE_F32 && x != INFER_DTYPE_F16) return bad_dtype(c, 0);
  if (infer_call_input(c, 1)->dtype != INFER_DTYPE_F32) return bad_dtype(c, 1);
  if (c->n_out > 0 && c->out[0].dtype != INFER_DTYPE_I8) return not_here(c, "an output other than i8");
  return NULL;
}

InferStatus *infer_cuda_run_quantize(const InferOpCall *c, const InferCudaExec *exec) {
  int64_t n = infer_shape_numel(&c->out[0].shape), inner, channels;
  if (n <= 0) return NULL;
  scale_layout(c, &inner, &channels);
  const float *s = (const float *)c->in[1].data;
  int8_t *y = (int8_t *)c->out[0].data;
  if (c->in[0].dtype == INFER_DTYPE_F16)
    quantize_kernel<<<blocks_for(n), kThreads, 0, STREAM>>>((const uint16_t *)c->in[0].data, s, y,
                                                            n, inner, channels);
  else
    quantize_kernel<<<blocks_for(n), kThreads, 0, STREAM>>>((const float *)c->in[0].data, s, y, n,
                                                            inner, channels);
  return launched(c, "the quantize kernel");
}

size_t infer_cuda_workspace_quantize(const InferOpCall *c) {
  (void)c;
  return 0;
}

InferStatus *infer_cuda_supports_dequantize(const InferOpCall *c) {
  InferDType x = infer_call_input(c, 0)->dtype;
  if (x != INFER_DTYPE_I8 && x != INFER_DTYPE_I32) return bad_dtype(c, 0);
  if (infer_call_input(c, 1)->dtype != INFER_DTYPE_F32) return bad_dtype(c, 1);
  if (c->n_out > 0 && c->out[0].dtype != INFER_DTYPE_F32)
    return not_here(c, "an output other than f32");
  return NULL;
}

InferStatus *infer_cuda_run_dequantize(const InferOpCall *c, const InferCudaExec *exec) {
  int64_t n = infer_shape_numel(&c->out[0].shape), inner, channels;
  if (n <= 0) return NULL;
  scale_layout(c, &inner, &channels);
  const float *s = (const float *)c->in[1].data;
  float *y = (float *)c->out[0].data;
  if (c->in[0].dtype == INFER_DTYPE_I32)
    dequantize_kernel<<<blocks_for(n), kThreads, 0, STREAM>>>((const int32_t *)c->in[0].data, s,
                                                              y, n, inner, channels);
  else
    dequantize_kernel<<<blocks_for(n), kThreads, 0, STREAM>>>((const int8_t *)c->in[0].data, s, y,
                                                              n, inner, channels);
  return launched(c, "the dequantize kernel");
}

size_t infer_cuda_workspace_dequantize(const InferOpCall *c) {
  (void)c;
  return 0;
}

}  // extern "C"
