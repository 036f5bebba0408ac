/* inferoverlay on frames in CUDA memory (memory:CUDAMemory, with the CUDA
 * backend and gstreamer-cuda): the command list is painted in place by
 * the CUDA painter (kernels/cuda/cuda_overlay.h), in the CUDA context the
 * frame's memory belongs to (pushed for the call), on the painter's own
 * stream, which is waited for before the frame moves on (GStreamer 1.22
 * hands CUDA memory downstream as finished). Only the command list goes
 * to the device; nothing of the frame comes back to the host.
 *
 * Every function exists in every build: without CUDA memory support no
 * frame is painted here and the element paints on the CPU. */
#ifndef GST_INFER_OVERLAY_CUDA_H
#define GST_INFER_OVERLAY_CUDA_H

#include <gst/gst.h>
#include <gst/video/video.h>

#include "infer/status.h"
#include "overlay_draw.h"

G_BEGIN_DECLS

typedef struct OverlayCuda OverlayCuda;

OverlayCuda *overlay_cuda_new(void);
/* Frees the painter (in the context it was made in). */
void overlay_cuda_free(OverlayCuda *oc);

/* Paints `list` into `buf` (whose layout `info` describes) when all of its
 * memory is CUDA memory of one context: *painted is then TRUE. Otherwise
 * nothing happens (*painted FALSE, NULL returned) and the caller paints on
 * the host. A status is a failure on the device path. */
InferStatus *overlay_cuda_paint(OverlayCuda *oc, GstBuffer *buf, const GstVideoInfo *info,
                                const OverlayCommandList *list, gboolean *painted);

G_END_DECLS
#endif
