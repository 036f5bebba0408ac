/* Fuzz target: the ONNX importer (bytes -> model file -> parse) and, when a
 * model parses, an engine build for the CPU backend with every input bound
 * to a small shape, then one run on zeros. */
#include "fuzz_target.h"

/* Larger inputs only slow the fuzzer down; models are read whole anyway. */
#define MAX_MODEL_BYTES (1u << 20)

static bool failed(InferStatus *st) {
  if (!st) return false;
  fuzz_check_status(st);
  infer_status_free(st);
  return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > MAX_MODEL_BYTES) return 0;
  const char *path = fuzz_write_temp("model.onnx", data, size);
  if (!path) return 0;
  InferNetwork *net = NULL;
  if (failed(infer_onnx_parse_file(path, &net))) return 0;
  fuzz_build_and_run(net);
  infer_network_release(net);
  return 0;
}
