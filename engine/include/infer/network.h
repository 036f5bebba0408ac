/* Building a network in code: the "network definition" workflow.
 *
 * A network holds tensors (graph inputs, constants, layer outputs) and layers
 * (an operator, its parameters, its input and output tensors). Tensors are
 * named by small integer ids. Shapes of layer outputs are inferred when an
 * engine is built (or by infer_network_infer_shapes). */
#ifndef INFER_NETWORK_H
#define INFER_NETWORK_H

#include "infer/ops.h"
#include "infer/status.h"
#include "infer/types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct InferNetwork InferNetwork;
typedef int32_t InferTensorId;
#define INFER_NO_TENSOR ((InferTensorId)-1)

InferStatus *infer_network_create(InferNetwork **out);
void infer_network_release(InferNetwork *net); /* accepts NULL */

/* A graph input. Dims of -1 are dynamic (the batch dimension, usually). */
InferStatus *infer_network_add_input(InferNetwork *net, const char *name, InferDType dtype,
                                     const InferShape *shape, InferTensorId *out);
/* Names a dynamic dimension of an input ("batch", "N"): inputs sharing a
 * name share the value. */
InferStatus *infer_network_set_dim_name(InferNetwork *net, InferTensorId t, int dim,
                                        const char *dim_name);
/* A constant (weights, shapes); the data is copied. */
InferStatus *infer_network_add_constant(InferNetwork *net, const char *name, InferDType dtype,
                                        const InferShape *shape, const void *data,
                                        InferTensorId *out);
/* The generic form every add_* below uses. `inputs` may hold INFER_NO_TENSOR
 * for absent optional inputs. Output tensors are created, named after
 * out_names, or "<layer name>:<i>" when out_names is NULL. */
InferStatus *infer_network_add_layer(InferNetwork *net, const char *name, InferOp op,
                                     const InferOpParams *params, int n_inputs,
                                     const InferTensorId *inputs, int n_outputs,
                                     const char *const *out_names, InferTensorId *outputs);
InferStatus *infer_network_mark_output(InferNetwork *net, InferTensorId t);

/* Convenience layers in the spirit of TensorRT's INetworkDefinition. */
InferStatus *infer_network_add_convolution(InferNetwork *net, const char *name, InferTensorId x,
                                           InferTensorId weights, InferTensorId bias,
                                           const InferConvParams *p, InferTensorId *out);
InferStatus *infer_network_add_activation(InferNetwork *net, const char *name, InferTensorId x,
                                          InferUnaryKind kind, float alpha, float beta,
                                          InferTensorId *out);
InferStatus *infer_network_add_pooling(InferNetwork *net, const char *name, InferTensorId x,
                                       const InferPoolParams *p, InferTensorId *out);
InferStatus *infer_network_add_elementwise(InferNetwork *net, const char *name, InferTensorId a,
                                           InferTensorId b, InferBinaryKind kind,
                                           InferTensorId *out);
InferStatus *infer_network_add_matmul(InferNetwork *net, const char *name, InferTensorId a,
                                      InferTensorId b, InferTensorId *out);
/* y = x * W^T + bias with W [out_features, in_features]; x is flattened to 2-D. */
InferStatus *infer_network_add_fully_connected(InferNetwork *net, const char *name,
                                               InferTensorId x, InferTensorId weights,
                                               InferTensorId bias, InferTensorId *out);
InferStatus *infer_network_add_softmax(InferNetwork *net, const char *name, InferTensorId x,
                                       int64_t axis, InferTensorId *out);
InferStatus *infer_network_add_concat(InferNetwork *net, const char *name, int n,
                                      const InferTensorId *inputs, int64_t axis,
                                      InferTensorId *out);
/* Reshape to dims (0 copies the input dim, -1 is inferred). */
InferStatus *infer_network_add_reshape(InferNetwork *net, const char *name, InferTensorId x,
                                       int rank, const int64_t *dims, InferTensorId *out);
InferStatus *infer_network_add_transpose(InferNetwork *net, const char *name, InferTensorId x,
                                         int n, const int64_t *perm, InferTensorId *out);
/* Resize by per-dimension scales (one per input dim). */
InferStatus *infer_network_add_resize(InferNetwork *net, const char *name, InferTensorId x,
                                      InferResizeMode mode, int n, const float *scales,
                                      InferTensorId *out);

/* Queries. */
int infer_network_num_tensors(const InferNetwork *net);
int infer_network_num_layers(const InferNetwork *net);
int infer_network_num_inputs(const InferNetwork *net);
int infer_network_num_outputs(const InferNetwork *net);
InferTensorId infer_network_input(const InferNetwork *net, int i);
InferTensorId infer_network_output(const InferNetwork *net, int i);
InferTensorId infer_network_find_tensor(const InferNetwork *net, const char *name);
const char *infer_network_tensor_name(const InferNetwork *net, InferTensorId t);
InferDType infer_network_tensor_dtype(const InferNetwork *net, InferTensorId t);
InferShape infer_network_tensor_shape(const InferNetwork *net, InferTensorId t);
InferOp infer_network_layer_op(const InferNetwork *net, int layer);
const char *infer_network_layer_name(const InferNetwork *net, int layer);

/* Infers every tensor's dtype and shape from the inputs' declared shapes
 * (dynamic dims stay -1 where they cannot be resolved). */
InferStatus *infer_network_infer_shapes(InferNetwork *net);

#ifdef __cplusplus
}
#endif
#endif
