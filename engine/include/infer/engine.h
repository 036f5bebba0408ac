/* Engines (a network compiled for one backend) and execution contexts.
 *
 * build:   network + config -> engine (validated, shapes inferred, constants folded)
 * run:     engine -> context (own activation memory) -> set input shapes and
 *          tensor addresses -> enqueue on a stream -> synchronize the stream.
 * On the CPU backend enqueue runs to completion before returning; on device
 * backends it only queues work. */
#ifndef INFER_ENGINE_H
#define INFER_ENGINE_H

#include "infer/network.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum InferBackendKind {
  INFER_BACKEND_AUTO = 0, /* CUDA when a usable GPU is present, else CPU */
  INFER_BACKEND_CPU,
  INFER_BACKEND_CUDA
} InferBackendKind;

typedef struct InferBuildConfig InferBuildConfig;
typedef struct InferEngine InferEngine;
typedef struct InferContext InferContext;
typedef struct InferStream InferStream;

InferStatus *infer_build_config_create(InferBuildConfig **out);
void infer_build_config_release(InferBuildConfig *cfg);
void infer_build_config_set_backend(InferBuildConfig *cfg, InferBackendKind backend);

/* Precisions the builder may choose from, per layer (FP32 is always allowed).
 * The CPU backend computes every layer in FP32 whatever is allowed. */
enum {
  INFER_PRECISION_FP32 = 1u << 0,
  INFER_PRECISION_FP16 = 1u << 1,
  INFER_PRECISION_INT8 = 1u << 2,
  INFER_PRECISION_BEST = INFER_PRECISION_FP32 | INFER_PRECISION_FP16 | INFER_PRECISION_INT8
};
typedef enum InferPrecision {
  INFER_PREC_FP32 = INFER_PRECISION_FP32,
  INFER_PREC_FP16 = INFER_PRECISION_FP16,
  INFER_PREC_INT8 = INFER_PRECISION_INT8
} InferPrecision;
void infer_build_config_set_precisions(InferBuildConfig *cfg, unsigned flags);
unsigned infer_build_config_precisions(const InferBuildConfig *cfg);
/* Whether FP32 layers may use TF32 tensor-core math (10-bit mantissa
 * products, FP32 accumulation) on GPUs that have it. On by default, as in
 * the frameworks; turn it off for bit-faithful FP32. */
void infer_build_config_set_tf32(InferBuildConfig *cfg, bool allow);
/* INT8 layers only on kernels whose outputs equal the CPU INT8 reference
 * bit for bit. Off by default: the fastest INT8 kernels (cuBLASLt's own
 * requantization, one rounding of x_scale * w_scale / y_scale where the
 * reference rounds twice) may differ from the reference by 1 LSB. */
void infer_build_config_set_int8_exact(InferBuildConfig *cfg, bool exact);
/* Pins a layer (by name) to one precision, e.g. the first and last layers
 * of an INT8 engine to FP16. */
InferStatus *infer_build_config_set_layer_precision(InferBuildConfig *cfg, const char *layer,
                                                    InferPrecision precision);
/* INT8 calibration scales (infer/calibration.h) for implicit quantization:
 * with INT8 allowed, each Conv / Gemm whose input and output tensors have
 * a scale, whose backend has an INT8 kernel and that is not pinned to
 * FP16/FP32 becomes an INT8 layer (weights quantized per output channel).
 * The table is copied (NULL clears it). set_calibration_cache reads a
 * TensorRT-format cache file now, so a bad file fails here. Networks with
 * Q/DQ nodes (explicit quantization) need no table. */
typedef struct InferCalibTable InferCalibTable;
InferStatus *infer_build_config_set_calibration_table(InferBuildConfig *cfg,
                                                      const InferCalibTable *table);
InferStatus *infer_build_config_set_calibration_cache(InferBuildConfig *cfg, const char *path);
/* The config's table (owned by the config), or NULL. */
const InferCalibTable *infer_build_config_calibration_table(const InferBuildConfig *cfg);

/* The optimization profile of an input with dynamic dims: contexts accept
 * shapes from min to max (per dim), kernels are tuned for opt, activation
 * memory is planned for max. */
InferStatus *infer_build_config_set_input_range(InferBuildConfig *cfg, const char *input,
                                                const InferShape *min, const InferShape *opt,
                                                const InferShape *max);
/* Shorthand for min = opt = max = shape. Inputs without a shape or range
 * are built for 1 in every dynamic dim and accept any size there. */
InferStatus *infer_build_config_set_input_shape(InferBuildConfig *cfg, const char *input,
                                                const InferShape *shape);

/* Scratch memory a layer's kernel may use (0: no limit). */
void infer_build_config_set_workspace_limit(InferBuildConfig *cfg, size_t bytes);
/* A file of kernel timings kept across builds (read if present, written after). */
InferStatus *infer_build_config_set_timing_cache(InferBuildConfig *cfg, const char *path);
/* 0 (fastest build) .. 5 (most tactics tried); default 3. */
void infer_build_config_set_optimization_level(InferBuildConfig *cfg, int level);

/* Optimizer passes can be turned off by name (see infer_optimizer_pass_name);
 * an unknown name is an error. Level 0 turns every pass off. */
InferStatus *infer_build_config_disable_pass(InferBuildConfig *cfg, const char *pass);
/* The optimizer's passes in the order they run (NULL past the end). */
const char *infer_optimizer_pass_name(int i);
const char *infer_optimizer_pass_summary(int i);
/* Receives the build's log lines (one per optimizer pass, ...). */
typedef void (*InferLogFn)(const char *line, void *user);
void infer_build_config_set_log(InferBuildConfig *cfg, InferLogFn fn, void *user);

/* Called during long builds: phase ("shapes", "folding", "checking",
 * "tuning"), done of total steps. Returning false cancels the build. */
typedef bool (*InferBuildProgressFn)(const char *phase, int done, int total, void *user);
void infer_build_config_set_progress(InferBuildConfig *cfg, InferBuildProgressFn fn, void *user);

/* cfg may be NULL (defaults). The network is not kept: it may be released. */
/* Starts a backend's device (CUDA: creates the context of the current
 * device) so that a later build or plan load does not pay for it; done
 * anyway on first use. AUTO resolves as for builds. */
InferStatus *infer_backend_init(InferBackendKind backend);

InferStatus *infer_engine_build(const InferNetwork *net, const InferBuildConfig *cfg,
                                InferEngine **out);
void infer_engine_release(InferEngine *engine);

InferBackendKind infer_engine_backend(const InferEngine *engine);
int infer_engine_num_layers(const InferEngine *engine);
/* Inputs first, then outputs. */
int infer_engine_num_io(const InferEngine *engine);
const char *infer_engine_io_name(const InferEngine *engine, int i);
bool infer_engine_io_is_input(const InferEngine *engine, int i);
InferDType infer_engine_io_dtype(const InferEngine *engine, int i);
/* The declared shape (dynamic dims are -1). */
InferShape infer_engine_io_shape(const InferEngine *engine, int i);
int infer_engine_io_index(const InferEngine *engine, const char *name); /* -1 if none */
/* A shape-tensor input: its values decide shapes or attributes (a
 * Reshape's target shape, Resize's sizes, TopK's k). Its address is a host
 * pointer on every backend, read while enqueue runs (the caller may reuse
 * the memory when enqueue returns); CUDA graphs stay off for engines with
 * one, since new values mean new shapes. */
bool infer_engine_io_is_host(const InferEngine *engine, int i);

/* Plan files: an engine serialized once and deserialized in milliseconds.
 * A plan records the library version and the device (CPU model and
 * features, or GPU and CUDA library versions) it was built for; loading it
 * elsewhere fails with INFER_ERR_MISMATCH (rebuild the plan). Corrupt or
 * truncated plans fail with INFER_ERR_PARSE, never crash. */
InferStatus *infer_engine_serialize(const InferEngine *engine, void **data, size_t *size); /* malloc'ed */
/* name_for_messages names the plan in error messages (NULL: "plan"). */
InferStatus *infer_engine_deserialize(const void *data, size_t size, const char *name_for_messages,
                                      InferEngine **out);
InferStatus *infer_engine_save(const InferEngine *engine, const char *path);
InferStatus *infer_engine_load(const char *path, InferEngine **out);
/* The hash of the model file the engine was built from (0 if built in code). */
uint64_t infer_engine_source_hash(const InferEngine *engine);

InferStatus *infer_context_create(InferEngine *engine, InferContext **out);
void infer_context_release(InferContext *ctx);
/* Binds a dynamic input's shape; other tensors' shapes follow. */
InferStatus *infer_context_set_input_shape(InferContext *ctx, const char *name,
                                           const InferShape *shape);
/* An output's shape for the current input shapes. Outputs whose size
 * depends on data (NonMaxSuppression) report their upper bound before a run
 * and their actual shape after it. */
InferStatus *infer_context_get_tensor_shape(InferContext *ctx, const char *name,
                                            InferShape *out);
/* Where an input is read from or an output written to, in the backend's
 * memory (host memory for the CPU backend). */
InferStatus *infer_context_set_tensor_address(InferContext *ctx, const char *name, void *data);
InferStatus *infer_context_enqueue(InferContext *ctx, InferStream *stream);
/* CUDA graphs (CUDA backend, non-default streams): from the second run of
 * the same input shapes and addresses on the same stream, a context replays
 * a captured graph instead of enqueueing layer by layer. On by default;
 * INFER_CUDA_GRAPHS=0 in the environment turns it off everywhere. */
void infer_context_set_cuda_graphs(InferContext *c, bool enabled);
/* After the stream is synchronized: an output's dtype, actual shape and
 * data (the address set for it, or memory the context owns and reuses on
 * the next enqueue when none was set). */
InferStatus *infer_context_get_output(InferContext *ctx, const char *name, InferTensorView *out);

/* Per-layer timing: while enabled, every enqueue adds each layer's time
 * (wall time on the CPU backend, device time on GPU backends). */
void infer_context_set_profiling(InferContext *ctx, bool enabled);
int infer_context_profile_size(const InferContext *ctx);  /* the engine's layer count */
InferStatus *infer_context_profile_entry(const InferContext *ctx, int layer, double *total_ms,
                                         int64_t *calls);
/* Activation memory the context holds now, in bytes. */
size_t infer_context_memory_bytes(const InferContext *ctx);

/* How one layer of an engine runs. */
typedef struct InferLayerInfo {
  const char *name;
  const char *op;
  const char *precision;   /* "fp32", "fp16", "int8" */
  const char *layout;      /* "nchw", "nhwc", ... */
  const char *kernel;      /* the implementation chosen */
  const char *output;      /* first output tensor */
  InferShape output_shape; /* at the build shapes */
  bool shape_known;        /* false: the shape depends on run-time data */
  int n_inputs, n_outputs;
} InferLayerInfo;
InferStatus *infer_engine_layer_info(const InferEngine *engine, int layer, InferLayerInfo *out);
/* The network the engine runs (after folding and pruning), e.g. to build a
 * CPU reference engine from it. Owned by the engine. */
const InferNetwork *infer_engine_network(const InferEngine *engine);
/* Activation memory a context needs at the profile's max shapes: the
 * planned arena (peak) and the lower bound (the largest sum of tensors
 * live at one layer). Both 0 when the profile has no bounded max (contexts
 * then grow buffers as shapes grow). */
InferStatus *infer_engine_activation_bytes(InferEngine *engine, size_t *peak,
                                           size_t *lower_bound);
/* Bytes of constants (weights) the engine holds. */
size_t infer_engine_weights_bytes(const InferEngine *engine);

/* Memory where the engine's tensors live (device memory for GPU engines,
 * host memory on the CPU), for the addresses given to contexts. */
InferStatus *infer_engine_malloc(const InferEngine *engine, size_t bytes, void **out);
void infer_engine_mfree(const InferEngine *engine, void *ptr);
/* Synchronous copies between host memory and the engine's memory. */
InferStatus *infer_engine_copy_to_device(const InferEngine *engine, void *dst, const void *src,
                                         size_t bytes);
InferStatus *infer_engine_copy_to_host(const InferEngine *engine, void *dst, const void *src,
                                       size_t bytes);

InferStatus *infer_stream_create(InferEngine *engine, InferStream **out);
InferStatus *infer_stream_synchronize(InferStream *stream);
void infer_stream_release(InferStream *stream);
/* The backend's own stream (a cudaStream_t on CUDA; NULL on the CPU), for
 * callers that order their own device work with the engine's: e.g. make it
 * wait on an event recorded after their preprocessing kernels, or queue
 * asynchronous copies of the outputs behind the run. The stream stays
 * owned by `stream`. */
void *infer_stream_native_handle(const InferStream *stream);

const char *infer_version_string(void); /* "0.1.0" */

#ifdef __cplusplus
}
#endif
#endif
