/*===- gemm_avx512.c - AVX-512 qgemm ---------------------------------------===//
 *
 * Per output row and up to four activation rows at a time: each block of 32
 * codes is unpacked once (mask and shift), widened to 16-lane indices and
 * turned into weights by one vpermps lookup into a 16-entry table (the code
 * value, the int8 LUT entry or the fp32 LUT entry: every form is a table
 * for b <= 4); 8-bit codes convert directly. Dot products stay in vector
 * accumulators per group; the group scale is applied once per group as a
 * vector FMA and the b * sum(x) term once per group as a scalar, so the
 * horizontal sum happens once per output.
 *
 *===----------------------------------------------------------------------===*/

#include "../../kernels.h"
#include "decode_block32.h"

#define SQUANT_MB 4

/* Weights 0..15 and 16..31 of one block. */
static inline void blockWeights(const uint8_t *block, int32_t bits,
                                int isSigned, __m512 table, __m512 *w0,
                                __m512 *w1) {
  if (bits == 8) {
    __m128i lo = _mm_loadu_si128((const __m128i *)block);
    __m128i hi = _mm_loadu_si128((const __m128i *)(block + 16));
    __m512i i0 = isSigned ? _mm512_cvtepi8_epi32(lo) : _mm512_cvtepu8_epi32(lo);
    __m512i i1 = isSigned ? _mm512_cvtepi8_epi32(hi) : _mm512_cvtepu8_epi32(hi);
    *w0 = _mm512_cvtepi32_ps(i0);
    *w1 = _mm512_cvtepi32_ps(i1);
    return;
  }
  __m128i c0, c1;
  squantDecodeBlock(block, bits, &c0, &c1);
  *w0 = _mm512_permutexvar_ps(_mm512_cvtepu8_epi32(c0), table);
  *w1 = _mm512_permutexvar_ps(_mm512_cvtepu8_epi32(c1), table);
}

void squant_rt_qgemm_avx512(const squant_rt_qgemm_params *p) {
  const squant_rt_qweight *w = p->w;
  int64_t k = w->k, gs = w->group_size, groups = k / gs;
  int32_t bits = w->bits;
  int64_t blockBytes = squant_rt_block_bytes(bits);
  int64_t rowBytes = (k / 32) * blockBytes;
  int64_t entries = bits <= 4 ? (int64_t)1 << bits : 0;
  int isFma = w->form == SQUANT_RT_FORM_FMA;
  int scaled = w->form != SQUANT_RT_FORM_LUT_F32;
  for (int64_t n = p->n_begin; n < p->n_end; ++n) {
    __m512 table = _mm512_loadu_ps(p->values);
    if (w->form == SQUANT_RT_FORM_LUT_F32 && w->num_tables > 1)
      table = _mm512_maskz_loadu_ps((__mmask16)((1u << entries) - 1u),
                                    w->ftable + n * entries);
    const uint8_t *row = w->codes + n * rowBytes;
    for (int64_t m0 = 0; m0 < p->m; m0 += SQUANT_MB) {
      int64_t mb = p->m - m0 < SQUANT_MB ? p->m - m0 : SQUANT_MB;
      const float *x[SQUANT_MB];
      __m512 acc[SQUANT_MB];
      float bsum[SQUANT_MB];
      for (int64_t r = 0; r < SQUANT_MB; ++r) {
        x[r] = p->x + (m0 + (r < mb ? r : 0)) * p->x_stride;
        acc[r] = _mm512_setzero_ps();
        bsum[r] = 0.0f;
      }
      for (int64_t g = 0; g < groups; ++g) {
        __m512 dot[SQUANT_MB];
        for (int64_t r = 0; r < SQUANT_MB; ++r)
          dot[r] = _mm512_setzero_ps();
        for (int64_t b = g * gs / 32; b < (g + 1) * gs / 32; ++b) {
          __m512 w0, w1;
          blockWeights(row + b * blockBytes, bits, w->is_signed, table, &w0, &w1);
          for (int64_t r = 0; r < mb; ++r) {
            dot[r] = _mm512_fmadd_ps(_mm512_loadu_ps(x[r] + b * 32), w0, dot[r]);
            dot[r] = _mm512_fmadd_ps(_mm512_loadu_ps(x[r] + b * 32 + 16), w1, dot[r]);
          }
        }
        if (!scaled) {
          for (int64_t r = 0; r < mb; ++r)
            acc[r] = _mm512_add_ps(acc[r], dot[r]);
          continue;
        }
        __m512 s = _mm512_set1_ps(w->scales[n * groups + g]);
        for (int64_t r = 0; r < mb; ++r)
          acc[r] = _mm512_fmadd_ps(s, dot[r], acc[r]);
        if (isFma) {
          float bias = w->bias[n * groups + g];
          for (int64_t r = 0; r < mb; ++r)
            bsum[r] += bias * p->xsum[(m0 + r) * groups + g];
        }
      }
      for (int64_t r = 0; r < mb; ++r)
        p->y[(m0 + r) * p->y_stride + n] = _mm512_reduce_add_ps(acc[r]) + bsum[r];
    }
  }
}
