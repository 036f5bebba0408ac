/* The sub-graph PyTorch exports for "flatten, keeping the batch dim":
 * Shape(x) -> Gather(0) -> Unsqueeze -> Concat([-1]) -> Reshape(x), built
 * with the network API for tests of shape folding and plan files. The
 * reshape layer is named `name`; its output is "<name>:0". */
#ifndef INFER_TEST_BATCH_FLATTEN_H
#define INFER_TEST_BATCH_FLATTEN_H

#include <string.h>

#include "infer/infer.h"
#include "test_util.h"

static inline InferTensorId add_batch_flatten(InferNetwork *net, InferTensorId x,
                                              const char *name) {
  InferTensorId shape = INFER_NO_TENSOR, zero, axes, minus1, batch = INFER_NO_TENSOR,
                batch1 = INFER_NO_TENSOR, target = INFER_NO_TENSOR, y = INFER_NO_TENSOR;
  InferOpParams p;
  memset(&p, 0, sizeof p);
  CHECK_OK(infer_network_add_layer(net, "shape", INFER_OP_SHAPE, &p, 1, &x, 1, NULL, &shape));
  int64_t zero_v = 0, minus1_v = -1;
  InferShape scalar = {0, {0}}, one = {1, {1}};
  CHECK_OK(infer_network_add_constant(net, "zero", INFER_DTYPE_I64, &scalar, &zero_v, &zero));
  CHECK_OK(infer_network_add_constant(net, "axes", INFER_DTYPE_I64, &one, &zero_v, &axes));
  CHECK_OK(infer_network_add_constant(net, "minus1", INFER_DTYPE_I64, &one, &minus1_v, &minus1));
  InferTensorId gin[2] = {shape, zero};
  CHECK_OK(infer_network_add_layer(net, "gather", INFER_OP_GATHER, &p, 2, gin, 1, NULL, &batch));
  p.reshape.kind = INFER_RESHAPE_UNSQUEEZE;
  InferTensorId uin[2] = {batch, axes};
  CHECK_OK(infer_network_add_layer(net, "unsqueeze", INFER_OP_RESHAPE, &p, 2, uin, 1, NULL,
                                   &batch1));
  InferTensorId cin[2] = {batch1, minus1};
  CHECK_OK(infer_network_add_concat(net, "concat", 2, cin, 0, &target));
  memset(&p, 0, sizeof p);
  p.reshape.kind = INFER_RESHAPE_SHAPE;
  InferTensorId rin[2] = {x, target};
  CHECK_OK(infer_network_add_layer(net, name, INFER_OP_RESHAPE, &p, 2, rin, 1, NULL, &y));
  return y;
}

#endif
