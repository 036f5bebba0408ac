/* The INT8 form of Gemm on the CUDA backend (cuda_gemm_int8.c): i8 A and
 * B, int32 sums, the epilogue of cuda_conv_int8_epilogue.cuh (alpha, beta
 * * C, activation, i8 or f32 output), bit-equal to the CPU reference.
 * Two paths: cuBLASLt's INT8 tensor-core product into an int32 buffer and
 * the epilogue kernel, when A is not transposed, B is ([N, K], as ONNX
 * exports fully connected layers) and K and N are multiples of 4; a direct
 * kernel otherwise. cuda_gemm.c hands INT8 calls over to this file. */
#ifndef INFER_CUDA_GEMM_INT8_H
#define INFER_CUDA_GEMM_INT8_H

#include "cuda_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum InferCudaGemmInt8Path {
  INFER_CUDA_GEMM_INT8_AUTO = 0,
  INFER_CUDA_GEMM_INT8_DIRECT,
  INFER_CUDA_GEMM_INT8_LT
} InferCudaGemmInt8Path;

InferStatus *infer_cuda_gemm_int8_supports(const InferOpCall *call);
InferStatus *infer_cuda_gemm_int8_run(const InferOpCall *call, const InferCudaExec *exec);
size_t infer_cuda_gemm_int8_workspace(const InferOpCall *call);
/* One path; false from _applicable when it cannot run the call. */
bool infer_cuda_gemm_int8_applicable(const InferOpCall *call, InferCudaGemmInt8Path path);
InferStatus *infer_cuda_gemm_int8_run_path(const InferOpCall *call, const InferCudaExec *exec,
                                           InferCudaGemmInt8Path path);

#ifdef __cplusplus
}
#endif
#endif
