/*===- gemm_portable.c - Portable C qgemm ----------------------------------===//
 *
 * Always correct on any CPU; the AVX2 and AVX-512 kernels compute the same
 * factorized sums faster. Per output: for each group, the dot product of x
 * with the group's values, then s * dot (+ b * sum x for the FMA form).
 *
 *===----------------------------------------------------------------------===*/

#include "kernels.h"

void squant_rt_qgemm_portable(const squant_rt_qgemm_params *p) {
  const squant_rt_qweight *w = p->w;
  int64_t k = w->k, gs = w->group_size, groups = k / gs;
  for (int64_t n = p->n_begin; n < p->n_end; ++n) {
    const float *values = p->values;
    if (w->form == SQUANT_RT_FORM_LUT_F32 && w->num_tables > 1)
      values = w->ftable + n * (int64_t)(1 << w->bits);
    const uint8_t *row = squant_rt_row_codes(w, n);
    for (int64_t m = 0; m < p->m; ++m) {
      const float *x = p->x + m * p->x_stride;
      float acc = 0.0f;
      for (int64_t g = 0; g < groups; ++g) {
        float dot = 0.0f;
        for (int64_t b = g * gs / 32; b < (g + 1) * gs / 32; ++b) {
          uint8_t idx[32], tmp[SQUANT_RT_BLOCK_BYTES_MAX];
          squant_rt_unpack_block32(squant_rt_block_at(w, row, n, b, w->bits, tmp), w->bits, idx);
          for (int i = 0; i < 32; ++i) {
            /* 8-bit codes convert directly; narrower ones go through the
             * value table (code value, int8 entry or fp32 entry). */
            float v = w->bits == 8 ? (float)(w->is_signed ? (int8_t)idx[i]
                                                          : (int)idx[i])
                                   : values[idx[i]];
            dot += x[b * 32 + i] * v;
          }
        }
        if (w->form == SQUANT_RT_FORM_LUT_F32) {
          acc += dot;
          continue;
        }
        acc += squant_rt_scale(w, n, g) * dot;
        if (w->form == SQUANT_RT_FORM_FMA)
          acc += squant_rt_bias(w, n, g) * p->xsum[m * groups + g];
      }
      p->y[m * p->y_stride + n] = acc;
    }
  }
}
