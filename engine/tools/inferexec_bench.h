/* inferexec's timed runs: several streams, each with its own context, and
 * the statistics of the summary. */
#ifndef INFEREXEC_BENCH_H
#define INFEREXEC_BENCH_H

#include "infer/infer.h"
#include "tool_tensors.h"

typedef struct BenchStats {
  double min, max, mean, median, p90, p95, p99, cv; /* ms; cv = stddev / mean */
} BenchStats;

typedef struct BenchResult {
  int runs;            /* timed runs over all streams */
  double wall_ms;      /* from the first timed run's start to the last one's end */
  double qps;          /* inferences (batches) per second over all streams */
  BenchStats latency, enqueue, h2d, compute, d2h;
  size_t activation_bytes; /* per context, after the runs */
} BenchResult;

typedef struct BenchConfig {
  int streams, warmup, iterations;
  double duration_s;
  bool data_transfers;
} BenchConfig;

InferStatus *bench_run(InferEngine *engine, const ToolTensor *inputs, int n_inputs,
                       const BenchConfig *cfg, BenchResult *out);

void bench_stats(double *values, int n, BenchStats *out); /* sorts values */

#endif
