/* Seeded float inputs and a calibrator over them, shared by the INT8 model
 * tests (CPU and GPU): CAL_BATCHES batches of BATCH items of standard
 * normal values, the same for every run. Test code only (static
 * functions, one copy per test program). */
#ifndef INT8_TEST_INPUTS_H
#define INT8_TEST_INPUTS_H

#include <math.h>
#include <stdlib.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "infer/infer.h"

#define MAX_IN 8
#define CAL_BATCHES 8
#define BATCH 2

typedef struct Inputs {
  int n;
  const char *names[MAX_IN];
  InferShape shapes[MAX_IN];
  float *data[MAX_IN];
} Inputs;

/* Standard normal values from a seeded xorshift (Box-Muller). */
static uint64_t inputs_rng;
static double inputs_uniform01(void) {
  inputs_rng ^= inputs_rng << 13;
  inputs_rng ^= inputs_rng >> 7;
  inputs_rng ^= inputs_rng << 17;
  return ((double)(inputs_rng >> 11) + 0.5) / 9007199254740992.0;
}

static float inputs_normal(void) {
  return (float)(sqrt(-2.0 * log(inputs_uniform01())) * cos(6.283185307179586 * inputs_uniform01()));
}

static void fill(Inputs *in, uint64_t seed) {
  inputs_rng = seed * 0x9E3779B97F4A7C15ull + 1;
  for (int i = 0; i < in->n; i++) {
    int64_t n = infer_shape_numel(&in->shapes[i]);
    for (int64_t k = 0; k < n; k++) in->data[i][k] = inputs_normal();
  }
}

/* ---- the calibrator: CAL_BATCHES seeded batches ---- */

typedef struct Cal {
  Inputs *in;
  int next;
} Cal;

static int cal_batch_size(void *user) {
  (void)user;
  return BATCH;
}

static bool cal_get_batch(void *user, const char *const *names, const void **bindings, int n) {
  Cal *c = user;
  if (c->next >= CAL_BATCHES) return false;
  fill(c->in, 1000 + (uint64_t)c->next++);
  for (int k = 0; k < n; k++) {
    bindings[k] = NULL;
    for (int i = 0; i < c->in->n; i++)
      if (strcmp(names[k], c->in->names[i]) == 0) bindings[k] = c->in->data[i];
    if (!bindings[k]) return false;
  }
  return true;
}

static bool cal_reset(void *user) {
  ((Cal *)user)->next = 0;
  return true;
}

/* The network's inputs with their dynamic dims set (batch BATCH, others
 * 1) and buffers for them; false when there are more than MAX_IN or one
 * is not f32 (the buffers are float). */
static bool inputs_from_network(const InferNetwork *net, Inputs *in) {
  memset(in, 0, sizeof *in);
  in->n = infer_network_num_inputs(net);
  bool ok = in->n <= MAX_IN;
  if (!ok) in->n = MAX_IN;
  for (int i = 0; i < in->n; i++) {
    InferTensorId t = infer_network_input(net, i);
    in->names[i] = infer_network_tensor_name(net, t);
    in->shapes[i] = infer_network_tensor_shape(net, t);
    ok = ok && infer_network_tensor_dtype(net, t) == INFER_DTYPE_F32;
    for (int d = 0; d < in->shapes[i].rank; d++)
      if (in->shapes[i].d[d] < 0) in->shapes[i].d[d] = d == 0 ? BATCH : 1;
    in->data[i] = malloc(sizeof(float) * (size_t)infer_shape_numel(&in->shapes[i]));
  }
  return ok;
}

/* A min-max calibration table of the network over the seeded batches,
 * computed on the CPU. */
static InferStatus *calibrate_minmax(const InferNetwork *net, Inputs *in, InferCalibTable **out) {
  Cal cal = {in, 0};
  InferCalibrator calibrator = {&cal, cal_batch_size, cal_get_batch, cal_reset, NULL, NULL};
  InferCalibOptions opts;
  memset(&opts, 0, sizeof opts);
  opts.backend = INFER_BACKEND_CPU;
  opts.n_shapes = in->n;
  opts.shape_names = in->names;
  opts.shapes = in->shapes;
  return infer_calibrate(net, &calibrator, INFER_CALIB_MINMAX, &opts, out);
}

#endif
