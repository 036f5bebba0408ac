/* Bad inputs to the infer element: every path property given a missing,
 * empty, truncated, random or wrong file; models it cannot run; caps it
 * cannot take; resolution changes, EOS and flushes mid-batch; 100 state
 * cycles; model swaps to good and bad models while playing. Each case ends
 * in a GST_ELEMENT_ERROR naming the property and the reason, or in correct
 * output with every frame out exactly once and in order.
 *
 *   test_bad_inputs_element ELEMENT_MODELS_DIR BAD_MODELS_DIR */
#include <glib/gstdio.h>
#include <stdio.h>

/* the shared helpers are static; each test uses some of them */
#pragma GCC diagnostic ignored "-Wunused-function"
#include "../gst/element_test_util.h"
#include "../unit/test_util.h"

#define RED 0xff0000
#define BLUE 0x0000ff

static const char *bad_dir, *tmp_dir;

static char *bad_path(const char *name) { return g_build_filename(bad_dir, name, NULL); }
static char *tmp_path(const char *name) { return g_build_filename(tmp_dir, name, NULL); }

/* ---- errors at start ---------------------------------------------------------- */

/* A 2-frame pipeline with `props` must fail with an error whose message
 * holds every needle ('|'-separated). */
static void expect_error(const char *props, const char *needles) {
  char *desc = g_strdup_printf("videotestsrc num-buffers=2 ! video/x-raw,width=64,height=48 ! "
                               "infer %s ! fakesink",
                               props);
  PipelineRun r;
  gint64 t0 = g_get_monotonic_time();
  run_pipeline(desc, NULL, &r);
  gdouble secs = (g_get_monotonic_time() - t0) / 1e6;
  gboolean ok = r.error != NULL && secs < 15;
  gchar **parts = g_strsplit(needles, "|", -1);
  for (gchar **n = parts; ok && *n; n++) ok = strstr(r.error->message, *n) != NULL;
  g_strfreev(parts);
  if (!ok)
    fprintf(stderr, "props '%s': expected an error with '%s', got %s (%.1f s)\n", props, needles,
            r.error ? r.error->message : "no error", secs);
  else
    printf("  error ok: %s\n", r.error->message);
  CHECK(ok);
  run_clear(&r);
  g_free(desc);
}

static void test_bad_models(void) {
  const struct {
    const char *file, *needles;
  } cases[] = {
      {"empty.onnx", "(property model)|empty"},
      {"truncated.onnx", "(property model)|not a valid ONNX model"},
      {"random.onnx", "(property model)|not a valid ONNX model"},
      {"huge_initializer.onnx", "(property model)|tensor 'W'"},
      {"external_escape.onnx", "(property model)|relative path"},
      {"external_missing.onnx", "(property model)|no_such_weights.bin"},
      {"cycle.onnx", "(property model)|not produced"},
      {"opset_too_new.onnx", "(property model)|opset 99"},
      {"unknown_domain.onnx", "(property model)|com.example"},
      {"no_outputs.onnx", "(property model)|no outputs"},
      {"rank2_input.onnx", "(property model)|rank 4"},
      {"five_channels.onnx", "(property model)|1 or 3 channels"},
      {"int_input.onnx", "(property model)|element type"},
      {"dynamic_hw.onnx", "(property model)|fixed sizes"},
      {"two_inputs.onnx", "(property model)|2 inputs"},
      /* 1x3x100000x100000: refused before the activations are allocated */
      {"huge_input.onnx", "(property model)"},
      {"huge_input_dyn.onnx", "(property model)"},
      {"huge_expand.onnx", "(property model)"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    char *m = bad_path(cases[i].file);
    char *props = g_strdup_printf("model=%s", m);
    expect_error(props, cases[i].needles);
    g_free(props);
    g_free(m);
  }
  expect_error("model=/nonexistent/m.onnx", "(property model)|/nonexistent/m.onnx");
  char *props = g_strdup_printf("model=%s", tmp_dir);
  expect_error(props, "(property model)");
  g_free(props);
}

static void test_bad_labels_and_settings(void) {
  char *m = model_path("classifier.onnx");
  const struct {
    const char *labels, *needles;
  } cases[] = {
      {"labels_empty.txt", "(property labels)|no labels"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    char *l = bad_path(cases[i].labels);
    char *props = g_strdup_printf("model=%s labels=%s", m, l);
    expect_error(props, cases[i].needles);
    g_free(props);
    g_free(l);
  }
  char *props = g_strdup_printf("model=%s labels=/nonexistent/l.txt", m);
  expect_error(props, "(property labels)|/nonexistent/l.txt");
  g_free(props);
  props = g_strdup_printf("model=%s labels=%s", m, tmp_dir);
  expect_error(props, "(property labels)");
  g_free(props);
  const char *bad_settings[][2] = {
      {"mean=abc", "property mean"},      {"std=0", "property std"},
      {"std=1,1e-50,1", "property std"},  {"mean=1e300", "property mean"},
      {"mean=1,2,3,4", "property mean"},  {"mean=", "property mean"},
      {"input-order=gray", "input-order"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(bad_settings); i++) {
    props = g_strdup_printf("model=%s %s", m, bad_settings[i][0]);
    expect_error(props, bad_settings[i][1]);
    g_free(props);
  }
  g_free(m);
}

/* Labels files that are odd but readable, and a plan cache or calibration
 * cache that is garbage: the element runs and classifies every frame. */
static void expect_runs(const char *props, int frames) {
  char *m = model_path("classifier.onnx");
  char *desc = g_strdup_printf("videotestsrc num-buffers=%d pattern=blue ! "
                               "video/x-raw,width=64,height=48 ! infer model=%s %s ! "
                               "fakesink name=check0",
                               frames, m, props);
  PipelineRun r;
  run_pipeline(desc, NULL, &r);
  gboolean ok = r.error == NULL && r.probes[0].buffers == frames &&
                r.probes[0].frame_class[2] == frames && r.probes[0].in_order;
  if (!ok)
    fprintf(stderr, "props '%s': %d of %d frames, %d blue, error %s\n", props,
            r.probes[0].buffers, frames, r.probes[0].frame_class[2],
            r.error ? r.error->message : "none");
  CHECK(ok);
  run_clear(&r);
  g_free(desc);
  g_free(m);
}

static gboolean copy_file(const char *from, const char *to) {
  gchar *data;
  gsize size;
  if (!g_file_get_contents(from, &data, &size, NULL)) return FALSE;
  gboolean ok = g_file_set_contents(to, data, (gssize)size, NULL);
  g_free(data);
  return ok;
}

static void test_odd_files_that_work(void) {
  const char *labels[] = {"labels_binary.txt", "labels_huge_line.txt", "labels_many.txt"};
  for (size_t i = 0; i < G_N_ELEMENTS(labels); i++) {
    char *l = bad_path(labels[i]);
    char *props = g_strdup_printf("labels=%s", l);
    expect_runs(props, 3);
    g_free(props);
    g_free(l);
  }
  /* engine-cache: empty, random, a truncated plan, the plan of another
   * model (stale): each is rebuilt, and the rebuilt plan then loads */
  char *plan = tmp_path("cache.plan");
  char *props = g_strdup_printf("engine-cache=%s", plan);
  g_file_set_contents(plan, "", 0, NULL);
  expect_runs(props, 3);
  char *random = bad_path("plan_random.plan");
  CHECK(copy_file(random, plan));
  expect_runs(props, 3);
  gchar *data;
  gsize size;
  if (g_file_get_contents(plan, &data, &size, NULL)) { /* a good plan now: cut it */
    g_file_set_contents(plan, data, (gssize)(size / 2), NULL);
    g_free(data);
  }
  expect_runs(props, 3);
  char *det = model_path("detector.onnx");
  char *other = g_strdup_printf("videotestsrc num-buffers=1 ! video/x-raw,width=64,height=48 ! "
                                "infer model=%s engine-cache=%s ! fakesink",
                                det, plan);
  PipelineRun r;
  run_pipeline(other, NULL, &r); /* leaves the detector's plan there */
  CHECK(r.error == NULL);
  run_clear(&r);
  expect_runs(props, 3);
  /* an engine-cache that cannot be written: a warning, the engine still runs */
  expect_runs("engine-cache=/proc/infer-no-such-dir/x.plan", 2);
  /* a calibration cache that does not exist (fp32 does not need it) */
  expect_runs("calibration-cache=/nonexistent/calib.cache", 2);
  g_free(props), g_free(plan), g_free(random), g_free(det), g_free(other);
}

/* ---- caps ------------------------------------------------------------------------ */

static void test_caps(void) {
  char *m = model_path("classifier.onnx");
  /* a format outside the template: negotiation fails with an error */
  char *desc = g_strdup_printf("videotestsrc num-buffers=2 ! video/x-raw,format=YUY2,width=64,"
                               "height=48 ! infer model=%s ! fakesink",
                               m);
  PipelineRun r;
  run_pipeline(desc, NULL, &r);
  CHECK(r.error != NULL);
  run_clear(&r);
  g_free(desc);
  /* harness: caps the element refuses, then a buffer: not-negotiated */
  desc = g_strdup_printf("infer model=%s", m);
  GstHarness *h = gst_harness_new_parse(desc);
  g_free(desc);
  gst_harness_set_src_caps_str(h, "video/x-raw,format=YUY2,width=64,height=48,framerate=30/1");
  CHECK(gst_harness_push(h, gst_buffer_new_allocate(NULL, 64 * 48 * 2, NULL)) !=
        GST_FLOW_OK);
  gst_harness_teardown(h);
  g_free(m);
}

/* ---- streams: resolution changes, EOS and flush mid-batch ---------------------------- */

static GstHarness *classifier_harness(const char *extra) {
  char *m = model_path("classifier.onnx");
  char *desc = g_strdup_printf("infer model=%s %s", m, extra);
  GstHarness *h = gst_harness_new_parse(desc);
  g_free(desc);
  g_free(m);
  return h;
}

/* Pulls until `expected` buffers came out (PTS 0, 1, 2, ...): none lost,
 * none twice, in order; returns how many were classified as `cls`. */
static int pull_all(GstHarness *h, int expected, int cls) {
  int hits = 0, n = 0;
  GstBuffer *b;
  while (n < expected && (b = pull_wait(h, 10000))) {
    CHECK(GST_BUFFER_PTS(b) == (GstClockTime)n);
    hits += top_class(b, NULL) == cls;
    n++;
    gst_buffer_unref(b);
  }
  CHECK(n == expected);
  CHECK(gst_harness_try_pull(h) == NULL);
  return hits;
}

static void test_resolution_change(void) {
  GstHarness *h = classifier_harness("batch-size=4");
  const int sizes[][2] = {{64, 48}, {320, 240}, {33, 17}, {64, 48}};
  int pts = 0;
  for (int s = 0; s < 4; s++) {
    set_caps(h, "RGB", sizes[s][0], sizes[s][1]);
    for (int i = 0; i < 3; i++)
      gst_harness_push(h, make_frame("RGB", sizes[s][0], sizes[s][1], RED, (GstClockTime)pts++));
  }
  gst_harness_push_event(h, gst_event_new_eos());
  CHECK(pull_all(h, pts, 0) == pts);
  CHECK(wait_for_event(h, GST_EVENT_EOS, 5000));
  gst_harness_teardown(h);
}

static void test_eos_and_flush_mid_batch(void) {
  for (int n = 1; n <= 9; n += 4) {
    GstHarness *h = classifier_harness("batch-size=4");
    set_caps(h, "RGB", 64, 48);
    for (int i = 0; i < n; i++) gst_harness_push(h, make_frame("RGB", 64, 48, BLUE, (GstClockTime)i));
    gst_harness_push_event(h, gst_event_new_eos());
    CHECK(pull_all(h, n, 2) == n);
    CHECK(wait_for_event(h, GST_EVENT_EOS, 5000));
    gst_harness_teardown(h);
  }
  /* flush with a partial batch queued: those frames never come out, the
   * stream after the flush is complete */
  GstHarness *h = classifier_harness("batch-size=4");
  set_caps(h, "RGB", 64, 48);
  for (int i = 0; i < 3; i++) gst_harness_push(h, make_frame("RGB", 64, 48, RED, 100 + (GstClockTime)i));
  gst_harness_push_event(h, gst_event_new_flush_start());
  gst_harness_push_event(h, gst_event_new_flush_stop(TRUE));
  GstSegment seg;
  gst_segment_init(&seg, GST_FORMAT_TIME);
  gst_harness_push_event(h, gst_event_new_segment(&seg));
  for (int i = 0; i < 6; i++) gst_harness_push(h, make_frame("RGB", 64, 48, BLUE, (GstClockTime)i));
  gst_harness_push_event(h, gst_event_new_eos());
  CHECK(pull_all(h, 6, 2) == 6);
  gst_harness_teardown(h);
}

/* ---- state changes and model swaps -------------------------------------------------- */

static void test_state_cycles(void) {
  char *m = model_path("classifier.onnx");
  char *desc = g_strdup_printf("videotestsrc is-live=true ! video/x-raw,width=64,height=48,"
                               "framerate=100/1 ! infer model=%s batch-size=2 ! fakesink",
                               m);
  GstElement *p = gst_parse_launch(desc, NULL);
  int ok = 0;
  for (int i = 0; i < 100; i++) {
    ok += gst_element_set_state(p, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE;
    if (i % 10 == 0) g_usleep(30000); /* sometimes with frames in flight */
    ok += gst_element_set_state(p, GST_STATE_NULL) == GST_STATE_CHANGE_SUCCESS;
  }
  CHECK(ok == 200);
  gst_object_unref(p);
  g_free(desc);
  /* a model that fails to load, 100 times: an error each time, no leak */
  p = gst_parse_launch("videotestsrc ! infer model=/nonexistent/m.onnx ! fakesink", NULL);
  int failures = 0;
  for (int i = 0; i < 100; i++) {
    failures += gst_element_set_state(p, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE;
    gst_element_set_state(p, GST_STATE_NULL);
  }
  CHECK(failures == 100);
  gst_object_unref(p);
  g_free(m);
}

/* Swaps in PLAYING: to missing and corrupt models (a warning, the old model
 * keeps running), then to another good model. No frame lost. */
static void test_model_swaps(void) {
  GstHarness *h = classifier_harness("name=e batch-size=2 batch-timeout=5000");
  GstElement *e = gst_bin_get_by_name(GST_BIN(h->element), "e");
  set_caps(h, "RGB", 64, 48);
  char *bad_models[] = {g_strdup("/nonexistent/m.onnx"), bad_path("random.onnx"),
                        bad_path("rank2_input.onnx"), bad_path("huge_input.onnx"),
                        model_path("classifier_v2.onnx")};
  int pts = 0, out = 0;
  for (size_t s = 0; s < G_N_ELEMENTS(bad_models); s++) {
    g_object_set(e, "model", bad_models[s], NULL);
    for (int i = 0; i < 6; i++) {
      gst_harness_push(h, make_frame("RGB", 64, 48, RED, (GstClockTime)pts++));
      GstBuffer *b;
      while ((b = pull_wait(h, 10))) {
        CHECK(GST_BUFFER_PTS(b) == (GstClockTime)out);
        CHECK(top_class(b, NULL) == 0);
        out++;
        gst_buffer_unref(b);
      }
    }
    g_free(bad_models[s]);
  }
  gst_harness_push_event(h, gst_event_new_eos());
  GstBuffer *b;
  while (out < pts && (b = pull_wait(h, 10000))) {
    CHECK(GST_BUFFER_PTS(b) == (GstClockTime)out);
    out++;
    gst_buffer_unref(b);
  }
  CHECK(out == pts);
  gst_object_unref(e);
  gst_harness_teardown(h);
}

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  if (argc < 3) {
    fprintf(stderr, "usage: %s ELEMENT_MODELS_DIR BAD_MODELS_DIR\n", argv[0]);
    return 2;
  }
  models_dir = argv[1];
  bad_dir = argv[2];
  char *tmp = g_dir_make_tmp("infer-bad-inputs-XXXXXX", NULL);
  tmp_dir = tmp;
  RUN(test_bad_models());
  RUN(test_bad_labels_and_settings());
  RUN(test_odd_files_that_work());
  RUN(test_caps());
  RUN(test_resolution_change());
  RUN(test_eos_and_flush_mid_batch());
  RUN(test_state_cycles());
  RUN(test_model_swaps());
  remove_tree(tmp);
  g_free(tmp);
  TEST_MAIN_END("bad_inputs_element");
}
