/* 1x1 channels-last convolutions as cuBLASLt products (cuda_conv_gemm.c),
 * one of the convolution tactics. */
#ifndef INFER_CUDA_CONV_GEMM_H
#define INFER_CUDA_CONV_GEMM_H

#include "cuda_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The conv tactic that selects this path (cuDNN algorithms are 1..9). */
#define INFER_CUDA_CONV_TACTIC_GEMM 1000
/* cuBLASLt's scratch (its fastest Hopper kernels want up to 32 MiB). */
#define INFER_CUDA_CONV_GEMM_WORKSPACE ((size_t)32 << 20)

/* 2-D, channels-last, group 1, 1x1 kernel, stride 1, no padding, f32/f16. */
bool infer_cuda_conv_gemm_applicable(const InferOpCall *call);
size_t infer_cuda_conv_gemm_workspace(void);
InferStatus *infer_cuda_conv_gemm_run(const InferOpCall *call, const InferCudaExec *exec);
/* Mean time of a few runs (synchronizes the stream). */
InferStatus *infer_cuda_conv_gemm_time(const InferOpCall *call, const InferCudaExec *exec,
                                       double *ms);

#ifdef __cplusplus
}
#endif
#endif
