/* Tensor-core INT8 convolution, tile configurations 0 (128 x 128) and 2
 * (64 x 64, also in its byte-gather form): see cuda_conv_int8_mma.cuh. */
#include "cuda_conv_int8_mma.cuh"

extern "C" cudaError_t infer_cuda_conv_int8_mma_cfg0(const int8_t *x, const int8_t *w, void *y,
                                                     int y_i8, const InferCudaInt8ConvGeo *g,
                                                     const InferCudaInt8Epilogue *e, int staged,
                                                     void *stream) {
  return infer_i8mma::launch<128, 128, 2, 4, false>(x, w, y, y_i8, g, e, staged != 0, stream);
}

extern "C" cudaError_t infer_cuda_conv_int8_mma_cfg2(const int8_t *x, const int8_t *w, void *y,
                                                     int y_i8, const InferCudaInt8ConvGeo *g,
                                                     const InferCudaInt8Epilogue *e, int staged,
                                                     void *stream) {
  return infer_i8mma::launch<64, 64, 2, 2, true>(x, w, y, y_i8, g, e, staged != 0, stream);
}
