/* CumSum on the CPU: floats accumulate in double, integers in wrapping
 * 64-bit arithmetic (exact, like numpy's cumsum in the input type). */
#include "cpu_util.h"

static bool is_int_dtype(InferDType t) { return t == INFER_DTYPE_I32 || t == INFER_DTYPE_I64; }

/* The axis from input 1 (a one-value i32/i64 tensor), normalized. */
static InferStatus *cumsum_axis(const InferOpCall *c, bool check_value, int *out) {
  const InferTensorView *a = infer_call_input(c, 1);
  int32_t rank = c->in[0].shape.rank;
  bool ok = (a->dtype == INFER_DTYPE_I32 || a->dtype == INFER_DTYPE_I64) && a->shape.rank <= 1 &&
            infer_shape_numel(&a->shape) == 1 && rank >= 1;
  int64_t axis = 0;
  if (ok && check_value) {
    axis = a->dtype == INFER_DTYPE_I64 ? *(const int64_t *)a->data : *(const int32_t *)a->data;
    if (axis < 0) axis += rank;
    ok = axis >= 0 && axis < rank;
  }
  if (!ok)
    return infer_status_new(INFER_ERR_UNSUPPORTED,
                            "layer '%s' (%s): axis must be one i32/i64 value within the rank %d",
                            c->node, infer_op_name(c->op), rank);
  *out = (int)axis;
  return NULL;
}

InferStatus *infer_cpu_supports_cumsum(const InferOpCall *call) {
  INFER_CPU_REQUIRE(call, 0, INFER_DTYPE_F32, INFER_DTYPE_F16, INFER_DTYPE_I32, INFER_DTYPE_I64);
  int axis = 0;
  return cumsum_axis(call, false, &axis); /* no data yet: check the axis tensor's form only */
}

static int64_t load_int(const InferTensorView *x, int64_t i) {
  return x->dtype == INFER_DTYPE_I64 ? ((const int64_t *)x->data)[i]
                                     : ((const int32_t *)x->data)[i];
}

static void store_int(InferTensorView *y, int64_t i, uint64_t v) {
  if (y->dtype == INFER_DTYPE_I64)
    ((int64_t *)y->data)[i] = (int64_t)v;
  else
    ((int32_t *)y->data)[i] = (int32_t)(uint32_t)v; /* keep the low 32 bits */
}

/* One line of n elements, `step` apart from `base`. */
static void cumsum_line(const InferTensorView *x, InferTensorView *y, const InferCumSumParams *p,
                        int64_t base, int64_t n, int64_t step) {
  double facc = 0.0;
  uint64_t iacc = 0; /* unsigned: wraps instead of overflowing */
  bool ints = is_int_dtype(x->dtype);
  for (int64_t t = 0; t < n; t++) {
    int64_t e = base + (p->reverse ? n - 1 - t : t) * step;
    /* exclusive: the sum of the elements before this one, not including it */
    if (p->exclusive) {
      if (ints)
        store_int(y, e, iacc);
      else
        infer_cpu_store(y->data, y->dtype, e, facc);
    }
    if (ints)
      iacc += (uint64_t)load_int(x, e);
    else
      facc += infer_cpu_load(x->data, x->dtype, e);
    if (!p->exclusive) {
      if (ints)
        store_int(y, e, iacc);
      else
        infer_cpu_store(y->data, y->dtype, e, facc);
    }
  }
}

InferStatus *infer_cpu_run_cumsum(const InferOpCall *call) {
  const InferTensorView *x = &call->in[0];
  InferTensorView *y = &call->out[0];
  int axis = 0;
  INFER_TRY(cumsum_axis(call, true, &axis));
  int64_t outer = 1, inner = 1, n = x->shape.d[axis];
  for (int i = 0; i < x->shape.rank; i++) {
    if (i < axis) outer *= x->shape.d[i];
    if (i > axis) inner *= x->shape.d[i];
  }
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++)
      cumsum_line(x, y, &call->params->cumsum, o * n * inner + i, n, inner);
  return NULL;
}
