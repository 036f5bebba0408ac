/* Decoding of model outputs: classification (softmax, threshold, top-k),
 * detector format guessing, YOLOv8 (plain and transposed), YOLOv5, SSD and
 * NMS-inside outputs, NMS (per class and class-agnostic, against a numpy
 * fixture and a brute-force reference), letterbox mapping, F16 input and
 * malformed inputs.
 *
 * Usage: test_decode [path/to/decode_nms_fixture.txt] (default: next to
 * this source file, or $INFER_DECODE_NMS_FIXTURE). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "test_util.h"

static InferTensorView view(InferDType dt, void *data, int rank, const int64_t *dims) {
  InferTensorView v;
  v.dtype = dt;
  v.shape = infer_shape_make(rank, dims);
  v.data = data;
  return v;
}

static InferTensorView view_f32(float *data, int rank, const int64_t *dims) {
  return view(INFER_DTYPE_F32, data, rank, dims);
}

static InferNamedTensor named(const char *name, InferTensorView v) {
  InferNamedTensor t;
  t.name = name;
  t.view = v;
  return t;
}

static InferDetectorParams det_params(void) {
  InferDetectorParams p;
  memset(&p, 0, sizeof p);
  p.format = INFER_DET_AUTO;
  p.box_format = INFER_BOX_AUTO;
  p.confidence_threshold = 0.5f;
  p.nms_iou = 0.5f;
  p.class_agnostic_nms = false;
  p.top_k = 0;
  p.max_candidates = 0;
  return p;
}

static InferDetection box(float x0, float y0, float x1, float y1, float conf, int cls) {
  InferDetection d = {x0, y0, x1, y1, conf, cls};
  return d;
}

static bool same_box(const InferDetection *d, float x0, float y0, float x1, float y1, float tol) {
  return fabsf(d->x_min - x0) <= tol && fabsf(d->y_min - y0) <= tol &&
         fabsf(d->x_max - x1) <= tol && fabsf(d->y_max - y1) <= tol;
}

/* ---------------------------------------------------------------- classify */

static void test_classify_basic(void) {
  float s[10] = {0.1f, 0.5f, 0.2f, 0.5f, 0.05f, 0.9f, 0.0f, 0.0f, 0.0f, 0.3f};
  int64_t dims[2] = {2, 5};
  InferTensorView v = view_f32(s, 2, dims);
  InferClassifierParams p = {false, 0.15f, 3};
  InferClassification out[8];
  int n = -1;
  CHECK_OK(infer_decode_classification(&v, 0, &p, out, 8, &n));
  CHECK(n == 3);
  if (n == 3) {
    /* equal confidences: lower class id first */
    CHECK(out[0].class_id == 1 && out[0].confidence == 0.5f);
    CHECK(out[1].class_id == 3 && out[1].confidence == 0.5f);
    CHECK(out[2].class_id == 2 && out[2].confidence == 0.2f);
  }
  /* threshold 0 keeps zeros; top_k larger than C */
  p.threshold = 0.0f;
  p.top_k = 10;
  CHECK_OK(infer_decode_classification(&v, 1, &p, out, 8, &n));
  CHECK(n == 5);
  if (n == 5) {
    CHECK(out[0].class_id == 0 && out[1].class_id == 4 && out[2].class_id == 1 &&
          out[3].class_id == 2 && out[4].class_id == 3);
  }
  /* max_out smaller than top_k */
  CHECK_OK(infer_decode_classification(&v, 1, &p, out, 2, &n));
  CHECK(n == 2 && out[0].class_id == 0 && out[1].class_id == 4);
  /* max_out 0: nothing, no error */
  CHECK_OK(infer_decode_classification(&v, 1, &p, NULL, 0, &n));
  CHECK(n == 0);
  /* high threshold: nothing */
  p.threshold = 0.95f;
  CHECK_OK(infer_decode_classification(&v, 1, &p, out, 8, &n));
  CHECK(n == 0);
  /* threshold is inclusive */
  p.threshold = 0.9f;
  CHECK_OK(infer_decode_classification(&v, 1, &p, out, 8, &n));
  CHECK(n == 1 && out[0].class_id == 0);
}

static void test_classify_shapes_nan(void) {
  /* [2, 4, 1, 1] with a NaN, batch item 1 */
  float s[8] = {0, 0, 0, 0, 0.3f, NAN, 0.7f, 0.1f};
  int64_t dims[4] = {2, 4, 1, 1};
  InferTensorView v = view_f32(s, 4, dims);
  InferClassifierParams p = {false, 0.0f, 5};
  InferClassification out[5];
  int n = -1;
  CHECK_OK(infer_decode_classification(&v, 1, &p, out, 5, &n));
  CHECK(n == 3);
  if (n == 3) CHECK(out[0].class_id == 2 && out[1].class_id == 0 && out[2].class_id == 3);

  /* softmax ignores NaN logits */
  p.apply_softmax = true;
  CHECK_OK(infer_decode_classification(&v, 1, &p, out, 5, &n));
  CHECK(n == 3);
  if (n == 3) {
    double e0 = exp(0.3), e2 = exp(0.7), e3 = exp(0.1), sum = e0 + e2 + e3;
    CHECK(out[0].class_id == 2);
    CHECK_NEAR(out[0].confidence, e2 / sum, 1e-6);
    CHECK_NEAR(out[1].confidence, e0 / sum, 1e-6);
    CHECK_NEAR(out[2].confidence, e3 / sum, 1e-6);
  }
}

static void test_classify_softmax(void) {
  float logits[4] = {1.0f, 2.0f, 3.0f, 0.0f};
  int64_t dims[2] = {1, 4};
  InferTensorView v = view_f32(logits, 2, dims);
  InferClassifierParams p = {true, 0.0f, 4};
  InferClassification out[4];
  int n = 0;
  CHECK_OK(infer_decode_classification(&v, 0, &p, out, 4, &n));
  CHECK(n == 4);
  double sum = exp(1.0) + exp(2.0) + exp(3.0) + exp(0.0);
  if (n == 4) {
    CHECK(out[0].class_id == 2 && out[1].class_id == 1 && out[2].class_id == 0 &&
          out[3].class_id == 3);
    CHECK_NEAR(out[0].confidence, exp(3.0) / sum, 1e-6);
    CHECK_NEAR(out[3].confidence, 1.0 / sum, 1e-6);
    double total = 0;
    for (int i = 0; i < 4; i++) total += out[i].confidence;
    CHECK_NEAR(total, 1.0, 1e-6);
  }
  /* stability with huge logits */
  float big[3] = {1000.0f, 999.0f, -1000.0f};
  int64_t d3[2] = {1, 3};
  v = view_f32(big, 2, d3);
  p.threshold = 0.2f;
  CHECK_OK(infer_decode_classification(&v, 0, &p, out, 4, &n));
  CHECK(n == 2);
  if (n == 2) {
    CHECK(out[0].class_id == 0 && out[1].class_id == 1);
    CHECK_NEAR(out[0].confidence, 1.0 / (1.0 + exp(-1.0)), 1e-6);
    CHECK(!isnan(out[1].confidence));
  }
  /* +inf logits share the probability */
  float inf[3] = {INFINITY, 0.0f, INFINITY};
  v = view_f32(inf, 2, d3);
  p.threshold = 0.0f;
  p.top_k = 3;
  CHECK_OK(infer_decode_classification(&v, 0, &p, out, 4, &n));
  CHECK(n == 3);
  if (n == 3) {
    CHECK(out[0].class_id == 0 && out[0].confidence == 0.5f);
    CHECK(out[1].class_id == 2 && out[1].confidence == 0.5f);
    CHECK(out[2].class_id == 1 && out[2].confidence == 0.0f);
  }
}

/* top_k large (sorted-array path) vs small (insertion path) vs brute force */
static void test_classify_large(void) {
  enum { C = 1000 };
  static float s[C];
  uint32_t st = 12345;
  for (int i = 0; i < C; i++) {
    st = st * 1664525u + 1013904223u;
    s[i] = (float)((st >> 24) % 64) / 64.0f; /* many ties */
  }
  int64_t dims[2] = {1, C};
  InferTensorView v = view_f32(s, 2, dims);
  static InferClassification big[C], small[C];
  int nb = 0, ns = 0;
  InferClassifierParams p = {false, 0.25f, 300};
  CHECK_OK(infer_decode_classification(&v, 0, &p, big, C, &nb));
  p.top_k = 40;
  CHECK_OK(infer_decode_classification(&v, 0, &p, small, C, &ns));
  /* brute force: repeatedly take the best remaining (lowest id on ties) */
  static bool taken[C];
  memset(taken, 0, sizeof taken);
  int expected = 0;
  bool ok = true;
  for (int r = 0; r < 300; r++) {
    int best = -1;
    for (int i = 0; i < C; i++)
      if (!taken[i] && s[i] >= 0.25f && (best < 0 || s[i] > s[best])) best = i;
    if (best < 0) break;
    taken[best] = true;
    if (r >= nb || big[r].class_id != best || big[r].confidence != s[best]) ok = false;
    if (r < 40 && (r >= ns || small[r].class_id != best)) ok = false;
    expected++;
  }
  CHECK(nb == expected);
  CHECK(ns == (expected < 40 ? expected : 40));
  CHECK(ok);
}

static void test_classify_f16_errors(void) {
  uint16_t h[4] = {infer_float_to_half(0.25f), infer_float_to_half(0.75f),
                   infer_float_to_half(0.5f), infer_float_to_half(-1.0f)};
  int64_t dims[2] = {1, 4};
  InferTensorView v = view(INFER_DTYPE_F16, h, 2, dims);
  InferClassifierParams p = {false, 0.3f, 5};
  InferClassification out[4];
  int n = 0;
  CHECK_OK(infer_decode_classification(&v, 0, &p, out, 4, &n));
  CHECK(n == 2 && out[0].class_id == 1 && out[0].confidence == 0.75f && out[1].class_id == 2);

  char msg[512];
  int32_t ints[4] = {0};
  InferTensorView vi = view(INFER_DTYPE_I32, ints, 2, dims);
  CHECK_FAILS(infer_decode_classification(&vi, 0, &p, out, 4, &n), INFER_ERR_UNSUPPORTED, msg);
  CHECK(strstr(msg, "i32") != NULL);
  CHECK(n == 0);
  float f[4 * 49] = {0};
  int64_t d4[4] = {1, 4, 7, 7};
  InferTensorView vs = view_f32(f, 4, d4);
  CHECK_FAILS(infer_decode_classification(&vs, 0, &p, out, 4, &n), INFER_ERR_UNSUPPORTED, msg);
  CHECK(strstr(msg, "[1,4,7,7]") != NULL);
  int64_t d1[1] = {4};
  InferTensorView v1 = view_f32(f, 1, d1);
  CHECK_FAILS(infer_decode_classification(&v1, 0, &p, out, 4, &n), INFER_ERR_UNSUPPORTED, NULL);
  InferTensorView vf = view_f32(f, 2, dims);
  CHECK_FAILS(infer_decode_classification(&vf, 1, &p, out, 4, &n), INFER_ERR_INVALID_ARGUMENT,
              NULL);
  CHECK_FAILS(infer_decode_classification(&vf, -1, &p, out, 4, &n), INFER_ERR_INVALID_ARGUMENT,
              NULL);
  p.top_k = 0;
  CHECK_FAILS(infer_decode_classification(&vf, 0, &p, out, 4, &n), INFER_ERR_INVALID_ARGUMENT,
              NULL);
  p.top_k = 1;
  int64_t dq[2] = {1, -1};
  InferTensorView vq = view_f32(f, 2, dq);
  CHECK_FAILS(infer_decode_classification(&vq, 0, &p, out, 4, &n), INFER_ERR_INVALID_ARGUMENT,
              NULL);
  InferTensorView vn = view_f32(NULL, 2, dims);
  CHECK_FAILS(infer_decode_classification(&vn, 0, &p, out, 4, &n), INFER_ERR_INVALID_ARGUMENT,
              NULL);
  CHECK_FAILS(infer_decode_classification(&vf, 0, &p, NULL, 4, &n), INFER_ERR_INVALID_ARGUMENT,
              NULL);
}

/* ------------------------------------------------------------- format guess */

static void test_guess(void) {
  static float buf[4096];
  InferDetectorFormat f = INFER_DET_AUTO;
  char msg[1024];

  int64_t v8[3] = {1, 10, 7}, v8t[3] = {1, 7, 10};
  InferNamedTensor o = named("output0", view_f32(buf, 3, v8));
  CHECK_OK(infer_detector_format_guess(&o, 1, &f));
  CHECK(f == INFER_DET_YOLOV8);
  o = named("output0", view_f32(buf, 3, v8t));
  CHECK_OK(infer_detector_format_guess(&o, 1, &f));
  CHECK(f == INFER_DET_YOLOV8);
  o = named("detections", view_f32(buf, 3, v8));
  CHECK_OK(infer_detector_format_guess(&o, 1, &f));
  CHECK(f == INFER_DET_YOLOV8);
  o = named("yolov5s_output", view_f32(buf, 3, v8));
  CHECK_OK(infer_detector_format_guess(&o, 1, &f));
  CHECK(f == INFER_DET_YOLOV5);
  o = named("yolov8n_out", view_f32(buf, 3, v8));
  CHECK_OK(infer_detector_format_guess(&o, 1, &f));
  CHECK(f == INFER_DET_YOLOV8);

  /* SSD by names, in either order, and by shapes */
  int64_t bx[3] = {1, 10, 4}, sc[3] = {1, 10, 3};
  InferNamedTensor ssd[2] = {named("boxes", view_f32(buf, 3, bx)),
                             named("scores", view_f32(buf, 3, sc))};
  CHECK_OK(infer_detector_format_guess(ssd, 2, &f));
  CHECK(f == INFER_DET_SSD);
  InferNamedTensor ssd_r[2] = {named("confidences", view_f32(buf, 3, sc)),
                               named("locations", view_f32(buf, 3, bx))};
  CHECK_OK(infer_detector_format_guess(ssd_r, 2, &f));
  CHECK(f == INFER_DET_SSD);
  InferNamedTensor ssd_a[2] = {named("a", view_f32(buf, 3, sc)), named("b", view_f32(buf, 3, bx))};
  CHECK_OK(infer_detector_format_guess(ssd_a, 2, &f));
  CHECK(f == INFER_DET_SSD);

  /* NMS inside (EfficientNMS names, shuffled) */
  int64_t nd[2] = {1, 1}, db[3] = {1, 5, 4}, ds[2] = {1, 5};
  InferNamedTensor nms[4] = {named("det_scores", view_f32(buf, 2, ds)),
                             named("det_boxes", view_f32(buf, 3, db)),
                             named("det_classes", view(INFER_DTYPE_I32, buf, 2, ds)),
                             named("num_dets", view(INFER_DTYPE_I32, buf, 2, nd))};
  CHECK_OK(infer_detector_format_guess(nms, 4, &f));
  CHECK(f == INFER_DET_NMS_INSIDE);
  /* TF names, num_detections [N] */
  int64_t n1[1] = {1};
  InferNamedTensor tf[4] = {named("detection_boxes", view_f32(buf, 3, db)),
                            named("detection_classes", view_f32(buf, 2, ds)),
                            named("detection_scores", view_f32(buf, 2, ds)),
                            named("num_detections", view_f32(buf, 1, n1))};
  CHECK_OK(infer_detector_format_guess(tf, 4, &f));
  CHECK(f == INFER_DET_NMS_INSIDE);
  /* inconsistent K: not NMS inside, and nothing else fits either */
  int64_t ds6[2] = {1, 6};
  tf[2] = named("detection_scores", view_f32(buf, 2, ds6));
  CHECK_FAILS(infer_detector_format_guess(tf, 4, &f), INFER_ERR_UNSUPPORTED, msg);
  CHECK(strstr(msg, "'detection_scores' [1,6]") != NULL);

  /* errors list names and shapes */
  int64_t cls[2] = {1, 10};
  o = named("logits", view_f32(buf, 2, cls));
  CHECK_FAILS(infer_detector_format_guess(&o, 1, &f), INFER_ERR_UNSUPPORTED, msg);
  CHECK(strstr(msg, "'logits' [1,10]") != NULL);
  o = named("foo", view_f32(buf, 3, bx)); /* [1,10,4]: too few channels */
  CHECK_FAILS(infer_detector_format_guess(&o, 1, &f), INFER_ERR_UNSUPPORTED, msg);
  CHECK(strstr(msg, "'foo' [1,10,4]") != NULL);
  int64_t dyn[3] = {1, -1, 84};
  o = named("dyn", view_f32(buf, 3, dyn));
  CHECK_FAILS(infer_detector_format_guess(&o, 1, &f), INFER_ERR_UNSUPPORTED, msg);
  CHECK(strstr(msg, "[1,?,84]") != NULL);
  InferNamedTensor bad = named(NULL, view_f32(buf, 3, v8));
  bad.view.shape.rank = 99; /* garbage rank: must not be read past */
  CHECK_FAILS(infer_detector_format_guess(&bad, 1, &f), INFER_ERR_UNSUPPORTED, msg);
  CHECK(strstr(msg, "rank 99") != NULL);
  CHECK_FAILS(infer_detector_format_guess(NULL, 0, &f), INFER_ERR_INVALID_ARGUMENT, NULL);
  CHECK_FAILS(infer_detector_format_guess(&o, 1, NULL), INFER_ERR_INVALID_ARGUMENT, NULL);
}

/* ------------------------------------------------------------------ YOLOv8 */

enum { V8_A = 8, V8_CH = 6 };
/* x0 y0 x1 y1 c0 c1 per anchor */
static const float v8_rows[V8_A][V8_CH] = {
    {10, 10, 50, 50, 0.9f, 0.1f},          /* kept, class 0 */
    {12, 12, 52, 52, 0.8f, 0.2f},          /* overlaps anchor 0, class 0 */
    {100, 100, 150, 150, 0.1f, 0.7f},      /* kept, class 1 */
    {0, 0, 5, 5, 0.2f, 0.3f},              /* below threshold */
    {200, 200, 240, 260, NAN, 0.6f},       /* class 1 (class 0 NaN) */
    {NAN, NAN, NAN, NAN, NAN, NAN},        /* skipped */
    {0, 0, 320, 320, 0.0f, 0.0f},          /* below threshold */
    {300, 0, 310, 10, 0.49f, 0.1f},        /* below threshold */
};

static void check_v8_default(const InferDetection *d, int n, const char *what) {
  int failed_before = test_checks_failed;
  CHECK(n == 3);
  if (n != 3) {
    fprintf(stderr, "  (%s: n = %d)\n", what, n);
    return;
  }
  CHECK(same_box(&d[0], 10, 10, 50, 50, 1e-4f) && d[0].class_id == 0);
  CHECK_NEAR(d[0].confidence, 0.9, 1e-6);
  CHECK(same_box(&d[1], 100, 100, 150, 150, 1e-4f) && d[1].class_id == 1);
  CHECK_NEAR(d[1].confidence, 0.7, 1e-6);
  CHECK(same_box(&d[2], 200, 200, 240, 260, 1e-4f) && d[2].class_id == 1);
  CHECK_NEAR(d[2].confidence, 0.6, 1e-6);
  if (test_checks_failed != failed_before) fprintf(stderr, "  (in %s)\n", what);
}

static void test_yolov8(void) {
  float plain[V8_A * V8_CH], trans[V8_CH * V8_A];
  for (int a = 0; a < V8_A; a++)
    for (int c = 0; c < V8_CH; c++) {
      plain[a * V8_CH + c] = v8_rows[a][c];
      trans[c * V8_A + a] = v8_rows[a][c];
    }
  int64_t dp[3] = {1, V8_A, V8_CH}, dt[3] = {1, V8_CH, V8_A};
  InferNamedTensor o = named("output0", view_f32(plain, 3, dp));
  InferDetectorParams p = det_params();
  InferDetection d[16];
  int n = -1;
  CHECK_OK(infer_decode_detections(&o, 1, 0, 320, 320, &p, d, 16, &n));
  check_v8_default(d, n, "v8");

  /* the transposed ultralytics layout gives the same */
  InferNamedTensor ot = named("output0", view_f32(trans, 3, dt));
  CHECK_OK(infer_decode_detections(&ot, 1, 0, 320, 320, &p, d, 16, &n));
  check_v8_default(d, n, "v8 transposed");
  p.format = INFER_DET_YOLOV8;
  CHECK_OK(infer_decode_detections(&ot, 1, 0, 320, 320, &p, d, 16, &n));
  check_v8_default(d, n, "v8 transposed, explicit");
  p.format = INFER_DET_AUTO;

  /* no NMS: the overlapping anchor stays, in confidence order */
  p.nms_iou = 0.0f;
  CHECK_OK(infer_decode_detections(&o, 1, 0, 320, 320, &p, d, 16, &n));
  CHECK(n == 4);
  if (n == 4) CHECK(d[1].confidence == 0.8f && same_box(&d[1], 12, 12, 52, 52, 0));
  p.nms_iou = 0.5f;

  /* top_k and max_out */
  p.top_k = 2;
  CHECK_OK(infer_decode_detections(&o, 1, 0, 320, 320, &p, d, 16, &n));
  CHECK(n == 2 && d[0].class_id == 0 && d[1].class_id == 1 && d[1].confidence == 0.7f);
  p.top_k = 0;
  CHECK_OK(infer_decode_detections(&o, 1, 0, 320, 320, &p, d, 1, &n));
  CHECK(n == 1 && d[0].confidence == 0.9f);

  /* max_candidates: only the 2 best enter NMS, and one suppresses the other */
  p.max_candidates = 2;
  CHECK_OK(infer_decode_detections(&o, 1, 0, 320, 320, &p, d, 16, &n));
  CHECK(n == 1 && d[0].confidence == 0.9f);
  p.max_candidates = 3;
  CHECK_OK(infer_decode_detections(&o, 1, 0, 320, 320, &p, d, 16, &n));
  CHECK(n == 2 && d[1].confidence == 0.7f);
  p.max_candidates = 0;

  /* threshold */
  p.confidence_threshold = 0.65f;
  CHECK_OK(infer_decode_detections(&o, 1, 0, 320, 320, &p, d, 16, &n));
  CHECK(n == 2);
  p.confidence_threshold = 0.95f;
  CHECK_OK(infer_decode_detections(&o, 1, 0, 320, 320, &p, d, 16, &n));
  CHECK(n == 0);
  p.confidence_threshold = 0.5f;

  /* cx,cy,w,h explicitly, and through the output's name */
  float cw[V8_A * V8_CH];
  memcpy(cw, plain, sizeof cw);
  for (int a = 0; a < V8_A; a++) {
    float *r = &cw[a * V8_CH];
    float x0 = r[0], y0 = r[1], x1 = r[2], y1 = r[3];
    r[0] = (x0 + x1) / 2, r[1] = (y0 + y1) / 2, r[2] = x1 - x0, r[3] = y1 - y0;
  }
  InferNamedTensor oc = named("output0", view_f32(cw, 3, dp));
  p.box_format = INFER_BOX_CXCYWH;
  CHECK_OK(infer_decode_detections(&oc, 1, 0, 320, 320, &p, d, 16, &n));
  check_v8_default(d, n, "v8 cxcywh");
  p.box_format = INFER_BOX_AUTO;
  oc.name = "pred_cxcywh";
  CHECK_OK(infer_decode_detections(&oc, 1, 0, 320, 320, &p, d, 16, &n));
  check_v8_default(d, n, "v8 cxcywh by name");

  /* batch item 1 of 2 */
  float two[2 * V8_A * V8_CH];
  for (int i = 0; i < V8_A * V8_CH; i++) two[i] = (i % V8_CH) >= 4 ? 0.0f : 1.0f;
  memcpy(two + V8_A * V8_CH, plain, sizeof plain);
  int64_t d2[3] = {2, V8_A, V8_CH};
  InferNamedTensor ob = named("output0", view_f32(two, 3, d2));
  CHECK_OK(infer_decode_detections(&ob, 1, 1, 320, 320, &p, d, 16, &n));
  check_v8_default(d, n, "v8 batch 1");
  CHECK_OK(infer_decode_detections(&ob, 1, 0, 320, 320, &p, d, 16, &n));
  CHECK(n == 0);
  CHECK_FAILS(infer_decode_detections(&ob, 1, 2, 320, 320, &p, d, 16, &n),
              INFER_ERR_INVALID_ARGUMENT, NULL);
  CHECK(n == 0);

  /* equal confidences, no overlap: lower anchor first */
  float tie[3 * 5] = {100, 0, 110, 10, 0.6f,   /* anchor 0 */
                      0, 0, 10, 10, 0.7f,       /* anchor 1 */
                      50, 0, 60, 10, 0.6f};     /* anchor 2 */
  int64_t dtie[3] = {1, 3, 5};
  InferNamedTensor otie = named("output0", view_f32(tie, 3, dtie));
  CHECK_OK(infer_decode_detections(&otie, 1, 0, 0, 0, &p, d, 16, &n));
  CHECK(n == 3);
  if (n == 3) CHECK(d[0].x_min == 0 && d[1].x_min == 100 && d[2].x_min == 50);
  /* and the same when only 2 candidates may enter */
  p.max_candidates = 2;
  CHECK_OK(infer_decode_detections(&otie, 1, 0, 0, 0, &p, d, 16, &n));
  CHECK(n == 2 && d[0].x_min == 0 && d[1].x_min == 100);
  p.max_candidates = 0;
}

/* class-aware vs class-agnostic NMS, through the decoder and infer_nms */
static void test_nms_classes(void) {
  float rows[2 * 6] = {10, 10, 60, 60, 0.9f, 0.0f,   /* class 0 */
                       12, 12, 62, 62, 0.0f, 0.8f};  /* class 1, IoU ~0.86 */
  int64_t dims[3] = {1, 2, 6};
  InferNamedTensor o = named("output0", view_f32(rows, 3, dims));
  InferDetectorParams p = det_params();
  InferDetection d[4];
  int n = 0;
  CHECK_OK(infer_decode_detections(&o, 1, 0, 100, 100, &p, d, 4, &n));
  CHECK(n == 2 && d[0].class_id == 0 && d[1].class_id == 1);
  p.class_agnostic_nms = true;
  CHECK_OK(infer_decode_detections(&o, 1, 0, 100, 100, &p, d, 4, &n));
  CHECK(n == 1 && d[0].class_id == 0 && d[0].confidence == 0.9f);
  /* IoU just at the threshold does not suppress (strictly greater) */
  p.nms_iou = 0.9f;
  CHECK_OK(infer_decode_detections(&o, 1, 0, 100, 100, &p, d, 4, &n));
  CHECK(n == 2);

  InferDetection a[3] = {box(12, 12, 62, 62, 0.8f, 1), box(10, 10, 60, 60, 0.9f, 0),
                         box(300, 300, 310, 310, NAN, 0)};
  InferDetection b[3];
  memcpy(b, a, sizeof a);
  CHECK(infer_nms(b, 3, 0.5f, false, 0) == 2);
  CHECK(b[0].confidence == 0.9f && b[1].confidence == 0.8f);
  memcpy(b, a, sizeof a);
  CHECK(infer_nms(b, 3, 0.5f, true, 0) == 1);
  CHECK(b[0].class_id == 0);
  memcpy(b, a, sizeof a);
  CHECK(infer_nms(b, 3, 0.0f, true, 0) == 2); /* no NMS: sorted, NaN dropped */
  CHECK(b[0].confidence == 0.9f && b[1].confidence == 0.8f);
  memcpy(b, a, sizeof a);
  CHECK(infer_nms(b, 3, 0.5f, false, 1) == 1);
  CHECK(infer_nms(NULL, 3, 0.5f, false, 0) == 0);
  CHECK(infer_nms(b, 0, 0.5f, false, 0) == 0);
}

static void test_iou(void) {
  InferDetection a = box(0, 0, 10, 10, 1, 0), b = box(5, 0, 15, 10, 1, 0);
  CHECK_NEAR(infer_box_iou(&a, &b), 50.0 / 150.0, 1e-6);
  CHECK(infer_box_iou(&a, &a) == 1.0f);
  InferDetection far = box(20, 20, 30, 30, 1, 0);
  CHECK(infer_box_iou(&a, &far) == 0.0f);
  InferDetection touch = box(10, 0, 20, 10, 1, 0);
  CHECK(infer_box_iou(&a, &touch) == 0.0f);
  InferDetection flat = box(2, 2, 2, 8, 1, 0), neg = box(8, 8, 2, 2, 1, 0);
  CHECK(infer_box_iou(&a, &flat) == 0.0f);
  CHECK(infer_box_iou(&a, &neg) == 0.0f);
  CHECK(infer_box_iou(&neg, &neg) == 0.0f);
  InferDetection nan = box(NAN, 0, 10, 10, 1, 0), inf = box(0, 0, INFINITY, 10, 1, 0);
  CHECK(infer_box_iou(&a, &nan) == 0.0f);
  CHECK(infer_box_iou(&a, &inf) == 0.0f);
  InferDetection huge = box(-3e38f, -3e38f, 3e38f, 3e38f, 1, 0);
  float h = infer_box_iou(&huge, &huge);
  CHECK(h >= 0.0f && h <= 1.0f);
}

/* ------------------------------------------------------------------ YOLOv5 */

static void test_yolov5(void) {
  float rows[3 * 7] = {50, 50, 20, 20, 0.9f, 0.5f, 0.9f,    /* 0.81, class 1 */
                       100, 100, 40, 20, 0.5f, 0.9f, 0.1f,  /* 0.45, class 0 */
                       10, 10, 4, 4, 0.2f, 1.0f, 1.0f};     /* 0.2 */
  int64_t dims[3] = {1, 3, 7};
  InferNamedTensor o = named("output", view_f32(rows, 3, dims));
  InferDetectorFormat f;
  CHECK_OK(infer_detector_format_guess(&o, 1, &f));
  CHECK(f == INFER_DET_YOLOV8); /* by shape alone: v8 */
  InferDetectorParams p = det_params();
  p.format = INFER_DET_YOLOV5;
  p.confidence_threshold = 0.3f;
  InferDetection d[4];
  int n = 0;
  CHECK_OK(infer_decode_detections(&o, 1, 0, 320, 320, &p, d, 4, &n));
  CHECK(n == 2);
  if (n == 2) {
    CHECK(d[0].class_id == 1 && same_box(&d[0], 40, 40, 60, 60, 1e-4f));
    CHECK_NEAR(d[0].confidence, 0.81, 1e-6);
    CHECK(d[1].class_id == 0 && same_box(&d[1], 80, 90, 120, 110, 1e-4f));
    CHECK_NEAR(d[1].confidence, 0.45, 1e-6);
  }
  /* the name can say v5 */
  o.name = "yolov5_output";
  p.format = INFER_DET_AUTO;
  CHECK_OK(infer_decode_detections(&o, 1, 0, 320, 320, &p, d, 4, &n));
  CHECK(n == 2 && d[0].class_id == 1);

  /* [N, A, 5]: objectness only, class 0 */
  float one[2 * 5] = {50, 50, 20, 20, 0.7f, 10, 10, 2, 2, 0.1f};
  int64_t d5[3] = {1, 2, 5};
  InferNamedTensor o5 = named("output", view_f32(one, 3, d5));
  p.format = INFER_DET_YOLOV5;
  CHECK_OK(infer_decode_detections(&o5, 1, 0, 320, 320, &p, d, 4, &n));
  CHECK(n == 1 && d[0].class_id == 0 && d[0].confidence == 0.7f);
}

/* --------------------------------------------------------------------- SSD */

static void test_ssd(void) {
  float boxes[3 * 4] = {0.1f, 0.2f, 0.5f, 0.6f, 0.5f, 0.5f, 0.9f, 0.9f, 0.0f, 0.0f, 0.1f, 0.1f};
  float scores[3 * 3] = {0.1f, 0.7f, 0.2f, 0.8f, 0.1f, 0.1f, 0.3f, 0.3f, 0.3f};
  int64_t db[3] = {1, 3, 4}, ds[3] = {1, 3, 3};
  InferNamedTensor o[2] = {named("scores", view_f32(scores, 3, ds)),
                           named("boxes", view_f32(boxes, 3, db))};
  InferDetectorParams p = det_params();
  p.boxes_normalized = true;
  InferDetection d[4];
  int n = 0;
  CHECK_OK(infer_decode_detections(o, 2, 0, 300, 200, &p, d, 4, &n));
  CHECK(n == 2);
  if (n == 2) {
    /* class 0 ("background" in many SSDs) is reported like any class */
    CHECK(d[0].class_id == 0 && d[0].confidence == 0.8f &&
          same_box(&d[0], 150, 100, 270, 180, 1e-3f));
    CHECK(d[1].class_id == 1 && d[1].confidence == 0.7f &&
          same_box(&d[1], 30, 40, 150, 120, 1e-3f));
  }
  p.boxes_normalized = false;
  p.format = INFER_DET_SSD;
  CHECK_OK(infer_decode_detections(o, 2, 0, 300, 200, &p, d, 4, &n));
  CHECK(n == 2 && same_box(&d[1], 0.1f, 0.2f, 0.5f, 0.6f, 1e-6f));
  p.boxes_normalized = true;
  CHECK_FAILS(infer_decode_detections(o, 2, 0, 0, 200, &p, d, 4, &n), INFER_ERR_INVALID_ARGUMENT,
              NULL);
  /* mismatched anchors: not SSD */
  int64_t ds2[3] = {1, 2, 3};
  InferNamedTensor bad[2] = {named("scores", view_f32(scores, 3, ds2)),
                             named("boxes", view_f32(boxes, 3, db))};
  char msg[1024];
  CHECK_FAILS(infer_decode_detections(bad, 2, 0, 300, 200, &p, d, 4, &n), INFER_ERR_UNSUPPORTED,
              msg);
  CHECK(strstr(msg, "'scores' [1,2,3]") != NULL && strstr(msg, "SSD") != NULL);
  /* unsupported dtype names the output */
  InferNamedTensor i8[2] = {named("scores", view(INFER_DTYPE_I8, scores, 3, ds)),
                            named("boxes", view_f32(boxes, 3, db))};
  CHECK_FAILS(infer_decode_detections(i8, 2, 0, 300, 200, &p, d, 4, &n), INFER_ERR_UNSUPPORTED,
              msg);
  CHECK(strstr(msg, "'scores'") != NULL && strstr(msg, "i8") != NULL);
}

/* ------------------------------------------------------------- NMS inside */

static void test_nms_inside(void) {
  int32_t num[2] = {2, 9};
  float boxes[2 * 4 * 4] = {
      0, 0, 10, 10,  20, 20, 30, 30,  0, 0, 10, 10,  5, 5, 6, 6,      /* item 0 */
      0, 0, 10, 10,  1, 1, 11, 11,  40, 40, 50, 50,  60, 60, 70, 70,  /* item 1 */
  };
  float scores[2 * 4] = {0.6f, 0.9f, 0.99f, 0.99f, 0.9f, 0.8f, 0.7f, 0.95f};
  int32_t classes[2 * 4] = {3, 1, 0, 0, 2, 2, -1, 5};
  int64_t dn[2] = {2, 1}, db[3] = {2, 4, 4}, dk[2] = {2, 4};
  InferNamedTensor o[4] = {named("num_dets", view(INFER_DTYPE_I32, num, 2, dn)),
                           named("det_boxes", view_f32(boxes, 3, db)),
                           named("det_scores", view_f32(scores, 2, dk)),
                           named("det_classes", view(INFER_DTYPE_I32, classes, 2, dk))};
  InferDetectorParams p = det_params();
  p.nms_iou = 0.0f;
  InferDetection d[8];
  int n = 0;
  /* item 0: only num_dets = 2 entries, sorted */
  CHECK_OK(infer_decode_detections(o, 4, 0, 100, 100, &p, d, 8, &n));
  CHECK(n == 2);
  if (n == 2) {
    CHECK(d[0].class_id == 1 && d[0].confidence == 0.9f && same_box(&d[0], 20, 20, 30, 30, 0));
    CHECK(d[1].class_id == 3 && d[1].confidence == 0.6f);
  }
  /* item 1: 9 clamped to 4; class -1 skipped; overlap kept without NMS */
  CHECK_OK(infer_decode_detections(o, 4, 1, 100, 100, &p, d, 8, &n));
  CHECK(n == 3);
  if (n == 3) CHECK(d[0].class_id == 5 && d[1].confidence == 0.9f && d[2].confidence == 0.8f);
  p.nms_iou = 0.5f;
  CHECK_OK(infer_decode_detections(o, 4, 1, 100, 100, &p, d, 8, &n));
  CHECK(n == 2);
  if (n == 2) CHECK(d[0].class_id == 5 && d[1].confidence == 0.9f);
  p.nms_iou = 0.0f;
  p.confidence_threshold = 0.85f;
  CHECK_OK(infer_decode_detections(o, 4, 1, 100, 100, &p, d, 8, &n));
  CHECK(n == 2);

  /* TF style: float classes and num_detections [N], normalized boxes,
   * unmatched names: an explicit format fills the roles by shape */
  float fnum[2] = {1.0f, NAN};
  float fcls[2 * 4] = {7.0f, 1, 1, 1, 2, 2, 2, 2};
  int64_t dn1[1] = {2};
  float nb[2 * 4 * 4];
  for (int i = 0; i < 32; i++) nb[i] = boxes[i] / 100.0f;
  InferNamedTensor t[4] = {named("a", view_f32(nb, 3, db)), named("b", view_f32(scores, 2, dk)),
                           named("c", view_f32(fcls, 2, dk)), named("d", view_f32(fnum, 1, dn1))};
  InferDetectorFormat f;
  CHECK_FAILS(infer_detector_format_guess(t, 4, &f), INFER_ERR_UNSUPPORTED, NULL);
  p = det_params();
  p.format = INFER_DET_NMS_INSIDE;
  p.boxes_normalized = true;
  p.nms_iou = 0.0f;
  CHECK_OK(infer_decode_detections(t, 4, 0, 200, 100, &p, d, 8, &n));
  CHECK(n == 1 && d[0].class_id == 7 && same_box(&d[0], 0, 0, 20, 10, 1e-4f));
  CHECK_OK(infer_decode_detections(t, 4, 1, 200, 100, &p, d, 8, &n)); /* NaN count */
  CHECK(n == 0);

  /* wrong dtype of the boxes */
  int32_t ib[2 * 4 * 4] = {0};
  o[1] = named("det_boxes", view(INFER_DTYPE_I32, ib, 3, db));
  char msg[512];
  p = det_params();
  CHECK_FAILS(infer_decode_detections(o, 4, 0, 100, 100, &p, d, 8, &n), INFER_ERR_UNSUPPORTED,
              msg);
  CHECK(strstr(msg, "'det_boxes'") != NULL);
}

/* --------------------------------------------------------------------- F16 */

static void test_f16(void) {
  uint16_t h[V8_A * V8_CH];
  for (int a = 0; a < V8_A; a++)
    for (int c = 0; c < V8_CH; c++) h[c * V8_A + a] = infer_float_to_half(v8_rows[a][c]);
  int64_t dt[3] = {1, V8_CH, V8_A};
  InferNamedTensor o = named("output0", view(INFER_DTYPE_F16, h, 3, dt));
  InferDetectorParams p = det_params();
  InferDetection d[8];
  int n = 0;
  CHECK_OK(infer_decode_detections(&o, 1, 0, 320, 320, &p, d, 8, &n));
  CHECK(n == 3);
  if (n == 3) {
    CHECK(same_box(&d[0], 10, 10, 50, 50, 0) && d[0].class_id == 0);
    CHECK_NEAR(d[0].confidence, 0.9, 1e-3);
    CHECK(same_box(&d[2], 200, 200, 240, 260, 0) && d[2].class_id == 1);
    CHECK_NEAR(d[2].confidence, 0.6, 1e-3);
  }
}

/* -------------------------------------------------------------- robustness */

static void test_robustness(void) {
  static float buf[256];
  InferDetectorParams p = det_params();
  InferDetection d[4];
  int n = 7;
  int64_t dims[3] = {1, 4, 6};
  InferNamedTensor o = named("output0", view_f32(buf, 3, dims));
  /* NULL data with elements */
  InferNamedTensor on = named("output0", view_f32(NULL, 3, dims));
  CHECK_FAILS(infer_decode_detections(&on, 1, 0, 32, 32, &p, d, 4, &n),
              INFER_ERR_INVALID_ARGUMENT, NULL);
  CHECK(n == 0);
  CHECK_FAILS(infer_decode_detections(&o, 1, -1, 32, 32, &p, d, 4, &n),
              INFER_ERR_INVALID_ARGUMENT, NULL);
  CHECK_FAILS(infer_decode_detections(&o, 1, 0, 32, 32, &p, NULL, 4, &n),
              INFER_ERR_INVALID_ARGUMENT, NULL);
  CHECK_FAILS(infer_decode_detections(&o, 0, 0, 32, 32, &p, d, 4, &n), INFER_ERR_INVALID_ARGUMENT,
              NULL);
  CHECK_FAILS(infer_decode_detections(&o, 1, 0, 32, 32, NULL, d, 4, &n),
              INFER_ERR_INVALID_ARGUMENT, NULL);
  /* zero anchors: nothing */
  int64_t z[3] = {1, 0, 84};
  InferNamedTensor oz = named("output0", view_f32(NULL, 3, z));
  CHECK_OK(infer_decode_detections(&oz, 1, 0, 32, 32, &p, d, 4, &n));
  CHECK(n == 0);
  /* enormous dims are refused before any read */
  int64_t huge[3] = {1, INT64_C(1) << 40, 84};
  InferNamedTensor oh = named("output0", view_f32(buf, 3, huge));
  CHECK_FAILS(infer_decode_detections(&oh, 1, 0, 32, 32, &p, d, 4, &n), INFER_ERR_UNSUPPORTED,
              NULL);
  /* negative dims */
  int64_t neg[3] = {1, -5, 84};
  InferNamedTensor og = named("output0", view_f32(buf, 3, neg));
  CHECK_FAILS(infer_decode_detections(&og, 1, 0, 32, 32, &p, d, 4, &n), INFER_ERR_UNSUPPORTED,
              NULL);
  /* a format that does not fit */
  p.format = INFER_DET_SSD;
  CHECK_FAILS(infer_decode_detections(&o, 1, 0, 32, 32, &p, d, 4, &n), INFER_ERR_UNSUPPORTED,
              NULL);
  p.format = INFER_DET_NMS_INSIDE;
  CHECK_FAILS(infer_decode_detections(&o, 1, 0, 32, 32, &p, d, 4, &n), INFER_ERR_UNSUPPORTED,
              NULL);
  p.format = (InferDetectorFormat)42;
  CHECK_FAILS(infer_decode_detections(&o, 1, 0, 32, 32, &p, d, 4, &n), INFER_ERR_INVALID_ARGUMENT,
              NULL);
  p.format = INFER_DET_AUTO;
  /* all-NaN tensor: no detections */
  for (int i = 0; i < 24; i++) buf[i] = NAN;
  p.confidence_threshold = -1.0f;
  CHECK_OK(infer_decode_detections(&o, 1, 0, 32, 32, &p, d, 4, &n));
  CHECK(n == 0);
  /* NaN threshold passes nothing */
  for (int i = 0; i < 24; i++) buf[i] = 1.0f;
  p.confidence_threshold = NAN;
  CHECK_OK(infer_decode_detections(&o, 1, 0, 32, 32, &p, d, 4, &n));
  CHECK(n == 0);
  /* degenerate boxes are allowed and never suppress each other */
  p.confidence_threshold = 0.5f;
  p.nms_iou = 0.1f;
  CHECK_OK(infer_decode_detections(&o, 1, 0, 32, 32, &p, d, 4, &n));
  CHECK(n == 4);
  /* max_out 0 */
  CHECK_OK(infer_decode_detections(&o, 1, 0, 32, 32, &p, NULL, 0, &n));
  CHECK(n == 0);
}

/* ------------------------------------------------------------------ mapping */

static void test_map(void) {
  /* 1920x1080 into 320x320, symmetric letterbox: scale 1/6, content
   * 320x180, 70 rows of padding above and below */
  InferLetterbox xf = {320.0f / 1920.0f, 320.0f / 1920.0f, 0.0f, 70.0f, 0.0f, 0.0f};
  InferDetection d[3] = {box(10, 100, 300, 250, 0.9f, 2), box(0, 60, 320, 260, 0.5f, 1),
                         box(-5, 0, 2, 20, 0.1f, 0)};
  infer_map_detections(d, 3, &xf, 1920, 1080);
  CHECK(fabsf(d[0].x_min - 60) <= 0.5f && fabsf(d[0].y_min - 180) <= 0.5f);
  CHECK(fabsf(d[0].x_max - 1800) <= 0.5f && fabsf(d[0].y_max - 1080) <= 0.5f);
  CHECK(d[0].confidence == 0.9f && d[0].class_id == 2);
  /* extends into the padding: clipped */
  CHECK(d[1].x_min == 0 && d[1].y_min == 0 && d[1].x_max == 1920 && d[1].y_max == 1080);
  /* fully in the padding: kept, flattened on the edge */
  CHECK(d[2].x_min == 0 && d[2].y_min == 0 && fabsf(d[2].x_max - 12) <= 0.5f && d[2].y_max == 0);

  /* padding bottom/right only */
  InferLetterbox br = {1.0f / 6.0f, 1.0f / 6.0f, 0.0f, 0.0f, 0.0f, 0.0f};
  InferDetection e[2] = {box(10, 10, 20, 170, 1, 0), box(100, 150, 200, 250, 1, 0)};
  infer_map_detections(e, 2, &br, 1920, 1080);
  CHECK(same_box(&e[0], 60, 60, 120, 1020, 0.5f));
  CHECK(same_box(&e[1], 600, 900, 1200, 1080, 0.5f));

  /* portrait frame into 640x640 symmetric: pad_x, a region offset */
  InferLetterbox roi = {0.5f, 0.5f, 80.0f, 0.0f, 100.0f, 50.0f};
  InferDetection r = box(80, 0, 560, 640, 1, 0);
  infer_map_detections(&r, 1, &roi, 2000, 2000);
  CHECK(same_box(&r, 100, 50, 1060, 1330, 0.5f));

  /* non-square scale, NaN coordinate, NULL transform, no clipping */
  InferLetterbox ns = {0.5f, 0.25f, 0, 0, 0, 0};
  InferDetection q = box(10, 10, NAN, 20, 1, 0);
  infer_map_detections(&q, 1, &ns, 100, 100);
  CHECK(same_box(&q, 20, 40, 0, 80, 0));
  InferDetection u = box(-10, 5, 500, 6, 1, 0);
  infer_map_detections(&u, 1, NULL, 0, 0);
  CHECK(same_box(&u, -10, 5, 500, 6, 0));
  infer_map_detections(NULL, 1, &ns, 100, 100);
}

/* ----------------------------------------------- NMS against references */

static int find_index(const InferDetection *all, int n, const InferDetection *d) {
  for (int i = 0; i < n; i++)
    if (memcmp(&all[i], d, sizeof *d) == 0) return i;
  return -1;
}

static void test_nms_fixture(const char *path) {
  FILE *f = fopen(path, "r");
  CHECK(f != NULL);
  if (!f) {
    fprintf(stderr, "  cannot open the NMS fixture '%s'\n", path);
    return;
  }
  char line[8192];
  InferDetection *all = NULL;
  int n_boxes = 0, read_boxes = 0, cases = 0;
  while (fgets(line, sizeof line, f)) {
    if (line[0] == '#' || line[0] == '\n') continue;
    if (sscanf(line, "boxes %d", &n_boxes) == 1) {
      CHECK(n_boxes > 0 && n_boxes <= 100000);
      if (n_boxes <= 0 || n_boxes > 100000) break;
      all = calloc((size_t)n_boxes, sizeof *all);
      for (int i = 0; i < n_boxes && fgets(line, sizeof line, f); i++) {
        InferDetection *d = &all[i];
        memset(d, 0, sizeof *d);
        if (sscanf(line, "%f %f %f %f %f %d", &d->x_min, &d->y_min, &d->x_max, &d->y_max,
                   &d->confidence, &d->class_id) == 6)
          read_boxes++;
      }
      CHECK(read_boxes == n_boxes);
      continue;
    }
    float thr;
    int agnostic, max_keep, n_kept;
    if (sscanf(line, "case %f %d %d %d", &thr, &agnostic, &max_keep, &n_kept) == 4 && all) {
      int *expected = calloc((size_t)n_kept + 1, sizeof *expected);
      for (int i = 0; i < n_kept; i++)
        if (fscanf(f, "%d", &expected[i]) != 1) expected[i] = -1;
      InferDetection *work = malloc((size_t)n_boxes * sizeof *work);
      memcpy(work, all, (size_t)n_boxes * sizeof *work);
      int k = infer_nms(work, n_boxes, thr, agnostic != 0, max_keep);
      bool same = k == n_kept;
      for (int i = 0; same && i < k; i++) same = find_index(all, n_boxes, &work[i]) == expected[i];
      CHECK(same);
      if (!same) fprintf(stderr, "  fixture case iou %g agnostic %d: kept %d, numpy %d\n", thr,
                         agnostic, k, n_kept);

      /* the decoder's own NMS agrees: the boxes as a YOLOv8 output whose
       * class columns are -1 except the box's class */
      const int C = 4, ch = 4 + C;
      float *t = malloc((size_t)n_boxes * (size_t)ch * sizeof *t);
      for (int i = 0; i < n_boxes; i++) {
        float *r = &t[i * ch];
        r[0] = all[i].x_min, r[1] = all[i].y_min, r[2] = all[i].x_max, r[3] = all[i].y_max;
        for (int c = 0; c < C; c++) r[4 + c] = c == all[i].class_id ? all[i].confidence : -1.0f;
      }
      int64_t dims[3] = {1, n_boxes, ch};
      InferNamedTensor o = named("output0", view_f32(t, 3, dims));
      InferDetectorParams p = det_params();
      p.confidence_threshold = 0.0f;
      p.nms_iou = thr;
      p.class_agnostic_nms = agnostic != 0;
      p.top_k = max_keep;
      int nd = 0;
      CHECK_OK(infer_decode_detections(&o, 1, 0, 320, 320, &p, work, n_boxes, &nd));
      same = nd == n_kept;
      for (int i = 0; same && i < nd; i++) same = find_index(all, n_boxes, &work[i]) == expected[i];
      CHECK(same);
      free(t);
      free(work);
      free(expected);
      cases++;
    }
  }
  fclose(f);
  free(all);
  CHECK(cases >= 4);
}

/* Brute force: suppression flags over an index order built by selection. */
static int brute_nms(const InferDetection *d, int n, float thr, bool agnostic, int max_keep,
                     int *keep) {
  bool *done = calloc((size_t)n, 1);
  int kept = 0;
  for (;;) {
    int best = -1;
    for (int i = 0; i < n; i++)
      if (!done[i] && (best < 0 || d[i].confidence > d[best].confidence)) best = i;
    if (best < 0 || (max_keep > 0 && kept == max_keep)) break;
    done[best] = true;
    keep[kept++] = best;
    for (int j = 0; j < n; j++) {
      if (done[j] || (!agnostic && d[j].class_id != d[best].class_id)) continue;
      double aw = d[best].x_max - d[best].x_min, ah = d[best].y_max - d[best].y_min;
      double bw = d[j].x_max - d[j].x_min, bh = d[j].y_max - d[j].y_min;
      if (aw <= 0 || ah <= 0 || bw <= 0 || bh <= 0) continue;
      double iw = fmin(d[best].x_max, d[j].x_max) - fmax(d[best].x_min, d[j].x_min);
      double ih = fmin(d[best].y_max, d[j].y_max) - fmax(d[best].y_min, d[j].y_min);
      if (iw <= 0 || ih <= 0) continue;
      double iou = iw * ih / (aw * ah + bw * bh - iw * ih);
      /* compared in float like the API (an IoU of exactly 0.45 is not
       * above a threshold of 0.45f, though 0.45 > (double)0.45f) */
      if ((float)iou > thr) done[j] = true;
    }
  }
  free(done);
  return kept;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static int rnd(int m) {
  rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
  return (int)((rng_state >> 33) % (uint64_t)m);
}

static void test_nms_random(void) {
  enum { N = 300 };
  static InferDetection all[N], work[N];
  static int keep[N];
  bool ok = true;
  for (int round = 0; round < 20; round++) {
    for (int i = 0; i < N; i++) {
      int cx = 40 + rnd(200), cy = 40 + rnd(200), w = 4 + rnd(60), h = 4 + rnd(60);
      all[i] = box((float)(cx - w / 2), (float)(cy - h / 2), (float)(cx - w / 2 + w),
                   (float)(cy - h / 2 + h), (float)rnd(128) / 128.0f, rnd(3));
    }
    float thr = (round % 4 == 0) ? 0.5f : (round % 4 == 1) ? 0.3f : (round % 4 == 2) ? 0.7f : 0.45f;
    bool agnostic = round % 2 == 1;
    int max_keep = round % 5 == 0 ? 17 : 0;
    memcpy(work, all, sizeof all);
    int k = infer_nms(work, N, thr, agnostic, max_keep);
    int kb = brute_nms(all, N, thr, agnostic, max_keep, keep);
    if (k != kb) ok = false;
    for (int i = 0; ok && i < k; i++)
      if (memcmp(&work[i], &all[keep[i]], sizeof work[i]) != 0) ok = false;
    if (!ok) {
      fprintf(stderr, "  random NMS round %d: kept %d, brute force %d\n", round, k, kb);
      break;
    }
  }
  CHECK(ok);
}

int main(int argc, char **argv) {
  test_classify_basic();
  test_classify_shapes_nan();
  test_classify_softmax();
  test_classify_large();
  test_classify_f16_errors();
  test_guess();
  test_yolov8();
  test_nms_classes();
  test_iou();
  test_yolov5();
  test_ssd();
  test_nms_inside();
  test_f16();
  test_robustness();
  test_map();
  test_nms_random();

  char path[4096];
  const char *env = getenv("INFER_DECODE_NMS_FIXTURE");
  if (argc > 1) {
    snprintf(path, sizeof path, "%s", argv[1]);
  } else if (env && *env) {
    snprintf(path, sizeof path, "%s", env);
  } else {
    /* next to this source file (__FILE__ is relative to the build's cwd) */
    snprintf(path, sizeof path, "%s", __FILE__);
    char *slash = strrchr(path, '/');
    if (slash)
      snprintf(slash + 1, sizeof path - (size_t)(slash + 1 - path), "data/decode_nms_fixture.txt");
    else
      snprintf(path, sizeof path, "data/decode_nms_fixture.txt");
  }
  test_nms_fixture(path);
  TEST_MAIN_END("decode");
}
