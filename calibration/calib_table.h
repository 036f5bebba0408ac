/* The calibration table's layout, shared by the table and cache code. */
#ifndef INFER_CALIB_TABLE_H
#define INFER_CALIB_TABLE_H

#include "calib_internal.h"

struct InferCalibTable {
  CalibNameMap names;
  float *scales;
  int cap;
  char *calibrator;  /* header name, "EntropyCalibration2" */
  int version;       /* header version number */
  char *source;      /* the file it was read from, or NULL */
};

InferStatus *calib_table_new(const char *calibrator, int version, const char *source,
                             InferCalibTable **out);
/* Sets a scale without validation; *added tells whether the name is new. */
InferStatus *calib_table_put(InferCalibTable *t, const char *tensor, float scale, bool *added);

#endif
