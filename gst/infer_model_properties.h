/* Properties shared by the elements that run a model on video frames
 * (infer, infercalib): the model, where it runs, and how frames become
 * model input (channel order, layout, letterbox, interpolation,
 * normalization), plus the plugin libraries. One table, one parser and one
 * preprocessing set-up, so that both elements feed a model exactly the same
 * values for the same property values. */
#ifndef GST_INFER_MODEL_PROPERTIES_H
#define GST_INFER_MODEL_PROPERTIES_H

#include <gst/gst.h>
#include <gst/video/video.h>

#include "infer_model.h"
#include "preprocess.h"

G_BEGIN_DECLS

typedef enum { GST_INFER_PADDING_SYMMETRIC, GST_INFER_PADDING_BOTTOM_RIGHT } GstInferPadding;

/* Values of the shared properties (under the element's object lock). */
typedef struct GstInferModelSettings {
  gchar *path;                  /* property model */
  gchar *mean, *std;
  InferBackendKind backend;
  gint device_id;
  InferChannelOrder input_order;
  gboolean keep_aspect;
  GstInferPadding padding;
  InferInterp interpolation;
  gdouble pad_value;
  gdouble scale;
  GstInferInputLayout input_layout;
} GstInferModelSettings;

/* The shared properties take GST_INFER_MODEL_N_PROPS consecutive ids from
 * the element's first_id on: model, backend, device-id, input-order,
 * input-layout, keep-aspect-ratio, padding, pad-value, interpolation, mean,
 * std, scale, plugins. */
#define GST_INFER_MODEL_N_PROPS 13

/* The id of the model property (the first one). */
#define GST_INFER_MODEL_PROP_MODEL(first_id) (first_id)

/* Installs the shared properties. model_blurb describes what the element
 * does with the model; model_in_playing makes it mutable in PLAYING. */
void gst_infer_model_properties_install(GObjectClass *klass, guint first_id,
                                        const gchar *model_blurb, gboolean model_in_playing);
/* Set / get of a shared property; FALSE when prop_id is not one of them.
 * They take the object lock themselves. */
gboolean gst_infer_model_property_set(GstElement *element, GstInferModelSettings *s,
                                      guint first_id, guint prop_id, const GValue *value);
gboolean gst_infer_model_property_get(GstElement *element, const GstInferModelSettings *s,
                                      guint first_id, guint prop_id, GValue *value);

void gst_infer_model_settings_init(GstInferModelSettings *s);
void gst_infer_model_settings_clear(GstInferModelSettings *s);
/* A copy with its own strings (clear it). */
void gst_infer_model_settings_copy(GstInferModelSettings *dst, const GstInferModelSettings *src);

/* The model, backend, device and layout part of the engine options; the
 * strings stay owned by s. */
void gst_infer_model_settings_options(const GstInferModelSettings *s, InferModelOptions *o);

/* Normalization, order, letterbox and interpolation from the settings (sizes,
 * layout and type come from the model: gst_infer_model_preprocess_params).
 * FALSE with the property at fault (static) and the reason (g_free) when mean
 * or std is malformed. */
gboolean gst_infer_model_settings_preprocess(const GstInferModelSettings *s,
                                             InferPreprocessParams *p, const gchar **property,
                                             gchar **reason);
/* The parameters of one batch item of model m: p with the model's input
 * size, layout and type (a one-channel input is grey). */
void gst_infer_model_preprocess_params(const InferPreprocessParams *p, const InferModel *m,
                                       InferPreprocessParams *out);
/* Whether model m can take frames with these settings (a grey input order
 * for a three-channel model cannot); warns about scale with u8 input. */
gboolean gst_infer_model_settings_check(const GstInferModelSettings *s, const InferModel *m,
                                        GError **error);

/* The pixel format of a raw video format; FALSE for formats the
 * preprocessing does not read. */
gboolean gst_infer_pixel_format(GstVideoFormat format, InferPixelFormat *out);
/* A mapped frame as preprocessing input. */
gboolean gst_infer_image_from_frame(const GstVideoFrame *frame, InferImage *out);

/* "r,g,b" or one value for all three; FALSE with a reason when malformed. */
gboolean gst_infer_parse_triplet(const gchar *text, gfloat out[3], gboolean nonzero,
                                 gchar **reason);

/* Defines `static GType fn(void)` registering the enum `type_name` with the
 * given GEnumValue entries once (the elements' enum properties). */
#define GST_INFER_DEFINE_ENUM(fn, type_name, ...)                         \
  static GType fn(void) {                                                 \
    static GType type = 0;                                                \
    if (g_once_init_enter(&type)) {                                       \
      static const GEnumValue values[] = {__VA_ARGS__, {0, NULL, NULL}};  \
      GType t = g_enum_register_static(type_name, values);                \
      g_once_init_leave(&type, t);                                        \
    }                                                                     \
    return type;                                                          \
  }

G_END_DECLS
#endif
