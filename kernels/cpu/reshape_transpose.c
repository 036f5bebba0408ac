/* CPU kernels for the reshape family (reshape, flatten, squeeze, unsqueeze,
 * identity) and transpose. Both only move bytes, so every dtype works. */
#include "cpu_util.h"

static InferStatus *mv_invalid(const InferOpCall *c, const char *what) {
  return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "layer '%s' (%s): %s", c->node,
                          infer_op_name(c->op), what);
}

/* Dtype and output type checks shared by both ops: any sized dtype passes
 * through unchanged. */
static InferStatus *check_passthrough(const InferOpCall *c) {
  if (infer_dtype_size(c->in[0].dtype) == 0) return infer_cpu_unsupported_dtype(c, 0);
  if (c->out[0].dtype != c->in[0].dtype) return mv_invalid(c, "output type differs from input");
  return NULL;
}

/* ---- reshape family: the data is unchanged, only the shape differs -------- */

InferStatus *infer_cpu_supports_reshape(const InferOpCall *c) {
  INFER_TRY(check_passthrough(c));
  int64_t in_n = infer_shape_numel(&c->in[0].shape), out_n = infer_shape_numel(&c->out[0].shape);
  if (in_n >= 0 && out_n >= 0 && in_n != out_n)
    return mv_invalid(c, "output and input element counts differ");
  return NULL;
}

InferStatus *infer_cpu_run_reshape(const InferOpCall *c) {
  int64_t n = infer_shape_numel(&c->out[0].shape);
  if (n != infer_shape_numel(&c->in[0].shape))
    return mv_invalid(c, "output and input element counts differ");
  size_t bytes = (size_t)n * infer_dtype_size(c->out[0].dtype);
  /* the engine may alias output and input for a reshape */
  if (bytes && c->out[0].data != c->in[0].data) memmove(c->out[0].data, c->in[0].data, bytes);
  return NULL;
}

/* ---- transpose --------------------------------------------------------------- */

/* Output dim i comes from input dim perm[i]; no perm means reversed dims. */
static InferStatus *get_perm(const InferOpCall *c, int64_t *perm) {
  const InferTransposeParams *p = &c->params->transpose;
  int rank = c->in[0].shape.rank;
  bool used[INFER_MAX_RANK] = {false};
  if ((p->n_perm != 0 && p->n_perm != rank) || c->out[0].shape.rank != rank)
    return mv_invalid(c, "perm does not match the input rank");
  for (int i = 0; i < rank; i++) {
    perm[i] = p->n_perm ? p->perm[i] : rank - 1 - i;
    if (perm[i] < 0 || perm[i] >= rank || used[perm[i]])
      return mv_invalid(c, "perm is not a permutation");
    used[perm[i]] = true;
    if (c->out[0].shape.d[i] != c->in[0].shape.d[perm[i]])
      return mv_invalid(c, "output shape does not match perm");
  }
  return NULL;
}

/* Dense `out` of shape `s` where element idx comes from element
 * base + sum(idx[k] * strides[k]) of `in` (strides in elements, any sign). */
static void strided_copy(void *out, const void *in, size_t es, const InferShape *s, int64_t base,
                         const int64_t *strides) {
  int64_t n = infer_shape_numel(s), idx[INFER_MAX_RANK] = {0}, off = base;
  char *o = out;
  const char *src = in;
  for (int64_t i = 0; i < n; i++) {
    memcpy(o + (size_t)i * es, src + (size_t)off * es, es);
    for (int k = s->rank - 1; k >= 0; k--) {
      off += strides[k];
      if (++idx[k] < s->d[k]) break;
      off -= strides[k] * s->d[k];
      idx[k] = 0;
    }
  }
}

InferStatus *infer_cpu_supports_transpose(const InferOpCall *c) {
  int64_t perm[INFER_MAX_RANK];
  INFER_TRY(check_passthrough(c));
  return get_perm(c, perm);
}

InferStatus *infer_cpu_run_transpose(const InferOpCall *c) {
  int64_t perm[INFER_MAX_RANK], in_strides[INFER_MAX_RANK], strides[INFER_MAX_RANK];
  INFER_TRY(get_perm(c, perm));
  infer_cpu_strides(&c->in[0].shape, in_strides);
  for (int i = 0; i < c->out[0].shape.rank; i++) strides[i] = in_strides[perm[i]];
  strided_copy(c->out[0].data, c->in[0].data, infer_dtype_size(c->in[0].dtype),
               &c->out[0].shape, 0, strides);
  return NULL;
}
