/* Helpers the layer importers build with: located errors, bottoms and tops
 * (with in-place renaming), constants, layer emission with immediate shape
 * inference (Caffe's parameters often depend on input shapes), and network
 * inputs with the mean subtraction. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caffe_internal.h"
#include "kernel_call.h"
#include "op_table.h"

InferNetwork *caffe_network(CaffeImporter *imp) { return imp->net; }
const char *caffe_file(const CaffeImporter *imp) { return imp->file; }
const InferCaffeOptions *caffe_options(const CaffeImporter *imp) { return imp->opts; }
bool caffe_has_model(const CaffeImporter *imp) { return imp->model != NULL; }

/* ---- errors ------------------------------------------------------------------- */

static InferStatus *layer_error(CaffeImporter *imp, const CaffeNode *at, InferStatusCode code,
                                const char *fmt, va_list ap) {
  char reason[1024];
  vsnprintf(reason, sizeof reason, fmt, ap);
  return caffe_node_error(imp->file, at ? at : imp->layer, code, "layer '%s' (%s): %s",
                          imp->layer_name, imp->layer_type, reason);
}

InferStatus *caffe_unsupported(CaffeImporter *imp, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  InferStatus *st = layer_error(imp, NULL, INFER_ERR_UNSUPPORTED, fmt, ap);
  va_end(ap);
  return st;
}

InferStatus *caffe_invalid(CaffeImporter *imp, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  InferStatus *st = layer_error(imp, NULL, INFER_ERR_PARSE, fmt, ap);
  va_end(ap);
  return st;
}

InferStatus *caffe_field_error(CaffeImporter *imp, const CaffeNode *field, InferStatusCode code,
                               const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  InferStatus *st = layer_error(imp, field, code, fmt, ap);
  va_end(ap);
  return st;
}

InferStatus *caffe_at_layer(CaffeImporter *imp, InferStatus *st) {
  if (!st) return NULL;
  const CaffeNode *l = imp->layer;
  return infer_status_prefix(st, "%s:%d:%d: layer '%s' (%s)", imp->file, l ? l->line : 1,
                             l ? l->col : 1, imp->layer_name, imp->layer_type);
}

InferStatus *caffe_layer_param(CaffeImporter *imp, const char *name, const char *const *known,
                               const CaffeNode **out) {
  *out = caffe_find(imp->layer, name);
  if (*out && (*out)->kind != CAFFE_VALUE_MESSAGE)
    return caffe_field_error(imp, *out, INFER_ERR_PARSE, "'%s' must be a message", name);
  return caffe_check_fields(imp->file, *out, name, known);
}

/* ---- blob slots and tensors ------------------------------------------------------ */

CaffeBlobSlot *caffe_slot(CaffeImporter *imp, const char *name, bool create) {
  for (size_t i = 0; i < imp->n_slots; i++)
    if (strcmp(imp->slots[i].name, name) == 0) return &imp->slots[i];
  if (!create) return NULL;
  if (imp->n_slots == imp->cap_slots) {
    size_t cap = imp->cap_slots ? imp->cap_slots * 2 : 64;
    CaffeBlobSlot *s = realloc(imp->slots, cap * sizeof *s);
    if (!s) return NULL;
    imp->slots = s;
    imp->cap_slots = cap;
  }
  CaffeBlobSlot *s = &imp->slots[imp->n_slots];
  memset(s, 0, sizeof *s);
  s->name = strdup(name);
  if (!s->name) return NULL;
  s->tensor = INFER_NO_TENSOR;
  imp->n_slots++;
  return s;
}

InferStatus *caffe_record(CaffeImporter *imp, InferTensorId t, InferDType dtype,
                          const InferShape *shape) {
  if (t < 0) return infer_status_new(INFER_ERR_INTERNAL, "caffe: recording no tensor");
  if ((size_t)t >= imp->cap_shapes) {
    size_t cap = imp->cap_shapes ? imp->cap_shapes : 256;
    while (cap <= (size_t)t) cap *= 2;
    InferDType *d = realloc(imp->dtypes, cap * sizeof *d);
    if (d) imp->dtypes = d;
    InferShape *s = d ? realloc(imp->shapes, cap * sizeof *s) : NULL;
    if (!s) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "%s: out of memory", imp->file);
    imp->shapes = s;
    imp->cap_shapes = cap;
  }
  imp->dtypes[t] = dtype;
  imp->shapes[t] = *shape;
  return NULL;
}

InferShape caffe_shape(const CaffeImporter *imp, InferTensorId t) {
  InferShape none = {0, {0}};
  return t >= 0 && (size_t)t < imp->cap_shapes ? imp->shapes[t] : none;
}

InferStatus *caffe_bind(CaffeImporter *imp, const char *blob, InferTensorId t) {
  CaffeBlobSlot *s = caffe_slot(imp, blob, true);
  if (!s) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "%s: out of memory", imp->file);
  s->tensor = t;
  s->consumed = false;
  s->order = imp->productions++;
  return NULL;
}

char *caffe_value_name(CaffeImporter *imp, const char *blob) {
  CaffeBlobSlot *s = caffe_slot(imp, blob, false);
  if (s && s->remaining > 0) s->remaining--;
  bool last = !s || s->remaining == 0;
  if (last && infer_network_find_tensor(imp->net, blob) == INFER_NO_TENSOR) return strdup(blob);
  /* net-level inputs (input: / input_shape) are bound outside any layer */
  const char *owner = imp->layer_name ? imp->layer_name : "input";
  size_t n = strlen(blob) + strlen(owner) + 2;
  char *base = malloc(n);
  if (!base) return NULL;
  snprintf(base, n, "%s@%s", blob, owner);
  char *name = infer_network_unique_name(imp->net, base);
  free(base);
  return name;
}

/* ---- bottoms and tops ------------------------------------------------------------- */

int caffe_num_bottoms(const CaffeImporter *imp) { return caffe_count(imp->layer, "bottom"); }
int caffe_num_tops(const CaffeImporter *imp) { return caffe_count(imp->layer, "top"); }

static const CaffeNode *nth(const CaffeNode *msg, const char *name, int i) {
  const CaffeNode *n = caffe_next(msg, name, NULL);
  while (n && i-- > 0) n = caffe_next(msg, name, n);
  return n;
}

const char *caffe_top_name(const CaffeImporter *imp, int i) {
  const CaffeNode *n = nth(imp->layer, "top", i);
  return n && n->kind == CAFFE_VALUE_STRING ? n->text : NULL;
}

InferStatus *caffe_check_io(CaffeImporter *imp, int min_bottoms, int max_bottoms, int min_tops,
                            int max_tops) {
  int b = caffe_num_bottoms(imp), t = caffe_num_tops(imp);
  if (b < min_bottoms || (max_bottoms >= 0 && b > max_bottoms)) {
    if (min_bottoms == max_bottoms)
      return caffe_invalid(imp, "has %d bottom(s), %d expected", b, min_bottoms);
    return caffe_invalid(imp, "has %d bottom(s), at least %d expected", b, min_bottoms);
  }
  if (t < min_tops || (max_tops >= 0 && t > max_tops)) {
    if (min_tops == max_tops) return caffe_invalid(imp, "has %d top(s), %d expected", t, min_tops);
    return caffe_invalid(imp, "has %d top(s), at least %d expected", t, min_tops);
  }
  return NULL;
}

InferStatus *caffe_bottom(CaffeImporter *imp, int i, InferTensorId *out) {
  const CaffeNode *n = nth(imp->layer, "bottom", i);
  if (!n) return caffe_invalid(imp, "has no bottom %d", i);
  const char *name;
  INFER_TRY(caffe_node_string(imp->file, n, &name));
  CaffeBlobSlot *s = caffe_slot(imp, name, false);
  if (!s || s->tensor == INFER_NO_TENSOR)
    return caffe_field_error(imp, n, INFER_ERR_PARSE,
                             "bottom '%s' is not produced by an earlier layer or an input", name);
  s->consumed = true;
  *out = s->tensor;
  return NULL;
}

/* ---- constants ------------------------------------------------------------------- */

InferStatus *caffe_add_constant(CaffeImporter *imp, const char *suffix, InferDType dtype,
                                const InferShape *shape, const void *data, InferTensorId *out) {
  char base[600];
  snprintf(base, sizeof base, "%s/%s", imp->layer_name, suffix);
  char *name = infer_network_unique_name(imp->net, base);
  if (!name) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "%s: out of memory", imp->file);
  InferTensorId t;
  InferStatus *st = infer_network_add_constant(imp->net, name, dtype, shape, data, &t);
  free(name);
  if (!st) st = caffe_record(imp, t, dtype, shape);
  if (!st && out) *out = t;
  return caffe_at_layer(imp, st);
}

InferStatus *caffe_add_ints(CaffeImporter *imp, const char *suffix, int n, const int64_t *values,
                            InferTensorId *out) {
  InferShape s = {1, {n}};
  return caffe_add_constant(imp, suffix, INFER_DTYPE_I64, &s, values, out);
}

InferStatus *caffe_add_scalar(CaffeImporter *imp, const char *suffix, float value,
                              InferTensorId *out) {
  InferShape s = {0, {0}};
  return caffe_add_constant(imp, suffix, INFER_DTYPE_F32, &s, &value, out);
}

/* ---- layers ------------------------------------------------------------------------ */

/* Infers the outputs of the network's newest layer from the recorded
 * shapes (and constant values, for shape inputs) and records them. */
static InferStatus *infer_newest(CaffeImporter *imp) {
  const InferNetwork *net = imp->net;
  const InferLayer *layer = &net->layers[net->n_layers - 1];
  const InferOpInfo *info = infer_op_info(layer->op);
  if (!info || layer->n_inputs > 64 || layer->n_outputs > 64)
    return infer_status_new(INFER_ERR_INTERNAL, "layer '%s': no shape function", layer->name);
  InferTensorView in[64], out[64];
  memset(in, 0, sizeof in);
  memset(out, 0, sizeof out);
  for (int i = 0; i < layer->n_inputs; i++) {
    InferTensorId t = layer->inputs[i];
    if (t == INFER_NO_TENSOR) continue;
    in[i].dtype = imp->dtypes[t];
    in[i].shape = imp->shapes[t];
    in[i].data = net->tensors[t].data;
  }
  InferOpCall call;
  memset(&call, 0, sizeof call);
  call.op = layer->op;
  call.node = layer->name;
  call.params = &layer->params;
  call.in = in;
  call.n_in = layer->n_inputs;
  call.out = out;
  call.n_out = layer->n_outputs;
  INFER_TRY(info->infer_shape(&call));
  for (int i = 0; i < layer->n_outputs; i++)
    INFER_TRY(caffe_record(imp, layer->outputs[i], out[i].dtype, &out[i].shape));
  return NULL;
}

static InferStatus *add_layer(CaffeImporter *imp, const char *suffix, InferOp op,
                              const InferOpParams *params, int n_inputs,
                              const InferTensorId *inputs, int n_outputs,
                              const char *const *names, InferTensorId *outputs) {
  char name[600];
  if (suffix)
    snprintf(name, sizeof name, "%s/%s", imp->layer_name, suffix);
  else
    snprintf(name, sizeof name, "%s", imp->layer_name);
  INFER_TRY(caffe_at_layer(imp, infer_network_add_layer(imp->net, name, op, params, n_inputs,
                                                        inputs, n_outputs, names, outputs)));
  return caffe_at_layer(imp, infer_newest(imp));
}

InferStatus *caffe_emit(CaffeImporter *imp, const char *suffix, InferOp op,
                        const InferOpParams *params, int n_inputs, const InferTensorId *inputs,
                        int n_outputs, InferTensorId *outputs) {
  return add_layer(imp, suffix, op, params, n_inputs, inputs, n_outputs, NULL, outputs);
}

InferStatus *caffe_emit_tops(CaffeImporter *imp, const char *suffix, InferOp op,
                             const InferOpParams *params, int n_inputs,
                             const InferTensorId *inputs, int n_outputs, int first_top) {
  if (n_outputs > 64) return caffe_unsupported(imp, "more than 64 tops");
  char *names[64];
  const char *tops[64];
  InferTensorId outs[64];
  InferStatus *st = NULL;
  int made = 0;
  for (; made < n_outputs && !st; made++) {
    const CaffeNode *n = nth(imp->layer, "top", first_top + made);
    if (!n) {
      st = caffe_invalid(imp, "has no top %d", first_top + made);
      break;
    }
    st = caffe_node_string(imp->file, n, &tops[made]);
    if (st) break;
    names[made] = caffe_value_name(imp, tops[made]);
    if (!names[made]) st = infer_status_new(INFER_ERR_OUT_OF_MEMORY, "%s: out of memory", imp->file);
  }
  if (!st)
    st = add_layer(imp, suffix, op, params, n_inputs, inputs, n_outputs,
                   (const char *const *)names, outs);
  for (int i = 0; i < made; i++) {
    if (!st && names[i]) st = caffe_bind(imp, tops[i], outs[i]);
    free(names[i]);
  }
  return st;
}

InferStatus *caffe_emit_identity(CaffeImporter *imp, int top, InferTensorId x) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.reshape.kind = INFER_RESHAPE_IDENTITY;
  char suffix[32];
  snprintf(suffix, sizeof suffix, "copy%d", top);
  return caffe_emit_tops(imp, caffe_num_tops(imp) > 1 ? suffix : NULL, INFER_OP_RESHAPE, &p, 1,
                         &x, 1, top);
}

/* ---- inputs -------------------------------------------------------------------------- */

static bool given_shape(const CaffeImporter *imp, const char *name, InferShape *out) {
  const InferCaffeOptions *o = imp->opts;
  for (int i = 0; i < o->n_input_shapes; i++)
    if (o->input_names && o->input_names[i] && strcmp(o->input_names[i], name) == 0) {
      *out = o->input_shapes[i];
      return true;
    }
  return false;
}

/* x - mean, the mean shaped like x without its batch dim. */
static InferStatus *subtract_mean(CaffeImporter *imp, const CaffeNode *where, const char *name,
                                  InferTensorId x, const InferShape *xs, InferTensorId *out) {
  InferShape ms = imp->mean.shape;
  if (ms.rank == xs->rank && ms.d[0] == 1) {
    for (int i = 1; i < ms.rank; i++) ms.d[i - 1] = ms.d[i];
    ms.rank--;
  }
  bool ok = ms.rank == xs->rank - 1;
  for (int i = 0; ok && i < ms.rank; i++) ok = ms.d[i] == xs->d[i + 1];
  if (!ok) {
    char a[128], b[128];
    return caffe_node_error(imp->file, where, INFER_ERR_INVALID_ARGUMENT,
                            "the mean (%s, shape %s) does not fit input '%s' of shape %s",
                            imp->opts->mean_file, caffe_shape_str(&imp->mean.shape, a, sizeof a),
                            name, caffe_shape_str(xs, b, sizeof b));
  }
  char cname[600];
  snprintf(cname, sizeof cname, "%s/mean", name);
  char *unique = infer_network_unique_name(imp->net, cname);
  if (!unique) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "%s: out of memory", imp->file);
  InferTensorId m;
  InferStatus *st = infer_network_add_constant(imp->net, unique, INFER_DTYPE_F32, &ms,
                                               imp->mean.data, &m);
  free(unique);
  if (!st) st = caffe_record(imp, m, INFER_DTYPE_F32, &ms);
  INFER_TRY(st);
  snprintf(cname, sizeof cname, "%s/mean_subtracted", name);
  unique = infer_network_unique_name(imp->net, cname);
  if (!unique) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "%s: out of memory", imp->file);
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.binary.kind = INFER_BINARY_SUB;
  InferTensorId ins[2] = {x, m};
  snprintf(cname, sizeof cname, "%s/mean_subtraction", name);
  const char *names[1] = {unique};
  st = infer_network_add_layer(imp->net, cname, INFER_OP_BINARY, &p, 2, ins, 1, names, out);
  free(unique);
  if (!st) st = caffe_record(imp, *out, INFER_DTYPE_F32, xs);
  imp->mean_applied = true;
  return st;
}

InferStatus *caffe_add_input(CaffeImporter *imp, const CaffeNode *where, const char *name,
                             const InferShape *declared) {
  InferShape s = *declared;
  given_shape(imp, name, &s);
  if (s.rank == 0)
    return caffe_node_error(imp->file, where, INFER_ERR_INVALID_ARGUMENT,
                            "input '%s' has no declared shape; give one in the options "
                            "(inferexec: --shapes %s:NxCxHxW)", name, name);
  if (imp->opts->batch_size > 0) s.d[0] = imp->opts->batch_size;
  for (int i = 0; i < s.rank; i++)
    if (s.d[i] <= 0 || s.d[i] > CAFFE_MAX_SIZE)
      return caffe_node_error(imp->file, where, INFER_ERR_INVALID_ARGUMENT,
                              "input '%s' has dim %d of size %lld", name, i, (long long)s.d[i]);
  int64_t total = 1;
  for (int i = 0; i < s.rank; i++) {
    if (total > ((int64_t)1 << 40) / s.d[i])
      return caffe_node_error(imp->file, where, INFER_ERR_UNSUPPORTED,
                              "input '%s' has more than 2^40 elements", name);
    total *= s.d[i];
  }
  /* an input keeps its blob's name even when in-place layers follow: it is
     what callers bind data to */
  char *tname = caffe_value_name(imp, name);
  if (tname && strcmp(tname, name) != 0 &&
      infer_network_find_tensor(imp->net, name) == INFER_NO_TENSOR) {
    free(tname);
    tname = strdup(name);
  }
  if (!tname) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "%s: out of memory", imp->file);
  InferTensorId t;
  InferStatus *st = infer_network_add_input(imp->net, tname, INFER_DTYPE_F32, &s, &t);
  free(tname);
  if (!st) st = caffe_record(imp, t, INFER_DTYPE_F32, &s);
  if (st) {
    InferStatus *located = caffe_node_error(imp->file, where, infer_status_code(st),
                                            "input '%s': %s", name, infer_status_message(st));
    infer_status_free(st);
    return located;
  }
  bool mean_here = imp->mean.data && !imp->mean_applied &&
                   (!imp->opts->mean_input || strcmp(imp->opts->mean_input, name) == 0);
  if (mean_here) INFER_TRY(subtract_mean(imp, where, name, t, &s, &t));
  INFER_TRY(caffe_bind(imp, name, t));
  /* an input nobody reads is not an output */
  caffe_slot(imp, name, false)->consumed = true;
  return NULL;
}
