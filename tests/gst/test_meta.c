/* Tests of libinfermeta-1.0: adding, reading and iterating each meta,
 * buffer copies, ROI metas and their sync, the JSON line, and a real
 * pipeline (videotestsrc ! identity ! videoscale ! videoconvert !
 * fakesink) through which the metas must survive. */
#include <string.h>

#include <gst/gst.h>
#include <gst/video/video.h>

#include "../unit/test_util.h"
#include "infer-meta.h"

/* ---- a minimal JSON validator ------------------------------------------ */

static const char *json_ws(const char *p) {
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
  return p;
}

static const char *json_value(const char *p, int depth);

static const char *json_str(const char *p) {
  if (*p != '"') return NULL;
  for (p++; *p && *p != '"'; p++) {
    if ((unsigned char)*p < 0x20) return NULL;
    if (*p == '\\') {
      p++;
      if (*p == 'u') {
        for (int i = 1; i <= 4; i++)
          if (!g_ascii_isxdigit(p[i])) return NULL;
        p += 4;
      } else if (!*p || !strchr("\"\\/bfnrt", *p)) {
        return NULL;
      }
    }
  }
  return *p == '"' ? p + 1 : NULL;
}

static const char *json_num(const char *p) {
  if (*p == '-') p++;
  if (*p == '0') {
    p++;
  } else if (*p >= '1' && *p <= '9') {
    while (g_ascii_isdigit(*p)) p++;
  } else {
    return NULL;
  }
  if (*p == '.') {
    p++;
    if (!g_ascii_isdigit(*p)) return NULL;
    while (g_ascii_isdigit(*p)) p++;
  }
  if (*p == 'e' || *p == 'E') {
    p++;
    if (*p == '+' || *p == '-') p++;
    if (!g_ascii_isdigit(*p)) return NULL;
    while (g_ascii_isdigit(*p)) p++;
  }
  return p;
}

static const char *json_value(const char *p, int depth) {
  if (depth > 64) return NULL;
  p = json_ws(p);
  if (*p == '{' || *p == '[') {
    char close = *p == '{' ? '}' : ']';
    gboolean object = *p == '{';
    p = json_ws(p + 1);
    if (*p == close) return p + 1;
    for (;;) {
      if (object) {
        p = json_str(json_ws(p));
        if (!p) return NULL;
        p = json_ws(p);
        if (*p++ != ':') return NULL;
      }
      p = json_value(p, depth + 1);
      if (!p) return NULL;
      p = json_ws(p);
      if (*p == ',') {
        p++;
        continue;
      }
      return *p == close ? p + 1 : NULL;
    }
  }
  if (*p == '"') return json_str(p);
  if (!strncmp(p, "true", 4)) return p + 4;
  if (!strncmp(p, "false", 5)) return p + 5;
  if (!strncmp(p, "null", 4)) return p + 4;
  return json_num(p);
}

static gboolean json_valid(const char *s) {
  const char *end = json_value(s, 0);
  return end && *json_ws(end) == '\0';
}

/* ---- helpers ------------------------------------------------------------ */

static guint count_metas(GstBuffer *buf, GType api) {
  guint n = 0;
  gpointer state = NULL;
  while (gst_buffer_iterate_meta_filtered(buf, &state, api)) n++;
  return n;
}

/* The ROI meta with a "detection" param whose object_id is `id`. */
static GstVideoRegionOfInterestMeta *find_roi(GstBuffer *buf, guint id, guint *count) {
  GstVideoRegionOfInterestMeta *found = NULL;
  gpointer state = NULL;
  GstMeta *m;
  if (count) *count = 0;
  while ((m = gst_buffer_iterate_meta_filtered(buf, &state,
                                               GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *)m;
    GstStructure *d = gst_video_region_of_interest_meta_get_param(roi, "detection");
    guint oid;
    if (d && gst_structure_get_uint(d, "object_id", &oid) && oid == id) {
      if (count) (*count)++;
      if (!found) found = roi;
    }
  }
  return found;
}

static const float tensor_values[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9.5f};

/* The metas of the tests: one object (with one class) in a 320x240
 * frame, a frame classification with two labels, a [1,10] f32 tensor. */
static void add_test_metas(GstBuffer *buf) {
  InferDetectionMeta *dm = infer_buffer_add_detection_meta(buf, "detector");
  InferObject *o = infer_detection_meta_add_object(dm, buf, 0.25, 0.25, 0.75, 0.5, 0.9f, 3, "cat",
                                                   320, 240);
  infer_object_add_class(dm, buf, o, "color", 1, 0.75f, "black");
  InferClassificationMeta *cm = infer_buffer_add_classification_meta(buf, "classifier");
  infer_classification_meta_add(cm, 7, 0.8f, "indoor");
  infer_classification_meta_add(cm, 2, 0.1f, "outdoor");
  const gint64 dims[2] = {1, 10};
  infer_buffer_add_tensor_meta(buf, "detector", "logits", INFER_META_DTYPE_F32, 2, dims,
                               tensor_values, sizeof(tensor_values));
}

/* Checks the metas of add_test_metas are on buf (boxes unchanged). */
static void check_test_metas(GstBuffer *buf) {
  CHECK(count_metas(buf, INFER_DETECTION_META_API_TYPE) == 1);
  InferDetectionMeta *dm = infer_buffer_get_detection_meta(buf);
  CHECK(dm != NULL);
  if (dm) {
    CHECK(g_strcmp0(dm->source, "detector") == 0);
    CHECK(dm->objects->len == 1);
    if (dm->objects->len == 1) {
      InferObject *o = &g_array_index(dm->objects, InferObject, 0);
      CHECK(o->x_min == 0.25 && o->y_min == 0.25 && o->x_max == 0.75 && o->y_max == 0.5);
      CHECK_NEAR(o->confidence, 0.9, 1e-6);
      CHECK(o->label_id == 3);
      CHECK(g_strcmp0(o->label, "cat") == 0);
      CHECK(o->object_id == 1);
      CHECK(o->classes && o->classes->len == 1);
      if (o->classes && o->classes->len == 1) {
        InferClassLabel *c = &g_array_index(o->classes, InferClassLabel, 0);
        CHECK(c->label_id == 1 && g_strcmp0(c->label, "black") == 0);
        CHECK(g_strcmp0(c->name, "color") == 0);
        CHECK_NEAR(c->confidence, 0.75, 1e-6);
      }
    }
  }
  CHECK(count_metas(buf, INFER_CLASSIFICATION_META_API_TYPE) == 1);
  InferClassificationMeta *cm = infer_buffer_get_classification_meta(buf);
  CHECK(cm != NULL);
  if (cm) {
    CHECK(g_strcmp0(cm->source, "classifier") == 0);
    CHECK(cm->labels->len == 2);
    if (cm->labels->len == 2) {
      InferClassLabel *c0 = &g_array_index(cm->labels, InferClassLabel, 0);
      InferClassLabel *c1 = &g_array_index(cm->labels, InferClassLabel, 1);
      CHECK(c0->label_id == 7 && g_strcmp0(c0->label, "indoor") == 0 && c0->name == NULL);
      CHECK(c1->label_id == 2 && g_strcmp0(c1->label, "outdoor") == 0);
    }
  }
  gpointer state = NULL;
  InferTensorMeta *tm = infer_buffer_iterate_tensor_meta(buf, &state);
  CHECK(tm != NULL);
  if (tm) {
    CHECK(g_strcmp0(tm->name, "logits") == 0 && g_strcmp0(tm->source, "detector") == 0);
    CHECK(tm->dtype == INFER_META_DTYPE_F32 && tm->rank == 2);
    CHECK(tm->dims[0] == 1 && tm->dims[1] == 10);
    CHECK(tm->size == sizeof(tensor_values));
    CHECK(tm->data != NULL && tm->data != (gpointer)tensor_values);
    CHECK(tm->data && memcmp(tm->data, tensor_values, sizeof(tensor_values)) == 0);
  }
  CHECK(infer_buffer_iterate_tensor_meta(buf, &state) == NULL);
}

/* ---- tests -------------------------------------------------------------- */

static void test_registration(void) {
  CHECK(INFER_DETECTION_META_API_TYPE != 0);
  CHECK(INFER_DETECTION_META_API_TYPE == infer_detection_meta_api_get_type());
  CHECK(infer_detection_meta_get_info() == infer_detection_meta_get_info());
  CHECK(infer_classification_meta_get_info() == infer_classification_meta_get_info());
  CHECK(infer_tensor_meta_get_info() == infer_tensor_meta_get_info());
  CHECK(infer_detection_meta_get_info()->api == INFER_DETECTION_META_API_TYPE);
  CHECK(infer_classification_meta_get_info()->api == INFER_CLASSIFICATION_META_API_TYPE);
  CHECK(infer_tensor_meta_get_info()->api == INFER_TENSOR_META_API_TYPE);
  CHECK(gst_meta_api_type_has_tag(INFER_DETECTION_META_API_TYPE,
                                  g_quark_from_static_string(GST_META_TAG_VIDEO_SIZE_STR)));
  CHECK(gst_meta_api_type_get_tags(INFER_CLASSIFICATION_META_API_TYPE) == NULL);
  CHECK(gst_meta_api_type_get_tags(INFER_TENSOR_META_API_TYPE) == NULL);
  CHECK(strcmp(infer_meta_dtype_name(INFER_META_DTYPE_F32), "f32") == 0);
  CHECK(strcmp(infer_meta_dtype_name(INFER_META_DTYPE_BOOL), "bool") == 0);
  CHECK(strcmp(infer_meta_dtype_name((InferMetaDType)99), "unknown") == 0);
}

static void test_add_get_iterate(void) {
  GstBuffer *buf = gst_buffer_new_allocate(NULL, 16, NULL);
  CHECK(infer_buffer_get_detection_meta(buf) == NULL);
  CHECK(infer_buffer_get_classification_meta(buf) == NULL);
  gpointer state = NULL;
  CHECK(infer_buffer_iterate_tensor_meta(buf, &state) == NULL);

  add_test_metas(buf);
  check_test_metas(buf);

  /* Adding a detection meta again returns the same one. */
  InferDetectionMeta *dm = infer_buffer_get_detection_meta(buf);
  CHECK(infer_buffer_add_detection_meta(buf, "other") == dm);
  CHECK(g_strcmp0(dm->source, "detector") == 0);

  /* The object's ROI meta: pixel box in 320x240, params. */
  guint n;
  GstVideoRegionOfInterestMeta *roi = find_roi(buf, 1, &n);
  CHECK(roi != NULL && n == 1);
  if (roi) {
    CHECK(roi->x == 80 && roi->y == 60 && roi->w == 160 && roi->h == 60);
    CHECK(roi->roi_type == g_quark_from_string("cat"));
    CHECK(roi->id == 1 && roi->parent_id == -1);
    GstStructure *d = gst_video_region_of_interest_meta_get_param(roi, "detection");
    gdouble v;
    gint id;
    CHECK(d && gst_structure_get_double(d, "x_min", &v) && v == 0.25);
    CHECK(d && gst_structure_get_double(d, "y_max", &v) && v == 0.5);
    CHECK(d && gst_structure_get_double(d, "confidence", &v) && fabs(v - 0.9) < 1e-6);
    CHECK(d && gst_structure_get_int(d, "label_id", &id) && id == 3);
    CHECK(d && g_strcmp0(gst_structure_get_string(d, "label"), "cat") == 0);
    GstStructure *c = gst_video_region_of_interest_meta_get_param(roi, "color");
    CHECK(c && gst_structure_get_int(c, "label_id", &id) && id == 1);
    CHECK(c && g_strcmp0(gst_structure_get_string(c, "label"), "black") == 0);
  }

  /* More objects: ids go on; out-of-range boxes clamp in the ROI; no ROI
   * without a frame size; NULL label. */
  InferObject *o2 = infer_detection_meta_add_object(dm, buf, -0.5, 0.5, 1.5, 2.0, 0.5f, 0, NULL,
                                                    100, 50);
  CHECK(o2 && o2->object_id == 2 && o2->label == NULL);
  roi = find_roi(buf, 2, &n);
  CHECK(roi && n == 1);
  if (roi) {
    CHECK(roi->x == 0 && roi->y == 25 && roi->w == 100 && roi->h == 25);
    CHECK(roi->roi_type == g_quark_from_string("object"));
  }
  InferObject *o3 =
      infer_detection_meta_add_object(dm, buf, 0.1, 0.1, 0.2, 0.2, 0.4f, 5, "dog", 0, 0);
  CHECK(o3 && o3->object_id == 3);
  CHECK(find_roi(buf, 3, NULL) == NULL);
  infer_object_add_class(dm, buf, o3, NULL, 4, 0.6f, "puppy");
  CHECK(o3->classes->len == 1 &&
        g_strcmp0(g_array_index(o3->classes, InferClassLabel, 0).name, "classification") == 0);
  CHECK(dm->objects->len == 3);
  CHECK(count_metas(buf, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE) == 2);

  /* A class name that cannot name a GstStructure is kept on the object
   * and becomes "classification" on the ROI meta. */
  InferObject *o1 = &g_array_index(dm->objects, InferObject, 0);
  infer_object_add_class(dm, buf, o1, "2nd model", 8, 0.3f, "tabby");
  CHECK(o1->classes->len == 2 &&
        g_strcmp0(g_array_index(o1->classes, InferClassLabel, 1).name, "2nd model") == 0);
  roi = find_roi(buf, 1, NULL);
  GstStructure *cls = roi ? gst_video_region_of_interest_meta_get_param(roi, "classification") : NULL;
  gint cid;
  CHECK(cls && gst_structure_get_int(cls, "label_id", &cid) && cid == 8);

  /* Several tensor metas iterate in order. */
  const gint64 dims[1] = {3};
  const gint32 ints[3] = {1, 2, 3};
  CHECK(infer_buffer_add_tensor_meta(buf, "d", "boxes", INFER_META_DTYPE_I32, 1, dims, ints,
                                     sizeof(ints)) != NULL);
  CHECK(infer_buffer_add_tensor_meta(buf, "d", "empty", INFER_META_DTYPE_U8, 0, NULL, NULL, 0) !=
        NULL);
  const char *names[] = {"logits", "boxes", "empty"};
  guint k = 0;
  state = NULL;
  InferTensorMeta *tm;
  while ((tm = infer_buffer_iterate_tensor_meta(buf, &state))) {
    CHECK(k < 3 && strcmp(tm->name, names[k]) == 0);
    k++;
  }
  CHECK(k == 3);

  /* Removing a meta frees it (ASan / valgrind check the frees). */
  state = NULL;
  tm = infer_buffer_iterate_tensor_meta(buf, &state);
  CHECK(gst_buffer_remove_meta(buf, (GstMeta *)tm));
  CHECK(count_metas(buf, INFER_TENSOR_META_API_TYPE) == 2);
  CHECK(gst_buffer_remove_meta(buf, (GstMeta *)dm));
  CHECK(infer_buffer_get_detection_meta(buf) == NULL);
  gst_buffer_unref(buf);
}

static void test_copies(void) {
  GstBuffer *buf = gst_buffer_new_allocate(NULL, 16, NULL);
  add_test_metas(buf);
  InferDetectionMeta *src_dm = infer_buffer_get_detection_meta(buf);

  GstBuffer *shallow = gst_buffer_copy(buf);
  check_test_metas(shallow);
  GstBuffer *deep = gst_buffer_copy_deep(buf);
  check_test_metas(deep);
  InferDetectionMeta *dm = infer_buffer_get_detection_meta(deep);
  CHECK(dm != src_dm && dm->objects != src_dm->objects);
  CHECK(g_array_index(dm->objects, InferObject, 0).label !=
        g_array_index(src_dm->objects, InferObject, 0).label);
  CHECK(dm->source != src_dm->source);
  guint n;
  GstVideoRegionOfInterestMeta *roi = find_roi(deep, 1, &n);
  CHECK(roi && n == 1 && roi->x == 80 && roi->w == 160);
  CHECK(roi && gst_video_region_of_interest_meta_get_param(roi, "color") != NULL);

  /* The copies outlive the original. */
  gst_buffer_unref(buf);
  check_test_metas(shallow);
  check_test_metas(deep);

  /* Copying metas into a buffer that has a detection meta appends. */
  GstBuffer *dst = gst_buffer_new();
  InferDetectionMeta *ddm = infer_buffer_add_detection_meta(dst, "x");
  infer_detection_meta_add_object(ddm, dst, 0, 0, 1, 1, 1.0f, 0, "all", 0, 0);
  CHECK(gst_buffer_copy_into(dst, deep, GST_BUFFER_COPY_METADATA, 0, -1));
  CHECK(count_metas(dst, INFER_DETECTION_META_API_TYPE) == 1);
  CHECK(infer_buffer_get_detection_meta(dst)->objects->len == 2);
  CHECK(count_metas(dst, INFER_TENSOR_META_API_TYPE) == 1);

  gst_buffer_unref(dst);
  gst_buffer_unref(shallow);
  gst_buffer_unref(deep);
}

static void test_sync_roi(void) {
  GstBuffer *buf = gst_buffer_new();
  infer_detection_meta_sync_roi(buf, 100, 100); /* no detection meta: no-op */
  CHECK(count_metas(buf, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE) == 0);

  InferDetectionMeta *dm = infer_buffer_add_detection_meta(buf, "d");
  InferObject *o = infer_detection_meta_add_object(dm, buf, 0.1, 0.2, 0.5, 0.6, 0.9f, 1, "car",
                                                   200, 100);
  infer_object_add_class(dm, buf, o, "color", 2, 0.5f, "red");
  infer_detection_meta_add_object(dm, buf, 0.0, 0.0, 1.0, 1.0, 0.8f, 2, "bus", 0, 0);
  infer_detection_meta_add_object(dm, buf, 0.5, 0.5, 1.0, 1.0, 0.7f, 3, "van", 200, 100);

  /* Object 1's ROI gets extra params from someone else; object 3's ROI
   * is replaced by what a 1.22 scale leaves (no params, stale box) plus
   * a duplicate; an unrelated ROI with id 3 but another type stays. */
  GstVideoRegionOfInterestMeta *r1 = find_roi(buf, 1, NULL);
  gst_video_region_of_interest_meta_add_param(r1, gst_structure_new("tracking", "track_id",
                                                                    G_TYPE_INT, 42, NULL));
  GstVideoRegionOfInterestMeta *r3 = find_roi(buf, 3, NULL);
  CHECK(gst_buffer_remove_meta(buf, (GstMeta *)r3));
  for (int i = 0; i < 2; i++) {
    GstVideoRegionOfInterestMeta *bare =
        gst_buffer_add_video_region_of_interest_meta(buf, "van", 1, 2, 3, 4);
    bare->id = 3;
  }
  GstVideoRegionOfInterestMeta *foreign =
      gst_buffer_add_video_region_of_interest_meta(buf, "face", 5, 6, 7, 8);
  foreign->id = 3;
  CHECK(count_metas(buf, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE) == 4);

  infer_detection_meta_sync_roi(buf, 400, 300);
  /* objects 1, 2, 3 + the foreign one */
  CHECK(count_metas(buf, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE) == 4);
  guint n;
  r1 = find_roi(buf, 1, &n);
  CHECK(r1 && n == 1);
  if (r1) {
    CHECK(r1->x == 40 && r1->y == 60 && r1->w == 160 && r1->h == 120);
    CHECK(gst_video_region_of_interest_meta_get_param(r1, "tracking") != NULL);
    CHECK(gst_video_region_of_interest_meta_get_param(r1, "color") != NULL);
    CHECK(g_list_length(r1->params) == 3);
  }
  GstVideoRegionOfInterestMeta *r2 = find_roi(buf, 2, &n);
  CHECK(r2 && n == 1 && r2->x == 0 && r2->y == 0 && r2->w == 400 && r2->h == 300);
  r3 = find_roi(buf, 3, &n);
  CHECK(r3 && n == 1 && r3->x == 200 && r3->y == 150 && r3->w == 200 && r3->h == 150);
  CHECK(r3 && r3->roi_type == g_quark_from_string("van"));
  CHECK(foreign->x == 5 && foreign->params == NULL);

  /* Syncing again changes nothing. */
  infer_detection_meta_sync_roi(buf, 400, 300);
  CHECK(count_metas(buf, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE) == 4);
  r1 = find_roi(buf, 1, NULL);
  CHECK(r1 && g_list_length(r1->params) == 3);
  gst_buffer_unref(buf);
}

static void test_json(void) {
  GstBuffer *buf = gst_buffer_new();
  gchar *js = infer_buffer_meta_to_json(buf);
  CHECK(js && json_valid(js));
  CHECK(js && strcmp(js, "{\"pts\":null,\"duration\":null,\"source\":null,\"objects\":[],"
                         "\"classes\":[],\"tensors\":[]}") == 0);
  g_free(js);

  GST_BUFFER_PTS(buf) = 123;
  GST_BUFFER_DURATION(buf) = 33333333;
  add_test_metas(buf);
  InferDetectionMeta *dm = infer_buffer_get_detection_meta(buf);
  infer_detection_meta_add_object(dm, buf, 0.0, 0.0, NAN, 1.0, 0.5f, 9,
                                  "say \"hi\"\\\n\t\x01 caf\xc3\xa9", 0, 0);
  js = infer_buffer_meta_to_json(buf);
  CHECK(js != NULL);
  if (js) {
    printf("json: %s\n", js);
    CHECK(json_valid(js));
    CHECK(strchr(js, '\n') == NULL);
    CHECK(g_str_has_prefix(js, "{\"pts\":123,\"duration\":33333333,\"source\":\"detector\""));
    CHECK(strstr(js, "{\"id\":1,\"x_min\":0.25,\"y_min\":0.25,\"x_max\":0.75,\"y_max\":0.5,"
                     "\"confidence\":0.9,\"label_id\":3,\"label\":\"cat\",\"classes\":"
                     "[{\"name\":\"color\",\"label_id\":1,\"confidence\":0.75,\"label\":"
                     "\"black\"}]}") != NULL);
    CHECK(strstr(js, "\"x_max\":null") != NULL);
    CHECK(strstr(js, "\"label\":\"say \\\"hi\\\"\\\\\\n\\t\\u0001 caf\xc3\xa9\"") != NULL);
    CHECK(strstr(js, "\"classes\":[{\"label_id\":7,\"confidence\":0.8,\"label\":\"indoor\","
                     "\"source\":\"classifier\"},{\"label_id\":2,\"confidence\":0.1,"
                     "\"label\":\"outdoor\",\"source\":\"classifier\"}]") != NULL);
    CHECK(strstr(js, "\"tensors\":[{\"name\":\"logits\",\"source\":\"detector\",\"dtype\":"
                     "\"f32\",\"shape\":[1,10],\"bytes\":40}]}") != NULL);
  }
  g_free(js);

  /* Invalid UTF-8 still gives valid JSON. */
  InferClassificationMeta *cm = infer_buffer_add_classification_meta(buf, "bad\xff");
  infer_classification_meta_add(cm, 1, 1.0f, "x\xc3");
  js = infer_buffer_meta_to_json(buf);
  CHECK(js && json_valid(js) && g_utf8_validate(js, -1, NULL));
  g_free(js);

  /* The validator itself rejects broken JSON. */
  CHECK(!json_valid("{\"a\":1,}"));
  CHECK(!json_valid("{\"a\":\"\n\"}"));
  CHECK(!json_valid("[1 2]"));
  CHECK(json_valid("{\"a\":[1,-2.5e3,true,null,{}],\"b\":\"\\u00e9\"}"));
  gst_buffer_unref(buf);
}

/* ---- the pipeline --------------------------------------------------------- */

typedef struct {
  GstVideoFormat format;
  guint tagged, checked;
  guint bare_rois_before_sync, full_rois_before_sync;
} PipelineState;

static GstPadProbeReturn tag_probe(GstPad *pad, GstPadProbeInfo *info, gpointer user_data) {
  (void)pad;
  PipelineState *st = user_data;
  GstBuffer *buf = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
  GST_PAD_PROBE_INFO_DATA(info) = buf;
  add_test_metas(buf);
  st->tagged++;
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn sink_probe(GstPad *pad, GstPadProbeInfo *info, gpointer user_data) {
  PipelineState *st = user_data;
  GstBuffer *buf = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
  GST_PAD_PROBE_INFO_DATA(info) = buf;

  GstCaps *caps = gst_pad_get_current_caps(pad);
  GstVideoInfo vinfo;
  CHECK(caps && gst_video_info_from_caps(&vinfo, caps));
  if (caps) gst_caps_unref(caps);
  CHECK(GST_VIDEO_INFO_WIDTH(&vinfo) == 160 && GST_VIDEO_INFO_HEIGHT(&vinfo) == 120);
  CHECK(GST_VIDEO_INFO_FORMAT(&vinfo) == st->format);

  check_test_metas(buf); /* all three, once each, boxes unchanged */

  /* What the ROI metas look like after videoscale, before the sync. */
  gpointer state = NULL;
  GstMeta *m;
  while ((m = gst_buffer_iterate_meta_filtered(buf, &state,
                                               GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *)m;
    if (roi->params)
      st->full_rois_before_sync++;
    else
      st->bare_rois_before_sync++;
  }

  infer_detection_meta_sync_roi(buf, GST_VIDEO_INFO_WIDTH(&vinfo), GST_VIDEO_INFO_HEIGHT(&vinfo));
  CHECK(count_metas(buf, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE) == 1);
  guint n;
  GstVideoRegionOfInterestMeta *roi = find_roi(buf, 1, &n);
  CHECK(roi && n == 1);
  if (roi) {
    /* (0.25,0.25)-(0.75,0.5) of 160x120 */
    CHECK(roi->x == 40 && roi->y == 30 && roi->w == 80 && roi->h == 30);
    CHECK(roi->roi_type == g_quark_from_string("cat"));
    GstStructure *d = gst_video_region_of_interest_meta_get_param(roi, "detection");
    gdouble v;
    CHECK(d && gst_structure_get_double(d, "x_min", &v) && v == 0.25);
    CHECK(gst_video_region_of_interest_meta_get_param(roi, "color") != NULL);
  }

  gchar *js = infer_buffer_meta_to_json(buf);
  CHECK(js && json_valid(js));
  CHECK(js && strstr(js, "\"x_min\":0.25,\"y_min\":0.25,\"x_max\":0.75,\"y_max\":0.5") != NULL);
  CHECK(js && strstr(js, "\"shape\":[1,10]") != NULL);
  CHECK(js && strstr(js, "\"pts\":null") == NULL);
  if (st->checked == 0 && js) printf("pipeline json: %s\n", js);
  g_free(js);
  st->checked++;
  return GST_PAD_PROBE_OK;
}

/* Runs desc (3 buffers of 320x240 through "tag" to "sink", 160x120 in
 * `format` there). */
static void test_pipeline(const char *desc, GstVideoFormat format) {
  GError *err = NULL;
  GstElement *pipeline = gst_parse_launch(desc, &err);
  CHECK(pipeline != NULL && err == NULL);
  if (err) {
    fprintf(stderr, "gst_parse_launch: %s\n", err->message);
    g_error_free(err);
  }
  if (!pipeline) return;

  PipelineState st = {.format = format};
  GstElement *tag = gst_bin_get_by_name(GST_BIN(pipeline), "tag");
  GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  GstPad *tag_src = gst_element_get_static_pad(tag, "src");
  GstPad *sink_pad = gst_element_get_static_pad(sink, "sink");
  gst_pad_add_probe(tag_src, GST_PAD_PROBE_TYPE_BUFFER, tag_probe, &st, NULL);
  gst_pad_add_probe(sink_pad, GST_PAD_PROBE_TYPE_BUFFER, sink_probe, &st, NULL);
  gst_object_unref(tag_src);
  gst_object_unref(sink_pad);
  gst_object_unref(tag);
  gst_object_unref(sink);

  CHECK(gst_element_set_state(pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  GstBus *bus = gst_element_get_bus(pipeline);
  GstMessage *msg = gst_bus_timed_pop_filtered(bus, 20 * GST_SECOND,
                                               GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  CHECK(msg && GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS);
  if (msg && GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    GError *e = NULL;
    gst_message_parse_error(msg, &e, NULL);
    fprintf(stderr, "pipeline error: %s\n", e->message);
    g_error_free(e);
  }
  if (msg) gst_message_unref(msg);
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);

  CHECK(st.tagged == 3);
  CHECK(st.checked == 3);
  printf("pipeline %s: ROI metas at the sink before sync: %u with params, %u without\n",
         gst_video_format_to_string(format), st.full_rois_before_sync, st.bare_rois_before_sync);
}

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  test_registration();
  test_add_get_iterate();
  test_copies();
  test_sync_roi();
  test_json();
  const char *needed[] = {"videotestsrc", "identity", "videoscale", "videoconvert", "fakesink"};
  gboolean have_all = TRUE;
  for (size_t i = 0; i < G_N_ELEMENTS(needed); i++) {
    GstElementFactory *f = gst_element_factory_find(needed[i]);
    if (!f) {
      printf("meta: element %s missing; pipeline test skipped\n", needed[i]);
      have_all = FALSE;
    } else {
      gst_object_unref(f);
    }
  }
  if (have_all) {
    /* videoconvert passes through here; videoscale scales */
    test_pipeline("videotestsrc num-buffers=3 ! video/x-raw,width=320,height=240 ! "
                  "identity name=tag ! videoscale ! video/x-raw,width=160,height=120 ! "
                  "videoconvert ! video/x-raw,format=I420 ! fakesink name=sink",
                  GST_VIDEO_FORMAT_I420);
    /* both convert */
    test_pipeline("videotestsrc num-buffers=3 ! video/x-raw,format=I420,width=320,height=240 ! "
                  "identity name=tag ! videoscale ! video/x-raw,width=160,height=120 ! "
                  "videoconvert ! video/x-raw,format=RGB ! fakesink name=sink",
                  GST_VIDEO_FORMAT_RGB);
  }
  gst_deinit();
  TEST_MAIN_END("meta");
}
