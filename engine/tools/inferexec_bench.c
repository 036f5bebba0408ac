/* Timed runs for inferexec. Each stream is a thread with its own context,
 * so several contexts of one engine run concurrently. */
#include "inferexec_bench.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct StreamRun {
  InferEngine *engine;
  const ToolTensor *inputs;
  int n_inputs;
  const BenchConfig *cfg;
  double *latency, *enqueue, *compute;
  int runs, cap;
  double first_start, last_end;
  size_t activation_bytes;
  InferStatus *st;
} StreamRun;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

void bench_stats(double *v, int n, BenchStats *s) {
  memset(s, 0, sizeof *s);
  if (n <= 0) return;
  qsort(v, (size_t)n, sizeof *v, compare_doubles);
  double sum = 0, sq = 0;
  for (int i = 0; i < n; i++) sum += v[i];
  s->mean = sum / n;
  for (int i = 0; i < n; i++) sq += (v[i] - s->mean) * (v[i] - s->mean);
  s->min = v[0];
  s->max = v[n - 1];
  s->median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  s->p90 = v[(int)ceil(0.90 * n) - 1];
  s->p95 = v[(int)ceil(0.95 * n) - 1];
  s->p99 = v[(int)ceil(0.99 * n) - 1];
  s->cv = s->mean > 0 ? sqrt(sq / n) / s->mean : 0;
}

/* Inputs are copied once into the engine's memory (device memory on GPUs);
 * device[] receives the allocations to free. */
static InferStatus *bind_inputs(InferContext *ctx, InferEngine *engine, const ToolTensor *in, int n,
                                void **device) {
  for (int i = 0; i < infer_engine_num_io(engine) && i < 64; i++) {
    if (!infer_engine_io_is_input(engine, i)) continue;
    const char *name = infer_engine_io_name(engine, i);
    const ToolTensor *t = NULL;
    for (int j = 0; j < n; j++)
      if (strcmp(in[j].name, name) == 0) t = &in[j];
    if (!t) return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "no data for input '%s'", name);
    INFER_TRY(infer_context_set_input_shape(ctx, name, &t->view.shape));
    int64_t numel = infer_shape_numel(&t->view.shape);
    size_t bytes = (size_t)(numel > 0 ? numel : 0) * infer_dtype_size(t->view.dtype);
    if (infer_engine_io_is_host(engine, i)) { /* shape tensors: host memory, kept for the run */
      INFER_TRY(infer_context_set_tensor_address(ctx, name, t->view.data));
      continue;
    }
    INFER_TRY(infer_engine_malloc(engine, bytes ? bytes : 1, &device[i]));
    INFER_TRY(infer_engine_copy_to_device(engine, device[i], t->view.data, bytes));
    INFER_TRY(infer_context_set_tensor_address(ctx, name, device[i]));
  }
  return NULL;
}

static InferStatus *grow(StreamRun *r) {
  if (r->runs < r->cap) return NULL;
  int cap = r->cap ? r->cap * 2 : 256;
  double *a = realloc(r->latency, sizeof(double) * (size_t)cap);
  if (a) r->latency = a;
  double *b = realloc(r->enqueue, sizeof(double) * (size_t)cap);
  if (b) r->enqueue = b;
  double *c = realloc(r->compute, sizeof(double) * (size_t)cap);
  if (c) r->compute = c;
  if (!a || !b || !c) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "bench: out of memory");
  r->cap = cap;
  return NULL;
}

static void *stream_main(void *arg) {
  StreamRun *r = arg;
  InferContext *ctx = NULL;
  InferStream *stream = NULL;
  void *device[64] = {0};
  r->st = infer_context_create(r->engine, &ctx);
  if (!r->st) r->st = infer_stream_create(r->engine, &stream);
  if (!r->st) r->st = bind_inputs(ctx, r->engine, r->inputs, r->n_inputs, device);
  for (int i = 0; !r->st && i < r->cfg->warmup; i++) {
    r->st = infer_context_enqueue(ctx, stream);
    if (!r->st) r->st = infer_stream_synchronize(stream);
  }
  double start = now_ms();
  r->first_start = start;
  while (!r->st && (r->runs < r->cfg->iterations ||
                    now_ms() - start < r->cfg->duration_s * 1000.0)) {
    if ((r->st = grow(r))) break;
    double t0 = now_ms();
    r->st = infer_context_enqueue(ctx, stream);
    double t1 = now_ms();
    if (!r->st) r->st = infer_stream_synchronize(stream);
    double t2 = now_ms();
    r->enqueue[r->runs] = t1 - t0;
    r->compute[r->runs] = t2 - t0;
    r->latency[r->runs] = t2 - t0;
    r->runs++;
    r->last_end = t2;
  }
  if (ctx) r->activation_bytes = infer_context_memory_bytes(ctx);
  for (int i = 0; i < 64; i++) infer_engine_mfree(r->engine, device[i]);
  infer_stream_release(stream);
  infer_context_release(ctx);
  return NULL;
}

InferStatus *bench_run(InferEngine *engine, const ToolTensor *inputs, int n_inputs,
                       const BenchConfig *cfg, BenchResult *out) {
  memset(out, 0, sizeof *out);
  int n = cfg->streams < 1 ? 1 : cfg->streams;
  StreamRun *runs = calloc((size_t)n, sizeof *runs);
  pthread_t *threads = calloc((size_t)n, sizeof *threads);
  if (!runs || !threads) {
    free(runs);
    free(threads);
    return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "bench: out of memory");
  }
  int started = 0;
  InferStatus *st = NULL;
  for (int i = 0; i < n; i++) {
    runs[i] = (StreamRun){engine, inputs, n_inputs, cfg, NULL, NULL, NULL, 0, 0, 0, 0, 0, NULL};
    if (pthread_create(&threads[i], NULL, stream_main, &runs[i]) != 0) {
      st = infer_status_new(INFER_ERR_INTERNAL, "bench: cannot start stream %d", i);
      break;
    }
    started++;
  }
  for (int i = 0; i < started; i++) pthread_join(threads[i], NULL);
  int total = 0;
  double first = 0, last = 0;
  for (int i = 0; i < started; i++) {
    if (!st && runs[i].st) st = runs[i].st;
    else infer_status_free(runs[i].st);
    total += runs[i].runs;
    if (i == 0 || runs[i].first_start < first) first = runs[i].first_start;
    if (runs[i].last_end > last) last = runs[i].last_end;
  }
  double *lat = calloc((size_t)total + 1, sizeof *lat), *enq = calloc((size_t)total + 1, sizeof *enq),
         *cmp = calloc((size_t)total + 1, sizeof *cmp), *zero = calloc((size_t)total + 1, sizeof *zero);
  if (!st && (!lat || !enq || !cmp || !zero))
    st = infer_status_new(INFER_ERR_OUT_OF_MEMORY, "bench: out of memory");
  if (!st) {
    int k = 0;
    for (int i = 0; i < started; i++)
      for (int j = 0; j < runs[i].runs; j++, k++) {
        lat[k] = runs[i].latency[j];
        enq[k] = runs[i].enqueue[j];
        cmp[k] = runs[i].compute[j];
      }
    out->runs = total;
    out->wall_ms = last - first;
    out->qps = out->wall_ms > 0 ? total * 1000.0 / out->wall_ms : 0;
    bench_stats(lat, total, &out->latency);
    bench_stats(enq, total, &out->enqueue);
    bench_stats(cmp, total, &out->compute);
    /* host memory backends move no data between host and device */
    bench_stats(zero, total, &out->h2d);
    bench_stats(zero, total, &out->d2h);
    out->activation_bytes = runs[0].activation_bytes;
  }
  for (int i = 0; i < n; i++) {
    free(runs[i].latency);
    free(runs[i].enqueue);
    free(runs[i].compute);
  }
  free(lat);
  free(enq);
  free(cmp);
  free(zero);
  free(runs);
  free(threads);
  return st;
}
