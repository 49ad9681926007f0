/*===- tile16_v2_rows.h - TILE16_V2 codes as rows of 16 x 4 bytes -*- C -*-===//
 *
 * What both M = 1 int8 GEMVs of TILE16_V2 codes share: the weight's
 * geometry, the outputs' store, and the decode they run: the AMX-INT8
 * GEMV (gemv_amx_int8.c) stores its rows as B tiles, the VNNI
 * int8-activation GEMV (gemv_vnni_tile16.c) takes each as a vpdpbusd
 * operand. A quad (64 k of a tile's 16 weight rows) becomes 16 rows of 64
 * bytes, row r holding 4 codes of each weight row as bytes (weight row n in
 * bytes 4 n .. 4 n + 3), in squant_rt_gemv_amx_column's k order:
 *   4 bits (two blocks: 8 words of 16 rows): the low (row 2 i) and the high
 *          nibbles (row 2 i + 1) of word i's bytes: one op per row (a mask
 *          or a GF(2) affine map of each byte; two for LUT_INT8's lookups);
 *   2 bits (4 words): each word's four 2-bit fields, one op per row
 *          (LUT_INT8: a shift and a vpermb of its 4 entries repeated);
 *   3 bits (two blocks of two 2-bit words and a third-bit word): the 2-bit
 *          fields with their third bits brought to bit 2 of each byte by one
 *          vpmultishiftqb of the block's third-bit word and merged by one
 *          vpternlogd: three ops per row;
 *   8 bits (16 words): each word is a row.
 * Every line read comes with two prefetches of its stream (below). Compiled
 * with AVX-512 (F, BW), VBMI and GFNI.
 *
 *===----------------------------------------------------------------------===*/

#ifndef SQUANT_RUNTIME_TILE16_V2_ROWS_H
#define SQUANT_RUNTIME_TILE16_V2_ROWS_H

#include "../../kernels.h"

#include <immintrin.h>
#include <stdint.h>

/* Both GEMVs take a thread's tiles in runs of SQUANT_TILE16_RUN
 * consecutive tiles, group by group: a run is that many streams
 * (gemv_amx_int8.c). */
#define SQUANT_TILE16_RUN 2

/* Where a TILE16_V2 weight's bytes are: a tile (16 rows) is `groups`
 * groups of groupBytes, codeBytes of codes then the 16 rows' scales and
 * biases (two lines); a group is `quads` quads of quadK k
 * (squant_rt_gemv_amx_quad_k: 64, or 32 for groups of odd multiples of
 * 32), each quadBytes of codes. next: from a tile to the same stream's
 * tile in the next run (SQUANT_TILE16_RUN). */
typedef struct {
  int64_t groups, quads, quadBytes, codeBytes, groupBytes, tileBytes, next;
} SquantTile16Geometry;

static inline __attribute__((always_inline)) SquantTile16Geometry
squantTile16Geometry(const squant_rt_qweight *w, const int bits) {
  SquantTile16Geometry g;
  g.groups = w->k / w->group_size;
  int64_t quadK = squant_rt_gemv_amx_quad_k(w->group_size);
  g.quads = w->group_size / quadK;
  g.quadBytes = quadK / 32 * bits * 64;
  g.codeBytes = w->group_size / 32 * bits * 64;
  g.groupBytes = g.codeBytes + 128;
  g.tileBytes = g.groups * g.groupBytes;
  g.next = (SQUANT_TILE16_RUN - 1) * g.tileBytes;
  return g;
}

/* runs(p, kind, bits, blocks) with blocks a constant: 2 for w's quads of
 * 64 k, 1 for half quads (squant_rt_gemv_amx_quad_k). */
#define SQUANT_TILE16_BY_BLOCKS(runs, p, kind, bits)                           \
  do {                                                                         \
    if (squant_rt_gemv_amx_quad_k((p)->w->group_size) == 64)                   \
      runs(p, kind, bits, 2);                                                  \
    else                                                                       \
      runs(p, kind, bits, 1);                                                  \
  } while (0)

/* The tiles of the run from tile t0: at most SQUANT_TILE16_RUN, below
 * last. */
static inline int64_t squantRunTiles(int64_t t0, int64_t last) {
  return last - t0 < SQUANT_TILE16_RUN ? last - t0 : SQUANT_TILE16_RUN;
}

/* Weight bytes of a thread's share from which its outputs are streamed
 * (SquantOutputs): from there on the weight's stream evicts y from L2. */
#define SQUANT_TILE16_STREAM_BYTES (1 << 20)

/* A thread's outputs, tile after tile (those of its 16 rows below n: the
 * D sums times the row scale, plus the bias terms). A share of at least
 * SQUANT_TILE16_STREAM_BYTES of weight writes each whole 64-byte line of y
 * with a non-temporal store, whatever y's alignment (a line joins the end
 * of one tile's outputs and the start of the next), and the partial lines
 * at the share's ends with masked stores: a store to a line of y that the
 * weight's stream has evicted stalls the GEMV about as long as a memory
 * access, a streaming one does not (cold, one thread, 4096 x 4096 4-bit
 * codes: 2-5 % of the call; docs/Performance.md, session 28). A smaller
 * share keeps y in cache: a plain store per tile (masked for a ragged
 * one). */
typedef struct {
  float *y;
  int64_t n, begin; /* y's rows; the share's first row */
  int stream;
  int head; /* rows from a tile's start to y's next line (0: aligned) */
  /* permutex2var's lanes: head .. 15 of one tile, then 0 .. head - 1 of
   * the next */
  __m512i cut;
  __m512 carry; /* the previous tile's outputs */
} SquantOutputs;

static inline SquantOutputs
squantOutputsBegin(float *y, int64_t n, int64_t firstTile, int64_t shareBytes) {
  SquantOutputs o;
  o.y = y;
  o.n = n;
  o.begin = 16 * firstTile;
  o.stream = shareBytes >= SQUANT_TILE16_STREAM_BYTES;
  o.head = (int)((16 - (((uintptr_t)y >> 2) & 15)) & 15);
  o.cut = _mm512_add_epi32(
      _mm512_set1_epi32(o.head),
      _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0));
  o.carry = _mm512_setzero_ps();
  return o;
}

/* The first `count` lanes (none below 1, all from 16). */
static inline __mmask16 squantFirstLanes(int64_t count) {
  return count >= 16  ? (__mmask16)0xFFFF
         : count <= 0 ? (__mmask16)0
                      : (__mmask16)((1u << count) - 1u);
}

/* 16 outputs from row r0 of y on (those below n), on a line of their own
 * when streaming. */
static inline void squantStoreOutputs(const SquantOutputs *o, int64_t r0,
                                      __m512 v) {
  if (o->n - r0 >= 16 && o->stream)
    _mm512_stream_ps(o->y + r0, v);
  else if (o->n - r0 >= 16)
    _mm512_storeu_ps(o->y + r0, v);
  else
    _mm512_mask_storeu_ps(o->y + r0, squantFirstLanes(o->n - r0), v);
}

/* The outputs of tile `tile`, the tile after the previous call's. */
static inline void squantOutputsTile(SquantOutputs *o, int64_t tile,
                                     __m512 accD, __m512 accB, __m512 scale) {
  int64_t n0 = 16 * tile;
  __m512 v = _mm512_fmadd_ps(accD, scale, accB);
  if (!o->stream || o->head == 0)
    squantStoreOutputs(o, n0, v);
  else if (n0 == o->begin) /* its rows before y's first line of the share */
    _mm512_mask_storeu_ps(
        o->y + n0, squantFirstLanes(o->head < o->n - n0 ? o->head : o->n - n0),
        v);
  else /* the line from the previous tile's row `head` on */
    squantStoreOutputs(o, n0 - 16 + o->head,
                       _mm512_permutex2var_ps(o->carry, o->cut, v));
  o->carry = v;
}

/* After the share's last tile: its rows after y's last line boundary, and
 * the fence that orders the streaming stores before what ends the call. */
static inline void squantOutputsEnd(SquantOutputs *o, int64_t lastTile) {
  if (!o->stream)
    return;
  int64_t r0 = 16 * lastTile + o->head, rows = 16 - o->head;
  if (o->head != 0 && r0 < o->n)
    _mm512_mask_storeu_ps(
        o->y + r0, squantFirstLanes(o->n - r0 < rows ? o->n - r0 : rows),
        _mm512_permutex2var_ps(o->carry, o->cut, _mm512_setzero_ps()));
  _mm_sfence();
}

/* What a row's bytes hold. */
enum {
  SQUANT_ROWS_UNSIGNED = 0, /* the codes */
  SQUANT_ROWS_SIGNED = 1,   /* signed codes, sign-extended */
  SQUANT_ROWS_LUT = 2,      /* LUT_INT8: the table's entries of the codes */
  SQUANT_ROWS_OFFSET = 3,   /* signed codes plus 2^(bits - 1), unsigned */
};

/* Prefetch distances of both GEMVs (docs/Performance.md, sessions 21-24). */
#define SQUANT_TILE16_AHEAD 2048 /* bytes: the L1 prefetch */
#define SQUANT_TILE16_FAR 3072   /* bytes: the L2 prefetch */

/* The prefetches of the lines SQUANT_TILE16_AHEAD bytes (into L1) and
 * SQUANT_TILE16_FAR bytes (into L2) after `line` of a run's tile; one past
 * the tile's end fetches the line as far into the same stream's tile of the
 * next run (`next` bytes on). With nearEnd 0 (a constant: lines whose
 * prefetches stay in their tile, squantFarFromEnd) no test. Prefetches do
 * not fault: the last run's point past the weight. */
static inline __attribute__((always_inline)) void
squantPrefetchStream(const uint8_t *line, const uint8_t *tileEnd, int64_t next,
                     const int nearEnd) {
  const uint8_t *near = line + SQUANT_TILE16_AHEAD;
  const uint8_t *far = line + SQUANT_TILE16_FAR;
  if (nearEnd) {
    near = near >= tileEnd ? near + next : near;
    far = far >= tileEnd ? far + next : far;
  }
  _mm_prefetch((const char *)near, _MM_HINT_T0);
  _mm_prefetch((const char *)far, _MM_HINT_T1);
}

/* The prefetches of a group's parameter lines (its last two), as
 * squantPrefetchStream's of each: both GEMVs issue them at the group's
 * start. */
static inline __attribute__((always_inline)) void
squantPrefetchParams(const uint8_t *group, const SquantTile16Geometry *geo,
                     const uint8_t *tileEnd, const int nearEnd) {
  for (int64_t l = geo->codeBytes; l < geo->groupBytes; l += 64)
    squantPrefetchStream(group + l, tileEnd, geo->next, nearEnd);
}

/* Whether both prefetches of every line before end stay before tileEnd. */
static inline int squantFarFromEnd(const uint8_t *end, const uint8_t *tileEnd) {
  return end + SQUANT_TILE16_FAR <= tileEnd;
}

/* GF(2) affine maps of a byte (vgf2p8affineqb: result bit i is the parity
 * of the byte and byte 7 - i of the matrix): its high nibble moved down, and
 * either nibble sign-extended. */
#define SQUANT_HIGH_NIBBLE 0x1020408000000000ll
#define SQUANT_LOW_NIBBLE_SIGNED 0x0102040808080808ll
#define SQUANT_HIGH_NIBBLE_SIGNED 0x1020408080808080ll

/* The GF(2) affine map taking a byte's 2-bit code at bit 2 s to bits 0
 * and 1, with `sign` its high bit copied to bits 2..7 (matrix byte 7 - i:
 * the source bits of result bit i). */
static inline int64_t squantPairAt(int s, int sign) {
  uint64_t low = 1ull << (2 * s), high = 1ull << (2 * s + 1), m = low << 56;
  for (int i = 1; i < (sign ? 8 : 2); ++i)
    m |= high << (8 * (7 - i));
  return (int64_t)m;
}

/* The 2-bit codes at bit 2 s of v's bytes, widened to bytes (sign:
 * sign-extended): one op. */
static inline __attribute__((always_inline)) __m512i
squantTwoBitField(__m512i v, int s, int sign) {
  if (s == 0 && !sign)
    return _mm512_and_si512(v, _mm512_set1_epi8(0x03));
  return _mm512_gf2p8affine_epi64_epi8(
      v, _mm512_set1_epi64(squantPairAt(s, sign)), 0);
}

/* The vpmultishiftqb control that brings the third bit of the 3-bit code
 * in row 4 w + s of a block's words (squant_rt_gemv_amx_column: byte b
 * of each row's 4, code 16 w + 4 b + s of the block) from the block's
 * third-bit word (code i at bit i) to bit 2 of its byte: each byte of a
 * qword (two rows' words) reads 8 bits from 2 below that bit on. */
static inline int64_t squantThirdBitAt(int w, int s) {
  uint64_t control = 0;
  for (int byte = 0; byte < 8; ++byte)
    control |=
        (uint64_t)((32 * (byte / 4) + 16 * w + 4 * (byte % 4) + s - 2) & 63)
        << (8 * byte);
  return (int64_t)control;
}

/* The GF(2) affine map sign-extending a 3-bit code: bit 2 to bits 3..7. */
#define SQUANT_SIGN_EXTEND_3 0x0102040404040404ll

/* Each code's top bit in a word's bytes: flipping it adds 2^(bits - 1) to a
 * signed code (offset binary). */
static inline __m512i squantTopBits(int bits) {
  return _mm512_set1_epi8(bits == 8   ? (char)0x80
                          : bits == 4 ? (char)0x88
                                      : (char)0xAA);
}

/* What takes the rows: emit(sink, r, row r), as each row is made (an
 * always_inline function, so that each row's use follows its decode). */
typedef void (*SquantRowSink)(void *sink, int row, __m512i v);

/* The 16 rows of one quad (above; blocks 2), or the first 8 of a half
 * quad (blocks 1: its one block), each passed to emit as it is made, each
 * line read with its stream's prefetches (squantPrefetchStream, nearEnd
 * as there). table:
 * LUT_INT8's entries repeated over 64 bytes (4 bits: 16 entries per
 * 128-bit lane, so that vpermb ignores the index's bits 4 and 5; 2 bits: 4
 * per 32-bit lane). */
static inline __attribute__((always_inline)) void
squantTile16Quad(const uint8_t *words, SquantRowSink emit, void *sink,
                 __m512i table, const int kind, const int bits,
                 const int blocks, const uint8_t *tileEnd, int64_t next,
                 const int nearEnd) {
  const __m512i flip =
      kind == SQUANT_ROWS_OFFSET ? squantTopBits(bits) : _mm512_setzero_si512();
  if (bits == 8) {
    _Pragma("GCC unroll 16") for (int i = 0; i < 8 * blocks; ++i) {
      squantPrefetchStream(words + 64 * i, tileEnd, next, nearEnd);
      __m512i v = _mm512_loadu_si512((const void *)(words + 64 * i));
      emit(sink, i, kind == SQUANT_ROWS_OFFSET ? _mm512_xor_si512(v, flip) : v);
    }
    return;
  }
  if (bits == 2) {
    _Pragma("GCC unroll 4") for (int i = 0; i < 2 * blocks; ++i) {
      squantPrefetchStream(words + 64 * i, tileEnd, next, nearEnd);
      __m512i v = _mm512_loadu_si512((const void *)(words + 64 * i));
      if (kind == SQUANT_ROWS_OFFSET)
        v = _mm512_xor_si512(v, flip);
      _Pragma("GCC unroll 4") for (int s = 0; s < 4; ++s) emit(
          sink, 4 * i + s,
          kind == SQUANT_ROWS_LUT
              ? _mm512_permutexvar_epi8(
                    s == 0 ? v : _mm512_srli_epi16(v, (unsigned)(2 * s)), table)
              : squantTwoBitField(v, s, kind == SQUANT_ROWS_SIGNED));
    }
    return;
  }
  if (bits == 3) {
    /* Per block: the two words of the 2-bit plane decoded as 2-bit codes,
     * each row's third bits moved to bit 2 and merged in (offset binary:
     * the third bits flipped). */
    const __m512i four = _mm512_set1_epi8(4);
    _Pragma("GCC unroll 2") for (int blk = 0; blk < blocks; ++blk) {
      const uint8_t *block = words + 192 * blk;
      for (int i = 0; i < 3; ++i)
        squantPrefetchStream(block + 64 * i, tileEnd, next, nearEnd);
      __m512i third = _mm512_loadu_si512((const void *)(block + 128));
      _Pragma("GCC unroll 2") for (int w = 0; w < 2; ++w) {
        __m512i v = _mm512_loadu_si512((const void *)(block + 64 * w));
        _Pragma("GCC unroll 4") for (int s = 0; s < 4; ++s) {
          __m512i low = squantTwoBitField(v, s, 0);
          __m512i bit = _mm512_multishift_epi64_epi8(
              _mm512_set1_epi64(squantThirdBitAt(w, s)), third);
          /* low | (bit & 4), or low | (~bit & 4) */
          __m512i c = kind == SQUANT_ROWS_OFFSET
                          ? _mm512_ternarylogic_epi32(low, bit, four, 0xF2)
                          : _mm512_ternarylogic_epi32(low, bit, four, 0xF8);
          if (kind == SQUANT_ROWS_SIGNED)
            c = _mm512_gf2p8affine_epi64_epi8(
                c, _mm512_set1_epi64(SQUANT_SIGN_EXTEND_3), 0);
          emit(sink, 4 * (2 * blk + w) + s, c);
        }
      }
    }
    return;
  }
  const __m512i nibble = _mm512_set1_epi8(0x0F);
  const __m512i high = _mm512_set1_epi64(SQUANT_HIGH_NIBBLE);
  const __m512i lowSigned = _mm512_set1_epi64(SQUANT_LOW_NIBBLE_SIGNED);
  const __m512i highSigned = _mm512_set1_epi64(SQUANT_HIGH_NIBBLE_SIGNED);
  _Pragma("GCC unroll 8") for (int i = 0; i < 4 * blocks; ++i) {
    squantPrefetchStream(words + 64 * i, tileEnd, next, nearEnd);
    __m512i v = _mm512_loadu_si512((const void *)(words + 64 * i));
    if (kind == SQUANT_ROWS_OFFSET)
      v = _mm512_xor_si512(v, flip);
    if (kind == SQUANT_ROWS_SIGNED) {
      emit(sink, 2 * i, _mm512_gf2p8affine_epi64_epi8(v, lowSigned, 0));
      emit(sink, 2 * i + 1, _mm512_gf2p8affine_epi64_epi8(v, highSigned, 0));
    } else if (kind == SQUANT_ROWS_LUT) {
      emit(sink, 2 * i, _mm512_permutexvar_epi8(v, table));
      emit(sink, 2 * i + 1,
           _mm512_permutexvar_epi8(_mm512_gf2p8affine_epi64_epi8(v, high, 0),
                                   table));
    } else {
      emit(sink, 2 * i, _mm512_and_si512(v, nibble));
      emit(sink, 2 * i + 1, _mm512_gf2p8affine_epi64_epi8(v, high, 0));
    }
  }
}

#endif /* SQUANT_RUNTIME_TILE16_V2_ROWS_H */
