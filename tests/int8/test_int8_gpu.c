/* INT8 on the CUDA backend against the CPU reference.
 *
 *   test_int8_gpu ops
 *     every INT8 conv tactic (direct, cuBLASLt 1x1, the tensor-core
 *     implicit GEMM in each tile configuration, mma.sync and, on compute
 *     capability 9.0, wgmma) and both INT8 Gemm paths
 *     on a table of shapes (odd sizes, strides, asymmetric pads, dilation,
 *     groups and depthwise, 1x1, channel counts that are not multiples of
 *     4/16/32, i8 and f32 residuals, activations, i8 and f32 outputs),
 *     each against kernels/cpu/quantize.c on the same call: bit-equal
 *     outputs (i8 and f32). Allowed differences: activations the
 *     reference evaluates with libm in double (sigmoid, ...) may differ by
 *     one unit in the last place on the device, so those cases allow 1 LSB
 *     of i8 / 1 ulp of f32; cuBLASLt's fused INT8 1x1 tactic requantizes
 *     in one rounding (1 LSB). Tuning with INT8 exactness never picks
 *     that tactic.
 *   test_int8_gpu model MODEL.onnx MIN_INT8_LAYERS
 *     calibrates the model (min-max, 8 seeded batches), builds a CPU INT8
 *     engine and a CUDA INT8 engine (strict FP32 for the float layers)
 *     from the table (the CUDA one with INT8 exactness) and checks: the
 *     CUDA engine has at least
 *     MIN_INT8_LAYERS int8 Conv/Gemm layers and as many as the CPU one;
 *     every output within 1 LSB of its scale of the CPU engine's; the
 *     CUDA plan loads back with the same kernels and bit-equal outputs;
 *     an FP16+INT8 CUDA engine keeps the int8 layers, runs float layers in
 *     FP16 and stays within the calibrated-INT8 error bound (0.05) of the
 *     CPU INT8 engine.
 * Exits 77 (skipped) without a CUDA device. */
#include <cuda_runtime.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_kernels.h"
#include "cuda_conv_int8.h"
#include "cuda_gemm_int8.h"
#include "cuda_ops.h"
#include "infer/calibration.h"
#include "infer/infer.h"
#include "test_util.h"

/* ---- values ---------------------------------------------------------------- */

static uint64_t rng;
static double uni(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return ((double)(rng >> 11) + 0.5) / 9007199254740992.0;
}
static int8_t rand_i8(int lo, int hi) { return (int8_t)(lo + (int)(uni() * (hi - lo + 1))); }
static float rand_f(double lo, double hi) { return (float)(lo + uni() * (hi - lo)); }

static void *dev_copy(const void *h, size_t bytes) {
  void *d = NULL;
  if (cudaMalloc(&d, bytes ? bytes : 1) != cudaSuccess) return NULL;
  if (bytes) cudaMemcpy(d, h, bytes, cudaMemcpyHostToDevice);
  return d;
}

static bool slow_act(InferUnaryKind k) {
  return k != INFER_UNARY_NONE && k != INFER_UNARY_RELU && k != INFER_UNARY_LEAKY_RELU &&
         k != INFER_UNARY_CLIP;
}

/* Mismatches of y against the reference (n elements): exact, or within
 * `lsb` units (i8) / ulps (f32). */
static int64_t compare(const void *ref, const void *got, int64_t n, bool i8, int lsb,
                       double *worst) {
  int64_t bad = 0;
  *worst = 0;
  for (int64_t i = 0; i < n; i++) {
    double d;
    if (i8) {
      d = abs(((const int8_t *)ref)[i] - ((const int8_t *)got)[i]);
    } else {
      int32_t a, b;
      memcpy(&a, (const float *)ref + i, 4);
      memcpy(&b, (const float *)got + i, 4);
      d = a == b ? 0 : ((a ^ b) < 0 ? 1e9 : fabs((double)a - (double)b));
    }
    if (d > *worst) *worst = d;
    if (d > lsb) bad++;
  }
  return bad;
}

/* ---- conv cases ------------------------------------------------------------ */

typedef struct ConvCase {
  const char *name;
  int n, c, h, w, cout, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, group;
  int bias, res; /* res: 0 none, 1 i8, 2 f32 */
  InferUnaryKind act;
  float alpha, beta;
  int out_i8, last;
} ConvCase;

static const ConvCase conv_cases[] = {
  {"1x1 64->64", 2, 64, 7, 7, 64, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0, INFER_UNARY_RELU, 0, 0, 1, 1},
  {"1x1 32->48 stride 2 f32 out", 1, 32, 9, 9, 48, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1, 0, 0, INFER_UNARY_NONE, 0, 0, 0, 1},
  {"3x3 16->32 res i8", 3, 16, 9, 11, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, INFER_UNARY_RELU, 0, 0, 1, 1},
  {"3x3 48->24 s2 asym pad res f32", 2, 48, 10, 13, 24, 3, 3, 2, 2, 1, 0, 1, 1, 1, 1, 1, 1, 2, INFER_UNARY_NONE, 0, 0, 0, 1},
  {"3x3 dil 2 32->40 clip", 1, 32, 12, 10, 40, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1, 1, 0, INFER_UNARY_CLIP, 0, 6, 1, 1},
  {"7x7 s2 3->64 (first layer)", 2, 3, 23, 19, 64, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 1, 1, 0, INFER_UNARY_RELU, 0, 0, 1, 1},
  {"5x5 20->7 leaky f32 out", 1, 20, 11, 9, 7, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 1, 1, 0, INFER_UNARY_LEAKY_RELU, 0.1f, 0, 0, 1},
  {"3x3 group 2 32->32", 2, 32, 8, 8, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, INFER_UNARY_RELU, 0, 0, 1, 1},
  {"depthwise 3x3 24 relu6", 2, 24, 10, 10, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 24, 1, 0, INFER_UNARY_CLIP, 0, 6, 1, 1},
  {"depthwise 3x3 s2 13", 1, 13, 9, 9, 13, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 13, 1, 1, INFER_UNARY_NONE, 0, 0, 1, 1},
  {"nchw 3x3 16->32 res i8", 3, 16, 9, 11, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, INFER_UNARY_RELU, 0, 0, 1, 0},
  {"nchw group 2", 2, 32, 8, 8, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, 0, 2, INFER_UNARY_NONE, 0, 0, 0, 0},
  {"nchw depthwise s2", 1, 13, 9, 9, 13, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 13, 1, 0, INFER_UNARY_CLIP, 0, 6, 1, 0},
  {"1x1 6->10 sigmoid f32 out", 2, 6, 5, 7, 10, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0, INFER_UNARY_SIGMOID, 0, 0, 0, 1},
  {"3x3 64->128 28x28 res i8", 4, 64, 28, 28, 128, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, INFER_UNARY_RELU, 0, 0, 1, 1},
  {"1x1 144->130", 2, 144, 6, 5, 130, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0, INFER_UNARY_RELU, 0, 0, 1, 1},
  {"1x1 256->256 res f32", 1, 256, 14, 14, 256, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 2, INFER_UNARY_RELU, 0, 0, 1, 1},
  {"3x3 s2 96->33 silu", 2, 96, 15, 15, 33, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 0, 1, INFER_UNARY_SILU, 0, 0, 1, 1},
  /* 16384 x 576 int32 sums: the cuBLASLt tactic runs in two chunks */
  {"1x1 64->576 64x64 res i8 (chunks)", 4, 64, 64, 64, 576, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, INFER_UNARY_RELU, 0, 0, 1, 1},
  /* two reduction steps, more tiles than the GPU holds at once */
  {"1x1 128->96 48x48 res i8", 16, 128, 48, 48, 96, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, INFER_UNARY_RELU, 0, 0, 1, 1},
  {"1x1 256->64 no bias, no act", 3, 256, 12, 10, 64, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0, INFER_UNARY_NONE, 0, 0, 1, 1},
  {"1x1 64->256 res i8 no act", 2, 64, 28, 28, 256, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, INFER_UNARY_NONE, 0, 0, 1, 1},
  /* 18 reduction steps, all ring slots reused */
  {"3x3 s2 128->256 relu", 4, 128, 14, 14, 256, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 0, INFER_UNARY_RELU, 0, 0, 1, 1},
};

static int n_cases_passed, n_cases_failed, n_wgmma_passed;

static bool is_lt_fused(int32_t t) {
  return t >= INFER_CUDA_CONV_TACTIC_INT8_LT_FUSED &&
         t < INFER_CUDA_CONV_TACTIC_INT8_LT_FUSED + INFER_CUDA_CONV_INT8_LT_FUSED_CANDIDATES;
}

static int out_dim(int in, int k, int s, int p0, int p1, int d) {
  return (in + p0 + p1 - (d * (k - 1) + 1)) / s + 1;
}

static void run_conv_case(const ConvCase *cc) {
  int cg = cc->c / cc->group;
  int oh = out_dim(cc->h, cc->kh, cc->sh, cc->pt, cc->pb, cc->dh);
  int ow = out_dim(cc->w, cc->kw, cc->sw, cc->pl, cc->pr, cc->dw);
  InferShape xs, ws, ys, cs;
  if (cc->last) {
    xs = (InferShape){4, {cc->n, cc->h, cc->w, cc->c}};
    ws = (InferShape){4, {cc->cout, cc->kh, cc->kw, cg}};
    ys = (InferShape){4, {cc->n, oh, ow, cc->cout}};
  } else {
    xs = (InferShape){4, {cc->n, cc->c, cc->h, cc->w}};
    ws = (InferShape){4, {cc->cout, cg, cc->kh, cc->kw}};
    ys = (InferShape){4, {cc->n, cc->cout, oh, ow}};
  }
  cs = (InferShape){1, {cc->cout}};
  int64_t nx = infer_shape_numel(&xs), nw = infer_shape_numel(&ws), ny = infer_shape_numel(&ys);
  int8_t *x = malloc((size_t)nx), *w = malloc((size_t)nw), *ri8 = malloc((size_t)ny);
  float *bias = malloc(sizeof(float) * (size_t)cc->cout);
  float *scales = malloc(sizeof(float) * (size_t)cc->cout);
  float *rf = malloc(sizeof(float) * (size_t)ny);
  for (int64_t i = 0; i < nx; i++) x[i] = rand_i8(-128, 127);
  for (int64_t i = 0; i < nw; i++) w[i] = rand_i8(-127, 127);
  for (int i = 0; i < cc->cout; i++) {
    scales[i] = rand_f(0.0005, 0.002);
    bias[i] = rand_f(-1, 1);
  }
  /* the sum's spread: sqrt(K) * 73^2 * x_scale * w_scale */
  float x_scale = 0.05f;
  double sigma = sqrt((double)cg * cc->kh * cc->kw) * 73.0 * 73.0 * 0.05 * 0.00125;
  float y_scale = (float)(3.0 * sigma / 127.0);
  for (int64_t i = 0; i < ny; i++) {
    ri8[i] = rand_i8(-128, 127);
    rf[i] = rand_f(-sigma, sigma);
  }
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.conv.spatial = 2;
  p.conv.group = cc->group;
  p.conv.kernel[0] = cc->kh;
  p.conv.kernel[1] = cc->kw;
  p.conv.strides[0] = cc->sh;
  p.conv.strides[1] = cc->sw;
  p.conv.dilations[0] = cc->dh;
  p.conv.dilations[1] = cc->dw;
  p.conv.pads[0] = cc->pt;
  p.conv.pads[1] = cc->pl;
  p.conv.pads[2] = cc->pb;
  p.conv.pads[3] = cc->pr;
  p.conv.activation.kind = cc->act;
  p.conv.activation.alpha = cc->alpha;
  p.conv.activation.beta = cc->beta;
  p.conv.has_residual = cc->res != 0;
  p.conv.channels_last = cc->last;
  p.conv.quant.int8 = true;
  p.conv.quant.x_scale = x_scale;
  p.conv.quant.y_scale = cc->out_i8 ? y_scale : 0.0f;
  p.conv.quant.residual_scale = cc->res == 1 ? y_scale * 0.7f : 0.0f;
  InferDType yt = cc->out_i8 ? INFER_DTYPE_I8 : INFER_DTYPE_F32;
  size_t ybytes = (size_t)ny * (cc->out_i8 ? 1 : 4);
  InferTensorView hin[5], din[5], hout, dout;
  memset(hin, 0, sizeof hin);
  hin[0] = (InferTensorView){INFER_DTYPE_I8, xs, x};
  hin[1] = (InferTensorView){INFER_DTYPE_I8, ws, w};
  if (cc->bias) hin[2] = (InferTensorView){INFER_DTYPE_F32, cs, bias};
  hin[3] = (InferTensorView){INFER_DTYPE_F32, cs, scales};
  int n_in = 4;
  if (cc->res == 1) hin[n_in++] = (InferTensorView){INFER_DTYPE_I8, ys, ri8};
  if (cc->res == 2) hin[n_in++] = (InferTensorView){INFER_DTYPE_F32, ys, rf};
  void *ref = malloc(ybytes), *got = malloc(ybytes);
  hout = (InferTensorView){yt, ys, ref};
  InferOpCall cpu = {INFER_OP_CONV, cc->name, &p, hin, n_in, &hout, 1, 0};
  InferStatus *st = infer_cpu_kernel(INFER_OP_CONV)->supports(&cpu);
  if (!st) st = infer_cpu_kernel(INFER_OP_CONV)->run(&cpu);
  CHECK_OK(st);
  for (int i = 0; i < n_in; i++) {
    din[i] = hin[i];
    if (hin[i].dtype != INFER_DTYPE_UNDEFINED)
      din[i].data = dev_copy(hin[i].data, (size_t)infer_shape_numel(&hin[i].shape) *
                                              infer_dtype_size(hin[i].dtype));
  }
  dout = (InferTensorView){yt, ys, NULL};
  cudaMalloc(&dout.data, ybytes);
  InferOpCall gpu = {INFER_OP_CONV, cc->name, &p, din, n_in, &dout, 1, 0};
  CHECK_OK(infer_cuda_supports_conv(&gpu));
  enum {
    N_TACTICS = 2 + INFER_CUDA_CONV_INT8_MMA_CONFIGS + INFER_CUDA_CONV_INT8_LT_FUSED_CANDIDATES +
                INFER_CUDA_CONV_INT8_WGMMA_CONFIGS
  };
  int32_t tactics[N_TACTICS] = {INFER_CUDA_CONV_TACTIC_INT8_DIRECT, INFER_CUDA_CONV_TACTIC_INT8_LT};
  int n_tactics = 2;
  for (int k = 0; k < INFER_CUDA_CONV_INT8_MMA_CONFIGS; k++)
    tactics[n_tactics++] = INFER_CUDA_CONV_TACTIC_INT8_MMA + k;
  for (int k = 0; k < INFER_CUDA_CONV_INT8_LT_FUSED_CANDIDATES; k++)
    tactics[n_tactics++] = INFER_CUDA_CONV_TACTIC_INT8_LT_FUSED + k;
  for (int k = 0; k < INFER_CUDA_CONV_INT8_WGMMA_CONFIGS; k++)
    tactics[n_tactics++] = INFER_CUDA_CONV_TACTIC_INT8_WGMMA + k;
  for (int t = 0; t < n_tactics; t++) {
    p.conv.tactic = tactics[t];
    if (!infer_cuda_conv_int8_tactic_applicable(&gpu, tactics[t])) continue;
    bool fused = is_lt_fused(tactics[t]);
    int lsb = slow_act(cc->act) || fused ? 1 : 0;
    size_t wsb = infer_cuda_workspace_conv(&gpu);
    void *ws_ptr = NULL;
    if (wsb) cudaMalloc(&ws_ptr, wsb);
    cudaMemset(dout.data, 0x5a, ybytes);
    InferCudaExec ex = {NULL, ws_ptr, wsb};
    InferStatus *rs = infer_cuda_run_conv(&gpu, &ex);
    cudaError_t err = cudaDeviceSynchronize();
    cudaMemcpy(got, dout.data, ybytes, cudaMemcpyDeviceToHost);
    double worst = 0;
    /* cuBLASLt may offer fewer algorithms than the candidates named; its
     * first one must run */
    if (fused && tactics[t] > INFER_CUDA_CONV_TACTIC_INT8_LT_FUSED && rs &&
        infer_status_code(rs) == INFER_ERR_UNSUPPORTED && err == cudaSuccess) {
      printf("     conv %-34s tactic %d: %s\n", cc->name, tactics[t], infer_status_message(rs));
      infer_status_free(rs);
      cudaFree(ws_ptr);
      continue;
    }
    int64_t bad = rs || err != cudaSuccess ? ny : compare(ref, got, ny, cc->out_i8, lsb, &worst);
    printf("%s conv %-34s tactic %d: %lld of %lld differ (max %g %s)%s%s\n", bad ? "FAIL" : "ok  ",
           cc->name, tactics[t], (long long)bad, (long long)ny, worst, cc->out_i8 ? "LSB" : "ulp",
           rs ? ": " : "", rs ? infer_status_message(rs) : "");
    if (err != cudaSuccess) printf("  cuda error: %s\n", cudaGetErrorString(err));
    CHECK(bad == 0);
    bad ? n_cases_failed++ : n_cases_passed++;
    if (!bad && tactics[t] >= INFER_CUDA_CONV_TACTIC_INT8_WGMMA) n_wgmma_passed++;
    infer_status_free(rs);
    cudaFree(ws_ptr);
  }
  /* with INT8 exactness the fused tactic is no candidate, without it it is
   * one wherever it applies; tuning with exactness picks an exact tactic */
  for (int k = 0; k < INFER_CUDA_CONV_INT8_LT_FUSED_CANDIDATES; k++) {
    int32_t t = INFER_CUDA_CONV_TACTIC_INT8_LT_FUSED + k;
    bool applies = infer_cuda_conv_int8_tactic_applicable(&gpu, t);
    gpu.flags = INFER_CALL_INT8_EXACT;
    CHECK(!infer_cuda_conv_int8_tactic_candidate(&gpu, t));
    gpu.flags = 0;
    CHECK(infer_cuda_conv_int8_tactic_candidate(&gpu, t) == applies);
  }
  p.conv.tactic = 0;
  size_t wsb = infer_cuda_workspace_conv(&gpu) + ((size_t)64 << 20);
  void *ws_ptr = NULL;
  cudaMalloc(&ws_ptr, wsb);
  InferCudaExec ex = {NULL, ws_ptr, wsb};
  gpu.flags = INFER_CALL_INT8_EXACT;
  int32_t chosen = 0;
  double ms = 0;
  CHECK_OK(infer_cuda_conv_int8_tune(&gpu, &ex, &chosen, &ms));
  CHECK(chosen != 0 && !is_lt_fused(chosen));
  gpu.flags = 0;
  cudaFree(ws_ptr);
  for (int i = 0; i < n_in; i++) cudaFree((void *)din[i].data);
  cudaFree(dout.data);
  free(x);
  free(w);
  free(ri8);
  free(bias);
  free(scales);
  free(rf);
  free(ref);
  free(got);
}

/* ---- gemm cases ------------------------------------------------------------- */

typedef struct GemmCase {
  const char *name;
  int m, n, k, ta, tb;
  int c; /* 0 none, 1 [n], 2 [m, n], 3 [1] */
  float alpha, beta;
  InferUnaryKind act;
  int out_i8;
} GemmCase;

static const GemmCase gemm_cases[] = {
  {"fc 8x1000x2048", 8, 1000, 2048, 0, 1, 1, 1, 1, INFER_UNARY_NONE, 0},
  {"fc 5x64x256 relu i8", 5, 64, 256, 0, 1, 1, 1, 1, INFER_UNARY_RELU, 1},
  {"fc 3x10x30 (k, n not /4)", 3, 10, 30, 0, 1, 1, 1, 1, INFER_UNARY_NONE, 0},
  {"transposed A, B [k, n], C [m, n]", 7, 12, 20, 1, 0, 2, 0.5f, 2, INFER_UNARY_NONE, 1},
  {"C [1] alpha beta", 4, 16, 32, 0, 1, 3, 1.5f, 0.25f, INFER_UNARY_LEAKY_RELU, 0},
  {"no C tanh", 6, 24, 64, 0, 1, 0, 1, 1, INFER_UNARY_TANH, 1},
};

static void run_gemm_case(const GemmCase *gc) {
  InferShape as = gc->ta ? (InferShape){2, {gc->k, gc->m}} : (InferShape){2, {gc->m, gc->k}};
  InferShape bs = gc->tb ? (InferShape){2, {gc->n, gc->k}} : (InferShape){2, {gc->k, gc->n}};
  InferShape ys = {2, {gc->m, gc->n}}, ss = {1, {gc->n}}, cs;
  if (gc->c == 1) cs = (InferShape){1, {gc->n}};
  else if (gc->c == 2) cs = ys;
  else cs = (InferShape){1, {1}};
  int64_t na = (int64_t)gc->m * gc->k, nb = (int64_t)gc->n * gc->k, ny = (int64_t)gc->m * gc->n;
  int8_t *a = malloc((size_t)na), *b = malloc((size_t)nb);
  float *c = malloc(sizeof(float) * (size_t)ny), *scales = malloc(sizeof(float) * (size_t)gc->n);
  for (int64_t i = 0; i < na; i++) a[i] = rand_i8(-128, 127);
  for (int64_t i = 0; i < nb; i++) b[i] = rand_i8(-127, 127);
  for (int64_t i = 0; i < ny; i++) c[i] = rand_f(-1, 1);
  for (int i = 0; i < gc->n; i++) scales[i] = rand_f(0.0005, 0.002);
  double sigma = sqrt((double)gc->k) * 73.0 * 73.0 * 0.05 * 0.00125;
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.gemm.alpha = gc->alpha;
  p.gemm.beta = gc->beta;
  p.gemm.trans_a = gc->ta;
  p.gemm.trans_b = gc->tb;
  p.gemm.activation.kind = gc->act;
  p.gemm.activation.alpha = 0.1f;
  p.gemm.quant.int8 = true;
  p.gemm.quant.x_scale = 0.05f;
  p.gemm.quant.y_scale = gc->out_i8 ? (float)(3.0 * sigma / 127.0) : 0.0f;
  InferDType yt = gc->out_i8 ? INFER_DTYPE_I8 : INFER_DTYPE_F32;
  size_t ybytes = (size_t)ny * (gc->out_i8 ? 1 : 4);
  InferTensorView hin[4], din[4], hout, dout;
  memset(hin, 0, sizeof hin);
  hin[0] = (InferTensorView){INFER_DTYPE_I8, as, a};
  hin[1] = (InferTensorView){INFER_DTYPE_I8, bs, b};
  if (gc->c) hin[2] = (InferTensorView){INFER_DTYPE_F32, cs, c};
  hin[3] = (InferTensorView){INFER_DTYPE_F32, ss, scales};
  void *ref = malloc(ybytes), *got = malloc(ybytes);
  hout = (InferTensorView){yt, ys, ref};
  InferOpCall cpu = {INFER_OP_GEMM, gc->name, &p, hin, 4, &hout, 1, 0};
  InferStatus *st = infer_cpu_kernel(INFER_OP_GEMM)->supports(&cpu);
  if (!st) st = infer_cpu_kernel(INFER_OP_GEMM)->run(&cpu);
  CHECK_OK(st);
  for (int i = 0; i < 4; i++) {
    din[i] = hin[i];
    if (hin[i].dtype != INFER_DTYPE_UNDEFINED)
      din[i].data = dev_copy(hin[i].data, (size_t)infer_shape_numel(&hin[i].shape) *
                                              infer_dtype_size(hin[i].dtype));
  }
  dout = (InferTensorView){yt, ys, NULL};
  cudaMalloc(&dout.data, ybytes);
  InferOpCall gpu = {INFER_OP_GEMM, gc->name, &p, din, 4, &dout, 1, 0};
  CHECK_OK(infer_cuda_supports_gemm(&gpu));
  size_t wsb = infer_cuda_workspace_gemm(&gpu);
  if (wsb < ((size_t)64 << 20)) wsb = (size_t)64 << 20;
  void *ws_ptr = NULL;
  cudaMalloc(&ws_ptr, wsb);
  int lsb = slow_act(gc->act) ? 1 : 0;
  const InferCudaGemmInt8Path paths[2] = {INFER_CUDA_GEMM_INT8_DIRECT, INFER_CUDA_GEMM_INT8_LT};
  for (int t = 0; t < 2; t++) {
    if (!infer_cuda_gemm_int8_applicable(&gpu, paths[t])) continue;
    cudaMemset(dout.data, 0x5a, ybytes);
    InferCudaExec ex = {NULL, ws_ptr, wsb};
    InferStatus *rs = infer_cuda_gemm_int8_run_path(&gpu, &ex, paths[t]);
    cudaError_t err = cudaDeviceSynchronize();
    cudaMemcpy(got, dout.data, ybytes, cudaMemcpyDeviceToHost);
    double worst = 0;
    int64_t bad = rs || err != cudaSuccess ? ny : compare(ref, got, ny, gc->out_i8, lsb, &worst);
    printf("%s gemm %-34s %s: %lld of %lld differ (max %g %s)%s%s\n", bad ? "FAIL" : "ok  ",
           gc->name, t ? "cublaslt" : "direct", (long long)bad, (long long)ny, worst,
           gc->out_i8 ? "LSB" : "ulp", rs ? ": " : "", rs ? infer_status_message(rs) : "");
    CHECK(bad == 0);
    bad ? n_cases_failed++ : n_cases_passed++;
    infer_status_free(rs);
  }
  cudaFree(ws_ptr);
  for (int i = 0; i < 4; i++) cudaFree((void *)din[i].data);
  cudaFree(dout.data);
  free(a);
  free(b);
  free(c);
  free(scales);
  free(ref);
  free(got);
}

static int ops_main(void) {
  rng = 0x1234567887654321ull;
  for (size_t i = 0; i < sizeof conv_cases / sizeof conv_cases[0]; i++) run_conv_case(&conv_cases[i]);
  for (size_t i = 0; i < sizeof gemm_cases / sizeof gemm_cases[0]; i++) run_gemm_case(&gemm_cases[i]);
  printf("int8_gpu ops: %d tactic runs within their bound (%d of them wgmma), %d failed\n",
         n_cases_passed, n_wgmma_passed, n_cases_failed);
  /* on compute capability 9.0 the wgmma tactics must have run */
  int dev = 0, major = 0, minor = 0;
  cudaGetDevice(&dev);
  cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev);
  cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev);
  if (major == 9 && minor == 0) CHECK(n_wgmma_passed > 0);
  TEST_MAIN_END("int8_gpu_ops");
}

/* ---- engines ---------------------------------------------------------------- */

#include "int8_test_inputs.h"

static InferStatus *build(const InferNetwork *net, const Inputs *in, const InferCalibTable *table,
                          InferBackendKind backend, bool fp16, InferEngine **out) {
  InferBuildConfig *cfg;
  INFER_TRY(infer_build_config_create(&cfg));
  infer_build_config_set_backend(cfg, backend);
  infer_build_config_set_tf32(cfg, false);
  /* the exact engine is compared with the CPU's bit for bit (1 LSB at the
   * output); the FP16 one only within the INT8 error bound */
  infer_build_config_set_int8_exact(cfg, !fp16);
  InferStatus *st = NULL;
  for (int i = 0; !st && i < in->n; i++)
    st = infer_build_config_set_input_shape(cfg, in->names[i], &in->shapes[i]);
  infer_build_config_set_precisions(cfg, INFER_PRECISION_FP32 | INFER_PRECISION_INT8 |
                                             (fp16 ? INFER_PRECISION_FP16 : 0));
  if (!st) st = infer_build_config_set_calibration_table(cfg, table);
  if (!st) st = infer_engine_build(net, cfg, out);
  infer_build_config_release(cfg);
  return st;
}

static InferStatus *run(InferEngine *e, const Inputs *in, float **outputs, int64_t *sizes,
                        const char **names, int *n_out) {
  InferContext *ctx;
  INFER_TRY(infer_context_create(e, &ctx));
  InferStatus *st = NULL;
  /* a device engine reads device memory: the inputs go up first */
  bool device = infer_engine_backend(e) != INFER_BACKEND_CPU;
  void *dev_in[8] = {0};
  for (int i = 0; !st && i < in->n && i < 8; i++) {
    st = infer_context_set_input_shape(ctx, in->names[i], &in->shapes[i]);
    size_t bytes = sizeof(float) * (size_t)infer_shape_numel(&in->shapes[i]);
    if (!st && device) st = infer_engine_malloc(e, bytes ? bytes : 1, &dev_in[i]);
    if (!st && device) st = infer_engine_copy_to_device(e, dev_in[i], in->data[i], bytes);
    if (!st)
      st = infer_context_set_tensor_address(ctx, in->names[i], device ? dev_in[i] : in->data[i]);
  }
  if (!st && in->n > 8) st = infer_status_new(INFER_ERR_UNSUPPORTED, "more than 8 inputs");
  if (!st) st = infer_context_enqueue(ctx, NULL);
  *n_out = 0;
  for (int i = 0; !st && i < infer_engine_num_io(e); i++) {
    if (infer_engine_io_is_input(e, i)) continue;
    InferTensorView v;
    st = infer_context_get_output(ctx, infer_engine_io_name(e, i), &v);
    if (st) break;
    if (v.dtype != INFER_DTYPE_F32) {
      st = infer_status_new(INFER_ERR_UNSUPPORTED, "output %s is not f32", infer_engine_io_name(e, i));
      break;
    }
    int64_t n = infer_shape_numel(&v.shape);
    outputs[*n_out] = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    if (device)
      st = infer_engine_copy_to_host(e, outputs[*n_out], v.data, sizeof(float) * (size_t)n);
    else
      memcpy(outputs[*n_out], v.data, sizeof(float) * (size_t)n);
    names[*n_out] = infer_engine_io_name(e, i);
    sizes[(*n_out)++] = n;
  }
  infer_context_release(ctx);
  for (int i = 0; i < 8; i++)
    if (dev_in[i]) infer_engine_mfree(e, dev_in[i]);
  return st;
}

/* int8 Conv/Gemm layers, float layers by precision, and the kernels in order. */
static int count_layers(const InferEngine *e, const char *precision, char *kernels, size_t cap) {
  int n = 0;
  if (kernels) kernels[0] = 0;
  for (int l = 0; l < infer_engine_num_layers(e); l++) {
    InferLayerInfo li;
    InferStatus *st = infer_engine_layer_info(e, l, &li);
    if (st) {
      infer_status_free(st);
      continue;
    }
    bool heavy = !strcmp(li.op, "conv") || !strcmp(li.op, "gemm");
    if (strcmp(li.precision, precision) == 0 && (heavy || strcmp(precision, "int8") != 0)) n++;
    if (kernels && strlen(kernels) + strlen(li.kernel) + 2 < cap) {
      strcat(kernels, li.kernel);
      strcat(kernels, " ");
    }
  }
  return n;
}

static int model_main(const char *path, int min_int8) {
  InferNetwork *net = NULL;
  CHECK_OK(infer_onnx_parse_file(path, &net));
  if (!net) TEST_MAIN_END("int8_gpu_model");
  Inputs in;
  CHECK(inputs_from_network(net, &in));
  InferCalibTable *table = NULL;
  CHECK_OK(calibrate_minmax(net, &in, &table));
  InferEngine *cpu = NULL, *gpu = NULL, *loaded = NULL, *half = NULL;
  if (table) {
    CHECK_OK(build(net, &in, table, INFER_BACKEND_CPU, false, &cpu));
    CHECK_OK(build(net, &in, table, INFER_BACKEND_CUDA, false, &gpu));
    CHECK_OK(build(net, &in, table, INFER_BACKEND_CUDA, true, &half));
  }
  if (cpu && gpu && half) {
    char kernels[4096], kernels_loaded[4096];
    int n_cpu = count_layers(cpu, "int8", NULL, 0);
    int n_gpu = count_layers(gpu, "int8", kernels, sizeof kernels);
    int n_half = count_layers(half, "int8", NULL, 0);
    int fp16_layers = count_layers(half, "fp16", NULL, 0);
    int fp32_layers = count_layers(half, "fp32", NULL, 0);
    printf("%s: int8 Conv/Gemm layers: cpu %d, cuda %d, cuda fp16+int8 %d (float layers there: "
           "%d fp16, %d fp32)\n  cuda kernels: %s\n",
           path, n_cpu, n_gpu, n_half, fp16_layers, fp32_layers, kernels);
    CHECK(n_gpu >= min_int8);
    CHECK(n_gpu == n_cpu);
    CHECK(n_half == n_gpu);
    fill(&in, 7);
    float *yc[64], *yg[64], *yl[64], *yh[64];
    int64_t sc[64], sg[64], sl[64], sh[64];
    const char *names[64], *names2[64];
    int nc = 0, ng = 0, nl = 0, nh = 0;
    CHECK_OK(run(cpu, &in, yc, sc, names, &nc));
    CHECK_OK(run(gpu, &in, yg, sg, names2, &ng));
    CHECK_OK(run(half, &in, yh, sh, names2, &nh));
    CHECK(nc == ng && nc == nh);
    for (int k = 0; k < nc && k < ng && k < nh; k++) {
      float scale = 0;
      if (!infer_calib_table_lookup(table, names[k], &scale) || !(scale > 0)) scale = 1e-6f;
      double worst = 0, num = 0, den = 0;
      int64_t equal = 0;
      for (int64_t i = 0; i < sc[k] && sc[k] == sg[k]; i++) {
        double d = fabs((double)yg[k][i] - yc[k][i]);
        if (d > worst) worst = d;
        equal += d == 0;
      }
      for (int64_t i = 0; i < sc[k] && sc[k] == sh[k]; i++) {
        num += ((double)yh[k][i] - yc[k][i]) * ((double)yh[k][i] - yc[k][i]);
        den += (double)yc[k][i] * yc[k][i];
      }
      double herr = sqrt(num / (den > 0 ? den : 1));
      printf("  output '%s': cuda int8 vs cpu int8: max |diff| %.3f LSB (scale %g), %lld of %lld "
             "equal; fp16+int8 normalized error %.4g\n",
             names[k], worst / scale, scale, (long long)equal, (long long)sc[k], herr);
      CHECK(sc[k] == sg[k] && sc[k] == sh[k]);
      CHECK(worst <= scale * 1.0001);
      CHECK(herr <= 0.05);
    }
    /* the plan keeps the INT8 layers and their tactics */
    void *plan = NULL;
    size_t plan_size = 0;
    CHECK_OK(infer_engine_serialize(gpu, &plan, &plan_size));
    if (plan) CHECK_OK(infer_engine_deserialize(plan, plan_size, "int8 cuda plan", &loaded));
    if (loaded) {
      CHECK(count_layers(loaded, "int8", kernels_loaded, sizeof kernels_loaded) == n_gpu);
      CHECK(strcmp(kernels, kernels_loaded) == 0);
      CHECK_OK(run(loaded, &in, yl, sl, names2, &nl));
      CHECK(nl == ng);
      for (int k = 0; k < nl && k < ng; k++)
        CHECK(sl[k] == sg[k] && memcmp(yl[k], yg[k], sizeof(float) * (size_t)sg[k]) == 0);
      for (int k = 0; k < nl; k++) free(yl[k]);
    }
    free(plan);
    for (int k = 0; k < nc; k++) free(yc[k]);
    for (int k = 0; k < ng; k++) free(yg[k]);
    for (int k = 0; k < nh; k++) free(yh[k]);
  }
  infer_engine_release(cpu);
  infer_engine_release(gpu);
  infer_engine_release(loaded);
  infer_engine_release(half);
  infer_calib_table_release(table);
  for (int i = 0; i < in.n && i < MAX_IN; i++) free(in.data[i]);
  infer_network_release(net);
  TEST_MAIN_END("int8_gpu_model");
}

int main(int argc, char **argv) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    printf("skipped: no CUDA device\n");
    return 77;
  }
  if (argc >= 2 && strcmp(argv[1], "ops") == 0) return ops_main();
  if (argc >= 4 && strcmp(argv[1], "model") == 0) return model_main(argv[2], atoi(argv[3]));
  fprintf(stderr, "usage: test_int8_gpu ops | model MODEL.onnx MIN_INT8_LAYERS\n");
  return 2;
}
