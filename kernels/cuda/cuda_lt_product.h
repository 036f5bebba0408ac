/* cuBLASLt products in the "TN" column-major form the convolution and
 * INT8 paths use: D (n x m) = op(A)^T-stored-as-(k x n) times B-stored-as-
 * (k x m), that is row-major y[m, n] = x[m, k] . w[n, k]^T. Descriptors
 * and the chosen heuristic candidate are cached per host thread, keyed by
 * everything that defines them (cuda_lt_product.c). */
#ifndef INFER_CUDA_LT_PRODUCT_H
#define INFER_CUDA_LT_PRODUCT_H

#include <cublasLt.h>

#include "cuda_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct InferLtKey {
  int64_t m, n, k;                 /* y is m x n; k is the reduction */
  int32_t ab_type, d_type;         /* cudaDataType_t of w/x and of y */
  int32_t compute, scale_type;     /* cublasComputeType_t, cudaDataType_t */
  int32_t epilogue;                /* cublasLtEpilogue_t */
  int32_t bias_f32;                /* the bias is float (IMMA with a float scale), else d_type */
  int32_t pointer_mode;            /* cublasLtPointerMode_t of alpha / beta (0: host) */
  int32_t candidate;               /* index into the heuristic's list */
  int64_t max_workspace;           /* bytes cuBLASLt may use */
} InferLtKey;

typedef struct InferLtProduct {
  cublasLtMatmulDesc_t op;
  cublasLtMatrixLayout_t a, b, d;  /* w, x, y */
  cublasLtMatmulAlgo_t algo;
  size_t algo_bytes;
} InferLtProduct;

/* Most candidates a key's index may name. */
#define INFER_LT_MAX_CANDIDATES 8

/* The thread's cuBLASLt handle (created on first use). */
InferStatus *infer_cuda_lt_handle(const InferOpCall *call, cublasLtHandle_t *out);
/* The cached product for key (built on a miss); an error names the layer,
 * e.g. when the heuristic offers fewer candidates than key->candidate + 1. */
InferStatus *infer_cuda_lt_product(const InferOpCall *call, const InferLtKey *key,
                                   InferLtProduct **out);
/* A status for a failed cuBLASLt call, naming the layer. */
InferStatus *infer_cuda_lt_error(const InferOpCall *call, const char *what, cublasStatus_t st);

#define INFER_LT_TRY(call, what, expr)                                                  \
  do {                                                                                  \
    cublasStatus_t lt_st_ = (expr);                                                     \
    if (lt_st_ != CUBLAS_STATUS_SUCCESS) return infer_cuda_lt_error((call), (what), lt_st_); \
  } while (0)

#ifdef __cplusplus
}
#endif
#endif
