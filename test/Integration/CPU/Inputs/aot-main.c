// The C side of aot.mlir (test/Integration/CPU and test/Tools/squant-run):
// calls the compiled @layer through its C interface (_mlir_ciface_layer,
// memref descriptors) and checks every output. With SQUANT_RUN_HEADER the
// declarations come from the header `squant-run --emit-header` wrote.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef SQUANT_RUN_HEADER
#include "layer.h"
typedef squant_memref_2d_f32 MemRef2D;
#else
typedef struct {
  float *allocated, *aligned;
  int64_t offset, sizes[2], strides[2];
} MemRef2D;

void _mlir_ciface_layer(MemRef2D *result, MemRef2D *x);
#endif

int main(void) {
  enum { M = 2, N = 3, K = 32, G = 16 };
  const float s[N][2] = {{0.5f, 0.25f}, {1.0f, 0.5f}, {0.125f, 2.0f}};
  const float b[N][2] = {{-4.0f, -2.0f}, {-8.0f, 1.0f}, {0.0f, -16.0f}};
  float x[M][K];
  for (int m = 0; m < M; ++m)
    for (int k = 0; k < K; ++k)
      x[m][k] = (float)((m * 5 + k * 11) % 7 - 3);
  MemRef2D in = {&x[0][0], &x[0][0], 0, {M, K}, {K, 1}}, out;
  _mlir_ciface_layer(&out, &in);
  int mismatches = 0;
  double last = 0;
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n) {
      double expected = 0;
      for (int k = 0; k < K; ++k)
        expected += x[m][k] * ((double)((7 * n + 3 * k) % 16) * s[n][k / G] + b[n][k / G]);
      double got = out.aligned[out.offset + m * out.strides[0] + n];
      if (got != expected) {
        printf("y[%d][%d] = %g, expected %g\n", m, n, got, expected);
        ++mismatches;
      }
      last = got;
    }
  printf("aot: %dx%d outputs, %d mismatches\n", M, N, mismatches);
  printf("y[1][2] = %g\n", last);
  free(out.allocated);
  return mismatches != 0;
}
