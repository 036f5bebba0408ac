/* Fuzz target: the plan loader. Each input is deserialized as it is, then,
 * when it starts like a plan, again with its total size and checksum made
 * right (most mutations would otherwise stop at the checksum), this time
 * through a file (infer_engine_load maps it). Engines that load are run once
 * on small inputs. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_target.h"
#include "plan_format.h"

#define MAX_PLAN_BYTES (4u << 20)

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
