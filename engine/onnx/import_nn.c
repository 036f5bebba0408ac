/* ONNX importers of the neural-network family: Conv, ConvTranspose, the
 * pooling ops, Gemm, MatMul and the normalizations. Attribute values the IR
 * cannot express exactly (training mode, statistics outputs, MaxPool
 * indices, ...) are rejected as unsupported. */
#include <string.h>

#include "onnx_import.h"

/* Attribute lists are read into buffers larger than INFER_MAX_SPATIAL so
 * that a 4-D window is reported as unsupported, not as a parse error. */
#define NN_MAX_LIST (2 * INFER_MAX_RANK)

/* Window attributes shared by convolutions and pooling. */
typedef struct NnWindow {
  int32_t spatial;
  int64_t kernel[INFER_MAX_SPATIAL]; /* 0: from the weights */
  int64_t strides[INFER_MAX_SPATIAL];
  int64_t dilations[INFER_MAX_SPATIAL];
  int64_t pads[2 * INFER_MAX_SPATIAL];
  InferAutoPad auto_pad;
} NnWindow;

static InferStatus *reject_extra_outputs(OnnxImporter *imp, const OnnxNode *node, int keep,
                                         const char *what) {
  for (size_t i = (size_t)keep; i < node->n_output; i++)
    if (node->output[i] && node->output[i][0])
      return onnx_unsupported(imp, node, "output %zu ('%s', %s) is not supported", i,
                              node->output[i], what);
  return NULL;
}

static InferStatus *read_auto_pad(OnnxImporter *imp, const OnnxNode *node, InferAutoPad *out) {
  char buf[32];
  *out = INFER_AUTO_PAD_NOTSET;
  if (!onnx_attr_string(node, "auto_pad", buf, sizeof buf) || !strcmp(buf, "NOTSET") || !buf[0])
    return NULL;
  if (!strcmp(buf, "SAME_UPPER"))
    *out = INFER_AUTO_PAD_SAME_UPPER;
  else if (!strcmp(buf, "SAME_LOWER"))
    *out = INFER_AUTO_PAD_SAME_LOWER;
  else if (!strcmp(buf, "VALID"))
    *out = INFER_AUTO_PAD_VALID;
  else
    return onnx_unsupported(imp, node, "attribute auto_pad=%s is not supported", buf);
  return NULL;
}

/* An int-list attribute of exactly `count` values, each >= min; `def` fills
 * it when absent. */
static InferStatus *read_list(OnnxImporter *imp, const OnnxNode *node, const char *name,
                              int count, int64_t def, int64_t min, int64_t *out) {
  int64_t buf[NN_MAX_LIST];
  int n;
  INFER_TRY(onnx_attr_ints(imp, node, name, buf, NN_MAX_LIST, &n));
  if (n < 0) {
    for (int i = 0; i < count; i++) out[i] = def;
    return NULL;
  }
  if (n != count)
    return onnx_invalid(imp, node, "attribute %s has %d values, expected %d", name, n, count);
  for (int i = 0; i < count; i++) {
    if (buf[i] < min)
      return onnx_invalid(imp, node, "attribute %s has value %lld, the minimum is %lld", name,
                          (long long)buf[i], (long long)min);
    out[i] = buf[i];
  }
  return NULL;
}

/* Length of an int-list attribute, -1 when absent. */
static InferStatus *list_length(OnnxImporter *imp, const OnnxNode *node, const char *name,
                                int *n) {
  int64_t buf[NN_MAX_LIST];
  return onnx_attr_ints(imp, node, name, buf, NN_MAX_LIST, n);
}

static InferStatus *check_spatial(OnnxImporter *imp, const OnnxNode *node, int spatial) {
  if (spatial < 1 || spatial > INFER_MAX_SPATIAL)
    return onnx_unsupported(imp, node, "%d spatial dims are not supported (1 to %d are)",
                            spatial, INFER_MAX_SPATIAL);
  return NULL;
}

/* Reads kernel_shape, strides, dilations, pads and auto_pad for a window of
 * w->spatial dims. A missing kernel_shape is an error only for pooling. */
static InferStatus *read_window(OnnxImporter *imp, const OnnxNode *node, bool need_kernel,
                                NnWindow *w) {
  int n = w->spatial;
  int kn;
  INFER_TRY(list_length(imp, node, "kernel_shape", &kn));
  if (kn < 0 && need_kernel) return onnx_invalid(imp, node, "attribute kernel_shape is missing");
  INFER_TRY(read_list(imp, node, "kernel_shape", n, 0, 1, w->kernel));
  INFER_TRY(read_list(imp, node, "strides", n, 1, 1, w->strides));
  INFER_TRY(read_list(imp, node, "dilations", n, 1, 1, w->dilations));
  INFER_TRY(read_list(imp, node, "pads", 2 * n, 0, 0, w->pads));
  return read_auto_pad(imp, node, &w->auto_pad);
}

/* The number of spatial dims of a convolution: from kernel_shape, else the
 * weights' or x's rank, else the lengths of the other window attributes. */
static InferStatus *conv_spatial(OnnxImporter *imp, const OnnxNode *node, InferTensorId x,
                                 InferTensorId w, int *spatial) {
  int n;
  INFER_TRY(list_length(imp, node, "kernel_shape", &n));
  if (n < 0) {
    int32_t wr = infer_network_tensor_shape(onnx_network(imp), w).rank;
    int32_t xr = infer_network_tensor_shape(onnx_network(imp), x).rank;
    n = wr >= 3 ? wr - 2 : xr >= 3 ? xr - 2 : -1;
  }
  static const char *const others[] = {"strides", "dilations", "output_padding"};
  for (int i = 0; n < 0 && i < 3; i++) INFER_TRY(list_length(imp, node, others[i], &n));
  if (n < 0) {
    INFER_TRY(list_length(imp, node, "pads", &n));
    if (n >= 0) n /= 2;
  }
  if (n < 0)
    return onnx_unsupported(imp, node, "the number of spatial dims cannot be determined");
  *spatial = n;
  return check_spatial(imp, node, n);
}

static void copy_window(const NnWindow *w, int64_t *kernel, int64_t *strides,
                        int64_t *dilations, int64_t *pads) {
  memcpy(kernel, w->kernel, sizeof w->kernel);
  memcpy(strides, w->strides, sizeof w->strides);
  memcpy(dilations, w->dilations, sizeof w->dilations);
  memcpy(pads, w->pads, sizeof w->pads);
}

/* ConvTranspose's output_padding and output_shape (which may also list the
 * batch and channel dims; only the spatial ones are kept). */
static InferStatus *read_deconv_attrs(OnnxImporter *imp, const OnnxNode *node,
                                      InferConvParams *p) {
  int n = p->spatial;
  INFER_TRY(read_list(imp, node, "output_padding", n, 0, 0, p->output_padding));
  int64_t shape[NN_MAX_LIST];
  int len;
  INFER_TRY(onnx_attr_ints(imp, node, "output_shape", shape, NN_MAX_LIST, &len));
  if (len < 0) return NULL;
  if (len != n && len != n + 2)
    return onnx_invalid(imp, node, "attribute output_shape has %d values, expected %d", len, n);
  for (int i = 0; i < n; i++) {
    p->output_shape[i] = shape[len - n + i];
    if (p->output_shape[i] < 0)
      return onnx_invalid(imp, node, "attribute output_shape has a negative value");
  }
  p->has_output_shape = true;
  return NULL;
}

static InferStatus *import_conv_like(OnnxImporter *imp, const OnnxNode *node, InferOp op) {
  int n_in = onnx_num_inputs(node);
  if (n_in < 2 || n_in > 3) return onnx_invalid(imp, node, "expected 2 or 3 inputs, got %d", n_in);
  InferTensorId in[3] = {onnx_input(imp, node, 0), onnx_input(imp, node, 1),
                         onnx_input(imp, node, 2)};
  InferOpParams prm;
  memset(&prm, 0, sizeof prm);
  InferConvParams *p = &prm.conv;
  NnWindow w;
  memset(&w, 0, sizeof w);
  INFER_TRY(conv_spatial(imp, node, in[0], in[1], &w.spatial));
  INFER_TRY(read_window(imp, node, false, &w));
  p->spatial = w.spatial;
  p->auto_pad = w.auto_pad;
  copy_window(&w, p->kernel, p->strides, p->dilations, p->pads);
  p->group = onnx_attr_int(node, "group", 1);
  if (p->group < 1) return onnx_invalid(imp, node, "attribute group must be >= 1");
  if (op == INFER_OP_DECONV) INFER_TRY(read_deconv_attrs(imp, node, p));
  return onnx_emit(imp, node, op, &prm, 3, in, 1);
}

static InferStatus *import_conv(OnnxImporter *imp, const OnnxNode *node) {
  return import_conv_like(imp, node, INFER_OP_CONV);
}

static InferStatus *import_conv_transpose(OnnxImporter *imp, const OnnxNode *node) {
  return import_conv_like(imp, node, INFER_OP_DECONV);
}

/* ---- pooling ------------------------------------------------------------ */

/* LpPool's p: an int since opset 2, a float in opset 1. */
static InferStatus *read_lp_p(OnnxImporter *imp, const OnnxNode *node, int64_t *p) {
  const Onnx__AttributeProto *a = onnx_attr(node, "p");
  *p = 2;
  if (!a) return NULL;
  if (a->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT || (a->has_f && !a->has_i)) {
    float f = a->f;
    if (f < 1.0f || f > 1000.0f || f != (float)(int64_t)f)
      return onnx_unsupported(imp, node, "attribute p=%g is not supported", (double)f);
    *p = (int64_t)f;
    return NULL;
  }
  *p = a->i;
  if (*p < 1) return onnx_invalid(imp, node, "attribute p=%lld must be >= 1", (long long)*p);
  return NULL;
}

static InferStatus *import_pool(OnnxImporter *imp, const OnnxNode *node, InferPoolKind kind) {
  InferOpParams prm;
  memset(&prm, 0, sizeof prm);
  InferPoolParams *p = &prm.pool;
  p->kind = kind;
  NnWindow w;
  memset(&w, 0, sizeof w);
  INFER_TRY(list_length(imp, node, "kernel_shape", &w.spatial));
  if (w.spatial < 0) return onnx_invalid(imp, node, "attribute kernel_shape is missing");
  INFER_TRY(check_spatial(imp, node, w.spatial));
  INFER_TRY(read_window(imp, node, true, &w));
  p->spatial = w.spatial;
  p->auto_pad = w.auto_pad;
  copy_window(&w, p->kernel, p->strides, p->dilations, p->pads);
  int64_t ceil_mode = onnx_attr_int(node, "ceil_mode", 0);
  if (ceil_mode != 0 && ceil_mode != 1)
    return onnx_invalid(imp, node, "attribute ceil_mode=%lld is not 0 or 1", (long long)ceil_mode);
  /* ONNX's reference rejects this combination; runtimes disagree on it. */
  if (ceil_mode && p->auto_pad != INFER_AUTO_PAD_NOTSET)
    return onnx_unsupported(imp, node, "ceil_mode=1 together with auto_pad is not supported");
  p->ceil_mode = ceil_mode != 0;
  if (kind == INFER_POOL_MAX) {
    /* storage_order only changes the Indices output, rejected here */
    INFER_TRY(reject_extra_outputs(imp, node, 1, "max-pool indices"));
    int64_t order = onnx_attr_int(node, "storage_order", 0);
    if (order != 0 && order != 1)
      return onnx_invalid(imp, node, "attribute storage_order=%lld is not 0 or 1",
                          (long long)order);
  }
  if (kind == INFER_POOL_AVERAGE) p->count_include_pad = onnx_attr_int(node, "count_include_pad", 0);
  if (kind == INFER_POOL_LP) INFER_TRY(read_lp_p(imp, node, &p->p));
  InferTensorId x = onnx_input(imp, node, 0);
  return onnx_emit(imp, node, INFER_OP_POOL, &prm, 1, &x, 1);
}

static InferStatus *import_global_pool(OnnxImporter *imp, const OnnxNode *node,
                                       InferPoolKind kind) {
  InferOpParams prm;
  memset(&prm, 0, sizeof prm);
  prm.pool.kind = kind;
  prm.pool.global = true;
  if (kind == INFER_POOL_LP) INFER_TRY(read_lp_p(imp, node, &prm.pool.p));
  InferTensorId x = onnx_input(imp, node, 0);
  return onnx_emit(imp, node, INFER_OP_POOL, &prm, 1, &x, 1);
}

static InferStatus *import_max_pool(OnnxImporter *imp, const OnnxNode *node) {
  return import_pool(imp, node, INFER_POOL_MAX);
}
static InferStatus *import_average_pool(OnnxImporter *imp, const OnnxNode *node) {
  return import_pool(imp, node, INFER_POOL_AVERAGE);
}
static InferStatus *import_lp_pool(OnnxImporter *imp, const OnnxNode *node) {
  return import_pool(imp, node, INFER_POOL_LP);
}
static InferStatus *import_global_max_pool(OnnxImporter *imp, const OnnxNode *node) {
  return import_global_pool(imp, node, INFER_POOL_MAX);
}
static InferStatus *import_global_average_pool(OnnxImporter *imp, const OnnxNode *node) {
  return import_global_pool(imp, node, INFER_POOL_AVERAGE);
}
static InferStatus *import_global_lp_pool(OnnxImporter *imp, const OnnxNode *node) {
  return import_global_pool(imp, node, INFER_POOL_LP);
}

/* ---- matrix products ---------------------------------------------------- */

/* Opset < 7 had a `broadcast` attribute; with broadcast=0 a valid model's C
 * already has the output's shape, so broadcasting C is exact either way. */
static InferStatus *import_gemm(OnnxImporter *imp, const OnnxNode *node) {
  int n_in = onnx_num_inputs(node);
  if (n_in < 2 || n_in > 3) return onnx_invalid(imp, node, "expected 2 or 3 inputs, got %d", n_in);
  InferOpParams prm;
  memset(&prm, 0, sizeof prm);
  prm.gemm.alpha = onnx_attr_float(node, "alpha", 1.0f);
  prm.gemm.beta = onnx_attr_float(node, "beta", 1.0f);
  prm.gemm.trans_a = onnx_attr_int(node, "transA", 0) != 0;
  prm.gemm.trans_b = onnx_attr_int(node, "transB", 0) != 0;
  InferTensorId in[3] = {onnx_input(imp, node, 0), onnx_input(imp, node, 1),
                         onnx_input(imp, node, 2)};
  return onnx_emit(imp, node, INFER_OP_GEMM, &prm, 3, in, 1);
}

static InferStatus *import_matmul(OnnxImporter *imp, const OnnxNode *node) {
  InferOpParams prm;
  memset(&prm, 0, sizeof prm);
  InferTensorId in[2] = {onnx_input(imp, node, 0), onnx_input(imp, node, 1)};
  return onnx_emit(imp, node, INFER_OP_MATMUL, &prm, 2, in, 1);
}

/* ---- normalizations ----------------------------------------------------- */

/* Inference mode only: the running statistics are inputs. is_test,
 * momentum and consumed_inputs (old opsets) do not change Y then. */
static InferStatus *import_batchnorm(OnnxImporter *imp, const OnnxNode *node) {
  if (onnx_num_inputs(node) != 5)
    return onnx_invalid(imp, node, "expected 5 inputs, got %d", onnx_num_inputs(node));
  if (onnx_attr_int(node, "training_mode", 0) != 0)
    return onnx_unsupported(imp, node, "attribute training_mode=1 is not supported");
  if (onnx_opset(imp) < 9 && onnx_attr_int(node, "spatial", 1) == 0)
    return onnx_unsupported(imp, node, "attribute spatial=0 is not supported");
  INFER_TRY(reject_extra_outputs(imp, node, 1, "training statistics"));
  InferOpParams prm;
  memset(&prm, 0, sizeof prm);
  prm.norm.epsilon = onnx_attr_float(node, "epsilon", 1e-5f);
  InferTensorId in[5];
  for (int i = 0; i < 5; i++) in[i] = onnx_input(imp, node, i);
  return onnx_emit(imp, node, INFER_OP_BATCHNORM, &prm, 5, in, 1);
}

static InferStatus *import_instancenorm(OnnxImporter *imp, const OnnxNode *node) {
  InferOpParams prm;
  memset(&prm, 0, sizeof prm);
  prm.norm.epsilon = onnx_attr_float(node, "epsilon", 1e-5f);
  InferTensorId in[3] = {onnx_input(imp, node, 0), onnx_input(imp, node, 1),
                         onnx_input(imp, node, 2)};
  return onnx_emit(imp, node, INFER_OP_INSTANCENORM, &prm, 3, in, 1);
}

static InferStatus *import_layernorm(OnnxImporter *imp, const OnnxNode *node) {
  int64_t stash = onnx_attr_int(node, "stash_type", 1);
  if (stash != 1)
    return onnx_unsupported(imp, node, "attribute stash_type=%lld is not supported",
                            (long long)stash);
  INFER_TRY(reject_extra_outputs(imp, node, 1, "normalization statistics"));
  InferOpParams prm;
  memset(&prm, 0, sizeof prm);
  prm.norm.epsilon = onnx_attr_float(node, "epsilon", 1e-5f);
  prm.norm.axis = onnx_attr_int(node, "axis", -1);
  InferTensorId in[3] = {onnx_input(imp, node, 0), onnx_input(imp, node, 1),
                         onnx_input(imp, node, 2)};
  return onnx_emit(imp, node, INFER_OP_LAYERNORM, &prm, 3, in, 1);
}

static InferStatus *import_lrn(OnnxImporter *imp, const OnnxNode *node) {
  if (!onnx_attr(node, "size")) return onnx_invalid(imp, node, "attribute size is missing");
  InferOpParams prm;
  memset(&prm, 0, sizeof prm);
  prm.lrn.size = onnx_attr_int(node, "size", 1);
  if (prm.lrn.size < 1) return onnx_invalid(imp, node, "attribute size must be >= 1");
  prm.lrn.alpha = onnx_attr_float(node, "alpha", 1e-4f);
  prm.lrn.beta = onnx_attr_float(node, "beta", 0.75f);
  prm.lrn.bias = onnx_attr_float(node, "bias", 1.0f);
  InferTensorId x = onnx_input(imp, node, 0);
  return onnx_emit(imp, node, INFER_OP_LRN, &prm, 1, &x, 1);
}

const OnnxOpImporter infer_onnx_importers_nn[] = {
  {"Conv", import_conv},
  {"ConvTranspose", import_conv_transpose},
  {"MaxPool", import_max_pool},
  {"AveragePool", import_average_pool},
  {"LpPool", import_lp_pool},
  {"GlobalMaxPool", import_global_max_pool},
  {"GlobalAveragePool", import_global_average_pool},
  {"GlobalLpPool", import_global_lp_pool},
  {"Gemm", import_gemm},
  {"MatMul", import_matmul},
  {"BatchNormalization", import_batchnorm},
  {"InstanceNormalization", import_instancenorm},
  {"LayerNormalization", import_layernorm},
  {"LRN", import_lrn},
};

const size_t infer_onnx_num_importers_nn =
    sizeof infer_onnx_importers_nn / sizeof infer_onnx_importers_nn[0];
