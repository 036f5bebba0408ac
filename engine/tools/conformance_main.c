/* infer-conformance: runs ONNX backend test folders and prints
 * "conformance: N passed, M failed, K unsupported". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conformance.h"

static void usage(void) {
  printf("usage: infer-conformance [options] FOLDER...\n"
         "  FOLDER is one ONNX test case (model.onnx + test_data_set_*/) or a folder of them.\n"
         "  --backend cpu|cuda|auto   backend to run on (default cpu)\n"
         "  --rtol X --atol Y         tolerances (default 1e-3, 1e-7: ONNX's)\n"
         "  --filter TEXT             only cases whose name contains TEXT\n"
         "  --summary                 list unsupported reasons by op\n"
         "  --require-all             fail when any case is unsupported\n"
         "  --min-passed N            fail when fewer than N cases pass\n"
         "  --skip-missing            exit 77 (skipped) when no FOLDER exists\n"
         "  --verbose                 a line for every case\n"
         "  --bounded                 build each data set with its input shapes as the\n"
         "                            profile (runs on the planned activation arena)\n"
         "  --plan-roundtrip          run every engine loaded back from its plan bytes\n"
         "  --match BACKEND           run the cases not passed here on BACKEND too; fail\n"
         "                            when one passes there (same pass count as BACKEND)\n"
         "Exits 1 when any supported case fails (or, with --match, is behind).\n");
}

static const char *argv_backend_name(InferBackendKind k) {
  return k == INFER_BACKEND_CPU ? "cpu" : k == INFER_BACKEND_CUDA ? "cuda" : "auto";
}

int main(int argc, char **argv) {
  ConformanceOptions opt = {INFER_BACKEND_CPU, 1e-3, 1e-7, false, NULL, false, false, false,
                            INFER_BACKEND_CPU};
  bool summary = false, require_all = false, skip_missing = false;
  int min_passed = 0, n_existing = 0;
  ConformanceCounts counts = {0, 0, 0, 0};
  int n_paths = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage();
      return 0;
    } else if (strcmp(a, "--verbose") == 0) {
      opt.verbose = true;
    } else if (strcmp(a, "--bounded") == 0) {
      opt.bounded = true;
    } else if (strcmp(a, "--plan-roundtrip") == 0) {
      opt.plan_roundtrip = true;
    } else if (strcmp(a, "--summary") == 0) {
      summary = true;
    } else if (strcmp(a, "--require-all") == 0) {
      require_all = true;
    } else if (strcmp(a, "--skip-missing") == 0) {
      skip_missing = true;
    } else if (strcmp(a, "--min-passed") == 0 && i + 1 < argc) {
      min_passed = atoi(argv[++i]);
    } else if ((strcmp(a, "--rtol") == 0 || strcmp(a, "--atol") == 0) && i + 1 < argc) {
      double v = strtod(argv[++i], NULL);
      if (a[2] == 'r') opt.rtol = v;
      else opt.atol = v;
    } else if (strcmp(a, "--filter") == 0 && i + 1 < argc) {
      opt.filter = argv[++i];
    } else if ((strcmp(a, "--backend") == 0 || strcmp(a, "--match") == 0) && i + 1 < argc) {
      const char *b = argv[++i];
      InferBackendKind k;
      if (strcmp(b, "cpu") == 0) k = INFER_BACKEND_CPU;
      else if (strcmp(b, "cuda") == 0) k = INFER_BACKEND_CUDA;
      else if (strcmp(b, "auto") == 0) k = INFER_BACKEND_AUTO;
      else {
        fprintf(stderr, "infer-conformance: unknown backend '%s'\n", b);
        return 2;
      }
      if (a[2] == 'm') {
        opt.match = true;
        opt.match_backend = k;
      } else {
        opt.backend = k;
      }
    } else if (a[0] == '-') {
      fprintf(stderr, "infer-conformance: unknown option '%s' (see --help)\n", a);
      return 2;
    } else {
      struct stat stt;
      n_paths++;
      if (stat(a, &stt) != 0 && skip_missing) continue;
      n_existing++;
      conformance_run_path(a, &opt, &counts);
    }
  }
  if (n_paths == 0) {
    usage();
    return 2;
  }
  if (n_existing == 0 && skip_missing) {
    printf("conformance: skipped, no test folder exists (install libonnx-testdata)\n");
    return 77;
  }
  if (summary) conformance_print_unsupported_summary();
  printf("conformance: %d passed, %d failed, %d unsupported\n", counts.passed, counts.failed,
         counts.unsupported);
  if (opt.match)
    printf("conformance: %d passed on the %s backend but not here\n", counts.behind,
           argv_backend_name(opt.match_backend));
  if (counts.failed || counts.behind) return 1;
  if (require_all && counts.unsupported) return 1;
  if (counts.passed < min_passed) {
    printf("conformance: %d passed, fewer than the %d required\n", counts.passed, min_passed);
    return 1;
  }
  return 0;
}
