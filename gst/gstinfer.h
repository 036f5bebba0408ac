/* The `infer` element: runs an ONNX model on video frames (or on the
 * objects an upstream detector found) and attaches the results as metadata.
 *
 * Code layout:
 *   gstinfer.c         type, life cycle (start/stop), model loading and swaps
 *   infer_properties.c the element's own properties, enums, label files
 *   infer_model_properties.c  model and preprocessing properties (shared with
 *                      infercalib)
 *   infer_pads.c       chain, events, queries and the src task (ordering)
 *   infer_results.c    decoding outputs per frame, attaching metas
 *   infer_batcher.c    shared model instances, batches, worker thread
 *   infer_model.c      parse / build / plan cache
 *   infer_cuda.c       the GPU path: device, uploads, CUDA memory in place */
#ifndef GST_INFER_H
#define GST_INFER_H

#include <gst/gst.h>
#include <gst/video/video.h>

#include "infer_batcher.h"
#include "infer_cuda.h"
#include "infer_model.h"
#include "infer_model_properties.h"

G_BEGIN_DECLS

#define GST_TYPE_INFER (gst_infer_get_type())
G_DECLARE_FINAL_TYPE(GstInfer, gst_infer, GST, INFER, GstElement)

typedef enum { GST_INFER_PRECISION_FP32, GST_INFER_PRECISION_FP16, GST_INFER_PRECISION_INT8,
               GST_INFER_PRECISION_BEST } GstInferPrecision;
typedef enum { GST_INFER_MODEL_AUTO, GST_INFER_MODEL_CLASSIFIER, GST_INFER_MODEL_DETECTOR,
               GST_INFER_MODEL_RAW } GstInferModelType;
typedef enum { GST_INFER_PROCESS_FRAME, GST_INFER_PROCESS_ROI } GstInferProcessMode;

/* Property values, under the object lock. */
typedef struct GstInferSettings {
  GstInferModelSettings model;  /* model, backend, device, preprocessing */
  gchar *engine_cache, *calibration_cache, *labels, *instance_id, *object_class;
  GstInferPrecision precision;
  guint batch_size;
  guint64 batch_timeout_us;
  guint max_in_flight;          /* 0: 2 * batch-size */
  GstInferModelType model_type;
  InferDetectorFormat detector_format;
  gfloat threshold, nms_iou;
  guint top_k;                  /* 0: 100 detections / 5 classes */
  gboolean softmax, output_tensors;
  guint interval;
  gboolean repeat_last;
  GstInferProcessMode process_mode;
  guint min_object_size, max_object_size;
} GstInferSettings;

/* What decoding needs, copied from the settings per batch. */
typedef struct InferDecodeSettings {
  GstInferModelType model_type;
  InferDetectorFormat detector_format;
  gfloat threshold, nms_iou;
  gint top_k;
  gboolean softmax, output_tensors, roi_mode;
} InferDecodeSettings;

/* A frame (or a serialized event) on its way through the element, in the
 * element's output queue. Results are written by the worker (decode) and
 * turned into metas by the src task just before the push. */
typedef struct InferFrame {
  gint refcount;
  GstEvent *event;              /* an event item; no buffer */
  GstBuffer *buffer;
  gint width, height;           /* of the frame */
  gint pending;                 /* slots not done, + 1 while the chain submits (qlock) */
  gboolean done;                /* (qlock) */
  gboolean inferred;            /* frame mode: a slot ran for it */
  InferModelKind kind;          /* what the results are */
  GArray *detections;           /* InferDetection, frame pixels */
  GArray *classes;              /* InferClassification, of the frame */
  GArray *roi_classes;          /* InferRoiClass */
  GPtrArray *tensors;           /* InferTensorCopy */
} InferFrame;

typedef struct InferRoiClass {
  gint object_index;
  InferClassification c;
} InferRoiClass;

struct _GstInfer {
  GstElement parent;
  GstPad *sinkpad, *srcpad;
  GstInferSettings settings;    /* object lock */

  /* while started (READY -> PAUSED .. PAUSED -> READY) */
  InferInstance *inst;
  InferClient client;
  GPtrArray *labels;            /* gchar*, or NULL */
  gchar **object_classes;       /* roi mode filter, NULL: every object */
  InferPreprocessParams pp;     /* normalization (sizes come from the model) */
  GMutex model_lock;            /* the loader thread */
  GThread *loader;

  /* streaming thread */
  GstVideoInfo info;
  gboolean have_info;
  guint64 frame_count;
  gint device_id;               /* settings.device_id when started */
  InferCudaUploader *uploader;  /* system-memory frames for a GPU model */
  gboolean logged_memory_path;  /* how frames reach the GPU was logged */

  /* the GstCudaContext (infer_cuda.h) offered to upstream CUDA elements,
   * from NULL -> READY to READY -> NULL (NULL: none) */
  GstObject *cuda_context;

  /* the output queue (qlock) */
  GMutex qlock;
  GCond qcond;
  GQueue queue;                 /* InferFrame, in arrival order */
  guint n_frames;               /* frames in the queue or being pushed */
  guint64 completions;          /* slots called back so far */
  gboolean pushing;
  gboolean flushing;
  GstFlowReturn srcresult;
  InferFrame *last;             /* last inferred frame pushed (repeat-last) */
  gboolean decode_error_posted;
};

/* infer_properties.c */
void gst_infer_install_properties(GObjectClass *klass);
void gst_infer_settings_init(GstInferSettings *s);
void gst_infer_settings_clear(GstInferSettings *s);
/* A copy with its own strings (clear it). */
void gst_infer_settings_copy(GstInferSettings *dst, const GstInferSettings *src);
void gst_infer_set_property(GObject *object, guint prop_id, const GValue *value,
                            GParamSpec *pspec);
void gst_infer_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec);
/* One label per line; NULL with error when the file cannot be read. */
GPtrArray *gst_infer_read_labels(const gchar *path, GError **error);

/* gstinfer.c */
void gst_infer_start_model_swap(GstInfer *self, const gchar *path);
void gst_infer_post_error(GstInfer *self, const GError *error, const gchar *debug);
void gst_infer_decode_settings(GstInfer *self, InferDecodeSettings *out);

/* infer_pads.c */
void gst_infer_setup_pads(GstInfer *self);
void gst_infer_queue_clear(GstInfer *self);
InferFrame *infer_frame_new(GstBuffer *buffer, GstEvent *event);
InferFrame *infer_frame_ref(InferFrame *f);
void infer_frame_unref(InferFrame *f);

/* infer_results.c */
gboolean infer_results_check(const InferModel *m, const InferDecodeSettings *s, GError **error,
                             gchar **debug);
/* Decodes batch item `item` into the slot's frame; returns an error text. */
gchar *infer_results_decode(InferFrame *f, const InferSlot *slot, const InferModel *m,
                            const InferNamedTensor *outputs, gint n_outputs, gint item,
                            const InferDecodeSettings *s);
/* Attaches the results of `from` to `buffer` (writable), a frame of
 * width x height: `from` is the frame itself or, for repeat-last, the last
 * inferred frame. */
void infer_results_attach(GstInfer *self, GstBuffer *buffer, gint width, gint height,
                          const InferFrame *from);
void infer_frame_clear_results(InferFrame *f);

G_END_DECLS
#endif
