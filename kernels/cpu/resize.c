/* Resize, following the ONNX reference implementation: each resized axis is
 * interpolated separately (1-D), in double precision. For every output
 * position along an axis the source coordinate is computed by the
 * coordinate transformation mode, then a window of n neighbours (2 for
 * linear, 4 for cubic) is weighted and the indices clamped to the input
 * (edge padding). Nearest picks one neighbour and copies elements by size,
 * so it works for every dtype; linear and cubic are f32. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cpu_util.h"
#include "resize_cubic.h"

#define MAX_TAPS 4

static InferStatus *rs_fail(const InferOpCall *c, InferStatusCode code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static InferStatus *rs_fail(const InferOpCall *c, InferStatusCode code, const char *fmt, ...) {
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return infer_status_new(code, "layer '%s' (%s): %s", c->node, infer_op_name(c->op), msg);
}

static bool has_values(const InferOpCall *c, int i) {
  return infer_call_has_input(c, i) && infer_shape_numel(&infer_call_input(c, i)->shape) != 0;
}

InferStatus *infer_cpu_supports_resize(const InferOpCall *call) {
  const InferResizeParams *p = &call->params->resize;
  const InferTensorView *x = infer_call_input(call, 0);
  if (p->mode == INFER_RESIZE_NEAREST) {
    if (infer_dtype_size(x->dtype) == 0) return infer_cpu_unsupported_dtype(call, 0);
    /* every nearest tap can be excluded, leaving nothing to normalize */
    if (p->exclude_outside)
      return rs_fail(call, INFER_ERR_UNSUPPORTED, "exclude_outside with nearest mode");
  } else if (p->mode == INFER_RESIZE_LINEAR || p->mode == INFER_RESIZE_CUBIC) {
    INFER_CPU_REQUIRE(call, 0, INFER_DTYPE_F32);
  } else {
    return rs_fail(call, INFER_ERR_UNSUPPORTED, "resize mode %d", (int)p->mode);
  }
  if (has_values(call, 2)) INFER_CPU_REQUIRE(call, 2, INFER_DTYPE_F32);
  if (has_values(call, 3)) INFER_CPU_REQUIRE(call, 3, INFER_DTYPE_I64, INFER_DTYPE_I32);
  if (p->coord == INFER_COORD_TF_CROP_AND_RESIZE) {
    INFER_CPU_REQUIRE(call, 1, INFER_DTYPE_F32, INFER_DTYPE_F16);
    if (has_values(call, 2))
      return rs_fail(call, INFER_ERR_UNSUPPORTED, "tf_crop_and_resize with scales (not sizes)");
  } else if ((int)p->coord < INFER_COORD_HALF_PIXEL || p->coord > INFER_COORD_TF_CROP_AND_RESIZE) {
    return rs_fail(call, INFER_ERR_UNSUPPORTED, "coordinate mode %d", (int)p->coord);
  }
  return NULL;
}

/* ---- per-axis plan -------------------------------------------------------- */

/* What one axis needs: scale, roi (tf_crop_and_resize) and sizes. */
typedef struct AxisSpec {
  bool resized;
  double scale;
  float roi_start, roi_end;
  int64_t in, out;
} AxisSpec;

/* For each output position: the first tap's index, n weights, and whether
 * the extrapolation value is used instead. Indices are not yet clamped. */
typedef struct AxisTable {
  int taps;
  int64_t *start;
  double *w; /* [out][taps] */
  bool *extrapolate;
} AxisTable;

static int64_t read_int(const InferTensorView *v, int64_t i) {
  return v->dtype == INFER_DTYPE_I64 ? ((const int64_t *)v->data)[i]
                                     : ((const int32_t *)v->data)[i];
}

/* Fills specs for every dim: which axes are resized and with what scale
 * (the given scale, or size / in for sizes, one common scale under
 * keep_aspect_ratio_policy, as the reference does). */
static InferStatus *axis_specs(const InferOpCall *call, AxisSpec *spec) {
  const InferResizeParams *p = &call->params->resize;
  const InferShape *xs = &call->in[0].shape, *ys = &call->out[0].shape;
  int rank = xs->rank, n = p->n_axes ? p->n_axes : rank;
  int axes[INFER_MAX_RANK];
  bool seen[INFER_MAX_RANK] = {false};
  if (n < 1 || n > rank) return rs_fail(call, INFER_ERR_INVALID_ARGUMENT, "bad resize axes");
  for (int d = 0; d < rank; d++)
    spec[d] = (AxisSpec){false, 1.0, 0.0f, 1.0f, xs->d[d], ys->d[d]};
  for (int i = 0; i < n; i++) {
    int64_t a = p->n_axes ? p->axes[i] : i;
    if (a < 0) a += rank;
    if (a < 0 || a >= rank || seen[a])
      return rs_fail(call, INFER_ERR_INVALID_ARGUMENT, "bad resize axes");
    seen[a] = true;
    axes[i] = (int)a;
    spec[a].resized = true;
  }
  bool by_scales = has_values(call, 2);
  const InferTensorView *vals = infer_call_input(call, by_scales ? 2 : 3);
  if (!vals->data || infer_shape_numel(&vals->shape) != n)
    return rs_fail(call, INFER_ERR_INVALID_ARGUMENT, "expected %d scales or sizes", n);
  double common = 0.0;
  bool have_common = false;
  for (int i = 0; i < n; i++) {
    AxisSpec *s = &spec[axes[i]];
    if (by_scales) {
      s->scale = ((const float *)vals->data)[i];
    } else if (s->in > 0) {
      s->scale = (double)read_int(vals, i) / (double)s->in;
      bool better = p->aspect == INFER_ASPECT_NOT_LARGER ? s->scale < common : s->scale > common;
      if (!have_common || better) common = s->scale;
      have_common = true;
    }
  }
  if (!by_scales && p->aspect != INFER_ASPECT_STRETCH)
    for (int i = 0; i < n; i++) spec[axes[i]].scale = common;
  if (p->coord == INFER_COORD_TF_CROP_AND_RESIZE) {
    const InferTensorView *roi = infer_call_input(call, 1);
    if (!roi->data || infer_shape_numel(&roi->shape) != 2 * n)
      return rs_fail(call, INFER_ERR_INVALID_ARGUMENT, "roi must have %d values", 2 * n);
    for (int i = 0; i < n; i++) {
      spec[axes[i]].roi_start = (float)infer_cpu_load(roi->data, roi->dtype, i);
      spec[axes[i]].roi_end = (float)infer_cpu_load(roi->data, roi->dtype, n + i);
    }
  }
  return NULL;
}

/* Source coordinate of output position y; *extrapolate set when
 * tf_crop_and_resize samples outside the input. */
static double source_coord(const InferResizeParams *p, const AxisSpec *s, int64_t y,
                           bool *extrapolate) {
  double in = (double)s->in, scale = s->scale, out_w = scale * in, yd = (double)y, x;
  *extrapolate = false;
  switch (p->coord) {
    case INFER_COORD_ALIGN_CORNERS:
      return out_w == 1.0 ? 0.0 : yd * (in - 1.0) / (out_w - 1.0);
    case INFER_COORD_ASYMMETRIC:
      return yd / scale;
    case INFER_COORD_PYTORCH_HALF_PIXEL:
      return out_w == 1.0 ? -0.5 : (yd + 0.5) / scale - 0.5;
    case INFER_COORD_HALF_PIXEL_SYMMETRIC: {
      double adjustment = (double)s->out / out_w, center = in / 2.0;
      return center * (1.0 - adjustment) + (yd + 0.5) / scale - 0.5;
    }
    case INFER_COORD_TF_CROP_AND_RESIZE: {
      /* roi arithmetic in f32 like the reference's f32 roi tensor */
      float span = s->roi_end - s->roi_start, last = (float)(s->in - 1);
      x = out_w == 1.0 ? (double)(span * last / 2.0f) : yd * span * (in - 1.0) / (out_w - 1.0);
      x += (double)(s->roi_start * last);
      *extrapolate = x < 0.0 || x > in - 1.0;
      return x;
    }
    case INFER_COORD_HALF_PIXEL:
    default:
      return (yd + 0.5) / scale - 0.5;
  }
}

/* Window and weights for source coordinate x, as the reference computes
 * them. The weights come from the ratio x - floor(x), taken as 1 when x is
 * integral (the reference prefers the left neighbour). The window is found
 * in coordinates shifted by n/2 (the reference edge-pads by n/2 first);
 * where that shift rounds a tiny fraction away the window moves by one, and
 * matching the reference there matters with exclude_outside. */
static void axis_taps(const InferResizeParams *p, const AxisSpec *s, double x, int64_t *start,
                      double *w) {
  double fl = floor(x);
  bool integral = x == fl;
  double r = integral ? 1.0 : x - fl;
  int n = p->mode == INFER_RESIZE_CUBIC ? 4 : 2, half = n / 2;
  double shifted = x + (double)half, sfl = floor(shifted);
  *start = (int64_t)sfl - half + (shifted == sfl ? 0 : 1) - half;
  if (p->mode == INFER_RESIZE_NEAREST) {
    bool up;
    switch (p->nearest) {
      case INFER_NEAREST_ROUND_PREFER_CEIL: up = r >= 0.5; break;
      case INFER_NEAREST_FLOOR: up = false; break;
      case INFER_NEAREST_CEIL: up = true; break;
      case INFER_NEAREST_ROUND_PREFER_FLOOR:
      default: up = r > 0.5; break;
    }
    /* weights (0, 1) for an integral x, else (!up, up): keep the chosen tap */
    if (integral || up) *start += 1;
    w[0] = 1.0;
    return;
  }
  if (n == 2) {
    w[0] = 1.0 - r;
    w[1] = r;
  } else {
    infer_resize_cubic_weights(r, (double)p->cubic_coeff_a, w);
  }
  if (p->exclude_outside) {
    double sum = 0.0;
    for (int k = 0; k < n; k++) {
      int64_t idx = *start + k;
      if (idx < 0 || idx >= s->in) w[k] = 0.0;
      sum += w[k];
    }
    if (sum != 0.0)
      for (int k = 0; k < n; k++) w[k] /= sum;
  }
}

static void table_free(AxisTable *t) {
  free(t->start);
  free(t->w);
  free(t->extrapolate);
}

static InferStatus *axis_table(const InferOpCall *call, const AxisSpec *s, AxisTable *t) {
  const InferResizeParams *p = &call->params->resize;
  t->taps = p->mode == INFER_RESIZE_CUBIC ? 4 : p->mode == INFER_RESIZE_LINEAR ? 2 : 1;
  size_t n = (size_t)(s->out > 0 ? s->out : 1);
  t->start = malloc(n * sizeof *t->start);
  t->w = malloc(n * (size_t)t->taps * sizeof *t->w);
  t->extrapolate = malloc(n * sizeof *t->extrapolate);
  if (!t->start || !t->w || !t->extrapolate) return rs_fail(call, INFER_ERR_OUT_OF_MEMORY, "oom");
  for (int64_t y = 0; y < s->out; y++) {
    double x = source_coord(p, s, y, &t->extrapolate[y]);
    axis_taps(p, s, x, &t->start[y], &t->w[y * t->taps]);
  }
  return NULL;
}

static int64_t clamp_index(int64_t i, int64_t n) { return i < 0 ? 0 : i >= n ? n - 1 : i; }

/* ---- nearest: gather whole elements -------------------------------------- */

/* The extrapolation value in dtype t: integers round half to even and
 * saturate, like the reference's saturate_cast. */
static void extrapolation_element(InferDType t, double v, uint8_t *elem) {
  double lo = 0.0, hi = 0.0;
  switch (t) {
    case INFER_DTYPE_I8: lo = -128.0, hi = 127.0; break;
    case INFER_DTYPE_U8: lo = 0.0, hi = 255.0; break;
    case INFER_DTYPE_I32: lo = -2147483648.0, hi = 2147483647.0; break;
    case INFER_DTYPE_I64: lo = -9223372036854775808.0, hi = 9223372036854775807.0; break;
    default: infer_cpu_store(elem, t, 0, v); return;
  }
  v = nearbyint(v);
  if (t == INFER_DTYPE_I64 && v >= hi) {
    int64_t max = INT64_MAX;
    memcpy(elem, &max, sizeof max);
    return;
  }
  infer_cpu_store(elem, t, 0, v < lo ? lo : v > hi ? hi : v);
}

/* Row by row along the last axis: the outer axes' source offset is found
 * once per row, then the row is gathered through the last axis' table. */
static void run_nearest(const InferOpCall *call, const AxisSpec *spec, const AxisTable *tab) {
  const InferShape *xs = &call->in[0].shape, *ys = &call->out[0].shape;
  size_t es = infer_dtype_size(call->out[0].dtype);
  const uint8_t *src = call->in[0].data;
  uint8_t *dst = call->out[0].data;
  uint8_t fill[8] = {0};
  extrapolation_element(call->out[0].dtype, (double)call->params->resize.extrapolation_value, fill);
  int64_t xstr[INFER_MAX_RANK], total = infer_shape_numel(ys);
  infer_cpu_strides(xs, xstr);
  if (total <= 0) return;
  if (ys->rank == 0) {
    memcpy(dst, src, es);
    return;
  }
  int last = ys->rank - 1;
  int64_t row = ys->d[last], rows = total / row;
  for (int64_t r = 0; r < rows; r++) {
    int64_t rem = r, off = 0;
    bool outside = false;
    for (int a = last - 1; a >= 0; a--) {
      int64_t y = rem % ys->d[a];
      rem /= ys->d[a];
      if (!spec[a].resized) {
        off += y * xstr[a];
        continue;
      }
      if (tab[a].extrapolate[y]) outside = true;
      off += clamp_index(tab[a].start[y], xs->d[a]) * xstr[a];
    }
    uint8_t *out = dst + (size_t)(r * row) * es;
    if (outside) {
      for (int64_t o = 0; o < row; o++) memcpy(out + (size_t)o * es, fill, es);
      continue;
    }
    const uint8_t *in = src + (size_t)off * es;
    if (!spec[last].resized) {
      memcpy(out, in, (size_t)row * es);
      continue;
    }
    const AxisTable *t = &tab[last];
    for (int64_t o = 0; o < row; o++) {
      int64_t i = clamp_index(t->start[o], xs->d[last]) * xstr[last];
      memcpy(out + (size_t)o * es, t->extrapolate[o] ? fill : in + (size_t)i * es, es);
    }
  }
}

/* ---- linear / cubic: one separable pass per axis ------------------------- */

/* Interpolates `src` (shape cur) along axis a into `dst`; cur->d[a] becomes out. */
static void interpolate_axis(const double *src, double *dst, InferShape *cur, int a,
                             const AxisSpec *s, const AxisTable *t, double extrapolation) {
  int64_t outer = 1, inner = 1, in = cur->d[a];
  for (int d = 0; d < a; d++) outer *= cur->d[d];
  for (int d = a + 1; d < cur->rank; d++) inner *= cur->d[d];
  for (int64_t o = 0; o < outer; o++)
    for (int64_t y = 0; y < s->out; y++) {
      double *row = dst + (o * s->out + y) * inner;
      if (t->extrapolate[y]) {
        for (int64_t i = 0; i < inner; i++) row[i] = extrapolation;
        continue;
      }
      for (int64_t i = 0; i < inner; i++) row[i] = 0.0;
      for (int k = 0; k < t->taps; k++) {
        double w = t->w[y * t->taps + k];
        const double *from = src + (o * in + clamp_index(t->start[y] + k, in)) * inner;
        for (int64_t i = 0; i < inner; i++) row[i] += w * from[i];
      }
    }
  cur->d[a] = s->out;
}

static InferStatus *run_interpolate(const InferOpCall *call, const AxisSpec *spec,
                                    const AxisTable *tab) {
  const InferShape *xs = &call->in[0].shape;
  int64_t n_in = infer_shape_numel(xs), n_out = infer_shape_numel(&call->out[0].shape);
  /* the largest intermediate: axes before d resized, d and after not yet */
  int64_t cap = n_in;
  InferShape mid = *xs;
  for (int d = 0; d < xs->rank; d++) {
    mid.d[d] = spec[d].out;
    int64_t n = infer_shape_numel(&mid);
    if (n > cap) cap = n;
  }
  double *a = malloc((size_t)cap * sizeof *a), *b = malloc((size_t)cap * sizeof *b);
  if (!a || !b) {
    free(a);
    free(b);
    return rs_fail(call, INFER_ERR_OUT_OF_MEMORY, "out of memory");
  }
  const float *x = call->in[0].data;
  for (int64_t i = 0; i < n_in; i++) a[i] = x[i];
  InferShape cur = *xs;
  for (int d = 0; d < xs->rank; d++) {
    if (!spec[d].resized) continue;
    interpolate_axis(a, b, &cur, d, &spec[d], &tab[d],
                     (double)call->params->resize.extrapolation_value);
    double *swap = a;
    a = b;
    b = swap;
  }
  float *y = call->out[0].data;
  for (int64_t i = 0; i < n_out; i++) y[i] = (float)a[i];
  free(a);
  free(b);
  return NULL;
}

InferStatus *infer_cpu_run_resize(const InferOpCall *call) {
  const InferShape *xs = &call->in[0].shape, *ys = &call->out[0].shape;
  if (xs->rank != ys->rank || xs->rank < 1)
    return rs_fail(call, INFER_ERR_INVALID_ARGUMENT, "output rank does not match the input");
  if (infer_shape_numel(ys) == 0) return NULL;
  AxisSpec spec[INFER_MAX_RANK];
  INFER_TRY(axis_specs(call, spec));
  for (int d = 0; d < xs->rank; d++) {
    if (!spec[d].resized && spec[d].in != spec[d].out)
      return rs_fail(call, INFER_ERR_INVALID_ARGUMENT, "dim %d changes but is not resized", d);
    if (spec[d].resized && spec[d].in == 0)
      return rs_fail(call, INFER_ERR_INVALID_ARGUMENT, "dim %d is empty", d);
    if (spec[d].resized && !(spec[d].scale > 0.0))
      return rs_fail(call, INFER_ERR_INVALID_ARGUMENT, "scale of dim %d is not positive", d);
  }
  AxisTable tab[INFER_MAX_RANK];
  memset(tab, 0, sizeof tab);
  InferStatus *st = NULL;
  for (int d = 0; d < xs->rank && !st; d++)
    if (spec[d].resized) st = axis_table(call, &spec[d], &tab[d]);
  if (!st) {
    if (call->params->resize.mode == INFER_RESIZE_NEAREST)
      run_nearest(call, spec, tab);
    else
      st = run_interpolate(call, spec, tab);
  }
  for (int d = 0; d < xs->rank; d++) table_free(&tab[d]);
  return st;
}
