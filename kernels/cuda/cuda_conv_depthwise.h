/* Depthwise channels-last convolutions by the project's own kernel
 * (cuda_conv_depthwise.cu), one of the convolution tactics. */
#ifndef INFER_CUDA_CONV_DEPTHWISE_H
#define INFER_CUDA_CONV_DEPTHWISE_H

#include "cuda_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

#define INFER_CUDA_CONV_TACTIC_DEPTHWISE 3000

/* 2-D, channels-last, group = input channels = output channels, f32/f16. */
bool infer_cuda_conv_depthwise_applicable(const InferOpCall *call);
InferStatus *infer_cuda_conv_depthwise_run(const InferOpCall *call, const InferCudaExec *exec);
/* Mean time of a few runs (synchronizes the stream). */
InferStatus *infer_cuda_conv_depthwise_time(const InferOpCall *call, const InferCudaExec *exec,
                                            double *ms);

#ifdef __cplusplus
}
#endif
#endif
