/* What the per-family ONNX op importers (engine/onnx/import_<family>.c) see:
 * node attributes, node inputs as network tensors, constant values, and
 * functions that emit layers named after the node. */
#ifndef INFER_ONNX_IMPORT_H
#define INFER_ONNX_IMPORT_H

#include <stdbool.h>

#include "infer/network.h"
#include "onnx.pb-c.h"

typedef struct OnnxImporter OnnxImporter;
typedef Onnx__NodeProto OnnxNode;

typedef InferStatus *(*OnnxImportFn)(OnnxImporter *imp, const OnnxNode *node);

typedef struct OnnxOpImporter {
  const char *op_type; /* exact ONNX op type, default domain */
  OnnxImportFn import;
} OnnxOpImporter;

/* Each family file defines its table and count. */
#define ONNX_IMPORTER_TABLE_DECL(family)                           \
  extern const OnnxOpImporter infer_onnx_importers_##family[];    \
  extern const size_t infer_onnx_num_importers_##family;
ONNX_IMPORTER_TABLE_DECL(elementwise)
ONNX_IMPORTER_TABLE_DECL(nn)
ONNX_IMPORTER_TABLE_DECL(reduce)
ONNX_IMPORTER_TABLE_DECL(movement)
ONNX_IMPORTER_TABLE_DECL(pad_resize)
ONNX_IMPORTER_TABLE_DECL(quantize)

/* ---- context ---------------------------------------------------------- */
int onnx_opset(const OnnxImporter *imp);          /* default-domain opset version */
InferNetwork *onnx_network(OnnxImporter *imp);

/* ---- errors: "<file>: node '<name>' (<OpType>): <reason>" -------------- */
InferStatus *onnx_unsupported(OnnxImporter *imp, const OnnxNode *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
InferStatus *onnx_invalid(OnnxImporter *imp, const OnnxNode *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- inputs ------------------------------------------------------------ */
int onnx_num_inputs(const OnnxNode *node);        /* counts trailing empty names too */
/* The tensor feeding input i; INFER_NO_TENSOR when absent (i out of range or
 * an empty name). An unknown name is an error reported by the caller of the
 * importer, so this never fails for a well-formed graph. */
InferTensorId onnx_input(OnnxImporter *imp, const OnnxNode *node, int i);
/* The value of a tensor when it is a constant (initializer, Constant node or
 * importer-made constant), else NULL. dtype/shape may be NULL. */
const void *onnx_constant(OnnxImporter *imp, InferTensorId t, InferDType *dtype, InferShape *shape);
/* Reads a constant integer tensor (i32/i64, scalar or 1-D) into int64s:
 * returns false if t is not constant. Errors if it has more than max values. */
InferStatus *onnx_constant_ints(OnnxImporter *imp, const OnnxNode *node, InferTensorId t,
                                int64_t *out, int max, int *n, bool *is_constant);
/* Reads a constant scalar (any numeric dtype) as double; false if not constant. */
bool onnx_constant_scalar(OnnxImporter *imp, InferTensorId t, double *out);

/* ---- new constants (for attributes that are inputs in the IR) ---------- */
InferStatus *onnx_add_constant(OnnxImporter *imp, const OnnxNode *node, const char *suffix,
                               InferDType dtype, const InferShape *shape, const void *data,
                               InferTensorId *out);
/* A 1-D i64 constant of n values. */
InferStatus *onnx_add_ints(OnnxImporter *imp, const OnnxNode *node, const char *suffix, int n,
                           const int64_t *values, InferTensorId *out);
/* A scalar (rank 0) f32 constant. */
InferStatus *onnx_add_scalar_f32(OnnxImporter *imp, const OnnxNode *node, const char *suffix,
                                 float value, InferTensorId *out);

/* ---- emitting layers ---------------------------------------------------- */
/* The layer that produces the node's outputs (named as the node's outputs;
 * n_outputs <= node->n_output, empty output names get generated names). */
InferStatus *onnx_emit(OnnxImporter *imp, const OnnxNode *node, InferOp op,
                       const InferOpParams *params, int n_inputs, const InferTensorId *inputs,
                       int n_outputs);
/* An intermediate layer of a decomposition, named "<node>/<suffix>"; its
 * outputs get generated names and are returned in outputs. */
InferStatus *onnx_emit_internal(OnnxImporter *imp, const OnnxNode *node, const char *suffix,
                                InferOp op, const InferOpParams *params, int n_inputs,
                                const InferTensorId *inputs, int n_outputs,
                                InferTensorId *outputs);

/* A layer of a decomposition whose outputs become some of the node's
 * outputs: output k of the layer takes the name of node output
 * node_outputs[k] (an index into node->output). Use it for every node
 * output after the first; then produce output 0 last with onnx_emit_outputs
 * too (onnx_emit insists that unproduced outputs are unnamed). */
InferStatus *onnx_emit_outputs(OnnxImporter *imp, const OnnxNode *node, const char *suffix,
                               InferOp op, const InferOpParams *params, int n_inputs,
                               const InferTensorId *inputs, int n_outputs,
                               const int *node_outputs);

/* ---- attributes --------------------------------------------------------- */
const Onnx__AttributeProto *onnx_attr(const OnnxNode *node, const char *name);
int64_t onnx_attr_int(const OnnxNode *node, const char *name, int64_t def);
float onnx_attr_float(const OnnxNode *node, const char *name, float def);
/* Copies a string attribute into buf (NUL-terminated); returns false if absent. */
bool onnx_attr_string(const OnnxNode *node, const char *name, char *buf, size_t size);
/* Number of values copied, -1 if absent; error if more than max. */
InferStatus *onnx_attr_ints(OnnxImporter *imp, const OnnxNode *node, const char *name,
                            int64_t *out, int max, int *n);
InferStatus *onnx_attr_floats(OnnxImporter *imp, const OnnxNode *node, const char *name,
                              float *out, int max, int *n);
/* A tensor attribute converted to a view; out->data is malloc'ed (caller frees). */
InferStatus *onnx_attr_tensor(OnnxImporter *imp, const OnnxNode *node, const char *name,
                              InferTensorView *out);

/* ONNX TensorProto.DataType -> InferDType (UNDEFINED when not supported). */
InferDType onnx_dtype(int32_t onnx_type);

#endif
