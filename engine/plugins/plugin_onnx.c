/* ONNX nodes as plugin layers: attributes to fields, inputs and outputs. */
#include <stdlib.h>
#include <string.h>

#include "plugin_internal.h"
#include "plugin_onnx.h"

#define VERSION_ATTR "plugin_version"

const InferPluginCreator *infer_plugin_onnx_find(const OnnxNode *node) {
  if (!node->op_type || !*node->op_type) return NULL;
  char version[INFER_PLUGIN_VERSION_SIZE] = "";
  onnx_attr_string(node, VERSION_ATTR, version, sizeof version);
  const InferPluginCreator *c = infer_plugin_find(node->op_type, version);
  if (!c || !c->onnx_domain || !*c->onnx_domain) return c;
  const char *domain = node->domain ? node->domain : "";
  return strcmp(domain, c->onnx_domain) == 0 ? c : NULL;
}

/* One attribute into the list; false for kinds plugins cannot take. */
static bool add_attribute(InferPluginFieldList *l, const Onnx__AttributeProto *a) {
  const char *name = a->name ? a->name : "";
  switch (a->type) {
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
      infer_plugin_fields_add_float(l, name, a->f);
      return true;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
      infer_plugin_fields_add_int(l, name, a->i);
      return true;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING:
      infer_plugin_fields_add_string(l, name, (const char *)a->s.data, a->s.len);
      return true;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
      if (a->n_ints > INT32_MAX) return false;
      infer_plugin_fields_add_ints(l, name, a->ints, (int32_t)a->n_ints);
      return true;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS: {
      if (a->n_floats > INT32_MAX) return false;
      /* fields carry doubles */
      double *d = malloc(sizeof *d * (a->n_floats ? a->n_floats : 1));
      if (!d) {
        l->oom = true;
        return true;
      }
      for (size_t i = 0; i < a->n_floats; i++) d[i] = a->floats[i];
      infer_plugin_fields_add_floats(l, name, d, (int32_t)a->n_floats);
      free(d);
      return true;
    }
    default: return false;
  }
}

InferStatus *infer_plugin_onnx_import(OnnxImporter *imp, const OnnxNode *node,
                                      const InferPluginCreator *c, const char *layer) {
  InferPluginFieldList fields = {0};
  for (size_t i = 0; i < node->n_attribute; i++) {
    const Onnx__AttributeProto *a = node->attribute[i];
    if (a->name && strcmp(a->name, VERSION_ATTR) == 0) continue;
    if (!add_attribute(&fields, a)) {
      infer_plugin_fields_free(&fields);
      return onnx_unsupported(imp, node, "attribute '%s' is of a kind plugins do not take (ints, "
                              "floats, strings and lists of ints or floats only)",
                              a->name ? a->name : "");
    }
  }
  if (fields.oom) {
    infer_plugin_fields_free(&fields);
    return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "node '%s': out of memory", layer);
  }
  InferPluginFields view = infer_plugin_fields_view(&fields);
  InferOpParams params;
  int n_out = 0;
  InferStatus *st = infer_plugin_make_params(c, layer, &view, &params, &n_out);
  infer_plugin_fields_free(&fields);
  if (st) return st;
  int n_in = onnx_num_inputs(node);
  if (n_in > 256) return onnx_unsupported(imp, node, "more than 256 inputs");
  InferTensorId in[256];
  for (int i = 0; i < n_in; i++) in[i] = onnx_input(imp, node, i);
  /* trailing absent inputs are dropped; inner ones stay absent */
  while (n_in > 0 && in[n_in - 1] == INFER_NO_TENSOR) n_in--;
  if ((size_t)n_out > node->n_output)
    return onnx_invalid(imp, node, "has %zu outputs, plugin '%s' version %s makes %d",
                        node->n_output, c->name, c->version, n_out);
  return onnx_emit(imp, node, INFER_OP_PLUGIN, &params, n_in, in, n_out);
}
