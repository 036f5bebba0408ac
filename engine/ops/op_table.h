/* Per-operator facts the engine needs independent of any backend. */
#ifndef INFER_OP_TABLE_H
#define INFER_OP_TABLE_H

#include "kernel_call.h"

typedef InferStatus *(*InferShapeFn)(const InferOpCall *call);

enum {
  /* The op reads only the shapes of its inputs, never their data (Shape, Size). */
  INFER_OPF_READS_SHAPE_ONLY = 1u << 0,
  /* Output size depends on input data: shape inference gives an upper bound. */
  INFER_OPF_DATA_DEPENDENT_SHAPE = 1u << 1,
  /* Never folded into a constant, even when every input is one: a
   * Dequantize of INT8 weights must stay visible to the quantize pass,
   * which fuses it into an INT8 layer or folds it itself. */
  INFER_OPF_NO_FOLD = 1u << 2,
};

typedef struct InferOpInfo {
  const char *name;
  int min_inputs, max_inputs;   /* max -1: variadic */
  int min_outputs, max_outputs; /* max -1: variadic */
  uint32_t shape_inputs;        /* bit i: input i's value must be known on the host */
  uint32_t flags;
  size_t params_size;           /* bytes of its member of InferOpParams */
  InferShapeFn infer_shape;
} InferOpInfo;

const InferOpInfo *infer_op_info(InferOp op); /* NULL when op is out of range */

/* Shape functions, one file per family (engine/ops/shape_<family>.c). */
#define INFER_SHAPE_DECL(name) InferStatus *infer_shape_##name(const InferOpCall *call);
INFER_SHAPE_DECL(unary)
INFER_SHAPE_DECL(binary)
INFER_SHAPE_DECL(where)
INFER_SHAPE_DECL(cast)
INFER_SHAPE_DECL(conv)
INFER_SHAPE_DECL(deconv)
INFER_SHAPE_DECL(pool)
INFER_SHAPE_DECL(gemm)
INFER_SHAPE_DECL(matmul)
INFER_SHAPE_DECL(batchnorm)
INFER_SHAPE_DECL(instancenorm)
INFER_SHAPE_DECL(layernorm)
INFER_SHAPE_DECL(lrn)
INFER_SHAPE_DECL(softmax)
INFER_SHAPE_DECL(reduce)
INFER_SHAPE_DECL(argmax)
INFER_SHAPE_DECL(topk)
INFER_SHAPE_DECL(cumsum)
INFER_SHAPE_DECL(nms)
INFER_SHAPE_DECL(reshape)
INFER_SHAPE_DECL(transpose)
INFER_SHAPE_DECL(concat)
INFER_SHAPE_DECL(split)
INFER_SHAPE_DECL(slice)
INFER_SHAPE_DECL(gather)
INFER_SHAPE_DECL(gather_elements)
INFER_SHAPE_DECL(expand)
INFER_SHAPE_DECL(tile)
INFER_SHAPE_DECL(pad)
INFER_SHAPE_DECL(resize)
INFER_SHAPE_DECL(range)
INFER_SHAPE_DECL(shape)
INFER_SHAPE_DECL(size)
INFER_SHAPE_DECL(constant_of_shape)
INFER_SHAPE_DECL(trilu)
INFER_SHAPE_DECL(depth_space)
/* engine/ops/shape_quantize.c: Quantize/Dequantize, and the INT8 forms of
 * Conv and Gemm (InferQuantParams; infer_shape_conv/gemm hand them over) */
INFER_SHAPE_DECL(quantize)
INFER_SHAPE_DECL(dequantize)
INFER_SHAPE_DECL(conv_int8)
INFER_SHAPE_DECL(gemm_int8)
/* engine/ops/shape_pointwise.c: fused elementwise chains (also checks the program) */
INFER_SHAPE_DECL(pointwise)

/* Helpers shared by shape functions (engine/ops/shape_util.c). */
/* Normalizes a possibly negative axis against rank; error names the node. */
InferStatus *infer_normalize_axis(const InferOpCall *c, int64_t axis, int32_t rank, int32_t *out);
/* Numpy broadcast of a and b into out; error names the node. */
InferStatus *infer_broadcast_shapes(const InferOpCall *c, const InferShape *a,
                                    const InferShape *b, InferShape *out);
/* Reads a 1-D (or scalar) integer shape input (i32/i64) into int64s. */
InferStatus *infer_read_int_input(const InferOpCall *c, int input, int64_t *out, int max,
                                  int *n);
/* The error for a shape input whose value is not known at build time. */
InferStatus *infer_shape_input_unknown(const InferOpCall *c, int input);

#endif
