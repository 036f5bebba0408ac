/* inferexec's printed and JSON reports. */
#ifndef INFEREXEC_REPORT_H
#define INFEREXEC_REPORT_H

#include <stdio.h>

#include "inferexec_bench.h"
#include "inferexec_options.h"

typedef struct Report {
  double parse_ms, build_ms, load_ms, save_ms;
  int n_layers;
  double *layer_ms; /* per engine layer, mean per run, after report_profile */
} Report;

void report_header(FILE *f, const InferexecOptions *o, const InferNetwork *net,
                   const InferEngine *engine, const Report *rep);
void report_graph(FILE *f, const InferNetwork *net, const InferEngine *engine);
void report_summary(FILE *f, const InferexecOptions *o, const InferEngine *engine,
                    const BenchResult *b);
InferStatus *report_profile(FILE *f, InferEngine *engine, const ToolTensor *inputs, int n_inputs,
                            int iterations, Report *rep);
InferStatus *report_json(const char *path, const InferexecOptions *o, const InferNetwork *net,
                         const InferEngine *engine, const Report *rep, const BenchResult *b);
void report_free(Report *rep);

#endif
