/* The GPU forms of INT8 networks, checked without a device (the CUDA
 * backend's `supports` needs none): for every generated model, the quantize
 * pass for the CUDA backend (a table giving every tensor one scale) makes
 * INT8 Conv/Gemm layers; the channels-last pass then puts the 2-D INT8
 * convolutions in NHWC regions (Quantize / Dequantize following their
 * input's layout), and that network, run on the CPU reference (its NHWC
 * adapter), must give exactly what the channels-first INT8 network gives
 * (the same integer sums and float epilogues). With FP16 allowed, the
 * precision pass must leave every INT8 layer's i8 operands and f32 bias /
 * scales alone and make float layers FP16.
 *
 *   test_int8_gpu_forms GENERATED_MODELS_DIR */
#include <dirent.h>
#include <string.h>

#include "backend.h"
#include "infer/calibration.h"
#include "pass_run_util.h"
#include "passes.h"

static bool is_int8(const InferLayer *l) {
  return (l->op == INFER_OP_CONV && l->params.conv.quant.int8) ||
         (l->op == INFER_OP_GEMM && l->params.gemm.quant.int8);
}

static void counts(const InferNetwork *net, int *int8, int *int8_last, int *int8_2d) {
  *int8 = *int8_last = *int8_2d = 0;
  for (int l = 0; l < net->n_layers; l++) {
    const InferLayer *x = &net->layers[l];
    if (!is_int8(x)) continue;
    (*int8)++;
    if (x->op == INFER_OP_CONV && x->params.conv.spatial == 2) (*int8_2d)++;
    if (x->op == INFER_OP_CONV && x->params.conv.channels_last) (*int8_last)++;
  }
}

/* INT8 layers with operands of the wrong type, and F16 tensors. */
static void precision_facts(const InferNetwork *net, int *bad_int8, int *f16) {
  *bad_int8 = *f16 = 0;
  for (int t = 0; t < net->n_tensors; t++) *f16 += net->tensors[t].dtype == INFER_DTYPE_F16;
  for (int l = 0; l < net->n_layers; l++) {
    const InferLayer *x = &net->layers[l];
    if (!is_int8(x)) continue;
    for (int i = 0; i < x->n_inputs && i < 4; i++) {
      if (x->inputs[i] < 0) continue;
      InferDType d = net->tensors[x->inputs[i]].dtype;
      if (d != (i < 2 ? INFER_DTYPE_I8 : INFER_DTYPE_F32)) (*bad_int8)++;
    }
  }
}

static void test_model(const char *name, const char *path) {
  InferNetwork *net = NULL;
  InferEngine *e = NULL;
  CHECK_OK(infer_onnx_parse_file(path, &net));
  if (net) CHECK_OK(test_build_unoptimized(net, &e));
  if (!e) {
    infer_network_release(net);
    return;
  }
  const InferNetwork *src = infer_engine_network(e);
  InferCalibTable *table = NULL;
  CHECK_OK(infer_calib_table_create("MinMaxCalibration", &table));
  for (int t = 0; table && t < src->n_tensors; t++)
    CHECK_OK(infer_calib_table_set(table, src->tensors[t].name, 4.0f / 127.0f));
  InferBuildConfig *cfg = NULL, *cfg16 = NULL;
  CHECK_OK(infer_build_config_create(&cfg));
  CHECK_OK(infer_build_config_create(&cfg16));
  if (!cfg || !cfg16 || !table) return;
  infer_build_config_set_precisions(cfg, INFER_PRECISION_FP32 | INFER_PRECISION_INT8);
  infer_build_config_set_precisions(cfg16, INFER_PRECISION_BEST);
  CHECK_OK(infer_build_config_set_calibration_table(cfg, table));
  CHECK_OK(infer_build_config_set_calibration_table(cfg16, table));
  InferPassContext ctx = {INFER_BACKEND_CUDA, cfg}, ctx16 = {INFER_BACKEND_CUDA, cfg16};
  InferNetwork *q = NULL, *last = NULL, *half = NULL;
  int changes = 0;
  CHECK_OK(infer_pass_quantize(&ctx, src, &q, &changes));
  int n8 = 0, n8_last = 0, n8_2d = 0, bad = 0, f16 = 0;
  double err = 0;
  if (q) {
    CHECK_OK(infer_pass_channels_last(&ctx, q, &last, &changes));
    counts(q, &n8, &n8_last, &n8_2d);
    const InferNetwork *l = last ? last : q;
    int m8, m8_last, m8_2d;
    counts(l, &m8, &m8_last, &m8_2d);
    CHECK(m8 == n8);
    CHECK(m8_last == n8_2d);
    n8_last = m8_last;
    err = compare_nets(q, l, 2);
    CHECK(err == 0.0);
    CHECK_OK(infer_pass_precision(&ctx16, l, &half, &changes));
    precision_facts(half ? half : l, &bad, &f16);
    CHECK(bad == 0);
  }
  printf("  %-24s int8 layers %d (2-D convs %d, channels-last %d), channels-last vs "
         "channels-first INT8 error %.2g, fp16 tensors after precision %d, bad int8 operands %d\n",
         name, n8, n8_2d, n8_last, err, f16, bad);
  infer_network_release(half);
  infer_network_release(last);
  infer_network_release(q);
  infer_build_config_release(cfg);
  infer_build_config_release(cfg16);
  infer_calib_table_release(table);
  infer_engine_release(e);
  infer_network_release(net);
}

int main(int argc, char **argv) {
  if (!infer_backend_get(INFER_BACKEND_CUDA)) {
    printf("skipped: the CUDA backend is not built\n");
    return 77;
  }
  if (argc < 2) {
    fprintf(stderr, "usage: test_int8_gpu_forms GENERATED_MODELS_DIR\n");
    return 2;
  }
  DIR *d = opendir(argv[1]);
  CHECK(d != NULL);
  struct dirent *ent;
  while (d && (ent = readdir(d))) {
    if (ent->d_name[0] == '.') continue;
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s/model.onnx", argv[1], ent->d_name) >= (int)sizeof path)
      continue;
    FILE *f = fopen(path, "rb");
    if (!f) continue;
    fclose(f);
    test_model(ent->d_name, path);
  }
  if (d) closedir(d);
  TEST_MAIN_END("int8_gpu_forms");
}
