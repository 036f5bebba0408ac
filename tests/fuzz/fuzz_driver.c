/* A deterministic stand-in for libFuzzer's main, for the gcc builds (CI):
 * runs every input file given (files, or the files of folders), then
 * --mutations N mutated copies of each, made by a fixed-seed generator
 * (bit flips, interesting values, truncations, insertions, deletions,
 * copied chunks), so every CI run executes the same inputs.
 *
 *   fuzz_<target> [--mutations N] [--seed S] [--verbose] [--save K FILE] PATH...
 *
 * --mutations N may also stand between paths: it sets the count for the
 * paths after it (CI mutates the committed regressions less than the
 * seeds: some of them make the engine produce large outputs).
 * --save K FILE writes mutation K of the (single) input file to FILE and
 * stops, to turn a crash into a regression input.
 * A crash shows up as the sanitizer's report (or a signal) with the last
 * input's origin printed just before it ("running <file> mutation <k>"
 * with --verbose). Prints "<prog>: <inputs> inputs, <runs> executions". */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fuzz_target.h"

#define MAX_FILE_BYTES (8u << 20)

typedef struct Rng {
  uint64_t s;
} Rng;

/* xorshift64*: tiny, and the same numbers on every machine. */
static uint64_t next(Rng *r) {
  r->s ^= r->s >> 12;
  r->s ^= r->s << 25;
  r->s ^= r->s >> 27;
  return r->s * 0x2545F4914F6CDD1DULL;
}

static size_t below(Rng *r, size_t n) { return n ? (size_t)(next(r) % n) : 0; }

/* Values that hit edge cases in lengths, counts and dims. */
static const uint64_t interesting[] = {0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0xffff, 0x7fffffff,
                                       0x80000000u, 0xffffffffu, 0x7fffffffffffffffULL,
                                       0xffffffffffffffffULL, 100000, 1u << 31};

/* One random edit of buf[0..*size) (capacity cap). */
static void mutate_once(Rng *r, uint8_t *buf, size_t *size, size_t cap) {
  size_t n = *size;
  switch (below(r, 7)) {
    case 0: /* flip a bit */
      if (n) buf[below(r, n)] ^= (uint8_t)(1u << below(r, 8));
      break;
    case 1: /* a random byte */
      if (n) buf[below(r, n)] = (uint8_t)next(r);
      break;
    case 2: { /* an interesting value, 1, 2, 4 or 8 bytes wide */
      size_t w = (size_t)1 << below(r, 4);
      if (n < w) break;
      uint64_t v = interesting[below(r, sizeof interesting / sizeof interesting[0])];
      size_t at = below(r, n - w + 1);
      for (size_t i = 0; i < w; i++) buf[at + i] = (uint8_t)(v >> (8 * i));
      break;
    }
    case 3: /* truncate */
      *size = below(r, n + 1);
      break;
    case 4: { /* insert random bytes */
      size_t k = 1 + below(r, 8), at = below(r, n + 1);
      if (n + k > cap) break;
      memmove(buf + at + k, buf + at, n - at);
      for (size_t i = 0; i < k; i++) buf[at + i] = (uint8_t)next(r);
      *size = n + k;
      break;
    }
    case 5: { /* delete a chunk */
      if (!n) break;
      size_t at = below(r, n), k = 1 + below(r, n - at < 64 ? n - at : 64);
      memmove(buf + at, buf + at + k, n - at - k);
      *size = n - k;
      break;
    }
    default: { /* copy a chunk over another place */
      if (n < 2) break;
      size_t k = 1 + below(r, n / 2 < 32 ? n / 2 : 32);
      size_t from = below(r, n - k + 1), to = below(r, n - k + 1);
      memmove(buf + to, buf + from, k);
      break;
    }
  }
}

typedef struct Run {
  long mutations;
  uint64_t seed;
  int verbose;
  long save_index;
  const char *save_path;
  long inputs, executions;
} Run;

static int read_file(const char *path, uint8_t **data, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  *data = malloc(MAX_FILE_BYTES);
  *size = *data ? fread(*data, 1, MAX_FILE_BYTES, f) : 0;
  fclose(f);
  return *data ? 0 : -1;
}

static void run_file(Run *run, const char *path) {
  uint8_t *data;
  size_t size;
  if (read_file(path, &data, &size) != 0) {
    fprintf(stderr, "cannot read %s\n", path);
    exit(1);
  }
  if (run->verbose) fprintf(stderr, "running %s\n", path);
  /* a private copy: the target must not rely on anything past size */
  uint8_t *exact = malloc(size ? size : 1);
  memcpy(exact, data, size);
  LLVMFuzzerTestOneInput(exact, size);
  free(exact);
  run->inputs++;
  run->executions++;
  /* each file gets its own stream, from its name (not its folder, so that
   * every build folder runs the same inputs): adding a seed does not
   * change the others' */
  Rng r = {run->seed ^ 0x9E3779B97F4A7C15ULL};
  const char *base = strrchr(path, '/');
  for (const char *c = base ? base + 1 : path; *c; c++) r.s = (r.s ^ (uint8_t)*c) * 0x100000001B3ULL;
  if (!r.s) r.s = 1;
  size_t cap = size + 64;
  uint8_t *buf = malloc(cap);
  for (long m = 0; m < run->mutations; m++) {
    size_t n = size;
    memcpy(buf, data, size);
    for (size_t k = 1 + below(&r, 4); k > 0; k--) mutate_once(&r, buf, &n, cap);
    if (run->verbose) fprintf(stderr, "running %s mutation %ld\n", path, m);
    if (run->save_path && m == run->save_index) {
      FILE *f = fopen(run->save_path, "wb");
      if (!f || fwrite(buf, 1, n, f) != n || fclose(f) != 0) exit(1);
      exit(0);
    }
    uint8_t *exact_m = malloc(n ? n : 1);
    memcpy(exact_m, buf, n);
    LLVMFuzzerTestOneInput(exact_m, n);
    free(exact_m);
    run->executions++;
  }
  free(buf);
  free(data);
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Files of a folder in name order (readdir order differs between machines). */
static void run_path(Run *run, const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) {
    fprintf(stderr, "no such file or folder: %s\n", path);
    exit(1);
  }
  if (!S_ISDIR(st.st_mode)) {
    run_file(run, path);
    return;
  }
  DIR *d = opendir(path);
  if (!d) return;
  char **names = NULL;
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    names = realloc(names, (n + 1) * sizeof *names);
    size_t len = strlen(path) + strlen(e->d_name) + 2;
    names[n] = malloc(len);
    snprintf(names[n++], len, "%s/%s", path, e->d_name);
  }
  closedir(d);
  if (n) qsort(names, n, sizeof *names, by_name);
  for (size_t i = 0; i < n; i++) {
    run_path(run, names[i]);
    free(names[i]);
  }
  free(names);
}

int main(int argc, char **argv) {
  Run run = {.mutations = 20, .seed = 1};
  int first = 1;
  for (; first < argc && strncmp(argv[first], "--", 2) == 0; first++) {
    if (strcmp(argv[first], "--verbose") == 0) run.verbose = 1;
    else if (strcmp(argv[first], "--mutations") == 0 && first + 1 < argc)
      run.mutations = strtol(argv[++first], NULL, 10);
    else if (strcmp(argv[first], "--seed") == 0 && first + 1 < argc)
      run.seed = strtoull(argv[++first], NULL, 10);
    else if (strcmp(argv[first], "--save") == 0 && first + 2 < argc) {
      run.save_index = strtol(argv[++first], NULL, 10);
      run.save_path = argv[++first];
    }
    else {
      fprintf(stderr, "usage: %s [--mutations N] [--seed S] [--verbose] [--save K FILE] "
              "PATH...\n", argv[0]);
      return 2;
    }
  }
  if (first == argc) {
    fprintf(stderr, "usage: %s [--mutations N] [--seed S] [--verbose] PATH...\n", argv[0]);
    return 2;
  }
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int i = first; i < argc; i++) {
    /* --mutations N between paths: the count for the paths after it */
    if (strcmp(argv[i], "--mutations") == 0 && i + 1 < argc) {
      run.mutations = strtol(argv[++i], NULL, 10);
      continue;
    }
    run_path(&run, argv[i]);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  const char *prog = strrchr(argv[0], '/');
  printf("%s: %ld inputs, %ld executions, %.1f s\n", prog ? prog + 1 : argv[0], run.inputs,
         run.executions, (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
  return 0;
}
