/* Gemm (transposes, alpha/beta, broadcast C) and numpy MatMul (1-D
 * promotion, batch broadcasting), f32, with a fused activation. Row-major
 * products use i-k-j order so the inner loop streams over contiguous rows of
 * B and Y; Gemm with transB (a Linear layer's weights) uses dot products
 * over contiguous rows of both operands instead. */
#include <stdlib.h>

#include "cpu_util.h"

static InferStatus *mm_supports(const InferOpCall *c, int n_inputs, const InferActivation *act) {
  for (int i = 0; i < n_inputs; i++)
    if (i < 2 || infer_call_has_input(c, i)) INFER_CPU_REQUIRE(c, i, INFER_DTYPE_F32);
  if (act->kind < 0 || act->kind >= INFER_UNARY_KIND_COUNT)
    return infer_status_new(INFER_ERR_UNSUPPORTED,
                            "layer '%s' (%s): this fused activation is not supported on the CPU "
                            "backend",
                            c->node, infer_op_name(c->op));
  return NULL;
}

static void apply_activation(const InferActivation *act, float *y, int64_t n) {
  if (act->kind == INFER_UNARY_NONE) return;
  for (int64_t i = 0; i < n; i++) y[i] = infer_cpu_activation(act, y[i]);
}

/* y[m,n] += alpha * A * B with A(i,k) = a[i * a_row + k * a_col] and B a
 * contiguous [k,n] matrix. */
static void mm_ikj(const float *a, int64_t a_row, int64_t a_col, const float *b, float *y,
                   int64_t m, int64_t n, int64_t k, float alpha) {
  for (int64_t i = 0; i < m; i++) {
    float *yr = y + i * n;
    for (int64_t kk = 0; kk < k; kk++) {
      float av = alpha * a[i * a_row + kk * a_col];
      const float *br = b + kk * n;
      for (int64_t j = 0; j < n; j++) yr[j] += av * br[j];
    }
  }
}

/* Four partial sums: breaks the serial dependency (float addition is not
 * associative, so the compiler may not do this on its own). */
static float dot(const float *a, const float *b, int64_t n) {
  float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; i++) s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

/* y[m,n] += alpha * op(A) * B^T with B stored [n,k]. A row of op(A) is
 * gathered into `row` when A is transposed. */
static void mm_transb(const float *a, bool trans_a, const float *b, float *y, int64_t m,
                      int64_t n, int64_t k, float alpha, float *row) {
  for (int64_t i = 0; i < m; i++) {
    const float *ar = a + i * k;
    if (trans_a) {
      for (int64_t kk = 0; kk < k; kk++) row[kk] = a[kk * m + i];
      ar = row;
    }
    for (int64_t j = 0; j < n; j++) y[i * n + j] += alpha * dot(ar, b + j * k, k);
  }
}

InferStatus *infer_cpu_supports_gemm(const InferOpCall *c) {
  if (c->params->gemm.quant.int8) return infer_cpu_supports_gemm_int8(c); /* quantize.c */
  return mm_supports(c, 3, &c->params->gemm.activation);
}

/* y starts as beta * C (or 0) and the product is added: C is read before
 * y is written at each index, so an engine may alias y with C. */
InferStatus *infer_cpu_run_gemm(const InferOpCall *c) {
  if (c->params->gemm.quant.int8) return infer_cpu_run_gemm_int8(c);
  const InferGemmParams *p = &c->params->gemm;
  const InferTensorView *a = &c->in[0], *b = &c->in[1];
  InferTensorView *y = &c->out[0];
  float *yd = y->data;
  int64_t m = y->shape.d[0], n = y->shape.d[1];
  int64_t k = p->trans_a ? a->shape.d[0] : a->shape.d[1];
  if (infer_call_has_input(c, 2)) {
    const InferTensorView *cv = &c->in[2];
    const float *cd = cv->data;
    int64_t st[INFER_MAX_RANK];
    infer_cpu_broadcast_strides(&cv->shape, &y->shape, st);
    for (int64_t i = 0; i < m; i++)
      for (int64_t j = 0; j < n; j++) yd[i * n + j] = p->beta * cd[i * st[0] + j * st[1]];
  } else {
    for (int64_t i = 0; i < m * n; i++) yd[i] = 0.0f;
  }
  if (!p->trans_b) {
    mm_ikj(a->data, p->trans_a ? 1 : k, p->trans_a ? m : 1, b->data, yd, m, n, k, p->alpha);
  } else {
    float *row = p->trans_a ? malloc((size_t)(k > 0 ? k : 1) * sizeof *row) : NULL;
    if (p->trans_a && !row)
      return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "layer '%s' (gemm): out of memory",
                              c->node);
    mm_transb(a->data, p->trans_a, b->data, yd, m, n, k, p->alpha, row);
    free(row);
  }
  apply_activation(&p->activation, yd, m * n);
  return NULL;
}

InferStatus *infer_cpu_supports_matmul(const InferOpCall *c) {
  return mm_supports(c, 2, &c->params->matmul.activation);
}

/* The leading (batch) dims of a matrix operand; 1-D and 2-D have none. */
static InferShape batch_shape(const InferShape *s) {
  InferShape b = {s->rank > 2 ? s->rank - 2 : 0, {0}};
  for (int i = 0; i < b.rank; i++) b.d[i] = s->d[i];
  return b;
}

InferStatus *infer_cpu_run_matmul(const InferOpCall *c) {
  const InferShape *as = &c->in[0].shape, *bs = &c->in[1].shape;
  InferTensorView *y = &c->out[0];
  int64_t m = as->rank >= 2 ? as->d[as->rank - 2] : 1, k = as->d[as->rank - 1];
  int64_t n = bs->rank >= 2 ? bs->d[bs->rank - 1] : 1;
  InferShape ba = batch_shape(as), bb = batch_shape(bs);
  InferShape ob = {ba.rank > bb.rank ? ba.rank : bb.rank, {0}};
  for (int i = 0; i < ob.rank; i++) ob.d[i] = y->shape.d[i];
  int64_t sa[INFER_MAX_RANK], sb[INFER_MAX_RANK];
  infer_cpu_broadcast_strides(&ba, &ob, sa);
  infer_cpu_broadcast_strides(&bb, &ob, sb);
  const float *a = c->in[0].data, *b = c->in[1].data;
  float *yd = y->data;
  int64_t batches = infer_shape_numel(&ob);
  for (int64_t i = 0; i < batches * m * n; i++) yd[i] = 0.0f;
  for (int64_t bi = 0; bi < batches; bi++) {
    const float *am = a + infer_cpu_offset(&ob, sa, bi) * m * k;
    const float *bm = b + infer_cpu_offset(&ob, sb, bi) * k * n;
    mm_ikj(am, k, 1, bm, yd + bi * m * n, m, n, k, 1.0f);
  }
  apply_activation(&c->params->matmul.activation, yd, batches * m * n);
  return NULL;
}
