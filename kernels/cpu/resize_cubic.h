/* The cubic convolution weights of Resize (Keys' kernel with coefficient
 * a; ONNX's cubic_coeff_a), for the 4 taps around a source coordinate
 * whose fractional part is r. One definition for the CPU reference and the
 * CUDA kernel, so both weigh the taps identically. */
#ifndef INFER_RESIZE_CUBIC_H
#define INFER_RESIZE_CUBIC_H

#ifdef __CUDACC__
#define INFER_RESIZE_FN static __host__ __device__ inline
#else
#define INFER_RESIZE_FN static inline
#endif

INFER_RESIZE_FN void infer_resize_cubic_weights(double r, double a, double *w) {
  double s = 1.0 - r;
  w[0] = ((a * (r + 1.0) - 5.0 * a) * (r + 1.0) + 8.0 * a) * (r + 1.0) - 4.0 * a;
  w[1] = ((a + 2.0) * r - (a + 3.0)) * r * r + 1.0;
  w[2] = ((a + 2.0) * s - (a + 3.0)) * s * s + 1.0;
  w[3] = ((a * (s + 1.0) - 5.0 * a) * (s + 1.0) + 8.0 * a) * (s + 1.0) - 4.0 * a;
}

#endif
