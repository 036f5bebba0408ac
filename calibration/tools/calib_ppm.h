/* A minimal PPM/PGM reader for calibration images. */
#ifndef INFER_CALIB_PPM_H
#define INFER_CALIB_PPM_H

#include <stdint.h>

#include "infer/status.h"

/* Binary P6 (RGB) or P5 (grey), maxval 1..65535 (16-bit samples are cut to
 * their high byte). *pixels is malloc'ed, width*height*channels bytes. */
InferStatus *calib_ppm_read(const char *path, int *width, int *height, int *channels,
                            uint8_t **pixels);

#endif
