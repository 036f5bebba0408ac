/* infercalib: collects INT8 calibration statistics from the frames going
 * through it (see gstinfercalib.h for how frames reach the driver), then
 * writes the calibration cache and optionally the INT8 plan. */
#include "gstinfercalib.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "infer_cuda.h"

GST_DEBUG_CATEGORY_STATIC(gst_infer_calib_debug);
#define GST_CAT_DEFAULT gst_infer_calib_debug

#define VIDEO_CAPS GST_VIDEO_CAPS_MAKE("{ NV12, I420, RGBA, BGRA, RGBx, BGRx, RGB, BGR, GRAY8 }")

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(VIDEO_CAPS));
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(VIDEO_CAPS));

G_DEFINE_TYPE_WITH_CODE(GstInferCalib, gst_infer_calib, GST_TYPE_BASE_TRANSFORM,
                        GST_DEBUG_CATEGORY_INIT(gst_infer_calib_debug, "infercalib", 0,
                                                "infercalib: INT8 calibration from a stream"));

enum {
  PROP_0,
  PROP_CALIBRATION_CACHE,
  PROP_ENGINE_CACHE,
  PROP_ALGORITHM,
  PROP_PERCENTILE,
  PROP_INTERVAL,
  PROP_MAX_FRAMES,
  PROP_BATCH_SIZE,
  /* model, backend, ..., plugins: infer_model_properties.h */
  PROP_MODEL_FIRST,
};

#define DEFAULT_ALGORITHM INFER_CALIB_ENTROPY
#define DEFAULT_MAX_FRAMES 500

static const gchar *long_description =
    "INT8 calibration from a live stream. Frames pass through unchanged, in order, none "
    "dropped; every "
    "interval-th frame, up to max-frames, is preprocessed exactly as the infer element does "
    "(same model and preprocessing properties) and run through an FP32 engine that reports "
    "every activation. At EOS, or once max-frames frames are collected, the element writes "
    "the calibration cache (TensorRT's format; calibration-cache) and, with engine-cache, "
    "builds and saves the INT8 plan. Messages: infercalib-progress (frames, max-frames, "
    "frames-seen) per "
    "calibration batch, infercalib-done (calibration-cache, engine-cache, frames, batches, "
    "algorithm, tensors) when the files are written. Use the result with infer "
    "precision=int8 calibration-cache=FILE.\n"
    "Example: gst-launch-1.0 filesrc location=in.mp4 ! decodebin ! videoconvert ! "
    "infercalib model=classifier.onnx mean=0.5,0.5,0.5 std=0.5,0.5,0.5 interval=5 "
    "max-frames=300 calibration-cache=classifier.cache ! fakesink";

/* ---- properties ---------------------------------------------------------------------- */

static GType algorithm_type(void) {
  static GType type = 0;
  if (g_once_init_enter(&type)) {
    static const GEnumValue values[] = {
        {INFER_CALIB_ENTROPY, "KL-divergence threshold (TensorRT's EntropyCalibration2)",
         "entropy"},
        {INFER_CALIB_MINMAX, "largest |x| seen (MinMaxCalibration)", "minmax"},
        {INFER_CALIB_PERCENTILE, "a percentile of |x| (PercentileCalibration; see percentile)",
         "percentile"},
        {0, NULL, NULL}};
    GType t = g_enum_register_static("GstInferCalibAlgorithm", values);
    g_once_init_leave(&type, t);
  }
  return type;
}

#define READY (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)

static void install_properties(GObjectClass *k) {
  gst_infer_model_properties_install(k, PROP_MODEL_FIRST,
      "ONNX model file to calibrate (an image input [N,C,H,W] or [N,H,W,C], C = 1 or 3)",
      FALSE);
  g_object_class_install_property(k, PROP_CALIBRATION_CACHE, g_param_spec_string(
      "calibration-cache", "Calibration cache", "Calibration cache file to write (TensorRT's "
      "text format; replaced if it exists); required. Read by infer precision=int8 "
      "calibration-cache=FILE", NULL, READY));
  g_object_class_install_property(k, PROP_ENGINE_CACHE, g_param_spec_string("engine-cache",
      "Engine cache", "When set, the INT8 plan is built from the new calibration cache and "
      "saved here: a plan file, or a folder where infer with the same model, backend, "
      "device-id, batch-size, engine-cache, calibration-cache and precision=int8 finds it. "
      "Unset: no plan", NULL, READY));
  g_object_class_install_property(k, PROP_ALGORITHM, g_param_spec_enum("algorithm",
      "Algorithm", "How each tensor's range is chosen from its statistics (entropy, "
      "TensorRT's default, clips ReLU outputs hard: see the README's INT8 section)",
      algorithm_type(), DEFAULT_ALGORITHM, READY));
  gst_type_mark_as_plugin_api(algorithm_type(), 0);
  g_object_class_install_property(k, PROP_PERCENTILE, g_param_spec_double("percentile",
      "Percentile", "algorithm=percentile: the share of |x| (in %) below the range",
      1.0, 100.0, INFER_CALIB_DEFAULT_PERCENTILE, READY));
  g_object_class_install_property(k, PROP_INTERVAL, g_param_spec_uint("interval", "Interval",
      "Calibrate on every interval-th frame (the first, then every interval-th after it); "
      "the others only pass", 1, 100000, 1, READY));
  g_object_class_install_property(k, PROP_MAX_FRAMES, g_param_spec_uint("max-frames",
      "Max frames", "Frames to calibrate on; when reached, the cache (and plan) are written "
      "while frames keep passing. 0: until EOS", 0, G_MAXINT, DEFAULT_MAX_FRAMES, READY));
  g_object_class_install_property(k, PROP_BATCH_SIZE, g_param_spec_uint("batch-size",
      "Batch size", "Frames per calibration batch (a model with a fixed batch takes its own; "
      "a last partial batch is left out), and the largest batch of the INT8 plan: give infer "
      "the same batch-size", 1, 256, 1, READY));
}

static void set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec) {
  GstInferCalib *self = GST_INFER_CALIB(object);
  if (gst_infer_model_property_set(GST_ELEMENT(self), &self->model, PROP_MODEL_FIRST, prop_id,
                                   value))
    return;
  GST_OBJECT_LOCK(self);
  switch (prop_id) {
    case PROP_CALIBRATION_CACHE:
      g_free(self->calibration_cache);
      self->calibration_cache = g_value_dup_string(value);
      break;
    case PROP_ENGINE_CACHE:
      g_free(self->engine_cache);
      self->engine_cache = g_value_dup_string(value);
      break;
    case PROP_ALGORITHM: self->algorithm = g_value_get_enum(value); break;
    case PROP_PERCENTILE: self->percentile = g_value_get_double(value); break;
    case PROP_INTERVAL: self->interval = g_value_get_uint(value); break;
    case PROP_MAX_FRAMES: self->max_frames = g_value_get_uint(value); break;
    case PROP_BATCH_SIZE: self->batch_size = g_value_get_uint(value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec) {
  GstInferCalib *self = GST_INFER_CALIB(object);
  if (gst_infer_model_property_get(GST_ELEMENT(self), &self->model, PROP_MODEL_FIRST, prop_id,
                                   value))
    return;
  GST_OBJECT_LOCK(self);
  switch (prop_id) {
    case PROP_CALIBRATION_CACHE: g_value_set_string(value, self->calibration_cache); break;
    case PROP_ENGINE_CACHE: g_value_set_string(value, self->engine_cache); break;
    case PROP_ALGORITHM: g_value_set_enum(value, self->algorithm); break;
    case PROP_PERCENTILE: g_value_set_double(value, self->percentile); break;
    case PROP_INTERVAL: g_value_set_uint(value, self->interval); break;
    case PROP_MAX_FRAMES: g_value_set_uint(value, self->max_frames); break;
    case PROP_BATCH_SIZE: g_value_set_uint(value, self->batch_size); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
}

/* ---- messages -------------------------------------------------------------------------- */

static void post_element_message(GstInferCalib *self, GstStructure *s) {
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), s));
}

static void post_gerror(GstInferCalib *self, const GError *error, const gchar *debug) {
  gst_element_message_full(GST_ELEMENT(self), GST_MESSAGE_ERROR, error->domain, error->code,
                           g_strdup(error->message), g_strdup(debug), __FILE__, GST_FUNCTION,
                           __LINE__);
}

/* ---- the calibrator (worker thread) ------------------------------------------------------ */

static int cal_batch_size(void *user) {
  GstInferCalib *self = user;
  return (int)self->batch;
}

/* Waits for the next full batch; false at the end of the data. */
static bool cal_get_batch(void *user, const char *const *names, const void **bindings, int n) {
  GstInferCalib *self = user;
  (void)names;
  g_mutex_lock(&self->lock);
  g_free(self->current);
  self->current = NULL;
  while (!self->abort && !self->end && g_queue_is_empty(&self->ready))
    g_cond_wait(&self->cond, &self->lock);
  if (!self->abort) self->current = g_queue_pop_head(&self->ready);
  if (self->current) self->batches_used++;
  g_cond_broadcast(&self->cond); /* room for the streaming thread */
  g_mutex_unlock(&self->lock);
  if (!self->current || n < 1) return false;
  bindings[0] = self->current;
  return true;
}

static void cal_log(const char *line, void *user) {
  GST_INFO_OBJECT(GST_INFER_CALIB(user), "%s", line);
}

/* The INT8 plan from the cache just written, built as infer builds it with
 * precision=int8; a plan already there is replaced. */
static gboolean build_plan(GstInferCalib *self, gchar **plan_out) {
  InferModelOptions o;
  memset(&o, 0, sizeof o);
  gst_infer_model_settings_options(&self->run, &o);
  o.engine_cache = self->engine_path;
  o.precisions = INFER_PRECISION_FP32 | INFER_PRECISION_INT8;
  o.calibration_cache = self->cache_path;
  o.batch_size = (gint)self->run_batch_size;
  gchar *plan = infer_model_plan_path(&o);
  if (g_unlink(plan) != 0 && errno != ENOENT) {
    GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE,
                      ("cannot replace the plan '%s' (property engine-cache): %s", plan,
                       g_strerror(errno)), (NULL));
    g_free(plan);
    return FALSE;
  }
  InferModel *m = NULL;
  GError *err = NULL;
  gchar *debug = NULL;
  gboolean ok = infer_model_load(&o, NULL, NULL, &m, &err, &debug);
  if (!ok) {
    post_gerror(self, err, debug);
    g_error_free(err);
  } else if (m->save_warning) {
    GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE, ("%s", m->save_warning), (NULL));
    ok = FALSE;
  }
  g_free(debug);
  infer_model_free(m);
  if (ok) *plan_out = plan;
  else g_free(plan);
  return ok;
}

static gpointer worker_main(gpointer data) {
  GstInferCalib *self = data;
  InferStatus *st = NULL;
  gboolean ok = TRUE;
  if (self->run.backend != INFER_BACKEND_CPU) {
    st = infer_cuda_set_device(self->run.device_id);
    if (st && self->run.backend == INFER_BACKEND_CUDA) {
      GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS,
                        ("property device-id=%d: %s", self->run.device_id,
                         infer_status_message(st)), (NULL));
      ok = FALSE;
    }
    infer_status_free(st);
    st = NULL;
  }
  InferCalibTable *table = NULL;
  if (ok) {
    InferCalibrator cal = {.user = self, .get_batch_size = cal_batch_size,
                           .get_batch = cal_get_batch};
    InferCalibOptions opts = {.backend = self->run.backend, .percentile = self->run_percentile,
                              .log = cal_log, .log_user = self};
    st = infer_calibrate(self->net, &cal, self->run_algorithm, &opts, &table);
  }
  g_mutex_lock(&self->lock);
  gboolean aborted = self->abort;
  guint64 used = self->batches_used;
  gboolean no_frames = self->end && self->batches_queued == 0;
  g_free(self->current);
  self->current = NULL;
  g_mutex_unlock(&self->lock);
  guint64 frames = used * self->batch;
  if (ok && !aborted && st) {
    ok = FALSE;
    if (no_frames)
      GST_ELEMENT_ERROR(self, STREAM, FAILED,
                        ("no frames to calibrate on: %" G_GUINT64_FORMAT " frames seen, %"
                         G_GUINT64_FORMAT " taken (properties interval=%u, max-frames=%u), "
                         "batches of %u (property batch-size)", self->seen_at_end,
                         self->sampled_at_end, self->run_interval, self->run_max_frames,
                         self->batch),
                        ("%s", infer_status_message(st)));
    else
      GST_ELEMENT_ERROR(self, LIBRARY, FAILED,
                        ("calibration of the model '%s' (property model) failed: %s",
                         self->run.path, infer_status_message(st)), (NULL));
  }
  infer_status_free(st);
  if (ok && !aborted) {
    st = infer_calib_table_write_cache(table, self->cache_path);
    if (st) {
      GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE,
                        ("cannot write the calibration cache '%s' (property calibration-cache): "
                         "%s", self->cache_path, infer_status_message(st)), (NULL));
      infer_status_free(st);
      ok = FALSE;
    }
  }
  gchar *plan = NULL;
  if (ok && !aborted && self->engine_path) ok = build_plan(self, &plan);
  if (ok && !aborted) {
    GST_INFO_OBJECT(self, "calibrated on %" G_GUINT64_FORMAT " frames: %d scales in '%s'",
                    frames, infer_calib_table_count(table), self->cache_path);
    post_element_message(self, gst_structure_new(
        "infercalib-done", "calibration-cache", G_TYPE_STRING, self->cache_path,
        "engine-cache", G_TYPE_STRING, plan, "frames", G_TYPE_UINT64, frames, "batches",
        G_TYPE_UINT64, used, "algorithm", G_TYPE_STRING,
        infer_calib_algo_name(self->run_algorithm), "tensors", G_TYPE_INT,
        infer_calib_table_count(table), NULL));
  }
  g_free(plan);
  infer_calib_table_release(table);
  g_mutex_lock(&self->lock);
  self->failed = !ok && !aborted;
  self->finished = TRUE;
  g_cond_broadcast(&self->cond);
  g_mutex_unlock(&self->lock);
  return NULL;
}

/* ---- start / stop ------------------------------------------------------------------------ */

static gboolean settings_error(GstInferCalib *self, const gchar *prop, const gchar *reason) {
  GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("property %s: %s", prop, reason), (NULL));
  return FALSE;
}

/* Whether `path` can be written: the file itself when it exists, else its
 * folder. Checked at start so that a wrong path fails before the stream
 * runs, not after it. */
static gboolean writable(const gchar *path, gchar **reason) {
  if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
    *reason = g_strdup_printf("'%s' is a folder", path);
    return FALSE;
  }
  gboolean exists = g_file_test(path, G_FILE_TEST_EXISTS);
  gchar *dir = g_path_get_dirname(path);
  const gchar *check = exists ? path : dir;
  gboolean ok = g_file_test(dir, G_FILE_TEST_IS_DIR) && g_access(check, W_OK) == 0;
  if (!ok)
    *reason = g_strdup_printf("cannot write '%s': %s", path,
                              !g_file_test(dir, G_FILE_TEST_IS_DIR)
                                  ? "its folder does not exist"
                                  : g_strerror(errno));
  g_free(dir);
  return ok;
}

static gboolean check_outputs(GstInferCalib *self) {
  gchar *reason = NULL;
  gboolean ok = TRUE;
  if (!self->cache_path || !*self->cache_path)
    return settings_error(self, "calibration-cache",
                          "not set: give the file the calibration cache is written to");
  if (!writable(self->cache_path, &reason)) ok = settings_error(self, "calibration-cache", reason);
  g_free(reason);
  reason = NULL;
  if (ok && self->engine_path) {
    InferModelOptions o;
    memset(&o, 0, sizeof o);
    gst_infer_model_settings_options(&self->run, &o);
    o.engine_cache = self->engine_path;
    o.precisions = INFER_PRECISION_FP32 | INFER_PRECISION_INT8;
    o.calibration_cache = self->cache_path;
    o.batch_size = (gint)self->run_batch_size;
    gchar *plan = infer_model_plan_path(&o), *dir = g_path_get_dirname(plan);
    if (g_mkdir_with_parents(dir, 0755) != 0)
      reason = g_strdup_printf("cannot create the folder '%s': %s", dir, g_strerror(errno));
    if (reason || !writable(plan, &reason)) ok = settings_error(self, "engine-cache", reason);
    g_free(plan);
    g_free(dir);
    g_free(reason);
  }
  return ok;
}

/* What start made; also after a failed start, which gets no stop. */
static void release_run(GstInferCalib *self) {
  guint8 *b;
  while ((b = g_queue_pop_head(&self->ready))) g_free(b);
  g_free(self->filling);
  self->filling = NULL;
  infer_network_release(self->net);
  self->net = NULL;
  infer_model_free(self->input);
  self->input = NULL;
  gst_infer_model_settings_clear(&self->run);
  g_free(self->cache_path);
  g_free(self->engine_path);
  self->cache_path = self->engine_path = NULL;
}

static gboolean start_run(GstInferCalib *self) {
  GST_OBJECT_LOCK(self);
  gst_infer_model_settings_copy(&self->run, &self->model);
  self->cache_path = g_strdup(self->calibration_cache);
  self->engine_path = self->engine_cache && *self->engine_cache ? g_strdup(self->engine_cache)
                                                                 : NULL;
  self->run_algorithm = self->algorithm;
  self->run_percentile = self->percentile;
  self->run_interval = MAX(self->interval, 1);
  self->run_max_frames = self->max_frames;
  self->run_batch_size = MAX(self->batch_size, 1);
  GST_OBJECT_UNLOCK(self);

  if (!check_outputs(self)) return FALSE;
  const gchar *prop = NULL;
  gchar *reason = NULL;
  InferPreprocessParams base;
  if (!gst_infer_model_settings_preprocess(&self->run, &base, &prop, &reason)) {
    settings_error(self, prop, reason);
    g_free(reason);
    return FALSE;
  }
  InferModelOptions o;
  memset(&o, 0, sizeof o);
  gst_infer_model_settings_options(&self->run, &o);
  o.batch_size = (gint)self->run_batch_size;
  GError *err = NULL;
  gchar *debug = NULL;
  gboolean ok = infer_model_describe(&o, &self->net, &self->input, &err, &debug);
  if (ok) ok = gst_infer_model_settings_check(&self->run, self->input, &err);
  if (!ok) {
    post_gerror(self, err, debug);
    g_error_free(err);
    g_free(debug);
    return FALSE;
  }
  g_free(debug);
  gst_infer_model_preprocess_params(&base, self->input, &self->pp);
  self->batch = (guint)self->input->batch;
  self->item_bytes = (gsize)self->input->channels * (gsize)self->input->width *
                     (gsize)self->input->height * infer_dtype_size(self->input->input_dtype);
  self->frames_seen = self->frames_sampled = 0;
  self->filled = 0;
  self->batches_queued = self->batches_used = 0;
  self->end = self->abort = self->failed = self->finished = FALSE;
  self->have_info = FALSE;
  GST_INFO_OBJECT(self, "calibrating '%s' (%s) on every %u-th frame, batches of %u",
                  self->run.path, infer_calib_algo_name(self->run_algorithm),
                  self->run_interval, self->batch);
  self->worker = g_thread_new("infercalib", worker_main, self);
  return TRUE;
}

static gboolean gst_infer_calib_start(GstBaseTransform *trans) {
  GstInferCalib *self = GST_INFER_CALIB(trans);
  release_run(self);
  if (start_run(self)) return TRUE;
  release_run(self);
  return FALSE;
}

static void join_worker(GstInferCalib *self) {
  if (self->worker) g_thread_join(self->worker);
  self->worker = NULL;
}

static gboolean gst_infer_calib_stop(GstBaseTransform *trans) {
  GstInferCalib *self = GST_INFER_CALIB(trans);
  g_mutex_lock(&self->lock);
  self->abort = TRUE;
  g_cond_broadcast(&self->cond);
  g_mutex_unlock(&self->lock);
  join_worker(self);
  release_run(self);
  return TRUE;
}

/* ---- data flow -------------------------------------------------------------------------- */

static gboolean gst_infer_calib_set_caps(GstBaseTransform *trans, GstCaps *incaps,
                                         GstCaps *outcaps) {
  GstInferCalib *self = GST_INFER_CALIB(trans);
  (void)outcaps;
  self->have_info = gst_video_info_from_caps(&self->info, incaps);
  return self->have_info;
}

/* No more batches: the partial one is left out (the engine runs fixed
 * batches), the worker computes the scales and writes the files. */
static void end_input(GstInferCalib *self) {
  g_free(self->filling);
  self->filling = NULL;
  self->filled = 0;
  g_mutex_lock(&self->lock);
  if (!self->end) {
    self->seen_at_end = self->frames_seen;
    self->sampled_at_end = self->frames_sampled;
  }
  self->end = TRUE;
  g_cond_broadcast(&self->cond);
  g_mutex_unlock(&self->lock);
}

/* Hands a full batch to the worker, waiting while GST_INFER_CALIB_QUEUED
 * are still waiting. FALSE when the worker failed. */
static gboolean queue_batch(GstInferCalib *self) {
  g_mutex_lock(&self->lock);
  while (!self->finished && g_queue_get_length(&self->ready) >= GST_INFER_CALIB_QUEUED)
    g_cond_wait(&self->cond, &self->lock);
  gboolean ok = !self->finished;
  if (ok) {
    g_queue_push_tail(&self->ready, self->filling);
    self->batches_queued++;
    g_cond_broadcast(&self->cond);
  } else {
    g_free(self->filling);
  }
  guint64 queued = self->batches_queued;
  g_mutex_unlock(&self->lock);
  self->filling = NULL;
  self->filled = 0;
  if (ok)
    post_element_message(self, gst_structure_new(
        "infercalib-progress", "frames", G_TYPE_UINT64, queued * self->batch, "max-frames",
        G_TYPE_UINT, self->run_max_frames, "frames-seen", G_TYPE_UINT64, self->frames_seen,
        NULL));
  return ok;
}

static GstFlowReturn take_frame(GstInferCalib *self, GstBuffer *buf) {
  GstVideoFrame vf;
  if (!gst_video_frame_map(&vf, &self->info, buf, GST_MAP_READ)) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("cannot map a frame"), (NULL));
    return GST_FLOW_ERROR;
  }
  InferImage img;
  gst_infer_image_from_frame(&vf, &img);
  if (!self->filling) self->filling = g_malloc(self->item_bytes * self->batch);
  InferLetterbox lb;
  InferStatus *st = infer_preprocess_cpu(&img, NULL, &self->pp,
                                         self->filling + self->filled * self->item_bytes, &lb);
  gst_video_frame_unmap(&vf);
  if (st) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED,
                      ("preprocessing a frame for the model '%s' (property model) failed: %s",
                       self->run.path, infer_status_message(st)), (NULL));
    infer_status_free(st);
    return GST_FLOW_ERROR;
  }
  self->frames_sampled++;
  if (++self->filled == self->batch && !queue_batch(self)) return GST_FLOW_ERROR;
  if (self->run_max_frames && self->frames_sampled >= self->run_max_frames) end_input(self);
  return GST_FLOW_OK;
}

static GstFlowReturn gst_infer_calib_transform_ip(GstBaseTransform *trans, GstBuffer *buf) {
  GstInferCalib *self = GST_INFER_CALIB(trans);
  if (!self->have_info) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("no caps before the first buffer"), (NULL));
    return GST_FLOW_NOT_NEGOTIATED;
  }
  g_mutex_lock(&self->lock);
  gboolean failed = self->failed, ended = self->end;
  g_mutex_unlock(&self->lock);
  if (failed) return GST_FLOW_ERROR;
  guint64 index = self->frames_seen++;
  if (ended || index % self->run_interval != 0) return GST_FLOW_OK;
  return take_frame(self, buf);
}

static gboolean gst_infer_calib_sink_event(GstBaseTransform *trans, GstEvent *event) {
  GstInferCalib *self = GST_INFER_CALIB(trans);
  if (GST_EVENT_TYPE(event) == GST_EVENT_EOS) {
    /* the files exist (or the error is posted) before EOS goes on */
    end_input(self);
    join_worker(self);
  }
  return GST_BASE_TRANSFORM_CLASS(gst_infer_calib_parent_class)->sink_event(trans, event);
}

/* ---- GObject ---------------------------------------------------------------------------- */

static void gst_infer_calib_finalize(GObject *object) {
  GstInferCalib *self = GST_INFER_CALIB(object);
  gst_infer_model_settings_clear(&self->model);
  g_free(self->calibration_cache);
  g_free(self->engine_cache);
  g_mutex_clear(&self->lock);
  g_cond_clear(&self->cond);
  G_OBJECT_CLASS(gst_infer_calib_parent_class)->finalize(object);
}

static void gst_infer_calib_class_init(GstInferCalibClass *klass) {
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS(klass);
  gobject_class->set_property = set_property;
  gobject_class->get_property = get_property;
  gobject_class->finalize = gst_infer_calib_finalize;
  install_properties(gobject_class);
  trans_class->start = GST_DEBUG_FUNCPTR(gst_infer_calib_start);
  trans_class->stop = GST_DEBUG_FUNCPTR(gst_infer_calib_stop);
  trans_class->set_caps = GST_DEBUG_FUNCPTR(gst_infer_calib_set_caps);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR(gst_infer_calib_transform_ip);
  trans_class->sink_event = GST_DEBUG_FUNCPTR(gst_infer_calib_sink_event);
  trans_class->passthrough_on_same_caps = TRUE;
  trans_class->transform_ip_on_passthrough = TRUE;
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(element_class, "INT8 calibration",
                                        "Filter/Analyzer/Video", long_description,
                                        "infer project");
}

static void gst_infer_calib_init(GstInferCalib *self) {
  gst_infer_model_settings_init(&self->model);
  self->algorithm = DEFAULT_ALGORITHM;
  self->percentile = INFER_CALIB_DEFAULT_PERCENTILE;
  self->interval = 1;
  self->max_frames = DEFAULT_MAX_FRAMES;
  self->batch_size = 1;
  g_mutex_init(&self->lock);
  g_cond_init(&self->cond);
  g_queue_init(&self->ready);
  gst_base_transform_set_passthrough(GST_BASE_TRANSFORM(self), TRUE);
}
