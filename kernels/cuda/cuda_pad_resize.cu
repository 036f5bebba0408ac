/* CUDA kernels for Pad and Resize.
 *
 * Pad: constant / edge / reflect / wrap; negative pads crop. Elements are
 * moved by size (every dtype); the constant is input 2 on the device (of
 * the data's type) or zero.
 *
 * Resize: nearest (every dtype), linear and cubic (f32), with every
 * coordinate transformation mode of the CPU reference, sizes or scales,
 * axes and keep_aspect_ratio_policy, exclude_outside for linear and cubic,
 * and the extrapolation value of tf_crop_and_resize. Each output element
 * computes its source coordinate per resized axis in double, exactly as the
 * CPU reference does (no fused multiply-adds where the reference has none),
 * so nearest picks the same neighbour; linear and cubic weigh the 2^k or
 * 4^k taps of the k resized axes (the CPU's separable passes give the same
 * value up to rounding). */
#include <math.h>
#include <string.h>

#include "cuda_common.cuh"
#include "resize_cubic.h"

using namespace infer_cu;

#define GRID_STRIDE INFER_CU_GRID_STRIDE
#define STREAM ((cudaStream_t)exec->stream)

namespace {

/* ---- pad ----------------------------------------------------------------------------- */

struct PadArgs {
  int rank, mode;
  int64_t ydims[INFER_MAX_RANK], xst[INFER_MAX_RANK];
  int64_t lo[INFER_MAX_RANK], m[INFER_MAX_RANK], pb[INFER_MAX_RANK];
};

/* Source index along one axis for output position o, or -1 for the
 * constant (the CPU reference's pad_source). */
__device__ __forceinline__ int64_t pad_source(int mode, int64_t o, int64_t lo, int64_t m,
                                              int64_t pb) {
  int64_t i = o - pb;
  if (i >= 0 && i < m) return lo + i;
  switch (mode) {
    case INFER_PAD_EDGE: return lo + (i < 0 ? 0 : m - 1);
    case INFER_PAD_WRAP: return lo + ((i % m) + m) % m;
    case INFER_PAD_REFLECT: {
      if (m == 1) return lo;
      int64_t period = 2 * (m - 1), t = ((i % period) + period) % period;
      return lo + (t < m ? t : period - t);
    }
    default: return -1;
  }
}

template <typename T>
__global__ void pad_kernel(const T *__restrict__ x, T *__restrict__ y, int64_t n, PadArgs a,
                           const void *value) {
  T fill;
  if (value) fill = *(const T *)value;
  else memset(&fill, 0, sizeof fill);
  GRID_STRIDE(i, n) {
    int64_t r = i, off = 0;
    bool outside = false;
    for (int d = a.rank - 1; d >= 0; d--) {
      int64_t q = r / a.ydims[d], o = r - q * a.ydims[d];
      r = q;
      int64_t s = pad_source(a.mode, o, a.lo[d], a.m[d], a.pb[d]);
      if (s < 0) outside = true;
      else off += s * a.xst[d];
    }
    y[i] = outside ? fill : x[off];
  }
}

/* Per-dimension begin/end amounts from the host inputs pads (1) and axes (3). */
InferStatus *pad_amounts(const InferOpCall *c, int rank, int64_t *begin, int64_t *end) {
  const InferTensorView *pads = &c->in[1], *axes_v = infer_call_input(c, 3);
  int64_t n_pads = infer_shape_numel(&pads->shape), axes[INFER_MAX_RANK];
  int64_t n_axes = rank;
  if (axes_v->dtype != INFER_DTYPE_UNDEFINED) {
    n_axes = infer_shape_numel(&axes_v->shape);
    if (n_axes < 0 || n_axes > rank) return invalid(c, "axes has more values than the rank");
    for (int64_t i = 0; i < n_axes; i++) axes[i] = host_int(axes_v, i);
  } else {
    for (int i = 0; i < rank; i++) axes[i] = i;
  }
  if (n_pads != 2 * n_axes) return invalid(c, "pads must hold two values per axis");
  bool seen[INFER_MAX_RANK] = {false};
  for (int i = 0; i < rank; i++) begin[i] = end[i] = 0;
  for (int64_t i = 0; i < n_axes; i++) {
    int64_t a = axes[i] < 0 ? axes[i] + rank : axes[i];
    if (a < 0 || a >= rank || seen[a]) return invalid(c, "bad or repeated axis");
    seen[a] = true;
    begin[a] = host_int(pads, i);
    end[a] = host_int(pads, n_axes + i);
  }
  return NULL;
}

/* ---- resize ------------------------------------------------------------------------- */

struct ResizeArgs {
  int rank, mode, coord, nearest, exclude_outside, n_resized;
  int axes[INFER_MAX_RANK];           /* the resized axes */
  float extrapolation, cubic_a;
  uint64_t fill;                      /* nearest: the extrapolation element's bytes */
  int64_t in[INFER_MAX_RANK], out[INFER_MAX_RANK], xst[INFER_MAX_RANK];
  double scale[INFER_MAX_RANK];
  float roi_start[INFER_MAX_RANK], roi_end[INFER_MAX_RANK];
};

/* The CPU reference's source_coord for output position y of axis d. */
__device__ double source_coord(const ResizeArgs &a, int d, int64_t y, bool *extrapolate) {
  double in = (double)a.in[d], scale = a.scale[d], out_w = __dmul_rn(scale, in);
  double yd = (double)y;
  *extrapolate = false;
  switch (a.coord) {
    case INFER_COORD_ALIGN_CORNERS:
      return out_w == 1.0 ? 0.0 : __dmul_rn(yd, in - 1.0) / (out_w - 1.0);
    case INFER_COORD_ASYMMETRIC:
      return yd / scale;
    case INFER_COORD_PYTORCH_HALF_PIXEL:
      return out_w == 1.0 ? -0.5 : (yd + 0.5) / scale - 0.5;
    case INFER_COORD_HALF_PIXEL_SYMMETRIC: {
      double adjustment = (double)a.out[d] / out_w, center = in / 2.0;
      return __dadd_rn(__dmul_rn(center, 1.0 - adjustment), (yd + 0.5) / scale) - 0.5;
    }
    case INFER_COORD_TF_CROP_AND_RESIZE: {
      float span = a.roi_end[d] - a.roi_start[d], last = (float)(a.in[d] - 1);
      double x = out_w == 1.0 ? (double)(__fmul_rn(span, last) / 2.0f)
                              : __dmul_rn(__dmul_rn(yd, (double)span), in - 1.0) / (out_w - 1.0);
      x = __dadd_rn(x, (double)__fmul_rn(a.roi_start[d], last));
      *extrapolate = x < 0.0 || x > in - 1.0;
      return x;
    }
    default: /* half_pixel */
      return (yd + 0.5) / scale - 0.5;
  }
}

/* The CPU reference's axis_taps: the first tap's (unclamped) index and the
 * weights, 2 for linear, 4 for cubic (nearest: one tap, weight 1). */
__device__ int64_t axis_taps(const ResizeArgs &a, int d, double x, double *w) {
  double fl = floor(x);
  bool integral = x == fl;
  double r = integral ? 1.0 : x - fl;
  int n = a.mode == INFER_RESIZE_CUBIC ? 4 : 2, half = n / 2;
  double shifted = x + (double)half, sfl = floor(shifted);
  int64_t start = (int64_t)sfl - half + (shifted == sfl ? 0 : 1) - half;
  if (a.mode == INFER_RESIZE_NEAREST) {
    bool up;
    switch (a.nearest) {
      case INFER_NEAREST_ROUND_PREFER_CEIL: up = r >= 0.5; break;
      case INFER_NEAREST_FLOOR: up = false; break;
      case INFER_NEAREST_CEIL: up = true; break;
      default: up = r > 0.5; break;
    }
    if (integral || up) start += 1;
    w[0] = 1.0;
    return start;
  }
  if (n == 2) {
    w[0] = 1.0 - r;
    w[1] = r;
  } else {
    infer_resize_cubic_weights(r, (double)a.cubic_a, w);
  }
  if (a.exclude_outside) {
    double sum = 0.0;
    for (int k = 0; k < n; k++) {
      if (start + k < 0 || start + k >= a.in[d]) w[k] = 0.0;
      sum += w[k];
    }
    if (sum != 0.0)
      for (int k = 0; k < n; k++) w[k] /= sum;
  }
  return start;
}

__device__ __forceinline__ int64_t clamp_index(int64_t i, int64_t n) {
  return i < 0 ? 0 : (i >= n ? n - 1 : i);
}

/* Splits output index i into per-axis positions. */
__device__ __forceinline__ void unravel(const ResizeArgs &a, int64_t i, int64_t *pos) {
  for (int d = a.rank - 1; d >= 0; d--) {
    int64_t q = i / a.out[d];
    pos[d] = i - q * a.out[d];
    i = q;
  }
}

template <typename T>
__global__ void resize_nearest_kernel(const T *__restrict__ x, T *__restrict__ y, int64_t n,
                                      ResizeArgs a) {
  T fill;
  memcpy(&fill, &a.fill, sizeof fill);
  GRID_STRIDE(i, n) {
    int64_t pos[INFER_MAX_RANK];
    unravel(a, i, pos);
    bool outside = false;
    for (int k = 0; k < a.n_resized; k++) {
      int d = a.axes[k];
      bool e;
      double w[4], src = source_coord(a, d, pos[d], &e);
      outside |= e;
      pos[d] = clamp_index(axis_taps(a, d, src, w), a.in[d]);
    }
    int64_t off = 0;
    for (int d = 0; d < a.rank; d++) off += pos[d] * a.xst[d];
    y[i] = outside ? fill : x[off];
  }
}

/* Linear (TAPS 2) and cubic (TAPS 4): every combination of the resized
 * axes' taps, weighted, accumulated in double like the reference. */
template <int TAPS>
__global__ void resize_interp_kernel(const float *__restrict__ x, float *__restrict__ y,
                                     int64_t n, ResizeArgs a) {
  int corners = 1;
  for (int k = 0; k < a.n_resized; k++) corners *= TAPS;
  GRID_STRIDE(i, n) {
    int64_t pos[INFER_MAX_RANK], start[INFER_MAX_RANK];
    double w[INFER_MAX_RANK][4];
    unravel(a, i, pos);
    bool outside = false;
    int64_t base = 0;
    for (int k = 0; k < a.n_resized; k++) {
      int d = a.axes[k];
      bool e;
      double src = source_coord(a, d, pos[d], &e);
      outside |= e;
      start[k] = axis_taps(a, d, src, w[k]);
      pos[d] = 0; /* resized axes add their offsets per corner */
    }
    if (outside) {
      y[i] = a.extrapolation;
      continue;
    }
    for (int d = 0; d < a.rank; d++) base += pos[d] * a.xst[d];
    double acc = 0.0;
    for (int corner = 0; corner < corners; corner++) {
      double wt = 1.0;
      int64_t off = base;
      for (int k = 0, rest = corner; k < a.n_resized; k++, rest /= TAPS) {
        int tap = rest % TAPS, d = a.axes[k];
        wt *= w[k][tap];
        off += clamp_index(start[k] + tap, a.in[d]) * a.xst[d];
      }
      acc += wt * (double)x[off];
    }
    y[i] = (float)acc;
  }
}

bool has_values(const InferOpCall *c, int i) {
  return infer_call_has_input(c, i) && infer_shape_numel(&infer_call_input(c, i)->shape) != 0;
}

/* Scales (and roi) per axis from the host inputs, as the CPU's axis_specs. */
InferStatus *resize_args(const InferOpCall *c, ResizeArgs *a) {
  const InferResizeParams *p = &c->params->resize;
  const InferShape *xs = &c->in[0].shape, *ys = &c->out[0].shape;
  int rank = xs->rank, n = p->n_axes ? p->n_axes : rank;
  bool seen[INFER_MAX_RANK] = {false};
  if (ys->rank != rank || rank < 1) return invalid(c, "output rank does not match the input");
  if (n < 1 || n > rank) return invalid(c, "bad resize axes");
  memset(a, 0, sizeof *a);
  a->rank = rank;
  a->mode = p->mode;
  a->coord = p->coord;
  a->nearest = p->nearest;
  a->exclude_outside = p->exclude_outside;
  a->extrapolation = p->extrapolation_value;
  a->cubic_a = p->cubic_coeff_a;
  a->n_resized = n;
  int64_t acc = 1;
  for (int d = rank - 1; d >= 0; d--) {
    a->in[d] = xs->d[d];
    a->out[d] = ys->d[d];
    a->xst[d] = acc;
    acc *= xs->d[d];
    a->scale[d] = 1.0;
    a->roi_end[d] = 1.0f;
  }
  for (int i = 0; i < n; i++) {
    int64_t ax = p->n_axes ? p->axes[i] : i;
    if (ax < 0) ax += rank;
    if (ax < 0 || ax >= rank || seen[ax]) return invalid(c, "bad resize axes");
    seen[ax] = true;
    a->axes[i] = (int)ax;
  }
  bool by_scales = has_values(c, 2);
  const InferTensorView *vals = infer_call_input(c, by_scales ? 2 : 3);
  if (!vals->data || infer_shape_numel(&vals->shape) != n)
    return invalid(c, "expected one scale or size per resized axis");
  double common = 0.0;
  bool have_common = false;
  for (int i = 0; i < n; i++) {
    int d = a->axes[i];
    if (by_scales) {
      a->scale[d] = ((const float *)vals->data)[i];
    } else if (a->in[d] > 0) {
      a->scale[d] = (double)host_int(vals, i) / (double)a->in[d];
      bool better = p->aspect == INFER_ASPECT_NOT_LARGER ? a->scale[d] < common
                                                         : a->scale[d] > common;
      if (!have_common || better) common = a->scale[d];
      have_common = true;
    }
  }
  if (!by_scales && p->aspect != INFER_ASPECT_STRETCH)
    for (int i = 0; i < n; i++) a->scale[a->axes[i]] = common;
  if (p->coord == INFER_COORD_TF_CROP_AND_RESIZE) {
    const InferTensorView *roi = infer_call_input(c, 1);
    if (!roi->data || infer_shape_numel(&roi->shape) != 2 * n)
      return invalid(c, "roi must hold two values per resized axis");
    for (int i = 0; i < n; i++) {
      int d = a->axes[i];
      if (roi->dtype == INFER_DTYPE_F32) {
        a->roi_start[d] = ((const float *)roi->data)[i];
        a->roi_end[d] = ((const float *)roi->data)[n + i];
      } else {
        a->roi_start[d] = infer_half_to_float(((const uint16_t *)roi->data)[i]);
        a->roi_end[d] = infer_half_to_float(((const uint16_t *)roi->data)[n + i]);
      }
    }
  }
  for (int d = 0; d < rank; d++) {
    if (!seen[d] && a->in[d] != a->out[d]) return invalid(c, "a dim changes but is not resized");
    if (seen[d] && a->in[d] == 0) return invalid(c, "a resized dim is empty");
    if (seen[d] && !(a->scale[d] > 0.0)) return invalid(c, "a scale is not positive");
  }
  return NULL;
}

/* The extrapolation value as one element of t (integers round half to even
 * and saturate, like the reference's saturate_cast). */
uint64_t extrapolation_bits(InferDType t, double v) {
  uint64_t bits = 0;
  double lo = 0.0, hi = 0.0;
  switch (t) {
    case INFER_DTYPE_F32: {
      float f = (float)v;
      memcpy(&bits, &f, 4);
      return bits;
    }
    case INFER_DTYPE_F16: {
      uint16_t h = infer_float_to_half((float)v);
      memcpy(&bits, &h, 2);
      return bits;
    }
    case INFER_DTYPE_BOOL: return v != 0.0;
    case INFER_DTYPE_I8: lo = -128.0, hi = 127.0; break;
    case INFER_DTYPE_U8: lo = 0.0, hi = 255.0; break;
    case INFER_DTYPE_I32: lo = -2147483648.0, hi = 2147483647.0; break;
    default: lo = -9223372036854775808.0, hi = 9223372036854775807.0; break;
  }
  v = nearbyint(v);
  int64_t iv = v >= hi ? (t == INFER_DTYPE_I64 ? INT64_MAX : (int64_t)hi)
                       : (v < lo ? (int64_t)lo : (int64_t)v);
  memcpy(&bits, &iv, 8); /* little-endian: the low bytes are the narrow value */
  return bits;
}

}  // namespace

INFER_CU_NO_WORKSPACE(pad)
INFER_CU_NO_WORKSPACE(resize)

extern "C" {

InferStatus *infer_cuda_supports_pad(const InferOpCall *c) {
  INFER_TRY(check_passthrough(c));
  if (!is_index(infer_call_input(c, 1)->dtype)) return bad_dtype(c, 1);
  if (infer_call_has_input(c, 3) && !is_index(c->in[3].dtype)) return bad_dtype(c, 3);
  if (infer_call_has_input(c, 2) && c->in[2].dtype != c->in[0].dtype)
    return not_here(c, "a constant value of another type than the data");
  InferPadMode mode = c->params->pad.mode;
  if ((int)mode < INFER_PAD_CONSTANT || mode > INFER_PAD_WRAP) return not_here(c, "this pad mode");
  return NULL;
}

InferStatus *infer_cuda_run_pad(const InferOpCall *c, const InferCudaExec *exec) {
  const InferShape *xs = &c->in[0].shape, *ys = &c->out[0].shape;
  int64_t begin[INFER_MAX_RANK], end[INFER_MAX_RANK];
  INFER_TRY(require_host_value(c, 1));
  INFER_TRY(require_host_value(c, 3));
  INFER_TRY(pad_amounts(c, xs->rank, begin, end));
  if (ys->rank != xs->rank) return invalid(c, "output rank differs from the input's");
  PadArgs a;
  a.rank = xs->rank;
  a.mode = c->params->pad.mode;
  int64_t acc = 1;
  for (int d = xs->rank - 1; d >= 0; d--) {
    int64_t n = xs->d[d], b = begin[d], e = end[d];
    a.lo[d] = b < 0 ? -b : 0;
    a.m[d] = n - a.lo[d] - (e < 0 ? -e : 0);
    a.pb[d] = b > 0 ? b : 0;
    a.ydims[d] = ys->d[d];
    a.xst[d] = acc;
    acc *= n;
    if (a.m[d] < 0 || n + b + e != ys->d[d]) return invalid(c, "pads do not match the output");
    if (a.mode != INFER_PAD_CONSTANT && a.m[d] == 0 && ys->d[d] > 0)
      return invalid(c, "cannot pad an empty dim in this mode");
    bool mixed = (b < 0 && e > 0) || (b > 0 && e < 0);
    if ((a.mode == INFER_PAD_REFLECT || a.mode == INFER_PAD_WRAP) && mixed)
      return not_here(c, "mixed crop and pad on one dim with reflect or wrap");
  }
  int64_t n = infer_shape_numel(ys);
  if (n <= 0) return NULL;
  const void *value = has_values(c, 2) ? c->in[2].data : NULL;
  INFER_CU_BY_SIZE(infer_dtype_size(c->in[0].dtype), n, STREAM, pad_kernel, c->in[0].data,
                   c->out[0].data, n, a, value)
  return launched(c, "pad kernel");
}

InferStatus *infer_cuda_supports_resize(const InferOpCall *c) {
  const InferResizeParams *p = &c->params->resize;
  InferDType t = infer_call_input(c, 0)->dtype;
  if (p->mode == INFER_RESIZE_NEAREST) {
    if (infer_dtype_size(t) == 0) return bad_dtype(c, 0);
    if (p->exclude_outside) return not_here(c, "exclude_outside with nearest mode");
  } else if (p->mode == INFER_RESIZE_LINEAR || p->mode == INFER_RESIZE_CUBIC) {
    if (t != INFER_DTYPE_F32) return bad_dtype(c, 0);
  } else {
    return not_here(c, "this resize mode");
  }
  if (has_values(c, 2) && c->in[2].dtype != INFER_DTYPE_F32) return bad_dtype(c, 2);
  if (has_values(c, 3) && !is_index(c->in[3].dtype)) return bad_dtype(c, 3);
  if (p->coord == INFER_COORD_TF_CROP_AND_RESIZE) {
    InferDType r = infer_call_input(c, 1)->dtype;
    if (r != INFER_DTYPE_F32 && r != INFER_DTYPE_F16) return bad_dtype(c, 1);
    if (has_values(c, 2)) return not_here(c, "tf_crop_and_resize with scales (not sizes)");
  } else if ((int)p->coord < INFER_COORD_HALF_PIXEL || p->coord > INFER_COORD_TF_CROP_AND_RESIZE) {
    return not_here(c, "this coordinate transformation mode");
  }
  return NULL;
}

InferStatus *infer_cuda_run_resize(const InferOpCall *c, const InferCudaExec *exec) {
  int64_t n = infer_shape_numel(&c->out[0].shape);
  if (n <= 0) return NULL;
  ResizeArgs a;
  for (int i = 1; i < 4; i++) INFER_TRY(require_host_value(c, i));
  INFER_TRY(resize_args(c, &a));
  if (a.mode == INFER_RESIZE_LINEAR) {
    resize_interp_kernel<2><<<blocks_for(n), kThreads, 0, STREAM>>>(
        (const float *)c->in[0].data, (float *)c->out[0].data, n, a);
  } else if (a.mode == INFER_RESIZE_CUBIC) {
    resize_interp_kernel<4><<<blocks_for(n), kThreads, 0, STREAM>>>(
        (const float *)c->in[0].data, (float *)c->out[0].data, n, a);
  } else {
    a.fill = extrapolation_bits(c->out[0].dtype, (double)c->params->resize.extrapolation_value);
    INFER_CU_BY_SIZE(infer_dtype_size(c->in[0].dtype), n, STREAM, resize_nearest_kernel,
                     c->in[0].data, c->out[0].data, n, a)
  }
  return launched(c, "resize kernel");
}

}  // extern "C"
