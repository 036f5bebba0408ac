/* Depthwise 2-D convolution (group = input channels = output channels) on
 * channels-last tensors, with bias, residual and the fused activation: one
 * thread per output element, adjacent threads on adjacent channels, so
 * every tap is a coalesced read. The layer is memory-bound (a few taps per
 * output), where cuDNN's generic grouped algorithms lose most (MobileNets).
 * Accumulates in float for f16 too. One of the convolution tactics. */
#include <cuda_fp16.h>

#include "conv_geometry.h"
#include "cuda_conv_depthwise.h"
#include "cuda_epilogue.h"

namespace {

struct DwArgs {
  int64_t n, h, w, c;          /* input [n, h, w, c] */
  int64_t oh, ow;              /* output [n, oh, ow, c] */
  int64_t kh, kw, sh, sw, dh, dw, ph, pw;
  InferActivation act;
};

__device__ __forceinline__ float ld(const float *p, int64_t i) { return p[i]; }
__device__ __forceinline__ float ld(const __half *p, int64_t i) { return __half2float(p[i]); }
__device__ __forceinline__ void st(float *p, int64_t i, float v) { p[i] = v; }
__device__ __forceinline__ void st(__half *p, int64_t i, float v) { p[i] = __float2half_rn(v); }

/* w is [c, kh, kw, 1] (channels-last weights of a depthwise layer). */
template <typename T>
__global__ void depthwise_kernel(const T *__restrict__ x, const T *__restrict__ w,
                                 const T *__restrict__ bias, const T *__restrict__ res,
                                 T *__restrict__ y, DwArgs a) {
  int64_t total = a.n * a.oh * a.ow * a.c;
  INFER_CUDA_GRID_STRIDE(i, total) {
    int64_t ch = i % a.c, t = i / a.c;
    int64_t ox = t % a.ow;
    t /= a.ow;
    int64_t oy = t % a.oh, img = t / a.oh;
    float acc = bias ? ld(bias, ch) : 0.0f;
    const T *xi = x + img * a.h * a.w * a.c + ch;
    const T *wc = w + ch * a.kh * a.kw;
    for (int64_t ky = 0; ky < a.kh; ky++) {
      int64_t iy = oy * a.sh - a.ph + ky * a.dh;
      if (iy < 0 || iy >= a.h) continue;
      for (int64_t kx = 0; kx < a.kw; kx++) {
        int64_t ix = ox * a.sw - a.pw + kx * a.dw;
        if (ix < 0 || ix >= a.w) continue;
        acc += ld(xi, (iy * a.w + ix) * a.c) * ld(wc, ky * a.kw + kx);
      }
    }
    if (res) acc += ld(res, i);
    st(y, i, infer_cuda_act(a.act, acc));
  }
}

/* The same in 32-bit index arithmetic with VEC adjacent channels per
 * thread (one 16-byte load per tap where the channels allow it): the
 * kernel above spends most of its time in 64-bit divisions and scalar
 * loads (2.5 ms for a 3x3 layer of MobileNetV2 at 112x112x32, batch 256,
 * on the H200, where the data moves in a tenth of that). */
template <typename T, int VEC>
struct DwVec {
  T v[VEC];
};

struct DwArgs32 {
  int n, h, w, c, oh, ow, kh, kw, sh, sw, dh, dw, ph, pw;
  InferActivation act;
};

template <typename T, int VEC>
__global__ void depthwise_vec_kernel(const T *__restrict__ x, const T *__restrict__ w,
                                     const T *__restrict__ bias, const T *__restrict__ res,
                                     T *__restrict__ y, DwArgs32 a) {
  int groups = a.c / VEC;
  int total = a.n * a.oh * a.ow * groups;
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
    int g = i % groups, t = i / groups;
    int ox = t % a.ow;
    t /= a.ow;
    int oy = t % a.oh, img = t / a.oh;
    int ch = g * VEC;
    float acc[VEC];
#pragma unroll
    for (int v = 0; v < VEC; v++) acc[v] = bias ? ld(bias, ch + v) : 0.0f;
    const T *xi = x + (size_t)img * a.h * a.w * a.c + ch;
    const T *wc = w + (size_t)ch * a.kh * a.kw;
    int taps = a.kh * a.kw;
    for (int ky = 0; ky < a.kh; ky++) {
      int iy = oy * a.sh - a.ph + ky * a.dh;
      if (iy < 0 || iy >= a.h) continue;
      for (int kx = 0; kx < a.kw; kx++) {
        int ix = ox * a.sw - a.pw + kx * a.dw;
        if (ix < 0 || ix >= a.w) continue;
        DwVec<T, VEC> in = *(const DwVec<T, VEC> *)(xi + ((size_t)iy * a.w + ix) * a.c);
        int tap = ky * a.kw + kx;
#pragma unroll
        for (int v = 0; v < VEC; v++) acc[v] += ld(in.v, v) * ld(wc, v * taps + tap);
      }
    }
    size_t o = (size_t)i * VEC;
    DwVec<T, VEC> out;
    if (res) {
      DwVec<T, VEC> r = *(const DwVec<T, VEC> *)(res + o);
#pragma unroll
      for (int v = 0; v < VEC; v++) acc[v] += ld(r.v, v);
    }
#pragma unroll
    for (int v = 0; v < VEC; v++) st(out.v, v, infer_cuda_act(a.act, acc[v]));
    *(DwVec<T, VEC> *)(y + o) = out;
  }
}

template <typename T, int VEC>
void launch_vec(const DwArgs32 &a, const void *x, const void *w, const void *bias, const void *res,
                void *y, cudaStream_t s) {
  int64_t total = (int64_t)a.n * a.oh * a.ow * (a.c / VEC);
  depthwise_vec_kernel<T, VEC><<<infer_cuda_blocks(total), INFER_CUDA_THREADS, 0, s>>>(
      (const T *)x, (const T *)w, (const T *)bias, (const T *)res, (T *)y, a);
}

/* Runs the vector kernel when the sizes fit 32-bit indices; false if not. */
template <typename T>
bool try_vec(const DwArgs &a, const void *x, const void *w, const void *bias, const void *res,
             void *y, cudaStream_t s) {
  const int64_t lim = (int64_t)1 << 30;
  if (a.n * a.h * a.w * a.c >= lim || a.n * a.oh * a.ow * a.c >= lim) return false;
  DwArgs32 b = {(int)a.n,  (int)a.h,  (int)a.w,  (int)a.c,  (int)a.oh, (int)a.ow, (int)a.kh,
                (int)a.kw, (int)a.sh, (int)a.sw, (int)a.dh, (int)a.dw, (int)a.ph, (int)a.pw,
                a.act};
  const int vec16 = (int)(16 / sizeof(T));
  uintptr_t align = (uintptr_t)x | (uintptr_t)y | (uintptr_t)res;
  if (b.c % vec16 == 0 && align % 16 == 0)
    launch_vec<T, 16 / sizeof(T)>(b, x, w, bias, res, y, s);
  else if (b.c % 2 == 0 && align % (2 * sizeof(T)) == 0)
    launch_vec<T, 2>(b, x, w, bias, res, y, s);
  else
    launch_vec<T, 1>(b, x, w, bias, res, y, s);
  return true;
}

}  // namespace

extern "C" bool infer_cuda_conv_depthwise_applicable(const InferOpCall *c) {
  const InferConvParams *p = &c->params->conv;
  if (c->op != INFER_OP_CONV || !p->channels_last || p->spatial != 2) return false;
  const InferShape *xs = &c->in[0].shape, *ws = &c->in[1].shape, *ys = &c->out[0].shape;
  if (xs->rank != 4 || ws->rank != 4 || ys->rank != 4) return false;
  int64_t ch = xs->d[3];
  if (infer_geo_default1(p->group) != ch || ws->d[0] != ch || ws->d[3] != 1 || ys->d[3] != ch)
    return false;
  InferDType t = c->in[0].dtype;
  return t == INFER_DTYPE_F32 || t == INFER_DTYPE_F16;
}

extern "C" InferStatus *infer_cuda_conv_depthwise_run(const InferOpCall *c,
                                                      const InferCudaExec *ex) {
  const InferConvParams *p = &c->params->conv;
  const InferShape *xs = &c->in[0].shape, *ws = &c->in[1].shape, *ys = &c->out[0].shape;
  DwArgs a;
  a.n = xs->d[0];
  a.h = xs->d[1];
  a.w = xs->d[2];
  a.c = xs->d[3];
  a.oh = ys->d[1];
  a.ow = ys->d[2];
  a.kh = ws->d[1];
  a.kw = ws->d[2];
  int64_t pads[2];
  for (int i = 0; i < 2; i++) {
    InferGeoDim g = {xs->d[1 + i], ws->d[1 + i], p->strides[i], p->dilations[i], p->pads[i],
                     p->pads[2 + i]};
    int64_t pb, pe, out;
    if (infer_geo_window(&g, p->auto_pad, false, &pb, &pe, &out) != INFER_GEO_OK ||
        out != ys->d[1 + i])
      return infer_status_new(INFER_ERR_INTERNAL, "layer '%s' (conv): output shape mismatch",
                              c->node);
    pads[i] = pb;
  }
  a.sh = infer_geo_default1(p->strides[0]);
  a.sw = infer_geo_default1(p->strides[1]);
  a.dh = infer_geo_default1(p->dilations[0]);
  a.dw = infer_geo_default1(p->dilations[1]);
  a.ph = pads[0];
  a.pw = pads[1];
  a.act = p->activation;
  int64_t total = a.n * a.oh * a.ow * a.c;
  if (total <= 0) return NULL;
  bool has_bias = infer_call_has_input(c, 2) && !(p->has_residual && c->n_in - 1 == 2);
  const void *bias = has_bias ? c->in[2].data : NULL;
  const void *res = p->has_residual ? c->in[c->n_in - 1].data : NULL;
  cudaStream_t s = (cudaStream_t)ex->stream;
  bool half = c->in[0].dtype == INFER_DTYPE_F16;
  if (half ? try_vec<__half>(a, c->in[0].data, c->in[1].data, bias, res, c->out[0].data, s)
           : try_vec<float>(a, c->in[0].data, c->in[1].data, bias, res, c->out[0].data, s))
    return infer_cuda_launch_status(c, "depthwise convolution kernel");
  if (half)
    depthwise_kernel<__half><<<infer_cuda_blocks(total), INFER_CUDA_THREADS, 0, s>>>(
        (const __half *)c->in[0].data, (const __half *)c->in[1].data, (const __half *)bias,
        (const __half *)res, (__half *)c->out[0].data, a);
  else
    depthwise_kernel<float><<<infer_cuda_blocks(total), INFER_CUDA_THREADS, 0, s>>>(
        (const float *)c->in[0].data, (const float *)c->in[1].data, (const float *)bias,
        (const float *)res, (float *)c->out[0].data, a);
  return infer_cuda_launch_status(c, "depthwise convolution kernel");
}

extern "C" InferStatus *infer_cuda_conv_depthwise_time(const InferOpCall *c,
                                                       const InferCudaExec *ex, double *ms) {
  *ms = 0;
  cudaStream_t s = (cudaStream_t)ex->stream;
  INFER_TRY(infer_cuda_conv_depthwise_run(c, ex));
  cudaEvent_t start, stop;
  if (cudaEventCreate(&start) != cudaSuccess) return infer_cuda_error(c, "cudaEventCreate", "");
  if (cudaEventCreate(&stop) != cudaSuccess) {
    cudaEventDestroy(start);
    return infer_cuda_error(c, "cudaEventCreate", "");
  }
  InferStatus *st = NULL;
  cudaEventRecord(start, s);
  for (int r = 0; r < 5 && !st; r++) st = infer_cuda_conv_depthwise_run(c, ex);
  cudaEventRecord(stop, s);
  float elapsed = 0;
  if (!st && (cudaEventSynchronize(stop) != cudaSuccess ||
              cudaEventElapsedTime(&elapsed, start, stop) != cudaSuccess))
    st = infer_cuda_error(c, "timing the depthwise kernel", cudaGetErrorString(cudaGetLastError()));
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  *ms = elapsed / 5.0;
  return st;
}
