/* The plugin machinery inside the engine: the creator registry and library
 * loader (plugin_registry.c), the plugin-data table of instances and the
 * kernel hooks (plugin_table.c), plan sections (plugin_plan.c), field lists
 * (plugin_fields.c) and the ONNX and Caffe importer glue (plugin_onnx.c,
 * plugin_caffe.c).
 *
 * The plugin-data table is process-wide: an entry holds a creator, the
 * bytes an instance serialized itself to, and that instance. Layers name
 * their entry by index (InferPluginParams.data_index), so the index stays
 * valid in every copy of a network the builder and the optimizer make.
 * Entries with equal creator and bytes are shared, so building the same
 * model again adds nothing; entries live until the process ends. Plan files
 * store the entries an engine uses in their PLUGINS section, and loading
 * one re-creates them through the registry. */
#ifndef INFER_PLUGIN_INTERNAL_H
#define INFER_PLUGIN_INTERNAL_H

#include <stdint.h>

#include "infer/plugin.h"
#include "kernel_call.h"

/* ---- registry (plugin_registry.c) ---------------------------------------- */

/* Loads the libraries of INFER_PLUGIN_PATH once (every registry entry point
 * does this first). */
void infer_plugin_registry_init(void);
/* "" or "; plugin libraries that failed to load: 'a.so' (reason), ...":
 * appended to errors about unknown ops and plugins, since a library that
 * did not load is the likely cause. Returns buf. */
const char *infer_plugin_load_failures(char *buf, size_t size);
/* The error for a plugin that is not registered, naming it. */
InferStatus *infer_plugin_not_registered(const char *what, const char *name, const char *version);

/* ---- the plugin-data table (plugin_table.c) -------------------------------- */

/* Adds an instance made by creator c for layer `layer` (for messages): its
 * bytes are taken with serialize. Takes the instance over (destroyed when
 * an equal entry exists or on error). */
InferStatus *infer_plugin_table_add(const InferPluginCreator *c, InferPlugin *instance,
                                    const char *layer, int32_t *index);
/* An entry from serialized bytes, through the creator's deserialize. */
InferStatus *infer_plugin_table_add_bytes(const InferPluginCreator *c, const void *bytes,
                                          size_t size, const char *layer, int32_t *index);
/* The creator and bytes of an entry (valid for the process's life); false
 * when index is not an entry. */
bool infer_plugin_table_get(int32_t index, const InferPluginCreator **c, const void **bytes,
                            size_t *size);
/* Params naming an entry. */
void infer_plugin_params_make(const InferPluginCreator *c, int32_t index, InferOpParams *out);
/* The outputs the entry's instance makes. */
int infer_plugin_table_num_outputs(int32_t index);

/* An instance from fields, added to the table, as a layer's params. */
InferStatus *infer_plugin_make_params(const InferPluginCreator *c, const char *layer,
                                      const InferPluginFields *fields, InferOpParams *params,
                                      int *n_outputs);

/* The op table's shape function for INFER_OP_PLUGIN. */
InferStatus *infer_shape_plugin(const InferOpCall *call);

/* ---- plans (plugin_plan.c) --------------------------------------------------- */

/* The PLUGINS section body for a network: the entries its plugin layers
 * use, in first-use order; slots[l] is the section index layer l's params
 * are written with (-1 for other layers). *bytes and *slots are malloc'ed. */
InferStatus *infer_plugin_plan_encode(const InferNetwork *net, uint8_t **bytes, size_t *size,
                                      uint64_t *count, int32_t **slots);
/* Re-creates the entries of a PLUGINS section (`plan` names the file in
 * messages): map[i] is the table index of section entry i. */
InferStatus *infer_plugin_plan_decode(const uint8_t *bytes, size_t size, uint64_t count,
                                      const char *plan, int32_t **map, int32_t *n);
/* A plugin layer's params as read from a plan: checks the name and version
 * are terminated and match the section entry, and swaps the section index
 * for the table index. */
InferStatus *infer_plugin_plan_fix_params(InferOpParams *params, const int32_t *map, int32_t n,
                                          const char *layer, const char *plan);

/* ---- field lists (plugin_fields.c) ------------------------------------------- */

/* A growable list of fields that owns its names, strings and arrays. */
typedef struct InferPluginFieldList {
  InferPluginField *items;
  int32_t n, cap;
  void **owned;
  int32_t n_owned, cap_owned;
  bool oom;
} InferPluginFieldList;

void infer_plugin_fields_add_int(InferPluginFieldList *l, const char *name, int64_t v);
void infer_plugin_fields_add_float(InferPluginFieldList *l, const char *name, double v);
void infer_plugin_fields_add_string(InferPluginFieldList *l, const char *name, const char *s,
                                    size_t len);
void infer_plugin_fields_add_ints(InferPluginFieldList *l, const char *name, const int64_t *v,
                                  int32_t n);
void infer_plugin_fields_add_floats(InferPluginFieldList *l, const char *name, const double *v,
                                    int32_t n);
/* The list as InferPluginFields (valid until it is freed). */
InferPluginFields infer_plugin_fields_view(const InferPluginFieldList *l);
void infer_plugin_fields_free(InferPluginFieldList *l);

#endif
