/* Trilu and DepthToSpace / SpaceToDepth: pure data movement, elements are
 * copied by size so every dtype works. */
#include <stdio.h>

#include "cpu_util.h"

/* ---- Trilu -------------------------------------------------------------- */

InferStatus *infer_cpu_supports_trilu(const InferOpCall *call) {
  const InferTensorView *x = infer_call_input(call, 0);
  if (infer_dtype_size(x->dtype) == 0) return infer_cpu_unsupported_dtype(call, 0);
  if (x->shape.rank < 2)
    return infer_status_new(INFER_ERR_UNSUPPORTED, "layer '%s' (%s): input must have rank >= 2",
                            call->node, infer_op_name(call->op));
  if (infer_call_has_input(call, 1)) INFER_CPU_REQUIRE(call, 1, INFER_DTYPE_I64, INFER_DTYPE_I32);
  return NULL;
}

InferStatus *infer_cpu_run_trilu(const InferOpCall *call) {
  const InferTensorView *x = &call->in[0];
  int64_t k = 0;
  if (infer_call_has_input(call, 1)) {
    const InferTensorView *kv = &call->in[1];
    if (infer_shape_numel(&kv->shape) != 1)
      return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "layer '%s' (%s): k must be a scalar",
                              call->node, infer_op_name(call->op));
    k = kv->dtype == INFER_DTYPE_I64 ? *(const int64_t *)kv->data : *(const int32_t *)kv->data;
  }
  int r = x->shape.rank;
  int64_t rows = x->shape.d[r - 2], cols = x->shape.d[r - 1];
  int64_t total = infer_shape_numel(&x->shape);
  if (total <= 0) return NULL;
  size_t es = infer_dtype_size(x->dtype);
  const uint8_t *src = x->data;
  uint8_t *dst = call->out[0].data;
  bool upper = call->params->trilu.upper;
  for (int64_t idx = 0; idx < total; idx++) {
    int64_t j = idx % cols, i = (idx / cols) % rows;
    /* j - i is the diagonal an element lies on; k selects the boundary one */
    bool keep = upper ? (j - i >= k) : (j - i <= k);
    if (keep)
      memcpy(dst + (size_t)idx * es, src + (size_t)idx * es, es);
    else
      memset(dst + (size_t)idx * es, 0, es); /* all-zero bytes are 0 in every dtype */
  }
  return NULL;
}

/* ---- DepthToSpace / SpaceToDepth ----------------------------------------- */

InferStatus *infer_cpu_supports_depth_space(const InferOpCall *call) {
  const InferTensorView *x = infer_call_input(call, 0);
  const InferDepthSpaceParams *p = &call->params->depth_space;
  if (infer_dtype_size(x->dtype) == 0) return infer_cpu_unsupported_dtype(call, 0);
  if (x->shape.rank != 4 || p->blocksize < 1)
    return infer_status_new(INFER_ERR_UNSUPPORTED,
                            "layer '%s' (%s): only 4-D input with a positive blocksize is "
                            "supported",
                            call->node, infer_op_name(call->op));
  return NULL;
}

/* Channel of the deep tensor that holds offset (i, j) of channel c of the
 * shallow one (DCR: block offset major; CRD: channel major). SpaceToDepth's
 * CRD mode (opset 28) is the inverse of DepthToSpace's. */
static int64_t deep_channel(bool crd, int64_t c, int64_t i, int64_t j, int64_t b,
                            int64_t shallow_c) {
  return crd ? (c * b + i) * b + j : (i * b + j) * shallow_c + c;
}

InferStatus *infer_cpu_run_depth_space(const InferOpCall *call) {
  const InferDepthSpaceParams *p = &call->params->depth_space;
  /* "deep" is [N, C*b*b, H, W], "shallow" is [N, C, H*b, W*b] */
  const InferShape *deep = p->to_space ? &call->in[0].shape : &call->out[0].shape;
  const InferShape *shallow = p->to_space ? &call->out[0].shape : &call->in[0].shape;
  int64_t b = p->blocksize, n = deep->d[0], dc = deep->d[1], h = deep->d[2], w = deep->d[3];
  int64_t sc = shallow->d[1];
  if (sc * b * b != dc || shallow->d[2] != h * b || shallow->d[3] != w * b)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "layer '%s' (%s): shapes do not match",
                            call->node, infer_op_name(call->op));
  size_t es = infer_dtype_size(call->in[0].dtype);
  const uint8_t *src = call->in[0].data;
  uint8_t *dst = call->out[0].data;
  int64_t sh = h * b, sw = w * b;
  for (int64_t bn = 0; bn < n; bn++)
    for (int64_t c = 0; c < sc; c++)
      for (int64_t y = 0; y < sh; y++)
        for (int64_t x = 0; x < sw; x++) {
          int64_t dch = deep_channel(p->crd_mode, c, y % b, x % b, b, sc);
          int64_t d_off = ((bn * dc + dch) * h + y / b) * w + x / b;
          int64_t s_off = ((bn * sc + c) * sh + y) * sw + x;
          if (p->to_space)
            memcpy(dst + (size_t)s_off * es, src + (size_t)d_off * es, es);
          else
            memcpy(dst + (size_t)d_off * es, src + (size_t)s_off * es, es);
        }
  return NULL;
}
