/* infer_calibrate on CPU engines.
 *
 *   test_calib_driver                       a network built in code, with
 *                                           expected values computed here
 *   test_calib_driver MODEL DATA_DIR        an ONNX model and the batches and
 *                                           onnxruntime abs-max values that
 *                                           calib_reference.py wrote
 *   test_calib_driver --check-cache CACHE DATA_DIR ALGO
 *                                           a cache (from infer-calibrate)
 *                                           against the same expectations */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infer/calibration.h"
#include "infer/infer.h"
#include "test_util.h"

static uint32_t bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

/* ---- an in-memory calibrator ---- */

typedef struct MemCal {
  int batch, n_batches, next;
  const float *const *data; /* one array per batch (single input) */
  int batches_given, resets;
  const char *cache;        /* returned by read_cache */
  char *written;            /* what write_cache got */
} MemCal;

static int mem_batch_size(void *user) { return ((MemCal *)user)->batch; }

static bool mem_get_batch(void *user, const char *const *names, const void **bindings, int n) {
  MemCal *m = user;
  (void)names;
  if (m->next >= m->n_batches || n != 1) return false;
  bindings[0] = m->data[m->next++];
  m->batches_given++;
  return true;
}

static bool mem_reset(void *user) {
  MemCal *m = user;
  m->next = 0;
  m->resets++;
  return true;
}

static const void *mem_read_cache(void *user, size_t *length) {
  MemCal *m = user;
  *length = m->cache ? strlen(m->cache) : 0;
  return m->cache;
}

static void mem_write_cache(void *user, const void *data, size_t length) {
  MemCal *m = user;
  free(m->written);
  m->written = malloc(length + 1);
  memcpy(m->written, data, length);
  m->written[length] = 0;
}

static InferCalibOptions cpu_options(void) {
  InferCalibOptions o;
  memset(&o, 0, sizeof o);
  o.backend = INFER_BACKEND_CPU;
  return o;
}

/* x [N,4] -> +1 -> relu -> fully connected (2) -> softmax; batch `n` */
static InferNetwork *small_mlp(int64_t n) {
  InferNetwork *net;
  CHECK_OK(infer_network_create(&net));
  InferShape s = {2, {n, 4}};
  InferTensorId x, one, h, r, w, b, fc, y;
  CHECK_OK(infer_network_add_input(net, "x", INFER_DTYPE_F32, &s, &x));
  float one_v = 1.0f;
  InferShape scalar = {0, {0}};
  CHECK_OK(infer_network_add_constant(net, "one", INFER_DTYPE_F32, &scalar, &one_v, &one));
  CHECK_OK(infer_network_add_elementwise(net, "add", x, one, INFER_BINARY_ADD, &h));
  CHECK_OK(infer_network_add_activation(net, "relu", h, INFER_UNARY_RELU, 0, 0, &r));
  float wv[8] = {1, 1, 1, 1, 1, 0, -1, 0}, bv[2] = {0.5f, 0};
  InferShape ws = {2, {2, 4}}, bs = {1, {2}};
  CHECK_OK(infer_network_add_constant(net, "w", INFER_DTYPE_F32, &ws, wv, &w));
  CHECK_OK(infer_network_add_constant(net, "b", INFER_DTYPE_F32, &bs, bv, &b));
  CHECK_OK(infer_network_add_fully_connected(net, "fc", r, w, b, &fc));
  CHECK_OK(infer_network_add_softmax(net, "softmax", fc, -1, &y));
  CHECK_OK(infer_network_mark_output(net, y));
  return net;
}

#define NB 3
static float batches[NB][8] = {
    {1, -2, 3, -4, -1, -1, -1, -1},
    {0.5f, 0.25f, -0.5f, 2, 7.5f, -8, 1, 0},
    {-3, 2, 2, 2, 0, 0, 0, 0.75f},
};

/* The expected abs-max of every activation, computed here in double: the
 * values are multiples of 1/4, so every step is exact in float too. */
static void expected_mlp(int n_batches, double amax[5]) {
  memset(amax, 0, 5 * sizeof *amax);
  const double w[2][4] = {{1, 1, 1, 1}, {1, 0, -1, 0}}, b[2] = {0.5, 0};
  for (int k = 0; k < n_batches; k++)
    for (int row = 0; row < 2; row++) {
      double r[4], fc[2];
      for (int j = 0; j < 4; j++) {
        double x = batches[k][row * 4 + j], h = x + 1;
        r[j] = h > 0 ? h : 0;
        amax[0] = fmax(amax[0], fabs(x));
        amax[1] = fmax(amax[1], fabs(h));
        amax[2] = fmax(amax[2], r[j]);
      }
      for (int o = 0; o < 2; o++) {
        fc[o] = b[o];
        for (int j = 0; j < 4; j++) fc[o] += w[o][j] * r[j];
        amax[3] = fmax(amax[3], fabs(fc[o]));
      }
      double m = fmax(fc[0], fc[1]), e0 = exp(fc[0] - m), e1 = exp(fc[1] - m);
      amax[4] = fmax(amax[4], fmax(e0, e1) / (e0 + e1));
    }
}

/* the fully connected layer flattens its input first */
#define N_MLP 6
static const char *mlp_names[N_MLP] = {"x", "add:0", "relu:0", "fc/flatten:0", "fc:0", "softmax:0"};
static const int mlp_amax[N_MLP] = {0, 1, 2, 2, 3, 4}; /* index into expected_mlp's amax */

static void check_minmax_table(const InferCalibTable *t, int n_batches) {
  double amax[5];
  expected_mlp(n_batches, amax);
  CHECK(infer_calib_table_count(t) == N_MLP);
  for (int i = 0; i < N_MLP; i++) {
    float s = -1;
    bool found = infer_calib_table_lookup(t, mlp_names[i], &s);
    CHECK(found);
    if (!found) {
      fprintf(stderr, "  no scale for '%s'\n", mlp_names[i]);
      continue;
    }
    float want = (float)amax[mlp_amax[i]] / 127.0f;
    if (i < N_MLP - 1) {
      CHECK(bits(s) == bits(want));
      if (bits(s) != bits(want))
        fprintf(stderr, "  '%s': scale %.9g, expected %.9g\n", mlp_names[i], s, want);
    } else {
      CHECK_NEAR(s, want, 1e-6 * want);
    }
  }
}

static void test_network_tensors(void) {
  InferNetwork *net = small_mlp(-1);
  const char **names = NULL;
  int n = 0;
  CHECK_OK(infer_calib_network_tensors(net, &names, &n));
  CHECK(n == N_MLP);
  for (int i = 0; i < n && i < N_MLP; i++) CHECK(strcmp(names[i], mlp_names[i]) == 0);
  free(names);
  infer_network_release(net);
}

static void test_minmax(void) {
  InferNetwork *net = small_mlp(-1);
  const float *data[NB] = {batches[0], batches[1], batches[2]};
  MemCal m = {2, NB, 0, data, 0, 0, NULL, NULL};
  InferCalibrator cal = {&m, mem_batch_size, mem_get_batch, NULL, mem_read_cache, mem_write_cache};
  InferCalibOptions o = cpu_options();
  InferCalibTable *t = NULL;
  CHECK_OK(infer_calibrate(net, &cal, INFER_CALIB_MINMAX, &o, &t));
  CHECK(m.batches_given == NB);
  if (t) {
    check_minmax_table(t, NB);
    CHECK(strcmp(infer_calib_table_calibrator(t), "MinMaxCalibration") == 0);
    /* the cache handed to write_cache reads back to the same table */
    InferCalibTable *r = NULL;
    CHECK(m.written != NULL);
    if (m.written) CHECK_OK(infer_calib_table_parse(m.written, strlen(m.written), "written", &r));
    for (int i = 0; r && i < infer_calib_table_count(t); i++) {
      float s;
      CHECK(infer_calib_table_lookup(r, infer_calib_table_name(t, i), &s) &&
            bits(s) == bits(infer_calib_table_scale(t, i)));
    }
    infer_calib_table_release(r);
  }
  infer_calib_table_release(t);

  /* the cache is used as it is: no batch is asked for */
  m.cache = m.written;
  m.written = NULL;
  m.next = m.batches_given = 0;
  CHECK_OK(infer_calibrate(net, &cal, INFER_CALIB_MINMAX, &o, &t));
  CHECK(m.batches_given == 0);
  if (t) check_minmax_table(t, NB);
  infer_calib_table_release(t);
  /* a cache of another calibrator is not */
  CHECK_OK(infer_calibrate(net, &cal, INFER_CALIB_ENTROPY, &o, &t));
  CHECK(m.batches_given == NB);
  CHECK(t && strcmp(infer_calib_table_calibrator(t), "EntropyCalibration2") == 0);
  infer_calib_table_release(t);
  free((char *)m.cache);
  free(m.written);

  /* max_batches */
  MemCal m1 = {2, NB, 0, data, 0, 0, NULL, NULL};
  cal.user = &m1;
  o.max_batches = 1;
  CHECK_OK(infer_calibrate(net, &cal, INFER_CALIB_MINMAX, &o, &t));
  CHECK(m1.batches_given == 1);
  if (t) check_minmax_table(t, 1);
  infer_calib_table_release(t);
  free(m1.written);
  infer_network_release(net);
}

/* Entropy and percentile: every tensor gets a scale within its range; with
 * reset the calibrator is read twice. */
static void test_histogram_algos(void) {
  InferNetwork *net = small_mlp(-1);
  const float *data[NB] = {batches[0], batches[1], batches[2]};
  double amax[5];
  expected_mlp(NB, amax);
  for (int two_pass = 0; two_pass < 2; two_pass++)
    for (int algo = 0; algo < 2; algo++) {
      MemCal m = {2, NB, 0, data, 0, 0, NULL, NULL};
      InferCalibrator cal = {&m, mem_batch_size, mem_get_batch, two_pass ? mem_reset : NULL,
                             NULL, NULL};
      InferCalibOptions o = cpu_options();
      InferCalibAlgo a = algo ? INFER_CALIB_PERCENTILE : INFER_CALIB_ENTROPY;
      InferCalibTable *t = NULL;
      CHECK_OK(infer_calibrate(net, &cal, a, &o, &t));
      CHECK(m.batches_given == (two_pass ? 2 : 1) * NB && m.resets == two_pass);
      CHECK(infer_calib_table_count(t) == N_MLP);
      for (int i = 0; t && i < N_MLP; i++) {
        float s = 0;
        CHECK(infer_calib_table_lookup(t, mlp_names[i], &s));
        /* never beyond the abs-max */
        CHECK(s > 0 && s <= (float)amax[mlp_amax[i]] * (1 + 1e-6f) / 127.0f);
      }
      infer_calib_table_release(t);
    }
  infer_network_release(net);
}

static void test_errors(void) {
  char msg[512];
  InferNetwork *net = small_mlp(-1);
  MemCal m = {2, 0, 0, NULL, 0, 0, NULL, NULL};
  InferCalibrator cal = {&m, mem_batch_size, mem_get_batch, NULL, NULL, NULL};
  InferCalibOptions o = cpu_options();
  InferCalibTable *t = NULL;
  CHECK_FAILS(infer_calibrate(net, &cal, INFER_CALIB_ENTROPY, &o, &t), INFER_ERR_INVALID_ARGUMENT,
              msg);
  CHECK(strstr(msg, "gave no batch") != NULL);
  CHECK(t == NULL);
  o.percentile = 120;
  CHECK_FAILS(infer_calibrate(net, &cal, INFER_CALIB_PERCENTILE, &o, &t),
              INFER_ERR_INVALID_ARGUMENT, msg);
  infer_network_release(net);
  /* a fixed batch of 1 with batches of 2 */
  net = small_mlp(1);
  o = cpu_options();
  CHECK_FAILS(infer_calibrate(net, &cal, INFER_CALIB_MINMAX, &o, &t), INFER_ERR_INVALID_ARGUMENT,
              msg);
  CHECK(strstr(msg, "input 'x' has a fixed batch of 1") != NULL);
  infer_network_release(net);
  /* an unusable cache is an error that names it */
  m.cache = "TRT-8601-MinMaxCalibration\nx 3c010204\n";
  net = small_mlp(-1);
  cal.read_cache = mem_read_cache;
  CHECK_FAILS(infer_calibrate(net, &cal, INFER_CALIB_MINMAX, &o, &t), INFER_ERR_PARSE, msg);
  CHECK(strstr(msg, "calibration cache:2: expected") == msg);
  infer_network_release(net);
}

/* ---- ONNX models with calib_reference.py's data ---- */

typedef struct Expected {
  int n;
  char names[512][256];
  uint32_t scale_bits[512];
  bool is_input[512];
} Expected;

static bool read_expected(const char *dir, Expected *e) {
  char path[1024];
  snprintf(path, sizeof path, "%s/expected.txt", dir);
  FILE *f = fopen(path, "r");
  if (!f) {
    perror(path);
    return false;
  }
  e->n = 0;
  char line[1024];
  while (e->n < 512 && fgets(line, sizeof line, f)) {
    char *tab = strchr(line, '\t');
    if (!tab || (size_t)(tab - line) >= sizeof e->names[0]) continue;
    *tab = 0;
    memcpy(e->names[e->n], line, strlen(line) + 1);
    e->scale_bits[e->n] = (uint32_t)strtoul(tab + 1, NULL, 16);
    e->is_input[e->n++] = strstr(tab + 1, "\tinput") != NULL;
  }
  fclose(f);
  return e->n > 0;
}

/* Batches from files batch_<k>_<i>.pb, bound to inputs by tensor name. */
typedef struct FileCal {
  int n_batches, n_inputs, next, batch;
  char *names[8];
  InferTensorView views[64][8];
} FileCal;

static int file_batch_size(void *user) { return ((FileCal *)user)->batch; }

static bool file_get_batch(void *user, const char *const *names, const void **bindings, int n) {
  FileCal *c = user;
  if (c->next >= c->n_batches) return false;
  for (int k = 0; k < n; k++)
    for (int i = 0; i < c->n_inputs; i++)
      if (strcmp(names[k], c->names[i]) == 0) bindings[k] = c->views[c->next][i].data;
  c->next++;
  return true;
}

static bool file_reset(void *user) {
  ((FileCal *)user)->next = 0;
  return true;
}

static void free_batches(FileCal *c) {
  for (int k = 0; k < c->n_batches; k++)
    for (int i = 0; i < c->n_inputs; i++) free(c->views[k][i].data);
  for (int i = 0; i < c->n_inputs; i++) free(c->names[i]);
}

static int load_batches(const char *dir, FileCal *c) {
  memset(c, 0, sizeof *c);
  for (int k = 0; k < 64; k++) {
    int i = 0;
    for (; i < 8; i++) {
      char path[1024];
      snprintf(path, sizeof path, "%s/batch_%03d_%d.pb", dir, k, i);
      FILE *f = fopen(path, "rb");
      if (!f) break;
      fclose(f);
      char *name = NULL;
      CHECK_OK(infer_onnx_read_tensor_file(path, &c->views[k][i], &name));
      if (k == 0) c->names[i] = name;
      else free(name);
    }
    if (i == 0) break;
    c->n_inputs = i;
    c->n_batches = k + 1;
  }
  c->batch = c->n_batches ? (int)c->views[0][0].shape.d[0] : 0;
  return c->n_batches;
}

/* Min-max: inputs bit for bit; computed tensors to 1e-5 relative (the
 * engine and onnxruntime sum in different orders). Other algorithms: a
 * scale in (0, min-max]. */
static void compare(const InferCalibTable *t, const Expected *e, bool minmax, const char *what) {
  int extra = 0, mismatched = 0;
  for (int i = 0; i < e->n; i++) {
    float s;
    if (!infer_calib_table_lookup(t, e->names[i], &s)) {
      CHECK(!"every float activation has a scale");
      fprintf(stderr, "  %s: no scale for '%s'\n", what, e->names[i]);
      continue;
    }
    float want;
    memcpy(&want, &e->scale_bits[i], sizeof want);
    bool ok = !minmax ? s > 0 && s <= want * (1 + 1e-5f)
              : e->is_input[i] ? bits(s) == e->scale_bits[i]
                               : fabs((double)s - want) <= 1e-5 * want;
    CHECK(ok);
    if (!ok) {
      mismatched++;
      fprintf(stderr, "  %s: '%s' scale %.9g (%08x), onnxruntime's abs-max / 127 is %.9g (%08x)\n",
              what, e->names[i], s, bits(s), want, e->scale_bits[i]);
    }
  }
  for (int i = 0; i < infer_calib_table_count(t); i++) {
    bool known = false;
    for (int k = 0; k < e->n && !known; k++)
      known = strcmp(e->names[k], infer_calib_table_name(t, i)) == 0;
    extra += !known;
  }
  printf("%s: %d scales, %d expected, %d not in the ONNX graph, %d mismatched\n", what,
         infer_calib_table_count(t), e->n, extra, mismatched);
}

static void test_model(const char *model, const char *dir) {
  static Expected e;
  static FileCal c;
  CHECK(read_expected(dir, &e));
  CHECK(load_batches(dir, &c) >= 2);
  InferNetwork *net = NULL;
  CHECK_OK(infer_onnx_parse_file(model, &net));
  if (!net || !c.n_batches) return;
  InferCalibrator cal = {&c, file_batch_size, file_get_batch, file_reset, NULL, NULL};
  InferCalibOptions o = cpu_options();
  const InferCalibAlgo algos[3] = {INFER_CALIB_MINMAX, INFER_CALIB_ENTROPY, INFER_CALIB_PERCENTILE};
  for (int a = 0; a < 3; a++) {
    InferCalibTable *t = NULL;
    c.next = 0;
    CHECK_OK(infer_calibrate(net, &cal, algos[a], &o, &t));
    if (t) compare(t, &e, algos[a] == INFER_CALIB_MINMAX, infer_calib_algo_name(algos[a]));
    infer_calib_table_release(t);
  }
  infer_network_release(net);
  free_batches(&c);
}

static void check_cache(const char *cache, const char *dir, const char *algo) {
  static Expected e;
  CHECK(read_expected(dir, &e));
  InferCalibTable *t = NULL;
  CHECK_OK(infer_calib_table_read_cache(cache, &t));
  if (!t) return;
  bool minmax = strcmp(algo, "minmax") == 0;
  CHECK(strcmp(infer_calib_table_calibrator(t), minmax ? "MinMaxCalibration"
                                                       : strcmp(algo, "entropy") == 0
                                                             ? "EntropyCalibration2"
                                                             : "PercentileCalibration") == 0);
  compare(t, &e, minmax, algo);
  infer_calib_table_release(t);
}

int main(int argc, char **argv) {
  if (argc == 5 && strcmp(argv[1], "--check-cache") == 0) {
    check_cache(argv[2], argv[3], argv[4]);
  } else if (argc == 3) {
    test_model(argv[1], argv[2]);
  } else {
    test_network_tensors();
    test_minmax();
    test_histogram_algos();
    test_errors();
  }
  TEST_MAIN_END("calibration driver");
}
