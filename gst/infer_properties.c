/* The infer element's properties: enums, the table (every property with a
 * blurb, range and default), get/set, and parsing of mean/std strings and
 * label files. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gstinfer.h"
#include "infer/plugin.h"

/* The plugins property lives in the object's data, not in the settings:
 * the libraries it names are loaded into the process when it is set. */
#define PLUGINS_KEY "gst-infer-plugins"

enum {
  PROP_0,
  PROP_MODEL,
  PROP_ENGINE_CACHE,
  PROP_BACKEND,
  PROP_DEVICE_ID,
  PROP_PRECISION,
  PROP_CALIBRATION_CACHE,
  PROP_BATCH_SIZE,
  PROP_BATCH_TIMEOUT,
  PROP_MAX_FRAMES_IN_FLIGHT,
  PROP_MODEL_TYPE,
  PROP_DETECTOR_FORMAT,
  PROP_LABELS,
  PROP_THRESHOLD,
  PROP_NMS_IOU,
  PROP_TOP_K,
  PROP_SOFTMAX,
  PROP_OUTPUT_TENSORS,
  PROP_INTERVAL,
  PROP_REPEAT_LAST,
  PROP_MODEL_INSTANCE_ID,
  PROP_PROCESS_MODE,
  PROP_OBJECT_CLASS,
  PROP_MIN_OBJECT_SIZE,
  PROP_MAX_OBJECT_SIZE,
  PROP_INPUT_ORDER,
  PROP_KEEP_ASPECT_RATIO,
  PROP_PADDING,
  PROP_PAD_VALUE,
  PROP_INTERPOLATION,
  PROP_MEAN,
  PROP_STD,
  PROP_SCALE,
  PROP_INPUT_LAYOUT,
  PROP_PLUGINS,
};

#define DEFAULT_THRESHOLD 0.3f
#define DEFAULT_NMS_IOU 0.45f
#define DEFAULT_SCALE (1.0 / 255.0)
#define DEFAULT_PAD_VALUE 114.0

/* ---- enums --------------------------------------------------------------------- */

#define DEFINE_ENUM(fn, type_name, ...)                          \
  static GType fn(void) {                                        \
    static GType type = 0;                                       \
    if (g_once_init_enter(&type)) {                              \
      static const GEnumValue values[] = {__VA_ARGS__, {0, NULL, NULL}}; \
      GType t = g_enum_register_static(type_name, values);       \
      g_once_init_leave(&type, t);                               \
    }                                                            \
    return type;                                                 \
  }

DEFINE_ENUM(backend_type, "GstInferBackend",
            {INFER_BACKEND_AUTO, "CUDA when a usable GPU is present, else CPU", "auto"},
            {INFER_BACKEND_CPU, "CPU reference backend", "cpu"},
            {INFER_BACKEND_CUDA, "CUDA backend", "cuda"})
DEFINE_ENUM(precision_type, "GstInferPrecision",
            {GST_INFER_PRECISION_FP32, "FP32 only", "fp32"},
            {GST_INFER_PRECISION_FP16, "FP16 where the backend gains from it", "fp16"},
            {GST_INFER_PRECISION_INT8, "INT8 where calibrated (calibration-cache)", "int8"},
            {GST_INFER_PRECISION_BEST, "the fastest of FP32, FP16 and INT8 per layer", "best"})
DEFINE_ENUM(model_type_type, "GstInferModelType",
            {GST_INFER_MODEL_AUTO,
             "detector if the outputs fit a detector format, classifier if the one output is "
             "[N,C], else raw", "auto"},
            {GST_INFER_MODEL_CLASSIFIER, "classifier (scores or logits [N,C])", "classifier"},
            {GST_INFER_MODEL_DETECTOR, "object detector (see detector-format)", "detector"},
            {GST_INFER_MODEL_RAW, "no decoding: raw output tensors only", "raw"})
DEFINE_ENUM(detector_format_type, "GstInferDetectorFormat",
            {INFER_DET_AUTO, "decided from the outputs' names and shapes", "auto"},
            {INFER_DET_YOLOV8, "YOLOv8: [N,A,4+C] or [N,4+C,A]", "yolov8"},
            {INFER_DET_YOLOV5, "YOLOv5: [N,A,5+C] with objectness", "yolov5"},
            {INFER_DET_SSD, "SSD: boxes [N,A,4] + scores [N,A,C]", "ssd"},
            {INFER_DET_NMS_INSIDE, "NMS inside the model: num_dets, boxes, scores, classes",
             "nms-inside"})
DEFINE_ENUM(process_mode_type, "GstInferProcessMode",
            {GST_INFER_PROCESS_FRAME, "infer on whole frames", "frame"},
            {GST_INFER_PROCESS_ROI, "infer on the objects of an upstream detector", "roi"})
DEFINE_ENUM(input_order_type, "GstInferInputOrder",
            {INFER_ORDER_RGB, "RGB", "rgb"}, {INFER_ORDER_BGR, "BGR", "bgr"},
            {INFER_ORDER_GRAY, "grey (one channel)", "gray"})
DEFINE_ENUM(padding_type, "GstInferPadding",
            {GST_INFER_PADDING_SYMMETRIC, "letterbox bands on both sides", "symmetric"},
            {GST_INFER_PADDING_BOTTOM_RIGHT, "letterbox band at the bottom or right only",
             "bottom-right"})
DEFINE_ENUM(interpolation_type, "GstInferInterpolation",
            {INFER_INTERP_BILINEAR, "bilinear", "bilinear"},
            {INFER_INTERP_NEAREST, "nearest neighbour", "nearest"})
DEFINE_ENUM(input_layout_type, "GstInferInputLayout",
            {GST_INFER_LAYOUT_AUTO, "from the model input's shape: NCHW if dim 1 is 1 or 3, else NHWC",
             "auto"},
            {GST_INFER_LAYOUT_NCHW, "NCHW", "nchw"}, {GST_INFER_LAYOUT_NHWC, "NHWC", "nhwc"})

/* ---- the table ------------------------------------------------------------------- */

#define RW (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS)
#define READY (RW | GST_PARAM_MUTABLE_READY)
#define PLAYING (RW | GST_PARAM_MUTABLE_PLAYING)

static void enum_prop(GObjectClass *k, guint id, const gchar *name, const gchar *blurb, GType t,
                      gint def, GParamFlags flags) {
  g_object_class_install_property(k, id, g_param_spec_enum(name, name, blurb, t, def, flags));
  gst_type_mark_as_plugin_api(t, 0);
}

void gst_infer_install_properties(GObjectClass *k) {
  g_object_class_install_property(k, PROP_MODEL, g_param_spec_string("model", "Model",
      "ONNX model file. May be changed while PLAYING: the new engine is built in the "
      "background and swapped in between batches (no frame is dropped)", NULL, PLAYING));
  g_object_class_install_property(k, PROP_ENGINE_CACHE, g_param_spec_string("engine-cache",
      "Engine cache", "Plan file to load the engine from (built and saved when missing, stale "
      "or made from another model file), or a folder: <folder>/<model basename>-<hash of the "
      "build options>.plan. Unset: build at every start", NULL, READY));
  enum_prop(k, PROP_BACKEND, "backend", "Backend the engine runs on", backend_type(),
            INFER_BACKEND_AUTO, READY);
  g_object_class_install_property(k, PROP_DEVICE_ID, g_param_spec_int("device-id", "Device id",
      "GPU to run on (CUDA backend)", 0, 255, 0, READY));
  enum_prop(k, PROP_PRECISION, "precision", "Precisions the engine builder may use",
            precision_type(), GST_INFER_PRECISION_FP32, READY);
  g_object_class_install_property(k, PROP_CALIBRATION_CACHE, g_param_spec_string(
      "calibration-cache", "Calibration cache", "INT8 calibration cache file (made by "
      "infercalib), for precision=int8/best", NULL, READY));
  g_object_class_install_property(k, PROP_BATCH_SIZE, g_param_spec_uint("batch-size",
      "Batch size", "Frames (or objects) per inference; the engine is built for batches of "
      "1 to batch-size", 1, 256, 1, READY));
  g_object_class_install_property(k, PROP_BATCH_TIMEOUT, g_param_spec_uint64("batch-timeout",
      "Batch timeout", "Microseconds to wait for a batch to fill before running it partly "
      "filled; 0: wait for a full batch (partial batches run at EOS, flush, caps changes and "
      "when max-frames-in-flight is reached)", 0, 10000000, 0, READY));
  g_object_class_install_property(k, PROP_MAX_FRAMES_IN_FLIGHT, g_param_spec_uint(
      "max-frames-in-flight", "Max frames in flight", "Frames held by the element (queued for "
      "or in inference, or waiting to be pushed) before the streaming thread waits; "
      "0: 2 x batch-size", 0, 4096, 0, READY));
  enum_prop(k, PROP_MODEL_TYPE, "model-type", "How outputs are decoded", model_type_type(),
            GST_INFER_MODEL_AUTO, READY);
  enum_prop(k, PROP_DETECTOR_FORMAT, "detector-format", "Output format of a detector",
            detector_format_type(), INFER_DET_AUTO, READY);
  g_object_class_install_property(k, PROP_LABELS, g_param_spec_string("labels", "Labels",
      "Text file with one label per line (line i names class i)", NULL, READY));
  g_object_class_install_property(k, PROP_THRESHOLD, g_param_spec_float("threshold",
      "Threshold", "Minimum confidence of a detection or class to be reported (one default "
      "for both; detectors often want 0.25, classifiers 0.5)", 0.0f, 1.0f, DEFAULT_THRESHOLD,
      PLAYING));
  g_object_class_install_property(k, PROP_NMS_IOU, g_param_spec_float("nms-iou", "NMS IoU",
      "Intersection over union above which the weaker of two boxes of one class is removed "
      "(0: no NMS)", 0.0f, 1.0f, DEFAULT_NMS_IOU, PLAYING));
  g_object_class_install_property(k, PROP_TOP_K, g_param_spec_uint("top-k", "Top k",
      "Most detections per frame or classes per frame/object to report; 0: 100 detections "
      "or 5 classes", 0, 1000, 0, PLAYING));
  g_object_class_install_property(k, PROP_SOFTMAX, g_param_spec_boolean("softmax", "Softmax",
      "Classifier outputs are logits: apply a softmax before the threshold", TRUE, PLAYING));
  g_object_class_install_property(k, PROP_OUTPUT_TENSORS, g_param_spec_boolean(
      "output-tensors", "Output tensors", "Attach every raw output tensor (InferTensorMeta)",
      FALSE, PLAYING));
  g_object_class_install_property(k, PROP_INTERVAL, g_param_spec_uint("interval", "Interval",
      "Infer every (interval+1)-th frame; the others pass without inference", 0, 10000, 0,
      PLAYING));
  g_object_class_install_property(k, PROP_REPEAT_LAST, g_param_spec_boolean("repeat-last",
      "Repeat last", "Frames skipped by interval get the results of the last inferred frame "
      "(frame mode)", FALSE, PLAYING));
  g_object_class_install_property(k, PROP_MODEL_INSTANCE_ID, g_param_spec_string(
      "model-instance-id", "Model instance id", "Elements with the same id share one engine "
      "and fill batches together (the first one to start loads the model and sets the batch "
      "size and timeout)", NULL, READY));
  enum_prop(k, PROP_PROCESS_MODE, "process-mode", "Whole frames or the objects of an upstream "
            "detector (secondary inference: results are added to the objects)",
            process_mode_type(), GST_INFER_PROCESS_FRAME, READY);
  g_object_class_install_property(k, PROP_OBJECT_CLASS, g_param_spec_string("object-class",
      "Object class", "roi mode: comma-separated label names or class ids of the objects to "
      "process (unset: all)", NULL, READY));
  g_object_class_install_property(k, PROP_MIN_OBJECT_SIZE, g_param_spec_uint(
      "min-object-size", "Min object size", "roi mode: objects narrower or lower than this "
      "(pixels) are skipped", 0, 65535, 0, PLAYING));
  g_object_class_install_property(k, PROP_MAX_OBJECT_SIZE, g_param_spec_uint(
      "max-object-size", "Max object size", "roi mode: objects wider or higher than this "
      "(pixels) are skipped; 0: no limit", 0, 65535, 0, PLAYING));
  enum_prop(k, PROP_INPUT_ORDER, "input-order", "Channel order of the model input (a "
            "one-channel model input is always grey)", input_order_type(), INFER_ORDER_RGB,
            READY);
  g_object_class_install_property(k, PROP_KEEP_ASPECT_RATIO, g_param_spec_boolean(
      "keep-aspect-ratio", "Keep aspect ratio", "Letterbox: scale the frame to fit the model "
      "input and pad the rest (boxes are mapped back); false: stretch", TRUE, READY));
  enum_prop(k, PROP_PADDING, "padding", "Where letterbox padding goes", padding_type(),
            GST_INFER_PADDING_SYMMETRIC, READY);
  g_object_class_install_property(k, PROP_PAD_VALUE, g_param_spec_double("pad-value",
      "Pad value", "Letterbox padding, in pixel units 0..255 before normalization", 0.0, 255.0,
      DEFAULT_PAD_VALUE, READY));
  enum_prop(k, PROP_INTERPOLATION, "interpolation", "Resize interpolation",
            interpolation_type(), INFER_INTERP_BILINEAR, READY);
  g_object_class_install_property(k, PROP_MEAN, g_param_spec_string("mean", "Mean",
      "Per-channel mean \"r,g,b\" (or one value), in the model's order: "
      "value = (pixel * scale - mean) / std", "0,0,0", READY));
  g_object_class_install_property(k, PROP_STD, g_param_spec_string("std", "Std",
      "Per-channel standard deviation \"r,g,b\" (or one value), non-zero", "1,1,1", READY));
  g_object_class_install_property(k, PROP_SCALE, g_param_spec_double("scale", "Scale",
      "Factor applied to pixel values 0..255 before mean and std (default 1/255)", 0.0,
      1000.0, DEFAULT_SCALE, READY));
  enum_prop(k, PROP_INPUT_LAYOUT, "input-layout", "Layout of the model input",
            input_layout_type(), GST_INFER_LAYOUT_AUTO, READY);
  g_object_class_install_property(k, PROP_PLUGINS, g_param_spec_string("plugins", "Plugins",
      "Plugin libraries of custom layers, separated by ':' or ','; loaded into the process "
      "when set (as with INFER_PLUGIN_PATH); set it before the model", NULL, READY));
}

void gst_infer_settings_init(GstInferSettings *s) {
  memset(s, 0, sizeof *s);
  s->mean = g_strdup("0,0,0");
  s->std = g_strdup("1,1,1");
  s->backend = INFER_BACKEND_AUTO;
  s->precision = GST_INFER_PRECISION_FP32;
  s->batch_size = 1;
  s->model_type = GST_INFER_MODEL_AUTO;
  s->detector_format = INFER_DET_AUTO;
  s->threshold = DEFAULT_THRESHOLD;
  s->nms_iou = DEFAULT_NMS_IOU;
  s->softmax = TRUE;
  s->process_mode = GST_INFER_PROCESS_FRAME;
  s->input_order = INFER_ORDER_RGB;
  s->keep_aspect = TRUE;
  s->padding = GST_INFER_PADDING_SYMMETRIC;
  s->interpolation = INFER_INTERP_BILINEAR;
  s->pad_value = DEFAULT_PAD_VALUE;
  s->scale = DEFAULT_SCALE;
  s->input_layout = GST_INFER_LAYOUT_AUTO;
}

void gst_infer_settings_clear(GstInferSettings *s) {
  g_free(s->model);
  g_free(s->engine_cache);
  g_free(s->calibration_cache);
  g_free(s->labels);
  g_free(s->instance_id);
  g_free(s->object_class);
  g_free(s->mean);
  g_free(s->std);
  memset(s, 0, sizeof *s);
}

static void set_string(gchar **field, const GValue *value) {
  g_free(*field);
  *field = g_value_dup_string(value);
}

void gst_infer_set_property(GObject *object, guint prop_id, const GValue *value,
                            GParamSpec *pspec) {
  GstInfer *self = GST_INFER(object);
  GstInferSettings *s = &self->settings;
  if (prop_id == PROP_PLUGINS) {
    const gchar *list = g_value_get_string(value);
    g_object_set_data_full(object, PLUGINS_KEY, g_strdup(list), g_free);
    /* a library that fails is remembered by the registry, and the errors
       of the model build it breaks name it */
    InferStatus *st = infer_plugin_load_libraries(list);
    if (st) {
      GST_ELEMENT_WARNING(self, LIBRARY, INIT, ("plugins: %s", infer_status_message(st)), (NULL));
      infer_status_free(st);
    }
    return;
  }
  if (prop_id == PROP_MODEL) {
    gchar *path = g_value_dup_string(value);
    GST_OBJECT_LOCK(self);
    gboolean changed = g_strcmp0(path, s->model) != 0;
    g_free(s->model);
    s->model = g_strdup(path);
    GST_OBJECT_UNLOCK(self);
    if (changed) gst_infer_start_model_swap(self, path);
    g_free(path);
    return;
  }
  GST_OBJECT_LOCK(self);
  switch (prop_id) {
    case PROP_ENGINE_CACHE: set_string(&s->engine_cache, value); break;
    case PROP_BACKEND: s->backend = g_value_get_enum(value); break;
    case PROP_DEVICE_ID: s->device_id = g_value_get_int(value); break;
    case PROP_PRECISION: s->precision = g_value_get_enum(value); break;
    case PROP_CALIBRATION_CACHE: set_string(&s->calibration_cache, value); break;
    case PROP_BATCH_SIZE: s->batch_size = g_value_get_uint(value); break;
    case PROP_BATCH_TIMEOUT: s->batch_timeout_us = g_value_get_uint64(value); break;
    case PROP_MAX_FRAMES_IN_FLIGHT: s->max_in_flight = g_value_get_uint(value); break;
    case PROP_MODEL_TYPE: s->model_type = g_value_get_enum(value); break;
    case PROP_DETECTOR_FORMAT: s->detector_format = g_value_get_enum(value); break;
    case PROP_LABELS: set_string(&s->labels, value); break;
    case PROP_THRESHOLD: s->threshold = g_value_get_float(value); break;
    case PROP_NMS_IOU: s->nms_iou = g_value_get_float(value); break;
    case PROP_TOP_K: s->top_k = g_value_get_uint(value); break;
    case PROP_SOFTMAX: s->softmax = g_value_get_boolean(value); break;
    case PROP_OUTPUT_TENSORS: s->output_tensors = g_value_get_boolean(value); break;
    case PROP_INTERVAL: s->interval = g_value_get_uint(value); break;
    case PROP_REPEAT_LAST: s->repeat_last = g_value_get_boolean(value); break;
    case PROP_MODEL_INSTANCE_ID: set_string(&s->instance_id, value); break;
    case PROP_PROCESS_MODE: s->process_mode = g_value_get_enum(value); break;
    case PROP_OBJECT_CLASS: set_string(&s->object_class, value); break;
    case PROP_MIN_OBJECT_SIZE: s->min_object_size = g_value_get_uint(value); break;
    case PROP_MAX_OBJECT_SIZE: s->max_object_size = g_value_get_uint(value); break;
    case PROP_INPUT_ORDER: s->input_order = g_value_get_enum(value); break;
    case PROP_KEEP_ASPECT_RATIO: s->keep_aspect = g_value_get_boolean(value); break;
    case PROP_PADDING: s->padding = g_value_get_enum(value); break;
    case PROP_PAD_VALUE: s->pad_value = g_value_get_double(value); break;
    case PROP_INTERPOLATION: s->interpolation = g_value_get_enum(value); break;
    case PROP_MEAN: set_string(&s->mean, value); break;
    case PROP_STD: set_string(&s->std, value); break;
    case PROP_SCALE: s->scale = g_value_get_double(value); break;
    case PROP_INPUT_LAYOUT: s->input_layout = g_value_get_enum(value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
}

void gst_infer_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec) {
  GstInfer *self = GST_INFER(object);
  GstInferSettings *s = &self->settings;
  GST_OBJECT_LOCK(self);
  switch (prop_id) {
    case PROP_MODEL: g_value_set_string(value, s->model); break;
    case PROP_ENGINE_CACHE: g_value_set_string(value, s->engine_cache); break;
    case PROP_BACKEND: g_value_set_enum(value, s->backend); break;
    case PROP_DEVICE_ID: g_value_set_int(value, s->device_id); break;
    case PROP_PRECISION: g_value_set_enum(value, s->precision); break;
    case PROP_CALIBRATION_CACHE: g_value_set_string(value, s->calibration_cache); break;
    case PROP_BATCH_SIZE: g_value_set_uint(value, s->batch_size); break;
    case PROP_BATCH_TIMEOUT: g_value_set_uint64(value, s->batch_timeout_us); break;
    case PROP_MAX_FRAMES_IN_FLIGHT: g_value_set_uint(value, s->max_in_flight); break;
    case PROP_MODEL_TYPE: g_value_set_enum(value, s->model_type); break;
    case PROP_DETECTOR_FORMAT: g_value_set_enum(value, s->detector_format); break;
    case PROP_LABELS: g_value_set_string(value, s->labels); break;
    case PROP_THRESHOLD: g_value_set_float(value, s->threshold); break;
    case PROP_NMS_IOU: g_value_set_float(value, s->nms_iou); break;
    case PROP_TOP_K: g_value_set_uint(value, s->top_k); break;
    case PROP_SOFTMAX: g_value_set_boolean(value, s->softmax); break;
    case PROP_OUTPUT_TENSORS: g_value_set_boolean(value, s->output_tensors); break;
    case PROP_INTERVAL: g_value_set_uint(value, s->interval); break;
    case PROP_REPEAT_LAST: g_value_set_boolean(value, s->repeat_last); break;
    case PROP_MODEL_INSTANCE_ID: g_value_set_string(value, s->instance_id); break;
    case PROP_PROCESS_MODE: g_value_set_enum(value, s->process_mode); break;
    case PROP_OBJECT_CLASS: g_value_set_string(value, s->object_class); break;
    case PROP_MIN_OBJECT_SIZE: g_value_set_uint(value, s->min_object_size); break;
    case PROP_MAX_OBJECT_SIZE: g_value_set_uint(value, s->max_object_size); break;
    case PROP_INPUT_ORDER: g_value_set_enum(value, s->input_order); break;
    case PROP_KEEP_ASPECT_RATIO: g_value_set_boolean(value, s->keep_aspect); break;
    case PROP_PADDING: g_value_set_enum(value, s->padding); break;
    case PROP_PAD_VALUE: g_value_set_double(value, s->pad_value); break;
    case PROP_INTERPOLATION: g_value_set_enum(value, s->interpolation); break;
    case PROP_MEAN: g_value_set_string(value, s->mean); break;
    case PROP_STD: g_value_set_string(value, s->std); break;
    case PROP_SCALE: g_value_set_double(value, s->scale); break;
    case PROP_INPUT_LAYOUT: g_value_set_enum(value, s->input_layout); break;
    case PROP_PLUGINS: g_value_set_string(value, g_object_get_data(object, PLUGINS_KEY)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
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

GPtrArray *gst_infer_read_labels(const gchar *path, GError **error) {
  gchar *text = NULL;
  GError *e = NULL;
  if (!g_file_get_contents(path, &text, NULL, &e)) {
    gboolean missing = g_error_matches(e, G_FILE_ERROR, G_FILE_ERROR_NOENT);
    g_set_error(error, GST_RESOURCE_ERROR,
                missing ? GST_RESOURCE_ERROR_NOT_FOUND : GST_RESOURCE_ERROR_OPEN_READ,
                "cannot read the labels file '%s' (property labels): %s", path, e->message);
    g_error_free(e);
    return NULL;
  }
  GPtrArray *labels = g_ptr_array_new_with_free_func(g_free);
  gchar **lines = g_strsplit(text, "\n", -1);
  guint n = g_strv_length(lines);
  if (n > 0 && lines[n - 1][0] == 0) n--; /* the final newline */
  for (guint i = 0; i < n; i++) {
    gchar *l = lines[i];
    gsize len = strlen(l);
    if (len > 0 && l[len - 1] == '\r') l[len - 1] = 0;
    g_ptr_array_add(labels, g_strdup(g_strstrip(l)));
  }
  g_strfreev(lines);
  g_free(text);
  if (labels->len == 0) {
    g_set_error(error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
                "the labels file '%s' (property labels) has no labels", path);
    g_ptr_array_unref(labels);
    return NULL;
  }
  return labels;
}
