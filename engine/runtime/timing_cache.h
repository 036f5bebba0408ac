/* The timing cache: tactic choices measured on a device, keyed by what
 * defines a layer's work (op, precision, shapes, parameters) and the
 * device's name, so that rebuilding the same model (or another one with
 * the same layers) skips the timing. A text file, one choice per line:
 *
 *   infer-timing-cache 1
 *   <device name>\t<16 hex digits: layer key>\t<tactic>\t<milliseconds>
 *
 * Lines for other devices are kept when the file is rewritten. */
#ifndef INFER_TIMING_CACHE_H
#define INFER_TIMING_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "infer/status.h"
#include "kernel_call.h"

typedef struct InferTimingEntry {
  char *device;
  uint64_t key;
  int32_t tactic;
  double ms;
} InferTimingEntry;

typedef struct InferTimingCache {
  InferTimingEntry *entries;
  int32_t n, cap;
  bool dirty;
} InferTimingCache;

/* Reads `path` into *c (an absent file is an empty cache; a malformed one
 * is an error naming the file and line). */
InferStatus *infer_timing_cache_load(InferTimingCache *c, const char *path);
InferStatus *infer_timing_cache_save(const InferTimingCache *c, const char *path);
void infer_timing_cache_free(InferTimingCache *c);

/* The key of a layer call: op, flags, dtypes and shapes of every input and
 * output, and the params with the tactic field cleared. */
uint64_t infer_timing_key(const InferOpCall *call);

bool infer_timing_cache_find(const InferTimingCache *c, const char *device, uint64_t key,
                             int32_t *tactic);
InferStatus *infer_timing_cache_put(InferTimingCache *c, const char *device, uint64_t key,
                                    int32_t tactic, double ms);

#endif
