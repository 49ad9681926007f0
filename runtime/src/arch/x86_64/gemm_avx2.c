/*===- gemm_avx2.c - AVX2 + FMA qgemm --------------------------------------===//
 *
 * The AVX-512 kernel's GEMV scheme on 8 lanes for every M: a 16-entry table
 * is two 8-entry vpermps lookups blended on bit 3 of the index (one lookup
 * for b <= 3, whose tables are replicated to 8 entries).
 *
 *===----------------------------------------------------------------------===*/

#include "../../kernels.h"
#include "decode_block32.h"

#define SQUANT_MB 4

/* Eight values from eight indices: one vpermps for tables of up to 8
 * (replicated) entries, two blended on index bit 3 for 16. */
static inline __m256 lookup8(__m256i i, __m256 lo, __m256 hi, int bits) {
  __m256 v = _mm256_permutevar8x32_ps(lo, i);
  if (bits < 4)
    return v;
  __m256 u = _mm256_permutevar8x32_ps(hi, i);
  __m256 useHi = _mm256_castsi256_ps(_mm256_slli_epi32(i, 28)); /* bit 3 -> sign */
  return _mm256_blendv_ps(v, u, useHi);
}

/* Values 8j..8j+7 of one block, j = 0..3. */
static inline void blockWeights(const uint8_t *block, int32_t bits,
                                int isSigned, __m256 lo, __m256 hi,
                                __m256 out[4]) {
  if (bits == 8) {
    for (int j = 0; j < 4; ++j) {
      __m128i raw = _mm_loadl_epi64((const __m128i *)(block + 8 * j));
      __m256i i = isSigned ? _mm256_cvtepi8_epi32(raw) : _mm256_cvtepu8_epi32(raw);
      out[j] = _mm256_cvtepi32_ps(i);
    }
    return;
  }
  for (int j = 0; j < 4; ++j)
    out[j] = lookup8(squantIndices8(block, bits, j / 2, j % 2), lo, hi, bits);
}

static inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

void squant_rt_qgemm_avx2(const squant_rt_qgemm_params *p) {
  const squant_rt_qweight *w = p->w;
  int64_t k = w->k, gs = w->group_size, groups = k / gs;
  int32_t bits = w->bits;
  int64_t entries = bits <= 4 ? (int64_t)1 << bits : 0;
  int isFma = w->form == SQUANT_RT_FORM_FMA;
  int scaled = w->form != SQUANT_RT_FORM_LUT_F32;
  for (int64_t n = p->n_begin; n < p->n_end; ++n) {
    float rowTable[16];
    const float *values = p->values;
    if (w->form == SQUANT_RT_FORM_LUT_F32 && w->num_tables > 1) {
      for (int64_t i = 0; i < 16; ++i) /* replicated: lookups read low bits */
        rowTable[i] = w->ftable[n * entries + i % entries];
      values = rowTable;
    }
    __m256 lo = _mm256_loadu_ps(values), hi = _mm256_loadu_ps(values + 8);
    const uint8_t *row = squant_rt_row_codes(w, n);
    for (int64_t m0 = 0; m0 < p->m; m0 += SQUANT_MB) {
      int64_t mb = p->m - m0 < SQUANT_MB ? p->m - m0 : SQUANT_MB;
      const float *x[SQUANT_MB];
      __m256 acc[SQUANT_MB];
      float bsum[SQUANT_MB];
      for (int64_t r = 0; r < SQUANT_MB; ++r) {
        x[r] = p->x + (m0 + (r < mb ? r : 0)) * p->x_stride;
        acc[r] = _mm256_setzero_ps();
        bsum[r] = 0.0f;
      }
      for (int64_t g = 0; g < groups; ++g) {
        __m256 dot[SQUANT_MB];
        for (int64_t r = 0; r < SQUANT_MB; ++r)
          dot[r] = _mm256_setzero_ps();
        for (int64_t b = g * gs / 32; b < (g + 1) * gs / 32; ++b) {
          __m256 wv[4];
          uint8_t tmp[SQUANT_RT_BLOCK_BYTES_MAX];
          blockWeights(squant_rt_block_at(w, row, n, b, bits, tmp), bits, w->is_signed, lo, hi, wv);
          for (int64_t r = 0; r < mb; ++r)
            for (int j = 0; j < 4; ++j)
              dot[r] = _mm256_fmadd_ps(_mm256_loadu_ps(x[r] + b * 32 + 8 * j),
                                       wv[j], dot[r]);
        }
        if (!scaled) {
          for (int64_t r = 0; r < mb; ++r)
            acc[r] = _mm256_add_ps(acc[r], dot[r]);
          continue;
        }
        __m256 s = _mm256_set1_ps(w->scales[n * groups + g]);
        for (int64_t r = 0; r < mb; ++r)
          acc[r] = _mm256_fmadd_ps(s, dot[r], acc[r]);
        if (isFma) {
          float bias = w->bias[n * groups + g];
          for (int64_t r = 0; r < mb; ++r)
            bsum[r] += bias * p->xsum[(m0 + r) * groups + g];
        }
      }
      for (int64_t r = 0; r < mb; ++r)
        p->y[(m0 + r) * p->y_stride + n] = hsum8(acc[r]) + bsum[r];
    }
  }
}
