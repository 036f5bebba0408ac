/* The Caffe import driver: reads the prototxt, the caffemodel and the mean,
 * keeps the layers of the TEST phase, counts every blob's productions (so
 * that in-place layers give the blob's name to its final value), creates
 * the inputs, dispatches each layer to its importer by type, and marks the
 * outputs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caffe_internal.h"
#include "plugins/plugin_caffe.h"
#include "plugins/plugin_internal.h"

/* ---- dispatch ------------------------------------------------------------------ */

static const CaffeLayerImporter *find_importer(const char *type) {
  const CaffeLayerImporter *tables[] = {infer_caffe_importers_nn, infer_caffe_importers_pool,
                                        infer_caffe_importers_elementwise,
                                        infer_caffe_importers_movement, infer_caffe_importers_io};
  const size_t counts[] = {infer_caffe_num_importers_nn, infer_caffe_num_importers_pool,
                           infer_caffe_num_importers_elementwise,
                           infer_caffe_num_importers_movement, infer_caffe_num_importers_io};
  for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
    for (size_t i = 0; i < counts[t]; i++)
      if (strcmp(tables[t][i].type, type) == 0) return &tables[t][i];
  return NULL;
}

InferStatus *caffe_import_layer(CaffeImporter *imp, const CaffeNode *layer) {
  const CaffeLayerImporter *li = find_importer(imp->layer_type);
  if (li) return li->import(imp, layer);
  /* other types: a registered plugin of that name (infer/plugin.h) */
  const InferPluginCreator *plugin = infer_plugin_caffe_find(imp->layer_type);
  if (plugin) return infer_plugin_caffe_import(imp, layer, plugin);
  char failures[1024];
  return caffe_unsupported(imp, "layer type '%s' is not supported%s", imp->layer_type,
                           infer_plugin_load_failures(failures, sizeof failures));
}

/* ---- phase rules (NetStateRule against the net's state, TEST by default) ---- */

typedef struct NetState {
  int phase;      /* 0 TRAIN, 1 TEST */
  int64_t level;
  const CaffeNode *state; /* for its stage list */
} NetState;

static const char *const phase_names[] = {"TRAIN", "TEST"};

static bool has_stage(const NetState *s, const char *stage) {
  for (const CaffeNode *n = caffe_next(s->state, "stage", NULL); n; n = caffe_next(s->state, "stage", n))
    if (n->kind == CAFFE_VALUE_STRING && strcmp(n->text, stage) == 0) return true;
  return false;
}

static InferStatus *rule_matches(const char *file, const CaffeNode *rule, const NetState *s,
                                 bool *out) {
  int phase;
  int64_t v;
  *out = false;
  if (caffe_find(rule, "phase")) {
    INFER_TRY(caffe_get_enum(file, rule, "phase", phase_names, 2, 1, &phase));
    if (phase != s->phase) return NULL;
  }
  INFER_TRY(caffe_get_int(file, rule, "min_level", INT64_MIN, &v));
  if (s->level < v) return NULL;
  INFER_TRY(caffe_get_int(file, rule, "max_level", INT64_MAX, &v));
  if (s->level > v) return NULL;
  for (const CaffeNode *n = caffe_next(rule, "stage", NULL); n; n = caffe_next(rule, "stage", n)) {
    const char *st;
    INFER_TRY(caffe_node_string(file, n, &st));
    if (!has_stage(s, st)) return NULL;
  }
  for (const CaffeNode *n = caffe_next(rule, "not_stage", NULL); n;
       n = caffe_next(rule, "not_stage", n)) {
    const char *st;
    INFER_TRY(caffe_node_string(file, n, &st));
    if (has_stage(s, st)) return NULL;
  }
  *out = true;
  return NULL;
}

/* Caffe's rule: with include rules a layer is kept when one matches; with
 * exclude rules it is dropped when one matches. */
static InferStatus *layer_included(const char *file, const CaffeNode *layer, const NetState *s,
                                   bool *out) {
  int inc = caffe_count(layer, "include"), exc = caffe_count(layer, "exclude");
  if (inc && exc)
    return caffe_node_error(file, layer, INFER_ERR_PARSE,
                            "a layer gives include and exclude rules; Caffe allows one kind");
  const char *kind = inc ? "include" : "exclude";
  bool any = false;
  for (const CaffeNode *r = caffe_next(layer, kind, NULL); r && !any; r = caffe_next(layer, kind, r))
    INFER_TRY(rule_matches(file, r, s, &any));
  *out = inc ? any : !any;
  return NULL;
}

/* ---- structure checks ------------------------------------------------------------ */

static const char *const net_fields[] = {"name", "input", "input_shape", "input_dim",
                                         "force_backward", "state", "debug_info", "layer",
                                         "layers", NULL};
static const char *const layer_fields[] = {"name", "type", "bottom", "top", "phase",
                                           "loss_weight", "param", "blobs", "propagate_down",
                                           "include", "exclude", NULL};

/* The common LayerParameter fields, plus any "<type>_param" message (the
 * importer of the layer's type checks its own). */
static InferStatus *check_layer_fields(const char *file, const CaffeNode *layer) {
  for (const CaffeNode *n = layer->first; n; n = n->next) {
    size_t len = strlen(n->name);
    if (len > 6 && strcmp(n->name + len - 6, "_param") == 0) continue;
    bool ok = false;
    for (const char *const *k = layer_fields; *k && !ok; k++) ok = strcmp(*k, n->name) == 0;
    if (!ok) return caffe_node_error(file, n, INFER_ERR_PARSE, "unknown field '%s' in a layer",
                                     n->name);
  }
  for (const CaffeNode *n = caffe_next(layer, "top", NULL); n; n = caffe_next(layer, "top", n))
    if (n->kind != CAFFE_VALUE_STRING)
      return caffe_node_error(file, n, INFER_ERR_PARSE, "a top must be a quoted blob name");
  return NULL;
}

/* ---- the import ---------------------------------------------------------------------- */

/* The top-level input / input_shape / input_dim forms. */
static InferStatus *import_net_inputs(CaffeImporter *imp, const CaffeNode *root) {
  int n_inputs = caffe_count(root, "input"), n_shapes = caffe_count(root, "input_shape");
  int n_dims = caffe_count(root, "input_dim");
  if (n_shapes && n_dims)
    return caffe_node_error(imp->file, caffe_find(root, "input_dim"), INFER_ERR_PARSE,
                            "give input_shape or input_dim, not both");
  if (n_shapes && n_shapes != n_inputs)
    return caffe_node_error(imp->file, caffe_find(root, "input_shape"), INFER_ERR_PARSE,
                            "%d inputs but %d input_shape entries", n_inputs, n_shapes);
  if (n_dims && n_dims != 4 * n_inputs)
    return caffe_node_error(imp->file, caffe_find(root, "input_dim"), INFER_ERR_PARSE,
                            "%d inputs need %d input_dim values (4 each), found %d", n_inputs,
                            4 * n_inputs, n_dims);
  const CaffeNode *shape = caffe_next(root, "input_shape", NULL);
  const CaffeNode *dim = caffe_next(root, "input_dim", NULL);
  for (const CaffeNode *in = caffe_next(root, "input", NULL); in; in = caffe_next(root, "input", in)) {
    const char *name;
    INFER_TRY(caffe_node_string(imp->file, in, &name));
    InferShape s = {0, {0}};
    if (shape) {
      int n;
      static const char *const dim_field[] = {"dim", NULL};
      INFER_TRY(caffe_check_fields(imp->file, shape, "input_shape", dim_field));
      INFER_TRY(caffe_get_ints(imp->file, shape, "dim", s.d, INFER_MAX_RANK, &n));
      s.rank = n;
      shape = caffe_next(root, "input_shape", shape);
    } else if (dim) {
      s.rank = 4;
      for (int i = 0; i < 4; i++, dim = caffe_next(root, "input_dim", dim))
        INFER_TRY(caffe_node_int(imp->file, dim, &s.d[i]));
    }
    INFER_TRY(caffe_add_input(imp, in, name, &s));
  }
  return NULL;
}

static InferStatus *import_layers(CaffeImporter *imp, const CaffeNode *root, const NetState *state) {
  /* count productions first: the last one of each blob gets its name */
  for (const CaffeNode *in = caffe_next(root, "input", NULL); in; in = caffe_next(root, "input", in))
    if (in->kind == CAFFE_VALUE_STRING) {
      CaffeBlobSlot *s = caffe_slot(imp, in->text, true);
      if (!s) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "%s: out of memory", imp->file);
      s->remaining++;
    }
  for (const CaffeNode *l = caffe_next(root, "layer", NULL); l; l = caffe_next(root, "layer", l)) {
    bool keep;
    if (l->kind != CAFFE_VALUE_MESSAGE)
      return caffe_node_error(imp->file, l, INFER_ERR_PARSE, "'layer' must be a message");
    INFER_TRY(check_layer_fields(imp->file, l));
    INFER_TRY(layer_included(imp->file, l, state, &keep));
    for (const CaffeNode *t = caffe_next(l, "top", NULL); keep && t; t = caffe_next(l, "top", t)) {
      CaffeBlobSlot *s = caffe_slot(imp, t->text, true);
      if (!s) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "%s: out of memory", imp->file);
      s->remaining++;
    }
  }
  INFER_TRY(import_net_inputs(imp, root));
  int index = 0;
  for (const CaffeNode *l = caffe_next(root, "layer", NULL); l;
       l = caffe_next(root, "layer", l), index++) {
    bool keep;
    INFER_TRY(layer_included(imp->file, l, state, &keep));
    if (!keep) continue;
    char fallback[32];
    const CaffeNode *type = caffe_find(l, "type"), *name = caffe_find(l, "name");
    if (!type)
      return caffe_node_error(imp->file, l, INFER_ERR_PARSE, "the layer has no type");
    INFER_TRY(caffe_node_string(imp->file, type, &imp->layer_type));
    if (name) {
      INFER_TRY(caffe_node_string(imp->file, name, &imp->layer_name));
    } else {
      snprintf(fallback, sizeof fallback, "layer%d", index);
      imp->layer_name = fallback;
    }
    imp->layer = l;
    imp->weights = caffe_model_find(imp->model, imp->layer_name);
    INFER_TRY(caffe_import_layer(imp, l));
    imp->layer = NULL;
    imp->layer_name = NULL; /* fallback goes out of scope */
  }
  return NULL;
}

static int compare_order(const void *a, const void *b) {
  int64_t x = (*(CaffeBlobSlot *const *)a)->order, y = (*(CaffeBlobSlot *const *)b)->order;
  return x < y ? -1 : x > y;
}

static InferStatus *mark_outputs(CaffeImporter *imp) {
  const InferCaffeOptions *o = imp->opts;
  for (int i = 0; i < o->n_outputs; i++) {
    const char *name = o->outputs && o->outputs[i] ? o->outputs[i] : "";
    CaffeBlobSlot *s = caffe_slot(imp, name, false);
    if (!s || s->tensor == INFER_NO_TENSOR)
      return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                              "%s: output blob '%s' is not produced by any layer", imp->file, name);
    INFER_TRY(infer_network_mark_output(imp->net, s->tensor));
  }
  if (o->n_outputs > 0) return NULL;
  CaffeBlobSlot **unread = malloc((imp->n_slots ? imp->n_slots : 1) * sizeof *unread);
  if (!unread) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "%s: out of memory", imp->file);
  size_t n = 0;
  for (size_t i = 0; i < imp->n_slots; i++)
    if (imp->slots[i].tensor != INFER_NO_TENSOR && !imp->slots[i].consumed)
      unread[n++] = &imp->slots[i];
  qsort(unread, n, sizeof *unread, compare_order);
  InferStatus *st = NULL;
  for (size_t i = 0; i < n && !st; i++) st = infer_network_mark_output(imp->net, unread[i]->tensor);
  free(unread);
  if (!st && n == 0)
    st = infer_status_new(INFER_ERR_PARSE, "%s: every blob is consumed by a layer, so there is no "
                          "output; name the outputs", imp->file);
  return st;
}

static InferStatus *import_doc(CaffeImporter *imp, const CaffeDoc *doc) {
  const CaffeNode *root = doc->root;
  const CaffeNode *v1 = caffe_find(root, "layers");
  if (v1)
    return caffe_node_error(imp->file, v1, INFER_ERR_UNSUPPORTED,
                            "the prototxt uses the legacy V1 format ('layers' of "
                            "V1LayerParameter), which is not supported; convert it with Caffe's "
                            "upgrade_net_proto_text tool");
  INFER_TRY(caffe_check_fields(imp->file, root, "the net", net_fields));
  NetState state = {1, 0, caffe_find(root, "state")};
  if (state.state) {
    static const char *const state_fields[] = {"phase", "level", "stage", NULL};
    INFER_TRY(caffe_check_fields(imp->file, state.state, "state", state_fields));
    INFER_TRY(caffe_get_enum(imp->file, state.state, "phase", phase_names, 2, 1, &state.phase));
    INFER_TRY(caffe_get_int(imp->file, state.state, "level", 0, &state.level));
  }
  INFER_TRY(import_layers(imp, root, &state));
  if (imp->mean.data && !imp->mean_applied)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "%s: the mean input '%s' is not an input "
                            "of the net", imp->file, imp->opts->mean_input ? imp->opts->mean_input : "");
  return mark_outputs(imp);
}

InferStatus *infer_caffe_parse_memory(const char *deploy_text, size_t deploy_size,
                                      const char *deploy_name, const void *model,
                                      size_t model_size, const char *model_name,
                                      const InferCaffeOptions *opts, InferNetwork **out) {
  static const InferCaffeOptions defaults;
  if (!out) return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "caffe: no output pointer");
  *out = NULL;
  if (!deploy_text) return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "caffe: no prototxt given");
  CaffeImporter imp;
  memset(&imp, 0, sizeof imp);
  imp.file = deploy_name ? deploy_name : "prototxt";
  imp.model_file = model_name ? model_name : "caffemodel";
  imp.opts = opts ? opts : &defaults;
  if (imp.opts->n_outputs < 0 || imp.opts->n_input_shapes < 0 || imp.opts->batch_size < 0 ||
      (imp.opts->n_input_shapes > 0 && !imp.opts->input_shapes))
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "caffe: invalid options");
  CaffeDoc doc;
  INFER_TRY(caffe_text_parse(deploy_text, deploy_size, imp.file, &doc));
  CaffeModel *m = NULL;
  InferStatus *st = NULL;
  if (model) st = caffe_model_decode(model, model_size, imp.model_file, &m);
  imp.model = m;
  if (!st && imp.opts->mean_file) st = infer_caffe_read_mean(imp.opts->mean_file, &imp.mean);
  if (!st) st = infer_network_create(&imp.net);
  if (!st) st = import_doc(&imp, &doc);
  if (!st) {
    uint64_t h = infer_hash64(deploy_text, deploy_size, 0);
    if (model) h = infer_hash64(model, model_size, h);
    if (imp.mean.data)
      h = infer_hash64(imp.mean.data, (size_t)infer_shape_numel(&imp.mean.shape) * sizeof(float), h);
    imp.net->source_hash = h;
    *out = imp.net;
  } else {
    infer_network_release(imp.net);
  }
  for (size_t i = 0; i < imp.n_slots; i++) free(imp.slots[i].name);
  free(imp.slots);
  free(imp.dtypes);
  free(imp.shapes);
  free(imp.mean.data);
  caffe_model_free(m);
  caffe_doc_free(&doc);
  return st;
}

InferStatus *infer_caffe_parse(const char *deploy_prototxt, const char *caffemodel,
                               const InferCaffeOptions *opts, InferNetwork **out) {
  if (out) *out = NULL;
  if (!deploy_prototxt)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "caffe: no prototxt path given");
  uint8_t *text = NULL, *model = NULL;
  size_t text_size = 0, model_size = 0;
  INFER_TRY(caffe_read_file(deploy_prototxt, &text, &text_size));
  InferStatus *st = caffemodel ? caffe_read_file(caffemodel, &model, &model_size) : NULL;
  if (!st)
    st = infer_caffe_parse_memory((const char *)text, text_size, deploy_prototxt, model,
                                  model_size, caffemodel, opts, out);
  free(text);
  free(model);
  return st;
}
