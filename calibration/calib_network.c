/* The network side of calibration: which tensors get scales, and a copy of
 * a network on which they can be marked as outputs. */
#include <stdlib.h>
#include <string.h>

#include "calib_internal.h"
#include "engine_internal.h"
#include "op_table.h"

static InferStatus *oom(void) {
  return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "calibration: out of memory");
}

/* The tensor of `src` named like t in dst, copying a constant on first use. */
static InferStatus *map_tensor(InferNetwork *dst, const InferNetwork *src, InferTensorId t,
                               InferTensorId *out) {
  const InferTensorDef *def = &src->tensors[t];
  *out = infer_network_find_tensor(dst, def->name);
  if (*out != INFER_NO_TENSOR) return NULL;
  if (def->producer >= 0 || def->is_input)
    return infer_status_new(INFER_ERR_INTERNAL,
                            "calibration: tensor '%s' is used before it is produced", def->name);
  if (!def->shape_known)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "calibration: tensor '%s' has no producer and no value", def->name);
  /* the weights stay where they are: the copy lives shorter than src */
  return infer_network_add_constant_borrowed(dst, def->name, def->dtype, &def->shape, def->data,
                                             out);
}

InferStatus *calib_network_copy(const InferNetwork *src, InferNetwork **out) {
  *out = NULL;
  InferNetwork *dst;
  INFER_TRY(infer_network_create(&dst));
  dst->source_hash = src->source_hash;
  InferStatus *st = NULL;
  for (int32_t i = 0; i < src->n_inputs && !st; i++) {
    const InferTensorDef *t = &src->tensors[src->inputs[i]];
    InferTensorId id;
    st = infer_network_add_input(dst, t->name, t->dtype, &t->shape, &id);
    for (int d = 0; d < t->shape.rank && !st; d++)
      if (t->dim_names[d]) st = infer_network_set_dim_name(dst, id, d, t->dim_names[d]);
  }
  InferTensorId *in = NULL;
  const char **names = NULL;
  for (int32_t l = 0; l < src->n_layers && !st; l++) {
    const InferLayer *layer = &src->layers[l];
    free(in);
    free(names);
    in = calloc((size_t)layer->n_inputs + 1, sizeof *in);
    names = calloc((size_t)layer->n_outputs + 1, sizeof *names);
    if (!in || !names) {
      st = oom();
      break;
    }
    for (int i = 0; i < layer->n_inputs && !st; i++) {
      in[i] = INFER_NO_TENSOR;
      if (layer->inputs[i] != INFER_NO_TENSOR) st = map_tensor(dst, src, layer->inputs[i], &in[i]);
    }
    for (int i = 0; i < layer->n_outputs; i++) names[i] = src->tensors[layer->outputs[i]].name;
    if (!st)
      st = infer_network_add_layer(dst, layer->name, layer->op, &layer->params, layer->n_inputs,
                                   in, layer->n_outputs, names, NULL);
  }
  free(in);
  free(names);
  for (int32_t i = 0; i < src->n_outputs && !st; i++) {
    InferTensorId t;
    st = map_tensor(dst, src, src->outputs[i], &t);
    if (!st) st = infer_network_mark_output(dst, t);
  }
  if (st) {
    infer_network_release(dst);
    return infer_status_prefix(st, "copying the network");
  }
  *out = dst;
  return NULL;
}

/* Activations: graph inputs and the outputs of layers fed (through data,
 * not only through shapes) by an activation; constants and what is
 * computed from constants alone are weights. dtypes come from a shape pass
 * with dynamic dims bound to 1. */
InferStatus *infer_calib_network_tensors(const InferNetwork *net, const char ***names, int *n) {
  if (!net || !names || !n)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "calibration: no network or output");
  *names = NULL;
  *n = 0;
  size_t nt = (size_t)net->n_tensors + 1;
  bool *active = calloc(nt, sizeof *active);
  InferShape *shapes = calloc((size_t)net->n_inputs + 1, sizeof *shapes);
  const char **list = calloc(nt, sizeof *list);
  if (!active || !shapes || !list) {
    free(active);
    free(shapes);
    free(list);
    return oom();
  }
  for (int32_t i = 0; i < net->n_inputs; i++) {
    shapes[i] = net->tensors[net->inputs[i]].shape;
    for (int d = 0; d < shapes[i].rank; d++)
      if (shapes[i].d[d] < 0) shapes[i].d[d] = 1;
    active[net->inputs[i]] = true;
  }
  InferShapePass pass;
  InferStatus *st = infer_shape_pass_init(&pass, net);
  if (!st) {
    InferShapePassOptions opt = {shapes, true, 4096, 0, true, false};
    st = infer_shape_pass_run(&pass, &opt);
    if (st) infer_shape_pass_free(&pass);
  }
  if (st) {
    free(active);
    free(shapes);
    free(list);
    return infer_status_prefix(st, "calibration: inferring tensor types");
  }
  int count = 0;
  for (int32_t i = 0; i < net->n_inputs; i++) {
    InferDType dt = net->tensors[net->inputs[i]].dtype;
    if (dt == INFER_DTYPE_F32 || dt == INFER_DTYPE_F16)
      list[count++] = net->tensors[net->inputs[i]].name;
  }
  for (int32_t l = 0; l < net->n_layers; l++) {
    const InferLayer *layer = &net->layers[l];
    const InferOpInfo *info = infer_op_info(layer->op);
    bool fed = false;
    if (!(info && (info->flags & INFER_OPF_READS_SHAPE_ONLY)))
      for (int i = 0; i < layer->n_inputs; i++)
        if (layer->inputs[i] != INFER_NO_TENSOR && active[layer->inputs[i]]) fed = true;
    if (!fed) continue;
    for (int o = 0; o < layer->n_outputs; o++) {
      InferTensorId t = layer->outputs[o];
      active[t] = true;
      InferDType dt = pass.views[t].dtype;
      if (dt == INFER_DTYPE_F32 || dt == INFER_DTYPE_F16) list[count++] = net->tensors[t].name;
    }
  }
  infer_shape_pass_free(&pass);
  free(active);
  free(shapes);
  *names = list;
  *n = count;
  return NULL;
}
