/* Fuzz target: the infer element's property string parsers: mean / std
 * ("r,g,b" or one number, std nonzero). Either three finite values or a
 * reason. The bytes are the property text up to the first NUL. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_target.h"
#include "gstinfer.h"

static void parse(const char *text, gboolean nonzero) {
  gfloat v[3] = {0};
  gchar *reason = NULL;
  if (gst_infer_parse_triplet(text, v, nonzero, &reason)) {
    if (reason) abort();
    /* the values are used as floats: divisors must stay nonzero there */
    for (int i = 0; i < 3; i++)
      if (!isfinite(v[i]) || (nonzero && v[i] == 0.0f)) abort();
  } else {
    if (!reason || !*reason) abort();
    g_free(reason);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = 0;
  parse(text, FALSE);
  parse(text, TRUE);
  free(text);
  return 0;
}
