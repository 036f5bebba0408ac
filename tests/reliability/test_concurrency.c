/* 16 pipelines in one process sharing one model instance
 * (model-instance-id), started, paused, seeked and stopped at random from
 * 4 control threads for a fixed time, with a model swap now and then.
 * Checks: no error message, every pipeline ran, frames in order within a
 * run, and every pipeline reaches NULL. Under ThreadSanitizer
 * (-Db_sanitize=thread) this is the race test.
 *
 *   test_concurrency ELEMENT_MODELS_DIR [SECONDS (20)] [SEED]
 *
 * GLib 2.74 implements GMutex / GCond with futexes, which ThreadSanitizer
 * cannot see; tsan_glib_locks.h tells it about them. */
#include <gst/gst.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tsan_glib_locks.h"

#define N_PIPELINES 16
#define N_CONTROLLERS 4

typedef struct Pipe {
  GMutex lock; /* one controller at a time */
  GstElement *pipeline, *infer;
  gint buffers;        /* atomic: buffers at the sink */
  gint out_of_order;   /* atomic */
  guint64 last_pts;    /* streaming thread only (reset by STREAM_START, FLUSH_STOP) */
  gboolean playing;
} Pipe;

static Pipe pipes[N_PIPELINES];
static gint errors, starts, stops, seeks, swaps;
static const char *models_dir;

static GstPadProbeReturn on_buffer(GstPad *pad, GstPadProbeInfo *info, gpointer user) {
  (void)pad;
  Pipe *p = user;
  GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER(info);
  /* after a flushing seek the PTS starts over: only a step back within a
   * segment counts (a seek resets last_pts through the flush probe) */
  if (GST_BUFFER_PTS_IS_VALID(b)) {
    if (p->last_pts != GST_CLOCK_TIME_NONE && GST_BUFFER_PTS(b) <= p->last_pts)
      g_atomic_int_inc(&p->out_of_order);
    p->last_pts = GST_BUFFER_PTS(b);
  }
  g_atomic_int_inc(&p->buffers);
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn on_event(GstPad *pad, GstPadProbeInfo *info, gpointer user) {
  (void)pad;
  Pipe *p = user;
  GstEvent *e = GST_PAD_PROBE_INFO_EVENT(info);
  if (GST_EVENT_TYPE(e) == GST_EVENT_FLUSH_STOP || GST_EVENT_TYPE(e) == GST_EVENT_STREAM_START)
    p->last_pts = GST_CLOCK_TIME_NONE;
  return GST_PAD_PROBE_OK;
}

static gboolean on_message(GstBus *bus, GstMessage *m, gpointer user) {
  (void)bus;
  if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
    GError *err = NULL;
    gst_message_parse_error(m, &err, NULL);
    fprintf(stderr, "pipeline %d: error: %s\n", GPOINTER_TO_INT(user), err->message);
    g_error_free(err);
    g_atomic_int_inc(&errors);
  }
  return TRUE;
}

static void make_pipe(int i, const char *model) {
  Pipe *p = &pipes[i];
  g_mutex_init(&p->lock);
  /* different sizes and formats: each element preprocesses its own way
   * into the shared batches */
  static const char *formats[] = {"RGB", "NV12", "I420", "BGRx"};
  char *desc = g_strdup_printf(
      "videotestsrc pattern=%d ! video/x-raw,format=%s,width=%d,height=%d,framerate=30/1 ! "
      "infer name=e model=%s model-instance-id=shared batch-size=4 batch-timeout=3000 ! "
      "fakesink name=sink sync=false",
      i % 20, formats[i % 4], 32 + 8 * (i % 5), 24 + 6 * (i % 3), model);
  p->pipeline = gst_parse_launch(desc, NULL);
  g_free(desc);
  if (!p->pipeline) {
    fprintf(stderr, "cannot make the pipeline (is the infer element found?)\n");
    exit(1);
  }
  p->infer = gst_bin_get_by_name(GST_BIN(p->pipeline), "e");
  GstElement *sink = gst_bin_get_by_name(GST_BIN(p->pipeline), "sink");
  GstPad *pad = gst_element_get_static_pad(sink, "sink");
  p->last_pts = GST_CLOCK_TIME_NONE;
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, p, NULL);
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM | GST_PAD_PROBE_TYPE_EVENT_FLUSH,
                    on_event, p, NULL);
  gst_object_unref(pad);
  gst_object_unref(sink);
  GstBus *bus = gst_element_get_bus(p->pipeline);
  gst_bus_add_watch(bus, on_message, GINT_TO_POINTER(i));
  gst_object_unref(bus);
}

typedef struct Controller {
  GRand *rand;
  gint64 end;
  char *models[2];
} Controller;

/* One random action on one random pipeline. */
static void act(Controller *c) {
  Pipe *p = &pipes[g_rand_int_range(c->rand, 0, N_PIPELINES)];
  if (!g_mutex_trylock(&p->lock)) return;
  int what = g_rand_int_range(c->rand, 0, 10);
  if (!p->playing) {
    if (gst_element_set_state(p->pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE) {
      p->playing = TRUE;
      g_atomic_int_inc(&starts);
    }
  } else if (what < 5) {
    gst_element_set_state(p->pipeline, GST_STATE_NULL);
    p->playing = FALSE;
    g_atomic_int_inc(&stops);
  } else if (what < 7) {
    gst_element_set_state(p->pipeline, GST_STATE_PAUSED);
    g_usleep(1000);
    gst_element_set_state(p->pipeline, GST_STATE_PLAYING);
  } else if (what < 9) {
    gst_element_seek_simple(p->pipeline, GST_FORMAT_TIME, GST_SEEK_FLAG_FLUSH, 0);
    g_atomic_int_inc(&seeks);
  } else {
    /* the instance's model: both models have the same input */
    g_object_set(p->infer, "model", c->models[g_rand_int_range(c->rand, 0, 2)], NULL);
    g_atomic_int_inc(&swaps);
  }
  g_mutex_unlock(&p->lock);
}

static gpointer controller_main(gpointer data) {
  Controller *c = data;
  while (g_get_monotonic_time() < c->end) {
    act(c);
    g_usleep((gulong)g_rand_int_range(c->rand, 2000, 40000));
  }
  return NULL;
}

static gboolean quit_when(gpointer data) {
  if (g_get_monotonic_time() < *(gint64 *)data) return G_SOURCE_CONTINUE;
  g_main_loop_quit(g_object_get_data(G_OBJECT(pipes[0].pipeline), "loop"));
  return G_SOURCE_REMOVE;
}

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  if (argc < 2) {
    fprintf(stderr, "usage: %s ELEMENT_MODELS_DIR [SECONDS] [SEED]\n", argv[0]);
    return 2;
  }
  models_dir = argv[1];
  double seconds = argc > 2 ? atof(argv[2]) : 20;
  guint32 seed = argc > 3 ? (guint32)strtoul(argv[3], NULL, 10) : 1;
  char *model = g_build_filename(models_dir, "classifier.onnx", NULL);
  char *model2 = g_build_filename(models_dir, "classifier_v2.onnx", NULL);
  for (int i = 0; i < N_PIPELINES; i++) make_pipe(i, model);

  gint64 end = g_get_monotonic_time() + (gint64)(seconds * 1e6);
  GMainLoop *loop = g_main_loop_new(NULL, FALSE);
  g_object_set_data(G_OBJECT(pipes[0].pipeline), "loop", loop);
  Controller ctl[N_CONTROLLERS];
  GThread *threads[N_CONTROLLERS];
  for (int i = 0; i < N_CONTROLLERS; i++) {
    ctl[i].rand = g_rand_new_with_seed(seed * 7919u + (guint32)i);
    ctl[i].end = end;
    ctl[i].models[0] = model;
    ctl[i].models[1] = model2;
    threads[i] = g_thread_new("controller", controller_main, &ctl[i]);
  }
  g_timeout_add(100, quit_when, &end);
  g_main_loop_run(loop); /* bus watches: errors */
  for (int i = 0; i < N_CONTROLLERS; i++) {
    g_thread_join(threads[i]);
    g_rand_free(ctl[i].rand);
  }
  int ran = 0, disorder = 0, null_ok = 0;
  long buffers = 0;
  for (int i = 0; i < N_PIPELINES; i++) {
    Pipe *p = &pipes[i];
    null_ok += gst_element_set_state(p->pipeline, GST_STATE_NULL) == GST_STATE_CHANGE_SUCCESS;
    ran += g_atomic_int_get(&p->buffers) > 0;
    buffers += g_atomic_int_get(&p->buffers);
    disorder += g_atomic_int_get(&p->out_of_order);
    GstBus *bus = gst_element_get_bus(p->pipeline);
    gst_bus_remove_watch(bus);
    gst_object_unref(bus);
    gst_object_unref(p->infer);
    gst_object_unref(p->pipeline);
    g_mutex_clear(&p->lock);
  }
  /* the bus watches ran on this loop: drain what is left */
  while (g_main_context_iteration(NULL, FALSE)) {
  }
  g_main_loop_unref(loop);
  g_free(model);
  g_free(model2);
  printf("concurrency: %.0f s, %d pipelines, %d starts, %d stops, %d seeks, %d model swaps, "
         "%ld buffers, %d ran, %d out of order, %d errors\n",
         seconds, N_PIPELINES, starts, stops, seeks, swaps, buffers, ran, disorder, errors);
  gboolean ok = errors == 0 && disorder == 0 && null_ok == N_PIPELINES &&
                ran >= N_PIPELINES / 2 && starts > 0;
  printf("concurrency: %s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
