/* Timing one implementation of a layer for the tactic tuner: every
 * candidate (cuDNN's legacy path with its epilogue pass, a graph-API
 * engine, a cuBLASLt product, the project's kernels) is timed the same way,
 * as it would run in the engine, so that the fastest is chosen on equal
 * terms. */
#include <cuda_runtime_api.h>

#include "cuda_kernels.h"

InferStatus *infer_cuda_time(const InferOpCall *call, const InferCudaExec *exec,
                             InferCudaTimedFn fn, int32_t arg, int runs, const char *what,
                             double *ms) {
  *ms = 0;
  cudaStream_t s = (cudaStream_t)exec->stream;
  cudaEvent_t start = NULL, stop = NULL;
  /* the warm-up also builds whatever the implementation caches */
  InferStatus *st = fn(call, exec, arg);
  if (!st && (cudaEventCreate(&start) != cudaSuccess || cudaEventCreate(&stop) != cudaSuccess))
    st = infer_cuda_error(call, "cudaEventCreate", cudaGetErrorString(cudaGetLastError()));
  if (!st) cudaEventRecord(start, s);
  for (int i = 0; !st && i < runs; i++) st = fn(call, exec, arg);
  if (!st) {
    cudaEventRecord(stop, s);
    float elapsed = 0;
    cudaError_t err = cudaEventSynchronize(stop);
    if (err == cudaSuccess) err = cudaEventElapsedTime(&elapsed, start, stop);
    if (err != cudaSuccess) st = infer_cuda_error(call, what, cudaGetErrorString(err));
    *ms = elapsed / runs;
  }
  if (start) cudaEventDestroy(start);
  if (stop) cudaEventDestroy(stop);
  return st;
}
