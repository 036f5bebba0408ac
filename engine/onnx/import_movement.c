/* ONNX importers of the data-movement operators. Old-opset attributes that
 * the IR takes as inputs (shape, axes, split, starts/ends) become constants. */
#include <stdlib.h>
#include <string.h>

#include "onnx_import.h"

/* Input i of the node, which must be present. */
static InferStatus *required_input(OnnxImporter *imp, const OnnxNode *node, int i,
                                   InferTensorId *out) {
  *out = onnx_input(imp, node, i);
  if (*out == INFER_NO_TENSOR) return onnx_invalid(imp, node, "input %d is missing", i);
  return NULL;
}

/* An integer-list attribute as a constant i64 input; INFER_NO_TENSOR when the
 * attribute is absent, or also when it is empty and `empty_is_absent`. */
static InferStatus *ints_attr_input(OnnxImporter *imp, const OnnxNode *node, const char *name,
                                    bool empty_is_absent, InferTensorId *out) {
  int64_t v[INFER_MAX_RANK];
  int n;
  INFER_TRY(onnx_attr_ints(imp, node, name, v, INFER_MAX_RANK, &n));
  *out = INFER_NO_TENSOR;
  if (n < 0 || (n == 0 && empty_is_absent)) return NULL;
  return onnx_add_ints(imp, node, name, n, v, out);
}

/* Emits a one-output layer from the node's first n inputs (absent optional
 * inputs pass through as INFER_NO_TENSOR); the first `required` must exist. */
static InferStatus *emit_inputs(OnnxImporter *imp, const OnnxNode *node, InferOp op,
                                const InferOpParams *p, int n, int required) {
  InferTensorId in[5];
  for (int i = 0; i < n; i++) {
    if (i < required) INFER_TRY(required_input(imp, node, i, &in[i]));
    else in[i] = onnx_input(imp, node, i);
  }
  return onnx_emit(imp, node, op, p, n, in, 1);
}

static InferOpParams reshape_params(InferReshapeKind kind) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.reshape.kind = kind;
  return p;
}

/* ---- reshape family ----------------------------------------------------- */

static InferStatus *import_reshape(OnnxImporter *imp, const OnnxNode *node) {
  InferOpParams p = reshape_params(INFER_RESHAPE_SHAPE);
  p.reshape.allowzero = onnx_attr_int(node, "allowzero", 0) != 0;
  if (onnx_opset(imp) >= 5) return emit_inputs(imp, node, INFER_OP_RESHAPE, &p, 2, 2);
  InferTensorId in[2];
  INFER_TRY(required_input(imp, node, 0, &in[0]));
  INFER_TRY(ints_attr_input(imp, node, "shape", false, &in[1]));
  if (in[1] == INFER_NO_TENSOR) return onnx_invalid(imp, node, "attribute 'shape' is missing");
  return onnx_emit(imp, node, INFER_OP_RESHAPE, &p, 2, in, 1);
}

static InferStatus *import_flatten(OnnxImporter *imp, const OnnxNode *node) {
  InferOpParams p = reshape_params(INFER_RESHAPE_FLATTEN);
  p.reshape.axis = onnx_attr_int(node, "axis", 1);
  return emit_inputs(imp, node, INFER_OP_RESHAPE, &p, 1, 1);
}

/* Squeeze and Unsqueeze took `axes` as an attribute before opset 13. */
static InferStatus *import_squeeze_like(OnnxImporter *imp, const OnnxNode *node,
                                        InferReshapeKind kind) {
  InferOpParams p = reshape_params(kind);
  InferTensorId in[2];
  INFER_TRY(required_input(imp, node, 0, &in[0]));
  if (onnx_opset(imp) >= 13)
    in[1] = onnx_input(imp, node, 1);
  else
    INFER_TRY(ints_attr_input(imp, node, "axes", kind == INFER_RESHAPE_SQUEEZE, &in[1]));
  if (kind == INFER_RESHAPE_UNSQUEEZE && in[1] == INFER_NO_TENSOR)
    return onnx_invalid(imp, node, "axes are missing");
  return onnx_emit(imp, node, INFER_OP_RESHAPE, &p, 2, in, 1);
}

static InferStatus *import_squeeze(OnnxImporter *imp, const OnnxNode *node) {
  return import_squeeze_like(imp, node, INFER_RESHAPE_SQUEEZE);
}

static InferStatus *import_unsqueeze(OnnxImporter *imp, const OnnxNode *node) {
  return import_squeeze_like(imp, node, INFER_RESHAPE_UNSQUEEZE);
}

static InferStatus *import_identity(OnnxImporter *imp, const OnnxNode *node) {
  InferOpParams p = reshape_params(INFER_RESHAPE_IDENTITY);
  return emit_inputs(imp, node, INFER_OP_RESHAPE, &p, 1, 1);
}

/* Dropout at inference is the identity. Training mode (opset 12 input) is
 * random unless the ratio is 0, so it is accepted only as a known constant.
 * Before opset 7 `is_test` chose the mode; inference runtimes treat those
 * nodes as the identity too, and so does this importer. */
/* The mask of an inference Dropout keeps everything: ones shaped like x
 * (bool from opset 10, x's type before). */
static InferStatus *dropout_mask(OnnxImporter *imp, const OnnxNode *node) {
  InferTensorId x = onnx_input(imp, node, 0), shape;
  InferOpParams p;
  memset(&p, 0, sizeof p);
  INFER_TRY(onnx_emit_internal(imp, node, "mask_shape", INFER_OP_SHAPE, &p, 1, &x, 1, &shape));
  memset(&p, 0, sizeof p);
  if (onnx_opset(imp) >= 10) {
    p.constant_of_shape.dtype = INFER_DTYPE_BOOL;
    p.constant_of_shape.value[0] = 1;
  } else {
    InferDType t = infer_network_tensor_dtype(onnx_network(imp), x);
    if (t != INFER_DTYPE_F32)
      return onnx_unsupported(imp, node, "a mask output of type %s is not supported",
                              infer_dtype_name(t));
    float one = 1.0f;
    p.constant_of_shape.dtype = INFER_DTYPE_F32;
    memcpy(p.constant_of_shape.value, &one, sizeof one);
  }
  const int mask_output = 1;
  return onnx_emit_outputs(imp, node, "mask", INFER_OP_CONSTANT_OF_SHAPE, &p, 1, &shape, 1,
                           &mask_output);
}

static InferStatus *import_dropout(OnnxImporter *imp, const OnnxNode *node) {
  bool has_mask = node->n_output > 1 && node->output[1][0];
  InferTensorId training = onnx_input(imp, node, 2);
  if (onnx_opset(imp) >= 12 && training != INFER_NO_TENSOR) {
    double on, ratio = 0.5;
    if (!onnx_constant_scalar(imp, training, &on))
      return onnx_unsupported(imp, node, "training_mode must be a constant");
    InferTensorId r = onnx_input(imp, node, 1);
    if (r != INFER_NO_TENSOR && !onnx_constant_scalar(imp, r, &ratio)) ratio = 0.5;
    if (on != 0 && ratio != 0)
      return onnx_unsupported(imp, node, "training_mode=1 is not supported (inference only)");
  }
  InferOpParams p = reshape_params(INFER_RESHAPE_IDENTITY);
  if (!has_mask) return emit_inputs(imp, node, INFER_OP_RESHAPE, &p, 1, 1);
  INFER_TRY(dropout_mask(imp, node));
  InferTensorId x = onnx_input(imp, node, 0);
  const int data_output = 0;
  return onnx_emit_outputs(imp, node, "identity", INFER_OP_RESHAPE, &p, 1, &x, 1, &data_output);
}

/* ---- transpose, concat, split ------------------------------------------- */

static InferStatus *import_transpose(OnnxImporter *imp, const OnnxNode *node) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  int n;
  INFER_TRY(onnx_attr_ints(imp, node, "perm", p.transpose.perm, INFER_MAX_RANK, &n));
  p.transpose.n_perm = n < 0 ? 0 : n;
  return emit_inputs(imp, node, INFER_OP_TRANSPOSE, &p, 1, 1);
}

static InferStatus *import_concat(OnnxImporter *imp, const OnnxNode *node) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  if (onnx_opset(imp) >= 4 && !onnx_attr(node, "axis"))
    return onnx_invalid(imp, node, "attribute 'axis' is missing");
  p.axis.axis = onnx_attr_int(node, "axis", 1); /* opset 1-3 default */
  int n = onnx_num_inputs(node);
  if (n < 1) return onnx_invalid(imp, node, "no inputs");
  InferTensorId *in = malloc(sizeof *in * (size_t)n);
  if (!in) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "out of memory");
  InferStatus *st = NULL;
  for (int i = 0; i < n && !st; i++) st = required_input(imp, node, i, &in[i]);
  if (!st) st = onnx_emit(imp, node, INFER_OP_CONCAT, &p, n, in, 1);
  free(in);
  return st;
}

/* The split sizes: attribute before opset 13 (opset 1 also allowed an
 * input), input from 13 on; absent means equal parts. */
static InferStatus *split_sizes_input(OnnxImporter *imp, const OnnxNode *node, int n_out,
                                      InferTensorId *out) {
  *out = INFER_NO_TENSOR;
  if (onnx_opset(imp) >= 13 || (onnx_opset(imp) < 2 && !onnx_attr(node, "split"))) {
    *out = onnx_input(imp, node, 1);
    return NULL;
  }
  int64_t *v = malloc(sizeof *v * (size_t)(n_out + 1));
  if (!v) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "out of memory");
  int n;
  InferStatus *st = onnx_attr_ints(imp, node, "split", v, n_out + 1, &n);
  if (!st && n >= 0) st = onnx_add_ints(imp, node, "split", n, v, out);
  free(v);
  return st;
}

static InferStatus *import_split(OnnxImporter *imp, const OnnxNode *node) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  int n_out = (int)node->n_output;
  if (n_out < 1) return onnx_invalid(imp, node, "no outputs");
  p.split.axis = onnx_attr_int(node, "axis", 0);
  p.split.num_outputs = n_out;
  InferTensorId in[2];
  INFER_TRY(required_input(imp, node, 0, &in[0]));
  INFER_TRY(split_sizes_input(imp, node, n_out, &in[1]));
  if (onnx_attr(node, "num_outputs")) {
    int64_t k = onnx_attr_int(node, "num_outputs", 0);
    if (k != n_out || in[1] != INFER_NO_TENSOR)
      return onnx_invalid(imp, node, "num_outputs=%lld does not fit %d outputs and no split",
                          (long long)k, n_out);
  }
  return onnx_emit(imp, node, INFER_OP_SPLIT, &p, 2, in, n_out);
}

/* ---- slice, gather -------------------------------------------------------- */

static InferStatus *import_slice(OnnxImporter *imp, const OnnxNode *node) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  if (onnx_opset(imp) >= 10) return emit_inputs(imp, node, INFER_OP_SLICE, &p, 5, 3);
  InferTensorId in[4];
  INFER_TRY(required_input(imp, node, 0, &in[0]));
  INFER_TRY(ints_attr_input(imp, node, "starts", false, &in[1]));
  INFER_TRY(ints_attr_input(imp, node, "ends", false, &in[2]));
  INFER_TRY(ints_attr_input(imp, node, "axes", false, &in[3]));
  if (in[1] == INFER_NO_TENSOR || in[2] == INFER_NO_TENSOR)
    return onnx_invalid(imp, node, "attributes 'starts' and 'ends' are required");
  return onnx_emit(imp, node, INFER_OP_SLICE, &p, 4, in, 1);
}

static InferStatus *import_gather_like(OnnxImporter *imp, const OnnxNode *node, InferOp op) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.axis.axis = onnx_attr_int(node, "axis", 0);
  return emit_inputs(imp, node, op, &p, 2, 2);
}

static InferStatus *import_gather(OnnxImporter *imp, const OnnxNode *node) {
  return import_gather_like(imp, node, INFER_OP_GATHER);
}

static InferStatus *import_gather_elements(OnnxImporter *imp, const OnnxNode *node) {
  return import_gather_like(imp, node, INFER_OP_GATHER_ELEMENTS);
}

/* ---- expand, tile --------------------------------------------------------- */

static InferStatus *import_expand(OnnxImporter *imp, const OnnxNode *node) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  return emit_inputs(imp, node, INFER_OP_EXPAND, &p, 2, 2);
}

static InferStatus *import_tile(OnnxImporter *imp, const OnnxNode *node) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  if (onnx_opset(imp) < 6)
    return onnx_unsupported(imp, node, "Tile-1 (tiles and axis inputs) is not supported");
  return emit_inputs(imp, node, INFER_OP_TILE, &p, 2, 2);
}

/* ---- generators ---------------------------------------------------------- */

static InferStatus *import_range(OnnxImporter *imp, const OnnxNode *node) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  return emit_inputs(imp, node, INFER_OP_RANGE, &p, 3, 3);
}

static InferStatus *import_shape(OnnxImporter *imp, const OnnxNode *node) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.shape.start = onnx_attr_int(node, "start", 0);
  p.shape.has_end = onnx_attr(node, "end") != NULL;
  p.shape.end = onnx_attr_int(node, "end", 0);
  return emit_inputs(imp, node, INFER_OP_SHAPE, &p, 1, 1);
}

static InferStatus *import_size(OnnxImporter *imp, const OnnxNode *node) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  return emit_inputs(imp, node, INFER_OP_SIZE, &p, 1, 1);
}

/* The fill value is a one-element tensor attribute whose type is the
 * output's; absent means f32 zero. */
static InferStatus *import_constant_of_shape(OnnxImporter *imp, const OnnxNode *node) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.constant_of_shape.dtype = INFER_DTYPE_F32;
  if (onnx_attr(node, "value")) {
    InferTensorView v;
    memset(&v, 0, sizeof v);
    INFER_TRY(onnx_attr_tensor(imp, node, "value", &v));
    size_t es = infer_dtype_size(v.dtype);
    InferStatus *st = NULL;
    if (es == 0 || es > sizeof p.constant_of_shape.value)
      st = onnx_unsupported(imp, node, "value of type %s is not supported",
                            infer_dtype_name(v.dtype));
    else if (infer_shape_numel(&v.shape) != 1 || !v.data)
      st = onnx_invalid(imp, node, "value must have exactly one element");
    else
      memcpy(p.constant_of_shape.value, v.data, es);
    p.constant_of_shape.dtype = v.dtype;
    free(v.data);
    if (st) return st;
  }
  return emit_inputs(imp, node, INFER_OP_CONSTANT_OF_SHAPE, &p, 1, 1);
}

const OnnxOpImporter infer_onnx_importers_movement[] = {
  {"Reshape", import_reshape},
  {"Flatten", import_flatten},
  {"Squeeze", import_squeeze},
  {"Unsqueeze", import_unsqueeze},
  {"Identity", import_identity},
  {"Dropout", import_dropout},
  {"Transpose", import_transpose},
  {"Concat", import_concat},
  {"Split", import_split},
  {"Slice", import_slice},
  {"Gather", import_gather},
  {"GatherElements", import_gather_elements},
  {"Expand", import_expand},
  {"Tile", import_tile},
  {"Range", import_range},
  {"Shape", import_shape},
  {"Size", import_size},
  {"ConstantOfShape", import_constant_of_shape},
};

const size_t infer_onnx_num_importers_movement =
    sizeof infer_onnx_importers_movement / sizeof infer_onnx_importers_movement[0];
