/* Engine management: ONNX parse, build with a batch profile, plan cache
 * (load, check, rebuild and save), and the description of the model's
 * image input and outputs (see infer_model.h). */
#include "infer_model.h"

#include <errno.h>
#include <string.h>

#include "infer_cuda.h"

#define GST_CAT_DEFAULT gst_infer_debug

/* ---- errors ---------------------------------------------------------------- */

static gboolean fail(GError **error, gchar **debug, GQuark domain, gint code,
                     const InferStatus *st, const gchar *fmt, ...) G_GNUC_PRINTF(6, 7);
static gboolean fail(GError **error, gchar **debug, GQuark domain, gint code,
                     const InferStatus *st, const gchar *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  gchar *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_set_error_literal(error, domain, code, msg);
  if (debug) *debug = st ? g_strdup(infer_status_message(st)) : g_strdup(msg);
  g_free(msg);
  return FALSE;
}

/* ---- plan file naming ------------------------------------------------------- */

gchar *infer_model_plan_path(const InferModelOptions *o) {
  if (!o->engine_cache || !*o->engine_cache) return NULL;
  gboolean folder = g_str_has_suffix(o->engine_cache, G_DIR_SEPARATOR_S) ||
                    g_file_test(o->engine_cache, G_FILE_TEST_IS_DIR);
  if (!folder) return g_strdup(o->engine_cache);
  gchar *abs = o->model_path ? g_canonicalize_filename(o->model_path, NULL) : g_strdup("");
  gchar *key = g_strdup_printf("model=%s;backend=%d;device=%d;precisions=%u;calib=%s;batch=%d;"
                               "version=%s",
                               abs, (int)o->backend, o->device_id, o->precisions,
                               o->calibration_cache ? o->calibration_cache : "", o->batch_size,
                               infer_version_string());
  guint64 h = infer_hash64(key, strlen(key), 0);
  gchar *base = g_path_get_basename(o->model_path ? o->model_path : "model");
  gchar *dot = strrchr(base, '.');
  if (dot && dot != base) *dot = 0;
  gchar *name = g_strdup_printf("%s-%016" G_GINT64_MODIFIER "x.plan", base, h);
  gchar *path = g_build_filename(o->engine_cache, name, NULL);
  g_free(name);
  g_free(base);
  g_free(key);
  g_free(abs);
  return path;
}

/* ---- the model's input and outputs ------------------------------------------ */

/* The image input from its name, shape and type (n_in: the number of
 * inputs, which must be one), from an engine or a network. */
static gboolean describe_input_as(InferModel *m, const InferModelOptions *o, int n_in,
                                  const char *name, InferShape s, InferDType dt, GError **error,
                                  gchar **debug) {
  if (n_in != 1)
    return fail(error, debug, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT, NULL,
                "model '%s' (property model) has %d inputs; infer needs exactly one image "
                "input [N,C,H,W] or [N,H,W,C]",
                m->path, n_in);
  char sh[128];
  infer_shape_str(&s, sh, sizeof sh);
  m->input_name = g_strdup(name);
  if (dt != INFER_DTYPE_F32 && dt != INFER_DTYPE_F16 && dt != INFER_DTYPE_U8)
    return fail(error, debug, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT, NULL,
                "model '%s' (property model): input '%s' has element type %s; an image input "
                "must be f32 (or f16 / u8)",
                m->path, m->input_name, infer_dtype_name(dt));
  if (s.rank != 4)
    return fail(error, debug, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT, NULL,
                "model '%s' (property model): input '%s' has shape %s; an image input has "
                "rank 4, [N,C,H,W] or [N,H,W,C] with C = 1 or 3",
                m->path, m->input_name, sh);
  gboolean nchw_ok = s.d[1] == 1 || s.d[1] == 3, nhwc_ok = s.d[3] == 1 || s.d[3] == 3;
  GstInferInputLayout lay = o->layout;
  if (lay == GST_INFER_LAYOUT_AUTO) lay = nchw_ok ? GST_INFER_LAYOUT_NCHW : GST_INFER_LAYOUT_NHWC;
  if ((lay == GST_INFER_LAYOUT_NCHW && !nchw_ok) || (lay == GST_INFER_LAYOUT_NHWC && !nhwc_ok))
    return fail(error, debug, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT, NULL,
                "model '%s' (property model): input '%s' has shape %s, which is not an image "
                "of 1 or 3 channels in the %s layout (property input-layout)",
                m->path, m->input_name, sh,
                o->layout == GST_INFER_LAYOUT_AUTO ? "NCHW or NHWC"
                : lay == GST_INFER_LAYOUT_NCHW     ? "NCHW"
                                                   : "NHWC");
  m->layout = lay == GST_INFER_LAYOUT_NCHW ? INFER_LAYOUT_NCHW : INFER_LAYOUT_NHWC;
  m->channels = (gint)(lay == GST_INFER_LAYOUT_NCHW ? s.d[1] : s.d[3]);
  m->height = (gint)(lay == GST_INFER_LAYOUT_NCHW ? s.d[2] : s.d[1]);
  m->width = (gint)(lay == GST_INFER_LAYOUT_NCHW ? s.d[3] : s.d[2]);
  if (m->width <= 0 || m->height <= 0 || m->width > 16384 || m->height > 16384)
    return fail(error, debug, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT, NULL,
                "model '%s' (property model): input '%s' has shape %s; its height and width "
                "must be fixed sizes",
                m->path, m->input_name, sh);
  m->input_dtype = dt;
  if (s.d[0] < 0) {
    m->dynamic_batch = TRUE;
    m->batch = MAX(o->batch_size, 1);
  } else {
    m->dynamic_batch = FALSE;
    m->batch = (gint)MAX(s.d[0], 1);
    if (m->batch != o->batch_size)
      GST_WARNING("model '%s' has a fixed batch of %d (batch-size is %d): batches of %d are run",
                  m->path, m->batch, o->batch_size, m->batch);
  }
  return TRUE;
}

static gboolean describe_input(InferModel *m, const InferModelOptions *o, GError **error,
                               gchar **debug) {
  InferEngine *e = m->engine;
  int n_io = infer_engine_num_io(e), n_in = 0, in = -1;
  for (int i = 0; i < n_io; i++)
    if (infer_engine_io_is_input(e, i)) {
      n_in++;
      if (in < 0) in = i;
    }
  if (n_in != 1) return describe_input_as(m, o, n_in, NULL, (InferShape){0}, 0, error, debug);
  return describe_input_as(m, o, n_in, infer_engine_io_name(e, in), infer_engine_io_shape(e, in),
                           infer_engine_io_dtype(e, in), error, debug);
}

InferShape infer_model_input_shape(const InferModel *m, gint n) {
  InferShape s = {4, {n, 0, 0, 0}};
  if (m->layout == INFER_LAYOUT_NCHW) {
    s.d[1] = m->channels, s.d[2] = m->height, s.d[3] = m->width;
  } else {
    s.d[1] = m->height, s.d[2] = m->width, s.d[3] = m->channels;
  }
  return s;
}

/* Output shapes at `batch` items; fails when the engine does not take that
 * batch (a plan built with another profile). */
static InferStatus *describe_outputs(InferModel *m) {
  InferContext *ctx = NULL;
  INFER_TRY(infer_context_create(m->engine, &ctx));
  InferShape in = infer_model_input_shape(m, m->batch);
  InferStatus *st = NULL;
  if (m->dynamic_batch) st = infer_context_set_input_shape(ctx, m->input_name, &in);
  int n_io = infer_engine_num_io(m->engine);
  m->output_names = g_new0(gchar *, n_io + 1);
  m->output_shapes = g_new0(InferShape, n_io + 1);
  m->output_dtypes = g_new0(InferDType, n_io + 1);
  for (int i = 0; i < n_io && !st; i++) {
    if (infer_engine_io_is_input(m->engine, i)) continue;
    const char *name = infer_engine_io_name(m->engine, i);
    int k = m->n_outputs++;
    m->output_names[k] = g_strdup(name);
    m->output_dtypes[k] = infer_engine_io_dtype(m->engine, i);
    st = infer_context_get_tensor_shape(ctx, name, &m->output_shapes[k]);
  }
  infer_context_release(ctx);
  return st;
}

void infer_model_output_specs(const InferModel *m, InferNamedTensor *out) {
  for (gint i = 0; i < m->n_outputs; i++) {
    out[i].name = m->output_names[i];
    out[i].view.dtype = m->output_dtypes[i];
    out[i].view.shape = m->output_shapes[i];
    out[i].view.data = NULL;
  }
}

static void guess_kind(InferModel *m) {
  m->class_output = -1;
  for (gint i = 0; i < m->n_outputs; i++) {
    const InferShape *s = &m->output_shapes[i];
    gboolean cls = s->rank == 2 || (s->rank == 4 && s->d[2] == 1 && s->d[3] == 1);
    if (cls && s->d[1] >= 1 && infer_dtype_is_float(m->output_dtypes[i])) {
      m->class_output = i;
      break;
    }
  }
  InferNamedTensor *specs = g_new0(InferNamedTensor, MAX(m->n_outputs, 1));
  infer_model_output_specs(m, specs);
  InferStatus *st = infer_detector_format_guess(specs, m->n_outputs, &m->detector_format);
  g_free(specs);
  if (!st)
    m->kind = INFER_MODEL_KIND_DETECTOR;
  else if (m->n_outputs == 1 && m->class_output == 0)
    m->kind = INFER_MODEL_KIND_CLASSIFIER;
  else
    m->kind = INFER_MODEL_KIND_RAW;
  infer_status_free(st);
}

/* ---- plan cache and build ------------------------------------------------------ */

typedef struct {
  InferModelProgressFn fn;
  gpointer user;
} ProgressRelay;

static bool relay_progress(const char *phase, int done, int total, void *user) {
  ProgressRelay *r = user;
  if (r->fn) r->fn(phase, done, total, r->user);
  return true;
}

/* Tries the plan: returns the engine, or NULL with *reason saying why not. */
static InferEngine *try_plan(const InferModelOptions *o, const gchar *plan, guint64 hash,
                             gchar **reason) {
  if (!g_file_test(plan, G_FILE_TEST_EXISTS)) {
    *reason = g_strdup_printf("no plan at '%s'", plan);
    return NULL;
  }
  InferEngine *e = NULL;
  InferStatus *st = infer_engine_load(plan, &e);
  if (st) {
    *reason = g_strdup_printf("%s '%s': %s",
                              infer_status_code(st) == INFER_ERR_MISMATCH
                                  ? "the plan does not match this library or device"
                                  : "the plan cannot be read",
                              plan, infer_status_message(st));
    infer_status_free(st);
    return NULL;
  }
  if (infer_engine_source_hash(e) != hash) {
    *reason = g_strdup_printf("the model file changed since the plan '%s' was built "
                              "(plan source hash %016" G_GINT64_MODIFIER
                              "x, model hash %016" G_GINT64_MODIFIER "x)",
                              plan, (guint64)infer_engine_source_hash(e), hash);
    infer_engine_release(e);
    return NULL;
  }
  if (o->backend != INFER_BACKEND_AUTO && infer_engine_backend(e) != o->backend) {
    *reason = g_strdup_printf("the plan '%s' was built for another backend", plan);
    infer_engine_release(e);
    return NULL;
  }
  return e;
}

static InferStatus *build_engine(const InferModelOptions *o, ProgressRelay *relay,
                                 InferEngine **out) {
  InferNetwork *net = NULL;
  InferBuildConfig *cfg = NULL;
  INFER_TRY(infer_onnx_parse_file(o->model_path, &net));
  InferStatus *st = infer_build_config_create(&cfg);
  if (!st) {
    infer_build_config_set_backend(cfg, o->backend);
    infer_build_config_set_precisions(cfg, o->precisions);
    infer_build_config_set_progress(cfg, relay_progress, relay);
    /* INT8 scales for calibrated (implicit) INT8 layers */
    if (o->calibration_cache && *o->calibration_cache && (o->precisions & INFER_PRECISION_INT8))
      st = infer_build_config_set_calibration_cache(cfg, o->calibration_cache);
  }
  if (!st) {
    if (infer_network_num_inputs(net) == 1) {
      InferTensorId t = infer_network_input(net, 0);
      InferShape s = infer_network_tensor_shape(net, t);
      if (s.rank >= 1 && s.d[0] < 0) {
        InferShape mn = s, mx = s;
        mn.d[0] = 1;
        mx.d[0] = MAX(o->batch_size, 1);
        gboolean other_dynamic = FALSE;
        for (int i = 1; i < s.rank; i++) other_dynamic |= s.d[i] < 0;
        if (!other_dynamic)
          st = infer_build_config_set_input_range(cfg, infer_network_tensor_name(net, t), &mn,
                                                  &mx, &mx);
      }
    }
  }
  if (!st) st = infer_engine_build(net, cfg, out);
  infer_build_config_release(cfg);
  infer_network_release(net);
  return st;
}

static gboolean read_model(const InferModelOptions *o, guint64 *hash, GError **error,
                           gchar **debug) {
  if (!o->model_path || !*o->model_path)
    return fail(error, debug, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND, NULL,
                "no model given: set the property model to an ONNX file");
  gchar *data = NULL;
  gsize size = 0;
  GError *e = NULL;
  if (!g_file_get_contents(o->model_path, &data, &size, &e)) {
    gboolean missing = g_error_matches(e, G_FILE_ERROR, G_FILE_ERROR_NOENT);
    fail(error, debug, GST_RESOURCE_ERROR,
         missing ? GST_RESOURCE_ERROR_NOT_FOUND : GST_RESOURCE_ERROR_OPEN_READ, NULL,
         "cannot read the model '%s' (property model): %s", o->model_path, e->message);
    g_error_free(e);
    return FALSE;
  }
  *hash = infer_hash64(data, size, 0);
  g_free(data);
  return TRUE;
}

/* Selects device-id on this thread. backend=cuda needs it; backend=auto
 * goes on with what the engine finds (the CPU when there is no GPU). */
static gboolean use_device(const InferModelOptions *o, GError **error, gchar **debug) {
  InferStatus *st = infer_cuda_set_device(o->device_id);
  gboolean ok = !st || o->backend != INFER_BACKEND_CUDA;
  if (!ok)
    fail(error, debug, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS, st,
         "property device-id=%d: %s", o->device_id, infer_status_message(st));
  else if (st)
    GST_INFO("device-id=%d: %s", o->device_id, infer_status_message(st));
  infer_status_free(st);
  return ok;
}

/* The element's message for a failed parse or build of the model. */
static void model_error(const InferModel *m, const InferStatus *st, GError **error,
                        gchar **debug) {
  InferStatusCode code = infer_status_code(st);
  if (code == INFER_ERR_IO)
    fail(error, debug, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ, st,
         "cannot read the model '%s' (property model): %s", m->path, infer_status_message(st));
  else if (code == INFER_ERR_PARSE)
    fail(error, debug, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ, st,
         "the model '%s' (property model) is not a valid ONNX model: %s", m->path,
         infer_status_message(st));
  else
    fail(error, debug, GST_LIBRARY_ERROR, GST_LIBRARY_ERROR_INIT, st,
         "cannot build an engine for the model '%s' (property model): %s", m->path,
         infer_status_message(st));
}

gboolean infer_model_load(const InferModelOptions *o, InferModelProgressFn progress,
                          gpointer user, InferModel **out, GError **error, gchar **debug) {
  *out = NULL;
  if (debug) *debug = NULL;
  guint64 hash = 0;
  if (!read_model(o, &hash, error, debug)) return FALSE;
  /* the engine is built or loaded on the device current on this thread */
  if (o->backend != INFER_BACKEND_CPU && !use_device(o, error, debug)) return FALSE;
  InferModel *m = g_new0(InferModel, 1);
  m->path = g_strdup(o->model_path);
  m->source_hash = hash;
  m->plan_path = infer_model_plan_path(o);
  ProgressRelay relay = {progress, user};
  gchar *reason = NULL;
  if (m->plan_path) {
    m->engine = try_plan(o, m->plan_path, hash, &reason);
    if (m->engine) {
      m->from_plan = TRUE;
      if (!describe_input(m, o, error, debug)) goto failed;
      InferStatus *st = describe_outputs(m);
      if (!st) {
        m->origin = g_strdup_printf("loaded plan '%s'", m->plan_path);
        GST_INFO("model '%s': %s", m->path, m->origin);
        guess_kind(m);
        *out = m;
        return TRUE;
      }
      reason = g_strdup_printf("the plan '%s' does not take batch size %d: %s", m->plan_path,
                               m->batch, infer_status_message(st));
      infer_status_free(st);
      /* start over from the model */
      InferModel *fresh = g_new0(InferModel, 1);
      fresh->path = m->path, fresh->source_hash = hash, fresh->plan_path = m->plan_path;
      m->path = m->plan_path = NULL;
      infer_model_free(m);
      m = fresh;
    }
  } else {
    reason = g_strdup("no engine-cache set");
  }
  GST_INFO("model '%s': rebuilding engine: %s", m->path, reason);
  InferStatus *st = build_engine(o, &relay, &m->engine);
  if (st) {
    model_error(m, st, error, debug);
    infer_status_free(st);
    goto failed;
  }
  if (!describe_input(m, o, error, debug)) goto failed;
  st = describe_outputs(m);
  if (st) {
    fail(error, debug, GST_LIBRARY_ERROR, GST_LIBRARY_ERROR_INIT, st,
         "the model '%s' (property model) cannot run batches of %d (property batch-size): %s",
         m->path, m->batch, infer_status_message(st));
    infer_status_free(st);
    goto failed;
  }
  guess_kind(m);
  m->origin = g_strdup_printf("built: %s", reason);
  if (m->plan_path) {
    gchar *dir = g_path_get_dirname(m->plan_path);
    if (g_mkdir_with_parents(dir, 0755) != 0)
      GST_WARNING("cannot create the engine-cache folder '%s': %s", dir, g_strerror(errno));
    g_free(dir);
    st = infer_engine_save(m->engine, m->plan_path);
    if (st) {
      m->save_warning = g_strdup_printf("cannot write the plan '%s' (property engine-cache): %s",
                                        m->plan_path, infer_status_message(st));
      GST_WARNING("%s", m->save_warning);
      infer_status_free(st);
    } else {
      GST_INFO("model '%s': saved plan '%s'", m->path, m->plan_path);
    }
  }
  g_free(reason);
  *out = m;
  return TRUE;

failed:
  g_free(reason);
  infer_model_free(m);
  return FALSE;
}

gboolean infer_model_describe(const InferModelOptions *o, InferNetwork **net, InferModel **out,
                              GError **error, gchar **debug) {
  *out = NULL;
  *net = NULL;
  if (debug) *debug = NULL;
  guint64 hash = 0;
  if (!read_model(o, &hash, error, debug)) return FALSE;
  InferModel *m = g_new0(InferModel, 1);
  m->path = g_strdup(o->model_path);
  m->source_hash = hash;
  m->class_output = -1;
  InferStatus *st = infer_onnx_parse_file(o->model_path, net);
  if (st) {
    model_error(m, st, error, debug);
    infer_status_free(st);
  } else {
    int n_in = infer_network_num_inputs(*net);
    InferTensorId t = n_in == 1 ? infer_network_input(*net, 0) : 0;
    if (describe_input_as(m, o, n_in, n_in == 1 ? infer_network_tensor_name(*net, t) : NULL,
                          n_in == 1 ? infer_network_tensor_shape(*net, t) : (InferShape){0},
                          n_in == 1 ? infer_network_tensor_dtype(*net, t) : 0, error, debug)) {
      *out = m;
      return TRUE;
    }
  }
  infer_network_release(*net);
  *net = NULL;
  infer_model_free(m);
  return FALSE;
}

void infer_model_free(InferModel *m) {
  if (!m) return;
  infer_engine_release(m->engine);
  g_free(m->path);
  g_free(m->input_name);
  if (m->output_names) g_strfreev(m->output_names);
  g_free(m->output_shapes);
  g_free(m->output_dtypes);
  g_free(m->plan_path);
  g_free(m->origin);
  g_free(m->save_warning);
  g_free(m);
}
