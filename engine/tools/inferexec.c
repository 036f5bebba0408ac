/* inferexec: builds or loads an engine, saves it as a plan, runs it on
 * random or given inputs, compares with the CPU reference, and prints a
 * performance summary, in the spirit of trtexec. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "infer/caffe.h"
#include "infer/calibration.h"
#include "infer/infer.h"
#include "infer/plugin.h"
#include "inferexec_bench.h"
#include "inferexec_options.h"
#include "inferexec_report.h"
#include "tool_tensors.h"

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Calls fn(cfg, input, shape) for every "name:AxBxC" item of spec. */
typedef InferStatus *(*ShapeFn)(InferBuildConfig *cfg, const char *input, const InferShape *s,
                                int which, void *user);

static InferStatus *parse_shape_spec(const char *spec, const char *option, ShapeFn fn,
                                     InferBuildConfig *cfg, int which, void *user) {
  char *copy = strdup(spec), *save = NULL;
  if (!copy) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "out of memory");
  InferStatus *st = NULL;
  for (char *item = strtok_r(copy, ",", &save); item && !st; item = strtok_r(NULL, ",", &save)) {
    char *colon = strrchr(item, ':');
    if (!colon) {
      st = infer_status_new(INFER_ERR_INVALID_ARGUMENT, "%s: '%s' is not name:AxBxC", option, item);
      break;
    }
    *colon = 0;
    InferShape s = {0, {0}};
    char *save2 = NULL;
    for (char *d = strtok_r(colon + 1, "x", &save2); d && !st; d = strtok_r(NULL, "x", &save2)) {
      char *end;
      long long v = strtoll(d, &end, 10);
      if (*end || v < 0 || s.rank == INFER_MAX_RANK)
        st = infer_status_new(INFER_ERR_INVALID_ARGUMENT, "%s: bad dimension '%s' for input '%s'",
                              option, d, item);
      else
        s.d[s.rank++] = v;
    }
    if (!st) st = fn(cfg, item, &s, which, user);
  }
  free(copy);
  return st;
}

/* min/opt/max collected per input before they go into the config. */
typedef struct Ranges {
  int n;
  char names[32][256];
  InferShape s[32][3];
  bool set[32][3];
} Ranges;

static InferStatus *collect_range(InferBuildConfig *cfg, const char *input, const InferShape *s,
                                  int which, void *user) {
  (void)cfg;
  Ranges *r = user;
  int i = 0;
  while (i < r->n && strcmp(r->names[i], input) != 0) i++;
  if (i == r->n) {
    if (r->n == 32) return infer_status_new(INFER_ERR_UNSUPPORTED, "more than 32 inputs in shapes");
    snprintf(r->names[r->n++], sizeof r->names[0], "%s", input);
  }
  if (which < 0) {
    for (int k = 0; k < 3; k++) {
      r->s[i][k] = *s;
      r->set[i][k] = true;
    }
  } else {
    r->s[i][which] = *s;
    r->set[i][which] = true;
  }
  return NULL;
}

/* --batch N: the first dim of every input whose first dim is dynamic. */
static InferStatus *apply_batch(const InferNetwork *net, int batch, Ranges *r) {
  for (int i = 0; i < infer_network_num_inputs(net); i++) {
    InferTensorId t = infer_network_input(net, i);
    InferShape s = infer_network_tensor_shape(net, t);
    if (s.rank == 0 || s.d[0] >= 0) continue;
    for (int d = 1; d < s.rank; d++)
      if (s.d[d] < 0) s.d[d] = 1;
    s.d[0] = batch;
    INFER_TRY(collect_range(NULL, infer_network_tensor_name(net, t), &s, -1, r));
  }
  return NULL;
}

static bool has_qdq(const InferNetwork *net) {
  for (int i = 0; i < infer_network_num_layers(net); i++) {
    InferOp op = infer_network_layer_op(net, i);
    if (op == INFER_OP_QUANTIZE || op == INFER_OP_DEQUANTIZE) return true;
  }
  return false;
}

/* --calib: the cache into the config, and a warning naming the network's
 * tensors it has no scale for (layers reading or writing them stay float). */
static InferStatus *configure_int8(const InferexecOptions *o, const InferNetwork *net,
                                   InferBuildConfig *cfg) {
  if (!o->calib) {
    if ((o->precisions & INFER_PRECISION_INT8) && !has_qdq(net))
      return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                              "--int8 needs a calibration cache (--calib FILE): the model has no "
                              "Quantize/Dequantize nodes to take INT8 scales from");
    return NULL;
  }
  INFER_TRY(infer_build_config_set_calibration_cache(cfg, o->calib));
  const char **names = NULL;
  int n = 0;
  INFER_TRY(infer_calib_network_tensors(net, &names, &n));
  InferCalibCheck chk;
  memset(&chk, 0, sizeof chk);
  infer_status_free(infer_calib_table_check(infer_build_config_calibration_table(cfg), names, n,
                                            &chk));
  if (chk.n_missing > 0) {
    fprintf(stderr, "warning: the calibration cache %s has no scale for %d of the network's %d "
            "float tensors (Conv/Gemm layers reading or writing them stay float):", o->calib,
            chk.n_missing, n);
    for (int i = 0; i < chk.n_missing && i < 20; i++)
      fprintf(stderr, "%s %s", i ? "," : "", chk.missing[i]);
    fprintf(stderr, "%s\n", chk.n_missing > 20 ? ", ..." : "");
  }
  if (!(o->precisions & INFER_PRECISION_INT8))
    fprintf(stderr, "note: --calib without --int8 or --best: no INT8 layers are made\n");
  infer_calib_check_clear(&chk);
  free(names);
  return NULL;
}

static InferStatus *configure(const InferexecOptions *o, const InferNetwork *net,
                              InferBuildConfig *cfg) {
  infer_build_config_set_backend(cfg, o->backend);
  infer_build_config_set_precisions(cfg, o->precisions);
  if (o->no_tf32) infer_build_config_set_tf32(cfg, false);
  if (o->int8_exact) infer_build_config_set_int8_exact(cfg, true);
  INFER_TRY(configure_int8(o, net, cfg));
  if (o->opt_level >= 0) infer_build_config_set_optimization_level(cfg, o->opt_level);
  for (int i = 0; i < o->n_disabled_passes; i++)
    INFER_TRY(infer_build_config_disable_pass(cfg, o->disabled_passes[i]));
  if (o->timing_cache) INFER_TRY(infer_build_config_set_timing_cache(cfg, o->timing_cache));
  Ranges r;
  memset(&r, 0, sizeof r);
  if (o->batch > 0) INFER_TRY(apply_batch(net, o->batch, &r));
  if (o->shapes) INFER_TRY(parse_shape_spec(o->shapes, "--shapes", collect_range, cfg, -1, &r));
  if (o->min_shapes) INFER_TRY(parse_shape_spec(o->min_shapes, "--min-shapes", collect_range, cfg, 0, &r));
  if (o->opt_shapes) INFER_TRY(parse_shape_spec(o->opt_shapes, "--opt-shapes", collect_range, cfg, 1, &r));
  if (o->max_shapes) INFER_TRY(parse_shape_spec(o->max_shapes, "--max-shapes", collect_range, cfg, 2, &r));
  for (int i = 0; i < r.n; i++) {
    /* a missing bound takes the opt shape (or the one given) */
    const InferShape *fallback = r.set[i][1] ? &r.s[i][1] : (r.set[i][2] ? &r.s[i][2] : &r.s[i][0]);
    for (int k = 0; k < 3; k++)
      if (!r.set[i][k]) r.s[i][k] = *fallback;
    INFER_TRY(infer_build_config_set_input_range(cfg, r.names[i], &r.s[i][0], &r.s[i][1], &r.s[i][2]));
  }
  return NULL;
}

static void print_log(const char *line, void *user) {
  (void)user;
  printf("optimizer: %s\n", line);
}

static bool print_progress(const char *phase, int done, int total, void *user) {
  (void)user;
  fprintf(stderr, "build: %s (%d/%d)\n", phase, done, total);
  return true;
}

/* --shapes entries, kept for Caffe nets whose Data layers declare no shape. */
typedef struct CaffeShapes {
  int n;
  char names[32][256];
  const char *name_ptrs[32];
  InferShape shapes[32];
} CaffeShapes;

static InferStatus *collect_caffe_shape(InferBuildConfig *cfg, const char *input,
                                        const InferShape *s, int which, void *user) {
  (void)cfg;
  (void)which;
  CaffeShapes *c = user;
  if (c->n == 32) return infer_status_new(INFER_ERR_UNSUPPORTED, "more than 32 inputs in --shapes");
  snprintf(c->names[c->n], sizeof c->names[0], "%s", input);
  c->name_ptrs[c->n] = c->names[c->n];
  c->shapes[c->n++] = *s;
  return NULL;
}

/* --deploy/--model/--mean/--output/--batch (and --shapes) into a network. */
static InferStatus *parse_caffe(const InferexecOptions *o, InferNetwork **net) {
  char *lists[32] = {0};
  const char *names[256];
  int n_names = 0;
  InferStatus *st = NULL;
  for (int i = 0; i < o->n_outputs && !st; i++) {
    lists[i] = strdup(o->outputs[i]);
    if (!lists[i]) {
      st = infer_status_new(INFER_ERR_OUT_OF_MEMORY, "out of memory");
      break;
    }
    char *save = NULL;
    for (char *t = strtok_r(lists[i], ",", &save); t && !st; t = strtok_r(NULL, ",", &save)) {
      if (n_names == 256) st = infer_status_new(INFER_ERR_UNSUPPORTED, "more than 256 outputs");
      else names[n_names++] = t;
    }
  }
  CaffeShapes shapes;
  memset(&shapes, 0, sizeof shapes);
  if (!st && o->shapes)
    st = parse_shape_spec(o->shapes, "--shapes", collect_caffe_shape, NULL, -1, &shapes);
  if (!st) {
    InferCaffeOptions co;
    memset(&co, 0, sizeof co);
    co.outputs = names;
    co.n_outputs = n_names;
    co.batch_size = o->batch;
    co.mean_file = o->mean;
    co.input_names = shapes.name_ptrs;
    co.input_shapes = shapes.shapes;
    co.n_input_shapes = shapes.n;
    st = infer_caffe_parse(o->deploy, o->model, &co, net);
  }
  for (int i = 0; i < 32; i++) free(lists[i]);
  return st;
}

static InferStatus *build_from_model(const InferexecOptions *o, InferNetwork **net,
                                     InferEngine **engine, Report *rep) {
  double t0 = now_ms();
  if (o->deploy)
    INFER_TRY(parse_caffe(o, net));
  else
    INFER_TRY(infer_onnx_parse_file(o->onnx, net));
  rep->parse_ms = now_ms() - t0;
  InferBuildConfig *cfg;
  INFER_TRY(infer_build_config_create(&cfg));
  infer_build_config_set_progress(cfg, print_progress, NULL);
  infer_build_config_set_log(cfg, print_log, NULL);
  InferStatus *st = configure(o, *net, cfg);
  t0 = now_ms();
  if (!st) st = infer_engine_build(*net, cfg, engine);
  rep->build_ms = now_ms() - t0;
  infer_build_config_release(cfg);
  return st;
}

/* The reference: the same network on the CPU backend. */
static InferStatus *compare_with_reference(InferEngine *engine, const InferNetwork *source,
                                           const ToolTensor *inputs, int n_in,
                                           const ToolTensor *outputs, int n_out) {
  InferBuildConfig *cfg;
  INFER_TRY(infer_build_config_create(&cfg));
  infer_build_config_set_backend(cfg, INFER_BACKEND_CPU);
  InferEngine *ref = NULL;
  ToolTensor *expected = NULL;
  int n_exp = 0;
  InferStatus *st = infer_engine_build(source ? source : infer_engine_network(engine), cfg, &ref);
  if (!st) st = tool_run(ref, inputs, n_in, &expected, &n_exp);
  for (int i = 0; !st && i < n_out; i++) {
    const ToolTensor *e = NULL;
    for (int j = 0; j < n_exp; j++)
      if (strcmp(expected[j].name, outputs[i].name) == 0) e = &expected[j];
    if (!e) {
      printf("compare %s: missing in the reference\n", outputs[i].name);
      continue;
    }
    double max_abs, max_rel;
    tool_max_errors(&e->view, &outputs[i].view, &max_abs, &max_rel);
    printf("compare %s: max_abs=%.6g max_rel=%.6g\n", outputs[i].name, max_abs, max_rel);
  }
  tool_tensors_free(expected, n_exp);
  infer_engine_release(ref);
  infer_build_config_release(cfg);
  return st;
}

static InferStatus *load_inputs(const char *spec, ToolTensor *inputs, int n) {
  char *copy = strdup(spec), *save = NULL;
  if (!copy) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "out of memory");
  InferStatus *st = NULL;
  for (char *item = strtok_r(copy, ",", &save); item && !st; item = strtok_r(NULL, ",", &save)) {
    char *colon = strchr(item, ':');
    if (!colon) {
      st = infer_status_new(INFER_ERR_INVALID_ARGUMENT, "--load-inputs: '%s' is not name:file", item);
      break;
    }
    *colon = 0;
    ToolTensor *target = NULL;
    for (int i = 0; i < n; i++)
      if (strcmp(inputs[i].name, item) == 0) target = &inputs[i];
    if (!target) {
      st = infer_status_new(INFER_ERR_INVALID_ARGUMENT, "--load-inputs: the engine has no input '%s'",
                            item);
      break;
    }
    InferTensorView v;
    st = infer_onnx_read_tensor_file(colon + 1, &v, NULL);
    if (!st) {
      free(target->view.data);
      target->view = v;
    }
  }
  free(copy);
  return st;
}

static InferStatus *save_outputs(const char *dir, const ToolTensor *outputs, int n) {
  for (int i = 0; i < n; i++) {
    char path[4096], safe[256];
    snprintf(safe, sizeof safe, "%s", outputs[i].name);
    for (char *p = safe; *p; p++)
      if (*p == '/' || *p == ':') *p = '_';
    snprintf(path, sizeof path, "%s/%s.pb", dir, safe);
    INFER_TRY(infer_onnx_write_tensor_file(path, outputs[i].name, &outputs[i].view));
    printf("saved %s\n", path);
  }
  return NULL;
}

static InferStatus *run(const InferexecOptions *o) {
  InferNetwork *net = NULL;
  InferEngine *engine = NULL;
  ToolTensor *inputs = NULL, *outputs = NULL;
  int n_in = 0, n_out = 0;
  Report rep;
  memset(&rep, 0, sizeof rep);
  InferStatus *st;
  /* the reports name the model by o->onnx: the prototxt stands in for it */
  InferexecOptions shown = *o;
  if (!shown.onnx && !shown.load_engine) shown.onnx = o->deploy;
  /* custom layers first: the model or plan may need them */
  for (int i = 0; i < o->n_plugins; i++)
    INFER_TRY(infer_plugin_load_libraries(o->plugins[i]));
  if (o->load_engine) {
    /* the device context once per process, apart from the plan's own load time */
    double t0 = now_ms();
    st = infer_backend_init(INFER_BACKEND_AUTO);
    if (!st) printf("device init: %.3f ms\n", now_ms() - t0);
    infer_status_free(st);
    t0 = now_ms();
    st = infer_engine_load(o->load_engine, &engine);
    rep.load_ms = now_ms() - t0;
  } else {
    st = build_from_model(o, &net, &engine, &rep);
  }
  if (!st && o->save_engine) {
    double t0 = now_ms();
    st = infer_engine_save(engine, o->save_engine);
    rep.save_ms = now_ms() - t0;
    if (!st) printf("saved engine to %s\n", o->save_engine);
  }
  if (!st) {
    report_header(stdout, &shown, net, engine, &rep);
    if (o->dump_graph) report_graph(stdout, net, engine);
    st = tool_random_inputs(engine, o->seed, &inputs, &n_in);
  }
  if (!st && o->load_inputs) st = load_inputs(o->load_inputs, inputs, n_in);
  if (!st) st = tool_run(engine, inputs, n_in, &outputs, &n_out);
  for (int i = 0; !st && i < n_out; i++)
    tool_print_tensor(stdout, outputs[i].name, &outputs[i].view, o->print_values);
  if (!st && o->save_outputs) st = save_outputs(o->save_outputs, outputs, n_out);
  if (!st && o->compare) st = compare_with_reference(engine, net, inputs, n_in, outputs, n_out);
  BenchResult bench;
  BenchConfig bc = {o->streams, o->warmup, o->iterations, o->duration_s, !o->no_data_transfers};
  if (!st) st = bench_run(engine, inputs, n_in, &bc, &bench);
  if (!st) report_summary(stdout, &shown, engine, &bench);
  if (!st && o->dump_profile) st = report_profile(stdout, engine, inputs, n_in, o->iterations, &rep);
  if (!st && o->export_json) st = report_json(o->export_json, &shown, net, engine, &rep, &bench);
  tool_tensors_free(inputs, n_in);
  tool_tensors_free(outputs, n_out);
  report_free(&rep);
  infer_engine_release(engine);
  infer_network_release(net);
  return st;
}

int main(int argc, char **argv) {
  InferexecOptions o;
  int rc = inferexec_parse_options(argc, argv, &o);
  if (rc) return rc > 0 ? 0 : 2;
  /* the runtime's switch for every context this process makes */
  if (o.no_cuda_graph) setenv("INFER_CUDA_GRAPHS", "0", 1);
  InferStatus *st = run(&o);
  if (st) {
    fprintf(stderr, "inferexec: error: %s\n", infer_status_message(st));
    infer_status_free(st);
    return 1;
  }
  return 0;
}
