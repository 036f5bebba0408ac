/* Rewriting a network into a new one, layer by layer: the way every
 * optimizer pass changes a graph. A pass walks the source layers in order
 * and, for each, either copies it, emits a replacement (a fused layer, a
 * folded constant), or drops it and aliases its output to another tensor.
 * Tensor names of the source are kept wherever a tensor survives, so graph
 * inputs and outputs keep their names. */
#ifndef INFER_REWRITE_H
#define INFER_REWRITE_H

#include "network_internal.h"

/* Who reads each tensor of a network. */
typedef struct InferUses {
  int32_t n_tensors;
  int32_t *count;        /* consumers per tensor (a layer reading it twice counts twice) */
  int32_t **layers;      /* per tensor: consumer layer indices */
  int32_t **slots;       /* per tensor: the input index in that layer */
  bool *is_output;       /* graph outputs */
} InferUses;

InferStatus *infer_uses_build(const InferNetwork *net, InferUses *out);
void infer_uses_free(InferUses *u);
/* The only consumer of t (and it is not a graph output), else -1. */
int32_t infer_uses_single_consumer(const InferUses *u, InferTensorId t);

typedef struct InferRewrite {
  const InferNetwork *src;
  InferNetwork *dst;
  InferTensorId *map;    /* src tensor -> dst tensor, INFER_NO_TENSOR until mapped */
  bool *done;            /* src layer handled (copied, replaced or dropped) */
  int changes;           /* what the pass counts as rewrites (for its log line) */
} InferRewrite;

/* Starts dst with the src's inputs (names, dtypes, shapes, dim names). */
InferStatus *infer_rewrite_begin(InferRewrite *rw, const InferNetwork *src);
/* The dst tensor for a src tensor; constants are copied on first use.
 * INFER_NO_TENSOR maps to itself. Errors when t has no dst tensor yet. */
InferStatus *infer_rewrite_get(InferRewrite *rw, InferTensorId t, InferTensorId *out);
/* Copies src layer l unchanged (inputs mapped; outputs keep their names). */
InferStatus *infer_rewrite_copy(InferRewrite *rw, int32_t l);
/* Emits a layer whose inputs are dst tensors and whose outputs take the
 * names of the src tensors `src_outputs` (which then map to them). */
InferStatus *infer_rewrite_emit(InferRewrite *rw, const char *name, InferOp op,
                                const InferOpParams *params, int n_in,
                                const InferTensorId *dst_inputs, int n_out,
                                const InferTensorId *src_outputs);
/* A new dst constant (e.g. folded weights) named after `base` (made unique). */
InferStatus *infer_rewrite_constant(InferRewrite *rw, const char *base, InferDType dtype,
                                    const InferShape *shape, const void *data,
                                    InferTensorId *out);
/* A name `base` + `suffix` for a new dst tensor that no src or dst tensor
 * has (malloc'ed; NULL when out of memory). */
char *infer_rewrite_fresh_name(InferRewrite *rw, const char *base, const char *suffix);

/* Declares that src tensor t is the same value as dst tensor `same`
 * (the layer producing t was dropped). */
void infer_rewrite_alias(InferRewrite *rw, InferTensorId t, InferTensorId same);
/* Copies every layer not yet done, in order (for passes that only touch a
 * few layers: mark done what you replaced, then call this at the end). */
InferStatus *infer_rewrite_copy_rest(InferRewrite *rw);
/* Marks outputs (a graph output aliased to a tensor of another name gets an
 * identity layer so its name survives) and hands over dst. */
InferStatus *infer_rewrite_finish(InferRewrite *rw, InferNetwork **out);
/* Frees everything, dst too unless finish handed it over. */
void infer_rewrite_free(InferRewrite *rw);

#endif
