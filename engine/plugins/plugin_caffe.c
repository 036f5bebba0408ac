/* Caffe layers as plugin layers: "*_param" fields to plugin fields,
 * bottoms and tops. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caffe_internal.h"
#include "plugin_caffe.h"
#include "plugin_internal.h"

const InferPluginCreator *infer_plugin_caffe_find(const char *type) {
  return type && *type ? infer_plugin_find(type, NULL) : NULL;
}

/* Whether `n` is the first field called n->name in msg. */
static bool first_of_name(const CaffeNode *msg, const CaffeNode *n) {
  return caffe_next(msg, n->name, NULL) == n;
}

static InferStatus *add_message(CaffeImporter *imp, const CaffeNode *msg, const char *prefix,
                                int depth, InferPluginFieldList *l);

/* All fields of msg called like n: one scalar, or a list of numbers. */
static InferStatus *add_field(CaffeImporter *imp, const CaffeNode *msg, const CaffeNode *n,
                              const char *name, InferPluginFieldList *l) {
  int count = caffe_count(msg, n->name);
  if (count == 1 && n->kind != CAFFE_VALUE_NUMBER) {
    if (n->kind == CAFFE_VALUE_IDENT && (!strcmp(n->text, "true") || !strcmp(n->text, "false")))
      infer_plugin_fields_add_int(l, name, strcmp(n->text, "true") == 0);
    else
      infer_plugin_fields_add_string(l, name, n->text, n->text_len);
    return NULL;
  }
  double *values = malloc(sizeof *values * (size_t)count);
  int64_t *ints = malloc(sizeof *ints * (size_t)count);
  if (!values || !ints) {
    free(values);
    free(ints);
    return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "%s: out of memory", caffe_file(imp));
  }
  bool integral = true;
  int k = 0;
  InferStatus *st = NULL;
  for (const CaffeNode *m = n; m && !st; m = caffe_next(msg, n->name, m), k++) {
    if (m->kind != CAFFE_VALUE_NUMBER) {
      st = caffe_field_error(imp, m, INFER_ERR_UNSUPPORTED,
                             "repeated field '%s' of a plugin layer must hold numbers", m->name);
      break;
    }
    InferStatus *as_int = caffe_node_int(caffe_file(imp), m, &ints[k]);
    if (as_int) {
      infer_status_free(as_int);
      integral = false;
      st = caffe_node_float(caffe_file(imp), m, &values[k]);
    } else {
      values[k] = (double)ints[k];
    }
  }
  if (!st) {
    if (count == 1 && integral) infer_plugin_fields_add_int(l, name, ints[0]);
    else if (count == 1) infer_plugin_fields_add_float(l, name, values[0]);
    else if (integral) infer_plugin_fields_add_ints(l, name, ints, count);
    else infer_plugin_fields_add_floats(l, name, values, count);
  }
  free(values);
  free(ints);
  return st;
}

static InferStatus *add_message(CaffeImporter *imp, const CaffeNode *msg, const char *prefix,
                                int depth, InferPluginFieldList *l) {
  if (depth > 8)
    return caffe_field_error(imp, msg, INFER_ERR_UNSUPPORTED, "parameters nested too deep");
  for (const CaffeNode *n = msg->first; n; n = n->next) {
    char name[256];
    snprintf(name, sizeof name, "%s%s%s", prefix, *prefix ? "." : "", n->name);
    if (n->kind == CAFFE_VALUE_MESSAGE) {
      INFER_TRY(add_message(imp, n, name, depth + 1, l));
    } else if (first_of_name(msg, n)) {
      INFER_TRY(add_field(imp, msg, n, name, l));
    }
  }
  return NULL;
}

InferStatus *infer_plugin_caffe_import(CaffeImporter *imp, const CaffeNode *layer,
                                       const InferPluginCreator *c) {
  InferPluginFieldList fields = {0};
  InferStatus *st = NULL;
  for (const CaffeNode *n = layer->first; n && !st; n = n->next) {
    size_t len = strlen(n->name);
    if (len > 6 && strcmp(n->name + len - 6, "_param") == 0 && n->kind == CAFFE_VALUE_MESSAGE)
      st = add_message(imp, n, "", 0, &fields);
  }
  if (!st && fields.oom)
    st = infer_status_new(INFER_ERR_OUT_OF_MEMORY, "%s: out of memory", caffe_file(imp));
  InferOpParams params;
  int n_out = 0;
  if (!st) {
    InferPluginFields view = infer_plugin_fields_view(&fields);
    st = infer_plugin_make_params(c, imp->layer_name, &view, &params, &n_out);
    if (st) st = caffe_at_layer(imp, st);
  }
  infer_plugin_fields_free(&fields);
  if (st) return st;
  int n_in = caffe_num_bottoms(imp);
  if (n_in > 64) return caffe_unsupported(imp, "more than 64 bottoms");
  if (caffe_num_tops(imp) != n_out)
    return caffe_invalid(imp, "has %d tops, plugin '%s' version %s makes %d outputs",
                         caffe_num_tops(imp), c->name, c->version, n_out);
  InferTensorId in[64];
  for (int i = 0; i < n_in; i++) INFER_TRY(caffe_bottom(imp, i, &in[i]));
  return caffe_emit_tops(imp, NULL, INFER_OP_PLUGIN, &params, n_in, in, n_out, 0);
}
