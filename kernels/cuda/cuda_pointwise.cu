/* CUDA kernel for INFER_OP_POINTWISE: a chain of elementwise layers that
 * the optimizer fused into one program (InferPointwiseParams). One thread
 * per output element (a grid-stride loop) loads its inputs' broadcast
 * elements, runs the program in float and stores the last result: the
 * chain's intermediate tensors never reach memory. Steps whose dtype is
 * F16 round their result to half, as the unfused F16 layer's output would.
 * The program and the broadcast strides travel by value in the kernel's
 * parameters (a few hundred bytes). */
#include <cuda_fp16.h>
#include <math.h>
#include <string.h>

#include "cpu_kernels.h" /* infer_pointwise_check: the program check all backends share */
#include "cuda_common.cuh"
#include "cuda_float_math.cuh"

using namespace infer_cu;

namespace {

constexpr int kIn = INFER_POINTWISE_MAX_INPUTS;

struct PointwiseArgs {
  InferPointwiseParams prog;
  bool half_step[INFER_POINTWISE_MAX_INSTRS]; /* the step rounds to F16 */
  int n_in;
  const void *in[kIn];
  bool in_half[kIn];
  bool direct[kIn];                     /* the input has the output's shape: index = element */
  int rank;                             /* of the output */
  int64_t dims[INFER_MAX_RANK];
  int64_t st[kIn][INFER_MAX_RANK];      /* element strides, 0 along broadcast dims */
  bool out_half;
};

/* Steps use the Unary/Binary layers' own formulas (the kinds a program may
 * hold are checked by infer_pointwise_check). */
__device__ __forceinline__ float unary_step(int kind, float a, float b, float x) {
  return unary_float(kind, a, b, x);
}

__device__ __forceinline__ float binary_step(int kind, float a, float b) {
  return binary_float(kind, a, b);
}

__device__ __forceinline__ float operand(const InferPointwiseRef &r, const float *x,
                                         const float *res) {
  if (r.kind == INFER_POINTWISE_INPUT) return x[r.index];
  if (r.kind == INFER_POINTWISE_SCALAR) return r.value;
  return res[r.index];
}

__global__ void pointwise_kernel(const PointwiseArgs args, void *y, int64_t n) {
  INFER_CU_GRID_STRIDE(e, n) {
    float x[kIn], res[INFER_POINTWISE_MAX_INSTRS];
    for (int k = 0; k < args.n_in; k++) {
      int64_t at = e;
      if (!args.direct[k]) {
        at = 0;
        int64_t rest = e;
        for (int d = args.rank - 1; d >= 0; d--) {
          int64_t q = rest / args.dims[d];
          at += (rest - q * args.dims[d]) * args.st[k][d];
          rest = q;
        }
      }
      x[k] = args.in_half[k] ? __half2float(((const __half *)args.in[k])[at])
                             : ((const float *)args.in[k])[at];
    }
    for (int i = 0; i < args.prog.n_instrs; i++) {
      const InferPointwiseInstr &in = args.prog.instrs[i];
      float a = operand(in.a, x, res), v;
      if (in.op == INFER_POINTWISE_UNARY) v = unary_step(in.kind, in.alpha, in.beta, a);
      else v = binary_step(in.kind, a, operand(in.b, x, res));
      res[i] = args.half_step[i] ? __half2float(__float2half_rn(v)) : v;
    }
    float r = res[args.prog.n_instrs - 1];
    if (args.out_half) ((__half *)y)[e] = __float2half_rn(r);
    else ((float *)y)[e] = r;
  }
}

}  // namespace

INFER_CU_NO_WORKSPACE(pointwise)

InferStatus *infer_cuda_supports_pointwise(const InferOpCall *call) {
  INFER_TRY(infer_pointwise_check(call));
  InferDType t = call->n_out == 1 ? call->out[0].dtype : INFER_DTYPE_UNDEFINED;
  if (t != INFER_DTYPE_F32 && t != INFER_DTYPE_F16) return not_here(call, "an output other than f32/f16");
  if (call->out[0].shape.rank > INFER_MAX_RANK) return not_here(call, "this rank");
  return NULL;
}

InferStatus *infer_cuda_run_pointwise(const InferOpCall *call, const InferCudaExec *exec) {
  INFER_TRY(infer_cuda_supports_pointwise(call));
  const InferTensorView *out = &call->out[0];
  int64_t n = infer_shape_numel(&out->shape);
  if (n <= 0) return NULL;
  PointwiseArgs args;
  memset(&args, 0, sizeof args);
  args.prog = call->params->pointwise;
  for (int i = 0; i < args.prog.n_instrs; i++)
    args.half_step[i] = infer_pointwise_step_dtype(call, i) == INFER_DTYPE_F16;
  args.n_in = call->n_in;
  args.rank = out->shape.rank;
  for (int d = 0; d < args.rank; d++) args.dims[d] = out->shape.d[d];
  for (int k = 0; k < call->n_in; k++) {
    const InferTensorView *v = &call->in[k];
    if (v->shape.rank > out->shape.rank) return invalid(call, "an input has a higher rank");
    args.in[k] = v->data;
    args.in_half[k] = v->dtype == INFER_DTYPE_F16;
    args.direct[k] = infer_shape_equal(&v->shape, &out->shape);
    /* right-aligned numpy broadcasting: a stride of 0 repeats the element */
    int64_t stride = 1;
    for (int d = out->shape.rank - 1; d >= 0; d--) {
      int j = d - (out->shape.rank - v->shape.rank);
      bool here = j >= 0 && v->shape.d[j] != 1;
      args.st[k][d] = here ? stride : 0;
      if (j >= 0) stride *= v->shape.d[j];
    }
  }
  args.out_half = out->dtype == INFER_DTYPE_F16;
  pointwise_kernel<<<blocks_for(n), kThreads, 0, (cudaStream_t)exec->stream>>>(args, out->data, n);
  return launched(call, "pointwise kernel");
}
