/* What the infer element does on the GPU besides running the engine:
 * choosing the device, the preprocessing stream of a model instance,
 * uploading frames from system memory, and (with gstreamer-cuda) frames in
 * CUDA memory used in place, through a GstCudaContext that wraps the
 * device's primary context, the one the engine runs in.
 *
 * Every function exists in every build: without the CUDA backend they do
 * nothing and report that there is no device path; without gstreamer-cuda
 * the CUDA-memory functions report that no buffer is usable in place. */
#ifndef GST_INFER_CUDA_H
#define GST_INFER_CUDA_H

#include <gst/gst.h>
#include <gst/video/video.h>

#include "infer/infer.h"
#include "preprocess.h"

G_BEGIN_DECLS

/* TRUE when built with the CUDA backend (the device path exists). */
gboolean infer_cuda_built(void);
/* TRUE when built with gstreamer-cuda (memory:CUDAMemory caps). */
gboolean infer_cuda_gst_built(void);

/* Makes `device_id` the calling thread's device (its primary context):
 * before building, running or freeing anything of an engine on it. NULL on
 * success (and always without CUDA); otherwise why not (no such device). */
InferStatus *infer_cuda_set_device(gint device_id);

/* ---- a model instance's preprocessing queue ------------------------------------------ */

/* One CUDA stream per instance: uploads and preprocessing kernels of every
 * element that fills its batches, in the order they are issued. */
typedef struct InferCudaQueue InferCudaQueue;
InferStatus *infer_cuda_queue_new(InferCudaQueue **out);
void infer_cuda_queue_free(InferCudaQueue *q);
void *infer_cuda_queue_stream(InferCudaQueue *q); /* cudaStream_t */
/* Makes the work queued later on `stream` (an engine stream, from
 * infer_stream_native_handle) wait, on the device, for everything queued
 * on the preprocessing stream so far: the worker calls it once per batch
 * before the engine reads the batch, and never waits on the host. */
InferStatus *infer_cuda_queue_order_before(InferCudaQueue *q, void *stream);

/* ---- results ----------------------------------------------------------------------------- */

/* Pinned host memory, so that the outputs' download can be queued on the
 * engine's stream behind the run and overlap with the next batch. */
InferStatus *infer_cuda_host_alloc(gsize bytes, void **out);
void infer_cuda_host_free(void *ptr);
/* Queues a device-to-host copy on `stream`; `dst` is pinned. */
InferStatus *infer_cuda_download_async(void *dst, const void *src, gsize bytes, void *stream);

/* ---- uploads from system memory -------------------------------------------------------- */

/* A few device frames (with pinned host copies) used in turn: a frame is
 * copied into pinned memory, uploaded asynchronously on the stream, and its
 * buffers are reused only once the stream has passed the kernels that read
 * them (recorded by infer_cuda_upload_done). */
typedef struct InferCudaUploader InferCudaUploader;
InferCudaUploader *infer_cuda_uploader_new(void);
void infer_cuda_uploader_free(InferCudaUploader *u);
/* Queues the upload of `host` on `stream`; *dev describes the device copy
 * (same strides). */
InferStatus *infer_cuda_upload(InferCudaUploader *u, const InferImage *host, void *stream,
                               InferImage *dev);
/* The work that reads the last upload is queued on `stream`. */
void infer_cuda_upload_done(InferCudaUploader *u, void *stream);

/* ---- CUDA memory (gstreamer-cuda) ------------------------------------------------------ */

/* A GstCudaContext (as a GstObject) wrapping the primary context of
 * `device_id`, for upstream elements (cudaupload, nvh264dec) to allocate
 * in; NULL without gstreamer-cuda or a device. */
GstObject *infer_cuda_gst_context_new(gint device_id);
/* Answers a context query with the element's context; FALSE if it is not
 * a CUDA context query (or there is no context). */
gboolean infer_cuda_gst_context_query(GstElement *element, GstQuery *query, GstObject *ctx);
/* TRUE when every memory of `buf` is CUDA memory of `ctx`'s CUDA context
 * (and its producer's copy into it has finished, waited for on GStreamer
 * 1.24+, where copies may still be queued): then the frame may be mapped
 * with infer_cuda_gst_map_flags() and read in place by kernels on the
 * element's streams. */
gboolean infer_cuda_gst_buffer_in_place(GstBuffer *buf, GstObject *ctx);
/* GST_MAP_CUDA (0 without gstreamer-cuda). */
GstMapFlags infer_cuda_gst_map_flags(void);

G_END_DECLS
#endif
