/* The CPU backend's kernel table: one supports/run pair per operator. */
#include <stdatomic.h>

#include "cpu_kernels.h"
#include "plugin_kernel.h"

/* Plugin layers go through the hooks the engine's plugin registry installs
 * (plugin_kernel.h); the CUDA table reads them too. */
static _Atomic(const InferPluginKernelHooks *) plugin_hooks;

void infer_plugin_kernel_set_hooks(const InferPluginKernelHooks *hooks) {
  atomic_store(&plugin_hooks, hooks);
}

const InferPluginKernelHooks *infer_plugin_kernel_hooks(void) { return atomic_load(&plugin_hooks); }

static InferStatus *no_plugin_registry(const InferOpCall *call) {
  return infer_status_new(INFER_ERR_UNSUPPORTED, "layer '%s' (plugin): no plugin instance exists",
                          call->node ? call->node : "?");
}

static InferStatus *infer_cpu_supports_plugin(const InferOpCall *call) {
  const InferPluginKernelHooks *h = infer_plugin_kernel_hooks();
  return h ? h->supports(call, false) : no_plugin_registry(call);
}

static InferStatus *infer_cpu_run_plugin(const InferOpCall *call) {
  const InferPluginKernelHooks *h = infer_plugin_kernel_hooks();
  return h ? h->execute(call) : no_plugin_registry(call);
}

#define K(name) {infer_cpu_supports_##name, infer_cpu_run_##name}

static const InferCpuKernel cpu_kernels[] = {
  [INFER_OP_UNARY] = K(unary),
  [INFER_OP_BINARY] = K(binary),
  [INFER_OP_WHERE] = K(where),
  [INFER_OP_CAST] = K(cast),
  [INFER_OP_CONV] = K(conv),
  [INFER_OP_DECONV] = K(deconv),
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

_Static_assert(sizeof cpu_kernels / sizeof cpu_kernels[0] == INFER_OP_COUNT,
               "the CPU backend must have a kernel for every InferOp");

const InferCpuKernel *infer_cpu_kernel(InferOp op) {
  if ((int)op < 0 || op >= INFER_OP_COUNT || !cpu_kernels[op].run) return NULL;
  return &cpu_kernels[op];
}
