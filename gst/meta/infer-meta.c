/* Metadata of the infer elements: detections (with their
 * GstVideoRegionOfInterestMeta counterparts), frame classifications, raw
 * tensors, and a JSON rendering of them. See infer-meta.h. */
#include "infer-meta.h"

#include <math.h>
#include <string.h>

/* ======================================================================
 * Shared helpers
 * ====================================================================== */

static void class_label_clear(gpointer p) {
  InferClassLabel *c = p;
  g_clear_pointer(&c->label, g_free);
  g_clear_pointer(&c->name, g_free);
}

static GArray *class_array_new(void) {
  GArray *a = g_array_new(FALSE, TRUE, sizeof(InferClassLabel));
  g_array_set_clear_func(a, class_label_clear);
  return a;
}

static void class_array_append(GArray *a, const gchar *name, gint label_id, gfloat confidence,
                               const gchar *label) {
  InferClassLabel c = {
      .label_id = label_id,
      .confidence = confidence,
      .label = g_strdup(label),
      .name = g_strdup(name),
  };
  g_array_append_val(a, c);
}

static void class_array_append_copies(GArray *dst, const GArray *src) {
  if (!src) return;
  for (guint i = 0; i < src->len; i++) {
    const InferClassLabel *c = &g_array_index(src, InferClassLabel, i);
    class_array_append(dst, c->name, c->label_id, c->confidence, c->label);
  }
}

static void object_clear(gpointer p) {
  InferObject *o = p;
  g_clear_pointer(&o->label, g_free);
  g_clear_pointer(&o->classes, g_array_unref);
}

static GArray *object_array_new(void) {
  GArray *a = g_array_new(FALSE, TRUE, sizeof(InferObject));
  g_array_set_clear_func(a, object_clear);
  return a;
}

/* ======================================================================
 * Detection meta
 * ====================================================================== */

static gboolean detection_meta_init(GstMeta *meta, gpointer params, GstBuffer *buffer) {
  (void)params;
  (void)buffer;
  InferDetectionMeta *dm = (InferDetectionMeta *)meta;
  dm->source = NULL;
  dm->objects = object_array_new();
  return TRUE;
}

static void detection_meta_free(GstMeta *meta, GstBuffer *buffer) {
  (void)buffer;
  InferDetectionMeta *dm = (InferDetectionMeta *)meta;
  g_clear_pointer(&dm->source, g_free);
  g_clear_pointer(&dm->objects, g_array_unref);
}

static guint detection_meta_next_id(const InferDetectionMeta *dm) {
  guint next = 1;
  for (guint i = 0; i < dm->objects->len; i++) {
    guint id = g_array_index(dm->objects, InferObject, i).object_id;
    if (id >= next) next = id + 1;
  }
  return next;
}

/* Deep copy of every object of src into dst (at the end). */
static void detection_meta_append_copies(InferDetectionMeta *dst, const InferDetectionMeta *src) {
  for (guint i = 0; i < src->objects->len; i++) {
    const InferObject *s = &g_array_index(src->objects, InferObject, i);
    InferObject o = *s;
    o.label = g_strdup(s->label);
    o.classes = class_array_new();
    class_array_append_copies(o.classes, s->classes);
    g_array_append_val(dst->objects, o);
  }
}

static gboolean detection_meta_transform(GstBuffer *dest, GstMeta *meta, GstBuffer *buffer,
                                         GQuark type, gpointer data) {
  (void)buffer;
  (void)data;
  const InferDetectionMeta *src = (const InferDetectionMeta *)meta;
  /* A copy keeps everything; a scale keeps the normalized boxes as they
   * are. Anything else (flip, rotate, crop) would move the boxes: drop. */
  if (!GST_META_TRANSFORM_IS_COPY(type) && !GST_VIDEO_META_TRANSFORM_IS_SCALE(type)) return FALSE;
  InferDetectionMeta *dst = infer_buffer_add_detection_meta(dest, src->source);
  if (!dst) return FALSE;
  detection_meta_append_copies(dst, src);
  return TRUE;
}

GType infer_detection_meta_api_get_type(void) {
  static gsize type = 0;
  if (g_once_init_enter(&type)) {
    static const gchar *tags[] = {GST_META_TAG_VIDEO_STR, GST_META_TAG_VIDEO_ORIENTATION_STR,
                                  GST_META_TAG_VIDEO_SIZE_STR, NULL};
    GType t = gst_meta_api_type_register("InferDetectionMetaAPI", tags);
    g_once_init_leave(&type, t);
  }
  return (GType)type;
}

const GstMetaInfo *infer_detection_meta_get_info(void) {
  static const GstMetaInfo *info = NULL;
  if (g_once_init_enter(&info)) {
    const GstMetaInfo *mi = gst_meta_register(
        INFER_DETECTION_META_API_TYPE, "InferDetectionMeta", sizeof(InferDetectionMeta),
        detection_meta_init, detection_meta_free, detection_meta_transform);
    g_once_init_leave(&info, mi);
  }
  return info;
}

InferDetectionMeta *infer_buffer_get_detection_meta(GstBuffer *buffer) {
  g_return_val_if_fail(GST_IS_BUFFER(buffer), NULL);
  return (InferDetectionMeta *)gst_buffer_get_meta(buffer, INFER_DETECTION_META_API_TYPE);
}

InferDetectionMeta *infer_buffer_add_detection_meta(GstBuffer *buffer, const gchar *source) {
  g_return_val_if_fail(GST_IS_BUFFER(buffer), NULL);
  InferDetectionMeta *dm = infer_buffer_get_detection_meta(buffer);
  if (dm) {
    if (!dm->source && source) dm->source = g_strdup(source);
    return dm;
  }
  g_return_val_if_fail(gst_buffer_is_writable(buffer), NULL);
  dm = (InferDetectionMeta *)gst_buffer_add_meta(buffer, infer_detection_meta_get_info(), NULL);
  if (dm) dm->source = g_strdup(source);
  return dm;
}

/* ---- the GstVideoRegionOfInterestMeta side ----------------------------- */

static GQuark object_roi_type(const InferObject *o) {
  return o->label && *o->label ? g_quark_from_string(o->label) : g_quark_from_static_string("object");
}

static gdouble clamp01(gdouble v) {
  if (!(v > 0.0)) return 0.0; /* also NaN */
  return v > 1.0 ? 1.0 : v;
}

/* The object's box in pixels of a frame_width x frame_height frame. */
static void object_pixel_box(const InferObject *o, gint frame_width, gint frame_height, guint *x,
                             guint *y, guint *w, guint *h) {
  gdouble x0 = clamp01(MIN(o->x_min, o->x_max)), x1 = clamp01(MAX(o->x_min, o->x_max));
  gdouble y0 = clamp01(MIN(o->y_min, o->y_max)), y1 = clamp01(MAX(o->y_min, o->y_max));
  guint px0 = (guint)lround(x0 * frame_width), px1 = (guint)lround(x1 * frame_width);
  guint py0 = (guint)lround(y0 * frame_height), py1 = (guint)lround(y1 * frame_height);
  *x = px0;
  *y = py0;
  *w = px1 - px0;
  *h = py1 - py0;
}

static GstStructure *object_detection_param(const InferObject *o) {
  GstStructure *s = gst_structure_new("detection", "x_min", G_TYPE_DOUBLE, o->x_min, "y_min",
                                      G_TYPE_DOUBLE, o->y_min, "x_max", G_TYPE_DOUBLE, o->x_max,
                                      "y_max", G_TYPE_DOUBLE, o->y_max, "confidence",
                                      G_TYPE_DOUBLE, (gdouble)o->confidence, "label_id", G_TYPE_INT,
                                      o->label_id, "object_id", G_TYPE_UINT, o->object_id, NULL);
  if (o->label) gst_structure_set(s, "label", G_TYPE_STRING, o->label, NULL);
  return s;
}

/* The ROI param structure name of class c: its name when that is a valid
 * GstStructure name (a letter, then letters, digits or "/-_.:+"), else
 * "classification". */
static const gchar *class_param_name(const InferClassLabel *c) {
  const gchar *n = c->name;
  if (!n || !g_ascii_isalpha(n[0])) return "classification";
  for (const gchar *p = n + 1; *p; p++)
    if (!g_ascii_isalnum(*p) && !strchr("/-_.:+", *p)) return "classification";
  return n;
}

static GstStructure *class_param(const InferClassLabel *c) {
  GstStructure *s = gst_structure_new(class_param_name(c), "label_id", G_TYPE_INT,
                                      c->label_id, "confidence", G_TYPE_DOUBLE,
                                      (gdouble)c->confidence, NULL);
  if (c->label) gst_structure_set(s, "label", G_TYPE_STRING, c->label, NULL);
  return s;
}

/* Whether roi carries the "detection" param of object o (our ROI with its
 * params intact). */
static gboolean roi_has_detection_of(GstVideoRegionOfInterestMeta *roi, const InferObject *o) {
  GstStructure *d = gst_video_region_of_interest_meta_get_param(roi, "detection");
  guint id;
  return d && gst_structure_get_uint(d, "object_id", &id) && id == o->object_id;
}

/* Whether roi is a param-less copy of o's ROI (what a scale transform of
 * GStreamer 1.22 leaves). */
static gboolean roi_is_bare_copy_of(GstVideoRegionOfInterestMeta *roi, const InferObject *o) {
  return roi->params == NULL && roi->id == (gint)o->object_id && roi->roi_type == object_roi_type(o);
}

/* The ROI meta of object o: the one with its detection param, else a
 * param-less copy; NULL if none. */
static GstVideoRegionOfInterestMeta *find_object_roi(GstBuffer *buffer, const InferObject *o) {
  GstVideoRegionOfInterestMeta *bare = NULL;
  gpointer state = NULL;
  GstMeta *m;
  while ((m = gst_buffer_iterate_meta_filtered(buffer, &state,
                                               GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *)m;
    if (roi_has_detection_of(roi, o)) return roi;
    if (!bare && roi_is_bare_copy_of(roi, o)) bare = roi;
  }
  return bare;
}

static void add_object_roi(GstBuffer *buffer, const InferObject *o, gint frame_width,
                           gint frame_height) {
  guint x, y, w, h;
  object_pixel_box(o, frame_width, frame_height, &x, &y, &w, &h);
  GstVideoRegionOfInterestMeta *roi =
      gst_buffer_add_video_region_of_interest_meta_id(buffer, object_roi_type(o), x, y, w, h);
  if (!roi) return;
  roi->id = (gint)o->object_id;
  roi->parent_id = -1;
  gst_video_region_of_interest_meta_add_param(roi, object_detection_param(o));
  for (guint i = 0; o->classes && i < o->classes->len; i++)
    gst_video_region_of_interest_meta_add_param(
        roi, class_param(&g_array_index(o->classes, InferClassLabel, i)));
}

InferObject *infer_detection_meta_add_object(InferDetectionMeta *meta, GstBuffer *buffer,
                                             gdouble x_min, gdouble y_min, gdouble x_max,
                                             gdouble y_max, gfloat confidence, gint label_id,
                                             const gchar *label, gint frame_width,
                                             gint frame_height) {
  g_return_val_if_fail(meta != NULL, NULL);
  InferObject o = {
      .x_min = x_min,
      .y_min = y_min,
      .x_max = x_max,
      .y_max = y_max,
      .confidence = confidence,
      .label_id = label_id,
      .label = g_strdup(label),
      .object_id = detection_meta_next_id(meta),
      .classes = class_array_new(),
  };
  g_array_append_val(meta->objects, o);
  InferObject *added = &g_array_index(meta->objects, InferObject, meta->objects->len - 1);
  if (buffer && frame_width > 0 && frame_height > 0) {
    g_return_val_if_fail(gst_buffer_is_writable(buffer), added);
    add_object_roi(buffer, added, frame_width, frame_height);
  }
  return added;
}

void infer_object_add_class(InferDetectionMeta *meta, GstBuffer *buffer, InferObject *object,
                            const gchar *name, gint label_id, gfloat confidence,
                            const gchar *label) {
  g_return_if_fail(meta != NULL && object != NULL);
  if (!object->classes) object->classes = class_array_new();
  class_array_append(object->classes, name ? name : "classification", label_id, confidence, label);
  if (!buffer) return;
  GstVideoRegionOfInterestMeta *roi = find_object_roi(buffer, object);
  if (!roi) return;
  g_return_if_fail(gst_buffer_is_writable(buffer));
  gst_video_region_of_interest_meta_add_param(
      roi, class_param(&g_array_index(object->classes, InferClassLabel, object->classes->len - 1)));
}

/* Whether roi has a param for class c (same structure name and label_id). */
static gboolean roi_has_class(GstVideoRegionOfInterestMeta *roi, const InferClassLabel *c) {
  const gchar *name = class_param_name(c);
  for (GList *l = roi->params; l; l = l->next) {
    GstStructure *s = l->data;
    gint id;
    if (gst_structure_has_name(s, name) && gst_structure_get_int(s, "label_id", &id) &&
        id == c->label_id)
      return TRUE;
  }
  return FALSE;
}

void infer_detection_meta_sync_roi(GstBuffer *buffer, gint frame_width, gint frame_height) {
  g_return_if_fail(GST_IS_BUFFER(buffer));
  InferDetectionMeta *dm = infer_buffer_get_detection_meta(buffer);
  if (!dm || frame_width <= 0 || frame_height <= 0) return;
  g_return_if_fail(gst_buffer_is_writable(buffer));

  /* Pick, for every object, the ROI meta to keep: one with its detection
   * param (it may hold params of others), else a param-less copy. Every
   * other ROI meta of the object is a duplicate. */
  guint n = dm->objects->len;
  GstVideoRegionOfInterestMeta **keep = g_new0(GstVideoRegionOfInterestMeta *, n ? n : 1);
  GPtrArray *drop = g_ptr_array_new();
  gpointer state = NULL;
  GstMeta *m;
  while ((m = gst_buffer_iterate_meta_filtered(buffer, &state,
                                               GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *)m;
    for (guint i = 0; i < n; i++) {
      const InferObject *o = &g_array_index(dm->objects, InferObject, i);
      gboolean full = roi_has_detection_of(roi, o);
      if (!full && !roi_is_bare_copy_of(roi, o)) continue;
      if (!keep[i]) {
        keep[i] = roi;
      } else if (full && !roi_has_detection_of(keep[i], o)) {
        g_ptr_array_add(drop, keep[i]);
        keep[i] = roi;
      } else {
        g_ptr_array_add(drop, roi);
      }
      break;
    }
  }
  for (guint i = 0; i < drop->len; i++) gst_buffer_remove_meta(buffer, drop->pdata[i]);
  g_ptr_array_free(drop, TRUE);

  for (guint i = 0; i < n; i++) {
    const InferObject *o = &g_array_index(dm->objects, InferObject, i);
    GstVideoRegionOfInterestMeta *roi = keep[i];
    if (!roi) {
      add_object_roi(buffer, o, frame_width, frame_height);
      continue;
    }
    object_pixel_box(o, frame_width, frame_height, &roi->x, &roi->y, &roi->w, &roi->h);
    roi->id = (gint)o->object_id;
    if (!gst_video_region_of_interest_meta_get_param(roi, "detection"))
      gst_video_region_of_interest_meta_add_param(roi, object_detection_param(o));
    for (guint k = 0; o->classes && k < o->classes->len; k++) {
      const InferClassLabel *c = &g_array_index(o->classes, InferClassLabel, k);
      if (!roi_has_class(roi, c)) gst_video_region_of_interest_meta_add_param(roi, class_param(c));
    }
  }
  g_free(keep);
}

/* ======================================================================
 * Classification meta
 * ====================================================================== */

static gboolean classification_meta_init(GstMeta *meta, gpointer params, GstBuffer *buffer) {
  (void)params;
  (void)buffer;
  InferClassificationMeta *cm = (InferClassificationMeta *)meta;
  cm->source = NULL;
  cm->labels = class_array_new();
  return TRUE;
}

static void classification_meta_free(GstMeta *meta, GstBuffer *buffer) {
  (void)buffer;
  InferClassificationMeta *cm = (InferClassificationMeta *)meta;
  g_clear_pointer(&cm->source, g_free);
  g_clear_pointer(&cm->labels, g_array_unref);
}

static gboolean classification_meta_transform(GstBuffer *dest, GstMeta *meta, GstBuffer *buffer,
                                              GQuark type, gpointer data) {
  (void)buffer;
  (void)data;
  const InferClassificationMeta *src = (const InferClassificationMeta *)meta;
  /* Frame classes do not depend on size, format or orientation. */
  (void)type;
  g_return_val_if_fail(gst_buffer_is_writable(dest), FALSE);
  InferClassificationMeta *dst = (InferClassificationMeta *)gst_buffer_add_meta(
      dest, infer_classification_meta_get_info(), NULL);
  if (!dst) return FALSE;
  dst->source = g_strdup(src->source);
  class_array_append_copies(dst->labels, src->labels);
  return TRUE;
}

GType infer_classification_meta_api_get_type(void) {
  static gsize type = 0;
  if (g_once_init_enter(&type)) {
    static const gchar *tags[] = {NULL};
    GType t = gst_meta_api_type_register("InferClassificationMetaAPI", tags);
    g_once_init_leave(&type, t);
  }
  return (GType)type;
}

const GstMetaInfo *infer_classification_meta_get_info(void) {
  static const GstMetaInfo *info = NULL;
  if (g_once_init_enter(&info)) {
    const GstMetaInfo *mi = gst_meta_register(
        INFER_CLASSIFICATION_META_API_TYPE, "InferClassificationMeta",
        sizeof(InferClassificationMeta), classification_meta_init, classification_meta_free,
        classification_meta_transform);
    g_once_init_leave(&info, mi);
  }
  return info;
}

InferClassificationMeta *infer_buffer_add_classification_meta(GstBuffer *buffer,
                                                              const gchar *source) {
  g_return_val_if_fail(GST_IS_BUFFER(buffer), NULL);
  g_return_val_if_fail(gst_buffer_is_writable(buffer), NULL);
  InferClassificationMeta *cm = (InferClassificationMeta *)gst_buffer_add_meta(
      buffer, infer_classification_meta_get_info(), NULL);
  if (cm) cm->source = g_strdup(source);
  return cm;
}

InferClassificationMeta *infer_buffer_get_classification_meta(GstBuffer *buffer) {
  g_return_val_if_fail(GST_IS_BUFFER(buffer), NULL);
  return (InferClassificationMeta *)gst_buffer_get_meta(buffer,
                                                        INFER_CLASSIFICATION_META_API_TYPE);
}

void infer_classification_meta_add(InferClassificationMeta *meta, gint label_id,
                                   gfloat confidence, const gchar *label) {
  g_return_if_fail(meta != NULL);
  class_array_append(meta->labels, NULL, label_id, confidence, label);
}

/* ======================================================================
 * Tensor meta
 * ====================================================================== */

const gchar *infer_meta_dtype_name(InferMetaDType dtype) {
  switch (dtype) {
    case INFER_META_DTYPE_F32: return "f32";
    case INFER_META_DTYPE_F16: return "f16";
    case INFER_META_DTYPE_I8: return "i8";
    case INFER_META_DTYPE_U8: return "u8";
    case INFER_META_DTYPE_I32: return "i32";
    case INFER_META_DTYPE_I64: return "i64";
    case INFER_META_DTYPE_BOOL: return "bool";
  }
  return "unknown";
}

static gboolean tensor_meta_init(GstMeta *meta, gpointer params, GstBuffer *buffer) {
  (void)params;
  (void)buffer;
  InferTensorMeta *tm = (InferTensorMeta *)meta;
  tm->source = NULL;
  tm->name = NULL;
  tm->dtype = INFER_META_DTYPE_F32;
  tm->rank = 0;
  memset(tm->dims, 0, sizeof(tm->dims));
  tm->data = NULL;
  tm->size = 0;
  return TRUE;
}

static void tensor_meta_free(GstMeta *meta, GstBuffer *buffer) {
  (void)buffer;
  InferTensorMeta *tm = (InferTensorMeta *)meta;
  g_clear_pointer(&tm->source, g_free);
  g_clear_pointer(&tm->name, g_free);
  g_clear_pointer(&tm->data, g_free);
  tm->size = 0;
}

static gboolean tensor_meta_transform(GstBuffer *dest, GstMeta *meta, GstBuffer *buffer,
                                      GQuark type, gpointer data) {
  (void)buffer;
  (void)data;
  (void)type; /* raw model outputs do not change with the frame */
  const InferTensorMeta *src = (const InferTensorMeta *)meta;
  return infer_buffer_add_tensor_meta(dest, src->source, src->name, src->dtype, src->rank,
                                      src->dims, src->data, src->size) != NULL;
}

GType infer_tensor_meta_api_get_type(void) {
  static gsize type = 0;
  if (g_once_init_enter(&type)) {
    static const gchar *tags[] = {NULL};
    GType t = gst_meta_api_type_register("InferTensorMetaAPI", tags);
    g_once_init_leave(&type, t);
  }
  return (GType)type;
}

const GstMetaInfo *infer_tensor_meta_get_info(void) {
  static const GstMetaInfo *info = NULL;
  if (g_once_init_enter(&info)) {
    const GstMetaInfo *mi =
        gst_meta_register(INFER_TENSOR_META_API_TYPE, "InferTensorMeta", sizeof(InferTensorMeta),
                          tensor_meta_init, tensor_meta_free, tensor_meta_transform);
    g_once_init_leave(&info, mi);
  }
  return info;
}

InferTensorMeta *infer_buffer_add_tensor_meta(GstBuffer *buffer, const gchar *source,
                                              const gchar *name, InferMetaDType dtype,
                                              guint rank, const gint64 *dims,
                                              gconstpointer data, gsize size) {
  g_return_val_if_fail(GST_IS_BUFFER(buffer), NULL);
  g_return_val_if_fail(gst_buffer_is_writable(buffer), NULL);
  g_return_val_if_fail(rank <= G_N_ELEMENTS(((InferTensorMeta *)NULL)->dims), NULL);
  g_return_val_if_fail(rank == 0 || dims != NULL, NULL);
  g_return_val_if_fail(size == 0 || data != NULL, NULL);
  InferTensorMeta *tm =
      (InferTensorMeta *)gst_buffer_add_meta(buffer, infer_tensor_meta_get_info(), NULL);
  if (!tm) return NULL;
  tm->source = g_strdup(source);
  tm->name = g_strdup(name);
  tm->dtype = dtype;
  tm->rank = rank;
  for (guint i = 0; i < rank; i++) tm->dims[i] = dims[i];
  tm->data = size ? g_memdup2(data, size) : NULL;
  tm->size = size;
  return tm;
}

InferTensorMeta *infer_buffer_iterate_tensor_meta(GstBuffer *buffer, gpointer *state) {
  g_return_val_if_fail(GST_IS_BUFFER(buffer), NULL);
  g_return_val_if_fail(state != NULL, NULL);
  return (InferTensorMeta *)gst_buffer_iterate_meta_filtered(buffer, state,
                                                             INFER_TENSOR_META_API_TYPE);
}

/* ======================================================================
 * JSON
 * ====================================================================== */

static void json_string(GString *out, const gchar *s) {
  if (!s) {
    g_string_append(out, "null");
    return;
  }
  gchar *valid = NULL;
  if (!g_utf8_validate(s, -1, NULL)) s = valid = g_utf8_make_valid(s, -1);
  g_string_append_c(out, '"');
  for (const guchar *p = (const guchar *)s; *p; p++) {
    switch (*p) {
      case '"': g_string_append(out, "\\\""); break;
      case '\\': g_string_append(out, "\\\\"); break;
      case '\b': g_string_append(out, "\\b"); break;
      case '\f': g_string_append(out, "\\f"); break;
      case '\n': g_string_append(out, "\\n"); break;
      case '\r': g_string_append(out, "\\r"); break;
      case '\t': g_string_append(out, "\\t"); break;
      default:
        if (*p < 0x20 || *p == 0x7f)
          g_string_append_printf(out, "\\u%04x", *p);
        else
          g_string_append_c(out, (gchar)*p);
    }
  }
  g_string_append_c(out, '"');
  g_free(valid);
}

static void json_double(GString *out, gdouble v) {
  if (!isfinite(v)) {
    g_string_append(out, "null");
    return;
  }
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_string_append(out, g_ascii_formatd(buf, sizeof(buf), "%.6g", v));
}

static void json_time(GString *out, GstClockTime t) {
  if (GST_CLOCK_TIME_IS_VALID(t))
    g_string_append_printf(out, "%" G_GUINT64_FORMAT, (guint64)t);
  else
    g_string_append(out, "null");
}

/* {"name":..,"label_id":..,"confidence":..,"label":..[,"source":..]} */
static void json_class(GString *out, const InferClassLabel *c, gboolean with_name,
                       const gchar *source, gboolean with_source) {
  g_string_append_c(out, '{');
  if (with_name) {
    g_string_append(out, "\"name\":");
    json_string(out, c->name ? c->name : "classification");
    g_string_append_c(out, ',');
  }
  g_string_append_printf(out, "\"label_id\":%d,\"confidence\":", c->label_id);
  json_double(out, c->confidence);
  g_string_append(out, ",\"label\":");
  json_string(out, c->label);
  if (with_source) {
    g_string_append(out, ",\"source\":");
    json_string(out, source);
  }
  g_string_append_c(out, '}');
}

gchar *infer_buffer_meta_to_json(GstBuffer *buffer) {
  g_return_val_if_fail(GST_IS_BUFFER(buffer), NULL);
  GString *out = g_string_sized_new(256);
  g_string_append(out, "{\"pts\":");
  json_time(out, GST_BUFFER_PTS(buffer));
  g_string_append(out, ",\"duration\":");
  json_time(out, GST_BUFFER_DURATION(buffer));

  InferDetectionMeta *dm = infer_buffer_get_detection_meta(buffer);
  g_string_append(out, ",\"source\":");
  json_string(out, dm ? dm->source : NULL);

  g_string_append(out, ",\"objects\":[");
  for (guint i = 0; dm && i < dm->objects->len; i++) {
    const InferObject *o = &g_array_index(dm->objects, InferObject, i);
    if (i) g_string_append_c(out, ',');
    g_string_append_printf(out, "{\"id\":%u,\"x_min\":", o->object_id);
    json_double(out, o->x_min);
    g_string_append(out, ",\"y_min\":");
    json_double(out, o->y_min);
    g_string_append(out, ",\"x_max\":");
    json_double(out, o->x_max);
    g_string_append(out, ",\"y_max\":");
    json_double(out, o->y_max);
    g_string_append(out, ",\"confidence\":");
    json_double(out, o->confidence);
    g_string_append_printf(out, ",\"label_id\":%d,\"label\":", o->label_id);
    json_string(out, o->label);
    g_string_append(out, ",\"classes\":[");
    for (guint k = 0; o->classes && k < o->classes->len; k++) {
      if (k) g_string_append_c(out, ',');
      json_class(out, &g_array_index(o->classes, InferClassLabel, k), TRUE, NULL, FALSE);
    }
    g_string_append(out, "]}");
  }

  g_string_append(out, "],\"classes\":[");
  gboolean first = TRUE;
  gpointer state = NULL;
  GstMeta *m;
  while ((m = gst_buffer_iterate_meta_filtered(buffer, &state,
                                               INFER_CLASSIFICATION_META_API_TYPE))) {
    const InferClassificationMeta *cm = (const InferClassificationMeta *)m;
    for (guint k = 0; k < cm->labels->len; k++) {
      if (!first) g_string_append_c(out, ',');
      first = FALSE;
      json_class(out, &g_array_index(cm->labels, InferClassLabel, k), FALSE, cm->source, TRUE);
    }
  }

  g_string_append(out, "],\"tensors\":[");
  first = TRUE;
  state = NULL;
  InferTensorMeta *tm;
  while ((tm = infer_buffer_iterate_tensor_meta(buffer, &state))) {
    if (!first) g_string_append_c(out, ',');
    first = FALSE;
    g_string_append(out, "{\"name\":");
    json_string(out, tm->name);
    g_string_append(out, ",\"source\":");
    json_string(out, tm->source);
    g_string_append(out, ",\"dtype\":");
    json_string(out, infer_meta_dtype_name(tm->dtype));
    g_string_append(out, ",\"shape\":[");
    for (guint d = 0; d < tm->rank && d < G_N_ELEMENTS(tm->dims); d++)
      g_string_append_printf(out, "%s%" G_GINT64_FORMAT, d ? "," : "", tm->dims[d]);
    g_string_append_printf(out, "],\"bytes\":%" G_GSIZE_FORMAT "}", tm->size);
  }
  g_string_append(out, "]}");
  return g_string_free(out, FALSE);
}
