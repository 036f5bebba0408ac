/* Model instances, batches and the worker thread (see infer_batcher.h).
 *
 * Batch life cycle, all under the instance lock: free -> filling (slots are
 * reserved by streaming threads, each fills its slot outside the lock and
 * commits it) -> ready (closed: full, timed out or drained) -> running (the
 * worker, outside the lock, once every reserved slot is committed) -> free.
 * The worker runs ready batches in order, so a client's frames complete in
 * the order their slots were reserved.
 *
 * Device engines (CUDA): items are preprocessed on the GPU, on the
 * instance's preprocessing stream, straight into the batch buffer; each
 * batch buffer has its own context and stream (its outputs stay valid while
 * the next batch runs, and a CUDA graph is replayed at its fixed input
 * address). The worker starts a batch (makes its stream wait, on the
 * device, for the preprocessing queued so far, enqueues the run and the
 * download of its outputs into pinned memory) and finishes the oldest
 * running one (synchronizes its stream, calls back) while the GPU runs the
 * next: batches are started and finished in order, and the worker's only
 * host wait per batch is for results that are due. Detector outputs are
 * decoded on the GPU right behind the run when the batch's clients allow it
 * (InferOutputNeeds): then only the detections (and the outputs someone
 * reads raw) are downloaded. */
#include "infer_batcher.h"

#include <string.h>

#include "infer_cuda.h"
#ifdef INFER_HAVE_CUDA
#include "cuda_detect.h"
#include "cuda_preprocess.h"
#endif

#define GST_CAT_DEFAULT gst_infer_debug
#define N_BATCH_BUFFERS 3

typedef struct InferBatch {
  const InferEngine *engine; /* that allocated input */
  guint8 *input;     /* capacity items, in the engine's memory */
  guint8 *staging;   /* host copy for device engines without device preprocessing */
  gsize item_bytes;
  InferContext *ctx; /* device preprocessing: the batch's own context and stream */
  InferStream *stream;
  gint bound_batch;  /* batch size bound on ctx (dynamic models) */
  /* device preprocessing: the outputs, downloaded on `stream` behind the
     run into pinned memory (n_outputs each; the views' data are host_out) */
  InferTensorView *out_views;
  void **host_out;
  gsize *host_out_bytes;
  gint n_out;
  gboolean *skip_out;  /* outputs nobody reads raw this batch (not downloaded) */
  /* detections decoded on the GPU behind the run: counts then detections
     (cuda_detect.h), computed in detect_dev with detect_ws, downloaded
     into detect_host */
  gboolean detect;     /* this batch's were */
  gint detect_max;     /* detections per item in the result */
  void *detect_ws, *detect_dev, *detect_host;
  gsize detect_ws_bytes, detect_dev_bytes, detect_host_bytes;
  InferStatus *start_error;
  InferSlot *slots;
  gint capacity, reserved, filled;
  gint64 deadline;   /* monotonic µs: run by then (batch-timeout) */
} InferBatch;

struct InferInstance {
  gchar *id;
  gint refcount;                  /* under registry_lock */
  guint64 timeout_us;
  GMutex lock;
  GCond work_cond;                /* wakes the worker */
  GCond idle_cond;                /* a batch became free, a swap happened, callbacks ran */
  InferModel *model, *pending_model;
  InferModel *retired;            /* the model before the last swap (a caller of
                                     infer_instance_model may still look at it) */
  InferContext *ctx;              /* host engines (device ones: per batch) */
  InferStream *stream;
  gint bound_batch;               /* batch size bound on ctx (dynamic models) */
  gboolean cuda_thread;           /* threads set the device first (backend is not cpu) */
  gint device_id;
  gboolean device;                /* items are preprocessed on the GPU */
  InferCudaQueue *cuda;           /* the preprocessing stream (device) */
  InferBatch batches[N_BATCH_BUFFERS];
  GQueue free_q, ready_q;
  GQueue running_q;               /* started on the device, not finished */
  InferBatch *filling;
  gboolean stop;
  GThread *worker;
  guint64 batches_run;
};

static GMutex registry_lock;
static GHashTable *registry; /* id -> InferInstance */

/* ---- model resources --------------------------------------------------------- */

static void free_batches(InferInstance *inst) {
  for (int i = 0; i < N_BATCH_BUFFERS; i++) {
    InferBatch *b = &inst->batches[i];
    infer_stream_release(b->stream); /* waits for its work */
    infer_context_release(b->ctx);
    for (gint j = 0; j < b->n_out; j++) infer_cuda_host_free(b->host_out[j]);
    g_free(b->host_out);
    g_free(b->host_out_bytes);
    g_free(b->out_views);
    g_free(b->skip_out);
    if (b->detect_ws) infer_engine_mfree(b->engine, b->detect_ws);
    if (b->detect_dev) infer_engine_mfree(b->engine, b->detect_dev);
    infer_cuda_host_free(b->detect_host);
    if (b->input) infer_engine_mfree(b->engine, b->input);
    infer_status_free(b->start_error);
    g_free(b->staging);
    g_free(b->slots);
    memset(b, 0, sizeof *b);
  }
  g_queue_clear(&inst->free_q);
  g_queue_clear(&inst->ready_q);
  g_queue_clear(&inst->running_q);
  inst->filling = NULL;
}

/* Contexts, streams and batch buffers for `m`, in the engine's memory. Host
 * engines have one context; device engines one per batch buffer and items
 * preprocessed on the GPU (or, built without the CUDA glue, into a host
 * staging copy that is copied over). */
static InferStatus *prepare_model(InferInstance *inst, InferModel *m) {
  gboolean on_device = infer_engine_backend(m->engine) != INFER_BACKEND_CPU;
  gboolean device_pp = on_device && infer_cuda_built();
  InferContext *ctx = NULL, *bctx[N_BATCH_BUFFERS] = {0};
  InferStream *stream = NULL, *bstream[N_BATCH_BUFFERS] = {0};
  InferStatus *st = NULL;
  if (!device_pp) {
    st = infer_context_create(m->engine, &ctx);
    if (!st) st = infer_stream_create(m->engine, &stream);
  }
  for (int i = 0; i < N_BATCH_BUFFERS && device_pp && !st; i++) {
    st = infer_context_create(m->engine, &bctx[i]);
    if (!st) st = infer_stream_create(m->engine, &bstream[i]);
  }
  if (!st && device_pp && !inst->cuda) st = infer_cuda_queue_new(&inst->cuda);
  gsize item = (gsize)m->channels * (gsize)m->width * (gsize)m->height *
               infer_dtype_size(m->input_dtype);
  void *inputs[N_BATCH_BUFFERS] = {0};
  for (int i = 0; i < N_BATCH_BUFFERS && !st; i++)
    st = infer_engine_malloc(m->engine, item * (gsize)m->batch, &inputs[i]);
  if (st) {
    for (int i = 0; i < N_BATCH_BUFFERS; i++) {
      if (inputs[i]) infer_engine_mfree(m->engine, inputs[i]);
      infer_stream_release(bstream[i]);
      infer_context_release(bctx[i]);
    }
    infer_context_release(ctx);
    infer_stream_release(stream);
    return st;
  }
  infer_context_release(inst->ctx);
  infer_stream_release(inst->stream);
  inst->ctx = ctx;
  inst->stream = stream;
  inst->bound_batch = -1;
  inst->device = device_pp;
  free_batches(inst);
  for (int i = 0; i < N_BATCH_BUFFERS; i++) {
    InferBatch *b = &inst->batches[i];
    b->engine = m->engine;
    b->capacity = m->batch;
    b->item_bytes = item;
    b->input = inputs[i];
    b->ctx = bctx[i];
    b->stream = bstream[i];
    b->bound_batch = -1;
    if (!on_device) memset(b->input, 0, item * (gsize)m->batch);
    b->staging = on_device && !device_pp ? g_malloc0(item * (gsize)m->batch) : NULL;
    b->slots = g_new0(InferSlot, m->batch);
    if (device_pp) {
      b->n_out = m->n_outputs;
      b->out_views = g_new0(InferTensorView, MAX(m->n_outputs, 1));
      b->host_out = g_new0(void *, MAX(m->n_outputs, 1));
      b->host_out_bytes = g_new0(gsize, MAX(m->n_outputs, 1));
      b->skip_out = g_new0(gboolean, MAX(m->n_outputs, 1));
    }
    g_queue_push_tail(&inst->free_q, b);
  }
  return NULL;
}

/* ---- the worker ----------------------------------------------------------------- */

static void close_filling(InferInstance *inst) {
  if (!inst->filling) return;
  g_queue_push_tail(&inst->ready_q, inst->filling);
  inst->filling = NULL;
  g_cond_signal(&inst->work_cond);
}

/* The outputs of the run just enqueued on the batch's stream (device
 * addresses, shapes of this run). */
static InferStatus *fetch_outputs(const InferModel *m, InferBatch *b) {
  for (gint i = 0; i < b->n_out; i++)
    INFER_TRY(infer_context_get_output(b->ctx, m->output_names[i], &b->out_views[i]));
  return NULL;
}

/* Queues the download of every output someone reads (fetch_outputs) on
 * the batch's stream (pinned buffers grow to the largest output seen). */
static InferStatus *queue_downloads(InferBatch *b) {
  void *stream = infer_stream_native_handle(b->stream);
  for (gint i = 0; i < b->n_out; i++) {
    InferTensorView *v = &b->out_views[i];
    int64_t numel = infer_shape_numel(&v->shape);
    gsize bytes = numel > 0 ? (gsize)numel * infer_dtype_size(v->dtype) : 0;
    const void *src = v->data;
    v->data = b->skip_out[i] ? NULL : b->host_out[i];
    if (b->skip_out[i] || bytes == 0 || !src) continue;
    if (bytes > b->host_out_bytes[i]) {
      infer_cuda_host_free(b->host_out[i]);
      b->host_out[i] = NULL;
      b->host_out_bytes[i] = 0;
      INFER_TRY(infer_cuda_host_alloc(bytes, &b->host_out[i]));
      b->host_out_bytes[i] = bytes;
      v->data = b->host_out[i];
    }
    INFER_TRY(infer_cuda_download_async(v->data, src, bytes, stream));
  }
  return NULL;
}

#ifdef INFER_HAVE_CUDA
static gboolean same_detector_params(const InferDetectorParams *a, const InferDetectorParams *b) {
  return a->format == b->format && a->box_format == b->box_format &&
         a->boxes_normalized == b->boxes_normalized &&
         a->confidence_threshold == b->confidence_threshold && a->nms_iou == b->nms_iou &&
         a->class_agnostic_nms == b->class_agnostic_nms && a->top_k == b->top_k &&
         a->max_candidates == b->max_candidates;
}

/* The needs of the batch's clients together: *raw when one reads the raw
 * outputs; TRUE when every one wants detections with the same parameters
 * (*params, *max). */
static gboolean batch_wants_detections(const InferModel *m, InferBatch *b, gboolean *raw,
                                       InferDetectorParams *params, gint *max) {
  gboolean all = b->reserved > 0;
  InferClient *last = NULL;
  *raw = FALSE;
  for (gint i = 0; i < b->reserved; i++) {
    InferClient *c = b->slots[i].client;
    if (c == last) continue;
    InferOutputNeeds nd;
    memset(&nd, 0, sizeof nd);
    infer_client_output_needs(c, m, &nd);
    *raw |= nd.outputs;
    if (!nd.detections || nd.max_detections < 0)
      all = FALSE;
    else if (!last)
      *params = nd.detector, *max = nd.max_detections;
    else if (!same_detector_params(params, &nd.detector) || *max != nd.max_detections)
      all = FALSE;
    last = c;
  }
  return all;
}

/* Device memory of at least `bytes` in *p (grown, never shrunk). */
static InferStatus *grow_device(InferBatch *b, void **p, gsize *have, gsize bytes) {
  if (bytes <= *have && *p) return NULL;
  if (*p) infer_engine_mfree(b->engine, *p);
  *p = NULL;
  *have = 0;
  INFER_TRY(infer_engine_malloc(b->engine, MAX(bytes, 1), p));
  *have = MAX(bytes, 1);
  return NULL;
}

/* Queues the GPU decoding of the batch's detections behind the run and the
 * download of the results; what nobody reads raw then stays on the device.
 * Anything the GPU path does not take (NMS-inside outputs, other dtypes, a
 * format the outputs do not fit: the host decoder reports that) leaves the
 * batch to the host decoder. */
static void queue_detect(const InferModel *m, InferBatch *b, void *stream) {
  b->detect = FALSE;
  for (gint i = 0; i < b->n_out; i++) b->skip_out[i] = FALSE;
  gboolean raw = FALSE;
  InferDetectorParams p;
  gint max = 0;
  memset(&p, 0, sizeof p);
  if (b->n_out <= 0 || !batch_wants_detections(m, b, &raw, &p, &max)) return;
  InferNamedTensor *outs = g_new0(InferNamedTensor, b->n_out);
  for (gint i = 0; i < b->n_out; i++) {
    outs[i].name = m->output_names[i];
    outs[i].view = b->out_views[i];
  }
  InferCudaDetectJob job;
  memset(&job, 0, sizeof job);
  InferStatus *st =
      infer_detector_layout(outs, b->n_out, m->width, m->height, &p, &job.layout);
  job.outputs = outs;
  job.n_outputs = b->n_out;
  job.batch = b->reserved;
  job.params = p;
  job.max_out = max;
  size_t ws = 0;
  gsize res = infer_cuda_detect_result_bytes(b->reserved, max);
  if (!st) st = infer_cuda_detect_workspace(&job, &ws);
  if (!st) st = grow_device(b, &b->detect_ws, &b->detect_ws_bytes, ws);
  if (!st) st = grow_device(b, &b->detect_dev, &b->detect_dev_bytes, res);
  if (!st && res > b->detect_host_bytes) {
    infer_cuda_host_free(b->detect_host);
    b->detect_host = NULL;
    b->detect_host_bytes = 0;
    st = infer_cuda_host_alloc(res, &b->detect_host);
    if (!st) b->detect_host_bytes = res;
  }
  if (!st) st = infer_cuda_detect(&job, b->detect_ws, b->detect_ws_bytes, b->detect_dev, stream);
  if (!st) st = infer_cuda_download_async(b->detect_host, b->detect_dev, res, stream);
  g_free(outs);
  if (st) {
    GST_LOG("detections of this batch are decoded on the host: %s", infer_status_message(st));
    infer_status_free(st);
    return;
  }
  b->detect = TRUE;
  b->detect_max = max;
  if (raw) return;
  const gint read[3] = {job.layout.pred, job.layout.boxes, job.layout.scores};
  for (gint k = 0; k < 3; k++)
    if (read[k] >= 0 && read[k] < b->n_out) b->skip_out[read[k]] = TRUE;
}
#else
static void queue_detect(const InferModel *m, InferBatch *b, void *stream) {
  (void)m, (void)stream;
  b->detect = FALSE;
}
#endif

/* The slots' detections decoded on the GPU (queue_detect), after the sync. */
static void hand_over_detections(InferBatch *b) {
  const gint32 *counts = b->detect_host;
  const InferDetection *dets =
      (const InferDetection *)((const guint8 *)b->detect_host +
                               (gsize)b->reserved * sizeof(gint32));
  for (gint i = 0; i < b->reserved; i++) {
    InferSlot *s = &b->slots[i];
    s->decoded = TRUE;
    s->detections = dets + (gsize)i * (gsize)b->detect_max;
    s->n_detections = CLAMP(counts[i], 0, b->detect_max);
  }
}

/* Queues the batch (runs it, on the CPU); an error is kept for finish_batch. */
static void start_batch(InferInstance *inst, InferBatch *b) {
  const InferModel *m = inst->model;
  InferContext *ctx = b->ctx ? b->ctx : inst->ctx;
  gint *bound = b->ctx ? &b->bound_batch : &inst->bound_batch;
  gint N = m->dynamic_batch ? b->reserved : m->batch;
  InferStream *stream = b->stream ? b->stream : inst->stream;
  InferStatus *st = NULL;
  /* the items' kernels are on the preprocessing stream: the engine's stream
     waits for them on the device */
  if (inst->device)
    st = infer_cuda_queue_order_before(inst->cuda, infer_stream_native_handle(stream));
  if (!st && m->dynamic_batch && *bound != N) {
    InferShape shape = infer_model_input_shape(m, N);
    st = infer_context_set_input_shape(ctx, m->input_name, &shape);
    *bound = st ? -1 : N;
  }
  if (!st) st = infer_context_set_tensor_address(ctx, m->input_name, b->input);
  if (!st) st = infer_context_enqueue(ctx, stream);
  if (!st && inst->device) st = fetch_outputs(m, b);
  if (!st && inst->device) queue_detect(m, b, infer_stream_native_handle(stream));
  if (!st && inst->device) st = queue_downloads(b);
  b->start_error = st;
}

/* Waits for a started batch (and its outputs on the host) and calls every
 * slot back. */
static void finish_batch(InferInstance *inst, InferBatch *b) {
  const InferModel *m = inst->model;
  InferContext *ctx = b->ctx ? b->ctx : inst->ctx;
  gint n = b->reserved;
  InferStatus *st = b->start_error;
  b->start_error = NULL;
  if (!st) st = infer_stream_synchronize(b->stream ? b->stream : inst->stream);
  InferNamedTensor *outs = g_new0(InferNamedTensor, MAX(m->n_outputs, 1));
  gboolean device = infer_engine_backend(m->engine) != INFER_BACKEND_CPU;
  GPtrArray *host = g_ptr_array_new_with_free_func(g_free);
  for (gint i = 0; i < m->n_outputs && !st; i++) {
    outs[i].name = m->output_names[i];
    if (inst->device) { /* downloaded behind the run (queue_downloads) */
      outs[i].view = b->out_views[i];
      continue;
    }
    st = infer_context_get_output(ctx, m->output_names[i], &outs[i].view);
    int64_t numel = st ? 0 : infer_shape_numel(&outs[i].view.shape);
    if (!st && device && numel > 0 && outs[i].view.data) {
      gsize bytes = (gsize)numel * infer_dtype_size(outs[i].view.dtype);
      void *copy = g_malloc(bytes);
      g_ptr_array_add(host, copy);
      st = infer_engine_copy_to_host(m->engine, copy, outs[i].view.data, bytes);
      outs[i].view.data = copy;
    }
  }
  gchar *err = st ? g_strdup_printf("inference failed: %s", infer_status_message(st)) : NULL;
  infer_status_free(st);
  if (!err && inst->device && b->detect) hand_over_detections(b);
  InferClient *first = n > 0 ? b->slots[0].client : NULL;
  gboolean mixed = FALSE;
  for (gint i = 0; i < n; i++) {
    InferSlot *s = &b->slots[i];
    mixed |= s->client != first;
    const gchar *e = err ? err : s->failed ? "preprocessing failed" : NULL;
    s->client->done(s->client, s, m, e ? NULL : outs, e ? 0 : m->n_outputs, i, e);
  }
  inst->batches_run++;
  GST_LOG("instance %s: batch %" G_GUINT64_FORMAT " ran %d of %d items%s",
          inst->id ? inst->id : "(private)", inst->batches_run, n, b->capacity,
          mixed ? " from several elements" : "");
  g_ptr_array_unref(host);
  g_free(outs);
  g_free(err);
}

static void swap_model(InferInstance *inst) {
  InferModel *next = inst->pending_model;
  inst->pending_model = NULL;
  InferStatus *st = prepare_model(inst, next);
  if (st) {
    GST_ERROR("cannot switch to the model '%s': %s (keeping '%s')", next->path,
              infer_status_message(st), inst->model->path);
    infer_status_free(st);
    infer_model_free(next);
    return;
  }
  GST_INFO("instance %s: switched from model '%s' to '%s'", inst->id ? inst->id : "(private)",
           inst->model->path, next->path);
  infer_model_free(inst->retired);
  inst->retired = inst->model;
  inst->model = next;
}

static gpointer worker_main(gpointer data) {
  InferInstance *inst = data;
  if (inst->cuda_thread) infer_status_free(infer_cuda_set_device(inst->device_id));
  g_mutex_lock(&inst->lock);
  for (;;) {
    InferBatch *b = g_queue_peek_head(&inst->ready_q);
    if (b && b->filled == b->reserved) {
      g_queue_pop_head(&inst->ready_q);
      g_mutex_unlock(&inst->lock);
      start_batch(inst, b);
      g_mutex_lock(&inst->lock);
      g_queue_push_tail(&inst->running_q, b);
      /* host engines ran it already; device ones finish it after starting
         the next, or when there is nothing to start */
      if (inst->device) continue;
    }
    InferBatch *r = g_queue_pop_head(&inst->running_q);
    if (r) {
      g_mutex_unlock(&inst->lock);
      finish_batch(inst, r);
      g_mutex_lock(&inst->lock);
      for (gint i = 0; i < r->reserved; i++) r->slots[i].client->outstanding--;
      r->reserved = r->filled = 0;
      g_queue_push_tail(&inst->free_q, r);
      g_cond_broadcast(&inst->idle_cond);
      continue;
    }
    if (b) { /* wait for its slots to be committed */
      g_cond_wait(&inst->work_cond, &inst->lock);
      continue;
    }
    if (inst->filling) {
      if (inst->stop || inst->pending_model) {
        close_filling(inst);
      } else if (inst->timeout_us > 0) {
        if (g_get_monotonic_time() >= inst->filling->deadline)
          close_filling(inst);
        else
          g_cond_wait_until(&inst->work_cond, &inst->lock, inst->filling->deadline);
      } else {
        g_cond_wait(&inst->work_cond, &inst->lock);
      }
      continue;
    }
    if (inst->pending_model) {
      swap_model(inst);
      g_cond_broadcast(&inst->idle_cond);
      continue;
    }
    if (inst->stop) break;
    g_cond_wait(&inst->work_cond, &inst->lock);
  }
  g_mutex_unlock(&inst->lock);
  return NULL;
}

/* ---- slots -------------------------------------------------------------------- */

InferSlot *infer_instance_reserve(InferInstance *inst, InferClient *client) {
  g_mutex_lock(&inst->lock);
  for (;;) {
    if (inst->pending_model) {
      g_cond_wait(&inst->idle_cond, &inst->lock);
      continue;
    }
    if (inst->filling) break;
    InferBatch *b = g_queue_pop_head(&inst->free_q);
    if (b) {
      b->reserved = b->filled = 0;
      b->deadline = g_get_monotonic_time() + (gint64)inst->timeout_us;
      inst->filling = b;
      g_cond_signal(&inst->work_cond); /* starts its timeout */
      break;
    }
    g_cond_wait(&inst->idle_cond, &inst->lock);
  }
  InferBatch *b = inst->filling;
  InferSlot *s = &b->slots[b->reserved];
  memset(s, 0, sizeof *s);
  s->dst = (b->staging ? b->staging : b->input) + (gsize)b->reserved * b->item_bytes;
  s->model = inst->model;
  s->client = client;
  s->object_index = -1;
  s->priv = b;
  b->reserved++;
  client->outstanding++;
  if (b->reserved == b->capacity) close_filling(inst);
  g_mutex_unlock(&inst->lock);
  return s;
}

/* The element's parameters with the model's input size, layout and type. */
static void item_params(const InferSlot *slot, const InferPreprocessParams *params,
                        InferPreprocessParams *p) {
  const InferModel *m = slot->model;
  *p = *params;
  p->out_width = m->width;
  p->out_height = m->height;
  p->layout = m->layout;
  p->dtype = m->input_dtype;
  if (m->channels == 1) p->order = INFER_ORDER_GRAY;
}

InferStatus *infer_instance_preprocess(InferInstance *inst, InferSlot *slot,
                                       const InferImage *image, const InferRect *roi,
                                       const InferPreprocessParams *params) {
  const InferModel *m = slot->model;
  InferBatch *b = slot->priv;
  (void)inst;
  if (b->ctx) /* device preprocessing: slot->dst is device memory */
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "the model runs on a GPU: frames go through "
                            "infer_instance_preprocess_device");
  InferPreprocessParams p;
  item_params(slot, params, &p);
  /* The CPU implementation into host memory; device engines without device
   * preprocessing copy the item over. */
  INFER_TRY(infer_preprocess_cpu(image, roi, &p, slot->dst, &slot->letterbox));
  if (!b->staging) return NULL;
  gsize offset = (gsize)((guint8 *)slot->dst - b->staging);
  return infer_engine_copy_to_device(m->engine, b->input + offset, slot->dst, b->item_bytes);
}

gboolean infer_instance_on_device(InferInstance *inst) {
  g_mutex_lock(&inst->lock);
  gboolean device = inst->device;
  g_mutex_unlock(&inst->lock);
  return device;
}

void *infer_instance_device_stream(InferInstance *inst) {
  g_mutex_lock(&inst->lock);
  void *stream = inst->device ? infer_cuda_queue_stream(inst->cuda) : NULL;
  g_mutex_unlock(&inst->lock);
  return stream;
}

InferStatus *infer_instance_preprocess_device(InferInstance *inst, InferSlot *slot,
                                              const InferImage *image, const InferRect *roi,
                                              const InferPreprocessParams *params) {
#ifdef INFER_HAVE_CUDA
  InferBatch *b = slot->priv;
  if (!b->ctx)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "the model does not run on a GPU: preprocess frames on the host");
  InferPreprocessParams p;
  item_params(slot, params, &p);
  InferCudaPreprocessItem item;
  memset(&item, 0, sizeof item);
  item.image = *image;
  if (roi) item.roi = *roi;
  item.has_roi = roi != NULL;
  item.dst = slot->dst;
  /* inst->cuda lives as long as the instance: no lock needed to use it */
  return infer_cuda_preprocess(&item, 1, &p, &slot->letterbox, infer_cuda_queue_stream(inst->cuda));
#else
  (void)inst, (void)slot, (void)image, (void)roi, (void)params;
  return infer_status_new(INFER_ERR_UNSUPPORTED, "built without the CUDA backend");
#endif
}

void infer_instance_commit(InferInstance *inst, InferSlot *slot) {
  g_mutex_lock(&inst->lock);
  ((InferBatch *)slot->priv)->filled++;
  g_cond_signal(&inst->work_cond);
  g_mutex_unlock(&inst->lock);
}

void infer_instance_drain(InferInstance *inst) {
  g_mutex_lock(&inst->lock);
  close_filling(inst);
  g_mutex_unlock(&inst->lock);
}

gboolean infer_instance_drain_frame(InferInstance *inst, InferClient *client, gpointer frame) {
  g_mutex_lock(&inst->lock);
  InferBatch *b = inst->filling;
  gboolean found = FALSE;
  /* slot->frame is written by the client's own thread (the caller) */
  for (gint i = 0; b && i < b->reserved && !found; i++)
    found = b->slots[i].client == client && b->slots[i].frame == frame;
  if (found) close_filling(inst);
  g_mutex_unlock(&inst->lock);
  return found;
}

void infer_instance_set_model(InferInstance *inst, InferModel *model) {
  g_mutex_lock(&inst->lock);
  infer_model_free(inst->pending_model);
  inst->pending_model = model;
  close_filling(inst);
  g_cond_signal(&inst->work_cond);
  g_mutex_unlock(&inst->lock);
}

const InferModel *infer_instance_model(InferInstance *inst) {
  g_mutex_lock(&inst->lock);
  const InferModel *m = inst->model;
  g_mutex_unlock(&inst->lock);
  return m;
}

gint infer_instance_batch_size(InferInstance *inst) { return infer_instance_model(inst)->batch; }

/* ---- registry ----------------------------------------------------------------- */

static void instance_free(InferInstance *inst) {
  if (inst->worker) {
    g_mutex_lock(&inst->lock);
    inst->stop = TRUE;
    g_cond_signal(&inst->work_cond);
    g_mutex_unlock(&inst->lock);
    g_thread_join(inst->worker);
  }
  if (inst->cuda_thread) infer_status_free(infer_cuda_set_device(inst->device_id));
  free_batches(inst);
  infer_cuda_queue_free(inst->cuda);
  infer_context_release(inst->ctx);
  infer_stream_release(inst->stream);
  infer_model_free(inst->model);
  infer_model_free(inst->pending_model);
  infer_model_free(inst->retired);
  g_mutex_clear(&inst->lock);
  g_cond_clear(&inst->work_cond);
  g_cond_clear(&inst->idle_cond);
  g_free(inst->id);
  g_free(inst);
}

gboolean infer_instance_acquire(const gchar *id, const InferInstanceOptions *o,
                                InferModelProgressFn progress, gpointer user,
                                InferClient *client, InferInstance **out,
                                const InferModel **loaded_model, GError **error, gchar **debug) {
  *out = NULL;
  *loaded_model = NULL;
  client->outstanding = 0;
  if (id && !*id) id = NULL;
  g_mutex_lock(&registry_lock);
  if (!registry) registry = g_hash_table_new(g_str_hash, g_str_equal);
  InferInstance *inst = id ? g_hash_table_lookup(registry, id) : NULL;
  if (inst) {
    inst->refcount++;
    g_mutex_unlock(&registry_lock);
    const InferModel *m = infer_instance_model(inst);
    if (g_strcmp0(o->model.model_path, m->path) != 0 || o->model.batch_size != m->batch)
      GST_WARNING("model-instance-id '%s' already runs '%s' with batches of %d; the settings "
                  "model='%s' batch-size=%d of a later element are not used",
                  id, m->path, m->batch, o->model.model_path, o->model.batch_size);
    *out = inst;
    return TRUE;
  }
  InferModel *m = NULL;
  if (!infer_model_load(&o->model, progress, user, &m, error, debug)) {
    g_mutex_unlock(&registry_lock);
    return FALSE;
  }
  inst = g_new0(InferInstance, 1);
  inst->id = g_strdup(id);
  inst->refcount = 1;
  inst->timeout_us = o->batch_timeout_us;
  inst->cuda_thread = o->model.backend != INFER_BACKEND_CPU && infer_cuda_built();
  inst->device_id = o->model.device_id;
  g_mutex_init(&inst->lock);
  g_cond_init(&inst->work_cond);
  g_cond_init(&inst->idle_cond);
  InferStatus *st = prepare_model(inst, m);
  if (st) {
    g_set_error(error, GST_LIBRARY_ERROR, GST_LIBRARY_ERROR_INIT,
                "cannot create an execution context for the model '%s' (property model): %s",
                m->path, infer_status_message(st));
    if (debug) *debug = g_strdup(infer_status_message(st));
    infer_status_free(st);
    infer_model_free(m);
    instance_free(inst);
    g_mutex_unlock(&registry_lock);
    return FALSE;
  }
  inst->model = m;
  inst->worker = g_thread_new("infer-worker", worker_main, inst);
  if (id) g_hash_table_insert(registry, inst->id, inst);
  g_mutex_unlock(&registry_lock);
  *loaded_model = m;
  *out = inst;
  return TRUE;
}

void infer_instance_release(InferInstance *inst, InferClient *client) {
  if (!inst) return;
  g_mutex_lock(&inst->lock);
  if (client->outstanding > 0) close_filling(inst);
  while (client->outstanding > 0) g_cond_wait(&inst->idle_cond, &inst->lock);
  g_mutex_unlock(&inst->lock);
  g_mutex_lock(&registry_lock);
  gboolean last = --inst->refcount == 0;
  if (last && inst->id) g_hash_table_remove(registry, inst->id);
  g_mutex_unlock(&registry_lock);
  if (last) instance_free(inst);
}
