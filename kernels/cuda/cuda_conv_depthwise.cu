/* Depthwise 2-D convolution (group = input channels = output channels) on
 * channels-last tensors, with bias, residual and the fused activation:
 * adjacent threads on adjacent channel vectors, so every tap is a
 * coalesced read. The layer is memory-bound (a few taps per
 * output), where cuDNN's generic grouped algorithms lose most (MobileNets).
 * Accumulates in float for f16 too. One of the convolution tactics. */
#include <cuda_fp16.h>

#include "conv_geometry.h"
#include "cuda_channel_vec.cuh"
#include "cuda_conv_depthwise.h"
#include "cuda_conv_depthwise_3x3.cuh"
#include "cuda_epilogue.h"

namespace {

/* The geometry in the launch's index type: int where every index fits
 * (64-bit division per element made the layer several times slower than
 * its memory traffic on the H200), int64_t otherwise. */
template <typename I>
struct DwArgs {
  I n, h, w, c;          /* input [n, h, w, c] */
  I oh, ow;              /* output [n, oh, ow, c] */
  I kh, kw, sh, sw, dh, dw, ph, pw;
  InferActivation act;
};

__device__ __forceinline__ float ld(const float *p, int64_t i) { return p[i]; }
__device__ __forceinline__ float ld(const __half *p, int64_t i) { return __half2float(p[i]); }
__device__ __forceinline__ void st(float *p, int64_t i, float v) { p[i] = v; }
__device__ __forceinline__ void st(__half *p, int64_t i, float v) { p[i] = __float2half_rn(v); }

/* w is [c, kh, kw, 1] (channels-last weights of a depthwise layer). Each
 * thread computes VEC adjacent channels of one output position, one vector
 * load per tap. */
template <typename T, int VEC, typename I>
__global__ void depthwise_kernel(const T *__restrict__ x, const T *__restrict__ w,
                                 const T *__restrict__ bias, const T *__restrict__ res,
                                 T *__restrict__ y, DwArgs<I> a) {
  typedef InferChannelVec<T, VEC> Vec;
  I groups = a.c / VEC;
  I total = a.n * a.oh * a.ow * groups;
  for (I i = (I)blockIdx.x * blockDim.x + threadIdx.x; i < total;
       i += (I)gridDim.x * blockDim.x) {
    I g = i % groups, t = i / groups;
    I ox = t % a.ow;
    t /= a.ow;
    I oy = t % a.oh, img = t / a.oh;
    I ch = g * VEC;
    float acc[VEC];
#pragma unroll
    for (int v = 0; v < VEC; v++) acc[v] = bias ? ld(bias, ch + v) : 0.0f;
    const T *xi = x + (int64_t)img * a.h * a.w * a.c + ch;
    const T *wc = w + (int64_t)ch * a.kh * a.kw;
    I taps = a.kh * a.kw;
    for (I ky = 0; ky < a.kh; ky++) {
      I iy = oy * a.sh - a.ph + ky * a.dh;
      if (iy < 0 || iy >= a.h) continue;
      for (I kx = 0; kx < a.kw; kx++) {
        I ix = ox * a.sw - a.pw + kx * a.dw;
        if (ix < 0 || ix >= a.w) continue;
        Vec in = *(const Vec *)(xi + ((int64_t)iy * a.w + ix) * a.c);
        I tap = ky * a.kw + kx;
#pragma unroll
        for (int v = 0; v < VEC; v++) acc[v] += ld(in.v, v) * ld(wc, v * taps + tap);
      }
    }
    int64_t o = (int64_t)i * VEC;
    Vec out;
    if (res) {
      Vec r = *(const Vec *)(res + o);
#pragma unroll
      for (int v = 0; v < VEC; v++) acc[v] += ld(r.v, v);
    }
#pragma unroll
    for (int v = 0; v < VEC; v++) st(out.v, v, infer_cuda_act(a.act, acc[v]));
    *(Vec *)(y + o) = out;
  }
}

template <typename T, int VEC, typename I>
void launch(const DwArgs<I> &a, const void *x, const void *w, const void *bias, const void *res,
            void *y, cudaStream_t s) {
  int64_t total = (int64_t)a.n * a.oh * a.ow * (a.c / VEC);
  depthwise_kernel<T, VEC, I><<<infer_cuda_blocks(total), INFER_CUDA_THREADS, 0, s>>>(
      (const T *)x, (const T *)w, (const T *)bias, (const T *)res, (T *)y, a);
}

template <typename T, typename I>
void launch_widest(const DwArgs<I> &a, const void *x, const void *w, const void *bias,
                   const void *res, void *y, cudaStream_t s) {
  int width = infer_channel_vec_width<T>(a.c, (uintptr_t)x | (uintptr_t)y | (uintptr_t)res);
  if (width == (int)(16 / sizeof(T)))
    launch<T, 16 / sizeof(T), I>(a, x, w, bias, res, y, s);
  else if (width == 2)
    launch<T, 2, I>(a, x, w, bias, res, y, s);
  else
    launch<T, 1, I>(a, x, w, bias, res, y, s);
}

template <typename T>
void run(const DwArgs<int64_t> &a, const void *x, const void *w, const void *bias,
         const void *res, void *y, cudaStream_t s) {
  const int64_t geo = (int64_t)1 << 28; /* strides, dilations, pads: anything the shape rules allow */
  bool small_geometry = a.kh <= geo && a.kw <= geo && a.sh <= geo && a.sw <= geo &&
                        a.dh <= geo && a.dw <= geo && a.ph <= geo && a.pw <= geo;
  if (!small_geometry || !infer_fits_int32(a.n * a.h * a.w * a.c) ||
      !infer_fits_int32(a.n * a.oh * a.ow * a.c)) {
    launch_widest<T, int64_t>(a, x, w, bias, res, y, s);
    return;
  }
  if (a.kh == 3 && a.kw == 3 && a.dh == 1 && a.dw == 1 && a.sh == a.sw) {
    InferDw3x3Args t = {(int)a.n,  (int)a.h,  (int)a.w,  (int)a.c, (int)a.oh,
                        (int)a.ow, (int)a.sh, (int)a.ph, (int)a.pw, a.act};
    bool half = sizeof(T) == 2;
    if (infer_dw3x3_applicable(t, half, (uintptr_t)x | (uintptr_t)y | (uintptr_t)res)) {
      infer_dw3x3_launch(t, half, x, w, bias, res, y, s);
      return;
    }
  }
  DwArgs<int> b = {(int)a.n,  (int)a.h,  (int)a.w,  (int)a.c,  (int)a.oh, (int)a.ow, (int)a.kh,
                   (int)a.kw, (int)a.sh, (int)a.sw, (int)a.dh, (int)a.dw, (int)a.ph, (int)a.pw,
                   a.act};
  launch_widest<T, int>(b, x, w, bias, res, y, s);
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
  DwArgs<int64_t> a;
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
  const void *bias = infer_cuda_conv_bias(c), *res = infer_cuda_conv_residual(c);
  cudaStream_t s = (cudaStream_t)ex->stream;
  if (c->in[0].dtype == INFER_DTYPE_F16)
    run<__half>(a, c->in[0].data, c->in[1].data, bias, res, c->out[0].data, s);
  else
    run<float>(a, c->in[0].data, c->in[1].data, bias, res, c->out[0].data, s);
  return infer_cuda_launch_status(c, "depthwise convolution kernel");
}

static InferStatus *run_once(const InferOpCall *c, const InferCudaExec *ex, int32_t) {
  return infer_cuda_conv_depthwise_run(c, ex);
}

extern "C" InferStatus *infer_cuda_conv_depthwise_time(const InferOpCall *c,
                                                       const InferCudaExec *ex, double *ms) {
  return infer_cuda_time(c, ex, run_once, 0, 5, "timing the depthwise kernel", ms);
}
