/* Conv and ConvTranspose on cuDNN 9's legacy convolution API, f32 or f16
 * storage, channels-first or channels-last (params.channels_last).
 *
 * Conv: cudnnConvolutionForward (cross-correlation, groups, dilations).
 * f32 uses FMA math only unless the engine allows TF32 (INFER_CALL_TF32);
 * f16 runs on the tensor cores with FP32 accumulation. Bias + ReLU (or
 * bias alone) and a residual go through cudnnConvolutionBiasActivationForward
 * in one kernel where cuDNN allows it (ReLU with any algorithm, identity
 * with IMPLICIT_PRECOMP_GEMM only).
 * 1-D convolutions run as 2-D with height 1, 3-D through the Nd
 * descriptors. cuDNN wants symmetric pads: when begin != end, the input is
 * first zero-padded by the difference into the workspace and cuDNN gets the
 * smaller pad. Bias, the fused residual and the activation are applied by
 * one epilogue kernel (cuda_epilogue.cu); a residual that aliases the output
 * is accumulated by cuDNN itself (beta = 1).
 *
 * ConvTranspose: cudnnConvolutionBackwardData, whose filter layout
 * [C_in, C_out/group, k...] is the ONNX one. When the pads are symmetric
 * and the output fits cuDNN's shape rule, cuDNN writes the output directly;
 * otherwise (asymmetric or negative pads from output_shape, large
 * output_padding) it writes the whole uncropped result
 * s * (in - 1) + (k - 1) * d + 1 per dim into the workspace and a crop
 * kernel copies the window out (zeros where no input reaches), applying
 * bias and activation on the way.
 *
 * Algorithms: the builder times every cuDNN algorithm on the real shapes
 * (infer_cuda_tune_conv, cudnnFind*AlgorithmEx) and records the fastest in
 * params.tactic (algorithm + 1); without one, the v7 heuristics' ranking.
 * Descriptors and the algorithm list are cached per host thread, keyed by
 * the layer's geometry; `workspace` reports the staging buffer plus the
 * chosen algorithm's workspace, and `run` takes the first algorithm that
 * fits the workspace it is given. One cuDNN handle per host thread. */
#include <cuda_runtime_api.h>
#include <cudnn.h>
#include <limits.h>
#include <string.h>

#include "conv_geometry.h"
#include "cuda_conv_gemm.h"
#include "cuda_conv_graph.h"
#include "cuda_conv_depthwise.h"
#include "cuda_conv_small_cin.h"
#include "cuda_conv_int8.h"
#include "cuda_epilogue.h"
#include "cuda_ops.h"

#define CONV_MAX_ALGOS 8
#define CONV_CACHE_SIZE 32
#define CONV_ALIGN ((size_t)256)

/* Everything that defines the cuDNN call; zero-filled, compared bytewise.
 * Spatial dims are right-aligned into three slots (unused slots: size 1). */
typedef struct ConvPlan {
  int32_t deconv;
  int32_t half;                /* f16 storage */
  int32_t channels_last;
  int32_t tf32;                /* f32 may use TF32 tensor cores */
  int32_t tactic;              /* algorithm + 1, or 0 */
  int32_t pad_;
  int32_t nd;                  /* cuDNN spatial dims: 2 (for 1-D and 2-D) or 3 */
  int64_t batch, in_ch, out_ch, group;
  int64_t k[3], s[3], d[3];
  int64_t x_dims[3];           /* conv: (padded) input; deconv: the input (dy) */
  int64_t y_dims[3];           /* conv: output; deconv: output or uncropped buffer (dx) */
  int64_t in_dims[3], out_dims[3]; /* the layer's real input and output */
  int64_t pad[3];              /* symmetric pad given to cuDNN */
  int64_t offset[3];           /* staging window offset (pad: negative, crop: positive) */
  int32_t staged;              /* input padded / output cropped through the workspace */
  int32_t reserved;
  size_t stage_bytes;
} ConvPlan;

typedef struct ConvEntry {
  bool used;
  ConvPlan plan;
  cudnnTensorDescriptor_t x, y;
  cudnnFilterDescriptor_t w;
  cudnnConvolutionDescriptor_t conv;
  cudnnTensorDescriptor_t bias;        /* [1, C, 1, 1] for the fused call */
  cudnnActivationDescriptor_t relu, identity;
  bool fused_refused;                  /* cuDNN said NOT_SUPPORTED once */
  int n_algos;
  int algo[CONV_MAX_ALGOS];
  size_t bytes[CONV_MAX_ALGOS];
} ConvEntry;

static _Thread_local cudnnHandle_t tl_handle;
static _Thread_local ConvEntry tl_cache[CONV_CACHE_SIZE];
static _Thread_local unsigned tl_cache_next;

/* ---- status helpers -------------------------------------------------------- */

static InferStatus *conv_unsupported(const InferOpCall *c, const char *what) {
  return infer_status_new(INFER_ERR_UNSUPPORTED,
                          "layer '%s' (%s): %s is not supported on the CUDA backend", c->node,
                          infer_op_name(c->op), what);
}

static InferStatus *cudnn_error(const InferOpCall *c, const char *what, cudnnStatus_t st) {
  return infer_cuda_error(c, what, cudnnGetErrorString(st));
}

#define CUDNN_TRY(call, what, expr)                          \
  do {                                                       \
    cudnnStatus_t conv_st_ = (expr);                         \
    if (conv_st_ != CUDNN_STATUS_SUCCESS) return cudnn_error((call), (what), conv_st_); \
  } while (0)

static InferStatus *cuda_try(const InferOpCall *c, const char *what, cudaError_t e) {
  return e == cudaSuccess ? NULL : infer_cuda_error(c, what, cudaGetErrorString(e));
}

static size_t align_up(size_t v) { return (v + CONV_ALIGN - 1) / CONV_ALIGN * CONV_ALIGN; }

/* ---- supports ------------------------------------------------------------- */

static int residual_input(const InferOpCall *c) {
  return c->params->conv.has_residual ? c->n_in - 1 : -1;
}

static bool has_bias(const InferOpCall *c) {
  return infer_call_has_input(c, 2) && residual_input(c) != 2;
}

/* Every tensor of the layer has the input's type, f32 or f16. */
static InferStatus *require_f32(const InferOpCall *c, int i, const char *name) {
  InferDType t = infer_call_input(c, i)->dtype, x = infer_call_input(c, 0)->dtype;
  if ((t == INFER_DTYPE_F32 || t == INFER_DTYPE_F16) && t == x) return NULL;
  return infer_status_new(INFER_ERR_UNSUPPORTED,
                          "layer '%s' (%s): %s of type %s is not supported on the CUDA backend "
                          "(f32 or f16, like the input)",
                          c->node, infer_op_name(c->op), name, infer_dtype_name(t));
}

static bool too_big(const InferShape *s) {
  int64_t n = infer_shape_numel(s);
  return n > INT_MAX;
}

static InferStatus *supports_common(const InferOpCall *c, bool deconv) {
  const InferConvParams *p = &c->params->conv;
  INFER_TRY(require_f32(c, 0, "input"));
  INFER_TRY(require_f32(c, 1, "weights"));
  if (has_bias(c)) INFER_TRY(require_f32(c, 2, "bias"));
  if (p->channels_last && (deconv || p->spatial != 2))
    return conv_unsupported(c, "channels-last layout other than for a 2-D convolution");
  if (p->has_residual) {
    if (deconv) return conv_unsupported(c, "a fused residual input");
    INFER_TRY(require_f32(c, residual_input(c), "the residual input"));
  }
  if (p->spatial < 1 || p->spatial > INFER_MAX_SPATIAL)
    return conv_unsupported(c, "this number of spatial dims");
  if ((int)p->activation.kind < 0 || p->activation.kind >= INFER_UNARY_KIND_COUNT)
    return conv_unsupported(c, "this fused activation");
  if (p->group < 0 || p->group > INT_MAX) return conv_unsupported(c, "this group count");
  const InferShape *xs = &c->in[0].shape, *ws = &c->in[1].shape;
  if (xs->rank != p->spatial + 2 || ws->rank != p->spatial + 2)
    return conv_unsupported(c, "an input or weight rank other than spatial dims + 2");
  if (too_big(xs) || too_big(ws) || (c->n_out > 0 && too_big(&c->out[0].shape)))
    return conv_unsupported(c, "a tensor of more than 2^31 - 1 elements (cuDNN limit)");
  for (int i = 0; i < p->spatial; i++) {
    int64_t dl = infer_geo_default1(p->dilations[i]), st = infer_geo_default1(p->strides[i]);
    if (dl > INT_MAX || st > INT_MAX || p->pads[i] > INT_MAX ||
        p->pads[p->spatial + i] > INT_MAX)
      return conv_unsupported(c, "a stride, dilation or pad this large");
  }
  return NULL;
}

InferStatus *infer_cuda_supports_conv(const InferOpCall *call) {
  if (call->params->conv.quant.int8) return infer_cuda_conv_int8_supports(call);
  return supports_common(call, false);
}

InferStatus *infer_cuda_supports_deconv(const InferOpCall *call) {
  return supports_common(call, true);
}

/* ---- geometry ------------------------------------------------------------- */

static InferStatus *shape_mismatch(const InferOpCall *c) {
  return infer_status_new(INFER_ERR_INTERNAL, "layer '%s' (%s): output shape mismatch", c->node,
                          infer_op_name(c->op));
}

static InferStatus *conv_plan(const InferOpCall *c, ConvPlan *pl) {
  const InferConvParams *p = &c->params->conv;
  const InferShape *xs = &c->in[0].shape, *ws = &c->in[1].shape, *ys = &c->out[0].shape;
  bool deconv = c->op == INFER_OP_DECONV;
  memset(pl, 0, sizeof *pl);
  pl->deconv = deconv;
  pl->half = c->in[0].dtype == INFER_DTYPE_F16;
  pl->channels_last = p->channels_last;
  pl->tf32 = !pl->half && (c->flags & INFER_CALL_TF32) != 0;
  pl->tactic = p->tactic;
  pl->nd = p->spatial == 3 ? 3 : 2;
  pl->group = infer_geo_default1(p->group);
  pl->batch = xs->d[0];
  /* channels-last: view the shapes as channels-first for the geometry */
  InferShape xcf = *xs, wcf = *ws, ycf = *ys;
  if (p->channels_last) {
    int r = xs->rank;
    xcf.d[1] = xs->d[r - 1];
    ycf.d[1] = ys->d[r - 1];
    wcf.d[1] = ws->d[r - 1];
    for (int i = 0; i < p->spatial; i++) {
      xcf.d[2 + i] = xs->d[1 + i];
      ycf.d[2 + i] = ys->d[1 + i];
      wcf.d[2 + i] = ws->d[1 + i];
    }
    xs = &xcf;
    ws = &wcf;
    ys = &ycf;
  }
  pl->in_ch = xs->d[1];
  pl->out_ch = deconv ? ws->d[1] * pl->group : ws->d[0];
  if (pl->group <= 0 || pl->in_ch % pl->group != 0 || pl->out_ch % pl->group != 0 ||
      (deconv ? ws->d[0] != pl->in_ch : ws->d[1] * pl->group != pl->in_ch) ||
      ys->d[1] != pl->out_ch)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "layer '%s' (%s): channel counts do not match the weights and group",
                            c->node, infer_op_name(c->op));
  for (int j = 0; j < 3; j++) {
    pl->k[j] = pl->s[j] = pl->d[j] = 1;
    pl->x_dims[j] = pl->y_dims[j] = pl->in_dims[j] = pl->out_dims[j] = 1;
  }
  for (int i = 0; i < p->spatial; i++) {
    int j = 3 - p->spatial + i;
    InferGeoDim g = {xs->d[2 + i], ws->d[2 + i], p->strides[i], p->dilations[i], p->pads[i],
                     p->pads[p->spatial + i]};
    int64_t pb, pe, out;
    InferGeoResult r =
        deconv ? infer_geo_deconv(&g, p->auto_pad, p->output_padding[i], p->has_output_shape,
                                  p->output_shape[i], &pb, &pe, &out)
               : infer_geo_window(&g, p->auto_pad, false, &pb, &pe, &out);
    if (r != INFER_GEO_OK || out != ys->d[2 + i]) return shape_mismatch(c);
    pl->k[j] = g.kernel;
    pl->s[j] = infer_geo_default1(g.stride);
    pl->d[j] = infer_geo_default1(g.dilation);
    pl->in_dims[j] = g.in;
    pl->out_dims[j] = out;
    if (!deconv) {
      int64_t m = pb < pe ? pb : pe;
      pl->pad[j] = m;
      pl->x_dims[j] = g.in + (pb - m) + (pe - m);
      pl->offset[j] = -(pb - m);
      pl->y_dims[j] = out;
      if (pb != pe) pl->staged = 1;
    } else {
      int64_t span = (g.kernel - 1) * pl->d[j] + 1;
      int64_t rest = out + 2 * pb - span - pl->s[j] * (g.in - 1);
      pl->x_dims[j] = g.in;
      pl->pad[j] = pb;
      pl->offset[j] = pb;
      pl->y_dims[j] = out;
      if (pb != pe || pb < 0 || rest < 0 || rest >= pl->s[j]) pl->staged = 1;
    }
  }
  if (deconv && pl->staged) {
    /* Uncropped: every position some input reaches, no padding. */
    for (int j = 0; j < 3; j++) {
      pl->y_dims[j] = pl->s[j] * (pl->x_dims[j] - 1) + (pl->k[j] - 1) * pl->d[j] + 1;
      pl->pad[j] = 0;
    }
  }
  int64_t big = 0;
  for (int j = 0; j < 3; j++)
    if (pl->x_dims[j] > INT_MAX || pl->y_dims[j] > INT_MAX || pl->pad[j] > INT_MAX) big = 1;
  if (pl->staged) {
    const int64_t *sd = deconv ? pl->y_dims : pl->x_dims;
    int64_t n = (deconv ? pl->out_ch : pl->in_ch) * pl->batch * sd[0] * sd[1] * sd[2];
    if (n > INT_MAX) big = 1;
    pl->stage_bytes = align_up((size_t)n * (pl->half ? 2 : 4));
  }
  if (big)
    return conv_unsupported(c, "a padded or uncropped intermediate of more than 2^31 - 1 "
                               "elements (cuDNN limit)");
  return NULL;
}

/* ---- descriptors and algorithms --------------------------------------------- */

static InferStatus *get_handle(const InferOpCall *c, cudnnHandle_t *out) {
  if (!tl_handle) CUDNN_TRY(c, "cudnnCreate", cudnnCreate(&tl_handle));
  *out = tl_handle;
  return NULL;
}

/* [n, ch, spatial...] as cuDNN ints (nd + 2 of them). */
static void nd_dims(const ConvPlan *pl, int64_t n, int64_t ch, const int64_t sp[3], int *dims) {
  dims[0] = (int)n;
  dims[1] = (int)ch;
  for (int i = 0; i < pl->nd; i++) dims[2 + i] = (int)sp[3 - pl->nd + i];
}

static cudnnDataType_t data_type(const ConvPlan *pl) {
  return pl->half ? CUDNN_DATA_HALF : CUDNN_DATA_FLOAT;
}

static cudnnStatus_t set_tensor(cudnnTensorDescriptor_t t, const ConvPlan *pl, int64_t ch,
                                const int64_t sp[3]) {
  int dims[5], strides[5], nb = pl->nd + 2;
  nd_dims(pl, pl->batch, ch, sp, dims);
  int st = 1;
  if (pl->channels_last) {
    /* channel fastest, then the spatial dims right to left, then batch */
    strides[1] = 1;
    st = dims[1] > 0 ? dims[1] : 1;
    for (int i = nb - 1; i >= 2; i--) {
      strides[i] = st;
      st *= dims[i] > 0 ? dims[i] : 1;
    }
    strides[0] = st;
  } else {
    for (int i = nb - 1; i >= 0; i--) {
      strides[i] = st;
      st *= dims[i] > 0 ? dims[i] : 1;
    }
  }
  return cudnnSetTensorNdDescriptor(t, data_type(pl), nb, dims, strides);
}

static void entry_release(ConvEntry *e) {
  if (e->x) cudnnDestroyTensorDescriptor(e->x);
  if (e->y) cudnnDestroyTensorDescriptor(e->y);
  if (e->w) cudnnDestroyFilterDescriptor(e->w);
  if (e->conv) cudnnDestroyConvolutionDescriptor(e->conv);
  if (e->bias) cudnnDestroyTensorDescriptor(e->bias);
  if (e->relu) cudnnDestroyActivationDescriptor(e->relu);
  if (e->identity) cudnnDestroyActivationDescriptor(e->identity);
  memset(e, 0, sizeof *e);
}

static InferStatus *entry_descriptors(const InferOpCall *c, ConvEntry *e) {
  const ConvPlan *pl = &e->plan;
  CUDNN_TRY(c, "cudnnCreateTensorDescriptor", cudnnCreateTensorDescriptor(&e->x));
  CUDNN_TRY(c, "cudnnCreateTensorDescriptor", cudnnCreateTensorDescriptor(&e->y));
  CUDNN_TRY(c, "cudnnCreateFilterDescriptor", cudnnCreateFilterDescriptor(&e->w));
  CUDNN_TRY(c, "cudnnCreateConvolutionDescriptor", cudnnCreateConvolutionDescriptor(&e->conv));
  CUDNN_TRY(c, "cudnnSetTensorNdDescriptor", set_tensor(e->x, pl, pl->in_ch, pl->x_dims));
  CUDNN_TRY(c, "cudnnSetTensorNdDescriptor", set_tensor(e->y, pl, pl->out_ch, pl->y_dims));
  int wd[5];
  if (pl->deconv)
    nd_dims(pl, pl->in_ch, pl->out_ch / pl->group, pl->k, wd);
  else
    nd_dims(pl, pl->out_ch, pl->in_ch / pl->group, pl->k, wd);
  CUDNN_TRY(c, "cudnnSetFilterNdDescriptor",
            cudnnSetFilterNdDescriptor(e->w, data_type(pl),
                                       pl->channels_last ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW,
                                       pl->nd + 2, wd));
  int pad[3], st[3], dl[3];
  for (int i = 0; i < pl->nd; i++) {
    int j = 3 - pl->nd + i;
    pad[i] = (int)pl->pad[j];
    st[i] = (int)pl->s[j];
    dl[i] = (int)pl->d[j];
  }
  CUDNN_TRY(c, "cudnnSetConvolutionNdDescriptor",
            cudnnSetConvolutionNdDescriptor(e->conv, pl->nd, pad, st, dl, CUDNN_CROSS_CORRELATION,
                                            CUDNN_DATA_FLOAT));
  CUDNN_TRY(c, "cudnnSetConvolutionGroupCount",
            cudnnSetConvolutionGroupCount(e->conv, (int)pl->group));
  /* f32 without TF32: FMA only, so results stay FP32 up to summation order */
  CUDNN_TRY(c, "cudnnSetConvolutionMathType",
            cudnnSetConvolutionMathType(e->conv, pl->half || pl->tf32 ? CUDNN_TENSOR_OP_MATH
                                                                      : CUDNN_FMA_MATH));
  /* the fused bias + activation call */
  int bd[5] = {1, (int)pl->out_ch, 1, 1, 1}, bs[5] = {(int)pl->out_ch, 1, 1, 1, 1};
  CUDNN_TRY(c, "cudnnCreateTensorDescriptor", cudnnCreateTensorDescriptor(&e->bias));
  CUDNN_TRY(c, "cudnnSetTensorNdDescriptor",
            cudnnSetTensorNdDescriptor(e->bias, data_type(pl), pl->nd + 2, bd, bs));
  CUDNN_TRY(c, "cudnnCreateActivationDescriptor", cudnnCreateActivationDescriptor(&e->relu));
  CUDNN_TRY(c, "cudnnSetActivationDescriptor",
            cudnnSetActivationDescriptor(e->relu, CUDNN_ACTIVATION_RELU, CUDNN_PROPAGATE_NAN, 0.0));
  CUDNN_TRY(c, "cudnnCreateActivationDescriptor", cudnnCreateActivationDescriptor(&e->identity));
  CUDNN_TRY(c, "cudnnSetActivationDescriptor",
            cudnnSetActivationDescriptor(e->identity, CUDNN_ACTIVATION_IDENTITY,
                                         CUDNN_PROPAGATE_NAN, 0.0));
  return NULL;
}

static bool math_ok(const ConvPlan *pl, cudnnMathType_t m) {
  if (pl->half || pl->tf32) return true;
  return m == CUDNN_DEFAULT_MATH || m == CUDNN_FMA_MATH;
}

/* Strict FP32 (no TF32 allowed) keeps to algorithms that sum products
 * directly: FFT and Winograd transforms round differently (1e-5 relative),
 * which is what a user who turned TF32 off wants to avoid. */
static bool algo_ok(const ConvPlan *pl, int algo) {
  if (pl->half || pl->tf32) return true;
  if (pl->deconv)
    return algo != (int)CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT &&
           algo != (int)CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING &&
           algo != (int)CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD &&
           algo != (int)CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED;
  return algo != (int)CUDNN_CONVOLUTION_FWD_ALGO_FFT &&
         algo != (int)CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING &&
         algo != (int)CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD &&
         algo != (int)CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED;
}

/* Moves the tuned algorithm to the front (inserting it when the
 * heuristics left it out). */
static void prefer_tactic(cudnnHandle_t h, ConvEntry *e) {
  int want = e->plan.tactic - 1;
  if (want < 0) return;
  bool listed = false;
  for (int i = 0; i < e->n_algos; i++) listed |= e->algo[i] == want;
  if (!listed) {
    size_t bytes = 0;
    cudnnStatus_t st =
        e->plan.deconv
            ? cudnnGetConvolutionBackwardDataWorkspaceSize(h, e->w, e->x, e->conv, e->y,
                                                           (cudnnConvolutionBwdDataAlgo_t)want,
                                                           &bytes)
            : cudnnGetConvolutionForwardWorkspaceSize(h, e->x, e->w, e->conv, e->y,
                                                      (cudnnConvolutionFwdAlgo_t)want, &bytes);
    if (st != CUDNN_STATUS_SUCCESS) return;
    if (e->n_algos == CONV_MAX_ALGOS) e->n_algos--;
    e->algo[e->n_algos] = want;
    e->bytes[e->n_algos++] = bytes;
  }
  for (int i = 1; i < e->n_algos; i++) {
    if (e->algo[i] != want) continue;
    int a = e->algo[i];
    size_t b = e->bytes[i];
    memmove(&e->algo[1], &e->algo[0], sizeof e->algo[0] * (size_t)i);
    memmove(&e->bytes[1], &e->bytes[0], sizeof e->bytes[0] * (size_t)i);
    e->algo[0] = a;
    e->bytes[0] = b;
    return;
  }
}

static InferStatus *entry_algorithms(const InferOpCall *c, cudnnHandle_t h, ConvEntry *e) {
  int got = 0;
  e->n_algos = 0;
  if (!e->plan.deconv) {
    cudnnConvolutionFwdAlgoPerf_t perf[CONV_MAX_ALGOS];
    CUDNN_TRY(c, "cudnnGetConvolutionForwardAlgorithm_v7",
              cudnnGetConvolutionForwardAlgorithm_v7(h, e->x, e->w, e->conv, e->y,
                                                     CONV_MAX_ALGOS, &got, perf));
    for (int i = 0; i < got && i < CONV_MAX_ALGOS; i++) {
      size_t bytes = 0;
      if (perf[i].status != CUDNN_STATUS_SUCCESS || !math_ok(&e->plan, perf[i].mathType) ||
          !algo_ok(&e->plan, (int)perf[i].algo))
        continue;
      if (cudnnGetConvolutionForwardWorkspaceSize(h, e->x, e->w, e->conv, e->y, perf[i].algo,
                                                  &bytes) != CUDNN_STATUS_SUCCESS)
        continue;
      e->algo[e->n_algos] = (int)perf[i].algo;
      e->bytes[e->n_algos++] = bytes;
    }
  } else {
    cudnnConvolutionBwdDataAlgoPerf_t perf[CONV_MAX_ALGOS];
    CUDNN_TRY(c, "cudnnGetConvolutionBackwardDataAlgorithm_v7",
              cudnnGetConvolutionBackwardDataAlgorithm_v7(h, e->w, e->x, e->conv, e->y,
                                                          CONV_MAX_ALGOS, &got, perf));
    for (int i = 0; i < got && i < CONV_MAX_ALGOS; i++) {
      size_t bytes = 0;
      if (perf[i].status != CUDNN_STATUS_SUCCESS || !math_ok(&e->plan, perf[i].mathType) ||
          !algo_ok(&e->plan, (int)perf[i].algo))
        continue;
      if (cudnnGetConvolutionBackwardDataWorkspaceSize(h, e->w, e->x, e->conv, e->y,
                                                       perf[i].algo, &bytes) !=
          CUDNN_STATUS_SUCCESS)
        continue;
      e->algo[e->n_algos] = (int)perf[i].algo;
      e->bytes[e->n_algos++] = bytes;
    }
  }
  if (e->n_algos == 0)
    return infer_status_new(INFER_ERR_UNSUPPORTED,
                            "layer '%s' (%s): cuDNN offers no %s algorithm for this convolution",
                            c->node, infer_op_name(c->op),
                            e->plan.half ? "FP16" : (e->plan.tf32 ? "FP32" : "FP32 (non-TF32)"));
  prefer_tactic(h, e);
  return NULL;
}

/* The cached descriptors and algorithms for this geometry (built on a miss). */
static InferStatus *entry_get(const InferOpCall *c, cudnnHandle_t h, const ConvPlan *pl,
                              ConvEntry **out) {
  for (int i = 0; i < CONV_CACHE_SIZE; i++) {
    if (tl_cache[i].used && memcmp(&tl_cache[i].plan, pl, sizeof *pl) == 0) {
      *out = &tl_cache[i];
      return NULL;
    }
  }
  ConvEntry *e = &tl_cache[tl_cache_next++ % CONV_CACHE_SIZE];
  entry_release(e);
  e->plan = *pl;
  InferStatus *st = entry_descriptors(c, e);
  if (!st) st = entry_algorithms(c, h, e);
  if (st) {
    entry_release(e);
    return st;
  }
  e->used = true;
  *out = e;
  return NULL;
}

static bool is_empty(const InferOpCall *c) {
  return infer_shape_numel(&c->in[0].shape) == 0 || infer_shape_numel(&c->in[1].shape) == 0;
}

static bool gemm_tactic(const InferOpCall *c) {
  return infer_cuda_conv_gemm_tactic(c->params->conv.tactic) && infer_cuda_conv_gemm_applicable(c);
}

static bool graph_tactic(const InferOpCall *c) {
  int32_t t = c->params->conv.tactic;
  return t >= INFER_CUDA_CONV_TACTIC_GRAPH &&
         t < INFER_CUDA_CONV_TACTIC_GRAPH + INFER_CUDA_CONV_GRAPH_CONFIGS &&
         infer_cuda_conv_graph_applicable(c);
}

static bool small_cin_tactic(const InferOpCall *c) {
  return c->params->conv.tactic == INFER_CUDA_CONV_TACTIC_SMALL_CIN &&
         infer_cuda_conv_small_cin_applicable(c);
}

static bool depthwise_tactic(const InferOpCall *c) {
  return c->params->conv.tactic == INFER_CUDA_CONV_TACTIC_DEPTHWISE &&
         infer_cuda_conv_depthwise_applicable(c);
}

static size_t conv_workspace(const InferOpCall *c) {
  if (depthwise_tactic(c) || small_cin_tactic(c)) return 0;
  if (gemm_tactic(c)) return infer_cuda_conv_gemm_workspace();
  if (graph_tactic(c)) return infer_cuda_conv_graph_workspace(c);
  ConvPlan pl;
  cudnnHandle_t h = NULL;
  ConvEntry *e;
  if (infer_shape_numel(&c->out[0].shape) <= 0 || is_empty(c)) return 0;
  InferStatus *st = conv_plan(c, &pl);
  if (!st) st = get_handle(c, &h);
  if (!st) st = entry_get(c, h, &pl, &e);
  if (st) {
    /* run reports the error again, with the layer's name */
    infer_status_free(st);
    return 0;
  }
  return pl.stage_bytes + e->bytes[0];
}

size_t infer_cuda_workspace_conv(const InferOpCall *call) {
  if (call->params->conv.quant.int8) return infer_cuda_conv_int8_workspace(call);
  return conv_workspace(call);
}

size_t infer_cuda_workspace_deconv(const InferOpCall *call) { return conv_workspace(call); }

/* ---- run ------------------------------------------------------------------- */

/* The window (pad or crop) geometry between a layer tensor and the stage. */
static InferCudaWindow stage_window(const ConvPlan *pl, const int64_t dst[3], const int64_t src[3],
                                    int64_t channels) {
  InferCudaWindow w;
  memset(&w, 0, sizeof w);
  for (int j = 0; j < 3; j++) {
    w.dst_dims[j] = dst[j];
    w.src_dims[j] = src[j];
    w.offset[j] = pl->offset[j];
  }
  w.channels_last = pl->channels_last;
  w.planes = pl->channels_last ? channels : pl->batch * channels;
  w.images = pl->batch;
  w.dtype = pl->half ? INFER_DTYPE_F16 : INFER_DTYPE_F32;
  return w;
}

/* y = act(conv(x) + bias + residual) in one cuDNN call where it allows:
 * ReLU with any algorithm, identity with IMPLICIT_PRECOMP_GEMM only. Returns
 * false (nothing queued) when the layer must take the unfused path. */
static bool try_fused(const InferOpCall *c, cudnnHandle_t h, ConvEntry *e, int pick,
                      const void *x, const void *w, const void *bias, const void *res, void *y,
                      void *ws, size_t ws_bytes, InferStatus **st) {
  const InferConvParams *p = &c->params->conv;
  bool relu = p->activation.kind == INFER_UNARY_RELU;
  if (e->fused_refused || !bias || (res && res == y) || e->plan.deconv) return false;
  if (!relu && p->activation.kind != INFER_UNARY_NONE) return false;
  if (!relu && e->algo[pick] != (int)CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM) return false;
  const float one = 1.0f, zero = 0.0f;
  cudnnStatus_t r = cudnnConvolutionBiasActivationForward(
      h, &one, e->x, x, e->w, w, e->conv, (cudnnConvolutionFwdAlgo_t)e->algo[pick], ws, ws_bytes,
      res ? &one : &zero, e->y, res ? res : y, e->bias, bias, relu ? e->relu : e->identity, e->y,
      y);
  if (r == CUDNN_STATUS_NOT_SUPPORTED) {
    e->fused_refused = true;
    return false;
  }
  if (r != CUDNN_STATUS_SUCCESS) *st = cudnn_error(c, "cudnnConvolutionBiasActivationForward", r);
  return true;
}

static InferStatus *conv_run(const InferOpCall *c, const InferCudaExec *ex) {
  const InferConvParams *p = &c->params->conv;
  bool deconv = c->op == INFER_OP_DECONV;
  void *y = c->out[0].data;
  int64_t ny = infer_shape_numel(&c->out[0].shape);
  if (ny <= 0) return NULL;
  if (depthwise_tactic(c) && !is_empty(c)) return infer_cuda_conv_depthwise_run(c, ex);
  if (small_cin_tactic(c) && !is_empty(c)) return infer_cuda_conv_small_cin_run(c, ex);
  if (gemm_tactic(c) && !is_empty(c)) return infer_cuda_conv_gemm_run(c, ex);
  if (graph_tactic(c) && !is_empty(c)) return infer_cuda_conv_graph_run(c, ex);
  const void *bias = has_bias(c) ? c->in[2].data : NULL;
  const void *res = p->has_residual ? c->in[residual_input(c)].data : NULL;
  ConvPlan pl;
  INFER_TRY(conv_plan(c, &pl));
  InferCudaEpilogue epi = {bias, res, p->activation, pl.out_ch,
                           pl.channels_last ? 1 : pl.out_dims[0] * pl.out_dims[1] * pl.out_dims[2],
                           c->out[0].dtype};
  if (is_empty(c)) {
    /* no input reaches the output: bias (and residual) only */
    if (res != y) INFER_TRY(cuda_try(c, "cudaMemsetAsync",
                                     cudaMemsetAsync(y, 0, (size_t)ny * (pl.half ? 2 : 4),
                                                     (cudaStream_t)ex->stream)));
    if (res == y) epi.residual = NULL;
    return cuda_try(c, "epilogue kernel", infer_cuda_epilogue(y, ny, &epi, ex->stream));
  }
  cudnnHandle_t h = NULL;
  ConvEntry *e;
  INFER_TRY(get_handle(c, &h));
  INFER_TRY(entry_get(c, h, &pl, &e));
  if (ex->workspace_bytes < pl.stage_bytes || (pl.stage_bytes && !ex->workspace))
    return infer_status_new(INFER_ERR_INTERNAL,
                            "layer '%s' (%s): workspace of %zu bytes, %zu needed", c->node,
                            infer_op_name(c->op), ex->workspace_bytes, pl.stage_bytes);
  size_t avail = ex->workspace_bytes - pl.stage_bytes;
  int pick = -1;
  for (int i = 0; i < e->n_algos && pick < 0; i++)
    if (e->bytes[i] <= avail) pick = i;
  if (pick < 0)
    return infer_status_new(INFER_ERR_INTERNAL,
                            "layer '%s' (%s): no cuDNN algorithm fits the workspace (%zu bytes "
                            "free, %zu needed)",
                            c->node, infer_op_name(c->op), avail, e->bytes[0]);
  void *stage = ex->workspace;
  void *cws = pl.stage_bytes ? (char *)ex->workspace + pl.stage_bytes : ex->workspace;
  size_t cws_bytes = e->bytes[pick];
  if (cws_bytes == 0) cws = NULL;
  CUDNN_TRY(c, "cudnnSetStream", cudnnSetStream(h, (cudaStream_t)ex->stream));
  const float one = 1.0f, zero = 0.0f;
  const void *x = c->in[0].data, *w = c->in[1].data;
  if (!deconv) {
    if (pl.staged) {
      InferCudaWindow win = stage_window(&pl, pl.x_dims, pl.in_dims, pl.in_ch);
      INFER_TRY(cuda_try(c, "pad kernel", infer_cuda_window_copy(stage, x, &win, NULL, ex->stream)));
      x = stage;
    }
    InferStatus *st = NULL;
    if (try_fused(c, h, e, pick, x, w, bias, res, y, cws, cws_bytes, &st)) return st;
    /* A residual living in y already: let cuDNN add the product to it. */
    bool accumulate = res && res == y;
    CUDNN_TRY(c, "cudnnConvolutionForward",
              cudnnConvolutionForward(h, &one, e->x, x, e->w, w, e->conv,
                                      (cudnnConvolutionFwdAlgo_t)e->algo[pick], cws, cws_bytes,
                                      accumulate ? &one : &zero, e->y, y));
    if (accumulate) epi.residual = NULL;
    return cuda_try(c, "epilogue kernel", infer_cuda_epilogue(y, ny, &epi, ex->stream));
  }
  void *dx = pl.staged ? stage : y;
  CUDNN_TRY(c, "cudnnConvolutionBackwardData",
            cudnnConvolutionBackwardData(h, &one, e->w, w, e->x, x, e->conv,
                                         (cudnnConvolutionBwdDataAlgo_t)e->algo[pick], cws,
                                         cws_bytes, &zero, e->y, dx));
  if (!pl.staged)
    return cuda_try(c, "epilogue kernel", infer_cuda_epilogue(y, ny, &epi, ex->stream));
  InferCudaWindow win = stage_window(&pl, pl.out_dims, pl.y_dims, pl.out_ch);
  return cuda_try(c, "crop kernel", infer_cuda_window_copy(y, dx, &win, &epi, ex->stream));
}

InferStatus *infer_cuda_run_conv(const InferOpCall *call, const InferCudaExec *exec) {
  if (call->params->conv.quant.int8) return infer_cuda_conv_int8_run(call, exec);
  return conv_run(call, exec);
}

InferStatus *infer_cuda_run_deconv(const InferOpCall *call, const InferCudaExec *exec) {
  return conv_run(call, exec);
}

/* ---- tuning ------------------------------------------------------------------ */

/* Times every cuDNN algorithm for this layer on its real shapes (the call's
 * buffers are device memory; their contents do not matter) and returns the
 * fastest one that fits `exec`'s workspace (after the staging buffer) as a
 * tactic (algorithm + 1) with its time. Synchronizes the device. */
static InferStatus *tune_cudnn(const InferOpCall *c, const InferCudaExec *ex, int32_t *tactic,
                               double *ms) {
  *tactic = 0;
  *ms = 0;
  if (infer_shape_numel(&c->out[0].shape) <= 0 || is_empty(c)) return NULL;
  ConvPlan pl;
  INFER_TRY(conv_plan(c, &pl));
  pl.tactic = 0;
  cudnnHandle_t h = NULL;
  ConvEntry *e;
  INFER_TRY(get_handle(c, &h));
  INFER_TRY(entry_get(c, h, &pl, &e));
  if (ex->workspace_bytes < pl.stage_bytes) return NULL;
  size_t avail = ex->workspace_bytes - pl.stage_bytes;
  void *cws = (char *)ex->workspace + pl.stage_bytes;
  CUDNN_TRY(c, "cudnnSetStream", cudnnSetStream(h, (cudaStream_t)ex->stream));
  int got = 0;
  if (!pl.deconv) {
    const void *x = c->in[0].data;
    if (pl.staged) x = ex->workspace; /* the padded input: same sizes, contents irrelevant */
    cudnnConvolutionFwdAlgoPerf_t perf[CONV_MAX_ALGOS];
    CUDNN_TRY(c, "cudnnFindConvolutionForwardAlgorithmEx",
              cudnnFindConvolutionForwardAlgorithmEx(h, e->x, x, e->w, c->in[1].data, e->conv,
                                                     e->y, c->out[0].data, CONV_MAX_ALGOS, &got,
                                                     perf, cws, avail));
    for (int i = 0; i < got; i++)
      if (perf[i].status == CUDNN_STATUS_SUCCESS && math_ok(&pl, perf[i].mathType) &&
          algo_ok(&pl, (int)perf[i].algo) &&
          perf[i].memory <= avail) {
        *tactic = (int32_t)perf[i].algo + 1;
        *ms = perf[i].time;
        return NULL;
      }
  } else {
    void *dx = pl.staged ? ex->workspace : c->out[0].data;
    cudnnConvolutionBwdDataAlgoPerf_t perf[CONV_MAX_ALGOS];
    CUDNN_TRY(c, "cudnnFindConvolutionBackwardDataAlgorithmEx",
              cudnnFindConvolutionBackwardDataAlgorithmEx(h, e->w, c->in[1].data, e->x,
                                                          c->in[0].data, e->conv, e->y, dx,
                                                          CONV_MAX_ALGOS, &got, perf, cws, avail));
    for (int i = 0; i < got; i++)
      if (perf[i].status == CUDNN_STATUS_SUCCESS && math_ok(&pl, perf[i].mathType) &&
          algo_ok(&pl, (int)perf[i].algo) &&
          perf[i].memory <= avail) {
        *tactic = (int32_t)perf[i].algo + 1;
        *ms = perf[i].time;
        return NULL;
      }
  }
  return NULL;
}

/* The legacy path with tactic t as the engine runs it: staging, cuDNN's
 * fused call or the convolution and the epilogue pass after it. */
static InferStatus *run_legacy(const InferOpCall *c, const InferCudaExec *ex, int32_t t) {
  InferOpParams params = *c->params;
  params.conv.tactic = t;
  InferOpCall call = *c;
  call.params = &params;
  return conv_run(&call, ex);
}

/* cuDNN's legacy algorithms, its graph-API engines for channels-last
 * layers, the project's depthwise and small-input-channel kernels, and for 1x1 channels-last layers
 * the cuBLASLt product: the fastest wins. */
InferStatus *infer_cuda_tune_conv(const InferOpCall *c, const InferCudaExec *ex, int32_t *tactic,
                                  double *ms) {
  if (c->params->conv.quant.int8) return infer_cuda_conv_int8_tune(c, ex, tactic, ms);
  INFER_TRY(tune_cudnn(c, ex, tactic, ms));
  /* cuDNN's own timing leaves out the pass after it (ReLU6 and other
   * activations, a residual cuDNN would not fuse): on MobileNetV2 that
   * pass cost more than the convolution and the others lost unfairly */
  if (*tactic)
    INFER_TRY(infer_cuda_time(c, ex, run_legacy, *tactic, 3, "timing a cuDNN algorithm", ms));
  if (infer_cuda_conv_depthwise_applicable(c) && !is_empty(c)) {
    double d_ms = 0;
    InferStatus *st = infer_cuda_conv_depthwise_time(c, ex, &d_ms);
    if (st) infer_status_free(st);
    else if (*tactic == 0 || d_ms < *ms) {
      *tactic = INFER_CUDA_CONV_TACTIC_DEPTHWISE;
      *ms = d_ms;
    }
  }
  if (infer_cuda_conv_small_cin_applicable(c) && !is_empty(c)) {
    double s_ms = 0;
    InferStatus *st = infer_cuda_conv_small_cin_time(c, ex, &s_ms);
    if (st) infer_status_free(st);
    else if (*tactic == 0 || s_ms < *ms) {
      *tactic = INFER_CUDA_CONV_TACTIC_SMALL_CIN;
      *ms = s_ms;
    }
  }
  if (infer_cuda_conv_graph_applicable(c) && !is_empty(c)) {
    int32_t g = 0;
    double g_ms = 0;
    InferStatus *st = infer_cuda_conv_graph_tune(c, ex, &g, &g_ms);
    if (st) infer_status_free(st);
    else if (g && (*tactic == 0 || g_ms < *ms)) {
      *tactic = g;
      *ms = g_ms;
    }
  }
  if (!infer_cuda_conv_gemm_applicable(c) || is_empty(c) ||
      ex->workspace_bytes < infer_cuda_conv_gemm_workspace())
    return NULL;
  double gemm_ms = 0;
  int32_t gemm = 0;
  InferStatus *st = infer_cuda_conv_gemm_tune(c, ex, &gemm, &gemm_ms);
  if (st) {
    /* cuBLASLt cannot run it: cuDNN's choice stands */
    infer_status_free(st);
    return NULL;
  }
  if (*tactic == 0 || gemm_ms < *ms) {
    *tactic = gemm;
    *ms = gemm_ms;
  }
  return NULL;
}

InferStatus *infer_cuda_tune_deconv(const InferOpCall *c, const InferCudaExec *ex,
                                    int32_t *tactic, double *ms) {
  return tune_cudnn(c, ex, tactic, ms);
}
