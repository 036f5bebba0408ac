/* Importing ONNX models into a network. */
#ifndef INFER_ONNX_H
#define INFER_ONNX_H

#include "infer/network.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Parses an ONNX model file (external data files are read relative to it).
 * Errors name the file, and the node and op where one is at fault. */
InferStatus *infer_onnx_parse_file(const char *path, InferNetwork **out);

/* Reads a serialized TensorProto (the test data format of ONNX's backend
 * tests). *out->data is malloc'ed; the caller frees it. *name may be NULL. */
InferStatus *infer_onnx_read_tensor_file(const char *path, InferTensorView *out, char **name);

/* Writes a tensor as a serialized TensorProto named `name`. */
InferStatus *infer_onnx_write_tensor_file(const char *path, const char *name,
                                          const InferTensorView *v);

#ifdef __cplusplus
}
#endif
#endif
