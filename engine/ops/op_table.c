/* The operator table: names, arity, shape inputs and shape functions. */
#include "op_table.h"
#include "plugins/plugin_internal.h" /* infer_shape_plugin: asks the layer's plugin */

#include <stddef.h>

#define P(member) sizeof(((InferOpParams *)0)->member)
#define BIT(i) (1u << (i))

static const InferOpInfo op_table[] = {
  [INFER_OP_UNARY] = {"unary", 1, 1, 1, 1, 0, 0, P(unary), infer_shape_unary},
  [INFER_OP_BINARY] = {"binary", 2, 2, 1, 1, 0, 0, P(binary), infer_shape_binary},
  [INFER_OP_WHERE] = {"where", 3, 3, 1, 1, 0, 0, 0, infer_shape_where},
  [INFER_OP_CAST] = {"cast", 1, 1, 1, 1, 0, 0, P(cast), infer_shape_cast},
  [INFER_OP_CONV] = {"conv", 2, 5, 1, 1, 0, 0, P(conv), infer_shape_conv}, /* 5: INT8 form */
  [INFER_OP_DECONV] = {"deconv", 2, 3, 1, 1, 0, 0, P(conv), infer_shape_deconv},
  [INFER_OP_POOL] = {"pool", 1, 1, 1, 1, 0, 0, P(pool), infer_shape_pool},
  [INFER_OP_GEMM] = {"gemm", 2, 4, 1, 1, 0, 0, P(gemm), infer_shape_gemm}, /* 4: INT8 form */
  [INFER_OP_MATMUL] = {"matmul", 2, 2, 1, 1, 0, 0, P(matmul), infer_shape_matmul},
  [INFER_OP_BATCHNORM] = {"batchnorm", 5, 5, 1, 1, 0, 0, P(norm), infer_shape_batchnorm},
  [INFER_OP_INSTANCENORM] = {"instancenorm", 3, 3, 1, 1, 0, 0, P(norm), infer_shape_instancenorm},
  [INFER_OP_LAYERNORM] = {"layernorm", 2, 3, 1, 1, 0, 0, P(norm), infer_shape_layernorm},
  [INFER_OP_LRN] = {"lrn", 1, 1, 1, 1, 0, 0, P(lrn), infer_shape_lrn},
  [INFER_OP_SOFTMAX] = {"softmax", 1, 1, 1, 1, 0, 0, P(softmax), infer_shape_softmax},
  [INFER_OP_REDUCE] = {"reduce", 1, 2, 1, 1, BIT(1), 0, P(reduce), infer_shape_reduce},
  [INFER_OP_ARGMAX] = {"argmax", 1, 1, 1, 1, 0, 0, P(argmax), infer_shape_argmax},
  [INFER_OP_TOPK] = {"topk", 2, 2, 2, 2, BIT(1), 0, P(topk), infer_shape_topk},
  [INFER_OP_CUMSUM] = {"cumsum", 2, 2, 1, 1, BIT(1), 0, P(cumsum), infer_shape_cumsum},
  [INFER_OP_NMS] = {"nms", 2, 5, 1, 1, BIT(2), INFER_OPF_DATA_DEPENDENT_SHAPE, P(nms),
                    infer_shape_nms},
  [INFER_OP_RESHAPE] = {"reshape", 1, 2, 1, 1, BIT(1), 0, P(reshape), infer_shape_reshape},
  [INFER_OP_TRANSPOSE] = {"transpose", 1, 1, 1, 1, 0, 0, P(transpose), infer_shape_transpose},
  [INFER_OP_CONCAT] = {"concat", 1, -1, 1, 1, 0, 0, P(axis), infer_shape_concat},
  [INFER_OP_SPLIT] = {"split", 1, 2, 1, -1, BIT(1), 0, P(split), infer_shape_split},
  [INFER_OP_SLICE] = {"slice", 3, 5, 1, 1, BIT(1) | BIT(2) | BIT(3) | BIT(4), 0, 0,
                      infer_shape_slice},
  [INFER_OP_GATHER] = {"gather", 2, 2, 1, 1, 0, 0, P(axis), infer_shape_gather},
  [INFER_OP_GATHER_ELEMENTS] = {"gather_elements", 2, 2, 1, 1, 0, 0, P(axis),
                                infer_shape_gather_elements},
  [INFER_OP_EXPAND] = {"expand", 2, 2, 1, 1, BIT(1), 0, 0, infer_shape_expand},
  [INFER_OP_TILE] = {"tile", 2, 2, 1, 1, BIT(1), 0, 0, infer_shape_tile},
  [INFER_OP_PAD] = {"pad", 2, 4, 1, 1, BIT(1) | BIT(3), 0, P(pad), infer_shape_pad},
  [INFER_OP_RESIZE] = {"resize", 1, 4, 1, 1, BIT(1) | BIT(2) | BIT(3), 0, P(resize),
                       infer_shape_resize},
  [INFER_OP_RANGE] = {"range", 3, 3, 1, 1, BIT(0) | BIT(1) | BIT(2), 0, 0, infer_shape_range},
  [INFER_OP_SHAPE] = {"shape", 1, 1, 1, 1, 0, INFER_OPF_READS_SHAPE_ONLY, P(shape),
                      infer_shape_shape},
  [INFER_OP_SIZE] = {"size", 1, 1, 1, 1, 0, INFER_OPF_READS_SHAPE_ONLY, 0, infer_shape_size},
  [INFER_OP_CONSTANT_OF_SHAPE] = {"constant_of_shape", 1, 1, 1, 1, BIT(0), 0,
                                  P(constant_of_shape), infer_shape_constant_of_shape},
  [INFER_OP_TRILU] = {"trilu", 1, 2, 1, 1, BIT(1), 0, P(trilu), infer_shape_trilu},
  [INFER_OP_DEPTH_SPACE] = {"depth_space", 1, 1, 1, 1, 0, 0, P(depth_space),
                            infer_shape_depth_space},
  [INFER_OP_PLUGIN] = {"plugin", 0, -1, 1, -1, 0, 0, P(plugin), infer_shape_plugin},
  [INFER_OP_QUANTIZE] = {"quantize", 2, 2, 1, 1, 0, 0, P(quantize), infer_shape_quantize},
  [INFER_OP_DEQUANTIZE] = {"dequantize", 2, 2, 1, 1, 0, INFER_OPF_NO_FOLD, P(quantize),
                           infer_shape_dequantize},
  [INFER_OP_POINTWISE] = {"pointwise", 1, INFER_POINTWISE_MAX_INPUTS, 1, 1, 0, 0, P(pointwise),
                          infer_shape_pointwise},
};

/* Every operator has an entry: adding an op to the enum without one fails here. */
_Static_assert(sizeof op_table / sizeof op_table[0] == INFER_OP_COUNT,
               "op_table must have one entry per InferOp");

const InferOpInfo *infer_op_info(InferOp op) {
  if ((int)op < 0 || op >= INFER_OP_COUNT || !op_table[op].name) return NULL;
  return &op_table[op];
}

const char *infer_op_name(InferOp op) {
  const InferOpInfo *info = infer_op_info(op);
  return info ? info->name : "unknown";
}
