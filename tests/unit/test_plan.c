/* Engine plan files: round trips that run bit-identically, and every kind
 * of damaged or foreign plan giving one clear error (never a crash, never
 * a wrong engine). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "infer/infer.h"
#include "network_internal.h"
#include "plan_format.h"
#include "batch_flatten.h"
#include "cpu_engine.h"
#include "test_util.h"

#define SOURCE_HASH 0x0123456789abcdefull

static uint32_t rng_state = 12345u;

static float rnd(void) {
  rng_state = rng_state * 1664525u + 1013904223u;
  return (float)((rng_state >> 8) & 0xffff) / 32768.0f - 1.0f;
}

static InferTensorId add_random(InferNetwork *net, const char *name, int rank, const int64_t *dims) {
  InferShape s = infer_shape_make(rank, dims);
  int64_t n = infer_shape_numel(&s);
  float *v = malloc((size_t)n * sizeof *v);
  for (int64_t i = 0; i < n; i++) v[i] = rnd();
  InferTensorId id = INFER_NO_TENSOR;
  CHECK_OK(infer_network_add_constant(net, name, INFER_DTYPE_F32, &s, v, &id));
  free(v);
  return id;
}

/* x [N,3,8,8] -> conv 3x3 (4 ch) -> relu -> maxpool 2 -> Shape -> Gather(0)
 * -> Unsqueeze -> Concat([N,-1]) -> Reshape [N,64] -> fully connected (10)
 * -> softmax. Outputs: "prob" and "logits". */
static InferNetwork *make_net(void) {
  InferNetwork *net;
  CHECK_OK(infer_network_create(&net));
  InferShape xs = {4, {-1, 3, 8, 8}};
  InferTensorId x, conv, relu, pool, flat, fc, y;
  CHECK_OK(infer_network_add_input(net, "x", INFER_DTYPE_F32, &xs, &x));
  CHECK_OK(infer_network_set_dim_name(net, x, 0, "N"));
  const int64_t wd[4] = {4, 3, 3, 3}, bd[1] = {4}, fwd[2] = {10, 64}, fbd[1] = {10};
  InferTensorId w = add_random(net, "conv.w", 4, wd), b = add_random(net, "conv.b", 1, bd);
  InferConvParams cp;
  memset(&cp, 0, sizeof cp);
  cp.spatial = 2;
  cp.group = 1;
  for (int i = 0; i < 2; i++) {
    cp.strides[i] = cp.dilations[i] = 1;
    cp.pads[i] = cp.pads[2 + i] = 1;
  }
  CHECK_OK(infer_network_add_convolution(net, "conv", x, w, b, &cp, &conv));
  CHECK_OK(infer_network_add_activation(net, "relu", conv, INFER_UNARY_RELU, 0, 0, &relu));
  InferPoolParams pp;
  memset(&pp, 0, sizeof pp);
  pp.kind = INFER_POOL_MAX;
  pp.spatial = 2;
  for (int i = 0; i < 2; i++) pp.kernel[i] = pp.strides[i] = 2, pp.dilations[i] = 1;
  CHECK_OK(infer_network_add_pooling(net, "pool", relu, &pp, &pool));

  flat = add_batch_flatten(net, pool, "flatten");

  InferOpParams p;
  InferTensorId fw = add_random(net, "fc.w", 2, fwd), fb = add_random(net, "fc.b", 1, fbd);
  const char *logits_name[1] = {"logits"}, *prob_name[1] = {"prob"};
  memset(&p, 0, sizeof p);
  p.gemm.alpha = p.gemm.beta = 1.0f;
  p.gemm.trans_b = true;
  InferTensorId fin[3] = {flat, fw, fb};
  CHECK_OK(infer_network_add_layer(net, "fc", INFER_OP_GEMM, &p, 3, fin, 1, logits_name, &fc));
  memset(&p, 0, sizeof p);
  p.softmax.axis = -1;
  CHECK_OK(infer_network_add_layer(net, "softmax", INFER_OP_SOFTMAX, &p, 1, &fc, 1, prob_name, &y));
  CHECK_OK(infer_network_mark_output(net, y));
  CHECK_OK(infer_network_mark_output(net, fc));
  net->source_hash = SOURCE_HASH; /* as if parsed from a model file */
  return net;
}

static InferEngine *make_engine(void) {
  InferNetwork *net = make_net();
  InferEngine *engine = NULL;
  CHECK_OK(test_build_cpu(net, &engine));
  infer_network_release(net);
  return engine;
}

/* Runs with a batch of `batch` and returns prob and logits concatenated. */
static float *run(InferEngine *engine, int batch, size_t *n_out) {
  size_t nx = (size_t)batch * 3 * 8 * 8;
  float *x = malloc(nx * sizeof *x);
  uint32_t saved = rng_state;
  rng_state = 777u + (uint32_t)batch;
  for (size_t i = 0; i < nx; i++) x[i] = rnd();
  rng_state = saved;
  InferContext *ctx = NULL;
  float *out = NULL;
  *n_out = 0;
  CHECK_OK(infer_context_create(engine, &ctx));
  if (!ctx) {
    free(x);
    return NULL;
  }
  InferShape xs = {4, {batch, 3, 8, 8}};
  CHECK_OK(infer_context_set_input_shape(ctx, "x", &xs));
  CHECK_OK(infer_context_set_tensor_address(ctx, "x", x));
  CHECK_OK(infer_context_enqueue(ctx, NULL));
  InferTensorView prob, logits;
  memset(&prob, 0, sizeof prob);
  memset(&logits, 0, sizeof logits);
  CHECK_OK(infer_context_get_output(ctx, "prob", &prob));
  CHECK_OK(infer_context_get_output(ctx, "logits", &logits));
  CHECK(prob.shape.rank == 2 && prob.shape.d[0] == batch && prob.shape.d[1] == 10);
  CHECK(logits.shape.rank == 2 && logits.shape.d[0] == batch && logits.shape.d[1] == 10);
  if (prob.data && logits.data) {
    size_t n = (size_t)batch * 10;
    out = malloc(2 * n * sizeof *out);
    memcpy(out, prob.data, n * sizeof *out);
    memcpy(out + n, logits.data, n * sizeof *out);
    *n_out = 2 * n;
  }
  infer_context_release(ctx);
  free(x);
  return out;
}

/* The two engines give bitwise identical outputs for batches 1 and 5. */
static void check_same_outputs(InferEngine *a, InferEngine *b) {
  for (int batch = 1; batch <= 5; batch += 4) {
    size_t na, nb;
    float *oa = run(a, batch, &na), *ob = run(b, batch, &nb);
    CHECK(oa && ob && na == nb && na > 0);
    if (oa && ob && na == nb) CHECK(memcmp(oa, ob, na * sizeof *oa) == 0);
    free(oa);
    free(ob);
  }
}

static void check_same_interface(InferEngine *a, InferEngine *b) {
  CHECK(infer_engine_num_io(a) == infer_engine_num_io(b));
  CHECK(infer_engine_num_layers(a) == infer_engine_num_layers(b));
  CHECK(infer_engine_backend(a) == infer_engine_backend(b));
  CHECK(infer_engine_source_hash(a) == infer_engine_source_hash(b));
  for (int i = 0; i < infer_engine_num_io(a) && i < infer_engine_num_io(b); i++) {
    CHECK(strcmp(infer_engine_io_name(a, i), infer_engine_io_name(b, i)) == 0);
    CHECK(infer_engine_io_is_input(a, i) == infer_engine_io_is_input(b, i));
    CHECK(infer_engine_io_dtype(a, i) == infer_engine_io_dtype(b, i));
    InferShape sa = infer_engine_io_shape(a, i), sb = infer_engine_io_shape(b, i);
    CHECK(infer_shape_equal(&sa, &sb));
  }
}

static void refresh_checksum(uint8_t *plan, size_t size) {
  infer_plan_put_u64(plan + INFER_PLAN_OFF_CHECKSUM, infer_plan_checksum(plan, size));
}

static void test_round_trip(InferEngine *engine, const void *plan, size_t size) {
  InferEngine *loaded = NULL;
  CHECK_OK(infer_engine_deserialize(plan, size, "model.plan", &loaded));
  if (!loaded) return;
  check_same_interface(engine, loaded);
  CHECK(infer_engine_source_hash(loaded) == SOURCE_HASH);
  InferShape decl = infer_engine_io_shape(loaded, infer_engine_io_index(loaded, "prob"));
  CHECK(decl.rank == 2 && decl.d[0] == -1 && decl.d[1] == 10);
  check_same_outputs(engine, loaded);
  /* serializing the loaded engine gives the same bytes */
  void *again = NULL;
  size_t again_size = 0;
  CHECK_OK(infer_engine_serialize(loaded, &again, &again_size));
  CHECK(again && again_size == size && memcmp(again, plan, size) == 0);
  free(again);
  infer_engine_release(loaded);
}

static void test_header_info(const void *plan, size_t size) {
  InferPlanHeaderInfo info;
  CHECK_OK(infer_plan_read_header(plan, size, "model.plan", &info));
  CHECK(info.format_version == INFER_PLAN_FORMAT_VERSION);
  CHECK(info.total_size == size);
  CHECK(strcmp(info.library_version, infer_version_string()) == 0);
  CHECK(info.backend == INFER_BACKEND_CPU);
  CHECK(info.source_hash == SOURCE_HASH);
  CHECK(info.n_io == 3 && info.n_layers >= 7 && info.n_tensors > info.n_layers);
  CHECK(info.data_bytes >= (4 * 27 + 4 + 640 + 10) * sizeof(float));
  InferDeviceFingerprint here;
  CHECK_OK(infer_device_fingerprint(INFER_BACKEND_CPU, &here));
  CHECK(infer_device_fingerprint_equal(&info.device, &here));
  CHECK(here.device_name[0] != '\0' && here.cpu_features[0] != '\0' && here.compiler[0] != '\0');
  char desc[512];
  infer_device_fingerprint_describe(&here, desc, sizeof desc);
  CHECK(strstr(desc, here.device_name) != NULL && strstr(desc, here.cpu_features) != NULL);
  printf("plan: %zu bytes, built for %s with %s\n", size, desc, here.compiler);
#ifndef INFER_HAVE_CUDA
  InferDeviceFingerprint gpu;
  char msg[512];
  CHECK_FAILS(infer_device_fingerprint(INFER_BACKEND_CUDA, &gpu), INFER_ERR_UNSUPPORTED, msg);
#endif
  /* every constant blob starts 64-aligned from the file start, and the data
   * section is 64-aligned */
  const uint8_t *p = plan;
  uint32_t n_sections = infer_plan_get_u32(p + INFER_PLAN_OFF_N_SECTIONS);
  bool data_aligned = false;
  for (uint32_t i = 0; i < n_sections; i++) {
    const uint8_t *e = p + INFER_PLAN_FIXED_HEADER + i * INFER_PLAN_SECTION_ENTRY;
    if (infer_plan_get_u32(e) == INFER_PLAN_SECTION_DATA)
      data_aligned = infer_plan_get_u64(e + 8) % INFER_PLAN_DATA_ALIGN == 0;
  }
  CHECK(data_aligned);
}

static void test_save_load(InferEngine *engine) {
  char path[] = "/tmp/infer_test_plan_XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  if (fd < 0) return;
  close(fd);
  CHECK_OK(infer_engine_save(engine, path));
  InferEngine *loaded = NULL;
  CHECK_OK(infer_engine_load(path, &loaded));
  if (loaded) {
    check_same_interface(engine, loaded);
    check_same_outputs(engine, loaded);
    infer_engine_release(loaded);
  }
  char msg[512];
  /* an empty file */
  FILE *f = fopen(path, "wb");
  if (f) fclose(f);
  CHECK_FAILS(infer_engine_load(path, &loaded), INFER_ERR_PARSE, msg);
  CHECK(strstr(msg, path) != NULL && strstr(msg, "empty") != NULL);
  CHECK(loaded == NULL);
  /* a text file */
  f = fopen(path, "wb");
  if (f) {
    fputs("this is not a plan, it is a longer piece of text than a header\n", f);
    fclose(f);
  }
  CHECK_FAILS(infer_engine_load(path, &loaded), INFER_ERR_PARSE, msg);
  CHECK(strstr(msg, path) != NULL && strstr(msg, "is not an infer plan file") != NULL);
  remove(path);
  /* a missing file */
  CHECK_FAILS(infer_engine_load(path, &loaded), INFER_ERR_IO, msg);
  CHECK(strstr(msg, path) != NULL);
  CHECK_FAILS(infer_engine_load("/tmp", &loaded), INFER_ERR_IO, msg);
  CHECK_FAILS(infer_engine_save(engine, "/nonexistent-dir/x.plan"), INFER_ERR_IO, msg);
  CHECK(strstr(msg, "/nonexistent-dir/x.plan") != NULL);
}

/* Every single-byte change is caught: magic, version, then the checksum. */
static void test_byte_flips(const uint8_t *plan, size_t size) {
  uint8_t *copy = malloc(size);
  int failures_ok = 0, wrong = 0;
  const uint8_t masks[3] = {0x01, 0x80, 0xff};
  for (size_t pos = 0; pos < size; pos++) {
    for (int m = 0; m < 3; m++) {
      memcpy(copy, plan, size);
      copy[pos] ^= masks[m];
      InferEngine *e = NULL;
      InferStatus *st = infer_engine_deserialize(copy, size, "flip.plan", &e);
      InferStatusCode code = infer_status_code(st);
      const char *msg = infer_status_message(st);
      bool ok = st && e == NULL && strncmp(msg, "flip.plan ", 10) == 0;
      if (pos < INFER_PLAN_MAGIC_SIZE)
        ok &= code == INFER_ERR_PARSE && strstr(msg, "is not an infer plan file") != NULL;
      else if (pos >= INFER_PLAN_OFF_VERSION && pos < INFER_PLAN_OFF_VERSION + 4)
        ok &= strstr(msg, "plan format version") != NULL;
      else if (pos >= INFER_PLAN_OFF_TOTAL_SIZE && pos < INFER_PLAN_OFF_TOTAL_SIZE + 8)
        ok &= code == INFER_ERR_PARSE;
      else
        ok &= code == INFER_ERR_PARSE && strstr(msg, "is corrupt (checksum mismatch)") != NULL;
      if (ok) {
        failures_ok++;
      } else {
        if (wrong++ < 5)
          fprintf(stderr, "flip at %zu (^%02x): %s\n", pos, masks[m], st ? msg : "loaded");
      }
      infer_status_free(st);
      infer_engine_release(e);
    }
  }
  CHECK(wrong == 0);
  CHECK((size_t)failures_ok == 3 * size);
  free(copy);
}

/* Runs a damaged engine that loaded: errors are fine, crashes are not. */
static void run_quietly(InferEngine *engine) {
  InferContext *ctx = NULL;
  InferStatus *st = infer_context_create(engine, &ctx);
  float x[2 * 3 * 8 * 8];
  for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) x[i] = (float)(i % 7) - 3.0f;
  InferShape xs = {4, {2, 3, 8, 8}};
  if (!st) st = infer_context_set_input_shape(ctx, "x", &xs);
  if (!st) st = infer_context_set_tensor_address(ctx, "x", x);
  if (!st) st = infer_context_enqueue(ctx, NULL);
  infer_status_free(st);
  infer_context_release(ctx);
}

/* Changes with the checksum fixed up, so that the body parser sees them:
 * each must give an error or an engine, never a crash or a leak. */
static void test_checksummed_damage(const uint8_t *plan, size_t size) {
  uint8_t *copy = malloc(size);
  uint32_t header_size = infer_plan_get_u32(plan + INFER_PLAN_OFF_HEADER_SIZE);
  int errors = 0, loaded = 0;
  const uint8_t masks[4] = {0x01, 0x02, 0x80, 0xff};
  for (size_t pos = INFER_PLAN_OFF_TOTAL_SIZE; pos < size; pos++) {
    if (pos >= INFER_PLAN_OFF_CHECKSUM && pos < INFER_PLAN_OFF_CHECKSUM + 8) continue;
    /* the whole header and metadata; a sample of the constant data */
    if (pos > header_size + 4096 && pos % 61 != 0) continue;
    for (int m = 0; m < 4; m++) {
      memcpy(copy, plan, size);
      copy[pos] ^= masks[m];
      refresh_checksum(copy, size);
      InferEngine *e = NULL;
      InferStatus *st = infer_engine_deserialize(copy, size, "damaged.plan", &e);
      if (st) {
        errors++;
        CHECK(e == NULL);
        CHECK(strstr(infer_status_message(st), "damaged.plan") != NULL);
      } else {
        loaded++;
        /* a name or a weight changed: the engine is still one that builds */
        void *again = NULL;
        size_t again_size = 0;
        CHECK_OK(infer_engine_serialize(e, &again, &again_size));
        free(again);
        run_quietly(e);
      }
      infer_status_free(st);
      infer_engine_release(e);
    }
  }
  printf("checksummed damage: %d rejected, %d still loadable\n", errors, loaded);
  CHECK(errors > 0);
  free(copy);
}

static void test_truncation(const uint8_t *plan, size_t size) {
  int wrong = 0;
  for (size_t len = 1; len < size; len++) {
    /* every length inside the header and metadata, then a sample */
    if (len > 4096 && len % 97 != 0 && len != size - 1) continue;
    InferEngine *e = NULL;
    InferStatus *st = infer_engine_deserialize(plan, len, "cut.plan", &e);
    bool ok = st && !e && infer_status_code(st) == INFER_ERR_PARSE &&
              strstr(infer_status_message(st), "cut.plan is truncated") != NULL;
    if (!ok && wrong++ < 5)
      fprintf(stderr, "truncated to %zu: %s\n", len, st ? infer_status_message(st) : "loaded");
    infer_status_free(st);
    infer_engine_release(e);
  }
  CHECK(wrong == 0);
  /* extra bytes after the plan */
  uint8_t *longer = calloc(size + 16, 1);
  memcpy(longer, plan, size);
  InferEngine *e = NULL;
  char msg[512];
  CHECK_FAILS(infer_engine_deserialize(longer, size + 16, "long.plan", &e), INFER_ERR_PARSE, msg);
  CHECK(strstr(msg, "long.plan is corrupt") != NULL);
  free(longer);
  CHECK_FAILS(infer_engine_deserialize(plan, 0, "cut.plan", &e), INFER_ERR_PARSE, msg);
  CHECK_FAILS(infer_engine_deserialize(NULL, 0, NULL, &e), INFER_ERR_PARSE, msg);
  CHECK(strstr(msg, "plan is empty") != NULL);
}

static void test_mismatches(const uint8_t *plan, size_t size) {
  uint8_t *copy = malloc(size);
  InferEngine *e = NULL;
  char msg[1024];

  /* wrong magic */
  memcpy(copy, plan, size);
  memcpy(copy, "ONNXPLAN", 8);
  CHECK_FAILS(infer_engine_deserialize(copy, size, "a.plan", &e), INFER_ERR_PARSE, msg);
  CHECK(strcmp(msg, "a.plan is not an infer plan file") == 0);

  /* a newer format: the version check fires even with a valid checksum */
  memcpy(copy, plan, size);
  infer_plan_put_u32(copy + INFER_PLAN_OFF_VERSION, INFER_PLAN_FORMAT_VERSION + 1);
  refresh_checksum(copy, size);
  CHECK_FAILS(infer_engine_deserialize(copy, size, "b.plan", &e), INFER_ERR_MISMATCH, msg);
  char want[128];
  snprintf(want, sizeof want, "b.plan has plan format version %u; this library reads version %u",
           INFER_PLAN_FORMAT_VERSION + 1, INFER_PLAN_FORMAT_VERSION);
  CHECK(strcmp(msg, want) == 0);
  /* ... and without (the version is checked before the checksum) */
  infer_plan_put_u32(copy + INFER_PLAN_OFF_VERSION, 7);
  CHECK_FAILS(infer_engine_deserialize(copy, size, "b.plan", &e), INFER_ERR_MISMATCH, msg);
  CHECK(strstr(msg, "version 7") != NULL);
  InferPlanHeaderInfo info;
  CHECK_FAILS(infer_plan_read_header(copy, size, "b.plan", &info), INFER_ERR_MISMATCH, msg);

  /* another library version */
  memcpy(copy, plan, size);
  memset(copy + INFER_PLAN_OFF_LIB_VERSION, 0, INFER_PLAN_LIB_VERSION_SIZE);
  memcpy(copy + INFER_PLAN_OFF_LIB_VERSION, "9.8.7", 5);
  refresh_checksum(copy, size);
  CHECK_FAILS(infer_engine_deserialize(copy, size, "c.plan", &e), INFER_ERR_MISMATCH, msg);
  char expect[512];
  snprintf(expect, sizeof expect,
           "c.plan was built by infer 9.8.7; this is infer %s \xe2\x80\x94 rebuild the plan",
           infer_version_string());
  CHECK(strcmp(msg, expect) == 0);
  /* the header can still be read, for tools */
  CHECK_OK(infer_plan_read_header(copy, size, "c.plan", &info));
  CHECK(strcmp(info.library_version, "9.8.7") == 0);

  /* another CPU */
  memcpy(copy, plan, size);
  memset(copy + INFER_PLAN_OFF_FP_DEVICE, 0, INFER_PLAN_DEVICE_NAME_SIZE);
  memcpy(copy + INFER_PLAN_OFF_FP_DEVICE, "Imaginary CPU 9000", 18);
  refresh_checksum(copy, size);
  CHECK_FAILS(infer_engine_deserialize(copy, size, "d.plan", &e), INFER_ERR_MISMATCH, msg);
  InferDeviceFingerprint here;
  CHECK_OK(infer_device_fingerprint(INFER_BACKEND_CPU, &here));
  CHECK(strncmp(msg, "d.plan was built for Imaginary CPU 9000 (", 41) == 0);
  CHECK(strstr(msg, "; this device is ") != NULL && strstr(msg, here.device_name) != NULL);
  CHECK(strstr(msg, "by infer ") != NULL);

  /* other CPU features */
  memcpy(copy, plan, size);
  memset(copy + INFER_PLAN_OFF_FP_FEATURES, 0, INFER_PLAN_FEATURES_SIZE);
  memcpy(copy + INFER_PLAN_OFF_FP_FEATURES, "x86_64 avx9000", 14);
  refresh_checksum(copy, size);
  CHECK_FAILS(infer_engine_deserialize(copy, size, "e.plan", &e), INFER_ERR_MISMATCH, msg);
  CHECK(strstr(msg, "(x86_64 avx9000)") != NULL && strstr(msg, here.cpu_features) != NULL);

  /* the compiler is informational only */
  memcpy(copy, plan, size);
  memset(copy + INFER_PLAN_OFF_FP_COMPILER, 0, INFER_PLAN_COMPILER_SIZE);
  memcpy(copy + INFER_PLAN_OFF_FP_COMPILER, "tcc 0.9", 7);
  refresh_checksum(copy, size);
  CHECK_OK(infer_engine_deserialize(copy, size, "f.plan", &e));
  infer_engine_release(e);
  e = NULL;

  /* a plan for the CUDA backend */
  memcpy(copy, plan, size);
  infer_plan_put_u32(copy + INFER_PLAN_OFF_BACKEND, INFER_BACKEND_CUDA);
  infer_plan_put_u32(copy + INFER_PLAN_OFF_FP_BACKEND, INFER_BACKEND_CUDA);
  infer_plan_put_u32(copy + INFER_PLAN_OFF_FP_CC_MAJOR, 9);
  infer_plan_put_u32(copy + INFER_PLAN_OFF_FP_CUDA, 12020);
  memset(copy + INFER_PLAN_OFF_FP_DEVICE, 0, INFER_PLAN_DEVICE_NAME_SIZE);
  memcpy(copy + INFER_PLAN_OFF_FP_DEVICE, "NVIDIA H100", 11);
  refresh_checksum(copy, size);
  CHECK_FAILS(infer_engine_deserialize(copy, size, "g.plan", &e), INFER_ERR_MISMATCH, msg);
  CHECK(strstr(msg, "g.plan was built for NVIDIA H100 (sm_90, CUDA 12.2") != NULL);

  /* an unknown required section; an unknown optional one is skipped */
  memcpy(copy, plan, size);
  uint8_t *sec = copy + INFER_PLAN_FIXED_HEADER; /* the first section: tensors */
  uint32_t kind = infer_plan_get_u32(sec);
  infer_plan_put_u32(sec, 99);
  refresh_checksum(copy, size);
  CHECK_FAILS(infer_engine_deserialize(copy, size, "h.plan", &e), INFER_ERR_UNSUPPORTED, msg);
  CHECK(strstr(msg, "h.plan has a section of kind 99") != NULL);
  infer_plan_put_u32(sec + 4, INFER_PLAN_SECTION_OPTIONAL);
  refresh_checksum(copy, size);
  CHECK_FAILS(infer_engine_deserialize(copy, size, "h.plan", &e), INFER_ERR_PARSE, msg);
  CHECK(strstr(msg, "missing") != NULL);
  infer_plan_put_u32(sec, kind);
  infer_plan_put_u32(sec + 4, 0);

  CHECK(e == NULL);
  free(copy);
}

static void test_bad_arguments(InferEngine *engine) {
  char msg[512];
  void *data = NULL;
  size_t size = 0;
  CHECK_FAILS(infer_engine_serialize(NULL, &data, &size), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK_FAILS(infer_engine_serialize(engine, NULL, &size), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK_FAILS(infer_engine_deserialize(NULL, 0, "x", NULL), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK_FAILS(infer_engine_save(engine, NULL), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK(infer_engine_source_hash(NULL) == 0);
}

/* A plan of an engine whose output is a constant (no layer at all). */
/* The engine serialized and loaded back (NULL, with a failed check, when
 * either step fails). */
static InferEngine *through_plan(const InferEngine *engine, const char *name) {
  void *plan = NULL;
  size_t size = 0;
  InferEngine *loaded = NULL;
  CHECK_OK(infer_engine_serialize(engine, &plan, &size));
  if (plan) CHECK_OK(infer_engine_deserialize(plan, size, name, &loaded));
  free(plan);
  return loaded;
}

static void test_constant_only(void) {
  InferNetwork *net;
  CHECK_OK(infer_network_create(&net));
  InferShape s = {1, {3}};
  float a[3] = {1, 2, 3}, b[3] = {10, 20, 30};
  InferTensorId x, ca, cb, sum;
  CHECK_OK(infer_network_add_input(net, "x", INFER_DTYPE_F32, &s, &x));
  CHECK_OK(infer_network_add_constant(net, "a", INFER_DTYPE_F32, &s, a, &ca));
  CHECK_OK(infer_network_add_constant(net, "b", INFER_DTYPE_F32, &s, b, &cb));
  CHECK_OK(infer_network_add_elementwise(net, "sum", ca, cb, INFER_BINARY_ADD, &sum));
  CHECK_OK(infer_network_mark_output(net, sum));
  InferEngine *engine = NULL;
  CHECK_OK(test_build_cpu(net, &engine));
  infer_network_release(net);
  if (!engine) return;
  InferEngine *loaded = through_plan(engine, "const.plan");
  if (loaded) {
    CHECK(infer_engine_num_layers(loaded) == 0);
    InferContext *ctx = NULL;
    CHECK_OK(infer_context_create(loaded, &ctx));
    float xv[3] = {0, 0, 0};
    InferTensorView out;
    memset(&out, 0, sizeof out);
    CHECK_OK(infer_context_set_tensor_address(ctx, "x", xv));
    CHECK_OK(infer_context_enqueue(ctx, NULL));
    CHECK_OK(infer_context_get_output(ctx, "sum:0", &out));
    CHECK(out.data && ((float *)out.data)[2] == 33.0f);
    infer_context_release(ctx);
    infer_engine_release(loaded);
  }
  infer_engine_release(engine);
}

/* The engine flags a build config sets (no TF32, INT8 exactness) travel in
 * the plan: a plan of such an engine loads and runs like the engine. */
static void test_engine_flags(void) {
  InferNetwork *net = make_net();
  InferBuildConfig *cfg = NULL;
  CHECK_OK(infer_build_config_create(&cfg));
  InferEngine *engine = NULL;
  if (cfg) {
    infer_build_config_set_backend(cfg, INFER_BACKEND_CPU);
    infer_build_config_set_tf32(cfg, false);
    infer_build_config_set_int8_exact(cfg, true);
    CHECK_OK(infer_engine_build(net, cfg, &engine));
  }
  infer_build_config_release(cfg);
  infer_network_release(net);
  if (!engine) return;
  InferEngine *loaded = through_plan(engine, "flags.plan");
  if (loaded) check_same_outputs(engine, loaded);
  infer_engine_release(loaded);
  infer_engine_release(engine);
}

int main(void) {
  InferEngine *engine = make_engine();
  if (!engine) TEST_MAIN_END("plan");
  void *plan = NULL;
  size_t size = 0;
  CHECK_OK(infer_engine_serialize(engine, &plan, &size));
  if (plan) {
    test_round_trip(engine, plan, size);
    test_header_info(plan, size);
    test_save_load(engine);
    test_byte_flips(plan, size);
    test_checksummed_damage(plan, size);
    test_truncation(plan, size);
    test_mismatches(plan, size);
  }
  test_bad_arguments(engine);
  test_constant_only();
  test_engine_flags();
  free(plan);
  infer_engine_release(engine);
  TEST_MAIN_END("plan");
}
