/*===- amx_tiles.h - Tile configuration shared by the AMX kernels -*- C -*-===//
 *
 * Both AMX kernels (gemm_amx.c on AMX-BF16, gemm_amx_int8.c on AMX-INT8)
 * use eight tiles of 16 rows of 64 bytes.
 *
 *===----------------------------------------------------------------------===*/

#ifndef SQUANT_RUNTIME_AMX_TILES_H
#define SQUANT_RUNTIME_AMX_TILES_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

/* The LDTILECFG operand: palette 1, every tile 16 rows of 64 bytes. */
typedef struct {
  uint8_t palette, startRow, reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
} SquantTileConfig;

static inline void squantConfigureTiles(void) {
  SquantTileConfig cfg;
  memset(&cfg, 0, sizeof(cfg));
  cfg.palette = 1;
  for (int t = 0; t < 8; ++t) {
    cfg.colsb[t] = 64;
    cfg.rows[t] = 16;
  }
  _tile_loadconfig(&cfg);
}

/* The tiles configured (squantConfigureTiles), kernel(p, bits) with w's
 * width as a constant (1, 2, 3, 4 or 8), the tiles released: the body of
 * each AMX-BF16 GEMM's entry point. */
#define SQUANT_AMX_BY_BITS(kernel, p)                                          \
  do {                                                                         \
    squantConfigureTiles();                                                    \
    switch ((p)->w->bits) {                                                    \
    case 1:                                                                    \
      kernel(p, 1);                                                            \
      break;                                                                   \
    case 2:                                                                    \
      kernel(p, 2);                                                            \
      break;                                                                   \
    case 3:                                                                    \
      kernel(p, 3);                                                            \
      break;                                                                   \
    case 4:                                                                    \
      kernel(p, 4);                                                            \
      break;                                                                   \
    default:                                                                   \
      kernel(p, 8);                                                            \
      break;                                                                   \
    }                                                                          \
    _tile_release();                                                           \
  } while (0)

/* floor(log2 v) of a positive finite float v given its bits (subnormals
 * included). */
static inline int32_t squantFloorLog2(uint32_t bits) {
  return bits >= 0x00800000u ? (int32_t)(bits >> 23) - 127
                             : 31 - __builtin_clz(bits | 1u) - 149;
}

#endif /* SQUANT_RUNTIME_AMX_TILES_H */
