/* The GPU detector decoding (kernels/cuda/cuda_detect.h) against the host
 * decoder (infer_decode_detections) on random and adversarial outputs.
 *
 * Cases: YOLOv8 transposed [N, 4 + C, A] and not [N, A, 4 + C], YOLOv5
 * (with and without class columns), SSD boxes + scores (mixed dtypes); f32
 * and f16; xyxy, cxcywh and normalized boxes; scores drawn from a handful
 * of values (many ties in confidence, equal across classes too) mixed with
 * NaN, +-inf, -0 and 0; boxes random, clustered (heavy suppression), on a
 * coarse grid (duplicates, IoU exactly at the threshold), degenerate or not
 * finite; thresholds from -inf (every anchor a candidate) to above every
 * score; per-class and class-agnostic NMS, no NMS; top_k, max_candidates
 * and max_out limits below, at and above the counts; batches of several
 * items, anchors from 1 to beyond several NMS chunks, up to 8400 anchors x
 * 80 classes.
 *
 * The results must be identical: the same count, and per detection the
 * same class, the same confidence bits and the same coordinate bits (a NaN
 * coordinate only has to be NaN on both sides: payload bits are not kept
 * by the GPU, and the letterbox mapping turns NaN into 0 anyway).
 *
 * Without a CUDA device only the host side runs (layouts, what the GPU path
 * refuses), then the test exits 77. */
#include <cuda_runtime_api.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "cuda_detect.h"
#include "decode.h"
#include "test_util.h"

static uint32_t rng_state = 20240611u;
static uint32_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}
static int rnd_int(int lo, int hi) { return lo + (int)(rnd() % (uint32_t)(hi - lo + 1)); }
static float rnd_unit(void) { return (float)(rnd() % 1000001) / 1000000.0f; }

/* How a case draws its values. */
typedef struct Gen {
  int score_mode;  /* 0: continuous, 1: a few levels (ties), 2: levels + NaN/inf/-0 */
  int box_mode;    /* 0: random, 1: clustered, 2: with degenerate and non-finite boxes */
  float box_scale; /* pixels (1 for normalized) */
} Gen;

static float gen_score(const Gen *g) {
  switch (g->score_mode) {
    case 0: return rnd_unit();
    case 1: return (float)rnd_int(0, 4) * 0.25f;
    default: {
      int r = rnd_int(0, 19);
      if (r == 0) return NAN;
      if (r == 1) return INFINITY;
      if (r == 2) return -INFINITY;
      if (r == 3) return -0.0f;
      if (r == 4) return 0.0f;
      if (r == 5) return -0.5f;
      return (float)rnd_int(0, 4) * 0.25f;
    }
  }
}

/* Four coordinates (x0, y0, x1, y1 or cx, cy, w, h: both are just numbers here). */
static void gen_box(const Gen *g, float v[4]) {
  float s = g->box_scale;
  if (g->box_mode == 1 && rnd_int(0, 1)) {
    /* boxes on a coarse grid: exact duplicates and overlaps of exactly 1/2,
       1/3, 1 ... (IoU equal to the NMS threshold does not suppress) */
    v[0] = (float)rnd_int(0, 3) * 0.125f * s;
    v[1] = (float)rnd_int(0, 3) * 0.125f * s;
    v[2] = v[0] + (float)rnd_int(1, 3) * 0.125f * s;
    v[3] = v[1] + (float)rnd_int(1, 2) * 0.125f * s;
    return;
  }
  if (g->box_mode == 1) {
    /* a few clusters of near-identical boxes */
    float cx = (float)rnd_int(0, 3) * 0.2f * s, cy = (float)rnd_int(0, 3) * 0.2f * s;
    v[0] = cx + rnd_unit() * 0.02f * s;
    v[1] = cy + rnd_unit() * 0.02f * s;
    v[2] = v[0] + (0.2f + rnd_unit() * 0.03f) * s;
    v[3] = v[1] + (0.2f + rnd_unit() * 0.03f) * s;
    return;
  }
  v[0] = rnd_unit() * s;
  v[1] = rnd_unit() * s;
  v[2] = v[0] + rnd_unit() * 0.5f * s;
  v[3] = v[1] + rnd_unit() * 0.5f * s;
  if (g->box_mode == 2) {
    int r = rnd_int(0, 9);
    if (r == 0) v[2] = v[0];           /* zero width */
    if (r == 1) v[3] = v[1] - 1.0f;    /* negative height */
    if (r == 2) v[rnd_int(0, 3)] = NAN;
    if (r == 3) v[rnd_int(0, 3)] = INFINITY;
  }
}

static void store(void *data, InferDType t, int64_t i, float v) {
  if (t == INFER_DTYPE_F16)
    ((uint16_t *)data)[i] = infer_float_to_half(v);
  else
    ((float *)data)[i] = v;
}

typedef struct Case {
  InferNamedTensor out[2];
  int n_out;
  char names[2][32];
  InferDetectorParams p;
  int width, height, max_out, batch;
} Case;

static void *tensor(InferNamedTensor *t, InferDType dt, int64_t d0, int64_t d1, int64_t d2) {
  t->view.dtype = dt;
  t->view.shape.rank = 3;
  t->view.shape.d[0] = d0;
  t->view.shape.d[1] = d1;
  t->view.shape.d[2] = d2;
  t->view.data = calloc((size_t)(d0 * d1 * d2), infer_dtype_size(dt));
  return t->view.data;
}

/* format: 0 YOLOv8, 1 YOLOv5, 2 SSD. */
static void make_case(Case *c, int format, bool transposed, InferDType dt, InferDType dt2,
                      int batch, int64_t A, int64_t C, const Gen *g) {
  memset(c, 0, sizeof *c);
  c->batch = batch;
  c->width = 640;
  c->height = 480;
  if (format == 2) {
    c->n_out = 2;
    snprintf(c->names[0], sizeof c->names[0], "boxes");
    snprintf(c->names[1], sizeof c->names[1], "scores");
    c->out[0].name = c->names[0];
    c->out[1].name = c->names[1];
    void *bx = tensor(&c->out[0], dt, batch, A, 4);
    void *sc = tensor(&c->out[1], dt2, batch, A, C);
    for (int64_t i = 0; i < batch * A; i++) {
      float v[4];
      gen_box(g, v);
      for (int k = 0; k < 4; k++) store(bx, dt, i * 4 + k, v[k]);
      for (int64_t k = 0; k < C; k++) store(sc, dt2, i * C + k, gen_score(g));
    }
    return;
  }
  c->n_out = 1;
  const int64_t ch = (format == 1 ? 5 : 4) + C;
  /* the format guess reads [N, D1, D2] as transposed only when D1 < D2 */
  if (ch >= A) transposed = false;
  snprintf(c->names[0], sizeof c->names[0], format == 1 ? "yolov5_out" : "output0");
  c->out[0].name = c->names[0];
  void *d = transposed ? tensor(&c->out[0], dt, batch, ch, A) : tensor(&c->out[0], dt, batch, A, ch);
  for (int b = 0; b < batch; b++) {
    for (int64_t a = 0; a < A; a++) {
      float v[4];
      gen_box(g, v);
      for (int64_t k = 0; k < ch; k++) {
        float x = k < 4 ? v[k] : gen_score(g);
        int64_t i = transposed ? ((int64_t)b * ch + k) * A + a : ((int64_t)b * A + a) * ch + k;
        store(d, dt, i, x);
      }
    }
  }
}

static void free_case(Case *c) {
  for (int i = 0; i < c->n_out; i++) free(c->out[i].view.data);
}

static bool same_float(float a, float b) {
  if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
  uint32_t x, y;
  memcpy(&x, &a, 4);
  memcpy(&y, &b, 4);
  return x == y;
}

static int cases_run, dets_compared, mismatched_cases;

/* Runs the case on the GPU and compares every item with the host decoder. */
static void run_case(Case *c, const char *what) {
  InferDetectorLayout L;
  InferStatus *st = infer_detector_layout(c->out, c->n_out, c->width, c->height, &c->p, &L);
  if (st) {
    fprintf(stderr, "%s: layout: %s\n", what, infer_status_message(st));
    infer_status_free(st);
    CHECK(false);
    return;
  }
  InferNamedTensor dev[2];
  memcpy(dev, c->out, sizeof dev);
  for (int i = 0; i < c->n_out; i++) {
    size_t bytes = (size_t)infer_shape_numel(&c->out[i].view.shape) *
                   infer_dtype_size(c->out[i].view.dtype);
    void *p = NULL;
    CHECK(cudaMalloc(&p, bytes ? bytes : 1) == cudaSuccess);
    CHECK(cudaMemcpy(p, c->out[i].view.data, bytes, cudaMemcpyHostToDevice) == cudaSuccess);
    dev[i].view.data = p;
  }
  InferCudaDetectJob job = {.layout = L, .outputs = dev, .n_outputs = c->n_out,
                            .batch = c->batch, .params = c->p, .max_out = c->max_out};
  size_t ws_bytes = 0;
  CHECK_OK(infer_cuda_detect_workspace(&job, &ws_bytes));
  size_t res_bytes = infer_cuda_detect_result_bytes(c->batch, c->max_out);
  void *ws = NULL, *res = NULL;
  CHECK(cudaMalloc(&ws, ws_bytes ? ws_bytes : 1) == cudaSuccess);
  CHECK(cudaMalloc(&res, res_bytes ? res_bytes : 1) == cudaSuccess);
  /* garbage first: every count and kept detection must be written */
  CHECK(cudaMemset(res, 0xa5, res_bytes ? res_bytes : 1) == cudaSuccess);
  CHECK_OK(infer_cuda_detect(&job, ws, ws_bytes, res, NULL));
  uint8_t *host = malloc(res_bytes ? res_bytes : 1);
  CHECK(cudaMemcpy(host, res, res_bytes, cudaMemcpyDeviceToHost) == cudaSuccess);
  const int32_t *counts = (const int32_t *)host;
  const InferDetection *gpu = (const InferDetection *)(host + (size_t)c->batch * sizeof(int32_t));
  InferDetection *ref = malloc(sizeof *ref * (size_t)(c->max_out > 0 ? c->max_out : 1));
  bool case_ok = true;
  for (int b = 0; b < c->batch; b++) {
    int n = -1;
    CHECK_OK(infer_decode_detections(c->out, c->n_out, b, c->width, c->height, &c->p, ref,
                                     c->max_out, &n));
    bool ok = counts[b] == n;
    for (int k = 0; ok && k < n; k++) {
      const InferDetection *x = &gpu[(size_t)b * (size_t)c->max_out + (size_t)k], *y = &ref[k];
      ok = x->class_id == y->class_id && same_float(x->confidence, y->confidence) &&
           same_float(x->x_min, y->x_min) && same_float(x->y_min, y->y_min) &&
           same_float(x->x_max, y->x_max) && same_float(x->y_max, y->y_max);
      if (!ok)
        fprintf(stderr,
                "%s item %d det %d: gpu (%g %g %g %g) %.9g c%d, host (%g %g %g %g) %.9g c%d\n",
                what, b, k, x->x_min, x->y_min, x->x_max, x->y_max, x->confidence, x->class_id,
                y->x_min, y->y_min, y->x_max, y->y_max, y->confidence, y->class_id);
      dets_compared++;
    }
    if (counts[b] != n) fprintf(stderr, "%s item %d: gpu %d detections, host %d\n", what, b, counts[b], n);
    CHECK(ok);
    case_ok &= ok;
  }
  if (!case_ok) mismatched_cases++;
  cases_run++;
  free(ref);
  free(host);
  cudaFree(ws);
  cudaFree(res);
  for (int i = 0; i < c->n_out; i++) cudaFree(dev[i].view.data);
}

static void random_params(Case *c) {
  static const float thr[] = {-INFINITY, -1.0f, 0.0f, 0.25f, 0.5f, 0.9f, 2.0f};
  static const float iou[] = {0.0f, 0.3f, 0.5f, 0.7f, -1.0f, 1.0f};
  static const int tops[] = {0, 1, 5, 100, 10000};
  static const int caps[] = {0, 1, 10, 300, 100000};
  static const int outs[] = {0, 1, 7, 100, 1000};
  c->p.confidence_threshold = thr[rnd_int(0, 6)];
  c->p.nms_iou = rnd_int(0, 9) == 0 ? NAN : iou[rnd_int(0, 5)];
  c->p.class_agnostic_nms = rnd_int(0, 1);
  c->p.top_k = tops[rnd_int(0, 4)];
  c->p.max_candidates = caps[rnd_int(0, 4)];
  c->max_out = outs[rnd_int(1, 4)];
  if (rnd_int(0, 19) == 0) c->max_out = 0;
  c->p.box_format = (InferBoxFormat)rnd_int(0, 2);
}

static void host_side(void) {
  /* NMS inside is left to the host */
  Case c;
  memset(&c, 0, sizeof c);
  const char *names[4] = {"num_dets", "det_boxes", "det_scores", "det_classes"};
  int64_t dims[4][3] = {{2, 1, 0}, {2, 10, 4}, {2, 10, 0}, {2, 10, 0}};
  InferNamedTensor o[4];
  memset(o, 0, sizeof o);
  for (int i = 0; i < 4; i++) {
    o[i].name = names[i];
    o[i].view.dtype = INFER_DTYPE_F32;
    o[i].view.shape.rank = i == 1 ? 3 : 2;
    for (int d = 0; d < o[i].view.shape.rank; d++) o[i].view.shape.d[d] = dims[i][d];
  }
  InferDetectorParams p = {0};
  InferDetectorLayout L;
  CHECK_OK(infer_detector_layout(o, 4, 640, 480, &p, &L));
  CHECK(L.format == INFER_DET_NMS_INSIDE);
  InferCudaDetectJob job = {.layout = L, .outputs = o, .n_outputs = 4, .batch = 2, .max_out = 10};
  size_t bytes = 1;
  CHECK_FAILS(infer_cuda_detect_workspace(&job, &bytes), INFER_ERR_UNSUPPORTED, NULL);
  CHECK(bytes == 0);
  /* the layout of a transposed YOLOv8 output, box format from the name */
  Gen g = {0, 0, 640.0f};
  make_case(&c, 0, true, INFER_DTYPE_F32, INFER_DTYPE_F32, 2, 30, 3, &g);
  snprintf(c.names[0], sizeof c.names[0], "pred_cxcywh");
  CHECK_OK(infer_detector_layout(c.out, 1, 640, 480, &c.p, &L));
  CHECK(L.format == INFER_DET_YOLOV8 && L.transposed && L.anchors == 30 && L.channels == 7 &&
        L.cxcywh && L.pred == 0 && L.batch == 2);
  /* an explicit format that does not fit: the host decoder's error */
  c.p.format = INFER_DET_SSD;
  CHECK_FAILS(infer_detector_layout(c.out, 1, 640, 480, &c.p, &L), INFER_ERR_UNSUPPORTED, NULL);
  c.p.format = INFER_DET_AUTO;
  c.p.boxes_normalized = true;
  CHECK_FAILS(infer_detector_layout(c.out, 1, 0, 0, &c.p, &L), INFER_ERR_INVALID_ARGUMENT, NULL);
  free_case(&c);
}

static bool have_device(void) {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess && n > 0;
}

int main(void) {
  host_side();
  if (!have_device()) {
    printf("cuda_detect: host side %d passed, %d failed; skipped the device part: no CUDA "
           "device\n",
           test_checks_passed, test_checks_failed);
    return test_checks_failed ? 1 : 77;
  }
  const InferDType dts[2] = {INFER_DTYPE_F32, INFER_DTYPE_F16};
  char what[160];
  /* random cases over every layout and option */
  for (int i = 0; i < 240; i++) {
    Case c;
    int format = i % 3;
    bool transposed = rnd_int(0, 1);
    InferDType dt = dts[rnd_int(0, 1)], dt2 = dts[rnd_int(0, 1)];
    int batch = rnd_int(1, 4);
    static const int64_t As[] = {1, 3, 40, 255, 256, 257, 700, 1500};
    int64_t A = As[rnd_int(0, 7)];
    int64_t C = rnd_int(format == 1 ? 0 : 1, rnd_int(0, 3) == 0 ? 90 : 6);
    bool normalized = rnd_int(0, 3) == 0;
    Gen g = {rnd_int(0, 2), rnd_int(0, 2), normalized ? 1.0f : 640.0f};
    make_case(&c, format, transposed, dt, dt2, batch, A, C, &g);
    random_params(&c);
    c.p.boxes_normalized = normalized;
    if (format == 1 && rnd_int(0, 1)) c.p.format = INFER_DET_YOLOV5;
    if (format == 2 && rnd_int(0, 1)) c.p.format = INFER_DET_SSD;
    snprintf(what, sizeof what,
             "case %d (format %d%s %s/%s N=%d A=%lld C=%lld scores %d boxes %d thr %g iou %g%s "
             "top_k %d cap %d max_out %d)",
             i, format, transposed ? " transposed" : "", infer_dtype_name(dt),
             infer_dtype_name(dt2), batch, (long long)A, (long long)C, g.score_mode, g.box_mode,
             c.p.confidence_threshold, c.p.nms_iou, c.p.class_agnostic_nms ? " agnostic" : "",
             c.p.top_k, c.p.max_candidates, c.max_out);
    run_case(&c, what);
    free_case(&c);
  }
  /* every anchor a candidate, heavy suppression, unlimited keep: the
     candidates span many chunks and most are suppressed */
  for (int agn = 0; agn < 2; agn++) {
    Case c;
    Gen g = {1, 1, 640.0f};
    make_case(&c, 0, true, INFER_DTYPE_F32, INFER_DTYPE_F32, 3, 5000, 4, &g);
    c.p.confidence_threshold = -INFINITY;
    c.p.nms_iou = 0.5f;
    c.p.class_agnostic_nms = agn;
    c.max_out = 5000;
    snprintf(what, sizeof what, "all candidates, clustered, agnostic %d", agn);
    run_case(&c, what);
    free_case(&c);
  }
  /* a YOLOv8-sized output: 64 items of 8400 anchors x 80 classes would be
     slow on the host; 6 items keep the comparison quick */
  for (int t = 0; t < 2; t++) {
    Case c;
    Gen g = {0, 0, 640.0f};
    make_case(&c, 0, t == 0, t ? INFER_DTYPE_F16 : INFER_DTYPE_F32, INFER_DTYPE_F32, 6, 8400, 80,
              &g);
    c.p.confidence_threshold = 0.25f;
    c.p.nms_iou = 0.45f;
    c.p.top_k = 100;
    c.max_out = 100;
    snprintf(what, sizeof what, "8400 x 80 %s", t ? "f16 [N, A, 84]" : "f32 [N, 84, A]");
    run_case(&c, what);
    free_case(&c);
  }
  printf("cuda_detect: %d cases, %d detections compared, %d cases differ\n", cases_run,
         dets_compared, mismatched_cases);
  TEST_MAIN_END("cuda_detect");
}
