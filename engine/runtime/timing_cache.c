/* The timing cache file; see timing_cache.h. */
#include "timing_cache.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op_table.h"

#define HEADER "infer-timing-cache 1"

void infer_timing_cache_free(InferTimingCache *c) {
  for (int32_t i = 0; i < c->n; i++) free(c->entries[i].device);
  free(c->entries);
  memset(c, 0, sizeof *c);
}

static InferStatus *add(InferTimingCache *c, const char *device, size_t device_len, uint64_t key,
                        int32_t tactic, double ms) {
  if (c->n == c->cap) {
    int32_t cap = c->cap ? c->cap * 2 : 64;
    InferTimingEntry *e = realloc(c->entries, sizeof *e * (size_t)cap);
    if (!e) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "timing cache: out of memory");
    c->entries = e;
    c->cap = cap;
  }
  char *d = strndup(device, device_len);
  if (!d) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "timing cache: out of memory");
  c->entries[c->n++] = (InferTimingEntry){d, key, tactic, ms};
  return NULL;
}

static InferStatus *parse_line(InferTimingCache *c, const char *path, int line_no, char *line) {
  char *tab1 = strchr(line, '\t');
  char *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
  char *tab3 = tab2 ? strchr(tab2 + 1, '\t') : NULL;
  if (!tab3)
    return infer_status_new(INFER_ERR_PARSE,
                            "%s:%d: expected '<device>\\t<key>\\t<tactic>\\t<ms>'", path, line_no);
  char *end;
  errno = 0;
  uint64_t key = strtoull(tab1 + 1, &end, 16);
  bool bad = end != tab2 || errno;
  long tactic = strtol(tab2 + 1, &end, 10);
  bad |= end != tab3 || tactic < 0 || tactic > INT32_MAX;
  double ms = strtod(tab3 + 1, &end);
  bad |= end == tab3 + 1 || (*end && *end != '\n' && *end != '\r');
  if (bad) return infer_status_new(INFER_ERR_PARSE, "%s:%d: malformed entry", path, line_no);
  return add(c, line, (size_t)(tab1 - line), key, (int32_t)tactic, ms);
}

InferStatus *infer_timing_cache_load(InferTimingCache *c, const char *path) {
  memset(c, 0, sizeof *c);
  FILE *f = fopen(path, "r");
  if (!f) {
    if (errno == ENOENT) return NULL;
    return infer_status_new(INFER_ERR_IO, "timing cache %s: %s", path, strerror(errno));
  }
  char line[1024];
  int line_no = 0;
  InferStatus *st = NULL;
  while (!st && fgets(line, sizeof line, f)) {
    line_no++;
    if (line_no == 1) {
      if (strncmp(line, HEADER, strlen(HEADER)) != 0)
        st = infer_status_new(INFER_ERR_PARSE, "%s:1: not a timing cache (expected '%s')", path,
                              HEADER);
      continue;
    }
    if (line[0] == '\n' || line[0] == '#') continue;
    st = parse_line(c, path, line_no, line);
  }
  fclose(f);
  if (st) infer_timing_cache_free(c);
  return st;
}

InferStatus *infer_timing_cache_save(const InferTimingCache *c, const char *path) {
  size_t n = strlen(path) + 8;
  char *tmp = malloc(n);
  if (!tmp) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "timing cache: out of memory");
  snprintf(tmp, n, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (!f) {
    InferStatus *st = infer_status_new(INFER_ERR_IO, "timing cache %s: %s", tmp, strerror(errno));
    free(tmp);
    return st;
  }
  fprintf(f, "%s\n", HEADER);
  for (int32_t i = 0; i < c->n; i++)
    fprintf(f, "%s\t%016" PRIx64 "\t%d\t%.6f\n", c->entries[i].device, c->entries[i].key,
            c->entries[i].tactic, c->entries[i].ms);
  bool ok = fclose(f) == 0;
  /* replace atomically: a build killed mid-write leaves the old cache */
  InferStatus *st = NULL;
  if (!ok || rename(tmp, path) != 0) {
    st = infer_status_new(INFER_ERR_IO, "timing cache %s: %s", path, strerror(errno));
    remove(tmp);
  }
  free(tmp);
  return st;
}

uint64_t infer_timing_key(const InferOpCall *call) {
  const InferOpInfo *info = infer_op_info(call->op);
  InferOpParams p;
  memset(&p, 0, sizeof p);
  if (info && info->params_size <= sizeof p) memcpy(&p, call->params, info->params_size);
  if (call->op == INFER_OP_CONV || call->op == INFER_OP_DECONV) p.conv.tactic = 0;
  uint64_t h = infer_hash64(&call->op, sizeof call->op, 0x74696d696e67ull);
  h = infer_hash64(&call->flags, sizeof call->flags, h);
  h = infer_hash64(&p, info ? info->params_size : 0, h);
  for (int i = 0; i < call->n_in; i++) {
    h = infer_hash64(&call->in[i].dtype, sizeof call->in[i].dtype, h);
    h = infer_hash64(&call->in[i].shape.rank, sizeof call->in[i].shape.rank, h);
    h = infer_hash64(call->in[i].shape.d, sizeof(int64_t) * (size_t)call->in[i].shape.rank, h);
  }
  for (int i = 0; i < call->n_out; i++) {
    h = infer_hash64(&call->out[i].dtype, sizeof call->out[i].dtype, h);
    h = infer_hash64(call->out[i].shape.d, sizeof(int64_t) * (size_t)call->out[i].shape.rank, h);
  }
  return h;
}

bool infer_timing_cache_find(const InferTimingCache *c, const char *device, uint64_t key,
                             int32_t *tactic) {
  for (int32_t i = 0; i < c->n; i++)
    if (c->entries[i].key == key && strcmp(c->entries[i].device, device) == 0) {
      *tactic = c->entries[i].tactic;
      return true;
    }
  return false;
}

InferStatus *infer_timing_cache_put(InferTimingCache *c, const char *device, uint64_t key,
                                    int32_t tactic, double ms) {
  for (int32_t i = 0; i < c->n; i++)
    if (c->entries[i].key == key && strcmp(c->entries[i].device, device) == 0) {
      c->entries[i].tactic = tactic;
      c->entries[i].ms = ms;
      c->dirty = true;
      return NULL;
    }
  c->dirty = true;
  return add(c, device, strlen(device), key, tactic, ms);
}
