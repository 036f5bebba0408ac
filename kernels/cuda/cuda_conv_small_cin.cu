/* Direct convolution for layers with 1-4 input channels, channels-last.
 * cuDNN's tensor-core algorithms pad three colour channels up to their
 * tile and run such a layer far below the memory speed its few
 * multiply-adds per output allow (MobileNetV2's first layer: 0.48 ms at
 * batch 256 on the H200 for 0.3 GB of traffic). Here a thread computes 8
 * output channels of one position; the block's weights sit in shared
 * memory as floats laid out [ky][kx][ci][co], so the 8 channels of a tap
 * are two 16-byte reads that the block's positions share. Bias, residual
 * and the activation are applied before the store. */
#include <cuda_fp16.h>

#include "conv_geometry.h"
#include "cuda_channel_vec.cuh"
#include "cuda_conv_small_cin.h"
#include "cuda_epilogue.h"

namespace {

constexpr int kOut = 8;             /* output channels per thread */
constexpr int kThreads = 256;
constexpr int kSmemBytes = 48 * 1024; /* weights as floats */

struct SmallCinArgs {
  int n, h, w, cin;        /* input [n, h, w, cin] */
  int oh, ow, cout;        /* output [n, oh, ow, cout] */
  int kh, kw, sh, sw, dh, dw, ph, pw;
  InferActivation act;
};

__device__ __forceinline__ float to_f(float v) { return v; }
__device__ __forceinline__ float to_f(__half v) { return __half2float(v); }
__device__ __forceinline__ void from_f(float &d, float v) { d = v; }
__device__ __forceinline__ void from_f(__half &d, float v) { d = __float2half_rn(v); }

/* blockDim.x: output-channel groups of this block (blockIdx.y picks which),
 * blockDim.y: positions; grid-stride over positions. */
template <typename T, int CIN>
__global__ void __launch_bounds__(kThreads)
    small_cin_kernel(const T *__restrict__ x, const T *__restrict__ w, const T *__restrict__ bias,
                     const T *__restrict__ res, T *__restrict__ y, SmallCinArgs a) {
  extern __shared__ float sw[]; /* [kh][kw][CIN][block's channels] */
  const int co0 = blockIdx.y * blockDim.x * kOut;
  const int block_ch = min((int)blockDim.x * kOut, a.cout - co0);
  const int taps = a.kh * a.kw;
  const int tid = threadIdx.y * blockDim.x + threadIdx.x;
  for (int i = tid; i < block_ch * taps * CIN; i += blockDim.x * blockDim.y) {
    /* i runs over the global layout [co][ky][kx][ci]: coalesced reads */
    const int co = i / (taps * CIN), rest = i % (taps * CIN);
    sw[rest * block_ch + co] = to_f(w[(int64_t)(co0 + co) * taps * CIN + rest]);
  }
  __syncthreads();
  const int lc = threadIdx.x * kOut; /* this thread's first channel in the block */
  if (lc >= block_ch) return;
  float b[kOut];
#pragma unroll
  for (int v = 0; v < kOut; v++) b[v] = bias ? to_f(bias[co0 + lc + v]) : 0.0f;
  const int positions = a.n * a.oh * a.ow;
  for (int p = blockIdx.x * blockDim.y + threadIdx.y; p < positions; p += gridDim.x * blockDim.y) {
    const int ox = p % a.ow;
    const int t = p / a.ow;
    const int oy = t % a.oh, img = t / a.oh;
    float acc[kOut];
#pragma unroll
    for (int v = 0; v < kOut; v++) acc[v] = b[v];
    const T *xi = x + (int64_t)img * a.h * a.w * CIN;
    for (int ky = 0; ky < a.kh; ky++) {
      const int iy = oy * a.sh - a.ph + ky * a.dh;
      if (iy < 0 || iy >= a.h) continue;
      for (int kx = 0; kx < a.kw; kx++) {
        const int ix = ox * a.sw - a.pw + kx * a.dw;
        if (ix < 0 || ix >= a.w) continue;
        const T *px = xi + (iy * a.w + ix) * CIN;
        const float *wt = sw + ((ky * a.kw + kx) * CIN) * block_ch + lc;
#pragma unroll
        for (int ci = 0; ci < CIN; ci++) {
          const float xv = to_f(px[ci]);
          const float4 w0 = *(const float4 *)(wt + ci * block_ch);
          const float4 w1 = *(const float4 *)(wt + ci * block_ch + 4);
          acc[0] = fmaf(xv, w0.x, acc[0]);
          acc[1] = fmaf(xv, w0.y, acc[1]);
          acc[2] = fmaf(xv, w0.z, acc[2]);
          acc[3] = fmaf(xv, w0.w, acc[3]);
          acc[4] = fmaf(xv, w1.x, acc[4]);
          acc[5] = fmaf(xv, w1.y, acc[5]);
          acc[6] = fmaf(xv, w1.z, acc[6]);
          acc[7] = fmaf(xv, w1.w, acc[7]);
        }
      }
    }
    const int64_t o = (int64_t)p * a.cout + co0 + lc;
    InferChannelVec<T, kOut> out;
    if (res) {
      const InferChannelVec<T, kOut> r = *(const InferChannelVec<T, kOut> *)(res + o);
#pragma unroll
      for (int v = 0; v < kOut; v++) acc[v] += to_f(r.v[v]);
    }
#pragma unroll
    for (int v = 0; v < kOut; v++) from_f(out.v[v], infer_cuda_act(a.act, acc[v]));
    *(InferChannelVec<T, kOut> *)(y + o) = out;
  }
}

/* The output-channel groups one block takes: all of them up to 32 groups
 * (256 channels), so blockIdx.y rarely splits a layer. */
int block_groups(int cout) { return cout / kOut < 32 ? cout / kOut : 32; }

template <typename T, int CIN>
void launch(const SmallCinArgs &a, const void *x, const void *w, const void *bias,
            const void *res, void *y, cudaStream_t s) {
  const int tx = block_groups(a.cout), ty = kThreads / tx;
  const int blocks_y = (a.cout / kOut + tx - 1) / tx;
  const size_t smem = (size_t)tx * kOut * a.kh * a.kw * CIN * sizeof(float);
  const int64_t positions = (int64_t)a.n * a.oh * a.ow;
  int64_t blocks_x = (positions + ty - 1) / ty;
  /* every block stages its weights once: enough blocks to fill the GPU a
   * few times over, each looping over many positions */
  const int64_t cap = 2048 / blocks_y > 0 ? 2048 / blocks_y : 1;
  if (blocks_x > cap) blocks_x = cap;
  small_cin_kernel<T, CIN><<<dim3((unsigned)blocks_x, (unsigned)blocks_y), dim3(tx, ty), smem, s>>>(
      (const T *)x, (const T *)w, (const T *)bias, (const T *)res, (T *)y, a);
}

template <typename T>
void launch_cin(const SmallCinArgs &a, const void *x, const void *w, const void *bias,
                const void *res, void *y, cudaStream_t s) {
  switch (a.cin) {
    case 1: launch<T, 1>(a, x, w, bias, res, y, s); break;
    case 2: launch<T, 2>(a, x, w, bias, res, y, s); break;
    case 3: launch<T, 3>(a, x, w, bias, res, y, s); break;
    default: launch<T, 4>(a, x, w, bias, res, y, s); break;
  }
}

bool geometry(const InferOpCall *c, SmallCinArgs *a) {
  const InferConvParams *p = &c->params->conv;
  const InferShape *xs = &c->in[0].shape, *ws = &c->in[1].shape, *ys = &c->out[0].shape;
  if (xs->rank != 4 || ws->rank != 4 || ys->rank != 4) return false;
  int64_t pads[2];
  for (int i = 0; i < 2; i++) {
    InferGeoDim g = {xs->d[1 + i], ws->d[1 + i], p->strides[i], p->dilations[i], p->pads[i],
                     p->pads[2 + i]};
    int64_t pb, pe, out;
    if (infer_geo_window(&g, p->auto_pad, false, &pb, &pe, &out) != INFER_GEO_OK ||
        out != ys->d[1 + i] || pb < 0)
      return false;
    pads[i] = pb;
  }
  const int64_t big = (int64_t)1 << 20; /* geometry far from any overflow in 32 bits */
  int64_t v[] = {ws->d[1], ws->d[2], infer_geo_default1(p->strides[0]),
                 infer_geo_default1(p->strides[1]), infer_geo_default1(p->dilations[0]),
                 infer_geo_default1(p->dilations[1]), pads[0], pads[1]};
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
    if (v[i] > big) return false;
  if (!infer_fits_int32(infer_shape_numel(xs)) || !infer_fits_int32(infer_shape_numel(ys)))
    return false;
  *a = (SmallCinArgs){(int)xs->d[0], (int)xs->d[1], (int)xs->d[2], (int)xs->d[3],
                      (int)ys->d[1], (int)ys->d[2], (int)ys->d[3], (int)v[0], (int)v[1],
                      (int)v[2], (int)v[3], (int)v[4], (int)v[5], (int)v[6], (int)v[7],
                      p->activation};
  return true;
}

InferStatus *run_once(const InferOpCall *c, const InferCudaExec *ex, int32_t) {
  return infer_cuda_conv_small_cin_run(c, ex);
}

}  // namespace

extern "C" bool infer_cuda_conv_small_cin_applicable(const InferOpCall *c) {
  const InferConvParams *p = &c->params->conv;
  if (c->op != INFER_OP_CONV || !p->channels_last || p->spatial != 2 ||
      infer_geo_default1(p->group) != 1)
    return false;
  InferDType t = c->in[0].dtype;
  if (t != INFER_DTYPE_F32 && t != INFER_DTYPE_F16) return false;
  SmallCinArgs a;
  if (!geometry(c, &a) || a.cin < 1 || a.cin > 4 || a.cout % kOut != 0) return false;
  if (c->in[1].shape.d[3] != a.cin || infer_shape_numel(&c->out[0].shape) == 0) return false;
  /* 16-byte (f16) or 32-byte (f32) output vectors */
  uintptr_t ptrs = (uintptr_t)c->out[0].data;
  if (p->has_residual) ptrs |= (uintptr_t)c->in[c->n_in - 1].data;
  if (ptrs % 16) return false;
  return (size_t)block_groups(a.cout) * kOut * a.kh * a.kw * a.cin * sizeof(float) <= kSmemBytes;
}

extern "C" InferStatus *infer_cuda_conv_small_cin_run(const InferOpCall *c,
                                                      const InferCudaExec *ex) {
  SmallCinArgs a;
  if (!infer_cuda_conv_small_cin_applicable(c) || !geometry(c, &a))
    return infer_status_new(INFER_ERR_INTERNAL,
                            "layer '%s' (conv): not a layer for the small-input-channel kernel",
                            c->node);
  const void *bias = infer_cuda_conv_bias(c), *res = infer_cuda_conv_residual(c);
  cudaStream_t s = (cudaStream_t)ex->stream;
  if (c->in[0].dtype == INFER_DTYPE_F16)
    launch_cin<__half>(a, c->in[0].data, c->in[1].data, bias, res, c->out[0].data, s);
  else
    launch_cin<float>(a, c->in[0].data, c->in[1].data, bias, res, c->out[0].data, s);
  return infer_cuda_launch_status(c, "small-input-channel convolution kernel");
}

extern "C" InferStatus *infer_cuda_conv_small_cin_time(const InferOpCall *c,
                                                       const InferCudaExec *ex, double *ms) {
  return infer_cuda_time(c, ex, run_once, 0, 5, "timing the small-input-channel kernel", ms);
}
