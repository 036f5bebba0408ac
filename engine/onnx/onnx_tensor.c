/* TensorProto decoding: element types, inline and external data. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "network_internal.h"
#include "onnx_internal.h"

/* A tensor larger than this is refused before anything is allocated. */
#define MAX_TENSOR_BYTES ((uint64_t)16 << 30)

InferDType onnx_dtype(int32_t t) {
  switch (t) {
    case 1: return INFER_DTYPE_F32;
    case 2: return INFER_DTYPE_U8;
    case 3: return INFER_DTYPE_I8;
    case 6: return INFER_DTYPE_I32;
    case 7: return INFER_DTYPE_I64;
    case 9: return INFER_DTYPE_BOOL;
    case 10: return INFER_DTYPE_F16;
    default: return INFER_DTYPE_UNDEFINED;
  }
}

const char *onnx_dtype_name(int32_t t) {
  static const char *names[] = {"UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32",
                                "INT64", "STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32",
                                "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16"};
  if (t >= 0 && t < (int32_t)(sizeof names / sizeof names[0])) return names[t];
  return t <= 23 ? "FLOAT8/INT4 family" : "unknown";
}

/* A relative path inside the model's folder; absolute paths and ".." are refused
 * so a model cannot make the parser read arbitrary files. */
static bool safe_relative_path(const char *p) {
  if (!p || !*p || p[0] == '/') return false;
  const char *s = p;
  while (*s) {
    const char *e = strchr(s, '/');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    if (n == 2 && s[0] == '.' && s[1] == '.') return false;
    if (!e) break;
    s = e + 1;
  }
  return true;
}

/* Checks the file before allocating (*dst, malloc'ed), so that a tiny model
 * declaring a huge tensor fails without asking for the memory. */
static InferStatus *read_external(const Onnx__TensorProto *tp, const char *base_dir,
                                  const char *file, const char *tname, void **dst,
                                  uint64_t bytes) {
  const char *location = NULL;
  uint64_t offset = 0, length = bytes;
  bool has_length = false;
  for (size_t i = 0; i < tp->n_external_data; i++) {
    const Onnx__StringStringEntryProto *kv = tp->external_data[i];
    if (!kv->key || !kv->value) continue;
    if (strcmp(kv->key, "location") == 0) location = kv->value;
    else if (strcmp(kv->key, "offset") == 0) offset = strtoull(kv->value, NULL, 10);
    else if (strcmp(kv->key, "length") == 0) { length = strtoull(kv->value, NULL, 10); has_length = true; }
  }
  if (!safe_relative_path(location))
    return infer_status_new(INFER_ERR_PARSE,
                            "%s: tensor '%s': external data location '%s' must be a relative path "
                            "inside the model's folder", file, tname, location ? location : "");
  if (has_length && length != bytes)
    return infer_status_new(INFER_ERR_PARSE,
                            "%s: tensor '%s': external data length %llu does not match its shape "
                            "(%llu bytes)", file, tname, (unsigned long long)length,
                            (unsigned long long)bytes);
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", base_dir && *base_dir ? base_dir : ".", location);
  FILE *f = fopen(path, "rb");
  if (!f)
    return infer_status_new(INFER_ERR_IO, "%s: tensor '%s': cannot open external data '%s': %s",
                            file, tname, path, strerror(errno));
  struct stat stt;
  InferStatus *st = NULL;
  if (fstat(fileno(f), &stt) != 0 || offset > (uint64_t)stt.st_size ||
      (uint64_t)stt.st_size - offset < bytes)
    st = infer_status_new(INFER_ERR_IO,
                          "%s: tensor '%s': external data '%s' is shorter than offset %llu + %llu "
                          "bytes", file, tname, path, (unsigned long long)offset,
                          (unsigned long long)bytes);
  else if (!(*dst = infer_aligned_alloc((size_t)bytes)))
    st = infer_status_new(INFER_ERR_OUT_OF_MEMORY, "%s: tensor '%s': cannot allocate %llu bytes",
                          file, tname, (unsigned long long)bytes);
  else if (fseeko(f, (off_t)offset, SEEK_SET) != 0 || fread(*dst, 1, bytes, f) != bytes)
    st = infer_status_new(INFER_ERR_IO, "%s: tensor '%s': cannot read external data '%s'", file,
                          tname, path);
  fclose(f);
  return st;
}

/* The typed repeated field must hold exactly n values (checked before
 * anything is allocated for them). */
static InferStatus *check_typed_count(const Onnx__TensorProto *tp, InferDType dt, int64_t n,
                                      const char *file, const char *tname) {
  size_t count;
  switch (dt) {
    case INFER_DTYPE_F32: count = tp->n_float_data; break;
    case INFER_DTYPE_I64: count = tp->n_int64_data; break;
    default: count = tp->n_int32_data; break;
  }
  if ((int64_t)count != n)
    return infer_status_new(INFER_ERR_PARSE, "%s: tensor '%s' holds %zu values, its shape needs %lld",
                            file, tname, count, (long long)n);
  return NULL;
}

/* Copies typed repeated-field data (count checked) into dst. */
static void copy_typed(const Onnx__TensorProto *tp, InferDType dt, int64_t n, void *dst) {
  for (int64_t i = 0; i < n; i++) {
    switch (dt) {
      case INFER_DTYPE_F32: ((float *)dst)[i] = tp->float_data[i]; break;
      case INFER_DTYPE_I64: ((int64_t *)dst)[i] = tp->int64_data[i]; break;
      case INFER_DTYPE_I32: ((int32_t *)dst)[i] = tp->int32_data[i]; break;
      case INFER_DTYPE_F16: ((uint16_t *)dst)[i] = (uint16_t)tp->int32_data[i]; break;
      case INFER_DTYPE_I8: ((int8_t *)dst)[i] = (int8_t)tp->int32_data[i]; break;
      case INFER_DTYPE_U8: ((uint8_t *)dst)[i] = (uint8_t)tp->int32_data[i]; break;
      case INFER_DTYPE_BOOL: ((uint8_t *)dst)[i] = tp->int32_data[i] != 0; break;
      default: break;
    }
  }
}

InferStatus *onnx_tensor_to_view(const Onnx__TensorProto *tp, const char *base_dir,
                                 const char *file, InferTensorView *out) {
  const char *tname = tp->name ? tp->name : "";
  memset(out, 0, sizeof *out);
  InferDType dt = onnx_dtype(tp->data_type);
  if (dt == INFER_DTYPE_UNDEFINED)
    return infer_status_new(INFER_ERR_UNSUPPORTED, "%s: tensor '%s' has element type %s, which is "
                            "not supported", file, tname, onnx_dtype_name(tp->data_type));
  if (tp->n_dims > INFER_MAX_RANK)
    return infer_status_new(INFER_ERR_UNSUPPORTED, "%s: tensor '%s' has rank %zu (at most %d)",
                            file, tname, tp->n_dims, INFER_MAX_RANK);
  uint64_t n = 1;
  for (size_t i = 0; i < tp->n_dims; i++) {
    if (tp->dims[i] < 0 || (tp->dims[i] > 0 && n > MAX_TENSOR_BYTES / (uint64_t)tp->dims[i]))
      return infer_status_new(INFER_ERR_PARSE, "%s: tensor '%s' has an invalid or huge dimension %lld",
                              file, tname, (long long)tp->dims[i]);
    n *= (uint64_t)tp->dims[i];
  }
  uint64_t bytes = n * infer_dtype_size(dt);
  if (bytes > MAX_TENSOR_BYTES)
    return infer_status_new(INFER_ERR_UNSUPPORTED, "%s: tensor '%s' is %llu bytes, over the limit",
                            file, tname, (unsigned long long)bytes);
  bool external = tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  if (!external && tp->has_raw_data && tp->raw_data.len != bytes)
    return infer_status_new(INFER_ERR_PARSE, "%s: tensor '%s' has %zu bytes of data, its shape needs %llu",
                            file, tname, tp->raw_data.len, (unsigned long long)bytes);
  void *data = NULL;
  if (external) {
    InferStatus *st = read_external(tp, base_dir, file, tname, &data, bytes);
    if (st) {
      free(data);
      return st;
    }
  } else {
    if (!tp->has_raw_data) INFER_TRY(check_typed_count(tp, dt, (int64_t)n, file, tname));
    data = infer_aligned_alloc((size_t)bytes);
    if (!data)
      return infer_status_new(INFER_ERR_OUT_OF_MEMORY,
                              "%s: tensor '%s': cannot allocate %llu bytes", file, tname,
                              (unsigned long long)bytes);
    if (tp->has_raw_data)
      memcpy(data, tp->raw_data.data ? (const void *)tp->raw_data.data : "",
             (size_t)(tp->raw_data.data ? bytes : 0));
    else
      copy_typed(tp, dt, (int64_t)n, data);
  }
  out->dtype = dt;
  out->shape.rank = (int32_t)tp->n_dims;
  for (size_t i = 0; i < tp->n_dims; i++) out->shape.d[i] = tp->dims[i];
  out->data = data;
  return NULL;
}

InferStatus *onnx_read_file(const char *path, uint8_t **data, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) return infer_status_new(INFER_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
  struct stat stt;
  if (fstat(fileno(f), &stt) != 0 || !S_ISREG(stt.st_mode)) {
    fclose(f);
    return infer_status_new(INFER_ERR_IO, "'%s' is not a regular file", path);
  }
  if ((uint64_t)stt.st_size > ((uint64_t)2 << 30)) {
    fclose(f);
    return infer_status_new(INFER_ERR_UNSUPPORTED, "'%s' is over 2 GiB (protobuf's limit); store "
                            "weights as external data", path);
  }
  *size = (size_t)stt.st_size;
  *data = malloc(*size ? *size : 1);
  if (!*data) {
    fclose(f);
    return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "cannot read '%s': out of memory", path);
  }
  if (fread(*data, 1, *size, f) != *size) {
    fclose(f);
    free(*data);
    return infer_status_new(INFER_ERR_IO, "cannot read '%s'", path);
  }
  fclose(f);
  return NULL;
}

InferStatus *infer_onnx_read_tensor_file(const char *path, InferTensorView *out, char **name) {
  uint8_t *buf;
  size_t size;
  if (name) *name = NULL;
  INFER_TRY(onnx_read_file(path, &buf, &size));
  Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, size, buf);
  free(buf);
  if (!tp) return infer_status_new(INFER_ERR_PARSE, "'%s' is not a serialized ONNX tensor", path);
  InferStatus *st = onnx_tensor_to_view(tp, NULL, path, out);
  if (!st && name && tp->name) *name = strdup(tp->name);
  onnx__tensor_proto__free_unpacked(tp, NULL);
  return st;
}

static int32_t onnx_type_of(InferDType t) {
  switch (t) {
    case INFER_DTYPE_F32: return 1;
    case INFER_DTYPE_U8: return 2;
    case INFER_DTYPE_I8: return 3;
    case INFER_DTYPE_I32: return 6;
    case INFER_DTYPE_I64: return 7;
    case INFER_DTYPE_BOOL: return 9;
    case INFER_DTYPE_F16: return 10;
    default: return 0;
  }
}

InferStatus *infer_onnx_write_tensor_file(const char *path, const char *name,
                                          const InferTensorView *v) {
  Onnx__TensorProto tp = ONNX__TENSOR_PROTO__INIT;
  int64_t dims[INFER_MAX_RANK];
  int64_t n = infer_shape_numel(&v->shape);
  if (n < 0 || onnx_type_of(v->dtype) == 0)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "%s: cannot write tensor '%s'", path, name);
  for (int i = 0; i < v->shape.rank; i++) dims[i] = v->shape.d[i];
  tp.n_dims = (size_t)v->shape.rank;
  tp.dims = dims;
  tp.has_data_type = 1;
  tp.data_type = onnx_type_of(v->dtype);
  tp.name = (char *)name;
  tp.has_raw_data = 1;
  tp.raw_data.len = (size_t)n * infer_dtype_size(v->dtype);
  tp.raw_data.data = v->data;
  size_t size = onnx__tensor_proto__get_packed_size(&tp);
  uint8_t *buf = malloc(size ? size : 1);
  if (!buf) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
  onnx__tensor_proto__pack(&tp, buf);
  FILE *f = fopen(path, "wb");
  InferStatus *st = NULL;
  if (!f) st = infer_status_new(INFER_ERR_IO, "cannot create '%s': %s", path, strerror(errno));
  else if (fwrite(buf, 1, size, f) != size) st = infer_status_new(INFER_ERR_IO, "cannot write '%s'", path);
  if (f && fclose(f) != 0 && !st) st = infer_status_new(INFER_ERR_IO, "cannot write '%s'", path);
  free(buf);
  return st;
}
