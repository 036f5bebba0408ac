/* PPM/PGM (netpbm binary formats): a header of whitespace-separated ASCII
 * fields with '#' comments, one whitespace byte, then the samples. */
#include "calib_ppm.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The next header number, skipping whitespace and comments; -1 if none. */
static long header_number(FILE *f) {
  int c = fgetc(f);
  for (;;) {
    while (c != EOF && isspace(c)) c = fgetc(f);
    if (c != '#') break;
    while (c != EOF && c != '\n') c = fgetc(f);
  }
  if (c == EOF || !isdigit(c)) return -1;
  long v = 0;
  while (c != EOF && isdigit(c)) {
    v = v * 10 + (c - '0');
    if (v > 1000000) return -1;
    c = fgetc(f);
  }
  /* c is the single whitespace byte after the field (consumed) */
  return c != EOF && isspace(c) ? v : -1;
}

InferStatus *calib_ppm_read(const char *path, int *width, int *height, int *channels,
                            uint8_t **pixels) {
  *pixels = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) return infer_status_new(INFER_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
  char magic[2] = {0};
  InferStatus *st = NULL;
  if (fread(magic, 1, 2, f) != 2 || magic[0] != 'P' || (magic[1] != '6' && magic[1] != '5')) {
    fclose(f);
    return infer_status_new(INFER_ERR_PARSE, "%s: not a binary PPM (P6) or PGM (P5) image", path);
  }
  long w = header_number(f), h = header_number(f), maxval = header_number(f);
  if (w <= 0 || h <= 0 || maxval <= 0 || maxval > 65535 || w * h > 100000000L) {
    fclose(f);
    return infer_status_new(INFER_ERR_PARSE, "%s: bad PPM header (width %ld, height %ld, maxval %ld)",
                            path, w, h, maxval);
  }
  int ch = magic[1] == '6' ? 3 : 1, bytes = maxval > 255 ? 2 : 1;
  size_t n = (size_t)w * (size_t)h * (size_t)ch;
  uint8_t *raw = malloc(n * (size_t)bytes), *px = bytes == 1 ? raw : malloc(n);
  if (!raw || !px) {
    st = infer_status_new(INFER_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
  } else if (fread(raw, (size_t)bytes, n, f) != n) {
    st = infer_status_new(INFER_ERR_PARSE, "%s: truncated image data (%ldx%ld)", path, w, h);
  } else {
    /* scale to 0..255 whatever maxval is */
    for (size_t i = 0; i < n; i++) {
      long v = bytes == 1 ? raw[i] : (long)raw[2 * i] << 8 | raw[2 * i + 1];
      px[i] = (uint8_t)((v * 255 + maxval / 2) / maxval);
    }
  }
  fclose(f);
  if (px != raw) free(raw);
  if (st) {
    free(px);
    return st;
  }
  *width = (int)w;
  *height = (int)h;
  *channels = ch;
  *pixels = px;
  return NULL;
}
