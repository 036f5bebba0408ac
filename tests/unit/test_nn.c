/* Unit tests of the neural-network family (shape functions + CPU kernels):
 * convolution, ConvTranspose, pooling, Gemm, MatMul and normalizations, on
 * small cases whose results were worked out by hand. */
#include <string.h>

#include "conv_geometry.h"
#include "op_runner.h"
#include "test_util.h"

#define F32 INFER_DTYPE_F32
#define DIMS(...) ((const int64_t[]){__VA_ARGS__})
#define NDIMS(...) ((int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t)))
#define VIEW(data, ...) test_view(F32, NDIMS(__VA_ARGS__), DIMS(__VA_ARGS__), (void *)(data))
#define ABSENT test_view(INFER_DTYPE_UNDEFINED, 0, NULL, NULL)

/* Runs op and compares the single f32 output with `want` (n values) and,
 * when want_rank >= 0, its shape. */
static void expect_op(int line, InferOp op, const InferOpParams *p, int n_in,
                      const InferTensorView *in, const float *want, int64_t n, int want_rank,
                      const int64_t *want_dims) {
  InferTensorView out[1];
  InferStatus *st = test_run_op(op, p, n_in, in, 1, out);
  if (st) {
    test_checks_failed++;
    fprintf(stderr, "line %d: %s failed: %s\n", line, infer_op_name(op), infer_status_message(st));
    infer_status_free(st);
    return;
  }
  if (want_rank >= 0) {
    InferShape ws = infer_shape_make(want_rank, want_dims);
    if (!infer_shape_equal(&ws, &out[0].shape)) {
      char a[96], b[96];
      fprintf(stderr, "line %d: shape %s, expected %s\n", line,
              infer_shape_str(&out[0].shape, a, sizeof a), infer_shape_str(&ws, b, sizeof b));
      test_checks_failed++;
    }
  }
  CHECK(infer_shape_numel(&out[0].shape) == n);
  const float *y = out[0].data;
  for (int64_t i = 0; i < n && i < infer_shape_numel(&out[0].shape); i++) {
    if (fabsf(y[i] - want[i]) > 1e-4f + 1e-4f * fabsf(want[i])) {
      fprintf(stderr, "line %d: y[%lld] = %.7g, expected %.7g\n", line, (long long)i, y[i],
              want[i]);
      test_checks_failed++;
    } else {
      test_checks_passed++;
    }
  }
  free(out[0].data);
}

#define EXPECT(op, p, in, want, ...)                                                         \
  expect_op(__LINE__, (op), (p), (int)(sizeof(in) / sizeof((in)[0])), (in), (want),       \
            (int64_t)(sizeof(want) / sizeof((want)[0])), NDIMS(__VA_ARGS__), DIMS(__VA_ARGS__))

static InferStatusCode run_code(InferOp op, const InferOpParams *p, int n_in,
                                const InferTensorView *in) {
  InferTensorView out[1];
  InferStatus *st = test_run_op(op, p, n_in, in, 1, out);
  InferStatusCode code = infer_status_code(st);
  if (!st) free(out[0].data);
  infer_status_free(st);
  return code;
}

static InferOpParams conv_params(int spatial) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.conv.spatial = spatial;
  p.conv.group = 1;
  for (int i = 0; i < 3; i++) p.conv.strides[i] = p.conv.dilations[i] = 1;
  return p;
}

static InferOpParams pool_params(InferPoolKind kind, int spatial) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.pool.kind = kind;
  p.pool.spatial = spatial;
  for (int i = 0; i < 3; i++) p.pool.strides[i] = p.pool.dilations[i] = 1;
  return p;
}

/* ---- convolution ------------------------------------------------------- */

static void test_conv(void) {
  static const float x9[] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, ones4[] = {1, 1, 1, 1};
  InferOpParams p = conv_params(2);
  {
    InferTensorView in[] = {VIEW(x9, 1, 1, 3, 3), VIEW(ones4, 1, 1, 2, 2)};
    static const float want[] = {12, 16, 24, 28};
    EXPECT(INFER_OP_CONV, &p, in, want, 1, 1, 2, 2);
  }
  { /* pads 1, stride 2, bias: windows centred on the corners and middle */
    static const float bias[] = {0.5f};
    InferOpParams q = p;
    q.conv.strides[0] = q.conv.strides[1] = 2;
    for (int i = 0; i < 4; i++) q.conv.pads[i] = 1;
    InferTensorView in[] = {VIEW(x9, 1, 1, 3, 3), VIEW(ones4, 1, 1, 2, 2), VIEW(bias, 1)};
    static const float want[] = {1.5f, 5.5f, 11.5f, 28.5f};
    EXPECT(INFER_OP_CONV, &q, in, want, 1, 1, 2, 2);
  }
  { /* depthwise: group 2 scales each channel by its own weight */
    static const float x[] = {1, 2, 3, 4, 5, 6, 7, 8}, w[] = {2, -1};
    InferOpParams q = p;
    q.conv.group = 2;
    InferTensorView in[] = {VIEW(x, 1, 2, 2, 2), VIEW(w, 2, 1, 1, 1)};
    static const float want[] = {2, 4, 6, 8, -5, -6, -7, -8};
    EXPECT(INFER_OP_CONV, &q, in, want, 1, 2, 2, 2);
  }
  { /* fused residual then relu: max(0, x * 1 - 5 + r) */
    static const float x[] = {1, 2, 3, 4}, w[] = {1}, bias[] = {-5}, r[] = {0, 1, 4, 10};
    InferOpParams q = p;
    q.conv.has_residual = true;
    q.conv.activation.kind = INFER_UNARY_RELU;
    InferTensorView in[] = {VIEW(x, 1, 1, 2, 2), VIEW(w, 1, 1, 1, 1), VIEW(bias, 1),
                            VIEW(r, 1, 1, 2, 2)};
    static const float want[] = {0, 0, 2, 9};
    EXPECT(INFER_OP_CONV, &q, in, want, 1, 1, 2, 2);
    /* residual without bias: the bias slot is absent */
    InferTensorView in2[] = {VIEW(x, 1, 1, 2, 2), VIEW(w, 1, 1, 1, 1), ABSENT,
                             VIEW(r, 1, 1, 2, 2)};
    static const float want2[] = {1, 3, 7, 14};
    EXPECT(INFER_OP_CONV, &q, in2, want2, 1, 1, 2, 2);
  }
  { /* 1-D auto_pad: SAME_UPPER pads the end, SAME_LOWER the start */
    static const float x[] = {1, 2, 3, 4}, w[] = {1, 1};
    InferOpParams q = conv_params(1);
    q.conv.auto_pad = INFER_AUTO_PAD_SAME_UPPER;
    InferTensorView in[] = {VIEW(x, 1, 1, 4), VIEW(w, 1, 1, 2)};
    static const float upper[] = {3, 5, 7, 4}, lower[] = {1, 3, 5, 7};
    EXPECT(INFER_OP_CONV, &q, in, upper, 1, 1, 4);
    q.conv.auto_pad = INFER_AUTO_PAD_SAME_LOWER;
    EXPECT(INFER_OP_CONV, &q, in, lower, 1, 1, 4);
    /* dilation 2 and kernel size given in params */
    static const float x5[] = {1, 2, 3, 4, 5};
    q = conv_params(1);
    q.conv.dilations[0] = 2;
    q.conv.kernel[0] = 2;
    InferTensorView in5[] = {VIEW(x5, 1, 1, 5), VIEW(w, 1, 1, 2)};
    static const float dil[] = {4, 6, 8};
    EXPECT(INFER_OP_CONV, &q, in5, dil, 1, 1, 3);
    q.conv.kernel[0] = 3; /* contradicts the weights */
    CHECK(run_code(INFER_OP_CONV, &q, 2, in5) == INFER_ERR_INVALID_ARGUMENT);
  }
  { /* 3-D: one window covering the whole 2x2x2 input */
    static const float x[] = {1, 2, 3, 4, 5, 6, 7, 8}, w[] = {1, 1, 1, 1, 1, 1, 1, 1};
    InferOpParams q = conv_params(3);
    InferTensorView in[] = {VIEW(x, 1, 1, 2, 2, 2), VIEW(w, 1, 1, 2, 2, 2)};
    static const float want[] = {36};
    EXPECT(INFER_OP_CONV, &q, in, want, 1, 1, 1, 1, 1);
  }
  { /* errors: channel mismatch, f16 rejected, empty batch works */
    static const float x[4] = {0}, w2[2] = {0};
    InferTensorView bad[] = {VIEW(x, 1, 1, 2, 2), VIEW(w2, 1, 2, 1, 1)};
    CHECK(run_code(INFER_OP_CONV, &p, 2, bad) == INFER_ERR_INVALID_ARGUMENT);
    uint16_t h[4] = {0}, hw[1] = {0};
    InferTensorView half[] = {test_view(INFER_DTYPE_F16, 4, DIMS(1, 1, 2, 2), h),
                              test_view(INFER_DTYPE_F16, 4, DIMS(1, 1, 1, 1), hw)};
    CHECK(run_code(INFER_OP_CONV, &p, 2, half) == INFER_ERR_UNSUPPORTED);
    InferTensorView empty[] = {VIEW(x, 0, 1, 2, 2), VIEW(ones4, 1, 1, 2, 2)};
    static const float none[1] = {0};
    expect_op(__LINE__, INFER_OP_CONV, &p, 2, empty, none, 0, 4, DIMS(0, 1, 1, 1));
    InferTensorView small[] = {VIEW(x, 1, 1, 1, 1), VIEW(ones4, 1, 1, 2, 2)};
    CHECK(run_code(INFER_OP_CONV, &p, 2, small) == INFER_ERR_INVALID_ARGUMENT);
  }
}

static void test_conv_unknown_dims(void) {
  InferOpParams p = conv_params(2);
  p.conv.strides[0] = p.conv.strides[1] = 2;
  InferTensorView in[] = {test_view(F32, 4, DIMS(-1, 3, -1, 9), NULL),
                          test_view(F32, 4, DIMS(8, 3, 3, 3), NULL)};
  InferTensorView out[1];
  memset(out, 0, sizeof out);
  InferOpCall call = {INFER_OP_CONV, "t", &p, in, 2, out, 1, 0};
  CHECK_OK(infer_shape_conv(&call));
  CHECK(out[0].shape.rank == 4 && out[0].shape.d[0] == -1 && out[0].shape.d[1] == 8);
  CHECK(out[0].shape.d[2] == -1 && out[0].shape.d[3] == 4);
}

/* ---- ConvTranspose ------------------------------------------------------ */

static void test_deconv(void) {
  static const float x[] = {1, 2, 3}, w[] = {1, 1, 1};
  InferOpParams p = conv_params(1);
  InferTensorView in[] = {VIEW(x, 1, 1, 3), VIEW(w, 1, 1, 3)};
  {
    static const float want[] = {1, 3, 6, 5, 3};
    EXPECT(INFER_OP_DECONV, &p, in, want, 1, 1, 5);
  }
  p.conv.strides[0] = 2;
  {
    static const float want[] = {1, 1, 3, 2, 5, 3, 3};
    EXPECT(INFER_OP_DECONV, &p, in, want, 1, 1, 7);
  }
  {
    InferOpParams q = p;
    q.conv.pads[0] = q.conv.pads[1] = 1;
    static const float want[] = {1, 3, 2, 5, 3};
    EXPECT(INFER_OP_DECONV, &q, in, want, 1, 1, 5);
    q = p;
    q.conv.output_padding[0] = 1;
    static const float padded[] = {1, 1, 3, 2, 5, 3, 3, 0};
    EXPECT(INFER_OP_DECONV, &q, in, padded, 1, 1, 8);
  }
  { /* auto_pad SAME: output = 3 * 2, total padding 1 */
    InferOpParams q = p;
    q.conv.auto_pad = INFER_AUTO_PAD_SAME_UPPER;
    static const float upper[] = {1, 1, 3, 2, 5, 3}, lower[] = {1, 3, 2, 5, 3, 3};
    EXPECT(INFER_OP_DECONV, &q, in, upper, 1, 1, 6);
    q.conv.auto_pad = INFER_AUTO_PAD_SAME_LOWER;
    EXPECT(INFER_OP_DECONV, &q, in, lower, 1, 1, 6);
  }
  { /* output_shape: 8 extends the end (like output_padding); 6 with
     * NOTSET is where the spec and the reference disagree */
    InferOpParams q = p;
    q.conv.has_output_shape = true;
    q.conv.output_shape[0] = 8;
    static const float want[] = {1, 1, 3, 2, 5, 3, 3, 0};
    EXPECT(INFER_OP_DECONV, &q, in, want, 1, 1, 8);
    q.conv.output_shape[0] = 6;
    CHECK(run_code(INFER_OP_DECONV, &q, 2, in) == INFER_ERR_UNSUPPORTED);
  }
  { /* groups: weights [C, M/group, k]; bias and relu */
    static const float x2[] = {1, 2, -3, -4}, w2[] = {2, 3}, bias[] = {1, 20};
    InferOpParams q = conv_params(1);
    q.conv.group = 2;
    q.conv.activation.kind = INFER_UNARY_RELU;
    InferTensorView in2[] = {VIEW(x2, 1, 2, 2), VIEW(w2, 2, 1, 1), VIEW(bias, 2)};
    static const float want[] = {3, 5, 11, 8};
    EXPECT(INFER_OP_DECONV, &q, in2, want, 1, 2, 2);
    q.conv.has_residual = true;
    CHECK(run_code(INFER_OP_DECONV, &q, 3, in2) == INFER_ERR_UNSUPPORTED);
  }
}

/* The shared window arithmetic, checked directly. */
static void test_geometry(void) {
  int64_t pb, pe, out;
  InferGeoDim g = {5, 3, 2, 1, 0, 0};
  CHECK(infer_geo_window(&g, INFER_AUTO_PAD_SAME_UPPER, false, &pb, &pe, &out) == INFER_GEO_OK);
  CHECK(out == 3 && pb == 1 && pe == 1);
  InferGeoDim g2 = {6, 3, 2, 1, 0, 0};
  CHECK(infer_geo_window(&g2, INFER_AUTO_PAD_SAME_UPPER, false, &pb, &pe, &out) == INFER_GEO_OK);
  CHECK(out == 3 && pb == 0 && pe == 1);
  CHECK(infer_geo_window(&g2, INFER_AUTO_PAD_SAME_LOWER, false, &pb, &pe, &out) == INFER_GEO_OK);
  CHECK(out == 3 && pb == 1 && pe == 0);
  InferGeoDim g3 = {4, 2, 2, 1, 0, 1};
  CHECK(infer_geo_window(&g3, INFER_AUTO_PAD_NOTSET, true, &pb, &pe, &out) == INFER_GEO_OK);
  CHECK(out == 2); /* a third window would start in the end padding */
  InferGeoDim unknown = {-1, 3, 1, 1, 1, 1};
  CHECK(infer_geo_window(&unknown, INFER_AUTO_PAD_NOTSET, false, &pb, &pe, &out) ==
        INFER_GEO_OK);
  CHECK(out == -1);
  int64_t lo, hi;
  infer_geo_range(2, -3, 10, 5, &lo, &hi); /* a*2 - 3 in [0, 5) */
  CHECK(lo == 2 && hi == 3);
  CHECK(infer_geo_floordiv(-3, 2) == -2 && infer_geo_floordiv(3, 2) == 1);
}

/* ---- pooling ------------------------------------------------------------ */

static void test_pool(void) {
  static const float x16[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  {
    InferOpParams p = pool_params(INFER_POOL_MAX, 2);
    p.pool.kernel[0] = p.pool.kernel[1] = 2;
    p.pool.strides[0] = p.pool.strides[1] = 2;
    InferTensorView in[] = {VIEW(x16, 1, 1, 4, 4)};
    static const float want[] = {6, 8, 14, 16};
    EXPECT(INFER_OP_POOL, &p, in, want, 1, 1, 2, 2);
  }
  static const float x4[] = {1, 2, 3, 4};
  { /* average with pads: count_include_pad changes the divisor only */
    InferOpParams p = pool_params(INFER_POOL_AVERAGE, 1);
    p.pool.kernel[0] = 3;
    p.pool.pads[0] = p.pool.pads[1] = 1;
    InferTensorView in[] = {VIEW(x4, 1, 1, 4)};
    static const float excl[] = {1.5f, 2, 3, 3.5f}, incl[] = {1, 2, 3, 7.0f / 3.0f};
    EXPECT(INFER_OP_POOL, &p, in, excl, 1, 1, 4);
    p.pool.count_include_pad = true;
    EXPECT(INFER_OP_POOL, &p, in, incl, 1, 1, 4);
  }
  { /* ceil_mode keeps the partial last window */
    static const float x5[] = {1, 2, 3, 4, 5};
    InferOpParams p = pool_params(INFER_POOL_AVERAGE, 1);
    p.pool.kernel[0] = 2;
    p.pool.strides[0] = 2;
    InferTensorView in[] = {VIEW(x5, 1, 1, 5)};
    static const float floor_avg[] = {1.5f, 3.5f}, ceil_avg[] = {1.5f, 3.5f, 5},
                       ceil_max[] = {2, 4, 5};
    EXPECT(INFER_OP_POOL, &p, in, floor_avg, 1, 1, 2);
    p.pool.ceil_mode = true;
    EXPECT(INFER_OP_POOL, &p, in, ceil_avg, 1, 1, 3);
    p.pool.kind = INFER_POOL_MAX;
    EXPECT(INFER_OP_POOL, &p, in, ceil_max, 1, 1, 3);
  }
  { /* dilated max pooling */
    static const float x5[] = {1, 5, 2, 4, 3};
    InferOpParams p = pool_params(INFER_POOL_MAX, 1);
    p.pool.kernel[0] = 2;
    p.pool.dilations[0] = 2;
    InferTensorView in[] = {VIEW(x5, 1, 1, 5)};
    static const float want[] = {2, 5, 3};
    EXPECT(INFER_OP_POOL, &p, in, want, 1, 1, 3);
  }
  { /* Lp (p = 2) and global pools; negative values for max */
    static const float x[] = {3, -4, -1, -2, -8, -3};
    InferOpParams p = pool_params(INFER_POOL_LP, 1);
    p.pool.kernel[0] = 2;
    p.pool.strides[0] = 2;
    p.pool.p = 2;
    InferTensorView in[] = {VIEW(x, 1, 1, 6)};
    static const float lp[] = {5, sqrtf(5.0f), sqrtf(73.0f)};
    EXPECT(INFER_OP_POOL, &p, in, lp, 1, 1, 3);
    InferTensorView in2[] = {VIEW(x, 1, 2, 3)};
    p.pool.global = true;
    p.pool.kind = INFER_POOL_MAX;
    static const float gmax[] = {3, -2};
    EXPECT(INFER_OP_POOL, &p, in2, gmax, 1, 2, 1);
    p.pool.kind = INFER_POOL_AVERAGE;
    static const float gavg[] = {-2.0f / 3.0f, -13.0f / 3.0f};
    EXPECT(INFER_OP_POOL, &p, in2, gavg, 1, 2, 1);
  }
  { /* u8 max pooling works, i32 is rejected, zero batch works */
    uint8_t x[] = {9, 200, 3, 255}, *y;
    InferOpParams p = pool_params(INFER_POOL_MAX, 1);
    p.pool.kernel[0] = 2;
    InferTensorView in[] = {test_view(INFER_DTYPE_U8, 3, DIMS(1, 1, 4), x)};
    InferTensorView out[1];
    CHECK_OK(test_run_op(INFER_OP_POOL, &p, 1, in, 1, out));
    y = out[0].data;
    CHECK(out[0].dtype == INFER_DTYPE_U8 && y[0] == 200 && y[1] == 200 && y[2] == 255);
    free(out[0].data);
    int32_t xi[4] = {0};
    InferTensorView ini[] = {test_view(INFER_DTYPE_I32, 3, DIMS(1, 1, 4), xi)};
    CHECK(run_code(INFER_OP_POOL, &p, 1, ini) == INFER_ERR_UNSUPPORTED);
    p.pool.kind = INFER_POOL_AVERAGE;
    CHECK(run_code(INFER_OP_POOL, &p, 1, in) == INFER_ERR_UNSUPPORTED);
    InferTensorView empty[] = {VIEW(x4, 0, 1, 4)};
    static const float none[1] = {0};
    expect_op(__LINE__, INFER_OP_POOL, &p, 1, empty, none, 0, 3, DIMS(0, 1, 3));
    p.pool.kernel[0] = 0;
    CHECK(run_code(INFER_OP_POOL, &p, 1, empty) == INFER_ERR_INVALID_ARGUMENT);
  }
}

/* ---- Gemm / MatMul ------------------------------------------------------ */

static void test_gemm(void) {
  static const float a[] = {1, 2, 3, 4}, b[] = {5, 6, 7, 8};
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.gemm.alpha = 1;
  p.gemm.beta = 1;
  InferTensorView in[] = {VIEW(a, 2, 2), VIEW(b, 2, 2)};
  static const float ab[] = {19, 22, 43, 50}, atb[] = {26, 30, 38, 44}, abt[] = {17, 23, 39, 53},
                     atbt[] = {23, 31, 34, 46};
  EXPECT(INFER_OP_GEMM, &p, in, ab, 2, 2);
  p.gemm.trans_a = true;
  EXPECT(INFER_OP_GEMM, &p, in, atb, 2, 2);
  p.gemm.trans_b = true;
  EXPECT(INFER_OP_GEMM, &p, in, atbt, 2, 2);
  p.gemm.trans_a = false;
  EXPECT(INFER_OP_GEMM, &p, in, abt, 2, 2);
  p.gemm.trans_b = false;
  { /* alpha, beta and C as a row, a column and a scalar */
    static const float row[] = {1, 2}, col[] = {1, 2}, scalar[] = {4};
    p.gemm.alpha = 2;
    p.gemm.beta = 0.5f;
    InferTensorView r[] = {VIEW(a, 2, 2), VIEW(b, 2, 2), VIEW(row, 2)};
    static const float want_r[] = {38.5f, 45, 86.5f, 101};
    EXPECT(INFER_OP_GEMM, &p, r, want_r, 2, 2);
    InferTensorView c[] = {VIEW(a, 2, 2), VIEW(b, 2, 2), VIEW(col, 2, 1)};
    static const float want_c[] = {38.5f, 44.5f, 87, 101};
    EXPECT(INFER_OP_GEMM, &p, c, want_c, 2, 2);
    InferTensorView s[] = {VIEW(a, 2, 2), VIEW(b, 2, 2), test_view(F32, 0, NULL, (void *)scalar)};
    static const float want_s[] = {40, 46, 88, 102};
    EXPECT(INFER_OP_GEMM, &p, s, want_s, 2, 2);
    InferTensorView bad[] = {VIEW(a, 2, 2), VIEW(b, 2, 2), VIEW(scalar, 1, 1, 1)};
    CHECK(run_code(INFER_OP_GEMM, &p, 3, bad) == INFER_ERR_INVALID_ARGUMENT);
  }
  { /* fused activation: relu(-a * b) */
    InferOpParams q;
    memset(&q, 0, sizeof q);
    q.gemm.alpha = -1;
    q.gemm.beta = 1;
    q.gemm.activation.kind = INFER_UNARY_RELU;
    static const float bias[] = {20, 45};
    InferTensorView r[] = {VIEW(a, 2, 2), VIEW(b, 2, 2), VIEW(bias, 2)};
    static const float want[] = {1, 23, 0, 0};
    EXPECT(INFER_OP_GEMM, &q, r, want, 2, 2);
  }
  static const float b3[6] = {0};
  InferTensorView mismatch[] = {VIEW(a, 2, 2), VIEW(b3, 3, 2)};
  CHECK(run_code(INFER_OP_GEMM, &p, 2, mismatch) == INFER_ERR_INVALID_ARGUMENT);
}

static void test_matmul(void) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  { /* 1-D . 1-D is a scalar */
    static const float a[] = {1, 2, 3}, b[] = {4, 5, 6}, want[] = {32};
    InferTensorView in[] = {VIEW(a, 3), VIEW(b, 3)};
    expect_op(__LINE__, INFER_OP_MATMUL, &p, 2, in, want, 1, 0, NULL);
  }
  { /* 1-D x 2-D and 2-D x 1-D */
    static const float v[] = {1, 2}, m[] = {1, 2, 3, 4, 5, 6}, want[] = {9, 12, 15};
    InferTensorView in[] = {VIEW(v, 2), VIEW(m, 2, 3)};
    EXPECT(INFER_OP_MATMUL, &p, in, want, 3);
    static const float v3[] = {1, 0, -1}, want2[] = {-2, -2};
    InferTensorView in2[] = {VIEW(m, 2, 3), VIEW(v3, 3)};
    EXPECT(INFER_OP_MATMUL, &p, in2, want2, 2);
  }
  { /* batch broadcasting: [2,1,2] x [2,1] -> [2,1,1] */
    static const float a[] = {1, 2, 3, 4}, b[] = {1, 1}, want[] = {3, 7};
    InferTensorView in[] = {VIEW(a, 2, 1, 2), VIEW(b, 2, 1)};
    EXPECT(INFER_OP_MATMUL, &p, in, want, 2, 1, 1);
    /* [1,2] x [3,2,1]: b_i = [i, 1] -> a . b_i = i + 2 */
    static const float a2[] = {1, 2}, b2[] = {0, 1, 1, 1, 2, 1}, want2[] = {2, 3, 4};
    InferTensorView in2[] = {VIEW(a2, 1, 2), VIEW(b2, 3, 2, 1)};
    EXPECT(INFER_OP_MATMUL, &p, in2, want2, 3, 1, 1);
    /* [2,1,1,2] x [3,2,1] -> [2,3,1,1] */
    static const float want3[] = {2, 3, 4, 4, 7, 10};
    InferTensorView in3[] = {VIEW(a, 2, 1, 1, 2), VIEW(b2, 3, 2, 1)};
    EXPECT(INFER_OP_MATMUL, &p, in3, want3, 2, 3, 1, 1);
  }
  { /* fused relu; K = 0 gives zeros; mismatched K is invalid */
    static const float a[] = {1, -1}, b[] = {1, -2, 3, -4}, want[] = {0, 2};
    p.matmul.activation.kind = INFER_UNARY_RELU;
    InferTensorView in[] = {VIEW(a, 1, 2), VIEW(b, 2, 2)};
    EXPECT(INFER_OP_MATMUL, &p, in, want, 1, 2);
    p.matmul.activation.kind = INFER_UNARY_NONE;
    static const float zeros[] = {0, 0, 0, 0};
    InferTensorView k0[] = {VIEW(a, 2, 0), VIEW(b, 0, 2)};
    EXPECT(INFER_OP_MATMUL, &p, k0, zeros, 2, 2);
    InferTensorView bad[] = {VIEW(a, 1, 2), VIEW(b, 4, 1)};
    CHECK(run_code(INFER_OP_MATMUL, &p, 2, bad) == INFER_ERR_INVALID_ARGUMENT);
    int32_t ia[2] = {0}, ib[2] = {0};
    InferTensorView ints[] = {test_view(INFER_DTYPE_I32, 2, DIMS(1, 2), ia),
                              test_view(INFER_DTYPE_I32, 2, DIMS(2, 1), ib)};
    CHECK(run_code(INFER_OP_MATMUL, &p, 2, ints) == INFER_ERR_UNSUPPORTED);
  }
}

/* ---- normalizations ----------------------------------------------------- */

static void test_norms(void) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  { /* batchnorm: channel 0 (x-1)/2, channel 1 (x-3)/0.5*2+1 */
    static const float x[] = {1, 2, 3, 4}, s[] = {1, 2}, b[] = {0, 1}, m[] = {1, 3},
                       v[] = {4, 0.25f};
    InferTensorView in[] = {VIEW(x, 1, 2, 1, 2), VIEW(s, 2), VIEW(b, 2), VIEW(m, 2), VIEW(v, 2)};
    static const float want[] = {0, 0.5f, 1, 5};
    EXPECT(INFER_OP_BATCHNORM, &p, in, want, 1, 2, 1, 2);
    InferTensorView bad[] = {VIEW(x, 1, 2, 1, 2), VIEW(s, 2), VIEW(b, 2), VIEW(m, 2),
                             VIEW(v, 1)};
    CHECK(run_code(INFER_OP_BATCHNORM, &p, 5, bad) == INFER_ERR_INVALID_ARGUMENT);
  }
  p.norm.epsilon = 1e-5f; /* keeps the constant channel finite: 0 * 1/sqrt(eps) */
  { /* instance norm of 1,2,3,4: mean 2.5, variance 1.25 */
    static const float x[] = {1, 2, 3, 4, 5, 5, 5, 5}, s[] = {1, 2}, b[] = {0, 1};
    InferTensorView in[] = {VIEW(x, 1, 2, 4), VIEW(s, 2), VIEW(b, 2)};
    const float k = 1.0f / sqrtf(1.25f);
    const float want[] = {-1.5f * k, -0.5f * k, 0.5f * k, 1.5f * k, 1, 1, 1, 1};
    expect_op(__LINE__, INFER_OP_INSTANCENORM, &p, 3, in, want, 8, 3, DIMS(1, 2, 4));
  }
  { /* layer norm per row: [1,3] and [2,6] both normalize to [-1, 1] */
    static const float x[] = {1, 3, 2, 6}, s[] = {2, 3}, b[] = {1, 0};
    p.norm.axis = -1;
    InferTensorView in[] = {VIEW(x, 2, 2), VIEW(s, 2), VIEW(b, 2)};
    static const float want[] = {-1, 3, -1, 3};
    EXPECT(INFER_OP_LAYERNORM, &p, in, want, 2, 2);
    InferTensorView nobias[] = {VIEW(x, 2, 2), VIEW(s, 2)};
    static const float want_nb[] = {-2, 3, -2, 3};
    EXPECT(INFER_OP_LAYERNORM, &p, nobias, want_nb, 2, 2);
    /* axis 0: all four values, mean 3, variance 3.5 */
    p.norm.axis = 0;
    static const float one[] = {1};
    InferTensorView all[] = {VIEW(x, 2, 2), VIEW(one, 1)};
    const float k = 1.0f / sqrtf(3.5f);
    const float want_all[] = {-2 * k, 0, -1 * k, 3 * k};
    expect_op(__LINE__, INFER_OP_LAYERNORM, &p, 2, all, want_all, 4, 2, DIMS(2, 2));
    p.norm.axis = -3;
    CHECK(run_code(INFER_OP_LAYERNORM, &p, 2, all) == INFER_ERR_INVALID_ARGUMENT);
  }
  { /* LRN size 2: channel window [c, c+1]; alpha / size = 0.5 */
    InferOpParams q;
    memset(&q, 0, sizeof q);
    q.lrn.size = 2;
    q.lrn.alpha = 1;
    q.lrn.beta = 1;
    q.lrn.bias = 1;
    static const float x[] = {1, 2};
    InferTensorView in[] = {VIEW(x, 1, 2, 1, 1)};
    static const float want[] = {1.0f / 3.5f, 2.0f / 3.0f};
    EXPECT(INFER_OP_LRN, &q, in, want, 1, 2, 1, 1);
    q.lrn.size = 0;
    CHECK(run_code(INFER_OP_LRN, &q, 1, in) == INFER_ERR_INVALID_ARGUMENT);
  }
}

int main(void) {
  test_conv();
  test_conv_unknown_dims();
  test_deconv();
  test_geometry();
  test_pool();
  test_gemm();
  test_matmul();
  test_norms();
  TEST_MAIN_END("nn");
}
