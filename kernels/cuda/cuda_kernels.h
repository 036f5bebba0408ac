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

/* A status for a failed CUDA/cuDNN/cuBLAS call, naming the layer. */
InferStatus *infer_cuda_error(const InferOpCall *call, const char *what, const char *detail);

#ifdef __cplusplus
}
#endif
#endif
