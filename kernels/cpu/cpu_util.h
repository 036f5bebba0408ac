/* Small helpers for the CPU reference kernels. Clarity over speed. */
#ifndef INFER_CPU_UTIL_H
#define INFER_CPU_UTIL_H

#include <string.h>

#include "cpu_kernels.h"

/* Row-major strides (in elements) of a shape. */
static inline void infer_cpu_strides(const InferShape *s, int64_t *strides) {
  int64_t st = 1;
  for (int i = s->rank - 1; i >= 0; i--) {
    strides[i] = st;
    st *= s->d[i];
  }
}

/* Strides of `in` broadcast to `out` (0 along broadcast dims), right-aligned. */
static inline void infer_cpu_broadcast_strides(const InferShape *in, const InferShape *out,
                                               int64_t *strides) {
  int64_t own[INFER_MAX_RANK];
  infer_cpu_strides(in, own);
  int off = out->rank - in->rank;
  for (int i = 0; i < out->rank; i++) {
    int j = i - off;
    strides[i] = (j < 0 || in->d[j] == 1) ? 0 : own[j];
  }
}

/* Offset of linear output index `idx` given per-dim strides of an input. */
static inline int64_t infer_cpu_offset(const InferShape *out, const int64_t *strides, int64_t idx) {
  int64_t off = 0;
  for (int i = out->rank - 1; i >= 0; i--) {
    int64_t d = out->d[i];
    if (d > 0) {
      off += (idx % d) * strides[i];
      idx /= d;
    }
  }
  return off;
}

/* Element i of any numeric dtype as double, and the reverse (C conversion
 * rules: float to integer truncates; callers round first where needed). */
double infer_cpu_load(const void *data, InferDType t, int64_t i);
void infer_cpu_store(void *data, InferDType t, int64_t i, double v);

/* The standard "dtype not supported" error for input `input`. */
InferStatus *infer_cpu_unsupported_dtype(const InferOpCall *c, int input);
/* Returns an error unless in[input] has one of the listed dtypes. */
InferStatus *infer_cpu_require_dtype(const InferOpCall *c, int input, int n, const InferDType *ok);

#define INFER_CPU_REQUIRE(call, input, ...)                                                    \
  do {                                                                                      \
    static const InferDType infer_ok_[] = {__VA_ARGS__};                                    \
    INFER_TRY(infer_cpu_require_dtype((call), (input),                                      \
                                      (int)(sizeof infer_ok_ / sizeof infer_ok_[0]), infer_ok_)); \
  } while (0)

#endif
