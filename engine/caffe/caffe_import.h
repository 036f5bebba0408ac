/* What the per-family Caffe layer importers (caffe_layers_<family>.c) see:
 * the current layer's prototxt node, its bottoms as network tensors, its
 * parameter blobs from the caffemodel, known shapes, and functions that
 * emit layers named after the Caffe layer and bind its tops. */
#ifndef INFER_CAFFE_IMPORT_H
#define INFER_CAFFE_IMPORT_H

#include <stdbool.h>

#include "caffe_tree.h"
#include "infer/caffe.h"

typedef struct CaffeImporter CaffeImporter;

/* Sizes above this (dims, kernels, counts) are refused: Caffe stores them
 * as 32-bit values, and the bound keeps shape arithmetic far from int64
 * overflow on hostile files. */
#define CAFFE_MAX_SIZE ((int64_t)1 << 30)

typedef InferStatus *(*CaffeImportFn)(CaffeImporter *imp, const CaffeNode *layer);

typedef struct CaffeLayerImporter {
  const char *type;    /* Caffe's layer type string, e.g. "Convolution" */
  CaffeImportFn import;
} CaffeLayerImporter;

/* Each family file defines its table and count. */
#define CAFFE_IMPORTER_TABLE_DECL(family)                           \
  extern const CaffeLayerImporter infer_caffe_importers_##family[]; \
  extern const size_t infer_caffe_num_importers_##family;
CAFFE_IMPORTER_TABLE_DECL(nn)
CAFFE_IMPORTER_TABLE_DECL(pool)
CAFFE_IMPORTER_TABLE_DECL(elementwise)
CAFFE_IMPORTER_TABLE_DECL(movement)
CAFFE_IMPORTER_TABLE_DECL(io)

/* Imports one layer by dispatching on its type through the tables above
 * (the one place a plugin hook for other types would go). */
InferStatus *caffe_import_layer(CaffeImporter *imp, const CaffeNode *layer);

/* ---- context ------------------------------------------------------------- */
InferNetwork *caffe_network(CaffeImporter *imp);
const char *caffe_file(const CaffeImporter *imp);      /* the prototxt, for messages */
const InferCaffeOptions *caffe_options(const CaffeImporter *imp);
bool caffe_has_model(const CaffeImporter *imp);        /* a caffemodel was given */

/* ---- errors: "<file>:<line>:<col>: layer '<name>' (<type>): <reason>" ------ */
InferStatus *caffe_unsupported(CaffeImporter *imp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
InferStatus *caffe_invalid(CaffeImporter *imp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The same located at a field of the layer instead of the layer itself. */
InferStatus *caffe_field_error(CaffeImporter *imp, const CaffeNode *field, InferStatusCode code,
                               const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Puts the layer in front of another error (from the network, ...). */
InferStatus *caffe_at_layer(CaffeImporter *imp, InferStatus *st);

/* The layer's <name>_param message after checking that it holds only the
 * fields in `known` (NULL-terminated); *out is NULL when absent. */
InferStatus *caffe_layer_param(CaffeImporter *imp, const char *name, const char *const *known,
                               const CaffeNode **out);

/* ---- bottoms and tops ----------------------------------------------------- */
int caffe_num_bottoms(const CaffeImporter *imp);
int caffe_num_tops(const CaffeImporter *imp);
/* Errors unless the layer has min..max bottoms and tops (max -1: any). */
InferStatus *caffe_check_io(CaffeImporter *imp, int min_bottoms, int max_bottoms, int min_tops,
                            int max_tops);
/* The tensor holding bottom i's current value; marks the blob consumed. */
InferStatus *caffe_bottom(CaffeImporter *imp, int i, InferTensorId *out);
const char *caffe_top_name(const CaffeImporter *imp, int i);
/* A tensor's dtype and shape (every tensor the importer made has both). */
InferShape caffe_shape(const CaffeImporter *imp, InferTensorId t);

/* ---- new constants, named "<layer>/<suffix>" ------------------------------- */
InferStatus *caffe_add_constant(CaffeImporter *imp, const char *suffix, InferDType dtype,
                                const InferShape *shape, const void *data, InferTensorId *out);
InferStatus *caffe_add_ints(CaffeImporter *imp, const char *suffix, int n, const int64_t *values,
                            InferTensorId *out);
InferStatus *caffe_add_scalar(CaffeImporter *imp, const char *suffix, float value,
                              InferTensorId *out);

/* ---- emitting layers ---------------------------------------------------- */
/* An intermediate layer named "<layer>/<suffix>" (suffix NULL: "<layer>")
 * with generated output names, returned in outputs. */
InferStatus *caffe_emit(CaffeImporter *imp, const char *suffix, InferOp op,
                        const InferOpParams *params, int n_inputs, const InferTensorId *inputs,
                        int n_outputs, InferTensorId *outputs);
/* The layer producing tops first_top .. first_top + n_outputs - 1: its
 * outputs are named after them and bound as their new values. */
InferStatus *caffe_emit_tops(CaffeImporter *imp, const char *suffix, InferOp op,
                             const InferOpParams *params, int n_inputs,
                             const InferTensorId *inputs, int n_outputs, int first_top);
/* Binds top i to x through an identity layer (Dropout, Split, ...). */
InferStatus *caffe_emit_identity(CaffeImporter *imp, int top, InferTensorId x);

/* ---- parameter blobs from the caffemodel ------------------------------------ */
/* Errors unless the caffemodel gives the layer exactly n blobs (`what`
 * lists them for the message, e.g. "weights and bias"). Without a
 * caffemodel, succeeds: blobs are then synthesized. */
InferStatus *caffe_expect_blobs(CaffeImporter *imp, int n, const char *what);
/* Blob i as malloc'ed f32 values after checking its shape against
 * `expected` (Caffe's rule: equal shapes, or legacy num/channels/height/
 * width equal to `expected` padded with leading 1s to 4-D). */
InferStatus *caffe_blob_data(CaffeImporter *imp, int i, const InferShape *expected, float **out);
/* Blob i (checked against `expected`) as a constant of shape ir_shape
 * (same element count; NULL: expected) named "<layer>/<suffix>". */
InferStatus *caffe_blob_constant(CaffeImporter *imp, int i, const InferShape *expected,
                                 const InferShape *ir_shape, const char *suffix,
                                 InferTensorId *out);

/* ---- inputs --------------------------------------------------------------- */
/* A network input for top blob `name` declared with `declared` (rank 0:
 * none); the options' shape for it wins, batch_size applies, and the mean
 * is subtracted when it is the mean input. `where` locates errors. */
InferStatus *caffe_add_input(CaffeImporter *imp, const CaffeNode *where, const char *name,
                             const InferShape *declared);

/* "20x1x5x5" (a scalar: "scalar") into buf. */
const char *caffe_shape_str(const InferShape *s, char *buf, size_t size);

#endif
