/* Precision choice: with FP16 allowed and a backend that has half-precision
 * kernels, layers compute in FP16 where that is safe and supported.
 *
 * Precision lives in the IR as tensor dtypes: an FP16 layer reads and
 * writes F16 tensors, its constant inputs (weights, biases) become F16
 * constants, and explicit Cast layers convert where an FP16 region meets
 * an FP32 one (reformat layers in TensorRT's words). Graph inputs and
 * outputs keep their dtypes, so applications bind FP32 as before; a layer
 * that writes a graph output stays FP32 (one cheap layer, and the output
 * keeps FP32 rounding).
 *
 * A layer goes FP16 when all of these hold:
 *   - its op is one whose FP16 form loses no more than rounding (the
 *     products of conv/gemm accumulate in FP32 on the tensor cores; pooling,
 *     activations, data movement, resize and softmax compute in float);
 *   - every float tensor it reads or writes is F32 (integer and bool
 *     tensors, and inputs the op reads on the host for shapes, stay as they
 *     are);
 *   - the config does not pin it to FP32 (infer_build_config_set_layer_precision);
 *   - the backend's kernel accepts the F16 form (asked through
 *     supports_layer with the F16 dtypes).
 *
 * INT8 layers (the INT8 forms of Conv / Gemm, made by the quantize pass)
 * and their i8 tensors are left alone: in an INT8 engine with FP16
 * allowed, the layers that stayed float go FP16 around them (TensorRT's
 * rule: INT8 where possible, then FP16, then FP32). A Quantize reads an
 * F16 producer's output as it is (its kernels take F16), without a Cast. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "op_table.h"
#include "passes.h"

typedef struct PrecisionState {
  InferRewrite rw;
  const InferNetwork *in;
  const InferBackend *be;
  InferTensorId *as_half;     /* per src tensor: its F16 dst tensor (cast or produced) */
  InferTensorId *as_float;    /* per src tensor: an F32 dst tensor of its value */
  bool *produced_half;        /* per src tensor: its dst tensor is the F16 one */
} PrecisionState;

static bool unary_ok(InferUnaryKind k) {
  switch (k) {
    case INFER_UNARY_NONE: case INFER_UNARY_RELU: case INFER_UNARY_LEAKY_RELU:
    case INFER_UNARY_CLIP: case INFER_UNARY_SIGMOID: case INFER_UNARY_HARD_SIGMOID:
    case INFER_UNARY_HARD_SWISH: case INFER_UNARY_TANH: case INFER_UNARY_GELU:
    case INFER_UNARY_SILU: case INFER_UNARY_MISH: case INFER_UNARY_ELU:
    case INFER_UNARY_NEG: case INFER_UNARY_ABS:
      return true;
    default:
      return false;
  }
}

static bool binary_ok(InferBinaryKind k) {
  return k == INFER_BINARY_ADD || k == INFER_BINARY_SUB || k == INFER_BINARY_MUL ||
         k == INFER_BINARY_MIN || k == INFER_BINARY_MAX || k == INFER_BINARY_PRELU;
}

static bool op_ok(const InferLayer *layer) {
  switch (layer->op) {
    case INFER_OP_CONV: case INFER_OP_DECONV: case INFER_OP_GEMM: case INFER_OP_MATMUL:
    case INFER_OP_POOL: case INFER_OP_SOFTMAX: case INFER_OP_RESIZE: case INFER_OP_PAD:
    case INFER_OP_RESHAPE: case INFER_OP_TRANSPOSE: case INFER_OP_CONCAT: case INFER_OP_SPLIT:
    case INFER_OP_SLICE: case INFER_OP_EXPAND: case INFER_OP_TILE: case INFER_OP_DEPTH_SPACE:
    case INFER_OP_GATHER:
      return true;
    case INFER_OP_UNARY:
      return unary_ok(layer->params.unary.kind);
    case INFER_OP_BINARY:
      return binary_ok(layer->params.binary.kind);
    case INFER_OP_POINTWISE: {
      /* steps of the default type become FP16 steps: each must be one that
       * would go FP16 as a layer of its own */
      const InferPointwiseParams *p = &layer->params.pointwise;
      for (int i = 0; i < p->n_instrs && i < INFER_POINTWISE_MAX_INSTRS; i++) {
        const InferPointwiseInstr *in = &p->instrs[i];
        if (in->op == INFER_POINTWISE_UNARY ? !unary_ok((InferUnaryKind)in->kind)
                                            : !binary_ok((InferBinaryKind)in->kind))
          return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/* Whether input i is read as data in the layer's precision (not a host
 * shape value, not an integer). */
static bool converts_input(const PrecisionState *s, const InferLayer *layer, int i) {
  InferTensorId t = layer->inputs[i];
  if (t < 0) return false;
  uint32_t shape_inputs = infer_op_info(layer->op)->shape_inputs;
  if (i < 32 && (shape_inputs & (1u << i))) return false;
  return s->in->tensors[t].dtype == INFER_DTYPE_F32;
}

static bool pinned_fp32(const InferBuildConfig *cfg, const char *layer) {
  for (int i = 0; cfg && i < cfg->n_layer_precisions; i++)
    if (strcmp(cfg->layer_precisions[i].layer, layer) == 0)
      return cfg->layer_precisions[i].precision == INFER_PREC_FP32;
  return false;
}

static bool is_int8(const InferLayer *layer) {
  return (layer->op == INFER_OP_CONV && layer->params.conv.quant.int8) ||
         (layer->op == INFER_OP_GEMM && layer->params.gemm.quant.int8);
}

static bool goes_half(const PrecisionState *s, const InferPassContext *ctx, const InferUses *u,
                      const InferLayer *layer) {
  if (!op_ok(layer) || is_int8(layer) || pinned_fp32(ctx->cfg, layer->name) ||
      layer->n_inputs > 64 || layer->n_outputs > 64)
    return false;
  bool any_float = false;
  for (int i = 0; i < layer->n_outputs; i++) {
    const InferTensorDef *t = &s->in->tensors[layer->outputs[i]];
    if (u->is_output[layer->outputs[i]]) return false;
    if (t->dtype != INFER_DTYPE_F32) return false;
    any_float = true;
  }
  for (int i = 0; i < layer->n_inputs; i++) {
    InferTensorId t = layer->inputs[i];
    if (t < 0) continue;
    InferDType d = s->in->tensors[t].dtype;
    if (d == INFER_DTYPE_UNDEFINED || d == INFER_DTYPE_F16) return false;
  }
  if (!any_float) return false;
  /* ask the backend about the F16 form */
  InferTensorView in[64], out[64];
  for (int i = 0; i < layer->n_inputs; i++) {
    memset(&in[i], 0, sizeof in[i]);
    InferTensorId t = layer->inputs[i];
    if (t < 0) continue;
    in[i].dtype = converts_input(s, layer, i) ? INFER_DTYPE_F16 : s->in->tensors[t].dtype;
    in[i].shape = s->in->tensors[t].shape;
  }
  for (int i = 0; i < layer->n_outputs; i++) {
    memset(&out[i], 0, sizeof out[i]);
    out[i].dtype = INFER_DTYPE_F16;
    out[i].shape = s->in->tensors[layer->outputs[i]].shape;
  }
  InferOpCall call = {layer->op, layer->name, &layer->params, in, layer->n_inputs, out,
                      layer->n_outputs, 0};
  InferStatus *st = s->be->supports_layer(&call);
  if (st) {
    infer_status_free(st);
    return false;
  }
  return true;
}

/* dst tensor `from` cast to `to`, as a new layer. */
static InferStatus *emit_cast(PrecisionState *s, const char *src_name, InferTensorId from,
                              InferDType to, InferTensorId *out) {
  char *name = infer_rewrite_fresh_name(&s->rw, src_name, to == INFER_DTYPE_F16 ? "_to_fp16" : "_to_fp32");
  if (!name) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "optimizer: out of memory");
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.cast.to = to;
  const char *names[1] = {name};
  InferStatus *st = infer_network_add_layer(s->rw.dst, name, INFER_OP_CAST, &p, 1, &from, 1, names,
                                            out);
  free(name);
  return st;
}

/* The F16 dst tensor holding src tensor t's value. */
static InferStatus *half_of(PrecisionState *s, InferTensorId t, InferTensorId *out) {
  if (s->as_half[t] != INFER_NO_TENSOR) {
    *out = s->as_half[t];
    return NULL;
  }
  const InferTensorDef *def = &s->in->tensors[t];
  if (infer_tensor_is_constant(def)) {
    int64_t n = infer_shape_numel(&def->shape);
    uint16_t *h = malloc(sizeof *h * (size_t)(n > 0 ? n : 1));
    if (!h) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "optimizer: out of memory");
    const float *f = def->data;
    for (int64_t i = 0; i < n; i++) h[i] = infer_float_to_half(f[i]);
    InferStatus *st = infer_rewrite_constant(&s->rw, def->name, INFER_DTYPE_F16, &def->shape, h,
                                             &s->as_half[t]);
    free(h);
    INFER_TRY(st);
  } else {
    InferTensorId f;
    INFER_TRY(infer_rewrite_get(&s->rw, t, &f));
    INFER_TRY(emit_cast(s, def->name, f, INFER_DTYPE_F16, &s->as_half[t]));
  }
  *out = s->as_half[t];
  return NULL;
}

/* The F32 dst tensor holding src tensor t's value. */
static InferStatus *float_of(PrecisionState *s, InferTensorId t, InferTensorId *out) {
  if (!s->produced_half[t]) return infer_rewrite_get(&s->rw, t, out);
  if (s->as_float[t] == INFER_NO_TENSOR)
    INFER_TRY(emit_cast(s, s->in->tensors[t].name, s->as_half[t], INFER_DTYPE_F32,
                        &s->as_float[t]));
  *out = s->as_float[t];
  return NULL;
}

static InferStatus *emit_layer(PrecisionState *s, int32_t l, bool half) {
  const InferLayer *layer = &s->in->layers[l];
  InferTensorId in[256];
  bool touched = half;
  for (int i = 0; i < layer->n_inputs; i++) {
    InferTensorId t = layer->inputs[i];
    in[i] = INFER_NO_TENSOR;
    if (t < 0) continue;
    if (half && converts_input(s, layer, i)) {
      INFER_TRY(half_of(s, t, &in[i]));
    } else if (i == 0 && layer->op == INFER_OP_QUANTIZE && s->produced_half[t]) {
      in[i] = s->as_half[t];
      touched = true;
    } else if (s->produced_half[t] && (infer_op_info(layer->op)->flags & INFER_OPF_READS_SHAPE_ONLY)) {
      in[i] = s->as_half[t]; /* only its shape is read: no cast */
      touched = true;
    } else {
      touched |= s->produced_half[t];
      INFER_TRY(float_of(s, t, &in[i]));
    }
  }
  if (!touched) return infer_rewrite_copy(&s->rw, l);
  INFER_TRY(infer_rewrite_emit(&s->rw, layer->name, layer->op, &layer->params, layer->n_inputs, in,
                               layer->n_outputs, layer->outputs));
  for (int i = 0; half && i < layer->n_outputs; i++) {
    InferTensorId t = layer->outputs[i];
    s->produced_half[t] = true;
    s->as_half[t] = s->rw.map[t];
  }
  s->rw.done[l] = true;
  return NULL;
}

InferStatus *infer_pass_precision(const InferPassContext *ctx, const InferNetwork *in,
                                  InferNetwork **out, int *changes) {
  *out = NULL;
  *changes = 0;
  const InferBackend *be = infer_backend_get(ctx->backend);
  if (!ctx->cfg || !(ctx->cfg->precisions & INFER_PRECISION_FP16) || !be || be->host_memory ||
      !be->supports_layer)
    return NULL;
  PrecisionState s;
  memset(&s, 0, sizeof s);
  s.in = in;
  s.be = be;
  InferUses u;
  INFER_TRY(infer_uses_build(in, &u));
  size_t n = (size_t)in->n_tensors + 1;
  bool *half = calloc((size_t)in->n_layers + 1, sizeof *half);
  s.as_half = malloc(n * sizeof *s.as_half);
  s.as_float = malloc(n * sizeof *s.as_float);
  s.produced_half = calloc(n, sizeof *s.produced_half);
  InferStatus *st = NULL;
  if (!half || !s.as_half || !s.as_float || !s.produced_half)
    st = infer_status_new(INFER_ERR_OUT_OF_MEMORY, "optimizer: out of memory");
  int n_half = 0;
  for (int32_t l = 0; !st && l < in->n_layers; l++) {
    half[l] = goes_half(&s, ctx, &u, &in->layers[l]);
    n_half += half[l];
  }
  if (!st && n_half > 0) {
    for (size_t t = 0; t < n; t++) s.as_half[t] = s.as_float[t] = INFER_NO_TENSOR;
    st = infer_rewrite_begin(&s.rw, in);
    for (int32_t l = 0; !st && l < in->n_layers; l++) st = emit_layer(&s, l, half[l]);
    if (!st) st = infer_rewrite_finish(&s.rw, out);
    if (!st) *changes = n_half;
    infer_rewrite_free(&s.rw);
  }
  infer_uses_free(&u);
  free(half);
  free(s.as_half);
  free(s.as_float);
  free(s.produced_half);
  return st;
}
