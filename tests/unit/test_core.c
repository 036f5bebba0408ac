/* The core API: op tables, network building, engine build and run, dynamic
 * shapes, folding of shape sub-graphs and constants, and error messages. */
#include <math.h>
#include <string.h>

#include "cpu_kernels.h"
#include "infer/infer.h"
#include "op_table.h"
#include "batch_flatten.h"
#include "cpu_engine.h"
#include "test_util.h"

static void test_tables_cover_every_op(void) {
  for (int op = 0; op < INFER_OP_COUNT; op++) {
    const InferOpInfo *info = infer_op_info((InferOp)op);
    CHECK(info != NULL);
    if (!info) continue;
    CHECK(info->name != NULL && info->infer_shape != NULL);
    const InferCpuKernel *k = infer_cpu_kernel((InferOp)op);
    CHECK(k != NULL && k->supports != NULL && k->run != NULL);
  }
  CHECK(infer_op_info(INFER_OP_COUNT) == NULL);
}

static void test_status(void) {
  InferStatus *st = infer_status_new(INFER_ERR_IO, "cannot open '%s'", "x.onnx");
  CHECK(infer_status_code(st) == INFER_ERR_IO);
  st = infer_status_prefix(st, "loading %s", "model");
  CHECK(strcmp(infer_status_message(st), "loading model: cannot open 'x.onnx'") == 0);
  infer_status_free(st);
  CHECK(infer_status_code(NULL) == INFER_OK);
  CHECK(strcmp(infer_status_message(NULL), "") == 0);
  infer_status_free(NULL);
}

static void test_half(void) {
  CHECK(infer_float_to_half(1.0f) == 0x3c00);
  CHECK(infer_float_to_half(-2.0f) == 0xc000);
  CHECK(infer_float_to_half(65504.0f) == 0x7bff);
  CHECK(infer_float_to_half(1e6f) == 0x7c00);
  CHECK(infer_half_to_float(0x3555) == 0.333251953125f);
  CHECK(infer_half_to_float(0x0001) == 5.9604644775390625e-8f);
  CHECK(infer_float_to_half(infer_half_to_float(0x0001)) == 0x0001);
  /* halfway between 1 and the next half rounds to even (1.0) */
  CHECK(infer_float_to_half(1.0f + 1.0f / 2048.0f) == 0x3c00);
}

/* x [N,4] -> +1 -> relu -> fully connected (2 outputs) -> softmax */
static InferNetwork *small_mlp(void) {
  InferNetwork *net;
  CHECK_OK(infer_network_create(&net));
  InferShape s = {2, {-1, 4}};
  InferTensorId x, one, h, r, w, b, fc, y;
  CHECK_OK(infer_network_add_input(net, "x", INFER_DTYPE_F32, &s, &x));
  CHECK_OK(infer_network_set_dim_name(net, x, 0, "N"));
  float one_v = 1.0f;
  InferShape scalar = {0, {0}};
  CHECK_OK(infer_network_add_constant(net, "one", INFER_DTYPE_F32, &scalar, &one_v, &one));
  CHECK_OK(infer_network_add_elementwise(net, "add", x, one, INFER_BINARY_ADD, &h));
  CHECK_OK(infer_network_add_activation(net, "relu", h, INFER_UNARY_RELU, 0, 0, &r));
  float wv[8] = {1, 1, 1, 1, 1, 0, -1, 0}, bv[2] = {0.5f, 0};
  InferShape ws = {2, {2, 4}}, bs = {1, {2}};
  CHECK_OK(infer_network_add_constant(net, "w", INFER_DTYPE_F32, &ws, wv, &w));
  CHECK_OK(infer_network_add_constant(net, "b", INFER_DTYPE_F32, &bs, bv, &b));
  CHECK_OK(infer_network_add_fully_connected(net, "fc", r, w, b, &fc));
  CHECK_OK(infer_network_add_softmax(net, "softmax", fc, -1, &y));
  CHECK_OK(infer_network_mark_output(net, y));
  return net;
}

static void test_build_and_run(void) {
  InferNetwork *net = small_mlp();
  InferEngine *engine = NULL;
  CHECK_OK(test_build_cpu(net, &engine));
  infer_network_release(net);
  if (!engine) return;
  CHECK(infer_engine_num_io(engine) == 2);
  CHECK(strcmp(infer_engine_io_name(engine, 0), "x") == 0);
  CHECK(infer_engine_io_is_input(engine, 0) && !infer_engine_io_is_input(engine, 1));
  InferShape decl = infer_engine_io_shape(engine, 1);
  CHECK(decl.rank == 2 && decl.d[0] == -1 && decl.d[1] == 2);
  CHECK(infer_engine_io_dtype(engine, 1) == INFER_DTYPE_F32);

  InferContext *ctx;
  InferStream *stream;
  CHECK_OK(infer_context_create(engine, &ctx));
  CHECK_OK(infer_stream_create(engine, &stream));
  /* batch 3: rows give relu(x+1) = [2,0,4,0], [0,0,0,0], [1,1,1,1] */
  float x[12] = {1, -2, 3, -4, -1, -1, -1, -1, 0, 0, 0, 0};
  float y[6] = {0};
  InferShape s3 = {2, {3, 4}};
  CHECK_OK(infer_context_set_input_shape(ctx, "x", &s3));
  InferShape out_shape;
  CHECK_OK(infer_context_get_tensor_shape(ctx, "softmax:0", &out_shape));
  CHECK_OK(infer_context_set_tensor_address(ctx, "x", x));
  CHECK_OK(infer_context_set_tensor_address(ctx, "softmax:0", y));
  CHECK_OK(infer_context_enqueue(ctx, stream));
  CHECK_OK(infer_stream_synchronize(stream));
  double logits[3][2] = {{6.5, -2}, {0.5, 0}, {4.5, 0}};
  for (int r = 0; r < 3; r++) {
    double e0 = exp(logits[r][0]), e1 = exp(logits[r][1]);
    CHECK_NEAR(y[2 * r], e0 / (e0 + e1), 1e-6);
    CHECK_NEAR(y[2 * r + 1], e1 / (e0 + e1), 1e-6);
  }
  /* batch 1 reuses the context */
  InferShape s1 = {2, {1, 4}};
  CHECK_OK(infer_context_set_input_shape(ctx, "x", &s1));
  CHECK_OK(infer_context_get_tensor_shape(ctx, "softmax:0", &out_shape));
  CHECK(out_shape.rank == 2 && out_shape.d[0] == 1 && out_shape.d[1] == 2);
  CHECK_OK(infer_context_enqueue(ctx, stream));
  CHECK_NEAR(y[0], exp(6.5) / (exp(6.5) + exp(-2.0)), 1e-6);

  char msg[512];
  InferShape bad = {3, {1, 4, 1}};
  CHECK_FAILS(infer_context_set_input_shape(ctx, "x", &bad), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK(strstr(msg, "'x'") != NULL);
  CHECK_FAILS(infer_context_set_tensor_address(ctx, "nope", x), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK(strstr(msg, "'nope'") != NULL);
  CHECK_OK(infer_context_set_tensor_address(ctx, "x", NULL));
  CHECK_FAILS(infer_context_enqueue(ctx, stream), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK(strstr(msg, "input 'x' has no address") != NULL);
  infer_stream_release(stream);
  infer_context_release(ctx);
  infer_engine_release(engine);
}

/* Shape(x) -> Gather(0) -> Unsqueeze -> Concat([-1]) -> Reshape(x): the
 * pattern exporters emit for a flatten that keeps the batch dimension. */
static void test_shape_subgraph(void) {
  InferNetwork *net;
  CHECK_OK(infer_network_create(&net));
  InferShape s = {3, {-1, 2, 3}};
  InferTensorId x, y;
  CHECK_OK(infer_network_add_input(net, "x", INFER_DTYPE_F32, &s, &x));
  y = add_batch_flatten(net, x, "reshape");
  CHECK_OK(infer_network_mark_output(net, y));
  InferEngine *engine = NULL;
  CHECK_OK(test_build_cpu(net, &engine));
  infer_network_release(net);
  if (!engine) return;
  InferShape decl = infer_engine_io_shape(engine, 1);
  CHECK(decl.rank == 2 && decl.d[0] == -1 && decl.d[1] == 6);
  InferContext *ctx;
  CHECK_OK(infer_context_create(engine, &ctx));
  float xv[24];
  for (int i = 0; i < 24; i++) xv[i] = (float)i;
  InferShape s4 = {3, {4, 2, 3}};
  CHECK_OK(infer_context_set_input_shape(ctx, "x", &s4));
  CHECK_OK(infer_context_set_tensor_address(ctx, "x", xv));
  CHECK_OK(infer_context_enqueue(ctx, NULL));
  InferTensorView out;
  CHECK_OK(infer_context_get_output(ctx, "reshape:0", &out));
  CHECK(out.shape.rank == 2 && out.shape.d[0] == 4 && out.shape.d[1] == 6);
  CHECK(out.data && ((float *)out.data)[23] == 23.0f);
  infer_context_release(ctx);
  infer_engine_release(engine);
}

/* Layers whose inputs are all constants are computed once at build time. */
static void test_constant_folding(void) {
  InferNetwork *net;
  CHECK_OK(infer_network_create(&net));
  InferShape s = {1, {3}};
  float a[3] = {1, 2, 3}, b[3] = {10, 20, 30};
  InferTensorId x, ca, cb, sum, y;
  CHECK_OK(infer_network_add_input(net, "x", INFER_DTYPE_F32, &s, &x));
  CHECK_OK(infer_network_add_constant(net, "a", INFER_DTYPE_F32, &s, a, &ca));
  CHECK_OK(infer_network_add_constant(net, "b", INFER_DTYPE_F32, &s, b, &cb));
  CHECK_OK(infer_network_add_elementwise(net, "const_sum", ca, cb, INFER_BINARY_ADD, &sum));
  CHECK_OK(infer_network_add_elementwise(net, "mul", x, sum, INFER_BINARY_MUL, &y));
  CHECK_OK(infer_network_mark_output(net, y));
  InferEngine *engine = NULL;
  CHECK_OK(test_build_cpu(net, &engine));
  infer_network_release(net);
  if (!engine) return;
  CHECK(infer_engine_num_layers(engine) == 1);
  InferContext *ctx;
  CHECK_OK(infer_context_create(engine, &ctx));
  float xv[3] = {1, 1, 2}, yv[3];
  CHECK_OK(infer_context_set_tensor_address(ctx, "x", xv));
  CHECK_OK(infer_context_set_tensor_address(ctx, "mul:0", yv));
  CHECK_OK(infer_context_enqueue(ctx, NULL));
  CHECK(yv[0] == 11 && yv[1] == 22 && yv[2] == 66);
  infer_context_release(ctx);
  infer_engine_release(engine);
}

static void test_build_errors(void) {
  char msg[512];
  InferNetwork *net;
  CHECK_OK(infer_network_create(&net));
  InferEngine *engine = NULL;
  CHECK_FAILS(test_build_cpu(net, &engine), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK(strstr(msg, "no output") != NULL);
  InferShape s = {2, {2, 3}}, t = {2, {4, 5}};
  InferTensorId a, b, c;
  CHECK_OK(infer_network_add_input(net, "a", INFER_DTYPE_F32, &s, &a));
  CHECK_OK(infer_network_add_input(net, "b", INFER_DTYPE_F32, &t, &b));
  CHECK_FAILS(infer_network_add_input(net, "a", INFER_DTYPE_F32, &s, NULL),
              INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK(strstr(msg, "'a'") != NULL);
  CHECK_OK(infer_network_add_elementwise(net, "bad_add", a, b, INFER_BINARY_ADD, &c));
  CHECK_OK(infer_network_mark_output(net, c));
  CHECK_FAILS(test_build_cpu(net, &engine), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK(strstr(msg, "bad_add") != NULL);
  infer_network_release(net);
}

static int progress_calls;
static bool count_progress(const char *phase, int done, int total, void *user) {
  (void)phase;
  (void)user;
  progress_calls++;
  return done < total || total == 0 ? *(bool *)user : true;
}

/* Optimization profiles bound what contexts accept; progress is reported
 * and can cancel a build. */
static void test_profile_and_progress(void) {
  InferNetwork *net = small_mlp();
  InferBuildConfig *cfg;
  CHECK_OK(infer_build_config_create(&cfg));
  infer_build_config_set_backend(cfg, INFER_BACKEND_CPU);
  InferShape lo = {2, {1, 4}}, opt = {2, {2, 4}}, hi = {2, {4, 4}}, bad = {2, {5, 3}};
  char msg[512];
  CHECK_OK(infer_build_config_set_input_range(cfg, "x", &lo, &opt, &hi));
  bool keep_going = true;
  infer_build_config_set_progress(cfg, count_progress, &keep_going);
  InferEngine *engine = NULL;
  CHECK_OK(infer_engine_build(net, cfg, &engine));
  CHECK(progress_calls >= 3);
  if (engine) {
    InferContext *ctx;
    CHECK_OK(infer_context_create(engine, &ctx));
    InferShape s3 = {2, {3, 4}}, s5 = {2, {5, 4}};
    CHECK_OK(infer_context_set_input_shape(ctx, "x", &s3));
    CHECK_FAILS(infer_context_set_input_shape(ctx, "x", &s5), INFER_ERR_INVALID_ARGUMENT, msg);
    CHECK(strstr(msg, "profile") != NULL);
    /* max batch 4: h, r are [4,4] f32 (64 B each, live together), then the fc output */
    size_t peak = 0, bound = 0;
    CHECK_OK(infer_engine_activation_bytes(engine, &peak, &bound));
    CHECK(bound > 0 && peak >= bound);
    infer_context_release(ctx);
    infer_engine_release(engine);
  }
  keep_going = false;
  CHECK_FAILS(infer_engine_build(net, cfg, &engine), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK(strstr(msg, "cancelled") != NULL);
  keep_going = true;
  CHECK_OK(infer_build_config_set_input_range(cfg, "x", &lo, &bad, &hi));
  CHECK_FAILS(infer_engine_build(net, cfg, &engine), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK(strstr(msg, "'x'") != NULL);
  infer_build_config_release(cfg);
  infer_network_release(net);
}

int main(void) {
  test_profile_and_progress();
  test_tables_cover_every_op();
  test_status();
  test_half();
  test_build_and_run();
  test_shape_subgraph();
  test_constant_folding();
  test_build_errors();
  TEST_MAIN_END("core");
}
