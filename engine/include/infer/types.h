/* Element types, shapes and tensor views shared by the engine and kernels. */
#ifndef INFER_TYPES_H
#define INFER_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define INFER_MAX_RANK 8

typedef enum InferDType {
  INFER_DTYPE_UNDEFINED = 0, /* also marks an absent optional input */
  INFER_DTYPE_F32,
  INFER_DTYPE_F16,
  INFER_DTYPE_I8,
  INFER_DTYPE_U8,
  INFER_DTYPE_I32,
  INFER_DTYPE_I64,
  INFER_DTYPE_BOOL, /* one byte, 0 or 1 */
  INFER_DTYPE_COUNT
} InferDType;

/* A dimension of -1 is unknown (dynamic) until shapes are bound. */
typedef struct InferShape {
  int32_t rank;
  int64_t d[INFER_MAX_RANK];
} InferShape;

/* A tensor as kernels see it: dense, row-major, in the backend's memory. */
typedef struct InferTensorView {
  InferDType dtype;
  InferShape shape;
  void *data;
} InferTensorView;

size_t infer_dtype_size(InferDType t);           /* 0 for UNDEFINED */
const char *infer_dtype_name(InferDType t);      /* "f32", "i64", ... */
bool infer_dtype_is_float(InferDType t);

/* Product of dims; -1 if any dim is unknown; 1 for rank 0. */
int64_t infer_shape_numel(const InferShape *s);
bool infer_shape_equal(const InferShape *a, const InferShape *b);
bool infer_shape_is_static(const InferShape *s);
/* "[1,3,224,224]" ("?" for unknown dims) into buf; returns buf. */
char *infer_shape_str(const InferShape *s, char *buf, size_t size);
InferShape infer_shape_make(int32_t rank, const int64_t *dims);

/* A 64-bit hash of bytes (FNV-1a folded with a final mix), chained by seed. */
uint64_t infer_hash64(const void *data, size_t size, uint64_t seed);

/* IEEE half <-> float, round to nearest even. */
float infer_half_to_float(uint16_t h);
uint16_t infer_float_to_half(float f);

#ifdef __cplusplus
}
#endif
#endif
