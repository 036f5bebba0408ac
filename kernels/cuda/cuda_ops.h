/* The CUDA backend's per-operator entry points, one triple per InferOp:
 *
 *   InferStatus *infer_cuda_supports_<name>(const InferOpCall *call);
 *   InferStatus *infer_cuda_run_<name>(const InferOpCall *call, const InferCudaExec *exec);
 *   size_t infer_cuda_workspace_<name>(const InferOpCall *call);
 *
 * with the same <name>s as the CPU kernels (kernels/cpu/cpu_kernels.h).
 * `supports` looks at dtypes, shapes and params only (data pointers may be
 * NULL, dims may still be unknown, -1) and returns an INFER_ERR_UNSUPPORTED
 * status naming the layer and the reason; `run` queues the work on
 * exec->stream and never waits; `workspace` says how many bytes of device
 * scratch `run` wants in exec->workspace (0 for most). The kernel table
 * (cuda_kernel_table.c) references every one of these functions.
 *
 * Where they live:
 *   cuda_elementwise.cu    unary, binary, where, cast
 *   cuda_pointwise.cu      pointwise (fused elementwise chains)
 *   cuda_conv.c            conv, deconv             (cuDNN)
 *   cuda_gemm.c            gemm, matmul             (cuBLAS / cuBLASLt)
 *   cuda_pool.cu           pool
 *   cuda_norm.cu           batchnorm, instancenorm, layernorm, lrn
 *   cuda_softmax_reduce.cu softmax, reduce, cumsum
 *   cuda_argmax_topk.cu    argmax, topk
 *   cuda_nms.cu            nms
 *   cuda_movement.cu       reshape, transpose, concat, split, slice, gather,
 *                          gather_elements, expand, tile
 *   cuda_pad_resize.cu     pad, resize
 *   cuda_generators.cu     range, shape, size, constant_of_shape, trilu,
 *                          depth_space
 *   cuda_quantize.cu       quantize, dequantize */
#ifndef INFER_CUDA_OPS_H
#define INFER_CUDA_OPS_H

#include "cuda_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

#define INFER_CUDA_KERNEL_DECL(name)                                                    \
  InferStatus *infer_cuda_supports_##name(const InferOpCall *call);                     \
  InferStatus *infer_cuda_run_##name(const InferOpCall *call, const InferCudaExec *exec); \
  size_t infer_cuda_workspace_##name(const InferOpCall *call);

/* elementwise */
INFER_CUDA_KERNEL_DECL(unary)
INFER_CUDA_KERNEL_DECL(binary)
INFER_CUDA_KERNEL_DECL(where)
INFER_CUDA_KERNEL_DECL(cast)
/* neural network */
INFER_CUDA_KERNEL_DECL(conv)
INFER_CUDA_KERNEL_DECL(deconv)
INFER_CUDA_KERNEL_DECL(pool)
INFER_CUDA_KERNEL_DECL(gemm)
INFER_CUDA_KERNEL_DECL(matmul)
INFER_CUDA_KERNEL_DECL(batchnorm)
INFER_CUDA_KERNEL_DECL(instancenorm)
INFER_CUDA_KERNEL_DECL(layernorm)
INFER_CUDA_KERNEL_DECL(lrn)
/* reductions */
INFER_CUDA_KERNEL_DECL(softmax)
INFER_CUDA_KERNEL_DECL(reduce)
INFER_CUDA_KERNEL_DECL(argmax)
INFER_CUDA_KERNEL_DECL(topk)
INFER_CUDA_KERNEL_DECL(cumsum)
INFER_CUDA_KERNEL_DECL(nms)
/* data movement */
INFER_CUDA_KERNEL_DECL(reshape)
INFER_CUDA_KERNEL_DECL(transpose)
INFER_CUDA_KERNEL_DECL(concat)
INFER_CUDA_KERNEL_DECL(split)
INFER_CUDA_KERNEL_DECL(slice)
INFER_CUDA_KERNEL_DECL(gather)
INFER_CUDA_KERNEL_DECL(gather_elements)
INFER_CUDA_KERNEL_DECL(expand)
INFER_CUDA_KERNEL_DECL(tile)
INFER_CUDA_KERNEL_DECL(pad)
INFER_CUDA_KERNEL_DECL(resize)
INFER_CUDA_KERNEL_DECL(range)
INFER_CUDA_KERNEL_DECL(shape)
INFER_CUDA_KERNEL_DECL(size)
INFER_CUDA_KERNEL_DECL(constant_of_shape)
INFER_CUDA_KERNEL_DECL(trilu)
INFER_CUDA_KERNEL_DECL(depth_space)
/* INT8 (cuda_quantize.cu): quantize, dequantize */
INFER_CUDA_KERNEL_DECL(quantize)
INFER_CUDA_KERNEL_DECL(dequantize)
/* fused elementwise chains (cuda_pointwise.cu) */
INFER_CUDA_KERNEL_DECL(pointwise)

/* tuned ops (see InferCudaTuneFn) */
InferStatus *infer_cuda_tune_conv(const InferOpCall *call, const InferCudaExec *exec,
                                  int32_t *tactic, double *ms);
InferStatus *infer_cuda_tune_deconv(const InferOpCall *call, const InferCudaExec *exec,
                                    int32_t *tactic, double *ms);

#undef INFER_CUDA_KERNEL_DECL

#ifdef __cplusplus
}
#endif
#endif
