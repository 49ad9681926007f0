//===- Pack.h - Sub-byte code packing and tinygemm parameter layout -*- C++ -*-//
//
// squant's packed layouts (docs/Numerics.md, "Packed layouts", version 1).
// Codes of `bits` bits (1-8) are packed along the last dimension, each row
// padded to whole bytes; a code is stored as its low `bits` bits (two's
// complement for signed codes):
//   lsb_first: the row is a little-endian bit stream; code i occupies stream
//              bits [i*bits, (i+1)*bits), stream bit j is bit (j % 8) of byte
//              j / 8. For 4 bits: byte = q[2j] | q[2j+1] << 4.
//   msb_first: stream bit j is bit 7 - (j % 8) of byte j / 8 and each code is
//              written most significant bit first. For 4 bits:
//              byte = q[2j] << 4 | q[2j+1] (torchao's tinygemm input order).
//
//===----------------------------------------------------------------------===//

#ifndef SQUANT_REFERENCE_PACK_H
#define SQUANT_REFERENCE_PACK_H

#include <cstdint>
#include <vector>

namespace mlir::squant::ref {

/// Bit order of a packed row.
enum class PackOrder { LsbFirst, MsbFirst };

/// Bytes of one packed row of `cols` codes.
int64_t packedRowBytes(int64_t cols, unsigned bits);

/// Packs a row-major [rows, cols] code tensor. Codes are truncated to their
/// low `bits` bits (callers pass codes inside the storage range).
std::vector<uint8_t> packCodes(const std::vector<int32_t> &codes, int64_t rows,
                               int64_t cols, unsigned bits, PackOrder order);

/// packCodes into caller-provided storage of rows * packedRowBytes bytes,
/// from int8 codes (the low `bits` bits of each are stored). One pass, byte
/// at a time when `bits` divides 8: compile-time packing of whole models.
void packCodesInto(const int8_t *codes, int64_t rows, int64_t cols,
                   unsigned bits, PackOrder order, uint8_t *out);

/// Inverse of packCodes; sign-extends when `isSigned`.
std::vector<int32_t> unpackCodes(const std::vector<uint8_t> &bytes,
                                 int64_t rows, int64_t cols, unsigned bits,
                                 bool isSigned, PackOrder order);

/// torchao's pack_tinygemm_scales_and_zeros (section 5.5): from [N, G]
/// scales and zeros to [G][N][2] with [j][n][0] = scale, [j][n][1] = zero.
std::vector<float> packScalesAndZeros(const std::vector<float> &scales,
                                      const std::vector<float> &zeros,
                                      int64_t n, int64_t groups);

} // namespace mlir::squant::ref

#endif // SQUANT_REFERENCE_PACK_H
