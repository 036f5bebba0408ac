/* Shape and dtype inference for the elementwise operators (unary, binary,
 * where, cast), and the names of unary and binary kinds. */
#include "op_table.h"

const char *infer_unary_kind_name(InferUnaryKind k) {
  static const char *const names[INFER_UNARY_KIND_COUNT] = {
    [INFER_UNARY_NONE] = "none", [INFER_UNARY_RELU] = "relu",
    [INFER_UNARY_LEAKY_RELU] = "leaky_relu", [INFER_UNARY_CLIP] = "clip",
    [INFER_UNARY_SIGMOID] = "sigmoid", [INFER_UNARY_HARD_SIGMOID] = "hard_sigmoid",
    [INFER_UNARY_HARD_SWISH] = "hard_swish", [INFER_UNARY_TANH] = "tanh",
    [INFER_UNARY_GELU] = "gelu", [INFER_UNARY_SILU] = "silu", [INFER_UNARY_MISH] = "mish",
    [INFER_UNARY_ELU] = "elu", [INFER_UNARY_SELU] = "selu", [INFER_UNARY_CELU] = "celu",
    [INFER_UNARY_SOFTPLUS] = "softplus", [INFER_UNARY_SOFTSIGN] = "softsign",
    [INFER_UNARY_THRESHOLDED_RELU] = "thresholded_relu", [INFER_UNARY_SHRINK] = "shrink",
    [INFER_UNARY_EXP] = "exp", [INFER_UNARY_LOG] = "log", [INFER_UNARY_SQRT] = "sqrt",
    [INFER_UNARY_NEG] = "neg", [INFER_UNARY_ABS] = "abs",
    [INFER_UNARY_RECIPROCAL] = "reciprocal", [INFER_UNARY_ERF] = "erf",
    [INFER_UNARY_FLOOR] = "floor", [INFER_UNARY_CEIL] = "ceil", [INFER_UNARY_ROUND] = "round",
    [INFER_UNARY_SIGN] = "sign", [INFER_UNARY_SIN] = "sin", [INFER_UNARY_COS] = "cos",
    [INFER_UNARY_TAN] = "tan", [INFER_UNARY_ASIN] = "asin", [INFER_UNARY_ACOS] = "acos",
    [INFER_UNARY_ATAN] = "atan", [INFER_UNARY_SINH] = "sinh", [INFER_UNARY_COSH] = "cosh",
    [INFER_UNARY_ASINH] = "asinh", [INFER_UNARY_ACOSH] = "acosh",
    [INFER_UNARY_ATANH] = "atanh", [INFER_UNARY_NOT] = "not", [INFER_UNARY_IS_NAN] = "is_nan",
    [INFER_UNARY_IS_INF] = "is_inf",
  };
  if ((int)k < 0 || k >= INFER_UNARY_KIND_COUNT || !names[k]) return "unknown";
  return names[k];
}

const char *infer_binary_kind_name(InferBinaryKind k) {
  static const char *const names[INFER_BINARY_KIND_COUNT] = {
    [INFER_BINARY_ADD] = "add", [INFER_BINARY_SUB] = "sub", [INFER_BINARY_MUL] = "mul",
    [INFER_BINARY_DIV] = "div", [INFER_BINARY_POW] = "pow", [INFER_BINARY_MIN] = "min",
    [INFER_BINARY_MAX] = "max", [INFER_BINARY_MOD] = "mod", [INFER_BINARY_FMOD] = "fmod",
    [INFER_BINARY_PRELU] = "prelu", [INFER_BINARY_EQUAL] = "equal",
    [INFER_BINARY_GREATER] = "greater", [INFER_BINARY_GREATER_EQUAL] = "greater_equal",
    [INFER_BINARY_LESS] = "less", [INFER_BINARY_LESS_EQUAL] = "less_equal",
    [INFER_BINARY_AND] = "and", [INFER_BINARY_OR] = "or", [INFER_BINARY_XOR] = "xor",
    [INFER_BINARY_SHIFT_LEFT] = "shift_left", [INFER_BINARY_SHIFT_RIGHT] = "shift_right",
  };
  if ((int)k < 0 || k >= INFER_BINARY_KIND_COUNT || !names[k]) return "unknown";
  return names[k];
}

static InferStatus *invalid(const InferOpCall *c, const char *what) {
  return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "layer '%s' (%s): %s", c->node,
                          infer_op_name(c->op), what);
}

static InferStatus *bad_dtype(const InferOpCall *c, int input, const char *expected) {
  return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                          "layer '%s' (%s): input %d is %s, expected %s", c->node,
                          infer_op_name(c->op), input,
                          infer_dtype_name(infer_call_input(c, input)->dtype), expected);
}

static InferStatus *require_inputs(const InferOpCall *c, int n) {
  for (int i = 0; i < n; i++)
    if (!infer_call_has_input(c, i))
      return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                              "layer '%s' (%s): input %d is missing or has no type", c->node,
                              infer_op_name(c->op), i);
  return NULL;
}

/* ---- unary ---------------------------------------------------------------- */

InferStatus *infer_shape_unary(const InferOpCall *call) {
  INFER_TRY(require_inputs(call, 1));
  InferUnaryKind k = call->params->unary.kind;
  InferDType t = call->in[0].dtype;
  if ((int)k < 0 || k >= INFER_UNARY_KIND_COUNT) return invalid(call, "unknown unary kind");
  InferDType out = t;
  if (k == INFER_UNARY_NOT) {
    if (t != INFER_DTYPE_BOOL) return bad_dtype(call, 0, "bool");
  } else if (k == INFER_UNARY_IS_NAN || k == INFER_UNARY_IS_INF) {
    if (!infer_dtype_is_float(t)) return bad_dtype(call, 0, "a float type");
    out = INFER_DTYPE_BOOL;
  } else if (k != INFER_UNARY_NONE && t == INFER_DTYPE_BOOL) {
    return bad_dtype(call, 0, "a numeric type");
  }
  call->out[0].dtype = out;
  call->out[0].shape = call->in[0].shape;
  return NULL;
}

/* ---- binary --------------------------------------------------------------- */

static bool binary_is_bool_result(InferBinaryKind k) {
  return k == INFER_BINARY_EQUAL || k == INFER_BINARY_GREATER ||
         k == INFER_BINARY_GREATER_EQUAL || k == INFER_BINARY_LESS ||
         k == INFER_BINARY_LESS_EQUAL || k == INFER_BINARY_AND || k == INFER_BINARY_OR ||
         k == INFER_BINARY_XOR;
}

static InferStatus *binary_dtypes(const InferOpCall *c, InferBinaryKind k, InferDType a,
                                  InferDType b) {
  if (k == INFER_BINARY_AND || k == INFER_BINARY_OR || k == INFER_BINARY_XOR) {
    if (a != INFER_DTYPE_BOOL) return bad_dtype(c, 0, "bool");
    if (b != INFER_DTYPE_BOOL) return bad_dtype(c, 1, "bool");
    return NULL;
  }
  if (k == INFER_BINARY_POW) { /* base and exponent may differ in type */
    if (a == INFER_DTYPE_BOOL) return bad_dtype(c, 0, "a numeric type");
    if (b == INFER_DTYPE_BOOL) return bad_dtype(c, 1, "a numeric type");
    return NULL;
  }
  if (a != b)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "layer '%s' (%s): input types differ (%s and %s)", c->node,
                            infer_op_name(c->op), infer_dtype_name(a), infer_dtype_name(b));
  if (k == INFER_BINARY_SHIFT_LEFT || k == INFER_BINARY_SHIFT_RIGHT) {
    if (infer_dtype_is_float(a) || a == INFER_DTYPE_BOOL)
      return bad_dtype(c, 0, "an integer type");
  } else if (k != INFER_BINARY_EQUAL && a == INFER_DTYPE_BOOL) {
    return bad_dtype(c, 0, "a numeric type");
  }
  return NULL;
}

InferStatus *infer_shape_binary(const InferOpCall *call) {
  INFER_TRY(require_inputs(call, 2));
  InferBinaryKind k = call->params->binary.kind;
  if ((int)k < 0 || k >= INFER_BINARY_KIND_COUNT) return invalid(call, "unknown binary kind");
  INFER_TRY(binary_dtypes(call, k, call->in[0].dtype, call->in[1].dtype));
  InferShape shape;
  INFER_TRY(infer_broadcast_shapes(call, &call->in[0].shape, &call->in[1].shape, &shape));
  call->out[0].dtype = binary_is_bool_result(k) ? INFER_DTYPE_BOOL : call->in[0].dtype;
  call->out[0].shape = shape;
  return NULL;
}

/* ---- where ---------------------------------------------------------------- */

InferStatus *infer_shape_where(const InferOpCall *call) {
  INFER_TRY(require_inputs(call, 3));
  if (call->in[0].dtype != INFER_DTYPE_BOOL) return bad_dtype(call, 0, "bool");
  if (call->in[1].dtype != call->in[2].dtype)
    return bad_dtype(call, 2, infer_dtype_name(call->in[1].dtype));
  InferShape xy, shape;
  INFER_TRY(infer_broadcast_shapes(call, &call->in[1].shape, &call->in[2].shape, &xy));
  INFER_TRY(infer_broadcast_shapes(call, &call->in[0].shape, &xy, &shape));
  call->out[0].dtype = call->in[1].dtype;
  call->out[0].shape = shape;
  return NULL;
}

/* ---- cast ----------------------------------------------------------------- */

InferStatus *infer_shape_cast(const InferOpCall *call) {
  INFER_TRY(require_inputs(call, 1));
  InferDType to = call->params->cast.to;
  if ((int)to <= INFER_DTYPE_UNDEFINED || to >= INFER_DTYPE_COUNT)
    return invalid(call, "the target type of the cast is not a valid type");
  call->out[0].dtype = to;
  call->out[0].shape = call->in[0].shape;
  return NULL;
}
