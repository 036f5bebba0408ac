/* Custom layers: plugins, in the spirit of TensorRT's IPluginV2 and
 * IPluginCreator.
 *
 * A plugin *creator* is registered under a name and a version. It makes
 * plugin *instances* from a layer's fields (an ONNX node's attributes, a
 * Caffe layer's parameters, or fields given in code) and from the bytes an
 * instance serialized itself to (plan files store those bytes). An instance
 * says how many outputs it makes and their types and shapes, which element
 * types it takes, and computes: `enqueue` on a CUDA stream with device
 * pointers, `execute` on the CPU with host pointers, or both. An engine for
 * a backend the plugin has no implementation for fails to build, naming the
 * plugin.
 *
 * Creators come from the application (infer_plugin_register) or from shared
 * libraries: infer_plugin_load_library(path), the colon-separated list of
 * libraries in the environment variable INFER_PLUGIN_PATH (loaded the first
 * time the registry is used), `inferexec --plugins lib.so` and the infer
 * element's `plugins` property. A library exports
 *
 *     InferStatus *infer_plugin_library_init(InferPluginRegistry *registry);
 *
 * which adds its creators with registry->add(registry, &creator) (the
 * creators must stay valid: static storage). Libraries stay loaded until the
 * process ends.
 *
 * Threads: the engine calls one instance from one thread at a time (it
 * holds a lock around configure + execute/enqueue), so an instance may keep
 * what configure computed for the next execute/enqueue. One instance may
 * serve several layers and engines whose plugin bytes are equal. */
#ifndef INFER_PLUGIN_H
#define INFER_PLUGIN_H

#include "infer/network.h"
#include "infer/status.h"
#include "infer/types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped when the structures below change incompatibly. */
#define INFER_PLUGIN_API_VERSION 1u

/* A plugin's name and version have at most INFER_PLUGIN_NAME_SIZE - 1 and
 * INFER_PLUGIN_VERSION_SIZE - 1 bytes (infer/ops.h: they are stored in the
 * layer's parameters, InferPluginParams). */

/* ---- fields: a layer's parameters as a key/value list ---------------------- */

typedef enum InferPluginFieldType {
  INFER_PLUGIN_FIELD_INT,     /* i */
  INFER_PLUGIN_FIELD_FLOAT,   /* f */
  INFER_PLUGIN_FIELD_STRING,  /* s (NUL-terminated) */
  INFER_PLUGIN_FIELD_INTS,    /* ints[count] */
  INFER_PLUGIN_FIELD_FLOATS,  /* floats[count] */
} InferPluginFieldType;

typedef struct InferPluginField {
  const char *name;
  InferPluginFieldType type;
  int64_t i;
  double f;
  const char *s;
  const int64_t *ints;
  const double *floats;
  int32_t count;
} InferPluginField;

typedef struct InferPluginFields {
  const InferPluginField *fields;
  int32_t n;
} InferPluginFields;

/* The field called name, or NULL (fields may be NULL). */
const InferPluginField *infer_plugin_fields_find(const InferPluginFields *fields, const char *name);
/* A numeric field (INT or FLOAT, or a list of one) as a double; def when
 * absent; an INFER_ERR_INVALID_ARGUMENT status naming the field when it is
 * not a number. */
InferStatus *infer_plugin_fields_number(const InferPluginFields *fields, const char *name,
                                        double def, double *out);

/* ---- instances ------------------------------------------------------------- */

typedef struct InferPlugin InferPlugin;

/* Tensors are InferTensorView (infer/types.h): dtype and shape, and for
 * execute / enqueue the data (host or device memory). Shapes given to
 * output_descs may have unknown dims (-1): propagate them. */
typedef struct InferPluginVTable {
  /* Outputs the instance makes (at least 1). */
  int (*num_outputs)(const InferPlugin *p);
  /* Fills out[i].dtype and out[i].shape from the inputs' (data NULL). An
   * error says what is wrong with the inputs. */
  InferStatus *(*output_descs)(const InferPlugin *p, const InferTensorView *in, int n_in,
                               InferTensorView *out, int n_out);
  /* Whether these element types can run; NULL: F32 everywhere only. */
  bool (*supports_dtypes)(const InferPlugin *p, const InferDType *in, int n_in,
                          const InferDType *out, int n_out);
  /* Called with the dtypes and shapes of a run before it (again whenever
   * they change); may be NULL. */
  InferStatus *(*configure)(InferPlugin *p, const InferTensorView *in, int n_in,
                            const InferTensorView *out, int n_out);
  /* Scratch bytes execute / enqueue need for these shapes; may be NULL (0). */
  size_t (*workspace_size)(const InferPlugin *p, const InferTensorView *in, int n_in,
                           const InferTensorView *out, int n_out);
  /* Queues the computation on `stream` (a cudaStream_t); data pointers and
   * workspace are device memory. Must not wait for the device. NULL: no
   * CUDA implementation. */
  InferStatus *(*enqueue)(InferPlugin *p, const InferTensorView *in, int n_in,
                          const InferTensorView *out, int n_out, void *workspace, void *stream);
  /* Computes on the CPU; data pointers and workspace are host memory.
   * NULL: no CPU implementation. */
  InferStatus *(*execute)(InferPlugin *p, const InferTensorView *in, int n_in,
                          const InferTensorView *out, int n_out, void *workspace);
  /* The bytes the creator's deserialize takes back. */
  size_t (*serialized_size)(const InferPlugin *p);
  void (*serialize)(const InferPlugin *p, void *buffer);
  void (*destroy)(InferPlugin *p);
} InferPluginVTable;

/* What a creator returns: the plugin allocates it (with its state behind
 * `data`) and frees it in destroy. */
struct InferPlugin {
  const InferPluginVTable *vtable;
  void *data;
};

/* ---- creators -------------------------------------------------------------- */

typedef struct InferPluginCreator InferPluginCreator;
struct InferPluginCreator {
  uint32_t api_version;       /* INFER_PLUGIN_API_VERSION */
  const char *name;           /* the op type it implements, e.g. "ScaledSoftsign" */
  const char *version;        /* e.g. "1" */
  /* ONNX: the node domain it answers (NULL or "": any domain, the default
   * one included, but built-in ops of the default domain come first) */
  const char *onnx_domain;
  /* A new instance for a layer (named, for messages) from its fields. */
  InferStatus *(*create)(const InferPluginCreator *c, const char *layer,
                         const InferPluginFields *fields, InferPlugin **out);
  /* A new instance from bytes written by serialize; the bytes come from a
   * plan file: check them. */
  InferStatus *(*deserialize)(const InferPluginCreator *c, const char *layer, const void *data,
                              size_t size, InferPlugin **out);
  void *user;                 /* the creator's own, untouched */
};

/* Registers a creator (kept by pointer: static storage). Registering the
 * same pointer twice is a no-op; another creator with the same name and
 * version is refused. */
InferStatus *infer_plugin_register(const InferPluginCreator *creator);
/* The creator of that name and version; version NULL or "": the highest
 * version registered (compared as version strings). NULL when none. */
const InferPluginCreator *infer_plugin_find(const char *name, const char *version);
/* Every registered creator, in registration order. */
int infer_plugin_count(void);
const InferPluginCreator *infer_plugin_get(int i);

/* ---- libraries ------------------------------------------------------------- */

typedef struct InferPluginRegistry InferPluginRegistry;
struct InferPluginRegistry {
  uint32_t api_version;       /* INFER_PLUGIN_API_VERSION */
  const char *library;        /* the library being loaded, for messages */
  InferStatus *(*add)(InferPluginRegistry *registry, const InferPluginCreator *creator);
};

/* What a plugin library exports. */
typedef InferStatus *(*InferPluginLibraryInitFn)(InferPluginRegistry *registry);
#define INFER_PLUGIN_LIBRARY_INIT "infer_plugin_library_init"

/* dlopens a library and runs its infer_plugin_library_init. Loading the
 * same path again is a no-op. Errors name the library. */
InferStatus *infer_plugin_load_library(const char *path);
/* Each library of a list separated by ':' or ','. */
InferStatus *infer_plugin_load_libraries(const char *list);

/* ---- networks in code -------------------------------------------------------- */

/* A plugin layer: creates an instance of plugin `name` (version NULL: the
 * highest) from `fields` and adds the layer; its outputs are named after
 * out_names (or "<name>:<i>") and returned in outputs (may be NULL). */
InferStatus *infer_network_add_plugin(InferNetwork *net, const char *name, const char *plugin,
                                      const char *version, const InferPluginFields *fields,
                                      int n_inputs, const InferTensorId *inputs,
                                      const char *const *out_names, InferTensorId *outputs,
                                      int *n_outputs);

#ifdef __cplusplus
}
#endif
#endif
