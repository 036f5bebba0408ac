/* CUDA kernels for the elementwise family: unary (every InferUnaryKind the
 * CPU reference has; f32 and f16 computed in f32, integers and bool like the
 * CPU), binary with numpy broadcasting (f32/f16 computed in f32; integers,
 * bool, shifts and mixed-type Pow exactly like the CPU, in int64/double),
 * where (any dtype, broadcast) and cast (every pair of engine dtypes, with
 * the CPU's conversion rules). Broadcast layouts are collapsed on the host
 * (dims of size 1 dropped, dims contiguous in every operand merged) and
 * passed by value; kernels are grid-stride loops with int64 indices. */
#include <cuda_fp16.h>
#include <math.h>

#include "cuda_common.cuh"
#include "cuda_float_math.cuh"

using namespace infer_cu;

#define GRID_STRIDE INFER_CU_GRID_STRIDE

namespace {

InferStatus *unsupported(const InferOpCall *call, const char *fmt_what, const char *a,
                         const char *b) {
  return infer_status_new(INFER_ERR_UNSUPPORTED,
                          "layer '%s' (%s): %s on %s%s%s is not supported on the cuda backend",
                          call->node, infer_op_name(call->op), fmt_what, a, b ? " and " : "",
                          b ? b : "");
}

bool is_float(InferDType t) { return t == INFER_DTYPE_F32 || t == INFER_DTYPE_F16; }
bool is_int(InferDType t) {
  return t == INFER_DTYPE_I8 || t == INFER_DTYPE_U8 || t == INFER_DTYPE_I32 ||
         t == INFER_DTYPE_I64;
}

/* ---- broadcasting layouts ---------------------------------------------------- */

constexpr int kMaxIn = 3;

struct Bcast {
  int rank;
  int64_t dims[INFER_MAX_RANK];
  int64_t st[kMaxIn][INFER_MAX_RANK]; /* element strides per input, 0 = broadcast */
};

/* Layout of `n` inputs broadcast to `out`, collapsed as far as possible. */
Bcast make_bcast(const InferShape *out, const InferShape *const *ins, int n) {
  int64_t dims[INFER_MAX_RANK], st[kMaxIn][INFER_MAX_RANK];
  int rank = 0;
  for (int d = 0; d < out->rank; d++) {
    if (out->d[d] == 1) continue; /* size-1 dims add nothing */
    dims[rank] = out->d[d];
    for (int k = 0; k < n; k++) {
      const InferShape *s = ins[k];
      int j = d - (out->rank - s->rank);
      int64_t stride = 1;
      for (int q = j + 1; q < s->rank; q++) stride *= s->d[q];
      st[k][rank] = (j < 0 || s->d[j] == 1) ? 0 : stride;
    }
    rank++;
  }
  Bcast b;
  b.rank = 0;
  for (int d = 0; d < rank; d++) {
    if (b.rank > 0) {
      /* merge into the previous (outer) dim when every input walks both as one */
      int p = b.rank - 1;
      bool merge = true;
      for (int k = 0; k < n; k++) merge &= b.st[k][p] == st[k][d] * dims[d];
      if (merge) {
        b.dims[p] *= dims[d];
        for (int k = 0; k < n; k++) b.st[k][p] = st[k][d];
        continue;
      }
    }
    b.dims[b.rank] = dims[d];
    for (int k = 0; k < n; k++) b.st[k][b.rank] = st[k][d];
    b.rank++;
  }
  for (int k = n; k < kMaxIn; k++)
    for (int d = 0; d < b.rank; d++) b.st[k][d] = 0;
  if (b.rank == 0) { /* a single element */
    b.rank = 1;
    b.dims[0] = 1;
    for (int k = 0; k < kMaxIn; k++) b.st[k][0] = 0;
  }
  return b;
}

template <int N>
__device__ __forceinline__ void bcast_offsets(const Bcast &b, int64_t i, int64_t *off) {
  for (int k = 0; k < N; k++) off[k] = 0;
  if (b.rank == 1) {
    for (int k = 0; k < N; k++) off[k] = i * b.st[k][0];
    return;
  }
  for (int d = b.rank - 1; d >= 0; d--) {
    int64_t q = i / b.dims[d], r = i - q * b.dims[d];
    i = q;
    for (int k = 0; k < N; k++) off[k] += r * b.st[k][d];
  }
}

/* ---- scalar helpers ------------------------------------------------------------ */

__device__ __forceinline__ float to_f(float v) { return v; }
__device__ __forceinline__ float to_f(__half v) { return __half2float(v); }
template <typename T> __device__ __forceinline__ T from_f(float v);
template <> __device__ __forceinline__ float from_f<float>(float v) { return v; }
template <> __device__ __forceinline__ __half from_f<__half>(float v) { return __float2half_rn(v); }

__device__ __forceinline__ int64_t ld_int(const void *p, int t, int64_t i) {
  switch (t) {
    case INFER_DTYPE_I8: return ((const int8_t *)p)[i];
    case INFER_DTYPE_U8: return ((const uint8_t *)p)[i];
    case INFER_DTYPE_I32: return ((const int32_t *)p)[i];
    case INFER_DTYPE_I64: return ((const int64_t *)p)[i];
    default: return ((const uint8_t *)p)[i] != 0; /* bool */
  }
}

/* Narrowing keeps the low bits (two's complement), as numpy does. */
__device__ __forceinline__ void st_int(void *p, int t, int64_t i, int64_t v) {
  switch (t) {
    case INFER_DTYPE_I8: ((int8_t *)p)[i] = (int8_t)(uint8_t)(uint64_t)v; break;
    case INFER_DTYPE_U8: ((uint8_t *)p)[i] = (uint8_t)(uint64_t)v; break;
    case INFER_DTYPE_I32: ((int32_t *)p)[i] = (int32_t)(uint32_t)(uint64_t)v; break;
    case INFER_DTYPE_I64: ((int64_t *)p)[i] = v; break;
    default: ((uint8_t *)p)[i] = v != 0; break;
  }
}

__device__ __forceinline__ bool dt_float(int t) {
  return t == INFER_DTYPE_F32 || t == INFER_DTYPE_F16;
}

__device__ __forceinline__ double ld_real(const void *p, int t, int64_t i) {
  if (t == INFER_DTYPE_F32) return ((const float *)p)[i];
  if (t == INFER_DTYPE_F16) return __half2float(((const __half *)p)[i]);
  return (double)ld_int(p, t, i);
}

__device__ __forceinline__ void st_real(void *p, int t, int64_t i, double v) {
  if (t == INFER_DTYPE_F32) ((float *)p)[i] = (float)v;
  else ((__half *)p)[i] = __float2half_rn((float)v);
}

/* NaN gives 0, values outside int64 saturate (as the CPU does). */
__device__ __forceinline__ int64_t real_to_int(double v) {
  if (isnan(v)) return 0;
  if (v <= -9223372036854775808.0) return INT64_MIN;
  if (v >= 9223372036854775807.0) return INT64_MAX;
  return (int64_t)v;
}

/* ---- unary ----------------------------------------------------------------------- */

struct UnaryArgs {
  int kind;
  float alpha, beta;
  int64_t lo, hi; /* integer clip bounds */
};

__device__ __forceinline__ float unary_f(const UnaryArgs &u, float x) {
  return unary_float(u.kind, u.alpha, u.beta, x);
}

template <typename T, bool kBoolOut>
__global__ void unary_float_kernel(const T *x, void *y, int64_t n, UnaryArgs u) {
  GRID_STRIDE(i, n) {
    float r = unary_f(u, to_f(x[i]));
    if (kBoolOut) ((uint8_t *)y)[i] = r != 0.f;
    else ((T *)y)[i] = from_f<T>(r);
  }
}

__global__ void unary_int_kernel(const void *x, void *y, int t, int64_t n, UnaryArgs u) {
  GRID_STRIDE(i, n) {
    int64_t v = ld_int(x, t, i), r;
    switch (u.kind) {
      case INFER_UNARY_RELU: r = v < 0 ? 0 : v; break;
      case INFER_UNARY_NEG: r = (int64_t)(0 - (uint64_t)v); break;
      case INFER_UNARY_ABS: r = v < 0 ? (int64_t)(0 - (uint64_t)v) : v; break;
      case INFER_UNARY_SIGN: r = v > 0 ? 1 : (v < 0 ? -1 : 0); break;
      case INFER_UNARY_CLIP: r = v < u.lo ? u.lo : v; r = r > u.hi ? u.hi : r; break;
      case INFER_UNARY_NOT: r = v == 0; break;
      default: r = v; break;
    }
    st_int(y, t, i, r);
  }
}

bool unary_int_kind_ok(InferUnaryKind k, InferDType t) {
  if (t == INFER_DTYPE_BOOL) return k == INFER_UNARY_NONE || k == INFER_UNARY_NOT;
  if (k == INFER_UNARY_NOT) return false;
  if (t == INFER_DTYPE_U8 && (k == INFER_UNARY_NEG || k == INFER_UNARY_RELU)) return false;
  return k == INFER_UNARY_NONE || k == INFER_UNARY_RELU || k == INFER_UNARY_NEG ||
         k == INFER_UNARY_ABS || k == INFER_UNARY_SIGN || k == INFER_UNARY_CLIP;
}

/* A float bound as the nearest integer inside it (clip bounds on integers). */
int64_t int_bound(double v, bool lower) {
  if (isnan(v)) return lower ? INT64_MIN : INT64_MAX;
  v = lower ? ceil(v) : floor(v);
  if (v <= -9223372036854775808.0) return INT64_MIN;
  if (v >= 9223372036854775807.0) return INT64_MAX;
  return (int64_t)v;
}

/* ---- binary ------------------------------------------------------------------------ */

__device__ __forceinline__ float binop_f(int k, float a, float b) { return binary_float(k, a, b); }

template <typename T, bool kBoolOut>
__global__ void binary_float_kernel(const T *a, const T *b, void *y, int64_t n, int kind,
                                    Bcast bc) {
  GRID_STRIDE(i, n) {
    int64_t off[2];
    bcast_offsets<2>(bc, i, off);
    float r = binop_f(kind, to_f(a[off[0]]), to_f(b[off[1]]));
    if (kBoolOut) ((uint8_t *)y)[i] = r != 0.f;
    else ((T *)y)[i] = from_f<T>(r);
  }
}

__device__ double binop_d(int k, double a, double b) {
  switch (k) {
    case INFER_BINARY_ADD: return a + b;
    case INFER_BINARY_SUB: return a - b;
    case INFER_BINARY_MUL: return a * b;
    case INFER_BINARY_DIV: return a / b;
    case INFER_BINARY_POW: return pow(a, b);
    default: return (double)binop_f(k, (float)a, (float)b);
  }
}

__device__ int64_t int_pow(int64_t a, int64_t b) {
  if (b < 0) {
    if (a == 1) return 1;
    if (a == -1) return (b % 2) ? -1 : 1;
    return 0;
  }
  uint64_t r = 1, base = (uint64_t)a;
  while (b > 0) {
    if (b & 1) r *= base;
    base *= base;
    b >>= 1;
  }
  return (int64_t)r;
}

__device__ int64_t int_mod(int64_t a, int64_t b, bool divisor_sign) {
  if (b == 0 || b == -1) return 0;
  int64_t r = a % b;
  if (divisor_sign && r != 0 && (r < 0) != (b < 0)) r += b;
  return r;
}

__device__ int64_t binop_i(int k, int64_t a, int64_t b, int bits) {
  switch (k) {
    case INFER_BINARY_ADD: return (int64_t)((uint64_t)a + (uint64_t)b);
    case INFER_BINARY_SUB: return (int64_t)((uint64_t)a - (uint64_t)b);
    case INFER_BINARY_MUL: return (int64_t)((uint64_t)a * (uint64_t)b);
    case INFER_BINARY_DIV:
      if (b == 0) return 0;
      if (b == -1) return (int64_t)(0 - (uint64_t)a);
      return a / b;
    case INFER_BINARY_POW: return int_pow(a, b);
    case INFER_BINARY_MIN: return a < b ? a : b;
    case INFER_BINARY_MAX: return a > b ? a : b;
    case INFER_BINARY_MOD: return int_mod(a, b, true);
    case INFER_BINARY_FMOD: return int_mod(a, b, false);
    case INFER_BINARY_PRELU: return a < 0 ? (int64_t)((uint64_t)a * (uint64_t)b) : a;
    case INFER_BINARY_EQUAL: return a == b;
    case INFER_BINARY_GREATER: return a > b;
    case INFER_BINARY_GREATER_EQUAL: return a >= b;
    case INFER_BINARY_LESS: return a < b;
    case INFER_BINARY_LESS_EQUAL: return a <= b;
    case INFER_BINARY_AND: return (a != 0) && (b != 0);
    case INFER_BINARY_OR: return (a != 0) || (b != 0);
    case INFER_BINARY_XOR: return (a != 0) != (b != 0);
    case INFER_BINARY_SHIFT_LEFT:
      return (b < 0 || b >= bits) ? 0 : (int64_t)((uint64_t)a << b);
    case INFER_BINARY_SHIFT_RIGHT:
      return (b < 0 || b >= bits) ? 0 : (int64_t)((uint64_t)a >> b);
    default: return 0;
  }
}

/* Integers, bool and mixed-type Pow, exactly as the CPU computes them. */
__global__ void binary_generic_kernel(const void *a, int ta, const void *b, int tb, void *y,
                                      int ty, int64_t n, int kind, int bits, Bcast bc) {
  GRID_STRIDE(i, n) {
    int64_t off[2];
    bcast_offsets<2>(bc, i, off);
    if (dt_float(ta) || (kind == INFER_BINARY_POW && dt_float(tb))) {
      double r = binop_d(kind, ld_real(a, ta, off[0]), ld_real(b, tb, off[1]));
      if (dt_float(ty)) st_real(y, ty, i, r);
      else st_int(y, ty, i, real_to_int(r));
    } else {
      st_int(y, ty, i, binop_i(kind, ld_int(a, ta, off[0]), ld_int(b, tb, off[1]), bits));
    }
  }
}

bool is_compare(InferBinaryKind k) {
  return k == INFER_BINARY_EQUAL || k == INFER_BINARY_GREATER ||
         k == INFER_BINARY_GREATER_EQUAL || k == INFER_BINARY_LESS ||
         k == INFER_BINARY_LESS_EQUAL;
}
bool is_logic(InferBinaryKind k) {
  return k == INFER_BINARY_AND || k == INFER_BINARY_OR || k == INFER_BINARY_XOR;
}
bool is_shift(InferBinaryKind k) {
  return k == INFER_BINARY_SHIFT_LEFT || k == INFER_BINARY_SHIFT_RIGHT;
}

/* ---- where, cast --------------------------------------------------------------------- */

template <typename T>
__global__ void where_kernel(const uint8_t *c, const T *x, const T *y, T *z, int64_t n, Bcast bc) {
  GRID_STRIDE(i, n) {
    int64_t off[3];
    bcast_offsets<3>(bc, i, off);
    z[i] = c[off[0]] ? x[off[1]] : y[off[2]];
  }
}

__global__ void cast_kernel(const void *x, int tx, void *y, int ty, int64_t n) {
  GRID_STRIDE(i, n) {
    if (!dt_float(tx)) {
      int64_t v = ld_int(x, tx, i);
      if (dt_float(ty)) st_real(y, ty, i, (double)(float)v); /* to f16 goes through f32 */
      else st_int(y, ty, i, v);
    } else {
      double v = ld_real(x, tx, i);
      if (ty == INFER_DTYPE_BOOL) st_int(y, ty, i, v != 0.0); /* NaN is true */
      else if (dt_float(ty)) st_real(y, ty, i, v);
      else st_int(y, ty, i, real_to_int(v));
    }
  }
}

}  // namespace

/* Launches K<T, true> (bool output) or K<T, false> with grid g on stream s. */
#define LAUNCH_BOOL_OUT(K, T, ...)                                  \
  do {                                                              \
    if (bool_out) K<T, true><<<g, kThreads, 0, s>>>(__VA_ARGS__);   \
    else K<T, false><<<g, kThreads, 0, s>>>(__VA_ARGS__);           \
  } while (0)

INFER_CU_NO_WORKSPACE(unary)
INFER_CU_NO_WORKSPACE(binary)
INFER_CU_NO_WORKSPACE(where)
INFER_CU_NO_WORKSPACE(cast)

/* ---- entry points ------------------------------------------------------------------- */

extern "C" {

InferStatus *infer_cuda_supports_unary(const InferOpCall *call) {
  const InferUnaryParams *p = &call->params->unary;
  InferDType t = infer_call_input(call, 0)->dtype;
  if ((int)p->kind < 0 || p->kind >= INFER_UNARY_KIND_COUNT)
    return infer_status_new(INFER_ERR_UNSUPPORTED,
                            "layer '%s' (%s): unary kind %d is not supported", call->node,
                            infer_op_name(call->op), (int)p->kind);
  bool ok;
  if (p->kind == INFER_UNARY_NOT) ok = t == INFER_DTYPE_BOOL;
  else if (is_float(t)) ok = true;
  else if (p->kind == INFER_UNARY_IS_NAN || p->kind == INFER_UNARY_IS_INF) ok = false;
  else ok = (is_int(t) || t == INFER_DTYPE_BOOL) && unary_int_kind_ok(p->kind, t);
  return ok ? NULL : unsupported(call, infer_unary_kind_name(p->kind), infer_dtype_name(t), NULL);
}

InferStatus *infer_cuda_run_unary(const InferOpCall *call, const InferCudaExec *exec) {
  const InferUnaryParams *p = &call->params->unary;
  const InferTensorView *x = &call->in[0];
  InferTensorView *y = &call->out[0];
  int64_t n = infer_shape_numel(&y->shape);
  if (n <= 0) return NULL;
  cudaStream_t s = (cudaStream_t)exec->stream;
  UnaryArgs u = {(int)p->kind, p->alpha, p->beta, int_bound(p->alpha, true),
                 int_bound(p->beta, false)};
  bool bool_out = y->dtype == INFER_DTYPE_BOOL && x->dtype != INFER_DTYPE_BOOL;
  unsigned g = blocks_for(n);
  if (x->dtype == INFER_DTYPE_F32) {
    LAUNCH_BOOL_OUT(unary_float_kernel, float, (const float *)x->data, y->data, n, u);
  } else if (x->dtype == INFER_DTYPE_F16) {
    LAUNCH_BOOL_OUT(unary_float_kernel, __half, (const __half *)x->data, y->data, n, u);
  } else {
    unary_int_kernel<<<g, kThreads, 0, s>>>(x->data, y->data, (int)x->dtype, n, u);
  }
  return launched(call, "unary kernel");
}

InferStatus *infer_cuda_supports_binary(const InferOpCall *call) {
  InferBinaryKind k = call->params->binary.kind;
  InferDType a = infer_call_input(call, 0)->dtype, b = infer_call_input(call, 1)->dtype;
  bool numeric_a = is_float(a) || is_int(a), numeric_b = is_float(b) || is_int(b), ok;
  if ((int)k < 0 || k >= INFER_BINARY_KIND_COUNT) ok = false;
  else if (is_logic(k)) ok = a == INFER_DTYPE_BOOL && b == INFER_DTYPE_BOOL;
  else if (is_shift(k)) ok = a == INFER_DTYPE_U8 && b == INFER_DTYPE_U8;
  else if (k == INFER_BINARY_POW) ok = numeric_a && numeric_b;
  else if (is_compare(k)) ok = a == b && (numeric_a || a == INFER_DTYPE_BOOL);
  else ok = a == b && numeric_a;
  if (ok) return NULL;
  const char *kind = ((int)k >= 0 && k < INFER_BINARY_KIND_COUNT) ? infer_binary_kind_name(k) : "?";
  return unsupported(call, kind, infer_dtype_name(a), infer_dtype_name(b));
}

InferStatus *infer_cuda_run_binary(const InferOpCall *call, const InferCudaExec *exec) {
  InferBinaryKind k = call->params->binary.kind;
  const InferTensorView *a = &call->in[0], *b = &call->in[1];
  InferTensorView *y = &call->out[0];
  int64_t n = infer_shape_numel(&y->shape);
  if (n <= 0) return NULL;
  const InferShape *ins[2] = {&a->shape, &b->shape};
  Bcast bc = make_bcast(&y->shape, ins, 2);
  cudaStream_t s = (cudaStream_t)exec->stream;
  unsigned g = blocks_for(n);
  bool bool_out = y->dtype == INFER_DTYPE_BOOL;
  if (a->dtype == b->dtype && a->dtype == INFER_DTYPE_F32) {
    LAUNCH_BOOL_OUT(binary_float_kernel, float, (const float *)a->data, (const float *)b->data,
                    y->data, n, (int)k, bc);
  } else if (a->dtype == b->dtype && a->dtype == INFER_DTYPE_F16) {
    LAUNCH_BOOL_OUT(binary_float_kernel, __half, (const __half *)a->data,
                    (const __half *)b->data, y->data, n, (int)k, bc);
  } else {
    int bits = (int)infer_dtype_size(a->dtype) * 8;
    binary_generic_kernel<<<g, kThreads, 0, s>>>(a->data, (int)a->dtype, b->data, (int)b->dtype,
                                                 y->data, (int)y->dtype, n, (int)k, bits, bc);
  }
  return launched(call, "binary kernel");
}

InferStatus *infer_cuda_supports_where(const InferOpCall *call) {
  InferDType c = infer_call_input(call, 0)->dtype;
  InferDType x = infer_call_input(call, 1)->dtype, y = infer_call_input(call, 2)->dtype;
  if (c != INFER_DTYPE_BOOL || infer_dtype_size(x) == 0 || x != y)
    return infer_status_new(INFER_ERR_UNSUPPORTED,
                            "layer '%s' (%s): where on %s, %s, %s is not supported on the cuda "
                            "backend (condition must be bool, both values of one type)",
                            call->node, infer_op_name(call->op), infer_dtype_name(c),
                            infer_dtype_name(x), infer_dtype_name(y));
  return NULL;
}

InferStatus *infer_cuda_run_where(const InferOpCall *call, const InferCudaExec *exec) {
  InferTensorView *z = &call->out[0];
  int64_t n = infer_shape_numel(&z->shape);
  if (n <= 0) return NULL;
  const InferShape *ins[3] = {&call->in[0].shape, &call->in[1].shape, &call->in[2].shape};
  Bcast bc = make_bcast(&z->shape, ins, 3);
  cudaStream_t s = (cudaStream_t)exec->stream;
  unsigned g = blocks_for(n);
  const uint8_t *c = (const uint8_t *)call->in[0].data;
  const void *x = call->in[1].data, *y = call->in[2].data;
#define WHERE(T)                                                                               \
  where_kernel<T><<<g, kThreads, 0, s>>>(c, (const T *)x, (const T *)y, (T *)z->data, n, bc)
  switch (infer_dtype_size(z->dtype)) {
    case 1: WHERE(uint8_t); break;
    case 2: WHERE(uint16_t); break;
    case 4: WHERE(uint32_t); break;
    default: WHERE(uint64_t); break;
  }
#undef WHERE
  return launched(call, "where kernel");
}

InferStatus *infer_cuda_supports_cast(const InferOpCall *call) {
  InferDType from = infer_call_input(call, 0)->dtype, to = call->params->cast.to;
  if (infer_dtype_size(from) == 0 || infer_dtype_size(to) == 0)
    return unsupported(call, "cast", infer_dtype_name(from), infer_dtype_name(to));
  return NULL;
}

InferStatus *infer_cuda_run_cast(const InferOpCall *call, const InferCudaExec *exec) {
  const InferTensorView *x = &call->in[0];
  InferTensorView *y = &call->out[0];
  int64_t n = infer_shape_numel(&y->shape);
  if (n <= 0) return NULL;
  cudaStream_t s = (cudaStream_t)exec->stream;
  if (x->dtype == y->dtype) {
    return copy_d2d(call, y->data, x->data, (size_t)n * infer_dtype_size(x->dtype), s);
  }
  cast_kernel<<<blocks_for(n), kThreads, 0, s>>>(x->data, (int)x->dtype, y->data, (int)y->dtype, n);
  return launched(call, "cast kernel");
}

}  // extern "C"
