/* The binary side of Caffe import: caffemodel decoding (protobuf-c with our
 * caffe.proto subset), parameter blobs matched to prototxt layers by layer
 * name with Caffe's shape rule, and mean.binaryproto files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "caffe_internal.h"

InferStatus *caffe_read_file(const char *path, uint8_t **data, size_t *size) {
  *data = NULL;
  *size = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return infer_status_new(INFER_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
  struct stat stt;
  if (fstat(fileno(f), &stt) != 0 || !S_ISREG(stt.st_mode)) {
    fclose(f);
    return infer_status_new(INFER_ERR_IO, "'%s' is not a regular file", path);
  }
  /* protobuf messages cannot exceed 2 GiB, and neither do Caffe files */
  if ((uint64_t)stt.st_size > ((uint64_t)2 << 30)) {
    fclose(f);
    return infer_status_new(INFER_ERR_UNSUPPORTED, "'%s' is over 2 GiB", path);
  }
  size_t n = (size_t)stt.st_size;
  uint8_t *buf = malloc(n ? n : 1);
  if (!buf) {
    fclose(f);
    return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "cannot read '%s': out of memory", path);
  }
  if (fread(buf, 1, n, f) != n) {
    fclose(f);
    free(buf);
    return infer_status_new(INFER_ERR_IO, "cannot read '%s'", path);
  }
  fclose(f);
  *data = buf;
  *size = n;
  return NULL;
}

InferStatus *caffe_model_decode(const void *data, size_t size, const char *name, CaffeModel **out) {
  *out = NULL;
  if (size == 0)
    return infer_status_new(INFER_ERR_PARSE, "%s: the file is empty, not a caffemodel", name);
  CaffeModel *m = infer_caffe__net_parameter__unpack(NULL, size, data);
  if (!m)
    return infer_status_new(INFER_ERR_PARSE, "%s: not a caffemodel (the protobuf data is malformed "
                            "or truncated)", name);
  if (m->n_layers > 0 && m->n_layer == 0) {
    infer_caffe__net_parameter__free_unpacked(m, NULL);
    return infer_status_new(INFER_ERR_UNSUPPORTED,
                            "%s: the caffemodel uses the legacy V1 format ('layers' of "
                            "V1LayerParameter), which is not supported; convert it with Caffe's "
                            "upgrade_net_proto_binary tool", name);
  }
  if (m->n_layer == 0) {
    infer_caffe__net_parameter__free_unpacked(m, NULL);
    return infer_status_new(INFER_ERR_PARSE, "%s: the caffemodel has no layers", name);
  }
  *out = m;
  return NULL;
}

void caffe_model_free(CaffeModel *m) {
  if (m) infer_caffe__net_parameter__free_unpacked(m, NULL);
}

const CaffeModelLayer *caffe_model_find(const CaffeModel *m, const char *layer) {
  if (!m) return NULL;
  for (size_t i = m->n_layer; i-- > 0;)
    if (m->layer[i]->name && strcmp(m->layer[i]->name, layer) == 0) return m->layer[i];
  return NULL;
}

InferStatus *caffe_blob_read(const CaffeBlobProto *b, const char *what, InferShape *shape,
                             bool *legacy, float **data) {
  *data = NULL;
  memset(shape, 0, sizeof *shape);
  /* Caffe reads num/channels/height/width whenever one of them is set */
  *legacy = b->has_num || b->has_channels || b->has_height || b->has_width;
  if (*legacy) {
    shape->rank = 4;
    shape->d[0] = b->num;
    shape->d[1] = b->channels;
    shape->d[2] = b->height;
    shape->d[3] = b->width;
  } else if (b->shape) {
    if (b->shape->n_dim > INFER_MAX_RANK)
      return infer_status_new(INFER_ERR_UNSUPPORTED, "%s has %zu dims (at most %d)", what,
                              b->shape->n_dim, INFER_MAX_RANK);
    shape->rank = (int32_t)b->shape->n_dim;
    for (size_t i = 0; i < b->shape->n_dim; i++) shape->d[i] = b->shape->dim[i];
  }
  int64_t count = 1;
  for (int i = 0; i < shape->rank; i++) {
    if (shape->d[i] < 0 || (shape->d[i] > 0 && count > INT64_MAX / 8 / shape->d[i]))
      return infer_status_new(INFER_ERR_PARSE, "%s has an invalid shape", what);
    count *= shape->d[i];
  }
  size_t have = b->n_double_data ? b->n_double_data : b->n_data;
  if ((uint64_t)count != (uint64_t)have)
    return infer_status_new(INFER_ERR_PARSE, "%s has %zu values, its shape needs %lld", what, have,
                            (long long)count);
  float *v = malloc(have ? have * sizeof *v : 1);
  if (!v) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "%s: out of memory", what);
  for (size_t i = 0; i < have; i++) v[i] = b->n_double_data ? (float)b->double_data[i] : b->data[i];
  *data = v;
  return NULL;
}

/* A small LCG keyed by the layer name and blob index: values in [-0.1, 0.1). */
void caffe_fill_synthetic(float *data, int64_t n, const char *layer, int blob) {
  uint64_t s = infer_hash64(layer, strlen(layer), (uint64_t)blob + 1);
  for (int64_t i = 0; i < n; i++) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    data[i] = (float)((double)(s >> 40) / (double)(1ull << 24) * 0.2 - 0.1);
  }
}

/* Caffe's rule for copying a trained blob into a layer: equal shapes, or a
 * legacy 4-D blob equal to the needed shape padded with leading 1s. */
static bool shape_matches(const InferShape *have, bool legacy, const InferShape *need) {
  if (!legacy) return infer_shape_equal(have, need);
  if (need->rank > 4) return false;
  for (int i = 0; i < 4; i++) {
    int k = i - (4 - need->rank);
    int64_t want = k < 0 ? 1 : need->d[k];
    if (have->d[i] != want) return false;
  }
  return true;
}

const char *caffe_shape_str(const InferShape *s, char *buf, size_t size) {
  if (s->rank == 0) {
    snprintf(buf, size, "scalar");
    return buf;
  }
  size_t used = 0;
  buf[0] = 0;
  for (int i = 0; i < s->rank && used < size; i++)
    used += (size_t)snprintf(buf + used, size - used, "%s%lld", i ? "x" : "", (long long)s->d[i]);
  return buf;
}

InferStatus *caffe_expect_blobs(CaffeImporter *imp, int n, const char *what) {
  if (!imp->model) return NULL;
  if (!imp->weights)
    return infer_status_new(INFER_ERR_PARSE, "%s: layer '%s' (%s): the caffemodel has no layer of "
                            "that name, so no %s for it", imp->model_file, imp->layer_name,
                            imp->layer_type, what);
  if (imp->weights->n_blobs != (size_t)n)
    return infer_status_new(INFER_ERR_PARSE, "%s: layer '%s' (%s): the caffemodel gives %zu "
                            "blob(s), the prototxt needs %d (%s)", imp->model_file, imp->layer_name,
                            imp->layer_type, imp->weights->n_blobs, n, what);
  return NULL;
}

InferStatus *caffe_blob_data(CaffeImporter *imp, int i, const InferShape *expected, float **out) {
  *out = NULL;
  int64_t count = infer_shape_numel(expected);
  if (count < 0) return caffe_invalid(imp, "blob %d has an unknown shape", i);
  if (!imp->model) {
    float *v = malloc(count ? (size_t)count * sizeof *v : 1);
    if (!v) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "%s: out of memory", imp->file);
    caffe_fill_synthetic(v, count, imp->layer_name, i);
    *out = v;
    return NULL;
  }
  if (!imp->weights || (size_t)i >= imp->weights->n_blobs)
    return infer_status_new(INFER_ERR_PARSE, "%s: layer '%s' (%s): the caffemodel has no blob %d",
                            imp->model_file, imp->layer_name, imp->layer_type, i);
  char what[600];
  snprintf(what, sizeof what, "%s: layer '%s' (%s): blob %d", imp->model_file, imp->layer_name,
           imp->layer_type, i);
  InferShape have;
  bool legacy;
  float *v;
  INFER_TRY(caffe_blob_read(imp->weights->blobs[i], what, &have, &legacy, &v));
  if (!shape_matches(&have, legacy, expected)) {
    char a[128], b[128];
    free(v);
    return infer_status_new(INFER_ERR_PARSE, "%s has shape %s, the prototxt needs %s", what,
                            caffe_shape_str(&have, a, sizeof a),
                            caffe_shape_str(expected, b, sizeof b));
  }
  *out = v;
  return NULL;
}

InferStatus *caffe_blob_constant(CaffeImporter *imp, int i, const InferShape *expected,
                                 const InferShape *ir_shape, const char *suffix,
                                 InferTensorId *out) {
  float *v;
  INFER_TRY(caffe_blob_data(imp, i, expected, &v));
  const InferShape *s = ir_shape ? ir_shape : expected;
  InferStatus *st = NULL;
  if (infer_shape_numel(s) != infer_shape_numel(expected))
    st = infer_status_new(INFER_ERR_INTERNAL, "layer '%s': blob %d reshaped to another size",
                          imp->layer_name, i);
  if (!st) st = caffe_add_constant(imp, suffix, INFER_DTYPE_F32, s, v, out);
  free(v);
  return st;
}

InferStatus *infer_caffe_read_mean(const char *path, InferTensorView *out) {
  memset(out, 0, sizeof *out);
  if (!path) return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "no mean file given");
  uint8_t *buf;
  size_t size;
  INFER_TRY(caffe_read_file(path, &buf, &size));
  CaffeBlobProto *b = infer_caffe__blob_proto__unpack(NULL, size, buf);
  free(buf);
  if (!b)
    return infer_status_new(INFER_ERR_PARSE, "%s: not a binaryproto mean file (the protobuf data "
                            "is malformed or truncated)", path);
  char what[4200];
  snprintf(what, sizeof what, "%s: the mean blob", path);
  bool legacy;
  float *v;
  InferStatus *st = caffe_blob_read(b, what, &out->shape, &legacy, &v);
  infer_caffe__blob_proto__free_unpacked(b, NULL);
  if (!st && infer_shape_numel(&out->shape) <= 0) {
    free(v);
    st = infer_status_new(INFER_ERR_PARSE, "%s: the mean blob is empty", path);
  }
  if (st) return st;
  out->dtype = INFER_DTYPE_F32;
  out->data = v;
  return NULL;
}
