/* Optimizer passes that fold layers into others: batchnorm-folding,
 * pad-folding and canonical-forms. For each: the rewritten structure,
 * numerical equality with the unoptimized network on the CPU reference
 * (normalized error <= 1e-6 on random inputs), and graphs it must leave alone. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infer/infer.h"
#include "passes.h"
#include "pass_test_util.h"

/* ---- shared helpers ------------------------------------------------------ */

/* ---- layer helpers --------------------------------------------------------- */

static InferTensorId conv(InferNetwork *net, const char *out, InferOp op, InferTensorId x,
                          InferTensorId w, InferTensorId b, int64_t group, int64_t pad,
                          int64_t stride) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.conv.spatial = 2;
  p.conv.group = group;
  for (int i = 0; i < 2; i++) {
    p.conv.strides[i] = stride;
    p.conv.dilations[i] = 1;
  }
  for (int i = 0; i < 4; i++) p.conv.pads[i] = pad;
  InferTensorId in[3] = {x, w, b};
  return layer(net, out, op, &p, b == INFER_NO_TENSOR ? 2 : 3, in);
}

/* A constant of values in [lo, hi). */
static InferTensorId constant_range(InferNetwork *net, const char *name, int rank,
                                    const int64_t *dims, float lo, float hi) {
  InferShape s = infer_shape_make(rank, dims);
  int64_t n = infer_shape_numel(&s);
  float *v = malloc(sizeof(float) * (size_t)(n + 1));
  for (int64_t i = 0; i < n; i++) v[i] = lo + (hi - lo) * (frand() + 1.0f) * 0.5f;
  InferTensorId t = constant_f32(net, name, rank, dims, v, 0);
  free(v);
  return t;
}

static InferTensorId batchnorm(InferNetwork *net, const char *out, InferTensorId x, int64_t c) {
  char name[64];
  int64_t d[1] = {c};
  InferTensorId in[5] = {x};
  const float lo[4] = {0.5f, -0.2f, -0.3f, 0.5f}, hi[4] = {1.5f, 0.2f, 0.3f, 1.5f};
  for (int i = 0; i < 4; i++) {
    snprintf(name, sizeof name, "%s_p%d", out, i);
    in[i + 1] = constant_range(net, name, 1, d, lo[i], hi[i]);
  }
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.norm.epsilon = 1e-5f;
  return layer(net, out, INFER_OP_BATCHNORM, &p, 5, in);
}

static InferTensorId gemm(InferNetwork *net, const char *out, InferTensorId a, InferTensorId b,
                          InferTensorId c, float alpha, float beta, bool trans_b) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.gemm.alpha = alpha;
  p.gemm.beta = beta;
  p.gemm.trans_b = trans_b;
  InferTensorId in[3] = {a, b, c};
  return layer(net, out, INFER_OP_GEMM, &p, c == INFER_NO_TENSOR ? 2 : 3, in);
}

/* ---- batchnorm-folding ----------------------------------------------------- */

static void test_batchnorm_folding(void) {
  int64_t xd[4] = {2, 4, 6, 6}, wd[4] = {8, 4, 3, 3}, bd[1] = {8};
  int64_t c3[3] = {8, 1, 1}, c4[4] = {1, 8, 1, 1};
  /* conv + bias -> BN -> relu */
  InferNetwork *net = new_net();
  InferTensorId x = input(net, "x", 4, xd);
  InferTensorId t = conv(net, "conv", INFER_OP_CONV, x, constant_f32(net, "w", 4, wd, NULL, NAN),
                         constant_f32(net, "b", 1, bd, NULL, NAN), 1, 1, 1);
  t = batchnorm(net, "bn", t, 8);
  t = unary(net, "y", INFER_UNARY_RELU, t);
  CHECK_OK(infer_network_mark_output(net, t));
  InferNetwork *out = check_rewrite(infer_pass_batchnorm_folding, net, 2, 1);
  if (out) {
    CHECK(out->layers[0].op == INFER_OP_CONV && out->layers[0].n_inputs == 3);
    CHECK(strcmp(infer_network_tensor_name(out, out->layers[0].outputs[0]), "bn") == 0);
    CHECK(infer_network_find_tensor(out, "w") == INFER_NO_TENSOR);
  }
  infer_network_release(out);
  infer_network_release(net);

  /* conv without bias -> BN -> Mul -> Add -> Sub -> Div -> const - x (an output) */
  net = new_net();
  x = input(net, "x", 4, xd);
  t = conv(net, "conv", INFER_OP_CONV, x, constant_f32(net, "w", 4, wd, NULL, NAN),
           INFER_NO_TENSOR, 1, 0, 2);
  t = batchnorm(net, "bn", t, 8);
  t = binary(net, "mul", INFER_BINARY_MUL, constant_range(net, "m", 3, c3, 0.5f, 2.0f), t);
  t = binary(net, "add", INFER_BINARY_ADD, t, constant_f32(net, "a", 4, c4, NULL, NAN));
  t = binary(net, "sub", INFER_BINARY_SUB, t, constant_f32(net, "s", 0, NULL, NULL, 0.25f));
  t = binary(net, "div", INFER_BINARY_DIV, t, constant_range(net, "d", 3, c3, 0.5f, 2.0f));
  t = binary(net, "y", INFER_BINARY_SUB, constant_f32(net, "r", 3, c3, NULL, NAN), t);
  CHECK_OK(infer_network_mark_output(net, t));
  out = check_rewrite(infer_pass_batchnorm_folding, net, 1, 6);
  if (out) CHECK(out->layers[0].op == INFER_OP_CONV && out->layers[0].params.conv.strides[0] == 2);
  infer_network_release(out);
  infer_network_release(net);

  /* Gemm (trans_b, C [N]) -> BN; Gemm (alpha, beta, C [1,N]) -> Mul -> Add */
  net = new_net();
  int64_t ad[2] = {3, 5}, bt[2] = {4, 5}, bn[2] = {5, 4}, n4[1] = {4}, row[2] = {1, 4};
  x = input(net, "x", 2, ad);
  t = gemm(net, "g1", x, constant_f32(net, "b1", 2, bt, NULL, NAN),
           constant_f32(net, "c1", 1, n4, NULL, NAN), 1.0f, 1.0f, true);
  InferTensorId y1 = batchnorm(net, "y1", t, 4);
  t = gemm(net, "g2", x, constant_f32(net, "b2", 2, bn, NULL, NAN),
           constant_f32(net, "c2", 2, row, NULL, NAN), 0.5f, 2.0f, false);
  t = binary(net, "mul", INFER_BINARY_MUL, t, constant_range(net, "m", 1, n4, 0.5f, 2.0f));
  InferTensorId y2 = binary(net, "y2", INFER_BINARY_ADD, t, constant_f32(net, "a", 2, row, NULL, NAN));
  CHECK_OK(infer_network_mark_output(net, y1));
  CHECK_OK(infer_network_mark_output(net, y2));
  out = check_rewrite(infer_pass_batchnorm_folding, net, 2, 3);
  if (out) CHECK(count_op(out, INFER_OP_GEMM) == 2);
  infer_network_release(out);
  infer_network_release(net);

  /* MatMul [M,K] x [K,N] -> BN becomes a Gemm */
  net = new_net();
  int64_t dyn[2] = {-1, 5};
  x = input(net, "x", 2, dyn);
  InferTensorId mm;
  CHECK_OK(infer_network_add_matmul(net, "mm", x, constant_f32(net, "w", 2, bn, NULL, NAN), &mm));
  t = batchnorm(net, "y", mm, 4);
  CHECK_OK(infer_network_mark_output(net, t));
  out = check_rewrite(infer_pass_batchnorm_folding, net, 1, 1);
  if (out) {
    CHECK(out->layers[0].op == INFER_OP_GEMM && !out->layers[0].params.gemm.trans_b);
    CHECK(out->layers[0].params.gemm.alpha == 1.0f && out->layers[0].params.gemm.beta == 1.0f);
  }
  infer_network_release(out);
  infer_network_release(net);

  /* ConvTranspose with groups -> BN (fused ReLU moves onto the deconv) */
  net = new_net();
  int64_t dx[4] = {1, 4, 5, 5}, dw[4] = {4, 3, 3, 3}, db[1] = {6};
  x = input(net, "x", 4, dx);
  t = conv(net, "deconv", INFER_OP_DECONV, x, constant_f32(net, "w", 4, dw, NULL, NAN),
           constant_f32(net, "b", 1, db, NULL, NAN), 2, 0, 2);
  t = batchnorm(net, "bn", t, 6);
  net->layers[net->n_layers - 1].params.norm.activation.kind = INFER_UNARY_RELU;
  CHECK_OK(infer_network_mark_output(net, t));
  out = check_rewrite(infer_pass_batchnorm_folding, net, 1, 1);
  if (out)
    CHECK(out->layers[0].op == INFER_OP_DECONV &&
          out->layers[0].params.conv.activation.kind == INFER_UNARY_RELU);
  infer_network_release(out);
  infer_network_release(net);

  /* left alone: a standalone BN, a conv read twice, weights that are no
   * constant, a Mul varying along H and W, a conv with a fused activation */
  net = new_net();
  x = input(net, "x", 4, xd);
  CHECK_OK(infer_network_mark_output(net, batchnorm(net, "bn", x, 4)));
  check_untouched(infer_pass_batchnorm_folding, net);

  net = new_net();
  x = input(net, "x", 4, xd);
  t = conv(net, "conv", INFER_OP_CONV, x, constant_f32(net, "w", 4, wd, NULL, NAN),
           INFER_NO_TENSOR, 1, 1, 1);
  CHECK_OK(infer_network_mark_output(net, batchnorm(net, "bn", t, 8)));
  CHECK_OK(infer_network_mark_output(net, unary(net, "r", INFER_UNARY_RELU, t)));
  check_untouched(infer_pass_batchnorm_folding, net);

  net = new_net();
  x = input(net, "x", 4, xd);
  InferTensorId w = input(net, "w", 4, wd);
  t = conv(net, "conv", INFER_OP_CONV, x, w, INFER_NO_TENSOR, 1, 1, 1);
  CHECK_OK(infer_network_mark_output(net, batchnorm(net, "bn", t, 8)));
  check_untouched(infer_pass_batchnorm_folding, net);

  net = new_net();
  int64_t hw[4] = {1, 1, 6, 6};
  x = input(net, "x", 4, xd);
  t = conv(net, "conv", INFER_OP_CONV, x, constant_f32(net, "w", 4, wd, NULL, NAN),
           INFER_NO_TENSOR, 1, 1, 1);
  t = binary(net, "y", INFER_BINARY_MUL, t, constant_f32(net, "m", 4, hw, NULL, NAN));
  CHECK_OK(infer_network_mark_output(net, t));
  check_untouched(infer_pass_batchnorm_folding, net);

  net = new_net();
  x = input(net, "x", 4, xd);
  t = conv(net, "conv", INFER_OP_CONV, x, constant_f32(net, "w", 4, wd, NULL, NAN),
           INFER_NO_TENSOR, 1, 1, 1);
  net->layers[net->n_layers - 1].params.conv.activation.kind = INFER_UNARY_RELU;
  CHECK_OK(infer_network_mark_output(net, batchnorm(net, "bn", t, 8)));
  check_untouched(infer_pass_batchnorm_folding, net);
}

/* ---- pad-folding ----------------------------------------------------------- */

typedef struct PadCase {
  InferPadMode mode;
  int64_t pads[8];
  int n_pads;
  const int64_t *axes;
  int n_axes;
  float value;        /* NAN: no value input */
  int consumer;       /* 0 conv, 1 average pool (count_include_pad), 2 average pool, 3 max pool */
  bool second_reader;
} PadCase;

static InferNetwork *pad_net(const PadCase *c) {
  InferNetwork *net = new_net();
  int64_t xd[4] = {1, 3, 8, 8}, wd[4] = {4, 3, 3, 3};
  InferTensorId x = input(net, "x", 4, xd);
  InferTensorId in[4] = {x, constant_i64(net, "pads", c->n_pads, c->pads), INFER_NO_TENSOR,
                         INFER_NO_TENSOR};
  int n_in = 2;
  if (!isnan(c->value)) in[2] = constant_f32(net, "value", 0, NULL, NULL, c->value), n_in = 3;
  if (c->axes) in[3] = constant_i64(net, "axes", c->n_axes, c->axes), n_in = 4;
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.pad.mode = c->mode;
  InferTensorId padded = layer(net, "padded", INFER_OP_PAD, &p, n_in, in);
  InferTensorId y;
  if (c->consumer == 0) {
    y = conv(net, "y", INFER_OP_CONV, padded, constant_f32(net, "w", 4, wd, NULL, NAN),
             INFER_NO_TENSOR, 1, 1, 1);
  } else {
    memset(&p, 0, sizeof p);
    p.pool.kind = c->consumer == 3 ? INFER_POOL_MAX : INFER_POOL_AVERAGE;
    p.pool.spatial = 2;
    p.pool.count_include_pad = c->consumer == 1;
    for (int i = 0; i < 2; i++) p.pool.kernel[i] = 3, p.pool.strides[i] = 2;
    for (int i = 0; i < 4; i++) p.pool.pads[i] = 1;
    y = layer(net, "y", INFER_OP_POOL, &p, 1, &padded);
  }
  CHECK_OK(infer_network_mark_output(net, y));
  if (c->second_reader) CHECK_OK(infer_network_mark_output(net, unary(net, "r", INFER_UNARY_RELU, padded)));
  return net;
}

static void test_pad_folding(void) {
  PadCase c = {INFER_PAD_CONSTANT, {0, 0, 1, 2, 0, 0, 2, 1}, 8, NULL, 0, NAN, 0, false};
  InferNetwork *net = pad_net(&c);
  InferNetwork *out = check_rewrite(infer_pass_pad_folding, net, 1, 1);
  if (out) {
    const int64_t *pads = out->layers[0].params.conv.pads;
    CHECK(out->layers[0].op == INFER_OP_CONV);
    CHECK(pads[0] == 2 && pads[1] == 3 && pads[2] == 3 && pads[3] == 2);
    CHECK(strcmp(infer_network_tensor_name(out, out->layers[0].inputs[0]), "x") == 0);
  }
  infer_network_release(out);
  infer_network_release(net);

  /* with axes and an explicit zero, into an average pool counting pads */
  static const int64_t spatial_axes[2] = {2, -1};
  PadCase pool = {INFER_PAD_CONSTANT, {1, 0, 2, 1}, 4, spatial_axes, 2, 0.0f, 1, false};
  net = pad_net(&pool);
  out = check_rewrite(infer_pass_pad_folding, net, 1, 1);
  if (out) {
    const int64_t *pads = out->layers[0].params.pool.pads;
    CHECK(out->layers[0].op == INFER_OP_POOL);
    CHECK(pads[0] == 2 && pads[1] == 1 && pads[2] == 3 && pads[3] == 2);
  }
  infer_network_release(out);
  infer_network_release(net);

  /* left alone */
  PadCase bad[] = {
      {INFER_PAD_CONSTANT, {0, 0, 1, 1, 0, 0, 1, 1}, 8, NULL, 0, 1.0f, 0, false},  /* value 1 */
      {INFER_PAD_CONSTANT, {0, 1, 1, 1, 0, 0, 1, 1}, 8, NULL, 0, NAN, 0, false},   /* channels */
      {INFER_PAD_CONSTANT, {0, 0, 1, -1, 0, 0, 1, 1}, 8, NULL, 0, NAN, 0, false},  /* a crop */
      {INFER_PAD_REFLECT, {0, 0, 1, 1, 0, 0, 1, 1}, 8, NULL, 0, NAN, 0, false},    /* reflect */
      {INFER_PAD_CONSTANT, {0, 0, 1, 1, 0, 0, 1, 1}, 8, NULL, 0, NAN, 2, false},   /* excl. pads */
      {INFER_PAD_CONSTANT, {0, 0, 1, 1, 0, 0, 1, 1}, 8, NULL, 0, NAN, 3, false},   /* max pool */
      {INFER_PAD_CONSTANT, {0, 0, 1, 1, 0, 0, 1, 1}, 8, NULL, 0, NAN, 0, true},    /* 2 readers */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    check_untouched(infer_pass_pad_folding, pad_net(&bad[i]));
}

/* ---- canonical-forms --------------------------------------------------------- */

static InferTensorId reduce_mean(InferNetwork *net, const char *out, InferTensorId x,
                                 const int64_t *axes, int n, bool keepdims, InferReduceKind kind) {
  char name[64];
  snprintf(name, sizeof name, "%s_axes", out);
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.reduce.kind = kind;
  p.reduce.keepdims = keepdims;
  InferTensorId in[2] = {x, constant_i64(net, name, n, axes)};
  return layer(net, out, INFER_OP_REDUCE, &p, 2, in);
}

static void test_canonical_forms(void) {
  /* MatMul + bias -> Gemm, static and dynamic M, bias on either side */
  int64_t xd[2] = {4, 8}, dyn[2] = {-1, 8}, wd[2] = {8, 5}, bd[1] = {5}, row[2] = {1, 5};
  InferNetwork *net = new_net();
  InferTensorId x = input(net, "x", 2, xd), x2 = input(net, "x2", 2, dyn), mm, mm2;
  CHECK_OK(infer_network_add_matmul(net, "mm", x, constant_f32(net, "w", 2, wd, NULL, NAN), &mm));
  CHECK_OK(infer_network_mark_output(net, binary(net, "y", INFER_BINARY_ADD, mm,
                                                 constant_f32(net, "b", 1, bd, NULL, NAN))));
  CHECK_OK(infer_network_add_matmul(net, "mm2", x2, constant_f32(net, "w2", 2, wd, NULL, NAN), &mm2));
  CHECK_OK(infer_network_mark_output(net, binary(net, "y2", INFER_BINARY_ADD,
                                                 constant_f32(net, "b2", 2, row, NULL, NAN), mm2)));
  InferNetwork *out = check_rewrite(infer_pass_canonical_forms, net, 2, 2);
  if (out) {
    CHECK(count_op(out, INFER_OP_GEMM) == 2);
    const InferGemmParams *g = &out->layers[0].params.gemm;
    CHECK(g->alpha == 1.0f && g->beta == 1.0f && !g->trans_a && !g->trans_b);
    CHECK(out->layers[0].n_inputs == 3);
  }
  infer_network_release(out);
  infer_network_release(net);

  /* ReduceMean over H, W -> GlobalAveragePool (+ Flatten without keepdims) */
  int64_t x4[4] = {-1, 3, 5, 7}, hw[2] = {2, 3}, neg[2] = {-1, -2};
  net = new_net();
  x = input(net, "x", 4, x4);
  CHECK_OK(infer_network_mark_output(net, reduce_mean(net, "k", x, hw, 2, true, INFER_REDUCE_MEAN)));
  CHECK_OK(infer_network_mark_output(net, reduce_mean(net, "f", x, neg, 2, false, INFER_REDUCE_MEAN)));
  out = check_rewrite(infer_pass_canonical_forms, net, 3, 2);
  if (out) {
    CHECK(count_op(out, INFER_OP_POOL) == 2 && count_op(out, INFER_OP_RESHAPE) == 1);
    CHECK(out->layers[0].params.pool.global && out->layers[0].params.pool.kind == INFER_POOL_AVERAGE);
  }
  infer_network_release(out);
  infer_network_release(net);

  /* left alone: batched MatMul, a bias varying along a dynamic M, a sum,
   * other axes, a MatMul read twice */
  net = new_net();
  int64_t x3[3] = {2, 4, 8}, mrow[2] = {4, 5}, c1[2] = {1, 2};
  x = input(net, "x", 3, x3);
  CHECK_OK(infer_network_add_matmul(net, "mm", x, constant_f32(net, "w", 2, wd, NULL, NAN), &mm));
  CHECK_OK(infer_network_mark_output(net, binary(net, "y", INFER_BINARY_ADD, mm,
                                                 constant_f32(net, "b", 1, bd, NULL, NAN))));
  x2 = input(net, "x2", 2, dyn);
  CHECK_OK(infer_network_add_matmul(net, "mm2", x2, constant_f32(net, "w2", 2, wd, NULL, NAN), &mm2));
  CHECK_OK(infer_network_mark_output(net, binary(net, "y2", INFER_BINARY_ADD, mm2,
                                                 constant_f32(net, "b2", 2, mrow, NULL, NAN))));
  InferTensorId x5 = input(net, "x5", 4, x4);
  CHECK_OK(infer_network_mark_output(net, reduce_mean(net, "s", x5, hw, 2, true, INFER_REDUCE_SUM)));
  CHECK_OK(infer_network_mark_output(net, reduce_mean(net, "m", x5, c1, 2, true, INFER_REDUCE_MEAN)));
  InferTensorId x6 = input(net, "x6", 2, xd), mm3;
  CHECK_OK(infer_network_add_matmul(net, "mm3", x6, constant_f32(net, "w3", 2, wd, NULL, NAN), &mm3));
  CHECK_OK(infer_network_mark_output(net, binary(net, "y3", INFER_BINARY_ADD, mm3,
                                                 constant_f32(net, "b3", 1, bd, NULL, NAN))));
  CHECK_OK(infer_network_mark_output(net, unary(net, "r3", INFER_UNARY_RELU, mm3)));
  check_untouched(infer_pass_canonical_forms, net);
}

int main(void) {
  test_batchnorm_folding();
  test_pad_folding();
  test_canonical_forms();
  TEST_MAIN_END("pass_folding");
}
