//===- Pack.cpp - Sub-byte code packing and tinygemm parameter layout -----===//

#include "squant/Reference/Pack.h"

namespace mlir::squant::ref {

int64_t packedRowBytes(int64_t cols, unsigned bits) {
  return (cols * bits + 7) / 8;
}

std::vector<uint8_t> packCodes(const std::vector<int32_t> &codes, int64_t rows,
                               int64_t cols, unsigned bits, PackOrder order) {
  int64_t rowBytes = packedRowBytes(cols, bits);
  std::vector<uint8_t> bytes(rows * rowBytes, 0);
  uint32_t mask = (1u << bits) - 1u;
  for (int64_t r = 0; r < rows; ++r) {
    uint8_t *row = bytes.data() + r * rowBytes;
    for (int64_t c = 0; c < cols; ++c) {
      uint32_t v = static_cast<uint32_t>(codes[r * cols + c]) & mask;
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
