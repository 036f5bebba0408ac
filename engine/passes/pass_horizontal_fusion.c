/* Horizontal fusion: sibling layers that read one tensor with the same
 * settings and only differ in their weights become one wider layer and a
 * Split that gives each sibling's output its old name.
 *
 *   Conv   1x1 kernels (any number of spatial dims), stride 1, no padding,
 *          group 1, no residual, the same fused activation, constant f32
 *          weights [M_i, C, 1...] and bias (absent: zeros), input 0 the
 *          same tensor -> Conv with weights [sum M_i, C, 1...] + Split axis 1
 *   Gemm   trans_b, the same trans_a, alpha and activation, constant B
 *          [N_i, K], C absent or a constant of N_i or 1 elements broadcast
 *          over the rows (the same beta wherever C is present), input A the
 *          same tensor -> Gemm with B [sum N_i, K] + Split axis 1
 *
 * Each output channel (column) is computed exactly as before. The merged
 * layer takes the first sibling's position; the later siblings' inputs are
 * its input and constants, so they are available there. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passes.h"

#define MAX_SIBLINGS 64

static bool const_f32(const InferNetwork *net, InferTensorId t) {
  const InferTensorDef *d = infer_net_tensor(net, t);
  return d && d->data && d->producer < 0 && !d->is_input && d->dtype == INFER_DTYPE_F32;
}

/* Output channels of a mergeable layer (its weight rows), else 0. */
static int64_t mergeable(const InferNetwork *net, int32_t l) {
  const InferLayer *layer = &net->layers[l];
  if (layer->n_outputs != 1 || layer->n_inputs < 2 || layer->n_inputs > 3) return 0;
  const InferTensorDef *y = &net->tensors[layer->outputs[0]];
  if (!y->shape_known || y->dtype != INFER_DTYPE_F32 || !const_f32(net, layer->inputs[1])) return 0;
  const InferShape *w = &net->tensors[layer->inputs[1]].shape;
  InferTensorId bias = layer->n_inputs > 2 ? layer->inputs[2] : INFER_NO_TENSOR;
  if (bias != INFER_NO_TENSOR && !const_f32(net, bias)) return 0;
  int64_t nb = bias == INFER_NO_TENSOR ? -1 : infer_shape_numel(&net->tensors[bias].shape);
  if (layer->op == INFER_OP_CONV) {
    const InferConvParams *p = &layer->params.conv;
    if (p->has_residual || p->group > 1 || p->spatial < 1 || p->spatial > INFER_MAX_SPATIAL ||
        w->rank != p->spatial + 2 || y->shape.rank != w->rank)
      return 0;
    for (int i = 0; i < p->spatial; i++)
      if (w->d[2 + i] != 1 || p->kernel[i] > 1 || p->strides[i] > 1 || p->pads[i] != 0 ||
          p->pads[p->spatial + i] != 0)
        return 0;
    if (nb >= 0 && (nb != w->d[0] || net->tensors[bias].shape.rank != 1)) return 0;
    return w->d[0];
  }
  if (layer->op == INFER_OP_GEMM) {
    const InferGemmParams *p = &layer->params.gemm;
    if (!p->trans_b || w->rank != 2 || y->shape.rank != 2) return 0;
    const InferShape *c = bias == INFER_NO_TENSOR ? NULL : &net->tensors[bias].shape;
    if (c && nb != 1 && !(nb == w->d[0] && (c->rank == 1 || (c->rank == 2 && c->d[0] == 1))))
      return 0;
    if (c && c->rank > 2) return 0;
    return w->d[0];
  }
  return 0;
}

/* Whether b can join a group that a started (both mergeable). */
static bool compatible(const InferNetwork *net, int32_t a, int32_t b) {
  const InferLayer *la = &net->layers[a], *lb = &net->layers[b];
  if (la->op != lb->op || la->inputs[0] != lb->inputs[0]) return false;
  const InferShape *wa = &net->tensors[la->inputs[1]].shape;
  const InferShape *wb = &net->tensors[lb->inputs[1]].shape;
  if (wa->rank != wb->rank) return false;
  for (int i = 1; i < wa->rank; i++)
    if (wa->d[i] != wb->d[i]) return false;
  if (la->op == INFER_OP_CONV) {
    const InferConvParams *p = &la->params.conv, *q = &lb->params.conv;
    return p->spatial == q->spatial && p->activation.kind == q->activation.kind &&
           p->activation.alpha == q->activation.alpha && p->activation.beta == q->activation.beta &&
           memcmp(p->dilations, q->dilations, sizeof p->dilations) == 0 &&
           p->auto_pad == q->auto_pad;
  }
  const InferGemmParams *p = &la->params.gemm, *q = &lb->params.gemm;
  bool ca = la->n_inputs > 2 && la->inputs[2] != INFER_NO_TENSOR;
  bool cb = lb->n_inputs > 2 && lb->inputs[2] != INFER_NO_TENSOR;
  return p->trans_a == q->trans_a && p->alpha == q->alpha && (!ca || !cb || p->beta == q->beta) &&
         p->activation.kind == q->activation.kind && p->activation.alpha == q->activation.alpha &&
         p->activation.beta == q->activation.beta;
}

/* Emits the merged layer and its Split for the group g[0..n). */
static InferStatus *emit_group(InferRewrite *rw, const int32_t *g, int n) {
  const InferNetwork *net = rw->src;
  const InferLayer *first = &net->layers[g[0]];
  const InferShape *w0 = &net->tensors[first->inputs[1]].shape;
  int64_t row = infer_shape_numel(w0) / w0->d[0], total = 0, sizes[MAX_SIBLINGS];
  bool any_bias = false;
  float beta = first->params.gemm.beta;
  for (int i = 0; i < n; i++) {
    const InferLayer *l = &net->layers[g[i]];
    sizes[i] = net->tensors[l->inputs[1]].shape.d[0];
    total += sizes[i];
    if (l->n_inputs > 2 && l->inputs[2] != INFER_NO_TENSOR) {
      if (!any_bias) beta = l->params.gemm.beta;
      any_bias = true;
    }
  }
  float *w = malloc(sizeof(float) * (size_t)(total * row + 1));
  float *b = calloc((size_t)total + 1, sizeof(float));
  if (!w || !b) {
    free(w);
    free(b);
    return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "optimizer: out of memory");
  }
  InferStatus *st = NULL;
  for (int64_t i = 0, at = 0; i < n; at += sizes[i], i++) {
    const InferLayer *l = &net->layers[g[i]];
    memcpy(w + at * row, net->tensors[l->inputs[1]].data, sizeof(float) * (size_t)(sizes[i] * row));
    if (l->n_inputs < 3 || l->inputs[2] == INFER_NO_TENSOR) continue;
    const InferTensorDef *c = &net->tensors[l->inputs[2]];
    const float *cv = c->data;
    bool one = infer_shape_numel(&c->shape) == 1;
    for (int64_t j = 0; j < sizes[i]; j++) b[at + j] = one ? cv[0] : cv[j];
  }
  InferShape ws = *w0, bs = {1, {total}}, ss = {1, {n}};
  ws.d[0] = total;
  InferTensorId in[3] = {INFER_NO_TENSOR, INFER_NO_TENSOR, INFER_NO_TENSOR}, merged, split;
  if (!st) st = infer_rewrite_get(rw, first->inputs[0], &in[0]);
  if (!st) st = infer_rewrite_constant(rw, first->name, INFER_DTYPE_F32, &ws, w, &in[1]);
  if (!st && any_bias)
    st = infer_rewrite_constant(rw, first->name, INFER_DTYPE_F32, &bs, b, &in[2]);
  free(w);
  free(b);
  int64_t split_sizes[MAX_SIBLINGS];
  memcpy(split_sizes, sizes, sizeof(int64_t) * (size_t)n);
  if (!st)
    st = infer_rewrite_constant(rw, "split_sizes", INFER_DTYPE_I64, &ss, split_sizes, &split);
  InferOpParams p = first->params;
  if (first->op == INFER_OP_GEMM) p.gemm.beta = beta;
  char *name = st ? NULL : infer_rewrite_fresh_name(rw, first->name, "");
  if (!st && !name) st = infer_status_new(INFER_ERR_OUT_OF_MEMORY, "optimizer: out of memory");
  if (!st)
    st = infer_network_add_layer(rw->dst, name, first->op, &p, any_bias ? 3 : 2, in, 1,
                                 (const char *const *)&name, &merged);
  free(name);
  if (st) return st;
  InferTensorId outs[MAX_SIBLINGS], sin[2] = {merged, split};
  for (int i = 0; i < n; i++) outs[i] = net->layers[g[i]].outputs[0];
  InferOpParams sp;
  memset(&sp, 0, sizeof sp);
  sp.split.axis = 1;
  char split_name[512];
  snprintf(split_name, sizeof split_name, "%s_split", first->name);
  INFER_TRY(infer_rewrite_emit(rw, split_name, INFER_OP_SPLIT, &sp, 2, sin, n, outs));
  rw->changes++;
  return NULL;
}

InferStatus *infer_pass_horizontal_fusion(const InferPassContext *ctx, const InferNetwork *in,
                                          InferNetwork **out, int *changes) {
  (void)ctx;
  *out = NULL;
  *changes = 0;
  int32_t n = in->n_layers;
  int32_t *group = malloc(sizeof *group * ((size_t)n + 1)); /* the group's first layer, or -1 */
  int64_t *rows = malloc(sizeof *rows * ((size_t)n + 1));
  if (!group || !rows) {
    free(group);
    free(rows);
    return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "optimizer: out of memory");
  }
  InferUses u;
  InferStatus *st = infer_uses_build(in, &u);
  if (st) {
    free(group);
    free(rows);
    return st;
  }
  for (int32_t l = 0; l < n; l++) {
    group[l] = -1;
    rows[l] = mergeable(in, l);
    /* a sibling nothing reads is left to dead-code removal */
    InferTensorId t = in->layers[l].n_outputs ? in->layers[l].outputs[0] : INFER_NO_TENSOR;
    if (t >= 0 && !u.count[t] && !u.is_output[t]) rows[l] = 0;
  }
  infer_uses_free(&u);
  int n_groups = 0;
  for (int32_t a = 0; a < n; a++) {
    if (!rows[a] || group[a] >= 0) continue;
    int size = 1;
    for (int32_t b = a + 1; b < n && size < MAX_SIBLINGS; b++)
      if (rows[b] && group[b] < 0 && compatible(in, a, b)) {
        group[b] = a;
        size++;
      }
    if (size > 1) {
      group[a] = a;
      n_groups++;
    }
  }
  free(rows);
  if (n_groups == 0) {
    free(group);
    return NULL;
  }
  InferRewrite rw;
  st = infer_rewrite_begin(&rw, in);
  for (int32_t l = 0; !st && l < n; l++) {
    if (group[l] < 0) {
      st = infer_rewrite_copy(&rw, l);
    } else if (group[l] == l) {
      int32_t g[MAX_SIBLINGS];
      int k = 0;
      for (int32_t b = l; b < n; b++)
        if (group[b] == l) g[k++] = b;
      st = emit_group(&rw, g, k);
    }
    rw.done[l] = true;
  }
  if (!st) st = infer_rewrite_finish(&rw, out);
  if (!st) *changes = rw.changes;
  if (rw.map) infer_rewrite_free(&rw);
  free(group);
  return st;
}
