/* Pass 4, batchnorm-folding: per-channel affine layers after a linear layer
 * with constant weights are folded into its weights and bias.
 *
 * The linear layer P is a Conv, a ConvTranspose, a Gemm (either trans_b;
 * its C absent, a scalar, or a row [N] / [1,N]) or a MatMul of a 2-D A by a
 * constant 2-D B (emitted as a Gemm, which has a bias) - all f32, with
 * constant weights (and bias), no fused activation or residual. From its
 * output, while the tensor has a single consumer (and is no graph output),
 * the chain takes:
 *   BatchNormalization   s = gamma / sqrt(var + eps), y = x * s + (beta - mean * s)
 *   Mul / Add / Sub / Div by a constant that varies only along the channel
 *   axis (dim 1 for all of them) and does not enlarge the tensor ([C,1,1],
 *   [1,C,1,1], a scalar, ...), and const - x.
 * The whole chain becomes one P with w' = w * s[c] and b' = b * s + t, where
 * (s, t) is the composed affine map (computed in double). A BatchNorm's fused
 * activation ends the chain and moves onto P. A standalone BatchNorm (no
 * such P before it) stays. Division by a zero, var + eps <= 0 and
 * non-finite results are refused. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passes.h"

static bool f32_constant(const InferNetwork *net, InferTensorId t) {
  const InferTensorDef *d = infer_net_tensor(net, t);
  return infer_tensor_is_constant(d) && d->dtype == INFER_DTYPE_F32;
}

typedef struct Chain {
  int32_t producer;     /* P */
  int32_t last;         /* the chain's last layer (its output is the result) */
  int64_t channels;
  int32_t rank;         /* P's output rank */
  double *s, *t;        /* y = P_nobias(x) * s + t */
  InferActivation act;
} Chain;

/* The per-channel values of constant c against an output of `rank` dims with
 * the channel axis 1 of size C; false when c varies along another axis or
 * would enlarge the output. */
static bool per_channel(const InferTensorDef *c, int32_t rank, int64_t C, const float **data,
                        bool *varies) {
  if (!infer_tensor_is_constant(c) || c->dtype != INFER_DTYPE_F32 || c->shape.rank > rank) return false;
  int32_t off = rank - c->shape.rank; /* c's dim i lines up with output dim off + i */
  *varies = false;
  for (int i = 0; i < c->shape.rank; i++) {
    int64_t d = c->shape.d[i];
    if (d == 1) continue;
    if (off + i != 1 || d != C) return false;
    *varies = true;
  }
  *data = c->data;
  return true;
}

/* Applies consumer layer l (reading `cur`) to the chain; false when it does not fold. */
static bool absorb(const InferNetwork *net, Chain *ch, int32_t l, InferTensorId cur) {
  const InferLayer *layer = &net->layers[l];
  const InferTensorDef *y = infer_net_tensor(net, layer->outputs[0]);
  if (layer->n_outputs != 1 || !y || y->dtype != INFER_DTYPE_F32) return false;
  int64_t C = ch->channels;
  if (layer->op == INFER_OP_BATCHNORM) {
    if (layer->n_inputs != 5 || layer->inputs[0] != cur) return false;
    const float *v[4];
    for (int i = 1; i < 5; i++) {
      const InferTensorDef *d = infer_net_tensor(net, layer->inputs[i]);
      if (layer->inputs[i] == cur || !f32_constant(net, layer->inputs[i]) ||
          infer_shape_numel(&d->shape) != C || d->shape.rank != 1)
        return false;
      v[i - 1] = d->data;
    }
    for (int64_t c = 0; c < C; c++) {
      double den = (double)v[3][c] + (double)layer->params.norm.epsilon;
      if (!(den > 0)) return false;
    }
    for (int64_t c = 0; c < C; c++) {
      double a = v[0][c] / sqrt((double)v[3][c] + (double)layer->params.norm.epsilon);
      ch->s[c] *= a;
      ch->t[c] = ch->t[c] * a + (v[1][c] - v[2][c] * a);
    }
    ch->act = layer->params.norm.activation;
    return true;
  }
  if (layer->op != INFER_OP_BINARY || layer->n_inputs != 2) return false;
  InferBinaryKind k = layer->params.binary.kind;
  bool cur_first = layer->inputs[0] == cur;
  InferTensorId other = cur_first ? layer->inputs[1] : layer->inputs[0];
  if (other == cur || (!cur_first && layer->inputs[1] != cur)) return false;
  const float *v;
  bool varies;
  if (!per_channel(infer_net_tensor(net, other), ch->rank, C, &v, &varies)) return false;
  if (k == INFER_BINARY_DIV) {
    if (!cur_first) return false;
    for (int64_t c = 0; c < C; c++)
      if (v[varies ? c : 0] == 0.0f) return false;
  } else if (k != INFER_BINARY_MUL && k != INFER_BINARY_ADD && k != INFER_BINARY_SUB) {
    return false;
  }
  for (int64_t c = 0; c < C; c++) {
    double x = v[varies ? c : 0];
    switch (k) {
      case INFER_BINARY_MUL: ch->s[c] *= x; ch->t[c] *= x; break;
      case INFER_BINARY_DIV: ch->s[c] /= x; ch->t[c] /= x; break;
      case INFER_BINARY_ADD: ch->t[c] += x; break;
      default: /* SUB */
        if (cur_first) {
          ch->t[c] -= x;
        } else {
          ch->s[c] = -ch->s[c];
          ch->t[c] = x - ch->t[c];
        }
        break;
    }
  }
  return true;
}

/* Sets up the chain's start at P = layer l; false when l is no foldable producer. */
static bool start_chain(const InferNetwork *net, int32_t l, Chain *ch) {
  const InferLayer *p = &net->layers[l];
  if (p->n_outputs != 1 || p->n_inputs < 2) return false;
  const InferTensorDef *w = infer_net_tensor(net, p->inputs[1]);
  const InferTensorDef *x = infer_net_tensor(net, p->inputs[0]);
  const InferTensorDef *y = infer_net_tensor(net, p->outputs[0]);
  if (!x || !y || x->dtype != INFER_DTYPE_F32 || y->dtype != INFER_DTYPE_F32 ||
      !f32_constant(net, p->inputs[1]))
    return false;
  InferTensorId bias = p->n_inputs > 2 ? p->inputs[2] : INFER_NO_TENSOR;
  switch (p->op) {
    case INFER_OP_CONV:
    case INFER_OP_DECONV: {
      const InferConvParams *cp = &p->params.conv;
      if (cp->has_residual || cp->activation.kind != INFER_UNARY_NONE || p->n_inputs > 3 ||
          w->shape.rank < 3 || w->shape.rank != 2 + cp->spatial)
        return false;
      int64_t g = cp->group > 0 ? cp->group : 1;
      ch->channels = p->op == INFER_OP_CONV ? w->shape.d[0] : w->shape.d[1] * g;
      if (p->op == INFER_OP_DECONV && w->shape.d[0] % g != 0) return false;
      ch->rank = w->shape.rank;
      break;
    }
    case INFER_OP_GEMM: {
      const InferGemmParams *gp = &p->params.gemm;
      if (gp->activation.kind != INFER_UNARY_NONE || w->shape.rank != 2) return false;
      ch->channels = gp->trans_b ? w->shape.d[0] : w->shape.d[1];
      ch->rank = 2;
      break;
    }
    case INFER_OP_MATMUL:
      if (p->params.matmul.activation.kind != INFER_UNARY_NONE || p->n_inputs != 2 ||
          w->shape.rank != 2 || !x->shape_known || x->shape.rank != 2)
        return false;
      ch->channels = w->shape.d[1];
      ch->rank = 2;
      break;
    default:
      return false;
  }
  if (ch->channels <= 0) return false;
  ch->s = malloc(sizeof(double) * (size_t)ch->channels);
  ch->t = malloc(sizeof(double) * (size_t)ch->channels);
  if (!ch->s || !ch->t) return false;
  double beta = p->op == INFER_OP_GEMM ? p->params.gemm.beta : 1.0;
  const InferTensorDef *b = infer_net_tensor(net, bias);
  const float *bv = NULL;
  bool varies = false;
  if (b) {
    if (p->op == INFER_OP_GEMM) {
      /* C must be a row: [N], [1,N] or one value (not [M,N] or [M,1]) */
      if (!per_channel(b, 2, ch->channels, &bv, &varies)) return false;
    } else {
      if (!f32_constant(net, bias) || infer_shape_numel(&b->shape) != ch->channels) return false;
      bv = b->data;
      varies = true;
    }
  }
  for (int64_t c = 0; c < ch->channels; c++) {
    ch->s[c] = 1.0;
    ch->t[c] = bv ? beta * bv[varies ? c : 0] : 0.0;
  }
  memset(&ch->act, 0, sizeof ch->act);
  return true;
}

static void chain_free(Chain *ch) {
  free(ch->s);
  free(ch->t);
  ch->s = ch->t = NULL;
}

/* Finds the longest chain from layer l; false when nothing folds. */
static bool find_chain(const InferNetwork *net, const InferUses *uses, int32_t l, Chain *ch) {
  memset(ch, 0, sizeof *ch);
  ch->producer = ch->last = l;
  if (!start_chain(net, l, ch)) {
    chain_free(ch);
    return false;
  }
  InferTensorId cur = net->layers[l].outputs[0];
  for (;;) {
    if (ch->act.kind != INFER_UNARY_NONE) break;
    int32_t c = infer_uses_single_consumer(uses, cur);
    if (c < 0 || !absorb(net, ch, c, cur)) break;
    ch->last = c;
    cur = net->layers[c].outputs[0];
  }
  bool ok = ch->last != l;
  for (int64_t c = 0; ok && c < ch->channels; c++) ok = isfinite(ch->s[c]) && isfinite(ch->t[c]);
  if (!ok) chain_free(ch);
  return ok;
}

static InferStatus *emit_chain(InferRewrite *rw, const Chain *ch) {
  const InferNetwork *net = rw->src;
  const InferLayer *p = &net->layers[ch->producer];
  const InferTensorDef *w = &net->tensors[p->inputs[1]];
  int64_t n = infer_shape_numel(&w->shape), C = ch->channels;
  float *nw = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
  float *nb = malloc(sizeof(float) * (size_t)C);
  if (!nw || !nb) {
    free(nw);
    free(nb);
    return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "batchnorm-folding: out of memory");
  }
  const float *wv = w->data;
  InferOpParams params = p->params;
  InferOp op = p->op;
  if (op == INFER_OP_CONV) {
    int64_t per = n / w->shape.d[0];
    for (int64_t i = 0; i < n; i++) nw[i] = (float)(wv[i] * ch->s[i / per]);
    params.conv.activation = ch->act;
  } else if (op == INFER_OP_DECONV) {
    int64_t g = p->params.conv.group > 0 ? p->params.conv.group : 1;
    int64_t cin = w->shape.d[0], mg = w->shape.d[1], per = n / (cin * mg), cin_g = cin / g;
    for (int64_t i = 0; i < n; i++) {
      int64_t ci = i / (mg * per), m = (i / per) % mg;
      nw[i] = (float)(wv[i] * ch->s[(ci / cin_g) * mg + m]);
    }
    params.conv.activation = ch->act;
  } else {
    bool trans_b = op == INFER_OP_GEMM && p->params.gemm.trans_b;
    for (int64_t i = 0; i < n; i++)
      nw[i] = (float)(wv[i] * ch->s[trans_b ? i / w->shape.d[1] : i % w->shape.d[1]]);
    if (op == INFER_OP_MATMUL) {
      memset(&params, 0, sizeof params);
      params.gemm.alpha = 1.0f;
    }
    op = INFER_OP_GEMM;
    params.gemm.beta = 1.0f;
    params.gemm.activation = ch->act;
  }
  for (int64_t c = 0; c < C; c++) nb[c] = (float)ch->t[c];
  InferTensorId ins[3];
  InferShape bs = {1, {C}};
  char base[512];
  InferStatus *st = infer_rewrite_get(rw, p->inputs[0], &ins[0]);
  snprintf(base, sizeof base, "%s_w", p->name);
  if (!st) st = infer_rewrite_constant(rw, base, INFER_DTYPE_F32, &w->shape, nw, &ins[1]);
  snprintf(base, sizeof base, "%s_b", p->name);
  if (!st) st = infer_rewrite_constant(rw, base, INFER_DTYPE_F32, &bs, nb, &ins[2]);
  free(nw);
  free(nb);
  const InferLayer *last = &net->layers[ch->last];
  if (!st) st = infer_rewrite_emit(rw, p->name, op, &params, 3, ins, 1, last->outputs);
  return st;
}

InferStatus *infer_pass_batchnorm_folding(const InferPassContext *ctx, const InferNetwork *in,
                                          InferNetwork **out, int *changes) {
  (void)ctx;
  *out = NULL;
  *changes = 0;
  InferUses uses;
  INFER_TRY(infer_uses_build(in, &uses));
  Chain *chains = calloc((size_t)in->n_layers + 1, sizeof *chains);
  bool *found = calloc((size_t)in->n_layers + 1, 1), *skip = calloc((size_t)in->n_layers + 1, 1);
  InferStatus *st = NULL;
  if (!chains || !found || !skip)
    st = infer_status_new(INFER_ERR_OUT_OF_MEMORY, "batchnorm-folding: out of memory");
  int n = 0;
  for (int32_t l = 0; !st && l < in->n_layers; l++) {
    if (skip[l] || !find_chain(in, &uses, l, &chains[l])) continue;
    found[l] = true;
    /* every layer after P in the chain is replaced by it */
    InferTensorId cur = in->layers[l].outputs[0];
    for (int32_t c = infer_uses_single_consumer(&uses, cur); c >= 0;) {
      skip[c] = true;
      n++;
      if (c == chains[l].last) break;
      cur = in->layers[c].outputs[0];
      c = infer_uses_single_consumer(&uses, cur);
    }
  }
  if (!st && n > 0) {
    InferRewrite rw;
    st = infer_rewrite_begin(&rw, in);
    for (int32_t l = 0; !st && l < in->n_layers; l++) {
      if (skip[l]) {
        rw.done[l] = true;
      } else if (found[l]) {
        st = emit_chain(&rw, &chains[l]);
        rw.done[l] = true;
      } else {
        st = infer_rewrite_copy(&rw, l);
      }
    }
    if (!st) st = infer_rewrite_finish(&rw, out);
    infer_rewrite_free(&rw);
    if (!st) *changes = n;
  }
  for (int32_t l = 0; chains && l < in->n_layers; l++) chain_free(&chains[l]);
  free(chains);
  free(found);
  free(skip);
  infer_uses_free(&uses);
  return st;
}
