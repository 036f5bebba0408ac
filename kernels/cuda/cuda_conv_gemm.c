/* A channels-last 1x1 convolution with stride 1 and no padding is a matrix
 * product: y[N*H*W, C_out] = x[N*H*W, C_in] . w[C_out, C_in]^T (+ bias, +
 * residual, activation). cuBLASLt runs it with the bias and ReLU in its
 * epilogue and the residual as its C operand; for the bottleneck blocks of
 * ResNets (two thirds of their convolutions) its kernels beat the legacy
 * cuDNN algorithms, most at small batches. It is one of the tactics the
 * builder times for such layers (INFER_CUDA_CONV_TACTIC_GEMM + candidate).
 * cuBLASLt's first heuristic choice is not always its fastest: for
 * ResNet-50's 64 -> 256 products at 56x56 (K = 64, a residual as C) it lost
 * to a legacy cuDNN algorithm at 0.7 ms, so every candidate is timed.
 *
 * Column-major view (cuBLASLt's): D = Y^T is C_out x M with ld C_out (the
 * NHWC output as it lies in memory), A = W^T-stored-as-[C_in x C_out]
 * transposed, B = X^T (C_in x M, ld C_in); the bias is per row of D. */
#include <cublasLt.h>
#include <cuda_runtime_api.h>
#include <string.h>

#include "conv_geometry.h"
#include "cuda_conv_gemm.h"
#include "cuda_epilogue.h"

#define GEMM_CACHE 32

typedef struct GemmKey {
  int64_t m, n, k;        /* D is n x m: n = C_out rows, m = N*H*W columns */
  int32_t half, tf32, epilogue, residual;
  int32_t candidate;      /* index into the heuristic's list */
} GemmKey;

typedef struct GemmEntry {
  bool used;
  GemmKey key;
  cublasLtMatmulDesc_t op;
  cublasLtMatrixLayout_t a, b, d;
  cublasLtMatmulAlgo_t algo;
  size_t algo_bytes;
} GemmEntry;

static _Thread_local cublasLtHandle_t tl_lt;
static _Thread_local GemmEntry tl_gemm[GEMM_CACHE];
static _Thread_local unsigned tl_next;

static InferStatus *lt_error(const InferOpCall *c, const char *what, cublasStatus_t st) {
  return infer_cuda_error(c, what, cublasGetStatusString(st));
}

#define LT_TRY(call, what, expr)                                               \
  do {                                                                         \
    cublasStatus_t lt_st_ = (expr);                                            \
    if (lt_st_ != CUBLAS_STATUS_SUCCESS) return lt_error((call), (what), lt_st_); \
  } while (0)

bool infer_cuda_conv_gemm_applicable(const InferOpCall *c) {
  const InferConvParams *p = &c->params->conv;
  if (c->op != INFER_OP_CONV || !p->channels_last || p->spatial != 2) return false;
  if (infer_geo_default1(p->group) != 1) return false;
  const InferShape *ws = &c->in[1].shape;
  if (ws->rank != 4 || ws->d[1] != 1 || ws->d[2] != 1) return false;
  for (int i = 0; i < 2; i++) {
    if ((p->strides[i] != 0 && p->strides[i] != 1) || p->pads[i] != 0 || p->pads[2 + i] != 0)
      return false;
  }
  InferDType t = c->in[0].dtype;
  return t == INFER_DTYPE_F16 || t == INFER_DTYPE_F32;
}

size_t infer_cuda_conv_gemm_workspace(void) { return INFER_CUDA_CONV_GEMM_WORKSPACE; }

static void entry_release(GemmEntry *e) {
  if (e->op) cublasLtMatmulDescDestroy(e->op);
  if (e->a) cublasLtMatrixLayoutDestroy(e->a);
  if (e->b) cublasLtMatrixLayoutDestroy(e->b);
  if (e->d) cublasLtMatrixLayoutDestroy(e->d);
  memset(e, 0, sizeof *e);
}

static InferStatus *entry_build(const InferOpCall *c, GemmEntry *e) {
  const GemmKey *k = &e->key;
  cudaDataType_t t = k->half ? CUDA_R_16F : CUDA_R_32F;
  cublasComputeType_t compute = k->tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  LT_TRY(c, "cublasLtMatmulDescCreate", cublasLtMatmulDescCreate(&e->op, compute, CUDA_R_32F));
  cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
  LT_TRY(c, "cublasLtMatmulDescSetAttribute",
         cublasLtMatmulDescSetAttribute(e->op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta));
  LT_TRY(c, "cublasLtMatmulDescSetAttribute",
         cublasLtMatmulDescSetAttribute(e->op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb));
  cublasLtEpilogue_t epi = (cublasLtEpilogue_t)k->epilogue;
  LT_TRY(c, "cublasLtMatmulDescSetAttribute",
         cublasLtMatmulDescSetAttribute(e->op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi));
  if (epi != CUBLASLT_EPILOGUE_DEFAULT) {
    cudaDataType_t bt = t;
    LT_TRY(c, "cublasLtMatmulDescSetAttribute",
           cublasLtMatmulDescSetAttribute(e->op, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bt,
                                          sizeof bt));
  }
  /* A: w stored [C_out, C_in] row-major = C_in x C_out column-major, transposed */
  LT_TRY(c, "cublasLtMatrixLayoutCreate",
         cublasLtMatrixLayoutCreate(&e->a, t, (uint64_t)k->k, (uint64_t)k->n, k->k));
  LT_TRY(c, "cublasLtMatrixLayoutCreate",
         cublasLtMatrixLayoutCreate(&e->b, t, (uint64_t)k->k, (uint64_t)k->m, k->k));
  LT_TRY(c, "cublasLtMatrixLayoutCreate",
         cublasLtMatrixLayoutCreate(&e->d, t, (uint64_t)k->n, (uint64_t)k->m, k->n));
  cublasLtMatmulPreference_t pref;
  LT_TRY(c, "cublasLtMatmulPreferenceCreate", cublasLtMatmulPreferenceCreate(&pref));
  size_t ws = INFER_CUDA_CONV_GEMM_WORKSPACE;
  cublasStatus_t st = cublasLtMatmulPreferenceSetAttribute(
      pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws);
  cublasLtMatmulHeuristicResult_t results[INFER_CUDA_CONV_GEMM_CANDIDATES];
  int found = 0;
  if (st == CUBLAS_STATUS_SUCCESS)
    st = cublasLtMatmulAlgoGetHeuristic(tl_lt, e->op, e->a, e->b, e->d, e->d, pref,
                                        INFER_CUDA_CONV_GEMM_CANDIDATES, results, &found);
  cublasLtMatmulPreferenceDestroy(pref);
  LT_TRY(c, "cublasLtMatmulAlgoGetHeuristic", st);
  if (found <= k->candidate)
    return infer_status_new(INFER_ERR_UNSUPPORTED,
                            "layer '%s' (conv): cuBLASLt has %d algorithms for this 1x1 product, "
                            "the plan names candidate %d (rebuild the plan on this machine)",
                            c->node, found, k->candidate + 1);
  const cublasLtMatmulHeuristicResult_t result = results[k->candidate];
  e->algo = result.algo;
  e->algo_bytes = result.workspaceSize;
  return NULL;
}

static InferStatus *entry_get(const InferOpCall *c, const GemmKey *key, GemmEntry **out) {
  if (!tl_lt) LT_TRY(c, "cublasLtCreate", cublasLtCreate(&tl_lt));
  for (int i = 0; i < GEMM_CACHE; i++)
    if (tl_gemm[i].used && memcmp(&tl_gemm[i].key, key, sizeof *key) == 0) {
      *out = &tl_gemm[i];
      return NULL;
    }
  GemmEntry *e = &tl_gemm[tl_next++ % GEMM_CACHE];
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

bool infer_cuda_conv_gemm_tactic(int32_t tactic) {
  return tactic >= INFER_CUDA_CONV_TACTIC_GEMM &&
         tactic < INFER_CUDA_CONV_TACTIC_GEMM + INFER_CUDA_CONV_GEMM_CANDIDATES;
}

static InferStatus *gemm_run(const InferOpCall *c, const InferCudaExec *ex, int32_t candidate) {
  const InferConvParams *p = &c->params->conv;
  const InferShape *xs = &c->in[0].shape, *ws = &c->in[1].shape;
  const void *bias = infer_cuda_conv_bias(c), *res = infer_cuda_conv_residual(c);
  bool relu = p->activation.kind == INFER_UNARY_RELU;
  bool act_here = relu || p->activation.kind == INFER_UNARY_NONE;
  GemmKey key;
  memset(&key, 0, sizeof key);
  key.m = xs->d[0] * xs->d[1] * xs->d[2];
  key.k = xs->d[3];
  key.n = ws->d[0];
  key.half = c->in[0].dtype == INFER_DTYPE_F16;
  key.tf32 = !key.half && (c->flags & INFER_CALL_TF32);
  key.residual = res != NULL;
  cublasLtEpilogue_t epi = CUBLASLT_EPILOGUE_DEFAULT;
  if (bias) epi = relu && act_here ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_BIAS;
  else if (relu) epi = CUBLASLT_EPILOGUE_RELU;
  key.epilogue = (int32_t)epi;
  key.candidate = candidate;
  if (key.m == 0 || key.n == 0) return NULL;
  GemmEntry *e = NULL;
  INFER_TRY(entry_get(c, &key, &e));
  if (ex->workspace_bytes < e->algo_bytes)
    return infer_status_new(INFER_ERR_INTERNAL, "layer '%s' (conv): workspace of %zu bytes, %zu needed",
                            c->node, ex->workspace_bytes, e->algo_bytes);
  if (bias)
    LT_TRY(c, "cublasLtMatmulDescSetAttribute",
           cublasLtMatmulDescSetAttribute(e->op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias,
                                          sizeof bias));
  const float one = 1.0f, zero = 0.0f;
  void *y = c->out[0].data;
  LT_TRY(c, "cublasLtMatmul",
         cublasLtMatmul(tl_lt, e->op, &one, c->in[1].data, e->a, c->in[0].data, e->b,
                        res ? &one : &zero, res ? res : y, e->d, y, e->d, &e->algo,
                        e->algo_bytes ? ex->workspace : NULL, e->algo_bytes,
                        (cudaStream_t)ex->stream));
  if (act_here) return NULL;
  /* other activations: one pass after the product (bias and residual are in) */
  InferCudaEpilogue after = {NULL, NULL, p->activation, 1, 1, c->out[0].dtype};
  cudaError_t err = infer_cuda_epilogue(y, infer_shape_numel(&c->out[0].shape), &after, ex->stream);
  return err == cudaSuccess ? NULL : infer_cuda_error(c, "epilogue kernel", cudaGetErrorString(err));
}

InferStatus *infer_cuda_conv_gemm_run(const InferOpCall *c, const InferCudaExec *ex) {
  int32_t t = c->params->conv.tactic;
  /* a candidate missing here (a plan from another cuBLASLt, which the
   * plan's fingerprint normally refuses first) is an error naming the layer */
  return gemm_run(c, ex, infer_cuda_conv_gemm_tactic(t) ? t - INFER_CUDA_CONV_TACTIC_GEMM : 0);
}

InferStatus *infer_cuda_conv_gemm_tune(const InferOpCall *c, const InferCudaExec *ex,
                                       int32_t *tactic, double *ms) {
  *tactic = 0;
  *ms = 0;
  InferStatus *first = NULL;
  for (int32_t i = 0; i < INFER_CUDA_CONV_GEMM_CANDIDATES; i++) {
    double t = 0;
    InferStatus *st = infer_cuda_time(c, ex, gemm_run, i, 5, "timing the cuBLASLt product", &t);
    if (st) {
      /* the list ended, or this candidate cannot run here: the others may */
      if (i == 0) first = st;
      else infer_status_free(st);
      continue;
    }
    if (*tactic == 0 || t < *ms) {
      *tactic = INFER_CUDA_CONV_TACTIC_GEMM + i;
      *ms = t;
    }
  }
  if (*tactic) {
    infer_status_free(first);
    return NULL;
  }
  return first ? first : infer_status_new(INFER_ERR_UNSUPPORTED,
                                          "layer '%s' (conv): no cuBLASLt algorithm ran", c->node);
}
