/* The "infer" GStreamer plugin: the infer element (infercalib and
 * inferoverlay register here too). */
#include <gst/gst.h>

#include "gstinfer.h"
#include "gstinfercalib.h"
#include "gstinferoverlay.h"

#ifndef PACKAGE
#define PACKAGE "infer"
#endif

static gboolean plugin_init(GstPlugin *plugin) {
  return gst_element_register(plugin, "infer", GST_RANK_NONE, GST_TYPE_INFER) &&
         gst_element_register(plugin, "infercalib", GST_RANK_NONE, GST_TYPE_INFER_CALIB) &&
         gst_element_register(plugin, "inferoverlay", GST_RANK_NONE, GST_TYPE_INFER_OVERLAY);
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, infer,
                  "Inference on video frames with the infer engine (ONNX models)", plugin_init,
                  INFER_VERSION, "MIT/X11", "infer", "infer")
