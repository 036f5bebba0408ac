/* The CPU reference for channels-last Conv / Pool: the channels-first
 * kernel on transposed copies (a reference, not a fast path). */
#include "channels_last.h"
#include "cpu_kernels.h"

#define ADAPTER_MAX_IO 8

typedef struct Twin {
  InferTensorView in[ADAPTER_MAX_IO], out[ADAPTER_MAX_IO];
  InferOpParams params;
  InferOpCall call;
} Twin;

/* The channels-first twin of call c (views only: data as given). */
static InferStatus *make_twin(const InferOpCall *c, Twin *t) {
  if (c->n_in > ADAPTER_MAX_IO || c->n_out > ADAPTER_MAX_IO)
    return infer_status_new(INFER_ERR_UNSUPPORTED, "layer '%s' (%s): too many inputs", c->node,
                            infer_op_name(c->op));
  t->params = *c->params;
  if (c->op == INFER_OP_CONV) t->params.conv.channels_last = false;
  else t->params.pool.channels_last = false;
  for (int i = 0; i < c->n_in; i++) {
    t->in[i] = c->in[i];
    if (infer_channels_last_input(c, i) && infer_call_has_input(c, i))
      t->in[i].shape = infer_shape_to_channels_first(&c->in[i].shape);
  }
  for (int i = 0; i < c->n_out; i++) {
    t->out[i] = c->out[i];
    t->out[i].shape = infer_shape_to_channels_first(&c->out[i].shape);
  }
  t->call = *c;
  t->call.params = &t->params;
  t->call.in = t->in;
  t->call.out = t->out;
  return NULL;
}

InferStatus *infer_cpu_channels_last_supports(const InferOpCall *c,
                                              InferStatus *(*supports)(const InferOpCall *)) {
  Twin t;
  INFER_TRY(make_twin(c, &t));
  return supports(&t.call);
}

InferStatus *infer_cpu_channels_last_run(const InferOpCall *c,
                                         InferStatus *(*run)(const InferOpCall *)) {
  Twin t;
  INFER_TRY(make_twin(c, &t));
  void *tmp[2 * ADAPTER_MAX_IO] = {0};
  InferStatus *st = NULL;
  for (int i = 0; i < c->n_in && !st; i++) {
    if (!infer_channels_last_input(c, i) || !infer_call_has_input(c, i)) continue;
    size_t elem = infer_dtype_size(c->in[i].dtype);
    int64_t n = infer_shape_numel(&c->in[i].shape);
    tmp[i] = malloc(elem * (size_t)(n > 0 ? n : 0) + 1);
    if (!tmp[i]) st = infer_status_new(INFER_ERR_OUT_OF_MEMORY, "cpu: out of memory");
    else infer_copy_layout(tmp[i], c->in[i].data, &t.in[i].shape, elem, false);
    t.in[i].data = tmp[i];
  }
  for (int i = 0; i < c->n_out && !st; i++) {
    int64_t n = infer_shape_numel(&c->out[i].shape);
    tmp[ADAPTER_MAX_IO + i] = malloc(infer_dtype_size(c->out[i].dtype) * (size_t)(n > 0 ? n : 0) + 1);
    if (!tmp[ADAPTER_MAX_IO + i]) st = infer_status_new(INFER_ERR_OUT_OF_MEMORY, "cpu: out of memory");
    t.out[i].data = tmp[ADAPTER_MAX_IO + i];
  }
  if (!st) st = run(&t.call);
  for (int i = 0; i < c->n_out && !st; i++)
    infer_copy_layout(c->out[i].data, t.out[i].data, &t.out[i].shape,
                      infer_dtype_size(c->out[i].dtype), true);
  for (int i = 0; i < 2 * ADAPTER_MAX_IO; i++) free(tmp[i]);
  return st;
}
