/* The optimizer's pass list and the loop that runs it.
 *
 * Order (each pass in its own file, pass_<name>.c):
 *   1. constant-folding     layers whose inputs are all constants become constants
 *   2. dead-code            layers no output needs are dropped
 *   3. identity-removal     Identity/Dropout, no-op Cast/Reshape, x+0, x*1, x^1 dropped
 *   4. batchnorm-folding    BatchNormalization (and per-channel Mul/Add) into Conv/Gemm/MatMul weights
 *   5. pattern-recognition  decomposed SiLU, GELU, LayerNorm, HardSwish, Softmax become one layer
 *   6. pad-folding          a zero Pad before Conv/Pool becomes the layer's padding
 *   7. reshape-merging      chains of Transpose/Reshape/Squeeze/Unsqueeze merged or removed
 *   8. canonical-forms      MatMul+Add -> Gemm, ReduceMean over H,W -> GlobalAveragePool, ...
 *   9. activation-fusion    Conv/Gemm + bias + activation, Conv + residual Add (+ activation)
 *  10. quantize             INT8 Conv/Gemm from Q/DQ layers or a calibration table
 *  11. pointwise-fusion     chains of elementwise layers become one POINTWISE layer (a program)
 *  12. horizontal-fusion    sibling 1x1 Convs / Gemms on one tensor become one wider layer
 *  13. channels-last        2-D Conv/Pool regions in NHWC on GPUs (Transposes at the borders)
 *  14. precision            FP16 layers where allowed and supported, Casts at region borders
 * Folding and pattern passes run before fusion so that fusion sees the
 * simplest graph; dead code is dropped early so later passes do less.
 * Quantization takes the fused layers (conv + bias + activation + residual
 * is one INT8 layer) and runs before horizontal fusion, which merges only
 * float siblings. Pointwise fusion takes what activation fusion and
 * quantization left: elementwise chains no Conv/Gemm absorbed. Layout and precision run last: they look at the fused layers (a fused conv + bias +
 * activation is one FP16 layer, not three) and its Casts would block fusion. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "passes.h"

static const InferPass passes[] = {
  {"constant-folding", "layers whose inputs are all constants become constants",
   infer_pass_constant_folding},
  {"dead-code", "layers that no output needs are removed", infer_pass_dead_code},
  {"identity-removal", "Identity, Dropout, no-op Cast/Reshape and x+0, x*1, x^1 removed",
   infer_pass_identity_removal},
  {"batchnorm-folding", "BatchNormalization and per-channel Mul/Add folded into weights",
   infer_pass_batchnorm_folding},
  {"pattern-recognition", "decomposed SiLU, GELU, LayerNorm, HardSwish, Softmax recognized",
   infer_pass_pattern_recognition},
  {"pad-folding", "a zero Pad before Conv/Pool folded into its padding", infer_pass_pad_folding},
  {"reshape-merging", "consecutive Transpose/Reshape/Squeeze/Unsqueeze merged or removed",
   infer_pass_reshape_merging},
  {"canonical-forms", "MatMul+Add to Gemm, spatial ReduceMean to GlobalAveragePool, ...",
   infer_pass_canonical_forms},
  {"activation-fusion", "Conv/Gemm + bias + activation and Conv + residual Add fused",
   infer_pass_activation_fusion},
  {"quantize", "INT8 Conv/Gemm from Q/DQ layers or a calibration table (where the backend "
   "has INT8 kernels)", infer_pass_quantize},
  {"pointwise-fusion", "chains of elementwise layers fused into one POINTWISE layer",
   infer_pass_pointwise_fusion},
  {"horizontal-fusion", "sibling 1x1 Convs/Gemms reading one tensor merged into one layer",
   infer_pass_horizontal_fusion},
  {"channels-last", "2-D Conv/Pool regions channels-last (NHWC) on GPUs, Transposes at borders",
   infer_pass_channels_last},
  {"precision", "FP16 layers where allowed and supported (GPU), Casts where regions meet",
   infer_pass_precision},
};

const InferPass *infer_passes(int *count) {
  *count = (int)(sizeof passes / sizeof passes[0]);
  return passes;
}

const InferPass *infer_pass_find(const char *name) {
  for (size_t i = 0; name && i < sizeof passes / sizeof passes[0]; i++)
    if (strcmp(passes[i].name, name) == 0) return &passes[i];
  return NULL;
}

const char *infer_optimizer_pass_name(int i) {
  return i >= 0 && i < (int)(sizeof passes / sizeof passes[0]) ? passes[i].name : NULL;
}

const char *infer_optimizer_pass_summary(int i) {
  return i >= 0 && i < (int)(sizeof passes / sizeof passes[0]) ? passes[i].summary : NULL;
}

InferStatus *infer_run_passes(const InferPassContext *ctx, InferNetwork **net) {
  for (size_t i = 0; i < sizeof passes / sizeof passes[0]; i++) {
    const InferPass *p = &passes[i];
    if (infer_build_config_pass_disabled(ctx->cfg, p->name)) {
      infer_build_log(ctx->cfg, "pass %s: disabled", p->name);
      continue;
    }
    InferNetwork *out = NULL;
    int changes = 0, before = (*net)->n_layers;
    InferStatus *st = p->run(ctx, *net, &out, &changes);
    if (st) {
      infer_network_release(out);
      return infer_status_prefix(st, "optimizer pass %s", p->name);
    }
    if (out) {
      infer_network_release(*net);
      *net = out;
    }
    infer_build_log(ctx->cfg, "pass %s: %d rewrites, layers %d -> %d", p->name, changes, before,
                    (*net)->n_layers);
  }
  return NULL;
}

InferStatus *infer_build_config_disable_pass(InferBuildConfig *cfg, const char *pass) {
  if (!pass || !infer_pass_find(pass)) {
    char names[1024] = "";
    for (int i = 0; infer_optimizer_pass_name(i); i++) {
      strncat(names, i ? ", " : "", sizeof names - strlen(names) - 1);
      strncat(names, infer_optimizer_pass_name(i), sizeof names - strlen(names) - 1);
    }
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "unknown optimizer pass '%s' (the passes are: %s)", pass ? pass : "",
                            names);
  }
  return infer_build_config_add_disabled_pass(cfg, pass);
}
