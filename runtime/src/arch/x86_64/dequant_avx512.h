/*===- dequant_avx512.h - Exact fp32 weights of BLOCK32 blocks -*- C -*-===//
 *
 * The weights as the reference dequantizes them (w = fma(q, s, b) for the
 * FMA form, s_t * T[q] for LUT_INT8, the fp32 entry for LUT_F32), 32 at a
 * time. Shared by the AVX-512 GEMM (its panels) and the AMX GEMM of
 * folded weights (gemm_amx_folded.c).
 *
 *===----------------------------------------------------------------------===*/

#ifndef SQUANT_RUNTIME_DEQUANT_AVX512_H
#define SQUANT_RUNTIME_DEQUANT_AVX512_H

#include "../../kernels.h"
#include "decode_block32.h"

/* 0, 1, .., 15: each lane its own index. */
#define SQUANT_LANES                                                           \
  _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)

/* The value of each index for row n: `values` (squant_rt_qgemm_params),
 * or the row's own fp32 table (LUT_F32 with a table per row), replicated
 * to 16 entries (lookups read 4 index bits). */
static inline __m512 squantRowTable(const squant_rt_qweight *w,
                                    const float values[16], int64_t n) {
  if (w->form == SQUANT_RT_FORM_LUT_F32 && w->num_tables > 1) {
    int64_t entries = (int64_t)1 << w->bits;
    __m512 t = _mm512_maskz_loadu_ps((__mmask16)((1u << entries) - 1u),
                                     w->ftable + n * entries);
    __m512i wrap =
        _mm512_and_si512(SQUANT_LANES, _mm512_set1_epi32((int)entries - 1));
    return _mm512_permutexvar_ps(wrap, t);
  }
  return _mm512_loadu_ps(values);
}

/* Up to 4 bits, the 16 exact weights of group `param` (its index among
 * all the weight's groups): fma(T[i], s, b), s * T[i] or T[i], the same
 * operations on the same values as per code, so each block is two
 * lookups. 8-bit codes: the table itself (squantBlockWeights scales). */
static inline __attribute__((always_inline)) __m512
squantGroupValues(const squant_rt_qweight *w, __m512 table, int64_t param,
                  const int32_t bits) {
  if (bits == 8 || w->form == SQUANT_RT_FORM_LUT_F32)
    return table;
  __m512 s = _mm512_set1_ps(w->scales[param]);
  if (w->form == SQUANT_RT_FORM_LUT_INT8)
    return _mm512_mul_ps(s, table);
  return _mm512_fmadd_ps(table, s, _mm512_set1_ps(w->bias[param]));
}

/* The exact weights of one block of group `param`, codes 0..15 in v0 and
 * 16..31 in v1; groupTable from squantGroupValues. 8-bit codes (the FMA
 * form only) take fma(q, s, b) per code. */
static inline __attribute__((always_inline)) void
squantBlockWeights(const squant_rt_qweight *w, const uint8_t *block,
                   __m512 groupTable, int64_t param, const int32_t bits,
                   __m512 *v0, __m512 *v1) {
  squantBlockValues(block, bits, w->is_signed, groupTable, v0, v1);
  if (bits == 8) {
    __m512 s = _mm512_set1_ps(w->scales[param]),
           b = _mm512_set1_ps(w->bias[param]);
    *v0 = _mm512_fmadd_ps(*v0, s, b);
    *v1 = _mm512_fmadd_ps(*v1, s, b);
  }
}

#endif /* SQUANT_RUNTIME_DEQUANT_AVX512_H */
