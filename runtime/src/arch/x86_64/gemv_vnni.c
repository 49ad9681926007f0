/*===- gemv_vnni.c - int8-activation GEMV with AVX-512 VNNI ----------------===//
 *
 * SQUANT_RT_FLAG_INT8_ACTIVATIONS (changes numerics). Two 4-bit blocks (32
 * bytes) become one register of 64 unsigned codes: the low nibbles of both
 * blocks, then the high nibbles. In BLOCK32_V1 the low nibble of byte j of a
 * block is code 16 (j / 8) + 4 (j % 4) + [j % 8 >= 4] and the high nibble
 * that + 2 (squant_rt_vnni4_code); api.c lays the quantized activations out
 * in the same order, so one vpdpbusd accumulates 64 products. Signed codes
 * are read in offset binary (xor 8), the offset removed with the group's
 * sum of int8 activations. Per group: s * xs * dot + b * sum(x) in fp32.
 *
 *===----------------------------------------------------------------------===*/

#include "../../kernels.h"

#include <immintrin.h>

#define SQUANT_VNNI_NR 4

static inline __attribute__((always_inline)) void
vnniRows(const squant_rt_qgemm_params *p, int64_t n0, int64_t stride,
         const int nr) {
  const squant_rt_qweight *w = p->w;
  int64_t k = w->k, gs = w->group_size, groups = k / gs;
  int64_t rowBytes = k / 2;
  __m512 acc[SQUANT_VNNI_NR];
  float bsum[SQUANT_VNNI_NR];
  const uint8_t *row[SQUANT_VNNI_NR];
  const __m256i mask = _mm256_set1_epi8(0x0F);
  /* Signed codes in offset binary: flip the top bit of both nibbles. */
  const __m256i flip = _mm256_set1_epi8(w->is_signed ? (char)0x88 : 0);
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
      if ((c / 2) % 64 == 0)
        for (int r = 0; r < nr; ++r)
          _mm_prefetch((const char *)(row[r] + c / 2 + rowBytes),
                       _MM_HINT_T0);
      for (int r = 0; r < nr; ++r) {
        __m256i v = _mm256_xor_si256(
            _mm256_loadu_si256((const __m256i *)(row[r] + c / 2)), flip);
        __m256i lo = _mm256_and_si256(v, mask);
        __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), mask);
        __m512i codes = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
        dot[r] = _mm512_dpbusd_epi32(dot[r], codes, a);
      }
    }
    float xs = p->xq_scale[g];
    for (int r = 0; r < nr; ++r) {
      int64_t param = (n0 + r * stride) * groups + g;
      float s = w->scales[param] * xs;
      acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(s), _mm512_cvtepi32_ps(dot[r]), acc[r]);
      bsum[r] += w->bias[param] * p->xsum[g];
      if (w->is_signed) /* remove the offset: sum (q + 8) xq - 8 sum xq */
        bsum[r] -= 8.0f * s * (float)p->xq_sum[g];
    }
  }
  for (int r = 0; r < nr; ++r)
    p->y[n0 + r * stride] = _mm512_reduce_add_ps(acc[r]) + bsum[r];
}

void squant_rt_gemv_int8_vnni(const squant_rt_qgemm_params *p) {
  /* One row from each quarter of the range per step: four linear streams
   * (as in gemm_avx512.c's GEMV). */
  int64_t q = (p->n_end - p->n_begin) / SQUANT_VNNI_NR;
  for (int64_t n = p->n_begin; n < p->n_begin + q; ++n)
    vnniRows(p, n, q, SQUANT_VNNI_NR);
  for (int64_t n = p->n_begin + SQUANT_VNNI_NR * q; n < p->n_end; ++n)
    vnniRows(p, n, 1, 1);
}
