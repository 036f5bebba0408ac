/* Element types, shapes and half-precision conversion. */
#include "infer/types.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

size_t infer_dtype_size(InferDType t) {
  switch (t) {
    case INFER_DTYPE_F32: return 4;
    case INFER_DTYPE_F16: return 2;
    case INFER_DTYPE_I8: return 1;
    case INFER_DTYPE_U8: return 1;
    case INFER_DTYPE_I32: return 4;
    case INFER_DTYPE_I64: return 8;
    case INFER_DTYPE_BOOL: return 1;
    default: return 0;
  }
}

const char *infer_dtype_name(InferDType t) {
  switch (t) {
    case INFER_DTYPE_F32: return "f32";
    case INFER_DTYPE_F16: return "f16";
    case INFER_DTYPE_I8: return "i8";
    case INFER_DTYPE_U8: return "u8";
    case INFER_DTYPE_I32: return "i32";
    case INFER_DTYPE_I64: return "i64";
    case INFER_DTYPE_BOOL: return "bool";
    default: return "undefined";
  }
}

bool infer_dtype_is_float(InferDType t) { return t == INFER_DTYPE_F32 || t == INFER_DTYPE_F16; }

int64_t infer_shape_numel(const InferShape *s) {
  int64_t n = 1;
  for (int i = 0; i < s->rank; i++) {
    if (s->d[i] < 0) return -1;
    /* absurd declared dims must not overflow: report them as unknown */
    if (s->d[i] > 0 && n > INT64_MAX / s->d[i]) return -1;
    n *= s->d[i];
  }
  return n;
}

bool infer_shape_equal(const InferShape *a, const InferShape *b) {
  if (a->rank != b->rank) return false;
  for (int i = 0; i < a->rank; i++)
    if (a->d[i] != b->d[i]) return false;
  return true;
}

bool infer_shape_is_static(const InferShape *s) {
  for (int i = 0; i < s->rank; i++)
    if (s->d[i] < 0) return false;
  return true;
}

char *infer_shape_str(const InferShape *s, char *buf, size_t size) {
  size_t used = 0;
  if (size == 0) return buf;
  buf[0] = 0;
  used += (size_t)snprintf(buf, size, "[");
  for (int i = 0; i < s->rank && used < size; i++) {
    if (s->d[i] < 0)
      used += (size_t)snprintf(buf + used, size - used, "%s?", i ? "," : "");
    else
      used += (size_t)snprintf(buf + used, size - used, "%s%lld", i ? "," : "", (long long)s->d[i]);
  }
  if (used < size) snprintf(buf + used, size - used, "]");
  return buf;
}

InferShape infer_shape_make(int32_t rank, const int64_t *dims) {
  InferShape s;
  memset(&s, 0, sizeof s);
  s.rank = rank < 0 ? 0 : (rank > INFER_MAX_RANK ? INFER_MAX_RANK : rank);
  for (int i = 0; i < s.rank; i++) s.d[i] = dims[i];
  return s;
}

float infer_half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h >> 15) << 31;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t man = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else { /* subnormal: value = man * 2^-24 */
      float f = (float)man * 5.9604644775390625e-8f;
      return sign ? -f : f;
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (man << 13);
  } else {
    bits = sign | ((exp + 112) << 23) | (man << 13);
  }
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

uint16_t infer_float_to_half(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
  uint32_t absx = x & 0x7fffffffu;
  if (absx >= 0x7f800000u) /* inf or nan */
    return (uint16_t)(sign | 0x7c00 | (absx > 0x7f800000u ? 0x200 : 0));
  if (absx >= 0x477ff000u) return (uint16_t)(sign | 0x7c00); /* rounds to inf */
  if (absx < 0x38800000u) {                                   /* subnormal or zero in half */
    /* value / 2^-24, rounded to nearest even */
    float a;
    memcpy(&a, &absx, 4);
    float scaled = a * 16777216.0f;
    float r = nearbyintf(scaled); /* default rounding mode: to nearest even */
    return (uint16_t)(sign | (uint16_t)r);
  }
  uint32_t exp = ((absx >> 23) - 112) << 10;
  uint32_t man = (absx >> 13) & 0x3ff;
  uint32_t rest = absx & 0x1fff;
  uint32_t h = exp | man;
  if (rest > 0x1000 || (rest == 0x1000 && (h & 1))) h++;
  return (uint16_t)(sign | h);
}

uint64_t infer_hash64(const void *data, size_t size, uint64_t seed) {
  const unsigned char *p = data;
  uint64_t h = 1469598103934665603ull ^ seed;
  for (size_t i = 0; i < size; i++) h = (h ^ p[i]) * 1099511628211ull;
  /* final avalanche so that nearby inputs give unrelated hashes */
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}
