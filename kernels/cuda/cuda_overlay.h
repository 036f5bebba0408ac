/* The inferoverlay painter on the GPU: executes a command list of
 * gst/overlay_draw.h (rectangles and glyphs, already clipped, widened for
 * 4:2:0 and in the frame format's colours) on a frame whose planes are
 * pitch-linear device memory, writing the same bytes as the CPU painter
 * overlay_paint.
 *
 * Work is done in the CUDA context current to the calling thread (the
 * primary context of the current device, or a context pushed with the
 * driver API, such as a GstCudaContext's): the painter's stream and
 * buffers belong to the context it was created in, and every call on it
 * must be made with that context current.
 *
 * Plain C entry points (the implementation is CUDA C++). */
#ifndef INFER_CUDA_OVERLAY_H
#define INFER_CUDA_OVERLAY_H

#include "infer/status.h"
#include "overlay_draw.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct InferCudaOverlay InferCudaOverlay;

/* A painter with its own non-blocking stream and staging buffers. */
InferStatus *infer_cuda_overlay_new(InferCudaOverlay **out);
/* Waits for its work, then frees it. */
void infer_cuda_overlay_free(InferCudaOverlay *o);

/* Queues the painting of `list` into `img` (device planes; format and size
 * must be the list's) on the painter's stream and returns without waiting:
 * the list is copied to pinned memory and uploaded once (with the tile
 * index that spreads the work), so the caller may reuse it at once. An
 * empty list queues nothing. */
InferStatus *infer_cuda_overlay_paint(InferCudaOverlay *o, const OverlayImage *img,
                                      const OverlayCommandList *list);
/* Waits until everything queued on the painter has run. */
InferStatus *infer_cuda_overlay_wait(InferCudaOverlay *o);
/* The painter's stream (a cudaStream_t). */
void *infer_cuda_overlay_stream(InferCudaOverlay *o);

#ifdef __cplusplus
}
#endif
#endif
