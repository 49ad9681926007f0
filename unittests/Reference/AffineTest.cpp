//===- AffineTest.cpp - INT-domain, symmetric and tinygemm numerics -------===//
//
// Expectations derived by hand from SEMANTICS.md sections 2, 3, 5 and 9 (each
// fp32 operation rounded once; the hex constants are those roundings).
//
//===----------------------------------------------------------------------===//

#include "squant/Reference/Affine.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

using namespace mlir::squant::ref;

namespace {

std::vector<int32_t> quantizeAll(const Scheme &sc, QParams p,
                                 const std::vector<float> &x) {
  std::vector<int32_t> q;
  for (float v : x)
    q.push_back(quantize(sc, p, v));
  return q;
}

} // namespace

TEST(Affine, AsymmetricSignedInt4) {
  // mn' = -1, mx' = 3: s = fl(4/15), zp = -8 - rint(fl(-1/s)) = -8 + 4.
  Scheme sc = Scheme::get(SchemeKind::Asymmetric, 4, true);
  std::vector<float> x = {-1.0f, 0.5f, 2.0f, 3.0f};
  QParams p = chooseQParams(sc, x.data(), x.size());
  EXPECT_EQ(p.scale, 0x1.111112p-2f);
  EXPECT_EQ(p.zeroPoint, -4.0f);
  EXPECT_EQ(quantizeAll(sc, p, x), (std::vector<int32_t>{-8, -2, 3, 7}));
  EXPECT_EQ(dequantize(sc, p, -8), -0x1.111112p+0f);
  EXPECT_EQ(dequantize(sc, p, 3), 0x1.dddde0p+0f);
  EXPECT_EQ(dequantize(sc, p, 7), 0x1.777778p+1f);
  // preserve_zero: q == zp gives +0 exactly.
  EXPECT_EQ(dequantize(sc, p, -4), 0.0f);
  EXPECT_FALSE(std::signbit(dequantize(sc, p, -4)));
}

TEST(Affine, AsymmetricUnsignedInt4) {
  Scheme sc = Scheme::get(SchemeKind::Asymmetric, 4, false);
  std::vector<float> x = {-1.0f, 0.5f, 2.0f, 3.0f};
  QParams p = chooseQParams(sc, x.data(), x.size());
  EXPECT_EQ(p.zeroPoint, 4.0f);
  EXPECT_EQ(quantizeAll(sc, p, x), (std::vector<int32_t>{0, 6, 11, 15}));
  EXPECT_EQ(dequantize(sc, p, 6), 0x1.111112p-1f);
}

TEST(Affine, AsymmetricNoPreserveZero) {
  // mn = 1, mx = 4 (zero not in the range): s = fl(3/15), zp clamped to 0.
  Scheme sc = Scheme::get(SchemeKind::AsymmetricNoPreserveZero, 4, false);
  std::vector<float> x = {1.0f, 2.0f, 3.0f, 4.0f};
  QParams p = chooseQParams(sc, x.data(), x.size());
  EXPECT_EQ(p.scale, 0x1.99999ap-3f);
  EXPECT_EQ(p.zeroPoint, 0.0f);
  EXPECT_EQ(quantizeAll(sc, p, x), (std::vector<int32_t>{5, 10, 15, 15}));
}

TEST(Affine, SymmetricSignedAndUnsigned) {
  std::vector<float> x = {-1.0f, 0.25f, 0.5f, 2.0f};
  Scheme sc = Scheme::get(SchemeKind::Symmetric, 4, true);
  QParams p = chooseQParams(sc, x.data(), x.size());
  EXPECT_EQ(p.scale, 0x1.111112p-2f); // fl(2 / 7.5)
  EXPECT_EQ(p.zeroPoint, 0.0f);
  EXPECT_EQ(quantizeAll(sc, p, x), (std::vector<int32_t>{-4, 1, 2, 7}));
  EXPECT_EQ(dequantize(sc, p, 7), 0x1.dddde0p+0f);

  Scheme usc = Scheme::get(SchemeKind::Symmetric, 4, false);
  QParams up = chooseQParams(usc, x.data(), x.size());
  EXPECT_EQ(up.scale, p.scale);
  EXPECT_EQ(up.zeroPoint, 8.0f); // (15 + 0 + 1) / 2
  EXPECT_EQ(quantizeAll(usc, up, x), (std::vector<int32_t>{4, 9, 10, 15}));
}

TEST(Affine, SymmetricNegativeExtremeTie) {
  // amax * fl(1/fl(amax/7.5)) is -7.5 exactly for this amax (q = -8) and
  // one ulp above it for the other (q = -7): section 3's tie.
  Scheme sc = Scheme::get(SchemeKind::Symmetric, 4, true);
  std::vector<float> a = {-0x1.072f14p+0f, 0.1f};
  QParams pa = chooseQParams(sc, a.data(), a.size());
  EXPECT_EQ(pa.scale, 0x1.18bac0p-3f);
  EXPECT_EQ(quantize(sc, pa, a[0]), -8);
  std::vector<float> b = {-0x1.4528dap+1f, 0.1f};
  QParams pb = chooseQParams(sc, b.data(), b.size());
  EXPECT_EQ(pb.scale, 0x1.5ad63ep-2f);
  EXPECT_EQ(quantize(sc, pb, b[0]), -7);
  // The positive extreme rounds to 8 and is clamped to qmax.
  std::vector<float> c = {0x1.072f14p+0f, -0.1f};
  QParams pc = chooseQParams(sc, c.data(), c.size());
  EXPECT_EQ(quantize(sc, pc, c[0]), 7);
}

TEST(Affine, SymmetricNoClippingErr) {
  Scheme sc = Scheme::get(SchemeKind::SymmetricNoClippingErr, 4, true);
  std::vector<float> x = {-1.0f, 2.0f};
  QParams p = chooseQParams(sc, x.data(), x.size());
  // max(fl(-1 / -8), fl(2 / 7)) = fl(2 / 7).
  EXPECT_EQ(p.scale, 0x1.24924ap-2f);
  EXPECT_EQ(p.zeroPoint, 0.0f);
}

TEST(Affine, ReciprocalNotDivision) {
  // fl(x * fl(1/s)) and fl(x / s) round to different codes here; the spec
  // multiplies by the reciprocal.
  Scheme sc = Scheme::get(SchemeKind::Symmetric, 4, true);
  QParams p = {0x1.ce091ap-1f, 0.0f}; // 0.9024131894111633
  float x = -0x1.776766p+2f;          // -5.865685939788818
  ASSERT_NE(std::nearbyint(x / p.scale), std::nearbyint(x * (1.0f / p.scale)));
  EXPECT_EQ(quantize(sc, p, x), static_cast<int32_t>(std::nearbyint(x * (1.0f / p.scale))));
  EXPECT_EQ(quantize(sc, p, x), -7);
}

TEST(Affine, FloatZeroPointTinygemm) {
  Scheme sc = Scheme::get(SchemeKind::FloatZeroPoint, 4, false);
  std::vector<float> x = {-0.3f, 0.1f, 0.7f, 1.2f};
  QParams p = chooseQParams(sc, x.data(), x.size());
  EXPECT_EQ(p.scale, 0x1.99999ap-4f); // fl(fl(1.5) / 15)
  EXPECT_EQ(p.zeroPoint, 0x1.0p-1f);  // fl(-0.3 + fl(s * 8))
  EXPECT_EQ(quantizeAll(sc, p, x), (std::vector<int32_t>{0, 4, 10, 15}));
  EXPECT_EQ(dequantize(sc, p, 0), -0x1.333334p-2f);
  EXPECT_EQ(dequantize(sc, p, 4), 0x1.999998p-4f);
  EXPECT_EQ(dequantize(sc, p, 10), 0x1.666666p-1f);
  EXPECT_EQ(dequantize(sc, p, 15), 0x1.333334p+0f);
}

TEST(Affine, BF16RoundsEveryOperation) {
  // tinygemm in bf16: fl(fl((q-8)*s) + zp) with both roundings to bf16
  // differs from one rounding of the exact value.
  Scheme sc = Scheme::get(SchemeKind::FloatZeroPoint, 4, false, FloatFormat::BF16);
  QParams p = {0x1.12p-3f, 0x1.9ap-1f};
  EXPECT_EQ(dequantize(sc, p, 3), 0x1.10p-3f);
  EXPECT_NE(dequantize(sc, p, 3), roundTo((3 - 8) * p.scale + p.zeroPoint, FloatFormat::BF16));
  // choose / quantize in bf16 on bf16 inputs.
  std::vector<float> x = {-0x1.34p-2f, 0x1.9ap-4f, 0x1.66p-1f, 0x1.34p+0f};
  QParams c = chooseQParams(sc, x.data(), x.size());
  EXPECT_EQ(c.scale, 0x1.9ap-4f);
  EXPECT_EQ(c.zeroPoint, 0x1.0p-1f);
  EXPECT_EQ(quantizeAll(sc, c, x), (std::vector<int32_t>{0, 4, 10, 15}));
  EXPECT_EQ(dequantize(sc, c, 4), 0x1.98p-4f);
}

TEST(Affine, AllZeroGroups) {
  std::vector<float> z(32, 0.0f);
  // Symmetric: s = eps, zp = 0, q = 0, w = 0.
  Scheme sym = Scheme::get(SchemeKind::Symmetric, 4, true);
  QParams ps = chooseQParams(sym, z.data(), z.size());
  EXPECT_EQ(ps.scale, 0x1p-126f);
  EXPECT_EQ(quantize(sym, ps, 0.0f), 0);
  EXPECT_EQ(dequantize(sym, ps, 0), 0.0f);
  // INT asymmetric: s = eps, zp = qmin, q = qmin, w = 0.
  Scheme asym = Scheme::get(SchemeKind::Asymmetric, 4, true);
  QParams pa = chooseQParams(asym, z.data(), z.size());
  EXPECT_EQ(pa.scale, 0x1p-126f);
  EXPECT_EQ(pa.zeroPoint, -8.0f);
  EXPECT_EQ(quantize(asym, pa, 0.0f), -8);
  EXPECT_EQ(dequantize(asym, pa, -8), 0.0f);
  // tinygemm: s = eps, zp = fl(0 + 8 eps), q = 0, w = 0.
  Scheme tg = Scheme::get(SchemeKind::FloatZeroPoint, 4, false);
  QParams pt = chooseQParams(tg, z.data(), z.size());
  EXPECT_EQ(pt.scale, 0x1p-126f);
  EXPECT_EQ(pt.zeroPoint, 0x1p-123f);
  EXPECT_EQ(quantize(tg, pt, 0.0f), 0);
  EXPECT_EQ(dequantize(tg, pt, 0), 0.0f);
}

TEST(Affine, ConstantGroupTinygemm) {
  Scheme tg = Scheme::get(SchemeKind::FloatZeroPoint, 4, false);
  std::vector<float> c(16, 0.75f);
  QParams p = chooseQParams(tg, c.data(), c.size());
  EXPECT_EQ(p.scale, 0x1p-126f);
  EXPECT_EQ(p.zeroPoint, 0.75f);
  EXPECT_EQ(quantize(tg, p, 0.75f), 0);
  EXPECT_EQ(dequantize(tg, p, 0), 0.75f);
}

TEST(Affine, OverflowingRange) {
  // mx - mn overflows: s = inf, q = zp, and (q - zp) * inf is NaN (section 9).
  Scheme asym = Scheme::get(SchemeKind::Asymmetric, 8, true);
  std::vector<float> x = {-3e38f, 3e38f};
  QParams p = chooseQParams(asym, x.data(), x.size());
  EXPECT_TRUE(std::isinf(p.scale));
  EXPECT_EQ(quantize(asym, p, 3e38f), static_cast<int32_t>(p.zeroPoint));
  EXPECT_TRUE(std::isnan(dequantize(asym, p, quantize(asym, p, 3e38f))));
  // Symmetric stays finite: amax / 127.5.
  Scheme sym = Scheme::get(SchemeKind::Symmetric, 8, true);
  QParams ps = chooseQParams(sym, x.data(), x.size());
  EXPECT_TRUE(std::isfinite(ps.scale));
  EXPECT_TRUE(std::isfinite(dequantize(sym, ps, quantize(sym, ps, 3e38f))));
}

TEST(Affine, SubnormalScale) {
  // A subnormal scale is legal with a small eps; dequantize is one rounding.
  Scheme sym = Scheme::get(SchemeKind::Symmetric, 4, true);
  sym.eps = 0x1p-149f;
  std::vector<float> x = {0x1p-130f, -0x1p-131f};
  QParams p = chooseQParams(sym, x.data(), x.size());
  EXPECT_LT(p.scale, 0x1p-126f);
  EXPECT_GT(p.scale, 0.0f);
  EXPECT_EQ(dequantize(sym, p, 3), 3.0f * p.scale);
}

TEST(Affine, NaNPropagatesWithoutUB) {
  Scheme asym = Scheme::get(SchemeKind::Asymmetric, 4, true);
  std::vector<float> x = {1.0f, NAN, 2.0f};
  QParams p = chooseQParams(asym, x.data(), x.size());
  EXPECT_TRUE(std::isnan(p.scale));
  EXPECT_FALSE(allFinite(x));
  // No defined value, but a value in range and no crash.
  int32_t q = quantize(asym, p, 1.0f);
  EXPECT_GE(q, -8);
  EXPECT_LE(q, 7);
}

TEST(Affine, BitWidthsOneToEight) {
  // Every bit width, both signednesses, symmetric and asymmetric: codes stay
  // in range, the group extremes land on qmin/qmax, and dequantize(quantize)
  // is within half a step.
  std::vector<float> x;
  for (int i = 0; i < 64; ++i)
    x.push_back(std::sin(0.37f * i) * 3.0f);
  for (unsigned bits = 1; bits <= 8; ++bits)
    for (bool isSigned : {true, false})
      for (SchemeKind kind : {SchemeKind::Asymmetric, SchemeKind::Symmetric}) {
        Scheme sc = Scheme::get(kind, bits, isSigned);
        QParams p = chooseQParams(sc, x.data(), x.size());
        for (float v : x) {
          int32_t q = quantize(sc, p, v);
          ASSERT_GE(q, sc.qmin);
          ASSERT_LE(q, sc.qmax);
          if (kind == SchemeKind::Asymmetric)
            ASSERT_LE(std::fabs(dequantize(sc, p, q) - v), 0.5f * p.scale * 1.0001f)
                << "bits " << bits << " signed " << isSigned;
        }
      }
}

TEST(Affine, TensorGrouping) {
  // [2, 4] per group of 2 along axis 1: parameters [2, 2], row-major.
  Grouping g{{2, 4}, 1, 2};
  EXPECT_EQ(g.paramShape(), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(g.paramIndices(), (std::vector<int64_t>{0, 0, 1, 1, 2, 2, 3, 3}));
  // Per axis 0: one parameter per row.
  Grouping rows{{2, 4}, 0, 0};
  EXPECT_EQ(rows.paramIndices(), (std::vector<int64_t>{0, 0, 0, 0, 1, 1, 1, 1}));
  // Per group along axis 0 of [4, 2] with group 2.
  Grouping cols{{4, 2}, 0, 2};
  EXPECT_EQ(cols.paramShape(), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(cols.paramIndices(), (std::vector<int64_t>{0, 1, 0, 1, 2, 3, 2, 3}));
  Grouping whole{{3}, -1, 0};
  EXPECT_EQ(whole.numParams(), 1);

  Scheme sc = Scheme::get(SchemeKind::Asymmetric, 4, true);
  std::vector<float> x = {-1.0f, 3.0f, 0.0f, 0.0f, 1.0f, 2.0f, -4.0f, 4.0f};
  TensorQParams p = chooseQParams(sc, g, x);
  ASSERT_EQ(p.scales.size(), 4u);
  EXPECT_EQ(p.scales[1], 0x1p-126f); // the all-zero group
  std::vector<int32_t> q = quantize(sc, g, x, p);
  std::vector<float> w = dequantize(sc, g, q, p);
  EXPECT_EQ(w[2], 0.0f);
  EXPECT_EQ(q[0], quantize(sc, {p.scales[0], p.zeroPoints[0]}, x[0]));
}

TEST(Affine, AsymmetricBF16) {
  // Each op rounds to bf16: s = bf16(4 / 15), r = bf16(1 / s).
  Scheme sc = Scheme::get(SchemeKind::Asymmetric, 4, true, FloatFormat::BF16);
  std::vector<float> x = {-1.0f, 0.5f, 2.0f, 3.0f};
  QParams p = chooseQParams(sc, x.data(), x.size());
  EXPECT_EQ(p.scale, 0x1.12p-2f);
  EXPECT_EQ(p.zeroPoint, -4.0f);
  EXPECT_EQ(quantizeAll(sc, p, x), (std::vector<int32_t>{-8, -2, 3, 7}));
  EXPECT_EQ(dequantize(sc, p, 3), 0x1.e0p+0f);
  EXPECT_EQ(dequantize(sc, p, 7), 0x1.78p+1f);
}

TEST(Affine, SymmetricConstantGroup) {
  // c / fl(c / 7.5) lands one ulp below the 7.5 tie: c -> 7, -c -> -7.
  Scheme sc = Scheme::get(SchemeKind::Symmetric, 4, true);
  std::vector<float> c(8, 1.0f);
  QParams p = chooseQParams(sc, c.data(), c.size());
  EXPECT_EQ(p.scale, 0x1.111112p-3f);
  EXPECT_EQ(quantize(sc, p, 1.0f), 7);
  EXPECT_EQ(quantize(sc, p, -1.0f), -7);
}

TEST(Affine, QuantizeGroupsMatchesPerElement) {
  // The whole-weight path (vectorized for contiguous f32 groups, strided for
  // groups along a leading axis) gives the same codes and parameters as
  // chooseQParams + quantize, for every scheme, width, format and layout.
  std::vector<float> x(6 * 64);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = std::sin(0.61f * i) * (1.0f + (i % 7)) + ((i % 29) == 0 ? 40.0f : 0.0f);
  for (SchemeKind kind : {SchemeKind::Asymmetric, SchemeKind::AsymmetricNoPreserveZero,
                          SchemeKind::Symmetric, SchemeKind::SymmetricNoClippingErr,
                          SchemeKind::Stretched, SchemeKind::FloatZeroPoint})
    for (unsigned bits : {1u, 2u, 3u, 4u, 5u, 6u, 8u})
      for (FloatFormat format : {FloatFormat::F32, FloatFormat::BF16})
        for (bool alongRows : {false, true}) {
          bool isSigned = kind != SchemeKind::FloatZeroPoint;
          Scheme sc = Scheme::get(kind, bits, isSigned, format);
          std::vector<float> in = x;
          for (float &v : in)
            v = roundTo(v, format);
          // [6, 64] with groups of 32 along axis 1, or [64, 6] along axis 0.
          Grouping g = alongRows ? Grouping{{64, 6}, 0, 32} : Grouping{{6, 64}, 1, 32};
          TensorQParams ref = chooseQParams(sc, g, in);
          std::vector<int32_t> q = quantize(sc, g, in, ref);
          std::vector<int8_t> codes(in.size());
          std::vector<float> scales(ref.scales.size()), zps(ref.scales.size());
          if (alongRows)
            quantizeGroups(sc, in.data(), 1, 64, 6, 32, codes.data(), scales.data(), zps.data());
          else
            quantizeGroups(sc, in.data(), 6, 64, 1, 32, codes.data(), scales.data(), zps.data());
          for (size_t i = 0; i < in.size(); ++i)
            ASSERT_EQ(codes[i], static_cast<int8_t>(q[i])) << int(kind) << " bits " << bits << " at " << i;
          for (size_t i = 0; i < scales.size(); ++i) {
            ASSERT_EQ(bitsFromFloat(scales[i]), bitsFromFloat(ref.scales[i]));
            ASSERT_EQ(bitsFromFloat(zps[i]), bitsFromFloat(ref.zeroPoints[i]));
          }
        }
}
