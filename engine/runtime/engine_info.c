/* Describing an engine: its layers as they run, and its weights. */
#include <string.h>

#include "backend.h"

/* The precision a layer computes in: int8 for the INT8 forms of Conv and
 * Gemm (whatever their output), else that of its first float tensor. */
static const char *layer_precision(const InferNetwork *net, const InferLayer *l) {
  if ((l->op == INFER_OP_CONV && l->params.conv.quant.int8) ||
      (l->op == INFER_OP_GEMM && l->params.gemm.quant.int8))
    return "int8";
  for (int i = 0; i < l->n_outputs + l->n_inputs; i++) {
    InferTensorId t = i < l->n_outputs ? l->outputs[i] : l->inputs[i - l->n_outputs];
    if (t < 0) continue;
    InferDType d = net->tensors[t].dtype;
    if (d == INFER_DTYPE_F16) return "fp16";
    if (d == INFER_DTYPE_F32) return "fp32";
    if (d == INFER_DTYPE_I8) return "int8";
  }
  return "-";
}

static bool channels_last(const InferLayer *l) {
  return (l->op == INFER_OP_CONV && l->params.conv.channels_last) ||
         (l->op == INFER_OP_POOL && l->params.pool.channels_last);
}

/* "cudnn-algo-6" for a tuned convolution, the backend's name otherwise. */
static const char *layer_kernel(const InferEngine *e, const InferLayer *l) {
  static const char *const algos[] = {"cudnn-algo-0", "cudnn-algo-1", "cudnn-algo-2",
                                      "cudnn-algo-3", "cudnn-algo-4", "cudnn-algo-5",
                                      "cudnn-algo-6", "cudnn-algo-7", "cudnn-algo-8"};
  static const char *const mma[] = {"int8-mma-128x128",        "int8-mma-128x64",
                                    "int8-mma-64x64",          "int8-mma-256x128",
                                    "int8-mma-128x128-staged", "int8-mma-128x64-staged",
                                    "int8-mma-64x64-staged",   "int8-mma-256x128-staged"};
  static const char *const wgmma[] = {"int8-wgmma-128x128", "int8-wgmma-128x64",
                                      "int8-wgmma-64x128", "int8-wgmma-64x64",
                                      "int8-wgmma-128x256", "int8-wgmma-256x128"};
  if (e->backend == INFER_BACKEND_CPU) return "cpu-reference";
  if (l->op == INFER_OP_CONV && l->params.conv.quant.int8) {
    /* INFER_CUDA_CONV_TACTIC_INT8_* (kernels/cuda/cuda_conv_int8.h) */
    int32_t t = l->params.conv.tactic;
    if (t == 4001) return "int8-cublaslt-1x1";
    if (t >= 4200 && t < 4208) return "int8-cublaslt-fused-1x1"; /* INT8_LT_FUSED + k */
    if (t >= 4100 && t < 4100 + (int32_t)(sizeof mma / sizeof mma[0])) return mma[t - 4100];
    if (t >= 4300 && t < 4300 + (int32_t)(sizeof wgmma / sizeof wgmma[0])) return wgmma[t - 4300];
    if (t == 4000) return "int8-direct";
    return "int8-default";
  }
  if (l->op == INFER_OP_GEMM && l->params.gemm.quant.int8) return "int8-gemm";
  if ((l->op == INFER_OP_CONV || l->op == INFER_OP_DECONV)) {
    int32_t t = l->params.conv.tactic;
    if (t >= 1000 && t < 1008) return "cublaslt-1x1"; /* INFER_CUDA_CONV_TACTIC_GEMM + k */
    if (t >= 2000 && t < 2016) return "cudnn-graph";   /* INFER_CUDA_CONV_TACTIC_GRAPH + k */
    if (t == 3000) return "depthwise";                 /* INFER_CUDA_CONV_TACTIC_DEPTHWISE */
    if (t == 3100) return "small-cin";                 /* INFER_CUDA_CONV_TACTIC_SMALL_CIN */
    if (t > 0 && t <= (int32_t)(sizeof algos / sizeof algos[0])) return algos[t - 1];
    return t > 0 ? "cudnn-tuned" : "cudnn-heuristic";
  }
  if (l->op == INFER_OP_GEMM || l->op == INFER_OP_MATMUL) return "cublas";
  return "cuda";
}

InferStatus *infer_engine_layer_info(const InferEngine *e, int layer, InferLayerInfo *out) {
  if (layer < 0 || layer >= e->net->n_layers)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "engine: no layer %d", layer);
  const InferLayer *l = &e->net->layers[layer];
  const InferTensorDef *o = &e->net->tensors[l->outputs[0]];
  out->name = l->name;
  out->op = infer_op_name(l->op);
  out->precision = layer_precision(e->net, l);
  out->layout = channels_last(l) ? "nhwc" : "nchw";
  out->kernel = layer_kernel(e, l);
  out->output = o->name;
  out->output_shape = o->shape;
  out->shape_known = o->shape_known && o->dtype != INFER_DTYPE_UNDEFINED;
  out->n_inputs = l->n_inputs;
  out->n_outputs = l->n_outputs;
  return NULL;
}

size_t infer_engine_weights_bytes(const InferEngine *e) {
  size_t total = 0;
  for (int32_t t = 0; t < e->net->n_tensors; t++) total += e->net->tensors[t].nbytes;
  return total;
}

const InferNetwork *infer_engine_network(const InferEngine *e) { return e->net; }

InferStatus *infer_engine_malloc(const InferEngine *e, size_t bytes, void **out) {
  return infer_backend_get(e->backend)->alloc(bytes, out);
}

void infer_engine_mfree(const InferEngine *e, void *ptr) {
  if (ptr) infer_backend_get(e->backend)->free(ptr);
}

static InferStatus *copy_sync(const InferEngine *e, void *dst, const void *src, size_t bytes,
                              InferCopyKind kind) {
  const InferBackend *be = infer_backend_get(e->backend);
  if (be->host_memory) {
    if (bytes) memmove(dst, src, bytes);
    return NULL;
  }
  INFER_TRY(be->copy(dst, src, bytes, kind, NULL));
  return be->synchronize(NULL);
}

InferStatus *infer_engine_copy_to_device(const InferEngine *e, void *dst, const void *src,
                                         size_t bytes) {
  return copy_sync(e, dst, src, bytes, INFER_COPY_HOST_TO_DEVICE);
}

InferStatus *infer_engine_copy_to_host(const InferEngine *e, void *dst, const void *src,
                                       size_t bytes) {
  return copy_sync(e, dst, src, bytes, INFER_COPY_DEVICE_TO_HOST);
}
