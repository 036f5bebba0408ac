/* The `inferoverlay` element: draws the infer metadata onto the frames
 * it passes (in place): every object's box of InferDetectionMeta in its
 * class colour with a label tab ("label 0.93", plus the classes secondary
 * inference added to the object), and the frame classes of
 * InferClassificationMeta at the top left. Drawing is in overlay_draw.c
 * (a command list and its CPU painter), the font in overlay_font.c, frames
 * in CUDA memory in overlay_cuda.c. */
#ifndef GST_INFER_OVERLAY_H
#define GST_INFER_OVERLAY_H

#include <gst/gst.h>
#include <gst/video/gstvideofilter.h>
#include <gst/video/video.h>

#include "overlay_cuda.h"
#include "overlay_draw.h"

G_BEGIN_DECLS

#define GST_TYPE_INFER_OVERLAY (gst_infer_overlay_get_type())
G_DECLARE_FINAL_TYPE(GstInferOverlay, gst_infer_overlay, GST, INFER_OVERLAY, GstVideoFilter)

typedef enum {
  GST_INFER_OVERLAY_LABEL_ABOVE,
  GST_INFER_OVERLAY_LABEL_INSIDE,
  GST_INFER_OVERLAY_LABEL_BELOW,
} GstInferOverlayLabelPosition;

/* Property values, under the object lock. */
typedef struct GstInferOverlaySettings {
  guint line_thickness;
  guint font_scale;  /* 0: by frame height */
  gboolean show_boxes, show_labels, show_confidence, show_frame_label;
  GstInferOverlayLabelPosition label_position;
} GstInferOverlaySettings;

struct _GstInferOverlay {
  GstVideoFilter parent;
  GstInferOverlaySettings settings;
  /* streaming thread only: the frame's drawing commands (memory kept from
     frame to frame) and the GPU painter */
  OverlayCommandList list;
  OverlayCuda *cuda;
};

G_END_DECLS
#endif
