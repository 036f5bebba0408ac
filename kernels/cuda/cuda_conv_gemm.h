/* 1x1 channels-last convolutions as cuBLASLt products (cuda_conv_gemm.c),
 * one of the convolution tactics. */
#ifndef INFER_CUDA_CONV_GEMM_H
#define INFER_CUDA_CONV_GEMM_H

#include "cuda_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The conv tactics that select this path (cuDNN algorithms are 1..9):
 * TACTIC_GEMM + i runs the i-th of cuBLASLt's heuristic candidates for the
 * product (the list is the same for the same GPU, library and shapes, which
 * the plan's device fingerprint pins). */
#define INFER_CUDA_CONV_TACTIC_GEMM 1000
#define INFER_CUDA_CONV_GEMM_CANDIDATES 8
/* cuBLASLt's scratch (its fastest Hopper kernels want up to 32 MiB). */
#define INFER_CUDA_CONV_GEMM_WORKSPACE ((size_t)32 << 20)

/* 2-D, channels-last, group 1, 1x1 kernel, stride 1, no padding, f32/f16. */
bool infer_cuda_conv_gemm_applicable(const InferOpCall *call);
size_t infer_cuda_conv_gemm_workspace(void);
bool infer_cuda_conv_gemm_tactic(int32_t tactic);
/* Runs the candidate the call's tactic names. */
InferStatus *infer_cuda_conv_gemm_run(const InferOpCall *call, const InferCudaExec *exec);
/* Times each candidate (a few runs each; synchronizes the stream) and
 * returns the fastest as a tactic, with its mean time. */
InferStatus *infer_cuda_conv_gemm_tune(const InferOpCall *call, const InferCudaExec *exec,
                                       int32_t *tactic, double *ms);

#ifdef __cplusplus
}
#endif
#endif
