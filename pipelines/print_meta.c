/* print_meta: runs a GStreamer pipeline and prints the infer metadata of
 * every buffer that reaches the element named "sink", one JSON line per
 * buffer on stdout (infer_buffer_meta_to_json).
 *
 * Usage:
 *   print_meta "<pipeline description with an element named sink>"
 *
 * The description is in gst-launch-1.0 syntax; the element named "sink"
 * may be any element with a "sink" pad (fakesink, appsink, ...): a pad
 * probe on that pad reads each buffer (an appsink is set to drop old
 * buffers and not wait at EOS, as nothing pulls from it). Example:
 *
 *   print_meta "videotestsrc num-buffers=10 ! video/x-raw,width=320,height=240 !
 *               infer model=detector.onnx ! videoconvert ! fakesink name=sink"
 *
 * prints lines like
 *
 *   {"pts":0,"duration":33333333,"source":"infer0","objects":[{"id":1,
 *    "x_min":0.1,...,"label":"cat","classes":[]}],"classes":[],"tensors":[]}
 *
 * (one line each). Ctrl-C sends EOS and ends cleanly. Exit status: 0 at
 * end of stream, 1 on a pipeline error, 2 on bad usage or description.
 * Diagnostics go to stderr. */
#include <signal.h>
#include <stdio.h>

#include <glib-unix.h>
#include <gst/gst.h>

#include "infer-meta.h"

typedef struct {
  GMainLoop *loop;
  GstElement *pipeline;
  int status;
} App;

static void print_buffer(GstBuffer *buffer) {
  gchar *json = infer_buffer_meta_to_json(buffer);
  if (json) {
    fputs(json, stdout);
    fputc('\n', stdout);
    fflush(stdout);
  }
  g_free(json);
}

static gboolean print_list_item(GstBuffer **buffer, guint idx, gpointer user_data) {
  (void)idx;
  (void)user_data;
  print_buffer(*buffer);
  return TRUE;
}

static GstPadProbeReturn on_buffer(GstPad *pad, GstPadProbeInfo *info, gpointer user_data) {
  (void)pad;
  (void)user_data;
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    print_buffer(GST_PAD_PROBE_INFO_BUFFER(info));
  } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    gst_buffer_list_foreach(GST_PAD_PROBE_INFO_BUFFER_LIST(info), print_list_item, NULL);
  }
  return GST_PAD_PROBE_OK;
}

static gboolean on_message(GstBus *bus, GstMessage *msg, gpointer user_data) {
  (void)bus;
  App *app = user_data;
  switch (GST_MESSAGE_TYPE(msg)) {
    case GST_MESSAGE_EOS:
      g_main_loop_quit(app->loop);
      break;
    case GST_MESSAGE_ERROR: {
      GError *err = NULL;
      gchar *debug = NULL;
      gst_message_parse_error(msg, &err, &debug);
      fprintf(stderr, "print_meta: error from %s: %s\n%s%s", GST_OBJECT_NAME(msg->src),
              err->message, debug ? debug : "", debug ? "\n" : "");
      g_error_free(err);
      g_free(debug);
      app->status = 1;
      g_main_loop_quit(app->loop);
      break;
    }
    case GST_MESSAGE_WARNING: {
      GError *err = NULL;
      gst_message_parse_warning(msg, &err, NULL);
      fprintf(stderr, "print_meta: warning from %s: %s\n", GST_OBJECT_NAME(msg->src),
              err->message);
      g_error_free(err);
      break;
    }
    default:
      break;
  }
  return TRUE;
}

static gboolean on_sigint(gpointer user_data) {
  App *app = user_data;
  fprintf(stderr, "print_meta: interrupted, sending EOS\n");
  gst_element_send_event(app->pipeline, gst_event_new_eos());
  return G_SOURCE_CONTINUE;
}

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  if (argc != 2) {
    fprintf(stderr,
            "usage: %s \"<pipeline description with an element named sink>\"\n"
            "example: %s \"videotestsrc num-buffers=3 ! fakesink name=sink\"\n",
            argv[0], argv[0]);
    return 2;
  }

  /* Like gst-launch-1.0, any error in the description (a missing element,
   * an unknown property, a link that cannot be made) is fatal. */
  GError *err = NULL;
  GstElement *pipeline = gst_parse_launch(argv[1], &err);
  if (!pipeline || err) {
    fprintf(stderr, "print_meta: bad pipeline description: %s\n", err ? err->message : "?");
    g_clear_error(&err);
    if (pipeline) gst_object_unref(pipeline);
    return 2;
  }

  GstElement *sink = GST_IS_BIN(pipeline) ? gst_bin_get_by_name(GST_BIN(pipeline), "sink") : NULL;
  GstPad *pad = sink ? gst_element_get_static_pad(sink, "sink") : NULL;
  if (!pad) {
    fprintf(stderr, "print_meta: the pipeline has no element named \"sink\" with a sink pad\n");
    if (sink) gst_object_unref(sink);
    gst_object_unref(pipeline);
    return 2;
  }
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST, on_buffer,
                    NULL, NULL);
  /* An appsink nobody pulls from would fill up and, at EOS, wait for its
   * queue to be emptied: keep one buffer, drop older ones, don't wait. */
  GObjectClass *klass = G_OBJECT_GET_CLASS(sink);
  if (g_object_class_find_property(klass, "wait-on-eos") &&
      g_object_class_find_property(klass, "max-buffers") &&
      g_object_class_find_property(klass, "drop"))
    g_object_set(sink, "wait-on-eos", FALSE, "max-buffers", 1u, "drop", TRUE, NULL);
  gst_object_unref(pad);
  gst_object_unref(sink);

  App app = {g_main_loop_new(NULL, FALSE), pipeline, 0};
  GstBus *bus = gst_element_get_bus(pipeline);
  guint bus_watch = gst_bus_add_watch(bus, on_message, &app);
  gst_object_unref(bus);
  guint sig_watch = g_unix_signal_add(SIGINT, on_sigint, &app);

  if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    fprintf(stderr, "print_meta: the pipeline could not start\n");
    app.status = 1;
    /* the bus usually holds the reason: let on_message print it */
    GstBus *b = gst_element_get_bus(pipeline);
    GstMessage *msg = gst_bus_pop_filtered(b, GST_MESSAGE_ERROR);
    if (msg) {
      on_message(b, msg, &app);
      gst_message_unref(msg);
    }
    gst_object_unref(b);
  } else {
    g_main_loop_run(app.loop);
  }

  gst_element_set_state(pipeline, GST_STATE_NULL);
  g_source_remove(sig_watch);
  g_source_remove(bus_watch);
  gst_object_unref(pipeline);
  g_main_loop_unref(app.loop);
  return app.status;
}
