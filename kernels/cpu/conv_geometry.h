/* Window arithmetic shared by the neural-network shape functions
 * (engine/ops/shape_nn.c) and the CPU kernels (conv.c, deconv.c, pool.c).
 * Both sides must resolve auto_pad and output sizes identically, so the
 * rules live here once. Header-only: kernels may not link engine code.
 *
 * A stride or dilation of 0 in params is read as 1 (zero-initialized
 * params from the C API then mean "default"); negative values are invalid. */
#ifndef INFER_CONV_GEOMETRY_H
#define INFER_CONV_GEOMETRY_H

#include <stdbool.h>
#include <stdint.h>

#include "infer/ops.h"

typedef enum InferGeoResult {
  INFER_GEO_OK = 0,
  INFER_GEO_INVALID,     /* the parameters contradict the input size */
  INFER_GEO_UNSUPPORTED  /* valid, but the ONNX spec and its reference disagree */
} InferGeoResult;

/* Floor division for any sign of a (b > 0); C's '/' truncates toward zero. */
static inline int64_t infer_geo_floordiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

static inline int64_t infer_geo_default1(int64_t v) { return v == 0 ? 1 : v; }

/* One spatial dimension of a convolution or pooling window. */
typedef struct InferGeoDim {
  int64_t in;        /* input size; -1 when unknown */
  int64_t kernel;    /* -1 when unknown */
  int64_t stride, dilation;
  int64_t pad_begin, pad_end; /* explicit pads (used when auto_pad is NOTSET) */
} InferGeoDim;

/* Resolves the pads and output size of a conv/pool window along one dim.
 * Unknown input or kernel gives *out = -1 (pads are then meaningless). */
static inline InferGeoResult infer_geo_window(const InferGeoDim *g, InferAutoPad auto_pad,
                                              bool ceil_mode, int64_t *pad_begin,
                                              int64_t *pad_end, int64_t *out) {
  int64_t s = infer_geo_default1(g->stride), d = infer_geo_default1(g->dilation);
  *pad_begin = auto_pad == INFER_AUTO_PAD_NOTSET ? g->pad_begin : 0;
  *pad_end = auto_pad == INFER_AUTO_PAD_NOTSET ? g->pad_end : 0;
  *out = -1;
  if (s < 0 || d < 0 || g->pad_begin < 0 || g->pad_end < 0 || g->kernel == 0)
    return INFER_GEO_INVALID;
  if (g->in < 0 || g->kernel < 0) return INFER_GEO_OK;
  int64_t span = (g->kernel - 1) * d + 1;
  if (auto_pad == INFER_AUTO_PAD_SAME_UPPER || auto_pad == INFER_AUTO_PAD_SAME_LOWER) {
    *out = (g->in + s - 1) / s;
    int64_t total = (*out - 1) * s + span - g->in;
    if (total < 0) total = 0;
    /* SAME_UPPER puts the odd extra pad at the end, SAME_LOWER at the start. */
    int64_t small = total / 2;
    *pad_begin = auto_pad == INFER_AUTO_PAD_SAME_UPPER ? small : total - small;
    *pad_end = total - *pad_begin;
    return INFER_GEO_OK;
  }
  int64_t room = g->in + *pad_begin + *pad_end - span;
  if (room < 0) return INFER_GEO_INVALID;
  if (!ceil_mode) {
    *out = room / s + 1;
    return INFER_GEO_OK;
  }
  *out = (room + s - 1) / s + 1;
  /* The last window must start inside the input or the leading padding
   * (PyTorch's rule, which ONNX follows). */
  if ((*out - 1) * s >= g->in + *pad_begin) (*out)--;
  return INFER_GEO_OK;
}

/* Resolves pads and output size of a ConvTranspose along one dim. With
 * output_shape, the pads come from the total padding per the ONNX spec; in
 * the NOTSET case the spec and ONNX's reference implementation disagree
 * except when the spec's begin pad equals the explicit one, and other cases
 * are reported as unsupported rather than guessed. */
static inline InferGeoResult infer_geo_deconv(const InferGeoDim *g, InferAutoPad auto_pad,
                                              int64_t output_padding, bool has_output_shape,
                                              int64_t output_shape, int64_t *pad_begin,
                                              int64_t *pad_end, int64_t *out) {
  int64_t s = infer_geo_default1(g->stride), d = infer_geo_default1(g->dilation);
  bool same = auto_pad == INFER_AUTO_PAD_SAME_UPPER || auto_pad == INFER_AUTO_PAD_SAME_LOWER;
  *pad_begin = auto_pad == INFER_AUTO_PAD_NOTSET ? g->pad_begin : 0;
  *pad_end = auto_pad == INFER_AUTO_PAD_NOTSET ? g->pad_end : 0;
  *out = -1;
  if (s < 0 || d < 0 || g->pad_begin < 0 || g->pad_end < 0 || g->kernel == 0 ||
      output_padding < 0 || (has_output_shape && output_shape < 0))
    return INFER_GEO_INVALID;
  if (has_output_shape) *out = output_shape;
  if (g->in < 0 || g->kernel < 0) return INFER_GEO_OK;
  int64_t span = (g->kernel - 1) * d + 1;
  int64_t natural = s * (g->in - 1) + output_padding + span;
  if (!has_output_shape && !same) {
    *out = natural - *pad_begin - *pad_end;
    return *out < 0 ? INFER_GEO_INVALID : INFER_GEO_OK;
  }
  int64_t target = has_output_shape ? output_shape : g->in * s;
  int64_t total = natural - target;
  int64_t half = infer_geo_floordiv(total, 2);
  int64_t begin = auto_pad == INFER_AUTO_PAD_SAME_UPPER ? half : total - half;
  if (!same && begin != *pad_begin) return INFER_GEO_UNSUPPORTED;
  *pad_begin = begin;
  *pad_end = total - begin;
  *out = target;
  return INFER_GEO_OK;
}

/* The values a in [0, a_count) for which b = a * step + offset lies in
 * [0, b_count): a contiguous range [*lo, *hi] (empty when *lo > *hi).
 * Lets kernels iterate only over taps/positions that hit the input. */
static inline void infer_geo_range(int64_t step, int64_t offset, int64_t a_count,
                                   int64_t b_count, int64_t *lo, int64_t *hi) {
  int64_t l = -infer_geo_floordiv(offset, step); /* ceil(-offset / step) */
  int64_t h = infer_geo_floordiv(b_count - 1 - offset, step);
  *lo = l < 0 ? 0 : l;
  *hi = h > a_count - 1 ? a_count - 1 : h;
}

/* Up to three spatial dims, right-aligned into three slots (unused leading
 * slots have size, kernel, stride and dilation 1 and no padding), so that
 * kernels can loop over 1-D, 2-D and 3-D windows with one code path. */
typedef struct InferGeo3 {
  int64_t in[3], out[3], k[3], s[3], d[3], pb[3];
} InferGeo3;

static inline void infer_geo3_init(InferGeo3 *g) {
  for (int i = 0; i < 3; i++) {
    g->in[i] = g->out[i] = g->k[i] = g->s[i] = g->d[i] = 1;
    g->pb[i] = 0;
  }
}

#endif
