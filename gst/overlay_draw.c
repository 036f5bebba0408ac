/* Drawing into video frames for inferoverlay (see overlay_draw.h):
 * colours, recording the command list, and the CPU painter. */
#include "overlay_draw.h"

#include <stdlib.h>
#include <string.h>

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

int overlay_is_420(OverlayFormat f) {
  return f == OVERLAY_FORMAT_NV12 || f == OVERLAY_FORMAT_I420;
}

int overlay_bytes_per_pixel(OverlayFormat f) {
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

/* ---- the list ----------------------------------------------------------------------------- */

void overlay_list_init(OverlayCommandList *list, OverlayFormat format, int width, int height) {
  memset(list, 0, sizeof *list);
  overlay_list_reset(list, format, width, height);
}

void overlay_list_reset(OverlayCommandList *list, OverlayFormat format, int width, int height) {
  list->format = format;
  list->width = width;
  list->height = height;
  list->n = 0;
  list->out_of_memory = 0;
}

void overlay_list_free(OverlayCommandList *list) {
  free(list->cmds);
  list->cmds = NULL;
  list->n = list->capacity = 0;
}

/* A new zeroed command at the end, or NULL (out_of_memory is set). */
static OverlayCommand *append(OverlayCommandList *list, OverlayCommandKind kind, OverlayColor c) {
  if (list->n == list->capacity) {
    int cap = list->capacity ? 2 * list->capacity : 64;
    OverlayCommand *more = list->capacity < (1 << 24)
                               ? realloc(list->cmds, (size_t)cap * sizeof *more)
                               : NULL;
    if (!more) {
      list->out_of_memory = 1;
      return NULL;
    }
    list->cmds = more;
    list->capacity = cap;
  }
  OverlayCommand *cmd = &list->cmds[list->n++];
  memset(cmd, 0, sizeof *cmd);
  cmd->kind = (uint8_t)kind;
  cmd->color = c;
  return cmd;
}

/* ---- recording ---------------------------------------------------------------------------- */

/* Fills [x0, x1) x [y0, y1); luma_only: leave the chroma of 4:2:0 as is. */
static void fill(OverlayCommandList *list, int x0, int y0, int x1, int y1, OverlayColor c,
                 int luma_only) {
  int w = list->width, h = list->height;
  x0 = clip(x0, 0, w), x1 = clip(x1, 0, w), y0 = clip(y0, 0, h), y1 = clip(y1, 0, h);
  if (x0 >= x1 || y0 >= y1) return;
  int cx0 = 0, cy0 = 0, cx1 = 0, cy1 = 0;
  if (overlay_is_420(list->format) && !luma_only) {
    /* 4:2:0: widen to whole 2x2 blocks so that luma and chroma agree */
    x0 &= ~1, y0 &= ~1;
    x1 = clip((x1 + 1) & ~1, 0, w), y1 = clip((y1 + 1) & ~1, 0, h);
    cx0 = x0 / 2, cy0 = y0 / 2, cx1 = (x1 + 1) / 2, cy1 = (y1 + 1) / 2;
  }
  OverlayCommand *cmd = append(list, OVERLAY_CMD_RECT, c);
  if (!cmd) return;
  cmd->x0 = x0, cmd->y0 = y0, cmd->x1 = x1, cmd->y1 = y1;
  cmd->cx0 = cx0, cmd->cy0 = cy0, cmd->cx1 = cx1, cmd->cy1 = cy1;
}

void overlay_fill_rect(OverlayCommandList *list, int x0, int y0, int x1, int y1,
                       OverlayColor c) {
  fill(list, x0, y0, x1, y1, c, 0);
}

void overlay_draw_outline(OverlayCommandList *list, int x0, int y0, int x1, int y1,
                          int thickness, OverlayColor c) {
  if (x0 >= x1 || y0 >= y1 || thickness <= 0) return;
  if (2 * thickness >= x1 - x0 || 2 * thickness >= y1 - y0) {
    fill(list, x0, y0, x1, y1, c, 0);
    return;
  }
  fill(list, x0, y0, x1, y0 + thickness, c, 0);                          /* top */
  fill(list, x0, y1 - thickness, x1, y1, c, 0);                          /* bottom */
  fill(list, x0, y0 + thickness, x0 + thickness, y1 - thickness, c, 0);  /* left */
  fill(list, x1 - thickness, y0 + thickness, x1, y1 - thickness, c, 0);  /* right */
}

static int clamp_scale(int scale) { return scale < 1 ? 1 : scale > 255 ? 255 : scale; }

int overlay_text_width(const char *text, int scale) {
  return (int)strlen(text) * OVERLAY_FONT_WIDTH * clamp_scale(scale);
}

int overlay_text_height(int scale) { return OVERLAY_FONT_HEIGHT * clamp_scale(scale); }

void overlay_draw_text(OverlayCommandList *list, int x, int y, const char *text, int scale,
                       OverlayColor c) {
  scale = clamp_scale(scale);
  int cell_w = OVERLAY_FONT_WIDTH * scale, cell_h = OVERLAY_FONT_HEIGHT * scale;
  if (y >= list->height || y + cell_h <= 0) return;
  for (const char *p = text; *p; p++, x += cell_w) {
    if (x >= list->width) break;
    if (x + cell_w <= 0) continue;
    const uint8_t *g = overlay_font_glyph((unsigned char)*p);
    uint8_t any = 0;
    for (int row = 0; row < OVERLAY_FONT_HEIGHT; row++) any |= g[row];
    if (!any) continue; /* a space paints nothing */
    OverlayCommand *cmd = append(list, OVERLAY_CMD_GLYPH, c);
    if (!cmd) return;
    cmd->x0 = x, cmd->y0 = y, cmd->x1 = x + cell_w, cmd->y1 = y + cell_h;
    cmd->scale = (uint8_t)scale;
    memcpy(cmd->rows, g, OVERLAY_FONT_HEIGHT);
  }
}

/* ---- the CPU painter ---------------------------------------------------------------------- */

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

static void paint_rect(const OverlayCommand *cmd, OverlayImage *img, int bpp) {
  fill_plane(img->planes[0], img->strides[0], cmd->x0, cmd->y0, cmd->x1, cmd->y1,
             cmd->color.v, bpp);
  if (!overlay_is_420(img->format) || cmd->cx0 >= cmd->cx1 || cmd->cy0 >= cmd->cy1) return;
  if (img->format == OVERLAY_FORMAT_NV12) {
    fill_plane(img->planes[1], img->strides[1], cmd->cx0, cmd->cy0, cmd->cx1, cmd->cy1,
               cmd->color.v + 1, 2);
  } else {
    fill_plane(img->planes[1], img->strides[1], cmd->cx0, cmd->cy0, cmd->cx1, cmd->cy1,
               cmd->color.v + 1, 1);
    fill_plane(img->planes[2], img->strides[2], cmd->cx0, cmd->cy0, cmd->cx1, cmd->cy1,
               cmd->color.v + 2, 1);
  }
}

/* Runs of set bits of each row as one rectangle each, clipped. */
static void paint_glyph(const OverlayCommand *cmd, OverlayImage *img, int bpp) {
  int s = cmd->scale, w = img->width, h = img->height;
  for (int row = 0; row < OVERLAY_FONT_HEIGHT; row++) {
    uint8_t bits = cmd->rows[row];
    int y0 = clip(cmd->y0 + row * s, 0, h), y1 = clip(cmd->y0 + (row + 1) * s, 0, h);
    if (y0 >= y1) continue;
    for (int col = 0; col < 8 && bits;) {
      if (!(bits & (0x80u >> col))) {
        col++;
        continue;
      }
      int start = col;
      while (col < 8 && (bits & (0x80u >> col))) col++;
      int x0 = clip(cmd->x0 + start * s, 0, w), x1 = clip(cmd->x0 + col * s, 0, w);
      if (x0 < x1) fill_plane(img->planes[0], img->strides[0], x0, y0, x1, y1, cmd->color.v, bpp);
    }
  }
}

void overlay_paint(const OverlayCommandList *list, OverlayImage *img) {
  if (img->format != list->format || img->width != list->width || img->height != list->height)
    return;
  int bpp = overlay_bytes_per_pixel(img->format);
  for (int i = 0; i < list->n; i++) {
    const OverlayCommand *cmd = &list->cmds[i];
    if (cmd->kind == OVERLAY_CMD_RECT)
      paint_rect(cmd, img, bpp);
    else
      paint_glyph(cmd, img, bpp);
  }
}
