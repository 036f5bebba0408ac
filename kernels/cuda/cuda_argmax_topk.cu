/* ArgMax / ArgMin and TopK on the GPU, matching the CPU reference
 * (kernels/cpu/argmax_topk.c) for f32, i32 and i64 inputs (f16 and 8-bit
 * inputs are rejected). Candidates are ranked by one total order: NaN above
 * every number, then the value (reversed for ArgMin and smallest-k), then
 * the index (the first one; the last one for select_last_index), so the
 * parallel reductions give exactly the reference's serial answers.
 *   argmax: one block per output when the axis is innermost and long, else
 *     one thread per output;
 *   topk: rows of up to 4096 elements are bitonic-sorted in shared memory
 *     (any k); longer rows take k <= 64 selection rounds over global memory
 *     (each picks the best element ranked below the previous pick); other
 *     cases are rejected. Results are always sorted, as in the reference.
 * k comes from the output shape. */
#include <math.h>

#include "cuda_epilogue.h"
#include "cuda_ops.h"
#include "cuda_row_ops.cuh"

#define TOPK_SHARED_MAX 4096
#define TOPK_SELECT_MAX 64

/* ---- (value, index) candidates: a total order for arg and top selection -------- */

template <typename T> static __device__ __forceinline__ bool is_nan(T v) { return false; }
template <> __device__ __forceinline__ bool is_nan<float>(float v) { return isnan(v); }

/* How candidates rank: by value, larger first (smaller when `lower`); ties
 * by index, smaller first (larger when `last`); NaN above every number when
 * `nan_top` (ArgMax, ArgMin, largest-k), else below (smallest-k). */
struct Rank {
  bool lower, last, nan_top;
};

/* Whether (va, ia) ranks above (vb, ib). Index -1 marks "no candidate",
 * which ranks below everything. */
template <typename T>
static __device__ __forceinline__ bool ranks_above(T va, int64_t ia, T vb, int64_t ib, Rank r) {
  if (ia < 0 || ib < 0) return ib < 0 && ia >= 0;
  bool an = is_nan(va), bn = is_nan(vb);
  if (an != bn) return r.nan_top ? an : bn;
  if (!an && va != vb) return r.lower ? va < vb : va > vb;
  return r.last ? ia > ib : ia < ib;
}

/* The best candidate of the block, given each thread's best. */
template <typename T>
static __device__ void block_best(T &v, int64_t &i, Rank r) {
  __shared__ T sv[32];
  __shared__ int64_t si[32];
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  for (int round = 0; round < 2; round++) {
    for (int off = 16; off > 0; off >>= 1) {
      T ov = __shfl_xor_sync(0xffffffffu, v, off);
      int64_t oi = __shfl_xor_sync(0xffffffffu, i, off);
      if (ranks_above(ov, oi, v, i, r)) {
        v = ov;
        i = oi;
      }
    }
    if (round == 1) break;
    if (lane == 0) {
      sv[warp] = v;
      si[warp] = i;
    }
    __syncthreads();
    v = sv[lane < warps ? lane : 0];
    i = lane < warps ? si[lane] : -1;
  }
  __syncthreads();
}

/* ---- argmax / argmin --------------------------------------------------------- */

/* One output per block (inner == 1: contiguous rows) or per thread. */
template <typename T>
__global__ void argmax_kernel(const T *__restrict__ x, int64_t *__restrict__ y, int64_t outer,
                              int64_t n, int64_t inner, Rank rank, bool per_block) {
  int64_t count = outer * inner;
  int64_t start = per_block ? blockIdx.x : (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  int64_t step = per_block ? gridDim.x : (int64_t)gridDim.x * blockDim.x;
  int64_t lane = per_block ? threadIdx.x : 0, lanes = per_block ? blockDim.x : 1;
  for (int64_t o = start; o < count; o += step) {
    int64_t base = (o / inner) * n * inner + o % inner;
    T bv = T();
    int64_t bi = -1;
    for (int64_t j = lane; j < n; j += lanes) {
      T v = x[base + j * inner];
      if (ranks_above(v, j, bv, bi, rank)) {
        bv = v;
        bi = j;
      }
    }
    if (per_block) block_best(bv, bi, rank);
    if (lane == 0) y[o] = bi < 0 ? 0 : bi;
  }
}

extern "C" InferStatus *infer_cuda_supports_argmax(const InferOpCall *c) {
  INFER_TRY(row_dtype(c, true));
  int axis = 0;
  INFER_TRY(check_axis(c, c->params->argmax.axis, &axis));
  if (c->in[0].shape.d[axis] == 0 && infer_shape_numel(&c->out[0].shape) != 0)
    return row_unsupported(c, "an empty axis");
  return NULL;
}

extern "C" size_t infer_cuda_workspace_argmax(const InferOpCall *c) {
  (void)c;
  return 0;
}

template <typename T>
static void argmax_launch(const InferOpCall *c, int64_t outer, int64_t n, int64_t inner,
                          cudaStream_t st) {
  const InferArgMaxParams *p = &c->params->argmax;
  const T *x = (const T *)c->in[0].data;
  int64_t *y = (int64_t *)c->out[0].data;
  Rank rank = {p->is_min, p->select_last_index, true}; /* NaN wins for both */
  if (inner == 1 && n >= 64)
    argmax_kernel<T><<<row_blocks(outer), ROW_THREADS, 0, st>>>(x, y, outer, n, inner, rank, true);
  else
    argmax_kernel<T><<<infer_cuda_blocks(outer * inner), INFER_CUDA_THREADS, 0, st>>>(
        x, y, outer, n, inner, rank, false);
}

extern "C" InferStatus *infer_cuda_run_argmax(const InferOpCall *c, const InferCudaExec *ex) {
  int axis = 0;
  INFER_TRY(check_axis(c, c->params->argmax.axis, &axis));
  int64_t outer, n, inner;
  axis_geometry(&c->in[0].shape, axis, &outer, &n, &inner);
  if (outer * inner <= 0) return NULL;
  if (n == 0) return row_unsupported(c, "an empty axis");
  cudaStream_t st = (cudaStream_t)ex->stream;
  switch (c->in[0].dtype) {
    case INFER_DTYPE_F32: argmax_launch<float>(c, outer, n, inner, st); break;
    case INFER_DTYPE_I32: argmax_launch<int32_t>(c, outer, n, inner, st); break;
    default: argmax_launch<int64_t>(c, outer, n, inner, st); break;
  }
  return infer_cuda_launch_status(c, "argmax kernel");
}

/* ---- topk -------------------------------------------------------------------- */

/* Rows of n <= TOPK_SHARED_MAX: bitonic sort of the row's indices (padded
 * to p2, a power of two, with -1) in dynamic shared memory. */
template <typename T>
__global__ void topk_sort_kernel(const T *__restrict__ x, T *__restrict__ values,
                                 int64_t *__restrict__ indices, int64_t rows, int64_t n,
                                 int64_t inner, int64_t k, int p2, Rank rank) {
  extern __shared__ unsigned char smem[];
  T *sv = (T *)smem;
  int *si = (int *)(smem + ((n * sizeof(T) + 15) / 16) * 16);
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    int64_t base = (row / inner) * n * inner + row % inner;
    for (int j = threadIdx.x; j < p2; j += blockDim.x) {
      if (j < n) sv[j] = x[base + j * inner];
      si[j] = j < n ? j : -1;
    }
    __syncthreads();
    for (int size = 2; size <= p2; size <<= 1) {
      for (int stride = size >> 1; stride > 0; stride >>= 1) {
        for (int t = threadIdx.x; t < p2; t += blockDim.x) {
          int u = t ^ stride;
          if (u <= t) continue;
          int a = si[t], b = si[u];
          T va = a >= 0 ? sv[a] : T(), vb = b >= 0 ? sv[b] : T();
          /* ascending blocks put the better-ranked first */
          bool first = (t & size) == 0;
          bool swap = first ? ranks_above(vb, b, va, a, rank)
                            : ranks_above(va, a, vb, b, rank);
          if (swap) {
            si[t] = b;
            si[u] = a;
          }
        }
        __syncthreads();
      }
    }
    int64_t ob = (row / inner) * k * inner + row % inner;
    for (int64_t j = threadIdx.x; j < k; j += blockDim.x) {
      values[ob + j * inner] = sv[si[j]];
      indices[ob + j * inner] = si[j];
    }
    __syncthreads();
  }
}

/* Long rows, small k: round r picks the best element ranked below the
 * previous pick, reading the row from global memory each round. */
template <typename T>
__global__ void topk_select_kernel(const T *__restrict__ x, T *__restrict__ values,
                                   int64_t *__restrict__ indices, int64_t rows, int64_t n,
                                   int64_t inner, int64_t k, Rank rank) {
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    int64_t base = (row / inner) * n * inner + row % inner;
    int64_t ob = (row / inner) * k * inner + row % inner;
    T pv = T();
    int64_t pi = -1;
    for (int64_t r = 0; r < k; r++) {
      T bv = T();
      int64_t bi = -1;
      for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
        T v = x[base + j * inner];
        bool below_prev = pi < 0 || ranks_above(pv, pi, v, j, rank);
        if (below_prev && ranks_above(v, j, bv, bi, rank)) {
          bv = v;
          bi = j;
        }
      }
      block_best(bv, bi, rank);
      if (threadIdx.x == 0) {
        values[ob + r * inner] = bv;
        indices[ob + r * inner] = bi;
      }
      pv = bv;
      pi = bi;
    }
  }
}

extern "C" InferStatus *infer_cuda_supports_topk(const InferOpCall *c) {
  INFER_TRY(row_dtype(c, true));
  int axis = 0;
  INFER_TRY(check_axis(c, c->params->topk.axis, &axis));
  int64_t n = c->in[0].shape.d[axis], k = c->n_out >= 1 ? c->out[0].shape.d[axis] : -1;
  if (c->n_out < 2 || (n >= 0 && k > n))
    return row_unsupported(c, "this output shape");
  if (n > TOPK_SHARED_MAX && k > TOPK_SELECT_MAX)
    return infer_status_new(INFER_ERR_UNSUPPORTED,
                            "layer '%s' (%s): k = %lld over rows of %lld elements is not "
                            "supported on the CUDA backend (rows up to %d elements, or k up to "
                            "%d)",
                            c->node, infer_op_name(c->op), (long long)k, (long long)n,
                            TOPK_SHARED_MAX, TOPK_SELECT_MAX);
  return NULL;
}

extern "C" size_t infer_cuda_workspace_topk(const InferOpCall *c) {
  (void)c;
  return 0;
}

template <typename T>
static InferStatus *topk_launch(const InferOpCall *c, int64_t rows, int64_t n, int64_t inner,
                                int64_t k, cudaStream_t st) {
  const T *x = (const T *)c->in[0].data;
  T *v = (T *)c->out[0].data;
  int64_t *idx = (int64_t *)c->out[1].data;
  bool largest = c->params->topk.largest;
  Rank rank = {!largest, false, largest}; /* NaN first for largest, last for smallest */
  if (n <= TOPK_SHARED_MAX) {
    int p2 = 1;
    while (p2 < n) p2 <<= 1;
    size_t shared = ((size_t)n * sizeof(T) + 15) / 16 * 16 + (size_t)p2 * sizeof(int);
    topk_sort_kernel<T><<<row_blocks(rows), 512, shared, st>>>(x, v, idx, rows, n, inner, k, p2,
                                                                rank);
  } else if (k <= TOPK_SELECT_MAX) {
    topk_select_kernel<T><<<row_blocks(rows), ROW_THREADS, 0, st>>>(x, v, idx, rows, n, inner, k,
                                                                   rank);
  } else {
    return infer_cuda_supports_topk(c);
  }
  return infer_cuda_launch_status(c, "topk kernel");
}

extern "C" InferStatus *infer_cuda_run_topk(const InferOpCall *c, const InferCudaExec *ex) {
  int axis = 0;
  INFER_TRY(check_axis(c, c->params->topk.axis, &axis));
  int64_t outer, n, inner;
  axis_geometry(&c->in[0].shape, axis, &outer, &n, &inner);
  int64_t k = c->out[0].shape.d[axis];
  if (k > n || k < 0)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "layer '%s' (topk): k = %lld > %lld",
                            c->node, (long long)k, (long long)n);
  if (k == 0 || outer * inner == 0) return NULL;
  cudaStream_t st = (cudaStream_t)ex->stream;
  switch (c->in[0].dtype) {
    case INFER_DTYPE_F32: return topk_launch<float>(c, outer * inner, n, inner, k, st);
    case INFER_DTYPE_I32: return topk_launch<int32_t>(c, outer * inner, n, inner, k, st);
    default: return topk_launch<int64_t>(c, outer * inner, n, inner, k, st);
  }
}

