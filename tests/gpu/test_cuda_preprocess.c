/* The CUDA frame preprocessing (kernels/cuda/cuda_preprocess.h) against the
 * CPU reference (infer_preprocess_cpu) on random images.
 *
 * Every pixel format, odd frame and output sizes, padded strides, whole
 * frames and regions (some partly outside the frame), stretch and letterbox
 * (symmetric and bottom-right), bilinear and nearest, RGB / BGR / GRAY
 * order, NCHW and NHWC, F32 / F16 / I8 / U8, random mean / std / scale /
 * pad value; items of different formats and sizes batched into one call,
 * more than one launch's worth of them.
 *
 * Tolerance. The kernel repeats the reference's arithmetic operation for
 * operation (taps in double, float operations rounded to nearest, no FMA),
 * so the outputs are expected to be identical; the test reports how many
 * are. It allows F32 |gpu - cpu| <= 1e-5 (1 + |cpu|) (a few float ulps:
 * room for a libm difference in a tap position, but a thousand times
 * tighter than 1/255 after normalization, which a wrong tap, a wrong chroma
 * sample or a wrong row would exceed on random pixels), F16 one half ulp
 * (1e-3 (1 + |cpu|)), I8 / U8 1 (a rounding tie flipped by such an ulp).
 *
 * Without a CUDA device only the host side is tested (argument errors as
 * the CPU reports them, letterbox mappings), then the test exits 77. */
#include <cuda_runtime_api.h>
#include <stdint.h>
#include <string.h>

#include "cuda_preprocess.h"
#include "preprocess.h"
#include "test_util.h"

#define N_CASES 120
#define ITEMS_PER_CASE 5

static uint32_t rng_state = 12345u;
static uint32_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}
static int rnd_int(int lo, int hi) { return lo + (int)(rnd() % (uint32_t)(hi - lo + 1)); }
static float rnd_float(float lo, float hi) { return lo + (hi - lo) * (float)(rnd() % 100000) / 99999.0f; }

/* ---- images on the host and on the device ------------------------------------------------ */

typedef struct Frame {
  InferImage host, dev;
  uint8_t *hmem[3];
  void *dmem[3];
} Frame;

static int n_planes(InferPixelFormat f) {
  return f == INFER_PIXEL_NV12 ? 2 : (f == INFER_PIXEL_I420 ? 3 : 1);
}

static void plane_geometry(InferPixelFormat f, int w, int h, int i, int *row_bytes, int *rows) {
  int cw = (w + 1) / 2;
  *rows = i == 0 ? h : (h + 1) / 2;
  switch (f) {
    case INFER_PIXEL_RGB:
    case INFER_PIXEL_BGR: *row_bytes = 3 * w; break;
    case INFER_PIXEL_GRAY8: *row_bytes = w; break;
    case INFER_PIXEL_NV12: *row_bytes = i == 0 ? w : 2 * cw; break;
    case INFER_PIXEL_I420: *row_bytes = i == 0 ? w : cw; break;
    default: *row_bytes = 4 * w; break;
  }
}

/* Random pixels; planes of exactly (rows - 1) * stride + row bytes, with
 * `extra` bytes of padding per row, copied to the device when `device`. */
static bool frame_new(Frame *f, InferPixelFormat fmt, int w, int h, int extra, bool device) {
  memset(f, 0, sizeof *f);
  f->host.format = f->dev.format = fmt;
  f->host.width = f->dev.width = w;
  f->host.height = f->dev.height = h;
  for (int i = 0; i < n_planes(fmt); i++) {
    int rb, rows;
    plane_geometry(fmt, w, h, i, &rb, &rows);
    int stride = rb + extra;
    size_t size = (size_t)(rows - 1) * stride + rb;
    f->hmem[i] = malloc(size);
    for (size_t k = 0; k < size; k++) f->hmem[i][k] = (uint8_t)rnd();
    f->host.planes[i] = f->hmem[i];
    f->host.strides[i] = f->dev.strides[i] = stride;
    if (device) {
      if (cudaMalloc(&f->dmem[i], size) != cudaSuccess ||
          cudaMemcpy(f->dmem[i], f->hmem[i], size, cudaMemcpyHostToDevice) != cudaSuccess)
        return false;
      f->dev.planes[i] = f->dmem[i];
    } else {
      f->dev.planes[i] = f->hmem[i]; /* host-only runs never launch */
    }
  }
  return true;
}

static void frame_free(Frame *f) {
  for (int i = 0; i < 3; i++) {
    free(f->hmem[i]);
    if (f->dmem[i]) cudaFree(f->dmem[i]);
  }
}

/* ---- random cases ------------------------------------------------------------------------ */

static void random_params(InferPreprocessParams *p) {
  infer_preprocess_defaults(p, rnd_int(1, 67), rnd_int(1, 53));
  static const InferDType dtypes[] = {INFER_DTYPE_F32, INFER_DTYPE_F16, INFER_DTYPE_I8,
                                      INFER_DTYPE_U8};
  p->dtype = dtypes[rnd() % 4];
  p->order = (InferChannelOrder)(rnd() % 3);
  p->layout = (InferLayout)(rnd() % 2);
  p->interp = (InferInterp)(rnd() % 2);
  p->keep_aspect = rnd() % 2;
  p->pad_symmetric = rnd() % 2;
  p->pad_value = (float)rnd_int(0, 255);
  p->int8_scale = rnd_float(0.01f, 0.1f);
  if (p->dtype == INFER_DTYPE_U8) {
    p->scale = 1.0f; /* raw pixels: keep values inside 0..255 mostly */
  } else {
    p->scale = rnd() % 2 ? 1.0f / 255.0f : rnd_float(0.001f, 1.0f);
    for (int c = 0; c < 3; c++) {
      p->mean[c] = rnd_float(-0.5f, 0.8f);
      p->std[c] = rnd_float(0.1f, 1.5f);
    }
  }
}

static void random_roi(int w, int h, InferCudaPreprocessItem *it) {
  it->has_roi = rnd() % 3 != 0;
  if (!it->has_roi) return;
  float x = rnd_float(-4.0f, (float)w - 1.0f), y = rnd_float(-4.0f, (float)h - 1.0f);
  it->roi.x = x;
  it->roi.y = y;
  /* at least one pixel of it inside the frame */
  it->roi.w = rnd_float((x < 0 ? -x : 0.0f) + 1.0f, (float)w + 4.0f - x);
  it->roi.h = rnd_float((y < 0 ? -y : 0.0f) + 1.0f, (float)h + 4.0f - y);
}

static size_t item_values(const InferPreprocessParams *p) {
  return (size_t)p->out_width * p->out_height * (p->order == INFER_ORDER_GRAY ? 1 : 3);
}

static double value_at(const void *data, InferDType t, size_t i) {
  switch (t) {
    case INFER_DTYPE_F32: return ((const float *)data)[i];
    case INFER_DTYPE_F16: return infer_half_to_float(((const uint16_t *)data)[i]);
    case INFER_DTYPE_I8: return ((const int8_t *)data)[i];
    default: return ((const uint8_t *)data)[i];
  }
}

static double tolerance(InferDType t, double ref) {
  switch (t) {
    case INFER_DTYPE_F32: return 1e-5 * (1.0 + fabs(ref));
    case INFER_DTYPE_F16: return 1e-3 * (1.0 + fabs(ref));
    default: return 1.0;
  }
}

typedef struct Totals {
  size_t values, exact, bad;
  double max_err[4]; /* per dtype index */
} Totals;

static int dtype_index(InferDType t) {
  return t == INFER_DTYPE_F32 ? 0 : t == INFER_DTYPE_F16 ? 1 : t == INFER_DTYPE_I8 ? 2 : 3;
}

/* One case: ITEMS_PER_CASE (or many more) random items, one call. */
static void run_case(int index, int n_items, Totals *tot) {
  InferPreprocessParams p;
  random_params(&p);
  size_t bytes = item_values(&p) * infer_dtype_size(p.dtype);
  Frame *frames = calloc((size_t)n_items, sizeof *frames);
  InferCudaPreprocessItem *items = calloc((size_t)n_items, sizeof *items);
  InferLetterbox *lb = calloc((size_t)n_items, sizeof *lb);
  void *dst = NULL;
  bool ok = cudaMalloc(&dst, bytes * (size_t)n_items) == cudaSuccess;
  for (int i = 0; i < n_items && ok; i++) {
    InferPixelFormat fmt = (InferPixelFormat)((index + i) % INFER_PIXEL_FORMAT_COUNT);
    int w = rnd_int(1, 97), h = rnd_int(1, 71);
    ok = frame_new(&frames[i], fmt, w, h, rnd_int(0, 9), true);
    items[i].image = frames[i].dev;
    random_roi(w, h, &items[i]);
    items[i].dst = (uint8_t *)dst + bytes * (size_t)i;
  }
  CHECK(ok);
  if (ok) CHECK_OK(infer_cuda_preprocess(items, n_items, &p, lb, NULL));
  uint8_t *got = malloc(bytes * (size_t)n_items), *want = malloc(bytes);
  ok = ok && cudaMemcpy(got, dst, bytes * (size_t)n_items, cudaMemcpyDeviceToHost) == cudaSuccess;
  CHECK(ok);
  for (int i = 0; i < n_items && ok; i++) {
    InferLetterbox ref_lb;
    const InferRect *roi = items[i].has_roi ? &items[i].roi : NULL;
    CHECK_OK(infer_preprocess_cpu(&frames[i].host, roi, &p, want, &ref_lb));
    CHECK(memcmp(&ref_lb, &lb[i], sizeof ref_lb) == 0);
    size_t bad_here = 0;
    for (size_t k = 0; k < item_values(&p); k++) {
      double a = value_at(got + bytes * (size_t)i, p.dtype, k), b = value_at(want, p.dtype, k);
      double err = fabs(a - b);
      tot->values++;
      tot->exact += err == 0;
      if (err > tot->max_err[dtype_index(p.dtype)]) tot->max_err[dtype_index(p.dtype)] = err;
      if (!(err <= tolerance(p.dtype, b))) {
        if (bad_here++ < 3)
          fprintf(stderr,
                  "case %d item %d (%s format %d %dx%d -> %dx%d, order %d, layout %d, interp %d, "
                  "keep %d): value %zu: gpu %.9g cpu %.9g\n",
                  index, i, infer_dtype_name(p.dtype), (int)frames[i].host.format,
                  frames[i].host.width, frames[i].host.height, p.out_width, p.out_height,
                  (int)p.order, (int)p.layout, (int)p.interp, (int)p.keep_aspect, k, a, b);
      }
    }
    tot->bad += bad_here;
    CHECK(bad_here == 0);
  }
  free(got);
  free(want);
  for (int i = 0; i < n_items; i++) frame_free(&frames[i]);
  free(frames);
  free(items);
  free(lb);
  if (dst) cudaFree(dst);
}

/* ---- host side (no device needed) ------------------------------------------------------- */

/* Invalid arguments fail as on the CPU, before anything is queued; the
 * letterbox of valid items equals the CPU's. With a device the frame and
 * the output are device memory (the valid calls then run), without one the
 * launch fails after the mapping was filled in. */
static void test_host_side(bool device) {
  InferPreprocessParams p;
  infer_preprocess_defaults(&p, 8, 6);
  Frame f;
  CHECK(frame_new(&f, INFER_PIXEL_NV12, 9, 7, 3, device));
  uint8_t host_out[67 * 53 * 3 * 4];
  void *out = host_out;
  if (device) CHECK(cudaMalloc(&out, sizeof host_out) == cudaSuccess);
  InferCudaPreprocessItem it = {f.dev, {0, 0, 0, 0}, false, out};

  InferPreprocessParams q = p;
  q.std[1] = 0;
  CHECK_FAILS(infer_cuda_preprocess(&it, 1, &q, NULL, NULL), INFER_ERR_INVALID_ARGUMENT, NULL);
  q = p;
  q.dtype = INFER_DTYPE_I64;
  CHECK_FAILS(infer_cuda_preprocess(&it, 1, &q, NULL, NULL), INFER_ERR_UNSUPPORTED, NULL);
  q = p;
  q.out_width = 0;
  CHECK_FAILS(infer_cuda_preprocess(&it, 1, &q, NULL, NULL), INFER_ERR_INVALID_ARGUMENT, NULL);
  InferCudaPreprocessItem bad = it;
  bad.image.strides[1] = 9; /* NV12 chroma rows of a width-9 frame take 10 bytes */
  CHECK_FAILS(infer_cuda_preprocess(&bad, 1, &p, NULL, NULL), INFER_ERR_INVALID_ARGUMENT, NULL);
  bad = it;
  bad.image.planes[1] = NULL;
  CHECK_FAILS(infer_cuda_preprocess(&bad, 1, &p, NULL, NULL), INFER_ERR_INVALID_ARGUMENT, NULL);
  bad = it;
  bad.has_roi = true;
  bad.roi = (InferRect){20, 1, 3, 3}; /* right of the frame */
  CHECK_FAILS(infer_cuda_preprocess(&bad, 1, &p, NULL, NULL), INFER_ERR_INVALID_ARGUMENT, NULL);
  bad.dst = NULL;
  bad.has_roi = false;
  InferCudaPreprocessItem two[2] = {it, bad};
  char msg[256];
  CHECK_FAILS(infer_cuda_preprocess(two, 2, &p, NULL, NULL), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK(strstr(msg, "item 1") != NULL);

  /* letterboxes: filled before the launch, equal to the CPU's mapping */
  for (int k = 0; k < 50; k++) {
    random_params(&q);
    InferCudaPreprocessItem r = it;
    random_roi(f.host.width, f.host.height, &r);
    InferLetterbox got, want;
    memset(&got, 0, sizeof got);
    InferStatus *st = infer_cuda_preprocess(&r, 1, &q, &got, NULL);
    if (device) CHECK(st == NULL);
    infer_status_free(st); /* no device: the launch fails after the mapping */
    CHECK_OK(infer_preprocess_letterbox(&q, r.has_roi ? &r.roi : NULL, f.host.width,
                                        f.host.height, &want));
    CHECK(memcmp(&got, &want, sizeof got) == 0);
  }
  if (device) {
    CHECK(cudaDeviceSynchronize() == cudaSuccess);
    cudaFree(out);
  }
  frame_free(&f);
}

static bool have_device(void) {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess && n > 0;
}

int main(void) {
  bool device = have_device();
  test_host_side(device);
  if (!device) {
    printf("cuda_preprocess: host side %d passed, %d failed; skipped the device part: no CUDA "
           "device\n", test_checks_passed, test_checks_failed);
    return test_checks_failed ? 1 : 77;
  }
  Totals tot;
  memset(&tot, 0, sizeof tot);
  for (int c = 0; c < N_CASES; c++) run_case(c, ITEMS_PER_CASE, &tot);
  /* more items than one launch takes, every format among them */
  run_case(N_CASES, 2 * INFER_CUDA_PREPROCESS_MAX_ITEMS + 7, &tot);
  CHECK(cudaDeviceSynchronize() == cudaSuccess);
  printf("cuda_preprocess: %zu values, %zu identical to the CPU (%.4f%%), %zu beyond tolerance; "
         "max abs error f32 %.3g, f16 %.3g, i8 %.0f, u8 %.0f\n",
         tot.values, tot.exact, tot.values ? 100.0 * (double)tot.exact / (double)tot.values : 0.0,
         tot.bad, tot.max_err[0], tot.max_err[1], tot.max_err[2], tot.max_err[3]);
  TEST_MAIN_END("cuda_preprocess");
}
