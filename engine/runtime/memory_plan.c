/* Activation memory planning (see memory_plan.h).
 *
 * 1. Liveness: [producer, last reader] per tensor, in layer order.
 * 2. Conflicts: a sweep over the tensors in order of first use lists, for
 *    every tensor, the tensors whose lifetimes meet its own (the interval
 *    graph, as adjacency lists). When that graph is too large for memory
 *    the placement compares every pair instead.
 * 3. Placement of one order: each tensor goes at the best-fitting (or
 *    lowest) aligned gap between the already placed tensors it conflicts
 *    with, or above the highest of them.
 * 4. Orders: by size (the classic greedy-by-size of TFLite and others), by
 *    breadth (the largest live total over the tensor's lifetime: the peak
 *    layers first), by size x lifetime, by first use and by lifetime; each
 *    with best fit and first fit. The smallest arena wins.
 * 5. Local search over the winning order: move the tensor that ends
 *    highest to an earlier place in the order, or any tensor anywhere, or
 *    swap two; place again (first fit, only from the first changed place
 *    on) and keep the order when the arena does not grow. First fit in
 *    offset order reproduces every packing whose tensors are pushed down as
 *    far as they go, so the search can in principle reach the optimum. It
 *    stops at the lower bound, after PLAN_STALL moves without gain, or when
 *    the work budget is spent. The random generator has a fixed seed:
 *    plans are reproducible.
 *
 * Cost: a placement is O(E + n log d) with E conflicting pairs and d the
 * largest number of conflicts of one tensor (O(n^2) without the adjacency
 * lists); everything after the first order's two placements stays within
 * PLAN_WORK units (about 0.1 s). The generated test models, and synthetic
 * residual chains of a thousand random-sized layers, take milliseconds. */
#include "memory_plan.h"

#include <stdlib.h>
#include <string.h>

#define PLAN_ERR(code, ...) infer_status_new(code, "memory plan: " __VA_ARGS__)

/* Work units (adjacency entries and tensors visited) the strategies and the
 * local search may take together (the first order always runs). */
#define PLAN_WORK 20000000.0
/* The local search stops after this many moves without a smaller arena. */
#define PLAN_STALL 2000
/* Adjacency entries (two per conflicting pair) at most; beyond, pairs are
 * compared directly. */
#define PLAN_ADJ_MAX ((size_t)1 << 22)

typedef struct PlanItem {
  int32_t id;          /* tensor id */
  int32_t first, last; /* lifetime, layer indices, inclusive */
  size_t size;
  size_t key;          /* breadth: the largest live total over the lifetime */
} PlanItem;

typedef struct PlanSpan {
  size_t offset, end;
} PlanSpan;

/* The state shared by every placement of one plan. Items are referenced by
 * their index in `items` (sorted by first use). */
typedef struct Planner {
  const PlanItem *items;
  int32_t n;
  size_t align;
  const size_t *adj_start; /* n + 1 entries, or NULL: compare all pairs */
  const int32_t *adj;
  size_t *offset;          /* per item, where placed */
  bool *placed;
  PlanSpan *spans;         /* scratch: the placed conflicting tensors */
  double work;             /* adjacency entries and items visited so far */
} Planner;

static uint64_t next_random(uint64_t *s) { /* xorshift64 */
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s >> 11;
}

static bool align_up(size_t x, size_t a, size_t *out) {
  size_t r = x % a;
  if (r == 0) {
    *out = x;
    return true;
  }
  if (x > SIZE_MAX - (a - r)) {
    *out = SIZE_MAX;
    return false;
  }
  *out = x + (a - r);
  return true;
}

static const char *tensor_name(const InferNetwork *net, int32_t t) {
  const char *n = net->tensors[t].name;
  return n ? n : "(unnamed)";
}

/* Liveness of every tensor: [producer, last reader]; tensors without a
 * producer that are read (or planned) start at layer 0; -1 for tensors
 * nobody produces or reads. Readers at or before the producer are ignored
 * (layers run in index order, so that cannot happen in a valid network). */
static void compute_liveness(const InferNetwork *net, const bool *planned, int32_t *first,
                             int32_t *last) {
  for (int32_t t = 0; t < net->n_tensors; t++) {
    int32_t p = net->tensors[t].producer;
    first[t] = (p >= 0 && p < net->n_layers) ? p : -1;
    if (first[t] < 0 && planned && planned[t]) first[t] = 0;
    last[t] = first[t];
  }
  for (int32_t l = 0; l < net->n_layers; l++) {
    const InferLayer *layer = &net->layers[l];
    for (int32_t i = 0; i < layer->n_inputs; i++) {
      InferTensorId t = layer->inputs[i];
      if (t < 0 || t >= net->n_tensors) continue;
      int32_t p = net->tensors[t].producer;
      if (p >= 0 && l <= p) continue;
      if (first[t] < 0) first[t] = 0;
      if (l > last[t]) last[t] = l;
    }
  }
}

void infer_memory_plan_free(InferMemoryPlan *plan) {
  if (!plan) return;
  free(plan->offset);
  free(plan->size);
  free(plan->first_use);
  free(plan->last_use);
  free(plan->alias_of);
  free(plan->in_place);
  memset(plan, 0, sizeof *plan);
}

/* ---- aliases ---- */

/* Per planned tensor: the group it belongs to (root: the outermost host, or
 * itself) and its byte offset from the root's start. Checks what
 * infer_memory_plan_build_aliased promises its callers. */
static InferStatus *resolve_aliases(const InferNetwork *net, const size_t *bytes,
                                    const bool *planned, const int32_t *alias_of,
                                    const size_t *alias_offset, size_t align, int32_t *root,
                                    size_t *rel) {
  int32_t nt = net->n_tensors;
  for (int32_t t = 0; t < nt; t++) {
    root[t] = t;
    rel[t] = 0;
    int32_t h = alias_of[t];
    if (h < 0) continue;
    if (!planned[t] || h >= nt || !planned[h] || h == t)
      return PLAN_ERR(INFER_ERR_INVALID_ARGUMENT,
                      "tensor '%s' is aliased to a tensor that is not planned",
                      tensor_name(net, t));
    if (alias_offset[t] % align != 0 || alias_offset[t] > bytes[h] ||
        bytes[t] > bytes[h] - alias_offset[t])
      return PLAN_ERR(INFER_ERR_INVALID_ARGUMENT,
                      "tensor '%s' (%zu bytes at offset %zu) does not fit aligned in '%s' (%zu "
                      "bytes)", tensor_name(net, t), bytes[t], alias_offset[t],
                      tensor_name(net, h), bytes[h]);
    /* follow the chain to the root; more steps than tensors means a cycle */
    size_t off = alias_offset[t];
    int32_t steps = 0;
    while (alias_of[h] >= 0 && steps++ <= nt) {
      off += alias_offset[h];
      h = alias_of[h];
    }
    if (steps > nt)
      return PLAN_ERR(INFER_ERR_INVALID_ARGUMENT, "the aliases of tensor '%s' form a cycle",
                      tensor_name(net, t));
    root[t] = h;
    rel[t] = off;
  }
  return NULL;
}

/* ---- orders ---- */

static int cmp_size_desc(size_t a, size_t b) { return a > b ? -1 : a < b ? 1 : 0; }
static int cmp_i32_asc(int32_t a, int32_t b) { return a < b ? -1 : a > b ? 1 : 0; }

static int cmp_tail(const PlanItem *a, const PlanItem *b) {
  int c = cmp_i32_asc(a->first, b->first);
  return c ? c : cmp_i32_asc(a->id, b->id);
}

/* Largest first; longer lifetimes first among equals. */
static int cmp_size(const PlanItem *a, const PlanItem *b) {
  int c = cmp_size_desc(a->size, b->size);
  if (!c) c = -cmp_i32_asc(a->last - a->first, b->last - b->first);
  return c ? c : cmp_tail(a, b);
}

/* Tensors of the fullest layers first, largest first among them. */
static int cmp_breadth(const PlanItem *a, const PlanItem *b) {
  int c = cmp_size_desc(a->key, b->key);
  if (!c) c = cmp_size_desc(a->size, b->size);
  return c ? c : cmp_tail(a, b);
}

/* Largest size x lifetime first. */
static int cmp_area(const PlanItem *a, const PlanItem *b) {
  double ka = (double)a->size * (double)(a->last - a->first + 1);
  double kb = (double)b->size * (double)(b->last - b->first + 1);
  int c = ka > kb ? -1 : ka < kb ? 1 : 0;
  if (!c) c = cmp_size_desc(a->size, b->size);
  return c ? c : cmp_tail(a, b);
}

/* In execution order, largest first among tensors of one layer. */
static int cmp_first_use(const PlanItem *a, const PlanItem *b) {
  int c = cmp_i32_asc(a->first, b->first);
  if (!c) c = cmp_size_desc(a->size, b->size);
  return c ? c : cmp_tail(a, b);
}

/* Longest lifetime first. */
static int cmp_length(const PlanItem *a, const PlanItem *b) {
  int c = -cmp_i32_asc(a->last - a->first, b->last - b->first);
  if (!c) c = cmp_size_desc(a->size, b->size);
  return c ? c : cmp_tail(a, b);
}

static int (*const plan_orders[])(const PlanItem *, const PlanItem *) = {
    cmp_size, cmp_breadth, cmp_area, cmp_first_use, cmp_length};
#define N_ORDERS ((int)(sizeof plan_orders / sizeof plan_orders[0]))

/* Sorts item indices by one of the orders (a stable merge sort: qsort has
 * no context argument in C11). */
static void sort_order(int32_t *order, int32_t *tmp, int32_t n, const PlanItem *items,
                       int (*cmp)(const PlanItem *, const PlanItem *)) {
  for (int32_t w = 1; w < n; w *= 2) {
    for (int32_t lo = 0; lo < n; lo += 2 * w) {
      int32_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
      int32_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi)
        tmp[k++] = cmp(&items[order[j]], &items[order[i]]) < 0 ? order[j++] : order[i++];
      while (i < mid) tmp[k++] = order[i++];
      while (j < hi) tmp[k++] = order[j++];
    }
    memcpy(order, tmp, sizeof *order * (size_t)n);
  }
}

/* ---- placement ---- */

static int cmp_span(const void *pa, const void *pb) {
  const PlanSpan *a = pa, *b = pb;
  return a->offset < b->offset ? -1 : a->offset > b->offset ? 1 : 0;
}

/* Places order[from..n) (order[0..from) keep their offsets) and returns
 * the highest end of all. Sizes were checked to sum (aligned) below
 * INT64_MAX, so nothing here overflows. */
static size_t place_order(Planner *p, const int32_t *order, int32_t from, bool best_fit) {
  const PlanItem *items = p->items;
  for (int32_t k = from; k < p->n; k++) p->placed[order[k]] = false;
  for (int32_t k = from; k < p->n; k++) {
    int32_t i = order[k];
    const PlanItem *it = &items[i];
    int32_t ns = 0;
    if (p->adj_start) {
      for (size_t e = p->adj_start[i]; e < p->adj_start[i + 1]; e++) {
        int32_t j = p->adj[e];
        if (p->placed[j]) p->spans[ns++] = (PlanSpan){p->offset[j], p->offset[j] + items[j].size};
      }
      p->work += (double)(p->adj_start[i + 1] - p->adj_start[i]) + 4;
    } else {
      for (int32_t q = 0; q < k; q++) {
        int32_t j = order[q];
        if (items[j].last < it->first || items[j].first > it->last) continue;
        p->spans[ns++] = (PlanSpan){p->offset[j], p->offset[j] + items[j].size};
      }
      p->work += (double)k + 4;
    }
    if (ns > 1) qsort(p->spans, (size_t)ns, sizeof *p->spans, cmp_span);
    size_t prev_end = 0, best = 0, best_len = SIZE_MAX;
    bool found = false;
    for (int32_t s = 0; s < ns; s++) {
      size_t start;
      (void)align_up(prev_end, p->align, &start);
      if (p->spans[s].offset > start && p->spans[s].offset - start >= it->size) {
        size_t len = p->spans[s].offset - start;
        if (!found || len < best_len) {
          best = start;
          best_len = len;
          found = true;
          if (!best_fit) break;
        }
      }
      if (p->spans[s].end > prev_end) prev_end = p->spans[s].end;
    }
    if (!found) (void)align_up(prev_end, p->align, &best);
    p->offset[i] = best;
    p->placed[i] = true;
  }
  size_t top = 0;
  for (int32_t i = 0; i < p->n; i++)
    if (p->offset[i] + items[i].size > top) top = p->offset[i] + items[i].size;
  p->work += (double)p->n;
  return top;
}

/* The position in `order` of a tensor that ends at `top`. */
static int32_t highest(const Planner *p, const int32_t *order, size_t top) {
  for (int32_t k = p->n - 1; k >= 0; k--)
    if (p->offset[order[k]] + p->items[order[k]].size == top) return k;
  return 0;
}

/* Adjacency lists of the conflict graph of items sorted by first use; NULL
 * lists (and no error) when the graph is too large. `active` is scratch. */
static InferStatus *conflict_graph(const PlanItem *items, int32_t n, int32_t *active,
                                   size_t **adj_start_out, int32_t **adj_out) {
  *adj_start_out = NULL;
  *adj_out = NULL;
  size_t *start = calloc((size_t)n + 1, sizeof *start);
  if (!start) return PLAN_ERR(INFER_ERR_OUT_OF_MEMORY, "out of memory");
  /* count: item k conflicts with every earlier item still live at its start */
  size_t total = 0;
  int32_t n_active = 0;
  for (int32_t k = 0; k < n; k++) {
    int32_t keep = 0;
    for (int32_t a = 0; a < n_active; a++) {
      int32_t j = active[a];
      if (items[j].last < items[k].first) continue;
      active[keep++] = j;
      start[j + 1]++;
      start[k + 1]++;
    }
    total += 2 * (size_t)keep;
    if (total > PLAN_ADJ_MAX) {
      free(start);
      return NULL;
    }
    n_active = keep;
    active[n_active++] = k;
  }
  for (int32_t k = 0; k < n; k++) start[k + 1] += start[k];
  int32_t *adj = malloc((total ? total : 1) * sizeof *adj);
  size_t *fill = malloc(((size_t)n + 1) * sizeof *fill);
  if (!adj || !fill) {
    free(start);
    free(adj);
    free(fill);
    return PLAN_ERR(INFER_ERR_OUT_OF_MEMORY, "out of memory");
  }
  memcpy(fill, start, ((size_t)n + 1) * sizeof *fill);
  n_active = 0;
  for (int32_t k = 0; k < n; k++) {
    int32_t keep = 0;
    for (int32_t a = 0; a < n_active; a++) {
      int32_t j = active[a];
      if (items[j].last < items[k].first) continue;
      active[keep++] = j;
      adj[fill[j]++] = k;
      adj[fill[k]++] = j;
    }
    n_active = keep;
    active[n_active++] = k;
  }
  free(fill);
  *adj_start_out = start;
  *adj_out = adj;
  return NULL;
}

static int cmp_item_first(const void *pa, const void *pb) { return cmp_tail(pa, pb); }

/* Breadth keys: the largest live total over each item's lifetime. The
 * total only grows where a tensor starts, so the maximum over [first, last]
 * is the maximum over the starts inside it: a sparse table of range maxima
 * over the distinct starts (items are sorted by first use). When that
 * table would be too large the key is the total at the first use. */
static InferStatus *breadth_keys(PlanItem *items, int32_t n, const size_t *live) {
  int32_t m = 0;
  int32_t *at = malloc((size_t)n * sizeof *at);   /* distinct starts */
  int32_t *grp = malloc((size_t)n * sizeof *grp); /* per item: its start's index */
  if (!at || !grp) {
    free(at);
    free(grp);
    return PLAN_ERR(INFER_ERR_OUT_OF_MEMORY, "out of memory");
  }
  for (int32_t k = 0; k < n; k++) {
    if (m == 0 || at[m - 1] != items[k].first) at[m++] = items[k].first;
    grp[k] = m - 1;
  }
  int levels = 1;
  while (((size_t)1 << levels) <= (size_t)m) levels++;
  size_t *table = NULL;
  size_t cells = (size_t)m * (size_t)levels;
  if (cells <= PLAN_ADJ_MAX) table = malloc(sizeof *table * cells);
  if (!table) { /* too large (or no memory): a cruder key */
    for (int32_t k = 0; k < n; k++) items[k].key = live[items[k].first];
    free(at);
    free(grp);
    return NULL;
  }
  for (int32_t g = 0; g < m; g++) table[g] = live[at[g]];
  for (int lv = 1; lv < levels; lv++) {
    size_t w = (size_t)1 << (lv - 1);
    size_t *row = table + (size_t)m * (size_t)lv, *prev = row - m;
    for (size_t g = 0; g + 2 * w <= (size_t)m; g++)
      row[g] = prev[g] > prev[g + w] ? prev[g] : prev[g + w];
  }
  for (int32_t k = 0; k < n; k++) {
    /* [lo, hi): the starts from the item's own to the last one <= last */
    int32_t lo = grp[k], a = lo, b = m;
    while (b - a > 1) {
      int32_t mid = a + (b - a) / 2;
      if (at[mid] <= items[k].last)
        a = mid;
      else
        b = mid;
    }
    size_t len = (size_t)(a + 1 - lo);
    int lv = 0;
    while (((size_t)2 << lv) <= len) lv++;
    const size_t *row = table + (size_t)m * (size_t)lv;
    size_t x = row[lo], y = row[(size_t)a + 1 - ((size_t)1 << lv)];
    items[k].key = x > y ? x : y;
  }
  free(table);
  free(at);
  free(grp);
  return NULL;
}

InferStatus *infer_memory_plan_build(const InferNetwork *net, const size_t *tensor_bytes,
                                     const bool *planned, size_t alignment,
                                     InferMemoryPlan *out) {
  return infer_memory_plan_build_aliased(net, tensor_bytes, planned, NULL, NULL, alignment, out);
}

InferStatus *infer_memory_plan_build_aliased(const InferNetwork *net, const size_t *tensor_bytes,
                                             const bool *planned, const int32_t *alias_of,
                                             const size_t *alias_offset, size_t alignment,
                                             InferMemoryPlan *out) {
  if (out) memset(out, 0, sizeof *out);
  if (!net || !tensor_bytes || !planned || !out || (alias_of && !alias_offset))
    return PLAN_ERR(INFER_ERR_INVALID_ARGUMENT, "a required argument is NULL");
  if (alignment == 0) alignment = 1;
  int32_t nt = net->n_tensors;
  size_t n_alloc = (size_t)(nt > 0 ? nt : 1);
  size_t n_layers = (size_t)(net->n_layers > 0 ? net->n_layers : 0);
  size_t n_idx = n_layers > 0 ? n_layers : 1; /* planned tensors sit at layer 0 at least */
  out->n_tensors = nt;
  out->alignment = alignment;
  out->offset = malloc(n_alloc * sizeof *out->offset);
  out->size = calloc(n_alloc, sizeof *out->size);
  out->first_use = malloc(n_alloc * sizeof *out->first_use);
  out->last_use = malloc(n_alloc * sizeof *out->last_use);
  size_t *live = calloc(n_idx + 1, sizeof *live);
  size_t *live_sub = calloc(n_idx + 1, sizeof *live_sub);
  PlanItem *items = malloc(n_alloc * sizeof *items);
  int32_t *order = malloc(n_alloc * sizeof *order), *tmp = malloc(n_alloc * sizeof *tmp);
  int32_t *best_order = malloc(n_alloc * sizeof *best_order);
  int32_t *cand = malloc(n_alloc * sizeof *cand);
  size_t *offset = malloc(n_alloc * sizeof *offset);
  size_t *best_offset = malloc(n_alloc * sizeof *best_offset);
  bool *placed = calloc(n_alloc, sizeof *placed);
  PlanSpan *spans = malloc(n_alloc * sizeof *spans);
  size_t *adj_start = NULL;
  int32_t *adj = NULL;
  int32_t *root = NULL;
  size_t *rel = NULL;
  InferStatus *st = NULL;
  if (alias_of) {
    root = malloc(n_alloc * sizeof *root);
    rel = malloc(n_alloc * sizeof *rel);
    out->alias_of = malloc(n_alloc * sizeof *out->alias_of);
  }
  if (!out->offset || !out->size || !out->first_use || !out->last_use || !live || !live_sub ||
      !items || !order || !tmp || !best_order || !cand || !offset || !best_offset ||
      !placed || !spans || (alias_of && (!root || !rel || !out->alias_of))) {
    st = PLAN_ERR(INFER_ERR_OUT_OF_MEMORY, "out of memory");
    goto done;
  }
  compute_liveness(net, planned, out->first_use, out->last_use);
  if (alias_of) {
    st = resolve_aliases(net, tensor_bytes, planned, alias_of, alias_offset, alignment, root, rel);
    if (st) goto done;
    memcpy(out->alias_of, alias_of, sizeof *alias_of * (size_t)nt);
    /* a group is live while any member is: the root's interval spans them all */
    for (int32_t t = 0; t < nt; t++) {
      if (!planned[t] || root[t] == t) continue;
      int32_t r = root[t], f = out->first_use[t] < 0 ? 0 : out->first_use[t];
      if (out->first_use[r] < 0 || f < out->first_use[r]) out->first_use[r] = f;
      if (out->last_use[t] > out->last_use[r]) out->last_use[r] = out->last_use[t];
    }
  }

  /* sizes, the no-reuse total (aligned), live totals per layer */
  int32_t n = 0;
  size_t total = 0;
  for (int32_t t = 0; t < nt; t++) {
    out->offset[t] = -1;
    if (!planned[t]) continue;
    size_t sz = tensor_bytes[t], asz;
    if (sz > (size_t)INT64_MAX || !align_up(sz, alignment, &asz) || total > SIZE_MAX - asz ||
        total + asz > (size_t)INT64_MAX) {
      st = PLAN_ERR(INFER_ERR_INVALID_ARGUMENT,
                    "tensor '%s': %zu bytes overflow the arena's size", tensor_name(net, t), sz);
      goto done;
    }
    out->size[t] = sz;
    out->offset[t] = 0;
    if (out->last_use[t] < 0) out->first_use[t] = out->last_use[t] = 0;
    if (root && root[t] != t) continue; /* placed with its root, below */
    total += asz;
    if (sz == 0) continue;
    live[out->first_use[t]] += sz; /* deltas for now */
    live_sub[out->last_use[t] + 1] += sz;
    items[n++] = (PlanItem){t, out->first_use[t], out->last_use[t], sz, 0};
  }
  out->no_reuse_bytes = total;
  size_t running = 0;
  for (size_t l = 0; l < n_idx; l++) {
    running = running + live[l] - live_sub[l]; /* never above total: no overflow */
    live[l] = running;
    if (running > out->lower_bound) out->lower_bound = running;
  }
  if (n == 0) goto done;

  qsort(items, (size_t)n, sizeof *items, cmp_item_first);
  st = breadth_keys(items, n, live);
  if (!st) st = conflict_graph(items, n, tmp, &adj_start, &adj);
  if (st) goto done;
  Planner p = {items, n, alignment, adj_start, adj, offset, placed, spans, 0};
  double pass_work = adj_start ? (double)adj_start[n] + 5.0 * n : (double)n * (n + 9) / 2.0;
  size_t floor_bytes, best_top = SIZE_MAX;
  (void)align_up(out->lower_bound, alignment, &floor_bytes);
#define AT_FLOOR() (best_top <= floor_bytes) /* floor_bytes is aligned */

  for (int o = 0; o < N_ORDERS && !AT_FLOOR(); o++) {
    if (o > 0 && p.work + pass_work > PLAN_WORK) break;
    for (int32_t k = 0; k < n; k++) order[k] = k;
    sort_order(order, tmp, n, items, plan_orders[o]);
    for (int fit = 0; fit < 2 && !AT_FLOOR(); fit++) {
      if (fit > 0 && p.work + pass_work > PLAN_WORK) break;
      size_t top = place_order(&p, order, 0, fit == 0);
      if (top < best_top) {
        best_top = top;
        memcpy(best_order, order, sizeof *order * (size_t)n);
        memcpy(best_offset, offset, sizeof *offset * (size_t)n);
      }
    }
  }

  /* Local search over the best order, placing first fit. Moves: the tensor
   * that ends highest to an earlier place in the order, one tensor to any
   * place, a swap. A candidate is kept when the arena does not grow. Only
   * the part of the order after the first changed place is placed again:
   * `valid` counts the leading places whose offsets are those of `order`. */
  bool search = n > 2 && !AT_FLOOR() && p.work + pass_work <= PLAN_WORK;
  size_t cur_top = best_top;
  int32_t crit = 0, valid = n;
  if (search) {
    memcpy(order, best_order, sizeof *order * (size_t)n);
    cur_top = place_order(&p, order, 0, false);
    if (cur_top < best_top) {
      best_top = cur_top;
      memcpy(best_offset, offset, sizeof *offset * (size_t)n);
    }
    crit = highest(&p, order, cur_top);
  }
  uint64_t rng = 0x2545f4914f6cdd1dull;
  long last_gain = 0;
  for (long it = 0; search && !AT_FLOOR() && it - last_gain < PLAN_STALL; it++) {
    if (p.work + pass_work > PLAN_WORK) break;
    memcpy(cand, order, sizeof *cand * (size_t)n);
    int32_t i, j;
    uint64_t kind = next_random(&rng) % 3;
    if (kind == 0 && crit > 0) {
      i = crit;
      j = (int32_t)(next_random(&rng) % (uint64_t)crit);
    } else {
      i = (int32_t)(next_random(&rng) % (uint64_t)n);
      j = (int32_t)(next_random(&rng) % (uint64_t)n);
    }
    if (i == j) continue;
    int32_t moved = cand[i], from = i < j ? i : j;
    if (kind == 1) {
      cand[i] = cand[j];
      cand[j] = moved;
    } else if (i < j) {
      memmove(&cand[i], &cand[i + 1], sizeof *cand * (size_t)(j - i));
      cand[j] = moved;
    } else {
      memmove(&cand[j + 1], &cand[j], sizeof *cand * (size_t)(i - j));
      cand[j] = moved;
    }
    if (valid < from) from = valid;
    size_t top = place_order(&p, cand, from, false);
    if (top <= cur_top) {
      memcpy(order, cand, sizeof *order * (size_t)n);
      valid = n;
      crit = highest(&p, order, top);
      if (top < best_top) {
        best_top = top;
        last_gain = it;
        memcpy(best_offset, offset, sizeof *offset * (size_t)n);
      }
      cur_top = top;
    } else {
      valid = from;
    }
  }
#undef AT_FLOOR

  for (int32_t k = 0; k < n; k++) out->offset[items[k].id] = (int64_t)best_offset[k];
  (void)align_up(best_top, alignment, &out->arena_bytes); /* <= total, a multiple */

done:
  /* members of a group at their place in the root (also when nothing else
   * was placed: a group of empty tensors) */
  for (int32_t t = 0; !st && root && t < nt; t++)
    if (planned[t] && root[t] != t) out->offset[t] = out->offset[root[t]] + (int64_t)rel[t];
  free(root);
  free(rel);
  free(live);
  free(live_sub);
  free(items);
  free(order);
  free(tmp);
  free(best_order);
  free(cand);
  free(offset);
  free(best_offset);
  free(placed);
  free(spans);
  free(adj_start);
  free(adj);
  if (st) infer_memory_plan_free(out);
  return st;
}

/* ---- verification ---- */

typedef struct VerifyItem {
  int32_t id, first, last;
  size_t size, offset;
} VerifyItem;

static int cmp_by_first(const void *pa, const void *pb) {
  const VerifyItem *a = pa, *b = pb;
  int c = cmp_i32_asc(a->first, b->first);
  return c ? c : cmp_i32_asc(a->id, b->id);
}

/* Whether tensor a lies inside tensor b through aliases (nested ones too). */
static bool placed_inside(const InferMemoryPlan *p, int32_t a, int32_t b) {
  if (!p->alias_of) return false;
  for (int32_t steps = 0; a >= 0 && steps <= p->n_tensors; steps++) {
    a = p->alias_of[a];
    if (a == b) return true;
  }
  return false;
}

/* Aliased tensors inside their hosts; in_place Concats' inputs back to back
 * over the output. */
static InferStatus *verify_aliases(const InferNetwork *net, const InferMemoryPlan *plan) {
  int32_t nt = net->n_tensors;
  for (int32_t t = 0; plan->alias_of && t < nt; t++) {
    int32_t h = plan->alias_of[t];
    if (h < 0) continue;
    if (h >= nt || plan->offset[t] < 0 || plan->offset[h] < 0 ||
        plan->offset[t] < plan->offset[h] ||
        plan->offset[t] + (int64_t)plan->size[t] > plan->offset[h] + (int64_t)plan->size[h])
      return PLAN_ERR(INFER_ERR_INTERNAL, "tensor '%s' is not inside the tensor it is aliased to",
                      tensor_name(net, t));
  }
  if (!plan->in_place) return NULL;
  if (plan->n_layers != net->n_layers)
    return PLAN_ERR(INFER_ERR_INTERNAL, "the plan has %d layers, the network %d", plan->n_layers,
                    net->n_layers);
  for (int32_t l = 0; l < net->n_layers; l++) {
    if (!plan->in_place[l]) continue;
    const InferLayer *layer = &net->layers[l];
    bool ok = layer->op == INFER_OP_CONCAT && layer->n_outputs == 1 && plan->alias_of;
    int32_t o = ok ? layer->outputs[0] : -1;
    int64_t at = ok ? plan->offset[o] : -1;
    for (int32_t k = 0; ok && k < layer->n_inputs; k++) {
      InferTensorId t = layer->inputs[k];
      ok = t >= 0 && plan->alias_of[t] == o && plan->offset[t] == at;
      if (ok) at += (int64_t)plan->size[t];
    }
    if (!ok || at != plan->offset[o] + (int64_t)plan->size[o])
      return PLAN_ERR(INFER_ERR_INTERNAL,
                      "layer '%s' is marked in place, but its inputs do not tile its output",
                      layer->name ? layer->name : "(unnamed)");
  }
  return NULL;
}

InferStatus *infer_memory_plan_verify(const InferNetwork *net, const InferMemoryPlan *plan) {
  if (!net || !plan) return PLAN_ERR(INFER_ERR_INVALID_ARGUMENT, "a required argument is NULL");
  int32_t nt = net->n_tensors;
  if (plan->n_tensors != nt)
    return PLAN_ERR(INFER_ERR_INTERNAL, "the plan has %d tensors, the network %d",
                    plan->n_tensors, nt);
  if (nt > 0 && (!plan->offset || !plan->size || !plan->first_use || !plan->last_use))
    return PLAN_ERR(INFER_ERR_INTERNAL, "the plan is empty");
  size_t align = plan->alignment ? plan->alignment : 1;
  size_t n_alloc = (size_t)(nt > 0 ? nt : 1);
  bool *planned = calloc(n_alloc, sizeof *planned);
  int32_t *first = malloc(n_alloc * sizeof *first);
  int32_t *last = malloc(n_alloc * sizeof *last);
  VerifyItem *items = malloc(n_alloc * sizeof *items);
  int32_t *active = malloc(n_alloc * sizeof *active);
  InferStatus *st = NULL;
  if (!planned || !first || !last || !items || !active) {
    st = PLAN_ERR(INFER_ERR_OUT_OF_MEMORY, "out of memory");
    goto done;
  }
  for (int32_t t = 0; t < nt; t++) planned[t] = plan->offset[t] >= 0;
  compute_liveness(net, planned, first, last);
  int32_t n = 0;
  for (int32_t t = 0; t < nt && !st; t++) {
    int64_t off = plan->offset[t];
    if (off == -1) continue;
    if (off < 0) {
      st = PLAN_ERR(INFER_ERR_INTERNAL, "tensor '%s' has offset %lld", tensor_name(net, t),
                    (long long)off);
      break;
    }
    int32_t f = plan->first_use[t], l = plan->last_use[t];
    int32_t rf = first[t] < 0 ? 0 : first[t], rl = last[t] < 0 ? 0 : last[t];
    size_t sz = plan->size[t];
    if (f > l || f > rf || l < rl) {
      st = PLAN_ERR(INFER_ERR_INTERNAL,
                    "tensor '%s': the plan's lifetime [%d, %d] does not cover layers [%d, %d]",
                    tensor_name(net, t), f, l, rf, rl);
    } else if (sz == 0) {
      continue;
    } else if ((size_t)off % align != 0) {
      st = PLAN_ERR(INFER_ERR_INTERNAL, "tensor '%s': offset %lld is not a multiple of %zu",
                    tensor_name(net, t), (long long)off, align);
    } else if (sz > plan->arena_bytes || (size_t)off > plan->arena_bytes - sz) {
      st = PLAN_ERR(INFER_ERR_INTERNAL,
                    "tensor '%s': bytes [%lld, +%zu) do not fit in the %zu-byte arena",
                    tensor_name(net, t), (long long)off, sz, plan->arena_bytes);
    } else {
      items[n++] = (VerifyItem){t, f, l, sz, (size_t)off};
    }
  }
  if (!st) st = verify_aliases(net, plan);
  if (st) goto done;
  /* sweep in order of first use; `active` holds the tensors still live */
  qsort(items, (size_t)n, sizeof *items, cmp_by_first);
  int32_t n_active = 0;
  for (int32_t k = 0; k < n && !st; k++) {
    const VerifyItem *a = &items[k];
    int32_t keep = 0;
    for (int32_t j = 0; j < n_active; j++) {
      const VerifyItem *b = &items[active[j]];
      if (b->last < a->first) continue; /* dead before a starts: drop */
      active[keep++] = active[j];
      if (a->offset < b->offset + b->size && b->offset < a->offset + a->size &&
          !placed_inside(plan, a->id, b->id) && !placed_inside(plan, b->id, a->id)) {
        st = PLAN_ERR(INFER_ERR_INTERNAL,
                      "tensors '%s' (bytes [%zu, %zu), layers [%d, %d]) and '%s' (bytes [%zu, "
                      "%zu), layers [%d, %d]) are live together and share memory",
                      tensor_name(net, b->id), b->offset, b->offset + b->size, b->first,
                      b->last, tensor_name(net, a->id), a->offset, a->offset + a->size,
                      a->first, a->last);
        break;
      }
    }
    if (st) break;
    n_active = keep;
    active[n_active++] = k;
  }

done:
  free(planned);
  free(first);
  free(last);
  free(items);
  free(active);
  return st;
}

/* ---- from a shape pass ---- */

/* The shared part of the two entry points; concats says whether to look
 * for Concats to eliminate. */
static InferStatus *plan_for_pass(const InferNetwork *net, const InferShapePass *pass,
                                  size_t alignment, bool concats, InferMemoryPlan *out) {
  if (out) memset(out, 0, sizeof *out);
  if (!net || !pass || !pass->views || !out)
    return PLAN_ERR(INFER_ERR_INVALID_ARGUMENT, "a required argument is NULL");
  size_t n_alloc = (size_t)(net->n_tensors > 0 ? net->n_tensors : 1);
  size_t *bytes = calloc(n_alloc, sizeof *bytes);
  bool *planned = calloc(n_alloc, sizeof *planned);
  int32_t *alias_of = NULL;
  size_t *alias_offset = NULL;
  bool *in_place = NULL;
  int32_t n_in_place = 0;
  InferStatus *st = NULL;
  if (concats) {
    alias_of = malloc(n_alloc * sizeof *alias_of);
    alias_offset = calloc(n_alloc, sizeof *alias_offset);
    in_place = calloc((size_t)(net->n_layers > 0 ? net->n_layers : 1), sizeof *in_place);
  }
  if (!bytes || !planned || (concats && (!alias_of || !alias_offset || !in_place))) {
    st = PLAN_ERR(INFER_ERR_OUT_OF_MEMORY, "out of memory");
    goto done;
  }
  for (int32_t t = 0; t < net->n_tensors; t++) {
    const InferTensorDef *def = &net->tensors[t];
    const InferTensorView *v = &pass->views[t];
    planned[t] = def->producer >= 0 && !def->is_output && v->dtype != INFER_DTYPE_UNDEFINED;
  }
  for (int32_t i = 0; i < net->n_outputs; i++)
    if (net->outputs[i] >= 0 && net->outputs[i] < net->n_tensors) planned[net->outputs[i]] = false;
  for (int32_t t = 0; t < net->n_tensors && !st; t++) {
    if (!planned[t]) continue;
    const InferTensorView *v = &pass->views[t];
    int64_t numel = infer_shape_numel(&v->shape);
    size_t es = infer_dtype_size(v->dtype);
    if (numel < 0) {
      char buf[160];
      st = PLAN_ERR(INFER_ERR_INVALID_ARGUMENT, "tensor '%s' has an unknown shape %s",
                    tensor_name(net, t), infer_shape_str(&v->shape, buf, sizeof buf));
    } else if (es && (uint64_t)numel > SIZE_MAX / es) {
      st = PLAN_ERR(INFER_ERR_INVALID_ARGUMENT, "tensor '%s' is too large", tensor_name(net, t));
    } else {
      bytes[t] = (size_t)numel * es;
    }
  }
  if (!st && concats)
    st = infer_concat_elimination_pick(net, pass, planned, bytes, alignment ? alignment : 1,
                                       alias_of, alias_offset, in_place, &n_in_place);
  if (!st)
    st = infer_memory_plan_build_aliased(net, bytes, planned, n_in_place ? alias_of : NULL,
                                         alias_offset, alignment, out);
  if (!st && n_in_place) {
    out->in_place = in_place;
    out->n_layers = net->n_layers;
    out->n_in_place = n_in_place;
    in_place = NULL;
  }
done:
  free(bytes);
  free(planned);
  free(alias_of);
  free(alias_offset);
  free(in_place);
  return st;
}

InferStatus *infer_memory_plan_for_pass(const InferNetwork *net, const InferShapePass *pass,
                                        size_t alignment, InferMemoryPlan *out) {
  return plan_for_pass(net, pass, alignment, false, out);
}

InferStatus *infer_memory_plan_for_pass_eliminating_concats(const InferNetwork *net,
                                                            const InferShapePass *pass,
                                                            size_t alignment, bool fixed_inputs,
                                                            InferMemoryPlan *out) {
  return plan_for_pass(net, pass, alignment, fixed_inputs, out);
}
