/* The plugin API end to end with the sample library (ScaledSoftsign):
 * the registry and library loading, the ONNX model with a custom-domain
 * node against numpy's output, plan bytes round trips, networks built in
 * code (f32 and f16, a dynamic batch), a Caffe layer of the plugin's type,
 * and the errors (a plugin without an implementation for the backend,
 * unknown plugins, bad fields and element types).
 *
 * usage: test_plugins PLUGIN_LIBRARY MODELS_DIR [cpu|cuda]
 * With cuda, exits 77 (skipped) where the CUDA backend or a GPU is missing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infer/infer.h"
#include "infer/plugin.h"
#include "test_util.h"
#include "tool_tensors.h"

#define SKIP 77

static InferBackendKind backend = INFER_BACKEND_CPU;
static double tolerance = 1e-6;

static const char *message_of(InferStatus *st, char *buf, size_t size) {
  snprintf(buf, size, "%s", infer_status_message(st));
  infer_status_free(st);
  return buf;
}

static InferStatus *build(const InferNetwork *net, InferEngine **out) {
  InferBuildConfig *cfg;
  INFER_TRY(infer_build_config_create(&cfg));
  infer_build_config_set_backend(cfg, backend);
  InferStatus *st = infer_engine_build(net, cfg, out);
  infer_build_config_release(cfg);
  return st;
}

static float softsign(float alpha, float x) { return alpha * x / (1.0f + fabsf(x)); }

/* ---- registry and libraries --------------------------------------------------- */

static InferStatus *dummy_create(const InferPluginCreator *c, const char *layer,
                                 const InferPluginFields *f, InferPlugin **out) {
  (void)c, (void)layer, (void)f, (void)out;
  return infer_status_new(INFER_ERR_INTERNAL, "not used");
}

static InferStatus *dummy_deserialize(const InferPluginCreator *c, const char *layer,
                                      const void *d, size_t n, InferPlugin **out) {
  (void)c, (void)layer, (void)d, (void)n, (void)out;
  return infer_status_new(INFER_ERR_INTERNAL, "not used");
}

static void test_registry(const char *library) {
  char msg[1024];
  CHECK_OK(infer_plugin_load_library(library));
  CHECK_OK(infer_plugin_load_library(library)); /* again: nothing happens */
  const InferPluginCreator *c = infer_plugin_find("ScaledSoftsign", "1");
  CHECK(c != NULL);
  CHECK(infer_plugin_find("ScaledSoftsign", NULL) == c);
  CHECK(infer_plugin_find("ScaledSoftsign", "2") == NULL);
  bool listed = false;
  for (int i = 0; i < infer_plugin_count(); i++) listed |= infer_plugin_get(i) == c;
  CHECK(listed);
  CHECK(infer_plugin_get(infer_plugin_count()) == NULL);
  CHECK_OK(infer_plugin_register(c)); /* the same creator again */

  static const InferPluginCreator twin = {INFER_PLUGIN_API_VERSION, "ScaledSoftsign", "1", NULL,
                                          dummy_create, dummy_deserialize, NULL};
  InferStatus *st = infer_plugin_register(&twin);
  CHECK(infer_status_code(st) == INFER_ERR_INVALID_ARGUMENT);
  CHECK(strstr(message_of(st, msg, sizeof msg), "'ScaledSoftsign' version 1") != NULL);
  CHECK(strstr(msg, "already registered") != NULL);

  static const InferPluginCreator old_api = {99, "Old", "1", NULL, dummy_create,
                                             dummy_deserialize, NULL};
  CHECK_FAILS(infer_plugin_register(&old_api), INFER_ERR_MISMATCH, msg);
  CHECK(strstr(msg, "plugin API version 99") != NULL);

  st = infer_plugin_load_library("/nonexistent/libnothing.so");
  CHECK(infer_status_code(st) == INFER_ERR_IO);
  CHECK(strstr(message_of(st, msg, sizeof msg), "'/nonexistent/libnothing.so'") != NULL);
}

/* ---- the ONNX model ------------------------------------------------------------- */

static void read_tensor(const char *dir, const char *file, ToolTensor *t) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  memset(t, 0, sizeof *t);
  CHECK_OK(infer_onnx_read_tensor_file(path, &t->view, &t->name));
}

static void check_close(const InferTensorView *expected, const InferTensorView *actual) {
  char why[512] = "";
  bool ok = tool_compare(expected, actual, tolerance, tolerance, why, sizeof why);
  if (!ok) fprintf(stderr, "mismatch: %s\n", why);
  CHECK(ok);
}

static void run_and_check(InferEngine *e, const ToolTensor *x, const ToolTensor *y) {
  ToolTensor *out = NULL;
  int n_out = 0;
  CHECK_OK(tool_run(e, x, 1, &out, &n_out));
  CHECK(n_out == 1);
  if (n_out == 1) check_close(&y->view, &out[0].view);
  tool_tensors_free(out, n_out);
}

static void test_onnx_model(const char *dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s/scaled_softsign.onnx", dir);
  InferNetwork *net = NULL;
  CHECK_OK(infer_onnx_parse_file(path, &net));
  if (!net) return;
  bool has_plugin = false;
  for (int l = 0; l < infer_network_num_layers(net); l++)
    has_plugin |= infer_network_layer_op(net, l) == INFER_OP_PLUGIN;
  CHECK(has_plugin);
  ToolTensor x, y;
  read_tensor(dir, "x.pb", &x);
  read_tensor(dir, "y.pb", &y);
  InferEngine *e = NULL;
  CHECK_OK(build(net, &e));
  if (e) {
    run_and_check(e, &x, &y);
    /* the plan keeps the plugin's bytes and loads it back through the registry */
    void *plan = NULL;
    size_t size = 0;
    CHECK_OK(infer_engine_serialize(e, &plan, &size));
    InferEngine *back = NULL;
    if (plan) CHECK_OK(infer_engine_deserialize(plan, size, "softsign.plan", &back));
    if (back) run_and_check(back, &x, &y);
    /* a second plan of the loaded engine is the same bytes */
    void *again = NULL;
    size_t again_size = 0;
    if (back) CHECK_OK(infer_engine_serialize(back, &again, &again_size));
    CHECK(again && again_size == size && memcmp(again, plan, size) == 0);
    free(again);
    free(plan);
    infer_engine_release(back);
  }
  /* building the same model again shares the plugin instance */
  InferEngine *e2 = NULL;
  CHECK_OK(build(net, &e2));
  if (e2) run_and_check(e2, &x, &y);
  infer_engine_release(e2);
  infer_engine_release(e);
  infer_network_release(net);
  free(x.name);
  free(x.view.data);
  free(y.name);
  free(y.view.data);
}

/* ---- networks in code ------------------------------------------------------------ */

static void test_network_api(InferDType dtype) {
  InferNetwork *net = NULL;
  CHECK_OK(infer_network_create(&net));
  if (!net) return;
  InferShape s = {2, {-1, 7}};
  InferTensorId x = INFER_NO_TENSOR, y = INFER_NO_TENSOR;
  CHECK_OK(infer_network_add_input(net, "x", dtype, &s, &x));
  InferPluginField f = {.name = "alpha", .type = INFER_PLUGIN_FIELD_FLOAT, .f = -2.5};
  InferPluginFields fields = {&f, 1};
  const char *names[] = {"y"};
  int n_out = 0;
  CHECK_OK(infer_network_add_plugin(net, "softsign", "ScaledSoftsign", NULL, &fields, 1, &x,
                                    names, &y, &n_out));
  CHECK(n_out == 1);
  CHECK_OK(infer_network_mark_output(net, y));
  InferEngine *e = NULL;
  CHECK_OK(build(net, &e));
  if (e) {
    /* a batch other than the one built for: shapes flow through the plugin */
    enum { N = 3 * 7 };
    ToolTensor in = {"x", {dtype, {2, {3, 7}}, malloc(4 * N)}};
    float xs[N], expect[N];
    for (int i = 0; i < N; i++) {
      xs[i] = (float)(i - 10) * 0.37f;
      if (dtype == INFER_DTYPE_F16) {
        uint16_t h = infer_float_to_half(xs[i]);
        xs[i] = infer_half_to_float(h);
        ((uint16_t *)in.view.data)[i] = h;
      } else {
        ((float *)in.view.data)[i] = xs[i];
      }
      expect[i] = softsign(-2.5f, xs[i]);
    }
    ToolTensor *out = NULL;
    int n = 0;
    CHECK_OK(tool_run(e, &in, 1, &out, &n));
    CHECK(n == 1 && out[0].view.dtype == dtype && out[0].view.shape.d[0] == 3);
    double tol = dtype == INFER_DTYPE_F16 ? 2e-3 : tolerance;
    for (int i = 0; n == 1 && i < N; i++) {
      float got = dtype == INFER_DTYPE_F16 ? infer_half_to_float(((uint16_t *)out[0].view.data)[i])
                                           : ((float *)out[0].view.data)[i];
      CHECK_NEAR(got, expect[i], tol * (1 + fabsf(expect[i])));
    }
    tool_tensors_free(out, n);
    free(in.view.data);
  }
  infer_engine_release(e);
  infer_network_release(net);
}

/* ---- Caffe ----------------------------------------------------------------------- */

static const char prototxt[] =
    "name: 'plugin_net'\n"
    "layer { name: 'data' type: 'Input' top: 'data' input_param { shape { dim: 2 dim: 6 } } }\n"
    "layer { name: 'act' type: 'ScaledSoftsign' bottom: 'data' top: 'act'\n"
    "        scaled_softsign_param { alpha: 0.5 } }\n";

static void test_caffe(void) {
  InferNetwork *net = NULL;
  CHECK_OK(infer_caffe_parse_memory(prototxt, sizeof prototxt - 1, "plugin.prototxt", NULL, 0,
                                    NULL, NULL, &net));
  if (!net) return;
  InferEngine *e = NULL;
  CHECK_OK(build(net, &e));
  if (e) {
    ToolTensor in = {"data", {INFER_DTYPE_F32, {2, {2, 6}}, malloc(4 * 12)}};
    for (int i = 0; i < 12; i++) ((float *)in.view.data)[i] = (float)i - 5.5f;
    ToolTensor *out = NULL;
    int n = 0;
    CHECK_OK(tool_run(e, &in, 1, &out, &n));
    CHECK(n == 1);
    for (int i = 0; n == 1 && i < 12; i++)
      CHECK_NEAR(((float *)out[0].view.data)[i], softsign(0.5f, (float)i - 5.5f), 1e-6);
    tool_tensors_free(out, n);
    free(in.view.data);
  }
  infer_engine_release(e);
  infer_network_release(net);
}

/* ---- errors ------------------------------------------------------------------------ */

/* A plugin with only a CUDA implementation (never run here). */
static int one(const InferPlugin *p) {
  (void)p;
  return 1;
}
static InferStatus *same_desc(const InferPlugin *p, const InferTensorView *in, int n_in,
                              InferTensorView *out, int n_out) {
  (void)p, (void)n_in, (void)n_out;
  out[0].dtype = in[0].dtype;
  out[0].shape = in[0].shape;
  return NULL;
}
static InferStatus *gpu_only_enqueue(InferPlugin *p, const InferTensorView *in, int n_in,
                                     const InferTensorView *out, int n_out, void *ws, void *s) {
  (void)p, (void)in, (void)n_in, (void)out, (void)n_out, (void)ws, (void)s;
  return infer_status_new(INFER_ERR_INTERNAL, "not run in this test");
}
static size_t no_bytes(const InferPlugin *p) {
  (void)p;
  return 0;
}
static void write_nothing(const InferPlugin *p, void *b) { (void)p, (void)b; }
static void free_plugin(InferPlugin *p) { free(p); }
static const InferPluginVTable gpu_only_vt = {
  .num_outputs = one, .output_descs = same_desc, .enqueue = gpu_only_enqueue,
  .serialized_size = no_bytes, .serialize = write_nothing, .destroy = free_plugin};
static InferStatus *gpu_only_make(InferPlugin **out) {
  *out = calloc(1, sizeof **out);
  if (!*out) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "out of memory");
  (*out)->vtable = &gpu_only_vt;
  return NULL;
}
static InferStatus *gpu_only_create(const InferPluginCreator *c, const char *layer,
                                    const InferPluginFields *f, InferPlugin **out) {
  (void)c, (void)layer, (void)f;
  return gpu_only_make(out);
}
static InferStatus *gpu_only_deserialize(const InferPluginCreator *c, const char *layer,
                                         const void *d, size_t n, InferPlugin **out) {
  (void)c, (void)layer, (void)d, (void)n;
  return gpu_only_make(out);
}
static const InferPluginCreator gpu_only = {INFER_PLUGIN_API_VERSION, "GpuOnly", "3", NULL,
                                            gpu_only_create, gpu_only_deserialize, NULL};

/* A network x -> plugin -> y; the add's status, or the build's. */
static InferStatus *one_plugin_net(const char *plugin, InferDType dtype,
                                   const InferPluginFields *fields) {
  InferNetwork *net = NULL;
  INFER_TRY(infer_network_create(&net));
  InferShape s = {1, {4}};
  InferTensorId x, y;
  InferStatus *st = infer_network_add_input(net, "x", dtype, &s, &x);
  if (!st) st = infer_network_add_plugin(net, "p", plugin, NULL, fields, 1, &x, NULL, &y, NULL);
  if (!st) st = infer_network_mark_output(net, y);
  InferEngine *e = NULL;
  if (!st) st = build(net, &e);
  infer_engine_release(e);
  infer_network_release(net);
  return st;
}

static void test_errors(const char *dir) {
  char msg[1024];
  /* no CPU implementation: the build says which plugin */
  CHECK_OK(infer_plugin_register(&gpu_only));
  CHECK_FAILS(one_plugin_net("GpuOnly", INFER_DTYPE_F32, NULL), INFER_ERR_UNSUPPORTED, msg);
  CHECK(strstr(msg, "layer 'p' (plugin 'GpuOnly' version 3)") != NULL);
  CHECK(strstr(msg, "no CPU implementation") != NULL);

  /* unknown plugins */
  CHECK_FAILS(one_plugin_net("Nope", INFER_DTYPE_F32, NULL), INFER_ERR_UNSUPPORTED, msg);
  CHECK(strstr(msg, "needs plugin 'Nope' version (any), which is not registered") != NULL);

  /* element types the plugin does not take */
  CHECK_FAILS(one_plugin_net("ScaledSoftsign", INFER_DTYPE_I32, NULL), INFER_ERR_UNSUPPORTED, msg);
  CHECK(strstr(msg, "plugin 'ScaledSoftsign' version 1") != NULL);
  CHECK(strstr(msg, "does not take these element types (in i32, out i32)") != NULL);

  /* a field of the wrong kind: the creator's error, located */
  InferPluginField f = {.name = "alpha", .type = INFER_PLUGIN_FIELD_STRING, .s = "big"};
  InferPluginFields fields = {&f, 1};
  CHECK_FAILS(one_plugin_net("ScaledSoftsign", INFER_DTYPE_F32, &fields),
              INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK(strstr(msg, "layer 'p' (plugin 'ScaledSoftsign' version 1): field 'alpha' must be a "
                    "number") != NULL);

  /* an ONNX node of a domain no plugin answers */
  char path[4096];
  snprintf(path, sizeof path, "%s/unknown_plugin.onnx", dir);
  InferNetwork *net = NULL;
  CHECK_FAILS(infer_onnx_parse_file(path, &net), INFER_ERR_UNSUPPORTED, msg);
  CHECK(strstr(msg, "node 'mystery' (Mystery): op domain 'com.example' is not supported and no "
                    "plugin 'Mystery' is registered for it") != NULL);
  /* and a Caffe layer of an unknown type */
  static const char bad[] =
      "layer { name: 'data' type: 'Input' top: 'data' input_param { shape { dim: 2 } } }\n"
      "layer { name: 'odd' type: 'Mystery' bottom: 'data' top: 'odd' }\n";
  CHECK_FAILS(infer_caffe_parse_memory(bad, sizeof bad - 1, "bad.prototxt", NULL, 0, NULL, NULL,
                                       &net),
              INFER_ERR_UNSUPPORTED, msg);
  CHECK(strstr(msg, "layer type 'Mystery' is not supported") != NULL);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s PLUGIN_LIBRARY MODELS_DIR [cpu|cuda]\n", argv[0]);
    return 2;
  }
  if (argc > 3 && strcmp(argv[3], "cuda") == 0) {
    backend = INFER_BACKEND_CUDA;
    tolerance = 1e-5;
    InferNetwork *net = NULL;
    InferEngine *e = NULL;
    InferShape s = {1, {1}};
    InferTensorId x, y;
    InferStatus *st = infer_network_create(&net);
    if (!st) st = infer_network_add_input(net, "x", INFER_DTYPE_F32, &s, &x);
    if (!st) st = infer_network_add_activation(net, "r", x, INFER_UNARY_RELU, 0, 0, &y);
    if (!st) st = infer_network_mark_output(net, y);
    if (!st) st = build(net, &e);
    infer_engine_release(e);
    infer_network_release(net);
    if (st) {
      printf("skipped: %s\n", infer_status_message(st));
      infer_status_free(st);
      return SKIP;
    }
  }
  test_registry(argv[1]);
  test_onnx_model(argv[2]);
  test_network_api(INFER_DTYPE_F32);
  test_network_api(INFER_DTYPE_F16);
  test_caffe();
  if (backend == INFER_BACKEND_CPU) test_errors(argv[2]);
  TEST_MAIN_END("test_plugins");
}
