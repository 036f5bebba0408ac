/* Describing an engine: its layers as they run, and its weights. */
#include <string.h>

#include "backend.h"

InferStatus *infer_engine_layer_info(const InferEngine *e, int layer, InferLayerInfo *out) {
  if (layer < 0 || layer >= e->net->n_layers)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "engine: no layer %d", layer);
  const InferLayer *l = &e->net->layers[layer];
  const InferTensorDef *o = &e->net->tensors[l->outputs[0]];
  out->name = l->name;
  out->op = infer_op_name(l->op);
  /* the CPU reference backend computes every layer in FP32, NCHW */
  out->precision = "fp32";
  out->layout = "nchw";
  out->kernel = e->backend == INFER_BACKEND_CPU ? "cpu-reference" : "unknown";
  out->output = o->name;
  out->output_shape = o->shape;
  out->shape_known = o->shape_known && o->dtype != INFER_DTYPE_UNDEFINED;
  out->n_inputs = l->n_inputs;
  out->n_outputs = l->n_outputs;
  return NULL;
}

size_t infer_engine_weights_bytes(const InferEngine *e) {
  size_t total = 0;
  for (int32_t t = 0; t < e->net->n_tensors; t++) total += e->net->tensors[t].nbytes;
  return total;
}

const InferNetwork *infer_engine_network(const InferEngine *e) { return e->net; }

InferStatus *infer_engine_malloc(const InferEngine *e, size_t bytes, void **out) {
  return infer_backend_get(e->backend)->alloc(bytes, out);
}

void infer_engine_mfree(const InferEngine *e, void *ptr) {
  if (ptr) infer_backend_get(e->backend)->free(ptr);
}

static InferStatus *copy_sync(const InferEngine *e, void *dst, const void *src, size_t bytes,
                              InferCopyKind kind) {
  const InferBackend *be = infer_backend_get(e->backend);
  if (be->host_memory) {
    if (bytes) memmove(dst, src, bytes);
    return NULL;
  }
  INFER_TRY(be->copy(dst, src, bytes, kind, NULL));
  return be->synchronize(NULL);
}

InferStatus *infer_engine_copy_to_device(const InferEngine *e, void *dst, const void *src,
                                         size_t bytes) {
  return copy_sync(e, dst, src, bytes, INFER_COPY_HOST_TO_DEVICE);
}

InferStatus *infer_engine_copy_to_host(const InferEngine *e, void *dst, const void *src,
                                       size_t bytes) {
  return copy_sync(e, dst, src, bytes, INFER_COPY_DEVICE_TO_HOST);
}
