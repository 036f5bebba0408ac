/* Caffe layers of types no importer knows, implemented by a registered
 * plugin (called from engine/caffe/caffe_import.c). */
#ifndef INFER_PLUGIN_CAFFE_H
#define INFER_PLUGIN_CAFFE_H

#include "caffe_import.h"
#include "infer/plugin.h"

/* The creator of the highest version whose name is the layer type, or NULL. */
const InferPluginCreator *infer_plugin_caffe_find(const char *type);
/* The current layer as a plugin layer: the fields of its "*_param"
 * messages become the plugin's fields (nested ones as "msg.field",
 * repeated numbers as lists), its bottoms the inputs, its tops the outputs. */
InferStatus *infer_plugin_caffe_import(CaffeImporter *imp, const CaffeNode *layer,
                                       const InferPluginCreator *c);

#endif
