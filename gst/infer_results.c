/* Turning a batch item's outputs into a frame's results (on the worker
 * thread), and results into metas (on the src task, just before the push). */
#include <string.h>

#include "gstinfer.h"
#include "infer-meta.h"

#define DEFAULT_TOP_K_DETECTIONS 100
#define DEFAULT_TOP_K_CLASSES 5

typedef struct InferTensorCopy {
  gchar *name;
  InferMetaDType dtype;
  guint rank;
  gint64 dims[8];
  gpointer data;
  gsize size;
} InferTensorCopy;

static void tensor_copy_free(gpointer p) {
  InferTensorCopy *t = p;
  g_free(t->name);
  g_free(t->data);
  g_free(t);
}

static InferModelKind resolve_kind(const InferDecodeSettings *s, const InferModel *m) {
  switch (s->model_type) {
    case GST_INFER_MODEL_CLASSIFIER: return INFER_MODEL_KIND_CLASSIFIER;
    case GST_INFER_MODEL_DETECTOR: return INFER_MODEL_KIND_DETECTOR;
    case GST_INFER_MODEL_RAW: return INFER_MODEL_KIND_RAW;
    default: return m->kind;
  }
}

static void describe_outputs(const InferModel *m, GString *out) {
  for (gint i = 0; i < m->n_outputs; i++) {
    char sh[128];
    g_string_append_printf(out, "%s'%s' %s", i ? ", " : "", m->output_names[i],
                           infer_shape_str(&m->output_shapes[i], sh, sizeof sh));
  }
}

/* Decodes zeros shaped like the outputs, to check an explicit detector
 * format against the model before any frame. */
static InferStatus *dry_decode(const InferModel *m, const InferDecodeSettings *s) {
  InferNamedTensor *specs = g_new0(InferNamedTensor, MAX(m->n_outputs, 1));
  infer_model_output_specs(m, specs);
  gboolean all_static = TRUE;
  for (gint i = 0; i < m->n_outputs; i++) {
    int64_t n = infer_shape_numel(&specs[i].view.shape);
    if (n < 0) {
      all_static = FALSE;
      break;
    }
    specs[i].view.data = g_malloc0(MAX((gsize)n * infer_dtype_size(specs[i].view.dtype), 1));
  }
  InferStatus *st = NULL;
  if (all_static) {
    InferDetectorParams p = {.format = s->detector_format, .confidence_threshold = 2.0f};
    InferDetection d;
    gint n = 0;
    st = infer_decode_detections(specs, m->n_outputs, 0, m->width, m->height, &p, &d, 1, &n);
  }
  for (gint i = 0; i < m->n_outputs; i++) g_free(specs[i].view.data);
  g_free(specs);
  return st;
}

gboolean infer_results_check(const InferModel *m, const InferDecodeSettings *s, GError **error,
                             gchar **debug) {
  InferModelKind kind = resolve_kind(s, m);
  GString *outs = g_string_new(NULL);
  describe_outputs(m, outs);
  gboolean ok = TRUE;
  if (kind == INFER_MODEL_KIND_CLASSIFIER && m->class_output < 0) {
    g_set_error(error, GST_LIBRARY_ERROR, GST_LIBRARY_ERROR_SETTINGS,
                "model-type=classifier, but the model '%s' (property model) has no [N,C] "
                "float output (outputs: %s)",
                m->path, outs->str);
    ok = FALSE;
  } else if (kind == INFER_MODEL_KIND_DETECTOR) {
    InferStatus *st = NULL;
    if (s->detector_format == INFER_DET_AUTO) {
      InferNamedTensor *specs = g_new0(InferNamedTensor, MAX(m->n_outputs, 1));
      infer_model_output_specs(m, specs);
      InferDetectorFormat f;
      st = infer_detector_format_guess(specs, m->n_outputs, &f);
      g_free(specs);
    } else {
      st = dry_decode(m, s);
    }
    if (st) {
      g_set_error(error, GST_LIBRARY_ERROR, GST_LIBRARY_ERROR_SETTINGS,
                  "the outputs of the model '%s' (property model) do not fit the detector "
                  "format (properties model-type, detector-format): %s",
                  m->path, infer_status_message(st));
      infer_status_free(st);
      ok = FALSE;
    }
  }
  if (!ok && debug) *debug = g_strdup_printf("outputs: %s", outs->str);
  g_string_free(outs, TRUE);
  return ok;
}

static gboolean meta_dtype(InferDType t, InferMetaDType *out) {
  switch (t) {
    case INFER_DTYPE_F32: *out = INFER_META_DTYPE_F32; return TRUE;
    case INFER_DTYPE_F16: *out = INFER_META_DTYPE_F16; return TRUE;
    case INFER_DTYPE_I8: *out = INFER_META_DTYPE_I8; return TRUE;
    case INFER_DTYPE_U8: *out = INFER_META_DTYPE_U8; return TRUE;
    case INFER_DTYPE_I32: *out = INFER_META_DTYPE_I32; return TRUE;
    case INFER_DTYPE_I64: *out = INFER_META_DTYPE_I64; return TRUE;
    case INFER_DTYPE_BOOL: *out = INFER_META_DTYPE_BOOL; return TRUE;
    default: return FALSE;
  }
}

/* Item `item` of every output (the whole tensor when dim 0 is not a batch). */
static void copy_tensors(InferFrame *f, const InferNamedTensor *outs, gint n, gint item) {
  if (!f->tensors) f->tensors = g_ptr_array_new_with_free_func(tensor_copy_free);
  for (gint i = 0; i < n; i++) {
    const InferTensorView *v = &outs[i].view;
    InferMetaDType dt;
    int64_t numel = infer_shape_numel(&v->shape);
    if (!meta_dtype(v->dtype, &dt) || numel < 0 || v->shape.rank > 8 || !v->data) continue;
    gsize esize = infer_dtype_size(v->dtype);
    InferTensorCopy *t = g_new0(InferTensorCopy, 1);
    t->name = g_strdup(outs[i].name);
    t->dtype = dt;
    t->rank = (guint)v->shape.rank;
    for (int d = 0; d < v->shape.rank; d++) t->dims[d] = v->shape.d[d];
    const guint8 *src = v->data;
    gsize bytes = (gsize)numel * esize;
    if (v->shape.rank >= 1 && v->shape.d[0] > item) {
      bytes /= (gsize)v->shape.d[0];
      src += bytes * (gsize)item;
      t->dims[0] = 1;
    }
    t->data = g_memdup2(src, bytes);
    t->size = bytes;
    g_ptr_array_add(f->tensors, t);
  }
}

/* The detector parameters of the settings; *max gets the capacity
 * (top-k). */
static InferDetectorParams detector_params(const InferDecodeSettings *s, gint *max) {
  gint top_k = s->top_k > 0 ? s->top_k : DEFAULT_TOP_K_DETECTIONS;
  InferDetectorParams p = {.format = s->detector_format,
                           .box_format = INFER_BOX_AUTO,
                           .confidence_threshold = s->threshold,
                           .nms_iou = s->nms_iou,
                           .top_k = top_k};
  *max = top_k;
  return p;
}

void infer_client_output_needs(InferClient *client, const InferModel *m, InferOutputNeeds *needs) {
  InferDecodeSettings s;
  gst_infer_decode_settings(client->user, &s);
  InferModelKind kind = resolve_kind(&s, m);
  memset(needs, 0, sizeof *needs);
  /* what infer_results_decode reads raw: the tensors it copies, a
     classifier's scores */
  needs->outputs = kind == INFER_MODEL_KIND_CLASSIFIER ||
                   ((s.output_tensors || kind == INFER_MODEL_KIND_RAW) && !s.roi_mode);
  if (kind == INFER_MODEL_KIND_DETECTOR) {
    needs->detections = TRUE;
    needs->detector = detector_params(&s, &needs->max_detections);
  }
}

gchar *infer_results_decode(InferFrame *f, const InferSlot *slot, const InferModel *m,
                            const InferNamedTensor *outs, gint n, gint item,
                            const InferDecodeSettings *s) {
  InferModelKind kind = resolve_kind(s, m);
  f->kind = kind;
  if (!s->roi_mode) f->inferred = TRUE;
  if ((s->output_tensors || kind == INFER_MODEL_KIND_RAW) && !s->roi_mode)
    copy_tensors(f, outs, n, item);
  InferStatus *st = NULL;
  if (kind == INFER_MODEL_KIND_CLASSIFIER) {
    if (m->class_output < 0) return g_strdup("the model has no [N,C] classifier output");
    InferClassifierParams p = {s->softmax, s->threshold,
                               s->top_k > 0 ? s->top_k : DEFAULT_TOP_K_CLASSES};
    InferClassification c[1000];
    gint nc = 0;
    st = infer_decode_classification(&outs[m->class_output].view, item, &p, c, p.top_k, &nc);
    if (!st && s->roi_mode) {
      if (!f->roi_classes) f->roi_classes = g_array_new(FALSE, FALSE, sizeof(InferRoiClass));
      for (gint i = 0; i < nc; i++) {
        InferRoiClass rc = {slot->object_index, c[i]};
        g_array_append_val(f->roi_classes, rc);
      }
    } else if (!st) {
      if (!f->classes) f->classes = g_array_new(FALSE, FALSE, sizeof(InferClassification));
      g_array_append_vals(f->classes, c, (guint)nc);
    }
  } else if (kind == INFER_MODEL_KIND_DETECTOR) {
    gint top_k = 0;
    InferDetectorParams p = detector_params(s, &top_k);
    InferDetection *d = g_new0(InferDetection, top_k);
    gint nd = 0;
    if (slot->decoded) { /* on the GPU, with the settings of the batch's start */
      nd = MIN(slot->n_detections, top_k);
      if (nd > 0) memcpy(d, slot->detections, (gsize)nd * sizeof *d);
    } else {
      st = infer_decode_detections(outs, n, item, m->width, m->height, &p, d, top_k, &nd);
    }
    if (!st) {
      infer_map_detections(d, nd, &slot->letterbox, slot->frame_width, slot->frame_height);
      if (!f->detections) f->detections = g_array_new(FALSE, FALSE, sizeof(InferDetection));
      g_array_append_vals(f->detections, d, (guint)nd);
    }
    g_free(d);
  }
  gchar *err = st ? g_strdup(infer_status_message(st)) : NULL;
  infer_status_free(st);
  return err;
}

static const gchar *label_of(GstInfer *self, gint id) {
  if (!self->labels || id < 0 || (guint)id >= self->labels->len) return NULL;
  return g_ptr_array_index(self->labels, id);
}

void infer_results_attach(GstInfer *self, GstBuffer *buffer, gint width, gint height,
                          const InferFrame *from) {
  const gchar *src = GST_OBJECT_NAME(self);
  if (from->roi_classes && from->roi_classes->len > 0) {
    InferDetectionMeta *dm = infer_buffer_get_detection_meta(buffer);
    for (guint i = 0; dm && i < from->roi_classes->len; i++) {
      const InferRoiClass *rc = &g_array_index(from->roi_classes, InferRoiClass, i);
      if (rc->object_index < 0 || (guint)rc->object_index >= dm->objects->len) continue;
      InferObject *obj = &g_array_index(dm->objects, InferObject, rc->object_index);
      infer_object_add_class(dm, buffer, obj, src, rc->c.class_id, rc->c.confidence,
                             label_of(self, rc->c.class_id));
    }
  }
  if (from->kind == INFER_MODEL_KIND_CLASSIFIER && from->inferred) {
    InferClassificationMeta *cm = infer_buffer_add_classification_meta(buffer, src);
    for (guint i = 0; from->classes && i < from->classes->len; i++) {
      const InferClassification *c = &g_array_index(from->classes, InferClassification, i);
      infer_classification_meta_add(cm, c->class_id, c->confidence, label_of(self, c->class_id));
    }
  }
  if (from->kind == INFER_MODEL_KIND_DETECTOR && (from->inferred || from->detections)) {
    InferDetectionMeta *dm = infer_buffer_add_detection_meta(buffer, src);
    gdouble fw = MAX(from->width, 1), fh = MAX(from->height, 1);
    for (guint i = 0; from->detections && i < from->detections->len; i++) {
      const InferDetection *d = &g_array_index(from->detections, InferDetection, i);
      infer_detection_meta_add_object(dm, buffer, d->x_min / fw, d->y_min / fh, d->x_max / fw,
                                      d->y_max / fh, d->confidence, d->class_id,
                                      label_of(self, d->class_id), width, height);
    }
  }
  for (guint i = 0; from->tensors && i < from->tensors->len; i++) {
    const InferTensorCopy *t = g_ptr_array_index(from->tensors, i);
    infer_buffer_add_tensor_meta(buffer, src, t->name, t->dtype, t->rank, t->dims, t->data,
                                 t->size);
  }
}

void infer_frame_clear_results(InferFrame *f) {
  if (f->detections) g_array_unref(f->detections);
  if (f->classes) g_array_unref(f->classes);
  if (f->roi_classes) g_array_unref(f->roi_classes);
  if (f->tensors) g_ptr_array_unref(f->tensors);
  f->detections = f->classes = f->roi_classes = NULL;
  f->tensors = NULL;
}
