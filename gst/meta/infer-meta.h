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
  gchar *name;             /* for an object's class: the name of its ROI
                            * param structure ("classification", ...);
                            * NULL for frame classes */
} InferClassLabel;

/* ---- detections ------------------------------------------------------ */
typedef struct _InferObject {
  gdouble x_min, y_min, x_max, y_max; /* normalized to the frame, 0..1 */
  gfloat confidence;
  gint label_id;
  gchar *label;            /* NULL if no labels file */
  guint object_id;         /* unique within the buffer (1, 2, ...); also the
                            * id of the object's ROI meta */
  /* classifications attached by secondary inference on this object */
  GArray *classes;         /* of InferClassLabel */
} InferObject;

typedef struct _InferDetectionMeta {
  GstMeta meta;
  gchar *source;           /* name of the element that produced it */
  GArray *objects;         /* of InferObject; an InferObject pointer stays
                            * valid only until the next add_object */
} InferDetectionMeta;

/* Transforms: the API is tagged "video", "orientation" and "size". Copies
 * (gst_buffer_copy, gst_buffer_copy_deep, GstBaseTransform) copy every
 * object deeply; a "gst-video-scale" transform (videoscale, videoconvert,
 * videoconvertscale) keeps the normalized boxes unchanged; any other
 * transform (flip, rotate, crop, ...) drops the meta, as its boxes would
 * no longer match the frame. At most one detection meta is on a buffer
 * (adding returns the existing one, copying into a buffer that has one
 * appends to it). */

GType infer_detection_meta_api_get_type(void);
const GstMetaInfo *infer_detection_meta_get_info(void);
#define INFER_DETECTION_META_API_TYPE (infer_detection_meta_api_get_type())

/* Adds an empty detection meta (or returns the buffer's existing one). */
InferDetectionMeta *infer_buffer_add_detection_meta(GstBuffer *buffer, const gchar *source);
InferDetectionMeta *infer_buffer_get_detection_meta(GstBuffer *buffer);
/* Appends an object; also adds its GstVideoRegionOfInterestMeta when
 * buffer is not NULL and frame_width/height are > 0 (pixel ROI from the
 * box clamped to 0..1, roi_type the label's quark or "object", id the
 * object_id, parent_id -1, param "detection" with the normalized box,
 * confidence, label_id, label and object_id). The buffer must be
 * writable. */
InferObject *infer_detection_meta_add_object(InferDetectionMeta *meta, GstBuffer *buffer,
                                             gdouble x_min, gdouble y_min, gdouble x_max,
                                             gdouble y_max, gfloat confidence, gint label_id,
                                             const gchar *label, gint frame_width,
                                             gint frame_height);
/* Adds a classification to an object (and, when buffer is not NULL and
 * the object has an ROI meta, to the ROI meta as a structure named `name`
 * with fields label_id, confidence, label; NULL or a name that is not a
 * valid GstStructure name gives "classification" there). */
void infer_object_add_class(InferDetectionMeta *meta, GstBuffer *buffer, InferObject *object,
                            const gchar *name, gint label_id, gfloat confidence,
                            const gchar *label);

/* Brings the buffer's GstVideoRegionOfInterestMeta in line with its
 * detection meta for a frame of frame_width x frame_height pixels: for
 * every object, exactly one ROI meta (id == object_id) with the pixel box
 * of this frame size and the "detection" and class params. ROI metas lose
 * their params (GStreamer 1.22's scale transform drops them) or keep stale
 * pixel boxes on the way through videoscale and friends, while the
 * detection meta survives with its normalized boxes; call this where the
 * ROI metas are read (the overlay, an application's probe) with the
 * current caps' size. An ROI meta that still has its params keeps any
 * params others added; duplicates of an object's ROI are removed; ROI
 * metas that are not ours are left alone. Reading functions never do this
 * themselves. The buffer must be writable; no-op without detection meta
 * or with a non-positive size. */
void infer_detection_meta_sync_roi(GstBuffer *buffer, gint frame_width, gint frame_height);

/* ---- frame classification ---------------------------------------------- */
/* Untagged API: every transform copies it. A buffer may carry several
 * (one per classifier); get returns the first. */
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

/* "f32", "f16", "i8", "u8", "i32", "i64", "bool" ("unknown" otherwise). */
const gchar *infer_meta_dtype_name(InferMetaDType dtype);

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
/* Untagged API: every transform copies it (with its data). */
/* Copies data (size bytes; may be NULL when size is 0) into a new tensor
 * meta; rank <= 8, dims may be NULL when rank is 0. NULL on bad
 * arguments. */
InferTensorMeta *infer_buffer_add_tensor_meta(GstBuffer *buffer, const gchar *source,
                                              const gchar *name, InferMetaDType dtype,
                                              guint rank, const gint64 *dims,
                                              gconstpointer data, gsize size);
/* Iterate with a gpointer state initialized to NULL; NULL at the end. */
InferTensorMeta *infer_buffer_iterate_tensor_meta(GstBuffer *buffer, gpointer *state);

/* ---- for shell users and logs ------------------------------------------ */
/* The buffer's metadata as one JSON object on one line, no newline:
 * {"pts":ns|null,"duration":ns|null,"source":".."|null,
 *  "objects":[{"id":1,"x_min":..,"y_min":..,"x_max":..,"y_max":..,
 *              "confidence":..,"label_id":..,"label":".."|null,
 *              "classes":[{"name":"..","label_id":..,"confidence":..,
 *                          "label":".."|null}]}],
 *  "classes":[{"label_id":..,"confidence":..,"label":".."|null,
 *              "source":".."|null}],
 *  "tensors":[{"name":"..","source":"..","dtype":"f32","shape":[1,10],
 *              "bytes":40}]}
 * ("source" is the detection meta's; non-finite numbers are null);
 * g_free the result. */
gchar *infer_buffer_meta_to_json(GstBuffer *buffer);

G_END_DECLS
#endif
