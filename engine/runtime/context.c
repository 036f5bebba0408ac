/* Execution contexts: per-context shapes and activation memory, and the
 * layer-by-layer executor. */
#include <stdlib.h>
#include <string.h>

#include "context_internal.h"
#include "op_table.h"



InferStatus *infer_context_create(InferEngine *engine, InferContext **out) {
  *out = NULL;
  InferContext *c = calloc(1, sizeof *c);
  size_t nt = (size_t)engine->net->n_tensors + 1;
  if (c) {
    c->engine = engine;
    c->backend = infer_backend_get(engine->backend);
    c->input_shapes = calloc((size_t)engine->n_inputs + 1, sizeof *c->input_shapes);
    c->inputs_bound = calloc((size_t)engine->n_inputs + 1, sizeof *c->inputs_bound);
    c->addresses = calloc((size_t)engine->n_io + 1, sizeof *c->addresses);
    c->views = calloc(nt, sizeof *c->views);
    c->buffers = calloc(nt, sizeof *c->buffers);
    c->capacity = calloc(nt, sizeof *c->capacity);
    c->host_values = calloc(nt, sizeof *c->host_values);
    c->host_buffers = calloc(nt, sizeof *c->host_buffers);
    c->host_capacity = calloc(nt, sizeof *c->host_capacity);
    c->layer_ms = calloc((size_t)engine->net->n_layers + 1, sizeof *c->layer_ms);
    c->layer_calls = calloc((size_t)engine->net->n_layers + 1, sizeof *c->layer_calls);
  }
  if (!c || !c->input_shapes || !c->inputs_bound || !c->addresses || !c->views || !c->buffers || !c->capacity ||
      !c->host_values || !c->host_buffers || !c->host_capacity || !c->layer_ms || !c->layer_calls) {
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
  infer_context_graphs_free(c);
  if (c->buffers && c->backend)
    for (int32_t t = 0; t < c->engine->net->n_tensors; t++) c->backend->free(c->buffers[t]);
  if (c->backend) c->backend->free(c->arena);
  free(c->input_shapes);
  free(c->inputs_bound);
  free(c->addresses);
  free(c->views);
  free(c->buffers);
  free(c->capacity);
  if (c->host_buffers)
    for (int32_t t = 0; t < c->engine->net->n_tensors; t++) free(c->host_buffers[t]);
  free(c->host_values);
  free(c->host_buffers);
  free(c->host_capacity);
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
  /* inputs that name a dimension alike must agree on it: the optimizer
   * relies on it (e.g. to fuse a residual add of two such tensors) */
  const InferTensorDef *def = &c->engine->net->tensors[c->engine->io[i]];
  for (int d = 0; d < decl->rank; d++) {
    if (!def->dim_names[d]) continue;
    for (int32_t j = 0; j < c->engine->n_inputs; j++) {
      if (j == i) continue;
      const InferTensorDef *other = &c->engine->net->tensors[c->engine->io[j]];
      for (int e = 0; e < other->shape.rank; e++)
        if (other->dim_names[e] && strcmp(other->dim_names[e], def->dim_names[d]) == 0 &&
            c->input_shapes[j].d[e] != shape->d[d] && c->input_shapes[j].d[e] >= 0 &&
            c->inputs_bound[j])
          return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                                  "input '%s': dimension '%s' is %lld, but input '%s' has it at "
                                  "%lld", name, def->dim_names[d], (long long)shape->d[d],
                                  other->name, (long long)c->input_shapes[j].d[e]);
    }
  }
  c->input_shapes[i] = *shape;
  c->inputs_bound[i] = true;
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
  /* shape-tensor inputs are host memory on every backend */
  if (data && c->backend->check_address && !infer_engine_io_is_host(c->engine, i))
    INFER_TRY(infer_status_prefix(c->backend->check_address(data), "'%s'", name));
  c->addresses[i] = data;
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

InferStatus *infer_context_enqueue(InferContext *c, InferStream *stream) {
  if (stream && stream->engine->backend != c->engine->backend)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "enqueue: the stream belongs to an engine of another backend");
  c->ran = false;
  bool done = false;
  INFER_TRY(infer_context_run_graphed(c, stream, &done));
  if (!done) INFER_TRY(infer_context_execute(c, stream));
  c->ran = true;
  return NULL;
}

InferStatus *infer_stream_create(InferEngine *engine, InferStream **out) {
  static _Atomic uint64_t next_serial = 1;
  *out = calloc(1, sizeof **out);
  if (!*out) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "stream: out of memory");
  (*out)->engine = engine;
  (*out)->serial = next_serial++;
  const InferBackend *be = infer_backend_get(engine->backend);
  if (be && be->stream_create) {
    InferStatus *st = be->stream_create(*out);
    if (st) {
      free(*out);
      *out = NULL;
      return st;
    }
  }
  return NULL;
}

InferStatus *infer_stream_synchronize(InferStream *stream) {
  if (!stream) return NULL;
  return infer_backend_get(stream->engine->backend)->synchronize(stream);
}

void *infer_stream_native_handle(const InferStream *stream) {
  return stream ? stream->handle : NULL;
}

void infer_stream_release(InferStream *stream) {
  if (!stream) return;
  const InferBackend *be = infer_backend_get(stream->engine->backend);
  if (be && be->stream_destroy && stream->handle) be->stream_destroy(stream);
  free(stream);
}
