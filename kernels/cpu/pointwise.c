/* CPU reference kernel for INFER_OP_POINTWISE (a chain of elementwise
 * layers fused by the optimizer), and the program check that the shape
 * function and every backend's `supports` share.
 *
 * Every output element runs the program on its inputs' broadcast elements.
 * Each step computes like the unfused layer's reference kernel (double
 * math, one rounding to the step's dtype), so a fused F32 chain gives the
 * bits the unfused chain gives. */
#include <math.h>

#include "cpu_util.h"

static InferStatus *bad_program(const InferOpCall *c, int instr, const char *what) {
  return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "layer '%s' (%s): instruction %d: %s",
                          c->node ? c->node : "?", infer_op_name(c->op), instr, what);
}

static bool float_dtype(InferDType t) { return t == INFER_DTYPE_F32 || t == INFER_DTYPE_F16; }

bool infer_pointwise_unary_ok(InferUnaryKind k) {
  /* bool-valued kinds have no place in a float program */
  return (int)k >= 0 && k < INFER_UNARY_KIND_COUNT && k != INFER_UNARY_NOT &&
         k != INFER_UNARY_IS_NAN && k != INFER_UNARY_IS_INF;
}

bool infer_pointwise_binary_ok(InferBinaryKind k) {
  switch (k) {
    case INFER_BINARY_ADD: case INFER_BINARY_SUB: case INFER_BINARY_MUL: case INFER_BINARY_DIV:
    case INFER_BINARY_POW: case INFER_BINARY_MIN: case INFER_BINARY_MAX: case INFER_BINARY_PRELU:
      return true;
    default:
      return false;
  }
}

static InferStatus *check_ref(const InferOpCall *c, int i, const InferPointwiseRef *r) {
  switch (r->kind) {
    case INFER_POINTWISE_INPUT:
      return r->index < c->n_in ? NULL : bad_program(c, i, "reads a missing input");
    case INFER_POINTWISE_SCALAR: return NULL;
    case INFER_POINTWISE_RESULT:
      return r->index < i ? NULL : bad_program(c, i, "reads a result not computed yet");
    default: return bad_program(c, i, "has an unknown operand kind");
  }
}

InferDType infer_pointwise_step_dtype(const InferOpCall *call, int i) {
  InferDType d = (InferDType)call->params->pointwise.instrs[i].dtype;
  return d == INFER_DTYPE_UNDEFINED ? infer_call_input(call, 0)->dtype : d;
}

InferStatus *infer_pointwise_check(const InferOpCall *c) {
  const InferPointwiseParams *p = &c->params->pointwise;
  if (p->n_instrs < 1 || p->n_instrs > INFER_POINTWISE_MAX_INSTRS)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "layer '%s' (%s): %d instructions (1 to %d allowed)", c->node,
                            infer_op_name(c->op), (int)p->n_instrs, INFER_POINTWISE_MAX_INSTRS);
  if (c->n_in < 1 || c->n_in > INFER_POINTWISE_MAX_INPUTS)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "layer '%s' (%s): %d inputs (1 to %d)",
                            c->node, infer_op_name(c->op), c->n_in, INFER_POINTWISE_MAX_INPUTS);
  for (int k = 0; k < c->n_in; k++)
    if (!float_dtype(infer_call_input(c, k)->dtype))
      return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                              "layer '%s' (%s): input %d is %s, expected f32 or f16", c->node,
                              infer_op_name(c->op), k,
                              infer_dtype_name(infer_call_input(c, k)->dtype));
  for (int i = 0; i < p->n_instrs; i++) {
    const InferPointwiseInstr *in = &p->instrs[i];
    InferDType d = (InferDType)in->dtype;
    if (d != INFER_DTYPE_UNDEFINED && !float_dtype(d))
      return bad_program(c, i, "rounds to a type other than f32 or f16");
    if (in->op == INFER_POINTWISE_UNARY) {
      if (!infer_pointwise_unary_ok((InferUnaryKind)in->kind))
        return bad_program(c, i, "has a unary kind a float program cannot run");
    } else if (in->op == INFER_POINTWISE_BINARY) {
      if (!infer_pointwise_binary_ok((InferBinaryKind)in->kind))
        return bad_program(c, i, "has a binary kind a float program cannot run");
      INFER_TRY(check_ref(c, i, &in->b));
    } else {
      return bad_program(c, i, "has an unknown op");
    }
    INFER_TRY(check_ref(c, i, &in->a));
  }
  return NULL;
}

InferStatus *infer_cpu_supports_pointwise(const InferOpCall *call) {
  INFER_TRY(infer_pointwise_check(call));
  if (call->n_out != 1 || !float_dtype(call->out[0].dtype))
    return infer_status_new(INFER_ERR_UNSUPPORTED, "layer '%s' (%s): the output must be f32 or f16",
                            call->node, infer_op_name(call->op));
  return NULL;
}

/* The binary kinds a program has, computed as binary.c computes floats. */
static double binary(InferBinaryKind k, double a, double b) {
  switch (k) {
    case INFER_BINARY_ADD: return a + b;
    case INFER_BINARY_SUB: return a - b;
    case INFER_BINARY_MUL: return a * b;
    case INFER_BINARY_DIV: return a / b;
    case INFER_BINARY_POW: return pow(a, b);
    /* NaN propagates, as in numpy's minimum/maximum */
    case INFER_BINARY_MIN: return isnan(a) || isnan(b) ? a + b : (a < b ? a : b);
    case INFER_BINARY_MAX: return isnan(a) || isnan(b) ? a + b : (a > b ? a : b);
    case INFER_BINARY_PRELU: return a < 0 ? a * b : a;
    default: return 0.0;
  }
}

static float ref_value(const InferPointwiseRef *r, const float *x, const float *res) {
  switch (r->kind) {
    case INFER_POINTWISE_INPUT: return x[r->index];
    case INFER_POINTWISE_SCALAR: return r->value;
    default: return res[r->index];
  }
}

InferStatus *infer_cpu_run_pointwise(const InferOpCall *call) {
  INFER_TRY(infer_cpu_supports_pointwise(call));
  const InferPointwiseParams *p = &call->params->pointwise;
  InferTensorView *y = &call->out[0];
  int n_in = call->n_in;
  int64_t n = infer_shape_numel(&y->shape);
  /* per input: broadcast strides, or direct indexing when it has the output's shape */
  int64_t strides[INFER_POINTWISE_MAX_INPUTS][INFER_MAX_RANK];
  bool direct[INFER_POINTWISE_MAX_INPUTS];
  for (int k = 0; k < n_in; k++) {
    direct[k] = infer_shape_equal(&call->in[k].shape, &y->shape);
    infer_cpu_broadcast_strides(&call->in[k].shape, &y->shape, strides[k]);
  }
  bool half[INFER_POINTWISE_MAX_INSTRS];
  InferUnaryParams unary[INFER_POINTWISE_MAX_INSTRS];
  for (int i = 0; i < p->n_instrs; i++) {
    half[i] = infer_pointwise_step_dtype(call, i) == INFER_DTYPE_F16;
    unary[i] = (InferUnaryParams){(InferUnaryKind)p->instrs[i].kind, p->instrs[i].alpha,
                                  p->instrs[i].beta};
  }
  for (int64_t e = 0; e < n; e++) {
    float x[INFER_POINTWISE_MAX_INPUTS], res[INFER_POINTWISE_MAX_INSTRS];
    for (int k = 0; k < n_in; k++) {
      int64_t at = direct[k] ? e : infer_cpu_offset(&y->shape, strides[k], e);
      x[k] = (float)infer_cpu_load(call->in[k].data, call->in[k].dtype, at);
    }
    for (int i = 0; i < p->n_instrs; i++) {
      const InferPointwiseInstr *in = &p->instrs[i];
      float a = ref_value(&in->a, x, res), v;
      if (in->op == INFER_POINTWISE_UNARY)
        v = infer_cpu_activation(&unary[i], a); /* NONE: a Cast, only the rounding below */
      else
        v = (float)binary((InferBinaryKind)in->kind, a, ref_value(&in->b, x, res));
      res[i] = half[i] ? infer_half_to_float(infer_float_to_half(v)) : v;
    }
    infer_cpu_store(y->data, y->dtype, e, res[p->n_instrs - 1]);
  }
  return NULL;
}
