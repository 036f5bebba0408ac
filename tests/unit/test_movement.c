/* Unit tests of the data-movement family: shape functions and CPU kernels on
 * small hand-computed cases, plus edge cases (negative axes, empty tensors,
 * unknown dims and shape inputs, rejected dtypes). */
#include <stdint.h>
#include <string.h>

#include "op_runner.h"
#include "test_util.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static InferOpParams params_zero(void) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  return p;
}

static InferOpParams reshape_kind(InferReshapeKind kind) {
  InferOpParams p = params_zero();
  p.reshape.kind = kind;
  return p;
}

static InferTensorView i64_vec(int n, int64_t *v) {
  int64_t d[1] = {n};
  return test_view(INFER_DTYPE_I64, 1, d, v);
}

static bool shape_is(const InferTensorView *v, int rank, const int64_t *dims) {
  if (v->shape.rank != rank) return false;
  for (int i = 0; i < rank; i++)
    if (v->shape.d[i] != dims[i]) return false;
  return true;
}

static bool floats_are(const InferTensorView *v, int n, const float *want) {
  if (v->dtype != INFER_DTYPE_F32 || infer_shape_numel(&v->shape) != n) return false;
  for (int i = 0; i < n; i++)
    if (((const float *)v->data)[i] != want[i]) return false;
  return true;
}

static bool i64s_are(const InferTensorView *v, int n, const int64_t *want) {
  if (v->dtype != INFER_DTYPE_I64 || infer_shape_numel(&v->shape) != n) return false;
  for (int i = 0; i < n; i++)
    if (((const int64_t *)v->data)[i] != want[i]) return false;
  return true;
}

/* Runs only the shape function (data of the inputs as given). */
static InferStatus *shape_only(InferOp op, const InferOpParams *p, int n_in,
                               const InferTensorView *in, InferTensorView *out) {
  memset(out, 0, sizeof *out);
  InferOpCall call = {op, "test", p, in, n_in, out, 1, 0};
  return infer_op_info(op)->infer_shape(&call);
}

static float x6[6] = {0, 1, 2, 3, 4, 5};

static void test_reshape(void) {
  int64_t d23[2] = {2, 3}, tgt[2] = {3, -1}, zero[2] = {0, 3}, bad[2] = {4, -1}, two[2] = {-1, -1};
  InferOpParams p = reshape_kind(INFER_RESHAPE_SHAPE);
  InferTensorView in[2] = {test_view(INFER_DTYPE_F32, 2, d23, x6), i64_vec(2, tgt)}, out;
  CHECK_OK(test_run_op(INFER_OP_RESHAPE, &p, 2, in, 1, &out));
  CHECK(shape_is(&out, 2, (int64_t[]){3, 2}));
  CHECK(floats_are(&out, 6, x6));
  free(out.data);

  in[1] = i64_vec(2, zero); /* 0 copies the input dim */
  CHECK_OK(test_run_op(INFER_OP_RESHAPE, &p, 2, in, 1, &out));
  CHECK(shape_is(&out, 2, (int64_t[]){2, 3}));
  free(out.data);

  in[1] = i64_vec(2, bad);
  CHECK_FAILS(test_run_op(INFER_OP_RESHAPE, &p, 2, in, 1, &out), INFER_ERR_INVALID_ARGUMENT, NULL);
  in[1] = i64_vec(2, two);
  CHECK_FAILS(test_run_op(INFER_OP_RESHAPE, &p, 2, in, 1, &out), INFER_ERR_INVALID_ARGUMENT, NULL);

  /* allowzero keeps a literal 0 */
  int64_t d03[2] = {0, 3}, az[2] = {3, 0};
  p.reshape.allowzero = true;
  in[0] = test_view(INFER_DTYPE_F32, 2, d03, x6);
  in[1] = i64_vec(2, az);
  CHECK_OK(test_run_op(INFER_OP_RESHAPE, &p, 2, in, 1, &out));
  CHECK(shape_is(&out, 2, az));
  free(out.data);

  /* unknown target value: the shape function says so */
  p.reshape.allowzero = false;
  in[0] = test_view(INFER_DTYPE_F32, 2, d23, NULL);
  in[1] = i64_vec(2, NULL);
  CHECK_FAILS(shape_only(INFER_OP_RESHAPE, &p, 2, in, &out), INFER_ERR_UNSUPPORTED, NULL);

  /* unknown input dim: the inferred dim stays unknown */
  int64_t dyn[2] = {-1, 6}, t3[3] = {-1, 2, 3};
  in[0] = test_view(INFER_DTYPE_F32, 2, dyn, NULL);
  in[1] = i64_vec(3, t3);
  CHECK_OK(shape_only(INFER_OP_RESHAPE, &p, 2, in, &out));
  CHECK(shape_is(&out, 3, t3));
  /* a dynamic batch copied by 0 cancels out: [?,3,4] to [0,-1] is [?,12] */
  int64_t dyn3[3] = {-1, 3, 4}, keep[2] = {0, -1};
  in[0] = test_view(INFER_DTYPE_F32, 3, dyn3, NULL);
  in[1] = i64_vec(2, keep);
  CHECK_OK(shape_only(INFER_OP_RESHAPE, &p, 2, in, &out));
  CHECK(shape_is(&out, 2, (int64_t[]){-1, 12}));
}

static void test_flatten_squeeze(void) {
  int64_t d234[3] = {2, 3, 4};
  InferOpParams p = reshape_kind(INFER_RESHAPE_FLATTEN);
  InferTensorView in[2] = {test_view(INFER_DTYPE_F32, 3, d234, NULL)}, out;
  struct { int64_t axis, d0, d1; } cases[] = {{-1, 6, 4}, {0, 1, 24}, {3, 24, 1}, {1, 2, 12}};
  for (int i = 0; i < N(cases); i++) {
    p.reshape.axis = cases[i].axis;
    CHECK_OK(shape_only(INFER_OP_RESHAPE, &p, 1, in, &out));
    CHECK(shape_is(&out, 2, (int64_t[]){cases[i].d0, cases[i].d1}));
  }
  p.reshape.axis = 4;
  CHECK_FAILS(shape_only(INFER_OP_RESHAPE, &p, 1, in, &out), INFER_ERR_INVALID_ARGUMENT, NULL);

  int64_t d1312[4] = {1, 3, 1, 2}, neg[1] = {-2}, wrong[1] = {1}, twice[2] = {0, -4};
  p = reshape_kind(INFER_RESHAPE_SQUEEZE);
  in[0] = test_view(INFER_DTYPE_F32, 4, d1312, x6);
  CHECK_OK(test_run_op(INFER_OP_RESHAPE, &p, 1, in, 1, &out));
  CHECK(shape_is(&out, 2, (int64_t[]){3, 2}));
  CHECK(floats_are(&out, 6, x6));
  free(out.data);
  in[1] = i64_vec(1, neg);
  CHECK_OK(test_run_op(INFER_OP_RESHAPE, &p, 2, in, 1, &out));
  CHECK(shape_is(&out, 3, (int64_t[]){1, 3, 2}));
  free(out.data);
  in[1] = i64_vec(1, wrong);
  CHECK_FAILS(test_run_op(INFER_OP_RESHAPE, &p, 2, in, 1, &out), INFER_ERR_INVALID_ARGUMENT, NULL);
  in[1] = i64_vec(2, twice);
  CHECK_FAILS(test_run_op(INFER_OP_RESHAPE, &p, 2, in, 1, &out), INFER_ERR_INVALID_ARGUMENT, NULL);

  int64_t d32[2] = {3, 2}, ax[2] = {0, -1}, ax2[2] = {3, 1}, dup[2] = {1, -3};
  p = reshape_kind(INFER_RESHAPE_UNSQUEEZE);
  in[0] = test_view(INFER_DTYPE_F32, 2, d32, x6);
  in[1] = i64_vec(2, ax);
  CHECK_OK(test_run_op(INFER_OP_RESHAPE, &p, 2, in, 1, &out));
  CHECK(shape_is(&out, 4, (int64_t[]){1, 3, 2, 1}));
  CHECK(floats_are(&out, 6, x6));
  free(out.data);
  in[1] = i64_vec(2, ax2);
  CHECK_OK(shape_only(INFER_OP_RESHAPE, &p, 2, in, &out));
  CHECK(shape_is(&out, 4, (int64_t[]){3, 1, 2, 1}));
  in[1] = i64_vec(2, dup); /* -3 of rank 4 is 1 again */
  CHECK_FAILS(shape_only(INFER_OP_RESHAPE, &p, 2, in, &out), INFER_ERR_INVALID_ARGUMENT, NULL);

  /* identity of a bool tensor */
  uint8_t b[3] = {1, 0, 1};
  int64_t d3[1] = {3};
  p = reshape_kind(INFER_RESHAPE_IDENTITY);
  in[0] = test_view(INFER_DTYPE_BOOL, 1, d3, b);
  CHECK_OK(test_run_op(INFER_OP_RESHAPE, &p, 1, in, 1, &out));
  CHECK(out.dtype == INFER_DTYPE_BOOL && memcmp(out.data, b, 3) == 0);
  free(out.data);
}

static void test_transpose(void) {
  int64_t d23[2] = {2, 3};
  InferOpParams p = params_zero();
  InferTensorView in = test_view(INFER_DTYPE_F32, 2, d23, x6), out;
  CHECK_OK(test_run_op(INFER_OP_TRANSPOSE, &p, 1, &in, 1, &out));
  CHECK(shape_is(&out, 2, (int64_t[]){3, 2}));
  CHECK(floats_are(&out, 6, (float[]){0, 3, 1, 4, 2, 5}));
  free(out.data);

  /* y[i][j][k] = x[j][k][i] for perm (2, 0, 1); x[a][b][c] = 100a + 10b + c */
  int64_t x[24], d234[3] = {2, 3, 4};
  for (int a = 0; a < 2; a++)
    for (int b = 0; b < 3; b++)
      for (int c = 0; c < 4; c++) x[a * 12 + b * 4 + c] = 100 * a + 10 * b + c;
  p.transpose.n_perm = 3;
  p.transpose.perm[0] = 2;
  p.transpose.perm[1] = 0;
  p.transpose.perm[2] = 1;
  in = test_view(INFER_DTYPE_I64, 3, d234, x);
  CHECK_OK(test_run_op(INFER_OP_TRANSPOSE, &p, 1, &in, 1, &out));
  CHECK(shape_is(&out, 3, (int64_t[]){4, 2, 3}));
  const int64_t *y = out.data;
  int wrong = 0;
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 2; j++)
      for (int k = 0; k < 3; k++) wrong += y[i * 6 + j * 3 + k] != 100 * j + 10 * k + i;
  CHECK(wrong == 0);
  free(out.data);

  p.transpose.perm[2] = 0; /* not a permutation */
  CHECK_FAILS(test_run_op(INFER_OP_TRANSPOSE, &p, 1, &in, 1, &out), INFER_ERR_INVALID_ARGUMENT,
              NULL);
}

static void test_concat_split(void) {
  float a[4] = {1, 2, 3, 4}, b[2] = {5, 6};
  int64_t d22[2] = {2, 2}, d21[2] = {2, 1}, d20[2] = {2, 0};
  InferOpParams p = params_zero();
  p.axis.axis = -1;
  InferTensorView in[3] = {test_view(INFER_DTYPE_F32, 2, d22, a),
                           test_view(INFER_DTYPE_F32, 2, d20, NULL),
                           test_view(INFER_DTYPE_F32, 2, d21, b)},
                  out;
  CHECK_OK(test_run_op(INFER_OP_CONCAT, &p, 3, in, 1, &out));
  CHECK(shape_is(&out, 2, (int64_t[]){2, 3}));
  CHECK(floats_are(&out, 6, (float[]){1, 2, 5, 3, 4, 6}));
  free(out.data);
  p.axis.axis = 0; /* dim 1 differs */
  CHECK_FAILS(test_run_op(INFER_OP_CONCAT, &p, 3, in, 1, &out), INFER_ERR_INVALID_ARGUMENT, NULL);
  in[2].dtype = INFER_DTYPE_I32;
  p.axis.axis = 1;
  CHECK_FAILS(test_run_op(INFER_OP_CONCAT, &p, 3, in, 1, &out), INFER_ERR_INVALID_ARGUMENT, NULL);

  /* equal parts, the last smaller: 7 into 4 is 2, 2, 2, 1 */
  uint8_t u[7] = {1, 2, 3, 4, 5, 6, 7};
  int64_t d7[1] = {7};
  InferTensorView outs[4];
  InferOpParams sp = params_zero();
  sp.split.num_outputs = 4;
  in[0] = test_view(INFER_DTYPE_U8, 1, d7, u);
  CHECK_OK(test_run_op(INFER_OP_SPLIT, &sp, 1, in, 4, outs));
  CHECK(outs[0].shape.d[0] == 2 && outs[2].shape.d[0] == 2 && outs[3].shape.d[0] == 1);
  CHECK(((uint8_t *)outs[1].data)[0] == 3 && ((uint8_t *)outs[3].data)[0] == 7);
  for (int i = 0; i < 4; i++) free(outs[i].data);

  /* given sizes along axis 1, one of them empty */
  int64_t d23[2] = {2, 3}, sizes[3] = {1, 0, 2}, bad[3] = {1, 1, 2};
  sp.split.axis = 1;
  sp.split.num_outputs = 0;
  in[0] = test_view(INFER_DTYPE_F32, 2, d23, x6);
  in[1] = i64_vec(3, sizes);
  CHECK_OK(test_run_op(INFER_OP_SPLIT, &sp, 2, in, 3, outs));
  CHECK(shape_is(&outs[0], 2, (int64_t[]){2, 1}) && shape_is(&outs[1], 2, (int64_t[]){2, 0}));
  CHECK(floats_are(&outs[0], 2, (float[]){0, 3}));
  CHECK(floats_are(&outs[2], 4, (float[]){1, 2, 4, 5}));
  for (int i = 0; i < 3; i++) free(outs[i].data);
  in[1] = i64_vec(3, bad);
  CHECK_FAILS(test_run_op(INFER_OP_SPLIT, &sp, 2, in, 3, outs), INFER_ERR_INVALID_ARGUMENT, NULL);
}

static void test_slice(void) {
  float x[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  int64_t d10[1] = {10}, s[1] = {-3}, e[1] = {INT64_MAX};
  InferTensorView in[5] = {test_view(INFER_DTYPE_F32, 1, d10, x), i64_vec(1, s), i64_vec(1, e)},
                  out;
  CHECK_OK(test_run_op(INFER_OP_SLICE, NULL, 3, in, 1, &out));
  CHECK(floats_are(&out, 3, (float[]){7, 8, 9}));
  free(out.data);

  /* backwards from the end past the start, step -3 */
  int64_t s2[1] = {-1}, e2[1] = {INT64_MIN}, ax[1] = {0}, st[1] = {-3};
  in[1] = i64_vec(1, s2);
  in[2] = i64_vec(1, e2);
  in[3] = i64_vec(1, ax);
  in[4] = i64_vec(1, st);
  CHECK_OK(test_run_op(INFER_OP_SLICE, NULL, 5, in, 1, &out));
  CHECK(floats_are(&out, 4, (float[]){9, 6, 3, 0}));
  free(out.data);

  /* start past the end: empty */
  int64_t s3[1] = {20}, e3[1] = {30};
  in[1] = i64_vec(1, s3);
  in[2] = i64_vec(1, e3);
  in[4].dtype = INFER_DTYPE_UNDEFINED;
  CHECK_OK(test_run_op(INFER_OP_SLICE, NULL, 5, in, 1, &out));
  CHECK(shape_is(&out, 1, (int64_t[]){0}));
  free(out.data);

  /* i32 inputs on axis -1 of a [2,3] tensor */
  int64_t d23[2] = {2, 3}, one[1] = {1};
  int32_t s4[1] = {1}, e4[1] = {3}, a4[1] = {-1};
  in[0] = test_view(INFER_DTYPE_F32, 2, d23, x6);
  in[1] = test_view(INFER_DTYPE_I32, 1, one, s4);
  in[2] = test_view(INFER_DTYPE_I32, 1, one, e4);
  in[3] = test_view(INFER_DTYPE_I32, 1, one, a4);
  CHECK_OK(test_run_op(INFER_OP_SLICE, NULL, 4, in, 1, &out));
  CHECK(shape_is(&out, 2, (int64_t[]){2, 2}));
  CHECK(floats_are(&out, 4, (float[]){1, 2, 4, 5}));
  free(out.data);

  int32_t zero_step[1] = {0};
  in[4] = test_view(INFER_DTYPE_I32, 1, one, zero_step);
  CHECK_FAILS(test_run_op(INFER_OP_SLICE, NULL, 5, in, 1, &out), INFER_ERR_INVALID_ARGUMENT, NULL);
  /* unknown dim: the sliced dim is unknown too */
  int64_t dyn[2] = {2, -1};
  in[0] = test_view(INFER_DTYPE_F32, 2, dyn, NULL);
  CHECK_OK(shape_only(INFER_OP_SLICE, NULL, 4, in, &out));
  CHECK(shape_is(&out, 2, dyn));
}

static void test_gather(void) {
  int64_t d32[2] = {3, 2}, two[1] = {2}, one[1] = {1};
  int32_t idx[2] = {2, -3};
  InferOpParams p = params_zero();
  InferTensorView in[2] = {test_view(INFER_DTYPE_F32, 2, d32, x6),
                           test_view(INFER_DTYPE_I32, 1, two, idx)},
                  out;
  CHECK_OK(test_run_op(INFER_OP_GATHER, &p, 2, in, 1, &out));
  CHECK(shape_is(&out, 2, (int64_t[]){2, 2}));
  CHECK(floats_are(&out, 4, (float[]){4, 5, 0, 1}));
  free(out.data);

  /* scalar index on axis -1 drops the axis */
  int64_t k = 1;
  p.axis.axis = -1;
  in[1] = test_view(INFER_DTYPE_I64, 0, NULL, &k);
  CHECK_OK(test_run_op(INFER_OP_GATHER, &p, 2, in, 1, &out));
  CHECK(shape_is(&out, 1, (int64_t[]){3}));
  CHECK(floats_are(&out, 3, (float[]){1, 3, 5}));
  free(out.data);

  /* 2-D indices: [1,2] indices on axis 0 */
  int64_t idx2[2] = {1, 1}, d12[2] = {1, 2};
  p.axis.axis = 0;
  in[1] = test_view(INFER_DTYPE_I64, 2, d12, idx2);
  CHECK_OK(test_run_op(INFER_OP_GATHER, &p, 2, in, 1, &out));
  CHECK(shape_is(&out, 3, (int64_t[]){1, 2, 2}));
  CHECK(floats_are(&out, 4, (float[]){2, 3, 2, 3}));
  free(out.data);

  int64_t far = 3;
  in[1] = test_view(INFER_DTYPE_I64, 1, one, &far);
  CHECK_FAILS(test_run_op(INFER_OP_GATHER, &p, 2, in, 1, &out), INFER_ERR_INVALID_ARGUMENT, NULL);
  free(out.data);

  /* gather_elements, the ONNX example: axis 1 */
  float data[4] = {1, 2, 3, 4};
  int64_t d22[2] = {2, 2}, ei[4] = {0, 0, 1, 0}, neg[4] = {-1, 0, -2, -1};
  p.axis.axis = 1;
  in[0] = test_view(INFER_DTYPE_F32, 2, d22, data);
  in[1] = test_view(INFER_DTYPE_I64, 2, d22, ei);
  CHECK_OK(test_run_op(INFER_OP_GATHER_ELEMENTS, &p, 2, in, 1, &out));
  CHECK(floats_are(&out, 4, (float[]){1, 1, 4, 3}));
  free(out.data);
  p.axis.axis = -2; /* axis 0, negative indices */
  in[1] = test_view(INFER_DTYPE_I64, 2, d22, neg);
  CHECK_OK(test_run_op(INFER_OP_GATHER_ELEMENTS, &p, 2, in, 1, &out));
  CHECK(floats_are(&out, 4, (float[]){3, 2, 1, 4}));
  free(out.data);

  /* float indices are rejected */
  in[1].dtype = INFER_DTYPE_F32;
  CHECK_FAILS(infer_cpu_kernel(INFER_OP_GATHER)->supports(&(InferOpCall){
                  INFER_OP_GATHER, "test", &p, in, 2, &out, 1, 0}),
              INFER_ERR_UNSUPPORTED, NULL);
}

static void test_expand_tile(void) {
  float x[3] = {1, 2, 3};
  int64_t d31[2] = {3, 1}, tgt[3] = {2, 1, 2};
  InferTensorView in[2] = {test_view(INFER_DTYPE_F32, 2, d31, x), i64_vec(3, tgt)}, out;
  CHECK_OK(test_run_op(INFER_OP_EXPAND, NULL, 2, in, 1, &out));
  CHECK(shape_is(&out, 3, (int64_t[]){2, 3, 2}));
  CHECK(floats_are(&out, 12, (float[]){1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3}));
  free(out.data);
  int64_t small[1] = {1}; /* bidirectional: a 1 in shape keeps the input dim */
  in[1] = i64_vec(1, small);
  CHECK_OK(test_run_op(INFER_OP_EXPAND, NULL, 2, in, 1, &out));
  CHECK(shape_is(&out, 2, d31));
  free(out.data);
  int64_t bad[1] = {2};
  in[1] = i64_vec(1, bad);
  CHECK_OK(test_run_op(INFER_OP_EXPAND, NULL, 2, in, 1, &out)); /* [3,1] with [2]: [3,2] */
  CHECK(floats_are(&out, 6, (float[]){1, 1, 2, 2, 3, 3}));
  free(out.data);
  int64_t bad2[2] = {2, 1};
  in[1] = i64_vec(2, bad2);
  CHECK_FAILS(test_run_op(INFER_OP_EXPAND, NULL, 2, in, 1, &out), INFER_ERR_INVALID_ARGUMENT,
              NULL);

  int32_t t[4] = {1, 2, 3, 4};
  int64_t d22[2] = {2, 2}, r21[2] = {2, 1}, r12[2] = {1, 2}, r03[2] = {0, 3};
  in[0] = test_view(INFER_DTYPE_I32, 2, d22, t);
  in[1] = i64_vec(2, r21);
  CHECK_OK(test_run_op(INFER_OP_TILE, NULL, 2, in, 1, &out));
  CHECK(shape_is(&out, 2, (int64_t[]){4, 2}));
  CHECK(memcmp(out.data, (int32_t[]){1, 2, 3, 4, 1, 2, 3, 4}, 32) == 0);
  free(out.data);
  in[1] = i64_vec(2, r12);
  CHECK_OK(test_run_op(INFER_OP_TILE, NULL, 2, in, 1, &out));
  CHECK(memcmp(out.data, (int32_t[]){1, 2, 1, 2, 3, 4, 3, 4}, 32) == 0);
  free(out.data);
  in[1] = i64_vec(2, r03);
  CHECK_OK(test_run_op(INFER_OP_TILE, NULL, 2, in, 1, &out));
  CHECK(shape_is(&out, 2, (int64_t[]){0, 6}));
  free(out.data);
  in[1] = i64_vec(1, r03);
  CHECK_FAILS(test_run_op(INFER_OP_TILE, NULL, 2, in, 1, &out), INFER_ERR_INVALID_ARGUMENT, NULL);
}

static void test_generators(void) {
  float f[3] = {1, 5, 2};
  InferOpParams zp = params_zero();
  InferTensorView in[3], out;
  for (int i = 0; i < 3; i++) in[i] = test_view(INFER_DTYPE_F32, 0, NULL, &f[i]);
  CHECK_OK(test_run_op(INFER_OP_RANGE, NULL, 3, in, 1, &out));
  CHECK(floats_are(&out, 2, (float[]){1, 3}));
  free(out.data);
  int32_t n[3] = {10, 4, -3};
  for (int i = 0; i < 3; i++) in[i] = test_view(INFER_DTYPE_I32, 0, NULL, &n[i]);
  CHECK_OK(test_run_op(INFER_OP_RANGE, NULL, 3, in, 1, &out));
  CHECK(shape_is(&out, 1, (int64_t[]){2}));
  CHECK(((int32_t *)out.data)[0] == 10 && ((int32_t *)out.data)[1] == 7);
  free(out.data);
  int64_t e[3] = {3, 3, 1}; /* empty */
  for (int i = 0; i < 3; i++) in[i] = test_view(INFER_DTYPE_I64, 0, NULL, &e[i]);
  CHECK_OK(test_run_op(INFER_OP_RANGE, NULL, 3, in, 1, &out));
  CHECK(shape_is(&out, 1, (int64_t[]){0}));
  free(out.data);
  e[2] = 0;
  CHECK_FAILS(test_run_op(INFER_OP_RANGE, NULL, 3, in, 1, &out), INFER_ERR_INVALID_ARGUMENT, NULL);
  in[1].data = NULL;
  CHECK_FAILS(shape_only(INFER_OP_RANGE, &zp, 3, in, &out), INFER_ERR_UNSUPPORTED,
              NULL);
  for (int i = 0; i < 3; i++) in[i].dtype = INFER_DTYPE_I8;
  out = test_view(INFER_DTYPE_I8, 1, (int64_t[]){1}, NULL);
  CHECK_FAILS(infer_cpu_kernel(INFER_OP_RANGE)->supports(&(InferOpCall){
                  INFER_OP_RANGE, "test", &zp, in, 3, &out, 1, 0}),
              INFER_ERR_UNSUPPORTED, NULL);

  /* shape and size never read the data (NULL here) */
  int64_t d345[3] = {3, 4, 5};
  InferOpParams p = params_zero();
  in[0] = test_view(INFER_DTYPE_F32, 3, d345, NULL);
  p.shape.start = 1;
  CHECK_OK(test_run_op(INFER_OP_SHAPE, &p, 1, in, 1, &out));
  CHECK(i64s_are(&out, 2, (int64_t[]){4, 5}));
  free(out.data);
  p.shape.start = -10;
  p.shape.end = -1;
  p.shape.has_end = true;
  CHECK_OK(test_run_op(INFER_OP_SHAPE, &p, 1, in, 1, &out));
  CHECK(i64s_are(&out, 2, (int64_t[]){3, 4}));
  free(out.data);
  p.shape.start = 2;
  p.shape.end = 1;
  CHECK_OK(test_run_op(INFER_OP_SHAPE, &p, 1, in, 1, &out));
  CHECK(shape_is(&out, 1, (int64_t[]){0}));
  free(out.data);
  CHECK_OK(test_run_op(INFER_OP_SIZE, NULL, 1, in, 1, &out));
  CHECK(out.shape.rank == 0 && i64s_are(&out, 1, (int64_t[]){60}));
  free(out.data);

  /* constant_of_shape with f32, i32 and an empty shape (a scalar) */
  int64_t sh[2] = {2, 3};
  float v = 1.5f;
  int32_t iv = 7;
  p = params_zero();
  p.constant_of_shape.dtype = INFER_DTYPE_F32;
  memcpy(p.constant_of_shape.value, &v, 4);
  in[0] = i64_vec(2, sh);
  CHECK_OK(test_run_op(INFER_OP_CONSTANT_OF_SHAPE, &p, 1, in, 1, &out));
  CHECK(floats_are(&out, 6, (float[]){1.5f, 1.5f, 1.5f, 1.5f, 1.5f, 1.5f}));
  free(out.data);
  p.constant_of_shape.dtype = INFER_DTYPE_I32;
  memcpy(p.constant_of_shape.value, &iv, 4);
  in[0] = i64_vec(0, sh);
  CHECK_OK(test_run_op(INFER_OP_CONSTANT_OF_SHAPE, &p, 1, in, 1, &out));
  CHECK(out.shape.rank == 0 && out.dtype == INFER_DTYPE_I32 && *(int32_t *)out.data == 7);
  free(out.data);
  int64_t neg[1] = {-1};
  in[0] = i64_vec(1, neg);
  CHECK_FAILS(test_run_op(INFER_OP_CONSTANT_OF_SHAPE, &p, 1, in, 1, &out),
              INFER_ERR_INVALID_ARGUMENT, NULL);
}

int main(void) {
  test_reshape();
  test_flatten_squeeze();
  test_transpose();
  test_concat_split();
  test_slice();
  test_gather();
  test_expand_tile();
  test_generators();
  TEST_MAIN_END("movement");
}
