/* Channels-last 2-D convolutions with few input channels (the first layer
 * of an image network: RGB in) by the project's direct kernel
 * (cuda_conv_small_cin.cu), one of the convolution tactics. */
#ifndef INFER_CUDA_CONV_SMALL_CIN_H
#define INFER_CUDA_CONV_SMALL_CIN_H

#include "cuda_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

#define INFER_CUDA_CONV_TACTIC_SMALL_CIN 3100

/* 2-D, channels-last, group 1, 1-4 input channels, output channels a
 * multiple of 8, f32/f16, weights small enough for shared memory. */
bool infer_cuda_conv_small_cin_applicable(const InferOpCall *call);
InferStatus *infer_cuda_conv_small_cin_run(const InferOpCall *call, const InferCudaExec *exec);
/* Mean time of a few runs (synchronizes the stream). */
InferStatus *infer_cuda_conv_small_cin_time(const InferOpCall *call, const InferCudaExec *exec,
                                            double *ms);

#ifdef __cplusplus
}
#endif
#endif
