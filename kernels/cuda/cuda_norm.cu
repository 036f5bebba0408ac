/* Normalizations, f32, matching kernels/cpu/norm.c: BatchNormalization
 * (inference, running statistics), InstanceNormalization,
 * LayerNormalization (any first axis; scale and bias broadcast numpy-style)
 * and LRN. Statistics and per-channel factors are computed in double; the
 * fused activation of InferNormParams is applied last (not for LRN, as in
 * the reference). Instance and layer norm use one block per plane / row
 * with a two-pass (mean, then centered variance) reduction. */
#include <math.h>

#include "cpu_util.h"
#include "cuda_epilogue.h"
#include "cuda_ops.h"

#define NORM_THREADS 256

static InferStatus *norm_unsupported(const InferOpCall *c, const char *what) {
  return infer_status_new(INFER_ERR_UNSUPPORTED,
                          "layer '%s' (%s): %s is not supported on the CUDA backend", c->node,
                          infer_op_name(c->op), what);
}

/* f32 for input 0 and every present input up to n_inputs; activation in range. */
static InferStatus *norm_supports(const InferOpCall *c, int n_inputs, int min_rank) {
  for (int i = 0; i < n_inputs; i++) {
    if (i > 0 && !infer_call_has_input(c, i)) continue;
    InferDType t = infer_call_input(c, i)->dtype;
    if (t != INFER_DTYPE_F32)
      return infer_status_new(INFER_ERR_UNSUPPORTED,
                              "layer '%s' (%s): input %d of type %s is not supported on the CUDA "
                              "backend (f32 only)",
                              c->node, infer_op_name(c->op), i, infer_dtype_name(t));
  }
  if (c->op != INFER_OP_LRN) {
    InferUnaryKind k = c->params->norm.activation.kind;
    if ((int)k < 0 || k >= INFER_UNARY_KIND_COUNT)
      return norm_unsupported(c, "this fused activation");
  }
  if (c->in[0].shape.rank < min_rank) return norm_unsupported(c, "an input of this rank");
  return NULL;
}

static int64_t plane_size(const InferShape *s) {
  int64_t n = 1;
  for (int i = 2; i < s->rank; i++) n *= s->d[i];
  return n;
}

static unsigned row_blocks(int64_t rows) {
  return rows > 65535 * 32 ? 65535u * 32u : (unsigned)(rows > 0 ? rows : 1);
}

/* ---- batch normalization --------------------------------------------------- */

__global__ void batchnorm_kernel(const float *__restrict__ x, float *__restrict__ y, int64_t n,
                                 int64_t plane, int64_t ch, const float *scale, const float *bias,
                                 const float *mean, const float *var, double eps,
                                 InferActivation act) {
  INFER_CUDA_GRID_STRIDE(i, n) {
    int64_t c = (i / plane) % ch;
    double a = (double)scale[c] / sqrt((double)var[c] + eps);
    double b = (double)bias[c] - (double)mean[c] * a;
    y[i] = infer_cuda_act(act, (float)((double)x[i] * a + b));
  }
}

extern "C" InferStatus *infer_cuda_supports_batchnorm(const InferOpCall *c) {
  return norm_supports(c, 5, 2);
}

extern "C" size_t infer_cuda_workspace_batchnorm(const InferOpCall *c) {
  (void)c;
  return 0;
}

extern "C" InferStatus *infer_cuda_run_batchnorm(const InferOpCall *c, const InferCudaExec *ex) {
  const InferNormParams *p = &c->params->norm;
  const InferShape *xs = &c->in[0].shape;
  int64_t n = infer_shape_numel(xs), plane = plane_size(xs);
  if (n <= 0) return NULL;
  batchnorm_kernel<<<infer_cuda_blocks(n), INFER_CUDA_THREADS, 0, (cudaStream_t)ex->stream>>>(
      (const float *)c->in[0].data, (float *)c->out[0].data, n, plane, xs->d[1],
      (const float *)c->in[1].data, (const float *)c->in[2].data, (const float *)c->in[3].data,
      (const float *)c->in[4].data, (double)p->epsilon, p->activation);
  return infer_cuda_launch_status(c, "batchnorm kernel");
}

/* ---- mean and inverse standard deviation of one row ------------------------- */

/* Population statistics of n values, two passes in double (as the CPU). */
static __device__ void row_stats(const float *xr, int64_t n, double eps, double *mean,
                                 double *inv_std) {
  __shared__ double shared[32];
  double s = 0.0;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) s += xr[j];
  s = infer_cuda_block_reduce(s, InferCudaSum(), 0.0, shared);
  double mu = n > 0 ? s / (double)n : 0.0;
  double q = 0.0;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
    double d = xr[j] - mu;
    q += d * d;
  }
  q = infer_cuda_block_reduce(q, InferCudaSum(), 0.0, shared);
  *mean = mu;
  *inv_std = 1.0 / sqrt((n > 0 ? q / (double)n : 0.0) + eps);
}

/* ---- instance normalization -------------------------------------------------- */

__global__ void instancenorm_kernel(const float *__restrict__ x, float *__restrict__ y,
                                    int64_t planes, int64_t plane, int64_t ch, const float *scale,
                                    const float *bias, double eps, InferActivation act) {
  for (int64_t pi = blockIdx.x; pi < planes; pi += gridDim.x) {
    const float *xp = x + pi * plane;
    double mu, inv;
    row_stats(xp, plane, eps, &mu, &inv);
    double a = (double)scale[pi % ch] * inv, b = bias[pi % ch];
    for (int64_t j = threadIdx.x; j < plane; j += blockDim.x)
      y[pi * plane + j] = infer_cuda_act(act, (float)((xp[j] - mu) * a + b));
  }
}

extern "C" InferStatus *infer_cuda_supports_instancenorm(const InferOpCall *c) {
  return norm_supports(c, 3, 2);
}

extern "C" size_t infer_cuda_workspace_instancenorm(const InferOpCall *c) {
  (void)c;
  return 0;
}

extern "C" InferStatus *infer_cuda_run_instancenorm(const InferOpCall *c,
                                                    const InferCudaExec *ex) {
  const InferNormParams *p = &c->params->norm;
  const InferShape *xs = &c->in[0].shape;
  int64_t ch = xs->d[1], plane = plane_size(xs), planes = xs->d[0] * ch;
  if (planes <= 0 || plane <= 0) return NULL;
  instancenorm_kernel<<<row_blocks(planes), NORM_THREADS, 0, (cudaStream_t)ex->stream>>>(
      (const float *)c->in[0].data, (float *)c->out[0].data, planes, plane, ch,
      (const float *)c->in[1].data, (const float *)c->in[2].data, (double)p->epsilon,
      p->activation);
  return infer_cuda_launch_status(c, "instancenorm kernel");
}

/* ---- layer normalization ----------------------------------------------------- */

struct LayerNormArgs {
  int64_t rows, cols;
  double eps;
  InferActivation act;
  bool general;                 /* scale/bias need the full broadcast offset */
  int rank;
  int64_t dims[INFER_MAX_RANK], ss[INFER_MAX_RANK], bs[INFER_MAX_RANK];
};

static __device__ __forceinline__ int64_t bcast_offset(const LayerNormArgs &a,
                                                       const int64_t *st, int64_t idx) {
  int64_t off = 0;
  for (int i = a.rank - 1; i >= 0; i--) {
    int64_t d = a.dims[i];
    if (d > 0) {
      off += (idx % d) * st[i];
      idx /= d;
    }
  }
  return off;
}

__global__ void layernorm_kernel(const float *__restrict__ x, float *__restrict__ y,
                                 const float *scale, const float *bias, LayerNormArgs a) {
  for (int64_t r = blockIdx.x; r < a.rows; r += gridDim.x) {
    const float *xr = x + r * a.cols;
    double mu, inv;
    row_stats(xr, a.cols, a.eps, &mu, &inv);
    for (int64_t j = threadIdx.x; j < a.cols; j += blockDim.x) {
      int64_t idx = r * a.cols + j;
      int64_t so = a.general ? bcast_offset(a, a.ss, idx) : j;
      double v = (xr[j] - mu) * inv * (double)scale[so];
      if (bias) v += bias[a.general ? bcast_offset(a, a.bs, idx) : j];
      y[idx] = infer_cuda_act(a.act, (float)v);
    }
  }
}

extern "C" InferStatus *infer_cuda_supports_layernorm(const InferOpCall *c) {
  INFER_TRY(norm_supports(c, 3, 1));
  int rank = c->in[0].shape.rank;
  int64_t axis = c->params->norm.axis;
  if (axis < -rank || axis >= rank) return norm_unsupported(c, "this axis");
  return NULL;
}

extern "C" size_t infer_cuda_workspace_layernorm(const InferOpCall *c) {
  (void)c;
  return 0;
}

/* Whether broadcast strides st address scale/bias by the column alone. */
static bool trailing_only(const InferShape *xs, int axis, const int64_t *st) {
  int64_t own = 1;
  for (int i = xs->rank - 1; i >= 0; i--) {
    if (xs->d[i] != 1 && st[i] != (i < axis ? 0 : own)) return false;
    if (i >= axis) own *= xs->d[i];
  }
  return true;
}

extern "C" InferStatus *infer_cuda_run_layernorm(const InferOpCall *c, const InferCudaExec *ex) {
  const InferNormParams *p = &c->params->norm;
  const InferShape *xs = &c->in[0].shape;
  int axis = (int)(p->axis < 0 ? p->axis + xs->rank : p->axis);
  LayerNormArgs a;
  memset(&a, 0, sizeof a);
  a.rows = a.cols = 1;
  for (int i = 0; i < xs->rank; i++) *(i < axis ? &a.rows : &a.cols) *= xs->d[i];
  if (a.rows <= 0 || a.cols <= 0) return NULL;
  a.eps = p->epsilon;
  a.act = p->activation;
  a.rank = xs->rank;
  for (int i = 0; i < xs->rank; i++) a.dims[i] = xs->d[i];
  bool has_bias = infer_call_has_input(c, 2);
  infer_cpu_broadcast_strides(&c->in[1].shape, xs, a.ss);
  if (has_bias) infer_cpu_broadcast_strides(&c->in[2].shape, xs, a.bs);
  a.general = !trailing_only(xs, axis, a.ss) || (has_bias && !trailing_only(xs, axis, a.bs));
  layernorm_kernel<<<row_blocks(a.rows), NORM_THREADS, 0, (cudaStream_t)ex->stream>>>(
      (const float *)c->in[0].data, (float *)c->out[0].data, (const float *)c->in[1].data,
      has_bias ? (const float *)c->in[2].data : NULL, a);
  return infer_cuda_launch_status(c, "layernorm kernel");
}

/* ---- local response normalization ------------------------------------------------ */

__global__ void lrn_kernel(const float *__restrict__ x, float *__restrict__ y, int64_t n,
                           int64_t plane, int64_t ch, int64_t size, double alpha, double beta,
                           double bias) {
  int64_t before = (size - 1) / 2, after = size - 1 - before;
  INFER_CUDA_GRID_STRIDE(i, n) {
    int64_t pos = i % plane, t = i / plane;
    int64_t ci = t % ch, b = t / ch;
    const float *xn = x + b * ch * plane + pos;
    int64_t c0 = ci - before < 0 ? 0 : ci - before;
    int64_t c1 = ci + after >= ch ? ch - 1 : ci + after;
    double sq = 0.0;
    for (int64_t k = c0; k <= c1; k++) sq += (double)xn[k * plane] * xn[k * plane];
    double den = pow(bias + alpha / (double)size * sq, beta);
    y[i] = (float)(xn[ci * plane] / den);
  }
}

extern "C" InferStatus *infer_cuda_supports_lrn(const InferOpCall *c) {
  return norm_supports(c, 1, 2);
}

extern "C" size_t infer_cuda_workspace_lrn(const InferOpCall *c) {
  (void)c;
  return 0;
}

extern "C" InferStatus *infer_cuda_run_lrn(const InferOpCall *c, const InferCudaExec *ex) {
  const InferLrnParams *p = &c->params->lrn;
  const InferShape *xs = &c->in[0].shape;
  int64_t n = infer_shape_numel(xs), plane = plane_size(xs);
  if (n <= 0) return NULL;
  lrn_kernel<<<infer_cuda_blocks(n), INFER_CUDA_THREADS, 0, (cudaStream_t)ex->stream>>>(
      (const float *)c->in[0].data, (float *)c->out[0].data, n, plane, xs->d[1], p->size,
      (double)p->alpha, (double)p->beta, (double)p->bias);
  return infer_cuda_launch_status(c, "lrn kernel");
}
