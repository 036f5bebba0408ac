/* infer-calibrate's data folder: ONNX TensorProto files (.pb) and images
 * (PPM/PGM; PNG and JPEG with GStreamer), cut into batches for the
 * network's inputs. */
#ifndef INFER_CALIB_DATA_H
#define INFER_CALIB_DATA_H

#include "infer/calibration.h"
#include "preprocess.h"

typedef struct CalibInputSpec {
  const char *name;
  InferDType dtype;
  InferShape shape; /* the calibration shape; d[0] is the batch */
} CalibInputSpec;

/* Image preprocessing, as the infer element's properties of the same
 * names (kernels/preprocess.h does the work for both). */
typedef struct CalibImageOptions {
  float scale;        /* value = (pixel * scale - mean[c]) / std[c] */
  float mean[3], std[3];
  bool bgr;           /* channel order of 3-channel inputs */
  bool keep_aspect;   /* letterbox instead of stretching */
  bool pad_symmetric; /* letterbox bands on both sides, else bottom / right */
  float pad_value;    /* letterbox padding in pixel units */
  InferInterp interp;
} CalibImageOptions;

/* The element's defaults: scale 1/255, mean 0, std 1, RGB, letterbox with
 * symmetric bands of 114, bilinear. */
void calib_image_options_defaults(CalibImageOptions *o);

typedef struct CalibDataset CalibDataset;

/* Scans dir (sorted by file name). A .pb tensor goes to the input it is
 * named after (or to the only input) and holds one sample (the input's
 * shape without the batch dim) or several (a leading dim of any size);
 * images (.ppm/.pgm/.pnm, .png, .jpg/.jpeg) go to the first image-like
 * input (rank 4, 1 or 3 channels); PNG / JPEG without GStreamer are an
 * error naming the file.
 * Samples are grouped into batches in file order; a last partial batch is
 * left out. Other files are skipped (counted in *skipped). */
InferStatus *calib_dataset_open(const char *dir, const CalibInputSpec *inputs, int n_inputs,
                                const CalibImageOptions *img, CalibDataset **out);
void calib_dataset_close(CalibDataset *d);
int calib_dataset_batches(const CalibDataset *d);
/* Lines describing what was found ("input 'x': 40 samples from 10 files"). */
void calib_dataset_describe(const CalibDataset *d, void (*line)(const char *, void *), void *user);
/* The calibrator reading the batches (with reset: two passes are possible). */
void calib_dataset_calibrator(CalibDataset *d, InferCalibrator *cal);
/* The first error met while reading a batch (the calibrator then reports
 * the end of the data); NULL if none. Owned by the dataset. */
const InferStatus *calib_dataset_error(const CalibDataset *d);

#endif
