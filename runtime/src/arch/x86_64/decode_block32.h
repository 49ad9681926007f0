/*===- decode_block32.h - Unpack BLOCK32_V1 codes into 32-bit lanes -*- C -*-===//
 *
 * Shared by the AVX2 and AVX-512 kernels. The layout (squant_rt.h) is made so
 * that a word of codes broadcast to every 32-bit lane and shifted right by a
 * per-lane amount leaves code i of a 16-code half-block at the bottom of
 * lane i: a broadcast load (load port) and one vpsrlvd, no byte-to-lane
 * widening. Bits above the code are left in place: the table lookup that
 * follows reads only the low bits of each index, and tables narrower than
 * 16 entries are replicated to 16 (api.c).
 *
 *===----------------------------------------------------------------------===*/

#ifndef SQUANT_RUNTIME_DECODE_BLOCK32_H
#define SQUANT_RUNTIME_DECODE_BLOCK32_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t squantLoad64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

static inline uint32_t squantLoad32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

#ifdef __AVX512F__
/* Indices of codes 16h..16h+15 of a block in 16 lanes (low bits valid). */
static inline __m512i squantIndices16(const uint8_t *block, int32_t bits, int h) {
  switch (bits) {
  case 4:
    return _mm512_srlv_epi32(
        _mm512_set1_epi64((long long)squantLoad64(block + 8 * h)),
        _mm512_setr_epi32(0, 0, 4, 4, 8, 8, 12, 12, 16, 16, 20, 20, 24, 24, 28, 28));
  case 2:
    return _mm512_srlv_epi32(
        _mm512_set1_epi32((int)squantLoad32(block + 4 * h)),
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30));
  case 1:
    return _mm512_srlv_epi32(
        _mm512_set1_epi32((int)squantLoad32(block)),
        _mm512_add_epi32(_mm512_set1_epi32(16 * h),
                         _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                                           12, 13, 14, 15)));
  default: { /* 3: two low bits from the 2-bit plane, the third from the 1-bit */
    __m512i lo = squantIndices16(block, 2, h);
    /* Bit 16h + i of the 1-bit plane rotated into bit 2 of lane i. */
    __m512i hi = _mm512_rorv_epi32(
        _mm512_set1_epi32((int)squantLoad32(block + 8)),
        _mm512_add_epi32(_mm512_set1_epi32(16 * h - 2),
                         _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
                                           14, 15)));
    /* Bit 2 from hi, the others from lo: one bit select (vpternlogd). */
    return _mm512_ternarylogic_epi32(lo, hi, _mm512_set1_epi32(4), 0xD8);
  }
  }
}

/* Values 0..15 and 16..31 of one block (before scaling): 8-bit codes
 * converted, narrower ones looked up in a 16-entry table. */
static inline __attribute__((always_inline)) void
squantBlockValues(const uint8_t *block, int32_t bits, int isSigned,
                  __m512 table, __m512 *v0, __m512 *v1) {
  if (bits == 8) {
    __m128i lo = _mm_loadu_si128((const __m128i *)block);
    __m128i hi = _mm_loadu_si128((const __m128i *)(block + 16));
    __m512i i0 = isSigned ? _mm512_cvtepi8_epi32(lo) : _mm512_cvtepu8_epi32(lo);
    __m512i i1 = isSigned ? _mm512_cvtepi8_epi32(hi) : _mm512_cvtepu8_epi32(hi);
    *v0 = _mm512_cvtepi32_ps(i0);
    *v1 = _mm512_cvtepi32_ps(i1);
    return;
  }
  *v0 = _mm512_permutexvar_ps(squantIndices16(block, bits, 0), table);
  *v1 = _mm512_permutexvar_ps(squantIndices16(block, bits, 1), table);
}
#endif

/* Indices of codes 16h + 8q .. 16h + 8q + 7 of a block in 8 lanes. */
static inline __m256i squantIndices8(const uint8_t *block, int32_t bits, int h,
                                     int q) {
  switch (bits) {
  case 4:
    return _mm256_srlv_epi32(
        _mm256_set1_epi64x((long long)squantLoad64(block + 8 * h)),
        _mm256_add_epi32(_mm256_set1_epi32(16 * q),
                         _mm256_setr_epi32(0, 0, 4, 4, 8, 8, 12, 12)));
  case 2:
    return _mm256_srlv_epi32(
        _mm256_set1_epi32((int)squantLoad32(block + 4 * h)),
        _mm256_add_epi32(_mm256_set1_epi32(16 * q),
                         _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14)));
  case 1:
    return _mm256_srlv_epi32(
        _mm256_set1_epi32((int)squantLoad32(block)),
        _mm256_add_epi32(_mm256_set1_epi32(16 * h + 8 * q),
                         _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)));
  default: {
    __m256i lo = squantIndices8(block, 2, h, q);
    __m256i hi = squantIndices8(block + 8, 1, h, q);
    return _mm256_or_si256(_mm256_and_si256(lo, _mm256_set1_epi32(3)),
                           _mm256_and_si256(_mm256_slli_epi32(hi, 2),
                                            _mm256_set1_epi32(4)));
  }
  }
}

#endif /* SQUANT_RUNTIME_DECODE_BLOCK32_H */
