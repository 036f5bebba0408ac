/* The optimizer end to end: every generated model (argv[1], the folder
 * tests/models/generate_models.py writes) and every ONNX backend test case
 * under argv[2] (default /usr/share/libonnx-testdata/data: node,
 * pytorch-converted, pytorch-operator, simple) is parsed and built without
 * passes; infer_run_passes then rewrites a copy of the engine's network,
 * an engine is built from that, and both engines run on the case's inputs
 * (test_data_set_0, else random). Float outputs must agree within a
 * normalized error of 1e-5, integer and bool outputs exactly. Folders that
 * are absent are skipped; cases the engine cannot build or run without
 * passes are counted as skipped. Prints "pass_manager: <model>: layers
 * before -> after" for the generated models. */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "infer/infer.h"
#include "passes.h"
#include "test_util.h"

#define MAX_IO 64

typedef struct Counts {
  int compared, skipped;
} Counts;

static bool is_dir(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int compare_strings(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the sub-folders of dir. */
static char **list_dirs(const char *dir, int *n) {
  *n = 0;
  DIR *d = opendir(dir);
  if (!d) return NULL;
  char **names = NULL;
  int cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (e->d_name[0] == '.' || !is_dir(path)) continue;
    if (*n == cap) {
      cap = cap ? cap * 2 : 64;
      char **grown = realloc(names, sizeof(char *) * (size_t)cap);
      if (!grown) break;
      names = grown;
    }
    names[(*n)++] = strdup(e->d_name);
  }
  closedir(d);
  if (names) qsort(names, (size_t)*n, sizeof(char *), compare_strings);
  return names;
}

/* ---- running engines ------------------------------------------------------- */

typedef struct Tensors {
  int n;
  char *name[MAX_IO];
  InferTensorView v[MAX_IO];
} Tensors;

static void tensors_free(Tensors *t) {
  for (int i = 0; i < t->n; i++) {
    free(t->name[i]);
    free(t->v[i].data);
  }
  memset(t, 0, sizeof *t);
}

static uint32_t rng_state = 88172645u;

static uint32_t next_random(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}

/* The case's inputs: test_data_set_0/input_K.pb named by their files (or
 * by the engine's input order), else random values (dynamic dims 2). */
static InferStatus *case_inputs(const char *dir, InferEngine *e, Tensors *in) {
  memset(in, 0, sizeof *in);
  char path[4200];
  snprintf(path, sizeof path, "%s/test_data_set_0/input_0.pb", dir);
  bool from_files = is_file(path);
  int k = 0;
  for (int i = 0; i < infer_engine_num_io(e) && k < MAX_IO; i++) {
    if (!infer_engine_io_is_input(e, i)) continue;
    InferTensorView *v = &in->v[k];
    if (from_files) {
      snprintf(path, sizeof path, "%s/test_data_set_0/input_%d.pb", dir, k);
      if (!is_file(path)) break;
      char *name = NULL;
      InferStatus *st = infer_onnx_read_tensor_file(path, v, &name);
      if (st) return st;
      if (!name || !*name || infer_engine_io_index(e, name) < 0) {
        free(name);
        name = strdup(infer_engine_io_name(e, i));
      }
      in->name[k] = name;
    } else {
      in->name[k] = strdup(infer_engine_io_name(e, i));
      v->dtype = infer_engine_io_dtype(e, i);
      v->shape = infer_engine_io_shape(e, i);
      for (int d = 0; d < v->shape.rank; d++)
        if (v->shape.d[d] < 0) v->shape.d[d] = 2;
      int64_t n = infer_shape_numel(&v->shape);
      v->data = calloc((size_t)n + 1, infer_dtype_size(v->dtype) + 1);
      for (int64_t j = 0; v->data && j < n; j++) {
        uint32_t r = next_random();
        switch (v->dtype) {
          case INFER_DTYPE_F32: ((float *)v->data)[j] = (float)r / 4294967296.0f * 2 - 1; break;
          case INFER_DTYPE_I64: ((int64_t *)v->data)[j] = r % 4; break;
          case INFER_DTYPE_I32: ((int32_t *)v->data)[j] = (int32_t)(r % 4); break;
          case INFER_DTYPE_BOOL: ((uint8_t *)v->data)[j] = r & 1; break;
          default: break;
        }
      }
    }
    in->n = ++k;
  }
  return NULL;
}

/* Runs e on `in`; outputs are copied into `out` in the engine's order. */
static InferStatus *run_engine(InferEngine *e, const Tensors *in, Tensors *out) {
  memset(out, 0, sizeof *out);
  InferContext *ctx = NULL;
  InferStream *stream = NULL;
  InferStatus *st = infer_context_create(e, &ctx);
  if (!st) st = infer_stream_create(e, &stream);
  for (int i = 0; !st && i < in->n; i++) {
    st = infer_context_set_input_shape(ctx, in->name[i], &in->v[i].shape);
    if (!st) st = infer_context_set_tensor_address(ctx, in->name[i], in->v[i].data);
  }
  if (!st) st = infer_context_enqueue(ctx, stream);
  if (!st) st = infer_stream_synchronize(stream);
  for (int i = 0; !st && i < infer_engine_num_io(e) && out->n < MAX_IO; i++) {
    if (infer_engine_io_is_input(e, i)) continue;
    InferTensorView v;
    st = infer_context_get_output(ctx, infer_engine_io_name(e, i), &v);
    if (st) break;
    int64_t n = infer_shape_numel(&v.shape);
    size_t bytes = (size_t)(n > 0 ? n : 0) * infer_dtype_size(v.dtype);
    out->name[out->n] = strdup(infer_engine_io_name(e, i));
    out->v[out->n] = v;
    out->v[out->n].data = malloc(bytes + 1);
    if (out->v[out->n].data) memcpy(out->v[out->n].data, v.data, bytes);
    out->n++;
  }
  infer_stream_release(stream);
  infer_context_release(ctx);
  if (st) tensors_free(out);
  return st;
}

static double element(const InferTensorView *v, int64_t i) {
  switch (v->dtype) {
    case INFER_DTYPE_F32: return ((const float *)v->data)[i];
    case INFER_DTYPE_F16: return infer_half_to_float(((const uint16_t *)v->data)[i]);
    case INFER_DTYPE_I8: return ((const int8_t *)v->data)[i];
    case INFER_DTYPE_U8:
    case INFER_DTYPE_BOOL: return ((const uint8_t *)v->data)[i];
    case INFER_DTYPE_I32: return ((const int32_t *)v->data)[i];
    case INFER_DTYPE_I64: return (double)((const int64_t *)v->data)[i];
    default: return 0;
  }
}

/* Normalized error of b against a; INFINITY for a type, shape, integer,
 * NaN-position or infinity mismatch. */
static double normalized_error(const InferTensorView *a, const InferTensorView *b) {
  if (a->dtype != b->dtype || !infer_shape_equal(&a->shape, &b->shape)) return INFINITY;
  bool exact = !infer_dtype_is_float(a->dtype);
  int64_t n = infer_shape_numel(&a->shape);
  double num = 0, den = 0;
  for (int64_t i = 0; i < n; i++) {
    double x = element(a, i), y = element(b, i);
    if (isnan(x) || isnan(y)) {
      if (isnan(x) != isnan(y)) return INFINITY;
      continue;
    }
    if (isinf(x) || isinf(y) || exact) {
      if (x != y) return INFINITY;
      continue;
    }
    num += (x - y) * (x - y);
    den += x * x;
  }
  return den > 0 ? sqrt(num / den) : sqrt(num);
}

/* ---- one case -------------------------------------------------------------- */

typedef struct PassLog {
  char summary[1024];
} PassLog;

/* Rewrites per pass over every case. */
typedef struct Total {
  char name[128];
  long rewrites;
  int cases;
} Total;
static Total totals[2][32]; /* [0]: on engines' networks, [1]: on parsed networks */
static int n_totals[2], raw_mode;

static void add_total(const char *name, int n) {
  Total *t = totals[raw_mode];
  int i = 0;
  while (i < n_totals[raw_mode] && strcmp(t[i].name, name) != 0) i++;
  if (i == n_totals[raw_mode]) {
    if (i == 32) return;
    snprintf(t[i].name, sizeof t[i].name, "%s", name);
    n_totals[raw_mode]++;
  }
  t[i].rewrites += n;
  t[i].cases++;
}

/* Collects "pass <name>: <n> rewrites, ..." lines with n > 0. */
static void on_log(const char *line, void *user) {
  PassLog *log = user;
  char name[128];
  int n;
  if (sscanf(line, "pass %127[^:]: %d rewrites", name, &n) == 2 && n > 0) {
    add_total(name, n);
    size_t len = strlen(log->summary);
    snprintf(log->summary + len, sizeof log->summary - len, "%s%s %d", len ? ", " : "", name, n);
  }
}

/* A fresh copy of net made layer by layer, so tensor shapes are those
 * inferred as layers are added (dynamic dims -1), as in the build. */
static InferStatus *copy_network(const InferNetwork *net, InferNetwork **out) {
  InferRewrite rw;
  INFER_TRY(infer_rewrite_begin(&rw, net));
  InferStatus *st = infer_rewrite_copy_rest(&rw);
  if (!st) st = infer_rewrite_finish(&rw, out);
  infer_rewrite_free(&rw);
  return st;
}

static InferStatus *build_without_passes(const InferNetwork *net, InferEngine **e) {
  InferBuildConfig *cfg;
  INFER_TRY(infer_build_config_create(&cfg));
  infer_build_config_set_backend(cfg, INFER_BACKEND_CPU);
  infer_build_config_set_optimization_level(cfg, 0);
  InferStatus *st = infer_engine_build(net, cfg, e);
  infer_build_config_release(cfg);
  return st;
}

static void fail_case(const char *name, const char *what, InferStatus *st) {
  test_checks_failed++;
  fprintf(stderr, "FAIL %s: %s%s%s\n", name, what, st ? ": " : "", st ? infer_status_message(st) : "");
  infer_status_free(st);
}

/* Compares a network (parsed from dir/model.onnx when net is NULL) with
 * its optimized forms; takes net over. */
static void run_case(const char *dir, const char *name, bool report, Counts *c, InferNetwork *net) {
  char path[4200];
  snprintf(path, sizeof path, "%s/model.onnx", dir ? dir : ".");
  InferNetwork *opt = NULL;
  InferEngine *e0 = NULL, *e1 = NULL;
  Tensors in = {0}, out0 = {0}, out1 = {0};
  InferBuildConfig *cfg = NULL;
  PassLog log = {""};
  InferStatus *st = net ? NULL : infer_onnx_parse_file(path, &net);
  if (!st) st = build_without_passes(net, &e0);
  if (!st) st = case_inputs(dir ? dir : "", e0, &in);
  if (!st) st = run_engine(e0, &in, &out0);
  if (st) { /* not something the engine runs without passes: nothing to compare */
    infer_status_free(st);
    c->skipped++;
    goto done;
  }
  st = copy_network(infer_engine_network(e0), &opt);
  if (st) {
    fail_case(name, "copying the network", st);
    goto done;
  }
  int before = opt->n_layers;
  st = infer_build_config_create(&cfg);
  if (!st) infer_build_config_set_backend(cfg, INFER_BACKEND_CPU);
  if (!st) {
    infer_build_config_set_log(cfg, on_log, &log);
    InferPassContext pctx = {INFER_BACKEND_CPU, cfg};
    st = infer_run_passes(&pctx, &opt);
  }
  if (st) {
    fail_case(name, "optimizer", st);
    goto done;
  }
  int after = opt->n_layers;
  if (report && getenv("PASS_MANAGER_VERBOSE"))
    for (int32_t l = 0; l < opt->n_layers; l++)
      printf("  %s %s -> %s\n", infer_op_name(opt->layers[l].op), opt->layers[l].name,
             opt->tensors[opt->layers[l].outputs[0]].name);
  st = build_without_passes(opt, &e1);
  if (!st) st = run_engine(e1, &in, &out1);
  if (st) {
    fail_case(name, "the optimized network", st);
    goto done;
  }
  test_checks_passed++;
  c->compared++;
  CHECK(out0.n == out1.n);
  for (int i = 0; i < out0.n && i < out1.n; i++) {
    double err = normalized_error(&out0.v[i], &out1.v[i]);
    bool ok = strcmp(out0.name[i], out1.name[i]) == 0 && err <= 1e-5;
    CHECK(ok);
    if (!ok)
      fprintf(stderr, "FAIL %s: output '%s' differs after the passes (normalized error %g)\n",
              name, out0.name[i], err);
  }
  if (report)
    printf("pass_manager: %s: layers %d -> %d%s%s%s\n", name, before, after, log.summary[0] ? " (" : "",
           log.summary, log.summary[0] ? ")" : "");
  /* the passes also take the parsed network as it is (before the build's own
   * folding and pruning), where constant sub-graphs and dead layers remain */
  InferNetwork *raw = NULL;
  InferEngine *e2 = NULL;
  Tensors out2 = {0};
  InferPassContext raw_ctx = {INFER_BACKEND_CPU, cfg};
  log.summary[0] = 0;
  st = copy_network(net, &raw);
  raw_mode = 1;
  if (!st) st = infer_run_passes(&raw_ctx, &raw);
  raw_mode = 0;
  if (!st) st = build_without_passes(raw, &e2);
  if (!st) st = run_engine(e2, &in, &out2);
  if (st) {
    fail_case(name, "the optimized parsed network", st);
  } else {
    CHECK(out0.n == out2.n);
    for (int i = 0; i < out0.n && i < out2.n; i++) {
      double err = normalized_error(&out0.v[i], &out2.v[i]);
      bool ok = strcmp(out0.name[i], out2.name[i]) == 0 && err <= 1e-5;
      CHECK(ok);
      if (!ok)
        fprintf(stderr, "FAIL %s: output '%s' differs after the passes on the parsed network "
                "(normalized error %g)\n", name, out0.name[i], err);
    }
  }
  tensors_free(&out2);
  infer_engine_release(e2);
  infer_network_release(raw);
  /* the optimized network is stable: optimizing it again changes nothing much */
  InferPassContext again = {INFER_BACKEND_CPU, NULL};
  st = infer_run_passes(&again, &opt);
  if (st) fail_case(name, "optimizer, second run", st);
  else CHECK(opt->n_layers <= after);
done:
  tensors_free(&in);
  tensors_free(&out0);
  tensors_free(&out1);
  infer_build_config_release(cfg);
  infer_engine_release(e0);
  infer_engine_release(e1);
  infer_network_release(opt);
  infer_network_release(net);
}

/* Every case folder (one with a model.onnx) directly under root. */
static void run_folder(const char *root, bool report, Counts *c) {
  int n;
  char **names = list_dirs(root, &n);
  for (int i = 0; i < n; i++) {
    char dir[4096], model[4200];
    snprintf(dir, sizeof dir, "%s/%s", root, names[i]);
    snprintf(model, sizeof model, "%s/model.onnx", dir);
    if (is_file(model)) run_case(dir, names[i], report, c, NULL);
    free(names[i]);
  }
  free(names);
}

/* ---- a network in code with every pattern the cleanup and folding passes
 * handle, in the order an exporter would write them ---------------------- */

static InferTensorId add(InferNetwork *net, const char *name, InferOp op, const InferOpParams *p,
                         int n, const InferTensorId *in) {
  InferTensorId t = INFER_NO_TENSOR;
  const char *names[1] = {name};
  CHECK_OK(infer_network_add_layer(net, name, op, p, n, in, 1, names, &t));
  return t;
}

static InferTensorId constant(InferNetwork *net, const char *name, InferDType dt, int rank,
                              const int64_t *dims, double lo, double hi) {
  InferShape s = infer_shape_make(rank, dims);
  int64_t n = infer_shape_numel(&s);
  void *v = calloc((size_t)n + 1, 8);
  for (int64_t i = 0; v && i < n; i++) {
    double r = lo + (hi - lo) * ((double)next_random() / 4294967296.0);
    if (dt == INFER_DTYPE_F32) ((float *)v)[i] = (float)r;
    else ((int64_t *)v)[i] = (int64_t)lo;
  }
  InferTensorId t = INFER_NO_TENSOR;
  CHECK_OK(infer_network_add_constant(net, name, dt, &s, v, &t));
  free(v);
  return t;
}

static InferNetwork *synthetic_network(void) {
  InferNetwork *net = NULL;
  CHECK_OK(infer_network_create(&net));
  if (!net) return NULL;
  InferShape xs = {4, {-1, 3, 12, 12}};
  InferTensorId x, t;
  CHECK_OK(infer_network_add_input(net, "x", INFER_DTYPE_F32, &xs, &x));
  InferOpParams p;
  /* Pad -> Conv -> BatchNorm -> Relu */
  int64_t pads_v[8] = {0, 0, 1, 1, 0, 0, 1, 1}, d8[1] = {8}, wd[4] = {8, 3, 3, 3}, c8[1] = {8};
  InferShape ps = {1, {8}};
  InferTensorId pads;
  CHECK_OK(infer_network_add_constant(net, "pads", INFER_DTYPE_I64, &ps, pads_v, &pads));
  memset(&p, 0, sizeof p);
  InferTensorId pin[2] = {x, pads};
  t = add(net, "padded", INFER_OP_PAD, &p, 2, pin);
  memset(&p, 0, sizeof p);
  p.conv.spatial = 2;
  p.conv.group = 1;
  InferTensorId cin[3] = {t, constant(net, "w", INFER_DTYPE_F32, 4, wd, -0.5, 0.5),
                          constant(net, "b", INFER_DTYPE_F32, 1, c8, -0.1, 0.1)};
  t = add(net, "conv", INFER_OP_CONV, &p, 3, cin);
  memset(&p, 0, sizeof p);
  p.norm.epsilon = 1e-5f;
  InferTensorId bin[5] = {t, constant(net, "gamma", INFER_DTYPE_F32, 1, d8, 0.5, 1.5),
                          constant(net, "beta", INFER_DTYPE_F32, 1, d8, -0.2, 0.2),
                          constant(net, "mean", INFER_DTYPE_F32, 1, d8, -0.2, 0.2),
                          constant(net, "var", INFER_DTYPE_F32, 1, d8, 0.5, 1.5)};
  t = add(net, "bn", INFER_OP_BATCHNORM, &p, 5, bin);
  memset(&p, 0, sizeof p);
  p.unary.kind = INFER_UNARY_RELU;
  t = add(net, "relu", INFER_OP_UNARY, &p, 1, &t);
  /* a dead branch */
  p.unary.kind = INFER_UNARY_SIGMOID;
  add(net, "dead", INFER_OP_UNARY, &p, 1, &t);
  /* Transpose to NHWC and back, Identity, x * 1 */
  memset(&p, 0, sizeof p);
  p.transpose.n_perm = 4;
  int64_t nhwc[4] = {0, 2, 3, 1}, nchw[4] = {0, 3, 1, 2};
  memcpy(p.transpose.perm, nhwc, sizeof nhwc);
  t = add(net, "to_nhwc", INFER_OP_TRANSPOSE, &p, 1, &t);
  memcpy(p.transpose.perm, nchw, sizeof nchw);
  t = add(net, "to_nchw", INFER_OP_TRANSPOSE, &p, 1, &t);
  memset(&p, 0, sizeof p);
  p.reshape.kind = INFER_RESHAPE_IDENTITY;
  t = add(net, "identity", INFER_OP_RESHAPE, &p, 1, &t);
  memset(&p, 0, sizeof p);
  p.binary.kind = INFER_BINARY_MUL;
  InferTensorId min[2] = {t, constant(net, "one", INFER_DTYPE_F32, 0, NULL, 1.0, 1.0)};
  t = add(net, "times_one", INFER_OP_BINARY, &p, 2, min);
  /* ReduceMean over H, W without keepdims -> [N,8] */
  int64_t two[1] = {2};
  InferShape as = {1, {2}};
  int64_t axes_v[2] = {2, 3};
  InferTensorId axes;
  CHECK_OK(infer_network_add_constant(net, "axes", INFER_DTYPE_I64, &as, axes_v, &axes));
  (void)two;
  memset(&p, 0, sizeof p);
  p.reduce.kind = INFER_REDUCE_MEAN;
  InferTensorId rin[2] = {t, axes};
  t = add(net, "mean_hw", INFER_OP_REDUCE, &p, 2, rin);
  /* MatMul + (bias computed from constants) */
  int64_t wm[2] = {8, 10}, b10[1] = {10};
  InferTensorId mm_in[2] = {t, constant(net, "fc_w", INFER_DTYPE_F32, 2, wm, -0.5, 0.5)};
  memset(&p, 0, sizeof p);
  t = add(net, "fc", INFER_OP_MATMUL, &p, 2, mm_in);
  memset(&p, 0, sizeof p);
  p.binary.kind = INFER_BINARY_ADD;
  InferTensorId half[2] = {constant(net, "b_a", INFER_DTYPE_F32, 1, b10, -0.1, 0.1),
                           constant(net, "b_b", INFER_DTYPE_F32, 1, b10, -0.1, 0.1)};
  InferTensorId bias = add(net, "fc_bias", INFER_OP_BINARY, &p, 2, half);
  InferTensorId ain[2] = {t, bias};
  t = add(net, "fc_out", INFER_OP_BINARY, &p, 2, ain);
  /* Unsqueeze -> Flatten: a chain of reshapes */
  int64_t ax1[1] = {1};
  InferShape one_s = {1, {1}};
  InferTensorId uax;
  CHECK_OK(infer_network_add_constant(net, "uax", INFER_DTYPE_I64, &one_s, ax1, &uax));
  memset(&p, 0, sizeof p);
  p.reshape.kind = INFER_RESHAPE_UNSQUEEZE;
  InferTensorId uin[2] = {t, uax};
  t = add(net, "unsq", INFER_OP_RESHAPE, &p, 2, uin);
  p.reshape.kind = INFER_RESHAPE_FLATTEN;
  p.reshape.axis = 1;
  t = add(net, "logits", INFER_OP_RESHAPE, &p, 1, &t);
  CHECK_OK(infer_network_mark_output(net, t));
  return net;
}

int main(int argc, char **argv) {
  const char *models = argc > 1 ? argv[1] : NULL;
  const char *data = argc > 2 ? argv[2] : "/usr/share/libonnx-testdata/data";
  Counts generated = {0, 0}, onnx = {0, 0};
  if (models && is_dir(models)) {
    run_folder(models, true, &generated);
    printf("pass_manager: generated models: %d compared, %d skipped\n", generated.compared,
           generated.skipped);
  } else {
    printf("pass_manager: no generated models folder given or found, skipped\n");
  }
  Counts synthetic = {0, 0};
  run_case(NULL, "synthetic", true, &synthetic, synthetic_network());
  CHECK(synthetic.compared == 1);
  static const char *suites[] = {"node", "pytorch-converted", "pytorch-operator", "simple"};
  for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", data, suites[i]);
    if (!is_dir(dir)) {
      printf("pass_manager: %s not found, skipped\n", dir);
      continue;
    }
    Counts c = {0, 0};
    run_folder(dir, false, &c);
    printf("pass_manager: %s: %d compared, %d skipped\n", suites[i], c.compared, c.skipped);
    onnx.compared += c.compared;
    onnx.skipped += c.skipped;
  }
  for (int m = 0; m < 2; m++)
    for (int i = 0; i < n_totals[m]; i++)
      printf("pass_manager: %s rewrote %ld times in %d cases (%s networks)\n", totals[m][i].name,
             totals[m][i].rewrites, totals[m][i].cases, m ? "parsed" : "engines'");
  TEST_MAIN_END("pass_manager");
}
