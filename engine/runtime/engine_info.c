/* Describing an engine: its layers as they run, and its weights. */
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
