/*===- decode_block32.h - Unpack BLOCK32_V1 codes into 32-bit lanes -*- C
 *-*-===//
 *
 * Shared by the AVX2 and AVX-512 kernels, with the block of a row in
 * BLOCK32_V1 or TILE16_V1 and the kernels' instances per width and layout.
 * The layout (squant_rt.h) is made so that a word of codes broadcast to
 * every 32-bit lane and shifted right by a per-lane amount leaves code i
 * of a 16-code half-block at the bottom of lane i: a broadcast load (load
 * port) and one vpsrlvd, no byte-to-lane widening. Bits above the code are left
 *in place: the table lookup that follows reads only the low bits of each index,
 *and tables narrower than 16 entries are replicated to 16 (api.c).
 *
 *===----------------------------------------------------------------------===*/

#ifndef SQUANT_RUNTIME_DECODE_BLOCK32_H
#define SQUANT_RUNTIME_DECODE_BLOCK32_H

#include "../../kernels.h"

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

/* Block b of row n (row: squant_rt_row_codes): in place for BLOCK32_V1,
 * its words copied into tmp for TILE16_V1. The layout is a constant after
 * inlining: with the copy's branch in the loop, the BLOCK32_V1 path's
 * broadcast came from a general register (a port 5 uop) instead of memory
 * (M = 8 int4 in L2: 148 -> 156 GFLOP/s). */
static inline __attribute__((always_inline)) const uint8_t *
squantBlockOf(const squant_rt_qweight *w, const uint8_t *row, int64_t n,
              int64_t b, int32_t bits, uint8_t tmp[SQUANT_RT_BLOCK_BYTES_MAX],
              const int tile16) {
  return tile16 ? squant_rt_block_at(w, row, n, b, bits, tmp)
                : row + b * squant_rt_block_bytes(bits);
}

/* name(p) runs all(p, bits, tile16) with the width and the layout as
 * constants, so that each instance's unpack code branches on neither (a
 * run-time width cost ~10 cycles per block; TILE16_V1's copy inside the
 * loop made BLOCK32_V1's broadcasts come from a general register, see
 * squantBlockOf). TILE16_V1 holds 1 to 3 bits. */
#define SQUANT_BLOCK32_SPECIALIZE(name, all)                                   \
  static void name(const squant_rt_qgemm_params *p) {                          \
    int tile16 = p->w->layout == SQUANT_RT_LAYOUT_TILE16_V1;                   \
    switch (p->w->bits) {                                                      \
    case 1:                                                                    \
      tile16 ? all(p, 1, 1) : all(p, 1, 0);                                    \
      return;                                                                  \
    case 2:                                                                    \
      tile16 ? all(p, 2, 1) : all(p, 2, 0);                                    \
      return;                                                                  \
    case 3:                                                                    \
      tile16 ? all(p, 3, 1) : all(p, 3, 0);                                    \
      return;                                                                  \
    case 4:                                                                    \
      all(p, 4, 0);                                                            \
      return;                                                                  \
    default:                                                                   \
      all(p, 8, 0);                                                            \
      return;                                                                  \
    }                                                                          \
  }
#endif /* SQUANT_RUNTIME_DECODE_BLOCK32_H */
