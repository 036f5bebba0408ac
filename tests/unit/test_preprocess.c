/* Unit tests of the CPU frame preprocessing (kernels/preprocess.h): every
 * input format on small images with hand-computed pixels, nearest and
 * bilinear resize, letterbox geometry and its mapping, regions, layouts,
 * output precisions, odd sizes, padded strides, and argument errors; plus a
 * comparison with a straightforward per-pixel double-precision reference on
 * random images and parameters. */
#include <stdint.h>
#include <string.h>

#include "preprocess.h"
#include "test_util.h"

/* ---- test images ------------------------------------------------------------ */

/* An image owning its planes; each plane is allocated to its exact extent
 * ((rows - 1) * stride + row bytes) so that AddressSanitizer catches any read
 * past the last row. */
typedef struct TestImage {
  InferImage im;
  uint8_t *mem[3];
} TestImage;

static int chroma(int n) { return (n + 1) / 2; }

static void plane_geometry(InferPixelFormat f, int w, int h, int i, int *row_bytes, int *rows) {
  *rows = i == 0 ? h : chroma(h);
  switch (f) {
    case INFER_PIXEL_RGB:
    case INFER_PIXEL_BGR: *row_bytes = 3 * w; break;
    case INFER_PIXEL_GRAY8: *row_bytes = w; break;
    case INFER_PIXEL_NV12: *row_bytes = i == 0 ? w : 2 * chroma(w); break;
    case INFER_PIXEL_I420: *row_bytes = i == 0 ? w : chroma(w); break;
    default: *row_bytes = 4 * w; break;
  }
}

static int n_planes(InferPixelFormat f) {
  return f == INFER_PIXEL_NV12 ? 2 : (f == INFER_PIXEL_I420 ? 3 : 1);
}

/* Allocates the planes with `extra` bytes of row padding filled with 0xEE. */
static TestImage image_alloc(InferPixelFormat f, int w, int h, int extra) {
  TestImage t;
  memset(&t, 0, sizeof t);
  t.im.format = f;
  t.im.width = w;
  t.im.height = h;
  for (int i = 0; i < n_planes(f); i++) {
    int rb, rows;
    plane_geometry(f, w, h, i, &rb, &rows);
    int stride = rb + extra;
    size_t size = (size_t)(rows - 1) * stride + rb;
    t.mem[i] = malloc(size);
    memset(t.mem[i], 0xEE, size);
    t.im.planes[i] = t.mem[i];
    t.im.strides[i] = stride;
  }
  return t;
}

static void image_free(TestImage *t) {
  for (int i = 0; i < 3; i++) free(t->mem[i]);
  memset(t, 0, sizeof *t);
}

/* A packed or gray image from RGB triplets (row-major, w*h*3 bytes); gray
 * takes the R byte. */
static TestImage image_from_rgb(InferPixelFormat f, int w, int h, const uint8_t *rgb, int extra) {
  TestImage t = image_alloc(f, w, h, extra);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      const uint8_t *s = rgb + ((size_t)y * w + x) * 3;
      uint8_t *d = t.mem[0] + (size_t)y * t.im.strides[0];
      switch (f) {
        case INFER_PIXEL_RGB: memcpy(d + 3 * x, s, 3); break;
        case INFER_PIXEL_BGR: d[3 * x] = s[2], d[3 * x + 1] = s[1], d[3 * x + 2] = s[0]; break;
        case INFER_PIXEL_RGBA:
        case INFER_PIXEL_RGBX:
          memcpy(d + 4 * x, s, 3);
          d[4 * x + 3] = 77;
          break;
        case INFER_PIXEL_BGRA:
        case INFER_PIXEL_BGRX:
          d[4 * x] = s[2], d[4 * x + 1] = s[1], d[4 * x + 2] = s[0], d[4 * x + 3] = 77;
          break;
        case INFER_PIXEL_GRAY8: d[x] = s[0]; break;
        default: break;
      }
    }
  return t;
}

/* A YUV image from full-resolution Y and half-resolution U, V arrays. */
static TestImage image_from_yuv(InferPixelFormat f, int w, int h, const uint8_t *Y,
                                const uint8_t *U, const uint8_t *V, int extra) {
  TestImage t = image_alloc(f, w, h, extra);
  int cw = chroma(w), chh = chroma(h);
  for (int y = 0; y < h; y++) memcpy(t.mem[0] + (size_t)y * t.im.strides[0], Y + (size_t)y * w, w);
  for (int y = 0; y < chh; y++)
    for (int x = 0; x < cw; x++) {
      uint8_t u = U[y * cw + x], v = V[y * cw + x];
      if (f == INFER_PIXEL_NV12) {
        t.mem[1][(size_t)y * t.im.strides[1] + 2 * x] = u;
        t.mem[1][(size_t)y * t.im.strides[1] + 2 * x + 1] = v;
      } else {
        t.mem[1][(size_t)y * t.im.strides[1] + x] = u;
        t.mem[2][(size_t)y * t.im.strides[2] + x] = v;
      }
    }
  return t;
}

static TestImage image_flat_yuv(InferPixelFormat f, int w, int h, uint8_t y, uint8_t u, uint8_t v) {
  size_t n = (size_t)w * h, nc = (size_t)chroma(w) * chroma(h);
  uint8_t *Y = malloc(n), *U = malloc(nc), *V = malloc(nc);
  memset(Y, y, n);
  memset(U, u, nc);
  memset(V, v, nc);
  TestImage t = image_from_yuv(f, w, h, Y, U, V, 0);
  free(Y), free(U), free(V);
  return t;
}

/* BT.601 limited range in double, clamped. */
static double clamp255(double v) { return v < 0 ? 0 : (v > 255 ? 255 : v); }
static void bt601(int y, int u, int v, double rgb[3]) {
  double c = 1.164 * (y - 16);
  rgb[0] = clamp255(c + 1.596 * (v - 128));
  rgb[1] = clamp255(c - 0.392 * (u - 128) - 0.813 * (v - 128));
  rgb[2] = clamp255(c + 2.017 * (u - 128));
}

/* Raw pixel values out: scale 1, mean 0, std 1, F32, NCHW. */
static InferPreprocessParams raw_params(int w, int h) {
  InferPreprocessParams p;
  infer_preprocess_defaults(&p, w, h);
  p.scale = 1.0f;
  return p;
}

static size_t out_count(const InferPreprocessParams *p) {
  return (size_t)p->out_width * p->out_height * (p->order == INFER_ORDER_GRAY ? 1 : 3);
}

/* Runs the CPU preprocessing into a new F32/F16/I8/U8 buffer (NULL on error). */
static void *run(const TestImage *t, const InferRect *roi, const InferPreprocessParams *p,
                 InferLetterbox *xf) {
  void *out = malloc(out_count(p) * infer_dtype_size(p->dtype));
  InferStatus *st = infer_preprocess_cpu(&t->im, roi, p, out, xf);
  CHECK_OK(st);
  if (st) {
    free(out);
    return NULL;
  }
  return out;
}

/* Value of channel c at (x, y) of an F32 NCHW output. */
static float at(const float *o, const InferPreprocessParams *p, int c, int x, int y) {
  return o[((size_t)c * p->out_height + y) * p->out_width + x];
}

/* ---- tests ------------------------------------------------------------------ */

static void test_defaults(void) {
  InferPreprocessParams p;
  infer_preprocess_defaults(&p, 640, 480);
  CHECK(p.out_width == 640 && p.out_height == 480);
  CHECK(p.order == INFER_ORDER_RGB && p.layout == INFER_LAYOUT_NCHW);
  CHECK(p.dtype == INFER_DTYPE_F32 && p.interp == INFER_INTERP_BILINEAR);
  CHECK(!p.keep_aspect);
  CHECK_NEAR(p.scale, 1.0 / 255.0, 1e-9);
  for (int c = 0; c < 3; c++) CHECK(p.mean[c] == 0.0f && p.std[c] == 1.0f);
}

/* A 4x2 image with distinct colours, identity size: every format gives the
 * pixels back exactly. */
static const uint8_t rgb4x2[] = {
    10, 20, 30,   40, 50, 60,   70, 80, 90,    100, 110, 120,
    200, 0, 255,  1, 2, 3,      255, 255, 0,   128, 64, 32,
};

static void test_packed_formats(void) {
  const InferPixelFormat fmts[] = {INFER_PIXEL_RGB,  INFER_PIXEL_BGR,  INFER_PIXEL_RGBA,
                                   INFER_PIXEL_BGRA, INFER_PIXEL_RGBX, INFER_PIXEL_BGRX};
  for (int k = 0; k < 6; k++) {
    for (int extra = 0; extra <= 5; extra += 5) {
      TestImage t = image_from_rgb(fmts[k], 4, 2, rgb4x2, extra);
      InferPreprocessParams p = raw_params(4, 2);
      InferLetterbox xf;
      float *o = run(&t, NULL, &p, &xf);
      if (o) {
        for (int y = 0; y < 2; y++)
          for (int x = 0; x < 4; x++)
            for (int c = 0; c < 3; c++) CHECK(at(o, &p, c, x, y) == rgb4x2[(y * 4 + x) * 3 + c]);
        CHECK(xf.scale_x == 1.0f && xf.scale_y == 1.0f && xf.pad_x == 0 && xf.pad_y == 0);
        CHECK(xf.offset_x == 0 && xf.offset_y == 0);
      }
      free(o);
      /* BGR order swaps the channels */
      p.order = INFER_ORDER_BGR;
      o = run(&t, NULL, &p, NULL);
      if (o) {
        CHECK(at(o, &p, 0, 2, 1) == 0 && at(o, &p, 1, 2, 1) == 255 && at(o, &p, 2, 2, 1) == 255);
        CHECK(at(o, &p, 0, 0, 0) == 30 && at(o, &p, 1, 0, 0) == 20 && at(o, &p, 2, 0, 0) == 10);
      }
      free(o);
      /* GRAY from colour */
      p.order = INFER_ORDER_GRAY;
      o = run(&t, NULL, &p, NULL);
      if (o) {
        CHECK_NEAR(o[1], 0.299 * 40 + 0.587 * 50 + 0.114 * 60, 1e-3);
        CHECK_NEAR(o[7], 0.299 * 128 + 0.587 * 64 + 0.114 * 32, 1e-3);
      }
      free(o);
      image_free(&t);
    }
  }
  /* the default scale gives pixel / 255 */
  TestImage t = image_from_rgb(INFER_PIXEL_RGBA, 4, 2, rgb4x2, 0);
  InferPreprocessParams p;
  infer_preprocess_defaults(&p, 4, 2);
  float *o = run(&t, NULL, &p, NULL);
  if (o) CHECK_NEAR(at(o, &p, 2, 3, 1), 32.0 / 255.0, 1e-7);
  free(o);
  image_free(&t);
}

static void test_gray(void) {
  TestImage t = image_from_rgb(INFER_PIXEL_GRAY8, 4, 2, rgb4x2, 3);
  InferPreprocessParams p = raw_params(4, 2);
  float *o = run(&t, NULL, &p, NULL);
  if (o) /* replicated into the three channels */
    for (int c = 0; c < 3; c++) CHECK(at(o, &p, c, 3, 1) == 128 && at(o, &p, c, 1, 0) == 40);
  free(o);
  p.order = INFER_ORDER_GRAY;
  o = run(&t, NULL, &p, NULL);
  if (o)
    for (int i = 0; i < 8; i++) CHECK(o[i] == rgb4x2[i * 3]); /* exactly the source */
  free(o);
  image_free(&t);
}

static void test_yuv_flat(void) {
  const int colours[][3] = {{81, 90, 240}, {145, 54, 34}, {41, 240, 110}, {100, 150, 110},
                            {16, 128, 128}, {235, 128, 128}, {0, 0, 0}, {255, 255, 255}};
  const InferPixelFormat fmts[] = {INFER_PIXEL_NV12, INFER_PIXEL_I420};
  for (int k = 0; k < 2; k++)
    for (size_t i = 0; i < sizeof colours / sizeof colours[0]; i++) {
      TestImage t = image_flat_yuv(fmts[k], 6, 4, (uint8_t)colours[i][0], (uint8_t)colours[i][1],
                                   (uint8_t)colours[i][2]);
      double want[3];
      bt601(colours[i][0], colours[i][1], colours[i][2], want);
      InferPreprocessParams p;
      infer_preprocess_defaults(&p, 3, 2); /* a downscale: still flat */
      float *o = run(&t, NULL, &p, NULL);
      if (o)
        for (int c = 0; c < 3; c++)
          for (int j = 0; j < 6; j++) CHECK_NEAR(o[c * 6 + j], want[c] / 255.0, 1.0 / 255.0);
      free(o);
      image_free(&t);
    }
  /* a known value: studio red Y=81 U=90 V=240 is R ~ 255, G ~ 0, B ~ 0 */
  double red[3];
  bt601(81, 90, 240, red);
  CHECK(red[0] > 254 && red[1] < 1 && red[2] < 1);
}

/* Odd sizes: a 5x3 NV12/I420 image whose chroma differs per chroma sample;
 * identity resize must give pixel (x, y) with the chroma at (x/2, y/2). */
static void test_yuv_odd(void) {
  const InferPixelFormat fmts[] = {INFER_PIXEL_NV12, INFER_PIXEL_I420};
  enum { W = 5, H = 3, CW = 3, CH = 2 };
  uint8_t Y[W * H], U[CW * CH], V[CW * CH];
  for (int i = 0; i < W * H; i++) Y[i] = (uint8_t)(30 + 13 * i);
  for (int i = 0; i < CW * CH; i++) {
    U[i] = (uint8_t)(60 + 25 * i);
    V[i] = (uint8_t)(200 - 23 * i);
  }
  for (int k = 0; k < 2; k++)
    for (int extra = 0; extra <= 3; extra += 3) {
      TestImage t = image_from_yuv(fmts[k], W, H, Y, U, V, extra);
      InferPreprocessParams p = raw_params(W, H);
      float *o = run(&t, NULL, &p, NULL);
      if (o)
        for (int y = 0; y < H; y++)
          for (int x = 0; x < W; x++) {
            double want[3];
            int ci = (y / 2) * CW + x / 2;
            bt601(Y[y * W + x], U[ci], V[ci], want);
            for (int c = 0; c < 3; c++) CHECK_NEAR(at(o, &p, c, x, y), want[c], 1e-3);
          }
      free(o);
      /* and an upscale of the odd image runs within the planes */
      p = raw_params(11, 7);
      p.interp = INFER_INTERP_NEAREST;
      o = run(&t, NULL, &p, NULL);
      if (o) {
        double want[3];
        bt601(Y[2 * W + 4], U[1 * CW + 2], V[1 * CW + 2], want); /* bottom-right pixel */
        for (int c = 0; c < 3; c++) CHECK_NEAR(at(o, &p, c, 10, 6), want[c], 1e-3);
      }
      free(o);
      image_free(&t);
    }
}

/* 2x2 -> 4x4: nearest repeats, bilinear (half-pixel centres, clamped edges)
 * gives 0, 0.25, 0.75, 1 weights. */
static void test_interp(void) {
  const uint8_t g[] = {0, 0, 0, 100, 100, 100, 200, 200, 200, 40, 40, 40};
  TestImage t = image_from_rgb(INFER_PIXEL_GRAY8, 2, 2, g, 0);
  InferPreprocessParams p = raw_params(4, 4);
  p.order = INFER_ORDER_GRAY;
  p.interp = INFER_INTERP_NEAREST;
  float *o = run(&t, NULL, &p, NULL);
  const float src[2][2] = {{0, 100}, {200, 40}};
  if (o)
    for (int y = 0; y < 4; y++)
      for (int x = 0; x < 4; x++) CHECK(o[y * 4 + x] == src[y / 2][x / 2]);
  free(o);
  p.interp = INFER_INTERP_BILINEAR;
  o = run(&t, NULL, &p, NULL);
  const float w[4] = {0, 0.25f, 0.75f, 1};
  if (o)
    for (int y = 0; y < 4; y++)
      for (int x = 0; x < 4; x++) {
        double top = src[0][0] + (src[0][1] - src[0][0]) * w[x];
        double bot = src[1][0] + (src[1][1] - src[1][0]) * w[x];
        CHECK_NEAR(o[y * 4 + x], top + (bot - top) * w[y], 1e-4);
      }
  /* hand values of the first row and a middle pixel */
  if (o) {
    CHECK_NEAR(o[0], 0, 1e-5);
    CHECK_NEAR(o[1], 25, 1e-4);
    CHECK_NEAR(o[2], 75, 1e-4);
    CHECK_NEAR(o[3], 100, 1e-4);
    CHECK_NEAR(o[1 * 4 + 1], 0.75 * 25 + 0.25 * (200 - 160 * 0.25), 1e-4);
  }
  free(o);
  image_free(&t);
}

static void test_letterbox_geometry(void) {
  InferPreprocessParams p;
  infer_preprocess_defaults(&p, 320, 320);
  p.keep_aspect = true;
  p.pad_symmetric = true;
  InferLetterbox xf;
  CHECK_OK(infer_preprocess_letterbox(&p, NULL, 1920, 1080, &xf));
  CHECK_NEAR(xf.scale_x, 1.0 / 6.0, 1e-6);
  CHECK_NEAR(xf.scale_y, 1.0 / 6.0, 1e-6);
  CHECK(xf.pad_x == 0 && xf.pad_y == 70);
  CHECK(xf.offset_x == 0 && xf.offset_y == 0);
  /* model (160, 250) is the bottom middle of the content: frame (960, 1080) */
  CHECK_NEAR((160 - xf.pad_x) / xf.scale_x + xf.offset_x, 960, 1);
  CHECK_NEAR((250 - xf.pad_y) / xf.scale_y + xf.offset_y, 1080, 1);
  CHECK_NEAR((32 - xf.pad_x) / xf.scale_x, 192, 1);
  CHECK_NEAR((100 - xf.pad_y) / xf.scale_y, 180, 1);
  p.pad_symmetric = false;
  CHECK_OK(infer_preprocess_letterbox(&p, NULL, 1920, 1080, &xf));
  CHECK(xf.pad_x == 0 && xf.pad_y == 0);
  CHECK_NEAR((100 - xf.pad_y) / xf.scale_y, 600, 1);
  /* portrait: padding on the left and right */
  p.pad_symmetric = true;
  CHECK_OK(infer_preprocess_letterbox(&p, NULL, 1080, 1920, &xf));
  CHECK(xf.pad_x == 70 && xf.pad_y == 0);
  /* no letterbox: independent scales */
  p.keep_aspect = false;
  CHECK_OK(infer_preprocess_letterbox(&p, NULL, 1920, 1080, &xf));
  CHECK_NEAR(xf.scale_x, 320.0 / 1920, 1e-6);
  CHECK_NEAR(xf.scale_y, 320.0 / 1080, 1e-6);
  CHECK(xf.pad_x == 0 && xf.pad_y == 0);
  /* a region: offset is its origin, scale from its size */
  InferRect roi = {100, 50, 640, 320};
  p.keep_aspect = true;
  CHECK_OK(infer_preprocess_letterbox(&p, &roi, 1920, 1080, &xf));
  CHECK_NEAR(xf.scale_x, 0.5, 1e-6);
  CHECK(xf.pad_x == 0 && xf.pad_y == 80);
  CHECK(xf.offset_x == 100 && xf.offset_y == 50);
  CHECK_NEAR((320 - xf.pad_x) / xf.scale_x + xf.offset_x, 740, 1e-3);
  /* a region reaching outside is clipped */
  InferRect out = {-100, 1000, 400, 200};
  CHECK_OK(infer_preprocess_letterbox(&p, &out, 1920, 1080, &xf));
  CHECK(xf.offset_x == 0 && xf.offset_y == 1000);
  CHECK_NEAR(xf.scale_x, 320.0 / 300, 1e-5); /* 300 x 80 after clipping */
}

/* The pixels of a 1080p NV12 letterbox: flat content, normalized padding. */
static void test_letterbox_pixels(void) {
  TestImage t = image_flat_yuv(INFER_PIXEL_NV12, 1920, 1080, 145, 54, 34);
  double want[3];
  bt601(145, 54, 34, want);
  for (int sym = 0; sym <= 1; sym++)
    for (int layout = 0; layout <= 1; layout++) {
      InferPreprocessParams p;
      infer_preprocess_defaults(&p, 320, 320);
      p.keep_aspect = true;
      p.pad_symmetric = sym;
      p.pad_value = 114;
      p.layout = layout ? INFER_LAYOUT_NHWC : INFER_LAYOUT_NCHW;
      p.mean[0] = 0.485f, p.mean[1] = 0.456f, p.mean[2] = 0.406f;
      p.std[0] = 0.229f, p.std[1] = 0.224f, p.std[2] = 0.225f;
      InferLetterbox xf;
      float *o = run(&t, NULL, &p, &xf);
      if (!o) continue;
      int top = sym ? 70 : 0;
      CHECK(xf.pad_y == top);
      int bad_pad = 0, bad_content = 0;
      for (int y = 0; y < 320; y++)
        for (int x = 0; x < 320; x++)
          for (int c = 0; c < 3; c++) {
            float v = layout ? o[((size_t)y * 320 + x) * 3 + c] : o[((size_t)c * 320 + y) * 320 + x];
            bool content = y >= top && y < top + 180;
            double px = content ? want[c] : 114.0;
            double e = (px / 255.0 - p.mean[c]) / p.std[c];
            if (fabs(v - e) > (content ? 1.0 / 255 / 0.224 : 1e-5)) *(content ? &bad_content : &bad_pad) += 1;
          }
      CHECK(bad_pad == 0);
      CHECK(bad_content == 0);
      free(o);
    }
  image_free(&t);
}

/* A region of distinct colour is all that a crop of it sees. */
static void test_roi(void) {
  enum { W = 9, H = 7 };
  uint8_t rgb[W * H * 3];
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      bool in = x >= 3 && x < 6 && y >= 2 && y < 4;
      uint8_t *d = rgb + (y * W + x) * 3;
      d[0] = in ? 10 : 250, d[1] = in ? 200 : 5, d[2] = in ? 77 : 128;
    }
  TestImage t = image_from_rgb(INFER_PIXEL_BGRX, W, H, rgb, 4);
  InferRect roi = {3, 2, 3, 2};
  for (int interp = 0; interp <= 1; interp++) {
    InferPreprocessParams p = raw_params(7, 5);
    p.interp = interp ? INFER_INTERP_NEAREST : INFER_INTERP_BILINEAR;
    InferLetterbox xf;
    float *o = run(&t, &roi, &p, &xf);
    if (o) {
      int bad = 0;
      for (int i = 0; i < 35; i++)
        if (o[i] != 10 || o[35 + i] != 200 || o[70 + i] != 77) bad++;
      CHECK(bad == 0);
      CHECK(xf.offset_x == 3 && xf.offset_y == 2);
      CHECK_NEAR(xf.scale_x, 7.0 / 3, 1e-6);
      CHECK_NEAR(xf.scale_y, 5.0 / 2, 1e-6);
    }
    free(o);
  }
  /* a region partly outside the frame is clipped to it */
  InferRect big = {-4, -4, 8, 7}; /* -> (0, 0, 4, 3) */
  InferPreprocessParams p = raw_params(4, 3);
  InferLetterbox xf;
  float *o = run(&t, &big, &p, &xf);
  if (o) {
    CHECK(xf.offset_x == 0 && xf.offset_y == 0 && xf.scale_x == 1 && xf.scale_y == 1);
    CHECK(at(o, &p, 0, 0, 0) == 250 && at(o, &p, 0, 3, 2) == 10);
  }
  free(o);
  /* an empty region is an error naming the roi */
  char msg[256];
  InferRect empty = {W + 1, 0, 5, 5};
  float buf[4 * 3 * 3];
  CHECK_FAILS(infer_preprocess_cpu(&t.im, &empty, &p, buf, NULL), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK(strstr(msg, "roi") != NULL);
  InferRect zero = {1, 1, 0, 3};
  CHECK_FAILS(infer_preprocess_cpu(&t.im, &zero, &p, buf, NULL), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK(strstr(msg, "roi") != NULL);
  InferRect nan_roi = {NAN, 1, 2, 3};
  CHECK_FAILS(infer_preprocess_letterbox(&p, &nan_roi, W, H, &xf), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK(strstr(msg, "roi") != NULL);
  image_free(&t);
}

static uint32_t rng_state = 12345;
static uint32_t rng(void) {
  rng_state = rng_state * 1664525u + 1013904223u;
  return rng_state >> 8;
}

static TestImage random_image(InferPixelFormat f, int w, int h, int extra) {
  if (f == INFER_PIXEL_NV12 || f == INFER_PIXEL_I420) {
    size_t n = (size_t)w * h, nc = (size_t)chroma(w) * chroma(h);
    uint8_t *Y = malloc(n), *U = malloc(nc), *V = malloc(nc);
    for (size_t i = 0; i < n; i++) Y[i] = (uint8_t)rng();
    for (size_t i = 0; i < nc; i++) U[i] = (uint8_t)rng(), V[i] = (uint8_t)rng();
    TestImage t = image_from_yuv(f, w, h, Y, U, V, extra);
    free(Y), free(U), free(V);
    return t;
  }
  uint8_t *rgb = malloc((size_t)w * h * 3);
  for (size_t i = 0; i < (size_t)w * h * 3; i++) rgb[i] = (uint8_t)rng();
  TestImage t = image_from_rgb(f, w, h, rgb, extra);
  free(rgb);
  return t;
}

/* NHWC is the transpose of NCHW; F16, I8 and U8 are conversions of F32. */
static void test_layouts_dtypes(void) {
  TestImage t = random_image(INFER_PIXEL_I420, 37, 23, 2);
  InferPreprocessParams p;
  infer_preprocess_defaults(&p, 16, 12);
  p.keep_aspect = true;
  p.pad_value = 0;
  p.mean[0] = 0.1f, p.mean[1] = 0.5f, p.mean[2] = 0.9f;
  p.std[0] = 0.3f, p.std[1] = 0.2f, p.std[2] = 0.25f;
  float *ref = run(&t, NULL, &p, NULL);
  size_t n = out_count(&p), plane = 16 * 12;

  p.layout = INFER_LAYOUT_NHWC;
  float *nhwc = run(&t, NULL, &p, NULL);
  if (ref && nhwc) {
    int bad = 0;
    for (size_t i = 0; i < plane; i++)
      for (int c = 0; c < 3; c++)
        if (nhwc[i * 3 + c] != ref[c * plane + i]) bad++;
    CHECK(bad == 0);
  }
  free(nhwc);

  p.layout = INFER_LAYOUT_NCHW;
  p.dtype = INFER_DTYPE_F16;
  uint16_t *h16 = run(&t, NULL, &p, NULL);
  if (ref && h16) {
    int bad = 0;
    for (size_t i = 0; i < n; i++)
      if (h16[i] != infer_float_to_half(ref[i])) bad++;
    CHECK(bad == 0);
    CHECK_NEAR(infer_half_to_float(h16[5]), ref[5], 2e-3);
  }
  free(h16);

  p.dtype = INFER_DTYPE_I8;
  p.int8_scale = 0.02f;
  int8_t *q = run(&t, NULL, &p, NULL);
  if (ref && q) {
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
      double e = round(ref[i] / 0.02);
      e = e < -127 ? -127 : (e > 127 ? 127 : e);
      if (abs(q[i] - (int)e) > 1) bad++; /* 1 for ties decided by float rounding */
    }
    CHECK(bad == 0);
  }
  free(q);

  /* U8 with raw pixel values: clamp and round-half-away */
  InferPreprocessParams u = raw_params(16, 12);
  u.dtype = INFER_DTYPE_U8;
  u.layout = INFER_LAYOUT_NHWC;
  u.keep_aspect = true;
  u.pad_value = 7;
  uint8_t *u8 = run(&t, NULL, &u, NULL);
  u.dtype = INFER_DTYPE_F32;
  float *uf = run(&t, NULL, &u, NULL);
  if (u8 && uf) {
    int bad = 0;
    for (size_t i = 0; i < n; i++)
      if (u8[i] != (uint8_t)roundf(uf[i])) bad++;
    CHECK(bad == 0);
    CHECK(u8[n - 1] == 7 || u8[0] == 7); /* padding on one side at least */
  }
  free(u8);
  free(uf);
  /* out-of-range values clamp; ties round away from zero */
  uint8_t flat[4 * 4 * 3];
  memset(flat, 200, sizeof flat);
  TestImage w = image_from_rgb(INFER_PIXEL_RGB, 4, 4, flat, 0);
  InferPreprocessParams s = raw_params(2, 2);
  s.dtype = INFER_DTYPE_U8;
  s.scale = 2.0f;
  s.mean[1] = 600.0f;  /* 400 - 600 -> 0 */
  s.mean[2] = 144.5f;  /* 400 - 144.5 = 255.5 -> 256 -> 255 */
  uint8_t *c8 = run(&w, NULL, &s, NULL);
  if (c8) CHECK(c8[0] == 255 && c8[4] == 0 && c8[8] == 255);
  free(c8);
  s.mean[2] = 145.5f;  /* 254.5 -> 255 */
  s.mean[1] = 399.5f;  /* 0.5 -> 1 */
  c8 = run(&w, NULL, &s, NULL);
  if (c8) CHECK(c8[0] == 255 && c8[4] == 1 && c8[8] == 255);
  free(c8);
  s.dtype = INFER_DTYPE_I8;
  s.int8_scale = 1.0f;
  s.scale = 1.0f;
  s.mean[1] = 197.5f; /* 2.5 -> 3 */
  s.mean[2] = 202.5f; /* -2.5 -> -3 */
  int8_t *c_i8 = run(&w, NULL, &s, NULL);
  if (c_i8) CHECK(c_i8[0] == 127 && c_i8[4] == 3 && c_i8[8] == -3);
  free(c_i8);
  s.mean[0] = 600.0f; /* -400 -> -127 */
  s.int8_scale = 0.5f; /* 2.5 / 0.5 = 5 */
  c_i8 = run(&w, NULL, &s, NULL);
  if (c_i8) CHECK(c_i8[0] == -127 && c_i8[4] == 5 && c_i8[8] == -5);
  free(c_i8);
  image_free(&w);
  free(ref);
  image_free(&t);
}

/* Padded strides give the same result as tight ones, for every format. */
static void test_strides(void) {
  for (int f = 0; f < INFER_PIXEL_FORMAT_COUNT; f++) {
    uint32_t seed = rng_state;
    TestImage a = random_image((InferPixelFormat)f, 13, 9, 0);
    rng_state = seed;
    TestImage b = random_image((InferPixelFormat)f, 13, 9, 11);
    InferPreprocessParams p;
    infer_preprocess_defaults(&p, 8, 8);
    p.keep_aspect = true;
    float *oa = run(&a, NULL, &p, NULL);
    float *ob = run(&b, NULL, &p, NULL);
    if (oa && ob) CHECK(memcmp(oa, ob, out_count(&p) * sizeof(float)) == 0);
    free(oa), free(ob);
    image_free(&a);
    image_free(&b);
  }
}

/* ---- a per-pixel reference in double precision ------------------------------ */

static void ref_source(const InferImage *im, int x, int y, double rgb[3]) {
  const uint8_t *r0 = im->planes[0] + (size_t)y * im->strides[0];
  switch (im->format) {
    case INFER_PIXEL_RGB: rgb[0] = r0[3 * x], rgb[1] = r0[3 * x + 1], rgb[2] = r0[3 * x + 2]; break;
    case INFER_PIXEL_BGR: rgb[2] = r0[3 * x], rgb[1] = r0[3 * x + 1], rgb[0] = r0[3 * x + 2]; break;
    case INFER_PIXEL_RGBA:
    case INFER_PIXEL_RGBX: rgb[0] = r0[4 * x], rgb[1] = r0[4 * x + 1], rgb[2] = r0[4 * x + 2]; break;
    case INFER_PIXEL_BGRA:
    case INFER_PIXEL_BGRX: rgb[2] = r0[4 * x], rgb[1] = r0[4 * x + 1], rgb[0] = r0[4 * x + 2]; break;
    case INFER_PIXEL_GRAY8: rgb[0] = rgb[1] = rgb[2] = r0[x]; break;
    case INFER_PIXEL_NV12: {
      const uint8_t *uv = im->planes[1] + (size_t)(y / 2) * im->strides[1] + 2 * (x / 2);
      bt601(r0[x], uv[0], uv[1], rgb);
      break;
    }
    case INFER_PIXEL_I420:
      bt601(r0[x], im->planes[1][(size_t)(y / 2) * im->strides[1] + x / 2],
            im->planes[2][(size_t)(y / 2) * im->strides[2] + x / 2], rgb);
      break;
    default: break;
  }
}

/* Output value (pixel units, before normalization) of channel c at (X, Y). */
static double ref_pixel(const InferImage *im, const InferRect *roi, const InferPreprocessParams *p,
                        int c, int X, int Y) {
  double x0 = 0, y0 = 0, x1 = im->width, y1 = im->height;
  if (roi) {
    x0 = fmax(roi->x, 0), y0 = fmax(roi->y, 0);
    x1 = fmin((double)roi->x + roi->w, im->width), y1 = fmin((double)roi->y + roi->h, im->height);
  }
  double rw = (float)(x1 - x0), rh = (float)(y1 - y0);
  double sx = (float)p->out_width / (float)rw, sy = (float)p->out_height / (float)rh;
  int cw = p->out_width, ch = p->out_height, px = 0, py = 0;
  if (p->keep_aspect) {
    double s = sx < sy ? sx : sy;
    if (sx <= sy)
      ch = (int)lround(rh * s);
    else
      cw = (int)lround(rw * s);
    if (cw < 1) cw = 1;
    if (ch < 1) ch = 1;
    sx = sy = s;
    if (p->pad_symmetric) px = (p->out_width - cw) / 2, py = (p->out_height - ch) / 2;
  }
  int dx = X - px, dy = Y - py;
  if (dx < 0 || dy < 0 || dx >= cw || dy >= ch) return p->pad_value;
  int fx = (int)floor(x0), lx = (int)ceil(x1) - 1, fy = (int)floor(y0), ly = (int)ceil(y1) - 1;
  double rgb[3];
  if (p->interp == INFER_INTERP_NEAREST) {
    int ix = (int)floor(x0 + (dx + 0.5) / sx), iy = (int)floor(y0 + (dy + 0.5) / sy);
    ix = ix < fx ? fx : (ix > lx ? lx : ix);
    iy = iy < fy ? fy : (iy > ly ? ly : iy);
    ref_source(im, ix, iy, rgb);
  } else {
    double fxs = x0 + (dx + 0.5) / sx - 0.5, fys = y0 + (dy + 0.5) / sy - 0.5;
    fxs = fxs < fx ? fx : (fxs > lx ? lx : fxs);
    fys = fys < fy ? fy : (fys > ly ? ly : fys);
    int ax = (int)floor(fxs), ay = (int)floor(fys);
    int bx = ax + 1 > lx ? lx : ax + 1, by = ay + 1 > ly ? ly : ay + 1;
    double wx = fxs - ax, wy = fys - ay, q[4][3];
    ref_source(im, ax, ay, q[0]);
    ref_source(im, bx, ay, q[1]);
    ref_source(im, ax, by, q[2]);
    ref_source(im, bx, by, q[3]);
    for (int k = 0; k < 3; k++)
      rgb[k] = (1 - wy) * ((1 - wx) * q[0][k] + wx * q[1][k]) + wy * ((1 - wx) * q[2][k] + wx * q[3][k]);
  }
  if (p->order == INFER_ORDER_GRAY) return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
  return p->order == INFER_ORDER_BGR ? rgb[2 - c] : rgb[c];
}

static void test_reference(void) {
  int bad = 0, runs = 0;
  for (int iter = 0; iter < 300; iter++) {
    InferPixelFormat f = (InferPixelFormat)(rng() % INFER_PIXEL_FORMAT_COUNT);
    int w = 1 + (int)(rng() % 40), h = 1 + (int)(rng() % 30);
    TestImage t = random_image(f, w, h, (int)(rng() % 3) * 3);
    InferPreprocessParams p;
    infer_preprocess_defaults(&p, 1 + (int)(rng() % 24), 1 + (int)(rng() % 24));
    p.order = (InferChannelOrder)(rng() % 3);
    p.interp = (InferInterp)(rng() % 2);
    p.keep_aspect = rng() % 2;
    p.pad_symmetric = rng() % 2;
    p.pad_value = (float)(rng() % 256);
    p.scale = 1.0f;
    InferRect roi, *rp = NULL;
    if (rng() % 2) {
      roi.x = (float)(rng() % 200) / 10.0f - 5.0f;
      roi.y = (float)(rng() % 150) / 10.0f - 5.0f;
      roi.w = (float)(rng() % 300) / 10.0f + 0.5f;
      roi.h = (float)(rng() % 200) / 10.0f + 0.5f;
      rp = &roi;
      if (!(fmin((double)roi.x + roi.w, w) > fmax(roi.x, 0)) ||
          !(fmin((double)roi.y + roi.h, h) > fmax(roi.y, 0))) {
        image_free(&t);
        continue;
      }
    }
    float *o = run(&t, rp, &p, NULL);
    if (o) {
      runs++;
      int C = p.order == INFER_ORDER_GRAY ? 1 : 3;
      for (int c = 0; c < C; c++)
        for (int y = 0; y < p.out_height; y++)
          for (int x = 0; x < p.out_width; x++) {
            double e = ref_pixel(&t.im, rp, &p, c, x, y);
            double v = at(o, &p, c, x, y);
            if (fabs(v - e) > 1e-2) {
              if (bad++ < 5)
                fprintf(stderr, "reference: fmt %d %dx%d -> %dx%d c%d (%d,%d): %g vs %g\n", f, w, h,
                        p.out_width, p.out_height, c, x, y, v, e);
            }
          }
      free(o);
    }
    image_free(&t);
  }
  CHECK(runs > 100);
  CHECK(bad == 0);
}

/* ---- errors ----------------------------------------------------------------- */

static void test_errors(void) {
  TestImage t = random_image(INFER_PIXEL_NV12, 8, 6, 0);
  InferPreprocessParams p;
  infer_preprocess_defaults(&p, 4, 4);
  float out[4 * 4 * 3];
  char msg[256];
  InferImage im = t.im;

  CHECK_FAILS(infer_preprocess_cpu(NULL, NULL, &p, out, NULL), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK(strstr(msg, "src") != NULL);
  CHECK_FAILS(infer_preprocess_cpu(&im, NULL, NULL, out, NULL), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK_FAILS(infer_preprocess_cpu(&im, NULL, &p, NULL, NULL), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK(strstr(msg, "dst") != NULL);

  im.format = INFER_PIXEL_FORMAT_COUNT;
  CHECK_FAILS(infer_preprocess_cpu(&im, NULL, &p, out, NULL), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK(strstr(msg, "format") != NULL);
  im = t.im;
  im.width = 0;
  CHECK_FAILS(infer_preprocess_cpu(&im, NULL, &p, out, NULL), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK(strstr(msg, "size") != NULL);
  im = t.im;
  im.planes[1] = NULL;
  CHECK_FAILS(infer_preprocess_cpu(&im, NULL, &p, out, NULL), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK(strstr(msg, "plane 1") != NULL);
  im = t.im;
  im.strides[1] = 7; /* NV12 8 wide needs 8 bytes of UV */
  CHECK_FAILS(infer_preprocess_cpu(&im, NULL, &p, out, NULL), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK(strstr(msg, "stride") != NULL);
  im = t.im;
  im.format = INFER_PIXEL_RGBA; /* stride 8 is too small for 8 RGBA pixels */
  CHECK_FAILS(infer_preprocess_cpu(&im, NULL, &p, out, NULL), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK(strstr(msg, "stride") != NULL);
  im = t.im;
  im.format = INFER_PIXEL_I420; /* NV12 has no third plane */
  CHECK_FAILS(infer_preprocess_cpu(&im, NULL, &p, out, NULL), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK(strstr(msg, "plane 2") != NULL);
  im = t.im;

  InferPreprocessParams q = p;
  q.out_width = 0;
  CHECK_FAILS(infer_preprocess_cpu(&im, NULL, &q, out, NULL), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK(strstr(msg, "out_width") != NULL);
  q = p;
  q.std[1] = 0;
  CHECK_FAILS(infer_preprocess_cpu(&im, NULL, &q, out, NULL), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK(strstr(msg, "std[1]") != NULL);
  q.order = INFER_ORDER_GRAY; /* only the first channel counts */
  CHECK_OK(infer_preprocess_cpu(&im, NULL, &q, out, NULL));
  q = p;
  q.dtype = INFER_DTYPE_I32;
  CHECK_FAILS(infer_preprocess_cpu(&im, NULL, &q, out, NULL), INFER_ERR_UNSUPPORTED, msg);
  CHECK(strstr(msg, "dtype") != NULL);
  q = p;
  q.dtype = INFER_DTYPE_I8;
  q.int8_scale = 0;
  CHECK_FAILS(infer_preprocess_cpu(&im, NULL, &q, out, NULL), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK(strstr(msg, "int8_scale") != NULL);
  q = p;
  q.layout = (InferLayout)5;
  CHECK_FAILS(infer_preprocess_cpu(&im, NULL, &q, out, NULL), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK(strstr(msg, "layout") != NULL);
  q = p;
  q.order = (InferChannelOrder)9;
  CHECK_FAILS(infer_preprocess_cpu(&im, NULL, &q, out, NULL), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK(strstr(msg, "order") != NULL);
  q = p;
  q.interp = (InferInterp)-1;
  CHECK_FAILS(infer_preprocess_cpu(&im, NULL, &q, out, NULL), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK(strstr(msg, "interp") != NULL);

  InferLetterbox xf;
  CHECK_FAILS(infer_preprocess_letterbox(&p, NULL, 0, 10, &xf), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK(strstr(msg, "frame") != NULL);
  CHECK_FAILS(infer_preprocess_letterbox(NULL, NULL, 10, 10, &xf), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK_FAILS(infer_preprocess_letterbox(&p, NULL, 10, 10, NULL), INFER_ERR_INVALID_ARGUMENT, msg);
  /* one line each */
  CHECK(strchr(msg, '\n') == NULL);
  image_free(&t);
}

int main(void) {
  test_defaults();
  test_packed_formats();
  test_gray();
  test_yuv_flat();
  test_yuv_odd();
  test_interp();
  test_letterbox_geometry();
  test_letterbox_pixels();
  test_roi();
  test_layouts_dtypes();
  test_strides();
  test_reference();
  test_errors();
  TEST_MAIN_END("preprocess");
}
