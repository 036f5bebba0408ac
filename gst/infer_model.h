/* Engine management for the infer element: parse the ONNX model, build an
 * engine for the element's options (backend, precisions, a batch profile
 * min=1, opt=max=batch-size) or load it from a plan cache, and describe the
 * model's image input and outputs. No element state here: callers pass
 * options and get a model or a GError (GStreamer error domains) plus a
 * debug string with the engine's own message. */
#ifndef GST_INFER_MODEL_H
#define GST_INFER_MODEL_H

#include <gst/gst.h>

#include "decode.h"
#include "infer/infer.h"
#include "preprocess.h"

G_BEGIN_DECLS

GST_DEBUG_CATEGORY_EXTERN(gst_infer_debug);

typedef enum {
  GST_INFER_LAYOUT_AUTO = 0, /* from the input shape: dim 1 in {1,3} -> NCHW, else dim 3 -> NHWC */
  GST_INFER_LAYOUT_NCHW,
  GST_INFER_LAYOUT_NHWC
} GstInferInputLayout;

typedef struct InferModelOptions {
  const gchar *model_path;
  const gchar *engine_cache;      /* plan file, or folder (NULL: no cache) */
  InferBackendKind backend;
  gint device_id;
  unsigned precisions;            /* INFER_PRECISION_* flags */
  const gchar *calibration_cache; /* recorded in the plan name; used by INT8 builds */
  gint batch_size;
  GstInferInputLayout layout;
} InferModelOptions;

/* What the model's outputs look like to model-type=auto. */
typedef enum {
  INFER_MODEL_KIND_RAW = 0,
  INFER_MODEL_KIND_CLASSIFIER,
  INFER_MODEL_KIND_DETECTOR
} InferModelKind;

typedef struct InferModel {
  InferEngine *engine;
  gchar *path;                   /* the ONNX file */
  guint64 source_hash;           /* infer_hash64 of the ONNX file's bytes */
  /* the image input */
  gchar *input_name;
  InferDType input_dtype;        /* F32, F16 or U8 */
  InferLayout layout;
  gint channels, width, height;
  gint batch;                    /* items per enqueue at most */
  gboolean dynamic_batch;        /* false: every enqueue runs `batch` items */
  /* outputs, shapes at `batch` items (upper bounds for data-dependent ones) */
  gint n_outputs;
  gchar **output_names;
  InferShape *output_shapes;
  InferDType *output_dtypes;
  /* model-type=auto */
  InferModelKind kind;
  InferDetectorFormat detector_format; /* when kind == DETECTOR */
  gint class_output;             /* index of the [N, C] output, or -1 */
  /* where the engine came from */
  gboolean from_plan;
  gchar *plan_path;              /* NULL without engine-cache */
  gchar *origin;                 /* "loaded plan ..." / "built: <reason>" */
  gchar *save_warning;           /* the plan could not be written (engine still usable) */
} InferModel;

/* Progress of a build: phase ("shapes", "folding", ...), done of total. */
typedef void (*InferModelProgressFn)(const gchar *phase, gint done, gint total, gpointer user);

/* Loads the model described by `o`. On failure returns FALSE, sets `error`
 * (domain and code for GST_ELEMENT_ERROR, the message naming the property
 * at fault and why) and *debug (the engine's message; g_free). */
gboolean infer_model_load(const InferModelOptions *o, InferModelProgressFn progress,
                          gpointer user, InferModel **out, GError **error, gchar **debug);
void infer_model_free(InferModel *m);

/* Parses the model and describes its image input (path, input name, type,
 * layout, channels, size, batch) without building an engine, for callers
 * that build their own: *out has no engine and no outputs. Errors as
 * infer_model_load's. The network is the caller's (infer_network_release). */
gboolean infer_model_describe(const InferModelOptions *o, InferNetwork **net, InferModel **out,
                              GError **error, gchar **debug);

/* The plan file for these options: engine-cache itself, or, when it names
 * a folder (exists as one, or ends with '/'),
 * <folder>/<model basename>-<16 hex digits of the options' hash>.plan.
 * NULL without engine-cache. g_free. */
gchar *infer_model_plan_path(const InferModelOptions *o);

/* The input's shape for n items. */
InferShape infer_model_input_shape(const InferModel *m, gint n);

/* The outputs as named tensors without data (shapes at `batch`), for format
 * checks; `out` has room for m->n_outputs. */
void infer_model_output_specs(const InferModel *m, InferNamedTensor *out);

G_END_DECLS
#endif
