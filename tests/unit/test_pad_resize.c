/* Unit tests of Pad, Resize, Trilu and DepthToSpace / SpaceToDepth: shape
 * functions and CPU kernels on small cases with hand-computed answers. */
#include <stdint.h>
#include <string.h>

#include "op_runner.h"
#include "test_util.h"

#define N_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

static InferTensorView absent(void) {
  InferTensorView v;
  memset(&v, 0, sizeof v);
  return v;
}

/* Runs op and compares a f32 output with `want` (shape and values). */
static void check_f32(InferOp op, const InferOpParams *p, int n_in, const InferTensorView *in,
                      int rank, const int64_t *dims, const float *want) {
  InferTensorView out[1];
  InferStatus *st = test_run_op(op, p, n_in, in, 1, out);
  CHECK_OK(st);
  if (st) return;
  InferShape s = infer_shape_make(rank, dims);
  CHECK(out[0].dtype == INFER_DTYPE_F32);
  CHECK(infer_shape_equal(&out[0].shape, &s));
  if (infer_shape_equal(&out[0].shape, &s))
    for (int64_t i = 0; i < infer_shape_numel(&s); i++)
      CHECK_NEAR(((float *)out[0].data)[i], want[i], 1e-5);
  free(out[0].data);
}

/* Same for any dtype: compares raw bytes. */
static void check_bytes(InferOp op, const InferOpParams *p, int n_in, const InferTensorView *in,
                        int rank, const int64_t *dims, const void *want) {
  InferTensorView out[1];
  InferStatus *st = test_run_op(op, p, n_in, in, 1, out);
  CHECK_OK(st);
  if (st) return;
  InferShape s = infer_shape_make(rank, dims);
  CHECK(out[0].dtype == in[0].dtype);
  CHECK(infer_shape_equal(&out[0].shape, &s));
  size_t bytes = (size_t)infer_shape_numel(&s) * infer_dtype_size(in[0].dtype);
  if (infer_shape_equal(&out[0].shape, &s)) CHECK(memcmp(out[0].data, want, bytes) == 0);
  free(out[0].data);
}

static InferStatus *run_expect_fail(InferOp op, const InferOpParams *p, int n_in,
                                    const InferTensorView *in) {
  InferTensorView out[1];
  InferStatus *st = test_run_op(op, p, n_in, in, 1, out);
  if (!st) free(out[0].data);
  return st;
}

/* ---- Pad ------------------------------------------------------------------ */

static InferOpParams pad_params(InferPadMode mode) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.pad.mode = mode;
  return p;
}

static void test_pad_constant(void) {
  InferOpParams p = pad_params(INFER_PAD_CONSTANT);
  float x[] = {1, 2, 3, 4}, v = 9;
  int64_t xd[] = {2, 2}, pads[] = {1, 0, 0, 1}, pd[] = {4};
  InferTensorView in[] = {test_view(INFER_DTYPE_F32, 2, xd, x),
                          test_view(INFER_DTYPE_I64, 1, pd, pads),
                          test_view(INFER_DTYPE_F32, 0, NULL, &v)};
  float want[] = {9, 9, 9, 1, 2, 9, 3, 4, 9};
  check_f32(INFER_OP_PAD, &p, 3, in, 2, (int64_t[]){3, 3}, want);

  /* no value: zeros; negative pad crops */
  float x1[] = {1, 2, 3, 4};
  int64_t d1[] = {4}, pads1[] = {-1, 1}, pd1[] = {2};
  InferTensorView in1[] = {test_view(INFER_DTYPE_F32, 1, d1, x1),
                           test_view(INFER_DTYPE_I64, 1, pd1, pads1)};
  check_f32(INFER_OP_PAD, &p, 2, in1, 1, (int64_t[]){4}, (float[]){2, 3, 4, 0});

  /* i64 constant copied exactly (not through a double) */
  int64_t big = ((int64_t)1 << 60) + 1, xi[] = {5}, di[] = {1}, padsi[] = {1, 0}, pdi[] = {2};
  InferTensorView ini[] = {test_view(INFER_DTYPE_I64, 1, di, xi),
                           test_view(INFER_DTYPE_I64, 1, pdi, padsi),
                           test_view(INFER_DTYPE_I64, 0, NULL, &big)};
  check_bytes(INFER_OP_PAD, &p, 3, ini, 1, (int64_t[]){2}, (int64_t[]){big, 5});

  /* axes input (negative) selects the padded dims */
  float x2[] = {1, 2, 3, 4, 5, 6};
  int64_t d2[] = {2, 3}, pads2[] = {1, 1}, pd2[] = {2}, axes[] = {-1}, ad[] = {1};
  InferTensorView in2[] = {test_view(INFER_DTYPE_F32, 2, d2, x2),
                           test_view(INFER_DTYPE_I64, 1, pd2, pads2), absent(),
                           test_view(INFER_DTYPE_I64, 1, ad, axes)};
  check_f32(INFER_OP_PAD, &p, 4, in2, 2, (int64_t[]){2, 5},
            (float[]){0, 1, 2, 3, 0, 0, 4, 5, 6, 0});

  /* empty input padded with the constant */
  float xe[1] = {0}, ve = 7;
  int64_t de[] = {0, 2}, padse[] = {1, 0, 0, 0}, pde[] = {4};
  InferTensorView ine[] = {test_view(INFER_DTYPE_F32, 2, de, xe),
                           test_view(INFER_DTYPE_I64, 1, pde, padse),
                           test_view(INFER_DTYPE_F32, 0, NULL, &ve)};
  check_f32(INFER_OP_PAD, &p, 3, ine, 2, (int64_t[]){1, 2}, (float[]){7, 7});
}

static void test_pad_modes(void) {
  int32_t x[] = {1, 2, 3};
  int64_t d[] = {3}, pd[] = {2};
  int64_t p22[] = {2, 2}, p12[] = {1, 2}, p50[] = {5, 0};
  InferTensorView in[] = {test_view(INFER_DTYPE_I32, 1, d, x),
                          test_view(INFER_DTYPE_I64, 1, pd, p22)};
  InferOpParams p = pad_params(INFER_PAD_REFLECT);
  check_bytes(INFER_OP_PAD, &p, 2, in, 1, (int64_t[]){7}, (int32_t[]){3, 2, 1, 2, 3, 2, 1});
  p = pad_params(INFER_PAD_WRAP);
  check_bytes(INFER_OP_PAD, &p, 2, in, 1, (int64_t[]){7}, (int32_t[]){2, 3, 1, 2, 3, 1, 2});
  p = pad_params(INFER_PAD_EDGE);
  in[1].data = p12;
  check_bytes(INFER_OP_PAD, &p, 2, in, 1, (int64_t[]){6}, (int32_t[]){1, 1, 2, 3, 3, 3});
  /* reflect beyond the dim keeps reflecting (numpy) */
  p = pad_params(INFER_PAD_REFLECT);
  in[1].data = p50;
  check_bytes(INFER_OP_PAD, &p, 2, in, 1, (int64_t[]){8}, (int32_t[]){2, 1, 2, 3, 2, 1, 2, 3});
  /* a single element reflects to itself */
  int32_t one[] = {7};
  int64_t d1[] = {1};
  InferTensorView in1[] = {test_view(INFER_DTYPE_I32, 1, d1, one),
                           test_view(INFER_DTYPE_I64, 1, pd, p12)};
  check_bytes(INFER_OP_PAD, &p, 2, in1, 1, (int64_t[]){4}, (int32_t[]){7, 7, 7, 7});
  /* 2-D edge on u8 */
  uint8_t xb[] = {1, 2, 3, 4};
  int64_t db[] = {2, 2}, pads[] = {0, 1, 1, 0}, pdb[] = {4};
  InferTensorView inb[] = {test_view(INFER_DTYPE_U8, 2, db, xb),
                           test_view(INFER_DTYPE_I64, 1, pdb, pads)};
  p = pad_params(INFER_PAD_EDGE);
  check_bytes(INFER_OP_PAD, &p, 2, inb, 2, (int64_t[]){3, 3},
              (uint8_t[]){1, 1, 2, 3, 3, 4, 3, 3, 4});
}

static void test_pad_errors(void) {
  char msg[256];
  int32_t x[] = {1, 2, 3};
  int64_t d[] = {3}, pd[] = {2}, mixed[] = {-1, 2}, wrong[] = {1, 1, 1}, pdw[] = {3};
  InferTensorView in[] = {test_view(INFER_DTYPE_I32, 1, d, x),
                          test_view(INFER_DTYPE_I64, 1, pd, mixed)};
  InferOpParams p = pad_params(INFER_PAD_REFLECT);
  CHECK_FAILS(run_expect_fail(INFER_OP_PAD, &p, 2, in), INFER_ERR_UNSUPPORTED, msg);
  CHECK(strstr(msg, "test") != NULL);
  in[1] = test_view(INFER_DTYPE_I64, 1, pdw, wrong);
  CHECK_FAILS(run_expect_fail(INFER_OP_PAD, &p, 2, in), INFER_ERR_INVALID_ARGUMENT, NULL);
  /* cropping more than the dim */
  int64_t crop[] = {-2, -2};
  in[1] = test_view(INFER_DTYPE_I64, 1, pd, crop);
  CHECK_FAILS(run_expect_fail(INFER_OP_PAD, &p, 2, in), INFER_ERR_INVALID_ARGUMENT, NULL);
  /* edge padding of an empty dim has nothing to copy */
  int64_t de[] = {0}, pads[] = {1, 0};
  InferTensorView ine[] = {test_view(INFER_DTYPE_I32, 1, de, x),
                           test_view(INFER_DTYPE_I64, 1, pd, pads)};
  p = pad_params(INFER_PAD_EDGE);
  CHECK_FAILS(run_expect_fail(INFER_OP_PAD, &p, 2, ine), INFER_ERR_INVALID_ARGUMENT, NULL);
  /* pads unknown at shape time */
  InferTensorView unk[] = {test_view(INFER_DTYPE_I32, 1, d, x),
                           test_view(INFER_DTYPE_I64, 1, pd, NULL)};
  InferTensorView out[1];
  InferOpCall call = {INFER_OP_PAD, "test", &p, unk, 2, out, 1, 0};
  CHECK_FAILS(infer_shape_pad(&call), INFER_ERR_UNSUPPORTED, NULL);
  /* supports() rejects float pads */
  InferTensorView fp[] = {test_view(INFER_DTYPE_I32, 1, d, NULL),
                          test_view(INFER_DTYPE_F32, 1, pd, NULL)};
  InferOpCall probe = {INFER_OP_PAD, "test", &p, fp, 2, out, 1, 0};
  CHECK_FAILS(infer_cpu_supports_pad(&probe), INFER_ERR_UNSUPPORTED, NULL);
}

/* ---- Resize ------------------------------------------------------------- */

static InferOpParams resize_params(InferResizeMode mode, InferResizeCoord coord) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.resize.mode = mode;
  p.resize.coord = coord;
  p.resize.cubic_coeff_a = -0.75f;
  return p;
}

/* x with scales (input 2) */
static void resize_scales(const InferOpParams *p, InferDType t, int rank, const int64_t *xd,
                          void *x, int ns, const float *scales, int out_rank,
                          const int64_t *out_dims, const void *want) {
  int64_t sd[] = {ns};
  InferTensorView in[] = {test_view(t, rank, xd, x), absent(),
                          test_view(INFER_DTYPE_F32, 1, sd, (void *)scales)};
  if (t == INFER_DTYPE_F32)
    check_f32(INFER_OP_RESIZE, p, 3, in, out_rank, out_dims, want);
  else
    check_bytes(INFER_OP_RESIZE, p, 3, in, out_rank, out_dims, want);
}

static void test_resize_nearest(void) {
  /* half_pixel, round_prefer_floor; 2x2 by (2, 3) */
  InferOpParams p = resize_params(INFER_RESIZE_NEAREST, INFER_COORD_HALF_PIXEL);
  float x[] = {1, 2, 3, 4};
  float want[] = {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4};
  resize_scales(&p, INFER_DTYPE_F32, 4, (int64_t[]){1, 1, 2, 2}, x, 4,
                (float[]){1, 1, 2, 3}, 4, (int64_t[]){1, 1, 4, 6}, want);

  /* asymmetric, 1-D x2: sources 0, .5, 1, 1.5, 2, 2.5 under each rounding */
  int64_t v[] = {10, 20, 30}, d[] = {3}, od[] = {6};
  float s2[] = {2};
  p = resize_params(INFER_RESIZE_NEAREST, INFER_COORD_ASYMMETRIC);
  p.resize.nearest = INFER_NEAREST_FLOOR;
  resize_scales(&p, INFER_DTYPE_I64, 1, d, v, 1, s2, 1, od, (int64_t[]){10, 10, 20, 20, 30, 30});
  p.resize.nearest = INFER_NEAREST_CEIL;
  resize_scales(&p, INFER_DTYPE_I64, 1, d, v, 1, s2, 1, od, (int64_t[]){10, 20, 20, 30, 30, 30});
  p.resize.nearest = INFER_NEAREST_ROUND_PREFER_CEIL;
  resize_scales(&p, INFER_DTYPE_I64, 1, d, v, 1, s2, 1, od, (int64_t[]){10, 20, 20, 30, 30, 30});
  p.resize.nearest = INFER_NEAREST_ROUND_PREFER_FLOOR;
  resize_scales(&p, INFER_DTYPE_I64, 1, d, v, 1, s2, 1, od, (int64_t[]){10, 10, 20, 20, 30, 30});

  /* axes: only the last dim (given as -1) is resized */
  uint8_t b[] = {1, 2, 3, 4, 5, 6};
  p = resize_params(INFER_RESIZE_NEAREST, INFER_COORD_ASYMMETRIC);
  p.resize.nearest = INFER_NEAREST_FLOOR;
  p.resize.n_axes = 1;
  p.resize.axes[0] = -1;
  resize_scales(&p, INFER_DTYPE_U8, 2, (int64_t[]){2, 3}, b, 1, s2, 2, (int64_t[]){2, 6},
                (uint8_t[]){1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6});
}

static void test_resize_linear(void) {
  InferOpParams p = resize_params(INFER_RESIZE_LINEAR, INFER_COORD_HALF_PIXEL);
  float x[] = {1, 2, 3, 4};
  float want[] = {1,   1.25, 1.75, 2,   1.5, 1.75, 2.25, 2.5,
                  2.5, 2.75, 3.25, 3.5, 3,   3.25, 3.75, 4};
  resize_scales(&p, INFER_DTYPE_F32, 4, (int64_t[]){1, 1, 2, 2}, x, 4, (float[]){1, 1, 2, 2}, 4,
                (int64_t[]){1, 1, 4, 4}, want);

  /* align_corners by sizes: [0, 10] -> [0, 5, 10] */
  float y[] = {0, 10};
  int64_t sizes[] = {3}, sd[] = {1};
  p = resize_params(INFER_RESIZE_LINEAR, INFER_COORD_ALIGN_CORNERS);
  InferTensorView in[] = {test_view(INFER_DTYPE_F32, 1, (int64_t[]){2}, y), absent(), absent(),
                          test_view(INFER_DTYPE_I64, 1, sd, sizes)};
  check_f32(INFER_OP_RESIZE, &p, 4, in, 1, (int64_t[]){3}, (float[]){0, 5, 10});

  /* asymmetric downsample by 0.6: 4 -> 2, sources 0 and 1.667 */
  p = resize_params(INFER_RESIZE_LINEAR, INFER_COORD_ASYMMETRIC);
  resize_scales(&p, INFER_DTYPE_F32, 1, (int64_t[]){4}, x, 1, (float[]){0.6f}, 1, (int64_t[]){2},
                (float[]){1, 2.6666667f});

  /* tf_crop_and_resize: roi [0.25, 0.75] of 5 values -> sources 1, 2, 3;
   * roi [0.5, 1.5] -> sources 2, 4, 6 (outside: extrapolation value) */
  float r[] = {0, 10, 20, 30, 40}, roi[] = {0.25f, 0.75f};
  p = resize_params(INFER_RESIZE_LINEAR, INFER_COORD_TF_CROP_AND_RESIZE);
  p.resize.extrapolation_value = -1;
  InferTensorView tin[] = {test_view(INFER_DTYPE_F32, 1, (int64_t[]){5}, r),
                           test_view(INFER_DTYPE_F32, 1, (int64_t[]){2}, roi), absent(),
                           test_view(INFER_DTYPE_I64, 1, sd, sizes)};
  check_f32(INFER_OP_RESIZE, &p, 4, tin, 1, (int64_t[]){3}, (float[]){10, 20, 30});
  roi[0] = 0.5f;
  roi[1] = 1.5f;
  check_f32(INFER_OP_RESIZE, &p, 4, tin, 1, (int64_t[]){3}, (float[]){20, 40, -1});
}

static void test_resize_cubic(void) {
  /* [1, 2, 4, 8] to 8 (half_pixel): output 3 samples 1.25, weights
   * -0.10546875, 0.87890625, 0.26171875, -0.03515625 (A = -0.75) */
  InferOpParams p = resize_params(INFER_RESIZE_CUBIC, INFER_COORD_HALF_PIXEL);
  float x[] = {1, 2, 4, 8};
  int64_t sizes[] = {8}, sd[] = {1};
  InferTensorView in[] = {test_view(INFER_DTYPE_F32, 1, (int64_t[]){4}, x), absent(), absent(),
                          test_view(INFER_DTYPE_I64, 1, sd, sizes)};
  InferTensorView out[1];
  CHECK_OK(test_run_op(INFER_OP_RESIZE, &p, 4, in, 1, out));
  CHECK_NEAR(((float *)out[0].data)[3], 2.41796875, 1e-6);
  free(out[0].data);

  /* a ramp stays a ramp inside the window (align_corners, 8 -> 15: y=7 samples 3.5) */
  float ramp[] = {0, 1, 2, 3, 4, 5, 6, 7};
  int64_t s15[] = {15};
  p = resize_params(INFER_RESIZE_CUBIC, INFER_COORD_ALIGN_CORNERS);
  InferTensorView rin[] = {test_view(INFER_DTYPE_F32, 1, (int64_t[]){8}, ramp), absent(),
                           absent(), test_view(INFER_DTYPE_I64, 1, sd, s15)};
  CHECK_OK(test_run_op(INFER_OP_RESIZE, &p, 4, rin, 1, out));
  CHECK_NEAR(((float *)out[0].data)[7], 3.5, 1e-6);
  CHECK_NEAR(((float *)out[0].data)[14], 7, 1e-6);
  free(out[0].data);
}

static void test_resize_shapes(void) {
  char msg[256];
  /* keep_aspect_ratio_policy not_larger: sizes (1, 3) of (2, 4) -> scale 0.5 */
  InferOpParams p = resize_params(INFER_RESIZE_NEAREST, INFER_COORD_HALF_PIXEL);
  p.resize.aspect = INFER_ASPECT_NOT_LARGER;
  p.resize.n_axes = 2;
  p.resize.axes[0] = 2;
  p.resize.axes[1] = 3;
  float x[] = {1, 2, 3, 4, 5, 6, 7, 8};
  int64_t sizes[] = {1, 3}, sd[] = {2};
  InferTensorView in[] = {test_view(INFER_DTYPE_F32, 4, (int64_t[]){1, 1, 2, 4}, x), absent(),
                          absent(), test_view(INFER_DTYPE_I64, 1, sd, sizes)};
  /* sources: half_pixel at scale 0.5 -> 0.5 (row 0), 0.5 and 2.5 (cols 0, 2) */
  check_f32(INFER_OP_RESIZE, &p, 4, in, 4, (int64_t[]){1, 1, 1, 2}, (float[]){1, 3});
  p.resize.aspect = INFER_ASPECT_NOT_SMALLER; /* scale 0.75: 2 -> 2 (1.5 rounds up), 4 -> 3 */
  InferTensorView out[1];
  CHECK_OK(test_run_op(INFER_OP_RESIZE, &p, 4, in, 1, out));
  CHECK(out[0].shape.d[2] == 2 && out[0].shape.d[3] == 3);
  free(out[0].data);

  /* empty input, empty output */
  p = resize_params(INFER_RESIZE_LINEAR, INFER_COORD_HALF_PIXEL);
  resize_scales(&p, INFER_DTYPE_F32, 2, (int64_t[]){0, 3}, x, 2, (float[]){1, 2}, 2,
                (int64_t[]){0, 6}, x);

  /* both scales and sizes */
  float sc[] = {1, 1, 1, 1};
  int64_t s4[] = {1, 1, 2, 4}, d4[] = {4};
  InferTensorView both[] = {test_view(INFER_DTYPE_F32, 4, (int64_t[]){1, 1, 2, 4}, x), absent(),
                            test_view(INFER_DTYPE_F32, 1, d4, sc),
                            test_view(INFER_DTYPE_I64, 1, d4, s4)};
  CHECK_FAILS(run_expect_fail(INFER_OP_RESIZE, &p, 4, both), INFER_ERR_INVALID_ARGUMENT, msg);
  /* scales unknown when shapes are inferred */
  both[3] = absent();
  both[2].data = NULL;
  InferOpCall call = {INFER_OP_RESIZE, "test", &p, both, 4, out, 1, 0};
  CHECK_FAILS(infer_shape_resize(&call), INFER_ERR_UNSUPPORTED, msg);
  /* non-positive scale */
  float bad[] = {1, 1, 0, 1};
  both[2].data = bad;
  CHECK_FAILS(run_expect_fail(INFER_OP_RESIZE, &p, 3, both), INFER_ERR_INVALID_ARGUMENT, msg);
  /* tf_crop_and_resize sized by scales is refused */
  float roi[] = {0, 0, 0, 0, 1, 1, 1, 1};
  int64_t d8[] = {8};
  p = resize_params(INFER_RESIZE_LINEAR, INFER_COORD_TF_CROP_AND_RESIZE);
  both[1] = test_view(INFER_DTYPE_F32, 1, d8, roi);
  both[2].data = sc;
  CHECK_FAILS(run_expect_fail(INFER_OP_RESIZE, &p, 3, both), INFER_ERR_UNSUPPORTED, msg);
}

static void test_resize_supports(void) {
  InferTensorView out[1];
  memset(out, 0, sizeof out);
  int64_t xd[] = {2, 2}, sd[] = {2};
  InferTensorView in[] = {test_view(INFER_DTYPE_I32, 2, xd, NULL), absent(),
                          test_view(INFER_DTYPE_F32, 1, sd, NULL)};
  InferOpParams p = resize_params(INFER_RESIZE_LINEAR, INFER_COORD_HALF_PIXEL);
  InferOpCall call = {INFER_OP_RESIZE, "test", &p, in, 3, out, 1, 0};
  CHECK_FAILS(infer_cpu_supports_resize(&call), INFER_ERR_UNSUPPORTED, NULL);
  p = resize_params(INFER_RESIZE_NEAREST, INFER_COORD_HALF_PIXEL);
  CHECK_OK(infer_cpu_supports_resize(&call));
  p.resize.exclude_outside = true;
  CHECK_FAILS(infer_cpu_supports_resize(&call), INFER_ERR_UNSUPPORTED, NULL);
}

/* ---- Trilu -------------------------------------------------------------- */

static void test_trilu(void) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  float x[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  int64_t xd[] = {3, 3}, k = 0;
  InferTensorView in[] = {test_view(INFER_DTYPE_F32, 2, xd, x),
                          test_view(INFER_DTYPE_I64, 0, NULL, &k)};
  p.trilu.upper = true;
  check_f32(INFER_OP_TRILU, &p, 1, in, 2, xd, (float[]){1, 2, 3, 0, 5, 6, 0, 0, 9});
  k = 1;
  check_f32(INFER_OP_TRILU, &p, 2, in, 2, xd, (float[]){0, 2, 3, 0, 0, 6, 0, 0, 0});
  p.trilu.upper = false;
  k = -1;
  check_f32(INFER_OP_TRILU, &p, 2, in, 2, xd, (float[]){0, 0, 0, 4, 0, 0, 7, 8, 0});
  k = 0;
  check_f32(INFER_OP_TRILU, &p, 2, in, 2, xd, (float[]){1, 0, 0, 4, 5, 0, 7, 8, 9});

  /* batched, non-square, bool */
  uint8_t b[] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  int64_t bd[] = {2, 2, 4};
  InferTensorView bin[] = {test_view(INFER_DTYPE_BOOL, 3, bd, b),
                           test_view(INFER_DTYPE_I64, 0, NULL, &k)};
  p.trilu.upper = true;
  k = 2;
  check_bytes(INFER_OP_TRILU, &p, 2, bin, 3, bd,
              (uint8_t[]){0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1});

  /* empty input; rank 1 refused */
  int64_t ed[] = {0, 5};
  InferTensorView ein[] = {test_view(INFER_DTYPE_I64, 2, ed, x)};
  check_bytes(INFER_OP_TRILU, &p, 1, ein, 2, ed, x);
  int64_t d1[] = {9};
  InferTensorView r1[] = {test_view(INFER_DTYPE_F32, 1, d1, x)};
  CHECK_FAILS(run_expect_fail(INFER_OP_TRILU, &p, 1, r1), INFER_ERR_INVALID_ARGUMENT, NULL);
}

/* ---- DepthToSpace / SpaceToDepth ------------------------------------------ */

static InferOpParams ds_params(int64_t b, bool to_space, bool crd) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.depth_space.blocksize = b;
  p.depth_space.to_space = to_space;
  p.depth_space.crd_mode = crd;
  return p;
}

static void test_depth_space(void) {
  float x[] = {0, 1, 2, 3, 4, 5, 6, 7};
  int64_t deep[] = {1, 8, 1, 1}, shallow[] = {1, 2, 2, 2};
  InferTensorView in[] = {test_view(INFER_DTYPE_F32, 4, deep, x)};
  /* DCR: channel (i*2 + j)*2 + c; CRD: c*4 + i*2 + j */
  InferOpParams p = ds_params(2, true, false);
  check_f32(INFER_OP_DEPTH_SPACE, &p, 1, in, 4, shallow, (float[]){0, 2, 4, 6, 1, 3, 5, 7});
  p = ds_params(2, true, true);
  check_f32(INFER_OP_DEPTH_SPACE, &p, 1, in, 4, shallow, (float[]){0, 1, 2, 3, 4, 5, 6, 7});
  /* SpaceToDepth inverts DCR */
  InferTensorView sin[] = {test_view(INFER_DTYPE_F32, 4, shallow, x)};
  p = ds_params(2, false, false);
  check_f32(INFER_OP_DEPTH_SPACE, &p, 1, sin, 4, deep, (float[]){0, 4, 1, 5, 2, 6, 3, 7});
  /* f16 moves bits unchanged */
  uint16_t h[] = {0x3c00, 0x4000, 0x4200, 0x4400};
  int64_t hd[] = {1, 4, 1, 1};
  InferTensorView hin[] = {test_view(INFER_DTYPE_F16, 4, hd, h)};
  p = ds_params(2, true, false);
  check_bytes(INFER_OP_DEPTH_SPACE, &p, 1, hin, 4, (int64_t[]){1, 1, 2, 2}, h);
  /* channels not divisible by blocksize^2; not 4-D */
  int64_t odd[] = {1, 6, 1, 1}, d3[] = {8, 1, 1};
  InferTensorView oin[] = {test_view(INFER_DTYPE_F32, 4, odd, x)};
  CHECK_FAILS(run_expect_fail(INFER_OP_DEPTH_SPACE, &p, 1, oin), INFER_ERR_INVALID_ARGUMENT, NULL);
  InferTensorView in3[] = {test_view(INFER_DTYPE_F32, 3, d3, x)};
  CHECK_FAILS(run_expect_fail(INFER_OP_DEPTH_SPACE, &p, 1, in3), INFER_ERR_INVALID_ARGUMENT, NULL);
  /* unknown dims stay unknown */
  int64_t dyn[] = {-1, 8, 3, -1};
  InferTensorView din[] = {test_view(INFER_DTYPE_F32, 4, dyn, NULL)};
  InferTensorView out[1];
  memset(out, 0, sizeof out);
  InferOpCall call = {INFER_OP_DEPTH_SPACE, "test", &p, din, 1, out, 1, 0};
  CHECK_OK(infer_shape_depth_space(&call));
  CHECK(out[0].shape.d[0] == -1 && out[0].shape.d[1] == 2 && out[0].shape.d[2] == 6 &&
        out[0].shape.d[3] == -1);
}

int main(void) {
  test_pad_constant();
  test_pad_modes();
  test_pad_errors();
  test_resize_nearest();
  test_resize_linear();
  test_resize_cubic();
  test_resize_shapes();
  test_resize_supports();
  test_trilu();
  test_depth_space();
  TEST_MAIN_END("pad_resize");
}
