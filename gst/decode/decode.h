/* Turning model outputs into classifications and detections: softmax,
 * top-k and thresholds for classifiers; YOLO-style, SSD-style and
 * NMS-inside detector outputs; non-maximum suppression; mapping boxes back
 * through the letterbox. Plain C on host tensors (no GLib). */
#ifndef INFER_DECODE_H
#define INFER_DECODE_H

#include "infer/status.h"
#include "infer/types.h"
#include "preprocess.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct InferClassification {
  int class_id;
  float confidence;
} InferClassification;

typedef struct InferDetection {
  float x_min, y_min, x_max, y_max; /* pixels: model input space, then frame after mapping */
  float confidence;
  int class_id;
} InferDetection;

typedef enum InferDetectorFormat {
  INFER_DET_AUTO = 0,     /* decided from the outputs' names and shapes */
  INFER_DET_YOLOV8,       /* [N, A, 4 + C] or [N, 4 + C, A]: box (x_min,y_min,x_max,y_max or
                             cx,cy,w,h, see box_format), then per-class confidences */
  INFER_DET_YOLOV5,       /* [N, A, 5 + C]: cx, cy, w, h, objectness, class probabilities */
  INFER_DET_SSD,          /* boxes [N, A, 4] (x_min,y_min,x_max,y_max, normalized or pixels)
                             + scores [N, A, C] */
  INFER_DET_NMS_INSIDE    /* num_dets [N,1], boxes [N,K,4], scores [N,K], classes [N,K] */
} InferDetectorFormat;

typedef enum InferBoxFormat {
  INFER_BOX_AUTO = 0,     /* YOLOv8: x_min.. unless the output name says otherwise; YOLOv5: cxcywh */
  INFER_BOX_XYXY,
  INFER_BOX_CXCYWH
} InferBoxFormat;

typedef struct InferDetectorParams {
  InferDetectorFormat format;
  InferBoxFormat box_format;
  bool boxes_normalized;     /* SSD: boxes in 0..1 of the model input */
  float confidence_threshold;
  float nms_iou;             /* <= 0: no NMS */
  bool class_agnostic_nms;   /* false: NMS per class */
  int top_k;                 /* detections kept per image after NMS (<= 0: all) */
  int max_candidates;        /* candidates into NMS, highest first (<= 0: all) */
} InferDetectorParams;

typedef struct InferClassifierParams {
  bool apply_softmax;        /* outputs are logits */
  float threshold;           /* keep classes with confidence >= threshold */
  int top_k;                 /* at most this many (>= 1) */
} InferClassifierParams;

/* A named host tensor (one batch, outputs of the model). */
typedef struct InferNamedTensor {
  const char *name;
  InferTensorView view;
} InferNamedTensor;

/* Classifier output of batch item b: a [N, C] (or [N, C, 1, 1]) tensor.
 * Fills out (capacity max_out) sorted by confidence; *n gets the count. */
InferStatus *infer_decode_classification(const InferTensorView *scores, int b,
                                         const InferClassifierParams *p, InferClassification *out,
                                         int max_out, int *n);

/* Which detector format the outputs look like (for INFER_DET_AUTO), or an
 * INFER_ERR_UNSUPPORTED status that says why none fits. */
InferStatus *infer_detector_format_guess(const InferNamedTensor *outputs, int n_outputs,
                                         InferDetectorFormat *format);

/* Detections of batch item b, in model-input pixels, after threshold, NMS
 * and top-k, sorted by confidence. *n gets the count (<= max_out). */
InferStatus *infer_decode_detections(const InferNamedTensor *outputs, int n_outputs, int b,
                                     int input_width, int input_height,
                                     const InferDetectorParams *p, InferDetection *out,
                                     int max_out, int *n);

/* How infer_decode_detections reads the outputs (for decoders elsewhere,
 * such as the GPU's, that must give the same results): the matched format,
 * the outputs' indices, the layout and the box transform. */
typedef struct InferDetectorLayout {
  InferDetectorFormat format;  /* never AUTO */
  int pred;                    /* YOLO: the prediction output, else -1 */
  int boxes, scores;           /* SSD and NMS inside, else -1 */
  bool transposed;             /* YOLO [N, 4 + C, A] */
  int64_t batch;               /* dim 0 of the outputs read */
  int64_t anchors;             /* A (NMS inside: K) */
  int64_t channels;            /* YOLO: 4 + C or 5 + C */
  int64_t n_classes;           /* SSD: C */
  bool cxcywh;                 /* boxes are cx, cy, w, h */
  float sx, sy;                /* box scale (input size with boxes_normalized, else 1) */
} InferDetectorLayout;

/* The layout infer_decode_detections uses for these outputs and params
 * (the same errors, except those about batch items and data: outputs may be
 * specs without data). */
InferStatus *infer_detector_layout(const InferNamedTensor *outputs, int n_outputs,
                                   int input_width, int input_height,
                                   const InferDetectorParams *p, InferDetectorLayout *out);

/* Greedy NMS over dets (sorted by confidence in place); keeps at most
 * max_keep; returns the count kept at the front. */
int infer_nms(InferDetection *dets, int n, float iou_threshold, bool class_agnostic, int max_keep);
float infer_box_iou(const InferDetection *a, const InferDetection *b);

/* Maps boxes from model-input pixels to frame pixels and clips them to the
 * frame. */
void infer_map_detections(InferDetection *dets, int n, const InferLetterbox *xf, int frame_width,
                          int frame_height);

#ifdef __cplusplus
}
#endif
#endif
