//===- RaiseDequant.cpp - squant-raise-dequant ----------------------------===//
//
// Recognises front-end weight dequantization (an elementwise linalg.generic
// over integer codes, scales and zero points) by evaluating its body against
// squant's reference numerics for each candidate scheme, and replaces it with
// squant.dequantize / squant.fma_dequantize (plus squant.unpack for packed
// codes). See the pass description for the forms covered.
//
//===----------------------------------------------------------------------===//

#include "squant/Dialect/SQuant/Transforms/Passes.h"

#include "squant/Dialect/SQuant/IR/ConstantValues.h"
#include "squant/Dialect/SQuant/IR/SQuant.h"
#include "squant/Dialect/SQuant/Transforms/BodyInterpreter.h"
#include "squant/Dialect/SQuant/Transforms/ParamTensors.h"
#include "squant/Dialect/SQuant/Transforms/Transforms.h"
#include "squant/Reference/OneFma.h"
#include "squant/Reference/Pack.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>
#include <random>

namespace mlir::squant {
#define GEN_PASS_DEF_SQUANTRAISEDEQUANT
#include "squant/Dialect/SQuant/Transforms/Passes.h.inc"
} // namespace mlir::squant

using namespace mlir;
using namespace mlir::squant;

namespace {

/// Where the codes come from: a tensor of codes, or containers of `perWord`
/// codes each along the last dimension.
struct CodeSource {
  unsigned input;
  unsigned bits;
  unsigned containerWidth;
  int64_t perWord = 1; // 1: unpacked
};

/// A scale / zero-point / bias operand and the granularity its map gives.
struct ParamSource {
  unsigned input;
  Type elementType;
};

struct Granularity {
  std::optional<int64_t> axis, group;
  bool operator==(const Granularity &o) const {
    return axis == o.axis && group == o.group;
  }
};

/// The granularity of a parameter read through `map` from a tensor of
/// `shape` for an output of `outShape`, if it is one squant has.
std::optional<Granularity> granularityOf(AffineMap map, ArrayRef<int64_t> shape,
                                         ArrayRef<int64_t> outShape) {
  Granularity g;
  if (map.getNumResults() == 0)
    return g; // per tensor
  if (map.getNumResults() == 1) {
    auto dim = dyn_cast<AffineDimExpr>(map.getResult(0));
    if (!dim || shape[0] != outShape[dim.getPosition()])
      return std::nullopt;
    g.axis = dim.getPosition();
    return g;
  }
  if (map.getNumResults() != outShape.size())
    return std::nullopt;
  for (unsigned i = 0; i < outShape.size(); ++i) {
    AffineExpr e = map.getResult(i);
    if (auto dim = dyn_cast<AffineDimExpr>(e)) {
      if (dim.getPosition() != i || shape[i] != outShape[i])
        return std::nullopt;
      continue;
    }
    int64_t group;
    if (auto c = dyn_cast<AffineConstantExpr>(e)) {
      if (c.getValue() != 0 || shape[i] != 1)
        return std::nullopt;
      if (outShape[i] == 1)
        continue;
      group = outShape[i]; // one group spanning the dimension
    } else {
      auto bin = dyn_cast<AffineBinaryOpExpr>(e);
      if (!bin || bin.getKind() != AffineExprKind::FloorDiv)
        return std::nullopt;
      auto dim = dyn_cast<AffineDimExpr>(bin.getLHS());
      auto div = dyn_cast<AffineConstantExpr>(bin.getRHS());
      if (!dim || !div || dim.getPosition() != i || div.getValue() <= 0 ||
          outShape[i] % div.getValue() != 0 ||
          shape[i] != outShape[i] / div.getValue())
        return std::nullopt;
      group = div.getValue();
    }
    if (g.axis)
      return std::nullopt; // groups along two axes
    g.axis = i;
    g.group = group;
  }
  if (!g.axis) { // every element its own parameter
    g.axis = outShape.size() - 1;
    g.group = 1;
  }
  return g;
}

/// One candidate meaning of the body.
enum class Form { ConstZeroPoint, IntZeroPoint, FloatZeroPoint, Fma };

struct Hypothesis {
  Form form;
  bool isSigned;
  ref::PackOrder order = ref::PackOrder::LsbFirst;
  int scaleParam = 0, otherParam = -1; // indices into the param list
  int64_t constZeroPoint = 0;
};

/// Random parameter values representable in `type`.
class Prober {
public:
  Prober() : rng(0x5eed) {}
  float scale(Type type) {
    std::uniform_real_distribution<float> e(-8.0f, 4.0f);
    return ref::roundTo(std::exp2(e(rng)) * (1.0f + unit(rng)),
                        getFloatFormat(type));
  }
  float value(Type type) {
    std::uniform_real_distribution<float> v(-2.0f, 2.0f);
    return ref::roundTo(v(rng), getFloatFormat(type));
  }
  int64_t integer(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  }
  uint64_t bits(unsigned width) {
    uint64_t v = (uint64_t(rng()) << 32) | rng();
    return width >= 64 ? v : v & ((uint64_t(1) << width) - 1);
  }

private:
  std::mt19937 rng;
  std::uniform_real_distribution<float> unit{0.0f, 1.0f};
};

ScalarValue paramValue(Type type, float asFloat, int64_t asInt) {
  if (isa<FloatType>(type))
    return ScalarValue::floating(asFloat);
  unsigned w = type.getIntOrFloatBitWidth();
  uint64_t m = w >= 64 ? ~0ull : (uint64_t(1) << w) - 1;
  return ScalarValue::integer(static_cast<uint64_t>(asInt) & m);
}

/// True when the body computes `h` for every code and several parameters.
bool verifyHypothesis(linalg::GenericOp op, const CodeSource &codes,
                      ArrayRef<ParamSource> params, const Hypothesis &h,
                      Type outType) {
  Block &body = op.getRegion().front();
  ref::FloatFormat format = getFloatFormat(outType);
  unsigned bits = codes.bits;
  int64_t lo = ref::storageMin(bits, h.isSigned), hi = ref::storageMax(bits, h.isSigned);
  Prober prober;
  unsigned rank = op.getNumLoops();
  for (int trial = 0; trial < 6; ++trial) {
    std::vector<ScalarValue> args(body.getNumArguments(), ScalarValue::floating(0));
    float s = prober.scale(params[h.scaleParam].elementType);
    args[params[h.scaleParam].input] = ScalarValue::floating(s);
    float other = 0.0f;
    int64_t zpInt = 0;
    if (h.otherParam >= 0) {
      Type t = params[h.otherParam].elementType;
      if (h.form == Form::IntZeroPoint) {
        zpInt = prober.integer(lo, hi);
        other = static_cast<float>(zpInt);
      } else {
        other = prober.value(t);
      }
      args[params[h.otherParam].input] = paramValue(t, other, zpInt);
    }
    for (int64_t slot = 0; slot < codes.perWord; ++slot)
      for (int64_t c = 0; c < (int64_t(1) << bits); ++c) {
        int64_t q = h.isSigned && c > hi ? c - (int64_t(1) << bits) : c;
        uint64_t container = static_cast<uint64_t>(c);
        if (codes.perWord > 1) {
          int64_t at = h.order == ref::PackOrder::LsbFirst
                           ? slot
                           : codes.perWord - 1 - slot;
          // For msb_first the bytes of a word are still little-endian.
          if (h.order == ref::PackOrder::MsbFirst) {
            int64_t perByte = 8 / bits;
            at = (slot / perByte) * perByte + (perByte - 1 - slot % perByte);
          }
          uint64_t word = prober.bits(codes.containerWidth);
          uint64_t m = ((uint64_t(1) << bits) - 1) << (at * bits);
          container = (word & ~m) | (static_cast<uint64_t>(c) << (at * bits));
        }
        args[codes.input] = ScalarValue::integer(container);
        SmallVector<int64_t> indices(rank, 1);
        indices[rank - 1] = 3 * codes.perWord + slot;
        std::optional<ScalarValue> got = interpretBody(body, args, indices);
        if (!got || !got->isFloat)
          return false;
        float want;
        switch (h.form) {
        case Form::ConstZeroPoint:
        case Form::IntZeroPoint: {
          ref::Scheme sc = ref::Scheme::get(ref::SchemeKind::Asymmetric, bits,
                                            h.isSigned, format);
          float zp = h.form == Form::IntZeroPoint
                         ? other
                         : static_cast<float>(h.constZeroPoint);
          want = ref::dequantize(sc, {s, zp}, static_cast<int32_t>(q));
          break;
        }
        case Form::FloatZeroPoint: {
          ref::Scheme sc = ref::Scheme::get(ref::SchemeKind::FloatZeroPoint,
                                            bits, h.isSigned, format);
          want = ref::dequantize(sc, {s, other}, static_cast<int32_t>(q));
          break;
        }
        case Form::Fma:
          want = ref::roundTo(ref::fmaDequantize(static_cast<int32_t>(q), s, other),
                              format);
          break;
        }
        if (ref::bitsFromFloat(want) != ref::bitsFromFloat(got->value))
          return false;
      }
  }
  return true;
}

/// Integral constants the body uses: candidate implied zero points.
SmallVector<int64_t> bodyConstants(Block &body) {
  SmallVector<int64_t> result = {0};
  for (Operation &op : body)
    if (auto c = dyn_cast<arith::ConstantOp>(op)) {
      double v;
      if (auto f = dyn_cast<FloatAttr>(c.getValue()))
        v = f.getValueAsDouble();
      else
        v = static_cast<double>(cast<IntegerAttr>(c.getValue()).getInt());
      if (v == std::trunc(v) && std::fabs(v) <= 256 && !llvm::is_contained(result, v))
        result.push_back(static_cast<int64_t>(v));
    }
  return result;
}

struct RaiseDequantPattern : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics() || op.getNumDpsInits() != 1 ||
        op.getNumReductionLoops() != 0)
      return rewriter.notifyMatchFailure(op, "not an elementwise generic");
    auto outType = dyn_cast<RankedTensorType>(op.getResult(0).getType());
    if (!outType || !outType.hasStaticShape() ||
        !isa<Float32Type, BFloat16Type, Float16Type>(outType.getElementType()))
      return rewriter.notifyMatchFailure(op, "result is not a static f32/bf16/f16 tensor");
    if (!op.getIndexingMapsArray().back().isIdentity())
      return rewriter.notifyMatchFailure(op, "output map is not the identity");
    Block &body = op.getRegion().front();
    if (!isInterpretableBody(body))
      return rewriter.notifyMatchFailure(op, "body has ops the interpreter does not know");
    ArrayRef<int64_t> outShape = outType.getShape();

    // Classify the inputs: one code source, float/int parameters.
    std::optional<CodeSource> codes;
    SmallVector<ParamSource> params;
    std::optional<Granularity> granularity;
    for (OpOperand *input : op.getDpsInputOperands()) {
      auto type = dyn_cast<RankedTensorType>(input->get().getType());
      if (!type || !type.hasStaticShape())
        return rewriter.notifyMatchFailure(op, "non-tensor or dynamic input");
      AffineMap map = op.getMatchingIndexingMap(input);
      unsigned idx = input->getOperandNumber();
      Type element = type.getElementType();
      if (element.isSignlessInteger() && map.isIdentity() &&
          type.getShape() == outShape && element.getIntOrFloatBitWidth() <= 8 &&
          !codes) {
        unsigned w = element.getIntOrFloatBitWidth();
        codes = CodeSource{idx, w, w, 1};
        continue;
      }
      if (element.isSignlessInteger() && !codes && (element.isInteger(8) ||
                                                   element.isInteger(32))) {
        // Packed along the last dim: (d0, ..., d_last floordiv P).
        unsigned rank = outShape.size(), w = element.getIntOrFloatBitWidth();
        bool packedMap = map.getNumResults() == rank;
        int64_t perWord = 0;
        for (unsigned i = 0; packedMap && i < rank; ++i) {
          AffineExpr e = map.getResult(i);
          if (i + 1 < rank) {
            packedMap = e == getAffineDimExpr(i, getContext()) &&
                        type.getDimSize(i) == outShape[i];
            continue;
          }
          auto bin = dyn_cast<AffineBinaryOpExpr>(e);
          auto div = bin ? dyn_cast<AffineConstantExpr>(bin.getRHS()) : nullptr;
          packedMap = bin && bin.getKind() == AffineExprKind::FloorDiv && div &&
                      bin.getLHS() == getAffineDimExpr(i, getContext());
          if (packedMap)
            perWord = div.getValue();
        }
        if (packedMap && perWord > 1 && w % perWord == 0 &&
            llvm::is_contained({1u, 2u, 4u, 8u}, w / perWord) &&
            outShape.back() % perWord == 0 &&
            type.getShape().back() == outShape.back() / perWord) {
          codes = CodeSource{idx, static_cast<unsigned>(w / perWord), w, perWord};
          continue;
        }
      }
      std::optional<Granularity> g = granularityOf(map, type.getShape(), outShape);
      if (!g)
        return rewriter.notifyMatchFailure(op, "an input is neither codes nor a "
                                               "broadcast parameter");
      if (granularity && !(*granularity == *g))
        return rewriter.notifyMatchFailure(op, "parameters of different granularity");
      granularity = g;
      params.push_back({idx, element});
    }
    if (!codes || params.empty() || params.size() > 2)
      return rewriter.notifyMatchFailure(op, "needs integer codes and one or "
                                             "two parameters");
    // The output block argument must not be read.
    if (!body.getArgument(op.getNumDpsInputs()).use_empty())
      return rewriter.notifyMatchFailure(op, "body reads the output");

    // Try every candidate meaning; the first that matches everywhere wins.
    SmallVector<Hypothesis> candidates;
    SmallVector<ref::PackOrder> orders = {ref::PackOrder::LsbFirst};
    if (codes->perWord > 1 && codes->bits < 8)
      orders.push_back(ref::PackOrder::MsbFirst);
    for (ref::PackOrder order : orders)
      for (bool isSigned : {false, true}) {
        if (params.size() == 1) {
          for (int64_t c : bodyConstants(body))
            candidates.push_back({Form::ConstZeroPoint, isSigned, order, 0, -1, c});
          continue;
        }
        for (auto [s, o] : {std::pair<int, int>{0, 1}, {1, 0}})
          for (Form f : {Form::IntZeroPoint, Form::FloatZeroPoint, Form::Fma})
            candidates.push_back({f, isSigned, order, s, o, 0});
      }
    for (const Hypothesis &h : candidates) {
      if (!isa<FloatType>(params[h.scaleParam].elementType))
        continue;
      if (h.otherParam >= 0 && h.form != Form::IntZeroPoint &&
          !isa<FloatType>(params[h.otherParam].elementType))
        continue;
      if (!verifyHypothesis(op, *codes, params, h, outType.getElementType()))
        continue;
      if (succeeded(rewrite(op, rewriter, *codes, params, *granularity, h, outType)))
        return success();
    }
    return rewriter.notifyMatchFailure(op, "computes none of squant's schemes");
  }

  /// `value` as a tensor of `type`'s element type (exact widening only).
  static Value widen(PatternRewriter &rewriter, Location loc, Value value,
                     Type element) {
    auto type = cast<RankedTensorType>(value.getType());
    if (type.getElementType() == element)
      return value;
    return arith::ExtFOp::create(rewriter, loc, type.clone(element), value);
  }

  LogicalResult rewrite(linalg::GenericOp op, PatternRewriter &rewriter,
                        const CodeSource &codes, ArrayRef<ParamSource> params,
                        const Granularity &g, const Hypothesis &h,
                        RankedTensorType outType) const {
    Type outElement = outType.getElementType();
    auto paramOf = [&](int i) { return op.getDpsInputs()[params[i].input]; };
    Value scale = paramOf(h.scaleParam);
    auto scaleType = cast<RankedTensorType>(scale.getType());
    if (scaleType.getElementTypeBitWidth() > outElement.getIntOrFloatBitWidth())
      return failure(); // narrowing the scale would change it
    Storage storage = h.isSigned ? Storage::Signed : Storage::Unsigned;

    // Everything that can fail is decided before any IR is created.
    std::optional<std::vector<int32_t>> zpInts;
    SchemeKind kind = SchemeKind::Asymmetric;
    if (h.form == Form::ConstZeroPoint) {
      int64_t implied = h.isSigned ? 0 : int64_t(1) << (codes.bits - 1);
      if (h.constZeroPoint == implied)
        kind = SchemeKind::Symmetric;
      else
        zpInts = std::vector<int32_t>(
            scaleType.getNumElements(), static_cast<int32_t>(h.constZeroPoint));
    } else if (h.form == Form::IntZeroPoint &&
               isa<FloatType>(params[h.otherParam].elementType)) {
      // A float zero-point tensor is representable only when its values are
      // known integers.
      std::optional<std::vector<float>> values = getConstantFloats(paramOf(h.otherParam));
      if (!values)
        return failure();
      zpInts.emplace();
      for (float v : *values) {
        if (v != std::trunc(v))
          return failure();
        zpInts->push_back(static_cast<int32_t>(v));
      }
    } else if (h.form == Form::FloatZeroPoint) {
      kind = SchemeKind::FloatZeroPoint;
    }

    Location loc = op.getLoc();
    Value codeValue = op.getDpsInputs()[codes.input];
    if (codes.perWord > 1) {
      auto layout = PackedLayoutAttr::get(getContext(),
                                          static_cast<PackOrder>(h.order),
                                          codes.bits, storage, 1);
      codeValue = UnpackOp::create(
          rewriter, loc, RankedTensorType::get(outType.getShape(), rewriter.getI8Type()),
          codeValue, layout);
    }
    Value scaleValue = widen(rewriter, loc, scale, outElement);
    if (h.form == Form::Fma) {
      Value bias = widen(rewriter, loc, paramOf(h.otherParam), outElement);
      auto form = FmaFormAttr::get(getContext(), codes.bits, storage, g.axis, g.group);
      rewriter.replaceOpWithNewOp<FmaDequantizeOp>(op, outType, codeValue,
                                                   scaleValue, bias, form);
      return success();
    }
    Value zp;
    if (zpInts) {
      auto zpType = scaleType.clone(rewriter.getI32Type());
      zp = arith::ConstantOp::create(rewriter, loc, zpType, makeInts(zpType, *zpInts));
    } else if (h.form == Form::IntZeroPoint) {
      zp = paramOf(h.otherParam);
    } else if (h.form == Form::FloatZeroPoint) {
      zp = widen(rewriter, loc, paramOf(h.otherParam), outElement);
    }
    auto scheme = AffineSchemeAttr::get(getContext(), kind, codes.bits, storage,
                                        g.axis, g.group, std::nullopt,
                                        std::nullopt, FloatAttr());
    rewriter.replaceOpWithNewOp<DequantizeOp>(op, outType, codeValue, scaleValue,
                                              zp, scheme);
    return success();
  }
};

struct RaiseDequantPass : squant::impl::SQuantRaiseDequantBase<RaiseDequantPass> {
  using Base::Base;

  void runOnOperation() override {
    // Front ends emit the chain unfused as often as fused: fuse elementwise
    // producers into elementwise consumers first (never into contractions,
    // which must stay recognisable for fusion with the matmul).
    {
      RewritePatternSet fusion(&getContext());
      // A float result feeding a non-float one is where dequantization ends
      // (a bitcast, a comparison): fusing it would hide the dequantization.
      linalg::ControlFusionFn control = [](OpOperand *operand) {
        auto producer = operand->get().getDefiningOp<linalg::GenericOp>();
        auto consumer = dyn_cast<linalg::GenericOp>(operand->getOwner());
        if (!producer || !consumer || producer.getNumReductionLoops() != 0 ||
            consumer.getNumReductionLoops() != 0 || consumer.getNumResults() != 1)
          return false;
        bool floatIn = isa<FloatType>(getElementTypeOrSelf(operand->get().getType()));
        bool floatOut = isa<FloatType>(getElementTypeOrSelf(consumer.getResult(0).getType()));
        return !floatIn || floatOut;
      };
      linalg::populateElementwiseOpsFusionPatterns(fusion, control);
      GreedyRewriteConfig config;
      config.enableFolding(false);
      (void)applyPatternsGreedily(getOperation(), std::move(fusion), config);
    }
    RewritePatternSet patterns(&getContext());
    patterns.add<RaiseDequantPattern>(&getContext());
    if (failed(applySQuantPatterns(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
