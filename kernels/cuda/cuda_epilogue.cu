/* Fused epilogues and helper kernels for the cuDNN / cuBLAS layers; see
 * cuda_epilogue.h. All loops are grid-stride over the output elements;
 * F16 tensors are computed in float and rounded once on the store. */
#include <cuda_fp16.h>

#include "cuda_channel_vec.cuh"
#include "cuda_epilogue.h"

static inline cudaStream_t as_stream(void *s) { return (cudaStream_t)s; }

static __device__ __forceinline__ float ld(const float *p, int64_t i) { return p[i]; }
static __device__ __forceinline__ float ld(const __half *p, int64_t i) {
  return __half2float(p[i]);
}
static __device__ __forceinline__ void st(float *p, int64_t i, float v) { p[i] = v; }
static __device__ __forceinline__ void st(__half *p, int64_t i, float v) {
  p[i] = __float2half_rn(v);
}

static bool is_half(InferDType t) { return t == INFER_DTYPE_F16; }

extern "C" bool infer_cuda_epilogue_is_noop(const InferCudaEpilogue *e) {
  return !e || (!e->bias && !e->residual && e->act.kind == INFER_UNARY_NONE);
}

/* ---- y = act(y + bias + residual) --------------------------------------- */

/* I is int where every index fits (64-bit division per element made the
 * pass after a cuDNN convolution with ReLU6 cost 2 ms where the data moves
 * in 0.6 ms: MobileNetV2's expansion layers at batch 256 on the H200),
 * int64_t otherwise. */
template <typename T, typename I>
__global__ void epilogue_kernel(T *y, I n, const T *bias, const T *res, InferActivation act,
                                I channels, I inner) {
  for (I i = (I)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (I)gridDim.x * blockDim.x) {
    float v = ld(y, i);
    if (bias) v += ld(bias, (i / inner) % channels);
    if (res) v += ld(res, i);
    st(y, i, infer_cuda_act(act, v));
  }
}

/* Channels-last (the channel innermost, inner == 1): VEC adjacent channels
 * per thread, one vector load and store (cuda_channel_vec.cuh). */
template <typename T, int VEC, typename I>
__global__ void epilogue_nhwc_kernel(T *y, I n_vec, const T *bias, const T *res,
                                     InferActivation act, I groups) {
  typedef InferChannelVec<T, VEC> Vec;
  for (I i = (I)blockIdx.x * blockDim.x + threadIdx.x; i < n_vec;
       i += (I)gridDim.x * blockDim.x) {
    Vec v = ((const Vec *)y)[i], r, out;
    if (res) r = ((const Vec *)res)[i];
    I c0 = (i % groups) * VEC;
#pragma unroll
    for (int k = 0; k < VEC; k++) {
      float f = ld(v.v, k);
      if (bias) f += ld(bias, c0 + k);
      if (res) f += ld(r.v, k);
      st(out.v, k, infer_cuda_act(act, f));
    }
    ((Vec *)y)[i] = out;
  }
}

template <typename T, typename I>
static void elementwise_launch(T *y, int64_t n, const T *bias, const T *res, InferActivation act,
                               int64_t channels, int64_t inner, cudaStream_t s) {
  const int vec = (int)(16 / sizeof(T));
  if (inner == 1 && n % vec == 0 &&
      infer_channel_vec_width<T>(channels, (uintptr_t)y | (uintptr_t)res) == vec) {
    int64_t nv = n / vec;
    epilogue_nhwc_kernel<T, 16 / sizeof(T), I><<<infer_cuda_blocks(nv), INFER_CUDA_THREADS, 0, s>>>(
        y, (I)nv, bias, res, act, (I)(channels / vec));
    return;
  }
  epilogue_kernel<T, I><<<infer_cuda_blocks(n), INFER_CUDA_THREADS, 0, s>>>(
      y, (I)n, bias, res, act, (I)channels, (I)inner);
}

/* Bias only, with no residual or activation: the most common conv case,
 * one block row per channel plane so no division per element. */
template <typename T>
__global__ void bias_planes_kernel(T *y, int64_t planes, int64_t inner, const T *bias,
                                   int64_t channels, InferActivation act) {
  for (int64_t p = blockIdx.y; p < planes; p += gridDim.y) {
    float b = ld(bias, p % channels);
    T *yp = y + p * inner;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < inner;
         i += (int64_t)gridDim.x * blockDim.x)
      st(yp, i, infer_cuda_act(act, ld(yp, i) + b));
  }
}

template <typename T>
static void epilogue_launch(T *y, int64_t n, const InferCudaEpilogue *e, int64_t channels,
                            int64_t inner, cudaStream_t s) {
  const T *bias = (const T *)e->bias, *res = (const T *)e->residual;
  if (bias && !res && inner > 1) {
    int64_t planes = n / inner;
    unsigned gx = infer_cuda_blocks(inner);
    if (gx > 64) gx = 64;
    unsigned gy = planes > 65535 ? 65535u : (unsigned)planes;
    bias_planes_kernel<T><<<dim3(gx, gy), INFER_CUDA_THREADS, 0, s>>>(y, planes, inner, bias,
                                                                      channels, e->act);
  } else if (infer_fits_int32(n)) {
    elementwise_launch<T, int>(y, n, bias, res, e->act, channels, inner, s);
  } else {
    elementwise_launch<T, int64_t>(y, n, bias, res, e->act, channels, inner, s);
  }
}

extern "C" cudaError_t infer_cuda_epilogue(void *y, int64_t n, const InferCudaEpilogue *e,
                                           void *stream) {
  if (n <= 0 || infer_cuda_epilogue_is_noop(e)) return cudaSuccess;
  int64_t inner = e->inner > 0 ? e->inner : 1, channels = e->channels > 0 ? e->channels : 1;
  if (is_half(e->dtype))
    epilogue_launch<__half>((__half *)y, n, e, channels, inner, as_stream(stream));
  else
    epilogue_launch<float>((float *)y, n, e, channels, inner, as_stream(stream));
  return cudaGetLastError();
}

/* ---- window copy (pad / crop) --------------------------------------------- */

struct WindowArgs {
  int64_t dst[3], src[3], off[3];
  int64_t planes, images, channels;
  const void *bias;
  InferActivation act;
  bool epilogue, channels_last;
};

template <typename T>
__global__ void window_copy_kernel(T *dst, const T *src, WindowArgs a) {
  int64_t dst_plane = a.dst[0] * a.dst[1] * a.dst[2];
  int64_t src_plane = a.src[0] * a.src[1] * a.src[2];
  int64_t n = (a.channels_last ? a.images : 1) * a.planes * dst_plane;
  INFER_CUDA_GRID_STRIDE(i, n) {
    int64_t p, t;
    if (a.channels_last) {
      p = i % a.planes; /* the channel */
      t = i / a.planes;
    } else {
      t = i;
    }
    int64_t x = t % a.dst[2];
    t /= a.dst[2];
    int64_t y = t % a.dst[1];
    t /= a.dst[1];
    int64_t z = t % a.dst[0];
    t /= a.dst[0];
    if (!a.channels_last) p = t;
    int64_t sx = x + a.off[2], sy = y + a.off[1], sz = z + a.off[0];
    float v = 0.0f;
    if (sx >= 0 && sx < a.src[2] && sy >= 0 && sy < a.src[1] && sz >= 0 && sz < a.src[0]) {
      int64_t pos = (sz * a.src[1] + sy) * a.src[2] + sx;
      v = a.channels_last ? ld(src, (t * src_plane + pos) * a.planes + p)
                          : ld(src, p * src_plane + pos);
    }
    if (a.epilogue) {
      if (a.bias) v += ld((const T *)a.bias, p % a.channels);
      v = infer_cuda_act(a.act, v);
    }
    st(dst, i, v);
  }
}

extern "C" cudaError_t infer_cuda_window_copy(void *dst, const void *src,
                                              const InferCudaWindow *w,
                                              const InferCudaEpilogue *e, void *stream) {
  WindowArgs a;
  for (int i = 0; i < 3; i++) {
    a.dst[i] = w->dst_dims[i];
    a.src[i] = w->src_dims[i];
    a.off[i] = w->offset[i];
  }
  a.planes = w->planes;
  a.images = w->images > 0 ? w->images : 1;
  a.channels_last = w->channels_last;
  a.epilogue = !infer_cuda_epilogue_is_noop(e);
  a.bias = a.epilogue ? e->bias : NULL;
  a.channels = a.epilogue && e->channels > 0 ? e->channels : 1;
  a.act = e ? e->act : InferActivation{INFER_UNARY_NONE, 0.0f, 0.0f};
  int64_t n = (a.channels_last ? a.images : 1) * a.planes * a.dst[0] * a.dst[1] * a.dst[2];
  if (n <= 0) return cudaSuccess;
  unsigned blocks = infer_cuda_blocks(n);
  if (is_half(w->dtype))
    window_copy_kernel<__half><<<blocks, INFER_CUDA_THREADS, 0, as_stream(stream)>>>(
        (__half *)dst, (const __half *)src, a);
  else
    window_copy_kernel<float><<<blocks, INFER_CUDA_THREADS, 0, as_stream(stream)>>>(
        (float *)dst, (const float *)src, a);
  return cudaGetLastError();
}

/* ---- Gemm's C ------------------------------------------------------------- */

template <typename T>
__global__ void broadcast_2d_kernel(T *y, int64_t m, int64_t n, const T *c, int64_t s0,
                                    int64_t s1, float beta) {
  INFER_CUDA_GRID_STRIDE(i, m * n) {
    int64_t r = i / n, col = i % n;
    st(y, i, beta * ld(c, r * s0 + col * s1));
  }
}

extern "C" cudaError_t infer_cuda_broadcast_2d(void *y, InferDType dtype, int64_t m, int64_t n,
                                               const void *c, int64_t s0, int64_t s1,
                                               float beta, void *stream) {
  if (m * n <= 0) return cudaSuccess;
  unsigned blocks = infer_cuda_blocks(m * n);
  if (is_half(dtype))
    broadcast_2d_kernel<__half><<<blocks, INFER_CUDA_THREADS, 0, as_stream(stream)>>>(
        (__half *)y, m, n, (const __half *)c, s0, s1, beta);
  else
    broadcast_2d_kernel<float><<<blocks, INFER_CUDA_THREADS, 0, as_stream(stream)>>>(
        (float *)y, m, n, (const float *)c, s0, s1, beta);
  return cudaGetLastError();
}

/* ---- MatMul batch pointers ------------------------------------------------ */

__global__ void batch_pointers_kernel(const char **ap, const char **bp, char **yp, const char *a,
                                      const char *b, char *y, size_t elem, int64_t batches,
                                      InferCudaBatchMap map) {
  INFER_CUDA_GRID_STRIDE(i, batches) {
    int64_t oa = 0, ob = 0, t = i;
    for (int d = map.rank - 1; d >= 0; d--) {
      int64_t c = t % map.dims[d];
      t /= map.dims[d];
      oa += c * map.sa[d];
      ob += c * map.sb[d];
    }
    ap[i] = a + (size_t)(oa * map.a_mat) * elem;
    bp[i] = b + (size_t)(ob * map.b_mat) * elem;
    yp[i] = y + (size_t)(i * map.y_mat) * elem;
  }
}

extern "C" cudaError_t infer_cuda_batch_pointers(const void **a_ptrs, const void **b_ptrs,
                                                 void **y_ptrs, const void *a, const void *b,
                                                 void *y, size_t elem, int64_t batches,
                                                 const InferCudaBatchMap *map, void *stream) {
  if (batches <= 0) return cudaSuccess;
  batch_pointers_kernel<<<infer_cuda_blocks(batches), INFER_CUDA_THREADS, 0,
                          as_stream(stream)>>>((const char **)a_ptrs, (const char **)b_ptrs,
                                               (char **)y_ptrs, (const char *)a,
                                               (const char *)b, (char *)y, elem, batches, *map);
  return cudaGetLastError();
}
