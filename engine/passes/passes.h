/* The graph optimizer: passes that rewrite an engine's network before it
 * runs, in a fixed, documented order (see pass_manager.c). Each pass takes
 * a network and returns a new one (or none when it changed nothing). */
#ifndef INFER_PASSES_H
#define INFER_PASSES_H

#include "engine_internal.h"
#include "rewrite.h"

typedef struct InferPassContext {
  InferBackendKind backend;        /* passes may prefer forms a backend runs best */
  const InferBuildConfig *cfg;     /* may be NULL */
} InferPassContext;

/* *out = NULL and *changes = 0 when the pass found nothing to do. */
typedef InferStatus *(*InferPassFn)(const InferPassContext *ctx, const InferNetwork *in,
                                    InferNetwork **out, int *changes);

typedef struct InferPass {
  const char *name;     /* as given to --disable-pass */
  const char *summary;  /* one line for logs and --help */
  InferPassFn run;
} InferPass;

/* The passes in the order they run. */
const InferPass *infer_passes(int *count);
const InferPass *infer_pass_find(const char *name);

/* Runs every enabled pass on *net (replacing it), logging one line per pass
 * through the config's log callback ("pass <name>: <n> rewrites, layers a -> b"). */
InferStatus *infer_run_passes(const InferPassContext *ctx, InferNetwork **net);

/* The passes, one file each (engine/passes/pass_<name>.c). */
InferStatus *infer_pass_constant_folding(const InferPassContext *, const InferNetwork *, InferNetwork **, int *);
InferStatus *infer_pass_dead_code(const InferPassContext *, const InferNetwork *, InferNetwork **, int *);
InferStatus *infer_pass_identity_removal(const InferPassContext *, const InferNetwork *, InferNetwork **, int *);
InferStatus *infer_pass_batchnorm_folding(const InferPassContext *, const InferNetwork *, InferNetwork **, int *);
InferStatus *infer_pass_pattern_recognition(const InferPassContext *, const InferNetwork *, InferNetwork **, int *);
InferStatus *infer_pass_pad_folding(const InferPassContext *, const InferNetwork *, InferNetwork **, int *);
InferStatus *infer_pass_reshape_merging(const InferPassContext *, const InferNetwork *, InferNetwork **, int *);
InferStatus *infer_pass_canonical_forms(const InferPassContext *, const InferNetwork *, InferNetwork **, int *);
InferStatus *infer_pass_activation_fusion(const InferPassContext *, const InferNetwork *, InferNetwork **, int *);
InferStatus *infer_pass_quantize(const InferPassContext *, const InferNetwork *, InferNetwork **, int *);
InferStatus *infer_pass_pointwise_fusion(const InferPassContext *, const InferNetwork *, InferNetwork **, int *);
InferStatus *infer_pass_horizontal_fusion(const InferPassContext *, const InferNetwork *, InferNetwork **, int *);
InferStatus *infer_pass_channels_last(const InferPassContext *, const InferNetwork *, InferNetwork **, int *);
InferStatus *infer_pass_precision(const InferPassContext *, const InferNetwork *, InferNetwork **, int *);

#endif
