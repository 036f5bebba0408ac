/* Execution contexts: the state an executor works on. Private. */
#ifndef INFER_CONTEXT_INTERNAL_H
#define INFER_CONTEXT_INTERNAL_H

#include "backend.h"
#include "memory_plan.h"

typedef struct InferGraphEntry InferGraphEntry;

struct InferContext {
  InferEngine *engine;
  const InferBackend *backend;
  InferShape *input_shapes;   /* per engine input */
  bool *inputs_bound;         /* per engine input: set_input_shape called */
  void **addresses;           /* per io entry, set by the caller */
  InferTensorView *views;     /* per tensor, as of the last run (backend memory) */
  void **host_values;         /* per tensor: its value on the host when known (device backends) */
  void **host_buffers;        /* per tensor: context-owned host memory for those values */
  size_t *host_capacity;
  void **buffers;             /* per tensor, context-owned memory */
  size_t *capacity;
  const InferMemoryPlan *plan; /* shared by the engine's contexts; NULL: per-tensor buffers */
  void *arena;                 /* this context's activations, laid out by plan */
  bool ran;
  bool profiling;
  double *layer_ms;           /* per layer, while profiling */
  int64_t *layer_calls;
  /* captured runs (context_graphs.c) */
  bool graphs_off;
  bool capturing;             /* a run is being captured: no host->device copies */
  InferGraphEntry *graphs;
  uint64_t graph_clock;
};

/* Runs every layer of the engine for the bound shapes and addresses. */
InferStatus *infer_context_execute(InferContext *c, InferStream *stream);
/* The same for device backends (executor_device.c). */
InferStatus *infer_context_execute_device(InferContext *c, InferStream *stream);

/* Replays (or captures) the run for the bound shapes and addresses as a
 * graph where the backend can; *done = false: run it the usual way. */
InferStatus *infer_context_run_graphed(InferContext *c, InferStream *stream, bool *done);
void infer_context_graphs_free(InferContext *c);

/* Shared by the executors. */
size_t infer_view_bytes(const InferTensorView *v);
/* Context-owned backend memory for tensor t of at least `bytes`. */
InferStatus *infer_ctx_ensure_buffer(InferContext *c, InferTensorId t, size_t bytes);
/* The io index of output tensor t, or -1. */
int infer_ctx_output_slot(const InferContext *c, InferTensorId t);

#endif
