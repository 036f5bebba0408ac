/* The backend interface: what the runtime asks of a device. Each backend
 * (CPU reference, CUDA) provides one table. */
#ifndef INFER_BACKEND_H
#define INFER_BACKEND_H

#include "engine_internal.h"

typedef enum InferCopyKind {
  INFER_COPY_HOST_TO_DEVICE,
  INFER_COPY_DEVICE_TO_HOST,
  INFER_COPY_DEVICE_TO_DEVICE
} InferCopyKind;

typedef struct InferBackend {
  const char *name;
  InferBackendKind kind;
  /* Tensors live in host memory (the CPU): the runtime then reads shape
   * values straight from tensors and never copies between host and device. */
  bool host_memory;
  /* A usable device is present (for INFER_BACKEND_AUTO). */
  bool (*available)(void);
  /* Starts the device context (may be NULL). */
  InferStatus *(*init)(void);
  /* Every layer of the network can run here (shapes/dtypes from `pass`);
   * else an INFER_ERR_UNSUPPORTED status naming the layer and the reason. */
  InferStatus *(*supports_network)(const InferNetwork *net, const InferShapePass *pass);
  /* One layer in the given dtypes/shapes (data NULL, dims may be -1), for
   * passes choosing among forms (e.g. FP16). May be NULL. */
  InferStatus *(*supports_layer)(const InferOpCall *call);
  /* Memory in the backend's address space. */
  InferStatus *(*alloc)(size_t bytes, void **out);
  void (*free)(void *p);
  /* Queues one layer on the stream (the CPU runs it before returning). */
  InferStatus *(*run_layer)(const InferOpCall *call, InferStream *stream);
  InferStatus *(*synchronize)(InferStream *stream);
  /* Device backends only (NULL on the CPU). */
  /* Engine-wide device state: constants on the device, kernel choices. */
  InferStatus *(*prepare_engine)(InferEngine *engine);
  void (*release_engine)(InferEngine *engine);
  /* The device copy of constant tensor t (after prepare_engine). */
  void *(*constant_data)(const InferEngine *engine, InferTensorId t);
  /* Ordered on the stream (NULL stream: the backend's default). */
  InferStatus *(*copy)(void *dst, const void *src, size_t bytes, InferCopyKind kind,
                       InferStream *stream);
  /* Refuses an address the device cannot use (host memory given to a GPU
   * engine), before a kernel faults on it. May be NULL. */
  InferStatus *(*check_address)(const void *ptr);
  /* CUDA-graph style capture of one run on a stream, and its replay (NULL
   * where the backend has none). capture_end instantiates what was queued
   * since capture_begin (nothing of it ran). */
  InferStatus *(*capture_begin)(InferStream *stream);
  InferStatus *(*capture_end)(InferStream *stream, void **graph);
  InferStatus *(*graph_launch)(void *graph, InferStream *stream);
  void (*graph_destroy)(void *graph);
  /* Tactic timing at build (NULL where there is nothing to choose): whether
   * the op's kernel has candidates, and timing them for one call whose
   * buffers are backend memory (runs synchronously). */
  bool (*layer_tunable)(InferOp op);
  InferStatus *(*tune_layer)(const InferOpCall *call, void *workspace, size_t workspace_bytes,
                             int32_t *tactic, double *ms);
  InferStatus *(*stream_create)(InferStream *stream);  /* sets stream->handle */
  void (*stream_destroy)(InferStream *stream);
} InferBackend;

const InferBackend *infer_backend_get(InferBackendKind kind); /* NULL when not built */
const InferBackend *infer_backend_cpu(void);
#ifdef INFER_HAVE_CUDA
const InferBackend *infer_backend_cuda(void);
#endif
/* AUTO resolved: CUDA when built and a device is present, else CPU. */
InferBackendKind infer_backend_resolve(InferBackendKind kind);

#endif
