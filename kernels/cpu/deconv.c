/* ConvTranspose (1-3 spatial dims, groups, dilations, pads, output_padding,
 * output_shape, fused activation), f32. Computed as a scatter: every input
 * element, weighted by each kernel tap, is added at output position
 * in * stride + tap * dilation - pad_begin. Positions outside the output
 * (cropped by pads) are skipped; output positions no input reaches (large
 * output_padding or output_shape) keep just the bias. */
#include "conv_geometry.h"
#include "cpu_util.h"

typedef struct DeconvPlan {
  int64_t batch, in_ch, out_ch, group;
  InferGeo3 g;
  int64_t in_size, out_size, k_size;
} DeconvPlan;

InferStatus *infer_cpu_supports_deconv(const InferOpCall *c) {
  const InferConvParams *p = &c->params->conv;
  INFER_CPU_REQUIRE(c, 0, INFER_DTYPE_F32);
  INFER_CPU_REQUIRE(c, 1, INFER_DTYPE_F32);
  if (infer_call_has_input(c, 2)) INFER_CPU_REQUIRE(c, 2, INFER_DTYPE_F32);
  const char *what = NULL;
  if (p->spatial < 1 || p->spatial > INFER_MAX_SPATIAL) what = "this number of spatial dims";
  if (p->has_residual) what = "a fused residual input";
  if (p->activation.kind < 0 || p->activation.kind >= INFER_UNARY_KIND_COUNT)
    what = "this fused activation";
  if (what)
    return infer_status_new(INFER_ERR_UNSUPPORTED,
                            "layer '%s' (%s): %s is not supported on the CPU backend", c->node,
                            infer_op_name(c->op), what);
  /* The work limit (conv_geometry.h): every input element (empty dims
   * counted as 1) is scattered with out_ch / group x kernel weights. */
  const InferShape *ws = &c->in[1].shape;
  int64_t xn, taps = 1, work;
  if (infer_shape_numel(&c->out[0].shape) <= 0 ||
      !infer_geo_index_space(&c->in[0].shape, INT64_MAX, &xn) || ws->rank < 2)
    return NULL; /* unknown yet, or nothing to compute */
  for (int i = 1; i < ws->rank; i++) {
    if (ws->d[i] < 0) return NULL;
    if (!infer_geo_mul(taps, ws->d[i], &taps)) taps = INT64_MAX;
  }
  if (!infer_geo_work_ok(xn, taps, 1, &work))
    return infer_status_new(INFER_ERR_UNSUPPORTED,
                            "layer '%s' (%s): %lld input elements times %lld weights each exceed "
                            "the CPU backend's work limit of %lld multiply-adds per layer "
                            "(INFER_CPU_MAX_LAYER_WORK)",
                            c->node, infer_op_name(c->op), (long long)xn, (long long)taps,
                            (long long)infer_cpu_max_layer_work());
  return NULL;
}

static InferStatus *deconv_plan(const InferOpCall *c, DeconvPlan *pl) {
  const InferConvParams *p = &c->params->conv;
  const InferShape *xs = &c->in[0].shape, *ws = &c->in[1].shape, *ys = &c->out[0].shape;
  pl->batch = xs->d[0];
  pl->in_ch = xs->d[1];
  pl->group = infer_geo_default1(p->group);
  pl->out_ch = ws->d[1] * pl->group;
  infer_geo3_init(&pl->g);
  for (int i = 0; i < p->spatial; i++) {
    int j = 3 - p->spatial + i;
    InferGeoDim d = {xs->d[2 + i], ws->d[2 + i], p->strides[i], p->dilations[i], p->pads[i],
                     p->pads[p->spatial + i]};
    int64_t pe, out;
    if (infer_geo_deconv(&d, p->auto_pad, p->output_padding[i], p->has_output_shape,
                         p->output_shape[i], &pl->g.pb[j], &pe, &out) != INFER_GEO_OK ||
        out != ys->d[2 + i])
      return infer_status_new(INFER_ERR_INTERNAL, "layer '%s' (deconv): output shape mismatch",
                              c->node);
    pl->g.in[j] = d.in;
    pl->g.out[j] = out;
    pl->g.k[j] = d.kernel;
    pl->g.s[j] = infer_geo_default1(d.stride);
    pl->g.d[j] = infer_geo_default1(d.dilation);
  }
  /* the shape function bounds these (and every other offset) by 2^62 */
  if (!infer_geo_mul3(pl->g.in[0], pl->g.in[1], pl->g.in[2], &pl->in_size) ||
      !infer_geo_mul3(pl->g.out[0], pl->g.out[1], pl->g.out[2], &pl->out_size) ||
      !infer_geo_mul3(pl->g.k[0], pl->g.k[1], pl->g.k[2], &pl->k_size))
    return infer_status_new(INFER_ERR_INTERNAL, "layer '%s' (deconv): sizes overflow", c->node);
  return NULL;
}

/* y[in * s + tap * d - pb] += w * x[in] over one input plane. */
static void deconv_add_tap(const DeconvPlan *pl, const float *x, float wv, const int64_t tap[3],
                           float *y) {
  const InferGeo3 *g = &pl->g;
  int64_t off[3], lo[3], hi[3];
  for (int i = 0; i < 3; i++) {
    off[i] = tap[i] * g->d[i] - g->pb[i];
    infer_geo_range(g->s[i], off[i], g->in[i], g->out[i], &lo[i], &hi[i]);
  }
  for (int64_t iz = lo[0]; iz <= hi[0]; iz++) {
    int64_t oz = iz * g->s[0] + off[0];
    for (int64_t iy = lo[1]; iy <= hi[1]; iy++) {
      int64_t oy = iy * g->s[1] + off[1];
      const float *xr = x + (iz * g->in[1] + iy) * g->in[2];
      float *yr = y + (oz * g->out[1] + oy) * g->out[2];
      int64_t sx = g->s[2], ox0 = off[2];
      for (int64_t ix = lo[2]; ix <= hi[2]; ix++) yr[ix * sx + ox0] += wv * xr[ix];
    }
  }
}

/* Output channel m: weights are [in_ch, out_ch / group, k...]. */
static void deconv_plane(const DeconvPlan *pl, const float *x, const float *w, int64_t m,
                         float bias, float *y) {
  int64_t cg = pl->in_ch / pl->group, mg = pl->out_ch / pl->group;
  int64_t first_c = (m / mg) * cg, mm = m % mg;
  for (int64_t i = 0; i < pl->out_size; i++) y[i] = bias;
  for (int64_t ci = 0; ci < cg; ci++) {
    int64_t ch = first_c + ci;
    const float *xp = x + ch * pl->in_size, *wp = w + (ch * mg + mm) * pl->k_size;
    int64_t tap[3];
    for (tap[0] = 0; tap[0] < pl->g.k[0]; tap[0]++)
      for (tap[1] = 0; tap[1] < pl->g.k[1]; tap[1]++)
        for (tap[2] = 0; tap[2] < pl->g.k[2]; tap[2]++) {
          float wv = wp[(tap[0] * pl->g.k[1] + tap[1]) * pl->g.k[2] + tap[2]];
          deconv_add_tap(pl, xp, wv, tap, y);
        }
  }
}

InferStatus *infer_cpu_run_deconv(const InferOpCall *c) {
  const InferConvParams *p = &c->params->conv;
  if (infer_shape_numel(&c->out[0].shape) == 0) return NULL; /* empty: nothing to write */
  DeconvPlan pl;
  INFER_TRY(deconv_plan(c, &pl));
  const float *x = c->in[0].data, *w = c->in[1].data;
  const float *bias = infer_call_has_input(c, 2) ? c->in[2].data : NULL;
  float *y = c->out[0].data;
  for (int64_t n = 0; n < pl.batch; n++) {
    for (int64_t m = 0; m < pl.out_ch; m++) {
      float *yp = y + (n * pl.out_ch + m) * pl.out_size;
      deconv_plane(&pl, x + n * pl.in_ch * pl.in_size, w, m, bias ? bias[m] : 0.0f, yp);
      if (p->activation.kind != INFER_UNARY_NONE)
        for (int64_t i = 0; i < pl.out_size; i++)
          yp[i] = infer_cpu_activation(&p->activation, yp[i]);
    }
  }
  return NULL;
}
