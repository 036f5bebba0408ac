/* ReduceSum/Mean/Max/Min/Prod/L1/L2/LogSum/LogSumExp/SumSquare on the CPU.
 * Floats accumulate in double; integers in 64-bit two's complement (wrapping
 * like numpy), so integer results are exact. */
#include <math.h>

#include "cpu_util.h"

/* The input split into kept dims (one output element per combination) and
 * reduced dims (the elements folded into it), with their input strides. */
typedef struct ReducePlan {
  bool noop;
  int n_kept, n_red;
  int64_t kept_dims[INFER_MAX_RANK], kept_strides[INFER_MAX_RANK];
  int64_t red_dims[INFER_MAX_RANK], red_strides[INFER_MAX_RANK];
  int64_t out_count, red_count;
} ReducePlan;

static InferStatus *reduce_error(const InferOpCall *c, const char *reason) {
  return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "layer '%s' (%s): %s", c->node,
                          infer_op_name(c->op), reason);
}

/* Marks the axes named by input 1; none named means all (or a no-op). */
static InferStatus *reduce_axes(const InferOpCall *c, bool *reduced, bool *noop) {
  int32_t rank = c->in[0].shape.rank;
  const InferTensorView *axes = infer_call_input(c, 1);
  int64_t n = axes->dtype == INFER_DTYPE_UNDEFINED ? 0 : infer_shape_numel(&axes->shape);
  *noop = n == 0 && c->params->reduce.noop_with_empty_axes;
  for (int i = 0; i < rank; i++) reduced[i] = n == 0;
  if (n > 0 && axes->dtype != INFER_DTYPE_I64 && axes->dtype != INFER_DTYPE_I32)
    return reduce_error(c, "axes must be i32 or i64");
  for (int64_t i = 0; i < n; i++) {
    int64_t a = axes->dtype == INFER_DTYPE_I64 ? ((const int64_t *)axes->data)[i]
                                               : ((const int32_t *)axes->data)[i];
    if (a < 0) a += rank;
    if (a < 0 || a >= rank || reduced[a])
      return reduce_error(c, "axes are out of range or repeated");
    reduced[a] = true;
  }
  return NULL;
}

static InferStatus *reduce_plan(const InferOpCall *c, ReducePlan *pl) {
  const InferShape *s = &c->in[0].shape;
  bool reduced[INFER_MAX_RANK];
  memset(pl, 0, sizeof *pl);
  INFER_TRY(reduce_axes(c, reduced, &pl->noop));
  int64_t strides[INFER_MAX_RANK];
  infer_cpu_strides(s, strides);
  pl->out_count = pl->red_count = 1;
  for (int i = 0; i < s->rank; i++) {
    if (reduced[i]) {
      pl->red_dims[pl->n_red] = s->d[i];
      pl->red_strides[pl->n_red++] = strides[i];
      pl->red_count *= s->d[i];
    } else {
      pl->kept_dims[pl->n_kept] = s->d[i];
      pl->kept_strides[pl->n_kept++] = strides[i];
      pl->out_count *= s->d[i];
    }
  }
  return NULL;
}

/* Input offset of linear index idx over (dims, strides), row-major. */
static int64_t plan_offset(int n, const int64_t *dims, const int64_t *strides, int64_t idx) {
  int64_t off = 0;
  for (int i = n - 1; i >= 0; i--) {
    off += (idx % dims[i]) * strides[i];
    idx /= dims[i];
  }
  return off;
}

static bool is_int_dtype(InferDType t) { return t == INFER_DTYPE_I32 || t == INFER_DTYPE_I64; }

InferStatus *infer_cpu_supports_reduce(const InferOpCall *call) {
  INFER_CPU_REQUIRE(call, 0, INFER_DTYPE_F32, INFER_DTYPE_F16, INFER_DTYPE_I32, INFER_DTYPE_I64);
  InferReduceKind k = call->params->reduce.kind;
  if ((int)k < INFER_REDUCE_SUM || k > INFER_REDUCE_SUM_SQUARE)
    return infer_status_new(INFER_ERR_UNSUPPORTED, "layer '%s' (%s): unknown reduce kind %d",
                            call->node, infer_op_name(call->op), (int)k);
  /* Integer means and logs/roots have no single obvious integer rounding. */
  bool float_only = k == INFER_REDUCE_MEAN || k == INFER_REDUCE_L2 ||
                    k == INFER_REDUCE_LOG_SUM || k == INFER_REDUCE_LOG_SUM_EXP;
  if (float_only && is_int_dtype(call->in[0].dtype))
    return infer_status_new(INFER_ERR_UNSUPPORTED,
                            "layer '%s' (%s): this reduction of %s input is not supported on the "
                            "CPU backend",
                            call->node, infer_op_name(call->op),
                            infer_dtype_name(call->in[0].dtype));
  return NULL;
}

/* ---- floats ------------------------------------------------------------- */

static double reduce_max_float(const ReducePlan *pl, const InferTensorView *x, int64_t base) {
  double acc = -INFINITY;
  for (int64_t r = 0; r < pl->red_count; r++) {
    double v = infer_cpu_load(x->data, x->dtype,
                              base + plan_offset(pl->n_red, pl->red_dims, pl->red_strides, r));
    if (isnan(v) || v > acc) acc = v; /* NaN sticks once seen: v > NaN is false */
  }
  return acc;
}

static double reduce_float(const ReducePlan *pl, const InferTensorView *x, InferReduceKind k,
                           int64_t base) {
  if (k == INFER_REDUCE_MAX) return reduce_max_float(pl, x, base);
  double shift = 0.0; /* log-sum-exp: factor out the max so exp() cannot overflow */
  if (k == INFER_REDUCE_LOG_SUM_EXP) {
    shift = reduce_max_float(pl, x, base);
    if (!isfinite(shift)) return shift; /* empty or all -inf: -inf; +inf; NaN */
  }
  double acc = k == INFER_REDUCE_PROD ? 1.0 : k == INFER_REDUCE_MIN ? INFINITY : 0.0;
  for (int64_t r = 0; r < pl->red_count; r++) {
    double v = infer_cpu_load(x->data, x->dtype,
                              base + plan_offset(pl->n_red, pl->red_dims, pl->red_strides, r));
    switch (k) {
      case INFER_REDUCE_MIN:
        if (isnan(v) || v < acc) acc = v;
        break;
      case INFER_REDUCE_PROD: acc *= v; break;
      case INFER_REDUCE_L1: acc += fabs(v); break;
      case INFER_REDUCE_L2:
      case INFER_REDUCE_SUM_SQUARE: acc += v * v; break;
      case INFER_REDUCE_LOG_SUM_EXP: acc += exp(v - shift); break;
      default: acc += v; break; /* sum, mean, log-sum */
    }
  }
  switch (k) {
    case INFER_REDUCE_MEAN: return acc / (double)pl->red_count; /* empty: NaN, as numpy */
    case INFER_REDUCE_L2: return sqrt(acc);
    case INFER_REDUCE_LOG_SUM: return log(acc);
    case INFER_REDUCE_LOG_SUM_EXP: return shift + log(acc);
    default: return acc;
  }
}

/* ---- integers ----------------------------------------------------------- */

static int64_t load_int(const InferTensorView *x, int64_t i) {
  return x->dtype == INFER_DTYPE_I64 ? ((const int64_t *)x->data)[i]
                                     : ((const int32_t *)x->data)[i];
}

static int64_t reduce_int(const ReducePlan *pl, const InferTensorView *x, InferReduceKind k,
                          int64_t base) {
  bool wide = x->dtype == INFER_DTYPE_I64;
  /* Unsigned arithmetic wraps instead of overflowing (undefined for signed). */
  uint64_t acc = k == INFER_REDUCE_PROD ? 1u : 0u;
  int64_t best = k == INFER_REDUCE_MAX ? (wide ? INT64_MIN : INT32_MIN)
                                       : (wide ? INT64_MAX : INT32_MAX);
  for (int64_t r = 0; r < pl->red_count; r++) {
    int64_t v = load_int(x, base + plan_offset(pl->n_red, pl->red_dims, pl->red_strides, r));
    uint64_t u = (uint64_t)v;
    switch (k) {
      case INFER_REDUCE_MAX:
        if (v > best) best = v;
        break;
      case INFER_REDUCE_MIN:
        if (v < best) best = v;
        break;
      case INFER_REDUCE_PROD: acc *= u; break;
      case INFER_REDUCE_L1: acc += v < 0 ? (uint64_t)0 - u : u; break;
      case INFER_REDUCE_SUM_SQUARE: acc += u * u; break;
      default: acc += u; break;
    }
  }
  if (k == INFER_REDUCE_MAX || k == INFER_REDUCE_MIN) return best;
  return (int64_t)acc; /* two's complement on every supported target */
}

static void store_int(InferTensorView *y, int64_t i, int64_t v) {
  if (y->dtype == INFER_DTYPE_I64)
    ((int64_t *)y->data)[i] = v;
  else
    ((int32_t *)y->data)[i] = (int32_t)(uint32_t)(uint64_t)v; /* keep the low 32 bits */
}

InferStatus *infer_cpu_run_reduce(const InferOpCall *call) {
  const InferTensorView *x = &call->in[0];
  InferTensorView *y = &call->out[0];
  InferReduceKind k = call->params->reduce.kind;
  ReducePlan pl;
  INFER_TRY(reduce_plan(call, &pl));
  if (pl.noop) {
    int64_t n = infer_shape_numel(&x->shape);
    if (n > 0) memcpy(y->data, x->data, (size_t)n * infer_dtype_size(x->dtype));
    return NULL;
  }
  for (int64_t o = 0; o < pl.out_count; o++) {
    int64_t base = plan_offset(pl.n_kept, pl.kept_dims, pl.kept_strides, o);
    if (is_int_dtype(x->dtype))
      store_int(y, o, reduce_int(&pl, x, k, base));
    else
      infer_cpu_store(y->data, y->dtype, o, reduce_float(&pl, x, k, base));
  }
  return NULL;
}
