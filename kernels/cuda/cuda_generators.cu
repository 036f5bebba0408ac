/* CUDA kernels that make values or mask them: range, shape, size and
 * constant_of_shape (the values, known on the host, go to the kernel by
 * value, so no host buffer has to outlive the call), trilu and
 * DepthToSpace / SpaceToDepth (elements moved by size: every dtype). */
#include <string.h>

#include "cuda_common.cuh"

using namespace infer_cu;

#define GRID_STRIDE INFER_CU_GRID_STRIDE
#define STREAM ((cudaStream_t)exec->stream)

namespace {

template <typename T>
__global__ void trilu_kernel(const T *__restrict__ x, T *__restrict__ y, int64_t n, int64_t rows,
                             int64_t cols, int64_t k, bool upper) {
  GRID_STRIDE(i, n) {
    int64_t j = i % cols, r = (i / cols) % rows;
    bool keep = upper ? (j - r >= k) : (j - r <= k);
    T v;
    if (keep) v = x[i];
    else memset(&v, 0, sizeof v);
    y[i] = v;
  }
}

/* "deep" is [N, C*b*b, H, W], "shallow" is [N, C, H*b, W*b]; the kernel
 * walks the output. */
template <typename T>
__global__ void depth_space_kernel(const T *__restrict__ x, T *__restrict__ y, int64_t n,
                                   int64_t b, int64_t sc, int64_t h, int64_t w, bool to_space,
                                   bool crd) {
  int64_t dc = sc * b * b, sh = h * b, sw = w * b;
  GRID_STRIDE(i, n) {
    int64_t bn, c, yy, xx, dch;
    if (to_space) { /* output is shallow */
      xx = i % sw;
      yy = (i / sw) % sh;
      c = (i / (sw * sh)) % sc;
      bn = i / (sw * sh * sc);
      int64_t bi = yy % b, bj = xx % b;
      dch = crd ? (c * b + bi) * b + bj : (bi * b + bj) * sc + c;
      y[i] = x[((bn * dc + dch) * h + yy / b) * w + xx / b];
    } else { /* output is deep */
      int64_t dx = i % w, dy = (i / w) % h;
      dch = (i / (w * h)) % dc;
      bn = i / (w * h * dc);
      int64_t bi, bj;
      if (crd) {
        bj = dch % b;
        bi = (dch / b) % b;
        c = dch / (b * b);
      } else {
        c = dch % sc;
        bi = (dch / sc) / b;
        bj = (dch / sc) % b;
      }
      y[i] = x[((bn * sc + c) * sh + dy * b + bi) * sw + dx * b + bj];
    }
  }
}

/* ---- generators ---------------------------------------------------------------------- */

__global__ void range_f32_kernel(float *y, int64_t n, double start, double delta) {
  GRID_STRIDE(i, n) y[i] = (float)__dadd_rn(start, __dmul_rn((double)i, delta));
}

template <typename T>
__global__ void range_int_kernel(T *y, int64_t n, int64_t start, int64_t delta) {
  GRID_STRIDE(i, n) y[i] = (T)(start + i * delta);
}

struct Values {
  int n;
  int64_t v[INFER_MAX_RANK];
};

__global__ void values_kernel(int64_t *y, Values v) {
  int i = threadIdx.x;
  if (i < v.n) y[i] = v.v[i];
}

template <typename T>
__global__ void fill_kernel(T *y, int64_t n, T value) {
  GRID_STRIDE(i, n) y[i] = value;
}

}  // namespace

INFER_CU_NO_WORKSPACE(range)
INFER_CU_NO_WORKSPACE(shape)
INFER_CU_NO_WORKSPACE(size)
INFER_CU_NO_WORKSPACE(constant_of_shape)
INFER_CU_NO_WORKSPACE(trilu)
INFER_CU_NO_WORKSPACE(depth_space)

extern "C" {

InferStatus *infer_cuda_supports_trilu(const InferOpCall *c) {
  INFER_TRY(check_passthrough(c));
  if (c->in[0].shape.rank < 2) return invalid(c, "input must have rank >= 2");
  if (infer_call_has_input(c, 1) && !is_index(c->in[1].dtype)) return bad_dtype(c, 1);
  return NULL;
}

InferStatus *infer_cuda_run_trilu(const InferOpCall *c, const InferCudaExec *exec) {
  const InferTensorView *x = &c->in[0];
  int64_t k = 0;
  INFER_TRY(require_host_value(c, 1));
  if (infer_call_has_input(c, 1)) {
    if (infer_shape_numel(&c->in[1].shape) != 1) return invalid(c, "k must be a scalar");
    k = host_int(&c->in[1], 0);
  }
  int r = x->shape.rank;
  int64_t n = infer_shape_numel(&x->shape), rows = x->shape.d[r - 2], cols = x->shape.d[r - 1];
  if (n <= 0) return NULL;
  INFER_CU_BY_SIZE(infer_dtype_size(x->dtype), n, STREAM, trilu_kernel, x->data, c->out[0].data, n,
                   rows, cols, k, c->params->trilu.upper)
  return launched(c, "trilu kernel");
}

InferStatus *infer_cuda_supports_depth_space(const InferOpCall *c) {
  INFER_TRY(check_passthrough(c));
  if (c->in[0].shape.rank != 4 || c->params->depth_space.blocksize < 1)
    return infer_status_new(INFER_ERR_UNSUPPORTED,
                            "layer '%s' (%s): only 4-D input with a positive blocksize is "
                            "supported",
                            c->node, infer_op_name(c->op));
  return NULL;
}

InferStatus *infer_cuda_run_depth_space(const InferOpCall *c, const InferCudaExec *exec) {
  const InferDepthSpaceParams *p = &c->params->depth_space;
  const InferShape *deep = p->to_space ? &c->in[0].shape : &c->out[0].shape;
  const InferShape *shallow = p->to_space ? &c->out[0].shape : &c->in[0].shape;
  int64_t b = p->blocksize, sc = shallow->d[1], h = deep->d[2], w = deep->d[3];
  if (sc * b * b != deep->d[1] || shallow->d[2] != h * b || shallow->d[3] != w * b ||
      shallow->d[0] != deep->d[0])
    return invalid(c, "shapes do not match");
  int64_t n = infer_shape_numel(&c->out[0].shape);
  if (n <= 0) return NULL;
  INFER_CU_BY_SIZE(infer_dtype_size(c->in[0].dtype), n, STREAM, depth_space_kernel, c->in[0].data,
                   c->out[0].data, n, b, sc, h, w, p->to_space, p->crd_mode)
  return launched(c, "depth_space kernel");
}

InferStatus *infer_cuda_supports_range(const InferOpCall *c) {
  InferDType t = infer_call_input(c, 0)->dtype;
  if (t != INFER_DTYPE_F32 && t != INFER_DTYPE_I32 && t != INFER_DTYPE_I64) return bad_dtype(c, 0);
  for (int i = 1; i < 3; i++)
    if (infer_call_input(c, i)->dtype != t) return bad_dtype(c, i);
  return NULL;
}

/* start and delta are shape inputs: host values. */
InferStatus *infer_cuda_run_range(const InferOpCall *c, const InferCudaExec *exec) {
  int64_t n = c->out[0].shape.d[0];
  if (c->out[0].shape.rank != 1) return invalid(c, "output must be 1-D");
  if (n <= 0) return NULL;
  for (int i = 0; i < 3; i++) INFER_TRY(require_host_value(c, i));
  void *y = c->out[0].data;
  switch (c->in[0].dtype) {
    case INFER_DTYPE_F32:
      range_f32_kernel<<<blocks_for(n), kThreads, 0, STREAM>>>(
          (float *)y, n, *(const float *)c->in[0].data, *(const float *)c->in[2].data);
      break;
    case INFER_DTYPE_I32:
      range_int_kernel<int32_t><<<blocks_for(n), kThreads, 0, STREAM>>>(
          (int32_t *)y, n, *(const int32_t *)c->in[0].data, *(const int32_t *)c->in[2].data);
      break;
    default:
      range_int_kernel<int64_t><<<blocks_for(n), kThreads, 0, STREAM>>>(
          (int64_t *)y, n, *(const int64_t *)c->in[0].data, *(const int64_t *)c->in[2].data);
      break;
  }
  return launched(c, "range kernel");
}

InferStatus *infer_cuda_supports_shape(const InferOpCall *c) {
  if (c->out[0].dtype != INFER_DTYPE_I64 || c->out[0].shape.rank != 1)
    return invalid(c, "output must be 1-D i64");
  return NULL;
}

/* The values go to the kernel by value: no host buffer must outlive the call. */
InferStatus *infer_cuda_run_shape(const InferOpCall *c, const InferCudaExec *exec) {
  int32_t rank = c->in[0].shape.rank;
  int64_t start = c->params->shape.start;
  if (start < 0) start += rank;
  start = start < 0 ? 0 : (start > rank ? rank : start);
  Values v;
  v.n = (int)c->out[0].shape.d[0];
  if (v.n <= 0) return NULL;
  if (start + v.n > rank) return invalid(c, "output is longer than the input's rank");
  for (int i = 0; i < v.n; i++) v.v[i] = c->in[0].shape.d[start + i];
  values_kernel<<<1, 32, 0, STREAM>>>((int64_t *)c->out[0].data, v);
  return launched(c, "shape kernel");
}

InferStatus *infer_cuda_supports_size(const InferOpCall *c) {
  if (c->out[0].dtype != INFER_DTYPE_I64 || infer_shape_numel(&c->out[0].shape) != 1)
    return invalid(c, "output must be an i64 scalar");
  return NULL;
}

InferStatus *infer_cuda_run_size(const InferOpCall *c, const InferCudaExec *exec) {
  Values v;
  v.n = 1;
  v.v[0] = infer_shape_numel(&c->in[0].shape);
  values_kernel<<<1, 32, 0, STREAM>>>((int64_t *)c->out[0].data, v);
  return launched(c, "size kernel");
}

InferStatus *infer_cuda_supports_constant_of_shape(const InferOpCall *c) {
  InferDType t = c->params->constant_of_shape.dtype;
  size_t es = infer_dtype_size(t);
  if (es == 0 || es > 8) return invalid(c, "value type is not valid");
  if (c->out[0].dtype != t) return invalid(c, "output type differs from the value's");
  return NULL;
}

InferStatus *infer_cuda_run_constant_of_shape(const InferOpCall *c, const InferCudaExec *exec) {
  int64_t n = infer_shape_numel(&c->out[0].shape);
  if (n <= 0) return NULL;
  const uint8_t *v = c->params->constant_of_shape.value; /* little-endian, like the device */
  void *y = c->out[0].data;
  switch (infer_dtype_size(c->out[0].dtype)) {
    case 1:
      fill_kernel<uint8_t><<<blocks_for(n), kThreads, 0, STREAM>>>((uint8_t *)y, n, v[0]);
      break;
    case 2: {
      uint16_t x;
      memcpy(&x, v, 2);
      fill_kernel<uint16_t><<<blocks_for(n), kThreads, 0, STREAM>>>((uint16_t *)y, n, x);
      break;
    }
    case 4: {
      uint32_t x;
      memcpy(&x, v, 4);
      fill_kernel<uint32_t><<<blocks_for(n), kThreads, 0, STREAM>>>((uint32_t *)y, n, x);
      break;
    }
    default: {
      uint64_t x;
      memcpy(&x, v, 8);
      fill_kernel<uint64_t><<<blocks_for(n), kThreads, 0, STREAM>>>((uint64_t *)y, n, x);
      break;
    }
  }
  return launched(c, "constant_of_shape kernel");
}

}  // extern "C"
