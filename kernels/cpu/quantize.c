/* INT8 on the CPU reference backend: Quantize / Dequantize (symmetric,
 * zero point 0, per tensor or per channel), and the INT8 forms of Conv and
 * Gemm (InferQuantParams in infer/ops.h) that conv.c and gemm_matmul.c
 * hand over. Products accumulate in int32 exactly, as INT8 tensor cores
 * do, so this is the oracle for device INT8 kernels; the rescale, bias,
 * residual and activation run in float, and an i8 output is rounded half
 * to even and saturated like QuantizeLinear. */
#include <math.h>
#include <stdlib.h>

#include "channels_last.h"
#include "conv_geometry.h"
#include "cpu_util.h"

/* round_half_even(v) saturated to [-128, 127]; NaN gives 0. Written out
 * instead of nearbyintf so the result does not depend on the FPU's
 * rounding mode. */
static int8_t saturate_round(float v) {
  if (!(v == v)) return 0;
  if (v >= 127.0f) return 127;
  if (v <= -128.0f) return -128;
  float r = floorf(v), d = v - r; /* exact: |v| < 2^23 */
  if (d > 0.5f || (d == 0.5f && fmodf(r, 2.0f) != 0.0f)) r += 1.0f;
  return (int8_t)r;
}

static InferStatus *q_unsupported(const InferOpCall *c, const char *what) {
  return infer_status_new(INFER_ERR_UNSUPPORTED, "layer '%s' (%s): %s is not supported on the "
                          "CPU backend", c->node ? c->node : "?", infer_op_name(c->op), what);
}

/* ---- Quantize / Dequantize ------------------------------------------------ */

/* Elements per step of the scale's axis (inner) and its size; (1, 1) for
 * one scale per tensor. */
static void scale_layout(const InferOpCall *c, int64_t *inner, int64_t *channels) {
  const InferShape *xs = &c->in[0].shape;
  *inner = 1;
  *channels = 1;
  if (infer_shape_numel(&c->in[1].shape) == 1) return;
  int64_t axis = c->params->quantize.axis;
  if (axis < 0) axis += xs->rank;
  *channels = xs->d[axis];
  for (int i = (int)axis + 1; i < xs->rank; i++) *inner *= xs->d[i];
}

InferStatus *infer_cpu_supports_quantize(const InferOpCall *c) {
  INFER_CPU_REQUIRE(c, 0, INFER_DTYPE_F32, INFER_DTYPE_F16);
  INFER_CPU_REQUIRE(c, 1, INFER_DTYPE_F32);
  if (c->out[0].dtype != INFER_DTYPE_I8) return q_unsupported(c, "an output other than i8");
  return NULL;
}

InferStatus *infer_cpu_run_quantize(const InferOpCall *c) {
  int64_t n = infer_shape_numel(&c->out[0].shape), inner, channels;
  scale_layout(c, &inner, &channels);
  const float *scale = c->in[1].data;
  int8_t *y = c->out[0].data;
  bool half = c->in[0].dtype == INFER_DTYPE_F16;
  for (int64_t i = 0; i < n; i++) {
    float x = half ? infer_half_to_float(((const uint16_t *)c->in[0].data)[i])
                   : ((const float *)c->in[0].data)[i];
    float s = scale[channels > 1 ? (i / inner) % channels : 0];
    y[i] = saturate_round(x / s);
  }
  return NULL;
}

InferStatus *infer_cpu_supports_dequantize(const InferOpCall *c) {
  INFER_CPU_REQUIRE(c, 0, INFER_DTYPE_I8, INFER_DTYPE_I32);
  INFER_CPU_REQUIRE(c, 1, INFER_DTYPE_F32);
  if (c->out[0].dtype != INFER_DTYPE_F32) return q_unsupported(c, "an output other than f32");
  return NULL;
}

InferStatus *infer_cpu_run_dequantize(const InferOpCall *c) {
  int64_t n = infer_shape_numel(&c->out[0].shape), inner, channels;
  scale_layout(c, &inner, &channels);
  const float *scale = c->in[1].data;
  float *y = c->out[0].data;
  bool i32 = c->in[0].dtype == INFER_DTYPE_I32;
  for (int64_t i = 0; i < n; i++) {
    float x = i32 ? (float)((const int32_t *)c->in[0].data)[i]
                  : (float)((const int8_t *)c->in[0].data)[i];
    y[i] = x * scale[channels > 1 ? (i / inner) % channels : 0];
  }
  return NULL;
}

/* ---- the INT8 epilogue shared by Conv and Gemm ---------------------------- */

/* Products per output element whose int32 sum cannot overflow:
 * 127 * 128 * k <= 2^31 - 1. Larger layers stay float. */
#define INT8_MAX_REDUCTION ((int64_t)(INT32_MAX / (127 * 128)))

static InferStatus *require_reduction(const InferOpCall *c, int64_t k) {
  if (k > INT8_MAX_REDUCTION)
    return q_unsupported(c, "an INT8 reduction over more than 132104 products (int32 overflow)");
  return NULL;
}

static InferStatus *require_output(const InferOpCall *c, const InferQuantParams *q) {
  InferDType want = q->y_scale > 0.0f ? INFER_DTYPE_I8 : INFER_DTYPE_F32;
  if (c->out[0].dtype != want) return q_unsupported(c, "this INT8 output type");
  return NULL;
}

/* Writes element i of y from v (activation already applied). An i8 output
 * is v times the reciprocal of its scale (computed once in float, as the
 * GPU kernels do: a multiply where a division per element would cost them
 * more than the rest of the epilogue), rounded half to even. */
static inline void store_out(void *y, int64_t i, float v, float y_scale) {
  if (y_scale > 0.0f) ((int8_t *)y)[i] = saturate_round(v * (1.0f / y_scale));
  else ((float *)y)[i] = v;
}

/* ---- INT8 Conv -------------------------------------------------------------- */

typedef struct QConvPlan {
  int64_t batch, in_ch, out_ch, group, cg;
  InferGeo3 g;
  int64_t in_size, out_size, k_size;
} QConvPlan;

static InferStatus *qconv_plan(const InferOpCall *c, QConvPlan *pl) {
  const InferConvParams *p = &c->params->conv;
  const InferShape *xs = &c->in[0].shape, *ws = &c->in[1].shape, *ys = &c->out[0].shape;
  pl->batch = xs->d[0];
  pl->in_ch = xs->d[1];
  pl->out_ch = ws->d[0];
  pl->group = infer_geo_default1(p->group);
  pl->cg = pl->in_ch / pl->group;
  infer_geo3_init(&pl->g);
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
  }
  if (!infer_geo_mul3(pl->g.in[0], pl->g.in[1], pl->g.in[2], &pl->in_size) ||
      !infer_geo_mul3(pl->g.out[0], pl->g.out[1], pl->g.out[2], &pl->out_size) ||
      !infer_geo_mul3(pl->g.k[0], pl->g.k[1], pl->g.k[2], &pl->k_size))
    return infer_status_new(INFER_ERR_INTERNAL, "layer '%s' (conv): sizes overflow", c->node);
  return NULL;
}

InferStatus *infer_cpu_supports_conv_int8(const InferOpCall *c) {
  if (infer_call_channels_last(c))
    return infer_cpu_channels_last_supports(c, infer_cpu_supports_conv_int8);
  const InferConvParams *p = &c->params->conv;
  if (c->n_in != (p->has_residual ? 5 : 4)) return q_unsupported(c, "this INT8 input list");
  INFER_CPU_REQUIRE(c, 0, INFER_DTYPE_I8);
  INFER_CPU_REQUIRE(c, 1, INFER_DTYPE_I8);
  if (infer_call_has_input(c, 2)) INFER_CPU_REQUIRE(c, 2, INFER_DTYPE_F32);
  INFER_CPU_REQUIRE(c, 3, INFER_DTYPE_F32);
  if (p->has_residual) INFER_CPU_REQUIRE(c, 4, INFER_DTYPE_I8, INFER_DTYPE_F32);
  INFER_TRY(require_output(c, &p->quant));
  if (p->spatial < 1 || p->spatial > INFER_MAX_SPATIAL)
    return q_unsupported(c, "this number of spatial dims");
  if ((int)p->activation.kind < 0 || p->activation.kind >= INFER_UNARY_KIND_COUNT)
    return q_unsupported(c, "this fused activation");
  const InferShape *ws = &c->in[1].shape;
  int64_t taps = 1, work;
  for (int i = 1; i < ws->rank; i++) {
    if (ws->d[i] < 0) return NULL; /* not known yet: checked again at run time */
    if (!infer_geo_mul(taps, ws->d[i], &taps)) taps = INT64_MAX;
  }
  INFER_TRY(require_reduction(c, taps));
  int64_t y = infer_shape_numel(&c->out[0].shape);
  if (y > 0 && !infer_geo_work_ok(y, taps, 1, &work))
    return q_unsupported(c, "a layer above the work limit (INFER_CPU_MAX_LAYER_WORK)");
  return NULL;
}

/* acc += w * x shifted by one kernel tap, over the whole output plane. */
static void qconv_add_tap(const QConvPlan *pl, const int8_t *x, int32_t wv, const int64_t tap[3],
                          int32_t *acc) {
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
      int32_t *restrict ar = acc + (oz * g->out[1] + oy) * g->out[2];
      const int8_t *restrict xr = x + (iz * g->in[1] + iy) * g->in[2];
      int64_t sx = g->s[2], ox0 = off[2];
      if (sx == 1) {
        for (int64_t ox = lo[2]; ox <= hi[2]; ox++) ar[ox] += wv * (int32_t)xr[ox + ox0];
      } else {
        for (int64_t ox = lo[2]; ox <= hi[2]; ox++) ar[ox] += wv * (int32_t)xr[ox * sx + ox0];
      }
    }
  }
}

/* The int32 sums of one output plane: every input channel of the group,
 * every tap. */
static void qconv_plane(const QConvPlan *pl, const int8_t *x, const int8_t *w, int32_t *acc) {
  for (int64_t i = 0; i < pl->out_size; i++) acc[i] = 0;
  for (int64_t ci = 0; ci < pl->cg; ci++) {
    const int8_t *xp = x + ci * pl->in_size, *wp = w + ci * pl->k_size;
    int64_t tap[3];
    for (tap[0] = 0; tap[0] < pl->g.k[0]; tap[0]++)
      for (tap[1] = 0; tap[1] < pl->g.k[1]; tap[1]++)
        for (tap[2] = 0; tap[2] < pl->g.k[2]; tap[2]++) {
          int32_t wv = wp[(tap[0] * pl->g.k[1] + tap[1]) * pl->g.k[2] + tap[2]];
          if (wv != 0) qconv_add_tap(pl, xp, wv, tap, acc);
        }
  }
}

InferStatus *infer_cpu_run_conv_int8(const InferOpCall *c) {
  if (infer_call_channels_last(c)) return infer_cpu_channels_last_run(c, infer_cpu_run_conv_int8);
  INFER_TRY(infer_cpu_supports_conv_int8(c));
  const InferConvParams *p = &c->params->conv;
  const InferQuantParams *q = &p->quant;
  if (infer_shape_numel(&c->out[0].shape) == 0) return NULL;
  QConvPlan pl;
  INFER_TRY(qconv_plan(c, &pl));
  INFER_TRY(require_reduction(c, pl.cg * pl.k_size));
  const int8_t *x = c->in[0].data, *w = c->in[1].data;
  const float *bias = infer_call_has_input(c, 2) ? c->in[2].data : NULL;
  const float *w_scales = c->in[3].data;
  const void *res = p->has_residual ? c->in[4].data : NULL;
  bool res_i8 = res && c->in[4].dtype == INFER_DTYPE_I8;
  int32_t *acc = malloc(sizeof *acc * (size_t)(pl.out_size > 0 ? pl.out_size : 1));
  if (!acc) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "layer '%s' (conv): out of memory",
                                    c->node);
  int64_t mg = pl.out_ch / pl.group;
  for (int64_t n = 0; n < pl.batch; n++)
    for (int64_t m = 0; m < pl.out_ch; m++) {
      const int8_t *xg = x + (n * pl.in_ch + (m / mg) * pl.cg) * pl.in_size;
      qconv_plane(&pl, xg, w + m * pl.cg * pl.k_size, acc);
      float k = q->x_scale * w_scales[m], b = bias ? bias[m] : 0.0f;
      int64_t plane = (n * pl.out_ch + m) * pl.out_size;
      /* the residual is read before y is written at each index: y may alias it */
      for (int64_t i = 0; i < pl.out_size; i++) {
        float v = (float)acc[i] * k + b;
        if (res_i8) v += (float)((const int8_t *)res)[plane + i] * q->residual_scale;
        else if (res) v += ((const float *)res)[plane + i];
        if (p->activation.kind != INFER_UNARY_NONE) v = infer_cpu_activation(&p->activation, v);
        store_out(c->out[0].data, plane + i, v, q->y_scale);
      }
    }
  free(acc);
  return NULL;
}

/* ---- INT8 Gemm ---------------------------------------------------------------- */

InferStatus *infer_cpu_supports_gemm_int8(const InferOpCall *c) {
  const InferGemmParams *p = &c->params->gemm;
  if (c->n_in != 4) return q_unsupported(c, "this INT8 input list");
  INFER_CPU_REQUIRE(c, 0, INFER_DTYPE_I8);
  INFER_CPU_REQUIRE(c, 1, INFER_DTYPE_I8);
  if (infer_call_has_input(c, 2)) INFER_CPU_REQUIRE(c, 2, INFER_DTYPE_F32);
  INFER_CPU_REQUIRE(c, 3, INFER_DTYPE_F32);
  INFER_TRY(require_output(c, &p->quant));
  if ((int)p->activation.kind < 0 || p->activation.kind >= INFER_UNARY_KIND_COUNT)
    return q_unsupported(c, "this fused activation");
  const InferShape *as = &c->in[0].shape;
  int64_t k = as->rank == 2 ? as->d[p->trans_a ? 0 : 1] : -1;
  return k >= 0 ? require_reduction(c, k) : NULL;
}

/* C (broadcast to [m, n]) is read before y is written at each index, so an
 * engine may alias y with C, as for the float Gemm. */
InferStatus *infer_cpu_run_gemm_int8(const InferOpCall *c) {
  INFER_TRY(infer_cpu_supports_gemm_int8(c));
  const InferGemmParams *p = &c->params->gemm;
  const InferQuantParams *q = &p->quant;
  const InferShape *ys = &c->out[0].shape;
  int64_t m = ys->d[0], n = ys->d[1];
  int64_t k = p->trans_a ? c->in[0].shape.d[0] : c->in[0].shape.d[1];
  /* element strides of op(A)[i, kk] and op(B)[kk, j] */
  int64_t a_i = p->trans_a ? 1 : k, a_k = p->trans_a ? m : 1;
  int64_t b_k = p->trans_b ? 1 : n, b_j = p->trans_b ? k : 1;
  const int8_t *a = c->in[0].data, *b = c->in[1].data;
  const float *w_scales = c->in[3].data, *cd = NULL;
  int64_t cst[INFER_MAX_RANK] = {0};
  if (infer_call_has_input(c, 2)) {
    cd = c->in[2].data;
    infer_cpu_broadcast_strides(&c->in[2].shape, ys, cst);
  }
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) {
      int32_t acc = 0;
      const int8_t *ar = a + i * a_i, *bc = b + j * b_j;
      for (int64_t kk = 0; kk < k; kk++) acc += (int32_t)ar[kk * a_k] * (int32_t)bc[kk * b_k];
      float v = p->alpha * ((float)acc * (q->x_scale * w_scales[j]));
      if (cd) v += p->beta * cd[i * cst[0] + j * cst[1]];
      if (p->activation.kind != INFER_UNARY_NONE) v = infer_cpu_activation(&p->activation, v);
      store_out(c->out[0].data, i * n + j, v, q->y_scale);
    }
  return NULL;
}
