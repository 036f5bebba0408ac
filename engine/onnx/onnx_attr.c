/* Reading node attributes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"

const Onnx__AttributeProto *onnx_attr(const OnnxNode *node, const char *name) {
  for (size_t i = 0; i < node->n_attribute; i++)
    if (node->attribute[i]->name && strcmp(node->attribute[i]->name, name) == 0)
      return node->attribute[i];
  return NULL;
}

int64_t onnx_attr_int(const OnnxNode *node, const char *name, int64_t def) {
  const Onnx__AttributeProto *a = onnx_attr(node, name);
  return a && a->has_i ? a->i : def;
}

float onnx_attr_float(const OnnxNode *node, const char *name, float def) {
  const Onnx__AttributeProto *a = onnx_attr(node, name);
  return a && a->has_f ? a->f : def;
}

bool onnx_attr_string(const OnnxNode *node, const char *name, char *buf, size_t size) {
  const Onnx__AttributeProto *a = onnx_attr(node, name);
  if (!a || !a->has_s || size == 0) return false;
  size_t n = a->s.len < size - 1 ? a->s.len : size - 1;
  memcpy(buf, a->s.data, n);
  buf[n] = 0;
  return true;
}

InferStatus *onnx_attr_ints(OnnxImporter *imp, const OnnxNode *node, const char *name,
                            int64_t *out, int max, int *n) {
  const Onnx__AttributeProto *a = onnx_attr(node, name);
  *n = -1;
  if (!a) return NULL;
  if ((int64_t)a->n_ints > max)
    return onnx_unsupported(imp, node, "attribute '%s' has %zu values (at most %d)", name,
                            a->n_ints, max);
  for (size_t i = 0; i < a->n_ints; i++) out[i] = a->ints[i];
  *n = (int)a->n_ints;
  return NULL;
}

InferStatus *onnx_attr_floats(OnnxImporter *imp, const OnnxNode *node, const char *name,
                              float *out, int max, int *n) {
  const Onnx__AttributeProto *a = onnx_attr(node, name);
  *n = -1;
  if (!a) return NULL;
  if ((int64_t)a->n_floats > max)
    return onnx_unsupported(imp, node, "attribute '%s' has %zu values (at most %d)", name,
                            a->n_floats, max);
  for (size_t i = 0; i < a->n_floats; i++) out[i] = a->floats[i];
  *n = (int)a->n_floats;
  return NULL;
}
