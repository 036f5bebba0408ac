/* Engines built without optimizer passes, for tests that compare a pass's
 * output network with its input. */
#ifndef INFER_TEST_UNOPTIMIZED_H
#define INFER_TEST_UNOPTIMIZED_H

#include "infer/infer.h"

static inline InferStatus *test_build_unoptimized(const InferNetwork *net, InferEngine **out) {
  InferBuildConfig *cfg;
  InferStatus *st = infer_build_config_create(&cfg);
  if (st) return st;
  infer_build_config_set_optimization_level(cfg, 0);
  infer_build_config_set_backend(cfg, INFER_BACKEND_CPU); /* host memory */
  st = infer_engine_build(net, cfg, out);
  infer_build_config_release(cfg);
  return st;
}

#endif
