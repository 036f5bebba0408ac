/* Running engines on host tensors, comparing and printing tensors. */
#include "tool_tensors.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void tool_tensors_free(ToolTensor *t, int n) {
  if (!t) return;
  for (int i = 0; i < n; i++) {
    free(t[i].name);
    free(t[i].view.data);
  }
  free(t);
}

static size_t view_bytes(const InferTensorView *v) {
  int64_t n = infer_shape_numel(&v->shape);
  return (size_t)(n > 0 ? n : 0) * infer_dtype_size(v->dtype);
}

InferStatus *tool_run(InferEngine *engine, const ToolTensor *inputs, int n_inputs,
                      ToolTensor **outputs, int *n_outputs) {
  *outputs = NULL;
  *n_outputs = 0;
  InferContext *ctx = NULL;
  InferStream *stream = NULL;
  void *device_in[64] = {0};
  InferStatus *st = infer_context_create(engine, &ctx);
  if (!st) st = infer_stream_create(engine, &stream);
  if (!st && infer_engine_num_io(engine) > 64)
    st = infer_status_new(INFER_ERR_UNSUPPORTED, "more than 64 inputs and outputs");
  for (int i = 0; !st && i < infer_engine_num_io(engine); i++) {
    if (!infer_engine_io_is_input(engine, i)) continue;
    const char *name = infer_engine_io_name(engine, i);
    const ToolTensor *given = NULL;
    for (int j = 0; j < n_inputs; j++)
      if (strcmp(inputs[j].name, name) == 0) given = &inputs[j];
    if (!given) {
      st = infer_status_new(INFER_ERR_INVALID_ARGUMENT, "no data given for input '%s'", name);
      break;
    }
    if (given->view.dtype != infer_engine_io_dtype(engine, i)) {
      st = infer_status_new(INFER_ERR_INVALID_ARGUMENT, "input '%s' is %s, the engine takes %s",
                            name, infer_dtype_name(given->view.dtype),
                            infer_dtype_name(infer_engine_io_dtype(engine, i)));
      break;
    }
    st = infer_context_set_input_shape(ctx, name, &given->view.shape);
    /* inputs go where the engine's tensors live (device memory on GPUs) */
    size_t bytes = view_bytes(&given->view);
    if (infer_engine_io_is_host(engine, i)) { /* shape tensors are read from host memory */
      if (!st) st = infer_context_set_tensor_address(ctx, name, given->view.data);
      continue;
    }
    if (!st) st = infer_engine_malloc(engine, bytes ? bytes : 1, &device_in[i]);
    if (!st) st = infer_engine_copy_to_device(engine, device_in[i], given->view.data, bytes);
    if (!st) st = infer_context_set_tensor_address(ctx, name, device_in[i]);
  }
  if (!st) st = infer_context_enqueue(ctx, stream);
  if (!st) st = infer_stream_synchronize(stream);
  int n_io = infer_engine_num_io(engine), n_out = 0;
  ToolTensor *outs = st ? NULL : calloc((size_t)n_io + 1, sizeof *outs);
  if (!st && !outs) st = infer_status_new(INFER_ERR_OUT_OF_MEMORY, "out of memory");
  for (int i = 0; !st && i < n_io; i++) {
    if (infer_engine_io_is_input(engine, i)) continue;
    InferTensorView v;
    st = infer_context_get_output(ctx, infer_engine_io_name(engine, i), &v);
    if (st) break;
    ToolTensor *o = &outs[n_out++];
    o->name = strdup(infer_engine_io_name(engine, i));
    o->view = v;
    size_t bytes = view_bytes(&v);
    o->view.data = malloc(bytes ? bytes : 1);
    if (!o->name || !o->view.data) {
      st = infer_status_new(INFER_ERR_OUT_OF_MEMORY, "out of memory");
      break;
    }
    st = infer_engine_copy_to_host(engine, o->view.data, v.data, bytes);
  }
  for (int i = 0; i < 64; i++) infer_engine_mfree(engine, device_in[i]);
  infer_stream_release(stream);
  infer_context_release(ctx);
  if (st) {
    tool_tensors_free(outs, n_out);
    return st;
  }
  *outputs = outs;
  *n_outputs = n_out;
  return NULL;
}

static uint32_t next_random(uint32_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 17;
  *s ^= *s << 5;
  return *s;
}

InferStatus *tool_random_inputs(InferEngine *engine, unsigned seed, ToolTensor **inputs, int *n) {
  int n_io = infer_engine_num_io(engine), count = 0;
  ToolTensor *t = calloc((size_t)n_io + 1, sizeof *t);
  if (!t) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "out of memory");
  uint32_t state = seed ? seed : 1;
  InferContext *ctx = NULL;
  InferStatus *st = infer_context_create(engine, &ctx);
  for (int i = 0; !st && i < n_io; i++) {
    if (!infer_engine_io_is_input(engine, i)) continue;
    ToolTensor *x = &t[count++];
    x->name = strdup(infer_engine_io_name(engine, i));
    x->view.dtype = infer_engine_io_dtype(engine, i);
    st = infer_context_get_tensor_shape(ctx, x->name, &x->view.shape);
    if (st) break;
    int64_t numel = infer_shape_numel(&x->view.shape);
    x->view.data = malloc(view_bytes(&x->view) + 1);
    if (!x->name || !x->view.data) {
      st = infer_status_new(INFER_ERR_OUT_OF_MEMORY, "out of memory");
      break;
    }
    for (int64_t k = 0; k < numel; k++) {
      uint32_t r = next_random(&state);
      double f = (double)r / 4294967296.0 * 2.0 - 1.0;
      switch (x->view.dtype) {
        case INFER_DTYPE_F32: ((float *)x->view.data)[k] = (float)f; break;
        case INFER_DTYPE_F16: ((uint16_t *)x->view.data)[k] = infer_float_to_half((float)f); break;
        case INFER_DTYPE_I32: ((int32_t *)x->view.data)[k] = (int32_t)(r % 4); break;
        case INFER_DTYPE_I64: ((int64_t *)x->view.data)[k] = (int64_t)(r % 4); break;
        case INFER_DTYPE_I8: ((int8_t *)x->view.data)[k] = (int8_t)(r % 4); break;
        case INFER_DTYPE_U8: ((uint8_t *)x->view.data)[k] = (uint8_t)(r % 4); break;
        case INFER_DTYPE_BOOL: ((uint8_t *)x->view.data)[k] = (uint8_t)(r & 1); break;
        default: break;
      }
    }
  }
  infer_context_release(ctx);
  if (st) {
    tool_tensors_free(t, count);
    return st;
  }
  *inputs = t;
  *n = count;
  return NULL;
}

static double element(const InferTensorView *v, int64_t i) {
  switch (v->dtype) {
    case INFER_DTYPE_F32: return ((const float *)v->data)[i];
    case INFER_DTYPE_F16: return infer_half_to_float(((const uint16_t *)v->data)[i]);
    case INFER_DTYPE_I8: return ((const int8_t *)v->data)[i];
    case INFER_DTYPE_U8: return ((const uint8_t *)v->data)[i];
    case INFER_DTYPE_I32: return ((const int32_t *)v->data)[i];
    case INFER_DTYPE_I64: return (double)((const int64_t *)v->data)[i];
    case INFER_DTYPE_BOOL: return ((const uint8_t *)v->data)[i] != 0;
    default: return 0;
  }
}

bool tool_compare(const InferTensorView *e, const InferTensorView *a, double rtol, double atol,
                  char *why, size_t why_size) {
  char se[128], sa[128];
  if (e->dtype != a->dtype) {
    snprintf(why, why_size, "type %s, expected %s", infer_dtype_name(a->dtype),
             infer_dtype_name(e->dtype));
    return false;
  }
  if (!infer_shape_equal(&e->shape, &a->shape)) {
    snprintf(why, why_size, "shape %s, expected %s", infer_shape_str(&a->shape, sa, sizeof sa),
             infer_shape_str(&e->shape, se, sizeof se));
    return false;
  }
  bool exact = !infer_dtype_is_float(e->dtype);
  int64_t n = infer_shape_numel(&e->shape);
  for (int64_t i = 0; i < n; i++) {
    double x = element(e, i), y = element(a, i);
    bool ok;
    if (isnan(x) || isnan(y)) ok = isnan(x) && isnan(y);
    else if (isinf(x) || isinf(y)) ok = x == y;
    else ok = exact ? x == y : fabs(x - y) <= atol + rtol * fabs(x);
    if (!ok) {
      snprintf(why, why_size, "element %lld is %.9g, expected %.9g", (long long)i, y, x);
      return false;
    }
  }
  return true;
}

void tool_max_errors(const InferTensorView *e, const InferTensorView *a, double *max_abs,
                     double *max_rel) {
  *max_abs = 0;
  *max_rel = 0;
  if (e->dtype != a->dtype || !infer_shape_equal(&e->shape, &a->shape)) {
    *max_abs = *max_rel = INFINITY;
    return;
  }
  int64_t n = infer_shape_numel(&e->shape);
  for (int64_t i = 0; i < n; i++) {
    double x = element(e, i), y = element(a, i);
    double d = fabs(x - y);
    if (isnan(d)) d = (isnan(x) && isnan(y)) ? 0 : INFINITY;
    if (d > *max_abs) *max_abs = d;
    double r = d / (fabs(x) > 1e-30 ? fabs(x) : 1e-30);
    if (d == 0) r = 0;
    if (r > *max_rel) *max_rel = r;
  }
}

void tool_print_tensor(FILE *f, const char *name, const InferTensorView *v, int max_values) {
  char s[128];
  int64_t n = infer_shape_numel(&v->shape);
  fprintf(f, "%s: %s %s", name, infer_dtype_name(v->dtype), infer_shape_str(&v->shape, s, sizeof s));
  fprintf(f, " = [");
  for (int64_t i = 0; i < n && i < max_values; i++)
    fprintf(f, "%s%.6g", i ? ", " : "", element(v, i));
  fprintf(f, "%s]\n", n > max_values ? ", ..." : "");
}
