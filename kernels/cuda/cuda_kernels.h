/* The CUDA backend's kernels: one supports/run pair per operator, the same
 * calling convention as the CPU kernels (kernels/kernel_call.h), plus the
 * stream. Data inputs and outputs are device pointers; inputs that the op
 * table marks as shape inputs are host pointers (their values are computed
 * on the host). `run` only queues work on the stream: it never waits for
 * the device and never allocates device memory on the hot path (scratch
 * comes from `workspace`). Implemented in CUDA C++ (the .cu files here) with
 * extern "C" entry points, or in C on top of cuDNN / cuBLAS(Lt). */
#ifndef INFER_CUDA_KERNELS_H
#define INFER_CUDA_KERNELS_H

#include "kernel_call.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct InferCudaExec {
  void *stream;            /* cudaStream_t */
  void *workspace;         /* device scratch, workspace_bytes long */
  size_t workspace_bytes;
} InferCudaExec;

typedef InferStatus *(*InferCudaSupportsFn)(const InferOpCall *call);
typedef InferStatus *(*InferCudaRunFn)(const InferOpCall *call, const InferCudaExec *exec);
/* Scratch bytes a layer needs (0 for most). */
typedef size_t (*InferCudaWorkspaceFn)(const InferOpCall *call);

/* Times the layer's candidate implementations on the device (the call's
 * buffers are device memory of the right sizes) and returns the fastest as
 * a tactic (stored in the layer's params by the builder) and its time. */
typedef InferStatus *(*InferCudaTuneFn)(const InferOpCall *call, const InferCudaExec *exec,
                                        int32_t *tactic, double *ms);

typedef struct InferCudaKernel {
  InferCudaSupportsFn supports;
  InferCudaRunFn run;
  InferCudaWorkspaceFn workspace;  /* may be NULL */
  InferCudaTuneFn tune;            /* NULL: one implementation, nothing to time */
} InferCudaKernel;

/* NULL when the op has no CUDA kernel (the build then says so, naming it). */
const InferCudaKernel *infer_cuda_kernel(InferOp op);

/* A float convolution's bias and fused residual (its last input when
 * has_residual; an absent bias slot before it), NULL where the layer has
 * none: the operands every convolution kernel reads the same way. */
static inline const void *infer_cuda_conv_bias(const InferOpCall *c) {
  bool residual_in_slot2 = c->params->conv.has_residual && c->n_in - 1 == 2;
  return infer_call_has_input(c, 2) && !residual_in_slot2 ? c->in[2].data : NULL;
}
static inline const void *infer_cuda_conv_residual(const InferOpCall *c) {
  return c->params->conv.has_residual ? c->in[c->n_in - 1].data : NULL;
}

/* One implementation of a layer, picked by `arg` (a tactic, a candidate). */
typedef InferStatus *(*InferCudaTimedFn)(const InferOpCall *call, const InferCudaExec *exec,
                                         int32_t arg);

/* Mean time in ms of `runs` calls of fn after one warm-up, on exec's stream
 * (synchronizes it); `what` names the timing in an error (cuda_timing.c). */
InferStatus *infer_cuda_time(const InferOpCall *call, const InferCudaExec *exec,
                             InferCudaTimedFn fn, int32_t arg, int runs, const char *what,
                             double *ms);

/* A status for a failed CUDA/cuDNN/cuBLAS call, naming the layer. */
InferStatus *infer_cuda_error(const InferOpCall *call, const char *what, const char *detail);

#ifdef __cplusplus
}
#endif
#endif
