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
#include "cuda_lt_product.h"

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
  bool half = c->in[0].dtype == INFER_DTYPE_F16;
  InferLtKey key;
  memset(&key, 0, sizeof key);
  key.m = xs->d[0] * xs->d[1] * xs->d[2];
  key.k = xs->d[3];
  key.n = ws->d[0];
  key.ab_type = key.d_type = half ? CUDA_R_16F : CUDA_R_32F;
  key.compute = !half && (c->flags & INFER_CALL_TF32) ? CUBLAS_COMPUTE_32F_FAST_TF32
                                                      : CUBLAS_COMPUTE_32F;
  key.scale_type = CUDA_R_32F;
  cublasLtEpilogue_t epi = CUBLASLT_EPILOGUE_DEFAULT;
  if (bias) epi = relu && act_here ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_BIAS;
  else if (relu) epi = CUBLASLT_EPILOGUE_RELU;
  key.epilogue = (int32_t)epi;
  key.candidate = candidate;
  key.max_workspace = INFER_CUDA_CONV_GEMM_WORKSPACE;
  if (key.m == 0 || key.n == 0) return NULL;
  InferLtProduct *e = NULL;
  INFER_TRY(infer_cuda_lt_product(c, &key, &e));
  cublasLtHandle_t lt;
  INFER_TRY(infer_cuda_lt_handle(c, &lt));
  if (ex->workspace_bytes < e->algo_bytes)
    return infer_status_new(INFER_ERR_INTERNAL, "layer '%s' (conv): workspace of %zu bytes, %zu needed",
                            c->node, ex->workspace_bytes, e->algo_bytes);
  if (bias)
    INFER_LT_TRY(c, "cublasLtMatmulDescSetAttribute",
                 cublasLtMatmulDescSetAttribute(e->op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias,
                                                sizeof bias));
  const float one = 1.0f, zero = 0.0f;
  void *y = c->out[0].data;
  INFER_LT_TRY(c, "cublasLtMatmul",
               cublasLtMatmul(lt, e->op, &one, c->in[1].data, e->a, c->in[0].data, e->b,
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
