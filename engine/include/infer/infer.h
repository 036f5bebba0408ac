/* The infer engine's public C API. */
#ifndef INFER_H
#define INFER_H

#include "infer/status.h"
#include "infer/types.h"
#include "infer/ops.h"
#include "infer/network.h"
#include "infer/engine.h"
#include "infer/onnx.h"
#include "infer/caffe.h"
#include "infer/calibration.h"
#include "infer/plugin.h"

#endif
