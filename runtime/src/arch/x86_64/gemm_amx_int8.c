/*===- gemm_amx_int8.c - fp32-activation qgemm of 2..8-bit codes, AMX-INT8 ==//
 *
 * y = x w^T for 2- to 8-bit codes in the FMA form (and 2- to 4-bit
 * LUT_INT8 codes, their table entries looked up by vpshufb), M = 2..32, by
 * the group factorization
 *   y[m][n] = sum_g (s[n][g] * D[n][m][g] + b[n][g] * sum_{k in g} x[m][k]),
 *   D[n][m][g] = sum_{k in g} q[n][k] x[m][k],
 * where each row's x over a group is a short sum of int8 parts times powers
 * of two (squant_rt_amx_int8_split, described in kernels.h): D is then a
 * sum over parts of int32 dot products, which TDPBUSD (TDPBSSD for signed
 * codes) computes exactly. A BLOCK32_V1 row of 8-bit codes is its codes in
 * k order, so 16 rows of 64 columns are an A tile loaded in place, with no
 * decode (the AMX-BF16 kernel converts every code); 2- to 4-bit codes
 * are decoded to bytes, two blocks at a time (a shift and a mask per 64
 * codes, and for 3 bits the third bits joined from a mask:
 * squant_rt_amx_int8_column, the order the parts take too). Each part's
 *sum is converted to fp32 and scaled by its power of two (both exact while |D|
 *< 2^24, that is for groups up to 512), and the parts are added in fp32 in a
 *fixed order.
 *
 * The parts are the B tiles: 16 lanes of 4 columns per row, a lane being
 * one part of one activation row (of a block of up to 16). Per thread, for
 * 32 weight rows (two A tiles) at a time: for each group, each block's
 * tiles of parts take two TDPs per 64 columns into two accumulator tiles,
 * which are stored, converted, scaled and added into the 32 rows' outputs
 * by block and lane (in L1); the lanes of one row are added and its row
 * scale undone at the end.
 *
 *===----------------------------------------------------------------------===*/

#include "../../kernels.h"
#include "amx_int8_split.h"

#include <string.h>

/* Groups ahead whose 4-bit codes are prefetched: one (two and four were
 * slower). */
#define SQUANT_AMX_INT8_AHEAD 1

int squant_rt_amx_int8_split(const float *x, int64_t m, int64_t x_stride,
                             const squant_rt_qweight *w, const float *row_scale,
                             float *residual,
                             const squant_rt_amx_int8_parts *out) {
  int64_t gs = w->group_size, groups = w->k / gs, quads = gs / 64;
  int32_t blocks = squant_rt_amx_int8_blocks(m);
  int32_t groupTiles = squant_rt_amx_int8_first_tile(m, blocks);
  /* A quad's parts in the weight tiles' column order. */
  uint8_t columns[64];
  for (int32_t o = 0; o < 64; ++o)
    columns[o] = (uint8_t)squant_rt_amx_int8_column(w->bits, o);
  const __m512i order = _mm512_loadu_si512((const void *)columns);
  int8_t *q = (int8_t *)(residual + gs); /* a part, in k order */
  /* Dword i of a lane's 64 bytes goes to row i of the B tile. */
  const __m512i rowOffsets = _mm512_mullo_epi32(
      _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
      _mm512_set1_epi32(64));
  for (int64_t u = 0; u < groups * blocks; ++u) {
    int32_t b = (int32_t)(u % blocks);
    int32_t rows = squant_rt_amx_int8_lane_rows(m, b), slots = 16 / rows;
    int64_t r0 = 16 * b, r1 = m - r0 < 16 ? m : r0 + 16;
    int64_t g = u / blocks;
    int64_t first = g * groupTiles + squant_rt_amx_int8_first_tile(m, b);
    size_t tileBytes = (size_t)quads * 1024;
    int8_t *blockTiles = out->tiles + (size_t)first * tileBytes;
    float *units = out->units + first * 16;
    float sums[16] = {0};
    /* Tiles are zeroed as the first part lands in them: the kernel reads
     * only those (counts). */
    int32_t most = 0, zeroed = 0;
    for (int64_t r = r0; r < r1; ++r) {
      uint32_t top = squantScaleGroup(x + r * x_stride + g * gs, gs,
                                      1.0f / row_scale[r], /* 2^s: exact */
                                      residual, &sums[r - r0]);
      if (top == UINT32_MAX)
        return 0;
      int32_t parts = 0, e;
      for (; squantNextPartExponent(top, &e); ++parts) {
        if (parts == SQUANT_RT_AMX_INT8_PARTS)
          return 0;
        int32_t t = parts / slots,
                lane = (parts % slots) * rows + (int32_t)(r - r0);
        for (; zeroed <= t; ++zeroed) {
          memset(blockTiles + (size_t)zeroed * tileBytes, 0, tileBytes);
          memset(units + zeroed * 16, 0, 16 * sizeof(float));
        }
        units[t * 16 + lane] = squantPow2(e);
        top = squantPeelPart(residual, gs, e, q);
        for (int64_t c = 0; c < gs; c += 64) {
          __m512i lanes = _mm512_permutexvar_epi8(
              order, _mm512_loadu_si512((const void *)(q + c)));
          int8_t *tile = blockTiles + ((size_t)t * quads + c / 64) * 1024;
          _mm512_i32scatter_epi32(tile + 4 * lane, rowOffsets, lanes, 1);
        }
      }
      most = parts > most ? parts : most;
    }
    out->counts[u] = (most + slots - 1) / slots;
    memcpy(out->sums + u * 16, sums, sizeof(sums));
  }
  return 1;
}

/* The 4 or 8 bytes at p. */
static inline uint32_t load32(const void *p) {
  uint32_t v;
  memcpy(&v, p, sizeof(v));
  return v;
}
static inline uint64_t load64(const void *p) {
  uint64_t v;
  memcpy(&v, p, sizeof(v));
  return v;
}

/* The two A tiles (16 weight rows each) of columns [col, col + 64) of the
 * 32 weight rows from n0: tiles[j] with row stride strides[j]. 8-bit
 * codes are the tile in place (every k bytes a row) or, past the weight's
 * last row, a zero-padded copy in buf; 2- to 4-bit codes are decoded
 * into buf (two blocks: squant_rt_amx_int8_column), signed ones
 * sign-extended, LUT_INT8 ones looked up. buf: 2 KiB. */
static inline __attribute__((always_inline)) void
quadTiles(const squant_rt_qweight *w, int64_t n0, int64_t col, uint8_t *buf,
          const uint8_t *tiles[2], int64_t strides[2], __m512i thirdOrder,
          const int32_t bits) {
  int64_t k = w->k, rowBytes = k * bits / 8;
  const uint8_t *codes = w->codes + n0 * rowBytes + col * bits / 8;
  for (int j = 0; j < 2; ++j) {
    int64_t valid = w->n - n0 - 16 * j;
    const uint8_t *rows = codes + 16 * j * rowBytes;
    uint8_t *out = buf + 1024 * j;
    if (bits == 8 && valid >= 16) {
      tiles[j] = rows;
      strides[j] = k;
      continue;
    }
    tiles[j] = out;
    strides[j] = 64;
    for (int64_t i = 0; i < 16; ++i) {
      __m512i v = _mm512_setzero_si512();
      if (i < valid && bits == 8) {
        v = _mm512_loadu_si512((const void *)(rows + i * rowBytes));
      } else if (i < valid) {
        /* 4 bits: the 32 bytes in both 256-bit halves, the upper shifted
         * by 4; 2 bits: the 16 bytes in each 128-bit lane L, shifted by
         * 2 L; then the code's bits masked. */
        const uint8_t *r = rows + i * rowBytes;
        if (bits == 4) {
          v = _mm512_srlv_epi64(
              _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)r)),
              _mm512_set_epi64(4, 4, 4, 4, 0, 0, 0, 0));
          v = _mm512_and_si512(v, _mm512_set1_epi8(0x0F));
        } else {
          /* 3 bits: blocks of a 2-bit plane (8 bytes) and a 1-bit plane (4
           * bytes); the 2-bit planes decode as 2-bit codes, the third bits
           * (a 64-bit mask, in k order) join as 4s in their order. */
          __m128i low = bits == 2 ? _mm_loadu_si128((const __m128i *)r)
                                  : _mm_set_epi64x((long long)load64(r + 12),
                                                   (long long)load64(r));
          v = _mm512_srlv_epi64(_mm512_broadcast_i32x4(low),
                                _mm512_set_epi64(6, 6, 4, 4, 2, 2, 0, 0));
          v = _mm512_and_si512(v, _mm512_set1_epi8(3));
          if (bits == 3) {
            __mmask64 third = load32(r + 8) | (uint64_t)load32(r + 20) << 32;
            v = _mm512_or_si512(
                v, _mm512_permutexvar_epi8(
                       thirdOrder,
                       _mm512_maskz_mov_epi8(third, _mm512_set1_epi8(4))));
          }
        }
        if (w->form == SQUANT_RT_FORM_LUT_INT8) { /* the int8 table entry */
          __m128i table = bits == 4 ? _mm_loadu_si128((const __m128i *)w->table)
                          : bits == 3
                              ? _mm_cvtsi64_si128((long long)load64(w->table))
                              : _mm_cvtsi32_si128((int)load32(w->table));
          v = _mm512_shuffle_epi8(_mm512_broadcast_i32x4(table), v);
        } else if (w->is_signed) { /* 0..2^b - 1 -> -2^(b-1)..2^(b-1) - 1 */
          __m512i half = _mm512_set1_epi8((char)(1 << (bits - 1)));
          v = _mm512_sub_epi8(_mm512_xor_si512(v, half), half);
        }
      }
      _mm512_storeu_si512((void *)(out + 64 * i), v);
    }
  }
}

/* C += A B: tile operands are immediates, so a macro. */
#define dot(c, a, b, isSigned)                                                 \
  do {                                                                         \
    if (isSigned)                                                              \
      _tile_dpbssd(c, a, b);                                                   \
    else                                                                       \
      _tile_dpbusd(c, a, b);                                                   \
  } while (0)

static inline __attribute__((always_inline)) void
gemmInt8(const squant_rt_qgemm_params *p, const int isSigned,
         const int32_t bits) {
  const squant_rt_qweight *w = p->w;
  const squant_rt_amx_int8_parts *xp = &p->xparts;
  int64_t k = w->k, gs = w->group_size, groups = k / gs, quads = gs / 64;
  int32_t blocks = squant_rt_amx_int8_blocks(p->m), lanes = 16 * blocks;
  int32_t groupTiles = squant_rt_amx_int8_first_tile(p->m, blocks);
  /* Groups per K block: their parts stay in L2 while every pair of weight
   * tiles of the N block passes over them. */
  int64_t kb =
      SQUANT_RT_AMX_INT8_KB_BYTES / ((int64_t)groupTiles * quads * 1024);
  kb = kb < 1 ? 1 : kb;
  int64_t kBlocks = (groups + kb - 1) / kb;
  kb = (groups + kBlocks - 1) / kBlocks; /* even blocks */
  /* 3 bits: byte o of a decoded row takes the third bit of column
   * squant_rt_amx_int8_column(3, o). */
  uint8_t columns[64];
  for (int32_t o = 0; o < 64; ++o)
    columns[o] = (uint8_t)squant_rt_amx_int8_column(3, o);
  const __m512i thirdOrder = _mm512_loadu_si512((const void *)columns);
  int32_t *acc = (int32_t *)p->scratch; /* [PARTS][2 tiles][16][16] */
  /* [NB pairs][32][blocks][16], then [QUADS][2][1024] */
  float *outs = (float *)(acc + SQUANT_RT_AMX_INT8_PARTS * 512);
  uint8_t *pad =
      (uint8_t *)(outs + SQUANT_RT_AMX_INT8_NB * 32 * SQUANT_RT_AMX_INT8_MAX_M);
  for (int64_t nb0 = p->n_begin; nb0 < p->n_end;
       nb0 += SQUANT_RT_AMX_INT8_NB * 32) {
    int64_t nbEnd = p->n_end - nb0 < SQUANT_RT_AMX_INT8_NB * 32
                        ? p->n_end
                        : nb0 + SQUANT_RT_AMX_INT8_NB * 32;
    memset(outs, 0, (size_t)(nbEnd - nb0) * lanes * sizeof(float));
    for (int64_t kb0 = 0; kb0 < groups; kb0 += kb)
      for (int64_t n0 = nb0; n0 < nbEnd; n0 += 32) {
        int nr = nbEnd - n0 < 32 ? (int)(nbEnd - n0) : 32;
        float *pairOuts = outs + (n0 - nb0) * lanes;
        for (int64_t g = kb0; g < groups && g < kb0 + kb; ++g) {
          int64_t col = g * gs;
          /* The weight tiles of every quad of the group once (4-bit codes,
           * decoded; 8-bit codes of groups up to 128), for all its part
           * tiles. */
          const uint8_t *tiles[2 * SQUANT_RT_AMX_INT8_QUADS];
          int64_t strides[2 * SQUANT_RT_AMX_INT8_QUADS];
          int prepared = bits < 8 || quads <= 2;
          if (bits < 8 && g + SQUANT_AMX_INT8_AHEAD < groups) {
            /* The decode's loads are short runs a row apart, which the
             * hardware prefetchers do not follow (the tile loads of 8-bit
             * codes need no help). */
            int64_t rowBytes = k * bits / 8, groupBytes = gs * bits / 8;
            const uint8_t *next = w->codes + n0 * rowBytes +
                                  (g + SQUANT_AMX_INT8_AHEAD) * groupBytes;
            for (int i = 0; i < nr; ++i)
              squant_rt_prefetch_range(next + i * rowBytes, groupBytes);
          }
          for (int64_t c = 0; prepared && c < quads; ++c)
            quadTiles(w, n0, col + 64 * c, pad + 2048 * c, tiles + 2 * c,
                      strides + 2 * c, thirdOrder, bits);
          if (quads <= 2) {
            _tile_loadd(2, tiles[0], strides[0]);
            _tile_loadd(3, tiles[1], strides[1]);
            if (quads == 2) {
              _tile_loadd(5, tiles[2], strides[2]);
              _tile_loadd(6, tiles[3], strides[3]);
            }
          }
          for (int32_t b = 0; b < blocks; ++b) {
            int64_t u = g * blocks + b;
            int32_t count = xp->counts[u];
            int64_t first =
                g * groupTiles + squant_rt_amx_int8_first_tile(p->m, b);
            const int8_t *parts = xp->tiles + (size_t)first * quads * 1024;
            for (int32_t t = 0; t < count; ++t) {
              _tile_zero(0);
              _tile_zero(1);
              if (quads <= 2) {
                _tile_loadd(4, parts + t * quads * 1024, 64);
                dot(0, 2, 4, isSigned);
                dot(1, 3, 4, isSigned);
                if (quads == 2) {
                  _tile_loadd(7, parts + (t * quads + 1) * 1024, 64);
                  dot(0, 5, 7, isSigned);
                  dot(1, 6, 7, isSigned);
                }
              } else {
                for (int64_t c = 0; c < quads; ++c) {
                  /* 8-bit codes of longer groups: a quad at a time. */
                  if (!prepared)
                    quadTiles(w, n0, col + 64 * c, pad, tiles, strides,
                              thirdOrder, bits);
                  int64_t i = prepared ? 2 * c : 0;
                  _tile_loadd(2, tiles[i], strides[i]);
                  _tile_loadd(3, tiles[i + 1], strides[i + 1]);
                  _tile_loadd(4, parts + (t * quads + c) * 1024, 64);
                  dot(0, 2, 4, isSigned);
                  dot(1, 3, 4, isSigned);
                }
              }
              _tile_stored(0, acc + t * 512, 64);
              _tile_stored(1, acc + t * 512 + 256, 64);
            }
            /* Weight row i's lanes are row i of the tiles (i >= 16: the
             * second). */
            const float *units = xp->units + first * 16;
            __m512 sums = _mm512_loadu_ps(xp->sums + u * 16);
            for (int i = 0; i < nr; ++i) {
              __m512 d = _mm512_setzero_ps();
              for (int32_t t = 0; t < count; ++t)
                d = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_loadu_si512((
                                        const void *)(acc + t * 512 + 16 * i))),
                                    _mm512_loadu_ps(units + t * 16), d);
              int64_t param = (n0 + i) * groups + g;
              float *o = pairOuts + i * lanes + 16 * b;
              __m512 v = _mm512_loadu_ps(o);
              v = _mm512_fmadd_ps(_mm512_set1_ps(w->scales[param]), d, v);
              if (w->form == SQUANT_RT_FORM_FMA)
                v = _mm512_fmadd_ps(_mm512_set1_ps(w->bias[param]), sums, v);
              _mm512_storeu_ps(o, v);
            }
          }
        }
      }
    /* Each activation row's slots, added in order, its scale undone. */
    for (int64_t i = 0; i < nbEnd - nb0; ++i)
      for (int64_t r = 0; r < p->m; ++r) {
        int32_t rows = squant_rt_amx_int8_lane_rows(p->m, (int32_t)(r / 16));
        const float *o = outs + i * lanes + 16 * (r / 16) + r % 16;
        float v = o[0];
        for (int32_t s = 1; s < 16 / rows; ++s)
          v += o[s * rows];
        p->y[r * p->y_stride + nb0 + i] = v * p->row_scale[r];
      }
  }
}

void squant_rt_qgemm_int8_amx(const squant_rt_qgemm_params *p) {
  squantConfigureTiles();
  if (p->w->bits == 4) /* bytes 0..15, -8..7 or int8 entries: signed */
    gemmInt8(p, 1, 4);
  else if (p->w->bits == 3)
    gemmInt8(p, 1, 3);
  else if (p->w->bits == 2)
    gemmInt8(p, 1, 2);
  else if (p->w->is_signed)
    gemmInt8(p, 1, 8);
  else
    gemmInt8(p, 0, 8);
  _tile_release();
}
