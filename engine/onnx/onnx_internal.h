/* Pieces of the ONNX importer shared between its own files. */
#ifndef INFER_ONNX_INTERNAL_H
#define INFER_ONNX_INTERNAL_H

#include "onnx_import.h"

InferStatus *onnx_tensor_to_view(const Onnx__TensorProto *tp, const char *base_dir,
                                 const char *file, InferTensorView *out);
InferStatus *onnx_read_file(const char *path, uint8_t **data, size_t *size);
const char *onnx_dtype_name(int32_t t);
/* Imports a decoded model's graph into a new network. */
InferStatus *onnx_import_model(const Onnx__ModelProto *model, const char *file,
                               const char *base_dir, InferNetwork **out);

/* The model's default-domain opset; *st is set for opsets newer than supported. */
int onnx_model_opset(const Onnx__ModelProto *m, const char *file, InferStatus **st);

#endif
