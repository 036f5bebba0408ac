/* INT8 2-D channels-last convolution (group 1) as an implicit GEMM on
 * Hopper's warpgroup tensor-core instructions: the layer and the GEMM are
 * those of cuda_conv_int8_mma.cuh (Y[M, C_out] = A[M, K] . B[C_out, K]^T,
 * A gathered from x, zeros outside the image), the product is wgmma
 * m64nNk32 s8 (cuda_wgmma_s8.cuh). Compiled for sm_90a alone: the entry
 * points fail with cudaErrorNoKernelImageForDevice elsewhere, and the
 * tactic is offered on compute capability 9.0 only.
 *
 * A block is 1 or 2 warpgroups; each computes 64 rows of the BM x BN tile
 * over all its BN channels. K goes in steps of 64 bytes through a ring of
 * 4 to 7 shared-memory slots filled by every thread with cp.async (16
 * bytes per copy, zero-filled outside the image or past K), 2 to 5 steps
 * ahead: the wgmma of one step stays in flight while the next is issued,
 * so the tensor cores do not wait for the loop's barrier and loads. The
 * tiles are stored in the 64-byte swizzle the descriptors name. A 1x1,
 * stride 1, unpadded layer reads A as x itself (no window arithmetic).
 *
 * Epilogue (needs C_in % 16 == 0, 16-byte aligned x and w; activations
 * ReLU / clip / leaky ReLU or none): the reference's float expression per
 * accumulator in registers, with the channel factors (x_scale * w_scale,
 * bias) from shared memory. An i8 output is requantized in registers into
 * an i8 tile in shared memory (where the block's i8 residual was copied
 * with the first loads), then written out in coalesced 16-byte pieces; an
 * f32 output is stored from the registers. CUDA C++ only. */
#include <cuda_runtime.h>

#include "cuda_conv_int8_mma.cuh"
#include "cuda_wgmma_s8.cuh"

namespace infer_i8wg {
namespace {

using infer_i8mma::Geo;

constexpr int kBK = 64;        /* bytes of K per step: one swizzled row */
constexpr int kAlign = 1024;   /* the ring's start (a multiple of the swizzle period) */

template <int WGS, int BN>
struct Tile {
  static constexpr int BM = 64 * WGS, kThreads = 128 * WGS;
  /* Ring slots: the steps loaded ahead (kStages - 2) cover the latency of
   * device memory only when they hold enough bytes per SM; the wide tiles,
   * one block per SM, take as many as shared memory holds, the 128 x 128
   * tile as many as leave room for two blocks per SM. The slot of the
   * step in flight and of the one multiplied make the other two. */
  static constexpr int kStages = BM + BN >= 384 ? 7 : (BM == 128 && BN == 128 ? 5 : 4);
  static constexpr int kAhead = kStages - 2;
  static constexpr int kStageBytes = (BM + BN) * kBK;
  /* the i8 output tile's row pitch: 16 bytes of padding put the 8 rows a
   * warp's pair stores reach in different banks, and keep rows 16-byte
   * aligned for the copy out */
  static constexpr int kOutPitch = BN + 16;
  /* the ring holds only the steps the reduction has (up to kStages), then
   * the channel factors and the output tile */
  static constexpr size_t smem(int ktiles) {
    return (size_t)kAlign + (size_t)(ktiles < kStages ? ktiles : kStages) * kStageBytes +
           (size_t)BN * 8 + (size_t)BM * kOutPitch;
  }
};

template <int BN>
__device__ __forceinline__ void mma_step(int32_t (&d)[BN / 2], uint64_t a, uint64_t b) {
  if constexpr (BN == 64) infer_wgmma::wgmma_n64(d, a, b);
  else if constexpr (BN == 128) infer_wgmma::wgmma_n128(d, a, b);
  else infer_wgmma::wgmma_n256(d, a, b);
}

/* Residual element idx of the layer read from device memory (an f32
 * residual, or an i8 one the block did not copy), scaled. */
__device__ __forceinline__ float residual_at(const InferCudaInt8Epilogue &e, int64_t idx) {
  if (e.residual_i8)
    return __fmul_rn((float)((const int8_t *)e.residual)[idx], e.residual_scale);
  return ((const float *)e.residual)[idx];
}

/* Blocks per SM the compiler must fit in registers: the 64-channel tiles
 * serve short reductions (1x1 convs over 64 or 128 channels), whose time
 * is load latency that only more resident blocks hide. */
template <int WGS, int BN>
constexpr int min_blocks() {
  return BN == 64 ? 8 / WGS : 1;
}

/* kPointwise: a 1x1, stride 1, unpadded layer, whose A is x itself (row m
 * of A is pixel m): no window arithmetic per row or step, which in the
 * short reductions of such layers is a good part of the instructions. */
template <int WGS, int BN, bool kPointwise>
__global__ void __launch_bounds__(WGS * 128, min_blocks<WGS, BN>())
    conv_wgmma_kernel(const int8_t *__restrict__ x, const int8_t *__restrict__ w, void *y,
                      int y_i8, Geo g, InferCudaInt8Epilogue e) {
  using T = Tile<WGS, BN>;
  constexpr int BM = T::BM, kThreads = T::kThreads;
  constexpr int kRowStep = kThreads / 4; /* rows one pass of 16-byte pieces covers */
  constexpr int kAch = BM / kRowStep, kBch = BN / kRowStep;
  static_assert(kAch >= 1 && kBch >= 1 && kRowStep % 8 == 0, "tile shape");
  extern __shared__ __align__(16) int8_t smem_raw[];
  int8_t *smem =
      smem_raw + ((kAlign - (infer_i8mma::smem_addr(smem_raw) & (kAlign - 1))) & (kAlign - 1));

  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, wg = warp >> 2;
  const int n_tiles = (g.cout + BN - 1) / BN;
  const int block_m = (int)(blockIdx.x / n_tiles) * BM, block_n = (int)(blockIdx.x % n_tiles) * BN;
  const int ktiles = (g.k + kBK - 1) / kBK;
  constexpr int kStages = T::kStages, kAhead = T::kAhead;
  const int slots = ktiles < kStages ? ktiles : kStages;
  float *ch_k = (float *)(smem + slots * T::kStageBytes), *ch_b = ch_k + BN;
  int8_t *out_tile = (int8_t *)(ch_b + BN);

  /* The thread's 16-byte piece `col` of rows row0 + j * kRowStep, stored
   * at its swizzled place: the rows differ by multiples of 8, so the
   * swizzle is the same for all of them. */
  const int col = tid & 3, row0 = tid >> 2;
  const int dst_col = (col ^ ((row0 >> 1) & 3)) * 16;
  int a_ih[kAch], a_iw[kAch];
  bool a_ok[kAch];
  int64_t a_off[kAch], b_off[kBch];
  bool b_ok[kBch];
#pragma unroll
  for (int j = 0; j < kAch; j++) {
    int m = block_m + row0 + j * kRowStep;
    a_ok[j] = m < g.m;
    int mm = a_ok[j] ? m : 0;
    if (kPointwise) {
      a_ih[j] = a_iw[j] = 0;
      a_off[j] = (int64_t)mm * g.c;
      continue;
    }
    int ow = mm % g.ow, t = mm / g.ow, oh = t % g.oh, n = t / g.oh;
    a_ih[j] = oh * g.sh - g.ph;
    a_iw[j] = ow * g.sw - g.pw;
    a_off[j] = (((int64_t)n * g.h + a_ih[j]) * g.w + a_iw[j]) * g.c;
  }
#pragma unroll
  for (int j = 0; j < kBch; j++) {
    int co = block_n + row0 + j * kRowStep;
    b_ok[j] = co < g.cout;
    b_off[j] = (int64_t)co * g.k;
  }
  /* the piece's place in K as tap row, tap column and channel, moved on
   * by kBK per step (steps are loaded in order) */
  int cur_c = 0, cur_r = 0, cur_s = 0;
  if (!kPointwise) {
    int tap = col * 16 / g.c;
    cur_c = col * 16 - tap * g.c;
    cur_r = tap / g.kw;
    cur_s = tap - cur_r * g.kw;
  }
  auto load_step = [&](int kt) {
    int8_t *as = smem + (kt % kStages) * T::kStageBytes, *bs = as + BM * kBK;
    const int kk = kt * kBK + col * 16;
    const bool k_ok = kk < g.k;
    if (kPointwise) {
#pragma unroll
      for (int j = 0; j < kAch; j++) {
        bool ok = a_ok[j] && k_ok;
        infer_i8mma::cp_async16(as + (row0 + j * kRowStep) * kBK + dst_col,
                                ok ? x + a_off[j] + kk : x, ok ? 16 : 0);
      }
    }
    const int dr = cur_r * g.dh, ds = cur_s * g.dw;
    const int64_t tap_off = ((int64_t)dr * g.w + ds) * g.c + cur_c;
#pragma unroll
    for (int j = 0; j < (kPointwise ? 0 : kAch); j++) {
      int ih = a_ih[j] + dr, iw = a_iw[j] + ds;
      bool ok = a_ok[j] && k_ok && (unsigned)ih < (unsigned)g.h && (unsigned)iw < (unsigned)g.w;
      infer_i8mma::cp_async16(as + (row0 + j * kRowStep) * kBK + dst_col,
                              ok ? x + a_off[j] + tap_off : x, ok ? 16 : 0);
    }
#pragma unroll
    for (int j = 0; j < kBch; j++) {
      bool ok = b_ok[j] && k_ok;
      infer_i8mma::cp_async16(bs + (row0 + j * kRowStep) * kBK + dst_col,
                              ok ? w + b_off[j] + kk : w, ok ? 16 : 0);
    }
    if (!kPointwise) infer_i8mma::advance_k_cursor(g, kBK, cur_r, cur_s, cur_c);
  };

  /* The epilogue's operands, fetched while the products run: the channel
   * factors, and an i8 residual copied into the output tile (each element
   * is later replaced by the output at its place). */
  for (int c = tid; c < BN; c += kThreads) {
    int co = block_n + c;
    ch_k[c] = co < g.cout ? __fmul_rn(e.x_scale, __ldg(e.w_scales + co)) : 0.0f;
    ch_b[c] = co < g.cout && e.bias ? __ldg(e.bias + co) : 0.0f;
  }
  const bool vec_out = g.cout % 16 == 0 && ((uintptr_t)y & 15) == 0;
  const bool res_tile = y_i8 && e.residual && e.residual_i8 && vec_out &&
                        ((uintptr_t)e.residual & 15) == 0;
  if (res_tile) {
    for (int q = tid; q < BM * BN / 16; q += kThreads) {
      int r = q / (BN / 16), c = (q % (BN / 16)) * 16, m = block_m + r, co = block_n + c;
      bool ok = m < g.m && co < g.cout;
      infer_i8mma::cp_async16(out_tile + r * T::kOutPitch + c,
                              (const int8_t *)e.residual + (ok ? (int64_t)m * g.cout + co : 0),
                              ok ? 16 : 0);
    }
  }

  int32_t acc[BN / 2];
#pragma unroll
  for (int i = 0; i < BN / 2; i++) acc[i] = 0;
  infer_wgmma::fence_regs(acc);

#pragma unroll
  for (int s = 0; s < kAhead; s++) {
    if (s < ktiles) load_step(s);
    infer_i8mma::cp_async_commit();
  }
  for (int kt = 0; kt < ktiles; kt++) {
    /* step kt has landed (this thread's copies), is visible to the tensor
     * cores, and every warpgroup is done with step kt - 2, whose slot the
     * loads below refill */
    infer_i8mma::cp_async_wait<kAhead - 1>();
    infer_wgmma::fence_proxy_async();
    __syncthreads();
    if (kt + kAhead < ktiles) load_step(kt + kAhead);
    infer_i8mma::cp_async_commit();
    const int8_t *as = smem + (kt % kStages) * T::kStageBytes;
    uint64_t da = infer_wgmma::desc_sw64(infer_i8mma::smem_addr(as + wg * 64 * kBK));
    uint64_t db = infer_wgmma::desc_sw64(infer_i8mma::smem_addr(as + BM * kBK));
    infer_wgmma::fence();
    mma_step<BN>(acc, da, db);
    mma_step<BN>(acc, da + infer_wgmma::kDescK32, db + infer_wgmma::kDescK32);
    infer_wgmma::commit();
    /* keep this step's products in flight; the previous step's are done */
    infer_wgmma::wait<1>();
  }
  infer_wgmma::wait<0>();
  infer_wgmma::fence_regs(acc);
  infer_i8mma::cp_async_wait<0>();
  __syncthreads(); /* the residual tile and the channel factors, from every thread */

  const int gq = lane >> 2, tq = lane & 3;
  const int rbase = wg * 64 + (warp & 3) * 16 + gq;
  if (y_i8) {
#pragma unroll
    for (int j = 0; j < BN / 8; j++) {
      const int c = j * 8 + tq * 2;
      const float2 kk = *(const float2 *)(ch_k + c), bb = *(const float2 *)(ch_b + c);
#pragma unroll
      for (int h = 0; h < 2; h++) {
        const int r = rbase + h * 8, m = block_m + r, co = block_n + c;
        float v0 = __fadd_rn(__fmul_rn(__int2float_rn(acc[4 * j + 2 * h]), kk.x), bb.x);
        float v1 = __fadd_rn(__fmul_rn(__int2float_rn(acc[4 * j + 2 * h + 1]), kk.y), bb.y);
        int8_t *o = out_tile + r * T::kOutPitch + c;
        if (res_tile) {
          v0 = __fadd_rn(v0, __fmul_rn((float)o[0], e.residual_scale));
          v1 = __fadd_rn(v1, __fmul_rn((float)o[1], e.residual_scale));
        } else if (e.residual && m < g.m) {
          int64_t idx = (int64_t)m * g.cout + co;
          if (co < g.cout) v0 = __fadd_rn(v0, residual_at(e, idx));
          if (co + 1 < g.cout) v1 = __fadd_rn(v1, residual_at(e, idx + 1));
        }
        if (e.act.kind != INFER_UNARY_NONE) {
          v0 = infer_i8mma::act<true>(e.act, v0);
          v1 = infer_i8mma::act<true>(e.act, v1);
        }
        unsigned q0 = infer_i8mma::round_s8(__fmul_rn(v0, e.y_inv));
        unsigned q1 = infer_i8mma::round_s8(__fmul_rn(v1, e.y_inv));
        *(unsigned short *)o = (unsigned short)((q0 & 0xFF) | ((q1 & 0xFF) << 8));
      }
    }
    __syncthreads();
    for (int q = tid; q < BM * BN / 16; q += kThreads) {
      int r = q / (BN / 16), c = (q % (BN / 16)) * 16, m = block_m + r, co = block_n + c;
      if (m >= g.m || co >= g.cout) continue;
      int8_t *dst = (int8_t *)y + (int64_t)m * g.cout + co;
      const int8_t *src = out_tile + r * T::kOutPitch + c;
      if (vec_out) {
        *(int4 *)dst = *(const int4 *)src;
      } else {
        for (int u = 0; u < 16 && co + u < g.cout; u++) dst[u] = src[u];
      }
    }
    return;
  }
  /* f32 output: from the registers */
  const bool pairs_out = g.cout % 2 == 0 && ((uintptr_t)y & 7) == 0;
#pragma unroll
  for (int j = 0; j < BN / 8; j++) {
    const int c = j * 8 + tq * 2;
    const float2 kk = *(const float2 *)(ch_k + c), bb = *(const float2 *)(ch_b + c);
#pragma unroll
    for (int h = 0; h < 2; h++) {
      const int m = block_m + rbase + h * 8, co = block_n + c;
      if (m >= g.m) continue;
      const int64_t idx = (int64_t)m * g.cout + co;
      float v[2];
#pragma unroll
      for (int u = 0; u < 2; u++) {
        v[u] = __fadd_rn(__fmul_rn(__int2float_rn(acc[4 * j + 2 * h + u]), u ? kk.y : kk.x),
                         u ? bb.y : bb.x);
        if (co + u < g.cout) v[u] = infer_i8mma::residual_act<true>(e, v[u], idx + u);
      }
      /* a pair per store: the four threads of a row then write 32
       * contiguous bytes */
      if (pairs_out && co + 1 < g.cout) {
        *(float2 *)((float *)y + idx) = make_float2(v[0], v[1]);
      } else {
        if (co < g.cout) ((float *)y)[idx] = v[0];
        if (co + 1 < g.cout) ((float *)y)[idx + 1] = v[1];
      }
    }
  }
}

template <int WGS, int BN>
cudaError_t launch(const int8_t *x, const int8_t *w, void *y, int y_i8,
                   const InferCudaInt8ConvGeo *geo, const InferCudaInt8Epilogue *e,
                   void *stream) {
  Geo g = infer_i8mma::geo_of(geo);
  if (g.m <= 0 || g.cout <= 0) return cudaSuccess;
  if (g.c % 16 || (uintptr_t)x % 16 || (uintptr_t)w % 16 ||
      !infer_i8mma::fast_act_kind(e->act.kind))
    return cudaErrorInvalidValue;
  using T = Tile<WGS, BN>;
  const size_t smem = T::smem((g.k + kBK - 1) / kBK);
  dim3 grid((unsigned)(((int64_t)g.m + T::BM - 1) / T::BM * ((g.cout + BN - 1) / BN)));
  const bool pointwise = g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 &&
                         g.pw == 0 && g.oh == g.h && g.ow == g.w;
  auto kernel = pointwise ? conv_wgmma_kernel<WGS, BN, true> : conv_wgmma_kernel<WGS, BN, false>;
  /* above 48 KiB of dynamic shared memory a kernel must opt in (once per
   * form; the attribute is per function) */
  static bool opted[2];
  if (!opted[pointwise]) {
    cudaError_t err = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                           (int)T::smem(T::kStages));
    if (err != cudaSuccess) return err;
    opted[pointwise] = true;
  }
  kernel<<<grid, T::kThreads, smem, (cudaStream_t)stream>>>(x, w, y, y_i8, g, *e);
  return cudaGetLastError();
}

}  // namespace
}  // namespace infer_i8wg

extern "C" cudaError_t infer_cuda_conv_int8_wgmma(int config, const int8_t *x, const int8_t *w,
                                                  void *y, int y_i8,
                                                  const InferCudaInt8ConvGeo *g,
                                                  const InferCudaInt8Epilogue *e, void *stream) {
  switch (config) {
    case 0: return infer_i8wg::launch<2, 128>(x, w, y, y_i8, g, e, stream);
    case 1: return infer_i8wg::launch<2, 64>(x, w, y, y_i8, g, e, stream);
    case 2: return infer_i8wg::launch<1, 128>(x, w, y, y_i8, g, e, stream);
    case 3: return infer_i8wg::launch<1, 64>(x, w, y, y_i8, g, e, stream);
    case 4: return infer_i8wg::launch<2, 256>(x, w, y, y_i8, g, e, stream);
    case 5: return infer_i8wg::launch<4, 128>(x, w, y, y_i8, g, e, stream);
    default: return cudaErrorInvalidValue;
  }
}
