/* The CUDA backend's kernel table: supports / run / workspace per operator
 * (declared in cuda_ops.h), and the status for failed CUDA library calls. */
#include "cuda_ops.h"

/* Plugin layers: cuda_plugin.c, through the engine's hooks (plugin_kernel.h). */
InferStatus *infer_cuda_supports_plugin(const InferOpCall *call);
InferStatus *infer_cuda_run_plugin(const InferOpCall *call, const InferCudaExec *exec);
size_t infer_cuda_workspace_plugin(const InferOpCall *call);

#define K(name) \
  {infer_cuda_supports_##name, infer_cuda_run_##name, infer_cuda_workspace_##name, NULL}
#define TUNED(name)                                                                \
  {infer_cuda_supports_##name, infer_cuda_run_##name, infer_cuda_workspace_##name, \
   infer_cuda_tune_##name}

static const InferCudaKernel cuda_kernels[] = {
  [INFER_OP_UNARY] = K(unary),
  [INFER_OP_BINARY] = K(binary),
  [INFER_OP_WHERE] = K(where),
  [INFER_OP_CAST] = K(cast),
  [INFER_OP_CONV] = TUNED(conv),
  [INFER_OP_DECONV] = TUNED(deconv),
  [INFER_OP_POOL] = K(pool),
  [INFER_OP_GEMM] = K(gemm),
  [INFER_OP_MATMUL] = K(matmul),
  [INFER_OP_BATCHNORM] = K(batchnorm),
  [INFER_OP_INSTANCENORM] = K(instancenorm),
  [INFER_OP_LAYERNORM] = K(layernorm),
  [INFER_OP_LRN] = K(lrn),
  [INFER_OP_SOFTMAX] = K(softmax),
  [INFER_OP_REDUCE] = K(reduce),
  [INFER_OP_ARGMAX] = K(argmax),
  [INFER_OP_TOPK] = K(topk),
  [INFER_OP_CUMSUM] = K(cumsum),
  [INFER_OP_NMS] = K(nms),
  [INFER_OP_RESHAPE] = K(reshape),
  [INFER_OP_TRANSPOSE] = K(transpose),
  [INFER_OP_CONCAT] = K(concat),
  [INFER_OP_SPLIT] = K(split),
  [INFER_OP_SLICE] = K(slice),
  [INFER_OP_GATHER] = K(gather),
  [INFER_OP_GATHER_ELEMENTS] = K(gather_elements),
  [INFER_OP_EXPAND] = K(expand),
  [INFER_OP_TILE] = K(tile),
  [INFER_OP_PAD] = K(pad),
  [INFER_OP_RESIZE] = K(resize),
  [INFER_OP_RANGE] = K(range),
  [INFER_OP_SHAPE] = K(shape),
  [INFER_OP_SIZE] = K(size),
  [INFER_OP_CONSTANT_OF_SHAPE] = K(constant_of_shape),
  [INFER_OP_TRILU] = K(trilu),
  [INFER_OP_DEPTH_SPACE] = K(depth_space),
  [INFER_OP_PLUGIN] = K(plugin),
  [INFER_OP_QUANTIZE] = K(quantize),
  [INFER_OP_DEQUANTIZE] = K(dequantize),
  [INFER_OP_POINTWISE] = K(pointwise),
};

_Static_assert(sizeof cuda_kernels / sizeof cuda_kernels[0] == INFER_OP_COUNT,
               "the CUDA kernel table must have an entry for every InferOp");

const InferCudaKernel *infer_cuda_kernel(InferOp op) {
  if ((int)op < 0 || op >= INFER_OP_COUNT || !cuda_kernels[op].run) return NULL;
  return &cuda_kernels[op];
}

InferStatus *infer_cuda_error(const InferOpCall *call, const char *what, const char *detail) {
  return infer_status_new(INFER_ERR_DEVICE, "layer '%s' (%s): %s failed on the cuda backend: %s",
                          call && call->node ? call->node : "?",
                          call ? infer_op_name(call->op) : "?", what ? what : "a CUDA call",
                          detail ? detail : "unknown error");
}
