/* Private helpers of the calibration module. */
#ifndef INFER_CALIB_INTERNAL_H
#define INFER_CALIB_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "infer/calibration.h"

/* Names -> dense indices 0..n-1 (insertion order), an open-addressing hash.
 * Used by the statistics and the tables, which both look tensors up by name
 * once per batch. */
typedef struct CalibNameMap {
  char **names;   /* n entries, owned */
  int n, cap;
  int32_t *slots; /* -1 empty */
  size_t n_slots; /* power of two */
} CalibNameMap;

void calib_names_clear(CalibNameMap *m);
int calib_names_find(const CalibNameMap *m, const char *name); /* -1 if none */
/* The index of name, added when new (*added tells which). */
InferStatus *calib_names_intern(CalibNameMap *m, const char *name, int *index, bool *added);

/* Copies a network through its internal form (layers, constants borrowed
 * from src, inputs with dim names, outputs), so that extra outputs can be
 * marked on the copy. src must outlive the copy. */
InferStatus *calib_network_copy(const InferNetwork *src, InferNetwork **out);

/* The version number this library writes in cache headers. */
int calib_library_version(void);

#endif
