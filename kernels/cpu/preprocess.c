/* CPU frame preprocessing (the contract is kernels/preprocess.h).
 *
 * Exact semantics, which the CUDA kernel reproduces:
 *
 * Region. The roi (frame pixels, float) is clipped to [0,W]x[0,H]; an empty
 * or non-finite result is an error. Its origin (x0, y0) after clipping is the
 * mapping's offset; its size (rw, rh) sets the scale. Samples are taken from
 * the whole pixels the region touches only: columns floor(x0) ..
 * ceil(x0 + rw) - 1 (likewise rows), clamped to the frame.
 *
 * Geometry. Without keep_aspect: scale_x = out_w / rw, scale_y = out_h / rh,
 * the content fills the output, no padding. With keep_aspect:
 * s = min(out_w / rw, out_h / rh) (float), the dimension that limits it gets
 * the full output size, the other round(r * s) (at least 1, at most the
 * output); pad = floor((out - content) / 2) when pad_symmetric, else 0.
 * Output pixels outside the content get pad_value.
 *
 * Sampling, for a content pixel at (dx, dy) relative to the content origin:
 *   bilinear: sx = x0 + (dx + 0.5) / scale_x - 0.5, clamped to the sampled
 *             columns [first, last]; taps floor(sx) and min(floor(sx)+1, last)
 *             weighted by the fraction (likewise y);
 *   nearest:  column floor(x0 + (dx + 0.5) / scale_x), clamped likewise.
 * Each tapped source pixel is first converted to RGB float 0..255 (YUV:
 * BT.601 limited range, each channel clamped to 0..255; chroma sample at
 * (x/2, y/2)), then interpolated. GRAY output is 0.299R + 0.587G + 0.114B
 * of the interpolated RGB (a GRAY8 source gives its value unchanged).
 *
 * Output. value = (pixel * scale - mean[c]) * (1 / std[c]); F32 as is, F16
 * rounded to nearest even, I8 = clamp(roundf(value / int8_scale), -127, 127),
 * U8 = clamp(roundf(value), 0, 255) (roundf: half away from zero). */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "preprocess.h"

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#define PP_INLINE static inline __attribute__((always_inline))

void infer_preprocess_defaults(InferPreprocessParams *p, int out_width, int out_height) {
  if (!p) return;
  memset(p, 0, sizeof *p);
  p->out_width = out_width;
  p->out_height = out_height;
  p->order = INFER_ORDER_RGB;
  p->layout = INFER_LAYOUT_NCHW;
  p->dtype = INFER_DTYPE_F32;
  p->int8_scale = 1.0f;
  p->interp = INFER_INTERP_BILINEAR;
  p->keep_aspect = false;
  p->pad_symmetric = true;
  p->pad_value = 114.0f; /* the usual YOLO letterbox grey; only used with keep_aspect */
  p->scale = 1.0f / 255.0f;
  for (int c = 0; c < 3; c++) {
    p->mean[c] = 0.0f;
    p->std[c] = 1.0f;
  }
}

/* ---- geometry --------------------------------------------------------------- */

typedef struct Geometry {
  float rx, ry, rw, rh;            /* clipped region */
  int first_x, last_x, first_y, last_y; /* sampled source pixels (inclusive) */
  float scale_x, scale_y;
  int content_w, content_h;
  int pad_x, pad_y;
} Geometry;

static InferStatus *bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static InferStatus *bad(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  InferStatus *st = infer_status_newv(INFER_ERR_INVALID_ARGUMENT, fmt, ap);
  va_end(ap);
  return st;
}

static int clamp_int(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

static InferStatus *compute_geometry(const InferPreprocessParams *p, const InferRect *roi,
                                     int frame_w, int frame_h, Geometry *g) {
  if (!p) return bad("preprocess: params is NULL");
  if (p->out_width <= 0 || p->out_height <= 0)
    return bad("preprocess: out_width x out_height %d x %d must be positive", p->out_width,
               p->out_height);
  if (frame_w <= 0 || frame_h <= 0)
    return bad("preprocess: frame size %d x %d must be positive", frame_w, frame_h);
  double x0 = 0, y0 = 0, x1 = frame_w, y1 = frame_h;
  if (roi) {
    if (!isfinite(roi->x) || !isfinite(roi->y) || !isfinite(roi->w) || !isfinite(roi->h))
      return bad("preprocess: roi (%g, %g, %g, %g) is not finite", (double)roi->x,
                 (double)roi->y, (double)roi->w, (double)roi->h);
    x0 = fmax(roi->x, 0.0);
    y0 = fmax(roi->y, 0.0);
    x1 = fmin((double)roi->x + roi->w, (double)frame_w);
    y1 = fmin((double)roi->y + roi->h, (double)frame_h);
    if (!(x1 > x0) || !(y1 > y0))
      return bad("preprocess: roi (%g, %g, %g, %g) is empty inside the %d x %d frame",
                 (double)roi->x, (double)roi->y, (double)roi->w, (double)roi->h, frame_w,
                 frame_h);
  }
  g->rx = (float)x0;
  g->ry = (float)y0;
  g->rw = (float)(x1 - x0);
  g->rh = (float)(y1 - y0);
  if (!(g->rw > 0) || !(g->rh > 0))
    return bad("preprocess: roi is empty (%g x %g pixels)", (double)g->rw, (double)g->rh);
  g->first_x = clamp_int((int)floor(x0), 0, frame_w - 1);
  g->last_x = clamp_int((int)ceil(x1) - 1, g->first_x, frame_w - 1);
  g->first_y = clamp_int((int)floor(y0), 0, frame_h - 1);
  g->last_y = clamp_int((int)ceil(y1) - 1, g->first_y, frame_h - 1);

  float sx = (float)p->out_width / g->rw;
  float sy = (float)p->out_height / g->rh;
  if (!p->keep_aspect) {
    g->scale_x = sx;
    g->scale_y = sy;
    g->content_w = p->out_width;
    g->content_h = p->out_height;
    g->pad_x = g->pad_y = 0;
    return NULL;
  }
  float s = sx < sy ? sx : sy;
  g->scale_x = g->scale_y = s;
  if (sx <= sy) {
    g->content_w = p->out_width;
    g->content_h = clamp_int((int)lround((double)g->rh * s), 1, p->out_height);
  } else {
    g->content_h = p->out_height;
    g->content_w = clamp_int((int)lround((double)g->rw * s), 1, p->out_width);
  }
  g->pad_x = p->pad_symmetric ? (p->out_width - g->content_w) / 2 : 0;
  g->pad_y = p->pad_symmetric ? (p->out_height - g->content_h) / 2 : 0;
  return NULL;
}

static void fill_letterbox(const Geometry *g, InferLetterbox *out) {
  out->scale_x = g->scale_x;
  out->scale_y = g->scale_y;
  out->pad_x = (float)g->pad_x;
  out->pad_y = (float)g->pad_y;
  out->offset_x = g->rx;
  out->offset_y = g->ry;
}

InferStatus *infer_preprocess_letterbox(const InferPreprocessParams *p, const InferRect *roi,
                                        int frame_width, int frame_height, InferLetterbox *out) {
  if (!out) return bad("preprocess: letterbox output is NULL");
  Geometry g;
  memset(&g, 0, sizeof g); /* quiets -Wmaybe-uninitialized at -O3 */
  INFER_TRY(compute_geometry(p, roi, frame_width, frame_height, &g));
  fill_letterbox(&g, out);
  return NULL;
}

/* ---- validation ------------------------------------------------------------- */

static const char *format_name(InferPixelFormat f) {
  static const char *names[] = {"RGB", "BGR", "RGBA", "BGRA", "RGBx", "BGRx", "GRAY8", "NV12", "I420"};
  return (unsigned)f < INFER_PIXEL_FORMAT_COUNT ? names[f] : "?";
}

/* Number of planes and the minimum row bytes of each. */
static int plane_layout(const InferImage *im, int64_t row_bytes[3]) {
  int64_t w = im->width, cw = (w + 1) / 2;
  switch (im->format) {
    case INFER_PIXEL_RGB:
    case INFER_PIXEL_BGR: row_bytes[0] = 3 * w; return 1;
    case INFER_PIXEL_RGBA:
    case INFER_PIXEL_BGRA:
    case INFER_PIXEL_RGBX:
    case INFER_PIXEL_BGRX: row_bytes[0] = 4 * w; return 1;
    case INFER_PIXEL_GRAY8: row_bytes[0] = w; return 1;
    case INFER_PIXEL_NV12:
      row_bytes[0] = w;
      row_bytes[1] = 2 * cw;
      return 2;
    case INFER_PIXEL_I420:
      row_bytes[0] = w;
      row_bytes[1] = row_bytes[2] = cw;
      return 3;
    default: return 0;
  }
}

static InferStatus *validate(const InferImage *src, const InferPreprocessParams *p, const void *dst) {
  if (!src) return bad("preprocess: src image is NULL");
  if (!p) return bad("preprocess: params is NULL");
  if (!dst) return bad("preprocess: dst is NULL");
  if ((unsigned)src->format >= INFER_PIXEL_FORMAT_COUNT)
    return bad("preprocess: unknown src format %d", (int)src->format);
  if (src->width <= 0 || src->height <= 0)
    return bad("preprocess: src size %d x %d must be positive", src->width, src->height);
  int64_t rb[3];
  int n = plane_layout(src, rb);
  for (int i = 0; i < n; i++) {
    if (!src->planes[i])
      return bad("preprocess: %s src plane %d is NULL", format_name(src->format), i);
    if (src->strides[i] < rb[i])
      return bad("preprocess: %s src stride %d of plane %d is smaller than the row (%lld bytes)",
                 format_name(src->format), src->strides[i], i, (long long)rb[i]);
  }
  if (p->out_width <= 0 || p->out_height <= 0)
    return bad("preprocess: out_width x out_height %d x %d must be positive", p->out_width,
               p->out_height);
  if ((unsigned)p->order > INFER_ORDER_GRAY)
    return bad("preprocess: unknown channel order %d", (int)p->order);
  if ((unsigned)p->layout > INFER_LAYOUT_NHWC)
    return bad("preprocess: unknown layout %d", (int)p->layout);
  if ((unsigned)p->interp > INFER_INTERP_NEAREST)
    return bad("preprocess: unknown interpolation %d", (int)p->interp);
  if (p->dtype != INFER_DTYPE_F32 && p->dtype != INFER_DTYPE_F16 && p->dtype != INFER_DTYPE_I8 &&
      p->dtype != INFER_DTYPE_U8)
    return infer_status_new(INFER_ERR_UNSUPPORTED,
                            "preprocess: output dtype %s (supported: f32, f16, i8, u8)",
                            infer_dtype_name(p->dtype));
  if (p->dtype == INFER_DTYPE_I8 && !(isfinite(p->int8_scale) && p->int8_scale > 0))
    return bad("preprocess: int8_scale %g must be positive", (double)p->int8_scale);
  if (!isfinite(p->scale)) return bad("preprocess: scale %g is not finite", (double)p->scale);
  if (!isfinite(p->pad_value))
    return bad("preprocess: pad_value %g is not finite", (double)p->pad_value);
  int channels = p->order == INFER_ORDER_GRAY ? 1 : 3;
  for (int c = 0; c < channels; c++) {
    if (!isfinite(p->std[c]) || p->std[c] == 0)
      return bad("preprocess: std[%d] = %g must be finite and non-zero", c, (double)p->std[c]);
    if (!isfinite(p->mean[c]))
      return bad("preprocess: mean[%d] = %g is not finite", c, (double)p->mean[c]);
  }
  return NULL;
}

/* ---- source pixels ---------------------------------------------------------- */

typedef struct RGBf {
  float r, g, b;
} RGBf;

/* Clamping must not branch: with noisy chroma the branches mispredict and
 * the YUV paths ran several times slower. Compilers turn neither the
 * ternary nor fmaxf into maxss on x86 by themselves. */
#if defined(__SSE__)
PP_INLINE float clamp255(float v) {
  __m128 x = _mm_max_ss(_mm_set_ss(v), _mm_setzero_ps());
  return _mm_cvtss_f32(_mm_min_ss(x, _mm_set_ss(255.0f)));
}
#else
PP_INLINE float clamp255(float v) { return fminf(fmaxf(v, 0.0f), 255.0f); }
#endif

PP_INLINE RGBf yuv_to_rgb(int y, int u, int v) {
  float c = 1.164f * (float)(y - 16);
  float d = (float)(u - 128), e = (float)(v - 128);
  RGBf o;
  o.r = clamp255(c + 1.596f * e);
  o.g = clamp255(c - 0.392f * d - 0.813f * e);
  o.b = clamp255(c + 2.017f * d);
  return o;
}

/* Source pixel x of a row; rows[] are the row starts of each plane (chroma
 * rows already halved). `fmt` is a constant at every call site, so each
 * format gets its own inlined loop. */
PP_INLINE RGBf fetch(InferPixelFormat fmt, const uint8_t *const rows[3], int x) {
  RGBf o;
  const uint8_t *q;
  switch (fmt) {
    case INFER_PIXEL_RGB:
      q = rows[0] + 3 * (size_t)x;
      o.r = q[0], o.g = q[1], o.b = q[2];
      return o;
    case INFER_PIXEL_BGR:
      q = rows[0] + 3 * (size_t)x;
      o.r = q[2], o.g = q[1], o.b = q[0];
      return o;
    case INFER_PIXEL_RGBA:
    case INFER_PIXEL_RGBX:
      q = rows[0] + 4 * (size_t)x;
      o.r = q[0], o.g = q[1], o.b = q[2];
      return o;
    case INFER_PIXEL_BGRA:
    case INFER_PIXEL_BGRX:
      q = rows[0] + 4 * (size_t)x;
      o.r = q[2], o.g = q[1], o.b = q[0];
      return o;
    case INFER_PIXEL_GRAY8:
      o.r = o.g = o.b = rows[0][x];
      return o;
    case INFER_PIXEL_NV12:
      q = rows[1] + 2 * (size_t)(x >> 1);
      return yuv_to_rgb(rows[0][x], q[0], q[1]);
    case INFER_PIXEL_I420:
      return yuv_to_rgb(rows[0][x], rows[1][x >> 1], rows[2][x >> 1]);
    default:
      o.r = o.g = o.b = 0;
      return o;
  }
}

/* Row starts of every plane for source row y. */
static void source_rows(const InferImage *im, int y, const uint8_t *rows[3]) {
  rows[0] = im->planes[0] + (size_t)y * (size_t)im->strides[0];
  rows[1] = rows[2] = NULL;
  if (im->format == INFER_PIXEL_NV12) {
    rows[1] = im->planes[1] + (size_t)(y >> 1) * (size_t)im->strides[1];
  } else if (im->format == INFER_PIXEL_I420) {
    rows[1] = im->planes[1] + (size_t)(y >> 1) * (size_t)im->strides[1];
    rows[2] = im->planes[2] + (size_t)(y >> 1) * (size_t)im->strides[2];
  }
}

/* Per-column taps of the content, computed once per call. */
typedef struct Taps {
  int *i0, *i1;
  float *w;
} Taps;

static void compute_taps(InferInterp interp, float origin, float scale, int first, int last, int n,
                         int *i0, int *i1, float *w) {
  for (int d = 0; d < n; d++) {
    double c = (double)origin + ((double)d + 0.5) / (double)scale;
    if (interp == INFER_INTERP_NEAREST) {
      double f = floor(c);
      int i = f < first ? first : (f > last ? last : (int)f);
      i0[d] = i1[d] = i;
      w[d] = 0.0f;
    } else {
      double s = c - 0.5;
      if (s < first) s = first;
      if (s > last) s = last;
      int a = (int)floor(s);
      if (a > last) a = last;
      i0[d] = a;
      i1[d] = a + 1 > last ? last : a + 1;
      w[d] = (float)(s - a);
    }
  }
}

/* Writes content_w interpolated RGB pixels of one output row into r, g, b. */
PP_INLINE void sample_row(InferPixelFormat fmt, bool bilinear, const uint8_t *const rows0[3],
                          const uint8_t *const rows1[3], float wy, const Taps *tx, int n,
                          float *r, float *g, float *b) {
  if (!bilinear) {
    for (int i = 0; i < n; i++) {
      RGBf p = fetch(fmt, rows0, tx->i0[i]);
      r[i] = p.r, g[i] = p.g, b[i] = p.b;
    }
    return;
  }
  for (int i = 0; i < n; i++) {
    int x0 = tx->i0[i], x1 = tx->i1[i];
    float wx = tx->w[i];
    RGBf a = fetch(fmt, rows0, x0), bb = fetch(fmt, rows0, x1);
    RGBf c = fetch(fmt, rows1, x0), d = fetch(fmt, rows1, x1);
    float tr = a.r + (bb.r - a.r) * wx, tg = a.g + (bb.g - a.g) * wx, tb = a.b + (bb.b - a.b) * wx;
    float br = c.r + (d.r - c.r) * wx, bg = c.g + (d.g - c.g) * wx, bt = c.b + (d.b - c.b) * wx;
    r[i] = tr + (br - tr) * wy;
    g[i] = tg + (bg - tg) * wy;
    b[i] = tb + (bt - tb) * wy;
  }
}

#define SAMPLE_CASE(F)                                                              \
  case F:                                                                           \
    if (bilinear)                                                                   \
      sample_row(F, true, rows0, rows1, wy, tx, n, r, g, b);                        \
    else                                                                            \
      sample_row(F, false, rows0, rows1, wy, tx, n, r, g, b);                       \
    break;

static void sample_row_any(InferPixelFormat fmt, bool bilinear, const uint8_t *const rows0[3],
                           const uint8_t *const rows1[3], float wy, const Taps *tx, int n,
                           float *r, float *g, float *b) {
  switch (fmt) {
    SAMPLE_CASE(INFER_PIXEL_RGB)
    SAMPLE_CASE(INFER_PIXEL_BGR)
    SAMPLE_CASE(INFER_PIXEL_RGBA)
    SAMPLE_CASE(INFER_PIXEL_BGRA)
    SAMPLE_CASE(INFER_PIXEL_RGBX)
    SAMPLE_CASE(INFER_PIXEL_BGRX)
    SAMPLE_CASE(INFER_PIXEL_GRAY8)
    SAMPLE_CASE(INFER_PIXEL_NV12)
    SAMPLE_CASE(INFER_PIXEL_I420)
    default: break;
  }
}

/* ---- output ----------------------------------------------------------------- */

typedef struct Writer {
  InferDType dtype;
  InferLayout layout;
  int w, h, channels;
  float scale, mean[3], inv_std[3], int8_scale;
  void *dst;
} Writer;

PP_INLINE float clamp_range(float v, float lo, float hi) {
#if defined(__SSE__)
  __m128 x = _mm_max_ss(_mm_set_ss(v), _mm_set_ss(lo));
  return _mm_cvtss_f32(_mm_min_ss(x, _mm_set_ss(hi)));
#else
  return fminf(fmaxf(v, lo), hi);
#endif
}

/* clamp(roundf(v), lo, hi) for integer lo, hi, without a call to roundf:
 * clamping first gives the same result, then rounding half away from zero is
 * exact in double (v + 0.5 cannot round up there as it can in float). */
PP_INLINE int round_clamp(float v, float lo, float hi) {
  double d = (double)clamp_range(v, lo, hi);
  return (int)(d + copysign(0.5, d));
}

/* infer_float_to_half inlined for zero and the normal half range (the same
 * bit operations), the rest (subnormal, overflow, inf, nan) left to it. */
PP_INLINE uint16_t to_half(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  uint32_t absx = x & 0x7fffffffu;
  if (absx < 0x33000000u) return (uint16_t)((x >> 16) & 0x8000); /* below 2^-25: zero */
  if (absx < 0x38800000u || absx >= 0x477ff000u) return infer_float_to_half(f);
  uint32_t h = ((((absx >> 23) - 112) << 10)) | ((absx >> 13) & 0x3ff);
  uint32_t rest = absx & 0x1fff;
  h += rest + (h & 1) > 0x1000; /* round to nearest even, without a branch */
  return (uint16_t)(((x >> 16) & 0x8000) | h);
}

/* Normalizes and stores one output row of pixel values (one array per
 * output channel, w entries each). */
static void write_row(const Writer *wr, int y, float *const chan[3]) {
  size_t plane = (size_t)wr->w * (size_t)wr->h;
  size_t row = (size_t)y * (size_t)wr->w;
  int C = wr->channels, W = wr->w;
  bool nchw = wr->layout == INFER_LAYOUT_NCHW;
  for (int c = 0; c < C; c++) {
    const float *s = chan[c];
    float sc = wr->scale, m = wr->mean[c], is = wr->inv_std[c];
    size_t base = nchw ? c * plane + row : row * (size_t)C + (size_t)c;
    size_t step = nchw ? 1 : (size_t)C;
    switch (wr->dtype) {
      case INFER_DTYPE_F32: {
        float *d = (float *)wr->dst + base;
        if (nchw)
          for (int x = 0; x < W; x++) d[x] = (s[x] * sc - m) * is;
        else
          for (int x = 0; x < W; x++) d[(size_t)x * step] = (s[x] * sc - m) * is;
        break;
      }
      case INFER_DTYPE_F16: {
        uint16_t *d = (uint16_t *)wr->dst + base;
        for (int x = 0; x < W; x++) d[(size_t)x * step] = to_half((s[x] * sc - m) * is);
        break;
      }
      case INFER_DTYPE_I8: {
        int8_t *d = (int8_t *)wr->dst + base;
        float q = wr->int8_scale;
        for (int x = 0; x < W; x++)
          d[(size_t)x * step] = (int8_t)round_clamp((s[x] * sc - m) * is / q, -127.0f, 127.0f);
        break;
      }
      case INFER_DTYPE_U8: {
        uint8_t *d = (uint8_t *)wr->dst + base;
        for (int x = 0; x < W; x++)
          d[(size_t)x * step] = (uint8_t)round_clamp((s[x] * sc - m) * is, 0.0f, 255.0f);
        break;
      }
      default: break;
    }
  }
}

/* ---- entry point ------------------------------------------------------------ */

InferStatus *infer_preprocess_cpu(const InferImage *src, const InferRect *roi,
                                  const InferPreprocessParams *p, void *dst, InferLetterbox *xf) {
  INFER_TRY(validate(src, p, dst));
  Geometry g;
  memset(&g, 0, sizeof g); /* quiets -Wmaybe-uninitialized at -O3 */
  INFER_TRY(compute_geometry(p, roi, src->width, src->height, &g));

  int W = p->out_width, H = p->out_height, cw = g.content_w, ch = g.content_h;
  int C = p->order == INFER_ORDER_GRAY ? 1 : 3;
  bool bilinear = p->interp == INFER_INTERP_BILINEAR;

  /* one block: column taps (3 * cw), row taps (3 * ch), a row of 3 channels */
  size_t n_int = 2 * (size_t)cw + 2 * (size_t)ch;
  size_t n_float = (size_t)cw + (size_t)ch + 3 * (size_t)W;
  char *mem = malloc(n_int * sizeof(int) + n_float * sizeof(float));
  if (!mem) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "preprocess: out of memory (%d x %d)", W, H);
  float *fb = (float *)mem; /* floats first: both types are 4-byte aligned */
  Taps tx = {(int *)(fb + n_float), (int *)(fb + n_float) + cw, fb};
  Taps ty = {tx.i1 + cw, tx.i1 + cw + ch, fb + cw};
  float *rowbuf = fb + cw + ch;
  compute_taps(p->interp, g.rx, g.scale_x, g.first_x, g.last_x, cw, tx.i0, tx.i1, tx.w);
  compute_taps(p->interp, g.ry, g.scale_y, g.first_y, g.last_y, ch, ty.i0, ty.i1, ty.w);

  Writer wr;
  wr.dtype = p->dtype;
  wr.layout = p->layout;
  wr.w = W;
  wr.h = H;
  wr.channels = C;
  wr.scale = p->scale;
  wr.int8_scale = p->int8_scale;
  wr.dst = dst;
  for (int c = 0; c < 3; c++) {
    wr.mean[c] = c < C ? p->mean[c] : 0.0f;
    wr.inv_std[c] = c < C ? 1.0f / p->std[c] : 1.0f;
  }

  /* R, G, B planes of the row; the output channels point into them */
  float *R = rowbuf, *G = rowbuf + W, *B = rowbuf + 2 * W;
  float *chan[3];
  if (p->order == INFER_ORDER_BGR) {
    chan[0] = B, chan[1] = G, chan[2] = R;
  } else {
    chan[0] = R, chan[1] = G, chan[2] = B;
  }
  bool gray_out = p->order == INFER_ORDER_GRAY;
  bool gray_src = src->format == INFER_PIXEL_GRAY8;

  /* rows entirely in the padding */
  bool have_pad_rows = ch < H;
  if (have_pad_rows) {
    for (int i = 0; i < 3 * W; i++) rowbuf[i] = p->pad_value;
    for (int y = 0; y < g.pad_y; y++) write_row(&wr, y, chan);
    for (int y = g.pad_y + ch; y < H; y++) write_row(&wr, y, chan);
  }
  /* the padding columns of content rows never change */
  for (int c = 0; c < 3; c++) {
    float *row = rowbuf + (size_t)c * W;
    for (int x = 0; x < g.pad_x; x++) row[x] = p->pad_value;
    for (int x = g.pad_x + cw; x < W; x++) row[x] = p->pad_value;
  }

  const uint8_t *rows0[3], *rows1[3];
  for (int j = 0; j < ch; j++) {
    source_rows(src, ty.i0[j], rows0);
    source_rows(src, ty.i1[j], rows1);
    float *r = R + g.pad_x, *gg = G + g.pad_x, *b = B + g.pad_x;
    sample_row_any(src->format, bilinear, rows0, rows1, ty.w[j], &tx, cw, r, gg, b);
    if (gray_out && !gray_src)
      for (int i = 0; i < cw; i++) r[i] = 0.299f * r[i] + 0.587f * gg[i] + 0.114f * b[i];
    write_row(&wr, g.pad_y + j, chan);
  }
  free(mem);
  if (xf) fill_letterbox(&g, xf);
  return NULL;
}
