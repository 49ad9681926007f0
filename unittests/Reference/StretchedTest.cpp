//===- StretchedTest.cpp - torchao's stretched affine scheme --------------===//
//
// SEMANTICS.md section 4: the 8-lane cascade mean (D2), the half-integer
// grid, its ties, the tiny-negative case and true division.
//
//===----------------------------------------------------------------------===//

#include "squant/Reference/Affine.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

using namespace mlir::squant::ref;

TEST(Stretched, CascadeSumOrder) {
  // g = 32: lanes are summed in four accumulators, then across lanes. 2^24
  // in lane 0 of V1 absorbs each +1 of lanes 1..3 one at a time, whereas a
  // sequential sum adds the three ones first (2^24 + 4).
  std::vector<float> a(32, 0.0f);
  a[1] = a[2] = a[3] = 1.0f;
  a[8] = 0x1p24f;
  EXPECT_EQ(cascadeSum8(a.data(), a.size()), 0x1p24f);
  float sequential = 0.0f;
  for (float v : a)
    sequential += v;
  EXPECT_EQ(sequential, 0x1p24f + 4.0f);
  // g = 12: the 4-element tail is summed before the lanes.
  std::vector<float> b(12, 0.0f);
  b[0] = 0x1p24f;
  b[8] = b[9] = b[10] = 1.0f;
  EXPECT_EQ(cascadeSum8(b.data(), b.size()), 0x1p24f + 4.0f);
  // g = 40 (m = 5): the fifth vector goes to acc0 after the first round.
  std::vector<float> c(40, 1.0f);
  EXPECT_EQ(cascadeSum8(c.data(), c.size()), 40.0f);
}

TEST(Stretched, ChooseQuantizeDequantizeBits2) {
  // S = 11.5, mean = 1.4375, max_val = min(2 * 1.4375, 4) = 2.875,
  // s = fl(2.875 / 1.5).
  Scheme sc = Scheme::get(SchemeKind::Stretched, 2, true);
  std::vector<float> x = {1, -2, 3, -4, 0.5f, 0, 0, 1};
  QParams p = chooseQParams(sc, x.data(), x.size());
  EXPECT_EQ(p.scale, 0x1.eaaaaap+0f);
  EXPECT_EQ(p.zeroPoint, -0.5f);
  std::vector<int32_t> expected = {0, -2, 1, -2, 0, 0, 0, 0};
  for (size_t i = 0; i < x.size(); ++i)
    EXPECT_EQ(quantize(sc, p, x[i]), expected[i]) << i;
  EXPECT_EQ(dequantize(sc, p, 0), 0x1.eaaaaap-1f);
  EXPECT_EQ(dequantize(sc, p, 1), 0x1.7p+1f);
  EXPECT_EQ(dequantize(sc, p, -2), -0x1.7p+1f);
}

TEST(Stretched, TiesAtMultiplesOfScale) {
  // x = k*s gives v = k - 0.5, a tie: 0 and s go to q = 0 (+0.5s), -s to
  // q = -2 (-1.5s). Not sign-symmetric.
  Scheme sc = Scheme::get(SchemeKind::Stretched, 2, true);
  QParams p = {1.0f, -0.5f};
  EXPECT_EQ(quantize(sc, p, 0.0f), 0);
  EXPECT_EQ(dequantize(sc, p, quantize(sc, p, 0.0f)), 0.5f);
  EXPECT_EQ(quantize(sc, p, 1.0f), 0);
  EXPECT_EQ(dequantize(sc, p, quantize(sc, p, 1.0f)), 0.5f);
  EXPECT_EQ(quantize(sc, p, -1.0f), -2);
  EXPECT_EQ(dequantize(sc, p, quantize(sc, p, -1.0f)), -1.5f);
  // Clamped to m = 1.5 before dividing: q = 1, w = 1.5.
  EXPECT_EQ(quantize(sc, p, 2.0f), 1);
}

TEST(Stretched, TinyNegativeRoundsUp) {
  // |x/s| < 2^-25: fl(x/s - 0.5) is -0.5 exactly, rint gives -0 -> q = 0,
  // although the exact value is below -0.5 (q = -1).
  Scheme sc = Scheme::get(SchemeKind::Stretched, 2, true);
  QParams p = {1.0f, -0.5f};
  EXPECT_EQ(quantize(sc, p, -0x1p-26f), 0);
  EXPECT_EQ(dequantize(sc, p, quantize(sc, p, -0x1p-26f)), 0.5f);
  // -2^-24 is representable next to -0.5: q = -1.
  EXPECT_EQ(quantize(sc, p, -0x1p-24f), -1);
}

TEST(Stretched, TrueDivisionNotReciprocal) {
  // x = 2s exactly: x/s = 2 -> v = 1.5 -> q = 2 (tie to even), while
  // x * fl(1/s) is just below 2 -> q = 1.
  Scheme sc = Scheme::get(SchemeKind::Stretched, 4, true);
  QParams p = {0x1.b2aacep-1f, -0.5f};
  float x = 0x1.b2aacep+0f;
  ASSERT_NE(std::nearbyint(x * (1.0f / p.scale) - 0.5f), 2.0f);
  EXPECT_EQ(quantize(sc, p, x), 2);
}

TEST(Stretched, AllZeroGroup) {
  // s = eps / qmax = 2^-23 / 1.5, q = 0, w = +0.5s (not 0).
  Scheme sc = Scheme::get(SchemeKind::Stretched, 2, true);
  std::vector<float> z(32, 0.0f);
  QParams p = chooseQParams(sc, z.data(), z.size());
  EXPECT_EQ(p.scale, 0x1.555556p-24f);
  EXPECT_EQ(quantize(sc, p, 0.0f), 0);
  EXPECT_EQ(dequantize(sc, p, 0), 0x1.555556p-25f);
}

TEST(Stretched, CodeRangeAllBits) {
  // No clamp after rounding, yet codes stay in [-2^(b-1), 2^(b-1) - 1].
  std::vector<float> x;
  for (int i = 0; i < 64; ++i)
    x.push_back(std::cos(0.91f * i) * (1 + i % 5));
  for (unsigned bits = 1; bits <= 8; ++bits) {
    Scheme sc = Scheme::get(SchemeKind::Stretched, bits, true);
    QParams p = chooseQParams(sc, x.data(), x.size());
    for (float v : x) {
      int32_t q = quantize(sc, p, v);
      ASSERT_GE(q, -(1 << (bits - 1))) << bits;
      ASSERT_LE(q, (1 << (bits - 1)) - 1) << bits;
      ASSERT_EQ(dequantize(sc, p, q), (q + 0.5f) * p.scale);
    }
  }
}

TEST(Stretched, BF16) {
  // The same group in bf16: the fp32 sum 11.5 and the mean are exact; s,
  // m and every quotient round to bf16.
  Scheme sc = Scheme::get(SchemeKind::Stretched, 2, true, FloatFormat::BF16);
  std::vector<float> x = {1, -2, 3, -4, 0.5f, 0, 0, 1};
  QParams p = chooseQParams(sc, x.data(), x.size());
  EXPECT_EQ(p.scale, 0x1.eap+0f);
  std::vector<int32_t> expected = {0, -2, 1, -2, 0, 0, 0, 0};
  for (size_t i = 0; i < x.size(); ++i)
    EXPECT_EQ(quantize(sc, p, x[i]), expected[i]) << i;
  EXPECT_EQ(dequantize(sc, p, 0), 0x1.eap-1f);
  EXPECT_EQ(dequantize(sc, p, 1), 0x1.7p+1f);
}
