/* The CUDA painter (kernels/cuda/cuda_overlay.h) against the CPU painter
 * (overlay_paint): random command lists (rectangles, outlines, text of
 * every character code, scales 1..4, thousands of commands so that tiles
 * hold more than one shared-memory chunk) painted on the host and on a
 * device copy of the same frame, every format, odd, tiny and 1080p sizes,
 * rows with padding: equal byte for byte, padding included. Also: an empty
 * list, and a list for another frame size (an error naming both). No
 * GStreamer; exits 77 without a CUDA device. */
#include <cuda_runtime_api.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/test_util.h"
#include "cuda_overlay.h"
#include "overlay_draw.h"

static const char *names[] = {"NV12", "I420", "RGBA", "BGRA", "RGBx", "BGRx", "RGB", "BGR",
                              "GRAY8"};
static const OverlayFormat formats[] = {
    OVERLAY_FORMAT_NV12, OVERLAY_FORMAT_I420, OVERLAY_FORMAT_RGBA, OVERLAY_FORMAT_BGRA,
    OVERLAY_FORMAT_RGBX, OVERLAY_FORMAT_BGRX, OVERLAY_FORMAT_RGB,  OVERLAY_FORMAT_BGR,
    OVERLAY_FORMAT_GRAY8};

static uint32_t rng = 777u;
static uint32_t next_rand(void) {
  rng ^= rng << 13, rng ^= rng >> 17, rng ^= rng << 5;
  return rng;
}
static int rand_in(int lo, int hi) { return lo + (int)(next_rand() % (uint32_t)(hi - lo + 1)); }

/* Bytes per row and rows of plane p of a w x h frame (0 rows: no plane). */
static int plane_rows(OverlayFormat f, int w, int h, int p, int *row_bytes) {
  int cw = (w + 1) / 2, ch = (h + 1) / 2;
  switch (f) {
    case OVERLAY_FORMAT_NV12: *row_bytes = p == 0 ? w : 2 * cw; return p == 0 ? h : p == 1 ? ch : 0;
    case OVERLAY_FORMAT_I420: *row_bytes = p == 0 ? w : cw; return p == 0 ? h : ch;
    default: *row_bytes = w * overlay_bytes_per_pixel(f); return p == 0 ? h : 0;
  }
}

static void random_commands(OverlayCommandList *l, int n) {
  for (int i = 0; i < n; i++) {
    OverlayRgb rgb = {(uint8_t)next_rand(), (uint8_t)next_rand(), (uint8_t)next_rand()};
    OverlayColor c = overlay_color(l->format, rgb);
    int w = l->width, h = l->height;
    int x0 = rand_in(-40, w + 10), y0 = rand_in(-40, h + 10);
    /* mostly small shapes, some large */
    int big = next_rand() % 8 == 0;
    int x1 = x0 + rand_in(-4, big ? w : 90), y1 = y0 + rand_in(-4, big ? h : 60);
    switch (next_rand() % 3) {
      case 0: overlay_fill_rect(l, x0, y0, x1, y1, c); break;
      case 1: overlay_draw_outline(l, x0, y0, x1, y1, rand_in(1, 8), c); break;
      default: {
        char text[40];
        int len = rand_in(1, 38);
        for (int k = 0; k < len; k++) text[k] = (char)rand_in(1, 255);
        text[len] = 0;
        overlay_draw_text(l, x0, y0, text, rand_in(1, 4), c);
      }
    }
  }
}

/* One frame, one list: host and device results, compared whole. */
static long paint_both(InferCudaOverlay *painter, OverlayFormat fmt, int w, int h, int n_cmds) {
  OverlayCommandList l;
  overlay_list_init(&l, fmt, w, h);
  random_commands(&l, n_cmds);
  OverlayImage host, dev;
  memset(&host, 0, sizeof host);
  host.format = fmt, host.width = w, host.height = h;
  size_t offs[3], total = 0;
  int pad = rand_in(0, 70);
  for (int p = 0; p < 3; p++) {
    int rb, rows = plane_rows(fmt, w, h, p, &rb);
    offs[p] = total;
    host.strides[p] = rows ? rb + pad : 0;
    total += (size_t)host.strides[p] * (size_t)rows;
  }
  uint8_t *a = malloc(total), *b = malloc(total), *d = NULL;
  for (size_t i = 0; i < total; i++) a[i] = (uint8_t)next_rand();
  CHECK(cudaMalloc((void **)&d, total) == cudaSuccess);
  CHECK(cudaMemcpy(d, a, total, cudaMemcpyHostToDevice) == cudaSuccess);
  dev = host;
  for (int p = 0; p < 3; p++) {
    host.planes[p] = host.strides[p] ? a + offs[p] : NULL;
    dev.planes[p] = host.strides[p] ? d + offs[p] : NULL;
  }
  overlay_paint(&l, &host);
  CHECK_OK(infer_cuda_overlay_paint(painter, &dev, &l));
  CHECK_OK(infer_cuda_overlay_wait(painter));
  CHECK(cudaMemcpy(b, d, total, cudaMemcpyDeviceToHost) == cudaSuccess);
  long diff = 0;
  for (size_t i = 0; i < total; i++) diff += a[i] != b[i];
  cudaFree(d);
  free(a);
  free(b);
  overlay_list_free(&l);
  return diff;
}

static void test_painter(void) {
  InferCudaOverlay *painter = NULL;
  CHECK_OK(infer_cuda_overlay_new(&painter));
  if (!painter) return;
  const int sizes[][3] = {{1920, 1080, 3000}, {161, 121, 300}, {1, 1, 20}, {67, 33, 500},
                          {640, 360, 60}};
  for (size_t f = 0; f < sizeof formats / sizeof *formats; f++)
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
      OverlayFormat fmt = formats[f];
      long diff = paint_both(painter, fmt, sizes[s][0], sizes[s][1], sizes[s][2]);
      if (diff)
        fprintf(stderr, "painter %s %dx%d (%d commands): %ld bytes differ\n", names[f],
                sizes[s][0], sizes[s][1], sizes[s][2], diff);
      CHECK(diff == 0);
    }
  /* an empty list and a list for another frame size */
  OverlayCommandList l;
  overlay_list_init(&l, OVERLAY_FORMAT_RGB, 8, 8);
  OverlayImage img = {OVERLAY_FORMAT_RGB, 8, 8, {(uint8_t *)1, NULL, NULL}, {24, 0, 0}};
  CHECK_OK(infer_cuda_overlay_paint(painter, &img, &l));
  img.width = 9;
  InferStatus *st = infer_cuda_overlay_paint(painter, &img, &l);
  CHECK(st && infer_status_code(st) == INFER_ERR_INVALID_ARGUMENT);
  infer_status_free(st);
  overlay_list_free(&l);
  infer_cuda_overlay_free(painter);
}

int main(void) {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) {
    printf("overlay_painter_cuda: skipped: no CUDA device\n");
    return 77;
  }
  test_painter();
  TEST_MAIN_END("overlay_painter_cuda");
}
