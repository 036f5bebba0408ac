/* infer-calibrate: INT8 calibration of an ONNX model over a folder of
 * tensors and images; writes a TensorRT-format calibration cache.
 *
 *   infer-calibrate --onnx model.onnx --data DIR --cache out.cache
 *                   [--algo entropy|minmax|percentile[=99.99]] [--batch N]
 *                   [--shape input:1x3x224x224] [--scale S --mean a,b,c --std a,b,c]
 *
 * Image preprocessing takes the infer element's property names and
 * defaults, so that a cache made with the same settings as the element's
 * sees the tensors the element will feed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calib_data.h"
#include "calib_decode.h"
#include "infer/calibration.h"
#include "infer/infer.h"

#define MAX_SHAPES 16

typedef struct Options {
  const char *onnx, *data, *cache;
  InferCalibAlgo algo;
  double percentile;
  int batch;             /* 0: not given */
  int max_batches;
  InferBackendKind backend;
  const char *shape_names[MAX_SHAPES];
  InferShape shapes[MAX_SHAPES];
  char shape_name_buf[MAX_SHAPES][256];
  int n_shapes;
  CalibImageOptions img;
  bool verbose;
} Options;

static void usage(FILE *f) {
  fprintf(f,
          "usage: infer-calibrate --onnx MODEL --data DIR --cache FILE [options]\n\n"
          "  --onnx FILE        ONNX model to calibrate\n"
          "  --data DIR         calibration data: ONNX TensorProto files (.pb, one sample or a\n"
          "                     [N, ...] batch each, named after the input) and/or images:\n"
          "                     PPM/PGM (binary P6/P5), PNG and JPEG (%s),\n"
          "                     in file-name order\n"
          "  --cache FILE       calibration cache to write (TensorRT's text format)\n"
          "  --algo NAME        entropy (default, TensorRT's EntropyCalibration2), minmax,\n"
          "                     or percentile[=P] (default P = 99.99)\n"
          "  --batch N          samples per batch (default: the --shape batch, else 1)\n"
          "  --shape NAME:DIMS  calibration shape of an input, e.g. input:8x3x224x224\n"
          "                     (repeat for several inputs)\n"
          "  --max-batches N    use at most N batches\n"
          "  --backend B        cpu|cuda|auto: where the FP32 engine runs (default auto)\n"
          "images, preprocessed like the infer element's properties of the same names:\n"
          "  --scale S          value = (pixel * S - mean) / std (default 1/255)\n"
          "  --mean a,b,c       per-channel mean in the model's order (default 0)\n"
          "  --std a,b,c        per-channel standard deviation (default 1)\n"
          "  --input-order O    rgb (default) or bgr channel order (--bgr: bgr)\n"
          "  --keep-aspect-ratio true|false\n"
          "                     letterbox: scale to fit and pad (default true; --stretch: false,\n"
          "                     --keep-aspect: true)\n"
          "  --padding P        symmetric (default: bands on both sides) or bottom-right\n"
          "  --pad-value V      letterbox padding in pixel units 0..255 (default 114)\n"
          "  --interpolation I  bilinear (default) or nearest\n"
          "  --verbose          print progress\n"
          "  --help             this text\n",
          calib_decode_available() ? "via GStreamer" : "only in the GStreamer build");
}

static bool parse_triplet(const char *s, float v[3]) {
  char *end;
  for (int c = 0; c < 3; c++) {
    v[c] = strtof(s, &end);
    if (end == s) return false;
    if (*end == 0) {
      /* one value applies to every channel */
      if (c == 0) v[1] = v[2] = v[0];
      return c == 0 || c == 2;
    }
    if (*end != ',') return false;
    s = end + 1;
  }
  return false;
}

/* "name:1x3x224x224" */
static bool parse_shape(const char *s, Options *o) {
  const char *colon = strrchr(s, ':');
  if (!colon || colon == s || o->n_shapes == MAX_SHAPES || (size_t)(colon - s) >= 256) return false;
  InferShape sh = {0, {0}};
  const char *p = colon + 1;
  while (*p) {
    char *end;
    long long v = strtoll(p, &end, 10);
    if (end == p || v < 1 || sh.rank == INFER_MAX_RANK) return false;
    sh.d[sh.rank++] = v;
    if (*end == 'x') end++;
    else if (*end) return false;
    p = end;
  }
  if (sh.rank == 0) return false;
  memcpy(o->shape_name_buf[o->n_shapes], s, (size_t)(colon - s));
  o->shape_name_buf[o->n_shapes][colon - s] = 0;
  o->shape_names[o->n_shapes] = o->shape_name_buf[o->n_shapes];
  o->shapes[o->n_shapes++] = sh;
  return true;
}

static bool parse_algo(const char *s, Options *o) {
  if (strcmp(s, "entropy") == 0) o->algo = INFER_CALIB_ENTROPY;
  else if (strcmp(s, "minmax") == 0) o->algo = INFER_CALIB_MINMAX;
  else if (strncmp(s, "percentile", 10) == 0) {
    o->algo = INFER_CALIB_PERCENTILE;
    if (s[10] == '=') {
      char *end;
      o->percentile = strtod(s + 11, &end);
      if (end == s + 11 || *end || !(o->percentile > 0 && o->percentile <= 100)) return false;
    } else if (s[10]) {
      return false;
    }
  } else {
    return false;
  }
  return true;
}

static bool parse_bool(const char *s, bool *out) {
  if (!strcmp(s, "true") || !strcmp(s, "1") || !strcmp(s, "yes")) *out = true;
  else if (!strcmp(s, "false") || !strcmp(s, "0") || !strcmp(s, "no")) *out = false;
  else return false;
  return true;
}

static bool parse_float(const char *s, float lo, float hi, float *out) {
  char *end;
  float v = strtof(s, &end);
  if (end == s || *end || !(v >= lo && v <= hi)) return false;
  *out = v;
  return true;
}

static bool parse_int(const char *s, int *out) {
  char *end;
  long v = strtol(s, &end, 10);
  if (end == s || *end || v < 1 || v > 1000000) return false;
  *out = (int)v;
  return true;
}

/* 0 ok, 1 --help, -1 error (printed) */
static int parse_args(int argc, char **argv, Options *o) {
  memset(o, 0, sizeof *o);
  calib_image_options_defaults(&o->img);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = NULL;
    char name[64];
    /* --opt=value and --opt value */
    const char *eq = strchr(a, '=');
    if (strncmp(a, "--", 2) == 0 && eq && (size_t)(eq - a) < sizeof name) {
      memcpy(name, a, (size_t)(eq - a));
      name[eq - a] = 0;
      v = eq + 1;
    } else {
      snprintf(name, sizeof name, "%s", a);
    }
    bool flag = !strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "--bgr") ||
                !strcmp(name, "--keep-aspect") || !strcmp(name, "--stretch") ||
                !strcmp(name, "--verbose") || !strcmp(name, "-v");
    if (!flag && !v) {
      if (i + 1 >= argc) {
        fprintf(stderr, "infer-calibrate: %s needs a value\n", name);
        return -1;
      }
      v = argv[++i];
    }
    bool ok = true;
    if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
      usage(stdout);
      return 1;
    } else if (!strcmp(name, "--onnx")) o->onnx = v;
    else if (!strcmp(name, "--data")) o->data = v;
    else if (!strcmp(name, "--cache")) o->cache = v;
    else if (!strcmp(name, "--algo")) ok = parse_algo(v, o);
    else if (!strcmp(name, "--batch")) ok = parse_int(v, &o->batch);
    else if (!strcmp(name, "--max-batches")) ok = parse_int(v, &o->max_batches);
    else if (!strcmp(name, "--shape")) ok = parse_shape(v, o);
    else if (!strcmp(name, "--scale")) {
      char *end;
      o->img.scale = strtof(v, &end);
      ok = end != v && !*end;
    } else if (!strcmp(name, "--mean")) ok = parse_triplet(v, o->img.mean);
    else if (!strcmp(name, "--std")) {
      ok = parse_triplet(v, o->img.std) && o->img.std[0] != 0 && o->img.std[1] != 0 &&
           o->img.std[2] != 0;
    } else if (!strcmp(name, "--bgr")) o->img.bgr = true;
    else if (!strcmp(name, "--keep-aspect")) o->img.keep_aspect = true;
    else if (!strcmp(name, "--stretch")) o->img.keep_aspect = false;
    else if (!strcmp(name, "--keep-aspect-ratio")) ok = parse_bool(v, &o->img.keep_aspect);
    else if (!strcmp(name, "--input-order")) {
      if (!strcmp(v, "rgb")) o->img.bgr = false;
      else if (!strcmp(v, "bgr")) o->img.bgr = true;
      else ok = false;
    } else if (!strcmp(name, "--padding")) {
      if (!strcmp(v, "symmetric")) o->img.pad_symmetric = true;
      else if (!strcmp(v, "bottom-right")) o->img.pad_symmetric = false;
      else ok = false;
    } else if (!strcmp(name, "--pad-value")) ok = parse_float(v, 0.0f, 255.0f, &o->img.pad_value);
    else if (!strcmp(name, "--interpolation")) {
      if (!strcmp(v, "bilinear")) o->img.interp = INFER_INTERP_BILINEAR;
      else if (!strcmp(v, "nearest")) o->img.interp = INFER_INTERP_NEAREST;
      else ok = false;
    } else if (!strcmp(name, "--verbose") || !strcmp(name, "-v")) o->verbose = true;
    else if (!strcmp(name, "--backend")) {
      if (!strcmp(v, "cpu")) o->backend = INFER_BACKEND_CPU;
      else if (!strcmp(v, "cuda")) o->backend = INFER_BACKEND_CUDA;
      else if (!strcmp(v, "auto")) o->backend = INFER_BACKEND_AUTO;
      else ok = false;
    } else {
      fprintf(stderr, "infer-calibrate: unknown option '%s' (see --help)\n", a);
      return -1;
    }
    if (!ok) {
      fprintf(stderr, "infer-calibrate: bad value '%s' for %s (see --help)\n", v, name);
      return -1;
    }
  }
  if (!o->onnx || !o->data || !o->cache) {
    fprintf(stderr, "infer-calibrate: --onnx, --data and --cache are required (see --help)\n");
    return -1;
  }
  return 0;
}

static void print_line(const char *line, void *user) {
  (void)user;
  fprintf(stderr, "infer-calibrate: %s\n", line);
}

/* Every input's calibration shape: --shape, else the declared shape with
 * a dynamic batch dim set to the batch size. */
static InferStatus *input_specs(const InferNetwork *net, Options *o, CalibInputSpec *specs,
                                int *n) {
  *n = infer_network_num_inputs(net);
  if (*n > MAX_SHAPES)
    return infer_status_new(INFER_ERR_UNSUPPORTED, "more than %d inputs", MAX_SHAPES);
  for (int k = 0; k < o->n_shapes; k++)
    if (infer_network_find_tensor(net, o->shape_names[k]) == INFER_NO_TENSOR)
      return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "--shape: the model has no input '%s'",
                              o->shape_names[k]);
  for (int i = 0; i < *n; i++) {
    InferTensorId t = infer_network_input(net, i);
    CalibInputSpec *s = &specs[i];
    s->name = infer_network_tensor_name(net, t);
    s->dtype = infer_network_tensor_dtype(net, t);
    s->shape = infer_network_tensor_shape(net, t);
    bool given = false;
    for (int k = 0; k < o->n_shapes; k++)
      if (strcmp(o->shape_names[k], s->name) == 0) {
        if (o->shapes[k].rank != s->shape.rank)
          return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                                  "--shape %s: rank %d, the model's input has rank %d", s->name,
                                  o->shapes[k].rank, s->shape.rank);
        s->shape = o->shapes[k];
        given = true;
      }
    if (given && o->batch && s->shape.d[0] != o->batch)
      return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                              "--shape %s has batch %lld, --batch says %d", s->name,
                              (long long)s->shape.d[0], o->batch);
    if (!o->batch && given) o->batch = (int)s->shape.d[0];
    if (s->shape.rank == 0)
      return infer_status_new(INFER_ERR_UNSUPPORTED, "input '%s' is a scalar", s->name);
  }
  if (!o->batch) o->batch = 1;
  for (int i = 0; i < *n; i++) {
    InferShape *sh = &specs[i].shape;
    if (sh->d[0] < 0) sh->d[0] = o->batch;
    for (int d = 1; d < sh->rank; d++)
      if (sh->d[d] < 0)
        return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                                "input '%s' has dynamic dimension %d: give --shape %s:...",
                                specs[i].name, d, specs[i].name);
    if (sh->d[0] != o->batch)
      return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                              "input '%s' has a fixed batch of %lld; use --batch %lld",
                              specs[i].name, (long long)sh->d[0], (long long)sh->d[0]);
  }
  return NULL;
}

static InferStatus *run(Options *o) {
  InferNetwork *net = NULL;
  INFER_TRY(infer_onnx_parse_file(o->onnx, &net));
  CalibInputSpec specs[MAX_SHAPES];
  int n_inputs = 0;
  CalibDataset *data = NULL;
  InferCalibTable *table = NULL;
  InferStatus *st = input_specs(net, o, specs, &n_inputs);
  if (!st) st = calib_dataset_open(o->data, specs, n_inputs, &o->img, &data);
  if (!st) {
    calib_dataset_describe(data, print_line, NULL);
    InferCalibrator cal;
    calib_dataset_calibrator(data, &cal);
    const char *names[MAX_SHAPES];
    InferShape shapes[MAX_SHAPES];
    for (int i = 0; i < n_inputs; i++) {
      names[i] = specs[i].name;
      shapes[i] = specs[i].shape;
    }
    InferCalibOptions co = {0};
    co.backend = o->backend;
    co.percentile = o->percentile;
    co.n_shapes = n_inputs;
    co.shape_names = names;
    co.shapes = shapes;
    co.max_batches = o->max_batches;
    if (o->verbose) co.log = print_line;
    st = infer_calibrate(net, &cal, o->algo, &co, &table);
    /* a read error ends the data early: that is a failure, not a short run,
     * and its message (naming the file) says more than the driver's "no
     * batch" when it hit the first batch */
    if (calib_dataset_error(data)) {
      infer_status_free(st);
      st = infer_status_new(infer_status_code(calib_dataset_error(data)), "%s",
                            infer_status_message(calib_dataset_error(data)));
    }
  }
  if (!st) st = infer_calib_table_write_cache(table, o->cache);
  if (!st)
    fprintf(stderr, "infer-calibrate: %s: %d scales (%s) written to %s\n", o->onnx,
            infer_calib_table_count(table), infer_calib_table_calibrator(table), o->cache);
  infer_calib_table_release(table);
  calib_dataset_close(data);
  infer_network_release(net);
  return st;
}

int main(int argc, char **argv) {
  Options o;
  int r = parse_args(argc, argv, &o);
  if (r) return r > 0 ? 0 : 2;
  InferStatus *st = run(&o);
  if (st) {
    fprintf(stderr, "infer-calibrate: %s\n", infer_status_message(st));
    infer_status_free(st);
    return 1;
  }
  return 0;
}
