//===- PackTest.cpp - Sub-byte packing and tinygemm scales_and_zeros ------===//

#include "squant/Reference/Pack.h"

#include <gtest/gtest.h>

#include <random>

using namespace mlir::squant::ref;

TEST(Pack, FourBitOrders) {
  std::vector<int32_t> q = {0x1, 0x2, 0x3, 0xF};
  EXPECT_EQ(packCodes(q, 1, 4, 4, PackOrder::LsbFirst),
            (std::vector<uint8_t>{0x21, 0xF3}));
  // msb_first: byte = q[2j] << 4 | q[2j+1] (torchao's tinygemm input).
  EXPECT_EQ(packCodes(q, 1, 4, 4, PackOrder::MsbFirst),
            (std::vector<uint8_t>{0x12, 0x3F}));
}

TEST(Pack, ThreeBitsCrossBytes) {
  // Codes 1..5 of 3 bits: stream 001 010 011 100 101 (LSB first per code).
  std::vector<int32_t> q = {1, 2, 3, 4, 5};
  std::vector<uint8_t> b = packCodes(q, 1, 5, 3, PackOrder::LsbFirst);
  ASSERT_EQ(b.size(), 2u); // ceil(15 / 8)
  // bits: q0 -> 0..2, q1 -> 3..5, q2 -> 6..8, q3 -> 9..11, q4 -> 12..14
  EXPECT_EQ(b[0], static_cast<uint8_t>(1 | 2 << 3 | (3 & 3) << 6));
  EXPECT_EQ(b[1], static_cast<uint8_t>((3 >> 2) | 4 << 1 | 5 << 4));
}

TEST(Pack, RoundTripAllWidthsSignedRaggedRows) {
  std::mt19937 rng(1);
  for (unsigned bits = 1; bits <= 8; ++bits)
    for (PackOrder order : {PackOrder::LsbFirst, PackOrder::MsbFirst})
      for (bool isSigned : {true, false}) {
        int64_t rows = 3, cols = 13; // 13 codes: rows end mid-byte
        std::vector<int32_t> q(rows * cols);
        int32_t lo = isSigned ? -(1 << (bits - 1)) : 0;
        int32_t span = 1 << bits;
        for (int32_t &v : q)
          v = lo + static_cast<int32_t>(rng() % span);
        std::vector<uint8_t> packed = packCodes(q, rows, cols, bits, order);
        ASSERT_EQ(static_cast<int64_t>(packed.size()),
                  rows * packedRowBytes(cols, bits));
        EXPECT_EQ(unpackCodes(packed, rows, cols, bits, isSigned, order), q)
            << bits << " " << isSigned;
      }
}

TEST(Pack, ScalesAndZeros) {
  // [N=2, G=3] -> [G][N][2].
  std::vector<float> s = {1, 2, 3, 4, 5, 6}, z = {-1, -2, -3, -4, -5, -6};
  std::vector<float> sz = packScalesAndZeros(s, z, 2, 3);
  EXPECT_EQ(sz, (std::vector<float>{1, -1, 4, -4, 2, -2, 5, -5, 3, -3, 6, -6}));
}
