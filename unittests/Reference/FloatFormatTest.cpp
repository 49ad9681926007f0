//===- FloatFormatTest.cpp - bf16 / f16 rounding and rint -----------------===//
//
// Hand-derived cases for round-to-nearest-even to bf16 and f16 (ties, the
// largest finite values, subnormals, NaN), plus a cross-check of the software
// f16 conversion against the compiler's _Float16 on many bit patterns.
//
//===----------------------------------------------------------------------===//

#include "squant/Reference/FloatFormat.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace mlir::squant::ref;

TEST(FloatFormat, BF16TiesToEven) {
  // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: the even one is 1.
  EXPECT_EQ(roundTo(1.0f + 0x1p-8f, FloatFormat::BF16), 1.0f);
  // 1 + 3*2^-8 lies halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even).
  EXPECT_EQ(roundTo(1.0f + 0x3p-8f, FloatFormat::BF16), 1.0f + 0x1p-6f);
  // Just above the halfway point rounds up.
  EXPECT_EQ(roundTo(1.0f + 0x1p-8f + 0x1p-20f, FloatFormat::BF16),
            1.0f + 0x1p-7f);
  EXPECT_EQ(roundTo(-1.0f - 0x1p-8f, FloatFormat::BF16), -1.0f);
}

TEST(FloatFormat, BF16Extremes) {
  // FLT_MAX is above bf16's largest finite value plus half an ulp: inf.
  EXPECT_TRUE(std::isinf(roundTo(3.4028235e38f, FloatFormat::BF16)));
  EXPECT_TRUE(std::isnan(roundTo(NAN, FloatFormat::BF16)));
  EXPECT_EQ(roundTo(INFINITY, FloatFormat::BF16), INFINITY);
  // Subnormals are kept (no flush to zero).
  EXPECT_EQ(roundTo(0x1p-133f, FloatFormat::BF16), 0x1p-133f);
  EXPECT_EQ(bf16BitsFromFloat(-0.0f), 0x8000);
}

TEST(FloatFormat, F16Rounding) {
  EXPECT_EQ(roundTo(1.0f + 0x1p-11f, FloatFormat::F16), 1.0f);
  EXPECT_EQ(roundTo(1.0f + 0x3p-11f, FloatFormat::F16), 1.0f + 0x1p-9f);
  EXPECT_EQ(roundTo(65519.0f, FloatFormat::F16), 65504.0f);
  EXPECT_TRUE(std::isinf(roundTo(65520.0f, FloatFormat::F16)));
  // Smallest subnormal 2^-24; 2^-25 is a tie with 0 and goes to 0.
  EXPECT_EQ(roundTo(0x1p-24f, FloatFormat::F16), 0x1p-24f);
  EXPECT_EQ(roundTo(0x1p-25f, FloatFormat::F16), 0.0f);
  EXPECT_EQ(roundTo(0x3p-26f, FloatFormat::F16), 0x1p-24f);
  EXPECT_EQ(roundTo(0x3p-25f, FloatFormat::F16), 0x2p-24f);
  EXPECT_TRUE(std::isnan(roundTo(NAN, FloatFormat::F16)));
}

TEST(FloatFormat, F16MatchesCompilerConversion) {
  std::mt19937 rng(42);
  for (int i = 0; i < 200000; ++i) {
    // Exponents around the f16 range, random mantissas.
    uint32_t bits = (rng() & 0x807fffffu) | ((100u + rng() % 60u) << 23);
    float f = floatFromBits(bits);
    _Float16 h = static_cast<_Float16>(f);
    uint16_t hb;
    std::memcpy(&hb, &h, 2);
    ASSERT_EQ(f16BitsFromFloat(f), hb) << std::hexfloat << f;
    ASSERT_EQ(floatFromF16Bits(hb), static_cast<float>(h));
  }
}

TEST(FloatFormat, RoundHalfEven) {
  EXPECT_EQ(roundHalfEven(0.5f), 0.0f);
  EXPECT_EQ(roundHalfEven(1.5f), 2.0f);
  EXPECT_EQ(roundHalfEven(2.5f), 2.0f);
  EXPECT_EQ(roundHalfEven(-1.5f), -2.0f);
  // rint(-0.5) is -0 (section 9: signed zero casts to int 0).
  EXPECT_TRUE(std::signbit(roundHalfEven(-0.5f)));
  EXPECT_EQ(toInt32Saturating(roundHalfEven(-0.4f)), 0);
  EXPECT_EQ(toInt32Saturating(NAN), 0);
  EXPECT_EQ(toInt32Saturating(1e20f), 2147483647);
}
