/* Min-max and percentile calibration, the dispatcher, and names. */
#include <math.h>

#include "calib_internal.h"

const char *infer_calib_algo_cache_name(InferCalibAlgo algo) {
  switch (algo) {
    case INFER_CALIB_ENTROPY: return "EntropyCalibration2";
    case INFER_CALIB_MINMAX: return "MinMaxCalibration";
    case INFER_CALIB_PERCENTILE: return "PercentileCalibration";
  }
  return NULL;
}

const char *infer_calib_algo_name(InferCalibAlgo algo) {
  switch (algo) {
    case INFER_CALIB_ENTROPY: return "entropy";
    case INFER_CALIB_MINMAX: return "minmax";
    case INFER_CALIB_PERCENTILE: return "percentile";
  }
  return NULL;
}

float infer_calib_scale_from_amax(float amax) {
  /* float division, as TensorRT stores it: amax / 127.0f */
  return amax > 0 && isfinite(amax) ? amax / 127.0f : 0.0f;
}

InferStatus *infer_calib_minmax_amax(const InferCalibHistogram *h, float *amax) {
  if (!h || !amax)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "min-max calibration: no statistics");
  *amax = h->absmax;
  return NULL;
}

InferStatus *infer_calib_percentile_amax(const InferCalibHistogram *h, double percentile,
                                         float *amax) {
  if (!h || !amax)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "percentile calibration: no statistics");
  if (!(percentile > 0 && percentile <= 100))
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "percentile calibration: percentile %g is outside (0, 100]", percentile);
  if (!h->counts || h->n_bins <= 0)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "percentile calibration: tensor '%s' has no histogram",
                            h->name ? h->name : "?");
  *amax = 0;
  uint64_t total = 0;
  for (int b = 0; b < h->n_bins; b++) total += h->counts[b];
  if (total == 0 || h->bin_width == 0) return NULL;
  /* the bin where the cumulative count reaches the target, then linear
   * interpolation inside it (values assumed spread evenly over the bin) */
  double target = percentile / 100.0 * (double)total, before = 0;
  int b = 0;
  for (; b < h->n_bins - 1; b++) {
    if (before + (double)h->counts[b] >= target && h->counts[b]) break;
    before += (double)h->counts[b];
  }
  double frac = h->counts[b] ? (target - before) / (double)h->counts[b] : 1.0;
  if (frac < 0) frac = 0;
  if (frac > 1) frac = 1;
  double a = ((double)b + frac) * h->bin_width;
  /* a percentile is never beyond the largest value */
  *amax = (float)(a < h->absmax ? a : h->absmax);
  return NULL;
}

InferStatus *infer_calib_compute_amax(const InferCalibHistogram *h, InferCalibAlgo algo,
                                      double percentile, float *amax) {
  switch (algo) {
    case INFER_CALIB_ENTROPY: return infer_calib_entropy_amax(h, amax);
    case INFER_CALIB_MINMAX: return infer_calib_minmax_amax(h, amax);
    case INFER_CALIB_PERCENTILE:
      return infer_calib_percentile_amax(
          h, percentile > 0 ? percentile : INFER_CALIB_DEFAULT_PERCENTILE, amax);
  }
  return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "calibration: unknown algorithm %d",
                          (int)algo);
}
