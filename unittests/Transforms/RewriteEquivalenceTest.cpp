//===- RewriteEquivalenceTest.cpp - The rewrites keep the semantics -------===//
//
// For every scheme, bit width 1-8, group size 32/64/128 and per-channel,
// on N = 13 rows (not a multiple of 8 or 16): build IR with constant codes
// and parameters, run a rewrite, evaluate the result by folding (or, for a
// fused matmul, with the qmatmul evaluator below) and compare with the
// reference semantics of the original IR: bit for bit where the spec says
// exact (D6, D9), within 2 ulp(M) per weight (D7) otherwise.
//
//===----------------------------------------------------------------------===//

#include "squant/Dialect/SQuant/IR/ConstantValues.h"
#include "squant/Dialect/SQuant/IR/SQuant.h"
#include "squant/Dialect/SQuant/Transforms/Passes.h"
#include "squant/Reference/Lut.h"
#include "squant/Reference/Matmul.h"
#include "squant/Reference/OneFma.h"

#include "QMatmulWeight.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace mlir;
using namespace mlir::squant;
using mlir::squant::testing::qmatmulWeight;

namespace {

/// One quantized weight [N, K] with its codes and parameters.
struct Case {
  SchemeKind kind;
  unsigned bits;
  Storage storage;
  int64_t n, k, group; // group == k: per channel (axis 0)
  bool sharedZeroPoint = false;
};

std::string describe(const Case &c) {
  return std::string(stringifySchemeKind(c.kind)) + " bits=" +
         std::to_string(c.bits) + " " + stringifyStorage(c.storage).str() +
         " K=" + std::to_string(c.k) + " g=" + std::to_string(c.group);
}

class RewriteEquivalence : public ::testing::Test {
protected:
  RewriteEquivalence() {
    DialectRegistry registry;
    registry.insert<SQuantDialect, arith::ArithDialect, func::FuncDialect,
                    linalg::LinalgDialect, tensor::TensorDialect,
                    math::MathDialect>();
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
  }

  AffineSchemeAttr schemeFor(const Case &c) {
    bool perChannel = c.group == c.k;
    return AffineSchemeAttr::get(
        &context, c.kind, c.bits, c.storage, perChannel ? 0 : 1,
        perChannel ? std::nullopt : std::optional<int64_t>(c.group),
        std::nullopt, std::nullopt, FloatAttr());
  }

  /// Random weights quantized with the reference: codes and parameters.
  struct Data {
    std::vector<int32_t> codes;
    ref::TensorQParams params;
    std::vector<int64_t> paramShape;
  };
  Data quantizeRandom(const Case &c, AffineSchemeAttr scheme, unsigned seed,
                      float mean = 0.0f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(mean, 1.0f);
    std::vector<float> w(c.n * c.k);
    for (float &v : w)
      v = dist(rng);
    ref::Scheme sc = scheme.toReference(ref::FloatFormat::F32);
    ref::Grouping grouping = scheme.getGrouping({c.n, c.k});
    Data d;
    d.params = ref::chooseQParams(sc, grouping, w);
    if (c.sharedZeroPoint)
      for (float &zp : d.params.zeroPoints)
        zp = d.params.zeroPoints.front();
    d.codes = ref::quantize(sc, grouping, w, d.params);
    d.paramShape = grouping.paramShape();
    return d;
  }

  /// Builds func @f(%x: tensor<MxK>) { %w = dequantize(consts); then either
  /// return %w or return matmul(x, w) }.
  OwningOpRef<ModuleOp> build(const Case &c, AffineSchemeAttr scheme,
                              const Data &d, int64_t m, bool withMatmul,
                              bool transposed) {
    OpBuilder b(&context);
    Location loc = b.getUnknownLoc();
    auto module = ModuleOp::create(b, loc);
    b.setInsertionPointToEnd(module.getBody());
    auto f32 = b.getF32Type();
    auto xType = RankedTensorType::get({m, c.k}, f32);
    SmallVector<int64_t> wShape = transposed ? SmallVector<int64_t>{c.k, c.n}
                                             : SmallVector<int64_t>{c.n, c.k};
    auto wType = RankedTensorType::get(wShape, f32);
    auto yType = RankedTensorType::get({m, c.n}, f32);
    auto fn = func::FuncOp::create(
        b, loc, "f",
        b.getFunctionType({xType}, {withMatmul ? Type(yType) : Type(wType)}));
    b.setInsertionPointToStart(fn.addEntryBlock());

    // Transposed weights store codes [K, N] and parameters [K/g, N].
    std::vector<int32_t> codes = d.codes;
    std::vector<float> scales = d.params.scales, zps = d.params.zeroPoints;
    SmallVector<int64_t> pShape(d.paramShape.begin(), d.paramShape.end());
    AffineSchemeAttr s = scheme;
    if (transposed) {
      for (int64_t i = 0; i < c.n; ++i)
        for (int64_t j = 0; j < c.k; ++j)
          codes[j * c.n + i] = d.codes[i * c.k + j];
      int64_t groups = c.k / c.group;
      if (pShape.size() == 2) {
        for (int64_t i = 0; i < c.n; ++i)
          for (int64_t j = 0; j < groups; ++j) {
            scales[j * c.n + i] = d.params.scales[i * groups + j];
            zps[j * c.n + i] = d.params.zeroPoints[i * groups + j];
          }
        pShape = {groups, c.n};
      }
      s = AffineSchemeAttr::get(&context, c.kind, c.bits, c.storage,
                                pShape.size() == 2 ? 0 : 1, s.getGroupSize(),
                                std::nullopt, std::nullopt, FloatAttr());
    }
    auto codeType = RankedTensorType::get(wShape, b.getI8Type());
    Value q = arith::ConstantOp::create(b, loc, codeType, makeInts(codeType, codes));
    auto pType = RankedTensorType::get(pShape, f32);
    Value sv = arith::ConstantOp::create(b, loc, pType, makeFloats(pType, scales));
    Value zv;
    if (s.hasZeroPointOperand()) {
      if (s.hasIntZeroPoint()) {
        auto zType = RankedTensorType::get(pShape, b.getI8Type());
        zv = arith::ConstantOp::create(
            b, loc, zType, makeInts(zType, std::vector<int32_t>(zps.begin(), zps.end())));
      } else {
        zv = arith::ConstantOp::create(b, loc, pType, makeFloats(pType, zps));
      }
    }
    Value w = DequantizeOp::create(b, loc, wType, q, sv, zv, s);
    if (!withMatmul) {
      func::ReturnOp::create(b, loc, w);
      return module;
    }
    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
    Value empty = tensor::EmptyOp::create(b, loc, yType.getShape(), f32);
    Value init = linalg::FillOp::create(b, loc, zero, empty).getResult(0);
    Value x = fn.getArgument(0);
    Value y;
    if (transposed) {
      y = linalg::MatmulOp::create(b, loc, TypeRange{yType}, ValueRange{x, w},
                                   ValueRange{init})
              .getResult(0);
    } else {
      AffineExpr mm, nn, kk;
      bindDims(&context, mm, nn, kk);
      auto maps = b.getAffineMapArrayAttr(
          {AffineMap::get(3, 0, {mm, kk}, &context),
           AffineMap::get(3, 0, {nn, kk}, &context),
           AffineMap::get(3, 0, {mm, nn}, &context)});
      auto mmOp = linalg::MatmulOp::create(b, loc, TypeRange{yType},
                                           ValueRange{x, w}, ValueRange{init});
      mmOp->setAttr("indexing_maps", maps);
      y = mmOp.getResult(0);
    }
    func::ReturnOp::create(b, loc, y);
    return module;
  }

  /// Runs `pass`, checks that it rewrote every squant.dequantize into
  /// `ExpectedOp` (when `mustRewrite`), then folds what is left.
  template <typename ExpectedOp>
  void rewriteAndFold(ModuleOp module, std::unique_ptr<Pass> pass,
                      bool mustRewrite = true) {
    PassManager pm(&context);
    pm.addPass(std::move(pass));
    ASSERT_TRUE(succeeded(pm.run(module)));
    int remaining = 0, rewritten = 0;
    module->walk([&](DequantizeOp) { ++remaining; });
    module->walk([&](ExpectedOp) { ++rewritten; });
    if (mustRewrite) {
      ASSERT_EQ(remaining, 0) << "the rewrite did not fire";
      ASSERT_GT(rewritten, 0);
    }
    PassManager fold(&context);
    fold.addPass(createCanonicalizerPass());
    ASSERT_TRUE(succeeded(fold.run(module)));
  }

  /// The returned value of @f, which must be a folded constant.
  std::vector<float> returnedConstant(ModuleOp module) {
    auto fn = cast<func::FuncOp>(module.getBody()->front());
    auto ret = cast<func::ReturnOp>(fn.getBody().front().getTerminator());
    Attribute attr;
    EXPECT_TRUE(matchPattern(ret.getOperand(0), m_Constant(&attr)))
        << "the rewritten dequantization did not fold";
    return readFloats(attr).value_or(std::vector<float>());
  }

  MLIRContext context;
};

std::vector<Case> exactCases() {
  std::vector<Case> cases;
  for (unsigned bits = 1; bits <= 8; ++bits)
    for (int64_t g : {32, 64, 128}) {
      cases.push_back({SchemeKind::Stretched, bits, Storage::Signed, 13, 3 * g, g});
      cases.push_back({SchemeKind::Symmetric, bits, Storage::Signed, 13, 3 * g, g});
      cases.push_back({SchemeKind::Symmetric, bits, Storage::Unsigned, 13, 3 * g, g});
    }
  // Per channel, K not a multiple of 8.
  cases.push_back({SchemeKind::Stretched, 2, Storage::Signed, 13, 100, 100});
  cases.push_back({SchemeKind::Symmetric, 4, Storage::Signed, 13, 100, 100});
  return cases;
}

std::vector<float> referenceDequantize(const Case &c, AffineSchemeAttr scheme,
                                       const std::vector<int32_t> &codes,
                                       const ref::TensorQParams &params) {
  return ref::dequantize(scheme.toReference(ref::FloatFormat::F32),
                         scheme.getGrouping({c.n, c.k}), codes, params);
}

} // namespace

TEST_F(RewriteEquivalence, FoldZeroPointsIsExact) {
  for (const Case &c : exactCases()) {
    AffineSchemeAttr scheme = schemeFor(c);
    Data d = quantizeRandom(c, scheme, 1);
    OwningOpRef<ModuleOp> module = build(c, scheme, d, 1, false, false);
    rewriteAndFold<FmaDequantizeOp>(*module, createSQuantFoldZeroPoints());
    std::vector<float> after = returnedConstant(*module);
    std::vector<float> before = referenceDequantize(c, scheme, d.codes, d.params);
    ASSERT_EQ(after.size(), before.size()) << describe(c);
    for (size_t i = 0; i < before.size(); ++i)
      ASSERT_EQ(ref::bitsFromFloat(after[i]), ref::bitsFromFloat(before[i]))
          << describe(c) << " at " << i;
  }
}

TEST_F(RewriteEquivalence, FoldZeroPointsInexactWithinD7) {
  for (unsigned bits : {2u, 3u, 4u, 8u})
    for (SchemeKind kind : {SchemeKind::Asymmetric, SchemeKind::FloatZeroPoint}) {
      Case c{kind, bits,
             kind == SchemeKind::FloatZeroPoint ? Storage::Unsigned : Storage::Signed,
             13, 192, 64};
      AffineSchemeAttr scheme = schemeFor(c);
      // Off-centre weights give zero points far from 0, where -zp*s rounds.
      Data d = quantizeRandom(c, scheme, 2, 1.5f);
      OwningOpRef<ModuleOp> module = build(c, scheme, d, 1, false, false);
      SQuantFoldZeroPointsOptions options;
      options.allowInexact = true;
      rewriteAndFold<FmaDequantizeOp>(*module, createSQuantFoldZeroPoints(options));
      std::vector<float> after = returnedConstant(*module);
      std::vector<float> before = referenceDequantize(c, scheme, d.codes, d.params);
      ref::Scheme sc = scheme.toReference(ref::FloatFormat::F32);
      std::vector<int64_t> idx = scheme.getGrouping({c.n, c.k}).paramIndices();
      int differing = 0;
      for (size_t i = 0; i < before.size(); ++i) {
        differing += after[i] != before[i];
        ref::QParams p{d.params.scales[idx[i]], d.params.zeroPoints[idx[i]]};
        ASSERT_LE(std::fabs(after[i] - before[i]),
                  ref::foldTolerance(sc, p, d.codes[i]))
            << describe(c) << " at " << i;
      }
      // The fold is really inexact: some weights move (section 7).
      if (bits >= 4)
        EXPECT_GT(differing, 0) << describe(c);
    }
}

TEST_F(RewriteEquivalence, ToLutIsExact) {
  int converted = 0;
  for (Case c : exactCases()) {
    // Stretched 8-bit has no int8 table (the pass leaves it, with a remark).
    AffineSchemeAttr scheme = schemeFor(c);
    Data d = quantizeRandom(c, scheme, 3);
    OwningOpRef<ModuleOp> module = build(c, scheme, d, 1, false, false);
    context.getDiagEngine().registerHandler([](Diagnostic &) { return success(); });
    bool representable = !(c.kind == SchemeKind::Stretched && c.bits == 8);
    rewriteAndFold<LutDequantizeOp>(*module, createSQuantToLut(), representable);
    converted += representable;
    std::vector<float> after = returnedConstant(*module);
    std::vector<float> before = referenceDequantize(c, scheme, d.codes, d.params);
    for (size_t i = 0; i < before.size(); ++i)
      ASSERT_EQ(ref::bitsFromFloat(after[i]), ref::bitsFromFloat(before[i]))
          << describe(c) << " at " << i;
  }
  EXPECT_GT(converted, 60);
}

TEST_F(RewriteEquivalence, FloatLutIsExactForTinygemmAndPerGroupZeroPoints) {
  for (unsigned bits = 1; bits <= 8; ++bits)
    for (SchemeKind kind : {SchemeKind::FloatZeroPoint, SchemeKind::Asymmetric}) {
      Case c{kind, bits, Storage::Unsigned, 13, 128, 32};
      AffineSchemeAttr scheme = schemeFor(c);
      Data d = quantizeRandom(c, scheme, 4);
      OwningOpRef<ModuleOp> module = build(c, scheme, d, 1, false, false);
      context.getDiagEngine().registerHandler([](Diagnostic &) { return success(); });
      SQuantToLutOptions options;
      options.floatLut = true;
      rewriteAndFold<LutDequantizeOp>(*module, createSQuantToLut(options));
      std::vector<float> after = returnedConstant(*module);
      std::vector<float> before = referenceDequantize(c, scheme, d.codes, d.params);
      for (size_t i = 0; i < before.size(); ++i)
        ASSERT_EQ(ref::bitsFromFloat(after[i]), ref::bitsFromFloat(before[i]))
            << describe(c) << " at " << i;
    }
}

TEST_F(RewriteEquivalence, FusedMatmulWithinD7AndD8) {
  std::mt19937 rng(9);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  int fused = 0;
  for (bool lutFirst : {false, true})
    for (bool transposed : {false, true})
      for (SchemeKind kind : {SchemeKind::Stretched, SchemeKind::Symmetric,
                              SchemeKind::Asymmetric, SchemeKind::FloatZeroPoint})
        for (unsigned bits : {1u, 2u, 3u, 4u, 8u})
          for (int64_t g : {32, 64, 128, 0}) {
            if (lutFirst && (kind == SchemeKind::Asymmetric ||
                             kind == SchemeKind::FloatZeroPoint))
              continue;
            Storage storage = kind == SchemeKind::FloatZeroPoint
                                  ? Storage::Unsigned
                                  : Storage::Signed;
            int64_t k = g == 0 ? 100 : 2 * g;
            Case c{kind, bits, storage, 13, k, g == 0 ? k : g};
            AffineSchemeAttr scheme = schemeFor(c);
            Data d = quantizeRandom(c, scheme, 10 + bits, 0.5f);
            const int64_t m = 3;
            OwningOpRef<ModuleOp> module = build(c, scheme, d, m, true, transposed);
            context.getDiagEngine().registerHandler(
                [](Diagnostic &) { return success(); });
            PassManager pm(&context);
            if (lutFirst)
              pm.addPass(createSQuantToLut());
            pm.addPass(createSQuantFuseDequantMatmul());
            pm.addPass(createCanonicalizerPass());
            ASSERT_TRUE(succeeded(pm.run(*module))) << describe(c);
            QMatmulOp qmm;
            module->walk([&](QMatmulOp op) { qmm = op; });
            ASSERT_TRUE(qmm) << "not fused: " << describe(c);
            bool lutForm = isa<LutSchemeAttr>(qmm.getForm());
            bool lutExpected = lutFirst && !(kind == SchemeKind::Stretched && bits == 8);
            EXPECT_EQ(lutForm, lutExpected) << describe(c);
            ++fused;

            std::vector<float> w = qmatmulWeight(qmm);
            std::vector<float> wRef = referenceDequantize(c, scheme, d.codes, d.params);
            std::vector<float> x(m * k);
            for (float &v : x)
              v = dist(rng);
            std::vector<double> bound;
            std::vector<double> y = ref::matmulF64(x, w, m, c.n, k, nullptr);
            std::vector<double> yRef = ref::matmulF64(x, wRef, m, c.n, k, &bound);
            // D7: each weight within 2 ulp(M) for the inexact folds, exact
            // otherwise; D8 covers the accumulation.
            ref::Scheme sc = scheme.toReference(ref::FloatFormat::F32);
            std::vector<int64_t> pi = scheme.getGrouping({c.n, k}).paramIndices();
            bool exactForm = kind == SchemeKind::Stretched || kind == SchemeKind::Symmetric;
            for (int64_t i = 0; i < m; ++i)
              for (int64_t j = 0; j < c.n; ++j) {
                double tol = bound[i * c.n + j];
                for (int64_t kk = 0; kk < k; ++kk) {
                  int64_t e = j * k + kk;
                  if (exactForm)
                    ASSERT_EQ(w[e], wRef[e]) << describe(c) << " weight " << e;
                  else
                    tol += std::fabs(x[i * k + kk]) *
                           ref::foldTolerance(sc, {d.params.scales[pi[e]],
                                                   d.params.zeroPoints[pi[e]]},
                                              d.codes[e]);
                }
                ASSERT_LE(std::fabs(y[i * c.n + j] - yRef[i * c.n + j]), tol)
                    << describe(c) << " output " << i << "," << j;
              }
          }
  EXPECT_GT(fused, 100);
}
