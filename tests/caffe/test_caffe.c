/* Caffe import end to end: the generated LeNet and layer-zoo nets against
 * their ONNX twins (same weights, written independently by the generator)
 * on random inputs, and against onnxruntime's outputs; batch override,
 * default outputs, in-place renaming, the text format's corners.
 *
 * usage: test_caffe MODELS_DIR [cpu|cuda]   (the backend engines are built for) */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "infer/caffe.h"
#include "infer/infer.h"
#include "test_util.h"
#include "tool_tensors.h"

static InferBackendKind backend = INFER_BACKEND_CPU;
static const char *dir;

static const char *path(const char *model, const char *file) {
  static char buf[8][4096];
  static int next;
  char *p = buf[next++ % 8];
  snprintf(p, sizeof buf[0], "%s/%s/%s", dir, model, file);
  return p;
}

/* FP16 mode (GPU): both twins build with FP16 allowed and one timing cache,
 * so their identical layers get identical kernels. */
static bool fp16;
static char timing_cache[64] = "";

static InferStatus *build(const InferNetwork *net, InferEngine **out) {
  InferBuildConfig *cfg;
  InferStatus *st = infer_build_config_create(&cfg);
  if (st) return st;
  infer_build_config_set_backend(cfg, backend);
  infer_build_config_set_tf32(cfg, false); /* FP32 as on the CPU: the twins must agree to 1e-6 */
  if (fp16) {
    infer_build_config_set_precisions(cfg, INFER_PRECISION_FP32 | INFER_PRECISION_FP16);
    st = infer_build_config_set_timing_cache(cfg, timing_cache);
  }
  if (!st) st = infer_engine_build(net, cfg, out);
  infer_build_config_release(cfg);
  return st;
}

/* ||ref - got|| / ||ref||, or -1 when the shapes differ. */
static double rel_error(const InferTensorView *ref, const InferTensorView *got) {
  if (!infer_shape_equal(&ref->shape, &got->shape) || ref->dtype != INFER_DTYPE_F32 ||
      got->dtype != INFER_DTYPE_F32)
    return -1.0;
  double num = 0.0, den = 0.0;
  int64_t n = infer_shape_numel(&ref->shape);
  for (int64_t i = 0; i < n; i++) {
    double a = ((const float *)ref->data)[i], b = ((const float *)got->data)[i];
    num += (a - b) * (a - b);
    den += a * a;
  }
  if (isnan(num)) return 1e9;
  return den > 0 ? sqrt(num / den) : sqrt(num);
}

static const ToolTensor *find(const ToolTensor *t, int n, const char *name) {
  for (int i = 0; i < n; i++)
    if (strcmp(t[i].name, name) == 0) return &t[i];
  return NULL;
}

/* Every output of `a` against the output of `b` of the same name. */
static void check_outputs_match(const char *what, const ToolTensor *a, int na, const ToolTensor *b,
                                int nb, double tol) {
  CHECK(na == nb && na > 0);
  for (int i = 0; i < na; i++) {
    const ToolTensor *o = find(b, nb, a[i].name);
    CHECK(o != NULL);
    if (!o) continue;
    double e = rel_error(&o->view, &a[i].view);
    printf("%s %s: normalized error %.3g\n", what, a[i].name, e);
    CHECK(e >= 0 && e <= tol);
  }
}

/* Runs two engines on the same inputs and compares all outputs. */
static void compare_engines(const char *what, InferEngine *a, InferEngine *b, const ToolTensor *in,
                            int n_in, double tol) {
  ToolTensor *oa = NULL, *ob = NULL;
  int na = 0, nb = 0;
  CHECK_OK(tool_run(a, in, n_in, &oa, &na));
  CHECK_OK(tool_run(b, in, n_in, &ob, &nb));
  if (oa && ob) check_outputs_match(what, oa, na, ob, nb, tol);
  tool_tensors_free(oa, na);
  tool_tensors_free(ob, nb);
}

/* The Caffe engine on the generator's input against onnxruntime's outputs. */
static void compare_with_ort(const char *model, InferEngine *e, int n_outputs) {
  ToolTensor in = {"data", {0}}, *out = NULL;
  int n = 0;
  CHECK_OK(infer_onnx_read_tensor_file(path(model, "input.pb"), &in.view, NULL));
  if (!in.view.data) return;
  CHECK_OK(tool_run(e, &in, 1, &out, &n));
  CHECK(n == n_outputs);
  for (int i = 0; i < n; i++) {
    char file[300];
    snprintf(file, sizeof file, "%s.pb", out[i].name);
    InferTensorView ref = {0};
    CHECK_OK(infer_onnx_read_tensor_file(path(model, file), &ref, NULL));
    if (!ref.data) continue;
    double err = rel_error(&ref, &out[i].view);
    printf("%s %s vs onnxruntime: normalized error %.3g\n", model, out[i].name, err);
    CHECK(err >= 0 && err <= 1e-5);
    free(ref.data);
  }
  tool_tensors_free(out, n);
  free(in.view.data);
}

static void test_lenet_fp16(void) {
  const char *outputs[] = {"prob"};
  InferCaffeOptions o = {0};
  o.outputs = outputs;
  o.n_outputs = 1;
  o.mean_file = path("lenet", "mean.binaryproto");
  InferNetwork *nc = NULL, *no = NULL;
  InferEngine *ec = NULL, *eo = NULL;
  CHECK_OK(infer_caffe_parse(path("lenet", "deploy.prototxt"), path("lenet", "lenet.caffemodel"),
                             &o, &nc));
  CHECK_OK(infer_onnx_parse_file(path("lenet", "lenet.onnx"), &no));
  if (nc) CHECK_OK(build(nc, &ec));
  if (no) CHECK_OK(build(no, &eo));
  int half = 0;
  for (int l = 0; ec && l < infer_engine_num_layers(ec); l++) {
    InferLayerInfo li;
    if (!infer_engine_layer_info(ec, l, &li)) half += strcmp(li.precision, "fp16") == 0;
  }
  printf("lenet fp16: %d FP16 layers\n", half);
  CHECK(half > 0);
  if (ec && eo) {
    ToolTensor *in = NULL;
    int n_in = 0;
    CHECK_OK(tool_random_inputs(ec, 3, &in, &n_in));
    compare_engines("lenet fp16 caffe vs onnx", ec, eo, in, n_in, 1e-3);
    tool_tensors_free(in, n_in);
  }
  infer_engine_release(ec);
  infer_engine_release(eo);
  infer_network_release(nc);
  infer_network_release(no);
}

static void test_lenet(void) {
  const char *outputs[] = {"prob"};
  InferCaffeOptions o = {0};
  o.outputs = outputs;
  o.n_outputs = 1;
  o.mean_file = path("lenet", "mean.binaryproto");
  InferNetwork *nc = NULL, *no = NULL;
  CHECK_OK(infer_caffe_parse(path("lenet", "deploy.prototxt"), path("lenet", "lenet.caffemodel"),
                             &o, &nc));
  CHECK_OK(infer_onnx_parse_file(path("lenet", "lenet.onnx"), &no));
  if (!nc || !no) goto done;
  CHECK(infer_network_num_inputs(nc) == 1 && infer_network_num_outputs(nc) == 1);
  CHECK(strcmp(infer_network_tensor_name(nc, infer_network_input(nc, 0)), "data") == 0);
  CHECK(strcmp(infer_network_tensor_name(nc, infer_network_output(nc, 0)), "prob") == 0);
  /* relu1 works in place: the pre-activation value was renamed */
  CHECK(infer_network_find_tensor(nc, "ip1@ip1") != INFER_NO_TENSOR);
  CHECK(infer_network_find_tensor(nc, "ip1") != INFER_NO_TENSOR);
  InferEngine *ec = NULL, *eo = NULL;
  CHECK_OK(build(nc, &ec));
  CHECK_OK(build(no, &eo));
  if (ec && eo) {
    ToolTensor *in = NULL;
    int n_in = 0;
    CHECK_OK(tool_random_inputs(ec, 3, &in, &n_in));
    compare_engines("lenet caffe vs onnx", ec, eo, in, n_in, 1e-6);
    tool_tensors_free(in, n_in);
    compare_with_ort("lenet", ec, 1);
  }
  infer_engine_release(ec);
  infer_engine_release(eo);
done:
  infer_network_release(nc);
  infer_network_release(no);
}

/* batch_size 4: each sample of the batched Caffe engine equals the ONNX
 * twin (batch 1) on that sample. */
static void test_lenet_batch(void) {
  InferCaffeOptions o = {0};
  o.batch_size = 4;
  o.mean_file = path("lenet", "mean.binaryproto");
  InferNetwork *nc = NULL, *no = NULL;
  InferEngine *ec = NULL, *eo = NULL;
  CHECK_OK(infer_caffe_parse(path("lenet", "deploy.prototxt"), path("lenet", "lenet.caffemodel"),
                             &o, &nc));
  CHECK_OK(infer_onnx_parse_file(path("lenet", "lenet.onnx"), &no));
  if (nc) CHECK_OK(build(nc, &ec));
  if (no) CHECK_OK(build(no, &eo));
  if (ec && eo) {
    InferShape s = infer_engine_io_shape(ec, infer_engine_io_index(ec, "data"));
    CHECK(s.rank == 4 && s.d[0] == 4 && s.d[1] == 1 && s.d[2] == 28);
    ToolTensor *in = NULL, *out = NULL;
    int n_in = 0, n_out = 0;
    CHECK_OK(tool_random_inputs(ec, 5, &in, &n_in));
    CHECK_OK(tool_run(ec, in, n_in, &out, &n_out));
    CHECK(n_out == 1 && out && out[0].view.shape.d[0] == 4 && out[0].view.shape.d[1] == 10);
    for (int b = 0; out && n_in == 1 && b < 4; b++) {
      ToolTensor one = {"data", {INFER_DTYPE_F32, {4, {1, 1, 28, 28}}, NULL}}, *r = NULL;
      one.view.data = (float *)in[0].view.data + b * 28 * 28;
      int nr = 0;
      CHECK_OK(tool_run(eo, &one, 1, &r, &nr));
      if (r) {
        InferTensorView sample = {INFER_DTYPE_F32, {2, {1, 10}}, (float *)out[0].view.data + b * 10};
        double e = rel_error(&r[0].view, &sample);
        CHECK(e >= 0 && e <= 1e-6);
      }
      tool_tensors_free(r, nr);
    }
    tool_tensors_free(in, n_in);
    tool_tensors_free(out, n_out);
  }
  infer_engine_release(ec);
  infer_engine_release(eo);
  infer_network_release(nc);
  infer_network_release(no);
}

static void test_zoo(void) {
  InferNetwork *nc = NULL, *no = NULL;
  CHECK_OK(infer_caffe_parse(path("zoo", "deploy.prototxt"), path("zoo", "zoo.caffemodel"), NULL,
                             &nc));
  CHECK_OK(infer_onnx_parse_file(path("zoo", "zoo.onnx"), &no));
  if (!nc || !no) goto done;
  /* outputs by default: the blobs nobody consumes, in production order
     (the TRAIN-only Accuracy layer is left out) */
  static const char *const expected[] = {"lrn_w", "gpool", "prob"};
  CHECK(infer_network_num_outputs(nc) == 3);
  for (int i = 0; i < 3 && i < infer_network_num_outputs(nc); i++)
    CHECK(strcmp(infer_network_tensor_name(nc, infer_network_output(nc, i)), expected[i]) == 0);
  CHECK(infer_network_find_tensor(nc, "accuracy") == INFER_NO_TENSOR);
  /* the chain conv_a -> bn_a -> sc_a -> prelu_a, all in place */
  CHECK(infer_network_find_tensor(nc, "conv_a@conv_a") != INFER_NO_TENSOR);
  CHECK(infer_network_find_tensor(nc, "conv_a@bn_a") != INFER_NO_TENSOR);
  CHECK(infer_network_find_tensor(nc, "conv_a@sc_a") != INFER_NO_TENSOR);
  InferEngine *ec = NULL, *eo = NULL;
  CHECK_OK(build(nc, &ec));
  CHECK_OK(build(no, &eo));
  if (ec && eo) {
    for (unsigned seed = 1; seed <= 3; seed++) {
      ToolTensor *in = NULL;
      int n_in = 0;
      CHECK_OK(tool_random_inputs(ec, seed, &in, &n_in));
      compare_engines("zoo caffe vs onnx", ec, eo, in, n_in, 1e-6);
      tool_tensors_free(in, n_in);
    }
    compare_with_ort("zoo", ec, 3);
  }
  infer_engine_release(ec);
  infer_engine_release(eo);
done:
  infer_network_release(nc);
  infer_network_release(no);
}

/* Without a caffemodel the weights are synthesized: the net still builds
 * and gives finite probabilities that sum to 1. */
static void test_without_model(void) {
  InferNetwork *net = NULL;
  InferEngine *e = NULL;
  CHECK_OK(infer_caffe_parse(path("zoo", "deploy.prototxt"), NULL, NULL, &net));
  if (net) CHECK_OK(build(net, &e));
  if (e) {
    ToolTensor *in = NULL, *out = NULL;
    int n_in = 0, n_out = 0;
    CHECK_OK(tool_random_inputs(e, 9, &in, &n_in));
    CHECK_OK(tool_run(e, in, n_in, &out, &n_out));
    const ToolTensor *prob = out ? find(out, n_out, "prob") : NULL;
    CHECK(prob != NULL);
    if (prob) {
      double sum = 0;
      for (int i = 0; i < 10; i++) sum += ((const float *)prob->view.data)[i];
      CHECK_NEAR(sum, 1.0, 1e-5);
    }
    tool_tensors_free(in, n_in);
    tool_tensors_free(out, n_out);
  }
  infer_engine_release(e);
  infer_network_release(net);
}

/* The text format's less common forms (BOM, CRLF, '<>' messages, joined
 * strings, hex, 'f' suffixes, lists, ';' and ',') and the MemoryData input. */
static void test_text_forms(void) {
  const char *text =
      "\xef\xbb\xbf# a byte order mark, a comment, CRLF line ends\r\n"
      "name: 'forms' ;\r\n"
      "layer < name: \"in\" type: 'MemoryData' top: \"da\" \"ta\" top: 'label'\n"
      "  memory_data_param { batch_size: 2 channels: 3 height: 0x4 width: 4 } >\n"
      "layer { name: \"s\\x31\" type: \"Power\" bottom: \"data\" top: \"p\"\n"
      "  power_param: { power: 1.0f scale: -2.5e0 shift: .5 } }\n"
      "layer { name: 'c', type: 'Concat', bottom: ['p', 'data'], top: 'out',\n"
      "  concat_param { axis: -3 } }\n";
  InferNetwork *net = NULL;
  CHECK_OK(infer_caffe_parse_memory(text, strlen(text), "forms.prototxt", NULL, 0, NULL, NULL, &net));
  if (!net) return;
  InferTensorId in = infer_network_find_tensor(net, "data");
  CHECK(in != INFER_NO_TENSOR);
  InferShape s = infer_network_tensor_shape(net, in);
  CHECK(s.rank == 4 && s.d[0] == 2 && s.d[1] == 3 && s.d[2] == 4 && s.d[3] == 4);
  CHECK(infer_network_num_outputs(net) == 1);
  InferEngine *e = NULL;
  CHECK_OK(build(net, &e));
  if (e) {
    ToolTensor *x = NULL, *y = NULL;
    int nx = 0, ny = 0;
    CHECK_OK(tool_random_inputs(e, 2, &x, &nx));
    CHECK_OK(tool_run(e, x, nx, &y, &ny));
    if (y && x) {
      CHECK(y[0].view.shape.d[1] == 6);
      const float *xv = x[0].view.data, *yv = y[0].view.data;
      /* first channels: -2.5 x + 0.5; then x itself */
      CHECK_NEAR(yv[0], -2.5 * xv[0] + 0.5, 1e-6);
      CHECK_NEAR(yv[3 * 16], xv[0], 0);
    }
    tool_tensors_free(x, nx);
    tool_tensors_free(y, ny);
  }
  infer_engine_release(e);
  infer_network_release(net);
}

/* Layers without learned blobs checked against their formulas: Split,
 * Scale and Bias with a second bottom, ELU, AbsVal, BNLL, Clip; and a 1-D
 * convolution's shape. y = clip(softplus(|elu(x * w + w)|), 0.1, 0.9). */
static void test_formulas(void) {
  const char *text =
      "input: 'x' input_shape { dim: [1, 2, 3, 3] }\n"
      "input: 'w' input_shape { dim: 2 }\n"
      "input: 'seq' input_shape { dim: [1, 2, 7] }\n"
      "layer { name: 'split' type: 'Split' bottom: 'x' top: 'a' top: 'b' }\n"
      "layer { name: 'sc' type: 'Scale' bottom: 'a' bottom: 'w' top: 'y' }\n"
      "layer { name: 'bi' type: 'Bias' bottom: 'y' bottom: 'w' top: 'y' }\n"
      "layer { name: 'elu' type: 'ELU' bottom: 'y' top: 'y' elu_param { alpha: 0.5 } }\n"
      "layer { name: 'abs' type: 'AbsVal' bottom: 'y' top: 'y' }\n"
      "layer { name: 'bnll' type: 'BNLL' bottom: 'y' top: 'y' }\n"
      "layer { name: 'clip' type: 'Clip' bottom: 'y' top: 'y' clip_param { min: 0.1 max: 0.9 } }\n"
      "layer { name: 'c1' type: 'Convolution' bottom: 'seq' top: 'c1'\n"
      "  convolution_param { num_output: 1 kernel_size: 3 } }\n";
  const char *outs[] = {"y", "b", "c1"};
  InferCaffeOptions o = {0};
  o.outputs = outs;
  o.n_outputs = 3;
  InferNetwork *net = NULL;
  InferEngine *e = NULL;
  CHECK_OK(infer_caffe_parse_memory(text, strlen(text), "formulas.prototxt", NULL, 0, NULL, &o,
                                    &net));
  if (net) CHECK_OK(build(net, &e));
  if (e) {
    ToolTensor *x = NULL, *y = NULL;
    int nx = 0, ny = 0;
    CHECK_OK(tool_random_inputs(e, 4, &x, &nx));
    CHECK_OK(tool_run(e, x, nx, &y, &ny));
    const ToolTensor *xv = x ? find(x, nx, "x") : NULL, *wv = x ? find(x, nx, "w") : NULL;
    const ToolTensor *yv = y ? find(y, ny, "y") : NULL, *bv = y ? find(y, ny, "b") : NULL;
    const ToolTensor *cv = y ? find(y, ny, "c1") : NULL;
    CHECK(xv && wv && yv && bv && cv);
    if (xv && wv && yv && bv && cv) {
      const float *xd = xv->view.data, *wd = wv->view.data, *yd = yv->view.data;
      for (int i = 0; i < 18; i++) {
        double w = wd[i / 9], t = xd[i] * w + w;
        t = t > 0 ? t : 0.5 * (exp(t) - 1);
        t = log1p(exp(fabs(t)));
        t = t < 0.1 ? 0.1 : t > 0.9 ? 0.9 : t;
        CHECK_NEAR(yd[i], t, 1e-5);
        CHECK_NEAR(((const float *)bv->view.data)[i], xd[i], 0);
      }
      CHECK(cv->view.shape.rank == 3 && cv->view.shape.d[1] == 1 && cv->view.shape.d[2] == 5);
    }
    tool_tensors_free(x, nx);
    tool_tensors_free(y, ny);
  }
  infer_engine_release(e);
  infer_network_release(net);
}

static void test_read_mean(void) {
  InferTensorView m;
  CHECK_OK(infer_caffe_read_mean(path("lenet", "mean.binaryproto"), &m));
  CHECK(m.dtype == INFER_DTYPE_F32 && m.shape.rank == 4 && m.shape.d[1] == 1 && m.shape.d[3] == 28);
  free(m.data);
  char msg[512];
  CHECK_FAILS(infer_caffe_read_mean(path("lenet", "deploy.prototxt"), &m), INFER_ERR_PARSE, msg);
  CHECK_FAILS(infer_caffe_read_mean(path("lenet", "missing.binaryproto"), &m), INFER_ERR_IO, msg);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s MODELS_DIR [cpu|cuda]\n", argv[0]);
    return 2;
  }
  dir = argv[1];
  if (argc > 2 && strcmp(argv[2], "cuda") == 0) backend = INFER_BACKEND_CUDA;
  if (argc > 2 && strcmp(argv[2], "cuda-fp16") == 0) {
    /* LeNet and its ONNX twin in FP16 agree within FP16 rounding (1e-3) */
    backend = INFER_BACKEND_CUDA;
    fp16 = true;
    snprintf(timing_cache, sizeof timing_cache, "/tmp/infer_caffe_fp16_%d.timing", (int)getpid());
    test_lenet_fp16();
    remove(timing_cache);
    TEST_MAIN_END("caffe");
  }
  test_lenet();
  test_lenet_batch();
  test_zoo();
  test_without_model();
  test_text_forms();
  test_formulas();
  test_read_mean();
  TEST_MAIN_END("caffe");
}
