// The sample plugin's CUDA kernel: y = alpha * x / (1 + |x|), f32 or f16
// (computed in f32).
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "scaled_softsign.h"

template <typename T> __device__ float load(const T *p, int64_t i);
template <> __device__ float load<float>(const float *p, int64_t i) { return p[i]; }
template <> __device__ float load<__half>(const __half *p, int64_t i) { return __half2float(p[i]); }

template <typename T> __device__ void store(T *p, int64_t i, float v);
template <> __device__ void store<float>(float *p, int64_t i, float v) { p[i] = v; }
template <> __device__ void store<__half>(__half *p, int64_t i, float v) { p[i] = __float2half(v); }

template <typename T>
__global__ void scaled_softsign_kernel(const T *x, T *y, int64_t n, float alpha) {
  // grid-stride: any n with a bounded grid
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
       i += (int64_t)gridDim.x * blockDim.x) {
    float v = load(x, i);
    store(y, i, alpha * v / (1.0f + fabsf(v)));
  }
}

extern "C" int scaled_softsign_cuda(const void *x, void *y, int64_t n, float alpha, int half,
                                    void *stream, const char **error) {
  if (n <= 0) return 0;
  const int threads = 256;
  int64_t want = (n + threads - 1) / threads;
  int blocks = want > 65535 ? 65535 : (int)want;
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  if (half)
    scaled_softsign_kernel<__half><<<blocks, threads, 0, s>>>(static_cast<const __half *>(x),
                                                              static_cast<__half *>(y), n, alpha);
  else
    scaled_softsign_kernel<float><<<blocks, threads, 0, s>>>(static_cast<const float *>(x),
                                                             static_cast<float *>(y), n, alpha);
  cudaError_t err = cudaGetLastError();
  if (error) *error = cudaGetErrorString(err);
  return (int)err;
}
