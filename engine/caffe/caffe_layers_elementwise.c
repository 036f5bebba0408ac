/* Caffe's elementwise layers: activations (ReLU, PReLU, Sigmoid, TanH, ELU,
 * AbsVal, BNLL, Clip), Power, Eltwise, Dropout (inference form) and Softmax.
 * Most work in place; caffe_emit_tops handles the renaming. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "caffe_import.h"

static InferOpParams zero_params(void) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  return p;
}

/* The single bottom of a one-in one-out layer, after checking the counts
 * and the fields of its parameter message (param NULL: it has none read). */
static InferStatus *one_to_one(CaffeImporter *imp, const char *param, const char *const *known,
                               const CaffeNode **p, InferTensorId *x) {
  static const char *const engine_only[] = {"engine", NULL};
  INFER_TRY(caffe_check_io(imp, 1, 1, 1, 1));
  const CaffeNode *unused;
  if (param) INFER_TRY(caffe_layer_param(imp, param, known ? known : engine_only, p ? p : &unused));
  return caffe_bottom(imp, 0, x);
}

static InferStatus *emit_unary(CaffeImporter *imp, InferTensorId x, InferUnaryKind kind,
                               float alpha, float beta) {
  InferOpParams op = zero_params();
  op.unary.kind = kind;
  op.unary.alpha = alpha;
  op.unary.beta = beta;
  return caffe_emit_tops(imp, NULL, INFER_OP_UNARY, &op, 1, &x, 1, 0);
}

/* A binary step of a decomposition: the layer's top when `last`. */
static InferStatus *binary_step(CaffeImporter *imp, bool last, const char *suffix,
                                InferBinaryKind kind, InferTensorId a, InferTensorId b,
                                InferTensorId *out) {
  InferOpParams op = zero_params();
  op.binary.kind = kind;
  InferTensorId in[2] = {a, b};
  if (last) return caffe_emit_tops(imp, NULL, INFER_OP_BINARY, &op, 2, in, 1, 0);
  return caffe_emit(imp, suffix, INFER_OP_BINARY, &op, 2, in, 1, out);
}

/* ---- activations ----------------------------------------------------------------- */

static InferStatus *import_relu(CaffeImporter *imp, const CaffeNode *layer) {
  static const char *const known[] = {"negative_slope", "engine", NULL};
  (void)layer;
  const CaffeNode *p = NULL;
  InferTensorId x;
  double slope;
  INFER_TRY(one_to_one(imp, "relu_param", known, &p, &x));
  INFER_TRY(caffe_get_float(caffe_file(imp), p, "negative_slope", 0.0, &slope));
  if (slope == 0.0) return emit_unary(imp, x, INFER_UNARY_RELU, 0, 0);
  return emit_unary(imp, x, INFER_UNARY_LEAKY_RELU, (float)slope, 0);
}

static InferStatus *import_sigmoid(CaffeImporter *imp, const CaffeNode *layer) {
  (void)layer;
  InferTensorId x;
  INFER_TRY(one_to_one(imp, "sigmoid_param", NULL, NULL, &x));
  return emit_unary(imp, x, INFER_UNARY_SIGMOID, 0, 0);
}

static InferStatus *import_tanh(CaffeImporter *imp, const CaffeNode *layer) {
  (void)layer;
  InferTensorId x;
  INFER_TRY(one_to_one(imp, "tanh_param", NULL, NULL, &x));
  return emit_unary(imp, x, INFER_UNARY_TANH, 0, 0);
}

static InferStatus *import_elu(CaffeImporter *imp, const CaffeNode *layer) {
  static const char *const known[] = {"alpha", NULL};
  (void)layer;
  const CaffeNode *p = NULL;
  InferTensorId x;
  double alpha;
  INFER_TRY(one_to_one(imp, "elu_param", known, &p, &x));
  INFER_TRY(caffe_get_float(caffe_file(imp), p, "alpha", 1.0, &alpha));
  return emit_unary(imp, x, INFER_UNARY_ELU, (float)alpha, 0);
}

static InferStatus *import_absval(CaffeImporter *imp, const CaffeNode *layer) {
  (void)layer;
  InferTensorId x;
  INFER_TRY(one_to_one(imp, NULL, NULL, NULL, &x));
  return emit_unary(imp, x, INFER_UNARY_ABS, 0, 0);
}

/* BNLL is log(1 + exp(x)): softplus. */
static InferStatus *import_bnll(CaffeImporter *imp, const CaffeNode *layer) {
  (void)layer;
  InferTensorId x;
  INFER_TRY(one_to_one(imp, NULL, NULL, NULL, &x));
  return emit_unary(imp, x, INFER_UNARY_SOFTPLUS, 0, 0);
}

static InferStatus *import_clip(CaffeImporter *imp, const CaffeNode *layer) {
  static const char *const known[] = {"min", "max", NULL};
  (void)layer;
  const CaffeNode *p = NULL;
  InferTensorId x;
  double lo, hi;
  INFER_TRY(one_to_one(imp, "clip_param", known, &p, &x));
  if (!caffe_find(p, "min") || !caffe_find(p, "max"))
    return caffe_invalid(imp, "clip_param needs min and max");
  INFER_TRY(caffe_get_float(caffe_file(imp), p, "min", 0.0, &lo));
  INFER_TRY(caffe_get_float(caffe_file(imp), p, "max", 0.0, &hi));
  return emit_unary(imp, x, INFER_UNARY_CLIP, (float)lo, (float)hi);
}

/* PReLU: one slope per channel (dim 1), or one for all (channel_shared). */
static InferStatus *import_prelu(CaffeImporter *imp, const CaffeNode *layer) {
  static const char *const known[] = {"filler", "channel_shared", NULL};
  (void)layer;
  const CaffeNode *p = NULL;
  InferTensorId x, slope;
  bool shared;
  INFER_TRY(one_to_one(imp, "prelu_param", known, &p, &x));
  INFER_TRY(caffe_get_bool(caffe_file(imp), p, "channel_shared", false, &shared));
  InferShape xs = caffe_shape(imp, x);
  if (xs.rank < 2) return caffe_unsupported(imp, "inputs of rank %d are not supported", xs.rank);
  INFER_TRY(caffe_expect_blobs(imp, 1, "slopes"));
  InferShape bs = {shared ? 0 : 1, {xs.d[1]}}, ir = {shared ? 0 : xs.rank - 1, {xs.d[1]}};
  for (int i = 1; i < ir.rank; i++) ir.d[i] = 1;
  INFER_TRY(caffe_blob_constant(imp, 0, &bs, &ir, "slope", &slope));
  return binary_step(imp, true, NULL, INFER_BINARY_PRELU, x, slope, NULL);
}

/* ---- Power: (shift + scale * x) ^ power ---------------------------------------------- */

static InferStatus *import_power(CaffeImporter *imp, const CaffeNode *layer) {
  static const char *const known[] = {"power", "scale", "shift", NULL};
  (void)layer;
  const char *file = caffe_file(imp);
  const CaffeNode *p = NULL;
  InferTensorId x, c;
  double power, scale, shift;
  INFER_TRY(one_to_one(imp, "power_param", known, &p, &x));
  INFER_TRY(caffe_get_float(file, p, "power", 1.0, &power));
  INFER_TRY(caffe_get_float(file, p, "scale", 1.0, &scale));
  INFER_TRY(caffe_get_float(file, p, "shift", 0.0, &shift));
  bool do_scale = scale != 1.0, do_shift = shift != 0.0, do_pow = power != 1.0;
  if (!do_scale && !do_shift && !do_pow) return caffe_emit_identity(imp, 0, x);
  if (do_scale) {
    INFER_TRY(caffe_add_scalar(imp, "scale", (float)scale, &c));
    INFER_TRY(binary_step(imp, !do_shift && !do_pow, "scale_mul", INFER_BINARY_MUL, x, c, &x));
  }
  if (do_shift) {
    INFER_TRY(caffe_add_scalar(imp, "shift", (float)shift, &c));
    INFER_TRY(binary_step(imp, !do_pow, "shift_add", INFER_BINARY_ADD, x, c, &x));
  }
  if (!do_pow) return NULL;
  INFER_TRY(caffe_add_scalar(imp, "power", (float)power, &c));
  return binary_step(imp, true, NULL, INFER_BINARY_POW, x, c, NULL);
}

/* ---- Eltwise ----------------------------------------------------------------------------- */

/* PROD, SUM (with one coefficient per bottom) or MAX over >= 2 bottoms of
 * one shape, as a chain of binary layers. */
static InferStatus *import_eltwise(CaffeImporter *imp, const CaffeNode *layer) {
  static const char *const known[] = {"operation", "coeff", "stable_prod_grad", NULL};
  static const char *const ops[] = {"PROD", "SUM", "MAX"};
  (void)layer;
  const char *file = caffe_file(imp);
  const CaffeNode *p;
  INFER_TRY(caffe_check_io(imp, 2, -1, 1, 1));
  INFER_TRY(caffe_layer_param(imp, "eltwise_param", known, &p));
  int op, n = caffe_num_bottoms(imp), n_coeff;
  INFER_TRY(caffe_get_enum(file, p, "operation", ops, 3, 1, &op));
  double *coeff = malloc((size_t)n * sizeof *coeff);
  if (!coeff) return caffe_invalid(imp, "out of memory");
  InferStatus *st = caffe_get_floats(file, p, "coeff", coeff, n, &n_coeff);
  if (!st && n_coeff && (op != 1 || n_coeff != n))
    st = caffe_invalid(imp, "coeff needs operation SUM and one value per bottom (%d), found %d", n,
                       n_coeff);
  for (int i = n_coeff; i < n; i++) coeff[i] = 1.0;
  InferTensorId acc = INFER_NO_TENSOR;
  InferShape first = {0, {0}};
  for (int i = 0; i < n && !st; i++) {
    InferTensorId b, c;
    st = caffe_bottom(imp, i, &b);
    if (st) break;
    InferShape bs = caffe_shape(imp, b);
    if (i == 0) first = bs;
    if (!infer_shape_equal(&bs, &first)) {
      char a[128], c2[128];
      st = caffe_invalid(imp, "bottom %d has shape %s, bottom 0 has %s", i,
                         caffe_shape_str(&bs, a, sizeof a), caffe_shape_str(&first, c2, sizeof c2));
      break;
    }
    bool last = i == n - 1;
    InferBinaryKind kind = op == 0 ? INFER_BINARY_MUL : op == 2 ? INFER_BINARY_MAX
                                                                : INFER_BINARY_ADD;
    /* -1 (a difference) is a subtraction; other coefficients a product */
    if (i > 0 && coeff[i] == -1.0) {
      kind = INFER_BINARY_SUB;
    } else if (coeff[i] != 1.0) {
      st = caffe_add_scalar(imp, "coeff", (float)coeff[i], &c);
      if (!st) st = binary_step(imp, last && i == 0, "coeff_mul", INFER_BINARY_MUL, b, c, &b);
    }
    if (!st && i > 0) st = binary_step(imp, last, "step", kind, acc, b, &acc);
    if (i == 0) acc = b;
  }
  free(coeff);
  return st;
}

/* ---- Dropout, Softmax --------------------------------------------------------------------- */

/* At inference Caffe copies the input, or scales it by 1 - ratio when the
 * training pass did not (scale_train: false). */
static InferStatus *import_dropout(CaffeImporter *imp, const CaffeNode *layer) {
  static const char *const known[] = {"dropout_ratio", "scale_train", NULL};
  (void)layer;
  const CaffeNode *p = NULL;
  InferTensorId x, c;
  double ratio;
  bool scale_train;
  INFER_TRY(one_to_one(imp, "dropout_param", known, &p, &x));
  INFER_TRY(caffe_get_float(caffe_file(imp), p, "dropout_ratio", 0.5, &ratio));
  INFER_TRY(caffe_get_bool(caffe_file(imp), p, "scale_train", true, &scale_train));
  if (scale_train) return caffe_emit_identity(imp, 0, x);
  INFER_TRY(caffe_add_scalar(imp, "keep", (float)(1.0 - ratio), &c));
  return binary_step(imp, true, NULL, INFER_BINARY_MUL, x, c, NULL);
}

static InferStatus *import_softmax(CaffeImporter *imp, const CaffeNode *layer) {
  static const char *const known[] = {"engine", "axis", NULL};
  (void)layer;
  const CaffeNode *p = NULL;
  InferTensorId x;
  int64_t axis;
  INFER_TRY(one_to_one(imp, "softmax_param", known, &p, &x));
  INFER_TRY(caffe_get_int(caffe_file(imp), p, "axis", 1, &axis));
  InferOpParams op = zero_params();
  op.softmax.kind = INFER_SOFTMAX;
  op.softmax.axis = axis;
  return caffe_emit_tops(imp, NULL, INFER_OP_SOFTMAX, &op, 1, &x, 1, 0);
}

const CaffeLayerImporter infer_caffe_importers_elementwise[] = {
  {"ReLU", import_relu},
  {"Sigmoid", import_sigmoid},
  {"TanH", import_tanh},
  {"ELU", import_elu},
  {"AbsVal", import_absval},
  {"BNLL", import_bnll},
  {"Clip", import_clip},
  {"PReLU", import_prelu},
  {"Power", import_power},
  {"Eltwise", import_eltwise},
  {"Dropout", import_dropout},
  {"Softmax", import_softmax},
};
const size_t infer_caffe_num_importers_elementwise =
    sizeof infer_caffe_importers_elementwise / sizeof infer_caffe_importers_elementwise[0];
