/* Caffe layers that bring data into the net: Input (shapes from
 * input_param), MemoryData (shape from its parameters) and the
 * database-reading layers (Data, ImageData, ...), which declare no shape:
 * only their first top (the data) becomes an input, with the shape given
 * in the options; the label top is left unproduced. */
#include <string.h>

#include "caffe_import.h"

static InferStatus *top_string(CaffeImporter *imp, int i, const char **out) {
  *out = caffe_top_name(imp, i);
  if (!*out) return caffe_invalid(imp, "top %d must be a quoted name", i);
  return NULL;
}

static InferStatus *read_blob_shape(CaffeImporter *imp, const CaffeNode *shape, InferShape *out) {
  static const char *const known[] = {"dim", NULL};
  if (shape->kind != CAFFE_VALUE_MESSAGE)
    return caffe_field_error(imp, shape, INFER_ERR_PARSE, "'shape' must be a message");
  INFER_TRY(caffe_check_fields(caffe_file(imp), shape, "shape", known));
  int n;
  memset(out, 0, sizeof *out);
  INFER_TRY(caffe_get_ints(caffe_file(imp), shape, "dim", out->d, INFER_MAX_RANK, &n));
  out->rank = n;
  return NULL;
}

static InferStatus *import_input(CaffeImporter *imp, const CaffeNode *layer) {
  static const char *const known[] = {"shape", NULL};
  const CaffeNode *p;
  INFER_TRY(caffe_check_io(imp, 0, 0, 1, -1));
  INFER_TRY(caffe_layer_param(imp, "input_param", known, &p));
  int n_shapes = caffe_count(p, "shape"), n_tops = caffe_num_tops(imp);
  /* Caffe: no shape, one shape for every top, or one per top */
  if (n_shapes > 1 && n_shapes != n_tops)
    return caffe_invalid(imp, "has %d tops but %d shapes", n_tops, n_shapes);
  const CaffeNode *shape = caffe_next(p, "shape", NULL);
  for (int i = 0; i < n_tops; i++) {
    InferShape s = {0, {0}};
    if (shape) INFER_TRY(read_blob_shape(imp, shape, &s));
    if (n_shapes > 1) shape = caffe_next(p, "shape", shape);
    const char *name;
    INFER_TRY(top_string(imp, i, &name));
    INFER_TRY(caffe_add_input(imp, layer, name, &s));
  }
  return NULL;
}

static InferStatus *import_memory_data(CaffeImporter *imp, const CaffeNode *layer) {
  static const char *const known[] = {"batch_size", "channels", "height", "width", NULL};
  const CaffeNode *p;
  INFER_TRY(caffe_check_io(imp, 0, 0, 1, 2));
  INFER_TRY(caffe_layer_param(imp, "memory_data_param", known, &p));
  InferShape s = {4, {0}};
  static const char *const dims[] = {"batch_size", "channels", "height", "width"};
  for (int i = 0; i < 4; i++) INFER_TRY(caffe_get_int(caffe_file(imp), p, dims[i], 0, &s.d[i]));
  const char *name;
  INFER_TRY(top_string(imp, 0, &name));
  return caffe_add_input(imp, layer, name, &s);
}

/* Data, ImageData, ...: no shape in the prototxt (it comes from the
 * database); the options must give it. Their parameters are not read. */
static InferStatus *import_data(CaffeImporter *imp, const CaffeNode *layer) {
  INFER_TRY(caffe_check_io(imp, 0, 0, 1, 2));
  const char *name;
  INFER_TRY(top_string(imp, 0, &name));
  InferShape none = {0, {0}};
  return caffe_add_input(imp, layer, name, &none);
}

const CaffeLayerImporter infer_caffe_importers_io[] = {
  {"Input", import_input},
  {"MemoryData", import_memory_data},
  {"Data", import_data},
  {"ImageData", import_data},
  {"HDF5Data", import_data},
  {"WindowData", import_data},
  {"AnnotatedData", import_data},
};
const size_t infer_caffe_num_importers_io =
    sizeof infer_caffe_importers_io / sizeof infer_caffe_importers_io[0];
