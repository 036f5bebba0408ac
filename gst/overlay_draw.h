/* Drawing for the inferoverlay element: filled rectangles, box outlines
 * and bitmap text (overlay_font.h) straight into a video frame's planes.
 * Plain C, no GLib: the element maps the frame and fills an OverlayImage.
 *
 * Formats: NV12 and I420 (4:2:0: a rectangle is widened to even
 * coordinates so that every 2x2 chroma block it touches is wholly painted;
 * text sets luma only, as its 1-pixel strokes are finer than the chroma),
 * RGBA, BGRA, RGBx, BGRx (the 4th byte is set to 255), RGB, BGR and GRAY8.
 * Colours are given as RGB and converted once per format (BT.601 limited
 * range for YUV, full-range luma for GRAY8). Everything is clipped to the
 * frame; rectangles are half-open: [x0, x1) x [y0, y1). */
#ifndef INFER_OVERLAY_DRAW_H
#define INFER_OVERLAY_DRAW_H

#include <stdint.h>

typedef enum {
  OVERLAY_FORMAT_NV12,
  OVERLAY_FORMAT_I420,
  OVERLAY_FORMAT_RGBA,
  OVERLAY_FORMAT_BGRA,
  OVERLAY_FORMAT_RGBX,
  OVERLAY_FORMAT_BGRX,
  OVERLAY_FORMAT_RGB,
  OVERLAY_FORMAT_BGR,
  OVERLAY_FORMAT_GRAY8,
} OverlayFormat;

typedef struct OverlayImage {
  OverlayFormat format;
  int width, height;
  uint8_t *planes[3];  /* NV12: Y, UV; I420: Y, U, V; others: one plane */
  int strides[3];      /* bytes per row of each plane */
} OverlayImage;

typedef struct OverlayRgb {
  uint8_t r, g, b;
} OverlayRgb;

/* A colour in a format's own terms: the bytes of one pixel for packed
 * formats, Y, U, V for 4:2:0, Y for GRAY8. */
typedef struct OverlayColor {
  uint8_t v[4];
} OverlayColor;

/* The colour of a class: a fixed palette of 16, by label_id (any int). */
OverlayRgb overlay_palette(int label_id);
/* BT.601 limited range (Y 16..235, U/V 16..240), rounded. */
void overlay_rgb_to_yuv(OverlayRgb rgb, uint8_t *y, uint8_t *u, uint8_t *v);
/* Full-range luma 0.299 R + 0.587 G + 0.114 B, rounded. */
uint8_t overlay_rgb_to_gray(OverlayRgb rgb);
OverlayColor overlay_color(OverlayFormat format, OverlayRgb rgb);
/* Black or white, whichever reads better on `background`. */
OverlayRgb overlay_text_rgb(OverlayRgb background);

void overlay_fill_rect(OverlayImage *img, int x0, int y0, int x1, int y1, OverlayColor c);
/* The outline of [x0, x1) x [y0, y1), `thickness` pixels wide, inside it. */
void overlay_draw_outline(OverlayImage *img, int x0, int y0, int x1, int y1, int thickness,
                          OverlayColor c);

/* Text is one line; each character takes OVERLAY_FONT_WIDTH x
 * OVERLAY_FONT_HEIGHT pixels times `scale` (>= 1). */
int overlay_text_width(const char *text, int scale);
int overlay_text_height(int scale);
/* Draws text with its cell's top-left corner at (x, y). */
void overlay_draw_text(OverlayImage *img, int x, int y, const char *text, int scale,
                       OverlayColor c);

#endif
