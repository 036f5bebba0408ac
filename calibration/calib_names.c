/* A small name -> index map shared by statistics and tables. */
#include <stdlib.h>
#include <string.h>

#include "calib_internal.h"

static uint64_t name_hash(const char *s) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h ^ (h >> 29);
}

void calib_names_clear(CalibNameMap *m) {
  for (int i = 0; i < m->n; i++) free(m->names[i]);
  free(m->names);
  free(m->slots);
  memset(m, 0, sizeof *m);
}

int calib_names_find(const CalibNameMap *m, const char *name) {
  if (!m->n_slots || !name) return -1;
  size_t mask = m->n_slots - 1, h = (size_t)name_hash(name) & mask;
  while (m->slots[h] >= 0) {
    if (strcmp(m->names[m->slots[h]], name) == 0) return m->slots[h];
    h = (h + 1) & mask;
  }
  return -1;
}

static InferStatus *rehash(CalibNameMap *m, size_t n_slots) {
  int32_t *slots = malloc(n_slots * sizeof *slots);
  if (!slots) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "calibration: out of memory");
  for (size_t i = 0; i < n_slots; i++) slots[i] = -1;
  for (int i = 0; i < m->n; i++) {
    size_t h = (size_t)name_hash(m->names[i]) & (n_slots - 1);
    while (slots[h] >= 0) h = (h + 1) & (n_slots - 1);
    slots[h] = i;
  }
  free(m->slots);
  m->slots = slots;
  m->n_slots = n_slots;
  return NULL;
}

InferStatus *calib_names_intern(CalibNameMap *m, const char *name, int *index, bool *added) {
  if (added) *added = false;
  if (!name || !*name)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "calibration: a tensor needs a name");
  int found = calib_names_find(m, name);
  if (found >= 0) {
    *index = found;
    return NULL;
  }
  /* keep the load factor under one half */
  if ((size_t)(m->n + 1) * 2 > m->n_slots) INFER_TRY(rehash(m, m->n_slots ? m->n_slots * 2 : 64));
  if (m->n == m->cap) {
    int cap = m->cap ? m->cap * 2 : 16;
    char **names = realloc(m->names, (size_t)cap * sizeof *names);
    if (!names) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "calibration: out of memory");
    m->names = names;
    m->cap = cap;
  }
  char *copy = strdup(name);
  if (!copy) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "calibration: out of memory");
  m->names[m->n] = copy;
  size_t h = (size_t)name_hash(name) & (m->n_slots - 1);
  while (m->slots[h] >= 0) h = (h + 1) & (m->n_slots - 1);
  m->slots[h] = m->n;
  *index = m->n++;
  if (added) *added = true;
  return NULL;
}
