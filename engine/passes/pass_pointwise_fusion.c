/* Pointwise fusion: chains of elementwise layers become one POINTWISE layer
 * whose params hold the chain as a small program (InferPointwiseParams).
 * The chain's intermediate tensors are never written: one pass over memory
 * instead of one per layer, one kernel launch instead of several.
 *
 *   Unary (float kinds; not Not/IsNaN/IsInf)
 *   Binary Add/Sub/Mul/Div/Pow/Min/Max/PRelu
 *   Cast between f32 and f16
 *
 * A chain L1 -> L2 -> ... -> Ln (2 to INFER_POINTWISE_MAX_INSTRS layers)
 * links Li to L(i+1) when Li's output is read by L(i+1) only (once or as
 * both operands) and is no graph output. Every layer's output has the
 * same shape (as known when layers were added, dynamic dims included):
 * nothing in the chain grows by broadcasting, so the program does per
 * output element what the chain did per element. A binary's other operand
 * is a scalar constant (an immediate in the program), another constant or
 * an activation (layer inputs, broadcast like Binary's; at most
 * INFER_POINTWISE_MAX_INPUTS of them, at least one not constant). Float
 * tensors are f32 or f16 throughout.
 *
 * Exactness: each step rounds to its layer's output dtype, and the CPU
 * kernel computes each step as the layer's kernel does, so a fused chain
 * gives the unfused chain's values.
 *
 * Where: the fused layer takes Ln's place and its output's name (the
 * chain's other inputs are all made before Ln). Runs after activation
 * fusion (activations that fold into a Conv/Gemm go there first) and
 * before channels-last and precision, which handle POINTWISE layers as
 * they handle elementwise ones. */
#include <stdlib.h>
#include <string.h>

#include "cpu_kernels.h"
#include "passes.h"

typedef struct Chain {
  int32_t layers[INFER_POINTWISE_MAX_INSTRS]; /* src layers, in chain order */
  InferPointwiseParams prog;
  InferTensorId inputs[INFER_POINTWISE_MAX_INPUTS]; /* src tensors */
  int n_in;
  InferShape ref;                             /* every chain layer's output shape */
} Chain;

static bool float_dtype(InferDType t) { return t == INFER_DTYPE_F32 || t == INFER_DTYPE_F16; }

/* Same rank and dims, unknown (-1) dims at the same places. */
static bool same_dims(const InferShape *a, const InferShape *b) {
  if (a->rank != b->rank) return false;
  for (int i = 0; i < a->rank; i++)
    if (a->d[i] != b->d[i]) return false;
  return true;
}

/* Whether layer l can be a step at all (operands are checked when added). */
static bool fusible(const InferNetwork *net, int32_t l) {
  const InferLayer *layer = &net->layers[l];
  if (layer->n_outputs != 1 || layer->outputs[0] < 0) return false;
  const InferTensorDef *y = &net->tensors[layer->outputs[0]];
  if (!y->shape_known || !float_dtype(y->dtype)) return false;
  int n = layer->op == INFER_OP_BINARY ? 2 : 1;
  if (layer->n_inputs != n) return false;
  for (int i = 0; i < n; i++) {
    InferTensorId t = layer->inputs[i];
    if (t < 0 || !float_dtype(net->tensors[t].dtype)) return false;
    /* Unary and Binary keep the dtype; Cast may change it */
    if (layer->op != INFER_OP_CAST && net->tensors[t].dtype != y->dtype) return false;
  }
  switch (layer->op) {
    case INFER_OP_UNARY: return infer_pointwise_unary_ok(layer->params.unary.kind);
    case INFER_OP_BINARY: return infer_pointwise_binary_ok(layer->params.binary.kind);
    case INFER_OP_CAST: return float_dtype(layer->params.cast.to);
    default: return false;
  }
}

/* The layer that alone reads t (once or more), or -1. */
static int32_t sole_reader(const InferUses *u, InferTensorId t) {
  if (t < 0 || t >= u->n_tensors || u->is_output[t] || u->count[t] < 1) return -1;
  for (int32_t i = 1; i < u->count[t]; i++)
    if (u->layers[t][i] != u->layers[t][0]) return -1;
  return u->layers[t][0];
}

/* Operand t of a step: the previous step's result, a scalar immediate, or
 * a layer input. False when the inputs are full. */
static bool add_operand(const InferNetwork *net, Chain *c, InferTensorId t, InferTensorId prev,
                        InferPointwiseRef *r) {
  const InferTensorDef *d = &net->tensors[t];
  memset(r, 0, sizeof *r);
  if (t == prev) {
    r->kind = INFER_POINTWISE_RESULT;
    r->index = (uint8_t)(c->prog.n_instrs - 1);
    return true;
  }
  /* a one-element constant adds no dims: every step's output has shape ref */
  if (infer_tensor_is_constant(d) && infer_shape_numel(&d->shape) == 1 && d->shape.rank <= c->ref.rank) {
    r->kind = INFER_POINTWISE_SCALAR;
    r->value = d->dtype == INFER_DTYPE_F16 ? infer_half_to_float(*(const uint16_t *)d->data)
                                           : *(const float *)d->data;
    return true;
  }
  int k = 0;
  while (k < c->n_in && c->inputs[k] != t) k++;
  if (k == c->n_in) {
    if (k == INFER_POINTWISE_MAX_INPUTS) return false;
    c->inputs[c->n_in++] = t;
  }
  r->kind = INFER_POINTWISE_INPUT;
  r->index = (uint8_t)k;
  return true;
}

/* Appends layer l as the next step (prev: the tensor the last step made,
 * NO_TENSOR for the first). Leaves c unchanged when l does not fit. */
static bool add_step(const InferNetwork *net, Chain *c, int32_t l, InferTensorId prev) {
  const InferLayer *layer = &net->layers[l];
  const InferTensorDef *y = &net->tensors[layer->outputs[0]];
  if (c->prog.n_instrs >= INFER_POINTWISE_MAX_INSTRS) return false;
  if (c->prog.n_instrs == 0) c->ref = y->shape;
  if (!same_dims(&y->shape, &c->ref)) return false;
  Chain saved = *c;
  InferPointwiseInstr in;
  memset(&in, 0, sizeof in);
  bool ok;
  if (layer->op == INFER_OP_BINARY) {
    in.op = INFER_POINTWISE_BINARY;
    in.kind = (uint8_t)layer->params.binary.kind;
    ok = add_operand(net, c, layer->inputs[0], prev, &in.a) &&
         add_operand(net, c, layer->inputs[1], prev, &in.b);
  } else {
    in.op = INFER_POINTWISE_UNARY;
    if (layer->op == INFER_OP_UNARY) {
      in.kind = (uint8_t)layer->params.unary.kind;
      in.alpha = layer->params.unary.alpha;
      in.beta = layer->params.unary.beta;
    } /* a Cast: the identity, rounded to its type below */
    ok = add_operand(net, c, layer->inputs[0], prev, &in.a);
  }
  if (!ok || c->n_in == 0) {
    *c = saved;
    return false;
  }
  /* the type input 0 has is the program's default: precision changes can
   * then retype the whole layer by retyping its inputs */
  InferDType in0 = net->tensors[c->inputs[0]].dtype;
  in.dtype = (uint8_t)(y->dtype == in0 ? INFER_DTYPE_UNDEFINED : y->dtype);
  c->prog.instrs[c->prog.n_instrs++] = in;
  c->layers[c->prog.n_instrs - 1] = l;
  return true;
}

/* The longest chain from layer l over layers not yet claimed. */
static void grow(const InferNetwork *net, const InferUses *u, const bool *claimed, int32_t l,
                 Chain *c) {
  memset(c, 0, sizeof *c);
  if (!add_step(net, c, l, INFER_NO_TENSOR)) return;
  for (;;) {
    InferTensorId t = net->layers[l].outputs[0];
    int32_t next = sole_reader(u, t);
    if (next < 0 || claimed[next] || !fusible(net, next) || !add_step(net, c, next, t)) return;
    l = next;
  }
}

/* Whether any input is an activation (a chain of constants is folding's job). */
static bool reads_activation(const InferNetwork *net, const Chain *c) {
  for (int k = 0; k < c->n_in; k++)
    if (!infer_tensor_is_constant(&net->tensors[c->inputs[k]])) return true;
  return false;
}

static InferStatus *emit(InferRewrite *rw, const Chain *c) {
  const InferNetwork *net = rw->src;
  InferTensorId in[INFER_POINTWISE_MAX_INPUTS];
  for (int k = 0; k < c->n_in; k++) INFER_TRY(infer_rewrite_get(rw, c->inputs[k], &in[k]));
  const InferLayer *last = &net->layers[c->layers[c->prog.n_instrs - 1]];
  InferOpParams p;
  memset(&p, 0, sizeof p); /* padding too: params are written to plans bytewise */
  p.pointwise = c->prog;
  INFER_TRY(infer_rewrite_emit(rw, last->name, INFER_OP_POINTWISE, &p, c->n_in, in, 1,
                               last->outputs));
  rw->changes++;
  return NULL;
}

InferStatus *infer_pass_pointwise_fusion(const InferPassContext *ctx, const InferNetwork *in,
                                         InferNetwork **out, int *changes) {
  (void)ctx;
  *out = NULL;
  *changes = 0;
  InferUses u;
  INFER_TRY(infer_uses_build(in, &u));
  size_t n = (size_t)in->n_layers + 1;
  bool *claimed = calloc(n, sizeof *claimed);
  int32_t *chain_of = malloc(n * sizeof *chain_of); /* per layer: its chain, or -1 */
  Chain *chains = malloc(n * sizeof *chains);
  InferStatus *st = NULL;
  int n_chains = 0;
  if (!claimed || !chain_of || !chains)
    st = infer_status_new(INFER_ERR_OUT_OF_MEMORY, "optimizer: out of memory");
  for (int32_t l = 0; !st && l < in->n_layers; l++) chain_of[l] = -1;
  for (int32_t l = 0; !st && l < in->n_layers; l++) {
    if (claimed[l] || !fusible(in, l)) continue;
    Chain *c = &chains[n_chains];
    grow(in, &u, claimed, l, c);
    if (c->prog.n_instrs < 2 || !reads_activation(in, c)) continue;
    for (int i = 0; i < c->prog.n_instrs; i++) {
      claimed[c->layers[i]] = true;
      chain_of[c->layers[i]] = n_chains;
    }
    n_chains++;
  }
  infer_uses_free(&u);
  if (!st && n_chains > 0) {
    InferRewrite rw;
    st = infer_rewrite_begin(&rw, in);
    for (int32_t l = 0; !st && l < in->n_layers; l++) {
      const Chain *c = chain_of[l] >= 0 ? &chains[chain_of[l]] : NULL;
      if (!c) st = infer_rewrite_copy(&rw, l);
      else if (c->layers[c->prog.n_instrs - 1] == l) st = emit(&rw, c);
      rw.done[l] = true; /* the other steps live on in the fused layer */
    }
    if (!st) st = infer_rewrite_finish(&rw, out);
    if (!st) *changes = rw.changes;
    if (rw.map) infer_rewrite_free(&rw);
  }
  free(claimed);
  free(chain_of);
  free(chains);
  return st;
}
