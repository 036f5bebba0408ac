/* The cases of test_cuda_ops.c, one function per operator family. Each
 * case: begin(op, name) (returns the params to fill), its inputs in order
 * (data: a random network input; cdata: a random constant; ci64/cf32: given
 * constants; absent), then run(). Odd sizes, broadcasting, every dtype the
 * kernels take and the attribute variants that change the code path. */
#ifndef TEST_CUDA_OP_CASES_H
#define TEST_CUDA_OP_CASES_H

static void unary_case(InferUnaryKind k, InferDType t, double lo, double hi, float a, float b) {
  InferOpParams *p =
      begin(INFER_OP_UNARY, "unary %s %s", infer_unary_kind_name(k), infer_dtype_name(t));
  p->unary = (InferUnaryParams){k, a, b};
  data(t, shp(3, 2, 3, 17), lo, hi);
  run();
}

static void unary_case_shape(InferUnaryKind k, InferDType t, InferShape x, double lo, double hi) {
  char sx[64];
  InferOpParams *p = begin(INFER_OP_UNARY, "unary %s %s%s", infer_unary_kind_name(k),
                           infer_dtype_name(t), infer_shape_str(&x, sx, sizeof sx));
  p->unary = (InferUnaryParams){k, 0, 0};
  data(t, x, lo, hi);
  run();
}

static void binary_case(InferBinaryKind k, InferDType ta, InferShape a, InferDType tb, InferShape b,
                        double lo, double hi, double blo, double bhi) {
  char sa[64], sb[64];
  InferOpParams *p = begin(INFER_OP_BINARY, "binary %s %s%s %s%s", infer_binary_kind_name(k),
                           infer_dtype_name(ta), infer_shape_str(&a, sa, sizeof sa),
                           infer_dtype_name(tb), infer_shape_str(&b, sb, sizeof sb));
  p->binary.kind = k;
  data(ta, a, lo, hi);
  data(tb, b, blo, bhi);
  run();
}

static void cast_case(InferDType from, InferDType to, double lo, double hi) {
  InferOpParams *p =
      begin(INFER_OP_CAST, "cast %s -> %s", infer_dtype_name(from), infer_dtype_name(to));
  p->cast.to = to;
  data(from, shp(2, 7, 13), lo, hi);
  run();
}

/* POINTWISE programs (fused elementwise chains): step i of `p`. */
static InferPointwiseRef pw_in(int k) {
  return (InferPointwiseRef){INFER_POINTWISE_INPUT, (uint8_t)k, 0};
}
static InferPointwiseRef pw_res(int i) {
  return (InferPointwiseRef){INFER_POINTWISE_RESULT, (uint8_t)i, 0};
}
static InferPointwiseRef pw_val(float v) {
  return (InferPointwiseRef){INFER_POINTWISE_SCALAR, 0, v};
}
static void pw_unary(InferPointwiseParams *p, InferUnaryKind k, float a, float b,
                     InferPointwiseRef x, InferDType round_to) {
  p->instrs[p->n_instrs++] = (InferPointwiseInstr){INFER_POINTWISE_UNARY, (uint8_t)k,
                                                   (uint8_t)round_to, 0, a, b, x, pw_val(0)};
}
static void pw_binary(InferPointwiseParams *p, InferBinaryKind k, InferPointwiseRef x,
                      InferPointwiseRef y) {
  p->instrs[p->n_instrs++] = (InferPointwiseInstr){INFER_POINTWISE_BINARY, (uint8_t)k, 0, 0, 0,
                                                   0, x, y};
}

static void cases_pointwise(void) {
  const InferDType F = INFER_DTYPE_F32, H = INFER_DTYPE_F16, D = INFER_DTYPE_UNDEFINED;
  /* SiLU written out, then + 0.5: one input read twice */
  InferPointwiseParams *p = &begin(INFER_OP_POINTWISE, "pointwise silu + 0.5 f32")->pointwise;
  pw_unary(p, INFER_UNARY_SIGMOID, 0, 0, pw_in(0), D);
  pw_binary(p, INFER_BINARY_MUL, pw_in(0), pw_res(0));
  pw_binary(p, INFER_BINARY_ADD, pw_res(1), pw_val(0.5f));
  data(F, shp(4, 3, 2, 3, 17), -3, 3);
  run();
  /* per-channel constants and a second activation, all eight steps */
  p = &begin(INFER_OP_POINTWISE, "pointwise 8 steps, 4 inputs, broadcast")->pointwise;
  pw_binary(p, INFER_BINARY_MUL, pw_in(0), pw_in(1));
  pw_binary(p, INFER_BINARY_ADD, pw_res(0), pw_in(2));
  pw_unary(p, INFER_UNARY_LEAKY_RELU, 0.1f, 0, pw_res(1), D);
  pw_binary(p, INFER_BINARY_SUB, pw_in(3), pw_res(2));
  pw_unary(p, INFER_UNARY_TANH, 0, 0, pw_res(3), D);
  pw_binary(p, INFER_BINARY_MAX, pw_res(4), pw_val(-0.25f));
  pw_unary(p, INFER_UNARY_CLIP, -0.5f, 0.75f, pw_res(5), D);
  pw_binary(p, INFER_BINARY_PRELU, pw_res(6), pw_in(1));
  data(F, shp(4, 2, 4, 5, 6), -2, 2);
  cdata(F, shp(3, 4, 1, 1), -1, 1);
  data(F, shp(4, 2, 4, 5, 6), -1, 1);
  cdata(F, shp(1, 6), -1, 1);
  run();
  /* division, pow and the transcendental kinds */
  p = &begin(INFER_OP_POINTWISE, "pointwise div pow exp log f32")->pointwise;
  pw_unary(p, INFER_UNARY_ABS, 0, 0, pw_in(0), D);
  pw_binary(p, INFER_BINARY_ADD, pw_res(0), pw_val(0.5f));
  pw_unary(p, INFER_UNARY_LOG, 0, 0, pw_res(1), D);
  pw_binary(p, INFER_BINARY_POW, pw_res(1), pw_val(1.5f));
  pw_binary(p, INFER_BINARY_DIV, pw_res(3), pw_res(1));
  pw_unary(p, INFER_UNARY_EXP, 0, 0, pw_res(2), D);
  pw_binary(p, INFER_BINARY_MIN, pw_res(4), pw_res(5));
  data(F, shp(2, 7, 33), -3, 3);
  run();
  /* f16 in and out: every step rounds to f16 */
  p = &begin(INFER_OP_POINTWISE, "pointwise f16")->pointwise;
  pw_unary(p, INFER_UNARY_HARD_SWISH, 0, 0, pw_in(0), D);
  pw_binary(p, INFER_BINARY_MUL, pw_res(0), pw_in(1));
  data(H, shp(3, 2, 8, 9), -3, 3);
  cdata(H, shp(2, 8, 1), -1, 1);
  run();
  /* casts inside: f32 -> f16 steps -> f32 out */
  p = &begin(INFER_OP_POINTWISE, "pointwise casts f32 -> f16 -> f32")->pointwise;
  pw_unary(p, INFER_UNARY_NONE, 0, 0, pw_in(0), H);
  pw_unary(p, INFER_UNARY_SIGMOID, 0, 0, pw_res(0), H);
  pw_unary(p, INFER_UNARY_NONE, 0, 0, pw_res(1), F);
  data(F, shp(2, 5, 31), -4, 4);
  run();
  /* large: grid-stride loop past the grid cap */
  p = &begin(INFER_OP_POINTWISE, "pointwise large")->pointwise;
  pw_binary(p, INFER_BINARY_MUL, pw_in(0), pw_in(1));
  pw_unary(p, INFER_UNARY_SILU, 0, 0, pw_res(0), D);
  data(F, shp(4, 16, 64, 128, 160), -2, 2);
  cdata(F, shp(3, 64, 1, 1), -1, 1);
  run();
}

static void cases_elementwise(void) {
  const InferDType F = INFER_DTYPE_F32;
  for (int k = INFER_UNARY_NONE; k < INFER_UNARY_KIND_COUNT; k++) {
    double lo = -3, hi = 3;
    float a = 0, b = 0;
    switch (k) {
      case INFER_UNARY_NOT: continue; /* bool, below */
      case INFER_UNARY_LOG:
      case INFER_UNARY_SQRT: lo = 0.1; break;
      case INFER_UNARY_RECIPROCAL: lo = 0.5; break;
      case INFER_UNARY_ASIN:
      case INFER_UNARY_ACOS:
      case INFER_UNARY_ATANH: lo = -0.9, hi = 0.9; break;
      case INFER_UNARY_ACOSH: lo = 1.1; break;
      case INFER_UNARY_TAN: lo = -1.2, hi = 1.2; break;
      case INFER_UNARY_LEAKY_RELU: a = 0.1f; break;
      case INFER_UNARY_CLIP: a = -0.5f, b = 0.7f; break;
      case INFER_UNARY_HARD_SIGMOID: a = 0.2f, b = 0.5f; break;
      case INFER_UNARY_ELU:
      case INFER_UNARY_CELU: a = 1.0f; break;
      case INFER_UNARY_SELU: a = 1.6732632f, b = 1.0507010f; break;
      case INFER_UNARY_THRESHOLDED_RELU: a = 0.5f; break;
      case INFER_UNARY_SHRINK: a = 0.1f, b = 0.5f; break;
      case INFER_UNARY_IS_INF: a = 1, b = 1; break;
      default: break;
    }
    unary_case((InferUnaryKind)k, F, lo, hi, a, b);
  }
  unary_case(INFER_UNARY_GELU, F, -3, 3, 1.0f, 0); /* tanh approximation */
  unary_case(INFER_UNARY_NOT, INFER_DTYPE_BOOL, 0, 1, 0, 0);
  unary_case(INFER_UNARY_SIGMOID, INFER_DTYPE_F16, -3, 3, 0, 0);
  unary_case(INFER_UNARY_RELU, INFER_DTYPE_F16, -3, 3, 0, 0);
  unary_case(INFER_UNARY_ABS, INFER_DTYPE_I32, -50, 50, 0, 0);
  unary_case(INFER_UNARY_NEG, INFER_DTYPE_I64, -50, 50, 0, 0);
  unary_case(INFER_UNARY_SIGN, INFER_DTYPE_I8, -5, 5, 0, 0);
  unary_case(INFER_UNARY_CLIP, INFER_DTYPE_I32, -50, 50, -10.5f, 20.5f);
  unary_case(INFER_UNARY_RELU, INFER_DTYPE_I8, -50, 50, 0, 0);

  InferShape a4 = shp(4, 2, 3, 4, 5);
  binary_case(INFER_BINARY_ADD, F, a4, F, shp(3, 3, 1, 5), -1, 1, -1, 1);
  binary_case(INFER_BINARY_ADD, F, shp(4, 2, 1, 7, 1), F, shp(3, 3, 1, 5), -1, 1, -1, 1);
  binary_case(INFER_BINARY_SUB, F, a4, F, shp(0), -1, 1, -1, 1);
  binary_case(INFER_BINARY_MUL, F, shp(2, 4, 1), F, shp(2, 1, 5), -1, 1, -1, 1);
  binary_case(INFER_BINARY_MUL, F, shp(1, 1000), F, shp(1, 1000), -1, 1, -1, 1);
  binary_case(INFER_BINARY_DIV, F, a4, F, shp(1, 5), -1, 1, 0.5, 2);
  binary_case(INFER_BINARY_POW, F, a4, F, shp(1, 5), 0.5, 2, -2, 2);
  binary_case(INFER_BINARY_MIN, F, a4, F, a4, -1, 1, -1, 1);
  binary_case(INFER_BINARY_MAX, F, shp(1, 1), F, a4, -1, 1, -1, 1);
  binary_case(INFER_BINARY_MOD, F, a4, F, shp(1, 5), -5, 5, 0.5, 2);
  binary_case(INFER_BINARY_FMOD, F, a4, F, shp(1, 5), -5, 5, 0.5, 2);
  binary_case(INFER_BINARY_PRELU, F, shp(4, 2, 3, 4, 4), F, shp(3, 3, 1, 1), -1, 1, 0, 0.5);
  binary_case(INFER_BINARY_GREATER, F, a4, F, shp(1, 5), -1, 1, -1, 1);
  binary_case(INFER_BINARY_LESS_EQUAL, F, a4, F, shp(2, 4, 5), -1, 1, -1, 1);
  binary_case(INFER_BINARY_EQUAL, INFER_DTYPE_I32, a4, INFER_DTYPE_I32, shp(1, 5), 0, 3, 0, 3);
  binary_case(INFER_BINARY_AND, INFER_DTYPE_BOOL, a4, INFER_DTYPE_BOOL, shp(2, 4, 1), 0, 1, 0, 1);
  binary_case(INFER_BINARY_OR, INFER_DTYPE_BOOL, a4, INFER_DTYPE_BOOL, a4, 0, 1, 0, 1);
  binary_case(INFER_BINARY_XOR, INFER_DTYPE_BOOL, a4, INFER_DTYPE_BOOL, shp(0), 0, 1, 0, 1);
  binary_case(INFER_BINARY_SHIFT_LEFT, INFER_DTYPE_U8, a4, INFER_DTYPE_U8, shp(1, 5), 0, 255, 0, 9);
  binary_case(INFER_BINARY_SHIFT_RIGHT, INFER_DTYPE_U8, a4, INFER_DTYPE_U8, a4, 0, 255, 0, 9);
  binary_case(INFER_BINARY_ADD, INFER_DTYPE_I32, a4, INFER_DTYPE_I32, shp(1, 5), -1000, 1000, -9,
              9);
  binary_case(INFER_BINARY_DIV, INFER_DTYPE_I64, a4, INFER_DTYPE_I64, shp(1, 5), -100, 100, -9, 9);
  binary_case(INFER_BINARY_MOD, INFER_DTYPE_I32, a4, INFER_DTYPE_I32, shp(1, 5), -100, 100, 1, 9);
  binary_case(INFER_BINARY_MUL, INFER_DTYPE_I8, a4, INFER_DTYPE_I8, a4, -100, 100, -9, 9);
  binary_case(INFER_BINARY_POW, F, a4, INFER_DTYPE_I64, shp(1, 5), 0.5, 2, -3, 3);
  binary_case(INFER_BINARY_POW, INFER_DTYPE_I32, a4, F, shp(1, 5), 0, 5, 0, 2);
  binary_case(INFER_BINARY_ADD, INFER_DTYPE_F16, a4, INFER_DTYPE_F16, shp(2, 4, 1), -1, 1, -1, 1);
  binary_case(INFER_BINARY_GREATER, INFER_DTYPE_F16, a4, INFER_DTYPE_F16, a4, -1, 1, -1, 1);

  /* large: grid-stride loops past the grid cap (65536 blocks of 256) */
  binary_case(INFER_BINARY_ADD, F, shp(4, 16, 64, 128, 160), F, shp(3, 64, 1, 1), -1, 1, -1, 1);
  unary_case_shape(INFER_UNARY_SIGMOID, F, shp(1, 20000003), -3, 3);

  begin(INFER_OP_WHERE, "where f32 broadcast");
  data(INFER_DTYPE_BOOL, shp(3, 2, 1, 5), 0, 1);
  data(F, shp(2, 3, 5), -1, 1);
  data(F, shp(3, 2, 3, 1), -1, 1);
  run();
  begin(INFER_OP_WHERE, "where i64");
  data(INFER_DTYPE_BOOL, shp(2, 7, 9), 0, 1);
  data(INFER_DTYPE_I64, shp(2, 7, 9), -100, 100);
  data(INFER_DTYPE_I64, shp(0), -100, 100);
  run();
  begin(INFER_OP_WHERE, "where u8");
  data(INFER_DTYPE_BOOL, shp(1, 33), 0, 1);
  data(INFER_DTYPE_U8, shp(1, 33), 0, 255);
  data(INFER_DTYPE_U8, shp(1, 1), 0, 255);
  run();

  cast_case(F, INFER_DTYPE_I32, -100, 100);
  cast_case(F, INFER_DTYPE_F16, -100, 100);
  cast_case(INFER_DTYPE_F16, F, -100, 100);
  cast_case(INFER_DTYPE_I64, F, -1000, 1000);
  cast_case(F, INFER_DTYPE_BOOL, -1, 1);
  cast_case(INFER_DTYPE_BOOL, F, 0, 1);
  cast_case(INFER_DTYPE_I32, INFER_DTYPE_U8, -300, 300);
  cast_case(INFER_DTYPE_U8, INFER_DTYPE_I64, 0, 255);
  cast_case(F, INFER_DTYPE_I8, -200, 200);
  cast_case(F, F, -1, 1);
  cases_pointwise();
}

static InferConvParams conv_params(int spatial, int64_t group) {
  InferConvParams c;
  memset(&c, 0, sizeof c);
  c.spatial = spatial;
  c.group = group;
  return c;
}

static void conv_case(const char *name, const InferConvParams *cp, InferShape x, InferShape w,
                      bool bias, bool deconv) {
  InferOpParams *p =
      begin(deconv ? INFER_OP_DECONV : INFER_OP_CONV, "%s %s", deconv ? "deconv" : "conv", name);
  p->conv = *cp;
  data(INFER_DTYPE_F32, x, -1, 1);
  cdata(INFER_DTYPE_F32, w, -1, 1);
  if (bias)
    cdata(INFER_DTYPE_F32, shp(1, (int)(deconv ? w.d[1] * (cp->group ? cp->group : 1) : w.d[0])),
          -1, 1);
  run();
}

/* A convolution with a fused residual (its last input, shaped like the
 * output y); bias of the output channels when `bias`, else an absent slot. */
static void conv_residual_case(const char *name, InferConvParams cp, InferShape x, InferShape w,
                               bool bias, InferShape y) {
  cp.has_residual = true;
  InferOpParams *p = begin(INFER_OP_CONV, "conv %s", name);
  p->conv = cp;
  data(INFER_DTYPE_F32, x, -1, 1);
  cdata(INFER_DTYPE_F32, w, -1, 1);
  if (bias)
    cdata(INFER_DTYPE_F32, shp(1, (int)w.d[0]), -1, 1);
  else
    absent();
  data(INFER_DTYPE_F32, y, -1, 1);
  run();
}

static void pool_case(const char *name, InferPoolParams pp, InferShape x) {
  InferOpParams *p = begin(INFER_OP_POOL, "pool %s", name);
  p->pool = pp;
  data(INFER_DTYPE_F32, x, -1, 1);
  run();
}

static InferPoolParams pool_params(InferPoolKind kind, int spatial, int k) {
  InferPoolParams p;
  memset(&p, 0, sizeof p);
  p.kind = kind;
  p.spatial = spatial;
  for (int i = 0; i < spatial; i++) p.kernel[i] = k;
  return p;
}

/* The same layer in f16 (the CUDA kernel called directly) and in f32. */
static void pool_case_both(const char *name, InferPoolParams pp, InferShape x) {
  pool_case(name, pp, x);
  InferOpParams *p = begin(INFER_OP_POOL, "pool %s f16", name);
  p->pool = pp;
  data(INFER_DTYPE_F32, x, -1, 1);
  run_direct_half();
}

/* Shapes for each vector width of the fast 2-D kernel (16 bytes, pairs,
 * single channels) and windows that fall outside the input (ceil mode,
 * pads larger than needed). */
static void pool_fast_cases(void) {
  InferOpParams *p;
  InferPoolParams pp = pool_params(INFER_POOL_MAX, 2, 3);
  pp.channels_last = true;
  pp.strides[0] = pp.strides[1] = 2;
  pp.pads[0] = pp.pads[1] = pp.pads[2] = pp.pads[3] = 1;
  pool_case_both("nhwc max 3x3 s2 p1, 64 channels", pp, shp(4, 3, 17, 14, 64));
  pool_case_both("nhwc max 3x3 s2 p1, 6 channels", pp, shp(4, 2, 9, 10, 6));
  pp.ceil_mode = true;
  pool_case_both("nhwc max ceil_mode, 3 channels", pp, shp(4, 2, 10, 7, 3));
  pp.channels_last = false;
  pool_case_both("nchw max ceil_mode", pp, shp(4, 2, 5, 10, 7));
  pp = pool_params(INFER_POOL_AVERAGE, 2, 3);
  pp.channels_last = true;
  pp.strides[0] = 1;
  pp.strides[1] = 2;
  pp.pads[0] = pp.pads[1] = 2;
  pp.pads[2] = pp.pads[3] = 1;
  pool_case_both("nhwc average exclude pad, 16 channels", pp, shp(4, 2, 8, 9, 16));
  pp.count_include_pad = true;
  pool_case_both("nhwc average include pad, 16 channels", pp, shp(4, 2, 8, 9, 16));
  pp.ceil_mode = true;
  pool_case_both("nhwc average include pad ceil_mode, 10 channels", pp, shp(4, 2, 8, 9, 10));
  pp.channels_last = false;
  pool_case_both("nchw average include pad ceil_mode", pp, shp(4, 2, 3, 8, 9));
  pp = pool_params(INFER_POOL_AVERAGE, 2, 2);
  pp.kernel[1] = 3;
  pp.strides[0] = pp.strides[1] = 2;
  pool_case_both("nchw average 2x3 s2", pp, shp(4, 3, 2, 11, 12));
  /* 8-bit max pooling: exact, the generic kernel and the 16-byte fast one */
  pp = pool_params(INFER_POOL_MAX, 2, 3);
  pp.strides[0] = pp.strides[1] = 2;
  pp.pads[0] = pp.pads[1] = pp.pads[2] = pp.pads[3] = 1;
  pp.channels_last = true;
  p = begin(INFER_OP_POOL, "pool nhwc max u8, 32 channels");
  p->pool = pp;
  data(INFER_DTYPE_U8, shp(4, 2, 9, 11, 32), 0, 255);
  run();
  pp.channels_last = false;
  pp.dilations[0] = pp.dilations[1] = 2;
  p = begin(INFER_OP_POOL, "pool nchw max i8 dilation 2");
  p->pool = pp;
  data(INFER_DTYPE_I8, shp(4, 2, 3, 10, 9), -128, 127);
  run();
}

/* A channels-last convolution on one of the project's kernels (tactic:
 * 3000 depthwise, 3100 small input channels) in f32 through an engine and
 * in f16 through the kernel; `residual` adds a last input shaped like the
 * output. */
static void own_kernel_case_both(const char *name, int32_t tactic, InferConvParams cp,
                                 InferShape x, InferShape w, bool bias, InferShape residual) {
  cp.channels_last = true;
  cp.tactic = tactic;
  cp.has_residual = residual.rank > 0;
  for (int half = 0; half < 2; half++) {
    InferOpParams *p = begin(INFER_OP_CONV, "conv %s%s", name, half ? " f16" : "");
    p->conv = cp;
    data(INFER_DTYPE_F32, x, -1, 1);
    cdata(INFER_DTYPE_F32, w, -1, 1);
    if (bias)
      cdata(INFER_DTYPE_F32, shp(1, (int)w.d[0]), -1, 1);
    else if (cp.has_residual)
      absent();
    if (cp.has_residual) data(INFER_DTYPE_F32, residual, -1, 1);
    if (half)
      run_direct_half();
    else
      run();
  }
}

/* The register-tiled 3x3 form (stride 1 or 2, channels a multiple of 4):
 * output heights that leave a partial strip, pads on one side only, windows
 * past the edge, residual without bias; and shapes that keep the generic
 * form (6 channels, 5x5, dilation 2) in f16 as well. */
static void depthwise_cases(void) {
  InferConvParams c = conv_params(2, 32);
  c.pads[0] = c.pads[1] = c.pads[2] = c.pads[3] = 1;
  c.activation.kind = INFER_UNARY_CLIP;
  c.activation.alpha = 0.0f, c.activation.beta = 6.0f;
  InferShape none = shp(0);
  own_kernel_case_both("nhwc depthwise 3x3 s1 relu6, 32 channels, 13 rows", 3000, c,
                       shp(4, 3, 13, 17, 32), shp(4, 32, 3, 3, 1), true, none);
  c.strides[0] = c.strides[1] = 2;
  own_kernel_case_both("nhwc depthwise 3x3 s2 relu6, 32 channels", 3000, c, shp(4, 2, 15, 14, 32),
                       shp(4, 32, 3, 3, 1), true, none);
  c = conv_params(2, 36);
  c.pads[0] = c.pads[1] = 1; /* top and left only */
  c.strides[0] = c.strides[1] = 2;
  own_kernel_case_both("nhwc depthwise 3x3 s2 pads top-left, 36 channels", 3000, c,
                       shp(4, 1, 10, 9, 36), shp(4, 36, 3, 3, 1), false, none);
  c = conv_params(2, 144);
  c.pads[0] = c.pads[1] = c.pads[2] = c.pads[3] = 1;
  c.activation.kind = INFER_UNARY_RELU;
  own_kernel_case_both("nhwc depthwise 3x3 s1 residual no bias, 144 channels", 3000, c,
                       shp(4, 2, 7, 6, 144), shp(4, 144, 3, 3, 1), false, shp(4, 2, 7, 6, 144));
  c = conv_params(2, 8);
  own_kernel_case_both("nhwc depthwise 3x3 s1 no pads, 8 channels, 2 rows", 3000, c,
                       shp(4, 2, 4, 5, 8), shp(4, 8, 3, 3, 1), true, none);
  c = conv_params(2, 6);
  c.pads[0] = c.pads[1] = c.pads[2] = c.pads[3] = 1;
  own_kernel_case_both("nhwc depthwise 3x3, 6 channels (generic form)", 3000, c, shp(4, 2, 9, 7, 6),
                       shp(4, 6, 3, 3, 1), true, none);
  c = conv_params(2, 16);
  c.dilations[0] = c.dilations[1] = 2;
  c.pads[0] = c.pads[1] = c.pads[2] = c.pads[3] = 2;
  own_kernel_case_both("nhwc depthwise 3x3 dilation 2 (generic form)", 3000, c, shp(4, 2, 7, 9, 16),
                       shp(4, 16, 3, 3, 1), true, none);
}

/* cuDNN graph-API engines (tactic 2000 + configuration) in f16, where the
 * graph path applies: bias, residual, ReLU and clip (ReLU6) fused. The
 * first configuration that cuDNN can build here (the heuristics list some
 * it then refuses); the bound is the FP16 one. */
static void graph_cases(void) {
  InferConvParams c = conv_params(2, 1);
  c.channels_last = true;
  c.tactic = 2000;
  c.activation.kind = INFER_UNARY_CLIP;
  c.activation.alpha = 0.0f, c.activation.beta = 6.0f;
  struct {
    const char *name;
    InferShape x, w;
    bool residual;
  } cases[] = {
      {"nhwc 1x1 graph bias relu6", shp(4, 2, 9, 10, 16), shp(4, 32, 1, 1, 16), false},
      {"nhwc 1x1 graph bias residual relu6", shp(4, 2, 7, 6, 24), shp(4, 16, 1, 1, 24), true},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    c.has_residual = cases[i].residual;
    InferOpParams *p = begin(INFER_OP_CONV, "conv %s f16", cases[i].name);
    p->conv = c;
    C.tol = 1e-3;
    C.n_configs = 16;
    data(INFER_DTYPE_F32, cases[i].x, -1, 1);
    cdata(INFER_DTYPE_F32, cases[i].w, -1, 1);
    cdata(INFER_DTYPE_F32, shp(1, (int)cases[i].w.d[0]), -1, 1);
    if (c.has_residual) {
      InferShape y = cases[i].x;
      y.d[3] = cases[i].w.d[0];
      data(INFER_DTYPE_F32, y, -1, 1);
    }
    run_direct_half();
  }
  c.has_residual = false;
  c.pads[0] = c.pads[1] = c.pads[2] = c.pads[3] = 1;
  c.activation.kind = INFER_UNARY_RELU;
  InferOpParams *p = begin(INFER_OP_CONV, "conv nhwc 3x3 graph bias relu f16");
  p->conv = c;
  C.tol = 1e-3;
  C.n_configs = 16;
  data(INFER_DTYPE_F32, shp(4, 2, 8, 9, 8), -1, 1);
  cdata(INFER_DTYPE_F32, shp(4, 16, 3, 3, 8), -1, 1);
  cdata(INFER_DTYPE_F32, shp(1, 16), -1, 1);
  run_direct_half();
}

/* The small-input-channel kernel (tactic 3100): RGB layers of MobileNet
 * (3x3 s2) and ResNet (7x7 s2) shapes, one and four channels, dilation,
 * output channels over one block's 256, a residual. */
static void small_cin_cases(void) {
  InferConvParams c = conv_params(2, 1);
  c.strides[0] = c.strides[1] = 2;
  c.pads[0] = c.pads[1] = c.pads[2] = c.pads[3] = 1;
  c.activation.kind = INFER_UNARY_CLIP;
  c.activation.alpha = 0.0f, c.activation.beta = 6.0f;
  InferShape none = shp(0);
  own_kernel_case_both("nhwc small-cin 3x3 s2 relu6, 3 -> 32", 3100, c, shp(4, 2, 17, 16, 3),
                       shp(4, 32, 3, 3, 3), true, none);
  c = conv_params(2, 1);
  c.strides[0] = c.strides[1] = 2;
  c.pads[0] = c.pads[1] = c.pads[2] = c.pads[3] = 3;
  c.activation.kind = INFER_UNARY_RELU;
  own_kernel_case_both("nhwc small-cin 7x7 s2 relu, 3 -> 64", 3100, c, shp(4, 1, 23, 21, 3),
                       shp(4, 64, 7, 7, 3), true, none);
  c = conv_params(2, 1);
  c.dilations[0] = c.dilations[1] = 2;
  c.pads[0] = c.pads[1] = 2, c.pads[2] = c.pads[3] = 1;
  own_kernel_case_both("nhwc small-cin 3x3 dilation 2, 1 -> 8", 3100, c, shp(4, 2, 9, 11, 1),
                       shp(4, 8, 3, 3, 1), false, none);
  c = conv_params(2, 1);
  c.pads[0] = c.pads[1] = c.pads[2] = c.pads[3] = 1;
  own_kernel_case_both("nhwc small-cin 3x3 residual, 4 -> 264", 3100, c, shp(4, 1, 6, 5, 4),
                       shp(4, 264, 3, 3, 4), true, shp(4, 1, 6, 5, 264));
}

static void cases_nn(void) {
  const InferDType F = INFER_DTYPE_F32;
  InferConvParams c = conv_params(2, 1);
  c.pads[0] = c.pads[1] = c.pads[2] = c.pads[3] = 1;
  conv_case("3x3 pad 1 bias", &c, shp(4, 2, 3, 13, 11), shp(4, 8, 3, 3, 3), true, false);
  c = conv_params(2, 1);
  c.strides[0] = c.strides[1] = 2;
  c.dilations[0] = c.dilations[1] = 2;
  c.pads[0] = 0, c.pads[1] = 1, c.pads[2] = 1, c.pads[3] = 0;
  conv_case("stride 2 dilation 2 asymmetric pads", &c, shp(4, 1, 4, 17, 15), shp(4, 6, 4, 3, 3),
            true, false);
  c = conv_params(2, 4);
  conv_case("groups 4", &c, shp(4, 1, 8, 9, 9), shp(4, 8, 2, 3, 3), false, false);
  c = conv_params(2, 6);
  c.pads[0] = c.pads[1] = c.pads[2] = c.pads[3] = 1;
  conv_case("depthwise", &c, shp(4, 2, 6, 10, 10), shp(4, 6, 1, 3, 3), true, false);
  c = conv_params(2, 1);
  c.auto_pad = INFER_AUTO_PAD_SAME_UPPER;
  c.strides[0] = c.strides[1] = 2;
  conv_case("same_upper stride 2", &c, shp(4, 1, 3, 11, 12), shp(4, 5, 3, 4, 4), true, false);
  c = conv_params(2, 1);
  c.activation.kind = INFER_UNARY_RELU;
  conv_case("1x1 fused relu", &c, shp(4, 3, 16, 7, 7), shp(4, 32, 16, 1, 1), true, false);
  c = conv_params(1, 1);
  c.pads[0] = c.pads[1] = 2;
  conv_case("1-D", &c, shp(3, 2, 4, 20), shp(3, 5, 4, 3), true, false);
  c = conv_params(3, 1);
  conv_case("3-D", &c, shp(5, 1, 2, 5, 6, 7), shp(5, 3, 2, 2, 3, 3), true, false);
  /* channels-last forms: x [N, H, W, C], w [C_out, kH, kW, C_in / group]; a
   * tactic set here is kept by the builder (own kernels and cuBLASLt) */
  c = conv_params(2, 1);
  c.channels_last = true;
  c.pads[0] = c.pads[1] = c.pads[2] = c.pads[3] = 1;
  conv_case("nhwc 3x3 pad 1 bias", &c, shp(4, 2, 13, 11, 3), shp(4, 8, 3, 3, 3), true, false);
  c = conv_params(2, 1);
  c.channels_last = true;
  c.activation.kind = INFER_UNARY_RELU;
  c.tactic = 1000; /* the cuBLASLt product */
  conv_case("nhwc 1x1 cublaslt bias relu", &c, shp(4, 3, 7, 7, 16), shp(4, 32, 1, 1, 16), true,
            false);
  c.activation.kind = INFER_UNARY_SIGMOID;
  conv_case("nhwc 1x1 cublaslt bias sigmoid", &c, shp(4, 2, 5, 6, 24), shp(4, 8, 1, 1, 24), true,
            false);
  c.activation.kind = INFER_UNARY_RELU;
  c.tactic = 1001; /* cuBLASLt's second heuristic candidate for this product */
  conv_case("nhwc 1x1 cublaslt candidate 2", &c, shp(4, 4, 28, 28, 64), shp(4, 96, 1, 1, 64),
            true, false);
  /* cuDNN's legacy algorithm, then the epilogue pass for what cuDNN does
   * not fuse (ReLU6, a residual): 16-byte vectors and the scalar form */
  c = conv_params(2, 1);
  c.channels_last = true;
  c.pads[0] = c.pads[1] = c.pads[2] = c.pads[3] = 1;
  c.activation.kind = INFER_UNARY_CLIP;
  c.activation.alpha = 0.0f, c.activation.beta = 6.0f;
  c.tactic = 2; /* IMPLICIT_PRECOMP_GEMM */
  conv_case("nhwc 3x3 cudnn bias relu6, 8 channels", &c, shp(4, 2, 9, 10, 4),
            shp(4, 8, 3, 3, 4), true, false);
  conv_case("nhwc 3x3 cudnn bias relu6, 6 channels", &c, shp(4, 2, 9, 10, 4),
            shp(4, 6, 3, 3, 4), true, false);
  conv_residual_case("nhwc 3x3 cudnn bias residual relu6", c, shp(4, 2, 9, 10, 4),
                     shp(4, 16, 3, 3, 4), true, shp(4, 2, 9, 10, 16));
  c = conv_params(2, 12);
  c.channels_last = true;
  c.strides[0] = c.strides[1] = 2;
  c.pads[0] = c.pads[1] = 1, c.pads[2] = c.pads[3] = 0;
  c.activation.kind = INFER_UNARY_CLIP;
  c.activation.alpha = 0.0f, c.activation.beta = 6.0f;
  c.tactic = 3000; /* the project's depthwise kernel */
  conv_case("nhwc depthwise 3x3 stride 2 relu6 (own kernel)", &c, shp(4, 2, 11, 10, 12),
            shp(4, 12, 3, 3, 1), true, false);
  /* each vector width of the kernel: pairs, single channels, 16 bytes */
  c = conv_params(2, 6);
  c.channels_last = true;
  c.pads[0] = c.pads[1] = c.pads[2] = c.pads[3] = 1;
  c.tactic = 3000;
  conv_case("nhwc depthwise 3x3, 6 channels (own kernel)", &c, shp(4, 2, 9, 7, 6),
            shp(4, 6, 3, 3, 1), true, false);
  c = conv_params(2, 5);
  c.channels_last = true;
  c.strides[1] = 2;
  c.pads[0] = c.pads[1] = c.pads[2] = c.pads[3] = 2;
  c.tactic = 3000;
  conv_case("nhwc depthwise 5x5 stride 1x2, 5 channels (own kernel)", &c, shp(4, 3, 8, 9, 5),
            shp(4, 5, 5, 5, 1), false, false);
  c = conv_params(2, 16);
  c.channels_last = true;
  c.dilations[0] = c.dilations[1] = 2;
  c.pads[0] = c.pads[1] = c.pads[2] = c.pads[3] = 2;
  c.tactic = 3000;
  conv_residual_case("nhwc depthwise dilation 2 bias residual (own kernel)", c,
                     shp(4, 2, 7, 9, 16), shp(4, 16, 3, 3, 1), true, shp(4, 2, 7, 9, 16));
  {
    InferConvParams r = conv_params(2, 1);
    r.channels_last = true;
    r.activation.kind = INFER_UNARY_RELU;
    r.tactic = 1000;
    conv_residual_case("nhwc 1x1 cublaslt bias residual relu", r, shp(4, 2, 6, 5, 16),
                       shp(4, 24, 1, 1, 16), true, shp(4, 2, 6, 5, 24));
    r = conv_params(2, 1);
    r.channels_last = true;
    r.pads[0] = r.pads[1] = r.pads[2] = r.pads[3] = 1;
    conv_residual_case("nhwc 3x3 residual, no bias", r, shp(4, 1, 9, 8, 8), shp(4, 8, 3, 3, 8),
                       false, shp(4, 1, 9, 8, 8));
    InferPoolParams np = pool_params(INFER_POOL_MAX, 2, 3);
    np.channels_last = true;
    np.strides[0] = np.strides[1] = 2;
    np.pads[0] = np.pads[1] = np.pads[2] = np.pads[3] = 1;
    pool_case("nhwc max 3x3 stride 2", np, shp(4, 2, 11, 9, 5));
    np = pool_params(INFER_POOL_AVERAGE, 2, 1);
    np.global = true;
    np.channels_last = true;
    pool_case("nhwc global average", np, shp(4, 3, 7, 6, 40));
  }
  c = conv_params(2, 1);
  c.strides[0] = c.strides[1] = 2;
  c.pads[0] = c.pads[1] = c.pads[2] = c.pads[3] = 1;
  c.output_padding[0] = c.output_padding[1] = 1;
  conv_case("stride 2 pad 1 output_padding 1", &c, shp(4, 1, 4, 5, 5), shp(4, 4, 3, 3, 3), true,
            true);
  c = conv_params(2, 2);
  conv_case("groups 2", &c, shp(4, 2, 4, 6, 5), shp(4, 4, 2, 2, 3), true, true);

  InferPoolParams pp = pool_params(INFER_POOL_MAX, 2, 3);
  pp.strides[0] = pp.strides[1] = 2;
  pp.pads[0] = pp.pads[1] = pp.pads[2] = pp.pads[3] = 1;
  pool_case("max 3x3 stride 2 pad 1", pp, shp(4, 2, 3, 15, 15));
  pp.ceil_mode = true;
  pool_case("max ceil_mode", pp, shp(4, 1, 2, 16, 16));
  pp = pool_params(INFER_POOL_AVERAGE, 2, 3);
  pp.pads[0] = pp.pads[1] = pp.pads[2] = pp.pads[3] = 1;
  pool_case("average exclude pad", pp, shp(4, 2, 3, 9, 8));
  pp.count_include_pad = true;
  pool_case("average include pad", pp, shp(4, 2, 3, 9, 8));
  pp = pool_params(INFER_POOL_LP, 2, 2);
  pp.p = 2;
  pool_case("lp p=2", pp, shp(4, 1, 3, 8, 8));
  pp = pool_params(INFER_POOL_MAX, 2, 2);
  pp.dilations[0] = pp.dilations[1] = 2;
  pool_case("max dilation 2", pp, shp(4, 1, 2, 9, 9));
  pp = pool_params(INFER_POOL_MAX, 1, 3);
  pool_case("max 1-D", pp, shp(3, 2, 3, 20));
  pp = pool_params(INFER_POOL_AVERAGE, 2, 0);
  pp.global = true;
  pool_case("global average", pp, shp(4, 2, 5, 7, 9));
  pp.kind = INFER_POOL_MAX;
  pool_case("global max", pp, shp(4, 2, 5, 7, 9));
  pool_fast_cases();
  depthwise_cases();
  small_cin_cases();
  graph_cases();

  InferOpParams *p = begin(INFER_OP_GEMM, "gemm alpha beta bias[N]");
  p->gemm = (InferGemmParams){0.5f, 2.0f, false, false, {0, 0, 0}, {0}};
  data(F, shp(2, 7, 5), -1, 1);
  cdata(F, shp(2, 5, 9), -1, 1);
  cdata(F, shp(1, 9), -1, 1);
  run();
  p = begin(INFER_OP_GEMM, "gemm trans_a trans_b C[M,1] relu");
  p->gemm = (InferGemmParams){1.0f, 1.0f, true, true, {INFER_UNARY_RELU, 0, 0}, {0}};
  data(F, shp(2, 6, 11), -1, 1);
  cdata(F, shp(2, 13, 6), -1, 1);
  cdata(F, shp(2, 11, 1), -1, 1);
  run();
  p = begin(INFER_OP_GEMM, "gemm no C, 64x128x256");
  p->gemm = (InferGemmParams){1.0f, 1.0f, false, true, {0, 0, 0}, {0}};
  data(F, shp(2, 64, 256), -1, 1);
  cdata(F, shp(2, 128, 256), -1, 1);
  run();
  begin(INFER_OP_MATMUL, "matmul batched x 2-D");
  data(F, shp(4, 2, 3, 7, 5), -1, 1);
  cdata(F, shp(2, 5, 4), -1, 1);
  run();
  begin(INFER_OP_MATMUL, "matmul broadcast batches");
  data(F, shp(4, 3, 1, 4, 6), -1, 1);
  data(F, shp(3, 2, 6, 5), -1, 1);
  run();
  begin(INFER_OP_MATMUL, "matmul vector x matrix");
  data(F, shp(1, 5), -1, 1);
  data(F, shp(2, 5, 3), -1, 1);
  run();
  begin(INFER_OP_MATMUL, "matmul matrix x vector");
  data(F, shp(2, 4, 5), -1, 1);
  data(F, shp(1, 5), -1, 1);
  run();

  p = begin(INFER_OP_BATCHNORM, "batchnorm");
  p->norm.epsilon = 1e-5f;
  data(F, shp(4, 2, 6, 7, 5), -1, 1);
  cdata(F, shp(1, 6), 0.5, 1.5);
  cdata(F, shp(1, 6), -1, 1);
  cdata(F, shp(1, 6), -0.5, 0.5);
  cdata(F, shp(1, 6), 0.5, 2);
  run();
  p = begin(INFER_OP_INSTANCENORM, "instancenorm");
  p->norm.epsilon = 1e-5f;
  data(F, shp(4, 2, 4, 9, 7), -1, 1);
  cdata(F, shp(1, 4), 0.5, 1.5);
  cdata(F, shp(1, 4), -1, 1);
  run();
  p = begin(INFER_OP_LAYERNORM, "layernorm axis -1");
  p->norm = (InferNormParams){1e-5f, -1, {0, 0, 0}};
  data(F, shp(3, 3, 5, 16), -1, 1);
  cdata(F, shp(1, 16), 0.5, 1.5);
  cdata(F, shp(1, 16), -1, 1);
  run();
  p = begin(INFER_OP_LAYERNORM, "layernorm axis 1 no bias");
  p->norm = (InferNormParams){1e-5f, 1, {0, 0, 0}};
  data(F, shp(4, 2, 4, 3, 5), -1, 1);
  cdata(F, shp(3, 4, 3, 5), 0.5, 1.5);
  run();
  p = begin(INFER_OP_LRN, "lrn size 3");
  p->lrn = (InferLrnParams){3, 1e-4f, 0.75f, 1.0f};
  data(F, shp(4, 2, 7, 5, 5), -1, 1);
  run();
}

static void cases_reduce(void) {
  const InferDType F = INFER_DTYPE_F32;
  InferOpParams *p;
  const char *sm[] = {"softmax", "logsoftmax", "hardmax"};
  for (int k = 0; k < 3; k++) {
    p = begin(INFER_OP_SOFTMAX, "%s axis -1", sm[k]);
    p->softmax = (InferSoftmaxParams){(InferSoftmaxKind)k, -1, false};
    data(F, shp(2, 4, 33), -3, 3);
    run();
    p = begin(INFER_OP_SOFTMAX, "%s axis 1", sm[k]);
    p->softmax = (InferSoftmaxParams){(InferSoftmaxKind)k, 1, false};
    data(F, shp(3, 2, 5, 3), -3, 3);
    run();
  }
  p = begin(INFER_OP_SOFTMAX, "softmax coerce_2d axis 1");
  p->softmax = (InferSoftmaxParams){INFER_SOFTMAX, 1, true};
  data(F, shp(3, 2, 5, 3), -3, 3);
  run();
  const char *rk[] = {"sum", "mean", "max",     "min",         "prod",
                      "l1",  "l2",   "log_sum", "log_sum_exp", "sum_square"};
  for (int k = INFER_REDUCE_SUM; k <= INFER_REDUCE_SUM_SQUARE; k++) {
    bool positive = k == INFER_REDUCE_LOG_SUM;
    p = begin(INFER_OP_REDUCE, "reduce %s axes [1] keepdims", rk[k]);
    p->reduce = (InferReduceParams){(InferReduceKind)k, true, false};
    data(F, shp(3, 3, 7, 5), positive ? 0.1 : -1, positive ? 2 : 1);
    ci64(1, I64S(1));
    run();
    p = begin(INFER_OP_REDUCE, "reduce %s all axes", rk[k]);
    p->reduce = (InferReduceParams){(InferReduceKind)k, false, false};
    data(F, shp(3, 3, 4, 5), positive ? 0.1 : -0.9, positive ? 2 : 1.1);
    run();
  }
  p = begin(INFER_OP_REDUCE, "reduce mean axes [0,2]");
  p->reduce = (InferReduceParams){INFER_REDUCE_MEAN, false, false};
  data(F, shp(4, 3, 4, 5, 6), -1, 1);
  ci64(2, I64S(0, 2));
  run();
  p = begin(INFER_OP_REDUCE, "reduce sum axes [-1] 4096 wide");
  p->reduce = (InferReduceParams){INFER_REDUCE_SUM, true, false};
  data(F, shp(2, 3, 4096), -1, 1);
  ci64(1, I64S(-1));
  run();
  p = begin(INFER_OP_ARGMAX, "argmax axis 1 keepdims");
  p->argmax = (InferArgMaxParams){1, true, false, false};
  data(F, shp(3, 3, 7, 5), -1, 1);
  run();
  p = begin(INFER_OP_ARGMAX, "argmin axis -1 select_last_index");
  p->argmax = (InferArgMaxParams){-1, false, true, true};
  data(F, shp(2, 6, 9), -1, 1);
  run();
  p = begin(INFER_OP_TOPK, "topk k=3 largest sorted");
  p->topk = (InferTopKParams){-1, true, true};
  C.n_out = 2;
  data(F, shp(3, 2, 5, 17), -1, 1);
  ci64(1, I64S(3));
  run();
  p = begin(INFER_OP_TOPK, "topk k=4 smallest axis 1");
  p->topk = (InferTopKParams){1, false, true};
  C.n_out = 2;
  data(F, shp(3, 2, 9, 3), -1, 1);
  ci64(1, I64S(4));
  run();
  p = begin(INFER_OP_CUMSUM, "cumsum axis 1");
  p->cumsum = (InferCumSumParams){false, false};
  data(F, shp(3, 2, 7, 5), -1, 1);
  ci64(1, I64S(1));
  run();
  p = begin(INFER_OP_CUMSUM, "cumsum exclusive reverse axis -1");
  p->cumsum = (InferCumSumParams){true, true};
  data(F, shp(2, 3, 11), -1, 1);
  ci64(1, I64S(-1));
  run();
  static const float iou = 0.5f, score = 0.2f, iou3 = 0.3f;
  p = begin(INFER_OP_NMS, "nms corners, score threshold");
  data(F, shp(3, 1, 40, 4), 0, 1);
  data(F, shp(3, 1, 2, 40), 0, 1);
  ci64(1, I64S(5));
  cf32_scalar(&iou);
  cf32_scalar(&score);
  run();
  p = begin(INFER_OP_NMS, "nms center boxes, 2 batches 3 classes");
  p->nms.center_point_box = true;
  data(F, shp(3, 2, 200, 4), 0, 1);
  data(F, shp(3, 2, 3, 200), 0, 1);
  ci64(1, I64S(1000));
  cf32_scalar(&iou3);
  run();
}

#endif
