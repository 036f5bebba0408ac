/* Gemm and numpy MatMul on cuBLAS, f32 or f16 storage with FP32 compute
 * (CUBLAS_COMPUTE_32F; CUBLAS_COMPUTE_32F_FAST_TF32 for f32 when the engine
 * allows TF32; f16 runs on the tensor cores with FP32 accumulation). Row-major products are computed as
 * the column-major transposed product (Y^T = B^T A^T), i.e. by swapping the
 * operands. Gemm: beta * C is broadcast into Y by a kernel first, then
 * cuBLAS accumulates alpha * op(A) op(B) with beta = 1 (so C may alias Y).
 * MatMul batch dims broadcast like numpy: when A is batched and B is one
 * matrix the batch folds into M (one GEMM); when each operand is either
 * fully batched or a single matrix, a strided batched GEMM; any other
 * broadcast builds per-batch pointer arrays in the workspace with a kernel
 * and runs cublasGemmBatchedEx. Fused activations run in the epilogue
 * kernel (cuda_epilogue.cu). One cuBLAS handle per host thread; its
 * workspace is carved from the layer's workspace (cublasSetWorkspace after
 * cublasSetStream, which resets it), so cuBLAS never allocates on the hot
 * path. */
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <limits.h>
#include <string.h>

#include "cuda_epilogue.h"
#include "cuda_gemm_int8.h"
#include "cuda_ops.h"

/* cuBLAS workspace per layer (cuBLAS recommends 4 MiB, 32 MiB on Hopper
 * for its fastest kernels; 4 MiB keeps most of the performance). */
#define GEMM_CUBLAS_WORKSPACE ((size_t)4 << 20)
#define GEMM_ALIGN ((size_t)256)

static _Thread_local cublasHandle_t tl_blas;

static size_t align_up(size_t v) { return (v + GEMM_ALIGN - 1) / GEMM_ALIGN * GEMM_ALIGN; }

static InferStatus *blas_error(const InferOpCall *c, const char *what, cublasStatus_t st) {
  return infer_cuda_error(c, what, cublasGetStatusString(st));
}

#define BLAS_TRY(call, what, expr)                                             \
  do {                                                                         \
    cublasStatus_t gemm_st_ = (expr);                                          \
    if (gemm_st_ != CUBLAS_STATUS_SUCCESS) return blas_error((call), (what), gemm_st_); \
  } while (0)

static InferStatus *cuda_try(const InferOpCall *c, const char *what, cudaError_t e) {
  return e == cudaSuccess ? NULL : infer_cuda_error(c, what, cudaGetErrorString(e));
}

static InferStatus *gemm_unsupported(const InferOpCall *c, const char *what) {
  return infer_status_new(INFER_ERR_UNSUPPORTED,
                          "layer '%s' (%s): %s is not supported on the CUDA backend", c->node,
                          infer_op_name(c->op), what);
}

/* The thread's handle bound to the stream, with cuBLAS's workspace at
 * ws[offset..bytes). */
static InferStatus *bind_handle(const InferOpCall *c, const InferCudaExec *ex, size_t offset,
                                cublasHandle_t *out) {
  if (!tl_blas) {
    BLAS_TRY(c, "cublasCreate", cublasCreate(&tl_blas));
    BLAS_TRY(c, "cublasSetMathMode", cublasSetMathMode(tl_blas, CUBLAS_DEFAULT_MATH));
  }
  BLAS_TRY(c, "cublasSetStream", cublasSetStream(tl_blas, (cudaStream_t)ex->stream));
  void *ws = NULL;
  size_t bytes = 0;
  if (ex->workspace && ex->workspace_bytes > offset) {
    ws = (char *)ex->workspace + offset;
    bytes = (ex->workspace_bytes - offset) / GEMM_ALIGN * GEMM_ALIGN;
  }
  BLAS_TRY(c, "cublasSetWorkspace", cublasSetWorkspace(tl_blas, bytes ? ws : NULL, bytes));
  *out = tl_blas;
  return NULL;
}

/* Row-major Y[m, n] = alpha * op(A) op(B) + beta * Y, A stored [m, k] (or
 * [k, m] transposed), B stored [k, n] (or [n, k]). Batched when count > 1:
 * strides in elements (0 repeats one matrix). */
typedef struct RowMajorGemm {
  cudaDataType_t type;            /* of A, B and Y */
  cublasComputeType_t compute;
  bool ta, tb;
  int64_t m, n, k, count;
  long long stride_a, stride_b, stride_y;
  float alpha, beta;
} RowMajorGemm;

static InferStatus *run_gemm(const InferOpCall *c, cublasHandle_t h, const RowMajorGemm *g,
                             const void *a, const void *b, void *y) {
  int m = (int)g->m, n = (int)g->n, k = (int)g->k;
  int lda = (int)(g->ta ? g->m : g->k), ldb = (int)(g->tb ? g->k : g->n);
  cublasOperation_t oa = g->ta ? CUBLAS_OP_T : CUBLAS_OP_N;
  cublasOperation_t ob = g->tb ? CUBLAS_OP_T : CUBLAS_OP_N;
  if (g->count == 1) {
    BLAS_TRY(c, "cublasGemmEx",
             cublasGemmEx(h, ob, oa, n, m, k, &g->alpha, b, g->type, ldb, a, g->type, lda,
                          &g->beta, y, g->type, n, g->compute, CUBLAS_GEMM_DEFAULT));
    return NULL;
  }
  BLAS_TRY(c, "cublasGemmStridedBatchedEx",
           cublasGemmStridedBatchedEx(h, ob, oa, n, m, k, &g->alpha, b, g->type, ldb,
                                      g->stride_b, a, g->type, lda, g->stride_a, &g->beta, y,
                                      g->type, n, g->stride_y, (int)g->count, g->compute,
                                      CUBLAS_GEMM_DEFAULT));
  return NULL;
}

static bool is_half(const InferOpCall *c) { return c->in[0].dtype == INFER_DTYPE_F16; }

static size_t elem_size(const InferOpCall *c) { return is_half(c) ? 2 : 4; }

/* Storage and compute types of the layer's products. */
static void gemm_types(const InferOpCall *c, RowMajorGemm *g) {
  g->type = is_half(c) ? CUDA_R_16F : CUDA_R_32F;
  g->compute = !is_half(c) && (c->flags & INFER_CALL_TF32) ? CUBLAS_COMPUTE_32F_FAST_TF32
                                                           : CUBLAS_COMPUTE_32F;
}

static InferStatus *activation(const InferOpCall *c, const InferCudaExec *ex,
                               const InferActivation *act, void *y, int64_t n) {
  InferCudaEpilogue e = {NULL, NULL, *act, 1, 1, c->out[0].dtype};
  return cuda_try(c, "activation kernel", infer_cuda_epilogue(y, n, &e, ex->stream));
}

static InferStatus *mm_supports(const InferOpCall *c, int n_inputs, const InferActivation *act) {
  InferDType first = infer_call_input(c, 0)->dtype;
  for (int i = 0; i < n_inputs; i++) {
    if (i >= 2 && !infer_call_has_input(c, i)) continue;
    InferDType t = infer_call_input(c, i)->dtype;
    if ((t != INFER_DTYPE_F32 && t != INFER_DTYPE_F16) || t != first)
      return infer_status_new(INFER_ERR_UNSUPPORTED,
                              "layer '%s' (%s): input %d of type %s is not supported on the CUDA "
                              "backend (f32 or f16, all inputs alike)",
                              c->node, infer_op_name(c->op), i, infer_dtype_name(t));
  }
  if ((int)act->kind < 0 || act->kind >= INFER_UNARY_KIND_COUNT)
    return gemm_unsupported(c, "this fused activation");
  for (int i = 0; i < n_inputs && i < c->n_in; i++) {
    const InferShape *s = &c->in[i].shape;
    for (int d = 0; d < s->rank; d++)
      if (s->d[d] > INT_MAX) return gemm_unsupported(c, "a matrix dimension above 2^31 - 1");
  }
  return NULL;
}

/* ---- Gemm ------------------------------------------------------------------ */

InferStatus *infer_cuda_supports_gemm(const InferOpCall *call) {
  if (call->params->gemm.quant.int8) return infer_cuda_gemm_int8_supports(call);
  INFER_TRY(mm_supports(call, 3, &call->params->gemm.activation));
  if (call->in[0].shape.rank != 2 || call->in[1].shape.rank != 2 ||
      (infer_call_has_input(call, 2) && call->in[2].shape.rank > 2))
    return gemm_unsupported(call, "A or B of rank other than 2, or C of rank above 2");
  return NULL;
}

size_t infer_cuda_workspace_gemm(const InferOpCall *call) {
  if (call->params->gemm.quant.int8) return infer_cuda_gemm_int8_workspace(call);
  return GEMM_CUBLAS_WORKSPACE;
}

InferStatus *infer_cuda_run_gemm(const InferOpCall *c, const InferCudaExec *ex) {
  if (c->params->gemm.quant.int8) return infer_cuda_gemm_int8_run(c, ex);
  const InferGemmParams *p = &c->params->gemm;
  const InferShape *as = &c->in[0].shape, *bs = &c->in[1].shape, *ys = &c->out[0].shape;
  void *y = c->out[0].data;
  RowMajorGemm g = {CUDA_R_32F, CUBLAS_COMPUTE_32F, p->trans_a, p->trans_b, ys->d[0], ys->d[1],
                    p->trans_a ? as->d[0] : as->d[1], 1, 0, 0, 0, p->alpha, 0.0f};
  gemm_types(c, &g);
  int64_t kb = p->trans_b ? bs->d[1] : bs->d[0];
  int64_t ma = p->trans_a ? as->d[1] : as->d[0], nb = p->trans_b ? bs->d[0] : bs->d[1];
  if (kb != g.k || ma != g.m || nb != g.n)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "layer '%s' (gemm): shapes do not match",
                            c->node);
  if (g.m * g.n == 0) return NULL;
  bool has_c = infer_call_has_input(c, 2);
  if (has_c) {
    /* y = beta * C broadcast (right-aligned; size-1 dims repeat) */
    const InferShape *cs = &c->in[2].shape;
    int64_t st[2] = {0, 0}, own = 1;
    for (int i = cs->rank - 1; i >= 0; i--) {
      int slot = 2 - cs->rank + i;
      st[slot] = cs->d[i] == 1 ? 0 : own;
      own *= cs->d[i];
    }
    INFER_TRY(cuda_try(c, "C broadcast kernel",
                       infer_cuda_broadcast_2d(y, c->out[0].dtype, g.m, g.n, c->in[2].data,
                                               st[0], st[1], p->beta, ex->stream)));
    g.beta = 1.0f;
  }
  if (g.k == 0) {
    if (!has_c)
      INFER_TRY(cuda_try(c, "cudaMemsetAsync",
                         cudaMemsetAsync(y, 0, (size_t)(g.m * g.n) * elem_size(c),
                                         (cudaStream_t)ex->stream)));
  } else {
    cublasHandle_t h;
    INFER_TRY(bind_handle(c, ex, 0, &h));
    INFER_TRY(run_gemm(c, h, &g, c->in[0].data, c->in[1].data, y));
  }
  return activation(c, ex, &p->activation, y, g.m * g.n);
}

/* ---- MatMul ---------------------------------------------------------------- */

typedef enum BatchMode { BATCH_ONE, BATCH_FULL, BATCH_OTHER } BatchMode;

typedef struct MatMulPlan {
  int64_t m, n, k, batches;
  InferCudaBatchMap map;          /* batch shape and broadcast strides (in matrices) */
  BatchMode mode_a, mode_b;
  bool pointers;                  /* needs per-batch pointer arrays */
  size_t pointer_bytes;
} MatMulPlan;

/* Strides (in matrices) of an operand's batch dims broadcast to the output
 * batch shape; 0 along broadcast dims. */
static void batch_strides(const InferShape *s, const InferCudaBatchMap *map, int64_t *st) {
  int rank = s->rank > 2 ? s->rank - 2 : 0, off = map->rank - rank;
  int64_t own = 1;
  for (int i = map->rank - 1; i >= 0; i--) {
    int j = i - off;
    st[i] = (j < 0 || s->d[j] == 1) ? 0 : own;
    if (j >= 0) own *= s->d[j];
  }
}

static BatchMode batch_mode(const InferCudaBatchMap *map, const int64_t *st) {
  bool zero = true, full = true;
  int64_t own = 1;
  for (int i = map->rank - 1; i >= 0; i--) {
    if (map->dims[i] > 1) {
      zero = zero && st[i] == 0;
      full = full && st[i] == own;
    }
    own *= map->dims[i];
  }
  return zero ? BATCH_ONE : (full ? BATCH_FULL : BATCH_OTHER);
}

static InferStatus *matmul_plan(const InferOpCall *c, MatMulPlan *pl) {
  const InferShape *as = &c->in[0].shape, *bs = &c->in[1].shape, *ys = &c->out[0].shape;
  memset(pl, 0, sizeof *pl);
  if (as->rank < 1 || bs->rank < 1)
    return gemm_unsupported(c, "a scalar operand");
  pl->m = as->rank >= 2 ? as->d[as->rank - 2] : 1;
  pl->k = as->d[as->rank - 1];
  pl->n = bs->rank >= 2 ? bs->d[bs->rank - 1] : 1;
  int64_t kb = bs->rank >= 2 ? bs->d[bs->rank - 2] : bs->d[0];
  if (kb != pl->k)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "layer '%s' (matmul): inner dimensions %lld and %lld differ", c->node,
                            (long long)pl->k, (long long)kb);
  int ra = as->rank > 2 ? as->rank - 2 : 0, rb = bs->rank > 2 ? bs->rank - 2 : 0;
  pl->map.rank = ra > rb ? ra : rb;
  pl->batches = 1;
  for (int i = 0; i < pl->map.rank; i++) {
    pl->map.dims[i] = ys->d[i];
    pl->batches *= ys->d[i];
  }
  batch_strides(as, &pl->map, pl->map.sa);
  batch_strides(bs, &pl->map, pl->map.sb);
  pl->map.a_mat = pl->m * pl->k;
  pl->map.b_mat = pl->k * pl->n;
  pl->map.y_mat = pl->m * pl->n;
  pl->mode_a = batch_mode(&pl->map, pl->map.sa);
  pl->mode_b = batch_mode(&pl->map, pl->map.sb);
  if (pl->batches > INT_MAX) return gemm_unsupported(c, "more than 2^31 - 1 batches");
  pl->pointers = pl->batches > 1 && (pl->mode_a == BATCH_OTHER || pl->mode_b == BATCH_OTHER);
  if (pl->pointers) pl->pointer_bytes = align_up(3 * (size_t)pl->batches * sizeof(void *));
  return NULL;
}

InferStatus *infer_cuda_supports_matmul(const InferOpCall *call) {
  INFER_TRY(mm_supports(call, 2, &call->params->matmul.activation));
  if (call->in[0].shape.rank < 1 || call->in[1].shape.rank < 1)
    return gemm_unsupported(call, "a scalar (rank 0) operand");
  return NULL;
}

size_t infer_cuda_workspace_matmul(const InferOpCall *call) {
  MatMulPlan pl;
  InferStatus *st = matmul_plan(call, &pl);
  if (st) {
    infer_status_free(st);
    return GEMM_CUBLAS_WORKSPACE;
  }
  return pl.pointer_bytes + GEMM_CUBLAS_WORKSPACE;
}

static InferStatus *matmul_pointers(const InferOpCall *c, const InferCudaExec *ex,
                                    const MatMulPlan *pl, void *y) {
  if (!ex->workspace || ex->workspace_bytes < pl->pointer_bytes)
    return infer_status_new(INFER_ERR_INTERNAL,
                            "layer '%s' (matmul): workspace of %zu bytes, %zu needed", c->node,
                            ex->workspace_bytes, pl->pointer_bytes);
  const void **ap = ex->workspace;
  const void **bp = ap + pl->batches;
  void **yp = (void **)(bp + pl->batches);
  INFER_TRY(cuda_try(c, "batch pointer kernel",
                     infer_cuda_batch_pointers(ap, bp, yp, c->in[0].data, c->in[1].data, y,
                                               elem_size(c), pl->batches, &pl->map, ex->stream)));
  RowMajorGemm g;
  gemm_types(c, &g);
  cublasHandle_t h;
  INFER_TRY(bind_handle(c, ex, pl->pointer_bytes, &h));
  int m = (int)pl->m, n = (int)pl->n, k = (int)pl->k;
  const float one = 1.0f, zero = 0.0f;
  BLAS_TRY(c, "cublasGemmBatchedEx",
           cublasGemmBatchedEx(h, CUBLAS_OP_N, CUBLAS_OP_N, n, m, k, &one,
                               (const void *const *)bp, g.type, n, (const void *const *)ap,
                               g.type, k, &zero, (void *const *)yp, g.type, n,
                               (int)pl->batches, g.compute, CUBLAS_GEMM_DEFAULT));
  return NULL;
}

InferStatus *infer_cuda_run_matmul(const InferOpCall *c, const InferCudaExec *ex) {
  MatMulPlan pl;
  INFER_TRY(matmul_plan(c, &pl));
  void *y = c->out[0].data;
  int64_t ny = pl.batches * pl.m * pl.n;
  const InferActivation *act = &c->params->matmul.activation;
  if (ny == 0) return NULL;
  if (pl.k == 0) {
    INFER_TRY(cuda_try(c, "cudaMemsetAsync",
                       cudaMemsetAsync(y, 0, (size_t)ny * elem_size(c),
                                       (cudaStream_t)ex->stream)));
    return activation(c, ex, act, y, ny);
  }
  if (pl.pointers) {
    INFER_TRY(matmul_pointers(c, ex, &pl, y));
    return activation(c, ex, act, y, ny);
  }
  RowMajorGemm g = {CUDA_R_32F, CUBLAS_COMPUTE_32F, false, false, pl.m, pl.n, pl.k,
                    pl.batches, 0, 0, 0, 1.0f, 0.0f};
  gemm_types(c, &g);
  if (pl.batches == 1) {
    g.count = 1;
  } else if (pl.mode_a == BATCH_FULL && pl.mode_b == BATCH_ONE &&
             pl.batches * pl.m <= INT_MAX) {
    /* one weight matrix for every batch: [batches * m, k] x [k, n] */
    g.m = pl.batches * pl.m;
    g.count = 1;
  } else {
    g.stride_a = pl.mode_a == BATCH_FULL ? pl.m * pl.k : 0;
    g.stride_b = pl.mode_b == BATCH_FULL ? pl.k * pl.n : 0;
    g.stride_y = pl.m * pl.n;
  }
  cublasHandle_t h;
  INFER_TRY(bind_handle(c, ex, 0, &h));
  INFER_TRY(run_gemm(c, h, &g, c->in[0].data, c->in[1].data, y));
  return activation(c, ex, act, y, ny);
}
