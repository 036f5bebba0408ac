/* Shape and dtype inference for INFER_OP_POINTWISE (fused elementwise
 * chains): the output has the inputs' broadcast shape and the dtype of the
 * program's last step. The program is checked here too, so a plan file
 * with a broken one is refused when it is loaded, not when it runs. */
#include "cpu_kernels.h"
#include "op_table.h"

InferStatus *infer_shape_pointwise(const InferOpCall *call) {
  INFER_TRY(infer_pointwise_check(call));
  InferShape s = call->in[0].shape;
  for (int k = 1; k < call->n_in; k++)
    INFER_TRY(infer_broadcast_shapes(call, &s, &call->in[k].shape, &s));
  call->out[0].shape = s;
  call->out[0].dtype = infer_pointwise_step_dtype(call, call->params->pointwise.n_instrs - 1);
  return NULL;
}
