/* Concat elimination (engine/runtime/concat_elimination.c): the memory plan
 * places a Concat's inputs inside its output and the executor skips it.
 *
 * Each case builds a small network, checks whether the engine's plan marks
 * the Concat in place (and that the plan verifies), runs it with profiling
 * (an eliminated Concat records no call) and compares its outputs bit for
 * bit with a run of the same engine on a plan without elimination. The
 * generated ONNX models go through the same comparison.
 *
 * Usage: test_concat_elimination [generated_models folder] */
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

#include "engine_internal.h"
#include "infer/infer.h"
#include "memory_plan.h"
#include "test_util.h"

static uint32_t rng_state = 0x12345678u;
static float frand(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return (float)((double)rng_state / 4294967296.0 * 4.0 - 2.0);
}

/* ---- building networks ---- */

static InferNetwork *new_net(void) {
  InferNetwork *net = NULL;
  CHECK_OK(infer_network_create(&net));
  return net;
}

static InferTensorId input(InferNetwork *net, const char *name, int rank, const int64_t *dims) {
  InferShape s = infer_shape_make(rank, dims);
  InferTensorId t = INFER_NO_TENSOR;
  CHECK_OK(infer_network_add_input(net, name, INFER_DTYPE_F32, &s, &t));
  return t;
}

static InferTensorId act(InferNetwork *net, const char *name, InferUnaryKind k, InferTensorId x) {
  InferTensorId y = INFER_NO_TENSOR;
  CHECK_OK(infer_network_add_activation(net, name, x, k, 0, 0, &y));
  return y;
}

static InferTensorId concat(InferNetwork *net, const char *name, int n, const InferTensorId *in,
                            int64_t axis) {
  InferTensorId y = INFER_NO_TENSOR;
  CHECK_OK(infer_network_add_concat(net, name, n, in, axis, &y));
  return y;
}

static InferTensorId concat2(InferNetwork *net, const char *name, InferTensorId a,
                             InferTensorId b, int64_t axis) {
  InferTensorId in[2] = {a, b};
  return concat(net, name, 2, in, axis);
}

static InferTensorId constant(InferNetwork *net, const char *name, int rank, const int64_t *dims) {
  InferShape s = infer_shape_make(rank, dims);
  int64_t n = infer_shape_numel(&s);
  float *v = malloc(sizeof(float) * (size_t)n);
  for (int64_t i = 0; i < n; i++) v[i] = frand();
  InferTensorId t = INFER_NO_TENSOR;
  CHECK_OK(infer_network_add_constant(net, name, INFER_DTYPE_F32, &s, v, &t));
  free(v);
  return t;
}

/* ---- running ---- */

typedef struct Run {
  int n;
  float *data[8];
  size_t bytes[8];
} Run;

static void run_free(Run *r) {
  for (int i = 0; i < r->n; i++) free(r->data[i]);
  memset(r, 0, sizeof *r);
}

/* Runs the engine (build shapes, seeded inputs) with profiling; *skipped
 * counts layers that recorded no call. */
static bool run_engine(InferEngine *e, Run *out, int *skipped) {
  memset(out, 0, sizeof *out);
  InferContext *c = NULL;
  CHECK_OK(infer_context_create(e, &c));
  if (!c) return false;
  infer_context_set_profiling(c, true);
  float *inputs[8] = {0};
  rng_state = 0x9abcdefu;
  bool ok = infer_engine_num_io(e) <= 8;
  for (int i = 0; ok && i < infer_engine_num_io(e); i++) {
    if (!infer_engine_io_is_input(e, i)) continue;
    InferShape s = e->input_build_shapes[i];
    int64_t n = infer_shape_numel(&s);
    inputs[i] = malloc(sizeof(float) * (size_t)(n + 1));
    for (int64_t k = 0; k < n; k++) inputs[i][k] = frand();
    const char *name = infer_engine_io_name(e, i);
    CHECK_OK(infer_context_set_input_shape(c, name, &s));
    CHECK_OK(infer_context_set_tensor_address(c, name, inputs[i]));
  }
  InferStatus *st = ok ? infer_context_enqueue(c, NULL) : NULL;
  CHECK_OK(st);
  ok = ok && !st;
  for (int i = 0; ok && i < infer_engine_num_io(e); i++) {
    if (infer_engine_io_is_input(e, i)) continue;
    InferTensorView v;
    st = infer_context_get_output(c, infer_engine_io_name(e, i), &v);
    CHECK_OK(st);
    if (st) {
      ok = false;
      break;
    }
    size_t bytes = (size_t)infer_shape_numel(&v.shape) * infer_dtype_size(v.dtype);
    out->data[out->n] = malloc(bytes + 1);
    memcpy(out->data[out->n], v.data, bytes);
    out->bytes[out->n++] = bytes;
  }
  *skipped = 0;
  for (int l = 0; l < infer_context_profile_size(c); l++) {
    double ms;
    int64_t calls;
    CHECK_OK(infer_context_profile_entry(c, l, &ms, &calls));
    *skipped += calls == 0;
  }
  for (int i = 0; i < 8; i++) free(inputs[i]);
  infer_context_release(c);
  return ok;
}

/* Gives the engine a plan without concat elimination (for the reference
 * run); an engine without a plan (unbounded shapes) keeps none. */
static void plan_without_elimination(InferEngine *e) {
  const InferMemoryPlan *had = NULL;
  CHECK_OK(infer_engine_memory_plan(e, &had));
  if (!had) return;
  infer_engine_free_memory_plan(e);
  InferShapePass pass;
  CHECK_OK(infer_shape_pass_init(&pass, e->net));
  InferShapePassOptions opt = {e->input_max_shapes, true, 4096, 0, false, true};
  CHECK_OK(infer_shape_pass_run(&pass, &opt));
  InferMemoryPlan *plan = calloc(1, sizeof *plan);
  CHECK_OK(infer_memory_plan_for_pass(e->net, &pass, 256, plan));
  infer_shape_pass_free(&pass);
  e->mem_plan = plan;
  e->mem_plan_done = true;
}

static int count_op(const InferNetwork *net, InferOp op) {
  int n = 0;
  for (int32_t l = 0; l < net->n_layers; l++) n += net->layers[l].op == op;
  return n;
}

/* Runs the engine with and without elimination; returns how many Concats
 * its plan eliminated (-1 on failure). Outputs must match exactly. */
static int check_engine(InferEngine *e, const char *what) {
  const InferMemoryPlan *plan = NULL;
  CHECK_OK(infer_engine_memory_plan(e, &plan));
  int eliminated = plan ? plan->n_in_place : 0;
  size_t arena = plan ? plan->arena_bytes : 0;
  if (plan) CHECK_OK(infer_memory_plan_verify(e->net, plan));
  for (int32_t l = 0; plan && plan->in_place && l < e->net->n_layers; l++)
    if (plan->in_place[l]) CHECK(e->net->layers[l].op == INFER_OP_CONCAT);
  Run a, b;
  int skipped_a = 0, skipped_b = 0;
  bool ok = run_engine(e, &a, &skipped_a);
  plan_without_elimination(e);
  ok = run_engine(e, &b, &skipped_b) && ok;
  size_t arena_plain = e->mem_plan ? e->mem_plan->arena_bytes : 0;
  CHECK(ok);
  /* every eliminated Concat ran no kernel and recorded no call */
  CHECK(skipped_a == skipped_b + eliminated);
  CHECK(skipped_b == 0);
  CHECK(arena <= arena_plain || !eliminated);
  bool same = ok && a.n == b.n;
  for (int i = 0; same && i < a.n; i++)
    same = a.bytes[i] == b.bytes[i] && memcmp(a.data[i], b.data[i], a.bytes[i]) == 0;
  CHECK(same);
  if (!same) fprintf(stderr, "  %s: outputs differ with concat elimination\n", what);
  printf("  %-24s concats %d, eliminated %d, arena %zu -> %zu bytes\n", what,
         count_op(e->net, INFER_OP_CONCAT), eliminated, arena_plain, arena);
  run_free(&a);
  run_free(&b);
  return ok ? eliminated : -1;
}

/* Builds net on the CPU (fixed input shapes: the network's own, or the
 * profile given) and checks it; returns the eliminated Concats. */
static int check_net(InferNetwork *net, const char *what, const InferShape *min,
                     const InferShape *max) {
  InferBuildConfig *cfg = NULL;
  InferEngine *e = NULL;
  CHECK_OK(infer_build_config_create(&cfg));
  infer_build_config_set_backend(cfg, INFER_BACKEND_CPU);
  if (min) {
    const char *name = infer_network_tensor_name(net, infer_network_input(net, 0));
    CHECK_OK(infer_build_config_set_input_range(cfg, name, min, min, max));
  }
  CHECK_OK(infer_engine_build(net, cfg, &e));
  infer_build_config_release(cfg);
  int n = e ? check_engine(e, what) : -1;
  infer_engine_release(e);
  infer_network_release(net);
  return n;
}

/* ---- where it applies ---- */

/* NCHW, batch 1, over channels: relu(x) ++ sigmoid(x), then a reader. */
static void test_channels(void) {
  InferNetwork *net = new_net();
  const int64_t d[4] = {1, 4, 8, 8}; /* 1 KiB per input: slices stay 256-aligned */
  InferTensorId x = input(net, "x", 4, d);
  InferTensorId c = concat2(net, "cat", act(net, "a", INFER_UNARY_RELU, x),
                            act(net, "b", INFER_UNARY_SIGMOID, x), 1);
  CHECK_OK(infer_network_mark_output(net, act(net, "y", INFER_UNARY_NEG, c)));
  CHECK(check_net(net, "channels, batch 1", NULL, NULL) == 1);
}

/* Axis 0 of rank-2 tensors, three inputs of different sizes. */
static void test_axis0(void) {
  InferNetwork *net = new_net();
  const int64_t d[2] = {4, 64};
  InferTensorId x = input(net, "x", 2, d);
  InferTensorId in[3] = {act(net, "a", INFER_UNARY_RELU, x), act(net, "b", INFER_UNARY_TANH, x),
                         act(net, "c", INFER_UNARY_ABS, x)};
  InferTensorId c = concat(net, "cat", 3, in, 0);
  CHECK_OK(infer_network_mark_output(net, act(net, "y", INFER_UNARY_EXP, c)));
  CHECK(check_net(net, "axis 0", NULL, NULL) == 1);
}

/* A Concat of a Concat: both eliminated, one block holds everything; the
 * inputs have other readers after the Concats (they read their slices). */
static void test_nested_and_readers(void) {
  InferNetwork *net = new_net();
  const int64_t d[4] = {1, 2, 8, 8};
  InferTensorId x = input(net, "x", 4, d);
  InferTensorId a = act(net, "a", INFER_UNARY_RELU, x), b = act(net, "b", INFER_UNARY_SIGMOID, x);
  InferTensorId c1 = concat2(net, "cat1", a, b, 1);
  InferTensorId e = act(net, "e", INFER_UNARY_TANH, c1);
  InferTensorId c2 = concat2(net, "cat2", c1, e, 1);
  InferTensorId y = act(net, "y", INFER_UNARY_NEG, c2), z = INFER_NO_TENSOR;
  CHECK_OK(infer_network_add_elementwise(net, "z", a, b, INFER_BINARY_MUL, &z));
  CHECK_OK(infer_network_mark_output(net, y));
  CHECK_OK(infer_network_mark_output(net, z));
  CHECK(check_net(net, "nested, other readers", NULL, NULL) == 2);
}

/* An input made from another input of the same Concat (it reads slice 0
 * while it writes slice 1). */
static void test_input_from_sibling(void) {
  InferNetwork *net = new_net();
  const int64_t d[4] = {1, 4, 4, 4};
  InferTensorId x = input(net, "x", 4, d);
  InferTensorId a = act(net, "a", INFER_UNARY_RELU, x);
  InferTensorId c = concat2(net, "cat", a, act(net, "b", INFER_UNARY_SIGMOID, a), 1);
  CHECK_OK(infer_network_mark_output(net, act(net, "y", INFER_UNARY_NEG, c)));
  CHECK(check_net(net, "input from a sibling", NULL, NULL) == 1);
}

/* ---- where it must not ---- */

static void test_refused(void) {
  const int64_t d4[4] = {1, 4, 8, 8}, b2[4] = {2, 4, 8, 8}, nhwc[4] = {1, 8, 8, 4};
  const int64_t odd[4] = {1, 3, 5, 5};
  InferNetwork *net;
  InferTensorId x, a, b, c;

  /* batch 2 over channels: each input is two ranges of the output */
  net = new_net();
  x = input(net, "x", 4, b2);
  c = concat2(net, "cat", act(net, "a", INFER_UNARY_RELU, x), act(net, "b", INFER_UNARY_TANH, x), 1);
  CHECK_OK(infer_network_mark_output(net, act(net, "y", INFER_UNARY_NEG, c)));
  CHECK(check_net(net, "batch 2 over channels", NULL, NULL) == 0);

  /* channels-last over the last axis */
  net = new_net();
  x = input(net, "x", 4, nhwc);
  c = concat2(net, "cat", act(net, "a", INFER_UNARY_RELU, x), act(net, "b", INFER_UNARY_TANH, x), 3);
  CHECK_OK(infer_network_mark_output(net, act(net, "y", INFER_UNARY_NEG, c)));
  CHECK(check_net(net, "last axis (NHWC)", NULL, NULL) == 0);

  /* a graph input as an input */
  net = new_net();
  x = input(net, "x", 4, d4);
  c = concat2(net, "cat", x, act(net, "a", INFER_UNARY_RELU, x), 1);
  CHECK_OK(infer_network_mark_output(net, act(net, "y", INFER_UNARY_NEG, c)));
  CHECK(check_net(net, "graph input", NULL, NULL) == 0);

  /* a constant as an input */
  net = new_net();
  x = input(net, "x", 4, d4);
  c = concat2(net, "cat", act(net, "a", INFER_UNARY_RELU, x), constant(net, "k", 4, d4), 1);
  CHECK_OK(infer_network_mark_output(net, act(net, "y", INFER_UNARY_NEG, c)));
  CHECK(check_net(net, "constant", NULL, NULL) == 0);

  /* the Concat's output is a graph output */
  net = new_net();
  x = input(net, "x", 4, d4);
  c = concat2(net, "cat", act(net, "a", INFER_UNARY_RELU, x), act(net, "b", INFER_UNARY_TANH, x), 1);
  CHECK_OK(infer_network_mark_output(net, c));
  CHECK(check_net(net, "output is a graph output", NULL, NULL) == 0);

  /* an input is a graph output */
  net = new_net();
  x = input(net, "x", 4, d4);
  a = act(net, "a", INFER_UNARY_RELU, x);
  c = concat2(net, "cat", a, act(net, "b", INFER_UNARY_TANH, x), 1);
  CHECK_OK(infer_network_mark_output(net, act(net, "y", INFER_UNARY_NEG, c)));
  CHECK_OK(infer_network_mark_output(net, a));
  CHECK(check_net(net, "input is a graph output", NULL, NULL) == 0);

  /* one tensor twice */
  net = new_net();
  x = input(net, "x", 4, d4);
  a = act(net, "a", INFER_UNARY_RELU, x);
  c = concat2(net, "cat", a, a, 1);
  CHECK_OK(infer_network_mark_output(net, act(net, "y", INFER_UNARY_NEG, c)));
  CHECK(check_net(net, "one tensor twice", NULL, NULL) == 0);

  /* one tensor in two Concats: only the first gets it */
  net = new_net();
  x = input(net, "x", 4, d4);
  a = act(net, "a", INFER_UNARY_RELU, x);
  b = act(net, "b", INFER_UNARY_TANH, x);
  c = concat2(net, "cat1", a, b, 1);
  InferTensorId c2 = concat2(net, "cat2", b, act(net, "e", INFER_UNARY_ABS, x), 1);
  CHECK_OK(infer_network_mark_output(net, act(net, "y", INFER_UNARY_NEG, c)));
  CHECK_OK(infer_network_mark_output(net, act(net, "z", INFER_UNARY_NEG, c2)));
  CHECK(check_net(net, "tensor in two concats", NULL, NULL) == 1);

  /* slices off the arena alignment (3 x 5 x 5 floats = 300 bytes) */
  net = new_net();
  x = input(net, "x", 4, odd);
  c = concat2(net, "cat", act(net, "a", INFER_UNARY_RELU, x), act(net, "b", INFER_UNARY_TANH, x), 1);
  CHECK_OK(infer_network_mark_output(net, act(net, "y", INFER_UNARY_NEG, c)));
  CHECK(check_net(net, "unaligned slices", NULL, NULL) == 0);

  /* a dynamic batch whose profile leaves it free (min 1, max 4) */
  net = new_net();
  const int64_t dyn[4] = {-1, 4, 8, 8};
  x = input(net, "x", 4, dyn);
  c = concat2(net, "cat", act(net, "a", INFER_UNARY_RELU, x), act(net, "b", INFER_UNARY_TANH, x), 0);
  CHECK_OK(infer_network_mark_output(net, act(net, "y", INFER_UNARY_NEG, c)));
  InferShape lo = {4, {1, 4, 8, 8}}, hi = {4, {4, 4, 8, 8}};
  CHECK(check_net(net, "dynamic profile", &lo, &hi) == 0);

  /* the same network with the profile fixing the batch: eliminated */
  net = new_net();
  x = input(net, "x", 4, dyn);
  c = concat2(net, "cat", act(net, "a", INFER_UNARY_RELU, x), act(net, "b", INFER_UNARY_TANH, x), 0);
  CHECK_OK(infer_network_mark_output(net, act(net, "y", INFER_UNARY_NEG, c)));
  CHECK(check_net(net, "fixed profile", &hi, &hi) == 1);
}

/* The planner's checks: an alias that does not fit is refused, and verify
 * catches an in_place Concat whose inputs do not tile its output. */
static void test_plan_checks(void) {
  InferNetwork *net = new_net();
  const int64_t d[2] = {1, 64};
  InferTensorId x = input(net, "x", 2, d);
  InferTensorId a = act(net, "a", INFER_UNARY_RELU, x), b = act(net, "b", INFER_UNARY_TANH, x);
  InferTensorId c = concat2(net, "cat", a, b, 1);
  CHECK_OK(infer_network_mark_output(net, act(net, "y", INFER_UNARY_NEG, c)));
  size_t bytes[16] = {0}, off[16] = {0};
  bool planned[16] = {false};
  int32_t alias[16];
  for (int i = 0; i < 16; i++) alias[i] = -1;
  planned[a] = planned[b] = planned[c] = true;
  bytes[a] = bytes[b] = 256;
  bytes[c] = 512;
  alias[a] = alias[b] = c;
  off[b] = 256;
  InferMemoryPlan p;
  CHECK_OK(infer_memory_plan_build_aliased(net, bytes, planned, alias, off, 256, &p));
  CHECK(p.arena_bytes == 512);
  CHECK(p.offset[a] == p.offset[c] && p.offset[b] == p.offset[c] + 256);
  CHECK_OK(infer_memory_plan_verify(net, &p));
  /* mark the Concat in place, then break the tiling */
  p.in_place = calloc((size_t)net->n_layers, sizeof *p.in_place);
  p.n_layers = net->n_layers;
  p.in_place[net->tensors[c].producer] = true;
  CHECK_OK(infer_memory_plan_verify(net, &p));
  p.offset[b] = p.offset[a];
  char msg[512];
  CHECK_FAILS(infer_memory_plan_verify(net, &p), INFER_ERR_INTERNAL, msg);
  infer_memory_plan_free(&p);
  off[b] = 384; /* sticks out of c */
  CHECK_FAILS(infer_memory_plan_build_aliased(net, bytes, planned, alias, off, 128, &p),
              INFER_ERR_INVALID_ARGUMENT, msg);
  off[b] = 128; /* not a multiple of the alignment */
  CHECK_FAILS(infer_memory_plan_build_aliased(net, bytes, planned, alias, off, 256, &p),
              INFER_ERR_INVALID_ARGUMENT, msg);
  alias[c] = a; /* a cycle */
  off[b] = 256;
  CHECK_FAILS(infer_memory_plan_build_aliased(net, bytes, planned, alias, off, 256, &p),
              INFER_ERR_INVALID_ARGUMENT, msg);
  infer_network_release(net);
}

/* ---- the generated models ---- */

/* A CPU engine with every dynamic dim fixed at 1 (as inferexec builds
 * models without shape options): the plan is bounded and fixed. */
static InferEngine *build_fixed(const InferNetwork *net) {
  InferBuildConfig *cfg = NULL;
  InferEngine *e = NULL;
  CHECK_OK(infer_build_config_create(&cfg));
  infer_build_config_set_backend(cfg, INFER_BACKEND_CPU);
  for (int i = 0; i < infer_network_num_inputs(net); i++) {
    InferTensorId t = infer_network_input(net, i);
    InferShape s = infer_network_tensor_shape(net, t);
    for (int d = 0; d < s.rank; d++)
      if (s.d[d] < 0) s.d[d] = 1;
    CHECK_OK(infer_build_config_set_input_shape(cfg, infer_network_tensor_name(net, t), &s));
  }
  CHECK_OK(infer_engine_build(net, cfg, &e));
  infer_build_config_release(cfg);
  return e;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_models(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) {
    printf("generated models: %s not found, skipped\n", dir);
    return;
  }
  char *names[256];
  int n = 0, total = 0;
  struct dirent *ent;
  while ((ent = readdir(d)) && n < 256)
    if (ent->d_name[0] != '.') names[n++] = strdup(ent->d_name);
  closedir(d);
  qsort(names, (size_t)n, sizeof *names, cmp_str);
  for (int i = 0; i < n; i++) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/model.onnx", dir, names[i]);
    struct stat sb;
    InferNetwork *net = NULL;
    InferEngine *e = NULL;
    if (stat(path, &sb) == 0) {
      CHECK_OK(infer_onnx_parse_file(path, &net));
      if (net) e = build_fixed(net);
      int k = e ? check_engine(e, names[i]) : 0;
      total += k > 0 ? k : 0;
    }
    infer_engine_release(e);
    infer_network_release(net);
    free(names[i]);
  }
  printf("generated models: %d Concats eliminated\n", total);
}

int main(int argc, char **argv) {
  test_channels();
  test_axis0();
  test_nested_and_readers();
  test_input_from_sibling();
  test_refused();
  test_plan_checks();
  test_models(argc > 1 ? argv[1] : "/tmp/b1/tests/generated_models");
  TEST_MAIN_END("concat_elimination");
}
