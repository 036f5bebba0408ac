/* Pattern recognition, normalizations (see pass_pattern_recognition.c):
 *
 *   LayerNorm  mean = ReduceMean(x, [-1], keepdims); d = x - mean;
 *              var = ReduceMean(Pow(d, 2) or d * d, [-1], keepdims);
 *              y = d / Sqrt(var + eps)  or  d * Reciprocal(Sqrt(var + eps));
 *              optionally y * gamma, then + beta (constants of the last
 *              axis' width)                       -> LAYERNORM axis -1, epsilon eps
 *   Softmax    e = Exp(x - ReduceMax(x, [a], keepdims)) (or Exp(x));
 *              e / ReduceSum(e, [a], keepdims)    -> SOFTMAX axis a */
#include <math.h>
#include <string.h>

#include "pass_patterns.h"

#define OUT(l) (net->layers[(l)].outputs[0])
#define IN(l, i) (net->layers[(l)].inputs[(i)])

/* A keepdims reduction of `kind` over exactly `axis` of a rank-`rank` tensor. */
static bool reduces_axis(const InferNetwork *net, int32_t l, int kind, int rank, int64_t axis) {
  int64_t a;
  return pat_is(net, l, INFER_OP_REDUCE, kind) && net->layers[l].params.reduce.keepdims &&
         net->layers[l].n_inputs >= 2 && pat_single_axis(net, IN(l, 1), rank, &a) && a == axis;
}

/* A constant of the last axis' width: [D] or [1, ..., 1, D], rank <= rank. */
static bool affine_const(const InferNetwork *net, InferTensorId t, int rank, int64_t width) {
  if (!pat_const_f32(net, t)) return false;
  const InferShape *s = &net->tensors[t].shape;
  return s->rank >= 1 && s->rank <= rank && s->d[s->rank - 1] == width &&
         infer_shape_numel(s) == width;
}

bool pat_match_layernorm(const InferNetwork *net, const InferUses *u, int32_t l, PatMatch *m) {
  if (!pat_is(net, l, INFER_OP_REDUCE, INFER_REDUCE_MEAN)) return false;
  InferTensorId x = IN(l, 0);
  if (!pat_f32(net, x)) return false;
  int rank = net->tensors[x].shape.rank;
  int64_t width = rank > 0 ? net->tensors[x].shape.d[rank - 1] : -1;
  if (width < 1 || !reduces_axis(net, l, INFER_REDUCE_MEAN, rank, rank - 1)) return false;
  int32_t sub = pat_next(net, u, OUT(l), INFER_OP_BINARY, INFER_BINARY_SUB);
  if (sub < 0 || IN(sub, 0) != x || IN(sub, 1) != OUT(l)) return false;
  /* d = x - mean feeds the square and the normalization, nothing else */
  InferTensorId d = OUT(sub);
  int32_t sq = -1, norm = -1;
  if (u->is_output[d] || u->count[d] < 2 || u->count[d] > 3) return false;
  for (int32_t i = 0; i < u->count[d]; i++) {
    int32_t c = u->layers[d][i], *slot;
    if ((pat_is(net, c, INFER_OP_BINARY, INFER_BINARY_POW) && IN(c, 0) == d &&
         pat_scalar(net, IN(c, 1), 2.0)) ||
        (pat_is(net, c, INFER_OP_BINARY, INFER_BINARY_MUL) && IN(c, 0) == d && IN(c, 1) == d))
      slot = &sq;
    else if (pat_is(net, c, INFER_OP_BINARY, INFER_BINARY_DIV) ||
             pat_is(net, c, INFER_OP_BINARY, INFER_BINARY_MUL))
      slot = &norm;
    else
      return false;
    if (*slot >= 0 && *slot != c) return false;
    *slot = c;
  }
  if (sq < 0 || norm < 0) return false;
  int32_t var = pat_next(net, u, OUT(sq), INFER_OP_REDUCE, INFER_REDUCE_MEAN);
  if (!reduces_axis(net, var, INFER_REDUCE_MEAN, rank, rank - 1)) return false;
  int32_t add = pat_next(net, u, OUT(var), INFER_OP_BINARY, INFER_BINARY_ADD);
  if (add < 0) return false;
  InferTensorId eps_t = pat_other(&net->layers[add], OUT(var));
  if (!pat_const_f32(net, eps_t) || infer_shape_numel(&net->tensors[eps_t].shape) != 1)
    return false;
  float eps = ((const float *)net->tensors[eps_t].data)[0];
  if (!(eps >= 0.0f) || isinf(eps)) return false;
  int32_t sqrt_l = pat_next(net, u, OUT(add), INFER_OP_UNARY, INFER_UNARY_SQRT);
  if (sqrt_l < 0) return false;
  memset(m, 0, sizeof *m);
  m->root = -1;
  if (!pat_add(m, l) || !pat_add(m, sub) || !pat_add(m, sq) || !pat_add(m, var) ||
      !pat_add(m, add) || !pat_add(m, sqrt_l))
    return false;
  if (pat_is(net, norm, INFER_OP_BINARY, INFER_BINARY_DIV)) {
    if (IN(norm, 0) != d || IN(norm, 1) != OUT(sqrt_l)) return false;
  } else {
    int32_t rec = pat_next(net, u, OUT(sqrt_l), INFER_OP_UNARY, INFER_UNARY_RECIPROCAL);
    if (rec < 0 || pat_other(&net->layers[norm], d) != OUT(rec) || !pat_add(m, rec)) return false;
  }
  if (!pat_add(m, norm)) return false;
  m->scale = m->bias = INFER_NO_TENSOR;
  InferTensorId y = OUT(norm);
  int32_t g = pat_next(net, u, y, INFER_OP_BINARY, INFER_BINARY_MUL);
  if (g >= 0 && affine_const(net, pat_other(&net->layers[g], y), rank, width)) {
    m->scale = pat_other(&net->layers[g], y);
    y = OUT(g);
    if (!pat_add(m, g)) return false;
  }
  int32_t b = pat_next(net, u, y, INFER_OP_BINARY, INFER_BINARY_ADD);
  if (b >= 0 && affine_const(net, pat_other(&net->layers[b], y), rank, width)) {
    m->bias = pat_other(&net->layers[b], y);
    if (!pat_add(m, b)) return false;
  }
  m->op = INFER_OP_LAYERNORM;
  m->params.norm.axis = -1;
  m->params.norm.epsilon = eps;
  m->x = x;
  m->width = width;
  return true;
}

bool pat_match_softmax(const InferNetwork *net, const InferUses *u, int32_t l, PatMatch *m) {
  if (!pat_is(net, l, INFER_OP_UNARY, INFER_UNARY_EXP)) return false;
  InferTensorId x = IN(l, 0), e = OUT(l);
  int32_t sub = pat_producer(net, x, INFER_OP_BINARY, INFER_BINARY_SUB), max = -1;
  if (sub >= 0) {
    max = pat_producer(net, IN(sub, 1), INFER_OP_REDUCE, INFER_REDUCE_MAX);
    if (max >= 0 && IN(max, 0) == IN(sub, 0)) x = IN(sub, 0);
    else max = sub = -1;
  }
  if (!pat_f32(net, x) || u->is_output[e] || u->count[e] != 2) return false;
  int rank = net->tensors[x].shape.rank;
  int32_t sum = -1, div = -1;
  for (int32_t i = 0; i < 2; i++) {
    int32_t c = u->layers[e][i];
    if (pat_is(net, c, INFER_OP_REDUCE, INFER_REDUCE_SUM) && IN(c, 0) == e) sum = c;
    else if (pat_is(net, c, INFER_OP_BINARY, INFER_BINARY_DIV) && IN(c, 0) == e) div = c;
  }
  int64_t axis;
  if (sum < 0 || div < 0 || IN(div, 1) != OUT(sum) || net->layers[sum].n_inputs < 2 ||
      !pat_single_axis(net, IN(sum, 1), rank, &axis) ||
      !reduces_axis(net, sum, INFER_REDUCE_SUM, rank, axis) ||
      (max >= 0 && !reduces_axis(net, max, INFER_REDUCE_MAX, rank, axis)))
    return false;
  memset(m, 0, sizeof *m);
  m->root = -1;
  if ((max >= 0 && (!pat_add(m, max) || !pat_add(m, sub))) || !pat_add(m, l) ||
      !pat_add(m, sum) || !pat_add(m, div))
    return false;
  m->op = INFER_OP_SOFTMAX;
  m->params.softmax.kind = INFER_SOFTMAX;
  m->params.softmax.axis = axis;
  m->x = x;
  m->scale = m->bias = INFER_NO_TENSOR;
  return true;
}
