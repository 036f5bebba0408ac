/* PNG and JPEG calibration images. With GStreamer (the gst build) each file
 * is decoded by a pipeline of its own; without it the formats are refused
 * with a message saying so. */
#ifndef INFER_CALIB_DECODE_H
#define INFER_CALIB_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#include "infer/status.h"

/* Whether PNG / JPEG can be read by this build. */
bool calib_decode_available(void);

/* The first picture of the file as 8-bit RGB (*channels 3) or grey
 * (*channels 1), rows packed. *pixels is malloc'ed. Errors name the file. */
InferStatus *calib_decode_read(const char *path, int *width, int *height, int *channels,
                               uint8_t **pixels);

#endif
