//===- QuantizeConstants.cpp - squant-quantize-constants ------------------===//
//
// Compile-time weight quantization. Folds squant's choose/quantize/pack on
// constants (never dequantize: the weight stays quantized), and quantizes
// the float constant weights of contractions with a scheme from an attribute
// or the pass options, in one pass over the weight's memory.
//
//===----------------------------------------------------------------------===//

#include "squant/Dialect/SQuant/Transforms/Passes.h"

#include "squant/Dialect/SQuant/IR/ConstantValues.h"
#include "squant/Dialect/SQuant/IR/SQuant.h"
#include "squant/Dialect/SQuant/Transforms/Contraction.h"
#include "squant/Dialect/SQuant/Transforms/ParamTensors.h"
#include "squant/Reference/Affine.h"
#include "squant/Reference/Pack.h"

#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/FoldUtils.h"

#include <cmath>

namespace mlir::squant {
#define GEN_PASS_DEF_SQUANTQUANTIZECONSTANTS
#include "squant/Dialect/SQuant/Transforms/Passes.h.inc"
} // namespace mlir::squant

using namespace mlir;
using namespace mlir::squant;

namespace {

/// The fp32 values of a constant weight without copying them: the dense
/// attribute's or the resource blob's own storage.
std::optional<ArrayRef<float>> rawFloats(Attribute attr) {
  auto type = dyn_cast<ShapedType>(cast<TypedAttr>(attr).getType());
  if (!type || !type.getElementType().isF32() || !type.hasStaticShape())
    return std::nullopt;
  size_t n = type.getNumElements();
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    if (dense.isSplat())
      return std::nullopt;
    ArrayRef<char> raw = dense.getRawData();
    return ArrayRef<float>(reinterpret_cast<const float *>(raw.data()), n);
  }
  if (auto res = dyn_cast<DenseResourceElementsAttr>(attr))
    if (AsmResourceBlob *blob = res.getRawHandle().getBlob())
      if (blob->getData().size() == n * sizeof(float))
        return ArrayRef<float>(
            reinterpret_cast<const float *>(blob->getData().data()), n);
  return std::nullopt;
}

struct QuantizeConstantsPass
    : squant::impl::SQuantQuantizeConstantsBase<QuantizeConstantsPass> {
  using Base::Base;

  void runOnOperation() override {
    foldQuantization();
    if (failed(quantizeWeights()))
      signalPassFailure();
  }

  /// Step 1: fold choose_qparams / quantize / pack on constants.
  void foldQuantization() {
    SmallVector<Operation *> ops;
    getOperation()->walk([&](Operation *op) {
      if (isa<ChooseQParamsOp, QuantizeOp, PackOp>(op))
        ops.push_back(op);
    });
    OperationFolder folder(&getContext());
    for (Operation *op : ops)
      (void)folder.tryToFold(op);
  }

  /// The scheme for a weight of shape [R0, R1] whose K axis is `kAxis`:
  /// its attribute, or the options; nullptr when neither asks.
  FailureOr<AffineSchemeAttr> schemeFor(arith::ConstantOp cst, int64_t kAxis,
                                        int64_t k) {
    if (auto attr = cst->getAttrOfType<AffineSchemeAttr>("squant.scheme"))
      return attr;
    if (scheme.empty())
      return AffineSchemeAttr();
    std::optional<SchemeKind> kind = symbolizeSchemeKind(scheme);
    if (!kind)
      return cst.emitError() << "unknown scheme '" << scheme
                             << "' in squant-quantize-constants";
    Storage st = *kind == SchemeKind::FloatZeroPoint ? Storage::Unsigned
                                                     : Storage::Signed;
    if (storage == "unsigned")
      st = Storage::Unsigned;
    else if (storage == "signed")
      st = Storage::Signed;
    else if (!storage.empty())
      return cst.emitError() << "storage must be signed or unsigned, got '"
                             << storage << "'";
    auto diag = [&]() { return cst.emitError(); };
    std::optional<int64_t> axis = kAxis, group = groupSize;
    if (groupSize == 0) {
      axis = 1 - kAxis; // one group of K per output channel
      group = std::nullopt;
    } else if (k % groupSize != 0) {
      return cst.emitError() << "K = " << k << " is not a multiple of group-size = "
                             << static_cast<int64_t>(groupSize) << " (pad the weight explicitly)";
    }
    if (failed(AffineSchemeAttr::verify(diag, *kind, bits, st, axis, group,
                                        std::nullopt, std::nullopt, FloatAttr())))
      return failure();
    return AffineSchemeAttr::get(&getContext(), *kind, bits, st, axis, group,
                                 std::nullopt, std::nullopt, FloatAttr());
  }

  /// Step 2: quantize the float constant weights of contractions.
  LogicalResult quantizeWeights() {
    SmallVector<std::pair<OpOperand *, int64_t>> uses; // weight, K axis
    getOperation()->walk([&](linalg::LinalgOp op) {
      for (const WeightedContraction &c : getWeightedContractions(op))
        if (auto cst = c.weight->get().getDefiningOp<arith::ConstantOp>())
          if (cast<ShapedType>(cst.getType()).getElementType().isF32())
            uses.push_back({c.weight, c.transposed ? 0 : 1});
    });
    for (auto [use, kAxis] : uses) {
      auto cst = use->get().getDefiningOp<arith::ConstantOp>();
      auto type = cast<RankedTensorType>(cst.getType());
      FailureOr<AffineSchemeAttr> scheme =
          schemeFor(cst, kAxis, type.getDimSize(kAxis));
      if (failed(scheme))
        return failure();
      if (!*scheme)
        continue;
      if (failed(quantizeWeight(use, cst, *scheme)))
        return failure();
    }
    return success();
  }

  LogicalResult quantizeWeight(OpOperand *use, arith::ConstantOp cst,
                               AffineSchemeAttr scheme) {
    auto type = cast<RankedTensorType>(cst.getType());
    Location loc = cst.getLoc();
    std::optional<ArrayRef<float>> x = rawFloats(cst.getValue());
    std::vector<float> copied;
    if (!x) { // splats and unusual storage: take the general path
      std::optional<std::vector<float>> values = readFloats(cst.getValue());
      if (!values)
        return cst.emitError("cannot read this constant weight");
      copied = std::move(*values);
      x = ArrayRef<float>(copied);
    }
    // Verify the scheme against the weight like the ops will.
    SmallVector<int64_t> shape(type.getShape());
    std::optional<int64_t> axis = scheme.getAxis();
    if (axis && (*axis >= 2 || (scheme.getGroupSize() &&
                                shape[*axis] % *scheme.getGroupSize() != 0)))
      return cst.emitError() << "squant.scheme does not fit the weight's shape";

    // View the weight as [outer, dim, inner] with groups along dim.
    int64_t outer = 1, dim = 1, inner = 1, group = 1;
    if (!axis) {
      dim = type.getNumElements();
      group = dim;
    } else {
      // Per group: groups run along `axis`. Per axis (a 2-D weight): one
      // group is the whole slice along the other axis.
      int64_t along = scheme.getGroupSize() ? *axis : 1 - *axis;
      for (int64_t d = 0; d < along; ++d)
        outer *= shape[d];
      dim = shape[along];
      for (int64_t d = along + 1; d < type.getRank(); ++d)
        inner *= shape[d];
      group = scheme.getGroupSize().value_or(dim);
    }
    ref::Scheme sc = scheme.toReference(ref::FloatFormat::F32);
    int64_t numParams = outer * (dim / group) * inner;
    size_t numElements = type.getNumElements();
    auto i8 = IntegerType::get(&getContext(), 8);
    auto codesType = RankedTensorType::get(shape, i8);
    bool packed = pack != "none";
    std::optional<PackOrder> order = symbolizePackOrder(pack);
    if (packed && !order)
      return cst.emitError() << "pack must be none, lsb_first or msb_first, "
                                "got '" << pack << "'";
    // Unpacked codes go straight into the constant's storage; packed ones
    // through a temporary.
    std::optional<ConstantBuffer> codeBuffer;
    std::vector<int8_t> temporary;
    int8_t *codes;
    if (packed) {
      temporary.resize(numElements);
      codes = temporary.data();
    } else {
      codeBuffer.emplace(numElements);
      codes = reinterpret_cast<int8_t *>(codeBuffer->data());
    }
    std::vector<float> scales(numParams), zps(numParams);
    ref::quantizeGroups(sc, x->data(), outer, dim, inner, group, codes,
                        scales.data(), zps.data());
    // (D5) A non-finite weight makes its group's scale or zero point
    // non-finite (min/max/mean propagate NaN and inf): report the first
    // offending element.
    for (int64_t g = 0; g < numParams; ++g)
      if (!std::isfinite(scales[g]) || !std::isfinite(zps[g])) {
        for (size_t i = 0; i < x->size(); ++i)
          if (!std::isfinite((*x)[i]))
            return cst.emitError()
                   << "weight has a non-finite value at flat index " << i
                   << "; squant quantizes finite weights only";
        return cst.emitError() << "the weight's range overflows fp32 in group "
                               << g << " (its scale is not finite)";
      }
    SmallVector<int64_t> paramShape = scheme.getParamShape(shape);

    OpBuilder builder(cst);
    builder.setInsertionPoint(use->getOwner());
    Value codeValue;
    if (!packed) {
      codeValue = arith::ConstantOp::create(
          builder, loc, codesType, codeBuffer->finish(codesType, "squant_codes"));
    } else {
      int64_t cols = shape.back(), rows = numElements / cols;
      int64_t rowBytes = ref::packedRowBytes(cols, scheme.getBits());
      ConstantBuffer bytes(rows * rowBytes);
      ref::packCodesInto(codes, rows, cols, scheme.getBits(),
                         static_cast<ref::PackOrder>(*order),
                         reinterpret_cast<uint8_t *>(bytes.data()));
      temporary = std::vector<int8_t>(); // release before building more
      SmallVector<int64_t> packedShape(shape);
      packedShape.back() = rowBytes;
      auto packedType = RankedTensorType::get(packedShape, i8);
      Value packedValue = arith::ConstantOp::create(
          builder, loc, packedType, bytes.finish(packedType, "squant_packed"));
      auto layout = PackedLayoutAttr::get(&getContext(), *order, scheme.getBits(),
                                          scheme.getStorage(), 1);
      codeValue = UnpackOp::create(builder, loc, codesType, packedValue, layout);
    }
    auto paramType = RankedTensorType::get(paramShape, type.getElementType());
    Value scaleValue = createFloatConstant(builder, loc, paramType, scales);
    Value zpValue;
    if (scheme.hasZeroPointOperand()) {
      if (scheme.hasIntZeroPoint()) {
        auto zpType = RankedTensorType::get(paramShape, i8);
        zpValue = arith::ConstantOp::create(
            builder, loc, zpType,
            makeInts(zpType, std::vector<int32_t>(zps.begin(), zps.end())));
      } else {
        zpValue = createFloatConstant(builder, loc, paramType, zps);
      }
    }
    Value dq = DequantizeOp::create(builder, loc, type, codeValue, scaleValue,
                                    zpValue, scheme);
    use->set(dq);
    if (cst->use_empty())
      cst->erase();
    return success();
  }
};

} // namespace
