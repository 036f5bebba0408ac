/* The network's in-memory form, shared by the builder, the runtime and the
 * parsers. Tensors and layers live in growable arrays; ids are indices. */
#ifndef INFER_NETWORK_INTERNAL_H
#define INFER_NETWORK_INTERNAL_H

#include "infer/network.h"

typedef struct InferTensorDef {
  char *name;
  InferDType dtype;        /* UNDEFINED until inferred */
  InferShape shape;        /* -1 dims are unknown */
  bool shape_known;        /* rank (and dtype) known */
  char *dim_names[INFER_MAX_RANK];
  void *data;              /* constant value (64-byte aligned) or NULL */
  bool data_borrowed;      /* data points into memory the network does not own */
  size_t nbytes;
  int32_t producer;        /* layer index; -1 for inputs and constants */
  bool is_input, is_output;
} InferTensorDef;

/* A constant: a value of the network, not an input nor a layer's output. */
static inline bool infer_tensor_is_constant(const InferTensorDef *t) {
  return t && t->producer < 0 && !t->is_input && t->data != NULL;
}

typedef struct InferLayer {
  char *name;
  InferOp op;
  InferOpParams params;
  int32_t n_inputs, n_outputs;
  InferTensorId *inputs;   /* INFER_NO_TENSOR for absent optional inputs */
  InferTensorId *outputs;
} InferLayer;

struct InferNetwork {
  InferTensorDef *tensors;
  int32_t n_tensors, cap_tensors;
  InferLayer *layers;
  int32_t n_layers, cap_layers;
  InferTensorId *inputs, *outputs;
  int32_t n_inputs, n_outputs, cap_inputs, cap_outputs;
  int32_t *index;          /* open-addressing hash of tensor names -> id, -1 empty */
  size_t index_cap;
  int32_t anon_counter;
  uint64_t source_hash;     /* hash of the model file it was parsed from; 0 if built in code */
};

static inline const InferTensorDef *infer_net_tensor(const InferNetwork *net, InferTensorId t) {
  return (t >= 0 && t < net->n_tensors) ? &net->tensors[t] : NULL;
}

/* Allocation helpers that return a status instead of NULL. */
void *infer_aligned_alloc(size_t bytes);   /* 64-byte aligned, zeroed; free with free() */
/* A fresh tensor (no producer); name must be unique. */
InferStatus *infer_network_new_tensor(InferNetwork *net, const char *name, InferTensorId *out);
/* A constant whose data is used in place (not copied): the caller keeps it
 * alive and unchanged for the network's lifetime (a mapped plan file). */
InferStatus *infer_network_add_constant_borrowed(InferNetwork *net, const char *name,
                                                 InferDType dtype, const InferShape *shape,
                                                 const void *data, InferTensorId *out);
/* Makes a name unique by appending a counter when taken. */
char *infer_network_unique_name(InferNetwork *net, const char *base);

#endif
