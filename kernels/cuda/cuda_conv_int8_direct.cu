/* The always-available INT8 kernels: a direct convolution (one thread per
 * output element, any geometry, NCHW or NHWC, groups), the epilogue over
 * an int32 product (after cuBLASLt), the per-channel factors of cuBLASLt's
 * own INT8 epilogue, and a direct Gemm. Sums in int32;
 * on channels-last tensors whose groups hold a multiple of 4 channels,
 * four products at a time with __dp4a (exact, like the scalar loop). */
#include <cuda_runtime.h>

#include "cuda_conv_int8_epilogue.cuh"

namespace {

constexpr int kThreads = 256;

unsigned blocks_for(int64_t n) {
  int64_t b = (n + kThreads - 1) / kThreads;
  if (b < 1) b = 1;
  return (unsigned)(b > (1 << 20) ? (1 << 20) : b);
}

#define GRID_STRIDE(i, n)                                                       \
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n);     \
       i += (int64_t)blockDim.x * gridDim.x)

/* The int32 sum of output (n, co, o[3]). Channels-first: x [N, C, i0, i1,
 * i2], w [C_out, cg, k0, k1, k2]; channels-last: x [N, i0, i1, i2, C], w
 * [C_out, k0, k1, k2, cg]. */
template <bool kLast, bool kDp4a>
__device__ int32_t conv_sum(const int8_t *__restrict__ x, const int8_t *__restrict__ w,
                            const InferCudaInt8ConvGeo &g, int64_t n, int64_t co,
                            const int64_t o[3]) {
  int64_t grp = co / g.mg, c0 = grp * g.cg;
  const int8_t *wc = w + co * g.cg * g.k_size;
  int32_t acc = 0;
  for (int64_t k0 = 0; k0 < g.k[0]; k0++) {
    int64_t i0 = o[0] * g.s[0] - g.pb[0] + k0 * g.d[0];
    if (i0 < 0 || i0 >= g.in[0]) continue;
    for (int64_t k1 = 0; k1 < g.k[1]; k1++) {
      int64_t i1 = o[1] * g.s[1] - g.pb[1] + k1 * g.d[1];
      if (i1 < 0 || i1 >= g.in[1]) continue;
      for (int64_t k2 = 0; k2 < g.k[2]; k2++) {
        int64_t i2 = o[2] * g.s[2] - g.pb[2] + k2 * g.d[2];
        if (i2 < 0 || i2 >= g.in[2]) continue;
        int64_t tap = (k0 * g.k[1] + k1) * g.k[2] + k2;
        int64_t pix = ((n * g.in[0] + i0) * g.in[1] + i1) * g.in[2] + i2;
        if (kLast) {
          const int8_t *xp = x + pix * g.in_ch + c0;
          const int8_t *wp = wc + tap * g.cg;
          if (kDp4a) {
            const int *x4 = (const int *)xp, *w4 = (const int *)wp;
            for (int64_t c = 0; c < g.cg / 4; c++) acc = __dp4a(__ldg(x4 + c), __ldg(w4 + c), acc);
          } else {
            for (int64_t c = 0; c < g.cg; c++) acc += (int32_t)__ldg(xp + c) * (int32_t)__ldg(wp + c);
          }
        } else {
          int64_t plane = g.in[0] * g.in[1] * g.in[2];
          const int8_t *xp = x + (n * g.in_ch + c0) * plane + (pix - n * plane);
          for (int64_t c = 0; c < g.cg; c++)
            acc += (int32_t)__ldg(xp + c * plane) * (int32_t)__ldg(wc + c * g.k_size + tap);
        }
      }
    }
  }
  return acc;
}

template <bool kLast, bool kDp4a>
__global__ void conv_direct_kernel(const int8_t *__restrict__ x, const int8_t *__restrict__ w,
                                   void *y, int y_i8, InferCudaInt8ConvGeo g,
                                   InferCudaInt8Epilogue e, int64_t total) {
  GRID_STRIDE(i, total) {
    int64_t rest = i, n, co, o[3];
    if (kLast) {
      co = rest % g.out_ch;
      rest /= g.out_ch;
    }
    o[2] = rest % g.out[2];
    rest /= g.out[2];
    o[1] = rest % g.out[1];
    rest /= g.out[1];
    o[0] = rest % g.out[0];
    rest /= g.out[0];
    if (!kLast) {
      co = rest % g.out_ch;
      rest /= g.out_ch;
    }
    n = rest;
    int32_t acc = conv_sum<kLast, kDp4a>(x, w, g, n, co, o);
    infer_i8::Channel ch = infer_i8::channel(e, co);
    float v = infer_i8::finish(e, infer_i8::conv_value(ch, acc), i);
    infer_i8::store(y, y_i8, i, v, e.y_inv);
  }
}

__global__ void epilogue_rows_kernel(const int32_t *__restrict__ acc, int64_t rows,
                                     int64_t channels, int64_t row0, void *y, int y_i8,
                                     InferCudaInt8Epilogue e) {
  int64_t total = rows * channels;
  GRID_STRIDE(i, total) {
    int64_t c = i % channels, r = i / channels + row0, idx = row0 * channels + i;
    infer_i8::Channel ch = infer_i8::channel(e, c);
    float v = e.gemm ? infer_i8::gemm_value(e, ch, acc[i], r, c) : infer_i8::conv_value(ch, acc[i]);
    infer_i8::store(y, y_i8, idx, infer_i8::finish(e, v, idx), e.y_inv);
  }
}

__global__ void gemm_direct_kernel(const int8_t *__restrict__ a, const int8_t *__restrict__ b,
                                   void *y, int y_i8, int64_t m, int64_t n, int64_t k,
                                   int64_t a_i, int64_t a_k, int64_t b_k, int64_t b_j,
                                   InferCudaInt8Epilogue e) {
  GRID_STRIDE(idx, m * n) {
    int64_t i = idx / n, j = idx % n;
    const int8_t *ar = a + i * a_i, *bc = b + j * b_j;
    int32_t acc = 0;
    for (int64_t kk = 0; kk < k; kk++)
      acc += (int32_t)__ldg(ar + kk * a_k) * (int32_t)__ldg(bc + kk * b_k);
    infer_i8::Channel ch = infer_i8::channel(e, j);
    float v = infer_i8::gemm_value(e, ch, acc, i, j);
    infer_i8::store(y, y_i8, idx, infer_i8::finish(e, v, idx), e.y_inv);
  }
}

}  // namespace

extern "C" cudaError_t infer_cuda_conv_int8_direct(const int8_t *x, const int8_t *w, void *y,
                                                   int y_i8, const InferCudaInt8ConvGeo *g,
                                                   const InferCudaInt8Epilogue *e, void *stream) {
  int64_t total = g->batch * g->out_ch * g->out_size;
  if (total <= 0) return cudaSuccess;
  cudaStream_t s = (cudaStream_t)stream;
  /* dp4a reads 4 channels as one int: every group's first channel and the
   * channel count must keep 4-byte alignment */
  bool dp4a = g->channels_last && g->cg % 4 == 0 && g->in_ch % 4 == 0 &&
              ((uintptr_t)x % 4) == 0 && ((uintptr_t)w % 4) == 0;
  if (g->channels_last && dp4a)
    conv_direct_kernel<true, true><<<blocks_for(total), kThreads, 0, s>>>(x, w, y, y_i8, *g, *e, total);
  else if (g->channels_last)
    conv_direct_kernel<true, false><<<blocks_for(total), kThreads, 0, s>>>(x, w, y, y_i8, *g, *e, total);
  else
    conv_direct_kernel<false, false><<<blocks_for(total), kThreads, 0, s>>>(x, w, y, y_i8, *g, *e, total);
  return cudaGetLastError();
}

extern "C" cudaError_t infer_cuda_int8_epilogue_rows(const int32_t *acc, int64_t rows,
                                                     int64_t channels, int64_t row0, void *y,
                                                     int y_i8, const InferCudaInt8Epilogue *e,
                                                     void *stream) {
  if (rows <= 0 || channels <= 0) return cudaSuccess;
  epilogue_rows_kernel<<<blocks_for(rows * channels), kThreads, 0, (cudaStream_t)stream>>>(
      acc, rows, channels, row0, y, y_i8, *e);
  return cudaGetLastError();
}

/* alpha[c] = (x_scale * w_scales[c]) / y_scale, bias_out[c] = bias[c] / y_scale
 * (as products by the reciprocal, like the reference's requantization) */
__global__ void lt_channel_factors_kernel(const float *__restrict__ w_scales,
                                          const float *__restrict__ bias, float x_scale,
                                          float y_inv, int64_t n, float *__restrict__ alpha,
                                          float *__restrict__ bias_out) {
  GRID_STRIDE(c, n) {
    alpha[c] = __fmul_rn(__fmul_rn(x_scale, w_scales[c]), y_inv);
    bias_out[c] = bias ? __fmul_rn(bias[c], y_inv) : 0.0f;
  }
}

extern "C" cudaError_t infer_cuda_int8_lt_channel_factors(const InferCudaInt8Epilogue *e,
                                                          int64_t channels, float *alpha,
                                                          float *bias, void *stream) {
  if (channels <= 0) return cudaSuccess;
  lt_channel_factors_kernel<<<blocks_for(channels), kThreads, 0, (cudaStream_t)stream>>>(
      e->w_scales, e->bias, e->x_scale, e->y_inv, channels, alpha, bias);
  return cudaGetLastError();
}

extern "C" cudaError_t infer_cuda_gemm_int8_direct(const int8_t *a, const int8_t *b, void *y,
                                                   int y_i8, int64_t m, int64_t n, int64_t k,
                                                   int trans_a, int trans_b,
                                                   const InferCudaInt8Epilogue *e, void *stream) {
  if (m <= 0 || n <= 0) return cudaSuccess;
  /* element strides of op(A)[i, kk] and op(B)[kk, j] */
  int64_t a_i = trans_a ? 1 : k, a_k = trans_a ? m : 1;
  int64_t b_k = trans_b ? 1 : n, b_j = trans_b ? k : 1;
  gemm_direct_kernel<<<blocks_for(m * n), kThreads, 0, (cudaStream_t)stream>>>(
      a, b, y, y_i8, m, n, k, a_i, a_k, b_k, b_j, *e);
  return cudaGetLastError();
}
