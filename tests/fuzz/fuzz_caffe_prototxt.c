/* Fuzz target: the Caffe deploy-prototxt reader (text format tokenizer,
 * message tree, layer importers) without a caffemodel (parameter blobs are
 * then filled with a fixed pattern), and, when a net parses, a CPU engine
 * build with small inputs and one run. */
#include "fuzz_target.h"

/* Real deploy files are a few KiB; larger inputs only slow the fuzzer. */
#define MAX_PROTOTXT_BYTES (256u << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > MAX_PROTOTXT_BYTES) return 0;
  InferNetwork *net = NULL;
  InferStatus *st = infer_caffe_parse_memory((const char *)data, size, "fuzz.prototxt", NULL, 0,
                                             NULL, NULL, &net);
  if (st) {
    fuzz_check_status(st);
    infer_status_free(st);
    return 0;
  }
  fuzz_build_and_run(net);
  infer_network_release(net);
  return 0;
}
