/* Unit tests for the elementwise family: unary, binary, where, cast (shape
 * functions and CPU kernels). Expected values were computed by hand or with
 * a calculator, not with the code under test. */
#include <string.h>

#include "cpu_kernels.h"
#include "op_runner.h"
#include "test_util.h"

static InferOpParams unary(InferUnaryKind k, float alpha, float beta) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.unary.kind = k;
  p.unary.alpha = alpha;
  p.unary.beta = beta;
  return p;
}

static InferOpParams binary(InferBinaryKind k) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.binary.kind = k;
  return p;
}

static InferOpParams cast_to(InferDType t) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.cast.to = t;
  return p;
}

/* Runs a unary kind on f32 values and compares with expected values. */
static void check_unary_f32(InferUnaryKind k, float alpha, float beta, int n, const float *x,
                            const float *expected) {
  InferOpParams p = unary(k, alpha, beta);
  int64_t dims[1] = {n};
  InferTensorView in = test_view(INFER_DTYPE_F32, 1, dims, (void *)x), out;
  InferStatus *st = test_run_op(INFER_OP_UNARY, &p, 1, &in, 1, &out);
  CHECK_OK(st);
  if (st) return;
  CHECK(out.dtype == INFER_DTYPE_F32 && out.shape.rank == 1 && out.shape.d[0] == n);
  for (int i = 0; i < n; i++) {
    const float *y = out.data;
    if (isnan(expected[i]))
      CHECK(isnan(y[i]));
    else
      CHECK_NEAR(y[i], expected[i], 1e-5 + 1e-5 * fabs(expected[i]));
  }
  free(out.data);
}

static void test_unary_activations(void) {
  const float x[] = {-2.0f, -0.5f, 0.0f, 1.0f, 3.0f};
  check_unary_f32(INFER_UNARY_RELU, 0, 0, 5, x, (const float[]){0, 0, 0, 1, 3});
  check_unary_f32(INFER_UNARY_LEAKY_RELU, 0.1f, 0, 5, x, (const float[]){-0.2f, -0.05f, 0, 1, 3});
  check_unary_f32(INFER_UNARY_CLIP, -1.0f, 2.0f, 5, x, (const float[]){-1, -0.5f, 0, 1, 2});
  /* min > max: everything becomes max */
  check_unary_f32(INFER_UNARY_CLIP, 1.0f, -1.0f, 5, x, (const float[]){-1, -1, -1, -1, -1});
  check_unary_f32(INFER_UNARY_SIGMOID, 0, 0, 5, x,
                  (const float[]){0.11920292f, 0.37754067f, 0.5f, 0.73105858f, 0.95257413f});
  check_unary_f32(INFER_UNARY_HARD_SIGMOID, 0.2f, 0.5f, 5, x,
                  (const float[]){0.1f, 0.4f, 0.5f, 0.7f, 1.0f});
  check_unary_f32(INFER_UNARY_HARD_SWISH, 0, 0, 5, x,
                  (const float[]){-0.33333333f, -0.20833333f, 0, 0.66666667f, 3.0f});
  check_unary_f32(INFER_UNARY_TANH, 0, 0, 5, x,
                  (const float[]){-0.96402758f, -0.46211716f, 0, 0.76159416f, 0.99505475f});
  check_unary_f32(INFER_UNARY_GELU, 0, 0, 5, x,
                  (const float[]){-0.04550026f, -0.15426877f, 0, 0.84134475f, 2.99595031f});
  check_unary_f32(INFER_UNARY_GELU, 1, 0, 5, x,
                  (const float[]){-0.04540231f, -0.15428599f, 0, 0.84119199f, 2.99636261f});
  check_unary_f32(INFER_UNARY_SILU, 0, 0, 5, x,
                  (const float[]){-0.23840584f, -0.18877033f, 0, 0.73105858f, 2.85772238f});
  check_unary_f32(INFER_UNARY_MISH, 0, 0, 5, x,
                  (const float[]){-0.25250148f, -0.22074377f, 0, 0.86509839f, 2.98653500f});
  check_unary_f32(INFER_UNARY_ELU, 1.0f, 0, 5, x,
                  (const float[]){-0.86466472f, -0.39346934f, 0, 1, 3});
  check_unary_f32(INFER_UNARY_SELU, 2.0f, 3.0f, 5, x,
                  (const float[]){-5.18798830f, -2.36081606f, 0, 3, 9});
  check_unary_f32(INFER_UNARY_CELU, 2.0f, 0, 5, x,
                  (const float[]){-1.26424112f, -0.44239843f, 0, 1, 3});
  check_unary_f32(INFER_UNARY_SOFTPLUS, 0, 0, 5, x,
                  (const float[]){0.12692801f, 0.47407698f, 0.69314718f, 1.31326169f, 3.04858735f});
  check_unary_f32(INFER_UNARY_SOFTSIGN, 0, 0, 5, x,
                  (const float[]){-0.66666667f, -0.33333333f, 0, 0.5f, 0.75f});
  check_unary_f32(INFER_UNARY_THRESHOLDED_RELU, 1.0f, 0, 5, x, (const float[]){0, 0, 0, 0, 3});
  /* shrink: bias 0.5, lambd 0.75 */
  check_unary_f32(INFER_UNARY_SHRINK, 0.5f, 0.75f, 5, x, (const float[]){-1.5f, 0, 0, 0.5f, 2.5f});
}

static void test_unary_math(void) {
  const float x[] = {0.25f, 0.5f, 1.0f, 4.0f};
  check_unary_f32(INFER_UNARY_EXP, 0, 0, 4, x,
                  (const float[]){1.28402542f, 1.64872127f, 2.71828183f, 54.59815003f});
  check_unary_f32(INFER_UNARY_LOG, 0, 0, 4, x,
                  (const float[]){-1.38629436f, -0.69314718f, 0, 1.38629436f});
  check_unary_f32(INFER_UNARY_SQRT, 0, 0, 4, x, (const float[]){0.5f, 0.70710678f, 1, 2});
  check_unary_f32(INFER_UNARY_RECIPROCAL, 0, 0, 4, x, (const float[]){4, 2, 1, 0.25f});
  check_unary_f32(INFER_UNARY_ERF, 0, 0, 4, x,
                  (const float[]){0.27632639f, 0.52049988f, 0.84270079f, 0.99999998f});
  check_unary_f32(INFER_UNARY_SIN, 0, 0, 4, x,
                  (const float[]){0.24740396f, 0.47942554f, 0.84147098f, -0.75680250f});
  check_unary_f32(INFER_UNARY_COS, 0, 0, 4, x,
                  (const float[]){0.96891242f, 0.87758256f, 0.54030231f, -0.65364362f});
  check_unary_f32(INFER_UNARY_TAN, 0, 0, 4, x,
                  (const float[]){0.25534192f, 0.54630249f, 1.55740772f, 1.15782128f});
  check_unary_f32(INFER_UNARY_ASIN, 0, 0, 3, x, (const float[]){0.25268026f, 0.52359878f, 1.57079633f});
  check_unary_f32(INFER_UNARY_ACOS, 0, 0, 3, x, (const float[]){1.31811607f, 1.04719755f, 0});
  check_unary_f32(INFER_UNARY_ATAN, 0, 0, 4, x,
                  (const float[]){0.24497866f, 0.46364761f, 0.78539816f, 1.32581766f});
  check_unary_f32(INFER_UNARY_SINH, 0, 0, 4, x,
                  (const float[]){0.25261232f, 0.52109531f, 1.17520119f, 27.28991720f});
  check_unary_f32(INFER_UNARY_COSH, 0, 0, 4, x,
                  (const float[]){1.03141310f, 1.12762597f, 1.54308063f, 27.30823284f});
  check_unary_f32(INFER_UNARY_ASINH, 0, 0, 4, x,
                  (const float[]){0.24746646f, 0.48121183f, 0.88137359f, 2.09471255f});
  check_unary_f32(INFER_UNARY_ACOSH, 0, 0, 4, x,
                  (const float[]){NAN, NAN, 0, 2.06343707f});
  check_unary_f32(INFER_UNARY_ATANH, 0, 0, 2, x, (const float[]){0.25541281f, 0.54930614f});

  const float r[] = {-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f, 2.6f, -2.7f};
  check_unary_f32(INFER_UNARY_ROUND, 0, 0, 8, r, (const float[]){-2, -2, 0, 0, 2, 2, 3, -3});
  check_unary_f32(INFER_UNARY_FLOOR, 0, 0, 8, r, (const float[]){-3, -2, -1, 0, 1, 2, 2, -3});
  check_unary_f32(INFER_UNARY_CEIL, 0, 0, 8, r, (const float[]){-2, -1, 0, 1, 2, 3, 3, -2});
  check_unary_f32(INFER_UNARY_SIGN, 0, 0, 4, (const float[]){-3, 0, 2, NAN},
                  (const float[]){-1, 0, 1, NAN});
  check_unary_f32(INFER_UNARY_NEG, 0, 0, 2, (const float[]){-3, 2}, (const float[]){3, -2});
  check_unary_f32(INFER_UNARY_ABS, 0, 0, 2, (const float[]){-3, 2}, (const float[]){3, 2});
  check_unary_f32(INFER_UNARY_NONE, 0, 0, 2, (const float[]){-3, 2}, (const float[]){-3, 2});
}

static void test_unary_bool_results(void) {
  float x[] = {INFINITY, -INFINITY, 1.0f, NAN};
  int64_t dims[1] = {4};
  InferTensorView in = test_view(INFER_DTYPE_F32, 1, dims, x), out;
  const uint8_t expect_nan[] = {0, 0, 0, 1}, expect_inf[] = {1, 1, 0, 0},
                expect_pos[] = {1, 0, 0, 0}, expect_neg[] = {0, 1, 0, 0};
  struct { InferUnaryKind k; float a, b; const uint8_t *e; } cases[] = {
    {INFER_UNARY_IS_NAN, 0, 0, expect_nan}, {INFER_UNARY_IS_INF, 1, 1, expect_inf},
    {INFER_UNARY_IS_INF, 1, 0, expect_pos}, {INFER_UNARY_IS_INF, 0, 1, expect_neg},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    InferOpParams p = unary(cases[c].k, cases[c].a, cases[c].b);
    CHECK_OK(test_run_op(INFER_OP_UNARY, &p, 1, &in, 1, &out));
    CHECK(out.dtype == INFER_DTYPE_BOOL);
    CHECK(memcmp(out.data, cases[c].e, 4) == 0);
    free(out.data);
  }
  uint8_t b[] = {1, 0, 1};
  int64_t d3[1] = {3};
  InferTensorView bin = test_view(INFER_DTYPE_BOOL, 1, d3, b);
  InferOpParams p = unary(INFER_UNARY_NOT, 0, 0);
  CHECK_OK(test_run_op(INFER_OP_UNARY, &p, 1, &bin, 1, &out));
  CHECK(out.dtype == INFER_DTYPE_BOOL && memcmp(out.data, (uint8_t[]){0, 1, 0}, 3) == 0);
  free(out.data);
  /* NOT on floats is not a valid op */
  char msg[256];
  CHECK_FAILS(test_run_op(INFER_OP_UNARY, &p, 1, &in, 1, &out), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK(strstr(msg, "test") != NULL);
}

static void test_unary_ints(void) {
  int32_t x[] = {-7, 0, 5, 300};
  int64_t dims[1] = {4};
  InferTensorView in = test_view(INFER_DTYPE_I32, 1, dims, x), out;
  struct { InferUnaryKind k; float a, b; int32_t e[4]; } cases[] = {
    {INFER_UNARY_ABS, 0, 0, {7, 0, 5, 300}},  {INFER_UNARY_NEG, 0, 0, {7, 0, -5, -300}},
    {INFER_UNARY_SIGN, 0, 0, {-1, 0, 1, 1}},  {INFER_UNARY_RELU, 0, 0, {0, 0, 5, 300}},
    {INFER_UNARY_CLIP, -2.5f, 100.0f, {-2, 0, 5, 100}},
    {INFER_UNARY_CLIP, -INFINITY, INFINITY, {-7, 0, 5, 300}},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    InferOpParams p = unary(cases[c].k, cases[c].a, cases[c].b);
    CHECK_OK(test_run_op(INFER_OP_UNARY, &p, 1, &in, 1, &out));
    CHECK(out.dtype == INFER_DTYPE_I32 && memcmp(out.data, cases[c].e, sizeof x) == 0);
    free(out.data);
  }
  int64_t big[] = {INT64_MIN + 1, -1};
  int64_t d2[1] = {2};
  InferTensorView in64 = test_view(INFER_DTYPE_I64, 1, d2, big);
  InferOpParams p = unary(INFER_UNARY_ABS, 0, 0);
  CHECK_OK(test_run_op(INFER_OP_UNARY, &p, 1, &in64, 1, &out));
  CHECK(((int64_t *)out.data)[0] == INT64_MAX && ((int64_t *)out.data)[1] == 1);
  free(out.data);
  /* transcendental functions on integers are rejected by the CPU backend */
  p = unary(INFER_UNARY_EXP, 0, 0);
  CHECK_FAILS(test_run_op(INFER_OP_UNARY, &p, 1, &in, 1, &out), INFER_ERR_UNSUPPORTED, NULL);
  uint8_t u[] = {1};
  int64_t d1[1] = {1};
  InferTensorView inu = test_view(INFER_DTYPE_U8, 1, d1, u);
  p = unary(INFER_UNARY_NEG, 0, 0);
  CHECK_FAILS(test_run_op(INFER_OP_UNARY, &p, 1, &inu, 1, &out), INFER_ERR_UNSUPPORTED, NULL);
}

static void test_activation_function(void) {
  InferActivation none = {INFER_UNARY_NONE, 0, 0}, relu = {INFER_UNARY_RELU, 0, 0},
                  leaky = {INFER_UNARY_LEAKY_RELU, 0.5f, 0}, clip = {INFER_UNARY_CLIP, 0, 6};
  CHECK(infer_cpu_activation(&none, -3.5f) == -3.5f);
  CHECK(infer_cpu_activation(&relu, -3.5f) == 0.0f);
  CHECK(infer_cpu_activation(&relu, 2.0f) == 2.0f);
  CHECK(infer_cpu_activation(&leaky, -4.0f) == -2.0f);
  CHECK(infer_cpu_activation(&clip, 7.0f) == 6.0f);
  CHECK(infer_cpu_activation(&clip, -1.0f) == 0.0f);
  InferActivation sig = {INFER_UNARY_SIGMOID, 0, 0};
  CHECK_NEAR(infer_cpu_activation(&sig, 0.0f), 0.5, 1e-7);
}

/* ---- binary ----------------------------------------------------------------- */

static void check_binary_f32(InferBinaryKind k, int ra, const int64_t *da, const float *a,
                             int rb, const int64_t *db, const float *b, int n,
                             const float *expected) {
  InferOpParams p = binary(k);
  InferTensorView in[2] = {test_view(INFER_DTYPE_F32, ra, da, (void *)a),
                           test_view(INFER_DTYPE_F32, rb, db, (void *)b)};
  InferTensorView out;
  InferStatus *st = test_run_op(INFER_OP_BINARY, &p, 2, in, 1, &out);
  CHECK_OK(st);
  if (st) return;
  CHECK(infer_shape_numel(&out.shape) == n);
  for (int i = 0; i < n; i++) CHECK_NEAR(((float *)out.data)[i], expected[i], 1e-6);
  free(out.data);
}

static void test_binary_float(void) {
  int64_t d23[2] = {2, 3}, d3[1] = {3}, d21[2] = {2, 1}, d13[2] = {1, 3};
  const float a[] = {1, 2, 3, 4, 5, 6}, b[] = {10, 20, 30};
  check_binary_f32(INFER_BINARY_ADD, 2, d23, a, 1, d3, b, 6,
                   (const float[]){11, 22, 33, 14, 25, 36});
  check_binary_f32(INFER_BINARY_SUB, 1, d3, b, 2, d23, a, 6,
                   (const float[]){9, 18, 27, 6, 15, 24});
  /* [2,1] x [1,3] -> [2,3] */
  check_binary_f32(INFER_BINARY_MUL, 2, d21, (const float[]){2, -1}, 2, d13, b, 6,
                   (const float[]){20, 40, 60, -10, -20, -30});
  check_binary_f32(INFER_BINARY_DIV, 2, d23, a, 1, d3, b, 6,
                   (const float[]){0.1f, 0.1f, 0.1f, 0.4f, 0.25f, 0.2f});
  check_binary_f32(INFER_BINARY_POW, 1, d3, (const float[]){2, -2, 9}, 1, d3,
                   (const float[]){3, 2, 0.5f}, 3, (const float[]){8, 4, 3});
  check_binary_f32(INFER_BINARY_MIN, 1, d3, (const float[]){1, 5, -2}, 1, d3,
                   (const float[]){3, 2, -2}, 3, (const float[]){1, 2, -2});
  check_binary_f32(INFER_BINARY_MAX, 1, d3, (const float[]){1, 5, -2}, 1, d3,
                   (const float[]){3, 2, -2}, 3, (const float[]){3, 5, -2});
  check_binary_f32(INFER_BINARY_MOD, 1, d3, (const float[]){-7, 7, 5.5f}, 1, d3,
                   (const float[]){3, -3, 2}, 3, (const float[]){2, -2, 1.5f});
  check_binary_f32(INFER_BINARY_FMOD, 1, d3, (const float[]){-7, 7, 5.5f}, 1, d3,
                   (const float[]){3, -3, 2}, 3, (const float[]){-1, 1, 1.5f});
  check_binary_f32(INFER_BINARY_PRELU, 2, d23, (const float[]){-1, 2, -3, 4, -5, 6}, 1, d3,
                   (const float[]){0.5f, 0.1f, 2}, 6, (const float[]){-0.5f, 2, -6, 4, -0.5f, 6});
  /* scalar (rank 0) operand */
  check_binary_f32(INFER_BINARY_ADD, 1, d3, b, 0, NULL, (const float[]){1}, 3,
                   (const float[]){11, 21, 31});
}

static void test_binary_compare_logic(void) {
  int64_t d4[1] = {4};
  float a[] = {1, 2, 3, NAN}, b[] = {2, 2, 2, NAN};
  InferTensorView in[2] = {test_view(INFER_DTYPE_F32, 1, d4, a), test_view(INFER_DTYPE_F32, 1, d4, b)};
  struct { InferBinaryKind k; uint8_t e[4]; } cases[] = {
    {INFER_BINARY_EQUAL, {0, 1, 0, 0}},   {INFER_BINARY_GREATER, {0, 0, 1, 0}},
    {INFER_BINARY_GREATER_EQUAL, {0, 1, 1, 0}}, {INFER_BINARY_LESS, {1, 0, 0, 0}},
    {INFER_BINARY_LESS_EQUAL, {1, 1, 0, 0}},
  };
  InferTensorView out;
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    InferOpParams p = binary(cases[c].k);
    CHECK_OK(test_run_op(INFER_OP_BINARY, &p, 2, in, 1, &out));
    CHECK(out.dtype == INFER_DTYPE_BOOL && memcmp(out.data, cases[c].e, 4) == 0);
    free(out.data);
  }
  uint8_t x[] = {0, 0, 1, 1}, y[] = {0, 1, 0, 1};
  InferTensorView lin[2] = {test_view(INFER_DTYPE_BOOL, 1, d4, x), test_view(INFER_DTYPE_BOOL, 1, d4, y)};
  struct { InferBinaryKind k; uint8_t e[4]; } logic[] = {
    {INFER_BINARY_AND, {0, 0, 0, 1}}, {INFER_BINARY_OR, {0, 1, 1, 1}},
    {INFER_BINARY_XOR, {0, 1, 1, 0}}, {INFER_BINARY_EQUAL, {1, 0, 0, 1}},
  };
  for (size_t c = 0; c < sizeof logic / sizeof logic[0]; c++) {
    InferOpParams p = binary(logic[c].k);
    CHECK_OK(test_run_op(INFER_OP_BINARY, &p, 2, lin, 1, &out));
    CHECK(out.dtype == INFER_DTYPE_BOOL && memcmp(out.data, logic[c].e, 4) == 0);
    free(out.data);
  }
  /* And on floats is invalid */
  InferOpParams p = binary(INFER_BINARY_AND);
  CHECK_FAILS(test_run_op(INFER_OP_BINARY, &p, 2, in, 1, &out), INFER_ERR_INVALID_ARGUMENT, NULL);
}

static void test_binary_ints(void) {
  int64_t d6[1] = {6};
  int32_t a[] = {-7, 7, -7, 7, 5, INT32_MIN}, b[] = {2, -2, -2, 2, 0, -1};
  InferTensorView in[2] = {test_view(INFER_DTYPE_I32, 1, d6, a), test_view(INFER_DTYPE_I32, 1, d6, b)};
  struct { InferBinaryKind k; int32_t e[6]; } cases[] = {
    /* truncation toward zero; x/0 gives 0; INT32_MIN / -1 wraps */
    {INFER_BINARY_DIV, {-3, -3, 3, 3, 0, INT32_MIN}},
    {INFER_BINARY_MOD, {1, -1, -1, 1, 0, 0}},
    {INFER_BINARY_FMOD, {-1, 1, -1, 1, 0, 0}},
    {INFER_BINARY_ADD, {-5, 5, -9, 9, 5, INT32_MAX}},
    {INFER_BINARY_MUL, {-14, -14, 14, 14, 0, INT32_MIN}},
    {INFER_BINARY_MAX, {2, 7, -2, 7, 5, -1}},
    {INFER_BINARY_POW, {49, 0, 0, 49, 1, 0}},
  };
  InferTensorView out;
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    InferOpParams p = binary(cases[c].k);
    CHECK_OK(test_run_op(INFER_OP_BINARY, &p, 2, in, 1, &out));
    CHECK(out.dtype == INFER_DTYPE_I32);
    for (int i = 0; i < 6; i++) CHECK(((int32_t *)out.data)[i] == cases[c].e[i]);
    free(out.data);
  }
  /* i8 wraps like numpy */
  int64_t d2[1] = {2};
  int8_t c8[] = {100, -128}, d8[] = {100, 1};
  InferTensorView in8[2] = {test_view(INFER_DTYPE_I8, 1, d2, c8), test_view(INFER_DTYPE_I8, 1, d2, d8)};
  InferOpParams p = binary(INFER_BINARY_ADD);
  CHECK_OK(test_run_op(INFER_OP_BINARY, &p, 2, in8, 1, &out));
  CHECK(((int8_t *)out.data)[0] == -56 && ((int8_t *)out.data)[1] == -127);
  free(out.data);
  /* i64 keeps all 64 bits */
  int64_t big[] = {INT64_C(9007199254740993), 3}, one[] = {1, 1};
  InferTensorView in64[2] = {test_view(INFER_DTYPE_I64, 1, d2, big), test_view(INFER_DTYPE_I64, 1, d2, one)};
  CHECK_OK(test_run_op(INFER_OP_BINARY, &p, 2, in64, 1, &out));
  CHECK(((int64_t *)out.data)[0] == INT64_C(9007199254740994));
  free(out.data);
  /* u8 shifts; shifting by the width or more gives 0 */
  int64_t d3[1] = {3};
  uint8_t s[] = {1, 255, 0x80}, n[] = {7, 1, 8};
  InferTensorView ins[2] = {test_view(INFER_DTYPE_U8, 1, d3, s), test_view(INFER_DTYPE_U8, 1, d3, n)};
  p = binary(INFER_BINARY_SHIFT_LEFT);
  CHECK_OK(test_run_op(INFER_OP_BINARY, &p, 2, ins, 1, &out));
  CHECK(memcmp(out.data, (uint8_t[]){128, 254, 0}, 3) == 0);
  free(out.data);
  p = binary(INFER_BINARY_SHIFT_RIGHT);
  CHECK_OK(test_run_op(INFER_OP_BINARY, &p, 2, ins, 1, &out));
  CHECK(memcmp(out.data, (uint8_t[]){0, 127, 0}, 3) == 0);
  free(out.data);
  /* shifts on signed types are not supported on the CPU backend */
  CHECK_FAILS(test_run_op(INFER_OP_BINARY, &p, 2, in, 1, &out), INFER_ERR_UNSUPPORTED, NULL);
}

static void test_binary_mixed_pow_and_f16(void) {
  int64_t d3[1] = {3};
  int64_t base[] = {2, 3, -2};
  float expo[] = {3, 0.5f, 2};
  InferTensorView in[2] = {test_view(INFER_DTYPE_I64, 1, d3, base), test_view(INFER_DTYPE_F32, 1, d3, expo)};
  InferOpParams p = binary(INFER_BINARY_POW);
  InferTensorView out;
  CHECK_OK(test_run_op(INFER_OP_BINARY, &p, 2, in, 1, &out));
  CHECK(out.dtype == INFER_DTYPE_I64);
  /* 3 ** 0.5 = 1.73 truncates to 1 */
  CHECK(((int64_t *)out.data)[0] == 8 && ((int64_t *)out.data)[1] == 1 &&
        ((int64_t *)out.data)[2] == 4);
  free(out.data);
  uint16_t h[] = {0x3C00, 0x4000, 0xC200}; /* 1, 2, -3 */
  uint16_t g[] = {0x3800, 0x3800, 0x3800}; /* 0.5 */
  InferTensorView hin[2] = {test_view(INFER_DTYPE_F16, 1, d3, h), test_view(INFER_DTYPE_F16, 1, d3, g)};
  p = binary(INFER_BINARY_ADD);
  CHECK_OK(test_run_op(INFER_OP_BINARY, &p, 2, hin, 1, &out));
  CHECK(out.dtype == INFER_DTYPE_F16);
  const uint16_t *r = out.data;
  CHECK(r[0] == 0x3E00 && r[1] == 0x4100 && r[2] == 0xC100); /* 1.5, 2.5, -2.5 */
  free(out.data);
}

static void test_binary_shapes(void) {
  InferOpParams p = binary(INFER_BINARY_ADD);
  int64_t d03[2] = {0, 3}, d3[1] = {3}, d23[2] = {2, 3}, d4[1] = {4};
  float b[] = {1, 2, 3}, a6[6] = {0};
  InferTensorView out;
  /* empty tensors broadcast and compute nothing */
  InferTensorView e[2] = {test_view(INFER_DTYPE_F32, 2, d03, NULL), test_view(INFER_DTYPE_F32, 1, d3, b)};
  CHECK_OK(test_run_op(INFER_OP_BINARY, &p, 2, e, 1, &out));
  CHECK(out.shape.rank == 2 && out.shape.d[0] == 0 && out.shape.d[1] == 3);
  free(out.data);
  /* incompatible shapes */
  InferTensorView bad[2] = {test_view(INFER_DTYPE_F32, 2, d23, a6), test_view(INFER_DTYPE_F32, 1, d4, b)};
  CHECK_FAILS(test_run_op(INFER_OP_BINARY, &p, 2, bad, 1, &out), INFER_ERR_INVALID_ARGUMENT, NULL);
  /* mismatched dtypes */
  int32_t i3[3] = {0};
  InferTensorView mix[2] = {test_view(INFER_DTYPE_F32, 1, d3, b), test_view(INFER_DTYPE_I32, 1, d3, i3)};
  CHECK_FAILS(test_run_op(INFER_OP_BINARY, &p, 2, mix, 1, &out), INFER_ERR_INVALID_ARGUMENT, NULL);
  /* unknown dims propagate through the shape function */
  int64_t dq3[2] = {-1, 3}, d1[1] = {1};
  InferTensorView q[2] = {test_view(INFER_DTYPE_F32, 2, dq3, NULL), test_view(INFER_DTYPE_F32, 1, d1, NULL)};
  InferTensorView qo;
  memset(&qo, 0, sizeof qo);
  InferOpCall call = {INFER_OP_BINARY, "q", &p, q, 2, &qo, 1, 0};
  CHECK_OK(infer_op_info(INFER_OP_BINARY)->infer_shape(&call));
  CHECK(qo.shape.rank == 2 && qo.shape.d[0] == -1 && qo.shape.d[1] == 3);
  InferOpParams pe = binary(INFER_BINARY_LESS);
  call.params = &pe;
  CHECK_OK(infer_op_info(INFER_OP_BINARY)->infer_shape(&call));
  CHECK(qo.dtype == INFER_DTYPE_BOOL);
}

/* ---- where -------------------------------------------------------------------- */

static void test_where(void) {
  int64_t d21[2] = {2, 1}, d13[2] = {1, 3};
  uint8_t c[] = {1, 0};
  float x[] = {1, 2, 3}, y[] = {-1};
  InferTensorView in[3] = {test_view(INFER_DTYPE_BOOL, 2, d21, c), test_view(INFER_DTYPE_F32, 2, d13, x),
                           test_view(INFER_DTYPE_F32, 0, NULL, y)};
  InferTensorView out;
  CHECK_OK(test_run_op(INFER_OP_WHERE, NULL, 3, in, 1, &out));
  CHECK(out.dtype == INFER_DTYPE_F32 && out.shape.rank == 2 && out.shape.d[0] == 2 &&
        out.shape.d[1] == 3);
  const float expect[] = {1, 2, 3, -1, -1, -1};
  CHECK(memcmp(out.data, expect, sizeof expect) == 0);
  free(out.data);
  int64_t d2[1] = {2};
  int64_t xl[] = {INT64_MAX, 5}, yl[] = {7, INT64_MIN};
  InferTensorView inl[3] = {test_view(INFER_DTYPE_BOOL, 1, d2, (uint8_t[]){0, 1}),
                            test_view(INFER_DTYPE_I64, 1, d2, xl), test_view(INFER_DTYPE_I64, 1, d2, yl)};
  CHECK_OK(test_run_op(INFER_OP_WHERE, NULL, 3, inl, 1, &out));
  CHECK(((int64_t *)out.data)[0] == 7 && ((int64_t *)out.data)[1] == 5);
  free(out.data);
  /* x and y must share a type; the condition must be bool */
  inl[2] = test_view(INFER_DTYPE_F32, 1, d2, (float[]){0, 0});
  CHECK_FAILS(test_run_op(INFER_OP_WHERE, NULL, 3, inl, 1, &out), INFER_ERR_INVALID_ARGUMENT, NULL);
  in[0] = test_view(INFER_DTYPE_F32, 0, NULL, y);
  CHECK_FAILS(test_run_op(INFER_OP_WHERE, NULL, 3, in, 1, &out), INFER_ERR_INVALID_ARGUMENT, NULL);
}

/* ---- cast --------------------------------------------------------------------- */

static void test_cast(void) {
  int64_t d5[1] = {5};
  float x[] = {-1.7f, 0.0f, 2.9f, 300.0f, 0.333333343f};
  InferTensorView in = test_view(INFER_DTYPE_F32, 1, d5, x), out;
  InferOpParams p = cast_to(INFER_DTYPE_I32);
  CHECK_OK(test_run_op(INFER_OP_CAST, &p, 1, &in, 1, &out));
  CHECK(out.dtype == INFER_DTYPE_I32 &&
        memcmp(out.data, (int32_t[]){-1, 0, 2, 300, 0}, 5 * sizeof(int32_t)) == 0);
  free(out.data);
  p = cast_to(INFER_DTYPE_U8); /* -1 wraps to 255, 300 to 44 (numpy astype) */
  CHECK_OK(test_run_op(INFER_OP_CAST, &p, 1, &in, 1, &out));
  CHECK(memcmp(out.data, (uint8_t[]){255, 0, 2, 44, 0}, 5) == 0);
  free(out.data);
  p = cast_to(INFER_DTYPE_BOOL);
  CHECK_OK(test_run_op(INFER_OP_CAST, &p, 1, &in, 1, &out));
  CHECK(memcmp(out.data, (uint8_t[]){1, 0, 1, 1, 1}, 5) == 0);
  free(out.data);
  p = cast_to(INFER_DTYPE_F16); /* 300 = 0x5CB0, 1/3 rounds to 0x3555 */
  CHECK_OK(test_run_op(INFER_OP_CAST, &p, 1, &in, 1, &out));
  CHECK(((uint16_t *)out.data)[3] == 0x5CB0 && ((uint16_t *)out.data)[4] == 0x3555);
  free(out.data);

  int64_t d3[1] = {3};
  int64_t l[] = {INT64_C(16777217), -5, 1};
  InferTensorView inl = test_view(INFER_DTYPE_I64, 1, d3, l);
  p = cast_to(INFER_DTYPE_F32); /* 2^24 + 1 rounds to 2^24 */
  CHECK_OK(test_run_op(INFER_OP_CAST, &p, 1, &inl, 1, &out));
  CHECK(((float *)out.data)[0] == 16777216.0f && ((float *)out.data)[1] == -5.0f);
  free(out.data);
  p = cast_to(INFER_DTYPE_I8);
  CHECK_OK(test_run_op(INFER_OP_CAST, &p, 1, &inl, 1, &out));
  CHECK(memcmp(out.data, (int8_t[]){1, -5, 1}, 3) == 0);
  free(out.data);
  uint8_t b[] = {1, 0, 1};
  InferTensorView inb = test_view(INFER_DTYPE_BOOL, 1, d3, b);
  p = cast_to(INFER_DTYPE_I64);
  CHECK_OK(test_run_op(INFER_OP_CAST, &p, 1, &inb, 1, &out));
  CHECK(((int64_t *)out.data)[0] == 1 && ((int64_t *)out.data)[1] == 0);
  free(out.data);
  uint16_t h[] = {0xC100, 0x3C00, 0x7C00}; /* -2.5, 1, +inf */
  InferTensorView inh = test_view(INFER_DTYPE_F16, 1, d3, h);
  p = cast_to(INFER_DTYPE_F32);
  CHECK_OK(test_run_op(INFER_OP_CAST, &p, 1, &inh, 1, &out));
  CHECK(((float *)out.data)[0] == -2.5f && ((float *)out.data)[1] == 1.0f &&
        isinf(((float *)out.data)[2]));
  free(out.data);
  p = cast_to(INFER_DTYPE_UNDEFINED);
  CHECK_FAILS(test_run_op(INFER_OP_CAST, &p, 1, &inh, 1, &out), INFER_ERR_INVALID_ARGUMENT, NULL);
  /* empty input */
  int64_t d0[1] = {0};
  InferTensorView e = test_view(INFER_DTYPE_F32, 1, d0, NULL);
  p = cast_to(INFER_DTYPE_I64);
  CHECK_OK(test_run_op(INFER_OP_CAST, &p, 1, &e, 1, &out));
  CHECK(out.shape.d[0] == 0 && out.dtype == INFER_DTYPE_I64);
  free(out.data);
}

static void test_names(void) {
  CHECK(strcmp(infer_unary_kind_name(INFER_UNARY_HARD_SWISH), "hard_swish") == 0);
  CHECK(strcmp(infer_unary_kind_name(INFER_UNARY_IS_INF), "is_inf") == 0);
  CHECK(strcmp(infer_unary_kind_name(INFER_UNARY_KIND_COUNT), "unknown") == 0);
  CHECK(strcmp(infer_binary_kind_name(INFER_BINARY_SHIFT_RIGHT), "shift_right") == 0);
  CHECK(strcmp(infer_binary_kind_name((InferBinaryKind)-1), "unknown") == 0);
  for (int k = 0; k < INFER_UNARY_KIND_COUNT; k++)
    CHECK(strcmp(infer_unary_kind_name((InferUnaryKind)k), "unknown") != 0);
  for (int k = 0; k < INFER_BINARY_KIND_COUNT; k++)
    CHECK(strcmp(infer_binary_kind_name((InferBinaryKind)k), "unknown") != 0);
}

int main(void) {
  test_unary_activations();
  test_unary_math();
  test_unary_bool_results();
  test_unary_ints();
  test_activation_function();
  test_binary_float();
  test_binary_compare_logic();
  test_binary_ints();
  test_binary_mixed_pow_and_f16();
  test_binary_shapes();
  test_where();
  test_cast();
  test_names();
  TEST_MAIN_END("elementwise");
}
