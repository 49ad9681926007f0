//===- VectorLoweringTest.cpp - Lowered code against the reference --------===//
//
// Executes the output of squant-lower-to-llvm-cpu (convert-squant-to-vector)
// in process with MLIR's ExecutionEngine and compares it with the reference
// library:
//  - fused matmuls for every scheme x bits {1,2,3,4,5,6,8} x group
//    {32, 64, 128, per channel with K = 100} x M {1, 3, 32}, N = 13, in the
//    fma form and (where squant-to-lut applies) the lut form, with codes
//    unpacked and packed: within D7 + D8 of the fp64 product of the
//    reference weights;
//  - dequantize, quantize and pack/unpack on run-time operands: bit for bit.
// Random inputs come from fixed seeds.
//
//===----------------------------------------------------------------------===//

#include "squant/Dialect/SQuant/IR/ConstantValues.h"
#include "squant/Dialect/SQuant/IR/SQuant.h"
#include "squant/Dialect/SQuant/Transforms/Passes.h"
#include "squant/Execution/Jit.h"
#include "squant/InitAll.h"
#include "squant/Reference/Matmul.h"
#include "squant/Reference/OneFma.h"
#include "squant/Reference/Pack.h"

#include "QMatmulWeight.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/Matchers.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Transforms/Passes.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <random>

using namespace mlir;
using namespace mlir::squant;
using mlir::squant::testing::qmatmulWeight;

namespace {

template <int Rank>
struct MemRef {
  float *allocated = nullptr, *aligned = nullptr;
  int64_t offset = 0;
  int64_t sizes[Rank] = {};
  int64_t strides[Rank] = {};
};

template <typename T, int Rank>
struct MemRefOf {
  T *allocated = nullptr, *aligned = nullptr;
  int64_t offset = 0;
  int64_t sizes[Rank] = {};
  int64_t strides[Rank] = {};
};

template <typename T>
MemRefOf<T, 2> view2d(std::vector<T> &data, int64_t rows, int64_t cols) {
  MemRefOf<T, 2> d;
  d.allocated = d.aligned = data.data();
  d.sizes[0] = rows;
  d.sizes[1] = cols;
  d.strides[0] = cols;
  d.strides[1] = 1;
  return d;
}

struct Case {
  SchemeKind kind;
  Storage storage;
  unsigned bits;
};

std::string describe(const Case &c, int64_t g, int64_t m, bool lut, bool packed) {
  return std::string(stringifySchemeKind(c.kind)) + " " +
         stringifyStorage(c.storage).str() + " bits=" + std::to_string(c.bits) +
         " g=" + std::to_string(g) + " M=" + std::to_string(m) +
         (lut ? " lut" : " fma") + (packed ? " packed" : "");
}

class VectorLowering : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    initializeNativeTarget();
    mlir::registerAllPasses();
    squant::registerAllPasses();
  }

  VectorLowering() {
    DialectRegistry registry;
    mlir::registerAllDialects(registry);
    mlir::registerAllExtensions(registry);
    mlir::registerAllToLLVMIRTranslations(registry);
    squant::registerAllDialects(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
    context.getDiagEngine().registerHandler([](Diagnostic &d) {
      if (d.getSeverity() == DiagnosticSeverity::Error)
        ADD_FAILURE() << d.str();
      return success();
    });
  }

  /// Lowers `module` with squant-lower-to-llvm-cpu{options} and JITs it.
  squant::JitEngine compile(ModuleOp module, StringRef options) {
    PassManager pm(&context);
    std::string pipeline = ("squant-lower-to-llvm-cpu{" + options + "}").str();
    if (failed(parsePassPipeline(pipeline, pm)) || failed(pm.run(module))) {
      ADD_FAILURE() << "lowering failed: " << pipeline;
      return nullptr;
    }
    auto engine = createJit(module, /*optLevel=*/2);
    if (!engine) {
      ADD_FAILURE() << llvm::toString(engine.takeError());
      return nullptr;
    }
    return std::move(*engine);
  }

  template <typename Fn>
  Fn lookup(ExecutionEngine &engine, StringRef name) {
    auto sym = engine.lookup(("_mlir_ciface_" + name).str());
    if (!sym) {
      ADD_FAILURE() << llvm::toString(sym.takeError());
      return nullptr;
    }
    return reinterpret_cast<Fn>(*sym);
  }

  AffineSchemeAttr schemeFor(const Case &c, int64_t g) {
    bool perChannel = g == 0;
    return AffineSchemeAttr::get(&context, c.kind, c.bits, c.storage,
                                 perChannel ? 0 : 1,
                                 perChannel ? std::nullopt : std::optional<int64_t>(g),
                                 std::nullopt, std::nullopt, FloatAttr());
  }

  MLIRContext context;
};

/// A fused-matmul case: the reference weights and the function computing
/// x · w^T through squant.qmatmul.
struct MatmulCase {
  std::string name;
  int64_t m, n, k;
  std::vector<float> x;
  std::vector<double> expected, tolerance;
  std::string what;
};

} // namespace

namespace {

/// Every bit width, group size, M, form and packing of one scheme.
class FusedMatmul : public VectorLowering {
protected:
  void runScheme(Case c);
};

void FusedMatmul::runScheme(Case c) {
  const int64_t n = 13;
  int checked = 0, lutForms = 0, packedForms = 0;
  for (unsigned bits : {1u, 2u, 3u, 4u, 5u, 6u, 8u})
      for (bool lut : {false, true}) {
        c.bits = bits;
        if (c.kind == SchemeKind::SymmetricNoClippingErr && bits == 1)
          continue; // qmax = 0: no scale (section 3)
        OpBuilder b(&context);
        Location loc = b.getUnknownLoc();
        OwningOpRef<ModuleOp> module = ModuleOp::create(b, loc);
        std::vector<MatmulCase> cases;
        std::mt19937 rng(1000 * bits + 10 * static_cast<unsigned>(c.kind) + lut);
        std::normal_distribution<float> dist(0.25f, 1.0f);
        // K spans several of the outer-product path's 256-column chunks
        // at M = 32: g = 32 with K = 288 (a chunk of 8 groups, then one
        // group), g = 512 with K = 1024 (chunks inside groups).
        // M = 40 (g = 128 only): two slices of activation rows on the
        // outer-product path, the second one vector wide.
        for (int64_t g : {32, 64, 128, 512, 0})
          for (int64_t m : {1, 3, 32, 40})
            for (bool packed : {false, true}) {
              if ((g == 512 && m != 32) || (m == 40 && g != 128))
                continue;
              int64_t k = g == 0 ? 100 : g == 32 ? 9 * g : 2 * g;
              AffineSchemeAttr scheme = schemeFor(c, g == 0 ? 0 : g);
              if (g == 0)
                scheme = AffineSchemeAttr::get(&context, c.kind, bits, c.storage, 0,
                                               std::nullopt, std::nullopt,
                                               std::nullopt, FloatAttr());
              // Reference quantization of random weights.
              std::vector<float> wf(n * k);
              for (float &v : wf)
                v = dist(rng);
              ref::Scheme sc = scheme.toReference(ref::FloatFormat::F32);
              ref::Grouping grouping = scheme.getGrouping({n, k});
              ref::TensorQParams params = ref::chooseQParams(sc, grouping, wf);
              std::vector<int32_t> codes = ref::quantize(sc, grouping, wf, params);
              std::vector<float> wRef = ref::dequantize(sc, grouping, codes, params);

              // func @f(x) = matmul(x, dequantize(consts)^T), fused.
              OpBuilder fb(&context);
              OwningOpRef<ModuleOp> one = ModuleOp::create(fb, loc);
              fb.setInsertionPointToEnd(one->getBody());
              auto f32 = fb.getF32Type();
              auto xType = RankedTensorType::get({m, k}, f32);
              auto yType = RankedTensorType::get({m, n}, f32);
              auto wType = RankedTensorType::get({n, k}, f32);
              std::string name = "f" + std::to_string(cases.size());
              auto fn = func::FuncOp::create(fb, loc, name,
                                             fb.getFunctionType({xType}, {yType}));
              fn->setAttr("llvm.emit_c_interface", fb.getUnitAttr());
              fb.setInsertionPointToStart(fn.addEntryBlock());
              auto codeType = RankedTensorType::get({n, k}, fb.getI8Type());
              Value q = arith::ConstantOp::create(fb, loc, codeType, makeInts(codeType, codes));
              std::vector<int64_t> ps = grouping.paramShape();
              auto pType = RankedTensorType::get(SmallVector<int64_t>(ps.begin(), ps.end()), f32);
              Value sv = arith::ConstantOp::create(fb, loc, pType, makeFloats(pType, params.scales));
              Value zv;
              if (scheme.hasZeroPointOperand()) {
                if (scheme.hasIntZeroPoint()) {
                  auto zType = RankedTensorType::get(pType.getShape(), fb.getI8Type());
                  zv = arith::ConstantOp::create(
                      fb, loc, zType,
                      makeInts(zType, std::vector<int32_t>(params.zeroPoints.begin(),
                                                           params.zeroPoints.end())));
                } else {
                  zv = arith::ConstantOp::create(fb, loc, pType,
                                                 makeFloats(pType, params.zeroPoints));
                }
              }
              Value w = DequantizeOp::create(fb, loc, wType, q, sv, zv, scheme);
              Value zero = arith::ConstantOp::create(fb, loc, fb.getF32FloatAttr(0.0f));
              Value empty = tensor::EmptyOp::create(fb, loc, yType.getShape(), f32);
              Value init = linalg::FillOp::create(fb, loc, zero, empty).getResult(0);
              AffineExpr mm, nn, kk;
              bindDims(&context, mm, nn, kk);
              auto mmOp = linalg::MatmulOp::create(fb, loc, TypeRange{yType},
                                                   ValueRange{fn.getArgument(0), w},
                                                   ValueRange{init});
              mmOp->setAttr("indexing_maps",
                            fb.getAffineMapArrayAttr(
                                {AffineMap::get(3, 0, {mm, kk}, &context),
                                 AffineMap::get(3, 0, {nn, kk}, &context),
                                 AffineMap::get(3, 0, {mm, nn}, &context)}));
              func::ReturnOp::create(fb, loc, mmOp.getResult(0));

              PassManager pm(&context);
              if (lut) {
                SQuantToLutOptions toLut;
                toLut.floatLut = true;
                pm.addPass(createSQuantToLut(toLut));
              }
              pm.addPass(createSQuantFuseDequantMatmul());
              pm.addPass(createCanonicalizerPass());
              ASSERT_TRUE(succeeded(pm.run(*one)));
              QMatmulOp qmm;
              one->walk([&](QMatmulOp op) { qmm = op; });
              ASSERT_TRUE(qmm) << "not fused";
              bool lutForm = isa<LutSchemeAttr>(qmm.getForm());
              lutForms += lutForm;
              std::vector<float> wFused = qmatmulWeight(qmm);
              // The hoisted path (M <= 2, fma form) sums x·q and x separately:
              // its accumulation error scales with M = |q·s| + |b| per weight,
              // not |w| (docs/Numerics.md, "Factorized accumulation").
              std::vector<float> factorMagnitude;
              if (auto fma = dyn_cast<FmaFormAttr>(qmm.getForm()); fma && m <= 2) {
                auto constant = [](Value v) {
                  return cast<arith::ConstantOp>(v.getDefiningOp()).getValue();
                };
                std::vector<int32_t> fq = *readInts(constant(qmm.getWeight()), fma.isSigned());
                std::vector<float> fs = *readFloats(constant(qmm.getScales()));
                std::vector<float> fbias = *readFloats(constant(qmm.getBias()));
                int64_t groups = k / *fma.getGroupSize();
                factorMagnitude.resize(n * k);
                for (int64_t j = 0; j < n; ++j)
                  for (int64_t e = 0; e < k; ++e) {
                    int64_t p = j * groups + e / *fma.getGroupSize();
                    factorMagnitude[j * k + e] =
                        std::fabs(fq[j * k + e] * fs[p]) + std::fabs(fbias[p]);
                  }
              }

              if (packed) {
                // The weight as squant.unpack of its packed bytes.
                bool isSigned = lutForm ? false
                                        : cast<FmaFormAttr>(qmm.getForm()).isSigned();
                unsigned fieldBits = lutForm ? cast<LutSchemeAttr>(qmm.getForm()).getBits()
                                             : bits;
                std::vector<int32_t> fused =
                    *readInts(cast<arith::ConstantOp>(qmm.getWeight().getDefiningOp()).getValue(),
                              isSigned);
                // Both orders for every width and M: lsb_first at M = 1 and
                // 3 for even widths (the broadcast decode of the hoisted
                // path), at M = 32 for odd ones; the other way round for
                // g = 64 (M = 32, even widths: the outer-product path's
                // broadcast decode).
                ref::PackOrder order = (bits + m + (g == 64)) % 2
                                           ? ref::PackOrder::LsbFirst
                                           : ref::PackOrder::MsbFirst;
                std::vector<uint8_t> bytes = ref::packCodes(fused, n, k, fieldBits, order);
                int64_t rowBytes = ref::packedRowBytes(k, fieldBits);
                auto bytesType = RankedTensorType::get({n, rowBytes}, fb.getI8Type());
                OpBuilder pb(qmm);
                Value packedBytes = arith::ConstantOp::create(
                    pb, loc, bytesType,
                    makeInts(bytesType, std::vector<int32_t>(bytes.begin(), bytes.end())));
                auto layout = PackedLayoutAttr::get(
                    &context,
                    order == ref::PackOrder::LsbFirst ? PackOrder::LsbFirst
                                                      : PackOrder::MsbFirst,
                    fieldBits, isSigned ? Storage::Signed : Storage::Unsigned, 1);
                Value unpacked = UnpackOp::create(pb, loc, qmm.getWeight().getType(),
                                                  packedBytes, layout);
                qmm.getWeightMutable().assign(unpacked);
                ++packedForms;
              }

              MatmulCase mc;
              mc.name = name;
              mc.m = m;
              mc.n = n;
              mc.k = k;
              mc.what = describe(c, g, m, lutForm, packed);
              mc.x.resize(m * k);
              for (float &v : mc.x)
                v = dist(rng);
              // D8 bound of the fp64 product of the reference weights, plus
              // D7 for the fused weights (exact where the fold is exact).
              std::vector<double> bound;
              mc.expected = ref::matmulF64(mc.x, wRef, m, n, k, &bound);
              mc.tolerance = bound;
              for (int64_t i = 0; i < m; ++i)
                for (int64_t j = 0; j < n; ++j)
                  for (int64_t e = 0; e < k; ++e)
                    mc.tolerance[i * n + j] +=
                        std::fabs(mc.x[i * k + e]) *
                        (std::fabs(wFused[j * k + e] - wRef[j * k + e]) +
                         (factorMagnitude.empty()
                              ? 0.0
                              : k * 0x1p-22 * factorMagnitude[j * k + e]));
              // Move the function into the batch module.
              fn->remove();
              module->getBody()->push_back(fn);
              cases.push_back(std::move(mc));
            }

        // Odd widths run on two threads (squant_rt_parallel_for), even on one.
        squant::JitEngine engine =
            compile(*module, bits % 2 ? "threads=2" : "threads=1");
        ASSERT_TRUE(engine) << "bits=" << bits;
        for (MatmulCase &mc : cases) {
          using Fn = void (*)(MemRef<2> *, MemRefOf<float, 2> *);
          Fn f = lookup<Fn>(*engine, mc.name);
          ASSERT_TRUE(f);
          MemRefOf<float, 2> xDesc = view2d(mc.x, mc.m, mc.k);
          MemRef<2> yDesc;
          f(&yDesc, &xDesc);
          ASSERT_EQ(yDesc.sizes[0], mc.m);
          ASSERT_EQ(yDesc.sizes[1], mc.n);
          for (int64_t i = 0; i < mc.m * mc.n; ++i) {
            float got = yDesc.aligned[yDesc.offset + i];
            ASSERT_LE(std::fabs(got - mc.expected[i]), mc.tolerance[i])
                << mc.what << " output " << i << ": " << got << " vs "
                << mc.expected[i];
          }
          std::free(yDesc.allocated);
          ++checked;
        }
      }
  EXPECT_GE(checked, 6 * 4 * 3 * 2 * 2);
  EXPECT_GT(packedForms, 0);
  // squant-to-lut (float tables where no int8 table exists) gave lut forms.
  EXPECT_GT(lutForms, 0);
}

} // namespace

// D7 + D8 of the fp64 product of the reference weights (plus the factorized
// accumulation bound on the hoisted path), for every bits x group x M x
// {fma, lut} x {codes, packed bytes}.
TEST_F(FusedMatmul, Stretched) { runScheme({SchemeKind::Stretched, Storage::Signed, 0}); }
TEST_F(FusedMatmul, SymmetricSigned) { runScheme({SchemeKind::Symmetric, Storage::Signed, 0}); }
TEST_F(FusedMatmul, SymmetricUnsigned) { runScheme({SchemeKind::Symmetric, Storage::Unsigned, 0}); }
TEST_F(FusedMatmul, SymmetricNoClippingErr) {
  runScheme({SchemeKind::SymmetricNoClippingErr, Storage::Signed, 0});
}
TEST_F(FusedMatmul, Asymmetric) { runScheme({SchemeKind::Asymmetric, Storage::Signed, 0}); }
TEST_F(FusedMatmul, AsymmetricNoPreserveZero) {
  runScheme({SchemeKind::AsymmetricNoPreserveZero, Storage::Unsigned, 0});
}
TEST_F(FusedMatmul, FloatZeroPoint) {
  runScheme({SchemeKind::FloatZeroPoint, Storage::Unsigned, 0});
}

namespace {

/// Elementwise ops on run-time operands, compared bit for bit.
class Elementwise : public VectorLowering {
protected:
  squant::JitEngine compileText(const std::string &ir) {
    module = parseSourceString<ModuleOp>(ir, &context);
    if (!module) {
      ADD_FAILURE() << "parse failed:\n" << ir;
      return nullptr;
    }
    return compile(*module, "threads=1");
  }

  /// Lowers `ir`, whose @mm(x [m][k], codes [n][codeCols] i8, scales and
  /// biases [n][groups]) returns a qmatmul [m][n], with `options`, runs it
  /// and returns y (empty after a failure when it does not compile).
  std::vector<float> runQMatmul(const std::string &ir, StringRef options,
                                std::vector<float> &x, int64_t m, int64_t k,
                                std::vector<int8_t> &codes, int64_t codeCols,
                                std::vector<float> &s, std::vector<float> &b,
                                int64_t n, int64_t groups) {
    module = parseSourceString<ModuleOp>(ir, &context);
    if (!module) {
      ADD_FAILURE() << "parse failed:\n" << ir;
      return {};
    }
    squant::JitEngine engine = compile(*module, options);
    if (!engine)
      return {};
    using Fn = void (*)(MemRef<2> *, MemRefOf<float, 2> *, MemRefOf<int8_t, 2> *,
                        MemRefOf<float, 2> *, MemRefOf<float, 2> *);
    Fn f = lookup<Fn>(*engine, "mm");
    if (!f)
      return {};
    MemRefOf<float, 2> xd = view2d(x, m, k), sd = view2d(s, n, groups),
                       bd = view2d(b, n, groups);
    MemRefOf<int8_t, 2> qd = view2d(codes, n, codeCols);
    MemRef<2> y;
    f(&y, &xd, &qd, &sd, &bd);
    std::vector<float> out(y.aligned + y.offset, y.aligned + y.offset + m * n);
    std::free(y.allocated);
    return out;
  }

  /// y [m][n] against the fp64 product of x and w[j][c] = fma(code(j, c),
  /// s[j][c / g], b[j][c / g]), within relTol · sum |x| (|code s| + |b|)
  /// per output (the hoisted path's factorized bound, docs/Numerics.md; it
  /// covers the panel paths' sum |x w| too).
  static void expectAffineProduct(const std::vector<float> &y, const std::vector<float> &x,
                                  int64_t m, int64_t n, int64_t k, int64_t g,
                                  function_ref<int32_t(int64_t, int64_t)> code,
                                  const std::vector<float> &s, const std::vector<float> &b,
                                  double relTol, const std::string &what) {
    ASSERT_EQ(int64_t(y.size()), m * n) << what;
    int64_t groups = k / g;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double expected = 0, magnitude = 0;
        for (int64_t c = 0; c < k; ++c) {
          float sj = s[j * groups + c / g], bj = b[j * groups + c / g];
          float w = std::fma(float(code(j, c)), sj, bj);
          expected += double(x[i * k + c]) * w;
          magnitude += std::fabs(double(x[i * k + c])) *
                       (std::fabs(double(code(j, c)) * sj) + std::fabs(double(bj)));
        }
        ASSERT_NEAR(y[i * n + j], expected, magnitude * relTol)
            << what << " output " << i << ", " << j;
      }
  }

  OwningOpRef<ModuleOp> module;
};

/// A random 4-bit one-FMA weight of n rows, k columns and `groups` groups
/// per row: scales |N(0,1)| / 100, biases N(0,1) / 10, codes 0..15.
struct RandomInt4Weight {
  std::vector<float> scales, bias;
  std::vector<int8_t> codes;
};
RandomInt4Weight randomInt4Weight(std::mt19937 &rng, std::normal_distribution<float> &dist,
                                  int64_t n, int64_t k, int64_t groups) {
  RandomInt4Weight w{std::vector<float>(n * groups), std::vector<float>(n * groups),
                     std::vector<int8_t>(n * k)};
  for (float &v : w.scales)
    v = std::fabs(dist(rng)) * 0.01f;
  for (float &v : w.bias)
    v = dist(rng) * 0.1f;
  for (int8_t &v : w.codes)
    v = static_cast<int8_t>(rng() % 16);
  return w;
}

std::string typeName(ref::FloatFormat f) {
  return f == ref::FloatFormat::F32 ? "f32" : f == ref::FloatFormat::BF16 ? "bf16" : "f16";
}

/// Values of `format` as raw storage (f32 bits or 16-bit patterns).
std::vector<uint16_t> toHalf(const std::vector<float> &v, ref::FloatFormat f) {
  std::vector<uint16_t> out(v.size());
  for (size_t i = 0; i < v.size(); ++i)
    out[i] = f == ref::FloatFormat::BF16 ? ref::bf16BitsFromFloat(v[i])
                                         : ref::f16BitsFromFloat(v[i]);
  return out;
}

float fromHalf(uint16_t bits, ref::FloatFormat f) {
  return f == ref::FloatFormat::BF16 ? ref::floatFromBF16Bits(bits)
                                     : ref::floatFromF16Bits(bits);
}

} // namespace

// dequantize and quantize of every scheme, bits 1-8, in f32, bf16 and f16,
// on operands the compiler cannot see: the lowered loops give the
// reference's bits, ties, NaN, infinities and huge values included.
TEST_F(Elementwise, DequantizeAndQuantizeAreBitExact) {
  const int64_t n = 5, k = 96, g = 32, groups = k / g;
  int checked = 0;
  for (ref::FloatFormat format :
       {ref::FloatFormat::F32, ref::FloatFormat::BF16, ref::FloatFormat::F16})
    for (SchemeKind kind : {SchemeKind::Stretched, SchemeKind::Symmetric,
                            SchemeKind::Asymmetric, SchemeKind::FloatZeroPoint})
      for (unsigned bits = 1; bits <= 8; ++bits) {
        Storage storage = kind == SchemeKind::FloatZeroPoint ? Storage::Unsigned
                                                             : Storage::Signed;
        AffineSchemeAttr scheme = AffineSchemeAttr::get(
            &context, kind, bits, storage, 1, g, std::nullopt, std::nullopt, FloatAttr());
        ref::Scheme sc = scheme.toReference(format);
        std::string ft = typeName(format);
        std::string schemeText;
        llvm::raw_string_ostream os(schemeText);
        os << scheme;
        bool zp = scheme.hasZeroPointOperand();
        bool intZp = scheme.hasIntZeroPoint();
        std::string zpType = intZp ? "i8" : ft;
        std::string wT = "tensor<5x96x" + ft + ">", pT = "tensor<5x3x" + ft + ">",
                    zT = "tensor<5x3x" + zpType + ">", qT = "tensor<5x96xi8>";
        std::string ir =
            "func.func @dq(%q: " + qT + ", %s: " + pT + (zp ? ", %z: " + zT : "") +
            ") -> " + wT + " attributes {llvm.emit_c_interface} {\n"
            "  %w = squant.dequantize %q, %s" + (zp ? ", %z" : "") + " scheme " +
            schemeText.substr(std::string("#squant.affine").size()) + " : " + qT +
            ", " + pT + (zp ? ", " + zT : "") + " -> " + wT +
            "\n  return %w : " + wT + "\n}\n"
            "func.func @qz(%x: " + wT + ", %s: " + pT + (zp ? ", %z: " + zT : "") +
            ") -> " + qT + " attributes {llvm.emit_c_interface} {\n"
            "  %q = squant.quantize %x, %s" + (zp ? ", %z" : "") + " scheme " +
            schemeText.substr(std::string("#squant.affine").size()) + " : " + wT +
            ", " + pT + (zp ? ", " + zT : "") + " -> " + qT +
            "\n  return %q : " + qT + "\n}\n";
        squant::JitEngine engine = compileText(ir);
        ASSERT_TRUE(engine) << ir;

        // Parameters from random groups; inputs with ties and specials.
        std::mt19937 rng(bits * 7 + static_cast<unsigned>(kind));
        std::normal_distribution<float> dist(0.3f, 2.0f);
        std::vector<float> x(n * k);
        for (float &v : x)
          v = ref::roundTo(dist(rng), format);
        ref::Grouping grouping{{n, k}, 1, g};
        ref::TensorQParams params = ref::chooseQParams(sc, grouping, x);
        // Exact ties on the grid of the first group, then specials.
        for (int64_t e = 0; e < 8; ++e)
          x[e] = ref::roundTo((e - 3.5f) * params.scales[0], format);
        x[8] = NAN;
        x[9] = INFINITY;
        x[10] = -INFINITY;
        x[11] = format == ref::FloatFormat::F16 ? 65504.0f : 3.0e38f;
        x[12] = -0.0f;
        std::vector<int32_t> codes = ref::quantize(sc, grouping, x, params);
        std::vector<float> w = ref::dequantize(sc, grouping, codes, params);

        std::vector<int8_t> q8(codes.begin(), codes.end());
        std::vector<int8_t> z8;
        for (float z : params.zeroPoints)
          z8.push_back(static_cast<int8_t>(z));
        auto q8d = view2d(q8, n, k), z8d = view2d(z8, n, groups);
        // One run for any storage of the float operands (f32, or 16-bit
        // patterns); `value` reads a result element as f32.
        auto runAndCheck = [&](auto s, auto zf, auto xs, auto value) {
          using T = typename decltype(s)::value_type;
          auto sd = view2d(s, n, groups), zd = view2d(zf, n, groups), xd = view2d(xs, n, k);
          MemRefOf<T, 2> wOut;
          MemRefOf<int8_t, 2> qOut;
          void *zArg = intZp ? static_cast<void *>(&z8d) : static_cast<void *>(&zd);
          if (zp) {
            lookup<void (*)(void *, void *, void *, void *)>(*engine, "dq")(&wOut, &q8d, &sd, zArg);
            lookup<void (*)(void *, void *, void *, void *)>(*engine, "qz")(&qOut, &xd, &sd, zArg);
          } else {
            lookup<void (*)(void *, void *, void *)>(*engine, "dq")(&wOut, &q8d, &sd);
            lookup<void (*)(void *, void *, void *)>(*engine, "qz")(&qOut, &xd, &sd);
          }
          for (int64_t i = 0; i < n * k; ++i) {
            ASSERT_EQ(ref::bitsFromFloat(value(wOut.aligned[i])), ref::bitsFromFloat(w[i]))
                << ir << " dequantize at " << i;
            ASSERT_EQ(qOut.aligned[i], static_cast<int8_t>(codes[i]))
                << ir << " quantize at " << i << " x=" << x[i];
          }
          std::free(wOut.allocated);
          std::free(qOut.allocated);
        };
        if (format == ref::FloatFormat::F32)
          runAndCheck(params.scales, params.zeroPoints, x, [](float v) { return v; });
        else
          runAndCheck(toHalf(params.scales, format), toHalf(params.zeroPoints, format),
                      toHalf(x, format),
                      [&](uint16_t bits) { return fromHalf(bits, format); });
        if (HasFatalFailure())
          return;
        ++checked;
      }
  EXPECT_EQ(checked, 3 * 4 * 8);
}

// pack then unpack for bits 1-8, both bit orders, signed and unsigned
// codes, i8 and i32 containers, 37 codes per row (rows not whole words):
// the bytes are the reference packer's, the codes come back.
TEST_F(Elementwise, PackAndUnpackMatchTheReference) {
  const int64_t rows = 3, cols = 37;
  int checked = 0;
  for (unsigned bits = 1; bits <= 8; ++bits)
    for (PackOrder order : {PackOrder::LsbFirst, PackOrder::MsbFirst})
      for (Storage storage : {Storage::Signed, Storage::Unsigned})
        for (bool words : {false, true}) {
          int64_t rowBytes = ref::packedRowBytes(cols, bits);
          int64_t container = words ? (rowBytes + 3) / 4 : rowBytes;
          std::string layout = "<order = " +
                               stringifyPackOrder(order).str() +
                               ", bits = " + std::to_string(bits) + ", storage = " +
                               stringifyStorage(storage).str() + ">";
          std::string cT = "tensor<3x37xi8>",
                      bT = "tensor<3x" + std::to_string(container) +
                           (words ? "xi32>" : "xi8>");
          std::string ir =
              "func.func @pk(%c: " + cT + ") -> " + bT +
              " attributes {llvm.emit_c_interface} {\n  %p = squant.pack %c layout " +
              layout + " : " + cT + " -> " + bT + "\n  return %p : " + bT +
              "\n}\nfunc.func @up(%p: " + bT + ") -> " + cT +
              " attributes {llvm.emit_c_interface} {\n  %c = squant.unpack %p layout " +
              layout + " : " + bT + " -> " + cT + "\n  return %c : " + cT + "\n}\n";
          squant::JitEngine engine = compileText(ir);
          ASSERT_TRUE(engine) << ir;
          bool isSigned = storage == Storage::Signed;
          std::mt19937 rng(bits * 4 + words);
          int32_t lo = isSigned ? -(1 << (bits - 1)) : 0;
          int32_t hi = isSigned ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
          std::uniform_int_distribution<int32_t> dist(lo, hi);
          std::vector<int32_t> codes(rows * cols);
          for (int32_t &c : codes)
            c = dist(rng);
          ref::PackOrder refOrder = order == PackOrder::LsbFirst ? ref::PackOrder::LsbFirst
                                                                 : ref::PackOrder::MsbFirst;
          std::vector<uint8_t> bytes = ref::packCodes(codes, rows, cols, bits, refOrder);
          std::vector<int8_t> c8(codes.begin(), codes.end());
          auto cd = view2d(c8, rows, cols);
          MemRefOf<uint8_t, 2> packed;
          lookup<void (*)(void *, void *)>(*engine, "pk")(&packed, &cd);
          const uint8_t *got = packed.aligned;
          for (int64_t r = 0; r < rows; ++r)
            for (int64_t j = 0; j < rowBytes; ++j)
              ASSERT_EQ(got[r * container * (words ? 4 : 1) + j], bytes[r * rowBytes + j])
                  << layout << (words ? " i32" : " i8") << " row " << r << " byte " << j;
          MemRefOf<int8_t, 2> unpacked;
          lookup<void (*)(void *, void *)>(*engine, "up")(&unpacked, &packed);
          for (int64_t i = 0; i < rows * cols; ++i)
            ASSERT_EQ(unpacked.aligned[i], c8[i]) << layout << " code " << i;
          std::free(packed.allocated);
          std::free(unpacked.allocated);
          ++checked;
        }
  EXPECT_EQ(checked, 8 * 2 * 2 * 2);
}

// Odd-width lsb_first codes read by the byte-window decode on every
// target (AVX2: a byte shuffle, shift and mask; AVX-512: the same then a
// value lookup; generic: the spreading decode), hoisted (M = 1), dot panel
// (M = 3) and outer products (M = 12 on AVX2, 8 lanes), against an fp64
// product of the codes unpacked here.
TEST_F(Elementwise, PackedOddWidthsOnEveryTarget) {
  const int64_t n = 13, k = 64, g = 32, groups = k / g;
  std::mt19937 rng(9);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (int bits : {3, 5})
    for (const char *target : {"avx2", "avx512", "generic"})
      for (int64_t m : {1, 3, 12}) {
        int64_t rowBytes = k * bits / 8;
        std::string xT = "tensor<" + std::to_string(m) + "x64xf32>";
        std::string pT = "tensor<13x" + std::to_string(rowBytes) + "xi8>";
        std::string yT = "tensor<" + std::to_string(m) + "x13xf32>";
        std::string b = std::to_string(bits);
        std::string ir =
            "func.func @mm(%x: " + xT + ", %p: " + pT +
            ", %s: tensor<13x2xf32>, %b: tensor<13x2xf32>) -> " + yT +
            " attributes {llvm.emit_c_interface} {\n"
            "  %q = squant.unpack %p layout <order = lsb_first, bits = " + b +
            ", storage = signed> : " + pT + " -> tensor<13x64xi8>\n"
            "  %y = squant.qmatmul %x, %q scales(%s) bias(%b) form(#squant.fma<bits = " + b +
            ", axis = 1, group_size = 32>) : (" + xT + ", tensor<13x64xi8>, "
            "tensor<13x2xf32>, tensor<13x2xf32>) -> " + yT + "\n"
            "  return %y : " + yT + "\n}\n";
        std::vector<float> x(m * k), sc(n * groups), bi(n * groups);
        std::vector<int8_t> packed(n * rowBytes);
        for (float &v : x)
          v = dist(rng);
        for (float &v : sc)
          v = std::fabs(dist(rng)) * 0.1f;
        for (float &v : bi)
          v = dist(rng) * 0.1f;
        for (int8_t &v : packed)
          v = static_cast<int8_t>(rng());
        std::vector<float> y = runQMatmul(ir, std::string("target=") + target, x, m, k,
                                          packed, rowBytes, sc, bi, n, groups);
        // Code c of row j: bits [c·bits, c·bits + bits), lsb first, signed.
        auto code = [&](int64_t j, int64_t c) {
          int64_t bit = c * bits;
          uint32_t word = 0;
          for (int64_t by = 0; by < 2 && bit / 8 + by < rowBytes; ++by)
            word |= uint32_t(uint8_t(packed[j * rowBytes + bit / 8 + by])) << (8 * by);
          int32_t v = int32_t((word >> (bit % 8)) & ((1u << bits) - 1));
          return v - ((v >> (bits - 1)) << bits);
        };
        expectAffineProduct(y, x, m, n, k, g, code, sc, bi, 0x1p-16,
                            std::string(target) + " bits " + std::to_string(bits) +
                                " M " + std::to_string(m));
      }
}

// Long K: the outer-product path decodes each weight block per K block of
// 256 columns (K = 4160: 16 blocks, then 64 columns) and continues every
// slice's sums across them, with one slice of activation rows (M = 32), two
// (M = 40, the second one vector wide) and an M chunk of four whole slices
// followed by a half one (M = 130); N = 300 is 22 blocks of 14 rows in 4 N
// chunks of 5 or 6 blocks, the last block 6 rows (on AVX-512; AVX2 and
// generic have 6-row blocks, 16- and 8-row slices and so two and four M
// chunks at M = 130). The hoisted path (M = 1) sums the bias term over 130
// groups, a vector of them per FMA and a masked tail. Checked against an
// fp64 product on each target.
TEST_F(Elementwise, OuterProductAcrossKBlocks) {
  const int64_t n = 300, k = 4160, g = 32, groups = k / g;
  std::mt19937 rng(5);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  RandomInt4Weight w = randomInt4Weight(rng, dist, n, k, groups);
  std::vector<float> &sc = w.scales, &bi = w.bias;
  std::vector<int8_t> &q = w.codes;
  for (int64_t m : {1, 32, 40, 130}) {
    std::string xT = "tensor<" + std::to_string(m) + "x4160xf32>",
                qT = "tensor<300x4160xi8>", pT = "tensor<300x130xf32>",
                yT = "tensor<" + std::to_string(m) + "x300xf32>";
    std::string ir =
        "func.func @mm(%x: " + xT + ", %q: " + qT + ", %s: " + pT + ", %b: " + pT +
        ") -> " + yT + " attributes {llvm.emit_c_interface} {\n"
        "  %y = squant.qmatmul %x, %q scales(%s) bias(%b) form(#squant.fma<bits = 4, "
        "storage = unsigned, axis = 1, group_size = 32>) : (" + xT + ", " + qT + ", " +
        pT + ", " + pT + ") -> " + yT + "\n  return %y : " + yT + "\n}\n";
    std::vector<float> x(m * k);
    for (float &v : x)
      v = dist(rng);
    for (const char *options :
         {"threads=2", "threads=2 target=avx2", "threads=2 target=generic"}) {
      std::vector<float> y =
          runQMatmul(ir, options, x, m, k, q, k, sc, bi, n, groups);
      expectAffineProduct(
          y, x, m, n, k, g,
          [&](int64_t j, int64_t c) { return int32_t(q[j * k + c]); }, sc, bi,
          k * 0x1p-22, std::string(options) + " M " + std::to_string(m));
    }
  }
}

// The threaded lowering gives the sequential one's bits for 1, 2 and 3
// threads (different splits of the row blocks), hoisted (M = 1) and with
// outer products (M = 32: a block per iteration; M = 130: 5 blocks in 4 N
// chunks, two M chunks), in engine after engine of one process: each engine is
// freed right after its call (squant_rt_parallel_for returns only when every
// worker has left the engine's code).
TEST_F(Elementwise, ThreadedMatmulIsBitIdenticalAcrossEnginesAndThreads) {
  const int64_t n = 67, k = 256;
  std::mt19937 rng(77);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  RandomInt4Weight w = randomInt4Weight(rng, dist, n, k, 2);
  std::vector<float> &s = w.scales, &b = w.bias;
  std::vector<int8_t> &q = w.codes;
  for (int64_t m : {1, 32, 130}) {
    std::string xT = "tensor<" + std::to_string(m) + "x256xf32>";
    std::string yT = "tensor<" + std::to_string(m) + "x67xf32>";
    std::string ir =
        "func.func @mm(%x: " + xT + ", %q: tensor<67x256xi8>, "
        "%s: tensor<67x2xf32>, %b: tensor<67x2xf32>) -> " + yT + " "
        "attributes {llvm.emit_c_interface} {\n"
        "  %y = squant.qmatmul %x, %q scales(%s) bias(%b) form(#squant.fma<bits = 4, "
        "storage = unsigned, axis = 1, group_size = 128>) : (" + xT + ", "
        "tensor<67x256xi8>, tensor<67x2xf32>, tensor<67x2xf32>) -> " + yT + "\n"
        "  return %y : " + yT + "\n}\n";
    std::vector<float> x(m * k);
    for (float &v : x)
      v = dist(rng);
    std::vector<std::vector<float>> results;
    for (const char *options : {"threads=1", "threads=2", "threads=3", "threads=2",
                                "threads=1"}) {
      results.push_back(runQMatmul(ir, options, x, m, k, q, k, s, b, n, 2));
      ASSERT_EQ(int64_t(results.back().size()), m * n) << options;
    }
    for (size_t r = 1; r < results.size(); ++r)
      for (int64_t i = 0; i < m * n; ++i)
        ASSERT_EQ(llvm::bit_cast<uint32_t>(results[r][i]),
                  llvm::bit_cast<uint32_t>(results[0][i]))
            << "M = " << m << " engine " << r << " output " << i;
  }
}
