/* Engines on the CPU backend, for tests that hand host memory to contexts
 * (on a machine with a GPU the default backend would be CUDA, which needs
 * device memory). */
#ifndef INFER_TEST_CPU_ENGINE_H
#define INFER_TEST_CPU_ENGINE_H

#include "infer/infer.h"

static inline InferStatus *test_build_cpu(const InferNetwork *net, InferEngine **out) {
  InferBuildConfig *cfg;
  InferStatus *st = infer_build_config_create(&cfg);
  if (st) return st;
  infer_build_config_set_backend(cfg, INFER_BACKEND_CPU);
  st = infer_engine_build(net, cfg, out);
  infer_build_config_release(cfg);
  return st;
}

#endif
