/* Fuzz target: the ONNX importer (bytes -> model file -> parse) and, when a
 * model parses, an engine build for the CPU backend with every input bound
 * to a small shape, then one run on zeros. */
#include <stdlib.h>

#include "fuzz_target.h"

/* Larger inputs only slow the fuzzer down; models are read whole anyway. */
#define MAX_MODEL_BYTES (1u << 20)
/* Inputs bigger than this (after dynamic dims -> 1) are not built. */
#define MAX_INPUT_ELEMS ((int64_t)1 << 16)

static bool failed(InferStatus *st) {
  if (!st) return false;
  fuzz_check_status(st);
  infer_status_free(st);
  return true;
}

/* A CPU build with min = opt = max = the declared shape (dynamic dims 1). */
static void try_build(const InferNetwork *net) {
  InferBuildConfig *cfg = NULL;
  if (failed(infer_build_config_create(&cfg))) return;
  infer_build_config_set_backend(cfg, INFER_BACKEND_CPU);
  infer_build_config_set_workspace_limit(cfg, (size_t)16 << 20);
  bool ok = true;
  for (int i = 0; ok && i < infer_network_num_inputs(net); i++) {
    InferTensorId t = infer_network_input(net, i);
    InferShape s = infer_network_tensor_shape(net, t);
    int64_t n = 1;
    for (int d = 0; d < s.rank; d++) {
      if (s.d[d] < 0) s.d[d] = 1;
      n *= s.d[d];
      if (n > MAX_INPUT_ELEMS) ok = false;
    }
    if (ok) ok = !failed(infer_build_config_set_input_shape(cfg, infer_network_tensor_name(net, t), &s));
  }
  InferEngine *engine = NULL;
  if (ok && !failed(infer_engine_build(net, cfg, &engine))) {
    fuzz_run_engine(engine);
    infer_engine_release(engine);
  }
  infer_build_config_release(cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > MAX_MODEL_BYTES) return 0;
  const char *path = fuzz_write_temp("model.onnx", data, size);
  if (!path) return 0;
  InferNetwork *net = NULL;
  if (failed(infer_onnx_parse_file(path, &net))) return 0;
  try_build(net);
  infer_network_release(net);
  return 0;
}
