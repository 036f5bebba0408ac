/* Drawing for the inferoverlay element: filled rectangles, box outlines
 * and bitmap text (overlay_font.h) in a video frame's planes. Plain C, no
 * GLib, so that the CUDA painter (kernels/cuda/cuda_overlay.cu) reads the
 * same types.
 *
 * Drawing happens in two steps. The drawing calls record a command list
 * for a frame geometry (format, width, height): every rectangle already
 * clipped to the frame (and, in 4:2:0, widened to whole chroma blocks),
 * every glyph as its 13 bitmap rows at a pixel position, every colour in
 * the format's own terms. A painter then executes the list on the planes:
 * overlay_paint here on the CPU, infer_cuda_overlay_paint on the GPU. Both
 * read only the list, so both write the same bytes.
 *
 * Formats: NV12 and I420 (4:2:0: a rectangle is widened to even
 * coordinates so that every 2x2 chroma block it touches is wholly painted;
 * text sets luma only, as its 1-pixel strokes are finer than the chroma),
 * RGBA, BGRA, RGBx, BGRx (the 4th byte is set to 255), RGB, BGR and GRAY8.
 * Colours are given as RGB and converted once per format (BT.601 limited
 * range for YUV, full-range luma for GRAY8). Everything is clipped to the
 * frame; rectangles are half-open: [x0, x1) x [y0, y1). Later commands
 * paint over earlier ones. */
#ifndef INFER_OVERLAY_DRAW_H
#define INFER_OVERLAY_DRAW_H

#include <stdint.h>

#include "overlay_font.h"

#ifdef __cplusplus
extern "C" {
#endif

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

/* A frame's planes: host memory for overlay_paint, pitch-linear device
 * memory for the CUDA painter. */
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
/* Bytes per pixel of plane 0 (the luma plane of 4:2:0). */
int overlay_bytes_per_pixel(OverlayFormat format);
/* NV12 or I420. */
int overlay_is_420(OverlayFormat format);

/* ---- the command list ------------------------------------------------------------------ */

typedef enum {
  /* plane 0 pixels [x0, x1) x [y0, y1), inside the frame; in 4:2:0 also
     the chroma samples [cx0, cx1) x [cy0, cy1) (empty: luma only) */
  OVERLAY_CMD_RECT,
  /* plane 0 pixel (x, y) of the cell [x0, x1) x [y0, y1) (13 x 8 font
     pixels of scale x scale; it may reach beyond the frame, only pixels
     inside are painted) when bit 7 - (x - x0) / scale of
     rows[(y - y0) / scale] is set */
  OVERLAY_CMD_GLYPH,
} OverlayCommandKind;

typedef struct OverlayCommand {
  int32_t x0, y0, x1, y1;
  int32_t cx0, cy0, cx1, cy1;
  uint8_t kind;   /* OverlayCommandKind */
  uint8_t scale;  /* glyph: frame pixels per font pixel */
  OverlayColor color;
  uint8_t rows[OVERLAY_FONT_HEIGHT];
} OverlayCommand;

typedef struct OverlayCommandList {
  OverlayFormat format;
  int width, height;
  OverlayCommand *cmds;
  int n, capacity;
  int out_of_memory; /* a command could not be recorded (the list is short) */
} OverlayCommandList;

/* An empty list for frames of this geometry. */
void overlay_list_init(OverlayCommandList *list, OverlayFormat format, int width, int height);
/* Empties the list (keeps its memory) for frames of this geometry. */
void overlay_list_reset(OverlayCommandList *list, OverlayFormat format, int width, int height);
void overlay_list_free(OverlayCommandList *list);

/* ---- recording ---------------------------------------------------------------------------- */

void overlay_fill_rect(OverlayCommandList *list, int x0, int y0, int x1, int y1, OverlayColor c);
/* The outline of [x0, x1) x [y0, y1), `thickness` pixels wide, inside it. */
void overlay_draw_outline(OverlayCommandList *list, int x0, int y0, int x1, int y1,
                          int thickness, OverlayColor c);

/* Text is one line; each character takes OVERLAY_FONT_WIDTH x
 * OVERLAY_FONT_HEIGHT pixels times `scale` (1..255). */
int overlay_text_width(const char *text, int scale);
int overlay_text_height(int scale);
/* Draws text with its cell's top-left corner at (x, y). */
void overlay_draw_text(OverlayCommandList *list, int x, int y, const char *text, int scale,
                       OverlayColor c);

/* ---- painting ----------------------------------------------------------------------------- */

/* Executes the list on img (host memory), whose format and size must be
 * the list's. */
void overlay_paint(const OverlayCommandList *list, OverlayImage *img);

#ifdef __cplusplus
}
#endif
#endif
