/* Metadata that the infer elements attach to buffers, and how
 * applications read it. Link with infer-meta-1.0 (pkg-config).
 *
 * Detections: one InferDetectionMeta per buffer listing every detected
 * object (normalized coordinates, so it survives videoscale/videoconvert),
 * plus, for tools that expect it (DL Streamer style), one
 * GstVideoRegionOfInterestMeta per object carrying a "detection" structure
 * (x_min, y_min, x_max, y_max normalized doubles, confidence double,
 * label_id int, label string) and any classification structures.
 * Classifications of a whole frame: InferClassificationMeta.
 * Raw output tensors: InferTensorMeta. */
#ifndef INFER_META_H
#define INFER_META_H

#include <gst/gst.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

/* ---- one classification result ---------------------------------------- */
typedef struct _InferClassLabel {
  gint label_id;
  gfloat confidence;
  gchar *label;            /* from the labels file; NULL if none */
} InferClassLabel;

/* ---- detections ------------------------------------------------------ */
typedef struct _InferObject {
  gdouble x_min, y_min, x_max, y_max; /* normalized to the frame, 0..1 */
  gfloat confidence;
  gint label_id;
  gchar *label;            /* NULL if no labels file */
  guint object_id;         /* unique within the buffer */
  /* classifications attached by secondary inference on this object */
  GArray *classes;         /* of InferClassLabel */
} InferObject;

typedef struct _InferDetectionMeta {
  GstMeta meta;
  gchar *source;           /* name of the element that produced it */
  GArray *objects;         /* of InferObject */
} InferDetectionMeta;

GType infer_detection_meta_api_get_type(void);
const GstMetaInfo *infer_detection_meta_get_info(void);
#define INFER_DETECTION_META_API_TYPE (infer_detection_meta_api_get_type())

/* Adds an empty detection meta (or returns the buffer's existing one). */
InferDetectionMeta *infer_buffer_add_detection_meta(GstBuffer *buffer, const gchar *source);
InferDetectionMeta *infer_buffer_get_detection_meta(GstBuffer *buffer);
/* Appends an object; also adds its GstVideoRegionOfInterestMeta when
 * frame_width/height are > 0 (pixel ROI from the normalized box). */
InferObject *infer_detection_meta_add_object(InferDetectionMeta *meta, GstBuffer *buffer,
                                             gdouble x_min, gdouble y_min, gdouble x_max,
                                             gdouble y_max, gfloat confidence, gint label_id,
                                             const gchar *label, gint frame_width,
                                             gint frame_height);
/* Adds a classification to an object (and to its ROI meta as a structure
 * named `name`, e.g. "classification"). */
void infer_object_add_class(InferDetectionMeta *meta, GstBuffer *buffer, InferObject *object,
                            const gchar *name, gint label_id, gfloat confidence,
                            const gchar *label);

/* ---- frame classification ---------------------------------------------- */
typedef struct _InferClassificationMeta {
  GstMeta meta;
  gchar *source;
  GArray *labels;          /* of InferClassLabel, best first */
} InferClassificationMeta;

GType infer_classification_meta_api_get_type(void);
const GstMetaInfo *infer_classification_meta_get_info(void);
#define INFER_CLASSIFICATION_META_API_TYPE (infer_classification_meta_api_get_type())
InferClassificationMeta *infer_buffer_add_classification_meta(GstBuffer *buffer,
                                                              const gchar *source);
InferClassificationMeta *infer_buffer_get_classification_meta(GstBuffer *buffer);
void infer_classification_meta_add(InferClassificationMeta *meta, gint label_id,
                                   gfloat confidence, const gchar *label);

/* ---- raw tensors ----------------------------------------------------------- */
typedef enum {
  INFER_META_DTYPE_F32, INFER_META_DTYPE_F16, INFER_META_DTYPE_I8, INFER_META_DTYPE_U8,
  INFER_META_DTYPE_I32, INFER_META_DTYPE_I64, INFER_META_DTYPE_BOOL
} InferMetaDType;

typedef struct _InferTensorMeta {
  GstMeta meta;
  gchar *source;
  gchar *name;             /* the model output's name */
  InferMetaDType dtype;
  guint rank;
  gint64 dims[8];
  gpointer data;           /* host copy, owned */
  gsize size;              /* bytes */
} InferTensorMeta;

GType infer_tensor_meta_api_get_type(void);
const GstMetaInfo *infer_tensor_meta_get_info(void);
#define INFER_TENSOR_META_API_TYPE (infer_tensor_meta_api_get_type())
/* Copies data into a new tensor meta. */
InferTensorMeta *infer_buffer_add_tensor_meta(GstBuffer *buffer, const gchar *source,
                                              const gchar *name, InferMetaDType dtype,
                                              guint rank, const gint64 *dims,
                                              gconstpointer data, gsize size);
/* Iterate with a gpointer state initialized to NULL; NULL at the end. */
InferTensorMeta *infer_buffer_iterate_tensor_meta(GstBuffer *buffer, gpointer *state);

/* ---- for shell users and logs ------------------------------------------ */
/* The buffer's metadata as one JSON object on one line (timestamp,
 * objects with boxes/labels/classes, frame classes, tensor names and
 * shapes); g_free the result. */
gchar *infer_buffer_meta_to_json(GstBuffer *buffer);

G_END_DECLS
#endif
