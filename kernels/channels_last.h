/* Channels-last (NHWC) forms of Conv and Pool, for code written for
 * channels-first (NCHW): the optimizer's layout pass marks layers
 * `channels_last` on backends that run NHWC fastest; shape functions and
 * the CPU reference run such a layer by viewing it as its NCHW twin.
 *
 * The layout tensors of a layer are x (input 0), Conv's weights (input 1:
 * [C_out, kH, kW, C_in/g] <-> [C_out, C_in/g, kH, kW], the same permutation
 * as the activations) and Conv's fused residual (its last input). */
#ifndef INFER_CHANNELS_LAST_H
#define INFER_CHANNELS_LAST_H

#include <stdlib.h>
#include <string.h>

#include "kernel_call.h"

#ifdef __cplusplus
extern "C" {
#endif

static inline bool infer_call_channels_last(const InferOpCall *c) {
  return (c->op == INFER_OP_CONV && c->params->conv.channels_last) ||
         (c->op == INFER_OP_POOL && c->params->pool.channels_last);
}

static inline bool infer_channels_last_input(const InferOpCall *c, int i) {
  if (i == 0) return true;
  if (c->op != INFER_OP_CONV) return false;
  return i == 1 || (c->params->conv.has_residual && i == c->n_in - 1);
}

/* [N, s1, ..., C] -> [N, C, s1, ...] */
static inline InferShape infer_shape_to_channels_first(const InferShape *s) {
  InferShape r = *s;
  if (s->rank < 3) return r;
  r.d[1] = s->d[s->rank - 1];
  for (int i = 2; i < s->rank; i++) r.d[i] = s->d[i - 1];
  return r;
}

/* [N, C, s1, ...] -> [N, s1, ..., C] */
static inline InferShape infer_shape_to_channels_last(const InferShape *s) {
  InferShape r = *s;
  if (s->rank < 3) return r;
  for (int i = 1; i < s->rank - 1; i++) r.d[i] = s->d[i + 1];
  r.d[s->rank - 1] = s->d[1];
  return r;
}

/* Copies elements of `elem` bytes between the layouts of one tensor whose
 * channels-first shape is `cf`: to_last = true writes NHWC from NCHW. */
static inline void infer_copy_layout(void *dst, const void *src, const InferShape *cf,
                                     size_t elem, bool to_last) {
  int64_t n = cf->rank > 0 ? cf->d[0] : 1, ch = cf->rank > 1 ? cf->d[1] : 1, inner = 1;
  for (int i = 2; i < cf->rank; i++) inner *= cf->d[i];
  const char *s = (const char *)src;
  char *d = (char *)dst;
  for (int64_t b = 0; b < n; b++)
    for (int64_t c = 0; c < ch; c++)
      for (int64_t p = 0; p < inner; p++) {
        size_t first = (size_t)((b * ch + c) * inner + p), last = (size_t)((b * inner + p) * ch + c);
        memcpy(d + (to_last ? last : first) * elem, s + (to_last ? first : last) * elem, elem);
      }
}

#ifdef __cplusplus
}
#endif
#endif
