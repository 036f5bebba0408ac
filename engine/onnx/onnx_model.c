/* Entry point: read an ONNX file, decode it, check its opset, import. */
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "network_internal.h"
#include "onnx_internal.h"

#define MIN_OPSET 1
#define MAX_OPSET 21

/* The default-domain opset, or an error for an opset newer than we know. */
static InferStatus *default_opset(const Onnx__ModelProto *m, const char *file, int *opset) {
  *opset = 0;
  if (!m->has_ir_version)
    return infer_status_new(INFER_ERR_PARSE, "%s: not an ONNX model (it has no IR version)", file);
  if (m->n_opset_import == 0 && m->ir_version >= 3)
    return infer_status_new(INFER_ERR_PARSE, "%s: the model imports no opset (opset_import is empty)",
                            file);
  for (size_t i = 0; i < m->n_opset_import; i++) {
    const Onnx__OperatorSetIdProto *o = m->opset_import[i];
    if (!o->domain || !*o->domain || strcmp(o->domain, "ai.onnx") == 0)
      *opset = (int)o->version;
  }
  if (*opset == 0) *opset = MIN_OPSET; /* models without an opset list predate opsets */
  if (*opset > MAX_OPSET)
    return infer_status_new(INFER_ERR_UNSUPPORTED,
                            "%s: the model uses ONNX opset %d; opsets %d to %d are supported", file,
                            *opset, MIN_OPSET, MAX_OPSET);
  return NULL;
}

InferStatus *infer_onnx_parse_file(const char *path, InferNetwork **out) {
  *out = NULL;
  if (!path) return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "no model path given");
  uint8_t *buf;
  size_t size;
  INFER_TRY(onnx_read_file(path, &buf, &size));
  if (size == 0) {
    free(buf);
    return infer_status_new(INFER_ERR_PARSE, "%s: the file is empty, not an ONNX model", path);
  }
  Onnx__ModelProto *model = onnx__model_proto__unpack(NULL, size, buf);
  uint64_t hash = infer_hash64(buf, size, 0);
  free(buf);
  if (!model)
    return infer_status_new(INFER_ERR_PARSE,
                            "%s: not an ONNX model (the protobuf data is malformed or truncated)",
                            path);
  InferStatus *st = NULL;
  if (!model->graph)
    st = infer_status_new(INFER_ERR_PARSE, "%s: not an ONNX model (it has no graph)", path);
  char *dir_copy = strdup(path);
  if (!st && !dir_copy) st = infer_status_new(INFER_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
  if (!st) st = onnx_import_model(model, path, dirname(dir_copy), out);
  if (!st) (*out)->source_hash = hash;
  free(dir_copy);
  onnx__model_proto__free_unpacked(model, NULL);
  return st;
}

int onnx_model_opset(const Onnx__ModelProto *m, const char *file, InferStatus **st) {
  int opset;
  *st = default_opset(m, file, &opset);
  return opset;
}
