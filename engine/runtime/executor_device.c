/* The executor for device backends (CUDA). Tensors live in device memory,
 * so shape functions cannot read them: values that shapes depend on (shape
 * tensors) are computed on the host with the CPU kernels from constants and
 * bound shapes, and only uploaded when a device layer reads them as data.
 * Device kernels receive device pointers for data inputs and host pointers
 * for shape inputs (the op table's shape_inputs bits). Nothing here waits
 * for the device: copies and kernels are queued on the stream. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "context_internal.h"
#include "cpu_kernels.h"
#include "op_table.h"

/* Outputs this small are computed on the host when their inputs are known there. */
#define HOST_VALUE_LIMIT 4096

static InferStatus *ensure_host(InferContext *c, InferTensorId t, size_t bytes) {
  if (bytes <= c->host_capacity[t] && c->host_buffers[t]) return NULL;
  void *p = realloc(c->host_buffers[t], bytes ? bytes : 1);
  if (!p) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "context: out of host memory");
  c->host_buffers[t] = p;
  c->host_capacity[t] = bytes;
  return NULL;
}

static InferStatus *bind_sources(InferContext *c) {
  const InferNetwork *net = c->engine->net;
  for (int32_t t = 0; t < net->n_tensors; t++) {
    const InferTensorDef *def = &net->tensors[t];
    memset(&c->views[t], 0, sizeof c->views[t]);
    c->host_values[t] = NULL;
    if (def->producer < 0 && !def->is_input) {
      c->views[t].dtype = def->dtype;
      c->views[t].shape = def->shape;
      c->views[t].data = c->backend->constant_data(c->engine, t);
      c->host_values[t] = def->data;
    }
  }
  for (int32_t i = 0; i < c->engine->n_inputs; i++) {
    InferTensorId t = c->engine->io[i];
    InferTensorView *v = &c->views[t];
    v->dtype = net->tensors[t].dtype;
    v->shape = c->input_shapes[i];
    v->data = c->addresses[i];
    size_t bytes = infer_view_bytes(v);
    if (!v->data && bytes > 0)
      return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "input '%s' has no address set",
                              net->tensors[t].name);
    if (infer_engine_io_is_host(c->engine, i)) {
      /* a shape tensor: a host value from here on, uploaded only if a
       * device layer reads it as data; copied, so the caller may reuse it */
      INFER_TRY(ensure_host(c, t, bytes));
      if (bytes) memcpy(c->host_buffers[t], v->data, bytes);
      c->host_values[t] = c->host_buffers[t];
      v->data = NULL;
    }
  }
  return NULL;
}

/* Whether every input the layer reads has a host value. */
static bool host_computable(const InferContext *c, const InferLayer *layer, uint32_t flags) {
  for (int i = 0; i < layer->n_inputs; i++) {
    InferTensorId t = layer->inputs[i];
    if (t < 0) continue;
    if (flags & INFER_OPF_READS_SHAPE_ONLY) continue;
    if (!c->host_values[t] && infer_view_bytes(&c->views[t]) > 0) return false;
  }
  return true;
}

static InferStatus *run_on_host(InferContext *c, const InferLayer *layer, InferOpCall *call) {
  for (int i = 0; i < layer->n_outputs; i++) {
    InferTensorId t = layer->outputs[i];
    INFER_TRY(ensure_host(c, t, infer_view_bytes(&call->out[i])));
    call->out[i].data = c->host_buffers[t];
  }
  const InferCpuKernel *k = infer_cpu_kernel(layer->op);
  INFER_TRY(k->supports(call));
  INFER_TRY(k->run(call));
  for (int i = 0; i < layer->n_outputs; i++) {
    InferTensorId t = layer->outputs[i];
    c->views[t] = call->out[i];
    c->views[t].data = NULL; /* no device copy until a device layer reads it */
    c->host_values[t] = c->host_buffers[t];
  }
  return NULL;
}

/* A host-only value read as data by a device layer goes up first. */
static InferStatus *upload(InferContext *c, InferTensorId t, InferStream *stream) {
  size_t bytes = infer_view_bytes(&c->views[t]);
  /* a graph would keep reading host memory that later runs rewrite */
  if (c->capturing)
    return infer_status_new(INFER_ERR_UNSUPPORTED, "a host value cannot be captured in a graph");
  INFER_TRY(infer_ctx_ensure_buffer(c, t, bytes));
  INFER_TRY(c->backend->copy(c->buffers[t], c->host_values[t], bytes, INFER_COPY_HOST_TO_DEVICE,
                             stream));
  c->views[t].data = c->buffers[t];
  return NULL;
}

/* A Concat that concat elimination placed in place (see executor.c): only
 * inputs not already at their slice are copied, device to device (an input
 * computed on the host was uploaded above). */
static InferStatus *run_elided(InferContext *c, int32_t l, const InferOpCall *call,
                               InferStream *stream, bool *elided, bool *ran) {
  size_t offsets[256];
  *elided = c->arena && call->n_in <= 256 && infer_concat_elided(c->plan, l, call, offsets);
  for (int k = 0; *elided && k < call->n_in; k++) {
    char *dst = (char *)call->out[0].data + offsets[k];
    size_t bytes = infer_view_bytes(&call->in[k]);
    if (!bytes || call->in[k].data == dst) continue;
    INFER_TRY(c->backend->copy(dst, call->in[k].data, bytes, INFER_COPY_DEVICE_TO_DEVICE, stream));
    *ran = true;
  }
  return NULL;
}

static InferStatus *run_on_device(InferContext *c, int32_t l, uint32_t shape_inputs,
                                  InferOpCall *call, InferStream *stream, bool *ran) {
  const InferLayer *layer = &c->engine->net->layers[l];
  InferTensorView *in = (InferTensorView *)call->in;
  for (int i = 0; i < layer->n_inputs; i++) {
    InferTensorId t = layer->inputs[i];
    if (t < 0) continue;
    if (shape_inputs & (1u << i)) {
      in[i].data = c->host_values[t];
      continue;
    }
    if (!c->views[t].data && c->host_values[t] && infer_view_bytes(&c->views[t]) > 0)
      INFER_TRY(upload(c, t, stream));
    in[i].data = c->views[t].data;
  }
  for (int i = 0; i < layer->n_outputs; i++) {
    InferTensorId t = layer->outputs[i];
    int slot = infer_ctx_output_slot(c, t);
    size_t bytes = infer_view_bytes(&call->out[i]);
    if (slot >= 0 && c->addresses[slot]) {
      call->out[i].data = c->addresses[slot];
    } else if (c->arena && c->plan->offset[t] >= 0 && bytes <= c->plan->size[t]) {
      call->out[i].data = (char *)c->arena + c->plan->offset[t];
    } else {
      INFER_TRY(infer_ctx_ensure_buffer(c, t, bytes));
      call->out[i].data = c->buffers[t];
    }
  }
  bool elided = false;
  *ran = false;
  INFER_TRY(run_elided(c, l, call, stream, &elided, ran));
  if (!elided) {
    INFER_TRY(c->backend->run_layer(call, stream));
    *ran = true;
  }
  for (int i = 0; i < layer->n_outputs; i++) c->views[layer->outputs[i]] = call->out[i];
  return NULL;
}

/* Runs layer l; *ran = false when it had nothing to do (an eliminated Concat). */
static InferStatus *run_layer(InferContext *c, int32_t l, InferStream *stream, bool *ran) {
  const InferLayer *layer = &c->engine->net->layers[l];
  const InferOpInfo *info = infer_op_info(layer->op);
  *ran = true;
  InferTensorView in[256], out[256];
  InferOpCall call;
  infer_layer_call(layer, c->views, in, out, &call);
  if (c->engine->precisions & INFER_ENGINE_TF32) call.flags |= INFER_CALL_TF32;
  if (c->engine->precisions & INFER_ENGINE_INT8_EXACT) call.flags |= INFER_CALL_INT8_EXACT;
  /* shape functions see host values only */
  for (int i = 0; i < layer->n_inputs; i++)
    if (layer->inputs[i] >= 0) in[i].data = c->host_values[layer->inputs[i]];
  for (int i = 0; i < layer->n_outputs; i++) memset(&out[i], 0, sizeof out[i]);
  InferStatus *st = info->infer_shape(&call);
  if (st)
    return infer_status_prefix(st, "on the %s backend (shapes may only depend on input shapes "
                                   "and constants)", c->backend->name);
  size_t elems = 0;
  for (int i = 0; i < layer->n_outputs; i++) {
    int64_t n = infer_shape_numel(&out[i].shape);
    elems += n > 0 ? (size_t)n : 0;
  }
  bool on_host = host_computable(c, layer, info->flags) && elems <= HOST_VALUE_LIMIT &&
                 !(info->flags & INFER_OPF_DATA_DEPENDENT_SHAPE);
  if (on_host) return run_on_host(c, layer, &call);
  return run_on_device(c, l, info->shape_inputs, &call, stream, ran);
}

/* Outputs that no device layer wrote: constants, inputs passed through, and
 * values computed on the host. */
static InferStatus *place_outputs(InferContext *c, InferStream *stream) {
  for (int32_t i = c->engine->n_inputs; i < c->engine->n_io; i++) {
    InferTensorId t = c->engine->io[i];
    InferTensorView *v = &c->views[t];
    size_t bytes = infer_view_bytes(v);
    bool on_device = v->data != NULL;
    if (on_device && (!c->addresses[i] || v->data == c->addresses[i])) continue;
    void *dst = c->addresses[i];
    if (!dst) {
      INFER_TRY(infer_ctx_ensure_buffer(c, t, bytes));
      dst = c->buffers[t];
    }
    if (bytes && !on_device && c->capturing)
      return infer_status_new(INFER_ERR_UNSUPPORTED, "a host value cannot be captured in a graph");
    if (bytes)
      INFER_TRY(c->backend->copy(dst, on_device ? v->data : c->host_values[t], bytes,
                                 on_device ? INFER_COPY_DEVICE_TO_DEVICE : INFER_COPY_HOST_TO_DEVICE,
                                 stream));
    v->data = dst;
  }
  return NULL;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

InferStatus *infer_context_execute_device(InferContext *c, InferStream *stream) {
  INFER_TRY(bind_sources(c));
  const InferNetwork *net = c->engine->net;
  /* profiling waits for each layer: the times are per layer, the run is slower */
  if (c->profiling) INFER_TRY(c->backend->synchronize(stream));
  for (int32_t l = 0; l < net->n_layers; l++) {
    double t0 = c->profiling ? now_ms() : 0;
    bool ran;
    InferStatus *st = run_layer(c, l, stream, &ran);
    /* a layer that did nothing is not a call: its profile keeps 0 calls */
    if (!st && c->profiling && ran) {
      st = c->backend->synchronize(stream);
      c->layer_ms[l] += now_ms() - t0;
      c->layer_calls[l]++;
    }
    if (st) return st;
  }
  return place_outputs(c, stream);
}
