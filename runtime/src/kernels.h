/*===- kernels.h - Internal kernel parameters and entry points -----*- C -*-===//
 *
 * The public entry points (api.c) validate arguments once and fill this
 * struct; kernels trust it. One implementation per ISA, each in its own file
 * compiled with its own -m flags.
 *
 *===----------------------------------------------------------------------===*/

#ifndef SQUANT_RUNTIME_KERNELS_H
#define SQUANT_RUNTIME_KERNELS_H

#include "squant/runtime/squant_rt.h"

#include <float.h>

/* fp32 activations for 8-, 4- and 2-bit codes on AMX-INT8 (gemm_amx_int8.c),
 * per group of each row of x (times its row scale, squant_rt_amx_row_scales):
 * a sum of int8 parts times powers of two, v = sum_p q_p 2^e_p. Part p
 * holds the top 7 bits of what the parts before it left, below the
 * largest remaining magnitude's exponent E (e_p = E - 6, q = the remainder
 * times 2^-e_p truncated, |q| <= 127): each part is exact, and the parts
 * add up to v exactly except where a unit would fall below 2^-149 (values
 * under 2^-143 after the row's scaling, so 2^103 or more below the row's
 * largest, are dropped). The rows come in blocks of up to 16 (block b:
 * rows 16 b ..; squant_rt_amx_int8_blocks), each block's parts in tiles of
 * 16 lanes: lane_rows rows (4, 8 or 16, as the block's rows need:
 * squant_rt_amx_int8_lane_rows) times 16 / lane_rows slots; part p of the
 * block's row r is lane (p mod slots) * lane_rows + r of the block's tile
 * p / slots. */
#define SQUANT_RT_AMX_INT8_PARTS 8
#define SQUANT_RT_AMX_INT8_MAX_M 32
typedef struct squant_rt_amx_int8_parts {
  /* Per group and block, SQUANT_RT_AMX_INT8_PARTS / slots tiles
   * (squant_rt_amx_int8_tiles) of group / 64 B tiles (1 KiB each: [16
   * quads of columns][16 lanes][4]), unused lanes of tiles in use zero:
   * tile t of block b of group g is T = g * (the group's tiles) + (block b's
   * first) + t (squant_rt_amx_int8_first_tile), its B tiles at tiles + (T *
   * (group / 64) + c) * 1024. */
  int8_t *tiles;
  /* [T][16]: each lane's 2^e_p (0 where unused, in tiles in use). */
  float *units;
  /* [groups][blocks]: the tiles in use (parts of the block's row with the
   * most in the group, over slots, rounded up). */
  int32_t *counts;
  /* [groups][blocks][16]: the lane of row r (slot 0) holds the sum of row
   * r's scaled x over the group (in a fixed order), the others zero. */
  float *sums;
  /* M = 1, int8 activations: [groups] each group's sum of its int8 x
   * (squant_rt_gemv_amx_int8_quantize; NULL: not written). */
  int32_t *qsums;
} squant_rt_amx_int8_parts;

/* Validated parameters of one qgemm over output rows [n_begin, n_end). */
typedef struct squant_rt_qgemm_params {
  const float *x;
  int64_t m, x_stride;
  const squant_rt_qweight *w;
  float *y;
  int64_t y_stride;
  /* FMA form: sum of x over each group, [m][k / group_size]. */
  const float *xsum;
  /* M > 8, AVX-512: X^T in slices of xt_stride (32) activation rows, slice
   * s at xt + s * xt_stride * k, [k][xt_stride]; rows past m zero (used by
   * the AVX-512 GEMM). */
  const float *xt;
  int64_t xt_stride;
  /* Value of each index: the code as a float (FMA form), the int8 table
   * entry (LUT_INT8) or the per-tensor fp32 table (LUT_F32 with one table).
   * 2^bits entries, replicated to 16 (entry j = entry j mod 2^bits). */
  float values[16];
  int64_t n_begin, n_end;
  /* SQUANT_RT_FLAG_INT8_ACTIVATIONS: x quantized per group (k bytes, in
   * the codes' in-register order of each 64-code pair of blocks), the
   * group's activation scale and sum of its int8 values. */
  const int8_t *xq;
  const float *xq_scale;
  const int32_t *xq_sum;
  /* M = 1, AVX-512 K-vectorized GEMV of 2-bit codes, or of 4-bit codes
   * read in lines (squant_rt_gemv_x_ordered): x in the decode's lane order
   * (squant_rt_gemv_x_order_avx512), k floats; NULL otherwise. */
  const float *xorder;
  /* M = 1, the activation-table GEMV (gemv_tables_avx512.c): its tables
   * and, for TILE16_V1, the tiles' carries, 64-byte aligned (written). */
  float *tables;
  /* M > 1, AVX-512: this thread's scratch, 64-byte aligned (the pool
   * thread's, or the workspace's without a pool): for M <= 8 the small-M
   * path's chunk of x (SQUANT_RT_SMALL_SCRATCH bytes), for M > 8 the
   * GEMM's decoded panel and its tiles (SQUANT_RT_GEMM_SCRATCH). */
  float *scratch;
  /* bf16 activations on AMX (gemm_amx.c): x in the tiles' B layout
   * (squant_rt_amx_pack_activations; m_pad rows) and the FMA form's group
   * sums of x transposed, [k / group_size][m_pad]. */
  const uint16_t *xb;
  const float *xsum_t;
  int64_t m_pad;
  /* fp32 activations on AMX: 3 (each row's three bf16 parts are tile rows;
   * y is their sum times row_scale[r]); bf16 activations: 1. */
  int32_t amx_parts;
  const float *row_scale;
  /* 8-bit codes on AMX-INT8 (gemm_amx_int8.c): x split into int8 parts
   * (squant_rt_amx_int8_split) and row_scale as above. */
  squant_rt_amx_int8_parts xparts;
  /* M = 1 on AMX-INT8 (gemv_amx_int8.c): the parts' tile rows (the most
   * parts of a group). */
  int32_t xpart_rows;
} squant_rt_qgemm_params;

/* The AVX-512 small-M path's K chunk (gemm_avx512.c): its copy of x is
 * [chunk / 32 blocks][8 rows][32]. */
#define SQUANT_RT_SMALL_KC 1024
#define SQUANT_RT_SMALL_SCRATCH ((size_t)8 * SQUANT_RT_SMALL_KC * sizeof(float))

/* The AVX-512 GEMM's blocking (gemm_avx512.c): micro-tiles of GR weight
 * rows, K chunks of KC columns decoded into a panel of GR rows of
 * PANEL_STRIDE floats (KC plus a line, so that panel rows are no multiple
 * of 1 KiB apart: at KC = 256 they aliased the code rows the decode loads
 * while it stores them, 7 % at M = 128), N
 * chunks of NB blocks and M chunks of MS slices of 32 activation rows whose
 * [NB][MS][GR][32] tiles follow the panel in the scratch. */
#define SQUANT_RT_GEMM_GR 14
#define SQUANT_RT_GEMM_KC 384
#define SQUANT_RT_GEMM_PANEL_STRIDE (SQUANT_RT_GEMM_KC + 16)
#define SQUANT_RT_GEMM_NB 16
#define SQUANT_RT_GEMM_MS 4
#define SQUANT_RT_GEMM_SCRATCH                                                        \
  ((size_t)(SQUANT_RT_GEMM_GR * SQUANT_RT_GEMM_PANEL_STRIDE +                        \
            SQUANT_RT_GEMM_NB * SQUANT_RT_GEMM_MS * SQUANT_RT_GEMM_GR * 32) *          \
   sizeof(float))

/* The AMX bf16 GEMM's blocking (gemm_amx.c): tiles of 16 weight rows by
 * 16 activation rows, two of each per step (four accumulator tiles); N
 * blocks of SQUANT_RT_AMX_NB pairs of weight tiles, M chunks of
 * SQUANT_RT_AMX_MB activation rows, K blocks of whole groups of about
 * SQUANT_RT_AMX_KB columns, K chunks of up to SQUANT_RT_AMX_KC columns
 * (within a group) decoded into bf16 A tiles. Activation rows are padded
 * to pairs of tiles (SQUANT_RT_AMX_M_ALIGN). Scratch: the A tiles, one
 * step's accumulators, a group's partial accumulators (groups longer than
 * a chunk) and the N block's outputs. */
#define SQUANT_RT_AMX_KC 256
#define SQUANT_RT_AMX_MB 128
#define SQUANT_RT_AMX_NB 8
#define SQUANT_RT_AMX_KB 4096
#define SQUANT_RT_AMX_M_ALIGN 32
/* fp32 activations: activation rows per M chunk (their 3 parts: 96 tile
 * rows). */
#define SQUANT_RT_AMX_SPLIT_MB 32
#define SQUANT_RT_AMX_SCRATCH                                                  \
  ((size_t)(2 * SQUANT_RT_AMX_KC / 32) * 1024 + 4096 +                         \
   (size_t)(SQUANT_RT_AMX_MB / 32) * 4096 +                                    \
   (size_t)SQUANT_RT_AMX_NB * 32 * SQUANT_RT_AMX_MB * sizeof(float))

/* Bytes of one BLOCK32_V1 block (32 codes) of b-bit codes. */
static inline int64_t squant_rt_block_bytes(int32_t bits) { return 4 * bits; }
/* The largest block (8-bit codes): what a copied block needs. */
#define SQUANT_RT_BLOCK_BYTES_MAX 32

/* TILE16_V1 (squant_rt.h): blocks per panel, and the byte offset of word
 * w of block j of row r in a weight of n rows and k columns. */
#define SQUANT_RT_TILE16_PANEL 16
static inline int64_t squant_rt_tile16_panel_blocks(int64_t k, int64_t j) {
  int64_t first = j / SQUANT_RT_TILE16_PANEL * SQUANT_RT_TILE16_PANEL;
  return k / 32 - first < SQUANT_RT_TILE16_PANEL ? k / 32 - first : SQUANT_RT_TILE16_PANEL;
}
static inline int64_t squant_rt_tile16_word(int64_t r, int64_t j, int32_t w, int64_t n,
                                            int64_t k, int32_t bits) {
  int64_t tiles = (n + 15) / 16, panel = j / SQUANT_RT_TILE16_PANEL;
  int64_t unit = SQUANT_RT_TILE16_PANEL * tiles * panel +
                 (r / 16) * squant_rt_tile16_panel_blocks(k, j) + j % SQUANT_RT_TILE16_PANEL;
  return (unit * bits + w) * 64 + (r % 16) * 4;
}

/* TILE16_V2 (squant_rt.h): bytes of one group of a tile (its words, then
 * a line of scales and one of biases), the offset of group g of the tile
 * holding row r, and of row r's parameter in line 0 (scale) or 1 (bias)
 * of that group. */
static inline int64_t squant_rt_tile16v2_group_bytes(int32_t bits,
                                                     int64_t group_size) {
  return (group_size / 32 * bits + 2) * 64;
}
static inline int64_t squant_rt_tile16v2_group(const squant_rt_qweight *w,
                                               int64_t r, int64_t g) {
  int64_t groupBytes = squant_rt_tile16v2_group_bytes(w->bits, w->group_size);
  return ((r / 16) * (w->k / w->group_size) + g) * groupBytes;
}
static inline int64_t squant_rt_tile16v2_param(const squant_rt_qweight *w,
                                               int64_t r, int64_t g,
                                               int32_t line) {
  return squant_rt_tile16v2_group(w, r, g) +
         (w->group_size / 32 * w->bits + line) * 64 + (r % 16) * 4;
}

/* The byte offset of word i of block j of row r in a TILE16_V1 or
 * TILE16_V2 weight (what squant_rt_pack writes and block_at reads). */
static inline int64_t squant_rt_tiled_word(const squant_rt_qweight *w,
                                           int64_t r, int64_t j, int32_t i) {
  if (w->layout == SQUANT_RT_LAYOUT_TILE16_V1)
    return squant_rt_tile16_word(r, j, i, w->n, w->k, w->bits);
  int64_t groupBlocks = w->group_size / 32;
  return squant_rt_tile16v2_group(w, r, j / groupBlocks) +
         ((j % groupBlocks) * w->bits + i) * 64 + (r % 16) * 4;
}

/* The scale and bias of group g of row n, in any layout (what the portable
 * kernel reads; the SIMD kernels index BLOCK32_V1's arrays directly). */
static inline float squant_rt_group_param(const squant_rt_qweight *w,
                                          const float *params, int32_t line,
                                          int64_t n, int64_t g) {
  if (w->layout != SQUANT_RT_LAYOUT_TILE16_V2)
    return params[n * (w->k / w->group_size) + g];
  float v;
  __builtin_memcpy(&v, w->codes + squant_rt_tile16v2_param(w, n, g, line), 4);
  return v;
}
static inline float squant_rt_scale(const squant_rt_qweight *w, int64_t n,
                                    int64_t g) {
  return squant_rt_group_param(w, w->scales, 0, n, g);
}
static inline float squant_rt_bias(const squant_rt_qweight *w, int64_t n,
                                   int64_t g) {
  return squant_rt_group_param(w, w->bias, 1, n, g);
}

/* Block j of row n for the K-vectorized kernels, 4 * bits bytes in
 * BLOCK32_V1 format: BLOCK32_V1 codes in place (row: the row's first byte,
 * squant_rt_row_codes, meaningful for BLOCK32_V1 only), TILE16_V1 and
 * TILE16_V2 words copied into tmp. The layout is one predictable branch per
 * block. */
static inline const uint8_t *squant_rt_row_codes(const squant_rt_qweight *w, int64_t n) {
  return w->codes + n * (w->k / 32) * squant_rt_block_bytes(w->bits);
}
static inline const uint8_t *
squant_rt_block_at(const squant_rt_qweight *w, const uint8_t *row, int64_t n,
                   int64_t j, int32_t bits,
                   uint8_t tmp[SQUANT_RT_BLOCK_BYTES_MAX]) {
  if (w->layout == SQUANT_RT_LAYOUT_BLOCK32_V1)
    return row + j * squant_rt_block_bytes(bits);
  for (int32_t i = 0; i < bits; ++i)
    __builtin_memcpy(tmp + 4 * i, w->codes + squant_rt_tiled_word(w, n, j, i),
                     4);
  return tmp;
}

/* Prefetches into L1 every cache line that [p, p + bytes) touches (from
 * p's line: codes rows need not start on one). */
static inline void squant_rt_prefetch_range(const void *p, int64_t bytes) {
  for (uintptr_t a = (uintptr_t)p & ~(uintptr_t)63; a < (uintptr_t)p + (uintptr_t)bytes; a += 64)
    __builtin_prefetch((const void *)a, 0, 3);
}

/* Prefetches columns [k0, k0 + kc) of BLOCK32_V1 rows [n0, n0 + rows):
 * their codes and group parameters. A K chunk of a block row is short runs
 * of lines one row apart, which the hardware prefetchers do not follow.
 * The divisions stay out of the loop (the compiler kept two per row). */
static inline void squant_rt_prefetch_rows(const squant_rt_qweight *w,
                                           int64_t n0, int64_t rows, int64_t k0,
                                           int64_t kc, int32_t bits) {
  int64_t gs = w->group_size, groups = w->k / gs;
  int64_t blockBytes = squant_rt_block_bytes(bits);
  int64_t g = k0 / gs, params = (kc + gs - 1) / gs;
  for (int64_t r = 0; r < rows; ++r) {
    squant_rt_prefetch_range(squant_rt_row_codes(w, n0 + r) +
                                 k0 / 32 * blockBytes,
                             kc / 32 * blockBytes);
    int64_t param = (n0 + r) * groups + g;
    if (w->form != SQUANT_RT_FORM_LUT_F32)
      squant_rt_prefetch_range(w->scales + param,
                               params * (int64_t)sizeof(float));
    if (w->form == SQUANT_RT_FORM_FMA)
      squant_rt_prefetch_range(w->bias + param,
                               params * (int64_t)sizeof(float));
  }
}

/* Unpacks the 32 indices of one BLOCK32_V1 block (portable, shared by the
 * kernels' tails and the tests). */
void squant_rt_unpack_block32(const uint8_t *block, int32_t bits,
                              uint8_t out[32]);

void squant_rt_qgemm_portable(const squant_rt_qgemm_params *p);
void squant_rt_qgemm_avx2(const squant_rt_qgemm_params *p);
void squant_rt_qgemm_avx512(const squant_rt_qgemm_params *p);
void squant_rt_gemv_int8_vnni(const squant_rt_qgemm_params *p);
/* 3-bit codes (also needs AVX-512 VBMI). */
void squant_rt_gemv_int8_vnni_vbmi(const squant_rt_qgemm_params *p);

/* Activations on AMX-BF16 (gemm_amx.c): bf16 (parts 1), or fp32 split
 * exactly into three bf16 parts (parts 3: x times row_scale[r]^-1 = 2^s_r
 * (a power of two) truncated to bf16, the remainder truncated, the rest;
 * non-finite values whole in the first part). M chunks of
 * squant_rt_amx_chunk_m rows take squant_rt_amx_chunk_rows tile rows:
 * part p of the chunk's row i is tile row p * (rows in the chunk) + i,
 * padding rows zero. The folded kernel's layout (folded) differs in two
 * ways: a last chunk of fewer rows counts squant_rt_amx_chunk_m rows too,
 * those from m on zero (squant_rt_amx_whole_rows tile rows), and every K
 * step is in the single-block lane order (squant_rt_amx_code), whatever
 * the group size (its weights decode one block at a time). */
typedef struct squant_rt_amx_source {
  const void *x;
  int64_t m, x_stride;
  int32_t parts;
  const float *row_scale; /* parts 3 */
  int32_t folded;
} squant_rt_amx_source;

static inline int64_t squant_rt_amx_chunk_m(int32_t parts) {
  return parts == 1 ? SQUANT_RT_AMX_MB : SQUANT_RT_AMX_SPLIT_MB;
}

static inline int64_t squant_rt_amx_chunk_rows(int32_t parts) {
  return parts * squant_rt_amx_chunk_m(parts);
}

/* The tile rows for m activation rows: whole chunks, then the last one's
 * parts padded to pairs of tiles. */
static inline int64_t squant_rt_amx_rows(int64_t m, int32_t parts) {
  int64_t chunk = squant_rt_amx_chunk_m(parts), rest = m % chunk;
  return m / chunk * squant_rt_amx_chunk_rows(parts) +
         (parts * rest + SQUANT_RT_AMX_M_ALIGN - 1) / SQUANT_RT_AMX_M_ALIGN *
             SQUANT_RT_AMX_M_ALIGN;
}

/* The tile rows for m activation rows in whole chunks (folded). */
static inline int64_t squant_rt_amx_whole_rows(int64_t m, int32_t parts) {
  int64_t chunk = squant_rt_amx_chunk_m(parts);
  return (m + chunk - 1) / chunk * squant_rt_amx_chunk_rows(parts);
}

/* Whether a weight can take the kernel (FMA and LUT_INT8 forms in
 * BLOCK32_V1: their codes and table entries are exact in bf16); the
 * source as the kernel's B tiles for w: per tile of 16 tile rows t (up to
 * m_pad) and K step j of 32 columns, 1 KiB at xb + (t * (k / 32) + j) * 512
 * holding [16 pairs][16 rows][2], pair p the columns
 * squant_rt_amx_column(w, j, 2p) and (.., 2p + 1); the FMA form's group
 * sums of x (each row's in its first part, in a fixed order, of the values
 * the tiles read: subnormal parts zero), [k / group_size][m_pad]; the
 * kernel (which configures and releases the tiles itself). */
int squant_rt_amx_eligible(const squant_rt_qweight *w);
/* Per row of fp32 x, the factor 2^-s that undoes the parts' 2^s: rows
 * whose largest finite magnitude is below 2^-40 are scaled up to it, so
 * that the parts of every value within 2^-63 of the row's largest stay
 * above bf16's subnormals (which the tiles read as zero); others 1. */
void squant_rt_amx_row_scales(const float *x, int64_t m, int64_t x_stride,
                              int64_t k, float *row_scale);
void squant_rt_amx_pack_activations(const squant_rt_amx_source *src,
                                    const squant_rt_qweight *w, int64_t m_pad,
                                    uint16_t *xb);
void squant_rt_amx_group_sums(const squant_rt_amx_source *src,
                              const squant_rt_qweight *w, int64_t m_pad,
                              float *xsum_t);
void squant_rt_qgemm_bf16_amx(const squant_rt_qgemm_params *p);

/* fp32 activations on AMX-BF16 with the exact fp32 weights split into
 * three bf16 parts (gemm_amx_folded.c): every form in BLOCK32_V1, decoded
 * a block at a time in the single-block lane order (squant_rt_amx_code);
 * x packed as above with parts 3 in the folded layout (no group sums).
 * Blocking: passes of up to SQUANT_RT_AMX_FOLDED_MB activation rows, N
 * blocks of SQUANT_RT_AMX_FOLDED_NB pairs of weight tiles, K blocks whose
 * activation tiles take up to SQUANT_RT_AMX_FOLDED_X_BYTES, K chunks of
 * SQUANT_RT_AMX_FOLDED_KC decoded into A tiles. Scratch: two chunks' A
 * tiles (three parts of two tiles per step) and the N block's
 * accumulators ([32][rows + 16] fp32 per pair: a column per activation
 * row of the pass, whose three parts share it, and a line more). */
#define SQUANT_RT_AMX_FOLDED_KC 128
#define SQUANT_RT_AMX_FOLDED_X_BYTES (768 * 1024)
#define SQUANT_RT_AMX_FOLDED_MB 256
#define SQUANT_RT_AMX_FOLDED_NB 16
#define SQUANT_RT_AMX_FOLDED_SCRATCH                                           \
  ((size_t)2 * (3 * 2 * SQUANT_RT_AMX_FOLDED_KC / 32) * 1024 +                 \
   (size_t)SQUANT_RT_AMX_FOLDED_NB * 32 * (SQUANT_RT_AMX_FOLDED_MB + 16) *     \
       sizeof(float))
void squant_rt_qgemm_folded_amx(const squant_rt_qgemm_params *p);

/* The AMX-INT8 kernel's blocks of activation rows; block b's rows per lane
 * group of its tiles, its part tiles per group, and the first of them
 * among the group's (squant_rt_amx_int8_parts); b = blocks: the group's
 * tiles. For m <= SQUANT_RT_AMX_INT8_MAX_M rows. */
static inline int32_t squant_rt_amx_int8_blocks(int64_t m) {
  return (int32_t)((m + 15) / 16);
}
static inline int32_t squant_rt_amx_int8_lane_rows(int64_t m, int32_t b) {
  int64_t rows = m - 16 * (int64_t)b;
  return rows <= 4 ? 4 : rows <= 8 ? 8 : 16;
}
static inline int32_t squant_rt_amx_int8_tiles(int64_t m, int32_t b) {
  return SQUANT_RT_AMX_INT8_PARTS / (16 / squant_rt_amx_int8_lane_rows(m, b));
}
static inline int32_t squant_rt_amx_int8_first_tile(int64_t m, int32_t b) {
  int32_t first = 0;
  for (int32_t i = 0; i < b; ++i)
    first += squant_rt_amx_int8_tiles(m, i);
  return first;
}
/* The column (0..63 of a 64-column quad) of byte o of an A tile row: 8-bit
 * codes in k order; 4-bit codes decoded from two BLOCK32_V1 blocks, their
 * 32 bytes' low nibbles (bytes 0..31) then high nibbles (32..63); 2-bit
 * codes (and the 2-bit planes of 3-bit codes) from two blocks' 16 bytes,
 * code j of every byte in bytes 16 j .. The activations' parts are laid
 * out in the same order. */
static inline int32_t squant_rt_amx_int8_column(int32_t bits, int32_t o) {
  if (bits == 8)
    return o;
  if (bits <= 3) { /* byte o % 16 of the 16, shifted by 2 (o / 16) */
    int32_t byte = o % 8;
    return 32 * (o % 16 / 8) + 16 * (byte / 4) + 4 * (byte % 4) + o / 16;
  }
  int32_t nibble = o / 32, block = o % 32 / 16, byte = o % 16, r = byte % 8;
  /* pack.c: code d of a half block (16 codes) sits at bit 32 (d % 2) +
   * 4 (d / 2) of its 8 bytes. */
  return 32 * block + 16 * (byte / 8) + 2 * (2 * (r % 4) + nibble) + r / 4;
}

/* The kernel's blocking: N blocks of SQUANT_RT_AMX_INT8_NB pairs of weight
 * tiles, K blocks of whole groups whose parts take about
 * SQUANT_RT_AMX_INT8_KB_BYTES. Its scratch: a block's accumulator tiles
 * for a group, the N block's outputs by block and lane, and zero-padded
 * copies of weight tiles past the last row. */
#define SQUANT_RT_AMX_INT8_NB 8
/* The most 64-column quads of a group of 4-bit codes (decoded into the
 * scratch at once). */
#define SQUANT_RT_AMX_INT8_QUADS 8
#define SQUANT_RT_AMX_INT8_KB_BYTES ((int64_t)768 * 1024)
#define SQUANT_RT_AMX_INT8_SCRATCH                                             \
  ((size_t)SQUANT_RT_AMX_INT8_PARTS * 2048 +                                   \
   (size_t)SQUANT_RT_AMX_INT8_NB * 32 * SQUANT_RT_AMX_INT8_MAX_M * 4 +         \
   (size_t)SQUANT_RT_AMX_INT8_QUADS * 2048)
/* Splits x (m <= SQUANT_RT_AMX_INT8_MAX_M rows, times row_scale[r]^-1)
 * into `out` for w (8-, 4- or 2-bit codes, groups of multiples of 64): 0 where
 * it cannot (a non-finite value, or a group of a row needing more than
 * SQUANT_RT_AMX_INT8_PARTS parts), else 1. Only the tiles in use (counts)
 * are written. residual: group_size floats and group_size bytes. */
int squant_rt_amx_int8_split(const float *x, int64_t m, int64_t x_stride,
                             const squant_rt_qweight *w, const float *row_scale,
                             float *residual,
                             const squant_rt_amx_int8_parts *out);
void squant_rt_qgemm_int8_amx(const squant_rt_qgemm_params *p);

/* M = 1, 2-, 3-, 4- and 8-bit codes in TILE16_V2 on AMX-INT8
 * (gemv_amx_int8.c). The k order of a 64-column quad in its B tiles (and
 * in x's parts), column o of the quad (B row r = o / 4, byte j = o % 4 of
 * its row's 4 bytes per weight row): 8-bit codes are in k order (a word of
 * 16 rows is a B row); of 4-bit codes, B row r holds the low (r even) or
 * high nibbles of word r / 2 of the quad's two blocks, byte j of its row
 * code 2 j + r % 2 of the word (BLOCK32_V1's words: word v of a block
 * holds codes 16 (v / 2) + 2 i + v % 2, i = 0..7, code i at bit 4 i); of
 * 2-bit codes, B row r holds the codes at bit 2 (r % 4) of each byte of
 * word r / 4 of the quad's four (two per block; word v of a block holds
 * codes 16 v + i at bit 2 i), byte j of its row code 4 j + r % 4 of the
 * word (3-bit codes: of their 2-bit plane's words). */
static inline int32_t squant_rt_gemv_amx_column(int32_t bits, int32_t o) {
  if (bits == 8)
    return o;
  if (bits <= 3) /* line r / 4 of the quad shifted by 2 (r % 4), byte j */
    return 16 * (o / 16) + 4 * (o % 4) + o / 4 % 4;
  int32_t r = o / 4, j = o % 4, word = r % 8 / 2;
  return 32 * (r / 8) + 16 * (word / 2) + 2 * (2 * j + r % 2) + word % 2;
}
/* The k of one of the GEMV's quads: 64, or 32 (a half quad, the first 32
 * columns of squant_rt_gemv_amx_column's order: the quad's first block)
 * for groups of odd multiples of 32, where a quad would span two groups. */
static inline int64_t squant_rt_gemv_amx_quad_k(int64_t group_size) {
  return group_size % 64 == 0 ? 64 : 32;
}
/* Whether the GEMV takes half quads in groups of group_size. */
static inline int squant_rt_gemv_amx_half_quads(int64_t group_size) {
  return squant_rt_gemv_amx_quad_k(group_size) == 32;
}
/* Up to 16 parts per group: one A tile. */
#define SQUANT_RT_GEMV_AMX_PARTS 16
/* x (one row, times row_scale^-1, squant_rt_amx_row_scales) as int8 parts
 * per group: out->tiles [k / Q quads][16 parts][Q] (Q =
 * squant_rt_gemv_amx_quad_k; in squant_rt_gemv_amx_column's order),
 * out->units [groups][16] (the parts' 2^e), out->counts [groups]. Tile
 * rows past a group's parts are not
 * written: the kernel's dots of them are computed and never read (it sums
 * a group's counts[g] rows). Returns the most parts of a group (at least
 * 1), or 0 where x does not split (a non-finite value, or a group needing
 * more than SQUANT_RT_GEMV_AMX_PARTS parts). residual: 2 * group_size
 * floats (two groups are split at a time). xsum (NULL: not written): each
 * group's sum of x (its scaled values' sum, lane by lane, times row_scale). */
int32_t squant_rt_gemv_amx_int8_split(const float *x,
                                      const squant_rt_qweight *w,
                                      float row_scale, float *residual,
                                      const squant_rt_amx_int8_parts *out,
                                      float *xsum);
/* The int8-activation mode's scale of a group whose largest |x| is amax
 * (squant_rt.h): amax / 127, 1 for an all-zero group, and the smallest
 * subnormal where amax / 127 underflows to zero (x / 0 would not be a
 * number); both quantizations (api.c's for the VNNI kernel, the AMX-INT8
 * GEMV's) take it from here. */
static inline float squant_rt_int8_scale(float amax) {
  float s = amax > 0.0f ? amax / 127.0f : 1.0f;
  return s == 0.0f ? FLT_TRUE_MIN : s;
}
/* The int8-activation mode's x for the same kernel and for
 * squant_rt_gemv_int8_vnni_tile16: per group, x / s rounded half to even
 * and clamped to +-127 (s = max|x| / 127, or 1 for an all-zero group: the
 * numerics squant_rt.h states, the same bits as the BLOCK32_V1 VNNI
 * kernel's quantization) as the group's one part, in
 * squant_rt_gemv_amx_column's order, quad c's 64 bytes at out->tiles + c *
 * quad_bytes (1024: the AMX GEMV's A tiles; 64: k bytes in a row), its
 * unit s (out->units[g * 16]), its sum (out->qsums, where not NULL); xsum
 * (NULL: not written): each group's sum of its quantized x, s times the
 * sum of its int8 values (the term the bias multiplies, squant_rt.h).
 * Returns 0 where x holds a NaN or an infinity (nothing useful written),
 * else 1. */
int32_t squant_rt_gemv_amx_int8_quantize(const float *x,
                                         const squant_rt_qweight *w,
                                         int64_t quad_bytes,
                                         const squant_rt_amx_int8_parts *out,
                                         float *xsum);
void squant_rt_gemv_int8_amx(const squant_rt_qgemm_params *p);
/* The same mode on AVX-512 VNNI (gemv_vnni_tile16.c): x quantized with
 * quad_bytes 64, its group sums in xparts.qsums. */
void squant_rt_gemv_int8_vnni_tile16(const squant_rt_qgemm_params *p);

/* The code index (0..31) in word lane L of an AMX A tile row decoded from
 * one BLOCK32_V1 block of b-bit codes (gemm_amx.c). */
static inline int32_t squant_rt_amx_code(int32_t bits, int32_t lane) {
  if (bits == 4) { /* byte lane % 16 = byte b of word h, nibble lane / 16 */
    int32_t byte = lane % 16, b = byte % 8;
    return 16 * (byte / 8) + (b < 4 ? 4 * b : 4 * (b - 4) + 1) +
           2 * (lane / 16);
  }
  if (bits == 2) /* byte lane % 8, its code lane / 8 */
    return 16 * (lane % 8 / 4) + 4 * (lane % 4) + lane / 8;
  if (bits == 1) /* byte lane % 4, its bit lane / 4 */
    return 8 * (lane % 4) + lane / 4;
  return lane;
}

/* Whether the kernel decodes w's codes four blocks (128 codes, 16 b bytes)
 * at a time: 1- to 4-bit codes in groups of whole multiples of 128. For 1,
 * 2 and 4 bits, the 8 b 16-bit words of the four blocks (broadcast to fill
 * 32 lanes) shifted right by b (4 / b * j + L / (8 b)) bits give, in word
 * lane L of step j (0..3), a code at the bottom: one shift and one vpermw
 * per tile row, where single blocks take a widening more. 3-bit blocks
 * (a 2-bit plane, code t at bit 2 t, then a 1-bit plane, code t at bit t)
 * decode as their 2-bit planes do, the third bit joining from a window of
 * the 1-bit plane (squant_rt_amx_column). */
static inline int squant_rt_amx_wide(const squant_rt_qweight *w) {
  return w->bits <= 4 && w->group_size % 128 == 0;
}

/* The bit shift of word lane L of wide step j (squant_rt_amx_wide). */
static inline int32_t squant_rt_amx_wide_shift(int32_t bits, int32_t step,
                                               int32_t lane) {
  return bits * (4 / bits * step + lane / (8 * bits));
}

/* The column (0..31 of step j, or with wide decoding 0..127 of steps
 * 4 (j / 4) .. + 3) whose weight word lane L of an A tile row of K step j
 * holds, and whose activation the B tiles pair with it. */
static inline int32_t squant_rt_amx_column(const squant_rt_qweight *w,
                                           int64_t step, int32_t lane) {
  int32_t bits = w->bits;
  if (!squant_rt_amx_wide(w))
    return squant_rt_amx_code(bits, lane);
  if (bits == 3) { /* block (L % 16) / 4, code 8 (L % 4) + 2 j + L / 16 */
    int32_t word = lane % 16;
    return 32 * (word / 4) + 8 * (word % 4) + 2 * (int32_t)(step % 4) +
           lane / 16;
  }
  int32_t bit = 16 * (lane % (8 * bits)) +
                squant_rt_amx_wide_shift(bits, (int32_t)(step % 4), lane);
  int32_t byte = bit / 8, blockBytes = 4 * bits;
  /* The block's byte and code as the single-block lane they decode to. */
  return 32 * (byte / blockBytes) +
         squant_rt_amx_code(bits,
                            byte % blockBytes + blockBytes * (bit % 8 / bits));
}

/* Whether the AVX-512 GEMV (M = 1) of w reads x in its decode's lane
 * order: 2-bit codes, and 4-bit codes with K a multiple of 128 in groups
 * of 32, 64 or multiples of 128; and
 * x (one row, k floats) in that order (gemm_avx512.c): for 2 bits, per
 * block of 32, x[0], x[16], x[2], x[18], .., x[14], x[30], then x[1],
 * x[17], .., x[15], x[31]; for 4 bits, per line of 128, the lanes of its
 * eight lookups. */
int squant_rt_gemv_x_ordered(const squant_rt_qweight *w);
void squant_rt_gemv_x_order_avx512(const squant_rt_qweight *w, const float *x,
                                   float *xorder);

/* X^T for the AVX-512 and AVX2 GEMMs: the m rows of x (k a multiple of
 * 16) in slices of 32 rows, [k][32] each at xt + 32 k s, rows past m
 * zero. */
void squant_rt_transpose_slices_avx512(const float *x, int64_t m, int64_t x_stride, int64_t k,
                                       float *xt);
void squant_rt_transpose_slices_avx2(const float *x, int64_t m,
                                     int64_t x_stride, int64_t k, float *xt);

/* The activation-table GEMV (gemv_tables_avx512.c): whether a weight can
 * take it, the bytes of its tables (0 when it cannot), building them from
 * p->x and p->values, and the kernel. */
int squant_rt_gemv_tables_eligible(const squant_rt_qweight *w);
size_t squant_rt_gemv_tables_bytes(const squant_rt_qweight *w);
void squant_rt_gemv_tables_build_avx512(const squant_rt_qgemm_params *p,
                                         float *tables);
void squant_rt_gemv_tables_avx512(const squant_rt_qgemm_params *p);

/* The code index (0..63) held by byte lane i (0..63) of the VNNI register
 * made from two blocks of b-bit codes (2, 3, 4 or 8; see gemv_vnni.h): the
 * quantized activations are laid out the same. */
static inline int32_t squant_rt_vnni_code(int32_t bits, int32_t i) {
  if (bits == 2) /* byte i % 16 of 128-bit lane i / 16 */
    return 4 * (i % 16) + i / 16;
  if (bits == 3) /* byte i % 8 of 64-bit lane (i / 8) % 4 of half i / 32 */
    return 32 * (i / 32) + 4 * (i % 8) + (i / 8) % 4;
  if (bits == 8)
    return i;
  int32_t block = (i / 16) % 2, high = i / 32, j = i % 16;
  return 32 * block + 16 * (j / 8) + 4 * (j % 4) + (j % 8 >= 4 ? 1 : 0) +
         2 * high;
}

#endif /* SQUANT_RUNTIME_KERNELS_H */
