//===- OneFmaTest.cpp - The one-FMA form w = q*s + b (section 7) ----------===//

#include "squant/Reference/OneFma.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace mlir::squant::ref;

TEST(OneFma, StretchedIsExact) {
  Scheme sc = Scheme::get(SchemeKind::Stretched, 2, true);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(1e-6f, 10.0f);
  for (int i = 0; i < 20000; ++i) {
    QParams p = {dist(rng), -0.5f};
    ASSERT_TRUE(foldIsExact(sc, p));
    float b = foldedBias(sc, p);
    EXPECT_EQ(b, 0.5f * p.scale);
    for (int q = -2; q <= 1; ++q)
      ASSERT_EQ(fmaDequantize(q, p.scale, b), dequantize(sc, p, q));
  }
  // Subnormal s with the low bit set: 0.5 s rounds, the fold is inexact.
  EXPECT_FALSE(foldIsExact(sc, {0x3p-149f, -0.5f}));
}

TEST(OneFma, SymmetricIsExact) {
  Scheme sc = Scheme::get(SchemeKind::Symmetric, 4, true);
  QParams p = {0x1.111112p-2f, 0.0f};
  EXPECT_EQ(foldedBias(sc, p), 0.0f);
  EXPECT_TRUE(foldIsExact(sc, p));
  Scheme usc = Scheme::get(SchemeKind::Symmetric, 4, false);
  QParams up = {0x1.111112p-2f, 8.0f};
  EXPECT_TRUE(foldIsExact(usc, up)); // 8 s is exact
  for (int q = 0; q < 16; ++q)
    EXPECT_EQ(fmaDequantize(q, up.scale, foldedBias(usc, up)),
              dequantize(usc, up, q));
  EXPECT_FALSE(std::signbit(fmaDequantize(8, up.scale, foldedBias(usc, up))));
}

TEST(OneFma, IntAsymmetricWithinTolerance) {
  // b = fl(-zp s) is rounded: mismatches exist, each within 2 ulp(M).
  Scheme sc = Scheme::get(SchemeKind::Asymmetric, 4, false);
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> dist(1e-3f, 1.0f);
  int mismatches = 0, zeroMisses = 0;
  for (int i = 0; i < 5000; ++i) {
    QParams p = {dist(rng), static_cast<float>(rng() % 16)};
    float b = foldedBias(sc, p);
    for (int q = 0; q < 16; ++q) {
      float ref = dequantize(sc, p, q), fma = fmaDequantize(q, p.scale, b);
      if (ref != fma) {
        ++mismatches;
        if (q == static_cast<int>(p.zeroPoint))
          ++zeroMisses;
      }
      ASSERT_LE(std::fabs(ref - fma), foldTolerance(sc, p, q));
    }
  }
  EXPECT_GT(mismatches, 0);
  // q == zp no longer gives exactly 0 after folding (section 7).
  EXPECT_GT(zeroMisses, 0);
}

TEST(OneFma, TinygemmWithinTolerance) {
  Scheme sc = Scheme::get(SchemeKind::FloatZeroPoint, 4, false);
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> s(1e-3f, 0.5f), z(-2.0f, 2.0f);
  int mismatches = 0;
  for (int i = 0; i < 5000; ++i) {
    QParams p = {s(rng), z(rng)};
    EXPECT_FALSE(foldIsExact(sc, p));
    float b = foldedBias(sc, p);
    EXPECT_EQ(b, std::fma(p.scale, -8.0f, p.zeroPoint));
    for (int q = 0; q < 16; ++q) {
      float ref = dequantize(sc, p, q), fma = fmaDequantize(q, p.scale, b);
      mismatches += ref != fma;
      ASSERT_LE(std::fabs(ref - fma), foldTolerance(sc, p, q));
    }
  }
  EXPECT_GT(mismatches, 0);
}
