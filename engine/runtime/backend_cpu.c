/* The CPU backend: host memory, synchronous execution with the reference
 * kernels. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "cpu_kernels.h"

static InferStatus *cpu_supports_network(const InferNetwork *net, const InferShapePass *pass) {
  InferTensorView in[256], out[256];
  for (int32_t l = 0; l < net->n_layers; l++) {
    const InferLayer *layer = &net->layers[l];
    InferOpCall call;
    infer_layer_call(layer, pass->views, in, out, &call);
    /* shapes known only at run time: checked when the layer runs */
    bool deferred = false;
    for (int i = 0; i < layer->n_outputs; i++) deferred |= out[i].dtype == INFER_DTYPE_UNDEFINED;
    if (deferred) continue;
    for (int i = 0; i < layer->n_inputs; i++) in[i].data = NULL;
    for (int i = 0; i < layer->n_outputs; i++) out[i].data = NULL;
    const InferCpuKernel *k = infer_cpu_kernel(layer->op);
    if (!k)
      return infer_status_new(INFER_ERR_UNSUPPORTED, "layer '%s': op %s has no CPU kernel",
                              layer->name, infer_op_name(layer->op));
    INFER_TRY(k->supports(&call));
  }
  return NULL;
}

static InferStatus *cpu_alloc(size_t bytes, void **out) {
  *out = NULL;
  /* refuse what the machine cannot hold before asking for it: a plan or
   * profile with absurd shapes must fail cleanly, not thrash or abort */
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && page > 0 && bytes / (size_t)page > (size_t)pages)
    return infer_status_new(INFER_ERR_OUT_OF_MEMORY,
                            "needs %.1f GiB of memory; this machine has %.1f GiB",
                            bytes / 1073741824.0, (double)pages * (double)page / 1073741824.0);
  *out = infer_aligned_alloc(bytes);
  if (!*out) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "cannot allocate %zu bytes", bytes);
  return NULL;
}

static void cpu_free(void *p) { free(p); }

static InferStatus *cpu_run_layer(const InferOpCall *call, InferStream *stream) {
  (void)stream;
  const InferCpuKernel *k = infer_cpu_kernel(call->op);
  /* supports() is cheap and guards layers whose shapes were only known now */
  INFER_TRY(k->supports(call));
  return k->run(call);
}

static InferStatus *cpu_synchronize(InferStream *stream) {
  (void)stream;
  return NULL;
}

static bool cpu_available(void) { return true; }

static const InferBackend cpu_backend = {
  .name = "cpu",
  .kind = INFER_BACKEND_CPU,
  .host_memory = true,
  .available = cpu_available,
  .supports_network = cpu_supports_network,
  .alloc = cpu_alloc,
  .free = cpu_free,
  .run_layer = cpu_run_layer,
  .synchronize = cpu_synchronize,
};

const InferBackend *infer_backend_cpu(void) { return &cpu_backend; }

const InferBackend *infer_backend_get(InferBackendKind kind) {
  switch (kind) {
    case INFER_BACKEND_CPU: return &cpu_backend;
#ifdef INFER_HAVE_CUDA
    case INFER_BACKEND_CUDA: return infer_backend_cuda();
#endif
    default: return NULL;
  }
}

InferStatus *infer_backend_init(InferBackendKind kind) {
  const InferBackend *be = infer_backend_get(infer_backend_resolve(kind));
  if (!be) return infer_status_new(INFER_ERR_UNSUPPORTED, "this library was built without that backend");
  return be->init ? be->init() : NULL;
}

InferBackendKind infer_backend_resolve(InferBackendKind kind) {
  if (kind != INFER_BACKEND_AUTO) return kind;
  const InferBackend *cuda = infer_backend_get(INFER_BACKEND_CUDA);
  return cuda && cuda->available() ? INFER_BACKEND_CUDA : INFER_BACKEND_CPU;
}
