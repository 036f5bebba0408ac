/* Data-movement, pad/resize and generator cases of test_cuda_ops.c (see
 * cuda_op_cases.h for how a case is written). */
#ifndef TEST_CUDA_OP_CASES_MOVEMENT_H
#define TEST_CUDA_OP_CASES_MOVEMENT_H

static void transpose_case(InferDType t, InferShape x, int n, const int64_t *perm) {
  char s[64];
  InferOpParams *p = begin(INFER_OP_TRANSPOSE, "transpose %s%s perm of %d", infer_dtype_name(t),
                           infer_shape_str(&x, s, sizeof s), n);
  p->transpose.n_perm = n;
  for (int i = 0; i < n; i++) p->transpose.perm[i] = perm[i];
  data(t, x, -100, 100);
  run();
}

static void cases_movement(void) {
  const InferDType F = INFER_DTYPE_F32;
  InferOpParams *p = begin(INFER_OP_RESHAPE, "reshape [2,3,4] -> [4,-1]");
  p->reshape.kind = INFER_RESHAPE_SHAPE;
  data(F, shp(3, 2, 3, 4), -1, 1);
  ci64(2, I64S(4, -1));
  run();
  p = begin(INFER_OP_RESHAPE, "flatten axis 2");
  p->reshape = (InferReshapeParams){INFER_RESHAPE_FLATTEN, false, 2};
  data(INFER_DTYPE_I64, shp(4, 2, 3, 4, 5), -9, 9);
  run();
  p = begin(INFER_OP_RESHAPE, "squeeze all");
  p->reshape.kind = INFER_RESHAPE_SQUEEZE;
  data(F, shp(4, 1, 3, 1, 5), -1, 1);
  run();
  p = begin(INFER_OP_RESHAPE, "unsqueeze [0,3]");
  p->reshape.kind = INFER_RESHAPE_UNSQUEEZE;
  data(INFER_DTYPE_U8, shp(2, 3, 5), 0, 255);
  ci64(2, I64S(0, 3));
  run();
  p = begin(INFER_OP_RESHAPE, "identity");
  p->reshape.kind = INFER_RESHAPE_IDENTITY;
  data(F, shp(2, 3, 5), -1, 1);
  run();

  transpose_case(F, shp(4, 2, 3, 5, 7), 4, I64S(0, 2, 3, 1));
  transpose_case(F, shp(4, 2, 5, 7, 3), 4, I64S(0, 3, 1, 2));
  transpose_case(F, shp(2, 33, 65), 2, I64S(1, 0));
  transpose_case(F, shp(5, 2, 3, 4, 5, 6), 5, I64S(4, 0, 2, 1, 3));
  transpose_case(INFER_DTYPE_I64, shp(3, 4, 6, 5), 3, I64S(2, 0, 1));
  transpose_case(INFER_DTYPE_U8, shp(3, 3, 37, 41), 3, I64S(0, 2, 1));
  transpose_case(INFER_DTYPE_F16, shp(3, 2, 64, 96), 3, I64S(0, 2, 1));
  transpose_case(F, shp(4, 4, 64, 160, 160), 4, I64S(0, 2, 3, 1)); /* large NCHW -> NHWC */
  /* few channels (an image's), every element size: the narrow kernel */
  transpose_case(F, shp(4, 3, 3, 37, 29), 4, I64S(0, 2, 3, 1));
  transpose_case(INFER_DTYPE_F16, shp(4, 2, 3, 40, 21), 4, I64S(0, 2, 3, 1));
  transpose_case(INFER_DTYPE_I8, shp(4, 2, 4, 19, 33), 4, I64S(0, 2, 3, 1));
  transpose_case(INFER_DTYPE_I64, shp(4, 1, 8, 16, 16), 4, I64S(0, 2, 3, 1));
  transpose_case(F, shp(2, 5, 300), 2, I64S(1, 0));
  transpose_case(F, shp(3, 2, 3, 8), 0, NULL);
  transpose_case(F, shp(4, 2, 3, 4, 8), 4, I64S(1, 0, 2, 3));

  p = begin(INFER_OP_CONCAT, "concat axis 1 of 3");
  p->axis.axis = 1;
  data(F, shp(3, 2, 3, 5), -1, 1);
  data(F, shp(3, 2, 1, 5), -1, 1);
  data(F, shp(3, 2, 4, 5), -1, 1);
  run();
  p = begin(INFER_OP_CONCAT, "concat u8 axis -1");
  p->axis.axis = -1;
  data(INFER_DTYPE_U8, shp(2, 3, 5), 0, 255);
  data(INFER_DTYPE_U8, shp(2, 3, 3), 0, 255);
  run();
  p = begin(INFER_OP_CONCAT, "concat axis 0");
  p->axis.axis = 0;
  data(INFER_DTYPE_I64, shp(2, 1, 6), -9, 9);
  data(INFER_DTYPE_I64, shp(2, 3, 6), -9, 9);
  run();
  p = begin(INFER_OP_SPLIT, "split axis 1 sizes [2,3,5]");
  p->split.axis = 1;
  C.n_out = 3;
  data(F, shp(3, 2, 10, 3), -1, 1);
  ci64(3, I64S(2, 3, 5));
  run();
  p = begin(INFER_OP_SPLIT, "split equal 3 of 7, axis -1");
  p->split = (InferSplitParams){-1, 3};
  C.n_out = 3;
  data(F, shp(2, 4, 7), -1, 1);
  run();

  p = begin(INFER_OP_CONCAT, "concat large, axis 1");
  p->axis.axis = 1;
  data(F, shp(4, 8, 96, 80, 80), -1, 1);
  data(F, shp(4, 8, 33, 80, 80), -1, 1);
  run();

  begin(INFER_OP_SLICE, "slice steps 2 and -3");
  data(F, shp(2, 10, 12), -1, 1);
  ci64(2, I64S(1, -2));
  ci64(2, I64S(8, 1));
  ci64(2, I64S(0, 1));
  ci64(2, I64S(2, -3));
  run();
  begin(INFER_OP_SLICE, "slice reverse axis 1");
  data(INFER_DTYPE_I32, shp(3, 3, 9, 4), -99, 99);
  ci64(1, I64S(-1));
  ci64(1, I64S(INT64_MIN));
  ci64(1, I64S(1));
  ci64(1, I64S(-1));
  run();
  begin(INFER_OP_SLICE, "slice inner contiguous");
  data(F, shp(3, 4, 6, 32), -1, 1);
  ci64(2, I64S(1, 8));
  ci64(2, I64S(3, 24));
  ci64(2, I64S(1, 2));
  run();

  p = begin(INFER_OP_GATHER, "gather axis 0 negative indices");
  p->axis.axis = 0;
  data(F, shp(3, 5, 4, 3), -1, 1);
  data(INFER_DTYPE_I64, shp(1, 7), -5, 4);
  run();
  p = begin(INFER_OP_GATHER, "gather axis 1 i32 2-D indices");
  p->axis.axis = 1;
  data(F, shp(3, 2, 6, 5), -1, 1);
  data(INFER_DTYPE_I32, shp(2, 3, 2), 0, 5);
  run();
  p = begin(INFER_OP_GATHER, "gather embedding rows");
  p->axis.axis = 0;
  data(F, shp(2, 100, 16), -1, 1);
  data(INFER_DTYPE_I64, shp(2, 4, 7), 0, 99);
  run();
  p = begin(INFER_OP_GATHER, "gather last axis");
  p->axis.axis = -1;
  data(INFER_DTYPE_U8, shp(2, 5, 9), 0, 255);
  data(INFER_DTYPE_I64, shp(0), 0, 8);
  run();
  p = begin(INFER_OP_GATHER_ELEMENTS, "gather_elements axis 1");
  p->axis.axis = 1;
  data(F, shp(2, 3, 4), -1, 1);
  data(INFER_DTYPE_I64, shp(2, 3, 2), -4, 3);
  run();
  p = begin(INFER_OP_GATHER_ELEMENTS, "gather_elements axis 0 i32");
  p->axis.axis = 0;
  data(INFER_DTYPE_I64, shp(3, 4, 3, 5), -99, 99);
  data(INFER_DTYPE_I32, shp(3, 2, 3, 5), 0, 3);
  run();

  begin(INFER_OP_EXPAND, "expand [3,1] -> [2,3,4]");
  data(F, shp(2, 3, 1), -1, 1);
  ci64(3, I64S(2, 3, 4));
  run();
  begin(INFER_OP_EXPAND, "expand [1] -> [5,6] i64");
  data(INFER_DTYPE_I64, shp(1, 1), -9, 9);
  ci64(2, I64S(5, 6));
  run();
  begin(INFER_OP_TILE, "tile [2,3] x [2,3]");
  data(F, shp(2, 2, 3), -1, 1);
  ci64(2, I64S(2, 3));
  run();
  begin(INFER_OP_TILE, "tile [2,1,3] x [1,4,2] u8");
  data(INFER_DTYPE_U8, shp(3, 2, 1, 3), 0, 255);
  ci64(3, I64S(1, 4, 2));
  run();

  p = begin(INFER_OP_TRILU, "trilu upper k=1");
  p->trilu.upper = true;
  data(F, shp(3, 2, 5, 7), -1, 1);
  ci64(1, I64S(1));
  run();
  p = begin(INFER_OP_TRILU, "trilu lower");
  p->trilu.upper = false;
  data(INFER_DTYPE_I64, shp(2, 6, 4), -9, 9);
  run();
  p = begin(INFER_OP_DEPTH_SPACE, "depth_to_space DCR b=2");
  p->depth_space = (InferDepthSpaceParams){2, true, false};
  data(F, shp(4, 2, 8, 3, 4), -1, 1);
  run();
  p = begin(INFER_OP_DEPTH_SPACE, "depth_to_space CRD b=3");
  p->depth_space = (InferDepthSpaceParams){3, true, true};
  data(F, shp(4, 1, 18, 2, 3), -1, 1);
  run();
  p = begin(INFER_OP_DEPTH_SPACE, "space_to_depth b=2");
  p->depth_space = (InferDepthSpaceParams){2, false, false};
  data(F, shp(4, 1, 3, 6, 4), -1, 1);
  run();
}

static void pad_case(const char *name, InferPadMode mode, InferShape x, int n, const int64_t *pads,
                     const float *value) {
  InferOpParams *p = begin(INFER_OP_PAD, "pad %s", name);
  p->pad.mode = mode;
  data(INFER_DTYPE_F32, x, -1, 1);
  ci64(n, pads);
  if (value) cf32_scalar(value);
  run();
}

static InferResizeParams resize_params(InferResizeMode mode, InferResizeCoord coord) {
  InferResizeParams r;
  memset(&r, 0, sizeof r);
  r.mode = mode;
  r.coord = coord;
  r.cubic_coeff_a = -0.75f;
  return r;
}

/* Resize by scales (sizes NULL) or sizes (scales NULL), over every axis. */
static void resize_case(const char *name, InferResizeParams r, InferDType t, InferShape x,
                        const float *scales, const int64_t *sizes) {
  InferOpParams *p = begin(INFER_OP_RESIZE, "resize %s", name);
  p->resize = r;
  int n = r.n_axes ? r.n_axes : x.rank;
  data(t, x, t == INFER_DTYPE_F32 ? -1 : 0, t == INFER_DTYPE_F32 ? 1 : 255);
  absent();
  if (scales)
    cf32(n, scales);
  else
    absent();
  if (sizes) ci64(n, sizes);
  run();
}

static void cases_pad_resize(void) {
  static const float v15 = 1.5f;
  InferShape x = shp(4, 2, 3, 4, 5);
  pad_case("constant 1.5", INFER_PAD_CONSTANT, x, 8, I64S(0, 0, 1, 2, 0, 0, 2, 1), &v15);
  pad_case("constant zero, crop", INFER_PAD_CONSTANT, x, 8, I64S(0, -1, 1, -2, 0, 1, -1, 2), NULL);
  pad_case("reflect", INFER_PAD_REFLECT, x, 8, I64S(0, 0, 3, 4, 0, 0, 2, 3), NULL);
  pad_case("edge", INFER_PAD_EDGE, x, 8, I64S(1, 0, 2, 2, 0, 1, 3, 1), NULL);
  pad_case("wrap", INFER_PAD_WRAP, x, 8, I64S(0, 0, 5, 6, 0, 0, 3, 7), NULL);
  InferOpParams *p = begin(INFER_OP_PAD, "pad constant with axes [-1]");
  p->pad.mode = INFER_PAD_CONSTANT;
  data(INFER_DTYPE_I64, shp(2, 3, 4), -9, 9);
  ci64(2, I64S(2, 3));
  absent();
  ci64(1, I64S(-1));
  run();

  InferResizeParams r = resize_params(INFER_RESIZE_NEAREST, INFER_COORD_ASYMMETRIC);
  r.nearest = INFER_NEAREST_FLOOR;
  resize_case("nearest x2 asymmetric floor", r, INFER_DTYPE_F32, shp(4, 1, 2, 5, 7),
              F32S(1, 1, 2, 2), NULL);
  r = resize_params(INFER_RESIZE_NEAREST, INFER_COORD_HALF_PIXEL);
  resize_case("nearest half_pixel sizes (down/up)", r, INFER_DTYPE_F32, shp(4, 2, 3, 9, 8), NULL,
              I64S(2, 3, 5, 13));
  resize_case("nearest u8 sizes", r, INFER_DTYPE_U8, shp(4, 1, 3, 7, 7), NULL, I64S(1, 3, 16, 10));
  r.nearest = INFER_NEAREST_ROUND_PREFER_CEIL;
  resize_case("nearest round_prefer_ceil x3", r, INFER_DTYPE_F32, shp(4, 1, 1, 4, 4),
              F32S(1, 1, 3, 3), NULL);
  r = resize_params(INFER_RESIZE_NEAREST, INFER_COORD_ASYMMETRIC);
  r.nearest = INFER_NEAREST_FLOOR;
  resize_case("nearest x2 large (FPN upsample)", r, INFER_DTYPE_F32, shp(4, 2, 128, 80, 80),
              F32S(1, 1, 2, 2), NULL);
  r = resize_params(INFER_RESIZE_LINEAR, INFER_COORD_HALF_PIXEL);
  resize_case("linear half_pixel sizes", r, INFER_DTYPE_F32, shp(4, 1, 3, 8, 8), NULL,
              I64S(1, 3, 13, 5));
  r = resize_params(INFER_RESIZE_LINEAR, INFER_COORD_ALIGN_CORNERS);
  resize_case("linear align_corners x2", r, INFER_DTYPE_F32, shp(4, 2, 2, 6, 5), F32S(1, 1, 2, 2),
              NULL);
  r = resize_params(INFER_RESIZE_LINEAR, INFER_COORD_PYTORCH_HALF_PIXEL);
  resize_case("linear pytorch_half_pixel", r, INFER_DTYPE_F32, shp(4, 1, 2, 5, 9), NULL,
              I64S(1, 2, 1, 4));
  r = resize_params(INFER_RESIZE_LINEAR, INFER_COORD_HALF_PIXEL_SYMMETRIC);
  resize_case("linear half_pixel_symmetric", r, INFER_DTYPE_F32, shp(4, 1, 2, 5, 9),
              F32S(1, 1, 1.7f, 0.6f), NULL);
  r = resize_params(INFER_RESIZE_LINEAR, INFER_COORD_ASYMMETRIC);
  r.n_axes = 2;
  r.axes[0] = 2, r.axes[1] = 3;
  resize_case("linear asymmetric axes [2,3]", r, INFER_DTYPE_F32, shp(4, 2, 3, 7, 6),
              F32S(1.5f, 2.5f), NULL);
  r = resize_params(INFER_RESIZE_LINEAR, INFER_COORD_HALF_PIXEL);
  r.exclude_outside = true;
  resize_case("linear exclude_outside", r, INFER_DTYPE_F32, shp(3, 2, 9, 8), F32S(1, 0.6f, 1.8f),
              NULL);
  r = resize_params(INFER_RESIZE_LINEAR, INFER_COORD_HALF_PIXEL);
  r.aspect = INFER_ASPECT_NOT_LARGER;
  r.n_axes = 2;
  r.axes[0] = 2, r.axes[1] = 3;
  resize_case("linear keep aspect not_larger", r, INFER_DTYPE_F32, shp(4, 1, 2, 6, 9), NULL,
              I64S(12, 12));
  r = resize_params(INFER_RESIZE_LINEAR, INFER_COORD_TF_CROP_AND_RESIZE);
  r.extrapolation_value = 7.5f;
  p = begin(INFER_OP_RESIZE, "resize linear tf_crop_and_resize extrapolation");
  p->resize = r;
  data(INFER_DTYPE_F32, shp(4, 1, 2, 6, 6), -1, 1);
  cf32(8, F32S(0, 0, -0.2f, 0.1f, 1, 1, 0.8f, 1.3f));
  absent();
  ci64(4, I64S(1, 2, 5, 7));
  run();
  r = resize_params(INFER_RESIZE_CUBIC, INFER_COORD_HALF_PIXEL);
  resize_case("cubic half_pixel x2", r, INFER_DTYPE_F32, shp(4, 2, 3, 5, 7), F32S(1, 1, 2, 2),
              NULL);
  r = resize_params(INFER_RESIZE_CUBIC, INFER_COORD_ALIGN_CORNERS);
  resize_case("cubic align_corners sizes (down/up)", r, INFER_DTYPE_F32, shp(4, 1, 2, 9, 6), NULL,
              I64S(1, 2, 4, 11));
  r = resize_params(INFER_RESIZE_CUBIC, INFER_COORD_ASYMMETRIC);
  r.cubic_coeff_a = -0.5f;
  r.exclude_outside = true;
  r.n_axes = 2;
  r.axes[0] = 1, r.axes[1] = 2;
  resize_case("cubic a=-0.5 exclude_outside axes [1,2]", r, INFER_DTYPE_F32, shp(3, 2, 6, 5),
              F32S(0.7f, 2.3f), NULL);
}

static void cases_generators(void) {
  static const float f_start = 0.5f, f_limit = 100.3f, f_delta = 0.37f;
  static const int32_t i_start = -7, i_limit = 5000, i_delta = 3;
  static const int64_t l_start = 100, l_limit = -9000, l_delta = -7;
  begin(INFER_OP_RANGE, "range f32");
  add_in(IN_CONST, INFER_DTYPE_F32, shp(0), 0, 0, &f_start);
  add_in(IN_CONST, INFER_DTYPE_F32, shp(0), 0, 0, &f_limit);
  add_in(IN_CONST, INFER_DTYPE_F32, shp(0), 0, 0, &f_delta);
  run_direct();
  begin(INFER_OP_RANGE, "range i32");
  add_in(IN_CONST, INFER_DTYPE_I32, shp(0), 0, 0, &i_start);
  add_in(IN_CONST, INFER_DTYPE_I32, shp(0), 0, 0, &i_limit);
  add_in(IN_CONST, INFER_DTYPE_I32, shp(0), 0, 0, &i_delta);
  run_direct();
  begin(INFER_OP_RANGE, "range i64 negative delta");
  add_in(IN_CONST, INFER_DTYPE_I64, shp(0), 0, 0, &l_start);
  add_in(IN_CONST, INFER_DTYPE_I64, shp(0), 0, 0, &l_limit);
  add_in(IN_CONST, INFER_DTYPE_I64, shp(0), 0, 0, &l_delta);
  run_direct();
  InferOpParams *p = begin(INFER_OP_SHAPE, "shape start 1");
  p->shape = (InferShapeOpParams){1, 0, false};
  data(INFER_DTYPE_F32, shp(4, 2, 3, 4, 5), -1, 1);
  run_direct();
  begin(INFER_OP_SIZE, "size");
  data(INFER_DTYPE_F32, shp(3, 2, 3, 7), -1, 1);
  run_direct();
  p = begin(INFER_OP_CONSTANT_OF_SHAPE, "constant_of_shape f32 2.5");
  p->constant_of_shape.dtype = INFER_DTYPE_F32;
  float v = 2.5f;
  memcpy(p->constant_of_shape.value, &v, 4);
  ci64(3, I64S(3, 50, 7));
  run_direct();
  p = begin(INFER_OP_CONSTANT_OF_SHAPE, "constant_of_shape i64 7");
  p->constant_of_shape.dtype = INFER_DTYPE_I64;
  int64_t seven = 7;
  memcpy(p->constant_of_shape.value, &seven, 8);
  ci64(2, I64S(33, 5));
  run_direct();
  p = begin(INFER_OP_CONSTANT_OF_SHAPE, "constant_of_shape bool");
  p->constant_of_shape.dtype = INFER_DTYPE_BOOL;
  p->constant_of_shape.value[0] = 1;
  ci64(1, I64S(9));
  run_direct();
  /* the same generators through the engine (host path) */
  begin(INFER_OP_SHAPE, "shape through the engine");
  data(INFER_DTYPE_F32, shp(3, 2, 3, 4), -1, 1);
  run();
}

#endif
