/* Execution contexts: per-context shapes and activation memory, and the
 * layer-by-layer executor. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "memory_plan.h"
#include "op_table.h"

struct InferContext {
  InferEngine *engine;
  const InferBackend *backend;
  InferShape *input_shapes;   /* per engine input */
  void **addresses;           /* per io entry, set by the caller */
  InferTensorView *views;     /* per tensor, as of the last run */
  void **buffers;             /* per tensor, context-owned memory */
  size_t *capacity;
  const InferMemoryPlan *plan; /* shared by the engine's contexts; NULL: per-tensor buffers */
  void *arena;                 /* this context's activations, laid out by plan */
  bool ran;
  bool profiling;
  double *layer_ms;           /* per layer, while profiling */
  int64_t *layer_calls;
};

InferStatus *infer_context_create(InferEngine *engine, InferContext **out) {
  *out = NULL;
  InferContext *c = calloc(1, sizeof *c);
  size_t nt = (size_t)engine->net->n_tensors + 1;
  if (c) {
    c->engine = engine;
    c->backend = infer_backend_get(engine->backend);
    c->input_shapes = calloc((size_t)engine->n_inputs + 1, sizeof *c->input_shapes);
    c->addresses = calloc((size_t)engine->n_io + 1, sizeof *c->addresses);
    c->views = calloc(nt, sizeof *c->views);
    c->buffers = calloc(nt, sizeof *c->buffers);
    c->capacity = calloc(nt, sizeof *c->capacity);
    c->layer_ms = calloc((size_t)engine->net->n_layers + 1, sizeof *c->layer_ms);
    c->layer_calls = calloc((size_t)engine->net->n_layers + 1, sizeof *c->layer_calls);
  }
  if (!c || !c->input_shapes || !c->addresses || !c->views || !c->buffers || !c->capacity ||
      !c->layer_ms || !c->layer_calls) {
    infer_context_release(c);
    return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "context: out of memory");
  }
  memcpy(c->input_shapes, engine->input_build_shapes, sizeof(InferShape) * (size_t)engine->n_inputs);
  InferStatus *st = infer_engine_memory_plan(engine, &c->plan);
  if (!st && c->plan && c->plan->arena_bytes) st = c->backend->alloc(c->plan->arena_bytes, &c->arena);
  if (st) {
    infer_context_release(c);
    return st;
  }
  *out = c;
  return NULL;
}

void infer_context_release(InferContext *c) {
  if (!c) return;
  if (c->buffers && c->backend)
    for (int32_t t = 0; t < c->engine->net->n_tensors; t++) c->backend->free(c->buffers[t]);
  if (c->backend) c->backend->free(c->arena);
  free(c->input_shapes);
  free(c->addresses);
  free(c->views);
  free(c->buffers);
  free(c->capacity);
  free(c->layer_ms);
  free(c->layer_calls);
  free(c);
}

void infer_context_set_profiling(InferContext *c, bool enabled) {
  if (enabled && !c->profiling) {
    memset(c->layer_ms, 0, sizeof *c->layer_ms * (size_t)c->engine->net->n_layers);
    memset(c->layer_calls, 0, sizeof *c->layer_calls * (size_t)c->engine->net->n_layers);
  }
  c->profiling = enabled;
}

int infer_context_profile_size(const InferContext *c) { return c->engine->net->n_layers; }

InferStatus *infer_context_profile_entry(const InferContext *c, int layer, double *total_ms,
                                         int64_t *calls) {
  if (layer < 0 || layer >= c->engine->net->n_layers)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "profile: no layer %d", layer);
  *total_ms = c->layer_ms[layer];
  *calls = c->layer_calls[layer];
  return NULL;
}

size_t infer_context_memory_bytes(const InferContext *c) {
  size_t total = c->arena ? c->plan->arena_bytes : 0;
  for (int32_t t = 0; t < c->engine->net->n_tensors; t++) total += c->capacity[t];
  return total;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int io_index(InferContext *c, const char *name, InferStatus **st) {
  int i = name ? infer_engine_io_index(c->engine, name) : -1;
  if (i < 0)
    *st = infer_status_new(INFER_ERR_INVALID_ARGUMENT, "the engine has no input or output named '%s'",
                           name ? name : "(null)");
  return i;
}

InferStatus *infer_context_set_input_shape(InferContext *c, const char *name,
                                           const InferShape *shape) {
  InferStatus *st = NULL;
  int i = io_index(c, name, &st);
  if (st) return st;
  if (i >= c->engine->n_inputs)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "'%s' is an output, not an input", name);
  const InferShape *decl = &c->engine->io_shapes[i];
  if (shape->rank != decl->rank)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "input '%s': rank %d given, %d expected",
                            name, shape->rank, decl->rank);
  const InferShape *lo = &c->engine->input_min_shapes[i], *hi = &c->engine->input_max_shapes[i];
  for (int d = 0; d < decl->rank; d++) {
    if (shape->d[d] < lo->d[d] || shape->d[d] > hi->d[d]) {
      char a[128], b[128], m[128];
      return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                              "input '%s': shape %s is outside the engine's profile (min %s, max %s)",
                              name, infer_shape_str(shape, a, sizeof a), infer_shape_str(lo, b, sizeof b),
                              infer_shape_str(hi, m, sizeof m));
    }
    if (shape->d[d] < 0 || (decl->d[d] >= 0 && shape->d[d] != decl->d[d])) {
      char a[128], b[128];
      return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "input '%s': shape %s does not fit %s",
                              name, infer_shape_str(shape, a, sizeof a),
                              infer_shape_str(decl, b, sizeof b));
    }
  }
  c->input_shapes[i] = *shape;
  c->ran = false;
  return NULL;
}

InferStatus *infer_context_get_tensor_shape(InferContext *c, const char *name, InferShape *out) {
  InferStatus *st = NULL;
  int i = io_index(c, name, &st);
  if (st) return st;
  if (i < c->engine->n_inputs) {
    *out = c->input_shapes[i];
    return NULL;
  }
  if (c->ran) {
    *out = c->views[c->engine->io[i]].shape;
    return NULL;
  }
  InferShapePass pass;
  INFER_TRY(infer_shape_pass_init(&pass, c->engine->net));
  InferShapePassOptions opt = {c->input_shapes, true, 4096, 0, false, false};
  st = infer_shape_pass_run(&pass, &opt);
  if (!st) *out = pass.views[c->engine->io[i]].shape;
  infer_shape_pass_free(&pass);
  return st;
}

InferStatus *infer_context_set_tensor_address(InferContext *c, const char *name, void *data) {
  InferStatus *st = NULL;
  int i = io_index(c, name, &st);
  if (st) return st;
  c->addresses[i] = data;
  return NULL;
}

static InferStatus *ensure_buffer(InferContext *c, InferTensorId t, size_t bytes) {
  if (bytes <= c->capacity[t] && c->buffers[t]) return NULL;
  c->backend->free(c->buffers[t]);
  c->buffers[t] = NULL;
  c->capacity[t] = 0;
  INFER_TRY(c->backend->alloc(bytes, &c->buffers[t]));
  c->capacity[t] = bytes;
  return NULL;
}

static size_t view_bytes(const InferTensorView *v) {
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
    if (!v->data && view_bytes(v) > 0)
      return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "input '%s' has no address set",
                              net->tensors[t].name);
  }
  return NULL;
}

static int output_slot(const InferContext *c, InferTensorId t) {
  for (int32_t i = c->engine->n_inputs; i < c->engine->n_io; i++)
    if (c->engine->io[i] == t) return i;
  return -1;
}

static InferStatus *run_layer(InferContext *c, const InferLayer *layer, InferStream *stream) {
  InferTensorView in[256], out[256];
  InferOpCall call;
  infer_layer_call(layer, c->views, in, out, &call);
  for (int i = 0; i < layer->n_outputs; i++) memset(&out[i], 0, sizeof out[i]);
  /* shapes again from the actual inputs: data-dependent sizes flow on */
  INFER_TRY(infer_op_info(layer->op)->infer_shape(&call));
  for (int i = 0; i < layer->n_outputs; i++) {
    InferTensorId t = layer->outputs[i];
    int slot = output_slot(c, t);
    size_t bytes = view_bytes(&out[i]);
    if (slot >= 0 && c->addresses[slot]) {
      out[i].data = c->addresses[slot];
    } else if (c->arena && c->plan->offset[t] >= 0 && bytes <= c->plan->size[t]) {
      out[i].data = (char *)c->arena + c->plan->offset[t];
    } else {
      INFER_TRY(ensure_buffer(c, t, bytes));
      out[i].data = c->buffers[t];
    }
  }
  INFER_TRY(c->backend->run_layer(&call, stream));
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
    size_t bytes = view_bytes(v);
    void *dst = c->addresses[i];
    if (!dst) {
      INFER_TRY(ensure_buffer(c, t, bytes));
      dst = c->buffers[t];
    }
    if (bytes && dst != v->data) memmove(dst, v->data, bytes);
    v->data = dst;
  }
  return NULL;
}

InferStatus *infer_context_enqueue(InferContext *c, InferStream *stream) {
  c->ran = false;
  INFER_TRY(bind_sources(c));
  const InferNetwork *net = c->engine->net;
  for (int32_t l = 0; l < net->n_layers; l++) {
    double t0 = c->profiling ? now_ms() : 0;
    INFER_TRY(run_layer(c, &net->layers[l], stream));
    if (c->profiling) {
      /* the CPU backend runs synchronously, so wall time is the layer's time */
      c->layer_ms[l] += now_ms() - t0;
      c->layer_calls[l]++;
    }
  }
  INFER_TRY(copy_passthrough_outputs(c));
  c->ran = true;
  return NULL;
}

InferStatus *infer_context_get_output(InferContext *c, const char *name, InferTensorView *out) {
  InferStatus *st = NULL;
  int i = io_index(c, name, &st);
  if (st) return st;
  if (!c->ran)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "output '%s': the context has not run",
                            name);
  *out = c->views[c->engine->io[i]];
  return NULL;
}

InferStatus *infer_stream_create(InferEngine *engine, InferStream **out) {
  *out = calloc(1, sizeof **out);
  if (!*out) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "stream: out of memory");
  (*out)->engine = engine;
  return NULL;
}

InferStatus *infer_stream_synchronize(InferStream *stream) {
  if (!stream) return NULL;
  return infer_backend_get(stream->engine->backend)->synchronize(stream);
}

void infer_stream_release(InferStream *stream) { free(stream); }
