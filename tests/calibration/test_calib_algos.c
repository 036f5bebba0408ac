/* Calibration statistics and calibrators on known distributions: histogram
 * range growth, partial histograms, entropy / min-max / percentile amax,
 * per-channel weight ranges.
 *
 * With --dump FILE the test also writes its histograms and the amax the
 * entropy calibrator chose, for entropy_reference.py (an independent numpy
 * implementation) to check. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infer/calibration.h"
#include "infer/infer.h"
#include "test_util.h"

/* A deterministic generator (xorshift64*), uniform in [0, 1). */
static uint64_t rng_state = 88172645463325252ull;
static double uniform01(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return (double)((rng_state * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}
static double gaussian(void) {
  double u = uniform01(), v = uniform01();
  if (u < 1e-300) u = 1e-300;
  return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

static FILE *dump_file;

static void dump(const char *label, const InferCalibHistogram *h, float amax) {
  if (!dump_file) return;
  fprintf(dump_file, "%s %.17g %.9g %.9g", label, h->bin_width, (double)amax, (double)h->absmax);
  for (int b = 0; b < h->n_bins; b++) fprintf(dump_file, " %llu", (unsigned long long)h->counts[b]);
  fprintf(dump_file, "\n");
}

/* The histogram of one tensor of `s`. */
static InferCalibHistogram get(InferCalibStats *s, const char *name) {
  InferCalibHistogram h;
  memset(&h, 0, sizeof h);
  int i = infer_calib_stats_find(s, name);
  CHECK(i >= 0);
  CHECK_OK(infer_calib_stats_get(s, i, &h));
  return h;
}

static float entropy_of(InferCalibStats *s, const char *name, const char *label) {
  InferCalibHistogram h = get(s, name);
  float amax = -1;
  CHECK_OK(infer_calib_entropy_amax(&h, &amax));
  dump(label, &h, amax);
  return amax;
}

/* N(0,1) plus a few far outliers: the entropy threshold clips the
 * outliers and keeps the body (a few sigma), min-max keeps everything. */
static void test_gaussian_with_outliers(void) {
  enum { N = 200000 };
  float *x = malloc(N * sizeof *x);
  for (int i = 0; i < N; i++) x[i] = (float)gaussian();
  for (int i = 0; i < 5; i++) x[i * 1000] = i % 2 ? -50.0f : 50.0f;
  InferCalibStats *s;
  CHECK_OK(infer_calib_stats_create(true, &s));
  CHECK_OK(infer_calib_stats_add(s, "g", INFER_DTYPE_F32, x, N));
  float amax = entropy_of(s, "g", "gaussian_outliers");
  CHECK(amax > 2.0f && amax < 10.0f);
  /* independent property: the clipped mass is tiny, the kept range covers
   * the bulk of the distribution (P(|x| > 2) = 4.6%) */
  int beyond = 0;
  for (int i = 0; i < N; i++) beyond += fabsf(x[i]) > amax;
  CHECK(beyond < N / 100);
  float mm = -1;
  InferCalibHistogram h = get(s, "g");
  CHECK_OK(infer_calib_minmax_amax(&h, &mm));
  CHECK(mm == 50.0f);
  CHECK(h.n_values == N && h.bin_width == 50.0 / INFER_CALIB_BINS);
  /* the chosen threshold's divergence is the smallest of all candidates */
  int chosen = (int)floor(amax / h.bin_width);
  double kl_best, kl;
  CHECK_OK(infer_calib_entropy_divergence(&h, chosen, &kl_best));
  for (int i = 128; i <= INFER_CALIB_BINS; i += 7) {
    CHECK_OK(infer_calib_entropy_divergence(&h, i, &kl));
    if (kl < kl_best) {
      CHECK(kl >= kl_best);
      break;
    }
  }
  infer_calib_stats_release(s);
  free(x);
}

/* ReLU of N(0,1): half the values are exact zeros, the rest half-normal.
 * The zeros need no range, so the threshold must be the one the non-zero
 * part alone gets (entropy_reference.py checks that against a numpy search
 * over the non-zero values' histogram), far above the 128 bins that a
 * search dominated by the zero bin would pick. */
static void test_relu_like(void) {
  enum { N = 200000 };
  float *x = malloc(N * sizeof *x);
  int nonzero = 0;
  for (int i = 0; i < N; i++) {
    float g = (float)gaussian();
    if (i % 2) {
      x[i] = 0;
    } else {
      x[i] = fabsf(g);
      nonzero += x[i] != 0;
    }
  }
  /* the same non-zero values alone, first, so both histograms share the range */
  float *nz = malloc(N * sizeof *nz);
  int n_nz = 0;
  for (int i = 0; i < N; i++)
    if (x[i] != 0) nz[n_nz++] = x[i];
  CHECK(n_nz == nonzero && n_nz > N / 2 - 10);
  InferCalibStats *s;
  CHECK_OK(infer_calib_stats_create(true, &s));
  CHECK_OK(infer_calib_stats_add(s, "relu50", INFER_DTYPE_F32, x, N));
  CHECK_OK(infer_calib_stats_add(s, "relu50_nonzero", INFER_DTYPE_F32, nz, n_nz));
  InferCalibHistogram h = get(s, "relu50"), hn = get(s, "relu50_nonzero");
  CHECK(h.bin_width == hn.bin_width && h.counts[0] >= (uint64_t)(N / 2));
  float amax = entropy_of(s, "relu50", "relu50");
  float amax_nz = entropy_of(s, "relu50_nonzero", "relu50_nonzero");
  double bin = amax / h.bin_width;
  /* far above bin 128 (a threshold there is 6% of the abs-max) */
  CHECK(bin > 4 * 128);
  /* where the non-zero part alone puts it, within 2% */
  CHECK(fabsf(amax - amax_nz) <= 0.02f * amax_nz);
  /* the half-normal's body is kept (P(|x| > 2.5) = 1.2%), at most a thin
   * tail is clipped */
  CHECK(amax > 2.5f && amax < h.absmax);
  int beyond = 0;
  for (int i = 0; i < n_nz; i++) beyond += nz[i] > amax;
  CHECK(beyond < n_nz / 100);
  /* min-max and percentile see the zeros as before */
  float mm = -1, pc = -1;
  CHECK_OK(infer_calib_minmax_amax(&h, &mm));
  CHECK(mm == h.absmax);
  CHECK_OK(infer_calib_percentile_amax(&h, 75.0, &pc)); /* the half-normal's median: 0.674 */
  CHECK_NEAR(pc, 0.674, 0.02);
  /* more zeros do not move the threshold */
  float *zeros = calloc(N, sizeof *zeros);
  CHECK_OK(infer_calib_stats_add(s, "relu50_more_zeros", INFER_DTYPE_F32, x, N));
  CHECK_OK(infer_calib_stats_add(s, "relu50_more_zeros", INFER_DTYPE_F32, zeros, N));
  CHECK(entropy_of(s, "relu50_more_zeros", "relu50_more_zeros") == amax);
  free(zeros);
  infer_calib_stats_release(s);
  free(nz);
  free(x);
}

/* Every value in the first bin but one far away: the search has nothing
 * to weigh below it, the range stays whole. */
static void test_first_bin_only(void) {
  static uint64_t c[INFER_CALIB_BINS];
  c[0] = 1000;
  c[INFER_CALIB_BINS - 1] = 1;
  InferCalibHistogram h;
  memset(&h, 0, sizeof h);
  h.name = "t";
  h.counts = c;
  h.n_bins = INFER_CALIB_BINS;
  h.bin_width = 1.0 / INFER_CALIB_BINS;
  h.absmax = 1.0f;
  float amax = -1;
  CHECK_OK(infer_calib_entropy_amax(&h, &amax));
  CHECK(amax == 1.0f);
  c[INFER_CALIB_BINS - 1] = 0;
  h.absmax = 0.5f / INFER_CALIB_BINS;
  CHECK_OK(infer_calib_entropy_amax(&h, &amax));
  CHECK(amax == h.absmax);
}

/* Uniform values: nothing to clip, the threshold stays near the max. */
static void test_uniform(void) {
  enum { N = 200000 };
  float *x = malloc(N * sizeof *x);
  for (int i = 0; i < N; i++) x[i] = (float)(uniform01() * 2 - 1) * 3.0f;
  InferCalibStats *s;
  CHECK_OK(infer_calib_stats_create(true, &s));
  CHECK_OK(infer_calib_stats_add(s, "u", INFER_DTYPE_F32, x, N));
  InferCalibHistogram h = get(s, "u");
  float amax = entropy_of(s, "u", "uniform");
  CHECK(amax >= 0.95f * h.absmax && amax <= h.absmax + (float)h.bin_width);
  infer_calib_stats_release(s);
  free(x);
}

/* ReLU-like and exponential data, for the reference comparison only. */
static void test_reference_shapes(void) {
  enum { N = 100000 };
  float *x = malloc(N * sizeof *x);
  InferCalibStats *s;
  CHECK_OK(infer_calib_stats_create(true, &s));
  for (int i = 0; i < N; i++) {
    float g = (float)gaussian();
    x[i] = g > 0 ? g : 0;
  }
  CHECK_OK(infer_calib_stats_add(s, "relu", INFER_DTYPE_F32, x, N));
  for (int i = 0; i < N; i++) x[i] = (float)(-log(1 - uniform01()));
  CHECK_OK(infer_calib_stats_add(s, "exp", INFER_DTYPE_F32, x, N));
  float a = entropy_of(s, "relu", "relu");
  CHECK(a > 1.0f && a < 5.0f);
  a = entropy_of(s, "exp", "exponential");
  CHECK(a > 2.0f);
  infer_calib_stats_release(s);
  free(x);
}

static void test_minmax_exact(void) {
  float x[6] = {0.5f, -7.25f, 3.0f, 7.0f, -0.0f, 1e-3f};
  InferCalibStats *s;
  CHECK_OK(infer_calib_stats_create(false, &s));
  CHECK_OK(infer_calib_stats_add(s, "t", INFER_DTYPE_F32, x, 3));
  CHECK_OK(infer_calib_stats_add(s, "t", INFER_DTYPE_F32, x + 3, 3));
  InferCalibHistogram h = get(s, "t");
  CHECK(h.counts == NULL && h.n_bins == 0 && h.n_values == 6);
  float amax = 0;
  CHECK_OK(infer_calib_compute_amax(&h, INFER_CALIB_MINMAX, 0, &amax));
  CHECK(amax == 7.25f);
  float scale = infer_calib_scale_from_amax(amax);
  CHECK(scale == 7.25f / 127.0f);
  CHECK(infer_calib_scale_from_amax(0) == 0);
  char msg[512];
  CHECK_FAILS(infer_calib_entropy_amax(&h, &amax), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK(strstr(msg, "'t' has no histogram") != NULL);
  infer_calib_stats_release(s);
}

/* |x| = 1..10000: the 99.99th percentile is 9999. */
static void test_percentile(void) {
  enum { N = 10000 };
  float *x = malloc(N * sizeof *x);
  for (int i = 0; i < N; i++) x[i] = (float)(i + 1) * (i % 2 ? -1.0f : 1.0f);
  InferCalibStats *s;
  CHECK_OK(infer_calib_stats_create(true, &s));
  CHECK_OK(infer_calib_stats_add(s, "p", INFER_DTYPE_F32, x, N));
  InferCalibHistogram h = get(s, "p");
  double w = 10000.0 / INFER_CALIB_BINS;
  CHECK(h.bin_width == w);
  float amax = 0;
  CHECK_OK(infer_calib_compute_amax(&h, INFER_CALIB_PERCENTILE, 0, &amax)); /* default 99.99 */
  CHECK_NEAR(amax, 9999.0, w);
  CHECK_OK(infer_calib_percentile_amax(&h, 50.0, &amax));
  CHECK_NEAR(amax, 5000.0, w);
  CHECK_OK(infer_calib_percentile_amax(&h, 100.0, &amax));
  CHECK(amax == 10000.0f);
  char msg[512];
  CHECK_FAILS(infer_calib_percentile_amax(&h, 0.0, &amax), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK_FAILS(infer_calib_percentile_amax(&h, 100.5, &amax), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK(strstr(msg, "100.5") != NULL);
  infer_calib_stats_release(s);
  free(x);
}

/* Batches with growing ranges give the counts that one histogram over the
 * final range gives. */
static void test_range_growth(void) {
  enum { N = 50000 };
  const float spread[4] = {1.0f, 3.7f, 10.2f, 2.0f};
  float *x = malloc(4 * N * sizeof *x);
  for (int b = 0; b < 4; b++)
    for (int i = 0; i < N; i++) x[b * N + i] = (float)(uniform01() * 2 - 1) * spread[b];
  x[0] = 1.0f; /* the first batch's range is exactly 1 */
  InferCalibStats *grow, *fixed;
  CHECK_OK(infer_calib_stats_create(true, &grow));
  CHECK_OK(infer_calib_stats_create(true, &fixed));
  for (int b = 0; b < 4; b++) CHECK_OK(infer_calib_stats_add(grow, "t", INFER_DTYPE_F32, x + b * N, N));
  InferCalibHistogram g = get(grow, "t");
  /* 1 -> x4 (3.7) -> x3 (10.2 <= 12): the width is an integer multiple of the first */
  CHECK(g.bin_width == 12.0 / INFER_CALIB_BINS);
  CHECK(g.n_values == 4 * N);
  CHECK_OK(infer_calib_stats_set_range(fixed, "t", (float)(g.bin_width * INFER_CALIB_BINS)));
  CHECK_OK(infer_calib_stats_add(fixed, "t", INFER_DTYPE_F32, x, 4 * N));
  InferCalibHistogram f = get(fixed, "t");
  CHECK(f.bin_width == g.bin_width);
  int diff = 0;
  uint64_t total = 0;
  for (int b = 0; b < INFER_CALIB_BINS; b++) {
    diff += g.counts[b] != f.counts[b];
    total += g.counts[b];
  }
  CHECK(diff == 0);
  CHECK(total == 4 * N);
  CHECK(g.absmax == f.absmax);
  /* set_range after data is refused */
  char msg[512];
  CHECK_FAILS(infer_calib_stats_set_range(grow, "t", 5.0f), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK(strstr(msg, "'t' already has data") != NULL);
  infer_calib_stats_release(grow);
  infer_calib_stats_release(fixed);
  free(x);
}

/* Partial histograms (as a GPU would compute them) merge like data. */
static void test_partial_histograms(void) {
  enum { N = 20000 };
  float *x = malloc(N * sizeof *x);
  for (int i = 0; i < N; i++) x[i] = (float)(uniform01() * 8 - 4);
  InferCalibStats *direct, *merged;
  CHECK_OK(infer_calib_stats_create(true, &direct));
  CHECK_OK(infer_calib_stats_create(true, &merged));
  CHECK_OK(infer_calib_stats_set_range(direct, "t", 8.0f));
  CHECK_OK(infer_calib_stats_add(direct, "t", INFER_DTYPE_F32, x, N));
  /* two partial histograms: the first half over [0, 4), the second over [0, 8) */
  static uint64_t c1[INFER_CALIB_BINS], c2[INFER_CALIB_BINS];
  double w1 = 4.0 / INFER_CALIB_BINS, w2 = 8.0 / INFER_CALIB_BINS;
  float m1 = 0, m2 = 0;
  for (int i = 0; i < N; i++) {
    float a = fabsf(x[i]);
    if (i < N / 2) {
      int b = (int)(a / w1);
      c1[b < INFER_CALIB_BINS ? b : INFER_CALIB_BINS - 1]++;
      m1 = a > m1 ? a : m1;
    } else {
      int b = (int)(a / w2);
      c2[b < INFER_CALIB_BINS ? b : INFER_CALIB_BINS - 1]++;
      m2 = a > m2 ? a : m2;
    }
  }
  CHECK_OK(infer_calib_stats_add_histogram(merged, "t", c1, INFER_CALIB_BINS, w1, m1));
  CHECK_OK(infer_calib_stats_add_histogram(merged, "t", c2, INFER_CALIB_BINS, w2, m2));
  /* and a finer one merged into the now coarser histogram */
  CHECK_OK(infer_calib_stats_add_histogram(merged, "t", c1, INFER_CALIB_BINS, w1, m1));
  InferCalibHistogram d = get(direct, "t"), m = get(merged, "t");
  CHECK(m.bin_width == d.bin_width && m.n_values == (uint64_t)N + N / 2);
  int diff = 0;
  for (int b = 0; b < INFER_CALIB_BINS; b++) {
    uint64_t extra = 0; /* the second copy of c1, in the coarse bins */
    if (b < INFER_CALIB_BINS / 2) extra = c1[2 * b] + c1[2 * b + 1];
    diff += m.counts[b] != d.counts[b] + extra;
  }
  CHECK(diff == 0);
  char msg[512];
  CHECK_FAILS(infer_calib_stats_add_histogram(merged, "t", c1, INFER_CALIB_BINS, w2 * 1.5, 1.0f),
              INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK(strstr(msg, "not an integer multiple") != NULL);
  CHECK_FAILS(infer_calib_stats_add_histogram(merged, "t", c1, 100, w2, 1.0f),
              INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK_FAILS(infer_calib_stats_add_histogram(merged, "t", c1, INFER_CALIB_BINS, w1, 100.0f),
              INFER_ERR_INVALID_ARGUMENT, msg);
  infer_calib_stats_release(direct);
  infer_calib_stats_release(merged);
  free(x);
}

/* F16 data, all-zero batches before the range exists, non-finite values. */
static void test_f16_zeros_nonfinite(void) {
  uint16_t h16[4] = {infer_float_to_half(1.5f), infer_float_to_half(-3.0f), 0x7e00 /* NaN */,
                     0x7c00 /* +inf */};
  float zeros[5] = {0};
  InferCalibStats *s;
  CHECK_OK(infer_calib_stats_create(true, &s));
  CHECK_OK(infer_calib_stats_add(s, "h", INFER_DTYPE_F32, zeros, 5));
  InferCalibHistogram h = get(s, "h");
  CHECK(h.bin_width == 0 && h.n_zero_pending == 5);
  float amax = -1;
  CHECK_OK(infer_calib_entropy_amax(&h, &amax));
  CHECK(amax == 0);
  CHECK_OK(infer_calib_stats_add(s, "h", INFER_DTYPE_F16, h16, 4));
  h = get(s, "h");
  CHECK(h.absmax == 3.0f && h.n_values == 7 && h.n_nonfinite == 2 && h.n_zero_pending == 0);
  CHECK(h.counts[0] == 5 && h.counts[INFER_CALIB_BINS - 1] == 1 && h.counts[1024] == 1);
  char msg[512];
  int32_t ints[2] = {1, 2};
  CHECK_FAILS(infer_calib_stats_add(s, "i", INFER_DTYPE_I32, ints, 2), INFER_ERR_UNSUPPORTED, msg);
  CHECK(strstr(msg, "'i' is i32") != NULL);
  CHECK_FAILS(infer_calib_stats_add(s, "", INFER_DTYPE_F32, zeros, 1), INFER_ERR_INVALID_ARGUMENT,
              msg);
  CHECK_FAILS(infer_calib_stats_set_range(s, "r", NAN), INFER_ERR_INVALID_ARGUMENT, msg);
  infer_calib_stats_release(s);
}

static void test_weights(void) {
  /* [3,2,2]: per output channel (axis 0) and along axis 1 */
  float w[12] = {1, -2, 0.5f, 0, -4, 3, 2, 1, 0, 0, 0, -0.25f};
  float amax[3];
  InferTensorView v = {INFER_DTYPE_F32, {3, {3, 2, 2}}, w};
  CHECK_OK(infer_calib_weight_channel_amax(&v, 0, amax, 3));
  CHECK(amax[0] == 2 && amax[1] == 4 && amax[2] == 0.25f);
  CHECK_OK(infer_calib_weight_channel_amax(&v, 1, amax, 2));
  CHECK(amax[0] == 4 && amax[1] == 2);
  uint16_t h[12];
  for (int i = 0; i < 12; i++) h[i] = infer_float_to_half(w[i]);
  InferTensorView vh = {INFER_DTYPE_F16, {3, {3, 2, 2}}, h};
  CHECK_OK(infer_calib_weight_channel_amax(&vh, 0, amax, 3));
  CHECK(amax[0] == 2 && amax[1] == 4 && amax[2] == 0.25f);
  char msg[512];
  CHECK_FAILS(infer_calib_weight_channel_amax(&v, 0, amax, 2), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK(strstr(msg, "3 channels") != NULL);
  CHECK_FAILS(infer_calib_weight_channel_amax(&v, 3, amax, 3), INFER_ERR_INVALID_ARGUMENT, msg);
}

static void test_names(void) {
  CHECK(strcmp(infer_calib_algo_cache_name(INFER_CALIB_ENTROPY), "EntropyCalibration2") == 0);
  CHECK(strcmp(infer_calib_algo_cache_name(INFER_CALIB_MINMAX), "MinMaxCalibration") == 0);
  CHECK(strcmp(infer_calib_algo_cache_name(INFER_CALIB_PERCENTILE), "PercentileCalibration") == 0);
  CHECK(infer_calib_algo_cache_name((InferCalibAlgo)42) == NULL);
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--dump") == 0) {
    dump_file = fopen(argv[2], "w");
    if (!dump_file) {
      perror(argv[2]);
      return 2;
    }
  }
  test_gaussian_with_outliers();
  test_uniform();
  test_relu_like();
  test_first_bin_only();
  test_reference_shapes();
  test_minmax_exact();
  test_percentile();
  test_range_growth();
  test_partial_histograms();
  test_f16_zeros_nonfinite();
  test_weights();
  test_names();
  if (dump_file) fclose(dump_file);
  TEST_MAIN_END("calibration algorithms");
}
