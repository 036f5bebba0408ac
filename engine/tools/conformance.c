/* The conformance runner: parse, build, run and compare every test case. */
#include "conformance.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "infer/infer.h"
#include "tool_tensors.h"

/* Cases whose expected outputs need a looser bound than ONNX's default,
 * and why. */
static const struct {
  const char *name;
  double rtol, atol;
} looser_bounds[] = {
  {NULL, 0, 0},
};

typedef struct Reason {
  char key[96];
  int count;
  char example[128];
} Reason;
static Reason reasons[512];
static int n_reasons;

static void note_unsupported(const char *case_name, const char *message) {
  /* the op is the first parenthesized word: "file: node 'x' (Op): reason" */
  char key[96] = "other";
  const char *open = strchr(message, '(');
  const char *close = open ? strchr(open, ')') : NULL;
  if (open && close && close - open - 1 < (long)sizeof key) {
    memcpy(key, open + 1, (size_t)(close - open - 1));
    key[close - open - 1] = 0;
  } else if (strstr(message, "element type")) {
    snprintf(key, sizeof key, "element type");
  }
  for (int i = 0; i < n_reasons; i++)
    if (strcmp(reasons[i].key, key) == 0) {
      reasons[i].count++;
      return;
    }
  if (n_reasons < 512) {
    snprintf(reasons[n_reasons].key, sizeof reasons[n_reasons].key, "%s", key);
    snprintf(reasons[n_reasons].example, sizeof reasons[n_reasons].example, "%s", case_name);
    reasons[n_reasons++].count = 1;
  }
}

static int compare_reasons(const void *a, const void *b) {
  return ((const Reason *)b)->count - ((const Reason *)a)->count;
}

void conformance_print_unsupported_summary(void) {
  qsort(reasons, (size_t)n_reasons, sizeof reasons[0], compare_reasons);
  for (int i = 0; i < n_reasons; i++)
    printf("unsupported %4d  %s (e.g. %s)\n", reasons[i].count, reasons[i].key, reasons[i].example);
}

static bool is_dir(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int compare_strings(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of entries in dir starting with prefix. */
static char **list_dir(const char *dir, const char *prefix, int *n) {
  *n = 0;
  DIR *d = opendir(dir);
  if (!d) return NULL;
  char **names = NULL;
  int cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.' || strncmp(e->d_name, prefix, strlen(prefix)) != 0) continue;
    if (*n == cap) {
      cap = cap ? cap * 2 : 64;
      char **grown = realloc(names, sizeof(char *) * (size_t)cap);
      if (!grown) break;
      names = grown;
    }
    names[(*n)++] = strdup(e->d_name);
  }
  closedir(d);
  if (names) qsort(names, (size_t)*n, sizeof(char *), compare_strings);
  return names;
}

static void free_list(char **names, int n) {
  for (int i = 0; i < n; i++) free(names[i]);
  free(names);
}

/* Reads prefix_0.pb, prefix_1.pb, ... from a data set folder. */
static InferStatus *read_tensors(const char *dir, const char *prefix, ToolTensor **out, int *n) {
  *out = NULL;
  *n = 0;
  int count = 0;
  char path[4096];
  for (;; count++) {
    snprintf(path, sizeof path, "%s/%s_%d.pb", dir, prefix, count);
    if (!is_file(path)) break;
  }
  ToolTensor *t = calloc((size_t)count + 1, sizeof *t);
  if (!t) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "out of memory");
  for (int i = 0; i < count; i++) {
    snprintf(path, sizeof path, "%s/%s_%d.pb", dir, prefix, i);
    InferStatus *st = infer_onnx_read_tensor_file(path, &t[i].view, &t[i].name);
    if (st) {
      tool_tensors_free(t, i);
      return st;
    }
  }
  *out = t;
  *n = count;
  return NULL;
}

/* Names the inputs by the engine's input order where the files carry none. */
static void name_inputs(InferEngine *engine, ToolTensor *in, int n) {
  int k = 0;
  for (int i = 0; i < infer_engine_num_io(engine) && k < n; i++) {
    if (!infer_engine_io_is_input(engine, i)) continue;
    bool named = false;
    for (int j = 0; j < n; j++)
      if (in[j].name && strcmp(in[j].name, infer_engine_io_name(engine, i)) == 0) named = true;
    if (!named || !in[k].name || !*in[k].name) {
      free(in[k].name);
      in[k].name = strdup(infer_engine_io_name(engine, i));
    }
    k++;
  }
}

typedef enum { CASE_PASS, CASE_FAIL, CASE_UNSUPPORTED } CaseResult;

/* A new engine loaded back from the plan bytes of `engine`. */
static InferStatus *plan_roundtrip(const InferEngine *engine, InferEngine **loaded) {
  void *bytes = NULL;
  size_t size = 0;
  InferStatus *st = infer_engine_serialize(engine, &bytes, &size);
  if (!st) st = infer_engine_deserialize(bytes, size, "conformance plan", loaded);
  free(bytes);
  return st;
}

/* An engine whose profile is exactly the data set's input shapes. */
static InferStatus *build_bounded(const InferNetwork *net, const ConformanceOptions *opt,
                                  const ToolTensor *in, int n_in, InferEngine **out) {
  InferBuildConfig *cfg;
  INFER_TRY(infer_build_config_create(&cfg));
  infer_build_config_set_backend(cfg, opt->backend);
  infer_build_config_set_tf32(cfg, false); /* conformance checks FP32 results */
  InferStatus *st = NULL;
  for (int i = 0; i < n_in && !st; i++)
    if (infer_network_find_tensor(net, in[i].name) != INFER_NO_TENSOR)
      st = infer_build_config_set_input_shape(cfg, in[i].name, &in[i].view.shape);
  if (!st) st = infer_engine_build(net, cfg, out);
  infer_build_config_release(cfg);
  return st;
}

static CaseResult run_data_set(const InferNetwork *net, InferEngine *engine, const char *dir,
                               const ConformanceOptions *opt, double rtol, double atol,
                               char *why, size_t why_size) {
  ToolTensor *in = NULL, *expected = NULL, *actual = NULL;
  int n_in = 0, n_exp = 0, n_act = 0;
  CaseResult r = CASE_PASS;
  InferEngine *own = NULL;
  InferStatus *st = read_tensors(dir, "input", &in, &n_in);
  if (!st) st = read_tensors(dir, "output", &expected, &n_exp);
  if (!st) name_inputs(engine, in, n_in);
  if (!st && opt->bounded) {
    st = build_bounded(net, opt, in, n_in, &own);
    if (!st) engine = own;
  }
  if (!st && opt->plan_roundtrip) {
    InferEngine *loaded = NULL;
    st = plan_roundtrip(engine, &loaded);
    infer_engine_release(own);
    own = loaded;
    engine = loaded;
  }
  if (!st) st = tool_run(engine, in, n_in, &actual, &n_act);
  if (st) {
    r = infer_status_code(st) == INFER_ERR_UNSUPPORTED ? CASE_UNSUPPORTED : CASE_FAIL;
    snprintf(why, why_size, "%s", infer_status_message(st));
    infer_status_free(st);
  } else if (n_act != n_exp) {
    r = CASE_FAIL;
    snprintf(why, why_size, "%d outputs, expected %d", n_act, n_exp);
  } else {
    for (int i = 0; i < n_exp && r == CASE_PASS; i++) {
      char diff[256];
      if (!tool_compare(&expected[i].view, &actual[i].view, rtol, atol, diff, sizeof diff)) {
        r = CASE_FAIL;
        snprintf(why, why_size, "output %d ('%s'): %s", i, actual[i].name, diff);
      }
    }
  }
  tool_tensors_free(in, n_in);
  tool_tensors_free(expected, n_exp);
  tool_tensors_free(actual, n_act);
  infer_engine_release(own);
  return r;
}

static CaseResult run_case(const char *dir, const char *name, const ConformanceOptions *opt,
                           char *why, size_t why_size) {
  char path[4096];
  snprintf(path, sizeof path, "%s/model.onnx", dir);
  double rtol = opt->rtol, atol = opt->atol;
  for (size_t i = 0; i < sizeof looser_bounds / sizeof looser_bounds[0]; i++)
    if (looser_bounds[i].name && strcmp(looser_bounds[i].name, name) == 0) {
      rtol = looser_bounds[i].rtol;
      atol = looser_bounds[i].atol;
    }
  InferNetwork *net = NULL;
  InferEngine *engine = NULL;
  InferBuildConfig *cfg = NULL;
  InferStatus *st = infer_onnx_parse_file(path, &net);
  if (!st) st = infer_build_config_create(&cfg);
  if (!st) {
    infer_build_config_set_backend(cfg, opt->backend);
    infer_build_config_set_tf32(cfg, false); /* conformance checks FP32 results */
    st = infer_engine_build(net, cfg, &engine);
  }
  CaseResult r = CASE_PASS;
  if (st) {
    r = infer_status_code(st) == INFER_ERR_UNSUPPORTED ? CASE_UNSUPPORTED : CASE_FAIL;
    snprintf(why, why_size, "%s", infer_status_message(st));
    infer_status_free(st);
  } else {
    int n_sets;
    char **sets = list_dir(dir, "test_data_set_", &n_sets);
    if (n_sets == 0) {
      r = CASE_FAIL;
      snprintf(why, why_size, "no test_data_set_* folders");
    }
    for (int i = 0; i < n_sets && r == CASE_PASS; i++) {
      char set_dir[4096];
      snprintf(set_dir, sizeof set_dir, "%s/%s", dir, sets[i]);
      r = run_data_set(net, engine, set_dir, opt, rtol, atol, why, why_size);
    }
    free_list(sets, n_sets);
  }
  infer_engine_release(engine);
  infer_build_config_release(cfg);
  infer_network_release(net);
  return r;
}

static void run_one(const char *dir, const char *name, const ConformanceOptions *opt,
                    ConformanceCounts *c) {
  char why[1024] = "";
  CaseResult r = run_case(dir, name, opt, why, sizeof why);
  if (r != CASE_PASS && opt->match) {
    ConformanceOptions there = *opt;
    there.backend = opt->match_backend;
    there.match = false;
    char why_there[1024] = "";
    if (run_case(dir, name, &there, why_there, sizeof why_there) == CASE_PASS) {
      c->behind++;
      printf("BEHIND %s: passes on the other backend, here: %s\n", name, why);
    }
  }
  switch (r) {
    case CASE_PASS:
      c->passed++;
      if (opt->verbose) printf("PASS %s\n", name);
      break;
    case CASE_FAIL:
      c->failed++;
      printf("FAIL %s: %s\n", name, why);
      break;
    case CASE_UNSUPPORTED:
      c->unsupported++;
      note_unsupported(name, why);
      if (opt->verbose) printf("UNSUPPORTED %s: %s\n", name, why);
      break;
  }
  fflush(stdout);
}

void conformance_run_path(const char *path, const ConformanceOptions *opt, ConformanceCounts *c) {
  char model[8400];
  snprintf(model, sizeof model, "%s/model.onnx", path);
  if (is_file(model)) {
    const char *slash = strrchr(path, '/');
    run_one(path, slash && slash[1] ? slash + 1 : path, opt, c);
    return;
  }
  int n;
  char **names = list_dir(path, "", &n);
  if (!names) {
    printf("FAIL %s: not a folder of test cases\n", path);
    c->failed++;
    return;
  }
  for (int i = 0; i < n; i++) {
    char sub[8192];
    snprintf(sub, sizeof sub, "%s/%s", path, names[i]);
    snprintf(model, sizeof model, "%s/model.onnx", sub);
    if (!is_dir(sub) || !is_file(model)) continue;
    if (opt->filter && !strstr(names[i], opt->filter)) continue;
    run_one(sub, names[i], opt, c);
  }
  free_list(names, n);
}
