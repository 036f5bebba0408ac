/* The command-list painter of overlay_draw.h against the direct drawing it
 * replaced: the reference below is the drawing code as it was before the
 * command list (each call painted the frame at once). Random rectangles,
 * outlines and text (every character code, scales 1..4, partly or wholly
 * off the frame) on every format, odd and tiny sizes, rows with padding:
 * the frames must be equal byte for byte, padding included. Also: the
 * list's records (clipped, 4:2:0 widened, no command for what lies
 * outside or for spaces). Plain C, no GStreamer. The reference is the
 * previous code itself, kept here as the oracle. */
#include <stdlib.h>
#include <string.h>

#include "../unit/test_util.h"
#include "overlay_draw.h"
#include "overlay_font.h"

/* ---- the reference: direct drawing ------------------------------------------------------- */

static int ref_clip(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

static void ref_fill_plane(uint8_t *plane, int stride, int x0, int y0, int x1, int y1,
                           const uint8_t *px, int bpp) {
  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++) memcpy(plane + (long)y * stride + (long)x * bpp, px, bpp);
}

static void ref_fill(OverlayImage *img, int x0, int y0, int x1, int y1, OverlayColor c,
                     int luma_only) {
  int w = img->width, h = img->height;
  x0 = ref_clip(x0, 0, w), x1 = ref_clip(x1, 0, w), y0 = ref_clip(y0, 0, h), y1 = ref_clip(y1, 0, h);
  if (x0 >= x1 || y0 >= y1) return;
  if (!overlay_is_420(img->format) || luma_only) {
    ref_fill_plane(img->planes[0], img->strides[0], x0, y0, x1, y1, c.v,
                   overlay_bytes_per_pixel(img->format));
    return;
  }
  x0 &= ~1, y0 &= ~1;
  x1 = ref_clip((x1 + 1) & ~1, 0, w), y1 = ref_clip((y1 + 1) & ~1, 0, h);
  ref_fill_plane(img->planes[0], img->strides[0], x0, y0, x1, y1, c.v, 1);
  int cx0 = x0 / 2, cy0 = y0 / 2, cx1 = (x1 + 1) / 2, cy1 = (y1 + 1) / 2;
  if (img->format == OVERLAY_FORMAT_NV12) {
    ref_fill_plane(img->planes[1], img->strides[1], cx0, cy0, cx1, cy1, c.v + 1, 2);
  } else {
    ref_fill_plane(img->planes[1], img->strides[1], cx0, cy0, cx1, cy1, c.v + 1, 1);
    ref_fill_plane(img->planes[2], img->strides[2], cx0, cy0, cx1, cy1, c.v + 2, 1);
  }
}

static void ref_outline(OverlayImage *img, int x0, int y0, int x1, int y1, int t,
                        OverlayColor c) {
  if (x0 >= x1 || y0 >= y1 || t <= 0) return;
  if (2 * t >= x1 - x0 || 2 * t >= y1 - y0) {
    ref_fill(img, x0, y0, x1, y1, c, 0);
    return;
  }
  ref_fill(img, x0, y0, x1, y0 + t, c, 0);
  ref_fill(img, x0, y1 - t, x1, y1, c, 0);
  ref_fill(img, x0, y0 + t, x0 + t, y1 - t, c, 0);
  ref_fill(img, x1 - t, y0 + t, x1, y1 - t, c, 0);
}

static void ref_text(OverlayImage *img, int x, int y, const char *text, int scale,
                     OverlayColor c) {
  if (scale < 1) scale = 1;
  int luma_only = overlay_is_420(img->format);
  int cell = OVERLAY_FONT_WIDTH * scale;
  for (const char *p = text; *p; p++, x += cell) {
    if (x >= img->width) break;
    if (x + cell <= 0 || y >= img->height || y + OVERLAY_FONT_HEIGHT * scale <= 0) continue;
    const uint8_t *g = overlay_font_glyph((unsigned char)*p);
    for (int row = 0; row < OVERLAY_FONT_HEIGHT; row++) {
      uint8_t bits = g[row];
      int py = y + row * scale;
      for (int col = 0; col < 8 && bits;) {
        if (!(bits & (0x80u >> col))) {
          col++;
          continue;
        }
        int start = col;
        while (col < 8 && (bits & (0x80u >> col))) col++;
        ref_fill(img, x + start * scale, py, x + col * scale, py + scale, c, luma_only);
      }
    }
  }
}

/* ---- frames -------------------------------------------------------------------------------- */

typedef struct {
  OverlayImage img;
  uint8_t *data;
  size_t size;
} Frame;

static uint32_t rng = 12345u;
static uint32_t next_rand(void) {
  rng ^= rng << 13, rng ^= rng >> 17, rng ^= rng << 5;
  return rng;
}
static int rand_in(int lo, int hi) { return lo + (int)(next_rand() % (uint32_t)(hi - lo + 1)); }

/* A frame of noise whose rows end in `pad` bytes of padding. */
static void frame_new(Frame *f, OverlayFormat fmt, int w, int h, int pad) {
  memset(f, 0, sizeof *f);
  f->img.format = fmt, f->img.width = w, f->img.height = h;
  int cw = (w + 1) / 2, ch = (h + 1) / 2;
  int rows[3] = {h, 0, 0};
  f->img.strides[0] = w * overlay_bytes_per_pixel(fmt) + pad;
  if (fmt == OVERLAY_FORMAT_NV12) f->img.strides[1] = 2 * cw + pad, rows[1] = ch;
  if (fmt == OVERLAY_FORMAT_I420)
    f->img.strides[1] = f->img.strides[2] = cw + pad, rows[1] = rows[2] = ch;
  size_t offs[3], total = 0;
  for (int p = 0; p < 3; p++) offs[p] = total, total += (size_t)f->img.strides[p] * rows[p];
  f->data = malloc(total);
  f->size = total;
  for (size_t i = 0; i < total; i++) f->data[i] = (uint8_t)next_rand();
  for (int p = 0; p < 3; p++) f->img.planes[p] = rows[p] ? f->data + offs[p] : NULL;
}

static void frame_copy(Frame *dst, const Frame *src) {
  *dst = *src;
  dst->data = malloc(src->size);
  memcpy(dst->data, src->data, src->size);
  for (int p = 0; p < 3; p++)
    dst->img.planes[p] = src->img.planes[p] ? dst->data + (src->img.planes[p] - src->data) : NULL;
}

/* ---- the cases ------------------------------------------------------------------------------ */

static const OverlayFormat formats[] = {
    OVERLAY_FORMAT_NV12, OVERLAY_FORMAT_I420, OVERLAY_FORMAT_RGBA, OVERLAY_FORMAT_BGRA,
    OVERLAY_FORMAT_RGBX, OVERLAY_FORMAT_BGRX, OVERLAY_FORMAT_RGB,  OVERLAY_FORMAT_BGR,
    OVERLAY_FORMAT_GRAY8};

/* n random drawing calls made both ways; returns how many bytes differ. */
static long compare_random(OverlayFormat fmt, int w, int h, int n, OverlayCommandList *list) {
  Frame a, b;
  frame_new(&a, fmt, w, h, rand_in(0, 9));
  frame_copy(&b, &a);
  overlay_list_reset(list, fmt, w, h);
  for (int i = 0; i < n; i++) {
    OverlayRgb rgb = {(uint8_t)next_rand(), (uint8_t)next_rand(), (uint8_t)next_rand()};
    OverlayColor c = overlay_color(fmt, rgb);
    int x0 = rand_in(-30, w + 10), y0 = rand_in(-30, h + 10);
    int x1 = x0 + rand_in(-5, w), y1 = y0 + rand_in(-5, h);
    switch (next_rand() % 3) {
      case 0:
        ref_fill(&a.img, x0, y0, x1, y1, c, 0);
        overlay_fill_rect(list, x0, y0, x1, y1, c);
        break;
      case 1: {
        int t = rand_in(0, 7);
        ref_outline(&a.img, x0, y0, x1, y1, t, c);
        overlay_draw_outline(list, x0, y0, x1, y1, t, c);
        break;
      }
      default: {
        char text[24];
        int len = rand_in(0, 20), scale = rand_in(0, 4);
        for (int k = 0; k < len; k++) text[k] = (char)rand_in(1, 255);
        text[len] = 0;
        ref_text(&a.img, x0, y0, text, scale, c);
        overlay_draw_text(list, x0, y0, text, scale, c);
        break;
      }
    }
  }
  overlay_paint(list, &b.img);
  long diff = 0;
  for (size_t i = 0; i < a.size; i++) diff += a.data[i] != b.data[i];
  free(a.data);
  free(b.data);
  return diff;
}

static void test_random(void) {
  const int sizes[][2] = {{64, 48}, {161, 121}, {1, 1}, {2, 3}, {33, 7}, {320, 240}};
  OverlayCommandList list;
  overlay_list_init(&list, OVERLAY_FORMAT_RGB, 0, 0);
  for (size_t f = 0; f < sizeof formats / sizeof *formats; f++)
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
      for (int round = 0; round < 4; round++) {
        long diff = compare_random(formats[f], sizes[s][0], sizes[s][1], 40, &list);
        if (diff)
          fprintf(stderr, "format %d %dx%d round %d: %ld bytes differ\n", (int)formats[f],
                  sizes[s][0], sizes[s][1], round, diff);
        CHECK(diff == 0);
      }
  CHECK(!list.out_of_memory);
  overlay_list_free(&list);
}

/* What is recorded: clipped rectangles, widened in 4:2:0, nothing for
 * what lies outside the frame, one glyph per visible non-space character. */
static void test_records(void) {
  OverlayCommandList l;
  OverlayColor c = {{1, 2, 3, 4}};
  overlay_list_init(&l, OVERLAY_FORMAT_NV12, 161, 121);
  overlay_fill_rect(&l, -5, 3, 17, 200, c);
  overlay_fill_rect(&l, 200, 3, 300, 20, c); /* beyond the right edge */
  overlay_fill_rect(&l, 5, 5, 5, 20, c);     /* empty */
  CHECK(l.n == 1);
  if (l.n == 1) {
    const OverlayCommand *r = &l.cmds[0];
    CHECK(r->kind == OVERLAY_CMD_RECT);
    CHECK(r->x0 == 0 && r->y0 == 2 && r->x1 == 18 && r->y1 == 121);
    CHECK(r->cx0 == 0 && r->cy0 == 1 && r->cx1 == 9 && r->cy1 == 61);
  }
  overlay_list_reset(&l, OVERLAY_FORMAT_NV12, 161, 121);
  overlay_draw_text(&l, -16, 10, "ab c", 2, c); /* 'a' is off the frame, ' ' paints nothing */
  CHECK(l.n == 2);
  if (l.n == 2) {
    CHECK(l.cmds[0].kind == OVERLAY_CMD_GLYPH && l.cmds[0].x0 == 0 && l.cmds[0].x1 == 16);
    CHECK(l.cmds[0].y0 == 10 && l.cmds[0].y1 == 36 && l.cmds[0].scale == 2);
    CHECK(memcmp(l.cmds[0].rows, overlay_font_glyph('b'), OVERLAY_FONT_HEIGHT) == 0);
    CHECK(l.cmds[1].x0 == 32 && l.cmds[0].cx0 == 0 && l.cmds[0].cx1 == 0);
  }
  overlay_list_reset(&l, OVERLAY_FORMAT_RGB, 161, 121);
  overlay_draw_text(&l, 0, 121, "x", 1, c); /* below the frame */
  overlay_draw_outline(&l, 10, 10, 30, 30, 3, c);
  CHECK(l.n == 4 && l.format == OVERLAY_FORMAT_RGB && l.cmds[3].cx0 == l.cmds[3].cx1);
  overlay_list_free(&l);
}

/* An empty list, or a frame of another geometry, leaves the frame alone. */
static void test_untouched(void) {
  Frame a, b;
  frame_new(&a, OVERLAY_FORMAT_I420, 40, 30, 3);
  frame_copy(&b, &a);
  OverlayCommandList l;
  overlay_list_init(&l, OVERLAY_FORMAT_I420, 40, 30);
  overlay_paint(&l, &b.img);
  CHECK(memcmp(a.data, b.data, a.size) == 0);
  overlay_list_reset(&l, OVERLAY_FORMAT_I420, 42, 30);
  overlay_fill_rect(&l, 0, 0, 42, 30, (OverlayColor){{9, 9, 9, 9}});
  overlay_paint(&l, &b.img);
  CHECK(memcmp(a.data, b.data, a.size) == 0);
  overlay_list_free(&l);
  free(a.data);
  free(b.data);
}

int main(void) {
  test_random();
  test_records();
  test_untouched();
  TEST_MAIN_END("overlay_draw");
}
