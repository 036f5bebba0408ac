/* Activation memory planning: tensors whose lifetimes do not overlap share
 * bytes of one arena.
 *
 * Liveness. Layers run in index order. A planned tensor is live from the
 * layer that produces it to the last layer that reads it, both ends
 * inclusive (a tensor nobody reads is live only at its producer). Two
 * tensors conflict when their intervals intersect: kernels are not
 * in-place, so the output of layer i never reuses the bytes of an input of
 * layer i. A planned tensor without a producer is live from layer 0.
 *
 * Placement. Tensors are placed one at a time, each at the best-fitting
 * (or the lowest) aligned gap between the already placed tensors it
 * conflicts with, or above the highest of them. Several orders are tried:
 * by size (the greedy-by-size of TFLite and others), by breadth (tensors of
 * the fullest layers first), by size x lifetime, by first use, by lifetime.
 * A local search then reorders the best one (moving the tensor that ends
 * highest earlier, other moves at random) while the arena does not grow.
 * It stops at the lower bound, after 2000 moves without gain, or when a
 * work budget (about 0.1 s) is spent. The random generator has a fixed
 * seed: the same input gives the same plan. Details in memory_plan.c.
 *
 * lower_bound is the largest sum of sizes of tensors live at one layer: no
 * plan can use less. The arena never exceeds the sum of the aligned sizes.
 *
 * Aliasing (concat elimination). A tensor may be placed inside another
 * one's bytes: a Concat input at its slice of the Concat's output, so that
 * its producer writes the concatenated result directly and the Concat has
 * nothing left to do. A group (an output and everything placed inside it,
 * nested Concats included) is planned as one block, live from the first
 * producer of any member to the last reader of any member. Which Concats
 * qualify: concat_elimination.c. */
#ifndef INFER_MEMORY_PLAN_H
#define INFER_MEMORY_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine_internal.h"

typedef struct InferMemoryPlan {
  int32_t n_tensors;
  int64_t *offset;      /* per tensor id: byte offset in the arena, -1 if the tensor is not
                         * planned (graph inputs, graph outputs, constants, tensors of layers
                         * that are not run); 0 for planned tensors of size 0 */
  size_t *size;         /* per tensor id: bytes (0 when not planned) */
  int32_t *first_use;   /* per tensor id: layer index interval of liveness (inclusive); */
  int32_t *last_use;    /* -1 for tensors that no layer produces or reads */
  size_t arena_bytes;   /* the arena size: the highest end, rounded up to the alignment */
  size_t lower_bound;   /* largest sum of sizes of simultaneously live planned tensors */
  size_t no_reuse_bytes; /* sum of the aligned sizes of planned tensors (one buffer each) */
  size_t alignment;     /* every offset is a multiple of it */
  /* concat elimination (NULL / 0 in plans without it) */
  int32_t *alias_of;    /* per tensor id: the tensor whose bytes hold it, or -1 */
  int32_t n_layers;     /* entries of in_place */
  bool *in_place;       /* per layer: a Concat whose inputs the plan put, in order, inside its
                         * output (executors copy only inputs found elsewhere at run time) */
  int32_t n_in_place;   /* how many layers in_place marks */
} InferMemoryPlan;

/* tensor_bytes: per tensor id, bytes needed (from shapes bound at the
 * maximum profile). planned: per tensor id, true for activations that need
 * arena space. alignment: a power of two or any other positive number (0
 * means 1). On error *out is left empty (safe to free). */
InferStatus *infer_memory_plan_build(const InferNetwork *net, const size_t *tensor_bytes,
                                     const bool *planned, size_t alignment,
                                     InferMemoryPlan *out);
void infer_memory_plan_free(InferMemoryPlan *plan);

/* The same with aliases: alias_of[t] >= 0 places planned tensor t at byte
 * alias_offset[t] of planned tensor alias_of[t] (which may itself be
 * aliased; no cycles); t must fit inside it and alias_offset[t] must be a
 * multiple of the alignment. Aliased tensors count neither towards the
 * lower bound nor towards no_reuse_bytes (their bytes are their host's). */
InferStatus *infer_memory_plan_build_aliased(const InferNetwork *net, const size_t *tensor_bytes,
                                             const bool *planned, const int32_t *alias_of,
                                             const size_t *alias_offset, size_t alignment,
                                             InferMemoryPlan *out);

/* Checks the plan against the network: every planned tensor's recorded
 * interval covers its real liveness, no two tensors whose intervals overlap
 * share bytes (unless one is placed inside the other by an alias), every
 * planned tensor fits in the arena (and an aliased one inside its host),
 * offsets are aligned, and every in_place Concat's inputs lie back to back
 * over its output. Returns an INFER_ERR_INTERNAL status naming the tensors
 * at fault. */
InferStatus *infer_memory_plan_verify(const InferNetwork *net, const InferMemoryPlan *plan);

/* For the runtime: sizes from a shape pass's views. Planned are the tensors
 * a layer of net produces that are not graph outputs and whose dtype the
 * pass knows (an absent optional output has none: not planned). A planned
 * tensor whose shape is still unknown is an error. */
InferStatus *infer_memory_plan_for_pass(const InferNetwork *net, const InferShapePass *pass,
                                        size_t alignment, InferMemoryPlan *out);

/* The same with concat elimination: Concats whose inputs can be written in
 * place (concat_elimination.c) get their inputs aliased into their output
 * and in_place set. Only for shapes that cannot change at run time:
 * fixed_inputs says the engine's profile fixes every input shape. */
InferStatus *infer_memory_plan_for_pass_eliminating_concats(const InferNetwork *net,
                                                            const InferShapePass *pass,
                                                            size_t alignment, bool fixed_inputs,
                                                            InferMemoryPlan *out);

/* ---- concat elimination (concat_elimination.c) ---- */

/* Picks the Concats to eliminate. In: planned and bytes per tensor (as the
 * planner gets them), the pass's views. Out (arrays the caller made, one
 * entry per tensor / layer): alias_of (-1 = none) and alias_offset for the
 * planner, in_place per layer. *n_picked counts the Concats. */
InferStatus *infer_concat_elimination_pick(const InferNetwork *net, const InferShapePass *pass,
                                           const bool *planned, const size_t *bytes,
                                           size_t alignment, int32_t *alias_of,
                                           size_t *alias_offset, bool *in_place,
                                           int32_t *n_picked);

/* For the executors, at a layer the plan marks in_place, once the call's
 * views are bound (inputs where they are, the output where it goes): true
 * when the run-time shapes still match (each input a contiguous byte range
 * of the output, back to back); offsets[k] then is input k's byte offset
 * in the output, and the layer is done once every input not already at
 * its offset is copied there. False: run the Concat kernel as usual. */
bool infer_concat_elided(const InferMemoryPlan *plan, int32_t layer, const InferOpCall *call,
                         size_t *offsets);

#endif
