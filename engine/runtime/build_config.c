/* The builder configuration: backend, precisions, optimization profiles,
 * workspace, timing cache, optimization level and progress reporting. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "infer/calibration.h"

InferStatus *infer_build_config_create(InferBuildConfig **out) {
  *out = calloc(1, sizeof **out);
  if (!*out) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "build config: out of memory");
  (*out)->precisions = INFER_PRECISION_FP32;
  (*out)->optimization_level = 3;
  return NULL;
}

void infer_build_config_release(InferBuildConfig *cfg) {
  if (!cfg) return;
  for (int i = 0; i < cfg->n_profiles; i++) free(cfg->profiles[i].name);
  for (int i = 0; i < cfg->n_layer_precisions; i++) free(cfg->layer_precisions[i].layer);
  free(cfg->profiles);
  free(cfg->layer_precisions);
  free(cfg->timing_cache);
  for (int i = 0; i < cfg->n_disabled_passes; i++) free(cfg->disabled_passes[i]);
  free(cfg->disabled_passes);
  infer_calib_table_release(cfg->calib);
  free(cfg);
}

void infer_build_config_set_backend(InferBuildConfig *cfg, InferBackendKind backend) {
  cfg->backend = backend;
}

void infer_build_config_set_precisions(InferBuildConfig *cfg, unsigned flags) {
  cfg->precisions = (flags & INFER_PRECISION_BEST) | INFER_PRECISION_FP32;
}

unsigned infer_build_config_precisions(const InferBuildConfig *cfg) { return cfg->precisions; }

void infer_build_config_set_tf32(InferBuildConfig *cfg, bool allow) { cfg->no_tf32 = !allow; }

void infer_build_config_set_int8_exact(InferBuildConfig *cfg, bool exact) {
  cfg->int8_exact = exact;
}

InferStatus *infer_build_config_set_layer_precision(InferBuildConfig *cfg, const char *layer,
                                                    InferPrecision precision) {
  if (!layer || !*layer)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "layer precision: no layer name given");
  if (precision != INFER_PREC_FP32 && precision != INFER_PREC_FP16 && precision != INFER_PREC_INT8)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "layer '%s': unknown precision %d", layer,
                            (int)precision);
  for (int i = 0; i < cfg->n_layer_precisions; i++)
    if (strcmp(cfg->layer_precisions[i].layer, layer) == 0) {
      cfg->layer_precisions[i].precision = precision;
      return NULL;
    }
  InferLayerPrecision *grown = realloc(cfg->layer_precisions,
                                       sizeof *grown * (size_t)(cfg->n_layer_precisions + 1));
  char *copy = strdup(layer);
  if (!grown || !copy) {
    free(copy);
    if (grown) cfg->layer_precisions = grown;
    return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "build config: out of memory");
  }
  cfg->layer_precisions = grown;
  grown[cfg->n_layer_precisions].layer = copy;
  grown[cfg->n_layer_precisions++].precision = precision;
  return NULL;
}

const InferInputProfile *infer_build_config_profile(const InferBuildConfig *cfg, const char *input) {
  for (int i = 0; cfg && i < cfg->n_profiles; i++)
    if (strcmp(cfg->profiles[i].name, input) == 0) return &cfg->profiles[i];
  return NULL;
}

InferStatus *infer_build_config_set_input_range(InferBuildConfig *cfg, const char *input,
                                                const InferShape *min, const InferShape *opt,
                                                const InferShape *max) {
  if (!input || !min || !opt || !max)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "input range: missing argument");
  if (min->rank != opt->rank || opt->rank != max->rank)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "input '%s': min, opt and max shapes have different ranks", input);
  InferInputProfile *p = (InferInputProfile *)infer_build_config_profile(cfg, input);
  if (!p) {
    InferInputProfile *grown = realloc(cfg->profiles, sizeof *grown * (size_t)(cfg->n_profiles + 1));
    char *copy = strdup(input);
    if (!grown || !copy) {
      free(copy);
      if (grown) cfg->profiles = grown;
      return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "build config: out of memory");
    }
    cfg->profiles = grown;
    p = &grown[cfg->n_profiles++];
    p->name = copy;
  }
  p->min = *min;
  p->opt = *opt;
  p->max = *max;
  return NULL;
}

InferStatus *infer_build_config_set_input_shape(InferBuildConfig *cfg, const char *input,
                                                const InferShape *shape) {
  return infer_build_config_set_input_range(cfg, input, shape, shape, shape);
}

void infer_build_config_set_workspace_limit(InferBuildConfig *cfg, size_t bytes) {
  cfg->workspace_limit = bytes;
}

InferStatus *infer_build_config_set_timing_cache(InferBuildConfig *cfg, const char *path) {
  char *copy = path ? strdup(path) : NULL;
  if (path && !copy) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "build config: out of memory");
  free(cfg->timing_cache);
  cfg->timing_cache = copy;
  return NULL;
}

void infer_build_config_set_optimization_level(InferBuildConfig *cfg, int level) {
  cfg->optimization_level = level < 0 ? 0 : (level > 5 ? 5 : level);
}

void infer_build_config_set_progress(InferBuildConfig *cfg, InferBuildProgressFn fn, void *user) {
  cfg->progress = fn;
  cfg->progress_user = user;
}

InferStatus *infer_build_progress(const InferBuildConfig *cfg, const char *phase, int done, int total) {
  if (!cfg || !cfg->progress) return NULL;
  if (!cfg->progress(phase, done, total, cfg->progress_user))
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "build cancelled during %s", phase);
  return NULL;
}

bool infer_build_config_pass_disabled(const InferBuildConfig *cfg, const char *pass) {
  if (!cfg) return false;
  /* level 0 turns the optimizer off; precision choice is not an optimization */
  if (cfg->optimization_level == 0 && strcmp(pass, "precision") != 0) return true;
  for (int i = 0; i < cfg->n_disabled_passes; i++)
    if (strcmp(cfg->disabled_passes[i], pass) == 0) return true;
  return false;
}

void infer_build_config_set_log(InferBuildConfig *cfg, InferLogFn fn, void *user) {
  cfg->log = fn;
  cfg->log_user = user;
}

void infer_build_log(const InferBuildConfig *cfg, const char *fmt, ...) {
  if (!cfg || !cfg->log) return;
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  cfg->log(line, cfg->log_user);
}

InferStatus *infer_build_config_add_disabled_pass(InferBuildConfig *cfg, const char *pass) {
  char **grown = realloc(cfg->disabled_passes, sizeof *grown * (size_t)(cfg->n_disabled_passes + 1));
  char *copy = strdup(pass);
  if (!grown || !copy) {
    free(copy);
    if (grown) cfg->disabled_passes = grown;
    return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "build config: out of memory");
  }
  cfg->disabled_passes = grown;
  grown[cfg->n_disabled_passes++] = copy;
  return NULL;
}

/* ---- INT8 calibration ------------------------------------------------------ */

InferStatus *infer_build_config_set_calibration_table(InferBuildConfig *cfg,
                                                      const InferCalibTable *table) {
  InferCalibTable *copy = NULL;
  if (table) {
    const char *calibrator = infer_calib_table_calibrator(table);
    if (!calibrator || !*calibrator) calibrator = "Calibration";
    INFER_TRY(infer_calib_table_create(calibrator, &copy));
    for (int i = 0; i < infer_calib_table_count(table); i++) {
      InferStatus *st = infer_calib_table_set(copy, infer_calib_table_name(table, i),
                                              infer_calib_table_scale(table, i));
      if (st) {
        infer_calib_table_release(copy);
        return st;
      }
    }
  }
  infer_calib_table_release(cfg->calib);
  cfg->calib = copy;
  return NULL;
}

InferStatus *infer_build_config_set_calibration_cache(InferBuildConfig *cfg, const char *path) {
  if (!path || !*path)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "calibration cache: no file name given");
  InferCalibTable *table = NULL;
  INFER_TRY(infer_calib_table_read_cache(path, &table));
  infer_calib_table_release(cfg->calib);
  cfg->calib = table;
  return NULL;
}

const InferCalibTable *infer_build_config_calibration_table(const InferBuildConfig *cfg) {
  return cfg ? cfg->calib : NULL;
}
