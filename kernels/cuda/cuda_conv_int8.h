/* INT8 convolutions on the CUDA backend (the INT8 form of Conv:
 * InferQuantParams in infer/ops.h; the CPU twin is kernels/cpu/quantize.c).
 *
 * Products are summed in int32 (exact), then one epilogue computes, per
 * output element of channel c, the CPU reference's float expression with
 * the same roundings (no FMA contraction):
 *   v = (float)acc * (x_scale * w_scales[c]) + bias[c]
 *   v += residual_i8 * residual_scale   or   v += residual_f32
 *   v = act(v)
 *   y = y_scale > 0 ? saturate(round_half_even(v * (1 / y_scale))) : v
 *
 * Tactics (InferConvParams.tactic), timed at build like the float ones:
 *   INT8_DIRECT  any geometry, NCHW or NHWC, groups and depthwise
 *                (cuda_conv_int8_direct.cu; __dp4a on 4 channels at a time
 *                when a channels-last group has a multiple of 4): always
 *                available
 *   INT8_LT      1x1 / stride 1 / no pad, channels-last, group 1, channel
 *                counts multiples of 4: cuBLASLt's INT8 tensor-core product
 *                into an int32 buffer, then the epilogue kernel
 *                (cuda_conv_int8_lt.c)
 *   INT8_LT_FUSED+k  the INT8_LT geometry with an i8 output, ReLU or no
 *                activation and no residual or an i8 one: cuBLASLt's IMMA
 *                product with its own epilogue (per-channel alpha, bias,
 *                ReLU, beta * residual, i8 store), k its heuristic's
 *                candidate. Requantizes by alpha = x_scale * w_scale /
 *                y_scale in one step where the reference rounds the
 *                float value first, so an output may differ from the
 *                reference by 1 LSB: never chosen for engines built with
 *                INT8 exactness (infer_build_config_set_int8_exact)
 *   INT8_MMA+k   2-D channels-last, group 1, any kernel/stride/pad/dilation:
 *                the project's implicit GEMM on the tensor cores (mma.sync
 *                m16n8k32 s8, sm_80+) with the epilogue fused
 *                (cuda_conv_int8_mma.cuh); k picks the tile shape and
 *                how the epilogue stores (timed both ways); C_in
 *                not a multiple of 16 (the first layer's 3 channels): only
 *                the 64x64 configuration, which gathers bytes
 *   INT8_WGMMA+k the INT8_MMA layers with C_in % 16 == 0 and a ReLU, clip,
 *                leaky ReLU or no activation, on compute capability 9.0
 *                only: the implicit GEMM on Hopper's warpgroup
 *                instructions (wgmma m64nNk32 s8, cuda_conv_int8_wgmma.cu),
 *                k its tile configuration */
#ifndef INFER_CUDA_CONV_INT8_H
#define INFER_CUDA_CONV_INT8_H

#include "cuda_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

#define INFER_CUDA_CONV_TACTIC_INT8_DIRECT 4000
#define INFER_CUDA_CONV_TACTIC_INT8_LT 4001
#define INFER_CUDA_CONV_TACTIC_INT8_MMA 4100
#define INFER_CUDA_CONV_TACTIC_INT8_LT_FUSED 4200
#define INFER_CUDA_CONV_INT8_LT_FUSED_CANDIDATES 4
#define INFER_CUDA_CONV_TACTIC_INT8_WGMMA 4300
/* WGMMA + k: tile configuration k of infer_cuda_conv_int8_wgmma */
#define INFER_CUDA_CONV_INT8_WGMMA_CONFIGS 6
/* MMA + k: tile configuration k % 4 (below), the epilogue storing from
 * the registers (k < 4) or staged through shared memory (k >= 4) */
#define INFER_CUDA_CONV_INT8_MMA_TILES 4
#define INFER_CUDA_CONV_INT8_MMA_CONFIGS 8

/* The per-element epilogue's operands (device pointers). Conv: channel c
 * of element i; Gemm: column j of row i, with alpha, and beta * C read at
 * i * c_stride[0] + j * c_stride[1] when c is set. */
typedef struct InferCudaInt8Epilogue {
  const float *w_scales;   /* [channels] */
  const float *bias;       /* conv: [channels] or NULL */
  const void *residual;    /* conv: shaped like y, or NULL (i8 or f32) */
  int residual_i8;
  float x_scale, y_scale, residual_scale;
  float y_inv;             /* 1 / y_scale (i8 output): y = round(v * y_inv), as the CPU */
  InferActivation act;
  int gemm;                /* 1: alpha / beta * C form */
  float alpha, beta;
  const float *c;          /* gemm: C, or NULL */
  int64_t c_stride[2];
} InferCudaInt8Epilogue;

/* A convolution's geometry in three right-aligned spatial slots (unused
 * slots: size 1), as the CPU reference computes it. */
typedef struct InferCudaInt8ConvGeo {
  int64_t batch, in_ch, out_ch, group, cg, mg;
  int64_t in[3], out[3], k[3], s[3], d[3], pb[3];
  int64_t out_size, k_size;   /* products of out[], k[] */
  int channels_last;
} InferCudaInt8ConvGeo;

/* ---- the layer (cuda_conv_int8.c) ---- */
InferStatus *infer_cuda_conv_int8_supports(const InferOpCall *call);
InferStatus *infer_cuda_conv_int8_run(const InferOpCall *call, const InferCudaExec *exec);
size_t infer_cuda_conv_int8_workspace(const InferOpCall *call);
InferStatus *infer_cuda_conv_int8_tune(const InferOpCall *call, const InferCudaExec *exec,
                                       int32_t *tactic, double *ms);
/* Whether a tactic can run this layer (the tuner's candidates). */
bool infer_cuda_conv_int8_tactic_applicable(const InferOpCall *call, int32_t tactic);
/* Whether the tuner times tactic for this call: applicable, and not the
 * fused cuBLASLt form when the engine wants INT8 exactness
 * (INFER_CALL_INT8_EXACT). */
bool infer_cuda_conv_int8_tactic_candidate(const InferOpCall *call, int32_t tactic);
/* The geometry and the epilogue operands of an INT8 conv call. */
InferStatus *infer_cuda_conv_int8_geo(const InferOpCall *call, InferCudaInt8ConvGeo *geo);
void infer_cuda_conv_int8_epilogue_of(const InferOpCall *call, InferCudaInt8Epilogue *epi);

/* ---- kernels (cuda_conv_int8_direct.cu, cuda_conv_int8_mma.cu) ---- */
/* The direct kernel: y (i8 when y_i8, else f32) from x and w. */
cudaError_t infer_cuda_conv_int8_direct(const int8_t *x, const int8_t *w, void *y, int y_i8,
                                        const InferCudaInt8ConvGeo *geo,
                                        const InferCudaInt8Epilogue *epi, void *stream);
/* The epilogue over an int32 [rows, channels] product (row-major, channel
 * fastest: a channels-last conv output or a Gemm's Y), rows starting at
 * row0 of the layer (for the residual / C reads and y). */
cudaError_t infer_cuda_int8_epilogue_rows(const int32_t *acc, int64_t rows, int64_t channels,
                                          int64_t row0, void *y, int y_i8,
                                          const InferCudaInt8Epilogue *epi, void *stream);
/* cuBLASLt's per-channel epilogue factors for INT8_LT_FUSED (device
 * arrays of `channels` floats): alpha = x_scale * w_scales[c] * y_inv,
 * bias = bias[c] * y_inv (0 without a bias). */
cudaError_t infer_cuda_int8_lt_channel_factors(const InferCudaInt8Epilogue *epi, int64_t channels,
                                               float *alpha, float *bias, void *stream);
/* A Gemm y[m, n] = epilogue(op(A) op(B)) by one thread per output. */
cudaError_t infer_cuda_gemm_int8_direct(const int8_t *a, const int8_t *b, void *y, int y_i8,
                                        int64_t m, int64_t n, int64_t k, int trans_a, int trans_b,
                                        const InferCudaInt8Epilogue *epi, void *stream);
/* The tensor-core implicit GEMM (2-D channels-last, group 1), one entry per
 * tile configuration: 0 128x128, 1 128x64, 2 64x64, 3 256x128 (M x C_out).
 * Configuration 2 also gathers byte by byte (any C_in, any alignment); the
 * others need C_in % 16 == 0 and 16-byte aligned x and w (else they return
 * cudaErrorInvalidValue). staged: the epilogue goes through shared memory
 * and writes 16 channels per thread (else each thread stores its
 * accumulators' channel pairs). */
#define INFER_CUDA_CONV_INT8_MMA_GATHER_CONFIG 2
#define INFER_CUDA_CONV_INT8_MMA_DECL(k)                                                      \
  cudaError_t infer_cuda_conv_int8_mma_cfg##k(const int8_t *x, const int8_t *w, void *y,     \
                                              int y_i8, const InferCudaInt8ConvGeo *geo,     \
                                              const InferCudaInt8Epilogue *epi, int staged,    \
                                              void *stream);
INFER_CUDA_CONV_INT8_MMA_DECL(0)
INFER_CUDA_CONV_INT8_MMA_DECL(1)
INFER_CUDA_CONV_INT8_MMA_DECL(2)
INFER_CUDA_CONV_INT8_MMA_DECL(3)
#undef INFER_CUDA_CONV_INT8_MMA_DECL

/* The wgmma implicit GEMM (sm_90a code: fails with
 * cudaErrorNoKernelImageForDevice on other GPUs). Tile configuration
 * (M x C_out): 0 128x128, 1 128x64, 2 64x128, 3 64x64, 4 128x256, 5 256x128.
 * Needs
 * C_in % 16 == 0, 16-byte aligned x and w and a ReLU, clip, leaky ReLU or
 * no activation (else cudaErrorInvalidValue). */
cudaError_t infer_cuda_conv_int8_wgmma(int config, const int8_t *x, const int8_t *w, void *y,
                                       int y_i8, const InferCudaInt8ConvGeo *geo,
                                       const InferCudaInt8Epilogue *epi, void *stream);

/* ---- cuBLASLt INT8 products (cuda_conv_int8_lt.c) ---- */
/* acc[rows, n] (int32, row-major) = A[rows, k] . B[n, k]^T with A and B i8
 * row-major (k contiguous), in chunks of at most `chunk_rows` rows, each
 * followed by the epilogue into y. k and n multiples of 4. The workspace
 * holds the int32 chunk and cuBLASLt's own scratch. */
InferStatus *infer_cuda_int8_lt_run(const InferOpCall *call, const InferCudaExec *exec,
                                    const int8_t *a, const int8_t *b, int64_t rows, int64_t n,
                                    int64_t k, void *y, int y_i8, const InferCudaInt8Epilogue *epi);
size_t infer_cuda_int8_lt_workspace(int64_t rows, int64_t n);
/* y[rows, n] (i8) = cuBLASLt's IMMA product of A[rows, k] and B[n, k]^T with
 * its own epilogue: round(alpha[c] * acc + beta * residual + bias'[c]),
 * ReLU when relu, saturated to i8 (tactic INT8_LT_FUSED; residual i8 or
 * NULL, may alias y). candidate: the index into cuBLASLt's heuristic list. */
InferStatus *infer_cuda_int8_lt_fused_run(const InferOpCall *call, const InferCudaExec *exec,
                                          const int8_t *a, const int8_t *b, int64_t rows,
                                          int64_t n, int64_t k, int8_t *y,
                                          const InferCudaInt8Epilogue *epi, int candidate);
size_t infer_cuda_int8_lt_fused_workspace(int64_t n);

#ifdef __cplusplus
}
#endif
#endif
