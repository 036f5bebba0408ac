/* The overlay's bitmap font: the project's own 8x13 glyphs for printable
 * ASCII (32..126), one byte per row, bit 7 the leftmost pixel. Capitals
 * and digits stand on rows 2..10, descenders reach rows 11..12; column 7
 * is always empty, so glyphs can be laid side by side. Plain C, no GLib. */
#ifndef INFER_OVERLAY_FONT_H
#define INFER_OVERLAY_FONT_H

#include <stdint.h>

#define OVERLAY_FONT_WIDTH 8
#define OVERLAY_FONT_HEIGHT 13

/* The 13 rows of character c; characters outside 32..126 give '?'. */
const uint8_t *overlay_font_glyph(int c);

#endif
