/* CPU reference kernel for INFER_OP_BINARY: arithmetic, comparisons, logic
 * and bit shifts with numpy broadcasting. Floats (f32, f16) are computed in
 * double and rounded once; integers wrap around like numpy's. */
#include <math.h>

#include "cpu_util.h"

static bool is_int(InferDType t) {
  return t == INFER_DTYPE_I8 || t == INFER_DTYPE_U8 || t == INFER_DTYPE_I32 ||
         t == INFER_DTYPE_I64;
}

static bool is_compare(InferBinaryKind k) {
  return k == INFER_BINARY_EQUAL || k == INFER_BINARY_GREATER ||
         k == INFER_BINARY_GREATER_EQUAL || k == INFER_BINARY_LESS ||
         k == INFER_BINARY_LESS_EQUAL;
}

static bool is_logic(InferBinaryKind k) {
  return k == INFER_BINARY_AND || k == INFER_BINARY_OR || k == INFER_BINARY_XOR;
}

static bool is_shift(InferBinaryKind k) {
  return k == INFER_BINARY_SHIFT_LEFT || k == INFER_BINARY_SHIFT_RIGHT;
}

static int64_t load_int(const void *data, InferDType t, int64_t i) {
  switch (t) {
    case INFER_DTYPE_I8: return ((const int8_t *)data)[i];
    case INFER_DTYPE_U8: return ((const uint8_t *)data)[i];
    case INFER_DTYPE_I32: return ((const int32_t *)data)[i];
    case INFER_DTYPE_I64: return ((const int64_t *)data)[i];
    default: return ((const uint8_t *)data)[i] != 0; /* bool */
  }
}

static void store_int(void *data, InferDType t, int64_t i, int64_t v) {
  switch (t) {
    case INFER_DTYPE_I8: ((int8_t *)data)[i] = (int8_t)(uint8_t)(uint64_t)v; break;
    case INFER_DTYPE_U8: ((uint8_t *)data)[i] = (uint8_t)(uint64_t)v; break;
    case INFER_DTYPE_I32: ((int32_t *)data)[i] = (int32_t)(uint32_t)(uint64_t)v; break;
    case INFER_DTYPE_I64: ((int64_t *)data)[i] = v; break;
    default: ((uint8_t *)data)[i] = v != 0; break;
  }
}

/* ---- scalar operations ---------------------------------------------------- */

static double float_mod(double a, double b) {
  double r = fmod(a, b);
  if (r != 0.0 && (r < 0) != (b < 0)) r += b; /* result takes the divisor's sign */
  return r;
}

static double float_op(InferBinaryKind k, double a, double b) {
  switch (k) {
    case INFER_BINARY_ADD: return a + b;
    case INFER_BINARY_SUB: return a - b;
    case INFER_BINARY_MUL: return a * b;
    case INFER_BINARY_DIV: return a / b;
    case INFER_BINARY_POW: return pow(a, b);
    /* numpy minimum/maximum propagate NaN */
    case INFER_BINARY_MIN: return isnan(a) || isnan(b) ? a + b : (a < b ? a : b);
    case INFER_BINARY_MAX: return isnan(a) || isnan(b) ? a + b : (a > b ? a : b);
    case INFER_BINARY_MOD: return float_mod(a, b);
    case INFER_BINARY_FMOD: return fmod(a, b);
    case INFER_BINARY_PRELU: return a < 0 ? a * b : a;
    case INFER_BINARY_EQUAL: return a == b;
    case INFER_BINARY_GREATER: return a > b;
    case INFER_BINARY_GREATER_EQUAL: return a >= b;
    case INFER_BINARY_LESS: return a < b;
    case INFER_BINARY_LESS_EQUAL: return a <= b;
    default: return 0.0;
  }
}

/* Integer power by squaring, wrapping on overflow; negative exponents give
 * the truncated real result (only 1 and -1 have a nonzero one). */
static int64_t int_pow(int64_t a, int64_t b) {
  if (b < 0) {
    if (a == 1) return 1;
    if (a == -1) return (b % 2) ? -1 : 1;
    return 0;
  }
  uint64_t r = 1, base = (uint64_t)a;
  while (b > 0) {
    if (b & 1) r *= base;
    base *= base;
    b >>= 1;
  }
  return (int64_t)r;
}

/* A real number as an integer the way numpy's astype does for in-range
 * values (truncation); NaN and out-of-range values saturate deterministically. */
static int64_t real_to_int(double v) {
  if (isnan(v)) return 0;
  if (v <= -9223372036854775808.0) return INT64_MIN;
  if (v >= 9223372036854775807.0) return INT64_MAX;
  return (int64_t)v;
}

static int64_t int_div(int64_t a, int64_t b) {
  if (b == 0) return 0; /* undefined; deterministic instead of a trap */
  if (b == -1) return (int64_t)(0 - (uint64_t)a);
  return a / b; /* C truncates toward zero, as ONNX Div on integers does */
}

static int64_t int_mod(int64_t a, int64_t b, bool divisor_sign) {
  if (b == 0 || b == -1) return 0;
  int64_t r = a % b;
  if (divisor_sign && r != 0 && (r < 0) != (b < 0)) r += b;
  return r;
}

static int64_t shift_op(InferBinaryKind k, int64_t a, int64_t b, InferDType t) {
  int bits = (int)infer_dtype_size(t) * 8;
  if (b < 0 || b >= bits) return 0;
  uint64_t ua = (uint64_t)a;
  return (int64_t)(k == INFER_BINARY_SHIFT_LEFT ? ua << b : ua >> b);
}

static int64_t int_op(InferBinaryKind k, int64_t a, int64_t b) {
  switch (k) {
    case INFER_BINARY_ADD: return (int64_t)((uint64_t)a + (uint64_t)b);
    case INFER_BINARY_SUB: return (int64_t)((uint64_t)a - (uint64_t)b);
    case INFER_BINARY_MUL: return (int64_t)((uint64_t)a * (uint64_t)b);
    case INFER_BINARY_DIV: return int_div(a, b);
    case INFER_BINARY_POW: return int_pow(a, b);
    case INFER_BINARY_MIN: return a < b ? a : b;
    case INFER_BINARY_MAX: return a > b ? a : b;
    case INFER_BINARY_MOD: return int_mod(a, b, true);
    case INFER_BINARY_FMOD: return int_mod(a, b, false);
    case INFER_BINARY_PRELU: return a < 0 ? (int64_t)((uint64_t)a * (uint64_t)b) : a;
    case INFER_BINARY_EQUAL: return a == b;
    case INFER_BINARY_GREATER: return a > b;
    case INFER_BINARY_GREATER_EQUAL: return a >= b;
    case INFER_BINARY_LESS: return a < b;
    case INFER_BINARY_LESS_EQUAL: return a <= b;
    case INFER_BINARY_AND: return (a != 0) && (b != 0);
    case INFER_BINARY_OR: return (a != 0) || (b != 0);
    case INFER_BINARY_XOR: return (a != 0) != (b != 0);
    default: return 0;
  }
}

/* ---- support -------------------------------------------------------------- */

static InferStatus *unsupported_kind(const InferOpCall *call, InferDType a, InferDType b) {
  return infer_status_new(INFER_ERR_UNSUPPORTED,
                          "layer '%s' (%s): %s on %s and %s is not supported on the CPU backend",
                          call->node, infer_op_name(call->op),
                          infer_binary_kind_name(call->params->binary.kind), infer_dtype_name(a),
                          infer_dtype_name(b));
}

static bool numeric(InferDType t) { return infer_dtype_is_float(t) || is_int(t); }

InferStatus *infer_cpu_supports_binary(const InferOpCall *call) {
  InferBinaryKind k = call->params->binary.kind;
  InferDType a = infer_call_input(call, 0)->dtype, b = infer_call_input(call, 1)->dtype;
  bool ok;
  if ((int)k < 0 || k >= INFER_BINARY_KIND_COUNT)
    ok = false;
  else if (is_logic(k))
    ok = a == INFER_DTYPE_BOOL && b == INFER_DTYPE_BOOL;
  else if (is_shift(k))
    ok = a == INFER_DTYPE_U8 && b == INFER_DTYPE_U8; /* the only unsigned type */
  else if (k == INFER_BINARY_POW)
    ok = numeric(a) && numeric(b);
  else if (is_compare(k))
    ok = a == b && (numeric(a) || a == INFER_DTYPE_BOOL);
  else
    ok = a == b && numeric(a);
  return ok ? NULL : unsupported_kind(call, a, b);
}

/* ---- run ------------------------------------------------------------------ */

typedef struct Operand {
  const InferTensorView *v;
  int64_t strides[INFER_MAX_RANK];
  bool same_shape; /* element i of the output is element i of this input */
} Operand;

static void operand_init(Operand *o, const InferTensorView *v, const InferShape *out) {
  o->v = v;
  o->same_shape = infer_shape_equal(&v->shape, out);
  infer_cpu_broadcast_strides(&v->shape, out, o->strides);
}

static int64_t operand_index(const Operand *o, const InferShape *out, int64_t i) {
  return o->same_shape ? i : infer_cpu_offset(out, o->strides, i);
}

/* One output element for the mixed int/float case of Pow and all-float ops. */
static double real_value(const Operand *o, int64_t idx) {
  return is_int(o->v->dtype) ? (double)load_int(o->v->data, o->v->dtype, idx)
                             : infer_cpu_load(o->v->data, o->v->dtype, idx);
}

static void run_element(InferBinaryKind k, const Operand *a, const Operand *b, InferTensorView *y,
                        int64_t i) {
  int64_t ia = operand_index(a, &y->shape, i), ib = operand_index(b, &y->shape, i);
  InferDType ta = a->v->dtype, tb = b->v->dtype;
  if (infer_dtype_is_float(ta) || (k == INFER_BINARY_POW && infer_dtype_is_float(tb))) {
    double r = float_op(k, real_value(a, ia), real_value(b, ib));
    if (is_int(y->dtype))
      store_int(y->data, y->dtype, i, real_to_int(r)); /* int ** float, truncated */
    else
      infer_cpu_store(y->data, y->dtype, i, r);
    return;
  }
  int64_t va = load_int(a->v->data, ta, ia), vb = load_int(b->v->data, tb, ib);
  int64_t r = is_shift(k) ? shift_op(k, va, vb, ta) : int_op(k, va, vb);
  store_int(y->data, y->dtype, i, r);
}

InferStatus *infer_cpu_run_binary(const InferOpCall *call) {
  INFER_TRY(infer_cpu_supports_binary(call));
  InferBinaryKind k = call->params->binary.kind;
  InferTensorView *y = &call->out[0];
  Operand a, b;
  operand_init(&a, &call->in[0], &y->shape);
  operand_init(&b, &call->in[1], &y->shape);
  int64_t n = infer_shape_numel(&y->shape);
  for (int64_t i = 0; i < n; i++) run_element(k, &a, &b, y, i);
  return NULL;
}
