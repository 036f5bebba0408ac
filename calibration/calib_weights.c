/* Per-output-channel symmetric ranges of weight tensors. Weights are known
 * at build time, so they need no data: each channel's amax is its largest
 * |w| (min-max), which keeps every weight representable. */
#include <math.h>

#include "calib_internal.h"

InferStatus *infer_calib_weight_channel_amax(const InferTensorView *w, int axis, float *amax,
                                             int64_t n_amax) {
  if (!w || !amax || (!w->data && infer_shape_numel(&w->shape) > 0))
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "weight calibration: no tensor or output");
  if (w->dtype != INFER_DTYPE_F32 && w->dtype != INFER_DTYPE_F16)
    return infer_status_new(INFER_ERR_UNSUPPORTED,
                            "weight calibration: %s weights (only f32 and f16)",
                            infer_dtype_name(w->dtype));
  if (axis < 0 || axis >= w->shape.rank)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "weight calibration: axis %d of a rank-%d tensor", axis, w->shape.rank);
  int64_t outer = 1, inner = 1, channels = w->shape.d[axis];
  for (int d = 0; d < w->shape.rank; d++) {
    if (w->shape.d[d] < 0)
      return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "weight calibration: unknown dimension");
    if (d < axis) outer *= w->shape.d[d];
    if (d > axis) inner *= w->shape.d[d];
  }
  if (channels != n_amax)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "weight calibration: %lld channels along axis %d, room for %lld",
                            (long long)channels, axis, (long long)n_amax);
  for (int64_t c = 0; c < channels; c++) amax[c] = 0;
  const float *f = w->data;
  const uint16_t *hf = w->data;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t c = 0; c < channels; c++) {
      size_t base = (size_t)((o * channels + c) * inner);
      float m = amax[c];
      for (int64_t k = 0; k < inner; k++) {
        float v = w->dtype == INFER_DTYPE_F32 ? f[base + (size_t)k]
                                              : infer_half_to_float(hf[base + (size_t)k]);
        v = fabsf(v);
        if (isfinite(v) && v > m) m = v; /* non-finite weights are left out */
      }
      amax[c] = m;
    }
  return NULL;
}
