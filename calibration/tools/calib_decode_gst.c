/* PNG / JPEG through GStreamer: per file
 *   filesrc ! decodebin ! videoconvert ! video/x-raw,format={RGB,GRAY8} ! appsink
 * taken to PAUSED. The sink prerolls on the first picture, so the state
 * change completes once it is decoded (or fails with the decoder's error);
 * no main loop is needed. Grey files stay grey (no RGB round trip), every
 * other format (RGBA, indexed PNG, YUV JPEG) becomes RGB as the element
 * would get it from videoconvert. */
#include "calib_decode.h"

#include <errno.h>
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A picture that takes longer than this to decode is treated as broken
 * (a stream that never prerolls). */
#define DECODE_TIMEOUT_S 60

bool calib_decode_available(void) { return true; }

static InferStatus *init_once(void) {
  static bool done;
  if (done) return NULL;
  GError *err = NULL;
  if (!gst_init_check(NULL, NULL, &err)) {
    InferStatus *st = infer_status_new(INFER_ERR_UNSUPPORTED, "GStreamer does not start: %s",
                                       err ? err->message : "unknown error");
    g_clear_error(&err);
    return st;
  }
  done = true;
  return NULL;
}

/* The first error message on the bus (the decoder's own words; the debug
 * detail names source lines, not the file's problem); NULL if none comes
 * within `wait`. The pipeline can report a failed state change a moment
 * before the error that caused it reaches the bus, hence the wait. */
static char *bus_error(GstElement *pipeline, GstClockTime wait) {
  GstBus *bus = gst_element_get_bus(pipeline);
  char *text = NULL;
  GstMessage *m = gst_bus_timed_pop_filtered(bus, wait, GST_MESSAGE_ERROR);
  if (m) {
    GError *err = NULL;
    gst_message_parse_error(m, &err, NULL);
    text = g_strdup(err && err->message ? err->message : "decoding failed");
    g_clear_error(&err);
    gst_message_unref(m);
  }
  gst_object_unref(bus);
  return text;
}

static InferStatus *copy_picture(const char *path, GstSample *sample, int *width, int *height,
                                 int *channels, uint8_t **pixels) {
  GstVideoInfo info;
  GstCaps *caps = gst_sample_get_caps(sample);
  GstBuffer *buf = gst_sample_get_buffer(sample);
  if (!caps || !buf || !gst_video_info_from_caps(&info, caps))
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "%s: the decoder gave no picture", path);
  GstVideoFrame frame;
  if (!gst_video_frame_map(&frame, &info, buf, GST_MAP_READ))
    return infer_status_new(INFER_ERR_INTERNAL, "%s: cannot map the decoded picture", path);
  int w = GST_VIDEO_INFO_WIDTH(&info), h = GST_VIDEO_INFO_HEIGHT(&info);
  int ch = GST_VIDEO_INFO_FORMAT(&info) == GST_VIDEO_FORMAT_GRAY8 ? 1 : 3;
  InferStatus *st = NULL;
  uint8_t *px = w > 0 && h > 0 ? malloc((size_t)w * (size_t)h * (size_t)ch) : NULL;
  if (!px) {
    st = infer_status_new(w > 0 && h > 0 ? INFER_ERR_OUT_OF_MEMORY : INFER_ERR_INVALID_ARGUMENT,
                          "%s: cannot hold a %dx%d picture", path, w, h);
  } else {
    const uint8_t *src = GST_VIDEO_FRAME_PLANE_DATA(&frame, 0);
    int stride = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0);
    for (int y = 0; y < h; y++)
      memcpy(px + (size_t)y * (size_t)w * (size_t)ch, src + (size_t)y * (size_t)stride,
             (size_t)w * (size_t)ch);
    *width = w;
    *height = h;
    *channels = ch;
    *pixels = px;
  }
  gst_video_frame_unmap(&frame);
  return st;
}

InferStatus *calib_decode_read(const char *path, int *width, int *height, int *channels,
                               uint8_t **pixels) {
  *width = *height = *channels = 0;
  *pixels = NULL;
  /* filesrc's own message would only say "Resource not found" */
  FILE *f = fopen(path, "rb");
  if (!f) return infer_status_new(INFER_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  fclose(f);
  INFER_TRY(init_once());
  GError *err = NULL;
  GstElement *pipeline = gst_parse_launch(
      "filesrc name=src ! decodebin ! videoconvert ! video/x-raw,format={RGB,GRAY8} ! "
      "appsink name=sink sync=false max-buffers=1",
      &err);
  if (!pipeline || err) {
    InferStatus *st = infer_status_new(INFER_ERR_UNSUPPORTED,
                                       "%s: cannot make the GStreamer decoding pipeline (%s); "
                                       "are gst-plugins-base and gst-plugins-good installed?",
                                       path, err ? err->message : "unknown error");
    g_clear_error(&err);
    if (pipeline) gst_object_unref(pipeline);
    return st;
  }
  GstElement *src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  g_object_set(src, "location", path, NULL);
  InferStatus *st = NULL;
  GstStateChangeReturn r = gst_element_set_state(pipeline, GST_STATE_PAUSED);
  if (r != GST_STATE_CHANGE_FAILURE)
    r = gst_element_get_state(pipeline, NULL, NULL, (GstClockTime)DECODE_TIMEOUT_S * GST_SECOND);
  if (r == GST_STATE_CHANGE_FAILURE) {
    char *why = bus_error(pipeline, 5 * GST_SECOND);
    st = infer_status_new(INFER_ERR_INVALID_ARGUMENT, "%s: not a readable PNG/JPEG image: %s",
                          path, why ? why : "the decoder failed");
    g_free(why);
  } else if (r != GST_STATE_CHANGE_SUCCESS && r != GST_STATE_CHANGE_NO_PREROLL) {
    st = infer_status_new(INFER_ERR_INVALID_ARGUMENT, "%s: no picture decoded within %d s", path,
                          DECODE_TIMEOUT_S);
  } else {
    GstSample *sample = gst_app_sink_pull_preroll(GST_APP_SINK(sink));
    if (!sample) {
      char *why = bus_error(pipeline, 0);
      st = infer_status_new(INFER_ERR_INVALID_ARGUMENT, "%s: no picture in the file%s%s", path,
                            why ? ": " : "", why ? why : "");
      g_free(why);
    } else {
      st = copy_picture(path, sample, width, height, channels, pixels);
      gst_sample_unref(sample);
    }
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(src);
  gst_object_unref(sink);
  gst_object_unref(pipeline);
  return st;
}
