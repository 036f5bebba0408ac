/* Importing a graph: initializers, inputs, Constant nodes, dispatch of
 * every other node to its op importer, outputs. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "network_internal.h"
#include "onnx_internal.h"
#include "plugins/plugin_internal.h"
#include "plugins/plugin_onnx.h"

struct OnnxImporter {
  const char *file;
  const char *base_dir;
  int opset;
  InferNetwork *net;
  char node_name[256];   /* the current node's layer name */
};

int onnx_opset(const OnnxImporter *imp) { return imp->opset; }
InferNetwork *onnx_network(OnnxImporter *imp) { return imp->net; }

/* ---- errors ------------------------------------------------------------- */

static const char *node_label(OnnxImporter *imp, const OnnxNode *node) {
  (void)node;
  return imp->node_name;
}

static InferStatus *node_error(OnnxImporter *imp, const OnnxNode *node, InferStatusCode code,
                               const char *fmt, va_list ap) {
  char reason[1024];
  vsnprintf(reason, sizeof reason, fmt, ap);
  return infer_status_new(code, "%s: node '%s' (%s): %s", imp->file, node_label(imp, node),
                          node->op_type ? node->op_type : "?", reason);
}

InferStatus *onnx_unsupported(OnnxImporter *imp, const OnnxNode *node, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  InferStatus *st = node_error(imp, node, INFER_ERR_UNSUPPORTED, fmt, ap);
  va_end(ap);
  return st;
}

InferStatus *onnx_invalid(OnnxImporter *imp, const OnnxNode *node, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  InferStatus *st = node_error(imp, node, INFER_ERR_PARSE, fmt, ap);
  va_end(ap);
  return st;
}

/* Errors from the network layer get the file and node put in front. */
static InferStatus *at_node(OnnxImporter *imp, const OnnxNode *node, InferStatus *st) {
  if (!st) return NULL;
  return infer_status_prefix(st, "%s: node '%s' (%s)", imp->file, node_label(imp, node),
                             node->op_type ? node->op_type : "?");
}

/* ---- inputs and constants ---------------------------------------------- */

int onnx_num_inputs(const OnnxNode *node) { return (int)node->n_input; }

InferTensorId onnx_input(OnnxImporter *imp, const OnnxNode *node, int i) {
  if (i < 0 || (size_t)i >= node->n_input || !node->input[i] || !*node->input[i])
    return INFER_NO_TENSOR;
  return infer_network_find_tensor(imp->net, node->input[i]);
}

const void *onnx_constant(OnnxImporter *imp, InferTensorId t, InferDType *dtype, InferShape *shape) {
  const InferTensorDef *d = infer_net_tensor(imp->net, t);
  if (!d || d->is_input || d->producer >= 0 || !d->shape_known) return NULL;
  if (dtype) *dtype = d->dtype;
  if (shape) *shape = d->shape;
  return d->data ? d->data : (const void *)"";
}

InferStatus *onnx_constant_ints(OnnxImporter *imp, const OnnxNode *node, InferTensorId t,
                                int64_t *out, int max, int *n, bool *is_constant) {
  InferDType dt;
  InferShape s;
  const void *data = onnx_constant(imp, t, &dt, &s);
  *is_constant = data != NULL;
  *n = 0;
  if (!data) return NULL;
  if (s.rank > 1 || (dt != INFER_DTYPE_I64 && dt != INFER_DTYPE_I32))
    return onnx_invalid(imp, node, "'%s' must be a 1-D integer tensor",
                        infer_network_tensor_name(imp->net, t));
  int64_t count = infer_shape_numel(&s);
  if (count > max)
    return onnx_unsupported(imp, node, "'%s' has %lld values (at most %d)",
                            infer_network_tensor_name(imp->net, t), (long long)count, max);
  for (int64_t i = 0; i < count; i++)
    out[i] = dt == INFER_DTYPE_I64 ? ((const int64_t *)data)[i] : ((const int32_t *)data)[i];
  *n = (int)count;
  return NULL;
}

bool onnx_constant_scalar(OnnxImporter *imp, InferTensorId t, double *out) {
  InferDType dt;
  InferShape s;
  const void *data = onnx_constant(imp, t, &dt, &s);
  if (!data || infer_shape_numel(&s) != 1) return false;
  switch (dt) {
    case INFER_DTYPE_F32: *out = *(const float *)data; break;
    case INFER_DTYPE_F16: *out = infer_half_to_float(*(const uint16_t *)data); break;
    case INFER_DTYPE_I8: *out = *(const int8_t *)data; break;
    case INFER_DTYPE_U8: *out = *(const uint8_t *)data; break;
    case INFER_DTYPE_I32: *out = *(const int32_t *)data; break;
    case INFER_DTYPE_I64: *out = (double)*(const int64_t *)data; break;
    case INFER_DTYPE_BOOL: *out = *(const uint8_t *)data != 0; break;
    default: return false;
  }
  return true;
}

InferStatus *onnx_add_constant(OnnxImporter *imp, const OnnxNode *node, const char *suffix,
                               InferDType dtype, const InferShape *shape, const void *data,
                               InferTensorId *out) {
  char base[512];
  snprintf(base, sizeof base, "%s/%s", node_label(imp, node), suffix);
  char *name = infer_network_unique_name(imp->net, base);
  if (!name) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "%s: out of memory", imp->file);
  InferStatus *st = infer_network_add_constant(imp->net, name, dtype, shape, data, out);
  free(name);
  return at_node(imp, node, st);
}

InferStatus *onnx_add_ints(OnnxImporter *imp, const OnnxNode *node, const char *suffix, int n,
                           const int64_t *values, InferTensorId *out) {
  int64_t dim = n;
  InferShape s = infer_shape_make(1, &dim);
  return onnx_add_constant(imp, node, suffix, INFER_DTYPE_I64, &s, values, out);
}

InferStatus *onnx_add_scalar_f32(OnnxImporter *imp, const OnnxNode *node, const char *suffix,
                                 float value, InferTensorId *out) {
  InferShape s = {0, {0}};
  return onnx_add_constant(imp, node, suffix, INFER_DTYPE_F32, &s, &value, out);
}

InferStatus *onnx_attr_tensor(OnnxImporter *imp, const OnnxNode *node, const char *name,
                              InferTensorView *out) {
  const Onnx__AttributeProto *a = onnx_attr(node, name);
  if (!a || !a->t) return onnx_invalid(imp, node, "tensor attribute '%s' is missing", name);
  return at_node(imp, node, onnx_tensor_to_view(a->t, imp->base_dir, imp->file, out));
}

/* ---- emitting layers ----------------------------------------------------- */

InferStatus *onnx_emit(OnnxImporter *imp, const OnnxNode *node, InferOp op,
                       const InferOpParams *params, int n_inputs, const InferTensorId *inputs,
                       int n_outputs) {
  if (n_outputs > (int)node->n_output)
    return onnx_invalid(imp, node, "has %zu outputs, %d expected", node->n_output, n_outputs);
  for (size_t i = (size_t)n_outputs; i < node->n_output; i++)
    if (node->output[i] && *node->output[i])
      return onnx_unsupported(imp, node, "optional output %zu ('%s') is not supported", i,
                              node->output[i]);
  return at_node(imp, node, infer_network_add_layer(imp->net, node_label(imp, node), op, params,
                                                    n_inputs, inputs, n_outputs,
                                                    (const char *const *)node->output, NULL));
}

InferStatus *onnx_emit_internal(OnnxImporter *imp, const OnnxNode *node, const char *suffix,
                                InferOp op, const InferOpParams *params, int n_inputs,
                                const InferTensorId *inputs, int n_outputs,
                                InferTensorId *outputs) {
  char name[512];
  snprintf(name, sizeof name, "%s/%s", node_label(imp, node), suffix);
  return at_node(imp, node, infer_network_add_layer(imp->net, name, op, params, n_inputs, inputs,
                                                    n_outputs, NULL, outputs));
}

InferStatus *onnx_emit_outputs(OnnxImporter *imp, const OnnxNode *node, const char *suffix,
                               InferOp op, const InferOpParams *params, int n_inputs,
                               const InferTensorId *inputs, int n_outputs,
                               const int *node_outputs) {
  const char *names[16];
  if (n_outputs > 16) return onnx_unsupported(imp, node, "too many outputs");
  for (int k = 0; k < n_outputs; k++) {
    int i = node_outputs[k];
    if (i < 0 || (size_t)i >= node->n_output)
      return onnx_invalid(imp, node, "has no output %d", i);
    names[k] = node->output[i];
  }
  char name[512];
  snprintf(name, sizeof name, "%s/%s", node_label(imp, node), suffix);
  return at_node(imp, node, infer_network_add_layer(imp->net, name, op, params, n_inputs, inputs,
                                                    n_outputs, names, NULL));
}

/* ---- the op registry ------------------------------------------------------ */

static OnnxOpImporter *registry;
static size_t registry_size;
static pthread_once_t registry_once = PTHREAD_ONCE_INIT;

static int compare_importers(const void *a, const void *b) {
  return strcmp(((const OnnxOpImporter *)a)->op_type, ((const OnnxOpImporter *)b)->op_type);
}

static void build_registry(void) {
  const OnnxOpImporter *tables[] = {infer_onnx_importers_elementwise, infer_onnx_importers_nn,
                                    infer_onnx_importers_reduce, infer_onnx_importers_movement,
                                    infer_onnx_importers_pad_resize,
                                    infer_onnx_importers_quantize};
  const size_t counts[] = {infer_onnx_num_importers_elementwise, infer_onnx_num_importers_nn,
                           infer_onnx_num_importers_reduce, infer_onnx_num_importers_movement,
                           infer_onnx_num_importers_pad_resize,
                           infer_onnx_num_importers_quantize};
  const size_t n_tables = sizeof counts / sizeof counts[0];
  size_t total = 0;
  for (size_t i = 0; i < n_tables; i++) total += counts[i];
  registry = malloc(sizeof *registry * (total ? total : 1));
  if (!registry) return;
  for (size_t i = 0; i < n_tables; i++) {
    memcpy(registry + registry_size, tables[i], sizeof *registry * counts[i]);
    registry_size += counts[i];
  }
  qsort(registry, registry_size, sizeof *registry, compare_importers);
}

static OnnxImportFn find_importer(const char *op_type) {
  pthread_once(&registry_once, build_registry);
  if (!registry) return NULL;
  OnnxOpImporter key = {op_type, NULL};
  const OnnxOpImporter *hit = bsearch(&key, registry, registry_size, sizeof *registry,
                                      compare_importers);
  return hit ? hit->import : NULL;
}

/* ---- graph --------------------------------------------------------------- */

static InferStatus *import_constant_node(OnnxImporter *imp, const OnnxNode *node) {
  if (node->n_output < 1 || !node->output[0] || !*node->output[0])
    return onnx_invalid(imp, node, "a Constant needs an output");
  InferTensorView v;
  memset(&v, 0, sizeof v);
  const Onnx__AttributeProto *a;
  InferStatus *st = NULL;
  if ((a = onnx_attr(node, "value")) && a->t) {
    st = onnx_tensor_to_view(a->t, imp->base_dir, imp->file, &v);
    if (st) return at_node(imp, node, st);
  } else if ((a = onnx_attr(node, "value_float")) || (a = onnx_attr(node, "value_int"))) {
    bool is_float = strcmp(a->name, "value_float") == 0;
    v.dtype = is_float ? INFER_DTYPE_F32 : INFER_DTYPE_I64;
    v.data = malloc(8);
    if (!v.data) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "%s: out of memory", imp->file);
    if (is_float) *(float *)v.data = a->f;
    else *(int64_t *)v.data = a->i;
  } else if ((a = onnx_attr(node, "value_floats")) || (a = onnx_attr(node, "value_ints"))) {
    bool is_float = strcmp(a->name, "value_floats") == 0;
    size_t n = is_float ? a->n_floats : a->n_ints;
    v.dtype = is_float ? INFER_DTYPE_F32 : INFER_DTYPE_I64;
    v.shape.rank = 1;
    v.shape.d[0] = (int64_t)n;
    v.data = malloc(n * 8 + 1);
    if (!v.data) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "%s: out of memory", imp->file);
    for (size_t i = 0; i < n; i++) {
      if (is_float) ((float *)v.data)[i] = a->floats[i];
      else ((int64_t *)v.data)[i] = a->ints[i];
    }
  } else {
    return onnx_unsupported(imp, node, "only tensor, float(s) and int(s) constants are supported");
  }
  st = infer_network_add_constant(imp->net, node->output[0], v.dtype, &v.shape, v.data, NULL);
  free(v.data);
  return at_node(imp, node, st);
}

static InferStatus *import_node(OnnxImporter *imp, const OnnxNode *node, size_t index) {
  const char *op = node->op_type ? node->op_type : "";
  if (node->name && *node->name)
    snprintf(imp->node_name, sizeof imp->node_name, "%s", node->name);
  else
    snprintf(imp->node_name, sizeof imp->node_name, "%s_%zu", *op ? op : "node", index);
  bool custom_domain = node->domain && *node->domain && strcmp(node->domain, "ai.onnx") != 0;
  /* custom domains are the plugins' (infer/plugin.h); the default domain's
     built-in ops come before a plugin of the same name */
  const InferPluginCreator *plugin = infer_plugin_onnx_find(node);
  char failures[1024];
  if (custom_domain && !plugin)
    return onnx_unsupported(imp, node, "op domain '%s' is not supported and no plugin '%s' is "
                            "registered for it%s", node->domain, op,
                            infer_plugin_load_failures(failures, sizeof failures));
  for (size_t i = 0; i < node->n_input; i++) {
    const char *in = node->input[i];
    if (in && *in && infer_network_find_tensor(imp->net, in) == INFER_NO_TENSOR)
      return onnx_invalid(imp, node, "input '%s' is not produced by an earlier node, an "
                          "initializer or a graph input", in);
  }
  for (size_t i = 0; i < node->n_output; i++) {
    const char *o = node->output[i];
    if (o && *o && infer_network_find_tensor(imp->net, o) != INFER_NO_TENSOR)
      return onnx_invalid(imp, node, "output '%s' is produced twice", o);
  }
  if (strcmp(op, "Constant") == 0) return import_constant_node(imp, node);
  OnnxImportFn fn = custom_domain ? NULL : find_importer(op);
  if (fn) return fn(imp, node);
  if (plugin) return infer_plugin_onnx_import(imp, node, plugin, imp->node_name);
  return onnx_unsupported(imp, node, "op '%s' is not supported%s", op,
                          infer_plugin_load_failures(failures, sizeof failures));
}

static InferStatus *import_input(OnnxImporter *imp, const Onnx__ValueInfoProto *vi) {
  const char *name = vi->name ? vi->name : "";
  if (!vi->type || vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE)
    return infer_status_new(INFER_ERR_UNSUPPORTED, "%s: graph input '%s' is not a tensor", imp->file,
                            name);
  const Onnx__TypeProto__Tensor *tt = vi->type->tensor_type;
  InferDType dt = onnx_dtype(tt->elem_type);
  if (dt == INFER_DTYPE_UNDEFINED)
    return infer_status_new(INFER_ERR_UNSUPPORTED, "%s: graph input '%s' has element type %s, "
                            "which is not supported", imp->file, name, onnx_dtype_name(tt->elem_type));
  if (!tt->shape)
    return infer_status_new(INFER_ERR_UNSUPPORTED, "%s: graph input '%s' has no shape (its rank "
                            "must be known)", imp->file, name);
  if (tt->shape->n_dim > INFER_MAX_RANK)
    return infer_status_new(INFER_ERR_UNSUPPORTED, "%s: graph input '%s' has rank %zu (at most %d)",
                            imp->file, name, tt->shape->n_dim, INFER_MAX_RANK);
  InferShape s = {(int32_t)tt->shape->n_dim, {0}};
  for (size_t d = 0; d < tt->shape->n_dim; d++) {
    const Onnx__TensorShapeProto__Dimension *dim = tt->shape->dim[d];
    bool fixed = dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    if (fixed && dim->dim_value < 0)
      return infer_status_new(INFER_ERR_PARSE, "%s: graph input '%s' has a negative dimension",
                              imp->file, name);
    s.d[d] = fixed ? dim->dim_value : -1;
  }
  InferTensorId id;
  INFER_TRY(infer_status_prefix(infer_network_add_input(imp->net, name, dt, &s, &id), "%s", imp->file));
  for (size_t d = 0; d < tt->shape->n_dim; d++) {
    const Onnx__TensorShapeProto__Dimension *dim = tt->shape->dim[d];
    if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM && dim->dim_param)
      INFER_TRY(infer_network_set_dim_name(imp->net, id, (int)d, dim->dim_param));
  }
  return NULL;
}

static InferStatus *import_graph(OnnxImporter *imp, const Onnx__GraphProto *g) {
  for (size_t i = 0; i < g->n_initializer; i++) {
    const Onnx__TensorProto *tp = g->initializer[i];
    InferTensorView v;
    INFER_TRY(onnx_tensor_to_view(tp, imp->base_dir, imp->file, &v));
    InferStatus *st = infer_network_add_constant(imp->net, tp->name ? tp->name : "", v.dtype,
                                                 &v.shape, v.data, NULL);
    free(v.data);
    INFER_TRY(infer_status_prefix(st, "%s: initializer", imp->file));
  }
  for (size_t i = 0; i < g->n_input; i++) {
    /* old models list initializers among the inputs too: those stay constants */
    if (g->input[i]->name && infer_network_find_tensor(imp->net, g->input[i]->name) != INFER_NO_TENSOR)
      continue;
    INFER_TRY(import_input(imp, g->input[i]));
  }
  for (size_t i = 0; i < g->n_node; i++) INFER_TRY(import_node(imp, g->node[i], i));
  if (g->n_output == 0)
    return infer_status_new(INFER_ERR_PARSE, "%s: the graph has no outputs", imp->file);
  for (size_t i = 0; i < g->n_output; i++) {
    const char *name = g->output[i]->name ? g->output[i]->name : "";
    InferTensorId t = infer_network_find_tensor(imp->net, name);
    if (t == INFER_NO_TENSOR)
      return infer_status_new(INFER_ERR_PARSE, "%s: graph output '%s' is not produced by any node",
                              imp->file, name);
    INFER_TRY(infer_network_mark_output(imp->net, t));
  }
  return NULL;
}

InferStatus *onnx_import_model(const Onnx__ModelProto *model, const char *file,
                               const char *base_dir, InferNetwork **out) {
  OnnxImporter imp;
  memset(&imp, 0, sizeof imp);
  imp.file = file;
  imp.base_dir = base_dir;
  InferStatus *st = NULL;
  imp.opset = onnx_model_opset(model, file, &st);
  if (st) return st;
  INFER_TRY(infer_network_create(&imp.net));
  st = import_graph(&imp, model->graph);
  if (st) {
    infer_network_release(imp.net);
    return st;
  }
  *out = imp.net;
  return NULL;
}
