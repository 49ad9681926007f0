//===- Pack.cpp - Sub-byte code packing and tinygemm parameter layout -----===//

#include "squant/Reference/Pack.h"

#include <algorithm>

namespace mlir::squant::ref {

int64_t packedRowBytes(int64_t cols, unsigned bits) {
  return (cols * bits + 7) / 8;
}

void packCodesInto(const int8_t *codes, int64_t rows, int64_t cols,
                   unsigned bits, PackOrder order, uint8_t *out) {
  int64_t rowBytes = packedRowBytes(cols, bits);
  uint32_t mask = (1u << bits) - 1u;
  for (int64_t r = 0; r < rows; ++r) {
    const int8_t *in = codes + r * cols;
    uint8_t *row = out + r * rowBytes;
    if (8 % bits == 0) {
      // Whole codes per byte: lsb_first puts code j of a byte at bits
      // j*bits, msb_first at 8 - (j+1)*bits.
      int64_t perByte = 8 / bits;
      for (int64_t byte = 0; byte < rowBytes; ++byte) {
        uint32_t v = 0;
        for (int64_t j = 0; j < perByte; ++j) {
          int64_t c = byte * perByte + j;
          uint32_t code = c < cols ? static_cast<uint32_t>(in[c]) & mask : 0u;
          unsigned shift = order == PackOrder::LsbFirst
                               ? j * bits
                               : 8 - (j + 1) * bits;
          v |= code << shift;
        }
        row[byte] = static_cast<uint8_t>(v);
      }
      continue;
    }
    std::fill(row, row + rowBytes, 0);
    for (int64_t c = 0; c < cols; ++c) {
      uint32_t v = static_cast<uint32_t>(in[c]) & mask;
      for (unsigned b = 0; b < bits; ++b) {
        int64_t stream = c * bits + b;
        // lsb_first writes code bit b at stream bit b; msb_first writes the
        // code's most significant bit first.
        unsigned codeBit = order == PackOrder::LsbFirst ? b : bits - 1 - b;
        unsigned byteBit = order == PackOrder::LsbFirst ? stream % 8 : 7 - stream % 8;
        if ((v >> codeBit) & 1u)
          row[stream / 8] |= static_cast<uint8_t>(1u << byteBit);
      }
    }
  }
}

std::vector<uint8_t> packCodes(const std::vector<int32_t> &codes, int64_t rows,
                               int64_t cols, unsigned bits, PackOrder order) {
  // Only the low `bits` (<= 8) bits are stored: int8 keeps them all.
  std::vector<int8_t> narrow(codes.size());
  for (size_t i = 0; i < codes.size(); ++i)
    narrow[i] = static_cast<int8_t>(codes[i]);
  std::vector<uint8_t> bytes(rows * packedRowBytes(cols, bits));
  packCodesInto(narrow.data(), rows, cols, bits, order, bytes.data());
  return bytes;
}

std::vector<int32_t> unpackCodes(const std::vector<uint8_t> &bytes,
                                 int64_t rows, int64_t cols, unsigned bits,
                                 bool isSigned, PackOrder order) {
  int64_t rowBytes = packedRowBytes(cols, bits);
  std::vector<int32_t> codes(rows * cols);
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t *row = bytes.data() + r * rowBytes;
    for (int64_t c = 0; c < cols; ++c) {
      uint32_t v = 0;
      for (unsigned b = 0; b < bits; ++b) {
        int64_t stream = c * bits + b;
        unsigned codeBit = order == PackOrder::LsbFirst ? b : bits - 1 - b;
        unsigned byteBit = order == PackOrder::LsbFirst ? stream % 8 : 7 - stream % 8;
        v |= ((row[stream / 8] >> byteBit) & 1u) << codeBit;
      }
      int32_t q = static_cast<int32_t>(v);
      if (isSigned && (v >> (bits - 1)) & 1u)
        q -= int32_t(1) << bits;
      codes[r * cols + c] = q;
    }
  }
  return codes;
}

std::vector<float> packScalesAndZeros(const std::vector<float> &scales,
                                      const std::vector<float> &zeros,
                                      int64_t n, int64_t groups) {
  std::vector<float> out(groups * n * 2);
  for (int64_t j = 0; j < groups; ++j)
    for (int64_t i = 0; i < n; ++i) {
      out[(j * n + i) * 2 + 0] = scales[i * groups + j];
      out[(j * n + i) * 2 + 1] = zeros[i * groups + j];
    }
  return out;
}

} // namespace mlir::squant::ref
