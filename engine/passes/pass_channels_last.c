/* Layout choice: on GPUs the tensor cores run convolutions on channels-last
 * (NHWC) activations; channels-first (NCHW, ONNX's layout) costs cuDNN a
 * transpose per layer. On backends that prefer it (CUDA, with FP16 or TF32
 * math allowed) this pass turns 2-D Conv and Pool layers channels-last and
 * keeps whole regions in that layout:
 *
 *   - Conv (2-D, constant weights, also with a fused residual; float or
 *     its INT8 form) and Pool (2-D or global, rank 4) become their
 *     channels_last forms; weights are transposed here, once, to
 *     [C_out, kH, kW, C_in/g] (an INT8 conv's bias and per-channel weight
 *     scales are 1-D and stay as they are);
 *   - layers that do not care about the layout follow their input:
 *     unary activations and Casts, Quantize / Dequantize (a per-channel
 *     scale axis 1 becomes axis 3), Add/Mul/... of two channels-last tensors
 *     of one shape or of one and a constant (transposed too), fused
 *     pointwise chains on the same terms, Concat over channels;
 *   - everything else reads channels-first tensors.
 *
 * Each tensor exists in the layout its producer wrote and, on demand, in
 * the other one through one Transpose (shared by all its readers). Graph
 * outputs are always channels-first with their names. Runs before the
 * precision pass, so Transposes and transposed weights become FP16 too. */
#include <stdlib.h>
#include <string.h>

#include "channels_last.h"
#include "passes.h"

typedef struct LayoutState {
  InferRewrite rw;
  const InferNetwork *in;
  InferTensorId *cl;      /* per src tensor: its channels-last dst tensor, or NO_TENSOR */
  InferTensorId *cl_const;/* per src constant: its transposed dst constant */
} LayoutState;

static const int64_t TO_LAST[4] = {0, 2, 3, 1}, TO_FIRST[4] = {0, 3, 1, 2};

static const InferTensorDef *def_of(const LayoutState *s, InferTensorId t) {
  return &s->in->tensors[t];
}

static InferStatus *emit_transpose(LayoutState *s, InferTensorId from, const int64_t perm[4],
                                   const char *name, InferTensorId *out) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.transpose.n_perm = 4;
  memcpy(p.transpose.perm, perm, sizeof(int64_t) * 4);
  const char *names[1] = {name};
  return infer_network_add_layer(s->rw.dst, name, INFER_OP_TRANSPOSE, &p, 1, &from, 1, names, out);
}

/* The channels-first dst tensor of src tensor t (its producer's output, or
 * a Transpose of the channels-last one named like t). */
static InferStatus *first_of(LayoutState *s, InferTensorId t, InferTensorId *out) {
  if (s->rw.map[t] != INFER_NO_TENSOR || s->cl[t] == INFER_NO_TENSOR)
    return infer_rewrite_get(&s->rw, t, out);
  INFER_TRY(emit_transpose(s, s->cl[t], TO_FIRST, def_of(s, t)->name, &s->rw.map[t]));
  *out = s->rw.map[t];
  return NULL;
}

/* The channels-last dst tensor of a rank-4 src tensor t. */
static InferStatus *last_of(LayoutState *s, InferTensorId t, InferTensorId *out) {
  if (s->cl[t] == INFER_NO_TENSOR) {
    InferTensorId f;
    INFER_TRY(first_of(s, t, &f));
    char *name = infer_rewrite_fresh_name(&s->rw, def_of(s, t)->name, "_nhwc");
    if (!name) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "optimizer: out of memory");
    InferStatus *st = emit_transpose(s, f, TO_LAST, name, &s->cl[t]);
    free(name);
    INFER_TRY(st);
  }
  *out = s->cl[t];
  return NULL;
}

/* A constant of rank <= 4 as the channels-last form of its rank-4
 * broadcast ([C,1,1] -> [1,1,1,C]); `weights` keeps rank 4 [O,I,kH,kW] ->
 * [O,kH,kW,I]. */
static InferStatus *constant_last(LayoutState *s, InferTensorId t, InferTensorId *out) {
  if (s->cl_const[t] != INFER_NO_TENSOR) {
    *out = s->cl_const[t];
    return NULL;
  }
  const InferTensorDef *d = def_of(s, t);
  InferShape cf = {4, {1, 1, 1, 1}};
  for (int i = 0; i < d->shape.rank; i++) cf.d[4 - d->shape.rank + i] = d->shape.d[i];
  InferShape cl = {4, {cf.d[0], cf.d[2], cf.d[3], cf.d[1]}};
  size_t elem = infer_dtype_size(d->dtype);
  void *buf = malloc(d->nbytes ? d->nbytes : 1);
  if (!buf) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "optimizer: out of memory");
  infer_copy_layout(buf, d->data, &cf, elem, true);
  char *name = infer_rewrite_fresh_name(&s->rw, d->name, "_nhwc");
  InferStatus *st = name ? NULL : infer_status_new(INFER_ERR_OUT_OF_MEMORY, "optimizer: out of memory");
  if (!st) st = infer_network_add_constant(s->rw.dst, name, d->dtype, &cl, buf, &s->cl_const[t]);
  free(name);
  free(buf);
  INFER_TRY(st);
  *out = s->cl_const[t];
  return NULL;
}

static bool rank4(const LayoutState *s, InferTensorId t) {
  return t >= 0 && def_of(s, t)->shape.rank == 4;
}

static bool same_shape(const InferShape *a, const InferShape *b) {
  if (a->rank != b->rank) return false;
  for (int i = 0; i < a->rank; i++)
    if (a->d[i] != b->d[i] || a->d[i] < 0) return false;
  return true;
}

/* Emits layer l with inputs `in` and params `p`, its output channels-last. */
static InferStatus *emit_last(LayoutState *s, int32_t l, const InferOpParams *p,
                              const InferTensorId *in) {
  const InferLayer *layer = &s->in->layers[l];
  InferTensorId y = layer->outputs[0];
  char *name = infer_rewrite_fresh_name(&s->rw, def_of(s, y)->name, "_nhwc");
  if (!name) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "optimizer: out of memory");
  const char *names[1] = {name};
  InferStatus *st = infer_network_add_layer(s->rw.dst, layer->name, layer->op, p, layer->n_inputs,
                                            in, 1, names, &s->cl[y]);
  free(name);
  if (!st) {
    s->rw.done[l] = true;
    s->rw.changes++;
  }
  return st;
}

static bool conv_ok(const LayoutState *s, const InferLayer *l) {
  const InferConvParams *p = &l->params.conv;
  if (p->spatial != 2 || !rank4(s, l->inputs[0]) || l->inputs[1] < 0) return false;
  const InferTensorDef *w = def_of(s, l->inputs[1]);
  InferDType t = p->quant.int8 ? INFER_DTYPE_I8 : INFER_DTYPE_F32;
  return infer_tensor_is_constant(w) && w->shape.rank == 4 && w->dtype == t &&
         def_of(s, l->inputs[0])->dtype == t;
}

/* Quantize / Dequantize of a channels-last tensor: per-tensor scales keep
 * their meaning, a per-channel axis 1 becomes 3; other axes stay
 * channels-first. */
static bool quantize_follows(const LayoutState *s, const InferLayer *l, InferOpParams *p) {
  InferTensorId x = l->inputs[0];
  if (l->n_inputs != 2 || x < 0 || s->cl[x] == INFER_NO_TENSOR || l->inputs[1] < 0) return false;
  if (infer_shape_numel(&def_of(s, l->inputs[1])->shape) == 1) return true;
  int64_t axis = p->quantize.axis < 0 ? p->quantize.axis + 4 : p->quantize.axis;
  if (axis != 1) return false;
  p->quantize.axis = 3;
  return true;
}

static InferStatus *try_layer(LayoutState *s, int32_t l, bool *handled) {
  const InferLayer *layer = &s->in->layers[l];
  InferTensorId in[256];
  InferOpParams p = layer->params;
  *handled = false;
  if (layer->n_outputs != 1 || layer->n_inputs > 256 || !rank4(s, layer->outputs[0])) return NULL;
  InferTensorId x = layer->n_inputs > 0 ? layer->inputs[0] : INFER_NO_TENSOR;
  switch (layer->op) {
    case INFER_OP_CONV:
      if (!conv_ok(s, layer)) return NULL;
      for (int i = 0; i < layer->n_inputs; i++) {
        InferTensorId t = layer->inputs[i];
        if (t < 0) in[i] = INFER_NO_TENSOR;
        else if (i == 0 || (p.conv.has_residual && i == layer->n_inputs - 1)) INFER_TRY(last_of(s, t, &in[i]));
        else if (i == 1) INFER_TRY(constant_last(s, t, &in[i]));
        else INFER_TRY(infer_rewrite_get(&s->rw, t, &in[i]));
      }
      p.conv.channels_last = true;
      break;
    case INFER_OP_POOL:
      if (!rank4(s, x) || (!p.pool.global && p.pool.spatial != 2)) return NULL;
      INFER_TRY(last_of(s, x, &in[0]));
      p.pool.channels_last = true;
      break;
    case INFER_OP_UNARY:
    case INFER_OP_CAST:
      if (s->cl[x] == INFER_NO_TENSOR) return NULL;
      in[0] = s->cl[x];
      break;
    case INFER_OP_QUANTIZE:
    case INFER_OP_DEQUANTIZE:
      if (!quantize_follows(s, layer, &p)) return NULL;
      in[0] = s->cl[x];
      INFER_TRY(infer_rewrite_get(&s->rw, layer->inputs[1], &in[1]));
      break;
    case INFER_OP_BINARY: {
      InferBinaryKind k = p.binary.kind;
      if (k != INFER_BINARY_ADD && k != INFER_BINARY_SUB && k != INFER_BINARY_MUL &&
          k != INFER_BINARY_DIV && k != INFER_BINARY_MIN && k != INFER_BINARY_MAX)
        return NULL;
      const InferShape *ys = &def_of(s, layer->outputs[0])->shape;
      for (int i = 0; i < 2; i++) {
        InferTensorId t = layer->inputs[i];
        const InferTensorDef *d = def_of(s, t);
        if (s->cl[t] != INFER_NO_TENSOR && same_shape(&d->shape, ys)) {
          in[i] = s->cl[t];
        } else if (infer_tensor_is_constant(d) && d->shape.rank <= 4) {
          in[i] = INFER_NO_TENSOR; /* decided below */
        } else {
          return NULL;
        }
      }
      if (in[0] == INFER_NO_TENSOR && in[1] == INFER_NO_TENSOR) return NULL;
      for (int i = 0; i < 2; i++)
        if (in[i] == INFER_NO_TENSOR) INFER_TRY(constant_last(s, layer->inputs[i], &in[i]));
      break;
    }
    case INFER_OP_POINTWISE: {
      /* like a Binary: activations channels-last with the output's shape,
       * constants transposed (scalars are immediates in the program) */
      const InferShape *ys = &def_of(s, layer->outputs[0])->shape;
      bool any = false;
      for (int i = 0; i < layer->n_inputs; i++) {
        InferTensorId t = layer->inputs[i];
        const InferTensorDef *d = def_of(s, t);
        if (s->cl[t] != INFER_NO_TENSOR && same_shape(&d->shape, ys)) {
          in[i] = s->cl[t];
          any = true;
        } else if (infer_tensor_is_constant(d) && d->shape.rank <= 4) {
          in[i] = INFER_NO_TENSOR; /* decided below */
        } else {
          return NULL;
        }
      }
      if (!any) return NULL;
      for (int i = 0; i < layer->n_inputs; i++)
        if (in[i] == INFER_NO_TENSOR) INFER_TRY(constant_last(s, layer->inputs[i], &in[i]));
      break;
    }
    case INFER_OP_CONCAT: {
      int64_t axis = p.axis.axis < 0 ? p.axis.axis + 4 : p.axis.axis;
      if (axis != 1) return NULL;
      for (int i = 0; i < layer->n_inputs; i++) {
        InferTensorId t = layer->inputs[i];
        if (t < 0 || s->cl[t] == INFER_NO_TENSOR) return NULL;
        in[i] = s->cl[t];
      }
      p.axis.axis = 3;
      break;
    }
    default:
      return NULL;
  }
  *handled = true;
  return emit_last(s, l, &p, in);
}

static InferStatus *copy_first(LayoutState *s, int32_t l) {
  const InferLayer *layer = &s->in->layers[l];
  InferTensorId t;
  for (int i = 0; i < layer->n_inputs; i++)
    if (layer->inputs[i] >= 0) INFER_TRY(first_of(s, layer->inputs[i], &t));
  return infer_rewrite_copy(&s->rw, l);
}

static bool wanted(const InferPassContext *ctx) {
  if (ctx->backend != INFER_BACKEND_CUDA || !ctx->cfg) return false;
  /* INT8 convolutions run on the tensor cores channels-last only */
  return (ctx->cfg->precisions & (INFER_PRECISION_FP16 | INFER_PRECISION_INT8)) ||
         !ctx->cfg->no_tf32;
}

InferStatus *infer_pass_channels_last(const InferPassContext *ctx, const InferNetwork *in,
                                      InferNetwork **out, int *changes) {
  *out = NULL;
  *changes = 0;
  if (!wanted(ctx)) return NULL;
  bool any = false;
  for (int32_t l = 0; l < in->n_layers && !any; l++) any = in->layers[l].op == INFER_OP_CONV;
  if (!any) return NULL;
  LayoutState s;
  memset(&s, 0, sizeof s);
  s.in = in;
  size_t n = (size_t)in->n_tensors + 1;
  s.cl = malloc(n * sizeof *s.cl);
  s.cl_const = malloc(n * sizeof *s.cl_const);
  InferStatus *st = NULL;
  if (!s.cl || !s.cl_const) st = infer_status_new(INFER_ERR_OUT_OF_MEMORY, "optimizer: out of memory");
  for (size_t t = 0; !st && t < n; t++) s.cl[t] = s.cl_const[t] = INFER_NO_TENSOR;
  if (!st) st = infer_rewrite_begin(&s.rw, in);
  for (int32_t l = 0; !st && l < in->n_layers; l++) {
    bool handled;
    st = try_layer(&s, l, &handled);
    if (!st && !handled) st = copy_first(&s, l);
  }
  InferTensorId t;
  for (int32_t i = 0; !st && i < in->n_outputs; i++) st = first_of(&s, in->outputs[i], &t);
  int n_changes = s.rw.changes;
  if (!st && n_changes > 0) st = infer_rewrite_finish(&s.rw, out);
  if (!st) *changes = n_changes;
  if (s.cl) infer_rewrite_free(&s.rw);
  free(s.cl);
  free(s.cl_const);
  return st;
}
