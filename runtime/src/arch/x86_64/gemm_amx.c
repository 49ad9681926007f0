/*===- gemm_amx.c - bf16-activation qgemm on AMX-BF16 tiles ---------------===//
 *
 * y = x w^T with bf16 activations, by the group factorization:
 *   y[m][n] = sum_g (s[n][g] * D[n][m][g] + b[n][g] * sum_{k in g} x[m][k]),
 *   D[n][m][g] = sum_{k in g} q[n][k] x[m][k].
 * Codes (and int8 table entries) are exact in bf16, so TDPBF16PS computes
 * D with exact products and fp32 sums: the same numerics as the fp32
 * kernels' factorization, on tiles of 16 x 16 x 32 products per
 * instruction (eight times the AVX-512 FMA rate).
 *
 * The weight is the A operand: a tile row is 32 codes of one group of a weight
 * row decoded to bf16, so D comes out as [n][m] tiles and each row's group
 * scale is one broadcast. 1-, 2- and 4-bit codes decode in 16-bit lanes
 * into the 32-entry bf16 table with one vpermw per tile row, in a lane order
 * of their own (squant_rt_amx_column): in groups of multiples of 128, four
 * blocks at a time, their words shifted (squant_rt_amx_wide: one shift per
 * tile row; int4 4096 x 4096, M = 32: 2.15 -> 1.67 ms); else one block,
 * its bytes broadcast and widened to words first. 3-bit codes in such
 * groups decode four blocks at a time too, the third bit joined from the
 * 1-bit plane (decodeWide3; int3 4096 x 4096, fp32 M = 8: 2.30 -> 2.00 ms);
 * in other groups, and 8-bit codes always, blocks take the fp32 decode of
 * decode_block32.h and one vcvtne2ps2bf16, in k order.
 * The activations are the B operand, packed once per call in the same order
 * by squant_rt_amx_pack_activations (a 16 x 16 transpose of bf16 pairs).
 *
 * Per thread, for 32 weight rows (two A tiles) at a time (in N blocks, M
 * chunks of SQUANT_RT_AMX_MB rows and K blocks: gemmBits): each K chunk of up
 *to SQUANT_RT_AMX_KC columns of one group is decoded once into the scratch,
 *then every pair of activation tiles takes its 4 x (chunk / 32) TDPBF16PS into
 *four accumulator tiles (two weight tiles by two activation tiles). At a
 * group's end the accumulators are stored and added, times the rows' scales,
 * into the chunk's outputs (in L1); between chunks of one group they wait
 * in the scratch; the FMA form's bias term b * sum(x) joins there. The
 * outputs are transposed into y at the end.
 *
 * AMX reads bf16 subnormals as zero and flushes subnormal fp32 sums to
 * zero (squant_rt.h says so).
 *
 *===----------------------------------------------------------------------===*/

#include "../../kernels.h"
#include "amx_bf16.h"
#include "amx_tiles.h"
#include "decode_block32.h"
#include "transpose16.h"

#include <string.h>

#define SQUANT_AMX_KC SQUANT_RT_AMX_KC
#define SQUANT_AMX_MB SQUANT_RT_AMX_MB
#define SQUANT_AMX_NB SQUANT_RT_AMX_NB
#define SQUANT_AMX_KB SQUANT_RT_AMX_KB

/* The lane order of K step j (squant_rt_amx_column; single-block, of
 * squant_rt_amx_code, where !wide), as a vector. */
static inline __m512i columnOrder(const squant_rt_qweight *w, int wide,
                                  int64_t step) {
  uint16_t order[32];
  for (int32_t lane = 0; lane < 32; ++lane)
    order[lane] = (uint16_t)(wide ? squant_rt_amx_column(w, step, lane)
                                  : squant_rt_amx_code(w->bits, lane));
  return _mm512_loadu_si512((const void *)order);
}

/* The activation row and part of tile row R (squant_rt_amx_source);
 * row -1 for padding. */
static inline int64_t sourceRow(const squant_rt_amx_source *src, int64_t R,
                                int32_t *part) {
  int64_t chunkM = squant_rt_amx_chunk_m(src->parts);
  int64_t chunkRows = squant_rt_amx_chunk_rows(src->parts);
  int64_t c = R / chunkRows, local = R % chunkRows;
  int64_t rows = src->folded || src->m - c * chunkM >= chunkM
                     ? chunkM
                     : src->m - c * chunkM;
  *part = (int32_t)(local / rows);
  int64_t r = c * chunkM + local % rows;
  return *part < src->parts && r < src->m ? r : -1;
}

/* Part `part` of 16 fp32 values (squant_rt_amx_source, squantSplit3). */
static inline __m512i splitPart(__m512 v, int32_t part) {
  __m512i parts[3];
  squantSplit3(v, parts);
  return parts[part];
}

/* Columns [col, col + 32) of activation row r's part, as bf16. */
static inline __m512i partValues(const squant_rt_amx_source *src, int64_t r,
                                 int32_t part, int64_t col) {
  if (src->parts == 1)
    return _mm512_loadu_si512(
        (const void *)((const uint16_t *)src->x + r * src->x_stride + col));
  const float *x = (const float *)src->x + r * src->x_stride + col;
  __m512 up = _mm512_set1_ps(1.0f / src->row_scale[r]); /* 2^s: exact */
  __m512i lo = splitPart(_mm512_mul_ps(_mm512_loadu_ps(x), up), part);
  __m512i hi = splitPart(_mm512_mul_ps(_mm512_loadu_ps(x + 16), up), part);
  /* The upper halves of the 32 lanes: the parts' bf16 bits. */
  uint16_t odd[32];
  for (int i = 0; i < 32; ++i)
    odd[i] = (uint16_t)(2 * i + 1);
  return _mm512_permutex2var_epi16(lo, _mm512_loadu_si512((const void *)odd),
                                   hi);
}

void squant_rt_amx_row_scales(const float *x, int64_t m, int64_t x_stride,
                              int64_t k, float *row_scale) {
  const __m512i magnitude = _mm512_set1_epi32(0x7FFFFFFF);
  const __m512i infinity = _mm512_set1_epi32(0x7F800000);
  for (int64_t r = 0; r < m; ++r) {
    /* The largest finite magnitude's bits (ordered as the values). */
    __m512i largest = _mm512_setzero_si512();
    for (int64_t c = 0; c < k; c += 16) {
      __mmask16 valid =
          k - c >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (k - c)) - 1u);
      __m512i v = _mm512_and_si512(
          _mm512_maskz_loadu_epi32(valid, x + r * x_stride + c), magnitude);
      largest = _mm512_mask_max_epu32(
          largest, _mm512_cmplt_epu32_mask(v, infinity), largest, v);
    }
    uint32_t bits = (uint32_t)_mm512_reduce_max_epu32(largest);
    int32_t e = squantFloorLog2(bits);
    int32_t s = bits && e < -40 ? -40 - e : 0;
    uint32_t down = (uint32_t)(127 - s) << 23;
    memcpy(row_scale + r, &down, sizeof(down));
  }
}

void squant_rt_amx_pack_activations(const squant_rt_amx_source *src,
                                    const squant_rt_qweight *w, int64_t m_pad,
                                    uint16_t *xb) {
  /* A row's 32 bf16 of one K step, in the codes' lane order, are 16 pairs:
   * as 32-bit lanes, the tile's B rows (pair p: the 16 rows' pair p) are a
   * 16 x 16 transpose. Wide steps gather from 128 columns: two two-register
   * permutes, the second for columns 64..127. */
  int64_t k = w->k;
  int wide = !src->folded && squant_rt_amx_wide(w), period = wide ? 4 : 1;
  __m512i order[4];
  __mmask32 high[4];
  for (int j = 0; j < period; ++j) {
    order[j] = columnOrder(w, wide, j);
    high[j] = _mm512_test_epi16_mask(order[j], _mm512_set1_epi16(64));
  }
  for (int64_t t = 0; t < m_pad / 16; ++t)
    for (int64_t j0 = 0; j0 < k / 32; j0 += period) {
      __m512i cols[16][4];
      for (int64_t i = 0; i < 16; ++i) {
        int32_t part;
        int64_t r = sourceRow(src, 16 * t + i, &part);
        for (int q = 0; q < period; ++q)
          cols[i][q] = r < 0 ? _mm512_setzero_si512()
                             : partValues(src, r, part, 32 * (j0 + q));
      }
      for (int q = 0; q < period; ++q) {
        __m512 v[16];
        for (int64_t i = 0; i < 16; ++i)
          v[i] = _mm512_castsi512_ps(
              wide
                  ? _mm512_mask_mov_epi16(_mm512_permutex2var_epi16(
                                              cols[i][0], order[q], cols[i][1]),
                                          high[q],
                                          _mm512_permutex2var_epi16(
                                              cols[i][2], order[q], cols[i][3]))
                  : _mm512_permutexvar_epi16(order[0], cols[i][0]));
        squantTranspose16(v);
        uint16_t *out = xb + (t * (k / 32) + j0 + q) * 512;
        for (int64_t i = 0; i < 16; ++i)
          _mm512_storeu_ps((float *)(out + 32 * i), v[i]);
      }
    }
}

void squant_rt_amx_group_sums(const squant_rt_amx_source *src,
                              const squant_rt_qweight *w, int64_t m_pad,
                              float *xsum_t) {
  /* In 16 lanes, then across them: a fixed order. */
  int64_t gs = w->group_size, groups = w->k / gs;
  const __m512i exponent = _mm512_set1_epi32(0x7F800000);
  for (int64_t R = 0; R < m_pad; ++R) {
    int32_t part;
    int64_t r = sourceRow(src, R, &part);
    for (int64_t g = 0; g < groups; ++g) {
      __m512 sum = _mm512_setzero_ps();
      for (int64_t c = g * gs; r >= 0 && part == 0 && c < (g + 1) * gs;
           c += 32) {
        __m512 v[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
        for (int32_t q = 0; q < src->parts; ++q) {
          /* The part's bf16 values widened (zero low halves), subnormals
           * zero as the tiles read them. */
          __m512i b = partValues(src, r, q, c);
          __m512i lo = _mm512_slli_epi32(
                      _mm512_cvtepu16_epi32(_mm512_castsi512_si256(b)), 16),
                  hi = _mm512_slli_epi32(
                      _mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(b, 1)),
                      16);
          lo = _mm512_maskz_mov_epi32(_mm512_test_epi32_mask(lo, exponent), lo);
          hi = _mm512_maskz_mov_epi32(_mm512_test_epi32_mask(hi, exponent), hi);
          v[0] = _mm512_add_ps(v[0], _mm512_castsi512_ps(lo));
          v[1] = _mm512_add_ps(v[1], _mm512_castsi512_ps(hi));
        }
        sum = _mm512_add_ps(sum, _mm512_add_ps(v[0], v[1]));
      }
      xsum_t[g * m_pad + R] = _mm512_reduce_add_ps(sum);
    }
  }
}

/* Four blocks of b-bit codes from `blocks` (squant_rt_amx_wide) as the A
 * tile rows of four K steps, 512 words apart from `out`. */
static inline __attribute__((always_inline)) void
decodeWide(const uint8_t *blocks, __m512i table32, uint16_t *out,
           const int32_t bits) {
  __m512i words =
      bits == 4 ? _mm512_loadu_si512((const void *)blocks)
      : bits == 2
          ? _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)blocks))
          : _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)blocks));
  for (int j = 0; j < 4; ++j) {
    __m512i idx;
    if (bits == 4) {
      idx = j == 0 ? words : _mm512_srli_epi16(words, (unsigned)(4 * j));
    } else {
      uint16_t shift[32];
      for (int lane = 0; lane < 32; ++lane)
        shift[lane] = (uint16_t)squant_rt_amx_wide_shift(bits, j, lane);
      idx = _mm512_srlv_epi16(words, _mm512_loadu_si512((const void *)shift));
    }
    _mm512_storeu_si512((void *)(out + 512 * j),
                        _mm512_permutexvar_epi16(idx, table32));
  }
}

/* Four blocks of 3-bit codes (48 bytes; squant_rt_amx_wide) as the A tile
 * rows of four K steps. Word lane L of step j: the 2-bit plane's 16-bit
 * word L % 4 of block (L % 16) / 4, shifted right by 2 (2 j + L / 16),
 * holds the low bits of code t = 8 (L % 4) + 2 j + L / 16; the 1-bit
 * plane's bytes (L % 4) - 1 and L % 4 (byte -1 zero) as a word hold bit t
 * at bit t - 8 (L % 4) + 8, so shifted right by 6 + 2 j + L / 16 it lands
 * on bit 2; one bit select joins them. */
static inline __attribute__((always_inline)) void
decodeWide3(const uint8_t *blocks, __m512i table32, uint16_t *out) {
  __m512i bytes = _mm512_maskz_loadu_epi8((__mmask64)0xFFFFFFFFFFFFull, blocks);
  uint16_t lowWords[32], shiftLow[4][32], shiftHigh[4][32];
  uint8_t highBytes[64];
  for (int lane = 0; lane < 32; ++lane) {
    int word = lane % 16, block = word / 4, c = word % 4;
    lowWords[lane] = (uint16_t)(6 * block + c);
    highBytes[2 * lane] = (uint8_t)(12 * block + 8 + c - (c > 0));
    highBytes[2 * lane + 1] = (uint8_t)(12 * block + 8 + c);
    for (int j = 0; j < 4; ++j) {
      shiftLow[j][lane] = (uint16_t)(2 * (2 * j + lane / 16));
      shiftHigh[j][lane] = (uint16_t)(6 + 2 * j + lane / 16);
    }
  }
  /* Byte 2 L is byte -1 (zero) where L % 4 == 0: bytes 0, 8, 16, .. */
  const __mmask64 keep = ~(__mmask64)0x0101010101010101ull;
  __m512i low = _mm512_permutexvar_epi16(
      _mm512_loadu_si512((const void *)lowWords), bytes);
  __m512i high = _mm512_maskz_permutexvar_epi8(
      keep, _mm512_loadu_si512((const void *)highBytes), bytes);
  for (int j = 0; j < 4; ++j) {
    __m512i lo =
        _mm512_srlv_epi16(low, _mm512_loadu_si512((const void *)shiftLow[j]));
    __m512i hi =
        _mm512_srlv_epi16(high, _mm512_loadu_si512((const void *)shiftHigh[j]));
    /* Bit 2 from hi, the others from lo. */
    __m512i idx = _mm512_ternarylogic_epi32(lo, hi, _mm512_set1_epi16(4), 0xD8);
    _mm512_storeu_si512((void *)(out + 512 * j),
                        _mm512_permutexvar_epi16(idx, table32));
  }
}

/* The 32 codes of block b of row n as bf16 values (exact: small integers
 * or int8 table entries), in squant_rt_amx_code's lane order, into `out`
 * (one A tile row). table16: the values as fp32; table32: as bf16, entry
 * j = value j mod 16. */
static inline __attribute__((always_inline)) void
decodeRow(const squant_rt_qweight *w, int64_t n, int64_t b, __m512 table16,
          __m512i table32, uint16_t *out, const int32_t bits) {
  const uint8_t *block =
      squant_rt_row_codes(w, n) + b * squant_rt_block_bytes(bits);
  if (bits == 1 || bits == 2 || bits == 4) {
    _mm512_storeu_si512(
        (void *)out,
        _mm512_permutexvar_epi16(squantAmxCodeWords(block, bits), table32));
    return;
  }
  __m512 v0, v1;
  squantBlockValues(block, bits, w->is_signed, table16, &v0, &v1);
  /* Low 16 words from the second operand. */
  _mm512_storeu_si512((void *)out, (__m512i)_mm512_cvtne2ps_pbh(v1, v0));
}

/* Decodes columns [k0, k0 + kc) of rows [n0, n0 + 32) (rows from nr on
 * zero) into a: [2 tiles][kc / 32 steps][16 rows][32] bf16. Prefetches the
 * same columns of rows [pn, pn + 32) at pk (the next chunk). */
static inline __attribute__((always_inline)) void
decodeChunk(const squant_rt_qgemm_params *p, int64_t n0, int nr, int64_t k0,
            int64_t kc, uint16_t *a, int64_t pn, int64_t pk,
            const int32_t bits) {
  const squant_rt_qweight *w = p->w;
  int64_t blockBytes = squant_rt_block_bytes(bits), steps = kc / 32;
  if (pk < w->k) {
    int64_t pc = w->k - pk < SQUANT_AMX_KC ? w->k - pk : SQUANT_AMX_KC;
    int64_t pr = p->n_end - pn < 32 ? p->n_end - pn : 32;
    int64_t groups = w->k / w->group_size, g = pk / w->group_size;
    for (int64_t r = 0; r < pr; ++r) {
      squant_rt_prefetch_range(squant_rt_row_codes(w, pn + r) +
                                   pk / 32 * blockBytes,
                               pc / 32 * blockBytes);
      /* The rows' parameters are one line per 16 groups, read a row
       * apart: no stream the hardware follows (int4 M = 32: 6 %). */
      _mm_prefetch((const char *)(w->scales + (pn + r) * groups + g),
                   _MM_HINT_T0);
      if (w->form == SQUANT_RT_FORM_FMA)
        _mm_prefetch((const char *)(w->bias + (pn + r) * groups + g),
                     _MM_HINT_T0);
    }
  }
  /* bits first: a constant here, so the 8-bit instance drops it. */
  int wide = bits <= 4 && squant_rt_amx_wide(w);
  __m512 table16 = _mm512_loadu_ps(p->values);
  /* The values in bf16 (exact), entries 16..31 repeating 0..15. */
  __m512i table32 = (__m512i)_mm512_cvtne2ps_pbh(table16, table16);
  for (int r = 0; r < 32; ++r) {
    uint16_t *row = a + (r / 16) * steps * 512 + (r % 16) * 32;
    if (r >= nr) {
      for (int64_t j = 0; j < steps; ++j)
        _mm512_storeu_si512((void *)(row + j * 512), _mm512_setzero_si512());
      continue;
    }
    if (wide) {
      const uint8_t *codes =
          squant_rt_row_codes(w, n0 + r) + k0 / 32 * blockBytes;
      for (int64_t j = 0; j < steps; j += 4) {
        if (bits == 3)
          decodeWide3(codes + j * blockBytes, table32, row + j * 512);
        else
          decodeWide(codes + j * blockBytes, table32, row + j * 512, bits);
      }
      continue;
    }
    for (int64_t j = 0; j < steps; ++j)
      decodeRow(w, n0 + r, k0 / 32 + j, table16, table32, row + j * 512, bits);
  }
}

/* out[r][c .. c + 32) += s[n0 + r][g] * D + b[n0 + r][g] * xsum (the
 * FMA form's bias term; out starts at group 0) for the four accumulator
 * tiles of activation rows m0 + c .. + 32, stored in acc: [weight
 * tile][activation tile][16][16]. Rows from nr on are zero. */
static inline void addScaled(const squant_rt_qgemm_params *p, int64_t n0,
                             int nr, int64_t g, const float *acc, float *out,
                             int64_t m0, int64_t c) {
  const squant_rt_qweight *w = p->w;
  int64_t groups = w->k / w->group_size;
  int bias = w->form == SQUANT_RT_FORM_FMA;
  __m512 xs0 = _mm512_setzero_ps(), xs1 = xs0;
  if (bias) { /* p->xsum_t is null for the LUT forms */
    const float *xs = p->xsum_t + g * p->m_pad + m0 + c;
    xs0 = _mm512_loadu_ps(xs);
    xs1 = _mm512_loadu_ps(xs + 16);
  }
  for (int r = 0; r < 32; ++r) {
    float *o = out + r * SQUANT_AMX_MB + c;
    if (r >= nr) {
      if (g == 0) {
        _mm512_storeu_ps(o, _mm512_setzero_ps());
        _mm512_storeu_ps(o + 16, _mm512_setzero_ps());
      }
      continue;
    }
    int64_t param = (n0 + r) * groups + g;
    __m512 sv = _mm512_set1_ps(w->scales[param]);
    const float *d = acc + (r / 16) * 512 + (r % 16) * 16;
    __m512 o0 = g == 0 ? _mm512_setzero_ps() : _mm512_loadu_ps(o);
    __m512 o1 = g == 0 ? _mm512_setzero_ps() : _mm512_loadu_ps(o + 16);
    o0 = _mm512_fmadd_ps(sv, _mm512_loadu_ps(d), o0);
    o1 = _mm512_fmadd_ps(sv, _mm512_loadu_ps(d + 256), o1);
    if (bias) {
      __m512 bv = _mm512_set1_ps(w->bias[param]);
      o0 = _mm512_fmadd_ps(bv, xs0, o0);
      o1 = _mm512_fmadd_ps(bv, xs1, o1);
    }
    _mm512_storeu_ps(o, o0);
    _mm512_storeu_ps(o + 16, o1);
  }
}

/* Loops, outermost first: N blocks of SQUANT_AMX_NB pairs of weight
 * tiles (their outputs, 128 KiB, stay in L2), M chunks, K blocks of whole
 * groups of about SQUANT_AMX_KB columns (the M chunk's B tiles for them,
 * 1 MiB at M = 128, stay in L2 while each pair of weight tiles passes
 * over them: all of K per pair, 2.8 MB at K = 11008, ran from L3 at 2/3
 * of the speed of K = 4096), pairs of weight tiles, groups, K chunks. */
static inline __attribute__((always_inline)) void
gemmBits(const squant_rt_qgemm_params *p, const int32_t bits) {
  const squant_rt_qweight *w = p->w;
  int64_t k = w->k, gs = w->group_size, steps = k / 32;
  int64_t kb = gs >= SQUANT_AMX_KB ? gs : SQUANT_AMX_KB / gs * gs;
  uint16_t *a = (uint16_t *)p->scratch; /* [2][KC / 32][16][32] bf16 */
  float *acc = p->scratch + SQUANT_AMX_KC / 32 * 512; /* [2][2][16][16] */
  float *partial = acc + 1024;                        /* [MB / 32][4][256] */
  float *outs = partial + SQUANT_AMX_MB / 32 * 1024;  /* [NB][32][MB] */
  for (int64_t nb0 = p->n_begin; nb0 < p->n_end; nb0 += SQUANT_AMX_NB * 32) {
    int64_t nbEnd = p->n_end - nb0 < SQUANT_AMX_NB * 32
                        ? p->n_end
                        : nb0 + SQUANT_AMX_NB * 32;
    int64_t chunkM = squant_rt_amx_chunk_m(p->amx_parts);
    int64_t chunkRows = squant_rt_amx_chunk_rows(p->amx_parts);
    for (int64_t m0 = 0, r0 = 0; m0 < p->m_pad; m0 += chunkRows, r0 += chunkM) {
      int64_t mb = p->m_pad - m0 < chunkRows ? p->m_pad - m0 : chunkRows;
      for (int64_t kb0 = 0; kb0 < k; kb0 += kb) {
        int64_t kbEnd = k - kb0 < kb ? k : kb0 + kb;
        for (int64_t n0 = nb0; n0 < nbEnd; n0 += 32) {
          int nr = nbEnd - n0 < 32 ? (int)(nbEnd - n0) : 32;
          float *out = outs + (n0 - nb0) / 32 * 32 * SQUANT_AMX_MB;
          for (int64_t g = kb0 / gs; g < kbEnd / gs; ++g)
            for (int64_t k0 = g * gs; k0 < (g + 1) * gs; k0 += SQUANT_AMX_KC) {
              int64_t kc = (g + 1) * gs - k0 < SQUANT_AMX_KC ? (g + 1) * gs - k0
                                                             : SQUANT_AMX_KC;
              int first = k0 == g * gs, last = k0 + kc == (g + 1) * gs;
              /* The next chunk: these rows' next columns, the next rows'
               * first of the K block, or the next K block's (approximate
               * at the ends of M chunks and N blocks). */
              int64_t pn = k0 + kc < kbEnd   ? n0
                           : n0 + 32 < nbEnd ? n0 + 32
                                             : nb0;
              int64_t pk = k0 + kc < kbEnd   ? k0 + kc
                           : n0 + 32 < nbEnd ? kb0
                                             : kbEnd;
              decodeChunk(p, n0, nr, k0, kc, a, pn, pk, bits);
              const uint16_t *a0 = a, *a1 = a + kc / 32 * 512;
              for (int64_t c = 0; c < mb; c += 32) {
                float *part = partial + c / 32 * 1024;
                if (first) {
                  _tile_zero(0);
                  _tile_zero(1);
                  _tile_zero(2);
                  _tile_zero(3);
                } else {
                  _tile_loadd(0, part, 64);
                  _tile_loadd(1, part + 256, 64);
                  _tile_loadd(2, part + 512, 64);
                  _tile_loadd(3, part + 768, 64);
                }
                const uint16_t *b0 =
                    p->xb + ((m0 + c) / 16 * steps + k0 / 32) * 512;
                const uint16_t *b1 = b0 + steps * 512;
                for (int64_t j = 0; j < kc / 32; ++j) {
                  _tile_loadd(4, a0 + j * 512, 64);
                  _tile_loadd(5, a1 + j * 512, 64);
                  _tile_loadd(6, b0 + j * 512, 64);
                  _tile_loadd(7, b1 + j * 512, 64);
                  _tile_dpbf16ps(0, 4, 6);
                  _tile_dpbf16ps(1, 4, 7);
                  _tile_dpbf16ps(2, 5, 6);
                  _tile_dpbf16ps(3, 5, 7);
                }
                float *dst = last ? acc : part;
                _tile_stored(0, dst, 64);
                _tile_stored(1, dst + 256, 64);
                _tile_stored(2, dst + 512, 64);
                _tile_stored(3, dst + 768, 64);
                if (last)
                  addScaled(p, n0, nr, g, acc, out, m0, c);
              }
            }
        }
      }
      int64_t mc = p->m - r0 < chunkM ? p->m - r0 : chunkM;
      for (int64_t n0 = nb0; n0 < nbEnd; n0 += 32) {
        int nr = nbEnd - n0 < 32 ? (int)(nbEnd - n0) : 32;
        squantStoreOutputs(outs + (n0 - nb0) / 32 * 32 * SQUANT_AMX_MB,
                           SQUANT_AMX_MB, nr, mc, p->amx_parts,
                           p->row_scale ? p->row_scale + r0 : NULL,
                           p->y + r0 * p->y_stride + n0, p->y_stride);
      }
    }
  }
}

void squant_rt_qgemm_bf16_amx(const squant_rt_qgemm_params *p) {
  SQUANT_AMX_BY_BITS(gemmBits, p);
}
