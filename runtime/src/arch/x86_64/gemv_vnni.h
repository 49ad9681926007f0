/*===- gemv_vnni.h - int8-activation GEMV with AVX-512 VNNI --*- C -*-===//
 *
 * SQUANT_RT_FLAG_INT8_ACTIVATIONS (changes numerics). 64 codes become one
 * register of 64 unsigned bytes and one vpdpbusd accumulates their 64
 * products with the quantized activations, which api.c lays out in the
 * same byte order (squant_rt_vnni_code):
 *   2 bits: two blocks (16 bytes) broadcast to the four 128-bit lanes and
 *           shifted right by 2L in lane L: byte i of lane L holds code
 *           4i + L in its low two bits;
 *   3 bits: block j in the low 256 bits, j + 1 in the high; byte i of
 *           64-bit lane Q of a half holds code 4i + Q of its block, the low
 *           two bits from the low plane shifted by 2Q, the third from one
 *           vpmultishiftqb (AVX-512 VBMI: gemv_vnni_vbmi.c);
 *   4 bits: two blocks (32 bytes), the low nibbles of both, then the high
 *           nibbles: the low nibble of byte j of a block is code
 *           16 (j / 8) + 4 (j % 4) + [j % 8 >= 4], the high nibble that + 2;
 *   8 bits: two blocks (64 bytes), byte i code i.
 * Signed codes are read in offset binary (top bit of each code flipped,
 * q + 2^(b-1)), the offset removed with the group's sum of int8
 * activations. Per group: s * xs * dot + b * sum(x) in fp32.
 *
 * Shared by gemv_vnni.c (2, 4, 8 bits) and gemv_vnni_vbmi.c (3 bits), each
 * compiled with its own -m flags.
 *
 *===----------------------------------------------------------------------===*/

#ifndef SQUANT_RUNTIME_GEMV_VNNI_H
#define SQUANT_RUNTIME_GEMV_VNNI_H

#include "../../kernels.h"

#include <immintrin.h>

#define SQUANT_VNNI_NR 4

#ifdef __AVX512VBMI__
/* A 64-bit lane of constant bytes: byte i is BYTE(a, b, i). */
#define SQUANT_LANE_OF_BYTES(BYTE, a, b)                                       \
  (long long)((uint64_t)BYTE(a, b, 0) | (uint64_t)BYTE(a, b, 1) << 8 |         \
              (uint64_t)BYTE(a, b, 2) << 16 | (uint64_t)BYTE(a, b, 3) << 24 |  \
              (uint64_t)BYTE(a, b, 4) << 32 | (uint64_t)BYTE(a, b, 5) << 40 |  \
              (uint64_t)BYTE(a, b, 6) << 48 | (uint64_t)BYTE(a, b, 7) << 56)
/* vpermb indices from the two blocks' 24 bytes: byte i of every 64-bit
 * lane of half H is low-plane byte 12H + i (plane 0), or third-bit byte
 * 12H + 8 + i % 4 (plane 1). */
#define SQUANT_SPREAD_BYTE(plane, H, i) (12 * (H) + ((plane) ? 8 + (i) % 4 : (i)))
#define SQUANT_SPREAD_LANE(plane, H)                                           \
  SQUANT_LANE_OF_BYTES(SQUANT_SPREAD_BYTE, plane, H)
/* vpmultishiftqb offsets: byte i of 64-bit lane Q reads 8 bits from offset
 * 4i + Q - 2 (mod 64). */
#define SQUANT_THIRD_BYTE(Q, unused, i) ((4 * (i) + (Q)-2) & 63)
#define SQUANT_THIRD_LANE(Q) SQUANT_LANE_OF_BYTES(SQUANT_THIRD_BYTE, Q, 0)
static inline __m512i squantSpreadIndex(const int plane) {
  return _mm512_setr_epi64(
      SQUANT_SPREAD_LANE(plane, 0), SQUANT_SPREAD_LANE(plane, 0),
      SQUANT_SPREAD_LANE(plane, 0), SQUANT_SPREAD_LANE(plane, 0),
      SQUANT_SPREAD_LANE(plane, 1), SQUANT_SPREAD_LANE(plane, 1),
      SQUANT_SPREAD_LANE(plane, 1), SQUANT_SPREAD_LANE(plane, 1));
}
static inline __m512i squantThirdBitOffsets(void) {
  return _mm512_setr_epi64(SQUANT_THIRD_LANE(0), SQUANT_THIRD_LANE(1),
                           SQUANT_THIRD_LANE(2), SQUANT_THIRD_LANE(3),
                           SQUANT_THIRD_LANE(0), SQUANT_THIRD_LANE(1),
                           SQUANT_THIRD_LANE(2), SQUANT_THIRD_LANE(3));
}
#endif

/* Codes c .. c + 63 of a row (row: its first byte) as 64 unsigned bytes in
 * squant_rt_vnni_code order; flip: the offset-binary bits (0 unsigned). */
static inline __attribute__((always_inline)) __m512i
vnniCodes(const uint8_t *row, int64_t c, const int32_t bits, __m512i flip) {
  if (bits == 2) {
    __m512i v = _mm512_srlv_epi64(
        _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(row + c / 4))),
        _mm512_setr_epi64(0, 0, 2, 2, 4, 4, 6, 6));
    /* (v & 3) ^ flip in one vpternlogd. */
    return _mm512_ternarylogic_epi32(v, _mm512_set1_epi8(3), flip, 0x6A);
  }
  if (bits == 8)
    return _mm512_xor_si512(_mm512_loadu_si512((const void *)(row + c)), flip);
#ifdef __AVX512VBMI__
  if (bits == 3) {
    /* The two blocks' 24 bytes (a masked load: nothing read past them),
     * spread by two vpermb: block j's low-plane word in the four 64-bit
     * lanes of the low half, block j + 1's in the high half, and each
     * block's 32-bit third-bit word doubled in a 64-bit lane. Shifted by 2Q
     * in 64-bit lane Q, the low plane leaves the low bits of code 4i + Q in
     * byte i; one vpmultishiftqb (8 bits from offset 4i + Q - 2, rotating)
     * puts bit 4i + Q of the third-bit word at bit 2 of byte i. */
    __m512i v = _mm512_castsi256_si512(
        _mm256_maskz_loadu_epi8(0x00FFFFFF, (const void *)(row + c / 32 * 12)));
    __m512i lo = _mm512_permutexvar_epi8(squantSpreadIndex(0), v);
    __m512i hi = _mm512_permutexvar_epi8(squantSpreadIndex(1), v);
    lo = _mm512_srlv_epi64(lo, _mm512_setr_epi64(0, 2, 4, 6, 0, 2, 4, 6));
    hi = _mm512_multishift_epi64_epi8(squantThirdBitOffsets(), hi);
    /* (lo & 3) | (hi & ~3), then & 7 and the offset-binary flip. */
    __m512i code = _mm512_ternarylogic_epi32(lo, hi, _mm512_set1_epi8(3), 0xE4);
    return _mm512_ternarylogic_epi32(code, _mm512_set1_epi8(7), flip, 0x6A);
  }
#endif
  __m256i v =
      _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(row + c / 2)),
                       _mm512_castsi512_si256(flip));
  __m256i mask = _mm256_set1_epi8(0x0F);
  __m256i lo = _mm256_and_si256(v, mask);
  __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), mask);
  return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

static inline __attribute__((always_inline)) void
vnniRows(const squant_rt_qgemm_params *p, int64_t n0, int64_t stride,
         const int nr, const int32_t bits) {
  const squant_rt_qweight *w = p->w;
  int64_t k = w->k, gs = w->group_size, groups = k / gs;
  int64_t rowBytes = k * bits / 8;
  __m512 acc[SQUANT_VNNI_NR];
  float bsum[SQUANT_VNNI_NR];
  const uint8_t *row[SQUANT_VNNI_NR];
  /* Signed codes in offset binary: flip the top bit of every code. */
  const char flipByte = bits == 2   ? (char)0x02
                        : bits == 3 ? (char)0x04
                        : bits == 4 ? (char)0x88
                                    : (char)0x80;
  const __m512i flip = _mm512_set1_epi8(w->is_signed ? flipByte : 0);
  const float offset = w->is_signed ? (float)(1 << (bits - 1)) : 0.0f;
  for (int r = 0; r < nr; ++r) {
    acc[r] = _mm512_setzero_ps();
    bsum[r] = 0.0f;
    row[r] = w->codes + (n0 + r * stride) * rowBytes;
  }
  for (int64_t g = 0; g < groups; ++g) {
    __m512i dot[SQUANT_VNNI_NR];
    for (int r = 0; r < nr; ++r)
      dot[r] = _mm512_setzero_si512();
    for (int64_t c = g * gs; c < (g + 1) * gs; c += 64) {
      __m512i a = _mm512_loadu_si512((const void *)(p->xq + c));
      /* Each row's successor in memory is the next row of its stream. */
      if ((c * bits / 8) % 64 == 0)
        for (int r = 0; r < nr; ++r)
          _mm_prefetch((const char *)(row[r] + c * bits / 8 + rowBytes),
                       _MM_HINT_T0);
      for (int r = 0; r < nr; ++r)
        dot[r] =
            _mm512_dpbusd_epi32(dot[r], vnniCodes(row[r], c, bits, flip), a);
    }
    float xs = p->xq_scale[g];
    for (int r = 0; r < nr; ++r) {
      int64_t param = (n0 + r * stride) * groups + g;
      float s = w->scales[param] * xs;
      acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(s), _mm512_cvtepi32_ps(dot[r]),
                               acc[r]);
      bsum[r] += w->bias[param] * p->xsum[g];
      /* The offset: sum (q + o) xq - o sum xq. */
      bsum[r] -= offset * s * (float)p->xq_sum[g];
    }
  }
  for (int r = 0; r < nr; ++r)
    p->y[n0 + r * stride] = _mm512_reduce_add_ps(acc[r]) + bsum[r];
}

static inline __attribute__((always_inline)) void
vnniAll(const squant_rt_qgemm_params *p, const int32_t bits) {
  /* One row from each quarter of the range per step: four linear streams
   * (as in gemm_avx512.c's GEMV). */
  int64_t q = (p->n_end - p->n_begin) / SQUANT_VNNI_NR;
  for (int64_t n = p->n_begin; n < p->n_begin + q; ++n)
    vnniRows(p, n, q, SQUANT_VNNI_NR, bits);
  for (int64_t n = p->n_begin + SQUANT_VNNI_NR * q; n < p->n_end; ++n)
    vnniRows(p, n, 1, 1, bits);
}

#endif /* SQUANT_RUNTIME_GEMV_VNNI_H */
