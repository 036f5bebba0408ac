/* Detector decoding on the GPU (see cuda_detect.h).
 *
 * Equality with the host decoder (gst/decode/detect.c, nms.c) rests on:
 * - the same loads: f16 widened bit for bit like infer_half_to_float, f32
 *   read as is, both widened to double;
 * - the same arithmetic, each double operation written as a round-to-nearest
 *   intrinsic so that nvcc cannot fuse a multiply and an add (the host, C11
 *   on x86-64, never does);
 * - the same order: a sort key per anchor made of the confidence (its bits
 *   mapped so that unsigned order is descending float order, -0 folded onto
 *   +0 because the host compares them equal) above the anchor index, which
 *   is the host's (confidence desc, anchor asc) rank exactly. Keeping the
 *   first max_candidates of that order is what the host's bounded heap
 *   keeps.
 * NaN coordinates stay NaN, but the GPU does not keep a NaN's payload bits
 * as the host's double arithmetic does (nothing downstream reads them). */
#include <cuda_runtime.h>
#include <string.h>

#include <cub/device/device_segmented_radix_sort.cuh>

#include "cuda_detect.h"

namespace {

constexpr int kNmsThreads = 256;
constexpr int kMaskWords = kNmsThreads / 32;
constexpr unsigned long long kNotCandidate = ~0ull;

enum Kind { KIND_V8 = 0, KIND_V5 = 1, KIND_SSD = 2 };

struct ScoreArgs {
  int kind;
  const void *pred, *boxes, *scores;
  bool pred_f16, boxes_f16, scores_f16;
  bool transposed, cxcywh;
  int64_t anchors, channels, classes, total;
  float sx, sy, threshold;
  int idx_bits;
  InferDetection *dets;
  unsigned long long *keys;
};

/* infer_half_to_float, bit for bit (NaN payloads included). */
__device__ float half_bits_to_float(unsigned short h) {
  unsigned sign = (unsigned)(h >> 15) << 31;
  unsigned e = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
  if (e == 0) {
    if (man == 0) {
      bits = sign;
    } else {
      float f = __fmul_rn((float)man, 5.9604644775390625e-8f);
      return sign ? -f : f;
    }
  } else if (e == 31) {
    bits = sign | 0x7f800000u | (man << 13);
  } else {
    bits = sign | ((e + 112) << 23) | (man << 13);
  }
  return __uint_as_float(bits);
}

__device__ double load(const void *p, bool f16, int64_t i) {
  if (f16) return (double)half_bits_to_float(((const unsigned short *)p)[i]);
  return (double)((const float *)p)[i];
}

/* make_box of detect.c. */
__device__ void make_box(const ScoreArgs &s, double a, double b, double c, double d,
                         InferDetection *o) {
  double x0 = a, y0 = b, x1 = c, y1 = d;
  if (s.cxcywh) {
    double hw = __ddiv_rn(c, 2.0), hh = __ddiv_rn(d, 2.0);
    x0 = __dsub_rn(a, hw);
    x1 = __dadd_rn(a, hw);
    y0 = __dsub_rn(b, hh);
    y1 = __dadd_rn(b, hh);
  }
  o->x_min = __double2float_rn(__dmul_rn(x0, (double)s.sx));
  o->y_min = __double2float_rn(__dmul_rn(y0, (double)s.sy));
  o->x_max = __double2float_rn(__dmul_rn(x1, (double)s.sx));
  o->y_max = __double2float_rn(__dmul_rn(y1, (double)s.sy));
}

__device__ unsigned long long rank_key(float conf, int64_t anchor, int idx_bits) {
  unsigned u = __float_as_uint(conf == 0.0f ? 0.0f : conf);
  unsigned ord = (u & 0x80000000u) ? ~u : (u | 0x80000000u); /* ascending with the float */
  return ((unsigned long long)(~ord) << idx_bits) | (unsigned long long)anchor;
}

/* One thread per (item, anchor): score, class, box and sort key. */
__global__ void score_anchors(ScoreArgs s) {
  for (int64_t g = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; g < s.total;
       g += (int64_t)gridDim.x * blockDim.x) {
    const int64_t b = g / s.anchors, a = g % s.anchors;
    double best = 0.0, bx[4];
    int64_t best_c = -1;
    if (s.kind == KIND_SSD) {
      const int64_t sb = (b * s.anchors + a) * s.classes;
      for (int64_t c = 0; c < s.classes; c++) {
        double v = load(s.scores, s.scores_f16, sb + c);
        if (isnan(v)) continue;
        if (best_c < 0 || v > best) best = v, best_c = c;
      }
      const int64_t bb = (b * s.anchors + a) * 4;
      for (int k = 0; k < 4; k++) bx[k] = load(s.boxes, s.boxes_f16, bb + k);
    } else {
      const int64_t base = b * s.anchors * s.channels;
      const int64_t step = s.transposed ? s.anchors : 1;
      const int64_t first = base + (s.transposed ? a : a * s.channels);
      const bool v5 = s.kind == KIND_V5;
      const int64_t first_class = v5 ? 5 : 4;
      double obj = 1.0;
      bool skip = false;
      if (v5) {
        obj = load(s.pred, s.pred_f16, first + 4 * step);
        skip = isnan(obj);
        if (!skip && s.channels == 5) best = obj, best_c = 0;
      }
      for (int64_t c = first_class; c < s.channels && !skip; c++) {
        double v = load(s.pred, s.pred_f16, first + c * step);
        if (v5) v = __dmul_rn(v, obj);
        if (isnan(v)) continue;
        if (best_c < 0 || v > best) best = v, best_c = c - first_class;
      }
      if (skip) best_c = -1;
      for (int k = 0; k < 4; k++) bx[k] = load(s.pred, s.pred_f16, first + k * step);
    }
    const float conf = __double2float_rn(best);
    const bool cand = best_c >= 0 && best_c <= INT32_MAX && !isnan(conf) && conf >= s.threshold;
    if (cand) {
      InferDetection d;
      make_box(s, bx[0], bx[1], bx[2], bx[3], &d);
      d.confidence = conf;
      d.class_id = (int)best_c;
      s.dets[g] = d;
      s.keys[g] = rank_key(conf, a, s.idx_bits);
    } else {
      s.keys[g] = kNotCandidate;
    }
  }
}

__global__ void segment_offsets(int *off, int n, int64_t anchors) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i <= n; i += gridDim.x * blockDim.x)
    off[i] = (int)(i * anchors);
}

/* infer_box_iou of nms.c. */
__device__ float box_iou(const InferDetection &a, const InferDetection &b) {
  if (!isfinite(a.x_min) || !isfinite(a.y_min) || !isfinite(a.x_max) || !isfinite(a.y_max) ||
      !isfinite(b.x_min) || !isfinite(b.y_min) || !isfinite(b.x_max) || !isfinite(b.y_max))
    return 0.0f;
  double aw = __dsub_rn((double)a.x_max, (double)a.x_min);
  double ah = __dsub_rn((double)a.y_max, (double)a.y_min);
  double bw = __dsub_rn((double)b.x_max, (double)b.x_min);
  double bh = __dsub_rn((double)b.y_max, (double)b.y_min);
  if (!(aw > 0.0) || !(ah > 0.0) || !(bw > 0.0) || !(bh > 0.0)) return 0.0f;
  double ix0 = a.x_min > b.x_min ? a.x_min : b.x_min;
  double iy0 = a.y_min > b.y_min ? a.y_min : b.y_min;
  double ix1 = a.x_max < b.x_max ? a.x_max : b.x_max;
  double iy1 = a.y_max < b.y_max ? a.y_max : b.y_max;
  double iw = __dsub_rn(ix1, ix0), ih = __dsub_rn(iy1, iy0);
  if (!(iw > 0.0) || !(ih > 0.0)) return 0.0f;
  double inter = __dmul_rn(iw, ih);
  double uni = __dsub_rn(__dadd_rn(__dmul_rn(aw, ah), __dmul_rn(bw, bh)), inter);
  if (!(uni > 0.0)) return 0.0f;
  double iou = __ddiv_rn(inter, uni);
  if (!(iou >= 0.0)) return 0.0f;
  return iou > 1.0 ? 1.0f : __double2float_rn(iou);
}

struct NmsArgs {
  const unsigned long long *keys; /* sorted per item */
  const InferDetection *dets;
  int64_t anchors;
  int idx_bits;
  int64_t max_candidates; /* <= 0: all */
  int keep;
  bool do_nms, agnostic;
  float iou;
  int *counts;
  InferDetection *out;
  int max_out;
};

/* `kept` (a kept box of higher rank) suppresses `c`. */
__device__ bool suppresses(const NmsArgs &n, const InferDetection &kept, const InferDetection &c) {
  if (!n.agnostic && kept.class_id != c.class_id) return false;
  return box_iou(kept, c) > n.iou;
}

/* One block per item: greedy NMS over the ranked candidates, a chunk of
 * blockDim candidates at a time. */
__global__ void __launch_bounds__(kNmsThreads) nms_items(NmsArgs n) {
  __shared__ InferDetection cbox[kNmsThreads];
  __shared__ unsigned mask[kNmsThreads][kMaskWords];
  __shared__ bool alive[kNmsThreads];
  __shared__ int kept_s;
  __shared__ int64_t ncand_s;
  const int t = threadIdx.x;
  const int64_t item = blockIdx.x;
  const unsigned long long *keys = n.keys + item * n.anchors;
  const InferDetection *dets = n.dets + item * n.anchors;
  InferDetection *out = n.out + item * (int64_t)n.max_out;
  if (t == 0) {
    /* candidates sort before every non-candidate: count them by bisection */
    int64_t lo = 0, hi = n.anchors;
    while (lo < hi) {
      int64_t mid = lo + (hi - lo) / 2;
      if (keys[mid] != kNotCandidate) lo = mid + 1;
      else hi = mid;
    }
    if (n.max_candidates > 0 && n.max_candidates < lo) lo = n.max_candidates;
    ncand_s = lo;
    kept_s = 0;
  }
  __syncthreads();
  const int64_t ncand = ncand_s;
  const unsigned long long idx_mask = (1ull << n.idx_bits) - 1ull;
  for (int64_t s = 0; s < ncand; s += kNmsThreads) {
    const int kept0 = kept_s;
    if (kept0 >= n.keep) break;
    const int64_t i = s + t;
    const bool valid = i < ncand;
    InferDetection c = {};
    bool sup = !valid;
    if (valid) {
      c = dets[keys[i] & idx_mask];
      for (int k = 0; n.do_nms && k < kept0 && !sup; k++) sup = suppresses(n, out[k], c);
    }
    cbox[t] = c;
    alive[t] = !sup;
    __syncthreads();
    if (n.do_nms && !sup) {
      for (int w = 0; w < kMaskWords; w++) {
        unsigned bits = 0;
        for (int j = w * 32; j < t && j < (w + 1) * 32; j++)
          if (alive[j] && suppresses(n, cbox[j], c)) bits |= 1u << (j - w * 32);
        mask[t][w] = bits;
      }
    }
    __syncthreads();
    if (t == 0) {
      const int in_chunk = (int)(ncand - s < kNmsThreads ? ncand - s : kNmsThreads);
      unsigned kept_bits[kMaskWords] = {0};
      int kept = kept_s;
      for (int u = 0; u < in_chunk && kept < n.keep; u++) {
        if (!alive[u]) continue;
        bool hit = false;
        for (int w = 0; n.do_nms && w < kMaskWords && !hit; w++) hit = (mask[u][w] & kept_bits[w]) != 0;
        if (hit) continue;
        kept_bits[u / 32] |= 1u << (u % 32);
        out[kept++] = cbox[u];
      }
      kept_s = kept;
    }
    __syncthreads();
  }
  if (t == 0) n.counts[item] = kept_s;
}

size_t align256(size_t v) { return (v + 255) & ~(size_t)255; }

int bits_for(int64_t anchors) {
  int bits = 1;
  while (bits < 62 && (INT64_C(1) << bits) < anchors) bits++;
  return bits;
}

struct Plan {
  ScoreArgs score;
  int64_t items; /* batch * anchors */
  size_t dets_at, keys_in_at, keys_out_at, offsets_at, temp_at, temp_bytes, total;
  int end_bit;
};

InferStatus *fail(InferStatusCode code, const char *what) {
  return infer_status_new(code, "GPU detection decoding: %s", what);
}

bool readable(InferDType t) { return t == INFER_DTYPE_F32 || t == INFER_DTYPE_F16; }

const InferTensorView *output(const InferCudaDetectJob *j, int i) {
  return i >= 0 && i < j->n_outputs ? &j->outputs[i].view : nullptr;
}

InferStatus *make_plan(const InferCudaDetectJob *j, Plan *p) {
  memset(p, 0, sizeof *p);
  if (!j || (j->n_outputs > 0 && !j->outputs))
    return fail(INFER_ERR_INVALID_ARGUMENT, "NULL argument");
  const InferDetectorLayout *L = &j->layout;
  if (j->batch < 0 || j->batch > L->batch || j->max_out < 0)
    return fail(INFER_ERR_INVALID_ARGUMENT, "batch or max_out out of range");
  ScoreArgs &s = p->score;
  s.anchors = L->anchors;
  s.channels = L->channels;
  s.classes = L->n_classes;
  s.transposed = L->transposed;
  s.cxcywh = L->cxcywh;
  s.sx = L->sx;
  s.sy = L->sy;
  s.threshold = j->params.confidence_threshold;
  if (L->format == INFER_DET_YOLOV8 || L->format == INFER_DET_YOLOV5) {
    const InferTensorView *v = output(j, L->pred);
    if (!v) return fail(INFER_ERR_UNSUPPORTED, "no prediction output");
    const int64_t d1 = L->transposed ? L->channels : L->anchors;
    const int64_t d2 = L->transposed ? L->anchors : L->channels;
    if (v->shape.rank != 3 || v->shape.d[0] < j->batch || v->shape.d[1] != d1 ||
        v->shape.d[2] != d2 || L->channels < 5)
      return fail(INFER_ERR_INVALID_ARGUMENT, "prediction output shape differs from the layout");
    if (!readable(v->dtype)) return fail(INFER_ERR_UNSUPPORTED, "prediction output not f32/f16");
    s.kind = L->format == INFER_DET_YOLOV5 ? KIND_V5 : KIND_V8;
    s.pred = v->data;
    s.pred_f16 = v->dtype == INFER_DTYPE_F16;
  } else if (L->format == INFER_DET_SSD) {
    const InferTensorView *bv = output(j, L->boxes), *sv = output(j, L->scores);
    if (!bv || !sv) return fail(INFER_ERR_UNSUPPORTED, "no boxes or scores output");
    if (bv->shape.rank != 3 || sv->shape.rank != 3 || bv->shape.d[0] < j->batch ||
        sv->shape.d[0] < j->batch || bv->shape.d[1] != L->anchors || bv->shape.d[2] != 4 ||
        sv->shape.d[1] != L->anchors || sv->shape.d[2] != L->n_classes)
      return fail(INFER_ERR_INVALID_ARGUMENT, "boxes or scores shape differs from the layout");
    if (!readable(bv->dtype) || !readable(sv->dtype))
      return fail(INFER_ERR_UNSUPPORTED, "boxes or scores not f32/f16");
    s.kind = KIND_SSD;
    s.boxes = bv->data;
    s.scores = sv->data;
    s.boxes_f16 = bv->dtype == INFER_DTYPE_F16;
    s.scores_f16 = sv->dtype == INFER_DTYPE_F16;
  } else {
    return fail(INFER_ERR_UNSUPPORTED, "only YOLOv8, YOLOv5 and SSD outputs are decoded here");
  }
  if (L->anchors < 0 || L->anchors > INT32_MAX ||
      (L->anchors > 0 && (int64_t)j->batch > INT32_MAX / L->anchors))
    return fail(INFER_ERR_UNSUPPORTED, "more than INT32_MAX anchors in the batch");
  p->items = (int64_t)j->batch * L->anchors;
  if (p->items > 0 && ((s.kind == KIND_SSD && (!s.boxes || !s.scores)) ||
                       (s.kind != KIND_SSD && !s.pred)))
    return fail(INFER_ERR_INVALID_ARGUMENT, "output without data");
  s.total = p->items;
  s.idx_bits = bits_for(L->anchors);
  p->end_bit = 32 + s.idx_bits;
  size_t at = 0;
  p->dets_at = at;
  at = align256(at + (size_t)p->items * sizeof(InferDetection));
  p->keys_in_at = at;
  at = align256(at + (size_t)p->items * sizeof(unsigned long long));
  p->keys_out_at = at;
  at = align256(at + (size_t)p->items * sizeof(unsigned long long));
  p->offsets_at = at;
  at = align256(at + (size_t)(j->batch + 1) * sizeof(int));
  p->temp_at = at;
  if (p->items > 0) {
    cudaError_t err = cub::DeviceSegmentedRadixSort::SortKeys(
        nullptr, p->temp_bytes, (const unsigned long long *)nullptr,
        (unsigned long long *)nullptr, (int)p->items, j->batch, (const int *)nullptr,
        (const int *)nullptr, 0, p->end_bit, (cudaStream_t)0);
    if (err != cudaSuccess) return fail(INFER_ERR_DEVICE, cudaGetErrorString(err));
  }
  p->total = align256(at + p->temp_bytes);
  return nullptr;
}

}  // namespace

extern "C" size_t infer_cuda_detect_result_bytes(int batch, int max_out) {
  if (batch <= 0) return 0;
  return (size_t)batch * sizeof(int32_t) +
         (size_t)batch * (size_t)(max_out > 0 ? max_out : 0) * sizeof(InferDetection);
}

extern "C" InferStatus *infer_cuda_detect_workspace(const InferCudaDetectJob *job, size_t *bytes) {
  if (!bytes) return fail(INFER_ERR_INVALID_ARGUMENT, "NULL argument");
  *bytes = 0;
  Plan p;
  InferStatus *st = make_plan(job, &p);
  if (!st) *bytes = p.total;
  return st;
}

extern "C" InferStatus *infer_cuda_detect(const InferCudaDetectJob *job, void *workspace,
                                          size_t workspace_bytes, void *result, void *stream) {
  Plan p;
  InferStatus *st = make_plan(job, &p);
  if (st) return st;
  if (job->batch == 0) return nullptr;
  if (!result || (p.total > 0 && (!workspace || workspace_bytes < p.total)))
    return fail(INFER_ERR_INVALID_ARGUMENT, "result or workspace missing or too small");
  cudaStream_t cs = (cudaStream_t)stream;
  unsigned char *ws = (unsigned char *)workspace;
  int *counts = (int *)result;
  InferDetection *out = (InferDetection *)((unsigned char *)result + (size_t)job->batch * sizeof(int32_t));
  const InferDetectorParams &q = job->params;
  const int keep = (q.top_k > 0 && q.top_k < job->max_out) ? q.top_k : job->max_out;
  if (p.items == 0 || keep == 0) {
    cudaError_t err = cudaMemsetAsync(counts, 0, (size_t)job->batch * sizeof(int32_t), cs);
    return err == cudaSuccess ? nullptr : fail(INFER_ERR_DEVICE, cudaGetErrorString(err));
  }
  p.score.dets = (InferDetection *)(ws + p.dets_at);
  p.score.keys = (unsigned long long *)(ws + p.keys_in_at);
  unsigned long long *sorted = (unsigned long long *)(ws + p.keys_out_at);
  int *offsets = (int *)(ws + p.offsets_at);
  const int threads = 256;
  int64_t want = (p.items + threads - 1) / threads;
  unsigned blocks = (unsigned)(want < 65536 ? want : 65536);
  score_anchors<<<blocks, threads, 0, cs>>>(p.score);
  segment_offsets<<<(job->batch + 1 + threads - 1) / threads, threads, 0, cs>>>(
      offsets, job->batch, job->layout.anchors);
  cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess) return fail(INFER_ERR_DEVICE, cudaGetErrorString(err));
  size_t temp_bytes = p.temp_bytes;
  err = cub::DeviceSegmentedRadixSort::SortKeys(ws + p.temp_at, temp_bytes, p.score.keys, sorted,
                                               (int)p.items, job->batch, offsets, offsets + 1, 0,
                                               p.end_bit, cs);
  if (err != cudaSuccess) return fail(INFER_ERR_DEVICE, cudaGetErrorString(err));
  NmsArgs n;
  n.keys = sorted;
  n.dets = p.score.dets;
  n.anchors = job->layout.anchors;
  n.idx_bits = p.score.idx_bits;
  n.max_candidates = q.max_candidates;
  n.keep = keep;
  n.do_nms = q.nms_iou > 0.0f;
  n.agnostic = q.class_agnostic_nms;
  n.iou = q.nms_iou;
  n.counts = counts;
  n.out = out;
  n.max_out = job->max_out;
  nms_items<<<job->batch, kNmsThreads, 0, cs>>>(n);
  err = cudaGetLastError();
  return err == cudaSuccess ? nullptr : fail(INFER_ERR_DEVICE, cudaGetErrorString(err));
}
