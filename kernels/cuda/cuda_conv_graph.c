/* Channels-last 2-D convolutions through cuDNN's graph (backend) API: the
 * operation graph conv -> + bias -> + residual -> ReLU or clip (ReLU6) is
 * handed to cuDNN
 * whole, its heuristics propose engine configurations (the runtime-fusion
 * engines of Hopper among them, which the legacy API cannot reach), and the
 * builder times each and keeps the fastest as the layer's tactic
 * INFER_CUDA_CONV_TACTIC_GRAPH + index of the configuration. Heuristics are
 * deterministic for one graph, cuDNN version and GPU, so the index names
 * the same engine when a plan is loaded; if it no longer exists there, the
 * layer falls back to the legacy path.
 *
 * Finalized execution plans are cached per host thread, keyed by the
 * layer's geometry and configuration index. */
#include <cuda_runtime_api.h>
#include <cudnn.h>
#include <string.h>

#include "conv_geometry.h"
#include "cuda_conv_graph.h"
#include "cuda_epilogue.h"

#define GRAPH_CACHE 64
#define GRAPH_MAX_CONFIGS 12

enum { UID_X = 1, UID_W, UID_Y, UID_B, UID_Z, UID_V1, UID_V2, UID_V3 };

typedef struct GraphKey {
  int64_t x[4], w[4], y[4];       /* NCHW-order dims (strides say channels-last) */
  int64_t pre[2], post[2], stride[2], dilation[2];
  int32_t half, tf32, bias, residual, config;
  int32_t act;        /* 0 none, 1 ReLU, 2 clip to [lo, hi] */
  float lo, hi;
} GraphKey;

typedef struct GraphEntry {
  bool used;
  GraphKey key;
  cudnnBackendDescriptor_t plan;
  int64_t workspace;
} GraphEntry;

static _Thread_local cudnnHandle_t tl_handle;
static _Thread_local GraphEntry tl_plans[GRAPH_CACHE];
static _Thread_local unsigned tl_next;

typedef cudnnBackendDescriptor_t Desc;

/* Descriptors made while building one graph, destroyed together. */
typedef struct Pool {
  Desc d[48];
  int n;
} Pool;

static void pool_free(Pool *p) {
  for (int i = 0; i < p->n; i++) cudnnBackendDestroyDescriptor(p->d[i]);
  p->n = 0;
}

static cudnnStatus_t make(Pool *p, cudnnBackendDescriptorType_t type, Desc *out) {
  if (p->n == (int)(sizeof p->d / sizeof p->d[0])) return CUDNN_STATUS_ALLOC_FAILED;
  cudnnStatus_t st = cudnnBackendCreateDescriptor(type, out);
  if (st == CUDNN_STATUS_SUCCESS) p->d[p->n++] = *out;
  return st;
}

#define SET(desc, attr, type, count, ptr)                                           \
  do {                                                                              \
    cudnnStatus_t s_ = cudnnBackendSetAttribute((desc), (attr), (type), (count), (ptr)); \
    if (s_ != CUDNN_STATUS_SUCCESS) return s_;                                      \
  } while (0)
#define TRY(expr)                                  \
  do {                                             \
    cudnnStatus_t s_ = (expr);                     \
    if (s_ != CUDNN_STATUS_SUCCESS) return s_;     \
  } while (0)

/* A channels-last tensor of NCHW-order dims. */
static cudnnStatus_t tensor(Pool *p, int64_t uid, const int64_t dims[4], cudnnDataType_t t,
                            bool is_virtual, Desc *out) {
  int64_t strides[4] = {dims[1] * dims[2] * dims[3], 1, dims[3] * dims[1], dims[1]};
  int64_t align = 16;
  TRY(make(p, CUDNN_BACKEND_TENSOR_DESCRIPTOR, out));
  SET(*out, CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &t);
  SET(*out, CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, 4, dims);
  SET(*out, CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, 4, strides);
  SET(*out, CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, 1, &uid);
  SET(*out, CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, 1, &align);
  SET(*out, CUDNN_ATTR_TENSOR_IS_VIRTUAL, CUDNN_TYPE_BOOLEAN, 1, &is_virtual);
  return cudnnBackendFinalize(*out);
}

/* y = x (op) b for a pointwise mode (b NULL for unary modes); `clip` (two
 * bounds) makes RELU_FWD a clip: below lo -> lo (slope 0), above hi -> hi. */
static cudnnStatus_t pointwise(Pool *p, cudnnPointwiseMode_t mode, const float *clip, Desc x,
                               Desc b, Desc y, Desc *op) {
  Desc pw;
  cudnnDataType_t prec = CUDNN_DATA_FLOAT;
  TRY(make(p, CUDNN_BACKEND_POINTWISE_DESCRIPTOR, &pw));
  SET(pw, CUDNN_ATTR_POINTWISE_MODE, CUDNN_TYPE_POINTWISE_MODE, 1, &mode);
  SET(pw, CUDNN_ATTR_POINTWISE_MATH_PREC, CUDNN_TYPE_DATA_TYPE, 1, &prec);
  if (clip) {
    double lo = clip[0], hi = clip[1], slope = 0.0;
    SET(pw, CUDNN_ATTR_POINTWISE_RELU_LOWER_CLIP, CUDNN_TYPE_DOUBLE, 1, &lo);
    SET(pw, CUDNN_ATTR_POINTWISE_RELU_UPPER_CLIP, CUDNN_TYPE_DOUBLE, 1, &hi);
    SET(pw, CUDNN_ATTR_POINTWISE_RELU_LOWER_CLIP_SLOPE, CUDNN_TYPE_DOUBLE, 1, &slope);
  }
  TRY(cudnnBackendFinalize(pw));
  TRY(make(p, CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR, op));
  SET(*op, CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &pw);
  SET(*op, CUDNN_ATTR_OPERATION_POINTWISE_XDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &x);
  if (b) SET(*op, CUDNN_ATTR_OPERATION_POINTWISE_BDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &b);
  SET(*op, CUDNN_ATTR_OPERATION_POINTWISE_YDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &y);
  return cudnnBackendFinalize(*op);
}

/* The operation graph of the layer described by k. */
static cudnnStatus_t build_graph(Pool *p, cudnnHandle_t h, const GraphKey *k, Desc *graph) {
  cudnnDataType_t io = k->half ? CUDNN_DATA_HALF : CUDNN_DATA_FLOAT;
  Desc x, w, y, conv, op_conv, ops[4];
  int n_ops = 0;
  TRY(tensor(p, UID_X, k->x, io, false, &x));
  TRY(tensor(p, UID_W, k->w, io, false, &w));
  int stages = 1 + k->bias + k->residual + (k->act != 0); /* tensors after the convolution */
  /* the convolution's own output is virtual unless it is the result */
  TRY(tensor(p, stages == 1 ? UID_Y : UID_V1, k->y,
             stages == 1 ? io : CUDNN_DATA_FLOAT, stages > 1, &y));
  cudnnDataType_t comp = CUDNN_DATA_FLOAT;
  cudnnConvolutionMode_t mode = CUDNN_CROSS_CORRELATION;
  int64_t dims = 2;
  TRY(make(p, CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR, &conv));
  SET(conv, CUDNN_ATTR_CONVOLUTION_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &comp);
  SET(conv, CUDNN_ATTR_CONVOLUTION_CONV_MODE, CUDNN_TYPE_CONVOLUTION_MODE, 1, &mode);
  SET(conv, CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS, CUDNN_TYPE_INT64, 1, &dims);
  SET(conv, CUDNN_ATTR_CONVOLUTION_DILATIONS, CUDNN_TYPE_INT64, 2, k->dilation);
  SET(conv, CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES, CUDNN_TYPE_INT64, 2, k->stride);
  SET(conv, CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS, CUDNN_TYPE_INT64, 2, k->pre);
  SET(conv, CUDNN_ATTR_CONVOLUTION_POST_PADDINGS, CUDNN_TYPE_INT64, 2, k->post);
  TRY(cudnnBackendFinalize(conv));
  float alpha = 1.0f, beta = 0.0f;
  TRY(make(p, CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR, &op_conv));
  SET(op_conv, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &x);
  SET(op_conv, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &w);
  SET(op_conv, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &y);
  SET(op_conv, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC,
      CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &conv);
  SET(op_conv, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_ALPHA, CUDNN_TYPE_FLOAT, 1, &alpha);
  SET(op_conv, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_BETA, CUDNN_TYPE_FLOAT, 1, &beta);
  TRY(cudnnBackendFinalize(op_conv));
  ops[n_ops++] = op_conv;
  Desc cur = y;
  int left = stages - 1;
  int64_t virtual_uid = UID_V2;
  /* each stage writes a virtual float tensor, the last one the real output */
  const int32_t wanted[3] = {k->bias, k->residual, k->act != 0};
  const float clip[2] = {k->lo, k->hi};
  for (int s = 0; s < 3; s++) {
    if (!wanted[s]) continue;
    left--;
    Desc out, operand = NULL, op;
    TRY(tensor(p, left == 0 ? UID_Y : virtual_uid++, k->y, left == 0 ? io : CUDNN_DATA_FLOAT,
               left > 0, &out));
    if (s == 0) {
      int64_t b[4] = {1, k->y[1], 1, 1};
      TRY(tensor(p, UID_B, b, io, false, &operand));
    } else if (s == 1) {
      TRY(tensor(p, UID_Z, k->y, io, false, &operand));
    }
    TRY(pointwise(p, s == 2 ? CUDNN_POINTWISE_RELU_FWD : CUDNN_POINTWISE_ADD,
                  s == 2 && k->act == 2 ? clip : NULL, cur, operand, out, &op));
    ops[n_ops++] = op;
    cur = out;
  }
  TRY(make(p, CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR, graph));
  SET(*graph, CUDNN_ATTR_OPERATIONGRAPH_OPS, CUDNN_TYPE_BACKEND_DESCRIPTOR, n_ops, ops);
  SET(*graph, CUDNN_ATTR_OPERATIONGRAPH_HANDLE, CUDNN_TYPE_HANDLE, 1, &h);
  return cudnnBackendFinalize(*graph);
}

/* The graph's configurations: heuristic mode A's list, then the fallback
 * list (mode A offers no engine that builds for some graphs, e.g. conv +
 * bias + clip, which the fallback engines take). *n of them in cfgs
 * (descriptors owned by the pool); the order is fixed for one cuDNN and
 * GPU, so an index names the same engine when a plan is loaded. */
static cudnnStatus_t configs(Pool *p, Desc graph, Desc *cfgs, int64_t *n) {
  const cudnnBackendHeurMode_t modes[2] = {CUDNN_HEUR_MODE_A, CUDNN_HEUR_MODE_FALLBACK};
  *n = 0;
  for (int m = 0; m < 2 && *n < GRAPH_MAX_CONFIGS; m++) {
    Desc heur;
    TRY(make(p, CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR, &heur));
    SET(heur, CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &graph);
    SET(heur, CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, 1, &modes[m]);
    if (cudnnBackendFinalize(heur) != CUDNN_STATUS_SUCCESS) continue;
    int room = (int)(sizeof p->d / sizeof p->d[0]) - p->n;
    int want = GRAPH_MAX_CONFIGS - (int)*n;
    if (want > room) want = room;
    for (int i = 0; i < want; i++) TRY(make(p, CUDNN_BACKEND_ENGINECFG_DESCRIPTOR, &cfgs[*n + i]));
    int64_t got = 0;
    if (cudnnBackendGetAttribute(heur, CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR,
                                 want, &got, &cfgs[*n]) == CUDNN_STATUS_SUCCESS)
      *n += got;
  }
  return *n > 0 ? CUDNN_STATUS_SUCCESS : CUDNN_STATUS_NOT_SUPPORTED;
}

static cudnnStatus_t make_plan(cudnnHandle_t h, Desc cfg, Desc *plan, int64_t *workspace) {
  TRY(cudnnBackendCreateDescriptor(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR, plan));
  cudnnStatus_t st = cudnnBackendSetAttribute(*plan, CUDNN_ATTR_EXECUTION_PLAN_HANDLE,
                                              CUDNN_TYPE_HANDLE, 1, &h);
  if (st == CUDNN_STATUS_SUCCESS)
    st = cudnnBackendSetAttribute(*plan, CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG,
                                  CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &cfg);
  if (st == CUDNN_STATUS_SUCCESS) st = cudnnBackendFinalize(*plan);
  int64_t got = 0;
  if (st == CUDNN_STATUS_SUCCESS)
    st = cudnnBackendGetAttribute(*plan, CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE,
                                  CUDNN_TYPE_INT64, 1, &got, workspace);
  if (st != CUDNN_STATUS_SUCCESS) {
    cudnnBackendDestroyDescriptor(*plan);
    *plan = NULL;
  }
  return st;
}

static bool key_of(const InferOpCall *c, GraphKey *k) {
  const InferConvParams *p = &c->params->conv;
  const InferShape *xs = &c->in[0].shape, *ws = &c->in[1].shape, *ys = &c->out[0].shape;
  memset(k, 0, sizeof *k);
  if (xs->rank != 4 || ws->rank != 4 || ys->rank != 4) return false;
  /* channels-last [N, H, W, C] -> NCHW-order dims */
  const InferShape *s[3] = {xs, ws, ys};
  int64_t *d[3] = {k->x, k->w, k->y};
  for (int i = 0; i < 3; i++) {
    d[i][0] = s[i]->d[0];
    d[i][1] = s[i]->d[3];
    d[i][2] = s[i]->d[1];
    d[i][3] = s[i]->d[2];
  }
  for (int i = 0; i < 2; i++) {
    InferGeoDim g = {xs->d[1 + i], ws->d[1 + i], p->strides[i], p->dilations[i], p->pads[i],
                     p->pads[2 + i]};
    int64_t pb, pe, out;
    if (infer_geo_window(&g, p->auto_pad, false, &pb, &pe, &out) != INFER_GEO_OK ||
        out != ys->d[1 + i] || pb < 0 || pe < 0)
      return false;
    k->pre[i] = pb;
    k->post[i] = pe;
    k->stride[i] = infer_geo_default1(p->strides[i]);
    k->dilation[i] = infer_geo_default1(p->dilations[i]);
  }
  k->half = c->in[0].dtype == INFER_DTYPE_F16;
  k->tf32 = !k->half && (c->flags & INFER_CALL_TF32);
  k->bias = infer_call_has_input(c, 2) && !(p->has_residual && c->n_in - 1 == 2);
  k->residual = p->has_residual;
  if (p->activation.kind == INFER_UNARY_RELU) {
    k->act = 1;
  } else if (p->activation.kind == INFER_UNARY_CLIP) {
    k->act = 2;
    k->lo = p->activation.alpha;
    k->hi = p->activation.beta;
  }
  return true;
}

bool infer_cuda_conv_graph_applicable(const InferOpCall *c) {
  const InferConvParams *p = &c->params->conv;
  if (c->op != INFER_OP_CONV || !p->channels_last || p->spatial != 2) return false;
  InferUnaryKind act = p->activation.kind;
  if (act != INFER_UNARY_NONE && act != INFER_UNARY_RELU &&
      !(act == INFER_UNARY_CLIP && p->activation.alpha <= p->activation.beta))
    return false;
  InferDType t = c->in[0].dtype;
  /* f32 only with TF32 allowed: FMA-only f32 stays on the legacy path */
  if (t != INFER_DTYPE_F16 && !(t == INFER_DTYPE_F32 && (c->flags & INFER_CALL_TF32))) return false;
  if (p->has_residual && c->in[c->n_in - 1].data == c->out[0].data && c->out[0].data) return false;
  GraphKey k;
  return key_of(c, &k);
}

static InferStatus *graph_error(const InferOpCall *c, const char *what, cudnnStatus_t st) {
  return infer_cuda_error(c, what, cudnnGetErrorString(st));
}

static InferStatus *get_handle(const InferOpCall *c, cudnnHandle_t *h) {
  if (!tl_handle) {
    cudnnStatus_t st = cudnnCreate(&tl_handle);
    if (st != CUDNN_STATUS_SUCCESS) return graph_error(c, "cudnnCreate", st);
  }
  *h = tl_handle;
  return NULL;
}

/* The finalized plan of configuration `config` (cached). */
static InferStatus *plan_for(const InferOpCall *c, const GraphKey *key, GraphEntry **out) {
  for (int i = 0; i < GRAPH_CACHE; i++)
    if (tl_plans[i].used && memcmp(&tl_plans[i].key, key, sizeof *key) == 0) {
      *out = &tl_plans[i];
      return NULL;
    }
  cudnnHandle_t h = NULL;
  INFER_TRY(get_handle(c, &h));
  Pool p = {{0}, 0};
  Desc graph, cfgs[GRAPH_MAX_CONFIGS];
  int64_t n = 0;
  cudnnStatus_t st = build_graph(&p, h, key, &graph);
  if (st == CUDNN_STATUS_SUCCESS) st = configs(&p, graph, cfgs, &n);
  Desc plan = NULL;
  int64_t ws = 0;
  if (st == CUDNN_STATUS_SUCCESS && key->config >= n) st = CUDNN_STATUS_NOT_SUPPORTED;
  if (st == CUDNN_STATUS_SUCCESS) st = make_plan(h, cfgs[key->config], &plan, &ws);
  pool_free(&p);
  if (st != CUDNN_STATUS_SUCCESS)
    return infer_status_new(INFER_ERR_UNSUPPORTED,
                            "layer '%s' (conv): cuDNN graph engine %d is not available: %s",
                            c->node, key->config, cudnnGetErrorString(st));
  GraphEntry *e = &tl_plans[tl_next++ % GRAPH_CACHE];
  if (e->plan) cudnnBackendDestroyDescriptor(e->plan);
  e->used = true;
  e->key = *key;
  e->plan = plan;
  e->workspace = ws;
  *out = e;
  return NULL;
}

size_t infer_cuda_conv_graph_workspace(const InferOpCall *c) {
  GraphKey k;
  if (!key_of(c, &k)) return 0;
  k.config = c->params->conv.tactic - INFER_CUDA_CONV_TACTIC_GRAPH;
  GraphEntry *e;
  InferStatus *st = plan_for(c, &k, &e);
  if (st) {
    infer_status_free(st);
    return 0;
  }
  return (size_t)e->workspace;
}

static InferStatus *execute(const InferOpCall *c, const InferCudaExec *ex, GraphEntry *e) {
  if ((size_t)e->workspace > ex->workspace_bytes)
    return infer_status_new(INFER_ERR_INTERNAL, "layer '%s' (conv): workspace of %zu bytes, %lld needed",
                            c->node, ex->workspace_bytes, (long long)e->workspace);
  int64_t uids[5];
  void *ptrs[5];
  int n = 0;
  uids[n] = UID_X, ptrs[n++] = c->in[0].data;
  uids[n] = UID_W, ptrs[n++] = c->in[1].data;
  uids[n] = UID_Y, ptrs[n++] = c->out[0].data;
  if (e->key.bias) uids[n] = UID_B, ptrs[n++] = c->in[2].data;
  if (e->key.residual) uids[n] = UID_Z, ptrs[n++] = c->in[c->n_in - 1].data;
  void *ws = e->workspace ? ex->workspace : NULL;
  Desc pack;
  cudnnStatus_t st = cudnnBackendCreateDescriptor(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR, &pack);
  if (st != CUDNN_STATUS_SUCCESS) return graph_error(c, "cudnnBackendCreateDescriptor", st);
  st = cudnnBackendSetAttribute(pack, CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64, n, uids);
  if (st == CUDNN_STATUS_SUCCESS)
    st = cudnnBackendSetAttribute(pack, CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR,
                                  n, ptrs);
  if (st == CUDNN_STATUS_SUCCESS)
    st = cudnnBackendSetAttribute(pack, CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, 1,
                                  &ws);
  if (st == CUDNN_STATUS_SUCCESS) st = cudnnBackendFinalize(pack);
  cudnnHandle_t h = tl_handle;
  if (st == CUDNN_STATUS_SUCCESS) st = cudnnSetStream(h, (cudaStream_t)ex->stream);
  if (st == CUDNN_STATUS_SUCCESS) st = cudnnBackendExecute(h, e->plan, pack);
  cudnnBackendDestroyDescriptor(pack);
  return st == CUDNN_STATUS_SUCCESS ? NULL : graph_error(c, "cudnnBackendExecute", st);
}

InferStatus *infer_cuda_conv_graph_run(const InferOpCall *c, const InferCudaExec *ex) {
  GraphKey k;
  if (!key_of(c, &k))
    return infer_status_new(INFER_ERR_INTERNAL, "layer '%s' (conv): not a graph-API convolution",
                            c->node);
  k.config = c->params->conv.tactic - INFER_CUDA_CONV_TACTIC_GRAPH;
  GraphEntry *e;
  INFER_TRY(plan_for(c, &k, &e));
  return execute(c, ex, e);
}

/* Configuration `config` of the layer's graph, once (the timing unit). */
static InferStatus *run_config(const InferOpCall *c, const InferCudaExec *ex, int32_t config) {
  GraphKey k;
  if (!key_of(c, &k))
    return infer_status_new(INFER_ERR_INTERNAL, "layer '%s' (conv): not a graph-API convolution",
                            c->node);
  k.config = config;
  GraphEntry *e;
  INFER_TRY(plan_for(c, &k, &e));
  return execute(c, ex, e);
}

/* Times each configuration the heuristics offer (3 runs after a warm-up). */
InferStatus *infer_cuda_conv_graph_tune(const InferOpCall *c, const InferCudaExec *ex,
                                        int32_t *tactic, double *ms) {
  *tactic = 0;
  *ms = 0;
  GraphKey k;
  if (!key_of(c, &k)) return NULL;
  double best = 0;
  for (int cfg = 0; cfg < GRAPH_MAX_CONFIGS; cfg++) {
    k.config = cfg;
    GraphEntry *e;
    InferStatus *st = plan_for(c, &k, &e);
    if (st) {
      infer_status_free(st);
      continue; /* past the last configuration, or one that does not finalize */
    }
    if ((size_t)e->workspace > ex->workspace_bytes) continue;
    double t = 0;
    st = infer_cuda_time(c, ex, run_config, cfg, 3, "timing a cuDNN graph engine", &t);
    if (st) {
      infer_status_free(st);
      cudaGetLastError();
      continue;
    }
    if (*tactic == 0 || t < best) {
      best = t;
      *tactic = INFER_CUDA_CONV_TACTIC_GRAPH + cfg;
    }
  }
  *ms = best;
  return NULL;
}
