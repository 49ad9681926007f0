/*===- gemm_avx2.c - AVX2 + FMA qgemm -------------------------------------===//
 *
 * The AVX-512 kernel's three paths (gemm_avx512.c) on 8 lanes and 16
 * registers, for CPUs without AVX-512:
 *
 * GEMV (M = 1): two output rows at a time (from the two halves of the
 * range: two streams), each 32-code block as four vectors of 8 values
 * (squantIndices8: a broadcast load and one vpsrlvd per 8 codes) times x
 * in k order, four dot chains per row. The FMA form's 4-bit codes convert
 * directly (a mask or a sign extension and a vcvtdq2ps, where the
 * 16-entry lookup takes two vpermps and a blend); 8-bit codes widen and
 * convert; the rest look up the row's table (one vpermps up to 3 bits,
 * whose tables are replicated to 8 entries). The group factorization
 * applies s once per group and b * sum(x) once per group after the K loop.
 *
 * Small M (2..8): K-vectorized like the GEMV with exact weights (the
 * group's values fma(T[i], s, b), s_t * T[i] or the fp32 entry as a table,
 * or fma(q, s, b) for 8 bits), each decoded block shared by every
 * activation row, K in chunks whose copy of x stays in L1.
 *
 * GEMM (M > 8): 12 rows of exact weights are decoded once per K chunk of
 * 256 columns into an L1 panel and reused by every activation row; the
 * micro-tile broadcasts a weight and multiplies it with 16 activation rows
 * of X^T (6 x 2 accumulators, 12 FMAs per 8 loads). Each output is summed
 * over k in order with one FMA per product, as in the AVX-512 GEMM, so the
 * two give the same bits.
 *
 *===----------------------------------------------------------------------===*/

#include "../../kernels.h"
#include "decode_block32.h"

#define SQUANT_GEMV_NR 2     /* GEMV: output rows per step */
#define SQUANT_SMALL_M 8     /* up to this M, the K-vectorized small-M path */
#define SQUANT_SMALL_AHEAD 4 /* rows ahead that a chunk's pass prefetches */
#define SQUANT_GR 12         /* GEMM: panel rows (two micro-tiles of 6) */
#define SQUANT_TILE_ROWS 6
#define SQUANT_KC 256 /* GEMM: K chunk */
#define SQUANT_PANEL_STRIDE (SQUANT_KC + 16)
#define SQUANT_GEMM_NB 16 /* blocks of SQUANT_GR rows per N chunk */
#define SQUANT_GEMM_MS 4  /* slices of 32 activation rows per M chunk */
#define SQUANT_SLICE 32   /* api.c's X^T slices */

_Static_assert((SQUANT_GR * SQUANT_PANEL_STRIDE +
                SQUANT_GEMM_NB * SQUANT_GEMM_MS * SQUANT_GR * SQUANT_SLICE) *
                       sizeof(float) <=
                   SQUANT_RT_GEMM_SCRATCH,
               "the AVX2 GEMM's panel and tiles fit the GEMM scratch");

/* A 16-entry table of floats in two registers. */
typedef struct {
  __m256 lo, hi;
} SquantTable16;

/* The value of each index for row n: p->values, or the row's own fp32
 * table (LUT_F32 with a table per row), replicated to 16 entries. */
static inline SquantTable16 rowTable(const squant_rt_qgemm_params *p,
                                     int64_t n) {
  const squant_rt_qweight *w = p->w;
  const float *values = p->values;
  float row[16];
  if (w->form == SQUANT_RT_FORM_LUT_F32 && w->num_tables > 1) {
    int64_t entries = (int64_t)1 << w->bits;
    for (int64_t i = 0; i < 16; ++i)
      row[i] = w->ftable[n * entries + i % entries];
    values = row;
  }
  SquantTable16 t = {_mm256_loadu_ps(values), _mm256_loadu_ps(values + 8)};
  return t;
}

/* Eight values from eight indices (low bits valid): one vpermps for
 * tables of up to 8 (replicated) entries, two blended on bit 3 for 16. */
static inline __attribute__((always_inline)) __m256
lookup8(__m256i i, SquantTable16 t, const int32_t bits) {
  __m256 v = _mm256_permutevar8x32_ps(t.lo, i);
  if (bits < 4)
    return v;
  __m256 u = _mm256_permutevar8x32_ps(t.hi, i);
  __m256 useHi = _mm256_castsi256_ps(_mm256_slli_epi32(i, 28)); /* bit 3 */
  return _mm256_blendv_ps(v, u, useHi);
}

/* Up to 4 bits, the 16 exact weights of group `param`: fma(T[i], s, b),
 * s * T[i] or T[i] (the AVX-512 GEMM's squantGroupValues, the same
 * operations on the same values). 8-bit codes: the table itself. */
static inline __attribute__((always_inline)) SquantTable16
groupValues(const squant_rt_qweight *w, SquantTable16 t, int64_t param,
            const int32_t bits) {
  if (bits == 8 || w->form == SQUANT_RT_FORM_LUT_F32)
    return t;
  __m256 s = _mm256_set1_ps(w->scales[param]);
  if (w->form == SQUANT_RT_FORM_LUT_INT8) {
    t.lo = _mm256_mul_ps(s, t.lo);
    t.hi = _mm256_mul_ps(s, t.hi);
    return t;
  }
  __m256 b = _mm256_set1_ps(w->bias[param]);
  t.lo = _mm256_fmadd_ps(t.lo, s, b);
  t.hi = _mm256_fmadd_ps(t.hi, s, b);
  return t;
}

/* The low nibble of each lane as a float: unsigned, or sign-extended. */
static inline __attribute__((always_inline)) __m256 nibbleValues(__m256i i,
                                                                 int isSigned) {
  if (isSigned)
    return _mm256_cvtepi32_ps(_mm256_srai_epi32(_mm256_slli_epi32(i, 28), 28));
  return _mm256_cvtepi32_ps(_mm256_and_si256(i, _mm256_set1_epi32(15)));
}

/* Values of codes 16h + 8q .. 16h + 8q + 7 of a block, before scaling:
 * 8-bit codes widened and converted; `direct` (the FMA form's 4-bit
 * codes) the nibble masked or sign-extended and converted; the others
 * looked up in t. */
static inline __attribute__((always_inline)) __m256
codeValues(const uint8_t *block, int h, int q, const int32_t bits,
           const int isSigned, const int direct, SquantTable16 t) {
  if (bits == 8) {
    __m128i raw = _mm_loadl_epi64((const __m128i *)(block + 16 * h + 8 * q));
    return _mm256_cvtepi32_ps(isSigned ? _mm256_cvtepi8_epi32(raw)
                                       : _mm256_cvtepu8_epi32(raw));
  }
  __m256i i = squantIndices8(block, bits, h, q);
  return direct ? nibbleValues(i, isSigned) : lookup8(i, t, bits);
}

/* The exact weights of codes 16h .. 16h + 15 of a block of group
 * `param` (groupTable from groupValues): looked up up to 4 bits; 8-bit
 * codes take fma(q, s, b) per code. */
static inline __attribute__((always_inline)) void
halfBlockWeights(const squant_rt_qweight *w, const uint8_t *block, int h,
                 SquantTable16 groupTable, int64_t param, const int32_t bits,
                 __m256 v[2]) {
  for (int q = 0; q < 2; ++q) {
    v[q] = codeValues(block, h, q, bits, w->is_signed, 0, groupTable);
    if (bits == 8)
      v[q] = _mm256_fmadd_ps(v[q], _mm256_set1_ps(w->scales[param]),
                             _mm256_set1_ps(w->bias[param]));
  }
}

static inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

/* sum_g bias[g] * xsum[g] over `groups` groups, 8 per FMA. */
static inline float biasDot(const float *bias, const float *xsum,
                            int64_t groups) {
  __m256 acc = _mm256_setzero_ps();
  int64_t g = 0;
  for (; g + 8 <= groups; g += 8)
    acc = _mm256_fmadd_ps(_mm256_loadu_ps(bias + g), _mm256_loadu_ps(xsum + g),
                          acc);
  float sum = hsum8(acc);
  for (; g < groups; ++g)
    sum += bias[g] * xsum[g];
  return sum;
}

/* GEMV for rows n0 and n0 + stride (nr of them, a constant after
 * inlining). */
static inline __attribute__((always_inline)) void
gemvRows(const squant_rt_qgemm_params *p, int64_t n0, int64_t stride,
         const int nr, const int32_t bits, const int tile16, const int direct) {
  const squant_rt_qweight *w = p->w;
  int64_t k = w->k, gs = w->group_size, groups = k / gs;
  int64_t blockBytes = squant_rt_block_bytes(bits);
  int64_t rowBytes = (k / 32) * blockBytes;
  int scaled = w->form != SQUANT_RT_FORM_LUT_F32;
  SquantTable16 table[SQUANT_GEMV_NR];
  __m256 acc[SQUANT_GEMV_NR];
  const uint8_t *row[SQUANT_GEMV_NR];
  for (int r = 0; r < nr; ++r) {
    table[r] = rowTable(p, n0 + r * stride);
    acc[r] = _mm256_setzero_ps();
    row[r] = squant_rt_row_codes(w, n0 + r * stride);
  }
  for (int64_t g = 0; g < groups; ++g) {
    __m256 d[SQUANT_GEMV_NR][4];
    for (int r = 0; r < nr; ++r)
      for (int j = 0; j < 4; ++j)
        d[r][j] = _mm256_setzero_ps();
    int64_t first = g * gs / 32, last = (g + 1) * gs / 32;
    /* Each row's successor in memory is the next row of its stream. */
    for (int r = 0; r < nr && !tile16; ++r)
      for (int64_t off = first * blockBytes; off < last * blockBytes; off += 64)
        _mm_prefetch((const char *)(row[r] + off + rowBytes), _MM_HINT_T0);
    for (int64_t b = first; b < last; ++b) {
      const float *xb = p->x + b * 32;
      for (int r = 0; r < nr; ++r) {
        uint8_t tmp[SQUANT_RT_BLOCK_BYTES_MAX];
        const uint8_t *block =
            squantBlockOf(w, row[r], n0 + r * stride, b, bits, tmp, tile16);
        for (int j = 0; j < 4; ++j)
          d[r][j] = _mm256_fmadd_ps(_mm256_loadu_ps(xb + 8 * j),
                                    codeValues(block, j / 2, j % 2, bits,
                                               w->is_signed, direct, table[r]),
                                    d[r][j]);
      }
    }
    for (int r = 0; r < nr; ++r) {
      __m256 dot = _mm256_add_ps(_mm256_add_ps(d[r][0], d[r][1]),
                                 _mm256_add_ps(d[r][2], d[r][3]));
      if (!scaled) {
        acc[r] = _mm256_add_ps(acc[r], dot);
        continue;
      }
      int64_t param = (n0 + r * stride) * groups + g;
      acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(w->scales[param]), dot, acc[r]);
    }
  }
  for (int r = 0; r < nr; ++r) {
    float bsum =
        w->form == SQUANT_RT_FORM_FMA
            ? biasDot(w->bias + (n0 + r * stride) * groups, p->xsum, groups)
            : 0.0f;
    p->y[n0 + r * stride] = hsum8(acc[r]) + bsum;
  }
}

/* The rows of a step come from the two halves of the range: two linear
 * streams through memory. */
static inline __attribute__((always_inline)) void
gemvAll(const squant_rt_qgemm_params *p, const int32_t bits, const int tile16) {
  int direct = bits == 4 && p->w->form == SQUANT_RT_FORM_FMA;
  int64_t q = (p->n_end - p->n_begin) / SQUANT_GEMV_NR;
  for (int64_t n = p->n_begin; n < p->n_begin + q; ++n)
    direct ? gemvRows(p, n, q, 2, bits, tile16, 1)
           : gemvRows(p, n, q, 2, bits, tile16, 0);
  if (p->n_begin + SQUANT_GEMV_NR * q < p->n_end)
    direct ? gemvRows(p, p->n_end - 1, 1, 1, bits, tile16, 1)
           : gemvRows(p, p->n_end - 1, 1, 1, bits, tile16, 0);
}

/* Small M (2..SQUANT_SMALL_M): blocks [b0, b1) of row n and the first mr
 * (4 or 8) rows of xc (the chunk's copy of x, [block][8][32], zero past
 * M): y = the chunk's dot (first chunk) or y += it, for the first `live`
 * rows. With 4 rows each keeps two chains (the FMA latency). A block is
 * decoded and multiplied half by half, and the row's table read from
 * memory at each group: 16 registers hold 8 accumulators, a half-block's
 * two vectors, the group's table and the decode's constants. */
static inline __attribute__((always_inline)) void
smallRow(const squant_rt_qgemm_params *p, int64_t n, const int mr, int live,
         int64_t b0, int64_t b1, const float *xc, const int32_t bits,
         const int tile16) {
  const squant_rt_qweight *w = p->w;
  int64_t gs = w->group_size, groups = w->k / gs, groupBlocks = gs / 32;
  const int chains = mr <= 4 ? 2 : 1;
  float rowValues[16];
  {
    SquantTable16 t = rowTable(p, n);
    _mm256_storeu_ps(rowValues, t.lo);
    _mm256_storeu_ps(rowValues + 8, t.hi);
  }
  SquantTable16 groupTable;
  const uint8_t *row = squant_rt_row_codes(w, n);
  __m256 acc[SQUANT_SMALL_M][2];
  for (int i = 0; i < mr; ++i)
    for (int c = 0; c < chains; ++c)
      acc[i][c] = _mm256_setzero_ps();
  /* The chunk's bytes of the row SQUANT_SMALL_AHEAD further on, a line
   * per block (as the AVX-512 small-M path: the hardware prefetchers do
   * not follow a K chunk's pass over the rows). */
  int64_t gFirst = b0 / groupBlocks;
  uintptr_t ahead = 0;
  int64_t aheadLines = 0;
  if (n + SQUANT_SMALL_AHEAD < p->n_end &&
      w->layout == SQUANT_RT_LAYOUT_BLOCK32_V1) {
    int64_t blockBytes = squant_rt_block_bytes(bits);
    int64_t params = (b1 - 1) / groupBlocks - gFirst + 1;
    int64_t r = n + SQUANT_SMALL_AHEAD;
    const uint8_t *first = squant_rt_row_codes(w, r) + b0 * blockBytes;
    ahead = (uintptr_t)first & ~(uintptr_t)63;
    aheadLines = ((uintptr_t)first + (b1 - b0) * blockBytes - ahead + 63) / 64;
    if (w->form != SQUANT_RT_FORM_LUT_F32)
      squant_rt_prefetch_range(w->scales + r * groups + gFirst,
                               params * (int64_t)sizeof(float));
    if (w->form == SQUANT_RT_FORM_FMA)
      squant_rt_prefetch_range(w->bias + r * groups + gFirst,
                               params * (int64_t)sizeof(float));
  }
  /* The group counted, not divided per block. */
  int64_t g = gFirst - 1, groupEnd = b0;
  const float *xb = xc;
  for (int64_t b = b0; b < b1; ++b, xb += SQUANT_SMALL_M * 32) {
    if (b - b0 < aheadLines)
      _mm_prefetch((const char *)(ahead + (b - b0) * 64), _MM_HINT_T2);
    if (b == groupEnd) {
      ++g;
      groupEnd = (g + 1) * groupBlocks;
      SquantTable16 t = {_mm256_loadu_ps(rowValues),
                         _mm256_loadu_ps(rowValues + 8)};
      groupTable = groupValues(w, t, n * groups + g, bits);
    }
    uint8_t tmp[SQUANT_RT_BLOCK_BYTES_MAX];
    const uint8_t *block = squantBlockOf(w, row, n, b, bits, tmp, tile16);
    for (int h = 0; h < 2; ++h) {
      __m256 v[2];
      halfBlockWeights(w, block, h, groupTable, n * groups + g, bits, v);
      for (int i = 0; i < mr; ++i)
        for (int j = 0; j < 2; ++j)
          acc[i][j % chains] =
              _mm256_fmadd_ps(_mm256_load_ps(xb + i * 32 + 16 * h + 8 * j),
                              v[j], acc[i][j % chains]);
    }
  }
  for (int i = 0; i < live; ++i) {
    __m256 a = chains == 2 ? _mm256_add_ps(acc[i][0], acc[i][1]) : acc[i][0];
    float *y = p->y + i * p->y_stride + n;
    float dot = hsum8(a);
    *y = b0 == 0 ? dot : *y + dot;
  }
}

/* K in chunks of SQUANT_RT_SMALL_KC columns over all rows, the chunk of x
 * copied block by block into the scratch (one linear stream in L1); each
 * output adds its chunks' sums in order of k, so the result does not
 * depend on how rows are split among threads. M = 5..8 runs as one pass
 * of 8 rows and M = 2..4 as one of 4, padding rows zero. */
static inline __attribute__((always_inline)) void
smallAll(const squant_rt_qgemm_params *p, const int32_t bits,
         const int tile16) {
  int64_t blocks = p->w->k / 32, chunkBlocks = SQUANT_RT_SMALL_KC / 32;
  float *xc = p->scratch; /* [block][8][32] */
  int mr = p->m > 4 ? 8 : 4;
  for (int64_t b0 = 0; b0 < blocks; b0 += chunkBlocks) {
    int64_t b1 = blocks - b0 < chunkBlocks ? blocks : b0 + chunkBlocks;
    for (int64_t b = b0; b < b1; ++b)
      for (int64_t i = 0; i < SQUANT_SMALL_M; ++i)
        for (int j = 0; j < 4; ++j) {
          float *out = xc + ((b - b0) * SQUANT_SMALL_M + i) * 32 + 8 * j;
          _mm256_store_ps(out, i < p->m
                                   ? _mm256_loadu_ps(p->x + i * p->x_stride +
                                                     b * 32 + 8 * j)
                                   : _mm256_setzero_ps());
        }
    for (int64_t n = p->n_begin; n < p->n_end; ++n)
      mr == 8 ? smallRow(p, n, 8, (int)p->m, b0, b1, xc, bits, tile16)
              : smallRow(p, n, 4, (int)p->m, b0, b1, xc, bits, tile16);
  }
}

/* Exact weights of rows [n0, n0 + nr) and columns [k0, k0 + kc) into
 * panel[r][0..kc) (row stride SQUANT_PANEL_STRIDE); rows nr..SQUANT_GR-1
 * zero. The same columns of rows [pn, ..) at pk are prefetched: the next
 * panel. */
static inline __attribute__((always_inline)) void
decodePanel(const squant_rt_qgemm_params *p, int64_t n0, int nr, int64_t k0,
            int64_t kc, float *panel, int64_t pn, int64_t pk,
            const int32_t bits, const int tile16) {
  const squant_rt_qweight weight = *p->w, *w = &weight; /* no aliasing */
  int64_t gs = w->group_size, groups = w->k / gs;
  if (w->layout == SQUANT_RT_LAYOUT_BLOCK32_V1 && pk < w->k)
    squant_rt_prefetch_rows(
        w, pn, p->n_end - pn < SQUANT_GR ? p->n_end - pn : SQUANT_GR, pk,
        w->k - pk < SQUANT_KC ? w->k - pk : SQUANT_KC, bits);
  int64_t g0 = k0 / gs;
  for (int r = 0; r < SQUANT_GR; ++r) {
    float *out = panel + r * SQUANT_PANEL_STRIDE;
    if (r >= nr) {
      for (int64_t c = 0; c < kc; c += 8)
        _mm256_storeu_ps(out + c, _mm256_setzero_ps());
      continue;
    }
    int64_t n = n0 + r;
    SquantTable16 table = rowTable(p, n);
    const uint8_t *row = squant_rt_row_codes(w, n);
    int64_t param = n * groups + g0, paramEnd = (g0 + 1) * gs;
    SquantTable16 groupTable = groupValues(w, table, param, bits);
    for (int64_t c = 0; c < kc; c += 32) {
      if (k0 + c >= paramEnd) {
        ++param;
        paramEnd += gs;
        groupTable = groupValues(w, table, param, bits);
      }
      uint8_t tmp[SQUANT_RT_BLOCK_BYTES_MAX];
      const uint8_t *block =
          squantBlockOf(w, row, n, (k0 + c) / 32, bits, tmp, tile16);
      for (int h = 0; h < 2; ++h) {
        __m256 v[2];
        halfBlockWeights(w, block, h, groupTable, param, bits, v);
        _mm256_storeu_ps(out + c + 16 * h, v[0]);
        _mm256_storeu_ps(out + c + 16 * h + 8, v[1]);
      }
    }
  }
}

/* ct[r][0 .. 8 mw) += sum_k panel[r][k] * xt[k][0 ..] over the chunk for
 * SQUANT_TILE_ROWS panel rows and mw vectors of 8 activation rows (xt:
 * a slice's [k][32] at the half's first row), continued from ct unless
 * first. */
static inline __attribute__((always_inline)) void
microTile(const float *panel, const float *xt, int64_t kc, float *ct,
          const int mw, int first) {
  __m256 acc[SQUANT_TILE_ROWS][2];
  for (int r = 0; r < SQUANT_TILE_ROWS; ++r)
    for (int j = 0; j < mw; ++j)
      acc[r][j] = first ? _mm256_setzero_ps()
                        : _mm256_loadu_ps(ct + r * SQUANT_SLICE + 8 * j);
  for (int64_t c = 0; c < kc; ++c) {
    __m256 x0 = _mm256_load_ps(xt + c * SQUANT_SLICE);
    __m256 x1 = mw > 1 ? _mm256_load_ps(xt + c * SQUANT_SLICE + 8) : x0;
    for (int r = 0; r < SQUANT_TILE_ROWS; ++r) {
      __m256 wv = _mm256_broadcast_ss(panel + r * SQUANT_PANEL_STRIDE + c);
      acc[r][0] = _mm256_fmadd_ps(wv, x0, acc[r][0]);
      if (mw > 1)
        acc[r][1] = _mm256_fmadd_ps(wv, x1, acc[r][1]);
    }
  }
  for (int r = 0; r < SQUANT_TILE_ROWS; ++r)
    for (int j = 0; j < mw; ++j)
      _mm256_storeu_ps(ct + r * SQUANT_SLICE + 8 * j, acc[r][j]);
}

/* Every micro-tile of one slice of mc (<= 32) activation rows: its halves
 * of 16 rows (one or two vectors), each with the panel's two groups of
 * rows. */
static inline __attribute__((always_inline)) void
sliceTiles(const float *panel, const float *xt, int64_t kc, float *ct,
           int64_t mc, int first) {
  for (int64_t h = 0; h < mc; h += 16)
    for (int r0 = 0; r0 < SQUANT_GR; r0 += SQUANT_TILE_ROWS) {
      const float *pr = panel + r0 * SQUANT_PANEL_STRIDE;
      float *cr = ct + r0 * SQUANT_SLICE + h;
      if (mc - h > 8)
        microTile(pr, xt + h, kc, cr, 2, first);
      else
        microTile(pr, xt + h, kc, cr, 1, first);
    }
}

/* GEMM for M > SQUANT_SMALL_M, in the thread's scratch (api.c provides
 * SQUANT_RT_GEMM_SCRATCH bytes). The loops of the AVX-512 GEMM: M chunks
 * of SQUANT_GEMM_MS slices, N chunks of SQUANT_GEMM_NB blocks whose
 * tiles stay in L2, K chunks of SQUANT_KC columns (the M chunk's X^T for
 * it, 128 KiB, in L2), blocks decoded once into the L1 panel (13 KiB) and
 * passed over by every slice's micro-tiles. */
static inline __attribute__((always_inline)) void
gemmAll(const squant_rt_qgemm_params *p, const int32_t bits, const int tile16) {
  int64_t k = p->w->k;
  float *panel = p->scratch;
  float *tiles = p->scratch + SQUANT_GR * SQUANT_PANEL_STRIDE;
  int64_t slices = (p->m + SQUANT_SLICE - 1) / SQUANT_SLICE;
  for (int64_t s0 = 0; s0 < slices; s0 += SQUANT_GEMM_MS) {
    int64_t ms = slices - s0 < SQUANT_GEMM_MS ? slices - s0 : SQUANT_GEMM_MS;
    for (int64_t c0 = p->n_begin; c0 < p->n_end;
         c0 += SQUANT_GEMM_NB * SQUANT_GR) {
      int64_t c1 = p->n_end - c0 < SQUANT_GEMM_NB * SQUANT_GR
                       ? p->n_end
                       : c0 + SQUANT_GEMM_NB * SQUANT_GR;
      for (int64_t k0 = 0; k0 < k; k0 += SQUANT_KC) {
        int64_t kc = k - k0 < SQUANT_KC ? k - k0 : SQUANT_KC;
        for (int64_t n0 = c0; n0 < c1; n0 += SQUANT_GR) {
          int nr = c1 - n0 < SQUANT_GR ? (int)(c1 - n0) : SQUANT_GR;
          int64_t pn = n0 + SQUANT_GR < c1 ? n0 + SQUANT_GR : c0;
          int64_t pk = n0 + SQUANT_GR < c1 ? k0 : k0 + SQUANT_KC;
          decodePanel(p, n0, nr, k0, kc, panel, pn, pk, bits, tile16);
          float *blockTiles =
              tiles + (n0 - c0) / SQUANT_GR * ms * SQUANT_GR * SQUANT_SLICE;
          for (int64_t s = 0; s < ms; ++s) {
            int64_t m0 = (s0 + s) * SQUANT_SLICE;
            int64_t mc = p->m - m0 < SQUANT_SLICE ? p->m - m0 : SQUANT_SLICE;
            sliceTiles(panel, p->xt + m0 * k + k0 * SQUANT_SLICE, kc,
                       blockTiles + s * SQUANT_GR * SQUANT_SLICE, mc, k0 == 0);
          }
        }
      }
      /* The chunk's outputs: tile[r][m] to y[m][n0 + r]. */
      for (int64_t n0 = c0; n0 < c1; n0 += SQUANT_GR) {
        int nr = c1 - n0 < SQUANT_GR ? (int)(c1 - n0) : SQUANT_GR;
        const float *blockTiles =
            tiles + (n0 - c0) / SQUANT_GR * ms * SQUANT_GR * SQUANT_SLICE;
        for (int64_t s = 0; s < ms; ++s) {
          int64_t m0 = (s0 + s) * SQUANT_SLICE;
          int64_t mc = p->m - m0 < SQUANT_SLICE ? p->m - m0 : SQUANT_SLICE;
          const float *tile = blockTiles + s * SQUANT_GR * SQUANT_SLICE;
          for (int64_t i = 0; i < mc; ++i)
            for (int r = 0; r < nr; ++r)
              p->y[(m0 + i) * p->y_stride + n0 + r] =
                  tile[r * SQUANT_SLICE + i];
        }
      }
    }
  }
}

/* Transposes 8 vectors of 8 as an 8 x 8 matrix. */
static inline void transpose8(__m256 r[8]) {
  __m256 t[8], u[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 2; ++i) {
    u[4 * i] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
    u[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
    u[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
    u[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
  }
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
    r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
  }
}

void squant_rt_transpose_slices_avx2(const float *x, int64_t m,
                                     int64_t x_stride, int64_t k, float *xt) {
  for (int64_t r0 = 0; r0 < m; r0 += SQUANT_SLICE) {
    float *slice = xt + r0 * k;
    for (int64_t q = 0; q < SQUANT_SLICE; q += 8)
      for (int64_t c = 0; c < k; c += 8) {
        __m256 v[8];
        for (int64_t i = 0; i < 8; ++i)
          v[i] = r0 + q + i < m
                     ? _mm256_loadu_ps(x + (r0 + q + i) * x_stride + c)
                     : _mm256_setzero_ps();
        transpose8(v);
        for (int64_t i = 0; i < 8; ++i)
          _mm256_store_ps(slice + (c + i) * SQUANT_SLICE + q, v[i]);
      }
  }
}

SQUANT_BLOCK32_SPECIALIZE(gemv, gemvAll)
SQUANT_BLOCK32_SPECIALIZE(small, smallAll)
SQUANT_BLOCK32_SPECIALIZE(gemm, gemmAll)

void squant_rt_qgemm_avx2(const squant_rt_qgemm_params *p) {
  if (p->m == 1)
    gemv(p);
  else if (p->m <= SQUANT_SMALL_M)
    small(p);
  else
    gemm(p);
}
