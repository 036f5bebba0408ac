/* inferoverlay's CUDA memory path (see overlay_cuda.h). */
#include "overlay_cuda.h"

#include <string.h>

#if defined(INFER_HAVE_CUDA) && defined(INFER_HAVE_GST_CUDA)
#include <gst/cuda/gstcudacontext.h>
#include <gst/cuda/gstcudamemory.h>

#include "cuda_overlay.h"
#include "infer_cuda.h"

struct OverlayCuda {
  GstCudaContext *context; /* the context the painter was made in */
  InferCudaOverlay *painter;
};

OverlayCuda *overlay_cuda_new(void) { return g_new0(OverlayCuda, 1); }

static void release(OverlayCuda *oc) {
  if (oc->painter && gst_cuda_context_push(oc->context)) {
    infer_cuda_overlay_free(oc->painter);
    gst_cuda_context_pop(NULL);
  }
  /* a context that cannot be made current any more took its resources with it */
  oc->painter = NULL;
  gst_clear_object(&oc->context);
}

void overlay_cuda_free(OverlayCuda *oc) {
  if (!oc) return;
  release(oc);
  g_free(oc);
}

/* The context of the buffer's memory when every memory is CUDA memory of
 * that one context (and, on GStreamer 1.24+, its producer's work on it has
 * finished); NULL otherwise. */
static GstCudaContext *buffer_context(GstBuffer *buf) {
  if (gst_buffer_n_memory(buf) == 0) return NULL;
  GstMemory *mem = gst_buffer_peek_memory(buf, 0);
  if (!gst_is_cuda_memory(mem)) return NULL;
  GstCudaContext *ctx = GST_CUDA_MEMORY_CAST(mem)->context;
  if (!ctx || !infer_cuda_gst_buffer_in_place(buf, GST_OBJECT(ctx))) return NULL;
  return ctx;
}

/* The painter of `ctx`, which is current; one made in another context
 * cannot touch this context's memory or use its stream. */
static InferStatus *painter_for(OverlayCuda *oc, GstCudaContext *ctx) {
  if (oc->painter && gst_cuda_context_get_handle(oc->context) == gst_cuda_context_get_handle(ctx))
    return NULL;
  release(oc); /* pushes its own context on top of this one for the while */
  INFER_TRY(infer_cuda_overlay_new(&oc->painter));
  oc->context = gst_object_ref(ctx);
  return NULL;
}

static void image_of(GstVideoFrame *vf, const OverlayCommandList *list, OverlayImage *img) {
  memset(img, 0, sizeof *img);
  img->format = list->format;
  img->width = GST_VIDEO_FRAME_WIDTH(vf);
  img->height = GST_VIDEO_FRAME_HEIGHT(vf);
  for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES(vf) && p < 3; p++) {
    img->planes[p] = GST_VIDEO_FRAME_PLANE_DATA(vf, p);
    img->strides[p] = GST_VIDEO_FRAME_PLANE_STRIDE(vf, p);
  }
}

InferStatus *overlay_cuda_paint(OverlayCuda *oc, GstBuffer *buf, const GstVideoInfo *info,
                                const OverlayCommandList *list, gboolean *painted) {
  *painted = FALSE;
  GstCudaContext *ctx = buffer_context(buf);
  if (!ctx) return NULL;
  if (!gst_cuda_context_push(ctx))
    return infer_status_new(INFER_ERR_DEVICE, "cannot make the frame's CUDA context current");
  InferStatus *st = painter_for(oc, ctx);
  GstVideoFrame vf;
  if (!st && !gst_video_frame_map(&vf, info, buf, GST_MAP_READWRITE | GST_MAP_CUDA))
    st = infer_status_new(INFER_ERR_DEVICE, "cannot map a %dx%d frame in CUDA memory",
                          GST_VIDEO_INFO_WIDTH(info), GST_VIDEO_INFO_HEIGHT(info));
  else if (!st) {
    OverlayImage img;
    image_of(&vf, list, &img);
    st = infer_cuda_overlay_paint(oc->painter, &img, list);
    /* downstream may read the frame as soon as it is pushed */
    InferStatus *waited = infer_cuda_overlay_wait(oc->painter);
    if (!st) st = waited;
    else infer_status_free(waited);
    gst_video_frame_unmap(&vf);
    *painted = st == NULL;
  }
  gst_cuda_context_pop(NULL);
  return st;
}

#else /* no CUDA memory: the element paints on the host */

struct OverlayCuda {
  int unused;
};

OverlayCuda *overlay_cuda_new(void) { return g_new0(OverlayCuda, 1); }
void overlay_cuda_free(OverlayCuda *oc) { g_free(oc); }
InferStatus *overlay_cuda_paint(OverlayCuda *oc, GstBuffer *buf, const GstVideoInfo *info,
                                const OverlayCommandList *list, gboolean *painted) {
  (void)oc, (void)buf, (void)info, (void)list;
  *painted = FALSE;
  return NULL;
}
#endif
