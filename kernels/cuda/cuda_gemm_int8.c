/* INT8 Gemm on the CUDA backend (see cuda_gemm_int8.h). */
#include <cuda_runtime_api.h>
#include <limits.h>
#include <string.h>

#include "cuda_conv_int8.h"
#include "cuda_gemm_int8.h"

#define INT8_MAX_REDUCTION ((int64_t)(INT32_MAX / (127 * 128)))

static InferStatus *unsupported(const InferOpCall *c, const char *what) {
  return infer_status_new(INFER_ERR_UNSUPPORTED,
                          "layer '%s' (gemm): %s is not supported by the CUDA backend's INT8 "
                          "Gemm",
                          c->node, what);
}

static bool is(const InferOpCall *c, int i, InferDType t) { return infer_call_input(c, i)->dtype == t; }

InferStatus *infer_cuda_gemm_int8_supports(const InferOpCall *c) {
  const InferGemmParams *p = &c->params->gemm;
  if (c->n_in != 4) return unsupported(c, "this input list");
  if (!is(c, 0, INFER_DTYPE_I8) || !is(c, 1, INFER_DTYPE_I8) || !is(c, 3, INFER_DTYPE_F32) ||
      (infer_call_has_input(c, 2) && !is(c, 2, INFER_DTYPE_F32)))
    return unsupported(c, "an input type other than i8 A and B, f32 C and scales");
  InferDType want = p->quant.y_scale > 0.0f ? INFER_DTYPE_I8 : INFER_DTYPE_F32;
  if (c->n_out != 1 || c->out[0].dtype != want) return unsupported(c, "this output type");
  if ((int)p->activation.kind < 0 || p->activation.kind >= INFER_UNARY_KIND_COUNT)
    return unsupported(c, "this fused activation");
  const InferShape *as = &c->in[0].shape, *bs = &c->in[1].shape;
  if (as->rank != 2 || bs->rank != 2 || (infer_call_has_input(c, 2) && c->in[2].shape.rank > 2))
    return unsupported(c, "A or B of rank other than 2, or C of rank above 2");
  for (int i = 0; i < 2; i++)
    if (as->d[i] > INT_MAX || bs->d[i] > INT_MAX)
      return unsupported(c, "a matrix dimension above 2^31 - 1");
  int64_t k = as->d[p->trans_a ? 0 : 1];
  if (k > INT8_MAX_REDUCTION)
    return unsupported(c, "an INT8 reduction over more than 132104 products (int32 overflow)");
  return NULL;
}

typedef struct Dims {
  int64_t m, n, k;
} Dims;

static InferStatus *dims_of(const InferOpCall *c, Dims *d) {
  const InferGemmParams *p = &c->params->gemm;
  const InferShape *as = &c->in[0].shape, *bs = &c->in[1].shape, *ys = &c->out[0].shape;
  d->m = ys->d[0];
  d->n = ys->d[1];
  d->k = p->trans_a ? as->d[0] : as->d[1];
  int64_t ma = p->trans_a ? as->d[1] : as->d[0];
  int64_t kb = p->trans_b ? bs->d[1] : bs->d[0], nb = p->trans_b ? bs->d[0] : bs->d[1];
  if (ma != d->m || kb != d->k || nb != d->n)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "layer '%s' (gemm): shapes do not match",
                            c->node);
  return NULL;
}

bool infer_cuda_gemm_int8_applicable(const InferOpCall *c, InferCudaGemmInt8Path path) {
  if (path == INFER_CUDA_GEMM_INT8_DIRECT) return true;
  if (path != INFER_CUDA_GEMM_INT8_LT) return false;
  const InferGemmParams *p = &c->params->gemm;
  Dims d;
  InferStatus *st = dims_of(c, &d);
  if (st) {
    infer_status_free(st);
    return false;
  }
  return !p->trans_a && p->trans_b && d.k > 0 && d.k % 4 == 0 && d.n % 4 == 0 && d.m > 0;
}

static InferCudaGemmInt8Path pick(const InferOpCall *c) {
  return infer_cuda_gemm_int8_applicable(c, INFER_CUDA_GEMM_INT8_LT) ? INFER_CUDA_GEMM_INT8_LT
                                                                      : INFER_CUDA_GEMM_INT8_DIRECT;
}

size_t infer_cuda_gemm_int8_workspace(const InferOpCall *c) {
  if (pick(c) != INFER_CUDA_GEMM_INT8_LT) return 0;
  return infer_cuda_int8_lt_workspace(c->out[0].shape.d[0], c->out[0].shape.d[1]);
}

InferStatus *infer_cuda_gemm_int8_run_path(const InferOpCall *c, const InferCudaExec *ex,
                                           InferCudaGemmInt8Path path) {
  const InferGemmParams *p = &c->params->gemm;
  Dims d;
  INFER_TRY(dims_of(c, &d));
  if (d.m * d.n == 0) return NULL;
  if (path == INFER_CUDA_GEMM_INT8_AUTO) path = pick(c);
  if (!infer_cuda_gemm_int8_applicable(c, path)) return unsupported(c, "this path for these shapes");
  InferCudaInt8Epilogue e;
  memset(&e, 0, sizeof e);
  e.gemm = 1;
  e.w_scales = c->in[3].data;
  e.x_scale = p->quant.x_scale;
  e.y_scale = p->quant.y_scale;
  e.y_inv = e.y_scale > 0.0f ? 1.0f / e.y_scale : 0.0f;
  e.act = p->activation;
  e.alpha = p->alpha;
  e.beta = p->beta;
  if (infer_call_has_input(c, 2)) {
    /* C broadcast to [m, n], right-aligned; size-1 dims repeat */
    const InferShape *cs = &c->in[2].shape;
    int64_t own = 1;
    for (int i = cs->rank - 1; i >= 0; i--) {
      int slot = 2 - cs->rank + i;
      e.c_stride[slot] = cs->d[i] == 1 ? 0 : own;
      own *= cs->d[i];
    }
    e.c = c->in[2].data;
  }
  void *y = c->out[0].data;
  int y_i8 = c->out[0].dtype == INFER_DTYPE_I8;
  if (path == INFER_CUDA_GEMM_INT8_LT)
    return infer_cuda_int8_lt_run(c, ex, c->in[0].data, c->in[1].data, d.m, d.n, d.k, y, y_i8, &e);
  cudaError_t err = infer_cuda_gemm_int8_direct(c->in[0].data, c->in[1].data, y, y_i8, d.m, d.n,
                                                d.k, p->trans_a, p->trans_b, &e, ex->stream);
  return err == cudaSuccess ? NULL
                            : infer_cuda_error(c, "the INT8 Gemm kernel", cudaGetErrorString(err));
}

InferStatus *infer_cuda_gemm_int8_run(const InferOpCall *c, const InferCudaExec *ex) {
  return infer_cuda_gemm_int8_run_path(c, ex, INFER_CUDA_GEMM_INT8_AUTO);
}
