/* Activation statistics: per tensor abs-max and a histogram of |x| whose
 * range grows by integer factors, so that merging old bins keeps every count
 * in the bin it would have had with the final range. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "calib_internal.h"

typedef struct CalibTensorStats {
  float absmax;
  uint64_t n_values, n_nonfinite;
  uint64_t n_zero_pending; /* values seen while no range existed (all exactly 0) */
  double bin_width;        /* 0: no range yet */
  uint64_t *counts;        /* INFER_CALIB_BINS, or NULL without histograms */
} CalibTensorStats;

struct InferCalibStats {
  bool histograms;
  CalibNameMap names;
  CalibTensorStats *t;
  int cap;
};

static InferStatus *oom(void) {
  return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "calibration statistics: out of memory");
}

InferStatus *infer_calib_stats_create(bool histograms, InferCalibStats **out) {
  if (!out) return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "calibration statistics: no output");
  *out = calloc(1, sizeof **out);
  if (!*out) return oom();
  (*out)->histograms = histograms;
  return NULL;
}

void infer_calib_stats_release(InferCalibStats *s) {
  if (!s) return;
  for (int i = 0; i < s->names.n; i++) free(s->t[i].counts);
  free(s->t);
  calib_names_clear(&s->names);
  free(s);
}

/* The stats of a tensor, created (empty) on first use. */
static InferStatus *tensor_stats(InferCalibStats *s, const char *name, CalibTensorStats **out) {
  if (!s || !name || !*name)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "calibration statistics: no statistics object or tensor name");
  int idx;
  bool added;
  if (s->names.n == s->cap) {
    /* grow first so that a failure leaves the name map and the array in step */
    int cap = s->cap ? s->cap * 2 : 16;
    CalibTensorStats *t = realloc(s->t, (size_t)cap * sizeof *t);
    if (!t) return oom();
    s->t = t;
    s->cap = cap;
  }
  INFER_TRY(calib_names_intern(&s->names, name, &idx, &added));
  if (added) {
    memset(&s->t[idx], 0, sizeof s->t[idx]);
    if (s->histograms) {
      s->t[idx].counts = calloc(INFER_CALIB_BINS, sizeof(uint64_t));
      if (!s->t[idx].counts) return oom(); /* the tensor stays, without a histogram */
    }
  }
  *out = &s->t[idx];
  return NULL;
}

/* Values seen before any range existed were all zero: they go to bin 0. */
static void start_range(CalibTensorStats *t, double bin_width) {
  t->bin_width = bin_width;
  if (t->counts) t->counts[0] += t->n_zero_pending;
  t->n_zero_pending = 0;
}

/* Widens the range k times: new bin j holds old bins j*k .. j*k+k-1, which
 * are exactly the values floor(|x| / (k*w)) == j. */
static void grow_range(CalibTensorStats *t, uint64_t k) {
  if (k <= 1) return;
  if (t->counts) {
    for (uint64_t j = 0; j < INFER_CALIB_BINS; j++) {
      uint64_t sum = 0;
      for (uint64_t b = j * k; b < (j + 1) * k && b < INFER_CALIB_BINS; b++) sum += t->counts[b];
      t->counts[j] = sum; /* j <= j*k: reads stay ahead of writes */
    }
  }
  t->bin_width *= (double)k;
}

/* The smallest integer factor whose range covers amax. */
static uint64_t cover_factor(double bin_width, double amax) {
  double range = bin_width * INFER_CALIB_BINS;
  if (amax <= range) return 1;
  double k = ceil(amax / range);
  while (k * range < amax) k += 1; /* guard against rounding in the division */
  return k > 1e12 ? (uint64_t)1e12 : (uint64_t)k; /* keeps j*k in range */
}

static inline int bin_of(double a, double bin_width) {
  double b = a / bin_width;
  return b >= INFER_CALIB_BINS ? INFER_CALIB_BINS - 1 : (int)b;
}

InferStatus *infer_calib_stats_set_range(InferCalibStats *s, const char *tensor, float range) {
  if (!isfinite(range) || range <= 0)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "calibration statistics: tensor '%s': range %g must be finite and > 0",
                            tensor ? tensor : "?", (double)range);
  CalibTensorStats *t;
  INFER_TRY(tensor_stats(s, tensor, &t));
  if (t->n_values || t->bin_width > 0)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "calibration statistics: tensor '%s' already has data; set its range "
                            "before adding any", tensor);
  start_range(t, (double)range / INFER_CALIB_BINS);
  return NULL;
}

static inline float load(const void *data, InferDType dtype, size_t i) {
  return dtype == INFER_DTYPE_F32 ? ((const float *)data)[i]
                                  : infer_half_to_float(((const uint16_t *)data)[i]);
}

InferStatus *infer_calib_stats_add(InferCalibStats *s, const char *tensor, InferDType dtype,
                                   const void *data, size_t n) {
  if (dtype != INFER_DTYPE_F32 && dtype != INFER_DTYPE_F16)
    return infer_status_new(INFER_ERR_UNSUPPORTED,
                            "calibration statistics: tensor '%s' is %s; only f32 and f16 tensors "
                            "are calibrated", tensor ? tensor : "?", infer_dtype_name(dtype));
  if (n && !data)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "calibration statistics: tensor '%s': no data", tensor ? tensor : "?");
  CalibTensorStats *t;
  INFER_TRY(tensor_stats(s, tensor, &t));
  /* pass 1: the batch's abs-max decides whether the range must grow */
  float amax = 0;
  uint64_t finite = 0;
  for (size_t i = 0; i < n; i++) {
    float a = fabsf(load(data, dtype, i));
    if (!isfinite(a)) {
      t->n_nonfinite++;
      continue;
    }
    finite++;
    if (a > amax) amax = a;
  }
  t->n_values += finite;
  if (amax > t->absmax) t->absmax = amax;
  if (!t->counts) return NULL;
  if (t->bin_width == 0) {
    if (amax == 0) {
      t->n_zero_pending += finite;
      return NULL;
    }
    start_range(t, (double)amax / INFER_CALIB_BINS);
  }
  grow_range(t, cover_factor(t->bin_width, amax));
  /* pass 2: count */
  double w = t->bin_width;
  for (size_t i = 0; i < n; i++) {
    float a = fabsf(load(data, dtype, i));
    if (isfinite(a)) t->counts[bin_of(a, w)]++;
  }
  return NULL;
}

/* r = a / b as an integer >= 1 when it is one (to 1e-9 relative), else 0. */
static uint64_t integer_ratio(double a, double b) {
  double r = a / b;
  if (!(r >= 0.5) || r > 1e12) return 0;
  double k = nearbyint(r);
  return fabs(r - k) <= 1e-9 * k ? (uint64_t)k : 0;
}

InferStatus *infer_calib_stats_add_histogram(InferCalibStats *s, const char *tensor,
                                             const uint64_t *counts, int n_bins,
                                             double bin_width, float absmax) {
  const char *name = tensor ? tensor : "?";
  if (n_bins != INFER_CALIB_BINS || !counts)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "calibration statistics: tensor '%s': a partial histogram needs %d "
                            "bins (%d given)", name, INFER_CALIB_BINS, counts ? n_bins : 0);
  if (!isfinite(bin_width) || bin_width <= 0 || !isfinite(absmax) || absmax < 0 ||
      (double)absmax > bin_width * INFER_CALIB_BINS * (1 + 1e-6))
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "calibration statistics: tensor '%s': partial histogram with bin "
                            "width %g and abs-max %g (must be within the %d bins)", name,
                            bin_width, (double)absmax, INFER_CALIB_BINS);
  CalibTensorStats *t;
  INFER_TRY(tensor_stats(s, tensor, &t));
  uint64_t total = 0;
  for (int b = 0; b < n_bins; b++) total += counts[b];
  if (t->counts) {
    if (t->bin_width == 0) start_range(t, bin_width);
    uint64_t up = integer_ratio(bin_width, t->bin_width);
    uint64_t down = up ? 0 : integer_ratio(t->bin_width, bin_width);
    if (!up && !down)
      return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                              "calibration statistics: tensor '%s': bin width %g is not an integer "
                              "multiple or fraction of the current %g", name, bin_width,
                              t->bin_width);
    if (up) {
      grow_range(t, up); /* now equal widths */
      for (int b = 0; b < n_bins; b++) t->counts[b] += counts[b];
    } else {
      /* finer incoming bins: `down` of them make one of ours */
      for (uint64_t b = 0; b < (uint64_t)n_bins; b++) t->counts[b / down] += counts[b];
    }
  }
  t->n_values += total;
  if (absmax > t->absmax) t->absmax = absmax;
  return NULL;
}

int infer_calib_stats_count(const InferCalibStats *s) { return s ? s->names.n : 0; }

int infer_calib_stats_find(const InferCalibStats *s, const char *tensor) {
  return s ? calib_names_find(&s->names, tensor) : -1;
}

InferStatus *infer_calib_stats_get(const InferCalibStats *s, int i, InferCalibHistogram *out) {
  if (!s || !out || i < 0 || i >= s->names.n)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "calibration statistics: no tensor %d", i);
  const CalibTensorStats *t = &s->t[i];
  out->name = s->names.names[i];
  out->absmax = t->absmax;
  out->n_values = t->n_values;
  out->n_nonfinite = t->n_nonfinite;
  out->bin_width = t->bin_width;
  out->n_bins = t->counts ? INFER_CALIB_BINS : 0;
  out->counts = t->counts;
  out->n_zero_pending = t->n_zero_pending;
  return NULL;
}
