/* Activation memory planning: liveness, placement, verification, and the
 * plans of random networks and of the generated ONNX models.
 *
 * Usage: test_memory_plan [generated_models folder]
 * Without an argument /tmp/b1/tests/generated_models is tried; a missing
 * folder skips the model part. */
#include <dirent.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "engine_internal.h"
#include "infer/infer.h"
#include "memory_plan.h"
#include "cpu_engine.h"
#include "test_util.h"

/* ---- helpers ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (uint32_t)(rng_state >> 11);
}
static uint32_t rnd_below(uint32_t n) { return n ? rnd() % n : 0; }

/* Layer outputs are named "<layer>:0". */
static InferTensorId relu(InferNetwork *net, const char *name, InferTensorId x) {
  InferTensorId y = INFER_NO_TENSOR;
  CHECK_OK(infer_network_add_activation(net, name, x, INFER_UNARY_RELU, 0, 0, &y));
  return y;
}

static InferTensorId add(InferNetwork *net, const char *name, InferTensorId a, InferTensorId b) {
  InferTensorId y = INFER_NO_TENSOR;
  CHECK_OK(infer_network_add_elementwise(net, name, a, b, INFER_BINARY_ADD, &y));
  return y;
}

static InferNetwork *new_net(InferTensorId *x) {
  InferNetwork *net = NULL;
  CHECK_OK(infer_network_create(&net));
  InferShape s = {2, {1, 64}};
  CHECK_OK(infer_network_add_input(net, "x", INFER_DTYPE_F32, &s, x));
  return net;
}

static bool overlaps(const InferMemoryPlan *p, InferTensorId a, InferTensorId b) {
  if (p->size[a] == 0 || p->size[b] == 0) return false;
  int64_t ea = p->offset[a] + (int64_t)p->size[a], eb = p->offset[b] + (int64_t)p->size[b];
  return p->offset[a] < eb && p->offset[b] < ea;
}

/* Independent liveness: producer to last reader. */
static void ref_liveness(const InferNetwork *net, int32_t *first, int32_t *last) {
  for (int32_t t = 0; t < net->n_tensors; t++) first[t] = last[t] = net->tensors[t].producer;
  for (int32_t l = 0; l < net->n_layers; l++)
    for (int32_t i = 0; i < net->layers[l].n_inputs; i++) {
      InferTensorId t = net->layers[l].inputs[i];
      if (t >= 0 && net->tensors[t].producer >= 0 && l > last[t]) last[t] = l;
    }
}

/* Brute-force checks of a plan: pairwise disjointness of conflicting
 * tensors, the lower bound recomputed per layer, bounds on the arena. */
static void check_plan_brute(const InferNetwork *net, const InferMemoryPlan *p) {
  int32_t nt = net->n_tensors;
  int32_t *first = calloc((size_t)nt + 1, sizeof *first);
  int32_t *last = calloc((size_t)nt + 1, sizeof *last);
  ref_liveness(net, first, last);
  bool ok = true;
  for (int32_t a = 0; a < nt; a++) {
    if (p->offset[a] < 0) continue;
    if (p->first_use[a] != first[a] || p->last_use[a] != last[a]) ok = false;
    if (p->size[a] && (size_t)p->offset[a] + p->size[a] > p->arena_bytes) ok = false;
    if (p->size[a] && (size_t)p->offset[a] % p->alignment) ok = false;
    for (int32_t b = a + 1; b < nt; b++) {
      if (p->offset[b] < 0) continue;
      bool live_together = !(last[a] < first[b] || last[b] < first[a]);
      if (live_together && overlaps(p, a, b)) ok = false;
    }
  }
  CHECK(ok);
  size_t lb = 0, sum = 0;
  for (int32_t l = 0; l < net->n_layers; l++) {
    size_t live = 0;
    for (int32_t t = 0; t < nt; t++)
      if (p->offset[t] >= 0 && first[t] <= l && l <= last[t]) live += p->size[t];
    if (live > lb) lb = live;
  }
  for (int32_t t = 0; t < nt; t++)
    if (p->offset[t] >= 0) sum += (p->size[t] + p->alignment - 1) / p->alignment * p->alignment;
  CHECK(p->lower_bound == lb);
  CHECK(p->no_reuse_bytes == sum);
  CHECK(p->lower_bound <= p->arena_bytes);
  CHECK(p->arena_bytes <= p->no_reuse_bytes);
  CHECK(p->arena_bytes % p->alignment == 0);
  free(first);
  free(last);
}

/* Bytes and planned flags: every layer output that is not a graph output. */
static void activations(const InferNetwork *net, size_t *bytes, bool *planned, size_t each) {
  for (int32_t t = 0; t < net->n_tensors; t++) {
    planned[t] = net->tensors[t].producer >= 0 && !net->tensors[t].is_output;
    bytes[t] = each;
  }
}

/* ---- hand-made networks ---- */

/* x -> a -> b -> c -> d -> y: a chain needs only its largest adjacent pair. */
static void test_chain(void) {
  InferTensorId x, t[6];
  InferNetwork *net = new_net(&x);
  const char *names[6] = {"a", "b", "c", "d", "e", "y"};
  InferTensorId prev = x;
  for (int i = 0; i < 6; i++) prev = t[i] = relu(net, names[i], prev);
  CHECK_OK(infer_network_mark_output(net, t[5]));
  size_t bytes[16] = {0};
  bool planned[16] = {false};
  CHECK(net->n_tensors <= 16);
  activations(net, bytes, planned, 0);
  const size_t sz[5] = {1024, 4096, 2048, 512, 3072}; /* pairs 5120 6144 2560 3584 */
  for (int i = 0; i < 5; i++) bytes[t[i]] = sz[i];
  InferMemoryPlan p;
  CHECK_OK(infer_memory_plan_build(net, bytes, planned, 256, &p));
  CHECK(p.n_tensors == net->n_tensors);
  CHECK(p.offset[x] == -1 && p.offset[t[5]] == -1);
  for (int i = 0; i < 5; i++) {
    CHECK(p.offset[t[i]] >= 0);
    CHECK(p.first_use[t[i]] == i && p.last_use[t[i]] == i + 1);
    CHECK(p.size[t[i]] == sz[i]);
  }
  CHECK(p.lower_bound == 6144);
  CHECK(p.arena_bytes == 6144);
  CHECK(p.no_reuse_bytes == 1024 + 4096 + 2048 + 512 + 3072);
  CHECK_OK(infer_memory_plan_verify(net, &p));
  check_plan_brute(net, &p);
  infer_memory_plan_free(&p);

  /* unaligned sizes: offsets are rounded up to the alignment */
  const size_t odd[5] = {100, 300, 7, 1, 99}; /* pairs 400 307 8 100 */
  for (int i = 0; i < 5; i++) bytes[t[i]] = odd[i];
  CHECK_OK(infer_memory_plan_build(net, bytes, planned, 64, &p));
  CHECK(p.lower_bound == 400);
  CHECK(p.arena_bytes == 448); /* 100 -> 128, + 300 = 428, rounded up */
  for (int i = 0; i < 5; i++) CHECK(p.offset[t[i]] % 64 == 0);
  CHECK_OK(infer_memory_plan_verify(net, &p));
  check_plan_brute(net, &p);
  infer_memory_plan_free(&p);

  /* random chains: every adjacent pair fits in a two-ended layout, so the
   * optimum is the largest pair; count how often the planner reaches it */
  int optimal = 0, trials = 500;
  for (int k = 0; k < trials; k++) {
    for (int i = 0; i < 5; i++) bytes[t[i]] = (size_t)(1 + rnd_below(64)) * 256;
    CHECK_OK(infer_memory_plan_build(net, bytes, planned, 256, &p));
    size_t best = 0;
    for (int i = 0; i + 1 < 5; i++)
      if (bytes[t[i]] + bytes[t[i + 1]] > best) best = bytes[t[i]] + bytes[t[i + 1]];
    CHECK(p.lower_bound == best);
    optimal += p.arena_bytes == best;
    CHECK_OK(infer_memory_plan_verify(net, &p));
    infer_memory_plan_free(&p);
  }
  CHECK(optimal == trials);
  printf("random 5-chains: %d of %d at the lower bound\n", optimal, trials);
  infer_network_release(net);
}

/* x -> a -> b -> c; d = a + c; e = relu(d): the residual keeps a alive
 * over b and c. */
static void test_residual(void) {
  InferTensorId x;
  InferNetwork *net = new_net(&x);
  InferTensorId a = relu(net, "a", x), b = relu(net, "b", a), c = relu(net, "c", b);
  InferTensorId d = add(net, "d", a, c), e = relu(net, "e", d);
  CHECK_OK(infer_network_mark_output(net, e));
  size_t bytes[16];
  bool planned[16];
  activations(net, bytes, planned, 1024);
  InferMemoryPlan p;
  CHECK_OK(infer_memory_plan_build(net, bytes, planned, 256, &p));
  CHECK(p.first_use[a] == 0 && p.last_use[a] == 3);
  CHECK(p.first_use[b] == 1 && p.last_use[b] == 2);
  CHECK(p.first_use[c] == 2 && p.last_use[c] == 3);
  CHECK(p.first_use[d] == 3 && p.last_use[d] == 4);
  CHECK(p.offset[e] == -1);
  CHECK(!overlaps(&p, a, b) && !overlaps(&p, a, c) && !overlaps(&p, a, d));
  CHECK(!overlaps(&p, b, c) && !overlaps(&p, c, d));
  CHECK(p.lower_bound == 3072);
  CHECK(p.arena_bytes == 3072);
  CHECK(overlaps(&p, b, d)); /* the only pair that may share, and must at 3072 */
  CHECK_OK(infer_memory_plan_verify(net, &p));
  check_plan_brute(net, &p);

  /* a plan that forgot the residual use of a */
  char msg[512];
  int64_t keep = p.offset[d];
  p.offset[d] = p.offset[a];
  CHECK_FAILS(infer_memory_plan_verify(net, &p), INFER_ERR_INTERNAL, msg);
  CHECK(strstr(msg, "'a:0'") && strstr(msg, "'d:0'"));
  p.offset[d] = keep;
  p.last_use[a] = 1; /* the interval no longer covers the Add */
  CHECK_FAILS(infer_memory_plan_verify(net, &p), INFER_ERR_INTERNAL, msg);
  CHECK(strstr(msg, "'a:0'") != NULL);
  infer_memory_plan_free(&p);
  infer_network_release(net);
}

/* verify() against deliberately broken plans. */
static void test_verify_catches(void) {
  InferTensorId x;
  InferNetwork *net = new_net(&x);
  InferTensorId a = relu(net, "a", x), b = relu(net, "b", a), c = relu(net, "c", b);
  InferTensorId y = relu(net, "y", c);
  CHECK_OK(infer_network_mark_output(net, y));
  size_t bytes[16];
  bool planned[16];
  activations(net, bytes, planned, 512);
  InferMemoryPlan p;
  CHECK_OK(infer_memory_plan_build(net, bytes, planned, 256, &p));
  CHECK_OK(infer_memory_plan_verify(net, &p));
  CHECK(p.arena_bytes == 1024);
  CHECK(p.offset[a] == p.offset[c]); /* a and c share */
  char msg[512];

  int64_t keep = p.offset[b];
  p.offset[b] = p.offset[a]; /* a and b are live together at layer 1 */
  CHECK_FAILS(infer_memory_plan_verify(net, &p), INFER_ERR_INTERNAL, msg);
  CHECK(strstr(msg, "'a:0'") && strstr(msg, "'b:0'"));
  p.offset[b] = p.offset[a] + 256; /* partial overlap */
  CHECK_FAILS(infer_memory_plan_verify(net, &p), INFER_ERR_INTERNAL, msg);
  p.offset[b] = keep + 1; /* misaligned */
  CHECK_FAILS(infer_memory_plan_verify(net, &p), INFER_ERR_INTERNAL, msg);
  CHECK(strstr(msg, "'b:0'") && strstr(msg, "multiple"));
  p.offset[b] = (int64_t)p.arena_bytes; /* past the arena */
  CHECK_FAILS(infer_memory_plan_verify(net, &p), INFER_ERR_INTERNAL, msg);
  CHECK(strstr(msg, "arena") != NULL);
  p.offset[b] = -7;
  CHECK_FAILS(infer_memory_plan_verify(net, &p), INFER_ERR_INTERNAL, msg);
  p.offset[b] = keep;
  CHECK_OK(infer_memory_plan_verify(net, &p));
  p.arena_bytes = 512; /* too small */
  CHECK_FAILS(infer_memory_plan_verify(net, &p), INFER_ERR_INTERNAL, msg);
  p.arena_bytes = 1024;
  p.n_tensors--;
  CHECK_FAILS(infer_memory_plan_verify(net, &p), INFER_ERR_INTERNAL, msg);
  p.n_tensors++;
  CHECK_OK(infer_memory_plan_verify(net, &p));
  infer_memory_plan_free(&p);
  infer_memory_plan_free(&p); /* twice is harmless */
  infer_network_release(net);
}

/* Zero-sized tensors, unread tensors, a planned input, errors. */
static void test_edge_cases(void) {
  InferTensorId x;
  InferNetwork *net = new_net(&x);
  InferTensorId a = relu(net, "a", x), dead = relu(net, "dead", a), b = relu(net, "b", a);
  InferTensorId y = relu(net, "y", b);
  CHECK_OK(infer_network_mark_output(net, y));
  size_t bytes[16];
  bool planned[16];
  activations(net, bytes, planned, 1000);
  bytes[b] = 0;
  InferMemoryPlan p;
  CHECK_OK(infer_memory_plan_build(net, bytes, planned, 0 /* = 1 */, &p));
  CHECK(p.alignment == 1);
  CHECK(p.offset[b] == 0 && p.size[b] == 0);
  CHECK(p.first_use[dead] == 1 && p.last_use[dead] == 1); /* never read: only its producer */
  CHECK(p.first_use[a] == 0 && p.last_use[a] == 2);
  CHECK(p.lower_bound == 2000 && p.arena_bytes == 2000);
  CHECK_OK(infer_memory_plan_verify(net, &p));
  check_plan_brute(net, &p);
  infer_memory_plan_free(&p);

  /* the graph input planned too: live from layer 0 to its last reader */
  planned[x] = true;
  bytes[x] = 1000;
  CHECK_OK(infer_memory_plan_build(net, bytes, planned, 8, &p));
  CHECK(p.first_use[x] == 0 && p.last_use[x] == 0 && p.offset[x] >= 0);
  CHECK(!overlaps(&p, x, a));
  CHECK_OK(infer_memory_plan_verify(net, &p));
  infer_memory_plan_free(&p);
  planned[x] = false;

  /* nothing planned */
  bool none[16] = {false};
  CHECK_OK(infer_memory_plan_build(net, bytes, none, 256, &p));
  CHECK(p.arena_bytes == 0 && p.lower_bound == 0 && p.no_reuse_bytes == 0);
  CHECK_OK(infer_memory_plan_verify(net, &p));
  infer_memory_plan_free(&p);

  /* sizes that overflow */
  char msg[512];
  bytes[a] = SIZE_MAX - 3;
  CHECK_FAILS(infer_memory_plan_build(net, bytes, planned, 256, &p), INFER_ERR_INVALID_ARGUMENT,
              msg);
  CHECK(strstr(msg, "'a:0'") != NULL);
  CHECK(p.offset == NULL && p.arena_bytes == 0);
  bytes[a] = (size_t)INT64_MAX / 2 + 1;
  bytes[dead] = (size_t)INT64_MAX / 2 + 1;
  CHECK_FAILS(infer_memory_plan_build(net, bytes, planned, 256, &p), INFER_ERR_INVALID_ARGUMENT,
              msg);
  CHECK_FAILS(infer_memory_plan_build(net, NULL, planned, 256, &p), INFER_ERR_INVALID_ARGUMENT,
              msg);
  infer_memory_plan_free(&p);
  infer_network_release(net);
}

/* The runtime path: shapes from a shape pass of a network with a dynamic
 * batch bound to 8. */
static void test_for_pass(void) {
  InferNetwork *net = NULL;
  CHECK_OK(infer_network_create(&net));
  InferShape s = {2, {-1, 100}};
  InferTensorId x;
  CHECK_OK(infer_network_add_input(net, "x", INFER_DTYPE_F32, &s, &x));
  InferTensorId a = relu(net, "a", x), b = relu(net, "b", a), c = add(net, "c", a, b);
  InferTensorId y = relu(net, "y", c);
  CHECK_OK(infer_network_mark_output(net, y));
  CHECK_OK(infer_network_mark_output(net, b)); /* an output read later: not planned */
  InferShapePass pass;
  CHECK_OK(infer_shape_pass_init(&pass, net));
  InferShape bound = {2, {8, 100}};
  InferShapePassOptions opt = {.input_shapes = &bound, .has_dynamic_dims = true};
  CHECK_OK(infer_shape_pass_run(&pass, &opt));
  InferMemoryPlan p;
  CHECK_OK(infer_memory_plan_for_pass(net, &pass, 256, &p));
  CHECK(p.offset[x] == -1 && p.offset[b] == -1 && p.offset[y] == -1);
  CHECK(p.offset[a] >= 0 && p.offset[c] >= 0);
  CHECK(p.size[a] == 3200 && p.size[c] == 3200);
  CHECK(!overlaps(&p, a, c));
  CHECK(p.lower_bound == 6400 && p.arena_bytes == 6656); /* 3200 -> 3328 aligned */
  CHECK_OK(infer_memory_plan_verify(net, &p));
  infer_memory_plan_free(&p);
  infer_shape_pass_free(&pass);
  infer_network_release(net);
}

/* ---- property test over random DAGs ---- */

static void test_random_dags(void) {
  int n_nets = 300;
  double ratio_sum = 0;
  int n_ratio = 0, n_opt = 0;
  for (int iter = 0; iter < n_nets; iter++) {
    InferNetwork *net = NULL;
    CHECK_OK(infer_network_create(&net));
    if (!net) return;
    /* a few shape classes; tensors of one class can be added */
    int n_classes = 1 + (int)rnd_below(3);
    InferTensorId ids[256];
    int cls[256], n_ids = 0;
    for (int k = 0; k < n_classes; k++) {
      InferShape s = {2, {1 + (int64_t)rnd_below(4), 1 + (int64_t)rnd_below(700)}};
      char name[32];
      snprintf(name, sizeof name, "in%d", k);
      CHECK_OK(infer_network_add_input(net, name, INFER_DTYPE_F32, &s, &ids[n_ids]));
      cls[n_ids++] = k;
    }
    int n_layers = 1 + (int)rnd_below(60);
    for (int l = 0; l < n_layers && n_ids < 256; l++) {
      char name[32];
      snprintf(name, sizeof name, "t%d", l);
      /* prefer recent tensors so chains get long, sometimes reach far back */
      int lo = rnd_below(4) == 0 ? 0 : (n_ids > 6 ? n_ids - 6 : 0);
      int i = lo + (int)rnd_below((uint32_t)(n_ids - lo));
      if (rnd_below(2)) {
        ids[n_ids] = relu(net, name, ids[i]);
      } else {
        int same[256], n_same = 0;
        for (int j = 0; j < n_ids; j++)
          if (cls[j] == cls[i]) same[n_same++] = j;
        ids[n_ids] = add(net, name, ids[i], ids[same[rnd_below((uint32_t)n_same)]]);
      }
      cls[n_ids] = cls[i];
      n_ids++;
    }
    CHECK_OK(infer_network_mark_output(net, ids[n_ids - 1]));
    for (int k = 0; k < 2; k++) {
      int j = n_classes + (int)rnd_below((uint32_t)(n_ids - n_classes));
      if (!net->tensors[ids[j]].is_output) CHECK_OK(infer_network_mark_output(net, ids[j]));
    }
    const size_t aligns[3] = {1, 64, 256};
    size_t align = aligns[rnd_below(3)];

    /* sizes from the shapes */
    InferShapePass pass;
    CHECK_OK(infer_shape_pass_init(&pass, net));
    InferShapePassOptions opt = {0};
    CHECK_OK(infer_shape_pass_run(&pass, &opt));
    InferMemoryPlan p;
    InferStatus *st = infer_memory_plan_for_pass(net, &pass, align, &p);
    CHECK_OK(st);
    if (!st) {
      InferStatus *vs = infer_memory_plan_verify(net, &p);
      CHECK_OK(vs);
      check_plan_brute(net, &p);
      if (p.lower_bound) {
        ratio_sum += (double)p.arena_bytes / (double)p.lower_bound;
        n_ratio++;
        n_opt += p.arena_bytes == ((p.lower_bound + align - 1) / align) * align;
      }
      /* corrupt: make two tensors that are live together share bytes */
      int32_t first_a = -1, first_b = -1;
      for (int32_t a = 0; a < net->n_tensors && first_a < 0; a++)
        for (int32_t b = a + 1; b < net->n_tensors; b++)
          if (p.offset[a] >= 0 && p.offset[b] >= 0 && p.size[a] && p.size[b] &&
              !(p.last_use[a] < p.first_use[b] || p.last_use[b] < p.first_use[a])) {
            first_a = a;
            first_b = b;
            break;
          }
      if (first_a >= 0) {
        p.offset[first_b] = p.offset[first_a];
        char msg[512];
        CHECK_FAILS(infer_memory_plan_verify(net, &p), INFER_ERR_INTERNAL, msg);
      }
      infer_memory_plan_free(&p);
    }
    infer_shape_pass_free(&pass);

    /* random sizes (zeros included) and a random subset planned */
    size_t *bytes = calloc((size_t)net->n_tensors, sizeof *bytes);
    bool *planned = calloc((size_t)net->n_tensors, sizeof *planned);
    for (int32_t t = 0; t < net->n_tensors; t++) {
      planned[t] = net->tensors[t].producer >= 0 && rnd_below(5) != 0;
      bytes[t] = rnd_below(8) == 0 ? 0 : (size_t)rnd_below(1u << 20);
    }
    CHECK_OK(infer_memory_plan_build(net, bytes, planned, align, &p));
    CHECK_OK(infer_memory_plan_verify(net, &p));
    check_plan_brute(net, &p);
    for (int32_t t = 0; t < net->n_tensors; t++) {
      CHECK((p.offset[t] >= 0) == planned[t]);
      if (planned[t] && bytes[t] == 0) CHECK(p.offset[t] == 0);
    }
    infer_memory_plan_free(&p);
    free(bytes);
    free(planned);
    infer_network_release(net);
  }
  printf("random DAGs: %d nets, mean arena / lower bound %.4f, %d of %d at the bound\n", n_nets,
         n_ratio ? ratio_sum / n_ratio : 0.0, n_opt, n_ratio);
}

/* Many tensors live at once: t_i = relu(x), then s_i = s_(i-1) + t_i. With
 * enough of them the conflict graph is too large for adjacency lists and
 * the planner compares pairs directly; both ways must give valid plans. */
static void test_dense_overlap(int n_branches) {
  InferTensorId x;
  InferNetwork *net = new_net(&x);
  InferTensorId *t = calloc((size_t)n_branches, sizeof *t);
  char name[32];
  for (int i = 0; i < n_branches; i++) {
    snprintf(name, sizeof name, "t%d", i);
    t[i] = relu(net, name, x);
  }
  InferTensorId sum = t[0];
  for (int i = 1; i < n_branches; i++) {
    snprintf(name, sizeof name, "s%d", i);
    sum = add(net, name, sum, t[i]);
  }
  CHECK_OK(infer_network_mark_output(net, sum));
  size_t *bytes = calloc((size_t)net->n_tensors, sizeof *bytes);
  bool *planned = calloc((size_t)net->n_tensors, sizeof *planned);
  activations(net, bytes, planned, 0);
  for (int32_t i = 0; i < net->n_tensors; i++) bytes[i] = 64 * (1 + rnd_below(16));
  InferMemoryPlan p;
  CHECK_OK(infer_memory_plan_build(net, bytes, planned, 64, &p));
  CHECK_OK(infer_memory_plan_verify(net, &p));
  check_plan_brute(net, &p);
  printf("dense overlap (%d branches): no reuse %zu arena %zu lower bound %zu\n", n_branches,
         p.no_reuse_bytes, p.arena_bytes, p.lower_bound);
  infer_memory_plan_free(&p);
  free(bytes);
  free(planned);
  free(t);
  infer_network_release(net);
}

/* ---- the generated ONNX models ---- */

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void plan_model(const char *dir, const char *name) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s/model.onnx", dir, name);
  struct stat sb;
  if (stat(path, &sb) != 0) return;
  InferNetwork *net = NULL;
  InferEngine *engine = NULL;
  CHECK_OK(infer_onnx_parse_file(path, &net));
  if (net) CHECK_OK(test_build_cpu(net, &engine));
  infer_network_release(net);
  if (!engine) return;
  const InferNetwork *en = engine->net;
  InferShapePass pass;
  CHECK_OK(infer_shape_pass_init(&pass, en));
  InferShapePassOptions opt = {.input_shapes = engine->input_build_shapes,
                               .has_dynamic_dims = true,
                               .small_value_elems = 4096};
  InferStatus *st = infer_shape_pass_run(&pass, &opt);
  CHECK_OK(st);
  InferMemoryPlan p;
  if (!st) {
    st = infer_memory_plan_for_pass(en, &pass, 256, &p);
    CHECK_OK(st);
  }
  if (!st) {
    CHECK_OK(infer_memory_plan_verify(en, &p));
    check_plan_brute(en, &p);
    int planned = 0;
    for (int32_t t = 0; t < en->n_tensors; t++) planned += p.offset[t] >= 0;
    printf("%-22s layers %4d activations %4d  no reuse %10zu  arena %10zu  lower bound %10zu"
           "  (arena/bound %.3f, saved %.1f%%)\n",
           name, en->n_layers, planned, p.no_reuse_bytes, p.arena_bytes, p.lower_bound,
           p.lower_bound ? (double)p.arena_bytes / (double)p.lower_bound : 1.0,
           p.no_reuse_bytes ? 100.0 * (1.0 - (double)p.arena_bytes / (double)p.no_reuse_bytes)
                            : 0.0);
    infer_memory_plan_free(&p);
  }
  infer_shape_pass_free(&pass);
  infer_engine_release(engine);
}

static void test_generated_models(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) {
    printf("generated models: %s not found, skipped\n", dir);
    return;
  }
  char *names[256];
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) && n < 256)
    if (e->d_name[0] != '.') names[n++] = strdup(e->d_name);
  closedir(d);
  qsort(names, (size_t)n, sizeof *names, cmp_str);
  for (int i = 0; i < n; i++) {
    if (names[i]) plan_model(dir, names[i]);
    free(names[i]);
  }
}

int main(int argc, char **argv) {
  test_chain();
  test_residual();
  test_verify_catches();
  test_edge_cases();
  test_for_pass();
  test_random_dags();
  test_dense_overlap(100);
  test_dense_overlap(2100); /* > 2M conflicting pairs */
  test_generated_models(argc > 1 ? argv[1] : "/tmp/b1/tests/generated_models");
  TEST_MAIN_END("memory_plan");
}
