/* The infer element: type, life cycle (start: settings, labels, model
 * instance; stop: join threads, detach), engine build messages and model
 * swaps while playing. Data flow is in infer_pads.c. */
#include "gstinfer.h"

#include <string.h>

GST_DEBUG_CATEGORY(gst_infer_debug);
#define GST_CAT_DEFAULT gst_infer_debug

#define VIDEO_FORMATS "{ NV12, I420, RGBA, BGRA, RGBx, BGRx, RGB, BGR, GRAY8 }"
/* Frames in CUDA memory (cudaupload, nvh264dec) are read in place by the
 * GPU path and downloaded by gstreamer-cuda for the CPU one. */
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

G_DEFINE_TYPE_WITH_CODE(GstInfer, gst_infer, GST_TYPE_ELEMENT,
                        GST_DEBUG_CATEGORY_INIT(gst_infer_debug, "infer", 0,
                                                "infer: ONNX inference on video frames"));

static const gchar *long_description =
    "Runs an ONNX model (built into an engine for the CPU or CUDA backend, cached as a plan "
    "file with engine-cache) on video frames and attaches the results as metadata: "
    "InferDetectionMeta plus GstVideoRegionOfInterestMeta for detectors, "
    "InferClassificationMeta for classifiers, InferTensorMeta for raw outputs. Frames are "
    "letterboxed, normalized and batched (batch-size, batch-timeout); elements with the same "
    "model-instance-id share one engine and fill batches together. With process-mode=roi it "
    "classifies the objects an upstream detector found. Frames pass through unchanged and in "
    "order.\n"
    "Example: gst-launch-1.0 videotestsrc num-buffers=100 ! videoconvert ! "
    "infer model=detector.onnx labels=labels.txt engine-cache=/tmp/plans/ batch-size=4 "
    "batch-timeout=20000 ! infer model=classifier.onnx process-mode=roi ! fakesink";

/* ---- messages and errors ---------------------------------------------------------------- */

void gst_infer_post_error(GstInfer *self, const GError *error, const gchar *debug) {
  gst_element_message_full(GST_ELEMENT(self), GST_MESSAGE_ERROR, error->domain, error->code,
                           g_strdup(error->message), g_strdup(debug), __FILE__, GST_FUNCTION,
                           __LINE__);
}

static void post_build_message(GstInfer *self, GstStructure *s) {
  gst_element_post_message(GST_ELEMENT(self),
                           gst_message_new_element(GST_OBJECT(self), s));
}

typedef struct {
  GstInfer *self;
  const gchar *model;
} ProgressCtx;

static void on_progress(const gchar *phase, gint done, gint total, gpointer user) {
  ProgressCtx *p = user;
  post_build_message(p->self, gst_structure_new("infer-build", "status", G_TYPE_STRING,
                                                "progress", "model", G_TYPE_STRING, p->model,
                                                "phase", G_TYPE_STRING, phase, "done", G_TYPE_INT,
                                                done, "total", G_TYPE_INT, total, NULL));
}

static void post_model_ready(GstInfer *self, const InferModel *m, const gchar *status) {
  GST_INFO_OBJECT(self, "model '%s': %s", m->path, m->origin);
  post_build_message(self, gst_structure_new(
      "infer-build", "status", G_TYPE_STRING, status, "model", G_TYPE_STRING, m->path,
      "plan", G_TYPE_STRING, m->plan_path, "reason", G_TYPE_STRING, m->origin, "width",
      G_TYPE_INT, m->width, "height", G_TYPE_INT, m->height, "batch", G_TYPE_INT, m->batch,
      NULL));
  if (m->save_warning)
    GST_ELEMENT_WARNING(self, RESOURCE, WRITE, ("%s", m->save_warning), (NULL));
}

void gst_infer_decode_settings(GstInfer *self, InferDecodeSettings *out) {
  GST_OBJECT_LOCK(self);
  const GstInferSettings *s = &self->settings;
  out->model_type = s->model_type;
  out->detector_format = s->detector_format;
  out->threshold = s->threshold;
  out->nms_iou = s->nms_iou;
  out->top_k = (gint)s->top_k;
  out->softmax = s->softmax;
  out->output_tensors = s->output_tensors;
  out->roi_mode = s->process_mode == GST_INFER_PROCESS_ROI;
  GST_OBJECT_UNLOCK(self);
}

static unsigned precision_flags(GstInferPrecision p) {
  switch (p) {
    case GST_INFER_PRECISION_FP16: return INFER_PRECISION_FP32 | INFER_PRECISION_FP16;
    case GST_INFER_PRECISION_INT8: return INFER_PRECISION_FP32 | INFER_PRECISION_INT8;
    case GST_INFER_PRECISION_BEST: return INFER_PRECISION_BEST;
    default: return INFER_PRECISION_FP32;
  }
}

/* Options from the settings (strings owned by `keep`, a copy). Object lock. */
static void instance_options(const GstInferSettings *s, InferInstanceOptions *o) {
  memset(o, 0, sizeof *o);
  gst_infer_model_settings_options(&s->model, &o->model);
  o->model.engine_cache = s->engine_cache;
  o->model.precisions = precision_flags(s->precision);
  o->model.calibration_cache = s->calibration_cache;
  o->model.batch_size = (gint)s->batch_size;
  o->batch_timeout_us = s->batch_timeout_us;
}

static void copy_settings(GstInfer *self, GstInferSettings *copy) {
  GST_OBJECT_LOCK(self);
  gst_infer_settings_copy(copy, &self->settings);
  GST_OBJECT_UNLOCK(self);
}

/* ---- start / stop -------------------------------------------------------------------- */

static gboolean settings_error(GstInfer *self, const gchar *prop, const gchar *reason) {
  GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("property %s: %s", prop, reason), (NULL));
  return FALSE;
}

static gboolean prepare_settings(GstInfer *self, const GstInferSettings *s) {
  gchar *reason = NULL;
  const gchar *prop = NULL;
  gboolean ok = gst_infer_model_settings_preprocess(&s->model, &self->pp, &prop, &reason);
  if (!ok) settings_error(self, prop, reason);
  g_free(reason);
  if (!ok) return FALSE;
  if (s->labels && *s->labels) {
    GError *err = NULL;
    self->labels = gst_infer_read_labels(s->labels, &err);
    if (!self->labels) {
      gst_infer_post_error(self, err, NULL);
      g_error_free(err);
      return FALSE;
    }
  }
  if (s->object_class && *s->object_class) {
    self->object_classes = g_strsplit(s->object_class, ",", -1);
    for (gchar **c = self->object_classes; *c; c++) g_strstrip(*c);
  }
  return TRUE;
}

static gboolean check_model(GstInfer *self, const InferModel *m, gboolean fatal) {
  InferDecodeSettings ds;
  gst_infer_decode_settings(self, &ds);
  GError *err = NULL;
  gchar *debug = NULL;
  gboolean ok = infer_results_check(m, &ds, &err, &debug);
  if (ok) {
    GstInferModelSettings ms;
    GST_OBJECT_LOCK(self);
    gst_infer_model_settings_copy(&ms, &self->settings.model);
    GST_OBJECT_UNLOCK(self);
    ok = gst_infer_model_settings_check(&ms, m, &err);
    gst_infer_model_settings_clear(&ms);
  }
  if (!ok) {
    if (fatal)
      gst_infer_post_error(self, err, debug);
    else
      GST_ELEMENT_WARNING(self, LIBRARY, SETTINGS, ("%s", err->message), ("%s", debug));
    g_error_free(err);
  }
  g_free(debug);
  return ok;
}

static gboolean gst_infer_start(GstInfer *self) {
  GstInferSettings s;
  copy_settings(self, &s);
  gboolean ok = prepare_settings(self, &s);
  if (ok) {
    InferInstanceOptions o;
    instance_options(&s, &o);
    ProgressCtx pc = {self, s.model.path};
    InferInstance *inst = NULL;
    const InferModel *loaded = NULL;
    GError *err = NULL;
    gchar *debug = NULL;
    ok = infer_instance_acquire(s.instance_id, &o, on_progress, &pc, &self->client, &inst,
                                &loaded, &err, &debug);
    if (!ok) {
      gst_infer_post_error(self, err, debug);
      g_error_free(err);
      g_free(debug);
    } else {
      if (loaded) post_model_ready(self, loaded, loaded->from_plan ? "loaded" : "built");
      else post_model_ready(self, infer_instance_model(inst), "shared");
      g_mutex_lock(&self->model_lock);
      self->inst = inst;
      g_mutex_unlock(&self->model_lock);
      ok = check_model(self, infer_instance_model(inst), TRUE);
    }
  }
  self->device_id = s.model.device_id;
  gst_infer_settings_clear(&s);
  self->frame_count = 0;
  self->logged_memory_path = FALSE;
  self->decode_error_posted = FALSE;
  return ok;
}

static void gst_infer_stop(GstInfer *self) {
  g_mutex_lock(&self->model_lock);
  InferInstance *inst = self->inst;
  GThread *loader = self->loader;
  self->inst = NULL;
  self->loader = NULL;
  g_mutex_unlock(&self->model_lock);
  if (loader) g_thread_join(loader);
  if (self->uploader) {
    infer_status_free(infer_cuda_set_device(self->device_id));
    infer_cuda_uploader_free(self->uploader);
    self->uploader = NULL;
  }
  if (inst) infer_instance_release(inst, &self->client);
  gst_infer_queue_clear(self);
  if (self->labels) g_ptr_array_unref(self->labels);
  self->labels = NULL;
  g_strfreev(self->object_classes);
  self->object_classes = NULL;
  self->have_info = FALSE;
}

/* ---- model swap while playing ------------------------------------------------------- */

typedef struct {
  GstInfer *self;
  InferInstance *inst;
  GstInferSettings settings;
} SwapRequest;

static gpointer loader_main(gpointer data) {
  SwapRequest *r = data;
  GstInfer *self = r->self;
  InferInstanceOptions o;
  instance_options(&r->settings, &o);
  ProgressCtx pc = {self, r->settings.model.path};
  InferModel *m = NULL;
  GError *err = NULL;
  gchar *debug = NULL;
  if (!infer_model_load(&o.model, on_progress, &pc, &m, &err, &debug)) {
    GST_ELEMENT_WARNING(self, LIBRARY, INIT,
                        ("%s; keeping the previous model", err->message), ("%s", debug));
    g_error_free(err);
    g_free(debug);
  } else if (!check_model(self, m, FALSE)) {
    infer_model_free(m);
  } else {
    post_model_ready(self, m, m->from_plan ? "loaded" : "built");
    infer_instance_set_model(r->inst, m);
  }
  gst_infer_settings_clear(&r->settings);
  gst_object_unref(self);
  g_free(r);
  return NULL;
}

void gst_infer_start_model_swap(GstInfer *self, const gchar *path) {
  g_mutex_lock(&self->model_lock);
  if (!self->inst || !path) {
    g_mutex_unlock(&self->model_lock);
    return;
  }
  if (self->loader) g_thread_join(self->loader); /* one swap at a time */
  SwapRequest *r = g_new0(SwapRequest, 1);
  r->self = gst_object_ref(self);
  r->inst = self->inst;
  copy_settings(self, &r->settings);
  g_free(r->settings.model.path);
  r->settings.model.path = g_strdup(path);
  GST_INFO_OBJECT(self, "loading the model '%s' in the background", path);
  self->loader = g_thread_new("infer-loader", loader_main, r);
  g_mutex_unlock(&self->model_lock);
}

/* ---- GObject / GstElement --------------------------------------------------------------- */

/* The CUDA context for upstream CUDA elements exists from READY on: decoders
 * (nvh264dec) look for one when they open, before the model is loaded. */
static void cuda_context_open(GstInfer *self) {
  GST_OBJECT_LOCK(self);
  gboolean gpu = self->settings.model.backend != INFER_BACKEND_CPU;
  gint device = self->settings.model.device_id;
  GST_OBJECT_UNLOCK(self);
  if (gpu && infer_cuda_gst_built() && !self->cuda_context)
    self->cuda_context = infer_cuda_gst_context_new(device);
}

static GstStateChangeReturn gst_infer_change_state(GstElement *element,
                                                   GstStateChange transition) {
  GstInfer *self = GST_INFER(element);
  if (transition == GST_STATE_CHANGE_NULL_TO_READY) cuda_context_open(self);
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED && !gst_infer_start(self)) {
    gst_infer_stop(self);
    return GST_STATE_CHANGE_FAILURE;
  }
  GstStateChangeReturn ret =
      GST_ELEMENT_CLASS(gst_infer_parent_class)->change_state(element, transition);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) gst_infer_stop(self);
  if (transition == GST_STATE_CHANGE_READY_TO_NULL && self->cuda_context) {
    gst_object_unref(self->cuda_context);
    self->cuda_context = NULL;
  }
  return ret;
}

static void gst_infer_finalize(GObject *object) {
  GstInfer *self = GST_INFER(object);
  if (self->cuda_context) gst_object_unref(self->cuda_context);
  gst_infer_settings_clear(&self->settings);
  g_mutex_clear(&self->qlock);
  g_cond_clear(&self->qcond);
  g_mutex_clear(&self->model_lock);
  G_OBJECT_CLASS(gst_infer_parent_class)->finalize(object);
}

static void gst_infer_class_init(GstInferClass *klass) {
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  gobject_class->set_property = gst_infer_set_property;
  gobject_class->get_property = gst_infer_get_property;
  gobject_class->finalize = gst_infer_finalize;
  gst_infer_install_properties(gobject_class);
  element_class->change_state = GST_DEBUG_FUNCPTR(gst_infer_change_state);
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(element_class, "Inference", "Filter/Analyzer/Video",
                                        long_description, "infer project");
}

static void gst_infer_init(GstInfer *self) {
  gst_infer_settings_init(&self->settings);
  g_mutex_init(&self->qlock);
  g_cond_init(&self->qcond);
  g_mutex_init(&self->model_lock);
  g_queue_init(&self->queue);
  self->srcresult = GST_FLOW_FLUSHING;
  self->flushing = TRUE;
  gst_infer_setup_pads(self);
}
