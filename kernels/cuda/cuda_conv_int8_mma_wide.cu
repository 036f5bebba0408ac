/* Tensor-core INT8 convolution, tile configurations 1 (128 x 64) and 3
 * (256 x 128): see cuda_conv_int8_mma.cuh. */
#include "cuda_conv_int8_mma.cuh"

extern "C" cudaError_t infer_cuda_conv_int8_mma_cfg1(const int8_t *x, const int8_t *w, void *y,
                                                     int y_i8, const InferCudaInt8ConvGeo *g,
                                                     const InferCudaInt8Epilogue *e, int staged,
                                                     void *stream) {
  return infer_i8mma::launch<128, 64, 2, 2, false>(x, w, y, y_i8, g, e, staged != 0, stream);
}

extern "C" cudaError_t infer_cuda_conv_int8_mma_cfg3(const int8_t *x, const int8_t *w, void *y,
                                                     int y_i8, const InferCudaInt8ConvGeo *g,
                                                     const InferCudaInt8Epilogue *e, int staged,
                                                     void *stream) {
  return infer_i8mma::launch<256, 128, 4, 2, false>(x, w, y, y_i8, g, e, staged != 0, stream);
}
