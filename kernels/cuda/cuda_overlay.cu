/* The inferoverlay painter on the GPU (see cuda_overlay.h; the command
 * semantics are in gst/overlay_draw.h).
 *
 * Commands paint over earlier ones, so a pixel's final value is the colour
 * of the last command that covers it. The host sorts the commands into
 * 32x32-pixel tiles (a command goes to every tile its bounding box meets,
 * in list order); one block per tile that any command touches walks the
 * tile's commands in order through shared memory, each thread keeping the
 * last colour of its 4 pixels (and of the chroma sample of an even pixel
 * in 4:2:0) and writing only the pixels some command covered. The commands
 * and the tile index travel in one upload; untouched tiles cost nothing. */
#include <cuda_runtime.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>

#include "cuda_overlay.h"

namespace {

constexpr int kTile = 32;       /* tile side in plane-0 pixels */
constexpr int kRowsPerPass = 8; /* block: 32 x 8 threads, 4 rows each */
constexpr int kPixels = kTile / kRowsPerPass;
constexpr int kChunk = 64;      /* commands staged in shared memory at a time */
constexpr int kWords = (int)(sizeof(OverlayCommand) / sizeof(int));
static_assert(sizeof(OverlayCommand) % sizeof(int) == 0, "commands are copied as words");
static_assert(alignof(OverlayCommand) == alignof(int), "commands are copied as words");

struct PaintArgs {
  uint8_t *planes[3];
  int strides[3];
  int format, width, height, bpp;
  const OverlayCommand *cmds;
  const int4 *tiles; /* tile x, tile y, first index, count */
  const int *index;  /* command numbers, per tile in list order */
};

__device__ __forceinline__ bool glyph_covers(const OverlayCommand &c, int x, int y) {
  if (c.scale == 0 || x < c.x0 || x >= c.x1 || y < c.y0 || y >= c.y1) return false;
  int col = (x - c.x0) / c.scale, row = (y - c.y0) / c.scale;
  return (c.rows[row] & (0x80u >> col)) != 0;
}

__device__ __forceinline__ uint32_t pack(const OverlayColor &c) {
  return (uint32_t)c.v[0] | (uint32_t)c.v[1] << 8 | (uint32_t)c.v[2] << 16 |
         (uint32_t)c.v[3] << 24;
}

__global__ void paint_kernel(PaintArgs a) {
  __shared__ OverlayCommand staged[kChunk];
  const int4 tile = a.tiles[blockIdx.x];
  const int x = tile.x * kTile + (int)threadIdx.x;
  const int y_first = tile.y * kTile + (int)threadIdx.y;
  const bool is_420 = a.format == OVERLAY_FORMAT_NV12 || a.format == OVERLAY_FORMAT_I420;
  /* the chroma sample (x / 2, y / 2) belongs to its even pixel */
  const bool owns_chroma = is_420 && (x & 1) == 0 && (y_first & 1) == 0;
  uint32_t colour[kPixels] = {0}, chroma[kPixels] = {0};
  unsigned painted = 0, chroma_painted = 0;
  const int tid = (int)(threadIdx.y * blockDim.x + threadIdx.x);
  const int n_threads = (int)(blockDim.x * blockDim.y);

  for (int base = 0; base < tile.w; base += kChunk) {
    const int m = min(kChunk, tile.w - base);
    __syncthreads(); /* the previous chunk is done with */
    for (int i = tid; i < m * kWords; i += n_threads) {
      const int *src = reinterpret_cast<const int *>(a.cmds + a.index[tile.z + base + i / kWords]);
      reinterpret_cast<int *>(staged)[i] = src[i % kWords];
    }
    __syncthreads();
    for (int j = 0; j < m; j++) {
      const OverlayCommand &c = staged[j];
      const uint32_t packed = pack(c.color);
#pragma unroll
      for (int k = 0; k < kPixels; k++) {
        const int y = y_first + k * kRowsPerPass;
        bool hit;
        if (c.kind == OVERLAY_CMD_RECT) {
          hit = x >= c.x0 && x < c.x1 && y >= c.y0 && y < c.y1;
          if (owns_chroma && c.cx0 < c.cx1) {
            const int cx = x >> 1, cy = y >> 1;
            if (cx >= c.cx0 && cx < c.cx1 && cy >= c.cy0 && cy < c.cy1) {
              chroma[k] = packed;
              chroma_painted |= 1u << k;
            }
          }
        } else {
          hit = glyph_covers(c, x, y);
        }
        if (hit) {
          colour[k] = packed;
          painted |= 1u << k;
        }
      }
    }
  }

  if (x >= a.width) return;
#pragma unroll
  for (int k = 0; k < kPixels; k++) {
    const int y = y_first + k * kRowsPerPass;
    if (y >= a.height) break;
    if (painted & (1u << k)) {
      uint8_t *p = a.planes[0] + (size_t)y * (size_t)a.strides[0] + (size_t)x * (size_t)a.bpp;
      for (int b = 0; b < a.bpp; b++) p[b] = (uint8_t)(colour[k] >> (8 * b));
    }
    if (chroma_painted & (1u << k)) {
      const size_t cx = (size_t)(x >> 1), cy = (size_t)(y >> 1);
      const uint8_t u = (uint8_t)(chroma[k] >> 8), v = (uint8_t)(chroma[k] >> 16);
      if (a.format == OVERLAY_FORMAT_NV12) {
        uint8_t *p = a.planes[1] + cy * (size_t)a.strides[1] + 2 * cx;
        p[0] = u, p[1] = v;
      } else {
        a.planes[1][cy * (size_t)a.strides[1] + cx] = u;
        a.planes[2][cy * (size_t)a.strides[2] + cx] = v;
      }
    }
  }
}

InferStatus *cuda_error(const char *what, cudaError_t err) {
  cudaGetLastError(); /* a non-sticky error must not surface in a later launch check */
  return infer_status_new(INFER_ERR_DEVICE, "overlay: %s failed: %s (%s)", what,
                          cudaGetErrorString(err), cudaGetErrorName(err));
}

/* Plane-0 pixels a command may change, clipped to the frame; false if none. */
bool command_bounds(const OverlayCommand &c, int w, int h, int b[4]) {
  b[0] = c.x0, b[1] = c.y0, b[2] = c.x1, b[3] = c.y1;
  if (c.kind == OVERLAY_CMD_RECT && c.cx0 < c.cx1 && c.cy0 < c.cy1) {
    b[0] = std::min(b[0], 2 * c.cx0), b[1] = std::min(b[1], 2 * c.cy0);
    b[2] = std::max(b[2], 2 * c.cx1), b[3] = std::max(b[3], 2 * c.cy1);
  }
  b[0] = std::max(b[0], 0), b[1] = std::max(b[1], 0);
  b[2] = std::min(b[2], w), b[3] = std::min(b[3], h);
  return b[0] < b[2] && b[1] < b[3];
}

/* Bytes per pixel of plane 0 (the luma plane of 4:2:0). */
int plane0_bpp(int format) {
  switch (format) {
    case OVERLAY_FORMAT_RGB:
    case OVERLAY_FORMAT_BGR: return 3;
    case OVERLAY_FORMAT_RGBA:
    case OVERLAY_FORMAT_BGRA:
    case OVERLAY_FORMAT_RGBX:
    case OVERLAY_FORMAT_BGRX: return 4;
    default: return 1;
  }
}

size_t align_up(size_t v) { return (v + 255) & ~(size_t)255; }

} /* namespace */

struct InferCudaOverlay {
  cudaStream_t stream;
  cudaEvent_t staged;  /* the last upload has left the pinned buffer */
  bool staged_pending;
  uint8_t *host;       /* pinned */
  uint8_t *dev;
  size_t host_bytes, dev_bytes;
  int *counts;         /* per tile, host scratch */
  size_t counts_len;
};

extern "C" {

InferStatus *infer_cuda_overlay_new(InferCudaOverlay **out) {
  *out = NULL;
  InferCudaOverlay *o = (InferCudaOverlay *)calloc(1, sizeof *o);
  if (!o) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "overlay: out of memory");
  /* non-blocking: no implicit order with the legacy default stream of others */
  cudaError_t err = cudaStreamCreateWithFlags(&o->stream, cudaStreamNonBlocking);
  if (err == cudaSuccess) err = cudaEventCreateWithFlags(&o->staged, cudaEventDisableTiming);
  if (err != cudaSuccess) {
    InferStatus *st = cuda_error("creating the drawing stream", err);
    infer_cuda_overlay_free(o);
    return st;
  }
  *out = o;
  return NULL;
}

void infer_cuda_overlay_free(InferCudaOverlay *o) {
  if (!o) return;
  if (o->stream) {
    cudaStreamSynchronize(o->stream);
    cudaStreamDestroy(o->stream);
  }
  if (o->staged) cudaEventDestroy(o->staged);
  if (o->host) cudaFreeHost(o->host);
  if (o->dev) cudaFree(o->dev);
  free(o->counts);
  free(o);
}

void *infer_cuda_overlay_stream(InferCudaOverlay *o) { return o ? (void *)o->stream : NULL; }

InferStatus *infer_cuda_overlay_wait(InferCudaOverlay *o) {
  cudaError_t err = cudaStreamSynchronize(o->stream);
  return err == cudaSuccess ? NULL : cuda_error("drawing on the GPU", err);
}

/* Room for `bytes` in the pinned and device buffers; growing the device
 * buffer waits for the kernels that may still read the old one. */
static InferStatus *reserve(InferCudaOverlay *o, size_t bytes) {
  if (o->staged_pending) {
    cudaError_t err = cudaEventSynchronize(o->staged);
    if (err != cudaSuccess) return cuda_error("waiting for the previous upload", err);
    o->staged_pending = false;
  }
  if (o->host_bytes < bytes) {
    if (o->host) cudaFreeHost(o->host);
    o->host = NULL;
    o->host_bytes = 0;
    cudaError_t err = cudaMallocHost((void **)&o->host, 2 * bytes);
    if (err != cudaSuccess) return cuda_error("allocating the command staging buffer", err);
    o->host_bytes = 2 * bytes;
  }
  if (o->dev_bytes < bytes) {
    cudaError_t err = cudaStreamSynchronize(o->stream);
    if (err != cudaSuccess) return cuda_error("drawing on the GPU", err);
    if (o->dev) cudaFree(o->dev);
    o->dev = NULL;
    o->dev_bytes = 0;
    err = cudaMalloc((void **)&o->dev, 2 * bytes);
    if (err != cudaSuccess) return cuda_error("allocating the command buffer", err);
    o->dev_bytes = 2 * bytes;
  }
  return NULL;
}

InferStatus *infer_cuda_overlay_paint(InferCudaOverlay *o, const OverlayImage *img,
                                      const OverlayCommandList *list) {
  if (img->format != list->format || img->width != list->width || img->height != list->height)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "overlay: the commands are for a %dx%d frame of format %d, the "
                            "frame is %dx%d of format %d",
                            list->width, list->height, (int)list->format, img->width,
                            img->height, (int)img->format);
  int n_planes = img->format == OVERLAY_FORMAT_I420 ? 3 : img->format == OVERLAY_FORMAT_NV12 ? 2 : 1;
  for (int p = 0; p < n_planes; p++)
    if (!img->planes[p] || img->strides[p] <= 0)
      return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "overlay: frame plane %d is missing",
                              p);
  if (list->n == 0 || img->width <= 0 || img->height <= 0) return NULL;

  const int w = img->width, h = img->height;
  const int tiles_x = (w + kTile - 1) / kTile, tiles_y = (h + kTile - 1) / kTile;
  const size_t n_tiles = (size_t)tiles_x * (size_t)tiles_y;
  if (o->counts_len < n_tiles) {
    int *c = (int *)realloc(o->counts, n_tiles * sizeof *c);
    if (!c) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "overlay: out of memory");
    o->counts = c;
    o->counts_len = n_tiles;
  }
  memset(o->counts, 0, n_tiles * sizeof *o->counts);
  /* pass 1: how many commands each tile gets */
  size_t n_refs = 0;
  for (int i = 0; i < list->n; i++) {
    int b[4];
    if (!command_bounds(list->cmds[i], w, h, b)) continue;
    for (int ty = b[1] / kTile; ty <= (b[3] - 1) / kTile; ty++)
      for (int tx = b[0] / kTile; tx <= (b[2] - 1) / kTile; tx++) {
        o->counts[(size_t)ty * tiles_x + tx]++;
        n_refs++;
      }
  }
  size_t n_busy = 0;
  for (size_t t = 0; t < n_tiles; t++) n_busy += o->counts[t] > 0;
  if (n_busy == 0) return NULL;
  if (n_refs > (size_t)0x7fffffff)
    return infer_status_new(INFER_ERR_UNSUPPORTED, "overlay: too many commands to draw");

  const size_t cmd_bytes = align_up((size_t)list->n * sizeof(OverlayCommand));
  const size_t tile_bytes = align_up(n_busy * sizeof(int4));
  const size_t total = cmd_bytes + tile_bytes + n_refs * sizeof(int);
  INFER_TRY(reserve(o, total));

  /* pass 2: the tile table (first index of each busy tile), then the index */
  memcpy(o->host, list->cmds, (size_t)list->n * sizeof(OverlayCommand));
  int4 *tiles = (int4 *)(o->host + cmd_bytes);
  int *index = (int *)(o->host + cmd_bytes + tile_bytes);
  size_t busy = 0;
  int next = 0;
  for (size_t t = 0; t < n_tiles; t++) {
    if (!o->counts[t]) continue;
    tiles[busy] = make_int4((int)(t % tiles_x), (int)(t / tiles_x), next, 0);
    next += o->counts[t];
    o->counts[t] = (int)busy++; /* from here on: the tile's row in the table */
  }
  for (int i = 0; i < list->n; i++) {
    int b[4];
    if (!command_bounds(list->cmds[i], w, h, b)) continue;
    for (int ty = b[1] / kTile; ty <= (b[3] - 1) / kTile; ty++)
      for (int tx = b[0] / kTile; tx <= (b[2] - 1) / kTile; tx++) {
        int4 *t = &tiles[o->counts[(size_t)ty * tiles_x + tx]];
        index[t->z + t->w++] = i;
      }
  }

  cudaError_t err = cudaMemcpyAsync(o->dev, o->host, total, cudaMemcpyHostToDevice, o->stream);
  if (err != cudaSuccess) return cuda_error("uploading the drawing commands", err);
  err = cudaEventRecord(o->staged, o->stream);
  if (err != cudaSuccess) return cuda_error("cudaEventRecord", err);
  o->staged_pending = true;

  PaintArgs a;
  for (int p = 0; p < 3; p++) {
    a.planes[p] = p < n_planes ? img->planes[p] : NULL;
    a.strides[p] = p < n_planes ? img->strides[p] : 0;
  }
  a.format = (int)img->format;
  a.width = w;
  a.height = h;
  a.bpp = plane0_bpp((int)img->format);
  a.cmds = (const OverlayCommand *)o->dev;
  a.tiles = (const int4 *)(o->dev + cmd_bytes);
  a.index = (const int *)(o->dev + cmd_bytes + tile_bytes);
  paint_kernel<<<(unsigned)n_busy, dim3(kTile, kRowsPerPass), 0, o->stream>>>(a);
  err = cudaGetLastError();
  return err == cudaSuccess ? NULL : cuda_error("launching the drawing kernel", err);
}

} /* extern "C" */
