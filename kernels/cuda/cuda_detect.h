/* Detector decoding on the GPU: YOLOv8, YOLOv5 and SSD outputs (f32 or
 * f16, YOLO transposed or not) in device memory become, per batch item, the
 * detections infer_decode_detections (gst/decode/decode.h) gives for the
 * same outputs: the same scores and classes, threshold, ranking (confidence
 * descending, then lower anchor index), max_candidates, greedy NMS (per
 * class or class-agnostic, IoU as infer_box_iou) and top-k, the same floats
 * in the same order. NMS-inside outputs are not handled here (they are
 * already small: decode them on the host).
 *
 * Steps, all queued on the caller's stream, no host waits:
 *   1. one thread per (item, anchor) finds the anchor's score and class and
 *      its box (double arithmetic, rounded like the host's, no fused
 *      multiply-adds), and writes the detection and a sort key (candidates:
 *      the confidence, descending, then the anchor; others: all ones);
 *   2. a segmented radix sort (CUB) orders every item's keys;
 *   3. one block per item walks its candidates in chunks of the block size:
 *      each thread tests its candidate against the boxes kept so far, the
 *      chunk's pairwise overlaps go into bit masks, and one thread resolves
 *      the chunk in order. Any number of candidates (up to every anchor)
 *      takes the same path.
 *
 * The results are a compact block for one download: counts[batch] (int32)
 * followed by detections[batch][max_out] (InferDetection, model-input
 * pixels). Plain C entry points (the implementation is CUDA C++). */
#ifndef INFER_CUDA_DETECT_H
#define INFER_CUDA_DETECT_H

#include <stddef.h>
#include <stdint.h>

#include "decode/decode.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct InferCudaDetectJob {
  InferDetectorLayout layout;      /* infer_detector_layout of the outputs and params */
  const InferNamedTensor *outputs; /* the model's outputs, data in device memory */
  int n_outputs;
  int batch;                       /* items 0 .. batch - 1 are decoded (<= layout.batch) */
  InferDetectorParams params;      /* threshold, nms_iou, class_agnostic_nms, top_k,
                                      max_candidates (format and boxes: see layout) */
  int max_out;                     /* detections per item at most (the host's max_out) */
} InferCudaDetectJob;

/* Checks the job (format, dtypes, shapes, sizes) and gives the device
 * workspace it needs in bytes. INFER_ERR_UNSUPPORTED for what the GPU path
 * does not decode (NMS inside, other dtypes, more than INT32_MAX anchors in
 * all), so that callers can fall back to the host. */
InferStatus *infer_cuda_detect_workspace(const InferCudaDetectJob *job, size_t *bytes);

/* Bytes of the result block for `batch` items of `max_out` detections. */
size_t infer_cuda_detect_result_bytes(int batch, int max_out);

/* Queues the decoding on `stream` (a cudaStream_t; NULL: the legacy default
 * stream) into `result` (device memory, infer_cuda_detect_result_bytes),
 * with `workspace` (device memory of the size above). Returns without
 * waiting; the outputs must stay valid until the stream has run it. */
InferStatus *infer_cuda_detect(const InferCudaDetectJob *job, void *workspace,
                               size_t workspace_bytes, void *result, void *stream);

#ifdef __cplusplus
}
#endif
#endif
