/* Max / average / Lp pooling over 1-3 spatial dims (pads, auto_pad,
 * dilations, ceil_mode, count_include_pad) and the global forms, f32 or
 * f16 (computed in float/double), u8 and i8 max pooling, channels-first or channels-last.
 * Window geometry is resolved on the host with conv_geometry.h, exactly as
 * the CPU reference (kernels/cpu/pool.c) does; one thread computes one
 * output element, walking only the taps inside the input (padding never
 * contributes a value; count_include_pad only changes the divisor). Sums
 * accumulate in double and max pooling propagates NaN, like the reference.
 * Global pooling uses one block per (batch, channel) plane. */
#include <cuda_fp16.h>
#include <math.h>

#include "conv_geometry.h"
#include "cuda_channel_vec.cuh"
#include "cuda_epilogue.h"
#include "cuda_ops.h"

struct PoolArgs {
  InferPoolKind kind;
  bool count_include_pad;
  double p;                      /* Lp exponent */
  int64_t planes;                /* channels-first: batch * channels; channels-last: batch */
  int64_t channels;              /* channels-last only */
  bool channels_last;
  int64_t in[3], out[3], k[3], s[3], d[3], pb[3], pe[3];
};

static __device__ __forceinline__ float ldf(const float *p, int64_t i) { return p[i]; }
static __device__ __forceinline__ float ldf(const __half *p, int64_t i) {
  return __half2float(p[i]);
}
/* 8-bit integers: max pooling only, exact in float; a window with no
 * input tap (all padding) stores the type's minimum */
static __device__ __forceinline__ float ldf(const uint8_t *p, int64_t i) { return (float)p[i]; }
static __device__ __forceinline__ float ldf(const int8_t *p, int64_t i) { return (float)p[i]; }
static __device__ __forceinline__ void stf(uint8_t *p, int64_t i, float v) {
  p[i] = (uint8_t)fminf(fmaxf(v, 0.0f), 255.0f);
}
static __device__ __forceinline__ void stf(int8_t *p, int64_t i, float v) {
  p[i] = (int8_t)fminf(fmaxf(v, -128.0f), 127.0f);
}
static __device__ __forceinline__ void stf(float *p, int64_t i, float v) { p[i] = v; }
static __device__ __forceinline__ void stf(__half *p, int64_t i, float v) {
  p[i] = __float2half_rn(v);
}

static InferStatus *pool_unsupported(const InferOpCall *c, const char *what) {
  return infer_status_new(INFER_ERR_UNSUPPORTED,
                          "layer '%s' (%s): %s is not supported on the CUDA backend", c->node,
                          infer_op_name(c->op), what);
}

/* ---- device geometry (twins of conv_geometry.h) ---------------------------- */

static __device__ __forceinline__ int64_t dev_floordiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

/* The a in [0, a_count) with a * step + offset in [0, b_count): [lo, hi]. */
static __device__ __forceinline__ void dev_range(int64_t step, int64_t offset, int64_t a_count,
                                                 int64_t b_count, int64_t *lo, int64_t *hi) {
  int64_t l = -dev_floordiv(offset, step);
  int64_t h = dev_floordiv(b_count - 1 - offset, step);
  *lo = l < 0 ? 0 : l;
  *hi = h > a_count - 1 ? a_count - 1 : h;
}

static __device__ __forceinline__ double lp_term(double v, double p) {
  v = fabs(v);
  if (p == 1.0) return v;
  if (p == 2.0) return v * v;
  return pow(v, p);
}

static __device__ __forceinline__ double lp_root(double sum, double p) {
  if (p == 1.0) return sum;
  if (p == 2.0) return sqrt(sum);
  return pow(sum, 1.0 / p);
}

/* ---- windowed pooling -------------------------------------------------------- */

template <typename T>
__global__ void pool_kernel(const T *__restrict__ x, T *__restrict__ y, PoolArgs a) {
  int64_t out_size = a.out[0] * a.out[1] * a.out[2];
  int64_t in_size = a.in[0] * a.in[1] * a.in[2];
  /* channels-last: element (plane, position, c) at (plane * size + position) * C + c */
  int64_t cs = a.channels_last ? a.channels : 1;
  INFER_CUDA_GRID_STRIDE(i, a.planes * out_size * cs) {
    int64_t o[3], t = i, ch = 0;
    if (a.channels_last) {
      ch = t % cs;
      t /= cs;
    }
    o[2] = t % a.out[2];
    t /= a.out[2];
    o[1] = t % a.out[1];
    t /= a.out[1];
    o[0] = t % a.out[0];
    int64_t plane = t / a.out[0];
    int64_t start[3], lo[3], hi[3], valid = 1, padded = 1;
    for (int j = 0; j < 3; j++) {
      int64_t plo, phi;
      start[j] = o[j] * a.s[j] - a.pb[j];
      dev_range(a.d[j], start[j], a.k[j], a.in[j], &lo[j], &hi[j]);
      dev_range(a.d[j], start[j] + a.pb[j], a.k[j], a.in[j] + a.pb[j] + a.pe[j], &plo, &phi);
      valid *= hi[j] >= lo[j] ? hi[j] - lo[j] + 1 : 0;
      padded *= phi >= plo ? phi - plo + 1 : 0;
    }
    const T *xp = x + plane * in_size * cs + ch;
    float mx = -INFINITY;
    double sum = 0.0;
    for (int64_t kz = lo[0]; kz <= hi[0]; kz++) {
      int64_t iz = start[0] + kz * a.d[0];
      for (int64_t ky = lo[1]; ky <= hi[1]; ky++) {
        int64_t row = (iz * a.in[1] + start[1] + ky * a.d[1]) * a.in[2];
        for (int64_t kx = lo[2]; kx <= hi[2]; kx++) {
          float v = ldf(xp, (row + start[2] + kx * a.d[2]) * cs);
          if (a.kind == INFER_POOL_MAX)
            mx = (v > mx || isnan(v)) ? v : mx;
          else if (a.kind == INFER_POOL_AVERAGE)
            sum += v;
          else
            sum += lp_term(v, a.p);
        }
      }
    }
    float r;
    if (a.kind == INFER_POOL_MAX)
      r = mx;
    else if (a.kind == INFER_POOL_LP)
      r = (float)lp_root(sum, a.p);
    else
      r = (float)(sum / (double)(a.count_include_pad ? padded : valid));
    stf(y, i, r);
  }
}

/* ---- 2-D max / average pooling, dilation 1, 32-bit indices ------------------ */

/* The common case (ResNet's 3x3 stride-2 max pool, Inception's average
 * pools) in a form the GPU likes: no 64-bit division, float sums, and for
 * channels-last tensors each thread handles VEC adjacent channels with one
 * 16-byte load per tap (cuda_channel_vec.cuh). The generic kernel above, one element per thread
 * with 64-bit index arithmetic, spent 3 ms on ResNet-50's max pool at batch
 * 256 on the H200; this one reads at memory speed. Same results: max
 * propagates NaN; averages sum in float, which the CUDA tests' bounds hold
 * against the reference's double sums. */
struct Pool2d {
  int planes, channels; /* channels-last: planes = batch; channels-first: planes = N*C, channels = 1 */
  int ih, iw, oh, ow, kh, kw, sh, sw, ph, pw;
  int ph_end, pw_end;   /* end pads: count_include_pad's divisor */
  bool average, count_include_pad;
};

template <typename T, int VEC>
__global__ void pool2d_fast_kernel(const T *__restrict__ x, T *__restrict__ y, Pool2d a) {
  typedef InferChannelVec<T, VEC> Vec;
  int groups = a.channels / VEC;
  int total = a.planes * a.oh * a.ow * groups;
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
    int g = i % groups, t = i / groups;
    int ox = t % a.ow;
    t /= a.ow;
    int oy = t % a.oh, plane = t / a.oh;
    int y0 = oy * a.sh - a.ph, x0 = ox * a.sw - a.pw;
    int ky0 = y0 < 0 ? -y0 : 0, kx0 = x0 < 0 ? -x0 : 0;
    int ky1 = min(a.kh, a.ih - y0), kx1 = min(a.kw, a.iw - x0);
    float acc[VEC];
    for (int v = 0; v < VEC; v++) acc[v] = a.average ? 0.0f : -INFINITY;
    const T *xp = x + (size_t)plane * a.ih * a.iw * a.channels + (size_t)g * VEC;
    for (int ky = ky0; ky < ky1; ky++) {
      const T *row = xp + ((size_t)(y0 + ky) * a.iw + x0) * a.channels;
      for (int kx = kx0; kx < kx1; kx++) {
        Vec in = *(const Vec *)(row + (size_t)kx * a.channels);
        for (int v = 0; v < VEC; v++) {
          float f = ldf(in.v, v);
          if (a.average) acc[v] += f;
          else acc[v] = (f > acc[v] || isnan(f)) ? f : acc[v];
        }
      }
    }
    if (a.average) {
      int count;
      if (a.count_include_pad) {
        int hy = min(y0 + a.kh, a.ih + a.ph_end) - max(y0, -a.ph);
        int hx = min(x0 + a.kw, a.iw + a.pw_end) - max(x0, -a.pw);
        count = max(hy, 0) * max(hx, 0);
      } else {
        count = max(ky1 - ky0, 0) * max(kx1 - kx0, 0);
      }
      for (int v = 0; v < VEC; v++) acc[v] = count > 0 ? acc[v] / (float)count : NAN;
    }
    Vec out;
    for (int v = 0; v < VEC; v++) stf(out.v, v, acc[v]);
    *(Vec *)(y + (size_t)i * VEC) = out;
  }
}

/* Whether the fast kernel takes this layer (a planned by pool_plan). */
static bool pool2d_fast_fits(const InferPoolParams *p, const PoolArgs *a, int64_t ny,
                             int64_t nx) {
  if (p->spatial != 2 || (p->kind != INFER_POOL_MAX && p->kind != INFER_POOL_AVERAGE))
    return false;
  if (a->d[1] != 1 || a->d[2] != 1 || a->k[1] < 1 || a->k[2] < 1) return false;
  /* window geometry in int as well (strides and pads may be anything the
   * shape rules allow) */
  const int64_t geo = (int64_t)1 << 28;
  for (int j = 1; j < 3; j++)
    if (a->k[j] > geo || a->s[j] > geo || a->pb[j] > geo || a->pe[j] > geo) return false;
  return infer_fits_int32(ny) && infer_fits_int32(nx);
}

template <typename T, int VEC>
static void launch_pool2d_fast(const T *x, T *y, const Pool2d &a, cudaStream_t s) {
  int64_t total = (int64_t)a.planes * a.oh * a.ow * (a.channels / VEC);
  pool2d_fast_kernel<T, VEC><<<infer_cuda_blocks(total), INFER_CUDA_THREADS, 0, s>>>(x, y, a);
}

template <typename T>
static void run_pool2d_fast(const InferPoolParams *p, const PoolArgs *a, const T *x, T *y,
                            cudaStream_t s) {
  Pool2d b;
  b.planes = (int)a->planes;
  b.channels = p->channels_last ? (int)a->channels : 1;
  b.ih = (int)a->in[1], b.iw = (int)a->in[2], b.oh = (int)a->out[1], b.ow = (int)a->out[2];
  b.kh = (int)a->k[1], b.kw = (int)a->k[2], b.sh = (int)a->s[1], b.sw = (int)a->s[2];
  b.ph = (int)a->pb[1], b.pw = (int)a->pb[2], b.ph_end = (int)a->pe[1], b.pw_end = (int)a->pe[2];
  b.average = p->kind == INFER_POOL_AVERAGE;
  b.count_include_pad = a->count_include_pad;
  int width = infer_channel_vec_width<T>(b.channels, (uintptr_t)x | (uintptr_t)y);
  if (width == (int)(16 / sizeof(T)))
    launch_pool2d_fast<T, 16 / sizeof(T)>(x, y, b, s);
  else if (width == 2)
    launch_pool2d_fast<T, 2>(x, y, b, s);
  else
    launch_pool2d_fast<T, 1>(x, y, b, s);
}

/* ---- global pooling ---------------------------------------------------------- */

template <typename T>
__global__ void global_pool_kernel(const T *__restrict__ x, T *__restrict__ y,
                                   int64_t planes, int64_t n, InferPoolKind kind, double p) {
  __shared__ double s_sum[INFER_CUDA_THREADS];
  __shared__ float s_max[INFER_CUDA_THREADS];
  for (int64_t plane = blockIdx.x; plane < planes; plane += gridDim.x) {
    const T *xp = x + plane * n;
    float mx = -INFINITY;
    double sum = 0.0;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
      float v = ldf(xp, i);
      if (kind == INFER_POOL_MAX)
        mx = (v > mx || isnan(v)) ? v : mx;
      else if (kind == INFER_POOL_AVERAGE)
        sum += v;
      else
        sum += lp_term(v, p);
    }
    s_sum[threadIdx.x] = sum;
    s_max[threadIdx.x] = mx;
    __syncthreads();
    for (int half = blockDim.x / 2; half > 0; half /= 2) {
      if ((int)threadIdx.x < half) {
        float b = s_max[threadIdx.x + half];
        if (b > s_max[threadIdx.x] || isnan(b)) s_max[threadIdx.x] = b;
        s_sum[threadIdx.x] += s_sum[threadIdx.x + half];
      }
      __syncthreads();
    }
    if (threadIdx.x == 0) {
      if (kind == INFER_POOL_MAX)
        stf(y, plane, s_max[0]);
      else if (kind == INFER_POOL_LP)
        stf(y, plane, (float)lp_root(s_sum[0], p));
      else
        stf(y, plane, (float)(s_sum[0] / (double)n));
    }
    __syncthreads();
  }
}

/* Channels-last global pooling: one thread per (image, channel), adjacent
 * threads reading adjacent channels of one position (coalesced). */
template <typename T>
__global__ void global_pool_nhwc_kernel(const T *__restrict__ x, T *__restrict__ y,
                                        int64_t images, int64_t n, int64_t channels,
                                        InferPoolKind kind, double p) {
  INFER_CUDA_GRID_STRIDE(i, images * channels) {
    int64_t img = i / channels, c = i % channels;
    const T *xp = x + img * n * channels + c;
    float mx = -INFINITY;
    double sum = 0.0;
    for (int64_t s = 0; s < n; s++) {
      float v = ldf(xp, s * channels);
      if (kind == INFER_POOL_MAX)
        mx = (v > mx || isnan(v)) ? v : mx;
      else if (kind == INFER_POOL_AVERAGE)
        sum += v;
      else
        sum += lp_term(v, p);
    }
    float r = kind == INFER_POOL_MAX ? mx
              : kind == INFER_POOL_LP ? (float)lp_root(sum, p)
                                      : (float)(sum / (double)n);
    stf(y, i, r);
  }
}

/* ---- entry points ------------------------------------------------------------- */

extern "C" InferStatus *infer_cuda_supports_pool(const InferOpCall *c) {
  const InferPoolParams *p = &c->params->pool;
  InferDType t = infer_call_input(c, 0)->dtype;
  bool byte = t == INFER_DTYPE_U8 || t == INFER_DTYPE_I8;
  if (t != INFER_DTYPE_F32 && t != INFER_DTYPE_F16 && !(byte && p->kind == INFER_POOL_MAX))
    return infer_status_new(INFER_ERR_UNSUPPORTED,
                            "layer '%s' (%s): input of type %s is not supported on the CUDA "
                            "backend (f32 or f16; u8 and i8 for max pooling)",
                            c->node, infer_op_name(c->op), infer_dtype_name(t));
  if (p->kind != INFER_POOL_MAX && p->kind != INFER_POOL_AVERAGE && p->kind != INFER_POOL_LP)
    return pool_unsupported(c, "this pooling kind");
  int rank = c->in[0].shape.rank;
  if (p->global) {
    if (rank < 2) return pool_unsupported(c, "global pooling of an input of rank below 2");
    return NULL;
  }
  if (p->spatial < 1 || p->spatial > INFER_MAX_SPATIAL)
    return pool_unsupported(c, "this number of spatial dims");
  if (rank != p->spatial + 2) return pool_unsupported(c, "an input rank other than spatial + 2");
  return NULL;
}

extern "C" size_t infer_cuda_workspace_pool(const InferOpCall *call) {
  (void)call;
  return 0;
}

/* The layer's shape as channels-first (a channels-last [N, spatial..., C]
 * is viewed as [N, C, spatial...]). */
static InferShape channels_first(const InferShape *s, bool channels_last) {
  if (!channels_last || s->rank < 3) return *s;
  InferShape r = *s;
  r.d[1] = s->d[s->rank - 1];
  for (int i = 2; i < s->rank; i++) r.d[i] = s->d[i - 1];
  return r;
}

static InferStatus *pool_plan(const InferOpCall *c, PoolArgs *a) {
  const InferPoolParams *p = &c->params->pool;
  InferShape xcf = channels_first(&c->in[0].shape, p->channels_last);
  InferShape ycf = channels_first(&c->out[0].shape, p->channels_last);
  const InferShape *xs = &xcf, *ys = &ycf;
  a->kind = p->kind;
  a->count_include_pad = p->count_include_pad;
  a->p = (double)p->p;
  a->channels_last = p->channels_last;
  a->channels = xs->d[1];
  a->planes = p->channels_last ? xs->d[0] : xs->d[0] * xs->d[1];
  for (int j = 0; j < 3; j++) {
    a->in[j] = a->out[j] = a->k[j] = a->s[j] = a->d[j] = 1;
    a->pb[j] = a->pe[j] = 0;
  }
  for (int i = 0; i < p->spatial; i++) {
    int j = 3 - p->spatial + i;
    InferGeoDim d = {xs->d[2 + i], p->kernel[i], p->strides[i], p->dilations[i], p->pads[i],
                     p->pads[p->spatial + i]};
    int64_t out;
    if (infer_geo_window(&d, p->auto_pad, p->ceil_mode, &a->pb[j], &a->pe[j], &out) !=
            INFER_GEO_OK ||
        out != ys->d[2 + i])
      return infer_status_new(INFER_ERR_INTERNAL, "layer '%s' (pool): output shape mismatch",
                              c->node);
    a->in[j] = d.in;
    a->out[j] = out;
    a->k[j] = d.kernel;
    a->s[j] = infer_geo_default1(d.stride);
    a->d[j] = infer_geo_default1(d.dilation);
  }
  return NULL;
}

template <typename T>
static InferStatus *run_pool(const InferOpCall *c, cudaStream_t stream) {
  const InferPoolParams *p = &c->params->pool;
  InferShape xs = channels_first(&c->in[0].shape, p->channels_last);
  const T *x = (const T *)c->in[0].data;
  T *y = (T *)c->out[0].data;
  int64_t ny = infer_shape_numel(&c->out[0].shape);
  if (ny <= 0) return NULL;
  if (p->global) {
    int64_t n = 1;
    for (int i = 2; i < xs.rank; i++) n *= xs.d[i];
    if (p->channels_last) {
      global_pool_nhwc_kernel<T><<<infer_cuda_blocks(xs.d[0] * xs.d[1]), INFER_CUDA_THREADS, 0,
                                   stream>>>(x, y, xs.d[0], n, xs.d[1], p->kind, (double)p->p);
      return infer_cuda_launch_status(c, "global pooling kernel");
    }
    int64_t planes = xs.d[0] * xs.d[1];
    unsigned blocks = planes > 65535 * 16 ? 65535u * 16u : (unsigned)planes;
    global_pool_kernel<T><<<blocks, INFER_CUDA_THREADS, 0, stream>>>(x, y, planes, n, p->kind,
                                                                      (double)p->p);
    return infer_cuda_launch_status(c, "global pooling kernel");
  }
  PoolArgs a;
  INFER_TRY(pool_plan(c, &a));
  if (pool2d_fast_fits(p, &a, ny, infer_shape_numel(&c->in[0].shape))) {
    run_pool2d_fast<T>(p, &a, x, y, stream);
    return infer_cuda_launch_status(c, "pooling kernel");
  }
  pool_kernel<T><<<infer_cuda_blocks(ny), INFER_CUDA_THREADS, 0, stream>>>(x, y, a);
  return infer_cuda_launch_status(c, "pooling kernel");
}

extern "C" InferStatus *infer_cuda_run_pool(const InferOpCall *c, const InferCudaExec *ex) {
  cudaStream_t stream = (cudaStream_t)ex->stream;
  switch (c->in[0].dtype) {
    case INFER_DTYPE_F16: return run_pool<__half>(c, stream);
    case INFER_DTYPE_U8: return run_pool<uint8_t>(c, stream);
    case INFER_DTYPE_I8: return run_pool<int8_t>(c, stream);
    default: return run_pool<float>(c, stream);
  }
}
