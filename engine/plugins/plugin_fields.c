/* Field lists: a layer's parameters as the key/value list creators take. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plugin_internal.h"

const InferPluginField *infer_plugin_fields_find(const InferPluginFields *fields,
                                                 const char *name) {
  if (!fields || !name) return NULL;
  for (int32_t i = 0; i < fields->n; i++)
    if (fields->fields[i].name && strcmp(fields->fields[i].name, name) == 0)
      return &fields->fields[i];
  return NULL;
}

InferStatus *infer_plugin_fields_number(const InferPluginFields *fields, const char *name,
                                        double def, double *out) {
  *out = def;
  const InferPluginField *f = infer_plugin_fields_find(fields, name);
  if (!f) return NULL;
  switch (f->type) {
    case INFER_PLUGIN_FIELD_INT: *out = (double)f->i; return NULL;
    case INFER_PLUGIN_FIELD_FLOAT: *out = f->f; return NULL;
    case INFER_PLUGIN_FIELD_INTS:
      if (f->count != 1) break;
      *out = (double)f->ints[0];
      return NULL;
    case INFER_PLUGIN_FIELD_FLOATS:
      if (f->count != 1) break;
      *out = f->floats[0];
      return NULL;
    default: break;
  }
  return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "field '%s' must be a number", name);
}

/* ---- building lists ------------------------------------------------------------ */

static void *own(InferPluginFieldList *l, void *p) {
  if (!p) {
    l->oom = true;
    return NULL;
  }
  if (l->n_owned == l->cap_owned) {
    int32_t cap = l->cap_owned ? l->cap_owned * 2 : 16;
    void **a = realloc(l->owned, (size_t)cap * sizeof *a);
    if (!a) {
      free(p);
      l->oom = true;
      return NULL;
    }
    l->owned = a;
    l->cap_owned = cap;
  }
  l->owned[l->n_owned++] = p;
  return p;
}

static InferPluginField *add(InferPluginFieldList *l, const char *name, InferPluginFieldType t) {
  if (l->oom) return NULL;
  if (l->n == l->cap) {
    int32_t cap = l->cap ? l->cap * 2 : 8;
    InferPluginField *a = realloc(l->items, (size_t)cap * sizeof *a);
    if (!a) {
      l->oom = true;
      return NULL;
    }
    l->items = a;
    l->cap = cap;
  }
  char *copy = own(l, strdup(name ? name : ""));
  if (!copy) return NULL;
  InferPluginField *f = &l->items[l->n++];
  memset(f, 0, sizeof *f);
  f->name = copy;
  f->type = t;
  return f;
}

void infer_plugin_fields_add_int(InferPluginFieldList *l, const char *name, int64_t v) {
  InferPluginField *f = add(l, name, INFER_PLUGIN_FIELD_INT);
  if (!f) return;
  f->i = v;
  f->f = (double)v;
  f->count = 1;
}

void infer_plugin_fields_add_float(InferPluginFieldList *l, const char *name, double v) {
  InferPluginField *f = add(l, name, INFER_PLUGIN_FIELD_FLOAT);
  if (!f) return;
  f->f = v;
  f->i = isfinite(v) && fabs(v) < 9e18 ? (int64_t)v : 0;
  f->count = 1;
}

void infer_plugin_fields_add_string(InferPluginFieldList *l, const char *name, const char *s,
                                    size_t len) {
  char *copy = malloc(len + 1);
  if (copy) {
    memcpy(copy, s, len);
    copy[len] = '\0';
  }
  if (!own(l, copy)) return;
  InferPluginField *f = add(l, name, INFER_PLUGIN_FIELD_STRING);
  if (!f) return;
  f->s = copy;
  f->count = (int32_t)strlen(copy);
}

void infer_plugin_fields_add_ints(InferPluginFieldList *l, const char *name, const int64_t *v,
                                  int32_t n) {
  int64_t *copy = own(l, malloc(sizeof *copy * (size_t)(n > 0 ? n : 1)));
  if (!copy) return;
  if (n > 0) memcpy(copy, v, sizeof *copy * (size_t)n);
  InferPluginField *f = add(l, name, INFER_PLUGIN_FIELD_INTS);
  if (!f) return;
  f->ints = copy;
  f->count = n;
}

void infer_plugin_fields_add_floats(InferPluginFieldList *l, const char *name, const double *v,
                                    int32_t n) {
  double *copy = own(l, malloc(sizeof *copy * (size_t)(n > 0 ? n : 1)));
  if (!copy) return;
  if (n > 0) memcpy(copy, v, sizeof *copy * (size_t)n);
  InferPluginField *f = add(l, name, INFER_PLUGIN_FIELD_FLOATS);
  if (!f) return;
  f->floats = copy;
  f->count = n;
}

InferPluginFields infer_plugin_fields_view(const InferPluginFieldList *l) {
  InferPluginFields v = {l->items, l->n};
  return v;
}

void infer_plugin_fields_free(InferPluginFieldList *l) {
  for (int32_t i = 0; i < l->n_owned; i++) free(l->owned[i]);
  free(l->owned);
  free(l->items);
  memset(l, 0, sizeof *l);
}
