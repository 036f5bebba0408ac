/* Shape functions of the INT8 operators: Quantize / Dequantize, and the
 * INT8 forms of Conv and Gemm (params.quant.int8, see InferQuantParams in
 * infer/ops.h). The INT8 forms check their own extra inputs and scales and
 * leave the geometry to the float shape functions, which they call with a
 * float twin of the call: one set of shape rules for both forms. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "op_table.h"

__attribute__((format(printf, 2, 3))) static InferStatus *q_invalid(const InferOpCall *c,
                                                                    const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "layer '%s' (%s): %s", c->node ? c->node : "?",
                          infer_op_name(c->op), msg);
}

static bool scale_ok(float s, bool zero_ok) { return isfinite(s) && (s > 0.0f || (zero_ok && s == 0.0f)); }

static InferStatus *require_dtype(const InferOpCall *c, int i, const char *what, InferDType a,
                                  InferDType b) {
  InferDType t = infer_call_input(c, i)->dtype;
  if (t == a || t == b) return NULL;
  if (t == INFER_DTYPE_UNDEFINED) return q_invalid(c, "input %d (%s) is missing", i, what);
  return q_invalid(c, "input %d (%s) has type %s, expected %s%s%s", i, what, infer_dtype_name(t),
                   infer_dtype_name(a), b != a ? " or " : "", b != a ? infer_dtype_name(b) : "");
}

/* The scale input (1): one value for the tensor, or a 1-D [C] along axis. */
static InferStatus *check_scale(const InferOpCall *c, const InferShape *xs) {
  INFER_TRY(require_dtype(c, 1, "scale", INFER_DTYPE_F32, INFER_DTYPE_F32));
  const InferShape *ss = &c->in[1].shape;
  int64_t n = infer_shape_numel(ss);
  if (ss->rank == 0 || (ss->rank == 1 && n == 1)) return NULL;
  if (ss->rank != 1)
    return q_invalid(c, "the scale has rank %d; a scalar or a 1-D per-channel scale is supported "
                     "(blocked quantization is not)", ss->rank);
  int64_t axis = c->params->quantize.axis;
  if (axis < -xs->rank || axis >= xs->rank)
    return q_invalid(c, "axis %lld is out of range for rank %d", (long long)axis, xs->rank);
  if (axis < 0) axis += xs->rank;
  if (ss->d[0] >= 0 && xs->d[axis] >= 0 && ss->d[0] != xs->d[axis])
    return q_invalid(c, "%lld scales for %lld channels along axis %lld", (long long)ss->d[0],
                     (long long)xs->d[axis], (long long)axis);
  return NULL;
}

static void set_out(const InferOpCall *c, InferDType t, const InferShape *s) {
  c->out[0].dtype = t;
  c->out[0].shape = *s;
}

InferStatus *infer_shape_quantize(const InferOpCall *c) {
  INFER_TRY(require_dtype(c, 0, "x", INFER_DTYPE_F32, INFER_DTYPE_F16));
  INFER_TRY(check_scale(c, &c->in[0].shape));
  set_out(c, INFER_DTYPE_I8, &c->in[0].shape);
  return NULL;
}

InferStatus *infer_shape_dequantize(const InferOpCall *c) {
  INFER_TRY(require_dtype(c, 0, "x", INFER_DTYPE_I8, INFER_DTYPE_I32));
  INFER_TRY(check_scale(c, &c->in[0].shape));
  set_out(c, INFER_DTYPE_F32, &c->in[0].shape);
  return NULL;
}

/* ---- INT8 Conv / Gemm ------------------------------------------------------ */

static InferStatus *check_quant(const InferOpCall *c, const InferQuantParams *q) {
  if (!scale_ok(q->x_scale, false) || !scale_ok(q->y_scale, true))
    return q_invalid(c, "INT8 scales x %g, y %g: x must be finite and > 0, y finite and >= 0",
                     (double)q->x_scale, (double)q->y_scale);
  return NULL;
}

/* w_scales (input i): float, 1-D, one per output channel (m, -1 unknown). */
static InferStatus *check_w_scales(const InferOpCall *c, int i, int64_t m) {
  INFER_TRY(require_dtype(c, i, "weight scales", INFER_DTYPE_F32, INFER_DTYPE_F16));
  const InferShape *s = &c->in[i].shape;
  if (s->rank != 1 || (m >= 0 && s->d[0] >= 0 && s->d[0] != m))
    return q_invalid(c, "the weight scales must be 1-D with one value per output channel (%lld)",
                     (long long)m);
  return NULL;
}

/* The view of an INT8 operand as the float shape functions want it. */
static InferTensorView as_float(const InferTensorView *v) {
  InferTensorView f = *v;
  if (f.dtype != INFER_DTYPE_UNDEFINED) f.dtype = INFER_DTYPE_F32;
  f.data = NULL;
  return f;
}

static void set_int8_output(const InferOpCall *c, const InferQuantParams *q, int w_scales) {
  c->out[0].dtype = q->y_scale > 0.0f ? INFER_DTYPE_I8 : c->in[w_scales].dtype;
}

InferStatus *infer_shape_conv_int8(const InferOpCall *c) {
  const InferConvParams *p = &c->params->conv;
  INFER_TRY(check_quant(c, &p->quant));
  int want = p->has_residual ? 5 : 4;
  if (c->n_in != want)
    return q_invalid(c, "the INT8 form takes %d inputs (x, w, bias, weight scales%s), not %d",
                     want, p->has_residual ? ", residual" : "", c->n_in);
  INFER_TRY(require_dtype(c, 0, "x", INFER_DTYPE_I8, INFER_DTYPE_I8));
  INFER_TRY(require_dtype(c, 1, "weights", INFER_DTYPE_I8, INFER_DTYPE_I8));
  if (infer_call_has_input(c, 2)) INFER_TRY(require_dtype(c, 2, "bias", INFER_DTYPE_F32, INFER_DTYPE_F16));
  int64_t m = c->in[1].shape.rank >= 1 ? c->in[1].shape.d[0] : -1;
  INFER_TRY(check_w_scales(c, 3, m));
  if (p->has_residual) {
    INFER_TRY(require_dtype(c, 4, "residual", INFER_DTYPE_I8, INFER_DTYPE_F32));
    if (c->in[4].dtype == INFER_DTYPE_I8 && !scale_ok(p->quant.residual_scale, false))
      return q_invalid(c, "the i8 residual needs a finite residual scale > 0");
  }
  /* the float twin: x, w, bias, [residual last] */
  InferTensorView in[4] = {as_float(&c->in[0]), as_float(&c->in[1]), c->in[2], {0}};
  int n = 3;
  if (p->has_residual) in[n++] = as_float(&c->in[4]);
  InferOpParams tp = *c->params;
  tp.conv.quant.int8 = false;
  InferOpCall twin = *c;
  twin.params = &tp;
  twin.in = in;
  twin.n_in = n;
  INFER_TRY(infer_shape_conv(&twin));
  set_int8_output(c, &p->quant, 3);
  return NULL;
}

InferStatus *infer_shape_gemm_int8(const InferOpCall *c) {
  const InferGemmParams *p = &c->params->gemm;
  INFER_TRY(check_quant(c, &p->quant));
  if (c->n_in != 4)
    return q_invalid(c, "the INT8 form takes 4 inputs (a, b, c, weight scales), not %d", c->n_in);
  INFER_TRY(require_dtype(c, 0, "a", INFER_DTYPE_I8, INFER_DTYPE_I8));
  INFER_TRY(require_dtype(c, 1, "b", INFER_DTYPE_I8, INFER_DTYPE_I8));
  if (infer_call_has_input(c, 2)) INFER_TRY(require_dtype(c, 2, "c", INFER_DTYPE_F32, INFER_DTYPE_F16));
  const InferShape *bs = &c->in[1].shape;
  int64_t n = bs->rank == 2 ? bs->d[p->trans_b ? 0 : 1] : -1;
  INFER_TRY(check_w_scales(c, 3, n));
  InferTensorView in[3] = {as_float(&c->in[0]), as_float(&c->in[1]), c->in[2]};
  InferOpParams tp = *c->params;
  tp.gemm.quant.int8 = false;
  InferOpCall twin = *c;
  twin.params = &tp;
  twin.in = in;
  twin.n_in = 3;
  INFER_TRY(infer_shape_gemm(&twin));
  set_int8_output(c, &p->quant, 3);
  return NULL;
}
