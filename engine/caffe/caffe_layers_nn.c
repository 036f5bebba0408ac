/* Caffe layers with learned parameters or normalization: Convolution,
 * Deconvolution, InnerProduct, BatchNorm, Scale, Bias and LRN. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "caffe_import.h"

/* A parameter list value may hold up to this many values; more than the
 * spatial rank is reported as an error, not silently cut. */
#define LIST_MAX 8

static InferOpParams zero_params(void) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  return p;
}

/* ---- convolution windows ---------------------------------------------------- */

typedef struct ConvWindow {
  int spatial;
  int64_t kernel[INFER_MAX_SPATIAL], stride[INFER_MAX_SPATIAL];
  int64_t pad[INFER_MAX_SPATIAL], dilation[INFER_MAX_SPATIAL];
} ConvWindow;

/* One window field given as a list (`list`: one value for every dim, or
 * one per dim) or as <h>/<w> (2-D only). `required`: absence is an error. */
static InferStatus *read_dims(CaffeImporter *imp, const CaffeNode *p, const char *list,
                              const char *h, const char *w, int spatial, int64_t def, int64_t min,
                              bool required, int64_t *out) {
  const char *file = caffe_file(imp);
  const CaffeNode *hn = h ? caffe_find(p, h) : NULL, *wn = w ? caffe_find(p, w) : NULL;
  int64_t v[LIST_MAX];
  int n;
  INFER_TRY(caffe_get_ints(file, p, list, v, LIST_MAX, &n));
  if (hn || wn) {
    if (n > 0)
      return caffe_field_error(imp, hn ? hn : wn, INFER_ERR_PARSE, "give %s or %s/%s, not both",
                               list, h, w);
    if (!hn || !wn)
      return caffe_field_error(imp, hn ? hn : wn, INFER_ERR_PARSE, "%s and %s go together", h, w);
    if (spatial != 2)
      return caffe_field_error(imp, hn, INFER_ERR_PARSE, "%s/%s need 2 spatial dims, the input "
                               "has %d", h, w, spatial);
    INFER_TRY(caffe_node_int(file, hn, &out[0]));
    INFER_TRY(caffe_node_int(file, wn, &out[1]));
  } else if (n == 0) {
    if (required) return caffe_invalid(imp, "%s is missing", list);
    for (int i = 0; i < spatial; i++) out[i] = def;
  } else if (n == 1 || n == spatial) {
    for (int i = 0; i < spatial; i++) out[i] = v[n == 1 ? 0 : i];
  } else {
    return caffe_field_error(imp, caffe_find(p, list), INFER_ERR_PARSE,
                             "%s has %d values; 1 or %d (one per spatial dim) expected", list, n,
                             spatial);
  }
  for (int i = 0; i < spatial; i++)
    if (out[i] < min || out[i] > CAFFE_MAX_SIZE)
      return caffe_invalid(imp, "%s must be >= %lld (and sane), found %lld", list, (long long)min,
                           (long long)out[i]);
  return NULL;
}

static InferStatus *read_conv_window(CaffeImporter *imp, const CaffeNode *p, int spatial,
                                     ConvWindow *w) {
  w->spatial = spatial;
  INFER_TRY(read_dims(imp, p, "kernel_size", "kernel_h", "kernel_w", spatial, 0, 1, true, w->kernel));
  INFER_TRY(read_dims(imp, p, "stride", "stride_h", "stride_w", spatial, 1, 1, false, w->stride));
  INFER_TRY(read_dims(imp, p, "pad", "pad_h", "pad_w", spatial, 0, 0, false, w->pad));
  return read_dims(imp, p, "dilation", NULL, NULL, spatial, 1, 1, false, w->dilation);
}

static const char *const conv_fields[] = {
  "num_output", "bias_term", "pad", "kernel_size", "stride", "dilation", "pad_h", "pad_w",
  "kernel_h", "kernel_w", "stride_h", "stride_w", "group", "weight_filler", "bias_filler",
  "engine", "axis", "force_nd_im2col", NULL};

/* Convolution and Deconvolution: weights [M, C/g, k...] and [C, M/g, k...]. */
static InferStatus *import_conv_common(CaffeImporter *imp, bool deconv) {
  const char *file = caffe_file(imp);
  const CaffeNode *p;
  INFER_TRY(caffe_check_io(imp, 1, 1, 1, 1));
  INFER_TRY(caffe_layer_param(imp, "convolution_param", conv_fields, &p));
  InferTensorId x;
  INFER_TRY(caffe_bottom(imp, 0, &x));
  InferShape xs = caffe_shape(imp, x);
  int64_t axis, num_output, group;
  bool bias_term;
  INFER_TRY(caffe_get_int(file, p, "axis", 1, &axis));
  if (axis != 1 && axis != 1 - xs.rank)
    return caffe_unsupported(imp, "axis %lld is not supported (channels must be axis 1)",
                             (long long)axis);
  int spatial = xs.rank - 2;
  if (spatial < 1 || spatial > INFER_MAX_SPATIAL)
    return caffe_unsupported(imp, "input of rank %d: 1 to %d spatial dims are supported", xs.rank,
                             INFER_MAX_SPATIAL);
  INFER_TRY(caffe_get_int(file, p, "num_output", 0, &num_output));
  INFER_TRY(caffe_get_int(file, p, "group", 1, &group));
  INFER_TRY(caffe_get_bool(file, p, "bias_term", true, &bias_term));
  if (num_output < 1 || num_output > CAFFE_MAX_SIZE)
    return caffe_invalid(imp, "num_output must be given and positive");
  int64_t channels = xs.d[1];
  if (group < 1 || channels % group || num_output % group)
    return caffe_invalid(imp, "group %lld must divide the input channels (%lld) and num_output "
                         "(%lld)", (long long)group, (long long)channels, (long long)num_output);
  ConvWindow w;
  INFER_TRY(read_conv_window(imp, p, spatial, &w));
  INFER_TRY(caffe_expect_blobs(imp, bias_term ? 2 : 1, bias_term ? "weights and bias" : "weights"));
  InferShape ws = {2 + spatial, {0}};
  ws.d[0] = deconv ? channels : num_output;
  ws.d[1] = deconv ? num_output / group : channels / group;
  for (int i = 0; i < spatial; i++) ws.d[2 + i] = w.kernel[i];
  InferTensorId in[3] = {x, INFER_NO_TENSOR, INFER_NO_TENSOR};
  INFER_TRY(caffe_blob_constant(imp, 0, &ws, NULL, "weights", &in[1]));
  if (bias_term) {
    InferShape bs = {1, {num_output}};
    INFER_TRY(caffe_blob_constant(imp, 1, &bs, NULL, "bias", &in[2]));
  }
  InferOpParams op = zero_params();
  InferConvParams *c = &op.conv;
  c->spatial = spatial;
  c->group = group;
  for (int i = 0; i < spatial; i++) {
    c->kernel[i] = w.kernel[i];
    c->strides[i] = w.stride[i];
    c->dilations[i] = w.dilation[i];
    c->pads[i] = c->pads[spatial + i] = w.pad[i];
  }
  return caffe_emit_tops(imp, NULL, deconv ? INFER_OP_DECONV : INFER_OP_CONV, &op,
                         bias_term ? 3 : 2, in, 1, 0);
}

static InferStatus *import_convolution(CaffeImporter *imp, const CaffeNode *layer) {
  (void)layer;
  return import_conv_common(imp, false);
}

static InferStatus *import_deconvolution(CaffeImporter *imp, const CaffeNode *layer) {
  (void)layer;
  return import_conv_common(imp, true);
}

/* ---- InnerProduct ------------------------------------------------------------- */

/* y = flatten(x, axis) * W^T + b, then the leading dims restored:
 * [d0..d(axis-1), num_output]. transpose: W is stored [K, N]. */
static InferStatus *import_inner_product(CaffeImporter *imp, const CaffeNode *layer) {
  static const char *const known[] = {"num_output", "bias_term", "weight_filler", "bias_filler",
                                      "axis", "transpose", NULL};
  (void)layer;
  const char *file = caffe_file(imp);
  const CaffeNode *p;
  INFER_TRY(caffe_check_io(imp, 1, 1, 1, 1));
  INFER_TRY(caffe_layer_param(imp, "inner_product_param", known, &p));
  InferTensorId x;
  INFER_TRY(caffe_bottom(imp, 0, &x));
  InferShape xs = caffe_shape(imp, x);
  int64_t axis, n_out;
  bool bias_term, transpose;
  INFER_TRY(caffe_get_int(file, p, "axis", 1, &axis));
  INFER_TRY(caffe_get_int(file, p, "num_output", 0, &n_out));
  INFER_TRY(caffe_get_bool(file, p, "bias_term", true, &bias_term));
  INFER_TRY(caffe_get_bool(file, p, "transpose", false, &transpose));
  if (axis < 0) axis += xs.rank;
  if (axis < 0 || axis >= xs.rank)
    return caffe_invalid(imp, "axis is out of range for an input of rank %d", xs.rank);
  if (n_out < 1 || n_out > CAFFE_MAX_SIZE)
    return caffe_invalid(imp, "num_output must be given and positive");
  int64_t k = 1;
  for (int i = (int)axis; i < xs.rank; i++) k *= xs.d[i];
  INFER_TRY(caffe_expect_blobs(imp, bias_term ? 2 : 1, bias_term ? "weights and bias" : "weights"));
  InferShape ws = {2, {transpose ? k : n_out, transpose ? n_out : k}};
  InferTensorId in[3] = {x, INFER_NO_TENSOR, INFER_NO_TENSOR};
  INFER_TRY(caffe_blob_constant(imp, 0, &ws, NULL, "weights", &in[1]));
  if (bias_term) {
    InferShape bs = {1, {n_out}};
    INFER_TRY(caffe_blob_constant(imp, 1, &bs, NULL, "bias", &in[2]));
  }
  bool plain = axis == 1 && xs.rank == 2;
  if (!(axis == 1 && xs.rank == 2)) {
    InferOpParams f = zero_params();
    f.reshape.kind = INFER_RESHAPE_FLATTEN;
    f.reshape.axis = axis;
    INFER_TRY(caffe_emit(imp, "flatten", INFER_OP_RESHAPE, &f, 1, &x, 1, &in[0]));
  }
  InferOpParams g = zero_params();
  g.gemm.alpha = g.gemm.beta = 1.0f;
  g.gemm.trans_b = !transpose;
  int n_in = bias_term ? 3 : 2;
  if (plain || axis == 1) return caffe_emit_tops(imp, NULL, INFER_OP_GEMM, &g, n_in, in, 1, 0);
  InferTensorId y, dims;
  INFER_TRY(caffe_emit(imp, "gemm", INFER_OP_GEMM, &g, n_in, in, 1, &y));
  int64_t out_dims[INFER_MAX_RANK];
  for (int i = 0; i < axis; i++) out_dims[i] = xs.d[i];
  out_dims[axis] = n_out;
  INFER_TRY(caffe_add_ints(imp, "shape", (int)axis + 1, out_dims, &dims));
  InferOpParams r = zero_params();
  r.reshape.kind = INFER_RESHAPE_SHAPE;
  InferTensorId rin[2] = {y, dims};
  return caffe_emit_tops(imp, NULL, INFER_OP_RESHAPE, &r, 2, rin, 1, 0);
}

/* ---- BatchNorm ------------------------------------------------------------------ */

/* Caffe keeps running sums: mean = blob0 / blob2[0], var = blob1 / blob2[0]
 * (a zero factor means zero statistics); y = (x - mean) / sqrt(var + eps). */
static InferStatus *import_batch_norm(CaffeImporter *imp, const CaffeNode *layer) {
  static const char *const known[] = {"use_global_stats", "moving_average_fraction", "eps", NULL};
  (void)layer;
  const char *file = caffe_file(imp);
  const CaffeNode *p;
  INFER_TRY(caffe_check_io(imp, 1, 1, 1, 1));
  INFER_TRY(caffe_layer_param(imp, "batch_norm_param", known, &p));
  InferTensorId x;
  INFER_TRY(caffe_bottom(imp, 0, &x));
  InferShape xs = caffe_shape(imp, x);
  bool global;
  double eps;
  INFER_TRY(caffe_get_bool(file, p, "use_global_stats", true, &global));
  INFER_TRY(caffe_get_float(file, p, "eps", 1e-5, &eps));
  if (!global)
    return caffe_unsupported(imp, "use_global_stats: false (statistics of the batch) is not "
                             "supported at inference; the stored statistics are used with true");
  if (xs.rank < 2) return caffe_unsupported(imp, "inputs of rank %d are not supported", xs.rank);
  int64_t c = xs.d[1];
  INFER_TRY(caffe_expect_blobs(imp, 3, "mean, variance and scale factor"));
  InferShape cs = {1, {c}}, one = {1, {1}};
  float *mean = NULL, *var = NULL, *factor = NULL, *ones = NULL, *zeros = NULL;
  InferStatus *st = caffe_blob_data(imp, 0, &cs, &mean);
  if (!st) st = caffe_blob_data(imp, 1, &cs, &var);
  if (!st) st = caffe_blob_data(imp, 2, &one, &factor);
  if (!st) {
    ones = malloc((size_t)c * sizeof *ones);
    zeros = calloc((size_t)c, sizeof *zeros);
    if (!ones || !zeros) st = caffe_invalid(imp, "out of memory");
  }
  InferTensorId in[5] = {x, 0, 0, 0, 0};
  if (!st) {
    if (!caffe_has_model(imp)) factor[0] = 1.0f;
    double f = factor[0] == 0.0f ? 0.0 : 1.0 / factor[0];
    for (int64_t i = 0; i < c; i++) {
      if (!caffe_has_model(imp)) var[i] = fabsf(var[i]) + 0.5f;
      mean[i] = (float)(mean[i] * f);
      var[i] = (float)(var[i] * f);
      ones[i] = 1.0f;
    }
    st = caffe_add_constant(imp, "scale", INFER_DTYPE_F32, &cs, ones, &in[1]);
  }
  if (!st) st = caffe_add_constant(imp, "bias", INFER_DTYPE_F32, &cs, zeros, &in[2]);
  if (!st) st = caffe_add_constant(imp, "mean", INFER_DTYPE_F32, &cs, mean, &in[3]);
  if (!st) st = caffe_add_constant(imp, "variance", INFER_DTYPE_F32, &cs, var, &in[4]);
  free(mean);
  free(var);
  free(factor);
  free(ones);
  free(zeros);
  INFER_TRY(st);
  InferOpParams op = zero_params();
  op.norm.epsilon = (float)eps;
  return caffe_emit_tops(imp, NULL, INFER_OP_BATCHNORM, &op, 5, in, 1, 0);
}

/* ---- Scale and Bias ------------------------------------------------------------------ */

/* `t` reshaped to its shape followed by `ones` 1s, so that numpy
 * broadcasting lines it up with x from Caffe's axis. */
static InferStatus *align_right(CaffeImporter *imp, InferTensorId t, int ones, InferTensorId *out) {
  if (ones == 0) {
    *out = t;
    return NULL;
  }
  InferShape s = caffe_shape(imp, t);
  int64_t dims[INFER_MAX_RANK];
  for (int i = 0; i < s.rank; i++) dims[i] = s.d[i];
  for (int i = 0; i < ones; i++) dims[s.rank + i] = 1;
  InferTensorId shape;
  INFER_TRY(caffe_add_ints(imp, "aligned_shape", s.rank + ones, dims, &shape));
  InferOpParams r = zero_params();
  r.reshape.kind = INFER_RESHAPE_SHAPE;
  InferTensorId in[2] = {t, shape};
  return caffe_emit(imp, "align", INFER_OP_RESHAPE, &r, 2, in, 1, out);
}

/* Scale: y = x * s (+ b); Bias: y = x + b. s (or b) is bottom 1 or a
 * learned blob covering x's dims axis .. axis+num_axes-1. */
static InferStatus *scale_or_bias(CaffeImporter *imp, bool is_scale) {
  static const char *const scale_known[] = {"axis", "num_axes", "filler", "bias_term",
                                            "bias_filler", NULL};
  static const char *const bias_known[] = {"axis", "num_axes", "filler", NULL};
  const char *file = caffe_file(imp);
  const CaffeNode *p;
  INFER_TRY(caffe_check_io(imp, 1, 2, 1, 1));
  INFER_TRY(caffe_layer_param(imp, is_scale ? "scale_param" : "bias_param",
                              is_scale ? scale_known : bias_known, &p));
  InferTensorId x, operand;
  INFER_TRY(caffe_bottom(imp, 0, &x));
  InferShape xs = caffe_shape(imp, x);
  int64_t axis, num_axes;
  bool bias_term = !is_scale;
  INFER_TRY(caffe_get_int(file, p, "axis", 1, &axis));
  INFER_TRY(caffe_get_int(file, p, "num_axes", 1, &num_axes));
  if (is_scale) INFER_TRY(caffe_get_bool(file, p, "bias_term", false, &bias_term));
  if (axis < 0) axis += xs.rank;
  if (axis < 0 || axis > xs.rank)
    return caffe_invalid(imp, "axis is out of range for an input of rank %d", xs.rank);
  bool two = caffe_num_bottoms(imp) == 2;
  int blob = 0, covered;
  if (two) {
    INFER_TRY(caffe_bottom(imp, 1, &operand));
    InferShape os = caffe_shape(imp, operand);
    bool ok = axis + os.rank <= xs.rank;
    for (int i = 0; ok && i < os.rank; i++) ok = os.d[i] == xs.d[axis + i];
    if (!ok) return caffe_invalid(imp, "bottom 1 does not match bottom 0 from axis %lld",
                                  (long long)axis);
    covered = os.rank;
    if (os.rank == 0) axis = xs.rank; /* a scalar broadcasts as is */
  } else {
    covered = num_axes < 0 ? xs.rank - (int)axis : (int)num_axes;
    if (axis + covered > xs.rank)
      return caffe_invalid(imp, "axis %lld + num_axes %lld exceed the input's rank %d",
                           (long long)axis, (long long)num_axes, xs.rank);
  }
  int n_blobs = (two ? 0 : 1) + (is_scale && bias_term ? 1 : 0);
  INFER_TRY(caffe_expect_blobs(imp, n_blobs, is_scale ? "scale and bias" : "bias"));
  InferShape bs = {covered, {0}}, ir = {xs.rank - (int)axis, {0}};
  for (int i = 0; i < covered; i++) bs.d[i] = ir.d[i] = xs.d[axis + i];
  for (int i = covered; i < ir.rank; i++) ir.d[i] = 1;
  int ones = xs.rank - (int)axis - covered;
  if (two)
    INFER_TRY(align_right(imp, operand, ones, &operand));
  else
    INFER_TRY(caffe_blob_constant(imp, blob++, &bs, &ir, is_scale ? "scale" : "bias", &operand));
  InferOpParams op = zero_params();
  op.binary.kind = is_scale ? INFER_BINARY_MUL : INFER_BINARY_ADD;
  InferTensorId in[2] = {x, operand};
  if (!is_scale || !bias_term) return caffe_emit_tops(imp, NULL, INFER_OP_BINARY, &op, 2, in, 1, 0);
  InferTensorId scaled, b;
  INFER_TRY(caffe_emit(imp, "mul", INFER_OP_BINARY, &op, 2, in, 1, &scaled));
  INFER_TRY(caffe_blob_constant(imp, blob, &bs, &ir, "bias", &b));
  op.binary.kind = INFER_BINARY_ADD;
  InferTensorId in2[2] = {scaled, b};
  return caffe_emit_tops(imp, NULL, INFER_OP_BINARY, &op, 2, in2, 1, 0);
}

static InferStatus *import_scale(CaffeImporter *imp, const CaffeNode *layer) {
  (void)layer;
  return scale_or_bias(imp, true);
}

static InferStatus *import_bias(CaffeImporter *imp, const CaffeNode *layer) {
  (void)layer;
  return scale_or_bias(imp, false);
}

/* ---- LRN ---------------------------------------------------------------------------- */

/* WITHIN_CHANNEL, as Caffe computes it: x * (1 + alpha * avgpool(x^2))^-beta
 * with a size x size window, stride 1 and (size-1)/2 padding counted in the
 * average (every window then divides by size^2, as Caffe's does). */
static InferStatus *lrn_within_channel(CaffeImporter *imp, InferTensorId x, int64_t size,
                                       double alpha, double beta) {
  if (caffe_shape(imp, x).rank != 4)
    return caffe_unsupported(imp, "WITHIN_CHANNEL needs a 4-D input");
  InferOpParams op = zero_params();
  op.binary.kind = INFER_BINARY_MUL;
  InferTensorId sq, pooled, scaled, shifted, powered, c;
  InferTensorId in[2] = {x, x};
  INFER_TRY(caffe_emit(imp, "square", INFER_OP_BINARY, &op, 2, in, 1, &sq));
  InferOpParams pool = zero_params();
  pool.pool.kind = INFER_POOL_AVERAGE;
  pool.pool.spatial = 2;
  pool.pool.count_include_pad = true;
  for (int i = 0; i < 2; i++) {
    pool.pool.kernel[i] = size;
    pool.pool.strides[i] = pool.pool.dilations[i] = 1;
    pool.pool.pads[i] = pool.pool.pads[2 + i] = (size - 1) / 2;
  }
  INFER_TRY(caffe_emit(imp, "pool", INFER_OP_POOL, &pool, 1, &sq, 1, &pooled));
  INFER_TRY(caffe_add_scalar(imp, "alpha", (float)alpha, &c));
  in[0] = pooled, in[1] = c;
  INFER_TRY(caffe_emit(imp, "alpha_mul", INFER_OP_BINARY, &op, 2, in, 1, &scaled));
  INFER_TRY(caffe_add_scalar(imp, "one", 1.0f, &c));
  op.binary.kind = INFER_BINARY_ADD;
  in[0] = scaled, in[1] = c;
  INFER_TRY(caffe_emit(imp, "shift", INFER_OP_BINARY, &op, 2, in, 1, &shifted));
  INFER_TRY(caffe_add_scalar(imp, "minus_beta", (float)-beta, &c));
  op.binary.kind = INFER_BINARY_POW;
  in[0] = shifted, in[1] = c;
  INFER_TRY(caffe_emit(imp, "pow", INFER_OP_BINARY, &op, 2, in, 1, &powered));
  op.binary.kind = INFER_BINARY_MUL;
  in[0] = x, in[1] = powered;
  return caffe_emit_tops(imp, NULL, INFER_OP_BINARY, &op, 2, in, 1, 0);
}

/* ACROSS_CHANNELS matches the IR's LRN exactly: both divide alpha by size
 * and center an odd window on the channel; k is the bias. */
static InferStatus *import_lrn(CaffeImporter *imp, const CaffeNode *layer) {
  static const char *const known[] = {"local_size", "alpha", "beta", "norm_region", "k",
                                      "engine", NULL};
  static const char *const regions[] = {"ACROSS_CHANNELS", "WITHIN_CHANNEL"};
  (void)layer;
  const char *file = caffe_file(imp);
  const CaffeNode *p;
  INFER_TRY(caffe_check_io(imp, 1, 1, 1, 1));
  INFER_TRY(caffe_layer_param(imp, "lrn_param", known, &p));
  InferTensorId x;
  INFER_TRY(caffe_bottom(imp, 0, &x));
  int64_t size;
  double alpha, beta, k;
  int region;
  INFER_TRY(caffe_get_int(file, p, "local_size", 5, &size));
  INFER_TRY(caffe_get_float(file, p, "alpha", 1.0, &alpha));
  INFER_TRY(caffe_get_float(file, p, "beta", 0.75, &beta));
  INFER_TRY(caffe_get_float(file, p, "k", 1.0, &k));
  INFER_TRY(caffe_get_enum(file, p, "norm_region", regions, 2, 0, &region));
  if (size < 1 || size % 2 == 0 || size > CAFFE_MAX_SIZE)
    return caffe_invalid(imp, "local_size must be odd and positive, found %lld", (long long)size);
  if (region == 1) return lrn_within_channel(imp, x, size, alpha, beta);
  InferOpParams op = zero_params();
  op.lrn.size = size;
  op.lrn.alpha = (float)alpha;
  op.lrn.beta = (float)beta;
  op.lrn.bias = (float)k;
  return caffe_emit_tops(imp, NULL, INFER_OP_LRN, &op, 1, &x, 1, 0);
}

const CaffeLayerImporter infer_caffe_importers_nn[] = {
  {"Convolution", import_convolution},
  {"Deconvolution", import_deconvolution},
  {"InnerProduct", import_inner_product},
  {"BatchNorm", import_batch_norm},
  {"Scale", import_scale},
  {"Bias", import_bias},
  {"LRN", import_lrn},
};
const size_t infer_caffe_num_importers_nn =
    sizeof infer_caffe_importers_nn / sizeof infer_caffe_importers_nn[0];
