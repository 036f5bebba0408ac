/* The infer element's data flow: the chain function (preprocess into a
 * batch slot, queue the frame, return), serialized events through the same
 * output queue, and the src pad task that pushes frames in arrival order
 * once their inference is done.
 *
 * Ordering: every buffer and serialized event goes into one FIFO per
 * element; the src task only pops the head, and only when it is done, so
 * the output order is the input order whatever the batches do. Flow
 * control: the chain waits while max-frames-in-flight frames are held
 * (asking the instance to run its partial batch first, so it never waits on
 * a batch that cannot fill). */
#include <string.h>

#include "gstinfer.h"
#include "infer-meta.h"

#define GST_CAT_DEFAULT gst_infer_debug

/* ---- frames -------------------------------------------------------------------- */

InferFrame *infer_frame_new(GstBuffer *buffer, GstEvent *event) {
  InferFrame *f = g_new0(InferFrame, 1);
  f->refcount = 1;
  f->buffer = buffer;
  f->event = event;
  return f;
}

InferFrame *infer_frame_ref(InferFrame *f) {
  g_atomic_int_inc(&f->refcount);
  return f;
}

void infer_frame_unref(InferFrame *f) {
  if (!f || !g_atomic_int_dec_and_test(&f->refcount)) return;
  if (f->buffer) gst_buffer_unref(f->buffer);
  if (f->event) gst_event_unref(f->event);
  infer_frame_clear_results(f);
  g_free(f);
}

/* Called with qlock. Wakes the chain too when the frame is not done yet
 * (wait_for_room looks at where the remaining slots are). */
static void frame_finish_one(GstInfer *self, InferFrame *f) {
  if (--f->pending == 0) f->done = TRUE;
  self->completions++;
  g_cond_broadcast(&self->qcond);
}

static void queue_item(GstInfer *self, InferFrame *f) {
  g_mutex_lock(&self->qlock);
  g_queue_push_tail(&self->queue, f);
  if (f->buffer) self->n_frames++;
  g_cond_broadcast(&self->qcond);
  g_mutex_unlock(&self->qlock);
}

void gst_infer_queue_clear(GstInfer *self) {
  g_mutex_lock(&self->qlock);
  InferFrame *f;
  while ((f = g_queue_pop_head(&self->queue))) infer_frame_unref(f);
  self->n_frames = 0;
  infer_frame_unref(self->last);
  self->last = NULL;
  g_cond_broadcast(&self->qcond);
  g_mutex_unlock(&self->qlock);
}

/* FLUSH_STOP: drops the queued frames and events, except sticky events not
 * pushed yet (stream-start, caps, tags): they were consumed from the sink
 * pad and would never reach downstream otherwise (data flow before
 * stream-start / caps: not-negotiated). Segments and EOS do not survive a
 * flush. */
static void flush_queue(GstInfer *self) {
  g_mutex_lock(&self->qlock);
  GQueue keep = G_QUEUE_INIT;
  InferFrame *f;
  while ((f = g_queue_pop_head(&self->queue))) {
    GstEvent *ev = f->event;
    if (ev && GST_EVENT_IS_STICKY(ev) && GST_EVENT_TYPE(ev) != GST_EVENT_SEGMENT &&
        GST_EVENT_TYPE(ev) != GST_EVENT_EOS)
      g_queue_push_tail(&keep, f);
    else
      infer_frame_unref(f);
  }
  self->queue = keep;
  self->n_frames = 0;
  infer_frame_unref(self->last);
  self->last = NULL;
  g_cond_broadcast(&self->qcond);
  g_mutex_unlock(&self->qlock);
}

/* Runs what is pending and waits until everything queued has been pushed. */
static void drain_and_wait(GstInfer *self) {
  if (self->inst) infer_instance_drain(self->inst);
  g_mutex_lock(&self->qlock);
  while (!self->flushing && self->srcresult == GST_FLOW_OK &&
         (self->queue.length > 0 || self->pushing))
    g_cond_wait(&self->qcond, &self->qlock);
  g_mutex_unlock(&self->qlock);
}

/* ---- worker callback ------------------------------------------------------------ */

static void slot_done(InferClient *client, InferSlot *slot, const InferModel *model,
                      const InferNamedTensor *outputs, gint n_outputs, gint item,
                      const gchar *error) {
  GstInfer *self = client->user;
  InferFrame *f = slot->frame;
  gchar *err = NULL;
  if (error) {
    err = g_strdup(error);
  } else {
    InferDecodeSettings ds;
    gst_infer_decode_settings(self, &ds);
    err = infer_results_decode(f, slot, model, outputs, n_outputs, item, &ds);
  }
  gboolean post = FALSE;
  g_mutex_lock(&self->qlock);
  if (err && !self->decode_error_posted) self->decode_error_posted = post = TRUE;
  g_mutex_unlock(&self->qlock);
  if (post) {
    /* the message goes on the bus before the streaming thread can see the
       flow error: otherwise upstream's "Internal data stream error" may be
       the first error the application reads */
    GST_ELEMENT_ERROR(self, STREAM, FAILED,
                      ("inference on the model '%s' (property model) failed: %s", model->path,
                       err),
                      ("%s", err));
  }
  g_mutex_lock(&self->qlock);
  if (post && self->srcresult == GST_FLOW_OK) self->srcresult = GST_FLOW_ERROR;
  frame_finish_one(self, f);
  g_mutex_unlock(&self->qlock);
  g_free(err);
  infer_frame_unref(f);
}

/* ---- chain ------------------------------------------------------------------------ */

typedef struct {
  InferRect rect;
  gint index;
} Roi;

static gboolean class_selected(GstInfer *self, const InferObject *o) {
  if (!self->object_classes) return TRUE;
  for (gchar **c = self->object_classes; *c; c++) {
    gchar *end = NULL;
    gint64 id = g_ascii_strtoll(*c, &end, 10);
    if (end && !*end && end != *c && id == o->label_id) return TRUE;
    if (o->label && g_strcmp0(o->label, *c) == 0) return TRUE;
  }
  return FALSE;
}

/* The upstream objects to process in roi mode. */
static GArray *select_rois(GstInfer *self, GstBuffer *buf, gint W, gint H) {
  GArray *rois = g_array_new(FALSE, FALSE, sizeof(Roi));
  InferDetectionMeta *dm = infer_buffer_get_detection_meta(buf);
  if (!dm || !dm->objects) return rois;
  GST_OBJECT_LOCK(self);
  guint min_size = self->settings.min_object_size, max_size = self->settings.max_object_size;
  GST_OBJECT_UNLOCK(self);
  for (guint i = 0; i < dm->objects->len; i++) {
    const InferObject *o = &g_array_index(dm->objects, InferObject, i);
    gdouble x0 = CLAMP(o->x_min * W, 0, W), y0 = CLAMP(o->y_min * H, 0, H);
    gdouble x1 = CLAMP(o->x_max * W, 0, W), y1 = CLAMP(o->y_max * H, 0, H);
    gdouble w = x1 - x0, h = y1 - y0;
    if (!(w >= 1.0) || !(h >= 1.0)) continue;
    if (w < min_size || h < min_size) continue;
    if (max_size > 0 && (w > max_size || h > max_size)) continue;
    if (!class_selected(self, o)) continue;
    Roi r = {{(float)x0, (float)y0, (float)w, (float)h}, (gint)i};
    g_array_append_val(rois, r);
  }
  return rois;
}

/* How a frame reaches a GPU model: read in place (CUDA memory of the
 * element's context, mapped with GST_MAP_CUDA), or mapped on the host and
 * uploaded once by the chain. Logged once per start. */
static gboolean frame_in_place(GstInfer *self, GstBuffer *buf) {
  gboolean in_place = infer_cuda_gst_buffer_in_place(buf, self->cuda_context);
  if (!self->logged_memory_path) {
    self->logged_memory_path = TRUE;
    GstMemory *mem = gst_buffer_n_memory(buf) ? gst_buffer_peek_memory(buf, 0) : NULL;
    GST_INFO_OBJECT(self, "frames (%s memory) reach the GPU %s",
                    mem && mem->allocator ? mem->allocator->mem_type : "system",
                    in_place ? "in place" : "through one upload each");
  }
  return in_place;
}

/* Queues the preprocessing of every slot of a mapped frame: on the host,
 * or on the GPU from the frame in place or from its upload. */
static void preprocess_slots(GstInfer *self, InferFrame *f, GstVideoFrame *vf, GArray *rois,
                             gint n_slots, gboolean device, gboolean in_place) {
  gint W = f->width, H = f->height;
  InferImage img;
  gst_infer_image_from_frame(vf, &img); /* the caps were checked in set_caps */
  InferImage dev = img;
  void *stream = NULL;
  InferStatus *upload = NULL;
  if (device) {
    infer_status_free(infer_cuda_set_device(self->device_id));
    stream = infer_instance_device_stream(self->inst);
    if (!in_place) {
      if (!self->uploader) self->uploader = infer_cuda_uploader_new();
      upload = infer_cuda_upload(self->uploader, &img, stream, &dev);
    }
  }
  for (gint i = 0; i < n_slots; i++) {
    InferSlot *slot = infer_instance_reserve(self->inst, &self->client);
    slot->frame = infer_frame_ref(f);
    slot->frame_width = W;
    slot->frame_height = H;
    const InferRect *roi = NULL;
    if (rois) {
      Roi *r = &g_array_index(rois, Roi, i);
      slot->object_index = r->index;
      roi = &r->rect;
    }
    InferStatus *st = NULL;
    if (upload)
      st = infer_status_new(infer_status_code(upload), "%s", infer_status_message(upload));
    else if (device)
      st = infer_instance_preprocess_device(self->inst, slot, &dev, roi, &self->pp);
    else
      st = infer_instance_preprocess(self->inst, slot, &img, roi, &self->pp);
    if (st) {
      GST_WARNING_OBJECT(self, "preprocessing failed: %s", infer_status_message(st));
      slot->failed = TRUE;
      infer_status_free(st);
    }
    infer_instance_commit(self->inst, slot);
  }
  /* the upload's buffers are free again once the stream passed these kernels */
  if (device && !in_place && !upload) infer_cuda_upload_done(self->uploader, stream);
  infer_status_free(upload);
}

/* Waits while max-frames-in-flight frames are held. The oldest frame must
 * be able to finish: when one of its slots sits in the batch being filled
 * (which might never fill), that batch runs now, partly filled. */
static GstFlowReturn wait_for_room(GstInfer *self) {
  GST_OBJECT_LOCK(self);
  guint max = self->settings.max_in_flight;
  if (max == 0) max = 2 * MAX(self->settings.batch_size, 1);
  GST_OBJECT_UNLOCK(self);
  g_mutex_lock(&self->qlock);
  while (!self->flushing && self->srcresult == GST_FLOW_OK && self->n_frames >= max) {
    InferFrame *head = g_queue_peek_head(&self->queue);
    if (head && !head->done) {
      guint64 seen = self->completions;
      infer_frame_ref(head);
      g_mutex_unlock(&self->qlock);
      gboolean closed = infer_instance_drain_frame(self->inst, &self->client, head);
      g_mutex_lock(&self->qlock);
      infer_frame_unref(head);
      /* something changed meanwhile: look again rather than wait */
      if (closed || seen != self->completions) continue;
    }
    g_cond_wait(&self->qcond, &self->qlock);
  }
  GstFlowReturn ret = self->flushing ? GST_FLOW_FLUSHING : self->srcresult;
  g_mutex_unlock(&self->qlock);
  return ret;
}

static GstFlowReturn gst_infer_chain(GstPad *pad, GstObject *parent, GstBuffer *buf) {
  GstInfer *self = GST_INFER(parent);
  (void)pad;
  if (!self->have_info || !self->inst) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("no caps before the first buffer"), (NULL));
    gst_buffer_unref(buf);
    return GST_FLOW_NOT_NEGOTIATED;
  }
  GST_OBJECT_LOCK(self);
  guint interval = self->settings.interval;
  gboolean roi_mode = self->settings.process_mode == GST_INFER_PROCESS_ROI;
  GST_OBJECT_UNLOCK(self);
  gboolean infer_it = self->frame_count++ % ((guint64)interval + 1) == 0;
  gint W = GST_VIDEO_INFO_WIDTH(&self->info), H = GST_VIDEO_INFO_HEIGHT(&self->info);

  GArray *rois = NULL;
  gint n_slots = 0;
  if (infer_it) {
    if (roi_mode) {
      rois = select_rois(self, buf, W, H);
      n_slots = (gint)rois->len;
    } else {
      n_slots = 1;
    }
  }
  gboolean device = n_slots > 0 && infer_instance_on_device(self->inst);
  gboolean in_place = device && frame_in_place(self, buf);
  GstMapFlags flags = GST_MAP_READ | (in_place ? infer_cuda_gst_map_flags() : 0);
  GstVideoFrame vf;
  if (n_slots > 0 && !gst_video_frame_map(&vf, &self->info, buf, flags)) {
    GST_ELEMENT_ERROR(self, STREAM, FORMAT, ("cannot map a %dx%d video frame", W, H), (NULL));
    if (rois) g_array_unref(rois);
    gst_buffer_unref(buf);
    return GST_FLOW_ERROR;
  }
  GstFlowReturn ret = wait_for_room(self);
  if (ret != GST_FLOW_OK) {
    if (n_slots > 0) gst_video_frame_unmap(&vf);
    if (rois) g_array_unref(rois);
    gst_buffer_unref(buf);
    return ret;
  }
  InferFrame *f = infer_frame_new(buf, NULL);
  f->width = W;
  f->height = H;
  f->pending = n_slots + 1; /* + 1 until every slot is submitted */
  infer_frame_ref(f);       /* the chain's, the queue has the first */
  queue_item(self, f);

  if (n_slots > 0) {
    /* a frame read in place stays valid: the frame holds the buffer until
       it is pushed, after its batch has run */
    preprocess_slots(self, f, &vf, rois, n_slots, device, in_place);
    gst_video_frame_unmap(&vf);
  }
  if (rois) g_array_unref(rois);
  g_mutex_lock(&self->qlock);
  frame_finish_one(self, f);
  g_mutex_unlock(&self->qlock);
  infer_frame_unref(f);
  return GST_FLOW_OK;
}

/* ---- the src task ------------------------------------------------------------------ */

static void push_frame(GstInfer *self, InferFrame *f, GstFlowReturn *ret) {
  GstBuffer *buf = f->buffer;
  f->buffer = NULL;
  buf = gst_buffer_make_writable(buf);
  GST_OBJECT_LOCK(self);
  gboolean repeat = self->settings.repeat_last &&
                    self->settings.process_mode == GST_INFER_PROCESS_FRAME;
  GST_OBJECT_UNLOCK(self);
  if (f->inferred || f->roi_classes || f->detections) {
    infer_results_attach(self, buf, f->width, f->height, f);
    if (f->inferred) {
      infer_frame_unref(self->last);
      self->last = infer_frame_ref(f);
    }
  } else if (repeat && self->last) {
    infer_results_attach(self, buf, f->width, f->height, self->last);
  }
  *ret = gst_pad_push(self->srcpad, buf);
}

static void src_loop(gpointer data) {
  GstInfer *self = data;
  g_mutex_lock(&self->qlock);
  InferFrame *head;
  while (!self->flushing && !((head = g_queue_peek_head(&self->queue)) && head->done))
    g_cond_wait(&self->qcond, &self->qlock);
  if (self->flushing) {
    g_mutex_unlock(&self->qlock);
    gst_pad_pause_task(self->srcpad);
    return;
  }
  InferFrame *f = g_queue_pop_head(&self->queue);
  /* Downstream already answered EOS: frames still queued are dropped, but
   * events keep flowing, above all the EOS that upstream sends next (the
   * chain returns EOS to it); without it the pipeline would never end. */
  gboolean drop = f->buffer != NULL && self->srcresult == GST_FLOW_EOS;
  self->pushing = TRUE;
  g_mutex_unlock(&self->qlock);

  GstFlowReturn ret = GST_FLOW_OK;
  gboolean is_frame = f->buffer != NULL;
  if (drop) {
    GST_LOG_OBJECT(self, "dropping a frame: downstream is EOS");
  } else if (is_frame) {
    push_frame(self, f, &ret);
  } else {
    GstEvent *ev = f->event;
    f->event = NULL;
    gst_pad_push_event(self->srcpad, ev);
  }

  g_mutex_lock(&self->qlock);
  if (is_frame && self->n_frames > 0) self->n_frames--;
  self->pushing = FALSE;
  if (ret != GST_FLOW_OK && self->srcresult == GST_FLOW_OK) self->srcresult = ret;
  g_cond_broadcast(&self->qcond);
  g_mutex_unlock(&self->qlock);
  infer_frame_unref(f);

  /* EOS from downstream keeps the task running (see above). */
  if (ret != GST_FLOW_OK && ret != GST_FLOW_EOS) {
    GST_DEBUG_OBJECT(self, "pausing the task: %s", gst_flow_get_name(ret));
    if (ret == GST_FLOW_NOT_LINKED || ret < GST_FLOW_EOS) {
      GST_ELEMENT_FLOW_ERROR(self, ret);
      gst_pad_push_event(self->srcpad, gst_event_new_eos());
    }
    gst_pad_pause_task(self->srcpad);
  }
}

static gboolean src_activate_mode(GstPad *pad, GstObject *parent, GstPadMode mode,
                                  gboolean active) {
  GstInfer *self = GST_INFER(parent);
  if (mode != GST_PAD_MODE_PUSH) return FALSE;
  g_mutex_lock(&self->qlock);
  self->flushing = !active;
  self->srcresult = active ? GST_FLOW_OK : GST_FLOW_FLUSHING;
  g_cond_broadcast(&self->qcond);
  g_mutex_unlock(&self->qlock);
  if (active) return gst_pad_start_task(pad, src_loop, self, NULL);
  return gst_pad_stop_task(pad);
}

/* ---- events and queries ------------------------------------------------------------- */

static gboolean set_caps(GstInfer *self, GstCaps *caps) {
  GstVideoInfo info;
  InferPixelFormat pf;
  if (!gst_video_info_from_caps(&info, caps) || !gst_infer_pixel_format(GST_VIDEO_INFO_FORMAT(&info), &pf)) {
    GST_WARNING_OBJECT(self, "unsupported caps %" GST_PTR_FORMAT, caps);
    return FALSE;
  }
  if (self->have_info && !gst_video_info_is_equal(&info, &self->info)) {
    GST_INFO_OBJECT(self, "caps change: running pending frames first");
    drain_and_wait(self);
  }
  self->info = info;
  self->have_info = TRUE;
  return TRUE;
}

static gboolean gst_infer_sink_event(GstPad *pad, GstObject *parent, GstEvent *event) {
  GstInfer *self = GST_INFER(parent);
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_FLUSH_START:
      g_mutex_lock(&self->qlock);
      self->flushing = TRUE;
      self->srcresult = GST_FLOW_FLUSHING;
      g_cond_broadcast(&self->qcond);
      g_mutex_unlock(&self->qlock);
      gst_pad_push_event(self->srcpad, event);
      gst_pad_pause_task(self->srcpad);
      return TRUE;
    case GST_EVENT_FLUSH_STOP: {
      flush_queue(self);
      g_mutex_lock(&self->qlock);
      self->flushing = FALSE;
      self->srcresult = GST_FLOW_OK;
      g_mutex_unlock(&self->qlock);
      self->frame_count = 0;
      gboolean ret = gst_pad_push_event(self->srcpad, event);
      gst_pad_start_task(self->srcpad, src_loop, self, NULL);
      return ret;
    }
    case GST_EVENT_CAPS: {
      GstCaps *caps;
      gst_event_parse_caps(event, &caps);
      if (!set_caps(self, caps)) {
        gst_event_unref(event);
        return FALSE;
      }
      break;
    }
    case GST_EVENT_EOS:
      if (self->inst) infer_instance_drain(self->inst);
      break;
    default:
      break;
  }
  if (!GST_EVENT_IS_SERIALIZED(event)) return gst_pad_event_default(pad, parent, event);
  InferFrame *item = infer_frame_new(NULL, event);
  item->done = TRUE;
  queue_item(self, item);
  return TRUE;
}

static gboolean gst_infer_sink_query(GstPad *pad, GstObject *parent, GstQuery *query) {
  GstInfer *self = GST_INFER(parent);
  switch (GST_QUERY_TYPE(query)) {
    case GST_QUERY_DRAIN:
      drain_and_wait(self);
      break;
    case GST_QUERY_CONTEXT:
      /* upstream CUDA elements allocate in the context the engine runs in */
      if (infer_cuda_gst_context_query(GST_ELEMENT(self), query, self->cuda_context)) return TRUE;
      break;
    case GST_QUERY_ALLOCATION: {
      if (!gst_pad_peer_query(self->srcpad, query)) return FALSE;
      GST_OBJECT_LOCK(self);
      guint held = self->settings.max_in_flight;
      if (held == 0) held = 2 * MAX(self->settings.batch_size, 1);
      GST_OBJECT_UNLOCK(self);
      for (guint i = 0; i < gst_query_get_n_allocation_pools(query); i++) {
        GstBufferPool *pool = NULL;
        guint size, min, max;
        gst_query_parse_nth_allocation_pool(query, i, &pool, &size, &min, &max);
        min += held;
        if (max != 0 && max < min) max = min;
        gst_query_set_nth_allocation_pool(query, i, pool, size, min, max);
        if (pool) gst_object_unref(pool);
      }
      return TRUE;
    }
    default:
      break;
  }
  return gst_pad_query_default(pad, parent, query);
}

static gboolean gst_infer_src_query(GstPad *pad, GstObject *parent, GstQuery *query) {
  GstInfer *self = GST_INFER(parent);
  if (GST_QUERY_TYPE(query) == GST_QUERY_CONTEXT &&
      infer_cuda_gst_context_query(GST_ELEMENT(self), query, self->cuda_context))
    return TRUE;
  if (GST_QUERY_TYPE(query) != GST_QUERY_LATENCY)
    return gst_pad_query_default(pad, parent, query);
  if (!gst_pad_peer_query(self->sinkpad, query)) return FALSE;
  gboolean live;
  GstClockTime min, max;
  gst_query_parse_latency(query, &live, &min, &max);
  GST_OBJECT_LOCK(self);
  guint64 timeout_us = self->settings.batch_timeout_us;
  guint batch = MAX(self->settings.batch_size, 1);
  GST_OBJECT_UNLOCK(self);
  GstClockTime extra = 0;
  if (timeout_us > 0)
    extra = timeout_us * GST_USECOND;
  else if (self->have_info && GST_VIDEO_INFO_FPS_N(&self->info) > 0)
    extra = gst_util_uint64_scale_int((guint64)(batch - 1) * GST_SECOND,
                                      GST_VIDEO_INFO_FPS_D(&self->info),
                                      GST_VIDEO_INFO_FPS_N(&self->info));
  min += extra;
  if (GST_CLOCK_TIME_IS_VALID(max)) max += extra;
  GST_DEBUG_OBJECT(self, "latency: adding %" GST_TIME_FORMAT, GST_TIME_ARGS(extra));
  gst_query_set_latency(query, live, min, max);
  return TRUE;
}

void gst_infer_setup_pads(GstInfer *self) {
  GstElementClass *klass = GST_ELEMENT_GET_CLASS(self);
  self->sinkpad = gst_pad_new_from_template(gst_element_class_get_pad_template(klass, "sink"),
                                            "sink");
  gst_pad_set_chain_function(self->sinkpad, GST_DEBUG_FUNCPTR(gst_infer_chain));
  gst_pad_set_event_function(self->sinkpad, GST_DEBUG_FUNCPTR(gst_infer_sink_event));
  gst_pad_set_query_function(self->sinkpad, GST_DEBUG_FUNCPTR(gst_infer_sink_query));
  GST_PAD_SET_PROXY_CAPS(self->sinkpad);
  gst_element_add_pad(GST_ELEMENT(self), self->sinkpad);

  self->srcpad = gst_pad_new_from_template(gst_element_class_get_pad_template(klass, "src"),
                                           "src");
  gst_pad_set_activatemode_function(self->srcpad, GST_DEBUG_FUNCPTR(src_activate_mode));
  gst_pad_set_query_function(self->srcpad, GST_DEBUG_FUNCPTR(gst_infer_src_query));
  GST_PAD_SET_PROXY_CAPS(self->srcpad);
  gst_element_add_pad(GST_ELEMENT(self), self->srcpad);
  self->client.done = slot_done;
  self->client.user = self;
}
