/* The INT8 form of Conv on the CUDA backend (see cuda_conv_int8.h): what
 * it accepts, its geometry, the choice among its tactics and their timing
 * at build. cuda_conv.c hands INT8 calls over to this file. */
#include <cuda_runtime_api.h>
#include <limits.h>
#include <string.h>

#include "conv_geometry.h"
#include "cuda_conv_int8.h"

/* Products per output whose int32 sum cannot overflow: 127 * 128 * k <=
 * 2^31 - 1 (the CPU reference's limit too). */
#define INT8_MAX_REDUCTION ((int64_t)(INT32_MAX / (127 * 128)))

static InferStatus *unsupported(const InferOpCall *c, const char *what) {
  return infer_status_new(INFER_ERR_UNSUPPORTED,
                          "layer '%s' (conv): %s is not supported by the CUDA backend's INT8 "
                          "convolution",
                          c->node, what);
}

static InferStatus *require(const InferOpCall *c, int i, InferDType a, InferDType b,
                            const char *name) {
  InferDType t = infer_call_input(c, i)->dtype;
  if (t == a || t == b) return NULL;
  return infer_status_new(INFER_ERR_UNSUPPORTED,
                          "layer '%s' (conv): INT8 %s of type %s is not supported on the CUDA "
                          "backend",
                          c->node, name, infer_dtype_name(t));
}

static bool too_big(const InferShape *s) {
  for (int i = 0; i < s->rank; i++)
    if (s->d[i] < 0) return false; /* unknown yet: checked again at run time */
  return infer_shape_numel(s) > INT_MAX;
}

InferStatus *infer_cuda_conv_int8_supports(const InferOpCall *c) {
  const InferConvParams *p = &c->params->conv;
  const InferQuantParams *q = &p->quant;
  if (c->n_in != (p->has_residual ? 5 : 4)) return unsupported(c, "this input list");
  INFER_TRY(require(c, 0, INFER_DTYPE_I8, INFER_DTYPE_I8, "input"));
  INFER_TRY(require(c, 1, INFER_DTYPE_I8, INFER_DTYPE_I8, "weights"));
  if (infer_call_has_input(c, 2)) INFER_TRY(require(c, 2, INFER_DTYPE_F32, INFER_DTYPE_F32, "bias"));
  INFER_TRY(require(c, 3, INFER_DTYPE_F32, INFER_DTYPE_F32, "weight scales"));
  if (p->has_residual) INFER_TRY(require(c, 4, INFER_DTYPE_I8, INFER_DTYPE_F32, "residual"));
  InferDType want = q->y_scale > 0.0f ? INFER_DTYPE_I8 : INFER_DTYPE_F32;
  if (c->n_out != 1 || c->out[0].dtype != want) return unsupported(c, "this output type");
  if (p->spatial < 1 || p->spatial > INFER_MAX_SPATIAL)
    return unsupported(c, "this number of spatial dims");
  if (p->channels_last && p->spatial != 2)
    return unsupported(c, "channels-last layout other than for a 2-D convolution");
  if ((int)p->activation.kind < 0 || p->activation.kind >= INFER_UNARY_KIND_COUNT)
    return unsupported(c, "this fused activation");
  if (p->group < 0 || p->group > INT_MAX) return unsupported(c, "this group count");
  const InferShape *xs = &c->in[0].shape, *ws = &c->in[1].shape;
  if (xs->rank != p->spatial + 2 || ws->rank != p->spatial + 2)
    return unsupported(c, "an input or weight rank other than spatial dims + 2");
  if (too_big(xs) || too_big(ws) || too_big(&c->out[0].shape))
    return unsupported(c, "a tensor of more than 2^31 - 1 elements");
  for (int i = 0; i < p->spatial; i++) {
    int64_t dl = infer_geo_default1(p->dilations[i]), st = infer_geo_default1(p->strides[i]);
    if (dl > INT_MAX || st > INT_MAX || p->pads[i] > INT_MAX || p->pads[p->spatial + i] > INT_MAX)
      return unsupported(c, "a stride, dilation or pad this large");
  }
  int64_t taps = 1;
  for (int i = 1; i < ws->rank; i++) {
    if (ws->d[i] < 0) return NULL;
    if (!infer_geo_mul(taps, ws->d[i], &taps)) taps = INT64_MAX;
  }
  if (taps > INT8_MAX_REDUCTION)
    return unsupported(c, "an INT8 reduction over more than 132104 products (int32 overflow)");
  return NULL;
}

InferStatus *infer_cuda_conv_int8_geo(const InferOpCall *c, InferCudaInt8ConvGeo *g) {
  const InferConvParams *p = &c->params->conv;
  InferShape xs = c->in[0].shape, ws = c->in[1].shape, ys = c->out[0].shape;
  memset(g, 0, sizeof *g);
  g->channels_last = p->channels_last;
  if (p->channels_last) {
    /* view [N, spatial..., C] as [N, C, spatial...] for the arithmetic */
    int r = xs.rank;
    InferShape a = xs, b = ws, d = ys;
    a.d[1] = xs.d[r - 1];
    b.d[1] = ws.d[r - 1];
    d.d[1] = ys.d[r - 1];
    for (int i = 0; i < p->spatial; i++) {
      a.d[2 + i] = xs.d[1 + i];
      b.d[2 + i] = ws.d[1 + i];
      d.d[2 + i] = ys.d[1 + i];
    }
    xs = a;
    ws = b;
    ys = d;
  }
  g->batch = xs.d[0];
  g->in_ch = xs.d[1];
  g->out_ch = ws.d[0];
  g->group = infer_geo_default1(p->group);
  if (g->group <= 0 || g->in_ch % g->group != 0 || g->out_ch % g->group != 0 ||
      ws.d[1] * g->group != g->in_ch || ys.d[1] != g->out_ch)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "layer '%s' (conv): channel counts do not match the weights and group",
                            c->node);
  g->cg = g->in_ch / g->group;
  g->mg = g->out_ch / g->group;
  for (int j = 0; j < 3; j++) {
    g->in[j] = g->out[j] = g->k[j] = g->s[j] = g->d[j] = 1;
    g->pb[j] = 0;
  }
  for (int i = 0; i < p->spatial; i++) {
    int j = 3 - p->spatial + i;
    InferGeoDim d = {xs.d[2 + i], ws.d[2 + i], p->strides[i], p->dilations[i], p->pads[i],
                     p->pads[p->spatial + i]};
    int64_t pe, out;
    if (infer_geo_window(&d, p->auto_pad, false, &g->pb[j], &pe, &out) != INFER_GEO_OK ||
        out != ys.d[2 + i])
      return infer_status_new(INFER_ERR_INTERNAL, "layer '%s' (conv): output shape mismatch",
                              c->node);
    g->in[j] = d.in;
    g->out[j] = out;
    g->k[j] = d.kernel;
    g->s[j] = infer_geo_default1(d.stride);
    g->d[j] = infer_geo_default1(d.dilation);
  }
  g->out_size = g->out[0] * g->out[1] * g->out[2];
  g->k_size = g->k[0] * g->k[1] * g->k[2];
  if (g->cg * g->k_size > INT8_MAX_REDUCTION)
    return unsupported(c, "an INT8 reduction over more than 132104 products (int32 overflow)");
  return NULL;
}

void infer_cuda_conv_int8_epilogue_of(const InferOpCall *c, InferCudaInt8Epilogue *e) {
  const InferConvParams *p = &c->params->conv;
  memset(e, 0, sizeof *e);
  e->w_scales = c->in[3].data;
  e->bias = infer_call_has_input(c, 2) ? c->in[2].data : NULL;
  if (p->has_residual) {
    e->residual = c->in[4].data;
    e->residual_i8 = c->in[4].dtype == INFER_DTYPE_I8;
  }
  e->x_scale = p->quant.x_scale;
  e->y_scale = p->quant.y_scale;
  e->y_inv = e->y_scale > 0.0f ? 1.0f / e->y_scale : 0.0f;
  e->residual_scale = p->quant.residual_scale;
  e->act = p->activation;
  e->alpha = 1.0f;
}

/* ---- tactics --------------------------------------------------------------- */

/* The device's compute capability as 10 * major + minor (asked once), 0
 * when it cannot be asked. */
static int compute_capability(void) {
  static int cc = -1;
  if (cc < 0) {
    int dev = 0, major = 0, minor = 0;
    if (cudaGetDevice(&dev) != cudaSuccess ||
        cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev) != cudaSuccess ||
        cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev) != cudaSuccess) {
      cudaGetLastError();
      return 0;
    }
    cc = 10 * major + minor;
  }
  return cc;
}

static bool tensor_cores(void) { return compute_capability() >= 80; }

/* sm_90a machine code runs on 9.0 alone (not on later GPUs) */
static bool hopper_wgmma(void) { return compute_capability() == 90; }

/* 2-D channels-last, group 1, every dim known and within int range. */
static bool gemm_shaped(const InferOpCall *c, InferCudaInt8ConvGeo *g) {
  const InferConvParams *p = &c->params->conv;
  if (!p->channels_last || p->spatial != 2 || infer_geo_default1(p->group) != 1) return false;
  for (int i = 0; i < 4; i++)
    if (c->in[0].shape.d[i] <= 0 || c->in[1].shape.d[i] <= 0 || c->out[0].shape.d[i] <= 0)
      return false;
  InferStatus *st = infer_cuda_conv_int8_geo(c, g);
  if (st) {
    infer_status_free(st);
    return false;
  }
  return g->batch * g->out_size <= INT_MAX && g->k_size * g->in_ch <= INT_MAX;
}

/* A 1x1, stride 1, unpadded channels-last conv over multiples of 4
 * channels: a plain product for cuBLASLt. */
static bool lt_shaped(const InferOpCall *c) {
  const InferConvParams *p = &c->params->conv;
  InferCudaInt8ConvGeo g;
  if (!gemm_shaped(c, &g) || g.k_size != 1 || g.s[1] != 1 || g.s[2] != 1) return false;
  for (int i = 0; i < 4; i++)
    if (p->pads[i] != 0) return false;
  return g.in_ch % 4 == 0 && g.out_ch % 4 == 0;
}

static bool lt_fused_tactic(int32_t t) {
  return t >= INFER_CUDA_CONV_TACTIC_INT8_LT_FUSED &&
         t < INFER_CUDA_CONV_TACTIC_INT8_LT_FUSED + INFER_CUDA_CONV_INT8_LT_FUSED_CANDIDATES;
}

static bool wgmma_tactic(int32_t t) {
  return t >= INFER_CUDA_CONV_TACTIC_INT8_WGMMA &&
         t < INFER_CUDA_CONV_TACTIC_INT8_WGMMA + INFER_CUDA_CONV_INT8_WGMMA_CONFIGS;
}

bool infer_cuda_conv_int8_tactic_applicable(const InferOpCall *c, int32_t t) {
  if (t == INFER_CUDA_CONV_TACTIC_INT8_DIRECT) return true;
  InferCudaInt8ConvGeo g;
  if (t == INFER_CUDA_CONV_TACTIC_INT8_LT) return lt_shaped(c);
  if (lt_fused_tactic(t)) {
    const InferConvParams *p = &c->params->conv;
    InferUnaryKind act = p->activation.kind;
    return lt_shaped(c) && c->out[0].dtype == INFER_DTYPE_I8 &&
           (act == INFER_UNARY_NONE || act == INFER_UNARY_RELU) &&
           (!p->has_residual || c->in[4].dtype == INFER_DTYPE_I8);
  }
  if (t >= INFER_CUDA_CONV_TACTIC_INT8_MMA &&
      t < INFER_CUDA_CONV_TACTIC_INT8_MMA + INFER_CUDA_CONV_INT8_MMA_CONFIGS)
    return tensor_cores() && gemm_shaped(c, &g) &&
           (g.in_ch % 16 == 0 || (t - INFER_CUDA_CONV_TACTIC_INT8_MMA) %
                                          INFER_CUDA_CONV_INT8_MMA_TILES ==
                                      INFER_CUDA_CONV_INT8_MMA_GATHER_CONFIG);
  if (wgmma_tactic(t)) {
    InferUnaryKind act = c->params->conv.activation.kind;
    return hopper_wgmma() && gemm_shaped(c, &g) && g.in_ch % 16 == 0 &&
           (act == INFER_UNARY_NONE || act == INFER_UNARY_RELU || act == INFER_UNARY_CLIP ||
            act == INFER_UNARY_LEAKY_RELU);
  }
  return false;
}

/* The tactic a call runs: its own when applicable, else the first
 * tensor-core configuration, else the direct kernel. */
static int32_t effective_tactic(const InferOpCall *c) {
  int32_t t = c->params->conv.tactic;
  if (t && infer_cuda_conv_int8_tactic_applicable(c, t)) return t;
  if (infer_cuda_conv_int8_tactic_applicable(c, INFER_CUDA_CONV_TACTIC_INT8_MMA))
    return INFER_CUDA_CONV_TACTIC_INT8_MMA;
  int32_t gather = INFER_CUDA_CONV_TACTIC_INT8_MMA + INFER_CUDA_CONV_INT8_MMA_GATHER_CONFIG;
  if (infer_cuda_conv_int8_tactic_applicable(c, gather)) return gather;
  return INFER_CUDA_CONV_TACTIC_INT8_DIRECT;
}

/* The scratch memory of tactic t (a layer the tactic applies to). */
static size_t tactic_workspace(const InferOpCall *c, int32_t t) {
  const InferShape *ys = &c->out[0].shape;
  if (t == INFER_CUDA_CONV_TACTIC_INT8_LT)
    return infer_cuda_int8_lt_workspace(ys->d[0] * ys->d[1] * ys->d[2], ys->d[3]);
  if (lt_fused_tactic(t)) return infer_cuda_int8_lt_fused_workspace(ys->d[3]);
  return 0;
}

size_t infer_cuda_conv_int8_workspace(const InferOpCall *c) {
  return tactic_workspace(c, effective_tactic(c));
}

/* The mma.sync implicit GEMM of tactic t, else the direct kernel. A
 * misaligned buffer (a plan's tactic meeting other memory) sends an
 * implicit GEMM tactic, wgmma's included, to the configuration that
 * gathers. */
static cudaError_t run_mma(int32_t t, const int8_t *x, const int8_t *w, void *y, int y_i8,
                           const InferCudaInt8ConvGeo *g, const InferCudaInt8Epilogue *e,
                           bool aligned, void *stream) {
  int k = t - INFER_CUDA_CONV_TACTIC_INT8_MMA;
  int cfg = k >= 0 && k < INFER_CUDA_CONV_INT8_MMA_CONFIGS ? k % INFER_CUDA_CONV_INT8_MMA_TILES : -1;
  int staged = k >= INFER_CUDA_CONV_INT8_MMA_TILES;
  if ((cfg >= 0 || wgmma_tactic(t)) && !aligned) cfg = INFER_CUDA_CONV_INT8_MMA_GATHER_CONFIG;
  switch (cfg) {
    case 0: return infer_cuda_conv_int8_mma_cfg0(x, w, y, y_i8, g, e, staged, stream);
    case 1: return infer_cuda_conv_int8_mma_cfg1(x, w, y, y_i8, g, e, staged, stream);
    case 2: return infer_cuda_conv_int8_mma_cfg2(x, w, y, y_i8, g, e, staged, stream);
    case 3: return infer_cuda_conv_int8_mma_cfg3(x, w, y, y_i8, g, e, staged, stream);
    default: return infer_cuda_conv_int8_direct(x, w, y, y_i8, g, e, stream);
  }
}

static InferStatus *run_tactic(const InferOpCall *c, const InferCudaExec *ex, int32_t t) {
  if (infer_shape_numel(&c->out[0].shape) <= 0) return NULL;
  InferCudaInt8ConvGeo g;
  InferCudaInt8Epilogue e;
  INFER_TRY(infer_cuda_conv_int8_geo(c, &g));
  infer_cuda_conv_int8_epilogue_of(c, &e);
  const int8_t *x = c->in[0].data, *w = c->in[1].data;
  void *y = c->out[0].data;
  int y_i8 = c->out[0].dtype == INFER_DTYPE_I8;
  cudaError_t err;
  if (t == INFER_CUDA_CONV_TACTIC_INT8_LT)
    return infer_cuda_int8_lt_run(c, ex, x, w, g.batch * g.out_size, g.out_ch, g.in_ch, y, y_i8,
                                  &e);
  if (lt_fused_tactic(t))
    return infer_cuda_int8_lt_fused_run(c, ex, x, w, g.batch * g.out_size, g.out_ch, g.in_ch, y,
                                        &e, t - INFER_CUDA_CONV_TACTIC_INT8_LT_FUSED);
  bool aligned = (uintptr_t)x % 16 == 0 && (uintptr_t)w % 16 == 0 && g.in_ch % 16 == 0;
  if (wgmma_tactic(t) && aligned)
    err = infer_cuda_conv_int8_wgmma(t - INFER_CUDA_CONV_TACTIC_INT8_WGMMA, x, w, y, y_i8, &g,
                                     &e, ex->stream);
  else
    err = run_mma(t, x, w, y, y_i8, &g, &e, aligned, ex->stream);
  return err == cudaSuccess ? NULL
                            : infer_cuda_error(c, "the INT8 convolution kernel",
                                               cudaGetErrorString(err));
}

InferStatus *infer_cuda_conv_int8_run(const InferOpCall *c, const InferCudaExec *ex) {
  return run_tactic(c, ex, effective_tactic(c));
}

bool infer_cuda_conv_int8_tactic_candidate(const InferOpCall *c, int32_t t) {
  /* cuBLASLt's own requantization may differ by 1 LSB from the reference */
  if (lt_fused_tactic(t) && (c->flags & INFER_CALL_INT8_EXACT)) return false;
  return infer_cuda_conv_int8_tactic_applicable(c, t);
}

InferStatus *infer_cuda_conv_int8_tune(const InferOpCall *c, const InferCudaExec *ex,
                                       int32_t *tactic, double *ms) {
  *tactic = 0;
  *ms = 0;
  if (infer_shape_numel(&c->out[0].shape) <= 0) return NULL;
  int32_t cands[2 + INFER_CUDA_CONV_INT8_MMA_CONFIGS + INFER_CUDA_CONV_INT8_LT_FUSED_CANDIDATES +
                INFER_CUDA_CONV_INT8_WGMMA_CONFIGS];
  int n = 0;
  cands[n++] = INFER_CUDA_CONV_TACTIC_INT8_DIRECT;
  cands[n++] = INFER_CUDA_CONV_TACTIC_INT8_LT;
  for (int k = 0; k < INFER_CUDA_CONV_INT8_MMA_CONFIGS; k++)
    cands[n++] = INFER_CUDA_CONV_TACTIC_INT8_MMA + k;
  for (int k = 0; k < INFER_CUDA_CONV_INT8_LT_FUSED_CANDIDATES; k++)
    cands[n++] = INFER_CUDA_CONV_TACTIC_INT8_LT_FUSED + k;
  for (int k = 0; k < INFER_CUDA_CONV_INT8_WGMMA_CONFIGS; k++)
    cands[n++] = INFER_CUDA_CONV_TACTIC_INT8_WGMMA + k;
  for (int i = 0; i < n; i++) {
    int32_t t = cands[i];
    if (!infer_cuda_conv_int8_tactic_candidate(c, t)) continue;
    if (ex->workspace_bytes < tactic_workspace(c, t)) continue;
    double t_ms = 0;
    InferStatus *st =
        infer_cuda_time(c, ex, run_tactic, t, 5, "timing an INT8 convolution tactic", &t_ms);
    if (st) {
      /* a tactic that cannot run here is no candidate; the direct kernel
       * always can, so its failure is the layer's */
      if (t == INFER_CUDA_CONV_TACTIC_INT8_DIRECT) return st;
      infer_status_free(st);
      cudaGetLastError();
      continue;
    }
    if (*tactic == 0 || t_ms < *ms) {
      *tactic = t;
      *ms = t_ms;
    }
  }
  return NULL;
}
