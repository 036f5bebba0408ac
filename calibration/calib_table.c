/* Calibration tables: tensor name -> float32 scale, and the check of a
 * table against the tensors a network needs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calib_internal.h"
#include "calib_table.h"

static InferStatus *oom(void) {
  return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "calibration table: out of memory");
}

int calib_library_version(void) {
  /* TensorRT writes major*1000 + minor*100 + patch ("8601" for 8.6.1) */
  int major = 0, minor = 0, patch = 0;
  if (sscanf(infer_version_string(), "%d.%d.%d", &major, &minor, &patch) < 1) return 0;
  return major * 1000 + minor * 100 + patch;
}

InferStatus *calib_table_new(const char *calibrator, int version, const char *source,
                             InferCalibTable **out) {
  *out = NULL;
  InferCalibTable *t = calloc(1, sizeof *t);
  if (!t) return oom();
  t->calibrator = strdup(calibrator);
  t->source = source ? strdup(source) : NULL;
  t->version = version;
  if (!t->calibrator || (source && !t->source)) {
    infer_calib_table_release(t);
    return oom();
  }
  *out = t;
  return NULL;
}

InferStatus *infer_calib_table_create(const char *calibrator, InferCalibTable **out) {
  if (!out) return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "calibration table: no output");
  *out = NULL;
  if (!calibrator || !*calibrator || strpbrk(calibrator, "\r\n"))
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "calibration table: the calibrator needs a one-line name");
  return calib_table_new(calibrator, calib_library_version(), NULL, out);
}

void infer_calib_table_release(InferCalibTable *t) {
  if (!t) return;
  calib_names_clear(&t->names);
  free(t->scales);
  free(t->calibrator);
  free(t->source);
  free(t);
}

InferStatus *calib_table_put(InferCalibTable *t, const char *tensor, float scale, bool *added) {
  if (t->names.n == t->cap) {
    int cap = t->cap ? t->cap * 2 : 32;
    float *s = realloc(t->scales, (size_t)cap * sizeof *s);
    if (!s) return oom();
    t->scales = s;
    t->cap = cap;
  }
  int idx;
  INFER_TRY(calib_names_intern(&t->names, tensor, &idx, added));
  t->scales[idx] = scale;
  return NULL;
}

InferStatus *infer_calib_table_set(InferCalibTable *t, const char *tensor, float scale) {
  if (!t || !tensor || !*tensor)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "calibration table: no table or tensor name");
  /* a cache line is "<name>: <hex>": a line break in the name cannot be written */
  if (strpbrk(tensor, "\r\n"))
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "calibration table: tensor name '%s' holds a line break", tensor);
  if (!isfinite(scale) || scale < 0)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "calibration table: tensor '%s': scale %g must be finite and >= 0",
                            tensor, (double)scale);
  return calib_table_put(t, tensor, scale, NULL);
}

int infer_calib_table_count(const InferCalibTable *t) { return t ? t->names.n : 0; }

const char *infer_calib_table_name(const InferCalibTable *t, int i) {
  return t && i >= 0 && i < t->names.n ? t->names.names[i] : NULL;
}

float infer_calib_table_scale(const InferCalibTable *t, int i) {
  return t && i >= 0 && i < t->names.n ? t->scales[i] : 0.0f;
}

bool infer_calib_table_lookup(const InferCalibTable *t, const char *tensor, float *scale) {
  int i = t ? calib_names_find(&t->names, tensor) : -1;
  if (i < 0) return false;
  if (scale) *scale = t->scales[i];
  return true;
}

const char *infer_calib_table_calibrator(const InferCalibTable *t) {
  return t ? t->calibrator : NULL;
}

int infer_calib_table_version(const InferCalibTable *t) { return t ? t->version : 0; }

void infer_calib_check_clear(InferCalibCheck *c) {
  if (!c) return;
  for (int i = 0; i < c->n_missing; i++) free(c->missing[i]);
  for (int i = 0; i < c->n_unknown; i++) free(c->unknown[i]);
  free(c->missing);
  free(c->unknown);
  memset(c, 0, sizeof *c);
}

/* Appends up to 8 quoted names to buf. */
static void list_names(char *buf, size_t size, char *const *names, int n) {
  size_t len = strlen(buf);
  for (int i = 0; i < n && len < size; i++) {
    if (i == 8) {
      snprintf(buf + len, size - len, ", ... (%d more)", n - 8);
      return;
    }
    snprintf(buf + len, size - len, "%s'%s'", i ? ", " : "", names[i]);
    len = strlen(buf);
  }
}

InferStatus *infer_calib_table_check(const InferCalibTable *t, const char *const *needed,
                                     int n_needed, InferCalibCheck *out) {
  if (!t || !out || n_needed < 0 || (n_needed && !needed))
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "calibration table check: bad arguments");
  memset(out, 0, sizeof *out);
  CalibNameMap want = {0};
  InferStatus *st = NULL;
  out->missing = calloc((size_t)n_needed + 1, sizeof *out->missing);
  out->unknown = calloc((size_t)t->names.n + 1, sizeof *out->unknown);
  if (!out->missing || !out->unknown) st = oom();
  for (int i = 0; !st && i < n_needed; i++) {
    int idx;
    bool added;
    st = calib_names_intern(&want, needed[i], &idx, &added);
    if (!st && added && calib_names_find(&t->names, needed[i]) < 0) {
      out->missing[out->n_missing] = strdup(needed[i]);
      if (!out->missing[out->n_missing]) st = oom();
      else out->n_missing++;
    }
  }
  for (int i = 0; !st && i < t->names.n; i++) {
    if (calib_names_find(&want, t->names.names[i]) >= 0) continue;
    out->unknown[out->n_unknown] = strdup(t->names.names[i]);
    if (!out->unknown[out->n_unknown]) st = oom();
    else out->n_unknown++;
  }
  calib_names_clear(&want);
  if (st) {
    infer_calib_check_clear(out);
    return st;
  }
  if (!out->n_missing) return NULL;
  char msg[2048];
  snprintf(msg, sizeof msg, "%d of %d tensors have no scale: ", out->n_missing, n_needed);
  list_names(msg, sizeof msg, out->missing, out->n_missing);
  if (out->n_unknown) {
    size_t len = strlen(msg);
    snprintf(msg + len, sizeof msg - len, "; %d name%s not in the network: ", out->n_unknown,
             out->n_unknown == 1 ? " is" : "s are");
    list_names(msg, sizeof msg, out->unknown, out->n_unknown);
  }
  return infer_status_new(INFER_ERR_MISMATCH, "calibration table %s%s%s: %s",
                          t->source ? "'" : "", t->source ? t->source : "(in memory)",
                          t->source ? "'" : "", msg);
}
