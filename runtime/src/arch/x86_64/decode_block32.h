/*===- decode_block32.h - Unpack BLOCK32_V1 blocks with SSE/AVX2 ---*- C -*-===//
 *
 * Shared by the AVX2 and AVX-512 kernels (both compiled with AVX2 enabled):
 * one block of 32 b-bit codes becomes two 16-byte vectors holding codes
 * 0..15 and 16..31 as bytes, in order. The layout (squant_rt.h) makes this
 * a mask and a shift per vector.
 *
 *===----------------------------------------------------------------------===*/

#ifndef SQUANT_RUNTIME_DECODE_BLOCK32_H
#define SQUANT_RUNTIME_DECODE_BLOCK32_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

/* Two 16-byte vectors of 2-bit codes from 8 bytes (byte j holds codes j,
 * j+8, j+16, j+24 at shifts 0, 2, 4, 6). */
static inline void squantDecode2(const uint8_t *block, __m128i *c0, __m128i *c1) {
  __m128i raw = _mm_loadl_epi64((const __m128i *)block);
  __m128i m = _mm_set1_epi8(3);
  __m128i a = _mm_and_si128(raw, m);
  __m128i b = _mm_and_si128(_mm_srli_epi16(raw, 2), m);
  __m128i c = _mm_and_si128(_mm_srli_epi16(raw, 4), m);
  __m128i d = _mm_and_si128(_mm_srli_epi16(raw, 6), m);
  *c0 = _mm_unpacklo_epi64(a, b);
  *c1 = _mm_unpacklo_epi64(c, d);
}

/* Two 16-byte vectors of 1-bit codes from 4 bytes (bit i of byte j is code
 * j + 4i): shift a broadcast word by 0..3 and 4..7 per 32-bit lane. */
static inline void squantDecode1(const uint8_t *block, __m128i *c0, __m128i *c1) {
  int32_t word;
  memcpy(&word, block, 4);
  __m128i v = _mm_set1_epi32(word);
  __m128i m = _mm_set1_epi8(1);
  *c0 = _mm_and_si128(_mm_srlv_epi32(v, _mm_setr_epi32(0, 1, 2, 3)), m);
  *c1 = _mm_and_si128(_mm_srlv_epi32(v, _mm_setr_epi32(4, 5, 6, 7)), m);
}

/* Codes 0..15 and 16..31 of a 1-, 2-, 3- or 4-bit block. */
static inline void squantDecodeBlock(const uint8_t *block, int32_t bits,
                                     __m128i *c0, __m128i *c1) {
  switch (bits) {
  case 4: {
    __m128i raw = _mm_loadu_si128((const __m128i *)block);
    __m128i m = _mm_set1_epi8(0x0F);
    *c0 = _mm_and_si128(raw, m);
    *c1 = _mm_and_si128(_mm_srli_epi16(raw, 4), m);
    return;
  }
  case 3: {
    __m128i h0, h1;
    squantDecode2(block, c0, c1);
    squantDecode1(block + 8, &h0, &h1);
    *c0 = _mm_or_si128(*c0, _mm_slli_epi16(h0, 2));
    *c1 = _mm_or_si128(*c1, _mm_slli_epi16(h1, 2));
    return;
  }
  case 2:
    squantDecode2(block, c0, c1);
    return;
  default:
    squantDecode1(block, c0, c1);
    return;
  }
}

#endif /* SQUANT_RUNTIME_DECODE_BLOCK32_H */
