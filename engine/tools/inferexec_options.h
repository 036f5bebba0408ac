/* inferexec's command line. */
#ifndef INFEREXEC_OPTIONS_H
#define INFEREXEC_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

#include "infer/engine.h"

typedef struct InferexecOptions {
  const char *onnx, *save_engine, *load_engine, *calib, *timing_cache;
  /* Caffe: deploy prototxt, caffemodel, mean.binaryproto, output blobs
     (each item may be a comma list) */
  const char *deploy, *model, *mean;
  const char *outputs[32];
  int n_outputs;
  const char *shapes, *min_shapes, *opt_shapes, *max_shapes;
  const char *load_inputs, *save_outputs, *export_json;
  const char *disabled_passes[32];
  int n_disabled_passes;
  const char *plugins[32];  /* plugin libraries (--plugins, repeatable, each may be a list) */
  int n_plugins;
  int opt_level;           /* -1: default */
  unsigned precisions;
  InferBackendKind backend;
  int batch;               /* 0: not given */
  int iterations, warmup, streams, print_values;
  double duration_s;
  unsigned seed;
  bool cuda_graph, no_cuda_graph, no_tf32, int8_exact, no_data_transfers, dump_graph, dump_profile, compare;
} InferexecOptions;

/* Parses argv; returns 0, or 1 after printing --help, or -1 after an error. */
int inferexec_parse_options(int argc, char **argv, InferexecOptions *o);
void inferexec_usage(FILE *f);

#endif
