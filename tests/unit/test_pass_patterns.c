/* The pattern-recognition pass: decomposed SiLU, GELU (erf and tanh forms),
 * HardSwish, Mish, LayerNorm and Softmax become one layer; the rewritten
 * network computes what the original does (CPU reference, normalized error
 * <= 1e-6); near misses are left alone. With a directory argument (the
 * output of tests/models/generate_models.py) the pass also runs over every
 * generated model. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "infer/infer.h"
#include "passes/passes.h"
#include "pass_run_util.h"

/* ---- running and comparing networks --------------------------------------- */

static const InferPassContext pass_ctx = {INFER_BACKEND_CPU, NULL};

/* Runs the pass; checks that it rewrote `want` times (0: left alone) and
 * that the result computes the same. Returns the new network (or NULL). */
static InferNetwork *check_pass(InferNetwork *net, int want) {
  InferNetwork *out = NULL;
  int changes = -1;
  CHECK_OK(infer_pass_pattern_recognition(&pass_ctx, net, &out, &changes));
  CHECK(changes == want);
  CHECK((out != NULL) == (want > 0));
  if (out) {
    double e1 = compare_nets(net, out, 1), e2 = compare_nets(net, out, 3);
    CHECK(e1 <= 1e-6);
    CHECK(e2 <= 1e-6);
    if (!(e1 <= 1e-6) || !(e2 <= 1e-6)) fprintf(stderr, "  normalized errors %g %g\n", e1, e2);
  }
  return out;
}

static int count_op(const InferNetwork *net, InferOp op, int kind) {
  int n = 0;
  for (int i = 0; i < net->n_layers; i++) {
    const InferLayer *l = &net->layers[i];
    if (l->op != op) continue;
    if (kind >= 0 && op == INFER_OP_UNARY && (int)l->params.unary.kind != kind) continue;
    n++;
  }
  return n;
}

/* ---- building blocks ------------------------------------------------------ */

static InferNetwork *net_with_input(InferTensorId *x, int rank, const int64_t *dims) {
  InferNetwork *net;
  CHECK_OK(infer_network_create(&net));
  InferShape s = infer_shape_make(rank, dims);
  CHECK_OK(infer_network_add_input(net, "x", INFER_DTYPE_F32, &s, x));
  for (int d = 0; d < rank; d++)
    if (dims[d] < 0) CHECK_OK(infer_network_set_dim_name(net, *x, d, "N"));
  return net;
}

static int const_counter;

static InferTensorId scalar(InferNetwork *net, float v) {
  InferTensorId t;
  InferShape s = {0, {0}};
  char name[32];
  snprintf(name, sizeof name, "const%d", const_counter++);
  CHECK_OK(infer_network_add_constant(net, name, INFER_DTYPE_F32, &s, &v, &t));
  return t;
}

static InferTensorId axes1(InferNetwork *net, int64_t axis) {
  InferTensorId t;
  InferShape s = {1, {1}};
  char name[32];
  snprintf(name, sizeof name, "axes%d", const_counter++);
  CHECK_OK(infer_network_add_constant(net, name, INFER_DTYPE_I64, &s, &axis, &t));
  return t;
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

static InferTensorId reduce(InferNetwork *net, InferTensorId x, InferReduceKind k, int64_t axis) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.reduce.kind = k;
  p.reduce.keepdims = true;
  InferTensorId in[2] = {x, axes1(net, axis)}, y;
  CHECK_OK(infer_network_add_layer(net, NULL, INFER_OP_REDUCE, &p, 2, in, 1, NULL, &y));
  return y;
}

static const int64_t dims_2d[2] = {-1, 37};

/* ---- SiLU ----------------------------------------------------------------- */

static void test_silu(void) {
  for (int order = 0; order < 2; order++) {
    InferTensorId x;
    InferNetwork *net = net_with_input(&x, 2, dims_2d);
    InferTensorId s = unary(net, x, INFER_UNARY_SIGMOID, 0, 0);
    CHECK_OK(infer_network_mark_output(net, order ? bin(net, s, INFER_BINARY_MUL, x)
                                                  : bin(net, x, INFER_BINARY_MUL, s)));
    InferNetwork *out = check_pass(net, 1);
    if (out) {
      CHECK(out->n_layers == 1 && count_op(out, INFER_OP_UNARY, INFER_UNARY_SILU) == 1);
      /* the graph output keeps its name */
      CHECK(strcmp(out->tensors[out->outputs[0]].name, net->tensors[net->outputs[0]].name) == 0);
    }
    infer_network_release(out);
    infer_network_release(net);
  }
  /* the sigmoid is also read elsewhere: left alone */
  InferTensorId x;
  InferNetwork *net = net_with_input(&x, 2, dims_2d);
  InferTensorId s = unary(net, x, INFER_UNARY_SIGMOID, 0, 0);
  CHECK_OK(infer_network_mark_output(net, bin(net, x, INFER_BINARY_MUL, s)));
  CHECK_OK(infer_network_mark_output(net, unary(net, s, INFER_UNARY_NEG, 0, 0)));
  infer_network_release(check_pass(net, 0));
  infer_network_release(net);
  /* sigmoid(y) * x with y != x: no SiLU */
  net = net_with_input(&x, 2, dims_2d);
  s = unary(net, unary(net, x, INFER_UNARY_NEG, 0, 0), INFER_UNARY_SIGMOID, 0, 0);
  CHECK_OK(infer_network_mark_output(net, bin(net, x, INFER_BINARY_MUL, s)));
  infer_network_release(check_pass(net, 0));
  infer_network_release(net);
}

/* ---- GELU ----------------------------------------------------------------- */

/* variant 0: (x * 0.5) * (1 + erf(x / 1.4142135))
 *         1: (x * (erf(x * 0.70710677) + 1)) * 0.5
 *         2: x * ((1 + erf(0.70710677 * x)) * 0.5)
 * scale_value replaces 1/sqrt(2) (a near miss when wrong). */
static InferNetwork *gelu_erf_net(int variant, float scale_value) {
  InferTensorId x;
  InferNetwork *net = net_with_input(&x, 2, dims_2d);
  InferTensorId s = variant == 0 ? bin(net, x, INFER_BINARY_DIV, scalar(net, 1.0f / scale_value))
                  : variant == 1 ? bin(net, x, INFER_BINARY_MUL, scalar(net, scale_value))
                                 : bin(net, scalar(net, scale_value), INFER_BINARY_MUL, x);
  InferTensorId e = unary(net, s, INFER_UNARY_ERF, 0, 0), y;
  InferTensorId a = variant == 1 ? bin(net, e, INFER_BINARY_ADD, scalar(net, 1))
                                 : bin(net, scalar(net, 1), INFER_BINARY_ADD, e);
  if (variant == 0)
    y = bin(net, bin(net, x, INFER_BINARY_MUL, scalar(net, 0.5f)), INFER_BINARY_MUL, a);
  else if (variant == 1)
    y = bin(net, bin(net, x, INFER_BINARY_MUL, a), INFER_BINARY_MUL, scalar(net, 0.5f));
  else
    y = bin(net, x, INFER_BINARY_MUL, bin(net, a, INFER_BINARY_MUL, scalar(net, 0.5f)));
  CHECK_OK(infer_network_mark_output(net, y));
  return net;
}

/* 0.5 * x * (1 + tanh(0.7978846 * (x + 0.044715 * x^3))), x^3 as Pow or x * (x * x). */
static InferNetwork *gelu_tanh_net(bool use_pow, float cubic) {
  InferTensorId x;
  InferNetwork *net = net_with_input(&x, 2, dims_2d);
  InferTensorId cube = use_pow ? bin(net, x, INFER_BINARY_POW, scalar(net, 3))
                               : bin(net, x, INFER_BINARY_MUL, bin(net, x, INFER_BINARY_MUL, x));
  InferTensorId inner = bin(net, scalar(net, cubic), INFER_BINARY_MUL, cube);
  inner = bin(net, x, INFER_BINARY_ADD, inner);
  InferTensorId t = unary(net, bin(net, scalar(net, 0.7978845608f), INFER_BINARY_MUL, inner),
                          INFER_UNARY_TANH, 0, 0);
  InferTensorId a = bin(net, scalar(net, 1), INFER_BINARY_ADD, t);
  InferTensorId y = bin(net, bin(net, x, INFER_BINARY_MUL, scalar(net, 0.5f)), INFER_BINARY_MUL, a);
  CHECK_OK(infer_network_mark_output(net, y));
  return net;
}

static void test_gelu(void) {
  for (int v = 0; v < 3; v++) {
    InferNetwork *net = gelu_erf_net(v, 0.70710677f);
    InferNetwork *out = check_pass(net, 1);
    if (out) {
      CHECK(out->n_layers == 1 && count_op(out, INFER_OP_UNARY, INFER_UNARY_GELU) == 1);
      CHECK(out->layers[0].params.unary.alpha == 0.0f);
    }
    infer_network_release(out);
    infer_network_release(net);
  }
  /* 0.7 is not 1/sqrt(2) */
  InferNetwork *net = gelu_erf_net(1, 0.7f);
  infer_network_release(check_pass(net, 0));
  infer_network_release(net);
  for (int p = 0; p < 2; p++) {
    net = gelu_tanh_net(p, 0.044715f);
    InferNetwork *out = check_pass(net, 1);
    if (out) {
      CHECK(out->n_layers == 1 && count_op(out, INFER_OP_UNARY, INFER_UNARY_GELU) == 1);
      CHECK(out->layers[0].params.unary.alpha == 1.0f);
    }
    infer_network_release(out);
    infer_network_release(net);
  }
  net = gelu_tanh_net(true, 0.05f);
  infer_network_release(check_pass(net, 0));
  infer_network_release(net);
}

/* ---- HardSwish, Mish ------------------------------------------------------ */

static void test_hard_swish_mish(void) {
  for (int v = 0; v < 4; v++) {
    InferTensorId x, y;
    InferNetwork *net = net_with_input(&x, 2, dims_2d);
    if (v == 0) {
      y = bin(net, x, INFER_BINARY_MUL, unary(net, x, INFER_UNARY_HARD_SIGMOID, 1.0f / 6, 0.5f));
    } else {
      InferTensorId c = unary(net, bin(net, x, INFER_BINARY_ADD, scalar(net, 3)),
                              INFER_UNARY_CLIP, 0, 6);
      if (v == 1) y = bin(net, bin(net, x, INFER_BINARY_MUL, c), INFER_BINARY_DIV, scalar(net, 6));
      else if (v == 2)
        y = bin(net, bin(net, c, INFER_BINARY_MUL, x), INFER_BINARY_MUL, scalar(net, 1.0f / 6));
      else y = bin(net, x, INFER_BINARY_MUL, bin(net, c, INFER_BINARY_DIV, scalar(net, 6)));
    }
    CHECK_OK(infer_network_mark_output(net, y));
    InferNetwork *out = check_pass(net, 1);
    if (out)
      CHECK(out->n_layers == 1 && count_op(out, INFER_OP_UNARY, INFER_UNARY_HARD_SWISH) == 1);
    infer_network_release(out);
    infer_network_release(net);
  }
  /* HardSigmoid with the ONNX default alpha 0.2 is not HardSwish's */
  InferTensorId x;
  InferNetwork *net = net_with_input(&x, 2, dims_2d);
  CHECK_OK(infer_network_mark_output(
      net, bin(net, x, INFER_BINARY_MUL, unary(net, x, INFER_UNARY_HARD_SIGMOID, 0.2f, 0.5f))));
  infer_network_release(check_pass(net, 0));
  infer_network_release(net);
  /* Mish: x * tanh(softplus(x)), softplus also as log(exp(x) + 1) */
  for (int v = 0; v < 2; v++) {
    net = net_with_input(&x, 2, dims_2d);
    InferTensorId sp = v == 0 ? unary(net, x, INFER_UNARY_SOFTPLUS, 0, 0)
                              : unary(net, bin(net, unary(net, x, INFER_UNARY_EXP, 0, 0),
                                               INFER_BINARY_ADD, scalar(net, 1)),
                                      INFER_UNARY_LOG, 0, 0);
    CHECK_OK(infer_network_mark_output(
        net, bin(net, unary(net, sp, INFER_UNARY_TANH, 0, 0), INFER_BINARY_MUL, x)));
    InferNetwork *out = check_pass(net, 1);
    if (out) CHECK(out->n_layers == 1 && count_op(out, INFER_OP_UNARY, INFER_UNARY_MISH) == 1);
    infer_network_release(out);
    infer_network_release(net);
  }
}

/* ---- LayerNorm ------------------------------------------------------------ */

/* x [N, 5, 16]; form 0: Pow, Div, * gamma + beta; form 1: d * d,
 * Reciprocal, no affine; form 2: beta only. reduce_axis -1 normally. */
static InferNetwork *layernorm_net(int form, int64_t reduce_axis, bool mean_is_output) {
  static const int64_t dims[3] = {-1, 5, 16};
  InferTensorId x;
  InferNetwork *net = net_with_input(&x, 3, dims);
  InferTensorId mean = reduce(net, x, INFER_REDUCE_MEAN, reduce_axis);
  InferTensorId d = bin(net, x, INFER_BINARY_SUB, mean);
  InferTensorId sq = form == 1 ? bin(net, d, INFER_BINARY_MUL, d)
                               : bin(net, d, INFER_BINARY_POW, scalar(net, 2));
  InferTensorId var = reduce(net, sq, INFER_REDUCE_MEAN, reduce_axis);
  InferTensorId sd = unary(net, bin(net, var, INFER_BINARY_ADD, scalar(net, 1e-5f)),
                           INFER_UNARY_SQRT, 0, 0);
  InferTensorId y = form == 1 ? bin(net, unary(net, sd, INFER_UNARY_RECIPROCAL, 0, 0),
                                    INFER_BINARY_MUL, d)
                              : bin(net, d, INFER_BINARY_DIV, sd);
  float gamma[16], beta[16];
  for (int i = 0; i < 16; i++) {
    gamma[i] = 0.5f + 0.0625f * i;
    beta[i] = 0.1f * (float)(i - 8);
  }
  InferShape gs = {1, {16}};
  InferTensorId g, b;
  CHECK_OK(infer_network_add_constant(net, "gamma", INFER_DTYPE_F32, &gs, gamma, &g));
  CHECK_OK(infer_network_add_constant(net, "beta", INFER_DTYPE_F32, &gs, beta, &b));
  if (form == 0) y = bin(net, g, INFER_BINARY_MUL, y);
  if (form != 1) y = bin(net, y, INFER_BINARY_ADD, b);
  CHECK_OK(infer_network_mark_output(net, y));
  if (mean_is_output) CHECK_OK(infer_network_mark_output(net, mean));
  return net;
}

static void test_layernorm(void) {
  for (int form = 0; form < 3; form++) {
    InferNetwork *net = layernorm_net(form, -1, false);
    InferNetwork *out = check_pass(net, 1);
    if (out) {
      CHECK(out->n_layers == 1 && out->layers[0].op == INFER_OP_LAYERNORM);
      const InferLayer *ln = &out->layers[0];
      CHECK(ln->params.norm.axis == -1 && fabsf(ln->params.norm.epsilon - 1e-5f) < 1e-12f);
      CHECK(ln->n_inputs == 3 && ln->inputs[1] != INFER_NO_TENSOR);
      CHECK((ln->inputs[2] != INFER_NO_TENSOR) == (form != 1));
      if (form == 0) CHECK(strcmp(out->tensors[ln->inputs[1]].name, "gamma") == 0);
      if (form == 2) CHECK(((const float *)out->tensors[ln->inputs[1]].data)[15] == 1.0f);
    }
    infer_network_release(out);
    infer_network_release(net);
  }
  /* normalizing over another axis, or an intermediate read elsewhere: left alone */
  InferNetwork *net = layernorm_net(0, 1, false);
  infer_network_release(check_pass(net, 0));
  infer_network_release(net);
  net = layernorm_net(0, -1, true);
  infer_network_release(check_pass(net, 0));
  infer_network_release(net);
}

/* ---- Softmax -------------------------------------------------------------- */

static InferNetwork *softmax_net(bool with_max, int64_t axis, int64_t sum_axis) {
  static const int64_t dims[3] = {-1, 7, 3};
  InferTensorId x;
  InferNetwork *net = net_with_input(&x, 3, dims);
  InferTensorId s = x;
  if (with_max) s = bin(net, x, INFER_BINARY_SUB, reduce(net, x, INFER_REDUCE_MAX, axis));
  InferTensorId e = unary(net, s, INFER_UNARY_EXP, 0, 0);
  CHECK_OK(infer_network_mark_output(
      net, bin(net, e, INFER_BINARY_DIV, reduce(net, e, INFER_REDUCE_SUM, sum_axis))));
  return net;
}

static void test_softmax(void) {
  for (int v = 0; v < 3; v++) {
    int64_t axis = v == 2 ? -1 : 1;
    InferNetwork *net = softmax_net(v != 1, axis, axis);
    InferNetwork *out = check_pass(net, 1);
    if (out) {
      CHECK(out->n_layers == 1 && out->layers[0].op == INFER_OP_SOFTMAX);
      CHECK(out->layers[0].params.softmax.axis == (v == 2 ? 2 : 1));
      CHECK(!out->layers[0].params.softmax.coerce_2d);
    }
    infer_network_release(out);
    infer_network_release(net);
  }
  /* the max over one axis, the sum over another */
  InferNetwork *net = softmax_net(true, 1, 2);
  infer_network_release(check_pass(net, 0));
  infer_network_release(net);
}

/* Two patterns in a row, and SiLU on a conv-like chain: both rewritten. */
static void test_several(void) {
  InferTensorId x;
  InferNetwork *net = net_with_input(&x, 2, dims_2d);
  InferTensorId s = bin(net, x, INFER_BINARY_MUL, unary(net, x, INFER_UNARY_SIGMOID, 0, 0));
  InferTensorId hs = unary(net, s, INFER_UNARY_HARD_SIGMOID, 1.0f / 6, 0.5f);
  InferTensorId h = bin(net, s, INFER_BINARY_MUL, hs);
  CHECK_OK(infer_network_mark_output(net, unary(net, h, INFER_UNARY_NEG, 0, 0)));
  InferNetwork *out = check_pass(net, 2);
  if (out) {
    CHECK(out->n_layers == 3);
    CHECK(count_op(out, INFER_OP_UNARY, INFER_UNARY_SILU) == 1);
    CHECK(count_op(out, INFER_OP_UNARY, INFER_UNARY_HARD_SWISH) == 1);
  }
  infer_network_release(out);
  infer_network_release(net);
}

/* ---- the generated models ------------------------------------------------- */

/* The engine's network as the optimizer sees it: shapes as inferred when
 * layers are added (dynamic dims -1). */
static InferNetwork *optimizer_input(const InferNetwork *engine_net) {
  InferRewrite rw;
  InferNetwork *out = NULL;
  InferStatus *st = infer_rewrite_begin(&rw, engine_net);
  if (!st) {
    st = infer_rewrite_copy_rest(&rw);
    if (!st) st = infer_rewrite_finish(&rw, &out);
    infer_rewrite_free(&rw);
  }
  CHECK_OK(st);
  return out;
}

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
    InferNetwork *parsed = NULL, *net = NULL, *out = NULL;
    InferEngine *engine = NULL;
    CHECK_OK(infer_onnx_parse_file(path, &parsed));
    if (parsed) CHECK_OK(test_build_unoptimized(parsed, &engine));
    if (engine) net = optimizer_input(infer_engine_network(engine));
    int changes = 0;
    if (net) CHECK_OK(infer_pass_pattern_recognition(&pass_ctx, net, &out, &changes));
    models++;
    if (out) {
      double e = compare_nets(net, out, 2);
      CHECK(e <= 1e-6);
      CHECK(out->n_layers < net->n_layers);
      printf("  %s: %d patterns, layers %d -> %d, normalized error %.3g\n", ent->d_name, changes,
             net->n_layers, out->n_layers, e);
    } else if (net) {
      printf("  %s: no patterns (%d layers)\n", ent->d_name, net->n_layers);
    }
    if (strcmp(ent->d_name, "transformer_bits") == 0) {
      /* the spelled-out LayerNorm and the erf GELU */
      CHECK(out && count_op(out, INFER_OP_LAYERNORM, -1) == 1);
      CHECK(out && count_op(out, INFER_OP_UNARY, INFER_UNARY_GELU) == 1);
      CHECK(changes == 2);
    }
    infer_network_release(out);
    infer_network_release(net);
    infer_engine_release(engine);
    infer_network_release(parsed);
  }
  closedir(d);
  CHECK(models > 0);
}

int main(int argc, char **argv) {
  test_silu();
  test_gelu();
  test_hard_swish_mish();
  test_layernorm();
  test_softmax();
  test_several();
  if (argc > 1) test_models(argv[1]);
  TEST_MAIN_END("pass_patterns");
}
