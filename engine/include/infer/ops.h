/* The engine's operator set and each operator's typed parameters.
 *
 * Operators follow the newest ONNX semantics: values that older opsets gave
 * as attributes (axes, pads, shapes, split sizes, ...) are *inputs* here, and
 * the ONNX importer turns old attributes into constant tensors. Inputs marked
 * "shape input" below must have a value known on the host when shapes are
 * inferred (an initializer, or a value computed from shapes). Parameters are
 * plain data (no pointers) so they serialize into plan files as bytes. */
#ifndef INFER_OPS_H
#define INFER_OPS_H

#include "infer/types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum InferOp {
  /* elementwise family */
  INFER_OP_UNARY,       /* in: x                      out: y */
  INFER_OP_BINARY,      /* in: a, b (broadcast)       out: c */
  INFER_OP_WHERE,       /* in: cond, x, y (broadcast) out: z */
  INFER_OP_CAST,        /* in: x                      out: y (params.to) */
  /* neural-network family */
  INFER_OP_CONV,        /* in: x, w, [bias]           out: y */
  INFER_OP_DECONV,      /* ConvTranspose; in: x, w, [bias] out: y */
  INFER_OP_POOL,        /* in: x                      out: y */
  INFER_OP_GEMM,        /* in: a, b, [c]              out: y */
  INFER_OP_MATMUL,      /* in: a, b (numpy matmul)    out: y */
  INFER_OP_BATCHNORM,   /* in: x, scale, bias, mean, var out: y */
  INFER_OP_INSTANCENORM,/* in: x, scale, bias         out: y */
  INFER_OP_LAYERNORM,   /* in: x, scale, [bias]       out: y */
  INFER_OP_LRN,         /* in: x                      out: y */
  /* reduction family */
  INFER_OP_SOFTMAX,     /* in: x                      out: y */
  INFER_OP_REDUCE,      /* in: x, [axes: shape input] out: y */
  INFER_OP_ARGMAX,      /* in: x                      out: indices (i64) */
  INFER_OP_TOPK,        /* in: x, k (shape input)     out: values, indices (i64) */
  INFER_OP_CUMSUM,      /* in: x, axis (shape input)  out: y */
  INFER_OP_NMS,         /* NonMaxSuppression; in: boxes, scores, [max_out (shape input)],
                           [iou_threshold], [score_threshold]  out: selected [n,3] i64 */
  /* data-movement family */
  INFER_OP_RESHAPE,     /* in: x, [shape/axes: shape input] out: y; see InferReshapeKind */
  INFER_OP_TRANSPOSE,   /* in: x                      out: y */
  INFER_OP_CONCAT,      /* in: x0..xn                 out: y */
  INFER_OP_SPLIT,       /* in: x, [split: shape input] out: y0..yn */
  INFER_OP_SLICE,       /* in: x, starts, ends, [axes], [steps] (shape inputs) out: y */
  INFER_OP_GATHER,      /* in: x, indices             out: y */
  INFER_OP_GATHER_ELEMENTS, /* in: x, indices         out: y */
  INFER_OP_EXPAND,      /* in: x, shape (shape input) out: y */
  INFER_OP_TILE,        /* in: x, repeats (shape input) out: y */
  INFER_OP_PAD,         /* in: x, pads (shape input), [value], [axes (shape input)] out: y */
  INFER_OP_RESIZE,      /* in: x, [roi], [scales], [sizes] (shape inputs) out: y */
  INFER_OP_RANGE,       /* in: start, limit, delta (shape inputs) out: y */
  INFER_OP_SHAPE,       /* in: x (only its shape is read) out: i64 [rank] */
  INFER_OP_SIZE,        /* in: x (only its shape is read) out: i64 scalar */
  INFER_OP_CONSTANT_OF_SHAPE, /* in: shape (shape input) out: y */
  INFER_OP_TRILU,       /* in: x, [k (shape input)]   out: y */
  INFER_OP_DEPTH_SPACE, /* DepthToSpace / SpaceToDepth; in: x out: y */
  /* custom layers (infer/plugin.h) */
  INFER_OP_PLUGIN,      /* in: x0..xn                 out: y0..yn, as the plugin says */
  /* INT8 (symmetric, zero point 0) */
  INFER_OP_QUANTIZE,    /* in: x (f32/f16), scale (f32, scalar or [C] along axis) out: y (i8) */
  INFER_OP_DEQUANTIZE,  /* in: x (i8/i32), scale (f32, scalar or [C] along axis)  out: y (f32) */
  /* fused by the optimizer (pointwise-fusion) */
  INFER_OP_POINTWISE,   /* in: x0..x3 (float, broadcast) out: y; a program of elementwise ops */
  INFER_OP_COUNT
} InferOp;

/* ---- elementwise ------------------------------------------------------ */

typedef enum InferUnaryKind {
  INFER_UNARY_NONE = 0,      /* identity; also "no fused activation" */
  INFER_UNARY_RELU,
  INFER_UNARY_LEAKY_RELU,    /* alpha */
  INFER_UNARY_CLIP,          /* alpha = min, beta = max */
  INFER_UNARY_SIGMOID,
  INFER_UNARY_HARD_SIGMOID,  /* alpha, beta: max(0, min(1, alpha*x + beta)) */
  INFER_UNARY_HARD_SWISH,
  INFER_UNARY_TANH,
  INFER_UNARY_GELU,          /* alpha = 0: erf form; alpha = 1: tanh approximation */
  INFER_UNARY_SILU,
  INFER_UNARY_MISH,
  INFER_UNARY_ELU,           /* alpha */
  INFER_UNARY_SELU,          /* alpha, beta = gamma */
  INFER_UNARY_CELU,          /* alpha */
  INFER_UNARY_SOFTPLUS,
  INFER_UNARY_SOFTSIGN,
  INFER_UNARY_THRESHOLDED_RELU, /* alpha */
  INFER_UNARY_SHRINK,        /* alpha = bias, beta = lambd */
  INFER_UNARY_EXP,
  INFER_UNARY_LOG,
  INFER_UNARY_SQRT,
  INFER_UNARY_NEG,
  INFER_UNARY_ABS,
  INFER_UNARY_RECIPROCAL,
  INFER_UNARY_ERF,
  INFER_UNARY_FLOOR,
  INFER_UNARY_CEIL,
  INFER_UNARY_ROUND,         /* half to even */
  INFER_UNARY_SIGN,
  INFER_UNARY_SIN,
  INFER_UNARY_COS,
  INFER_UNARY_TAN,
  INFER_UNARY_ASIN,
  INFER_UNARY_ACOS,
  INFER_UNARY_ATAN,
  INFER_UNARY_SINH,
  INFER_UNARY_COSH,
  INFER_UNARY_ASINH,
  INFER_UNARY_ACOSH,
  INFER_UNARY_ATANH,
  INFER_UNARY_NOT,           /* bool */
  INFER_UNARY_IS_NAN,        /* float -> bool */
  INFER_UNARY_IS_INF,        /* float -> bool; alpha != 0: detect +inf, beta != 0: detect -inf */
  INFER_UNARY_KIND_COUNT
} InferUnaryKind;

typedef struct InferUnaryParams {
  InferUnaryKind kind;
  float alpha, beta;
} InferUnaryParams;

/* An activation fused into a producing layer (conv, gemm, ...). */
typedef InferUnaryParams InferActivation;

typedef enum InferBinaryKind {
  INFER_BINARY_ADD,
  INFER_BINARY_SUB,
  INFER_BINARY_MUL,
  INFER_BINARY_DIV,          /* integer division truncates toward zero */
  INFER_BINARY_POW,
  INFER_BINARY_MIN,
  INFER_BINARY_MAX,
  INFER_BINARY_MOD,          /* sign of divisor (ONNX Mod fmod=0) */
  INFER_BINARY_FMOD,         /* sign of dividend (ONNX Mod fmod=1) */
  INFER_BINARY_PRELU,        /* a < 0 ? a * b : a */
  INFER_BINARY_EQUAL,        /* comparisons and logic produce bool */
  INFER_BINARY_GREATER,
  INFER_BINARY_GREATER_EQUAL,
  INFER_BINARY_LESS,
  INFER_BINARY_LESS_EQUAL,
  INFER_BINARY_AND,
  INFER_BINARY_OR,
  INFER_BINARY_XOR,
  INFER_BINARY_SHIFT_LEFT,   /* unsigned integer types */
  INFER_BINARY_SHIFT_RIGHT,
  INFER_BINARY_KIND_COUNT
} InferBinaryKind;

typedef struct InferBinaryParams {
  InferBinaryKind kind;
} InferBinaryParams;

typedef struct InferCastParams {
  InferDType to;
} InferCastParams;

/* ---- neural network ---------------------------------------------------- */

#define INFER_MAX_SPATIAL 3

/* The INT8 form of Conv and Gemm (int8 = true), made by the optimizer's
 * quantize pass. Inputs then are
 *   conv: x (i8), w (i8), bias (f32 [C_out] or absent), w_scales (f32
 *         [C_out]), residual (last, only with has_residual: i8 with
 *         residual_scale, or f32)
 *   gemm: a (i8), b (i8), c (f32 or absent), w_scales (f32 [N])
 * and the layer computes, per output element of channel (column) c,
 *   acc = sum(x * w) in int32 (exact), v = acc * (x_scale * w_scales[c])
 *   + bias[c] (gemm: alpha * acc * (...) + beta * c) (+ residual, times
 *   residual_scale when i8), activation, then y = y_scale > 0 ?
 *   saturate(round_half_even(v / y_scale)) as i8 : v as float (the dtype
 *   of w_scales, f32). */
typedef struct InferQuantParams {
  bool int8;
  float x_scale;
  float y_scale;          /* 0: the output is float */
  float residual_scale;   /* of an i8 residual */
} InferQuantParams;

typedef enum InferAutoPad {
  INFER_AUTO_PAD_NOTSET = 0, /* use pads */
  INFER_AUTO_PAD_SAME_UPPER,
  INFER_AUTO_PAD_SAME_LOWER,
  INFER_AUTO_PAD_VALID
} InferAutoPad;

/* Convolution and ConvTranspose. Weights: conv [M, C/group, k...];
 * deconv [C, M/group, k...]. A kernel size of 0 means "from the weights". */
typedef struct InferConvParams {
  int32_t spatial;                      /* number of spatial dims: 1..3 */
  int64_t group;
  int64_t kernel[INFER_MAX_SPATIAL];
  int64_t strides[INFER_MAX_SPATIAL];
  int64_t dilations[INFER_MAX_SPATIAL];
  int64_t pads[2 * INFER_MAX_SPATIAL];  /* begin of each spatial dim, then end of each */
  InferAutoPad auto_pad;
  /* deconv only */
  int64_t output_padding[INFER_MAX_SPATIAL];
  int64_t output_shape[INFER_MAX_SPATIAL];
  bool has_output_shape;
  /* fusions (set by the optimizer; zero means none) */
  InferActivation activation;           /* applied after bias (and residual) */
  bool has_residual;                    /* an extra last input added before activation */
  /* layout (set by the optimizer): x, the residual and y are
   * [N, spatial..., C] and w is [C_out, k..., C_in / group] */
  bool channels_last;
  /* the backend's algorithm, chosen by timing at build (0: its default) */
  int32_t tactic;
  InferQuantParams quant;               /* INT8 form (conv only; set by the optimizer) */
} InferConvParams;

typedef enum InferPoolKind {
  INFER_POOL_MAX,
  INFER_POOL_AVERAGE,
  INFER_POOL_LP
} InferPoolKind;

typedef struct InferPoolParams {
  InferPoolKind kind;
  bool global;                          /* over all spatial dims; kernel etc. unused */
  int32_t spatial;
  int64_t kernel[INFER_MAX_SPATIAL];
  int64_t strides[INFER_MAX_SPATIAL];
  int64_t dilations[INFER_MAX_SPATIAL];
  int64_t pads[2 * INFER_MAX_SPATIAL];
  InferAutoPad auto_pad;
  bool ceil_mode;
  bool count_include_pad;               /* average pooling */
  int64_t p;                            /* Lp pooling */
  bool channels_last;                   /* x and y are [N, spatial..., C] (set by the optimizer) */
} InferPoolParams;

/* y = alpha * op(a) * op(b) + beta * c, a and b 2-D; c broadcasts to [M,N]. */
typedef struct InferGemmParams {
  float alpha, beta;
  bool trans_a, trans_b;
  InferActivation activation;
  InferQuantParams quant;               /* INT8 form (set by the optimizer) */
} InferGemmParams;

typedef struct InferMatMulParams {
  InferActivation activation;
} InferMatMulParams;

typedef struct InferNormParams {
  float epsilon;
  int64_t axis;       /* layer norm: first normalized axis (may be negative) */
  InferActivation activation;
} InferNormParams;

typedef struct InferLrnParams {
  int64_t size;
  float alpha, beta, bias;
} InferLrnParams;

/* ---- reductions -------------------------------------------------------- */

typedef enum InferSoftmaxKind {
  INFER_SOFTMAX,
  INFER_LOG_SOFTMAX,
  INFER_HARDMAX
} InferSoftmaxKind;

typedef struct InferSoftmaxParams {
  InferSoftmaxKind kind;
  int64_t axis;       /* may be negative */
  bool coerce_2d;     /* opset < 13: normalize over all dims from axis on */
} InferSoftmaxParams;

typedef enum InferReduceKind {
  INFER_REDUCE_SUM,
  INFER_REDUCE_MEAN,
  INFER_REDUCE_MAX,
  INFER_REDUCE_MIN,
  INFER_REDUCE_PROD,
  INFER_REDUCE_L1,
  INFER_REDUCE_L2,
  INFER_REDUCE_LOG_SUM,
  INFER_REDUCE_LOG_SUM_EXP,
  INFER_REDUCE_SUM_SQUARE
} InferReduceKind;

/* Axes come from input 1 (i64); absent or empty means all axes unless
 * noop_with_empty_axes, which makes the op an identity. */
typedef struct InferReduceParams {
  InferReduceKind kind;
  bool keepdims;
  bool noop_with_empty_axes;
} InferReduceParams;

typedef struct InferArgMaxParams {
  int64_t axis;
  bool keepdims;
  bool select_last_index;
  bool is_min;        /* ArgMin */
} InferArgMaxParams;

typedef struct InferTopKParams {
  int64_t axis;
  bool largest;
  bool sorted;
} InferTopKParams;

typedef struct InferCumSumParams {
  bool exclusive;
  bool reverse;
} InferCumSumParams;

typedef struct InferNmsParams {
  bool center_point_box;
} InferNmsParams;

/* ---- data movement ----------------------------------------------------- */

typedef enum InferReshapeKind {
  INFER_RESHAPE_SHAPE,     /* input 1: target shape (0 copies, -1 infers) */
  INFER_RESHAPE_FLATTEN,   /* axis */
  INFER_RESHAPE_SQUEEZE,   /* input 1: axes, absent = all ones */
  INFER_RESHAPE_UNSQUEEZE, /* input 1: axes */
  INFER_RESHAPE_IDENTITY   /* Identity, Dropout at inference */
} InferReshapeKind;

typedef struct InferReshapeParams {
  InferReshapeKind kind;
  bool allowzero;
  int64_t axis;            /* flatten */
} InferReshapeParams;

typedef struct InferTransposeParams {
  int32_t n_perm;          /* 0: reverse the dims */
  int64_t perm[INFER_MAX_RANK];
} InferTransposeParams;

typedef struct InferAxisParams {
  int64_t axis;            /* concat, gather, gather_elements; may be negative */
} InferAxisParams;

typedef struct InferSplitParams {
  int64_t axis;
  int64_t num_outputs;     /* equal split (last chunk smaller) when input 1 is absent */
} InferSplitParams;

typedef enum InferPadMode {
  INFER_PAD_CONSTANT,
  INFER_PAD_REFLECT,
  INFER_PAD_EDGE,
  INFER_PAD_WRAP
} InferPadMode;

typedef struct InferPadParams {
  InferPadMode mode;
} InferPadParams;

typedef enum InferResizeMode {
  INFER_RESIZE_NEAREST,
  INFER_RESIZE_LINEAR,
  INFER_RESIZE_CUBIC
} InferResizeMode;

typedef enum InferResizeCoord {
  INFER_COORD_HALF_PIXEL,
  INFER_COORD_HALF_PIXEL_SYMMETRIC,
  INFER_COORD_PYTORCH_HALF_PIXEL,
  INFER_COORD_ALIGN_CORNERS,
  INFER_COORD_ASYMMETRIC,
  INFER_COORD_TF_CROP_AND_RESIZE
} InferResizeCoord;

typedef enum InferResizeNearest {
  INFER_NEAREST_ROUND_PREFER_FLOOR,
  INFER_NEAREST_ROUND_PREFER_CEIL,
  INFER_NEAREST_FLOOR,
  INFER_NEAREST_CEIL
} InferResizeNearest;

typedef enum InferResizeAspect {
  INFER_ASPECT_STRETCH,
  INFER_ASPECT_NOT_LARGER,
  INFER_ASPECT_NOT_SMALLER
} InferResizeAspect;

typedef struct InferResizeParams {
  InferResizeMode mode;
  InferResizeCoord coord;
  InferResizeNearest nearest;
  InferResizeAspect aspect;
  float cubic_coeff_a;
  bool exclude_outside;
  float extrapolation_value;
  int32_t n_axes;          /* 0: all axes */
  int64_t axes[INFER_MAX_RANK];
} InferResizeParams;

typedef struct InferShapeOpParams {
  int64_t start;
  int64_t end;
  bool has_end;
} InferShapeOpParams;

typedef struct InferConstantOfShapeParams {
  InferDType dtype;
  uint8_t value[8];        /* one element of dtype, little-endian */
} InferConstantOfShapeParams;

typedef struct InferTriluParams {
  bool upper;
} InferTriluParams;

typedef struct InferDepthSpaceParams {
  int64_t blocksize;
  bool to_space;           /* DepthToSpace; false: SpaceToDepth */
  bool crd_mode;           /* DepthToSpace mode="CRD" (default "DCR") */
} InferDepthSpaceParams;

/* ---- plugins (infer/plugin.h) --------------------------------------------- */

#define INFER_PLUGIN_NAME_SIZE 64
#define INFER_PLUGIN_VERSION_SIZE 16

/* Which plugin a layer runs: its creator's name and version (NUL-padded)
 * and the instance's entry in the plugin-data table (the serialized plugin
 * bytes; in memory a process-wide table, in a plan file its PLUGINS
 * section). An index, not a pointer, so the params serialize bytewise. */
typedef struct InferPluginParams {
  char name[INFER_PLUGIN_NAME_SIZE];
  char version[INFER_PLUGIN_VERSION_SIZE];
  int32_t data_index;
} InferPluginParams;

/* ---- INT8 ----------------------------------------------------------------- */

/* QuantizeLinear / DequantizeLinear with zero point 0: y = saturate(
 * round_half_even(x / scale)) to i8, and y = x * scale. A scale of one
 * element applies to the whole tensor; a 1-D scale of C elements runs
 * along `axis` (per channel). */
typedef struct InferQuantizeParams {
  int64_t axis;            /* may be negative */
} InferQuantizeParams;

/* ---- fused elementwise chains ---------------------------------------------- */

#define INFER_POINTWISE_MAX_INSTRS 8
#define INFER_POINTWISE_MAX_INPUTS 4

typedef enum InferPointwiseOpKind {
  INFER_POINTWISE_UNARY,   /* kind: InferUnaryKind, with alpha/beta; reads a */
  INFER_POINTWISE_BINARY   /* kind: InferBinaryKind (ADD SUB MUL DIV POW MIN MAX PRELU); a, b */
} InferPointwiseOpKind;

typedef enum InferPointwiseRefKind {
  INFER_POINTWISE_INPUT,   /* layer input `index` (broadcast to the output) */
  INFER_POINTWISE_SCALAR,  /* the constant `value` */
  INFER_POINTWISE_RESULT   /* the result of instruction `index` (an earlier one) */
} InferPointwiseRefKind;

typedef struct InferPointwiseRef {
  uint8_t kind;            /* InferPointwiseRefKind */
  uint8_t index;
  float value;
} InferPointwiseRef;

/* One step. The result is rounded to `dtype` (F32 or F16; UNDEFINED: input
 * 0's dtype), as the unfused layer's output tensor would hold it; a Cast
 * is UNARY NONE with the dtype it casts to. */
typedef struct InferPointwiseInstr {
  uint8_t op;              /* InferPointwiseOpKind */
  uint8_t kind;            /* InferUnaryKind or InferBinaryKind */
  uint8_t dtype;           /* InferDType */
  uint8_t reserved;        /* 0 */
  float alpha, beta;       /* unary parameters */
  InferPointwiseRef a, b;
} InferPointwiseInstr;

/* A chain of elementwise layers fused into one (the optimizer's
 * pointwise-fusion pass): every output element runs the program on the
 * inputs' (broadcast) elements in float; the last instruction's result is
 * the output. Plain data: it serializes bytewise into plans. */
typedef struct InferPointwiseParams {
  int32_t n_instrs;        /* 1..INFER_POINTWISE_MAX_INSTRS */
  InferPointwiseInstr instrs[INFER_POINTWISE_MAX_INSTRS];
} InferPointwiseParams;

/* Any operator's parameters; an op reads only its own member. */
typedef union InferOpParams {
  InferUnaryParams unary;
  InferBinaryParams binary;
  InferCastParams cast;
  InferConvParams conv;
  InferPoolParams pool;
  InferGemmParams gemm;
  InferMatMulParams matmul;
  InferNormParams norm;
  InferLrnParams lrn;
  InferSoftmaxParams softmax;
  InferReduceParams reduce;
  InferArgMaxParams argmax;
  InferTopKParams topk;
  InferCumSumParams cumsum;
  InferNmsParams nms;
  InferReshapeParams reshape;
  InferTransposeParams transpose;
  InferAxisParams axis;
  InferSplitParams split;
  InferPadParams pad;
  InferResizeParams resize;
  InferShapeOpParams shape;
  InferConstantOfShapeParams constant_of_shape;
  InferTriluParams trilu;
  InferDepthSpaceParams depth_space;
  InferPluginParams plugin;
  InferQuantizeParams quantize;  /* quantize, dequantize */
  InferPointwiseParams pointwise;
} InferOpParams;

const char *infer_op_name(InferOp op);              /* "conv", ... */
const char *infer_unary_kind_name(InferUnaryKind k);
const char *infer_binary_kind_name(InferBinaryKind k);

#ifdef __cplusplus
}
#endif
#endif
