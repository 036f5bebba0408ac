/* Shape functions of the pad / resize / trilu / depth-space family. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include "op_table.h"

static InferStatus *fail(const InferOpCall *c, InferStatusCode code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static InferStatus *fail(const InferOpCall *c, InferStatusCode code, const char *fmt, ...) {
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return infer_status_new(code, "layer '%s' (%s): %s", c->node, infer_op_name(c->op), msg);
}

static InferStatus *require_data_input(const InferOpCall *c) {
  if (!infer_call_has_input(c, 0)) return fail(c, INFER_ERR_INVALID_ARGUMENT, "input 0 is missing");
  return NULL;
}

/* Normalizes axes against rank and rejects repeats. */
static InferStatus *normalize_axes(const InferOpCall *c, int n, const int64_t *axes, int32_t rank,
                                   int32_t *out) {
  bool seen[INFER_MAX_RANK] = {false};
  for (int i = 0; i < n; i++) {
    INFER_TRY(infer_normalize_axis(c, axes[i], rank, &out[i]));
    if (seen[out[i]])
      return fail(c, INFER_ERR_INVALID_ARGUMENT, "axis %lld is given twice", (long long)axes[i]);
    seen[out[i]] = true;
  }
  return NULL;
}

/* ---- Pad ---------------------------------------------------------------- */

/* Per-dimension begin/end amounts from the pads input and optional axes. */
static InferStatus *pad_amounts(const InferOpCall *c, int32_t rank, int64_t *begin, int64_t *end) {
  if (!infer_call_has_input(c, 1))
    return fail(c, INFER_ERR_INVALID_ARGUMENT, "input 1 (pads) is missing");
  int64_t pads[2 * INFER_MAX_RANK], raw_axes[INFER_MAX_RANK];
  int n_pads = 0, n_axes = rank;
  INFER_TRY(infer_read_int_input(c, 1, pads, 2 * INFER_MAX_RANK, &n_pads));
  int32_t axes[INFER_MAX_RANK];
  if (infer_call_has_input(c, 3)) {
    INFER_TRY(infer_read_int_input(c, 3, raw_axes, INFER_MAX_RANK, &n_axes));
    INFER_TRY(normalize_axes(c, n_axes, raw_axes, rank, axes));
  } else {
    for (int i = 0; i < rank; i++) axes[i] = i;
  }
  if (n_pads != 2 * n_axes)
    return fail(c, INFER_ERR_INVALID_ARGUMENT, "pads has %d values, expected %d", n_pads,
                2 * n_axes);
  for (int i = 0; i < rank; i++) begin[i] = end[i] = 0;
  for (int i = 0; i < n_axes; i++) {
    begin[axes[i]] = pads[i];
    end[axes[i]] = pads[n_axes + i];
  }
  return NULL;
}

static const char *pad_mode_name(InferPadMode m) {
  switch (m) {
    case INFER_PAD_CONSTANT: return "constant";
    case INFER_PAD_REFLECT: return "reflect";
    case INFER_PAD_EDGE: return "edge";
    case INFER_PAD_WRAP: return "wrap";
  }
  return "unknown";
}

/* Checks one axis of a known size: crops must leave a non-negative extent,
 * and modes that copy input values need at least one value to copy. */
static InferStatus *pad_check_axis(const InferOpCall *c, InferPadMode mode, int axis, int64_t n,
                                   int64_t b, int64_t e, int64_t *out) {
  /* pads come from files: |pad| <= 2^40 keeps n + b + e from overflowing
   * for any dim below 2^62, checked too */
  const int64_t max_pad = (int64_t)1 << 40;
  if (b < -max_pad || b > max_pad || e < -max_pad || e > max_pad ||
      __builtin_add_overflow(n, b, out) || __builtin_add_overflow(*out, e, out))
    return fail(c, INFER_ERR_INVALID_ARGUMENT,
                "pads %lld,%lld of dim %d (%lld) are out of range (at most 2^40 each way)",
                (long long)b, (long long)e, axis, (long long)n);
  int64_t kept = n + (b < 0 ? b : 0) + (e < 0 ? e : 0);
  if (kept < 0)
    return fail(c, INFER_ERR_INVALID_ARGUMENT, "pads %lld,%lld crop more than dim %d (%lld)",
                (long long)b, (long long)e, axis, (long long)n);
  if (mode != INFER_PAD_CONSTANT && kept == 0 && (b > 0 || e > 0))
    return fail(c, INFER_ERR_INVALID_ARGUMENT, "%s padding of dim %d needs a non-empty extent",
                pad_mode_name(mode), axis);
  return NULL;
}

InferStatus *infer_shape_pad(const InferOpCall *call) {
  INFER_TRY(require_data_input(call));
  const InferTensorView *x = infer_call_input(call, 0);
  InferPadMode mode = call->params->pad.mode;
  if ((int)mode < INFER_PAD_CONSTANT || mode > INFER_PAD_WRAP)
    return fail(call, INFER_ERR_INVALID_ARGUMENT, "unknown pad mode %d", (int)mode);
  int64_t begin[INFER_MAX_RANK], end[INFER_MAX_RANK];
  INFER_TRY(pad_amounts(call, x->shape.rank, begin, end));
  if (infer_call_has_input(call, 2)) {
    int64_t n = infer_shape_numel(&infer_call_input(call, 2)->shape);
    if (n >= 0 && n != 1)
      return fail(call, INFER_ERR_INVALID_ARGUMENT, "constant_value must hold one value, not %lld",
                  (long long)n);
  }
  InferTensorView *y = &call->out[0];
  y->dtype = x->dtype;
  y->shape.rank = x->shape.rank;
  for (int i = 0; i < x->shape.rank; i++) {
    int64_t n = x->shape.d[i], b = begin[i], e = end[i];
    /* Which side a crop applies to first changes reflect/wrap results; the
     * ONNX reference does not define negative pads, so refuse to guess. */
    bool mixed = (b < 0 && e > 0) || (b > 0 && e < 0);
    if ((mode == INFER_PAD_REFLECT || mode == INFER_PAD_WRAP) && mixed)
      return fail(call, INFER_ERR_UNSUPPORTED,
                  "%s padding that crops one side of dim %d and pads the other is not supported",
                  pad_mode_name(mode), i);
    if (n < 0) {
      y->shape.d[i] = -1;
      continue;
    }
    INFER_TRY(pad_check_axis(call, mode, i, n, b, e, &y->shape.d[i]));
  }
  return NULL;
}

/* ---- Resize ------------------------------------------------------------- */

static bool input_nonempty(const InferOpCall *c, int i) {
  return infer_call_has_input(c, i) && infer_shape_numel(&infer_call_input(c, i)->shape) != 0;
}

/* The axes a resize applies to (params.n_axes == 0: all). */
static InferStatus *resize_axes(const InferOpCall *c, int32_t rank, int32_t *axes, int *n) {
  const InferResizeParams *p = &c->params->resize;
  if (p->n_axes < 0 || p->n_axes > INFER_MAX_RANK)
    return fail(c, INFER_ERR_INVALID_ARGUMENT, "bad number of axes %d", (int)p->n_axes);
  if (p->n_axes == 0) {
    for (int i = 0; i < rank; i++) axes[i] = i;
    *n = rank;
    return NULL;
  }
  *n = p->n_axes;
  return normalize_axes(c, p->n_axes, p->axes, rank, axes);
}

static InferStatus *resize_check_params(const InferOpCall *c) {
  const InferResizeParams *p = &c->params->resize;
  if ((int)p->mode < INFER_RESIZE_NEAREST || p->mode > INFER_RESIZE_CUBIC ||
      (int)p->coord < INFER_COORD_HALF_PIXEL || p->coord > INFER_COORD_TF_CROP_AND_RESIZE ||
      (int)p->nearest < INFER_NEAREST_ROUND_PREFER_FLOOR || p->nearest > INFER_NEAREST_CEIL ||
      (int)p->aspect < INFER_ASPECT_STRETCH || p->aspect > INFER_ASPECT_NOT_SMALLER)
    return fail(c, INFER_ERR_INVALID_ARGUMENT, "bad resize parameters");
  return NULL;
}

/* Resized dims (computed in double from float scales) must convert to
 * int64: larger ones are refused. */
#define RESIZE_MAX_DIM 4611686018427387904.0 /* 2^62 */

/* Output dims from scales: floor(in * scale), as the ONNX reference does. */
static InferStatus *resize_from_scales(const InferOpCall *c, const int32_t *axes, int n_axes,
                                       InferShape *y) {
  const InferTensorView *s = infer_call_input(c, 2);
  if (s->dtype != INFER_DTYPE_F32)
    return fail(c, INFER_ERR_INVALID_ARGUMENT, "scales must be f32, not %s",
                infer_dtype_name(s->dtype));
  if (!s->data) return infer_shape_input_unknown(c, 2);
  if (s->shape.rank > 1 || infer_shape_numel(&s->shape) != n_axes)
    return fail(c, INFER_ERR_INVALID_ARGUMENT, "scales must be 1-D with %d values", n_axes);
  const float *scales = s->data;
  for (int i = 0; i < n_axes; i++) {
    if (!(scales[i] > 0.0f) || isinf(scales[i]))
      return fail(c, INFER_ERR_INVALID_ARGUMENT, "scale %g is not a positive number",
                  (double)scales[i]);
    int64_t d = y->d[axes[i]];
    double v = (double)scales[i] * (double)d;
    if (v >= RESIZE_MAX_DIM)
      return fail(c, INFER_ERR_INVALID_ARGUMENT,
                  "scale %g makes dim %d (%lld) too large (at most 2^62)", (double)scales[i],
                  axes[i], (long long)d);
    y->d[axes[i]] = d < 0 ? -1 : (int64_t)v;
  }
  return NULL;
}

/* Output dims from sizes, with keep_aspect_ratio_policy (one scale for all
 * axes, the size rounded half up). */
static InferStatus *resize_from_sizes(const InferOpCall *c, const int32_t *axes, int n_axes,
                                      InferShape *y) {
  int64_t sizes[INFER_MAX_RANK];
  int n = 0;
  INFER_TRY(infer_read_int_input(c, 3, sizes, INFER_MAX_RANK, &n));
  if (n != n_axes)
    return fail(c, INFER_ERR_INVALID_ARGUMENT, "sizes has %d values, expected %d", n, n_axes);
  bool known = true;
  for (int i = 0; i < n_axes; i++) {
    int64_t d = y->d[axes[i]];
    if (sizes[i] < 0)
      return fail(c, INFER_ERR_INVALID_ARGUMENT, "size %lld is negative", (long long)sizes[i]);
    if (d == 0 && sizes[i] != 0)
      return fail(c, INFER_ERR_INVALID_ARGUMENT, "dim %d is empty and cannot be resized to %lld",
                  axes[i], (long long)sizes[i]);
    if (d < 0) known = false;
  }
  InferResizeAspect aspect = c->params->resize.aspect;
  if (aspect == INFER_ASPECT_STRETCH) {
    for (int i = 0; i < n_axes; i++) y->d[axes[i]] = sizes[i];
    return NULL;
  }
  if (!known) {
    for (int i = 0; i < n_axes; i++) y->d[axes[i]] = -1;
    return NULL;
  }
  double scale = 0.0;
  bool have = false;
  for (int i = 0; i < n_axes; i++) {
    int64_t d = y->d[axes[i]];
    if (d == 0) continue; /* stays empty whatever the scale */
    double r = (double)sizes[i] / (double)d;
    if (!have || (aspect == INFER_ASPECT_NOT_LARGER ? r < scale : r > scale)) scale = r;
    have = true;
  }
  for (int i = 0; i < n_axes; i++) {
    int64_t d = y->d[axes[i]];
    double v = scale * (double)d + 0.5;
    if (v >= RESIZE_MAX_DIM)
      return fail(c, INFER_ERR_INVALID_ARGUMENT,
                  "the sizes make dim %d (%lld) too large (at most 2^62)", axes[i], (long long)d);
    y->d[axes[i]] = (int64_t)v;
  }
  return NULL;
}

InferStatus *infer_shape_resize(const InferOpCall *call) {
  INFER_TRY(require_data_input(call));
  INFER_TRY(resize_check_params(call));
  const InferTensorView *x = infer_call_input(call, 0);
  if (x->shape.rank < 1)
    return fail(call, INFER_ERR_INVALID_ARGUMENT, "input must have rank >= 1");
  int32_t axes[INFER_MAX_RANK];
  int n_axes = 0;
  INFER_TRY(resize_axes(call, x->shape.rank, axes, &n_axes));
  bool has_scales = input_nonempty(call, 2), has_sizes = input_nonempty(call, 3);
  if (has_scales == has_sizes)
    return fail(call, INFER_ERR_INVALID_ARGUMENT, "exactly one of scales and sizes must be given");
  if (call->params->resize.coord == INFER_COORD_TF_CROP_AND_RESIZE) {
    const InferTensorView *roi = infer_call_input(call, 1);
    int64_t n = infer_shape_numel(&roi->shape);
    if (roi->dtype != INFER_DTYPE_F32 && roi->dtype != INFER_DTYPE_F16)
      return fail(call, INFER_ERR_INVALID_ARGUMENT, "tf_crop_and_resize needs an f32 roi input");
    if (n >= 0 && n != 2 * n_axes)
      return fail(call, INFER_ERR_INVALID_ARGUMENT, "roi has %lld values, expected %d",
                  (long long)n, 2 * n_axes);
    /* The spec sizes the output by the roi, the reference does not. */
    if (has_scales)
      return fail(call, INFER_ERR_UNSUPPORTED, "tf_crop_and_resize with scales (not sizes)");
  }
  InferTensorView *y = &call->out[0];
  y->dtype = x->dtype;
  y->shape = x->shape;
  if (has_scales) return resize_from_scales(call, axes, n_axes, &y->shape);
  return resize_from_sizes(call, axes, n_axes, &y->shape);
}

/* ---- Trilu -------------------------------------------------------------- */

InferStatus *infer_shape_trilu(const InferOpCall *call) {
  INFER_TRY(require_data_input(call));
  const InferTensorView *x = infer_call_input(call, 0);
  if (x->shape.rank < 2) return fail(call, INFER_ERR_INVALID_ARGUMENT, "input must have rank >= 2");
  if (infer_call_has_input(call, 1)) {
    const InferTensorView *k = infer_call_input(call, 1);
    if (k->dtype != INFER_DTYPE_I64 && k->dtype != INFER_DTYPE_I32)
      return fail(call, INFER_ERR_INVALID_ARGUMENT, "k must be i64, not %s",
                  infer_dtype_name(k->dtype));
    int64_t n = infer_shape_numel(&k->shape);
    if (n >= 0 && n != 1) return fail(call, INFER_ERR_INVALID_ARGUMENT, "k must be a scalar");
  }
  call->out[0].dtype = x->dtype;
  call->out[0].shape = x->shape;
  return NULL;
}

/* ---- DepthToSpace / SpaceToDepth ----------------------------------------- */

/* d * f, or d / f when it divides; -1 stays unknown. */
static InferStatus *scale_dim(const InferOpCall *c, int64_t d, int64_t f, bool mul, int axis,
                              int64_t *out) {
  if (d < 0) {
    *out = -1;
  } else if (mul) {
    *out = d * f;
  } else if (d % f != 0) {
    return fail(c, INFER_ERR_INVALID_ARGUMENT, "dim %d (%lld) is not divisible by %lld", axis,
                (long long)d, (long long)f);
  } else {
    *out = d / f;
  }
  return NULL;
}

InferStatus *infer_shape_depth_space(const InferOpCall *call) {
  INFER_TRY(require_data_input(call));
  const InferTensorView *x = infer_call_input(call, 0);
  const InferDepthSpaceParams *p = &call->params->depth_space;
  if (x->shape.rank != 4) return fail(call, INFER_ERR_INVALID_ARGUMENT, "input must be 4-D");
  if (p->blocksize < 1 || p->blocksize > (1 << 20))
    return fail(call, INFER_ERR_INVALID_ARGUMENT, "blocksize %lld is invalid",
                (long long)p->blocksize);
  int64_t b = p->blocksize;
  InferShape *s = &call->out[0].shape;
  s->rank = 4;
  s->d[0] = x->shape.d[0];
  INFER_TRY(scale_dim(call, x->shape.d[1], b * b, !p->to_space, 1, &s->d[1]));
  INFER_TRY(scale_dim(call, x->shape.d[2], b, p->to_space, 2, &s->d[2]));
  INFER_TRY(scale_dim(call, x->shape.d[3], b, p->to_space, 3, &s->d[3]));
  call->out[0].dtype = x->dtype;
  return NULL;
}
