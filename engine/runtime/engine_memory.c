/* The engine's activation memory plan: computed once, at the profile's max
 * shapes, the first time a context needs it; with concat elimination where
 * the profile fixes the input shapes (concat_elimination.c). */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "memory_plan.h"

#define ARENA_ALIGNMENT 256

static pthread_mutex_t plan_lock = PTHREAD_MUTEX_INITIALIZER;

static bool max_shapes_bounded(const InferEngine *e) {
  for (int32_t i = 0; i < e->n_inputs; i++)
    for (int d = 0; d < e->input_max_shapes[i].rank; d++)
      if (e->input_max_shapes[i].d[d] >= INT32_MAX) return false;
  return true;
}

/* Every input's shape is fixed by the profile (min = max): then no planned
 * shape changes between runs, which concat elimination needs (an input's
 * slice of a Concat is fixed when the plan is made). */
static bool fixed_inputs(const InferEngine *e) {
  if (!e->input_min_shapes) return false;
  for (int32_t i = 0; i < e->n_inputs; i++)
    if (!infer_shape_equal(&e->input_min_shapes[i], &e->input_max_shapes[i])) return false;
  return true;
}

static InferStatus *compute(InferEngine *e) {
  if (!e->input_max_shapes || !max_shapes_bounded(e)) return NULL;
  InferShapePass pass;
  INFER_TRY(infer_shape_pass_init(&pass, e->net));
  InferShapePassOptions opt = {e->input_max_shapes, true, 4096, 0, false, true};
  InferStatus *st = infer_shape_pass_run(&pass, &opt);
  InferMemoryPlan *plan = calloc(1, sizeof *plan);
  if (!st && !plan) st = infer_status_new(INFER_ERR_OUT_OF_MEMORY, "memory plan: out of memory");
  if (!st)
    st = infer_memory_plan_for_pass_eliminating_concats(e->net, &pass, ARENA_ALIGNMENT,
                                                        fixed_inputs(e), plan);
  infer_shape_pass_free(&pass);
  if (st) {
    free(plan);
    return st;
  }
  e->mem_plan = plan;
  return NULL;
}

InferStatus *infer_engine_memory_plan(InferEngine *e, const InferMemoryPlan **out) {
  InferStatus *st = NULL;
  pthread_mutex_lock(&plan_lock);
  if (!e->mem_plan_done) {
    st = compute(e);
    e->mem_plan_done = st == NULL;
  }
  *out = e->mem_plan;
  pthread_mutex_unlock(&plan_lock);
  return st;
}

void infer_engine_free_memory_plan(InferEngine *e) {
  if (e->mem_plan) {
    infer_memory_plan_free(e->mem_plan);
    free(e->mem_plan);
  }
  e->mem_plan = NULL;
  e->mem_plan_done = false;
}

InferStatus *infer_engine_activation_bytes(InferEngine *e, size_t *peak, size_t *lower_bound) {
  const InferMemoryPlan *plan = NULL;
  INFER_TRY(infer_engine_memory_plan(e, &plan));
  *peak = plan ? plan->arena_bytes : 0;
  *lower_bound = plan ? plan->lower_bound : 0;
  return NULL;
}
