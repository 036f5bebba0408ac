/* CUDA-graph capture and replay per context, input shapes, bindings and
 * stream.
 *
 * Enqueueing layer by layer costs host time per layer (shape inference,
 * descriptor lookups, launches): at small batches that, not the GPU, bounds
 * latency. A context therefore remembers a few (shapes, addresses, stream)
 * combinations: the first run of one goes eagerly (it allocates whatever
 * it needs: activation buffers, per-stream workspace, library descriptors),
 * the second is captured into a graph, and later ones replay the graph with
 * one launch. Runs that cannot be captured (a layer that synchronizes or
 * uploads host values) stay eager for that combination; nothing else
 * changes for the caller. Off for engines with shape-tensor inputs, with infer_context_set_cuda_graphs(c, false)
 * or INFER_CUDA_GRAPHS=0 in the environment, and while profiling. */
#include <stdlib.h>
#include <string.h>

#include "context_internal.h"

#define GRAPHS_PER_CONTEXT 8

struct InferGraphEntry {
  uint64_t key;              /* hash of what follows, to skip most comparisons */
  uint64_t stream;           /* serial of the InferStream it was captured on: a graph uses
                              * that stream's workspace, freed with the stream */
  InferShape *shapes;        /* per engine input, as captured */
  void **addresses;          /* per io entry, as captured */
  int runs;                  /* eager runs so far */
  bool refused;              /* capture failed: stay eager */
  void *graph;               /* instantiated graph, or NULL */
  InferTensorView *views;    /* the context's views after the captured run */
  uint64_t last_use;
};

static bool env_disabled(void) {
  const char *v = getenv("INFER_CUDA_GRAPHS");
  return v && strcmp(v, "0") == 0;
}

void infer_context_set_cuda_graphs(InferContext *c, bool enabled) { c->graphs_off = !enabled; }

static void entry_clear(InferContext *c, InferGraphEntry *e) {
  if (e->graph) c->backend->graph_destroy(e->graph);
  free(e->views);
  free(e->shapes);
  free(e->addresses);
  memset(e, 0, sizeof *e);
}

static size_t shapes_bytes(const InferContext *c) {
  return sizeof(InferShape) * (size_t)c->engine->n_inputs;
}

static size_t addresses_bytes(const InferContext *c) {
  return sizeof(void *) * (size_t)c->engine->n_io;
}

/* The run the entry was made for: same stream, shapes and addresses (the
 * hash only narrows the search; a graph replays the very pointers it saw). */
static bool entry_matches(const InferContext *c, const InferGraphEntry *e, uint64_t key,
                          uint64_t stream) {
  return e->key == key && e->stream == stream && e->shapes && e->addresses &&
         memcmp(e->shapes, c->input_shapes, shapes_bytes(c)) == 0 &&
         memcmp(e->addresses, c->addresses, addresses_bytes(c)) == 0;
}

void infer_context_graphs_free(InferContext *c) {
  if (!c->graphs) return;
  for (int i = 0; i < GRAPHS_PER_CONTEXT; i++) entry_clear(c, &c->graphs[i]);
  free(c->graphs);
  c->graphs = NULL;
}

static uint64_t run_key(const InferContext *c, uint64_t stream) {
  uint64_t h = infer_hash64(&stream, sizeof stream, 0x6772617068ull);
  h = infer_hash64(c->input_shapes, shapes_bytes(c), h);
  return infer_hash64(c->addresses, addresses_bytes(c), h);
}

static InferGraphEntry *entry_for(InferContext *c, uint64_t key, uint64_t stream) {
  InferGraphEntry *free_slot = NULL, *oldest = &c->graphs[0];
  for (int i = 0; i < GRAPHS_PER_CONTEXT; i++) {
    InferGraphEntry *e = &c->graphs[i];
    if (e->runs || e->refused || e->graph) {
      if (entry_matches(c, e, key, stream)) return e;
      if (e->last_use < oldest->last_use) oldest = e;
    } else if (!free_slot) {
      free_slot = e;
    }
  }
  InferGraphEntry *e = free_slot ? free_slot : oldest;
  entry_clear(c, e);
  e->shapes = malloc(shapes_bytes(c) + 1);
  e->addresses = malloc(addresses_bytes(c) + 1);
  if (!e->shapes || !e->addresses) {
    entry_clear(c, e);
    return NULL;
  }
  memcpy(e->shapes, c->input_shapes, shapes_bytes(c));
  memcpy(e->addresses, c->addresses, addresses_bytes(c));
  e->key = key;
  e->stream = stream;
  return e;
}

/* Captures one run into e->graph; false (and e->refused) when the run
 * cannot be captured. */
static bool capture(InferContext *c, InferStream *stream, InferGraphEntry *e) {
  InferStatus *begin = c->backend->capture_begin(stream);
  if (begin) {
    infer_status_free(begin);
    e->refused = true;
    return false;
  }
  c->capturing = true;
  InferStatus *run = infer_context_execute(c, stream);
  c->capturing = false;
  void *graph = NULL;
  InferStatus *end = c->backend->capture_end(stream, &graph);
  size_t bytes = sizeof(InferTensorView) * (size_t)c->engine->net->n_tensors;
  if (!run && !end) e->views = malloc(bytes ? bytes : 1);
  if (run || end || !e->views) {
    infer_status_free(run);
    infer_status_free(end);
    if (graph) c->backend->graph_destroy(graph);
    e->refused = true;
    return false;
  }
  memcpy(e->views, c->views, bytes);
  e->graph = graph;
  return true;
}

InferStatus *infer_context_run_graphed(InferContext *c, InferStream *stream, bool *done) {
  *done = false;
  const InferBackend *be = c->backend;
  /* shape-tensor values are not part of the key: new values mean new shapes */
  if (c->graphs_off || c->profiling || !stream || !stream->handle || !be->capture_begin ||
      c->engine->n_host_inputs > 0 || env_disabled())
    return NULL;
  if (!c->graphs) {
    c->graphs = calloc(GRAPHS_PER_CONTEXT, sizeof *c->graphs);
    if (!c->graphs) return NULL; /* eager runs need no graphs */
  }
  InferGraphEntry *e = entry_for(c, run_key(c, stream->serial), stream->serial);
  if (!e) return NULL; /* out of host memory: run eagerly */
  e->last_use = ++c->graph_clock;
  if (e->refused) return NULL;
  if (!e->graph) {
    if (e->runs++ == 0) return NULL; /* the eager warm-up run */
    if (!capture(c, stream, e)) return NULL;
  }
  INFER_TRY(be->graph_launch(e->graph, stream));
  memcpy(c->views, e->views, sizeof(InferTensorView) * (size_t)c->engine->net->n_tensors);
  *done = true;
  return NULL;
}
