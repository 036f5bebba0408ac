/* Pattern recognition: the decomposed forms of activations and
 * normalizations that exporters emit become one layer.
 *
 *   SiLU       x * Sigmoid(x)                                   -> Unary SILU
 *   GELU       0.5 * x * (1 + Erf(x / sqrt(2)))  (or x * 0.7071067..; the
 *              0.5 multiplied first or last)                    -> Unary GELU alpha 0
 *              0.5 * x * (1 + Tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))
 *                                                               -> Unary GELU alpha 1
 *   HardSwish  x * HardSigmoid(x) (alpha 1/6, beta 1/2),
 *              x * Clip(x + 3, 0, 6) / 6 (or * 1/6, either order) -> Unary HARD_SWISH
 *   Mish       x * Tanh(Softplus(x)) (Softplus also as Log(Exp(x) + 1)) -> Unary MISH
 *   LayerNorm, Softmax: see pass_patterns_norm.c.
 *
 * Constants are compared by value (1e-6 relative) and must have one
 * element; every intermediate result must be read only inside the pattern
 * and be no graph output; the input and the result must be f32 of the same
 * shape (so no constant broadcasts the result to a larger shape). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pass_patterns.h"
#include "passes.h"

#define SQRT_2_OVER_PI 0.79788456080286535588

/* ---- helpers shared with pass_patterns_norm.c ---------------------------- */

bool pat_is(const InferNetwork *net, int32_t l, InferOp op, int kind) {
  if (l < 0 || l >= net->n_layers || net->layers[l].op != op) return false;
  if (kind < 0) return true;
  const InferOpParams *p = &net->layers[l].params;
  switch (op) {
    case INFER_OP_UNARY: return (int)p->unary.kind == kind;
    case INFER_OP_BINARY: return (int)p->binary.kind == kind && net->layers[l].n_inputs == 2;
    case INFER_OP_REDUCE: return (int)p->reduce.kind == kind;
    default: return true;
  }
}

int32_t pat_producer(const InferNetwork *net, InferTensorId t, InferOp op, int kind) {
  const InferTensorDef *d = infer_net_tensor(net, t);
  if (!d || d->producer < 0) return -1;
  return pat_is(net, d->producer, op, kind) ? d->producer : -1;
}

int32_t pat_next(const InferNetwork *net, const InferUses *u, InferTensorId t, InferOp op,
                 int kind) {
  int32_t l = infer_uses_single_consumer(u, t);
  return pat_is(net, l, op, kind) ? l : -1;
}

InferTensorId pat_other(const InferLayer *layer, InferTensorId t) {
  if (layer->n_inputs != 2) return INFER_NO_TENSOR;
  if (layer->inputs[0] == t) return layer->inputs[1];
  if (layer->inputs[1] == t) return layer->inputs[0];
  return INFER_NO_TENSOR;
}

bool pat_const_f32(const InferNetwork *net, InferTensorId t) {
  const InferTensorDef *d = infer_net_tensor(net, t);
  return d && d->data && d->producer < 0 && !d->is_input && d->dtype == INFER_DTYPE_F32;
}

bool pat_scalar(const InferNetwork *net, InferTensorId t, double want) {
  if (!pat_const_f32(net, t) || infer_shape_numel(&net->tensors[t].shape) != 1) return false;
  double v = ((const float *)net->tensors[t].data)[0];
  return fabs(v - want) <= 1e-6 * fabs(want);
}

bool pat_single_axis(const InferNetwork *net, InferTensorId t, int rank, int64_t *axis) {
  const InferTensorDef *d = infer_net_tensor(net, t);
  if (!d || !d->data || d->producer >= 0 || d->is_input || d->dtype != INFER_DTYPE_I64 ||
      infer_shape_numel(&d->shape) != 1)
    return false;
  int64_t a = ((const int64_t *)d->data)[0];
  if (a < 0) a += rank;
  if (a < 0 || a >= rank) return false;
  *axis = a;
  return true;
}

bool pat_f32(const InferNetwork *net, InferTensorId t) {
  const InferTensorDef *d = infer_net_tensor(net, t);
  return d && d->shape_known && d->dtype == INFER_DTYPE_F32;
}

bool pat_add(PatMatch *m, int32_t l) {
  if (l < 0 || m->n_layers >= PAT_MAX_LAYERS) return false;
  m->layers[m->n_layers++] = l;
  if (l > m->root) m->root = l;
  return true;
}

static void pat_unary(PatMatch *m, InferTensorId x, InferUnaryKind kind, float alpha) {
  m->op = INFER_OP_UNARY;
  memset(&m->params, 0, sizeof m->params);
  m->params.unary.kind = kind;
  m->params.unary.alpha = alpha;
  m->x = x;
}

#define OUT(l) (net->layers[(l)].outputs[0])
#define IN(l, i) (net->layers[(l)].inputs[(i)])

/* ---- SiLU, HardSwish, Mish ------------------------------------------------ */

/* f(x) computed by layer l, then Mul(x, f(x)): the Mul. */
static int32_t times_x(const InferNetwork *net, const InferUses *u, int32_t l, InferTensorId x) {
  int32_t mul = pat_next(net, u, OUT(l), INFER_OP_BINARY, INFER_BINARY_MUL);
  return mul >= 0 && pat_other(&net->layers[mul], OUT(l)) == x ? mul : -1;
}

static bool match_silu(const InferNetwork *net, const InferUses *u, int32_t l, PatMatch *m) {
  if (!pat_is(net, l, INFER_OP_UNARY, INFER_UNARY_SIGMOID)) return false;
  pat_unary(m, IN(l, 0), INFER_UNARY_SILU, 0);
  return pat_add(m, l) && pat_add(m, times_x(net, u, l, m->x));
}

/* Division by 6 or multiplication by 1/6 of layer l's output: that layer. */
static int32_t over_six(const InferNetwork *net, const InferUses *u, InferTensorId t) {
  int32_t l = infer_uses_single_consumer(u, t);
  if (pat_is(net, l, INFER_OP_BINARY, INFER_BINARY_DIV))
    return IN(l, 0) == t && pat_scalar(net, IN(l, 1), 6.0) ? l : -1;
  if (pat_is(net, l, INFER_OP_BINARY, INFER_BINARY_MUL))
    return pat_scalar(net, pat_other(&net->layers[l], t), 1.0 / 6.0) ? l : -1;
  return -1;
}

static bool match_hard_swish(const InferNetwork *net, const InferUses *u, int32_t l, PatMatch *m) {
  if (pat_is(net, l, INFER_OP_UNARY, INFER_UNARY_HARD_SIGMOID)) {
    const InferUnaryParams *p = &net->layers[l].params.unary;
    if (fabs(p->alpha - 1.0 / 6.0) > 1e-6 / 6.0 || fabs(p->beta - 0.5) > 0.5e-6) return false;
    pat_unary(m, IN(l, 0), INFER_UNARY_HARD_SWISH, 0);
    return pat_add(m, l) && pat_add(m, times_x(net, u, l, m->x));
  }
  /* x * Clip(x + 3, 0, 6) / 6 */
  if (!pat_is(net, l, INFER_OP_BINARY, INFER_BINARY_ADD)) return false;
  InferTensorId x = pat_scalar(net, IN(l, 1), 3.0) ? IN(l, 0)
                  : pat_scalar(net, IN(l, 0), 3.0) ? IN(l, 1) : INFER_NO_TENSOR;
  int32_t clip = pat_next(net, u, OUT(l), INFER_OP_UNARY, INFER_UNARY_CLIP);
  if (x == INFER_NO_TENSOR || clip < 0) return false;
  const InferUnaryParams *p = &net->layers[clip].params.unary;
  if (p->alpha != 0.0f || fabs(p->beta - 6.0) > 6e-6) return false;
  pat_unary(m, x, INFER_UNARY_HARD_SWISH, 0);
  if (!pat_add(m, l) || !pat_add(m, clip)) return false;
  int32_t mul = times_x(net, u, clip, x);
  if (mul >= 0) return pat_add(m, mul) && pat_add(m, over_six(net, u, OUT(mul)));
  int32_t six = over_six(net, u, OUT(clip));
  return six >= 0 && pat_add(m, six) && pat_add(m, times_x(net, u, six, x));
}

static bool match_mish(const InferNetwork *net, const InferUses *u, int32_t l, PatMatch *m) {
  int32_t sp = -1;
  pat_unary(m, IN(l, 0), INFER_UNARY_MISH, 0);
  if (pat_is(net, l, INFER_OP_UNARY, INFER_UNARY_SOFTPLUS)) {
    sp = l;
    pat_add(m, l);
  } else if (pat_is(net, l, INFER_OP_UNARY, INFER_UNARY_EXP)) {
    /* Log(Exp(x) + 1) */
    int32_t add = pat_next(net, u, OUT(l), INFER_OP_BINARY, INFER_BINARY_ADD);
    if (add < 0 || !pat_scalar(net, pat_other(&net->layers[add], OUT(l)), 1.0)) return false;
    sp = pat_next(net, u, OUT(add), INFER_OP_UNARY, INFER_UNARY_LOG);
    if (!pat_add(m, l) || !pat_add(m, add) || !pat_add(m, sp)) return false;
  } else {
    return false;
  }
  int32_t th = pat_next(net, u, OUT(sp), INFER_OP_UNARY, INFER_UNARY_TANH);
  return pat_add(m, th) && pat_add(m, times_x(net, u, th, m->x));
}

/* ---- GELU ----------------------------------------------------------------- */

/* Layer `one_plus` computed a = 1 + f(x); the rest is 0.5 * x * a in the
 * orders exporters use: (x * 0.5) * a, (x * a) * 0.5, (a * 0.5) * x. */
static bool gelu_tail(const InferNetwork *net, const InferUses *u, int32_t one_plus,
                      InferTensorId x, PatMatch *m) {
  InferTensorId a = OUT(one_plus);
  int32_t m1 = pat_next(net, u, a, INFER_OP_BINARY, INFER_BINARY_MUL);
  if (m1 < 0) return false;
  InferTensorId o = pat_other(&net->layers[m1], a);
  if (o == x || pat_scalar(net, o, 0.5)) {
    int32_t m2 = pat_next(net, u, OUT(m1), INFER_OP_BINARY, INFER_BINARY_MUL);
    if (m2 < 0) return false;
    InferTensorId o2 = pat_other(&net->layers[m2], OUT(m1));
    if (o == x ? !pat_scalar(net, o2, 0.5) : o2 != x) return false;
    return pat_add(m, m1) && pat_add(m, m2);
  }
  int32_t half = pat_producer(net, o, INFER_OP_BINARY, INFER_BINARY_MUL);
  if (half < 0 || !pat_scalar(net, pat_other(&net->layers[half], x), 0.5)) return false;
  return pat_add(m, half) && pat_add(m, m1);
}

/* 1 + t computed by the only consumer of t: that layer. */
static int32_t plus_one(const InferNetwork *net, const InferUses *u, InferTensorId t) {
  int32_t add = pat_next(net, u, t, INFER_OP_BINARY, INFER_BINARY_ADD);
  return add >= 0 && pat_scalar(net, pat_other(&net->layers[add], t), 1.0) ? add : -1;
}

static bool match_gelu_erf(const InferNetwork *net, const InferUses *u, int32_t l, PatMatch *m) {
  if (!pat_is(net, l, INFER_OP_UNARY, INFER_UNARY_ERF)) return false;
  InferTensorId s = IN(l, 0), x = INFER_NO_TENSOR;
  int32_t scale = pat_producer(net, s, INFER_OP_BINARY, INFER_BINARY_DIV);
  if (scale >= 0) {
    if (pat_scalar(net, IN(scale, 1), M_SQRT2)) x = IN(scale, 0);
  } else if ((scale = pat_producer(net, s, INFER_OP_BINARY, INFER_BINARY_MUL)) >= 0) {
    if (pat_scalar(net, IN(scale, 1), M_SQRT1_2)) x = IN(scale, 0);
    else if (pat_scalar(net, IN(scale, 0), M_SQRT1_2)) x = IN(scale, 1);
  }
  if (x == INFER_NO_TENSOR) return false;
  int32_t one = plus_one(net, u, OUT(l));
  pat_unary(m, x, INFER_UNARY_GELU, 0);
  return pat_add(m, scale) && pat_add(m, l) && pat_add(m, one) && gelu_tail(net, u, one, x, m);
}

/* Whether t is x^3 (Pow(x, 3), x * (x * x) or (x * x) * x); adds its layers. */
static bool is_cube(const InferNetwork *net, InferTensorId t, InferTensorId x, PatMatch *m) {
  int32_t p = pat_producer(net, t, INFER_OP_BINARY, INFER_BINARY_POW);
  if (p >= 0) return IN(p, 0) == x && pat_scalar(net, IN(p, 1), 3.0) && pat_add(m, p);
  p = pat_producer(net, t, INFER_OP_BINARY, INFER_BINARY_MUL);
  if (p < 0) return false;
  InferTensorId sq = pat_other(&net->layers[p], x);
  int32_t s = pat_producer(net, sq, INFER_OP_BINARY, INFER_BINARY_MUL);
  return s >= 0 && s != p && IN(s, 0) == x && IN(s, 1) == x && pat_add(m, s) && pat_add(m, p);
}

static bool match_gelu_tanh(const InferNetwork *net, const InferUses *u, int32_t l, PatMatch *m) {
  if (!pat_is(net, l, INFER_OP_UNARY, INFER_UNARY_TANH)) return false;
  int32_t k = pat_producer(net, IN(l, 0), INFER_OP_BINARY, INFER_BINARY_MUL);
  if (k < 0) return false;
  InferTensorId s = pat_scalar(net, IN(k, 1), SQRT_2_OVER_PI) ? IN(k, 0)
                  : pat_scalar(net, IN(k, 0), SQRT_2_OVER_PI) ? IN(k, 1) : INFER_NO_TENSOR;
  int32_t sum = pat_producer(net, s, INFER_OP_BINARY, INFER_BINARY_ADD);
  if (sum < 0) return false;
  for (int side = 0; side < 2; side++) {
    InferTensorId x = IN(sum, side);
    int32_t q = pat_producer(net, IN(sum, 1 - side), INFER_OP_BINARY, INFER_BINARY_MUL);
    if (q < 0) continue;
    InferTensorId cube = pat_scalar(net, IN(q, 1), 0.044715) ? IN(q, 0)
                       : pat_scalar(net, IN(q, 0), 0.044715) ? IN(q, 1) : INFER_NO_TENSOR;
    m->n_layers = 0;
    m->root = -1;
    if (cube == INFER_NO_TENSOR || !is_cube(net, cube, x, m)) continue;
    int32_t one = plus_one(net, u, OUT(l));
    pat_unary(m, x, INFER_UNARY_GELU, 1);
    return pat_add(m, q) && pat_add(m, sum) && pat_add(m, k) && pat_add(m, l) && pat_add(m, one) &&
           gelu_tail(net, u, one, x, m);
  }
  return false;
}

/* ---- the pass ------------------------------------------------------------- */

typedef bool (*Matcher)(const InferNetwork *, const InferUses *, int32_t, PatMatch *);

static const Matcher matchers[] = {match_silu,      match_hard_swish,    match_mish,
                                   match_gelu_erf,  match_gelu_tanh,     pat_match_layernorm,
                                   pat_match_softmax};

static bool in_match(const PatMatch *m, int32_t l) {
  for (int i = 0; i < m->n_layers; i++)
    if (m->layers[i] == l) return true;
  return false;
}

/* The conditions every match must meet (see the top of the file). */
static bool acceptable(const InferNetwork *net, const InferUses *u, const PatMatch *m,
                       const int32_t *owner) {
  if (m->root < 0 || !pat_f32(net, m->x)) return false;
  const InferTensorDef *x = &net->tensors[m->x];
  if (x->producer >= 0 && in_match(m, x->producer)) return false;
  for (int i = 0; i < m->n_layers; i++) {
    int32_t l = m->layers[i];
    const InferLayer *layer = &net->layers[l];
    if (owner[l] >= 0 || layer->n_outputs != 1) return false;
    for (int j = 0; j < i; j++)
      if (m->layers[j] == l) return false;
    if (l == m->root) continue;
    InferTensorId t = layer->outputs[0];
    if (u->is_output[t]) return false;
    for (int32_t c = 0; c < u->count[t]; c++)
      if (!in_match(m, u->layers[t][c])) return false;
  }
  const InferTensorDef *y = &net->tensors[OUT(m->root)];
  return pat_f32(net, OUT(m->root)) && infer_shape_equal(&y->shape, &x->shape);
}

static InferStatus *emit(InferRewrite *rw, const PatMatch *m) {
  const InferLayer *root = &rw->src->layers[m->root];
  InferTensorId in[3] = {INFER_NO_TENSOR, INFER_NO_TENSOR, INFER_NO_TENSOR};
  int n_in = 1;
  INFER_TRY(infer_rewrite_get(rw, m->x, &in[0]));
  if (m->op == INFER_OP_LAYERNORM) {
    n_in = 3;
    if (m->scale != INFER_NO_TENSOR) {
      INFER_TRY(infer_rewrite_get(rw, m->scale, &in[1]));
    } else {
      float *ones = malloc(sizeof(float) * (size_t)m->width);
      if (!ones) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "optimizer: out of memory");
      for (int64_t i = 0; i < m->width; i++) ones[i] = 1.0f;
      InferShape s = {1, {m->width}};
      InferStatus *st = infer_rewrite_constant(rw, "layernorm_scale", INFER_DTYPE_F32, &s, ones,
                                               &in[1]);
      free(ones);
      if (st) return st;
    }
    INFER_TRY(infer_rewrite_get(rw, m->bias, &in[2]));
  }
  INFER_TRY(infer_rewrite_emit(rw, root->name, m->op, &m->params, n_in, in, 1, root->outputs));
  rw->changes++;
  return NULL;
}

InferStatus *infer_pass_pattern_recognition(const InferPassContext *ctx, const InferNetwork *in,
                                            InferNetwork **out, int *changes) {
  (void)ctx;
  *out = NULL;
  *changes = 0;
  InferUses u;
  INFER_TRY(infer_uses_build(in, &u));
  int32_t *owner = malloc(sizeof *owner * ((size_t)in->n_layers + 1));
  PatMatch *ms = NULL;
  int n_ms = 0, cap = 0;
  InferStatus *st = NULL;
  if (!owner) {
    infer_uses_free(&u);
    return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "optimizer: out of memory");
  }
  for (int32_t l = 0; l < in->n_layers; l++) owner[l] = -1;
  for (int32_t l = 0; !st && l < in->n_layers; l++) {
    if (owner[l] >= 0) continue;
    for (size_t k = 0; k < sizeof matchers / sizeof matchers[0]; k++) {
      PatMatch m;
      memset(&m, 0, sizeof m);
      m.root = -1;
      m.scale = m.bias = INFER_NO_TENSOR;
      if (!matchers[k](in, &u, l, &m) || !acceptable(in, &u, &m, owner)) continue;
      if (n_ms == cap) {
        cap = cap ? 2 * cap : 16;
        PatMatch *grown = realloc(ms, sizeof *ms * (size_t)cap);
        if (!grown) {
          st = infer_status_new(INFER_ERR_OUT_OF_MEMORY, "optimizer: out of memory");
          break;
        }
        ms = grown;
      }
      for (int i = 0; i < m.n_layers; i++) owner[m.layers[i]] = n_ms;
      ms[n_ms++] = m;
      break;
    }
  }
  infer_uses_free(&u);
  if (st || n_ms == 0) {
    free(owner);
    free(ms);
    return st;
  }
  InferRewrite rw;
  st = infer_rewrite_begin(&rw, in);
  for (int32_t l = 0; !st && l < in->n_layers; l++) {
    if (owner[l] < 0) {
      st = infer_rewrite_copy(&rw, l);
    } else {
      if (ms[owner[l]].root == l) st = emit(&rw, &ms[owner[l]]);
      rw.done[l] = true;
    }
  }
  if (!st) st = infer_rewrite_finish(&rw, out);
  if (!st) *changes = rw.changes;
  if (rw.map) infer_rewrite_free(&rw);
  free(owner);
  free(ms);
  return st;
}
