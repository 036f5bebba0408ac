/* Shape functions of the neural-network operators: convolution, pooling,
 * matrix products and normalizations. Window arithmetic (auto_pad, ceil
 * mode, ConvTranspose output_shape) comes from conv_geometry.h, which the
 * CPU kernels use too, so both always agree on pads and sizes. */
#include <stdarg.h>
#include <stdio.h>

#include "conv_geometry.h"
#include "channels_last.h"
#include "op_table.h"

__attribute__((format(printf, 3, 4))) static InferStatus *nn_error(const InferOpCall *c,
                                                                   InferStatusCode code,
                                                                   const char *fmt, ...) {
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return infer_status_new(code, "layer '%s' (%s): %s", c->node, infer_op_name(c->op), msg);
}

#define NN_INVALID(c, ...) nn_error((c), INFER_ERR_INVALID_ARGUMENT, __VA_ARGS__)

/* Two dims contradict each other only when both are known. */
static bool dims_conflict(int64_t a, int64_t b) { return a >= 0 && b >= 0 && a != b; }

static InferStatus *require_input(const InferOpCall *c, int i, const char *what) {
  if (!infer_call_has_input(c, i)) return NN_INVALID(c, "input %d (%s) is missing", i, what);
  return NULL;
}

static InferStatus *require_float(const InferOpCall *c, int i, const char *what) {
  InferDType t = infer_call_input(c, i)->dtype;
  if (!infer_dtype_is_float(t))
    return NN_INVALID(c, "input %d (%s) must be a float tensor, not %s", i, what,
                      infer_dtype_name(t));
  return NULL;
}

static InferStatus *require_same_dtype(const InferOpCall *c, int i, int ref, const char *what) {
  InferDType t = infer_call_input(c, i)->dtype, r = infer_call_input(c, ref)->dtype;
  if (t != r)
    return NN_INVALID(c, "input %d (%s) has type %s, expected %s like input %d", i, what,
                      infer_dtype_name(t), infer_dtype_name(r), ref);
  return NULL;
}

static InferStatus *require_rank(const InferOpCall *c, int i, const char *what, int32_t rank) {
  int32_t r = infer_call_input(c, i)->shape.rank;
  if (r != rank) return NN_INVALID(c, "input %d (%s) must have rank %d, not %d", i, what, rank, r);
  return NULL;
}

/* A per-channel vector (bias, scale, mean, ...): 1-D of `channels` values. */
static InferStatus *require_channel_vector(const InferOpCall *c, int i, const char *what,
                                           int64_t channels) {
  const InferTensorView *v = infer_call_input(c, i);
  INFER_TRY(require_rank(c, i, what, 1));
  if (dims_conflict(v->shape.d[0], channels))
    return NN_INVALID(c, "input %d (%s) has %lld values, expected %lld (one per channel)", i,
                      what, (long long)v->shape.d[0], (long long)channels);
  return NULL;
}

/* `v` must broadcast to `target` without changing it (unidirectional). */
static InferStatus *require_unidirectional(const InferOpCall *c, int i, const char *what,
                                           const InferShape *target) {
  const InferShape *s = &infer_call_input(c, i)->shape;
  bool ok = s->rank <= target->rank;
  for (int k = 0; ok && k < s->rank; k++) {
    int64_t d = s->d[k], t = target->d[target->rank - s->rank + k];
    ok = d == 1 || !dims_conflict(d, t);
  }
  if (!ok) {
    char a[96], b[96];
    return NN_INVALID(c, "input %d (%s) of shape %s does not broadcast to %s", i, what,
                      infer_shape_str(s, a, sizeof a), infer_shape_str(target, b, sizeof b));
  }
  return NULL;
}

static void set_output(const InferOpCall *c, InferDType t, const InferShape *s) {
  c->out[0].dtype = t;
  c->out[0].shape = *s;
}

/* ---- convolution ------------------------------------------------------ */

static InferStatus *check_spatial(const InferOpCall *c, int32_t spatial) {
  if (spatial < 1 || spatial > INFER_MAX_SPATIAL)
    return NN_INVALID(c, "%d spatial dims given, 1 to %d are supported", spatial,
                      INFER_MAX_SPATIAL);
  return NULL;
}

/* x, w (and bias) present, float, of one type, ranked spatial + 2. */
static InferStatus *conv_check_inputs(const InferOpCall *c, const InferConvParams *p,
                                      int bias_input, int64_t *group) {
  INFER_TRY(check_spatial(c, p->spatial));
  INFER_TRY(require_input(c, 0, "x"));
  INFER_TRY(require_input(c, 1, "weights"));
  INFER_TRY(require_float(c, 0, "x"));
  INFER_TRY(require_same_dtype(c, 1, 0, "weights"));
  INFER_TRY(require_rank(c, 0, "x", p->spatial + 2));
  INFER_TRY(require_rank(c, 1, "weights", p->spatial + 2));
  if (bias_input >= 0) INFER_TRY(require_same_dtype(c, bias_input, 0, "bias"));
  if (p->group < 0) return NN_INVALID(c, "group %lld is negative", (long long)p->group);
  if (p->group > INFER_GEO_MAX_EXTENT)
    return NN_INVALID(c, "group %lld is too large", (long long)p->group);
  *group = infer_geo_default1(p->group);
  return NULL;
}

/* x, the weights and the output of a window op index within int64, even
 * when a dim is 0 (kernels loop over the other dims). */
static InferStatus *check_index_space(const InferOpCall *c, const InferShape *s,
                                      const char *what) {
  InferShape k = *s; /* unknown dims count as 1 */
  for (int i = 0; i < k.rank; i++)
    if (k.d[i] < 0) k.d[i] = 1;
  int64_t n;
  if (!infer_geo_index_space(&k, INFER_GEO_MAX_INDEX_SPACE, &n)) {
    char b[160];
    return NN_INVALID(c, "the shape %s of %s is too large (the product of its dims exceeds 2^62)",
                      infer_shape_str(s, b, sizeof b), what);
  }
  return NULL;
}

/* The kernel extent along spatial dim i: params, else the weights. */
static InferStatus *conv_kernel_dim(const InferOpCall *c, const InferConvParams *p, int i,
                                    int64_t *k) {
  int64_t from_w = c->in[1].shape.d[2 + i];
  if (p->kernel[i] < 0 || dims_conflict(p->kernel[i] ? p->kernel[i] : from_w, from_w))
    return NN_INVALID(c, "kernel size %lld of spatial dim %d does not match the weights (%lld)",
                      (long long)p->kernel[i], i, (long long)from_w);
  *k = p->kernel[i] ? p->kernel[i] : from_w;
  return NULL;
}

static InferGeoDim conv_geo_dim(const InferOpCall *c, const InferConvParams *p, int i,
                                int64_t k) {
  InferGeoDim g = {c->in[0].shape.d[2 + i], k, p->strides[i], p->dilations[i], p->pads[i],
                   p->pads[p->spatial + i]};
  return g;
}

static InferStatus *geo_error(const InferOpCall *c, InferGeoResult r, int i) {
  if (r == INFER_GEO_TOO_LARGE)
    return NN_INVALID(c, "the window of spatial dim %d is too large (input size, kernel, stride, "
                      "dilation, pads and output size are limited to 2^40, the dilated kernel "
                      "to 2^61)",
                      i);
  if (r == INFER_GEO_UNSUPPORTED)
    return nn_error(c, INFER_ERR_UNSUPPORTED,
                    "output_shape of spatial dim %d implies pads that the ONNX specification "
                    "and its reference implementation compute differently",
                    i);
  return NN_INVALID(c, "the window of spatial dim %d (kernel, stride, dilation, pads) does "
                    "not fit the input size",
                    i);
}

/* A channels-last layer's shapes: its channels-first twin's, permuted. */
static InferStatus *shape_channels_last(const InferOpCall *c,
                                        InferStatus *(*fn)(const InferOpCall *)) {
  InferTensorView in[8];
  if (c->n_in > 8) return NN_INVALID(c, "too many inputs");
  InferOpParams p = *c->params;
  if (c->op == INFER_OP_CONV) p.conv.channels_last = false;
  else p.pool.channels_last = false;
  for (int i = 0; i < c->n_in; i++) {
    in[i] = c->in[i];
    if (infer_channels_last_input(c, i) && infer_call_has_input(c, i))
      in[i].shape = infer_shape_to_channels_first(&c->in[i].shape);
  }
  InferOpCall cf = *c;
  cf.in = in;
  cf.params = &p;
  INFER_TRY(fn(&cf));
  for (int i = 0; i < c->n_out; i++) c->out[i].shape = infer_shape_to_channels_last(&c->out[i].shape);
  return NULL;
}

InferStatus *infer_shape_conv(const InferOpCall *c) {
  if (c->params->conv.quant.int8) return infer_shape_conv_int8(c); /* shape_quantize.c */
  if (infer_call_channels_last(c)) return shape_channels_last(c, infer_shape_conv);
  const InferConvParams *p = &c->params->conv;
  int res = p->has_residual ? c->n_in - 1 : -1;
  if (p->has_residual && (res < 2 || !infer_call_has_input(c, res)))
    return NN_INVALID(c, "the fused residual input is missing");
  int bias = infer_call_has_input(c, 2) && res != 2 ? 2 : -1;
  int64_t group = 1; /* set by conv_check_inputs; the value quiets -O3 -Wmaybe-uninitialized */
  INFER_TRY(conv_check_inputs(c, p, bias, &group));
  const InferShape *xs = &c->in[0].shape, *ws = &c->in[1].shape;
  INFER_TRY(check_index_space(c, xs, "x"));
  INFER_TRY(check_index_space(c, ws, "the weights"));
  int64_t m = ws->d[0], cin;
  if (xs->d[1] >= 0 && ws->d[1] >= 0 &&
      (!infer_geo_mul(ws->d[1], group, &cin) || xs->d[1] != cin))
    return NN_INVALID(c, "x has %lld channels but weights expect %lld x group %lld",
                      (long long)xs->d[1], (long long)ws->d[1], (long long)group);
  if (m >= 0 && m % group != 0)
    return NN_INVALID(c, "%lld output channels are not divisible by group %lld", (long long)m,
                      (long long)group);
  if (bias >= 0) INFER_TRY(require_channel_vector(c, bias, "bias", m));
  InferShape out = *xs;
  out.d[1] = m;
  for (int i = 0; i < p->spatial; i++) {
    int64_t k = 0, pb = 0, pe = 0;
    INFER_TRY(conv_kernel_dim(c, p, i, &k));
    InferGeoDim g = conv_geo_dim(c, p, i, k);
    InferGeoResult r = infer_geo_window(&g, p->auto_pad, false, &pb, &pe, &out.d[2 + i]);
    if (r != INFER_GEO_OK) return geo_error(c, r, i);
  }
  INFER_TRY(check_index_space(c, &out, "the output"));
  if (res >= 0) {
    INFER_TRY(require_same_dtype(c, res, 0, "residual"));
    const InferShape *rs = &c->in[res].shape;
    bool ok = rs->rank == out.rank;
    for (int i = 0; ok && i < out.rank; i++) ok = !dims_conflict(rs->d[i], out.d[i]);
    if (!ok) return NN_INVALID(c, "the fused residual input does not have the output's shape");
  }
  set_output(c, c->in[0].dtype, &out);
  return NULL;
}

InferStatus *infer_shape_deconv(const InferOpCall *c) {
  const InferConvParams *p = &c->params->conv;
  if (p->has_residual)
    return nn_error(c, INFER_ERR_UNSUPPORTED, "a fused residual input is not supported");
  int bias = infer_call_has_input(c, 2) ? 2 : -1;
  int64_t group = 1; /* set by conv_check_inputs; the value quiets -O3 -Wmaybe-uninitialized */
  INFER_TRY(conv_check_inputs(c, p, bias, &group));
  const InferShape *xs = &c->in[0].shape, *ws = &c->in[1].shape;
  INFER_TRY(check_index_space(c, xs, "x"));
  INFER_TRY(check_index_space(c, ws, "the weights"));
  if (dims_conflict(xs->d[1], ws->d[0]))
    return NN_INVALID(c, "x has %lld channels but the weights have %lld", (long long)xs->d[1],
                      (long long)ws->d[0]);
  if (ws->d[0] >= 0 && ws->d[0] % group != 0)
    return NN_INVALID(c, "%lld input channels are not divisible by group %lld",
                      (long long)ws->d[0], (long long)group);
  int64_t m = -1;
  if (ws->d[1] >= 0 && (!infer_geo_mul(ws->d[1], group, &m) || m > INFER_GEO_MAX_INDEX_SPACE))
    return NN_INVALID(c, "%lld output channels per group times group %lld is too large",
                      (long long)ws->d[1], (long long)group);
  if (bias >= 0) INFER_TRY(require_channel_vector(c, bias, "bias", m));
  InferShape out = *xs;
  out.d[1] = m;
  for (int i = 0; i < p->spatial; i++) {
    int64_t k = 0, pb = 0, pe = 0;
    INFER_TRY(conv_kernel_dim(c, p, i, &k));
    InferGeoDim g = conv_geo_dim(c, p, i, k);
    InferGeoResult r = infer_geo_deconv(&g, p->auto_pad, p->output_padding[i],
                                        p->has_output_shape, p->output_shape[i], &pb, &pe,
                                        &out.d[2 + i]);
    if (r != INFER_GEO_OK) return geo_error(c, r, i);
  }
  INFER_TRY(check_index_space(c, &out, "the output"));
  set_output(c, c->in[0].dtype, &out);
  return NULL;
}

/* ---- pooling ---------------------------------------------------------- */

InferStatus *infer_shape_pool(const InferOpCall *c) {
  if (infer_call_channels_last(c)) return shape_channels_last(c, infer_shape_pool);
  const InferPoolParams *p = &c->params->pool;
  INFER_TRY(require_input(c, 0, "x"));
  const InferTensorView *x = &c->in[0];
  if (p->kind == INFER_POOL_LP && p->p <= 0)
    return NN_INVALID(c, "Lp pooling needs p >= 1, got %lld", (long long)p->p);
  INFER_TRY(check_index_space(c, &x->shape, "x"));
  InferShape out = x->shape;
  if (p->global) {
    if (x->shape.rank < 3)
      return NN_INVALID(c, "global pooling needs an input of rank >= 3, got %d", x->shape.rank);
    for (int i = 2; i < out.rank; i++) out.d[i] = 1;
    set_output(c, x->dtype, &out);
    return NULL;
  }
  INFER_TRY(check_spatial(c, p->spatial));
  INFER_TRY(require_rank(c, 0, "x", p->spatial + 2));
  for (int i = 0; i < p->spatial; i++) {
    if (p->kernel[i] <= 0)
      return NN_INVALID(c, "kernel size %lld of spatial dim %d must be positive",
                        (long long)p->kernel[i], i);
    InferGeoDim g = {x->shape.d[2 + i], p->kernel[i], p->strides[i], p->dilations[i],
                     p->pads[i], p->pads[p->spatial + i]};
    int64_t pb, pe;
    InferGeoResult r = infer_geo_window(&g, p->auto_pad, p->ceil_mode, &pb, &pe, &out.d[2 + i]);
    if (r != INFER_GEO_OK) return geo_error(c, r, i);
  }
  INFER_TRY(check_index_space(c, &out, "the output"));
  set_output(c, x->dtype, &out);
  return NULL;
}

/* ---- matrix products -------------------------------------------------- */

InferStatus *infer_shape_gemm(const InferOpCall *c) {
  if (c->params->gemm.quant.int8) return infer_shape_gemm_int8(c); /* shape_quantize.c */
  const InferGemmParams *p = &c->params->gemm;
  INFER_TRY(require_input(c, 0, "a"));
  INFER_TRY(require_input(c, 1, "b"));
  INFER_TRY(require_rank(c, 0, "a", 2));
  INFER_TRY(require_rank(c, 1, "b", 2));
  INFER_TRY(require_same_dtype(c, 1, 0, "b"));
  const int64_t *a = c->in[0].shape.d, *b = c->in[1].shape.d;
  int64_t m = p->trans_a ? a[1] : a[0], ka = p->trans_a ? a[0] : a[1];
  int64_t kb = p->trans_b ? b[1] : b[0], n = p->trans_b ? b[0] : b[1];
  if (dims_conflict(ka, kb))
    return NN_INVALID(c, "inner dimensions differ: %lld (a) and %lld (b)", (long long)ka,
                      (long long)kb);
  InferShape out = {2, {m, n}};
  if (infer_call_has_input(c, 2)) {
    INFER_TRY(require_same_dtype(c, 2, 0, "c"));
    INFER_TRY(require_unidirectional(c, 2, "c", &out));
    /* A known, non-1 dim of c pins an unknown output dim. */
    const InferShape *cs = &c->in[2].shape;
    for (int i = 0; i < cs->rank; i++) {
      int64_t *o = &out.d[2 - cs->rank + i];
      if (*o < 0 && cs->d[i] > 1) *o = cs->d[i];
    }
  }
  set_output(c, c->in[0].dtype, &out);
  return NULL;
}

/* Numpy matmul: 1-D operands are promoted (and the added dim removed);
 * leading (batch) dims broadcast. */
InferStatus *infer_shape_matmul(const InferOpCall *c) {
  INFER_TRY(require_input(c, 0, "a"));
  INFER_TRY(require_input(c, 1, "b"));
  INFER_TRY(require_same_dtype(c, 1, 0, "b"));
  const InferShape *a = &c->in[0].shape, *b = &c->in[1].shape;
  if (a->rank < 1 || b->rank < 1)
    return NN_INVALID(c, "operands must have rank >= 1 (got %d and %d)", a->rank, b->rank);
  int64_t ka = a->d[a->rank - 1], kb = b->d[b->rank >= 2 ? b->rank - 2 : 0];
  if (dims_conflict(ka, kb))
    return NN_INVALID(c, "inner dimensions differ: %lld (a) and %lld (b)", (long long)ka,
                      (long long)kb);
  InferShape ba = {a->rank > 2 ? a->rank - 2 : 0, {0}}, bb = {b->rank > 2 ? b->rank - 2 : 0, {0}};
  for (int i = 0; i < ba.rank; i++) ba.d[i] = a->d[i];
  for (int i = 0; i < bb.rank; i++) bb.d[i] = b->d[i];
  InferShape out;
  INFER_TRY(infer_broadcast_shapes(c, &ba, &bb, &out));
  if (a->rank >= 2) out.d[out.rank++] = a->d[a->rank - 2];
  if (b->rank >= 2) out.d[out.rank++] = b->d[b->rank - 1];
  if (out.rank > INFER_MAX_RANK)
    return NN_INVALID(c, "the result would have rank %d", out.rank);
  set_output(c, c->in[0].dtype, &out);
  return NULL;
}

/* ---- normalizations --------------------------------------------------- */

static InferStatus *norm_check_x(const InferOpCall *c, int32_t min_rank) {
  INFER_TRY(require_input(c, 0, "x"));
  INFER_TRY(require_float(c, 0, "x"));
  if (c->in[0].shape.rank < min_rank)
    return NN_INVALID(c, "x must have rank >= %d, not %d", min_rank, c->in[0].shape.rank);
  return NULL;
}

InferStatus *infer_shape_batchnorm(const InferOpCall *c) {
  static const char *const names[] = {"x", "scale", "bias", "mean", "var"};
  INFER_TRY(norm_check_x(c, 2));
  for (int i = 1; i < 5; i++) {
    INFER_TRY(require_input(c, i, names[i]));
    INFER_TRY(require_float(c, i, names[i]));
    INFER_TRY(require_channel_vector(c, i, names[i], c->in[0].shape.d[1]));
  }
  set_output(c, c->in[0].dtype, &c->in[0].shape);
  return NULL;
}

InferStatus *infer_shape_instancenorm(const InferOpCall *c) {
  INFER_TRY(norm_check_x(c, 2));
  for (int i = 1; i < 3; i++) {
    const char *name = i == 1 ? "scale" : "bias";
    INFER_TRY(require_input(c, i, name));
    INFER_TRY(require_same_dtype(c, i, 0, name));
    INFER_TRY(require_channel_vector(c, i, name, c->in[0].shape.d[1]));
  }
  set_output(c, c->in[0].dtype, &c->in[0].shape);
  return NULL;
}

InferStatus *infer_shape_layernorm(const InferOpCall *c) {
  INFER_TRY(norm_check_x(c, 1));
  int32_t axis;
  INFER_TRY(infer_normalize_axis(c, c->params->norm.axis, c->in[0].shape.rank, &axis));
  INFER_TRY(require_input(c, 1, "scale"));
  for (int i = 1; i < 3; i++) {
    if (!infer_call_has_input(c, i)) continue;
    const char *name = i == 1 ? "scale" : "bias";
    INFER_TRY(require_same_dtype(c, i, 0, name));
    INFER_TRY(require_unidirectional(c, i, name, &c->in[0].shape));
  }
  set_output(c, c->in[0].dtype, &c->in[0].shape);
  return NULL;
}

InferStatus *infer_shape_lrn(const InferOpCall *c) {
  INFER_TRY(norm_check_x(c, 2));
  if (c->params->lrn.size < 1)
    return NN_INVALID(c, "size must be >= 1, got %lld", (long long)c->params->lrn.size);
  set_output(c, c->in[0].dtype, &c->in[0].shape);
  return NULL;
}
