/* Fused epilogues and small helper kernels for the CUDA layers built on
 * cuDNN / cuBLAS (cuda_conv.c, cuda_gemm.c), plus device helpers shared by
 * the hand-written heavy kernels (cuda_pool.cu, cuda_norm.cu,
 * cuda_softmax_reduce.cu):
 *
 *   - the epilogue y = act(y + bias[c] + residual), in place;
 *   - a window copy (zero padding / cropping of the spatial dims of an
 *     [planes, d0, d1, d2] tensor) with the same optional epilogue;
 *   - Gemm's C broadcast (y = beta * C broadcast to [M, N]);
 *   - the pointer arrays of a broadcast batched MatMul.
 *
 * The host functions only queue work on `stream` (a cudaStream_t) and
 * return the launch status. Under nvcc the header also defines
 * infer_cuda_act, the device twin of infer_cpu_activation. */
#ifndef INFER_CUDA_EPILOGUE_H
#define INFER_CUDA_EPILOGUE_H

#include <cuda_runtime_api.h>

#include "cuda_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What is applied to every element i of y, in this order: + bias[c] with
 * c = (i / inner) % channels, + residual[i], then the activation. y, bias
 * and residual share `dtype` (F32 or F16; F16 is computed in float). For a
 * channels-last tensor inner is 1. */
typedef struct InferCudaEpilogue {
  const void *bias;       /* per channel, or NULL */
  const void *residual;   /* shaped like y, or NULL; may alias y */
  InferActivation act;    /* kind NONE: none */
  int64_t channels;       /* bias length (>= 1 when bias is set) */
  int64_t inner;          /* elements per channel plane */
  InferDType dtype;       /* INFER_DTYPE_UNDEFINED means F32 */
} InferCudaEpilogue;

/* True when the epilogue changes nothing (no bias, residual or activation). */
bool infer_cuda_epilogue_is_noop(const InferCudaEpilogue *e);

/* y[i] = act(y[i] + bias + residual[i]) for i < n. */
cudaError_t infer_cuda_epilogue(void *y, int64_t n, const InferCudaEpilogue *e, void *stream);

/* dst[p, o] = src[p, o + offset] where every spatial coordinate lies inside
 * src, else 0, for planes p < planes and the three right-aligned spatial
 * dims (unused leading dims are 1); then the epilogue e (may be NULL) with
 * channel = p % e->channels (e->inner is ignored). A negative offset pads,
 * a positive one crops. Elements of `dtype` (F32 or F16). With
 * `channels_last`, each spatial position holds `planes` contiguous values
 * per image instead ([images, d0, d1, d2, planes], images = batch). */
typedef struct InferCudaWindow {
  int64_t dst_dims[3], src_dims[3], offset[3];
  int64_t planes;          /* channels-first: batch * channels; channels-last: channels */
  int64_t images;          /* channels-last only: the batch */
  bool channels_last;
  InferDType dtype;
} InferCudaWindow;
cudaError_t infer_cuda_window_copy(void *dst, const void *src, const InferCudaWindow *w,
                                   const InferCudaEpilogue *e, void *stream);

/* y[i, j] = beta * c[i * s0 + j * s1] for an [m, n] row-major y of dtype
 * (F32 or F16; c has the same dtype). */
cudaError_t infer_cuda_broadcast_2d(void *y, InferDType dtype, int64_t m, int64_t n, const void *c,
                                    int64_t s0, int64_t s1, float beta, void *stream);

/* The pointers of a broadcast batched product: for batch b < batches (a
 * linear index over `dims`, rank dims), a_ptrs[b] = a + off_a(b) * a_mat
 * with off_a(b) = sum of coordinate_i * sa[i] (likewise b), y_ptrs[b] =
 * y + b * y_mat. The three arrays live in device memory. */
typedef struct InferCudaBatchMap {
  int rank;
  int64_t dims[INFER_MAX_RANK];
  int64_t sa[INFER_MAX_RANK], sb[INFER_MAX_RANK];
  int64_t a_mat, b_mat, y_mat; /* elements per matrix */
} InferCudaBatchMap;

/* Element size `elem` bytes (4 for F32, 2 for F16). */
cudaError_t infer_cuda_batch_pointers(const void **a_ptrs, const void **b_ptrs, void **y_ptrs,
                                      const void *a, const void *b, void *y, size_t elem,
                                      int64_t batches, const InferCudaBatchMap *map, void *stream);

#ifdef __cplusplus
}
#endif

#ifdef __CUDACC__
/* ---- device helpers (CUDA C++ only) ------------------------------------- */
#include <math.h>

/* The activation of infer_cpu_activation (kernels/cpu/unary.c), evaluated
 * in double like the reference, for every InferUnaryKind. */
static __device__ __forceinline__ double infer_cuda_clamp01(double v) {
  return v < 0 ? 0 : (v > 1 ? 1 : v);
}

static __device__ __forceinline__ double infer_cuda_softplus(double x) {
  return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

static __device__ __forceinline__ double infer_cuda_sigmoid(double x) {
  return 1.0 / (1.0 + exp(-x));
}

static __device__ __noinline__ double infer_cuda_act_slow(InferActivation p, double x) {
  double a = p.alpha, b = p.beta;
  switch (p.kind) {
    case INFER_UNARY_LEAKY_RELU: return x < 0 ? a * x : x;
    case INFER_UNARY_CLIP: x = x < a ? a : x; return x > b ? b : x;
    case INFER_UNARY_HARD_SIGMOID: return isnan(x) ? x : infer_cuda_clamp01(a * x + b);
    case INFER_UNARY_ELU: return x < 0 ? a * expm1(x) : x;
    case INFER_UNARY_SELU: return x <= 0 ? b * a * expm1(x) : b * x;
    case INFER_UNARY_CELU: return isnan(x) ? x : (x > 0 ? x : 0) + fmin(0.0, a * expm1(x / a));
    case INFER_UNARY_THRESHOLDED_RELU: return x > a ? x : 0.0;
    case INFER_UNARY_SHRINK: return x < -b ? x + a : (x > b ? x - a : 0.0);
    case INFER_UNARY_GELU:
      if (p.alpha != 0.0f) {
        const double k = 0.79788456080286535588; /* sqrt(2 / pi) */
        return 0.5 * x * (1.0 + tanh(k * (x + 0.044715 * x * x * x)));
      }
      return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
    case INFER_UNARY_IS_INF:
      return ((p.alpha != 0.0f && isinf(x) && x > 0) || (p.beta != 0.0f && isinf(x) && x < 0))
                 ? 1.0 : 0.0;
    case INFER_UNARY_SIGMOID: return infer_cuda_sigmoid(x);
    case INFER_UNARY_HARD_SWISH: return isnan(x) ? x : x * infer_cuda_clamp01(x / 6.0 + 0.5);
    case INFER_UNARY_TANH: return tanh(x);
    case INFER_UNARY_SILU: return x * infer_cuda_sigmoid(x);
    case INFER_UNARY_MISH: return x * tanh(infer_cuda_softplus(x));
    case INFER_UNARY_SOFTPLUS: return infer_cuda_softplus(x);
    case INFER_UNARY_SOFTSIGN: return x / (1.0 + fabs(x));
    case INFER_UNARY_EXP: return exp(x);
    case INFER_UNARY_LOG: return log(x);
    case INFER_UNARY_SQRT: return sqrt(x);
    case INFER_UNARY_NEG: return -x;
    case INFER_UNARY_ABS: return fabs(x);
    case INFER_UNARY_RECIPROCAL: return 1.0 / x;
    case INFER_UNARY_ERF: return erf(x);
    case INFER_UNARY_FLOOR: return floor(x);
    case INFER_UNARY_CEIL: return ceil(x);
    case INFER_UNARY_ROUND: return rint(x); /* half to even, keeps the sign of zero */
    case INFER_UNARY_SIGN: return isnan(x) ? x : (x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0));
    case INFER_UNARY_SIN: return sin(x);
    case INFER_UNARY_COS: return cos(x);
    case INFER_UNARY_TAN: return tan(x);
    case INFER_UNARY_ASIN: return asin(x);
    case INFER_UNARY_ACOS: return acos(x);
    case INFER_UNARY_ATAN: return atan(x);
    case INFER_UNARY_SINH: return sinh(x);
    case INFER_UNARY_COSH: return cosh(x);
    case INFER_UNARY_ASINH: return asinh(x);
    case INFER_UNARY_ACOSH: return acosh(x);
    case INFER_UNARY_ATANH: return atanh(x);
    case INFER_UNARY_NOT: return x == 0.0 ? 1.0 : 0.0;
    case INFER_UNARY_IS_NAN: return isnan(x) ? 1.0 : 0.0;
    default: return x; /* NONE */
  }
}

/* Fast paths for the common activations; the rest go through one
 * out-of-line switch to keep register use of the callers low. */
static __device__ __forceinline__ float infer_cuda_act(const InferActivation &p, float x) {
  switch (p.kind) {
    case INFER_UNARY_NONE: return x;
    case INFER_UNARY_RELU: return x < 0.0f ? 0.0f : x;
    case INFER_UNARY_LEAKY_RELU: return x < 0.0f ? (float)((double)p.alpha * x) : x;
    case INFER_UNARY_CLIP: {
      float v = x < p.alpha ? p.alpha : x;
      return v > p.beta ? p.beta : v;
    }
    default: return (float)infer_cuda_act_slow(p, (double)x);
  }
}

/* Threads per block and a block count for a grid-stride loop over n. */
#define INFER_CUDA_THREADS 256
static inline unsigned infer_cuda_blocks(int64_t n) {
  int64_t b = (n + INFER_CUDA_THREADS - 1) / INFER_CUDA_THREADS;
  if (b < 1) b = 1;
  if (b > (1 << 20)) b = 1 << 20;
  return (unsigned)b;
}

#define INFER_CUDA_GRID_STRIDE(i, n)                                                  \
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n);           \
       i += (int64_t)gridDim.x * blockDim.x)

/* Reduces v over the block (blockDim.x a multiple of 32, at most 1024)
 * with the associative op whose identity is `identity`; every thread gets
 * the result. `shared` holds 32 values; the whole block must call this. */
template <typename T, typename Op>
static __device__ __forceinline__ T infer_cuda_block_reduce(T v, Op op, T identity, T *shared) {
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  for (int off = 16; off > 0; off >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, off));
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  if (warp == 0) {
    T w = lane < warps ? shared[lane] : identity;
    for (int off = 16; off > 0; off >>= 1) w = op(w, __shfl_xor_sync(0xffffffffu, w, off));
    if (lane == 0) shared[0] = w;
  }
  __syncthreads();
  T r = shared[0];
  __syncthreads();
  return r;
}

struct InferCudaSum {
  template <typename T>
  __device__ __forceinline__ T operator()(T a, T b) const { return a + b; }
};

/* Status of the last launch: NULL or an error naming the layer. */
static inline InferStatus *infer_cuda_launch_status(const InferOpCall *call, const char *what) {
  cudaError_t e = cudaGetLastError();
  return e == cudaSuccess ? NULL : infer_cuda_error(call, what, cudaGetErrorString(e));
}
#endif /* __CUDACC__ */

#endif
