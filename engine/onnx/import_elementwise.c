/* ONNX importers for the elementwise operators: activations and math
 * functions (UNARY), arithmetic, comparisons and logic (BINARY), variadic
 * Sum/Mean/Min/Max (chains of BINARY), Where and Cast/CastLike. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "onnx_import.h"

/* ---- shared helpers --------------------------------------------------------- */

static InferStatus *require_input(OnnxImporter *imp, const OnnxNode *node, int i,
                                  InferTensorId *out) {
  *out = onnx_input(imp, node, i);
  if (*out == INFER_NO_TENSOR) return onnx_invalid(imp, node, "input %d is missing", i);
  return NULL;
}

static InferStatus *emit_unary(OnnxImporter *imp, const OnnxNode *node, InferUnaryKind kind,
                               float alpha, float beta) {
  InferTensorId x;
  INFER_TRY(require_input(imp, node, 0, &x));
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.unary.kind = kind;
  p.unary.alpha = alpha;
  p.unary.beta = beta;
  return onnx_emit(imp, node, INFER_OP_UNARY, &p, 1, &x, 1);
}

static InferOpParams binary_params(InferBinaryKind kind) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.binary.kind = kind;
  return p;
}

static InferStatus *emit_identity(OnnxImporter *imp, const OnnxNode *node, InferTensorId x) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.reshape.kind = INFER_RESHAPE_IDENTITY;
  return onnx_emit(imp, node, INFER_OP_RESHAPE, &p, 1, &x, 1);
}

/* `t` (of shape s) with ones appended up to new_rank dims, so that numpy
 * broadcasting lines it up from a leading axis: a reshaped copy when t is a
 * constant, else a reshape layer. */
static InferStatus *append_ones(OnnxImporter *imp, const OnnxNode *node, InferTensorId t,
                                const InferShape *s, int32_t new_rank, InferTensorId *out) {
  InferShape shape = *s;
  for (int i = s->rank; i < new_rank; i++) shape.d[i] = 1;
  shape.rank = new_rank;
  InferDType dt;
  const void *data = onnx_constant(imp, t, &dt, NULL);
  if (data) return onnx_add_constant(imp, node, "aligned", dt, &shape, data, out);
  InferTensorId dims;
  INFER_TRY(onnx_add_ints(imp, node, "aligned_shape", shape.rank, shape.d, &dims));
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.reshape.kind = INFER_RESHAPE_SHAPE;
  InferTensorId in[2] = {t, dims};
  return onnx_emit_internal(imp, node, "aligned", INFER_OP_RESHAPE, &p, 2, in, 1, out);
}

/* Opsets before 7 broadcast B onto A only with broadcast=1, matching B's dims
 * to A's from `axis` on (trailing dims when absent). Suffix matching is numpy
 * broadcasting; an earlier axis becomes B reshaped with trailing ones. */
static InferStatus *legacy_broadcast(OnnxImporter *imp, const OnnxNode *node, InferTensorId a,
                                     InferTensorId *b) {
  if (onnx_opset(imp) >= 7 || onnx_attr_int(node, "broadcast", 0) == 0 ||
      !onnx_attr(node, "axis"))
    return NULL;
  InferNetwork *net = onnx_network(imp);
  if (infer_network_tensor_dtype(net, a) == INFER_DTYPE_UNDEFINED ||
      infer_network_tensor_dtype(net, *b) == INFER_DTYPE_UNDEFINED)
    return onnx_unsupported(imp, node, "legacy broadcast with axis needs known input ranks");
  InferShape sa = infer_network_tensor_shape(net, a), sb = infer_network_tensor_shape(net, *b);
  int64_t axis = onnx_attr_int(node, "axis", 0);
  if (axis < 0) axis += sa.rank;
  if (axis < 0 || axis + sb.rank > sa.rank)
    return onnx_invalid(imp, node, "legacy broadcast axis=%lld does not fit the input ranks",
                        (long long)onnx_attr_int(node, "axis", 0));
  if (axis + sb.rank == sa.rank) return NULL;
  return append_ones(imp, node, *b, &sb, (int32_t)(sa.rank - axis), b);
}

/* ---- unary ops without attributes --------------------------------------------- */

typedef struct UnaryName {
  const char *op_type;
  InferUnaryKind kind;
} UnaryName;

static const UnaryName plain_unary[] = {
  {"Relu", INFER_UNARY_RELU},       {"Sigmoid", INFER_UNARY_SIGMOID},
  {"HardSwish", INFER_UNARY_HARD_SWISH}, {"Tanh", INFER_UNARY_TANH},
  {"Erf", INFER_UNARY_ERF},         {"Exp", INFER_UNARY_EXP},
  {"Log", INFER_UNARY_LOG},         {"Sqrt", INFER_UNARY_SQRT},
  {"Neg", INFER_UNARY_NEG},         {"Abs", INFER_UNARY_ABS},
  {"Reciprocal", INFER_UNARY_RECIPROCAL}, {"Floor", INFER_UNARY_FLOOR},
  {"Ceil", INFER_UNARY_CEIL},       {"Round", INFER_UNARY_ROUND},
  {"Sign", INFER_UNARY_SIGN},       {"Sin", INFER_UNARY_SIN},
  {"Cos", INFER_UNARY_COS},         {"Tan", INFER_UNARY_TAN},
  {"Asin", INFER_UNARY_ASIN},       {"Acos", INFER_UNARY_ACOS},
  {"Atan", INFER_UNARY_ATAN},       {"Sinh", INFER_UNARY_SINH},
  {"Cosh", INFER_UNARY_COSH},       {"Asinh", INFER_UNARY_ASINH},
  {"Acosh", INFER_UNARY_ACOSH},     {"Atanh", INFER_UNARY_ATANH},
  {"Softplus", INFER_UNARY_SOFTPLUS}, {"Softsign", INFER_UNARY_SOFTSIGN},
  {"Not", INFER_UNARY_NOT},         {"IsNaN", INFER_UNARY_IS_NAN},
  {"Mish", INFER_UNARY_MISH},
};

/* Opset-1 forms carry `consumed_inputs`, which never affected results. */
static InferStatus *import_plain_unary(OnnxImporter *imp, const OnnxNode *node) {
  for (size_t i = 0; i < sizeof plain_unary / sizeof plain_unary[0]; i++)
    if (strcmp(node->op_type, plain_unary[i].op_type) == 0)
      return emit_unary(imp, node, plain_unary[i].kind, 0.0f, 0.0f);
  return onnx_unsupported(imp, node, "not an elementwise unary op");
}

/* ---- unary ops with attributes -------------------------------------------------- */

static InferStatus *import_leaky_relu(OnnxImporter *imp, const OnnxNode *node) {
  return emit_unary(imp, node, INFER_UNARY_LEAKY_RELU, onnx_attr_float(node, "alpha", 0.01f), 0);
}

static InferStatus *import_hard_sigmoid(OnnxImporter *imp, const OnnxNode *node) {
  return emit_unary(imp, node, INFER_UNARY_HARD_SIGMOID, onnx_attr_float(node, "alpha", 0.2f),
                    onnx_attr_float(node, "beta", 0.5f));
}

static InferStatus *import_elu(OnnxImporter *imp, const OnnxNode *node) {
  return emit_unary(imp, node, INFER_UNARY_ELU, onnx_attr_float(node, "alpha", 1.0f), 0);
}

static InferStatus *import_selu(OnnxImporter *imp, const OnnxNode *node) {
  return emit_unary(imp, node, INFER_UNARY_SELU,
                    onnx_attr_float(node, "alpha", 1.67326319217681884765625f),
                    onnx_attr_float(node, "gamma", 1.05070102214813232421875f));
}

static InferStatus *import_celu(OnnxImporter *imp, const OnnxNode *node) {
  float alpha = onnx_attr_float(node, "alpha", 1.0f);
  if (alpha == 0.0f) return onnx_invalid(imp, node, "attribute alpha must not be 0");
  return emit_unary(imp, node, INFER_UNARY_CELU, alpha, 0);
}

static InferStatus *import_thresholded_relu(OnnxImporter *imp, const OnnxNode *node) {
  return emit_unary(imp, node, INFER_UNARY_THRESHOLDED_RELU,
                    onnx_attr_float(node, "alpha", 1.0f), 0);
}

static InferStatus *import_shrink(OnnxImporter *imp, const OnnxNode *node) {
  return emit_unary(imp, node, INFER_UNARY_SHRINK, onnx_attr_float(node, "bias", 0.0f),
                    onnx_attr_float(node, "lambd", 0.5f));
}

static InferStatus *import_is_inf(OnnxImporter *imp, const OnnxNode *node) {
  return emit_unary(imp, node, INFER_UNARY_IS_INF,
                    onnx_attr_int(node, "detect_positive", 1) != 0 ? 1.0f : 0.0f,
                    onnx_attr_int(node, "detect_negative", 1) != 0 ? 1.0f : 0.0f);
}

static InferStatus *import_gelu(OnnxImporter *imp, const OnnxNode *node) {
  char approx[16] = "none";
  if (onnx_attr(node, "approximate") && !onnx_attr_string(node, "approximate", approx, sizeof approx))
    return onnx_invalid(imp, node, "attribute approximate must be a string");
  if (strcmp(approx, "none") == 0) return emit_unary(imp, node, INFER_UNARY_GELU, 0.0f, 0);
  if (strcmp(approx, "tanh") == 0) return emit_unary(imp, node, INFER_UNARY_GELU, 1.0f, 0);
  return onnx_unsupported(imp, node, "attribute approximate=%s is not supported", approx);
}

/* ---- Clip ------------------------------------------------------------------------ */

/* A Clip bound as a float: absent is +-inf; false when the bound is not a
 * constant scalar or a float cannot hold its value exactly (large ints). */
static bool clip_bound(OnnxImporter *imp, InferTensorId t, float absent, float *out) {
  if (t == INFER_NO_TENSOR) {
    *out = absent;
    return true;
  }
  InferDType dt;
  InferShape shape;
  const void *data = onnx_constant(imp, t, &dt, &shape);
  if (!data || infer_shape_numel(&shape) != 1) return false;
  if (dt == INFER_DTYPE_I64) {
    int64_t v = *(const int64_t *)data;
    if (v < -(INT64_C(1) << 62) || v > (INT64_C(1) << 62) || (int64_t)(float)v != v) return false;
    *out = (float)v;
    return true;
  }
  double v;
  if (!onnx_constant_scalar(imp, t, &v)) return false;
  *out = (float)v;
  return !isnan(v) && (double)*out == v; /* NaN bounds go the Max/Min way */
}

/* Clip with bounds that are not constants: Min(Max(x, min), max). */
static InferStatus *clip_as_binary(OnnxImporter *imp, const OnnxNode *node, InferTensorId x,
                                   InferTensorId lo, InferTensorId hi) {
  InferOpParams pmax = binary_params(INFER_BINARY_MAX), pmin = binary_params(INFER_BINARY_MIN);
  InferTensorId acc = x;
  if (lo != INFER_NO_TENSOR) {
    InferTensorId in[2] = {x, lo};
    if (hi == INFER_NO_TENSOR) return onnx_emit(imp, node, INFER_OP_BINARY, &pmax, 2, in, 1);
    INFER_TRY(onnx_emit_internal(imp, node, "max", INFER_OP_BINARY, &pmax, 2, in, 1, &acc));
  }
  InferTensorId in[2] = {acc, hi};
  return onnx_emit(imp, node, INFER_OP_BINARY, &pmin, 2, in, 1);
}

static InferStatus *import_clip(OnnxImporter *imp, const OnnxNode *node) {
  if (onnx_opset(imp) < 11) {
    float lo = onnx_attr(node, "min") ? onnx_attr_float(node, "min", 0) : -INFINITY;
    float hi = onnx_attr(node, "max") ? onnx_attr_float(node, "max", 0) : INFINITY;
    return emit_unary(imp, node, INFER_UNARY_CLIP, lo, hi);
  }
  InferTensorId x;
  INFER_TRY(require_input(imp, node, 0, &x));
  InferTensorId tlo = onnx_input(imp, node, 1), thi = onnx_input(imp, node, 2);
  float lo, hi;
  if (clip_bound(imp, tlo, -INFINITY, &lo) && clip_bound(imp, thi, INFINITY, &hi))
    return emit_unary(imp, node, INFER_UNARY_CLIP, lo, hi);
  return clip_as_binary(imp, node, x, tlo, thi);
}

/* ---- binary ops ------------------------------------------------------------------ */

typedef struct BinaryName {
  const char *op_type;
  InferBinaryKind kind;
} BinaryName;

static const BinaryName plain_binary[] = {
  {"Add", INFER_BINARY_ADD},         {"Sub", INFER_BINARY_SUB},
  {"Mul", INFER_BINARY_MUL},         {"Div", INFER_BINARY_DIV},
  {"Pow", INFER_BINARY_POW},         {"Equal", INFER_BINARY_EQUAL},
  {"Greater", INFER_BINARY_GREATER}, {"GreaterOrEqual", INFER_BINARY_GREATER_EQUAL},
  {"Less", INFER_BINARY_LESS},       {"LessOrEqual", INFER_BINARY_LESS_EQUAL},
  {"And", INFER_BINARY_AND},         {"Or", INFER_BINARY_OR},
  {"Xor", INFER_BINARY_XOR},
};

static InferStatus *emit_binary(OnnxImporter *imp, const OnnxNode *node, InferBinaryKind kind) {
  InferTensorId in[2];
  INFER_TRY(require_input(imp, node, 0, &in[0]));
  INFER_TRY(require_input(imp, node, 1, &in[1]));
  INFER_TRY(legacy_broadcast(imp, node, in[0], &in[1]));
  InferOpParams p = binary_params(kind);
  return onnx_emit(imp, node, INFER_OP_BINARY, &p, 2, in, 1);
}

static InferStatus *import_plain_binary(OnnxImporter *imp, const OnnxNode *node) {
  for (size_t i = 0; i < sizeof plain_binary / sizeof plain_binary[0]; i++)
    if (strcmp(node->op_type, plain_binary[i].op_type) == 0)
      return emit_binary(imp, node, plain_binary[i].kind);
  return onnx_unsupported(imp, node, "not an elementwise binary op");
}

/* Before opset 7 a 1-D slope of size C applies per channel (axis 1), which
 * the test data of that era confirms; a single slope or one shaped like x
 * means the same under numpy rules. Anything else is rejected. */
static InferStatus *import_prelu(OnnxImporter *imp, const OnnxNode *node) {
  if (onnx_opset(imp) >= 7) return emit_binary(imp, node, INFER_BINARY_PRELU);
  InferTensorId in[2];
  INFER_TRY(require_input(imp, node, 0, &in[0]));
  INFER_TRY(require_input(imp, node, 1, &in[1]));
  InferNetwork *net = onnx_network(imp);
  InferShape sx = infer_network_tensor_shape(net, in[0]), ss = infer_network_tensor_shape(net, in[1]);
  bool known = infer_network_tensor_dtype(net, in[0]) != INFER_DTYPE_UNDEFINED &&
               infer_network_tensor_dtype(net, in[1]) != INFER_DTYPE_UNDEFINED;
  if (known && ss.rank == 1 && sx.rank >= 2 && ss.d[0] > 1 && ss.d[0] == sx.d[1])
    INFER_TRY(append_ones(imp, node, in[1], &ss, sx.rank - 1, &in[1]));
  else if (!known || (infer_shape_numel(&ss) != 1 && !infer_shape_equal(&sx, &ss)))
    return onnx_unsupported(imp, node, "opset %d slope broadcasting is not supported",
                            onnx_opset(imp));
  InferOpParams p = binary_params(INFER_BINARY_PRELU);
  return onnx_emit(imp, node, INFER_OP_BINARY, &p, 2, in, 1);
}

static InferStatus *import_mod(OnnxImporter *imp, const OnnxNode *node) {
  int64_t fmod_attr = onnx_attr_int(node, "fmod", 0);
  if (fmod_attr != 0 && fmod_attr != 1)
    return onnx_invalid(imp, node, "attribute fmod=%lld must be 0 or 1", (long long)fmod_attr);
  return emit_binary(imp, node, fmod_attr ? INFER_BINARY_FMOD : INFER_BINARY_MOD);
}

static InferStatus *import_bitshift(OnnxImporter *imp, const OnnxNode *node) {
  char dir[16] = "";
  onnx_attr_string(node, "direction", dir, sizeof dir);
  if (strcmp(dir, "LEFT") == 0) return emit_binary(imp, node, INFER_BINARY_SHIFT_LEFT);
  if (strcmp(dir, "RIGHT") == 0) return emit_binary(imp, node, INFER_BINARY_SHIFT_RIGHT);
  return onnx_invalid(imp, node, "attribute direction='%s' must be LEFT or RIGHT", dir);
}

/* ---- variadic Sum / Mean / Min / Max ----------------------------------------------- */

/* A scalar n in the type of `like` (f32 unless the input is known to be f16). */
static InferStatus *mean_divisor(OnnxImporter *imp, const OnnxNode *node, InferTensorId like,
                                 int n, InferTensorId *out) {
  InferDType t = infer_network_tensor_dtype(onnx_network(imp), like);
  if (t == INFER_DTYPE_F16) {
    uint16_t h = infer_float_to_half((float)n);
    InferShape scalar = {0, {0}};
    return onnx_add_constant(imp, node, "count", INFER_DTYPE_F16, &scalar, &h, out);
  }
  if (t != INFER_DTYPE_UNDEFINED && t != INFER_DTYPE_F32)
    return onnx_unsupported(imp, node, "Mean of %s inputs is not supported", infer_dtype_name(t));
  return onnx_add_scalar_f32(imp, node, "count", (float)n, out);
}

static InferStatus *import_variadic(OnnxImporter *imp, const OnnxNode *node, InferBinaryKind kind,
                                    bool mean) {
  int n = onnx_num_inputs(node);
  if (n < 1) return onnx_invalid(imp, node, "needs at least one input");
  InferTensorId acc;
  INFER_TRY(require_input(imp, node, 0, &acc));
  if (n == 1) return emit_identity(imp, node, acc);
  InferOpParams p = binary_params(kind);
  for (int i = 1; i < n; i++) {
    InferTensorId in[2] = {acc, INFER_NO_TENSOR};
    INFER_TRY(require_input(imp, node, i, &in[1]));
    if (i == n - 1 && !mean) return onnx_emit(imp, node, INFER_OP_BINARY, &p, 2, in, 1);
    char suffix[32];
    snprintf(suffix, sizeof suffix, "acc%d", i);
    INFER_TRY(onnx_emit_internal(imp, node, suffix, INFER_OP_BINARY, &p, 2, in, 1, &acc));
  }
  InferTensorId in[2] = {acc, INFER_NO_TENSOR};
  INFER_TRY(mean_divisor(imp, node, in[0], n, &in[1]));
  InferOpParams div = binary_params(INFER_BINARY_DIV);
  return onnx_emit(imp, node, INFER_OP_BINARY, &div, 2, in, 1);
}

static InferStatus *import_sum(OnnxImporter *imp, const OnnxNode *node) {
  return import_variadic(imp, node, INFER_BINARY_ADD, false);
}

static InferStatus *import_mean(OnnxImporter *imp, const OnnxNode *node) {
  return import_variadic(imp, node, INFER_BINARY_ADD, true);
}

static InferStatus *import_min(OnnxImporter *imp, const OnnxNode *node) {
  return import_variadic(imp, node, INFER_BINARY_MIN, false);
}

static InferStatus *import_max(OnnxImporter *imp, const OnnxNode *node) {
  return import_variadic(imp, node, INFER_BINARY_MAX, false);
}

/* ---- Where, Cast, CastLike --------------------------------------------------------- */

static InferStatus *import_where(OnnxImporter *imp, const OnnxNode *node) {
  InferTensorId in[3];
  for (int i = 0; i < 3; i++) INFER_TRY(require_input(imp, node, i, &in[i]));
  InferOpParams p;
  memset(&p, 0, sizeof p);
  return onnx_emit(imp, node, INFER_OP_WHERE, &p, 3, in, 1);
}

static InferStatus *emit_cast(OnnxImporter *imp, const OnnxNode *node, InferDType to) {
  InferTensorId x;
  INFER_TRY(require_input(imp, node, 0, &x));
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.cast.to = to;
  return onnx_emit(imp, node, INFER_OP_CAST, &p, 1, &x, 1);
}

/* Opset 1 names the target type with a string. */
static int32_t legacy_type_code(const char *name) {
  static const char *const names[] = {"", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32",
                                      "INT64", "STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32",
                                      "UINT64"};
  for (int32_t i = 1; i < (int32_t)(sizeof names / sizeof names[0]); i++)
    if (strcmp(name, names[i]) == 0) return i;
  return 0;
}

static InferStatus *import_cast(OnnxImporter *imp, const OnnxNode *node) {
  const Onnx__AttributeProto *attr = onnx_attr(node, "to");
  if (!attr) return onnx_invalid(imp, node, "attribute 'to' is missing");
  int32_t code;
  char name[32];
  if (onnx_attr_string(node, "to", name, sizeof name))
    code = legacy_type_code(name);
  else
    code = (int32_t)onnx_attr_int(node, "to", 0);
  /* `saturate` (opset 19) only affects float8 targets, which are rejected here */
  InferDType to = onnx_dtype(code);
  if (to == INFER_DTYPE_UNDEFINED)
    return onnx_unsupported(imp, node, "cast to ONNX type %d is not supported", (int)code);
  return emit_cast(imp, node, to);
}

static InferStatus *import_cast_like(OnnxImporter *imp, const OnnxNode *node) {
  InferTensorId like;
  INFER_TRY(require_input(imp, node, 1, &like));
  InferDType to = infer_network_tensor_dtype(onnx_network(imp), like);
  if (to == INFER_DTYPE_UNDEFINED) onnx_constant(imp, like, &to, NULL);
  if (to == INFER_DTYPE_UNDEFINED)
    return onnx_unsupported(imp, node, "the type of input 1 is not known at import time");
  return emit_cast(imp, node, to);
}

/* ---- table ---------------------------------------------------------------------------- */

const OnnxOpImporter infer_onnx_importers_elementwise[] = {
  {"Relu", import_plain_unary},       {"Sigmoid", import_plain_unary},
  {"HardSwish", import_plain_unary},  {"Tanh", import_plain_unary},
  {"Erf", import_plain_unary},        {"Exp", import_plain_unary},
  {"Log", import_plain_unary},        {"Sqrt", import_plain_unary},
  {"Neg", import_plain_unary},        {"Abs", import_plain_unary},
  {"Reciprocal", import_plain_unary}, {"Floor", import_plain_unary},
  {"Ceil", import_plain_unary},       {"Round", import_plain_unary},
  {"Sign", import_plain_unary},       {"Sin", import_plain_unary},
  {"Cos", import_plain_unary},        {"Tan", import_plain_unary},
  {"Asin", import_plain_unary},       {"Acos", import_plain_unary},
  {"Atan", import_plain_unary},       {"Sinh", import_plain_unary},
  {"Cosh", import_plain_unary},       {"Asinh", import_plain_unary},
  {"Acosh", import_plain_unary},      {"Atanh", import_plain_unary},
  {"Softplus", import_plain_unary},   {"Softsign", import_plain_unary},
  {"Not", import_plain_unary},        {"IsNaN", import_plain_unary},
  {"Mish", import_plain_unary},
  {"LeakyRelu", import_leaky_relu},   {"HardSigmoid", import_hard_sigmoid},
  {"Elu", import_elu},                {"Selu", import_selu},
  {"Celu", import_celu},              {"ThresholdedRelu", import_thresholded_relu},
  {"Shrink", import_shrink},          {"IsInf", import_is_inf},
  {"Gelu", import_gelu},              {"Clip", import_clip},
  {"Add", import_plain_binary},       {"Sub", import_plain_binary},
  {"Mul", import_plain_binary},       {"Div", import_plain_binary},
  {"Pow", import_plain_binary},       {"Equal", import_plain_binary},
  {"Greater", import_plain_binary},   {"GreaterOrEqual", import_plain_binary},
  {"Less", import_plain_binary},      {"LessOrEqual", import_plain_binary},
  {"And", import_plain_binary},       {"Or", import_plain_binary},
  {"Xor", import_plain_binary},       {"PRelu", import_prelu},
  {"Mod", import_mod},                {"BitShift", import_bitshift},
  {"Sum", import_sum},                {"Mean", import_mean},
  {"Min", import_min},                {"Max", import_max},
  {"Where", import_where},            {"Cast", import_cast},
  {"CastLike", import_cast_like},
};

const size_t infer_onnx_num_importers_elementwise =
    sizeof infer_onnx_importers_elementwise / sizeof infer_onnx_importers_elementwise[0];
