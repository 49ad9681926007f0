/*===- gemm_amx_folded.c - fp32 qgemm on AMX-BF16 with folded weights ----===//
 *
 * y = x w^T with fp32 activations and the exact fp32 weights: each block
 * dequantized as the AVX-512 GEMM dequantizes its panels (w = fma(q, s, b),
 * s_t * T[q] or the fp32 entry; dequant_avx512.h), so the group scales are
 * folded into the weights and no group has an epilogue. gemm_amx.c's group
 * factorization stores, scales and adds each group's dots; in groups of 32
 * that is once per tile product and took it to 1.3-1.5x the AVX-512
 * GEMM's time (docs/Performance.md, session 33).
 *
 * Both operands split exactly into three bf16 parts (squantSplit3): x as
 * gemm_amx.c packs it (squant_rt_amx_pack_activations, each row's parts
 * tile rows), w as three A tiles per 16 rows and K step, in the same lane
 * order (squant_rt_amx_column; groups of 32 to 96 decode one block at a
 * time). Of the nine products x_i w_j the tiles add the six whose parts
 * reach within 16 bits of the leading ones (x_hi w_hi, x_hi w_mid,
 * x_mid w_hi, x_hi w_lo, x_mid w_mid, x_lo w_hi: bf16x6); each is exact.
 * The three left out are each below 2^-22 |x w| (|mid| < 2^-7 |v|,
 * |lo| < 2^-15 |v|), so each x w enters the fp32 sums with a relative error
 * below 2^-21, against 2^-24 for an fp32 product's rounding. The six
 * products of a chunk of 32 activation rows (a last one of fewer padded
 * with zero rows, squant_rt_amx_source's folded layout) go into one set of
 * four accumulator tiles (32 weight rows by 32 activation rows): 24
 * TDPBF16PS per K step where the factorized kernel takes 12 and an
 * epilogue. So every row takes the same products in the same order, and
 * its bits do not depend on M.
 *
 * Per thread, loops outermost first: passes over the weight of up to
 * SQUANT_RT_AMX_FOLDED_MB activation rows (as many passes as that needs,
 * of equal chunk counts), N blocks of SQUANT_RT_AMX_FOLDED_NB pairs of
 * weight tiles (their accumulators, [32][the pass's rows + 16] fp32 per
 * pair, in the scratch), K blocks (as many columns as keep the pass's
 * activation tiles for them within SQUANT_RT_AMX_FOLDED_X_BYTES, 768 KiB,
 * so that they stay in L2 while the block's pairs pass), pairs, K chunks
 * of SQUANT_RT_AMX_FOLDED_KC columns. Each chunk's parts (24 KiB of A
 * tiles) are decoded while the previous chunk's tile products run, a few
 * rows per K step, into the other of two buffers; then every chunk of 32
 * activation rows of the pass takes them. So each weight is decoded once
 * per pass (passes of 128 rows made M = 160 decode it twice, the second
 * time behind one chunk's products: 14-19 % more time than one pass,
 * docs/Performance.md, session 37). The weights are not
 * prefetched (the AVX-512 GEMM's squant_rt_prefetch_rows): a chunk's lines are
 * few against its tile products (96 TDPBF16PS per 32 activation rows),
 * and prefetching them into L1 took 4 % longer (docs/Performance.md,
 * session 36).
 *
 * AMX reads bf16 subnormals as zero and flushes subnormal sums to zero:
 * x's rows are scaled by powers of two as in gemm_amx.c; weights below
 * 2^-110 in magnitude lose the parts below bf16's normal range
 * (squant_rt.h and runtime/README.md say so).
 *
 *===----------------------------------------------------------------------===*/

#include "../../kernels.h"
#include "amx_bf16.h"
#include "amx_tiles.h"
#include "dequant_avx512.h"

#define SQUANT_FOLDED_KC SQUANT_RT_AMX_FOLDED_KC
#define SQUANT_FOLDED_MB SQUANT_RT_AMX_FOLDED_MB
#define SQUANT_FOLDED_NB SQUANT_RT_AMX_FOLDED_NB

/* The three parts of a group's 16 exact weights (squantGroupValues) as
 * 32-word bf16 tables, entry j the part of weight j mod 16. */
static inline __attribute__((always_inline)) void
partTables(__m512 groupTable, __m512i tables[3]) {
  /* Word j: the high half of fp32 lane j mod 16. */
  const __m512i odd = _mm512_set_epi16(31, 29, 27, 25, 23, 21, 19, 17, 15, 13,
                                       11, 9, 7, 5, 3, 1, 31, 29, 27, 25, 23,
                                       21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
  __m512i parts[3];
  squantSplit3(groupTable, parts);
  for (int part = 0; part < 3; ++part)
    tables[part] = _mm512_permutexvar_epi16(odd, parts[part]);
}

/* One block's three parts as A tile rows (part p at out + p * partWords),
 * in squant_rt_amx_column's order: 1-, 2- and 4-bit codes index the
 * group's part tables (squantAmxCodeWords), 3-bit codes too, in k order
 * (their indices in 32-bit lanes packed to words); 8-bit codes are
 * dequantized per code and split. */
static inline __attribute__((always_inline)) void
decodeBlock(const squant_rt_qweight *w, const uint8_t *block, __m512 groupTable,
            const __m512i tables[3], int64_t param, uint16_t *out,
            int64_t partWords, const int32_t bits) {
  if (bits == 8) {
    /* Word L: the high half of fp32 lane L of (v0, v1). */
    const __m512i odd = _mm512_set_epi16(
        63, 61, 59, 57, 55, 53, 51, 49, 47, 45, 43, 41, 39, 37, 35, 33, 31, 29,
        27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    __m512 v0, v1;
    squantBlockWeights(w, block, groupTable, param, bits, &v0, &v1);
    __m512i lo[3], hi[3];
    squantSplit3(v0, lo);
    squantSplit3(v1, hi);
    for (int part = 0; part < 3; ++part)
      _mm512_storeu_si512((void *)(out + part * partWords),
                          _mm512_permutex2var_epi16(lo[part], odd, hi[part]));
    return;
  }
  __m512i idx;
  if (bits == 3) {
    /* Word L: the low half of 32-bit lane L of (i0, i1). */
    const __m512i even = _mm512_set_epi16(
        62, 60, 58, 56, 54, 52, 50, 48, 46, 44, 42, 40, 38, 36, 34, 32, 30, 28,
        26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    idx = _mm512_permutex2var_epi16(squantIndices16(block, 3, 0), even,
                                    squantIndices16(block, 3, 1));
  } else {
    idx = squantAmxCodeWords(block, bits);
  }
  for (int part = 0; part < 3; ++part)
    _mm512_storeu_si512((void *)(out + part * partWords),
                        _mm512_permutexvar_epi16(idx, tables[part]));
}

/* One K chunk of one pair of weight tiles: rows [n0, n0 + nr) (up to 32;
 * the tiles' other rows zero) and columns [k0, k0 + kc), in the N block
 * from nb0 and the K block from kb0 (K blocks of kb columns). */
typedef struct {
  int64_t nb0, kb0, n0, k0, kc, kb;
  int nr;
} FoldedChunk;

static inline void chunkAt(const squant_rt_qgemm_params *p, int64_t k,
                           int64_t kb, int64_t nb0, int64_t kb0, int64_t n0,
                           int64_t k0, FoldedChunk *c) {
  int64_t nbEnd = p->n_end - nb0 < SQUANT_FOLDED_NB * 32
                      ? p->n_end
                      : nb0 + SQUANT_FOLDED_NB * 32;
  int64_t kbEnd = k - kb0 < kb ? k : kb0 + kb;
  c->kb = kb;
  c->nb0 = nb0;
  c->kb0 = kb0;
  c->n0 = n0;
  c->k0 = k0;
  c->kc = kbEnd - k0 < SQUANT_FOLDED_KC ? kbEnd - k0 : SQUANT_FOLDED_KC;
  c->nr = nbEnd - n0 < 32 ? (int)(nbEnd - n0) : 32;
}

/* The chunk after c in the loops' order (K chunks, pairs, K blocks, N
 * blocks, innermost first) into next; 0 after the last. */
static inline int nextChunk(const squant_rt_qgemm_params *p, int64_t k,
                            const FoldedChunk *c, FoldedChunk *next) {
  int64_t nbEnd = p->n_end - c->nb0 < SQUANT_FOLDED_NB * 32
                      ? p->n_end
                      : c->nb0 + SQUANT_FOLDED_NB * 32;
  int64_t kbEnd = k - c->kb0 < c->kb ? k : c->kb0 + c->kb;
  if (c->k0 + c->kc < kbEnd)
    chunkAt(p, k, c->kb, c->nb0, c->kb0, c->n0, c->k0 + c->kc, next);
  else if (c->n0 + 32 < nbEnd)
    chunkAt(p, k, c->kb, c->nb0, c->kb0, c->n0 + 32, c->kb0, next);
  else if (kbEnd < k)
    chunkAt(p, k, c->kb, c->nb0, kbEnd, c->nb0, kbEnd, next);
  else if (nbEnd < p->n_end)
    chunkAt(p, k, c->kb, nbEnd, 0, nbEnd, 0, next);
  else
    return 0;
  return 1;
}

/* Rows [rBegin, rEnd) of chunk c as three parts into a: [part][tile][step]
 * [16 rows][32] bf16 (rows from c->nr on zero). */
static inline __attribute__((always_inline)) void
decodeRows(const squant_rt_qgemm_params *p, const squant_rt_qweight *w,
           const FoldedChunk *c, int rBegin, int rEnd, uint16_t *a,
           const int32_t bits) {
  int64_t gs = w->group_size, groups = w->k / gs, steps = c->kc / 32;
  int64_t blockBytes = squant_rt_block_bytes(bits), partWords = 2 * steps * 512;
  /* The group of each block counted, not divided (decodePanel). */
  int64_t g0 = c->k0 / gs, g0End = (g0 + 1) * gs;
  for (int r = rBegin; r < rEnd; ++r) {
    uint16_t *row = a + (r / 16) * steps * 512 + (r % 16) * 32;
    if (r >= c->nr) {
      for (int part = 0; part < 3; ++part)
        for (int64_t j = 0; j < steps; ++j)
          _mm512_storeu_si512((void *)(row + part * partWords + j * 512),
                              _mm512_setzero_si512());
      continue;
    }
    int64_t n = c->n0 + r;
    __m512 table = squantRowTable(w, p->values, n);
    const uint8_t *codes = squant_rt_row_codes(w, n);
    int64_t param = n * groups + g0, paramEnd = g0End;
    __m512 groupTable = squantGroupValues(w, table, param, bits);
    __m512i tables[3];
    if (bits <= 4)
      partTables(groupTable, tables);
    for (int64_t j = 0; j < steps; ++j) {
      int64_t col = c->k0 + 32 * j;
      if (col >= paramEnd) {
        ++param;
        paramEnd += gs;
        groupTable = squantGroupValues(w, table, param, bits);
        if (bits <= 4)
          partTables(groupTable, tables);
      }
      decodeBlock(w, codes + col / 32 * blockBytes, groupTable, tables, param,
                  row + j * 512, partWords, bits);
    }
  }
}

/* Tiles 0-3: the accumulators of 32 weight rows by 32 activation rows,
 * zero at K's start, else loaded; rows: the accumulators' columns per
 * weight row (their stride), one per activation row of the pass (its
 * three parts summed in it) and a line more. */
static inline __attribute__((always_inline)) void
loadAccumulators(float *acc, int64_t rows, int zero) {
  const int64_t stride = rows * (int64_t)sizeof(float);
  if (zero) {
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    return;
  }
  _tile_loadd(0, acc, stride);
  _tile_loadd(1, acc + 16, stride);
  _tile_loadd(2, acc + 16 * rows, stride);
  _tile_loadd(3, acc + 16 * rows + 16, stride);
}

static inline __attribute__((always_inline)) void
storeAccumulators(float *acc, int64_t rows) {
  const int64_t stride = rows * (int64_t)sizeof(float);
  _tile_stored(0, acc, stride);
  _tile_stored(1, acc + 16, stride);
  _tile_stored(2, acc + 16 * rows, stride);
  _tile_stored(3, acc + 16 * rows + 16, stride);
}

/* Both weight tiles (4 and 5) times both activation tiles (6 and 7). */
static inline __attribute__((always_inline)) void fourProducts(void) {
  _tile_dpbf16ps(0, 4, 6);
  _tile_dpbf16ps(1, 4, 7);
  _tile_dpbf16ps(2, 5, 6);
  _tile_dpbf16ps(3, 5, 7);
}

/* The weight tiles of part `part` at K step j loaded, then fourProducts. */
static inline __attribute__((always_inline)) void
partProducts(const uint16_t *a, int part, int64_t j, int64_t steps) {
  const uint16_t *a0 = a + (part * 2 * steps + j) * 512;
  _tile_loadd(4, a0, 64);
  _tile_loadd(5, a0 + steps * 512, 64);
  fourProducts();
}

/* The tile products of one chunk of 32 activation rows over weight chunk
 * c decoded in a (three parts of two tiles per K step), its activation
 * tiles (hi, hi, mid, mid, lo, lo) from b0 (K step c->k0 / 32; consecutive
 * tiles bStride words apart), into acc (rows as in loadAccumulators):
 * the six products x_lo w_hi, x_hi w_hi, x_hi w_lo, x_hi w_mid,
 * x_mid w_mid, x_mid w_hi into one set of accumulators, in this order so that
 * two weight parts loaded once serve two activation parts each (four loads of
 * weight tile pairs per K step, not six). Step j also decodes the rows of
 * `next` (into nextA) assigned to slot slot0 + j of `slots`, so that the vector
 * ports decode while the tiles compute. (Measured: no change against decoding
 * between chunks, where the decode, 2.5 ms alone for 4096 x 4096, added 4-7 ms;
 * docs/Performance.md, session 35.) */
static inline __attribute__((always_inline)) void
chunkProducts(const squant_rt_qgemm_params *p, const squant_rt_qweight *w,
              const uint16_t *a, const FoldedChunk *c, const uint16_t *b0,
              int64_t bStride, float *acc, int64_t rows,
              const FoldedChunk *next, uint16_t *nextA, int64_t slot0,
              int64_t slots, const int32_t bits) {
  loadAccumulators(acc, rows, c->k0 == 0);
  int64_t steps = c->kc / 32;
  for (int64_t j = 0; j < steps; ++j) {
    const uint16_t *b = b0 + j * 512;
    _tile_loadd(6, b + 4 * bStride, 64); /* x_lo */
    _tile_loadd(7, b + 5 * bStride, 64);
    partProducts(a, 0, j, steps);
    _tile_loadd(6, b, 64); /* x_hi */
    _tile_loadd(7, b + bStride, 64);
    fourProducts();
    partProducts(a, 2, j, steps);
    partProducts(a, 1, j, steps);
    _tile_loadd(6, b + 2 * bStride, 64); /* x_mid */
    _tile_loadd(7, b + 3 * bStride, 64);
    fourProducts();
    partProducts(a, 0, j, steps);
    if (next) {
      int64_t slot = slot0 + j;
      decodeRows(p, w, next, (int)(slot * 32 / slots),
                 (int)((slot + 1) * 32 / slots), nextA, bits);
    }
  }
  storeAccumulators(acc, rows);
}

static inline __attribute__((always_inline)) void
gemmFolded(const squant_rt_qgemm_params *p, const int32_t bits) {
  /* A copy the decode's stores cannot alias (decodePanel). */
  const squant_rt_qweight weight = *p->w, *w = &weight;
  int64_t k = w->k, steps = k / 32;
  /* Two chunks' A tiles ([3][2][KC / 32][16][32] bf16 each), then the N
   * block's accumulators ([NB][32][rows]). */
  uint16_t *buffers[2] = {(uint16_t *)p->scratch,
                          (uint16_t *)p->scratch + 3 * SQUANT_FOLDED_KC * 32};
  float *accs = p->scratch + 3 * SQUANT_FOLDED_KC * 32;
  /* Chunks of 32 activation rows, the last padded with zero rows
   * (squant_rt_amx_source's folded layout), in passes over the weight of
   * as equal counts as SQUANT_FOLDED_MB allows: each pass decodes every
   * weight once, behind its chunks' tile products. */
  const int64_t chunkM = SQUANT_RT_AMX_SPLIT_MB;
  const int64_t allChunks = (p->m + chunkM - 1) / chunkM,
                passes = (allChunks * chunkM + SQUANT_FOLDED_MB - 1) /
                         SQUANT_FOLDED_MB,
                passM = (allChunks + passes - 1) / passes * chunkM;
  /* The accumulators' stride: a line past the pass's rows, so that the
   * rows of a tile do not all fall in a few L1 sets (a stride of 256 rows'
   * 1 KiB took 3 % longer at M = 128). The K blocks: as many columns as
   * keep the pass's activation tiles within SQUANT_RT_AMX_FOLDED_X_BYTES. */
  const int64_t rows = passM + 16;
  int64_t kb = (int64_t)SQUANT_RT_AMX_FOLDED_X_BYTES / (passM * 3 * 2) /
               SQUANT_FOLDED_KC * SQUANT_FOLDED_KC;
  kb = kb < SQUANT_FOLDED_KC ? SQUANT_FOLDED_KC : kb;
  for (int64_t r0 = 0; r0 < p->m; r0 += passM) {
    int64_t mm = p->m - r0 < passM ? p->m - r0 : passM;
    /* The pass's chunks, from activation tile tile0. */
    int64_t chunks = (mm + chunkM - 1) / chunkM,
            tile0 = r0 / chunkM * squant_rt_amx_chunk_rows(3) / 16;
    FoldedChunk c, next;
    chunkAt(p, k, kb, p->n_begin, 0, p->n_begin, 0, &c);
    decodeRows(p, w, &c, 0, 32, buffers[0], bits);
    int hasNext = nextChunk(p, k, &c, &next);
    for (int cur = 0;; cur ^= 1) {
      float *acc = accs + (c.n0 - c.nb0) / 32 * 32 * rows;
      int64_t slots = chunks * (c.kc / 32);
      for (int64_t u = 0; u < chunks; ++u)
        chunkProducts(p, w, buffers[cur], &c,
                      p->xb + ((tile0 + 6 * u) * steps + c.k0 / 32) * 512,
                      steps * 512, acc + 32 * u, rows, hasNext ? &next : NULL,
                      buffers[cur ^ 1], u * (c.kc / 32), slots, bits);
      /* The N block's last chunk: its outputs are complete. */
      if (!hasNext || next.nb0 != c.nb0) {
        int64_t nbEnd = c.n0 + c.nr;
        for (int64_t n0 = c.nb0; n0 < nbEnd; n0 += 32) {
          int nr = nbEnd - n0 < 32 ? (int)(nbEnd - n0) : 32;
          const float *out = accs + (n0 - c.nb0) / 32 * 32 * rows;
          for (int64_t i0 = 0; i0 < mm; i0 += chunkM)
            squantStoreOutputs(
                out + i0, rows, nr, mm - i0 < chunkM ? mm - i0 : chunkM, 1,
                p->row_scale + r0 + i0, p->y + (r0 + i0) * p->y_stride + n0,
                p->y_stride);
        }
      }
      if (!hasNext)
        break;
      c = next;
      hasNext = nextChunk(p, k, &c, &next);
    }
  }
}

void squant_rt_qgemm_folded_amx(const squant_rt_qgemm_params *p) {
  SQUANT_AMX_BY_BITS(gemmFolded, p);
}
