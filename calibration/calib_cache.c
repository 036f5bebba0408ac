/* TensorRT's text calibration cache:
 *
 *   TRT-8601-EntropyCalibration2
 *   input: 3c010204
 *   conv1: 3d5a1b2c
 *
 * One line per tensor; the hex digits are the IEEE-754 bits of the float32
 * scale (amax / 127) written as a number, most significant digit first.
 * TensorRT prints them without zero padding, so the reader takes 1 to 8
 * digits; the writer always writes 8. Every line ends with '\n'. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calib_table.h"

static InferStatus *oom(void) {
  return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "calibration cache: out of memory");
}

static uint32_t float_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

InferStatus *infer_calib_table_serialize(const InferCalibTable *t, char **text, size_t *length) {
  if (!t || !text)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "calibration cache: no table or output");
  *text = NULL;
  size_t cap = strlen(t->calibrator) + 32;
  for (int i = 0; i < t->names.n; i++) cap += strlen(t->names.names[i]) + 12;
  char *buf = malloc(cap);
  if (!buf) return oom();
  size_t len = (size_t)snprintf(buf, cap, "TRT-%04d-%s\n", t->version, t->calibrator);
  for (int i = 0; i < t->names.n && len < cap; i++)
    len += (size_t)snprintf(buf + len, cap - len, "%s: %08x\n", t->names.names[i],
                            (unsigned)float_bits(t->scales[i]));
  *text = buf;
  if (length) *length = len;
  return NULL;
}

InferStatus *infer_calib_table_write_cache(const InferCalibTable *t, const char *path) {
  if (!path) return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "calibration cache: no path");
  char *text;
  size_t len;
  INFER_TRY(infer_calib_table_serialize(t, &text, &len));
  FILE *f = fopen(path, "wb");
  if (!f) {
    InferStatus *st = infer_status_new(INFER_ERR_IO, "cannot write calibration cache '%s': %s",
                                       path, strerror(errno));
    free(text);
    return st;
  }
  bool ok = fwrite(text, 1, len, f) == len;
  ok &= fclose(f) == 0;
  free(text);
  if (!ok)
    return infer_status_new(INFER_ERR_IO, "cannot write calibration cache '%s': %s", path,
                            strerror(errno));
  return NULL;
}

/* One line without its end ('\n', and a '\r' before it), as [s, e). */
static void trim(const char **s, const char **e) {
  while (*s < *e && (**s == ' ' || **s == '\t')) (*s)++;
  while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r')) (*e)--;
}

/* "TRT-<digits>-<calibrator>" */
static bool parse_header(const char *s, const char *e, int *version, char **calibrator) {
  if (e - s < 6 || strncmp(s, "TRT-", 4) != 0) return false;
  const char *p = s + 4;
  long v = 0;
  if (!isdigit((unsigned char)*p)) return false;
  while (p < e && isdigit((unsigned char)*p)) {
    v = v * 10 + (*p++ - '0');
    if (v > 1000000000L) return false;
  }
  if (p >= e - 1 || *p != '-') return false;
  p++;
  *calibrator = strndup(p, (size_t)(e - p));
  *version = (int)v;
  return true;
}

/* "<name>: <hex>" split at the last ':' (names may hold ':', hex digits cannot). */
static bool parse_entry(const char *s, const char *e, const char **name_end, float *scale) {
  const char *colon = NULL;
  for (const char *p = s; p < e; p++)
    if (*p == ':') colon = p;
  if (!colon || colon == s) return false;
  const char *h = colon + 1, *he = e;
  trim(&h, &he);
  if (he - h < 1 || he - h > 8) return false;
  uint32_t bits = 0;
  for (const char *p = h; p < he; p++) {
    int c = tolower((unsigned char)*p), d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else return false;
    bits = bits << 4 | (uint32_t)d;
  }
  memcpy(scale, &bits, sizeof *scale);
  *name_end = colon;
  return true;
}

static InferStatus *parse_error(const char *src, int line, const char *s, const char *e,
                                const char *expected) {
  int shown = (int)(e - s > 60 ? 60 : e - s);
  return infer_status_new(INFER_ERR_PARSE, "%s:%d: expected %s, got '%.*s'%s", src, line, expected,
                          shown, s, e - s > 60 ? "..." : "");
}

InferStatus *infer_calib_table_parse(const char *text, size_t length, const char *source,
                                     InferCalibTable **out) {
  const char *src = source ? source : "cache";
  if (!out) return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "%s: no output", src);
  *out = NULL;
  if (!text || length == 0) return infer_status_new(INFER_ERR_PARSE, "%s:1: empty calibration cache", src);
  if (memchr(text, '\0', length))
    return infer_status_new(INFER_ERR_PARSE, "%s: a text cache holds no NUL bytes (binary file?)",
                            src);
  InferCalibTable *t = NULL;
  InferStatus *st = NULL;
  int *first_line = NULL, line = 0;
  const char *p = text, *end = text + length;
  while (!st && p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *s = p, *e = nl ? nl : end;
    p = nl ? nl + 1 : end;
    line++;
    trim(&s, &e);
    if (!t) {
      int version;
      char *calibrator = NULL;
      if (!parse_header(s, e, &version, &calibrator)) {
        st = parse_error(src, line, s, e, "a 'TRT-<version>-<calibrator>' header");
        break;
      }
      st = calibrator ? calib_table_new(calibrator, version, source, &t) : oom();
      free(calibrator);
      continue;
    }
    if (s == e) continue; /* blank lines (a final newline) */
    const char *name_end;
    float scale;
    if (!parse_entry(s, e, &name_end, &scale)) {
      st = parse_error(src, line, s, e, "'<name>: <hex>'");
      break;
    }
    if (!isfinite(scale) || scale < 0) {
      st = infer_status_new(INFER_ERR_PARSE, "%s:%d: tensor '%.*s': scale %g is not a finite "
                            "number >= 0", src, line, (int)(name_end - s), s, (double)scale);
      break;
    }
    char *name = strndup(s, (size_t)(name_end - s));
    bool added = false;
    st = name ? calib_table_put(t, name, scale, &added) : oom();
    if (!st && t->names.n > 0) {
      int *fl = realloc(first_line, (size_t)t->cap * sizeof *fl);
      if (!fl) st = oom();
      else first_line = fl;
    }
    if (!st && added) first_line[t->names.n - 1] = line;
    if (!st && !added)
      st = infer_status_new(INFER_ERR_PARSE, "%s:%d: tensor '%s' is listed twice (first on line "
                            "%d)", src, line, name, first_line[calib_names_find(&t->names, name)]);
    free(name);
  }
  if (!st && !t) st = infer_status_new(INFER_ERR_PARSE, "%s:1: empty calibration cache", src);
  free(first_line);
  if (st) {
    infer_calib_table_release(t);
    return st;
  }
  *out = t;
  return NULL;
}

InferStatus *infer_calib_table_read_cache(const char *path, InferCalibTable **out) {
  if (!path || !out) return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "calibration cache: no path");
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f)
    return infer_status_new(INFER_ERR_IO, "cannot open calibration cache '%s': %s", path,
                            strerror(errno));
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  InferStatus *st = buf ? NULL : oom();
  while (!st) {
    if (len == cap) {
      if (cap > ((size_t)1 << 30)) {
        st = infer_status_new(INFER_ERR_PARSE, "%s: larger than 1 GiB, not a calibration cache",
                              path);
        break;
      }
      char *b = realloc(buf, cap * 2);
      if (!b) {
        st = oom();
        break;
      }
      buf = b;
      cap *= 2;
    }
    size_t n = fread(buf + len, 1, cap - len, f);
    len += n;
    if (n == 0) {
      if (ferror(f)) st = infer_status_new(INFER_ERR_IO, "cannot read '%s': %s", path,
                                           strerror(errno));
      break;
    }
  }
  fclose(f);
  if (!st) st = infer_calib_table_parse(buf, len, path, out);
  free(buf);
  return st;
}
