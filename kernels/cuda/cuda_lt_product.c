/* The cuBLASLt product cache of cuda_lt_product.h: one per host thread, so
 * that contexts on different threads never share descriptors. */
#include <cuda_runtime_api.h>
#include <string.h>

#include "cuda_lt_product.h"

#define LT_CACHE 64

typedef struct LtEntry {
  bool used;
  InferLtKey key;
  InferLtProduct p;
} LtEntry;

static _Thread_local cublasLtHandle_t tl_lt;
static _Thread_local LtEntry tl_cache[LT_CACHE];
static _Thread_local unsigned tl_next;

InferStatus *infer_cuda_lt_error(const InferOpCall *c, const char *what, cublasStatus_t st) {
  return infer_cuda_error(c, what, cublasGetStatusString(st));
}

InferStatus *infer_cuda_lt_handle(const InferOpCall *c, cublasLtHandle_t *out) {
  if (!tl_lt) INFER_LT_TRY(c, "cublasLtCreate", cublasLtCreate(&tl_lt));
  *out = tl_lt;
  return NULL;
}

static void entry_release(LtEntry *e) {
  if (e->p.op) cublasLtMatmulDescDestroy(e->p.op);
  if (e->p.a) cublasLtMatrixLayoutDestroy(e->p.a);
  if (e->p.b) cublasLtMatrixLayoutDestroy(e->p.b);
  if (e->p.d) cublasLtMatrixLayoutDestroy(e->p.d);
  memset(e, 0, sizeof *e);
}

static InferStatus *set_attr(const InferOpCall *c, cublasLtMatmulDesc_t op,
                             cublasLtMatmulDescAttributes_t attr, const void *v, size_t bytes) {
  INFER_LT_TRY(c, "cublasLtMatmulDescSetAttribute",
               cublasLtMatmulDescSetAttribute(op, attr, v, bytes));
  return NULL;
}

static InferStatus *entry_build(const InferOpCall *c, LtEntry *e) {
  const InferLtKey *k = &e->key;
  InferLtProduct *p = &e->p;
  INFER_LT_TRY(c, "cublasLtMatmulDescCreate",
               cublasLtMatmulDescCreate(&p->op, (cublasComputeType_t)k->compute,
                                        (cudaDataType_t)k->scale_type));
  cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
  INFER_TRY(set_attr(c, p->op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta));
  INFER_TRY(set_attr(c, p->op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb));
  cublasLtEpilogue_t epi = (cublasLtEpilogue_t)k->epilogue;
  if (epi != CUBLASLT_EPILOGUE_DEFAULT) {
    cudaDataType_t bias_type = k->bias_f32 ? CUDA_R_32F : (cudaDataType_t)k->d_type;
    INFER_TRY(set_attr(c, p->op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi));
    INFER_TRY(set_attr(c, p->op, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bias_type,
                       sizeof bias_type));
  }
  if (k->pointer_mode) {
    cublasLtPointerMode_t mode = (cublasLtPointerMode_t)k->pointer_mode;
    INFER_TRY(set_attr(c, p->op, CUBLASLT_MATMUL_DESC_POINTER_MODE, &mode, sizeof mode));
  }
  cudaDataType_t ab = (cudaDataType_t)k->ab_type, d = (cudaDataType_t)k->d_type;
  INFER_LT_TRY(c, "cublasLtMatrixLayoutCreate",
               cublasLtMatrixLayoutCreate(&p->a, ab, (uint64_t)k->k, (uint64_t)k->n, k->k));
  INFER_LT_TRY(c, "cublasLtMatrixLayoutCreate",
               cublasLtMatrixLayoutCreate(&p->b, ab, (uint64_t)k->k, (uint64_t)k->m, k->k));
  INFER_LT_TRY(c, "cublasLtMatrixLayoutCreate",
               cublasLtMatrixLayoutCreate(&p->d, d, (uint64_t)k->n, (uint64_t)k->m, k->n));
  cublasLtMatmulPreference_t pref;
  INFER_LT_TRY(c, "cublasLtMatmulPreferenceCreate", cublasLtMatmulPreferenceCreate(&pref));
  size_t ws = (size_t)k->max_workspace;
  cublasStatus_t st = cublasLtMatmulPreferenceSetAttribute(
      pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws);
  cublasLtMatmulHeuristicResult_t results[INFER_LT_MAX_CANDIDATES];
  /* always the same request, so that an index names the same algorithm */
  int found = 0;
  if (st == CUBLAS_STATUS_SUCCESS)
    st = cublasLtMatmulAlgoGetHeuristic(tl_lt, p->op, p->a, p->b, p->d, p->d, pref,
                                        INFER_LT_MAX_CANDIDATES, results, &found);
  cublasLtMatmulPreferenceDestroy(pref);
  INFER_LT_TRY(c, "cublasLtMatmulAlgoGetHeuristic", st);
  if (found <= k->candidate)
    return infer_status_new(INFER_ERR_UNSUPPORTED,
                            "layer '%s' (%s): cuBLASLt has %d algorithms for this product, "
                            "candidate %d is named (a plan from another machine: rebuild it "
                            "here)",
                            c->node, infer_op_name(c->op), found, k->candidate + 1);
  p->algo = results[k->candidate].algo;
  p->algo_bytes = results[k->candidate].workspaceSize;
  return NULL;
}

InferStatus *infer_cuda_lt_product(const InferOpCall *c, const InferLtKey *key,
                                   InferLtProduct **out) {
  if (key->candidate < 0 || key->candidate >= INFER_LT_MAX_CANDIDATES)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "layer '%s' (%s): cuBLASLt candidate %d out of range", c->node,
                            infer_op_name(c->op), key->candidate);
  cublasLtHandle_t h;
  INFER_TRY(infer_cuda_lt_handle(c, &h));
  for (int i = 0; i < LT_CACHE; i++)
    if (tl_cache[i].used && memcmp(&tl_cache[i].key, key, sizeof *key) == 0) {
      *out = &tl_cache[i].p;
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
  *out = &e->p;
  return NULL;
}
