/* Implicit (calibrated) INT8 on the CPU backend, end to end:
 *
 *   test_int8_models MODEL.onnx BOUND [MIN_INT8_LAYERS]
 *
 * calibrates the model with infer_calibrate (min-max) on 8 batches of
 * seeded standard-normal inputs (batch 2), builds an FP32 engine and an
 * INT8 engine from the table, runs both on another seeded batch and checks
 *   - the INT8 engine has at least MIN_INT8_LAYERS (default 1) int8 layers;
 *   - every output's normalized error ||y_int8 - y_fp32|| / ||y_fp32|| <=
 *     BOUND (printed, with the layer counts);
 *   - the INT8 engine's plan loads back and gives bitwise the same outputs;
 *   - pinning the first INT8 layer to FP32 leaves exactly it float;
 *   - a convolution over <= 4 input channels (the RGB layer) stays float,
 *     and pinning it to INT8 makes it INT8;
 *   - a table without the model's tensors makes no INT8 layer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infer/calibration.h"
#include "infer/infer.h"
#include "test_util.h"

#include "int8_test_inputs.h"

/* ---- engines ---- */

static InferStatus *build(const InferNetwork *net, const Inputs *in, const InferCalibTable *table,
                          const char *pin, InferPrecision pin_to, InferEngine **out) {
  InferBuildConfig *cfg;
  INFER_TRY(infer_build_config_create(&cfg));
  infer_build_config_set_backend(cfg, INFER_BACKEND_CPU);
  InferStatus *st = NULL;
  for (int i = 0; !st && i < in->n; i++)
    st = infer_build_config_set_input_shape(cfg, in->names[i], &in->shapes[i]);
  if (!st && table) {
    infer_build_config_set_precisions(cfg, INFER_PRECISION_FP32 | INFER_PRECISION_INT8);
    st = infer_build_config_set_calibration_table(cfg, table);
  }
  if (!st && pin) st = infer_build_config_set_layer_precision(cfg, pin, pin_to);
  if (!st) st = infer_engine_build(net, cfg, out);
  infer_build_config_release(cfg);
  return st;
}

/* Runs e on the inputs; outputs[k] (malloc'ed f32 copies) in engine order. */
static InferStatus *run(InferEngine *e, const Inputs *in, float **outputs, int64_t *sizes, int *n_out) {
  InferContext *ctx;
  INFER_TRY(infer_context_create(e, &ctx));
  InferStatus *st = NULL;
  for (int i = 0; !st && i < in->n; i++) {
    st = infer_context_set_input_shape(ctx, in->names[i], &in->shapes[i]);
    if (!st) st = infer_context_set_tensor_address(ctx, in->names[i], in->data[i]);
  }
  if (!st) st = infer_context_enqueue(ctx, NULL);
  *n_out = 0;
  for (int i = 0; !st && i < infer_engine_num_io(e); i++) {
    if (infer_engine_io_is_input(e, i)) continue;
    InferTensorView v;
    st = infer_context_get_output(ctx, infer_engine_io_name(e, i), &v);
    if (st) break;
    if (v.dtype != INFER_DTYPE_F32) {
      st = infer_status_new(INFER_ERR_UNSUPPORTED, "output %s is not f32", infer_engine_io_name(e, i));
      break;
    }
    int64_t n = infer_shape_numel(&v.shape);
    outputs[*n_out] = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    memcpy(outputs[*n_out], v.data, sizeof(float) * (size_t)n);
    sizes[(*n_out)++] = n;
  }
  infer_context_release(ctx);
  return st;
}

/* Layer l's info; false (the status dropped) when there is none. */
static bool layer_at(const InferEngine *e, int l, InferLayerInfo *li) {
  InferStatus *st = infer_engine_layer_info(e, l, li);
  infer_status_free(st);
  return st == NULL;
}

static bool is_conv_or_gemm(const InferLayerInfo *li) {
  return !strcmp(li->op, "conv") || !strcmp(li->op, "gemm");
}

static int count_int8(const InferEngine *e, const char **first) {
  int n = 0;
  InferLayerInfo li;
  for (int l = 0; l < infer_engine_num_layers(e); l++)
    if (layer_at(e, l, &li) && !strcmp(li.precision, "int8") && is_conv_or_gemm(&li)) {
      if (first && n == 0) *first = li.name;
      n++;
    }
  return n;
}

/* INT8 Conv/Gemm layers that write float (a graph output, a float reader). */
static int int8_writing_float(const InferEngine *e) {
  const InferNetwork *net = infer_engine_network(e);
  int n = 0;
  InferLayerInfo li;
  for (int l = 0; l < infer_engine_num_layers(e); l++)
    if (layer_at(e, l, &li) && is_conv_or_gemm(&li) && !strcmp(li.precision, "int8") &&
        infer_network_tensor_dtype(net, infer_network_find_tensor(net, li.output)) !=
            INFER_DTYPE_I8)
      n++;
  return n;
}

/* Conv layers left float in an INT8 engine (the RGB layer); *name: the first. */
static int float_convs(const InferEngine *e, const char **name) {
  int n = 0;
  InferLayerInfo li;
  for (int l = 0; l < infer_engine_num_layers(e); l++)
    if (layer_at(e, l, &li) && !strcmp(li.op, "conv") && strcmp(li.precision, "int8") != 0) {
      if (name && n == 0) *name = li.name;
      n++;
    }
  return n;
}

static void free_outputs(float **o, int n) {
  for (int i = 0; i < n; i++) free(o[i]);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: test_int8_models MODEL.onnx BOUND [MIN_INT8_LAYERS [FLOAT_CONVS "
                    "[INT8_WRITING_FLOAT]]]\n");
    return 2;
  }
  double bound = atof(argv[2]);
  int min_int8 = argc > 3 ? atoi(argv[3]) : 1;
  int want_float_convs = argc > 4 ? atoi(argv[4]) : 0;
  int want_float_writers = argc > 5 ? atoi(argv[5]) : -1;
  InferNetwork *net = NULL;
  CHECK_OK(infer_onnx_parse_file(argv[1], &net));
  if (!net) TEST_MAIN_END("int8_models");
  Inputs in;
  CHECK(inputs_from_network(net, &in)); /* f32 inputs, at most MAX_IN */
  InferCalibTable *table = NULL;
  CHECK_OK(calibrate_minmax(net, &in, &table));
  InferEngine *fp32 = NULL, *int8 = NULL, *pinned = NULL, *loaded = NULL, *none = NULL;
  InferEngine *forced = NULL;
  if (table) {
    CHECK_OK(build(net, &in, NULL, NULL, INFER_PREC_FP32, &fp32));
    CHECK_OK(build(net, &in, table, NULL, INFER_PREC_FP32, &int8));
  }
  if (fp32 && int8) {
    const char *first = NULL;
    int n8 = count_int8(int8, &first);
    CHECK(n8 >= min_int8);
    fill(&in, 7); /* an evaluation batch the calibration never saw */
    float *y32[64], *y8[64], *yl[64];
    int64_t s32[64], s8[64], sl[64];
    int n32 = 0, nn8 = 0, nl = 0;
    CHECK_OK(run(fp32, &in, y32, s32, &n32));
    CHECK_OK(run(int8, &in, y8, s8, &nn8));
    CHECK(n32 == nn8);
    for (int k = 0; k < n32 && k < nn8; k++) {
      double num = 0, den = 0;
      for (int64_t i = 0; i < s32[k] && s32[k] == s8[k]; i++) {
        num += ((double)y8[k][i] - y32[k][i]) * ((double)y8[k][i] - y32[k][i]);
        den += (double)y32[k][i] * y32[k][i];
      }
      double err = sqrt(num / (den > 0 ? den : 1));
      printf("%s: output %d: int8 layers %d of %d layers, normalized error %.4g (bound %g)\n",
             argv[1], k, n8, infer_engine_num_layers(int8), err, bound);
      CHECK(s32[k] == s8[k]);
      CHECK(err <= bound);
    }
    /* the plan keeps the INT8 layers and their scales */
    void *plan = NULL;
    size_t plan_size = 0;
    CHECK_OK(infer_engine_serialize(int8, &plan, &plan_size));
    if (plan) CHECK_OK(infer_engine_deserialize(plan, plan_size, "int8 plan", &loaded));
    if (loaded) {
      CHECK(count_int8(loaded, NULL) == n8);
      CHECK_OK(run(loaded, &in, yl, sl, &nl));
      CHECK(nl == nn8);
      for (int k = 0; k < nl && k < nn8; k++)
        CHECK(sl[k] == s8[k] && memcmp(yl[k], y8[k], sizeof(float) * (size_t)s8[k]) == 0);
    }
    free(plan);
    /* a layer pinned to FP32 stays float, the others do not change */
    if (first) {
      char name[256];
      snprintf(name, sizeof name, "%s", first);
      CHECK_OK(build(net, &in, table, name, INFER_PREC_FP32, &pinned));
      const char *first_pinned = NULL;
      if (pinned) CHECK(count_int8(pinned, &first_pinned) == n8 - 1);
      if (first_pinned) CHECK(strcmp(first_pinned, name) != 0);
    }
    /* INT8 layers hand i8 to INT8 readers, as x or as a residual */
    int writers = int8_writing_float(int8);
    printf("%s: %d INT8 layers write float\n", argv[1], writers);
    if (want_float_writers >= 0) CHECK(writers == want_float_writers);
    /* a convolution over <= 4 input channels stays float unless pinned to INT8 */
    const char *rgb = NULL;
    CHECK(float_convs(int8, &rgb) == want_float_convs);
    if (rgb) {
      char name[256];
      snprintf(name, sizeof name, "%s", rgb);
      CHECK_OK(build(net, &in, table, name, INFER_PREC_INT8, &forced));
      if (forced) CHECK(count_int8(forced, NULL) == n8 + 1);
      if (forced) CHECK(float_convs(forced, NULL) == want_float_convs - 1);
    }
    /* a table of other tensors: nothing is quantized, and the build works */
    InferCalibTable *other = NULL;
    CHECK_OK(infer_calib_table_create("MinMaxCalibration", &other));
    if (other) CHECK_OK(infer_calib_table_set(other, "not_a_tensor", 0.5f));
    CHECK_OK(build(net, &in, other, NULL, INFER_PREC_FP32, &none));
    if (none) CHECK(count_int8(none, NULL) == 0);
    infer_calib_table_release(other);
    free_outputs(y32, n32);
    free_outputs(y8, nn8);
    free_outputs(yl, nl);
  }
  infer_engine_release(fp32);
  infer_engine_release(int8);
  infer_engine_release(pinned);
  infer_engine_release(forced);
  infer_engine_release(loaded);
  infer_engine_release(none);
  infer_calib_table_release(table);
  for (int i = 0; i < in.n && i < MAX_IN; i++) free(in.data[i]);
  infer_network_release(net);
  TEST_MAIN_END("int8_models");
}
