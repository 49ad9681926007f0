/*===- gemv_amx_int8.c - fp32-activation GEMV of 2..8-bit codes, AMX-INT8 -===//
 *
 * y = x w^T for one activation row and 2-, 3-, 4- or 8-bit codes in
 * TILE16_V2 (FMA form, unsigned or signed, and 2- and 4-bit LUT_INT8), by
 * the group factorization of gemm_amx_int8.c with the roles of the tiles
 * turned: x's parts of a group (squant_rt_gemv_amx_int8_split's parts, one
 * row of an A tile each; every thread of a call makes its own: api.c)
 * times 16 weight rows' codes as one B tile, so that the int32 dots of a group
 * come out as one row of 16 outputs per part, scaled by the part's unit
 * and added in fp32, then y += s * D (+ b * sum x) with the 16 rows' scales
 * and biases loaded from the group's lines. The int8-activation mode
 * (SQUANT_RT_FLAG_INT8_ACTIVATIONS) runs it with one part per group, x's
 * int8 quantization, whose unit is the group's scale
 * (squant_rt_gemv_amx_int8_quantize).
 *
 * TILE16_V2 holds 16 rows' 32-bit words in 64 bytes, the B tile's row
 * shape (16 columns of 4 bytes); the decode into B rows is
 * tile16_v2_rows.h's, which the VNNI int8-activation GEMV shares. Of
 * 4-bit codes, the low nibbles of a word's bytes are one B row, the high
 * nibbles another, so the decode is one op (a mask or a GF(2) affine map
 * of each byte; two for LUT_INT8's lookups) and a store per 64 codes, where the
 *AVX-512 GEMV spends 20 ops per 128 codes and row and is bound by them
 *(docs/Performance.md, session 18); the k order inside a 64-column quad is that
 *of the nibbles (squant_rt_gemv_amx_column), and x's parts are laid out in it.
 *Of 2-bit codes, each of the four 2-bit fields of a word's bytes is a B row:
 *one op (a mask or a GF(2) affine map, which also sign-extends signed codes;
 * LUT_INT8: a shift and a vpermb of its 4 entries repeated) and a store
 * per 64 codes. Per group of 16 rows that is the work of 4-bit codes for
 * 10 lines instead of 18, and it is bound by it (hot, both take ~115
 * cycles per tile and group of 128), yet 15-22 % faster cold than the
 * activation-table GEMV (docs/Performance.md, session 25). 3-bit codes
 * are their 2-bit plane's (two words of each block) decoded so, each B
 * row's third bits (the block's third word) brought to bit 2 of its bytes
 * by one vpmultishiftqb and merged by one vpternlogd (signed codes: one
 * more GF(2) map sign-extends them): three ops per B row, 12-22 % faster
 * than the table GEMV. A word of 8-bit codes is a B row as it is, in k
 * order: their decode is a copy into the ring (tile loads straight from
 * the stream read 0.76-0.81 of the probed bandwidth cold, session 21).
 * Groups of odd multiples of 32 (a quad would span two groups) take half
 * quads (squant_rt_gemv_amx_quad_k): A tiles of 32 bytes a part, B tiles
 * of 8 rows, the first block of a quad's decode; the tile products, dot
 * stores and sums per code double. At group 32 that reads 4- and 8-bit
 * codes in 0.81-0.95x the time of BLOCK32_V1's AVX-512 GEMV (session 33).
 *
 * Each thread takes its tiles in runs of SQUANT_TILE16_RUN (2)
 * consecutive tiles, group by group: a run is two streams, and each line
 * decoded comes with two prefetches of its stream, SQUANT_TILE16_AHEAD
 * bytes ahead into L1 and SQUANT_TILE16_FAR into L2; where those pass
 * the end of a tile they fetch the start of the same stream's tile in the
 * next run, which would start cold. Measured over cold copies (session 22,
 * docs/Performance.md; two threads, 4096 x 4096, as a fraction of a
 * one-stream read with prefetches): 4-bit runs of 4 tiles with the L1
 * prefetch alone 0.91-0.92, with the next run's starts 0.93-0.94, runs of
 * 2 0.96, and the L2 prefetch 0.97-0.98; 8-bit codes 0.74-0.75 ->
 * 0.99-1.01. Two streams read that way without the kernel read 8-12 %
 * faster than one, and the benchmark's probe now measures them too:
 * against it the kernel reads 0.83-0.88. The run's
 * steps are software-pipelined: a tile load waits for the bytes just
 * stored to its address (the decoded codes, the dots), so each tile's
 * codes are decoded a step before its tile loads and its dots read a step
 * after they are stored (108 us -> 62 us for 1024 rows hot, session 19).
 * Each row's operations do not depend on its run or thread.
 *
 *===----------------------------------------------------------------------===*/

#include "../../kernels.h"
#include "amx_int8_split.h"
#include "tile16_v2_rows.h"

_Static_assert(SQUANT_TILE16_RUN == 2, "gemvRuns' pipeline runs two tiles");
/* Decoded B tiles in flight (1 KiB each): two banks of up to 8 quads. */
#define SQUANT_GEMV_AMX_RING 16

/* byte o of a register is the k of column o of a quad in the B tiles
 * (squant_rt_gemv_amx_column): a vpermb of 64 columns in k order puts
 * them in the tiles' order. packed: of 64 columns packed from four vectors
 * of 16 by vpackssdw and vpacksswb, which interleave them by 128-bit lane
 * (k = 16 j + 4 l + i lands on byte 16 l + 4 j + i). */
static __m512i columnOrder(int32_t bits, int packed) {
  uint8_t columns[64];
  for (int32_t o = 0; o < 64; ++o) {
    int32_t k = squant_rt_gemv_amx_column(bits, o);
    columns[o] =
        (uint8_t)(packed ? 16 * (k % 16 / 4) + 4 * (k / 16) + k % 4 : k);
  }
  return _mm512_loadu_si512((const void *)columns);
}

/* One group's split in progress: its residual (in the caller's buffer),
 * the bits of its largest magnitude left, its parts so far. */
typedef struct {
  int64_t g;
  float *residual;
  uint32_t top;
  int32_t parts;
} GroupSplit;

/* Scales group s->g of x into its residual. Returns 0 where a value is not
 * finite. */
static inline int startGroup(GroupSplit *s, const float *x, int64_t gs,
                             float row_scale, float *xsum) {
  float sum;
  s->top =
      squantScaleGroup(x + s->g * gs, gs, 1.0f / row_scale, s->residual, &sum);
  s->parts = 0;
  if (s->top == UINT32_MAX)
    return 0;
  if (xsum)
    xsum[s->g] = sum * row_scale; /* a power of two: exact */
  return 1;
}

/* Peels the group's next part (squantPeelVector) straight into its row of
 * the group's A tiles: each quad's values (quadK: 64, or 32 of a half
 * quad, the other two vectors zero) as four vectors of parts packed to
 * bytes (vpackssdw, vpacksswb: |q| <= 127, exact) and put in the tiles'
 * order by one vpermb (columnOrder(bits, 1)). Returns 1 where it did, 0
 * where the group has no part left, -1 where it would need more than
 * SQUANT_RT_GEMV_AMX_PARTS. */
static inline int peelNext(GroupSplit *s, int64_t gs, int64_t quadK,
                           __m512i order, const squant_rt_amx_int8_parts *out) {
  int32_t e;
  if (!squantNextPartExponent(s->top, &e)) {
    s->top = 0;
    return 0;
  }
  if (s->parts == SQUANT_RT_GEMV_AMX_PARTS)
    return -1;
  out->units[s->g * 16 + s->parts] = squantPow2(e);
  const SquantPartUnit u = squantPartUnit(e);
  __m512i largest = _mm512_setzero_si512();
  int8_t *tiles = out->tiles + s->g * gs * 16 + s->parts * quadK;
  for (int64_t c = 0; c < gs; c += quadK) {
    float *r = s->residual + c;
    __m512i q0 = squantPeelVector(r, &u, &largest);
    __m512i q1 = squantPeelVector(r + 16, &u, &largest);
    __m512i q2 = _mm512_setzero_si512(), q3 = q2;
    if (quadK == 64) {
      q2 = squantPeelVector(r + 32, &u, &largest);
      q3 = squantPeelVector(r + 48, &u, &largest);
    }
    __m512i bytes = _mm512_permutexvar_epi8(
        order, _mm512_packs_epi16(_mm512_packs_epi32(q0, q1),
                                  _mm512_packs_epi32(q2, q3)));
    if (quadK == 64)
      _mm512_storeu_si512((void *)(tiles + c * 16), bytes);
    else
      _mm256_storeu_si256((__m256i *)(tiles + c * 16),
                          _mm512_castsi512_si256(bytes));
  }
  s->top = (uint32_t)_mm512_reduce_max_epu32(largest);
  ++s->parts;
  return 1;
}

int32_t squant_rt_gemv_amx_int8_split(const float *x,
                                      const squant_rt_qweight *w,
                                      float row_scale, float *residual,
                                      const squant_rt_amx_int8_parts *out,
                                      float *xsum) {
  int64_t gs = w->group_size, groups = w->k / gs;
  int64_t quadK = squant_rt_gemv_amx_quad_k(gs);
  const __m512i order = columnOrder(w->bits, 1);
  int32_t most = 1;
  /* Two groups at a time, their parts peeled in turn: each part waits on
   * the reduction of the one before it, and two groups' chains overlap
   * where one group's would not (with the parts packed in registers, not
   * stored and reloaded: 3.9 -> 2.2 us at K = 4096, session 31). */
  for (int64_t g = 0; g < groups; g += 2) {
    GroupSplit a = {g, residual, 0, 0}, b = {g + 1, residual + gs, 0, 0};
    int pair = g + 1 < groups;
    if (!startGroup(&a, x, gs, row_scale, xsum) ||
        (pair && !startGroup(&b, x, gs, row_scale, xsum)))
      return 0;
    for (;;) {
      int peeledA = peelNext(&a, gs, quadK, order, out);
      int peeledB = pair ? peelNext(&b, gs, quadK, order, out) : 0;
      if (peeledA < 0 || peeledB < 0)
        return 0;
      if (!peeledA && !peeledB)
        break;
    }
    out->counts[g] = a.parts;
    most = a.parts > most ? a.parts : most;
    if (pair) {
      out->counts[g + 1] = b.parts;
      most = b.parts > most ? b.parts : most;
    }
  }
  return most;
}

int32_t squant_rt_gemv_amx_int8_quantize(const float *x,
                                         const squant_rt_qweight *w,
                                         int64_t quad_bytes,
                                         const squant_rt_amx_int8_parts *out,
                                         float *xsum) {
  int64_t gs = w->group_size, groups = w->k / gs;
  int64_t quadK = squant_rt_gemv_amx_quad_k(gs);
  const __m512i order = columnOrder(w->bits, 0);
  const __m512 top = _mm512_set1_ps(127.0f), bottom = _mm512_set1_ps(-127.0f);
  for (int64_t g = 0; g < groups; ++g) {
    const float *xg = x + g * gs;
    float sum, amax; /* sum: x's exact sum, which this mode does not use */
    uint32_t amaxBits = squantScaleGroup(xg, gs, 1.0f, NULL, &sum);
    if (amaxBits == UINT32_MAX)
      return 0;
    memcpy(&amax, &amaxBits, sizeof(amax));
    float s = squant_rt_int8_scale(amax);
    out->units[g * 16] = s;
    out->counts[g] = 1;
    const __m512 vs = _mm512_set1_ps(s);
    __m512i qsum = _mm512_setzero_si512();
    for (int64_t c = 0; c < gs; c += quadK) {
      /* A half quad: its 32 values, the rest of the register zero. */
      __m128i q[4] = {_mm_setzero_si128(), _mm_setzero_si128(),
                      _mm_setzero_si128(), _mm_setzero_si128()};
      for (int i = 0; i < quadK / 16; ++i) {
        __m512 v = _mm512_roundscale_ps(
            _mm512_div_ps(_mm512_loadu_ps(xg + c + 16 * i), vs),
            _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        v = _mm512_min_ps(_mm512_max_ps(v, bottom), top);
        __m512i qi = _mm512_cvtps_epi32(v);
        qsum = _mm512_add_epi32(qsum, qi);
        q[i] = _mm512_cvtepi32_epi8(qi);
      }
      __m512i k64 = _mm512_inserti32x4(
          _mm512_inserti32x4(
              _mm512_inserti32x4(_mm512_castsi128_si512(q[0]), q[1], 1), q[2],
              2),
          q[3], 3);
      __m512i bytes = _mm512_permutexvar_epi8(order, k64);
      int8_t *at = out->tiles + (g * gs + c) / quadK * quad_bytes;
      if (quadK == 64)
        _mm512_storeu_si512((void *)at, bytes);
      else
        _mm256_storeu_si256((__m256i *)at, _mm512_castsi512_si256(bytes));
    }
    int32_t total = _mm512_reduce_add_epi32(qsum);
    if (out->qsums)
      out->qsums[g] = total;
    /* The bias multiplies the sum of the quantized x (squant_rt.h): the
     * int sum converts exactly (|total| <= 127 * 512 < 2^24), the product
     * rounds once. */
    if (xsum)
      xsum[g] = s * (float)total;
  }
  return 1;
}

/* A: parts; B: the codes; C: a tile's dots. Tiles: A 0 and 3 (quadK
 * bytes of each part), B 1 and 2 (even and odd quads, quadK / 4 rows), C
 * 4 and 5 (the run's tiles). */
static void configureTiles(int32_t parts, int64_t quadK) {
  SquantTileConfig cfg;
  memset(&cfg, 0, sizeof(cfg));
  cfg.palette = 1;
  for (int t = 0; t < 8; ++t) {
    int b = t == 1 || t == 2, a = t == 0 || t == 3;
    cfg.colsb[t] = (uint16_t)(a ? quadK : 64);
    cfg.rows[t] = (uint8_t)(b ? quadK / 4 : parts);
  }
  _tile_loadconfig(&cfg);
}

/* A decoded row to its place in the B tile at sink. */
static inline __attribute__((always_inline)) void storeRow(void *sink, int row,
                                                           __m512i v) {
  _mm512_store_si512((void *)((uint8_t *)sink + 64 * row), v);
}

/* A tile's group: the prefetches of its parameter lines, its quads' B rows
 * into the ring from b (tile16_v2_rows.h: a store per 64 codes), each line
 * with its prefetches (nearEnd as in squantPrefetchStream). */
static inline __attribute__((always_inline)) void
decodeGroup(const uint8_t *group, uint8_t *b, const SquantTile16Geometry *geo,
            __m512i table, const int32_t kind, const int32_t bits,
            const int blocks, const uint8_t *tileEnd, const int nearEnd) {
  squantPrefetchParams(group, geo, tileEnd, nearEnd);
  for (int64_t c = 0; c < geo->quads; ++c)
    squantTile16Quad(group + c * geo->quadBytes, storeRow, b + c * 512 * blocks,
                     table, kind, bits, blocks, tileEnd, geo->next, nearEnd);
}

/* C += A B; unsigned codes: signed parts times unsigned bytes. */
#define dotQuad(c, a, b, kind)                                                 \
  do {                                                                         \
    if (kind == 0)                                                             \
      _tile_dpbsud(c, a, b);                                                   \
    else                                                                       \
      _tile_dpbssd(c, a, b);                                                   \
  } while (0)

/* Tile i's quads of group gg, decoded into bank i of the ring; the
 * prefetches of its codes (in the decode) and of its parameter lines. Of
 * 2- and 4-bit codes, a group whose prefetches all stay in its tile issues
 * them without their end-of-tile tests: hot 1.6-9 % faster (512 x 4096,
 * one thread), cold 1-4 % on two threads. Of 3- and 8-bit codes, the same made
 * them 6-9 % slower cold (though faster hot), so they keep the tests (session
 * 29, docs/Performance.md). */
#define decodeTile(i, gg)                                                      \
  do {                                                                         \
    if ((i) < live) {                                                          \
      const uint8_t *group = run + (i)*tileBytes + (gg)*groupBytes;            \
      const uint8_t *tileEnd = run + ((i) + 1) * tileBytes;                    \
      uint8_t *bank = ring + (i)*quads * tileBytesQ;                           \
      if ((bits == 2 || bits == 4) &&                                          \
          squantFarFromEnd(group + groupBytes, tileEnd))                       \
        decodeGroup(group, bank, &geo, table, kind, bits, blocks, tileEnd, 0); \
      else                                                                     \
        decodeGroup(group, bank, &geo, table, kind, bits, blocks, tileEnd, 1); \
    }                                                                          \
  } while (0)

/* Tile i's dots of group gg into accumulator tile 4 + i: even quads on
 * tiles 0/1, odd ones on 3/2. */
#define dotTile(i, gg)                                                         \
  do {                                                                         \
    if ((i) < live) {                                                          \
      const uint8_t *bank = ring + (i)*quads * tileBytesQ;                     \
      _tile_zero(4 + (i));                                                     \
      for (int64_t c = 0; c < quads; c += 2) {                                 \
        _tile_loadd(1, bank + c * tileBytesQ, 64);                             \
        if (!sharedParts)                                                      \
          _tile_loadd(0, parts + ((gg)*quads + c) * tileBytesQ, quadK);        \
        dotQuad(4 + (i), 0, 1, kind);                                          \
        if (c + 1 < quads) {                                                   \
          _tile_loadd(2, bank + (c + 1) * tileBytesQ, 64);                     \
          if (!sharedParts)                                                    \
            _tile_loadd(3, parts + ((gg)*quads + c + 1) * tileBytesQ, quadK);  \
          dotQuad(4 + (i), 3, 2, kind);                                        \
        }                                                                      \
      }                                                                        \
    }                                                                          \
  } while (0)

/* Tile i's dots out of its accumulator tile, a step before they are read. */
#define storeTile(i)                                                           \
  do {                                                                         \
    if ((i) < live)                                                            \
      _tile_stored(4 + (i), dotBuf + (i)*256, 64);                             \
  } while (0)

/* Tile i's stored dots of group gg into its outputs: D = sum over parts of
 * unit times dot (in part order), then s D and b sum x. */
#define sumTile(i, gg)                                                         \
  do {                                                                         \
    if ((i) < live) {                                                          \
      const int32_t *dots = dotBuf + (i)*256;                                  \
      const float *units = xp->units + (gg)*16;                                \
      __m512 d = _mm512_setzero_ps();                                          \
      for (int32_t t = 0; t < xp->counts[gg]; ++t)                             \
        d = _mm512_fmadd_ps(_mm512_set1_ps(units[t]),                          \
                            _mm512_cvtepi32_ps(_mm512_load_si512(              \
                                (const void *)(dots + 16 * t))),               \
                            d);                                                \
      const float *lines =                                                     \
          (const float *)(run + (i)*tileBytes + (gg)*groupBytes + codeBytes);  \
      accD[i] = _mm512_fmadd_ps(_mm512_loadu_ps(lines), d, accD[i]);           \
      if (w->form == SQUANT_RT_FORM_FMA)                                       \
        accB[i] = _mm512_fmadd_ps(_mm512_loadu_ps(lines + 16),                 \
                                  _mm512_set1_ps(p->xsum[gg]), accB[i]);       \
    }                                                                          \
  } while (0)

/* blocks: 2 (quads of 64 k) or 1 (half quads, squant_rt_gemv_amx_quad_k),
 * a constant like kind and bits. */
static inline __attribute__((always_inline)) void
gemvRuns(const squant_rt_qgemm_params *p, const int32_t kind,
         const int32_t bits, const int blocks) {
  const squant_rt_qweight *w = p->w;
  const squant_rt_amx_int8_parts *xp = &p->xparts;
  const SquantTile16Geometry geo = squantTile16Geometry(w, bits);
  int64_t groups = geo.groups, quads = geo.quads, codeBytes = geo.codeBytes;
  /* A quad's A and B tiles: 16 x quadK bytes. */
  const int64_t quadK = 32 * blocks, tileBytesQ = 16 * quadK;
  int64_t groupBytes = geo.groupBytes, tileBytes = geo.tileBytes;
  const int8_t *parts = xp->tiles;
  /* Groups of one or two quads: their parts stay in tiles 0 and 3. */
  const int sharedParts = quads <= 2;
  __m512i table = _mm512_setzero_si512();
  if (kind == 2 && bits == 4)
    table = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)w->table));
  else if (kind == 2) { /* every index's bits 0 and 1 */
    int32_t four;
    memcpy(&four, w->table, sizeof(four));
    table = _mm512_set1_epi32(four);
  }
  _Alignas(64) uint8_t ring[SQUANT_GEMV_AMX_RING * 1024];
  _Alignas(64) int32_t dotBuf[SQUANT_TILE16_RUN * 256];
  int64_t first = p->n_begin / 16, last = (p->n_end + 15) / 16;
  SquantOutputs out =
      squantOutputsBegin(p->y, w->n, first, (last - first) * tileBytes);
  for (int64_t t0 = first; t0 < last; t0 += SQUANT_TILE16_RUN) {
    int64_t live = squantRunTiles(t0, last);
    const uint8_t *run = w->codes + t0 * tileBytes;
    __m512 accD[SQUANT_TILE16_RUN], accB[SQUANT_TILE16_RUN];
    for (int i = 0; i < SQUANT_TILE16_RUN; ++i)
      accD[i] = accB[i] = _mm512_setzero_ps();
    /* A software pipeline over the run's two tiles, group after group: a
     * tile's codes are decoded a step before its tile loads, its dots
     * stored a step after its last dot and summed a step after that. */
    decodeTile(0, 0);
    for (int64_t g = 0; g < groups; ++g) {
      if (sharedParts) { /* the group's parts, once for the run */
        _tile_loadd(0, parts + g * quads * tileBytesQ, quadK);
        if (quads == 2)
          _tile_loadd(3, parts + (g * quads + 1) * tileBytesQ, quadK);
      }
      decodeTile(1, g);
      dotTile(0, g);
      if (g > 0)
        sumTile(1, g - 1);
      storeTile(0);
      if (g + 1 < groups)
        decodeTile(0, g + 1);
      dotTile(1, g);
      sumTile(0, g);
      storeTile(1);
    }
    sumTile(1, groups - 1);
    /* y = D sums times the row scale, plus the bias terms. */
    __m512 scale = _mm512_set1_ps(p->row_scale[0]);
    for (int64_t i = 0; i < live; ++i)
      squantOutputsTile(&out, t0 + i, accD[i], accB[i], scale);
  }
  squantOutputsEnd(&out, last - 1);
}

static inline __attribute__((always_inline)) void
gemvRunsBlocks(const squant_rt_qgemm_params *p, const int32_t kind,
               const int32_t bits) {
  SQUANT_TILE16_BY_BLOCKS(gemvRuns, p, kind, bits);
}

void squant_rt_gemv_int8_amx(const squant_rt_qgemm_params *p) {
  configureTiles(p->xpart_rows, squant_rt_gemv_amx_quad_k(p->w->group_size));
  /* kind, bits and blocks constant in each copy of the loop. */
  const squant_rt_qweight *w = p->w;
  int lut = w->form == SQUANT_RT_FORM_LUT_INT8;
  if (w->bits == 8 && w->is_signed)
    gemvRunsBlocks(p, 1, 8);
  else if (w->bits == 8)
    gemvRunsBlocks(p, 0, 8);
  else if (w->bits == 4 && lut)
    gemvRunsBlocks(p, 2, 4);
  else if (w->bits == 4 && w->is_signed)
    gemvRunsBlocks(p, 1, 4);
  else if (w->bits == 4)
    gemvRunsBlocks(p, 0, 4);
  else if (w->bits == 3 && w->is_signed)
    gemvRunsBlocks(p, 1, 3);
  else if (w->bits == 3)
    gemvRunsBlocks(p, 0, 3);
  else if (lut)
    gemvRunsBlocks(p, 2, 2);
  else if (w->is_signed)
    gemvRunsBlocks(p, 1, 2);
  else
    gemvRunsBlocks(p, 0, 2);
  _tile_release();
}
