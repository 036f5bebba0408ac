/* inferexec's options: one table drives parsing and --help. */
#include "inferexec_options.h"

#include <stdlib.h>
#include <string.h>

typedef enum { ARG_NONE, ARG_STRING, ARG_INT, ARG_DOUBLE } ArgKind;

typedef struct OptionSpec {
  const char *name;
  ArgKind kind;
  size_t offset;   /* where the value goes in InferexecOptions */
  const char *help;
} OptionSpec;

#define OFF(field) offsetof(InferexecOptions, field)

static const OptionSpec specs[] = {
  {"--onnx", ARG_STRING, OFF(onnx), "FILE  ONNX model to build an engine from"},
  {"--deploy", ARG_STRING, OFF(deploy), "FILE  Caffe deploy prototxt to build an engine from"},
  {"--model", ARG_STRING, OFF(model), "FILE  Caffe weights (.caffemodel) for --deploy"},
  {"--output", ARG_STRING, 0, "NAMES  Caffe output blob(s), comma list or repeated (default: blobs no layer reads)"},
  {"--mean", ARG_STRING, OFF(mean), "FILE  mean.binaryproto subtracted from the Caffe net's first input"},
  {"--plugins", ARG_STRING, 0, "LIB  plugin library of custom layers to load (repeat, or a ':' list; INFER_PLUGIN_PATH too)"},
  {"--save-engine", ARG_STRING, OFF(save_engine), "FILE  write the built engine as a plan file"},
  {"--load-engine", ARG_STRING, OFF(load_engine), "FILE  load a plan file instead of building"},
  {"--fp16", ARG_NONE, 0, "allow FP16 layers"},
  {"--int8", ARG_NONE, 0, "allow INT8 layers (needs --calib unless the model has Q/DQ nodes)"},
  {"--best", ARG_NONE, 0, "allow every precision"},
  {"--calib", ARG_STRING, OFF(calib), "FILE  INT8 calibration cache"},
  {"--shapes", ARG_STRING, OFF(shapes), "SPEC  input shapes to run, e.g. input:8x3x224x224,mask:8x10"},
  {"--min-shapes", ARG_STRING, OFF(min_shapes), "SPEC  smallest shapes of the optimization profile"},
  {"--opt-shapes", ARG_STRING, OFF(opt_shapes), "SPEC  shapes the engine is tuned for"},
  {"--max-shapes", ARG_STRING, OFF(max_shapes), "SPEC  largest shapes of the optimization profile"},
  {"--batch", ARG_INT, OFF(batch), "N  batch size: the first dim of every dynamic-batch input (Caffe: of every input)"},
  {"--backend", ARG_STRING, 0, "cpu|cuda|auto  where the engine runs (default auto)"},
  {"--iterations", ARG_INT, OFF(iterations), "N  timed runs at least (default 10)"},
  {"--warmup", ARG_INT, OFF(warmup), "N  untimed runs first (default 2)"},
  {"--duration", ARG_DOUBLE, OFF(duration_s), "S  keep running for at least S seconds (default 0)"},
  {"--streams", ARG_INT, OFF(streams), "N  contexts running concurrently (default 1)"},
  {"--cuda-graph", ARG_NONE, 0, "capture and replay CUDA graphs (CUDA backend; the default)"},
  {"--no-cuda-graph", ARG_NONE, 0, "enqueue layer by layer on every run (CUDA backend)"},
  {"--no-tf32", ARG_NONE, 0, "FP32 layers without TF32 tensor-core math (strict FP32)"},
  {"--int8-exact", ARG_NONE, 0, "INT8 layers only on kernels equal to the CPU reference bit for bit"},
  {"--no-data-transfers", ARG_NONE, 0, "leave host<->device copies out of the timed runs"},
  {"--timing-cache", ARG_STRING, OFF(timing_cache), "FILE  kernel timing cache (read, then updated)"},
  {"--dump-graph", ARG_NONE, 0, "print the layers before and after optimization (precision, layout, kernel)"},
  {"--disable-pass", ARG_STRING, 0, "NAME  turn an optimizer pass off (repeat for several; see below)"},
  {"--opt-level", ARG_INT, OFF(opt_level), "N  0 (no optimizer passes) .. 5 (default 3)"},
  {"--dump-profile", ARG_NONE, 0, "print the time of every layer"},
  {"--export-json", ARG_STRING, OFF(export_json), "FILE  write the summary (and profile) as JSON"},
  {"--load-inputs", ARG_STRING, OFF(load_inputs), "SPEC  inputs from TensorProto files: name:file.pb,..."},
  {"--save-outputs", ARG_STRING, OFF(save_outputs), "DIR  write every output as DIR/<name>.pb"},
  {"--compare", ARG_NONE, 0, "run the CPU reference too and print the error of every output"},
  {"--seed", ARG_INT, 0, "N  seed of the random inputs (default 1)"},
  {"--print", ARG_INT, OFF(print_values), "N  values printed per output (default 8)"},
  {"--help", ARG_NONE, 0, "this text"},
};

void inferexec_usage(FILE *f) {
  fprintf(f, "usage: inferexec (--onnx MODEL | --deploy PROTOTXT [--model CAFFEMODEL] | "
             "--load-engine PLAN) [options]\n\n");
  for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
    const char *h = specs[i].help;
    const char *sp = specs[i].kind == ARG_NONE ? NULL : strchr(h, ' ');
    if (sp && sp[1] == ' ') {
      fprintf(f, "  %s %.*s\n      %s\n", specs[i].name, (int)(sp - h), h, sp + 2);
    } else {
      fprintf(f, "  %s\n      %s\n", specs[i].name, h);
    }
  }
  fprintf(f, "\nOptimizer passes, in the order they run:\n");
  for (int i = 0; infer_optimizer_pass_name(i); i++)
    fprintf(f, "  %-20s %s\n", infer_optimizer_pass_name(i), infer_optimizer_pass_summary(i));
  fprintf(f, "\nExits non-zero on any error, with the message on stderr.\n");
}

static int set_flag(InferexecOptions *o, const char *name) {
  if (strcmp(name, "--fp16") == 0) o->precisions |= INFER_PRECISION_FP16;
  else if (strcmp(name, "--int8") == 0) o->precisions |= INFER_PRECISION_INT8;
  else if (strcmp(name, "--best") == 0) o->precisions |= INFER_PRECISION_BEST;
  else if (strcmp(name, "--cuda-graph") == 0) o->cuda_graph = true;
  else if (strcmp(name, "--no-cuda-graph") == 0) o->no_cuda_graph = true;
  else if (strcmp(name, "--no-tf32") == 0) o->no_tf32 = true;
  else if (strcmp(name, "--int8-exact") == 0) o->int8_exact = true;
  else if (strcmp(name, "--no-data-transfers") == 0) o->no_data_transfers = true;
  else if (strcmp(name, "--dump-graph") == 0) o->dump_graph = true;
  else if (strcmp(name, "--dump-profile") == 0) o->dump_profile = true;
  else if (strcmp(name, "--compare") == 0) o->compare = true;
  else return -1;
  return 0;
}

static int set_value(InferexecOptions *o, const OptionSpec *spec, const char *v) {
  char *end;
  if (strcmp(spec->name, "--backend") == 0) {
    if (strcmp(v, "cpu") == 0) o->backend = INFER_BACKEND_CPU;
    else if (strcmp(v, "cuda") == 0) o->backend = INFER_BACKEND_CUDA;
    else if (strcmp(v, "auto") == 0) o->backend = INFER_BACKEND_AUTO;
    else {
      fprintf(stderr, "inferexec: --backend must be cpu, cuda or auto, not '%s'\n", v);
      return -1;
    }
    return 0;
  }
  if (strcmp(spec->name, "--output") == 0) {
    if (o->n_outputs == 32) {
      fprintf(stderr, "inferexec: at most 32 --output options\n");
      return -1;
    }
    o->outputs[o->n_outputs++] = v;
    return 0;
  }
  if (strcmp(spec->name, "--plugins") == 0) {
    if (o->n_plugins == 32) {
      fprintf(stderr, "inferexec: at most 32 --plugins options\n");
      return -1;
    }
    o->plugins[o->n_plugins++] = v;
    return 0;
  }
  if (strcmp(spec->name, "--disable-pass") == 0) {
    if (o->n_disabled_passes == 32) {
      fprintf(stderr, "inferexec: at most 32 --disable-pass options\n");
      return -1;
    }
    o->disabled_passes[o->n_disabled_passes++] = v;
    return 0;
  }
  if (strcmp(spec->name, "--seed") == 0) {
    long s = strtol(v, &end, 10);
    if (*v == 0 || *end || s < 0) {
      fprintf(stderr, "inferexec: --seed needs a non-negative integer, not '%s'\n", v);
      return -1;
    }
    o->seed = (unsigned)s;
    return 0;
  }
  void *dst = (char *)o + spec->offset;
  switch (spec->kind) {
    case ARG_STRING: *(const char **)dst = v; return 0;
    case ARG_INT: {
      long n = strtol(v, &end, 10);
      if (*v == 0 || *end || n < 0 || n > 1000000000) {
        fprintf(stderr, "inferexec: %s needs a non-negative integer, not '%s'\n", spec->name, v);
        return -1;
      }
      *(int *)dst = (int)n;
      return 0;
    }
    case ARG_DOUBLE: {
      double d = strtod(v, &end);
      if (*v == 0 || *end || d < 0) {
        fprintf(stderr, "inferexec: %s needs a non-negative number, not '%s'\n", spec->name, v);
        return -1;
      }
      *(double *)dst = d;
      return 0;
    }
    default: return -1;
  }
}

int inferexec_parse_options(int argc, char **argv, InferexecOptions *o) {
  memset(o, 0, sizeof *o);
  o->iterations = 10;
  o->warmup = 2;
  o->streams = 1;
  o->print_values = 8;
  o->seed = 1;
  o->precisions = INFER_PRECISION_FP32;
  o->opt_level = -1;
  for (int i = 1; i < argc; i++) {
    char name[64];
    const char *arg = argv[i], *value = NULL;
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    if (len >= sizeof name) len = sizeof name - 1;
    memcpy(name, arg, len);
    name[len] = 0;
    const OptionSpec *spec = NULL;
    for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++)
      if (strcmp(specs[k].name, name) == 0) spec = &specs[k];
    if (!spec) {
      fprintf(stderr, "inferexec: unknown option '%s' (see --help)\n", arg);
      return -1;
    }
    if (strcmp(name, "--help") == 0) {
      inferexec_usage(stdout);
      return 1;
    }
    if (spec->kind == ARG_NONE) {
      if (eq) {
        fprintf(stderr, "inferexec: %s takes no value\n", name);
        return -1;
      }
      set_flag(o, name);
      continue;
    }
    if (eq) value = eq + 1;
    else if (i + 1 < argc) value = argv[++i];
    if (!value) {
      fprintf(stderr, "inferexec: %s needs a value\n", name);
      return -1;
    }
    if (set_value(o, spec, value)) return -1;
  }
  int sources = (o->onnx != NULL) + (o->deploy != NULL) + (o->load_engine != NULL);
  if (sources == 0) {
    fprintf(stderr, "inferexec: give --onnx MODEL, --deploy PROTOTXT or --load-engine PLAN "
            "(see --help)\n");
    return -1;
  }
  if (sources > 1) {
    fprintf(stderr, "inferexec: --onnx, --deploy and --load-engine exclude each other\n");
    return -1;
  }
  if (!o->deploy && (o->model || o->mean || o->n_outputs)) {
    fprintf(stderr, "inferexec: --model, --mean and --output go with --deploy\n");
    return -1;
  }
  /* --int8 without --calib is checked once the model is read: a QDQ model
     needs no calibration cache */
  if (o->streams < 1) o->streams = 1;
  return 0;
}
