/* PNG / JPEG without GStreamer: refused with the way out. */
#include "calib_decode.h"

#include <stddef.h>

bool calib_decode_available(void) { return false; }

InferStatus *calib_decode_read(const char *path, int *width, int *height, int *channels,
                               uint8_t **pixels) {
  *width = *height = *channels = 0;
  *pixels = NULL;
  return infer_status_new(INFER_ERR_UNSUPPORTED,
                          "%s: PNG and JPEG images need infer-calibrate built with GStreamer "
                          "(meson setup -Dgst=enabled); convert them to PPM/PGM or .pb tensors",
                          path);
}
