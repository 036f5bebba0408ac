/* inferoverlay on frames in CUDA memory against inferoverlay in system
 * memory (the painter alone: test_overlay_painter_cuda.c). Exits 77
 * without a CUDA device.
 *
 * - element: for every format and a few sizes, a frame in GstCudaMemory
 *   (allocated in a context gstreamer-cuda creates, and in one wrapping
 *   the device's primary context) with detections, secondary classes and
 *   a frame class goes through inferoverlay negotiated as
 *   memory:CUDAMemory; the result is drawn on the device (the memory is
 *   left newer on the device than on the host, so nothing went through
 *   the host) and equals, byte for byte, the system-memory overlay of the
 *   same frame and metadata. Also: the outline has the class colour, the
 *   label tab holds text pixels, nothing changed outside boxes and tabs.
 * - negotiation: cudaupload ! inferoverlay negotiates CUDA memory; with a
 *   downstream that takes only system memory it falls back to it. */
#include <cuda.h>
#include <cuda_runtime_api.h>
#include <gst/check/gstharness.h>
#include <gst/cuda/gstcudacontext.h>
#include <gst/cuda/gstcudaloader.h>
#include <gst/cuda/gstcudamemory.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/test_util.h"
#include "infer-meta.h"
#include "overlay_draw.h"

static const char *formats[] = {"NV12", "I420", "RGBA", "BGRA", "RGBx", "BGRx", "RGB", "BGR",
                                "GRAY8"};

static OverlayFormat overlay_format(const char *name) {
  static const OverlayFormat f[] = {OVERLAY_FORMAT_NV12, OVERLAY_FORMAT_I420, OVERLAY_FORMAT_RGBA,
                                    OVERLAY_FORMAT_BGRA, OVERLAY_FORMAT_RGBX, OVERLAY_FORMAT_BGRX,
                                    OVERLAY_FORMAT_RGB,  OVERLAY_FORMAT_BGR,  OVERLAY_FORMAT_GRAY8};
  for (size_t i = 0; i < G_N_ELEMENTS(formats); i++)
    if (strcmp(formats[i], name) == 0) return f[i];
  return OVERLAY_FORMAT_RGB;
}

/* ---- helpers ------------------------------------------------------------------------------ */

/* Bytes per row and rows of plane p of a w x h frame (0 rows: no plane). */
static int plane_rows(OverlayFormat f, int w, int h, int p, int *row_bytes) {
  int cw = (w + 1) / 2, ch = (h + 1) / 2;
  switch (f) {
    case OVERLAY_FORMAT_NV12: *row_bytes = p == 0 ? w : 2 * cw; return p == 0 ? h : p == 1 ? ch : 0;
    case OVERLAY_FORMAT_I420: *row_bytes = p == 0 ? w : cw; return p == 0 ? h : ch;
    default: *row_bytes = w * overlay_bytes_per_pixel(f); return p == 0 ? h : 0;
  }
}

/* ---- the element ---------------------------------------------------------------------------- */

static GstBuffer *make_pattern(const char *format, int w, int h) {
  char *desc = g_strdup_printf("videotestsrc pattern=smpte ! capsfilter caps=video/x-raw,"
                               "format=%s,width=%d,height=%d,framerate=30/1",
                               format, w, h);
  GstHarness *src = gst_harness_new_parse(desc);
  g_free(desc);
  gst_harness_play(src);
  GstBuffer *buf = gst_buffer_make_writable(gst_harness_pull(src));
  gst_harness_teardown(src);
  return buf;
}

typedef struct {
  int x0, y0, x1, y1;
} Rect;

/* Detections, a secondary class and a frame class; *areas receives where
 * drawing may happen (boxes and tabs, with 2 pixels of 4:2:0 slack; the
 * second object's tab is areas[3]). */
static void add_meta(GstBuffer *b, int w, int h, Rect *areas, int *n_areas, Rect *box,
                     Rect *tab) {
  InferDetectionMeta *dm = infer_buffer_add_detection_meta(b, "test");
  infer_detection_meta_add_object(dm, b, 0.25, 0.3, 0.75, 0.8, 0.93f, 2, "circle", w, h);
  infer_object_add_class(dm, b, &g_array_index(dm->objects, InferObject, 0), "classification", 5,
                         0.8f, "ring");
  infer_detection_meta_add_object(dm, b, 0.8, 0.7, 1.3, 1.4, 0.61f, 5, NULL, w, h);
  InferClassificationMeta *cm = infer_buffer_add_classification_meta(b, "test");
  infer_classification_meta_add(cm, 3, 0.75f, "diamond");
  int scale = MAX(1, h / 360), tab_h = 15 * scale;
  *box = (Rect){(int)lround(0.25 * w), (int)lround(0.3 * h), (int)lround(0.75 * w),
                (int)lround(0.8 * h)};
  /* "circle 0.93 | ring 0.80": 23 characters */
  int tab_w = 23 * 8 * scale + scale;
  int tx1 = MAX(0, MIN(box->x0, w - tab_w)); /* moved left to stay in the frame */
  *tab = (Rect){tx1, box->y0 - tab_h, MIN(tx1 + tab_w, w), box->y0};
  Rect b2 = {(int)lround(0.8 * w), (int)lround(0.7 * h), w, h};
  int tab2_w = 12 * 8 * scale + scale; /* "class 5 0.61" */
  int tx = MAX(0, MIN(b2.x0, w - tab2_w));
  int n = 0;
  areas[n++] = (Rect){box->x0 - 2, box->y0 - 2, box->x1 + 2, box->y1 + 2};
  areas[n++] = (Rect){tab->x0 - 2, tab->y0 - 2, tab->x1 + 2, tab->y1 + 2};
  areas[n++] = (Rect){b2.x0 - 2, b2.y0 - 2, w, h};
  areas[n++] = (Rect){tx - 2, b2.y0 - tab_h - 2, tx + tab2_w + 2, b2.y0 + 2};
  areas[n++] = (Rect){0, 0, 12 * 8 * scale + scale + 2, tab_h + 2}; /* "diamond 0.75" */
  *n_areas = n;
}

/* A copy of the frame `sys` in GstCudaMemory of ctx, uploaded. */
static GstBuffer *to_cuda(GstBuffer *sys, const GstVideoInfo *info, GstCudaContext *ctx) {
  GstAllocator *alloc = gst_allocator_find(GST_CUDA_MEMORY_TYPE_NAME);
  GstMemory *mem = gst_cuda_allocator_alloc(GST_CUDA_ALLOCATOR(alloc), ctx, info);
  gst_object_unref(alloc);
  if (!mem) return NULL;
  GstCudaMemory *cm = GST_CUDA_MEMORY_CAST(mem);
  GstBuffer *buf = gst_buffer_new();
  gst_buffer_append_memory(buf, mem);
  gst_buffer_add_video_meta_full(buf, GST_VIDEO_FRAME_FLAG_NONE, GST_VIDEO_INFO_FORMAT(info),
                                 GST_VIDEO_INFO_WIDTH(info), GST_VIDEO_INFO_HEIGHT(info),
                                 GST_VIDEO_INFO_N_PLANES(&cm->info), cm->info.offset,
                                 cm->info.stride);
  GstVideoFrame src, dst;
  gst_video_frame_map(&src, info, sys, GST_MAP_READ);
  gst_video_frame_map(&dst, &cm->info, buf, GST_MAP_WRITE);
  gst_video_frame_copy(&dst, &src);
  gst_video_frame_unmap(&dst);
  gst_video_frame_unmap(&src);
  /* to the device now, so that the element finds the frame there */
  GstMapInfo mi;
  if (gst_memory_map(mem, &mi, GST_MAP_READ | GST_MAP_CUDA)) gst_memory_unmap(mem, &mi);
  return buf;
}

static GstBuffer *run_overlay(GstBuffer *in, const char *features, const char *format, int w,
                              int h, GstCaps **negotiated) {
  GstHarness *hn = gst_harness_new_parse("inferoverlay");
  char *caps = g_strdup_printf("video/x-raw%s,format=%s,width=%d,height=%d,framerate=30/1",
                               features, format, w, h);
  gst_harness_set_src_caps_str(hn, caps);
  g_free(caps);
  gst_harness_push(hn, in);
  GstBuffer *out = gst_harness_pull(hn);
  if (negotiated) *negotiated = gst_pad_get_current_caps(hn->sinkpad);
  gst_harness_teardown(hn);
  return out;
}

/* Visible bytes of the two frames that differ. */
static long frames_differ(GstVideoFrame *a, GstVideoFrame *b, OverlayFormat fmt) {
  int w = GST_VIDEO_FRAME_WIDTH(a), h = GST_VIDEO_FRAME_HEIGHT(a);
  long diff = 0;
  for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES(a); p++) {
    int rb, rows = plane_rows(fmt, w, h, (int)p, &rb);
    for (int y = 0; y < rows; y++) {
      const guint8 *ra = (const guint8 *)GST_VIDEO_FRAME_PLANE_DATA(a, p) +
                         y * GST_VIDEO_FRAME_PLANE_STRIDE(a, p);
      const guint8 *rb_ = (const guint8 *)GST_VIDEO_FRAME_PLANE_DATA(b, p) +
                          y * GST_VIDEO_FRAME_PLANE_STRIDE(b, p);
      for (int x = 0; x < rb; x++) diff += ra[x] != rb_[x];
    }
  }
  return diff;
}

/* Whether plane 0 of pixel (x, y) (and its chroma in 4:2:0) differs. */
static gboolean pixel_changed(GstVideoFrame *a, GstVideoFrame *b, OverlayFormat fmt, int x, int y) {
  int bpp = overlay_bytes_per_pixel(fmt);
  const guint8 *pa = (const guint8 *)GST_VIDEO_FRAME_PLANE_DATA(a, 0) +
                     y * GST_VIDEO_FRAME_PLANE_STRIDE(a, 0) + x * bpp;
  const guint8 *pb = (const guint8 *)GST_VIDEO_FRAME_PLANE_DATA(b, 0) +
                     y * GST_VIDEO_FRAME_PLANE_STRIDE(b, 0) + x * bpp;
  if (memcmp(pa, pb, (size_t)bpp) != 0) return TRUE;
  if (!overlay_is_420(fmt)) return FALSE;
  int step = fmt == OVERLAY_FORMAT_NV12 ? 2 : 1;
  for (guint p = 1; p < GST_VIDEO_FRAME_N_PLANES(a); p++) {
    const guint8 *ca = (const guint8 *)GST_VIDEO_FRAME_PLANE_DATA(a, p) +
                       (y / 2) * GST_VIDEO_FRAME_PLANE_STRIDE(a, p) + (x / 2) * step;
    const guint8 *cb = (const guint8 *)GST_VIDEO_FRAME_PLANE_DATA(b, p) +
                       (y / 2) * GST_VIDEO_FRAME_PLANE_STRIDE(b, p) + (x / 2) * step;
    if (memcmp(ca, cb, (size_t)step) != 0) return TRUE;
  }
  return FALSE;
}

static gboolean has_colour(GstVideoFrame *f, OverlayFormat fmt, int x, int y, OverlayColor c) {
  int bpp = overlay_bytes_per_pixel(fmt);
  const guint8 *p = (const guint8 *)GST_VIDEO_FRAME_PLANE_DATA(f, 0) +
                    y * GST_VIDEO_FRAME_PLANE_STRIDE(f, 0) + x * bpp;
  return memcmp(p, c.v, (size_t)bpp) == 0;
}

static gboolean in_any(const Rect *r, int n, int x, int y) {
  for (int i = 0; i < n; i++)
    if (x >= r[i].x0 && x < r[i].x1 && y >= r[i].y0 && y < r[i].y1) return TRUE;
  return FALSE;
}

static void check_frame(const char *format, int w, int h, GstCudaContext *ctx, const char *ctx_name) {
  OverlayFormat fmt = overlay_format(format);
  GstVideoInfo info;
  gst_video_info_set_format(&info, gst_video_format_from_string(format), (guint)w, (guint)h);
  GstBuffer *orig = make_pattern(format, w, h);
  Rect areas[8], box, tab;
  int n_areas;
  add_meta(orig, w, h, areas, &n_areas, &box, &tab);
  GstBuffer *cuda_in = to_cuda(orig, &info, ctx);
  CHECK(cuda_in != NULL);
  if (!cuda_in) {
    gst_buffer_unref(orig);
    return;
  }
  add_meta(cuda_in, w, h, areas, &n_areas, &box, &tab);
  GstCaps *caps = NULL;
  GstBuffer *gpu = run_overlay(cuda_in, "(memory:CUDAMemory)", format, w, h, &caps);
  GstBuffer *cpu = run_overlay(gst_buffer_copy_deep(orig), "", format, w, h, NULL);
  CHECK(caps && gst_caps_features_contains(gst_caps_get_features(caps, 0), "memory:CUDAMemory"));
  if (caps) gst_caps_unref(caps);
  /* drawn on the device: its copy is the newer one, the host's was not written */
  GstMemory *mem = gpu ? gst_buffer_peek_memory(gpu, 0) : NULL;
  CHECK(mem && gst_is_cuda_memory(mem));
  CHECK(mem && GST_MEMORY_FLAG_IS_SET(mem, GST_CUDA_MEMORY_TRANSFER_NEED_DOWNLOAD));
  CHECK(mem && !GST_MEMORY_FLAG_IS_SET(mem, GST_CUDA_MEMORY_TRANSFER_NEED_UPLOAD));

  GstVideoFrame g, c, o;
  if (!gpu || !cpu || !gst_video_frame_map(&g, &info, gpu, GST_MAP_READ)) {
    CHECK(!"frames to compare");
    goto out;
  }
  gst_video_frame_map(&c, &info, cpu, GST_MAP_READ);
  gst_video_frame_map(&o, &info, orig, GST_MAP_READ);
  long diff = frames_differ(&g, &c, fmt);
  if (diff) fprintf(stderr, "%s %s %dx%d: %ld bytes differ from the CPU overlay\n", ctx_name,
                    format, w, h, diff);
  CHECK(diff == 0);
  /* box outline in the class colour, text in the tab, nothing else */
  OverlayColor cls = overlay_color(fmt, overlay_palette(2));
  int mid_y = (box.y0 + box.y1) / 2, mid_x = (box.x0 + box.x1) / 2;
  CHECK(has_colour(&g, fmt, box.x0, mid_y, cls) && has_colour(&g, fmt, box.x1 - 1, mid_y, cls));
  CHECK(has_colour(&g, fmt, mid_x, box.y1 - 1, cls));
  int n_tab = 0, n_text = 0, outside = 0, inside = 0;
  for (int y = tab.y0; y < tab.y1; y++)
    for (int x = tab.x0; x < tab.x1; x++) {
      if (has_colour(&g, fmt, x, y, cls)) n_tab++;
      else if (pixel_changed(&g, &o, fmt, x, y)) n_text++;
    }
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      if (!in_any(areas, n_areas, x, y)) outside += pixel_changed(&g, &o, fmt, x, y);
  for (int y = box.y0 + 4; y < box.y1 - 4; y++)
    for (int x = box.x0 + 4; x < box.x1 - 4; x++)
      if (!in_any(&areas[3], 1, x, y)) inside += pixel_changed(&g, &o, fmt, x, y);
  if (n_text < 60 || n_tab < 400 || outside || inside)
    fprintf(stderr, "%s %s %dx%d: tab %d, text %d, changed outside %d, inside the box %d\n",
            ctx_name, format, w, h, n_tab, n_text, outside, inside);
  CHECK(n_tab >= 400 && n_text >= 60 && outside == 0 && inside == 0);
  gst_video_frame_unmap(&g);
  gst_video_frame_unmap(&c);
  gst_video_frame_unmap(&o);
out:
  if (gpu) gst_buffer_unref(gpu);
  if (cpu) gst_buffer_unref(cpu);
  gst_buffer_unref(orig);
}

/* A GstCudaContext wrapping the primary context of device 0 (the one the
 * infer element hands to its neighbours). */
static GstCudaContext *primary_context(void) {
  typedef CUresult (*GetCurrent)(CUcontext *);
  typedef CUresult (*GetDevice)(CUdevice *);
  void *f1 = NULL, *f2 = NULL;
  enum cudaDriverEntryPointQueryResult q1, q2;
  if (cudaSetDevice(0) != cudaSuccess || cudaFree(NULL) != cudaSuccess) return NULL;
  if (cudaGetDriverEntryPointByVersion("cuCtxGetCurrent", &f1, 12000, cudaEnableDefault, &q1) !=
          cudaSuccess ||
      cudaGetDriverEntryPointByVersion("cuCtxGetDevice", &f2, 12000, cudaEnableDefault, &q2) !=
          cudaSuccess)
    return NULL;
  CUcontext ctx = NULL;
  CUdevice dev = 0;
  if (((GetCurrent)f1)(&ctx) != CUDA_SUCCESS || ((GetDevice)f2)(&dev) != CUDA_SUCCESS) return NULL;
  return gst_cuda_context_new_wrapped(ctx, dev);
}

static void test_element(void) {
  gst_cuda_memory_init_once();
  GstCudaContext *own = gst_cuda_context_new(0), *primary = primary_context();
  CHECK(own != NULL && primary != NULL);
  const int sizes[][2] = {{320, 240}, {161, 121}, {1280, 720}};
  for (size_t f = 0; f < G_N_ELEMENTS(formats); f++)
    for (size_t s = 0; s < G_N_ELEMENTS(sizes); s++) {
      /* gstreamer-cuda 1.22's allocator has no GRAY8 (it asserts), and its
         I420 layout puts V at U + stride * (height / 2): with an odd height
         V's first row is U's last one, so no painter can match the host's
         separate planes there (cudaupload and the decoders have the same
         layout: such frames are not made in CUDA memory in practice) */
      if (strcmp(formats[f], "GRAY8") == 0 ||
          (strcmp(formats[f], "I420") == 0 && sizes[s][1] % 2 == 1)) {
        printf("  (%s %dx%d: no such CUDA memory in gstreamer-cuda 1.22, not tested)\n",
               formats[f], sizes[s][0], sizes[s][1]);
        continue;
      }
      if (own) check_frame(formats[f], sizes[s][0], sizes[s][1], own, "own context");
      if (primary) check_frame(formats[f], sizes[s][0], sizes[s][1], primary, "primary context");
    }
  if (own) gst_object_unref(own);
  if (primary) gst_object_unref(primary);
}

/* cudaupload ! inferoverlay: CUDA memory when downstream asks for it,
 * system memory when downstream takes only that (the harness's sink caps
 * decide; with ANY downstream cudaupload would stay in passthrough, since
 * a base transform prefers its input caps when they fit). */
static void test_negotiation(void) {
  GstElementFactory *up = gst_element_factory_find("cudaupload");
  if (!up) {
    printf("  (no cudaupload element: negotiation not tested)\n");
    return;
  }
  gst_object_unref(up);
  for (int sys = 0; sys < 2; sys++) {
    GstHarness *hn = gst_harness_new_parse("cudaupload ! inferoverlay name=o");
    gst_harness_set_src_caps_str(hn, "video/x-raw,format=NV12,width=320,height=240,"
                                     "framerate=30/1");
    gst_harness_set_sink_caps_str(hn, sys ? "video/x-raw,format=NV12,width=320,height=240,"
                                            "framerate=30/1"
                                          : "video/x-raw(memory:CUDAMemory),format=NV12,"
                                            "width=320,height=240,framerate=30/1");
    GstBuffer *in = make_pattern("NV12", 320, 240);
    gst_harness_push(hn, in);
    GstBuffer *out = gst_harness_pull(hn);
    CHECK(out != NULL);
    GstElement *o = gst_bin_get_by_name(GST_BIN(hn->element), "o");
    GstPad *pad = o ? gst_element_get_static_pad(o, "sink") : NULL;
    GstCaps *caps = pad ? gst_pad_get_current_caps(pad) : NULL;
    gboolean cuda = caps && gst_caps_features_contains(gst_caps_get_features(caps, 0),
                                                       "memory:CUDAMemory");
    printf("  cudaupload ! inferoverlay, %s downstream: %s memory\n",
           sys ? "system-memory" : "CUDA-memory", cuda ? "CUDA" : "system");
    CHECK(caps != NULL && cuda == !sys);
    if (caps) gst_caps_unref(caps);
    if (pad) gst_object_unref(pad);
    if (o) gst_object_unref(o);
    if (out) gst_buffer_unref(out);
    gst_harness_teardown(hn);
  }
}

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) {
    printf("overlay_cuda: skipped: no CUDA device\n");
    return 77;
  }
  GstElementFactory *factory = gst_element_factory_find("inferoverlay");
  if (!factory) {
    fprintf(stderr, "the inferoverlay element is not found (GST_PLUGIN_PATH)\n");
    return 1;
  }
  gst_object_unref(factory);
  /* gstreamer-cuda calls the driver through a table it fills here; its
     context and memory functions assert without it */
  if (!gst_cuda_load_library()) {
    printf("overlay_cuda: skipped: gstreamer-cuda cannot load the CUDA driver\n");
    return 77;
  }
  test_element();
  test_negotiation();
  TEST_MAIN_END("overlay_cuda");
}
