/* The library version, from the build. */
#include "infer/engine.h"

#ifndef INFER_VERSION
#define INFER_VERSION "0.0.0"
#endif

const char *infer_version_string(void) { return INFER_VERSION; }
