/*===- amx_bf16.h - Shared by the AMX-BF16 GEMMs ---------------*- C -*-===//
 *
 * gemm_amx.c (codes on the tiles, the group factorization) and
 * gemm_amx_folded.c (exact weights in three parts): the one-block decode's
 * indices, fp32 values split exactly into three bf16 parts, and the
 * outputs of tile rows that hold the parts of activation rows summed into
 * y.
 *
 *===----------------------------------------------------------------------===*/

#ifndef SQUANT_RUNTIME_AMX_BF16_H
#define SQUANT_RUNTIME_AMX_BF16_H

#include "decode_block32.h"
#include "transpose16.h"

#include <immintrin.h>
#include <stdint.h>

/* The 32 codes of a block of 1-, 2- or 4-bit codes as word indices, in
 * squant_rt_amx_code's lane order: word L is byte L % 16 (4 bits: its low
 * nibble for L < 16, its high one after), byte L % 8 shifted by 2 (L / 8)
 * (2 bits), byte L % 4 shifted by L / 4 (1 bit). Bits above the code stay:
 * the 32-entry tables they index repeat every 2^b entries. */
static inline __attribute__((always_inline)) __m512i
squantAmxCodeWords(const uint8_t *block, const int32_t bits) {
  __m256i bytes =
      bits == 4
          ? _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)block))
      : bits == 2 ? _mm256_set1_epi64x((long long)squantLoad64(block))
                  : _mm256_set1_epi32((int)squantLoad32(block));
  const __m512i shifts =
      bits == 4
          ? _mm512_set_epi64(0x0004000400040004, 0x0004000400040004,
                             0x0004000400040004, 0x0004000400040004, 0, 0, 0, 0)
      : bits == 2
          ? _mm512_set_epi64(0x0006000600060006, 0x0006000600060006,
                             0x0004000400040004, 0x0004000400040004,
                             0x0002000200020002, 0x0002000200020002, 0, 0)
          : _mm512_set_epi64(0x0007000700070007, 0x0006000600060006,
                             0x0005000500050005, 0x0004000400040004,
                             0x0003000300030003, 0x0002000200020002,
                             0x0001000100010001, 0);
  return _mm512_srlv_epi16(_mm512_cvtepu8_epi16(bytes), shifts);
}

/* 16 fp32 values as three parts, fp32 whose low 16 bits are zero (bf16 in
 * the high halves): v truncated (hi), the remainder truncated (mid), the
 * rest (lo); v - hi and rest - mid are exact, and so hi + mid + lo = v
 * (24 significant bits in three of 8). Non-finite values go whole into hi
 * (a NaN made quiet first, so that a payload only in the low 16 bits stays
 * a NaN), mid and lo zero. */
static inline __attribute__((always_inline)) void
squantSplit3Special(__m512 v, __m512i parts[3]) {
  const __m512i exponent = _mm512_set1_epi32(0x7F800000);
  const __m512i high = _mm512_set1_epi32((int)0xFFFF0000u);
  __m512i bits = _mm512_castps_si512(v);
  bits = _mm512_mask_or_epi32(bits, _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q),
                              bits, _mm512_set1_epi32(0x00400000));
  __mmask16 finite =
      _mm512_cmpneq_epi32_mask(_mm512_and_si512(bits, exponent), exponent);
  __m512i hi = _mm512_and_si512(bits, high);
  __m512 rest = _mm512_sub_ps(v, _mm512_castsi512_ps(hi));
  __m512i mid = _mm512_and_si512(_mm512_castps_si512(rest), high);
  __m512 lo = _mm512_sub_ps(rest, _mm512_castsi512_ps(mid));
  parts[0] = hi;
  parts[1] = _mm512_maskz_mov_epi32(finite, mid);
  parts[2] = _mm512_maskz_mov_epi32(finite, _mm512_castps_si512(lo));
}

/* Finite values take four operations: a non-finite v makes its lo a NaN
 * (Inf - Inf, or a NaN's remainder), and only then squantSplit3Special
 * runs, with the quieting and masks above. */
static inline __attribute__((always_inline)) void
squantSplit3(__m512 v, __m512i parts[3]) {
  const __m512i high = _mm512_set1_epi32((int)0xFFFF0000u);
  __m512i hi = _mm512_and_si512(_mm512_castps_si512(v), high);
  __m512 rest = _mm512_sub_ps(v, _mm512_castsi512_ps(hi));
  __m512i mid = _mm512_and_si512(_mm512_castps_si512(rest), high);
  __m512 lo = _mm512_sub_ps(rest, _mm512_castsi512_ps(mid));
  if (__builtin_expect(_mm512_cmp_ps_mask(lo, lo, _CMP_UNORD_Q) != 0, 0)) {
    squantSplit3Special(v, parts);
    return;
  }
  parts[0] = hi;
  parts[1] = mid;
  parts[2] = _mm512_castps_si512(lo);
}

/* y[i][r] = out[r][i] for i < mc, r < nr (out's rows `stride` floats
 * apart): 16 x 16 transposes. With three parts (squant_rt_amx_source),
 * out[r][i] + out[r][mc + i] + out[r][2 mc + i], times rowScale[i]. */
static inline void squantStoreOutputs(const float *out, int64_t stride, int nr,
                                      int64_t mc, int32_t parts,
                                      const float *rowScale, float *y,
                                      int64_t yStride) {
  for (int t = 0; t < 2 && 16 * t < nr; ++t) {
    int rows = nr - 16 * t < 16 ? nr - 16 * t : 16;
    __mmask16 mask = (__mmask16)((1u << rows) - 1u);
    for (int64_t h = 0; h < mc; h += 16) {
      __m512 v[16];
      for (int r = 0; r < 16; ++r) {
        const float *o = out + (16 * t + r) * stride + h;
        v[r] = _mm512_loadu_ps(o);
        for (int32_t q = 1; q < parts; ++q)
          v[r] = _mm512_add_ps(v[r], _mm512_loadu_ps(o + q * mc));
      }
      squantTranspose16(v);
      for (int64_t i = 0; i < 16 && h + i < mc; ++i)
        _mm512_mask_storeu_ps(
            y + (h + i) * yStride + 16 * t, mask,
            rowScale ? _mm512_mul_ps(v[i], _mm512_set1_ps(rowScale[h + i]))
                     : v[i]);
    }
  }
}

#endif /* SQUANT_RUNTIME_AMX_BF16_H */
