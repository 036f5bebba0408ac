/* Pass 1, constant-folding: a layer whose every data input is a constant is
 * evaluated with the CPU reference kernels and replaced by constants named
 * after its outputs. Shape and Size fold when their input's shape is static
 * (they read no data). Layers are visited in order and folded outputs count
 * as constants for the layers after them, so one walk folds whole constant
 * sub-graphs. A folded value becomes a constant of the new network only when
 * a remaining layer reads it or it is a graph output.
 *
 * Left alone: layers whose outputs would exceed 256 MiB together, ops whose
 * output size depends on data (NonMaxSuppression), ops marked NO_FOLD
 * (Dequantize: the quantize pass handles it), and anything the CPU
 * kernels refuse or fail on (the layer then stays as it is). */
#include <stdlib.h>
#include <string.h>

#include "cpu_kernels.h"
#include "op_table.h"
#include "passes.h"

#define FOLD_LIMIT_BYTES ((size_t)256 << 20)

typedef struct Folder {
  const InferNetwork *src;
  InferTensorView *val;  /* per src tensor: the folded value (owned) */
  bool *folded;
} Folder;

/* The value of input t when it is known, else false. */
static bool known_input(const Folder *f, InferTensorId t, bool shape_only, InferTensorView *v) {
  const InferTensorDef *def = infer_net_tensor(f->src, t);
  if (!def) return false;
  if (f->folded[t]) {
    *v = f->val[t];
    return true;
  }
  if (infer_tensor_is_constant(def)) {
    v->dtype = def->dtype;
    v->shape = def->shape;
    v->data = def->data;
    return true;
  }
  if (shape_only && def->shape_known && def->dtype != INFER_DTYPE_UNDEFINED &&
      infer_shape_is_static(&def->shape)) {
    v->dtype = def->dtype;
    v->shape = def->shape;
    v->data = NULL;
    return true;
  }
  return false;
}

/* Evaluates layer l when it can be folded; true when its outputs now hold values. */
static bool try_fold(Folder *f, int32_t l) {
  const InferLayer *layer = &f->src->layers[l];
  const InferOpInfo *info = infer_op_info(layer->op);
  /* NO_FOLD: Dequantize of weights, which the quantize pass fuses or folds */
  if (!info || !info->infer_shape ||
      (info->flags & (INFER_OPF_DATA_DEPENDENT_SHAPE | INFER_OPF_NO_FOLD)))
    return false;
  if (layer->n_inputs > 64 || layer->n_outputs > 64 || layer->n_outputs < 1) return false;
  const InferCpuKernel *k = infer_cpu_kernel(layer->op);
  if (!k || !k->supports || !k->run) return false;
  bool shape_only = (info->flags & INFER_OPF_READS_SHAPE_ONLY) != 0;
  InferTensorView in[64], out[64];
  for (int i = 0; i < layer->n_inputs; i++) {
    memset(&in[i], 0, sizeof in[i]);
    if (layer->inputs[i] == INFER_NO_TENSOR) continue;
    if (!known_input(f, layer->inputs[i], shape_only, &in[i])) return false;
  }
  memset(out, 0, sizeof out);
  InferOpCall call = {layer->op, layer->name, &layer->params, in, layer->n_inputs, out,
                      layer->n_outputs, 0};
  InferStatus *st = info->infer_shape(&call);
  if (st) {
    infer_status_free(st);
    return false;
  }
  size_t total = 0;
  for (int i = 0; i < layer->n_outputs; i++) {
    int64_t n = infer_shape_numel(&out[i].shape);
    size_t es = infer_dtype_size(out[i].dtype);
    if (n < 0 || es == 0 || (uint64_t)n > FOLD_LIMIT_BYTES / es) return false;
    total += (size_t)n * es;
    if (total > FOLD_LIMIT_BYTES) return false;
  }
  int made = 0;
  for (; made < layer->n_outputs; made++) {
    size_t bytes = (size_t)infer_shape_numel(&out[made].shape) * infer_dtype_size(out[made].dtype);
    out[made].data = infer_aligned_alloc(bytes ? bytes : 1);
    if (!out[made].data) break;
  }
  if (made == layer->n_outputs) {
    st = k->supports(&call);
    if (!st) st = k->run(&call);
  }
  if (made < layer->n_outputs || st) {
    infer_status_free(st);
    for (int i = 0; i < made; i++) free(out[i].data);
    return false;
  }
  for (int i = 0; i < layer->n_outputs; i++) {
    InferTensorId t = layer->outputs[i];
    free(f->val[t].data);
    f->val[t] = out[i];
    f->folded[t] = true;
  }
  return true;
}

/* Makes the folded value of t a constant of the new network (once). */
static InferStatus *materialize(const Folder *f, InferRewrite *rw, InferTensorId t) {
  if (t < 0 || t >= f->src->n_tensors || !f->folded[t] || rw->map[t] != INFER_NO_TENSOR)
    return NULL;
  const InferTensorView *v = &f->val[t];
  return infer_network_add_constant(rw->dst, f->src->tensors[t].name, v->dtype, &v->shape,
                                    v->data, &rw->map[t]);
}

InferStatus *infer_pass_constant_folding(const InferPassContext *ctx, const InferNetwork *in,
                                         InferNetwork **out, int *changes) {
  (void)ctx;
  *out = NULL;
  *changes = 0;
  Folder f = {in, calloc((size_t)in->n_tensors + 1, sizeof(InferTensorView)),
              calloc((size_t)in->n_tensors + 1, sizeof(bool))};
  bool *fold = calloc((size_t)in->n_layers + 1, sizeof(bool));
  InferStatus *st = NULL;
  if (!f.val || !f.folded || !fold)
    st = infer_status_new(INFER_ERR_OUT_OF_MEMORY, "constant-folding: out of memory");
  int n_folded = 0;
  for (int32_t l = 0; !st && l < in->n_layers; l++)
    if (try_fold(&f, l)) {
      fold[l] = true;
      n_folded++;
    }
  if (!st && n_folded > 0) {
    InferRewrite rw;
    st = infer_rewrite_begin(&rw, in);
    if (!st) {
      for (int32_t l = 0; !st && l < in->n_layers; l++) {
        const InferLayer *layer = &in->layers[l];
        if (fold[l]) {
          rw.done[l] = true;
          continue;
        }
        for (int i = 0; !st && i < layer->n_inputs; i++)
          st = materialize(&f, &rw, layer->inputs[i]);
        if (!st) st = infer_rewrite_copy(&rw, l);
      }
      for (int32_t i = 0; !st && i < in->n_outputs; i++) st = materialize(&f, &rw, in->outputs[i]);
      if (!st) st = infer_rewrite_finish(&rw, out);
      infer_rewrite_free(&rw);
    }
    if (!st) *changes = n_folded;
  }
  if (f.val)
    for (int32_t t = 0; t < in->n_tensors; t++) free(f.val[t].data);
  free(f.val);
  free(f.folded);
  free(fold);
  return st;
}
