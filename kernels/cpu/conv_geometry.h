/* Window arithmetic shared by the neural-network shape functions
 * (engine/ops/shape_nn.c) and the CPU kernels (conv.c, deconv.c, pool.c).
 * Both sides must resolve auto_pad and output sizes identically, so the
 * rules live here once. Header-only: kernels may not link engine code.
 *
 * A stride or dilation of 0 in params is read as 1 (zero-initialized
 * params from the C API then mean "default"); negative values are invalid.
 *
 * Nothing here trusts its inputs (they come from model and plan files):
 * every sum and product is checked, and sizes, pads, strides and dilations
 * above INFER_GEO_MAX_EXTENT are refused (INFER_GEO_TOO_LARGE) before any
 * arithmetic, so that a shape function reports them instead of overflowing. */
#ifndef INFER_CONV_GEOMETRY_H
#define INFER_CONV_GEOMETRY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "infer/ops.h"

typedef enum InferGeoResult {
  INFER_GEO_OK = 0,
  INFER_GEO_INVALID,     /* the parameters contradict the input size */
  INFER_GEO_UNSUPPORTED, /* valid, but the ONNX spec and its reference disagree */
  INFER_GEO_TOO_LARGE    /* a size, pad, stride or dilation above INFER_GEO_MAX_EXTENT,
                            or a result that would overflow */
} InferGeoResult;

/* The largest input size, kernel size, pad, stride, dilation or output
 * size along one spatial dim (2^40: far above any real tensor, low enough
 * that the products below cannot overflow int64 before being checked). */
#define INFER_GEO_MAX_EXTENT ((int64_t)1 << 40)
/* The largest window extent (kernel - 1) * dilation + 1: with every other
 * operand <= 2^40, sums of a few of them and a span stay below 2^63. */
#define INFER_GEO_MAX_SPAN ((int64_t)1 << 61)

/* Checked int64 arithmetic: false (and *r unspecified) on overflow. */
static inline bool infer_geo_add(int64_t a, int64_t b, int64_t *r) {
  return !__builtin_add_overflow(a, b, r);
}
static inline bool infer_geo_sub(int64_t a, int64_t b, int64_t *r) {
  return !__builtin_sub_overflow(a, b, r);
}
static inline bool infer_geo_mul(int64_t a, int64_t b, int64_t *r) {
  return !__builtin_mul_overflow(a, b, r);
}

static inline bool infer_geo_mul3(int64_t a, int64_t b, int64_t c, int64_t *r) {
  return infer_geo_mul(a, b, r) && infer_geo_mul(*r, c, r);
}

/* Floor division for any sign of a (b > 0); C's '/' truncates toward zero. */
static inline int64_t infer_geo_floordiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

static inline int64_t infer_geo_default1(int64_t v) { return v == 0 ? 1 : v; }

/* The largest index space (see infer_geo_index_space) of a conv/pool input,
 * weights or output: kernels compute offsets into it in int64. */
#define INFER_GEO_MAX_INDEX_SPACE ((int64_t)1 << 62)

/* Product of the dims of a shape with zero dims counted as 1 (the size of
 * the index space a kernel loops over, even when the tensor is empty);
 * false when a dim is unknown or the product exceeds `limit`. */
static inline bool infer_geo_index_space(const InferShape *s, int64_t limit, int64_t *out) {
  int64_t n = 1;
  for (int i = 0; i < s->rank; i++) {
    int64_t d = s->d[i] == 0 ? 1 : s->d[i];
    if (d < 0 || !infer_geo_mul(n, d, &n) || n > limit) return false;
  }
  *out = n;
  return true;
}

/* One spatial dimension of a convolution or pooling window. */
typedef struct InferGeoDim {
  int64_t in;        /* input size; -1 when unknown */
  int64_t kernel;    /* -1 when unknown */
  int64_t stride, dilation;
  int64_t pad_begin, pad_end; /* explicit pads (used when auto_pad is NOTSET) */
} InferGeoDim;

static inline bool infer_geo_extent_ok(int64_t v) { return v <= INFER_GEO_MAX_EXTENT; }

/* Every known value of the dim within INFER_GEO_MAX_EXTENT. */
static inline bool infer_geo_dim_ok(const InferGeoDim *g) {
  return infer_geo_extent_ok(g->in) && infer_geo_extent_ok(g->kernel) &&
         infer_geo_extent_ok(g->stride) && infer_geo_extent_ok(g->dilation) &&
         infer_geo_extent_ok(g->pad_begin) && infer_geo_extent_ok(g->pad_end);
}

/* The extent of a window: (kernel - 1) * dilation + 1 (kernel, d >= 1). */
static inline bool infer_geo_span(int64_t kernel, int64_t d, int64_t *span) {
  return infer_geo_mul(kernel - 1, d, span) && ++*span <= INFER_GEO_MAX_SPAN;
}

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
  if (!infer_geo_dim_ok(g)) return INFER_GEO_TOO_LARGE;
  if (g->in < 0 || g->kernel < 0) return INFER_GEO_OK;
  /* operands <= 2^40 and span <= 2^61: nothing below can overflow */
  int64_t span;
  if (!infer_geo_span(g->kernel, d, &span)) return INFER_GEO_TOO_LARGE;
  if (auto_pad == INFER_AUTO_PAD_SAME_UPPER || auto_pad == INFER_AUTO_PAD_SAME_LOWER) {
    *out = (g->in + s - 1) / s;
    int64_t total = (*out - 1) * s + span - g->in; /* (out - 1) * s < in + s */
    if (total < 0) total = 0;
    /* SAME_UPPER puts the odd extra pad at the end, SAME_LOWER at the start. */
    int64_t small = total / 2;
    *pad_begin = auto_pad == INFER_AUTO_PAD_SAME_UPPER ? small : total - small;
    *pad_end = total - *pad_begin;
    return INFER_GEO_OK;
  }
  int64_t room = g->in + *pad_begin + *pad_end - span;
  if (room < 0) return INFER_GEO_INVALID;
  if (room / s >= INFER_GEO_MAX_EXTENT) return INFER_GEO_TOO_LARGE; /* out > 2^40 */
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
  if (!infer_geo_dim_ok(g) || !infer_geo_extent_ok(output_padding) ||
      (has_output_shape && !infer_geo_extent_ok(output_shape)))
    return INFER_GEO_TOO_LARGE;
  if (has_output_shape) *out = output_shape;
  if (g->in < 0 || g->kernel < 0) return INFER_GEO_OK;
  /* natural = s * (in - 1) + output_padding + span, the output size
   * before pads; outputs above 2^40 are refused like inputs */
  int64_t span, natural, target;
  if (!infer_geo_span(g->kernel, d, &span) || !infer_geo_mul(s, g->in - 1, &natural) ||
      natural > INFER_GEO_MAX_SPAN || (natural += output_padding + span) > INFER_GEO_MAX_SPAN * 2 ||
      !infer_geo_mul(g->in, s, &target) || target > INFER_GEO_MAX_EXTENT) {
    *out = -1;
    return INFER_GEO_TOO_LARGE;
  }
  if (!has_output_shape && !same) {
    *out = natural - *pad_begin - *pad_end;
    if (*out > INFER_GEO_MAX_EXTENT) return INFER_GEO_TOO_LARGE;
    return *out < 0 ? INFER_GEO_INVALID : INFER_GEO_OK;
  }
  if (has_output_shape) target = output_shape;
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

/* Work limit of the CPU reference kernels (conv, deconv, pool): a layer
 * whose output elements times taps per output element (for Conv: input
 * channels per group times kernel elements; ConvTranspose: input elements
 * times output channels per group times kernel elements; pooling: kernel
 * elements that can overlap the input) exceeds it is refused with
 * INFER_ERR_UNSUPPORTED instead of running for hours. The default, 2^40
 * multiply-adds (about 10 minutes of the reference kernels), is far above
 * real networks (VGG-16's largest layer at batch 64: 2^37); the environment
 * variable INFER_CPU_MAX_LAYER_WORK (a positive integer) overrides it, e.g.
 * lower for fuzzing. */
#define INFER_CPU_DEFAULT_MAX_LAYER_WORK ((int64_t)1 << 40)

static inline int64_t infer_cpu_max_layer_work(void) {
  const char *e = getenv("INFER_CPU_MAX_LAYER_WORK");
  if (e && *e) {
    char *end;
    long long v = strtoll(e, &end, 10);
    if (*end == '\0' && v > 0) return (int64_t)v;
  }
  return INFER_CPU_DEFAULT_MAX_LAYER_WORK;
}

/* a * b * c within the work limit (false on overflow too). */
static inline bool infer_geo_work_ok(int64_t a, int64_t b, int64_t c, int64_t *work) {
  return infer_geo_mul3(a, b, c, work) && *work <= infer_cpu_max_layer_work();
}

#endif
