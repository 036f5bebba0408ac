/* The executor: runs an engine's layers in order for a context. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "context_internal.h"
#include "op_table.h"

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

InferStatus *infer_ctx_ensure_buffer(InferContext *c, InferTensorId t, size_t bytes) {
  if (bytes <= c->capacity[t] && c->buffers[t]) return NULL;
  c->backend->free(c->buffers[t]);
  c->buffers[t] = NULL;
  c->capacity[t] = 0;
  INFER_TRY(c->backend->alloc(bytes, &c->buffers[t]));
  c->capacity[t] = bytes;
  return NULL;
}

size_t infer_view_bytes(const InferTensorView *v) {
  int64_t n = infer_shape_numel(&v->shape);
  return (size_t)(n > 0 ? n : 0) * infer_dtype_size(v->dtype);
}

/* Binds inputs and constants to their memory. */
static InferStatus *bind_sources(InferContext *c) {
  const InferNetwork *net = c->engine->net;
  for (int32_t t = 0; t < net->n_tensors; t++) {
    const InferTensorDef *def = &net->tensors[t];
    memset(&c->views[t], 0, sizeof c->views[t]);
    if (def->producer < 0 && !def->is_input) {
      c->views[t].dtype = def->dtype;
      c->views[t].shape = def->shape;
      c->views[t].data = def->data;
    }
  }
  for (int32_t i = 0; i < c->engine->n_inputs; i++) {
    InferTensorId t = c->engine->io[i];
    InferTensorView *v = &c->views[t];
    v->dtype = net->tensors[t].dtype;
    v->shape = c->input_shapes[i];
    v->data = c->addresses[i];
    if (!v->data && infer_view_bytes(v) > 0)
      return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "input '%s' has no address set",
                              net->tensors[t].name);
  }
  return NULL;
}

int infer_ctx_output_slot(const InferContext *c, InferTensorId t) {
  for (int32_t i = c->engine->n_inputs; i < c->engine->n_io; i++)
    if (c->engine->io[i] == t) return i;
  return -1;
}

/* A Concat that concat elimination placed in place: its inputs were
 * written into their slices by their producers; an input found elsewhere
 * is copied (memmove: the bytes may overlap if shapes ever differ from the
 * plan's). *ran: whether anything had to be copied. */
static bool run_elided(InferContext *c, int32_t l, const InferOpCall *call, bool *ran) {
  size_t offsets[256];
  if (!c->arena || call->n_in > 256 || !infer_concat_elided(c->plan, l, call, offsets))
    return false;
  *ran = false;
  for (int k = 0; k < call->n_in; k++) {
    char *dst = (char *)call->out[0].data + offsets[k];
    size_t bytes = infer_view_bytes(&call->in[k]);
    if (bytes && call->in[k].data != dst) {
      memmove(dst, call->in[k].data, bytes);
      *ran = true;
    }
  }
  return true;
}

/* Runs layer l; *ran = false when it had nothing to do (an eliminated Concat). */
static InferStatus *run_layer(InferContext *c, int32_t l, InferStream *stream, bool *ran) {
  const InferLayer *layer = &c->engine->net->layers[l];
  InferTensorView in[256], out[256];
  InferOpCall call;
  infer_layer_call(layer, c->views, in, out, &call);
  for (int i = 0; i < layer->n_outputs; i++) memset(&out[i], 0, sizeof out[i]);
  /* shapes again from the actual inputs: data-dependent sizes flow on */
  INFER_TRY(infer_op_info(layer->op)->infer_shape(&call));
  for (int i = 0; i < layer->n_outputs; i++) {
    InferTensorId t = layer->outputs[i];
    int slot = infer_ctx_output_slot(c, t);
    size_t bytes = infer_view_bytes(&out[i]);
    if (slot >= 0 && c->addresses[slot]) {
      out[i].data = c->addresses[slot];
    } else if (c->arena && c->plan->offset[t] >= 0 && bytes <= c->plan->size[t]) {
      out[i].data = (char *)c->arena + c->plan->offset[t];
    } else {
      INFER_TRY(infer_ctx_ensure_buffer(c, t, bytes));
      out[i].data = c->buffers[t];
    }
  }
  *ran = true;
  if (!run_elided(c, l, &call, ran)) INFER_TRY(c->backend->run_layer(&call, stream));
  for (int i = 0; i < layer->n_outputs; i++) c->views[layer->outputs[i]] = out[i];
  return NULL;
}

/* Outputs that no layer produces (a constant or an input passed through). */
static InferStatus *copy_passthrough_outputs(InferContext *c) {
  const InferNetwork *net = c->engine->net;
  for (int32_t i = c->engine->n_inputs; i < c->engine->n_io; i++) {
    InferTensorId t = c->engine->io[i];
    if (net->tensors[t].producer >= 0) continue;
    InferTensorView *v = &c->views[t];
    size_t bytes = infer_view_bytes(v);
    void *dst = c->addresses[i];
    if (!dst) {
      INFER_TRY(infer_ctx_ensure_buffer(c, t, bytes));
      dst = c->buffers[t];
    }
    if (bytes && dst != v->data) memmove(dst, v->data, bytes);
    v->data = dst;
  }
  return NULL;
}

/* Host-memory backends (the CPU): every tensor's data is readable, so shape
 * functions see real values and each layer runs as it comes. */
static InferStatus *execute_host(InferContext *c, InferStream *stream) {
  INFER_TRY(bind_sources(c));
  const InferNetwork *net = c->engine->net;
  for (int32_t l = 0; l < net->n_layers; l++) {
    double t0 = c->profiling ? now_ms() : 0;
    bool ran;
    INFER_TRY(run_layer(c, l, stream, &ran));
    /* a layer that did nothing is not a call: its profile keeps 0 calls */
    if (c->profiling && ran) {
      /* the CPU backend runs synchronously, so wall time is the layer's time */
      c->layer_ms[l] += now_ms() - t0;
      c->layer_calls[l]++;
    }
  }
  return copy_passthrough_outputs(c);
}


InferStatus *infer_context_execute(InferContext *c, InferStream *stream) {
  if (c->backend->host_memory) return execute_host(c, stream);
  return infer_context_execute_device(c, stream);
}
