/* Unit tests of the reduction family: softmax, reduce, argmax, topk, cumsum
 * and non-max suppression (shape functions and CPU kernels). Expected values
 * are computed by hand (or with a calculator), not with the code under test. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "op_runner.h"
#include "test_util.h"

#define N_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void free_outputs(InferTensorView *out, int n) {
  for (int i = 0; i < n; i++) {
    free(out[i].data);
    out[i].data = NULL;
  }
}

static void check_floats(const InferTensorView *t, const float *want, int n, double tol) {
  CHECK(infer_shape_numel(&t->shape) == n);
  if (infer_shape_numel(&t->shape) != n) return;
  for (int i = 0; i < n; i++) CHECK_NEAR(((const float *)t->data)[i], want[i], tol);
}

static void check_ints(const InferTensorView *t, const int64_t *want, int n) {
  CHECK(t->dtype == INFER_DTYPE_I64);
  CHECK(infer_shape_numel(&t->shape) == n);
  if (infer_shape_numel(&t->shape) != n) return;
  for (int i = 0; i < n; i++) CHECK(((const int64_t *)t->data)[i] == want[i]);
}

static bool shape_is(const InferTensorView *t, int rank, const int64_t *dims) {
  InferShape s = infer_shape_make(rank, dims);
  return infer_shape_equal(&t->shape, &s);
}

/* ---- softmax ------------------------------------------------------------ */

static InferOpParams softmax_params(InferSoftmaxKind kind, int64_t axis, bool coerce) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.softmax.kind = kind;
  p.softmax.axis = axis;
  p.softmax.coerce_2d = coerce;
  return p;
}

static void test_softmax(void) {
  float x[] = {-1, 0, 1};
  int64_t d13[] = {1, 3};
  InferTensorView in = test_view(INFER_DTYPE_F32, 2, d13, x), out;
  InferOpParams p = softmax_params(INFER_SOFTMAX, -1, false);
  CHECK_OK(test_run_op(INFER_OP_SOFTMAX, &p, 1, &in, 1, &out));
  /* e^-1, 1, e over their sum 4.0861613 */
  float want[] = {0.09003057f, 0.24472847f, 0.66524096f};
  check_floats(&out, want, 3, 1e-6);
  free_outputs(&out, 1);

  p = softmax_params(INFER_LOG_SOFTMAX, 1, false);
  CHECK_OK(test_run_op(INFER_OP_SOFTMAX, &p, 1, &in, 1, &out));
  float want_log[] = {-2.40760596f, -1.40760596f, -0.40760596f};
  check_floats(&out, want_log, 3, 1e-5);
  free_outputs(&out, 1);

  /* Large inputs stay finite because the max is subtracted. */
  float big[] = {1000, 1001};
  int64_t d2[] = {2};
  in = test_view(INFER_DTYPE_F32, 1, d2, big);
  p = softmax_params(INFER_SOFTMAX, 0, false);
  CHECK_OK(test_run_op(INFER_OP_SOFTMAX, &p, 1, &in, 1, &out));
  float want_big[] = {0.26894142f, 0.73105858f};
  check_floats(&out, want_big, 2, 1e-6);
  free_outputs(&out, 1);

  /* axis 0 of [[1,2],[3,4]]: each column differs by 2 */
  float x22[] = {1, 2, 3, 4};
  int64_t d22[] = {2, 2};
  in = test_view(INFER_DTYPE_F32, 2, d22, x22);
  p = softmax_params(INFER_SOFTMAX, 0, false);
  CHECK_OK(test_run_op(INFER_OP_SOFTMAX, &p, 1, &in, 1, &out));
  float want_cols[] = {0.11920292f, 0.11920292f, 0.88079708f, 0.88079708f};
  check_floats(&out, want_cols, 4, 1e-6);
  free_outputs(&out, 1);

  /* opset < 13: [1,2,2] at axis 1 normalizes all 4 elements together */
  float x4[] = {0, 1, 2, 3};
  int64_t d122[] = {1, 2, 2};
  in = test_view(INFER_DTYPE_F32, 3, d122, x4);
  p = softmax_params(INFER_SOFTMAX, 1, true);
  CHECK_OK(test_run_op(INFER_OP_SOFTMAX, &p, 1, &in, 1, &out));
  float want_2d[] = {0.03205860f, 0.08714432f, 0.23688282f, 0.64391426f};
  check_floats(&out, want_2d, 4, 1e-6);
  free_outputs(&out, 1);

  /* Hardmax: the first of tied maxima wins */
  float ties[] = {3, 3, 3, 1};
  int64_t d14[] = {1, 4};
  in = test_view(INFER_DTYPE_F32, 2, d14, ties);
  p = softmax_params(INFER_HARDMAX, -1, false);
  CHECK_OK(test_run_op(INFER_OP_SOFTMAX, &p, 1, &in, 1, &out));
  float want_hard[] = {1, 0, 0, 0};
  check_floats(&out, want_hard, 4, 0);
  free_outputs(&out, 1);

  /* Empty tensors run without touching memory. */
  int64_t d03[] = {0, 3};
  in = test_view(INFER_DTYPE_F32, 2, d03, NULL);
  CHECK_OK(test_run_op(INFER_OP_SOFTMAX, &p, 1, &in, 1, &out));
  free_outputs(&out, 1);

  /* f16 runs through the same path */
  uint16_t h[] = {infer_float_to_half(-1), infer_float_to_half(0), infer_float_to_half(1)};
  in = test_view(INFER_DTYPE_F16, 2, d13, h);
  p = softmax_params(INFER_SOFTMAX, -1, false);
  CHECK_OK(test_run_op(INFER_OP_SOFTMAX, &p, 1, &in, 1, &out));
  if (out.data) CHECK_NEAR(infer_half_to_float(((uint16_t *)out.data)[2]), 0.66524096, 1e-3);
  free_outputs(&out, 1);

  /* Integer input and bad axis are rejected. */
  int32_t xi[] = {1, 2, 3};
  in = test_view(INFER_DTYPE_I32, 2, d13, xi);
  CHECK_FAILS(test_run_op(INFER_OP_SOFTMAX, &p, 1, &in, 1, &out), INFER_ERR_INVALID_ARGUMENT,
              NULL);
  in = test_view(INFER_DTYPE_F32, 2, d13, x);
  p = softmax_params(INFER_SOFTMAX, 2, false);
  CHECK_FAILS(test_run_op(INFER_OP_SOFTMAX, &p, 1, &in, 1, &out), INFER_ERR_INVALID_ARGUMENT,
              NULL);
}

/* ---- reduce ------------------------------------------------------------- */

static InferOpParams reduce_params(InferReduceKind kind, bool keepdims, bool noop) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.reduce.kind = kind;
  p.reduce.keepdims = keepdims;
  p.reduce.noop_with_empty_axes = noop;
  return p;
}

/* Runs a reduction of the [3,2,2] tensor 1..12 over `axes`. */
static InferStatus *reduce_x12(InferReduceKind kind, bool keepdims, int n_axes,
                               const int64_t *axes, InferTensorView *out) {
  static float x[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  int64_t dx[] = {3, 2, 2}, da[] = {n_axes};
  InferTensorView in[2] = {test_view(INFER_DTYPE_F32, 3, dx, x),
                           test_view(INFER_DTYPE_I64, 1, da, (void *)axes)};
  InferOpParams p = reduce_params(kind, keepdims, false);
  return test_run_op(INFER_OP_REDUCE, &p, n_axes >= 0 ? 2 : 1, in, 1, out);
}

static void test_reduce_float(void) {
  InferTensorView out;
  int64_t ax1[] = {1}, axm2[] = {-2}, ax2[] = {2}, ax0[] = {0};
  int64_t d312[] = {3, 1, 2}, d32[] = {3, 2}, d111[] = {1, 1, 1};

  CHECK_OK(reduce_x12(INFER_REDUCE_SUM, true, 1, ax1, &out));
  CHECK(shape_is(&out, 3, d312));
  float sum1[] = {4, 6, 12, 14, 20, 22};
  check_floats(&out, sum1, 6, 0);
  free_outputs(&out, 1);

  CHECK_OK(reduce_x12(INFER_REDUCE_SUM, true, 1, axm2, &out));
  check_floats(&out, sum1, 6, 0);
  free_outputs(&out, 1);

  CHECK_OK(reduce_x12(INFER_REDUCE_MEAN, false, 1, ax2, &out));
  CHECK(shape_is(&out, 2, d32));
  float mean2[] = {1.5f, 3.5f, 5.5f, 7.5f, 9.5f, 11.5f};
  check_floats(&out, mean2, 6, 1e-6);
  free_outputs(&out, 1);

  /* No axes input: all axes */
  CHECK_OK(reduce_x12(INFER_REDUCE_SUM, true, -1, NULL, &out));
  CHECK(shape_is(&out, 3, d111));
  float all[] = {78};
  check_floats(&out, all, 1, 0);
  free_outputs(&out, 1);
  /* Empty axes input without noop: all axes, rank 0 without keepdims */
  CHECK_OK(reduce_x12(INFER_REDUCE_MAX, false, 0, NULL, &out));
  CHECK(out.shape.rank == 0);
  float max_all[] = {12};
  check_floats(&out, max_all, 1, 0);
  free_outputs(&out, 1);

  CHECK_OK(reduce_x12(INFER_REDUCE_PROD, false, 1, ax0, &out));
  float prod0[] = {45, 120, 231, 384};
  check_floats(&out, prod0, 4, 0);
  free_outputs(&out, 1);

  CHECK_OK(reduce_x12(INFER_REDUCE_MIN, false, 1, ax1, &out));
  float min1[] = {1, 2, 5, 6, 9, 10};
  check_floats(&out, min1, 6, 0);
  free_outputs(&out, 1);

  /* noop_with_empty_axes makes an empty axes list an identity */
  float x[] = {1, 2, 3, 4};
  int64_t d22[] = {2, 2}, d0[] = {0};
  int64_t none[1] = {0};
  InferTensorView in[2] = {test_view(INFER_DTYPE_F32, 2, d22, x),
                           test_view(INFER_DTYPE_I64, 1, d0, none)};
  InferOpParams p = reduce_params(INFER_REDUCE_SUM, true, true);
  CHECK_OK(test_run_op(INFER_OP_REDUCE, &p, 2, in, 1, &out));
  CHECK(shape_is(&out, 2, d22));
  check_floats(&out, x, 4, 0);
  free_outputs(&out, 1);

  /* The norms and logs on a vector */
  float v[] = {-1, 2, -3};
  int64_t d3[] = {3};
  InferTensorView vin = test_view(INFER_DTYPE_F32, 1, d3, v);
  struct {
    InferReduceKind kind;
    double want;
  } cases[] = {{INFER_REDUCE_L1, 6},          {INFER_REDUCE_L2, 3.74165739},
               {INFER_REDUCE_SUM_SQUARE, 14}, {INFER_REDUCE_SUM, -2},
               {INFER_REDUCE_MEAN, -2.0 / 3}, {INFER_REDUCE_LOG_SUM_EXP, 2.05498524}};
  for (int i = 0; i < N_OF(cases); i++) {
    p = reduce_params(cases[i].kind, false, false);
    CHECK_OK(test_run_op(INFER_OP_REDUCE, &p, 1, &vin, 1, &out));
    if (out.data) CHECK_NEAR(((float *)out.data)[0], cases[i].want, 1e-5);
    free_outputs(&out, 1);
  }
  float pos[] = {1, 2, 3};
  vin.data = pos;
  p = reduce_params(INFER_REDUCE_LOG_SUM, false, false);
  CHECK_OK(test_run_op(INFER_OP_REDUCE, &p, 1, &vin, 1, &out));
  if (out.data) CHECK_NEAR(((float *)out.data)[0], 1.79175947, 1e-6); /* log 6 */
  free_outputs(&out, 1);
  /* log-sum-exp of large values does not overflow: 1000 + log 2 */
  float big[] = {1000, 1000};
  int64_t d2[] = {2};
  vin = test_view(INFER_DTYPE_F32, 1, d2, big);
  p = reduce_params(INFER_REDUCE_LOG_SUM_EXP, false, false);
  CHECK_OK(test_run_op(INFER_OP_REDUCE, &p, 1, &vin, 1, &out));
  if (out.data) CHECK_NEAR(((float *)out.data)[0], 1000.693147, 1e-3);
  free_outputs(&out, 1);
}

static void test_reduce_int_and_edges(void) {
  InferTensorView out;
  /* i64 max is exact beyond 2^53 */
  int64_t big[] = {((int64_t)1 << 62) + 1, (int64_t)1 << 62, -5};
  int64_t d3[] = {3};
  InferTensorView in = test_view(INFER_DTYPE_I64, 1, d3, big);
  InferOpParams p = reduce_params(INFER_REDUCE_MAX, false, false);
  CHECK_OK(test_run_op(INFER_OP_REDUCE, &p, 1, &in, 1, &out));
  if (out.data) CHECK(((int64_t *)out.data)[0] == ((int64_t)1 << 62) + 1);
  free_outputs(&out, 1);

  int32_t xi[] = {1, -2, 3, 4, 5, 6};
  int64_t d23[] = {2, 3}, ax1[] = {1}, d1[] = {1};
  InferTensorView in2[2] = {test_view(INFER_DTYPE_I32, 2, d23, xi),
                            test_view(INFER_DTYPE_I64, 1, d1, ax1)};
  p = reduce_params(INFER_REDUCE_SUM, false, false);
  CHECK_OK(test_run_op(INFER_OP_REDUCE, &p, 2, in2, 1, &out));
  CHECK(out.dtype == INFER_DTYPE_I32);
  if (out.data) CHECK(((int32_t *)out.data)[0] == 2 && ((int32_t *)out.data)[1] == 15);
  free_outputs(&out, 1);
  p = reduce_params(INFER_REDUCE_L1, false, false);
  CHECK_OK(test_run_op(INFER_OP_REDUCE, &p, 2, in2, 1, &out));
  if (out.data) CHECK(((int32_t *)out.data)[0] == 6);
  free_outputs(&out, 1);

  /* Integer means are rejected, as are bools */
  p = reduce_params(INFER_REDUCE_MEAN, false, false);
  CHECK_FAILS(test_run_op(INFER_OP_REDUCE, &p, 2, in2, 1, &out), INFER_ERR_UNSUPPORTED, NULL);
  uint8_t b[] = {1, 0, 1, 1, 0, 0};
  in2[0] = test_view(INFER_DTYPE_BOOL, 2, d23, b);
  p = reduce_params(INFER_REDUCE_MAX, false, false);
  CHECK_FAILS(test_run_op(INFER_OP_REDUCE, &p, 2, in2, 1, &out), INFER_ERR_UNSUPPORTED, NULL);

  /* Empty reductions give the identity of each operation */
  int64_t d20[] = {2, 0};
  float dummy[1] = {0};
  InferTensorView e[2] = {test_view(INFER_DTYPE_F32, 2, d20, dummy),
                          test_view(INFER_DTYPE_I64, 1, d1, ax1)};
  struct {
    InferReduceKind kind;
    float want;
  } cases[] = {{INFER_REDUCE_SUM, 0}, {INFER_REDUCE_PROD, 1}, {INFER_REDUCE_MAX, -INFINITY},
               {INFER_REDUCE_MIN, INFINITY}, {INFER_REDUCE_L2, 0},
               {INFER_REDUCE_LOG_SUM_EXP, -INFINITY}};
  for (int i = 0; i < N_OF(cases); i++) {
    p = reduce_params(cases[i].kind, true, false);
    CHECK_OK(test_run_op(INFER_OP_REDUCE, &p, 2, e, 1, &out));
    CHECK(out.shape.rank == 2 && out.shape.d[0] == 2 && out.shape.d[1] == 1);
    if (out.data) CHECK(((float *)out.data)[0] == cases[i].want);
    if (out.data) CHECK(((float *)out.data)[1] == cases[i].want);
    free_outputs(&out, 1);
  }
  int32_t idummy[1] = {0};
  e[0] = test_view(INFER_DTYPE_I32, 2, d20, idummy);
  p = reduce_params(INFER_REDUCE_MAX, false, false);
  CHECK_OK(test_run_op(INFER_OP_REDUCE, &p, 2, e, 1, &out));
  if (out.data) CHECK(((int32_t *)out.data)[0] == INT32_MIN);
  free_outputs(&out, 1);

  /* Repeated or out-of-range axes are errors */
  float x6[6] = {0};
  int64_t rep[] = {0, -2}, d2[] = {2}, far[] = {2};
  InferTensorView r[2] = {test_view(INFER_DTYPE_F32, 2, d23, x6),
                          test_view(INFER_DTYPE_I64, 1, d2, rep)};
  p = reduce_params(INFER_REDUCE_SUM, false, false);
  CHECK_FAILS(test_run_op(INFER_OP_REDUCE, &p, 2, r, 1, &out), INFER_ERR_INVALID_ARGUMENT,
              NULL);
  r[1] = test_view(INFER_DTYPE_I64, 1, d1, far);
  CHECK_FAILS(test_run_op(INFER_OP_REDUCE, &p, 2, r, 1, &out), INFER_ERR_INVALID_ARGUMENT,
              NULL);

  /* Shape inference: unknown dims propagate; unknown axes values are reported */
  int64_t dyn[] = {-1, 3, 4};
  InferTensorView s[2] = {test_view(INFER_DTYPE_F32, 3, dyn, NULL),
                          test_view(INFER_DTYPE_I64, 1, d1, ax1)};
  InferTensorView so;
  memset(&so, 0, sizeof so);
  InferOpCall call = {INFER_OP_REDUCE, "r", &p, s, 2, &so, 1, 0};
  CHECK_OK(infer_shape_reduce(&call));
  int64_t want[] = {-1, 4};
  CHECK(shape_is(&so, 2, want));
  s[1].data = NULL;
  CHECK_FAILS(infer_shape_reduce(&call), INFER_ERR_UNSUPPORTED, NULL);
}

/* ---- argmax ------------------------------------------------------------- */

static InferOpParams arg_params(int64_t axis, bool keepdims, bool last, bool is_min) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.argmax.axis = axis;
  p.argmax.keepdims = keepdims;
  p.argmax.select_last_index = last;
  p.argmax.is_min = is_min;
  return p;
}

static void test_argmax(void) {
  float x[] = {2, 1, 3, 10};
  int64_t d22[] = {2, 2}, d12[] = {1, 2}, d21[] = {2, 1}, d2[] = {2};
  InferTensorView in = test_view(INFER_DTYPE_F32, 2, d22, x), out;
  InferOpParams p = arg_params(0, true, false, false);
  CHECK_OK(test_run_op(INFER_OP_ARGMAX, &p, 1, &in, 1, &out));
  CHECK(shape_is(&out, 2, d12));
  int64_t w0[] = {1, 1};
  check_ints(&out, w0, 2);
  free_outputs(&out, 1);

  p = arg_params(-1, true, false, false);
  CHECK_OK(test_run_op(INFER_OP_ARGMAX, &p, 1, &in, 1, &out));
  CHECK(shape_is(&out, 2, d21));
  int64_t w1[] = {0, 1};
  check_ints(&out, w1, 2);
  free_outputs(&out, 1);

  p = arg_params(1, false, false, true);
  CHECK_OK(test_run_op(INFER_OP_ARGMAX, &p, 1, &in, 1, &out));
  CHECK(shape_is(&out, 1, d2));
  int64_t w2[] = {1, 0};
  check_ints(&out, w2, 2);
  free_outputs(&out, 1);

  /* Ties: first index, or last with select_last_index */
  float t[] = {2, 2, 3, 10};
  in.data = t;
  p = arg_params(1, false, false, false);
  CHECK_OK(test_run_op(INFER_OP_ARGMAX, &p, 1, &in, 1, &out));
  int64_t w3[] = {0, 1};
  check_ints(&out, w3, 2);
  free_outputs(&out, 1);
  p = arg_params(1, false, true, false);
  CHECK_OK(test_run_op(INFER_OP_ARGMAX, &p, 1, &in, 1, &out));
  int64_t w4[] = {1, 1};
  check_ints(&out, w4, 2);
  free_outputs(&out, 1);
  p = arg_params(1, false, true, true);
  CHECK_OK(test_run_op(INFER_OP_ARGMAX, &p, 1, &in, 1, &out));
  int64_t w5[] = {1, 0};
  check_ints(&out, w5, 2);
  free_outputs(&out, 1);

  /* NaN wins for both argmax and argmin, as in numpy */
  float nan_x[] = {1, NAN, 3};
  int64_t d3[] = {3};
  in = test_view(INFER_DTYPE_F32, 1, d3, nan_x);
  for (int is_min = 0; is_min < 2; is_min++) {
    p = arg_params(0, false, false, is_min);
    CHECK_OK(test_run_op(INFER_OP_ARGMAX, &p, 1, &in, 1, &out));
    CHECK(out.shape.rank == 0);
    int64_t w6[] = {1};
    check_ints(&out, w6, 1);
    free_outputs(&out, 1);
  }

  /* i64 compares exactly */
  int64_t xi[] = {((int64_t)1 << 60) + 1, ((int64_t)1 << 60) + 2, (int64_t)1 << 60};
  in = test_view(INFER_DTYPE_I64, 1, d3, xi);
  p = arg_params(0, true, false, true);
  CHECK_OK(test_run_op(INFER_OP_ARGMAX, &p, 1, &in, 1, &out));
  int64_t w7[] = {2};
  check_ints(&out, w7, 1);
  free_outputs(&out, 1);

  /* An empty axis has no argmax; bool is unsupported */
  int64_t d30[] = {3, 0};
  in = test_view(INFER_DTYPE_F32, 2, d30, x);
  p = arg_params(1, true, false, false);
  CHECK_FAILS(test_run_op(INFER_OP_ARGMAX, &p, 1, &in, 1, &out), INFER_ERR_INVALID_ARGUMENT,
              NULL);
  uint8_t b[] = {0, 1, 1};
  in = test_view(INFER_DTYPE_BOOL, 1, d3, b);
  p = arg_params(0, true, false, false);
  CHECK_FAILS(test_run_op(INFER_OP_ARGMAX, &p, 1, &in, 1, &out), INFER_ERR_UNSUPPORTED, NULL);
}

/* ---- topk --------------------------------------------------------------- */

static InferStatus *run_topk(InferTensorView x, int64_t k, int64_t axis, bool largest,
                             InferTensorView *out) {
  static int64_t kv;
  kv = k;
  int64_t d1[] = {1};
  InferTensorView in[2] = {x, test_view(INFER_DTYPE_I64, 1, d1, &kv)};
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.topk.axis = axis;
  p.topk.largest = largest;
  p.topk.sorted = true;
  return test_run_op(INFER_OP_TOPK, &p, 2, in, 2, out);
}

static void test_topk(void) {
  float x[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  int64_t d34[] = {3, 4}, d33[] = {3, 3};
  InferTensorView out[2];
  CHECK_OK(run_topk(test_view(INFER_DTYPE_F32, 2, d34, x), 3, 1, true, out));
  CHECK(shape_is(&out[0], 2, d33) && shape_is(&out[1], 2, d33));
  float wv[] = {3, 2, 1, 7, 6, 5, 11, 10, 9};
  int64_t wi[] = {3, 2, 1, 3, 2, 1, 3, 2, 1};
  check_floats(&out[0], wv, 9, 0);
  check_ints(&out[1], wi, 9);
  free_outputs(out, 2);

  CHECK_OK(run_topk(test_view(INFER_DTYPE_F32, 2, d34, x), 3, -1, false, out));
  float sv[] = {0, 1, 2, 4, 5, 6, 8, 9, 10};
  int64_t si[] = {0, 1, 2, 0, 1, 2, 0, 1, 2};
  check_floats(&out[0], sv, 9, 0);
  check_ints(&out[1], si, 9);
  free_outputs(out, 2);

  /* axis 0: [3,4] -> top 2 rows per column */
  CHECK_OK(run_topk(test_view(INFER_DTYPE_F32, 2, d34, x), 2, 0, true, out));
  float av[] = {8, 9, 10, 11, 4, 5, 6, 7};
  int64_t ai[] = {2, 2, 2, 2, 1, 1, 1, 1};
  check_floats(&out[0], av, 8, 0);
  check_ints(&out[1], ai, 8);
  free_outputs(out, 2);

  /* Ties keep the lower index first, largest or smallest */
  float t[] = {1, 3, 3, 2};
  int64_t d4[] = {4};
  CHECK_OK(run_topk(test_view(INFER_DTYPE_F32, 1, d4, t), 2, 0, true, out));
  int64_t ti[] = {1, 2};
  check_ints(&out[1], ti, 2);
  free_outputs(out, 2);
  float t2[] = {2, 1, 1, 3};
  CHECK_OK(run_topk(test_view(INFER_DTYPE_F32, 1, d4, t2), 3, 0, false, out));
  int64_t ti2[] = {1, 2, 0};
  check_ints(&out[1], ti2, 3);
  free_outputs(out, 2);

  /* i64 values are copied exactly */
  int64_t xi[] = {5, ((int64_t)1 << 61) + 1, -7, (int64_t)1 << 61};
  CHECK_OK(run_topk(test_view(INFER_DTYPE_I64, 1, d4, xi), 2, 0, true, out));
  if (out[0].data) {
    CHECK(((int64_t *)out[0].data)[0] == ((int64_t)1 << 61) + 1);
    CHECK(((int64_t *)out[0].data)[1] == (int64_t)1 << 61);
  }
  free_outputs(out, 2);

  /* k = 0 gives empty outputs; k beyond the axis is an error */
  CHECK_OK(run_topk(test_view(INFER_DTYPE_F32, 1, d4, t), 0, 0, true, out));
  CHECK(out[0].shape.d[0] == 0);
  free_outputs(out, 2);
  CHECK_FAILS(run_topk(test_view(INFER_DTYPE_F32, 1, d4, t), 5, 0, true, out),
              INFER_ERR_INVALID_ARGUMENT, NULL);
}

/* ---- cumsum ------------------------------------------------------------- */

static InferStatus *run_cumsum(InferTensorView x, int64_t axis, bool exclusive, bool reverse,
                               InferTensorView *out) {
  static int32_t av;
  av = (int32_t)axis;
  InferTensorView in[2] = {x, test_view(INFER_DTYPE_I32, 0, NULL, &av)};
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.cumsum.exclusive = exclusive;
  p.cumsum.reverse = reverse;
  return test_run_op(INFER_OP_CUMSUM, &p, 2, in, 1, out);
}

static void test_cumsum(void) {
  float x[] = {1, 2, 3, 4, 5};
  int64_t d5[] = {5};
  InferTensorView out;
  float want[4][5] = {{1, 3, 6, 10, 15}, {0, 1, 3, 6, 10}, {15, 14, 12, 9, 5}, {14, 12, 9, 5, 0}};
  for (int mode = 0; mode < 4; mode++) {
    bool exclusive = mode == 1 || mode == 3, reverse = mode >= 2;
    CHECK_OK(run_cumsum(test_view(INFER_DTYPE_F32, 1, d5, x), 0, exclusive, reverse, &out));
    check_floats(&out, want[mode], 5, 0);
    free_outputs(&out, 1);
  }
  float m[] = {1, 2, 3, 4, 5, 6};
  int64_t d23[] = {2, 3};
  CHECK_OK(run_cumsum(test_view(INFER_DTYPE_F32, 2, d23, m), 0, false, false, &out));
  float w0[] = {1, 2, 3, 5, 7, 9};
  check_floats(&out, w0, 6, 0);
  free_outputs(&out, 1);
  CHECK_OK(run_cumsum(test_view(INFER_DTYPE_F32, 2, d23, m), -1, false, false, &out));
  float w1[] = {1, 3, 6, 4, 9, 15};
  check_floats(&out, w1, 6, 0);
  free_outputs(&out, 1);

  int32_t xi[] = {INT32_MAX, 1, 5};
  int64_t d3[] = {3};
  CHECK_OK(run_cumsum(test_view(INFER_DTYPE_I32, 1, d3, xi), 0, false, true, &out));
  if (out.data) {
    int32_t *y = out.data;
    CHECK(y[2] == 5 && y[1] == 6 && y[0] == INT32_MIN + 5); /* wraps like numpy */
  }
  free_outputs(&out, 1);

  int64_t d0[] = {0};
  CHECK_OK(run_cumsum(test_view(INFER_DTYPE_F32, 1, d0, NULL), 0, false, false, &out));
  free_outputs(&out, 1);
  CHECK_FAILS(run_cumsum(test_view(INFER_DTYPE_F32, 1, d5, x), 1, false, false, &out),
              INFER_ERR_INVALID_ARGUMENT, NULL);
  uint8_t b[] = {1, 0, 1, 1, 1};
  CHECK_FAILS(run_cumsum(test_view(INFER_DTYPE_BOOL, 1, d5, b), 0, false, false, &out),
              INFER_ERR_UNSUPPORTED, NULL);
}

/* ---- nms ---------------------------------------------------------------- */

/* Six unit boxes: 0-2 overlap heavily, 3-4 overlap heavily, 5 stands alone. */
static float nms_boxes[] = {0, 0,    1, 1,    0, 0.1f,  1, 1.1f,  0, -0.1f, 1, 0.9f,
                            0, 10,   1, 11,   0, 10.1f, 1, 11.1f, 0, 100,   1, 101};
static float nms_centers[] = {0.5f, 0.5f,  1, 1, 0.6f,  0.5f,   1, 1, 0.4f,   0.5f,  1, 1,
                              10.5f, 0.5f, 1, 1, 10.6f, 0.5f,   1, 1, 100.5f, 0.5f,  1, 1};

static InferStatus *run_nms(float *boxes, float *scores, int64_t classes, int64_t max_out,
                            float score_thr, bool center, InferTensorView *out) {
  static int64_t mo;
  static float iou = 0.5f, sthr;
  mo = max_out;
  sthr = score_thr;
  int64_t db[] = {1, 6, 4}, ds[] = {1, classes, 6}, d1[] = {1};
  InferTensorView in[5] = {test_view(INFER_DTYPE_F32, 3, db, boxes),
                           test_view(INFER_DTYPE_F32, 3, ds, scores),
                           test_view(INFER_DTYPE_I64, 1, d1, &mo),
                           test_view(INFER_DTYPE_F32, 1, d1, &iou),
                           test_view(INFER_DTYPE_F32, 0, NULL, &sthr)};
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.nms.center_point_box = center;
  return test_run_op(INFER_OP_NMS, &p, max_out >= 0 ? 5 : 2, in, 1, out);
}

static void test_nms(void) {
  float scores[] = {0.9f, 0.75f, 0.6f, 0.95f, 0.5f, 0.3f};
  InferTensorView out;
  CHECK_OK(run_nms(nms_boxes, scores, 1, 3, 0.0f, false, &out));
  int64_t w[] = {0, 0, 3, 0, 0, 0, 0, 0, 5};
  CHECK(out.shape.rank == 2 && out.shape.d[1] == 3);
  check_ints(&out, w, 9);
  free_outputs(&out, 1);

  CHECK_OK(run_nms(nms_centers, scores, 1, 3, 0.0f, true, &out));
  check_ints(&out, w, 9);
  free_outputs(&out, 1);

  /* score threshold drops box 5 (0.3 < 0.4); the output shrinks to 2 rows */
  CHECK_OK(run_nms(nms_boxes, scores, 1, 3, 0.4f, false, &out));
  check_ints(&out, w, 6);
  free_outputs(&out, 1);

  /* max 2 per class, two classes (the second prefers box 5 then box 1) */
  float scores2[] = {0.9f, 0.75f, 0.6f, 0.95f, 0.5f, 0.3f, 0.1f, 0.8f, 0.2f, 0.05f, 0.3f, 0.9f};
  CHECK_OK(run_nms(nms_boxes, scores2, 2, 2, 0.0f, false, &out));
  int64_t w2[] = {0, 0, 3, 0, 0, 0, 0, 1, 5, 0, 1, 1};
  check_ints(&out, w2, 12);
  free_outputs(&out, 1);

  /* No max_output_boxes_per_class: nothing is selected */
  CHECK_OK(run_nms(nms_boxes, scores, 1, -1, 0.0f, false, &out));
  CHECK(out.shape.d[0] == 0);
  free_outputs(&out, 1);

  /* Shape inference gives the upper bound B*C*min(N, max) */
  int64_t db[] = {2, 6, 4}, ds[] = {2, 3, 6}, d1[] = {1}, mo = 10;
  InferTensorView in[3] = {test_view(INFER_DTYPE_F32, 3, db, NULL),
                           test_view(INFER_DTYPE_F32, 3, ds, NULL),
                           test_view(INFER_DTYPE_I64, 1, d1, &mo)};
  InferTensorView so;
  memset(&so, 0, sizeof so);
  InferOpParams p;
  memset(&p, 0, sizeof p);
  InferOpCall call = {INFER_OP_NMS, "n", &p, in, 3, &so, 1, 0};
  CHECK_OK(infer_shape_nms(&call));
  CHECK(so.dtype == INFER_DTYPE_I64 && so.shape.d[0] == 36 && so.shape.d[1] == 3);
  ds[2] = 5;
  in[1] = test_view(INFER_DTYPE_F32, 3, ds, NULL);
  CHECK_FAILS(infer_shape_nms(&call), INFER_ERR_INVALID_ARGUMENT, NULL);
}

int main(void) {
  test_softmax();
  test_reduce_float();
  test_reduce_int_and_edges();
  test_argmax();
  test_topk();
  test_cumsum();
  test_nms();
  TEST_MAIN_END("reduce");
}
