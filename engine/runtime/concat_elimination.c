/* Concat elimination: the producers of a Concat's inputs write straight
 * into their slices of the Concat's output, and the Concat itself does
 * nothing. It is memory planning, not a graph rewrite: the planner places
 * each input inside the output's bytes (infer_memory_plan_build_aliased)
 * and marks the layer in_place; the executors then skip it, copying only an
 * input that turns out not to be at its slice at run time (on a device
 * backend, a small input computed on the host).
 *
 * A Concat qualifies when
 *   - its output is an activation the planner places (not a graph output)
 *     and every output dim before the axis is 1: then each input is one
 *     contiguous byte range of the output (axis 0; NCHW channels with
 *     batch 1; never the last axis of a channels-last tensor with more
 *     than one pixel);
 *   - every input is an activation the planner places (made by a layer of
 *     this network: no graph input, constant or graph output), appears
 *     once, is not already placed inside another Concat, is not empty and
 *     has the output's dtype (other readers are fine: they read the slice);
 *   - every slice starts at a multiple of the arena alignment (kernels keep
 *     their aligned, vectorized accesses);
 *   - no shape involved can change at run time: the caller asks only for
 *     engines whose profile fixes every input shape, and tensors downstream
 *     of a data-dependent shape (NonMaxSuppression and the like, planned at
 *     their upper bound) are left out.
 * Nested Concats work: an eliminated Concat's output may itself be an input
 * of a later one, whose block then holds both. */
#include <stdlib.h>
#include <string.h>

#include "memory_plan.h"
#include "op_table.h"

/* Per tensor: its shape may differ at run time from the planned one even
 * with fixed input shapes (it depends on a data-dependent output shape). */
static bool *varying_shapes(const InferNetwork *net) {
  bool *v = calloc((size_t)net->n_tensors + 1, sizeof *v);
  if (!v) return NULL;
  for (int32_t l = 0; l < net->n_layers; l++) {
    const InferLayer *layer = &net->layers[l];
    const InferOpInfo *info = infer_op_info(layer->op);
    bool any = !info || (info->flags & INFER_OPF_DATA_DEPENDENT_SHAPE);
    for (int32_t i = 0; i < layer->n_inputs; i++) {
      InferTensorId t = layer->inputs[i];
      if (t >= 0 && t < net->n_tensors) any |= v[t];
    }
    for (int32_t i = 0; i < layer->n_outputs; i++) {
      InferTensorId t = layer->outputs[i];
      if (t >= 0 && t < net->n_tensors) v[t] = any;
    }
  }
  return v;
}

/* Whether dims [0, axis) of s are all 1 (axis normalized into *axis_out). */
static bool leading_ones(const InferShape *s, int64_t axis, int *axis_out) {
  if (axis < 0) axis += s->rank;
  if (axis < 0 || axis >= s->rank) return false;
  for (int d = 0; d < axis; d++)
    if (s->d[d] != 1) return false;
  *axis_out = (int)axis;
  return true;
}

/* Checks layer l; on success places its inputs in its output. */
static bool pick(const InferNetwork *net, const InferShapePass *pass, const bool *planned,
                 const size_t *bytes, size_t align, const bool *varying, int32_t l,
                 int32_t *alias_of, size_t *alias_offset) {
  const InferLayer *layer = &net->layers[l];
  if (layer->op != INFER_OP_CONCAT || layer->n_outputs != 1 || layer->n_inputs < 1) return false;
  InferTensorId o = layer->outputs[0];
  if (o < 0 || o >= net->n_tensors || !planned[o] || bytes[o] == 0 || varying[o]) return false;
  const InferTensorView *y = &pass->views[o];
  int axis;
  if (!leading_ones(&y->shape, layer->params.axis.axis, &axis)) return false;
  size_t at = 0;
  for (int32_t k = 0; k < layer->n_inputs; k++) {
    InferTensorId t = layer->inputs[k];
    if (t < 0 || t >= net->n_tensors || t == o || !planned[t] || varying[t] || bytes[t] == 0 ||
        alias_of[t] >= 0 || pass->views[t].dtype != y->dtype || at % align != 0)
      return false;
    for (int32_t j = 0; j < k; j++)
      if (layer->inputs[j] == t) return false; /* one tensor cannot sit in two slices */
    at += bytes[t];
  }
  if (at != bytes[o]) return false;
  at = 0;
  for (int32_t k = 0; k < layer->n_inputs; k++) {
    InferTensorId t = layer->inputs[k];
    alias_of[t] = o;
    alias_offset[t] = at;
    at += bytes[t];
  }
  return true;
}

InferStatus *infer_concat_elimination_pick(const InferNetwork *net, const InferShapePass *pass,
                                           const bool *planned, const size_t *bytes,
                                           size_t alignment, int32_t *alias_of,
                                           size_t *alias_offset, bool *in_place,
                                           int32_t *n_picked) {
  *n_picked = 0;
  for (int32_t t = 0; t < net->n_tensors; t++) {
    alias_of[t] = -1;
    alias_offset[t] = 0;
  }
  bool *varying = varying_shapes(net);
  if (!varying)
    return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "memory plan: out of memory");
  for (int32_t l = 0; l < net->n_layers; l++) {
    in_place[l] = pick(net, pass, planned, bytes, alignment ? alignment : 1, varying, l,
                       alias_of, alias_offset);
    *n_picked += in_place[l];
  }
  free(varying);
  return NULL;
}

static size_t view_bytes(const InferTensorView *v) {
  int64_t n = infer_shape_numel(&v->shape);
  return (size_t)(n > 0 ? n : 0) * infer_dtype_size(v->dtype);
}

bool infer_concat_elided(const InferMemoryPlan *plan, int32_t layer, const InferOpCall *call,
                         size_t *offsets) {
  if (!plan || !plan->in_place || layer < 0 || layer >= plan->n_layers || !plan->in_place[layer])
    return false;
  if (call->op != INFER_OP_CONCAT || call->n_out != 1 || !call->out[0].data) return false;
  const InferTensorView *y = &call->out[0];
  int axis;
  /* the run's shapes, not the plan's: the copies below are then right in any case */
  if (!leading_ones(&y->shape, call->params->axis.axis, &axis)) return false;
  size_t at = 0;
  for (int k = 0; k < call->n_in; k++) {
    const InferTensorView *x = &call->in[k];
    if (x->dtype != y->dtype || x->shape.rank != y->shape.rank) return false;
    offsets[k] = at;
    at += view_bytes(x);
  }
  return at == view_bytes(y);
}
