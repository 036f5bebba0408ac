/* The data folder behind infer-calibrate. Files are scanned once to count
 * samples per input; batches are then read lazily, one file at a time, so
 * large calibration sets need memory for one batch only. */
#include "calib_data.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "calib_decode.h"
#include "calib_ppm.h"
#include "infer/onnx.h"
#include "preprocess.h"

/* FILE_PNM: read here; FILE_CODED: PNG / JPEG, decoded by calib_decode. */
typedef enum { FILE_PB, FILE_PNM, FILE_CODED } FileKind;

typedef struct Sample {
  int file;  /* index into files */
  int index; /* sample within the file */
} Sample;

typedef struct InputData {
  CalibInputSpec spec;
  size_t sample_bytes;
  Sample *samples;
  int n_samples, cap;
  int n_files;
  void *batch;            /* one batch, filled by get_batch */
  int cached_file;        /* the .pb file whose data is loaded, -1 none */
  InferTensorView cached;
  bool image_nhwc;
} InputData;

struct CalibDataset {
  char **files;
  FileKind *kinds;
  int n_files, n_skipped;
  InputData *in;
  int n_inputs, image_input;
  int n_batches, next;
  CalibImageOptions img;
  InferStatus *error;
};

static InferStatus *oom(void) { return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "out of memory"); }

static int compare_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_ext(const char *name, const char *ext) {
  size_t n = strlen(name), e = strlen(ext);
  return n > e && strcasecmp(name + n - e, ext) == 0;
}

static bool is_pnm(const char *name) {
  return has_ext(name, ".ppm") || has_ext(name, ".pgm") || has_ext(name, ".pnm");
}

static bool is_coded(const char *name) {
  return has_ext(name, ".png") || has_ext(name, ".jpg") || has_ext(name, ".jpeg");
}

void calib_image_options_defaults(CalibImageOptions *o) {
  memset(o, 0, sizeof *o);
  o->scale = 1.0f / 255.0f;
  o->std[0] = o->std[1] = o->std[2] = 1.0f;
  o->keep_aspect = true;
  o->pad_symmetric = true;
  o->pad_value = 114.0f;
  o->interp = INFER_INTERP_BILINEAR;
}

static InferStatus *list_files(CalibDataset *d, const char *dir) {
  DIR *dp = opendir(dir);
  if (!dp) return infer_status_new(INFER_ERR_IO, "cannot open data folder '%s'", dir);
  char **names = NULL;
  int n = 0, cap = 0;
  InferStatus *st = NULL;
  for (struct dirent *e; !st && (e = readdir(dp));) {
    if (e->d_name[0] == '.') continue;
    bool pb = has_ext(e->d_name, ".pb");
    bool img = is_pnm(e->d_name) || is_coded(e->d_name);
    if (!pb && !img) {
      d->n_skipped++;
      continue;
    }
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      char **p = realloc(names, (size_t)cap * sizeof *p);
      if (!p) {
        st = oom();
        break;
      }
      names = p;
    }
    size_t len = strlen(dir) + strlen(e->d_name) + 2;
    names[n] = malloc(len);
    if (!names[n]) st = oom();
    else snprintf(names[n++], len, "%s/%s", dir, e->d_name);
  }
  closedir(dp);
  if (n) qsort(names, (size_t)n, sizeof *names, compare_names);
  d->files = names;
  d->n_files = n;
  d->kinds = calloc((size_t)n + 1, sizeof *d->kinds);
  if (!st && !d->kinds) st = oom();
  for (int i = 0; !st && i < n; i++)
    d->kinds[i] = has_ext(names[i], ".pb") ? FILE_PB : is_pnm(names[i]) ? FILE_PNM : FILE_CODED;
  return st;
}

static InferStatus *add_samples(InputData *in, int file, int count) {
  if (in->n_samples + count > in->cap) {
    int cap = in->cap ? in->cap * 2 : 64;
    while (cap < in->n_samples + count) cap *= 2;
    Sample *s = realloc(in->samples, (size_t)cap * sizeof *s);
    if (!s) return oom();
    in->samples = s;
    in->cap = cap;
  }
  for (int k = 0; k < count; k++) in->samples[in->n_samples++] = (Sample){file, k};
  in->n_files++;
  return NULL;
}

/* How many samples of `in` a tensor holds: 1 when its shape is the sample
 * shape, k for [k, sample shape...]; -1 if neither. */
static int64_t samples_in(const InputData *in, const InferShape *s) {
  const InferShape *want = &in->spec.shape;
  if (s->rank == want->rank - 1) {
    for (int d = 0; d < s->rank; d++)
      if (s->d[d] != want->d[d + 1]) return -1;
    return 1;
  }
  if (s->rank != want->rank) return -1;
  for (int d = 1; d < s->rank; d++)
    if (s->d[d] != want->d[d]) return -1;
  return s->d[0];
}

static InferStatus *scan_tensor(CalibDataset *d, int file) {
  InferTensorView v;
  char *name = NULL;
  INFER_TRY(infer_onnx_read_tensor_file(d->files[file], &v, &name));
  free(v.data);
  InputData *in = NULL;
  for (int i = 0; i < d->n_inputs && name; i++)
    if (strcmp(d->in[i].spec.name, name) == 0) in = &d->in[i];
  if (!in && d->n_inputs == 1) in = &d->in[0];
  InferStatus *st = NULL;
  char got[128], want[128];
  if (!in) {
    st = infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                          "%s: tensor '%s' names no input of the model", d->files[file],
                          name ? name : "");
  } else if (v.dtype != in->spec.dtype) {
    st = infer_status_new(INFER_ERR_INVALID_ARGUMENT, "%s: a %s tensor for input '%s' (%s)",
                          d->files[file], infer_dtype_name(v.dtype), in->spec.name,
                          infer_dtype_name(in->spec.dtype));
  } else {
    int64_t k = samples_in(in, &v.shape);
    if (k < 0 || k > 1000000)
      st = infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "%s: shape %s does not fit input '%s' (%s: [batch, ...] or one sample)",
                            d->files[file], infer_shape_str(&v.shape, got, sizeof got),
                            in->spec.name, infer_shape_str(&in->spec.shape, want, sizeof want));
    else
      st = add_samples(in, file, (int)k);
  }
  free(name);
  return st;
}

/* The first input an image can feed: rank 4 with 1 or 3 channels. */
static int image_input(CalibDataset *d) {
  for (int i = 0; i < d->n_inputs; i++) {
    const InferShape *s = &d->in[i].spec.shape;
    InferDType t = d->in[i].spec.dtype;
    if (s->rank != 4 || (t != INFER_DTYPE_F32 && t != INFER_DTYPE_F16)) continue;
    if (s->d[1] == 1 || s->d[1] == 3) return i;
    if (s->d[3] == 1 || s->d[3] == 3) {
      d->in[i].image_nhwc = true;
      return i;
    }
  }
  return -1;
}

InferStatus *calib_dataset_open(const char *dir, const CalibInputSpec *inputs, int n_inputs,
                                const CalibImageOptions *img, CalibDataset **out) {
  *out = NULL;
  CalibDataset *d = calloc(1, sizeof *d);
  if (!d) return oom();
  d->img = *img;
  d->n_inputs = n_inputs;
  d->in = calloc((size_t)n_inputs + 1, sizeof *d->in);
  InferStatus *st = d->in ? NULL : oom();
  for (int i = 0; !st && i < n_inputs; i++) {
    InputData *in = &d->in[i];
    in->spec = inputs[i];
    in->cached_file = -1;
    int64_t n = infer_shape_numel(&inputs[i].shape);
    if (n <= 0 || inputs[i].shape.rank < 1) {
      st = infer_status_new(INFER_ERR_INVALID_ARGUMENT, "input '%s': no calibration shape",
                            inputs[i].name);
      break;
    }
    in->sample_bytes = (size_t)(n / inputs[i].shape.d[0]) * infer_dtype_size(inputs[i].dtype);
    in->batch = malloc((size_t)n * infer_dtype_size(inputs[i].dtype));
    if (!in->batch) st = oom();
  }
  if (!st) st = list_files(d, dir);
  d->image_input = st ? -1 : image_input(d);
  for (int f = 0; !st && f < d->n_files; f++) {
    if (d->kinds[f] == FILE_PB) {
      st = scan_tensor(d, f);
    } else if (d->kinds[f] == FILE_CODED && !calib_decode_available()) {
      /* said before any batch runs; this build's decoder only refuses, with
       * the message that names the file and the way out */
      int w, h, c;
      uint8_t *px;
      st = calib_decode_read(d->files[f], &w, &h, &c, &px);
    } else if (d->image_input < 0) {
      st = infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "%s: an image, but no input takes images (rank 4, 1 or 3 channels)",
                            d->files[f]);
    } else {
      st = add_samples(&d->in[d->image_input], f, 1);
    }
  }
  d->n_batches = -1;
  for (int i = 0; !st && i < n_inputs; i++) {
    int b = d->in[i].n_samples / (int)d->in[i].spec.shape.d[0];
    if (b == 0)
      st = infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "data folder '%s': %d samples for input '%s', fewer than one batch of "
                            "%lld", dir, d->in[i].n_samples, d->in[i].spec.name,
                            (long long)d->in[i].spec.shape.d[0]);
    if (d->n_batches < 0 || b < d->n_batches) d->n_batches = b;
  }
  if (st) {
    calib_dataset_close(d);
    return st;
  }
  *out = d;
  return NULL;
}

void calib_dataset_close(CalibDataset *d) {
  if (!d) return;
  for (int i = 0; i < d->n_inputs && d->in; i++) {
    free(d->in[i].samples);
    free(d->in[i].batch);
    free(d->in[i].cached.data);
  }
  for (int f = 0; f < d->n_files; f++) free(d->files[f]);
  free(d->files);
  free(d->kinds);
  free(d->in);
  infer_status_free(d->error);
  free(d);
}

int calib_dataset_batches(const CalibDataset *d) { return d->n_batches; }

const InferStatus *calib_dataset_error(const CalibDataset *d) { return d->error; }

void calib_dataset_describe(const CalibDataset *d, void (*line)(const char *, void *), void *user) {
  char buf[512];
  for (int i = 0; i < d->n_inputs; i++) {
    const InputData *in = &d->in[i];
    int used = d->n_batches * (int)in->spec.shape.d[0];
    snprintf(buf, sizeof buf, "input '%s': %d samples from %d files; %d batches of %lld%s",
             in->spec.name, in->n_samples, in->n_files, d->n_batches,
             (long long)in->spec.shape.d[0],
             used < in->n_samples ? " (the samples left over are not used)" : "");
    line(buf, user);
  }
  if (d->n_skipped) {
    snprintf(buf, sizeof buf, "%d files skipped (not .pb, .ppm/.pgm/.pnm, .png or .jpg/.jpeg)",
             d->n_skipped);
    line(buf, user);
  }
}

static InferStatus *read_image(CalibDataset *d, InputData *in, int file, void *dst) {
  int w, h, ch;
  uint8_t *px;
  if (d->kinds[file] == FILE_CODED) INFER_TRY(calib_decode_read(d->files[file], &w, &h, &ch, &px));
  else INFER_TRY(calib_ppm_read(d->files[file], &w, &h, &ch, &px));
  const InferShape *s = &in->spec.shape;
  int out_c = (int)(in->image_nhwc ? s->d[3] : s->d[1]);
  int out_h = (int)(in->image_nhwc ? s->d[1] : s->d[2]);
  int out_w = (int)(in->image_nhwc ? s->d[2] : s->d[3]);
  InferPreprocessParams p;
  infer_preprocess_defaults(&p, out_w, out_h);
  p.order = out_c == 1 ? INFER_ORDER_GRAY : d->img.bgr ? INFER_ORDER_BGR : INFER_ORDER_RGB;
  p.layout = in->image_nhwc ? INFER_LAYOUT_NHWC : INFER_LAYOUT_NCHW;
  p.dtype = in->spec.dtype;
  p.keep_aspect = d->img.keep_aspect;
  p.pad_symmetric = d->img.pad_symmetric;
  p.pad_value = d->img.pad_value;
  p.interp = d->img.interp;
  p.scale = d->img.scale;
  for (int c = 0; c < 3; c++) {
    p.mean[c] = d->img.mean[c];
    p.std[c] = d->img.std[c];
  }
  InferImage img;
  memset(&img, 0, sizeof img);
  img.format = ch == 3 ? INFER_PIXEL_RGB : INFER_PIXEL_GRAY8;
  img.width = w;
  img.height = h;
  img.planes[0] = px;
  img.strides[0] = w * ch;
  InferLetterbox xf;
  InferStatus *st = infer_preprocess_cpu(&img, NULL, &p, dst, &xf);
  free(px);
  return infer_status_prefix(st, "%s", d->files[file]);
}

static InferStatus *read_sample(CalibDataset *d, InputData *in, const Sample *s, void *dst) {
  if (d->kinds[s->file] != FILE_PB) return read_image(d, in, s->file, dst);
  if (in->cached_file != s->file) {
    free(in->cached.data);
    in->cached.data = NULL;
    in->cached_file = -1;
    INFER_TRY(infer_onnx_read_tensor_file(d->files[s->file], &in->cached, NULL));
    in->cached_file = s->file;
  }
  memcpy(dst, (const char *)in->cached.data + (size_t)s->index * in->sample_bytes,
         in->sample_bytes);
  return NULL;
}

static int ds_batch_size(void *user) {
  CalibDataset *d = user;
  return d->n_inputs ? (int)d->in[0].spec.shape.d[0] : 0;
}

static bool ds_get_batch(void *user, const char *const *names, const void **bindings, int n) {
  CalibDataset *d = user;
  if (d->error || d->next >= d->n_batches) return false;
  for (int k = 0; k < n; k++) {
    InputData *in = NULL;
    for (int i = 0; i < d->n_inputs; i++)
      if (strcmp(d->in[i].spec.name, names[k]) == 0) in = &d->in[i];
    if (!in) {
      d->error = infer_status_new(INFER_ERR_INTERNAL, "no data for input '%s'", names[k]);
      return false;
    }
    int per = (int)in->spec.shape.d[0];
    for (int j = 0; j < per; j++) {
      InferStatus *st = read_sample(d, in, &in->samples[d->next * per + j],
                                    (char *)in->batch + (size_t)j * in->sample_bytes);
      if (st) {
        d->error = st;
        return false;
      }
    }
    bindings[k] = in->batch;
  }
  d->next++;
  return true;
}

static bool ds_reset(void *user) {
  ((CalibDataset *)user)->next = 0;
  return true;
}

void calib_dataset_calibrator(CalibDataset *d, InferCalibrator *cal) {
  memset(cal, 0, sizeof *cal);
  cal->user = d;
  cal->get_batch_size = ds_batch_size;
  cal->get_batch = ds_get_batch;
  cal->reset = ds_reset;
}
