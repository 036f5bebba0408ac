/* Channel vectors for the channels-last kernels (pooling, depthwise
 * convolution, the epilogue pass): a thread handles N adjacent channels of
 * one position with one load and one store, 16 bytes where the channel
 * count and the pointers allow, else pairs, else single elements. Memory-
 * bound layers read at memory speed this way; one element per thread with
 * 64-bit index arithmetic ran 5-20x slower on the H200. CUDA C++ only. */
#ifndef INFER_CUDA_CHANNEL_VEC_CUH
#define INFER_CUDA_CHANNEL_VEC_CUH

#include <stdint.h>

/* Aligned to its size (up to 16 bytes): without alignas the compiler may
 * only assume T's alignment and splits every access into scalar loads,
 * which left these kernels far below memory speed in f16. Callers check
 * the pointers (infer_channel_vec_width). */
template <typename T, int N>
struct alignas(sizeof(T) * N < 16 ? sizeof(T) * N : 16) InferChannelVec {
  T v[N];
};

/* The widest vector (in elements) that `channels` and every pointer OR-ed
 * into `pointers` keep aligned: 16 bytes' worth, 2 or 1. */
template <typename T>
static inline int infer_channel_vec_width(int64_t channels, uintptr_t pointers) {
  const int wide = (int)(16 / sizeof(T));
  if (channels % wide == 0 && pointers % 16 == 0) return wide;
  if (channels % 2 == 0 && pointers % (2 * sizeof(T)) == 0) return 2;
  return 1;
}

/* Index arithmetic in 32 bits when every index of `elements` fits, with
 * room for a grid-stride loop's last step (infer_cuda_blocks caps a grid
 * at 2^20 blocks of 256 threads: a stride of at most 2^28). */
static inline bool infer_fits_int32(int64_t elements) {
  return elements <= ((int64_t)1 << 31) - ((int64_t)1 << 28) - 1;
}

#endif
