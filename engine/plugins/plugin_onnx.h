/* ONNX nodes that a registered plugin implements (called from the graph
 * importer, engine/onnx/onnx_graph.c). */
#ifndef INFER_PLUGIN_ONNX_H
#define INFER_PLUGIN_ONNX_H

#include "infer/plugin.h"
#include "onnx_import.h"

/* The creator for a node: name = op type, its onnx_domain (when set) equal
 * to the node's domain, version = the node's "plugin_version" attribute
 * (absent: the highest registered). NULL when none. */
const InferPluginCreator *infer_plugin_onnx_find(const OnnxNode *node);
/* The node as a plugin layer named `layer`: its attributes (but
 * plugin_version) become the fields, its inputs the layer's inputs. */
InferStatus *infer_plugin_onnx_import(OnnxImporter *imp, const OnnxNode *node,
                                      const InferPluginCreator *c, const char *layer);

#endif
