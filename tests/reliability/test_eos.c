/* Regression tests: downstream answering GST_FLOW_EOS must not stop the
 * infer element's src task for good. Upstream gets EOS back from the
 * chain, then sends its EOS event, which has to reach the sink or the
 * pipeline never ends (the bug: the task paused on EOS and the queued
 * event stayed in the element). identity eos-after=N plays the downstream
 * that has had enough. argv[1]: the element models folder. */
#include <stdio.h>

/* the shared helpers are static; each test uses some of them */
#pragma GCC diagnostic ignored "-Wunused-function"
#include "../gst/element_test_util.h"
#include "../unit/test_util.h"

/* Harness: frames in until the push fails, then the EOS event must come
 * out within 5 s, after exactly the buffers identity let through (it
 * answers EOS to its eos_after-th buffer). */
static void harness_case(int batch, int eos_after) {
  char *m = model_path("classifier.onnx");
  char *desc = g_strdup_printf("infer model=%s batch-size=%d ! identity eos-after=%d", m, batch,
                               eos_after);
  GstHarness *h = gst_harness_new_parse(desc);
  g_free(desc);
  g_free(m);
  set_caps(h, "RGB", 64, 48);
  GstFlowReturn ret = GST_FLOW_OK;
  int pushed = 0;
  /* the chain returns EOS once the src task has seen it (a few frames later) */
  for (int i = 0; i < 200 && ret == GST_FLOW_OK; i++) {
    ret = gst_harness_push(h, make_frame("RGB", 64, 48, 0xff0000, (GstClockTime)i));
    if (ret == GST_FLOW_OK) pushed++;
    if (i >= eos_after + batch) g_usleep(2000);
  }
  CHECK(ret == GST_FLOW_EOS);
  CHECK(pushed >= eos_after);
  CHECK(gst_harness_push_event(h, gst_event_new_eos()));
  CHECK(wait_for_event(h, GST_EVENT_EOS, 5000));
  int out = 0;
  GstBuffer *b;
  while ((b = gst_harness_try_pull(h))) {
    CHECK(GST_BUFFER_PTS(b) == (GstClockTime)out); /* in order, none twice */
    out++;
    gst_buffer_unref(b);
  }
  if (out != eos_after - 1)
    fprintf(stderr, "batch %d: %d buffers out, expected %d\n", batch, out, eos_after - 1);
  CHECK(out == eos_after - 1);
  gst_harness_teardown(h);
}

/* A whole pipeline must post EOS (not hang) whatever the batch size. */
static void pipeline_case(const char *props) {
  char *m = model_path("classifier.onnx");
  char *desc = g_strdup_printf("videotestsrc num-buffers=60 ! video/x-raw,width=64,height=48 ! "
                               "infer model=%s %s ! identity eos-after=5 ! fakesink name=check0",
                               m, props);
  PipelineRun r;
  gint64 t0 = g_get_monotonic_time();
  run_pipeline(desc, NULL, &r);
  gdouble secs = (g_get_monotonic_time() - t0) / 1e6;
  CHECK(r.state_ok && r.error == NULL);
  /* run_pipeline gives up after 20 s without EOS or error */
  if (secs >= 15) fprintf(stderr, "'%s': no EOS after %.1f s\n", props, secs);
  CHECK(secs < 15);
  CHECK(r.probes[0].buffers == 4 && r.probes[0].in_order);
  run_clear(&r);
  g_free(desc);
  g_free(m);
}

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  if (argc < 2) {
    fprintf(stderr, "usage: %s MODELS_DIR\n", argv[0]);
    return 2;
  }
  models_dir = argv[1];
  harness_case(1, 3);
  harness_case(4, 3);
  harness_case(4, 8);
  pipeline_case("batch-size=1");
  pipeline_case("batch-size=4");
  pipeline_case("batch-size=8 batch-timeout=10000");
  pipeline_case("batch-size=2 max-frames-in-flight=1");
  TEST_MAIN_END("eos_downstream");
}
