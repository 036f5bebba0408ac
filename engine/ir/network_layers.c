/* Convenience layers on top of infer_network_add_layer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "network_internal.h"

static InferStatus *add1(InferNetwork *net, const char *name, InferOp op, const InferOpParams *p,
                         int n, const InferTensorId *in, InferTensorId *out) {
  return infer_network_add_layer(net, name, op, p, n, in, 1, NULL, out);
}

/* A constant named after the layer ("<layer>/<what>"). */
static InferStatus *add_layer_constant(InferNetwork *net, const char *layer, const char *what,
                                       InferDType dtype, int n, const void *data,
                                       InferTensorId *out) {
  char base[512];
  snprintf(base, sizeof base, "%s/%s", layer ? layer : "layer", what);
  char *name = infer_network_unique_name(net, base);
  if (!name) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "network: out of memory");
  int64_t dim = n;
  InferShape s = infer_shape_make(1, &dim);
  InferStatus *st = infer_network_add_constant(net, name, dtype, &s, data, out);
  free(name);
  return st;
}

InferStatus *infer_network_add_convolution(InferNetwork *net, const char *name, InferTensorId x,
                                           InferTensorId weights, InferTensorId bias,
                                           const InferConvParams *p, InferTensorId *out) {
  InferOpParams params;
  memset(&params, 0, sizeof params);
  params.conv = *p;
  InferTensorId in[3] = {x, weights, bias};
  return add1(net, name, INFER_OP_CONV, &params, bias == INFER_NO_TENSOR ? 2 : 3, in, out);
}

InferStatus *infer_network_add_activation(InferNetwork *net, const char *name, InferTensorId x,
                                          InferUnaryKind kind, float alpha, float beta,
                                          InferTensorId *out) {
  InferOpParams params;
  memset(&params, 0, sizeof params);
  params.unary.kind = kind;
  params.unary.alpha = alpha;
  params.unary.beta = beta;
  return add1(net, name, INFER_OP_UNARY, &params, 1, &x, out);
}

InferStatus *infer_network_add_pooling(InferNetwork *net, const char *name, InferTensorId x,
                                       const InferPoolParams *p, InferTensorId *out) {
  InferOpParams params;
  memset(&params, 0, sizeof params);
  params.pool = *p;
  return add1(net, name, INFER_OP_POOL, &params, 1, &x, out);
}

InferStatus *infer_network_add_elementwise(InferNetwork *net, const char *name, InferTensorId a,
                                           InferTensorId b, InferBinaryKind kind,
                                           InferTensorId *out) {
  InferOpParams params;
  memset(&params, 0, sizeof params);
  params.binary.kind = kind;
  InferTensorId in[2] = {a, b};
  return add1(net, name, INFER_OP_BINARY, &params, 2, in, out);
}

InferStatus *infer_network_add_matmul(InferNetwork *net, const char *name, InferTensorId a,
                                      InferTensorId b, InferTensorId *out) {
  InferOpParams params;
  memset(&params, 0, sizeof params);
  InferTensorId in[2] = {a, b};
  return add1(net, name, INFER_OP_MATMUL, &params, 2, in, out);
}

InferStatus *infer_network_add_fully_connected(InferNetwork *net, const char *name,
                                               InferTensorId x, InferTensorId weights,
                                               InferTensorId bias, InferTensorId *out) {
  char lname[512];
  snprintf(lname, sizeof lname, "%s/flatten", name ? name : "fc");
  InferOpParams params;
  memset(&params, 0, sizeof params);
  params.reshape.kind = INFER_RESHAPE_FLATTEN;
  params.reshape.axis = 1;
  InferTensorId flat;
  INFER_TRY(add1(net, lname, INFER_OP_RESHAPE, &params, 1, &x, &flat));
  memset(&params, 0, sizeof params);
  params.gemm.alpha = 1.0f;
  params.gemm.beta = 1.0f;
  params.gemm.trans_b = true;
  InferTensorId in[3] = {flat, weights, bias};
  return add1(net, name, INFER_OP_GEMM, &params, bias == INFER_NO_TENSOR ? 2 : 3, in, out);
}

InferStatus *infer_network_add_softmax(InferNetwork *net, const char *name, InferTensorId x,
                                       int64_t axis, InferTensorId *out) {
  InferOpParams params;
  memset(&params, 0, sizeof params);
  params.softmax.kind = INFER_SOFTMAX;
  params.softmax.axis = axis;
  return add1(net, name, INFER_OP_SOFTMAX, &params, 1, &x, out);
}

InferStatus *infer_network_add_concat(InferNetwork *net, const char *name, int n,
                                      const InferTensorId *inputs, int64_t axis,
                                      InferTensorId *out) {
  InferOpParams params;
  memset(&params, 0, sizeof params);
  params.axis.axis = axis;
  return add1(net, name, INFER_OP_CONCAT, &params, n, inputs, out);
}

InferStatus *infer_network_add_reshape(InferNetwork *net, const char *name, InferTensorId x,
                                       int rank, const int64_t *dims, InferTensorId *out) {
  InferTensorId shape;
  INFER_TRY(add_layer_constant(net, name, "shape", INFER_DTYPE_I64, rank, dims, &shape));
  InferOpParams params;
  memset(&params, 0, sizeof params);
  params.reshape.kind = INFER_RESHAPE_SHAPE;
  InferTensorId in[2] = {x, shape};
  return add1(net, name, INFER_OP_RESHAPE, &params, 2, in, out);
}

InferStatus *infer_network_add_transpose(InferNetwork *net, const char *name, InferTensorId x,
                                         int n, const int64_t *perm, InferTensorId *out) {
  if (n < 0 || n > INFER_MAX_RANK)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "layer '%s': %d permutation entries",
                            name ? name : "transpose", n);
  InferOpParams params;
  memset(&params, 0, sizeof params);
  params.transpose.n_perm = n;
  for (int i = 0; i < n; i++) params.transpose.perm[i] = perm[i];
  return add1(net, name, INFER_OP_TRANSPOSE, &params, 1, &x, out);
}

InferStatus *infer_network_add_resize(InferNetwork *net, const char *name, InferTensorId x,
                                      InferResizeMode mode, int n, const float *scales,
                                      InferTensorId *out) {
  InferTensorId sc;
  INFER_TRY(add_layer_constant(net, name, "scales", INFER_DTYPE_F32, n, scales, &sc));
  InferOpParams params;
  memset(&params, 0, sizeof params);
  params.resize.mode = mode;
  params.resize.coord = mode == INFER_RESIZE_NEAREST ? INFER_COORD_ASYMMETRIC : INFER_COORD_HALF_PIXEL;
  params.resize.nearest = INFER_NEAREST_FLOOR;
  params.resize.cubic_coeff_a = -0.75f;
  InferTensorId in[3] = {x, INFER_NO_TENSOR, sc};
  return add1(net, name, INFER_OP_RESIZE, &params, 3, in, out);
}
