/* ONNX importers of the reduction family: Softmax/LogSoftmax/Hardmax, the
 * Reduce* ops, ArgMax/ArgMin, TopK, CumSum and NonMaxSuppression. */
#include <string.h>

#include "onnx_import.h"

/* Whether a 0/1 attribute is set; other values are reported as unsupported. */
static InferStatus *attr_flag(OnnxImporter *imp, const OnnxNode *node, const char *name,
                              int64_t def, bool *out) {
  int64_t v = onnx_attr_int(node, name, def);
  if (v != 0 && v != 1)
    return onnx_unsupported(imp, node, "attribute %s=%lld is not supported", name, (long long)v);
  *out = v == 1;
  return NULL;
}

/* The node's input i, or INFER_NO_TENSOR when it is beyond the node's inputs. */
static InferTensorId input_or_none(OnnxImporter *imp, const OnnxNode *node, int i) {
  return i < onnx_num_inputs(node) ? onnx_input(imp, node, i) : INFER_NO_TENSOR;
}

/* ---- Softmax, LogSoftmax, Hardmax --------------------------------------- */

static InferStatus *import_softmax_kind(OnnxImporter *imp, const OnnxNode *node,
                                        InferSoftmaxKind kind) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.softmax.kind = kind;
  /* Before opset 13 the input was flattened to 2-D at axis (default 1). */
  bool old = onnx_opset(imp) < 13;
  p.softmax.coerce_2d = old;
  p.softmax.axis = onnx_attr_int(node, "axis", old ? 1 : -1);
  InferTensorId x = onnx_input(imp, node, 0);
  return onnx_emit(imp, node, INFER_OP_SOFTMAX, &p, 1, &x, 1);
}

static InferStatus *import_softmax(OnnxImporter *imp, const OnnxNode *node) {
  return import_softmax_kind(imp, node, INFER_SOFTMAX);
}
static InferStatus *import_log_softmax(OnnxImporter *imp, const OnnxNode *node) {
  return import_softmax_kind(imp, node, INFER_LOG_SOFTMAX);
}
static InferStatus *import_hardmax(OnnxImporter *imp, const OnnxNode *node) {
  return import_softmax_kind(imp, node, INFER_HARDMAX);
}

/* ---- Reduce* ------------------------------------------------------------ */

static InferStatus *import_reduce_kind(OnnxImporter *imp, const OnnxNode *node,
                                       InferReduceKind kind) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.reduce.kind = kind;
  INFER_TRY(attr_flag(imp, node, "keepdims", 1, &p.reduce.keepdims));
  InferTensorId in[2] = {onnx_input(imp, node, 0), INFER_NO_TENSOR};
  /* ReduceSum took axes as an input from opset 13, the others from 18. */
  bool axes_input = onnx_opset(imp) >= (kind == INFER_REDUCE_SUM ? 13 : 18);
  if (axes_input) {
    if (onnx_attr(node, "axes"))
      return onnx_unsupported(imp, node, "attribute axes is not allowed in this opset");
    INFER_TRY(attr_flag(imp, node, "noop_with_empty_axes", 0, &p.reduce.noop_with_empty_axes));
    in[1] = input_or_none(imp, node, 1);
  } else {
    int64_t axes[64];
    int n = -1;
    INFER_TRY(onnx_attr_ints(imp, node, "axes", axes, 64, &n));
    /* An empty list has no clear meaning in these opsets (all axes or none). */
    if (n == 0) return onnx_unsupported(imp, node, "an empty axes attribute is not supported");
    if (n > 0) INFER_TRY(onnx_add_ints(imp, node, "axes", n, axes, &in[1]));
  }
  return onnx_emit(imp, node, INFER_OP_REDUCE, &p, 2, in, 1);
}

#define REDUCE_IMPORTER(fn, kind)                                    \
  static InferStatus *fn(OnnxImporter *imp, const OnnxNode *node) { \
    return import_reduce_kind(imp, node, kind);                     \
  }
REDUCE_IMPORTER(import_reduce_sum, INFER_REDUCE_SUM)
REDUCE_IMPORTER(import_reduce_mean, INFER_REDUCE_MEAN)
REDUCE_IMPORTER(import_reduce_max, INFER_REDUCE_MAX)
REDUCE_IMPORTER(import_reduce_min, INFER_REDUCE_MIN)
REDUCE_IMPORTER(import_reduce_prod, INFER_REDUCE_PROD)
REDUCE_IMPORTER(import_reduce_l1, INFER_REDUCE_L1)
REDUCE_IMPORTER(import_reduce_l2, INFER_REDUCE_L2)
REDUCE_IMPORTER(import_reduce_log_sum, INFER_REDUCE_LOG_SUM)
REDUCE_IMPORTER(import_reduce_log_sum_exp, INFER_REDUCE_LOG_SUM_EXP)
REDUCE_IMPORTER(import_reduce_sum_square, INFER_REDUCE_SUM_SQUARE)

/* ---- ArgMax, ArgMin ----------------------------------------------------- */

static InferStatus *import_arg(OnnxImporter *imp, const OnnxNode *node, bool is_min) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.argmax.is_min = is_min;
  p.argmax.axis = onnx_attr_int(node, "axis", 0);
  INFER_TRY(attr_flag(imp, node, "keepdims", 1, &p.argmax.keepdims));
  INFER_TRY(attr_flag(imp, node, "select_last_index", 0, &p.argmax.select_last_index));
  InferTensorId x = onnx_input(imp, node, 0);
  return onnx_emit(imp, node, INFER_OP_ARGMAX, &p, 1, &x, 1);
}

static InferStatus *import_argmax(OnnxImporter *imp, const OnnxNode *node) {
  return import_arg(imp, node, false);
}
static InferStatus *import_argmin(OnnxImporter *imp, const OnnxNode *node) {
  return import_arg(imp, node, true);
}

/* ---- TopK --------------------------------------------------------------- */

static InferStatus *import_topk(OnnxImporter *imp, const OnnxNode *node) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.topk.axis = onnx_attr_int(node, "axis", -1);
  /* Both default to 1 and do not exist before opset 11. sorted=0 leaves the
   * order unspecified, so the always-sorted kernel serves it too. */
  INFER_TRY(attr_flag(imp, node, "largest", 1, &p.topk.largest));
  INFER_TRY(attr_flag(imp, node, "sorted", 1, &p.topk.sorted));
  if (node->n_output < 2) return onnx_invalid(imp, node, "TopK needs two outputs");
  InferTensorId in[2] = {onnx_input(imp, node, 0), INFER_NO_TENSOR};
  if (onnx_opset(imp) < 10) {
    const Onnx__AttributeProto *k = onnx_attr(node, "k");
    if (!k) return onnx_invalid(imp, node, "attribute k is missing");
    int64_t kv = onnx_attr_int(node, "k", 0);
    INFER_TRY(onnx_add_ints(imp, node, "k", 1, &kv, &in[1]));
  } else {
    in[1] = input_or_none(imp, node, 1);
    if (in[1] == INFER_NO_TENSOR) return onnx_invalid(imp, node, "input K is missing");
  }
  return onnx_emit(imp, node, INFER_OP_TOPK, &p, 2, in, 2);
}

/* ---- CumSum ------------------------------------------------------------- */

static InferStatus *import_cumsum(OnnxImporter *imp, const OnnxNode *node) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  INFER_TRY(attr_flag(imp, node, "exclusive", 0, &p.cumsum.exclusive));
  INFER_TRY(attr_flag(imp, node, "reverse", 0, &p.cumsum.reverse));
  InferTensorId in[2] = {onnx_input(imp, node, 0), input_or_none(imp, node, 1)};
  if (in[1] == INFER_NO_TENSOR) return onnx_invalid(imp, node, "input axis is missing");
  return onnx_emit(imp, node, INFER_OP_CUMSUM, &p, 2, in, 1);
}

/* ---- NonMaxSuppression -------------------------------------------------- */

static InferStatus *import_nms(OnnxImporter *imp, const OnnxNode *node) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  INFER_TRY(attr_flag(imp, node, "center_point_box", 0, &p.nms.center_point_box));
  int n = onnx_num_inputs(node);
  if (n > 5) return onnx_invalid(imp, node, "NonMaxSuppression takes at most 5 inputs");
  InferTensorId in[5];
  for (int i = 0; i < n; i++) in[i] = onnx_input(imp, node, i);
  return onnx_emit(imp, node, INFER_OP_NMS, &p, n, in, 1);
}

const OnnxOpImporter infer_onnx_importers_reduce[] = {
  {"Softmax", import_softmax},
  {"LogSoftmax", import_log_softmax},
  {"Hardmax", import_hardmax},
  {"ReduceSum", import_reduce_sum},
  {"ReduceMean", import_reduce_mean},
  {"ReduceMax", import_reduce_max},
  {"ReduceMin", import_reduce_min},
  {"ReduceProd", import_reduce_prod},
  {"ReduceL1", import_reduce_l1},
  {"ReduceL2", import_reduce_l2},
  {"ReduceLogSum", import_reduce_log_sum},
  {"ReduceLogSumExp", import_reduce_log_sum_exp},
  {"ReduceSumSquare", import_reduce_sum_square},
  {"ArgMax", import_argmax},
  {"ArgMin", import_argmin},
  {"TopK", import_topk},
  {"CumSum", import_cumsum},
  {"NonMaxSuppression", import_nms},
};
const size_t infer_onnx_num_importers_reduce =
    sizeof infer_onnx_importers_reduce / sizeof infer_onnx_importers_reduce[0];
