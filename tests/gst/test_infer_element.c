/* Tests of the infer element with GstHarness and small pipelines, on the
 * hand-weighted models of make_element_models.py (argv[1] is their folder).
 * The classifier answers 0 red, 1 green, 2 blue, 3 grey; the detector
 * (input 64x48) reports box (16,8,48,34) class 0 and (2,12,10,30) class 1
 * in model pixels on bright frames. */
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>

#include "../unit/test_util.h"
#include "element_test_util.h"

#define RED 0xff0000
#define GREEN 0x00ff00
#define BLUE 0x0000ff
#define GREY 0x808080
#define WHITE 0xffffff
#define BLACK 0x000000

static GstHarness *harness(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static GstHarness *harness(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *desc = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  GstHarness *h = gst_harness_new_parse(desc);
  g_free(desc);
  return h;
}

/* ---- properties --------------------------------------------------------------------- */

static void test_properties(void) {
  GstElement *e = gst_element_factory_make("infer", NULL);
  CHECK(e != NULL);
  if (!e) return;
  guint batch, top_k, max_in_flight, interval;
  guint64 timeout;
  gfloat threshold, iou;
  gdouble scale, pad;
  gboolean keep, softmax, tensors, repeat;
  gchar *mean, *std, *model;
  gint backend, mode, layout;
  g_object_get(e, "batch-size", &batch, "batch-timeout", &timeout, "max-frames-in-flight",
               &max_in_flight, "threshold", &threshold, "nms-iou", &iou, "top-k", &top_k,
               "scale", &scale, "pad-value", &pad, "keep-aspect-ratio", &keep, "softmax",
               &softmax, "output-tensors", &tensors, "repeat-last", &repeat, "interval",
               &interval, "mean", &mean, "std", &std, "model", &model, "backend", &backend,
               "process-mode", &mode, "input-layout", &layout, NULL);
  CHECK(batch == 1 && timeout == 0 && max_in_flight == 0 && top_k == 0 && interval == 0);
  CHECK_NEAR(threshold, 0.3, 1e-6);
  CHECK_NEAR(iou, 0.45, 1e-6);
  CHECK_NEAR(scale, 1.0 / 255.0, 1e-9);
  CHECK_NEAR(pad, 114.0, 0);
  CHECK(keep && softmax && !tensors && !repeat);
  CHECK(g_strcmp0(mean, "0,0,0") == 0 && g_strcmp0(std, "1,1,1") == 0 && model == NULL);
  CHECK(backend == 0 && mode == 0 && layout == 0);
  g_free(mean), g_free(std), g_free(model);

  gst_util_set_object_arg(G_OBJECT(e), "backend", "cpu");
  gst_util_set_object_arg(G_OBJECT(e), "precision", "fp16");
  gst_util_set_object_arg(G_OBJECT(e), "model-type", "detector");
  gst_util_set_object_arg(G_OBJECT(e), "detector-format", "nms-inside");
  gst_util_set_object_arg(G_OBJECT(e), "padding", "bottom-right");
  gst_util_set_object_arg(G_OBJECT(e), "input-order", "bgr");
  g_object_set(e, "model", "m.onnx", "engine-cache", "/tmp/x/", "batch-size", 8,
               "batch-timeout", (guint64)20000, "threshold", 0.6f, "top-k", 7, "mean",
               "0.5,0.4,0.3", "model-instance-id", "shared", "object-class", "car,2",
               "min-object-size", 16, "max-object-size", 900, "device-id", 1, NULL);
  gchar *cache, *id, *classes;
  gint precision, mtype, dfmt, padding, order, device;
  guint min_size, max_size;
  g_object_get(e, "model", &model, "engine-cache", &cache, "batch-size", &batch,
               "batch-timeout", &timeout, "threshold", &threshold, "top-k", &top_k, "mean",
               &mean, "model-instance-id", &id, "object-class", &classes, "min-object-size",
               &min_size, "max-object-size", &max_size, "backend", &backend, "precision",
               &precision, "model-type", &mtype, "detector-format", &dfmt, "padding",
               &padding, "input-order", &order, "device-id", &device, NULL);
  CHECK(g_strcmp0(model, "m.onnx") == 0 && g_strcmp0(cache, "/tmp/x/") == 0);
  CHECK(batch == 8 && timeout == 20000 && top_k == 7 && min_size == 16 && max_size == 900);
  CHECK_NEAR(threshold, 0.6, 1e-6);
  CHECK(g_strcmp0(mean, "0.5,0.4,0.3") == 0 && g_strcmp0(id, "shared") == 0 &&
        g_strcmp0(classes, "car,2") == 0);
  CHECK(backend == 1 && precision == 1 && mtype == 2 && dfmt == 4 && padding == 1 &&
        order == 1 && device == 1);
  g_free(model), g_free(cache), g_free(mean), g_free(id), g_free(classes);
  /* every property is documented */
  guint n;
  GParamSpec **specs = g_object_class_list_properties(G_OBJECT_GET_CLASS(e), &n);
  CHECK(n >= 34);
  for (guint i = 0; i < n; i++) {
    const char *blurb = g_param_spec_get_blurb(specs[i]);
    if (!blurb || strlen(blurb) < 8) fprintf(stderr, "property %s: no blurb\n", specs[i]->name);
    CHECK(blurb && strlen(blurb) >= 8);
  }
  g_free(specs);
  gst_object_unref(e);
}

/* ---- classification in every format ------------------------------------------------------- */

static int classify_one(const char *extra, const char *format, guint32 rgb, float *conf) {
  char *m = model_path("classifier.onnx");
  GstHarness *h = harness("infer model=%s %s", m, extra);
  g_free(m);
  set_caps(h, format, 64, 48);
  gst_harness_push(h, make_frame(format, 64, 48, rgb, 0));
  GstBuffer *out = pull(h);
  int cls = top_class(out, conf);
  if (out) gst_buffer_unref(out);
  gst_harness_teardown(h);
  return cls;
}

static void test_formats(void) {
  const char *formats[] = {"NV12", "I420", "RGBA", "BGRA", "RGBx", "BGRx", "RGB", "BGR"};
  const guint32 colours[] = {RED, GREEN, BLUE};
  for (size_t f = 0; f < G_N_ELEMENTS(formats); f++)
    for (int c = 0; c < 3; c++) {
      int got = classify_one("", formats[f], colours[c], NULL);
      if (got != c) fprintf(stderr, "format %s colour %d: class %d\n", formats[f], c, got);
      CHECK(got == c);
    }
  CHECK(classify_one("", "GRAY8", RED, NULL) == 3); /* grey frames are grey */
  CHECK(classify_one("", "RGB", GREY, NULL) == 3);
  /* input-order=bgr swaps red and blue */
  CHECK(classify_one("input-order=bgr", "RGB", RED, NULL) == 2);
  /* the NHWC model, layout found from its shape */
  char *m = model_path("classifier_nhwc.onnx");
  GstHarness *h = harness("infer model=%s", m);
  g_free(m);
  set_caps(h, "RGB", 32, 32);
  gst_harness_push(h, make_frame("RGB", 32, 32, GREEN, 0));
  GstBuffer *out = pull(h);
  CHECK(top_class(out, NULL) == 1);
  if (out) gst_buffer_unref(out);
  gst_harness_teardown(h);
  /* labels */
  char *labels = model_path("classifier_labels.txt");
  char *extra = g_strdup_printf("labels=%s", labels);
  m = model_path("classifier.onnx");
  h = harness("infer model=%s %s", m, extra);
  set_caps(h, "RGB", 64, 48);
  gst_harness_push(h, make_frame("RGB", 64, 48, BLUE, 0));
  out = pull(h);
  InferClassificationMeta *cm = out ? infer_buffer_get_classification_meta(out) : NULL;
  CHECK(cm && cm->labels->len >= 1 &&
        g_strcmp0(g_array_index(cm->labels, InferClassLabel, 0).label, "blue") == 0);
  if (out) gst_buffer_unref(out);
  gst_harness_teardown(h);
  g_free(m), g_free(labels), g_free(extra);
}

/* ---- detection, letterbox mapping, caps change -------------------------------------------- */

static void check_box(const InferObject *o, int W, int H, double x0, double y0, double x1,
                      double y1) {
  CHECK(o != NULL);
  if (!o) return;
  CHECK_NEAR(o->x_min * W, x0, 1.0);
  CHECK_NEAR(o->y_min * H, y0, 1.0);
  CHECK_NEAR(o->x_max * W, x1, 1.0);
  CHECK_NEAR(o->y_max * H, y1, 1.0);
}

static int n_roi_metas(GstBuffer *b) {
  int n = 0;
  gpointer state = NULL;
  while (gst_buffer_iterate_meta_filtered(b, &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))
    n++;
  return n;
}

static void test_letterbox(void) {
  char *m = model_path("detector.onnx");
  /* 1280x720 into 64x48: scale 0.05, content 64x36, 12 rows of padding */
  const char *paddings[] = {"symmetric", "bottom-right"};
  const double pad_y[] = {6, 0};
  for (int p = 0; p < 2; p++) {
    GstHarness *h = harness("infer model=%s padding=%s", m, paddings[p]);
    set_caps(h, "RGB", 1280, 720);
    gst_harness_push(h, make_frame("RGB", 1280, 720, WHITE, 0));
    gst_harness_push(h, make_frame("RGB", 1280, 720, BLACK, 1));
    GstBuffer *bright = pull(h), *dark = pull(h);
    CHECK(n_objects(bright) == 2);
    check_box(bright ? object_of_class(bright, 0) : NULL, 1280, 720, 16 / 0.05,
              (8 - pad_y[p]) / 0.05, 48 / 0.05, (34 - pad_y[p]) / 0.05);
    check_box(bright ? object_of_class(bright, 1) : NULL, 1280, 720, 2 / 0.05,
              (12 - pad_y[p]) / 0.05, 10 / 0.05, (30 - pad_y[p]) / 0.05);
    CHECK(bright && n_roi_metas(bright) == 2);
    CHECK(n_objects(dark) == 0);
    /* resolution change mid-stream: 640x480 fills the input exactly (scale 0.1) */
    set_caps(h, "RGB", 640, 480);
    gst_harness_push(h, make_frame("RGB", 640, 480, WHITE, 2));
    GstBuffer *small = pull(h);
    check_box(small ? object_of_class(small, 0) : NULL, 640, 480, 160, 80, 480, 340);
    GstVideoRegionOfInterestMeta *roi =
        small ? gst_buffer_get_video_region_of_interest_meta(small) : NULL;
    CHECK(roi && roi->x + roi->w <= 640 && roi->y + roi->h <= 480);
    if (bright) gst_buffer_unref(bright);
    if (dark) gst_buffer_unref(dark);
    if (small) gst_buffer_unref(small);
    gst_harness_teardown(h);
  }
  /* stretched (no letterbox): x scale 0.05, y scale 48/720 */
  GstHarness *h = harness("infer model=%s keep-aspect-ratio=false", m);
  set_caps(h, "NV12", 1280, 720);
  gst_harness_push(h, make_frame("NV12", 1280, 720, WHITE, 0));
  GstBuffer *b = pull(h);
  check_box(b ? object_of_class(b, 0) : NULL, 1280, 720, 320, 8 * 15, 960, 34 * 15);
  if (b) gst_buffer_unref(b);
  gst_harness_teardown(h);
  g_free(m);
}

/* ---- batching, EOS, flush, latency ---------------------------------------------------------- */

static const guint32 cycle[3] = {RED, GREEN, BLUE};

/* Pushes n frames (colours cycling, PTS i * 10 ms), then EOS if asked;
 * pulls n and checks order and classes; confidences go to conf. */
static int run_batch(const char *extra, int n, gboolean eos, float *conf) {
  char *m = model_path("classifier.onnx");
  GstHarness *h = harness("infer model=%s %s", m, extra);
  g_free(m);
  set_caps(h, "RGB", 64, 48);
  for (int i = 0; i < n; i++)
    CHECK(gst_harness_push(h, make_frame("RGB", 64, 48, cycle[i % 3], i * 10 * GST_MSECOND)) ==
          GST_FLOW_OK);
  if (eos) gst_harness_push_event(h, gst_event_new_eos());
  int got = 0;
  for (int i = 0; i < n; i++) {
    GstBuffer *b = pull(h);
    if (!b) break;
    got++;
    CHECK(GST_BUFFER_PTS(b) == (GstClockTime)(i * 10 * GST_MSECOND));
    CHECK(top_class(b, conf ? &conf[i] : NULL) == i % 3);
    gst_buffer_unref(b);
  }
  if (eos) CHECK(wait_for_event(h, GST_EVENT_EOS, 5000));
  gst_harness_teardown(h);
  return got;
}

static void test_batching(void) {
  float c1[10], c4[10];
  CHECK(run_batch("batch-size=1", 10, TRUE, c1) == 10);
  CHECK(run_batch("batch-size=4", 10, TRUE, c4) == 10);
  for (int i = 0; i < 10; i++) CHECK_NEAR(c1[i], c4[i], 1e-5);
  /* EOS mid-batch */
  CHECK(run_batch("batch-size=4", 7, TRUE, NULL) == 7);
  /* a timeout runs partial batches without EOS */
  CHECK(run_batch("batch-size=4 batch-timeout=20000", 3, FALSE, NULL) == 3);
  /* max-frames-in-flight below the batch size runs partial batches (no deadlock) */
  CHECK(run_batch("batch-size=8 max-frames-in-flight=2", 5, TRUE, NULL) == 5);
  /* latency: batch-timeout, or (batch-1) frame durations */
  char *m = model_path("classifier.onnx");
  GstHarness *h = harness("infer model=%s batch-size=4 batch-timeout=20000", m);
  set_caps(h, "RGB", 64, 48);
  CHECK(gst_harness_query_latency(h) == 20 * GST_MSECOND);
  gst_harness_teardown(h);
  h = harness("infer model=%s batch-size=4", m);
  set_caps(h, "RGB", 64, 48);
  CHECK(gst_harness_query_latency(h) == gst_util_uint64_scale(3, GST_SECOND, 30));
  gst_harness_teardown(h);
  g_free(m);
}

static void test_flush(void) {
  char *m = model_path("classifier.onnx");
  GstHarness *h = harness("infer model=%s batch-size=4", m);
  g_free(m);
  set_caps(h, "RGB", 64, 48);
  for (int i = 0; i < 3; i++) gst_harness_push(h, make_frame("RGB", 64, 48, RED, i));
  CHECK(pull_wait(h, 200) == NULL); /* waiting for a full batch */
  gst_harness_push_event(h, gst_event_new_flush_start());
  gst_harness_push_event(h, gst_event_new_flush_stop(TRUE));
  GstSegment seg;
  gst_segment_init(&seg, GST_FORMAT_TIME);
  gst_harness_push_event(h, gst_event_new_segment(&seg));
  for (int i = 0; i < 4; i++)
    gst_harness_push(h, make_frame("RGB", 64, 48, BLUE, GST_SECOND + (GstClockTime)i));
  gst_harness_push_event(h, gst_event_new_eos());
  for (int i = 0; i < 4; i++) {
    GstBuffer *b = pull(h);
    /* the flushed frames never come out */
    CHECK(b && GST_BUFFER_PTS(b) == GST_SECOND + (GstClockTime)i && top_class(b, NULL) == 2);
    if (b) gst_buffer_unref(b);
  }
  CHECK(wait_for_event(h, GST_EVENT_EOS, 5000));
  CHECK(gst_harness_buffers_in_queue(h) == 0);
  gst_harness_teardown(h);
}

/* ---- interval, repeat-last, output tensors ------------------------------------------------ */

static void test_interval(void) {
  char *m = model_path("classifier.onnx");
  for (int repeat = 0; repeat < 2; repeat++) {
    GstHarness *h = harness("infer model=%s interval=2 repeat-last=%s", m,
                            repeat ? "true" : "false");
    set_caps(h, "RGB", 64, 48);
    for (int i = 0; i < 6; i++) gst_harness_push(h, make_frame("RGB", 64, 48, cycle[i % 3], i));
    for (int i = 0; i < 6; i++) {
      GstBuffer *b = pull(h);
      int cls = top_class(b, NULL);
      if (i % 3 == 0) CHECK(cls == i % 3);                  /* inferred: red */
      else if (repeat) CHECK(cls == 0);                     /* the last results: red */
      else CHECK(b && !infer_buffer_get_classification_meta(b));
      if (b) gst_buffer_unref(b);
    }
    gst_harness_teardown(h);
  }
  /* output-tensors: the logits of the frame */
  GstHarness *h = harness("infer model=%s output-tensors=true batch-size=2", m);
  set_caps(h, "RGB", 64, 48);
  gst_harness_push(h, make_split_frame(64, 48, GREEN, GREEN));
  gst_harness_push(h, make_split_frame(64, 48, RED, RED)); /* exactly 255,0,0 */
  GstBuffer *b0 = pull(h), *b1 = pull(h);
  gpointer state = NULL;
  InferTensorMeta *t = b1 ? infer_buffer_iterate_tensor_meta(b1, &state) : NULL;
  CHECK(t && t->rank == 2 && t->dims[0] == 1 && t->dims[1] == 4 && t->size == 16);
  /* red logit 10 * (r - g - b) of the mean colour; letterbox: 24 of 32 rows
   * red, 8 rows of padding 114 */
  double pad = 8.0 * 114.0 / 255.0 / 32.0, r = 24.0 / 32.0 + pad;
  if (t) CHECK_NEAR(((float *)t->data)[0], 10.0 * (r - 2 * pad), 1e-3);
  if (b0) gst_buffer_unref(b0);
  if (b1) gst_buffer_unref(b1);
  gst_harness_teardown(h);
  g_free(m);
}

/* ---- shared model instances ---------------------------------------------------------------- */

static void test_shared_instance(void) {
  char *m = model_path("classifier.onnx");
  GstHarness *a = harness("infer name=a model=%s batch-size=2 model-instance-id=shared-1", m);
  GstHarness *b = harness("infer name=b model=%s batch-size=2 model-instance-id=shared-1", m);
  set_caps(a, "RGB", 64, 48);
  set_caps(b, "I420", 64, 48);
  /* one frame each: only a batch mixing both can run (no timeout, no EOS) */
  gst_harness_push(a, make_frame("RGB", 64, 48, RED, 0));
  CHECK(pull_wait(a, 200) == NULL);
  gst_harness_push(b, make_frame("I420", 64, 48, BLUE, 0));
  GstBuffer *oa = pull(a), *ob = pull(b);
  CHECK(top_class(oa, NULL) == 0);
  CHECK(top_class(ob, NULL) == 2);
  if (oa) gst_buffer_unref(oa);
  if (ob) gst_buffer_unref(ob);
  /* many frames from both, in order on each side */
  for (int i = 0; i < 9; i++) {
    gst_harness_push(a, make_frame("RGB", 64, 48, cycle[i % 3], i));
    gst_harness_push(b, make_frame("I420", 64, 48, cycle[(i + 1) % 3], i));
  }
  for (int i = 0; i < 9; i++) {
    oa = pull(a), ob = pull(b);
    CHECK(oa && GST_BUFFER_PTS(oa) == (GstClockTime)i && top_class(oa, NULL) == i % 3);
    CHECK(ob && GST_BUFFER_PTS(ob) == (GstClockTime)i && top_class(ob, NULL) == (i + 1) % 3);
    if (oa) gst_buffer_unref(oa);
    if (ob) gst_buffer_unref(ob);
  }
  gst_harness_teardown(a);
  /* b goes on alone after a left (EOS runs its partial batch) */
  gst_harness_push(b, make_frame("I420", 64, 48, GREEN, 100));
  gst_harness_push_event(b, gst_event_new_eos());
  ob = pull(b);
  CHECK(top_class(ob, NULL) == 1);
  if (ob) gst_buffer_unref(ob);
  gst_harness_teardown(b);
  g_free(m);
}

/* ---- secondary (roi) mode ---------------------------------------------------------------- */

static GstBuffer *frame_with_objects(void) {
  GstBuffer *buf = make_split_frame(128, 64, RED, BLUE);
  InferDetectionMeta *dm = infer_buffer_add_detection_meta(buf, "upstream");
  infer_detection_meta_add_object(dm, buf, 0.0, 0.0, 0.5, 1.0, 0.9f, 0, "car", 128, 64);
  infer_detection_meta_add_object(dm, buf, 0.5, 0.0, 1.0, 1.0, 0.8f, 2, "bus", 128, 64);
  infer_detection_meta_add_object(dm, buf, 0.6, 0.2, 0.65, 0.25, 0.7f, 2, "bus", 128, 64);
  return buf;
}

static int object_class(GstBuffer *b, guint i) {
  InferDetectionMeta *dm = b ? infer_buffer_get_detection_meta(b) : NULL;
  if (!dm || i >= dm->objects->len) return -2;
  InferObject *o = &g_array_index(dm->objects, InferObject, i);
  if (!o->classes || o->classes->len == 0) return -1;
  return g_array_index(o->classes, InferClassLabel, 0).label_id;
}

static void test_roi_mode(void) {
  char *m = model_path("classifier.onnx");
  struct {
    const char *extra;
    int expect[3];
  } cases[] = {
      {"", {0, 2, 2}},
      {"object-class=bus", {-1, 2, 2}},
      {"object-class=0", {0, -1, -1}},
      {"min-object-size=8", {0, 2, -1}},
      {"max-object-size=40", {-1, -1, 2}},
      {"batch-size=2", {0, 2, 2}}, /* three objects over two batches */
  };
  for (size_t c = 0; c < G_N_ELEMENTS(cases); c++) {
    GstHarness *h = harness("infer model=%s process-mode=roi %s", m, cases[c].extra);
    set_caps(h, "RGB", 128, 64);
    gst_harness_push(h, frame_with_objects());
    gst_harness_push(h, make_split_frame(128, 64, GREEN, GREEN)); /* no objects */
    gst_harness_push_event(h, gst_event_new_eos());
    GstBuffer *b = pull(h), *b2 = pull(h);
    for (int i = 0; i < 3; i++) {
      int got = object_class(b, (guint)i);
      if (got != cases[c].expect[i])
        fprintf(stderr, "roi case '%s' object %d: class %d\n", cases[c].extra, i, got);
      CHECK(got == cases[c].expect[i]);
    }
    CHECK(b2 != NULL && top_class(b2, NULL) == -1);
    if (b) gst_buffer_unref(b);
    if (b2) gst_buffer_unref(b2);
    gst_harness_teardown(h);
  }
  g_free(m);
}

/* ---- model swap while playing --------------------------------------------------------------- */

static void test_model_swap(void) {
  char *m = model_path("classifier.onnx"), *det = model_path("detector.onnx");
  GstHarness *h = harness("infer name=swap model=%s batch-size=2 batch-timeout=5000", m);
  GstElement *e = gst_bin_get_by_name(GST_BIN(h->element), "swap");
  set_caps(h, "RGB", 128, 96);
  gst_harness_push(h, make_frame("RGB", 128, 96, WHITE, 0));
  GstBuffer *b = pull(h);
  CHECK(top_class(b, NULL) == 3);
  if (b) gst_buffer_unref(b);
  g_object_set(e, "model", det, NULL);
  gst_object_unref(e);
  int pushed = 1, pulled = 1, detections = 0;
  for (int i = 1; i < 200 && detections < 3; i++) {
    gst_harness_push(h, make_frame("RGB", 128, 96, WHITE, (GstClockTime)i));
    pushed++;
    while ((b = pull_wait(h, 20))) {
      CHECK(GST_BUFFER_PTS(b) == (GstClockTime)pulled);
      pulled++;
      if (n_objects(b) == 2) detections++;
      gst_buffer_unref(b);
    }
  }
  gst_harness_push_event(h, gst_event_new_eos());
  while ((b = pull_wait(h, 1000))) {
    pulled++;
    gst_buffer_unref(b);
  }
  CHECK(detections >= 3);
  CHECK(pushed == pulled); /* no frame dropped */
  gst_harness_teardown(h);
  g_free(m), g_free(det);
}

/* ---- whole pipelines: sharing through a tee, detector + roi classifier, stops ------- */

static void test_pipelines(void) {
  char *c = model_path("classifier.onnx"), *d = model_path("detector.onnx");
  PipelineRun r;
  char *desc = g_strdup_printf(
      "videotestsrc num-buffers=31 pattern=blue ! video/x-raw,width=160,height=120 ! tee name=t "
      "t. ! queue ! infer model=%s model-instance-id=tee batch-size=4 ! fakesink name=check0 "
      "t. ! queue ! videoconvert ! video/x-raw,format=NV12 ! infer model=%s "
      "model-instance-id=tee batch-size=4 ! fakesink name=check1",
      c, c);
  run_pipeline(desc, NULL, &r);
  g_free(desc);
  CHECK(r.error == NULL);
  for (int i = 0; i < 2; i++)
    CHECK(r.probes[i].buffers == 31 && r.probes[i].frame_class[2] == 31 && r.probes[i].in_order);
  run_clear(&r);
  desc = g_strdup_printf("videotestsrc num-buffers=12 pattern=white ! video/x-raw,width=320,"
                         "height=240 ! infer model=%s batch-size=4 ! infer model=%s "
                         "process-mode=roi batch-size=3 ! fakesink name=check0",
                         d, c);
  run_pipeline(desc, NULL, &r);
  g_free(desc);
  CHECK(r.error == NULL);
  CHECK(r.probes[0].buffers == 12 && r.probes[0].objects == 24);
  CHECK(r.probes[0].object_class[3] == 24); /* white crops are grey */
  run_clear(&r);
  /* stopping mid-stream joins every thread, with frames in flight */
  const char *stops[] = {"batch-size=4", "batch-size=8 batch-timeout=100000",
                         "batch-size=2 interval=1"};
  for (size_t i = 0; i < G_N_ELEMENTS(stops); i++) {
    desc = g_strdup_printf("videotestsrc is-live=true ! video/x-raw,width=320,height=240,"
                           "framerate=200/1 ! infer model=%s %s ! fakesink sync=true",
                           c, stops[i]);
    GstElement *p = gst_parse_launch(desc, NULL);
    g_free(desc);
    CHECK(gst_element_set_state(p, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
    g_usleep(150000);
    CHECK(gst_element_set_state(p, GST_STATE_PAUSED) != GST_STATE_CHANGE_FAILURE);
    g_usleep(20000);
    CHECK(gst_element_set_state(p, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
    g_usleep(50000);
    CHECK(gst_element_set_state(p, GST_STATE_NULL) == GST_STATE_CHANGE_SUCCESS);
    gst_object_unref(p);
  }
  /* flushing seeks while frames are in flight, then EOS */
  desc = g_strdup_printf("videotestsrc num-buffers=60 pattern=green ! video/x-raw,width=320,"
                         "height=240 ! infer model=%s batch-size=4 ! fakesink name=check0 "
                         "sync=false",
                         c);
  GstElement *p = gst_parse_launch(desc, NULL);
  g_free(desc);
  gst_element_set_state(p, GST_STATE_PAUSED);
  CHECK(gst_element_get_state(p, NULL, NULL, 5 * GST_SECOND) == GST_STATE_CHANGE_SUCCESS);
  for (int i = 0; i < 3; i++) {
    gst_element_set_state(p, GST_STATE_PLAYING);
    g_usleep(5000);
    CHECK(gst_element_seek_simple(p, GST_FORMAT_TIME, GST_SEEK_FLAG_FLUSH, 0));
  }
  gst_element_set_state(p, GST_STATE_PLAYING);
  GstBus *bus = gst_element_get_bus(p);
  GstMessage *m = gst_bus_timed_pop_filtered(bus, 20 * GST_SECOND,
                                             GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  CHECK(m && GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS);
  if (m) gst_message_unref(m);
  gst_object_unref(bus);
  CHECK(gst_element_set_state(p, GST_STATE_NULL) == GST_STATE_CHANGE_SUCCESS);
  gst_object_unref(p);
  g_free(c), g_free(d);
}

/* ---- errors ---------------------------------------------------------------------------------- */

static void expect_error(const char *props, GQuark domain, int code, const char *needle) {
  char *desc = g_strdup_printf("videotestsrc num-buffers=2 ! video/x-raw,width=64,height=48 ! "
                               "infer %s ! fakesink",
                               props);
  PipelineRun r;
  run_pipeline(desc, NULL, &r);
  CHECK(r.error != NULL);
  if (r.error) {
    gboolean ok = r.error->domain == domain && r.error->code == code &&
                  strstr(r.error->message, needle) != NULL;
    if (!ok) fprintf(stderr, "error for '%s': %s (%s)\n", props, r.error->message,
                     r.error_debug ? r.error_debug : "");
    CHECK(ok);
  }
  run_clear(&r);
  g_free(desc);
}

static void test_errors(const char *tmp) {
  char *cls = model_path("classifier.onnx"), *bad = model_path("bad_op.onnx");
  char *not_image = model_path("not_image.onnx");
  expect_error("model=/nonexistent/model.onnx", GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND,
               "model");
  expect_error("", GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND, "model");
  char *p = g_strdup_printf("model=%s", bad);
  expect_error(p, GST_LIBRARY_ERROR, GST_LIBRARY_ERROR_INIT, "FrobnicateColours");
  g_free(p);
  p = g_strdup_printf("model=%s", not_image);
  expect_error(p, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT, "model");
  g_free(p);
  char *corrupt = g_build_filename(tmp, "corrupt.onnx", NULL);
  g_file_set_contents(corrupt, "\x12\x34garbage\xff\xff\xff\x01", 12, NULL);
  p = g_strdup_printf("model=%s", corrupt);
  expect_error(p, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ, "model");
  g_free(p);
  p = g_strdup_printf("model=%s labels=/nonexistent/labels.txt", cls);
  expect_error(p, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND, "labels");
  g_free(p);
  p = g_strdup_printf("model=%s mean=1,2", cls);
  expect_error(p, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS, "mean");
  g_free(p);
  p = g_strdup_printf("model=%s std=1,0,1", cls);
  expect_error(p, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS, "std");
  g_free(p);
  p = g_strdup_printf("model=%s model-type=detector", cls);
  expect_error(p, GST_LIBRARY_ERROR, GST_LIBRARY_ERROR_SETTINGS, "detector");
  g_free(p);
  g_free(cls), g_free(bad), g_free(not_image), g_free(corrupt);
}

/* ---- plan cache --------------------------------------------------------------------------- */

static gboolean copy_file(const char *from, const char *to) {
  gchar *data;
  gsize size;
  if (!g_file_get_contents(from, &data, &size, NULL)) return FALSE;
  gboolean ok = g_file_set_contents(to, data, (gssize)size, NULL);
  g_free(data);
  return ok;
}

static const char *cache_run(const char *model, const char *cache, const char **reason,
                             PipelineRun *r) {
  char *desc = g_strdup_printf("videotestsrc num-buffers=3 ! video/x-raw,width=64,height=48 ! "
                               "infer model=%s engine-cache=%s batch-size=2 ! fakesink",
                               model, cache);
  run_pipeline(desc, "infer-build", r);
  g_free(desc);
  CHECK(r->error == NULL);
  if (r->error) fprintf(stderr, "cache run: %s\n", r->error->message);
  return build_status(r, reason);
}

static void test_plan_cache(const char *tmp) {
  char *model = g_build_filename(tmp, "cached.onnx", NULL);
  char *folder = g_build_filename(tmp, "plans", G_DIR_SEPARATOR_S, NULL);
  char *src = model_path("classifier.onnx"), *v2 = model_path("classifier_v2.onnx");
  CHECK(copy_file(src, model));
  const char *reason = NULL;
  PipelineRun r;
  CHECK(strcmp(cache_run(model, folder, &reason, &r), "built") == 0);
  gboolean progress = r.messages->len > 1;
  CHECK(progress);
  run_clear(&r);
  CHECK(strcmp(cache_run(model, folder, &reason, &r), "loaded") == 0);
  run_clear(&r);
  /* the folder holds <basename>-<hash>.plan */
  GDir *dir = g_dir_open(folder, 0, NULL);
  const char *name = dir ? g_dir_read_name(dir) : NULL;
  CHECK(name && g_str_has_prefix(name, "cached-") && g_str_has_suffix(name, ".plan"));
  if (dir) g_dir_close(dir);
  /* a modified model file is rebuilt, then loaded again */
  CHECK(copy_file(v2, model));
  CHECK(strcmp(cache_run(model, folder, &reason, &r), "built") == 0);
  CHECK(reason && strstr(reason, "changed"));
  run_clear(&r);
  CHECK(strcmp(cache_run(model, folder, &reason, &r), "loaded") == 0);
  run_clear(&r);
  /* a plan file path; a corrupt plan is rebuilt */
  char *plan = g_build_filename(tmp, "one.plan", NULL);
  CHECK(strcmp(cache_run(model, plan, &reason, &r), "built") == 0);
  run_clear(&r);
  CHECK(strcmp(cache_run(model, plan, &reason, &r), "loaded") == 0);
  run_clear(&r);
  g_file_set_contents(plan, "not a plan at all", -1, NULL);
  CHECK(strcmp(cache_run(model, plan, &reason, &r), "built") == 0);
  CHECK(reason && strstr(reason, "plan"));
  run_clear(&r);
  g_free(model), g_free(folder), g_free(src), g_free(v2), g_free(plan);
}

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  if (argc < 2) {
    fprintf(stderr, "usage: %s MODELS_DIR\n", argv[0]);
    return 2;
  }
  models_dir = argv[1];
  GstElementFactory *factory = gst_element_factory_find("infer");
  if (!factory) {
    fprintf(stderr, "the infer element is not found (GST_PLUGIN_PATH)\n");
    return 1;
  }
  gst_object_unref(factory);
  char *tmp = g_dir_make_tmp("infer-element-XXXXXX", NULL);
  RUN(test_properties());
  RUN(test_formats());
  RUN(test_letterbox());
  RUN(test_batching());
  RUN(test_flush());
  RUN(test_interval());
  RUN(test_shared_instance());
  RUN(test_roi_mode());
  RUN(test_model_swap());
  RUN(test_pipelines());
  RUN(test_errors(tmp));
  RUN(test_plan_cache(tmp));
  remove_tree(tmp);
  g_free(tmp);
  TEST_MAIN_END("infer_element");
}
