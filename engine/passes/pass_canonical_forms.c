/* Pass 8, canonical-forms: spellings of one computation are brought to the
 * form the backends run best.
 *   - MatMul(A, B) + bias -> Gemm(A, B, bias) (alpha 1, beta 1, no
 *     transposes) when A is 2-D, B a constant 2-D f32 weight [K,N], the
 *     MatMul has no fused activation and its only consumer is the Add, and
 *     the bias is a constant f32 that broadcasts to [M,N] without enlarging
 *     it ([N], [1,N], [1], a scalar, or [M,N] with a static M).
 *   - ReduceMean over axes {2,3} (or {-2,-1}) of a rank-4 f32 tensor ->
 *     GlobalAveragePool; with keepdims=0 followed by a Flatten at axis 1
 *     ([N,C,1,1] -> [N,C]), which needs no static dims.
 * Anything else (a MatMul with batch dims, a bias that varies along M with
 * M unknown, other reduce kinds or axes) is left alone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passes.h"

/* The bias operand of Add layer c when matmul output y feeds it (else NO_TENSOR). */
static InferTensorId gemm_bias(const InferNetwork *net, const InferLayer *c, InferTensorId y,
                               int64_t m, int64_t n) {
  if (c->op != INFER_OP_BINARY || c->params.binary.kind != INFER_BINARY_ADD || c->n_inputs != 2 ||
      c->n_outputs != 1)
    return INFER_NO_TENSOR;
  InferTensorId b = c->inputs[0] == y ? c->inputs[1] : c->inputs[0];
  if (b == y || (c->inputs[0] != y && c->inputs[1] != y)) return INFER_NO_TENSOR;
  const InferTensorDef *bd = infer_net_tensor(net, b);
  if (!infer_tensor_is_constant(bd) || bd->dtype != INFER_DTYPE_F32 || bd->shape.rank > 2)
    return INFER_NO_TENSOR;
  const InferShape *s = &bd->shape;
  if (s->rank >= 1 && s->d[s->rank - 1] != 1 && s->d[s->rank - 1] != n) return INFER_NO_TENSOR;
  if (s->rank == 2 && s->d[0] != 1 && (m < 0 || s->d[0] != m)) return INFER_NO_TENSOR;
  return b;
}

/* Layer l as MatMul + Add: the Add layer index and the bias, or -1. */
static int32_t match_matmul_add(const InferNetwork *net, const InferUses *uses, int32_t l,
                                InferTensorId *bias) {
  const InferLayer *mm = &net->layers[l];
  if (mm->op != INFER_OP_MATMUL || mm->n_inputs != 2 || mm->n_outputs != 1 ||
      mm->params.matmul.activation.kind != INFER_UNARY_NONE)
    return -1;
  const InferTensorDef *a = infer_net_tensor(net, mm->inputs[0]);
  const InferTensorDef *b = infer_net_tensor(net, mm->inputs[1]);
  const InferTensorDef *y = infer_net_tensor(net, mm->outputs[0]);
  if (!a || !b || !y || !a->shape_known || a->dtype != INFER_DTYPE_F32 || a->shape.rank != 2 ||
      !infer_tensor_is_constant(b) || b->dtype != INFER_DTYPE_F32 || b->shape.rank != 2 ||
      (a->shape.d[1] >= 0 && a->shape.d[1] != b->shape.d[0]))
    return -1;
  int32_t c = infer_uses_single_consumer(uses, mm->outputs[0]);
  if (c < 0) return -1;
  *bias = gemm_bias(net, &net->layers[c], mm->outputs[0], a->shape.d[0], b->shape.d[1]);
  const InferTensorDef *z = infer_net_tensor(net, net->layers[c].outputs[0]);
  if (*bias == INFER_NO_TENSOR || !z || z->dtype != INFER_DTYPE_F32) return -1;
  return c;
}

/* Whether reduce layer l averages the two spatial dims of a rank-4 f32 tensor. */
static bool is_spatial_mean(const InferNetwork *net, const InferLayer *r) {
  if (r->op != INFER_OP_REDUCE || r->params.reduce.kind != INFER_REDUCE_MEAN ||
      r->n_inputs != 2 || r->n_outputs != 1)
    return false;
  const InferTensorDef *x = infer_net_tensor(net, r->inputs[0]);
  const InferTensorDef *axes = infer_net_tensor(net, r->inputs[1]);
  if (!x || !x->shape_known || x->dtype != INFER_DTYPE_F32 || x->shape.rank != 4 ||
      !infer_tensor_is_constant(axes) || axes->dtype != INFER_DTYPE_I64 || axes->shape.rank != 1 ||
      axes->shape.d[0] != 2)
    return false;
  bool seen[4] = {false};
  for (int i = 0; i < 2; i++) {
    int64_t a = ((const int64_t *)axes->data)[i];
    if (a < 0) a += 4;
    if (a < 2 || a > 3 || seen[a]) return false;
    seen[a] = true;
  }
  return true;
}

/* A fresh dst tensor name from base, unused in both networks. */
static InferStatus *emit_global_average(InferRewrite *rw, int32_t l) {
  const InferLayer *r = &rw->src->layers[l];
  InferTensorId x, y = r->outputs[0];
  INFER_TRY(infer_rewrite_get(rw, r->inputs[0], &x));
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.pool.kind = INFER_POOL_AVERAGE;
  p.pool.global = true;
  p.pool.spatial = 2;
  if (r->params.reduce.keepdims)
    return infer_rewrite_emit(rw, r->name, INFER_OP_POOL, &p, 1, &x, 1, &y);
  char base[512], *name = NULL;
  snprintf(base, sizeof base, "%s_pooled", rw->src->tensors[y].name);
  name = infer_rewrite_fresh_name(rw, base, "");
  if (!name) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "canonical-forms: out of memory");
  InferTensorId pooled;
  const char *names[1] = {name};
  InferStatus *st = infer_network_add_layer(rw->dst, r->name, INFER_OP_POOL, &p, 1, &x, 1, names,
                                            &pooled);
  free(name);
  if (st) return st;
  memset(&p, 0, sizeof p);
  p.reshape.kind = INFER_RESHAPE_FLATTEN;
  p.reshape.axis = 1;
  snprintf(base, sizeof base, "%s_flatten", r->name);
  return infer_rewrite_emit(rw, base, INFER_OP_RESHAPE, &p, 1, &pooled, 1, &y);
}

InferStatus *infer_pass_canonical_forms(const InferPassContext *ctx, const InferNetwork *in,
                                        InferNetwork **out, int *changes) {
  (void)ctx;
  *out = NULL;
  *changes = 0;
  InferUses uses;
  INFER_TRY(infer_uses_build(in, &uses));
  int32_t *add_of = malloc(sizeof(int32_t) * ((size_t)in->n_layers + 1));
  InferTensorId *bias = malloc(sizeof(InferTensorId) * ((size_t)in->n_layers + 1));
  bool *skip = calloc((size_t)in->n_layers + 1, 1), *gap = calloc((size_t)in->n_layers + 1, 1);
  InferStatus *st = NULL;
  if (!add_of || !bias || !skip || !gap)
    st = infer_status_new(INFER_ERR_OUT_OF_MEMORY, "canonical-forms: out of memory");
  int n = 0;
  for (int32_t l = 0; !st && l < in->n_layers; l++) {
    add_of[l] = -1;
    if (skip[l]) continue;
    add_of[l] = match_matmul_add(in, &uses, l, &bias[l]);
    if (add_of[l] >= 0) {
      skip[add_of[l]] = true;
      n++;
    } else if (is_spatial_mean(in, &in->layers[l])) {
      gap[l] = true;
      n++;
    }
  }
  if (!st && n > 0) {
    InferRewrite rw;
    st = infer_rewrite_begin(&rw, in);
    for (int32_t l = 0; !st && l < in->n_layers; l++) {
      const InferLayer *layer = &in->layers[l];
      if (skip[l]) {
        rw.done[l] = true;
      } else if (add_of[l] >= 0) {
        InferTensorId ins[3];
        st = infer_rewrite_get(&rw, layer->inputs[0], &ins[0]);
        if (!st) st = infer_rewrite_get(&rw, layer->inputs[1], &ins[1]);
        if (!st) st = infer_rewrite_get(&rw, bias[l], &ins[2]);
        InferOpParams p;
        memset(&p, 0, sizeof p);
        p.gemm.alpha = 1.0f;
        p.gemm.beta = 1.0f;
        const InferLayer *add = &in->layers[add_of[l]];
        if (!st)
          st = infer_rewrite_emit(&rw, layer->name, INFER_OP_GEMM, &p, 3, ins, 1, add->outputs);
        rw.done[l] = true;
      } else if (gap[l]) {
        st = emit_global_average(&rw, l);
        rw.done[l] = true;
      } else {
        st = infer_rewrite_copy(&rw, l);
      }
    }
    if (!st) st = infer_rewrite_finish(&rw, out);
    infer_rewrite_free(&rw);
    if (!st) *changes = n;
  }
  free(add_of);
  free(bias);
  free(skip);
  free(gap);
  infer_uses_free(&uses);
  return st;
}
