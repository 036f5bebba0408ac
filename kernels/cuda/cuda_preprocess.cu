/* Frame preprocessing on the GPU (see cuda_preprocess.h; the semantics are
 * written down at the top of kernels/cpu/preprocess.c).
 *
 * The host part validates the items and computes each item's geometry
 * (clipped region, sampled pixels, scale, content size, padding) exactly as
 * the CPU reference does; the kernel then computes one output pixel (every
 * channel) per thread, items along grid z. Tap positions are computed per
 * pixel in double as the CPU computes them per row / column, and every
 * float operation uses the round-to-nearest intrinsics so that nvcc cannot
 * contract a multiply and an add into an FMA the CPU does not do: the
 * results are then the CPU's bit for bit. */
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "cuda_preprocess.h"

namespace {

/* ---- what the kernel reads ------------------------------------------------------------- */

struct PrepItem {
  const uint8_t *planes[3];
  int strides[3];
  int format;
  float rx, ry, scale_x, scale_y;
  int first_x, last_x, first_y, last_y;
  int content_w, content_h, pad_x, pad_y;
  void *dst;
};

struct PrepCommon {
  int out_w, out_h, channels;
  int bgr, gray_out, nhwc, bilinear, dtype;
  float pad_value, scale, int8_scale;
  float mean[3], inv_std[3];
};

/* The item table is sized per launch (1, 8 or 32 entries): a launch copies
 * its parameters, and one frame at a time is the element's common case. */
template <int N>
struct PrepArgs {
  PrepCommon c;
  int n_items;
  PrepItem items[N];
};

/* kernel parameters are limited to 4 KiB on every CUDA version */
static_assert(sizeof(PrepArgs<INFER_CUDA_PREPROCESS_MAX_ITEMS>) <= 4000,
              "the item table must fit the kernel parameter space");

struct RGB {
  float r, g, b;
};

__device__ __forceinline__ float clamp255(float v) { return fminf(fmaxf(v, 0.0f), 255.0f); }

/* BT.601 limited range, as the CPU: c = 1.164 (y - 16), each channel clamped. */
__device__ __forceinline__ RGB yuv_to_rgb(int y, int u, int v) {
  float c = __fmul_rn(1.164f, (float)(y - 16));
  float d = (float)(u - 128), e = (float)(v - 128);
  RGB o;
  o.r = clamp255(__fadd_rn(c, __fmul_rn(1.596f, e)));
  o.g = clamp255(__fsub_rn(__fsub_rn(c, __fmul_rn(0.392f, d)), __fmul_rn(0.813f, e)));
  o.b = clamp255(__fadd_rn(c, __fmul_rn(2.017f, d)));
  return o;
}

/* Source pixel (x, y) of an item as RGB 0..255. */
__device__ __forceinline__ RGB fetch(const PrepItem &it, int x, int y) {
  const uint8_t *row = it.planes[0] + (size_t)y * (size_t)it.strides[0];
  RGB o;
  const uint8_t *q;
  switch (it.format) {
    case INFER_PIXEL_RGB:
      q = row + 3 * (size_t)x;
      o.r = q[0], o.g = q[1], o.b = q[2];
      return o;
    case INFER_PIXEL_BGR:
      q = row + 3 * (size_t)x;
      o.r = q[2], o.g = q[1], o.b = q[0];
      return o;
    case INFER_PIXEL_RGBA:
    case INFER_PIXEL_RGBX:
      q = row + 4 * (size_t)x;
      o.r = q[0], o.g = q[1], o.b = q[2];
      return o;
    case INFER_PIXEL_BGRA:
    case INFER_PIXEL_BGRX:
      q = row + 4 * (size_t)x;
      o.r = q[2], o.g = q[1], o.b = q[0];
      return o;
    case INFER_PIXEL_GRAY8:
      o.r = o.g = o.b = row[x];
      return o;
    case INFER_PIXEL_NV12:
      q = it.planes[1] + (size_t)(y >> 1) * (size_t)it.strides[1] + 2 * (size_t)(x >> 1);
      return yuv_to_rgb(row[x], q[0], q[1]);
    case INFER_PIXEL_I420:
      return yuv_to_rgb(row[x], it.planes[1][(size_t)(y >> 1) * (size_t)it.strides[1] + (x >> 1)],
                        it.planes[2][(size_t)(y >> 1) * (size_t)it.strides[2] + (x >> 1)]);
    default:
      o.r = o.g = o.b = 0.0f;
      return o;
  }
}

/* The CPU's compute_taps for one output position d of the content. */
__device__ __forceinline__ void tap(bool bilinear, float origin, float scale, int first, int last,
                                    int d, int *i0, int *i1, float *w) {
  double c = (double)origin + ((double)d + 0.5) / (double)scale;
  if (!bilinear) {
    double f = floor(c);
    int i = f < first ? first : (f > last ? last : (int)f);
    *i0 = *i1 = i;
    *w = 0.0f;
    return;
  }
  double s = c - 0.5;
  if (s < first) s = first;
  if (s > last) s = last;
  int a = (int)floor(s);
  if (a > last) a = last;
  *i0 = a;
  *i1 = a + 1 > last ? last : a + 1;
  *w = (float)(s - a);
}

__device__ __forceinline__ float lerp(float a, float b, float w) {
  return __fadd_rn(a, __fmul_rn(__fsub_rn(b, a), w));
}

__device__ __forceinline__ int round_clamp(float v, float lo, float hi) {
  double d = (double)fminf(fmaxf(v, lo), hi);
  return (int)(d + copysign(0.5, d));
}

__device__ __forceinline__ void store(const PrepCommon &a, void *dst, size_t index, int c,
                                      float v) {
  float x = __fmul_rn(__fsub_rn(__fmul_rn(v, a.scale), a.mean[c]), a.inv_std[c]);
  switch (a.dtype) {
    case INFER_DTYPE_F32: ((float *)dst)[index] = x; break;
    case INFER_DTYPE_F16: ((__half *)dst)[index] = __float2half_rn(x); break;
    case INFER_DTYPE_I8:
      ((int8_t *)dst)[index] = (int8_t)round_clamp(__fdiv_rn(x, a.int8_scale), -127.0f, 127.0f);
      break;
    case INFER_DTYPE_U8: ((uint8_t *)dst)[index] = (uint8_t)round_clamp(x, 0.0f, 255.0f); break;
    default: break;
  }
}

/* One output pixel of item blockIdx.z: threads along x are neighbouring
 * pixels of a row, so each channel plane is written coalesced. */
template <int N>
__global__ void preprocess_kernel(const PrepArgs<N> args) {
  const PrepCommon &a = args.c;
  int x = blockIdx.x * blockDim.x + threadIdx.x;
  int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= a.out_w || y >= a.out_h || (int)blockIdx.z >= args.n_items) return;
  const PrepItem &it = args.items[blockIdx.z];
  int dx = x - it.pad_x, dy = y - it.pad_y;
  RGB p;
  bool content = dx >= 0 && dx < it.content_w && dy >= 0 && dy < it.content_h;
  if (!content) {
    p.r = p.g = p.b = a.pad_value;
  } else {
    int x0, x1, y0, y1;
    float wx, wy;
    tap(a.bilinear, it.rx, it.scale_x, it.first_x, it.last_x, dx, &x0, &x1, &wx);
    tap(a.bilinear, it.ry, it.scale_y, it.first_y, it.last_y, dy, &y0, &y1, &wy);
    if (!a.bilinear) {
      p = fetch(it, x0, y0);
    } else {
      RGB q00 = fetch(it, x0, y0), q01 = fetch(it, x1, y0);
      RGB q10 = fetch(it, x0, y1), q11 = fetch(it, x1, y1);
      float tr = lerp(q00.r, q01.r, wx), tg = lerp(q00.g, q01.g, wx), tb = lerp(q00.b, q01.b, wx);
      float br = lerp(q10.r, q11.r, wx), bg = lerp(q10.g, q11.g, wx), bb = lerp(q10.b, q11.b, wx);
      p.r = lerp(tr, br, wy), p.g = lerp(tg, bg, wy), p.b = lerp(tb, bb, wy);
    }
    if (a.gray_out && it.format != INFER_PIXEL_GRAY8)
      p.r = __fadd_rn(__fadd_rn(__fmul_rn(0.299f, p.r), __fmul_rn(0.587f, p.g)),
                      __fmul_rn(0.114f, p.b));
  }
  size_t plane = (size_t)a.out_w * (size_t)a.out_h, pix = (size_t)y * a.out_w + x;
  float v[3] = {a.bgr ? p.b : p.r, p.g, a.bgr ? p.r : p.b};
  for (int c = 0; c < a.channels; c++) {
    size_t index = a.nhwc ? pix * (size_t)a.channels + c : (size_t)c * plane + pix;
    store(a, it.dst, index, c, v[c]);
  }
}

/* ---- host side: validation and geometry (the CPU reference's rules) ------------------- */

InferStatus *bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
InferStatus *bad(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  InferStatus *st = infer_status_newv(INFER_ERR_INVALID_ARGUMENT, fmt, ap);
  va_end(ap);
  return st;
}

const char *format_name(InferPixelFormat f) {
  static const char *names[] = {"RGB", "BGR", "RGBA", "BGRA", "RGBx", "BGRx", "GRAY8", "NV12", "I420"};
  return (unsigned)f < INFER_PIXEL_FORMAT_COUNT ? names[f] : "?";
}

int clamp_int(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

/* Planes of a format and the smallest stride of each. */
int plane_rows(const InferImage *im, int64_t row_bytes[3]) {
  int64_t w = im->width, cw = (w + 1) / 2;
  switch (im->format) {
    case INFER_PIXEL_RGB:
    case INFER_PIXEL_BGR: row_bytes[0] = 3 * w; return 1;
    case INFER_PIXEL_RGBA:
    case INFER_PIXEL_BGRA:
    case INFER_PIXEL_RGBX:
    case INFER_PIXEL_BGRX: row_bytes[0] = 4 * w; return 1;
    case INFER_PIXEL_GRAY8: row_bytes[0] = w; return 1;
    case INFER_PIXEL_NV12: row_bytes[0] = w, row_bytes[1] = 2 * cw; return 2;
    case INFER_PIXEL_I420: row_bytes[0] = w, row_bytes[1] = row_bytes[2] = cw; return 3;
    default: return 0;
  }
}

InferStatus *validate_params(const InferPreprocessParams *p) {
  if (!p) return bad("cuda preprocess: params is NULL");
  if (p->out_width <= 0 || p->out_height <= 0)
    return bad("cuda preprocess: out_width x out_height %d x %d must be positive", p->out_width,
               p->out_height);
  if ((unsigned)p->order > INFER_ORDER_GRAY)
    return bad("cuda preprocess: unknown channel order %d", (int)p->order);
  if ((unsigned)p->layout > INFER_LAYOUT_NHWC)
    return bad("cuda preprocess: unknown layout %d", (int)p->layout);
  if ((unsigned)p->interp > INFER_INTERP_NEAREST)
    return bad("cuda preprocess: unknown interpolation %d", (int)p->interp);
  if (p->dtype != INFER_DTYPE_F32 && p->dtype != INFER_DTYPE_F16 && p->dtype != INFER_DTYPE_I8 &&
      p->dtype != INFER_DTYPE_U8)
    return infer_status_new(INFER_ERR_UNSUPPORTED,
                            "cuda preprocess: output dtype %s (supported: f32, f16, i8, u8)",
                            infer_dtype_name(p->dtype));
  if (p->dtype == INFER_DTYPE_I8 && !(isfinite(p->int8_scale) && p->int8_scale > 0))
    return bad("cuda preprocess: int8_scale %g must be positive", (double)p->int8_scale);
  if (!isfinite(p->scale)) return bad("cuda preprocess: scale %g is not finite", (double)p->scale);
  if (!isfinite(p->pad_value))
    return bad("cuda preprocess: pad_value %g is not finite", (double)p->pad_value);
  int channels = p->order == INFER_ORDER_GRAY ? 1 : 3;
  for (int c = 0; c < channels; c++) {
    if (!isfinite(p->std[c]) || p->std[c] == 0)
      return bad("cuda preprocess: std[%d] = %g must be finite and non-zero", c,
                 (double)p->std[c]);
    if (!isfinite(p->mean[c]))
      return bad("cuda preprocess: mean[%d] = %g is not finite", c, (double)p->mean[c]);
  }
  return NULL;
}

InferStatus *validate_item(const InferCudaPreprocessItem *item, int i) {
  const InferImage *im = &item->image;
  if (!item->dst) return bad("cuda preprocess: item %d: dst is NULL", i);
  if ((unsigned)im->format >= INFER_PIXEL_FORMAT_COUNT)
    return bad("cuda preprocess: item %d: unknown src format %d", i, (int)im->format);
  if (im->width <= 0 || im->height <= 0)
    return bad("cuda preprocess: item %d: src size %d x %d must be positive", i, im->width,
               im->height);
  int64_t rb[3];
  int n = plane_rows(im, rb);
  for (int k = 0; k < n; k++) {
    if (!im->planes[k])
      return bad("cuda preprocess: item %d: %s src plane %d is NULL", i, format_name(im->format),
                 k);
    if (im->strides[k] < rb[k])
      return bad("cuda preprocess: item %d: %s src stride %d of plane %d is smaller than the row "
                 "(%lld bytes)",
                 i, format_name(im->format), im->strides[k], k, (long long)rb[k]);
  }
  return NULL;
}

/* compute_geometry of the CPU reference, into the kernel's item. */
InferStatus *geometry(const InferPreprocessParams *p, const InferCudaPreprocessItem *item,
                      PrepItem *g) {
  int fw = item->image.width, fh = item->image.height;
  double x0 = 0, y0 = 0, x1 = fw, y1 = fh;
  if (item->has_roi) {
    const InferRect *roi = &item->roi;
    if (!isfinite(roi->x) || !isfinite(roi->y) || !isfinite(roi->w) || !isfinite(roi->h))
      return bad("cuda preprocess: roi (%g, %g, %g, %g) is not finite", (double)roi->x,
                 (double)roi->y, (double)roi->w, (double)roi->h);
    x0 = fmax(roi->x, 0.0);
    y0 = fmax(roi->y, 0.0);
    x1 = fmin((double)roi->x + roi->w, (double)fw);
    y1 = fmin((double)roi->y + roi->h, (double)fh);
    if (!(x1 > x0) || !(y1 > y0))
      return bad("cuda preprocess: roi (%g, %g, %g, %g) is empty inside the %d x %d frame",
                 (double)roi->x, (double)roi->y, (double)roi->w, (double)roi->h, fw, fh);
  }
  g->rx = (float)x0;
  g->ry = (float)y0;
  float rw = (float)(x1 - x0), rh = (float)(y1 - y0);
  if (!(rw > 0) || !(rh > 0))
    return bad("cuda preprocess: roi is empty (%g x %g pixels)", (double)rw, (double)rh);
  g->first_x = clamp_int((int)floor(x0), 0, fw - 1);
  g->last_x = clamp_int((int)ceil(x1) - 1, g->first_x, fw - 1);
  g->first_y = clamp_int((int)floor(y0), 0, fh - 1);
  g->last_y = clamp_int((int)ceil(y1) - 1, g->first_y, fh - 1);
  float sx = (float)p->out_width / rw, sy = (float)p->out_height / rh;
  if (!p->keep_aspect) {
    g->scale_x = sx, g->scale_y = sy;
    g->content_w = p->out_width, g->content_h = p->out_height;
    g->pad_x = g->pad_y = 0;
    return NULL;
  }
  float s = sx < sy ? sx : sy;
  g->scale_x = g->scale_y = s;
  if (sx <= sy) {
    g->content_w = p->out_width;
    g->content_h = clamp_int((int)lround((double)rh * s), 1, p->out_height);
  } else {
    g->content_h = p->out_height;
    g->content_w = clamp_int((int)lround((double)rw * s), 1, p->out_width);
  }
  g->pad_x = p->pad_symmetric ? (p->out_width - g->content_w) / 2 : 0;
  g->pad_y = p->pad_symmetric ? (p->out_height - g->content_h) / 2 : 0;
  return NULL;
}

void common_args(const InferPreprocessParams *p, PrepCommon *a) {
  a->out_w = p->out_width;
  a->out_h = p->out_height;
  a->channels = p->order == INFER_ORDER_GRAY ? 1 : 3;
  a->bgr = p->order == INFER_ORDER_BGR;
  a->gray_out = p->order == INFER_ORDER_GRAY;
  a->nhwc = p->layout == INFER_LAYOUT_NHWC;
  a->bilinear = p->interp == INFER_INTERP_BILINEAR;
  a->dtype = (int)p->dtype;
  a->pad_value = p->pad_value;
  a->scale = p->scale;
  a->int8_scale = p->int8_scale;
  for (int c = 0; c < 3; c++) {
    a->mean[c] = c < a->channels ? p->mean[c] : 0.0f;
    a->inv_std[c] = c < a->channels ? 1.0f / p->std[c] : 1.0f;
  }
}

/* One launch of k <= N (validated) items. */
template <int N>
InferStatus *launch(const InferPreprocessParams *p, const PrepCommon &c,
                    const InferCudaPreprocessItem *items, int k, void *stream) {
  PrepArgs<N> a;
  memset(&a, 0, sizeof a);
  a.c = c;
  a.n_items = k;
  for (int i = 0; i < k; i++) {
    PrepItem *it = &a.items[i];
    geometry(p, &items[i], it);
    for (int q = 0; q < 3; q++) {
      it->planes[q] = items[i].image.planes[q];
      it->strides[q] = items[i].image.strides[q];
    }
    it->format = (int)items[i].image.format;
    it->dst = items[i].dst;
  }
  dim3 block(32, 8);
  dim3 grid((unsigned)((c.out_w + 31) / 32), (unsigned)((c.out_h + 7) / 8), (unsigned)k);
  preprocess_kernel<N><<<grid, block, 0, (cudaStream_t)stream>>>(a);
  cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess)
    return infer_status_new(INFER_ERR_DEVICE, "cuda preprocess: launch of %d items failed: %s", k,
                            cudaGetErrorString(err));
  return NULL;
}

}  // namespace

extern "C" InferStatus *infer_cuda_preprocess(const InferCudaPreprocessItem *items, int n,
                                              const InferPreprocessParams *p,
                                              InferLetterbox *letterboxes, void *stream) {
  if (n < 0 || (n > 0 && !items)) return bad("cuda preprocess: %d items at %p", n, (void *)items);
  InferStatus *st = validate_params(p);
  if (st) return st;
  /* every item is checked before anything is queued */
  for (int i = 0; i < n; i++) {
    if ((st = validate_item(&items[i], i))) return st;
    PrepItem g;
    if ((st = geometry(p, &items[i], &g))) return infer_status_prefix(st, "item %d", i);
    if (letterboxes) {
      InferLetterbox *l = &letterboxes[i];
      l->scale_x = g.scale_x, l->scale_y = g.scale_y;
      l->pad_x = (float)g.pad_x, l->pad_y = (float)g.pad_y;
      l->offset_x = g.rx, l->offset_y = g.ry;
    }
  }
  PrepCommon c;
  memset(&c, 0, sizeof c);
  common_args(p, &c);
  for (int start = 0; start < n; start += INFER_CUDA_PREPROCESS_MAX_ITEMS) {
    int k = n - start < INFER_CUDA_PREPROCESS_MAX_ITEMS ? n - start
                                                         : INFER_CUDA_PREPROCESS_MAX_ITEMS;
    if (k == 1) st = launch<1>(p, c, items + start, k, stream);
    else if (k <= 8) st = launch<8>(p, c, items + start, k, stream);
    else st = launch<INFER_CUDA_PREPROCESS_MAX_ITEMS>(p, c, items + start, k, stream);
    if (st) return st;
  }
  return NULL;
}
