/* The shape pass: infers every tensor's dtype and shape in layer order and
 * computes on the host the values that shapes depend on (the Shape -> Gather
 * -> Concat -> Reshape chains exporters emit), plus constant sub-graphs. */
#include <stdlib.h>
#include <string.h>

#include "cpu_kernels.h"
#include "engine_internal.h"
#include "op_table.h"

InferStatus *infer_shape_pass_init(InferShapePass *pass, const InferNetwork *net) {
  memset(pass, 0, sizeof *pass);
  pass->net = net;
  size_t n = (size_t)(net->n_tensors ? net->n_tensors : 1);
  pass->views = calloc(n, sizeof *pass->views);
  pass->owned = calloc(n, sizeof *pass->owned);
  pass->dynamic = calloc(n, sizeof *pass->dynamic);
  pass->evaluated = calloc((size_t)(net->n_layers ? net->n_layers : 1), sizeof *pass->evaluated);
  if (!pass->views || !pass->owned || !pass->dynamic || !pass->evaluated) {
    infer_shape_pass_free(pass);
    return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "shape inference: out of memory");
  }
  return NULL;
}

void infer_shape_pass_free(InferShapePass *pass) {
  if (pass->owned && pass->net)
    for (int32_t t = 0; t < pass->net->n_tensors; t++) free(pass->owned[t]);
  free(pass->views);
  free(pass->owned);
  free(pass->dynamic);
  free(pass->evaluated);
  memset(pass, 0, sizeof *pass);
}

void infer_layer_call(const InferLayer *layer, const InferTensorView *views, InferTensorView *in,
                      InferTensorView *out, InferOpCall *call) {
  for (int i = 0; i < layer->n_inputs; i++) {
    if (layer->inputs[i] == INFER_NO_TENSOR)
      memset(&in[i], 0, sizeof in[i]);
    else
      in[i] = views[layer->inputs[i]];
  }
  for (int i = 0; i < layer->n_outputs; i++) out[i] = views[layer->outputs[i]];
  call->op = layer->op;
  call->node = layer->name;
  call->params = &layer->params;
  call->in = in;
  call->n_in = layer->n_inputs;
  call->out = out;
  call->n_out = layer->n_outputs;
  call->flags = 0;
}

/* Whether every input the layer reads has a host value. */
static bool inputs_have_values(const InferLayer *layer, const InferTensorView *in, uint32_t flags) {
  for (int i = 0; i < layer->n_inputs; i++) {
    if (in[i].dtype == INFER_DTYPE_UNDEFINED) continue;
    if (flags & INFER_OPF_READS_SHAPE_ONLY) {
      if (!infer_shape_is_static(&in[i].shape)) return false;
    } else if (!in[i].data && infer_shape_numel(&in[i].shape) != 0) {
      return false;
    }
  }
  return true;
}

static InferStatus *evaluate_layer(InferShapePass *pass, const InferLayer *layer,
                                   InferOpCall *call) {
  const InferCpuKernel *k = infer_cpu_kernel(layer->op);
  for (int i = 0; i < layer->n_outputs; i++) {
    int64_t n = infer_shape_numel(&call->out[i].shape);
    size_t bytes = (size_t)(n > 0 ? n : 0) * infer_dtype_size(call->out[i].dtype);
    call->out[i].data = malloc(bytes ? bytes : 1);
    if (!call->out[i].data) {
      for (int j = 0; j < i; j++) free(call->out[j].data);
      return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "layer '%s': out of memory", layer->name);
    }
  }
  InferStatus *st = k->supports(call);
  if (!st) st = k->run(call);
  if (st) {
    for (int i = 0; i < layer->n_outputs; i++) {
      free(call->out[i].data);
      call->out[i].data = NULL;
    }
    return st;
  }
  for (int i = 0; i < layer->n_outputs; i++) {
    InferTensorId t = layer->outputs[i];
    free(pass->owned[t]);
    pass->owned[t] = call->out[i].data;
  }
  return NULL;
}

InferStatus *infer_shape_pass_run(InferShapePass *pass, const InferShapePassOptions *opt) {
  const InferNetwork *net = pass->net;
  for (int32_t t = 0; t < net->n_tensors; t++) {
    const InferTensorDef *def = &net->tensors[t];
    free(pass->owned[t]);
    pass->owned[t] = NULL;
    pass->dynamic[t] = false;
    memset(&pass->views[t], 0, sizeof pass->views[t]);
    if (def->data || (def->producer < 0 && !def->is_input)) {
      pass->views[t].dtype = def->dtype;
      pass->views[t].shape = def->shape;
      pass->views[t].data = def->data;
    }
  }
  for (int32_t i = 0; i < net->n_inputs; i++) {
    InferTensorView *v = &pass->views[net->inputs[i]];
    v->dtype = net->tensors[net->inputs[i]].dtype;
    v->shape = opt->input_shapes ? opt->input_shapes[i] : net->tensors[net->inputs[i]].shape;
  }
  InferTensorView in[256], out[256];
  for (int32_t l = 0; l < net->n_layers; l++) {
    const InferLayer *layer = &net->layers[l];
    const InferOpInfo *info = infer_op_info(layer->op);
    pass->evaluated[l] = false;
    if (layer->n_inputs > 256 || layer->n_outputs > 256)
      return infer_status_new(INFER_ERR_UNSUPPORTED, "layer '%s': more than 256 inputs or outputs",
                              layer->name);
    InferOpCall call;
    infer_layer_call(layer, pass->views, in, out, &call);
    bool unknown_input = false;
    for (int i = 0; i < layer->n_inputs; i++)
      if (layer->inputs[i] != INFER_NO_TENSOR && in[i].dtype == INFER_DTYPE_UNDEFINED)
        unknown_input = true;
    for (int i = 0; i < layer->n_outputs; i++) memset(&out[i], 0, sizeof out[i]);
    bool value_missing = false;
    for (int i = 0; i < layer->n_inputs; i++)
      if ((info->shape_inputs & (1u << i)) && in[i].dtype != INFER_DTYPE_UNDEFINED && !in[i].data &&
          infer_shape_numel(&in[i].shape) != 0)
        value_missing = true;
    if (opt->defer_data_dependent && (unknown_input || value_missing)) continue;
    InferStatus *st = unknown_input ? NULL : info->infer_shape(&call);
    if (st || unknown_input) {
      if (opt->tolerate_unknown) {
        infer_status_free(st);
        continue;
      }
      if (!st)
        st = infer_status_new(INFER_ERR_INTERNAL, "layer '%s': an input's shape is unknown",
                              layer->name);
      return st;
    }
    bool dynamic = (info->flags & INFER_OPF_READS_SHAPE_ONLY) && opt->has_dynamic_dims;
    for (int i = 0; i < layer->n_inputs; i++)
      if (layer->inputs[i] != INFER_NO_TENSOR && pass->dynamic[layer->inputs[i]]) dynamic = true;
    for (int i = 0; i < layer->n_outputs; i++) {
      out[i].data = NULL;
      pass->views[layer->outputs[i]] = out[i];
      pass->dynamic[layer->outputs[i]] = dynamic;
    }
    /* NO_FOLD: a Dequantize of weights stays a layer for the quantize pass */
    if ((info->flags & (INFER_OPF_DATA_DEPENDENT_SHAPE | INFER_OPF_NO_FOLD)) ||
        !inputs_have_values(layer, in, info->flags))
      continue;
    size_t elems = 0, bytes = 0;
    for (int i = 0; i < layer->n_outputs; i++) {
      int64_t n = infer_shape_numel(&out[i].shape);
      if (n < 0) goto next_layer;
      elems += (size_t)n;
      bytes += (size_t)n * infer_dtype_size(out[i].dtype);
    }
    if (elems <= opt->small_value_elems || (!dynamic && bytes <= opt->fold_bytes)) {
      st = evaluate_layer(pass, layer, &call);
      if (st) {
        /* an op the CPU cannot compute stays a layer; the build reports it */
        infer_status_free(st);
        continue;
      }
      for (int i = 0; i < layer->n_outputs; i++)
        pass->views[layer->outputs[i]].data = pass->owned[layer->outputs[i]];
      pass->evaluated[l] = true;
    }
  next_layer:;
  }
  return NULL;
}
