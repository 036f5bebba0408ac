/* The plugin-data table (process-wide, see plugin_internal.h), the shape
 * function of plugin layers, and the kernel hooks through which the CPU and
 * CUDA kernel tables run them. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "network_internal.h"
#include "plugin_internal.h"
#include "plugin_kernel.h"

typedef struct Entry {
  const InferPluginCreator *creator;
  InferPlugin *plugin;
  void *bytes;
  size_t size;
  int n_outputs;
  /* one caller at a time: configure and the run it prepares go together */
  pthread_mutex_t lock;
  uint64_t configured;        /* hash of the dtypes and shapes configured last; 0: none */
} Entry;

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static Entry **entries;
static int32_t n_entries, cap_entries;

static void install_hooks(void);

static Entry *entry_at(int32_t index) {
  pthread_mutex_lock(&table_lock);
  Entry *e = index >= 0 && index < n_entries ? entries[index] : NULL;
  pthread_mutex_unlock(&table_lock);
  return e;
}

static InferStatus *plugin_error(const InferPluginCreator *c, const char *layer, InferStatus *st) {
  return infer_status_prefix(st, "layer '%s' (plugin '%s' version %s)", layer ? layer : "?",
                             c->name, c->version);
}

static void destroy(InferPlugin *p) {
  if (p && p->vtable && p->vtable->destroy) p->vtable->destroy(p);
}

static InferStatus *check_vtable(const InferPluginCreator *c, const char *layer,
                                 const InferPlugin *p) {
  const InferPluginVTable *vt = p ? p->vtable : NULL;
  const char *missing = !vt ? "a vtable" : !vt->num_outputs ? "num_outputs"
                        : !vt->output_descs ? "output_descs" : !vt->serialized_size
                        ? "serialized_size" : !vt->serialize ? "serialize" : !vt->destroy
                        ? "destroy" : !vt->enqueue && !vt->execute ? "enqueue or execute" : NULL;
  if (missing)
    return plugin_error(c, layer, infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                                                   "the instance has no %s", missing));
  int n = vt->num_outputs(p);
  if (n < 1 || n > 256)
    return plugin_error(c, layer, infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                                                   "the instance makes %d outputs (1 to 256)", n));
  return NULL;
}

/* Adds (or finds) the entry for creator + bytes; takes `plugin` over. */
static InferStatus *insert(const InferPluginCreator *c, InferPlugin *plugin, void *bytes,
                           size_t size, int32_t *index) {
  install_hooks();
  pthread_mutex_lock(&table_lock);
  for (int32_t i = 0; i < n_entries; i++) {
    Entry *e = entries[i];
    if (e->creator == c && e->size == size && (!size || memcmp(e->bytes, bytes, size) == 0)) {
      pthread_mutex_unlock(&table_lock);
      destroy(plugin);
      free(bytes);
      *index = i;
      return NULL;
    }
  }
  Entry *e = calloc(1, sizeof *e);
  if (e && n_entries == cap_entries) {
    int32_t cap = cap_entries ? cap_entries * 2 : 16;
    Entry **a = realloc(entries, (size_t)cap * sizeof *a);
    if (a) {
      entries = a;
      cap_entries = cap;
    }
  }
  if (!e || n_entries == cap_entries || n_entries == INT32_MAX) {
    pthread_mutex_unlock(&table_lock);
    free(e);
    destroy(plugin);
    free(bytes);
    return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "plugin '%s': out of memory", c->name);
  }
  e->creator = c;
  e->plugin = plugin;
  e->bytes = bytes;
  e->size = size;
  e->n_outputs = plugin->vtable->num_outputs(plugin);
  pthread_mutex_init(&e->lock, NULL);
  *index = n_entries;
  entries[n_entries++] = e;
  pthread_mutex_unlock(&table_lock);
  return NULL;
}

InferStatus *infer_plugin_table_add(const InferPluginCreator *c, InferPlugin *plugin,
                                    const char *layer, int32_t *index) {
  InferStatus *st = check_vtable(c, layer, plugin);
  if (st) {
    destroy(plugin);
    return st;
  }
  size_t size = plugin->vtable->serialized_size(plugin);
  void *bytes = malloc(size ? size : 1);
  if (!bytes) {
    destroy(plugin);
    return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "plugin '%s': out of memory", c->name);
  }
  if (size) plugin->vtable->serialize(plugin, bytes);
  return insert(c, plugin, bytes, size, index);
}

InferStatus *infer_plugin_table_add_bytes(const InferPluginCreator *c, const void *data,
                                          size_t size, const char *layer, int32_t *index) {
  /* an equal entry needs no new instance */
  pthread_mutex_lock(&table_lock);
  for (int32_t i = 0; i < n_entries; i++)
    if (entries[i]->creator == c && entries[i]->size == size &&
        (!size || memcmp(entries[i]->bytes, data, size) == 0)) {
      *index = i;
      pthread_mutex_unlock(&table_lock);
      return NULL;
    }
  pthread_mutex_unlock(&table_lock);
  void *bytes = malloc(size ? size : 1);
  if (!bytes) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "plugin '%s': out of memory", c->name);
  if (size) memcpy(bytes, data, size);
  InferPlugin *plugin = NULL;
  InferStatus *st = c->deserialize(c, layer, bytes, size, &plugin);
  if (!st && !plugin)
    st = infer_status_new(INFER_ERR_INTERNAL, "deserialize returned no instance");
  if (st) {
    free(bytes);
    return plugin_error(c, layer, st);
  }
  st = check_vtable(c, layer, plugin);
  if (st) {
    free(bytes);
    destroy(plugin);
    return st;
  }
  return insert(c, plugin, bytes, size, index);
}

bool infer_plugin_table_get(int32_t index, const InferPluginCreator **c, const void **bytes,
                            size_t *size) {
  Entry *e = entry_at(index);
  if (!e) return false;
  if (c) *c = e->creator;
  if (bytes) *bytes = e->bytes;
  if (size) *size = e->size;
  return true;
}

int infer_plugin_table_num_outputs(int32_t index) {
  Entry *e = entry_at(index);
  return e ? e->n_outputs : 0;
}

void infer_plugin_params_make(const InferPluginCreator *c, int32_t index, InferOpParams *out) {
  memset(out, 0, sizeof *out);
  /* the registry admits only names and versions that fit */
  snprintf(out->plugin.name, sizeof out->plugin.name, "%s", c->name);
  snprintf(out->plugin.version, sizeof out->plugin.version, "%s", c->version);
  out->plugin.data_index = index;
}

InferStatus *infer_plugin_make_params(const InferPluginCreator *c, const char *layer,
                                      const InferPluginFields *fields, InferOpParams *params,
                                      int *n_outputs) {
  InferPlugin *plugin = NULL;
  InferStatus *st = c->create(c, layer, fields, &plugin);
  if (!st && !plugin) st = infer_status_new(INFER_ERR_INTERNAL, "create returned no instance");
  if (st) return plugin_error(c, layer, st);
  int32_t index;
  INFER_TRY(infer_plugin_table_add(c, plugin, layer, &index));
  infer_plugin_params_make(c, index, params);
  *n_outputs = infer_plugin_table_num_outputs(index);
  return NULL;
}

InferStatus *infer_network_add_plugin(InferNetwork *net, const char *name, const char *plugin,
                                      const char *version, const InferPluginFields *fields,
                                      int n_inputs, const InferTensorId *inputs,
                                      const char *const *out_names, InferTensorId *outputs,
                                      int *n_outputs) {
  const char *lname = name && *name ? name : "plugin";
  if (!net || !plugin || (n_inputs > 0 && !inputs))
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "layer '%s': network, plugin name and "
                            "inputs are required", lname);
  const InferPluginCreator *c = infer_plugin_find(plugin, version);
  if (!c) {
    char what[300];
    snprintf(what, sizeof what, "layer '%s'", lname);
    return infer_plugin_not_registered(what, plugin, version);
  }
  InferOpParams params;
  int n_out;
  INFER_TRY(infer_plugin_make_params(c, lname, fields, &params, &n_out));
  if (n_outputs) *n_outputs = n_out;
  return infer_network_add_layer(net, lname, INFER_OP_PLUGIN, &params, n_inputs, inputs, n_out,
                                 out_names, outputs);
}

/* ---- layers ------------------------------------------------------------------- */

/* The entry a layer's params name; errors name the layer. */
static InferStatus *layer_entry(const InferOpCall *call, Entry **out) {
  const InferPluginParams *p = &call->params->plugin;
  Entry *e = entry_at(p->data_index);
  if (!e || strncmp(e->creator->name, p->name, sizeof p->name) != 0 ||
      strncmp(e->creator->version, p->version, sizeof p->version) != 0)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "layer '%s' (plugin): its plugin data (entry %d) is not an instance "
                            "of '%.*s' version %.*s", call->node ? call->node : "?",
                            (int)p->data_index, (int)sizeof p->name, p->name,
                            (int)sizeof p->version, p->version);
  if (call->n_out != e->n_outputs)
    return plugin_error(e->creator, call->node,
                        infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                                         "the layer has %d outputs, the plugin makes %d",
                                         call->n_out, e->n_outputs));
  *out = e;
  return NULL;
}

/* Views without data, for the functions that look at types and shapes. */
static InferTensorView *descs(const InferTensorView *v, int n, InferTensorView *buf) {
  for (int i = 0; i < n; i++) {
    buf[i] = v[i];
    buf[i].data = NULL;
  }
  return buf;
}

InferStatus *infer_shape_plugin(const InferOpCall *call) {
  Entry *e;
  INFER_TRY(layer_entry(call, &e));
  InferTensorView in[256];
  if (call->n_in > 256 || call->n_out > 256)
    return plugin_error(e->creator, call->node,
                        infer_status_new(INFER_ERR_UNSUPPORTED, "more than 256 inputs"));
  for (int i = 0; i < call->n_out; i++) memset(&call->out[i], 0, sizeof call->out[i]);
  const InferPluginVTable *vt = e->plugin->vtable;
  pthread_mutex_lock(&e->lock);
  InferStatus *st = vt->output_descs(e->plugin, descs(call->in, call->n_in, in), call->n_in,
                                     call->out, call->n_out);
  pthread_mutex_unlock(&e->lock);
  if (st) return plugin_error(e->creator, call->node, st);
  for (int i = 0; i < call->n_out; i++) {
    const InferTensorView *o = &call->out[i];
    bool ok = o->dtype > INFER_DTYPE_UNDEFINED && o->dtype < INFER_DTYPE_COUNT &&
              o->shape.rank >= 0 && o->shape.rank <= INFER_MAX_RANK;
    for (int d = 0; ok && d < o->shape.rank; d++) ok = o->shape.d[d] >= -1;
    if (!ok)
      return plugin_error(e->creator, call->node,
                          infer_status_new(INFER_ERR_INTERNAL,
                                           "output_descs gave output %d a bad type or shape", i));
    call->out[i].data = NULL;
  }
  return NULL;
}

static InferStatus *hook_supports(const InferOpCall *call, bool device) {
  Entry *e;
  INFER_TRY(layer_entry(call, &e));
  const InferPluginCreator *c = e->creator;
  const InferPluginVTable *vt = e->plugin->vtable;
  if (device ? !vt->enqueue : !vt->execute)
    return plugin_error(c, call->node,
                        infer_status_new(INFER_ERR_UNSUPPORTED,
                                         "the plugin has no %s implementation (%s); build the "
                                         "engine for the %s backend",
                                         device ? "CUDA" : "CPU", device ? "enqueue" : "execute",
                                         device ? "CPU" : "CUDA"));
  InferDType in[256], out[256];
  if (call->n_in > 256) return plugin_error(c, call->node, infer_status_new(INFER_ERR_UNSUPPORTED,
                                                                             "more than 256 inputs"));
  for (int i = 0; i < call->n_in; i++) in[i] = call->in[i].dtype;
  for (int i = 0; i < call->n_out; i++) out[i] = call->out[i].dtype;
  bool ok = true;
  if (vt->supports_dtypes) {
    pthread_mutex_lock(&e->lock);
    ok = vt->supports_dtypes(e->plugin, in, call->n_in, out, call->n_out);
    pthread_mutex_unlock(&e->lock);
  } else {
    for (int i = 0; i < call->n_in; i++) ok &= in[i] == INFER_DTYPE_F32 || in[i] == INFER_DTYPE_UNDEFINED;
    for (int i = 0; i < call->n_out; i++) ok &= out[i] == INFER_DTYPE_F32;
  }
  if (ok) return NULL;
  char list[512];
  size_t used = 0;
  for (int i = 0; i < call->n_in + call->n_out && used + 1 < sizeof list; i++) {
    InferDType t = i < call->n_in ? in[i] : out[i - call->n_in];
    int w = snprintf(list + used, sizeof list - used, "%s%s %s", i ? ", " : "",
                     i < call->n_in ? "in" : "out", infer_dtype_name(t));
    if (w < 0) break;
    used += (size_t)w;
  }
  return plugin_error(c, call->node,
                      infer_status_new(INFER_ERR_UNSUPPORTED,
                                       "the plugin does not take these element types (%s)", list));
}

/* Configures the instance for the call's dtypes and shapes when they
 * differ from the last ones (entry lock held). */
static InferStatus *configure(Entry *e, const InferOpCall *call) {
  const InferPluginVTable *vt = e->plugin->vtable;
  if (!vt->configure) return NULL;
  uint64_t h = 0x9e3779b97f4a7c15ull;
  for (int i = 0; i < call->n_in; i++) {
    h = infer_hash64(&call->in[i].dtype, sizeof call->in[i].dtype, h);
    h = infer_hash64(&call->in[i].shape, sizeof call->in[i].shape, h);
  }
  for (int i = 0; i < call->n_out; i++) {
    h = infer_hash64(&call->out[i].dtype, sizeof call->out[i].dtype, h);
    h = infer_hash64(&call->out[i].shape, sizeof call->out[i].shape, h);
  }
  if (h == 0) h = 1;
  if (h == e->configured) return NULL;
  InferTensorView in[256], out[256];
  InferStatus *st = vt->configure(e->plugin, descs(call->in, call->n_in, in), call->n_in,
                                  descs(call->out, call->n_out, out), call->n_out);
  e->configured = st ? 0 : h;
  return st;
}

static size_t workspace_locked(Entry *e, const InferOpCall *call) {
  const InferPluginVTable *vt = e->plugin->vtable;
  if (!vt->workspace_size) return 0;
  InferTensorView in[256], out[256];
  return vt->workspace_size(e->plugin, descs(call->in, call->n_in, in), call->n_in,
                            descs(call->out, call->n_out, out), call->n_out);
}

static InferStatus *hook_execute(const InferOpCall *call) {
  Entry *e;
  INFER_TRY(layer_entry(call, &e));
  if (call->n_in > 256 || !e->plugin->vtable->execute)
    return hook_supports(call, false);
  pthread_mutex_lock(&e->lock);
  InferStatus *st = configure(e, call);
  void *ws = NULL;
  if (!st) {
    size_t need = workspace_locked(e, call);
    if (need && !(ws = malloc(need)))
      st = infer_status_new(INFER_ERR_OUT_OF_MEMORY, "cannot allocate a %zu-byte workspace", need);
  }
  if (!st) st = e->plugin->vtable->execute(e->plugin, call->in, call->n_in, call->out,
                                           call->n_out, ws);
  pthread_mutex_unlock(&e->lock);
  free(ws);
  return st ? plugin_error(e->creator, call->node, st) : NULL;
}

static InferStatus *hook_enqueue(const InferOpCall *call, void *stream, void *workspace,
                                 size_t workspace_bytes) {
  Entry *e;
  INFER_TRY(layer_entry(call, &e));
  if (call->n_in > 256 || !e->plugin->vtable->enqueue) return hook_supports(call, true);
  pthread_mutex_lock(&e->lock);
  InferStatus *st = configure(e, call);
  if (!st) {
    size_t need = workspace_locked(e, call);
    if (need > workspace_bytes)
      st = infer_status_new(INFER_ERR_INTERNAL, "the workspace has %zu bytes, the plugin needs %zu",
                            workspace_bytes, need);
  }
  if (!st) st = e->plugin->vtable->enqueue(e->plugin, call->in, call->n_in, call->out,
                                           call->n_out, workspace, stream);
  pthread_mutex_unlock(&e->lock);
  return st ? plugin_error(e->creator, call->node, st) : NULL;
}

static size_t hook_workspace(const InferOpCall *call) {
  Entry *e;
  InferStatus *st = layer_entry(call, &e);
  if (st || call->n_in > 256) {
    /* the run reports the problem */
    infer_status_free(st);
    return 0;
  }
  /* the size may depend on what configure worked out */
  pthread_mutex_lock(&e->lock);
  st = configure(e, call);
  size_t n = st ? 0 : workspace_locked(e, call);
  pthread_mutex_unlock(&e->lock);
  infer_status_free(st);
  return n;
}

static const InferPluginKernelHooks hooks = {hook_supports, hook_execute, hook_enqueue,
                                             hook_workspace};

static void install_hooks(void) {
  if (infer_plugin_kernel_hooks() != &hooks) infer_plugin_kernel_set_hooks(&hooks);
}
