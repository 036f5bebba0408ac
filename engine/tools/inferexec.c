/* inferexec: build an engine from an ONNX model, run it on given or random
 * inputs, print the outputs and the timing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "infer/infer.h"
#include "tool_tensors.h"

typedef struct Options {
  const char *onnx;
  const char *shapes;       /* name:1x3x224x224,name2:... */
  const char *load_inputs;  /* name:file.pb,... */
  InferBackendKind backend;
  int iterations, warmup, print_values;
  unsigned seed;
} Options;

static void usage(FILE *f) {
  fprintf(f,
          "usage: inferexec --onnx MODEL [options]\n"
          "  --onnx FILE             ONNX model to build\n"
          "  --backend cpu|cuda|auto backend (default auto: CUDA when present, else CPU)\n"
          "  --shapes SPEC           input shapes, e.g. input:1x3x224x224,mask:1x10\n"
          "  --load-inputs SPEC      inputs from serialized TensorProto files, e.g. input:x.pb\n"
          "                          (inputs not named are filled with seeded random data)\n"
          "  --seed N                seed of the random inputs (default 1)\n"
          "  --iterations N          timed runs (default 10)\n"
          "  --warmup N              untimed runs first (default 1)\n"
          "  --print N               values printed per output (default 8)\n"
          "  --help                  this text\n");
}

static int parse_int(const char *s, const char *opt, int *out) {
  char *end;
  long v = strtol(s, &end, 10);
  if (*s == 0 || *end != 0 || v < 0 || v > 100000000) {
    fprintf(stderr, "inferexec: %s needs a non-negative integer, not '%s'\n", opt, s);
    return -1;
  }
  *out = (int)v;
  return 0;
}

static int parse_args(int argc, char **argv, Options *o) {
  memset(o, 0, sizeof *o);
  o->iterations = 10;
  o->warmup = 1;
  o->print_values = 8;
  o->seed = 1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    const char *eq = strchr(a, '=');
    char key[64];
    if (eq && a[0] == '-' && (size_t)(eq - a) < sizeof key) {
      memcpy(key, a, (size_t)(eq - a));
      key[eq - a] = 0;
      a = key;
      v = eq + 1;
    } else if (strcmp(a, "--help") != 0 && a[0] == '-') {
      i++;
    }
    if (strcmp(a, "--help") == 0) {
      usage(stdout);
      exit(0);
    }
    if (!v) {
      fprintf(stderr, "inferexec: %s needs a value\n", a);
      return -1;
    }
    int n;
    if (strcmp(a, "--onnx") == 0) o->onnx = v;
    else if (strcmp(a, "--shapes") == 0) o->shapes = v;
    else if (strcmp(a, "--load-inputs") == 0) o->load_inputs = v;
    else if (strcmp(a, "--iterations") == 0) { if (parse_int(v, a, &o->iterations)) return -1; }
    else if (strcmp(a, "--warmup") == 0) { if (parse_int(v, a, &o->warmup)) return -1; }
    else if (strcmp(a, "--print") == 0) { if (parse_int(v, a, &o->print_values)) return -1; }
    else if (strcmp(a, "--seed") == 0) { if (parse_int(v, a, &n)) return -1; o->seed = (unsigned)n; }
    else if (strcmp(a, "--backend") == 0) {
      if (strcmp(v, "cpu") == 0) o->backend = INFER_BACKEND_CPU;
      else if (strcmp(v, "cuda") == 0) o->backend = INFER_BACKEND_CUDA;
      else if (strcmp(v, "auto") == 0) o->backend = INFER_BACKEND_AUTO;
      else {
        fprintf(stderr, "inferexec: --backend must be cpu, cuda or auto, not '%s'\n", v);
        return -1;
      }
    } else {
      fprintf(stderr, "inferexec: unknown option '%s' (see --help)\n", argv[i - (eq ? 0 : 1)]);
      return -1;
    }
  }
  if (!o->onnx) {
    fprintf(stderr, "inferexec: --onnx MODEL is required (see --help)\n");
    return -1;
  }
  return 0;
}

/* "name:1x3x224x224,other:2x5" into the build config. */
static InferStatus *apply_shapes(InferBuildConfig *cfg, const char *spec) {
  char *copy = strdup(spec), *save = NULL;
  if (!copy) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "out of memory");
  InferStatus *st = NULL;
  for (char *item = strtok_r(copy, ",", &save); item && !st; item = strtok_r(NULL, ",", &save)) {
    char *colon = strrchr(item, ':');
    if (!colon) {
      st = infer_status_new(INFER_ERR_INVALID_ARGUMENT, "--shapes: '%s' is not name:AxBxC", item);
      break;
    }
    *colon = 0;
    InferShape s = {0, {0}};
    char *dims = colon + 1, *save2 = NULL;
    for (char *d = strtok_r(dims, "x", &save2); d; d = strtok_r(NULL, "x", &save2)) {
      char *end;
      long long v = strtoll(d, &end, 10);
      if (*end || v < 0 || s.rank == INFER_MAX_RANK) {
        st = infer_status_new(INFER_ERR_INVALID_ARGUMENT, "--shapes: bad dimension '%s' for '%s'",
                              d, item);
        break;
      }
      s.d[s.rank++] = v;
    }
    if (!st) st = infer_build_config_set_input_shape(cfg, item, &s);
  }
  free(copy);
  return st;
}

/* Replaces random inputs with the ones loaded from files. */
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
      st = infer_status_new(INFER_ERR_INVALID_ARGUMENT, "--load-inputs: the model has no input '%s'",
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

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static InferStatus *run(const Options *o) {
  InferNetwork *net = NULL;
  InferBuildConfig *cfg = NULL;
  InferEngine *engine = NULL;
  ToolTensor *inputs = NULL, *outputs = NULL;
  int n_in = 0, n_out = 0;
  double *times = NULL;
  double t0 = now_ms();
  InferStatus *st = infer_onnx_parse_file(o->onnx, &net);
  double t_parse = now_ms() - t0;
  if (!st) st = infer_build_config_create(&cfg);
  if (!st) {
    infer_build_config_set_backend(cfg, o->backend);
    if (o->shapes) st = apply_shapes(cfg, o->shapes);
  }
  t0 = now_ms();
  if (!st) st = infer_engine_build(net, cfg, &engine);
  double t_build = now_ms() - t0;
  if (!st) {
    printf("model: %s\n", o->onnx);
    printf("backend: %s\n", infer_engine_backend(engine) == INFER_BACKEND_CUDA ? "cuda" : "cpu");
    printf("layers: %d -> %d\n", infer_network_num_layers(net), infer_engine_num_layers(engine));
    printf("parse: %.2f ms, build: %.2f ms\n", t_parse, t_build);
    st = tool_random_inputs(engine, o->seed, &inputs, &n_in);
  }
  if (!st && o->load_inputs) st = load_inputs(o->load_inputs, inputs, n_in);
  for (int i = 0; !st && i < n_in; i++) tool_print_tensor(stdout, inputs[i].name, &inputs[i].view, 0);
  for (int i = 0; !st && i < o->warmup; i++) {
    tool_tensors_free(outputs, n_out);
    outputs = NULL;
    st = tool_run(engine, inputs, n_in, &outputs, &n_out);
  }
  int iters = o->iterations > 0 ? o->iterations : 1;
  times = calloc((size_t)iters, sizeof *times);
  if (!st && !times) st = infer_status_new(INFER_ERR_OUT_OF_MEMORY, "out of memory");
  for (int i = 0; !st && i < iters; i++) {
    tool_tensors_free(outputs, n_out);
    outputs = NULL;
    t0 = now_ms();
    st = tool_run(engine, inputs, n_in, &outputs, &n_out);
    times[i] = now_ms() - t0;
  }
  if (!st) {
    for (int i = 0; i < n_out; i++) tool_print_tensor(stdout, outputs[i].name, &outputs[i].view, o->print_values);
    qsort(times, (size_t)iters, sizeof *times, compare_doubles);
    double sum = 0;
    for (int i = 0; i < iters; i++) sum += times[i];
    printf("latency: min %.3f ms, mean %.3f ms, median %.3f ms, max %.3f ms (%d runs)\n", times[0],
           sum / iters, times[iters / 2], times[iters - 1], iters);
    printf("Throughput: %.2f qps\n", 1000.0 * iters / sum);
  }
  free(times);
  tool_tensors_free(inputs, n_in);
  tool_tensors_free(outputs, n_out);
  infer_engine_release(engine);
  infer_build_config_release(cfg);
  infer_network_release(net);
  return st;
}

int main(int argc, char **argv) {
  Options o;
  if (parse_args(argc, argv, &o)) return 2;
  InferStatus *st = run(&o);
  if (st) {
    fprintf(stderr, "inferexec: error: %s\n", infer_status_message(st));
    infer_status_free(st);
    return 1;
  }
  return 0;
}
