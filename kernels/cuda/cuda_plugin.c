/* Plugin layers on the CUDA backend: the layer's plugin instance enqueues
 * itself on the stream, reached through the hooks the engine's plugin
 * registry installs (plugin_kernel.h). */
#include "cuda_ops.h"
#include "plugin_kernel.h"

InferStatus *infer_cuda_supports_plugin(const InferOpCall *call);
InferStatus *infer_cuda_run_plugin(const InferOpCall *call, const InferCudaExec *exec);
size_t infer_cuda_workspace_plugin(const InferOpCall *call);

static InferStatus *no_registry(const InferOpCall *call) {
  return infer_status_new(INFER_ERR_UNSUPPORTED, "layer '%s' (plugin): no plugin instance exists",
                          call->node ? call->node : "?");
}

InferStatus *infer_cuda_supports_plugin(const InferOpCall *call) {
  const InferPluginKernelHooks *h = infer_plugin_kernel_hooks();
  return h ? h->supports(call, true) : no_registry(call);
}

InferStatus *infer_cuda_run_plugin(const InferOpCall *call, const InferCudaExec *exec) {
  const InferPluginKernelHooks *h = infer_plugin_kernel_hooks();
  if (!h) return no_registry(call);
  return h->enqueue(call, exec->stream, exec->workspace, exec->workspace_bytes);
}

size_t infer_cuda_workspace_plugin(const InferOpCall *call) {
  const InferPluginKernelHooks *h = infer_plugin_kernel_hooks();
  return h ? h->workspace(call) : 0;
}
