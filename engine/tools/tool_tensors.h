/* Helpers shared by the command-line tools: running an engine on host
 * tensors, comparing and printing tensors. */
#ifndef INFER_TOOL_TENSORS_H
#define INFER_TOOL_TENSORS_H

#include <stdio.h>

#include "infer/infer.h"

typedef struct ToolTensor {
  char *name;
  InferTensorView view; /* data malloc'ed */
} ToolTensor;

void tool_tensors_free(ToolTensor *t, int n);

/* Runs the engine once with the given inputs (matched by name) and returns
 * copies of every output, in the engine's output order. */
InferStatus *tool_run(InferEngine *engine, const ToolTensor *inputs, int n_inputs,
                      ToolTensor **outputs, int *n_outputs);

/* Random inputs for every engine input (dynamic dims as in `shapes`, which
 * may be NULL: the built shape then). Floats in [-1, 1), integers in [0, 4). */
InferStatus *tool_random_inputs(InferEngine *engine, unsigned seed, ToolTensor **inputs, int *n);

/* Compares with |a-e| <= atol + rtol*|e| (exact for integers and bool).
 * Returns true when equal; `why` gets the first difference. */
bool tool_compare(const InferTensorView *expected, const InferTensorView *actual, double rtol,
                  double atol, char *why, size_t why_size);

/* Largest absolute and relative differences (for reports). */
void tool_max_errors(const InferTensorView *expected, const InferTensorView *actual,
                     double *max_abs, double *max_rel);

void tool_print_tensor(FILE *f, const char *name, const InferTensorView *v, int max_values);

#endif
