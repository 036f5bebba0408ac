/* The calling convention shared by shape functions and kernels of every
 * backend: one operator application with its inputs and outputs. */
#ifndef INFER_KERNEL_CALL_H
#define INFER_KERNEL_CALL_H

#include "infer/ops.h"
#include "infer/status.h"
#include "infer/types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* For shape inference: `in[i].data` is the input's value on the host when it
 * is known (constants, shape computations), else NULL; the function fills
 * out[i].dtype and out[i].shape. For kernels: all data pointers are valid
 * and out[i] already holds its dtype and shape. An absent optional input has
 * dtype INFER_DTYPE_UNDEFINED (and i may be >= n_in). */
typedef struct InferOpCall {
  InferOp op;
  const char *node;             /* layer name, for messages */
  const InferOpParams *params;
  const InferTensorView *in;
  int n_in;
  InferTensorView *out;
  int n_out;
  uint32_t flags;               /* INFER_CALL_* choices of the engine, for kernels */
} InferOpCall;

/* FP32 layers may use TF32 tensor-core math (the engine's precisions allow it). */
#define INFER_CALL_TF32 1u
/* INT8 layers keep to tactics whose outputs equal the CPU reference's bit
 * for bit (the engine was built with INT8 exactness). */
#define INFER_CALL_INT8_EXACT 2u

static inline const InferTensorView *infer_call_input(const InferOpCall *c, int i) {
  static const InferTensorView absent = {INFER_DTYPE_UNDEFINED, {0, {0}}, 0};
  return (i < c->n_in && c->in[i].dtype != INFER_DTYPE_UNDEFINED) ? &c->in[i] : &absent;
}

static inline bool infer_call_has_input(const InferOpCall *c, int i) {
  return i < c->n_in && c->in[i].dtype != INFER_DTYPE_UNDEFINED;
}

#ifdef __cplusplus
}
#endif
#endif
