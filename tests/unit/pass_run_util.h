/* Running whole networks for the fusion and pattern pass tests: random
 * inputs (dynamic dims bound to a batch), outputs collected, and the
 * normalized difference of two networks' outputs. */
#ifndef INFER_PASS_RUN_UTIL_H
#define INFER_PASS_RUN_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "infer/infer.h"
#include "test_util.h"
#include "unoptimized.h"

static uint64_t rng_state = 88172645463325252ull;
static float frand(void) { /* uniform in [-3, 3) */
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (float)((double)(rng_state >> 11) / 9007199254740992.0 * 6.0 - 3.0);
}

#define MAX_IO 8
typedef struct Outputs {
  int n;
  const char *names[MAX_IO];
  float *data[MAX_IO];
  int64_t numel[MAX_IO];
} Outputs;

static void outputs_free(Outputs *o) {
  for (int i = 0; i < o->n; i++) free(o->data[i]);
  memset(o, 0, sizeof *o);
}

/* Runs net on random inputs (seeded; dynamic dims = batch). */
static bool run_net(const InferNetwork *net, int64_t batch, uint64_t seed, Outputs *out) {
  memset(out, 0, sizeof *out);
  InferEngine *engine = NULL;
  InferContext *ctx = NULL;
  float *inputs[MAX_IO] = {0};
  int n_in = infer_network_num_inputs(net);
  bool ok = n_in <= MAX_IO && infer_network_num_outputs(net) <= MAX_IO;
  InferStatus *st = ok ? test_build_unoptimized(net, &engine) : NULL;
  if (!st && ok) st = infer_context_create(engine, &ctx);
  rng_state = seed;
  for (int i = 0; !st && ok && i < n_in; i++) {
    InferTensorId t = infer_network_input(net, i);
    InferShape s = infer_network_tensor_shape(net, t);
    for (int d = 0; d < s.rank; d++)
      if (s.d[d] < 0) s.d[d] = batch;
    int64_t n = infer_shape_numel(&s);
    inputs[i] = malloc(sizeof(float) * (size_t)(n + 1));
    for (int64_t k = 0; k < n; k++) inputs[i][k] = frand();
    const char *name = infer_network_tensor_name(net, t);
    st = infer_context_set_input_shape(ctx, name, &s);
    if (!st) st = infer_context_set_tensor_address(ctx, name, inputs[i]);
  }
  if (!st && ok) st = infer_context_enqueue(ctx, NULL);
  for (int i = 0; !st && ok && i < infer_network_num_outputs(net); i++) {
    const char *name = infer_network_tensor_name(net, infer_network_output(net, i));
    InferTensorView v;
    st = infer_context_get_output(ctx, name, &v);
    if (st) break;
    int64_t n = infer_shape_numel(&v.shape);
    out->names[i] = name;
    out->numel[i] = n;
    out->data[i] = malloc(sizeof(float) * (size_t)(n + 1));
    memcpy(out->data[i], v.data, sizeof(float) * (size_t)n);
    out->n = i + 1;
  }
  if (st) {
    fprintf(stderr, "run_net: %s\n", infer_status_message(st));
    infer_status_free(st);
    ok = false;
  }
  for (int i = 0; i < n_in; i++) free(inputs[i]);
  infer_context_release(ctx);
  infer_engine_release(engine);
  if (!ok) outputs_free(out);
  return ok;
}

/* The largest normalized error ||a - b|| / ||a|| over the outputs of two
 * networks on the same random inputs; 1e30 when they cannot be compared. */
static double compare_nets(const InferNetwork *a, const InferNetwork *b, int64_t batch) {
  Outputs oa, ob;
  double worst = 1e30;
  if (!run_net(a, batch, 12345, &oa)) return worst;
  if (run_net(b, batch, 12345, &ob)) {
    worst = oa.n == ob.n ? 0.0 : 1e30;
    for (int i = 0; i < oa.n && worst < 1e30; i++) {
      int j = 0;
      while (j < ob.n && strcmp(oa.names[i], ob.names[j]) != 0) j++;
      if (j == ob.n || oa.numel[i] != ob.numel[j]) {
        worst = 1e30;
        break;
      }
      double num = 0, den = 0;
      for (int64_t k = 0; k < oa.numel[i]; k++) {
        double d = (double)oa.data[i][k] - ob.data[j][k];
        num += d * d;
        den += (double)oa.data[i][k] * oa.data[i][k];
      }
      double e = den > 0 ? sqrt(num / den) : sqrt(num);
      if (!(e <= worst)) worst = isnan(e) ? 1e30 : e;
    }
    outputs_free(&ob);
  }
  outputs_free(&oa);
  return worst;
}

#endif
