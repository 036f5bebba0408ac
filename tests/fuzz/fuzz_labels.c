/* Fuzz target: the infer element's labels-file reader (property labels).
 * Any bytes: either labels (none NULL) or a GError naming the property. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_target.h"
#include "gstinfer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_write_temp("labels.txt", data, size);
  if (!path) return 0;
  GError *err = NULL;
  GPtrArray *labels = gst_infer_read_labels(path, &err);
  if (!labels) {
    if (!err || !strstr(err->message, "(property labels)")) abort();
    g_error_free(err);
    return 0;
  }
  if (err || labels->len == 0) abort();
  for (guint i = 0; i < labels->len; i++) {
    const char *l = g_ptr_array_index(labels, i);
    if (!l) abort();
    (void)strlen(l);
  }
  g_ptr_array_unref(labels);
  return 0;
}
