/* Whole engines on the CUDA backend against the CPU reference, for every
 * generated model (tests/models): FP32 (TF32 off), FP16 (precision pass,
 * tuned tactics), CUDA-graph replay, and the timing cache.
 *
 *   test_cuda_engine GENERATED_MODELS_DIR
 *
 * Errors are normalized MSE sum((a - b)^2) / sum(b^2) against the CPU
 * engine's FP32 outputs: FP32 <= 1e-5, FP16 <= 1e-3, never NaN. Graph
 * replay must reproduce the eager run of the same engine (<= 1e-10), with
 * the input contents changing between runs at the same addresses. Exits 77
 * without a CUDA device. */
#include <cuda_runtime_api.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "infer/infer.h"
#include "test_util.h"

#define MAX_IO 16

typedef struct Tensors {
  int n;
  char *name[MAX_IO];
  InferTensorView v[MAX_IO];
} Tensors;

static void tensors_free(Tensors *t) {
  for (int i = 0; i < t->n; i++) {
    free(t->name[i]);
    free(t->v[i].data);
  }
  memset(t, 0, sizeof *t);
}

static size_t view_bytes(const InferTensorView *v) {
  int64_t n = infer_shape_numel(&v->shape);
  return (size_t)(n > 0 ? n : 0) * infer_dtype_size(v->dtype);
}

/* The model's inputs from test_data_set_0/input_K.pb, named as the engine's. */
static InferStatus *read_inputs(const char *dir, const InferEngine *e, Tensors *in) {
  memset(in, 0, sizeof *in);
  for (int k = 0; k < infer_engine_num_io(e) && in->n < MAX_IO; k++) {
    if (!infer_engine_io_is_input(e, k)) continue;
    char path[4096];
    if (snprintf(path, sizeof path, "%s/test_data_set_0/input_%d.pb", dir, in->n) >=
        (int)sizeof path)
      return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "path too long");
    char *name = NULL;
    INFER_TRY(infer_onnx_read_tensor_file(path, &in->v[in->n], &name));
    free(name);
    in->name[in->n++] = strdup(infer_engine_io_name(e, k));
  }
  return NULL;
}

static InferStatus *build(const InferNetwork *net, InferBackendKind backend, unsigned precisions,
                          const char *cache, InferLogFn log, void *user, InferEngine **out) {
  InferBuildConfig *cfg;
  INFER_TRY(infer_build_config_create(&cfg));
  infer_build_config_set_backend(cfg, backend);
  infer_build_config_set_precisions(cfg, precisions);
  infer_build_config_set_tf32(cfg, false);
  InferStatus *st = cache ? infer_build_config_set_timing_cache(cfg, cache) : NULL;
  if (log) infer_build_config_set_log(cfg, log, user);
  if (!st) st = infer_engine_build(net, cfg, out);
  infer_build_config_release(cfg);
  return st;
}

/* Runs `ctx` once on `in` (host data; copied to `dev` buffers for device
 * engines) and copies every output to host arrays in *out. */
static InferStatus *run(InferEngine *e, InferContext *ctx, InferStream *stream, const Tensors *in,
                        void **dev, Tensors *out) {
  bool host = infer_engine_backend(e) == INFER_BACKEND_CPU;
  for (int i = 0; i < in->n; i++) {
    INFER_TRY(infer_context_set_input_shape(ctx, in->name[i], &in->v[i].shape));
    size_t bytes = view_bytes(&in->v[i]);
    if (host) {
      INFER_TRY(infer_context_set_tensor_address(ctx, in->name[i], in->v[i].data));
    } else {
      if (!dev[i]) INFER_TRY(infer_engine_malloc(e, bytes ? bytes : 1, &dev[i]));
      INFER_TRY(infer_engine_copy_to_device(e, dev[i], in->v[i].data, bytes));
      INFER_TRY(infer_context_set_tensor_address(ctx, in->name[i], dev[i]));
    }
  }
  INFER_TRY(infer_context_enqueue(ctx, stream));
  INFER_TRY(infer_stream_synchronize(stream));
  memset(out, 0, sizeof *out);
  for (int k = 0; k < infer_engine_num_io(e) && out->n < MAX_IO; k++) {
    if (infer_engine_io_is_input(e, k)) continue;
    InferTensorView v;
    INFER_TRY(infer_context_get_output(ctx, infer_engine_io_name(e, k), &v));
    size_t bytes = view_bytes(&v);
    out->name[out->n] = strdup(infer_engine_io_name(e, k));
    out->v[out->n] = v;
    out->v[out->n].data = malloc(bytes ? bytes : 1);
    if (host) memcpy(out->v[out->n].data, v.data, bytes);
    else INFER_TRY(infer_engine_copy_to_host(e, out->v[out->n].data, v.data, bytes));
    out->n++;
  }
  return NULL;
}

/* Normalized MSE of float outputs (other dtypes must be equal: 0 or 1). */
static double nmse(const InferTensorView *a, const InferTensorView *ref) {
  int64_t n = infer_shape_numel(&ref->shape);
  if (a->dtype != ref->dtype || n != infer_shape_numel(&a->shape)) return 1e30;
  if (ref->dtype != INFER_DTYPE_F32)
    return memcmp(a->data, ref->data, view_bytes(ref)) == 0 ? 0.0 : 1.0;
  const float *x = a->data, *r = ref->data;
  double num = 0, den = 0;
  for (int64_t i = 0; i < n; i++) {
    if (x[i] != x[i]) return 1e30; /* NaN */
    num += ((double)x[i] - r[i]) * ((double)x[i] - r[i]);
    den += (double)r[i] * r[i];
  }
  return den > 0 ? num / den : num;
}

static double worst(const Tensors *a, const Tensors *ref) {
  double w = 0;
  for (int i = 0; i < ref->n && i < a->n; i++) {
    double e = nmse(&a->v[i], &ref->v[i]);
    if (e > w) w = e;
  }
  return a->n == ref->n ? w : 1e30;
}

static InferStatus *run_once(InferEngine *e, const Tensors *in, Tensors *out) {
  InferContext *ctx = NULL;
  InferStream *stream = NULL;
  void *dev[MAX_IO] = {0};
  InferStatus *st = infer_context_create(e, &ctx);
  if (!st) st = infer_stream_create(e, &stream);
  if (!st) st = run(e, ctx, stream, in, dev, out);
  for (int i = 0; i < MAX_IO; i++) infer_engine_mfree(e, dev[i]);
  infer_stream_release(stream);
  infer_context_release(ctx);
  return st;
}

static int count_fp16_layers(const InferEngine *e) {
  int n = 0;
  for (int l = 0; l < infer_engine_num_layers(e); l++) {
    InferLayerInfo li;
    if (!infer_engine_layer_info(e, l, &li) && strcmp(li.precision, "fp16") == 0) n++;
  }
  return n;
}

/* Scales every float input by s (new contents, same addresses). */
static void scale_inputs(Tensors *in, float s) {
  for (int i = 0; i < in->n; i++) {
    if (in->v[i].dtype != INFER_DTYPE_F32) continue;
    float *x = in->v[i].data;
    for (int64_t k = 0; k < infer_shape_numel(&in->v[i].shape); k++) x[k] *= s;
  }
}

/* Eager vs replayed runs of one CUDA engine: run A, B, A, B, ... with graphs. */
static void check_graphs(const char *model, InferEngine *e, Tensors *in) {
  Tensors eager[2], got;
  InferContext *ctx = NULL;
  InferStream *stream = NULL;
  void *dev[MAX_IO] = {0};
  CHECK_OK(infer_context_create(e, &ctx));
  CHECK_OK(infer_stream_create(e, &stream));
  if (!ctx || !stream) goto done;
  infer_context_set_cuda_graphs(ctx, false);
  CHECK_OK(run(e, ctx, stream, in, dev, &eager[0]));
  scale_inputs(in, -0.5f);
  CHECK_OK(run(e, ctx, stream, in, dev, &eager[1]));
  scale_inputs(in, -2.0f);
  infer_context_set_cuda_graphs(ctx, true);
  double w = 0;
  for (int r = 0; r < 6; r++) {
    CHECK_OK(run(e, ctx, stream, in, dev, &got));
    double err = worst(&got, &eager[r % 2]);
    if (err > w) w = err;
    tensors_free(&got);
    scale_inputs(in, r % 2 == 0 ? -0.5f : -2.0f);
  }
  printf("  %-22s graph replay vs eager: nmse %.2e\n", model, w);
  CHECK(w <= 1e-10);
  tensors_free(&eager[0]);
  tensors_free(&eager[1]);
done:
  for (int i = 0; i < MAX_IO; i++) infer_engine_mfree(e, dev[i]);
  infer_stream_release(stream);
  infer_context_release(ctx);
}

typedef struct LogCapture {
  int timed, cached;
} LogCapture;

static void capture_log(const char *line, void *user) {
  LogCapture *c = user;
  int timed, cached;
  if (sscanf(line, "tactics: %d layers timed, %d from the timing cache", &timed, &cached) == 2) {
    c->timed = timed;
    c->cached = cached;
  }
}

static void check_model(const char *dir, const char *model) {
  char path[4096], case_dir[4096];
  if (snprintf(path, sizeof path, "%s/%s/model.onnx", dir, model) >= (int)sizeof path ||
      snprintf(case_dir, sizeof case_dir, "%s/%s", dir, model) >= (int)sizeof case_dir)
    return;
  InferNetwork *net = NULL;
  InferEngine *cpu = NULL, *f32 = NULL, *f16 = NULL, *again = NULL;
  Tensors in = {0}, ref = {0}, out32 = {0}, out16 = {0};
  CHECK_OK(infer_onnx_parse_file(path, &net));
  if (!net) return;
  CHECK_OK(build(net, INFER_BACKEND_CPU, INFER_PRECISION_FP32, NULL, NULL, NULL, &cpu));
  if (cpu) CHECK_OK(read_inputs(case_dir, cpu, &in));
  if (cpu) CHECK_OK(run_once(cpu, &in, &ref));
  CHECK_OK(build(net, INFER_BACKEND_CUDA, INFER_PRECISION_FP32, NULL, NULL, NULL, &f32));
  if (f32) CHECK_OK(run_once(f32, &in, &out32));
  char cache[] = "/tmp/infer_timing_XXXXXX";
  int fd = mkstemp(cache);
  if (fd >= 0) close(fd);
  remove(cache);
  LogCapture first = {-1, -1}, second = {-1, -1};
  CHECK_OK(build(net, INFER_BACKEND_CUDA, INFER_PRECISION_FP32 | INFER_PRECISION_FP16, cache,
                 capture_log, &first, &f16));
  if (f16) CHECK_OK(run_once(f16, &in, &out16));
  /* the same build again: every tactic from the cache, same choices */
  CHECK_OK(build(net, INFER_BACKEND_CUDA, INFER_PRECISION_FP32 | INFER_PRECISION_FP16, cache,
                 capture_log, &second, &again));
  remove(cache);
  double e32 = worst(&out32, &ref), e16 = worst(&out16, &ref);
  int n16 = f16 ? count_fp16_layers(f16) : 0;
  printf("  %-22s fp32 nmse %.2e   fp16 nmse %.2e (%d of %d layers fp16)   tactics timed %d, "
         "then %d cached\n",
         model, e32, e16, n16, f16 ? infer_engine_num_layers(f16) : 0, first.timed, second.cached);
  CHECK(e32 <= 1e-5);
  CHECK(e16 <= 1e-3);
  if (first.timed > 0) CHECK(second.timed == 0 && second.cached == first.timed);
  if (f16 && again) {
    for (int l = 0; l < infer_engine_num_layers(f16) && l < infer_engine_num_layers(again); l++) {
      InferLayerInfo a, b;
      if (!infer_engine_layer_info(f16, l, &a) && !infer_engine_layer_info(again, l, &b))
        CHECK(strcmp(a.kernel, b.kernel) == 0);
    }
  }
  if (f16) check_graphs(model, f16, &in);
  tensors_free(&in);
  tensors_free(&ref);
  tensors_free(&out32);
  tensors_free(&out16);
  infer_engine_release(cpu);
  infer_engine_release(f32);
  infer_engine_release(f16);
  infer_engine_release(again);
  infer_network_release(net);
}

static bool have_gpu(void) {
  int devices = 0;
  return cudaGetDeviceCount(&devices) == cudaSuccess && devices > 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: test_cuda_engine GENERATED_MODELS_DIR\n");
    return 2;
  }
  if (!have_gpu()) {
    printf("skipped: no CUDA device\n");
    return 77;
  }
  DIR *d = opendir(argv[1]);
  if (!d) {
    fprintf(stderr, "cannot open %s\n", argv[1]);
    return 1;
  }
  struct dirent *ent;
  char names[64][256];
  int n = 0;
  while ((ent = readdir(d)) && n < 64) {
    if (ent->d_name[0] == '.') continue;
    snprintf(names[n++], sizeof names[0], "%s", ent->d_name);
  }
  closedir(d);
  for (int i = 0; i < n; i++) check_model(argv[1], names[i]);
  TEST_MAIN_END("cuda_engine");
}
