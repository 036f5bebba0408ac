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
 * bounded whatever the batch.
 *
 * The fused form (tactic INT8_LT_FUSED) skips the int32 buffer: cuBLASLt
 * scales each channel by a device vector of alphas, adds a float bias and
 * beta times the i8 residual, applies ReLU and stores i8 itself. Its one
 * rounding of alpha * acc differs from the reference's two (value, then
 * times 1 / y_scale) by at most 1 LSB. */
#include <cublasLt.h>
#include <cuda_runtime_api.h>
#include <string.h>

#include "cuda_conv_int8.h"
#include "cuda_lt_product.h"

#define LT_CHUNK_ELEMS ((int64_t)8 << 20)   /* int32 values per chunk (32 MiB) */
#define LT_SCRATCH ((size_t)8 << 20)        /* cuBLASLt's own workspace */
#define LT_ALIGN ((size_t)256)

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

/* The key of an i8 x i8 product with int32 sums, out_type y (int32 or i8). */
static InferLtKey int8_key(int64_t rows, int64_t n, int64_t k, cudaDataType_t out_type,
                           cudaDataType_t scale_type) {
  InferLtKey key;
  memset(&key, 0, sizeof key);
  key.m = rows;
  key.n = n;
  key.k = k;
  key.ab_type = CUDA_R_8I;
  key.d_type = out_type;
  key.compute = CUBLAS_COMPUTE_32I;
  key.scale_type = scale_type;
  key.epilogue = CUBLASLT_EPILOGUE_DEFAULT;
  key.max_workspace = (int64_t)LT_SCRATCH;
  return key;
}

/* The fused form's workspace: alpha and bias vectors, then cuBLASLt's scratch. */
static size_t factors_bytes(int64_t n) { return align_up((size_t)n * sizeof(float)); }

size_t infer_cuda_int8_lt_fused_workspace(int64_t n) {
  return n > 0 ? 2 * factors_bytes(n) + LT_SCRATCH : 0;
}

InferStatus *infer_cuda_int8_lt_fused_run(const InferOpCall *c, const InferCudaExec *ex,
                                          const int8_t *a, const int8_t *b, int64_t rows,
                                          int64_t n, int64_t k, int8_t *y,
                                          const InferCudaInt8Epilogue *epi, int candidate) {
  if (rows <= 0 || n <= 0) return NULL;
  bool relu = epi->act.kind == INFER_UNARY_RELU;
  if (k % 4 != 0 || n % 4 != 0 || ((uintptr_t)a % 4) || ((uintptr_t)b % 4) ||
      (epi->act.kind != INFER_UNARY_NONE && !relu) || (epi->residual && !epi->residual_i8))
    return infer_status_new(INFER_ERR_UNSUPPORTED,
                            "layer '%s' (%s): cuBLASLt's fused INT8 product needs channel "
                            "counts that are multiples of 4, ReLU or no activation and an i8 "
                            "residual",
                            c->node, infer_op_name(c->op));
  size_t need = infer_cuda_int8_lt_fused_workspace(n);
  if (!ex->workspace || ex->workspace_bytes < need)
    return infer_status_new(INFER_ERR_INTERNAL,
                            "layer '%s' (%s): workspace of %zu bytes, %zu needed", c->node,
                            infer_op_name(c->op), ex->workspace_bytes, need);
  float *alpha = ex->workspace;
  float *bias = (float *)((char *)ex->workspace + factors_bytes(n));
  void *scratch = (char *)ex->workspace + 2 * factors_bytes(n);
  cudaError_t err = infer_cuda_int8_lt_channel_factors(epi, n, alpha, bias, ex->stream);
  if (err != cudaSuccess)
    return infer_cuda_error(c, "the INT8 channel factor kernel", cudaGetErrorString(err));
  InferLtKey key = int8_key(rows, n, k, CUDA_R_8I, CUDA_R_32F);
  key.epilogue = relu ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_BIAS;
  key.bias_f32 = 1;
  /* beta from the host even without a residual (beta 0): cuBLASLt 13 on
   * sm_90 rejects the BETA_ZERO form of the alpha vector for IMMA */
  key.pointer_mode = CUBLASLT_POINTER_MODE_ALPHA_DEVICE_VECTOR_BETA_HOST;
  key.candidate = candidate;
  InferLtProduct *e = NULL;
  INFER_TRY(infer_cuda_lt_product(c, &key, &e));
  cublasLtHandle_t lt;
  INFER_TRY(infer_cuda_lt_handle(c, &lt));
  INFER_LT_TRY(c, "cublasLtMatmulDescSetAttribute",
               cublasLtMatmulDescSetAttribute(e->op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias,
                                              sizeof bias));
  float beta = epi->residual ? epi->residual_scale * epi->y_inv : 0.0f;
  const void *res = epi->residual ? epi->residual : y;
  INFER_LT_TRY(c, "cublasLtMatmul",
               cublasLtMatmul(lt, e->op, alpha, b, e->a, a, e->b, &beta, res, e->d, y, e->d,
                              &e->algo, e->algo_bytes ? scratch : NULL, e->algo_bytes,
                              (cudaStream_t)ex->stream));
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
  cublasLtHandle_t lt;
  INFER_TRY(infer_cuda_lt_handle(c, &lt));
  for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
    int64_t m = rows - r0 < chunk ? rows - r0 : chunk;
    InferLtKey key = int8_key(m, n, k, CUDA_R_32I, CUDA_R_32I);
    InferLtProduct *e = NULL;
    INFER_TRY(infer_cuda_lt_product(c, &key, &e));
    INFER_LT_TRY(c, "cublasLtMatmul",
                 cublasLtMatmul(lt, e->op, &one, b, e->a, a + r0 * k, e->b, &zero, acc, e->d,
                                acc, e->d, &e->algo, e->algo_bytes ? scratch : NULL,
                                e->algo_bytes, (cudaStream_t)ex->stream));
    cudaError_t err = infer_cuda_int8_epilogue_rows(acc, m, n, r0, y, y_i8, epi, ex->stream);
    if (err != cudaSuccess)
      return infer_cuda_error(c, "the INT8 epilogue kernel", cudaGetErrorString(err));
  }
  return NULL;
}
