/* Tactic timing at build: every layer whose backend kernel has several
 * implementations (cuDNN convolution algorithms today) is timed on the
 * device with the engine's build shapes, and the fastest choice is stored
 * in the layer's params, so the plan file carries it. A timing cache file
 * (timing_cache.h) makes a rebuild skip the timing of layers it has seen
 * on this device. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "engine_internal.h"
#include "plan_format.h"
#include "timing_cache.h"

/* Scratch for the candidates' own workspace while timing. */
#define TUNING_WORKSPACE_DEFAULT ((size_t)256 << 20)

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void set_tactic(InferLayer *layer, int32_t tactic) {
  if (layer->op == INFER_OP_CONV || layer->op == INFER_OP_DECONV) layer->params.conv.tactic = tactic;
}

static bool static_shape(const InferShape *s) {
  for (int d = 0; d < s->rank; d++)
    if (s->d[d] < 0) return false;
  return true;
}

typedef struct Scratch {
  void *ptr[64];
  int n;
} Scratch;

static void scratch_free(const InferBackend *be, Scratch *s) {
  for (int i = 0; i < s->n; i++) be->free(s->ptr[i]);
  s->n = 0;
}

/* The layer's call with device buffers for every non-constant tensor.
 * Returns false (nothing to time) for shapes unknown at build. */
static InferStatus *layer_call(const InferEngine *e, const InferBackend *be, const InferLayer *layer,
                               InferTensorView *in, InferTensorView *out, InferOpCall *call,
                               Scratch *scratch, bool *ok) {
  const InferNetwork *net = e->net;
  *ok = false;
  if (layer->n_inputs + layer->n_outputs > 64) return NULL;
  for (int i = 0; i < layer->n_inputs; i++) {
    memset(&in[i], 0, sizeof in[i]);
    InferTensorId t = layer->inputs[i];
    if (t < 0) continue;
    const InferTensorDef *def = &net->tensors[t];
    if (!static_shape(&def->shape)) return NULL;
    in[i].dtype = def->dtype;
    in[i].shape = def->shape;
    in[i].data = be->constant_data(e, t);
    if (!in[i].data) {
      INFER_TRY(be->alloc(infer_dtype_size(def->dtype) *
                              (size_t)infer_shape_numel(&def->shape) + 16,
                          &scratch->ptr[scratch->n]));
      in[i].data = scratch->ptr[scratch->n++];
    }
  }
  for (int i = 0; i < layer->n_outputs; i++) {
    const InferTensorDef *def = &net->tensors[layer->outputs[i]];
    if (!static_shape(&def->shape)) return NULL;
    out[i].dtype = def->dtype;
    out[i].shape = def->shape;
    INFER_TRY(be->alloc(infer_dtype_size(def->dtype) * (size_t)infer_shape_numel(&def->shape) + 16,
                        &scratch->ptr[scratch->n]));
    out[i].data = scratch->ptr[scratch->n++];
  }
  *call = (InferOpCall){layer->op, layer->name, &layer->params, in, layer->n_inputs, out,
                        layer->n_outputs, 0};
  if (e->precisions & INFER_ENGINE_TF32) call->flags |= INFER_CALL_TF32;
  if (e->precisions & INFER_ENGINE_INT8_EXACT) call->flags |= INFER_CALL_INT8_EXACT;
  *ok = true;
  return NULL;
}

InferStatus *infer_engine_tune(InferEngine *e, const InferBuildConfig *cfg) {
  const InferBackend *be = infer_backend_get(e->backend);
  if (!be || !be->tune_layer || !be->layer_tunable) return NULL;
  InferDeviceFingerprint fp;
  INFER_TRY(infer_device_fingerprint(e->backend, &fp));
  char device[256];
  infer_device_fingerprint_describe(&fp, device, sizeof device);
  for (char *c = device; *c; c++)
    if (*c == '\t' || *c == '\n') *c = ' ';
  InferTimingCache cache;
  const char *path = cfg ? cfg->timing_cache : NULL;
  if (path) INFER_TRY(infer_timing_cache_load(&cache, path));
  else memset(&cache, 0, sizeof cache);
  size_t ws_bytes = cfg && cfg->workspace_limit ? cfg->workspace_limit : TUNING_WORKSPACE_DEFAULT;
  void *ws = NULL;
  InferStatus *st = NULL;
  int timed = 0, cached = 0;
  double t0 = now_ms();
  for (int32_t l = 0; !st && l < e->net->n_layers; l++) {
    InferLayer *layer = &e->net->layers[l];
    if (!be->layer_tunable(layer->op)) continue;
    /* a tactic the network already carries (a test pinning one) is kept */
    if ((layer->op == INFER_OP_CONV || layer->op == INFER_OP_DECONV) && layer->params.conv.tactic)
      continue;
    InferTensorView in[64], out[64];
    InferOpCall call;
    Scratch scratch = {{0}, 0};
    bool ok;
    st = layer_call(e, be, layer, in, out, &call, &scratch, &ok);
    if (!st && ok) {
      uint64_t key = infer_timing_key(&call);
      int32_t tactic = 0;
      double ms = 0;
      if (infer_timing_cache_find(&cache, device, key, &tactic)) {
        cached++;
      } else {
        if (!ws) st = be->alloc(ws_bytes, &ws);
        if (!st) st = be->tune_layer(&call, ws, ws_bytes, &tactic, &ms);
        if (!st) st = infer_timing_cache_put(&cache, device, key, tactic, ms);
        if (!st) {
          timed++;
          infer_build_log(cfg, "tactic %s (%s): %d, %.4f ms", layer->name,
                          infer_op_name(layer->op), tactic, ms);
        }
      }
      if (!st) set_tactic(layer, tactic);
    }
    scratch_free(be, &scratch);
    if (st) st = infer_status_prefix(st, "timing layer '%s'", layer->name);
  }
  if (ws) be->free(ws);
  if (!st && path && cache.dirty) st = infer_timing_cache_save(&cache, path);
  if (!st && (timed || cached))
    infer_build_log(cfg, "tactics: %d layers timed, %d from the timing cache, %.1f ms", timed,
                    cached, now_ms() - t0);
  infer_timing_cache_free(&cache);
  return st;
}
