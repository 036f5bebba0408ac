/* Importing Caffe models into a network, as TensorRT's Caffe parser does:
 * a deploy prototxt (the structure), a .caffemodel (the trained weights,
 * matched to the prototxt's layers by layer name) and optionally a
 * mean.binaryproto subtracted from the input.
 *
 * Outputs are named by the caller (blob names); by default they are the
 * blobs some layer produces and no layer consumes. Layers that work in
 * place (top == bottom, as ReLU usually does) are supported: the tensor
 * holding a blob's final value carries the blob's name, earlier values get
 * "<blob>@<layer>" names. */
#ifndef INFER_CAFFE_H
#define INFER_CAFFE_H

#include <stddef.h>

#include "infer/network.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct InferCaffeOptions {
  /* Output blobs by name; n_outputs 0: every blob produced and never consumed. */
  const char *const *outputs;
  int n_outputs;
  /* > 0: replaces the first dim of every input (the batch size). */
  int batch_size;
  /* A mean.binaryproto (BlobProto) whose values are subtracted from an
     input: mean_input, or the first input when NULL. The mean must have the
     input's shape without the batch dim ([C,H,W]; a leading 1 is allowed). */
  const char *mean_file;
  const char *mean_input;
  /* Shapes for inputs by blob name: required for Data-type layers, which
     declare none; they override declared shapes too (batch_size still
     applies on top). */
  const char *const *input_names;
  const InferShape *input_shapes;
  int n_input_shapes;
} InferCaffeOptions;

/* Parses a deploy prototxt and a caffemodel (NULL: no weights file; every
 * parameter blob is then filled with a fixed pseudo-random pattern, enough
 * for building and timing, as trtexec does). opts may be NULL (defaults).
 * Errors name the file and, where it applies, line:column, the layer and
 * its type: "deploy.prototxt:12:3: layer 'conv1' (Convolution): ...". */
InferStatus *infer_caffe_parse(const char *deploy_prototxt, const char *caffemodel,
                               const InferCaffeOptions *opts, InferNetwork **out);

/* The same from memory (model may be NULL, model_size 0). The names are
 * used in messages only; opts->mean_file is still read from disk. */
InferStatus *infer_caffe_parse_memory(const char *deploy_text, size_t deploy_size,
                                      const char *deploy_name, const void *model,
                                      size_t model_size, const char *model_name,
                                      const InferCaffeOptions *opts, InferNetwork **out);

/* Reads a mean.binaryproto (a BlobProto) as f32 of the blob's shape (legacy
 * num/channels/height/width files give a 4-D [N,C,H,W] shape). out->data is
 * malloc'ed; the caller frees it. */
InferStatus *infer_caffe_read_mean(const char *path, InferTensorView *out);

#ifdef __cplusplus
}
#endif
#endif
