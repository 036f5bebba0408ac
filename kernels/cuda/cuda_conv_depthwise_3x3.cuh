/* The register-tiled form of the depthwise kernel for the common 3x3 case
 * (MobileNets, stride 1 or 2, dilation 1), cuda_conv_depthwise_3x3.cu.
 * CUDA C++ only; cuda_conv_depthwise.cu picks it where it applies. */
#ifndef INFER_CUDA_CONV_DEPTHWISE_3X3_CUH
#define INFER_CUDA_CONV_DEPTHWISE_3X3_CUH

#include <cuda_runtime_api.h>

#include "cuda_kernels.h"

/* Geometry in 32 bits: the caller checks that every index fits. */
struct InferDw3x3Args {
  int n, h, w, c;   /* input [n, h, w, c] */
  int oh, ow;       /* output [n, oh, ow, c] */
  int stride;       /* 1 or 2, both axes */
  int ph, pw;       /* leading pads */
  InferActivation act;
};

/* True when the tiled kernel takes this layer: 16-byte channel vectors
 * (channel count and the pointers OR-ed into `pointers` aligned). */
bool infer_dw3x3_applicable(const InferDw3x3Args &a, bool half, uintptr_t pointers);

/* Queues the layer (w is [c, 3, 3, 1]); bias and res may be NULL. */
void infer_dw3x3_launch(const InferDw3x3Args &a, bool half, const void *x, const void *w,
                        const void *bias, const void *res, void *y, cudaStream_t s);

#endif
