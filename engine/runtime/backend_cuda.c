/* The CUDA backend: device memory, streams, constants uploaded once per
 * engine, and one CUDA kernel per layer (kernels/cuda). Nothing here falls
 * back to the CPU: a layer without a CUDA kernel fails the build.
 *
 * The backend uses the CUDA device current on the calling thread (device 0
 * unless the application chose another with cudaSetDevice).
 *
 * Workspace: kernels that need device scratch (cuDNN convolutions, cuBLASLt
 * matmuls, NMS sorting) get it from a buffer the backend keeps per stream
 * handle (the legacy default stream, NULL, has one too). The buffer is
 * grow-only: it is allocated the first time a layer on that stream needs
 * scratch and replaced when a layer first needs more than it holds; the
 * replaced buffer is kept until the stream is destroyed, because queued
 * work and captured CUDA graphs may still use it. After the first run of an engine
 * at its largest shapes, runs never allocate. A stream's buffer is freed
 * when the stream is destroyed. Each per-stream entry has a lock held while
 * a layer uses the buffer, so contexts that share a stream from several
 * threads do not free it under one another. */
#include <cublasLt.h>
#include <cuda_runtime.h>
#include <cudnn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "cuda_kernels.h"
#include "plan_format.h"

#define CONSTANT_ALIGN 64

static InferStatus *cuda_fail(const char *what, cudaError_t err) {
  cudaGetLastError(); /* clear a non-sticky error so later launch checks do not see it */
  return infer_status_new(INFER_ERR_DEVICE, "cuda: %s failed: %s (%s)", what,
                          cudaGetErrorString(err), cudaGetErrorName(err));
}

/* ---- device presence ------------------------------------------------------ */

static pthread_once_t available_once = PTHREAD_ONCE_INIT;
static bool device_present;

static void probe_devices(void) {
  int n = 0;
  cudaError_t err = cudaGetDeviceCount(&n);
  device_present = err == cudaSuccess && n > 0;
  if (err != cudaSuccess) cudaGetLastError();
}

static bool cuda_available(void) {
  pthread_once(&available_once, probe_devices);
  return device_present;
}

static InferStatus *cuda_init(void) {
  cudaError_t err = cudaFree(0); /* the runtime creates the context on its first call */
  return err == cudaSuccess ? NULL : cuda_fail("cudaFree(0) (device initialization)", err);
}

/* ---- memory --------------------------------------------------------------- */

static InferStatus *cuda_alloc(size_t bytes, void **out) {
  *out = NULL;
  size_t free_bytes = 0, total_bytes = 0;
  cudaError_t err = cudaMemGetInfo(&free_bytes, &total_bytes);
  if (err != cudaSuccess) return cuda_fail("cudaMemGetInfo", err);
  /* refuse what cannot fit before asking: absurd shapes fail cleanly */
  if (bytes > free_bytes)
    return infer_status_new(INFER_ERR_OUT_OF_MEMORY,
                            "cuda: needs %zu bytes (%.2f GiB) of device memory; the GPU has "
                            "%.2f GiB free of %.2f GiB",
                            bytes, bytes / 1073741824.0, free_bytes / 1073741824.0,
                            total_bytes / 1073741824.0);
  void *p = NULL;
  err = cudaMalloc(&p, bytes ? bytes : 1);
  if (err != cudaSuccess) {
    cudaGetLastError();
    return infer_status_new(INFER_ERR_OUT_OF_MEMORY,
                            "cuda: cannot allocate %zu bytes of device memory: %s", bytes,
                            cudaGetErrorString(err));
  }
  *out = p;
  return NULL;
}

static void cuda_free(void *p) {
  if (p) cudaFree(p);
}

static cudaStream_t stream_of(const InferStream *stream) {
  return stream ? (cudaStream_t)stream->handle : (cudaStream_t)0;
}

static InferStatus *cuda_check_address(const void *ptr) {
  struct cudaPointerAttributes attr;
  cudaError_t err = cudaPointerGetAttributes(&attr, ptr);
  if (err != cudaSuccess) {
    cudaGetLastError(); /* clear it: this is a question, not a failure */
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "address %p is not CUDA memory (%s); the cuda backend needs device "
                            "memory (infer_engine_malloc)", ptr, cudaGetErrorString(err));
  }
  if (attr.type != cudaMemoryTypeDevice && attr.type != cudaMemoryTypeManaged)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "address %p is host memory; the cuda backend needs device memory "
                            "(infer_engine_malloc, or cudaMalloc)", ptr);
  return NULL;
}

static InferStatus *cuda_copy(void *dst, const void *src, size_t bytes, InferCopyKind kind,
                              InferStream *stream) {
  if (bytes == 0) return NULL;
  enum cudaMemcpyKind k = kind == INFER_COPY_HOST_TO_DEVICE   ? cudaMemcpyHostToDevice
                          : kind == INFER_COPY_DEVICE_TO_HOST ? cudaMemcpyDeviceToHost
                                                              : cudaMemcpyDeviceToDevice;
  cudaError_t err = cudaMemcpyAsync(dst, src, bytes, k, stream_of(stream));
  return err == cudaSuccess ? NULL : cuda_fail("cudaMemcpyAsync", err);
}

static InferStatus *cuda_synchronize(InferStream *stream) {
  cudaError_t err = cudaStreamSynchronize(stream_of(stream));
  return err == cudaSuccess ? NULL : cuda_fail("cudaStreamSynchronize", err);
}

/* ---- per-stream workspace --------------------------------------------------- */

typedef struct Retired {
  void *data;
  struct Retired *next;
} Retired;

typedef struct Workspace {
  void *stream;           /* cudaStream_t (NULL: the legacy default stream) */
  void *data;
  size_t bytes;
  Retired *retired;       /* replaced buffers, freed with the stream */
  pthread_mutex_t lock;   /* held while a layer uses `data` */
  struct Workspace *next;
} Workspace;

static pthread_mutex_t workspaces_lock = PTHREAD_MUTEX_INITIALIZER;
static Workspace *workspaces;

/* The entry of a stream, created on first use; returned locked. */
static InferStatus *workspace_acquire(void *stream, Workspace **out) {
  pthread_mutex_lock(&workspaces_lock);
  Workspace *w = workspaces;
  while (w && w->stream != stream) w = w->next;
  if (!w) {
    w = calloc(1, sizeof *w);
    if (!w) {
      pthread_mutex_unlock(&workspaces_lock);
      return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "cuda: out of host memory");
    }
    w->stream = stream;
    pthread_mutex_init(&w->lock, NULL);
    w->next = workspaces;
    workspaces = w;
  }
  pthread_mutex_unlock(&workspaces_lock);
  pthread_mutex_lock(&w->lock);
  *out = w;
  return NULL;
}

/* Grows a locked entry to at least `bytes` (rounded up to 1 MiB). */
static InferStatus *workspace_reserve(Workspace *w, size_t bytes) {
  if (w->data && w->bytes >= bytes) return NULL;
  size_t want = (bytes + ((size_t)1 << 20) - 1) & ~(((size_t)1 << 20) - 1);
  if (w->data) {
    /* queued layers and captured graphs may still use the old buffer */
    Retired *r = malloc(sizeof *r);
    if (!r) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "cuda: out of host memory");
    r->data = w->data;
    r->next = w->retired;
    w->retired = r;
    w->data = NULL;
    w->bytes = 0;
  }
  void *p = NULL;
  InferStatus *st = cuda_alloc(want, &p);
  if (st) return infer_status_prefix(st, "layer workspace");
  w->data = p;
  w->bytes = want;
  return NULL;
}

/* Frees a stream's entry (after its work finished). */
static void workspace_forget(void *stream) {
  pthread_mutex_lock(&workspaces_lock);
  Workspace **link = &workspaces;
  while (*link && (*link)->stream != stream) link = &(*link)->next;
  Workspace *w = *link;
  if (w) *link = w->next;
  pthread_mutex_unlock(&workspaces_lock);
  if (!w) return;
  pthread_mutex_lock(&w->lock);
  if (w->data) cudaFree(w->data);
  while (w->retired) {
    Retired *r = w->retired;
    w->retired = r->next;
    cudaFree(r->data);
    free(r);
  }
  pthread_mutex_unlock(&w->lock);
  pthread_mutex_destroy(&w->lock);
  free(w);
}

/* ---- streams -------------------------------------------------------------- */

static InferStatus *cuda_stream_create(InferStream *stream) {
  cudaStream_t s = NULL;
  cudaError_t err = cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking);
  if (err != cudaSuccess) return cuda_fail("cudaStreamCreateWithFlags", err);
  stream->handle = s;
  return NULL;
}

static void cuda_stream_destroy(InferStream *stream) {
  if (!stream->handle) return;
  cudaStreamSynchronize((cudaStream_t)stream->handle);
  workspace_forget(stream->handle);
  cudaStreamDestroy((cudaStream_t)stream->handle);
  stream->handle = NULL;
}

/* ---- engine constants --------------------------------------------------------- */

typedef struct CudaEngineState {
  void *base;          /* one device allocation for every constant */
  size_t bytes;
  int32_t n_tensors;
  size_t *offset;      /* per tensor; SIZE_MAX: not a constant */
} CudaEngineState;

static void release_state(CudaEngineState *s) {
  if (!s) return;
  if (s->base) cudaFree(s->base);
  free(s->offset);
  free(s);
}

static InferStatus *cuda_prepare_engine(InferEngine *engine) {
  const InferNetwork *net = engine->net;
  CudaEngineState *s = calloc(1, sizeof *s);
  if (s) s->offset = malloc(sizeof *s->offset * ((size_t)net->n_tensors + 1));
  if (!s || !s->offset) {
    release_state(s);
    return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "cuda: out of host memory");
  }
  s->n_tensors = net->n_tensors;
  size_t total = 0;
  for (int32_t t = 0; t < net->n_tensors; t++) {
    const InferTensorDef *def = &net->tensors[t];
    s->offset[t] = SIZE_MAX;
    if (!infer_tensor_is_constant(def)) continue;
    total = (total + CONSTANT_ALIGN - 1) & ~(size_t)(CONSTANT_ALIGN - 1);
    s->offset[t] = total;
    total += def->nbytes;
  }
  s->bytes = total;
  InferStatus *st = NULL;
  if (total) {
    st = cuda_alloc(total, &s->base);
    if (st) st = infer_status_prefix(st, "engine constants");
  }
  for (int32_t t = 0; !st && t < net->n_tensors; t++) {
    const InferTensorDef *def = &net->tensors[t];
    if (s->offset[t] == SIZE_MAX || def->nbytes == 0) continue;
    cudaError_t err = cudaMemcpy((char *)s->base + s->offset[t], def->data, def->nbytes,
                                 cudaMemcpyHostToDevice);
    if (err != cudaSuccess)
      st = infer_status_prefix(cuda_fail("cudaMemcpy", err), "uploading constant '%s'",
                               def->name);
  }
  if (st) {
    release_state(s);
    return st;
  }
  engine->backend_state = s;
  return NULL;
}

static void cuda_release_engine(InferEngine *engine) {
  CudaEngineState *s = engine->backend_state;
  if (s && s->base) cudaDeviceSynchronize(); /* queued layers may still read constants */
  release_state(s);
  engine->backend_state = NULL;
}

static void *cuda_constant_data(const InferEngine *engine, InferTensorId t) {
  const CudaEngineState *s = engine->backend_state;
  if (!s || t < 0 || t >= s->n_tensors || s->offset[t] == SIZE_MAX || !s->base) return NULL;
  return (char *)s->base + s->offset[t];
}

/* ---- layers --------------------------------------------------------------- */

static InferStatus *no_kernel(const char *layer, InferOp op) {
  return infer_status_new(INFER_ERR_UNSUPPORTED,
                          "layer '%s' (%s): no CUDA kernel for this op on the cuda backend", layer,
                          infer_op_name(op));
}

static InferStatus *cuda_supports_network(const InferNetwork *net, const InferShapePass *pass) {
  InferTensorView in[256], out[256];
  for (int32_t l = 0; l < net->n_layers; l++) {
    const InferLayer *layer = &net->layers[l];
    if (layer->n_inputs > 256 || layer->n_outputs > 256)
      return infer_status_new(INFER_ERR_UNSUPPORTED, "layer '%s' (%s): more than 256 inputs",
                              layer->name, infer_op_name(layer->op));
    InferOpCall call;
    infer_layer_call(layer, pass->views, in, out, &call);
    /* shapes known only at run time: checked again when the layer runs */
    bool deferred = false;
    for (int i = 0; i < layer->n_outputs; i++) deferred |= out[i].dtype == INFER_DTYPE_UNDEFINED;
    if (deferred) continue;
    const InferCudaKernel *k = infer_cuda_kernel(layer->op);
    if (!k) return no_kernel(layer->name, layer->op);
    for (int i = 0; i < layer->n_inputs; i++) in[i].data = NULL;
    for (int i = 0; i < layer->n_outputs; i++) out[i].data = NULL;
    INFER_TRY(k->supports(&call));
  }
  return NULL;
}

static InferStatus *cuda_supports_layer(const InferOpCall *call) {
  const InferCudaKernel *k = infer_cuda_kernel(call->op);
  if (!k) return no_kernel(call->node, call->op);
  return k->supports(call);
}

static InferStatus *cuda_run_layer(const InferOpCall *call, InferStream *stream) {
  const InferCudaKernel *k = infer_cuda_kernel(call->op);
  if (!k) return no_kernel(call->node, call->op);
  /* cheap, and guards layers whose shapes were only known now */
  INFER_TRY(k->supports(call));
  size_t need = k->workspace ? k->workspace(call) : 0;
  InferCudaExec exec = {stream_of(stream), NULL, 0};
  if (need == 0) return k->run(call, &exec);
  Workspace *w = NULL;
  INFER_TRY(workspace_acquire(exec.stream, &w));
  InferStatus *st = workspace_reserve(w, need);
  if (!st) {
    exec.workspace = w->data;
    exec.workspace_bytes = w->bytes;
    st = k->run(call, &exec);
  }
  pthread_mutex_unlock(&w->lock);
  return st;
}

/* ---- CUDA graphs ---------------------------------------------------------------- */

static InferStatus *cuda_capture_begin(InferStream *stream) {
  cudaError_t err = cudaStreamBeginCapture(stream_of(stream), cudaStreamCaptureModeThreadLocal);
  return err == cudaSuccess ? NULL : cuda_fail("cudaStreamBeginCapture", err);
}

static InferStatus *cuda_capture_end(InferStream *stream, void **graph) {
  *graph = NULL;
  cudaGraph_t g = NULL;
  cudaError_t err = cudaStreamEndCapture(stream_of(stream), &g);
  if (err != cudaSuccess) return cuda_fail("cudaStreamEndCapture", err);
  cudaGraphExec_t exec = NULL;
  err = cudaGraphInstantiate(&exec, g, 0);
  cudaGraphDestroy(g);
  if (err != cudaSuccess) return cuda_fail("cudaGraphInstantiate", err);
  *graph = exec;
  return NULL;
}

static InferStatus *cuda_graph_launch(void *graph, InferStream *stream) {
  cudaError_t err = cudaGraphLaunch((cudaGraphExec_t)graph, stream_of(stream));
  return err == cudaSuccess ? NULL : cuda_fail("cudaGraphLaunch", err);
}

static void cuda_graph_destroy(void *graph) {
  if (graph) cudaGraphExecDestroy((cudaGraphExec_t)graph);
}

/* ---- tactic timing ------------------------------------------------------------ */

static bool cuda_layer_tunable(InferOp op) {
  const InferCudaKernel *k = infer_cuda_kernel(op);
  return k && k->tune;
}

static InferStatus *cuda_tune_layer(const InferOpCall *call, void *workspace,
                                    size_t workspace_bytes, int32_t *tactic, double *ms) {
  const InferCudaKernel *k = infer_cuda_kernel(call->op);
  *tactic = 0;
  *ms = 0;
  if (!k || !k->tune) return NULL;
  INFER_TRY(k->supports(call));
  InferCudaExec exec = {NULL, workspace, workspace_bytes};
  INFER_TRY(k->tune(call, &exec, tactic, ms));
  cudaError_t err = cudaDeviceSynchronize();
  return err == cudaSuccess ? NULL : cuda_fail("cudaDeviceSynchronize (after timing)", err);
}

/* ---- fingerprint ------------------------------------------------------------- */

InferStatus *infer_cuda_device_fingerprint(InferDeviceFingerprint *out) {
  int device = 0, runtime = 0;
  cudaError_t err = cudaGetDevice(&device);
  if (err != cudaSuccess) return cuda_fail("cudaGetDevice", err);
  struct cudaDeviceProp prop;
  err = cudaGetDeviceProperties(&prop, device);
  if (err != cudaSuccess) return cuda_fail("cudaGetDeviceProperties", err);
  err = cudaRuntimeGetVersion(&runtime);
  if (err != cudaSuccess) return cuda_fail("cudaRuntimeGetVersion", err);
  memset(out->device_name, 0, sizeof out->device_name);
  size_t n = strnlen(prop.name, sizeof prop.name);
  if (n >= sizeof out->device_name) n = sizeof out->device_name - 1;
  memcpy(out->device_name, prop.name, n);
  out->backend = INFER_BACKEND_CUDA;
  out->cc_major = prop.major;
  out->cc_minor = prop.minor;
  out->cuda_version = (uint32_t)runtime;
  out->cudnn_version = (uint32_t)cudnnGetVersion();
  out->cublas_version = (uint32_t)cublasLtGetVersion();
  return NULL;
}

/* ---- the table ------------------------------------------------------------- */

static const InferBackend cuda_backend = {
  .name = "cuda",
  .kind = INFER_BACKEND_CUDA,
  .host_memory = false,
  .available = cuda_available,
  .init = cuda_init,
  .supports_network = cuda_supports_network,
  .supports_layer = cuda_supports_layer,
  .alloc = cuda_alloc,
  .free = cuda_free,
  .run_layer = cuda_run_layer,
  .synchronize = cuda_synchronize,
  .prepare_engine = cuda_prepare_engine,
  .release_engine = cuda_release_engine,
  .constant_data = cuda_constant_data,
  .copy = cuda_copy,
  .check_address = cuda_check_address,
  .capture_begin = cuda_capture_begin,
  .capture_end = cuda_capture_end,
  .graph_launch = cuda_graph_launch,
  .graph_destroy = cuda_graph_destroy,
  .layer_tunable = cuda_layer_tunable,
  .tune_layer = cuda_tune_layer,
  .stream_create = cuda_stream_create,
  .stream_destroy = cuda_stream_destroy,
};

const InferBackend *infer_backend_cuda(void) { return &cuda_backend; }
