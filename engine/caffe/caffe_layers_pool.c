/* Caffe's Pooling layer (2-D, MAX and AVE, global or windowed).
 *
 * Caffe's geometry: out = ceil((in + 2*pad - k) / stride) + 1 (floor with
 * round_mode FLOOR); when a pad is non-zero, a last window starting at or
 * past in + pad is dropped. The IR's ceil_mode drops such a window whether
 * or not there is padding, so the sizes can differ when pad is 0 and
 * stride > kernel: both sizes are computed and a difference is refused.
 * AVE divides by the window clipped to the padded input [-pad, in + pad),
 * which is the IR's count_include_pad with symmetric pads (windows past
 * in + pad, possible in ceil mode, are clipped the same way). */
#include <string.h>

#include "caffe_import.h"

static const char *const pool_fields[] = {
  "pool", "pad", "pad_h", "pad_w", "kernel_size", "kernel_h", "kernel_w", "stride",
  "stride_h", "stride_w", "engine", "global_pooling", "round_mode", NULL};

/* A square value (`both`) or an h/w pair; `given` tells whether any was set. */
static InferStatus *read_pair(CaffeImporter *imp, const CaffeNode *p, const char *both,
                              const char *h, const char *w, int64_t def, int64_t out[2],
                              bool *given) {
  const char *file = caffe_file(imp);
  const CaffeNode *bn = caffe_find(p, both), *hn = caffe_find(p, h), *wn = caffe_find(p, w);
  *given = bn || hn || wn;
  out[0] = out[1] = def;
  if (bn && (hn || wn))
    return caffe_field_error(imp, bn, INFER_ERR_PARSE, "give %s or %s/%s, not both", both, h, w);
  if (bn) {
    INFER_TRY(caffe_node_int(file, bn, &out[0]));
    out[1] = out[0];
  } else if (hn || wn) {
    if (!hn || !wn)
      return caffe_field_error(imp, hn ? hn : wn, INFER_ERR_PARSE, "%s and %s go together", h, w);
    INFER_TRY(caffe_node_int(file, hn, &out[0]));
    INFER_TRY(caffe_node_int(file, wn, &out[1]));
  }
  return NULL;
}

/* Output size along one dim by Caffe's rule, and by the IR's. */
static int64_t caffe_pooled(int64_t in, int64_t k, int64_t s, int64_t pad, bool any_pad,
                            bool ceil_mode) {
  int64_t room = in + 2 * pad - k;
  int64_t out = (ceil_mode ? (room + s - 1) / s : room / s) + 1;
  if (any_pad && (out - 1) * s >= in + pad) out--;
  return out;
}

static int64_t ir_pooled(int64_t in, int64_t k, int64_t s, int64_t pad, bool ceil_mode) {
  int64_t room = in + 2 * pad - k;
  if (!ceil_mode) return room / s + 1;
  int64_t out = (room + s - 1) / s + 1;
  if ((out - 1) * s >= in + pad) out--;
  return out;
}

static InferStatus *import_pooling(CaffeImporter *imp, const CaffeNode *layer) {
  static const char *const kinds[] = {"MAX", "AVE", "STOCHASTIC"};
  static const char *const rounds[] = {"CEIL", "FLOOR"};
  (void)layer;
  const char *file = caffe_file(imp);
  const CaffeNode *p;
  INFER_TRY(caffe_check_io(imp, 1, 1, 1, 2));
  if (caffe_num_tops(imp) == 2)
    return caffe_unsupported(imp, "a second top (the max positions) is not supported");
  INFER_TRY(caffe_layer_param(imp, "pooling_param", pool_fields, &p));
  InferTensorId x;
  INFER_TRY(caffe_bottom(imp, 0, &x));
  InferShape xs = caffe_shape(imp, x);
  if (xs.rank != 4) return caffe_unsupported(imp, "the input must be 4-D, it has rank %d", xs.rank);
  int kind, round;
  bool global, has_kernel, has_stride, has_pad;
  int64_t kernel[2], stride[2], pad[2];
  INFER_TRY(caffe_get_enum(file, p, "pool", kinds, 3, 0, &kind));
  INFER_TRY(caffe_get_enum(file, p, "round_mode", rounds, 2, 0, &round));
  INFER_TRY(caffe_get_bool(file, p, "global_pooling", false, &global));
  INFER_TRY(read_pair(imp, p, "kernel_size", "kernel_h", "kernel_w", 0, kernel, &has_kernel));
  INFER_TRY(read_pair(imp, p, "stride", "stride_h", "stride_w", 1, stride, &has_stride));
  INFER_TRY(read_pair(imp, p, "pad", "pad_h", "pad_w", 0, pad, &has_pad));
  if (kind == 2)
    return caffe_unsupported(imp, "STOCHASTIC pooling is not supported");
  InferOpParams op;
  memset(&op, 0, sizeof op);
  InferPoolParams *pp = &op.pool;
  pp->kind = kind == 0 ? INFER_POOL_MAX : INFER_POOL_AVERAGE;
  pp->spatial = 2;
  if (global) {
    if (has_kernel)
      return caffe_invalid(imp, "global_pooling takes no kernel size");
    if (pad[0] || pad[1] || stride[0] != 1 || stride[1] != 1)
      return caffe_invalid(imp, "global_pooling needs pad 0 and stride 1");
    pp->global = true;
    return caffe_emit_tops(imp, NULL, INFER_OP_POOL, &op, 1, &x, 1, 0);
  }
  if (!has_kernel) return caffe_invalid(imp, "kernel_size (or kernel_h and kernel_w) is missing");
  bool ceil_mode = round == 0, any_pad = pad[0] || pad[1];
  for (int i = 0; i < 2; i++) {
    if (kernel[i] < 1 || stride[i] < 1 || pad[i] < 0 || kernel[i] > CAFFE_MAX_SIZE ||
        stride[i] > CAFFE_MAX_SIZE)
      return caffe_invalid(imp, "kernel and stride must be positive and pad non-negative");
    if (pad[i] >= kernel[i])
      return caffe_invalid(imp, "pad (%lld) must be smaller than the kernel (%lld)",
                           (long long)pad[i], (long long)kernel[i]);
    int64_t in = xs.d[2 + i];
    if (in + 2 * pad[i] < kernel[i])
      return caffe_invalid(imp, "the kernel (%lld) is larger than the padded input (%lld)",
                           (long long)kernel[i], (long long)(in + 2 * pad[i]));
    int64_t want = caffe_pooled(in, kernel[i], stride[i], pad[i], any_pad, ceil_mode);
    int64_t got = ir_pooled(in, kernel[i], stride[i], pad[i], ceil_mode);
    if (want != got)
      return caffe_unsupported(imp, "Caffe pools %lld positions along dim %d where the engine's "
                               "ceil mode gives %lld (a last window starting past the input)",
                               (long long)want, 2 + i, (long long)got);
    pp->kernel[i] = kernel[i];
    pp->strides[i] = stride[i];
    pp->dilations[i] = 1;
    pp->pads[i] = pp->pads[2 + i] = pad[i];
  }
  pp->ceil_mode = ceil_mode;
  pp->count_include_pad = true;
  return caffe_emit_tops(imp, NULL, INFER_OP_POOL, &op, 1, &x, 1, 0);
}

const CaffeLayerImporter infer_caffe_importers_pool[] = {
  {"Pooling", import_pooling},
};
const size_t infer_caffe_num_importers_pool =
    sizeof infer_caffe_importers_pool / sizeof infer_caffe_importers_pool[0];
