/* INT8 post-training calibration, in the manner of TensorRT.
 *
 * Symmetric INT8 maps a tensor's values in [-amax, amax] to -127..127 with
 * scale = amax / 127. Calibration chooses amax per activation tensor from
 * the values it takes on representative data:
 *
 *   statistics   per tensor: the largest |x| and a histogram of |x| with
 *                INFER_CALIB_BINS bins over [0, range) whose range grows as
 *                batches arrive (InferCalibStats);
 *   calibrators  histogram -> amax: entropy (TensorRT's EntropyCalibration2),
 *                min-max, percentile; weights get per-output-channel amax;
 *   table        tensor name -> scale, read from / written to TensorRT's
 *                text calibration cache;
 *   driver       infer_calibrate(): runs an FP32 engine that reports every
 *                float activation over the batches an InferCalibrator gives.
 *
 * Everything here runs on host memory; a device path may compute partial
 * histograms itself and hand them over with infer_calib_stats_add_histogram. */
#ifndef INFER_CALIBRATION_H
#define INFER_CALIBRATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "infer/engine.h"
#include "infer/network.h"
#include "infer/status.h"
#include "infer/types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Statistics ------------------------------------------------------- */

#define INFER_CALIB_BINS 2048

typedef struct InferCalibStats InferCalibStats;

/* histograms = false keeps only abs-max and counts (min-max calibration,
 * the first pass of a two-pass run). */
InferStatus *infer_calib_stats_create(bool histograms, InferCalibStats **out);
void infer_calib_stats_release(InferCalibStats *stats); /* accepts NULL */

/* Fixes a tensor's histogram range to [0, range] before its data arrives
 * (bin width = range / INFER_CALIB_BINS), e.g. from a first abs-max pass.
 * Values beyond it still widen the range. range must be finite and > 0. */
InferStatus *infer_calib_stats_set_range(InferCalibStats *stats, const char *tensor, float range);

/* Adds n values of a tensor (F32 or F16, host memory). The first non-zero
 * batch sets the range to its abs-max; a later batch beyond the range
 * multiplies the bin width by the smallest integer k that covers it, merging
 * each k old bins into one so earlier counts stay exact. NaN and infinities
 * are counted apart and otherwise ignored. */
InferStatus *infer_calib_stats_add(InferCalibStats *stats, const char *tensor, InferDType dtype,
                                   const void *data, size_t n);

/* Adds a partial histogram computed elsewhere (a GPU kernel): n_bins ==
 * INFER_CALIB_BINS counts of |x| over [0, n_bins * bin_width), the batch's
 * abs-max (<= that range) and its number of values. bin_width must equal the
 * tensor's current bin width or differ from it by an integer factor (read it
 * with infer_calib_stats_get first, or set it with set_range); a tensor
 * without a range takes bin_width. */
InferStatus *infer_calib_stats_add_histogram(InferCalibStats *stats, const char *tensor,
                                             const uint64_t *counts, int n_bins,
                                             double bin_width, float absmax);

/* One tensor's statistics; pointers stay valid until the next call that
 * changes the stats object. */
typedef struct InferCalibHistogram {
  const char *name;
  float absmax;            /* largest finite |x| */
  uint64_t n_values;       /* finite values seen */
  uint64_t n_nonfinite;    /* NaN and infinities seen (not in the histogram) */
  double bin_width;        /* 0 while there is no range (every value was 0) */
  int n_bins;              /* INFER_CALIB_BINS, or 0 without histograms */
  const uint64_t *counts;  /* n_bins counts; bin b holds |x| in [b*w, (b+1)*w) */
  uint64_t n_zero_pending; /* values seen before a range existed (all 0; in bin 0 once
                              there is a range) */
} InferCalibHistogram;

int infer_calib_stats_count(const InferCalibStats *stats);
int infer_calib_stats_find(const InferCalibStats *stats, const char *tensor); /* -1 if none */
InferStatus *infer_calib_stats_get(const InferCalibStats *stats, int i, InferCalibHistogram *out);

/* ---- Calibrators ------------------------------------------------------ */

typedef enum InferCalibAlgo {
  INFER_CALIB_ENTROPY = 0, /* KL-divergence threshold search ("EntropyCalibration2") */
  INFER_CALIB_MINMAX,      /* amax = largest |x| ("MinMaxCalibration") */
  INFER_CALIB_PERCENTILE   /* amax = a percentile of |x| ("PercentileCalibration") */
} InferCalibAlgo;

#define INFER_CALIB_DEFAULT_PERCENTILE 99.99

/* The calibrator's name in cache headers: "EntropyCalibration2",
 * "MinMaxCalibration", "PercentileCalibration" (NULL for others). */
const char *infer_calib_algo_cache_name(InferCalibAlgo algo);
/* "entropy", "minmax", "percentile" */
const char *infer_calib_algo_name(InferCalibAlgo algo);

/* Entropy calibration: for every candidate threshold of i = 128 .. n_bins
 * bins, P = the first i bins with every count beyond them added to P's last
 * bin, Q = the first i bins merged into 128 groups and each group's total
 * spread evenly over its non-zero bins; the i with the smallest KL(P||Q)
 * gives amax = min((i + 0.5) * bin_width, abs-max). The search sees bin 0
 * with bin 1's count (exact zeros, e.g. half of a ReLU output, need no
 * range); abs-max when every value lies in bin 0. Needs a histogram. */
InferStatus *infer_calib_entropy_amax(const InferCalibHistogram *h, float *amax);
/* KL(P||Q) of one candidate (for diagnostics and tests). */
InferStatus *infer_calib_entropy_divergence(const InferCalibHistogram *h, int i, double *kl);
InferStatus *infer_calib_minmax_amax(const InferCalibHistogram *h, float *amax);
/* The value below which `percentile` % of |x| lie (0 < percentile <= 100),
 * interpolated linearly inside its bin. Needs a histogram. */
InferStatus *infer_calib_percentile_amax(const InferCalibHistogram *h, double percentile,
                                         float *amax);
/* Dispatch on algo; percentile <= 0 means INFER_CALIB_DEFAULT_PERCENTILE. */
InferStatus *infer_calib_compute_amax(const InferCalibHistogram *h, InferCalibAlgo algo,
                                      double percentile, float *amax);

/* scale = amax / 127 in float arithmetic (0 for amax 0). */
float infer_calib_scale_from_amax(float amax);

/* Per-channel symmetric amax of a weight tensor (F32 or F16): amax[c] =
 * max |w| over every element whose index along `axis` is c (axis 0 is the
 * output channel of Conv and Gemm weights, 1 for ConvTranspose). n_amax must
 * equal the dimension along axis. */
InferStatus *infer_calib_weight_channel_amax(const InferTensorView *w, int axis, float *amax,
                                             int64_t n_amax);

/* ---- Calibration tables and TensorRT's cache ------------------------- */

/* Tensor name -> scale (float32, amax / 127), in insertion order. */
typedef struct InferCalibTable InferCalibTable;

/* calibrator: the header's calibrator name, e.g. "EntropyCalibration2". */
InferStatus *infer_calib_table_create(const char *calibrator, InferCalibTable **out);
void infer_calib_table_release(InferCalibTable *table); /* accepts NULL */
/* Adds or replaces a tensor's scale (finite, >= 0). */
InferStatus *infer_calib_table_set(InferCalibTable *table, const char *tensor, float scale);
int infer_calib_table_count(const InferCalibTable *table);
const char *infer_calib_table_name(const InferCalibTable *table, int i);
float infer_calib_table_scale(const InferCalibTable *table, int i);
/* Finds a tensor's scale; false if the table has none. */
bool infer_calib_table_lookup(const InferCalibTable *table, const char *tensor, float *scale);
const char *infer_calib_table_calibrator(const InferCalibTable *table);
/* The header's version number ("TRT-8601-..." -> 8601). */
int infer_calib_table_version(const InferCalibTable *table);

/* The cache text: "TRT-<version>-<calibrator>\n", then "<name>: <hex>\n" per
 * tensor with the big-endian IEEE-754 bits of the float32 scale as 8
 * lower-case hex digits. The version is the table's (read from a cache, or
 * this library's major*1000 + minor*100 + patch, 4 digits, when created). */
InferStatus *infer_calib_table_serialize(const InferCalibTable *table, char **text,
                                         size_t *length); /* malloc'ed, NUL-terminated */
InferStatus *infer_calib_table_write_cache(const InferCalibTable *table, const char *path);
/* Parses cache text: any "TRT-<digits>-<name>" header, then lines
 * "<name>: <1..8 hex digits>" (the name may hold ": "; the last one splits;
 * CR LF line ends and a missing final newline are accepted, blank lines
 * skipped). Errors read "<source>:<line>: ..." (source NULL: "cache"). */
InferStatus *infer_calib_table_parse(const char *text, size_t length, const char *source,
                                     InferCalibTable **out);
InferStatus *infer_calib_table_read_cache(const char *path, InferCalibTable **out);

/* Compares a table with the tensors a network needs. */
typedef struct InferCalibCheck {
  int n_missing;  /* needed names without a scale */
  char **missing;
  int n_unknown;  /* names in the table that are not needed */
  char **unknown;
} InferCalibCheck;
/* Fills *out (free with infer_calib_check_clear). Returns INFER_ERR_MISMATCH
 * naming the missing tensors (and any unknown names) when some are missing;
 * unknown names alone are not an error (TensorRT ignores them too). */
InferStatus *infer_calib_table_check(const InferCalibTable *table, const char *const *needed,
                                     int n_needed, InferCalibCheck *out);
void infer_calib_check_clear(InferCalibCheck *check);

/* The tensors calibration gives scales to: the network's float (F32, F16)
 * inputs and layer outputs, in network order. Names are the network's
 * (valid while it lives); *names is malloc'ed. */
InferStatus *infer_calib_network_tensors(const InferNetwork *net, const char ***names, int *n);

/* ---- The driver ------------------------------------------------------- */

/* Host-side calibration data, in the manner of TensorRT's IInt8Calibrator. */
typedef struct InferCalibrator {
  void *user;
  /* Samples per batch: the size of every input's first dimension. */
  int (*get_batch_size)(void *user);
  /* Points bindings[k] at host data for input names[k] (float32 for F32
   * inputs, the input's dtype otherwise), shaped like the calibration
   * shape of that input. Returns false when there are no more batches.
   * The memory must stay valid until the next call. */
  bool (*get_batch)(void *user, const char *const *names, const void **bindings, int n);
  /* Optional: rewinds to the first batch. With it, histogram calibrators run
   * two passes (abs-max first, then histograms over the final range);
   * without it, one pass with growing histogram ranges. */
  bool (*reset)(void *user);
  /* Optional: a previous cache (NULL or length 0: none). A cache whose
   * calibrator name matches the algorithm is used instead of running. */
  const void *(*read_cache)(void *user, size_t *length);
  /* Optional: receives the new cache text. */
  void (*write_cache)(void *user, const void *data, size_t length);
} InferCalibrator;

typedef struct InferCalibOptions {
  InferBackendKind backend;    /* of the FP32 engine; AUTO by default */
  double percentile;           /* INFER_CALIB_PERCENTILE; <= 0: default 99.99 */
  /* Calibration shapes of inputs (others: the declared shape with a dynamic
   * first dimension set to the batch size). */
  int n_shapes;
  const char *const *shape_names;
  const InferShape *shapes;
  InferLogFn log;              /* progress and warnings, may be NULL */
  void *log_user;
  int max_batches;             /* stop after this many batches (0: all) */
} InferCalibOptions;

/* Copies the network, marks every float activation as an output, builds an
 * FP32 engine, runs the calibrator's batches, and returns a table with a
 * scale for every float activation (infer_calib_network_tensors) that the
 * engine computes. opts may be NULL (defaults). */
InferStatus *infer_calibrate(const InferNetwork *net, InferCalibrator *cal, InferCalibAlgo algo,
                             const InferCalibOptions *opts, InferCalibTable **out);

#ifdef __cplusplus
}
#endif
#endif
