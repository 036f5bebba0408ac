/* ONNX importers of QuantizeLinear and DequantizeLinear (opsets 10-21): the
 * Q/DQ nodes of quantized ("QDQ") models. The engine's INT8 is symmetric
 * int8, so a zero point must be absent or all zeros, and Quantize must
 * produce int8: QuantizeLinear without a zero point (and, from opset 21,
 * without output_dtype) makes uint8 in ONNX, which is refused with a
 * message that says so. Scales are float32, one per tensor or 1-D per
 * channel along `axis` (opset 13+); blocked quantization (opset 21's
 * block_size) is not supported. */
#include <string.h>

#include "onnx_import.h"

#define ONNX_INT8 3
#define ONNX_UINT8 2

/* A tensor's dtype as known while importing (UNDEFINED: not yet known). */
static InferDType dtype_of(OnnxImporter *imp, InferTensorId t) {
  return infer_network_tensor_dtype(onnx_network(imp), t);
}

/* The zero point (input 2) is absent, or a constant of zeros of a type the
 * engine takes (int8; int32 for Dequantize of int32). *dtype gets its type
 * (UNDEFINED when absent). */
static InferStatus *check_zero_point(OnnxImporter *imp, const OnnxNode *node, InferDType *dtype) {
  *dtype = INFER_DTYPE_UNDEFINED;
  InferTensorId zp = onnx_num_inputs(node) > 2 ? onnx_input(imp, node, 2) : INFER_NO_TENSOR;
  if (zp == INFER_NO_TENSOR) return NULL;
  InferShape s;
  InferDType known = INFER_DTYPE_UNDEFINED;
  const void *v = onnx_constant(imp, zp, &known, &s);
  *dtype = v ? known : dtype_of(imp, zp); /* a graph input: its declared type */
  if (*dtype == INFER_DTYPE_U8)
    return onnx_unsupported(imp, node, "uint8 quantization is not supported (the engine's INT8 "
                            "is symmetric int8: give an int8 zero point of 0)");
  if (*dtype != INFER_DTYPE_I8 && *dtype != INFER_DTYPE_I32)
    return onnx_unsupported(imp, node, "a zero point of type %s is not supported (int8 only)",
                            infer_dtype_name(*dtype));
  if (!v)
    return onnx_unsupported(imp, node, "a zero point computed at run time is not supported (it "
                            "must be a constant 0)");
  int64_t n = infer_shape_numel(&s);
  for (int64_t i = 0; i < n; i++) {
    int64_t z = *dtype == INFER_DTYPE_I8 ? ((const int8_t *)v)[i] : ((const int32_t *)v)[i];
    if (z != 0)
      return onnx_unsupported(imp, node, "zero point %lld: only symmetric quantization (zero "
                              "point 0) is supported", (long long)z);
  }
  return NULL;
}

/* axis (opset 13+; before, scales are per tensor), block_size, scale type. */
static InferStatus *common_params(OnnxImporter *imp, const OnnxNode *node, InferOpParams *p) {
  memset(p, 0, sizeof *p);
  if (onnx_opset(imp) < 10)
    return onnx_invalid(imp, node, "%s exists from opset 10 on (the model declares %d)",
                        node->op_type, onnx_opset(imp));
  if (onnx_num_inputs(node) < 2 || onnx_input(imp, node, 1) == INFER_NO_TENSOR)
    return onnx_invalid(imp, node, "the scale input is missing");
  p->quantize.axis = onnx_opset(imp) >= 13 ? onnx_attr_int(node, "axis", 1) : 0;
  if (onnx_attr_int(node, "block_size", 0) != 0)
    return onnx_unsupported(imp, node, "blocked quantization (block_size) is not supported");
  InferDType st = dtype_of(imp, onnx_input(imp, node, 1));
  if (st != INFER_DTYPE_F32 && st != INFER_DTYPE_UNDEFINED)
    return onnx_unsupported(imp, node, "a scale of type %s is not supported (float32 only)",
                            infer_dtype_name(st));
  return NULL;
}

static InferStatus *import_quantize_linear(OnnxImporter *imp, const OnnxNode *node) {
  InferOpParams p;
  INFER_TRY(common_params(imp, node, &p));
  InferDType zp;
  INFER_TRY(check_zero_point(imp, node, &zp));
  int64_t out = onnx_attr_int(node, "output_dtype", 0);
  if (zp == INFER_DTYPE_I32)
    return onnx_unsupported(imp, node, "an int32 output is not supported (int8 only)");
  if (out != 0 && out != ONNX_INT8)
    return onnx_unsupported(imp, node, "output_dtype %lld is not supported (int8 only%s)",
                            (long long)out, out == ONNX_UINT8 ? "; uint8 quantization is not "
                            "supported" : "");
  if (zp == INFER_DTYPE_UNDEFINED && out == 0)
    return onnx_unsupported(imp, node, "without a zero point QuantizeLinear makes uint8, which is "
                            "not supported: give an int8 zero point of 0 (symmetric int8)");
  if (onnx_attr(node, "saturate") && onnx_attr_int(node, "saturate", 1) != 1)
    return onnx_unsupported(imp, node, "saturate=0 is not supported");
  InferTensorId in[2] = {onnx_input(imp, node, 0), onnx_input(imp, node, 1)};
  return onnx_emit(imp, node, INFER_OP_QUANTIZE, &p, 2, in, 1);
}

static InferStatus *import_dequantize_linear(OnnxImporter *imp, const OnnxNode *node) {
  InferOpParams p;
  INFER_TRY(common_params(imp, node, &p));
  InferDType zp;
  INFER_TRY(check_zero_point(imp, node, &zp));
  InferTensorId x = onnx_input(imp, node, 0);
  InferDType xt = dtype_of(imp, x);
  if (xt == INFER_DTYPE_U8)
    return onnx_unsupported(imp, node, "uint8 quantization is not supported (the engine's INT8 "
                            "is symmetric int8)");
  if (xt != INFER_DTYPE_I8 && xt != INFER_DTYPE_I32 && xt != INFER_DTYPE_UNDEFINED)
    return onnx_unsupported(imp, node, "an input of type %s is not supported (int8 or int32)",
                            infer_dtype_name(xt));
  InferTensorId in[2] = {x, onnx_input(imp, node, 1)};
  return onnx_emit(imp, node, INFER_OP_DEQUANTIZE, &p, 2, in, 1);
}

const OnnxOpImporter infer_onnx_importers_quantize[] = {
  {"QuantizeLinear", import_quantize_linear},
  {"DequantizeLinear", import_dequantize_linear},
};
const size_t infer_onnx_num_importers_quantize =
    sizeof infer_onnx_importers_quantize / sizeof infer_onnx_importers_quantize[0];
