/* Fused epilogues and helper kernels for the cuDNN / cuBLAS layers; see
 * cuda_epilogue.h. All loops are grid-stride over the output elements. */
#include "cuda_epilogue.h"

static inline cudaStream_t as_stream(void *s) { return (cudaStream_t)s; }

extern "C" bool infer_cuda_epilogue_is_noop(const InferCudaEpilogue *e) {
  return !e || (!e->bias && !e->residual && e->act.kind == INFER_UNARY_NONE);
}

/* ---- y = act(y + bias + residual) --------------------------------------- */

__global__ void epilogue_kernel(float *y, int64_t n, const float *bias, const float *res,
                                InferActivation act, int64_t channels, int64_t inner) {
  INFER_CUDA_GRID_STRIDE(i, n) {
    float v = y[i];
    if (bias) v += bias[(i / inner) % channels];
    if (res) v += res[i];
    y[i] = infer_cuda_act(act, v);
  }
}

/* Bias only, with no residual or activation: the most common conv case,
 * one block row per channel plane so no division per element. */
__global__ void bias_planes_kernel(float *y, int64_t planes, int64_t inner, const float *bias,
                                   int64_t channels, InferActivation act) {
  for (int64_t p = blockIdx.y; p < planes; p += gridDim.y) {
    float b = bias[p % channels];
    float *yp = y + p * inner;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < inner;
         i += (int64_t)gridDim.x * blockDim.x)
      yp[i] = infer_cuda_act(act, yp[i] + b);
  }
}

extern "C" cudaError_t infer_cuda_epilogue(float *y, int64_t n, const InferCudaEpilogue *e,
                                           void *stream) {
  if (n <= 0 || infer_cuda_epilogue_is_noop(e)) return cudaSuccess;
  int64_t inner = e->inner > 0 ? e->inner : 1, channels = e->channels > 0 ? e->channels : 1;
  if (e->bias && !e->residual) {
    int64_t planes = n / inner;
    unsigned gx = infer_cuda_blocks(inner);
    if (gx > 64) gx = 64;
    unsigned gy = planes > 65535 ? 65535u : (unsigned)planes;
    bias_planes_kernel<<<dim3(gx, gy), INFER_CUDA_THREADS, 0, as_stream(stream)>>>(
        y, planes, inner, e->bias, channels, e->act);
  } else {
    epilogue_kernel<<<infer_cuda_blocks(n), INFER_CUDA_THREADS, 0, as_stream(stream)>>>(
        y, n, e->bias, e->residual, e->act, channels, inner);
  }
  return cudaGetLastError();
}

/* ---- window copy (pad / crop) --------------------------------------------- */

struct WindowArgs {
  int64_t dst[3], src[3], off[3];
  int64_t planes, channels;
  const float *bias;
  InferActivation act;
  bool epilogue;
};

__global__ void window_copy_kernel(float *dst, const float *src, WindowArgs a) {
  int64_t dst_plane = a.dst[0] * a.dst[1] * a.dst[2];
  int64_t src_plane = a.src[0] * a.src[1] * a.src[2];
  int64_t n = a.planes * dst_plane;
  INFER_CUDA_GRID_STRIDE(i, n) {
    int64_t x = i % a.dst[2], t = i / a.dst[2];
    int64_t y = t % a.dst[1];
    t /= a.dst[1];
    int64_t z = t % a.dst[0], p = t / a.dst[0];
    int64_t sx = x + a.off[2], sy = y + a.off[1], sz = z + a.off[0];
    float v = 0.0f;
    if (sx >= 0 && sx < a.src[2] && sy >= 0 && sy < a.src[1] && sz >= 0 && sz < a.src[0])
      v = src[p * src_plane + (sz * a.src[1] + sy) * a.src[2] + sx];
    if (a.epilogue) {
      if (a.bias) v += a.bias[p % a.channels];
      v = infer_cuda_act(a.act, v);
    }
    dst[i] = v;
  }
}

extern "C" cudaError_t infer_cuda_window_copy(float *dst, const int64_t dst_dims[3],
                                              const float *src, const int64_t src_dims[3],
                                              const int64_t offset[3], int64_t planes,
                                              const InferCudaEpilogue *e, void *stream) {
  WindowArgs a;
  for (int i = 0; i < 3; i++) {
    a.dst[i] = dst_dims[i];
    a.src[i] = src_dims[i];
    a.off[i] = offset[i];
  }
  a.planes = planes;
  a.epilogue = !infer_cuda_epilogue_is_noop(e);
  a.bias = a.epilogue ? e->bias : NULL;
  a.channels = a.epilogue && e->channels > 0 ? e->channels : 1;
  a.act = e ? e->act : InferActivation{INFER_UNARY_NONE, 0.0f, 0.0f};
  int64_t n = planes * dst_dims[0] * dst_dims[1] * dst_dims[2];
  if (n <= 0) return cudaSuccess;
  window_copy_kernel<<<infer_cuda_blocks(n), INFER_CUDA_THREADS, 0, as_stream(stream)>>>(dst, src,
                                                                                         a);
  return cudaGetLastError();
}

/* ---- Gemm's C ------------------------------------------------------------- */

__global__ void broadcast_2d_kernel(float *y, int64_t m, int64_t n, const float *c, int64_t s0,
                                    int64_t s1, float beta) {
  INFER_CUDA_GRID_STRIDE(i, m * n) {
    int64_t r = i / n, col = i % n;
    y[i] = beta * c[r * s0 + col * s1];
  }
}

extern "C" cudaError_t infer_cuda_broadcast_2d(float *y, int64_t m, int64_t n, const float *c,
                                               int64_t s0, int64_t s1, float beta,
                                               void *stream) {
  if (m * n <= 0) return cudaSuccess;
  broadcast_2d_kernel<<<infer_cuda_blocks(m * n), INFER_CUDA_THREADS, 0, as_stream(stream)>>>(
      y, m, n, c, s0, s1, beta);
  return cudaGetLastError();
}

/* ---- MatMul batch pointers ------------------------------------------------ */

__global__ void batch_pointers_kernel(const float **ap, const float **bp, float **yp,
                                      const float *a, const float *b, float *y, int64_t batches,
                                      InferCudaBatchMap map) {
  INFER_CUDA_GRID_STRIDE(i, batches) {
    int64_t oa = 0, ob = 0, t = i;
    for (int d = map.rank - 1; d >= 0; d--) {
      int64_t c = t % map.dims[d];
      t /= map.dims[d];
      oa += c * map.sa[d];
      ob += c * map.sb[d];
    }
    ap[i] = a + oa * map.a_mat;
    bp[i] = b + ob * map.b_mat;
    yp[i] = y + i * map.y_mat;
  }
}

extern "C" cudaError_t infer_cuda_batch_pointers(const float **a_ptrs, const float **b_ptrs,
                                                 float **y_ptrs, const float *a, const float *b,
                                                 float *y, int64_t batches,
                                                 const InferCudaBatchMap *map, void *stream) {
  if (batches <= 0) return cudaSuccess;
  batch_pointers_kernel<<<infer_cuda_blocks(batches), INFER_CUDA_THREADS, 0,
                          as_stream(stream)>>>(a_ptrs, b_ptrs, y_ptrs, a, b, y, batches, *map);
  return cudaGetLastError();
}
