/* Private helpers of the hand-written elementwise and data-movement kernels
 * (cuda_elementwise.cu, cuda_movement.cu, cuda_generators.cu,
 * cuda_pad_resize.cu, cuda_nms.cu): launch geometry, launch checks, the
 * usual status messages and copy units. CUDA C++ only. */
#ifndef INFER_CUDA_COMMON_CUH
#define INFER_CUDA_COMMON_CUH

#include <cuda_runtime.h>
#include <stdint.h>

#include "cuda_ops.h"

namespace infer_cu {

constexpr int kThreads = 256;

/* Blocks for a grid-stride loop over n items (capped: the loop covers the rest). */
static inline unsigned blocks_for(int64_t n) {
  int64_t b = (n + kThreads - 1) / kThreads;
  if (b < 1) b = 1;
  return (unsigned)(b > 65536 ? 65536 : b);
}

/* The status of the launches just queued (cudaGetLastError also clears it). */
static inline InferStatus *launched(const InferOpCall *call, const char *what) {
  cudaError_t err = cudaGetLastError();
  return err == cudaSuccess ? NULL : infer_cuda_error(call, what, cudaGetErrorString(err));
}

static inline InferStatus *invalid(const InferOpCall *c, const char *what) {
  return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "layer '%s' (%s): %s", c->node,
                          infer_op_name(c->op), what);
}

static inline InferStatus *not_here(const InferOpCall *c, const char *what) {
  return infer_status_new(INFER_ERR_UNSUPPORTED,
                          "layer '%s' (%s): %s is not supported on the cuda backend", c->node,
                          infer_op_name(c->op), what);
}

static inline InferStatus *bad_dtype(const InferOpCall *c, int input) {
  return infer_status_new(INFER_ERR_UNSUPPORTED,
                          "layer '%s' (%s): input %d of type %s is not supported on the cuda "
                          "backend",
                          c->node, infer_op_name(c->op), input,
                          infer_dtype_name(infer_call_input(c, input)->dtype));
}

/* Any sized dtype, passed through unchanged to output 0. */
static inline InferStatus *check_passthrough(const InferOpCall *c) {
  if (infer_dtype_size(infer_call_input(c, 0)->dtype) == 0) return bad_dtype(c, 0);
  if (c->n_out > 0 && c->out[0].dtype != c->in[0].dtype)
    return invalid(c, "output type differs from input");
  return NULL;
}

static inline bool is_index(InferDType t) {
  return t == INFER_DTYPE_I32 || t == INFER_DTYPE_I64;
}

/* Element i of a host (shape) input of i32/i64. */
static inline int64_t host_int(const InferTensorView *v, int64_t i) {
  return v->dtype == INFER_DTYPE_I64 ? ((const int64_t *)v->data)[i]
                                     : ((const int32_t *)v->data)[i];
}

/* Shape inputs reach kernels as host values. On device backends a graph
 * input used as one (Trilu's k fed at run time, say) has none: its pointer
 * is NULL, and the layer cannot run. */
static inline InferStatus *require_host_value(const InferOpCall *c, int i) {
  const InferTensorView *v = infer_call_input(c, i);
  if (v->dtype == INFER_DTYPE_UNDEFINED || v->data || infer_shape_numel(&v->shape) == 0)
    return NULL;
  return infer_status_new(INFER_ERR_UNSUPPORTED,
                          "layer '%s' (%s): input %d must be known on the host (a constant or "
                          "computed from shapes); on the cuda backend it cannot come from "
                          "run-time data",
                          c->node, infer_op_name(c->op), i);
}

static inline InferStatus *copy_d2d(const InferOpCall *c, void *dst, const void *src,
                                    size_t bytes, cudaStream_t s) {
  if (bytes == 0 || dst == src) return NULL;
  cudaError_t err = cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, s);
  if (err == cudaSuccess) return NULL;
  cudaGetLastError();
  return infer_cuda_error(c, "cudaMemcpyAsync", cudaGetErrorString(err));
}

/* The element type of a copy unit of U bytes. */
template <int U> struct Unit;
template <> struct Unit<1> { typedef uint8_t T; };
template <> struct Unit<2> { typedef uint16_t T; };
template <> struct Unit<4> { typedef uint32_t T; };
template <> struct Unit<8> { typedef uint2 T; };
template <> struct Unit<16> { typedef uint4 T; };

}  // namespace infer_cu

#define INFER_CU_GRID_STRIDE(i, n)                                          \
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); \
       i += (int64_t)blockDim.x * gridDim.x)

/* Launches K<T>(x, y, ...) on `stream` over n items with T the unsigned
 * integer type of the element size es (1, 2, 4 or 8 bytes). */
#define INFER_CU_BY_SIZE(es, n, stream, K, x, y, ...)                                        \
  switch (es) {                                                                              \
    case 1:                                                                                  \
      K<uint8_t><<<infer_cu::blocks_for(n), infer_cu::kThreads, 0, stream>>>(                \
          (const uint8_t *)(x), (uint8_t *)(y), __VA_ARGS__);                                \
      break;                                                                                 \
    case 2:                                                                                  \
      K<uint16_t><<<infer_cu::blocks_for(n), infer_cu::kThreads, 0, stream>>>(               \
          (const uint16_t *)(x), (uint16_t *)(y), __VA_ARGS__);                              \
      break;                                                                                 \
    case 4:                                                                                  \
      K<uint32_t><<<infer_cu::blocks_for(n), infer_cu::kThreads, 0, stream>>>(               \
          (const uint32_t *)(x), (uint32_t *)(y), __VA_ARGS__);                              \
      break;                                                                                 \
    default:                                                                                 \
      K<uint64_t><<<infer_cu::blocks_for(n), infer_cu::kThreads, 0, stream>>>(               \
          (const uint64_t *)(x), (uint64_t *)(y), __VA_ARGS__);                              \
      break;                                                                                 \
  }

/* Runs MACRO(U) for a copy unit u of 1, 2, 4, 8 or 16 bytes. */
#define INFER_CU_BY_UNIT(u, MACRO) \
  switch (u) {                     \
    case 1: MACRO(1); break;       \
    case 2: MACRO(2); break;       \
    case 4: MACRO(4); break;       \
    case 8: MACRO(8); break;       \
    default: MACRO(16); break;     \
  }

#define INFER_CU_NO_WORKSPACE(name)                             \
  extern "C" size_t infer_cuda_workspace_##name(const InferOpCall *call) { \
    (void)call;                                                 \
    return 0;                                                   \
  }

#endif
