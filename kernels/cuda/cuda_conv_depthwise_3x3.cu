/* 3x3 depthwise convolution, channels-last, stride 1 or 2, dilation 1,
 * tiled in registers. The generic depthwise kernel reloads the channel's
 * nine weights (as scalars) for every output and every tap from cache: on
 * the H200 MobileNetV2's depthwise layers ran at a third of memory speed
 * that way. Here a thread keeps one channel vector's weights in registers
 * for all the positions it visits (the grid is capped, so it visits many),
 * and computes a strip of ROWS outputs down one column, loading each input
 * row of the strip once and adding it into every output row it touches. */
#include <cuda_fp16.h>
#include <stdint.h>

#include "cuda_channel_vec.cuh"
#include "cuda_conv_depthwise_3x3.cuh"
#include "cuda_epilogue.h"

namespace {

/* Four channels per thread in both types (16 bytes of f32, 8 of f16):
 * eight f16 channels needed twice the registers for weights (kept as
 * floats), inputs and accumulators and spilled under the 2-blocks-per-SM
 * bound. */
constexpr int kVec = 4;
constexpr int kRows = 4;       /* outputs per strip */
constexpr int kThreads = 256;  /* per block */
constexpr int kMaxBlocks = 1024; /* cap: each thread loops over positions, weights loaded once */

__device__ __forceinline__ float to_f(float v) { return v; }
__device__ __forceinline__ float to_f(__half v) { return __half2float(v); }
__device__ __forceinline__ void from_f(float &d, float v) { d = v; }
__device__ __forceinline__ void from_f(__half &d, float v) { d = __float2half_rn(v); }

/* blockDim = (channel vectors per block, positions per block); blockIdx.y
 * picks the block's channel vectors, so a thread's channels never change.
 * A position is (image, strip of kRows output rows, output column). */
template <typename T, int VEC, int S>
__global__ void __launch_bounds__(kThreads, 2)
    dw3x3_kernel(const T *__restrict__ x, const T *__restrict__ w, const T *__restrict__ bias,
                 const T *__restrict__ res, T *__restrict__ y, InferDw3x3Args a) {
  typedef InferChannelVec<T, VEC> Vec;
  const int groups = a.c / VEC;
  const int g = blockIdx.y * blockDim.x + threadIdx.x;
  if (g >= groups) return;
  const int ch = g * VEC;
  float wt[9][VEC], b[VEC];
#pragma unroll
  for (int v = 0; v < VEC; v++) {
    b[v] = bias ? to_f(bias[ch + v]) : 0.0f;
#pragma unroll
    for (int t = 0; t < 9; t++) wt[t][v] = to_f(w[(ch + v) * 9 + t]);
  }
  const int strips = (a.oh + kRows - 1) / kRows;
  const int positions = a.n * strips * a.ow;
  for (int p = blockIdx.x * blockDim.y + threadIdx.y; p < positions; p += gridDim.x * blockDim.y) {
    const int ox = p % a.ow;
    int t = p / a.ow;
    const int strip = t % strips, img = t / strips;
    const int oy0 = strip * kRows;
    const T *xi = x + img * a.h * a.w * a.c + ch;
    const int ix0 = ox * S - a.pw;
    bool col_ok[3];
#pragma unroll
    for (int kx = 0; kx < 3; kx++) col_ok[kx] = ix0 + kx >= 0 && ix0 + kx < a.w;
    float acc[kRows][VEC];
#pragma unroll
    for (int r = 0; r < kRows; r++)
#pragma unroll
      for (int v = 0; v < VEC; v++) acc[r][v] = b[v];
    /* the strip's input rows, each once; row q feeds output r through
     * kernel row q - r*S (all compile-time after unrolling). Taps outside
     * the input read a valid address and are zeroed after the load: with
     * branches around the loads the compiler kept them in order, three
     * in flight per thread, and the layer ran far below memory speed. */
#pragma unroll
    for (int q = 0; q < (kRows - 1) * S + 3; q++) {
      const int iy = oy0 * S - a.ph + q;
      const bool row_ok = iy >= 0 && iy < a.h;
      float in[3][VEC];
#pragma unroll
      for (int kx = 0; kx < 3; kx++) {
        const bool ok = row_ok && col_ok[kx];
        const Vec raw = *(const Vec *)(ok ? xi + (iy * a.w + ix0 + kx) * a.c : xi);
#pragma unroll
        for (int v = 0; v < VEC; v++) in[kx][v] = ok ? to_f(raw.v[v]) : 0.0f;
      }
#pragma unroll
      for (int r = 0; r < kRows; r++) {
        const int ky = q - r * S;
        if (ky < 0 || ky >= 3) continue;
#pragma unroll
        for (int kx = 0; kx < 3; kx++)
#pragma unroll
          for (int v = 0; v < VEC; v++)
            acc[r][v] = fmaf(in[kx][v], wt[ky * 3 + kx][v], acc[r][v]);
      }
    }
#pragma unroll
    for (int r = 0; r < kRows; r++) {
      const int oy = oy0 + r;
      if (oy >= a.oh) break;
      const int o = ((img * a.oh + oy) * a.ow + ox) * a.c + ch;
      if (res) {
        Vec rv = *(const Vec *)(res + o);
#pragma unroll
        for (int v = 0; v < VEC; v++) acc[r][v] += to_f(rv.v[v]);
      }
      Vec out;
#pragma unroll
      for (int v = 0; v < VEC; v++) from_f(out.v[v], infer_cuda_act(a.act, acc[r][v]));
      *(Vec *)(y + o) = out;
    }
  }
}

/* Channel vectors per block: a divisor of the count up to 32 (no idle
 * threads), unless only a small one exists, where idle threads in the last
 * block cost less than narrow, poorly coalesced blocks. */
int block_channels(int groups) {
  int best = 1;
  for (int d = 1; d <= 32 && d <= groups; d++)
    if (groups % d == 0) best = d;
  if (best < 8 && groups > 8) best = groups < 32 ? groups : 32;
  return best;
}


template <typename T, int S>
void launch(const InferDw3x3Args &a, const void *x, const void *w, const void *bias,
            const void *res, void *y, cudaStream_t s) {
  constexpr int VEC = kVec;
  const int groups = a.c / VEC;
  const int tx = block_channels(groups), ty = kThreads / tx;
  const int blocks_y = (groups + tx - 1) / tx;
  const int64_t positions = (int64_t)a.n * ((a.oh + kRows - 1) / kRows) * a.ow;
  int64_t blocks_x = (positions + ty - 1) / ty;
  int64_t cap = kMaxBlocks / blocks_y > 0 ? kMaxBlocks / blocks_y : 1;
  if (blocks_x > cap) blocks_x = cap;
  if (blocks_x < 1) blocks_x = 1;
  dw3x3_kernel<T, VEC, S><<<dim3((unsigned)blocks_x, (unsigned)blocks_y), dim3(tx, ty), 0, s>>>(
      (const T *)x, (const T *)w, (const T *)bias, (const T *)res, (T *)y, a);
}

}  // namespace

bool infer_dw3x3_applicable(const InferDw3x3Args &a, bool half, uintptr_t pointers) {
  if (a.stride != 1 && a.stride != 2) return false;
  /* grid.y holds the channel blocks */
  return a.c % kVec == 0 && pointers % (kVec * (half ? 2 : 4)) == 0 && a.c / kVec <= 65535 * 32;
}

void infer_dw3x3_launch(const InferDw3x3Args &a, bool half, const void *x, const void *w,
                        const void *bias, const void *res, void *y, cudaStream_t s) {
  if (half)
    a.stride == 1 ? launch<__half, 1>(a, x, w, bias, res, y, s)
                  : launch<__half, 2>(a, x, w, bias, res, y, s);
  else
    a.stride == 1 ? launch<float, 1>(a, x, w, bias, res, y, s)
                  : launch<float, 2>(a, x, w, bias, res, y, s);
}
