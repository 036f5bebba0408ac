/* Softmax, LogSoftmax and Hardmax on the CPU. */
#include <math.h>

#include "cpu_util.h"

/* The input seen as [outer, n, inner] with the normalized elements along n. */
typedef struct SoftmaxGeometry {
  int64_t outer, n, inner;
} SoftmaxGeometry;

static SoftmaxGeometry softmax_geometry(const InferShape *s, const InferSoftmaxParams *p) {
  int64_t axis = p->axis < 0 ? p->axis + s->rank : p->axis;
  SoftmaxGeometry g = {1, 1, 1};
  for (int i = 0; i < s->rank; i++) {
    if (i < axis)
      g.outer *= s->d[i];
    else if (i == axis || p->coerce_2d)
      g.n *= s->d[i]; /* opset < 13 flattens every dim from axis on into one row */
    else
      g.inner *= s->d[i];
  }
  return g;
}

InferStatus *infer_cpu_supports_softmax(const InferOpCall *call) {
  INFER_CPU_REQUIRE(call, 0, INFER_DTYPE_F32, INFER_DTYPE_F16);
  const InferSoftmaxParams *p = &call->params->softmax;
  const InferShape *s = &call->in[0].shape;
  if (p->kind != INFER_SOFTMAX && p->kind != INFER_LOG_SOFTMAX && p->kind != INFER_HARDMAX)
    return infer_status_new(INFER_ERR_UNSUPPORTED, "layer '%s' (%s): unknown softmax kind %d",
                            call->node, infer_op_name(call->op), (int)p->kind);
  if (s->rank < 1 || p->axis < -s->rank || p->axis >= s->rank)
    return infer_status_new(INFER_ERR_UNSUPPORTED,
                            "layer '%s' (%s): axis %lld is out of range for rank %d", call->node,
                            infer_op_name(call->op), (long long)p->axis, s->rank);
  return NULL;
}

/* One row of n elements, `step` apart, starting at element `base`. */
static void softmax_row(const InferTensorView *x, InferTensorView *y, InferSoftmaxKind kind,
                        int64_t base, int64_t n, int64_t step) {
  /* Subtracting the maximum keeps exp() from overflowing. */
  double max = -INFINITY;
  int64_t argmax = 0;
  for (int64_t j = 0; j < n; j++) {
    double v = infer_cpu_load(x->data, x->dtype, base + j * step);
    if (v > max || (isnan(v) && !isnan(max))) { /* NaN wins, as numpy's argmax */
      max = v;
      argmax = j;
    }
  }
  if (kind == INFER_HARDMAX) {
    for (int64_t j = 0; j < n; j++)
      infer_cpu_store(y->data, y->dtype, base + j * step, j == argmax ? 1.0 : 0.0);
    return;
  }
  double sum = 0.0;
  for (int64_t j = 0; j < n; j++)
    sum += exp(infer_cpu_load(x->data, x->dtype, base + j * step) - max);
  double log_sum = log(sum);
  for (int64_t j = 0; j < n; j++) {
    double shifted = infer_cpu_load(x->data, x->dtype, base + j * step) - max;
    double v = kind == INFER_LOG_SOFTMAX ? shifted - log_sum : exp(shifted) / sum;
    infer_cpu_store(y->data, y->dtype, base + j * step, v);
  }
}

InferStatus *infer_cpu_run_softmax(const InferOpCall *call) {
  const InferSoftmaxParams *p = &call->params->softmax;
  const InferTensorView *x = &call->in[0];
  InferTensorView *y = &call->out[0];
  SoftmaxGeometry g = softmax_geometry(&x->shape, p);
  for (int64_t o = 0; o < g.outer; o++)
    for (int64_t i = 0; i < g.inner; i++)
      softmax_row(x, y, p->kind, o * g.n * g.inner + i, g.n, g.inner);
  return NULL;
}
