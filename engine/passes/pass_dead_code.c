/* Pass 2, dead-code: layers that no graph output needs (transitively) are
 * dropped, and constants that no remaining layer reads vanish (the rewrite
 * copies a constant only when something uses it). Graph inputs stay even
 * when unused: callers bind them by name. */
#include <stdlib.h>

#include "passes.h"

InferStatus *infer_pass_dead_code(const InferPassContext *ctx, const InferNetwork *in,
                                  InferNetwork **out, int *changes) {
  (void)ctx;
  *out = NULL;
  *changes = 0;
  bool *want = calloc((size_t)in->n_tensors + 1, 1);
  bool *needed = calloc((size_t)in->n_layers + 1, 1);
  if (!want || !needed) {
    free(want);
    free(needed);
    return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "dead-code: out of memory");
  }
  for (int32_t i = 0; i < in->n_outputs; i++) want[in->outputs[i]] = true;
  int dropped = 0;
  for (int32_t l = in->n_layers - 1; l >= 0; l--) {
    const InferLayer *layer = &in->layers[l];
    bool any = false;
    for (int i = 0; i < layer->n_outputs; i++) any |= want[layer->outputs[i]];
    if (!any) {
      dropped++;
      continue;
    }
    needed[l] = true;
    for (int i = 0; i < layer->n_inputs; i++)
      if (layer->inputs[i] >= 0 && layer->inputs[i] < in->n_tensors) want[layer->inputs[i]] = true;
  }
  /* constants nothing needs (read only by dropped layers, or by no layer) */
  int unused_constants = 0;
  for (int32_t t = 0; t < in->n_tensors; t++)
    if (infer_tensor_is_constant(&in->tensors[t]) && !want[t]) unused_constants++;
  free(want);
  if (dropped == 0 && unused_constants == 0) {
    free(needed);
    return NULL;
  }
  InferRewrite rw;
  InferStatus *st = infer_rewrite_begin(&rw, in);
  if (st) {
    free(needed);
    return st;
  }
  for (int32_t l = 0; l < in->n_layers && !st; l++) {
    if (needed[l])
      st = infer_rewrite_copy(&rw, l);
    else
      rw.done[l] = true;
  }
  free(needed);
  if (!st) st = infer_rewrite_finish(&rw, out);
  infer_rewrite_free(&rw);
  if (st) return st;
  *changes = dropped + unused_constants;
  return NULL;
}
