/* Convolution (1-3 spatial dims, groups, dilations, pads, fused residual
 * and activation), f32. Direct convolution without im2col: for each output
 * channel, each input channel and each kernel tap, the weighted input rows
 * are added into the output plane with the innermost loop running over
 * contiguous output columns. The output plane stays in cache while taps
 * stream through it. */
#include "conv_geometry.h"
#include "channels_last.h"
#include "cpu_util.h"

/* What the loops need, in one place: sizes with spatial dims right-aligned
 * into three slots. */
typedef struct ConvPlan {
  int64_t batch, in_ch, out_ch, group;
  InferGeo3 g;
  int64_t in_size, out_size, k_size; /* elements per plane / per filter tap set */
  bool pointwise;                    /* 1x1 window, stride 1, no pads */
} ConvPlan;

static InferStatus *conv_unsupported(const InferOpCall *c, const char *what) {
  return infer_status_new(INFER_ERR_UNSUPPORTED, "layer '%s' (%s): %s is not supported on the "
                          "CPU backend", c->node, infer_op_name(c->op), what);
}

static int residual_input(const InferOpCall *c) {
  return c->params->conv.has_residual ? c->n_in - 1 : -1;
}

static bool has_bias(const InferOpCall *c) {
  return infer_call_has_input(c, 2) && residual_input(c) != 2;
}

/* The work limit (conv_geometry.h): output elements times input channels
 * per group times kernel elements, when the shapes are known. */
static InferStatus *conv_check_work(const InferOpCall *c) {
  const InferShape *ws = &c->in[1].shape;
  int64_t y = infer_shape_numel(&c->out[0].shape), taps = 1, work;
  if (y <= 0 || ws->rank < 2) return NULL; /* unknown yet, or nothing to compute */
  for (int i = 1; i < ws->rank; i++) {
    if (ws->d[i] < 0) return NULL;
    if (!infer_geo_mul(taps, ws->d[i], &taps)) taps = INT64_MAX;
  }
  if (!infer_geo_work_ok(y, taps, 1, &work))
    return infer_status_new(INFER_ERR_UNSUPPORTED,
                            "layer '%s' (%s): %lld output elements times %lld weights each "
                            "exceed the CPU backend's work limit of %lld multiply-adds per layer "
                            "(INFER_CPU_MAX_LAYER_WORK)",
                            c->node, infer_op_name(c->op), (long long)y, (long long)taps,
                            (long long)infer_cpu_max_layer_work());
  return NULL;
}

InferStatus *infer_cpu_supports_conv(const InferOpCall *c) {
  if (c->params->conv.quant.int8) return infer_cpu_supports_conv_int8(c); /* quantize.c */
  if (infer_call_channels_last(c))
    return infer_cpu_channels_last_supports(c, infer_cpu_supports_conv);
  const InferConvParams *p = &c->params->conv;
  INFER_CPU_REQUIRE(c, 0, INFER_DTYPE_F32);
  INFER_CPU_REQUIRE(c, 1, INFER_DTYPE_F32);
  if (has_bias(c)) INFER_CPU_REQUIRE(c, 2, INFER_DTYPE_F32);
  if (p->has_residual) INFER_CPU_REQUIRE(c, residual_input(c), INFER_DTYPE_F32);
  if (p->spatial < 1 || p->spatial > INFER_MAX_SPATIAL)
    return conv_unsupported(c, "this number of spatial dims");
  if (p->activation.kind < 0 || p->activation.kind >= INFER_UNARY_KIND_COUNT)
    return conv_unsupported(c, "this fused activation");
  return conv_check_work(c);
}

static InferStatus *conv_plan(const InferOpCall *c, ConvPlan *pl) {
  const InferConvParams *p = &c->params->conv;
  const InferShape *xs = &c->in[0].shape, *ws = &c->in[1].shape, *ys = &c->out[0].shape;
  pl->batch = xs->d[0];
  pl->in_ch = xs->d[1];
  pl->out_ch = ws->d[0];
  pl->group = infer_geo_default1(p->group);
  infer_geo3_init(&pl->g);
  pl->pointwise = true;
  for (int i = 0; i < p->spatial; i++) {
    int j = 3 - p->spatial + i;
    InferGeoDim d = {xs->d[2 + i], ws->d[2 + i], p->strides[i], p->dilations[i], p->pads[i],
                     p->pads[p->spatial + i]};
    int64_t pe, out;
    if (infer_geo_window(&d, p->auto_pad, false, &pl->g.pb[j], &pe, &out) != INFER_GEO_OK ||
        out != ys->d[2 + i])
      return infer_status_new(INFER_ERR_INTERNAL, "layer '%s' (conv): output shape mismatch",
                              c->node);
    pl->g.in[j] = d.in;
    pl->g.out[j] = out;
    pl->g.k[j] = d.kernel;
    pl->g.s[j] = infer_geo_default1(d.stride);
    pl->g.d[j] = infer_geo_default1(d.dilation);
    pl->pointwise = pl->pointwise && d.kernel == 1 && pl->g.s[j] == 1 && pl->g.pb[j] == 0 &&
                    pe == 0;
  }
  /* the shape function bounds these (and every other offset) by 2^62 */
  if (!infer_geo_mul3(pl->g.in[0], pl->g.in[1], pl->g.in[2], &pl->in_size) ||
      !infer_geo_mul3(pl->g.out[0], pl->g.out[1], pl->g.out[2], &pl->out_size) ||
      !infer_geo_mul3(pl->g.k[0], pl->g.k[1], pl->g.k[2], &pl->k_size))
    return infer_status_new(INFER_ERR_INTERNAL, "layer '%s' (conv): sizes overflow", c->node);
  return NULL;
}

/* y += w * x shifted by one kernel tap (kz, ky, kx), over the whole plane. */
static void conv_add_tap(const ConvPlan *pl, const float *x, float wv, const int64_t tap[3],
                         float *y) {
  const InferGeo3 *g = &pl->g;
  int64_t off[3], lo[3], hi[3];
  for (int i = 0; i < 3; i++) {
    off[i] = tap[i] * g->d[i] - g->pb[i];
    infer_geo_range(g->s[i], off[i], g->out[i], g->in[i], &lo[i], &hi[i]);
  }
  for (int64_t oz = lo[0]; oz <= hi[0]; oz++) {
    int64_t iz = oz * g->s[0] + off[0];
    for (int64_t oy = lo[1]; oy <= hi[1]; oy++) {
      int64_t iy = oy * g->s[1] + off[1];
      float *restrict yr = y + (oz * g->out[1] + oy) * g->out[2];
      const float *restrict xr = x + (iz * g->in[1] + iy) * g->in[2];
      int64_t sx = g->s[2], ox0 = off[2];
      if (sx == 1) {
        for (int64_t ox = lo[2]; ox <= hi[2]; ox++) yr[ox] += wv * xr[ox + ox0];
      } else {
        for (int64_t ox = lo[2]; ox <= hi[2]; ox++) yr[ox] += wv * xr[ox * sx + ox0];
      }
    }
  }
}

/* One output plane: bias plus residual, then every input channel of the
 * group, then the activation. The residual is read before y is written at
 * each index, so an engine may alias the output with the residual. */
static void conv_plane(const ConvPlan *pl, const InferConvParams *p, const float *x,
                       const float *w, float bias, const float *res, float *y) {
  int64_t cg = pl->in_ch / pl->group;
  for (int64_t i = 0; i < pl->out_size; i++) y[i] = res ? bias + res[i] : bias;
  for (int64_t ci = 0; ci < cg; ci++) {
    const float *restrict xp = x + ci * pl->in_size;
    const float *wp = w + ci * pl->k_size;
    if (pl->pointwise) {
      float wv = wp[0];
      for (int64_t i = 0; i < pl->out_size; i++) y[i] += wv * xp[i];
      continue;
    }
    int64_t tap[3];
    for (tap[0] = 0; tap[0] < pl->g.k[0]; tap[0]++)
      for (tap[1] = 0; tap[1] < pl->g.k[1]; tap[1]++)
        for (tap[2] = 0; tap[2] < pl->g.k[2]; tap[2]++) {
          float wv = wp[(tap[0] * pl->g.k[1] + tap[1]) * pl->g.k[2] + tap[2]];
          conv_add_tap(pl, xp, wv, tap, y);
        }
  }
  if (p->activation.kind != INFER_UNARY_NONE)
    for (int64_t i = 0; i < pl->out_size; i++) y[i] = infer_cpu_activation(&p->activation, y[i]);
}

InferStatus *infer_cpu_run_conv(const InferOpCall *c) {
  if (c->params->conv.quant.int8) return infer_cpu_run_conv_int8(c);
  if (infer_call_channels_last(c)) return infer_cpu_channels_last_run(c, infer_cpu_run_conv);
  const InferConvParams *p = &c->params->conv;
  if (infer_shape_numel(&c->out[0].shape) == 0) return NULL; /* empty: nothing to write */
  ConvPlan pl;
  INFER_TRY(conv_plan(c, &pl));
  const float *x = c->in[0].data, *w = c->in[1].data;
  const float *bias = has_bias(c) ? c->in[2].data : NULL;
  const float *res = p->has_residual ? c->in[residual_input(c)].data : NULL;
  float *y = c->out[0].data;
  int64_t cg = pl.in_ch / pl.group, mg = pl.out_ch / pl.group;
  for (int64_t n = 0; n < pl.batch; n++) {
    for (int64_t m = 0; m < pl.out_ch; m++) {
      int64_t plane = (n * pl.out_ch + m) * pl.out_size;
      const float *xg = x + (n * pl.in_ch + (m / mg) * cg) * pl.in_size;
      conv_plane(&pl, p, xg, w + m * cg * pl.k_size, bias ? bias[m] : 0.0f,
                 res ? res + plane : NULL, y + plane);
    }
  }
  return NULL;
}
