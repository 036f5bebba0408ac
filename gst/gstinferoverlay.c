/* The inferoverlay element (see gstinferoverlay.h): a GstVideoFilter that
 * draws the infer metadata of each frame in place: the metadata becomes a
 * command list (overlay_draw.h), painted on the host, or on the GPU for
 * frames in CUDA memory (overlay_cuda.h). */
#include "gstinferoverlay.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "infer-meta.h"
#include "overlay_cuda.h"
#include "overlay_draw.h"

GST_DEBUG_CATEGORY_STATIC(gst_infer_overlay_debug);
#define GST_CAT_DEFAULT gst_infer_overlay_debug

#define VIDEO_FORMATS "{ NV12, I420, RGBA, BGRA, RGBx, BGRx, RGB, BGR, GRAY8 }"
/* Frames in CUDA memory are drawn on the GPU where they are; the caps
 * intersection picks system memory when a neighbour cannot take them. */
#ifdef INFER_HAVE_GST_CUDA
#define VIDEO_CAPS                                                             \
  GST_VIDEO_CAPS_MAKE_WITH_FEATURES("memory:CUDAMemory", VIDEO_FORMATS) "; " \
  GST_VIDEO_CAPS_MAKE(VIDEO_FORMATS)
#else
#define VIDEO_CAPS GST_VIDEO_CAPS_MAKE(VIDEO_FORMATS)
#endif

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(VIDEO_CAPS));
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(VIDEO_CAPS));

G_DEFINE_TYPE_WITH_CODE(GstInferOverlay, gst_infer_overlay, GST_TYPE_VIDEO_FILTER,
                        GST_DEBUG_CATEGORY_INIT(gst_infer_overlay_debug, "inferoverlay", 0,
                                                "inferoverlay: draws infer metadata"));

enum {
  PROP_0,
  PROP_LINE_THICKNESS,
  PROP_FONT_SCALE,
  PROP_SHOW_BOXES,
  PROP_SHOW_LABELS,
  PROP_SHOW_CONFIDENCE,
  PROP_SHOW_FRAME_LABEL,
  PROP_LABEL_POSITION,
};

#define DEFAULT_LINE_THICKNESS 2
#define DEFAULT_FONT_SCALE 0
#define FRAME_LABEL_RGB ((OverlayRgb){32, 32, 32})
#define MAX_TEXT 256

static const gchar *long_description =
    "Draws the results of the infer element onto the video, in place: the box of every "
    "object of the InferDetectionMeta in its class colour (a fixed palette by label id), a "
    "filled label tab with the label and confidence (\"car 0.93\") followed by the classes "
    "that secondary inference (process-mode=roi) added to the object, and the best class of "
    "each InferClassificationMeta at the top left. Boxes are clipped to the frame; in NV12 "
    "and I420 they are widened to even coordinates so that colours stay exact. Frames "
    "without metadata pass unchanged. Frames in CUDA memory (memory:CUDAMemory, when built "
    "with the CUDA backend and gstreamer-cuda) are drawn in place on the GPU.\n"
    "Example: gst-launch-1.0 filesrc location=in.mp4 ! decodebin ! videoconvert ! "
    "infer model=detector.onnx labels=labels.txt ! inferoverlay line-thickness=3 ! "
    "videoconvert ! autovideosink";

static GType label_position_type(void) {
  static GType type = 0;
  if (g_once_init_enter(&type)) {
    static const GEnumValue values[] = {
        {GST_INFER_OVERLAY_LABEL_ABOVE,
         "above the box's top left corner (inside when there is no room above)", "above"},
        {GST_INFER_OVERLAY_LABEL_INSIDE, "inside the box, at its top left corner", "inside"},
        {GST_INFER_OVERLAY_LABEL_BELOW,
         "below the box's bottom left corner (inside when there is no room below)", "below"},
        {0, NULL, NULL}};
    GType t = g_enum_register_static("GstInferOverlayLabelPosition", values);
    g_once_init_leave(&type, t);
  }
  return type;
}

/* ---- properties ------------------------------------------------------------------------ */

static void gst_infer_overlay_set_property(GObject *object, guint prop_id, const GValue *value,
                                           GParamSpec *pspec) {
  GstInferOverlay *self = GST_INFER_OVERLAY(object);
  GstInferOverlaySettings *s = &self->settings;
  GST_OBJECT_LOCK(self);
  switch (prop_id) {
    case PROP_LINE_THICKNESS: s->line_thickness = g_value_get_uint(value); break;
    case PROP_FONT_SCALE: s->font_scale = g_value_get_uint(value); break;
    case PROP_SHOW_BOXES: s->show_boxes = g_value_get_boolean(value); break;
    case PROP_SHOW_LABELS: s->show_labels = g_value_get_boolean(value); break;
    case PROP_SHOW_CONFIDENCE: s->show_confidence = g_value_get_boolean(value); break;
    case PROP_SHOW_FRAME_LABEL: s->show_frame_label = g_value_get_boolean(value); break;
    case PROP_LABEL_POSITION: s->label_position = g_value_get_enum(value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_infer_overlay_get_property(GObject *object, guint prop_id, GValue *value,
                                           GParamSpec *pspec) {
  GstInferOverlay *self = GST_INFER_OVERLAY(object);
  GstInferOverlaySettings *s = &self->settings;
  GST_OBJECT_LOCK(self);
  switch (prop_id) {
    case PROP_LINE_THICKNESS: g_value_set_uint(value, s->line_thickness); break;
    case PROP_FONT_SCALE: g_value_set_uint(value, s->font_scale); break;
    case PROP_SHOW_BOXES: g_value_set_boolean(value, s->show_boxes); break;
    case PROP_SHOW_LABELS: g_value_set_boolean(value, s->show_labels); break;
    case PROP_SHOW_CONFIDENCE: g_value_set_boolean(value, s->show_confidence); break;
    case PROP_SHOW_FRAME_LABEL: g_value_set_boolean(value, s->show_frame_label); break;
    case PROP_LABEL_POSITION: g_value_set_enum(value, s->label_position); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
}

#define RW_PLAYING (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING)

static void install_bool(GObjectClass *k, guint id, const gchar *name, const gchar *blurb) {
  g_object_class_install_property(k, id, g_param_spec_boolean(name, name, blurb, TRUE,
                                                              RW_PLAYING));
}

static void install_properties(GObjectClass *k) {
  g_object_class_install_property(k, PROP_LINE_THICKNESS, g_param_spec_uint("line-thickness",
      "Line thickness", "Width of the box outlines in pixels (drawn inside the box)", 1, 20,
      DEFAULT_LINE_THICKNESS, RW_PLAYING));
  g_object_class_install_property(k, PROP_FONT_SCALE, g_param_spec_uint("font-scale",
      "Font scale", "Size of the 8x13 font as a whole multiple; 0: by frame height (1 below "
      "720 lines, 2 at 720p, 3 at 1080p, ...)", 0, 8, DEFAULT_FONT_SCALE, RW_PLAYING));
  install_bool(k, PROP_SHOW_BOXES, "show-boxes", "Draw the box outline of every object");
  install_bool(k, PROP_SHOW_LABELS, "show-labels",
               "Draw a label tab with every object's label (and its classes)");
  install_bool(k, PROP_SHOW_CONFIDENCE, "show-confidence",
               "Write the confidences after the labels");
  install_bool(k, PROP_SHOW_FRAME_LABEL, "show-frame-label",
               "Write the best frame class of each classification meta at the top left");
  g_object_class_install_property(k, PROP_LABEL_POSITION, g_param_spec_enum("label-position",
      "Label position", "Where an object's label tab goes", label_position_type(),
      GST_INFER_OVERLAY_LABEL_ABOVE, RW_PLAYING));
  gst_type_mark_as_plugin_api(label_position_type(), 0);
}

/* ---- drawing -------------------------------------------------------------------------- */

static gboolean format_of(GstVideoFormat f, OverlayFormat *out) {
  switch (f) {
    case GST_VIDEO_FORMAT_NV12: *out = OVERLAY_FORMAT_NV12; return TRUE;
    case GST_VIDEO_FORMAT_I420: *out = OVERLAY_FORMAT_I420; return TRUE;
    case GST_VIDEO_FORMAT_RGBA: *out = OVERLAY_FORMAT_RGBA; return TRUE;
    case GST_VIDEO_FORMAT_BGRA: *out = OVERLAY_FORMAT_BGRA; return TRUE;
    case GST_VIDEO_FORMAT_RGBx: *out = OVERLAY_FORMAT_RGBX; return TRUE;
    case GST_VIDEO_FORMAT_BGRx: *out = OVERLAY_FORMAT_BGRX; return TRUE;
    case GST_VIDEO_FORMAT_RGB: *out = OVERLAY_FORMAT_RGB; return TRUE;
    case GST_VIDEO_FORMAT_BGR: *out = OVERLAY_FORMAT_BGR; return TRUE;
    case GST_VIDEO_FORMAT_GRAY8: *out = OVERLAY_FORMAT_GRAY8; return TRUE;
    default: return FALSE;
  }
}

/* Appends "label 0.93" (or "class 3 0.93") to text. */
static void append_class(GString *text, const gchar *label, gint label_id, gfloat confidence,
                         gboolean show_confidence) {
  if (label && *label) g_string_append(text, label);
  else g_string_append_printf(text, "class %d", label_id);
  if (show_confidence && isfinite(confidence)) {
    /* locale-independent "0.93" */
    gint hundredths = (gint)lrintf(CLAMP(confidence, 0.0f, 1.0f) * 100.0f);
    g_string_append_printf(text, " %d.%02d", hundredths / 100, hundredths % 100);
  }
}

static void object_text(const InferObject *o, gboolean show_confidence, GString *text) {
  g_string_truncate(text, 0);
  append_class(text, o->label, o->label_id, o->confidence, show_confidence);
  for (guint i = 0; o->classes && i < o->classes->len; i++) {
    const InferClassLabel *c = &g_array_index(o->classes, InferClassLabel, i);
    g_string_append(text, " | ");
    append_class(text, c->label, c->label_id, c->confidence, show_confidence);
  }
  if (text->len > MAX_TEXT) g_string_truncate(text, MAX_TEXT);
}

/* A label tab of `text` whose top left is at (x, y) (moved to stay in the
 * frame), filled with `bg`. */
static void draw_tab(OverlayCommandList *list, gint x, gint y, const gchar *text, gint scale,
                     OverlayRgb bg) {
  gint pad = scale;
  gint w = overlay_text_width(text, scale) + pad, h = overlay_text_height(scale) + 2 * pad;
  if (x + w > list->width) x = list->width - w;
  if (x < 0) x = 0;
  if (y + h > list->height) y = list->height - h;
  if (y < 0) y = 0;
  overlay_fill_rect(list, x, y, x + w, y + h, overlay_color(list->format, bg));
  overlay_draw_text(list, x + pad, y + pad, text, scale,
                    overlay_color(list->format, overlay_text_rgb(bg)));
}

typedef struct {
  gint x0, y0, x1, y1;
} PixelBox;

/* The object's box in frame pixels, clipped; FALSE when nothing is left. */
static gboolean object_box(const InferObject *o, gint width, gint height, PixelBox *b) {
  if (!isfinite(o->x_min) || !isfinite(o->y_min) || !isfinite(o->x_max) ||
      !isfinite(o->y_max))
    return FALSE;
  b->x0 = (gint)lround(CLAMP(o->x_min, 0.0, 1.0) * width);
  b->y0 = (gint)lround(CLAMP(o->y_min, 0.0, 1.0) * height);
  b->x1 = (gint)lround(CLAMP(o->x_max, 0.0, 1.0) * width);
  b->y1 = (gint)lround(CLAMP(o->y_max, 0.0, 1.0) * height);
  return b->x1 > b->x0 && b->y1 > b->y0;
}

static void draw_objects(OverlayCommandList *list, const InferDetectionMeta *dm,
                         const GstInferOverlaySettings *s, gint scale) {
  guint n = dm->objects->len;
  /* outlines first, then every tab, so that no outline crosses a label */
  if (s->show_boxes) {
    for (guint i = 0; i < n; i++) {
      const InferObject *o = &g_array_index(dm->objects, InferObject, i);
      PixelBox b;
      if (!object_box(o, list->width, list->height, &b)) continue;
      overlay_draw_outline(list, b.x0, b.y0, b.x1, b.y1, (gint)s->line_thickness,
                           overlay_color(list->format, overlay_palette(o->label_id)));
    }
  }
  if (!s->show_labels) return;
  GString *text = g_string_new(NULL);
  gint tab_h = overlay_text_height(scale) + 2 * scale;
  for (guint i = 0; i < n; i++) {
    const InferObject *o = &g_array_index(dm->objects, InferObject, i);
    PixelBox b;
    if (!object_box(o, list->width, list->height, &b)) continue;
    object_text(o, s->show_confidence, text);
    gint y;
    switch (s->label_position) {
      case GST_INFER_OVERLAY_LABEL_INSIDE: y = b.y0; break;
      case GST_INFER_OVERLAY_LABEL_BELOW:
        y = b.y1 + tab_h <= list->height ? b.y1 : b.y1 - tab_h;
        break;
      default: y = b.y0 - tab_h >= 0 ? b.y0 - tab_h : b.y0; break;
    }
    draw_tab(list, b.x0, y, text->str, scale, overlay_palette(o->label_id));
  }
  g_string_free(text, TRUE);
}

static void draw_frame_labels(OverlayCommandList *list, GstBuffer *buffer,
                              const GstInferOverlaySettings *s, gint scale) {
  gpointer state = NULL;
  GstMeta *meta;
  GString *text = g_string_new(NULL);
  gint y = 0, line_h = overlay_text_height(scale) + 2 * scale;
  while ((meta = gst_buffer_iterate_meta_filtered(buffer, &state,
                                                  INFER_CLASSIFICATION_META_API_TYPE))) {
    const InferClassificationMeta *cm = (const InferClassificationMeta *)meta;
    if (!cm->labels || cm->labels->len == 0) continue;
    const InferClassLabel *c = &g_array_index(cm->labels, InferClassLabel, 0);
    g_string_truncate(text, 0);
    append_class(text, c->label, c->label_id, c->confidence, s->show_confidence);
    if (text->len > MAX_TEXT) g_string_truncate(text, MAX_TEXT);
    draw_tab(list, 0, y, text->str, scale, FRAME_LABEL_RGB);
    y += line_h;
    if (y >= list->height) break;
  }
  g_string_free(text, TRUE);
}

/* Paints the frame's command list where the frame is: in CUDA memory on
 * the GPU, otherwise mapped on the host. */
static GstFlowReturn paint(GstInferOverlay *self, GstBuffer *buffer, const GstVideoInfo *info) {
  gboolean painted = FALSE;
  InferStatus *st = overlay_cuda_paint(self->cuda, buffer, info, &self->list, &painted);
  if (st) {
    GST_ELEMENT_ERROR(self, RESOURCE, FAILED, ("drawing on a frame in CUDA memory failed"),
                      ("%s", infer_status_message(st)));
    infer_status_free(st);
    return GST_FLOW_ERROR;
  }
  if (painted) return GST_FLOW_OK;
  GstVideoFrame frame;
  if (!gst_video_frame_map(&frame, info, buffer, GST_MAP_READWRITE)) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("cannot map a %dx%d video frame for drawing",
                      GST_VIDEO_INFO_WIDTH(info), GST_VIDEO_INFO_HEIGHT(info)), (NULL));
    return GST_FLOW_ERROR;
  }
  OverlayImage img;
  memset(&img, 0, sizeof img);
  img.format = self->list.format;
  img.width = GST_VIDEO_FRAME_WIDTH(&frame);
  img.height = GST_VIDEO_FRAME_HEIGHT(&frame);
  for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES(&frame) && p < 3; p++) {
    img.planes[p] = GST_VIDEO_FRAME_PLANE_DATA(&frame, p);
    img.strides[p] = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, p);
  }
  overlay_paint(&self->list, &img);
  gst_video_frame_unmap(&frame);
  return GST_FLOW_OK;
}

/* In place, mapping the frame itself (GstVideoFilter would map CUDA memory
 * on the host) and only when there is something to draw. */
static GstFlowReturn gst_infer_overlay_transform_ip(GstBaseTransform *trans, GstBuffer *buffer) {
  GstInferOverlay *self = GST_INFER_OVERLAY(trans);
  GstVideoFilter *filter = GST_VIDEO_FILTER(trans);
  if (!filter->negotiated) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("no caps before the first frame"), (NULL));
    return GST_FLOW_NOT_NEGOTIATED;
  }
  const GstVideoInfo *info = &filter->in_info;
  OverlayFormat format;
  if (!format_of(GST_VIDEO_INFO_FORMAT(info), &format)) {
    GST_ELEMENT_ERROR(self, STREAM, FORMAT, ("unsupported video format %s",
                      gst_video_format_to_string(GST_VIDEO_INFO_FORMAT(info))), (NULL));
    return GST_FLOW_NOT_NEGOTIATED;
  }
  GstInferOverlaySettings s;
  GST_OBJECT_LOCK(self);
  s = self->settings;
  GST_OBJECT_UNLOCK(self);

  gint width = GST_VIDEO_INFO_WIDTH(info), height = GST_VIDEO_INFO_HEIGHT(info);
  gint scale = s.font_scale ? (gint)s.font_scale : MAX(1, height / 360);
  overlay_list_reset(&self->list, format, width, height);
  InferDetectionMeta *dm = infer_buffer_get_detection_meta(buffer);
  if (dm) {
    /* keep the ROI metas of this frame size in line for whoever reads them downstream */
    if (gst_buffer_is_writable(buffer)) infer_detection_meta_sync_roi(buffer, width, height);
    if (dm->objects && (s.show_boxes || s.show_labels)) draw_objects(&self->list, dm, &s, scale);
  }
  if (s.show_frame_label) draw_frame_labels(&self->list, buffer, &s, scale);
  if (self->list.out_of_memory) {
    GST_ELEMENT_ERROR(self, RESOURCE, FAILED, ("out of memory for the drawing commands"), (NULL));
    return GST_FLOW_ERROR;
  }
  return self->list.n ? paint(self, buffer, info) : GST_FLOW_OK;
}

static gboolean gst_infer_overlay_stop(GstBaseTransform *trans) {
  GstInferOverlay *self = GST_INFER_OVERLAY(trans);
  overlay_cuda_free(self->cuda);
  self->cuda = overlay_cuda_new();
  overlay_list_free(&self->list);
  return TRUE;
}

static void gst_infer_overlay_finalize(GObject *object) {
  GstInferOverlay *self = GST_INFER_OVERLAY(object);
  overlay_cuda_free(self->cuda);
  overlay_list_free(&self->list);
  G_OBJECT_CLASS(gst_infer_overlay_parent_class)->finalize(object);
}

/* ---- GObject ------------------------------------------------------------------------- */

static void gst_infer_overlay_class_init(GstInferOverlayClass *klass) {
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS(klass);
  gobject_class->set_property = gst_infer_overlay_set_property;
  gobject_class->get_property = gst_infer_overlay_get_property;
  gobject_class->finalize = gst_infer_overlay_finalize;
  install_properties(gobject_class);
  /* replaces GstVideoFilter's, which maps every frame on the host */
  trans_class->transform_ip = GST_DEBUG_FUNCPTR(gst_infer_overlay_transform_ip);
  trans_class->stop = GST_DEBUG_FUNCPTR(gst_infer_overlay_stop);
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(element_class, "Inference overlay",
                                        "Filter/Effect/Video", long_description,
                                        "infer project");
}

static void gst_infer_overlay_init(GstInferOverlay *self) {
  GstInferOverlaySettings *s = &self->settings;
  s->line_thickness = DEFAULT_LINE_THICKNESS;
  s->font_scale = DEFAULT_FONT_SCALE;
  s->show_boxes = s->show_labels = s->show_confidence = s->show_frame_label = TRUE;
  s->label_position = GST_INFER_OVERLAY_LABEL_ABOVE;
  overlay_list_init(&self->list, OVERLAY_FORMAT_RGB, 0, 0);
  self->cuda = overlay_cuda_new();
  /* always in place, never passthrough: frames are drawn on */
  gst_base_transform_set_in_place(GST_BASE_TRANSFORM(self), TRUE);
}
