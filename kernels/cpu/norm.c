/* Normalizations, f32: BatchNormalization (inference: running statistics),
 * InstanceNormalization, LayerNormalization and LRN. Means and variances
 * are accumulated in double; the fused activation of InferNormParams is
 * applied last. */
#include <math.h>

#include "cpu_util.h"

static InferStatus *norm_supports(const InferOpCall *c, int n_inputs) {
  for (int i = 0; i < n_inputs; i++)
    if (infer_call_has_input(c, i) || i == 0) INFER_CPU_REQUIRE(c, i, INFER_DTYPE_F32);
  if (c->op != INFER_OP_LRN) {
    InferUnaryKind k = c->params->norm.activation.kind;
    if (k < 0 || k >= INFER_UNARY_KIND_COUNT)
      return infer_status_new(INFER_ERR_UNSUPPORTED,
                              "layer '%s' (%s): this fused activation is not supported on the "
                              "CPU backend",
                              c->node, infer_op_name(c->op));
  }
  return NULL;
}

static float activate(const InferNormParams *p, float v) {
  return p->activation.kind == INFER_UNARY_NONE ? v : infer_cpu_activation(&p->activation, v);
}

/* Elements per (batch, channel) plane of an [N, C, ...] tensor. */
static int64_t plane_size(const InferShape *s) {
  int64_t n = 1;
  for (int i = 2; i < s->rank; i++) n *= s->d[i];
  return n;
}

/* ---- batch normalization ------------------------------------------------ */

InferStatus *infer_cpu_supports_batchnorm(const InferOpCall *c) { return norm_supports(c, 5); }

InferStatus *infer_cpu_run_batchnorm(const InferOpCall *c) {
  const InferNormParams *p = &c->params->norm;
  const InferShape *xs = &c->in[0].shape;
  const float *x = c->in[0].data, *scale = c->in[1].data, *bias = c->in[2].data;
  const float *mean = c->in[3].data, *var = c->in[4].data;
  float *y = c->out[0].data;
  int64_t batch = xs->d[0], ch = xs->d[1], plane = plane_size(xs);
  for (int64_t ci = 0; ci < ch; ci++) {
    /* y = (x - mean) / sqrt(var + eps) * scale + bias, folded to x * a + b */
    double a = scale[ci] / sqrt((double)var[ci] + (double)p->epsilon);
    double b = bias[ci] - mean[ci] * a;
    for (int64_t n = 0; n < batch; n++) {
      int64_t off = (n * ch + ci) * plane;
      for (int64_t i = 0; i < plane; i++) y[off + i] = activate(p, (float)(x[off + i] * a + b));
    }
  }
  return NULL;
}

/* ---- instance normalization --------------------------------------------- */

/* Mean and 1 / sqrt(variance + eps) of n values (population variance). */
static void mean_inv_std(const float *x, int64_t n, double eps, double *mean, double *inv_std) {
  double sum = 0.0, sq = 0.0;
  for (int64_t i = 0; i < n; i++) sum += x[i];
  double mu = n > 0 ? sum / (double)n : 0.0;
  for (int64_t i = 0; i < n; i++) sq += (x[i] - mu) * (x[i] - mu);
  *mean = mu;
  *inv_std = 1.0 / sqrt((n > 0 ? sq / (double)n : 0.0) + eps);
}

InferStatus *infer_cpu_supports_instancenorm(const InferOpCall *c) {
  return norm_supports(c, 3);
}

InferStatus *infer_cpu_run_instancenorm(const InferOpCall *c) {
  const InferNormParams *p = &c->params->norm;
  const InferShape *xs = &c->in[0].shape;
  const float *x = c->in[0].data, *scale = c->in[1].data, *bias = c->in[2].data;
  float *y = c->out[0].data;
  int64_t ch = xs->d[1], plane = plane_size(xs), planes = xs->d[0] * ch;
  for (int64_t pi = 0; pi < planes; pi++) {
    const float *xp = x + pi * plane;
    double mu, inv;
    mean_inv_std(xp, plane, p->epsilon, &mu, &inv);
    double a = scale[pi % ch] * inv, b = bias[pi % ch];
    for (int64_t i = 0; i < plane; i++)
      y[pi * plane + i] = activate(p, (float)((xp[i] - mu) * a + b));
  }
  return NULL;
}

/* ---- layer normalization ------------------------------------------------ */

InferStatus *infer_cpu_supports_layernorm(const InferOpCall *c) { return norm_supports(c, 3); }

InferStatus *infer_cpu_run_layernorm(const InferOpCall *c) {
  const InferNormParams *p = &c->params->norm;
  const InferShape *xs = &c->in[0].shape;
  int axis = (int)(p->axis < 0 ? p->axis + xs->rank : p->axis);
  int64_t rows = 1, cols = 1;
  for (int i = 0; i < xs->rank; i++) *(i < axis ? &rows : &cols) *= xs->d[i];
  bool has_bias = infer_call_has_input(c, 2);
  /* scale and bias broadcast to x's whole shape (numpy rules) */
  int64_t ss[INFER_MAX_RANK], bs[INFER_MAX_RANK];
  infer_cpu_broadcast_strides(&c->in[1].shape, xs, ss);
  if (has_bias) infer_cpu_broadcast_strides(&c->in[2].shape, xs, bs);
  const float *x = c->in[0].data, *scale = c->in[1].data;
  const float *bias = has_bias ? c->in[2].data : NULL;
  float *y = c->out[0].data;
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * cols;
    double mu, inv;
    mean_inv_std(xr, cols, p->epsilon, &mu, &inv);
    for (int64_t j = 0; j < cols; j++) {
      int64_t idx = r * cols + j;
      double v = (xr[j] - mu) * inv * scale[infer_cpu_offset(xs, ss, idx)];
      if (bias) v += bias[infer_cpu_offset(xs, bs, idx)];
      y[idx] = activate(p, (float)v);
    }
  }
  return NULL;
}

/* ---- local response normalization --------------------------------------- */

InferStatus *infer_cpu_supports_lrn(const InferOpCall *c) { return norm_supports(c, 1); }

/* y = x / (bias + alpha / size * sum of x^2 over nearby channels)^beta, the
 * channel window being [c - floor((size-1)/2), c + ceil((size-1)/2)]. */
InferStatus *infer_cpu_run_lrn(const InferOpCall *c) {
  const InferLrnParams *p = &c->params->lrn;
  const InferShape *xs = &c->in[0].shape;
  const float *x = c->in[0].data;
  float *y = c->out[0].data;
  int64_t batch = xs->d[0], ch = xs->d[1], plane = plane_size(xs);
  int64_t before = (p->size - 1) / 2, after = p->size - 1 - before;
  for (int64_t n = 0; n < batch; n++) {
    const float *xn = x + n * ch * plane;
    for (int64_t ci = 0; ci < ch; ci++) {
      int64_t c0 = ci - before < 0 ? 0 : ci - before;
      int64_t c1 = ci + after >= ch ? ch - 1 : ci + after;
      for (int64_t i = 0; i < plane; i++) {
        double sq = 0.0;
        for (int64_t k = c0; k <= c1; k++) sq += (double)xn[k * plane + i] * xn[k * plane + i];
        double den = pow(p->bias + p->alpha / (double)p->size * sq, p->beta);
        y[(n * ch + ci) * plane + i] = (float)(xn[ci * plane + i] / den);
      }
    }
  }
  return NULL;
}
