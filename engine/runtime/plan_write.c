/* Writing engine plans: an engine's network, io and build shapes as one
 * little-endian, checksummed blob (layout in plan_format.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine_internal.h"
#include "op_table.h"
#include "plan_format.h"
#include "plugins/plugin_internal.h"

/* The most inputs or outputs one layer may have (the runtime's limit). */
#define PLAN_MAX_LAYER_IO 256

void infer_plan_put_u32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

void infer_plan_put_u64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

uint32_t infer_plan_get_u32(const uint8_t *p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
  return v;
}

uint64_t infer_plan_get_u64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
  return v;
}

/* The checksum: 64-bit words through four independent lanes of
 * multiply-rotate rounds (as in xxHash64), about ten times faster than a
 * byte-wise FNV on large plans. Each round is a bijection of its lane for a
 * given word and of the word for a given lane, and the lanes combine
 * bijectively, so any change confined to one 8-byte word (any single-byte
 * change) always changes the result. */
#define CK_P1 0x9E3779B185EBCA87ull
#define CK_P2 0xC2B2AE3D27D4EB4Full

static inline uint64_t ck_load(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}

static inline uint64_t ck_rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
static inline uint64_t ck_round(uint64_t lane, uint64_t word) {
  return ck_rotl(lane + word * CK_P2, 31) * CK_P1;
}

static uint64_t ck_hash(const uint8_t *p, size_t n, uint64_t seed) {
  uint64_t l0 = seed + CK_P1 + CK_P2, l1 = seed + CK_P2, l2 = seed, l3 = seed - CK_P1;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    l0 = ck_round(l0, ck_load(p + i));
    l1 = ck_round(l1, ck_load(p + i + 8));
    l2 = ck_round(l2, ck_load(p + i + 16));
    l3 = ck_round(l3, ck_load(p + i + 24));
  }
  uint64_t h = ck_rotl(l0, 1) + ck_rotl(l1, 7) + ck_rotl(l2, 12) + ck_rotl(l3, 18);
  h += (uint64_t)n;
  for (; i + 8 <= n; i += 8) h = ck_rotl(h ^ ck_round(0, ck_load(p + i)), 27) * CK_P1;
  for (; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

uint64_t infer_plan_checksum(const uint8_t *plan, size_t size) {
  uint64_t seed = infer_hash64(plan, INFER_PLAN_OFF_CHECKSUM, 0);
  return ck_hash(plan + INFER_PLAN_OFF_TOTAL_SIZE, size - INFER_PLAN_OFF_TOTAL_SIZE, seed);
}

uint64_t infer_engine_source_hash(const InferEngine *engine) {
  return engine ? engine->source_hash : 0;
}

/* ---- a growable byte buffer ------------------------------------------- */

typedef struct Buf {
  uint8_t *p;
  size_t len, cap;
  bool oom;
} Buf;

static bool buf_grow(Buf *b, size_t extra) {
  if (b->oom) return false;
  if (extra > SIZE_MAX - b->len) {
    b->oom = true;
    return false;
  }
  size_t need = b->len + extra;
  if (need <= b->cap) return true;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  uint8_t *p = realloc(b->p, cap);
  if (!p) {
    b->oom = true;
    return false;
  }
  b->p = p;
  b->cap = cap;
  return true;
}

static void put_bytes(Buf *b, const void *data, size_t n) {
  if (!n || !buf_grow(b, n)) return;
  memcpy(b->p + b->len, data, n);
  b->len += n;
}

static void put_zeros(Buf *b, size_t n) {
  if (!n || !buf_grow(b, n)) return;
  memset(b->p + b->len, 0, n);
  b->len += n;
}

static void put_u32(Buf *b, uint32_t v) {
  uint8_t t[4];
  infer_plan_put_u32(t, v);
  put_bytes(b, t, 4);
}

static void put_u64(Buf *b, uint64_t v) {
  uint8_t t[8];
  infer_plan_put_u64(t, v);
  put_bytes(b, t, 8);
}

static void put_i32(Buf *b, int32_t v) { put_u32(b, (uint32_t)v); }
static void put_i64(Buf *b, int64_t v) { put_u64(b, (uint64_t)v); }

static void put_align(Buf *b, size_t a) {
  if (b->len % a) put_zeros(b, a - b->len % a);
}

static void put_string(Buf *b, const char *s) {
  size_t n = strlen(s);
  put_u32(b, (uint32_t)n);
  put_bytes(b, s, n);
}

static void put_shape(Buf *b, const InferShape *s) {
  put_i32(b, s->rank);
  for (int d = 0; d < s->rank; d++) put_i64(b, s->d[d]);
}

/* ---- tensor order ------------------------------------------------------ */

/* The order the reader recreates tensors in (new id -> old id): inputs, then
 * per layer its not yet placed constant inputs and its outputs, then the
 * rest. For engines built by infer_engine_build this is the identity. */
static InferStatus *plan_order(const InferNetwork *net, int32_t *order, int32_t *remap) {
  int32_t n = 0;
  for (int32_t t = 0; t < net->n_tensors; t++) remap[t] = -1;
  for (int32_t i = 0; i < net->n_inputs; i++) {
    InferTensorId t = net->inputs[i];
    if (t < 0 || t >= net->n_tensors || remap[t] >= 0)
      return infer_status_new(INFER_ERR_INTERNAL, "serialize: bad input list");
    remap[t] = n;
    order[n++] = t;
  }
  for (int32_t l = 0; l < net->n_layers; l++) {
    const InferLayer *layer = &net->layers[l];
    for (int i = 0; i < layer->n_inputs; i++) {
      InferTensorId t = layer->inputs[i];
      if (t == INFER_NO_TENSOR) continue;
      if (t < 0 || t >= net->n_tensors)
        return infer_status_new(INFER_ERR_INTERNAL, "serialize: layer '%s' reads tensor %d",
                                layer->name, t);
      if (remap[t] >= 0) continue;
      if (net->tensors[t].producer >= 0)
        return infer_status_new(INFER_ERR_INTERNAL,
                                "serialize: layer '%s' reads '%s' before its producer runs",
                                layer->name, net->tensors[t].name);
      remap[t] = n;
      order[n++] = t;
    }
    for (int i = 0; i < layer->n_outputs; i++) {
      InferTensorId t = layer->outputs[i];
      if (t < 0 || t >= net->n_tensors || remap[t] >= 0)
        return infer_status_new(INFER_ERR_INTERNAL, "serialize: layer '%s' has a bad output",
                                layer->name);
      remap[t] = n;
      order[n++] = t;
    }
  }
  for (int32_t t = 0; t < net->n_tensors; t++)
    if (remap[t] < 0) {
      remap[t] = n;
      order[n++] = t;
    }
  return NULL;
}

/* Checks the engine holds only what a reader accepts back. */
static InferStatus *check_engine(const InferEngine *e) {
  const InferNetwork *net = e->net;
  if (!net) return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "serialize: engine has no network");
  for (int32_t t = 0; t < net->n_tensors; t++) {
    const InferTensorDef *d = &net->tensors[t];
    if (!d->name || !d->name[0] || strlen(d->name) > UINT32_MAX / 2)
      return infer_status_new(INFER_ERR_INTERNAL, "serialize: tensor %d has a bad name", t);
    if (d->shape.rank < 0 || d->shape.rank > INFER_MAX_RANK || (int)d->dtype < 0 ||
        d->dtype >= INFER_DTYPE_COUNT)
      return infer_status_new(INFER_ERR_INTERNAL, "serialize: tensor '%s' has a bad shape or type",
                              d->name);
    if (infer_tensor_is_constant(d)) {
      int64_t n = infer_shape_numel(&d->shape);
      if (n < 0 || (size_t)n * infer_dtype_size(d->dtype) != d->nbytes ||
          infer_dtype_size(d->dtype) == 0)
        return infer_status_new(INFER_ERR_INTERNAL,
                                "serialize: constant '%s' holds %zu bytes, its shape needs more",
                                d->name, d->nbytes);
    }
  }
  for (int32_t l = 0; l < net->n_layers; l++) {
    const InferLayer *layer = &net->layers[l];
    if (!infer_op_info(layer->op))
      return infer_status_new(INFER_ERR_INTERNAL, "serialize: layer %d has a bad op", l);
    if (layer->n_inputs > PLAN_MAX_LAYER_IO || layer->n_outputs > PLAN_MAX_LAYER_IO)
      return infer_status_new(INFER_ERR_UNSUPPORTED,
                              "serialize: layer '%s' has more than %d inputs or outputs",
                              layer->name, PLAN_MAX_LAYER_IO);
  }
  if (e->n_inputs != net->n_inputs || e->n_io != net->n_inputs + net->n_outputs)
    return infer_status_new(INFER_ERR_INTERNAL, "serialize: engine io does not match its network");
  for (int32_t i = 0; i < e->n_io; i++)
    if (e->io[i] < 0 || e->io[i] >= net->n_tensors)
      return infer_status_new(INFER_ERR_INTERNAL, "serialize: engine io %d is not a tensor", i);
  return NULL;
}

static void write_tensors(Buf *b, const InferNetwork *net, const int32_t *order,
                          size_t *data_field) {
  for (int32_t n = 0; n < net->n_tensors; n++) {
    const InferTensorDef *t = &net->tensors[order[n]];
    uint32_t flags = 0;
    if (t->is_input) flags |= INFER_PLAN_TENSOR_INPUT;
    if (t->is_output) flags |= INFER_PLAN_TENSOR_OUTPUT;
    if (infer_tensor_is_constant(t)) flags |= INFER_PLAN_TENSOR_CONSTANT;
    if (t->shape_known) flags |= INFER_PLAN_TENSOR_SHAPE_KNOWN;
    put_string(b, t->name);
    put_u32(b, flags);
    put_u32(b, (uint32_t)t->dtype);
    put_shape(b, &t->shape);
    for (int d = 0; d < t->shape.rank; d++) {
      const char *dn = t->dim_names[d];
      put_u32(b, dn ? (uint32_t)strlen(dn) + 1 : 0);
      if (dn) put_bytes(b, dn, strlen(dn));
    }
    data_field[n] = 0;
    if (flags & INFER_PLAN_TENSOR_CONSTANT) {
      data_field[n] = b->len;
      put_u64(b, 0); /* patched when the data section is written */
      put_u64(b, (uint64_t)t->nbytes);
    }
  }
}

/* plugin_slots[l]: the PLUGINS section entry a plugin layer's params name
 * in the file (in memory they name the process-wide plugin table). */
static void write_layers(Buf *b, const InferNetwork *net, const int32_t *remap,
                         const int32_t *plugin_slots) {
  for (int32_t l = 0; l < net->n_layers; l++) {
    const InferLayer *layer = &net->layers[l];
    const InferOpInfo *info = infer_op_info(layer->op);
    put_string(b, layer->name ? layer->name : "");
    put_u32(b, (uint32_t)layer->op);
    put_u32(b, (uint32_t)info->params_size);
    InferOpParams params = layer->params;
    if (layer->op == INFER_OP_PLUGIN) params.plugin.data_index = plugin_slots[l];
    put_bytes(b, &params, info->params_size);
    put_u32(b, (uint32_t)layer->n_inputs);
    for (int i = 0; i < layer->n_inputs; i++)
      put_i32(b, layer->inputs[i] == INFER_NO_TENSOR ? -1 : remap[layer->inputs[i]]);
    put_u32(b, (uint32_t)layer->n_outputs);
    for (int i = 0; i < layer->n_outputs; i++) put_i32(b, remap[layer->outputs[i]]);
  }
}

/* Every field of InferEngine besides the network is written here and read
 * back in plan_read.c (read_io): a field added to the engine belongs in both
 * (and in the layout comment of plan_format.h). */
static void write_io(Buf *b, const InferEngine *e, const int32_t *remap) {
  put_u32(b, (uint32_t)e->n_inputs);
  put_u32(b, (uint32_t)e->n_io);
  for (int32_t i = 0; i < e->n_io; i++) put_i32(b, remap[e->io[i]]);
  for (int32_t i = 0; i < e->n_io; i++) put_shape(b, &e->io_shapes[i]);
  for (int32_t i = 0; i < e->n_inputs; i++) put_shape(b, &e->input_build_shapes[i]);
  for (int32_t i = 0; i < e->n_inputs; i++) put_shape(b, &e->input_min_shapes[i]);
  for (int32_t i = 0; i < e->n_inputs; i++) put_shape(b, &e->input_max_shapes[i]);
  put_u32(b, e->precisions);
  put_i32(b, e->n_source_layers);
}

static void put_fixed_string(uint8_t *dst, size_t size, const char *s) {
  memset(dst, 0, size);
  size_t n = strlen(s);
  if (n >= size) n = size - 1;
  memcpy(dst, s, n);
}

typedef struct SectionEntry {
  uint32_t kind;
  size_t offset, size;
  uint64_t count;
} SectionEntry;

static InferStatus *serialize(const InferEngine *e, Buf *b) {
  const InferNetwork *net = e->net;
  InferDeviceFingerprint fp;
  INFER_TRY(infer_device_fingerprint(e->backend, &fp));
  const char *version = infer_version_string();
  if (strlen(version) >= INFER_PLAN_LIB_VERSION_SIZE)
    return infer_status_new(INFER_ERR_INTERNAL, "serialize: version string too long");

  size_t nt = (size_t)net->n_tensors + 1;
  int32_t *order = malloc(nt * sizeof *order);
  int32_t *remap = malloc(nt * sizeof *remap);
  size_t *data_field = calloc(nt, sizeof *data_field);
  InferStatus *st = NULL;
  if (!order || !remap || !data_field)
    st = infer_status_new(INFER_ERR_OUT_OF_MEMORY, "serialize: out of memory");
  if (!st) st = plan_order(net, order, remap);
  uint8_t *plugins = NULL;
  size_t plugins_size = 0;
  uint64_t n_plugins = 0;
  int32_t *plugin_slots = NULL;
  if (!st) st = infer_plugin_plan_encode(net, &plugins, &plugins_size, &n_plugins, &plugin_slots);
  if (st) {
    free(order);
    free(remap);
    free(data_field);
    return st;
  }

  enum { N_SECTIONS = 5 };
  const size_t header_size = INFER_PLAN_FIXED_HEADER + N_SECTIONS * INFER_PLAN_SECTION_ENTRY;
  SectionEntry sec[N_SECTIONS];
  put_zeros(b, header_size);

  put_align(b, 8);
  sec[0] = (SectionEntry){INFER_PLAN_SECTION_TENSORS, b->len, 0, (uint64_t)net->n_tensors};
  write_tensors(b, net, order, data_field);
  sec[0].size = b->len - sec[0].offset;

  put_align(b, 8);
  sec[1] = (SectionEntry){INFER_PLAN_SECTION_LAYERS, b->len, 0, (uint64_t)net->n_layers};
  write_layers(b, net, remap, plugin_slots);
  sec[1].size = b->len - sec[1].offset;

  put_align(b, 8);
  sec[2] = (SectionEntry){INFER_PLAN_SECTION_IO, b->len, 0, (uint64_t)e->n_io};
  write_io(b, e, remap);
  sec[2].size = b->len - sec[2].offset;

  put_align(b, 8);
  sec[4] = (SectionEntry){INFER_PLAN_SECTION_PLUGINS, b->len, plugins_size, n_plugins};
  put_bytes(b, plugins, plugins_size);
  free(plugins);
  free(plugin_slots);

  put_align(b, INFER_PLAN_DATA_ALIGN);
  sec[3] = (SectionEntry){INFER_PLAN_SECTION_DATA, b->len, 0, 0};
  for (int32_t n = 0; n < net->n_tensors && !b->oom; n++) {
    if (!data_field[n]) continue;
    const InferTensorDef *t = &net->tensors[order[n]];
    put_align(b, INFER_PLAN_DATA_ALIGN);
    if (b->oom) break;
    infer_plan_put_u64(b->p + data_field[n], (uint64_t)b->len);
    put_bytes(b, t->data, t->nbytes);
    sec[3].count++;
  }
  sec[3].size = b->len - sec[3].offset;
  free(order);
  free(remap);
  free(data_field);
  if (b->oom) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "serialize: out of memory");

  uint8_t *h = b->p;
  memcpy(h + INFER_PLAN_OFF_MAGIC, INFER_PLAN_MAGIC, INFER_PLAN_MAGIC_SIZE);
  infer_plan_put_u32(h + INFER_PLAN_OFF_VERSION, INFER_PLAN_FORMAT_VERSION);
  infer_plan_put_u32(h + INFER_PLAN_OFF_HEADER_SIZE, (uint32_t)header_size);
  infer_plan_put_u64(h + INFER_PLAN_OFF_TOTAL_SIZE, (uint64_t)b->len);
  put_fixed_string(h + INFER_PLAN_OFF_LIB_VERSION, INFER_PLAN_LIB_VERSION_SIZE, version);
  infer_plan_put_u32(h + INFER_PLAN_OFF_BACKEND, (uint32_t)e->backend);
  infer_plan_put_u32(h + INFER_PLAN_OFF_N_SECTIONS, N_SECTIONS);
  infer_plan_put_u64(h + INFER_PLAN_OFF_SOURCE_HASH, e->source_hash);
  infer_plan_put_u32(h + INFER_PLAN_OFF_FP_BACKEND, fp.backend);
  infer_plan_put_u32(h + INFER_PLAN_OFF_FP_CC_MAJOR, (uint32_t)fp.cc_major);
  infer_plan_put_u32(h + INFER_PLAN_OFF_FP_CC_MINOR, (uint32_t)fp.cc_minor);
  infer_plan_put_u32(h + INFER_PLAN_OFF_FP_CUDA, fp.cuda_version);
  infer_plan_put_u32(h + INFER_PLAN_OFF_FP_CUDNN, fp.cudnn_version);
  infer_plan_put_u32(h + INFER_PLAN_OFF_FP_CUBLAS, fp.cublas_version);
  put_fixed_string(h + INFER_PLAN_OFF_FP_DEVICE, INFER_PLAN_DEVICE_NAME_SIZE, fp.device_name);
  put_fixed_string(h + INFER_PLAN_OFF_FP_FEATURES, INFER_PLAN_FEATURES_SIZE, fp.cpu_features);
  put_fixed_string(h + INFER_PLAN_OFF_FP_COMPILER, INFER_PLAN_COMPILER_SIZE, fp.compiler);
  for (int i = 0; i < N_SECTIONS; i++) {
    uint8_t *s = h + INFER_PLAN_FIXED_HEADER + (size_t)i * INFER_PLAN_SECTION_ENTRY;
    infer_plan_put_u32(s, sec[i].kind);
    infer_plan_put_u32(s + 4, 0);
    infer_plan_put_u64(s + 8, (uint64_t)sec[i].offset);
    infer_plan_put_u64(s + 16, (uint64_t)sec[i].size);
    infer_plan_put_u64(s + 24, sec[i].count);
  }
  infer_plan_put_u64(h + INFER_PLAN_OFF_CHECKSUM, infer_plan_checksum(h, b->len));
  return NULL;
}

InferStatus *infer_engine_serialize(const InferEngine *engine, void **data, size_t *size) {
  if (data) *data = NULL;
  if (size) *size = 0;
  if (!engine || !data || !size)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "serialize: engine, data and size are required");
  INFER_TRY(check_engine(engine));
  Buf b = {NULL, 0, 0, false};
  InferStatus *st = serialize(engine, &b);
  if (st) {
    free(b.p);
    return st;
  }
  *data = b.p;
  *size = b.len;
  return NULL;
}

InferStatus *infer_engine_save(const InferEngine *engine, const char *path) {
  if (!path) return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "save: no path given");
  void *data;
  size_t size;
  INFER_TRY(infer_engine_serialize(engine, &data, &size));
  /* write beside it and rename: a reader (or an engine mapping the old
   * plan) never sees a half-written file */
  size_t tmp_len = strlen(path) + 16;
  char *tmp = malloc(tmp_len);
  if (!tmp) {
    free(data);
    return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "cannot write '%s': out of memory", path);
  }
  snprintf(tmp, tmp_len, "%s.tmp%ld", path, (long)getpid());
  FILE *f = fopen(tmp, "wb");
  if (!f) {
    int err = errno;
    free(data);
    free(tmp);
    return infer_status_new(INFER_ERR_IO, "cannot write '%s': %s", path, strerror(err));
  }
  bool ok = fwrite(data, 1, size, f) == size;
  int err = errno;
  if (fclose(f) != 0 && ok) {
    ok = false;
    err = errno;
  }
  free(data);
  if (ok && rename(tmp, path) != 0) {
    ok = false;
    err = errno;
  }
  if (!ok) {
    remove(tmp);
    free(tmp);
    return infer_status_new(INFER_ERR_IO, "cannot write '%s': %s", path, strerror(err));
  }
  free(tmp);
  return NULL;
}
