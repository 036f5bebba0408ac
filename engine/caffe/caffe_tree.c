/* Typed queries on a parsed prototxt tree: finding fields, converting
 * scalars with errors that point at the text, and rejecting unknown fields. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "caffe_tree.h"

const CaffeNode *caffe_next(const CaffeNode *msg, const char *name, const CaffeNode *prev) {
  if (!msg || msg->kind != CAFFE_VALUE_MESSAGE) return NULL;
  for (const CaffeNode *n = prev ? prev->next : msg->first; n; n = n->next)
    if (strcmp(n->name, name) == 0) return n;
  return NULL;
}

const CaffeNode *caffe_find(const CaffeNode *msg, const char *name) {
  const CaffeNode *hit = NULL;
  for (const CaffeNode *n = caffe_next(msg, name, NULL); n; n = caffe_next(msg, name, n)) hit = n;
  return hit;
}

int caffe_count(const CaffeNode *msg, const char *name) {
  int count = 0;
  for (const CaffeNode *n = caffe_next(msg, name, NULL); n; n = caffe_next(msg, name, n)) count++;
  return count;
}

InferStatus *caffe_node_error(const char *file, const CaffeNode *node, InferStatusCode code,
                              const char *fmt, ...) {
  char reason[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason, sizeof reason, fmt, ap);
  va_end(ap);
  return infer_status_new(code, "%s:%d:%d: %s", file, node ? node->line : 1, node ? node->col : 1,
                          reason);
}

static const char *kind_name(CaffeValueKind k) {
  switch (k) {
    case CAFFE_VALUE_IDENT: return "an identifier";
    case CAFFE_VALUE_NUMBER: return "a number";
    case CAFFE_VALUE_STRING: return "a string";
    default: return "a message";
  }
}

/* "'1.5'" or "a message" for messages in errors. */
static void show_value(const CaffeNode *n, char *buf, size_t size) {
  if (n->kind == CAFFE_VALUE_MESSAGE)
    snprintf(buf, size, "a message");
  else
    snprintf(buf, size, "'%.40s'", n->text ? n->text : "");
}

InferStatus *caffe_node_int(const char *file, const CaffeNode *n, int64_t *out) {
  char shown[64];
  if (n->kind == CAFFE_VALUE_NUMBER) {
    errno = 0;
    char *end;
    long long v = strtoll(n->text, &end, 0);
    /* strtoll reads "010" as octal, as protobuf's text format does */
    if (*end == 0 && errno == 0) {
      *out = v;
      return NULL;
    }
  }
  show_value(n, shown, sizeof shown);
  return caffe_node_error(file, n, INFER_ERR_PARSE, "field '%s' needs an integer, found %s",
                          n->name, shown);
}

InferStatus *caffe_node_float(const char *file, const CaffeNode *n, double *out) {
  char shown[64];
  if (n->kind == CAFFE_VALUE_NUMBER) {
    char *end;
    double v = strtod(n->text, &end);
    if (end != n->text && (*end == 0 || ((*end == 'f' || *end == 'F') && end[1] == 0))) {
      *out = v;
      return NULL;
    }
  } else if (n->kind == CAFFE_VALUE_IDENT) {
    const char *t = n->text[0] == '-' ? n->text + 1 : n->text;
    double sign = n->text[0] == '-' ? -1.0 : 1.0;
    if (strcasecmp(t, "inf") == 0 || strcasecmp(t, "infinity") == 0) {
      *out = sign * INFINITY;
      return NULL;
    }
    if (strcasecmp(t, "nan") == 0) {
      *out = NAN;
      return NULL;
    }
  }
  show_value(n, shown, sizeof shown);
  return caffe_node_error(file, n, INFER_ERR_PARSE, "field '%s' needs a number, found %s", n->name,
                          shown);
}

InferStatus *caffe_node_bool(const char *file, const CaffeNode *n, bool *out) {
  char shown[64];
  if (n->kind == CAFFE_VALUE_IDENT || n->kind == CAFFE_VALUE_NUMBER) {
    const char *t = n->text;
    if (!strcmp(t, "true") || !strcmp(t, "True") || !strcmp(t, "t") || !strcmp(t, "1")) {
      *out = true;
      return NULL;
    }
    if (!strcmp(t, "false") || !strcmp(t, "False") || !strcmp(t, "f") || !strcmp(t, "0")) {
      *out = false;
      return NULL;
    }
  }
  show_value(n, shown, sizeof shown);
  return caffe_node_error(file, n, INFER_ERR_PARSE, "field '%s' needs true or false, found %s",
                          n->name, shown);
}

InferStatus *caffe_node_string(const char *file, const CaffeNode *n, const char **out) {
  if (n->kind != CAFFE_VALUE_STRING)
    return caffe_node_error(file, n, INFER_ERR_PARSE, "field '%s' needs a quoted string, found %s",
                            n->name, kind_name(n->kind));
  if (strlen(n->text) != n->text_len)
    return caffe_node_error(file, n, INFER_ERR_UNSUPPORTED,
                            "field '%s' holds a NUL byte, which names cannot", n->name);
  *out = n->text;
  return NULL;
}

InferStatus *caffe_node_enum(const char *file, const CaffeNode *n, const char *const *names,
                             int n_names, int *out) {
  char shown[64], choices[256] = "";
  if (n->kind == CAFFE_VALUE_IDENT) {
    for (int i = 0; i < n_names; i++)
      if (names[i] && strcmp(names[i], n->text) == 0) {
        *out = i;
        return NULL;
      }
  } else if (n->kind == CAFFE_VALUE_NUMBER) {
    int64_t v;
    InferStatus *st = caffe_node_int(file, n, &v);
    if (st) {
      infer_status_free(st); /* reported below as a bad enum value */
    } else if (v >= 0 && v < n_names && names[v]) {
      *out = (int)v;
      return NULL;
    }
  }
  for (int i = 0; i < n_names; i++) {
    if (!names[i]) continue;
    size_t used = strlen(choices);
    snprintf(choices + used, sizeof choices - used, "%s%s", used ? ", " : "", names[i]);
  }
  show_value(n, shown, sizeof shown);
  return caffe_node_error(file, n, INFER_ERR_PARSE, "field '%s' has value %s; expected one of %s",
                          n->name, shown, choices);
}

InferStatus *caffe_get_int(const char *file, const CaffeNode *msg, const char *name, int64_t def,
                           int64_t *out) {
  const CaffeNode *n = caffe_find(msg, name);
  *out = def;
  return n ? caffe_node_int(file, n, out) : NULL;
}

InferStatus *caffe_get_float(const char *file, const CaffeNode *msg, const char *name, double def,
                             double *out) {
  const CaffeNode *n = caffe_find(msg, name);
  *out = def;
  return n ? caffe_node_float(file, n, out) : NULL;
}

InferStatus *caffe_get_bool(const char *file, const CaffeNode *msg, const char *name, bool def,
                            bool *out) {
  const CaffeNode *n = caffe_find(msg, name);
  *out = def;
  return n ? caffe_node_bool(file, n, out) : NULL;
}

InferStatus *caffe_get_enum(const char *file, const CaffeNode *msg, const char *name,
                            const char *const *names, int n_names, int def, int *out) {
  const CaffeNode *n = caffe_find(msg, name);
  *out = def;
  return n ? caffe_node_enum(file, n, names, n_names, out) : NULL;
}

InferStatus *caffe_get_ints(const char *file, const CaffeNode *msg, const char *name, int64_t *out,
                            int max, int *n) {
  *n = 0;
  for (const CaffeNode *f = caffe_next(msg, name, NULL); f; f = caffe_next(msg, name, f)) {
    if (*n == max)
      return caffe_node_error(file, f, INFER_ERR_UNSUPPORTED,
                              "field '%s' is given more than %d times", name, max);
    INFER_TRY(caffe_node_int(file, f, &out[(*n)++]));
  }
  return NULL;
}

InferStatus *caffe_get_floats(const char *file, const CaffeNode *msg, const char *name,
                              double *out, int max, int *n) {
  *n = 0;
  for (const CaffeNode *f = caffe_next(msg, name, NULL); f; f = caffe_next(msg, name, f)) {
    if (*n == max)
      return caffe_node_error(file, f, INFER_ERR_UNSUPPORTED,
                              "field '%s' is given more than %d times", name, max);
    INFER_TRY(caffe_node_float(file, f, &out[(*n)++]));
  }
  return NULL;
}

InferStatus *caffe_check_fields(const char *file, const CaffeNode *msg, const char *what,
                                const char *const *known) {
  if (!msg) return NULL;
  for (const CaffeNode *n = msg->first; n; n = n->next) {
    bool ok = false;
    for (const char *const *k = known; *k && !ok; k++) ok = strcmp(*k, n->name) == 0;
    if (!ok)
      return caffe_node_error(file, n, INFER_ERR_PARSE, "unknown field '%s' in %s", n->name, what);
  }
  return NULL;
}
