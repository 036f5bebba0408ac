/* INT8: Conv and Gemm layers become their INT8 forms (InferQuantParams in
 * infer/ops.h: i8 operands, int32 accumulation, per-output-channel weight
 * scales), in one of two ways, as in TensorRT:
 *
 *   explicit  the network has Quantize/Dequantize layers (a QDQ ONNX
 *             model): DQ(x_i8) -> Conv/Gemm with DQ(w_i8) weights (scale
 *             per tensor or per output channel) and a constant (or DQ'd
 *             constant) bias becomes one INT8 layer reading x_i8 and w_i8;
 *             a Q after it (its only reader) is absorbed and the layer
 *             writes i8 with that Q's scale; otherwise it writes float. A
 *             fused residual that is DQ(r_i8) is read as i8. Calibration
 *             tables are ignored then: the Q/DQ nodes say where INT8 runs.
 *   implicit  INT8 allowed and a calibration table in the config (TensorRT's
 *             calibrated mode): a Conv/Gemm with constant float weights whose
 *             input and output tensors have scales in the table gets its
 *             weights quantized per output channel (symmetric, amax / 127),
 *             a Quantize of its input (one per tensor, shared) and INT8
 *             math; consecutive INT8 layers hand i8 tensors over directly
 *             (the producer's y_scale is the table's scale of the tensor,
 *             which is the consumer's x_scale), and a Dequantize appears
 *             only where an i8 tensor meets a float reader or is a graph
 *             output. A layer writes i8 when some INT8 layer reads its
 *             output as x or as its fused residual, float otherwise.
 *
 * Either way a layer stays float when the config pins it to FP16/FP32, or
 * when the backend has no INT8 kernel for it (asked through supports_layer,
 * with the layer's channels-first shapes: the layout pass runs later), and
 * the build log says why.
 * Dequantize layers of constants (weights, biases) that no INT8 layer
 * absorbs are folded into float constants here (constant folding leaves
 * them to this pass). Runs after activation fusion (the fused activation
 * and residual are part of the INT8 layer) and before horizontal fusion,
 * layout and precision. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "cpu_kernels.h"
#include "infer/calibration.h"
#include "passes.h"

/* A Dequantize's facts: its quantized input and constant scales. */
typedef struct DqInfo {
  InferTensorId q;       /* i8 / i32 input */
  const float *scale;    /* constant scales */
  int64_t n_scale;       /* 1: per tensor */
  int64_t axis;          /* normalized against q's rank (per channel) */
  bool q_constant;
} DqInfo;

typedef struct QLayer {
  bool int8;
  bool out_i8;           /* writes i8 (y_scale > 0) */
  float x_scale, y_scale;
  InferTensorId x;       /* explicit: the i8 src tensor; implicit: the float src tensor */
  InferTensorId w_q;     /* explicit: the i8 weight constant (src) */
  DqInfo w_dq;           /* explicit: the weights' Dequantize */
  InferTensorId res;     /* the residual src tensor (float), or NO_TENSOR */
  InferTensorId res_q;   /* explicit: its i8 tensor when it is DQ(r_i8) */
  float res_scale;
  InferTensorId out;     /* the src tensor the layer's output takes the name of */
  int32_t absorbed_q;    /* explicit: the Q layer absorbed, or -1 */
} QLayer;

typedef struct QState {
  const InferPassContext *ctx;
  const InferNetwork *in;
  const InferBackend *be;
  const InferCalibTable *table;
  InferUses uses;
  QLayer *plan;            /* per layer */
  bool *skip;              /* per layer: absorbed or folded, not emitted */
  bool *fold;              /* per layer: a Dequantize of constants (folded on demand) */
  InferRewrite rw;
  InferTensorId *as_i8;    /* per src tensor: a dst i8 tensor of its value */
  float *i8_scale;         /* ... and that tensor's scale */
  int n_int8, n_float;
} QState;

static const InferTensorDef *def_of(const QState *s, InferTensorId t) {
  return infer_net_tensor(s->in, t);
}

static bool scale_ok(float v) { return isfinite(v) && v > 0.0f; }

/* round_half_even(v) saturated to int8 (as kernels/cpu/quantize.c). */
static int8_t saturate_round(float v) {
  if (!(v == v)) return 0;
  if (v >= 127.0f) return 127;
  if (v <= -128.0f) return -128;
  float r = floorf(v), d = v - r;
  if (d > 0.5f || (d == 0.5f && fmodf(r, 2.0f) != 0.0f)) r += 1.0f;
  return (int8_t)r;
}

/* The Dequantize producing t, with constant f32 scales; false otherwise. */
static bool dq_of(const QState *s, InferTensorId t, DqInfo *out) {
  const InferTensorDef *d = def_of(s, t);
  if (!d || d->producer < 0) return false;
  const InferLayer *l = &s->in->layers[d->producer];
  if (l->op != INFER_OP_DEQUANTIZE || l->n_inputs != 2) return false;
  const InferTensorDef *q = def_of(s, l->inputs[0]), *sc = def_of(s, l->inputs[1]);
  if (!q || !sc || !infer_tensor_is_constant(sc) || sc->dtype != INFER_DTYPE_F32 || !q->shape_known) return false;
  out->q = l->inputs[0];
  out->scale = sc->data;
  out->n_scale = infer_shape_numel(&sc->shape);
  out->axis = l->params.quantize.axis < 0 ? l->params.quantize.axis + q->shape.rank
                                          : l->params.quantize.axis;
  out->q_constant = infer_tensor_is_constant(q);
  if (out->n_scale < 1) return false;
  for (int64_t i = 0; i < out->n_scale; i++)
    if (!scale_ok(out->scale[i])) return false;
  return true;
}

/* A per-tensor i8 DQ input: its i8 tensor and scale. */
static bool dq_activation(const QState *s, InferTensorId t, InferTensorId *q, float *scale) {
  DqInfo dq;
  if (!dq_of(s, t, &dq) || dq.q_constant || dq.n_scale != 1 ||
      def_of(s, dq.q)->dtype != INFER_DTYPE_I8)
    return false;
  *q = dq.q;
  *scale = dq.scale[0];
  return true;
}

/* Whether t is available as a float constant (itself, or a foldable DQ). */
static bool constant_like(const QState *s, InferTensorId t) {
  const InferTensorDef *d = def_of(s, t);
  if (!d) return false;
  if (infer_tensor_is_constant(d)) return d->dtype == INFER_DTYPE_F32;
  return d->producer >= 0 && s->fold[d->producer];
}

/* Whether the config pins the layer to INT8 (int8 true) or to a float
 * precision (int8 false). */
static bool pinned(const InferBuildConfig *cfg, const char *layer, bool int8) {
  for (int i = 0; cfg && i < cfg->n_layer_precisions; i++)
    if (strcmp(cfg->layer_precisions[i].layer, layer) == 0)
      return (cfg->layer_precisions[i].precision == INFER_PREC_INT8) == int8;
  return false;
}

static bool pinned_float(const InferBuildConfig *cfg, const char *layer) {
  return pinned(cfg, layer, false);
}

/* A convolution over at most 4 input channels (an image's RGB layer). Its
 * reduction is too short to fill INT8 tensor-core tiles, so on the GPU the
 * float kernel made for few input channels runs it several times faster
 * (ResNet-50's first layer at batch 256 on an H200: 4.3 ms in INT8, 0.6 ms
 * in FP16); calibrated builds keep it float unless the config pins it to
 * INT8. On every backend: the CPU's INT8 engine is the reference the GPU's
 * is tested against, layer for layer. */
static bool few_input_channels(const QState *s, const InferLayer *l) {
  if (l->op != INFER_OP_CONV || l->params.conv.group > 1) return false;
  const InferShape *x = &def_of(s, l->inputs[0])->shape;
  return x->rank >= 3 && x->d[1] > 0 && x->d[1] <= 4;
}

static bool table_scale(const QState *s, InferTensorId t, float *scale) {
  return s->table && infer_calib_table_lookup(s->table, def_of(s, t)->name, scale) &&
         scale_ok(*scale);
}

/* ---- layer facts -------------------------------------------------------------- */

/* Output channels and the weights' output-channel axis (conv: 0; gemm: 0
 * with trans_b, else 1), from the weight tensor's shape. */
static int64_t out_channels(const InferLayer *l, const InferShape *w, int *axis) {
  *axis = l->op == INFER_OP_GEMM && !l->params.gemm.trans_b ? 1 : 0;
  return w->rank > *axis ? w->d[*axis] : -1;
}

static InferTensorId bias_of(const InferLayer *l) {
  if (l->n_inputs < 3) return INFER_NO_TENSOR;
  if (l->op == INFER_OP_CONV && l->params.conv.has_residual && l->n_inputs - 1 == 2)
    return INFER_NO_TENSOR;
  return l->inputs[2];
}

static InferTensorId residual_of(const InferLayer *l) {
  return l->op == INFER_OP_CONV && l->params.conv.has_residual ? l->inputs[l->n_inputs - 1]
                                                               : INFER_NO_TENSOR;
}

/* Whether the backend runs the INT8 form of layer l as planned. */
static bool backend_supports(const QState *s, int32_t l, const QLayer *q, bool out_i8) {
  const InferLayer *layer = &s->in->layers[l];
  InferOpParams p = layer->params;
  InferQuantParams *qp = layer->op == INFER_OP_CONV ? &p.conv.quant : &p.gemm.quant;
  qp->int8 = true;
  qp->x_scale = q->x_scale;
  qp->y_scale = out_i8 ? q->y_scale : 0.0f;
  qp->residual_scale = q->res_q != INFER_NO_TENSOR ? q->res_scale : 0.0f;
  InferTensorView in[5], out;
  memset(in, 0, sizeof in);
  memset(&out, 0, sizeof out);
  InferTensorId w = layer->inputs[1], bias = bias_of(layer), res = residual_of(layer);
  in[0].dtype = INFER_DTYPE_I8;
  in[0].shape = def_of(s, layer->inputs[0])->shape;
  in[1].dtype = INFER_DTYPE_I8;
  in[1].shape = def_of(s, w)->shape;
  if (bias != INFER_NO_TENSOR) {
    in[2].dtype = INFER_DTYPE_F32;
    in[2].shape = def_of(s, bias)->shape;
  }
  int axis;
  int64_t m = out_channels(layer, &in[1].shape, &axis);
  in[3].dtype = INFER_DTYPE_F32;
  in[3].shape = infer_shape_make(1, &m);
  int n = 4;
  if (res != INFER_NO_TENSOR) {
    in[4].dtype = q->res_q != INFER_NO_TENSOR ? INFER_DTYPE_I8 : INFER_DTYPE_F32;
    in[4].shape = def_of(s, res)->shape;
    n = 5;
  }
  out.dtype = out_i8 ? INFER_DTYPE_I8 : INFER_DTYPE_F32;
  out.shape = def_of(s, layer->outputs[0])->shape;
  InferOpCall call = {layer->op, layer->name, &p, in, n, &out, 1, 0};
  InferStatus *st;
  if (s->be->supports_layer) st = s->be->supports_layer(&call);
  else if (s->be->host_memory) st = infer_cpu_kernel(layer->op)->supports(&call);
  else return false;
  if (st) {
    infer_status_free(st);
    return false;
  }
  return true;
}

/* Conv (not already INT8) or Gemm with f32 output and rank-known tensors. */
static bool candidate(const QState *s, const InferLayer *l) {
  if (l->op != INFER_OP_CONV && l->op != INFER_OP_GEMM) return false;
  if (l->op == INFER_OP_CONV && (l->params.conv.quant.int8 || l->params.conv.channels_last))
    return false;
  if (l->op == INFER_OP_GEMM && l->params.gemm.quant.int8) return false;
  if (l->n_outputs != 1 || l->n_inputs < 2 || l->n_inputs > 4) return false;
  const InferTensorDef *y = def_of(s, l->outputs[0]);
  return y->shape_known && y->dtype == INFER_DTYPE_F32 && def_of(s, l->inputs[0])->shape_known;
}

static void log_float(QState *s, const InferLayer *l, const char *why) {
  s->n_float++;
  infer_build_log(s->ctx->cfg, "quantize: layer '%s' (%s) stays float: %s", l->name,
                  infer_op_name(l->op), why);
}

/* ---- planning ------------------------------------------------------------------ */

/* DQ(x_i8) -> layer with DQ(w_i8) weights [-> Q]. */
static void plan_explicit(QState *s, int32_t l) {
  const InferLayer *layer = &s->in->layers[l];
  QLayer q;
  memset(&q, 0, sizeof q);
  q.res = q.res_q = INFER_NO_TENSOR;
  q.absorbed_q = -1;
  if (!dq_activation(s, layer->inputs[0], &q.x, &q.x_scale)) return; /* not a QDQ layer */
  if (!dq_of(s, layer->inputs[1], &q.w_dq) || !q.w_dq.q_constant ||
      def_of(s, q.w_dq.q)->dtype != INFER_DTYPE_I8) {
    log_float(s, layer, "its weights are not a Dequantize of constant int8 values");
    return;
  }
  int axis;
  int64_t m = out_channels(layer, &def_of(s, q.w_dq.q)->shape, &axis);
  if (q.w_dq.n_scale != 1 && (q.w_dq.n_scale != m || q.w_dq.axis != axis)) {
    log_float(s, layer, "its weight scales are not per tensor or per output channel");
    return;
  }
  q.w_q = q.w_dq.q;
  InferTensorId bias = bias_of(layer);
  if (bias != INFER_NO_TENSOR && !constant_like(s, bias)) {
    log_float(s, layer, "its bias is not a constant");
    return;
  }
  q.res = residual_of(layer);
  if (q.res != INFER_NO_TENSOR && !dq_activation(s, q.res, &q.res_q, &q.res_scale))
    q.res_q = INFER_NO_TENSOR; /* a float residual */
  if (pinned_float(s->ctx->cfg, layer->name)) {
    log_float(s, layer, "pinned to a float precision");
    return;
  }
  q.out = layer->outputs[0];
  int32_t c = infer_uses_single_consumer(&s->uses, q.out);
  DqInfo qs;
  if (c >= 0 && s->in->layers[c].op == INFER_OP_QUANTIZE && s->in->layers[c].n_inputs == 2 &&
      def_of(s, s->in->layers[c].inputs[1])->dtype == INFER_DTYPE_F32 &&
      infer_tensor_is_constant(def_of(s, s->in->layers[c].inputs[1])) &&
      infer_shape_numel(&def_of(s, s->in->layers[c].inputs[1])->shape) == 1) {
    qs.scale = def_of(s, s->in->layers[c].inputs[1])->data;
    if (scale_ok(qs.scale[0])) {
      q.y_scale = qs.scale[0];
      q.out_i8 = true;
    }
  }
  if (q.out_i8 && !backend_supports(s, l, &q, true)) q.out_i8 = false;
  if (!q.out_i8 && !backend_supports(s, l, &q, false)) {
    char why[160];
    snprintf(why, sizeof why, "the %s backend has no INT8 kernel for it", s->be->name);
    log_float(s, layer, why);
    return;
  }
  if (q.out_i8) {
    q.absorbed_q = c;
    q.out = s->in->layers[c].outputs[0];
    s->skip[c] = true;
  } else {
    q.y_scale = 0.0f;
  }
  q.int8 = true;
  s->plan[l] = q;
  s->n_int8++;
}

/* Calibrated: scales of x and y from the table, float constant weights. */
static void plan_implicit(QState *s, int32_t l) {
  const InferLayer *layer = &s->in->layers[l];
  QLayer q;
  memset(&q, 0, sizeof q);
  q.res = q.res_q = q.w_q = INFER_NO_TENSOR;
  q.absorbed_q = -1;
  q.x = layer->inputs[0];
  q.out = layer->outputs[0];
  char why[320];
  if (def_of(s, q.x)->dtype != INFER_DTYPE_F32) {
    log_float(s, layer, "its input is not f32");
    return;
  }
  if (!table_scale(s, q.x, &q.x_scale)) {
    snprintf(why, sizeof why, "the calibration table has no scale for its input '%s'",
             def_of(s, q.x)->name);
    log_float(s, layer, why);
    return;
  }
  if (!table_scale(s, q.out, &q.y_scale)) {
    snprintf(why, sizeof why, "the calibration table has no scale for its output '%s'",
             def_of(s, q.out)->name);
    log_float(s, layer, why);
    return;
  }
  const InferTensorDef *w = def_of(s, layer->inputs[1]);
  if (!infer_tensor_is_constant(w) || w->dtype != INFER_DTYPE_F32) {
    log_float(s, layer, "its weights are not a float constant");
    return;
  }
  InferTensorId bias = bias_of(layer);
  if (bias != INFER_NO_TENSOR && !constant_like(s, bias)) {
    log_float(s, layer, "its bias is not a constant");
    return;
  }
  q.res = residual_of(layer);
  if (pinned_float(s->ctx->cfg, layer->name)) {
    log_float(s, layer, "pinned to a float precision");
    return;
  }
  if (few_input_channels(s, layer) && !pinned(s->ctx->cfg, layer->name, true)) {
    snprintf(why, sizeof why,
             "it reads %lld input channels, which a float kernel runs faster than INT8 (pin it "
             "to int8 to override)",
             (long long)def_of(s, layer->inputs[0])->shape.d[1]);
    log_float(s, layer, why);
    return;
  }
  if (!backend_supports(s, l, &q, false)) {
    snprintf(why, sizeof why, "the %s backend has no INT8 kernel for it", s->be->name);
    log_float(s, layer, why);
    return;
  }
  q.int8 = true;
  s->plan[l] = q;
  s->n_int8++;
}

/* Implicit: a layer writes i8 when an INT8 layer reads its output as x;
 * residuals made in i8 are read as i8. Layers are in order, so producers
 * are decided before their readers look. */
static void plan_implicit_outputs(QState *s) {
  for (int32_t l = 0; l < s->in->n_layers; l++) {
    QLayer *q = &s->plan[l];
    if (!q->int8) continue;
    if (q->res != INFER_NO_TENSOR) {
      const InferTensorDef *r = def_of(s, q->res);
      QLayer with_i8 = *q;
      with_i8.res_q = q->res;
      if (r->producer >= 0 && s->plan[r->producer].out_i8 &&
          table_scale(s, q->res, &with_i8.res_scale) && backend_supports(s, l, &with_i8, false)) {
        q->res_q = q->res;
        q->res_scale = with_i8.res_scale;
      }
    }
    InferTensorId y = s->in->layers[l].outputs[0];
    bool i8_reader = false;
    /* read as x, or as the fused residual (a ResNet shortcut: i8 there
     * moves a quarter of the bytes of f32) */
    for (int32_t k = 0; k < s->uses.count[y]; k++) {
      int32_t c = s->uses.layers[y][k];
      if (!s->plan[c].int8) continue;
      if (s->uses.slots[y][k] == 0 || residual_of(&s->in->layers[c]) == y) i8_reader = true;
    }
    q->out_i8 = i8_reader && backend_supports(s, l, q, true);
    if (!q->out_i8) q->y_scale = 0.0f;
  }
}

/* ---- emitting ------------------------------------------------------------------ */

static InferStatus *oom(void) {
  return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "quantize: out of memory");
}

/* A name base + suffix (+ "_<k>") that neither network has (malloc'ed). */
static char *new_name(QState *s, const char *base, const char *suffix) {
  size_t len = strlen(base) + strlen(suffix) + 24;
  char *name = malloc(len);
  for (int k = 0; name; k++) {
    if (k == 0) snprintf(name, len, "%s%s", base, suffix);
    else snprintf(name, len, "%s%s_%d", base, suffix, k);
    if (infer_network_find_tensor(s->in, name) == INFER_NO_TENSOR &&
        infer_network_find_tensor(s->rw.dst, name) == INFER_NO_TENSOR)
      break;
  }
  return name;
}

/* A new dst constant named after base + suffix. */
static InferStatus *new_constant(QState *s, const char *base, const char *suffix, InferDType t,
                                 const InferShape *shape, const void *data, InferTensorId *out) {
  char *name = new_name(s, base, suffix);
  if (!name) return oom();
  InferStatus *st = infer_network_add_constant(s->rw.dst, name, t, shape, data, out);
  free(name);
  return st;
}

/* A new dst constant of n f32 values. */
static InferStatus *f32_constant(QState *s, const char *base, const char *suffix, int64_t n,
                                 const float *v, InferTensorId *out) {
  InferShape sh = infer_shape_make(1, &n);
  return new_constant(s, base, suffix, INFER_DTYPE_F32, &sh, v, out);
}

static InferStatus *float_of(QState *s, InferTensorId t, InferTensorId *out);

/* The folded value of a Dequantize of constants, named like its output. */
static InferStatus *fold_dq(QState *s, InferTensorId t) {
  const InferLayer *l = &s->in->layers[def_of(s, t)->producer];
  const InferTensorDef *x = def_of(s, l->inputs[0]), *sc = def_of(s, l->inputs[1]);
  InferTensorView in[2] = {{x->dtype, x->shape, x->data}, {sc->dtype, sc->shape, sc->data}};
  InferTensorView y = {INFER_DTYPE_F32, x->shape, NULL};
  int64_t n = infer_shape_numel(&x->shape);
  y.data = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
  if (!y.data) return oom();
  InferOpCall call = {INFER_OP_DEQUANTIZE, l->name, &l->params, in, 2, &y, 1, 0};
  const InferCpuKernel *k = infer_cpu_kernel(INFER_OP_DEQUANTIZE);
  InferStatus *st = k->supports(&call);
  if (!st) st = k->run(&call);
  if (!st)
    st = infer_network_add_constant(s->rw.dst, def_of(s, t)->name, INFER_DTYPE_F32, &x->shape,
                                    y.data, &s->rw.map[t]);
  free(y.data);
  return st;
}

/* The dst f32 tensor of src tensor t: mapped, a folded DQ of constants, or
 * a Dequantize of its i8 form (named like t). */
static InferStatus *float_of(QState *s, InferTensorId t, InferTensorId *out) {
  if (t == INFER_NO_TENSOR || s->rw.map[t] != INFER_NO_TENSOR) return infer_rewrite_get(&s->rw, t, out);
  const InferTensorDef *d = def_of(s, t);
  if (d->producer >= 0 && s->fold[d->producer]) {
    INFER_TRY(fold_dq(s, t));
  } else if (s->as_i8[t] != INFER_NO_TENSOR) {
    InferTensorId in[2];
    in[0] = s->as_i8[t];
    INFER_TRY(f32_constant(s, d->name, "_scale", 1, &s->i8_scale[t], &in[1]));
    InferOpParams p;
    memset(&p, 0, sizeof p);
    char *name = new_name(s, d->name, "_dequantize");
    if (!name) return oom();
    InferStatus *st = infer_rewrite_emit(&s->rw, name, INFER_OP_DEQUANTIZE, &p, 2, in, 1, &t);
    free(name);
    INFER_TRY(st);
  }
  return infer_rewrite_get(&s->rw, t, out);
}

/* The dst i8 tensor of float src tensor t at `scale` (implicit): an INT8
 * producer's output, or one shared Quantize. */
static InferStatus *i8_of(QState *s, InferTensorId t, float scale, InferTensorId *out) {
  if (s->as_i8[t] == INFER_NO_TENSOR) {
    const InferTensorDef *d = def_of(s, t);
    InferTensorId in[2];
    INFER_TRY(float_of(s, t, &in[0]));
    INFER_TRY(f32_constant(s, d->name, "_scale", 1, &scale, &in[1]));
    InferOpParams p;
    memset(&p, 0, sizeof p);
    char *name = new_name(s, d->name, "_int8");
    if (!name) return oom();
    const char *names[1] = {name};
    InferStatus *st = infer_network_add_layer(s->rw.dst, name, INFER_OP_QUANTIZE, &p, 2, in, 1,
                                              names, &s->as_i8[t]);
    free(name);
    INFER_TRY(st);
    s->i8_scale[t] = scale;
  }
  *out = s->as_i8[t];
  return NULL;
}

/* Implicit: float weights quantized per output channel. */
static InferStatus *quantize_weights(QState *s, const InferLayer *l, InferTensorId *w_out,
                                     InferTensorId *scales_out) {
  const InferTensorDef *w = def_of(s, l->inputs[1]);
  int axis;
  int64_t m = out_channels(l, &w->shape, &axis), n = infer_shape_numel(&w->shape);
  if (m <= 0 || n <= 0) return infer_status_new(INFER_ERR_INTERNAL, "quantize: empty weights");
  float *amax = malloc(sizeof(float) * (size_t)m);
  int8_t *q = malloc((size_t)n);
  InferStatus *st = !amax || !q ? oom() : NULL;
  InferTensorView v = {w->dtype, w->shape, w->data};
  if (!st) st = infer_calib_weight_channel_amax(&v, axis, amax, m);
  if (!st) {
    int64_t inner = 1;
    for (int i = axis + 1; i < w->shape.rank; i++) inner *= w->shape.d[i];
    for (int64_t c = 0; c < m; c++) amax[c] = infer_calib_scale_from_amax(amax[c]);
    const float *f = w->data;
    for (int64_t i = 0; i < n; i++) {
      float sc = amax[(i / inner) % m];
      q[i] = sc > 0.0f ? saturate_round(f[i] / sc) : 0;
    }
    st = new_constant(s, w->name, "_int8", INFER_DTYPE_I8, &w->shape, q, w_out);
  }
  if (!st) st = f32_constant(s, w->name, "_scales", m, amax, scales_out);
  free(amax);
  free(q);
  return st;
}

/* Explicit: w_i8 as it is, scales expanded to one per output channel. */
static InferStatus *explicit_weights(QState *s, const InferLayer *l, const QLayer *q,
                                     InferTensorId *w_out, InferTensorId *scales_out) {
  const InferTensorDef *w = def_of(s, q->w_q);
  int axis;
  int64_t m = out_channels(l, &w->shape, &axis);
  if (m <= 0) return infer_status_new(INFER_ERR_INTERNAL, "quantize: empty weights");
  float *sc = malloc(sizeof(float) * (size_t)m);
  if (!sc) return oom();
  for (int64_t c = 0; c < m; c++) sc[c] = q->w_dq.scale[q->w_dq.n_scale == 1 ? 0 : c];
  InferStatus *st = infer_rewrite_get(&s->rw, q->w_q, w_out);
  if (!st) st = f32_constant(s, w->name, "_scales", m, sc, scales_out);
  free(sc);
  return st;
}

static InferStatus *emit_int8(QState *s, int32_t l) {
  const InferLayer *layer = &s->in->layers[l];
  const QLayer *q = &s->plan[l];
  InferTensorId in[5] = {INFER_NO_TENSOR, INFER_NO_TENSOR, INFER_NO_TENSOR, INFER_NO_TENSOR,
                         INFER_NO_TENSOR};
  bool explicit_qdq = q->w_q != INFER_NO_TENSOR;
  if (explicit_qdq) {
    INFER_TRY(infer_rewrite_get(&s->rw, q->x, &in[0]));
    INFER_TRY(explicit_weights(s, layer, q, &in[1], &in[3]));
  } else {
    INFER_TRY(i8_of(s, q->x, q->x_scale, &in[0]));
    INFER_TRY(quantize_weights(s, layer, &in[1], &in[3]));
  }
  INFER_TRY(float_of(s, bias_of(layer), &in[2]));
  int n = 4;
  if (q->res != INFER_NO_TENSOR) {
    if (q->res_q == INFER_NO_TENSOR) INFER_TRY(float_of(s, q->res, &in[4]));
    else if (explicit_qdq) INFER_TRY(infer_rewrite_get(&s->rw, q->res_q, &in[4]));
    else in[4] = s->as_i8[q->res_q];
    n = 5;
  }
  InferOpParams p = layer->params;
  InferQuantParams *qp = layer->op == INFER_OP_CONV ? &p.conv.quant : &p.gemm.quant;
  qp->int8 = true;
  qp->x_scale = q->x_scale;
  qp->y_scale = q->out_i8 ? q->y_scale : 0.0f;
  qp->residual_scale = q->res_q != INFER_NO_TENSOR ? q->res_scale : 0.0f;
  if (!q->out_i8 || explicit_qdq) {
    /* the output keeps its src name: float, or the absorbed Q's i8 output */
    INFER_TRY(infer_rewrite_emit(&s->rw, layer->name, layer->op, &p, n, in, 1, &q->out));
    return NULL;
  }
  /* implicit i8 output: a new name; float readers get a Dequantize named like y */
  char *name = new_name(s, def_of(s, q->out)->name, "_int8");
  if (!name) return oom();
  const char *names[1] = {name};
  InferStatus *st = infer_network_add_layer(s->rw.dst, layer->name, layer->op, &p, n, in, 1, names,
                                            &s->as_i8[q->out]);
  free(name);
  s->i8_scale[q->out] = q->y_scale;
  return st;
}

/* Any other layer: its inputs as float (or as they are). */
static InferStatus *emit_copy(QState *s, int32_t l) {
  const InferLayer *layer = &s->in->layers[l];
  InferTensorId in[256];
  if (layer->n_inputs > 256) return infer_status_new(INFER_ERR_UNSUPPORTED, "quantize: too many inputs");
  for (int i = 0; i < layer->n_inputs; i++) INFER_TRY(float_of(s, layer->inputs[i], &in[i]));
  return infer_rewrite_emit(&s->rw, layer->name, layer->op, &layer->params, layer->n_inputs, in,
                            layer->n_outputs, layer->outputs);
}

static InferStatus *emit_all(QState *s, InferNetwork **out) {
  INFER_TRY(infer_rewrite_begin(&s->rw, s->in));
  InferStatus *st = NULL;
  for (int32_t l = 0; !st && l < s->in->n_layers; l++) {
    s->rw.done[l] = true;
    if (s->skip[l] || s->fold[l]) continue;
    st = s->plan[l].int8 ? emit_int8(s, l) : emit_copy(s, l);
  }
  /* graph outputs: float (a DQ of an i8 result, a folded DQ) under their names */
  for (int32_t i = 0; !st && i < s->in->n_outputs; i++) {
    InferTensorId d;
    st = float_of(s, s->in->outputs[i], &d);
  }
  if (!st) st = infer_rewrite_finish(&s->rw, out);
  infer_rewrite_free(&s->rw);
  return st;
}

/* ---- the pass ------------------------------------------------------------------ */

static void state_free(QState *s) {
  infer_uses_free(&s->uses);
  free(s->plan);
  free(s->skip);
  free(s->fold);
  free(s->as_i8);
  free(s->i8_scale);
}

InferStatus *infer_pass_quantize(const InferPassContext *ctx, const InferNetwork *in,
                                 InferNetwork **out, int *changes) {
  *out = NULL;
  *changes = 0;
  const InferBuildConfig *cfg = ctx->cfg;
  bool has_qdq = false, has_dq = false;
  for (int32_t l = 0; l < in->n_layers; l++) {
    has_qdq |= in->layers[l].op == INFER_OP_QUANTIZE || in->layers[l].op == INFER_OP_DEQUANTIZE;
    has_dq |= in->layers[l].op == INFER_OP_DEQUANTIZE;
  }
  bool implicit = !has_qdq && cfg && (cfg->precisions & INFER_PRECISION_INT8) && cfg->calib;
  if (!has_dq && !implicit) return NULL;
  if (has_qdq && cfg && cfg->calib)
    infer_build_log(cfg, "quantize: the network has Q/DQ layers: the calibration table is not used");
  QState s;
  memset(&s, 0, sizeof s);
  s.ctx = ctx;
  s.in = in;
  s.be = infer_backend_get(ctx->backend);
  s.table = implicit ? cfg->calib : NULL;
  if (!s.be) return infer_status_new(INFER_ERR_INTERNAL, "quantize: no backend");
  InferStatus *st = infer_uses_build(in, &s.uses);
  if (st) return st;
  size_t nl = (size_t)in->n_layers + 1, nt = (size_t)in->n_tensors + 1;
  s.plan = calloc(nl, sizeof *s.plan);
  s.skip = calloc(nl, sizeof *s.skip);
  s.fold = calloc(nl, sizeof *s.fold);
  s.as_i8 = malloc(nt * sizeof *s.as_i8);
  s.i8_scale = calloc(nt, sizeof *s.i8_scale);
  if (!s.plan || !s.skip || !s.fold || !s.as_i8 || !s.i8_scale) {
    state_free(&s);
    return oom();
  }
  for (size_t t = 0; t < nt; t++) s.as_i8[t] = INFER_NO_TENSOR;
  int n_fold = 0;
  for (int32_t l = 0; l < in->n_layers; l++) {
    const InferLayer *layer = &in->layers[l];
    DqInfo dq;
    if (layer->op == INFER_OP_DEQUANTIZE && dq_of(&s, layer->outputs[0], &dq) && dq.q_constant)
      n_fold += s.fold[l] = true;
  }
  for (int32_t l = 0; l < in->n_layers; l++) {
    if (!candidate(&s, &in->layers[l])) continue;
    if (has_qdq) plan_explicit(&s, l);
    else plan_implicit(&s, l);
  }
  if (implicit) plan_implicit_outputs(&s);
  if (s.n_int8 == 0 && n_fold == 0) {
    state_free(&s);
    return NULL;
  }
  InferNetwork *net = NULL;
  st = emit_all(&s, &net);
  if (!st) {
    infer_build_log(cfg, "quantize: %d INT8 layers (%s), %d Conv/Gemm layers float", s.n_int8,
                    has_qdq ? "explicit Q/DQ" : "calibrated", s.n_float);
    /* Dequantize layers whose readers all became INT8 are dead now */
    InferNetwork *clean = NULL;
    int dead = 0;
    st = infer_pass_dead_code(ctx, net, &clean, &dead);
    if (clean) {
      infer_network_release(net);
      net = clean;
    }
  }
  if (st) {
    infer_network_release(net);
  } else {
    *out = net;
    *changes = s.n_int8 + n_fold;
  }
  state_free(&s);
  return st;
}
