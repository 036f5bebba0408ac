/* Private to the pattern-recognition pass (pass_pattern_recognition.c and
 * pass_patterns_norm.c): a recognized sub-graph and the helpers matchers
 * share. A match is a set of layers whose only result is the output of its
 * last layer (the root); every other output in the set has all its
 * consumers inside the set. The pass replaces the set by one layer emitted
 * at the root's position. */
#ifndef INFER_PASS_PATTERNS_H
#define INFER_PASS_PATTERNS_H

#include "rewrite.h"

#define PAT_MAX_LAYERS 24

typedef struct PatMatch {
  int32_t root;                    /* the last layer; its output is the result */
  int32_t n_layers;
  int32_t layers[PAT_MAX_LAYERS];  /* every layer of the match, root included */
  InferOp op;                      /* the replacement */
  InferOpParams params;
  InferTensorId x;                 /* its input (src tensor) */
  /* LAYERNORM: the width of the last axis and the src constants (or none) */
  int64_t width;
  InferTensorId scale, bias;
} PatMatch;

/* Matches anchored at layer l (the first layer of the pattern in the
 * order the matcher reads it); fill m and return true on success. */
bool pat_match_layernorm(const InferNetwork *net, const InferUses *u, int32_t l, PatMatch *m);
bool pat_match_softmax(const InferNetwork *net, const InferUses *u, int32_t l, PatMatch *m);

/* Whether layer l is op (and, for UNARY/BINARY/REDUCE, of kind; -1: any). */
bool pat_is(const InferNetwork *net, int32_t l, InferOp op, int kind);
/* The producer of t when it is op/kind, else -1. */
int32_t pat_producer(const InferNetwork *net, InferTensorId t, InferOp op, int kind);
/* The only consumer of t when it is op/kind (t not a graph output), else -1. */
int32_t pat_next(const InferNetwork *net, const InferUses *u, InferTensorId t, InferOp op,
                 int kind);
/* The other input of a two-input layer that reads t, else INFER_NO_TENSOR. */
InferTensorId pat_other(const InferLayer *layer, InferTensorId t);
/* An f32 constant tensor (data known, not produced, not an input). */
bool pat_const_f32(const InferNetwork *net, InferTensorId t);
/* An f32 constant with one element equal to want within 1e-6 relative. */
bool pat_scalar(const InferNetwork *net, InferTensorId t, double want);
/* The one axis of a constant i64 axes tensor of one element, normalized for
 * rank; false when absent or not of that form. */
bool pat_single_axis(const InferNetwork *net, InferTensorId t, int rank, int64_t *axis);
/* An f32 tensor whose rank is known. */
bool pat_f32(const InferNetwork *net, InferTensorId t);
/* Appends layer l to m (false when full or l < 0). */
bool pat_add(PatMatch *m, int32_t l);

#endif
