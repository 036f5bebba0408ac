/* Optimizer passes that clean a graph up: constant-folding, dead-code,
 * identity-removal and reshape-merging. For each: the rewritten structure,
 * numerical equality with the unoptimized network on the CPU reference
 * (normalized error <= 1e-6 on random inputs), and graphs it must leave alone. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "infer/infer.h"
#include "passes.h"
#include "pass_test_util.h"

/* ---- shared helpers ------------------------------------------------------ */

static InferTensorId reshape_kind(InferNetwork *net, const char *out, InferReshapeKind k,
                                  InferTensorId x, InferTensorId arg, int64_t axis) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.reshape.kind = k;
  p.reshape.axis = axis;
  InferTensorId in[2] = {x, arg};
  return layer(net, out, INFER_OP_RESHAPE, &p, arg == INFER_NO_TENSOR ? 1 : 2, in);
}

static InferTensorId transpose(InferNetwork *net, const char *out, InferTensorId x, int n,
                               const int64_t *perm) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.transpose.n_perm = n;
  for (int i = 0; i < n; i++) p.transpose.perm[i] = perm[i];
  return layer(net, out, INFER_OP_TRANSPOSE, &p, 1, &x);
}

static void test_harness(void) {
  int64_t xd[2] = {2, 3};
  InferNetwork *a = new_net(), *b = new_net();
  CHECK_OK(infer_network_mark_output(a, unary(a, "y", INFER_UNARY_RELU, input(a, "x", 2, xd))));
  CHECK_OK(infer_network_mark_output(b, unary(b, "y", INFER_UNARY_SIGMOID, input(b, "x", 2, xd))));
  CHECK(compare_networks(a, b) > 0.1);
  CHECK(compare_networks(a, a) == 0);
  infer_network_release(a);
  infer_network_release(b);
}

/* ---- constant-folding ------------------------------------------------------ */

static void test_constant_folding(void) {
  InferNetwork *net = new_net();
  int64_t xd[2] = {2, 3}, cd[1] = {3};
  float c1v[3] = {1, 2, 3}, c2v[3] = {0.5f, -1, 4};
  InferTensorId x = input(net, "x", 2, xd);
  InferTensorId c1 = constant_f32(net, "c1", 1, cd, c1v, 0);
  InferTensorId c2 = constant_f32(net, "c2", 1, cd, c2v, 0);
  InferTensorId k = binary(net, "k", INFER_BINARY_ADD, c1, c2);
  InferTensorId k2 = binary(net, "k2", INFER_BINARY_MUL, k, c1);
  InferOpParams p;
  memset(&p, 0, sizeof p);
  InferTensorId shp = layer(net, "shp", INFER_OP_SHAPE, &p, 1, &x);
  InferTensorId y = binary(net, "y", INFER_BINARY_ADD, x, k2);
  InferTensorId z = reshape_kind(net, "z", INFER_RESHAPE_SHAPE, y, shp, 0);
  CHECK_OK(infer_network_mark_output(net, z));
  InferNetwork *out = check_rewrite(infer_pass_constant_folding, net, 2, 3);
  if (out) {
    InferTensorId t = infer_network_find_tensor(out, "k2");
    CHECK(t != INFER_NO_TENSOR);
    const InferTensorDef *d = infer_net_tensor(out, t);
    CHECK(d && d->data && d->producer < 0 && d->shape.rank == 1 && d->shape.d[0] == 3);
    if (d && d->data) CHECK(((float *)d->data)[2] == 21.0f);
    CHECK(infer_network_find_tensor(out, "k") == INFER_NO_TENSOR); /* only read by folded layers */
    CHECK(infer_network_find_tensor(out, "shp") != INFER_NO_TENSOR);
    CHECK(count_op(out, INFER_OP_SHAPE) == 0 && count_op(out, INFER_OP_RESHAPE) == 1);
  }
  infer_network_release(out);
  infer_network_release(net);

  /* an output computed from constants only becomes a constant output */
  net = new_net();
  x = input(net, "x", 2, xd);
  c1 = constant_f32(net, "c1", 1, cd, c1v, 0);
  InferTensorId sq = unary(net, "sq", INFER_UNARY_SQRT, c1);
  InferTensorId r = unary(net, "r", INFER_UNARY_RELU, x);
  CHECK_OK(infer_network_mark_output(net, r));
  CHECK_OK(infer_network_mark_output(net, sq));
  out = check_rewrite(infer_pass_constant_folding, net, 1, 1);
  infer_network_release(out);
  infer_network_release(net);

  /* Shape of a dynamic tensor and layers reading inputs stay */
  net = new_net();
  int64_t dd[2] = {-1, 3};
  x = input(net, "x", 2, dd);
  shp = layer(net, "shp", INFER_OP_SHAPE, &p, 1, &x);
  y = unary(net, "y", INFER_UNARY_RELU, x);
  z = reshape_kind(net, "z", INFER_RESHAPE_SHAPE, y, shp, 0);
  CHECK_OK(infer_network_mark_output(net, z));
  check_untouched(infer_pass_constant_folding, net);
}

/* ---- dead-code ----------------------------------------------------------- */

static void test_dead_code(void) {
  InferNetwork *net = new_net();
  int64_t xd[2] = {2, 3}, cd[1] = {3};
  InferTensorId x = input(net, "x", 2, xd);
  InferTensorId c = constant_f32(net, "c", 1, cd, NULL, NAN);
  constant_f32(net, "never_read", 1, cd, NULL, 1.0f);
  InferTensorId r = unary(net, "r", INFER_UNARY_RELU, x);
  InferTensorId s = unary(net, "s", INFER_UNARY_SIGMOID, x);
  binary(net, "unused", INFER_BINARY_ADD, s, c);
  CHECK_OK(infer_network_mark_output(net, r));
  InferNetwork *out = check_rewrite(infer_pass_dead_code, net, 1, 4);
  if (out) {
    CHECK(infer_network_find_tensor(out, "c") == INFER_NO_TENSOR);
    CHECK(infer_network_find_tensor(out, "never_read") == INFER_NO_TENSOR);
    CHECK(infer_network_find_tensor(out, "s") == INFER_NO_TENSOR);
    CHECK(infer_network_num_inputs(out) == 1);
  }
  infer_network_release(out);
  infer_network_release(net);

  /* a split with one output used stays whole; nothing is dead */
  net = new_net();
  int64_t xd4[2] = {4, 3};
  x = input(net, "x", 2, xd4);
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.split.axis = 0;
  p.split.num_outputs = 2;
  InferTensorId parts[2];
  const char *names[2] = {"p0", "p1"};
  CHECK_OK(infer_network_add_layer(net, "split", INFER_OP_SPLIT, &p, 1, &x, 2, names, parts));
  r = unary(net, "r", INFER_UNARY_RELU, parts[1]);
  CHECK_OK(infer_network_mark_output(net, r));
  check_untouched(infer_pass_dead_code, net);
}

/* ---- identity-removal ---------------------------------------------------- */

static void test_identity_removal(void) {
  InferNetwork *net = new_net();
  int64_t xd[4] = {2, 3, 4, 5}, zd[4] = {1, 3, 1, 1}, one[1] = {1};
  InferTensorId x = input(net, "x", 4, xd);
  InferTensorId t = reshape_kind(net, "id", INFER_RESHAPE_IDENTITY, x, INFER_NO_TENSOR, 0);
  t = unary(net, "relu", INFER_UNARY_RELU, t);
  t = reshape_kind(net, "dropout", INFER_RESHAPE_IDENTITY, t, INFER_NO_TENSOR, 0);
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.cast.to = INFER_DTYPE_F32;
  t = layer(net, "cast", INFER_OP_CAST, &p, 1, &t);
  t = binary(net, "add0", INFER_BINARY_ADD, t, constant_f32(net, "zeros", 4, zd, NULL, 0.0f));
  t = binary(net, "zadd", INFER_BINARY_ADD, constant_f32(net, "zeros3", 1, one, NULL, -0.0f), t);
  t = binary(net, "sub0", INFER_BINARY_SUB, t, constant_f32(net, "zero", 0, NULL, NULL, 0.0f));
  t = binary(net, "mul1", INFER_BINARY_MUL, constant_f32(net, "ones", 3, zd + 1, NULL, 1.0f), t);
  t = binary(net, "div1", INFER_BINARY_DIV, t, constant_f32(net, "one", 0, NULL, NULL, 1.0f));
  t = binary(net, "pow1", INFER_BINARY_POW, t, constant_f32(net, "one_b", 1, one, NULL, 1.0f));
  t = unary(net, "none", INFER_UNARY_NONE, t);
  t = infer_network_find_tensor(net, "none");
  InferTensorId same;
  CHECK_OK(infer_network_add_reshape(net, "same_shape", t, 4, xd, &same));
  t = unary(net, "sigmoid", INFER_UNARY_SIGMOID, same);
  CHECK_OK(infer_network_mark_output(net, t));
  InferNetwork *out = check_rewrite(infer_pass_identity_removal, net, 2, 11);
  if (out) CHECK(count_op(out, INFER_OP_UNARY) == 2);
  infer_network_release(out);
  infer_network_release(net);

  /* a dropped layer's output name moves to the producer of its input; a
   * second output aliasing the same tensor keeps its layer */
  net = new_net();
  x = input(net, "x", 4, xd);
  InferTensorId r = unary(net, "r", INFER_UNARY_RELU, x);
  InferTensorId y1 = reshape_kind(net, "y1", INFER_RESHAPE_IDENTITY, r, INFER_NO_TENSOR, 0);
  InferTensorId y2 = reshape_kind(net, "y2", INFER_RESHAPE_IDENTITY, r, INFER_NO_TENSOR, 0);
  CHECK_OK(infer_network_mark_output(net, y1));
  CHECK_OK(infer_network_mark_output(net, y2));
  out = check_rewrite(infer_pass_identity_removal, net, 2, 1);
  if (out) {
    InferTensorId o = infer_network_find_tensor(out, "y1");
    CHECK(o != INFER_NO_TENSOR && infer_net_tensor(out, o)->producer >= 0 &&
          out->layers[infer_net_tensor(out, o)->producer].op == INFER_OP_UNARY);
    CHECK(infer_network_find_tensor(out, "r") == INFER_NO_TENSOR);
  }
  infer_network_release(out);
  infer_network_release(net);

  /* dynamic batch: x + zeros[C,1,1] keeps x's shape and goes */
  net = new_net();
  int64_t dyn[4] = {-1, 3, 4, 5};
  x = input(net, "x", 4, dyn);
  t = binary(net, "add0", INFER_BINARY_ADD, x, constant_f32(net, "zeros", 3, zd + 1, NULL, 0.0f));
  t = unary(net, "y", INFER_UNARY_TANH, t);
  CHECK_OK(infer_network_mark_output(net, t));
  out = check_rewrite(infer_pass_identity_removal, net, 1, 1);
  infer_network_release(out);
  infer_network_release(net);

  /* left alone: broadcasts that enlarge, non-zero constants, 0 - x, real
   * casts and reshapes, and an identity from an input to an output */
  net = new_net();
  int64_t small[2] = {1, 3}, big[3] = {4, 2, 3}, c3[1] = {3};
  x = input(net, "x", 2, small);
  InferTensorId a = binary(net, "a", INFER_BINARY_ADD, x, constant_f32(net, "z", 3, big, NULL, 0.0f));
  InferTensorId b = binary(net, "b", INFER_BINARY_ADD, x, constant_f32(net, "h", 1, c3, NULL, 0.5f));
  InferTensorId c = binary(net, "c", INFER_BINARY_SUB, constant_f32(net, "z2", 1, c3, NULL, 0.0f), x);
  InferTensorId d = binary(net, "d", INFER_BINARY_MUL, x, constant_f32(net, "two", 0, NULL, NULL, 2.0f));
  p.cast.to = INFER_DTYPE_I32;
  InferTensorId e = layer(net, "e", INFER_OP_CAST, &p, 1, &x);
  int64_t flip[2] = {3, 1};
  InferTensorId f;
  CHECK_OK(infer_network_add_reshape(net, "f", x, 2, flip, &f));
  InferTensorId g = reshape_kind(net, "g", INFER_RESHAPE_IDENTITY, x, INFER_NO_TENSOR, 0);
  InferTensorId outs[7] = {a, b, c, d, e, f, g};
  for (int i = 0; i < 7; i++) CHECK_OK(infer_network_mark_output(net, outs[i]));
  check_untouched(infer_pass_identity_removal, net);
}

/* ---- reshape-merging ------------------------------------------------------- */

static void test_reshape_merging(void) {
  /* transposes that cancel */
  InferNetwork *net = new_net();
  int64_t xd[4] = {2, 3, 4, 5}, nhwc[4] = {0, 2, 3, 1}, nchw[4] = {0, 3, 1, 2};
  InferTensorId x = input(net, "x", 4, xd);
  InferTensorId t = transpose(net, "t1", x, 4, nhwc);
  t = transpose(net, "t2", t, 4, nchw);
  t = unary(net, "y", INFER_UNARY_RELU, t);
  CHECK_OK(infer_network_mark_output(net, t));
  InferNetwork *out = check_rewrite(infer_pass_reshape_merging, net, 1, 2);
  infer_network_release(out);
  infer_network_release(net);

  /* three transposes compose into one (and a reversing one with no perm) */
  net = new_net();
  int64_t p1[4] = {1, 0, 2, 3}, p2[4] = {0, 1, 3, 2};
  x = input(net, "x", 4, xd);
  t = transpose(net, "t1", x, 4, p1);
  t = transpose(net, "t2", t, 4, p2);
  t = transpose(net, "t3", t, 0, NULL);
  CHECK_OK(infer_network_mark_output(net, t));
  out = check_rewrite(infer_pass_reshape_merging, net, 1, 2);
  if (out) {
    const InferLayer *l = &out->layers[0];
    /* t3 reverses: out[i] = t2[3-i] = t1[p2[3-i]] = x[p1[p2[3-i]]] */
    int64_t want[4];
    for (int i = 0; i < 4; i++) want[i] = p1[p2[3 - i]];
    CHECK(l->op == INFER_OP_TRANSPOSE && l->params.transpose.n_perm == 4);
    for (int i = 0; i < 4; i++) CHECK(l->params.transpose.perm[i] == want[i]);
  }
  infer_network_release(out);
  infer_network_release(net);

  /* Flatten -> Unsqueeze -> Reshape -> Squeeze becomes one Reshape */
  net = new_net();
  int64_t x3[3] = {2, 3, 4}, ax1[1] = {1}, target[3] = {4, 1, 6}, ax_sq[1] = {1};
  x = input(net, "x", 3, x3);
  t = reshape_kind(net, "flat", INFER_RESHAPE_FLATTEN, x, INFER_NO_TENSOR, 1);
  t = reshape_kind(net, "unsq", INFER_RESHAPE_UNSQUEEZE, t, constant_i64(net, "axes", 1, ax1), 0);
  t = reshape_kind(net, "resh", INFER_RESHAPE_SHAPE, t, constant_i64(net, "target", 3, target), 0);
  t = reshape_kind(net, "sq", INFER_RESHAPE_SQUEEZE, t, constant_i64(net, "axes_sq", 1, ax_sq), 0);
  t = unary(net, "y", INFER_UNARY_EXP, t);
  CHECK_OK(infer_network_mark_output(net, t));
  out = check_rewrite(infer_pass_reshape_merging, net, 2, 3);
  if (out) {
    CHECK(count_op(out, INFER_OP_RESHAPE) == 1);
    const InferLayer *l = &out->layers[0];
    CHECK(l->op == INFER_OP_RESHAPE && l->params.reshape.kind == INFER_RESHAPE_SHAPE &&
          l->n_inputs == 2 && strcmp(infer_network_tensor_name(out, l->inputs[0]), "x") == 0);
    const InferTensorDef *s = infer_net_tensor(out, l->inputs[1]);
    CHECK(s && s->data && s->shape.d[0] == 2 && ((int64_t *)s->data)[0] == 4 &&
          ((int64_t *)s->data)[1] == 6);
  }
  infer_network_release(out);
  infer_network_release(net);

  /* dynamic batch: a Reshape with a target free of 0 absorbs its producer */
  net = new_net();
  int64_t dyn[3] = {-1, 3, 4}, t1[2] = {-1, 12}, t2[3] = {-1, 2, 6};
  x = input(net, "x", 3, dyn);
  CHECK_OK(infer_network_add_reshape(net, "r1", x, 2, t1, &t));
  CHECK_OK(infer_network_add_reshape(net, "r2", t, 3, t2, &t));
  CHECK_OK(infer_network_mark_output(net, t));
  out = check_rewrite(infer_pass_reshape_merging, net, 1, 1);
  infer_network_release(out);
  infer_network_release(net);

  /* one dynamic dim in the result: it becomes the -1 of the target */
  net = new_net();
  int64_t t3[3] = {0, 3, 4};
  x = input(net, "x", 3, dyn);
  CHECK_OK(infer_network_add_reshape(net, "r1", x, 2, t1, &t));
  CHECK_OK(infer_network_add_reshape(net, "r2", t, 3, t3, &t));
  t = reshape_kind(net, "flat", INFER_RESHAPE_FLATTEN, t, INFER_NO_TENSOR, 1);
  CHECK_OK(infer_network_mark_output(net, t));
  out = check_rewrite(infer_pass_reshape_merging, net, 1, 2);
  if (out) {
    const InferTensorDef *s = infer_net_tensor(out, out->layers[0].inputs[1]);
    CHECK(s && s->data && s->shape.d[0] == 2 && ((int64_t *)s->data)[0] == -1 &&
          ((int64_t *)s->data)[1] == 12);
  }
  infer_network_release(out);
  infer_network_release(net);

  /* left alone: 0s that copy two dynamic intermediate dims, and a chain
   * whose intermediate has a second reader */
  net = new_net();
  int64_t dyn2[3] = {-1, -1, 4}, split4[4] = {0, 0, 2, 2}, back[3] = {0, 0, 4};
  x = input(net, "x", 3, dyn2);
  CHECK_OK(infer_network_add_reshape(net, "r1", x, 4, split4, &t));
  CHECK_OK(infer_network_add_reshape(net, "r2", t, 3, back, &t));
  CHECK_OK(infer_network_mark_output(net, t));
  check_untouched(infer_pass_reshape_merging, net);

  net = new_net();
  x = input(net, "x", 4, xd);
  t = transpose(net, "t1", x, 4, nhwc);
  InferTensorId y1 = transpose(net, "t2", t, 4, nchw);
  InferTensorId y2 = unary(net, "y2", INFER_UNARY_RELU, t);
  CHECK_OK(infer_network_mark_output(net, y1));
  CHECK_OK(infer_network_mark_output(net, y2));
  check_untouched(infer_pass_reshape_merging, net);
}

int main(void) {
  test_harness();
  test_constant_folding();
  test_dead_code();
  test_identity_removal();
  test_reshape_merging();
  TEST_MAIN_END("pass_cleanup");
}
