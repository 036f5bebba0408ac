/* infer_calibrate: run an FP32 engine that reports every float activation
 * over the calibrator's batches, gather statistics, compute the scales.
 *
 * Histogram calibrators run two passes when the calibrator can rewind
 * (abs-max, then histograms over the final range: the best resolution);
 * otherwise one pass whose histogram ranges grow as batches arrive. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calib_internal.h"

#define MAX_INPUTS 64

typedef struct Run {
  const InferCalibOptions *opts;
  InferCalibrator *cal;
  InferEngine *engine;
  InferContext *ctx;
  InferStream *stream;
  int n_inputs;
  const char *in_names[MAX_INPUTS];
  InferShape in_shapes[MAX_INPUTS];
  InferDType in_dtypes[MAX_INPUTS];
  size_t in_bytes[MAX_INPUTS];
  void *device_in[MAX_INPUTS];
  bool calibrate_input[MAX_INPUTS];
  void *scratch; /* host copy of a device output */
  size_t scratch_size;
} Run;

static void logf_(const InferCalibOptions *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void logf_(const InferCalibOptions *o, const char *fmt, ...) {
  if (!o || !o->log) return;
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  o->log(line, o->log_user);
}

static bool is_float(InferDType t) { return t == INFER_DTYPE_F32 || t == INFER_DTYPE_F16; }

/* The calibration shape of input `name`: given, else declared with a
 * dynamic first dim set to the batch size. */
static InferStatus *input_shape(const InferCalibOptions *o, const InferNetwork *net,
                                InferTensorId t, int batch, InferShape *out) {
  const char *name = infer_network_tensor_name(net, t);
  for (int i = 0; i < o->n_shapes; i++)
    if (o->shape_names && o->shapes && strcmp(o->shape_names[i], name) == 0) {
      *out = o->shapes[i];
      return NULL;
    }
  *out = infer_network_tensor_shape(net, t);
  for (int d = 0; d < out->rank; d++) {
    if (out->d[d] >= 0) {
      if (d == 0 && out->d[0] != batch)
        return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                                "calibration: input '%s' has a fixed batch of %lld, the calibrator "
                                "gives batches of %d", name, (long long)out->d[0], batch);
      continue;
    }
    if (d > 0)
      return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                              "calibration: input '%s' has dynamic dimension %d: give its "
                              "calibration shape", name, d);
    out->d[0] = batch;
  }
  return NULL;
}

static InferStatus *add_output(Run *r, InferCalibStats *stats, const char *name) {
  InferTensorView v;
  INFER_TRY(infer_context_get_output(r->ctx, name, &v));
  int64_t n = infer_shape_numel(&v.shape);
  if (n <= 0) return NULL;
  size_t bytes = (size_t)n * infer_dtype_size(v.dtype);
  const void *host = v.data;
  if (infer_engine_backend(r->engine) != INFER_BACKEND_CPU) {
    if (bytes > r->scratch_size) {
      void *p = realloc(r->scratch, bytes);
      if (!p) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "calibration: out of memory");
      r->scratch = p;
      r->scratch_size = bytes;
    }
    INFER_TRY(infer_engine_copy_to_host(r->engine, r->scratch, v.data, bytes));
    host = r->scratch;
  }
  return infer_calib_stats_add(stats, name, v.dtype, host, (size_t)n);
}

/* Runs every batch once into stats; *n_batches counts them. */
static InferStatus *run_pass(Run *r, InferCalibStats *stats, int *n_batches) {
  *n_batches = 0;
  const void *bindings[MAX_INPUTS];
  int limit = r->opts->max_batches;
  while (!limit || *n_batches < limit) {
    memset(bindings, 0, sizeof bindings);
    if (!r->cal->get_batch(r->cal->user, r->in_names, bindings, r->n_inputs)) break;
    for (int i = 0; i < r->n_inputs; i++) {
      if (!bindings[i])
        return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                                "calibration: batch %d: no data for input '%s'", *n_batches + 1,
                                r->in_names[i]);
      INFER_TRY(infer_engine_copy_to_device(r->engine, r->device_in[i], bindings[i],
                                            r->in_bytes[i]));
      if (r->calibrate_input[i])
        INFER_TRY(infer_calib_stats_add(stats, r->in_names[i], r->in_dtypes[i], bindings[i],
                                        r->in_bytes[i] / infer_dtype_size(r->in_dtypes[i])));
    }
    InferStatus *st = infer_context_enqueue(r->ctx, r->stream);
    if (!st) st = infer_stream_synchronize(r->stream);
    for (int i = 0; !st && i < infer_engine_num_io(r->engine); i++)
      if (!infer_engine_io_is_input(r->engine, i) && is_float(infer_engine_io_dtype(r->engine, i)))
        st = add_output(r, stats, infer_engine_io_name(r->engine, i));
    if (st) return infer_status_prefix(st, "calibration batch %d", *n_batches + 1);
    (*n_batches)++;
  }
  return NULL;
}

static InferStatus *setup(Run *r, const InferNetwork *copy, int batch) {
  InferBuildConfig *cfg;
  INFER_TRY(infer_build_config_create(&cfg));
  infer_build_config_set_backend(cfg, r->opts->backend);
  infer_build_config_set_precisions(cfg, INFER_PRECISION_FP32);
  InferStatus *st = NULL;
  r->n_inputs = infer_network_num_inputs(copy);
  if (r->n_inputs > MAX_INPUTS)
    st = infer_status_new(INFER_ERR_UNSUPPORTED, "calibration: more than %d inputs", MAX_INPUTS);
  for (int i = 0; !st && i < r->n_inputs; i++) {
    InferTensorId t = infer_network_input(copy, i);
    r->in_names[i] = infer_network_tensor_name(copy, t);
    r->in_dtypes[i] = infer_network_tensor_dtype(copy, t);
    st = input_shape(r->opts, copy, t, batch, &r->in_shapes[i]);
    if (!st) st = infer_build_config_set_input_shape(cfg, r->in_names[i], &r->in_shapes[i]);
    int64_t n = infer_shape_numel(&r->in_shapes[i]);
    r->in_bytes[i] = (size_t)(n > 0 ? n : 0) * infer_dtype_size(r->in_dtypes[i]);
  }
  if (!st) st = infer_engine_build(copy, cfg, &r->engine);
  infer_build_config_release(cfg);
  if (st) return infer_status_prefix(st, "calibration: building the FP32 engine");
  /* the copy goes away: keep the engine's own names */
  for (int i = 0; i < r->n_inputs; i++) {
    int io = infer_engine_io_index(r->engine, r->in_names[i]);
    if (io < 0 || !infer_engine_io_is_input(r->engine, io))
      return infer_status_new(INFER_ERR_INTERNAL, "calibration: the engine lost input '%s'",
                              r->in_names[i]);
    r->in_names[i] = infer_engine_io_name(r->engine, io);
  }
  INFER_TRY(infer_context_create(r->engine, &r->ctx));
  INFER_TRY(infer_stream_create(r->engine, &r->stream));
  for (int i = 0; i < r->n_inputs; i++) {
    INFER_TRY(infer_engine_malloc(r->engine, r->in_bytes[i] ? r->in_bytes[i] : 1,
                                  &r->device_in[i]));
    INFER_TRY(infer_context_set_input_shape(r->ctx, r->in_names[i], &r->in_shapes[i]));
    INFER_TRY(infer_context_set_tensor_address(r->ctx, r->in_names[i], r->device_in[i]));
  }
  return NULL;
}

static void teardown(Run *r) {
  for (int i = 0; i < r->n_inputs; i++)
    if (r->device_in[i]) infer_engine_mfree(r->engine, r->device_in[i]);
  infer_stream_release(r->stream);
  infer_context_release(r->ctx);
  infer_engine_release(r->engine);
  free(r->scratch);
}

/* A cache from the calibrator, when it is for this algorithm. */
static InferStatus *try_cache(InferCalibrator *cal, InferCalibAlgo algo,
                              const InferCalibOptions *o, const char *const *names, int n,
                              InferCalibTable **out) {
  *out = NULL;
  if (!cal->read_cache) return NULL;
  size_t len = 0;
  const void *data = cal->read_cache(cal->user, &len);
  if (!data || !len) return NULL;
  InferCalibTable *t;
  INFER_TRY(infer_calib_table_parse(data, len, "calibration cache", &t));
  const char *want = infer_calib_algo_cache_name(algo);
  if (strcmp(infer_calib_table_calibrator(t), want) != 0) {
    logf_(o, "calibration: the cache is for %s, not %s: calibrating again",
          infer_calib_table_calibrator(t), want);
    infer_calib_table_release(t);
    return NULL;
  }
  InferCalibCheck check;
  InferStatus *st = infer_calib_table_check(t, names, n, &check);
  if (st) logf_(o, "calibration: %s", infer_status_message(st));
  else if (check.n_unknown)
    logf_(o, "calibration: the cache names %d tensors the network does not have", check.n_unknown);
  infer_status_free(st);
  infer_calib_check_clear(&check);
  logf_(o, "calibration: using the cache (%d scales)", infer_calib_table_count(t));
  *out = t;
  return NULL;
}

static InferStatus *compute_table(InferCalibStats *stats, InferCalibAlgo algo,
                                  const InferCalibOptions *o, const char *const *names, int n,
                                  InferCalibTable *table) {
  for (int i = 0; i < n; i++) {
    int k = infer_calib_stats_find(stats, names[i]);
    if (k < 0) {
      logf_(o, "calibration: tensor '%s' was not computed; it gets no scale", names[i]);
      continue;
    }
    InferCalibHistogram h;
    float amax;
    INFER_TRY(infer_calib_stats_get(stats, k, &h));
    if (h.n_nonfinite)
      logf_(o, "calibration: tensor '%s' took %llu non-finite values (left out)", names[i],
            (unsigned long long)h.n_nonfinite);
    InferStatus *st = infer_calib_compute_amax(&h, algo, o->percentile, &amax);
    if (st) return infer_status_prefix(st, "tensor '%s'", names[i]);
    INFER_TRY(infer_calib_table_set(table, names[i], infer_calib_scale_from_amax(amax)));
  }
  return NULL;
}

static InferStatus *calibrate(Run *r, InferCalibAlgo algo, const char *const *names, int n,
                              InferCalibTable *table) {
  bool two_pass = algo != INFER_CALIB_MINMAX && r->cal->reset;
  InferCalibStats *stats = NULL, *ranges = NULL;
  int batches = 0, batches2 = 0;
  InferStatus *st = NULL;
  if (two_pass) {
    st = infer_calib_stats_create(false, &ranges);
    if (!st) st = run_pass(r, ranges, &batches);
    if (!st && batches && !r->cal->reset(r->cal->user))
      st = infer_status_new(INFER_ERR_INVALID_ARGUMENT, "calibration: the calibrator cannot rewind");
  }
  if (!st) st = infer_calib_stats_create(algo != INFER_CALIB_MINMAX, &stats);
  for (int i = 0; two_pass && !st && i < infer_calib_stats_count(ranges); i++) {
    InferCalibHistogram h;
    st = infer_calib_stats_get(ranges, i, &h);
    if (!st && h.absmax > 0) st = infer_calib_stats_set_range(stats, h.name, h.absmax);
  }
  if (!st && (!two_pass || batches)) st = run_pass(r, stats, two_pass ? &batches2 : &batches);
  if (!st && two_pass && batches2 != batches)
    logf_(r->opts, "calibration: the second pass gave %d batches, the first %d", batches2, batches);
  if (!st && batches == 0)
    st = infer_status_new(INFER_ERR_INVALID_ARGUMENT, "calibration: the calibrator gave no batch");
  if (!st) {
    logf_(r->opts, "calibration: %d batches, %s%s", batches, infer_calib_algo_name(algo),
          two_pass ? " (two passes)" : "");
    st = compute_table(stats, algo, r->opts, names, n, table);
  }
  infer_calib_stats_release(ranges);
  infer_calib_stats_release(stats);
  return st;
}

InferStatus *infer_calibrate(const InferNetwork *net, InferCalibrator *cal, InferCalibAlgo algo,
                             const InferCalibOptions *opts, InferCalibTable **out) {
  if (!out) return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "calibration: no output");
  *out = NULL;
  if (!net || !cal || !cal->get_batch || !cal->get_batch_size)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "calibration: needs a network and a calibrator with get_batch_size "
                            "and get_batch");
  const char *cache_name = infer_calib_algo_cache_name(algo);
  if (!cache_name)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "calibration: unknown algorithm %d",
                            (int)algo);
  InferCalibOptions defaults = {0};
  const InferCalibOptions *o = opts ? opts : &defaults;
  if (algo == INFER_CALIB_PERCENTILE && o->percentile > 100)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "calibration: percentile %g is over 100", o->percentile);
  const char **names = NULL;
  int n = 0;
  INFER_TRY(infer_calib_network_tensors(net, &names, &n));
  InferCalibTable *table = NULL;
  InferStatus *st = try_cache(cal, algo, o, names, n, &table);
  if (st || table) {
    free(names);
    *out = table;
    return st;
  }
  int batch = cal->get_batch_size(cal->user);
  if (batch < 1)
    st = infer_status_new(INFER_ERR_INVALID_ARGUMENT, "calibration: batch size %d", batch);
  InferNetwork *copy = NULL;
  if (!st) st = calib_network_copy(net, &copy);
  for (int i = 0; !st && i < n; i++) {
    InferTensorId t = infer_network_find_tensor(copy, names[i]);
    bool is_input = false;
    for (int k = 0; k < infer_network_num_inputs(copy); k++)
      is_input |= infer_network_input(copy, k) == t;
    if (!is_input) st = infer_network_mark_output(copy, t);
  }
  Run r = {.opts = o, .cal = cal};
  if (!st) st = setup(&r, copy, batch);
  infer_network_release(copy);
  for (int i = 0; !st && i < r.n_inputs; i++)
    for (int k = 0; k < n; k++)
      if (strcmp(names[k], r.in_names[i]) == 0) r.calibrate_input[i] = true;
  if (!st) st = infer_calib_table_create(cache_name, &table);
  if (!st) st = calibrate(&r, algo, names, n, table);
  teardown(&r);
  free(names);
  if (!st && cal->write_cache) {
    char *text;
    size_t len;
    st = infer_calib_table_serialize(table, &text, &len);
    if (!st) cal->write_cache(cal->user, text, len);
    free(text);
  }
  if (st) {
    infer_calib_table_release(table);
    return st;
  }
  *out = table;
  return NULL;
}
