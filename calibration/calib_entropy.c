/* Entropy calibration (TensorRT's EntropyCalibration2, as described in
 * Migacz, "8-bit Inference with TensorRT", GTC 2017): choose the clipping
 * threshold whose 128-level quantized distribution loses the least
 * information, measured as KL(P || Q).
 *
 * Choices where the description leaves room (the numpy reference in
 * tests/calibration/entropy_reference.py makes the same ones):
 *  - the search sees the histogram with the first bin's count replaced by
 *    the second bin's, as NVIDIA's open implementation of this calibrator
 *    (pytorch-quantization) does. Exact zeros (ReLU outputs are often half
 *    zeros) all land in the first bin; counted as is, that one bin would
 *    dominate both distributions: any candidate that merges it with its
 *    neighbours into one group pays about mass0 * log(group size), so the
 *    search would settle on i = 128 (groups of one bin) and clip nearly
 *    everything. Zeros need no range (0 quantizes exactly at any scale), so
 *    leaving their excess out of the shape comparison loses nothing. When
 *    every value lies in the first bin the range is kept whole;
 *  - candidates are i = 128 .. n_bins bins; n_bins itself (no clipping) is a
 *    candidate, so a distribution without outliers can keep its whole range;
 *  - bin j of the first i bins belongs to group floor(j * 128 / i), so group
 *    sizes differ by at most one bin;
 *  - Q spreads a group's total evenly over the group's bins that are
 *    non-zero in the histogram (before the outliers are added to P);
 *  - where P > 0 and Q = 0 the divergence is infinite, as in the exact
 *    definition (and scipy.stats.entropy). That only happens in P's last bin
 *    when it is empty in the histogram but receives the outliers; such a
 *    threshold is never chosen. Candidate n_bins has no outliers, so a
 *    finite candidate always exists;
 *  - ties go to the smallest i; amax = (i + 0.5) * bin_width as in the GTC
 *    description, but never more than the abs-max: a histogram whose range
 *    grew by integer factors can extend well past the data, and a threshold
 *    past the largest value clips nothing while it wastes levels. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "calib_internal.h"

#define QUANT_LEVELS 128

static InferStatus *need_histogram(const InferCalibHistogram *h, const char *what) {
  if (!h) return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "%s calibration: no histogram", what);
  if (!h->counts || h->n_bins < QUANT_LEVELS || h->n_bins > (1 << 24))
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "%s calibration: tensor '%s' has no histogram (statistics were "
                            "collected without histograms)", what, h->name ? h->name : "?");
  if (!(h->bin_width >= 0) || !isfinite(h->bin_width))
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "%s calibration: tensor '%s': bad bin width",
                            what, h->name ? h->name : "?");
  return NULL;
}

/* KL(P||Q) for candidate i given the histogram and its total (all counts);
 * `group_total` and `group_nonzero` are QUANT_LEVELS-sized scratch. */
static double divergence(const uint64_t *bins, int i, uint64_t total, uint64_t kept,
                         double *group_total, int *group_nonzero) {
  uint64_t outliers = total - kept;
  if (kept == 0) return INFINITY; /* Q would be empty */
  for (int g = 0; g < QUANT_LEVELS; g++) {
    group_total[g] = 0;
    group_nonzero[g] = 0;
  }
  for (int j = 0; j < i; j++) {
    int g = (int)((int64_t)j * QUANT_LEVELS / i);
    group_total[g] += (double)bins[j];
    group_nonzero[g] += bins[j] != 0;
  }
  double sum_p = (double)total, sum_q = (double)kept, kl = 0;
  for (int j = 0; j < i; j++) {
    double p = (double)bins[j];
    if (j == i - 1) p += (double)outliers;
    if (p == 0) continue;
    if (bins[j] == 0) return INFINITY; /* P > 0 = Q: only the last bin, see above */
    int g = (int)((int64_t)j * QUANT_LEVELS / i);
    double q = group_total[g] / group_nonzero[g];
    double pn = p / sum_p, qn = q / sum_q;
    kl += pn * log(pn / qn);
  }
  return kl;
}

static uint64_t kept_count(const uint64_t *bins, int i) {
  uint64_t s = 0;
  for (int j = 0; j < i; j++) s += bins[j];
  return s;
}

/* The counts the search works on: the histogram with bin 0 set to bin 1
 * (see the top of the file). Malloc'ed. */
static InferStatus *search_counts(const InferCalibHistogram *h, uint64_t **out) {
  uint64_t *c = malloc((size_t)h->n_bins * sizeof *c);
  if (!c)
    return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "entropy calibration: tensor '%s': out of "
                            "memory", h->name ? h->name : "?");
  memcpy(c, h->counts, (size_t)h->n_bins * sizeof *c);
  c[0] = c[1];
  *out = c;
  return NULL;
}

InferStatus *infer_calib_entropy_divergence(const InferCalibHistogram *h, int i, double *kl) {
  INFER_TRY(need_histogram(h, "entropy"));
  if (i < QUANT_LEVELS || i > h->n_bins)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "entropy calibration: candidate %d is outside %d..%d", i, QUANT_LEVELS,
                            h->n_bins);
  uint64_t *bins;
  INFER_TRY(search_counts(h, &bins));
  double group_total[QUANT_LEVELS];
  int group_nonzero[QUANT_LEVELS];
  uint64_t total = kept_count(bins, h->n_bins);
  *kl = total ? divergence(bins, i, total, kept_count(bins, i), group_total, group_nonzero) : 0;
  free(bins);
  return NULL;
}

InferStatus *infer_calib_entropy_amax(const InferCalibHistogram *h, float *amax) {
  INFER_TRY(need_histogram(h, "entropy"));
  *amax = 0;
  if (kept_count(h->counts, h->n_bins) == 0 || h->bin_width == 0) return NULL; /* every value was 0 */
  uint64_t *bins;
  INFER_TRY(search_counts(h, &bins));
  uint64_t total = kept_count(bins, h->n_bins);
  if (total == 0) {
    /* every value lies in the first bin: nothing to weigh, keep the range */
    free(bins);
    *amax = h->absmax;
    return NULL;
  }
  double group_total[QUANT_LEVELS];
  int group_nonzero[QUANT_LEVELS];
  uint64_t kept = kept_count(bins, QUANT_LEVELS - 1);
  double best = INFINITY;
  int best_i = h->n_bins;
  for (int i = QUANT_LEVELS; i <= h->n_bins; i++) {
    kept += bins[i - 1];
    double kl = divergence(bins, i, total, kept, group_total, group_nonzero);
    if (kl < best) {
      best = kl;
      best_i = i;
    }
  }
  free(bins);
  double a = (best_i + 0.5) * h->bin_width;
  *amax = (float)(a < h->absmax ? a : h->absmax);
  return NULL;
}
