/* Shape-tensor inputs (a Reshape's target shape, TopK's k given as graph
 * inputs): the engine marks them as host inputs, takes host pointers for
 * them on every backend, copies their values at enqueue, follows new values
 * on every run (no stale CUDA graph), and keeps the marks through a plan.
 *   test_host_inputs cpu|cuda     (cuda exits 77 without a device) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infer/infer.h"
#include "test_util.h"

#define NX 12

static InferNetwork *make_net(void) {
  InferNetwork *net;
  CHECK_OK(infer_network_create(&net));
  InferShape xs = {1, {NX}}, ss = {1, {2}}, ks = {1, {1}}, ws = {2, {3, 4}};
  InferTensorId x, s, k, w, y, r, rows, shape_w, z, top[2];
  CHECK_OK(infer_network_add_input(net, "x", INFER_DTYPE_F32, &xs, &x));
  CHECK_OK(infer_network_add_input(net, "s", INFER_DTYPE_I64, &ss, &s));
  CHECK_OK(infer_network_add_input(net, "k", INFER_DTYPE_I64, &ks, &k));
  CHECK_OK(infer_network_add_input(net, "w", INFER_DTYPE_F32, &ws, &w));
  InferOpParams p;
  memset(&p, 0, sizeof p);
  p.reshape.kind = INFER_RESHAPE_SHAPE;
  InferTensorId in[2] = {x, s};
  CHECK_OK(infer_network_add_layer(net, "reshape_s", INFER_OP_RESHAPE, &p, 2, in, 1, NULL, &y));
  const char *r_name[1] = {"r"}, *z_name[1] = {"z"};
  memset(&p, 0, sizeof p);
  p.unary.kind = INFER_UNARY_RELU;
  CHECK_OK(infer_network_add_layer(net, "relu", INFER_OP_UNARY, &p, 1, &y, 1, r_name, &r));
  /* w only through Shape: its values never matter, so it stays a device input */
  memset(&p, 0, sizeof p);
  CHECK_OK(infer_network_add_layer(net, "shape_w", INFER_OP_SHAPE, &p, 1, &w, 1, NULL, &shape_w));
  memset(&p, 0, sizeof p);
  p.reshape.kind = INFER_RESHAPE_SHAPE;
  in[1] = shape_w;
  CHECK_OK(infer_network_add_layer(net, "reshape_w", INFER_OP_RESHAPE, &p, 2, in, 1, z_name, &z));
  const int64_t two_rows[2] = {2, NX / 2};
  CHECK_OK(infer_network_add_reshape(net, "rows", x, 2, two_rows, &rows));
  memset(&p, 0, sizeof p);
  p.topk.axis = -1;
  p.topk.largest = true;
  p.topk.sorted = true;
  InferTensorId tin[2] = {rows, k};
  const char *top_names[2] = {"top", "top_idx"};
  CHECK_OK(infer_network_add_layer(net, "topk", INFER_OP_TOPK, &p, 2, tin, 2, top_names, top));
  CHECK_OK(infer_network_mark_output(net, r));
  CHECK_OK(infer_network_mark_output(net, z));
  CHECK_OK(infer_network_mark_output(net, top[0]));
  return net;
}

static void check_marks(const InferEngine *e) {
  const char *host[] = {"s", "k"}, *device[] = {"x", "w", "r", "z", "top"};
  for (int i = 0; i < 2; i++) CHECK(infer_engine_io_is_host(e, infer_engine_io_index(e, host[i])));
  for (int i = 0; i < 5; i++)
    CHECK(!infer_engine_io_is_host(e, infer_engine_io_index(e, device[i])));
}

/* An output copied to host memory; NULL on failure. */
static float *fetch(InferEngine *e, InferContext *ctx, const char *name, InferShape *shape) {
  InferTensorView v;
  memset(&v, 0, sizeof v);
  InferStatus *st = infer_context_get_output(ctx, name, &v);
  CHECK_OK(st);
  *shape = v.shape;
  int64_t n = infer_shape_numel(&v.shape);
  float *h = calloc((size_t)(n > 0 ? n : 1), sizeof *h);
  if (n > 0) CHECK_OK(infer_engine_copy_to_host(e, h, v.data, (size_t)n * sizeof *h));
  return h;
}

static int64_t largest_first(const float *row, int n, int rank) {
  int64_t best = 0;
  for (int i = 0; i < n; i++) {
    int above = 0;
    for (int j = 0; j < n; j++) above += row[j] > row[i];
    if (above == rank) best = i;
  }
  return best;
}

/* Runs the engine four times with new shape values in the same host
 * buffers and the same addresses (a replayed graph would keep the first
 * shapes), overwriting the values after each enqueue (enqueue copied them). */
static void run_changing_values(InferEngine *e, const char *label) {
  float x[NX];
  for (int i = 0; i < NX; i++) x[i] = (float)((i * 7) % NX) - 5.5f;
  float ws[12] = {0};
  const int64_t shapes[4][2] = {{3, 4}, {4, 3}, {2, 6}, {6, 2}};
  int64_t s[2], k[1];
  InferContext *ctx = NULL;
  InferStream *stream = NULL;
  void *dx = NULL, *dw = NULL;
  CHECK_OK(infer_context_create(e, &ctx));
  CHECK_OK(infer_stream_create(e, &stream));
  CHECK_OK(infer_engine_malloc(e, sizeof x, &dx));
  CHECK_OK(infer_engine_malloc(e, sizeof ws, &dw));
  if (!ctx || !stream || !dx || !dw) goto done;
  CHECK_OK(infer_engine_copy_to_device(e, dx, x, sizeof x));
  CHECK_OK(infer_engine_copy_to_device(e, dw, ws, sizeof ws));
  CHECK_OK(infer_context_set_tensor_address(ctx, "x", dx));
  CHECK_OK(infer_context_set_tensor_address(ctx, "w", dw));
  CHECK_OK(infer_context_set_tensor_address(ctx, "s", s));
  CHECK_OK(infer_context_set_tensor_address(ctx, "k", k));
  for (int run = 0; run < 4; run++) {
    s[0] = shapes[run][0];
    s[1] = shapes[run][1];
    k[0] = run + 1;
    CHECK_OK(infer_context_enqueue(ctx, stream));
    s[0] = s[1] = -7; /* the run must not see this */
    k[0] = 99;
    CHECK_OK(infer_stream_synchronize(stream));
    InferShape rs, zs, ts;
    float *r = fetch(e, ctx, "r", &rs), *z = fetch(e, ctx, "z", &zs), *t = fetch(e, ctx, "top", &ts);
    CHECK(rs.rank == 2 && rs.d[0] == shapes[run][0] && rs.d[1] == shapes[run][1]);
    CHECK(zs.rank == 2 && zs.d[0] == 3 && zs.d[1] == 4);
    CHECK(ts.rank == 2 && ts.d[0] == 2 && ts.d[1] == run + 1);
    int bad = 0;
    for (int i = 0; i < NX && rs.rank == 2; i++) bad += r[i] != (x[i] > 0 ? x[i] : 0.0f);
    for (int i = 0; i < NX && zs.rank == 2; i++) bad += z[i] != x[i];
    for (int row = 0; row < 2 && ts.rank == 2 && ts.d[1] == run + 1; row++)
      for (int j = 0; j <= run; j++)
        bad += t[row * (run + 1) + j] != x[row * 6 + largest_first(x + row * 6, 6, j)];
    CHECK(bad == 0);
    if (bad) printf("  %s run %d: %d wrong values\n", label, run, bad);
    free(r);
    free(z);
    free(t);
  }
done:
  infer_engine_mfree(e, dx);
  infer_engine_mfree(e, dw);
  infer_stream_release(stream);
  infer_context_release(ctx);
}

int main(int argc, char **argv) {
  bool cuda = argc > 1 && strcmp(argv[1], "cuda") == 0;
  InferBackendKind backend = cuda ? INFER_BACKEND_CUDA : INFER_BACKEND_CPU;
  if (cuda) {
    InferStatus *st = infer_backend_init(backend);
    if (st) {
      printf("skipped: no CUDA device (%s)\n", infer_status_message(st));
      infer_status_free(st);
      return 77;
    }
  }
  InferNetwork *net = make_net();
  InferBuildConfig *cfg = NULL;
  InferEngine *e = NULL, *loaded = NULL;
  CHECK_OK(infer_build_config_create(&cfg));
  infer_build_config_set_backend(cfg, backend);
  CHECK_OK(infer_engine_build(net, cfg, &e));
  if (e) {
    check_marks(e);
    run_changing_values(e, "built");
    void *plan = NULL;
    size_t size = 0;
    CHECK_OK(infer_engine_serialize(e, &plan, &size));
    CHECK_OK(infer_engine_deserialize(plan, size, "host inputs plan", &loaded));
    free(plan);
  }
  if (loaded) {
    check_marks(loaded);
    run_changing_values(loaded, "loaded");
  }
  infer_engine_release(loaded);
  infer_engine_release(e);
  infer_build_config_release(cfg);
  infer_network_release(net);
  TEST_MAIN_END(cuda ? "host_inputs cuda" : "host_inputs cpu");
}
