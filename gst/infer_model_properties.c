/* The model and preprocessing properties of infer and infercalib: enums,
 * the table (every property with a blurb, range and default), get/set, and
 * the step from property values to preprocessing parameters. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "infer/plugin.h"
#include "infer_model_properties.h"

#define GST_CAT_DEFAULT gst_infer_debug

/* The plugins property lives in the object's data, not in the settings:
 * the libraries it names are loaded into the process when it is set. */
#define PLUGINS_KEY "gst-infer-plugins"

/* Offsets from the element's first id. */
enum {
  P_MODEL,
  P_BACKEND,
  P_DEVICE_ID,
  P_INPUT_ORDER,
  P_INPUT_LAYOUT,
  P_KEEP_ASPECT_RATIO,
  P_PADDING,
  P_PAD_VALUE,
  P_INTERPOLATION,
  P_MEAN,
  P_STD,
  P_SCALE,
  P_PLUGINS,
  P_COUNT
};
G_STATIC_ASSERT(P_COUNT == GST_INFER_MODEL_N_PROPS);

#define DEFAULT_SCALE (1.0 / 255.0)
#define DEFAULT_PAD_VALUE 114.0

/* ---- enums --------------------------------------------------------------------- */


GST_INFER_DEFINE_ENUM(backend_type, "GstInferBackend",
            {INFER_BACKEND_AUTO, "CUDA when a usable GPU is present, else CPU", "auto"},
            {INFER_BACKEND_CPU, "CPU reference backend", "cpu"},
            {INFER_BACKEND_CUDA, "CUDA backend", "cuda"})
GST_INFER_DEFINE_ENUM(input_order_type, "GstInferInputOrder",
            {INFER_ORDER_RGB, "RGB", "rgb"}, {INFER_ORDER_BGR, "BGR", "bgr"},
            {INFER_ORDER_GRAY, "grey (one channel)", "gray"})
GST_INFER_DEFINE_ENUM(padding_type, "GstInferPadding",
            {GST_INFER_PADDING_SYMMETRIC, "letterbox bands on both sides", "symmetric"},
            {GST_INFER_PADDING_BOTTOM_RIGHT, "letterbox band at the bottom or right only",
             "bottom-right"})
GST_INFER_DEFINE_ENUM(interpolation_type, "GstInferInterpolation",
            {INFER_INTERP_BILINEAR, "bilinear", "bilinear"},
            {INFER_INTERP_NEAREST, "nearest neighbour", "nearest"})
GST_INFER_DEFINE_ENUM(input_layout_type, "GstInferInputLayout",
            {GST_INFER_LAYOUT_AUTO, "from the model input's shape: NCHW if dim 1 is 1 or 3, else NHWC",
             "auto"},
            {GST_INFER_LAYOUT_NCHW, "NCHW", "nchw"}, {GST_INFER_LAYOUT_NHWC, "NHWC", "nhwc"})

/* ---- the table ------------------------------------------------------------------- */

#define RW (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS)
#define READY (RW | GST_PARAM_MUTABLE_READY)
#define PLAYING (RW | GST_PARAM_MUTABLE_PLAYING)

static void enum_prop(GObjectClass *k, guint id, const gchar *name, const gchar *blurb, GType t,
                      gint def) {
  g_object_class_install_property(k, id, g_param_spec_enum(name, name, blurb, t, def, READY));
  gst_type_mark_as_plugin_api(t, 0);
}

void gst_infer_model_properties_install(GObjectClass *k, guint first, const gchar *model_blurb,
                                        gboolean model_in_playing) {
  g_object_class_install_property(k, first + P_MODEL, g_param_spec_string("model", "Model",
      model_blurb, NULL, model_in_playing ? PLAYING : READY));
  enum_prop(k, first + P_BACKEND, "backend", "Backend the engine runs on", backend_type(),
            INFER_BACKEND_AUTO);
  g_object_class_install_property(k, first + P_DEVICE_ID, g_param_spec_int("device-id",
      "Device id", "GPU to run on (CUDA backend)", 0, 255, 0, READY));
  enum_prop(k, first + P_INPUT_ORDER, "input-order", "Channel order of the model input (a "
            "one-channel model input is always grey)", input_order_type(), INFER_ORDER_RGB);
  enum_prop(k, first + P_INPUT_LAYOUT, "input-layout", "Layout of the model input",
            input_layout_type(), GST_INFER_LAYOUT_AUTO);
  g_object_class_install_property(k, first + P_KEEP_ASPECT_RATIO, g_param_spec_boolean(
      "keep-aspect-ratio", "Keep aspect ratio", "Letterbox: scale the frame to fit the model "
      "input and pad the rest (boxes are mapped back); false: stretch", TRUE, READY));
  enum_prop(k, first + P_PADDING, "padding", "Where letterbox padding goes", padding_type(),
            GST_INFER_PADDING_SYMMETRIC);
  g_object_class_install_property(k, first + P_PAD_VALUE, g_param_spec_double("pad-value",
      "Pad value", "Letterbox padding, in pixel units 0..255 before normalization", 0.0, 255.0,
      DEFAULT_PAD_VALUE, READY));
  enum_prop(k, first + P_INTERPOLATION, "interpolation", "Resize interpolation",
            interpolation_type(), INFER_INTERP_BILINEAR);
  g_object_class_install_property(k, first + P_MEAN, g_param_spec_string("mean", "Mean",
      "Per-channel mean \"r,g,b\" (or one value), in the model's order: "
      "value = (pixel * scale - mean) / std", "0,0,0", READY));
  g_object_class_install_property(k, first + P_STD, g_param_spec_string("std", "Std",
      "Per-channel standard deviation \"r,g,b\" (or one value), non-zero", "1,1,1", READY));
  g_object_class_install_property(k, first + P_SCALE, g_param_spec_double("scale", "Scale",
      "Factor applied to pixel values 0..255 before mean and std (default 1/255)", 0.0,
      1000.0, DEFAULT_SCALE, READY));
  g_object_class_install_property(k, first + P_PLUGINS, g_param_spec_string("plugins",
      "Plugins", "Plugin libraries of custom layers, separated by ':' or ','; loaded into the "
      "process when set (as with INFER_PLUGIN_PATH); set it before the model", NULL, READY));
}

/* ---- settings --------------------------------------------------------------------- */

void gst_infer_model_settings_init(GstInferModelSettings *s) {
  memset(s, 0, sizeof *s);
  s->mean = g_strdup("0,0,0");
  s->std = g_strdup("1,1,1");
  s->backend = INFER_BACKEND_AUTO;
  s->input_order = INFER_ORDER_RGB;
  s->keep_aspect = TRUE;
  s->padding = GST_INFER_PADDING_SYMMETRIC;
  s->interpolation = INFER_INTERP_BILINEAR;
  s->pad_value = DEFAULT_PAD_VALUE;
  s->scale = DEFAULT_SCALE;
  s->input_layout = GST_INFER_LAYOUT_AUTO;
}

void gst_infer_model_settings_clear(GstInferModelSettings *s) {
  g_free(s->path);
  g_free(s->mean);
  g_free(s->std);
  memset(s, 0, sizeof *s);
}

void gst_infer_model_settings_copy(GstInferModelSettings *dst, const GstInferModelSettings *src) {
  *dst = *src;
  dst->path = g_strdup(src->path);
  dst->mean = g_strdup(src->mean);
  dst->std = g_strdup(src->std);
}

static void set_string(gchar **field, const GValue *value) {
  g_free(*field);
  *field = g_value_dup_string(value);
}

gboolean gst_infer_model_property_set(GstElement *element, GstInferModelSettings *s,
                                      guint first, guint prop_id, const GValue *value) {
  if (prop_id < first || prop_id >= first + P_COUNT) return FALSE;
  guint p = prop_id - first;
  if (p == P_PLUGINS) {
    const gchar *list = g_value_get_string(value);
    g_object_set_data_full(G_OBJECT(element), PLUGINS_KEY, g_strdup(list), g_free);
    /* a library that fails is remembered by the registry, and the errors
       of the model build it breaks name it */
    InferStatus *st = infer_plugin_load_libraries(list);
    if (st) {
      GST_ELEMENT_WARNING(element, LIBRARY, INIT, ("plugins: %s", infer_status_message(st)),
                          (NULL));
      infer_status_free(st);
    }
    return TRUE;
  }
  GST_OBJECT_LOCK(element);
  switch (p) {
    case P_MODEL: set_string(&s->path, value); break;
    case P_BACKEND: s->backend = g_value_get_enum(value); break;
    case P_DEVICE_ID: s->device_id = g_value_get_int(value); break;
    case P_INPUT_ORDER: s->input_order = g_value_get_enum(value); break;
    case P_INPUT_LAYOUT: s->input_layout = g_value_get_enum(value); break;
    case P_KEEP_ASPECT_RATIO: s->keep_aspect = g_value_get_boolean(value); break;
    case P_PADDING: s->padding = g_value_get_enum(value); break;
    case P_PAD_VALUE: s->pad_value = g_value_get_double(value); break;
    case P_INTERPOLATION: s->interpolation = g_value_get_enum(value); break;
    case P_MEAN: set_string(&s->mean, value); break;
    case P_STD: set_string(&s->std, value); break;
    case P_SCALE: s->scale = g_value_get_double(value); break;
    default: break;
  }
  GST_OBJECT_UNLOCK(element);
  return TRUE;
}

gboolean gst_infer_model_property_get(GstElement *element, const GstInferModelSettings *s,
                                      guint first, guint prop_id, GValue *value) {
  if (prop_id < first || prop_id >= first + P_COUNT) return FALSE;
  GST_OBJECT_LOCK(element);
  switch (prop_id - first) {
    case P_MODEL: g_value_set_string(value, s->path); break;
    case P_BACKEND: g_value_set_enum(value, s->backend); break;
    case P_DEVICE_ID: g_value_set_int(value, s->device_id); break;
    case P_INPUT_ORDER: g_value_set_enum(value, s->input_order); break;
    case P_INPUT_LAYOUT: g_value_set_enum(value, s->input_layout); break;
    case P_KEEP_ASPECT_RATIO: g_value_set_boolean(value, s->keep_aspect); break;
    case P_PADDING: g_value_set_enum(value, s->padding); break;
    case P_PAD_VALUE: g_value_set_double(value, s->pad_value); break;
    case P_INTERPOLATION: g_value_set_enum(value, s->interpolation); break;
    case P_MEAN: g_value_set_string(value, s->mean); break;
    case P_STD: g_value_set_string(value, s->std); break;
    case P_SCALE: g_value_set_double(value, s->scale); break;
    case P_PLUGINS:
      g_value_set_string(value, g_object_get_data(G_OBJECT(element), PLUGINS_KEY));
      break;
    default: break;
  }
  GST_OBJECT_UNLOCK(element);
  return TRUE;
}

void gst_infer_model_settings_options(const GstInferModelSettings *s, InferModelOptions *o) {
  o->model_path = s->path;
  o->backend = s->backend;
  o->device_id = s->device_id;
  o->layout = s->input_layout;
}

/* ---- preprocessing ------------------------------------------------------------------ */

gboolean gst_infer_model_settings_preprocess(const GstInferModelSettings *s,
                                             InferPreprocessParams *p, const gchar **property,
                                             gchar **reason) {
  gfloat mean[3], std[3];
  if (!gst_infer_parse_triplet(s->mean, mean, FALSE, reason)) {
    *property = "mean";
    return FALSE;
  }
  if (!gst_infer_parse_triplet(s->std, std, TRUE, reason)) {
    *property = "std";
    return FALSE;
  }
  infer_preprocess_defaults(p, 1, 1);
  p->order = s->input_order;
  p->interp = s->interpolation;
  p->keep_aspect = s->keep_aspect;
  p->pad_symmetric = s->padding == GST_INFER_PADDING_SYMMETRIC;
  p->pad_value = (float)s->pad_value;
  p->scale = (float)s->scale;
  for (int c = 0; c < 3; c++) {
    p->mean[c] = mean[c];
    p->std[c] = std[c];
  }
  return TRUE;
}

void gst_infer_model_preprocess_params(const InferPreprocessParams *p, const InferModel *m,
                                       InferPreprocessParams *out) {
  *out = *p;
  out->out_width = m->width;
  out->out_height = m->height;
  out->layout = m->layout;
  out->dtype = m->input_dtype;
  if (m->channels == 1) out->order = INFER_ORDER_GRAY;
}

gboolean gst_infer_model_settings_check(const GstInferModelSettings *s, const InferModel *m,
                                        GError **error) {
  if (m->channels == 3 && s->input_order == INFER_ORDER_GRAY) {
    g_set_error(error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
                "property input-order=gray, but the model '%s' (property model) takes 3 channels",
                m->path);
    return FALSE;
  }
  if (m->input_dtype == INFER_DTYPE_U8 && s->scale < 0.5)
    GST_WARNING("the model '%s' takes u8 pixels but scale is %g: set scale=1 for raw 0..255 "
                "values", m->path, s->scale);
  return TRUE;
}

gboolean gst_infer_pixel_format(GstVideoFormat f, InferPixelFormat *out) {
  switch (f) {
    case GST_VIDEO_FORMAT_RGB: *out = INFER_PIXEL_RGB; return TRUE;
    case GST_VIDEO_FORMAT_BGR: *out = INFER_PIXEL_BGR; return TRUE;
    case GST_VIDEO_FORMAT_RGBA: *out = INFER_PIXEL_RGBA; return TRUE;
    case GST_VIDEO_FORMAT_BGRA: *out = INFER_PIXEL_BGRA; return TRUE;
    case GST_VIDEO_FORMAT_RGBx: *out = INFER_PIXEL_RGBX; return TRUE;
    case GST_VIDEO_FORMAT_BGRx: *out = INFER_PIXEL_BGRX; return TRUE;
    case GST_VIDEO_FORMAT_GRAY8: *out = INFER_PIXEL_GRAY8; return TRUE;
    case GST_VIDEO_FORMAT_NV12: *out = INFER_PIXEL_NV12; return TRUE;
    case GST_VIDEO_FORMAT_I420: *out = INFER_PIXEL_I420; return TRUE;
    default: return FALSE;
  }
}

gboolean gst_infer_image_from_frame(const GstVideoFrame *vf, InferImage *img) {
  memset(img, 0, sizeof *img);
  if (!gst_infer_pixel_format(GST_VIDEO_FRAME_FORMAT(vf), &img->format)) return FALSE;
  img->width = GST_VIDEO_FRAME_WIDTH(vf);
  img->height = GST_VIDEO_FRAME_HEIGHT(vf);
  for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES(vf) && p < 3; p++) {
    img->planes[p] = GST_VIDEO_FRAME_PLANE_DATA(vf, p);
    img->strides[p] = GST_VIDEO_FRAME_PLANE_STRIDE(vf, p);
  }
  return TRUE;
}

/* ---- parsing ---------------------------------------------------------------------- */

gboolean gst_infer_parse_triplet(const gchar *text, gfloat out[3], gboolean nonzero,
                                 gchar **reason) {
  if (!text || !*text) {
    *reason = g_strdup("it is empty; expected \"r,g,b\" or one number");
    return FALSE;
  }
  gchar **parts = g_strsplit(text, ",", -1);
  guint n = g_strv_length(parts);
  gboolean ok = n == 1 || n == 3;
  if (!ok) *reason = g_strdup_printf("'%s' has %u values; expected 3 (\"r,g,b\") or 1", text, n);
  for (guint i = 0; ok && i < n; i++) {
    gchar *p = g_strstrip(parts[i]), *end = NULL;
    /* checked as the float it is used as: 1e-50 or 1e300 are finite
     * doubles but become 0 and inf there */
    gdouble d = g_ascii_strtod(p, &end);
    gfloat v = isfinite(d) && fabs(d) <= FLT_MAX ? (gfloat)d : INFINITY;
    if (!*p || !end || *end) {
      *reason = g_strdup_printf("'%s' is not a number (in '%s')", p, text);
      ok = FALSE;
    } else if (!isfinite(v)) {
      *reason = g_strdup_printf("'%s' is not a finite single-precision number (in '%s')", p,
                                text);
      ok = FALSE;
    } else if (nonzero && v == 0.0f) {
      *reason = g_strdup_printf("'%s' has a zero value (division by zero)", text);
      ok = FALSE;
    } else {
      out[i] = v;
    }
  }
  if (ok && n == 1) out[1] = out[2] = out[0];
  g_strfreev(parts);
  return ok;
}
