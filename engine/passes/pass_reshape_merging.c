/* Pass 7, reshape-merging: chains of data-movement layers that only
 * rearrange or relabel dims collapse into one layer.
 *   - Transpose -> Transpose: one Transpose with the composed permutation;
 *     an identity permutation (composed or given) aliases the output to the
 *     input.
 *   - Reshape-family -> Reshape-family (Reshape, Flatten, Squeeze, Unsqueeze,
 *     Identity, in any mix and length): one Reshape of the chain's input,
 *     to a constant target equal to the last layer's static output shape;
 *     with one unknown dim (the others known and non-zero) that dim is -1
 *     in the target (the element count fixes it); else to the last layer's
 *     own constant target when that is a Reshape whose target has no 0 (so
 *     it never copies an intermediate dim).
 * Only links whose intermediate tensor has the next layer as its single
 * consumer (and is no graph output) are merged; where an intermediate has
 * other readers the chain is cut there. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passes.h"

typedef struct Plan {
  bool ok;              /* a transpose / reshape this pass understands */
  bool absorbed;        /* merged into its consumer: not emitted */
  bool merged;          /* absorbed a producer: emitted in merged form */
  InferTensorId source; /* the chain's input (src tensor) */
  int32_t rank;
  int64_t perm[INFER_MAX_RANK];   /* transposes */
  int64_t target[INFER_MAX_RANK]; /* reshapes: the target shape */
  int32_t target_rank;
  bool allowzero;
} Plan;

static bool resolve_perm(const InferNetwork *net, const InferLayer *layer, Plan *p) {
  const InferTensorDef *x = infer_net_tensor(net, layer->inputs[0]);
  if (!x || !x->shape_known || layer->n_outputs != 1) return false;
  const InferTransposeParams *tp = &layer->params.transpose;
  int32_t r = x->shape.rank;
  if (tp->n_perm != 0 && tp->n_perm != r) return false;
  bool seen[INFER_MAX_RANK] = {false};
  for (int i = 0; i < r; i++) {
    int64_t v = tp->n_perm ? tp->perm[i] : r - 1 - i;
    if (v < 0) v += r;
    if (v < 0 || v >= r || seen[v]) return false;
    seen[v] = true;
    p->perm[i] = v;
  }
  p->rank = r;
  return true;
}

/* The target of a Reshape whose constant shape input never copies a dim. */
static bool independent_target(const InferNetwork *net, const InferLayer *layer, Plan *p) {
  if (layer->params.reshape.kind != INFER_RESHAPE_SHAPE || layer->n_inputs < 2) return false;
  const InferTensorDef *s = infer_net_tensor(net, layer->inputs[1]);
  if (!infer_tensor_is_constant(s) || s->shape.rank != 1 || s->shape.d[0] > INFER_MAX_RANK) return false;
  if (s->dtype != INFER_DTYPE_I64 && s->dtype != INFER_DTYPE_I32) return false;
  for (int64_t i = 0; i < s->shape.d[0]; i++) {
    int64_t v = s->dtype == INFER_DTYPE_I64 ? ((const int64_t *)s->data)[i]
                                            : ((const int32_t *)s->data)[i];
    if (v == 0 && !layer->params.reshape.allowzero) return false;
    p->target[i] = v;
  }
  p->target_rank = (int32_t)s->shape.d[0];
  p->allowzero = layer->params.reshape.allowzero;
  return true;
}

static bool plan_reshape(const InferNetwork *net, const InferLayer *layer, Plan *p) {
  const InferTensorDef *y = infer_net_tensor(net, layer->outputs[0]);
  if (layer->n_outputs != 1 || !y) return false;
  if (y->shape_known && infer_shape_is_static(&y->shape)) {
    p->target_rank = y->shape.rank;
    p->allowzero = false;
    for (int i = 0; i < y->shape.rank; i++) {
      p->target[i] = y->shape.d[i];
      if (y->shape.d[i] == 0) p->allowzero = true;  /* a 0 is a size, not "copy" */
    }
    return true;
  }
  /* one unknown dim (a dynamic batch) and the others known and non-zero:
   * the element count determines it, so -1 in the target recovers it */
  int unknown = 0;
  for (int i = 0; y->shape_known && i < y->shape.rank; i++) {
    if (y->shape.d[i] < 0) unknown++;
    else if (y->shape.d[i] == 0) unknown = 2;
  }
  if (y->shape_known && unknown == 1) {
    p->target_rank = y->shape.rank;
    p->allowzero = false;
    for (int i = 0; i < y->shape.rank; i++) p->target[i] = y->shape.d[i] < 0 ? -1 : y->shape.d[i];
    return true;
  }
  return independent_target(net, layer, p);
}

static bool is_identity_perm(const Plan *p) {
  for (int i = 0; i < p->rank; i++)
    if (p->perm[i] != i) return false;
  return true;
}

/* Emits layer l in its merged form; *changes counts layers removed outright. */
static InferStatus *emit_merged(InferRewrite *rw, int32_t l, const Plan *p, int *changes) {
  const InferLayer *layer = &rw->src->layers[l];
  InferTensorId y = layer->outputs[0], x;
  INFER_TRY(infer_rewrite_get(rw, p->source, &x));
  InferOpParams params;
  memset(&params, 0, sizeof params);
  if (layer->op == INFER_OP_TRANSPOSE) {
    if (is_identity_perm(p)) {
      infer_rewrite_alias(rw, y, x);
      if (!rw->src->tensors[y].is_output) (*changes)++; /* the layer goes too */
    } else {
      params.transpose.n_perm = p->rank;
      memcpy(params.transpose.perm, p->perm, sizeof p->perm);
      INFER_TRY(infer_rewrite_emit(rw, layer->name, INFER_OP_TRANSPOSE, &params, 1, &x, 1, &y));
    }
  } else {
    InferShape s = {1, {p->target_rank}};
    InferTensorId in[2] = {x, INFER_NO_TENSOR};
    char base[512];
    snprintf(base, sizeof base, "%s_shape", layer->name);
    INFER_TRY(infer_rewrite_constant(rw, base, INFER_DTYPE_I64, &s, p->target, &in[1]));
    params.reshape.kind = INFER_RESHAPE_SHAPE;
    params.reshape.allowzero = p->allowzero;
    INFER_TRY(infer_rewrite_emit(rw, layer->name, INFER_OP_RESHAPE, &params, 2, in, 1, &y));
  }
  rw->done[l] = true;
  return NULL;
}

InferStatus *infer_pass_reshape_merging(const InferPassContext *ctx, const InferNetwork *in,
                                        InferNetwork **out, int *changes) {
  (void)ctx;
  *out = NULL;
  *changes = 0;
  Plan *plan = calloc((size_t)in->n_layers + 1, sizeof *plan);
  if (!plan) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "reshape-merging: out of memory");
  InferUses uses;
  InferStatus *st = infer_uses_build(in, &uses);
  if (st) {
    free(plan);
    return st;
  }
  int todo = 0;
  for (int32_t l = 0; l < in->n_layers; l++) {
    const InferLayer *layer = &in->layers[l];
    Plan *p = &plan[l];
    if (layer->n_inputs < 1 || layer->inputs[0] == INFER_NO_TENSOR || layer->n_outputs != 1)
      continue;
    InferTensorId x = layer->inputs[0];
    int32_t prod = in->tensors[x].producer;
    bool chain = prod >= 0 && in->layers[prod].op == layer->op && plan[prod].ok &&
                 infer_uses_single_consumer(&uses, x) == l;
    if (layer->op == INFER_OP_TRANSPOSE) {
      if (!resolve_perm(in, layer, p)) continue;
      p->ok = true;
      p->source = x;
      if (chain && plan[prod].rank == p->rank) {
        int64_t composed[INFER_MAX_RANK];
        for (int i = 0; i < p->rank; i++) composed[i] = plan[prod].perm[p->perm[i]];
        memcpy(p->perm, composed, sizeof composed);
        p->source = plan[prod].source;
        p->merged = true;
        plan[prod].absorbed = true;
      }
      if (p->merged || (is_identity_perm(p) && !in->tensors[layer->outputs[0]].is_output)) todo++;
    } else if (layer->op == INFER_OP_RESHAPE) {
      p->ok = true;
      p->source = x;
      if (chain && plan_reshape(in, layer, p)) {
        p->source = plan[prod].source;
        p->merged = true;
        plan[prod].absorbed = true;
        todo++;
      }
    }
  }
  if (todo > 0) {
    InferRewrite rw;
    st = infer_rewrite_begin(&rw, in);
    for (int32_t l = 0; !st && l < in->n_layers; l++) {
      const Plan *p = &plan[l];
      if (p->absorbed) {
        rw.done[l] = true;
      } else if (p->merged ||
                 (in->layers[l].op == INFER_OP_TRANSPOSE && p->ok && is_identity_perm(p) &&
                  !in->tensors[in->layers[l].outputs[0]].is_output)) {
        st = emit_merged(&rw, l, p, changes);
      } else {
        st = infer_rewrite_copy(&rw, l);
      }
    }
    if (!st) st = infer_rewrite_finish(&rw, out);
    infer_rewrite_free(&rw);
    for (int32_t l = 0; l < in->n_layers; l++) *changes += plan[l].absorbed;
  }
  if (st) *changes = 0;
  infer_uses_free(&uses);
  free(plan);
  return st;
}
