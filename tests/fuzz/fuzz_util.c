/* Helpers of the fuzz targets (see fuzz_target.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_target.h"

/* Engines whose inputs or planned activations exceed these are built but
 * not run: fuzzing looks for crashes, not for big allocations. */
#define RUN_MAX_INPUT_ELEMS ((int64_t)1 << 16)
#define RUN_MAX_ACTIVATION_BYTES ((size_t)64 << 20)

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
    /* touch every byte: an output shorter than its shape shows up here */
    size_t bytes = (size_t)infer_shape_numel(&v.shape) * infer_dtype_size(v.dtype);
    volatile uint8_t sum = 0;
    for (size_t b = 0; v.data && b < bytes; b++) sum ^= ((const uint8_t *)v.data)[b];
    (void)sum;
  }
  for (int i = 0; i < n_io && i < 64; i++) free(inputs[i]);
  infer_stream_release(stream);
  infer_context_release(ctx);
}
