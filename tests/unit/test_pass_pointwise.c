/* The pointwise-fusion pass: chains of elementwise layers become one
 * POINTWISE layer running a small program. Each rewrite is checked for its
 * structure (layers, program) and for computing what the chain computes
 * (CPU reference, normalized error <= 1e-6); graphs the pass must leave
 * alone are left alone. Also: the CPU kernel's program check, and the
 * channels-last pass carrying a POINTWISE layer along in NHWC. */
#include "cpu_kernels.h"
#include "pass_test_util.h"

static const InferLayer *find_op(const InferNetwork *net, InferOp op) {
  for (int32_t l = 0; l < net->n_layers; l++)
    if (net->layers[l].op == op) return &net->layers[l];
  return NULL;
}

static InferTensorId scalar(InferNetwork *net, const char *name, float v) {
  return constant_f32(net, name, 0, NULL, &v, 0);
}

static InferTensorId cast(InferNetwork *net, const char *out, InferTensorId x, InferDType to) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.cast.to = to;
  return layer(net, out, INFER_OP_CAST, &p, 1, &x);
}

static const int64_t D4[4] = {2, 3, 4, 5};

/* x -> relu -> sigmoid -> neg: one layer, three unary steps on input 0. */
static void test_unary_chain(void) {
  InferNetwork *net = new_net();
  InferTensorId x = input(net, "x", 4, D4);
  InferTensorId y = unary(net, "a", INFER_UNARY_RELU, x);
  y = unary(net, "b", INFER_UNARY_SIGMOID, y);
  y = unary(net, "y", INFER_UNARY_NEG, y);
  CHECK_OK(infer_network_mark_output(net, y));
  InferNetwork *out = check_rewrite(infer_pass_pointwise_fusion, net, 1, 1);
  const InferLayer *l = out ? find_op(out, INFER_OP_POINTWISE) : NULL;
  CHECK(l != NULL);
  if (l) {
    const InferPointwiseParams *p = &l->params.pointwise;
    CHECK(p->n_instrs == 3 && l->n_inputs == 1);
    CHECK(p->instrs[0].op == INFER_POINTWISE_UNARY && p->instrs[0].kind == INFER_UNARY_RELU);
    CHECK(p->instrs[0].a.kind == INFER_POINTWISE_INPUT && p->instrs[0].a.index == 0);
    CHECK(p->instrs[2].kind == INFER_UNARY_NEG && p->instrs[2].a.kind == INFER_POINTWISE_RESULT &&
          p->instrs[2].a.index == 1);
    CHECK(p->instrs[1].dtype == INFER_DTYPE_UNDEFINED); /* input 0's type */
    CHECK(strcmp(infer_network_tensor_name(out, l->outputs[0]), "y") == 0);
  }
  infer_network_release(out);
  infer_network_release(net);
}

/* Scalar constants become immediates; unary parameters travel along. */
static void test_scalars(void) {
  InferNetwork *net = new_net();
  InferTensorId x = input(net, "x", 4, D4);
  InferTensorId y = binary(net, "a", INFER_BINARY_MUL, x, scalar(net, "two", 2.0f));
  y = binary(net, "b", INFER_BINARY_SUB, scalar(net, "one", 1.0f), y); /* constant first */
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.unary = (InferUnaryParams){INFER_UNARY_LEAKY_RELU, 0.125f, 0};
  y = layer(net, "c", INFER_OP_UNARY, &p, 1, &y);
  y = binary(net, "y", INFER_BINARY_POW, y, scalar(net, "sq", 2.0f));
  CHECK_OK(infer_network_mark_output(net, y));
  InferNetwork *out = check_rewrite(infer_pass_pointwise_fusion, net, 1, 1);
  const InferLayer *l = out ? find_op(out, INFER_OP_POINTWISE) : NULL;
  CHECK(l && l->n_inputs == 1 && l->params.pointwise.n_instrs == 4);
  if (l) {
    const InferPointwiseInstr *in = l->params.pointwise.instrs;
    CHECK(in[0].b.kind == INFER_POINTWISE_SCALAR && in[0].b.value == 2.0f);
    CHECK(in[1].a.kind == INFER_POINTWISE_SCALAR && in[1].a.value == 1.0f);
    CHECK(in[1].b.kind == INFER_POINTWISE_RESULT && in[1].b.index == 0);
    CHECK(in[2].kind == INFER_UNARY_LEAKY_RELU && in[2].alpha == 0.125f);
  }
  infer_network_release(out);
  infer_network_release(net);
}

/* SiLU written out (x * sigmoid(x)), a second activation of the same shape
 * and per-channel constants: inputs x, y, scale, bias. */
static void test_operands(void) {
  InferNetwork *net = new_net();
  const int64_t d[4] = {1, 3, 4, 4}, c[3] = {3, 1, 1};
  InferTensorId x = input(net, "x", 4, d), y = input(net, "y", 4, d);
  InferTensorId s = unary(net, "s", INFER_UNARY_SIGMOID, x);
  InferTensorId t = binary(net, "silu", INFER_BINARY_MUL, x, s);
  t = binary(net, "sum", INFER_BINARY_ADD, t, y);
  t = binary(net, "scale", INFER_BINARY_MUL, t, constant_f32(net, "k", 3, c, NULL, NAN));
  t = binary(net, "bias", INFER_BINARY_ADD, t, constant_f32(net, "b", 3, c, NULL, NAN));
  t = binary(net, "out", INFER_BINARY_MAX, t, t); /* the previous result twice */
  CHECK_OK(infer_network_mark_output(net, t));
  InferNetwork *out = check_rewrite(infer_pass_pointwise_fusion, net, 1, 1);
  const InferLayer *l = out ? find_op(out, INFER_OP_POINTWISE) : NULL;
  CHECK(l && l->n_inputs == 4 && l->params.pointwise.n_instrs == 6);
  if (l) {
    const InferPointwiseInstr *in = l->params.pointwise.instrs;
    CHECK(in[1].a.kind == INFER_POINTWISE_INPUT && in[1].a.index == 0); /* x again */
    CHECK(in[5].a.kind == INFER_POINTWISE_RESULT && in[5].b.kind == INFER_POINTWISE_RESULT);
  }
  infer_network_release(out);
  infer_network_release(net);
}

/* Casts: f32 -> f16 -> sigmoid in f16 -> f32; steps round like the layers. */
static void test_casts(void) {
  InferNetwork *net = new_net();
  InferTensorId x = input(net, "x", 4, D4);
  InferTensorId y = unary(net, "a", INFER_UNARY_RELU, x);
  y = cast(net, "h", y, INFER_DTYPE_F16);
  y = unary(net, "s", INFER_UNARY_SIGMOID, y);
  y = cast(net, "y", y, INFER_DTYPE_F32);
  CHECK_OK(infer_network_mark_output(net, y));
  InferNetwork *out = check_rewrite(infer_pass_pointwise_fusion, net, 1, 1);
  const InferLayer *l = out ? find_op(out, INFER_OP_POINTWISE) : NULL;
  CHECK(l && l->params.pointwise.n_instrs == 4);
  if (l) {
    const InferPointwiseInstr *in = l->params.pointwise.instrs;
    CHECK(in[1].op == INFER_POINTWISE_UNARY && in[1].kind == INFER_UNARY_NONE &&
          in[1].dtype == INFER_DTYPE_F16);
    CHECK(in[2].dtype == INFER_DTYPE_F16 && in[3].dtype == INFER_DTYPE_UNDEFINED);
    CHECK(infer_network_tensor_dtype(out, l->outputs[0]) == INFER_DTYPE_F32);
  }
  infer_network_release(out);
  infer_network_release(net);
}

/* Limits: ten steps make a chain of eight and one of two; five activation
 * operands leave the fifth step out (4 inputs at most). */
static void test_limits(void) {
  InferNetwork *net = new_net();
  InferTensorId x = input(net, "x", 4, D4);
  InferTensorId y = x;
  char name[16];
  for (int i = 0; i < 10; i++) {
    snprintf(name, sizeof name, "u%d", i);
    y = unary(net, name, i % 2 ? INFER_UNARY_TANH : INFER_UNARY_SIN, y);
  }
  CHECK_OK(infer_network_mark_output(net, y));
  InferNetwork *out = check_rewrite(infer_pass_pointwise_fusion, net, 2, 2);
  CHECK(out && count_op(out, INFER_OP_POINTWISE) == 2);
  CHECK(out && out->layers[0].params.pointwise.n_instrs == INFER_POINTWISE_MAX_INSTRS);
  infer_network_release(out);
  infer_network_release(net);

  net = new_net();
  InferTensorId in[5];
  for (int i = 0; i < 5; i++) {
    snprintf(name, sizeof name, "x%d", i);
    in[i] = input(net, name, 4, D4);
  }
  y = unary(net, "r", INFER_UNARY_RELU, in[0]);
  for (int i = 1; i < 5; i++) {
    snprintf(name, sizeof name, "add%d", i);
    y = binary(net, name, INFER_BINARY_ADD, y, in[i]);
  }
  CHECK_OK(infer_network_mark_output(net, y));
  out = check_rewrite(infer_pass_pointwise_fusion, net, 2, 1);
  const InferLayer *l = out ? find_op(out, INFER_OP_POINTWISE) : NULL;
  CHECK(l && l->n_inputs == 4 && l->params.pointwise.n_instrs == 4);
  infer_network_release(out);
  infer_network_release(net);
}

/* A chain broken in the middle by a second reader: the two halves fuse
 * where they are long enough, never across the shared tensor. */
static void test_second_consumer(void) {
  InferNetwork *net = new_net();
  InferTensorId x = input(net, "x", 4, D4);
  InferTensorId a = unary(net, "a", INFER_UNARY_RELU, x);
  InferTensorId b = unary(net, "b", INFER_UNARY_SIGMOID, a);
  CHECK_OK(infer_network_mark_output(net, unary(net, "y", INFER_UNARY_NEG, b)));
  CHECK_OK(infer_network_mark_output(net, unary(net, "z", INFER_UNARY_ABS, a)));
  /* a has two readers: only sigmoid -> neg fuses */
  InferNetwork *out = check_rewrite(infer_pass_pointwise_fusion, net, 3, 1);
  const InferLayer *l = out ? find_op(out, INFER_OP_POINTWISE) : NULL;
  CHECK(l && l->params.pointwise.n_instrs == 2 && l->params.pointwise.instrs[0].kind ==
                                                       INFER_UNARY_SIGMOID);
  infer_network_release(out);
  infer_network_release(net);

  /* the middle tensor is a graph output: nothing to fuse */
  net = new_net();
  x = input(net, "x", 4, D4);
  a = unary(net, "a", INFER_UNARY_RELU, x);
  CHECK_OK(infer_network_mark_output(net, a));
  CHECK_OK(infer_network_mark_output(net, unary(net, "y", INFER_UNARY_SIGMOID, a)));
  check_untouched(infer_pass_pointwise_fusion, net);

  /* two readers, each a chain of one */
  net = new_net();
  x = input(net, "x", 4, D4);
  a = unary(net, "a", INFER_UNARY_RELU, x);
  CHECK_OK(infer_network_mark_output(net, unary(net, "y", INFER_UNARY_SIGMOID, a)));
  CHECK_OK(infer_network_mark_output(net, unary(net, "z", INFER_UNARY_TANH, a)));
  check_untouched(infer_pass_pointwise_fusion, net);
}

/* What the pass must leave alone. */
static void test_refused(void) {
  /* bool results, comparisons */
  InferNetwork *net = new_net();
  InferTensorId x = input(net, "x", 4, D4);
  InferTensorId a = unary(net, "a", INFER_UNARY_RELU, x);
  CHECK_OK(infer_network_mark_output(net, unary(net, "y", INFER_UNARY_IS_NAN, a)));
  check_untouched(infer_pass_pointwise_fusion, net);
  net = new_net();
  x = input(net, "x", 4, D4);
  a = unary(net, "a", INFER_UNARY_RELU, x);
  CHECK_OK(infer_network_mark_output(net, binary(net, "y", INFER_BINARY_GREATER, a, x)));
  check_untouched(infer_pass_pointwise_fusion, net);

  /* integers */
  net = new_net();
  InferShape s = infer_shape_make(4, D4);
  CHECK_OK(infer_network_add_input(net, "i", INFER_DTYPE_I32, &s, &x));
  a = unary(net, "a", INFER_UNARY_ABS, x);
  CHECK_OK(infer_network_mark_output(net, unary(net, "y", INFER_UNARY_NEG, a)));
  check_untouched(infer_pass_pointwise_fusion, net);

  /* a cast to an integer type ends a chain */
  net = new_net();
  x = input(net, "x", 4, D4);
  a = unary(net, "a", INFER_UNARY_RELU, x);
  CHECK_OK(infer_network_mark_output(net, cast(net, "y", a, INFER_DTYPE_I32)));
  check_untouched(infer_pass_pointwise_fusion, net);

  /* a step that grows the shape by broadcasting: [1,3,1,1] -> [1,3,4,4] */
  net = new_net();
  const int64_t small[4] = {1, 3, 1, 1}, big[4] = {1, 3, 4, 4};
  x = input(net, "x", 4, small);
  InferTensorId y = input(net, "y", 4, big);
  a = unary(net, "a", INFER_UNARY_RELU, x);
  CHECK_OK(infer_network_mark_output(net, binary(net, "z", INFER_BINARY_ADD, a, y)));
  check_untouched(infer_pass_pointwise_fusion, net);

  /* an integer exponent (Pow takes one) is no float operand */
  net = new_net();
  x = input(net, "x", 4, D4);
  a = unary(net, "a", INFER_UNARY_RELU, x);
  const int64_t two = 2;
  CHECK_OK(infer_network_mark_output(
      net, binary(net, "y", INFER_BINARY_POW, a, constant_i64(net, "e", 1, &two))));
  check_untouched(infer_pass_pointwise_fusion, net);

  /* Mod is not a program step */
  net = new_net();
  x = input(net, "x", 4, D4);
  a = unary(net, "a", INFER_UNARY_RELU, x);
  CHECK_OK(infer_network_mark_output(net, binary(net, "y", INFER_BINARY_MOD, a, x)));
  check_untouched(infer_pass_pointwise_fusion, net);
}

/* Dynamic dims: a chain whose layers all have [-1, 3, 4, 5] fuses (compared
 * with batch 2). */
static void test_dynamic(void) {
  InferNetwork *net = new_net();
  const int64_t d[4] = {-1, 3, 4, 5};
  InferTensorId x = input(net, "x", 4, d), y = input(net, "y", 4, d);
  InferTensorId a = unary(net, "a", INFER_UNARY_HARD_SWISH, x);
  a = binary(net, "b", INFER_BINARY_MUL, a, x);
  CHECK_OK(infer_network_mark_output(net, binary(net, "c", INFER_BINARY_DIV, a, y)));
  InferNetwork *out = check_rewrite(infer_pass_pointwise_fusion, net, 1, 1);
  infer_network_release(out);
  infer_network_release(net);
}

/* The program check (shape inference, plan loading and every backend's
 * supports use it) refuses broken programs. */
static bool program_ok(const InferPointwiseParams *prog, int n_in) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.pointwise = *prog;
  InferTensorView in[INFER_POINTWISE_MAX_INPUTS + 1], out;
  memset(in, 0, sizeof in);
  memset(&out, 0, sizeof out);
  for (int k = 0; k < n_in; k++) {
    in[k].dtype = INFER_DTYPE_F32;
    in[k].shape = infer_shape_make(4, D4);
  }
  InferOpCall call = {INFER_OP_POINTWISE, "pw", &p, in, n_in, &out, 1, 0};
  InferStatus *st = infer_pointwise_check(&call);
  bool ok = st == NULL;
  if (st) CHECK(infer_status_code(st) == INFER_ERR_INVALID_ARGUMENT);
  infer_status_free(st);
  return ok;
}

static void test_program_check(void) {
  InferPointwiseParams p;
  memset(&p, 0, sizeof p);
  p.n_instrs = 2;
  p.instrs[0] = (InferPointwiseInstr){INFER_POINTWISE_UNARY, INFER_UNARY_EXP, 0, 0, 0, 0,
                                      {INFER_POINTWISE_INPUT, 0, 0}, {0, 0, 0}};
  p.instrs[1] = (InferPointwiseInstr){INFER_POINTWISE_BINARY, INFER_BINARY_ADD, 0, 0, 0, 0,
                                      {INFER_POINTWISE_RESULT, 0, 0},
                                      {INFER_POINTWISE_INPUT, 0, 0}};
  CHECK(program_ok(&p, 1));
  CHECK(!program_ok(&p, 0));
  CHECK(!program_ok(&p, INFER_POINTWISE_MAX_INPUTS + 1));
  InferPointwiseParams bad = p;
  bad.instrs[0].a.index = 1; /* no input 1 */
  CHECK(!program_ok(&bad, 1));
  bad = p;
  bad.instrs[0].a = (InferPointwiseRef){INFER_POINTWISE_RESULT, 0, 0}; /* itself */
  CHECK(!program_ok(&bad, 1));
  bad = p;
  bad.instrs[1].kind = INFER_BINARY_EQUAL;
  CHECK(!program_ok(&bad, 1));
  bad = p;
  bad.instrs[0].kind = INFER_UNARY_IS_INF;
  CHECK(!program_ok(&bad, 1));
  bad = p;
  bad.instrs[0].op = 7;
  CHECK(!program_ok(&bad, 1));
  bad = p;
  bad.instrs[1].dtype = INFER_DTYPE_I32;
  CHECK(!program_ok(&bad, 1));
  bad = p;
  bad.n_instrs = INFER_POINTWISE_MAX_INSTRS + 1;
  CHECK(!program_ok(&bad, 1));
  bad.n_instrs = 0;
  CHECK(!program_ok(&bad, 1));
}

/* Channels-last (a GPU pass; the rewrite itself runs anywhere): Conv ->
 * pointwise(x * k + b, relu) -> Conv stays NHWC, no Transpose between. */
static void test_channels_last(void) {
  InferNetwork *net = new_net();
  const int64_t d[4] = {1, 4, 6, 6}, w[4] = {4, 4, 3, 3}, c[3] = {4, 1, 1};
  InferTensorId x = input(net, "x", 4, d);
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.conv.spatial = 2;
  p.conv.group = 1;
  p.conv.pads[0] = p.conv.pads[1] = p.conv.pads[2] = p.conv.pads[3] = 1;
  for (int i = 0; i < 2; i++) p.conv.strides[i] = p.conv.dilations[i] = 1;
  InferTensorId in[2] = {x, constant_f32(net, "w1", 4, w, NULL, NAN)};
  InferTensorId y = layer(net, "conv1", INFER_OP_CONV, &p, 2, in);
  y = binary(net, "scale", INFER_BINARY_MUL, y, constant_f32(net, "k", 3, c, NULL, NAN));
  y = binary(net, "shift", INFER_BINARY_ADD, y, constant_f32(net, "b", 3, c, NULL, NAN));
  y = unary(net, "act", INFER_UNARY_TANH, y);
  in[0] = y;
  in[1] = constant_f32(net, "w2", 4, w, NULL, NAN);
  y = layer(net, "conv2", INFER_OP_CONV, &p, 2, in);
  CHECK_OK(infer_network_mark_output(net, y));
  int changes;
  InferNetwork *fused = run_pass(infer_pass_pointwise_fusion, net, &changes);
  CHECK(fused && changes == 1);
  InferBuildConfig *cfg = NULL;
  CHECK_OK(infer_build_config_create(&cfg));
  InferPassContext gpu = {INFER_BACKEND_CUDA, cfg};
  InferNetwork *nhwc = NULL;
  CHECK_OK(infer_pass_channels_last(&gpu, fused, &nhwc, &changes));
  CHECK(nhwc != NULL);
  if (nhwc) {
    /* one Transpose in (x), one out (the output); the pointwise layer between */
    CHECK(count_op(nhwc, INFER_OP_TRANSPOSE) == 2);
    const InferLayer *l = find_op(nhwc, INFER_OP_POINTWISE);
    CHECK(l && infer_network_tensor_shape(nhwc, l->outputs[0]).d[3] == 4);
    double err = compare_networks(net, nhwc);
    CHECK(err <= 1e-6);
    if (!(err <= 1e-6)) fprintf(stderr, "  channels-last: normalized error %g\n", err);
  }
  infer_network_release(nhwc);
  infer_network_release(fused);
  infer_build_config_release(cfg);
  infer_network_release(net);
}

int main(void) {
  test_unary_chain();
  test_scalars();
  test_operands();
  test_casts();
  test_limits();
  test_second_consumer();
  test_refused();
  test_dynamic();
  test_program_check();
  test_channels_last();
  TEST_MAIN_END("pass_pointwise");
}
