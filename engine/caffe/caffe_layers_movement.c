/* Caffe layers that move data without arithmetic: Concat, Flatten,
 * Reshape, Slice, Permute and Split. Shapes are static in Caffe nets, so
 * dims are resolved here; leading dims the layer keeps are written as 0
 * ("copy") so the batch dim stays the input's. */
#include <string.h>

#include "caffe_import.h"

static InferOpParams zero_params(void) {
  InferOpParams p;
  memset(&p, 0, sizeof p);
  return p;
}

/* A Caffe axis (may be negative) normalized against rank; `extra` allows
 * rank itself (Reshape's "after the last axis"). */
static InferStatus *normalize_axis(CaffeImporter *imp, const char *what, int64_t axis,
                                   int32_t rank, bool extra, int *out) {
  int64_t a = axis < 0 ? axis + rank + (extra ? 1 : 0) : axis;
  if (a < 0 || a > rank || (a == rank && !extra))
    return caffe_invalid(imp, "%s %lld is out of range for an input of rank %d", what,
                         (long long)axis, rank);
  *out = (int)a;
  return NULL;
}

static InferStatus *emit_reshape(CaffeImporter *imp, InferTensorId x, int rank,
                                 const int64_t *dims) {
  InferTensorId shape;
  INFER_TRY(caffe_add_ints(imp, "shape", rank, dims, &shape));
  InferOpParams op = zero_params();
  op.reshape.kind = INFER_RESHAPE_SHAPE;
  InferTensorId in[2] = {x, shape};
  return caffe_emit_tops(imp, NULL, INFER_OP_RESHAPE, &op, 2, in, 1, 0);
}

/* ---- Concat ------------------------------------------------------------------------ */

static InferStatus *import_concat(CaffeImporter *imp, const CaffeNode *layer) {
  static const char *const known[] = {"axis", "concat_dim", NULL};
  (void)layer;
  const char *file = caffe_file(imp);
  const CaffeNode *p;
  INFER_TRY(caffe_check_io(imp, 1, -1, 1, 1));
  INFER_TRY(caffe_layer_param(imp, "concat_param", known, &p));
  if (caffe_find(p, "axis") && caffe_find(p, "concat_dim"))
    return caffe_invalid(imp, "give axis or concat_dim, not both");
  int64_t axis;
  INFER_TRY(caffe_get_int(file, p, caffe_find(p, "concat_dim") ? "concat_dim" : "axis", 1, &axis));
  int n = caffe_num_bottoms(imp);
  if (n > 256) return caffe_unsupported(imp, "more than 256 bottoms");
  InferTensorId in[256];
  for (int i = 0; i < n; i++) INFER_TRY(caffe_bottom(imp, i, &in[i]));
  int a = 0;
  INFER_TRY(normalize_axis(imp, "axis", axis, caffe_shape(imp, in[0]).rank, false, &a));
  if (n == 1) return caffe_emit_identity(imp, 0, in[0]);
  InferOpParams op = zero_params();
  op.axis.axis = a;
  return caffe_emit_tops(imp, NULL, INFER_OP_CONCAT, &op, n, in, 1, 0);
}

/* ---- Flatten and Reshape ------------------------------------------------------------- */

/* Dims axis .. end_axis merged into one. */
static InferStatus *import_flatten(CaffeImporter *imp, const CaffeNode *layer) {
  static const char *const known[] = {"axis", "end_axis", NULL};
  (void)layer;
  const char *file = caffe_file(imp);
  const CaffeNode *p;
  INFER_TRY(caffe_check_io(imp, 1, 1, 1, 1));
  INFER_TRY(caffe_layer_param(imp, "flatten_param", known, &p));
  InferTensorId x;
  INFER_TRY(caffe_bottom(imp, 0, &x));
  InferShape xs = caffe_shape(imp, x);
  int64_t axis, end_axis;
  INFER_TRY(caffe_get_int(file, p, "axis", 1, &axis));
  INFER_TRY(caffe_get_int(file, p, "end_axis", -1, &end_axis));
  int a = 0, e = 0;
  INFER_TRY(normalize_axis(imp, "axis", axis, xs.rank, false, &a));
  INFER_TRY(normalize_axis(imp, "end_axis", end_axis, xs.rank, false, &e));
  if (e < a) return caffe_invalid(imp, "end_axis comes before axis");
  int64_t dims[INFER_MAX_RANK];
  int n = 0;
  for (int i = 0; i < a; i++) dims[n++] = 0;
  dims[n++] = -1;
  for (int i = e + 1; i < xs.rank; i++) dims[n++] = xs.d[i];
  return emit_reshape(imp, x, n, dims);
}

/* Dims axis .. axis+num_axes-1 replaced by `shape`, where 0 copies the
 * input dim at the same place and -1 is inferred. */
static InferStatus *import_reshape(CaffeImporter *imp, const CaffeNode *layer) {
  static const char *const known[] = {"shape", "axis", "num_axes", NULL};
  static const char *const dim_only[] = {"dim", NULL};
  (void)layer;
  const char *file = caffe_file(imp);
  const CaffeNode *p;
  INFER_TRY(caffe_check_io(imp, 1, 1, 1, 1));
  INFER_TRY(caffe_layer_param(imp, "reshape_param", known, &p));
  InferTensorId x;
  INFER_TRY(caffe_bottom(imp, 0, &x));
  InferShape xs = caffe_shape(imp, x);
  const CaffeNode *shape = caffe_find(p, "shape");
  if (!shape || shape->kind != CAFFE_VALUE_MESSAGE)
    return caffe_invalid(imp, "reshape_param needs a shape message");
  INFER_TRY(caffe_check_fields(file, shape, "shape", dim_only));
  int64_t axis, num_axes, want[INFER_MAX_RANK];
  int n_want;
  INFER_TRY(caffe_get_int(file, p, "axis", 0, &axis));
  INFER_TRY(caffe_get_int(file, p, "num_axes", -1, &num_axes));
  INFER_TRY(caffe_get_ints(file, shape, "dim", want, INFER_MAX_RANK, &n_want));
  int start = 0;
  INFER_TRY(normalize_axis(imp, "axis", axis, xs.rank, true, &start));
  if (num_axes < -1 || (num_axes >= 0 && start + num_axes > xs.rank))
    return caffe_invalid(imp, "num_axes %lld does not fit an input of rank %d from axis %d",
                         (long long)num_axes, xs.rank, start);
  int end = num_axes < 0 ? xs.rank : start + (int)num_axes;
  int rank = start + n_want + (xs.rank - end);
  if (rank > INFER_MAX_RANK) return caffe_unsupported(imp, "the result has rank %d", rank);
  int64_t dims[INFER_MAX_RANK];
  int n = 0, inferred = 0;
  for (int i = 0; i < start; i++) dims[n++] = 0;
  for (int i = 0; i < n_want; i++) {
    if (want[i] < -1 || want[i] > CAFFE_MAX_SIZE)
      return caffe_invalid(imp, "dim %lld is not allowed", (long long)want[i]);
    if (want[i] == -1 && ++inferred > 1) return caffe_invalid(imp, "more than one dim is -1");
    if (want[i] == 0 && start + i >= xs.rank)
      return caffe_invalid(imp, "dim %d is 0 (copy) but the input has no dim %d", i, start + i);
    dims[n++] = want[i];
  }
  for (int i = end; i < xs.rank; i++) dims[n++] = xs.d[i];
  return emit_reshape(imp, x, n, dims);
}

/* ---- Slice, Split ------------------------------------------------------------------------- */

static InferStatus *import_slice(CaffeImporter *imp, const CaffeNode *layer) {
  static const char *const known[] = {"axis", "slice_point", "slice_dim", NULL};
  (void)layer;
  const char *file = caffe_file(imp);
  const CaffeNode *p;
  INFER_TRY(caffe_check_io(imp, 1, 1, 1, 64));
  INFER_TRY(caffe_layer_param(imp, "slice_param", known, &p));
  if (caffe_find(p, "axis") && caffe_find(p, "slice_dim"))
    return caffe_invalid(imp, "give axis or slice_dim, not both");
  InferTensorId x;
  INFER_TRY(caffe_bottom(imp, 0, &x));
  InferShape xs = caffe_shape(imp, x);
  int64_t axis, points[64];
  int n_points, a = 0, n = caffe_num_tops(imp);
  INFER_TRY(caffe_get_int(file, p, caffe_find(p, "slice_dim") ? "slice_dim" : "axis", 1, &axis));
  INFER_TRY(normalize_axis(imp, "axis", axis, xs.rank, false, &a));
  INFER_TRY(caffe_get_ints(file, p, "slice_point", points, 64, &n_points));
  int64_t dim = xs.d[a], sizes[64];
  if (n_points) {
    if (n_points != n - 1)
      return caffe_invalid(imp, "%d slice points for %d tops (%d expected)", n_points, n, n - 1);
    int64_t prev = 0;
    for (int i = 0; i <= n_points; i++) {
      int64_t point = i < n_points ? points[i] : dim;
      if (point <= prev || point > dim)
        return caffe_invalid(imp, "slice points must increase inside (0, %lld)", (long long)dim);
      sizes[i] = point - prev;
      prev = point;
    }
  } else {
    if (dim % n)
      return caffe_invalid(imp, "dim %d (%lld) does not split into %d equal parts", a,
                           (long long)dim, n);
    for (int i = 0; i < n; i++) sizes[i] = dim / n;
  }
  if (n == 1) return caffe_emit_identity(imp, 0, x);
  InferTensorId split;
  INFER_TRY(caffe_add_ints(imp, "split", n, sizes, &split));
  InferOpParams op = zero_params();
  op.split.axis = a;
  op.split.num_outputs = n;
  InferTensorId in[2] = {x, split};
  return caffe_emit_tops(imp, NULL, INFER_OP_SPLIT, &op, 2, in, n, 0);
}

/* Split copies its bottom to every top. */
static InferStatus *import_split(CaffeImporter *imp, const CaffeNode *layer) {
  (void)layer;
  INFER_TRY(caffe_check_io(imp, 1, 1, 1, -1));
  InferTensorId x;
  INFER_TRY(caffe_bottom(imp, 0, &x));
  for (int i = 0; i < caffe_num_tops(imp); i++) INFER_TRY(caffe_emit_identity(imp, i, x));
  return NULL;
}

/* ---- Permute (SSD's Caffe) ------------------------------------------------------------- */

/* The dims in `order`, then the others in their order. */
static InferStatus *import_permute(CaffeImporter *imp, const CaffeNode *layer) {
  static const char *const known[] = {"order", NULL};
  (void)layer;
  const CaffeNode *p;
  INFER_TRY(caffe_check_io(imp, 1, 1, 1, 1));
  INFER_TRY(caffe_layer_param(imp, "permute_param", known, &p));
  InferTensorId x;
  INFER_TRY(caffe_bottom(imp, 0, &x));
  int rank = caffe_shape(imp, x).rank, n;
  int64_t order[INFER_MAX_RANK + 1];
  INFER_TRY(caffe_get_ints(caffe_file(imp), p, "order", order, INFER_MAX_RANK + 1, &n));
  if (n > rank) return caffe_invalid(imp, "order has %d values for an input of rank %d", n, rank);
  bool used[INFER_MAX_RANK] = {false};
  InferOpParams op = zero_params();
  for (int i = 0; i < n; i++) {
    if (order[i] < 0 || order[i] >= rank || used[order[i]])
      return caffe_invalid(imp, "order value %lld is out of range or repeated",
                           (long long)order[i]);
    used[order[i]] = true;
    op.transpose.perm[i] = order[i];
  }
  for (int d = 0; d < rank; d++)
    if (!used[d]) op.transpose.perm[n++] = d;
  op.transpose.n_perm = rank;
  return caffe_emit_tops(imp, NULL, INFER_OP_TRANSPOSE, &op, 1, &x, 1, 0);
}

const CaffeLayerImporter infer_caffe_importers_movement[] = {
  {"Concat", import_concat},
  {"Flatten", import_flatten},
  {"Reshape", import_reshape},
  {"Slice", import_slice},
  {"Split", import_split},
  {"Permute", import_permute},
};
const size_t infer_caffe_num_importers_movement =
    sizeof infer_caffe_importers_movement / sizeof infer_caffe_importers_movement[0];
