/* Runs folders of ONNX backend test cases (model.onnx + test_data_set_N/
 * input_K.pb, output_K.pb) on an engine and counts the results. */
#ifndef INFER_CONFORMANCE_H
#define INFER_CONFORMANCE_H

#include <stdbool.h>

#include "infer/engine.h"

typedef struct ConformanceOptions {
  InferBackendKind backend;
  double rtol, atol;  /* ONNX's defaults: 1e-3, 1e-7 */
  bool verbose;       /* a line per case, not only failures */
  const char *filter; /* only cases whose folder name contains this */
  bool bounded;       /* build per data set with min = opt = max = its input shapes
                         (exercises the planned activation arena) */
  bool plan_roundtrip;/* serialize and deserialize every engine before running it */
  bool match;         /* a case this backend does not pass is run on match_backend:
                         passing there makes it "behind" */
  InferBackendKind match_backend;
} ConformanceOptions;

typedef struct ConformanceCounts {
  int passed, failed, unsupported;
  int behind; /* with match: not passed here, passed on the match backend */
} ConformanceCounts;

/* `path` is one test case folder or a folder of them. */
void conformance_run_path(const char *path, const ConformanceOptions *opt, ConformanceCounts *c);

/* Prints the unsupported reasons seen, most frequent first. */
void conformance_print_unsupported_summary(void);

#endif
