/* Engines, contexts and the shape pass: the runtime's private structures. */
#ifndef INFER_ENGINE_INTERNAL_H
#define INFER_ENGINE_INTERNAL_H

#include "infer/engine.h"
#include "kernel_call.h"
#include "network_internal.h"

typedef struct InferInputProfile {
  char *name;
  InferShape min, opt, max;
} InferInputProfile;

typedef struct InferLayerPrecision {
  char *layer;
  InferPrecision precision;
} InferLayerPrecision;

/* Engine flag next to the precision bits: FP32 layers may use TF32. */
#define INFER_ENGINE_TF32 (1u << 8)
/* Engine flag: INT8 layers use only tactics equal to the CPU reference bit for bit. */
#define INFER_ENGINE_INT8_EXACT (1u << 9)

struct InferBuildConfig {
  InferBackendKind backend;
  unsigned precisions;
  bool no_tf32;
  bool int8_exact;
  int32_t n_profiles, n_layer_precisions;
  InferInputProfile *profiles;
  InferLayerPrecision *layer_precisions;
  size_t workspace_limit;
  char *timing_cache;
  int optimization_level;
  InferBuildProgressFn progress;
  void *progress_user;
  char **disabled_passes;
  int32_t n_disabled_passes;
  InferLogFn log;
  void *log_user;
  InferCalibTable *calib;     /* INT8 scales per tensor (owned), or NULL */
};

/* Records a pass name as disabled (the public function validates it). */
InferStatus *infer_build_config_add_disabled_pass(InferBuildConfig *cfg, const char *pass);
/* Whether the config turns the optimizer pass off (or all passes). */
bool infer_build_config_pass_disabled(const InferBuildConfig *cfg, const char *pass);
/* printf-style line to the config's log callback (nothing without one). */
void infer_build_log(const InferBuildConfig *cfg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The config's profile of an input, or NULL. */
const InferInputProfile *infer_build_config_profile(const InferBuildConfig *cfg, const char *input);
/* Reports progress; returns a "cancelled" status when the callback says stop. */
InferStatus *infer_build_progress(const InferBuildConfig *cfg, const char *phase, int done, int total);

struct InferEngine {
  InferBackendKind backend;
  InferNetwork *net;          /* pruned and folded copy that the engine runs */
  int32_t n_io, n_inputs;     /* io: inputs first, then outputs */
  InferTensorId *io;
  InferShape *io_shapes;      /* declared: dims that follow dynamic input dims are -1 */
  InferShape *input_build_shapes; /* the profile's opt shapes */
  InferShape *input_min_shapes, *input_max_shapes;
  bool *io_host;              /* per input: read from host memory (host_inputs.c) */
  int32_t n_host_inputs;
  unsigned precisions;        /* allowed when it was built (| INFER_ENGINE_TF32) */
  int32_t n_source_layers;    /* layers in the network it was built from */
  uint64_t source_hash;       /* the source network's source_hash */
  /* activation memory plan at the profile's max shapes, made on first use
   * (NULL when a max dim is unbounded: contexts then grow buffers) */
  struct InferMemoryPlan *mem_plan;
  bool mem_plan_done;
  void *backend_state;        /* device backends: device copies of constants, ... */
  void *mapping;              /* a loaded plan file mapped read-only; constants point into it */
  size_t mapping_size;
};

struct InferStream {
  InferEngine *engine;
  void *handle;               /* the backend's stream (cudaStream_t), NULL on the CPU */
  uint64_t serial;            /* unique per stream made in this process (handles get reused) */
};

/* A shape pass: per-tensor dtype, shape and (when known on the host) value. */
typedef struct InferShapePass {
  const InferNetwork *net;
  InferTensorView *views;
  void **owned;     /* values this pass computed, freed by infer_shape_pass_free */
  bool *dynamic;    /* value depends on dynamic input dims */
  bool *evaluated;  /* per layer: outputs computed on the host during the pass */
} InferShapePass;

typedef struct InferShapePassOptions {
  const InferShape *input_shapes;  /* one per network input, in order */
  bool has_dynamic_dims;           /* Shape/Size results then count as dynamic */
  size_t small_value_elems;        /* evaluate layers with outputs this small */
  size_t fold_bytes;               /* evaluate non-dynamic layers up to this size */
  bool tolerate_unknown;           /* leave outputs unknown instead of failing */
  /* Leave a layer's outputs unknown (no error) when a shape input's value
   * depends on run-time data (a graph input's values): the CPU backend
   * infers such shapes per run, when the data is there. */
  bool defer_data_dependent;
} InferShapePassOptions;

InferStatus *infer_shape_pass_init(InferShapePass *pass, const InferNetwork *net);
InferStatus *infer_shape_pass_run(InferShapePass *pass, const InferShapePassOptions *opt);
void infer_shape_pass_free(InferShapePass *pass);

/* Builds an InferOpCall for a layer from per-tensor views. `in`/`out` must
 * have room for the layer's inputs/outputs. */
void infer_layer_call(const InferLayer *layer, const InferTensorView *views, InferTensorView *in,
                      InferTensorView *out, InferOpCall *call);

/* Marks the inputs read on the host (shape tensors); after io is set. */
InferStatus *infer_engine_find_host_inputs(InferEngine *e);
/* Times the tunable layers of a prepared engine and records the fastest
 * tactic in their params (tactic_tuning.c). */
InferStatus *infer_engine_tune(InferEngine *e, const InferBuildConfig *cfg);

/* The engine's memory plan (computed once, thread-safe), or NULL. */
InferStatus *infer_engine_memory_plan(InferEngine *engine, const struct InferMemoryPlan **out);
void infer_engine_free_memory_plan(InferEngine *engine);

#endif
