/* INT8 2-D channels-last convolution (group 1) as an implicit GEMM on the
 * tensor cores: Y[M, C_out] = A[M, K] . B[C_out, K]^T with M = N*OH*OW
 * output pixels, K = KH*KW*C_in taps-by-channels, A gathered from x on the
 * fly (zeros where the window leaves the image) and B the weights as the
 * channels-last layout stores them ([C_out, KH, KW, C_in]: K contiguous).
 *
 * A block computes a BM x BN tile of Y, BK = 64 bytes of K per step: the
 * tiles of A and B go through a 4-stage shared-memory ring filled with
 * cp.async (16 bytes per copy, zero-filled outside the image or past K)
 * while the warps multiply the stage loaded before, with ldmatrix and
 * mma.sync.m16n8k32.s8.s8.s32 (exact int32 sums). When C_in is not a
 * multiple of 16 (a 16-byte piece of K would cross a tap, or be
 * misaligned: the first layer's 3 channels), the tiles are gathered byte
 * by byte instead. The epilogue (cuda_conv_int8_epilogue.cuh) runs on the
 * accumulators in registers and writes y directly (i8 or f32, pairs of
 * adjacent channels per store).
 *
 * Neighbouring blocks take the C_out tiles of one row of output pixels
 * (they read the same A rows while those are in L2); the loads address A
 * and B from per-tile row offsets and a K cursor moved on per stage, with
 * no division in the loop; the ring holds only as many stages as the
 * reduction has (a 1x1 conv over 64 channels: one, and more blocks per SM);
 * the staged epilogue's i8 residual comes into shared memory with the
 * first stage's loads.
 *
 * Shared rows are padded to 80 bytes: the 8 rows an ldmatrix phase reads
 * then start in 8 different 4-bank groups (no bank conflicts). Needs
 * sm_80 or newer (mma.sync s8 m16n8k32, cp.async, ldmatrix).
 *
 * This header holds the kernel template; cuda_conv_int8_mma.cu and
 * cuda_conv_int8_mma_wide.cu instantiate the tile configurations (two
 * files: they compile in parallel). Only the 64 x 64 configuration has
 * the byte-gather form: the others decline layers whose C_in is not a
 * multiple of 16. CUDA C++ only. */
#ifndef INFER_CUDA_CONV_INT8_MMA_CUH
#define INFER_CUDA_CONV_INT8_MMA_CUH

#include <cuda_runtime.h>

#include "cuda_conv_int8_epilogue.cuh"

namespace infer_i8mma {
namespace {

constexpr int kBK = 64;          /* bytes of K per stage */
constexpr int kLds = kBK + 16;   /* padded shared row */
constexpr int kStages = 4;

struct Geo {
  int n, h, w, c, oh, ow, cout, kh, kw, sh, sw, dh, dw, ph, pw, m, k;
  int staged; /* the epilogue through shared memory (coalesced 16-byte stores) */
};

/* The stage ring (as many stages as the reduction has tiles, up to
 * kStages: the loop never touches the others, and a short reduction, a
 * 1x1 conv over 64 channels, then fits more blocks per SM), or the staged
 * int32 tile (rows padded by 4 words). */
template <int BM, int BN>
__host__ __device__ constexpr size_t smem_bytes(int ktiles = kStages) {
  return (size_t)(ktiles < kStages ? ktiles : kStages) * (BM + BN) * kLds >
                 (size_t)BM * (BN + 4) * 4
             ? (size_t)(ktiles < kStages ? ktiles : kStages) * (BM + BN) * kLds
             : (size_t)BM * (BN + 4) * 4;
}

/* The activations INT8 layers fuse in practice (ReLU, ReLU6 as a clip,
 * leaky ReLU), inline. A kernel built with kFastAct uses only these: the
 * out-of-line path of infer_cuda_act for the others is a call, and
 * accumulators live across a call site go to local memory, which made the
 * 128x128 tiles several times slower. Layers with other activations take
 * the kFastAct = false form, whose epilogue always goes through shared
 * memory (no accumulator is live at a call). */
__host__ __device__ __forceinline__ bool fast_act_kind(InferUnaryKind k) {
  return k == INFER_UNARY_NONE || k == INFER_UNARY_RELU || k == INFER_UNARY_LEAKY_RELU ||
         k == INFER_UNARY_CLIP;
}

template <bool kFastAct>
__device__ __forceinline__ float act(const InferActivation &p, float x) {
  if (!kFastAct) return infer_cuda_act(p, x);
  switch (p.kind) {
    case INFER_UNARY_RELU: return x < 0.0f ? 0.0f : x;
    case INFER_UNARY_LEAKY_RELU: return x < 0.0f ? (float)((double)p.alpha * x) : x;
    case INFER_UNARY_CLIP: {
      float v = x < p.alpha ? p.alpha : x;
      return v > p.beta ? p.beta : v;
    }
    default: return x; /* NONE: the launch sends other kinds to the generic form */
  }
}

/* infer_i8::finish with the activation above. */
template <bool kFastAct>
__device__ __forceinline__ float residual_act(const InferCudaInt8Epilogue &e, float v,
                                              int64_t idx) {
  if (e.residual) {
    if (e.residual_i8)
      v = __fadd_rn(v, __fmul_rn((float)((const int8_t *)e.residual)[idx], e.residual_scale));
    else
      v = __fadd_rn(v, ((const float *)e.residual)[idx]);
  }
  return e.act.kind != INFER_UNARY_NONE ? act<kFastAct>(e.act, v) : v;
}

/* The 16 channels' factors of one staged-epilogue piece: x_scale *
 * w_scales[c] and the bias (0 without one), loaded once per thread (a
 * thread's pieces all start at the same channel). */
struct Channels16 {
  float k[16], b[16];
};

__device__ __forceinline__ void load_channels16(const InferCudaInt8Epilogue &e, int co0,
                                                Channels16 &ch) {
#pragma unroll
  for (int u = 0; u < 16; u += 4) {
    float4 ws = __ldg((const float4 *)(e.w_scales + co0 + u));
    float4 b = e.bias ? __ldg((const float4 *)(e.bias + co0 + u)) : make_float4(0, 0, 0, 0);
    ch.k[u] = __fmul_rn(e.x_scale, ws.x);
    ch.k[u + 1] = __fmul_rn(e.x_scale, ws.y);
    ch.k[u + 2] = __fmul_rn(e.x_scale, ws.z);
    ch.k[u + 3] = __fmul_rn(e.x_scale, ws.w);
    ch.b[u] = b.x;
    ch.b[u + 1] = b.y;
    ch.b[u + 2] = b.z;
    ch.b[u + 3] = b.w;
  }
}

/* round(v) saturated to [-128, 127] in the low byte (PTX's float-to-int
 * conversion saturates to the destination type; NaN gives 0), as
 * infer_i8::saturate_round. */
__device__ __forceinline__ unsigned round_s8(float v) {
  unsigned r;
  asm("cvt.rni.s8.f32 %0, %1;" : "=r"(r) : "f"(v));
  return r;
}

/* Low bytes of a, b, c, d packed into one word (a in byte 0). */
__device__ __forceinline__ unsigned pack_low_bytes(unsigned a, unsigned b, unsigned c,
                                                   unsigned d) {
  unsigned lo, hi, r;
  asm("prmt.b32 %0, %1, %2, 0x0040;" : "=r"(lo) : "r"(a), "r"(b));
  asm("prmt.b32 %0, %1, %2, 0x0040;" : "=r"(hi) : "r"(c), "r"(d));
  asm("prmt.b32 %0, %1, %2, 0x5410;" : "=r"(r) : "r"(lo), "r"(hi));
  return r;
}

/* The staged epilogue: 16 consecutive channels of row m from the int32
 * tile `a` (16-byte aligned). vec: y, the residual, the scales, the bias
 * and the channel count allow 16-byte accesses; ch then holds the
 * channels' factors. The vector form is where an INT8 layer's time goes
 * when its reduction is short (a 1x1 conv over 64 channels), so it takes
 * the factors loaded once, unpacks residual bytes with shifts, requantizes
 * by the reciprocal of the output scale with one saturating conversion per
 * value and packs bytes with byte permutes. res_staged: the piece's i8
 * residual, copied to shared memory (or NULL: read from y's twin). */
template <bool kFastAct>
__device__ __forceinline__ void epilogue16(const InferCudaInt8Epilogue &e, void *y, int y_i8,
                                           const int32_t *a, int64_t idx0, int co0, int n,
                                           bool vec, const Channels16 &ch,
                                           const int8_t *res_staged) {
  if (!vec || n < 16) {
    for (int u = 0; u < 16 && u < n; u++) {
      float v = residual_act<kFastAct>(
          e, infer_i8::conv_value(infer_i8::channel(e, co0 + u), a[u]), idx0 + u);
      infer_i8::store(y, y_i8, idx0 + u, v, e.y_inv);
    }
    return;
  }
  float v[16];
#pragma unroll
  for (int u = 0; u < 16; u += 4) {
    int4 acc = *(const int4 *)(a + u);
    v[u] = __fadd_rn(__fmul_rn(__int2float_rn(acc.x), ch.k[u]), ch.b[u]);
    v[u + 1] = __fadd_rn(__fmul_rn(__int2float_rn(acc.y), ch.k[u + 1]), ch.b[u + 1]);
    v[u + 2] = __fadd_rn(__fmul_rn(__int2float_rn(acc.z), ch.k[u + 2]), ch.b[u + 2]);
    v[u + 3] = __fadd_rn(__fmul_rn(__int2float_rn(acc.w), ch.k[u + 3]), ch.b[u + 3]);
  }
  if (e.residual) {
    /* read before y is written: y may alias the residual */
    if (e.residual_i8) {
      int4 rv = res_staged ? *(const int4 *)res_staged
                           : *(const int4 *)((const int8_t *)e.residual + idx0);
      const unsigned rw[4] = {(unsigned)rv.x, (unsigned)rv.y, (unsigned)rv.z, (unsigned)rv.w};
#pragma unroll
      for (int u = 0; u < 16; u++)
        v[u] = __fadd_rn(v[u], __fmul_rn((float)infer_i8::byte_s8(rw[u / 4], u % 4),
                                         e.residual_scale));
    } else {
#pragma unroll
      for (int u = 0; u < 16; u += 4) {
        float4 r = *(const float4 *)((const float *)e.residual + idx0 + u);
        v[u] = __fadd_rn(v[u], r.x);
        v[u + 1] = __fadd_rn(v[u + 1], r.y);
        v[u + 2] = __fadd_rn(v[u + 2], r.z);
        v[u + 3] = __fadd_rn(v[u + 3], r.w);
      }
    }
  }
  if (e.act.kind != INFER_UNARY_NONE) {
#pragma unroll
    for (int u = 0; u < 16; u++) v[u] = act<kFastAct>(e.act, v[u]);
  }
  if (y_i8) {
    unsigned q[16];
#pragma unroll
    for (int u = 0; u < 16; u++) q[u] = round_s8(__fmul_rn(v[u], e.y_inv));
    *(int4 *)((int8_t *)y + idx0) =
        make_int4((int)pack_low_bytes(q[0], q[1], q[2], q[3]),
                  (int)pack_low_bytes(q[4], q[5], q[6], q[7]),
                  (int)pack_low_bytes(q[8], q[9], q[10], q[11]),
                  (int)pack_low_bytes(q[12], q[13], q[14], q[15]));
  } else {
#pragma unroll
    for (int u = 0; u < 16; u += 4)
      *(float4 *)((float *)y + idx0 + u) = make_float4(v[u], v[u + 1], v[u + 2], v[u + 3]);
  }
}

__device__ __forceinline__ unsigned smem_addr(const void *p) {
  return (unsigned)__cvta_generic_to_shared(p);
}

__device__ __forceinline__ void cp_async16(void *dst, const void *src, int bytes) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_addr(dst)), "l"(src),
               "r"(bytes));
}

__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }

template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

__device__ __forceinline__ void ldmatrix_x4(unsigned r[4], const void *p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_addr(p)));
}

__device__ __forceinline__ void mma_s8(int32_t d[4], const unsigned a[4], unsigned b0,
                                       unsigned b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
      "{%8,%9}, {%0,%1,%2,%3};\n"
      : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

/* A thread's place in K as tap row r, tap column s and channel c, moved
 * `bytes` further (taps in row-major order, channels fastest). */
__device__ __forceinline__ void advance_k_cursor(const Geo &g, int bytes, int &r, int &s,
                                                 int &c) {
  c += bytes;
  while (c >= g.c) {
    c -= g.c;
    if (++s == g.kw) {
      s = 0;
      ++r;
    }
  }
}

/* Byte kk of output pixel (pn, ih0, iw0)'s window row, or 0 outside. */
__device__ __forceinline__ int8_t gather_x(const int8_t *__restrict__ x, const Geo &g, int pn,
                                           int ih0, int iw0, int kk) {
  if (kk >= g.k) return 0;
  int tap = kk / g.c, c = kk - tap * g.c, r = tap / g.kw, s = tap - r * g.kw;
  int ih = ih0 + r * g.dh, iw = iw0 + s * g.dw;
  if ((unsigned)ih >= (unsigned)g.h || (unsigned)iw >= (unsigned)g.w) return 0;
  return __ldg(x + (((int64_t)pn * g.h + ih) * g.w + iw) * g.c + c);
}

template <int BM, int BN, int WM, int WN, bool kVec, bool kFastAct>
__global__ void __launch_bounds__(WM *WN * 32)
    conv_mma_kernel(const int8_t *__restrict__ x, const int8_t *__restrict__ w, void *y, int y_i8,
                    Geo g, InferCudaInt8Epilogue e) {
  constexpr int kThreads = WM * WN * 32;
  constexpr int kWtm = BM / WM, kWtn = BN / WN, kMt = kWtm / 16, kNt = kWtn / 8;
  constexpr int kRowStep = kThreads / 4;           /* rows one pass of 16-byte pieces covers */
  constexpr int kAch = BM / kRowStep, kBch = BN / kRowStep;
  static_assert(kNt % 2 == 0 && kAch >= 1 && kBch >= 1, "tile shape");
  extern __shared__ __align__(16) int8_t smem[];

  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int wm = warp / WN, wn = warp % WN;
  /* the C_out tiles of one row of tiles are neighbouring blocks: they run
   * together and read the same A rows, from L2 */
  const int n_tiles = (g.cout + BN - 1) / BN;
  const int block_m = (int)(blockIdx.x / n_tiles) * BM, block_n = (int)(blockIdx.x % n_tiles) * BN;
  const int col = tid & 3, row0 = tid >> 2;

  /* the output pixels this thread loads A rows for */
  int a_n[kAch], a_ih[kAch], a_iw[kAch];
  bool a_ok[kAch];
#pragma unroll
  for (int j = 0; j < kAch; j++) {
    int m = block_m + row0 + j * kRowStep;
    a_ok[j] = m < g.m;
    int mm = a_ok[j] ? m : 0;
    int ow = mm % g.ow, t = mm / g.ow, oh = t % g.oh;
    a_n[j] = t / g.oh;
    a_ih[j] = oh * g.sh - g.ph;
    a_iw[j] = ow * g.sw - g.pw;
  }

  /* The vector form's addressing without divisions in the loop: each A
   * row's offset of its window origin (n, ih0, iw0) and each B row's
   * offset, once; the thread's 16-byte piece of K as a cursor (tap row r,
   * tap column s, channel cc) that load_stage moves on by kBK per call
   * (calls come in order kt = 0, 1, 2, ...). */
  int64_t a_off[kAch], b_off[kBch];
  bool b_ok[kBch];
  int cur_r = 0, cur_s = 0, cur_c = 0;
  if (kVec) {
#pragma unroll
    for (int j = 0; j < kAch; j++)
      a_off[j] = (((int64_t)a_n[j] * g.h + a_ih[j]) * g.w + a_iw[j]) * g.c;
#pragma unroll
    for (int j = 0; j < kBch; j++) {
      int co = block_n + row0 + j * kRowStep;
      b_ok[j] = co < g.cout;
      b_off[j] = (int64_t)co * g.k;
    }
    int tap = col * 16 / g.c;
    cur_c = col * 16 - tap * g.c;
    cur_r = tap / g.kw;
    cur_s = tap - cur_r * g.kw;
  }

  auto load_stage = [&](int stage, int kt) {
    int8_t *as = smem + stage * (BM + BN) * kLds, *bs = as + BM * kLds;
    int kk = kt * kBK + col * 16;
    if (kVec) {
      const bool k_ok = kk < g.k;
      const int dr = cur_r * g.dh, ds = cur_s * g.dw;
      const int64_t tap_off = ((int64_t)dr * g.w + ds) * g.c + cur_c;
#pragma unroll
      for (int j = 0; j < kAch; j++) {
        int ih = a_ih[j] + dr, iw = a_iw[j] + ds;
        bool ok = a_ok[j] && k_ok && (unsigned)ih < (unsigned)g.h && (unsigned)iw < (unsigned)g.w;
        const int8_t *src = ok ? x + a_off[j] + tap_off : x;
        cp_async16(as + (row0 + j * kRowStep) * kLds + col * 16, src, ok ? 16 : 0);
      }
#pragma unroll
      for (int j = 0; j < kBch; j++) {
        bool ok = b_ok[j] && k_ok;
        const int8_t *src = ok ? w + b_off[j] + kk : w;
        cp_async16(bs + (row0 + j * kRowStep) * kLds + col * 16, src, ok ? 16 : 0);
      }
      /* the next call's piece: kBK bytes further along K */
      advance_k_cursor(g, kBK, cur_r, cur_s, cur_c);
    } else {
#pragma unroll
      for (int j = 0; j < kAch; j++) {
        int4 v;
        int8_t *b = (int8_t *)&v;
        for (int i = 0; i < 16; i++)
          b[i] = a_ok[j] ? gather_x(x, g, a_n[j], a_ih[j], a_iw[j], kk + i) : 0;
        *(int4 *)(as + (row0 + j * kRowStep) * kLds + col * 16) = v;
      }
#pragma unroll
      for (int j = 0; j < kBch; j++) {
        int co = block_n + row0 + j * kRowStep;
        int4 v;
        int8_t *b = (int8_t *)&v;
        for (int i = 0; i < 16; i++)
          b[i] = co < g.cout && kk + i < g.k ? __ldg(w + (int64_t)co * g.k + kk + i) : 0;
        *(int4 *)(bs + (row0 + j * kRowStep) * kLds + col * 16) = v;
      }
    }
  };

  int32_t acc[kMt][kNt][4];
#pragma unroll
  for (int i = 0; i < kMt; i++)
#pragma unroll
    for (int j = 0; j < kNt; j++)
#pragma unroll
      for (int r = 0; r < 4; r++) acc[i][j][r] = 0;

  /* The staged epilogue's pieces: 16 channels of one row each, every piece
   * of a thread at the same channel. Their i8 residual is copied to shared
   * memory (after the ring) with the first stage's loads, so that its
   * latency hides behind the tile's loads and products: a 1x1 conv over 64
   * channels has one step of those, and its epilogue would otherwise wait
   * on the residual. Each thread copies the pieces it later reads. */
  const int ktiles = (g.k + kBK - 1) / kBK;
  const bool pairs = (g.cout & 1) == 0 && ((uintptr_t)y & 7) == 0;
  const bool staged_epilogue = !kFastAct || g.staged || !pairs;
  const bool vec = g.cout % 16 == 0 && ((uintptr_t)y & 15) == 0 &&
                   ((uintptr_t)e.residual & 15) == 0 && ((uintptr_t)e.w_scales & 15) == 0 &&
                   ((uintptr_t)e.bias & 15) == 0;
  static_assert((BM * BN / 16) % kThreads == 0 && kThreads % (BN / 16) == 0,
                "whole pieces per thread, one channel offset per thread");
  constexpr int kPieces = BM * BN / 16 / kThreads;
  const int c0 = (tid % (BN / 16)) * 16, co0 = block_n + c0;
  const bool res_copy = staged_epilogue && vec && e.residual && e.residual_i8 && co0 + 16 <= g.cout;
  int8_t *res_tile = smem + smem_bytes<BM, BN>(ktiles); /* [BM][BN] bytes when res_copy */
  if (res_copy) {
#pragma unroll
    for (int p = 0; p < kPieces; p++) {
      int r = (tid + p * kThreads) / (BN / 16), m = block_m + r;
      const int8_t *src = (const int8_t *)e.residual + (m < g.m ? (int64_t)m * g.cout + co0 : 0);
      cp_async16(res_tile + r * BN + c0, src, m < g.m ? 16 : 0);
    }
  }
#pragma unroll
  for (int s = 0; s < kStages - 1; s++) {
    if (s < ktiles) load_stage(s, s);
    cp_async_commit();
  }
  for (int kt = 0; kt < ktiles; kt++) {
    cp_async_wait<kStages - 2>();
    __syncthreads();
    int next = kt + kStages - 1;
    if (next < ktiles) load_stage(next % kStages, next);
    cp_async_commit();
    const int8_t *as = smem + (kt % kStages) * (BM + BN) * kLds, *bs = as + BM * kLds;
#pragma unroll
    for (int ks = 0; ks < kBK / 32; ks++) {
      unsigned af[kMt][4], bf[kNt][2];
#pragma unroll
      for (int i = 0; i < kMt; i++) {
        int r = wm * kWtm + i * 16 + (lane & 7) + ((lane >> 3) & 1) * 8;
        ldmatrix_x4(af[i], as + r * kLds + ks * 32 + (lane >> 4) * 16);
      }
#pragma unroll
      for (int j = 0; j < kNt / 2; j++) {
        int r = wn * kWtn + j * 16 + (lane & 7) + (lane >> 4) * 8;
        unsigned t4[4];
        ldmatrix_x4(t4, bs + r * kLds + ks * 32 + ((lane >> 3) & 1) * 16);
        bf[2 * j][0] = t4[0];
        bf[2 * j][1] = t4[1];
        bf[2 * j + 1][0] = t4[2];
        bf[2 * j + 1][1] = t4[3];
      }
#pragma unroll
      for (int i = 0; i < kMt; i++)
#pragma unroll
        for (int j = 0; j < kNt; j++) mma_s8(acc[i][j], af[i], bf[j][0], bf[j][1]);
    }
  }
  cp_async_wait<0>();

  /* epilogue: accumulator (i, j, r) is row g (+8 for r >= 2), channel
   * 2 * (lane % 4) + (r & 1) of the warp's m16 x n8 tile (i, j); from the
   * registers only in the common case (pairs of channels, 8-byte aligned
   * y): a loop body small enough to unroll, so the accumulators stay
   * registers (indexing them in a loop that is not unrolled puts the whole
   * array in local memory, main loop included) */
  const int gq = lane >> 2, tq = lane & 3;
  if (staged_epilogue) {
    /* the tile to shared memory, then 16 channels of one row per thread:
     * neighbouring threads write neighbouring 16-byte pieces */
    constexpr int kCs = BN + 4;
    int32_t *cs = (int32_t *)smem;
    __syncthreads();
#pragma unroll
    for (int i = 0; i < kMt; i++)
#pragma unroll
      for (int h = 0; h < 2; h++) {
        int r = wm * kWtm + i * 16 + gq + h * 8;
#pragma unroll
        for (int j = 0; j < kNt; j++)
          *(int2 *)(cs + r * kCs + wn * kWtn + j * 8 + tq * 2) =
              make_int2(acc[i][j][2 * h], acc[i][j][2 * h + 1]);
      }
    __syncthreads();
    Channels16 ch;
    if (vec && co0 + 16 <= g.cout) load_channels16(e, co0, ch);
    for (int q = tid; q < BM * BN / 16; q += kThreads) {
      int r = q / (BN / 16);
      int m = block_m + r;
      if (m >= g.m || co0 >= g.cout) continue;
      epilogue16<kFastAct>(e, y, y_i8, cs + r * kCs + c0, (int64_t)m * g.cout + co0, co0,
                           g.cout - co0, vec, ch, res_copy ? res_tile + r * BN + c0 : nullptr);
    }
    return;
  }
  if constexpr (kFastAct) {
    infer_i8::Channel ch[kNt][2];
#pragma unroll
    for (int j = 0; j < kNt; j++)
#pragma unroll
      for (int q = 0; q < 2; q++) {
        int co = block_n + wn * kWtn + j * 8 + tq * 2 + q;
        ch[j][q] = co < g.cout ? infer_i8::channel(e, co) : infer_i8::Channel{0.0f, 0.0f};
      }
#pragma unroll
    for (int i = 0; i < kMt; i++)
#pragma unroll
      for (int h = 0; h < 2; h++) {
        int m = block_m + wm * kWtm + i * 16 + gq + h * 8;
#pragma unroll
        for (int j = 0; j < kNt; j++) {
          int co = block_n + wn * kWtn + j * 8 + tq * 2;
          if (m < g.m && co < g.cout) {
            int64_t idx = (int64_t)m * g.cout + co;
            float v0 = residual_act<true>(e, infer_i8::conv_value(ch[j][0], acc[i][j][2 * h]), idx);
            float v1 = residual_act<true>(
                e, infer_i8::conv_value(ch[j][1], acc[i][j][2 * h + 1]), idx + 1);
            if (y_i8) {
              char2 q;
              q.x = infer_i8::saturate_round(__fmul_rn(v0, e.y_inv));
              q.y = infer_i8::saturate_round(__fmul_rn(v1, e.y_inv));
              *(char2 *)((int8_t *)y + idx) = q;
            } else {
              *(float2 *)((float *)y + idx) = make_float2(v0, v1);
            }
          }
        }
      }
  }
}

/* The kernels' geometry of a layer (staged: 0). */
__host__ __forceinline__ Geo geo_of(const InferCudaInt8ConvGeo *geo) {
  Geo g;
  g.staged = 0;
  g.n = (int)geo->batch;
  g.h = (int)geo->in[1];
  g.w = (int)geo->in[2];
  g.c = (int)geo->in_ch;
  g.oh = (int)geo->out[1];
  g.ow = (int)geo->out[2];
  g.cout = (int)geo->out_ch;
  g.kh = (int)geo->k[1];
  g.kw = (int)geo->k[2];
  g.sh = (int)geo->s[1];
  g.sw = (int)geo->s[2];
  g.dh = (int)geo->d[1];
  g.dw = (int)geo->d[2];
  g.ph = (int)geo->pb[1];
  g.pw = (int)geo->pb[2];
  g.m = (int)(geo->batch * geo->out_size);
  g.k = (int)(geo->k_size * geo->in_ch);
  return g;
}

/* One activation form of a tile configuration: the vector or the gather
 * kernel (a configuration without the gather form instantiates the vector
 * one twice rather than a gather kernel it never runs). */
template <int BM, int BN, int WM, int WN, bool kGather, bool kFastAct>
cudaError_t run(const int8_t *x, const int8_t *w, void *y, int y_i8, const Geo &g,
                const InferCudaInt8Epilogue &e, bool vec, dim3 grid, size_t smem,
                cudaStream_t s) {
  /* above 48 KiB of dynamic shared memory a kernel must opt in (once; the
   * attribute is per function and setting it again is harmless) */
  static bool opted[2];
  if (!opted[vec]) {
    const int most = (int)(smem_bytes<BM, BN>() + (size_t)BM * BN);
    cudaError_t err =
        vec ? cudaFuncSetAttribute(conv_mma_kernel<BM, BN, WM, WN, true, kFastAct>,
                                   cudaFuncAttributeMaxDynamicSharedMemorySize, most)
            : cudaFuncSetAttribute(conv_mma_kernel<BM, BN, WM, WN, !kGather, kFastAct>,
                                   cudaFuncAttributeMaxDynamicSharedMemorySize, most);
    if (err != cudaSuccess) return err;
    opted[vec] = true;
  }
  if (vec)
    conv_mma_kernel<BM, BN, WM, WN, true, kFastAct>
        <<<grid, WM * WN * 32, smem, s>>>(x, w, y, y_i8, g, e);
  else
    conv_mma_kernel<BM, BN, WM, WN, !kGather, kFastAct>
        <<<grid, WM * WN * 32, smem, s>>>(x, w, y, y_i8, g, e);
  return cudaGetLastError();
}

/* Launches tile configuration <BM, BN, WM, WN>, its epilogue staged
 * through shared memory or storing from the registers; kGather: also the
 * byte-gather form, used when C_in is not a multiple of 16 or a pointer is
 * not 16-byte aligned (without it such a call is refused). */
template <int BM, int BN, int WM, int WN, bool kGather>
cudaError_t launch(const int8_t *x, const int8_t *w, void *y, int y_i8,
                   const InferCudaInt8ConvGeo *geo, const InferCudaInt8Epilogue *e, bool staged,
                   void *stream) {
  Geo g = geo_of(geo);
  g.staged = staged;
  if (g.m <= 0 || g.cout <= 0) return cudaSuccess;
  cudaStream_t s = (cudaStream_t)stream;
  /* plus the i8 residual tile the staged epilogue reads from shared memory */
  const size_t res_bytes = e->residual && e->residual_i8 ? (size_t)BM * BN : 0;
  size_t smem = smem_bytes<BM, BN>((g.k + kBK - 1) / kBK) + res_bytes;
  dim3 grid((unsigned)(((int64_t)g.m + BM - 1) / BM * ((g.cout + BN - 1) / BN)));
  bool vec = g.c % 16 == 0 && ((uintptr_t)x % 16) == 0 && ((uintptr_t)w % 16) == 0;
  if (!vec && !kGather) return cudaErrorInvalidValue;
  if (fast_act_kind(e->act.kind))
    return run<BM, BN, WM, WN, kGather, true>(x, w, y, y_i8, g, *e, vec, grid, smem, s);
  return run<BM, BN, WM, WN, kGather, false>(x, w, y, y_i8, g, *e, vec, grid, smem, s);
}

}  // namespace
}  // namespace infer_i8mma

#endif
