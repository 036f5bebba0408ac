/* Tests of the inferoverlay element with GstHarness: in every supported
 * format, a flat frame with one detected object gets the box outline in the
 * class colour (within 2 after the YUV round trip), a label tab with text,
 * and nothing else changed; the show-* toggles, label positions, per-object
 * classes, frame classes and odd sizes in 4:2:0. */
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/test_util.h"
#include "infer-meta.h"

#define BG 0x306090u                  /* the frame's flat colour */
static const int CIRCLE_RGB[3] = {40, 120, 255};  /* palette entry of label_id 2 */
static const int FRAME_TAB_RGB[3] = {32, 32, 32};

typedef struct {
  int x0, y0, x1, y1;
} Rect;

/* ---- frames -------------------------------------------------------------------------- */

static GstBuffer *make_frame(const char *format, int w, int h, guint32 rgb) {
  char *desc = g_strdup_printf("videotestsrc pattern=solid-color foreground-color=0x%08x ! "
                               "capsfilter caps=video/x-raw,format=%s,width=%d,height=%d,"
                               "framerate=30/1",
                               0xff000000u | rgb, format, w, h);
  GstHarness *src = gst_harness_new_parse(desc);
  g_free(desc);
  gst_harness_play(src);
  GstBuffer *buf = gst_harness_pull(src);
  gst_harness_teardown(src);
  return gst_buffer_make_writable(buf);
}

static void add_object(GstBuffer *buf, int w, int h, double x0, double y0, double x1, double y1,
                       gint label_id, const char *label) {
  InferDetectionMeta *dm = infer_buffer_add_detection_meta(buf, "test");
  infer_detection_meta_add_object(dm, buf, x0, y0, x1, y1, 0.93f, label_id, label, w, h);
}

/* Runs one frame through inferoverlay with properties `props`; returns the
 * output and, in *input, a deep copy of what went in. */
static GstBuffer *run_overlay(const char *format, int w, int h, GstBuffer *in, const char *props,
                              GstBuffer **input) {
  char *desc = g_strdup_printf("inferoverlay %s", props ? props : "");
  GstHarness *hn = gst_harness_new_parse(desc);
  g_free(desc);
  char *caps = g_strdup_printf("video/x-raw,format=%s,width=%d,height=%d,framerate=30/1", format,
                               w, h);
  gst_harness_set_src_caps_str(hn, caps);
  g_free(caps);
  *input = gst_buffer_copy_deep(in);
  gst_harness_push(hn, in);
  GstBuffer *out = gst_harness_pull(hn);
  gst_harness_teardown(hn);
  return out;
}

typedef struct {
  GstVideoInfo info;
  GstVideoFrame in, out;
} Frames;

static gboolean map_frames(Frames *f, const char *format, int w, int h, GstBuffer *in,
                           GstBuffer *out) {
  gst_video_info_set_format(&f->info, gst_video_format_from_string(format), (guint)w, (guint)h);
  if (!gst_video_frame_map(&f->in, &f->info, in, GST_MAP_READ)) return FALSE;
  if (!gst_video_frame_map(&f->out, &f->info, out, GST_MAP_READ)) {
    gst_video_frame_unmap(&f->in);
    return FALSE;
  }
  return TRUE;
}

static void unmap_frames(Frames *f) {
  gst_video_frame_unmap(&f->in);
  gst_video_frame_unmap(&f->out);
}

static const guint8 *pix(const GstVideoFrame *vf, int plane, int x, int y) {
  return (const guint8 *)GST_VIDEO_FRAME_PLANE_DATA(vf, plane) +
         y * GST_VIDEO_FRAME_PLANE_STRIDE(vf, plane) + x * GST_VIDEO_FRAME_COMP_PSTRIDE(vf, plane);
}

static int clamp255(double v) { return v < 0 ? 0 : v > 255 ? 255 : (int)lround(v); }

/* The pixel's RGB (BT.601 limited range for YUV; grey for GRAY8). */
static void read_rgb(const GstVideoFrame *vf, int x, int y, int rgb[3]) {
  GstVideoFormat fmt = GST_VIDEO_FRAME_FORMAT(vf);
  if (fmt == GST_VIDEO_FORMAT_NV12 || fmt == GST_VIDEO_FORMAT_I420) {
    double Y = pix(vf, 0, x, y)[0], U, V;
    if (fmt == GST_VIDEO_FORMAT_NV12) {
      const guint8 *uv = (const guint8 *)GST_VIDEO_FRAME_PLANE_DATA(vf, 1) +
                         (y / 2) * GST_VIDEO_FRAME_PLANE_STRIDE(vf, 1) + (x / 2) * 2;
      U = uv[0], V = uv[1];
    } else {
      U = ((const guint8 *)GST_VIDEO_FRAME_PLANE_DATA(vf, 1))[(y / 2) *
          GST_VIDEO_FRAME_PLANE_STRIDE(vf, 1) + x / 2];
      V = ((const guint8 *)GST_VIDEO_FRAME_PLANE_DATA(vf, 2))[(y / 2) *
          GST_VIDEO_FRAME_PLANE_STRIDE(vf, 2) + x / 2];
    }
    double k = 255.0 / 219.0, c = 255.0 / 112.0;
    rgb[0] = clamp255(k * (Y - 16) + c * 0.701 * (V - 128));
    rgb[1] = clamp255(k * (Y - 16) - c * 0.886 * 0.114 / 0.587 * (U - 128) -
                      c * 0.701 * 0.299 / 0.587 * (V - 128));
    rgb[2] = clamp255(k * (Y - 16) + c * 0.886 * (U - 128));
    return;
  }
  if (fmt == GST_VIDEO_FORMAT_GRAY8) {
    rgb[0] = rgb[1] = rgb[2] = pix(vf, 0, x, y)[0];
    return;
  }
  const guint8 *p = pix(vf, 0, x, y);
  gboolean bgr = fmt == GST_VIDEO_FORMAT_BGRA || fmt == GST_VIDEO_FORMAT_BGRx ||
                 fmt == GST_VIDEO_FORMAT_BGR;
  rgb[0] = p[bgr ? 2 : 0], rgb[1] = p[1], rgb[2] = p[bgr ? 0 : 2];
}

/* Whether the pixel has colour `want` (grey of it for GRAY8), within tol. */
static gboolean has_colour(const GstVideoFrame *vf, int x, int y, const int want[3], int tol) {
  int got[3];
  read_rgb(vf, x, y, got);
  if (GST_VIDEO_FRAME_FORMAT(vf) == GST_VIDEO_FORMAT_GRAY8) {
    int g = (int)lround(0.299 * want[0] + 0.587 * want[1] + 0.114 * want[2]);
    return abs(got[0] - g) <= tol;
  }
  for (int c = 0; c < 3; c++)
    if (abs(got[c] - want[c]) > tol) return FALSE;
  return TRUE;
}

/* Whether every byte of the pixel (luma and its chroma sample) is as it was. */
static gboolean unchanged(const Frames *f, int x, int y) {
  const GstVideoFormatInfo *fi = f->info.finfo;
  for (guint comp = 0; comp < GST_VIDEO_FORMAT_INFO_N_COMPONENTS(fi); comp++) {
    int px = x >> GST_VIDEO_FORMAT_INFO_W_SUB(fi, comp);  /* (SCALE_* rounds up: sizes) */
    int py = y >> GST_VIDEO_FORMAT_INFO_H_SUB(fi, comp);
    int off = py * GST_VIDEO_FRAME_COMP_STRIDE(&f->in, comp) +
              px * GST_VIDEO_FRAME_COMP_PSTRIDE(&f->in, comp);
    const guint8 *a = (const guint8 *)GST_VIDEO_FRAME_COMP_DATA(&f->in, comp);
    const guint8 *b = (const guint8 *)GST_VIDEO_FRAME_COMP_DATA(&f->out, comp);
    if (a[off] != b[off]) return FALSE;
  }
  return TRUE;
}

static gboolean in_rect(const Rect *r, int x, int y) {
  return x >= r->x0 && x < r->x1 && y >= r->y0 && y < r->y1;
}

/* Pixels of the frame outside every rect of `keep_out` that changed. */
static int changed_outside(const Frames *f, const Rect *keep_out, int n) {
  int w = GST_VIDEO_INFO_WIDTH(&f->info), h = GST_VIDEO_INFO_HEIGHT(&f->info), bad = 0;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      gboolean skip = FALSE;
      for (int i = 0; i < n && !skip; i++) skip = in_rect(&keep_out[i], x, y);
      if (!skip && !unchanged(f, x, y)) bad++;
    }
  return bad;
}

/* In rect r: pixels of colour `tab` and pixels that are neither `tab` nor unchanged. */
static void count_tab(const Frames *f, Rect r, const int tab[3], int *n_tab, int *n_text) {
  *n_tab = *n_text = 0;
  for (int y = r.y0; y < r.y1; y++)
    for (int x = r.x0; x < r.x1; x++) {
      if (has_colour(&f->out, x, y, tab, 2)) (*n_tab)++;
      else if (!unchanged(f, x, y)) (*n_text)++;
    }
}

/* ---- one box in every format ----------------------------------------------------------- */

#define W 320
#define H 240
/* object (0.25, 0.3)-(0.75, 0.8): pixels [80, 240) x [72, 192); font scale 1
 * (240 lines): tab 15 high; "circle 0.93" is 11 characters: 89 wide */
static const Rect BOX = {80, 72, 240, 192};
#define TAB_H 15

static void check_format(const char *format) {
  GstBuffer *in = make_frame(format, W, H, BG), *orig;
  add_object(in, W, H, 0.25, 0.3, 0.75, 0.8, 2, "circle");
  GstBuffer *out = run_overlay(format, W, H, in, "", &orig);
  Frames f;
  CHECK(map_frames(&f, format, W, H, orig, out));
  int mid_x = (BOX.x0 + BOX.x1) / 2, mid_y = (BOX.y0 + BOX.y1) / 2;
  /* the outline, 2 pixels wide, inside the box */
  const int pts[][2] = {{BOX.x0, mid_y}, {BOX.x0 + 1, mid_y}, {BOX.x1 - 1, mid_y},
                        {BOX.x1 - 2, mid_y}, {mid_x, BOX.y0}, {mid_x, BOX.y0 + 1},
                        {mid_x, BOX.y1 - 1}, {BOX.x1 - 1, BOX.y1 - 1}, {BOX.x0, BOX.y1 - 2}};
  for (size_t i = 0; i < G_N_ELEMENTS(pts); i++) {
    gboolean ok = has_colour(&f.out, pts[i][0], pts[i][1], CIRCLE_RGB, 2);
    if (!ok) fprintf(stderr, "%s: outline pixel (%d,%d) lacks the class colour\n", format,
                     pts[i][0], pts[i][1]);
    CHECK(ok);
  }
  /* the tab above the box: class colour with text in it */
  int n_tab, n_text;
  count_tab(&f, (Rect){BOX.x0, BOX.y0 - TAB_H, BOX.x0 + 89, BOX.y0}, CIRCLE_RGB, &n_tab, &n_text);
  if (n_tab < 400 || n_text < 60)
    fprintf(stderr, "%s: tab has %d tab pixels, %d text pixels\n", format, n_tab, n_text);
  CHECK(n_tab >= 400 && n_text >= 60);
  /* nothing else: outside the box and tab (2 pixels of slack for 4:2:0), and inside */
  Rect drawn[2] = {{BOX.x0 - 2, BOX.y0 - 2, BOX.x1 + 2, BOX.y1 + 2},
                   {BOX.x0 - 2, BOX.y0 - TAB_H - 2, BOX.x0 + 91, BOX.y0}};
  int bad = changed_outside(&f, drawn, 2);
  if (bad) fprintf(stderr, "%s: %d pixels changed outside the box and tab\n", format, bad);
  CHECK(bad == 0);
  int inside_changed = 0;
  for (int y = BOX.y0 + 4; y < BOX.y1 - 4; y++)
    for (int x = BOX.x0 + 4; x < BOX.x1 - 4; x++) inside_changed += !unchanged(&f, x, y);
  CHECK(inside_changed == 0);
  /* metadata is kept */
  InferDetectionMeta *dm = infer_buffer_get_detection_meta(out);
  CHECK(dm && dm->objects->len == 1);
  unmap_frames(&f);
  gst_buffer_unref(orig);
  gst_buffer_unref(out);
}

static void test_formats(void) {
  const char *formats[] = {"NV12", "I420", "RGBA", "BGRA", "RGBx", "BGRx", "RGB", "BGR", "GRAY8"};
  for (size_t i = 0; i < G_N_ELEMENTS(formats); i++) check_format(formats[i]);
}

/* ---- toggles and positions --------------------------------------------------------------- */

typedef struct {
  gboolean outline, tab_above, tab_below, tab_inside, wide_tab, frame_label;
} Seen;

/* What the overlay drew with `props` on an RGB frame with one object (with
 * a secondary class when `with_class`) and a frame class. */
static Seen look(const char *props, gboolean with_class) {
  GstBuffer *in = make_frame("RGB", W, H, BG), *orig;
  add_object(in, W, H, 0.25, 0.3, 0.75, 0.8, 2, "circle");
  if (with_class) {
    InferDetectionMeta *dm = infer_buffer_get_detection_meta(in);
    InferObject *o = &g_array_index(dm->objects, InferObject, 0);
    infer_object_add_class(dm, in, o, "classification", 5, 0.8f, "ring");
  }
  InferClassificationMeta *cm = infer_buffer_add_classification_meta(in, "test");
  infer_classification_meta_add(cm, 3, 0.75f, "diamond");
  GstBuffer *out = run_overlay("RGB", W, H, in, props, &orig);
  Frames f;
  Seen s = {0};
  if (map_frames(&f, "RGB", W, H, orig, out)) {
    int mid_y = (BOX.y0 + BOX.y1) / 2;
    s.outline = has_colour(&f.out, BOX.x0, mid_y, CIRCLE_RGB, 0);
    s.tab_above = has_colour(&f.out, BOX.x0 + 2, BOX.y0 - TAB_H + 1, CIRCLE_RGB, 0);
    s.tab_below = has_colour(&f.out, BOX.x0 + 2, BOX.y1 + TAB_H - 2, CIRCLE_RGB, 0);
    s.tab_inside = has_colour(&f.out, BOX.x0 + 3, BOX.y0 + TAB_H - 2, CIRCLE_RGB, 0);
    /* beyond "circle" (49 wide) but within "circle 0.93" (89) */
    int n_tab, n_text;
    count_tab(&f, (Rect){BOX.x0 + 60, BOX.y0 - TAB_H, BOX.x0 + 86, BOX.y0}, CIRCLE_RGB, &n_tab,
              &n_text);
    s.wide_tab = n_tab > 0;
    count_tab(&f, (Rect){0, 0, 60, TAB_H}, FRAME_TAB_RGB, &n_tab, &n_text);
    s.frame_label = n_tab > 100 && n_text > 20;
    unmap_frames(&f);
  }
  gst_buffer_unref(orig);
  gst_buffer_unref(out);
  return s;
}

static gboolean tab_width_beyond(const char *props, int x) {
  GstBuffer *in = make_frame("RGB", W, H, BG), *orig;
  add_object(in, W, H, 0.25, 0.3, 0.75, 0.8, 2, "circle");
  InferDetectionMeta *dm = infer_buffer_get_detection_meta(in);
  infer_object_add_class(dm, in, &g_array_index(dm->objects, InferObject, 0), "classification",
                         5, 0.8f, "ring");
  GstBuffer *out = run_overlay("RGB", W, H, in, props, &orig);
  Frames f;
  gboolean r = FALSE;
  if (map_frames(&f, "RGB", W, H, orig, out)) {
    r = has_colour(&f.out, x, BOX.y0 - 1, CIRCLE_RGB, 0);
    unmap_frames(&f);
  }
  gst_buffer_unref(orig);
  gst_buffer_unref(out);
  return r;
}

static void test_toggles(void) {
  Seen s = look("", FALSE);
  CHECK(s.outline && s.tab_above && !s.tab_below && s.wide_tab && s.frame_label);
  s = look("show-boxes=false", FALSE);
  CHECK(!s.outline && s.tab_above && s.frame_label);
  s = look("show-labels=false", FALSE);
  CHECK(s.outline && !s.tab_above && !s.wide_tab && s.frame_label);
  s = look("show-confidence=false", FALSE);
  CHECK(s.outline && s.tab_above && !s.wide_tab);
  s = look("show-frame-label=false", FALSE);
  CHECK(s.outline && s.tab_above && !s.frame_label);
  s = look("label-position=below", FALSE);
  CHECK(s.outline && !s.tab_above && s.tab_below);
  s = look("label-position=inside", FALSE);
  CHECK(s.outline && !s.tab_above && s.tab_inside);
  /* "circle 0.93 | ring 0.80" is 23 characters: 185 wide */
  CHECK(tab_width_beyond("", BOX.x0 + 150));
  CHECK(!tab_width_beyond("", BOX.x0 + 190));
  CHECK(!tab_width_beyond("show-confidence=false", BOX.x0 + 150)); /* "circle | ring": 105 */
  /* line-thickness and font-scale */
  GstBuffer *in = make_frame("RGB", W, H, BG), *orig;
  add_object(in, W, H, 0.25, 0.3, 0.75, 0.8, 2, "circle");
  GstBuffer *out = run_overlay("RGB", W, H, in, "line-thickness=6 font-scale=2", &orig);
  Frames f;
  if (map_frames(&f, "RGB", W, H, orig, out)) {
    int mid_y = (BOX.y0 + BOX.y1) / 2;
    CHECK(has_colour(&f.out, BOX.x0 + 5, mid_y, CIRCLE_RGB, 0));
    CHECK(unchanged(&f, BOX.x0 + 6, mid_y));
    CHECK(has_colour(&f.out, BOX.x0 + 1, BOX.y0 - 29, CIRCLE_RGB, 0)); /* tab 30 high */
    CHECK(unchanged(&f, BOX.x0 + 1, BOX.y0 - 31));
    unmap_frames(&f);
  }
  gst_buffer_unref(orig);
  gst_buffer_unref(out);
}

/* ---- 4:2:0 with odd sizes and coordinates, boxes beyond the frame, no metadata ------------ */

static void check_odd(const char *format) {
  const int w = 161, h = 121;
  GstBuffer *in = make_frame(format, w, h, BG), *orig;
  /* pixels [17, 145) x [13, 109): odd left and top; a second box runs off the frame */
  add_object(in, w, h, 17.0 / w, 13.0 / h, 145.0 / w, 109.0 / h, 2, "circle");
  add_object(in, w, h, 0.8, 0.7, 1.3, 1.4, 2, NULL);
  GstBuffer *out = run_overlay(format, w, h, in, "line-thickness=1 show-labels=false", &orig);
  Frames f;
  CHECK(map_frames(&f, format, w, h, orig, out));
  int bad = 0;
  for (int y = 13; y < 109; y++) bad += !has_colour(&f.out, 17, y, CIRCLE_RGB, 2) +
                                        !has_colour(&f.out, 144, y, CIRCLE_RGB, 2);
  for (int x = 17; x < 145; x++) bad += !has_colour(&f.out, x, 13, CIRCLE_RGB, 2) +
                                        !has_colour(&f.out, x, 108, CIRCLE_RGB, 2);
  /* the clipped box ends at the frame's right and bottom edges */
  for (int y = (int)lround(0.7 * h); y < h; y++) bad += !has_colour(&f.out, w - 1, y, CIRCLE_RGB, 2);
  for (int x = (int)lround(0.8 * w); x < w; x++) bad += !has_colour(&f.out, x, h - 1, CIRCLE_RGB, 2);
  if (bad) fprintf(stderr, "%s %dx%d: %d outline pixels without the class colour\n", format, w, h,
                   bad);
  CHECK(bad == 0);
  Rect drawn[2] = {{15, 11, 147, 111}, {(int)(0.8 * w) - 2, (int)(0.7 * h) - 2, w, h}};
  CHECK(changed_outside(&f, drawn, 2) == 0);
  int inside = 0;
  for (int y = 16; y < 106; y++)
    for (int x = 20; x < 128; x++) inside += !unchanged(&f, x, y);
  CHECK(inside == 0);
  unmap_frames(&f);
  gst_buffer_unref(orig);
  gst_buffer_unref(out);

  /* a frame without metadata passes unchanged */
  in = make_frame(format, w, h, BG);
  out = run_overlay(format, w, h, in, "", &orig);
  CHECK(map_frames(&f, format, w, h, orig, out));
  CHECK(changed_outside(&f, NULL, 0) == 0);
  unmap_frames(&f);
  gst_buffer_unref(orig);
  gst_buffer_unref(out);
}

static void test_odd_sizes(void) {
  check_odd("NV12");
  check_odd("I420");
  check_odd("RGB");
}

static void test_properties(void) {
  GstElement *e = gst_element_factory_make("inferoverlay", NULL);
  CHECK(e != NULL);
  if (!e) return;
  guint thickness, scale;
  gboolean boxes, labels, conf, frame;
  gint pos;
  g_object_get(e, "line-thickness", &thickness, "font-scale", &scale, "show-boxes", &boxes,
               "show-labels", &labels, "show-confidence", &conf, "show-frame-label", &frame,
               "label-position", &pos, NULL);
  CHECK(thickness == 2 && scale == 0 && boxes && labels && conf && frame && pos == 0);
  gst_util_set_object_arg(G_OBJECT(e), "label-position", "below");
  g_object_set(e, "line-thickness", 20u, "font-scale", 8u, "show-boxes", FALSE, NULL);
  g_object_get(e, "line-thickness", &thickness, "font-scale", &scale, "show-boxes", &boxes,
               "label-position", &pos, NULL);
  CHECK(thickness == 20 && scale == 8 && !boxes && pos == 2);
  gst_object_unref(e);
}

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  test_properties();
  test_formats();
  test_toggles();
  test_odd_sizes();
  TEST_MAIN_END("overlay");
}
