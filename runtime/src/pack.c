/*===- pack.c - Weight packing (BLOCK32_V1, TILE16_V1/V2), tinygemm import ===//
 *
 * Weight packing runs once per weight (at compile time for constants), so it
 * is written for clarity; the byte format is in squant_rt.h.
 *
 *===----------------------------------------------------------------------===*/

#include "kernels.h"

#include <string.h>

size_t squant_rt_packed_size(int64_t n, int64_t k, int32_t bits) {
  if (n < 0 || k < 0 || k % 32 != 0 || bits < 1 || bits > 8)
    return 0;
  return (size_t)n * (size_t)(k / 32) * (size_t)squant_rt_block_bytes(bits);
}

/* Bit position of code i (0..31) of a block in the BLOCK32_V1 layout of a
 * 1-, 2-, 4- or 8-bit plane, counted from the block's first byte. */
static int32_t bitPosition(int32_t width, int32_t i) {
  switch (width) {
  case 8:
    return 8 * i;
  case 4: {
    int32_t h = i / 16, d = i % 16;
    return 64 * h + 32 * (d % 2) + 4 * (d / 2);
  }
  case 2:
    return 32 * (i / 16) + 2 * (i % 16);
  default:
    return i;
  }
}

static void packPlane(const uint8_t c[32], int32_t width, uint8_t *out) {
  uint32_t mask = (1u << width) - 1u;
  memset(out, 0, (size_t)(4 * width));
  for (int32_t i = 0; i < 32; ++i) {
    int32_t bit = bitPosition(width, i);
    /* A code never straddles a byte: widths divide 8 and positions are
     * multiples of the width. */
    out[bit / 8] |= (uint8_t)(((uint32_t)c[i] & mask) << (bit % 8));
  }
}

static void unpackPlane(const uint8_t *in, int32_t width, uint8_t c[32]) {
  uint32_t mask = (1u << width) - 1u;
  for (int32_t i = 0; i < 32; ++i) {
    int32_t bit = bitPosition(width, i);
    c[i] = (uint8_t)((in[bit / 8] >> (bit % 8)) & mask);
  }
}

void squant_rt_unpack_block32(const uint8_t *block, int32_t bits,
                              uint8_t out[32]) {
  if (bits == 3) {
    uint8_t hi[32];
    unpackPlane(block, 2, out);
    unpackPlane(block + 8, 1, hi);
    for (int i = 0; i < 32; ++i)
      out[i] |= (uint8_t)(hi[i] << 2);
    return;
  }
  unpackPlane(block, bits, out);
}

squant_rt_status squant_rt_pack_block32(const int8_t *codes, int64_t n,
                                        int64_t k, int32_t bits, uint8_t *out,
                                        size_t out_size) {
  if (!codes || !out || n < 0 || k < 0)
    return SQUANT_RT_INVALID_ARGUMENT;
  if (k % 32 != 0 || !(bits == 1 || bits == 2 || bits == 3 || bits == 4 ||
                       bits == 8))
    return SQUANT_RT_UNSUPPORTED;
  if (out_size < squant_rt_packed_size(n, k, bits))
    return SQUANT_RT_BUFFER_TOO_SMALL;
  int64_t blockBytes = squant_rt_block_bytes(bits);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t b = 0; b < k / 32; ++b) {
      uint8_t c[32];
      for (int i = 0; i < 32; ++i)
        c[i] = (uint8_t)codes[r * k + b * 32 + i];
      uint8_t *dst = out + (r * (k / 32) + b) * blockBytes;
      if (bits == 3) {
        uint8_t hi[32];
        for (int i = 0; i < 32; ++i)
          hi[i] = (uint8_t)((c[i] >> 2) & 1u);
        packPlane(c, 2, dst);
        packPlane(hi, 1, dst + 8);
      } else {
        packPlane(c, bits, dst);
      }
    }
  return SQUANT_RT_OK;
}

size_t squant_rt_packed_size_layout(int32_t layout, int64_t n, int64_t k,
                                    int32_t bits) {
  switch (layout) {
  case SQUANT_RT_LAYOUT_BLOCK32_V1:
    return squant_rt_packed_size(n, k, bits);
  case SQUANT_RT_LAYOUT_TILE16_V1:
    if (bits < 1 || bits > 3)
      return 0;
    return squant_rt_packed_size((n + 15) / 16 * 16, k, bits);
  default:
    return 0;
  }
}

/* Writes the codes of a TILE16_V1 or TILE16_V2 weight (w: its layout and
 * shape) into a zeroed buffer: each row's BLOCK32_V1 block, its words
 * placed where squant_rt_tiled_word says; padding rows stay zero. */
static squant_rt_status scatterWords(const squant_rt_qweight *w,
                                     const int8_t *codes, uint8_t *out) {
  for (int64_t r = 0; r < w->n; ++r)
    for (int64_t b = 0; b < w->k / 32; ++b) {
      uint8_t block[SQUANT_RT_BLOCK_BYTES_MAX];
      squant_rt_status status = squant_rt_pack_block32(
          codes + r * w->k + b * 32, 1, 32, w->bits, block, sizeof(block));
      if (status != SQUANT_RT_OK)
        return status;
      for (int32_t i = 0; i < w->bits; ++i)
        memcpy(out + squant_rt_tiled_word(w, r, b, i), block + 4 * i, 4);
    }
  return SQUANT_RT_OK;
}

squant_rt_status squant_rt_pack(int32_t layout, const int8_t *codes, int64_t n,
                                int64_t k, int32_t bits, uint8_t *out,
                                size_t out_size) {
  if (layout == SQUANT_RT_LAYOUT_BLOCK32_V1)
    return squant_rt_pack_block32(codes, n, k, bits, out, out_size);
  if (layout != SQUANT_RT_LAYOUT_TILE16_V1)
    return SQUANT_RT_UNSUPPORTED;
  if (!codes || !out || n < 0 || k < 0)
    return SQUANT_RT_INVALID_ARGUMENT;
  if (k % 32 != 0 || bits < 1 || bits > 3)
    return SQUANT_RT_UNSUPPORTED;
  size_t size = squant_rt_packed_size_layout(layout, n, k, bits);
  if (out_size < size)
    return SQUANT_RT_BUFFER_TOO_SMALL;
  memset(out, 0, size);
  squant_rt_qweight w = {.layout = layout, .bits = bits, .n = n, .k = k};
  return scatterWords(&w, codes, out);
}

size_t squant_rt_packed_size_tile16_v2(int64_t n, int64_t k, int32_t bits,
                                       int64_t group_size) {
  if (n < 0 || k < 0 ||
      !(bits == 1 || bits == 2 || bits == 3 || bits == 4 || bits == 8) ||
      group_size <= 0 || group_size % 32 != 0 || k % group_size != 0)
    return 0;
  return (size_t)((n + 15) / 16) * (size_t)(k / group_size) *
         (size_t)squant_rt_tile16v2_group_bytes(bits, group_size);
}

squant_rt_status
squant_rt_pack_tile16_v2(const int8_t *codes, const float *scales,
                         const float *bias, int64_t n, int64_t k, int32_t bits,
                         int64_t group_size, uint8_t *out, size_t out_size) {
  if (!codes || !out || n < 0 || k < 0 || group_size <= 0)
    return SQUANT_RT_INVALID_ARGUMENT;
  size_t size = squant_rt_packed_size_tile16_v2(n, k, bits, group_size);
  if (size == 0 && n > 0 && k > 0)
    return SQUANT_RT_UNSUPPORTED;
  if (out_size < size)
    return SQUANT_RT_BUFFER_TOO_SMALL;
  memset(out, 0, size);
  squant_rt_qweight w = {.layout = SQUANT_RT_LAYOUT_TILE16_V2,
                         .bits = bits,
                         .n = n,
                         .k = k,
                         .group_size = group_size};
  squant_rt_status status = scatterWords(&w, codes, out);
  if (status != SQUANT_RT_OK)
    return status;
  int64_t groups = k / group_size;
  for (int64_t r = 0; r < n; ++r)
    for (int64_t g = 0; g < groups; ++g) {
      if (scales)
        memcpy(out + squant_rt_tile16v2_param(&w, r, g, 0),
               scales + r * groups + g, 4);
      if (bias)
        memcpy(out + squant_rt_tile16v2_param(&w, r, g, 1),
               bias + r * groups + g, 4);
    }
  return SQUANT_RT_OK;
}

squant_rt_status squant_rt_pack_tinygemm(const uint8_t *tinygemm_u8, int64_t n,
                                         int64_t k, int64_t group_size,
                                         const float *scales_and_zeros,
                                         uint8_t *codes_out, float *scales_out,
                                         float *bias_out) {
  if (!tinygemm_u8 || !scales_and_zeros || !codes_out || !scales_out ||
      !bias_out || n < 0 || k < 0 || group_size <= 0)
    return SQUANT_RT_INVALID_ARGUMENT;
  if (k % 32 != 0 || group_size % 32 != 0 || k % group_size != 0)
    return SQUANT_RT_UNSUPPORTED;
  int64_t groups = k / group_size;
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t b = 0; b < k / 32; ++b) {
      uint8_t c[32];
      for (int i = 0; i < 32; ++i) {
        int64_t col = b * 32 + i;
        uint8_t byte = tinygemm_u8[r * (k / 2) + col / 2];
        /* torchao: the even k goes to the high nibble. */
        c[i] = (uint8_t)(col % 2 == 0 ? byte >> 4 : byte & 0x0F);
      }
      packPlane(c, 4, codes_out + (r * (k / 32) + b) * 16);
    }
    for (int64_t g = 0; g < groups; ++g) {
      float s = scales_and_zeros[(g * n + r) * 2 + 0];
      float z = scales_and_zeros[(g * n + r) * 2 + 1];
      scales_out[r * groups + g] = s;
      /* The folded tinygemm bias of SEMANTICS.md section 7: fma(s, -8, z). */
      bias_out[r * groups + g] = __builtin_fmaf(s, -8.0f, z);
    }
  }
  return SQUANT_RT_OK;
}
