/* The PLUGINS section of plan files (layout in runtime/plan_format.h): the
 * serialized instances an engine's plugin layers use, re-created through
 * the registry when the plan loads. Nothing read is trusted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "network_internal.h"
#include "plugin_internal.h"
#include "runtime/plan_format.h"

static void put32(uint8_t *p, size_t *at, uint32_t v) {
  infer_plan_put_u32(p + *at, v);
  *at += 4;
}

static void put_bytes(uint8_t *p, size_t *at, const void *src, size_t n) {
  if (n) memcpy(p + *at, src, n);
  *at += n;
}

InferStatus *infer_plugin_plan_encode(const InferNetwork *net, uint8_t **bytes, size_t *size,
                                      uint64_t *count, int32_t **slots) {
  *bytes = NULL;
  *size = 0;
  *count = 0;
  int32_t *slot = malloc(sizeof *slot * (size_t)(net->n_layers + 1));
  int32_t *used = malloc(sizeof *used * (size_t)(net->n_layers + 1)); /* section -> table */
  if (!slot || !used) {
    free(slot);
    free(used);
    return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "serialize: out of memory");
  }
  int32_t n_used = 0;
  size_t total = 0;
  InferStatus *st = NULL;
  for (int32_t l = 0; l < net->n_layers && !st; l++) {
    slot[l] = -1;
    const InferLayer *layer = &net->layers[l];
    if (layer->op != INFER_OP_PLUGIN) continue;
    int32_t index = layer->params.plugin.data_index;
    const InferPluginCreator *c;
    size_t n;
    if (!infer_plugin_table_get(index, &c, NULL, &n)) {
      st = infer_status_new(INFER_ERR_INTERNAL, "serialize: layer '%s' names no plugin instance",
                            layer->name);
      break;
    }
    for (int32_t k = 0; k < n_used && slot[l] < 0; k++)
      if (used[k] == index) slot[l] = k;
    if (slot[l] >= 0) continue;
    slot[l] = n_used;
    used[n_used++] = index;
    total += 4 + strlen(c->name) + 4 + strlen(c->version) + 8 + n;
  }
  uint8_t *p = st ? NULL : malloc(total ? total : 1);
  if (!st && !p) st = infer_status_new(INFER_ERR_OUT_OF_MEMORY, "serialize: out of memory");
  size_t at = 0;
  for (int32_t k = 0; k < n_used && !st; k++) {
    const InferPluginCreator *c;
    const void *data;
    size_t n;
    infer_plugin_table_get(used[k], &c, &data, &n);
    put32(p, &at, (uint32_t)strlen(c->name));
    put_bytes(p, &at, c->name, strlen(c->name));
    put32(p, &at, (uint32_t)strlen(c->version));
    put_bytes(p, &at, c->version, strlen(c->version));
    infer_plan_put_u64(p + at, (uint64_t)n);
    at += 8;
    put_bytes(p, &at, data, n);
  }
  free(used);
  if (st) {
    free(slot);
    free(p);
    return st;
  }
  *bytes = p;
  *size = at;
  *count = (uint64_t)n_used;
  *slots = slot;
  return NULL;
}

/* A string of the section into buf (size bytes with the NUL). */
static bool rd_string(const uint8_t *p, size_t size, size_t *at, char *buf, size_t cap) {
  if (size - *at < 4) return false;
  uint32_t n = infer_plan_get_u32(p + *at);
  *at += 4;
  if (n == 0 || n >= cap || size - *at < n || memchr(p + *at, 0, n)) return false;
  memcpy(buf, p + *at, n);
  buf[n] = '\0';
  *at += n;
  return true;
}

InferStatus *infer_plugin_plan_decode(const uint8_t *p, size_t size, uint64_t count,
                                      const char *plan, int32_t **map, int32_t *n) {
  *map = NULL;
  *n = 0;
  /* the smallest entry: two 1-byte strings with their lengths, a size */
  if (count > size / 18)
    return infer_status_new(INFER_ERR_PARSE, "%s is corrupt (%llu plugins cannot fit in their "
                            "section)", plan, (unsigned long long)count);
  int32_t *m = malloc(sizeof *m * (size_t)(count + 1));
  if (!m) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "%s: out of memory", plan);
  size_t at = 0;
  InferStatus *st = NULL;
  for (uint64_t i = 0; i < count && !st; i++) {
    char name[INFER_PLUGIN_NAME_SIZE], version[INFER_PLUGIN_VERSION_SIZE];
    if (!rd_string(p, size, &at, name, sizeof name) ||
        !rd_string(p, size, &at, version, sizeof version) || size - at < 8) {
      st = infer_status_new(INFER_ERR_PARSE, "%s is corrupt (bad plugin entry %llu)", plan,
                            (unsigned long long)i);
      break;
    }
    uint64_t len = infer_plan_get_u64(p + at);
    at += 8;
    if (len > size - at) {
      st = infer_status_new(INFER_ERR_PARSE, "%s is corrupt (plugin '%s' has %llu bytes, the "
                            "section holds fewer)", plan, name, (unsigned long long)len);
      break;
    }
    const InferPluginCreator *c = infer_plugin_find(name, version);
    if (!c) {
      char what[1024];
      snprintf(what, sizeof what, "%s: plan", plan);
      st = infer_plugin_not_registered(what, name, version);
      break;
    }
    char layer[300];
    snprintf(layer, sizeof layer, "%s plugin %llu", plan, (unsigned long long)i);
    st = infer_plugin_table_add_bytes(c, p + at, (size_t)len, layer, &m[i]);
    at += (size_t)len;
  }
  if (!st && at != size)
    st = infer_status_new(INFER_ERR_PARSE, "%s is corrupt (extra bytes after the plugins)", plan);
  if (st) {
    free(m);
    return st;
  }
  *map = m;
  *n = (int32_t)count;
  return NULL;
}

InferStatus *infer_plugin_plan_fix_params(InferOpParams *params, const int32_t *map, int32_t n,
                                          const char *layer, const char *plan) {
  InferPluginParams *pp = &params->plugin;
  int32_t k = pp->data_index;
  const InferPluginCreator *c;
  bool ok = memchr(pp->name, 0, sizeof pp->name) && memchr(pp->version, 0, sizeof pp->version) &&
            k >= 0 && k < n && infer_plugin_table_get(map[k], &c, NULL, NULL) &&
            strcmp(c->name, pp->name) == 0 && strcmp(c->version, pp->version) == 0;
  if (!ok)
    return infer_status_new(INFER_ERR_PARSE, "%s is corrupt (layer '%s' names a plugin the plan "
                            "does not hold)", plan, layer);
  pp->data_index = map[k];
  return NULL;
}
