/* CUDA kernels for data movement: reshape (a device copy, nothing when the
 * output aliases the input), transpose (shared-memory tiles for batched 2-D
 * transposes, strided otherwise), concat, split, slice (any steps, negative
 * too), gather, gather_elements, expand and tile. Elements are moved by
 * size, so every dtype works; strided layouts are collapsed on the host and
 * copies use the widest unit (up to 16 bytes) that sizes, strides and
 * alignment allow. Gather indices live on the device: one out of range
 * yields zeros (a kernel cannot report it). Trilu, depth_space and the
 * generators are in cuda_generators.cu, pad and resize in cuda_pad_resize.cu. */
#include "cuda_common.cuh"

using namespace infer_cu;

#define GRID_STRIDE INFER_CU_GRID_STRIDE
#define DISPATCH_UNIT INFER_CU_BY_UNIT

namespace {

/* ---- strided gather copy: y[i] = x[base + sum(idx_d * st_d)] ------------------ */

struct Strided {
  int rank;
  int64_t dims[INFER_MAX_RANK];
  int64_t st[INFER_MAX_RANK];
  int64_t base;
};

/* Drops size-1 dims and merges dims that the source walks contiguously. */
Strided collapse(const InferShape *out, const int64_t *st, int64_t base) {
  Strided s;
  s.rank = 0;
  s.base = base;
  for (int d = 0; d < out->rank; d++) {
    if (out->d[d] == 1) continue;
    if (s.rank > 0 && s.st[s.rank - 1] == st[d] * out->d[d]) {
      s.dims[s.rank - 1] *= out->d[d];
      s.st[s.rank - 1] = st[d];
      continue;
    }
    s.dims[s.rank] = out->d[d];
    s.st[s.rank] = st[d];
    s.rank++;
  }
  if (s.rank == 0) {
    s.rank = 1;
    s.dims[0] = 1;
    s.st[0] = 1;
  }
  return s;
}

/* The widest unit (bytes) that moves `es`-byte elements of s in groups. */
int widen(Strided *s, size_t es, const void *x, const void *y) {
  int last = s->rank - 1;
  if (s->st[last] != 1) return (int)es;
  for (int u = 16; u > (int)es; u /= 2) {
    if (u % (int)es) continue;
    int64_t k = u / (int64_t)es;
    bool ok = s->dims[last] % k == 0 && s->base % k == 0 && (uintptr_t)x % u == 0 &&
              (uintptr_t)y % u == 0;
    for (int d = 0; d < last; d++) ok &= s->st[d] % k == 0;
    if (!ok) continue;
    s->dims[last] /= k;
    for (int d = 0; d < last; d++) s->st[d] /= k;
    s->base /= k;
    return u;
  }
  return (int)es;
}

template <typename T>
__global__ void strided_kernel(const T *__restrict__ x, T *__restrict__ y, int64_t n, Strided s) {
  GRID_STRIDE(i, n) {
    int64_t off = s.base, r = i;
    for (int d = s.rank - 1; d > 0; d--) {
      int64_t q = r / s.dims[d];
      off += (r - q * s.dims[d]) * s.st[d];
      r = q;
    }
    y[i] = x[off + r * s.st[0]];
  }
}

/* y (dense, shape `out`) from x at element strides `st` plus `base`. */
InferStatus *strided_copy(const InferOpCall *c, const void *x, void *y, size_t es,
                          const InferShape *out, const int64_t *st, int64_t base,
                          cudaStream_t stream) {
  int64_t n = infer_shape_numel(out);
  if (n <= 0) return NULL;
  Strided s = collapse(out, st, base);
  if (s.rank == 1 && s.st[0] == 1)
    return copy_d2d(c, y, (const char *)x + (size_t)base * es, (size_t)n * es, stream);
  int u = widen(&s, es, x, y);
  int64_t units = n * (int64_t)es / u;
#define LAUNCH(U)                                                                        \
  strided_kernel<Unit<U>::T><<<blocks_for(units), kThreads, 0, stream>>>(               \
      (const Unit<U>::T *)x, (Unit<U>::T *)y, units, s)
  DISPATCH_UNIT(u, LAUNCH)
#undef LAUNCH
  return launched(c, "strided copy kernel");
}

/* ---- batched 2-D transpose through shared-memory tiles ------------------------- */

constexpr int kTile = 32;

/* y[b][r][c] = x[b][c][r] for x of shape [batch, cols, rows]. */
template <typename T>
__global__ void transpose_tiled(const T *__restrict__ x, T *__restrict__ y, int64_t batch,
                                int64_t rows, int64_t cols) {
  __shared__ T tile[kTile][kTile + 1];
  int64_t r0 = (int64_t)blockIdx.x * kTile, c0 = (int64_t)blockIdx.y * kTile;
  for (int64_t b = blockIdx.z; b < batch; b += gridDim.z) {
    const T *xb = x + b * rows * cols;
    T *yb = y + b * rows * cols;
    for (int k = threadIdx.y; k < kTile; k += blockDim.y) {
      int64_t c = c0 + k, r = r0 + threadIdx.x;
      if (c < cols && r < rows) tile[k][threadIdx.x] = xb[c * rows + r];
    }
    __syncthreads();
    for (int k = threadIdx.y; k < kTile; k += blockDim.y) {
      int64_t r = r0 + k, c = c0 + threadIdx.x;
      if (r < rows && c < cols) yb[r * cols + c] = tile[threadIdx.x][k];
    }
    __syncthreads();
  }
}

template <typename T>
void launch_tiled(const void *x, void *y, int64_t batch, int64_t rows, int64_t cols,
                  cudaStream_t s) {
  dim3 block(kTile, 8);
  int64_t gz = batch < 65535 ? batch : 65535;
  dim3 grid((unsigned)((rows + kTile - 1) / kTile), (unsigned)((cols + kTile - 1) / kTile),
            (unsigned)gz);
  transpose_tiled<T><<<grid, block, 0, s>>>((const T *)x, (T *)y, batch, rows, cols);
}

/* The same transpose when cols is small (NCHW -> NHWC of an image with 3
 * or 4 channels, the input of every vision model): a 32x32 tile wastes
 * most of its threads on 3 columns (0.84 ms for ResNet-50's input at
 * batch 256 on the H200). Here one thread moves one row: it reads `cols`
 * planes, each read coalesced across the warp, and writes its `cols`
 * values next to its neighbours'. */
constexpr int kNarrowCols = 8;

template <typename T>
__global__ void transpose_narrow(const T *__restrict__ x, T *__restrict__ y, int64_t batch,
                                 int64_t rows, int cols) {
  int64_t total = batch * rows;
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < total;
       i += (int64_t)gridDim.x * blockDim.x) {
    int64_t b = i / rows, r = i - b * rows;
    const T *xb = x + b * rows * cols + r;
    T v[kNarrowCols];
#pragma unroll
    for (int c = 0; c < kNarrowCols; c++)
      if (c < cols) v[c] = xb[(int64_t)c * rows];
    T *yr = y + i * cols;
#pragma unroll
    for (int c = 0; c < kNarrowCols; c++)
      if (c < cols) yr[c] = v[c];
  }
}

template <typename T>
void launch_narrow(const void *x, void *y, int64_t batch, int64_t rows, int64_t cols,
                   cudaStream_t s) {
  transpose_narrow<T><<<blocks_for(batch * rows), kThreads, 0, s>>>((const T *)x, (T *)y, batch,
                                                                    rows, (int)cols);
}

/* ---- 2-D block copy (concat, split) ----------------------------------------------- */

template <typename T>
__global__ void copy2d_kernel(const T *__restrict__ x, int64_t x_pitch, T *__restrict__ y,
                              int64_t y_pitch, int64_t rows, int64_t cols) {
  GRID_STRIDE(i, rows * cols) {
    int64_t r = i / cols, c = i - r * cols;
    y[r * y_pitch + c] = x[r * x_pitch + c];
  }
}

/* rows of `width` bytes from x (pitch xp) to y (pitch yp), all in bytes. */
InferStatus *copy2d(const InferOpCall *c, const char *x, int64_t xp, char *y, int64_t yp,
                    int64_t rows, int64_t width, cudaStream_t s) {
  if (rows <= 0 || width <= 0) return NULL;
  int u = 16;
  while (u > 1 && (width % u || xp % u || yp % u || (uintptr_t)x % u || (uintptr_t)y % u)) u /= 2;
  int64_t cols = width / u, units = rows * cols;
#define LAUNCH(U)                                                                           \
  copy2d_kernel<Unit<U>::T><<<blocks_for(units), kThreads, 0, s>>>(                        \
      (const Unit<U>::T *)x, xp / U, (Unit<U>::T *)y, yp / U, rows, cols)
  DISPATCH_UNIT(u, LAUNCH)
#undef LAUNCH
  return launched(c, "block copy kernel");
}

int64_t dims_product(const InferShape *s, int from, int to) {
  int64_t p = 1;
  for (int i = from; i < to; i++) p *= s->d[i];
  return p;
}

/* Checks parts stacked along axis against whole (known dims only). */
InferStatus *check_parts(const InferOpCall *c, const InferTensorView *whole,
                         const InferTensorView *parts, int n, int64_t axis) {
  if (infer_dtype_size(whole->dtype) == 0) return bad_dtype(c, 0);
  if (axis < 0) axis += whole->shape.rank;
  if (axis < 0 || axis >= whole->shape.rank) return invalid(c, "axis is out of range");
  for (int i = 0; i < n; i++) {
    if (parts[i].dtype != whole->dtype) return invalid(c, "input and output types differ");
    if (parts[i].shape.rank != whole->shape.rank)
      return invalid(c, "shapes differ outside the axis");
  }
  return NULL;
}

/* Moves parts to/from whole along axis (every dim known). */
InferStatus *move_parts(const InferOpCall *c, const InferTensorView *whole,
                        const InferTensorView *parts, int n, int64_t axis, bool to_whole,
                        cudaStream_t s) {
  int rank = whole->shape.rank;
  if (axis < 0) axis += rank;
  size_t es = infer_dtype_size(whole->dtype);
  int64_t outer = dims_product(&whole->shape, 0, (int)axis);
  int64_t inner = dims_product(&whole->shape, (int)axis + 1, rank) * (int64_t)es;
  int64_t whole_row = whole->shape.d[axis] * inner, col = 0;
  for (int i = 0; i < n; i++) {
    int64_t row = parts[i].shape.d[axis] * inner;
    if (col + row > whole_row) return invalid(c, "sizes along the axis do not add up");
    char *w = (char *)whole->data + col;
    char *p = (char *)parts[i].data;
    if (to_whole) INFER_TRY(copy2d(c, p, row, w, whole_row, outer, row, s));
    else INFER_TRY(copy2d(c, w, whole_row, p, row, outer, row, s));
    col += row;
  }
  return NULL;
}

/* ---- gather, gather_elements ---------------------------------------------------- */

template <typename T, typename I>
__global__ void gather_kernel(const T *__restrict__ x, const I *__restrict__ idx, T *__restrict__ y,
                              int64_t outer, int64_t n_idx, int64_t inner, int64_t dim) {
  GRID_STRIDE(i, outer * n_idx * inner) {
    int64_t in = i % inner, t = i / inner, j = t % n_idx, o = t / n_idx;
    int64_t k = (int64_t)idx[j];
    if (k < 0) k += dim;
    T v;
    if (k >= 0 && k < dim) v = x[(o * dim + k) * inner + in];
    else memset(&v, 0, sizeof v);
    y[i] = v;
  }
}

struct GatherElems {
  int rank, axis;
  int64_t dims[INFER_MAX_RANK];   /* of the indices / output */
  int64_t xst[INFER_MAX_RANK];    /* element strides of x */
  int64_t dim;                    /* x's size along axis */
};

template <typename T, typename I>
__global__ void gather_elements_kernel(const T *__restrict__ x, const I *__restrict__ idx,
                                       T *__restrict__ y, int64_t n, GatherElems g) {
  GRID_STRIDE(i, n) {
    int64_t k = (int64_t)idx[i];
    if (k < 0) k += g.dim;
    int64_t off = 0, r = i;
    for (int d = g.rank - 1; d >= 0; d--) {
      int64_t q = r / g.dims[d], p = r - q * g.dims[d];
      r = q;
      off += (d == g.axis ? k : p) * g.xst[d];
    }
    T v;
    if (k >= 0 && k < g.dim) v = x[off];
    else memset(&v, 0, sizeof v);
    y[i] = v;
  }
}

/* ---- tile ------------------------------------------------------------------------ */

struct TileArgs {
  int rank;
  int64_t ydims[INFER_MAX_RANK], xdims[INFER_MAX_RANK], xst[INFER_MAX_RANK];
};

template <typename T>
__global__ void tile_kernel(const T *__restrict__ x, T *__restrict__ y, int64_t n, TileArgs a) {
  GRID_STRIDE(i, n) {
    int64_t off = 0, r = i;
    for (int d = a.rank - 1; d >= 0; d--) {
      int64_t q = r / a.ydims[d], p = r - q * a.ydims[d];
      r = q;
      off += (p % a.xdims[d]) * a.xst[d];
    }
    y[i] = x[off];
  }
}

}  // namespace

/* ---- entry points ------------------------------------------------------------------------ */

extern "C" {

INFER_CU_NO_WORKSPACE(reshape)
INFER_CU_NO_WORKSPACE(transpose)
INFER_CU_NO_WORKSPACE(concat)
INFER_CU_NO_WORKSPACE(split)
INFER_CU_NO_WORKSPACE(slice)
INFER_CU_NO_WORKSPACE(gather)
INFER_CU_NO_WORKSPACE(gather_elements)
INFER_CU_NO_WORKSPACE(expand)
INFER_CU_NO_WORKSPACE(tile)

#define STREAM ((cudaStream_t)exec->stream)

InferStatus *infer_cuda_supports_reshape(const InferOpCall *c) { return check_passthrough(c); }

InferStatus *infer_cuda_run_reshape(const InferOpCall *c, const InferCudaExec *exec) {
  int64_t n = infer_shape_numel(&c->out[0].shape);
  if (n != infer_shape_numel(&c->in[0].shape))
    return invalid(c, "output and input element counts differ");
  return copy_d2d(c, c->out[0].data, c->in[0].data, (size_t)n * infer_dtype_size(c->out[0].dtype),
                  STREAM);
}

InferStatus *infer_cuda_supports_transpose(const InferOpCall *c) {
  INFER_TRY(check_passthrough(c));
  const InferTransposeParams *p = &c->params->transpose;
  if (p->n_perm != 0 && p->n_perm != c->in[0].shape.rank)
    return invalid(c, "perm does not match the input rank");
  return NULL;
}

InferStatus *infer_cuda_run_transpose(const InferOpCall *c, const InferCudaExec *exec) {
  const InferTransposeParams *p = &c->params->transpose;
  const InferShape *xs = &c->in[0].shape, *ys = &c->out[0].shape;
  int rank = xs->rank;
  int64_t xst[INFER_MAX_RANK], st[INFER_MAX_RANK], acc = 1;
  bool used[INFER_MAX_RANK] = {false};
  for (int d = rank - 1; d >= 0; d--) {
    xst[d] = acc;
    acc *= xs->d[d];
  }
  if (ys->rank != rank) return invalid(c, "perm does not match the input rank");
  for (int i = 0; i < rank; i++) {
    int64_t q = p->n_perm ? p->perm[i] : rank - 1 - i;
    if (q < 0 || q >= rank || used[q] || ys->d[i] != xs->d[q])
      return invalid(c, "perm is not a permutation matching the output shape");
    used[q] = true;
    st[i] = xst[q];
  }
  int64_t n = infer_shape_numel(ys);
  if (n <= 0) return NULL;
  size_t es = infer_dtype_size(c->in[0].dtype);
  Strided s = collapse(ys, st, 0);
  /* [batch, rows, cols] <- [batch, cols, rows]: shared-memory tiles */
  bool two = s.rank == 2 && s.st[1] == s.dims[0] && s.st[0] == 1;
  bool three = s.rank == 3 && s.st[1] == 1 && s.st[2] == s.dims[1] &&
               s.st[0] == s.dims[1] * s.dims[2];
  int64_t batch = 1, rows = 0, cols = 0;
  if (two || three) {
    batch = two ? 1 : s.dims[0];
    rows = s.dims[two ? 0 : 1];
    cols = s.dims[two ? 1 : 2];
  }
  if ((two || three) && cols <= kNarrowCols && rows >= 4 * kTile) {
    const void *x = c->in[0].data;
    void *y = c->out[0].data;
    switch (es) {
      case 1: launch_narrow<uint8_t>(x, y, batch, rows, cols, STREAM); break;
      case 2: launch_narrow<uint16_t>(x, y, batch, rows, cols, STREAM); break;
      case 4: launch_narrow<uint32_t>(x, y, batch, rows, cols, STREAM); break;
      default: launch_narrow<uint64_t>(x, y, batch, rows, cols, STREAM); break;
    }
    return launched(c, "transpose kernel");
  }
  if ((two || three) && (cols + kTile - 1) / kTile <= 65535) { /* gridDim.y limit */
    const void *x = c->in[0].data;
    void *y = c->out[0].data;
    switch (es) {
      case 1: launch_tiled<uint8_t>(x, y, batch, rows, cols, STREAM); break;
      case 2: launch_tiled<uint16_t>(x, y, batch, rows, cols, STREAM); break;
      case 4: launch_tiled<uint32_t>(x, y, batch, rows, cols, STREAM); break;
      default: launch_tiled<uint64_t>(x, y, batch, rows, cols, STREAM); break;
    }
    return launched(c, "transpose kernel");
  }
  return strided_copy(c, c->in[0].data, c->out[0].data, es, ys, st, 0, STREAM);
}

InferStatus *infer_cuda_supports_concat(const InferOpCall *c) {
  return check_parts(c, &c->out[0], c->in, c->n_in, c->params->axis.axis);
}

InferStatus *infer_cuda_run_concat(const InferOpCall *c, const InferCudaExec *exec) {
  INFER_TRY(check_parts(c, &c->out[0], c->in, c->n_in, c->params->axis.axis));
  return move_parts(c, &c->out[0], c->in, c->n_in, c->params->axis.axis, true, STREAM);
}

InferStatus *infer_cuda_supports_split(const InferOpCall *c) {
  return check_parts(c, &c->in[0], c->out, c->n_out, c->params->split.axis);
}

InferStatus *infer_cuda_run_split(const InferOpCall *c, const InferCudaExec *exec) {
  INFER_TRY(check_parts(c, &c->in[0], c->out, c->n_out, c->params->split.axis));
  return move_parts(c, &c->in[0], c->out, c->n_out, c->params->split.axis, false, STREAM);
}

InferStatus *infer_cuda_supports_slice(const InferOpCall *c) {
  INFER_TRY(check_passthrough(c));
  for (int i = 1; i < 5; i++) {
    const InferTensorView *t = infer_call_input(c, i);
    if (t->dtype == INFER_DTYPE_UNDEFINED) {
      if (i < 3) return invalid(c, "starts and ends are required");
      continue;
    }
    if (!is_index(t->dtype)) return bad_dtype(c, i);
  }
  return NULL;
}

/* Same clamping as the CPU reference (ONNX Slice): the first index taken. */
static int64_t slice_first(int64_t d, int64_t start, int64_t step) {
  if (start < 0) start += d;
  int64_t hi = step > 0 ? d : d - 1;
  return start < 0 ? 0 : (start > hi ? hi : start);
}

InferStatus *infer_cuda_run_slice(const InferOpCall *c, const InferCudaExec *exec) {
  const InferShape *x = &c->in[0].shape, *y = &c->out[0].shape;
  const InferTensorView *starts = &c->in[1], *ends = &c->in[2];
  const InferTensorView *axes = infer_call_input(c, 3), *steps = infer_call_input(c, 4);
  for (int i = 1; i < 5; i++) INFER_TRY(require_host_value(c, i));
  int64_t n = infer_shape_numel(&starts->shape);
  if (n != infer_shape_numel(&ends->shape) || n > x->rank)
    return invalid(c, "starts and ends differ in length or exceed the rank");
  if ((axes->dtype != INFER_DTYPE_UNDEFINED && infer_shape_numel(&axes->shape) != n) ||
      (steps->dtype != INFER_DTYPE_UNDEFINED && infer_shape_numel(&steps->shape) != n))
    return invalid(c, "axes and steps must match starts in length");
  if (y->rank != x->rank) return invalid(c, "output rank differs from input");
  int64_t first[INFER_MAX_RANK] = {0}, step_of[INFER_MAX_RANK];
  for (int a = 0; a < x->rank; a++) step_of[a] = 1;
  for (int64_t k = 0; k < n; k++) {
    int64_t a = axes->dtype != INFER_DTYPE_UNDEFINED ? host_int(axes, k) : k;
    int64_t step = steps->dtype != INFER_DTYPE_UNDEFINED ? host_int(steps, k) : 1;
    if (a < 0) a += x->rank;
    if (a < 0 || a >= x->rank || step == 0) return invalid(c, "bad axis or step");
    first[a] = slice_first(x->d[a], host_int(starts, k), step);
    step_of[a] = step;
  }
  int64_t xst[INFER_MAX_RANK], st[INFER_MAX_RANK], base = 0, acc = 1;
  for (int a = x->rank - 1; a >= 0; a--) {
    xst[a] = acc;
    acc *= x->d[a];
  }
  for (int a = 0; a < x->rank; a++) {
    if (y->d[a] == 0) return NULL; /* empty output */
    int64_t last = first[a] + (y->d[a] - 1) * step_of[a];
    if (last < 0 || last >= x->d[a]) return invalid(c, "an output dim does not fit the input");
    base += first[a] * xst[a];
    st[a] = step_of[a] * xst[a];
  }
  return strided_copy(c, c->in[0].data, c->out[0].data, infer_dtype_size(c->in[0].dtype), y, st,
                      base, STREAM);
}

InferStatus *infer_cuda_supports_gather(const InferOpCall *c) {
  INFER_TRY(check_passthrough(c));
  if (!is_index(infer_call_input(c, 1)->dtype)) return bad_dtype(c, 1);
  int rank = c->in[0].shape.rank;
  int64_t axis = c->params->axis.axis < 0 ? c->params->axis.axis + rank : c->params->axis.axis;
  if (axis < 0 || axis >= rank) return invalid(c, "axis is out of range");
  return NULL;
}

InferStatus *infer_cuda_run_gather(const InferOpCall *c, const InferCudaExec *exec) {
  const InferTensorView *x = &c->in[0], *idx = &c->in[1];
  int rank = x->shape.rank;
  int64_t axis = c->params->axis.axis < 0 ? c->params->axis.axis + rank : c->params->axis.axis;
  int64_t dim = x->shape.d[axis], n_idx = infer_shape_numel(&idx->shape);
  int64_t outer = dims_product(&x->shape, 0, (int)axis);
  int64_t inner = dims_product(&x->shape, (int)axis + 1, rank);
  if (infer_shape_numel(&c->out[0].shape) != outer * n_idx * inner)
    return invalid(c, "output size does not match");
  int64_t n = outer * n_idx * inner;
  if (n <= 0) return NULL;
  size_t es = infer_dtype_size(x->dtype);
  /* move whole rows in wider units when they allow */
  int u = (int)es;
  while (u < 16 && (inner * (int64_t)es) % (2 * u) == 0 && (uintptr_t)x->data % (2 * u) == 0 &&
         (uintptr_t)c->out[0].data % (2 * u) == 0)
    u *= 2;
  inner = inner * (int64_t)es / u;
  n = outer * n_idx * inner;
  bool i64 = idx->dtype == INFER_DTYPE_I64;
#define LAUNCH(U)                                                                               \
  if (i64)                                                                                      \
    gather_kernel<Unit<U>::T, int64_t><<<blocks_for(n), kThreads, 0, STREAM>>>(                 \
        (const Unit<U>::T *)x->data, (const int64_t *)idx->data, (Unit<U>::T *)c->out[0].data, \
        outer, n_idx, inner, dim);                                                              \
  else                                                                                          \
    gather_kernel<Unit<U>::T, int32_t><<<blocks_for(n), kThreads, 0, STREAM>>>(                 \
        (const Unit<U>::T *)x->data, (const int32_t *)idx->data, (Unit<U>::T *)c->out[0].data, \
        outer, n_idx, inner, dim)
  DISPATCH_UNIT(u, LAUNCH)
#undef LAUNCH
  return launched(c, "gather kernel");
}

InferStatus *infer_cuda_supports_gather_elements(const InferOpCall *c) {
  INFER_TRY(infer_cuda_supports_gather(c));
  if (c->in[1].shape.rank != c->in[0].shape.rank)
    return invalid(c, "indices must have the data's rank");
  return NULL;
}

InferStatus *infer_cuda_run_gather_elements(const InferOpCall *c, const InferCudaExec *exec) {
  const InferTensorView *x = &c->in[0], *idx = &c->in[1];
  int rank = x->shape.rank;
  GatherElems g;
  g.rank = rank;
  g.axis = (int)(c->params->axis.axis < 0 ? c->params->axis.axis + rank : c->params->axis.axis);
  g.dim = x->shape.d[g.axis];
  int64_t acc = 1;
  for (int d = rank - 1; d >= 0; d--) {
    g.xst[d] = acc;
    acc *= x->shape.d[d];
    g.dims[d] = idx->shape.d[d];
    if (d != g.axis && idx->shape.d[d] > x->shape.d[d])
      return invalid(c, "an indices dim is larger than the data's");
  }
  if (!infer_shape_equal(&c->out[0].shape, &idx->shape))
    return invalid(c, "output shape must equal the indices' shape");
  int64_t n = infer_shape_numel(&idx->shape);
  if (n <= 0) return NULL;
  size_t es = infer_dtype_size(x->dtype);
  bool i64 = idx->dtype == INFER_DTYPE_I64;
#define GE(T)                                                                                  \
  if (i64)                                                                                     \
    gather_elements_kernel<T, int64_t><<<blocks_for(n), kThreads, 0, STREAM>>>(               \
        (const T *)x->data, (const int64_t *)idx->data, (T *)c->out[0].data, n, g);           \
  else                                                                                         \
    gather_elements_kernel<T, int32_t><<<blocks_for(n), kThreads, 0, STREAM>>>(               \
        (const T *)x->data, (const int32_t *)idx->data, (T *)c->out[0].data, n, g)
  switch (es) {
    case 1: GE(uint8_t); break;
    case 2: GE(uint16_t); break;
    case 4: GE(uint32_t); break;
    default: GE(uint64_t); break;
  }
#undef GE
  return launched(c, "gather_elements kernel");
}

InferStatus *infer_cuda_supports_expand(const InferOpCall *c) { return check_passthrough(c); }

InferStatus *infer_cuda_run_expand(const InferOpCall *c, const InferCudaExec *exec) {
  const InferShape *x = &c->in[0].shape, *y = &c->out[0].shape;
  if (x->rank > y->rank) return invalid(c, "output rank is below the input's");
  int64_t st[INFER_MAX_RANK], acc = 1;
  for (int d = y->rank - 1; d >= 0; d--) {
    int j = d - (y->rank - x->rank);
    if (j < 0) {
      st[d] = 0;
      continue;
    }
    if (x->d[j] != 1 && x->d[j] != y->d[d])
      return invalid(c, "input does not broadcast to the output shape");
    st[d] = x->d[j] == 1 ? 0 : acc;
    acc *= x->d[j];
  }
  return strided_copy(c, c->in[0].data, c->out[0].data, infer_dtype_size(c->in[0].dtype), y, st, 0,
                      STREAM);
}

InferStatus *infer_cuda_supports_tile(const InferOpCall *c) { return check_passthrough(c); }

InferStatus *infer_cuda_run_tile(const InferOpCall *c, const InferCudaExec *exec) {
  const InferShape *x = &c->in[0].shape, *y = &c->out[0].shape;
  if (x->rank != y->rank) return invalid(c, "output rank differs from the input's");
  int64_t n = infer_shape_numel(y);
  if (n <= 0) return NULL;
  TileArgs a;
  a.rank = x->rank;
  int64_t acc = 1;
  for (int d = x->rank - 1; d >= 0; d--) {
    if (x->d[d] <= 0 || y->d[d] % x->d[d] != 0)
      return invalid(c, "output dims are not multiples of the input's");
    a.ydims[d] = y->d[d];
    a.xdims[d] = x->d[d];
    a.xst[d] = acc;
    acc *= x->d[d];
  }
  INFER_CU_BY_SIZE(infer_dtype_size(c->in[0].dtype), n, STREAM, tile_kernel, c->in[0].data,
                   c->out[0].data, n, a)
  return launched(c, "tile kernel");
}

}  // extern "C"
