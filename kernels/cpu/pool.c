/* Max / average / Lp pooling over 1-3 spatial dims (pads, auto_pad,
 * dilations, ceil_mode, count_include_pad) and their global forms. f32 for
 * all kinds; max pooling also for u8 and i8, which are exact in float.
 * Window taps are clipped to the input with infer_geo_range, so padding
 * never contributes a value; count_include_pad only changes the divisor. */
#include <math.h>
#include <stdlib.h>

#include "conv_geometry.h"
#include "channels_last.h"
#include "cpu_util.h"

typedef struct PoolPlan {
  int64_t planes; /* batch * channels */
  InferGeo3 g;
  int64_t pe[3];  /* end pads, for the count_include_pad divisor */
  int64_t in_size, out_size;
} PoolPlan;

static bool pool_dtype_ok(const InferPoolParams *p, InferDType t) {
  if (t == INFER_DTYPE_F32) return true;
  return p->kind == INFER_POOL_MAX && (t == INFER_DTYPE_U8 || t == INFER_DTYPE_I8);
}

InferStatus *infer_cpu_supports_pool(const InferOpCall *c) {
  if (infer_call_channels_last(c))
    return infer_cpu_channels_last_supports(c, infer_cpu_supports_pool);
  const InferPoolParams *p = &c->params->pool;
  if (!pool_dtype_ok(p, infer_call_input(c, 0)->dtype)) return infer_cpu_unsupported_dtype(c, 0);
  if (!p->global && (p->spatial < 1 || p->spatial > INFER_MAX_SPATIAL))
    return infer_status_new(INFER_ERR_UNSUPPORTED,
                            "layer '%s' (%s): %d spatial dims are not supported on the CPU "
                            "backend",
                            c->node, infer_op_name(c->op), p->spatial);
  /* The work limit (conv_geometry.h): output elements times the taps of a
   * window that can overlap the input (per dim at most the input size). */
  const InferShape *xs = &c->in[0].shape;
  int64_t y = infer_shape_numel(&c->out[0].shape), taps = 1, work;
  if (p->global || y <= 0 || xs->rank != p->spatial + 2) return NULL;
  for (int i = 0; i < p->spatial; i++) {
    int64_t k = p->kernel[i], in = xs->d[2 + i];
    if (in < 0) return NULL;
    if (!infer_geo_mul(taps, k < in ? k : in, &taps)) taps = INT64_MAX;
  }
  if (!infer_geo_work_ok(y, taps, 1, &work))
    return infer_status_new(INFER_ERR_UNSUPPORTED,
                            "layer '%s' (%s): %lld output elements times %lld window taps each "
                            "exceed the CPU backend's work limit of %lld per layer "
                            "(INFER_CPU_MAX_LAYER_WORK)",
                            c->node, infer_op_name(c->op), (long long)y, (long long)taps,
                            (long long)infer_cpu_max_layer_work());
  return NULL;
}

static InferStatus *pool_overflow(const InferOpCall *c) {
  return infer_status_new(INFER_ERR_INTERNAL, "layer '%s' (pool): sizes overflow", c->node);
}

static InferStatus *pool_plan(const InferOpCall *c, PoolPlan *pl) {
  const InferPoolParams *p = &c->params->pool;
  const InferShape *xs = &c->in[0].shape, *ys = &c->out[0].shape;
  /* the shape function bounds every size and offset by 2^62; checked
   * anyway, kernels do not trust their callers */
  if (xs->rank < 2 || !infer_geo_mul(xs->d[0], xs->d[1], &pl->planes)) return pool_overflow(c);
  infer_geo3_init(&pl->g);
  for (int i = 0; i < 3; i++) pl->pe[i] = 0;
  pl->in_size = 1;
  pl->out_size = 1;
  if (p->global) {
    for (int i = 2; i < xs->rank; i++)
      if (!infer_geo_mul(pl->in_size, xs->d[i], &pl->in_size)) return pool_overflow(c);
    return NULL;
  }
  for (int i = 0; i < p->spatial; i++) {
    int j = 3 - p->spatial + i;
    InferGeoDim d = {xs->d[2 + i], p->kernel[i], p->strides[i], p->dilations[i], p->pads[i],
                     p->pads[p->spatial + i]};
    int64_t out;
    if (infer_geo_window(&d, p->auto_pad, p->ceil_mode, &pl->g.pb[j], &pl->pe[j], &out) !=
            INFER_GEO_OK ||
        out != ys->d[2 + i])
      return infer_status_new(INFER_ERR_INTERNAL, "layer '%s' (pool): output shape mismatch",
                              c->node);
    pl->g.in[j] = d.in;
    pl->g.out[j] = out;
    pl->g.k[j] = d.kernel;
    pl->g.s[j] = infer_geo_default1(d.stride);
    pl->g.d[j] = infer_geo_default1(d.dilation);
    if (!infer_geo_mul(pl->in_size, d.in, &pl->in_size) ||
        !infer_geo_mul(pl->out_size, out, &pl->out_size))
      return pool_overflow(c);
  }
  return NULL;
}

/* The taps of one window: per dim, the first and last tap inside the input,
 * and how many taps lie inside input + pads (for count_include_pad). */
typedef struct PoolWindow {
  int64_t start[3], lo[3], hi[3];
  int64_t valid, padded; /* tap counts over all dims */
} PoolWindow;

static void pool_window(const PoolPlan *pl, const int64_t o[3], PoolWindow *w) {
  const InferGeo3 *g = &pl->g;
  w->valid = w->padded = 1;
  for (int i = 0; i < 3; i++) {
    int64_t plo, phi;
    w->start[i] = o[i] * g->s[i] - g->pb[i];
    infer_geo_range(g->d[i], w->start[i], g->k[i], g->in[i], &w->lo[i], &w->hi[i]);
    infer_geo_range(g->d[i], w->start[i] + g->pb[i], g->k[i], g->in[i] + g->pb[i] + pl->pe[i],
                    &plo, &phi);
    w->valid *= w->hi[i] >= w->lo[i] ? w->hi[i] - w->lo[i] + 1 : 0;
    w->padded *= phi >= plo ? phi - plo + 1 : 0;
  }
}

static float pool_one(const InferPoolParams *p, const PoolPlan *pl, const PoolWindow *w,
                      const float *x) {
  const InferGeo3 *g = &pl->g;
  float mx = -INFINITY;
  double sum = 0.0;
  for (int64_t kz = w->lo[0]; kz <= w->hi[0]; kz++) {
    int64_t iz = w->start[0] + kz * g->d[0];
    for (int64_t ky = w->lo[1]; ky <= w->hi[1]; ky++) {
      int64_t iy = w->start[1] + ky * g->d[1];
      const float *xr = x + (iz * g->in[1] + iy) * g->in[2];
      for (int64_t kx = w->lo[2]; kx <= w->hi[2]; kx++) {
        float v = xr[w->start[2] + kx * g->d[2]];
        if (p->kind == INFER_POOL_MAX)
          mx = v > mx || isnan(v) ? v : mx;
        else if (p->kind == INFER_POOL_AVERAGE)
          sum += v;
        else
          sum += pow(fabs((double)v), (double)p->p);
      }
    }
  }
  if (p->kind == INFER_POOL_MAX) return mx;
  if (p->kind == INFER_POOL_LP) return (float)pow(sum, 1.0 / (double)p->p);
  return (float)(sum / (double)(p->count_include_pad ? w->padded : w->valid));
}

/* Global pooling: one value per plane. */
static float pool_global(const InferPoolParams *p, const float *x, int64_t n) {
  float mx = -INFINITY;
  double sum = 0.0;
  for (int64_t i = 0; i < n; i++) {
    if (p->kind == INFER_POOL_MAX)
      mx = x[i] > mx || isnan(x[i]) ? x[i] : mx;
    else if (p->kind == INFER_POOL_AVERAGE)
      sum += x[i];
    else
      sum += pow(fabs((double)x[i]), (double)p->p);
  }
  if (p->kind == INFER_POOL_MAX) return mx;
  if (p->kind == INFER_POOL_LP) return (float)pow(sum, 1.0 / (double)p->p);
  return (float)(sum / (double)n);
}

static void pool_f32(const InferPoolParams *p, const PoolPlan *pl, const float *x, float *y) {
  for (int64_t pi = 0; pi < pl->planes; pi++) {
    const float *xp = x + pi * pl->in_size;
    if (p->global) {
      y[pi] = pool_global(p, xp, pl->in_size);
      continue;
    }
    float *yp = y + pi * pl->out_size;
    int64_t o[3];
    for (o[0] = 0; o[0] < pl->g.out[0]; o[0]++)
      for (o[1] = 0; o[1] < pl->g.out[1]; o[1]++)
        for (o[2] = 0; o[2] < pl->g.out[2]; o[2]++) {
          PoolWindow w;
          pool_window(pl, o, &w);
          *yp++ = pool_one(p, pl, &w, xp);
        }
  }
}

/* u8/i8 max pooling: run the float path on a converted copy (exact). An
 * empty window's -inf becomes the type's lowest value. */
static InferStatus *pool_small_int(const InferOpCall *c, const PoolPlan *pl) {
  InferDType t = c->in[0].dtype;
  int64_t nx = pl->planes * pl->in_size, ny = infer_shape_numel(&c->out[0].shape);
  float *x = malloc((size_t)(nx > 0 ? nx : 1) * sizeof *x);
  float *y = malloc((size_t)(ny > 0 ? ny : 1) * sizeof *y);
  if (!x || !y) {
    free(x);
    free(y);
    return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "layer '%s' (pool): out of memory",
                            c->node);
  }
  for (int64_t i = 0; i < nx; i++) x[i] = (float)infer_cpu_load(c->in[0].data, t, i);
  pool_f32(&c->params->pool, pl, x, y);
  double lowest = t == INFER_DTYPE_U8 ? 0.0 : -128.0;
  for (int64_t i = 0; i < ny; i++)
    infer_cpu_store(c->out[0].data, t, i, isinf(y[i]) ? lowest : (double)y[i]);
  free(x);
  free(y);
  return NULL;
}

InferStatus *infer_cpu_run_pool(const InferOpCall *c) {
  if (infer_call_channels_last(c)) return infer_cpu_channels_last_run(c, infer_cpu_run_pool);
  if (infer_shape_numel(&c->out[0].shape) == 0) return NULL; /* empty: nothing to write */
  PoolPlan pl;
  INFER_TRY(pool_plan(c, &pl));
  if (c->in[0].dtype != INFER_DTYPE_F32) return pool_small_int(c, &pl);
  pool_f32(&c->params->pool, &pl, c->in[0].data, c->out[0].data);
  return NULL;
}
