/* Plugin layers (INFER_OP_PLUGIN) in the kernel tables. The plugin registry
 * and its instances live in the engine, above the kernels, so the engine
 * installs these hooks (the first time it makes a plugin instance) and the
 * CPU and CUDA kernel tables call through them: kernels keep depending on
 * nothing above them. */
#ifndef INFER_PLUGIN_KERNEL_H
#define INFER_PLUGIN_KERNEL_H

#include "kernel_call.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct InferPluginKernelHooks {
  /* The layer's plugin has an implementation for the backend (device: the
   * CUDA one, else the CPU one) and takes the call's dtypes. */
  InferStatus *(*supports)(const InferOpCall *call, bool device);
  /* Runs the layer on the CPU (host pointers). */
  InferStatus *(*execute)(const InferOpCall *call);
  /* Queues the layer on a CUDA stream (device pointers). */
  InferStatus *(*enqueue)(const InferOpCall *call, void *stream, void *workspace,
                          size_t workspace_bytes);
  /* Device scratch bytes enqueue needs. */
  size_t (*workspace)(const InferOpCall *call);
} InferPluginKernelHooks;

/* Installs the hooks (kept by pointer: static storage). */
void infer_plugin_kernel_set_hooks(const InferPluginKernelHooks *hooks);
/* The installed hooks, or NULL before the engine made any plugin. */
const InferPluginKernelHooks *infer_plugin_kernel_hooks(void);

#ifdef __cplusplus
}
#endif
#endif
