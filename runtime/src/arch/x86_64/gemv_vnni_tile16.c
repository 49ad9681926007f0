/*===- gemv_vnni_tile16.c - int8-activation GEMV of TILE16_V2, VNNI -----===//
 *
 * SQUANT_RT_FLAG_INT8_ACTIVATIONS (changes numerics) on 2-, 3-, 4- and
 * 8-bit TILE16_V2 codes in the FMA form, M = 1, with AVX-512 VNNI. A
 * TILE16_V2 row of a quad (tile16_v2_rows.h: 16 weight rows x 4 codes as
 * bytes) is a vpdpbusd operand as it is: one vpdpbusd per row, with the 4
 * int8 activations of its k (x's int8 quantization in
 * squant_rt_gemv_amx_column's order, squant_rt_gemv_amx_int8_quantize)
 * broadcast, accumulates 64 products into the 16 weight rows' lanes. Per
 * 64 codes that is one decode op (2- and 4-bit codes; 3 for 3-bit codes,
 * none for 8-bit ones) and one vpdpbusd, against the AMX-INT8 GEMV's
 * decode, store, tile load and share of a TDP and of a tile store
 * (gemv_amx_int8.c, which runs this mode with the same quantization and
 * the same fp32 arithmetic per group, so both give the same bits).
 * vpdpbusd multiplies unsigned bytes by signed ones: signed codes are read
 * in offset binary (q + 2^(bits - 1)) and the offset times the group's sum
 * of int8 x taken off the int32 dot.
 *
 * The tiles are taken in runs of SQUANT_TILE16_RUN (2) consecutive
 * tiles, group by group, each line read with the AMX-INT8 GEMV's two
 * prefetches of its stream (squantPrefetchStream): the same streams. With
 * the weights in L2 this kernel takes 0.6-0.7x the AMX GEMV's time at 2 to
 * 4 bits; cold it reads 2-6 % more at 2 bits and 1-5 % less at 4
 * (docs/Performance.md, session 26), so AUTO runs it for 2-bit codes and
 * where there is no AMX (api.c).
 *
 *===----------------------------------------------------------------------===*/

#include "tile16_v2_rows.h"

#include <string.h>

/* A tile's dots of one quad: four accumulators (rows mod 4: vpdpbusd's
 * latency), the quad's 64 int8 activations. */
typedef struct {
  __m512i acc[4];
  const int8_t *x;
} DotSink;

/* Row `row` of a quad times its 4 activations, into the row's lanes. */
static inline __attribute__((always_inline)) void dotRow(void *sink, int row,
                                                         __m512i v) {
  DotSink *d = (DotSink *)sink;
  int32_t four;
  memcpy(&four, d->x + 4 * row, sizeof(four));
  d->acc[row & 3] =
      _mm512_dpbusd_epi32(d->acc[row & 3], v, _mm512_set1_epi32(four));
}

/* A tile's group: its lines' prefetches (nearEnd as in
 * squantPrefetchStream) and its quads' dots into d (blocks 1: half quads,
 * 32 activations each). */
static inline __attribute__((always_inline)) void
dotGroup(DotSink *d, const uint8_t *group, const int8_t *x,
         const SquantTile16Geometry *geo, const int kind, const int bits,
         const int blocks, const uint8_t *tileEnd, const int nearEnd) {
  squantPrefetchParams(group, geo, tileEnd, nearEnd);
  for (int64_t c = 0; c < geo->quads; ++c) {
    d->x = x + c * 32 * blocks;
    squantTile16Quad(group + c * geo->quadBytes, dotRow, d,
                     _mm512_setzero_si512(), kind, bits, blocks, tileEnd,
                     geo->next, nearEnd);
  }
}

/* blocks: 2 (quads) or 1 (half quads, squant_rt_gemv_amx_quad_k), a
 * constant like kind and bits. */
static inline __attribute__((always_inline)) void
gemvRuns(const squant_rt_qgemm_params *p, const int kind, const int bits,
         const int blocks) {
  const squant_rt_qweight *w = p->w;
  const squant_rt_amx_int8_parts *xp = &p->xparts;
  const SquantTile16Geometry geo = squantTile16Geometry(w, bits);
  const int32_t offset = kind == SQUANT_ROWS_OFFSET ? 1 << (bits - 1) : 0;
  const __m512 scale = _mm512_set1_ps(p->row_scale[0]);
  int64_t first = p->n_begin / 16, last = (p->n_end + 15) / 16;
  SquantOutputs out =
      squantOutputsBegin(p->y, w->n, first, (last - first) * geo.tileBytes);
  for (int64_t t0 = first; t0 < last; t0 += SQUANT_TILE16_RUN) {
    int64_t live = squantRunTiles(t0, last);
    const uint8_t *run = w->codes + t0 * geo.tileBytes;
    __m512 accD[SQUANT_TILE16_RUN], accB[SQUANT_TILE16_RUN];
    for (int i = 0; i < SQUANT_TILE16_RUN; ++i)
      accD[i] = accB[i] = _mm512_setzero_ps();
    for (int64_t g = 0; g < geo.groups; ++g) {
      const __m512 unit = _mm512_set1_ps(xp->units[g * 16]);
      const __m512 xsum = _mm512_set1_ps(p->xsum[g]);
      const __m512i correction =
          _mm512_set1_epi32(offset ? offset * xp->qsums[g] : 0);
      for (int i = 0; i < SQUANT_TILE16_RUN; ++i) {
        if (i >= live)
          break;
        const uint8_t *group = run + i * geo.tileBytes + g * geo.groupBytes;
        const uint8_t *tileEnd = run + (i + 1) * geo.tileBytes;
        DotSink d = {{_mm512_setzero_si512(), _mm512_setzero_si512(),
                      _mm512_setzero_si512(), _mm512_setzero_si512()},
                     NULL};
        const int8_t *x = xp->tiles + g * w->group_size;
        if (squantFarFromEnd(group + geo.groupBytes, tileEnd))
          dotGroup(&d, group, x, &geo, kind, bits, blocks, tileEnd, 0);
        else
          dotGroup(&d, group, x, &geo, kind, bits, blocks, tileEnd, 1);
        __m512i dot = _mm512_add_epi32(_mm512_add_epi32(d.acc[0], d.acc[1]),
                                       _mm512_add_epi32(d.acc[2], d.acc[3]));
        if (offset)
          dot = _mm512_sub_epi32(dot, correction);
        /* The AMX-INT8 GEMV's arithmetic of a group of one part. */
        __m512 dots =
            _mm512_fmadd_ps(unit, _mm512_cvtepi32_ps(dot), _mm512_setzero_ps());
        const float *lines = (const float *)(group + geo.codeBytes);
        accD[i] = _mm512_fmadd_ps(_mm512_loadu_ps(lines), dots, accD[i]);
        accB[i] = _mm512_fmadd_ps(_mm512_loadu_ps(lines + 16), xsum, accB[i]);
      }
    }
    for (int64_t i = 0; i < live; ++i)
      squantOutputsTile(&out, t0 + i, accD[i], accB[i], scale);
  }
  squantOutputsEnd(&out, last - 1);
}

static inline __attribute__((always_inline)) void
gemvRunsBlocks(const squant_rt_qgemm_params *p, const int kind,
               const int bits) {
  SQUANT_TILE16_BY_BLOCKS(gemvRuns, p, kind, bits);
}

void squant_rt_gemv_int8_vnni_tile16(const squant_rt_qgemm_params *p) {
  /* kind, bits and blocks constant in each copy of the loop. */
  const int offset = p->w->is_signed;
  switch (p->w->bits) {
  case 2:
    offset ? gemvRunsBlocks(p, SQUANT_ROWS_OFFSET, 2)
           : gemvRunsBlocks(p, SQUANT_ROWS_UNSIGNED, 2);
    return;
  case 3:
    offset ? gemvRunsBlocks(p, SQUANT_ROWS_OFFSET, 3)
           : gemvRunsBlocks(p, SQUANT_ROWS_UNSIGNED, 3);
    return;
  case 4:
    offset ? gemvRunsBlocks(p, SQUANT_ROWS_OFFSET, 4)
           : gemvRunsBlocks(p, SQUANT_ROWS_UNSIGNED, 4);
    return;
  default:
    offset ? gemvRunsBlocks(p, SQUANT_ROWS_OFFSET, 8)
           : gemvRunsBlocks(p, SQUANT_ROWS_UNSIGNED, 8);
    return;
  }
}
