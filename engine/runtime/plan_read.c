/* Reading engine plans. Nothing in the file is trusted: every length, count
 * and id is checked against what remains before it is used, and the network
 * is recreated through the network API and checked like a fresh build. */
#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <sys/stat.h>

#include "backend.h"
#include "engine_internal.h"
#include "op_table.h"
#include "plan_format.h"
#include "plugins/plugin_internal.h"

#define PLAN_MAX_LAYER_IO 256
#define SMALL_VALUE_ELEMS 4096

static const char *plan_name(const char *name) { return name && *name ? name : "plan"; }

static InferStatus *corrupt(const char *name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static InferStatus *corrupt(const char *name, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return infer_status_new(INFER_ERR_PARSE, "%s is corrupt (%s)", name, msg);
}

/* A fixed-size string field: must be NUL-terminated inside the field. */
static bool fixed_string(const uint8_t *p, size_t size, char *out) {
  if (!memchr(p, 0, size)) return false;
  memcpy(out, p, size);
  return true;
}

/* ---- header -------------------------------------------------------------- */

typedef struct Section {
  uint32_t kind, flags;
  uint64_t offset, size, count;
} Section;

typedef struct Header {
  InferPlanHeaderInfo info;
  uint32_t header_size, n_sections;
  Section tensors, layers, io, data, plugins; /* plugins: size 0 when absent */
} Header;

/* Size, magic, version, total size, checksum, then the fixed fields. */
static InferStatus *parse_fixed(const uint8_t *p, size_t size, const char *name, Header *h) {
  memset(h, 0, sizeof *h);
  if (size == 0) return infer_status_new(INFER_ERR_PARSE, "%s is empty, not an infer plan file", name);
  if (size < INFER_PLAN_MAGIC_SIZE) {
    if (memcmp(p, INFER_PLAN_MAGIC, size) == 0)
      return infer_status_new(INFER_ERR_PARSE,
                              "%s is truncated: %zu bytes, a plan header has %d", name, size,
                              INFER_PLAN_FIXED_HEADER);
    return infer_status_new(INFER_ERR_PARSE, "%s is not an infer plan file", name);
  }
  if (memcmp(p, INFER_PLAN_MAGIC, INFER_PLAN_MAGIC_SIZE) != 0)
    return infer_status_new(INFER_ERR_PARSE, "%s is not an infer plan file", name);
  if (size < INFER_PLAN_OFF_VERSION + 4)
    return infer_status_new(INFER_ERR_PARSE, "%s is truncated: %zu bytes, a plan header has %d",
                            name, size, INFER_PLAN_FIXED_HEADER);
  uint32_t version = infer_plan_get_u32(p + INFER_PLAN_OFF_VERSION);
  if (version == 0) return corrupt(name, "plan format version 0");
  if (version != INFER_PLAN_FORMAT_VERSION)
    return infer_status_new(INFER_ERR_MISMATCH,
                            "%s has plan format version %u; this library reads version %u", name,
                            version, INFER_PLAN_FORMAT_VERSION);
  if (size < INFER_PLAN_FIXED_HEADER)
    return infer_status_new(INFER_ERR_PARSE, "%s is truncated: %zu bytes, a plan header has %d",
                            name, size, INFER_PLAN_FIXED_HEADER);
  uint64_t total = infer_plan_get_u64(p + INFER_PLAN_OFF_TOTAL_SIZE);
  if (total > (uint64_t)size)
    return infer_status_new(INFER_ERR_PARSE, "%s is truncated: %zu of %llu bytes", name, size,
                            (unsigned long long)total);
  if (total < (uint64_t)size)
    return corrupt(name, "the header says %llu bytes, there are %zu", (unsigned long long)total,
                   size);
  if (infer_plan_checksum(p, size) != infer_plan_get_u64(p + INFER_PLAN_OFF_CHECKSUM))
    return infer_status_new(INFER_ERR_PARSE, "%s is corrupt (checksum mismatch)", name);

  InferPlanHeaderInfo *info = &h->info;
  info->format_version = version;
  info->total_size = total;
  h->header_size = infer_plan_get_u32(p + INFER_PLAN_OFF_HEADER_SIZE);
  h->n_sections = infer_plan_get_u32(p + INFER_PLAN_OFF_N_SECTIONS);
  if (h->n_sections > INFER_PLAN_MAX_SECTIONS ||
      h->header_size != INFER_PLAN_FIXED_HEADER + h->n_sections * INFER_PLAN_SECTION_ENTRY ||
      h->header_size > size)
    return corrupt(name, "bad header size");
  uint32_t backend = infer_plan_get_u32(p + INFER_PLAN_OFF_BACKEND);
  if (backend != INFER_BACKEND_CPU && backend != INFER_BACKEND_CUDA)
    return corrupt(name, "unknown backend %u", backend);
  info->backend = (InferBackendKind)backend;
  info->source_hash = infer_plan_get_u64(p + INFER_PLAN_OFF_SOURCE_HASH);
  InferDeviceFingerprint *fp = &info->device;
  fp->backend = infer_plan_get_u32(p + INFER_PLAN_OFF_FP_BACKEND);
  fp->cc_major = (int32_t)infer_plan_get_u32(p + INFER_PLAN_OFF_FP_CC_MAJOR);
  fp->cc_minor = (int32_t)infer_plan_get_u32(p + INFER_PLAN_OFF_FP_CC_MINOR);
  fp->cuda_version = infer_plan_get_u32(p + INFER_PLAN_OFF_FP_CUDA);
  fp->cudnn_version = infer_plan_get_u32(p + INFER_PLAN_OFF_FP_CUDNN);
  fp->cublas_version = infer_plan_get_u32(p + INFER_PLAN_OFF_FP_CUBLAS);
  if (!fixed_string(p + INFER_PLAN_OFF_LIB_VERSION, INFER_PLAN_LIB_VERSION_SIZE,
                    info->library_version) ||
      !fixed_string(p + INFER_PLAN_OFF_FP_DEVICE, INFER_PLAN_DEVICE_NAME_SIZE, fp->device_name) ||
      !fixed_string(p + INFER_PLAN_OFF_FP_FEATURES, INFER_PLAN_FEATURES_SIZE, fp->cpu_features) ||
      !fixed_string(p + INFER_PLAN_OFF_FP_COMPILER, INFER_PLAN_COMPILER_SIZE, fp->compiler))
    return corrupt(name, "unterminated header string");
  return NULL;
}

static InferStatus *parse_sections(const uint8_t *p, const char *name, Header *h) {
  Section *known[6] = {NULL, &h->tensors, &h->layers, &h->io, &h->data, &h->plugins};
  bool seen[6] = {false};
  uint64_t total = h->info.total_size;
  for (uint32_t i = 0; i < h->n_sections; i++) {
    const uint8_t *e = p + INFER_PLAN_FIXED_HEADER + (size_t)i * INFER_PLAN_SECTION_ENTRY;
    Section s = {infer_plan_get_u32(e), infer_plan_get_u32(e + 4), infer_plan_get_u64(e + 8),
                 infer_plan_get_u64(e + 16), infer_plan_get_u64(e + 24)};
    if (s.offset < h->header_size || s.offset > total || s.size > total - s.offset)
      return corrupt(name, "section %u lies outside the file", i);
    if (s.kind >= 1 && s.kind <= INFER_PLAN_SECTION_PLUGINS) {
      if (seen[s.kind]) return corrupt(name, "section kind %u appears twice", s.kind);
      seen[s.kind] = true;
      *known[s.kind] = s;
    } else if (!(s.flags & INFER_PLAN_SECTION_OPTIONAL)) {
      return infer_status_new(INFER_ERR_UNSUPPORTED,
                              "%s has a section of kind %u that this library cannot read", name,
                              s.kind);
    }
  }
  for (int k = 1; k <= 4; k++)
    if (!seen[k]) return corrupt(name, "section kind %d is missing", k);
  if (h->data.offset % INFER_PLAN_DATA_ALIGN) return corrupt(name, "misaligned data section");
  h->info.n_tensors = h->tensors.count;
  h->info.n_layers = h->layers.count;
  h->info.n_io = h->io.count;
  h->info.data_bytes = h->data.size;
  return NULL;
}

InferStatus *infer_plan_read_header(const void *data, size_t size, const char *name,
                                    InferPlanHeaderInfo *out) {
  name = plan_name(name);
  if (!data && size)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "%s: no data given", name);
  Header h;
  INFER_TRY(parse_fixed(data, size, name, &h));
  INFER_TRY(parse_sections(data, name, &h));
  if (out) *out = h.info;
  return NULL;
}

/* The library version and device the plan was built for match this one. */
static InferStatus *check_compatible(const char *name, const InferPlanHeaderInfo *info) {
  const char *ours = infer_version_string();
  if (strcmp(info->library_version, ours) != 0)
    return infer_status_new(INFER_ERR_MISMATCH,
                            "%s was built by infer %s; this is infer %s \xe2\x80\x94 rebuild the plan",
                            name, info->library_version, ours);
  char built[512], here[512];
  infer_device_fingerprint_describe(&info->device, built, sizeof built);
  InferDeviceFingerprint fp;
  InferStatus *st = infer_device_fingerprint(info->backend, &fp);
  if (st) {
    InferStatus *m = infer_status_new(INFER_ERR_MISMATCH,
                                      "%s was built for %s by infer %s; %s", name, built,
                                      info->library_version, infer_status_message(st));
    infer_status_free(st);
    return m;
  }
  if (info->device.backend != (uint32_t)info->backend ||
      !infer_device_fingerprint_equal(&info->device, &fp))
    return infer_status_new(INFER_ERR_MISMATCH, "%s was built for %s by infer %s; this device is %s",
                            name, built, info->library_version,
                            infer_device_fingerprint_describe(&fp, here, sizeof here));
  return NULL;
}

/* ---- body ------------------------------------------------------------- */

/* A cursor over one section: [pos, end) of the file. */
typedef struct Rd {
  const uint8_t *p;
  uint64_t pos, end;
} Rd;

static uint64_t rd_left(const Rd *r) { return r->end - r->pos; }

static bool rd_u32(Rd *r, uint32_t *v) {
  if (rd_left(r) < 4) return false;
  *v = infer_plan_get_u32(r->p + r->pos);
  r->pos += 4;
  return true;
}

static bool rd_i32(Rd *r, int32_t *v) {
  uint32_t u;
  if (!rd_u32(r, &u)) return false;
  *v = (int32_t)u;
  return true;
}

static bool rd_u64(Rd *r, uint64_t *v) {
  if (rd_left(r) < 8) return false;
  *v = infer_plan_get_u64(r->p + r->pos);
  r->pos += 8;
  return true;
}

static bool rd_i64(Rd *r, int64_t *v) {
  uint64_t u;
  if (!rd_u64(r, &u)) return false;
  *v = (int64_t)u;
  return true;
}

static bool rd_bytes(Rd *r, uint64_t n, const uint8_t **out) {
  if (rd_left(r) < n) return false;
  *out = r->p + r->pos;
  r->pos += n;
  return true;
}

/* NUL-terminated copies of strings, in one block. */
typedef struct Arena {
  char *p;
  size_t used, cap;
} Arena;

/* A string of n bytes (no NUL inside) copied into the arena. */
static bool rd_string(Rd *r, uint64_t n, Arena *a, char **out) {
  const uint8_t *s;
  if (!rd_bytes(r, n, &s) || memchr(s, 0, (size_t)n) || a->cap - a->used < n + 1) return false;
  *out = a->p + a->used;
  memcpy(*out, s, (size_t)n);
  (*out)[n] = '\0';
  a->used += (size_t)n + 1;
  return true;
}

static bool rd_shape(Rd *r, InferShape *s, int64_t min_dim) {
  memset(s, 0, sizeof *s);
  if (!rd_i32(r, &s->rank) || s->rank < 0 || s->rank > INFER_MAX_RANK) return false;
  for (int d = 0; d < s->rank; d++)
    if (!rd_i64(r, &s->d[d]) || s->d[d] < min_dim) return false;
  return true;
}

typedef struct PTensor {
  char *name;
  uint32_t flags;
  InferDType dtype;
  InferShape shape;
  char *dim_names[INFER_MAX_RANK];
  uint64_t data_offset, data_size;
  int32_t producer, out_index; /* layer and output slot; -1 when none */
} PTensor;

typedef struct PLayer {
  char *name;
  InferOp op;
  const uint8_t *params;
  size_t params_size;
  int32_t n_in, n_out;
  int32_t *in, *out;
} PLayer;

typedef struct Body {
  PTensor *tensors;
  PLayer *layers;
  int32_t n_tensors, n_layers;
  Arena arena;
  int32_t *ids;
  size_t n_ids, cap_ids;
  int32_t n_inputs, n_io;
  int32_t *io;
  InferShape *io_shapes, *build_shapes, *min_shapes, *max_shapes;
  uint32_t precisions;
  int32_t n_source_layers;
  int32_t *plugin_map;      /* PLUGINS section entry -> plugin table index */
  int32_t n_plugins;
} Body;

static void body_free(Body *b) {
  free(b->tensors);
  free(b->layers);
  free(b->arena.p);
  free(b->ids);
  free(b->io);
  free(b->io_shapes);
  free(b->build_shapes);
  free(b->min_shapes);
  free(b->max_shapes);
  free(b->plugin_map);
}

static Rd section_reader(const uint8_t *p, const Section *s) {
  Rd r = {p, s->offset, s->offset + s->size};
  return r;
}

/* Bytes of a constant of this dtype and shape, or false on overflow. */
static bool constant_bytes(InferDType dtype, const InferShape *s, uint64_t limit, uint64_t *out) {
  uint64_t n = infer_dtype_size(dtype);
  if (n == 0) return false;
  for (int d = 0; d < s->rank; d++) {
    uint64_t dim = (uint64_t)s->d[d];
    if (dim != 0 && n > limit / dim) {
      /* larger than the file can hold, unless another dim is 0 */
      for (int e = 0; e < s->rank; e++)
        if (s->d[e] == 0) {
          *out = 0;
          return true;
        }
      return false;
    }
    n *= dim;
  }
  *out = n;
  return true;
}

static InferStatus *read_tensors(const uint8_t *p, const char *name, const Header *h, Body *b) {
  Rd r = section_reader(p, &h->tensors);
  /* the smallest record: name length, one name byte, flags, dtype, rank */
  if (h->tensors.count > h->tensors.size / 17 || h->tensors.count > INT32_MAX / 2)
    return corrupt(name, "%llu tensors cannot fit in their section",
                   (unsigned long long)h->tensors.count);
  b->n_tensors = (int32_t)h->tensors.count;
  b->tensors = calloc((size_t)b->n_tensors + 1, sizeof *b->tensors);
  if (!b->tensors) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "%s: out of memory", name);
  for (int32_t t = 0; t < b->n_tensors; t++) {
    PTensor *pt = &b->tensors[t];
    pt->producer = pt->out_index = -1;
    uint32_t len, dtype;
    if (!rd_u32(&r, &len) || len == 0 || !rd_string(&r, len, &b->arena, &pt->name))
      return corrupt(name, "bad name of tensor %d", t);
    if (!rd_u32(&r, &pt->flags) || (pt->flags & ~(uint32_t)INFER_PLAN_TENSOR_ALL) ||
        ((pt->flags & INFER_PLAN_TENSOR_INPUT) && (pt->flags & INFER_PLAN_TENSOR_CONSTANT)))
      return corrupt(name, "bad flags of tensor '%s'", pt->name);
    if (!rd_u32(&r, &dtype) || dtype >= INFER_DTYPE_COUNT)
      return corrupt(name, "bad element type of tensor '%s'", pt->name);
    pt->dtype = (InferDType)dtype;
    bool sourced = pt->flags & (INFER_PLAN_TENSOR_INPUT | INFER_PLAN_TENSOR_CONSTANT);
    if (sourced && (dtype == INFER_DTYPE_UNDEFINED || !(pt->flags & INFER_PLAN_TENSOR_SHAPE_KNOWN)))
      return corrupt(name, "tensor '%s' has no element type", pt->name);
    bool constant = pt->flags & INFER_PLAN_TENSOR_CONSTANT;
    if (!rd_shape(&r, &pt->shape, constant ? 0 : -1))
      return corrupt(name, "bad shape of tensor '%s'", pt->name);
    for (int d = 0; d < pt->shape.rank; d++) {
      uint32_t n;
      if (!rd_u32(&r, &n)) return corrupt(name, "bad dimension name of tensor '%s'", pt->name);
      if (n && !rd_string(&r, (uint64_t)n - 1, &b->arena, &pt->dim_names[d]))
        return corrupt(name, "bad dimension name of tensor '%s'", pt->name);
    }
    if (constant) {
      uint64_t need;
      const Section *ds = &h->data;
      if (!rd_u64(&r, &pt->data_offset) || !rd_u64(&r, &pt->data_size))
        return corrupt(name, "constant '%s' has no data", pt->name);
      if (pt->data_offset % INFER_PLAN_DATA_ALIGN || pt->data_offset < ds->offset ||
          pt->data_offset > ds->offset + ds->size ||
          pt->data_size > ds->offset + ds->size - pt->data_offset)
        return corrupt(name, "the data of constant '%s' lies outside the data section", pt->name);
      if (!constant_bytes(pt->dtype, &pt->shape, h->info.total_size, &need) ||
          need != pt->data_size)
        return corrupt(name, "constant '%s' has %llu bytes of data for its shape", pt->name,
                       (unsigned long long)pt->data_size);
      if (pt->dtype == INFER_DTYPE_BOOL)
        for (uint64_t i = 0; i < pt->data_size; i++)
          if (p[pt->data_offset + i] > 1)
            return corrupt(name, "constant '%s' holds a bool that is neither 0 nor 1", pt->name);
    }
  }
  if (rd_left(&r)) return corrupt(name, "extra bytes after the tensors");
  return NULL;
}

/* Bytes of the params that are `bool`: anything but 0 or 1 there is not a
 * value (reading it is undefined), so such a plan is rejected. Fields the
 * table misses are still checked by the shape functions as for any network. */
#define PB(member, field) offsetof(InferOpParams, member.field)
static const size_t bools_conv[] = {PB(conv, has_output_shape), PB(conv, has_residual),
                                    PB(conv, channels_last), PB(conv, quant.int8)};
static const size_t bools_pool[] = {PB(pool, global), PB(pool, ceil_mode),
                                    PB(pool, count_include_pad), PB(pool, channels_last)};
static const size_t bools_gemm[] = {PB(gemm, trans_a), PB(gemm, trans_b), PB(gemm, quant.int8)};
static const size_t bools_softmax[] = {PB(softmax, coerce_2d)};
static const size_t bools_reduce[] = {PB(reduce, keepdims), PB(reduce, noop_with_empty_axes)};
static const size_t bools_argmax[] = {PB(argmax, keepdims), PB(argmax, select_last_index),
                                      PB(argmax, is_min)};
static const size_t bools_topk[] = {PB(topk, largest), PB(topk, sorted)};
static const size_t bools_cumsum[] = {PB(cumsum, exclusive), PB(cumsum, reverse)};
static const size_t bools_nms[] = {PB(nms, center_point_box)};
static const size_t bools_reshape[] = {PB(reshape, allowzero)};
static const size_t bools_resize[] = {PB(resize, exclude_outside)};
static const size_t bools_shape[] = {PB(shape, has_end)};
static const size_t bools_trilu[] = {PB(trilu, upper)};
static const size_t bools_depth_space[] = {PB(depth_space, to_space), PB(depth_space, crd_mode)};
#undef PB

static bool params_bools_valid(InferOp op, const uint8_t *params, size_t size) {
  const size_t *offs = NULL;
  size_t n = 0;
#define CASE(o, arr)            \
  case o:                       \
    offs = arr;                 \
    n = sizeof arr / sizeof *arr; \
    break
  switch (op) {
    CASE(INFER_OP_CONV, bools_conv);
    CASE(INFER_OP_DECONV, bools_conv);
    CASE(INFER_OP_POOL, bools_pool);
    CASE(INFER_OP_GEMM, bools_gemm);
    CASE(INFER_OP_SOFTMAX, bools_softmax);
    CASE(INFER_OP_REDUCE, bools_reduce);
    CASE(INFER_OP_ARGMAX, bools_argmax);
    CASE(INFER_OP_TOPK, bools_topk);
    CASE(INFER_OP_CUMSUM, bools_cumsum);
    CASE(INFER_OP_NMS, bools_nms);
    CASE(INFER_OP_RESHAPE, bools_reshape);
    CASE(INFER_OP_RESIZE, bools_resize);
    CASE(INFER_OP_SHAPE, bools_shape);
    CASE(INFER_OP_TRILU, bools_trilu);
    CASE(INFER_OP_DEPTH_SPACE, bools_depth_space);
    default: break;
  }
#undef CASE
  for (size_t i = 0; i < n; i++)
    if (offs[i] >= size || params[offs[i]] > 1) return false;
  return true;
}

static bool rd_ids(Rd *r, Body *b, uint32_t n, int32_t **out) {
  if (n > rd_left(r) / 4 || b->cap_ids - b->n_ids < n) return false;
  *out = b->ids + b->n_ids;
  b->n_ids += n;
  for (uint32_t i = 0; i < n; i++)
    if (!rd_i32(r, &(*out)[i])) return false;
  return true;
}

static InferStatus *read_layers(const uint8_t *p, const char *name, const Header *h, Body *b) {
  Rd r = section_reader(p, &h->layers);
  /* the smallest record: name length, op, params size, n_inputs, n_outputs, one output */
  if (h->layers.count > h->layers.size / 24 || h->layers.count > INT32_MAX / 2)
    return corrupt(name, "%llu layers cannot fit in their section",
                   (unsigned long long)h->layers.count);
  b->n_layers = (int32_t)h->layers.count;
  b->layers = calloc((size_t)b->n_layers + 1, sizeof *b->layers);
  b->cap_ids = (size_t)(h->layers.size / 4) + 1;
  b->ids = malloc(b->cap_ids * sizeof *b->ids);
  if (!b->layers || !b->ids)
    return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "%s: out of memory", name);
  for (int32_t l = 0; l < b->n_layers; l++) {
    PLayer *pl = &b->layers[l];
    uint32_t len, op, params_size, n_in, n_out;
    if (!rd_u32(&r, &len) || !rd_string(&r, len, &b->arena, &pl->name))
      return corrupt(name, "bad name of layer %d", l);
    const InferOpInfo *info = NULL;
    if (!rd_u32(&r, &op) || op >= INFER_OP_COUNT || !(info = infer_op_info((InferOp)op)))
      return corrupt(name, "layer '%s' has an unknown op", pl->name);
    pl->op = (InferOp)op;
    if (!rd_u32(&r, &params_size) || params_size != info->params_size ||
        !rd_bytes(&r, params_size, &pl->params) ||
        !params_bools_valid(pl->op, pl->params, params_size))
      return corrupt(name, "bad parameters of layer '%s'", pl->name);
    pl->params_size = params_size;
    if (!rd_u32(&r, &n_in) || n_in > PLAN_MAX_LAYER_IO || (int)n_in < info->min_inputs ||
        (info->max_inputs >= 0 && (int)n_in > info->max_inputs) || !rd_ids(&r, b, n_in, &pl->in))
      return corrupt(name, "bad inputs of layer '%s'", pl->name);
    if (!rd_u32(&r, &n_out) || n_out == 0 || n_out > PLAN_MAX_LAYER_IO ||
        (int)n_out < info->min_outputs || (info->max_outputs >= 0 && (int)n_out > info->max_outputs) ||
        !rd_ids(&r, b, n_out, &pl->out))
      return corrupt(name, "bad outputs of layer '%s'", pl->name);
    pl->n_in = (int32_t)n_in;
    pl->n_out = (int32_t)n_out;
    for (int32_t i = 0; i < pl->n_in; i++)
      if (pl->in[i] < -1 || pl->in[i] >= b->n_tensors)
        return corrupt(name, "layer '%s' reads tensor %d", pl->name, pl->in[i]);
    for (int32_t i = 0; i < pl->n_out; i++) {
      int32_t t = pl->out[i];
      if (t < 0 || t >= b->n_tensors)
        return corrupt(name, "layer '%s' writes tensor %d", pl->name, t);
      PTensor *pt = &b->tensors[t];
      if (pt->producer >= 0 || (pt->flags & (INFER_PLAN_TENSOR_INPUT | INFER_PLAN_TENSOR_CONSTANT)))
        return corrupt(name, "layer '%s' writes '%s', which has another source", pl->name,
                       pt->name);
      pt->producer = l;
      pt->out_index = i;
    }
  }
  if (rd_left(&r)) return corrupt(name, "extra bytes after the layers");
  return NULL;
}

static InferStatus *read_io(const uint8_t *p, const char *name, const Header *h, Body *b) {
  Rd r = section_reader(p, &h->io);
  uint32_t n_inputs, n_io;
  if (!rd_u32(&r, &n_inputs) || !rd_u32(&r, &n_io) || n_inputs > n_io ||
      n_io > (uint32_t)b->n_tensors || n_io > rd_left(&r) / 8 || n_io != h->io.count)
    return corrupt(name, "bad io list");
  b->n_inputs = (int32_t)n_inputs;
  b->n_io = (int32_t)n_io;
  b->io = calloc((size_t)n_io + 1, sizeof *b->io);
  b->io_shapes = calloc((size_t)n_io + 1, sizeof *b->io_shapes);
  b->build_shapes = calloc((size_t)n_inputs + 1, sizeof *b->build_shapes);
  b->min_shapes = calloc((size_t)n_inputs + 1, sizeof *b->min_shapes);
  b->max_shapes = calloc((size_t)n_inputs + 1, sizeof *b->max_shapes);
  if (!b->io || !b->io_shapes || !b->build_shapes || !b->min_shapes || !b->max_shapes)
    return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "%s: out of memory", name);
  for (int32_t i = 0; i < b->n_io; i++)
    if (!rd_i32(&r, &b->io[i]) || b->io[i] < 0 || b->io[i] >= b->n_tensors)
      return corrupt(name, "bad io list");
  for (int32_t i = 0; i < b->n_io; i++)
    if (!rd_shape(&r, &b->io_shapes[i], -1)) return corrupt(name, "bad io shape %d", i);
  for (int32_t i = 0; i < b->n_inputs; i++)
    if (!rd_shape(&r, &b->build_shapes[i], 0)) return corrupt(name, "bad build shape %d", i);
  for (int32_t i = 0; i < b->n_inputs; i++)
    if (!rd_shape(&r, &b->min_shapes[i], 0)) return corrupt(name, "bad min shape %d", i);
  for (int32_t i = 0; i < b->n_inputs; i++)
    if (!rd_shape(&r, &b->max_shapes[i], 0)) return corrupt(name, "bad max shape %d", i);
  const uint32_t known = INFER_PRECISION_BEST | INFER_ENGINE_TF32 | INFER_ENGINE_INT8_EXACT;
  if (!rd_u32(&r, &b->precisions) || (b->precisions & ~known))
    return corrupt(name, "bad precisions");
  if (!rd_i32(&r, &b->n_source_layers) || b->n_source_layers < 0)
    return corrupt(name, "bad layer count");
  if (rd_left(&r)) return corrupt(name, "extra bytes after the io list");
  /* inputs are listed in id order and match the flagged tensors, outputs too */
  int32_t flagged_in = 0, flagged_out = 0;
  for (int32_t t = 0; t < b->n_tensors; t++) {
    flagged_in += (b->tensors[t].flags & INFER_PLAN_TENSOR_INPUT) != 0;
    flagged_out += (b->tensors[t].flags & INFER_PLAN_TENSOR_OUTPUT) != 0;
  }
  if (flagged_in != b->n_inputs || flagged_out != b->n_io - b->n_inputs)
    return corrupt(name, "the io list does not match the tensors");
  bool *listed = calloc((size_t)b->n_tensors + 1, sizeof *listed);
  if (!listed) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "%s: out of memory", name);
  InferStatus *st = NULL;
  for (int32_t i = 0; i < b->n_io && !st; i++) {
    const PTensor *pt = &b->tensors[b->io[i]];
    bool input = i < b->n_inputs;
    if (input ? !(pt->flags & INFER_PLAN_TENSOR_INPUT) || (i > 0 && b->io[i] <= b->io[i - 1])
              : !(pt->flags & INFER_PLAN_TENSOR_OUTPUT)) {
      st = corrupt(name, "the io list does not match the tensors");
    } else if (!input && listed[b->io[i]]) {
      st = corrupt(name, "output '%s' is listed twice", pt->name);
    } else if (input) {
      /* min <= opt <= max, and fixed dims as declared */
      const InferShape *decl = &pt->shape, *built = &b->build_shapes[i];
      const InferShape *lo = &b->min_shapes[i], *hi = &b->max_shapes[i];
      bool ok = infer_shape_equal(decl, &b->io_shapes[i]) && built->rank == decl->rank &&
                lo->rank == decl->rank && hi->rank == decl->rank;
      for (int d = 0; ok && d < decl->rank; d++)
        ok = lo->d[d] <= built->d[d] && built->d[d] <= hi->d[d] &&
             (decl->d[d] < 0 || (decl->d[d] == lo->d[d] && decl->d[d] == hi->d[d]));
      if (!ok) st = corrupt(name, "the shapes of input '%s' disagree", pt->name);
    }
    listed[b->io[i]] = true;
  }
  free(listed);
  return st;
}

/* An error from the network API while recreating: the file is at fault. */
static InferStatus *api_error(const char *name, InferStatus *st) {
  if (infer_status_code(st) == INFER_ERR_OUT_OF_MEMORY) return infer_status_prefix(st, "%s", name);
  InferStatus *m = corrupt(name, "%s", infer_status_message(st));
  infer_status_free(st);
  return m;
}

static InferStatus *recreate_layer(InferNetwork *net, const char *name, const Body *b,
                                   const PLayer *pl) {
  InferOpParams params;
  memset(&params, 0, sizeof params);
  memcpy(&params, pl->params, pl->params_size);
  if (pl->op == INFER_OP_PLUGIN)
    INFER_TRY(infer_plugin_plan_fix_params(&params, b->plugin_map, b->n_plugins, pl->name, name));
  const char *out_names[PLAN_MAX_LAYER_IO];
  for (int32_t i = 0; i < pl->n_out; i++) out_names[i] = b->tensors[pl->out[i]].name;
  InferTensorId outs[PLAN_MAX_LAYER_IO];
  InferStatus *st = infer_network_add_layer(net, pl->name, pl->op, &params, pl->n_in, pl->in,
                                            pl->n_out, out_names, outs);
  if (st) return api_error(name, st);
  for (int32_t i = 0; i < pl->n_out; i++)
    if (outs[i] != pl->out[i]) return corrupt(name, "tensors of layer '%s' out of order", pl->name);
  return NULL;
}

/* The network through the API: tensors in id order, each layer when its
 * first output comes up. */
static InferStatus *recreate_network(const uint8_t *p, const char *name, const Body *b,
                                     bool borrow, InferNetwork *net) {
  int32_t next_layer = 0;
  while (net->n_tensors < b->n_tensors) {
    int32_t t = net->n_tensors;
    const PTensor *pt = &b->tensors[t];
    InferTensorId id = INFER_NO_TENSOR;
    InferStatus *st = NULL;
    if (pt->flags & INFER_PLAN_TENSOR_INPUT) {
      st = infer_network_add_input(net, pt->name, pt->dtype, &pt->shape, &id);
    } else if (pt->flags & INFER_PLAN_TENSOR_CONSTANT) {
      st = borrow ? infer_network_add_constant_borrowed(net, pt->name, pt->dtype, &pt->shape,
                                                        p + pt->data_offset, &id)
                  : infer_network_add_constant(net, pt->name, pt->dtype, &pt->shape,
                                               p + pt->data_offset, &id);
    } else if (pt->producer >= 0) {
      if (pt->producer != next_layer || pt->out_index != 0)
        return corrupt(name, "layer '%s' is out of order", b->layers[pt->producer].name);
      INFER_TRY(recreate_layer(net, name, b, &b->layers[next_layer++]));
      continue;
    } else {
      st = infer_network_new_tensor(net, pt->name, &id);
    }
    if (st) return api_error(name, st);
    if (id != t) return corrupt(name, "tensor '%s' out of order", pt->name);
  }
  if (next_layer != b->n_layers) return corrupt(name, "layer %d writes no tensor", next_layer);
  for (int32_t t = 0; t < b->n_tensors; t++) {
    const PTensor *pt = &b->tensors[t];
    InferTensorDef *def = &net->tensors[t];
    if (!(pt->flags & (INFER_PLAN_TENSOR_INPUT | INFER_PLAN_TENSOR_CONSTANT))) {
      def->dtype = pt->dtype;
      def->shape = pt->shape;
      def->shape_known = (pt->flags & INFER_PLAN_TENSOR_SHAPE_KNOWN) != 0;
    }
    for (int d = 0; d < pt->shape.rank; d++) {
      if (!pt->dim_names[d]) continue;
      InferStatus *st = infer_network_set_dim_name(net, t, d, pt->dim_names[d]);
      if (st) return api_error(name, st);
    }
  }
  for (int32_t i = b->n_inputs; i < b->n_io; i++) {
    InferStatus *st = infer_network_mark_output(net, b->io[i]);
    if (st) return api_error(name, st);
  }
  if (net->n_inputs != b->n_inputs || net->n_outputs != b->n_io - b->n_inputs)
    return corrupt(name, "the io list does not match the tensors");
  for (int32_t i = 0; i < b->n_inputs; i++)
    if (net->inputs[i] != b->io[i]) return corrupt(name, "the io list does not match the tensors");
  return NULL;
}

/* The recreated network passes the same checks as a fresh build's. */
static InferStatus *verify_engine(const char *name, const InferEngine *e) {
  const InferBackend *backend = infer_backend_get(e->backend);
  if (!backend)
    return infer_status_new(INFER_ERR_MISMATCH, "%s needs a backend this library lacks", name);
  bool dynamic = false;
  for (int32_t i = 0; i < e->n_inputs; i++)
    for (int d = 0; d < e->io_shapes[i].rank; d++) dynamic |= e->io_shapes[i].d[d] < 0;
  InferShapePass pass;
  InferStatus *st = infer_shape_pass_init(&pass, e->net);
  if (st) return infer_status_prefix(st, "%s", name);
  InferShapePassOptions opt;
  memset(&opt, 0, sizeof opt);
  opt.input_shapes = e->input_build_shapes;
  opt.has_dynamic_dims = dynamic;
  opt.small_value_elems = SMALL_VALUE_ELEMS;
  opt.defer_data_dependent = true;
  st = infer_shape_pass_run(&pass, &opt);
  if (!st) st = backend->supports_network(e->net, &pass);
  infer_shape_pass_free(&pass);
  return st ? infer_status_prefix(st, "%s", name) : NULL;
}

static InferStatus *read_body(const uint8_t *p, const char *name, const Header *h, bool borrow,
                              InferEngine *e) {
  Body b;
  memset(&b, 0, sizeof b);
  /* each string is preceded by a 4-byte length: the sections bound the total */
  uint64_t strings = h->tensors.size + h->layers.size; /* each below total_size */
  if (strings >= SIZE_MAX) return corrupt(name, "sections too large");
  b.arena.cap = (size_t)strings + 1;
  b.arena.p = malloc(b.arena.cap);
  InferStatus *st = NULL;
  if (!b.arena.p) st = infer_status_new(INFER_ERR_OUT_OF_MEMORY, "%s: out of memory", name);
  if (!st) st = read_tensors(p, name, h, &b);
  if (!st) st = read_layers(p, name, h, &b);
  if (!st) st = read_io(p, name, h, &b);
  /* plugin instances come back through the registry before their layers */
  if (!st)
    st = infer_plugin_plan_decode(p + h->plugins.offset, (size_t)h->plugins.size,
                                  h->plugins.count, name, &b.plugin_map, &b.n_plugins);
  if (!st) st = infer_network_create(&e->net);
  if (!st) st = recreate_network(p, name, &b, borrow, e->net);
  if (!st) {
    e->n_inputs = b.n_inputs;
    e->n_io = b.n_io;
    e->io = b.io;
    e->io_shapes = b.io_shapes;
    e->input_build_shapes = b.build_shapes;
    e->input_min_shapes = b.min_shapes;
    e->input_max_shapes = b.max_shapes;
    e->precisions = b.precisions;
    e->n_source_layers = b.n_source_layers;
    b.io = NULL;
    b.io_shapes = b.build_shapes = b.min_shapes = b.max_shapes = NULL;
  }
  body_free(&b);
  if (!st) st = infer_engine_find_host_inputs(e);
  return st;
}

/* borrow: constants point into data, which must outlive the engine. */
static InferStatus *deserialize(const void *data, size_t size, const char *name_for_messages,
                                bool borrow, InferEngine **out) {
  const char *name = plan_name(name_for_messages);
  if (!out) return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "%s: no output given", name);
  *out = NULL;
  if (!data && size)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "%s: no data given", name);
  const uint8_t *p = data;
  Header h;
  INFER_TRY(parse_fixed(p, size, name, &h));
  INFER_TRY(check_compatible(name, &h.info));
  INFER_TRY(parse_sections(p, name, &h));
  InferEngine *e = calloc(1, sizeof *e);
  if (!e) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "%s: out of memory", name);
  e->backend = h.info.backend;
  e->source_hash = h.info.source_hash;
  InferStatus *st = read_body(p, name, &h, borrow, e);
  if (!st) st = verify_engine(name, e);
  if (!st) {
    const InferBackend *be = infer_backend_get(e->backend);
    if (be && be->prepare_engine) st = be->prepare_engine(e);
  }
  if (st) {
    infer_engine_release(e);
    return st;
  }
  *out = e;
  return NULL;
}

InferStatus *infer_engine_deserialize(const void *data, size_t size, const char *name_for_messages,
                                      InferEngine **out) {
  return deserialize(data, size, name_for_messages, false, out);
}

/* Loading maps the file and uses the weights where they lie (they are
 * 64-byte aligned in the file): no copy, pages come in as they are touched
 * (the checksum touches them all once). */
InferStatus *infer_engine_load(const char *path, InferEngine **out) {
  if (!out) return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "load: no output given");
  *out = NULL;
  if (!path) return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "load: no path given");
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return infer_status_new(INFER_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
  struct stat sb;
  if (fstat(fd, &sb) != 0) {
    int err = errno;
    close(fd);
    return infer_status_new(INFER_ERR_IO, "cannot read '%s': %s", path, strerror(err));
  }
  if (!S_ISREG(sb.st_mode)) {
    close(fd);
    return infer_status_new(INFER_ERR_IO, "cannot read '%s': %s", path,
                            S_ISDIR(sb.st_mode) ? "it is a directory" : "not a regular file");
  }
  size_t size = (size_t)sb.st_size;
  if (size == 0) {
    close(fd);
    return deserialize("", 0, path, false, out);
  }
  void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
  int err = errno;
  close(fd);
  if (map == MAP_FAILED)
    return infer_status_new(INFER_ERR_IO, "cannot map '%s': %s", path, strerror(err));
  InferStatus *st = deserialize(map, size, path, true, out);
  if (st) {
    munmap(map, size);
    return st;
  }
  (*out)->mapping = map;
  (*out)->mapping_size = size;
  return NULL;
}
