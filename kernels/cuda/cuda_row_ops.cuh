/* Helpers shared by the CUDA kernels that work along one axis of a tensor
 * (softmax, reductions, argmax, top-k, cumsum): support checks and the
 * outer x axis x inner geometry. */
#ifndef INFER_CUDA_ROW_OPS_CUH
#define INFER_CUDA_ROW_OPS_CUH

#include "cuda_kernels.h"

#define ROW_THREADS 256

static InferStatus *row_unsupported(const InferOpCall *c, const char *what) {
  return infer_status_new(INFER_ERR_UNSUPPORTED,
                          "layer '%s' (%s): %s is not supported on the CUDA backend", c->node,
                          infer_op_name(c->op), what);
}

static InferStatus *row_dtype(const InferOpCall *c, bool ints) {
  InferDType t = infer_call_input(c, 0)->dtype;
  if (t == INFER_DTYPE_F32 || (ints && (t == INFER_DTYPE_I32 || t == INFER_DTYPE_I64)))
    return NULL;
  return infer_status_new(INFER_ERR_UNSUPPORTED,
                          "layer '%s' (%s): input of type %s is not supported on the CUDA "
                          "backend (%s)",
                          c->node, infer_op_name(c->op), infer_dtype_name(t),
                          ints ? "f32, i32, i64" : "f32 only");
}

static InferStatus *check_axis(const InferOpCall *c, int64_t axis, int *out) {
  int32_t rank = c->in[0].shape.rank;
  int64_t a = axis < 0 ? axis + rank : axis;
  if (rank < 1 || a < 0 || a >= rank)
    return infer_status_new(INFER_ERR_UNSUPPORTED,
                            "layer '%s' (%s): axis %lld is out of range for rank %d", c->node,
                            infer_op_name(c->op), (long long)axis, rank);
  *out = (int)a;
  return NULL;
}

static void axis_geometry(const InferShape *s, int axis, int64_t *outer, int64_t *n,
                          int64_t *inner) {
  *outer = *inner = 1;
  for (int i = 0; i < s->rank; i++) {
    if (i < axis) *outer *= s->d[i];
    if (i > axis) *inner *= s->d[i];
  }
  *n = s->d[axis];
}

static unsigned row_blocks(int64_t rows) {
  return rows > 65535 * 32 ? 65535u * 32u : (unsigned)(rows > 0 ? rows : 1);
}

#endif
