/* The passes that choose GPU forms: channels-last (NHWC) regions and FP16
 * precision. They run for the CUDA backend, but what they produce is plain
 * IR: the channels-last network runs on the CPU reference (through its
 * NHWC adapter) and must compute what the original does; the precision
 * pass's choices (F16 tensors, Casts at borders, FP32 graph outputs) are
 * checked structurally (the CPU has no FP16 convolution; the GPU suite
 * compares FP16 engines numerically). The CUDA backend's `supports` needs
 * no device, so this runs wherever the CUDA backend is built.
 *
 *   test_pass_gpu_forms [GENERATED_MODELS_DIR] */
#include <dirent.h>
#include <string.h>

#include "backend.h"
#include "pass_run_util.h"
#include "passes.h"

static InferBuildConfig *config(unsigned precisions) {
  InferBuildConfig *cfg = NULL;
  CHECK_OK(infer_build_config_create(&cfg));
  if (cfg) infer_build_config_set_precisions(cfg, precisions);
  return cfg;
}

static int count_layers(const InferNetwork *net, InferOp op) {
  int n = 0;
  for (int l = 0; l < net->n_layers; l++) n += net->layers[l].op == op;
  return n;
}

static int count_channels_last(const InferNetwork *net) {
  int n = 0;
  for (int l = 0; l < net->n_layers; l++) {
    const InferLayer *x = &net->layers[l];
    n += (x->op == INFER_OP_CONV && x->params.conv.channels_last) ||
         (x->op == INFER_OP_POOL && x->params.pool.channels_last);
  }
  return n;
}

/* conv -> relu -> conv(+residual of the relu) -> maxpool -> global pool -> flatten/gemm */
static InferNetwork *small_cnn(void) {
  InferNetwork *net = NULL;
  CHECK_OK(infer_network_create(&net));
  InferShape xs = {4, {2, 3, 8, 8}};
  InferTensorId x, w1, b1, w2, c1, r1, c2, p, g;
  CHECK_OK(infer_network_add_input(net, "x", INFER_DTYPE_F32, &xs, &x));
  float w1d[8 * 3 * 3 * 3], b1d[8], w2d[8 * 8 * 3 * 3];
  for (size_t i = 0; i < sizeof w1d / sizeof w1d[0]; i++) w1d[i] = frand() * 0.3f;
  for (size_t i = 0; i < 8; i++) b1d[i] = frand();
  for (size_t i = 0; i < sizeof w2d / sizeof w2d[0]; i++) w2d[i] = frand() * 0.2f;
  InferShape w1s = {4, {8, 3, 3, 3}}, bs = {1, {8}}, w2s = {4, {8, 8, 3, 3}};
  CHECK_OK(infer_network_add_constant(net, "w1", INFER_DTYPE_F32, &w1s, w1d, &w1));
  CHECK_OK(infer_network_add_constant(net, "b1", INFER_DTYPE_F32, &bs, b1d, &b1));
  CHECK_OK(infer_network_add_constant(net, "w2", INFER_DTYPE_F32, &w2s, w2d, &w2));
  InferOpParams cp;
  memset(&cp, 0, sizeof cp);
  cp.conv.spatial = 2;
  cp.conv.group = 1;
  for (int i = 0; i < 4; i++) cp.conv.pads[i] = 1;
  InferTensorId in1[3] = {x, w1, b1};
  const char *n1[1] = {"c1"};
  CHECK_OK(infer_network_add_layer(net, "conv1", INFER_OP_CONV, &cp, 3, in1, 1, n1, &c1));
  InferOpParams up;
  memset(&up, 0, sizeof up);
  up.unary.kind = INFER_UNARY_RELU;
  const char *nr[1] = {"r1"};
  CHECK_OK(infer_network_add_layer(net, "relu1", INFER_OP_UNARY, &up, 1, &c1, 1, nr, &r1));
  cp.conv.has_residual = true;
  InferTensorId in2[4] = {r1, w2, INFER_NO_TENSOR, r1};
  const char *n2[1] = {"c2"};
  CHECK_OK(infer_network_add_layer(net, "conv2", INFER_OP_CONV, &cp, 4, in2, 1, n2, &c2));
  InferOpParams pp;
  memset(&pp, 0, sizeof pp);
  pp.pool.kind = INFER_POOL_MAX;
  pp.pool.spatial = 2;
  pp.pool.kernel[0] = pp.pool.kernel[1] = 2;
  pp.pool.strides[0] = pp.pool.strides[1] = 2;
  const char *np[1] = {"p"};
  CHECK_OK(infer_network_add_layer(net, "pool", INFER_OP_POOL, &pp, 1, &c2, 1, np, &p));
  InferOpParams gp;
  memset(&gp, 0, sizeof gp);
  gp.pool.kind = INFER_POOL_AVERAGE;
  gp.pool.global = true;
  const char *ng[1] = {"g"};
  CHECK_OK(infer_network_add_layer(net, "gap", INFER_OP_POOL, &gp, 1, &p, 1, ng, &g));
  CHECK_OK(infer_network_mark_output(net, g));
  CHECK_OK(infer_network_mark_output(net, r1)); /* a second, mid-network output */
  return net;
}

static void test_channels_last_small(void) {
  InferNetwork *net = small_cnn();
  InferBuildConfig *cfg = config(INFER_PRECISION_FP32);
  InferPassContext ctx = {INFER_BACKEND_CUDA, cfg};
  InferNetwork *out = NULL;
  int changes = 0;
  CHECK_OK(infer_pass_channels_last(&ctx, net, &out, &changes));
  CHECK(out != NULL);
  if (out) {
    /* conv1, relu, conv2, pool and the global pool run NHWC: one Transpose
     * in, one back for each output */
    CHECK(count_channels_last(out) == 4);
    CHECK(count_layers(out, INFER_OP_TRANSPOSE) == 3);
    CHECK(strcmp(infer_network_tensor_name(out, infer_network_output(out, 0)), "g") == 0);
    CHECK(strcmp(infer_network_tensor_name(out, infer_network_output(out, 1)), "r1") == 0);
    double err = compare_nets(net, out, 2);
    CHECK(err <= 1e-6);
    if (!(err <= 1e-6)) fprintf(stderr, "  channels-last error %g\n", err);
  }
  /* not for the CPU backend, nor without fast math on the GPU */
  InferNetwork *none = NULL;
  InferPassContext cpu = {INFER_BACKEND_CPU, cfg};
  CHECK_OK(infer_pass_channels_last(&cpu, net, &none, &changes));
  CHECK(none == NULL && changes == 0);
  infer_build_config_set_tf32(cfg, false);
  CHECK_OK(infer_pass_channels_last(&ctx, net, &none, &changes));
  CHECK(none == NULL && changes == 0);
  infer_network_release(out);
  infer_network_release(net);
  infer_build_config_release(cfg);
}

static void test_precision_small(void) {
  InferNetwork *net = small_cnn();
  InferBuildConfig *cfg = config(INFER_PRECISION_FP32 | INFER_PRECISION_FP16);
  InferPassContext ctx = {INFER_BACKEND_CUDA, cfg};
  InferNetwork *out = NULL;
  int changes = 0;
  CHECK_OK(infer_pass_precision(&ctx, net, &out, &changes));
  CHECK(out != NULL);
  if (out) {
    /* conv1, conv2 and the max pool go FP16; relu1 and the global pool
     * write the graph outputs r1 and g and stay FP32 */
    int f16 = 0;
    for (int l = 0; l < out->n_layers; l++) {
      const InferLayer *x = &out->layers[l];
      if (x->op == INFER_OP_CAST) continue;
      bool half = out->tensors[x->outputs[0]].dtype == INFER_DTYPE_F16;
      f16 += half;
      if (strcmp(x->name, "conv2") == 0) {
        CHECK(half);
        CHECK(out->tensors[x->inputs[1]].dtype == INFER_DTYPE_F16); /* weights converted */
      }
      if (strcmp(x->name, "conv1") == 0) CHECK(half);
      if (strcmp(x->name, "relu1") == 0 || strcmp(x->name, "gap") == 0) CHECK(!half);
    }
    CHECK(f16 == 3);
    /* x -> fp16, c1 -> fp32 (relu1), r1 -> fp16 (conv2, once for both reads), p -> fp32 */
    CHECK(count_layers(out, INFER_OP_CAST) == 4);
    for (int i = 0; i < out->n_outputs; i++)
      CHECK(out->tensors[out->outputs[i]].dtype == INFER_DTYPE_F32);
    CHECK(changes == 3);
  }
  /* pinned to FP32: nothing changes */
  infer_network_release(out);
  out = NULL;
  CHECK_OK(infer_build_config_set_layer_precision(cfg, "conv1", INFER_PREC_FP32));
  CHECK_OK(infer_build_config_set_layer_precision(cfg, "conv2", INFER_PREC_FP32));
  CHECK_OK(infer_build_config_set_layer_precision(cfg, "pool", INFER_PREC_FP32));
  CHECK_OK(infer_pass_precision(&ctx, net, &out, &changes));
  CHECK(out == NULL && changes == 0);
  /* FP16 not allowed: nothing */
  InferBuildConfig *f32 = config(INFER_PRECISION_FP32);
  InferPassContext ctx32 = {INFER_BACKEND_CUDA, f32};
  CHECK_OK(infer_pass_precision(&ctx32, net, &out, &changes));
  CHECK(out == NULL && changes == 0);
  infer_build_config_release(f32);
  infer_network_release(net);
  infer_build_config_release(cfg);
}

/* Every generated model: the channels-last network computes the same. */
static void test_models(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *ent;
  InferBuildConfig *cfg = config(INFER_PRECISION_FP32);
  InferPassContext ctx = {INFER_BACKEND_CUDA, cfg};
  while ((ent = readdir(d))) {
    if (ent->d_name[0] == '.') continue;
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s/model.onnx", dir, ent->d_name) >= (int)sizeof path)
      continue;
    InferNetwork *net = NULL;
    InferEngine *e = NULL;
    CHECK_OK(infer_onnx_parse_file(path, &net));
    if (net) CHECK_OK(test_build_unoptimized(net, &e));
    if (!e) {
      infer_network_release(net);
      continue;
    }
    const InferNetwork *src = infer_engine_network(e);
    InferNetwork *out = NULL;
    int changes = 0;
    CHECK_OK(infer_pass_channels_last(&ctx, src, &out, &changes));
    double err = out ? compare_nets(src, out, 2) : 0.0;
    printf("  %-22s channels-last layers %d, transposes %d, error %.2e\n", ent->d_name,
           out ? count_channels_last(out) : 0, out ? count_layers(out, INFER_OP_TRANSPOSE) : 0, err);
    CHECK(err <= 1e-6);
    infer_network_release(out);
    infer_engine_release(e);
    infer_network_release(net);
  }
  closedir(d);
  infer_build_config_release(cfg);
}

int main(int argc, char **argv) {
  if (!infer_backend_get(INFER_BACKEND_CUDA)) {
    printf("skipped: the CUDA backend is not built\n");
    return 77;
  }
  test_channels_last_small();
  test_precision_small();
  if (argc > 1) test_models(argv[1]);
  TEST_MAIN_END("pass_gpu_forms");
}
