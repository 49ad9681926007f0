/*===- transpose16.h - 16 x 16 float transpose in AVX-512 registers -*- C -*-===//
 *
 * X^T and the GEMM's output tiles (gemm_avx512.c). (Tried for the
 * activation-table GEMV's 16 rows' group parameters in place of its
 * gathers: 128 shuffles per tile and panel cost more than the 8 gathers
 * at group 128.)
 *
 *===----------------------------------------------------------------------===*/

#ifndef SQUANT_RUNTIME_TRANSPOSE16_H
#define SQUANT_RUNTIME_TRANSPOSE16_H

#include <immintrin.h>

/* r[i] = column i of the 16 x 16 block whose rows r held: 64 shuffles. */
static inline __attribute__((always_inline)) void squantTranspose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  /* Lane L of r[4i + j]: rows 4i .. 4i + 3 of column 4L + j. */
  for (int i = 0; i < 4; ++i) {
    r[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
    r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
    r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
    r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
  }
  for (int j = 0; j < 4; ++j) {
    __m512 even01 = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x88);
    __m512 odd01 = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xDD);
    __m512 even23 = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x88);
    __m512 odd23 = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xDD);
    t[j] = _mm512_shuffle_f32x4(even01, even23, 0x88);
    t[4 + j] = _mm512_shuffle_f32x4(odd01, odd23, 0x88);
    t[8 + j] = _mm512_shuffle_f32x4(even01, even23, 0xDD);
    t[12 + j] = _mm512_shuffle_f32x4(odd01, odd23, 0xDD);
  }
  for (int i = 0; i < 16; ++i)
    r[i] = t[i];
}

#endif /* SQUANT_RUNTIME_TRANSPOSE16_H */
