/* Activation fusion: layers that apply an activation to their own result
 * take over the activation layer that follows them.
 *
 *   Conv/ConvTranspose/Gemm/MatMul -> Unary act   the layer with params.activation = act
 *   BatchNorm/InstanceNorm/LayerNorm -> Unary act (the CPU norm kernels apply it last)
 *   Conv -> Add(conv, r) [-> Unary act]           Conv with has_residual, r as its last
 *                                                 input (and the activation)
 *
 * act is one of Relu, LeakyRelu, Clip, Sigmoid, SiLU, HardSwish, HardSigmoid,
 * GELU, Tanh, Mish, Elu. The producer must have no activation yet (and no
 * residual), and its result must be read by the fused layer only (no graph
 * output); everything is f32. A residual must have exactly the conv
 * output's shape: dims are compared symbolically (a dynamic dim carries
 * where it came from: an input dim, named dims being one value, through
 * same-shape layers, broadcasts and the batch dim of conv/pool), so
 * dynamic batches fuse when the shapes are provably equal.
 *
 * Where: an activation fuses at the producer's position (the fused layer
 * takes the activation's output name); a residual fuses at the Add's
 * position (the conv moves there: only the Add read its output, and its
 * own inputs are made before the conv). */
#include <stdlib.h>
#include <string.h>

#include "passes.h"

/* ---- symbolic dims -------------------------------------------------------- */

/* Per tensor: rank (-1 unknown) and dims, >= 0 a known size, < 0 a symbol
 * (two equal symbols are the same runtime value). */
typedef struct SymShape {
  int32_t rank;
  int64_t d[INFER_MAX_RANK];
} SymShape;

typedef struct Syms {
  SymShape *s;
  int64_t next;           /* the next fresh symbol */
  const char **names;     /* named input dims: symbol -1 - i is names[i] */
  int32_t n_names;
} Syms;

static int64_t sym_fresh(Syms *y) { return y->next--; }

/* A tensor's shape as known when layers were added: -1 dims get fresh symbols. */
static void sym_from_def(Syms *y, const InferTensorDef *t, SymShape *out) {
  out->rank = t->shape_known || t->data || t->is_input ? t->shape.rank : -1;
  for (int i = 0; i < out->rank; i++) out->d[i] = t->shape.d[i] >= 0 ? t->shape.d[i] : sym_fresh(y);
}

static int64_t sym_broadcast(Syms *y, int64_t a, int64_t b) {
  if (a == b || b == 1) return a;
  if (a == 1) return b;
  if (a >= 0) return a; /* a valid broadcast of a known size other than 1 */
  if (b >= 0) return b;
  return sym_fresh(y);
}

/* The output of layer l from its inputs where the op's rule is simple;
 * dims the add-time inference knows are kept. */
static void sym_layer(Syms *y, const InferNetwork *net, int32_t l) {
  const InferLayer *layer = &net->layers[l];
  for (int o = 0; o < layer->n_outputs; o++)
    sym_from_def(y, &net->tensors[layer->outputs[o]], &y->s[layer->outputs[o]]);
  if (layer->n_outputs != 1 || layer->n_inputs < 1 || layer->inputs[0] < 0) return;
  SymShape *out = &y->s[layer->outputs[0]], derived = *out;
  const SymShape *x = &y->s[layer->inputs[0]];
  if (out->rank < 0 || x->rank < 0) return;
  switch (layer->op) {
    case INFER_OP_UNARY: case INFER_OP_CAST: case INFER_OP_BATCHNORM: case INFER_OP_INSTANCENORM:
    case INFER_OP_LAYERNORM: case INFER_OP_LRN: case INFER_OP_SOFTMAX:
      if (x->rank == out->rank) derived = *x;
      break;
    case INFER_OP_RESHAPE:
      if (layer->params.reshape.kind == INFER_RESHAPE_IDENTITY && x->rank == out->rank)
        derived = *x;
      break;
    case INFER_OP_BINARY: case INFER_OP_WHERE:
      for (int i = 0; i < out->rank; i++) {
        int64_t v = 1;
        for (int k = 0; k < layer->n_inputs; k++) {
          const SymShape *in = layer->inputs[k] >= 0 ? &y->s[layer->inputs[k]] : NULL;
          if (!in || in->rank < 0 || in->rank > out->rank) return;
          int j = i - (out->rank - in->rank);
          if (j >= 0) v = sym_broadcast(y, v, in->d[j]);
        }
        derived.d[i] = v;
      }
      break;
    case INFER_OP_CONV: case INFER_OP_DECONV: case INFER_OP_POOL:
      if (x->rank == out->rank && out->rank >= 1) derived.d[0] = x->d[0];
      break;
    default:
      return;
  }
  for (int i = 0; i < out->rank; i++)
    if (out->d[i] < 0) out->d[i] = derived.d[i];
}

static InferStatus *syms_build(const InferNetwork *net, Syms *y) {
  memset(y, 0, sizeof *y);
  y->s = calloc((size_t)net->n_tensors + 1, sizeof *y->s);
  y->names = calloc((size_t)net->n_inputs * INFER_MAX_RANK + 1, sizeof *y->names);
  if (!y->s || !y->names) {
    free(y->s);
    free(y->names);
    return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "optimizer: out of memory");
  }
  y->next = -1 - (int64_t)net->n_inputs * INFER_MAX_RANK;
  for (int32_t t = 0; t < net->n_tensors; t++) sym_from_def(y, &net->tensors[t], &y->s[t]);
  for (int32_t i = 0; i < net->n_inputs; i++) {
    const InferTensorDef *t = &net->tensors[net->inputs[i]];
    for (int d = 0; d < t->shape.rank; d++) {
      if (t->shape.d[d] >= 0 || !t->dim_names[d]) continue;
      int32_t k = 0;
      while (k < y->n_names && strcmp(y->names[k], t->dim_names[d]) != 0) k++;
      if (k == y->n_names) y->names[y->n_names++] = t->dim_names[d];
      y->s[net->inputs[i]].d[d] = -1 - k;
    }
  }
  for (int32_t l = 0; l < net->n_layers; l++) sym_layer(y, net, l);
  return NULL;
}

static bool sym_equal(const Syms *y, InferTensorId a, InferTensorId b) {
  const SymShape *p = &y->s[a], *q = &y->s[b];
  if (p->rank < 0 || p->rank != q->rank) return false;
  for (int i = 0; i < p->rank; i++)
    if (p->d[i] != q->d[i]) return false;
  return true;
}

/* ---- matching ------------------------------------------------------------- */

static bool fusable_kind(InferUnaryKind k) {
  switch (k) {
    case INFER_UNARY_RELU: case INFER_UNARY_LEAKY_RELU: case INFER_UNARY_CLIP:
    case INFER_UNARY_SIGMOID: case INFER_UNARY_SILU: case INFER_UNARY_HARD_SWISH:
    case INFER_UNARY_HARD_SIGMOID: case INFER_UNARY_GELU: case INFER_UNARY_TANH:
    case INFER_UNARY_MISH: case INFER_UNARY_ELU:
      return true;
    default:
      return false;
  }
}

static bool is_f32(const InferNetwork *net, InferTensorId t) {
  return t >= 0 && net->tensors[t].shape_known && net->tensors[t].dtype == INFER_DTYPE_F32;
}

/* The layer's fused activation, or NULL when the op has none. */
static InferActivation *activation_of(InferOpParams *p, InferOp op) {
  switch (op) {
    case INFER_OP_CONV: case INFER_OP_DECONV: return &p->conv.activation;
    case INFER_OP_GEMM: return &p->gemm.activation;
    case INFER_OP_MATMUL: return &p->matmul.activation;
    case INFER_OP_BATCHNORM: case INFER_OP_INSTANCENORM: case INFER_OP_LAYERNORM:
      return &p->norm.activation;
    default: return NULL;
  }
}

/* The fusable activation layer reading t as its only consumer, else -1. */
static int32_t act_after(const InferNetwork *net, const InferUses *u, InferTensorId t) {
  int32_t a = infer_uses_single_consumer(u, t);
  if (a < 0 || net->layers[a].op != INFER_OP_UNARY || net->layers[a].n_outputs != 1) return -1;
  if (!fusable_kind(net->layers[a].params.unary.kind) || !is_f32(net, net->layers[a].outputs[0]))
    return -1;
  return a;
}

/* What happens to each layer. */
enum { KEEP, DROP, FUSE_ACT, DEFER, FUSE_RESIDUAL };

typedef struct Plan {
  int8_t what;
  int32_t other;      /* FUSE_ACT: the activation layer; FUSE_RESIDUAL (on the Add): the conv */
  int32_t act;        /* FUSE_RESIDUAL: the activation after the Add, or -1 */
} Plan;

/* Conv -> Add(conv, r) with r of the conv output's shape: plans it, true. */
static bool plan_residual(const InferNetwork *net, const InferUses *u, const Syms *y, int32_t l,
                          Plan *plan) {
  const InferLayer *conv = &net->layers[l];
  InferTensorId c = conv->outputs[0];
  int32_t add = infer_uses_single_consumer(u, c);
  if (conv->op != INFER_OP_CONV || conv->n_inputs > 3 || add < 0 || plan[add].what != KEEP)
    return false;
  const InferLayer *a = &net->layers[add];
  if (a->op != INFER_OP_BINARY || a->params.binary.kind != INFER_BINARY_ADD || a->n_inputs != 2 ||
      a->n_outputs != 1)
    return false;
  InferTensorId r = a->inputs[0] == c ? a->inputs[1] : a->inputs[0];
  if (r < 0 || r == c || !is_f32(net, r) || !is_f32(net, a->outputs[0]) || !sym_equal(y, r, c) ||
      !sym_equal(y, a->outputs[0], c))
    return false;
  int32_t act = act_after(net, u, a->outputs[0]);
  if (act >= 0 && plan[act].what != KEEP) act = -1;
  plan[l].what = DEFER;
  plan[add] = (Plan){FUSE_RESIDUAL, l, act};
  if (act >= 0) plan[act].what = DROP;
  return true;
}

static void make_plan(const InferNetwork *net, const InferUses *u, const Syms *y, Plan *plan) {
  for (int32_t l = 0; l < net->n_layers; l++) plan[l] = (Plan){KEEP, -1, -1};
  for (int32_t l = 0; l < net->n_layers; l++) {
    const InferLayer *layer = &net->layers[l];
    InferOpParams p = layer->params;
    InferActivation *act = activation_of(&p, layer->op);
    if (plan[l].what != KEEP || !act || act->kind != INFER_UNARY_NONE || layer->n_outputs != 1 ||
        layer->n_inputs > 8 || !is_f32(net, layer->outputs[0]))
      continue;
    if ((layer->op == INFER_OP_CONV || layer->op == INFER_OP_DECONV) && p.conv.has_residual)
      continue;
    if (plan_residual(net, u, y, l, plan)) continue;
    int32_t a = act_after(net, u, layer->outputs[0]);
    if (a < 0 || plan[a].what != KEEP) continue;
    plan[l] = (Plan){FUSE_ACT, a, -1};
    plan[a].what = DROP;
  }
}

/* ---- the pass ------------------------------------------------------------- */

static InferStatus *emit_fused(InferRewrite *rw, const Plan *plan, int32_t l) {
  const InferNetwork *net = rw->src;
  const InferLayer *layer = &net->layers[l];
  InferTensorId in[8];
  InferOpParams p;
  int32_t act = -1, base = l;
  InferTensorId result;
  int n_in;
  if (plan[l].what == FUSE_ACT) {
    act = plan[l].other;
    n_in = layer->n_inputs;
    result = net->layers[act].outputs[0];
  } else {
    /* at the Add: the conv (x, w, bias or none) with the other operand as residual */
    in[2] = INFER_NO_TENSOR;
    base = plan[l].other;
    act = plan[l].act;
    const InferLayer *conv = &net->layers[base];
    InferTensorId c = conv->outputs[0];
    InferTensorId r = layer->inputs[0] == c ? layer->inputs[1] : layer->inputs[0];
    INFER_TRY(infer_rewrite_get(rw, r, &in[3]));
    n_in = 4;
    result = act >= 0 ? net->layers[act].outputs[0] : layer->outputs[0];
  }
  const InferLayer *b = &net->layers[base];
  for (int i = 0; i < b->n_inputs; i++)
    INFER_TRY(infer_rewrite_get(rw, b->inputs[i], &in[i]));
  p = b->params;
  if (plan[l].what == FUSE_RESIDUAL) p.conv.has_residual = true;
  if (act >= 0) *activation_of(&p, b->op) = net->layers[act].params.unary;
  INFER_TRY(infer_rewrite_emit(rw, b->name, b->op, &p, n_in, in, 1, &result));
  rw->changes++;
  return NULL;
}

InferStatus *infer_pass_activation_fusion(const InferPassContext *ctx, const InferNetwork *in,
                                          InferNetwork **out, int *changes) {
  (void)ctx;
  *out = NULL;
  *changes = 0;
  InferUses u;
  Syms y;
  INFER_TRY(infer_uses_build(in, &u));
  InferStatus *st = syms_build(in, &y);
  if (st) {
    infer_uses_free(&u);
    return st;
  }
  Plan *plan = malloc(sizeof *plan * ((size_t)in->n_layers + 1));
  int n_fused = 0;
  if (!plan) st = infer_status_new(INFER_ERR_OUT_OF_MEMORY, "optimizer: out of memory");
  else make_plan(in, &u, &y, plan);
  for (int32_t l = 0; plan && l < in->n_layers; l++) n_fused += plan[l].what == FUSE_ACT ||
                                                                plan[l].what == FUSE_RESIDUAL;
  infer_uses_free(&u);
  free(y.s);
  free(y.names);
  if (st || n_fused == 0) {
    free(plan);
    return st;
  }
  InferRewrite rw;
  st = infer_rewrite_begin(&rw, in);
  for (int32_t l = 0; !st && l < in->n_layers; l++) {
    switch (plan[l].what) {
      case KEEP: st = infer_rewrite_copy(&rw, l); break;
      case FUSE_ACT: case FUSE_RESIDUAL: st = emit_fused(&rw, plan, l); break;
      default: break; /* dropped, or emitted at its Add */
    }
    rw.done[l] = true;
  }
  if (!st) st = infer_rewrite_finish(&rw, out);
  if (!st) *changes = rw.changes;
  if (rw.map) infer_rewrite_free(&rw);
  free(plan);
  return st;
}
