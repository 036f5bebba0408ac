/* Building an engine: bind input shapes, infer shapes, fold constant
 * sub-graphs, drop layers no output needs, and check that the backend
 * supports every remaining layer. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <string.h>

#include "backend.h"
#include "passes.h"
#include "engine_internal.h"
#include "op_table.h"

#define SMALL_VALUE_ELEMS 4096
#define FOLD_BYTES ((size_t)256 << 20)

/* The opt/min/max shapes of every input: the config's profile, else
 * dynamic dims get opt = `fill` and accept any size (0 .. INT32_MAX). */
static InferStatus *bind_input_shapes(const InferNetwork *net, const InferBuildConfig *cfg,
                                      int64_t fill, InferShape *opt_shapes, InferShape *min_shapes,
                                      InferShape *max_shapes, bool *has_dynamic) {
  *has_dynamic = false;
  for (int32_t i = 0; i < net->n_inputs; i++) {
    const InferTensorDef *t = &net->tensors[net->inputs[i]];
    InferShape s = t->shape;
    for (int d = 0; d < s.rank; d++) {
      if (s.d[d] >= 0) continue;
      *has_dynamic = true;
      s.d[d] = fill;
    }
    InferShape lo = s, hi = s;
    for (int d = 0; d < s.rank; d++)
      if (t->shape.d[d] < 0) {
        lo.d[d] = 0;
        hi.d[d] = INT32_MAX;
      }
    const InferInputProfile *p = infer_build_config_profile(cfg, t->name);
    if (p) {
      const InferShape *three[3] = {&p->min, &p->opt, &p->max};
      InferShape *dst[3] = {&lo, &s, &hi};
      for (int k = 0; k < 3; k++) {
        if (three[k]->rank != s.rank)
          return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                                  "input '%s': shape of rank %d given, the network declares rank %d",
                                  t->name, three[k]->rank, s.rank);
        for (int d = 0; d < s.rank; d++) {
          if (t->shape.d[d] >= 0 && three[k]->d[d] != t->shape.d[d])
            return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                                    "input '%s': dimension %d is fixed at %lld, %lld given",
                                    t->name, d, (long long)t->shape.d[d], (long long)three[k]->d[d]);
          if (three[k]->d[d] < 0)
            return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                                    "input '%s': dimension %d of the given shape is negative",
                                    t->name, d);
          dst[k]->d[d] = three[k]->d[d];
        }
      }
      for (int d = 0; d < s.rank; d++)
        if (lo.d[d] > s.d[d] || s.d[d] > hi.d[d])
          return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                                  "input '%s': dimension %d must satisfy min <= opt <= max "
                                  "(%lld, %lld, %lld given)", t->name, d, (long long)lo.d[d],
                                  (long long)s.d[d], (long long)hi.d[d]);
    }
    opt_shapes[i] = s;
    if (min_shapes) min_shapes[i] = lo;
    if (max_shapes) max_shapes[i] = hi;
  }
  return NULL;
}

/* Marks the layers some output needs, not looking through folded tensors. */
static void mark_needed(const InferNetwork *net, const InferShapePass *pass, const bool *folded,
                        bool *needed) {
  bool *want = calloc((size_t)net->n_tensors + 1, 1);
  if (!want) return;
  for (int32_t i = 0; i < net->n_outputs; i++) want[net->outputs[i]] = true;
  for (int32_t l = net->n_layers - 1; l >= 0; l--) {
    const InferLayer *layer = &net->layers[l];
    bool any = false;
    for (int i = 0; i < layer->n_outputs; i++) any |= want[layer->outputs[i]];
    if (!any || folded[l]) continue;
    needed[l] = true;
    for (int i = 0; i < layer->n_inputs; i++)
      if (layer->inputs[i] != INFER_NO_TENSOR) want[layer->inputs[i]] = true;
  }
  (void)pass;
  free(want);
}

static InferStatus *copy_constant(InferNetwork *dst, const InferNetwork *src,
                                  const InferShapePass *pass, InferTensorId t) {
  if (infer_network_find_tensor(dst, src->tensors[t].name) != INFER_NO_TENSOR) return NULL;
  const InferTensorView *v = &pass->views[t];
  return infer_network_add_constant(dst, src->tensors[t].name, v->dtype, &v->shape, v->data, NULL);
}

/* The engine's own network: inputs, constants (folded values too), the
 * needed layers in order, outputs. */
static InferStatus *rebuild(const InferNetwork *src, const InferShapePass *pass,
                            const bool *needed, InferNetwork **out) {
  InferNetwork *dst;
  INFER_TRY(infer_network_create(&dst));
  InferStatus *st = NULL;
  for (int32_t i = 0; i < src->n_inputs && !st; i++) {
    const InferTensorDef *t = &src->tensors[src->inputs[i]];
    InferTensorId id;
    st = infer_network_add_input(dst, t->name, t->dtype, &t->shape, &id);
    for (int d = 0; d < t->shape.rank && !st; d++)
      if (t->dim_names[d]) st = infer_network_set_dim_name(dst, id, d, t->dim_names[d]);
  }
  for (int32_t l = 0; l < src->n_layers && !st; l++) {
    if (!needed[l]) continue;
    const InferLayer *layer = &src->layers[l];
    InferTensorId in[256];
    const char *names[256];
    for (int i = 0; i < layer->n_inputs && !st; i++) {
      InferTensorId t = layer->inputs[i];
      in[i] = INFER_NO_TENSOR;
      if (t == INFER_NO_TENSOR) continue;
      const InferTensorDef *def = &src->tensors[t];
      bool produced = def->producer >= 0 && needed[def->producer];
      if (!produced && !def->is_input) st = copy_constant(dst, src, pass, t);
      in[i] = infer_network_find_tensor(dst, def->name);
    }
    for (int i = 0; i < layer->n_outputs; i++) names[i] = src->tensors[layer->outputs[i]].name;
    if (!st)
      st = infer_network_add_layer(dst, layer->name, layer->op, &layer->params, layer->n_inputs, in,
                                   layer->n_outputs, names, NULL);
  }
  for (int32_t i = 0; i < src->n_outputs && !st; i++) {
    InferTensorId t = src->outputs[i];
    const InferTensorDef *def = &src->tensors[t];
    if (infer_network_find_tensor(dst, def->name) == INFER_NO_TENSOR) {
      if (!pass->views[t].data && infer_shape_numel(&pass->views[t].shape) != 0)
        st = infer_status_new(INFER_ERR_INTERNAL, "output '%s' has no producer", def->name);
      else
        st = copy_constant(dst, src, pass, t);
    }
    if (!st) st = infer_network_mark_output(dst, infer_network_find_tensor(dst, def->name));
  }
  if (st) {
    infer_network_release(dst);
    return st;
  }
  *out = dst;
  return NULL;
}

static InferStatus *validate(const InferNetwork *net) {
  if (!net) return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "build: no network");
  if (net->n_outputs == 0)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "build: the network marks no output");
  if (net->n_layers > 0 && net->n_layers > (1 << 24))
    return infer_status_new(INFER_ERR_UNSUPPORTED, "build: too many layers");
  return NULL;
}

/* Output shapes with dims that follow the dynamic input dims as -1: infer
 * with two different bindings and compare. */
static InferStatus *declared_output_shapes(InferEngine *e, const InferBuildConfig *cfg,
                                           bool has_dynamic, const InferShapePass *bound) {
  for (int32_t i = 0; i < e->n_io; i++)
    e->io_shapes[i] = i < e->n_inputs ? e->net->tensors[e->io[i]].shape : bound->views[e->io[i]].shape;
  if (!has_dynamic) return NULL;
  InferShape *alt = calloc((size_t)e->n_inputs + 1, sizeof *alt);
  if (!alt) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "build: out of memory");
  bool dyn;
  InferStatus *st = bind_input_shapes(e->net, NULL, 2, alt, NULL, NULL, &dyn);
  (void)cfg;
  InferShapePass pass;
  if (!st) st = infer_shape_pass_init(&pass, e->net);
  if (!st) {
    InferShapePassOptions opt = {alt, true, SMALL_VALUE_ELEMS, 0, true, true};
    st = infer_shape_pass_run(&pass, &opt);
    for (int32_t i = e->n_inputs; !st && i < e->n_io; i++) {
      InferShape *s = &e->io_shapes[i];
      const InferShape *o = &pass.views[e->io[i]].shape;
      if (o->rank != s->rank) continue;
      for (int d = 0; d < s->rank; d++)
        if (o->d[d] != s->d[d]) s->d[d] = -1;
    }
    infer_shape_pass_free(&pass);
  }
  free(alt);
  return st;
}

static InferStatus *build_engine(const InferNetwork *net, const InferBuildConfig *cfg,
                                 InferEngine *e) {
  bool has_dynamic;
  size_t n_in = (size_t)net->n_inputs + 1;
  InferShape *shapes = calloc(n_in, sizeof *shapes);
  e->input_min_shapes = calloc(n_in, sizeof(InferShape));
  e->input_max_shapes = calloc(n_in, sizeof(InferShape));
  if (!shapes || !e->input_min_shapes || !e->input_max_shapes) {
    free(shapes);
    return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "build: out of memory");
  }
  InferStatus *st = bind_input_shapes(net, cfg, 1, shapes, e->input_min_shapes,
                                      e->input_max_shapes, &has_dynamic);
  if (!st) st = infer_build_progress(cfg, "shapes", 0, 3);
  InferShapePass pass;
  bool *folded = NULL, *needed = NULL;
  if (!st) st = infer_shape_pass_init(&pass, net);
  if (st) {
    free(shapes);
    return st;
  }
  InferShapePassOptions opt = {shapes, has_dynamic, SMALL_VALUE_ELEMS, FOLD_BYTES, false, true};
  st = infer_shape_pass_run(&pass, &opt);
  folded = calloc((size_t)net->n_layers + 1, 1);
  needed = calloc((size_t)net->n_layers + 1, 1);
  if (!st && (!folded || !needed))
    st = infer_status_new(INFER_ERR_OUT_OF_MEMORY, "build: out of memory");
  for (int32_t l = 0; !st && l < net->n_layers; l++) {
    const InferLayer *layer = &net->layers[l];
    bool fold = pass.evaluated[l];
    for (int i = 0; i < layer->n_outputs; i++) fold &= !pass.dynamic[layer->outputs[i]];
    folded[l] = fold;
  }
  if (!st) st = infer_build_progress(cfg, "folding", 1, 3);
  if (!st) {
    mark_needed(net, &pass, folded, needed);
    st = rebuild(net, &pass, needed, &e->net);
  }
  if (!st) st = infer_build_progress(cfg, "optimizing", 1, 3);
  if (!st) {
    InferPassContext pctx = {e->backend, cfg};
    st = infer_run_passes(&pctx, &e->net);
  }
  infer_shape_pass_free(&pass);
  free(folded);
  free(needed);
  if (st) {
    free(shapes);
    return st;
  }
  /* check the engine's network as it will run */
  st = infer_build_progress(cfg, "checking", 2, 3);
  if (!st) st = infer_shape_pass_init(&pass, e->net);
  if (!st) {
    opt.fold_bytes = 0;
    st = infer_shape_pass_run(&pass, &opt);
    if (!st) st = infer_backend_get(e->backend)->supports_network(e->net, &pass);
    for (int32_t t = 0; !st && t < e->net->n_tensors; t++)
      if (pass.views[t].dtype != INFER_DTYPE_UNDEFINED) {
        /* io shapes keep their dynamic dims in io_shapes; tensors record the build shapes */
        e->net->tensors[t].dtype = pass.views[t].dtype;
        if (!e->net->tensors[t].is_input) e->net->tensors[t].shape = pass.views[t].shape;
        e->net->tensors[t].shape_known = true;
      }
    e->n_inputs = e->net->n_inputs;
    e->n_io = e->net->n_inputs + e->net->n_outputs;
    e->io = calloc((size_t)e->n_io + 1, sizeof *e->io);
    e->io_shapes = calloc((size_t)e->n_io + 1, sizeof *e->io_shapes);
    if (!st && (!e->io || !e->io_shapes))
      st = infer_status_new(INFER_ERR_OUT_OF_MEMORY, "build: out of memory");
    for (int32_t i = 0; !st && i < e->n_io; i++)
      e->io[i] = i < e->n_inputs ? e->net->inputs[i] : e->net->outputs[i - e->n_inputs];
    if (!st) st = declared_output_shapes(e, cfg, has_dynamic, &pass);
    if (!st) st = infer_engine_find_host_inputs(e);
    infer_shape_pass_free(&pass);
  }
  e->input_build_shapes = shapes;
  if (!st) st = infer_build_progress(cfg, "checking", 3, 3);
  return st;
}

InferStatus *infer_engine_build(const InferNetwork *net, const InferBuildConfig *cfg,
                                InferEngine **out) {
  *out = NULL;
  INFER_TRY(validate(net));
  InferBackendKind backend = infer_backend_resolve(cfg ? cfg->backend : INFER_BACKEND_AUTO);
  const InferBackend *be = infer_backend_get(backend);
  if (!be)
    return infer_status_new(INFER_ERR_UNSUPPORTED,
                            "build: this library was built without the CUDA backend");
  if (!be->available())
    return infer_status_new(INFER_ERR_DEVICE, "build: the %s backend finds no usable device",
                            be->name);
  InferEngine *e = calloc(1, sizeof *e);
  if (!e) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "build: out of memory");
  e->backend = backend;
  e->n_source_layers = net->n_layers;
  e->source_hash = net->source_hash;
  e->precisions = cfg ? cfg->precisions : INFER_PRECISION_FP32;
  if (!cfg || !cfg->no_tf32) e->precisions |= INFER_ENGINE_TF32;
  if (cfg && cfg->int8_exact) e->precisions |= INFER_ENGINE_INT8_EXACT;
  InferStatus *st = build_engine(net, cfg, e);
  if (!st && be->prepare_engine) st = be->prepare_engine(e);
  if (!st) st = infer_build_progress(cfg, "timing", 3, 3);
  if (!st) st = infer_engine_tune(e, cfg);
  if (st) {
    infer_engine_release(e);
    return st;
  }
  *out = e;
  return NULL;
}

void infer_engine_release(InferEngine *e) {
  if (!e) return;
  infer_engine_free_memory_plan(e);
  const InferBackend *be = infer_backend_get(e->backend);
  if (be && be->release_engine && e->backend_state) be->release_engine(e);
  infer_network_release(e->net);
  free(e->io);
  free(e->io_shapes);
  free(e->input_build_shapes);
  free(e->input_min_shapes);
  free(e->input_max_shapes);
  free(e->io_host);
  if (e->mapping) munmap(e->mapping, e->mapping_size);
  free(e);
}

InferBackendKind infer_engine_backend(const InferEngine *e) { return e->backend; }
int infer_engine_num_layers(const InferEngine *e) { return e->net->n_layers; }
int infer_engine_num_io(const InferEngine *e) { return e->n_io; }

const char *infer_engine_io_name(const InferEngine *e, int i) {
  return i >= 0 && i < e->n_io ? e->net->tensors[e->io[i]].name : NULL;
}

bool infer_engine_io_is_input(const InferEngine *e, int i) { return i >= 0 && i < e->n_inputs; }

InferDType infer_engine_io_dtype(const InferEngine *e, int i) {
  if (i < 0 || i >= e->n_io) return INFER_DTYPE_UNDEFINED;
  InferDType t = e->net->tensors[e->io[i]].dtype;
  return t;
}

InferShape infer_engine_io_shape(const InferEngine *e, int i) {
  InferShape none = {0, {0}};
  return i >= 0 && i < e->n_io ? e->io_shapes[i] : none;
}

int infer_engine_io_index(const InferEngine *e, const char *name) {
  for (int i = 0; i < e->n_io; i++)
    if (strcmp(e->net->tensors[e->io[i]].name, name) == 0) return i;
  return -1;
}
