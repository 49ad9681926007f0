/*===- gemm_avx512.c - AVX-512 qgemm ---------------------------------------===//
 *
 * Two paths, both vectorized along K:
 *
 * GEMV (M = 1): four output rows at a time share each 32-element slice of
 * x; each half-block of 16 codes is a broadcast load and one per-lane shift
 * (decode_block32.h), turned into values by one vpermps into a 16-entry
 * table (the code as a float, the int8 LUT entry or the fp32 LUT entry;
 * 8-bit codes convert directly). Two dot chains per row (eight in flight)
 * hide the FMA latency. The group factorization applies s once per group as
 * a vector FMA and b * sum(x) once per group as a scalar.
 *
 * GEMM (M > 1): four rows of exact weights (w = fma(q, s, b), s_t * T[i] or
 * the fp32 entry, as the reference dequantizes them) are decoded once into
 * an L1 panel per K chunk and reused by every activation row; a 4 x 4 tile
 * of accumulators (16 zmm, vectorized along K) does 16 FMAs per 8 loads.
 *
 *===----------------------------------------------------------------------===*/

#include "../../kernels.h"
#include "decode_block32.h"

#define SQUANT_NR 4       /* output rows per step */
#define SQUANT_MR 4       /* activation rows per GEMM tile */
#define SQUANT_KC 1024    /* K chunk of the GEMM panel (floats per row) */

/* Values 0..15 and 16..31 of one block (before scaling). */
static inline __attribute__((always_inline)) void
blockValues(const uint8_t *block, int32_t bits, int isSigned, __m512 table,
            __m512 *v0, __m512 *v1) {
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

static inline __m512 rowTable(const squant_rt_qgemm_params *p, int64_t n) {
  const squant_rt_qweight *w = p->w;
  if (w->form == SQUANT_RT_FORM_LUT_F32 && w->num_tables > 1) {
    /* A row's table, replicated to 16 entries (lookups read 4 index bits). */
    int64_t entries = (int64_t)1 << w->bits;
    __m512 t = _mm512_maskz_loadu_ps((__mmask16)((1u << entries) - 1u),
                                     w->ftable + n * entries);
    __m512i wrap = _mm512_and_si512(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
        _mm512_set1_epi32((int)entries - 1));
    return _mm512_permutexvar_ps(wrap, t);
  }
  return _mm512_loadu_ps(p->values);
}

/* GEMV for rows [n0, n0 + nr), nr <= 4 a compile-time constant at each
 * call site after inlining. */
static inline __attribute__((always_inline)) void
gemvRows(const squant_rt_qgemm_params *p, int64_t n0, const int nr,
         const int32_t bits) {
  const squant_rt_qweight *w = p->w;
  int64_t k = w->k, gs = w->group_size, groups = k / gs;
  int64_t blockBytes = squant_rt_block_bytes(bits);
  int64_t rowBytes = (k / 32) * blockBytes;
  int scaled = w->form != SQUANT_RT_FORM_LUT_F32;
  int isFma = w->form == SQUANT_RT_FORM_FMA;
  const float *x = p->x;
  __m512 table[SQUANT_NR], acc[SQUANT_NR];
  float bsum[SQUANT_NR];
  const uint8_t *row[SQUANT_NR];
  for (int r = 0; r < nr; ++r) {
    table[r] = rowTable(p, n0 + r);
    acc[r] = _mm512_setzero_ps();
    bsum[r] = 0.0f;
    row[r] = w->codes + (n0 + r) * rowBytes;
  }
  for (int64_t g = 0; g < groups; ++g) {
    __m512 d0[SQUANT_NR], d1[SQUANT_NR];
    for (int r = 0; r < nr; ++r)
      d0[r] = d1[r] = _mm512_setzero_ps();
    for (int64_t b = g * gs / 32; b < (g + 1) * gs / 32; ++b) {
      __m512 xa = _mm512_loadu_ps(x + b * 32);
      __m512 xb = _mm512_loadu_ps(x + b * 32 + 16);
      /* Rows are contiguous, so the next four rows are the next 4 * row
       * bytes: prefetch the same offset there, once per cache line, which
       * keeps a linear stream ahead of the four short row streams. */
      if ((b * blockBytes) % 64 < blockBytes) /* once per 64-byte line */
        for (int r = 0; r < nr; ++r)
          _mm_prefetch((const char *)(row[r] + b * blockBytes + SQUANT_NR * rowBytes),
                       _MM_HINT_T0);
      for (int r = 0; r < nr; ++r) {
        __m512 v0, v1;
        blockValues(row[r] + b * blockBytes, bits, w->is_signed, table[r], &v0, &v1);
        d0[r] = _mm512_fmadd_ps(xa, v0, d0[r]);
        d1[r] = _mm512_fmadd_ps(xb, v1, d1[r]);
      }
    }
    for (int r = 0; r < nr; ++r) {
      __m512 dot = _mm512_add_ps(d0[r], d1[r]);
      if (!scaled) {
        acc[r] = _mm512_add_ps(acc[r], dot);
        continue;
      }
      int64_t param = (n0 + r) * groups + g;
      acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(w->scales[param]), dot, acc[r]);
      if (isFma)
        bsum[r] += w->bias[param] * p->xsum[g];
    }
  }
  for (int r = 0; r < nr; ++r)
    p->y[n0 + r] = _mm512_reduce_add_ps(acc[r]) + bsum[r];
}

/* Exact weights of rows [n0, n0 + nr) and columns [k0, k0 + kc) into
 * panel[r][0..kc). */
static void decodePanel(const squant_rt_qgemm_params *p, int64_t n0, int nr,
                        int64_t k0, int64_t kc, float *panel) {
  const squant_rt_qweight *w = p->w;
  int64_t k = w->k, gs = w->group_size, groups = k / gs;
  int64_t blockBytes = squant_rt_block_bytes(w->bits);
  int64_t rowBytes = (k / 32) * blockBytes;
  for (int r = 0; r < nr; ++r) {
    int64_t n = n0 + r;
    __m512 table = rowTable(p, n);
    const uint8_t *row = w->codes + n * rowBytes;
    for (int64_t c = 0; c < kc; c += 32) {
      int64_t b = (k0 + c) / 32, param = n * groups + (k0 + c) / gs;
      __m512 v0, v1;
      blockValues(row + b * blockBytes, w->bits, w->is_signed, table, &v0, &v1);
      if (w->form == SQUANT_RT_FORM_FMA) {
        __m512 s = _mm512_set1_ps(w->scales[param]), bb = _mm512_set1_ps(w->bias[param]);
        v0 = _mm512_fmadd_ps(v0, s, bb);
        v1 = _mm512_fmadd_ps(v1, s, bb);
      } else if (w->form == SQUANT_RT_FORM_LUT_INT8) {
        __m512 s = _mm512_set1_ps(w->scales[param]);
        v0 = _mm512_mul_ps(s, v0);
        v1 = _mm512_mul_ps(s, v1);
      }
      _mm512_storeu_ps(panel + r * SQUANT_KC + c, v0);
      _mm512_storeu_ps(panel + r * SQUANT_KC + c + 16, v1);
    }
  }
}

static inline float hsum(__m512 v) { return _mm512_reduce_add_ps(v); }

/* y[m][n0..n0+nr) += x[m][k0..k0+kc) . panel, for rows m0..m0+mr. */
static inline __attribute__((always_inline)) void
tile(const squant_rt_qgemm_params *p, const float *panel, int64_t n0, int nr,
     int64_t m0, const int mr, int64_t k0, int64_t kc) {
  __m512 acc[SQUANT_MR][SQUANT_NR];
  const float *x[SQUANT_MR];
  for (int i = 0; i < mr; ++i) {
    x[i] = p->x + (m0 + i) * p->x_stride + k0;
    for (int j = 0; j < SQUANT_NR; ++j)
      acc[i][j] = _mm512_setzero_ps();
  }
  for (int64_t c = 0; c < kc; c += 16) {
    __m512 xv[SQUANT_MR];
    for (int i = 0; i < mr; ++i)
      xv[i] = _mm512_loadu_ps(x[i] + c);
    for (int j = 0; j < SQUANT_NR; ++j) {
      __m512 wv = _mm512_loadu_ps(panel + j * SQUANT_KC + c);
      for (int i = 0; i < mr; ++i)
        acc[i][j] = _mm512_fmadd_ps(xv[i], wv, acc[i][j]);
    }
  }
  for (int i = 0; i < mr; ++i)
    for (int j = 0; j < nr; ++j)
      p->y[(m0 + i) * p->y_stride + n0 + j] += hsum(acc[i][j]);
}

static void gemmRows(const squant_rt_qgemm_params *p, int64_t n0, int nr,
                     float *panel) {
  int64_t k = p->w->k;
  for (int64_t m = 0; m < p->m; ++m)
    for (int j = 0; j < nr; ++j)
      p->y[m * p->y_stride + n0 + j] = 0.0f;
  for (int j = nr; j < SQUANT_NR; ++j) /* rows past the end multiply by 0 */
    for (int64_t c = 0; c < SQUANT_KC; ++c)
      panel[j * SQUANT_KC + c] = 0.0f;
  for (int64_t k0 = 0; k0 < k; k0 += SQUANT_KC) {
    int64_t kc = k - k0 < SQUANT_KC ? k - k0 : SQUANT_KC;
    decodePanel(p, n0, nr, k0, kc, panel);
    int64_t m0 = 0;
    for (; m0 + SQUANT_MR <= p->m; m0 += SQUANT_MR)
      tile(p, panel, n0, nr, m0, SQUANT_MR, k0, kc);
    switch (p->m - m0) {
    case 3:
      tile(p, panel, n0, nr, m0, 3, k0, kc);
      break;
    case 2:
      tile(p, panel, n0, nr, m0, 2, k0, kc);
      break;
    case 1:
      tile(p, panel, n0, nr, m0, 1, k0, kc);
      break;
    default:
      break;
    }
  }
}

/* GEMV over all rows with `bits` a constant after inlining, so the unpack
 * code has no branch on the width. */
static inline __attribute__((always_inline)) void
gemvAll(const squant_rt_qgemm_params *p, const int32_t bits) {
  int64_t n = p->n_begin;
  for (; n + SQUANT_NR <= p->n_end; n += SQUANT_NR)
    gemvRows(p, n, SQUANT_NR, bits);
  switch (p->n_end - n) {
  case 3:
    gemvRows(p, n, 3, bits);
    break;
  case 2:
    gemvRows(p, n, 2, bits);
    break;
  case 1:
    gemvRows(p, n, 1, bits);
    break;
  default:
    break;
  }
}

static void gemv1(const squant_rt_qgemm_params *p) { gemvAll(p, 1); }
static void gemv2(const squant_rt_qgemm_params *p) { gemvAll(p, 2); }
static void gemv3(const squant_rt_qgemm_params *p) { gemvAll(p, 3); }
static void gemv4(const squant_rt_qgemm_params *p) { gemvAll(p, 4); }
static void gemv8(const squant_rt_qgemm_params *p) { gemvAll(p, 8); }

void squant_rt_qgemm_avx512(const squant_rt_qgemm_params *p) {
  if (p->m == 1) {
    switch (p->w->bits) {
    case 1:
      gemv1(p);
      return;
    case 2:
      gemv2(p);
      return;
    case 3:
      gemv3(p);
      return;
    case 4:
      gemv4(p);
      return;
    default:
      gemv8(p);
      return;
    }
  }
  float panel[SQUANT_NR * SQUANT_KC] __attribute__((aligned(64)));
  for (int64_t n = p->n_begin; n < p->n_end; n += SQUANT_NR)
    gemmRows(p, n, p->n_end - n < SQUANT_NR ? (int)(p->n_end - n) : SQUANT_NR,
             panel);
}
