/*===- gemv_tables_avx512.c - Activation-table GEMV for 1- to 3-bit codes ===//
 *
 * GEMV (M = 1) without one FMA per weight. Per call, the activations become
 * small tables (built once; api.c places them in the workspace):
 *
 *   pair table p (2-bit codes, or the 3-bit low plane, k = 2p, 2p + 1),
 *     entry i = v[i & 3] x_2p + v[i >> 2] x_2p+1;
 *   quad table t (1-bit codes, or the 3-bit third bit, k = 4t .. 4t + 3),
 *     entry i = sum_j v[(i >> j) & 1] x_4t+j;
 *
 * with v the value of a code (the code as a float, the int8 LUT entry or
 * the per-tensor fp32 LUT entry; 0..3 and 0/1 for the planes of 3-bit
 * codes). Lanes are 16 output rows: with a 32-bit word of every row in one
 * register (16 two-bit or 32 one-bit codes of a block), an immediate shift
 * puts the 4-bit index of one pair (or quad) of codes at the bottom of
 * every lane and one vpermps reads the 16 rows' partial dot products from
 * the table: a shift, a permute and an add per 32 (pairs) or 64 (quads)
 * weights, where the K-vectorized GEMV spends a shift, a permute and an FMA
 * per 16. 3-bit codes are their 2-bit low plane (pair tables of 0..3) plus
 * the third bit (quad subset sums) times 4, or -4 when signed.
 *
 * TILE16_V1 weights hold a word of 16 rows in 64 bytes: one load per word,
 * one linear stream. TILE16_V2 weights are the same words with each
 * group's 16 scales and biases after them, each tile one stream over all
 * of K: eight tiles at a time, no gathers, no panels. BLOCK32_V1 weights
 * (1 and 3 bits) take four-block units (16 * bits bytes per row): one
 * 128-bit load per row, four rows per register, a 4 x 4 transpose in each
 * 128-bit lane; a tail of fewer than four blocks is gathered; lane j of
 * tile t is row t of the j-th run of consecutive rows, so each lane reads
 * one linear stream. (2-bit BLOCK32_V1 codes measured no faster this way
 * than the K-vectorized GEMV: the transposes cost as much as the lookups
 * save.)
 *
 * The group factorization stays: per group, D = sum of the lookups, then
 * y += s * D (+ b * sum x) with the 16 rows' scales and biases gathered
 * (TILE16_V2: loaded).
 * Each row's operations do not depend on its lane or tile, so results do
 * not depend on how rows are split between threads.
 *
 *===----------------------------------------------------------------------===*/

#include "../../kernels.h"

#include <immintrin.h>

#define SQUANT_TILE 16 /* rows per tile: one per lane */
#define SQUANT_CHAINS 4 /* independent add chains per tile and plane */
/* Loops over registers must be unrolled so that arrays stay in registers. */
#define SQUANT_UNROLL _Pragma("GCC unroll 16")

/* Floats of the pair tables (2- and 3-bit) and of the quad tables (1- and
 * 3-bit), which follow them. */
static int64_t pairFloats(const squant_rt_qweight *w) {
  return w->bits >= 2 ? w->k / 2 * 16 : 0;
}
static int64_t quadFloats(const squant_rt_qweight *w) {
  return w->bits != 2 ? w->k / 4 * 16 : 0;
}

/* Floats of the tables and, for TILE16_V1, of each tile's carry (the
 * partial dot of a group open across panels), 16 per tile. */
size_t squant_rt_gemv_tables_bytes(const squant_rt_qweight *w) {
  if (!squant_rt_gemv_tables_eligible(w))
    return 0;
  int64_t carry = w->layout == SQUANT_RT_LAYOUT_TILE16_V1 ? (w->n + 15) / 16 * 16 : 0;
  return (size_t)(pairFloats(w) + quadFloats(w) + carry) * sizeof(float);
}

void squant_rt_gemv_tables_build_avx512(const squant_rt_qgemm_params *p,
                                         float *tables) {
  const squant_rt_qweight *w = p->w;
  const float *x = p->x;
  /* 3-bit: the low plane's values are 0..3 and the third bit's 0/1 (its
   * weight, +-4, is applied per group; TILE16_V2: in the quad tables, an
   * exact scaling); 1-bit: the codes' own values. */
  int threeBit = w->bits == 3;
  float third = w->layout != SQUANT_RT_LAYOUT_TILE16_V2 ? 1.0f
                : w->is_signed                          ? -4.0f
                                                        : 4.0f;
  float lo[16], hi[16], bit[4][16];
  for (int i = 0; i < 16; ++i) {
    lo[i] = threeBit ? (float)(i & 3) : p->values[i & 3];
    hi[i] = threeBit ? (float)(i >> 2) : p->values[i >> 2];
    for (int j = 0; j < 4; ++j) {
      int set = (i >> j) & 1;
      bit[j][i] = threeBit ? (float)set * third : p->values[set];
    }
  }
  float *pairs = tables, *quads = tables + pairFloats(w);
  if (pairFloats(w)) {
    __m512 vlo = _mm512_loadu_ps(lo), vhi = _mm512_loadu_ps(hi);
    for (int64_t j = 0; j < w->k / 2; ++j)
      _mm512_storeu_ps(pairs + 16 * j,
                       _mm512_fmadd_ps(vhi, _mm512_set1_ps(x[2 * j + 1]),
                                       _mm512_mul_ps(vlo, _mm512_set1_ps(x[2 * j]))));
  }
  if (quadFloats(w)) {
    __m512 b0 = _mm512_loadu_ps(bit[0]), b1 = _mm512_loadu_ps(bit[1]);
    __m512 b2 = _mm512_loadu_ps(bit[2]), b3 = _mm512_loadu_ps(bit[3]);
    for (int64_t t = 0; t < w->k / 4; ++t) {
      const float *xq = x + 4 * t;
      __m512 s = _mm512_mul_ps(b0, _mm512_set1_ps(xq[0]));
      s = _mm512_fmadd_ps(b1, _mm512_set1_ps(xq[1]), s);
      s = _mm512_fmadd_ps(b2, _mm512_set1_ps(xq[2]), s);
      s = _mm512_fmadd_ps(b3, _mm512_set1_ps(xq[3]), s);
      _mm512_storeu_ps(quads + 16 * t, s);
    }
  }
}

/* Adds the eight lookups of one word of 16 rows (eight 4-bit indices per
 * lane) into four chains; table j of the word is tables + 16 j. */
static inline __attribute__((always_inline)) void
lookupWord(__m512i word, const float *tables, __m512 *chain) {
  SQUANT_UNROLL
  for (int j = 0; j < 8; ++j) {
    __m512i index = j ? _mm512_srli_epi32(word, 4 * j) : word;
    chain[j % SQUANT_CHAINS] = _mm512_add_ps(
        chain[j % SQUANT_CHAINS],
        _mm512_permutexvar_ps(index, _mm512_load_ps(tables + 16 * j)));
  }
}

static inline __m512 sumChains(const __m512 *c) {
  return _mm512_add_ps(_mm512_add_ps(c[0], c[1]), _mm512_add_ps(c[2], c[3]));
}

/* Words 4c .. 4c + 3 of 16 rows (row j at rows + j * laneBytes) from the
 * 16 bytes at offset `at`: each row's four words are one 128-bit load,
 * four rows share a register, and a 4 x 4 transpose in every 128-bit lane
 * leaves word d of row j in lane j of words[d]. */
static inline __attribute__((always_inline)) void
transposeWords(const uint8_t *rows, int64_t laneBytes, int64_t at, __m512i *words) {
  __m512i z[4];
  SQUANT_UNROLL
  for (int i = 0; i < 4; ++i) {
    const uint8_t *r = rows + i * laneBytes + at;
    z[i] = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)r));
    z[i] = _mm512_inserti32x4(z[i], _mm_loadu_si128((const __m128i *)(r + 4 * laneBytes)), 1);
    z[i] = _mm512_inserti32x4(z[i], _mm_loadu_si128((const __m128i *)(r + 8 * laneBytes)), 2);
    z[i] = _mm512_inserti32x4(z[i], _mm_loadu_si128((const __m128i *)(r + 12 * laneBytes)), 3);
  }
  __m512i t0 = _mm512_unpacklo_epi32(z[0], z[1]), t1 = _mm512_unpackhi_epi32(z[0], z[1]);
  __m512i t2 = _mm512_unpacklo_epi32(z[2], z[3]), t3 = _mm512_unpackhi_epi32(z[2], z[3]);
  words[0] = _mm512_unpacklo_epi64(t0, t2);
  words[1] = _mm512_unpackhi_epi64(t0, t2);
  words[2] = _mm512_unpacklo_epi64(t1, t3);
  words[3] = _mm512_unpackhi_epi64(t1, t3);
}

/* The lookups of block b from its words: 3 bits, the low plane's two into
 * lo and the third bit's one into hi; 2 bits, its two into lo; 1 bit, its
 * one into lo. */
static inline __attribute__((always_inline)) void
lookupBlock(const __m512i *words, const float *pairs, const float *quads,
            int64_t b, const int32_t bits, __m512 *lo, __m512 *hi) {
  if (bits == 1) {
    lookupWord(words[0], quads + b * 8 * 16, lo);
    return;
  }
  lookupWord(words[0], pairs + b * 16 * 16, lo);
  lookupWord(words[1], pairs + (b * 16 + 8) * 16, lo);
  if (bits == 3)
    lookupWord(words[2], quads + b * 8 * 16, hi);
}

/* The end of group g for the 16 rows from n0: acc += s * dot (+ b * sum x)
 * with the rows' scales and biases gathered; the chains restart. */
/* A group's dot from its chains: lo, plus +-4 hi for 3-bit codes. */
static inline __attribute__((always_inline)) __m512
groupDot(const squant_rt_qweight *w, const int32_t bits, const __m512 *lo,
         const __m512 *hi) {
  __m512 dot = sumChains(lo);
  if (bits == 3)
    dot = _mm512_fmadd_ps(_mm512_set1_ps(w->is_signed ? -4.0f : 4.0f), sumChains(hi), dot);
  return dot;
}

static inline __attribute__((always_inline)) void
endGroup(const squant_rt_qgemm_params *p, int64_t n0, int64_t g,
         __m512i laneParams, __mmask16 lanes, const int32_t bits, __m512 *lo,
         __m512 *hi, __m512 *acc) {
  const squant_rt_qweight *w = p->w;
  __m512 dot = groupDot(w, bits, lo, hi);
  for (int c = 0; c < SQUANT_CHAINS; ++c)
    lo[c] = hi[c] = _mm512_setzero_ps();
  if (w->form == SQUANT_RT_FORM_LUT_F32) {
    *acc = _mm512_add_ps(*acc, dot);
    return;
  }
  int64_t param = n0 * (w->k / w->group_size) + g;
  __m512 zero = _mm512_setzero_ps();
  *acc = _mm512_fmadd_ps(
      _mm512_mask_i32gather_ps(zero, lanes, laneParams, w->scales + param, 4), dot, *acc);
  if (w->form == SQUANT_RT_FORM_FMA)
    *acc = _mm512_fmadd_ps(
        _mm512_mask_i32gather_ps(zero, lanes, laneParams, w->bias + param, 4),
        _mm512_set1_ps(p->xsum[g]), *acc);
}

/* One tile: lane j holds row n0 + j * stride. Codes are read four blocks
 * (16 * bits bytes per row) at a time and transposed in registers; a tail
 * of fewer than four blocks is gathered. Groups end between blocks, so each
 * group's scale and bias apply as soon as its last block is done. */
static inline __attribute__((always_inline)) void
tileRows(const squant_rt_qgemm_params *p, int64_t n0, int64_t stride,
         int prefetchNext, const int32_t bits) {
  const squant_rt_qweight *w = p->w;
  int64_t k = w->k, blocks = k / 32, groupBlocks = w->group_size / 32;
  int64_t groups = k / w->group_size;
  int64_t blockBytes = squant_rt_block_bytes(bits);
  int64_t rowBytes = blocks * blockBytes, laneBytes = stride * rowBytes;
  const float *pairs = p->tables, *quads = p->tables + pairFloats(w);
  const __m512i lane =
      _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i laneRows = _mm512_mullo_epi32(lane, _mm512_set1_epi32((int)stride));
  const __m512i laneOffsets = _mm512_mullo_epi32(lane, _mm512_set1_epi32((int)laneBytes));
  const __m512i laneParams =
      _mm512_mullo_epi32(lane, _mm512_set1_epi32((int)(stride * groups)));
  const uint8_t *rows = w->codes + n0 * rowBytes;
  __m512 acc = _mm512_setzero_ps(), lo[SQUANT_CHAINS], hi[SQUANT_CHAINS];
  SQUANT_UNROLL
  for (int c = 0; c < SQUANT_CHAINS; ++c)
    lo[c] = hi[c] = _mm512_setzero_ps();
  /* Group ends by countdown: no division by the run-time group size per
   * block (two per block cost as much as the block's lookups). */
  int64_t g = 0, groupLeft = groupBlocks;
  int64_t whole = blocks / 4 * 4;
  for (int64_t b0 = 0; b0 < whole; b0 += 4) {
    /* Each lane's next row follows its row: prefetch the same bytes there,
     * once per 64-byte line. */
    if (prefetchNext && (b0 * blockBytes) % 64 < 4 * blockBytes)
      SQUANT_UNROLL
      for (int j = 0; j < SQUANT_TILE; ++j)
        _mm_prefetch((const char *)(rows + j * laneBytes + rowBytes + b0 * blockBytes),
                     _MM_HINT_T0);
    __m512i words[12];
    SQUANT_UNROLL
    for (int c = 0; c < bits; ++c)
      transposeWords(rows, laneBytes, b0 * blockBytes + 16 * c, words + 4 * c);
    SQUANT_UNROLL
    for (int bb = 0; bb < 4; ++bb) {
      lookupBlock(words + bits * bb, pairs, quads, b0 + bb, bits, lo, hi);
      if (--groupLeft == 0) {
        endGroup(p, n0, g++, laneParams, (__mmask16)0xFFFF, bits, lo, hi, &acc);
        groupLeft = groupBlocks;
      }
    }
  }
  for (int64_t b = whole; b < blocks; ++b) { /* fewer than four blocks left */
    __m512i words[3];
    SQUANT_UNROLL
    for (int i = 0; i < bits; ++i)
      words[i] = _mm512_i32gather_epi32(laneOffsets, rows + b * blockBytes + 4 * i, 1);
    lookupBlock(words, pairs, quads, b, bits, lo, hi);
    if (--groupLeft == 0) {
      endGroup(p, n0, g++, laneParams, (__mmask16)0xFFFF, bits, lo, hi, &acc);
      groupLeft = groupBlocks;
    }
  }
  _mm512_i32scatter_ps(p->y + n0, laneRows, acc, 4);
}

/* Tile t of a TILE16_V1 panel of pb blocks from block j0 (codes at
 * `tile`): lane j is row 16 t + j, every word one 64-byte load. A group
 * open at the panel's start continues from the tile's carry (its partial
 * dot), and one open at its end is left there; y = the panel's sum (first
 * panel) or y += it. Lanes past the weight's last row (zero codes) are
 * neither gathered nor stored. */
#define SQUANT_TILE16_AHEAD 4096 /* bytes prefetched ahead in a panel */
static inline __attribute__((always_inline)) void
tile16(const squant_rt_qgemm_params *p, const uint8_t *tile, int64_t t, int64_t j0,
       int64_t pb, int64_t open, const int32_t bits) {
  const squant_rt_qweight *w = p->w;
  int64_t groupBlocks = w->group_size / 32, groups = w->k / w->group_size, n0 = 16 * t;
  const float *pairs = p->tables, *quads = p->tables + pairFloats(w);
  float *carry = p->tables + pairFloats(w) + quadFloats(w) + n0;
  const __m512i laneParams = _mm512_mullo_epi32(
      _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
      _mm512_set1_epi32((int)groups));
  int64_t valid = w->n - n0 < SQUANT_TILE ? w->n - n0 : SQUANT_TILE;
  __mmask16 lanes = (__mmask16)((1u << valid) - 1u);
  __m512 acc = _mm512_setzero_ps(), lo[SQUANT_CHAINS], hi[SQUANT_CHAINS];
  SQUANT_UNROLL
  for (int c = 0; c < SQUANT_CHAINS; ++c)
    lo[c] = hi[c] = _mm512_setzero_ps();
  if (open)
    lo[0] = _mm512_load_ps(carry);
  int64_t g = j0 / groupBlocks, left = groupBlocks - open;
  for (int64_t jj = 0; jj < pb; ++jj) {
    __m512i words[3];
    SQUANT_UNROLL
    for (int i = 0; i < bits; ++i) {
      const uint8_t *word = tile + (jj * bits + i) * 64;
      _mm_prefetch((const char *)(word + SQUANT_TILE16_AHEAD), _MM_HINT_T0);
      words[i] = _mm512_loadu_si512((const void *)word);
    }
    lookupBlock(words, pairs, quads, j0 + jj, bits, lo, hi);
    if (--left == 0) {
      endGroup(p, n0, g++, laneParams, lanes, bits, lo, hi, &acc);
      left = groupBlocks;
    }
  }
  if (left != groupBlocks)
    _mm512_store_ps(carry, groupDot(w, bits, lo, hi));
  if (j0 > 0)
    acc = _mm512_add_ps(_mm512_maskz_loadu_ps(lanes, p->y + n0), acc);
  _mm512_mask_storeu_ps(p->y + n0, lanes, acc);
}

static inline __attribute__((always_inline)) void
tilesAll(const squant_rt_qgemm_params *p, const int32_t bits) {
  /* Lane j takes the run of rows [n_begin + j R, n_begin + (j + 1) R): tile
   * t holds row t of every run, so each lane reads one linear stream of
   * consecutive rows, 16 streams in 16 pages that the prefetchers follow
   * (16 adjacent short rows would share pages). */
  int64_t runs = (p->n_end - p->n_begin) / SQUANT_TILE;
  for (int64_t t = 0; t < runs; ++t)
    tileRows(p, p->n_begin + t, runs, t + 1 < runs, bits);
  int64_t full = p->n_begin + SQUANT_TILE * runs;
  if (full < p->n_end) { /* the last rows of the weight: no whole tile */
    squant_rt_qgemm_params tail = *p;
    tail.n_begin = full;
    squant_rt_qgemm_avx512(&tail);
  }
}

/* TILE16_V1: the threads' row ranges are whole tiles (api.c). Panel by
 * panel (512 columns: pair and quad tables of 16 and 8 KiB, in L1 beside
 * the codes; read from L2, a table line per lookup held the lookups back),
 * each thread reads its tiles' part of the panel as one linear stream. The
 * tiles go in blocks of SQUANT_TILE_BLOCK over all panels, so that the
 * block's scales and biases (16 rows' lines per group gathered) stay in L2
 * from one panel to the next. Each row adds its panels' sums in order of
 * k, whatever the blocking. */
#define SQUANT_TILE_BLOCK 64
static inline __attribute__((always_inline)) void
tiles16All(const squant_rt_qgemm_params *p, const int32_t bits) {
  const squant_rt_qweight *w = p->w;
  int64_t blocks = w->k / 32, groupBlocks = w->group_size / 32, tiles = (w->n + 15) / 16;
  int64_t first = p->n_begin / SQUANT_TILE, last = (p->n_end + SQUANT_TILE - 1) / SQUANT_TILE;
  for (int64_t t0 = first; t0 < last; t0 += SQUANT_TILE_BLOCK) {
    int64_t t1 = last - t0 < SQUANT_TILE_BLOCK ? last : t0 + SQUANT_TILE_BLOCK;
    for (int64_t j0 = 0; j0 < blocks; j0 += SQUANT_RT_TILE16_PANEL) {
      int64_t pb = squant_rt_tile16_panel_blocks(w->k, j0), open = j0 % groupBlocks;
      const uint8_t *panel = w->codes + j0 * tiles * bits * 64;
      for (int64_t t = t0; t < t1; ++t)
        tile16(p, panel + t * pb * bits * 64, t, j0, pb, open, bits);
    }
  }
}

/* TILE16_V2: T tiles (t0, t0 + stride, ...) at once, each one linear
 * stream over all of K (its groups' words, then the 16 rows' scales and
 * biases). Each table line is loaded once for the T tiles' lookups; 8
 * tiles are 8 streams that the L2 streamer follows (measured in a scratch
 * harness: 4 tiles or 12-16 read slower, as do the 8 tiles interleaved
 * into one stream and parameters in separate arrays), each prefetched
 * SQUANT_V2_AHEAD bytes ahead (from memory, session 19: int2 0.64-0.66 ->
 * 0.69-0.81 of the probe; the harness that found software prefetches
 * slower read copies partly served by the L3).
 * One add chain per tile: per word its 8 dependent adds wait less than
 * the T tiles' lookups take. 3-bit codes: the quad tables hold the third
 * bit's weight (+-4), so both planes add into one dot. */
#define SQUANT_V2_TILES 8
#define SQUANT_V2_AHEAD 4096
static inline __attribute__((always_inline)) void
tilesV2(const squant_rt_qgemm_params *p, int64_t t0, int64_t stride,
        const int T, const int32_t bits) {
  const squant_rt_qweight *w = p->w;
  int64_t groupBlocks = w->group_size / 32, groups = w->k / w->group_size;
  int64_t groupBytes = squant_rt_tile16v2_group_bytes(bits, w->group_size);
  int64_t tileBytes = groups * groupBytes;
  const float *pairs = p->tables, *quads = p->tables + pairFloats(w);
  const uint8_t *tiles = w->codes + t0 * tileBytes;
  __m512 acc[SQUANT_V2_TILES], dot[SQUANT_V2_TILES];
  SQUANT_UNROLL
  for (int i = 0; i < T; ++i)
    acc[i] = dot[i] = _mm512_setzero_ps();
  for (int64_t g = 0; g < groups; ++g) {
    const uint8_t *group = tiles + g * groupBytes;
    for (int64_t jj = 0; jj < groupBlocks; ++jj) {
      int64_t j = g * groupBlocks + jj;
      SQUANT_UNROLL
      for (int word = 0; word < bits; ++word) {
        const float *table = bits == 1 || word == 2
                                 ? quads + j * 8 * 16
                                 : pairs + (j * 16 + word * 8) * 16;
        __m512i words[SQUANT_V2_TILES];
        SQUANT_UNROLL
        for (int i = 0; i < T; ++i) {
          const uint8_t *line = group + i * stride * tileBytes + (jj * bits + word) * 64;
          _mm_prefetch((const char *)(line + SQUANT_V2_AHEAD), _MM_HINT_T0);
          words[i] = _mm512_loadu_si512((const void *)line);
        }
        SQUANT_UNROLL
        for (int nibble = 0; nibble < 8; ++nibble) {
          __m512 line = _mm512_load_ps(table + 16 * nibble);
          SQUANT_UNROLL
          for (int i = 0; i < T; ++i) {
            __m512i index =
                nibble ? _mm512_srli_epi32(words[i], 4 * nibble) : words[i];
            dot[i] = _mm512_add_ps(dot[i], _mm512_permutexvar_ps(index, line));
          }
        }
      }
    }
    const uint8_t *params = group + groupBlocks * bits * 64;
    __m512 xsum = w->form == SQUANT_RT_FORM_FMA ? _mm512_set1_ps(p->xsum[g])
                                                : _mm512_setzero_ps();
    /* The parameters' lines are prefetched too, read or not. Without
     * them, at group 32 (256 bytes a group at 2 bits) the words'
     * prefetches never land on a parameter line, and the LUT form, which
     * leaves the bias line unread, ran 1.5x the FMA form's time (session
     * 33; every form and group reads 3-11 % faster with them). */
    SQUANT_UNROLL
    for (int i = 0; i < T; ++i)
      for (int64_t at = groupBlocks * bits * 64; at < groupBytes; at += 64)
        _mm_prefetch((const char *)(group + i * stride * tileBytes +
                                    SQUANT_V2_AHEAD + at),
                     _MM_HINT_T0);
    SQUANT_UNROLL
    for (int i = 0; i < T; ++i) {
      const float *scale = (const float *)(params + i * stride * tileBytes);
      if (w->form == SQUANT_RT_FORM_LUT_F32) {
        acc[i] = _mm512_add_ps(acc[i], dot[i]);
      } else {
        acc[i] = _mm512_fmadd_ps(_mm512_loadu_ps(scale), dot[i], acc[i]);
        if (w->form == SQUANT_RT_FORM_FMA)
          acc[i] = _mm512_fmadd_ps(_mm512_loadu_ps(scale + 16), xsum, acc[i]);
      }
      dot[i] = _mm512_setzero_ps();
    }
  }
  SQUANT_UNROLL
  for (int i = 0; i < T; ++i) {
    int64_t n0 = 16 * (t0 + i * stride),
            valid = w->n - n0 < SQUANT_TILE ? w->n - n0 : SQUANT_TILE;
    _mm512_mask_storeu_ps(p->y + n0, (__mmask16)((1u << valid) - 1u), acc[i]);
  }
}

/* The thread's tiles (its rows are whole tiles, api.c) as 8 runs of
 * consecutive tiles, one tile of each run at a time (each stream goes on
 * from tile to tile), then the rest 4 and 1 at a time: a row's sums do not
 * depend on how its tile is batched. */
static inline __attribute__((always_inline)) void
tiles16v2All(const squant_rt_qgemm_params *p, const int32_t bits) {
  int64_t first = p->n_begin / SQUANT_TILE,
          last = (p->n_end + SQUANT_TILE - 1) / SQUANT_TILE;
  int64_t runs = (last - first) / SQUANT_V2_TILES;
  for (int64_t t = first; t < first + runs; ++t)
    tilesV2(p, t, runs, SQUANT_V2_TILES, bits);
  int64_t t = first + runs * SQUANT_V2_TILES;
  for (; t + 4 <= last; t += 4)
    tilesV2(p, t, 1, 4, bits);
  for (; t < last; ++t)
    tilesV2(p, t, 1, 1, bits);
}

static void tables1(const squant_rt_qgemm_params *p) { tilesAll(p, 1); }
static void tables3(const squant_rt_qgemm_params *p) { tilesAll(p, 3); }

/* name(p) runs all(p, bits) with the width (1, 2 or 3) a constant. */
#define SQUANT_TILED(name, all)                                                \
  static void name(const squant_rt_qgemm_params *p) {                          \
    if (p->w->bits == 1)                                                       \
      all(p, 1);                                                               \
    else if (p->w->bits == 2)                                                  \
      all(p, 2);                                                               \
    else                                                                       \
      all(p, 3);                                                               \
  }
SQUANT_TILED(tiledV1, tiles16All)
SQUANT_TILED(tiledV2, tiles16v2All)

void squant_rt_gemv_tables_avx512(const squant_rt_qgemm_params *p) {
  if (p->w->layout == SQUANT_RT_LAYOUT_TILE16_V2) {
    tiledV2(p);
    return;
  }
  if (p->w->layout == SQUANT_RT_LAYOUT_TILE16_V1) {
    tiledV1(p);
    return;
  }
  if (p->w->bits == 1)
    tables1(p);
  else
    tables3(p);
}
