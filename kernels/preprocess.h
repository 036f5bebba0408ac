/* Frame preprocessing shared by the backends: colour conversion, resize
 * (optionally keeping the aspect ratio with letterbox padding), crop to a
 * region, normalization, layout and precision of a model input. One call
 * fills one batch item. The CUDA kernel implements the same contract and is
 * tested against the CPU version. */
#ifndef INFER_PREPROCESS_H
#define INFER_PREPROCESS_H

#include "infer/status.h"
#include "infer/types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum InferPixelFormat {
  INFER_PIXEL_RGB,   /* packed 3 bytes */
  INFER_PIXEL_BGR,
  INFER_PIXEL_RGBA,  /* packed 4 bytes */
  INFER_PIXEL_BGRA,
  INFER_PIXEL_RGBX,
  INFER_PIXEL_BGRX,
  INFER_PIXEL_GRAY8,
  INFER_PIXEL_NV12,  /* Y plane, interleaved UV plane at half resolution */
  INFER_PIXEL_I420,  /* Y, U, V planes, U and V at half resolution */
  INFER_PIXEL_FORMAT_COUNT
} InferPixelFormat;

/* A frame in memory the backend can read (host memory for the CPU). */
typedef struct InferImage {
  InferPixelFormat format;
  int width, height;
  const uint8_t *planes[3];
  int strides[3];          /* bytes per row of each plane */
} InferImage;

typedef enum InferChannelOrder { INFER_ORDER_RGB, INFER_ORDER_BGR, INFER_ORDER_GRAY } InferChannelOrder;
typedef enum InferLayout { INFER_LAYOUT_NCHW, INFER_LAYOUT_NHWC } InferLayout;
typedef enum InferInterp { INFER_INTERP_BILINEAR, INFER_INTERP_NEAREST } InferInterp;

typedef struct InferPreprocessParams {
  int out_width, out_height;
  InferChannelOrder order;  /* GRAY gives one channel, RGB/BGR three */
  InferLayout layout;
  InferDType dtype;         /* F32, F16, or I8 (quantized with int8_scale), U8 (raw) */
  float int8_scale;         /* I8: q = clamp(round(value / int8_scale), -127, 127) */
  InferInterp interp;
  bool keep_aspect;         /* letterbox: scale to fit, pad the rest */
  bool pad_symmetric;       /* letterbox padding split evenly; else bottom/right only */
  float pad_value;          /* padding in pixel units (0..255) before normalization */
  /* value = (pixel * scale - mean[c]) / std[c], pixel in 0..255, c in the output order */
  float scale;
  float mean[3];
  float std[3];
} InferPreprocessParams;

/* A source region in frame pixels (x, y, width, height); NULL = whole frame. */
typedef struct InferRect {
  float x, y, w, h;
} InferRect;

/* How model-input coordinates map back to frame coordinates:
 * frame_x = (model_x - pad_x) / scale_x + offset_x (likewise y). */
typedef struct InferLetterbox {
  float scale_x, scale_y;
  float pad_x, pad_y;
  float offset_x, offset_y;
} InferLetterbox;

/* Fills the parameters with: RGB, NCHW, F32, bilinear, no letterbox,
 * scale 1/255, mean 0, std 1. */
void infer_preprocess_defaults(InferPreprocessParams *p, int out_width, int out_height);

/* Computes the mapping for a frame region without touching pixels. */
InferStatus *infer_preprocess_letterbox(const InferPreprocessParams *p, const InferRect *roi,
                                        int frame_width, int frame_height, InferLetterbox *out);

/* CPU implementation: writes out_width*out_height*channels values of
 * p->dtype at dst (one batch item) and the coordinate mapping. */
InferStatus *infer_preprocess_cpu(const InferImage *src, const InferRect *roi,
                                  const InferPreprocessParams *p, void *dst, InferLetterbox *xf);

#ifdef __cplusplus
}
#endif
#endif
