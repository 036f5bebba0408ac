/* Shape-tensor inputs: engine inputs whose values decide shapes or
 * attributes (a Reshape's target shape, Resize's sizes, TopK's k, Range's
 * bounds, ...). A device backend cannot read device memory while it works
 * out shapes on the host, so such inputs are read from host memory: their
 * address is a host pointer and enqueue copies the values before it
 * returns. An input is one when some layer reads it, directly or through
 * layers that compute a host value from it, at a shape-input position. */
#include <stdlib.h>

#include "engine_internal.h"
#include "op_table.h"

InferStatus *infer_engine_find_host_inputs(InferEngine *e) {
  free(e->io_host);
  e->io_host = calloc((size_t)e->n_io + 1, sizeof *e->io_host);
  bool *on_host = calloc((size_t)e->net->n_tensors + 1, sizeof *on_host);
  if (!e->io_host || !on_host) {
    free(on_host);
    return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "build: out of memory");
  }
  /* backwards: a value needed on the host needs its own inputs there too,
   * except through ops that read only shapes (Shape, Size) */
  for (int32_t l = e->net->n_layers - 1; l >= 0; l--) {
    const InferLayer *layer = &e->net->layers[l];
    const InferOpInfo *info = infer_op_info(layer->op);
    bool output_on_host = false;
    for (int i = 0; i < layer->n_outputs; i++) output_on_host |= on_host[layer->outputs[i]];
    bool all = output_on_host && !(info->flags & INFER_OPF_READS_SHAPE_ONLY);
    for (int i = 0; i < layer->n_inputs; i++) {
      InferTensorId t = layer->inputs[i];
      if (t == INFER_NO_TENSOR) continue;
      if (all || (i < 32 && (info->shape_inputs & (1u << i)))) on_host[t] = true;
    }
  }
  e->n_host_inputs = 0;
  for (int32_t i = 0; i < e->n_inputs; i++) {
    e->io_host[i] = on_host[e->io[i]];
    e->n_host_inputs += e->io_host[i];
  }
  free(on_host);
  return NULL;
}

bool infer_engine_io_is_host(const InferEngine *e, int i) {
  return e && e->io_host && i >= 0 && i < e->n_inputs && e->io_host[i];
}
