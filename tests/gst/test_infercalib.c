/* Tests of the infercalib element on the hand-weighted models of
 * make_element_models.py (argv[1] is their folder): frames pass unchanged,
 * interval and max-frames decide the frames used, the messages, the cache
 * against infer_calibrate over the same preprocessed frames, the INT8 plan,
 * infer precision=int8 with the cache against FP32, and the errors. */
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>

#include "../unit/test_util.h"
/* the shared helpers include detection ones this test has no use for */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "element_test_util.h"
#pragma GCC diagnostic pop
#include "infer/calibration.h"
#include "infer/infer.h"
#include "preprocess.h"

#define W 64
#define H 48

static char *tmp_dir;

/* Frame i of a deterministic sequence: solid colours of every hue and
 * brightness, and split frames (letterboxed like the others). */
static GstBuffer *test_frame(int i) {
  static const guint32 colours[] = {0xff0000, 0x00ff00, 0x0000ff, 0x808080, 0xc03010,
                                    0x10c040, 0x2030d0, 0xffffff, 0x000000, 0x906030};
  guint32 c = colours[i % 10];
  GstBuffer *b = i % 3 == 2 ? make_split_frame(W, H, c, colours[(i + 3) % 10])
                            : make_frame("RGB", W, H, c, 0);
  b = gst_buffer_make_writable(b);
  GST_BUFFER_PTS(b) = (GstClockTime)i * GST_SECOND / 30;
  GST_BUFFER_DURATION(b) = GST_SECOND / 30;
  return b;
}

static char *tmp_path(const char *name) { return g_build_filename(tmp_dir, name, NULL); }

/* One run of infercalib in a harness: frames 0..n-1 in, each checked to
 * come out unchanged (bytes, PTS, duration), then EOS; the messages. */
typedef struct CalibRun {
  int out;                      /* frames that came out */
  GPtrArray *progress, *done;   /* GstStructure copies */
  GError *error;
} CalibRun;

static void collect(GstBus *bus, CalibRun *r) {
  GstMessage *m;
  while ((m = gst_bus_pop(bus))) {
    const GstStructure *s = gst_message_get_structure(m);
    if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ELEMENT && gst_structure_has_name(s, "infercalib-progress"))
      g_ptr_array_add(r->progress, gst_structure_copy(s));
    else if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ELEMENT && gst_structure_has_name(s, "infercalib-done"))
      g_ptr_array_add(r->done, gst_structure_copy(s));
    else if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR && !r->error)
      gst_message_parse_error(m, &r->error, NULL);
    gst_message_unref(m);
  }
}

static void check_same(GstBuffer *got, GstBuffer *ref) {
  GstMapInfo a, b;
  gst_buffer_map(got, &a, GST_MAP_READ);
  gst_buffer_map(ref, &b, GST_MAP_READ);
  CHECK(a.size == b.size && memcmp(a.data, b.data, a.size) == 0);
  gst_buffer_unmap(got, &a);
  gst_buffer_unmap(ref, &b);
  CHECK(GST_BUFFER_PTS(got) == GST_BUFFER_PTS(ref));
  CHECK(GST_BUFFER_DURATION(got) == GST_BUFFER_DURATION(ref));
}

static void calib_run(const char *props, int n, CalibRun *r) {
  memset(r, 0, sizeof *r);
  r->progress = g_ptr_array_new_with_free_func((GDestroyNotify)gst_structure_free);
  r->done = g_ptr_array_new_with_free_func((GDestroyNotify)gst_structure_free);
  char *desc = g_strdup_printf("infercalib %s", props);
  GstHarness *h = gst_harness_new_parse(desc);
  g_free(desc);
  GstBus *bus = gst_bus_new();
  gst_element_set_bus(h->element, bus);
  set_caps(h, "RGB", W, H);
  for (int i = 0; i < n; i++) {
    GstBuffer *in = test_frame(i);
    GstBuffer *ref = gst_buffer_copy_deep(in);
    GstFlowReturn ret = gst_harness_push(h, in);
    GstBuffer *got = ret == GST_FLOW_OK ? pull(h) : NULL;
    if (got) {
      r->out++;
      check_same(got, ref);
      gst_buffer_unref(got);
    }
    gst_buffer_unref(ref);
    if (ret != GST_FLOW_OK) break;
  }
  if (r->out == n) {
    gst_harness_push_event(h, gst_event_new_eos());
    CHECK(wait_for_event(h, GST_EVENT_EOS, 30000));
  }
  collect(bus, r);
  gst_harness_teardown(h);
  collect(bus, r);
  gst_object_unref(bus);
}

static void calib_clear(CalibRun *r) {
  g_ptr_array_unref(r->progress);
  g_ptr_array_unref(r->done);
  if (r->error) g_error_free(r->error);
}

static guint64 done_uint64(const CalibRun *r, const char *field) {
  guint64 v = G_MAXUINT64;
  if (r->done->len == 1) gst_structure_get_uint64(g_ptr_array_index(r->done, 0), field, &v);
  return v;
}

static const char *done_string(const CalibRun *r, const char *field) {
  return r->done->len == 1 ? gst_structure_get_string(g_ptr_array_index(r->done, 0), field)
                           : NULL;
}

/* ---- properties ------------------------------------------------------------------------ */
static void test_properties(void) {
  GstElement *e = gst_element_factory_make("infercalib", NULL);
  CHECK(e != NULL);
  if (!e) return;
  guint interval, max_frames, batch;
  gdouble percentile, scale, pad;
  gint algo, backend;
  gchar *mean, *std, *cache;
  gboolean keep;
  g_object_get(e, "interval", &interval, "max-frames", &max_frames, "batch-size", &batch,
               "percentile", &percentile, "algorithm", &algo, "scale", &scale, "mean", &mean,
               "std", &std, "calibration-cache", &cache, "backend", &backend, "pad-value", &pad,
               "keep-aspect-ratio", &keep, NULL);
  CHECK(interval == 1 && max_frames == 500 && batch == 1 && cache == NULL && backend == 0);
  CHECK(algo == INFER_CALIB_ENTROPY && keep);
  CHECK_NEAR(percentile, 99.99, 1e-12);
  CHECK_NEAR(scale, 1.0 / 255.0, 1e-12);
  CHECK_NEAR(pad, 114.0, 0);
  CHECK(g_strcmp0(mean, "0,0,0") == 0 && g_strcmp0(std, "1,1,1") == 0);
  g_free(mean), g_free(std);
  gst_util_set_object_arg(G_OBJECT(e), "algorithm", "minmax");
  gst_util_set_object_arg(G_OBJECT(e), "input-order", "bgr");
  g_object_set(e, "mean", "0.5", "interval", 7, "calibration-cache", "x.cache", NULL);
  gint order;
  g_object_get(e, "algorithm", &algo, "input-order", &order, "mean", &mean, "interval",
               &interval, "calibration-cache", &cache, NULL);
  CHECK(algo == INFER_CALIB_MINMAX && order == INFER_ORDER_BGR && interval == 7);
  CHECK(g_strcmp0(mean, "0.5") == 0 && g_strcmp0(cache, "x.cache") == 0);
  g_free(mean), g_free(cache);
  /* the model and preprocessing properties are infer's, with the same
   * ranges and defaults */
  GstElement *inf = gst_element_factory_make("infer", NULL);
  const char *shared[] = {"model", "backend", "device-id", "input-order", "input-layout",
                          "keep-aspect-ratio", "padding", "pad-value", "interpolation", "mean",
                          "std", "scale", "plugins"};
  for (size_t i = 0; inf && i < G_N_ELEMENTS(shared); i++) {
    GParamSpec *a = g_object_class_find_property(G_OBJECT_GET_CLASS(e), shared[i]);
    GParamSpec *b = g_object_class_find_property(G_OBJECT_GET_CLASS(inf), shared[i]);
    CHECK(a && b && G_PARAM_SPEC_VALUE_TYPE(a) == G_PARAM_SPEC_VALUE_TYPE(b));
    if (a && b && g_strcmp0(shared[i], "model") != 0) {
      CHECK(g_param_values_cmp(a, g_param_spec_get_default_value(a),
                               g_param_spec_get_default_value(b)) == 0);
      CHECK(g_strcmp0(g_param_spec_get_blurb(a), g_param_spec_get_blurb(b)) == 0);
    }
  }
  if (inf) gst_object_unref(inf);
  guint n;
  GParamSpec **specs = g_object_class_list_properties(G_OBJECT_GET_CLASS(e), &n);
  CHECK(n >= 20);
  for (guint i = 0; i < n; i++) {
    const char *blurb = g_param_spec_get_blurb(specs[i]);
    if (!blurb || strlen(blurb) < 8) fprintf(stderr, "property %s: no blurb\n", specs[i]->name);
    CHECK(blurb && strlen(blurb) >= 8);
  }
  g_free(specs);
  GstElementFactory *f = gst_element_factory_find("infercalib");
  const char *desc = f ? gst_element_factory_get_metadata(f, GST_ELEMENT_METADATA_DESCRIPTION)
                       : NULL;
  CHECK(desc && strstr(desc, "gst-launch-1.0") && strstr(desc, "infercalib"));
  if (f) gst_object_unref(f);
  gst_object_unref(e);
}

/* ---- pass-through, interval, max-frames, messages ----------------------------------------- */

static void test_passthrough_interval(void) {
  char *m = model_path("classifier.onnx"), *cache = tmp_path("pass.cache");
  struct {
    const char *props;
    int frames;
    guint64 used;
    guint batch, max_frames;
  } cases[] = {
      {"interval=1 max-frames=0", 10, 10, 1, 0},
      {"interval=3 max-frames=0", 10, 4, 1, 0},               /* frames 0, 3, 6, 9 */
      {"interval=2 max-frames=3", 12, 3, 1, 3},               /* 0, 2, 4; then passing only */
      {"interval=1 max-frames=5 batch-size=2", 9, 4, 2, 5},   /* the fifth frame is left out */
      {"interval=1 max-frames=0 batch-size=4", 9, 8, 4, 0},
  };
  for (size_t k = 0; k < G_N_ELEMENTS(cases); k++) {
    g_remove(cache);
    char *props = g_strdup_printf("model=%s calibration-cache=%s backend=cpu %s", m, cache,
                                  cases[k].props);
    CalibRun r;
    calib_run(props, cases[k].frames, &r);
    CHECK(r.out == cases[k].frames);
    CHECK(r.error == NULL);
    if (r.error) fprintf(stderr, "%s: %s\n", cases[k].props, r.error->message);
    guint64 last = 0;
    guint maxf = 1;
    if (r.progress->len) {
      GstStructure *s = g_ptr_array_index(r.progress, r.progress->len - 1);
      gst_structure_get_uint64(s, "frames", &last);
      gst_structure_get_uint(s, "max-frames", &maxf);
    }
    if (last != cases[k].used || done_uint64(&r, "frames") != cases[k].used)
      fprintf(stderr, "%s: %u progress messages (last %" G_GUINT64_FORMAT "), done says %"
              G_GUINT64_FORMAT "\n", cases[k].props, r.progress->len, last,
              done_uint64(&r, "frames"));
    CHECK(r.progress->len == cases[k].used / cases[k].batch && last == cases[k].used);
    CHECK(maxf == cases[k].max_frames);
    CHECK(done_uint64(&r, "frames") == cases[k].used);
    CHECK(done_uint64(&r, "batches") == cases[k].used / cases[k].batch);
    CHECK(g_strcmp0(done_string(&r, "calibration-cache"), cache) == 0);
    CHECK(done_string(&r, "engine-cache") == NULL);
    CHECK(g_file_test(cache, G_FILE_TEST_EXISTS));
    calib_clear(&r);
    g_free(props);
  }
  g_free(m), g_free(cache);
}

/* ---- the cache against infer_calibrate over the same preprocessed frames ----------------- */

/* infer's preprocessing of the classifier's input for mean=std=0.5, written
 * out from the property defaults (letterbox, symmetric padding of 114,
 * bilinear, RGB, NCHW, F32 32x32). */
static float *preprocess_frames(int n, size_t *item) {
  InferPreprocessParams p;
  infer_preprocess_defaults(&p, 32, 32);
  p.keep_aspect = true;
  p.pad_symmetric = true;
  p.pad_value = 114.0f;
  for (int c = 0; c < 3; c++) p.mean[c] = p.std[c] = 0.5f;
  *item = 3 * 32 * 32;
  float *data = g_new0(float, *item * (size_t)n);
  for (int i = 0; i < n; i++) {
    GstBuffer *b = test_frame(i);
    GstMapInfo map;
    gst_buffer_map(b, &map, GST_MAP_READ);
    InferImage img = {.format = INFER_PIXEL_RGB, .width = W, .height = H};
    img.planes[0] = map.data;
    img.strides[0] = GST_ROUND_UP_4(W * 3); /* GStreamer's RGB stride */
    InferLetterbox lb;
    CHECK_OK(infer_preprocess_cpu(&img, NULL, &p, data + *item * (size_t)i, &lb));
    gst_buffer_unmap(b, &map);
    gst_buffer_unref(b);
  }
  return data;
}

typedef struct ArrayCalib {
  const float *data;
  size_t batch_values;
  int batch, n_batches, next;
} ArrayCalib;

static int array_batch_size(void *user) { return ((ArrayCalib *)user)->batch; }

static bool array_get_batch(void *user, const char *const *names, const void **bindings, int n) {
  ArrayCalib *a = user;
  (void)names, (void)n;
  if (a->next == a->n_batches) return false;
  bindings[0] = a->data + a->batch_values * (size_t)a->next++;
  return true;
}

static char *read_text(const char *path) {
  char *text = NULL;
  g_file_get_contents(path, &text, NULL, NULL);
  return text;
}

static void compare_offline(const char *algo_name, InferCalibAlgo algo, int n, int batch) {
  char *m = model_path("classifier.onnx"), *cache = tmp_path("offline.cache");
  g_remove(cache);
  char *props = g_strdup_printf("model=%s calibration-cache=%s backend=cpu mean=0.5,0.5,0.5 "
                                "std=0.5 algorithm=%s batch-size=%d max-frames=0",
                                m, cache, algo_name, batch);
  CalibRun r;
  calib_run(props, n, &r);
  CHECK(r.error == NULL && r.done->len == 1);
  calib_clear(&r);
  char *element_text = read_text(cache);

  size_t item;
  float *data = preprocess_frames(n, &item);
  InferNetwork *net = NULL;
  CHECK_OK(infer_onnx_parse_file(m, &net));
  ArrayCalib a = {data, item * (size_t)batch, batch, n / batch, 0};
  InferCalibrator cal = {.user = &a, .get_batch_size = array_batch_size,
                         .get_batch = array_get_batch};
  InferCalibOptions opts = {.backend = INFER_BACKEND_CPU};
  InferCalibTable *table = NULL;
  char *text = NULL;
  size_t len = 0;
  if (net) CHECK_OK(infer_calibrate(net, &cal, algo, &opts, &table));
  if (table) CHECK_OK(infer_calib_table_serialize(table, &text, &len));
  CHECK(element_text && text && strcmp(element_text, text) == 0);
  if (element_text && text && strcmp(element_text, text) != 0)
    fprintf(stderr, "%s: element cache:\n%s\noffline:\n%s\n", algo_name, element_text, text);

  /* read back by the module: a scale for every tensor the driver marks */
  InferCalibTable *back = NULL;
  CHECK_OK(infer_calib_table_read_cache(cache, &back));
  const char **names = NULL;
  int n_names = 0;
  if (net) CHECK_OK(infer_calib_network_tensors(net, &names, &n_names));
  if (back && names) {
    InferCalibCheck check;
    CHECK_OK(infer_calib_table_check(back, names, n_names, &check));
    CHECK(check.n_missing == 0 && n_names >= 4);
    CHECK(infer_calib_table_count(back) == n_names);
    for (int i = 0; i < n_names; i++) {
      float scale = 0;
      CHECK(infer_calib_table_lookup(back, names[i], &scale) && scale > 0);
    }
    infer_calib_check_clear(&check);
  }
  free(names);
  free(text);
  infer_calib_table_release(back);
  infer_calib_table_release(table);
  infer_network_release(net);
  g_free(data);
  g_free(element_text);
  g_free(props), g_free(m), g_free(cache);
}

static void test_offline_equal(void) {
  compare_offline("minmax", INFER_CALIB_MINMAX, 12, 1);
  compare_offline("minmax", INFER_CALIB_MINMAX, 12, 3);
  /* histogram calibrators: the element's single pass equals the driver's
   * single pass (a calibrator without reset) over the same batches */
  compare_offline("percentile", INFER_CALIB_PERCENTILE, 12, 2);
  compare_offline("entropy", INFER_CALIB_ENTROPY, 10, 1);
}

/* ---- the INT8 plan, and infer with the cache ---------------------------------------------- */

/* The best class of each of frames 0..n-1 through infer with `props`. */
static void classify(const char *props, int n, int *classes) {
  char *m = model_path("classifier.onnx");
  char *desc = g_strdup_printf("infer model=%s backend=cpu mean=0.5,0.5,0.5 std=0.5 %s", m, props);
  GstHarness *h = gst_harness_new_parse(desc);
  set_caps(h, "RGB", W, H);
  for (int i = 0; i < n; i++) {
    gst_harness_push(h, test_frame(i));
    GstBuffer *out = pull(h);
    classes[i] = top_class(out, NULL);
    if (out) gst_buffer_unref(out);
  }
  gst_harness_teardown(h);
  g_free(desc), g_free(m);
}

static void test_int8_plan(void) {
  char *m = model_path("classifier.onnx"), *cache = tmp_path("int8.cache");
  char *plan = tmp_path("int8.plan");
  g_remove(cache);
  g_remove(plan);
  char *props = g_strdup_printf("model=%s calibration-cache=%s engine-cache=%s backend=cpu "
                                "mean=0.5,0.5,0.5 std=0.5 algorithm=minmax max-frames=0",
                                m, cache, plan);
  CalibRun r;
  calib_run(props, 20, &r);
  CHECK(r.error == NULL && r.done->len == 1);
  if (r.error) fprintf(stderr, "int8 plan: %s\n", r.error->message);
  CHECK(g_strcmp0(done_string(&r, "engine-cache"), plan) == 0);
  CHECK(g_strcmp0(done_string(&r, "algorithm"), "minmax") == 0);
  calib_clear(&r);
  InferEngine *e = NULL;
  CHECK_OK(infer_engine_load(plan, &e));
  infer_engine_release(e);

  /* infer precision=int8 with the cache agrees with FP32 on every frame */
  enum { N = 20 };
  int fp32[N], int8[N];
  classify("", N, fp32);
  char *int8_props = g_strdup_printf("precision=int8 calibration-cache=%s", cache);
  classify(int8_props, N, int8);
  int agree = 0, classified = 0;
  for (int i = 0; i < N; i++) {
    agree += fp32[i] == int8[i];
    classified += fp32[i] >= 0;
  }
  printf("  int8 vs fp32: %d of %d frames agree (%d classified)\n", agree, N, classified);
  CHECK(agree == N && classified == N);

  /* infer takes the plan as its engine cache */
  PipelineRun pr;
  char *desc = g_strdup_printf("videotestsrc num-buffers=2 ! video/x-raw,width=64,height=48 ! "
                               "infer model=%s backend=cpu precision=int8 calibration-cache=%s "
                               "engine-cache=%s ! fakesink", m, cache, plan);
  run_pipeline(desc, "infer-build", &pr);
  CHECK(pr.error == NULL);
  CHECK(strcmp(build_status(&pr, NULL), "loaded") == 0);
  run_clear(&pr);
  g_free(desc), g_free(int8_props), g_free(props), g_free(m), g_free(cache), g_free(plan);
}

/* ---- pipelines and errors ------------------------------------------------------------------ */

static void test_pipeline(void) {
  char *m = model_path("detector.onnx"), *cache = tmp_path("det.cache");
  char *desc = g_strdup_printf("videotestsrc num-buffers=9 ! video/x-raw,width=160,height=120 ! "
                               "infercalib model=%s calibration-cache=%s interval=2 ! "
                               "fakesink name=check0", m, cache);
  PipelineRun r;
  run_pipeline(desc, "infercalib-done", &r);
  CHECK(r.error == NULL && r.messages->len == 1);
  guint64 frames = 0;
  if (r.messages->len)
    gst_structure_get_uint64(g_ptr_array_index(r.messages, 0), "frames", &frames);
  CHECK(frames == 5);
  CHECK(r.probes[0].buffers == 9 && r.probes[0].in_order);
  run_clear(&r);
  g_free(desc), g_free(m), g_free(cache);
}

static void expect_error(const char *props, const char *needle) {
  char *desc = g_strdup_printf("videotestsrc num-buffers=2 ! video/x-raw,width=64,height=48 ! "
                               "infercalib %s ! fakesink", props);
  PipelineRun r;
  run_pipeline(desc, NULL, &r);
  gboolean ok = r.error && strstr(r.error->message, needle);
  if (!ok)
    fprintf(stderr, "'%s': expected an error with '%s', got '%s'\n", props, needle,
            r.error ? r.error->message : "none");
  CHECK(ok);
  run_clear(&r);
  g_free(desc);
}

static void test_errors(void) {
  char *m = model_path("classifier.onnx"), *not_image = model_path("not_image.onnx");
  char *file = tmp_path("a-file"), *cache = tmp_path("e.cache");
  g_file_set_contents(file, "x", 1, NULL);
  char *p;
  expect_error(p = g_strdup_printf("calibration-cache=%s", cache), "property model"), g_free(p);
  expect_error(p = g_strdup_printf("model=%s", m), "calibration-cache"), g_free(p);
  expect_error(p = g_strdup_printf("model=%s calibration-cache=%s/x.cache", m, file),
               "calibration-cache"), g_free(p);
  expect_error(p = g_strdup_printf("model=%s calibration-cache=%s", m, tmp_dir),
               "calibration-cache"), g_free(p);
  expect_error(p = g_strdup_printf("model=%s calibration-cache=%s engine-cache=%s/sub/x.plan", m,
                                   cache, file), "engine-cache"), g_free(p);
  expect_error(p = g_strdup_printf("model=%s/missing.onnx calibration-cache=%s", tmp_dir, cache),
               "property model"), g_free(p);
  expect_error(p = g_strdup_printf("model=%s calibration-cache=%s", not_image, cache),
               "property model"), g_free(p);
  expect_error(p = g_strdup_printf("model=%s calibration-cache=%s std=0,1,1", m, cache),
               "property std"), g_free(p);
  expect_error(p = g_strdup_printf("model=%s calibration-cache=%s batch-size=4 max-frames=0", m,
                                   cache), "no frames to calibrate on"), g_free(p);
  CHECK(!g_file_test(cache, G_FILE_TEST_EXISTS));
  g_free(m), g_free(not_image), g_free(file), g_free(cache);
}

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  if (argc < 2) {
    fprintf(stderr, "usage: %s MODELS_DIR\n", argv[0]);
    return 2;
  }
  models_dir = argv[1];
  GstElementFactory *factory = gst_element_factory_find("infercalib");
  if (!factory) {
    fprintf(stderr, "the infercalib element is not found (GST_PLUGIN_PATH)\n");
    return 1;
  }
  gst_object_unref(factory);
  tmp_dir = g_dir_make_tmp("infercalib-XXXXXX", NULL);
  RUN(test_properties());
  RUN(test_passthrough_interval());
  RUN(test_offline_equal());
  RUN(test_int8_plan());
  RUN(test_pipeline());
  RUN(test_errors());
  remove_tree(tmp_dir);
  g_free(tmp_dir);
  TEST_MAIN_END("infercalib");
}
