/* The backend interface: what the runtime asks of a device. Each backend
 * (CPU reference, CUDA) provides one table. */
#ifndef INFER_BACKEND_H
#define INFER_BACKEND_H

#include "engine_internal.h"

typedef struct InferBackend {
  const char *name;
  InferBackendKind kind;
  /* Every layer of the network can run here (shapes/dtypes from `pass`);
   * else an INFER_ERR_UNSUPPORTED status naming the layer and the reason. */
  InferStatus *(*supports_network)(const InferNetwork *net, const InferShapePass *pass);
  /* Memory in the backend's address space. */
  InferStatus *(*alloc)(size_t bytes, void **out);
  void (*free)(void *p);
  /* Queues one layer on the stream (the CPU runs it before returning). */
  InferStatus *(*run_layer)(const InferOpCall *call, InferStream *stream);
  InferStatus *(*synchronize)(InferStream *stream);
} InferBackend;

const InferBackend *infer_backend_get(InferBackendKind kind); /* NULL when not built */
const InferBackend *infer_backend_cpu(void);

#endif
