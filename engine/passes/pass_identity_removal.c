/* Pass 3, identity-removal: layers that pass their input through unchanged
 * are dropped and their output aliased to their input:
 *   - Identity / Dropout (RESHAPE kind IDENTITY) and UNARY kind NONE;
 *   - Cast to the input's own dtype;
 *   - Reshape / Flatten / Squeeze / Unsqueeze whose (static) output shape
 *     equals its (static) input shape;
 *   - x + 0, 0 + x, x - 0, x * 1, 1 * x, x / 1, x ^ 1 with a constant of
 *     zeros / ones that cannot enlarge x by broadcasting (each of its dims,
 *     right-aligned, is 1 or equal to x's known dim; rank <= x's rank).
 * A dropped layer whose output is a graph output hands that name to the
 * layer producing its input (when that tensor is not itself a graph output
 * and has no other name to keep); otherwise the layer stays, since an
 * identity would be needed anyway to keep the output's name. */
#include <stdlib.h>
#include <string.h>

#include "passes.h"

/* Whether every element of constant t equals v (0 or 1). */
static bool constant_all(const InferTensorDef *t, int v) {
  if (!infer_tensor_is_constant(t)) return false;
  int64_t n = infer_shape_numel(&t->shape);
  if (n < 0) return false;
  for (int64_t i = 0; i < n; i++) {
    double x;
    switch (t->dtype) {
      case INFER_DTYPE_F32: x = ((const float *)t->data)[i]; break;
      case INFER_DTYPE_F16: x = infer_half_to_float(((const uint16_t *)t->data)[i]); break;
      case INFER_DTYPE_I8: x = ((const int8_t *)t->data)[i]; break;
      case INFER_DTYPE_U8: x = ((const uint8_t *)t->data)[i]; break;
      case INFER_DTYPE_I32: x = ((const int32_t *)t->data)[i]; break;
      case INFER_DTYPE_I64: x = (double)((const int64_t *)t->data)[i]; break;
      default: return false;
    }
    if (x != (double)v) return false;
  }
  return true;
}

/* c broadcast against x gives x's shape: c's rank <= x's and each of c's
 * dims (right-aligned) is 1 or x's known dim. */
static bool no_enlarge(const InferTensorDef *x, const InferTensorDef *c) {
  if (!x->shape_known || !c->shape_known || c->shape.rank > x->shape.rank) return false;
  for (int i = 0; i < c->shape.rank; i++) {
    int64_t cd = c->shape.d[c->shape.rank - 1 - i], xd = x->shape.d[x->shape.rank - 1 - i];
    if (cd != 1 && (xd < 0 || cd != xd)) return false;
  }
  return true;
}

/* The tensor layer l merely passes through, or INFER_NO_TENSOR. */
static InferTensorId passthrough_of(const InferNetwork *net, int32_t l) {
  const InferLayer *layer = &net->layers[l];
  if (layer->n_outputs != 1 || layer->n_inputs < 1 || layer->inputs[0] == INFER_NO_TENSOR)
    return INFER_NO_TENSOR;
  const InferTensorDef *y = infer_net_tensor(net, layer->outputs[0]);
  const InferTensorDef *a = infer_net_tensor(net, layer->inputs[0]);
  if (!y || !a || !y->shape_known || !a->shape_known || a->dtype != y->dtype ||
      a->dtype == INFER_DTYPE_UNDEFINED)
    return INFER_NO_TENSOR;
  switch (layer->op) {
    case INFER_OP_UNARY:
      return layer->params.unary.kind == INFER_UNARY_NONE ? layer->inputs[0] : INFER_NO_TENSOR;
    case INFER_OP_CAST:
      return layer->params.cast.to == a->dtype ? layer->inputs[0] : INFER_NO_TENSOR;
    case INFER_OP_RESHAPE:
      if (layer->params.reshape.kind == INFER_RESHAPE_IDENTITY) return layer->inputs[0];
      if (infer_shape_is_static(&a->shape) && infer_shape_is_static(&y->shape) &&
          infer_shape_equal(&a->shape, &y->shape))
        return layer->inputs[0];
      return INFER_NO_TENSOR;
    case INFER_OP_BINARY: {
      if (layer->n_inputs != 2 || layer->inputs[1] == INFER_NO_TENSOR) return INFER_NO_TENSOR;
      const InferTensorDef *b = infer_net_tensor(net, layer->inputs[1]);
      if (!b || !b->shape_known) return INFER_NO_TENSOR;
      InferBinaryKind k = layer->params.binary.kind;
      bool same_types = b->dtype == a->dtype;
      /* x op c with c on the right */
      if (((same_types && (k == INFER_BINARY_ADD || k == INFER_BINARY_SUB) && constant_all(b, 0)) ||
           (same_types && (k == INFER_BINARY_MUL || k == INFER_BINARY_DIV) && constant_all(b, 1)) ||
           (k == INFER_BINARY_POW && constant_all(b, 1))) &&
          no_enlarge(a, b))
        return layer->inputs[0];
      /* c op x with c on the left (commutative kinds) */
      if (same_types && b->dtype == y->dtype &&
          ((k == INFER_BINARY_ADD && constant_all(a, 0)) ||
           (k == INFER_BINARY_MUL && constant_all(a, 1))) &&
          no_enlarge(b, a))
        return layer->inputs[1];
      return INFER_NO_TENSOR;
    }
    default:
      return INFER_NO_TENSOR;
  }
}

/* Copies layer l, naming outputs that were handed a graph output's name after it. */
static InferStatus *copy_renamed(InferRewrite *rw, int32_t l, const InferTensorId *rename) {
  const InferLayer *layer = &rw->src->layers[l];
  bool any = false;
  for (int i = 0; i < layer->n_outputs; i++) any |= rename[layer->outputs[i]] != INFER_NO_TENSOR;
  if (!any) return infer_rewrite_copy(rw, l);
  InferTensorId in[256], outs[256];
  if (layer->n_inputs > 256 || layer->n_outputs > 256)
    return infer_status_new(INFER_ERR_UNSUPPORTED, "identity-removal: too many inputs");
  for (int i = 0; i < layer->n_inputs; i++)
    INFER_TRY(infer_rewrite_get(rw, layer->inputs[i], &in[i]));
  for (int i = 0; i < layer->n_outputs; i++) {
    InferTensorId o = layer->outputs[i];
    outs[i] = rename[o] != INFER_NO_TENSOR ? rename[o] : o;
  }
  INFER_TRY(infer_rewrite_emit(rw, layer->name, layer->op, &layer->params, layer->n_inputs, in,
                               layer->n_outputs, outs));
  for (int i = 0; i < layer->n_outputs; i++)
    if (outs[i] != layer->outputs[i]) rw->map[layer->outputs[i]] = rw->map[outs[i]];
  rw->done[l] = true;
  return NULL;
}

InferStatus *infer_pass_identity_removal(const InferPassContext *ctx, const InferNetwork *in,
                                         InferNetwork **out, int *changes) {
  (void)ctx;
  *out = NULL;
  *changes = 0;
  size_t nt = (size_t)in->n_tensors + 1;
  InferTensorId *source = malloc(sizeof *source * (size_t)(in->n_layers + 1));
  InferTensorId *root = malloc(sizeof *root * nt);   /* tensor -> the tensor it equals */
  InferTensorId *rename = malloc(sizeof *rename * nt); /* kept tensor -> output name it takes */
  if (!source || !root || !rename) {
    free(source);
    free(root);
    free(rename);
    return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "identity-removal: out of memory");
  }
  for (size_t t = 0; t < nt; t++) {
    root[t] = (InferTensorId)t;
    rename[t] = INFER_NO_TENSOR;
  }
  int removed = 0;
  for (int32_t l = 0; l < in->n_layers; l++) {
    source[l] = passthrough_of(in, l);
    if (source[l] == INFER_NO_TENSOR) continue;
    InferTensorId y = in->layers[l].outputs[0], r = root[source[l]];
    if (in->tensors[y].is_output) {
      const InferTensorDef *rd = &in->tensors[r];
      /* r must be a layer output that no other name claims */
      if (rd->producer < 0 || rd->is_output || rename[r] != INFER_NO_TENSOR) {
        source[l] = INFER_NO_TENSOR;
        continue;
      }
      rename[r] = y;
    }
    root[y] = r;
    removed++;
  }
  InferStatus *st = NULL;
  if (removed > 0) {
    InferRewrite rw;
    st = infer_rewrite_begin(&rw, in);
    if (!st) {
      for (int32_t l = 0; !st && l < in->n_layers; l++) {
        if (source[l] == INFER_NO_TENSOR) {
          st = copy_renamed(&rw, l, rename);
          continue;
        }
        InferTensorId d, y = in->layers[l].outputs[0];
        st = infer_rewrite_get(&rw, source[l], &d);
        /* a renamed producer already mapped y to its output */
        if (!st && rw.map[y] == INFER_NO_TENSOR) infer_rewrite_alias(&rw, y, d);
        rw.done[l] = true;
      }
      if (!st) st = infer_rewrite_finish(&rw, out);
      infer_rewrite_free(&rw);
    }
    if (!st) *changes = removed;
  }
  free(source);
  free(root);
  free(rename);
  return st;
}
