/* The `infercalib` element: INT8 calibration from a live stream. Frames
 * pass through unchanged; every interval-th one (up to max-frames) is
 * preprocessed exactly as `infer` does and run through an FP32 engine that
 * reports every activation; at EOS (or at max-frames) the element writes the
 * calibration cache and, with engine-cache, the INT8 plan.
 *
 * How frames reach the calibration driver (infer_calibrate): a worker
 * thread runs the driver with a calibrator whose get_batch waits for the
 * next batch the streaming thread preprocessed. At most
 * GST_INFER_CALIB_QUEUED batches wait, so memory stays bounded whatever
 * max-frames is; the price is one pass (histogram ranges grow as batches
 * arrive, merging bins exactly) where a rewindable calibrator gets two. */
#ifndef GST_INFER_CALIB_H
#define GST_INFER_CALIB_H

#include <gst/base/gstbasetransform.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include "infer/calibration.h"
#include "infer_model.h"
#include "infer_model_properties.h"

G_BEGIN_DECLS

#define GST_TYPE_INFER_CALIB (gst_infer_calib_get_type())
G_DECLARE_FINAL_TYPE(GstInferCalib, gst_infer_calib, GST, INFER_CALIB, GstBaseTransform)

/* Full batches waiting for the worker before the streaming thread waits. */
#define GST_INFER_CALIB_QUEUED 2

struct _GstInferCalib {
  GstBaseTransform parent;

  /* property values (object lock) */
  GstInferModelSettings model;
  gchar *calibration_cache, *engine_cache;
  InferCalibAlgo algorithm;
  gdouble percentile;
  guint interval, max_frames, batch_size;

  /* from start to stop: a copy of the settings, the parsed network and its
   * input, the preprocessing of one batch item */
  GstInferModelSettings run;
  gchar *cache_path, *engine_path;
  InferCalibAlgo run_algorithm;
  gdouble run_percentile;
  guint run_interval, run_max_frames, run_batch_size;
  InferNetwork *net;
  InferModel *input;            /* no engine: the description of the input */
  InferPreprocessParams pp;
  gsize item_bytes;
  guint batch;                  /* frames per calibration batch */
  GThread *worker;

  /* streaming thread */
  GstVideoInfo info;
  gboolean have_info;
  guint64 frames_seen;
  guint64 frames_sampled;       /* taken for calibration (full batches or not) */
  guint8 *filling;              /* the batch being filled */
  guint filled;

  /* between the streaming thread and the worker (lock) */
  GMutex lock;
  GCond cond;
  GQueue ready;                 /* full batches (guint8 *) */
  guint8 *current;              /* the batch the driver is reading */
  guint64 batches_queued, batches_used;
  gboolean end;                 /* no more batches will come */
  guint64 seen_at_end, sampled_at_end; /* the frame counts then */
  gboolean abort;               /* stopping: results are not wanted */
  gboolean failed;              /* an error was posted */
  gboolean finished;            /* the worker is done */
};

G_END_DECLS
#endif
