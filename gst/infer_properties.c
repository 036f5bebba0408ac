/* The infer element's own properties: enums, the table (every property
 * with a blurb, range and default), get/set, and label files. The model and
 * preprocessing properties it shares with infercalib are in
 * infer_model_properties.c. */
#include <string.h>

#include "gstinfer.h"

enum {
  PROP_0,
  PROP_ENGINE_CACHE,
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
  /* model, backend, ..., plugins: infer_model_properties.h */
  PROP_MODEL_FIRST,
};
#define PROP_MODEL GST_INFER_MODEL_PROP_MODEL(PROP_MODEL_FIRST)

#define DEFAULT_THRESHOLD 0.3f
#define DEFAULT_NMS_IOU 0.45f

/* ---- enums --------------------------------------------------------------------- */


GST_INFER_DEFINE_ENUM(precision_type, "GstInferPrecision",
            {GST_INFER_PRECISION_FP32, "FP32 only", "fp32"},
            {GST_INFER_PRECISION_FP16, "FP16 where the backend gains from it", "fp16"},
            {GST_INFER_PRECISION_INT8, "INT8 where calibrated (calibration-cache)", "int8"},
            {GST_INFER_PRECISION_BEST, "the fastest of FP32, FP16 and INT8 per layer", "best"})
GST_INFER_DEFINE_ENUM(model_type_type, "GstInferModelType",
            {GST_INFER_MODEL_AUTO,
             "detector if the outputs fit a detector format, classifier if the one output is "
             "[N,C], else raw", "auto"},
            {GST_INFER_MODEL_CLASSIFIER, "classifier (scores or logits [N,C])", "classifier"},
            {GST_INFER_MODEL_DETECTOR, "object detector (see detector-format)", "detector"},
            {GST_INFER_MODEL_RAW, "no decoding: raw output tensors only", "raw"})
GST_INFER_DEFINE_ENUM(detector_format_type, "GstInferDetectorFormat",
            {INFER_DET_AUTO, "decided from the outputs' names and shapes", "auto"},
            {INFER_DET_YOLOV8, "YOLOv8: [N,A,4+C] or [N,4+C,A]", "yolov8"},
            {INFER_DET_YOLOV5, "YOLOv5: [N,A,5+C] with objectness", "yolov5"},
            {INFER_DET_SSD, "SSD: boxes [N,A,4] + scores [N,A,C]", "ssd"},
            {INFER_DET_NMS_INSIDE, "NMS inside the model: num_dets, boxes, scores, classes",
             "nms-inside"})
GST_INFER_DEFINE_ENUM(process_mode_type, "GstInferProcessMode",
            {GST_INFER_PROCESS_FRAME, "infer on whole frames", "frame"},
            {GST_INFER_PROCESS_ROI, "infer on the objects of an upstream detector", "roi"})

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
  gst_infer_model_properties_install(k, PROP_MODEL_FIRST,
      "ONNX model file. May be changed while PLAYING: the new engine is built in the "
      "background and swapped in between batches (no frame is dropped)", TRUE);
  g_object_class_install_property(k, PROP_ENGINE_CACHE, g_param_spec_string("engine-cache",
      "Engine cache", "Plan file to load the engine from (built and saved when missing, stale "
      "or made from another model file), or a folder: <folder>/<model basename>-<hash of the "
      "build options>.plan. Unset: build at every start", NULL, READY));
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
}

void gst_infer_settings_init(GstInferSettings *s) {
  memset(s, 0, sizeof *s);
  gst_infer_model_settings_init(&s->model);
  s->precision = GST_INFER_PRECISION_FP32;
  s->batch_size = 1;
  s->model_type = GST_INFER_MODEL_AUTO;
  s->detector_format = INFER_DET_AUTO;
  s->threshold = DEFAULT_THRESHOLD;
  s->nms_iou = DEFAULT_NMS_IOU;
  s->softmax = TRUE;
  s->process_mode = GST_INFER_PROCESS_FRAME;
}

void gst_infer_settings_clear(GstInferSettings *s) {
  gst_infer_model_settings_clear(&s->model);
  g_free(s->engine_cache);
  g_free(s->calibration_cache);
  g_free(s->labels);
  g_free(s->instance_id);
  g_free(s->object_class);
  memset(s, 0, sizeof *s);
}

void gst_infer_settings_copy(GstInferSettings *dst, const GstInferSettings *src) {
  *dst = *src;
  gst_infer_model_settings_copy(&dst->model, &src->model);
  dst->engine_cache = g_strdup(src->engine_cache);
  dst->calibration_cache = g_strdup(src->calibration_cache);
  dst->labels = g_strdup(src->labels);
  dst->instance_id = g_strdup(src->instance_id);
  dst->object_class = g_strdup(src->object_class);
}

static void set_string(gchar **field, const GValue *value) {
  g_free(*field);
  *field = g_value_dup_string(value);
}

void gst_infer_set_property(GObject *object, guint prop_id, const GValue *value,
                            GParamSpec *pspec) {
  GstInfer *self = GST_INFER(object);
  GstInferSettings *s = &self->settings;
  if (prop_id == PROP_MODEL) {
    gchar *path = g_value_dup_string(value);
    GST_OBJECT_LOCK(self);
    gboolean changed = g_strcmp0(path, s->model.path) != 0;
    g_free(s->model.path);
    s->model.path = g_strdup(path);
    GST_OBJECT_UNLOCK(self);
    if (changed) gst_infer_start_model_swap(self, path);
    g_free(path);
    return;
  }
  if (gst_infer_model_property_set(GST_ELEMENT(self), &s->model, PROP_MODEL_FIRST, prop_id,
                                   value))
    return;
  GST_OBJECT_LOCK(self);
  switch (prop_id) {
    case PROP_ENGINE_CACHE: set_string(&s->engine_cache, value); break;
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
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
}

void gst_infer_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec) {
  GstInfer *self = GST_INFER(object);
  GstInferSettings *s = &self->settings;
  if (gst_infer_model_property_get(GST_ELEMENT(self), &s->model, PROP_MODEL_FIRST, prop_id,
                                   value))
    return;
  GST_OBJECT_LOCK(self);
  switch (prop_id) {
    case PROP_ENGINE_CACHE: g_value_set_string(value, s->engine_cache); break;
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
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
}

/* ---- label files ------------------------------------------------------------------ */

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
