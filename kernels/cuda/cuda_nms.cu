/* NonMaxSuppression on the GPU, selecting exactly the boxes the CPU
 * reference selects:
 *
 *   1. one key per (batch, class, box): the problem index in the high bits,
 *      the score (higher first) in the low 32 bits; a stable radix sort
 *      (CUB) orders every problem's candidates by score, equal scores by
 *      box index, like the reference;
 *   2. one block per problem walks its candidates in that order, and the
 *      block's threads test the candidate against the boxes selected so
 *      far in parallel (the same float arithmetic as the reference, no
 *      fused multiply-adds), until max_output_boxes_per_class are taken or
 *      the scores drop to the score threshold;
 *   3. a scan of the per-problem counts places every selection in the
 *      output, [count, 3] rows of (batch, class, box) as int64.
 *
 * The number of rows is data: the host must know it to report the output
 * shape, so this is the one kernel that waits for its stream (it copies the
 * count back and synchronizes). Boxes and scores are f32; the thresholds
 * (inputs 3, 4) are read on the device, max_output_boxes_per_class (input
 * 2) on the host. Scratch: sort keys and values, the selections, CUB's
 * temporary storage (workspace). */
#include <cuda_fp16.h>

#include <cub/device/device_radix_sort.cuh>

#include "cuda_common.cuh"

using namespace infer_cu;

#define GRID_STRIDE INFER_CU_GRID_STRIDE

namespace {

struct NmsShape {
  int64_t batches, classes, boxes, problems, max_out; /* max_out: min(given, boxes) */
};

NmsShape nms_shape(const InferOpCall *c) {
  NmsShape s;
  s.batches = c->in[0].shape.d[0];
  s.boxes = c->in[0].shape.d[1];
  s.classes = c->in[1].shape.d[1];
  s.problems = s.batches * s.classes;
  s.max_out = 0;
  const InferTensorView *m = infer_call_input(c, 2);
  if (m->dtype != INFER_DTYPE_UNDEFINED && m->data && infer_shape_numel(&m->shape) >= 1)
    s.max_out = host_int(m, 0);
  if (s.max_out < 0) s.max_out = 0;
  if (s.max_out > s.boxes) s.max_out = s.boxes;
  return s;
}

size_t align256(size_t v) { return (v + 255) & ~(size_t)255; }

/* Byte offsets of the workspace regions. */
struct NmsLayout {
  size_t keys_in, keys_out, vals_in, vals_out, sel, counts, offsets, total, temp, temp_bytes,
      bytes;
};

bool nms_layout(const NmsShape &s, NmsLayout *l) {
  size_t items = (size_t)(s.problems * s.boxes);
  l->temp_bytes = 0;
  if (cub::DeviceRadixSort::SortPairs(nullptr, l->temp_bytes, (const uint64_t *)nullptr,
                                      (uint64_t *)nullptr, (const int32_t *)nullptr,
                                      (int32_t *)nullptr, (int)items, 0, 64) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  size_t at = 0;
  l->keys_in = at;
  at = align256(at + items * 8);
  l->keys_out = at;
  at = align256(at + items * 8);
  l->vals_in = at;
  at = align256(at + items * 4);
  l->vals_out = at;
  at = align256(at + items * 4);
  l->sel = at;
  at = align256(at + (size_t)(s.problems * s.max_out) * 4);
  l->counts = at;
  at = align256(at + (size_t)s.problems * 4);
  l->offsets = at;
  at = align256(at + (size_t)s.problems * 8);
  l->total = at;
  at = align256(at + 8);
  l->temp = at;
  l->bytes = at + l->temp_bytes;
  return true;
}

/* Sorts ascending as the score sorts descending (-0 counts as +0). */
__device__ __forceinline__ uint32_t descending_bits(float s) {
  s = s + 0.0f;
  uint32_t u = __float_as_uint(s);
  u = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
  return ~u;
}

__global__ void nms_keys(const float *scores, int64_t items, int64_t boxes, uint64_t *keys,
                         int32_t *vals) {
  GRID_STRIDE(i, items) {
    int64_t p = i / boxes;
    keys[i] = ((uint64_t)p << 32) | descending_bits(scores[i]);
    vals[i] = (int32_t)(i - p * boxes);
  }
}

__device__ __forceinline__ float read_scalar(const void *p, bool half) {
  return half ? __half2float(*(const __half *)p) : *(const float *)p;
}

/* The box as min/max corners (the reference's box_extent). */
__device__ __forceinline__ void box_extent(const float *b, bool center, float *x0, float *x1,
                                           float *y0, float *y1) {
  if (center) {
    float hw = b[2] / 2, hh = b[3] / 2;
    *x0 = b[0] - hw;
    *x1 = b[0] + hw;
    *y0 = b[1] - hh;
    *y1 = b[1] + hh;
  } else {
    *x0 = b[1] <= b[3] ? b[1] : b[3];
    *x1 = b[1] <= b[3] ? b[3] : b[1];
    *y0 = b[0] <= b[2] ? b[0] : b[2];
    *y1 = b[0] <= b[2] ? b[2] : b[0];
  }
}

__device__ bool suppresses(const float *a, const float *b, bool center, float iou) {
  float ax0, ax1, ay0, ay1, bx0, bx1, by0, by1;
  box_extent(a, center, &ax0, &ax1, &ay0, &ay1);
  box_extent(b, center, &bx0, &bx1, &by0, &by1);
  float ix0 = ax0 > bx0 ? ax0 : bx0, ix1 = ax1 < bx1 ? ax1 : bx1;
  if (ix1 <= ix0) return false;
  float iy0 = ay0 > by0 ? ay0 : by0, iy1 = ay1 < by1 ? ay1 : by1;
  if (iy1 <= iy0) return false;
  float inter = __fmul_rn(ix1 - ix0, iy1 - iy0);
  if (inter <= 0) return false;
  float area_a = __fmul_rn(ax1 - ax0, ay1 - ay0), area_b = __fmul_rn(bx1 - bx0, by1 - by0);
  float uni = __fsub_rn(__fadd_rn(area_a, area_b), inter);
  if (area_a <= 0 || area_b <= 0 || uni <= 0) return false;
  return inter / uni > iou;
}

struct NmsParams {
  int64_t boxes, classes, problems, max_out;
  bool center;
  const void *iou, *score; /* device scalars or NULL */
  bool iou_half, score_half;
};

/* One block per problem: greedy selection over the sorted candidates. */
__global__ void nms_select(const float *boxes, const float *scores, const int32_t *order,
                           int32_t *sel, int32_t *counts, NmsParams q) {
  __shared__ int n_sel;
  float iou = q.iou ? read_scalar(q.iou, q.iou_half) : 0.0f;
  bool has_thr = q.score != nullptr;
  float thr = has_thr ? read_scalar(q.score, q.score_half) : 0.0f;
  for (int64_t p = blockIdx.x; p < q.problems; p += gridDim.x) {
    const float *bx = boxes + (p / q.classes) * q.boxes * 4;
    const float *sc = scores + p * q.boxes;
    const int32_t *ord = order + p * q.boxes;
    int32_t *mine = sel + p * q.max_out;
    if (threadIdx.x == 0) n_sel = 0;
    __syncthreads();
    for (int64_t c = 0; c < q.boxes; c++) {
      int32_t j = ord[c];
      if ((has_thr && !(sc[j] > thr)) || n_sel >= q.max_out) break;
      bool hit = false;
      for (int s = threadIdx.x; s < n_sel && !hit; s += blockDim.x)
        hit = suppresses(bx + (int64_t)j * 4, bx + (int64_t)mine[s] * 4, q.center, iou);
      hit = __syncthreads_or(hit);
      if (!hit && threadIdx.x == 0) {
        mine[n_sel] = j;
        n_sel++;
      }
      __syncthreads();
    }
    if (threadIdx.x == 0) counts[p] = n_sel;
    __syncthreads();
  }
}

__global__ void nms_scan(const int32_t *counts, int64_t problems, int64_t *offsets,
                         int64_t *total) {
  if (blockIdx.x != 0 || threadIdx.x != 0) return;
  int64_t at = 0;
  for (int64_t p = 0; p < problems; p++) {
    offsets[p] = at;
    at += counts[p];
  }
  *total = at;
}

__global__ void nms_write(const int32_t *sel, const int32_t *counts, const int64_t *offsets,
                          int64_t *out, NmsParams q) {
  for (int64_t p = blockIdx.x; p < q.problems; p += gridDim.x) {
    int64_t b = p / q.classes, cls = p - b * q.classes, at = offsets[p];
    for (int s = threadIdx.x; s < counts[p]; s += blockDim.x) {
      int64_t *row = out + (at + s) * 3;
      row[0] = b;
      row[1] = cls;
      row[2] = sel[p * q.max_out + s];
    }
  }
}

InferStatus *nms_fail(const InferOpCall *c, InferStatusCode code, const char *what) {
  return infer_status_new(code, "layer '%s' (%s): %s", c->node, infer_op_name(c->op), what);
}

bool dims_agree(int64_t a, int64_t b) { return a < 0 || b < 0 || a == b; }

/* An optional scalar input that is present and not empty. */
bool has_values_at(const InferOpCall *c, int i) {
  return infer_call_has_input(c, i) && infer_shape_numel(&c->in[i].shape) >= 1;
}

}  // namespace

extern "C" {

InferStatus *infer_cuda_supports_nms(const InferOpCall *c) {
  if (infer_call_input(c, 0)->dtype != INFER_DTYPE_F32) return bad_dtype(c, 0);
  if (infer_call_input(c, 1)->dtype != INFER_DTYPE_F32) return bad_dtype(c, 1);
  if (infer_call_has_input(c, 2) && !is_index(c->in[2].dtype)) return bad_dtype(c, 2);
  for (int i = 3; i <= 4; i++) {
    if (!infer_call_has_input(c, i)) continue;
    if (c->in[i].dtype != INFER_DTYPE_F32 && c->in[i].dtype != INFER_DTYPE_F16)
      return bad_dtype(c, i);
    if (infer_shape_numel(&c->in[i].shape) > 1)
      return nms_fail(c, INFER_ERR_UNSUPPORTED, "thresholds must be single values");
  }
  const InferShape *b = &c->in[0].shape, *s = &c->in[1].shape;
  if (b->rank != 3 || s->rank != 3 || !dims_agree(b->d[2], 4) || !dims_agree(b->d[0], s->d[0]) ||
      !dims_agree(b->d[1], s->d[2]))
    return nms_fail(c, INFER_ERR_UNSUPPORTED, "expects boxes [B,N,4] and scores [B,C,N]");
  return NULL;
}

size_t infer_cuda_workspace_nms(const InferOpCall *c) {
  NmsShape s = nms_shape(c);
  if (s.max_out == 0 || s.problems <= 0 || s.boxes <= 0) return 0;
  NmsLayout l;
  return nms_layout(s, &l) ? l.bytes : 0;
}

InferStatus *infer_cuda_run_nms(const InferOpCall *c, const InferCudaExec *exec) {
  cudaStream_t stream = (cudaStream_t)exec->stream;
  InferTensorView *y = &c->out[0];
  const InferShape *bs = &c->in[0].shape, *ss = &c->in[1].shape;
  if (bs->d[2] != 4 || ss->d[0] != bs->d[0] || ss->d[2] != bs->d[1])
    return nms_fail(c, INFER_ERR_INVALID_ARGUMENT, "expects boxes [B,N,4] and scores [B,C,N]");
  INFER_TRY(require_host_value(c, 2));
  NmsShape s = nms_shape(c);
  if (s.max_out == 0 || s.problems <= 0 || s.boxes <= 0) {
    y->shape.d[0] = 0;
    return NULL;
  }
  if (s.problems * s.boxes > INT32_MAX || s.problems >= ((int64_t)1 << 31))
    return nms_fail(c, INFER_ERR_UNSUPPORTED, "more than 2^31 candidate boxes");
  NmsLayout l;
  if (!nms_layout(s, &l)) return infer_cuda_error(c, "cub radix sort", "sizing failed");
  if (!exec->workspace || exec->workspace_bytes < l.bytes)
    return nms_fail(c, INFER_ERR_INTERNAL, "workspace is smaller than requested");
  char *ws = (char *)exec->workspace;
  uint64_t *keys_in = (uint64_t *)(ws + l.keys_in), *keys_out = (uint64_t *)(ws + l.keys_out);
  int32_t *vals_in = (int32_t *)(ws + l.vals_in), *vals_out = (int32_t *)(ws + l.vals_out);
  int32_t *sel = (int32_t *)(ws + l.sel), *counts = (int32_t *)(ws + l.counts);
  int64_t *offsets = (int64_t *)(ws + l.offsets), *total = (int64_t *)(ws + l.total);
  int64_t items = s.problems * s.boxes;
  const float *boxes = (const float *)c->in[0].data, *scores = (const float *)c->in[1].data;

  nms_keys<<<blocks_for(items), kThreads, 0, stream>>>(scores, items, s.boxes, keys_in, vals_in);
  INFER_TRY(launched(c, "nms key kernel"));
  int end_bit = 32;
  while (end_bit < 64 && ((int64_t)1 << (end_bit - 32)) < s.problems) end_bit++;
  size_t temp_bytes = l.temp_bytes;
  cudaError_t err = cub::DeviceRadixSort::SortPairs(ws + l.temp, temp_bytes, keys_in, keys_out,
                                                    vals_in, vals_out, (int)items, 0, end_bit,
                                                    stream);
  if (err != cudaSuccess) {
    cudaGetLastError();
    return infer_cuda_error(c, "cub radix sort", cudaGetErrorString(err));
  }
  NmsParams q;
  q.boxes = s.boxes;
  q.classes = s.classes;
  q.problems = s.problems;
  q.max_out = s.max_out;
  q.center = c->params->nms.center_point_box;
  q.iou = has_values_at(c, 3) ? c->in[3].data : nullptr;
  q.score = has_values_at(c, 4) ? c->in[4].data : nullptr;
  q.iou_half = q.iou && c->in[3].dtype == INFER_DTYPE_F16;
  q.score_half = q.score && c->in[4].dtype == INFER_DTYPE_F16;
  unsigned grid = (unsigned)(s.problems < 65535 ? s.problems : 65535);
  nms_select<<<grid, kThreads, 0, stream>>>(boxes, scores, vals_out, sel, counts, q);
  nms_scan<<<1, 1, 0, stream>>>(counts, s.problems, offsets, total);
  nms_write<<<grid, kThreads, 0, stream>>>(sel, counts, offsets, (int64_t *)y->data, q);
  INFER_TRY(launched(c, "nms kernels"));
  /* the output's row count is data: bring it to the host */
  int64_t count = 0;
  err = cudaMemcpyAsync(&count, total, sizeof count, cudaMemcpyDeviceToHost, stream);
  if (err == cudaSuccess) err = cudaStreamSynchronize(stream);
  if (err != cudaSuccess) {
    cudaGetLastError();
    return infer_cuda_error(c, "reading the selected count", cudaGetErrorString(err));
  }
  if (count > y->shape.d[0])
    return nms_fail(c, INFER_ERR_INTERNAL, "more boxes selected than the output holds");
  y->shape.d[0] = count; /* the engine reads the actual count back */
  return NULL;
}

}  // extern "C"
