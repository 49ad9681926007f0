/*===- gemm_avx512.c - AVX-512 qgemm
 *---------------------------------------===//
 *
 * Two paths, both vectorized along K:
 *
 * GEMV (M = 1): four output rows at a time share each 32-element slice of
 * x; each half-block of 16 codes is a broadcast load and one per-lane shift
 * (decode_block32.h), turned into values by one vpermps into a 16-entry
 * table (the code as a float, the int8 LUT entry or the fp32 LUT entry;
 * 8-bit codes convert directly). 2-bit blocks take one shift for all 32
 * codes: the block's 64 bits broadcast to every 64-bit lane and shifted by
 * 4j in lane j leave codes (2j, 2j + 1) at the bottom of 32-bit lane 2j and
 * codes (16 + 2j, 17 + 2j) at the bottom of lane 2j + 1; two lookups, one
 * by the low and one by the high two of those four bits, give all 32
 * values, in an order x is laid out in once per call (xorder). 4-bit
 * codes with K a multiple of 128 are read in 64-byte lines instead
 * (lineDot): four loads at byte offsets 0..3 and four shifts give the
 * line's eight index vectors, x again in their order. Two dot
 * chains per row (eight in flight) hide the FMA latency. The group
 * factorization applies s once per group as a vector FMA and b * sum(x)
 * once per group as a scalar.
 *
 * Small M (2..8): the GEMV's K-vectorized scheme with exact weights
 * (w = fma(q, s, b), s_t * T[i] or the fp32 entry, as the reference
 * dequantizes them), each decoded block shared by up to four rows of x.
 *
 * GEMM (M > 8): 14 rows of exact weights are decoded once per K chunk into
 * an L1 panel and reused by every activation row; the micro-tile broadcasts
 * a weight and multiplies it with 32 activation rows of X^T (14 x 2
 * accumulators, 28 FMAs per 16 loads).
 *
 *===----------------------------------------------------------------------===*/

#include "../../kernels.h"
#include "decode_block32.h"
#include "dequant_avx512.h"
#include "transpose16.h"

#define SQUANT_NR 4 /* GEMV: output rows per step */
#define SQUANT_GR SQUANT_RT_GEMM_GR
#define SQUANT_KC SQUANT_RT_GEMM_KC
#define SQUANT_PANEL_STRIDE SQUANT_RT_GEMM_PANEL_STRIDE
#define SQUANT_GEMM_NB SQUANT_RT_GEMM_NB
#define SQUANT_GEMM_MS SQUANT_RT_GEMM_MS
#define SQUANT_SMALL_M 8 /* up to this M, the K-vectorized small-M path */

static inline __m512 rowTable(const squant_rt_qgemm_params *p, int64_t n) {
  return squantRowTable(p->w, p->values, n);
}

/* sum_g bias[g] * xsum[g] over `groups` groups, 16 per FMA. */
static inline float biasDot(const float *bias, const float *xsum,
                            int64_t groups) {
  __m512 acc = _mm512_setzero_ps();
  int64_t g = 0;
  for (; g + 16 <= groups; g += 16)
    acc = _mm512_fmadd_ps(_mm512_loadu_ps(bias + g), _mm512_loadu_ps(xsum + g),
                          acc);
  if (g < groups) {
    __mmask16 m = (__mmask16)((1u << (groups - g)) - 1u);
    acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, bias + g),
                          _mm512_maskz_loadu_ps(m, xsum + g), acc);
  }
  return _mm512_reduce_add_ps(acc);
}

/* 4-bit GEMV in lines: a 64-byte line of a row (four blocks, 128 codes)
 * loaded at byte offsets 0..3 holds in the low nibble of its 32-bit lane j
 * the low nibble of byte 4j + o of the line, and shifted right by 4 the
 * high one: eight loads-or-shifts give all 128 codes as vpermps indices
 * (the lookup reads the low 4 bits of each lane), four shifts where the
 * half-block decode spends eight. x is read in that order
 * (squant_rt_gemv_x_order_avx512). The loads at offsets 1..3 read up to 3
 * bytes past the line (the next line's, unused); in a row's last line
 * they are masked, so no load reaches past the row. K is a multiple of
 * 128; groups of multiples of 128 take whole lines, and groups of 32 or
 * 64 are scaled per line in the lanes (lane j is in block j / 4); other
 * group sizes (96, 160, ..) take the half-block decode. */
static inline __attribute__((always_inline)) __m512i
lineWord(const uint8_t *line, int o, const int last) {
  if (last && o)
    return _mm512_maskz_loadu_epi8(~(__mmask64)0 >> o, line + o);
  return _mm512_loadu_si512((const void *)(line + o));
}

static inline __attribute__((always_inline)) void
lineDot(const uint8_t *line, const float *xl, __m512 table, __m512 *d0,
        __m512 *d1, const int last) {
#pragma GCC unroll 4
  for (int o = 0; o < 4; ++o) {
    __m512i lo = lineWord(line, o, last);
    __m512i hi = _mm512_srli_epi32(lo, 4);
    *d0 = _mm512_fmadd_ps(_mm512_loadu_ps(xl + 32 * o),
                          _mm512_permutexvar_ps(lo, table), *d0);
    *d1 = _mm512_fmadd_ps(_mm512_loadu_ps(xl + 32 * o + 16),
                          _mm512_permutexvar_ps(hi, table), *d1);
  }
}

/* One line of a row in groups of 32 or 64 codes (four or two per line):
 * lane j of the line's dot is in block j / 4, so its group's scale comes
 * to it by one lookup of the line's scales (laneGroup). */
static inline __attribute__((always_inline)) void
lineGroups(const uint8_t *line, const float *xl, __m512 table,
           const float *scales, __m512i laneGroup, __mmask16 perLine,
           int scaled, __m512 *acc, const int last) {
  __m512 d0 = _mm512_setzero_ps(), d1 = _mm512_setzero_ps();
  lineDot(line, xl, table, &d0, &d1, last);
  __m512 dot = _mm512_add_ps(d0, d1);
  if (!scaled) {
    *acc = _mm512_add_ps(*acc, dot);
    return;
  }
  __m512 s =
      _mm512_permutexvar_ps(laneGroup, _mm512_maskz_loadu_ps(perLine, scales));
  *acc = _mm512_fmadd_ps(s, dot, *acc);
}

/* GEMV for rows [n0, n0 + nr), nr <= 4 a compile-time constant at each
 * call site after inlining; `lines`: 4-bit codes read in lines (above). */
static inline __attribute__((always_inline)) void
gemvRows(const squant_rt_qgemm_params *p, int64_t n0, int64_t stride,
         const int nr, const int32_t bits, const int tile16, const int lines) {
  const squant_rt_qweight *w = p->w;
  int64_t k = w->k, gs = w->group_size, groups = k / gs;
  int64_t blockBytes = squant_rt_block_bytes(bits);
  int64_t rowBytes = (k / 32) * blockBytes;
  int scaled = w->form != SQUANT_RT_FORM_LUT_F32;
  int isFma = w->form == SQUANT_RT_FORM_FMA;
  /* 2 bits, and 4 bits in lines: x in the decode's lane order. */
  const float *x = bits == 2 || lines ? p->xorder : p->x;
  __m512 table[SQUANT_NR], high[SQUANT_NR], acc[SQUANT_NR];
  float bsum[SQUANT_NR];
  const uint8_t *row[SQUANT_NR];
  for (int r = 0; r < nr; ++r) {
    table[r] = rowTable(p, n0 + r * stride);
    /* 2 bits: the value of bits 2..3 of an index (entry i = table[i >> 2]). */
    high[r] =
        _mm512_permutexvar_ps(_mm512_srli_epi32(SQUANT_LANES, 2), table[r]);
    acc[r] = _mm512_setzero_ps();
    bsum[r] = 0.0f;
    row[r] = squant_rt_row_codes(w, n0 + r * stride);
  }
  if (lines && gs < 128) {
    /* Groups of 32 or 64 codes: line by line, each line's groups scaled
     * in its lanes. */
    const __m512i laneGroup = _mm512_srli_epi32(SQUANT_LANES, gs == 32 ? 2 : 3);
    const int64_t perLine = 128 / gs, lineCount = k / 128;
    const __mmask16 lineMask = (__mmask16)((1u << perLine) - 1u);
    const float *scales[SQUANT_NR];
    for (int r = 0; r < nr; ++r) /* LUT_F32: no scales (a null pointer) */
      scales[r] = scaled ? w->scales + (n0 + r * stride) * groups : NULL;
    for (int64_t l = 0; l + 1 < lineCount; ++l)
      for (int r = 0; r < nr; ++r) {
        _mm_prefetch((const char *)(row[r] + 64 * l + rowBytes), _MM_HINT_T0);
        lineGroups(row[r] + 64 * l, x + 128 * l, table[r],
                   scaled ? scales[r] + perLine * l : NULL, laneGroup, lineMask,
                   scaled, &acc[r], 0);
      }
    int64_t l = lineCount - 1;
    for (int r = 0; r < nr; ++r)
      lineGroups(row[r] + 64 * l, x + 128 * l, table[r],
                 scaled ? scales[r] + perLine * l : NULL, laneGroup, lineMask,
                 scaled, &acc[r], 1);
  }
  for (int64_t g = 0; g < groups && !(lines && gs < 128); ++g) {
    __m512 d0[SQUANT_NR], d1[SQUANT_NR];
    for (int r = 0; r < nr; ++r)
      d0[r] = d1[r] = _mm512_setzero_ps();
    /* Each row's successor in memory is the next row of its stream:
     * prefetch this group's bytes there, once per group (no per-block
     * condition in the decode loop). TILE16_V1 rows are not streams. */
    int64_t first = g * gs / 32, last = (g + 1) * gs / 32;
    for (int r = 0;
         r < nr && w->layout == SQUANT_RT_LAYOUT_BLOCK32_V1 && !lines; ++r)
      for (int64_t off = first * blockBytes; off < last * blockBytes; off += 64)
        _mm_prefetch((const char *)(row[r] + off + rowBytes), _MM_HINT_T0);
    if (lines) {
      /* The row's last line (the last group's) masks its loads. */
      int64_t end = g + 1 < groups ? last / 4 : last / 4 - 1;
      for (int64_t l = first / 4; l < end; ++l)
        for (int r = 0; r < nr; ++r) {
          _mm_prefetch((const char *)(row[r] + 64 * l + rowBytes), _MM_HINT_T0);
          lineDot(row[r] + 64 * l, x + 128 * l, table[r], &d0[r], &d1[r], 0);
        }
      if (g + 1 == groups)
        for (int r = 0; r < nr; ++r)
          lineDot(row[r] + 64 * end, x + 128 * end, table[r], &d0[r], &d1[r],
                  1);
    }
    for (int64_t b = first; b < last && !lines; ++b) {
      __m512 xa = _mm512_loadu_ps(x + b * 32);
      __m512 xb = _mm512_loadu_ps(x + b * 32 + 16);
      for (int r = 0; r < nr; ++r) {
        __m512 v0, v1;
        uint8_t tmp[SQUANT_RT_BLOCK_BYTES_MAX];
        const uint8_t *block =
            squantBlockOf(w, row[r], n0 + r * stride, b, bits, tmp, tile16);
        if (bits == 2) {
          __m512i pairs = _mm512_srlv_epi64(
              _mm512_set1_epi64((long long)squantLoad64(block)),
              _mm512_setr_epi64(0, 4, 8, 12, 16, 20, 24, 28));
          v0 = _mm512_permutexvar_ps(pairs, table[r]);
          v1 = _mm512_permutexvar_ps(pairs, high[r]);
        } else {
          squantBlockValues(block, bits, w->is_signed, table[r], &v0, &v1);
        }
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
      int64_t param = (n0 + r * stride) * groups + g;
      acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(w->scales[param]), dot, acc[r]);
    }
  }
  /* FMA form: sum_g b[n][g] * sum(x of group g), 16 groups per FMA after
   * the K loop (per group, a scalar multiply and add per row competed with
   * the decode for the vector ports: int2 4096x4096 0.537 -> 0.514 ms). */
  for (int r = 0; r < nr; ++r)
    if (isFma)
      bsum[r] = biasDot(w->bias + (n0 + r * stride) * groups, p->xsum, groups);
  for (int r = 0; r < nr; ++r)
    p->y[n0 + r * stride] = _mm512_reduce_add_ps(acc[r]) + bsum[r];
}

/* Exact weights of rows [n0, n0 + nr) and columns [k0, k0 + kc) into
 * panel[r][0..kc) (row stride ps); rows nr..SQUANT_GR-1 are zero. The
 * same columns of rows [pn, pn + nr) at pk are prefetched: the GEMM's next
 * panel. A K chunk of a block is short runs of lines one row apart, which
 * the hardware prefetchers do not follow; without this, each panel's
 * decode waited on memory (int4 M = 128 4096x4096, one thread: ~0.3 ms of
 * 22). */
static inline __attribute__((always_inline)) void
decodePanel(const squant_rt_qgemm_params *p, int64_t n0, int nr, int64_t k0,
            int64_t kc, float *panel, int64_t ps, int64_t pn, int64_t pk,
            const int32_t bits, const int tile16) {
  /* A copy the panel's stores cannot alias: with p->w, every store made
   * the loop load the form and the parameter pointers again (at group 32,
   * once per block). */
  const squant_rt_qweight weight = *p->w, *w = &weight;
  int64_t gs = w->group_size, groups = w->k / gs;
  if (w->layout == SQUANT_RT_LAYOUT_BLOCK32_V1 && pk < w->k)
    squant_rt_prefetch_rows(
        w, pn, p->n_end - pn < SQUANT_GR ? p->n_end - pn : SQUANT_GR, pk,
        w->k - pk < SQUANT_KC ? w->k - pk : SQUANT_KC, bits);
  /* The group of each block counted, not divided (a 64-bit division per
   * block was a fifth of the decode). */
  int64_t g0 = k0 / gs, g0End = (g0 + 1) * gs;
  for (int r = 0; r < SQUANT_GR; ++r) {
    if (r >= nr) {
      for (int64_t c = 0; c < kc; c += 16)
        _mm512_storeu_ps(panel + r * ps + c, _mm512_setzero_ps());
      continue;
    }
    int64_t n = n0 + r;
    __m512 table = rowTable(p, n);
    const uint8_t *row = squant_rt_row_codes(w, n);
    int64_t param = n * groups + g0, paramEnd = g0End;
    /* Up to 4 bits, the group's 16 exact weights are a table
     * (squantGroupValues): each block is two lookups and two stores. */
    __m512 groupTable = squantGroupValues(w, table, param, bits);
    for (int64_t c = 0; c < kc; c += 32) {
      int64_t b = (k0 + c) / 32;
      if (k0 + c >= paramEnd) {
        ++param;
        paramEnd += gs;
        groupTable = squantGroupValues(w, table, param, bits);
      }
      __m512 v0, v1;
      uint8_t tmp[SQUANT_RT_BLOCK_BYTES_MAX];
      squantBlockWeights(w, squantBlockOf(w, row, n, b, bits, tmp, tile16),
                         groupTable, param, bits, &v0, &v1);
      _mm512_storeu_ps(panel + r * ps + c, v0);
      _mm512_storeu_ps(panel + r * ps + c + 16, v1);
    }
  }
}

/* ct[r][m0 .. m0 + 16 mw) += sum_k panel[r][k] * xt[k][m0 ..] over the
 * chunk: SQUANT_GR weight rows broadcast from the panel times mw vectors of
 * 16 activation rows (X^T), 14 x 2 accumulators. Each output's sum runs
 * over k in order, continued from ct, whatever the blocking. */
static inline __attribute__((always_inline)) void
microTile(const float *panel, int64_t ps, const float *xt, int64_t mp,
          int64_t kc, float *ct, int64_t mc, const int mw, int first) {
  __m512 acc[SQUANT_GR][2];
  for (int r = 0; r < SQUANT_GR; ++r)
    for (int j = 0; j < mw; ++j)
      acc[r][j] =
          first ? _mm512_setzero_ps() : _mm512_loadu_ps(ct + r * mc + 16 * j);
#pragma GCC unroll 2
  /* Two columns per iteration: 3-6 % more FMAs per cycle (session 34;
   * the loop's counter, compare and branch once per 56 FMAs). */
  for (int64_t c = 0; c < kc; ++c) {
    __m512 x0 = _mm512_loadu_ps(xt + c * mp);
    __m512 x1 = mw > 1 ? _mm512_loadu_ps(xt + c * mp + 16) : x0;
    for (int r = 0; r < SQUANT_GR; ++r) {
      __m512 wv = _mm512_set1_ps(panel[r * ps + c]);
      acc[r][0] = _mm512_fmadd_ps(wv, x0, acc[r][0]);
      if (mw > 1)
        acc[r][1] = _mm512_fmadd_ps(wv, x1, acc[r][1]);
    }
  }
  for (int r = 0; r < SQUANT_GR; ++r)
    for (int j = 0; j < mw; ++j)
      _mm512_storeu_ps(ct + r * mc + 16 * j, acc[r][j]);
}

/* microTile over a slice of mc (<= 32) activation rows: one or two vectors. */
static inline __attribute__((always_inline)) void
sliceTile(const float *panel, int64_t ps, const float *xt, int64_t width,
          int64_t kc, float *ct, int64_t mc, int first) {
  if (mc > 16)
    microTile(panel, ps, xt, width, kc, ct, width, 2, first);
  else
    microTile(panel, ps, xt, width, kc, ct, width, 1, first);
}

/* y[m][0 .. nr) = tile[0 .. nr)[m] for m < mc: the tile's rows of 32
 * activation rows transposed 16 x 16 (scalar stores, one per output, were
 * 1.5 % of M = 128). */
static inline void storeTile(const float *tile, int64_t width, int nr,
                             int64_t mc, float *y, int64_t yStride) {
  __mmask16 rows = (__mmask16)((1u << nr) - 1u);
  for (int64_t h = 0; h < mc; h += 16) {
    __m512 v[16];
    for (int r = 0; r < 16; ++r)
      v[r] = r < SQUANT_GR ? _mm512_loadu_ps(tile + r * width + h)
                           : _mm512_setzero_ps();
    squantTranspose16(v);
    for (int64_t i = 0; i < 16 && h + i < mc; ++i)
      _mm512_mask_storeu_ps(y + (h + i) * yStride, rows, v[i]);
  }
}

/* GEMM for M > SQUANT_SMALL_M, in the thread's scratch (api.c provides
 * SQUANT_RT_GEMM_SCRATCH bytes: the pool thread's, or the workspace's
 * without a pool). The loops, outermost first:
 * - M chunks of SQUANT_GEMM_MS slices of 32 activation rows (api.c
 *   transposes x once per call into slices [k][32], padding rows zero);
 * - N chunks of SQUANT_GEMM_NB blocks of SQUANT_GR weight rows, whose
 *   tiles (the chunk's outputs, 112 KiB) stay in L2;
 * - K chunks of SQUANT_KC columns: the M chunk's X^T for it (128 KiB)
 *   stays in L2 while every block of the N chunk passes over it;
 * - blocks: exact weights decoded once into the L1 panel (14 KiB), then
 *   every slice's micro-tile over the chunk, continued from its tile.
 * Each output is summed over k in order, whatever the blocking, so every
 * thread count gives the same bits. (All of K per block, with X^T of
 * M = 128 streamed from L3 for every block, ran the micro-tiles at
 * ~190 GFLOP/s; these loops at ~225.) */
static inline __attribute__((always_inline)) void
gemmAll(const squant_rt_qgemm_params *p, const int32_t bits, const int tile16) {
  int64_t k = p->w->k, width = p->xt_stride;
  float *panel = p->scratch;
  float *tiles =
      p->scratch + SQUANT_GR * SQUANT_PANEL_STRIDE; /* [block][slice][GR][32] */
  int64_t slices = (p->m + width - 1) / width;
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
          decodePanel(p, n0, nr, k0, kc, panel, SQUANT_PANEL_STRIDE, pn, pk,
                      bits, tile16);
          float *blockTiles =
              tiles + (n0 - c0) / SQUANT_GR * ms * SQUANT_GR * width;
          for (int64_t s = 0; s < ms; ++s) {
            int64_t mc = p->m - (s0 + s) * width < width
                             ? p->m - (s0 + s) * width
                             : width;
            sliceTile(panel, SQUANT_PANEL_STRIDE,
                      p->xt + (s0 + s) * width * k + k0 * width, width, kc,
                      blockTiles + s * SQUANT_GR * width, mc, k0 == 0);
          }
        }
      }
      for (int64_t n0 = c0; n0 < c1; n0 += SQUANT_GR) {
        int nr = c1 - n0 < SQUANT_GR ? (int)(c1 - n0) : SQUANT_GR;
        const float *blockTiles =
            tiles + (n0 - c0) / SQUANT_GR * ms * SQUANT_GR * width;
        for (int64_t s = 0; s < ms; ++s) {
          int64_t m0 = (s0 + s) * width;
          int64_t mc = p->m - m0 < width ? p->m - m0 : width;
          storeTile(blockTiles + s * SQUANT_GR * width, width, nr, mc,
                    p->y + m0 * p->y_stride + n0, p->y_stride);
        }
      }
    }
  }
}

int squant_rt_gemv_x_ordered(const squant_rt_qweight *w) {
  /* 4 bits: lines hold whole groups, or whole lines are a group. */
  int64_t g = w->group_size;
  return w->layout != SQUANT_RT_LAYOUT_TILE16_V2 &&
         (w->bits == 2 || (w->bits == 4 && w->k % 128 == 0 &&
                           (g == 32 || g == 64 || g % 128 == 0)));
}

void squant_rt_gemv_x_order_avx512(const squant_rt_qweight *w, const float *x,
                                   float *xorder) {
  if (w->bits == 4) {
    /* Line order: lane j of the word loaded at offset o holds byte 4j + o
     * of the line, byte (4j + o) % 16 of block j / 4; xorder[128 l + 32 o +
     * 16 h + j] is the x of that byte's nibble h (low, high), whose code
     * squant_rt_amx_code names (a tile row's word lanes are the block's
     * bytes, then their high nibbles). */
    int32_t order[128];
    for (int o = 0; o < 4; ++o)
      for (int h = 0; h < 2; ++h)
        for (int j = 0; j < 16; ++j)
          order[32 * o + 16 * h + j] =
              32 * (j / 4) + squant_rt_amx_code(4, (4 * j + o) % 16 + 16 * h);
    for (int64_t l = 0; l < w->k; l += 128)
      for (int i = 0; i < 128; i += 16)
        _mm512_storeu_ps(
            xorder + l + i,
            _mm512_i32gather_ps(_mm512_loadu_si512(order + i), x + l, 4));
    return;
  }
  /* Pair order: lane 2j of the first half: x[2j], lane 2j + 1: x[16 + 2j];
   * the second half the odd codes (x[2j + 1], x[17 + 2j]). */
  const __m512i even = _mm512_setr_epi32(0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10,
                                         26, 12, 28, 14, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  for (int64_t c = 0; c < w->k; c += 32) {
    __m512 lo = _mm512_loadu_ps(x + c), hi = _mm512_loadu_ps(x + c + 16);
    _mm512_storeu_ps(xorder + c, _mm512_permutex2var_ps(lo, even, hi));
    _mm512_storeu_ps(xorder + c + 16, _mm512_permutex2var_ps(lo, odd, hi));
  }
}

void squant_rt_transpose_slices_avx512(const float *x, int64_t m,
                                       int64_t x_stride, int64_t k, float *xt) {
  for (int64_t r0 = 0; r0 < m; r0 += 32) {
    float *slice = xt + r0 * k;
    for (int64_t half = 0; half < 32; half += 16)
      for (int64_t c = 0; c < k; c += 16) {
        __m512 v[16];
        for (int64_t i = 0; i < 16; ++i)
          v[i] = r0 + half + i < m
                     ? _mm512_loadu_ps(x + (r0 + half + i) * x_stride + c)
                     : _mm512_setzero_ps();
        squantTranspose16(v);
        for (int64_t i = 0; i < 16; ++i)
          _mm512_storeu_ps(slice + (c + i) * 32 + half, v[i]);
      }
  }
}

/* sums[j] = the sum of v[j]'s lanes, for 16 vectors at once: halves, then
 * quarters, then pairs of lanes of two vectors added in one (30 shuffles
 * and 15 adds, where one reduction per vector took 4 and 4; per K chunk of
 * 1024 columns they were ~10 % of M = 8). */
static inline void reduce16(const __m512 v[16], float sums[16]) {
  __m512 halves[8], quarters[4], pairs[2];
  for (int i = 0; i < 8; ++i) /* 256-bit half h: v[2i + h] */
    halves[i] =
        _mm512_add_ps(_mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], 0x44),
                      _mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], 0xEE));
  for (int i = 0; i < 4; ++i) /* 128-bit lane q: v[4i + q] */
    quarters[i] = _mm512_add_ps(
        _mm512_shuffle_f32x4(halves[2 * i], halves[2 * i + 1], 0x88),
        _mm512_shuffle_f32x4(halves[2 * i], halves[2 * i + 1], 0xDD));
  for (int i = 0; i < 2; ++i) /* lane q, pair h: v[8i + 4h + q] */
    pairs[i] = _mm512_add_ps(
        _mm512_shuffle_ps(quarters[2 * i], quarters[2 * i + 1], 0x44),
        _mm512_shuffle_ps(quarters[2 * i], quarters[2 * i + 1], 0xEE));
  /* Element 4q + j: v[4j + q]. */
  __m512 all = _mm512_add_ps(_mm512_shuffle_ps(pairs[0], pairs[1], 0x88),
                             _mm512_shuffle_ps(pairs[0], pairs[1], 0xDD));
  float lanes[16];
  _mm512_storeu_ps(lanes, all);
  for (int j = 0; j < 16; ++j)
    sums[j] = lanes[4 * (j % 4) + j / 4];
}

/* Small M (2..SQUANT_SMALL_M): vectorized along K like the GEMV, with
 * exact weights (the group's 16 values fma(T[i], s, b), s_t * T[i] or the
 * fp32 entries as a table, or fma(q, s, b) for 8 bits) so each decoded
 * block feeds every activation row: two weight rows and up to eight
 * activation rows share each block (16 dot chains, 32 FMAs per 16 x loads;
 * with four, M = 8 decoded every block twice).
 *
 * K runs in chunks of SQUANT_SMALL_KC columns over all rows, with the
 * chunk of x copied block by block into the thread's scratch, [block][8
 * rows][32]: one pointer and constant offsets for every x load, one linear
 * stream, in L1 (with the whole of K, every block's x loads missed L1:
 * M = 8 int4 4096x4096 147 GFLOP/s at K = 1024, 87 at K = 4096; with x
 * read in place, eight row pointers and their address arithmetic competed
 * with the FMAs). Each output adds its chunks' sums in order of k: the
 * result does not depend on how rows are split among threads. */
#define SQUANT_SMALL_KC SQUANT_RT_SMALL_KC
#define SQUANT_SMALL_AHEAD 4 /* rows ahead that a chunk's pass prefetches */

/* Blocks [b0, b1) of rows n0, n0 + nr and activation rows [m0, m0 + mr)
 * (xc: the chunk's copy of x, zero past M): y = the chunk's dot (first
 * chunk) or y += it, for the first `live` of the mr rows. */
static inline __attribute__((always_inline)) void
smallRows(const squant_rt_qgemm_params *p, int64_t n0, const int nr, int64_t m0,
          const int mr, int live, int64_t b0, int64_t b1, const float *xc,
          const int32_t bits, const int tile16) {
  const squant_rt_qweight *w = p->w;
  int64_t k = w->k, gs = w->group_size, groups = k / gs, groupBlocks = gs / 32;
  int64_t blockBytes = squant_rt_block_bytes(bits);
  int64_t rowBytes = (k / 32) * blockBytes;
  __m512 table[2], acc[2][8];
  const uint8_t *row[2];
  for (int r = 0; r < nr; ++r) {
    table[r] = rowTable(p, n0 + r);
    row[r] = squant_rt_row_codes(w, n0 + r);
    for (int i = 0; i < mr; ++i)
      acc[r][i] = _mm512_setzero_ps();
  }
  /* The chunk's bytes of the rows SQUANT_SMALL_AHEAD further on: the
   * hardware prefetchers do not follow a K chunk's pass over the rows, runs
   * of a few lines 4 * bits * K / 32 bytes apart (M = 8 int4 4096x4096,
   * cold weights: 87 -> 104 GFLOP/s with the K chunks). The codes' lines go
   * one (per row) per block, not in a burst at the start: a burst of more
   * prefetches than the core has fill buffers held up the loads of the
   * block loop. */
  int64_t gFirst = b0 / groupBlocks;
  uintptr_t ahead = 0;
  int64_t aheadLines = 0;
  if (m0 == 0 && n0 + SQUANT_SMALL_AHEAD + 1 < p->n_end &&
      w->layout == SQUANT_RT_LAYOUT_BLOCK32_V1) {
    int64_t params = (b1 - 1) / groupBlocks - gFirst + 1;
    int64_t r = n0 + SQUANT_SMALL_AHEAD;
    const uint8_t *first = w->codes + r * rowBytes + b0 * blockBytes;
    ahead = (uintptr_t)first & ~(uintptr_t)63;
    aheadLines = ((uintptr_t)first + (b1 - b0) * blockBytes - ahead + 63) / 64;
    for (int64_t i = 0; i < 2; ++i) {
      if (w->form != SQUANT_RT_FORM_LUT_F32)
        squant_rt_prefetch_range(w->scales + (r + i) * groups + gFirst,
                                 params * (int64_t)sizeof(float));
      if (w->form == SQUANT_RT_FORM_FMA)
        squant_rt_prefetch_range(w->bias + (r + i) * groups + gFirst,
                                 params * (int64_t)sizeof(float));
    }
  }
  /* The group counted, not divided per block; the first block opens one
   * (the chunk may start inside it). */
  int64_t g = gFirst - 1, groupEnd = b0;
  __m512 groupTable[2], s[2], bb[2];
  const float *xb = xc + m0 * 32;
  for (int64_t b = b0; b < b1; ++b, xb += 8 * 32) {
    if (b - b0 < aheadLines) {
      _mm_prefetch((const char *)(ahead + (b - b0) * 64), _MM_HINT_T2);
      _mm_prefetch((const char *)(ahead + (b - b0) * 64 + rowBytes),
                   _MM_HINT_T2);
    }
    if (b == groupEnd) {
      ++g;
      groupEnd = (g + 1) * groupBlocks;
      for (int r = 0; r < nr; ++r) {
        groupTable[r] =
            squantGroupValues(w, table[r], (n0 + r) * groups + g, bits);
        if (bits == 8) {
          s[r] = _mm512_set1_ps(w->scales[(n0 + r) * groups + g]);
          bb[r] = _mm512_set1_ps(w->bias[(n0 + r) * groups + g]);
        }
      }
    }
    __m512 wv[2][2];
    for (int r = 0; r < nr; ++r) {
      uint8_t tmp[SQUANT_RT_BLOCK_BYTES_MAX];
      squantBlockValues(squantBlockOf(w, row[r], n0 + r, b, bits, tmp, tile16),
                        bits, w->is_signed, groupTable[r], &wv[r][0],
                        &wv[r][1]);
      if (bits == 8) { /* the FMA form: exact weights per code */
        wv[r][0] = _mm512_fmadd_ps(wv[r][0], s[r], bb[r]);
        wv[r][1] = _mm512_fmadd_ps(wv[r][1], s[r], bb[r]);
      }
    }
    for (int i = 0; i < mr; ++i) {
      __m512 xa = _mm512_load_ps(xb + i * 32),
             xz = _mm512_load_ps(xb + i * 32 + 16);
      for (int r = 0; r < nr; ++r) {
        acc[r][i] = _mm512_fmadd_ps(xa, wv[r][0], acc[r][i]);
        acc[r][i] = _mm512_fmadd_ps(xz, wv[r][1], acc[r][i]);
      }
    }
  }
  __m512 v[16];
  for (int j = 0; j < 16; ++j)
    v[j] = j < nr * mr ? acc[j / mr][j % mr] : _mm512_setzero_ps();
  float dots[16];
  reduce16(v, dots);
  for (int r = 0; r < nr; ++r)
    for (int i = 0; i < live; ++i) {
      float *y = p->y + (m0 + i) * p->y_stride + n0 + r;
      float dot = dots[r * mr + i];
      *y = b0 == 0 ? dot : *y + dot;
    }
}

/* M = 5..8 runs as one pass of 8 activation rows and M = 2..4 as one of 4,
 * the padding rows zero in the copy of x, not as passes of 4 and 1 rows
 * that decode every block again (M = 7 int4 4096x4096: 3.38 -> 2.2 ms). */
static inline __attribute__((always_inline)) void
smallAll(const squant_rt_qgemm_params *p, const int32_t bits,
         const int tile16) {
  int64_t blocks = p->w->k / 32, chunkBlocks = SQUANT_SMALL_KC / 32;
  float *xc = p->scratch; /* [block][8][32] */
  for (int64_t b0 = 0; b0 < blocks; b0 += chunkBlocks) {
    int64_t b1 = blocks - b0 < chunkBlocks ? blocks : b0 + chunkBlocks;
    for (int64_t b = b0; b < b1; ++b)
      for (int64_t i = 0; i < SQUANT_SMALL_M; ++i) {
        float *out = xc + ((b - b0) * 8 + i) * 32;
        if (i >= p->m) {
          _mm512_store_ps(out, _mm512_setzero_ps());
          _mm512_store_ps(out + 16, _mm512_setzero_ps());
          continue;
        }
        const float *x = p->x + i * p->x_stride + b * 32;
        _mm512_store_ps(out, _mm512_loadu_ps(x));
        _mm512_store_ps(out + 16, _mm512_loadu_ps(x + 16));
      }
    for (int64_t n = p->n_begin; n < p->n_end; n += 2) {
      int nr = p->n_end - n >= 2 ? 2 : 1;
      int rest = (int)p->m; /* 2..8 */
      if (rest == 8) {      /* all rows live: the store loop unrolled */
        if (nr == 2)
          smallRows(p, n, 2, 0, 8, 8, b0, b1, xc, bits, tile16);
        else
          smallRows(p, n, 1, 0, 8, 8, b0, b1, xc, bits, tile16);
      } else if (rest > 4) {
        if (nr == 2)
          smallRows(p, n, 2, 0, 8, rest, b0, b1, xc, bits, tile16);
        else
          smallRows(p, n, 1, 0, 8, rest, b0, b1, xc, bits, tile16);
      } else {
        if (nr == 2)
          smallRows(p, n, 2, 0, 4, rest, b0, b1, xc, bits, tile16);
        else
          smallRows(p, n, 1, 0, 4, rest, b0, b1, xc, bits, tile16);
      }
    }
  }
}

/* GEMV over all rows with `bits` a constant after inlining, so the unpack
 * code has no branch on the width. */
static inline __attribute__((always_inline)) void
gemvRange(const squant_rt_qgemm_params *p, const int32_t bits, const int tile16,
          const int lines) {
  /* The four rows of a step come from the four quarters of the range, so
   * each is one linear stream through memory (row n + 1 follows row n):
   * four streams in four pages, which the hardware prefetchers follow,
   * where four adjacent short rows would share pages. */
  int64_t q = (p->n_end - p->n_begin) / SQUANT_NR;
  for (int64_t n = p->n_begin; n < p->n_begin + q; ++n)
    gemvRows(p, n, q, SQUANT_NR, bits, tile16, lines);
  int64_t n = p->n_begin + SQUANT_NR * q;
  switch (p->n_end - n) {
  case 3:
    gemvRows(p, n, 1, 3, bits, tile16, lines);
    break;
  case 2:
    gemvRows(p, n, 1, 2, bits, tile16, lines);
    break;
  case 1:
    gemvRows(p, n, 1, 1, bits, tile16, lines);
    break;
  default:
    break;
  }
}

static inline __attribute__((always_inline)) void
gemvAll(const squant_rt_qgemm_params *p, const int32_t bits, const int tile16) {
  if (bits == 4 && p->xorder)
    gemvRange(p, 4, 0, 1);
  else
    gemvRange(p, bits, tile16, 0);
}

SQUANT_BLOCK32_SPECIALIZE(gemv, gemvAll)
SQUANT_BLOCK32_SPECIALIZE(small, smallAll)
SQUANT_BLOCK32_SPECIALIZE(gemm, gemmAll)

void squant_rt_qgemm_avx512(const squant_rt_qgemm_params *p) {
  if (p->m == 1)
    gemv(p);
  else if (p->m <= SQUANT_SMALL_M)
    small(p);
  else
    gemm(p);
}
