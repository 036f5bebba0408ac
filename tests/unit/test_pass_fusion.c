/* The fusion passes: activation fusion (Conv/Deconv/Gemm/MatMul/norms +
 * activation, Conv + residual Add (+ activation)) and horizontal fusion
 * (sibling 1x1 Convs / Gemms on one tensor). Each rewrite is checked for
 * its structure and for computing what the original does (CPU reference,
 * normalized error <= 1e-6); graphs the passes must leave alone are left
 * alone. With a directory argument (the output of
 * tests/models/generate_models.py) the passes also run over every
 * generated model, with BatchNormalization folded into the convs by hand
 * first so that the Conv+Add+Relu tails of the residual models show. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "infer/infer.h"
#include "passes/passes.h"
#include "pass_run_util.h"

/* ---- running and comparing networks --------------------------------------- */

static const InferPassContext pass_ctx = {INFER_BACKEND_CPU, NULL};

typedef InferStatus *(*PassFn)(const InferPassContext *, const InferNetwork *, InferNetwork **,
                               int *);

/* Runs the pass; checks that it rewrote `want` times (0: left alone) and
 * that the result computes the same. Returns the new network (or NULL). */
static InferNetwork *check_pass(PassFn fn, InferNetwork *net, int want) {
  InferNetwork *out = NULL;
  int changes = -1;
  CHECK_OK(fn(&pass_ctx, net, &out, &changes));
  CHECK(changes == want);
  CHECK((out != NULL) == (want > 0));
  if (changes != want) fprintf(stderr, "  %d rewrites, %d expected\n", changes, want);
  if (out) {
    double e1 = compare_nets(net, out, 1), e2 = compare_nets(net, out, 3);
    CHECK(e1 <= 1e-6);
    CHECK(e2 <= 1e-6);
    if (!(e1 <= 1e-6) || !(e2 <= 1e-6)) fprintf(stderr, "  normalized errors %g %g\n", e1, e2);
  }
  return out;
}

static int count_op(const InferNetwork *net, InferOp op) {
  int n = 0;
  for (int i = 0; i < net->n_layers; i++) n += net->layers[i].op == op;
  return n;
}

static const InferLayer *find_op(const InferNetwork *net, InferOp op) {
  for (int i = 0; i < net->n_layers; i++)
    if (net->layers[i].op == op) return &net->layers[i];
  return NULL;
}

/* ---- building blocks ------------------------------------------------------ */

static int const_counter;

static InferTensorId weights(InferNetwork *net, int rank, const int64_t *dims, float scale) {
  InferShape s = infer_shape_make(rank, dims);
  int64_t n = infer_shape_numel(&s);
  float *v = malloc(sizeof(float) * (size_t)n);
  for (int64_t i = 0; i < n; i++) v[i] = frand() * scale;
  char name[32];
  snprintf(name, sizeof name, "w%d", const_counter++);
  InferTensorId t;
  CHECK_OK(infer_network_add_constant(net, name, INFER_DTYPE_F32, &s, v, &t));
  free(v);
  return t;
}

static InferTensorId vec(InferNetwork *net, int64_t n, float scale) {
  return weights(net, 1, &n, scale);
}

static InferNetwork *net_with_input(const char *name, InferTensorId *x, int rank,
                                    const int64_t *dims, const char *dim_name) {
  InferNetwork *net;
  CHECK_OK(infer_network_create(&net));
  InferShape s = infer_shape_make(rank, dims);
  CHECK_OK(infer_network_add_input(net, name, INFER_DTYPE_F32, &s, x));
  for (int d = 0; d < rank; d++)
    if (dims[d] < 0 && dim_name) CHECK_OK(infer_network_set_dim_name(net, *x, d, dim_name));
  return net;
}

/* A k x k conv (pad k/2, stride 1) from cin to cout channels. */
static InferTensorId conv(InferNetwork *net, InferTensorId x, int64_t cin, int64_t cout, int64_t k,
                          bool bias, InferUnaryKind act) {
  InferConvParams p;
  memset(&p, 0, sizeof p);
  p.spatial = 2;
  p.group = 1;
  for (int i = 0; i < 2; i++) {
    p.kernel[i] = k;
    p.strides[i] = 1;
    p.dilations[i] = 1;
    p.pads[i] = p.pads[2 + i] = k / 2;
  }
  p.activation.kind = act;
  int64_t wd[4] = {cout, cin, k, k};
  InferTensorId w = weights(net, 4, wd, 0.3f), y;
  InferTensorId b = bias ? vec(net, cout, 0.2f) : INFER_NO_TENSOR;
  CHECK_OK(infer_network_add_convolution(net, NULL, x, w, b, &p, &y));
  return y;
}

static InferTensorId unary(InferNetwork *net, InferTensorId x, InferUnaryKind k, float a, float b) {
  InferTensorId y;
  CHECK_OK(infer_network_add_activation(net, NULL, x, k, a, b, &y));
  return y;
}

static InferTensorId bin(InferNetwork *net, InferTensorId a, InferBinaryKind k, InferTensorId b) {
  InferTensorId y;
  CHECK_OK(infer_network_add_elementwise(net, NULL, a, b, k, &y));
  return y;
}

static InferTensorId gemm(InferNetwork *net, InferTensorId a, int64_t k, int64_t n, int c_kind,
                          InferUnaryKind act) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.gemm.alpha = 0.75f;
  p.gemm.beta = 1.5f;
  p.gemm.trans_b = true;
  p.gemm.activation.kind = act;
  int64_t bd[2] = {n, k}, cd[2] = {1, n};
  InferTensorId in[3] = {a, weights(net, 2, bd, 0.4f), INFER_NO_TENSOR}, y;
  if (c_kind == 1) in[2] = vec(net, n, 0.5f);
  if (c_kind == 2) in[2] = weights(net, 2, cd, 0.5f);
  if (c_kind == 3) in[2] = vec(net, 1, 0.5f);
  CHECK_OK(infer_network_add_layer(net, NULL, INFER_OP_GEMM, &p, c_kind ? 3 : 2, in, 1, NULL, &y));
  return y;
}

static const int64_t img[4] = {-1, 3, 6, 7};

/* ---- activation fusion ---------------------------------------------------- */

static void test_conv_activation(void) {
  static const InferUnaryKind kinds[] = {
      INFER_UNARY_RELU, INFER_UNARY_LEAKY_RELU, INFER_UNARY_CLIP, INFER_UNARY_SIGMOID,
      INFER_UNARY_SILU, INFER_UNARY_HARD_SWISH, INFER_UNARY_HARD_SIGMOID, INFER_UNARY_GELU,
      INFER_UNARY_TANH, INFER_UNARY_MISH, INFER_UNARY_ELU};
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    InferTensorId x;
    InferNetwork *net = net_with_input("x", &x, 4, img, "N");
    float a = kinds[i] == INFER_UNARY_CLIP           ? -0.5f
              : kinds[i] == INFER_UNARY_HARD_SIGMOID ? 0.2f
                                                     : 0.1f;
    float b = kinds[i] == INFER_UNARY_CLIP ? 1.0f : 0.5f;
    if (kinds[i] == INFER_UNARY_GELU) a = 1.0f;
    InferTensorId c = conv(net, x, 3, 5, 3, i % 2 == 0, INFER_UNARY_NONE);
    InferTensorId y = unary(net, c, kinds[i], a, b);
    CHECK_OK(infer_network_mark_output(net, y));
    InferNetwork *out = check_pass(infer_pass_activation_fusion, net, 1);
    if (out) {
      CHECK(out->n_layers == 1 && out->layers[0].op == INFER_OP_CONV);
      const InferActivation *act = &out->layers[0].params.conv.activation;
      CHECK(act->kind == kinds[i] && act->alpha == a && act->beta == b);
      CHECK(strcmp(out->tensors[out->outputs[0]].name, net->tensors[y].name) == 0);
    }
    infer_network_release(out);
    infer_network_release(net);
  }
}

static void test_other_producers(void) {
  /* Gemm + Sigmoid, MatMul + GELU */
  static const int64_t rows[2] = {-1, 6};
  InferTensorId x;
  InferNetwork *net = net_with_input("x", &x, 2, rows, "N");
  CHECK_OK(infer_network_mark_output(
      net, unary(net, gemm(net, x, 6, 4, 1, INFER_UNARY_NONE), INFER_UNARY_SIGMOID, 0, 0)));
  int64_t wd[2] = {6, 5};
  InferTensorId mm;
  CHECK_OK(infer_network_add_matmul(net, NULL, x, weights(net, 2, wd, 0.5f), &mm));
  CHECK_OK(infer_network_mark_output(net, unary(net, mm, INFER_UNARY_GELU, 0, 0)));
  InferNetwork *out = check_pass(infer_pass_activation_fusion, net, 2);
  if (out) {
    CHECK(out->n_layers == 2);
    const InferLayer *g = find_op(out, INFER_OP_GEMM), *m = find_op(out, INFER_OP_MATMUL);
    CHECK(g && g->params.gemm.activation.kind == INFER_UNARY_SIGMOID);
    CHECK(m && m->params.matmul.activation.kind == INFER_UNARY_GELU);
  }
  infer_network_release(out);
  infer_network_release(net);

  /* ConvTranspose + LeakyRelu, BatchNorm + Clip, LayerNorm + Tanh */
  net = net_with_input("x", &x, 4, img, "N");
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.conv.spatial = 2;
  p.conv.group = 1;
  for (int i = 0; i < 2; i++) p.conv.kernel[i] = p.conv.strides[i] = p.conv.dilations[i] = 2;
  p.conv.dilations[0] = p.conv.dilations[1] = 1;
  int64_t dd[4] = {3, 4, 2, 2};
  InferTensorId din[3] = {x, weights(net, 4, dd, 0.5f), vec(net, 4, 0.1f)}, dy;
  CHECK_OK(infer_network_add_layer(net, "deconv", INFER_OP_DECONV, &p, 3, din, 1, NULL, &dy));
  InferTensorId h = unary(net, dy, INFER_UNARY_LEAKY_RELU, 0.2f, 0);
  memset(&p, 0, sizeof p);
  p.norm.epsilon = 1e-3f;
  float var[4] = {0.5f, 1.0f, 1.5f, 2.0f};
  InferShape vs = {1, {4}};
  InferTensorId vt;
  CHECK_OK(infer_network_add_constant(net, "var", INFER_DTYPE_F32, &vs, var, &vt));
  InferTensorId bin_[5] = {h, vec(net, 4, 1), vec(net, 4, 1), vec(net, 4, 1), vt}, by;
  CHECK_OK(infer_network_add_layer(net, "bn", INFER_OP_BATCHNORM, &p, 5, bin_, 1, NULL, &by));
  h = unary(net, by, INFER_UNARY_CLIP, 0, 1.5f);
  p.norm.axis = -1;
  InferTensorId lin[3] = {h, vec(net, 14, 1), vec(net, 14, 1)}, ly;
  CHECK_OK(infer_network_add_layer(net, "ln", INFER_OP_LAYERNORM, &p, 3, lin, 1, NULL, &ly));
  CHECK_OK(infer_network_mark_output(net, unary(net, ly, INFER_UNARY_TANH, 0, 0)));
  out = check_pass(infer_pass_activation_fusion, net, 3);
  if (out) {
    CHECK(out->n_layers == 3);
    const InferLayer *d = find_op(out, INFER_OP_DECONV), *b = find_op(out, INFER_OP_BATCHNORM);
    const InferLayer *l = find_op(out, INFER_OP_LAYERNORM);
    CHECK(d && d->params.conv.activation.kind == INFER_UNARY_LEAKY_RELU);
    CHECK(b && b->params.norm.activation.kind == INFER_UNARY_CLIP);
    CHECK(b && b->params.norm.activation.beta == 1.5f);
    CHECK(l && l->params.norm.activation.kind == INFER_UNARY_TANH);
  }
  infer_network_release(out);
  infer_network_release(net);
}

static void test_activation_negative(void) {
  /* the conv output has two consumers */
  InferTensorId x;
  InferNetwork *net = net_with_input("x", &x, 4, img, "N");
  InferTensorId c = conv(net, x, 3, 4, 3, true, INFER_UNARY_NONE);
  CHECK_OK(infer_network_mark_output(net, unary(net, c, INFER_UNARY_RELU, 0, 0)));
  CHECK_OK(infer_network_mark_output(net, unary(net, c, INFER_UNARY_NEG, 0, 0)));
  infer_network_release(check_pass(infer_pass_activation_fusion, net, 0));
  infer_network_release(net);
  /* the conv output is a graph output too */
  net = net_with_input("x", &x, 4, img, "N");
  c = conv(net, x, 3, 4, 3, true, INFER_UNARY_NONE);
  CHECK_OK(infer_network_mark_output(net, c));
  CHECK_OK(infer_network_mark_output(net, unary(net, c, INFER_UNARY_RELU, 0, 0)));
  infer_network_release(check_pass(infer_pass_activation_fusion, net, 0));
  infer_network_release(net);
  /* already fused, or an activation the layers do not take */
  net = net_with_input("x", &x, 4, img, "N");
  c = conv(net, x, 3, 4, 3, true, INFER_UNARY_RELU);
  c = unary(net, c, INFER_UNARY_SIGMOID, 0, 0);
  c = unary(net, conv(net, c, 4, 4, 1, true, INFER_UNARY_NONE), INFER_UNARY_EXP, 0, 0);
  CHECK_OK(infer_network_mark_output(net, c));
  infer_network_release(check_pass(infer_pass_activation_fusion, net, 0));
  infer_network_release(net);
}

/* ---- residual ------------------------------------------------------------- */

static void test_residual(void) {
  /* Conv + Add(x) + Relu with a dynamic batch, with and without bias, both operand orders */
  for (int v = 0; v < 2; v++) {
    InferTensorId x;
    InferNetwork *net = net_with_input("x", &x, 4, img, "N");
    InferTensorId c = conv(net, x, 3, 3, 3, v == 0, INFER_UNARY_NONE);
    InferTensorId s = v == 0 ? bin(net, c, INFER_BINARY_ADD, x) : bin(net, x, INFER_BINARY_ADD, c);
    InferTensorId y = unary(net, s, INFER_UNARY_RELU, 0, 0);
    CHECK_OK(infer_network_mark_output(net, y));
    InferNetwork *out = check_pass(infer_pass_activation_fusion, net, 1);
    if (out) {
      CHECK(out->n_layers == 1);
      const InferLayer *l = &out->layers[0];
      CHECK(l->op == INFER_OP_CONV && l->params.conv.has_residual && l->n_inputs == 4);
      CHECK(l->params.conv.activation.kind == INFER_UNARY_RELU);
      CHECK(l->inputs[3] == out->inputs[0]);
      CHECK((l->inputs[2] == INFER_NO_TENSOR) == (v == 1));
      CHECK(strcmp(out->tensors[l->outputs[0]].name, net->tensors[y].name) == 0);
    }
    infer_network_release(out);
    infer_network_release(net);
  }
  /* the residual made after the conv (another conv + relu); no activation after the add */
  InferTensorId x;
  InferNetwork *net = net_with_input("x", &x, 4, img, "N");
  InferTensorId a = conv(net, x, 3, 4, 3, true, INFER_UNARY_NONE);
  InferTensorId b = conv(net, x, 3, 4, 1, true, INFER_UNARY_NONE);
  b = unary(net, b, INFER_UNARY_RELU, 0, 0);
  CHECK_OK(infer_network_mark_output(net, bin(net, a, INFER_BINARY_ADD, b)));
  InferNetwork *out = check_pass(infer_pass_activation_fusion, net, 2);
  if (out) {
    CHECK(out->n_layers == 2 && count_op(out, INFER_OP_CONV) == 2);
    CHECK(out->layers[1].params.conv.has_residual && !out->layers[0].params.conv.has_residual);
    CHECK(out->layers[1].params.conv.activation.kind == INFER_UNARY_NONE);
    CHECK(out->layers[0].params.conv.activation.kind == INFER_UNARY_RELU);
  }
  infer_network_release(out);
  infer_network_release(net);
  /* static shapes */
  static const int64_t fixed[4] = {2, 3, 5, 5};
  net = net_with_input("x", &x, 4, fixed, NULL);
  CHECK_OK(infer_network_mark_output(
      net, bin(net, conv(net, x, 3, 3, 3, true, INFER_UNARY_NONE), INFER_BINARY_ADD, x)));
  out = check_pass(infer_pass_activation_fusion, net, 1);
  if (out) CHECK(out->n_layers == 1 && out->layers[0].params.conv.has_residual);
  infer_network_release(out);
  infer_network_release(net);
}

static void test_residual_negative(void) {
  /* a broadcast operand [1, C, 1, 1] */
  InferTensorId x;
  InferNetwork *net = net_with_input("x", &x, 4, img, "N");
  int64_t bd[4] = {1, 4, 1, 1};
  CHECK_OK(infer_network_mark_output(
      net, bin(net, conv(net, x, 3, 4, 3, true, INFER_UNARY_NONE), INFER_BINARY_ADD,
               weights(net, 4, bd, 1))));
  infer_network_release(check_pass(infer_pass_activation_fusion, net, 0));
  infer_network_release(net);
  /* an operand whose batch is another input's (1 may broadcast against N) */
  net = net_with_input("x", &x, 4, img, "N");
  InferShape zs = infer_shape_make(4, img);
  InferTensorId z;
  CHECK_OK(infer_network_add_input(net, "z", INFER_DTYPE_F32, &zs, &z));
  CHECK_OK(infer_network_set_dim_name(net, z, 0, "M"));
  CHECK_OK(infer_network_mark_output(
      net, bin(net, conv(net, x, 3, 3, 3, true, INFER_UNARY_NONE), INFER_BINARY_ADD, z)));
  infer_network_release(check_pass(infer_pass_activation_fusion, net, 0));
  infer_network_release(net);
  /* the same with both named N: provably equal, fused */
  net = net_with_input("x", &x, 4, img, "N");
  CHECK_OK(infer_network_add_input(net, "z", INFER_DTYPE_F32, &zs, &z));
  CHECK_OK(infer_network_set_dim_name(net, z, 0, "N"));
  CHECK_OK(infer_network_mark_output(
      net, bin(net, conv(net, x, 3, 3, 3, true, INFER_UNARY_NONE), INFER_BINARY_ADD, z)));
  InferNetwork *out = check_pass(infer_pass_activation_fusion, net, 1);
  infer_network_release(out);
  infer_network_release(net);
  /* a conv whose output the Add reads twice */
  net = net_with_input("x", &x, 4, img, "N");
  InferTensorId c = conv(net, x, 3, 3, 3, true, INFER_UNARY_NONE);
  CHECK_OK(infer_network_mark_output(net, bin(net, c, INFER_BINARY_ADD, c)));
  infer_network_release(check_pass(infer_pass_activation_fusion, net, 0));
  infer_network_release(net);
}

/* ---- horizontal fusion ---------------------------------------------------- */

static void test_horizontal_conv(void) {
  static const int64_t dims[4] = {-1, 8, 5, 4};
  InferTensorId x;
  InferNetwork *net = net_with_input("x", &x, 4, dims, "N");
  InferTensorId a = conv(net, x, 8, 4, 1, true, INFER_UNARY_RELU);
  InferTensorId b = conv(net, x, 8, 6, 1, false, INFER_UNARY_RELU);
  InferTensorId k3 = conv(net, x, 8, 2, 3, true, INFER_UNARY_RELU);      /* 3x3: not merged */
  InferTensorId s = conv(net, x, 8, 3, 1, true, INFER_UNARY_SIGMOID);    /* another activation */
  InferTensorId c = conv(net, x, 8, 2, 1, true, INFER_UNARY_RELU);
  CHECK_OK(infer_network_mark_output(net, a));
  CHECK_OK(infer_network_mark_output(net, unary(net, b, INFER_UNARY_NEG, 0, 0)));
  CHECK_OK(infer_network_mark_output(net, k3));
  CHECK_OK(infer_network_mark_output(net, s));
  CHECK_OK(infer_network_mark_output(net, bin(net, c, INFER_BINARY_MUL, c)));
  InferNetwork *out = check_pass(infer_pass_horizontal_fusion, net, 1);
  if (out) {
    CHECK(out->n_layers == 6 && count_op(out, INFER_OP_CONV) == 3);
    CHECK(count_op(out, INFER_OP_SPLIT) == 1);
    const InferLayer *m = &out->layers[0], *sp = &out->layers[1];
    CHECK(m->op == INFER_OP_CONV && out->tensors[m->inputs[1]].shape.d[0] == 12);
    CHECK(m->n_inputs == 3 && m->params.conv.activation.kind == INFER_UNARY_RELU);
    CHECK(sp->op == INFER_OP_SPLIT && sp->n_outputs == 3 && sp->params.split.axis == 1);
    CHECK(strcmp(out->tensors[sp->outputs[0]].name, net->tensors[a].name) == 0);
    CHECK(strcmp(out->tensors[sp->outputs[2]].name, net->tensors[c].name) == 0);
  }
  infer_network_release(out);
  infer_network_release(net);
  /* only different-kernel or different-input siblings: left alone */
  net = net_with_input("x", &x, 4, dims, "N");
  CHECK_OK(infer_network_mark_output(net, conv(net, x, 8, 4, 1, true, INFER_UNARY_NONE)));
  CHECK_OK(infer_network_mark_output(net, conv(net, x, 8, 4, 3, true, INFER_UNARY_NONE)));
  InferTensorId y = unary(net, x, INFER_UNARY_NEG, 0, 0);
  CHECK_OK(infer_network_mark_output(net, conv(net, y, 8, 4, 1, true, INFER_UNARY_NONE)));
  infer_network_release(check_pass(infer_pass_horizontal_fusion, net, 0));
  infer_network_release(net);
}

static void test_horizontal_gemm(void) {
  static const int64_t rows[2] = {-1, 10};
  InferTensorId x;
  InferNetwork *net = net_with_input("x", &x, 2, rows, "N");
  InferTensorId outs[4];
  for (int c = 0; c < 4; c++) outs[c] = gemm(net, x, 10, 3 + c, c, INFER_UNARY_TANH);
  for (int c = 0; c < 4; c++) CHECK_OK(infer_network_mark_output(net, outs[c]));
  InferNetwork *out = check_pass(infer_pass_horizontal_fusion, net, 1);
  if (out) {
    CHECK(out->n_layers == 2);
    const InferLayer *g = find_op(out, INFER_OP_GEMM), *sp = find_op(out, INFER_OP_SPLIT);
    CHECK(g && out->tensors[g->inputs[1]].shape.d[0] == 18 && g->n_inputs == 3);
    CHECK(g && g->params.gemm.beta == 1.5f && g->params.gemm.alpha == 0.75f);
    CHECK(sp && sp->n_outputs == 4);
  }
  infer_network_release(out);
  infer_network_release(net);
  /* different activations: left alone */
  net = net_with_input("x", &x, 2, rows, "N");
  CHECK_OK(infer_network_mark_output(net, gemm(net, x, 10, 3, 1, INFER_UNARY_TANH)));
  CHECK_OK(infer_network_mark_output(net, gemm(net, x, 10, 3, 1, INFER_UNARY_RELU)));
  infer_network_release(check_pass(infer_pass_horizontal_fusion, net, 0));
  infer_network_release(net);
}

/* ---- the generated models ------------------------------------------------- */

/* The engine's network as the optimizer sees it (shapes as inferred when
 * layers are added: dynamic dims -1), with every BatchNormalization that
 * follows a conv folded into the conv's weights. */
static InferNetwork *optimizer_input(const InferNetwork *src) {
  InferUses u;
  InferRewrite rw;
  InferNetwork *out = NULL;
  CHECK_OK(infer_uses_build(src, &u));
  InferStatus *st = infer_rewrite_begin(&rw, src);
  for (int32_t l = 0; !st && l < src->n_layers; l++) {
    const InferLayer *c = &src->layers[l];
    int32_t b = c->op == INFER_OP_CONV ? infer_uses_single_consumer(&u, c->outputs[0]) : -1;
    const InferLayer *bn = b >= 0 ? &src->layers[b] : NULL;
    if (rw.done[l]) continue;
    if (!bn || bn->op != INFER_OP_BATCHNORM || c->params.conv.activation.kind != INFER_UNARY_NONE ||
        c->params.conv.has_residual || bn->inputs[0] != c->outputs[0]) {
      st = infer_rewrite_copy(&rw, l);
      continue;
    }
    const InferTensorDef *w = &src->tensors[c->inputs[1]];
    int64_t m = w->shape.d[0], per = infer_shape_numel(&w->shape) / m;
    const float *sc = src->tensors[bn->inputs[1]].data, *bb = src->tensors[bn->inputs[2]].data;
    const float *mean = src->tensors[bn->inputs[3]].data, *var = src->tensors[bn->inputs[4]].data;
    const float *bias = NULL, *wv = w->data;
    if (c->n_inputs > 2 && c->inputs[2] >= 0) bias = src->tensors[c->inputs[2]].data;
    float *nw = malloc(sizeof(float) * (size_t)(m * per)), *nb = malloc(sizeof(float) * (size_t)m);
    for (int64_t o = 0; o < m; o++) {
      double a = sc[o] / sqrt((double)var[o] + bn->params.norm.epsilon);
      for (int64_t i = 0; i < per; i++) nw[o * per + i] = (float)(wv[o * per + i] * a);
      nb[o] = (float)(((bias ? bias[o] : 0.0) - mean[o]) * a + bb[o]);
    }
    InferShape bs = {1, {m}};
    InferTensorId in[3];
    st = infer_rewrite_get(&rw, c->inputs[0], &in[0]);
    if (!st) st = infer_rewrite_constant(&rw, "folded_w", INFER_DTYPE_F32, &w->shape, nw, &in[1]);
    if (!st) st = infer_rewrite_constant(&rw, "folded_b", INFER_DTYPE_F32, &bs, nb, &in[2]);
    if (!st)
      st = infer_rewrite_emit(&rw, c->name, INFER_OP_CONV, &c->params, 3, in, 1, bn->outputs);
    free(nw);
    free(nb);
    rw.done[l] = rw.done[b] = true;
  }
  if (!st) st = infer_rewrite_finish(&rw, &out);
  infer_rewrite_free(&rw);
  infer_uses_free(&u);
  CHECK_OK(st);
  return out;
}

/* Layers after activation fusion with BN folded by hand, per model. */
static const struct {
  const char *name;
  int layers;
} expected[] = {
  {"cnn_classifier", 7},      /* conv+relu, pool, conv+relu, gap, flatten, gemm, softmax */
  {"residual_block", 5},      /* conv+relu, conv+x+relu; conv+relu, conv+sc+relu, conv(sc) */
  {"depthwise_separable", 10}, /* 3 per block tail, gap, SE convs, mul */
  {"static_shapes_mlp", 4},
  {"transformer_bits", 10},   /* LayerNorm and GELU recognized */
};

static void test_models(const char *dir) {
  DIR *d = opendir(dir);
  CHECK(d != NULL);
  if (!d) return;
  struct dirent *ent;
  int models = 0;
  while ((ent = readdir(d))) {
    if (ent->d_name[0] == '.') continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s/model.onnx", dir, ent->d_name);
    FILE *f = fopen(path, "rb");
    if (!f) continue;
    fclose(f);
    InferNetwork *parsed = NULL, *net = NULL, *pat = NULL, *fused = NULL, *wide = NULL;
    InferEngine *engine = NULL;
    CHECK_OK(infer_onnx_parse_file(path, &parsed));
    if (parsed) CHECK_OK(test_build_unoptimized(parsed, &engine));
    if (engine) net = optimizer_input(infer_engine_network(engine));
    if (!net) goto next;
    models++;
    int n0 = 0, n1 = 0, n2 = 0;
    /* in the optimizer's order: patterns, then fusion */
    CHECK_OK(infer_pass_pattern_recognition(&pass_ctx, net, &pat, &n0));
    const InferNetwork *cur = pat ? pat : net;
    CHECK_OK(infer_pass_activation_fusion(&pass_ctx, cur, &fused, &n1));
    cur = fused ? fused : cur;
    CHECK_OK(infer_pass_horizontal_fusion(&pass_ctx, cur, &wide, &n2));
    const InferNetwork *last = wide ? wide : cur;
    double e = compare_nets(net, last, 2), e1 = compare_nets(net, last, 1);
    CHECK(e <= 1e-6 && e1 <= 1e-6);
    int residuals = 0;
    for (int i = 0; i < last->n_layers; i++)
      residuals += last->layers[i].op == INFER_OP_CONV && last->layers[i].params.conv.has_residual;
    printf("  %s: %d patterns, %d fusions (%d residual), %d merges, layers %d -> %d, "
           "normalized error %.3g\n",
           ent->d_name, n0, n1, residuals, n2, net->n_layers, last->n_layers, e > e1 ? e : e1);
    for (size_t k = 0; k < sizeof expected / sizeof expected[0]; k++)
      if (strcmp(expected[k].name, ent->d_name) == 0) {
        CHECK(last->n_layers == expected[k].layers);
        if (last->n_layers != expected[k].layers)
          fprintf(stderr, "  %s: %d layers, %d expected\n", ent->d_name, last->n_layers,
                  expected[k].layers);
      }
    if (strcmp(ent->d_name, "residual_block") == 0) CHECK(residuals == 2);
  next:
    infer_network_release(wide);
    infer_network_release(fused);
    infer_network_release(pat);
    infer_network_release(net);
    infer_engine_release(engine);
    infer_network_release(parsed);
  }
  closedir(d);
  CHECK(models > 0);
}

int main(int argc, char **argv) {
  test_conv_activation();
  test_other_producers();
  test_activation_negative();
  test_residual();
  test_residual_negative();
  test_horizontal_conv();
  test_horizontal_gemm();
  if (argc > 1) test_models(argv[1]);
  TEST_MAIN_END("pass_fusion");
}
