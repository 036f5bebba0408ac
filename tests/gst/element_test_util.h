/* Helpers of the infer element tests: frames, harness pulls, pipelines run
 * to the end with their messages collected. */
#ifndef INFER_ELEMENT_TEST_UTIL_H
#define INFER_ELEMENT_TEST_UTIL_H

#include <gst/check/gstharness.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <string.h>

#include "infer-meta.h"

static const char *models_dir;

static char *model_path(const char *name) { return g_build_filename(models_dir, name, NULL); }

/* A solid-colour frame (0xRRGGBB) in any raw format, made by videotestsrc. */
static GstBuffer *make_frame(const char *format, int w, int h, guint32 rgb, GstClockTime pts) {
  char *desc = g_strdup_printf("videotestsrc pattern=solid-color foreground-color=0x%08x ! "
                               "capsfilter caps=video/x-raw,format=%s,width=%d,height=%d,"
                               "framerate=30/1",
                               0xff000000u | rgb, format, w, h);
  GstHarness *src = gst_harness_new_parse(desc);
  g_free(desc);
  gst_harness_play(src);
  GstBuffer *buf = gst_harness_pull(src);
  gst_harness_teardown(src);
  buf = gst_buffer_make_writable(buf);
  GST_BUFFER_PTS(buf) = pts;
  GST_BUFFER_DURATION(buf) = GST_SECOND / 30;
  return buf;
}

/* An RGB frame whose left half is `left` and right half `right`. */
static GstBuffer *make_split_frame(int w, int h, guint32 left, guint32 right) {
  GstVideoInfo info;
  gst_video_info_set_format(&info, GST_VIDEO_FORMAT_RGB, (guint)w, (guint)h);
  GstBuffer *buf = gst_buffer_new_allocate(NULL, info.size, NULL);
  GstVideoFrame vf;
  gst_video_frame_map(&vf, &info, buf, GST_MAP_WRITE);
  guint8 *data = GST_VIDEO_FRAME_PLANE_DATA(&vf, 0);
  int stride = GST_VIDEO_FRAME_PLANE_STRIDE(&vf, 0);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      guint32 c = x < w / 2 ? left : right;
      guint8 *p = data + y * stride + x * 3;
      p[0] = (guint8)(c >> 16), p[1] = (guint8)(c >> 8), p[2] = (guint8)c;
    }
  gst_video_frame_unmap(&vf);
  GST_BUFFER_PTS(buf) = 0;
  return buf;
}

static void set_caps(GstHarness *h, const char *format, int w, int hgt) {
  char *caps = g_strdup_printf("video/x-raw,format=%s,width=%d,height=%d,framerate=30/1", format,
                               w, hgt);
  gst_harness_set_src_caps_str(h, caps);
  g_free(caps);
}

/* Waits up to `ms` for an output buffer. */
static GstBuffer *pull_wait(GstHarness *h, int ms) {
  for (int i = 0; i <= ms / 5; i++) {
    GstBuffer *b = gst_harness_try_pull(h);
    if (b) return b;
    g_usleep(5000);
  }
  return NULL;
}

static GstBuffer *pull(GstHarness *h) { return pull_wait(h, 10000); }

/* The best class of a frame classification (-1: none). */
static int top_class(GstBuffer *buf, float *confidence) {
  InferClassificationMeta *m = buf ? infer_buffer_get_classification_meta(buf) : NULL;
  if (!m || m->labels->len == 0) return -1;
  InferClassLabel *l = &g_array_index(m->labels, InferClassLabel, 0);
  if (confidence) *confidence = l->confidence;
  return l->label_id;
}

static int n_objects(GstBuffer *buf) {
  InferDetectionMeta *m = buf ? infer_buffer_get_detection_meta(buf) : NULL;
  return m ? (int)m->objects->len : -1;
}

static InferObject *object_of_class(GstBuffer *buf, int label_id) {
  InferDetectionMeta *m = infer_buffer_get_detection_meta(buf);
  for (guint i = 0; m && i < m->objects->len; i++) {
    InferObject *o = &g_array_index(m->objects, InferObject, i);
    if (o->label_id == label_id) return o;
  }
  return NULL;
}

static gboolean wait_for_event(GstHarness *h, GstEventType type, int ms) {
  for (int i = 0; i <= ms / 5; i++) {
    GstEvent *e;
    while ((e = gst_harness_try_pull_event(h))) {
      gboolean hit = GST_EVENT_TYPE(e) == type;
      gst_event_unref(e);
      if (hit) return TRUE;
    }
    g_usleep(5000);
  }
  return FALSE;
}

/* What reached the sink pads of elements named check0..check3. */
typedef struct ProbeStats {
  int buffers;
  int frame_class[5];   /* best frame class 0..3, [4]: none */
  int objects;          /* detected objects */
  int object_class[5];  /* best class of each object, [4]: none */
  GstClockTime last_pts;
  gboolean in_order;
} ProbeStats;

/* A pipeline run to EOS or error; element messages named `watch` and the
 * first error are kept. */
typedef struct PipelineRun {
  gboolean state_ok;
  GError *error;
  gchar *error_debug;
  GPtrArray *messages; /* GstStructure copies */
  ProbeStats probes[4];
} PipelineRun;

static GstPadProbeReturn count_buffer(GstPad *pad, GstPadProbeInfo *info, gpointer user) {
  (void)pad;
  ProbeStats *s = user;
  GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER(info);
  int c = top_class(b, NULL);
  s->frame_class[c >= 0 && c < 4 ? c : 4]++;
  if (s->buffers > 0 && GST_BUFFER_PTS(b) <= s->last_pts) s->in_order = FALSE;
  s->last_pts = GST_BUFFER_PTS(b);
  s->buffers++;
  InferDetectionMeta *dm = infer_buffer_get_detection_meta(b);
  for (guint i = 0; dm && i < dm->objects->len; i++) {
    InferObject *o = &g_array_index(dm->objects, InferObject, i);
    int oc = o->classes && o->classes->len ? g_array_index(o->classes, InferClassLabel, 0).label_id
                                          : -1;
    s->object_class[oc >= 0 && oc < 4 ? oc : 4]++;
    s->objects++;
  }
  return GST_PAD_PROBE_OK;
}

static void add_probes(GstElement *pipeline, PipelineRun *r) {
  for (int i = 0; i < 4; i++) {
    char name[16];
    snprintf(name, sizeof name, "check%d", i);
    r->probes[i].in_order = TRUE;
    GstElement *e = gst_bin_get_by_name(GST_BIN(pipeline), name);
    if (!e) continue;
    GstPad *pad = gst_element_get_static_pad(e, "sink");
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, count_buffer, &r->probes[i], NULL);
    gst_object_unref(pad);
    gst_object_unref(e);
  }
}

static void run_pipeline(const char *desc, const char *watch, PipelineRun *r) {
  memset(r, 0, sizeof *r);
  r->messages = g_ptr_array_new_with_free_func((GDestroyNotify)gst_structure_free);
  GError *perr = NULL;
  GstElement *p = gst_parse_launch(desc, &perr);
  if (!p) {
    r->error = perr;
    return;
  }
  add_probes(p, r);
  GstBus *bus = gst_element_get_bus(p);
  r->state_ok = gst_element_set_state(p, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE;
  for (;;) {
    GstMessage *m = gst_bus_timed_pop_filtered(
        bus, 20 * GST_SECOND, GST_MESSAGE_ERROR | GST_MESSAGE_EOS | GST_MESSAGE_ELEMENT);
    if (!m) break;
    GstMessageType t = GST_MESSAGE_TYPE(m);
    if (t == GST_MESSAGE_ELEMENT) {
      const GstStructure *s = gst_message_get_structure(m);
      if (watch && s && gst_structure_has_name(s, watch))
        g_ptr_array_add(r->messages, gst_structure_copy(s));
    } else if (t == GST_MESSAGE_ERROR) {
      if (!r->error) gst_message_parse_error(m, &r->error, &r->error_debug);
    }
    gst_message_unref(m);
    if (t != GST_MESSAGE_ELEMENT) break;
  }
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(p);
}

static void run_clear(PipelineRun *r) {
  if (r->error) g_error_free(r->error);
  g_free(r->error_debug);
  g_ptr_array_unref(r->messages);
}

/* The "status" of the last infer-build message that is not progress. */
static const char *build_status(PipelineRun *r, const char **reason) {
  for (guint i = r->messages->len; i-- > 0;) {
    GstStructure *s = g_ptr_array_index(r->messages, i);
    const char *st = gst_structure_get_string(s, "status");
    if (st && strcmp(st, "progress") != 0) {
      if (reason) *reason = gst_structure_get_string(s, "reason");
      return st;
    }
  }
  return "";
}

/* Removes a file or a folder with everything in it (test scratch). */
static void remove_tree(const char *path) {
  GDir *d = g_dir_open(path, 0, NULL);
  if (d) {
    const char *n;
    while ((n = g_dir_read_name(d))) {
      char *p = g_build_filename(path, n, NULL);
      remove_tree(p);
      g_free(p);
    }
    g_dir_close(d);
  }
  g_remove(path);
}

/* Runs one test and prints its name, verdict and time. */
#define RUN(call)                                                                  \
  do {                                                                             \
    gint64 t0_ = g_get_monotonic_time();                                           \
    int failed0_ = test_checks_failed;                                             \
    call;                                                                          \
    printf("%-28s %s %.2f s\n", #call, test_checks_failed > failed0_ ? "FAIL" : "ok", \
           (g_get_monotonic_time() - t0_) / 1e6);                                  \
  } while (0)

#endif
