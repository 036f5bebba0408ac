/* Which cuBLASLt INT8 forms the GPU's cuBLASLt accepts for ResNet-50's 1x1
 * convolutions at batch 256 (rows = N*H*W output pixels, n = C_out, k =
 * C_in), and the best time of the heuristic's algorithms for each: the
 * measurements behind the INT8_LT and INT8_LT_FUSED tactics
 * (kernels/cuda/cuda_conv_int8_lt.c). On the GPU machine:
 *
 *   nvcc -O2 -o /tmp/lt_probe tests/bench/cublaslt_int8_probe.c -lcublasLt && /tmp/lt_probe
 *
 * Prints one row per form: per shape "algorithms that ran / offered, best
 * ms, TOPS", or the heuristic's status when it refuses the form. The data
 * are bytes of 1 (timing only). */
#include <cublasLt.h>
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdbool.h>

typedef enum { ALPHA_HOST, ALPHA_VECTOR, SCALE_A_ROWS, SCALE_B_ROWS } AlphaForm;

typedef struct {
  const char *name;
  cudaDataType_t d_type, scale_type;
  AlphaForm alpha;
  cublasLtPointerMode_t mode; /* for ALPHA_VECTOR */
  cublasLtEpilogue_t epilogue;
} Form;

static const long kShapes[][3] = {{802816, 256, 64}, {802816, 64, 256}, {200704, 512, 128},
                                  {200704, 128, 512}, {50176, 1024, 256}, {50176, 256, 1024},
                                  {12544, 2048, 512}, {12544, 512, 2048}};

static const Form kForms[] = {
  {"i32 out", CUDA_R_32I, CUDA_R_32I, ALPHA_HOST, 0, CUBLASLT_EPILOGUE_DEFAULT},
  {"i8 out, scalar alpha", CUDA_R_8I, CUDA_R_32F, ALPHA_HOST, 0, CUBLASLT_EPILOGUE_DEFAULT},
  {"i8 out, scalar alpha, bias+relu", CUDA_R_8I, CUDA_R_32F, ALPHA_HOST, 0, CUBLASLT_EPILOGUE_RELU_BIAS},
  {"i8 out, alpha vector, beta 0", CUDA_R_8I, CUDA_R_32F, ALPHA_VECTOR,
   CUBLASLT_POINTER_MODE_ALPHA_DEVICE_VECTOR_BETA_ZERO, CUBLASLT_EPILOGUE_DEFAULT},
  {"i8 out, alpha vector, host beta", CUDA_R_8I, CUDA_R_32F, ALPHA_VECTOR,
   CUBLASLT_POINTER_MODE_ALPHA_DEVICE_VECTOR_BETA_HOST, CUBLASLT_EPILOGUE_DEFAULT},
  {"i8 out, alpha vector, host beta, bias+relu", CUDA_R_8I, CUDA_R_32F, ALPHA_VECTOR,
   CUBLASLT_POINTER_MODE_ALPHA_DEVICE_VECTOR_BETA_HOST, CUBLASLT_EPILOGUE_RELU_BIAS},
  {"i8 out, per-row scales of A", CUDA_R_8I, CUDA_R_32F, SCALE_A_ROWS, 0, CUBLASLT_EPILOGUE_DEFAULT},
  {"i8 out, per-row scales of B", CUDA_R_8I, CUDA_R_32F, SCALE_B_ROWS, 0, CUBLASLT_EPILOGUE_DEFAULT},
};

static float best_ms(cublasLtHandle_t lt, cublasLtMatmulDesc_t op, cublasLtMatrixLayout_t la,
                     cublasLtMatrixLayout_t lb, cublasLtMatrixLayout_t ld,
                     const cublasLtMatmulAlgo_t *algo, const void *alpha, const void *beta,
                     const void *w, const void *x, void *y, void *ws, size_t wsb, int *ok) {
  cudaEvent_t e0, e1;
  cudaEventCreate(&e0);
  cudaEventCreate(&e1);
  cublasStatus_t st = CUBLAS_STATUS_SUCCESS;
  for (int i = 0; i < 3 && st == CUBLAS_STATUS_SUCCESS; i++)
    st = cublasLtMatmul(lt, op, alpha, w, la, x, lb, beta, y, ld, y, ld, algo, ws, wsb, 0);
  cudaEventRecord(e0, 0);
  for (int i = 0; i < 20 && st == CUBLAS_STATUS_SUCCESS; i++)
    st = cublasLtMatmul(lt, op, alpha, w, la, x, lb, beta, y, ld, y, ld, algo, ws, wsb, 0);
  cudaEventRecord(e1, 0);
  cudaEventSynchronize(e1);
  float ms = 0;
  cudaEventElapsedTime(&ms, e0, e1);
  cudaEventDestroy(e0);
  cudaEventDestroy(e1);
  *ok = st == CUBLAS_STATUS_SUCCESS && cudaGetLastError() == cudaSuccess;
  return ms / 20;
}

int main(void) {
  cublasLtHandle_t lt;
  if (cublasLtCreate(&lt) != CUBLAS_STATUS_SUCCESS) {
    fprintf(stderr, "no cuBLASLt handle (no GPU?)\n");
    return 1;
  }
  const size_t max_x = 802816L * 1024, wsb = 32 << 20;
  void *x, *w, *y, *ws;
  float *vec;
  if (cudaMalloc(&x, max_x) || cudaMalloc(&w, 2048L * 2048) || cudaMalloc(&y, max_x * 4) ||
      cudaMalloc(&ws, wsb) || cudaMalloc((void **)&vec, 4096 * sizeof(float))) {
    fprintf(stderr, "out of device memory\n");
    return 1;
  }
  cudaMemset(x, 1, max_x);
  cudaMemset(w, 1, 2048L * 2048);
  float host_vec[4096];
  for (int i = 0; i < 4096; i++) host_vec[i] = 0.001f;
  cudaMemcpy(vec, host_vec, sizeof host_vec, cudaMemcpyHostToDevice);
  printf("%-44s", "form \\ rows x C_out x C_in");
  for (size_t s = 0; s < sizeof kShapes / sizeof kShapes[0]; s++)
    printf(" | %ldx%ldx%ld", kShapes[s][0], kShapes[s][1], kShapes[s][2]);
  printf("\n");
  for (size_t f = 0; f < sizeof kForms / sizeof kForms[0]; f++) {
    const Form *form = &kForms[f];
    printf("%-44s", form->name);
    for (size_t s = 0; s < sizeof kShapes / sizeof kShapes[0]; s++) {
      long m = kShapes[s][0], n = kShapes[s][1], k = kShapes[s][2];
      cublasLtMatmulDesc_t op;
      cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32I, form->scale_type);
      cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
      cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta);
      cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb);
      if (form->alpha == ALPHA_VECTOR)
        cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_POINTER_MODE, &form->mode,
                                       sizeof form->mode);
      if (form->alpha == SCALE_A_ROWS || form->alpha == SCALE_B_ROWS) {
        int32_t mode = CUBLASLT_MATMUL_MATRIX_SCALE_OUTER_VEC_32F;
        bool a = form->alpha == SCALE_A_ROWS;
        cublasLtMatmulDescSetAttribute(
            op, a ? CUBLASLT_MATMUL_DESC_A_SCALE_MODE : CUBLASLT_MATMUL_DESC_B_SCALE_MODE, &mode,
            sizeof mode);
        cublasLtMatmulDescSetAttribute(
            op, a ? CUBLASLT_MATMUL_DESC_A_SCALE_POINTER : CUBLASLT_MATMUL_DESC_B_SCALE_POINTER,
            &vec, sizeof vec);
      }
      if (form->epilogue != CUBLASLT_EPILOGUE_DEFAULT) {
        cudaDataType_t bias_type = CUDA_R_32F;
        cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_EPILOGUE, &form->epilogue,
                                       sizeof form->epilogue);
        cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bias_type,
                                       sizeof bias_type);
        cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &vec, sizeof vec);
      }
      cublasLtMatrixLayout_t la, lb, ld;
      cublasLtMatrixLayoutCreate(&la, CUDA_R_8I, k, n, k);
      cublasLtMatrixLayoutCreate(&lb, CUDA_R_8I, k, m, k);
      cublasLtMatrixLayoutCreate(&ld, form->d_type, n, m, n);
      cublasLtMatmulPreference_t pref;
      cublasLtMatmulPreferenceCreate(&pref);
      cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &wsb,
                                           sizeof wsb);
      cublasLtMatmulHeuristicResult_t res[8];
      int found = 0;
      cublasStatus_t st = cublasLtMatmulAlgoGetHeuristic(lt, op, la, lb, ld, ld, pref, 8, res, &found);
      if (st != CUBLAS_STATUS_SUCCESS || found == 0) {
        printf(" | refused (%s)", cublasLtGetStatusName(st));
      } else {
        int32_t i_one = 1, i_zero = 0;
        float f_half = 0.5f, f_zero = 0.0f;
        const void *alpha = form->scale_type == CUDA_R_32I ? (const void *)&i_one : &f_half;
        const void *beta = form->scale_type == CUDA_R_32I ? (const void *)&i_zero : &f_zero;
        if (form->alpha == ALPHA_VECTOR) alpha = vec;
        float best = 0;
        int ran = 0;
        for (int a = 0; a < found; a++) {
          int ok = 0;
          float t = best_ms(lt, op, la, lb, ld, &res[a].algo, alpha, beta, w, x, y, ws,
                            res[a].workspaceSize, &ok);
          if (ok && (ran++ == 0 || t < best)) best = t;
        }
        if (ran) printf(" | %d/%d %.4f ms %4.0f T", ran, found, best, 2.0 * m * n * k / (best * 1e9));
        else printf(" | 0/%d ran", found);
      }
      cublasLtMatmulPreferenceDestroy(pref);
      cublasLtMatrixLayoutDestroy(la);
      cublasLtMatrixLayoutDestroy(lb);
      cublasLtMatrixLayoutDestroy(ld);
      cublasLtMatmulDescDestroy(op);
    }
    printf("\n");
    fflush(stdout);
  }
  cublasLtDestroy(lt);
  return 0;
}
