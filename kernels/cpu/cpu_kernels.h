/* The CPU reference kernels: plain C, float32 math (integers and bool where
 * the operator needs them). They are the oracle for every other backend. */
#ifndef INFER_CPU_KERNELS_H
#define INFER_CPU_KERNELS_H

#include "kernel_call.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef InferStatus *(*InferCpuKernelFn)(const InferOpCall *call);

/* One entry per operator. `supports` looks at dtypes, shapes and params only
 * (data pointers are NULL) and returns an INFER_ERR_UNSUPPORTED status that
 * says what is not supported; `run` computes the outputs. */
typedef struct InferCpuKernel {
  InferCpuKernelFn supports;
  InferCpuKernelFn run;
} InferCpuKernel;

const InferCpuKernel *infer_cpu_kernel(InferOp op);

/* Evaluates one activation on a float (shared by fused activations). */
float infer_cpu_activation(const InferActivation *act, float x);

/* Family entry points (one file each). */
#define INFER_CPU_KERNEL_DECL(name)                                 \
  InferStatus *infer_cpu_supports_##name(const InferOpCall *call);  \
  InferStatus *infer_cpu_run_##name(const InferOpCall *call);

INFER_CPU_KERNEL_DECL(unary)
INFER_CPU_KERNEL_DECL(binary)
INFER_CPU_KERNEL_DECL(where)
INFER_CPU_KERNEL_DECL(cast)
INFER_CPU_KERNEL_DECL(conv)
INFER_CPU_KERNEL_DECL(deconv)
INFER_CPU_KERNEL_DECL(pool)
INFER_CPU_KERNEL_DECL(gemm)
INFER_CPU_KERNEL_DECL(matmul)
INFER_CPU_KERNEL_DECL(batchnorm)
INFER_CPU_KERNEL_DECL(instancenorm)
INFER_CPU_KERNEL_DECL(layernorm)
INFER_CPU_KERNEL_DECL(lrn)
INFER_CPU_KERNEL_DECL(softmax)
INFER_CPU_KERNEL_DECL(reduce)
INFER_CPU_KERNEL_DECL(argmax)
INFER_CPU_KERNEL_DECL(topk)
INFER_CPU_KERNEL_DECL(cumsum)
INFER_CPU_KERNEL_DECL(nms)
INFER_CPU_KERNEL_DECL(reshape)
INFER_CPU_KERNEL_DECL(transpose)
INFER_CPU_KERNEL_DECL(concat)
INFER_CPU_KERNEL_DECL(split)
INFER_CPU_KERNEL_DECL(slice)
INFER_CPU_KERNEL_DECL(gather)
INFER_CPU_KERNEL_DECL(gather_elements)
INFER_CPU_KERNEL_DECL(expand)
INFER_CPU_KERNEL_DECL(tile)
INFER_CPU_KERNEL_DECL(pad)
INFER_CPU_KERNEL_DECL(resize)
INFER_CPU_KERNEL_DECL(range)
INFER_CPU_KERNEL_DECL(shape)
INFER_CPU_KERNEL_DECL(size)
INFER_CPU_KERNEL_DECL(constant_of_shape)
INFER_CPU_KERNEL_DECL(trilu)
INFER_CPU_KERNEL_DECL(depth_space)
INFER_CPU_KERNEL_DECL(pointwise)

/* INFER_OP_POINTWISE programs (pointwise.c), shared by shape inference, the
 * optimizer and every backend: the check of a call's program and inputs,
 * the dtype step i rounds to, and the kinds a float program may use. */
InferStatus *infer_pointwise_check(const InferOpCall *call);
InferDType infer_pointwise_step_dtype(const InferOpCall *call, int instr);
bool infer_pointwise_unary_ok(InferUnaryKind k);
bool infer_pointwise_binary_ok(InferBinaryKind k);

/* INT8 (quantize.c): Quantize / Dequantize, and the INT8 forms of Conv and
 * Gemm (params quant.int8), which the conv and gemm entries hand over */
INFER_CPU_KERNEL_DECL(quantize)
INFER_CPU_KERNEL_DECL(dequantize)
INFER_CPU_KERNEL_DECL(conv_int8)
INFER_CPU_KERNEL_DECL(gemm_int8)

/* Channels-last Conv / Pool through their channels-first kernels
 * (channels_last_adapter.c). */
InferStatus *infer_cpu_channels_last_supports(const InferOpCall *c,
                                              InferStatus *(*supports)(const InferOpCall *));
InferStatus *infer_cpu_channels_last_run(const InferOpCall *c,
                                         InferStatus *(*run)(const InferOpCall *));

#ifdef __cplusplus
}
#endif
#endif
