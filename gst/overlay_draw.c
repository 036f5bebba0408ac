/* Drawing into video frames for inferoverlay (see overlay_draw.h). */
#include "overlay_draw.h"

#include <string.h>

#include "overlay_font.h"

static const OverlayRgb palette[16] = {
    {255, 56, 56},  {56, 200, 80},   {40, 120, 255}, {255, 170, 0},
    {170, 60, 230}, {0, 210, 210},   {255, 80, 200}, {180, 230, 40},
    {255, 140, 120}, {0, 140, 120},  {150, 150, 255}, {170, 110, 50},
    {255, 235, 60}, {140, 20, 40},   {120, 255, 180}, {110, 110, 0},
};

OverlayRgb overlay_palette(int label_id) {
  unsigned idx = label_id < 0 ? (unsigned)(-(long)label_id) : (unsigned)label_id;
  return palette[idx % 16u];
}

static uint8_t clamp_round(double x, double lo, double hi) {
  x += 0.5;
  if (x < lo) x = lo;
  if (x > hi) x = hi;
  return (uint8_t)x;
}

void overlay_rgb_to_yuv(OverlayRgb c, uint8_t *y, uint8_t *u, uint8_t *v) {
  double r = c.r, g = c.g, b = c.b;
  *y = clamp_round(16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0, 16, 235);
  *u = clamp_round(128.0 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255.0, 16, 240);
  *v = clamp_round(128.0 + (112.0 * r - 93.786 * g - 18.214 * b) / 255.0, 16, 240);
}

uint8_t overlay_rgb_to_gray(OverlayRgb c) {
  return clamp_round(0.299 * c.r + 0.587 * c.g + 0.114 * c.b, 0, 255);
}

OverlayColor overlay_color(OverlayFormat format, OverlayRgb rgb) {
  OverlayColor c;
  memset(&c, 0, sizeof c);
  switch (format) {
    case OVERLAY_FORMAT_NV12:
    case OVERLAY_FORMAT_I420:
      overlay_rgb_to_yuv(rgb, &c.v[0], &c.v[1], &c.v[2]);
      break;
    case OVERLAY_FORMAT_GRAY8:
      c.v[0] = overlay_rgb_to_gray(rgb);
      break;
    case OVERLAY_FORMAT_RGBA:
    case OVERLAY_FORMAT_RGBX:
    case OVERLAY_FORMAT_RGB:
      c.v[0] = rgb.r, c.v[1] = rgb.g, c.v[2] = rgb.b, c.v[3] = 255;
      break;
    case OVERLAY_FORMAT_BGRA:
    case OVERLAY_FORMAT_BGRX:
    case OVERLAY_FORMAT_BGR:
      c.v[0] = rgb.b, c.v[1] = rgb.g, c.v[2] = rgb.r, c.v[3] = 255;
      break;
  }
  return c;
}

OverlayRgb overlay_text_rgb(OverlayRgb bg) {
  OverlayRgb black = {0, 0, 0}, white = {255, 255, 255};
  return overlay_rgb_to_gray(bg) > 140 ? black : white;
}

static int is_420(OverlayFormat f) {
  return f == OVERLAY_FORMAT_NV12 || f == OVERLAY_FORMAT_I420;
}

static int bytes_per_pixel(OverlayFormat f) {
  switch (f) {
    case OVERLAY_FORMAT_RGB:
    case OVERLAY_FORMAT_BGR: return 3;
    case OVERLAY_FORMAT_GRAY8: return 1;
    case OVERLAY_FORMAT_NV12:
    case OVERLAY_FORMAT_I420: return 1; /* luma plane */
    default: return 4;
  }
}

static int clip(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

static void fill_plane(uint8_t *plane, int stride, int x0, int y0, int x1, int y1,
                       const uint8_t *px, int bpp) {
  for (int y = y0; y < y1; y++) {
    uint8_t *row = plane + (long)y * stride + (long)x0 * bpp;
    if (bpp == 1) {
      memset(row, px[0], (size_t)(x1 - x0));
    } else {
      for (int x = x0; x < x1; x++, row += bpp) memcpy(row, px, (size_t)bpp);
    }
  }
}

/* Fills [x0, x1) x [y0, y1); luma_only: leave the chroma of 4:2:0 as is. */
static void fill(OverlayImage *img, int x0, int y0, int x1, int y1, OverlayColor c,
                 int luma_only) {
  int w = img->width, h = img->height;
  if (!is_420(img->format) || luma_only) {
    x0 = clip(x0, 0, w), x1 = clip(x1, 0, w), y0 = clip(y0, 0, h), y1 = clip(y1, 0, h);
    if (x0 >= x1 || y0 >= y1) return;
    fill_plane(img->planes[0], img->strides[0], x0, y0, x1, y1, c.v,
               bytes_per_pixel(img->format));
    return;
  }
  /* 4:2:0: widen to whole 2x2 blocks so that luma and chroma agree */
  x0 = clip(x0, 0, w), x1 = clip(x1, 0, w), y0 = clip(y0, 0, h), y1 = clip(y1, 0, h);
  if (x0 >= x1 || y0 >= y1) return;
  x0 &= ~1, y0 &= ~1;
  x1 = clip((x1 + 1) & ~1, 0, w), y1 = clip((y1 + 1) & ~1, 0, h);
  fill_plane(img->planes[0], img->strides[0], x0, y0, x1, y1, c.v, 1);
  int cx0 = x0 / 2, cy0 = y0 / 2, cx1 = (x1 + 1) / 2, cy1 = (y1 + 1) / 2;
  if (img->format == OVERLAY_FORMAT_NV12) {
    fill_plane(img->planes[1], img->strides[1], cx0, cy0, cx1, cy1, c.v + 1, 2);
  } else {
    fill_plane(img->planes[1], img->strides[1], cx0, cy0, cx1, cy1, c.v + 1, 1);
    fill_plane(img->planes[2], img->strides[2], cx0, cy0, cx1, cy1, c.v + 2, 1);
  }
}

void overlay_fill_rect(OverlayImage *img, int x0, int y0, int x1, int y1, OverlayColor c) {
  fill(img, x0, y0, x1, y1, c, 0);
}

void overlay_draw_outline(OverlayImage *img, int x0, int y0, int x1, int y1, int thickness,
                          OverlayColor c) {
  if (x0 >= x1 || y0 >= y1 || thickness <= 0) return;
  if (2 * thickness >= x1 - x0 || 2 * thickness >= y1 - y0) {
    fill(img, x0, y0, x1, y1, c, 0);
    return;
  }
  fill(img, x0, y0, x1, y0 + thickness, c, 0);                          /* top */
  fill(img, x0, y1 - thickness, x1, y1, c, 0);                          /* bottom */
  fill(img, x0, y0 + thickness, x0 + thickness, y1 - thickness, c, 0);  /* left */
  fill(img, x1 - thickness, y0 + thickness, x1, y1 - thickness, c, 0);  /* right */
}

int overlay_text_width(const char *text, int scale) {
  return (int)strlen(text) * OVERLAY_FONT_WIDTH * (scale < 1 ? 1 : scale);
}

int overlay_text_height(int scale) { return OVERLAY_FONT_HEIGHT * (scale < 1 ? 1 : scale); }

void overlay_draw_text(OverlayImage *img, int x, int y, const char *text, int scale,
                       OverlayColor c) {
  if (scale < 1) scale = 1;
  int luma_only = is_420(img->format);
  int cell = OVERLAY_FONT_WIDTH * scale;
  for (const char *p = text; *p; p++, x += cell) {
    if (x >= img->width) break;
    if (x + cell <= 0 || y >= img->height || y + OVERLAY_FONT_HEIGHT * scale <= 0) continue;
    const uint8_t *g = overlay_font_glyph((unsigned char)*p);
    for (int row = 0; row < OVERLAY_FONT_HEIGHT; row++) {
      uint8_t bits = g[row];
      int py = y + row * scale;
      /* runs of set bits as one rectangle each */
      for (int col = 0; col < 8 && bits;) {
        if (!(bits & (0x80u >> col))) {
          col++;
          continue;
        }
        int start = col;
        while (col < 8 && (bits & (0x80u >> col))) col++;
        fill(img, x + start * scale, py, x + col * scale, py + scale, c, luma_only);
      }
    }
  }
}
