/*===- amx_int8_split.h - fp32 activations as int8 parts, per group -*- C
 *-*-===//
 *
 * The two steps both AMX-INT8 kernels (gemm_amx_int8.c for M = 2..32,
 * gemv_amx_int8.c for M = 1) split a group of one activation row with
 * (kernels.h describes the parts): the group scaled into a residual, then
 * one part at a time peeled off it. Compiled with AVX-512 (F, BW).
 *
 *===----------------------------------------------------------------------===*/

#ifndef SQUANT_RUNTIME_AMX_INT8_SPLIT_H
#define SQUANT_RUNTIME_AMX_INT8_SPLIT_H

#include "amx_tiles.h"

/* 2^e for e in [-149, 127]. */
static inline float squantPow2(int32_t e) {
  uint32_t bits = e >= -126 ? (uint32_t)(e + 127) << 23 : 1u << (e + 149);
  float f;
  memcpy(&f, &bits, sizeof(f));
  return f;
}

/* residual[0..gs) = x[0..gs) * up (gs a multiple of 16; up a power of two,
 * exact; residual NULL: not written); *sum = their fp32 sum (lane by lane,
 * then the lanes reduced). Returns the bits of the largest magnitude (0:
 * all zero), or UINT32_MAX where a value is not finite. */
static inline uint32_t squantScaleGroup(const float *x, int64_t gs, float up,
                                        float *residual, float *sum) {
  const __m512i magnitude = _mm512_set1_epi32(0x7FFFFFFF);
  const __m512i exponent = _mm512_set1_epi32(0x7F800000);
  __m512 vup = _mm512_set1_ps(up), total = _mm512_setzero_ps();
  __m512i largest = _mm512_setzero_si512();
  __mmask16 nonFinite = 0;
  for (int64_t c = 0; c < gs; c += 16) {
    __m512 v = _mm512_mul_ps(_mm512_loadu_ps(x + c), vup);
    __m512i bits = _mm512_castps_si512(v);
    nonFinite |=
        _mm512_cmpeq_epi32_mask(_mm512_and_si512(bits, exponent), exponent);
    if (residual)
      _mm512_storeu_ps(residual + c, v);
    total = _mm512_add_ps(total, v);
    largest = _mm512_max_epu32(largest, _mm512_and_si512(bits, magnitude));
  }
  if (nonFinite)
    return UINT32_MAX;
  *sum = _mm512_reduce_add_ps(total);
  return (uint32_t)_mm512_reduce_max_epu32(largest);
}

/* The unit exponent e of the next part of a residual whose largest
 * magnitude has the bits `top`, so that the part's values fit |q| <= 127.
 * Returns 0 where nothing is left to peel: top is zero, or what is left
 * lies below the unit of fp32's smallest subnormal (it is dropped). */
static inline int squantNextPartExponent(uint32_t top, int32_t *e) {
  if (top == 0)
    return 0;
  *e = squantFloorLog2(top) - 6;
  return *e >= -149;
}

/* 2^-e (e >= -149) as two factors (the second 1 unless 2^-e is past
 * 2^127) and 2^e, for squantPeelVector. */
typedef struct {
  __m512 down1, down2, unit;
} SquantPartUnit;

static inline SquantPartUnit squantPartUnit(int32_t e) {
  SquantPartUnit u = {_mm512_set1_ps(squantPow2(-e > 127 ? 127 : -e)),
                      _mm512_set1_ps(squantPow2(-e > 127 ? -e - 127 : 0)),
                      _mm512_set1_ps(squantPow2(e))};
  return u;
}

/* The part of unit 2^e off the 16 values at r (every |value| < 2^(e + 7)):
 * returns q = each value times 2^-e truncated (|q| <= 127), leaves value -
 * q 2^e (exact) at r, and folds the bits of their magnitudes into
 * *largest. */
static inline __m512i squantPeelVector(float *r, const SquantPartUnit *u,
                                       __m512i *largest) {
  const __m512i magnitude = _mm512_set1_epi32(0x7FFFFFFF);
  __m512 v = _mm512_loadu_ps(r);
  __m512i qi =
      _mm512_cvttps_epi32(_mm512_mul_ps(_mm512_mul_ps(v, u->down1), u->down2));
  __m512 rest = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(qi), u->unit, v);
  _mm512_storeu_ps(r, rest);
  *largest = _mm512_max_epu32(
      *largest, _mm512_and_si512(_mm512_castps_si512(rest), magnitude));
  return qi;
}

/* The part of unit 2^e off residual[0..gs) (every |value| < 2^(e + 7); e
 * >= -149) as bytes q[0..gs) (squantPeelVector). Returns the bits of the
 * largest magnitude left. */
static inline uint32_t squantPeelPart(float *residual, int64_t gs, int32_t e,
                                      int8_t *q) {
  const SquantPartUnit u = squantPartUnit(e);
  __m512i largest = _mm512_setzero_si512();
  for (int64_t c = 0; c < gs; c += 16)
    _mm_storeu_si128((__m128i *)(q + c), _mm512_cvtepi32_epi8(squantPeelVector(
                                             residual + c, &u, &largest)));
  return (uint32_t)_mm512_reduce_max_epu32(largest);
}

#endif /* SQUANT_RUNTIME_AMX_INT8_SPLIT_H */
