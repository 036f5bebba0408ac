/* The sample plugin's CUDA entry point (scaled_softsign.cu), called by its
 * enqueue (scaled_softsign.c). */
#ifndef SCALED_SOFTSIGN_H
#define SCALED_SOFTSIGN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* y = alpha * x / (1 + |x|) over n elements (f16 when half, else f32),
 * queued on `stream`; returns the cudaError_t of the launch (0: success)
 * and its name through *error. */
int scaled_softsign_cuda(const void *x, void *y, int64_t n, float alpha, int half, void *stream,
                         const char **error);

#ifdef __cplusplus
}
#endif
#endif
