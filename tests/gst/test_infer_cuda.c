/* The infer element on the GPU (backend=cuda) against the same element on
 * the CPU (backend=cpu), with GstHarness, on the models of
 * make_element_models.py (argv[1] is their folder): frames of every format
 * and odd sizes uploaded from system memory, frames in CUDA memory through
 * cudaupload (used in place), letterboxed detections, secondary (roi)
 * classification, batches with EOS, device-id. Exits 77 without a CUDA
 * device.
 *
 * Same outputs means: the same classes and objects, confidences within
 * 5e-3 (the GPU engine runs FP32 layers with TF32 products, a 10-bit
 * mantissa; preprocessing itself is bit-exact, see
 * tests/gpu/test_cuda_preprocess.c), boxes within 1 frame pixel. */
#include <cuda_runtime_api.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>

#include "../unit/test_util.h"
#include "element_test_util.h"

#define RED 0xff0000
#define GREEN 0x00ff00
#define BLUE 0x0000ff
#define WHITE 0xffffff

#define CONF_TOL 5e-3

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

/* A frame of a videotestsrc pattern (smpte, ball, ...): uneven content. */
static GstBuffer *make_pattern(const char *format, int w, int h, const char *pattern,
                               GstClockTime pts) {
  char *desc = g_strdup_printf("videotestsrc pattern=%s ! capsfilter caps=video/x-raw,format=%s,"
                               "width=%d,height=%d,framerate=30/1",
                               pattern, format, w, h);
  GstHarness *src = gst_harness_new_parse(desc);
  g_free(desc);
  gst_harness_play(src);
  GstBuffer *buf = gst_buffer_make_writable(gst_harness_pull(src));
  gst_harness_teardown(src);
  GST_BUFFER_PTS(buf) = pts;
  GST_BUFFER_DURATION(buf) = GST_SECOND / 30;
  return buf;
}

/* Runs `frames` (not consumed) through "[pre !] infer model=M backend=B
 * extra" with EOS; out[] receives the n outputs (or NULL). Returns the
 * caps that reached the harness's sink (unref) when `caps` is set. */
static void run(const char *pre, const char *model, const char *backend, const char *extra,
                const char *format, int w, int h, GstBuffer **frames, int n, GstBuffer **out,
                GstCaps **caps) {
  char *m = model_path(model);
  GstHarness *hs = harness("%s%sinfer model=%s backend=%s %s", pre ? pre : "", pre ? " ! " : "",
                           m, backend, extra);
  g_free(m);
  set_caps(hs, format, w, h);
  for (int i = 0; i < n; i++) gst_harness_push(hs, gst_buffer_ref(frames[i]));
  gst_harness_push_event(hs, gst_event_new_eos());
  for (int i = 0; i < n; i++) out[i] = pull(hs);
  CHECK(wait_for_event(hs, GST_EVENT_EOS, 5000));
  if (caps) *caps = gst_pad_get_current_caps(hs->sinkpad);
  gst_harness_teardown(hs);
}

/* ---- comparing outputs ------------------------------------------------------------------- */

static void compare_classes(GstBuffer *gpu, GstBuffer *cpu, const char *what) {
  float cg = 0, cc = 0;
  int a = top_class(gpu, &cg), b = top_class(cpu, &cc);
  if (a != b || fabs(cg - cc) > CONF_TOL)
    fprintf(stderr, "%s: gpu class %d (%.5f), cpu class %d (%.5f)\n", what, a, cg, b, cc);
  CHECK(a == b);
  CHECK_NEAR(cg, cc, CONF_TOL);
}

static void compare_objects(GstBuffer *gpu, GstBuffer *cpu, int W, int H, const char *what) {
  InferDetectionMeta *g = gpu ? infer_buffer_get_detection_meta(gpu) : NULL;
  InferDetectionMeta *c = cpu ? infer_buffer_get_detection_meta(cpu) : NULL;
  guint ng = g ? g->objects->len : 0, nc = c ? c->objects->len : 0;
  if (ng != nc) fprintf(stderr, "%s: gpu %u objects, cpu %u\n", what, ng, nc);
  CHECK(ng == nc);
  for (guint i = 0; i < ng && i < nc; i++) {
    InferObject *a = &g_array_index(g->objects, InferObject, i);
    InferObject *b = &g_array_index(c->objects, InferObject, i);
    CHECK(a->label_id == b->label_id);
    CHECK_NEAR(a->confidence, b->confidence, CONF_TOL);
    CHECK_NEAR(a->x_min * W, b->x_min * W, 1.0);
    CHECK_NEAR(a->y_min * H, b->y_min * H, 1.0);
    CHECK_NEAR(a->x_max * W, b->x_max * W, 1.0);
    CHECK_NEAR(a->y_max * H, b->y_max * H, 1.0);
    int ca = a->classes && a->classes->len ? g_array_index(a->classes, InferClassLabel, 0).label_id
                                           : -1;
    int cb = b->classes && b->classes->len ? g_array_index(b->classes, InferClassLabel, 0).label_id
                                           : -1;
    CHECK(ca == cb);
  }
}

static void unref_all(GstBuffer **b, int n) {
  for (int i = 0; i < n; i++)
    if (b[i]) gst_buffer_unref(b[i]);
}

/* The same frames through the CPU and the GPU element; compares each output. */
static void same_as_cpu(const char *pre, const char *model, const char *extra, const char *format,
                        int w, int h, GstBuffer **frames, int n, gboolean detector) {
  GstBuffer *cpu[16] = {0}, *gpu[16] = {0};
  run(NULL, model, "cpu", extra, format, w, h, frames, n, cpu, NULL);
  run(pre, model, "cuda", extra, format, w, h, frames, n, gpu, NULL);
  for (int i = 0; i < n; i++) {
    char what[160];
    snprintf(what, sizeof what, "%s %s %dx%d [%s] frame %d", model, format, w, h, extra, i);
    CHECK(gpu[i] != NULL && cpu[i] != NULL);
    if (detector)
      compare_objects(gpu[i], cpu[i], w, h, what);
    else
      compare_classes(gpu[i], cpu[i], what);
  }
  unref_all(cpu, n);
  unref_all(gpu, n);
}

/* ---- the cases --------------------------------------------------------------------------- */

static const char *formats[] = {"NV12", "I420", "RGBA", "BGRA", "RGBx", "BGRx", "RGB", "BGR",
                                "GRAY8"};

/* Every format, odd sizes, solid colours and patterns, several settings. */
static void test_formats(void) {
  const char *settings[] = {"", "input-order=bgr", "keep-aspect-ratio=false",
                            "interpolation=nearest batch-size=3"};
  for (size_t f = 0; f < G_N_ELEMENTS(formats); f++) {
    int w = 67 + 2 * (int)f, h = 45 + (int)f;
    GstBuffer *frames[5] = {make_frame(formats[f], w, h, RED, 0),
                            make_frame(formats[f], w, h, GREEN, GST_MSECOND),
                            make_frame(formats[f], w, h, BLUE, 2 * GST_MSECOND),
                            make_pattern(formats[f], w, h, "smpte", 3 * GST_MSECOND),
                            make_pattern(formats[f], w, h, "ball", 4 * GST_MSECOND)};
    for (size_t s = 0; s < G_N_ELEMENTS(settings); s++)
      same_as_cpu(NULL, "classifier.onnx", settings[s], formats[f], w, h, frames, 5, FALSE);
    unref_all(frames, 5);
  }
  /* the NHWC model */
  GstBuffer *fr[2] = {make_frame("RGB", 33, 31, GREEN, 0), make_pattern("RGB", 33, 31, "smpte", 1)};
  same_as_cpu(NULL, "classifier_nhwc.onnx", "", "RGB", 33, 31, fr, 2, FALSE);
  unref_all(fr, 2);
}

/* Letterboxed detections on 1280x720 and an odd size, both paddings. */
static void test_detector(void) {
  /* the GPU decodes the detections (with the raw outputs downloaded too
     for output-tensors=true): still the CPU's objects */
  const char *settings[] = {"", "padding=bottom-right", "keep-aspect-ratio=false",
                            "pad-value=0 mean=0.5,0.5,0.5 std=0.5,0.5,0.5",
                            "output-tensors=true batch-size=2",
                            "threshold=0 nms-iou=0.01 top-k=1 batch-size=3"};
  const char *fmts[] = {"NV12", "RGB"};
  const int sizes[][2] = {{1280, 720}, {301, 199}};
  for (int f = 0; f < 2; f++)
    for (int z = 0; z < 2; z++) {
      int w = sizes[z][0], h = sizes[z][1];
      GstBuffer *frames[3] = {make_frame(fmts[f], w, h, WHITE, 0),
                              make_pattern(fmts[f], w, h, "white", GST_MSECOND),
                              make_pattern(fmts[f], w, h, "smpte", 2 * GST_MSECOND)};
      for (size_t s = 0; s < G_N_ELEMENTS(settings); s++)
        same_as_cpu(NULL, "detector.onnx", settings[s], fmts[f], w, h, frames, 3, TRUE);
      /* not only equal: the bright frame has both boxes */
      GstBuffer *out[3] = {0};
      run(NULL, "detector.onnx", "cuda", "", fmts[f], w, h, frames, 3, out, NULL);
      CHECK(n_objects(out[0]) == 2 && object_of_class(out[0], 0) && object_of_class(out[0], 1));
      unref_all(out, 3);
      /* output-tensors=true: the raw output [1, 2, 6] comes along */
      run(NULL, "detector.onnx", "cuda", "output-tensors=true", fmts[f], w, h, frames, 3, out,
          NULL);
      gpointer state = NULL;
      InferTensorMeta *t = out[0] ? infer_buffer_iterate_tensor_meta(out[0], &state) : NULL;
      CHECK(t && t->rank == 3 && t->dims[0] == 1 && t->dims[1] == 2 && t->dims[2] == 6 &&
            t->size == 48);
      CHECK(n_objects(out[0]) == 2);
      unref_all(out, 3);
      unref_all(frames, 3);
    }
}

/* Secondary classification of upstream objects (ROI crops, one upload). */
static void test_roi(void) {
  GstBuffer *b = make_split_frame(128, 64, RED, BLUE);
  InferDetectionMeta *dm = infer_buffer_add_detection_meta(b, "upstream");
  infer_detection_meta_add_object(dm, b, 0.0, 0.0, 0.5, 1.0, 0.9f, 0, "car", 128, 64);
  infer_detection_meta_add_object(dm, b, 0.5, 0.0, 1.0, 1.0, 0.8f, 2, "bus", 128, 64);
  infer_detection_meta_add_object(dm, b, 0.6, 0.2, 0.65, 0.25, 0.7f, 2, "bus", 128, 64);
  infer_detection_meta_add_object(dm, b, 0.41, 0.13, 0.77, 0.91, 0.6f, 1, "van", 128, 64);
  GstBuffer *frames[1] = {b};
  same_as_cpu(NULL, "classifier.onnx", "process-mode=roi", "RGB", 128, 64, frames, 1, TRUE);
  same_as_cpu(NULL, "classifier.onnx", "process-mode=roi batch-size=3", "RGB", 128, 64, frames, 1,
              TRUE);
  gst_buffer_unref(b);
}

/* Batches (full, partial at EOS) give the batch-1 CPU results, in order. */
static void test_batches(void) {
  GstBuffer *frames[11];
  const guint32 colours[3] = {RED, GREEN, BLUE};
  for (int i = 0; i < 11; i++)
    frames[i] = i % 4 == 3 ? make_pattern("NV12", 97, 61, "smpte", i * GST_MSECOND)
                           : make_frame("NV12", 97, 61, colours[i % 3], i * GST_MSECOND);
  GstBuffer *cpu[11] = {0}, *gpu[11] = {0};
  run(NULL, "classifier.onnx", "cpu", "batch-size=1", "NV12", 97, 61, frames, 11, cpu, NULL);
  const char *settings[] = {"batch-size=4", "batch-size=4 max-frames-in-flight=2",
                            "batch-size=8 batch-timeout=5000", "batch-size=2 interval=1"};
  for (size_t s = 0; s < G_N_ELEMENTS(settings); s++) {
    run(NULL, "classifier.onnx", "cuda", settings[s], "NV12", 97, 61, frames, 11, gpu, NULL);
    for (int i = 0; i < 11; i++) {
      CHECK(gpu[i] && GST_BUFFER_PTS(gpu[i]) == (GstClockTime)(i * GST_MSECOND));
      char what[96];
      snprintf(what, sizeof what, "[%s] frame %d", settings[s], i);
      if (strstr(settings[s], "interval=1") && i % 2 == 1)
        CHECK(top_class(gpu[i], NULL) == -1); /* not inferred */
      else
        compare_classes(gpu[i], cpu[i], what);
    }
    unref_all(gpu, 11);
  }
  unref_all(cpu, 11);
  unref_all(frames, 11);
}

/* How frames reached the GPU, from the element's log line (once per start). */
static gint in_place_runs, upload_runs;

static void watch_log(GstDebugCategory *cat, GstDebugLevel level, const gchar *file,
                      const gchar *function, gint line, GObject *object, GstDebugMessage *message,
                      gpointer user) {
  (void)level, (void)file, (void)function, (void)line, (void)object, (void)user;
  if (strcmp(gst_debug_category_get_name(cat), "infer") != 0) return;
  const gchar *text = gst_debug_message_get(message);
  if (strstr(text, "reach the GPU in place")) g_atomic_int_inc(&in_place_runs);
  if (strstr(text, "reach the GPU through one upload")) g_atomic_int_inc(&upload_runs);
}

/* Frames in CUDA memory from cudaupload: negotiated as memory:CUDAMemory,
 * read in place (cudaupload allocated in the element's context), the CPU's
 * results. */
static void test_cuda_memory(void) {
  GstElementFactory *up = gst_element_factory_find("cudaupload");
  if (!up) {
    printf("  (no cudaupload element: CUDA memory input not tested)\n");
    return;
  }
  gst_object_unref(up);
  gst_debug_set_threshold_for_name("infer", GST_LEVEL_INFO);
  gst_debug_remove_log_function(gst_debug_log_default);
  gst_debug_add_log_function(watch_log, NULL, NULL);
  const char *fmts[] = {"NV12", "I420", "RGBA", "BGRx"};
  for (size_t f = 0; f < G_N_ELEMENTS(fmts); f++) {
    /* 1080p and sizes whose rows the CUDA pool pads to its pitch */
    int w = 1920 - 6 * (int)f, h = 1080 - 2 * (int)f;
    GstBuffer *frames[3] = {make_frame(fmts[f], w, h, BLUE, 0),
                            make_pattern(fmts[f], w, h, "smpte", GST_MSECOND),
                            make_pattern(fmts[f], w, h, "ball", 2 * GST_MSECOND)};
    GstBuffer *cpu[3] = {0}, *gpu[3] = {0}, *det_c[3] = {0}, *det_g[3] = {0};
    GstCaps *caps = NULL;
    run(NULL, "classifier.onnx", "cpu", "batch-size=2", fmts[f], w, h, frames, 3, cpu, NULL);
    run("cudaupload", "classifier.onnx", "cuda", "batch-size=2", fmts[f], w, h, frames, 3, gpu,
        &caps);
    CHECK(caps && gst_caps_features_contains(gst_caps_get_features(caps, 0), "memory:CUDAMemory"));
    if (caps) gst_caps_unref(caps);
    run(NULL, "detector.onnx", "cpu", "", fmts[f], w, h, frames, 3, det_c, NULL);
    run("cudaupload", "detector.onnx", "cuda", "", fmts[f], w, h, frames, 3, det_g, NULL);
    for (int i = 0; i < 3; i++) {
      char what[96];
      snprintf(what, sizeof what, "cuda memory %s %dx%d frame %d", fmts[f], w, h, i);
      compare_classes(gpu[i], cpu[i], what);
      compare_objects(det_g[i], det_c[i], w, h, what);
    }
    unref_all(cpu, 3), unref_all(gpu, 3), unref_all(det_c, 3), unref_all(det_g, 3);
    unref_all(frames, 3);
  }
  gst_debug_remove_log_function(watch_log);
  gst_debug_add_log_function(gst_debug_log_default, NULL, NULL);
  gst_debug_unset_threshold_for_name("infer");
  printf("  cuda memory: %d runs read frames in place, %d uploaded them\n", in_place_runs,
         upload_runs);
  CHECK(in_place_runs == 2 * (int)G_N_ELEMENTS(fmts) && upload_runs == 0);
}

/* device-id: a missing device is a readable error; each device has its own plan. */
static void test_device_id(const char *tmp) {
  int n = 0;
  cudaGetDeviceCount(&n);
  char *m = model_path("classifier.onnx");
  char *desc = g_strdup_printf("videotestsrc num-buffers=2 ! video/x-raw,width=64,height=48 ! "
                               "infer model=%s backend=cuda device-id=%d ! fakesink",
                               m, n);
  PipelineRun r;
  run_pipeline(desc, NULL, &r);
  CHECK(r.error != NULL && strstr(r.error->message, "device-id") != NULL);
  if (r.error) printf("  device-id=%d: %s\n", n, r.error->message);
  run_clear(&r);
  g_free(desc);
  char *cache = g_build_filename(tmp, "plans", NULL);
  for (int d = 0; d < MIN(n, 2); d++) {
    desc = g_strdup_printf("videotestsrc num-buffers=2 ! video/x-raw,width=64,height=48 ! "
                           "infer model=%s backend=cuda device-id=%d engine-cache=%s/ ! "
                           "fakesink name=check0",
                           m, d, cache);
    run_pipeline(desc, "infer-build", &r);
    CHECK(r.error == NULL && r.probes[0].buffers == 2);
    CHECK(strcmp(build_status(&r, NULL), "built") == 0);
    run_clear(&r);
    g_free(desc);
  }
  GDir *dir = g_dir_open(cache, 0, NULL);
  int plans = 0;
  while (dir && g_dir_read_name(dir)) plans++;
  if (dir) g_dir_close(dir);
  CHECK(plans == MIN(n, 2));
  g_free(cache);
  g_free(m);
}

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  if (argc < 2) {
    fprintf(stderr, "usage: %s MODELS_DIR\n", argv[0]);
    return 2;
  }
  models_dir = argv[1];
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) {
    printf("infer_cuda: skipped: no CUDA device\n");
    return 77;
  }
  GstElementFactory *factory = gst_element_factory_find("infer");
  if (!factory) {
    fprintf(stderr, "the infer element is not found (GST_PLUGIN_PATH)\n");
    return 1;
  }
  gst_object_unref(factory);
  char *tmp = g_dir_make_tmp("infer-cuda-XXXXXX", NULL);
  RUN(test_formats());
  RUN(test_detector());
  RUN(test_roi());
  RUN(test_batches());
  RUN(test_cuda_memory());
  RUN(test_device_id(tmp));
  remove_tree(tmp);
  g_free(tmp);
  TEST_MAIN_END("infer_cuda");
}
