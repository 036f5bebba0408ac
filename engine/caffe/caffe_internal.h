/* Pieces of the Caffe importer shared between its own files: the importer
 * state, the blob-name table, and the binary (caffemodel / binaryproto)
 * readers. Layer importers use caffe_import.h only. */
#ifndef INFER_CAFFE_INTERNAL_H
#define INFER_CAFFE_INTERNAL_H

#include <stdint.h>

#include "caffe.pb-c.h"
#include "caffe_import.h"
#include "network_internal.h"

typedef InferCaffe__NetParameter CaffeModel;
typedef InferCaffe__LayerParameter CaffeModelLayer;
typedef InferCaffe__BlobProto CaffeBlobProto;

/* A blob name of the prototxt and the tensor holding its current value. */
typedef struct CaffeBlobSlot {
  char *name;
  InferTensorId tensor;  /* INFER_NO_TENSOR until produced */
  int remaining;         /* productions still to come (counted up front) */
  bool consumed;         /* the current value has been read by a layer */
  int64_t order;         /* when the current value was produced */
} CaffeBlobSlot;

struct CaffeImporter {
  const char *file;            /* prototxt name, for messages */
  const char *model_file;      /* caffemodel name, for messages */
  const InferCaffeOptions *opts;
  InferNetwork *net;
  const CaffeModel *model;     /* NULL: synthesize blobs */
  /* the layer being imported */
  const CaffeNode *layer;
  const char *layer_name, *layer_type;
  const CaffeModelLayer *weights; /* its entry in the caffemodel, or NULL */
  /* blob names */
  CaffeBlobSlot *slots;
  size_t n_slots, cap_slots;
  int64_t productions;
  /* dtype and shape of every tensor, by id */
  InferDType *dtypes;
  InferShape *shapes;
  size_t cap_shapes;
  /* the mean subtracted from mean_input (data NULL: none) */
  InferTensorView mean;
  bool mean_applied;
};

/* The slot of a blob name (created when `create`), NULL when absent or out
 * of memory (create: the caller reports out of memory). */
CaffeBlobSlot *caffe_slot(CaffeImporter *imp, const char *name, bool create);
/* Records a new tensor's dtype and shape. */
InferStatus *caffe_record(CaffeImporter *imp, InferTensorId t, InferDType dtype,
                          const InferShape *shape);
/* Binds a blob name to a tensor as its newest value. */
InferStatus *caffe_bind(CaffeImporter *imp, const char *blob, InferTensorId t);
/* The name for a new value of blob `blob` made by the current layer: the
 * blob's own name for its last production, else "<blob>@<layer>". */
char *caffe_value_name(CaffeImporter *imp, const char *blob);

/* ---- caffe_model.c ----------------------------------------------------------- */
InferStatus *caffe_read_file(const char *path, uint8_t **data, size_t *size);
/* Decodes a caffemodel; refuses the legacy V1 format. */
InferStatus *caffe_model_decode(const void *data, size_t size, const char *name, CaffeModel **out);
void caffe_model_free(CaffeModel *m);
/* The model's layer of that name (the last one, as Caffe's copy keeps). */
const CaffeModelLayer *caffe_model_find(const CaffeModel *m, const char *layer);
/* A blob's shape (legacy 4-D when num/channels/height/width are set) and
 * its values as malloc'ed f32; errors name the blob via `what`. */
InferStatus *caffe_blob_read(const CaffeBlobProto *b, const char *what, InferShape *shape,
                             bool *legacy, float **data);
/* Deterministic filler values for blobs when no caffemodel is given. */
void caffe_fill_synthetic(float *data, int64_t n, const char *layer, int blob);

#endif
