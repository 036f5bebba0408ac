/* Softmax, reductions and CumSum on the GPU, matching the CPU reference
 * (kernels/cpu/softmax.c, reduce.c, cumsum.c):
 *   softmax / log-softmax / hardmax (coerce_2d for opset < 13): one block
 *     per row when the axis is innermost, else one thread per column; exp in
 *     float, sums in double; NaN wins the max (and hardmax's first maximum),
 *     as in the reference; f32;
 *   reduce (every kind, any axes): one block per output when the reduced
 *     dims are innermost, else one thread per output; f32 accumulates in
 *     double, i32/i64 in wrapping 64-bit integers (no mean, L2 or logs on
 *     integers, like the reference);
 *   cumsum (exclusive, reverse; f32, i32, i64): one thread per line.
 * f16 inputs are rejected. Axes and axis are host values (shape inputs).
 * ArgMax/ArgMin and TopK live in cuda_argmax_topk.cu. */
#include <math.h>

#include "cuda_epilogue.h"
#include "cuda_ops.h"
#include "cuda_row_ops.cuh"


/* ---- softmax ----------------------------------------------------------------- */

struct SoftmaxMax { /* NaN wins */
  __device__ float operator()(float a, float b) const { return (b > a || isnan(b)) ? b : a; }
};

struct MinIndex {
  __device__ long long operator()(long long a, long long b) const { return b < a ? b : a; }
};

__global__ void softmax_rows(const float *__restrict__ x, float *__restrict__ y, int64_t rows,
                             int64_t n, InferSoftmaxKind kind) {
  __shared__ double sd[32];
  __shared__ float sf[32];
  __shared__ long long si[32];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const float *xr = x + r * n;
    float *yr = y + r * n;
    float mx = -INFINITY;
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) mx = SoftmaxMax()(mx, xr[j]);
    mx = infer_cuda_block_reduce(mx, SoftmaxMax(), -INFINITY, sf);
    if (kind == INFER_HARDMAX) {
      /* the first position holding the maximum (the first NaN if any) */
      long long arg = n;
      for (int64_t j = threadIdx.x; j < n && arg == n; j += blockDim.x)
        if (xr[j] == mx || (isnan(mx) && isnan(xr[j]))) arg = j;
      arg = infer_cuda_block_reduce(arg, MinIndex(), (long long)n, si);
      for (int64_t j = threadIdx.x; j < n; j += blockDim.x) yr[j] = j == arg ? 1.0f : 0.0f;
      continue;
    }
    double s = 0.0;
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) s += expf(xr[j] - mx);
    s = infer_cuda_block_reduce(s, InferCudaSum(), 0.0, sd);
    double ls = log(s);
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x)
      yr[j] = kind == INFER_LOG_SOFTMAX ? (float)(((double)xr[j] - mx) - ls)
                                        : (float)(expf(xr[j] - mx) / s);
  }
}

__global__ void softmax_columns(const float *__restrict__ x, float *__restrict__ y,
                                int64_t outer, int64_t n, int64_t inner, InferSoftmaxKind kind) {
  INFER_CUDA_GRID_STRIDE(t, outer * inner) {
    int64_t base = (t / inner) * n * inner + t % inner;
    float mx = -INFINITY;
    int64_t arg = 0;
    for (int64_t j = 0; j < n; j++) {
      float v = x[base + j * inner];
      if (v > mx || (isnan(v) && !isnan(mx))) {
        mx = v;
        arg = j;
      }
    }
    if (kind == INFER_HARDMAX) {
      for (int64_t j = 0; j < n; j++) y[base + j * inner] = j == arg ? 1.0f : 0.0f;
      continue;
    }
    double s = 0.0;
    for (int64_t j = 0; j < n; j++) s += expf(x[base + j * inner] - mx);
    double ls = log(s);
    for (int64_t j = 0; j < n; j++) {
      float v = x[base + j * inner];
      y[base + j * inner] = kind == INFER_LOG_SOFTMAX ? (float)(((double)v - mx) - ls)
                                                      : (float)(expf(v - mx) / s);
    }
  }
}

extern "C" InferStatus *infer_cuda_supports_softmax(const InferOpCall *c) {
  const InferSoftmaxParams *p = &c->params->softmax;
  INFER_TRY(row_dtype(c, false));
  if (p->kind != INFER_SOFTMAX && p->kind != INFER_LOG_SOFTMAX && p->kind != INFER_HARDMAX)
    return row_unsupported(c, "this softmax kind");
  int axis = 0;
  return check_axis(c, p->axis, &axis);
}

extern "C" size_t infer_cuda_workspace_softmax(const InferOpCall *c) {
  (void)c;
  return 0;
}

extern "C" InferStatus *infer_cuda_run_softmax(const InferOpCall *c, const InferCudaExec *ex) {
  const InferSoftmaxParams *p = &c->params->softmax;
  const InferShape *s = &c->in[0].shape;
  int axis = 0;
  INFER_TRY(check_axis(c, p->axis, &axis));
  int64_t outer = 1, n = 1, inner = 1;
  for (int i = 0; i < s->rank; i++) {
    if (i < axis)
      outer *= s->d[i];
    else if (i == axis || p->coerce_2d)
      n *= s->d[i];
    else
      inner *= s->d[i];
  }
  if (outer * n * inner <= 0) return NULL;
  cudaStream_t st = (cudaStream_t)ex->stream;
  const float *x = (const float *)c->in[0].data;
  float *y = (float *)c->out[0].data;
  if (inner == 1)
    softmax_rows<<<row_blocks(outer), ROW_THREADS, 0, st>>>(x, y, outer, n, p->kind);
  else
    softmax_columns<<<infer_cuda_blocks(outer * inner), INFER_CUDA_THREADS, 0, st>>>(
        x, y, outer, n, inner, p->kind);
  return infer_cuda_launch_status(c, "softmax kernel");
}

/* ---- reduce ------------------------------------------------------------------ */

/* The input as alternating groups of kept and reduced dims (adjacent dims of
 * the same kind merged, size-1 dims dropped), with their strides. */
struct ReducePlan {
  InferReduceKind kind;
  int n_kept, n_red;
  int64_t kept_dims[INFER_MAX_RANK], kept_strides[INFER_MAX_RANK];
  int64_t red_dims[INFER_MAX_RANK], red_strides[INFER_MAX_RANK];
  int64_t out_count, red_count;
  bool rows;                  /* reduced elements contiguous: [out_count, red_count] */
  bool wide;                  /* i64 (else i32) for integer inputs */
};

static __device__ __forceinline__ int64_t plan_offset(int n, const int64_t *dims,
                                                      const int64_t *strides, int64_t idx) {
  int64_t off = 0;
  for (int i = n - 1; i >= 0; i--) {
    off += (idx % dims[i]) * strides[i];
    idx /= dims[i];
  }
  return off;
}

/* Floats: a double accumulator. */
struct FoldF {
  InferReduceKind k;
  double shift;
  __device__ double identity() const {
    return k == INFER_REDUCE_PROD ? 1.0
           : k == INFER_REDUCE_MIN ? INFINITY
           : k == INFER_REDUCE_MAX ? -INFINITY : 0.0;
  }
  __device__ double fold(double acc, double v) const {
    switch (k) {
      case INFER_REDUCE_MAX: return (isnan(v) || v > acc) ? v : acc;
      case INFER_REDUCE_MIN: return (isnan(v) || v < acc) ? v : acc;
      case INFER_REDUCE_PROD: return acc * v;
      case INFER_REDUCE_L1: return acc + fabs(v);
      case INFER_REDUCE_L2:
      case INFER_REDUCE_SUM_SQUARE: return acc + v * v;
      case INFER_REDUCE_LOG_SUM_EXP: return acc + exp(v - shift);
      default: return acc + v;
    }
  }
  __device__ double operator()(double a, double b) const {
    switch (k) {
      case INFER_REDUCE_MAX: return (isnan(b) || b > a) ? b : a;
      case INFER_REDUCE_MIN: return (isnan(b) || b < a) ? b : a;
      case INFER_REDUCE_PROD: return a * b;
      default: return a + b;
    }
  }
  __device__ double finish(double acc, int64_t count) const {
    switch (k) {
      case INFER_REDUCE_MEAN: return acc / (double)count;
      case INFER_REDUCE_L2: return sqrt(acc);
      case INFER_REDUCE_LOG_SUM: return log(acc);
      case INFER_REDUCE_LOG_SUM_EXP: return shift + log(acc);
      default: return acc;
    }
  }
};

/* Integers: wrapping 64-bit; max/min compare as signed. */
struct FoldI {
  InferReduceKind k;
  bool wide;
  __device__ unsigned long long identity() const {
    if (k == INFER_REDUCE_PROD) return 1ull;
    if (k == INFER_REDUCE_MAX) return (unsigned long long)(wide ? INT64_MIN : (int64_t)INT32_MIN);
    if (k == INFER_REDUCE_MIN) return (unsigned long long)(wide ? INT64_MAX : (int64_t)INT32_MAX);
    return 0ull;
  }
  __device__ unsigned long long operator()(unsigned long long a, unsigned long long b) const {
    switch (k) {
      case INFER_REDUCE_MAX: return (long long)b > (long long)a ? b : a;
      case INFER_REDUCE_MIN: return (long long)b < (long long)a ? b : a;
      case INFER_REDUCE_PROD: return a * b;
      default: return a + b;
    }
  }
  __device__ unsigned long long fold(unsigned long long acc, long long v) const {
    unsigned long long u = (unsigned long long)v;
    switch (k) {
      case INFER_REDUCE_L1: return acc + (v < 0 ? 0ull - u : u);
      case INFER_REDUCE_SUM_SQUARE: return acc + u * u;
      default: return (*this)(acc, u);
    }
  }
};

template <typename T>
static __device__ __forceinline__ T red_load(const T *x, int64_t i) { return x[i]; }

/* One output: its reduced elements from `base`, split over `lanes` threads
 * (lane `lane`); the caller combines the lanes. */
template <typename T>
static __device__ double red_part_f(const T *x, const ReducePlan &p, const FoldF &f,
                                    int64_t base, int64_t lane, int64_t lanes) {
  double acc = f.identity();
  for (int64_t r = lane; r < p.red_count; r += lanes) {
    int64_t off = p.rows ? r : plan_offset(p.n_red, p.red_dims, p.red_strides, r);
    acc = f.fold(acc, (double)x[base + off]);
  }
  return acc;
}

template <typename T>
static __device__ unsigned long long red_part_i(const T *x, const ReducePlan &p, const FoldI &f,
                                                int64_t base, int64_t lane, int64_t lanes) {
  unsigned long long acc = f.identity();
  for (int64_t r = lane; r < p.red_count; r += lanes) {
    int64_t off = p.rows ? r : plan_offset(p.n_red, p.red_dims, p.red_strides, r);
    acc = f.fold(acc, (long long)x[base + off]);
  }
  return acc;
}

template <typename T>
static __device__ void red_store_f(T *y, int64_t o, double v) { y[o] = (T)v; }

template <typename T>
static __device__ void red_store_i(T *y, int64_t o, unsigned long long v) {
  y[o] = (T)(long long)v; /* i32 keeps the low 32 bits */
}

/* blocks: one output per block (rows); else one output per thread. */
template <typename T, bool IS_FLOAT>
__global__ void reduce_kernel(const T *__restrict__ x, T *__restrict__ y, ReducePlan p,
                              bool per_block) {
  __shared__ double sd[32];
  __shared__ unsigned long long su[32];
  int64_t start = per_block ? blockIdx.x : (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  int64_t step = per_block ? gridDim.x : (int64_t)gridDim.x * blockDim.x;
  int64_t lane = per_block ? threadIdx.x : 0, lanes = per_block ? blockDim.x : 1;
  for (int64_t o = start; o < p.out_count; o += step) {
    int64_t base = p.rows ? o * p.red_count
                          : plan_offset(p.n_kept, p.kept_dims, p.kept_strides, o);
    if constexpr (IS_FLOAT) {
      FoldF f = {p.kind, 0.0};
      if (p.kind == INFER_REDUCE_LOG_SUM_EXP) {
        /* factor out the max so exp() cannot overflow */
        FoldF m = {INFER_REDUCE_MAX, 0.0};
        double mx = red_part_f(x, p, m, base, lane, lanes);
        if (per_block) mx = infer_cuda_block_reduce(mx, m, m.identity(), sd);
        f.shift = mx;
      }
      double acc = red_part_f(x, p, f, base, lane, lanes);
      if (per_block) acc = infer_cuda_block_reduce(acc, f, f.identity(), sd);
      if (lane == 0) {
        bool early = p.kind == INFER_REDUCE_LOG_SUM_EXP && !isfinite(f.shift);
        red_store_f(y, o, early ? f.shift : f.finish(acc, p.red_count));
      }
    } else {
      FoldI f = {p.kind, p.wide};
      unsigned long long acc = red_part_i(x, p, f, base, lane, lanes);
      if (per_block) acc = infer_cuda_block_reduce(acc, f, f.identity(), su);
      if (lane == 0) red_store_i(y, o, acc);
    }
  }
}

static InferStatus *reduce_plan(const InferOpCall *c, ReducePlan *pl, bool *noop) {
  const InferShape *s = &c->in[0].shape;
  const InferTensorView *axes = infer_call_input(c, 1);
  int64_t na = axes->dtype == INFER_DTYPE_UNDEFINED ? 0 : infer_shape_numel(&axes->shape);
  bool reduced[INFER_MAX_RANK];
  memset(pl, 0, sizeof *pl);
  pl->kind = c->params->reduce.kind;
  pl->wide = c->in[0].dtype == INFER_DTYPE_I64;
  *noop = na == 0 && c->params->reduce.noop_with_empty_axes;
  for (int i = 0; i < s->rank; i++) reduced[i] = na == 0;
  if (na > 0 && axes->dtype != INFER_DTYPE_I64 && axes->dtype != INFER_DTYPE_I32)
    return row_unsupported(c, "axes of a type other than i32/i64");
  if (na > 0 && !axes->data) return row_unsupported(c, "axes not known on the host");
  for (int64_t i = 0; i < na; i++) {
    int64_t a = axes->dtype == INFER_DTYPE_I64 ? ((const int64_t *)axes->data)[i]
                                               : ((const int32_t *)axes->data)[i];
    if (a < 0) a += s->rank;
    if (a < 0 || a >= s->rank || reduced[a])
      return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                              "layer '%s' (reduce): axes are out of range or repeated", c->node);
    reduced[a] = true;
  }
  int64_t stride = 1;
  int last = -1; /* 0 kept, 1 reduced: kind of the group being extended */
  pl->out_count = pl->red_count = 1;
  /* walk from the innermost dim so merged groups get the inner stride */
  int64_t kd[INFER_MAX_RANK], ks[INFER_MAX_RANK], rd[INFER_MAX_RANK], rs[INFER_MAX_RANK];
  int nk = 0, nr = 0;
  bool inner_reduced = true, seen_kept = false;
  for (int i = s->rank - 1; i >= 0; i--) {
    int64_t d = s->d[i];
    if (reduced[i]) pl->red_count *= d; else pl->out_count *= d;
    if (d != 1) {
      if (reduced[i]) {
        if (seen_kept) inner_reduced = false;
        if (last == 1) rd[nr - 1] *= d; else { rd[nr] = d; rs[nr++] = stride; }
      } else {
        seen_kept = true;
        if (last == 0) kd[nk - 1] *= d; else { kd[nk] = d; ks[nk++] = stride; }
      }
      last = reduced[i] ? 1 : 0;
    }
    stride *= d;
  }
  for (int i = 0; i < nk; i++) {
    pl->kept_dims[i] = kd[nk - 1 - i];
    pl->kept_strides[i] = ks[nk - 1 - i];
  }
  for (int i = 0; i < nr; i++) {
    pl->red_dims[i] = rd[nr - 1 - i];
    pl->red_strides[i] = rs[nr - 1 - i];
  }
  pl->n_kept = nk;
  pl->n_red = nr;
  pl->rows = inner_reduced; /* the reduced elements of an output are contiguous */
  return NULL;
}

extern "C" InferStatus *infer_cuda_supports_reduce(const InferOpCall *c) {
  INFER_TRY(row_dtype(c, true));
  InferReduceKind k = c->params->reduce.kind;
  if ((int)k < INFER_REDUCE_SUM || k > INFER_REDUCE_SUM_SQUARE)
    return row_unsupported(c, "this reduce kind");
  bool float_only = k == INFER_REDUCE_MEAN || k == INFER_REDUCE_L2 ||
                    k == INFER_REDUCE_LOG_SUM || k == INFER_REDUCE_LOG_SUM_EXP;
  if (float_only && c->in[0].dtype != INFER_DTYPE_F32)
    return row_unsupported(c, "this reduction of an integer input");
  return NULL;
}

extern "C" size_t infer_cuda_workspace_reduce(const InferOpCall *c) {
  (void)c;
  return 0;
}

template <typename T, bool IS_FLOAT>
static void reduce_launch(const InferOpCall *c, const ReducePlan &p, cudaStream_t st) {
  const T *x = (const T *)c->in[0].data;
  T *y = (T *)c->out[0].data;
  /* a block per output pays off when each output folds many elements */
  bool per_block = p.rows && p.red_count >= 64;
  if (per_block)
    reduce_kernel<T, IS_FLOAT><<<row_blocks(p.out_count), ROW_THREADS, 0, st>>>(x, y, p, true);
  else
    reduce_kernel<T, IS_FLOAT><<<infer_cuda_blocks(p.out_count), INFER_CUDA_THREADS, 0, st>>>(
        x, y, p, false);
}

extern "C" InferStatus *infer_cuda_run_reduce(const InferOpCall *c, const InferCudaExec *ex) {
  ReducePlan p;
  bool noop;
  INFER_TRY(reduce_plan(c, &p, &noop));
  cudaStream_t st = (cudaStream_t)ex->stream;
  if (noop) {
    int64_t n = infer_shape_numel(&c->in[0].shape);
    if (n <= 0 || c->out[0].data == c->in[0].data) return NULL;
    cudaError_t e = cudaMemcpyAsync(c->out[0].data, c->in[0].data,
                                    (size_t)n * infer_dtype_size(c->in[0].dtype),
                                    cudaMemcpyDeviceToDevice, st);
    return e == cudaSuccess ? NULL : infer_cuda_error(c, "cudaMemcpyAsync", cudaGetErrorString(e));
  }
  if (p.out_count <= 0) return NULL;
  switch (c->in[0].dtype) {
    case INFER_DTYPE_F32: reduce_launch<float, true>(c, p, st); break;
    case INFER_DTYPE_I32: reduce_launch<int32_t, false>(c, p, st); break;
    default: reduce_launch<int64_t, false>(c, p, st); break;
  }
  return infer_cuda_launch_status(c, "reduce kernel");
}

/* ---- cumsum ------------------------------------------------------------------ */

template <typename T, typename Acc>
__global__ void cumsum_kernel(const T *__restrict__ x, T *__restrict__ y, int64_t outer,
                              int64_t n, int64_t inner, bool exclusive, bool reverse) {
  INFER_CUDA_GRID_STRIDE(line, outer * inner) {
    int64_t base = (line / inner) * n * inner + line % inner;
    Acc acc = 0;
    for (int64_t t = 0; t < n; t++) {
      int64_t e = base + (reverse ? n - 1 - t : t) * inner;
      T v = x[e];
      if (exclusive) y[e] = (T)acc;
      acc += (Acc)v;
      if (!exclusive) y[e] = (T)acc;
    }
  }
}

static InferStatus *cumsum_axis(const InferOpCall *c, bool check_value, int *out) {
  const InferTensorView *a = infer_call_input(c, 1);
  int32_t rank = c->in[0].shape.rank;
  bool ok = (a->dtype == INFER_DTYPE_I32 || a->dtype == INFER_DTYPE_I64) && a->shape.rank <= 1 &&
            infer_shape_numel(&a->shape) == 1 && rank >= 1;
  int64_t axis = 0;
  if (ok && check_value) {
    ok = a->data != NULL;
    if (ok)
      axis = a->dtype == INFER_DTYPE_I64 ? *(const int64_t *)a->data : *(const int32_t *)a->data;
    if (axis < 0) axis += rank;
    ok = ok && axis >= 0 && axis < rank;
  }
  if (!ok)
    return infer_status_new(INFER_ERR_UNSUPPORTED,
                            "layer '%s' (%s): axis must be one i32/i64 value within the rank %d",
                            c->node, infer_op_name(c->op), rank);
  *out = (int)axis;
  return NULL;
}

extern "C" InferStatus *infer_cuda_supports_cumsum(const InferOpCall *c) {
  INFER_TRY(row_dtype(c, true));
  int axis = 0;
  return cumsum_axis(c, infer_call_input(c, 1)->data != NULL, &axis);
}

extern "C" size_t infer_cuda_workspace_cumsum(const InferOpCall *c) {
  (void)c;
  return 0;
}

extern "C" InferStatus *infer_cuda_run_cumsum(const InferOpCall *c, const InferCudaExec *ex) {
  int axis = 0;
  INFER_TRY(cumsum_axis(c, true, &axis));
  int64_t outer, n, inner;
  axis_geometry(&c->in[0].shape, axis, &outer, &n, &inner);
  if (outer * inner * n <= 0) return NULL;
  const InferCumSumParams *p = &c->params->cumsum;
  cudaStream_t st = (cudaStream_t)ex->stream;
  unsigned blocks = infer_cuda_blocks(outer * inner);
  const void *x = c->in[0].data;
  void *y = c->out[0].data;
  switch (c->in[0].dtype) {
    case INFER_DTYPE_F32:
      cumsum_kernel<float, double><<<blocks, INFER_CUDA_THREADS, 0, st>>>(
          (const float *)x, (float *)y, outer, n, inner, p->exclusive, p->reverse);
      break;
    case INFER_DTYPE_I32:
      cumsum_kernel<int32_t, unsigned long long><<<blocks, INFER_CUDA_THREADS, 0, st>>>(
          (const int32_t *)x, (int32_t *)y, outer, n, inner, p->exclusive, p->reverse);
      break;
    default:
      cumsum_kernel<int64_t, unsigned long long><<<blocks, INFER_CUDA_THREADS, 0, st>>>(
          (const int64_t *)x, (int64_t *)y, outer, n, inner, p->exclusive, p->reverse);
      break;
  }
  return infer_cuda_launch_status(c, "cumsum kernel");
}
