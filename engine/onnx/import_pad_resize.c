/* ONNX importers of Pad, Resize / Upsample, Trilu, DepthToSpace and
 * SpaceToDepth. Old-opset attributes (pads, value, scales) become constants. */
#include <stdio.h>
#include <string.h>

#include "onnx_import.h"

static InferStatus *required_input(OnnxImporter *imp, const OnnxNode *node, int i,
                                   InferTensorId *out) {
  *out = onnx_input(imp, node, i);
  if (*out == INFER_NO_TENSOR) return onnx_invalid(imp, node, "input %d is missing", i);
  return NULL;
}

/* A string attribute or its default; false when it does not fit in buf. */
static bool string_attr(const OnnxNode *node, const char *name, const char *def, char *buf,
                        size_t size) {
  if (!onnx_attr_string(node, name, buf, size)) {
    snprintf(buf, size, "%s", def);
    return true;
  }
  const Onnx__AttributeProto *a = onnx_attr(node, name);
  return a->s.len < size;
}

/* Index of buf in names (NULL-terminated), or -1. */
static int lookup(const char *buf, const char *const *names) {
  for (int i = 0; names[i]; i++)
    if (strcmp(buf, names[i]) == 0) return i;
  return -1;
}

/* Reads an enumerated string attribute; unknown values are unsupported. */
static InferStatus *enum_attr(OnnxImporter *imp, const OnnxNode *node, const char *name,
                              const char *def, const char *const *names, int *out) {
  char buf[64];
  bool fits = string_attr(node, name, def, buf, sizeof buf);
  *out = fits ? lookup(buf, names) : -1;
  if (*out < 0) return onnx_unsupported(imp, node, "attribute %s=%s is not supported", name, buf);
  return NULL;
}

/* A constant input with no values stands for an absent one (opset 11
 * Resize passes empty roi / scales when they are unused). */
static InferTensorId drop_if_empty(OnnxImporter *imp, InferTensorId t) {
  InferShape s;
  if (t != INFER_NO_TENSOR && onnx_constant(imp, t, NULL, &s) && infer_shape_numel(&s) == 0)
    return INFER_NO_TENSOR;
  return t;
}

/* ---- Pad ---------------------------------------------------------------- */

static const char *const pad_modes[] = {"constant", "reflect", "edge", "wrap", NULL};

/* Before opset 11 pads and the constant were attributes. */
static InferStatus *pad_old_inputs(OnnxImporter *imp, const OnnxNode *node, bool constant,
                                   InferTensorId *in) {
  int64_t pads[2 * INFER_MAX_RANK];
  int n = -1;
  const char *name = onnx_opset(imp) < 2 && onnx_attr(node, "paddings") ? "paddings" : "pads";
  INFER_TRY(onnx_attr_ints(imp, node, name, pads, 2 * INFER_MAX_RANK, &n));
  if (n < 0) return onnx_invalid(imp, node, "attribute '%s' is missing", name);
  INFER_TRY(onnx_add_ints(imp, node, "pads", n, pads, &in[1]));
  in[2] = INFER_NO_TENSOR;
  float value = onnx_attr_float(node, "value", 0.0f);
  if (constant && value != 0.0f) INFER_TRY(onnx_add_scalar_f32(imp, node, "value", value, &in[2]));
  return NULL;
}

static InferStatus *import_pad(OnnxImporter *imp, const OnnxNode *node) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  int mode = 0;
  INFER_TRY(enum_attr(imp, node, "mode", "constant", pad_modes, &mode));
  p.pad.mode = (InferPadMode)mode;
  InferTensorId in[4] = {INFER_NO_TENSOR, INFER_NO_TENSOR, INFER_NO_TENSOR, INFER_NO_TENSOR};
  INFER_TRY(required_input(imp, node, 0, &in[0]));
  if (onnx_opset(imp) < 11) {
    INFER_TRY(pad_old_inputs(imp, node, p.pad.mode == INFER_PAD_CONSTANT, in));
    return onnx_emit(imp, node, INFER_OP_PAD, &p, 3, in, 1);
  }
  INFER_TRY(required_input(imp, node, 1, &in[1]));
  /* the constant only matters in constant mode; elsewhere it is ignored */
  if (p.pad.mode == INFER_PAD_CONSTANT) in[2] = onnx_input(imp, node, 2);
  in[3] = onnx_opset(imp) >= 18 ? onnx_input(imp, node, 3) : INFER_NO_TENSOR;
  return onnx_emit(imp, node, INFER_OP_PAD, &p, 4, in, 1);
}

/* ---- Resize / Upsample ---------------------------------------------------- */

static const char *const resize_modes[] = {"nearest", "linear", "cubic", NULL};
static const char *const coord_modes[] = {"half_pixel",  "half_pixel_symmetric",
                                          "pytorch_half_pixel", "align_corners",
                                          "asymmetric", "tf_crop_and_resize", NULL};
static const char *const nearest_modes[] = {"round_prefer_floor", "round_prefer_ceil", "floor",
                                            "ceil", NULL};
static const char *const aspect_modes[] = {"stretch", "not_larger", "not_smaller", NULL};

/* Resize-10 and Upsample: x_original = x_resized / scale (what opset 11
 * calls asymmetric), only nearest and linear. */
static InferStatus *resize_old_params(OnnxImporter *imp, const OnnxNode *node,
                                      InferResizeParams *p) {
  int mode = 0;
  static const char *const old_modes[] = {"nearest", "linear", NULL};
  INFER_TRY(enum_attr(imp, node, "mode", "nearest", old_modes, &mode));
  p->mode = (InferResizeMode)mode;
  p->coord = INFER_COORD_ASYMMETRIC;
  p->nearest = INFER_NEAREST_FLOOR;
  return NULL;
}

/* Old nearest rounds down when upsampling and up when downsampling (per
 * axis, as onnxruntime and ONNX's opset-10 test data do). One rounding mode
 * serves all axes only when the scales are known and all go one way. */
static InferStatus *old_nearest_rounding(OnnxImporter *imp, const OnnxNode *node,
                                         InferResizeParams *p, InferTensorId scales,
                                         bool upsample_only) {
  if (p->mode != INFER_RESIZE_NEAREST) return NULL;
  InferDType dt;
  InferShape s;
  const float *v = onnx_constant(imp, scales, &dt, &s);
  if (!v || dt != INFER_DTYPE_F32) {
    if (upsample_only) return NULL; /* Upsample's scales are >= 1 by definition */
    return onnx_unsupported(imp, node, "nearest mode needs constant scales before opset 11");
  }
  bool up = false, down = false;
  for (int64_t i = 0; i < infer_shape_numel(&s); i++) {
    up = up || v[i] > 1.0f;
    down = down || v[i] < 1.0f;
  }
  if (down && (up || upsample_only))
    return onnx_unsupported(imp, node, "nearest mode with scales below 1 before opset 11");
  p->nearest = down ? INFER_NEAREST_CEIL : INFER_NEAREST_FLOOR;
  return NULL;
}

static InferStatus *resize_new_params(OnnxImporter *imp, const OnnxNode *node,
                                      InferResizeParams *p) {
  int v = 0;
  INFER_TRY(enum_attr(imp, node, "mode", "nearest", resize_modes, &v));
  p->mode = (InferResizeMode)v;
  INFER_TRY(enum_attr(imp, node, "coordinate_transformation_mode", "half_pixel", coord_modes, &v));
  p->coord = (InferResizeCoord)v;
  INFER_TRY(enum_attr(imp, node, "nearest_mode", "round_prefer_floor", nearest_modes, &v));
  p->nearest = (InferResizeNearest)v;
  INFER_TRY(enum_attr(imp, node, "keep_aspect_ratio_policy", "stretch", aspect_modes, &v));
  p->aspect = (InferResizeAspect)v;
  p->cubic_coeff_a = onnx_attr_float(node, "cubic_coeff_a", -0.75f);
  p->exclude_outside = onnx_attr_int(node, "exclude_outside", 0) != 0;
  p->extrapolation_value = onnx_attr_float(node, "extrapolation_value", 0.0f);
  if (onnx_attr_int(node, "antialias", 0) != 0)
    return onnx_unsupported(imp, node, "attribute antialias=1 is not supported");
  int n = -1;
  INFER_TRY(onnx_attr_ints(imp, node, "axes", p->axes, INFER_MAX_RANK, &n));
  p->n_axes = n > 0 ? n : 0;
  if (n == 0) return onnx_invalid(imp, node, "attribute 'axes' is empty");
  return NULL;
}

static InferStatus *import_resize(OnnxImporter *imp, const OnnxNode *node) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  InferTensorId in[4] = {INFER_NO_TENSOR, INFER_NO_TENSOR, INFER_NO_TENSOR, INFER_NO_TENSOR};
  INFER_TRY(required_input(imp, node, 0, &in[0]));
  if (onnx_opset(imp) < 11) {
    INFER_TRY(resize_old_params(imp, node, &p.resize));
    INFER_TRY(required_input(imp, node, 1, &in[2]));
    INFER_TRY(old_nearest_rounding(imp, node, &p.resize, in[2], false));
    return onnx_emit(imp, node, INFER_OP_RESIZE, &p, 3, in, 1);
  }
  INFER_TRY(resize_new_params(imp, node, &p.resize));
  /* roi is read only by tf_crop_and_resize; elsewhere it must not become a
   * required shape input */
  if (p.resize.coord == INFER_COORD_TF_CROP_AND_RESIZE) in[1] = onnx_input(imp, node, 1);
  in[2] = drop_if_empty(imp, onnx_input(imp, node, 2));
  in[3] = drop_if_empty(imp, onnx_input(imp, node, 3));
  return onnx_emit(imp, node, INFER_OP_RESIZE, &p, 4, in, 1);
}

static InferStatus *import_upsample(OnnxImporter *imp, const OnnxNode *node) {
  if (onnx_opset(imp) < 7)
    return onnx_unsupported(imp, node, "experimental Upsample-1 is not supported");
  InferOpParams p;
  memset(&p, 0, sizeof p);
  InferTensorId in[3] = {INFER_NO_TENSOR, INFER_NO_TENSOR, INFER_NO_TENSOR};
  INFER_TRY(required_input(imp, node, 0, &in[0]));
  INFER_TRY(resize_old_params(imp, node, &p.resize));
  if (onnx_opset(imp) >= 9) {
    INFER_TRY(required_input(imp, node, 1, &in[2]));
  } else {
    float scales[INFER_MAX_RANK];
    int n = -1;
    INFER_TRY(onnx_attr_floats(imp, node, "scales", scales, INFER_MAX_RANK, &n));
    if (n < 0) return onnx_invalid(imp, node, "attribute 'scales' is missing");
    int64_t dim = n;
    InferShape s = infer_shape_make(1, &dim);
    INFER_TRY(onnx_add_constant(imp, node, "scales", INFER_DTYPE_F32, &s, scales, &in[2]));
  }
  INFER_TRY(old_nearest_rounding(imp, node, &p.resize, in[2], true));
  return onnx_emit(imp, node, INFER_OP_RESIZE, &p, 3, in, 1);
}

/* ---- Trilu, DepthToSpace, SpaceToDepth ----------------------------------- */

static InferStatus *import_trilu(OnnxImporter *imp, const OnnxNode *node) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.trilu.upper = onnx_attr_int(node, "upper", 1) != 0;
  InferTensorId in[2];
  INFER_TRY(required_input(imp, node, 0, &in[0]));
  in[1] = onnx_input(imp, node, 1);
  return onnx_emit(imp, node, INFER_OP_TRILU, &p, 2, in, 1);
}

static InferStatus *import_depth_space(OnnxImporter *imp, const OnnxNode *node, bool to_space) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  if (!onnx_attr(node, "blocksize"))
    return onnx_invalid(imp, node, "attribute 'blocksize' is missing");
  p.depth_space.blocksize = onnx_attr_int(node, "blocksize", 0);
  p.depth_space.to_space = to_space;
  /* SpaceToDepth has a mode since opset 28, DepthToSpace since 11 */
  static const char *const modes[] = {"DCR", "CRD", NULL};
  int mode = 0;
  INFER_TRY(enum_attr(imp, node, "mode", "DCR", modes, &mode));
  p.depth_space.crd_mode = mode == 1;
  InferTensorId x;
  INFER_TRY(required_input(imp, node, 0, &x));
  return onnx_emit(imp, node, INFER_OP_DEPTH_SPACE, &p, 1, &x, 1);
}

static InferStatus *import_depth_to_space(OnnxImporter *imp, const OnnxNode *node) {
  return import_depth_space(imp, node, true);
}

static InferStatus *import_space_to_depth(OnnxImporter *imp, const OnnxNode *node) {
  return import_depth_space(imp, node, false);
}

const OnnxOpImporter infer_onnx_importers_pad_resize[] = {
  {"Pad", import_pad},
  {"Resize", import_resize},
  {"Upsample", import_upsample},
  {"Trilu", import_trilu},
  {"DepthToSpace", import_depth_to_space},
  {"SpaceToDepth", import_space_to_depth},
};
const size_t infer_onnx_num_importers_pad_resize =
    sizeof infer_onnx_importers_pad_resize / sizeof infer_onnx_importers_pad_resize[0];
