/* Pass 6, pad-folding: a constant-mode Pad with value 0 that pads only the
 * spatial dims (non-negative amounts, constant pads and axes) and whose only
 * consumer is a Conv (as its data input, auto_pad NOTSET) or an average
 * Pool that counts padding (count_include_pad, auto_pad NOTSET, no
 * ceil_mode, not global) is dropped and its amounts are added to that
 * layer's pads. Both compute exactly what they did: the padded zeros were
 * multiplied into the sum (conv) or summed and counted (average pool).
 * Max pooling (whose padding is -inf, not 0), other pad modes, non-zero
 * values, negative pads (crops) and pads on the batch or channel dims are
 * left alone. */
#include <stdlib.h>
#include <string.h>

#include "passes.h"

static bool read_ints(const InferTensorDef *t, int64_t *v, int max, int *n) {
  if (!infer_tensor_is_constant(t) || t->shape.rank > 1) return false;
  int64_t count = infer_shape_numel(&t->shape);
  if (count < 0 || count > max) return false;
  for (int64_t i = 0; i < count; i++) {
    if (t->dtype == INFER_DTYPE_I64) v[i] = ((const int64_t *)t->data)[i];
    else if (t->dtype == INFER_DTYPE_I32) v[i] = ((const int32_t *)t->data)[i];
    else return false;
  }
  *n = (int)count;
  return true;
}

/* The pad's begin/end amounts per dim of x (rank r), when it is a plain
 * zero padding. */
static bool zero_pad_amounts(const InferNetwork *net, const InferLayer *pad, int32_t r,
                             int64_t *begin, int64_t *end) {
  if (pad->params.pad.mode != INFER_PAD_CONSTANT || pad->n_outputs != 1 || pad->n_inputs < 2)
    return false;
  const InferTensorDef *x = infer_net_tensor(net, pad->inputs[0]);
  if (!x || x->dtype != INFER_DTYPE_F32) return false;
  if (pad->n_inputs > 2 && pad->inputs[2] != INFER_NO_TENSOR) {
    const InferTensorDef *v = infer_net_tensor(net, pad->inputs[2]);
    if (!infer_tensor_is_constant(v) || infer_shape_numel(&v->shape) != 1) return false;
    if (v->dtype != INFER_DTYPE_F32 || *(const float *)v->data != 0.0f) return false;
  }
  int64_t pads[2 * INFER_MAX_RANK], raw_axes[INFER_MAX_RANK];
  int n_pads, n_axes = r;
  int32_t axes[INFER_MAX_RANK];
  if (!read_ints(infer_net_tensor(net, pad->inputs[1]), pads, 2 * INFER_MAX_RANK, &n_pads))
    return false;
  if (pad->n_inputs > 3 && pad->inputs[3] != INFER_NO_TENSOR) {
    if (!read_ints(infer_net_tensor(net, pad->inputs[3]), raw_axes, INFER_MAX_RANK, &n_axes))
      return false;
    bool seen[INFER_MAX_RANK] = {false};
    for (int i = 0; i < n_axes; i++) {
      int64_t a = raw_axes[i] < 0 ? raw_axes[i] + r : raw_axes[i];
      if (a < 0 || a >= r || seen[a]) return false;
      seen[a] = true;
      axes[i] = (int32_t)a;
    }
  } else {
    for (int i = 0; i < r; i++) axes[i] = i;
  }
  if (n_pads != 2 * n_axes) return false;
  for (int i = 0; i < r; i++) begin[i] = end[i] = 0;
  for (int i = 0; i < n_axes; i++) {
    begin[axes[i]] = pads[i];
    end[axes[i]] = pads[n_axes + i];
  }
  for (int i = 0; i < r; i++)
    if (begin[i] < 0 || end[i] < 0 || (i < 2 && (begin[i] || end[i]))) return false;
  return true;
}

/* Adds the pad's amounts into consumer c's params when every condition holds. */
static bool fold_into(const InferNetwork *net, const InferLayer *pad, const InferLayer *c,
                      InferOpParams *params) {
  if (c->inputs[0] != pad->outputs[0]) return false;
  int64_t *pads;
  int32_t spatial;
  *params = c->params;
  if (c->op == INFER_OP_CONV) {
    InferConvParams *p = &params->conv;
    if (p->auto_pad != INFER_AUTO_PAD_NOTSET) return false;
    /* the padded tensor must feed only the data input (not weights or residual) */
    for (int i = 1; i < c->n_inputs; i++)
      if (c->inputs[i] == pad->outputs[0]) return false;
    pads = p->pads;
    spatial = p->spatial;
  } else if (c->op == INFER_OP_POOL) {
    InferPoolParams *p = &params->pool;
    if (p->kind != INFER_POOL_AVERAGE || !p->count_include_pad || p->global || p->ceil_mode ||
        p->auto_pad != INFER_AUTO_PAD_NOTSET)
      return false;
    pads = p->pads;
    spatial = p->spatial;
  } else {
    return false;
  }
  const InferTensorDef *x = infer_net_tensor(net, pad->inputs[0]);
  if (!x->shape_known || spatial < 1 || spatial > INFER_MAX_SPATIAL || x->shape.rank != 2 + spatial)
    return false;
  int64_t begin[INFER_MAX_RANK], end[INFER_MAX_RANK];
  if (!zero_pad_amounts(net, pad, x->shape.rank, begin, end)) return false;
  for (int i = 0; i < spatial; i++) {
    if (pads[i] < 0 || pads[spatial + i] < 0) return false;
    pads[i] += begin[2 + i];
    pads[spatial + i] += end[2 + i];
  }
  return true;
}

InferStatus *infer_pass_pad_folding(const InferPassContext *ctx, const InferNetwork *in,
                                    InferNetwork **out, int *changes) {
  (void)ctx;
  *out = NULL;
  *changes = 0;
  InferUses uses;
  INFER_TRY(infer_uses_build(in, &uses));
  /* per consumer layer: the pad folded into it (-1 none) and its new params */
  int32_t *folded_pad = malloc(sizeof(int32_t) * ((size_t)in->n_layers + 1));
  InferOpParams *params = malloc(sizeof(InferOpParams) * ((size_t)in->n_layers + 1));
  InferStatus *st = NULL;
  if (!folded_pad || !params)
    st = infer_status_new(INFER_ERR_OUT_OF_MEMORY, "pad-folding: out of memory");
  int n = 0;
  for (int32_t l = 0; !st && l < in->n_layers; l++) folded_pad[l] = -1;
  for (int32_t l = 0; !st && l < in->n_layers; l++) {
    const InferLayer *pad = &in->layers[l];
    if (pad->op != INFER_OP_PAD || pad->n_outputs != 1) continue;
    int32_t c = infer_uses_single_consumer(&uses, pad->outputs[0]);
    if (c < 0 || folded_pad[c] >= 0) continue;
    if (!fold_into(in, pad, &in->layers[c], &params[c])) continue;
    folded_pad[c] = l;
    n++;
  }
  if (!st && n > 0) {
    InferRewrite rw;
    bool *skip = calloc((size_t)in->n_layers + 1, 1);
    st = skip ? infer_rewrite_begin(&rw, in)
              : infer_status_new(INFER_ERR_OUT_OF_MEMORY, "pad-folding: out of memory");
    if (!st) {
      for (int32_t l = 0; l < in->n_layers; l++)
        if (folded_pad[l] >= 0) skip[folded_pad[l]] = true;
      for (int32_t l = 0; !st && l < in->n_layers; l++) {
        const InferLayer *layer = &in->layers[l];
        if (skip[l]) {
          rw.done[l] = true;
          continue;
        }
        if (folded_pad[l] < 0) {
          st = infer_rewrite_copy(&rw, l);
          continue;
        }
        InferTensorId ins[256];
        if (layer->n_inputs > 256) {
          st = infer_status_new(INFER_ERR_UNSUPPORTED, "pad-folding: too many inputs");
          break;
        }
        /* the data input becomes the pad's own input */
        st = infer_rewrite_get(&rw, in->layers[folded_pad[l]].inputs[0], &ins[0]);
        for (int i = 1; !st && i < layer->n_inputs; i++)
          st = infer_rewrite_get(&rw, layer->inputs[i], &ins[i]);
        if (!st)
          st = infer_rewrite_emit(&rw, layer->name, layer->op, &params[l], layer->n_inputs, ins,
                                  layer->n_outputs, layer->outputs);
        rw.done[l] = true;
      }
      if (!st) st = infer_rewrite_finish(&rw, out);
      infer_rewrite_free(&rw);
    }
    free(skip);
    if (!st) *changes = n;
  }
  free(folded_pad);
  free(params);
  infer_uses_free(&uses);
  return st;
}
