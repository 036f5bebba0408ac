/* Network rewriting helpers shared by the optimizer passes. */
#include "rewrite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

InferStatus *infer_uses_build(const InferNetwork *net, InferUses *u) {
  memset(u, 0, sizeof *u);
  size_t n = (size_t)net->n_tensors + 1;
  u->n_tensors = net->n_tensors;
  u->count = calloc(n, sizeof *u->count);
  u->layers = calloc(n, sizeof *u->layers);
  u->slots = calloc(n, sizeof *u->slots);
  u->is_output = calloc(n, sizeof *u->is_output);
  if (!u->count || !u->layers || !u->slots || !u->is_output) goto oom;
  for (int32_t l = 0; l < net->n_layers; l++)
    for (int i = 0; i < net->layers[l].n_inputs; i++)
      if (net->layers[l].inputs[i] >= 0) u->count[net->layers[l].inputs[i]]++;
  for (int32_t t = 0; t < net->n_tensors; t++) {
    if (!u->count[t]) continue;
    u->layers[t] = malloc(sizeof(int32_t) * (size_t)u->count[t]);
    u->slots[t] = malloc(sizeof(int32_t) * (size_t)u->count[t]);
    if (!u->layers[t] || !u->slots[t]) goto oom;
    u->count[t] = 0;
  }
  for (int32_t l = 0; l < net->n_layers; l++)
    for (int i = 0; i < net->layers[l].n_inputs; i++) {
      InferTensorId t = net->layers[l].inputs[i];
      if (t < 0) continue;
      u->layers[t][u->count[t]] = l;
      u->slots[t][u->count[t]++] = i;
    }
  for (int32_t i = 0; i < net->n_outputs; i++) u->is_output[net->outputs[i]] = true;
  return NULL;
oom:
  infer_uses_free(u);
  return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "optimizer: out of memory");
}

void infer_uses_free(InferUses *u) {
  if (u->layers)
    for (int32_t t = 0; t < u->n_tensors; t++) free(u->layers[t]);
  if (u->slots)
    for (int32_t t = 0; t < u->n_tensors; t++) free(u->slots[t]);
  free(u->count);
  free(u->layers);
  free(u->slots);
  free(u->is_output);
  memset(u, 0, sizeof *u);
}

int32_t infer_uses_single_consumer(const InferUses *u, InferTensorId t) {
  if (t < 0 || t >= u->n_tensors || u->is_output[t] || u->count[t] != 1) return -1;
  return u->layers[t][0];
}

InferStatus *infer_rewrite_begin(InferRewrite *rw, const InferNetwork *src) {
  memset(rw, 0, sizeof *rw);
  rw->src = src;
  rw->map = malloc(sizeof *rw->map * ((size_t)src->n_tensors + 1));
  rw->done = calloc((size_t)src->n_layers + 1, sizeof *rw->done);
  InferStatus *st = NULL;
  if (!rw->map || !rw->done) st = infer_status_new(INFER_ERR_OUT_OF_MEMORY, "optimizer: out of memory");
  if (!st) st = infer_network_create(&rw->dst);
  for (int32_t t = 0; !st && t < src->n_tensors; t++) rw->map[t] = INFER_NO_TENSOR;
  for (int32_t i = 0; !st && i < src->n_inputs; i++) {
    const InferTensorDef *t = &src->tensors[src->inputs[i]];
    InferTensorId id;
    st = infer_network_add_input(rw->dst, t->name, t->dtype, &t->shape, &id);
    for (int d = 0; !st && d < t->shape.rank; d++)
      if (t->dim_names[d]) st = infer_network_set_dim_name(rw->dst, id, d, t->dim_names[d]);
    if (!st) rw->map[src->inputs[i]] = id;
  }
  if (!st) rw->dst->source_hash = src->source_hash;
  if (st) infer_rewrite_free(rw);
  return st;
}

InferStatus *infer_rewrite_get(InferRewrite *rw, InferTensorId t, InferTensorId *out) {
  *out = INFER_NO_TENSOR;
  if (t == INFER_NO_TENSOR) return NULL;
  if (t < 0 || t >= rw->src->n_tensors)
    return infer_status_new(INFER_ERR_INTERNAL, "optimizer: tensor %d out of range", t);
  if (rw->map[t] != INFER_NO_TENSOR) {
    *out = rw->map[t];
    return NULL;
  }
  const InferTensorDef *def = &rw->src->tensors[t];
  if (def->producer >= 0 || def->is_input)
    return infer_status_new(INFER_ERR_INTERNAL, "optimizer: tensor '%s' is used before it is made",
                            def->name);
  INFER_TRY(infer_network_add_constant(rw->dst, def->name, def->dtype, &def->shape, def->data,
                                       &rw->map[t]));
  *out = rw->map[t];
  return NULL;
}

InferStatus *infer_rewrite_emit(InferRewrite *rw, const char *name, InferOp op,
                                const InferOpParams *params, int n_in,
                                const InferTensorId *dst_inputs, int n_out,
                                const InferTensorId *src_outputs) {
  const char *names[256] = {0};
  InferTensorId outs[256];
  if (n_out > 256) return infer_status_new(INFER_ERR_UNSUPPORTED, "optimizer: too many outputs");
  for (int i = 0; i < n_out; i++) names[i] = rw->src->tensors[src_outputs[i]].name;
  INFER_TRY(infer_network_add_layer(rw->dst, name, op, params, n_in, dst_inputs, n_out, names, outs));
  for (int i = 0; i < n_out; i++) rw->map[src_outputs[i]] = outs[i];
  return NULL;
}

InferStatus *infer_rewrite_constant(InferRewrite *rw, const char *base, InferDType dtype,
                                    const InferShape *shape, const void *data,
                                    InferTensorId *out) {
  char *name = infer_network_unique_name(rw->dst, base);
  if (!name) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "optimizer: out of memory");
  /* a later src tensor may carry this name: keep dst names distinct from src ones */
  while (infer_network_find_tensor(rw->src, name) != INFER_NO_TENSOR) {
    char *longer = malloc(strlen(name) + 3);
    if (!longer) {
      free(name);
      return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "optimizer: out of memory");
    }
    sprintf(longer, "%s'", name);
    free(name);
    name = longer;
  }
  InferStatus *st = infer_network_add_constant(rw->dst, name, dtype, shape, data, out);
  free(name);
  return st;
}

char *infer_rewrite_fresh_name(InferRewrite *rw, const char *base, const char *suffix) {
  size_t n = strlen(base) + strlen(suffix) + 1;
  char *want = malloc(n);
  if (!want) return NULL;
  snprintf(want, n, "%s%s", base, suffix);
  char *name = infer_network_unique_name(rw->dst, want);
  free(want);
  while (name && infer_network_find_tensor(rw->src, name) != INFER_NO_TENSOR) {
    char *longer = malloc(strlen(name) + 2);
    if (longer) sprintf(longer, "%s'", name);
    free(name);
    name = longer;
  }
  return name;
}

void infer_rewrite_alias(InferRewrite *rw, InferTensorId t, InferTensorId same) {
  if (t >= 0 && t < rw->src->n_tensors) rw->map[t] = same;
}

InferStatus *infer_rewrite_copy(InferRewrite *rw, int32_t l) {
  const InferLayer *layer = &rw->src->layers[l];
  InferTensorId in[256];
  if (layer->n_inputs > 256) return infer_status_new(INFER_ERR_UNSUPPORTED, "optimizer: too many inputs");
  for (int i = 0; i < layer->n_inputs; i++) INFER_TRY(infer_rewrite_get(rw, layer->inputs[i], &in[i]));
  INFER_TRY(infer_rewrite_emit(rw, layer->name, layer->op, &layer->params, layer->n_inputs, in,
                               layer->n_outputs, layer->outputs));
  rw->done[l] = true;
  return NULL;
}

InferStatus *infer_rewrite_copy_rest(InferRewrite *rw) {
  for (int32_t l = 0; l < rw->src->n_layers; l++)
    if (!rw->done[l]) INFER_TRY(infer_rewrite_copy(rw, l));
  return NULL;
}

InferStatus *infer_rewrite_finish(InferRewrite *rw, InferNetwork **out) {
  for (int32_t i = 0; i < rw->src->n_outputs; i++) {
    InferTensorId t = rw->src->outputs[i];
    const char *want = rw->src->tensors[t].name;
    InferTensorId d;
    INFER_TRY(infer_rewrite_get(rw, t, &d));
    if (strcmp(rw->dst->tensors[d].name, want) != 0) {
      /* the output was aliased away: an identity keeps its name for callers */
      InferOpParams p;
      memset(&p, 0, sizeof p);
      p.reshape.kind = INFER_RESHAPE_IDENTITY;
      INFER_TRY(infer_rewrite_emit(rw, want, INFER_OP_RESHAPE, &p, 1, &d, 1, &t));
      d = rw->map[t];
    }
    INFER_TRY(infer_network_mark_output(rw->dst, d));
  }
  *out = rw->dst;
  rw->dst = NULL;
  return NULL;
}

void infer_rewrite_free(InferRewrite *rw) {
  infer_network_release(rw->dst);
  free(rw->map);
  free(rw->done);
  memset(rw, 0, sizeof *rw);
}
