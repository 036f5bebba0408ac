/* INT8 products on cuBLASLt's tensor-core kernels (IMMA): i8 operands,
 * int32 accumulation (CUBLAS_COMPUTE_32I) into an int32 buffer in the
 * layer's workspace, then the INT8 epilogue kernel writes y with the CPU
 * reference's exact float expression (cuBLASLt's own scaling would round
 * differently). Used by 1x1 channels-last convolutions (tactic INT8_LT)
 * and by INT8 Gemm.
 *
 * Row-major acc[rows, n] = A[rows, k] . B[n, k]^T is, column-major,
 * D (n x rows) = B^T-stored-as-(k x n), transposed, times A-stored-as-
 * (k x rows): the "TN" form, the one cuBLASLt's INT8 kernels take with
 * the plain column order (leading dimensions multiples of 4, 4-byte
 * aligned pointers). Rows go in chunks so that the int32 buffer stays
 * bounded whatever the batch. */
#include <cublasLt.h>
#include <cuda_runtime_api.h>
#include <string.h>

#include "cuda_conv_int8.h"

#define LT_CACHE 32
#define LT_CHUNK_ELEMS ((int64_t)8 << 20)   /* int32 values per chunk (32 MiB) */
#define LT_SCRATCH ((size_t)8 << 20)        /* cuBLASLt's own workspace */
#define LT_ALIGN ((size_t)256)

typedef struct LtKey {
  int64_t rows, n, k;
} LtKey;

typedef struct LtEntry {
  bool used;
  LtKey key;
  cublasLtMatmulDesc_t op;
  cublasLtMatrixLayout_t a, b, d;
  cublasLtMatmulAlgo_t algo;
  size_t algo_bytes;
} LtEntry;

static _Thread_local cublasLtHandle_t tl_lt;
static _Thread_local LtEntry tl_cache[LT_CACHE];
static _Thread_local unsigned tl_next;

static InferStatus *lt_error(const InferOpCall *c, const char *what, cublasStatus_t st) {
  return infer_cuda_error(c, what, cublasGetStatusString(st));
}

#define LT_TRY(call, what, expr)                                                  \
  do {                                                                            \
    cublasStatus_t lt_st_ = (expr);                                               \
    if (lt_st_ != CUBLAS_STATUS_SUCCESS) return lt_error((call), (what), lt_st_); \
  } while (0)

static size_t align_up(size_t v) { return (v + LT_ALIGN - 1) / LT_ALIGN * LT_ALIGN; }

static int64_t chunk_rows(int64_t rows, int64_t n) {
  int64_t c = n > 0 ? LT_CHUNK_ELEMS / n : rows;
  if (c < 1) c = 1;
  return c < rows ? c : rows;
}

size_t infer_cuda_int8_lt_workspace(int64_t rows, int64_t n) {
  if (rows <= 0 || n <= 0) return 0;
  return align_up((size_t)(chunk_rows(rows, n) * n) * sizeof(int32_t)) + LT_SCRATCH;
}

static void entry_release(LtEntry *e) {
  if (e->op) cublasLtMatmulDescDestroy(e->op);
  if (e->a) cublasLtMatrixLayoutDestroy(e->a);
  if (e->b) cublasLtMatrixLayoutDestroy(e->b);
  if (e->d) cublasLtMatrixLayoutDestroy(e->d);
  memset(e, 0, sizeof *e);
}

static InferStatus *entry_build(const InferOpCall *c, LtEntry *e) {
  const LtKey *k = &e->key;
  LT_TRY(c, "cublasLtMatmulDescCreate",
         cublasLtMatmulDescCreate(&e->op, CUBLAS_COMPUTE_32I, CUDA_R_32I));
  cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
  LT_TRY(c, "cublasLtMatmulDescSetAttribute",
         cublasLtMatmulDescSetAttribute(e->op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta));
  LT_TRY(c, "cublasLtMatmulDescSetAttribute",
         cublasLtMatmulDescSetAttribute(e->op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb));
  LT_TRY(c, "cublasLtMatrixLayoutCreate",
         cublasLtMatrixLayoutCreate(&e->a, CUDA_R_8I, (uint64_t)k->k, (uint64_t)k->n, k->k));
  LT_TRY(c, "cublasLtMatrixLayoutCreate",
         cublasLtMatrixLayoutCreate(&e->b, CUDA_R_8I, (uint64_t)k->k, (uint64_t)k->rows, k->k));
  LT_TRY(c, "cublasLtMatrixLayoutCreate",
         cublasLtMatrixLayoutCreate(&e->d, CUDA_R_32I, (uint64_t)k->n, (uint64_t)k->rows, k->n));
  cublasLtMatmulPreference_t pref;
  LT_TRY(c, "cublasLtMatmulPreferenceCreate", cublasLtMatmulPreferenceCreate(&pref));
  size_t ws = LT_SCRATCH;
  cublasStatus_t st = cublasLtMatmulPreferenceSetAttribute(
      pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws);
  cublasLtMatmulHeuristicResult_t result;
  int found = 0;
  if (st == CUBLAS_STATUS_SUCCESS)
    st = cublasLtMatmulAlgoGetHeuristic(tl_lt, e->op, e->a, e->b, e->d, e->d, pref, 1, &result,
                                        &found);
  cublasLtMatmulPreferenceDestroy(pref);
  LT_TRY(c, "cublasLtMatmulAlgoGetHeuristic", st);
  if (found < 1)
    return infer_status_new(INFER_ERR_UNSUPPORTED,
                            "layer '%s' (%s): cuBLASLt has no INT8 algorithm for this product",
                            c->node, infer_op_name(c->op));
  e->algo = result.algo;
  e->algo_bytes = result.workspaceSize;
  return NULL;
}

static InferStatus *entry_get(const InferOpCall *c, const LtKey *key, LtEntry **out) {
  if (!tl_lt) LT_TRY(c, "cublasLtCreate", cublasLtCreate(&tl_lt));
  for (int i = 0; i < LT_CACHE; i++)
    if (tl_cache[i].used && memcmp(&tl_cache[i].key, key, sizeof *key) == 0) {
      *out = &tl_cache[i];
      return NULL;
    }
  LtEntry *e = &tl_cache[tl_next++ % LT_CACHE];
  entry_release(e);
  e->key = *key;
  InferStatus *st = entry_build(c, e);
  if (st) {
    entry_release(e);
    return st;
  }
  e->used = true;
  *out = e;
  return NULL;
}

InferStatus *infer_cuda_int8_lt_run(const InferOpCall *c, const InferCudaExec *ex,
                                    const int8_t *a, const int8_t *b, int64_t rows, int64_t n,
                                    int64_t k, void *y, int y_i8,
                                    const InferCudaInt8Epilogue *epi) {
  if (rows <= 0 || n <= 0) return NULL;
  if (k % 4 != 0 || n % 4 != 0 || ((uintptr_t)a % 4) || ((uintptr_t)b % 4))
    return infer_status_new(INFER_ERR_UNSUPPORTED,
                            "layer '%s' (%s): the cuBLASLt INT8 product needs channel counts "
                            "that are multiples of 4",
                            c->node, infer_op_name(c->op));
  int64_t chunk = chunk_rows(rows, n);
  size_t acc_bytes = align_up((size_t)(chunk * n) * sizeof(int32_t));
  if (!ex->workspace || ex->workspace_bytes < acc_bytes + LT_SCRATCH)
    return infer_status_new(INFER_ERR_INTERNAL,
                            "layer '%s' (%s): workspace of %zu bytes, %zu needed", c->node,
                            infer_op_name(c->op), ex->workspace_bytes, acc_bytes + LT_SCRATCH);
  int32_t *acc = ex->workspace;
  void *scratch = (char *)ex->workspace + acc_bytes;
  const int32_t one = 1, zero = 0;
  for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
    int64_t m = rows - r0 < chunk ? rows - r0 : chunk;
    LtKey key = {m, n, k};
    LtEntry *e = NULL;
    INFER_TRY(entry_get(c, &key, &e));
    LT_TRY(c, "cublasLtMatmul",
           cublasLtMatmul(tl_lt, e->op, &one, b, e->a, a + r0 * k, e->b, &zero, acc, e->d, acc,
                          e->d, &e->algo, e->algo_bytes ? scratch : NULL, e->algo_bytes,
                          (cudaStream_t)ex->stream));
    cudaError_t err = infer_cuda_int8_epilogue_rows(acc, m, n, r0, y, y_i8, epi, ex->stream);
    if (err != cudaSuccess)
      return infer_cuda_error(c, "the INT8 epilogue kernel", cudaGetErrorString(err));
  }
  return NULL;
}
