/* The element's GPU plumbing outside the engine (see infer_cuda.h). */
#include "infer_cuda.h"

#include <string.h>

#define GST_CAT_DEFAULT gst_infer_debug
GST_DEBUG_CATEGORY_EXTERN(gst_infer_debug);

#ifdef INFER_HAVE_CUDA
#include <cuda_runtime.h>

#ifdef INFER_HAVE_GST_CUDA
#include <cuda.h>
#include <dlfcn.h>
#include <gst/cuda/gstcudacontext.h>
#include <gst/cuda/gstcudaloader.h>
#include <gst/cuda/gstcudamemory.h>
#include <gst/cuda/gstcudautils.h>
#endif

static InferStatus *cuda_error(const char *what, cudaError_t err) {
  cudaGetLastError(); /* a non-sticky error must not surface in a later launch check */
  return infer_status_new(INFER_ERR_DEVICE, "%s failed: %s (%s)", what, cudaGetErrorString(err),
                          cudaGetErrorName(err));
}

gboolean infer_cuda_built(void) { return TRUE; }

InferStatus *infer_cuda_set_device(gint device_id) {
  cudaError_t err = cudaSetDevice(device_id);
  if (err == cudaSuccess) return NULL;
  cudaGetLastError();
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();
    n = 0;
  }
  return infer_status_new(INFER_ERR_DEVICE, "cannot use CUDA device %d (%d device%s here): %s",
                          device_id, n, n == 1 ? "" : "s", cudaGetErrorString(err));
}

/* ---- the preprocessing queue ------------------------------------------------------------ */

struct InferCudaQueue {
  cudaStream_t stream;
  cudaEvent_t mark;
};

InferStatus *infer_cuda_queue_new(InferCudaQueue **out) {
  InferCudaQueue *q = g_new0(InferCudaQueue, 1);
  /* non-blocking: no implicit order with the legacy default stream, which
     synchronous copies (results) use */
  cudaError_t err = cudaStreamCreateWithFlags(&q->stream, cudaStreamNonBlocking);
  if (err == cudaSuccess) err = cudaEventCreateWithFlags(&q->mark, cudaEventDisableTiming);
  if (err != cudaSuccess) {
    InferStatus *st = cuda_error("creating the preprocessing stream", err);
    infer_cuda_queue_free(q);
    return st;
  }
  *out = q;
  return NULL;
}

void infer_cuda_queue_free(InferCudaQueue *q) {
  if (!q) return;
  if (q->stream) {
    cudaStreamSynchronize(q->stream);
    cudaStreamDestroy(q->stream);
  }
  if (q->mark) cudaEventDestroy(q->mark);
  g_free(q);
}

void *infer_cuda_queue_stream(InferCudaQueue *q) { return q ? (void *)q->stream : NULL; }

InferStatus *infer_cuda_queue_order_before(InferCudaQueue *q, void *stream) {
  /* the wait takes the event's state now: recording it again for the next
     batch does not change what this stream waits for */
  cudaError_t err = cudaEventRecord(q->mark, q->stream);
  if (err == cudaSuccess) err = cudaStreamWaitEvent((cudaStream_t)stream, q->mark, 0);
  return err == cudaSuccess ? NULL : cuda_error("ordering the batch after its preprocessing", err);
}

/* ---- results ------------------------------------------------------------------------------ */

InferStatus *infer_cuda_host_alloc(gsize bytes, void **out) {
  *out = NULL;
  cudaError_t err = cudaMallocHost(out, bytes ? bytes : 1);
  return err == cudaSuccess ? NULL : cuda_error("allocating pinned memory for the results", err);
}

void infer_cuda_host_free(void *ptr) {
  if (ptr) cudaFreeHost(ptr);
}

InferStatus *infer_cuda_download_async(void *dst, const void *src, gsize bytes, void *stream) {
  cudaError_t err = cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, (cudaStream_t)stream);
  return err == cudaSuccess ? NULL : cuda_error("downloading the results", err);
}

/* ---- uploads ---------------------------------------------------------------------------- */

/* Frames uploaded and not yet known to be read: at steady state the slot
 * about to be reused was read RING frames ago, long finished. */
#define RING 4
#define PLANE_ALIGN 256

typedef struct UploadSlot {
  guint8 *host; /* pinned */
  guint8 *dev;
  gsize bytes;
  cudaEvent_t read;
  gboolean pending; /* `read` was recorded and may not have passed */
} UploadSlot;

struct InferCudaUploader {
  UploadSlot slots[RING];
  gint next, last;
};

InferCudaUploader *infer_cuda_uploader_new(void) { return g_new0(InferCudaUploader, 1); }

static void slot_release(UploadSlot *s) {
  if (s->pending) cudaEventSynchronize(s->read);
  if (s->host) cudaFreeHost(s->host);
  if (s->dev) cudaFree(s->dev);
  s->host = s->dev = NULL;
  s->bytes = 0;
  s->pending = FALSE;
}

void infer_cuda_uploader_free(InferCudaUploader *u) {
  if (!u) return;
  for (gint i = 0; i < RING; i++) {
    slot_release(&u->slots[i]);
    if (u->slots[i].read) cudaEventDestroy(u->slots[i].read);
  }
  g_free(u);
}

/* Rows and bytes per row of plane i of a frame. */
static gint plane_extent(const InferImage *im, gint i, gsize *row_bytes) {
  gsize w = (gsize)im->width, cw = (w + 1) / 2;
  gint rows = i == 0 ? im->height : (im->height + 1) / 2;
  switch (im->format) {
    case INFER_PIXEL_RGB:
    case INFER_PIXEL_BGR: *row_bytes = 3 * w; return i == 0 ? rows : 0;
    case INFER_PIXEL_GRAY8: *row_bytes = w; return i == 0 ? rows : 0;
    case INFER_PIXEL_NV12: *row_bytes = i == 0 ? w : 2 * cw; return i < 2 ? rows : 0;
    case INFER_PIXEL_I420: *row_bytes = i == 0 ? w : cw; return rows;
    default: *row_bytes = 4 * w; return i == 0 ? rows : 0;
  }
}

static InferStatus *slot_reserve(UploadSlot *s, gsize bytes) {
  if (s->pending) {
    cudaError_t err = cudaEventSynchronize(s->read);
    if (err != cudaSuccess) return cuda_error("waiting for an earlier frame's upload", err);
    s->pending = FALSE;
  }
  if (!s->read) {
    cudaError_t err = cudaEventCreateWithFlags(&s->read, cudaEventDisableTiming);
    if (err != cudaSuccess) return cuda_error("cudaEventCreate", err);
  }
  if (s->bytes >= bytes) return NULL;
  slot_release(s); /* first frames or a larger frame size: allocation is rare */
  cudaError_t err = cudaMallocHost((void **)&s->host, bytes);
  if (err == cudaSuccess) err = cudaMalloc((void **)&s->dev, bytes);
  if (err != cudaSuccess) {
    InferStatus *st = cuda_error("allocating a frame upload buffer", err);
    slot_release(s);
    return st;
  }
  s->bytes = bytes;
  return NULL;
}

InferStatus *infer_cuda_upload(InferCudaUploader *u, const InferImage *host, void *stream,
                               InferImage *dev) {
  gsize offset[3] = {0}, size[3] = {0}, total = 0;
  for (gint i = 0; i < 3; i++) {
    gsize rb = 0;
    gint rows = plane_extent(host, i, &rb);
    if (rows <= 0) continue;
    if (!host->planes[i] || host->strides[i] < (gint)rb)
      return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "frame plane %d cannot be uploaded", i);
    size[i] = (gsize)host->strides[i] * (gsize)(rows - 1) + rb;
    offset[i] = total;
    total += (size[i] + PLANE_ALIGN - 1) & ~(gsize)(PLANE_ALIGN - 1);
  }
  UploadSlot *s = &u->slots[u->next];
  INFER_TRY(slot_reserve(s, total));
  *dev = *host;
  for (gint i = 0; i < 3; i++) {
    if (!size[i]) {
      dev->planes[i] = NULL;
      continue;
    }
    memcpy(s->host + offset[i], host->planes[i], size[i]);
    dev->planes[i] = s->dev + offset[i];
  }
  cudaError_t err =
      cudaMemcpyAsync(s->dev, s->host, total, cudaMemcpyHostToDevice, (cudaStream_t)stream);
  if (err != cudaSuccess) return cuda_error("uploading a frame", err);
  u->last = u->next;
  u->next = (u->next + 1) % RING;
  return NULL;
}

void infer_cuda_upload_done(InferCudaUploader *u, void *stream) {
  UploadSlot *s = &u->slots[u->last];
  if (!s->read) return;
  if (cudaEventRecord(s->read, (cudaStream_t)stream) == cudaSuccess)
    s->pending = TRUE;
  else
    cudaGetLastError();
}

/* ---- CUDA memory ------------------------------------------------------------------------- */

#ifdef INFER_HAVE_GST_CUDA
gboolean infer_cuda_gst_built(void) { return TRUE; }

typedef CUresult (*CtxGetCurrentFn)(CUcontext *ctx);
typedef CUresult (*CtxGetDeviceFn)(CUdevice *dev);

/* A driver API function through the runtime (no link against libcuda,
 * which only the machine with the driver has). */
static void *driver_fn(const char *name) {
  void *fn = NULL;
  enum cudaDriverEntryPointQueryResult found;
  if (cudaGetDriverEntryPointByVersion(name, &fn, 12000, cudaEnableDefault, &found) !=
          cudaSuccess ||
      found != cudaDriverEntryPointSuccess) {
    cudaGetLastError();
    return NULL;
  }
  return fn;
}

GstObject *infer_cuda_gst_context_new(gint device_id) {
  if (!gst_cuda_load_library()) {
    GST_INFO("gstreamer-cuda cannot load the CUDA driver: no CUDA memory input");
    return NULL;
  }
  /* the runtime makes the primary context current and creates it (free of 0) */
  cudaError_t err = cudaSetDevice(device_id);
  if (err == cudaSuccess) err = cudaFree(NULL);
  if (err != cudaSuccess) {
    cudaGetLastError();
    GST_INFO("no CUDA device %d (%s): no CUDA memory input", device_id, cudaGetErrorString(err));
    return NULL;
  }
  CtxGetCurrentFn get_ctx = (CtxGetCurrentFn)driver_fn("cuCtxGetCurrent");
  CtxGetDeviceFn get_dev = (CtxGetDeviceFn)driver_fn("cuCtxGetDevice");
  CUcontext ctx = NULL;
  CUdevice dev = 0;
  if (!get_ctx || !get_dev || get_ctx(&ctx) != CUDA_SUCCESS || !ctx ||
      get_dev(&dev) != CUDA_SUCCESS) {
    GST_WARNING("cannot find the primary CUDA context of device %d: no CUDA memory input",
                device_id);
    return NULL;
  }
  gst_cuda_memory_init_once();
  GstCudaContext *gctx = gst_cuda_context_new_wrapped(ctx, dev);
  GST_INFO("CUDA memory: sharing the primary context %p of device %d", (void *)ctx, device_id);
  return gctx ? GST_OBJECT(gctx) : NULL;
}

gboolean infer_cuda_gst_context_query(GstElement *element, GstQuery *query, GstObject *ctx) {
  if (!ctx || GST_QUERY_TYPE(query) != GST_QUERY_CONTEXT) return FALSE;
  return gst_cuda_handle_context_query(element, query, GST_CUDA_CONTEXT(ctx));
}

/* GStreamer 1.24 made CUDA memory stream-ordered: a producer may leave its
 * copy queued on its own stream, and readers call gst_cuda_memory_sync
 * (which returns at once when nothing is pending). 1.22 has no such
 * function (its producers finish before pushing); found at run time so that
 * one build works with both. */
typedef void (*MemorySyncFn)(GstCudaMemory *mem);
static MemorySyncFn memory_sync;

static gpointer find_memory_sync(gpointer unused) {
  (void)unused;
  memory_sync = (MemorySyncFn)dlsym(RTLD_DEFAULT, "gst_cuda_memory_sync");
  return NULL;
}

gboolean infer_cuda_gst_buffer_in_place(GstBuffer *buf, GstObject *ctx) {
  static GOnce once = G_ONCE_INIT;
  g_once(&once, find_memory_sync, NULL);
  if (!ctx) return FALSE;
  gpointer want = gst_cuda_context_get_handle(GST_CUDA_CONTEXT(ctx));
  guint n = gst_buffer_n_memory(buf);
  if (n == 0) return FALSE;
  for (guint i = 0; i < n; i++) {
    GstMemory *mem = gst_buffer_peek_memory(buf, i);
    if (!gst_is_cuda_memory(mem)) return FALSE;
    /* another context (an upstream element that made its own) has its own
       address space: such frames go through system memory */
    GstCudaMemory *cm = GST_CUDA_MEMORY_CAST(mem);
    if (!cm->context || gst_cuda_context_get_handle(cm->context) != want) return FALSE;
  }
  for (guint i = 0; i < n && memory_sync; i++)
    memory_sync(GST_CUDA_MEMORY_CAST(gst_buffer_peek_memory(buf, i)));
  return TRUE;
}

GstMapFlags infer_cuda_gst_map_flags(void) { return GST_MAP_CUDA; }

#else /* CUDA backend without gstreamer-cuda */

gboolean infer_cuda_gst_built(void) { return FALSE; }
GstObject *infer_cuda_gst_context_new(gint device_id) {
  (void)device_id;
  return NULL;
}
gboolean infer_cuda_gst_context_query(GstElement *element, GstQuery *query, GstObject *ctx) {
  (void)element, (void)query, (void)ctx;
  return FALSE;
}
gboolean infer_cuda_gst_buffer_in_place(GstBuffer *buf, GstObject *ctx) {
  (void)buf, (void)ctx;
  return FALSE;
}
GstMapFlags infer_cuda_gst_map_flags(void) { return 0; }
#endif

#else /* no CUDA backend: no device path at all */

gboolean infer_cuda_built(void) { return FALSE; }
gboolean infer_cuda_gst_built(void) { return FALSE; }
InferStatus *infer_cuda_set_device(gint device_id) {
  (void)device_id;
  return NULL;
}

InferStatus *infer_cuda_queue_new(InferCudaQueue **out) {
  *out = NULL;
  return infer_status_new(INFER_ERR_UNSUPPORTED, "built without the CUDA backend");
}
void infer_cuda_queue_free(InferCudaQueue *q) { (void)q; }
void *infer_cuda_queue_stream(InferCudaQueue *q) {
  (void)q;
  return NULL;
}
InferStatus *infer_cuda_queue_order_before(InferCudaQueue *q, void *stream) {
  (void)q, (void)stream;
  return NULL;
}
InferStatus *infer_cuda_host_alloc(gsize bytes, void **out) {
  (void)bytes;
  *out = NULL;
  return infer_status_new(INFER_ERR_UNSUPPORTED, "built without the CUDA backend");
}
void infer_cuda_host_free(void *ptr) { (void)ptr; }
InferStatus *infer_cuda_download_async(void *dst, const void *src, gsize bytes, void *stream) {
  (void)dst, (void)src, (void)bytes, (void)stream;
  return infer_status_new(INFER_ERR_UNSUPPORTED, "built without the CUDA backend");
}
InferCudaUploader *infer_cuda_uploader_new(void) { return NULL; }
void infer_cuda_uploader_free(InferCudaUploader *u) { (void)u; }
InferStatus *infer_cuda_upload(InferCudaUploader *u, const InferImage *host, void *stream,
                               InferImage *dev) {
  (void)u, (void)host, (void)stream, (void)dev;
  return infer_status_new(INFER_ERR_UNSUPPORTED, "built without the CUDA backend");
}
void infer_cuda_upload_done(InferCudaUploader *u, void *stream) { (void)u, (void)stream; }
GstObject *infer_cuda_gst_context_new(gint device_id) {
  (void)device_id;
  return NULL;
}
gboolean infer_cuda_gst_context_query(GstElement *element, GstQuery *query, GstObject *ctx) {
  (void)element, (void)query, (void)ctx;
  return FALSE;
}
gboolean infer_cuda_gst_buffer_in_place(GstBuffer *buf, GstObject *ctx) {
  (void)buf, (void)ctx;
  return FALSE;
}
GstMapFlags infer_cuda_gst_map_flags(void) { return 0; }
#endif
