/* Helpers shared by the optimizer-pass tests: small networks built with
 * the network API, running a pass, and comparing a pass's output network
 * with its input on the CPU reference (normalized error). */
#ifndef INFER_PASS_TEST_UTIL_H
#define INFER_PASS_TEST_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "infer/infer.h"
#include "passes.h"
#include "test_util.h"

static const InferPassContext pass_ctx = {INFER_BACKEND_CPU, NULL};
static uint32_t rng_state = 2463534242u;

static uint32_t next_random(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}

static float frand(void) { return (float)((double)next_random() / 4294967296.0 * 2.0 - 1.0); }

static InferEngine *build_engine(const InferNetwork *net) {
  InferBuildConfig *cfg = NULL;
  InferEngine *e = NULL;
  CHECK_OK(infer_build_config_create(&cfg));
  if (!cfg) return NULL;
  infer_build_config_set_optimization_level(cfg, 0); /* no optimizer passes */
  infer_build_config_set_backend(cfg, INFER_BACKEND_CPU);
  CHECK_OK(infer_engine_build(net, cfg, &e));
  infer_build_config_release(cfg);
  return e;
}

static double element(const InferTensorView *v, int64_t i) {
  switch (v->dtype) {
    case INFER_DTYPE_F32: return ((const float *)v->data)[i];
    case INFER_DTYPE_I32: return ((const int32_t *)v->data)[i];
    case INFER_DTYPE_I64: return (double)((const int64_t *)v->data)[i];
    case INFER_DTYPE_U8:
    case INFER_DTYPE_BOOL: return ((const uint8_t *)v->data)[i];
    case INFER_DTYPE_I8: return ((const int8_t *)v->data)[i];
    case INFER_DTYPE_F16: return infer_half_to_float(((const uint16_t *)v->data)[i]);
    default: return 0;
  }
}

/* ||a - b|| / ||a|| (absolute when a is all zeros); INFINITY on a type or
 * shape mismatch or an integer difference. */
static double normalized_error(const InferTensorView *a, const InferTensorView *b) {
  if (a->dtype != b->dtype || !infer_shape_equal(&a->shape, &b->shape)) return INFINITY;
  int64_t n = infer_shape_numel(&a->shape);
  double num = 0, den = 0;
  for (int64_t i = 0; i < n; i++) {
    double x = element(a, i), y = element(b, i);
    if (isnan(x) || isnan(y)) {
      if (!(isnan(x) && isnan(y))) return INFINITY;
      continue;
    }
    if (isinf(x) || isinf(y)) {
      if (x != y) return INFINITY;
      continue;
    }
    if (!infer_dtype_is_float(a->dtype) && x != y) return INFINITY;
    num += (x - y) * (x - y);
    den += x * x;
  }
  return den > 0 ? sqrt(num / den) : sqrt(num);
}

/* Runs both networks on the same random inputs (dynamic dims set to 2) and
 * returns the largest normalized error over the outputs of `a`. */
static double compare_networks(const InferNetwork *a, const InferNetwork *b) {
  InferEngine *ea = build_engine(a), *eb = build_engine(b);
  double worst = INFINITY;
  InferContext *ca = NULL, *cb = NULL;
  InferStream *sa = NULL, *sb = NULL;
  void *bufs[64] = {0};
  if (!ea || !eb || infer_engine_num_io(ea) > 64) goto done;
  CHECK_OK(infer_context_create(ea, &ca));
  CHECK_OK(infer_context_create(eb, &cb));
  CHECK_OK(infer_stream_create(ea, &sa));
  CHECK_OK(infer_stream_create(eb, &sb));
  if (!ca || !cb || !sa || !sb) goto done;
  for (int i = 0; i < infer_engine_num_io(ea); i++) {
    if (!infer_engine_io_is_input(ea, i)) continue;
    const char *name = infer_engine_io_name(ea, i);
    InferShape s = infer_engine_io_shape(ea, i);
    for (int d = 0; d < s.rank; d++)
      if (s.d[d] < 0) s.d[d] = 2;
    InferDType t = infer_engine_io_dtype(ea, i);
    int64_t n = infer_shape_numel(&s);
    bufs[i] = calloc((size_t)n + 1, infer_dtype_size(t));
    for (int64_t k = 0; k < n; k++) {
      if (t == INFER_DTYPE_F32) ((float *)bufs[i])[k] = frand();
      else if (t == INFER_DTYPE_I64) ((int64_t *)bufs[i])[k] = next_random() % 4;
      else if (t == INFER_DTYPE_I32) ((int32_t *)bufs[i])[k] = (int32_t)(next_random() % 4);
    }
    CHECK_OK(infer_context_set_input_shape(ca, name, &s));
    CHECK_OK(infer_context_set_input_shape(cb, name, &s));
    CHECK_OK(infer_context_set_tensor_address(ca, name, bufs[i]));
    CHECK_OK(infer_context_set_tensor_address(cb, name, bufs[i]));
  }
  CHECK_OK(infer_context_enqueue(ca, sa));
  CHECK_OK(infer_context_enqueue(cb, sb));
  CHECK_OK(infer_stream_synchronize(sa));
  CHECK_OK(infer_stream_synchronize(sb));
  worst = 0;
  CHECK(infer_engine_num_io(ea) == infer_engine_num_io(eb));
  for (int i = 0; i < infer_engine_num_io(ea); i++) {
    if (infer_engine_io_is_input(ea, i)) continue;
    const char *name = infer_engine_io_name(ea, i);
    InferTensorView va, vb;
    InferStatus *st = infer_context_get_output(ca, name, &va);
    if (!st) st = infer_context_get_output(cb, name, &vb);
    double e = st ? INFINITY : normalized_error(&va, &vb);
    if (st) fprintf(stderr, "compare: %s\n", infer_status_message(st));
    infer_status_free(st);
    if (!(e <= worst)) worst = e;
  }
done:
  for (int i = 0; i < 64; i++) free(bufs[i]);
  infer_stream_release(sa);
  infer_stream_release(sb);
  infer_context_release(ca);
  infer_context_release(cb);
  infer_engine_release(ea);
  infer_engine_release(eb);
  return worst;
}

static InferNetwork *new_net(void) {
  InferNetwork *net = NULL;
  CHECK_OK(infer_network_create(&net));
  return net;
}

static InferTensorId input(InferNetwork *net, const char *name, int rank, const int64_t *dims) {
  InferShape s = infer_shape_make(rank, dims);
  InferTensorId t = INFER_NO_TENSOR;
  CHECK_OK(infer_network_add_input(net, name, INFER_DTYPE_F32, &s, &t));
  return t;
}

static InferTensorId constant_f32(InferNetwork *net, const char *name, int rank,
                                  const int64_t *dims, const float *values, float fill) {
  InferShape s = infer_shape_make(rank, dims);
  int64_t n = infer_shape_numel(&s);
  float *v = malloc(sizeof(float) * (size_t)(n + 1));
  for (int64_t i = 0; i < n; i++) v[i] = values ? values[i] : (isnan(fill) ? frand() : fill);
  InferTensorId t = INFER_NO_TENSOR;
  CHECK_OK(infer_network_add_constant(net, name, INFER_DTYPE_F32, &s, v, &t));
  free(v);
  return t;
}

static InferTensorId constant_i64(InferNetwork *net, const char *name, int n, const int64_t *v) {
  InferShape s = {1, {n}};
  InferTensorId t = INFER_NO_TENSOR;
  CHECK_OK(infer_network_add_constant(net, name, INFER_DTYPE_I64, &s, v, &t));
  return t;
}

/* One layer with one output named `out`. */
static InferTensorId layer(InferNetwork *net, const char *out, InferOp op, const InferOpParams *p,
                           int n_in, const InferTensorId *in) {
  InferTensorId t = INFER_NO_TENSOR;
  const char *names[1] = {out};
  CHECK_OK(infer_network_add_layer(net, out, op, p, n_in, in, 1, names, &t));
  return t;
}

static InferTensorId unary(InferNetwork *net, const char *out, InferUnaryKind k, InferTensorId x) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.unary.kind = k;
  return layer(net, out, INFER_OP_UNARY, &p, 1, &x);
}

static InferTensorId binary(InferNetwork *net, const char *out, InferBinaryKind k, InferTensorId a,
                            InferTensorId b) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.binary.kind = k;
  InferTensorId in[2] = {a, b};
  return layer(net, out, INFER_OP_BINARY, &p, 2, in);
}

static int count_op(const InferNetwork *net, InferOp op) {
  int n = 0;
  for (int l = 0; l < infer_network_num_layers(net); l++) n += infer_network_layer_op(net, l) == op;
  return n;
}

/* Runs a pass; *changes gets its count. */
static InferNetwork *run_pass(InferPassFn fn, const InferNetwork *net, int *changes) {
  InferNetwork *out = NULL;
  *changes = -1;
  CHECK_OK(fn(&pass_ctx, net, &out, changes));
  return out;
}

/* The pass must leave net alone. */
static void check_untouched(InferPassFn fn, InferNetwork *net) {
  int changes;
  InferNetwork *out = run_pass(fn, net, &changes);
  CHECK(out == NULL && changes == 0);
  infer_network_release(out);
  infer_network_release(net);
}

/* The pass must rewrite net into `layers` layers, computing the same. */
static InferNetwork *check_rewrite(InferPassFn fn, const InferNetwork *net, int layers,
                                   int expect_changes) {
  int changes;
  InferNetwork *out = run_pass(fn, net, &changes);
  CHECK(out != NULL);
  if (!out) return NULL;
  if (expect_changes >= 0) CHECK(changes == expect_changes);
  CHECK(infer_network_num_layers(out) == layers);
  if (infer_network_num_layers(out) != layers)
    fprintf(stderr, "  %d layers, expected %d\n", infer_network_num_layers(out), layers);
  CHECK(infer_network_num_outputs(out) == infer_network_num_outputs(net));
  for (int i = 0; i < infer_network_num_outputs(net); i++)
    CHECK(strcmp(infer_network_tensor_name(net, infer_network_output(net, i)),
                 infer_network_tensor_name(out, infer_network_output(out, i))) == 0);
  double err = compare_networks(net, out);
  CHECK(err <= 1e-6);
  if (!(err <= 1e-6)) fprintf(stderr, "  normalized error %g\n", err);
  /* running it again finds nothing more (or at least does not fail) */
  InferNetwork *again = NULL;
  int more = 0;
  CHECK_OK(fn(&pass_ctx, out, &again, &more));
  infer_network_release(again);
  return out;
}

#endif
