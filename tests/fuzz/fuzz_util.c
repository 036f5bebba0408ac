/* Helpers of the fuzz targets (see fuzz_target.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fuzz_target.h"

/* Engines whose inputs or planned activations exceed these are built but
 * not run: fuzzing looks for crashes, not for big allocations. */
#define RUN_MAX_INPUT_ELEMS ((int64_t)1 << 16)
#define RUN_MAX_ACTIVATION_BYTES ((size_t)64 << 20)
/* Networks whose inputs (dynamic dims 1) are bigger than this are not built. */
#define BUILD_MAX_INPUT_ELEMS ((int64_t)1 << 16)

#if defined(__SANITIZE_ADDRESS__)
#define FUZZ_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FUZZ_ASAN 1
#endif
#endif

/* Memory: a model or plan may legitimately ask for an output of gigabytes
 * once its shapes are known at run time (a Pad whose pads are computed, a
 * Resize by a large factor). Fuzzing looks for crashes, not for the time
 * it takes to fill such outputs (seconds with coverage instrumentation),
 * so allocations above 64 MiB (the planned-activation bound of
 * fuzz_run_engine) fail here, and the engine must turn that into an
 * out-of-memory status: under ASan through its allocator options (a NULL
 * from malloc, before libFuzzer's -malloc_limit_mb sees the request),
 * otherwise through an address-space limit. */
#define FUZZ_MAX_ALLOCATION_MB 64
#ifdef FUZZ_ASAN
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
  return "allocator_may_return_null=1:max_allocation_size_mb=64";
}
#endif

/* The CPU reference's per-layer work limit (conv_geometry.h), lowered so
 * that no input runs for seconds (libFuzzer's -timeout): 2^26 multiply-adds
 * take well under a second in the sanitize build. An INFER_CPU_MAX_LAYER_WORK
 * set in the environment wins. */
__attribute__((constructor)) static void fuzz_limits(void) {
  setenv("INFER_CPU_MAX_LAYER_WORK", "67108864", 0);
#ifndef FUZZ_ASAN
  struct rlimit rl;
  rlim_t cap = (rlim_t)(FUZZ_MAX_ALLOCATION_MB + 2048) << 20; /* the program itself: < 2 GiB */
  if (getrlimit(RLIMIT_AS, &rl) == 0 && (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > cap)) {
    rl.rlim_cur = cap;
    setrlimit(RLIMIT_AS, &rl);
  }
#endif
}

static char temp_dir[256];
static char temp_path[1024];
static char written[8][64]; /* names written, removed at exit */
static int n_written;

static void remove_temp(void) {
  char p[1024];
  for (int i = 0; i < n_written; i++) {
    snprintf(p, sizeof p, "%s/%s", temp_dir, written[i]);
    unlink(p);
  }
  rmdir(temp_dir);
}

static void remember(const char *name) {
  for (int i = 0; i < n_written; i++)
    if (strcmp(written[i], name) == 0) return;
  if (n_written < 8) snprintf(written[n_written++], sizeof written[0], "%s", name);
}

const char *fuzz_write_temp(const char *name, const uint8_t *data, size_t size) {
  if (!temp_dir[0]) {
    /* tmpfs when there is one: millions of rewrites should not hit a disk */
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(temp_dir, sizeof temp_dir, "%s/infer-fuzz-XXXXXX", base);
    if (!mkdtemp(temp_dir)) {
      temp_dir[0] = 0;
      return NULL;
    }
    atexit(remove_temp);
  }
  remember(name);
  snprintf(temp_path, sizeof temp_path, "%s/%s", temp_dir, name);
  FILE *f = fopen(temp_path, "wb");
  if (!f) return NULL;
  size_t n = size ? fwrite(data, 1, size, f) : 0;
  if (fclose(f) != 0 || n != size) return NULL;
  return temp_path;
}

void fuzz_check_status(const InferStatus *st) {
  if (st && !infer_status_message(st)[0]) {
    fprintf(stderr, "an error status (%s) without a message\n",
            infer_status_code_name(infer_status_code(st)));
    abort();
  }
}

/* Ends a step: records the status (must have a message) and frees it. */
static bool failed(InferStatus *st) {
  if (!st) return false;
  fuzz_check_status(st);
  infer_status_free(st);
  return true;
}

void fuzz_run_engine(InferEngine *engine) {
  size_t peak = 0, bound = 0;
  if (failed(infer_engine_activation_bytes(engine, &peak, &bound))) return;
  if (peak > RUN_MAX_ACTIVATION_BYTES) return;
  int n_io = infer_engine_num_io(engine);
  InferShape shapes[64];
  if (n_io > 64) return;
  for (int i = 0; i < n_io && infer_engine_io_is_input(engine, i); i++) {
    shapes[i] = infer_engine_io_shape(engine, i);
    int64_t n = 1;
    for (int d = 0; d < shapes[i].rank; d++) {
      if (shapes[i].d[d] < 0) shapes[i].d[d] = 1;
      n *= shapes[i].d[d];
      if (n > RUN_MAX_INPUT_ELEMS) return;
    }
  }
  InferContext *ctx = NULL;
  InferStream *stream = NULL;
  if (failed(infer_context_create(engine, &ctx))) return;
  void *inputs[64] = {0};
  bool ok = !failed(infer_stream_create(engine, &stream));
  for (int i = 0; ok && i < n_io && infer_engine_io_is_input(engine, i); i++) {
    const char *name = infer_engine_io_name(engine, i);
    size_t bytes = (size_t)infer_shape_numel(&shapes[i]) * infer_dtype_size(infer_engine_io_dtype(engine, i));
    inputs[i] = calloc(1, bytes ? bytes : 1);
    ok = inputs[i] && !failed(infer_context_set_input_shape(ctx, name, &shapes[i])) &&
         !failed(infer_context_set_tensor_address(ctx, name, inputs[i]));
  }
  if (ok) ok = !failed(infer_context_enqueue(ctx, stream)) && !failed(infer_stream_synchronize(stream));
  for (int i = 0; ok && i < n_io; i++) {
    if (infer_engine_io_is_input(engine, i)) continue;
    InferTensorView v;
    if (failed(infer_context_get_output(ctx, infer_engine_io_name(engine, i), &v))) continue;
    /* read the output (every byte of the first 64 KiB, then one per 4 KiB
     * page, and the last byte): an output shorter than its shape shows up
     * here; outputs of shapes known only at run time may be large */
    int64_t numel = infer_shape_numel(&v.shape);
    size_t bytes = numel > 0 ? (size_t)numel * infer_dtype_size(v.dtype) : 0;
    volatile uint8_t sum = 0;
    const uint8_t *d = v.data;
    for (size_t b = 0; d && b < bytes; b += b < 65536 ? 1 : 4096) sum ^= d[b];
    if (d && bytes) sum ^= d[bytes - 1];
    (void)sum;
  }
  for (int i = 0; i < n_io && i < 64; i++) free(inputs[i]);
  infer_stream_release(stream);
  infer_context_release(ctx);
}

void fuzz_build_and_run(const InferNetwork *net) {
  InferBuildConfig *cfg = NULL;
  if (failed(infer_build_config_create(&cfg))) return;
  infer_build_config_set_backend(cfg, INFER_BACKEND_CPU);
  infer_build_config_set_workspace_limit(cfg, (size_t)16 << 20);
  bool ok = true;
  for (int i = 0; ok && i < infer_network_num_inputs(net); i++) {
    InferTensorId t = infer_network_input(net, i);
    InferShape s = infer_network_tensor_shape(net, t);
    int64_t n = 1;
    for (int d = 0; d < s.rank; d++) {
      if (s.d[d] < 0) s.d[d] = 1;
      if (s.d[d] > BUILD_MAX_INPUT_ELEMS) ok = false;
      else n *= s.d[d];
      if (n > BUILD_MAX_INPUT_ELEMS) ok = false;
    }
    if (ok) ok = !failed(infer_build_config_set_input_shape(cfg, infer_network_tensor_name(net, t), &s));
  }
  InferEngine *engine = NULL;
  if (ok && !failed(infer_engine_build(net, cfg, &engine))) {
    fuzz_run_engine(engine);
    infer_engine_release(engine);
  }
  infer_build_config_release(cfg);
}
