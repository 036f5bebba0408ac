/* INT8 operators on the CPU reference backend.
 *
 *   test_int8_ops              Quantize / Dequantize (rounding half to even,
 *                              saturation, NaN, per channel), hand-computed
 *                              INT8 Conv and Gemm cases, shape errors
 *   test_int8_ops CASES_FILE   INT8 Conv / Gemm cases written by
 *                              int8_reference.py with expected outputs that
 *                              numpy computed independently */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op_runner.h"
#include "test_util.h"

static InferTensorView v1(InferDType t, int64_t n, void *data) {
  return test_view(t, 1, &n, data);
}

/* ---- Quantize / Dequantize -------------------------------------------------- */

static void test_quantize_rounding(void) {
  /* x / 1 lands on halves: ties go to the even neighbour */
  float x[] = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 0.49999997f, 126.5f, 127.5f, -127.5f,
               -128.5f, 200.0f, -300.0f, NAN, INFINITY, -INFINITY, 3.7f, -3.7f};
  int8_t want[] = {0, 2, 2, 0, -2, -2, 0, 126, 127, -128, -128, 127, -128, 0, 127, -128, 4, -4};
  int64_t n = sizeof x / sizeof x[0];
  float one = 1.0f;
  InferTensorView in[2] = {v1(INFER_DTYPE_F32, n, x), test_view(INFER_DTYPE_F32, 0, NULL, &one)};
  InferOpParams p;
  memset(&p, 0, sizeof p);
  InferTensorView out;
  CHECK_OK(test_run_op(INFER_OP_QUANTIZE, &p, 2, in, 1, &out));
  CHECK(out.dtype == INFER_DTYPE_I8);
  for (int64_t i = 0; out.data && i < n; i++) {
    if (((int8_t *)out.data)[i] != want[i])
      fprintf(stderr, "quantize(%g) = %d, want %d\n", (double)x[i], ((int8_t *)out.data)[i], want[i]);
    CHECK(((int8_t *)out.data)[i] == want[i]);
  }
  free(out.data);
  /* a scale other than 1: 0.25 / 0.1 = 2.5 -> 2, 0.35 / 0.1 = 3.5 -> 4 */
  float y[] = {0.25f, 0.35f, -0.25f};
  float s = 0.1f;
  in[0] = v1(INFER_DTYPE_F32, 3, y);
  in[1] = v1(INFER_DTYPE_F32, 1, &s);
  CHECK_OK(test_run_op(INFER_OP_QUANTIZE, &p, 2, in, 1, &out));
  for (int i = 0; out.data && i < 3; i++) {
    int8_t e = (int8_t)nearbyintf(y[i] / s); /* the same float division, default rounding */
    CHECK(((int8_t *)out.data)[i] == e);
  }
  free(out.data);
}

static void test_quantize_per_channel(void) {
  /* x [2, 3, 2], scales along axis 1 (and -2) */
  float x[12], sc[3] = {0.5f, 1.0f, 2.0f};
  for (int i = 0; i < 12; i++) x[i] = (float)(i - 5);
  int64_t dims[3] = {2, 3, 2};
  for (int k = 0; k < 2; k++) {
    InferOpParams p;
    memset(&p, 0, sizeof p);
    p.quantize.axis = k == 0 ? 1 : -2;
    InferTensorView in[2] = {test_view(INFER_DTYPE_F32, 3, dims, x), v1(INFER_DTYPE_F32, 3, sc)};
    InferTensorView out;
    CHECK_OK(test_run_op(INFER_OP_QUANTIZE, &p, 2, in, 1, &out));
    for (int i = 0; out.data && i < 12; i++) {
      float q = x[i] / sc[(i / 2) % 3], r = floorf(q);
      if (q - r > 0.5f || (q - r == 0.5f && fmodf(r, 2.0f) != 0.0f)) r += 1.0f;
      CHECK(((int8_t *)out.data)[i] == (int8_t)r);
    }
    /* and back: i8 * scale */
    InferTensorView din[2] = {out, v1(INFER_DTYPE_F32, 3, sc)};
    InferTensorView back;
    CHECK_OK(test_run_op(INFER_OP_DEQUANTIZE, &p, 2, din, 1, &back));
    CHECK(back.dtype == INFER_DTYPE_F32);
    for (int i = 0; back.data && i < 12; i++)
      CHECK(((float *)back.data)[i] == (float)((int8_t *)out.data)[i] * sc[(i / 2) % 3]);
    free(out.data);
    free(back.data);
  }
  /* wrong number of scales for the axis */
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.quantize.axis = 2;
  InferTensorView in[2] = {test_view(INFER_DTYPE_F32, 3, dims, x), v1(INFER_DTYPE_F32, 3, sc)};
  InferTensorView out;
  CHECK_FAILS(test_run_op(INFER_OP_QUANTIZE, &p, 2, in, 1, &out), INFER_ERR_INVALID_ARGUMENT, NULL);
  p.quantize.axis = 3;
  CHECK_FAILS(test_run_op(INFER_OP_QUANTIZE, &p, 2, in, 1, &out), INFER_ERR_INVALID_ARGUMENT, NULL);
}

static void test_dequantize_i32(void) {
  int32_t x[4] = {-1000000, 0, 7, 123456};
  float s = 0.001f;
  InferOpParams p;
  memset(&p, 0, sizeof p);
  InferTensorView in[2] = {v1(INFER_DTYPE_I32, 4, x), v1(INFER_DTYPE_F32, 1, &s)};
  InferTensorView out;
  CHECK_OK(test_run_op(INFER_OP_DEQUANTIZE, &p, 2, in, 1, &out));
  for (int i = 0; out.data && i < 4; i++) CHECK(((float *)out.data)[i] == (float)x[i] * s);
  free(out.data);
  /* a float input is refused */
  float f[2] = {1, 2};
  in[0] = v1(INFER_DTYPE_F32, 2, f);
  CHECK_FAILS(test_run_op(INFER_OP_DEQUANTIZE, &p, 2, in, 1, &out), INFER_ERR_INVALID_ARGUMENT, NULL);
}

/* ---- INT8 Conv and Gemm, by hand -------------------------------------------- */

/* x [1,1,3,3] = 1..9 (i8), w [2,1,2,2]: channel 0 all ones, channel 1
 * [1,-1;0,2]; stride 1, no pads -> acc0 = [12 16; 24 28], acc1 = [1*1-2+0+2*5 ..]. */
static void test_conv_by_hand(void) {
  int8_t x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  int8_t w[8] = {1, 1, 1, 1, 1, -1, 0, 2};
  float bias[2] = {0.5f, -1.0f}, ws[2] = {0.5f, 0.25f};
  int64_t xd[4] = {1, 1, 3, 3}, wd[4] = {2, 1, 2, 2};
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.conv.spatial = 2;
  p.conv.quant.int8 = true;
  p.conv.quant.x_scale = 0.1f;
  InferTensorView in[4] = {test_view(INFER_DTYPE_I8, 4, xd, x), test_view(INFER_DTYPE_I8, 4, wd, w),
                           v1(INFER_DTYPE_F32, 2, bias), v1(INFER_DTYPE_F32, 2, ws)};
  /* acc, channel 1 at (i, j): x[i][j] - x[i][j+1] + 2 x[i+1][j+1] */
  int32_t acc[2][4] = {{12, 16, 24, 28}, {9, 11, 15, 17}};
  InferTensorView out;
  CHECK_OK(test_run_op(INFER_OP_CONV, &p, 4, in, 1, &out));
  CHECK(out.dtype == INFER_DTYPE_F32 && out.shape.d[1] == 2 && out.shape.d[2] == 2);
  for (int c = 0; out.data && c < 2; c++)
    for (int i = 0; i < 4; i++)
      CHECK_NEAR(((float *)out.data)[c * 4 + i], (float)acc[c][i] * (0.1f * ws[c]) + bias[c], 1e-6);
  free(out.data);
  /* i8 output at y_scale 0.25 with ReLU: v / 0.25 rounded half to even */
  p.conv.quant.y_scale = 0.25f;
  p.conv.activation.kind = INFER_UNARY_RELU;
  CHECK_OK(test_run_op(INFER_OP_CONV, &p, 4, in, 1, &out));
  CHECK(out.dtype == INFER_DTYPE_I8);
  for (int c = 0; out.data && c < 2; c++)
    for (int i = 0; i < 4; i++) {
      float v = fmaxf((float)acc[c][i] * (0.1f * ws[c]) + bias[c], 0.0f) / 0.25f;
      CHECK(((int8_t *)out.data)[c * 4 + i] == (int8_t)fminf(nearbyintf(v), 127.0f));
    }
  free(out.data);
  /* an i8 residual with its own scale, added before the activation */
  int8_t res[8] = {-100, -50, 0, 50, 100, 127, -128, 1};
  InferTensorView rin[5] = {in[0], in[1], in[2], in[3], test_view(INFER_DTYPE_I8, 4,
                                                                  (int64_t[]){1, 2, 2, 2}, res)};
  p.conv.has_residual = true;
  p.conv.quant.residual_scale = 0.02f;
  p.conv.quant.y_scale = 0.0f;
  CHECK_OK(test_run_op(INFER_OP_CONV, &p, 5, rin, 1, &out));
  for (int c = 0; out.data && c < 2; c++)
    for (int i = 0; i < 4; i++) {
      float v = (float)acc[c][i] * (0.1f * ws[c]) + bias[c] + (float)res[c * 4 + i] * 0.02f;
      CHECK_NEAR(((float *)out.data)[c * 4 + i], fmaxf(v, 0.0f), 1e-6);
    }
  free(out.data);
  /* the INT8 form needs its weight scales and i8 operands */
  p.conv.has_residual = false;
  CHECK_FAILS(test_run_op(INFER_OP_CONV, &p, 3, in, 1, &out), INFER_ERR_INVALID_ARGUMENT, NULL);
  int64_t three = 3;
  InferTensorView bad[4] = {in[0], in[1], in[2], test_view(INFER_DTYPE_F32, 1, &three, bias)};
  CHECK_FAILS(test_run_op(INFER_OP_CONV, &p, 4, bad, 1, &out), INFER_ERR_INVALID_ARGUMENT, NULL);
  float xf[9] = {0};
  bad[0] = test_view(INFER_DTYPE_F32, 4, xd, xf);
  bad[3] = in[3];
  CHECK_FAILS(test_run_op(INFER_OP_CONV, &p, 4, bad, 1, &out), INFER_ERR_INVALID_ARGUMENT, NULL);
  p.conv.quant.x_scale = 0.0f;
  CHECK_FAILS(test_run_op(INFER_OP_CONV, &p, 4, in, 1, &out), INFER_ERR_INVALID_ARGUMENT, NULL);
}

/* a [2,3] x b^T with b [2,3] (trans_b), alpha 2, c [2] broadcast, beta 0.5 */
static void test_gemm_by_hand(void) {
  int8_t a[6] = {1, -2, 3, 127, -128, 0}, b[6] = {2, 0, -1, -127, 1, 1};
  float c[2] = {1.0f, -2.0f}, ws[2] = {0.5f, 0.125f};
  int64_t ad[2] = {2, 3};
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.gemm.alpha = 2.0f;
  p.gemm.beta = 0.5f;
  p.gemm.trans_b = true;
  p.gemm.quant.int8 = true;
  p.gemm.quant.x_scale = 0.01f;
  InferTensorView in[4] = {test_view(INFER_DTYPE_I8, 2, ad, a), test_view(INFER_DTYPE_I8, 2, ad, b),
                           v1(INFER_DTYPE_F32, 2, c), v1(INFER_DTYPE_F32, 2, ws)};
  int32_t acc[2][2] = {{2 - 3, -127 - 2 + 3}, {254, -127 * 127 - 128}};
  InferTensorView out;
  CHECK_OK(test_run_op(INFER_OP_GEMM, &p, 4, in, 1, &out));
  for (int i = 0; out.data && i < 2; i++)
    for (int j = 0; j < 2; j++)
      CHECK_NEAR(((float *)out.data)[i * 2 + j],
                 2.0f * ((float)acc[i][j] * (0.01f * ws[j])) + 0.5f * c[j], 1e-5);
  free(out.data);
}

/* ---- cases from int8_reference.py ------------------------------------------ */

static bool read_ints(FILE *f, int64_t n, int8_t *out) {
  for (int64_t i = 0; i < n; i++) {
    int v;
    if (fscanf(f, "%d", &v) != 1) return false;
    out[i] = (int8_t)v;
  }
  return true;
}

static bool read_floats(FILE *f, int64_t n, float *out) {
  for (int64_t i = 0; i < n; i++)
    if (fscanf(f, "%f", &out[i]) != 1) return false;
  return true;
}

/* One case: a header line, then x, w, bias, w_scales, residual, expected. */
static int run_case(FILE *f, int *exact, int *total, double *worst) {
  char kind[16];
  if (fscanf(f, "%15s", kind) != 1) return 0;
  InferOpParams p;
  memset(&p, 0, sizeof p);
  int64_t xd[4], wd[4], yd[4];
  int has_bias, has_res = 0, res_i8 = 0, act, rank;
  float xs, ys, rs = 0.0f;
  InferOp op = strcmp(kind, "conv") == 0 ? INFER_OP_CONV : INFER_OP_GEMM;
  if (op == INFER_OP_CONV) {
    long long s, pad, g;
    if (fscanf(f, "%lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %d %d %d %d %f %f %f",
               (long long *)&xd[0], (long long *)&xd[1], (long long *)&xd[2],
               (long long *)&xd[3], (long long *)&wd[0], (long long *)&wd[2],
               (long long *)&wd[3], &s, &pad, &g, (long long *)&wd[1], &act, &has_bias, &has_res,
               &res_i8, &xs, &ys, &rs) != 18)
      return -1;
    p.conv.spatial = 2;
    p.conv.group = g;
    p.conv.strides[0] = p.conv.strides[1] = s;
    for (int i = 0; i < 4; i++) p.conv.pads[i] = pad;
    p.conv.activation.kind = act ? INFER_UNARY_RELU : INFER_UNARY_NONE;
    p.conv.has_residual = has_res;
    p.conv.quant = (InferQuantParams){true, xs, ys, rs};
    rank = 4;
  } else {
    int ta, tb;
    if (fscanf(f, "%lld %lld %lld %lld %d %d %d %d %f %f", (long long *)&xd[0],
               (long long *)&xd[1], (long long *)&wd[0], (long long *)&wd[1], &ta, &tb, &act,
               &has_bias, &xs, &ys) != 10)
      return -1;
    p.gemm.alpha = 1.0f;
    p.gemm.beta = 1.0f;
    p.gemm.trans_a = ta;
    p.gemm.trans_b = tb;
    p.gemm.activation.kind = act ? INFER_UNARY_RELU : INFER_UNARY_NONE;
    p.gemm.quant = (InferQuantParams){true, xs, ys, 0.0f};
    rank = 2;
  }
  int64_t nx = 1, nw = 1;
  for (int i = 0; i < rank; i++) {
    nx *= xd[i];
    nw *= wd[i];
  }
  int64_t m = op == INFER_OP_CONV ? wd[0] : (p.gemm.trans_b ? wd[0] : wd[1]);
  int8_t *x = malloc((size_t)nx), *w = malloc((size_t)nw);
  float *bias = malloc(sizeof(float) * (size_t)m), *ws = malloc(sizeof(float) * (size_t)m);
  bool ok = read_ints(f, nx, x) && read_ints(f, nw, w) && (!has_bias || read_floats(f, m, bias)) &&
            read_floats(f, m, ws);
  InferTensorView in[5] = {test_view(INFER_DTYPE_I8, rank, xd, x),
                           test_view(INFER_DTYPE_I8, rank, wd, w),
                           has_bias ? v1(INFER_DTYPE_F32, m, bias) : test_view(0, 0, NULL, NULL),
                           v1(INFER_DTYPE_F32, m, ws), {0}};
  InferTensorView out;
  memset(&out, 0, sizeof out);
  InferStatus *st = NULL;
  void *res = NULL;
  int n_in = 4;
  if (ok && has_res) {
    /* the residual has the output's shape */
    yd[0] = xd[0];
    yd[1] = wd[0];
    for (int i = 2; i < 4; i++) yd[i] = (xd[i] + 2 * p.conv.pads[0] - wd[i]) / p.conv.strides[0] + 1;
    int64_t ny = yd[0] * yd[1] * yd[2] * yd[3];
    res = malloc((size_t)ny * 4);
    ok = ok && (res_i8 ? read_ints(f, ny, res) : read_floats(f, ny, res));
    in[4] = test_view(res_i8 ? INFER_DTYPE_I8 : INFER_DTYPE_F32, 4, yd, res);
    n_in = 5;
  }
  if (ok && !st) st = test_run_op(op, &p, n_in, in, 1, &out);
  int64_t ny = ok && !st ? infer_shape_numel(&out.shape) : 0;
  float *want = malloc(sizeof(float) * (size_t)(ny > 0 ? ny : 1));
  ok = ok && !st && read_floats(f, ny, want);
  CHECK(ok);
  if (st) {
    fprintf(stderr, "case %s: %s\n", kind, infer_status_message(st));
    infer_status_free(st);
  }
  for (int64_t i = 0; ok && i < ny; i++) {
    if (ys > 0.0f) {
      int got = ((int8_t *)out.data)[i];
      double d = fabs(got - want[i]);
      *exact += d == 0.0;
      *worst = fmax(*worst, d);
      CHECK(d <= 1.0); /* one LSB: the float rescale may round a tie differently */
    } else {
      float got = ((float *)out.data)[i];
      double d = fabs(got - want[i]) / fmax(1.0, fabs(want[i]));
      *exact += d <= 1e-6;
      *worst = fmax(*worst, d);
      CHECK(d <= 1e-5);
    }
    (*total)++;
  }
  free(out.data);
  free(x);
  free(w);
  free(bias);
  free(ws);
  free(res);
  free(want);
  return ok ? 1 : -1;
}

int main(int argc, char **argv) {
  if (argc > 1) {
    FILE *f = fopen(argv[1], "r");
    if (!f) {
      fprintf(stderr, "cannot open %s\n", argv[1]);
      return 2;
    }
    int n = 0, r, exact = 0, total = 0;
    double worst = 0.0;
    while ((r = run_case(f, &exact, &total, &worst)) == 1) n++;
    fclose(f);
    CHECK(r == 0);
    CHECK(n > 0);
    printf("int8 reference cases: %d, outputs %d, %d exact, worst difference %.3g "
           "(i8: LSBs, float: relative)\n", n, total, exact, worst);
    TEST_MAIN_END("int8_reference");
  }
  test_quantize_rounding();
  test_quantize_per_channel();
  test_dequantize_i32();
  test_conv_by_hand();
  test_gemm_by_hand();
  TEST_MAIN_END("int8_ops");
}
