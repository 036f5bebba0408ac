/* A sample plugin library: "ScaledSoftsign", y = alpha * x / (1 + |x|),
 * with the attribute alpha (default 1). It runs on the CPU (execute) and,
 * when the library is built with CUDA, on a CUDA stream (enqueue), for f32
 * and f16 tensors of any shape. Its serialized form is the 4-byte magic
 * "SSS1" and alpha as a little-endian IEEE float.
 *
 * The library exports infer_plugin_library_init, which registers the
 * creator (version "1", ONNX domain "com.infer.test"). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "infer/plugin.h"
#include "scaled_softsign.h"

#define MAGIC "SSS1"
#define SERIALIZED_SIZE 8

typedef struct Softsign {
  float alpha;
} Softsign;

static float alpha_of(const InferPlugin *p) { return ((const Softsign *)p->data)->alpha; }

static int num_outputs(const InferPlugin *p) {
  (void)p;
  return 1;
}

static InferStatus *output_descs(const InferPlugin *p, const InferTensorView *in, int n_in,
                                 InferTensorView *out, int n_out) {
  (void)p;
  if (n_in != 1 || n_out != 1)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "takes 1 input, %d given", n_in);
  out[0].dtype = in[0].dtype;
  out[0].shape = in[0].shape;
  return NULL;
}

static bool supports_dtypes(const InferPlugin *p, const InferDType *in, int n_in,
                            const InferDType *out, int n_out) {
  (void)p;
  return n_in == 1 && n_out == 1 && in[0] == out[0] &&
         (in[0] == INFER_DTYPE_F32 || in[0] == INFER_DTYPE_F16);
}

static InferStatus *execute(InferPlugin *p, const InferTensorView *in, int n_in,
                            const InferTensorView *out, int n_out, void *workspace) {
  (void)n_in;
  (void)n_out;
  (void)workspace;
  float alpha = alpha_of(p);
  int64_t n = infer_shape_numel(&in[0].shape);
  if (in[0].dtype == INFER_DTYPE_F16) {
    const uint16_t *x = in[0].data;
    uint16_t *y = out[0].data;
    for (int64_t i = 0; i < n; i++) {
      float v = infer_half_to_float(x[i]);
      y[i] = infer_float_to_half(alpha * v / (1.0f + fabsf(v)));
    }
    return NULL;
  }
  const float *x = in[0].data;
  float *y = out[0].data;
  for (int64_t i = 0; i < n; i++) y[i] = alpha * x[i] / (1.0f + fabsf(x[i]));
  return NULL;
}

#ifdef INFER_HAVE_CUDA
static InferStatus *enqueue(InferPlugin *p, const InferTensorView *in, int n_in,
                            const InferTensorView *out, int n_out, void *workspace, void *stream) {
  (void)n_in;
  (void)n_out;
  (void)workspace;
  const char *error = NULL;
  int rc = scaled_softsign_cuda(in[0].data, out[0].data, infer_shape_numel(&in[0].shape),
                                alpha_of(p), in[0].dtype == INFER_DTYPE_F16, stream, &error);
  if (rc)
    return infer_status_new(INFER_ERR_DEVICE, "kernel launch failed: %s", error ? error : "?");
  return NULL;
}
#endif

static size_t serialized_size(const InferPlugin *p) {
  (void)p;
  return SERIALIZED_SIZE;
}

static void serialize(const InferPlugin *p, void *buffer) {
  uint8_t *b = buffer;
  uint32_t bits;
  float alpha = alpha_of(p);
  memcpy(&bits, &alpha, 4);
  memcpy(b, MAGIC, 4);
  for (int i = 0; i < 4; i++) b[4 + i] = (uint8_t)(bits >> (8 * i));
}

static void destroy(InferPlugin *p) {
  if (!p) return;
  free(p->data);
  free(p);
}

static const InferPluginVTable vtable = {
  .num_outputs = num_outputs,
  .output_descs = output_descs,
  .supports_dtypes = supports_dtypes,
  .execute = execute,
#ifdef INFER_HAVE_CUDA
  .enqueue = enqueue,
#endif
  .serialized_size = serialized_size,
  .serialize = serialize,
  .destroy = destroy,
};

static InferStatus *make(float alpha, InferPlugin **out) {
  InferPlugin *p = malloc(sizeof *p);
  Softsign *s = malloc(sizeof *s);
  if (!p || !s) {
    free(p);
    free(s);
    return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "out of memory");
  }
  s->alpha = alpha;
  p->vtable = &vtable;
  p->data = s;
  *out = p;
  return NULL;
}

static InferStatus *create(const InferPluginCreator *c, const char *layer,
                           const InferPluginFields *fields, InferPlugin **out) {
  (void)c;
  (void)layer;
  double alpha;
  INFER_TRY(infer_plugin_fields_number(fields, "alpha", 1.0, &alpha));
  if (!isfinite(alpha))
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "alpha must be finite");
  return make((float)alpha, out);
}

static InferStatus *deserialize(const InferPluginCreator *c, const char *layer, const void *data,
                                size_t size, InferPlugin **out) {
  (void)c;
  (void)layer;
  const uint8_t *b = data;
  if (size != SERIALIZED_SIZE || memcmp(b, MAGIC, 4) != 0)
    return infer_status_new(INFER_ERR_PARSE, "%zu bytes that are not a ScaledSoftsign", size);
  uint32_t bits = 0;
  for (int i = 0; i < 4; i++) bits |= (uint32_t)b[4 + i] << (8 * i);
  float alpha;
  memcpy(&alpha, &bits, 4);
  if (!isfinite(alpha)) return infer_status_new(INFER_ERR_PARSE, "alpha is not finite");
  return make(alpha, out);
}

static const InferPluginCreator creator = {
  .api_version = INFER_PLUGIN_API_VERSION,
  .name = "ScaledSoftsign",
  .version = "1",
  .onnx_domain = "com.infer.test",
  .create = create,
  .deserialize = deserialize,
};

InferStatus *infer_plugin_library_init(InferPluginRegistry *registry);

InferStatus *infer_plugin_library_init(InferPluginRegistry *registry) {
  return registry->add(registry, &creator);
}
