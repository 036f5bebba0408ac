/* Fuzz target: the plan loader. Each input is deserialized as it is, then,
 * when it starts like a plan, again with its total size and checksum made
 * right (most mutations would otherwise stop at the checksum) and its format
 * version, library version and device fingerprint those of this library and
 * machine (so that committed regression plans replay on any machine and
 * after a version bump), this time through a file (infer_engine_load maps
 * it). Engines that load are run once on small inputs. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_target.h"
#include "plan_format.h"

#define MAX_PLAN_BYTES (4u << 20)

static void put_string(uint8_t *p, size_t size, const char *s) {
  memset(p, 0, size);
  size_t n = strlen(s);
  memcpy(p, s, n < size ? n : size - 1);
}

/* This library's version and this machine's fingerprint for the plan's
 * backend (left alone when that backend is not built in). */
static void restamp(uint8_t *p) {
  infer_plan_put_u32(p + INFER_PLAN_OFF_VERSION, INFER_PLAN_FORMAT_VERSION);
  put_string(p + INFER_PLAN_OFF_LIB_VERSION, INFER_PLAN_LIB_VERSION_SIZE, infer_version_string());
  InferDeviceFingerprint fp;
  InferStatus *st = infer_device_fingerprint(
      (InferBackendKind)infer_plan_get_u32(p + INFER_PLAN_OFF_BACKEND), &fp);
  if (st) {
    infer_status_free(st);
    return;
  }
  infer_plan_put_u32(p + INFER_PLAN_OFF_FP_BACKEND, fp.backend);
  infer_plan_put_u32(p + INFER_PLAN_OFF_FP_CC_MAJOR, (uint32_t)fp.cc_major);
  infer_plan_put_u32(p + INFER_PLAN_OFF_FP_CC_MINOR, (uint32_t)fp.cc_minor);
  infer_plan_put_u32(p + INFER_PLAN_OFF_FP_CUDA, fp.cuda_version);
  infer_plan_put_u32(p + INFER_PLAN_OFF_FP_CUDNN, fp.cudnn_version);
  infer_plan_put_u32(p + INFER_PLAN_OFF_FP_CUBLAS, fp.cublas_version);
  put_string(p + INFER_PLAN_OFF_FP_DEVICE, INFER_PLAN_DEVICE_NAME_SIZE, fp.device_name);
  put_string(p + INFER_PLAN_OFF_FP_FEATURES, INFER_PLAN_FEATURES_SIZE, fp.cpu_features);
}

static void use(InferStatus *st, InferEngine *engine) {
  if (st) {
    fuzz_check_status(st);
    infer_status_free(st);
    return;
  }
  fuzz_run_engine(engine);
  infer_engine_release(engine);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > MAX_PLAN_BYTES) return 0;
  InferEngine *engine = NULL;
  InferStatus *st = infer_engine_deserialize(data, size, "fuzz.plan", &engine);
  use(st, engine);
  if (size < INFER_PLAN_FIXED_HEADER || memcmp(data, INFER_PLAN_MAGIC, INFER_PLAN_MAGIC_SIZE))
    return 0;
  uint8_t *fixed = malloc(size);
  if (!fixed) return 0;
  memcpy(fixed, data, size);
  restamp(fixed);
  infer_plan_put_u64(fixed + INFER_PLAN_OFF_TOTAL_SIZE, size);
  infer_plan_put_u64(fixed + INFER_PLAN_OFF_CHECKSUM, infer_plan_checksum(fixed, size));
  const char *path = fuzz_write_temp("fuzz.plan", fixed, size);
  free(fixed);
  engine = NULL;
  if (path) {
    st = infer_engine_load(path, &engine);
    use(st, engine);
  }
  return 0;
}
