/* What inferexec prints: the engine, its layers, the performance summary,
 * the per-layer profile, and the same as JSON. */
#include "inferexec_report.h"

#include <stdlib.h>
#include <string.h>

static const char *backend_name(InferBackendKind k) {
  return k == INFER_BACKEND_CUDA ? "cuda" : (k == INFER_BACKEND_CPU ? "cpu" : "auto");
}

void report_header(FILE *f, const InferexecOptions *o, const InferNetwork *net,
                   const InferEngine *engine, const Report *rep) {
  fprintf(f, "model: %s\n", o->onnx ? o->onnx : o->load_engine);
  fprintf(f, "backend: %s\n", backend_name(infer_engine_backend(engine)));
  if (net) fprintf(f, "parse: %.3f ms, build: %.3f ms\n", rep->parse_ms, rep->build_ms);
  else fprintf(f, "plan load: %.3f ms\n", rep->load_ms);
  if (o->save_engine) fprintf(f, "plan save: %.3f ms\n", rep->save_ms);
  if ((o->precisions & INFER_PRECISION_FP16) && infer_engine_backend(engine) == INFER_BACKEND_CPU)
    fprintf(f, "note: the CPU backend computes float layers in FP32 (INT8 layers in INT8)\n");
  char s[128];
  for (int i = 0; i < infer_engine_num_io(engine); i++) {
    InferShape shape = infer_engine_io_shape(engine, i);
    fprintf(f, "%s %s: %s %s\n", infer_engine_io_is_input(engine, i) ? "input" : "output",
            infer_engine_io_name(engine, i), infer_dtype_name(infer_engine_io_dtype(engine, i)),
            infer_shape_str(&shape, s, sizeof s));
  }
}

void report_graph(FILE *f, const InferNetwork *net, const InferEngine *engine) {
  int n = infer_engine_num_layers(engine);
  if (net) fprintf(f, "layers: %d -> %d\n", infer_network_num_layers(net), n);
  else fprintf(f, "layers: %d\n", n);
  if (net) {
    fprintf(f, "before optimization (%d layers):\n", infer_network_num_layers(net));
    for (int i = 0; i < infer_network_num_layers(net); i++)
      fprintf(f, "  [%3d] %-32s %s\n", i, infer_network_layer_name(net, i),
              infer_op_name(infer_network_layer_op(net, i)));
  }
  fprintf(f, "after optimization (%d layers):\n", n);
  for (int i = 0; i < n; i++) {
    InferLayerInfo li;
    if (infer_engine_layer_info(engine, i, &li)) continue;
    char s[128];
    fprintf(f, "  [%3d] %-32s %-14s %-5s %-5s %-14s -> %s %s\n", i, li.name, li.op, li.precision,
            li.layout, li.kernel, li.output,
            li.shape_known ? infer_shape_str(&li.output_shape, s, sizeof s) : "(run time)");
  }
}

static void stats_line(FILE *f, const char *what, const BenchStats *s) {
  fprintf(f, "%s: min = %.4f ms, max = %.4f ms, mean = %.4f ms, median = %.4f ms, "
             "percentile(90%%) = %.4f ms, percentile(95%%) = %.4f ms, percentile(99%%) = %.4f ms\n",
          what, s->min, s->max, s->mean, s->median, s->p90, s->p95, s->p99);
}

void report_summary(FILE *f, const InferexecOptions *o, const InferEngine *engine,
                    const BenchResult *b) {
  fprintf(f, "=== Performance summary ===\n");
  fprintf(f, "Throughput: %.3f qps\n", b->qps);
  stats_line(f, "Latency", &b->latency);
  stats_line(f, "Enqueue Time", &b->enqueue);
  stats_line(f, "H2D Latency", &b->h2d);
  stats_line(f, "Compute Time", &b->compute);
  stats_line(f, "D2H Latency", &b->d2h);
  fprintf(f, "Runs: %d over %d stream(s) in %.1f ms\n", b->runs, o->streams, b->wall_ms);
  fprintf(f, "Memory: activations %.3f MiB per context, weights %.3f MiB\n",
          b->activation_bytes / 1048576.0, infer_engine_weights_bytes(engine) / 1048576.0);
  size_t peak = 0, bound = 0;
  InferStatus *st = infer_engine_activation_bytes((InferEngine *)engine, &peak, &bound);
  if (!st && peak)
    fprintf(f, "Activation plan: peak %.3f MiB, lower bound %.3f MiB (at the profile's max shapes)\n",
            peak / 1048576.0, bound / 1048576.0);
  infer_status_free(st);
  if (b->latency.cv > 0.025)
    fprintf(f, "Warning: latency varies by %.1f%% (coefficient of variation > 2.5%%): the numbers "
               "are unstable; run longer (--duration) or on a quieter machine\n",
            100 * b->latency.cv);
  if (infer_engine_backend(engine) != INFER_BACKEND_CPU && b->enqueue.mean > 0.8 * b->latency.mean)
    fprintf(f, "Warning: enqueue takes most of the latency: throughput is bound by the host "
               "(try --cuda-graph)\n");
  if (b->h2d.mean + b->d2h.mean > 0.5 * b->compute.mean && b->h2d.mean + b->d2h.mean > 0)
    fprintf(f, "Warning: data transfers take as long as compute (try --no-data-transfers)\n");
  if (infer_engine_backend(engine) == INFER_BACKEND_CPU)
    fprintf(f, "Note: the CPU backend runs synchronously in host memory: enqueue time is compute "
               "time and there are no transfers\n");
}

InferStatus *report_profile(FILE *f, InferEngine *engine, const ToolTensor *inputs, int n_inputs,
                            int iterations, Report *rep) {
  InferContext *ctx;
  INFER_TRY(infer_context_create(engine, &ctx));
  InferStatus *st = NULL;
  /* device engines read their inputs from device copies */
  bool host = infer_engine_backend(engine) == INFER_BACKEND_CPU;
  void *device[64] = {0};
  for (int i = 0; !st && i < infer_engine_num_io(engine) && i < 64; i++) {
    if (!infer_engine_io_is_input(engine, i)) continue;
    const char *name = infer_engine_io_name(engine, i);
    for (int j = 0; j < n_inputs && !st; j++)
      if (strcmp(inputs[j].name, name) == 0) {
        const InferTensorView *v = &inputs[j].view;
        void *data = v->data;
        if (!host) {
          int64_t n = infer_shape_numel(&v->shape);
          size_t bytes = (size_t)(n > 0 ? n : 0) * infer_dtype_size(v->dtype);
          st = infer_engine_malloc(engine, bytes ? bytes : 1, &device[i]);
          if (!st) st = infer_engine_copy_to_device(engine, device[i], v->data, bytes);
          data = device[i];
        }
        if (!st) st = infer_context_set_input_shape(ctx, name, &v->shape);
        if (!st) st = infer_context_set_tensor_address(ctx, name, data);
      }
  }
  infer_context_set_profiling(ctx, true);
  int runs = iterations > 0 ? iterations : 1;
  for (int i = 0; !st && i < runs; i++) st = infer_context_enqueue(ctx, NULL);
  rep->n_layers = infer_engine_num_layers(engine);
  free(rep->layer_ms);
  rep->layer_ms = calloc((size_t)rep->n_layers + 1, sizeof *rep->layer_ms);
  if (!st && !rep->layer_ms) st = infer_status_new(INFER_ERR_OUT_OF_MEMORY, "out of memory");
  double total = 0;
  for (int l = 0; !st && l < rep->n_layers; l++) {
    double ms;
    int64_t calls;
    st = infer_context_profile_entry(ctx, l, &ms, &calls);
    rep->layer_ms[l] = calls ? ms / (double)calls : 0;
    total += rep->layer_ms[l];
  }
  if (!st) {
    fprintf(f, "=== Profile (mean over %d runs) ===\n", runs);
    fprintf(f, "%-40s %-14s %-5s %-16s %10s %7s\n", "layer", "op", "prec", "kernel", "time (ms)",
            "share");
    for (int l = 0; l < rep->n_layers; l++) {
      InferLayerInfo li;
      if (infer_engine_layer_info(engine, l, &li)) continue;
      fprintf(f, "%-40s %-14s %-5s %-16s %10.4f %6.1f%%\n", li.name, li.op, li.precision,
              li.kernel, rep->layer_ms[l],
              total > 0 ? 100 * rep->layer_ms[l] / total : 0);
    }
    fprintf(f, "%-40s %-14s %-5s %-16s %10.4f\n", "total", "", "", "", total);
  }
  infer_context_release(ctx);
  for (int i = 0; i < 64; i++) infer_engine_mfree(engine, device[i]);
  return st;
}

static void json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (; s && *s; s++) {
    if (*s == '"' || *s == '\\') fprintf(f, "\\%c", *s);
    else if ((unsigned char)*s < 0x20) fprintf(f, "\\u%04x", *s);
    else fputc(*s, f);
  }
  fputc('"', f);
}

static void json_stats(FILE *f, const char *name, const BenchStats *s, bool last) {
  fprintf(f, "    \"%s\": {\"min\": %.6f, \"max\": %.6f, \"mean\": %.6f, \"median\": %.6f, "
             "\"p90\": %.6f, \"p95\": %.6f, \"p99\": %.6f, \"cv\": %.6f}%s\n",
          name, s->min, s->max, s->mean, s->median, s->p90, s->p95, s->p99, s->cv, last ? "" : ",");
}

InferStatus *report_json(const char *path, const InferexecOptions *o, const InferNetwork *net,
                         const InferEngine *engine, const Report *rep, const BenchResult *b) {
  FILE *f = fopen(path, "w");
  if (!f) return infer_status_new(INFER_ERR_IO, "cannot create '%s'", path);
  fprintf(f, "{\n  \"model\": ");
  json_string(f, o->onnx ? o->onnx : o->load_engine);
  fprintf(f, ",\n  \"backend\": \"%s\",\n  \"infer_version\": \"%s\",\n",
          backend_name(infer_engine_backend(engine)), infer_version_string());
  fprintf(f, "  \"network_layers\": %d,\n  \"engine_layers\": %d,\n",
          net ? infer_network_num_layers(net) : -1, infer_engine_num_layers(engine));
  fprintf(f, "  \"parse_ms\": %.6f,\n  \"build_ms\": %.6f,\n  \"load_ms\": %.6f,\n", rep->parse_ms,
          rep->build_ms, rep->load_ms);
  fprintf(f, "  \"streams\": %d,\n  \"runs\": %d,\n  \"throughput_qps\": %.6f,\n", o->streams,
          b->runs, b->qps);
  fprintf(f, "  \"activation_bytes\": %zu,\n  \"weight_bytes\": %zu,\n", b->activation_bytes,
          infer_engine_weights_bytes(engine));
  fprintf(f, "  \"timing_ms\": {\n");
  json_stats(f, "latency", &b->latency, false);
  json_stats(f, "enqueue", &b->enqueue, false);
  json_stats(f, "h2d", &b->h2d, false);
  json_stats(f, "compute", &b->compute, false);
  json_stats(f, "d2h", &b->d2h, true);
  fprintf(f, "  },\n  \"layers\": [\n");
  int n = infer_engine_num_layers(engine);
  for (int l = 0; l < n; l++) {
    InferLayerInfo li;
    if (infer_engine_layer_info(engine, l, &li)) continue;
    fprintf(f, "    {\"name\": ");
    json_string(f, li.name);
    fprintf(f, ", \"op\": \"%s\", \"precision\": \"%s\", \"layout\": \"%s\", \"kernel\": \"%s\"",
            li.op, li.precision, li.layout, li.kernel);
    if (rep->layer_ms && l < rep->n_layers) fprintf(f, ", \"time_ms\": %.6f", rep->layer_ms[l]);
    fprintf(f, "}%s\n", l + 1 < n ? "," : "");
  }
  fprintf(f, "  ]\n}\n");
  bool ok = fclose(f) == 0;
  return ok ? NULL : infer_status_new(INFER_ERR_IO, "cannot write '%s'", path);
}

void report_free(Report *rep) {
  free(rep->layer_ms);
  rep->layer_ms = NULL;
}
