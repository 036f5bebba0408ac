/* Frame preprocessing on the GPU: the contract of kernels/preprocess.h
 * (colour conversion, bilinear / nearest resize of a region, letterbox,
 * normalization, NCHW or NHWC, F32 / F16 / I8 / U8) for frames already in
 * device memory, batched: many items (frames or regions of frames, each
 * with its own source, size, format and destination) in one launch.
 *
 * The math is the CPU reference's, step for step (the same tap positions
 * computed in double, the same float operations in the same order with
 * round-to-nearest and no fused multiply-adds), so outputs match
 * infer_preprocess_cpu to the last bit in practice; the test
 * (tests/gpu/test_cuda_preprocess.c) allows a small tolerance anyway.
 *
 * Plain C entry points (the implementation is CUDA C++). */
#ifndef INFER_CUDA_PREPROCESS_H
#define INFER_CUDA_PREPROCESS_H

#include "preprocess.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One batch item: a frame whose planes are pitch-linear device memory
 * (strides in bytes, as InferImage), an optional region of it, and where
 * the item's out_width x out_height x channels values go (device memory). */
typedef struct InferCudaPreprocessItem {
  InferImage image;
  InferRect roi;
  bool has_roi;        /* false: the whole frame */
  void *dst;
} InferCudaPreprocessItem;

/* Items per kernel launch: the item table travels as a kernel parameter
 * (no device allocation, no host copy to wait for); a call with more items
 * launches once per this many. */
#define INFER_CUDA_PREPROCESS_MAX_ITEMS 32

/* Queues the preprocessing of n items on `stream` (a cudaStream_t; NULL is
 * the legacy default stream) and returns without waiting. Every item is
 * validated first (same messages as the CPU version); nothing is queued
 * when one is invalid. letterboxes (n entries, may be NULL) receive each
 * item's coordinate mapping, computed on the host. The source planes and
 * destinations must stay valid until the stream has run the work. */
InferStatus *infer_cuda_preprocess(const InferCudaPreprocessItem *items, int n,
                                   const InferPreprocessParams *p, InferLetterbox *letterboxes,
                                   void *stream);

#ifdef __cplusplus
}
#endif
#endif
