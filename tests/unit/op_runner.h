/* Runs one operator through its shape function and CPU kernel, the way the
 * engine does, for kernel-level unit tests. */
#ifndef INFER_TEST_OP_RUNNER_H
#define INFER_TEST_OP_RUNNER_H

#include <stdlib.h>
#include <string.h>

#include "cpu_kernels.h"
#include "op_table.h"

/* Infers output shapes (inputs' data are given to the shape function as
 * known values), allocates outputs with malloc, checks support, runs.
 * On success the caller frees out[i].data. */
static inline InferStatus *test_run_op(InferOp op, const InferOpParams *params, int n_in,
                                       const InferTensorView *in, int n_out,
                                       InferTensorView *out) {
  InferOpParams zero;
  memset(&zero, 0, sizeof zero);
  InferOpCall call = {op, "test", params ? params : &zero, in, n_in, out, n_out, 0};
  for (int i = 0; i < n_out; i++) memset(&out[i], 0, sizeof out[i]);
  InferStatus *st = infer_op_info(op)->infer_shape(&call);
  if (st) return st;
  /* supports() sees no data */
  InferTensorView nodata_in[16], nodata_out[16];
  for (int i = 0; i < n_in && i < 16; i++) { nodata_in[i] = in[i]; nodata_in[i].data = NULL; }
  for (int i = 0; i < n_out && i < 16; i++) { nodata_out[i] = out[i]; nodata_out[i].data = NULL; }
  InferOpCall probe = {op, "test", call.params, nodata_in, n_in, nodata_out, n_out, 0};
  st = infer_cpu_kernel(op)->supports(&probe);
  if (st) return st;
  for (int i = 0; i < n_out; i++) {
    int64_t n = infer_shape_numel(&out[i].shape);
    size_t bytes = (size_t)(n > 0 ? n : 0) * infer_dtype_size(out[i].dtype);
    out[i].data = malloc(bytes ? bytes : 1);
  }
  return infer_cpu_kernel(op)->run(&call);
}

static inline InferTensorView test_view(InferDType t, int rank, const int64_t *dims, void *data) {
  InferTensorView v;
  memset(&v, 0, sizeof v);
  v.dtype = t;
  v.shape = infer_shape_make(rank, dims);
  v.data = data;
  return v;
}

#endif
