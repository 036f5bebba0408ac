/* Op-by-op comparison of the CUDA backend with the CPU reference.
 *
 * Every case builds a one-layer network (data inputs are network inputs
 * with seeded random values, weights and shape inputs are constants), builds
 * it for the CPU and for the CUDA backend (optimizer off), runs both and
 * compares: float outputs by normalized MSE (||cpu - gpu||^2 / ||cpu||^2 <=
 * 1e-5 unless the case says otherwise) with NaN only where the CPU has NaN,
 * integer and bool outputs exactly. The generators whose inputs are all
 * known at build time (range, shape, size, constant_of_shape) are folded or
 * run on the host by the engine, so their CUDA kernels are called directly.
 * Prints one line per case and "cuda_ops: N passed, M failed"; exits 77
 * (skipped) without a CUDA device. */
#include <cuda_runtime.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_kernels.h"
#include "cuda_kernels.h"
#include "infer/infer.h"
#include "op_table.h"
#include "tool_tensors.h"

#define MAX_IN 6
#define MAX_OUT 8

typedef enum { IN_DATA, IN_CONST, IN_ABSENT } InKind;

typedef struct InSpec {
  InKind kind;
  InferDType dtype;
  InferShape shape;
  double lo, hi;      /* random values in [lo, hi) (integers: [lo, hi]) */
  const void *values; /* IN_CONST: these values instead */
} InSpec;

typedef struct Case {
  char name[128];
  InferOp op;
  InferOpParams p;
  int n_in, n_out;
  InSpec in[MAX_IN];
  bool expect_unsupported; /* the CUDA build must reject it */
  int n_configs;           /* conv f16 direct runs: try tactic, tactic + 1, ... while
                              the engine is unavailable (cuDNN graph configurations) */
  double tol;
} Case;

static Case C; /* the case being described */
static int n_passed, n_failed;

/* ---- describing cases ------------------------------------------------------- */

static InferShape shp(int rank, ...) {
  InferShape s;
  memset(&s, 0, sizeof s);
  s.rank = rank;
  va_list ap;
  va_start(ap, rank);
  for (int i = 0; i < rank; i++) s.d[i] = va_arg(ap, int);
  va_end(ap);
  return s;
}

static InferOpParams *begin(InferOp op, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static InferOpParams *begin(InferOp op, const char *fmt, ...) {
  memset(&C, 0, sizeof C);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(C.name, sizeof C.name, fmt, ap);
  va_end(ap);
  C.op = op;
  C.n_out = 1;
  C.tol = 1e-5;
  return &C.p;
}

static void add_in(InKind kind, InferDType t, InferShape s, double lo, double hi, const void *v) {
  InSpec *x = &C.in[C.n_in++];
  x->kind = kind;
  x->dtype = t;
  x->shape = s;
  x->lo = lo;
  x->hi = hi;
  x->values = v;
}

static void data(InferDType t, InferShape s, double lo, double hi) {
  add_in(IN_DATA, t, s, lo, hi, NULL);
}
static void cdata(InferDType t, InferShape s, double lo, double hi) {
  add_in(IN_CONST, t, s, lo, hi, NULL);
}
static void absent(void) { add_in(IN_ABSENT, INFER_DTYPE_UNDEFINED, shp(0), 0, 0, NULL); }
/* A 1-D i64 constant; the values must live until run() (a compound literal is fine). */
static void ci64(int n, const int64_t *v) { add_in(IN_CONST, INFER_DTYPE_I64, shp(1, n), 0, 0, v); }
static void cf32(int n, const float *v) { add_in(IN_CONST, INFER_DTYPE_F32, shp(1, n), 0, 0, v); }
static void cf32_scalar(const float *v) { add_in(IN_CONST, INFER_DTYPE_F32, shp(0), 0, 0, v); }
#define I64S(...) \
  (const int64_t[]) { __VA_ARGS__ }
#define F32S(...) \
  (const float[]) { __VA_ARGS__ }

/* ---- values ----------------------------------------------------------------------- */

static uint32_t rng_state;

static double uniform(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return (double)rng_state / 4294967296.0;
}

static size_t view_bytes(const InferTensorView *v) {
  int64_t n = infer_shape_numel(&v->shape);
  return (size_t)(n > 0 ? n : 0) * infer_dtype_size(v->dtype);
}

static void fill_random(InferTensorView *v, double lo, double hi) {
  int64_t n = infer_shape_numel(&v->shape);
  for (int64_t i = 0; i < n; i++) {
    double r = uniform(), f = lo + r * (hi - lo), k = floor(lo + r * (hi - lo + 1));
    switch (v->dtype) {
      case INFER_DTYPE_F32: ((float *)v->data)[i] = (float)f; break;
      case INFER_DTYPE_F16: ((uint16_t *)v->data)[i] = infer_float_to_half((float)f); break;
      case INFER_DTYPE_I8: ((int8_t *)v->data)[i] = (int8_t)k; break;
      case INFER_DTYPE_U8: ((uint8_t *)v->data)[i] = (uint8_t)k; break;
      case INFER_DTYPE_I32: ((int32_t *)v->data)[i] = (int32_t)k; break;
      case INFER_DTYPE_I64: ((int64_t *)v->data)[i] = (int64_t)k; break;
      case INFER_DTYPE_BOOL: ((uint8_t *)v->data)[i] = r < 0.5; break;
      default: break;
    }
  }
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

/* NULL when equal enough; else why not (into buf). */
static const char *compare(const InferTensorView *cpu, const InferTensorView *gpu, double tol,
                           double *nmse, char *buf, size_t size) {
  char a[96], b[96];
  *nmse = 0;
  if (cpu->dtype != gpu->dtype || !infer_shape_equal(&cpu->shape, &gpu->shape)) {
    snprintf(buf, size, "got %s %s, expected %s %s", infer_dtype_name(gpu->dtype),
             infer_shape_str(&gpu->shape, a, sizeof a), infer_dtype_name(cpu->dtype),
             infer_shape_str(&cpu->shape, b, sizeof b));
    return buf;
  }
  int64_t n = infer_shape_numel(&cpu->shape);
  bool is_float = infer_dtype_is_float(cpu->dtype);
  double num = 0, den = 0;
  for (int64_t i = 0; i < n; i++) {
    double x = element(cpu, i), y = element(gpu, i);
    if (isnan(x) || isnan(y)) {
      if (isnan(x) && isnan(y)) continue;
      snprintf(buf, size, "element %lld is %g, expected %g", (long long)i, y, x);
      return buf;
    }
    if (isinf(x) || isinf(y) || !is_float) {
      if (x == y) continue;
      snprintf(buf, size, "element %lld is %.9g, expected %.9g", (long long)i, y, x);
      return buf;
    }
    num += (x - y) * (x - y);
    den += x * x;
  }
  *nmse = den > 0 ? num / den : num;
  if (*nmse > tol) {
    snprintf(buf, size, "normalized MSE %.3g > %.1g", *nmse, tol);
    return buf;
  }
  return NULL;
}

/* ---- running a case through two engines ---------------------------------------------- */

static InferStatus *build(InferNetwork *net, InferBackendKind backend, InferEngine **out) {
  InferBuildConfig *cfg = NULL;
  InferStatus *st = infer_build_config_create(&cfg);
  if (!st) {
    infer_build_config_set_backend(cfg, backend);
    infer_build_config_set_optimization_level(cfg, 0); /* the layer as described */
    infer_build_config_set_tf32(cfg, false);             /* FP32 to compare with the CPU */
    st = infer_engine_build(net, cfg, out);
  }
  infer_build_config_release(cfg);
  return st;
}

static void report(bool ok, const char *detail) {
  if (ok)
    n_passed++;
  else
    n_failed++;
  printf("%-4s %-62s %s\n", ok ? "ok" : "FAIL", C.name, detail);
  fflush(stdout);
}

static void run(void) {
  char why[512] = "", msg[512];
  InferNetwork *net = NULL;
  InferEngine *cpu = NULL, *gpu = NULL;
  ToolTensor inputs[MAX_IN], *out_cpu = NULL, *out_gpu = NULL;
  int n_inputs = 0, n_cpu = 0, n_gpu = 0;
  void *const_data[MAX_IN] = {NULL};
  rng_state = (uint32_t)infer_hash64(C.name, strlen(C.name), 7) | 1u;
  InferStatus *st = infer_network_create(&net);
  InferTensorId ids[MAX_IN], outs[MAX_OUT];
  for (int i = 0; !st && i < C.n_in; i++) {
    InSpec *x = &C.in[i];
    char name[16];
    snprintf(name, sizeof name, "in%d", i);
    if (x->kind == IN_ABSENT) {
      ids[i] = INFER_NO_TENSOR;
      continue;
    }
    InferTensorView v = {x->dtype, x->shape, NULL};
    v.data = calloc(1, view_bytes(&v) + 8);
    if (x->values)
      memcpy(v.data, x->values, view_bytes(&v));
    else
      fill_random(&v, x->lo, x->hi);
    if (x->kind == IN_CONST) {
      const_data[i] = v.data;
      st = infer_network_add_constant(net, name, x->dtype, &x->shape, v.data, &ids[i]);
    } else {
      inputs[n_inputs].name = strdup(name);
      inputs[n_inputs++].view = v;
      st = infer_network_add_input(net, name, x->dtype, &x->shape, &ids[i]);
    }
  }
  if (!st) st = infer_network_add_layer(net, "layer", C.op, &C.p, C.n_in, ids, C.n_out, NULL, outs);
  for (int i = 0; !st && i < C.n_out; i++) st = infer_network_mark_output(net, outs[i]);
  if (!st) st = infer_status_prefix(build(net, INFER_BACKEND_CPU, &cpu), "cpu build");
  if (!st) {
    InferStatus *g = build(net, INFER_BACKEND_CUDA, &gpu);
    if (C.expect_unsupported) {
      bool ok = g && infer_status_code(g) == INFER_ERR_UNSUPPORTED;
      snprintf(why, sizeof why, "%s%s",
               ok ? "rejected as expected: " : "expected a rejection, got: ",
               g ? infer_status_message(g) : "a successful build");
      infer_status_free(g);
      report(ok, why);
      goto done;
    }
    st = infer_status_prefix(g, "cuda build");
  }
  if (!st) st = infer_status_prefix(tool_run(cpu, inputs, n_inputs, &out_cpu, &n_cpu), "cpu run");
  if (!st) st = infer_status_prefix(tool_run(gpu, inputs, n_inputs, &out_gpu, &n_gpu), "cuda run");
  if (st) {
    snprintf(msg, sizeof msg, "%s", infer_status_message(st));
    infer_status_free(st);
    report(false, msg);
    goto done;
  }
  double worst = 0;
  const char *bad = n_cpu == n_gpu ? NULL : "output counts differ";
  for (int i = 0; !bad && i < n_cpu; i++) {
    double nmse;
    bad = compare(&out_cpu[i].view, &out_gpu[i].view, C.tol, &nmse, why, sizeof why);
    if (nmse > worst) worst = nmse;
  }
  if (!bad) {
    char shape[96];
    snprintf(msg, sizeof msg, "%s nmse %.2g",
             infer_shape_str(&out_cpu[0].view.shape, shape, sizeof shape), worst);
  }
  report(!bad, bad ? bad : msg);
done:
  for (int i = 0; i < n_inputs; i++) {
    free(inputs[i].name);
    free(inputs[i].view.data);
  }
  for (int i = 0; i < MAX_IN; i++) free(const_data[i]);
  tool_tensors_free(out_cpu, n_cpu);
  tool_tensors_free(out_gpu, n_gpu);
  infer_engine_release(cpu);
  infer_engine_release(gpu);
  infer_network_release(net);
}

/* ---- kernels called directly (generators) ------------------------------------------------- */

/* Runs C's op on host-valued inputs through the CPU kernel and the CUDA
 * kernel (output in device memory) and compares. */
static void run_direct(void) {
  char why[256] = "", msg[256];
  InferTensorView in[MAX_IN], out_cpu[1], out_gpu[1];
  memset(out_cpu, 0, sizeof out_cpu);
  rng_state = 12345u;
  for (int i = 0; i < C.n_in; i++) {
    InSpec *x = &C.in[i];
    in[i] = (InferTensorView){x->dtype, x->shape, NULL};
    in[i].data = calloc(1, view_bytes(&in[i]) + 64);
    if (x->values)
      memcpy(in[i].data, x->values, view_bytes(&in[i]));
    else
      fill_random(&in[i], x->lo, x->hi);
  }
  InferOpCall call = {C.op, "layer", &C.p, in, C.n_in, out_cpu, 1, 0};
  InferStatus *st = infer_op_info(C.op)->infer_shape(&call);
  void *dev = NULL;
  if (!st) {
    out_cpu[0].data = calloc(1, view_bytes(&out_cpu[0]) + 8);
    st = infer_cpu_kernel(C.op)->run(&call);
  }
  if (!st) {
    out_gpu[0] = out_cpu[0];
    out_gpu[0].data = malloc(view_bytes(&out_cpu[0]) + 8);
    cudaError_t err = cudaMalloc(&dev, view_bytes(&out_cpu[0]) + 8);
    if (err != cudaSuccess)
      st = infer_status_new(INFER_ERR_DEVICE, "cudaMalloc: %s", cudaGetErrorString(err));
  }
  if (!st) {
    InferTensorView o = out_cpu[0];
    o.data = dev;
    InferOpCall gcall = {C.op, "layer", &C.p, in, C.n_in, &o, 1, 0};
    InferCudaExec exec = {NULL, NULL, 0};
    const InferCudaKernel *k = infer_cuda_kernel(C.op);
    st = k ? k->supports(&gcall) : infer_status_new(INFER_ERR_UNSUPPORTED, "no CUDA kernel");
    if (!st) st = k->run(&gcall, &exec);
    cudaError_t err =
        st ? cudaSuccess : cudaMemcpy(out_gpu[0].data, dev, view_bytes(&o), cudaMemcpyDeviceToHost);
    if (!st && err != cudaSuccess)
      st = infer_status_new(INFER_ERR_DEVICE, "cudaMemcpy: %s", cudaGetErrorString(err));
  }
  if (st) {
    snprintf(msg, sizeof msg, "%s", infer_status_message(st));
    infer_status_free(st);
    report(false, msg);
  } else {
    double nmse;
    const char *bad = compare(&out_cpu[0], &out_gpu[0], C.tol, &nmse, why, sizeof why);
    char shape[96];
    snprintf(msg, sizeof msg, "%s (kernel called directly)",
             infer_shape_str(&out_cpu[0].shape, shape, sizeof shape));
    report(!bad, bad ? bad : msg);
    free(out_gpu[0].data);
  }
  cudaFree(dev);
  free(out_cpu[0].data);
  for (int i = 0; i < C.n_in; i++) free(in[i].data);
}

/* Runs C's op (f32 inputs in the case; absent slots allowed) in f32 on the
 * CPU and in f16 through the CUDA kernel called directly on device copies,
 * every input rounded to f16 first so that both see the same numbers;
 * compares the widened f16 output with the CPU's within C.tol. For layers
 * whose f16 form only an f16 engine would reach otherwise (pooling,
 * convolution kernels chosen by tactic). */
static void run_direct_half(void) {
  char why[256] = "", msg[256];
  InferTensorView in[MAX_IN], gin[MAX_IN], out_cpu, out_gpu;
  void *dev_in[MAX_IN] = {NULL};
  memset(&out_cpu, 0, sizeof out_cpu);
  memset(in, 0, sizeof in);
  memset(gin, 0, sizeof gin);
  rng_state = (uint32_t)infer_hash64(C.name, strlen(C.name), 11) | 1u;
  InferStatus *st = NULL;
  for (int i = 0; i < C.n_in && !st; i++) {
    if (C.in[i].kind == IN_ABSENT) continue;
    in[i] = (InferTensorView){INFER_DTYPE_F32, C.in[i].shape, NULL};
    int64_t n = infer_shape_numel(&in[i].shape);
    in[i].data = calloc(1, view_bytes(&in[i]) + 8);
    uint16_t *half = calloc((size_t)n + 4, sizeof(uint16_t));
    fill_random(&in[i], C.in[i].lo, C.in[i].hi);
    for (int64_t j = 0; j < n; j++) {
      half[j] = infer_float_to_half(((float *)in[i].data)[j]);
      ((float *)in[i].data)[j] = infer_half_to_float(half[j]);
    }
    gin[i] = (InferTensorView){INFER_DTYPE_F16, in[i].shape, NULL};
    if (cudaMalloc(&dev_in[i], (size_t)n * 2 + 16) != cudaSuccess ||
        cudaMemcpy(dev_in[i], half, (size_t)n * 2, cudaMemcpyHostToDevice) != cudaSuccess)
      st = infer_status_new(INFER_ERR_DEVICE, "device buffers: %s",
                            cudaGetErrorString(cudaGetLastError()));
    gin[i].data = dev_in[i];
    free(half);
  }
  InferOpCall call = {C.op, "layer", &C.p, in, C.n_in, &out_cpu, 1, 0};
  if (!st) st = infer_op_info(C.op)->infer_shape(&call);
  void *dy = NULL;
  uint16_t *half_out = NULL;
  int64_t ny = 0;
  if (!st) {
    ny = infer_shape_numel(&out_cpu.shape);
    out_cpu.data = calloc(1, view_bytes(&out_cpu) + 8);
    st = infer_cpu_kernel(C.op)->run(&call);
  }
  if (!st && cudaMalloc(&dy, (size_t)ny * 2 + 16) != cudaSuccess)
    st = infer_status_new(INFER_ERR_DEVICE, "cudaMalloc: %s",
                          cudaGetErrorString(cudaGetLastError()));
  if (!st) {
    InferTensorView gy = {INFER_DTYPE_F16, out_cpu.shape, dy};
    InferOpCall gcall = {C.op, "layer", &C.p, gin, C.n_in, &gy, 1, 0};
    InferCudaExec exec = {NULL, NULL, 0};
    const InferCudaKernel *k = infer_cuda_kernel(C.op);
    st = k ? k->supports(&gcall) : infer_status_new(INFER_ERR_UNSUPPORTED, "no CUDA kernel");
    /* the scratch the layer asks for (cuDNN engines) */
    exec.workspace_bytes = !st && k->workspace ? k->workspace(&gcall) : 0;
    if (exec.workspace_bytes && cudaMalloc(&exec.workspace, exec.workspace_bytes) != cudaSuccess)
      st = infer_status_new(INFER_ERR_DEVICE, "workspace of %zu bytes", exec.workspace_bytes);
    if (!st) st = k->run(&gcall, &exec);
    cudaFree(exec.workspace);
    exec.workspace = NULL;
    /* the next configuration, while this one is not offered here */
    for (int i = 1; i < C.n_configs && st && infer_status_code(st) == INFER_ERR_UNSUPPORTED; i++) {
      infer_status_free(st);
      C.p.conv.tactic++;
      exec.workspace_bytes = k->workspace ? k->workspace(&gcall) : 0;
      st = exec.workspace_bytes && cudaMalloc(&exec.workspace, exec.workspace_bytes) != cudaSuccess
               ? infer_status_new(INFER_ERR_DEVICE, "workspace of %zu bytes", exec.workspace_bytes)
               : k->run(&gcall, &exec);
      cudaFree(exec.workspace);
      exec.workspace = NULL;
    }
    half_out = calloc((size_t)ny + 4, sizeof(uint16_t));
    if (!st && cudaMemcpy(half_out, dy, (size_t)ny * 2, cudaMemcpyDeviceToHost) != cudaSuccess)
      st = infer_status_new(INFER_ERR_DEVICE, "cudaMemcpy: %s",
                            cudaGetErrorString(cudaGetLastError()));
  }
  if (st) {
    snprintf(msg, sizeof msg, "%s", infer_status_message(st));
    infer_status_free(st);
    report(false, msg);
  } else {
    out_gpu = out_cpu;
    out_gpu.data = malloc((size_t)ny * sizeof(float) + 8);
    for (int64_t i = 0; i < ny; i++) ((float *)out_gpu.data)[i] = infer_half_to_float(half_out[i]);
    double nmse;
    const char *bad = compare(&out_cpu, &out_gpu, C.tol, &nmse, why, sizeof why);
    char shape[96];
    if (C.n_configs)
      snprintf(msg, sizeof msg, "%s (f16, tactic %d)",
               infer_shape_str(&out_cpu.shape, shape, sizeof shape), (int)C.p.conv.tactic);
    else
      snprintf(msg, sizeof msg, "%s (f16 kernel called directly)",
               infer_shape_str(&out_cpu.shape, shape, sizeof shape));
    report(!bad, bad ? bad : msg);
    free(out_gpu.data);
  }
  cudaFree(dy);
  free(half_out);
  free(out_cpu.data);
  for (int i = 0; i < C.n_in; i++) {
    cudaFree(dev_in[i]);
    free(in[i].data);
  }
}

#include "cuda_op_cases.h"
#include "cuda_op_cases_movement.h"

/* Runs family `name` unless a filter names other families. */
static bool selected(int argc, char **argv, const char *name) {
  if (argc < 2) return true;
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], name) == 0) return true;
  return false;
}

/* test_cuda_ops [FAMILY...]: every family, or the ones named (elementwise,
 * nn, reduce, movement, pad_resize, generators), e.g. to split a
 * compute-sanitizer run. */
int main(int argc, char **argv) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    printf("cuda_ops: skipped, no CUDA device\n");
    return 77;
  }
  struct cudaDeviceProp prop;
  if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess)
    printf("device: %s (sm_%d%d)\n", prop.name, prop.major, prop.minor);
  static const struct {
    const char *name;
    void (*run)(void);
  } families[] = {{"elementwise", cases_elementwise}, {"nn", cases_nn},
                  {"reduce", cases_reduce},           {"movement", cases_movement},
                  {"pad_resize", cases_pad_resize},   {"generators", cases_generators}};
  for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
    if (selected(argc, argv, families[i].name)) families[i].run();
  printf("cuda_ops: %d passed, %d failed\n", n_passed, n_failed);
  return n_failed ? 1 : 0;
}
