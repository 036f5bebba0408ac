/* Network construction: tensors, layers, name lookup and queries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "network_internal.h"
#include "op_table.h"

void *infer_aligned_alloc(size_t bytes) {
  size_t rounded = (bytes + 63) & ~(size_t)63;
  if (rounded == 0) rounded = 64;
  void *p = aligned_alloc(64, rounded);
  if (p) memset(p, 0, rounded);
  return p;
}

static uint64_t hash_name(const char *s) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

static InferStatus *index_grow(InferNetwork *net) {
  size_t cap = net->index_cap ? net->index_cap * 2 : 256;
  int32_t *idx = malloc(cap * sizeof *idx);
  if (!idx) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "network: out of memory");
  for (size_t i = 0; i < cap; i++) idx[i] = -1;
  for (int32_t t = 0; t < net->n_tensors; t++) {
    size_t h = hash_name(net->tensors[t].name) & (cap - 1);
    while (idx[h] >= 0) h = (h + 1) & (cap - 1);
    idx[h] = t;
  }
  free(net->index);
  net->index = idx;
  net->index_cap = cap;
  return NULL;
}

InferTensorId infer_network_find_tensor(const InferNetwork *net, const char *name) {
  if (!net || !name || !net->index_cap) return INFER_NO_TENSOR;
  size_t h = hash_name(name) & (net->index_cap - 1);
  while (net->index[h] >= 0) {
    if (strcmp(net->tensors[net->index[h]].name, name) == 0) return net->index[h];
    h = (h + 1) & (net->index_cap - 1);
  }
  return INFER_NO_TENSOR;
}

InferStatus *infer_network_create(InferNetwork **out) {
  *out = calloc(1, sizeof **out);
  if (!*out) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "network: out of memory");
  return NULL;
}

void infer_network_release(InferNetwork *net) {
  if (!net) return;
  for (int32_t t = 0; t < net->n_tensors; t++) {
    free(net->tensors[t].name);
    if (!net->tensors[t].data_borrowed) free(net->tensors[t].data);
    for (int d = 0; d < INFER_MAX_RANK; d++) free(net->tensors[t].dim_names[d]);
  }
  for (int32_t l = 0; l < net->n_layers; l++) {
    free(net->layers[l].name);
    free(net->layers[l].inputs);
    free(net->layers[l].outputs);
  }
  free(net->tensors);
  free(net->layers);
  free(net->inputs);
  free(net->outputs);
  free(net->index);
  free(net);
}

static InferStatus *grow(void **arr, int32_t *cap, int32_t need, size_t elem) {
  if (need <= *cap) return NULL;
  int32_t n = *cap ? *cap * 2 : 16;
  while (n < need) n *= 2;
  void *p = realloc(*arr, (size_t)n * elem);
  if (!p) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "network: out of memory");
  *arr = p;
  *cap = n;
  return NULL;
}

char *infer_network_unique_name(InferNetwork *net, const char *base) {
  size_t n = strlen(base) + 24;
  char *name = malloc(n);
  if (!name) return NULL;
  snprintf(name, n, "%s", base);
  while (infer_network_find_tensor(net, name) != INFER_NO_TENSOR)
    snprintf(name, n, "%s_%d", base, ++net->anon_counter);
  return name;
}

InferStatus *infer_network_new_tensor(InferNetwork *net, const char *name, InferTensorId *out) {
  if (!name || !*name)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "network: a tensor needs a name");
  if (infer_network_find_tensor(net, name) != INFER_NO_TENSOR)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "network: tensor name '%s' is used twice",
                            name);
  INFER_TRY(grow((void **)&net->tensors, &net->cap_tensors, net->n_tensors + 1,
                 sizeof *net->tensors));
  if ((size_t)(net->n_tensors + 1) * 2 > net->index_cap) INFER_TRY(index_grow(net));
  InferTensorDef *t = &net->tensors[net->n_tensors];
  memset(t, 0, sizeof *t);
  t->name = strdup(name);
  if (!t->name) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "network: out of memory");
  t->producer = -1;
  size_t h = hash_name(name) & (net->index_cap - 1);
  while (net->index[h] >= 0) h = (h + 1) & (net->index_cap - 1);
  net->index[h] = net->n_tensors;
  *out = net->n_tensors++;
  return NULL;
}

static InferStatus *check_shape(const char *what, const char *name, const InferShape *shape) {
  if (!shape || shape->rank < 0 || shape->rank > INFER_MAX_RANK)
    return infer_status_new(INFER_ERR_UNSUPPORTED, "%s '%s': rank must be 0..%d", what, name,
                            INFER_MAX_RANK);
  return NULL;
}

InferStatus *infer_network_add_input(InferNetwork *net, const char *name, InferDType dtype,
                                     const InferShape *shape, InferTensorId *out) {
  INFER_TRY(check_shape("input", name ? name : "", shape));
  if (infer_dtype_size(dtype) == 0)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "input '%s': no element type", name);
  InferTensorId id;
  INFER_TRY(infer_network_new_tensor(net, name, &id));
  INFER_TRY(grow((void **)&net->inputs, &net->cap_inputs, net->n_inputs + 1, sizeof(InferTensorId)));
  InferTensorDef *t = &net->tensors[id];
  t->dtype = dtype;
  t->shape = *shape;
  for (int i = 0; i < shape->rank; i++)
    if (t->shape.d[i] < 0) t->shape.d[i] = -1;
  t->shape_known = true;
  t->is_input = true;
  net->inputs[net->n_inputs++] = id;
  if (out) *out = id;
  return NULL;
}

InferStatus *infer_network_set_dim_name(InferNetwork *net, InferTensorId t, int dim,
                                        const char *dim_name) {
  if (t < 0 || t >= net->n_tensors || dim < 0 || dim >= net->tensors[t].shape.rank)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "network: no dimension %d of tensor %d",
                            dim, t);
  char *copy = strdup(dim_name ? dim_name : "");
  if (!copy) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "network: out of memory");
  free(net->tensors[t].dim_names[dim]);
  net->tensors[t].dim_names[dim] = copy;
  return NULL;
}

InferStatus *infer_network_add_constant(InferNetwork *net, const char *name, InferDType dtype,
                                        const InferShape *shape, const void *data,
                                        InferTensorId *out) {
  INFER_TRY(check_shape("constant", name ? name : "", shape));
  int64_t n = infer_shape_numel(shape);
  if (n < 0 || infer_dtype_size(dtype) == 0)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "constant '%s': needs a known shape and element type", name);
  size_t bytes = (size_t)n * infer_dtype_size(dtype);
  void *copy = infer_aligned_alloc(bytes);
  if (!copy)
    return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "constant '%s': cannot allocate %zu bytes",
                            name, bytes);
  if (bytes && data) memcpy(copy, data, bytes);
  InferTensorId id;
  InferStatus *st = infer_network_new_tensor(net, name, &id);
  if (st) {
    free(copy);
    return st;
  }
  InferTensorDef *t = &net->tensors[id];
  t->dtype = dtype;
  t->shape = *shape;
  t->shape_known = true;
  t->data = copy;
  t->nbytes = bytes;
  if (out) *out = id;
  return NULL;
}

InferStatus *infer_network_add_constant_borrowed(InferNetwork *net, const char *name,
                                                 InferDType dtype, const InferShape *shape,
                                                 const void *data, InferTensorId *out) {
  INFER_TRY(check_shape("constant", name ? name : "", shape));
  int64_t n = infer_shape_numel(shape);
  if (n < 0 || infer_dtype_size(dtype) == 0 || (!data && n > 0))
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "constant '%s': needs a known shape, element type and data", name);
  InferTensorId id;
  INFER_TRY(infer_network_new_tensor(net, name, &id));
  InferTensorDef *t = &net->tensors[id];
  t->dtype = dtype;
  t->shape = *shape;
  t->shape_known = true;
  t->data = (void *)data;
  t->data_borrowed = true;
  t->nbytes = (size_t)n * infer_dtype_size(dtype);
  if (out) *out = id;
  return NULL;
}

/* Shapes are tried as layers are added, with only constants' values known;
 * a failure is not an error here (values computed from shapes may be
 * missing), the engine build infers again with everything known. */
static void try_infer_layer(InferNetwork *net, const InferLayer *layer) {
  const InferOpInfo *info = infer_op_info(layer->op);
  InferTensorView in[64], out[64];
  if (layer->n_inputs > 64 || layer->n_outputs > 64) return;
  for (int i = 0; i < layer->n_inputs; i++) {
    memset(&in[i], 0, sizeof in[i]);
    const InferTensorDef *t = infer_net_tensor(net, layer->inputs[i]);
    if (!t) continue;
    if (!t->shape_known) return;
    in[i].dtype = t->dtype;
    in[i].shape = t->shape;
    in[i].data = t->data;
  }
  for (int i = 0; i < layer->n_outputs; i++) memset(&out[i], 0, sizeof out[i]);
  InferOpCall call = {layer->op, layer->name, &layer->params, in, layer->n_inputs, out,
                      layer->n_outputs, 0};
  InferStatus *st = info->infer_shape(&call);
  if (st) {
    infer_status_free(st);
    return;
  }
  for (int i = 0; i < layer->n_outputs; i++) {
    InferTensorDef *t = &net->tensors[layer->outputs[i]];
    t->dtype = out[i].dtype;
    t->shape = out[i].shape;
    t->shape_known = true;
  }
}

InferStatus *infer_network_add_layer(InferNetwork *net, const char *name, InferOp op,
                                     const InferOpParams *params, int n_inputs,
                                     const InferTensorId *inputs, int n_outputs,
                                     const char *const *out_names, InferTensorId *outputs) {
  const InferOpInfo *info = infer_op_info(op);
  const char *lname = name && *name ? name : "layer";
  if (!info) return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "layer '%s': unknown op %d", lname, op);
  if (n_inputs < info->min_inputs || (info->max_inputs >= 0 && n_inputs > info->max_inputs))
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "layer '%s' (%s): %d inputs given", lname,
                            info->name, n_inputs);
  if (n_outputs < info->min_outputs || (info->max_outputs >= 0 && n_outputs > info->max_outputs))
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "layer '%s' (%s): %d outputs asked for",
                            lname, info->name, n_outputs);
  for (int i = 0; i < n_inputs; i++) {
    if (inputs[i] == INFER_NO_TENSOR) {
      if (i < info->min_inputs)
        return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                                "layer '%s' (%s): input %d is required", lname, info->name, i);
    } else if (inputs[i] < 0 || inputs[i] >= net->n_tensors) {
      return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "layer '%s' (%s): input %d is not a tensor",
                              lname, info->name, i);
    }
  }
  InferStatus *st = grow((void **)&net->layers, &net->cap_layers, net->n_layers + 1,
                         sizeof *net->layers);
  if (st) return st;
  InferLayer *layer = &net->layers[net->n_layers];
  memset(layer, 0, sizeof *layer);
  layer->name = strdup(lname);
  layer->op = op;
  if (params) memcpy(&layer->params, params, info->params_size);
  layer->inputs = malloc(sizeof(InferTensorId) * (size_t)(n_inputs ? n_inputs : 1));
  layer->outputs = malloc(sizeof(InferTensorId) * (size_t)(n_outputs ? n_outputs : 1));
  if (!layer->name || !layer->inputs || !layer->outputs) {
    st = infer_status_new(INFER_ERR_OUT_OF_MEMORY, "network: out of memory");
    goto fail;
  }
  layer->n_inputs = n_inputs;
  memcpy(layer->inputs, inputs, sizeof(InferTensorId) * (size_t)n_inputs);
  for (int i = 0; i < n_outputs; i++) {
    char buf[512];
    const char *oname = out_names && out_names[i] && *out_names[i] ? out_names[i] : NULL;
    if (!oname) {
      snprintf(buf, sizeof buf, "%s:%d", lname, i);
      char *unique = infer_network_unique_name(net, buf);
      if (!unique) {
        st = infer_status_new(INFER_ERR_OUT_OF_MEMORY, "network: out of memory");
        goto fail;
      }
      st = infer_network_new_tensor(net, unique, &layer->outputs[i]);
      free(unique);
    } else {
      st = infer_network_new_tensor(net, oname, &layer->outputs[i]);
    }
    if (st) goto fail;
    net->tensors[layer->outputs[i]].producer = net->n_layers;
    layer->n_outputs = i + 1;
  }
  net->n_layers++;
  try_infer_layer(net, layer);
  if (outputs) memcpy(outputs, layer->outputs, sizeof(InferTensorId) * (size_t)n_outputs);
  return NULL;
fail:
  /* tensors created for this layer stay (unused); the layer itself is dropped */
  for (int i = 0; i < layer->n_outputs; i++) net->tensors[layer->outputs[i]].producer = -1;
  free(layer->name);
  free(layer->inputs);
  free(layer->outputs);
  return infer_status_prefix(st, "layer '%s'", lname);
}

InferStatus *infer_network_mark_output(InferNetwork *net, InferTensorId t) {
  if (t < 0 || t >= net->n_tensors)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "network: output %d is not a tensor", t);
  if (net->tensors[t].is_output) return NULL;
  INFER_TRY(grow((void **)&net->outputs, &net->cap_outputs, net->n_outputs + 1,
                 sizeof(InferTensorId)));
  net->tensors[t].is_output = true;
  net->outputs[net->n_outputs++] = t;
  return NULL;
}

int infer_network_num_tensors(const InferNetwork *net) { return net->n_tensors; }
int infer_network_num_layers(const InferNetwork *net) { return net->n_layers; }
int infer_network_num_inputs(const InferNetwork *net) { return net->n_inputs; }
int infer_network_num_outputs(const InferNetwork *net) { return net->n_outputs; }

InferTensorId infer_network_input(const InferNetwork *net, int i) {
  return i >= 0 && i < net->n_inputs ? net->inputs[i] : INFER_NO_TENSOR;
}

InferTensorId infer_network_output(const InferNetwork *net, int i) {
  return i >= 0 && i < net->n_outputs ? net->outputs[i] : INFER_NO_TENSOR;
}

const char *infer_network_tensor_name(const InferNetwork *net, InferTensorId t) {
  const InferTensorDef *d = infer_net_tensor(net, t);
  return d ? d->name : NULL;
}

InferDType infer_network_tensor_dtype(const InferNetwork *net, InferTensorId t) {
  const InferTensorDef *d = infer_net_tensor(net, t);
  return d && d->shape_known ? d->dtype : INFER_DTYPE_UNDEFINED;
}

InferShape infer_network_tensor_shape(const InferNetwork *net, InferTensorId t) {
  InferShape none = {0, {0}};
  const InferTensorDef *d = infer_net_tensor(net, t);
  return d && d->shape_known ? d->shape : none;
}

InferOp infer_network_layer_op(const InferNetwork *net, int layer) {
  return layer >= 0 && layer < net->n_layers ? net->layers[layer].op : INFER_OP_COUNT;
}

const char *infer_network_layer_name(const InferNetwork *net, int layer) {
  return layer >= 0 && layer < net->n_layers ? net->layers[layer].name : NULL;
}
