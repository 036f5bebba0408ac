/* Channels-last 2-D convolutions (+ bias, + residual, ReLU) through cuDNN's
 * graph API (cuda_conv_graph.c), one of the convolution tactics. */
#ifndef INFER_CUDA_CONV_GRAPH_H
#define INFER_CUDA_CONV_GRAPH_H

#include "cuda_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Tactics GRAPH .. GRAPH + 15 name the heuristics' configurations 0..15. */
#define INFER_CUDA_CONV_TACTIC_GRAPH 2000
#define INFER_CUDA_CONV_GRAPH_CONFIGS 16

/* 2-D, channels-last, activation none or ReLU, f16 (or f32 with TF32). */
bool infer_cuda_conv_graph_applicable(const InferOpCall *call);
size_t infer_cuda_conv_graph_workspace(const InferOpCall *call);
InferStatus *infer_cuda_conv_graph_run(const InferOpCall *call, const InferCudaExec *exec);
/* The fastest configuration as a tactic (0 when none runs) and its time. */
InferStatus *infer_cuda_conv_graph_tune(const InferOpCall *call, const InferCudaExec *exec,
                                        int32_t *tactic, double *ms);

#ifdef __cplusplus
}
#endif
#endif
