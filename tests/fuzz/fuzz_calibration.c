/* Fuzz target: the calibration-cache reader (TensorRT's text cache,
 * infer_calib_table_parse). A cache that parses must serialize, and the
 * serialized text must parse again into the same table (names, scales bit
 * for bit, calibrator and version). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_target.h"

#define MAX_CACHE_BYTES (1u << 20)

static bool same_float(float a, float b) { return memcmp(&a, &b, sizeof a) == 0; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > MAX_CACHE_BYTES) return 0;
  InferCalibTable *t = NULL;
  InferStatus *st = infer_calib_table_parse((const char *)data, size, "fuzz.cache", &t);
  if (st) {
    fuzz_check_status(st);
    infer_status_free(st);
    return 0;
  }
  int n = infer_calib_table_count(t);
  for (int i = 0; i < n; i++) {
    float s;
    if (!infer_calib_table_lookup(t, infer_calib_table_name(t, i), &s)) {
      fprintf(stderr, "entry %d is not found by its name\n", i);
      abort();
    }
  }
  char *text = NULL;
  size_t length = 0;
  st = infer_calib_table_serialize(t, &text, &length);
  if (st) {
    /* a table read from a cache must be writable again */
    fprintf(stderr, "a parsed table does not serialize: %s\n", infer_status_message(st));
    abort();
  }
  InferCalibTable *u = NULL;
  st = infer_calib_table_parse(text, length, "fuzz.cache (written)", &u);
  if (st) {
    fprintf(stderr, "the written cache does not parse: %s\n", infer_status_message(st));
    abort();
  }
  bool ok = infer_calib_table_count(u) == n &&
            infer_calib_table_version(u) == infer_calib_table_version(t) &&
            strcmp(infer_calib_table_calibrator(u), infer_calib_table_calibrator(t)) == 0;
  for (int i = 0; ok && i < n; i++)
    ok = strcmp(infer_calib_table_name(u, i), infer_calib_table_name(t, i)) == 0 &&
         same_float(infer_calib_table_scale(u, i), infer_calib_table_scale(t, i));
  if (!ok) {
    fprintf(stderr, "the cache does not survive a write and a read:\n%.*s\n", (int)length, text);
    abort();
  }
  free(text);
  infer_calib_table_release(u);
  infer_calib_table_release(t);
  return 0;
}
