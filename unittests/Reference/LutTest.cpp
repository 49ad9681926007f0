//===- LutTest.cpp - Affine -> LUT (section 6) ----------------------------===//

#include "squant/Reference/Lut.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace mlir::squant::ref;

TEST(Lut, StretchedTables) {
  // T = 2q + 1 and s_table = 0.5 s (section 6.1).
  Scheme b2 = Scheme::get(SchemeKind::Stretched, 2, true);
  IntLutOrReason r2 = intLutFor(b2, -0.5f);
  ASSERT_TRUE(r2.lut);
  EXPECT_EQ(r2.lut->exponent, 1);
  EXPECT_EQ(r2.lut->table, (std::vector<int8_t>{-3, -1, 1, 3}));
  Scheme b1 = Scheme::get(SchemeKind::Stretched, 1, true);
  EXPECT_EQ(intLutFor(b1, -0.5f).lut->table, (std::vector<int8_t>{-1, 1}));
  Scheme b7 = Scheme::get(SchemeKind::Stretched, 7, true);
  IntLutOrReason r7 = intLutFor(b7, -0.5f);
  ASSERT_TRUE(r7.lut);
  EXPECT_EQ(r7.lut->table.front(), -127);
  EXPECT_EQ(r7.lut->table.back(), 127);
}

TEST(Lut, StretchedBits8NotRepresentable) {
  Scheme b8 = Scheme::get(SchemeKind::Stretched, 8, true);
  IntLutOrReason r = intLutFor(b8, -0.5f);
  EXPECT_FALSE(r.lut);
  EXPECT_NE(r.reason.find("does not fit in int8"), std::string::npos);
}

TEST(Lut, SymmetricAndAsymmetric) {
  Scheme sym = Scheme::get(SchemeKind::Symmetric, 8, true);
  IntLutOrReason r = intLutFor(sym, 0.0f);
  ASSERT_TRUE(r.lut);
  EXPECT_EQ(r.lut->table.size(), 256u);
  EXPECT_EQ(r.lut->table[0], -128);
  // INT asymmetric with one zero point for every group: T = q - zp.
  Scheme asym = Scheme::get(SchemeKind::Asymmetric, 4, false);
  IntLutOrReason ra = intLutFor(asym, 3.0f);
  ASSERT_TRUE(ra.lut);
  EXPECT_EQ(ra.lut->table[0], -3);
  EXPECT_EQ(ra.lut->table[15], 12);
  // uint8 with zp = 0 needs 255: no int8 table.
  Scheme u8 = Scheme::get(SchemeKind::Asymmetric, 8, false);
  EXPECT_FALSE(intLutFor(u8, 0.0f).lut);
  // tinygemm: never.
  Scheme tg = Scheme::get(SchemeKind::FloatZeroPoint, 4, false);
  EXPECT_FALSE(intLutFor(tg, 0.3f).lut);
  // bf16 schemes: the table computes in f32.
  Scheme bf = Scheme::get(SchemeKind::Symmetric, 4, true, FloatFormat::BF16);
  EXPECT_FALSE(intLutFor(bf, 0.0f).lut);
}

TEST(Lut, IntTableBitExactOnRandomScales) {
  // fl(s_table * T[idx]) == fl((q + 0.5) s) for every code (rule 1).
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-20.0f, 5.0f);
  for (unsigned bits = 1; bits <= 7; ++bits) {
    Scheme sc = Scheme::get(SchemeKind::Stretched, bits, true);
    IntLut lut = *intLutFor(sc, -0.5f).lut;
    for (int i = 0; i < 2000; ++i) {
      float s = std::exp2(dist(rng)) * (1.0f + (rng() % 1000) / 1000.0f);
      std::optional<float> st = scaleTableFor(s, lut.exponent);
      ASSERT_TRUE(st);
      for (int32_t q = lutMinCode(sc); q <= lutMaxCode(sc); ++q)
        ASSERT_EQ(lutDequantize(lut.table[q - lutMinCode(sc)], *st),
                  dequantize(sc, {s, -0.5f}, q));
    }
  }
}

TEST(Lut, SubnormalScaleTableUnderflows) {
  // s subnormal with its lowest bit set: 0.5 s is not exact.
  float s = 0x3p-149f;
  EXPECT_FALSE(scaleTableFor(s, 1));
  EXPECT_TRUE(scaleTableFor(0x1p-125f, 1));
}

TEST(Lut, FloatTableRule2) {
  // Per-group float table with the scheme's own sequence: exact by
  // construction, tinygemm included.
  Scheme tg = Scheme::get(SchemeKind::FloatZeroPoint, 4, false);
  QParams p = {0x1.99999ap-4f, 0x1.0p-1f};
  std::vector<float> lut = floatLutFor(tg, p);
  ASSERT_EQ(lut.size(), 16u);
  for (int q = 0; q < 16; ++q)
    EXPECT_EQ(lut[q], dequantize(tg, p, q));
  EXPECT_EQ(lut[0], -0x1.333334p-2f);
}
