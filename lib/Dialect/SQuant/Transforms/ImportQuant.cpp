//===- ImportQuant.cpp - squant-import-quant ------------------------------===//
//
// Upstream `quant` -> squant. A tensor of !quant.uniform becomes a tensor of
// its storage integers; its scales and zero points, which upstream keeps in
// the type, become constant operands of squant.quantize / dequantize.
//
//===----------------------------------------------------------------------===//

#include "squant/Dialect/SQuant/Transforms/Passes.h"

#include "squant/Dialect/SQuant/IR/ConstantValues.h"
#include "squant/Dialect/SQuant/IR/SQuant.h"
#include "squant/Dialect/SQuant/Transforms/ParamTensors.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Func/Transforms/FuncConversions.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::squant {
#define GEN_PASS_DEF_SQUANTIMPORTQUANT
#include "squant/Dialect/SQuant/Transforms/Passes.h.inc"
} // namespace mlir::squant

using namespace mlir;
using namespace mlir::squant;

namespace {

/// A quantized tensor type in squant's terms.
struct ImportedScheme {
  AffineSchemeAttr scheme;
  std::vector<float> scales; // row-major over the parameter shape
  std::vector<int32_t> zeroPoints;
  SmallVector<int64_t> paramShape;
  Type expressed;
};

/// Why a quantized tensor type has no squant form, or its scheme.
FailureOr<ImportedScheme> importType(RankedTensorType type, std::string &why) {
  auto qtype = dyn_cast<quant::UniformQuantizedType>(type.getElementType());
  auto axisType =
      dyn_cast<quant::UniformQuantizedPerAxisType>(type.getElementType());
  auto subType =
      dyn_cast<quant::UniformQuantizedSubChannelType>(type.getElementType());
  auto base = dyn_cast<quant::QuantizedType>(type.getElementType());
  if (!qtype && !axisType && !subType) {
    why = "only uniform quantized types have a squant form";
    return failure();
  }
  unsigned bits = base.getStorageTypeIntegralWidth();
  if (bits > 8) {
    why = "storage of " + std::to_string(bits) +
          " bits: squant codes have 1 to 8 bits";
    return failure();
  }
  if (!type.hasStaticShape()) {
    why = "dynamic shapes are not imported";
    return failure();
  }
  Type expressed = base.getExpressedType();
  if (!expressed.isF32() && !expressed.isBF16() && !expressed.isF16()) {
    why = "the expressed type must be f32, bf16 or f16";
    return failure();
  }
  ImportedScheme result;
  result.expressed = expressed;
  ref::FloatFormat format = getFloatFormat(expressed);
  std::optional<int64_t> axis, groupSize;
  auto addScale = [&](double s) {
    result.scales.push_back(ref::roundTo(static_cast<float>(s), format));
  };
  if (qtype) {
    addScale(qtype.getScale());
    result.zeroPoints.push_back(qtype.getZeroPoint());
  } else if (axisType) {
    axis = axisType.getQuantizedDimension();
    for (double s : axisType.getScales())
      addScale(s);
    for (int64_t z : axisType.getZeroPoints())
      result.zeroPoints.push_back(z);
    result.paramShape = {type.getDimSize(*axis)};
  } else {
    // Blocks along one axis only: squant's per-group granularity.
    SmallVector<int64_t> blocks(type.getShape());
    for (auto [dim, block] :
         llvm::zip(subType.getQuantizedDimensions(), subType.getBlockSizes()))
      blocks[dim] = block;
    for (int64_t d = 0; d < type.getRank(); ++d) {
      if (blocks[d] == 1 || type.getDimSize(d) == 1)
        continue;
      if (axis) {
        why = "sub-channel blocks along more than one axis";
        return failure();
      }
      axis = d;
    }
    if (!axis)
      axis = type.getRank() - 1;
    groupSize = blocks[*axis];
    for (APFloat s : subType.getScales().getValues<APFloat>())
      addScale(s.convertToDouble());
    for (APInt z : subType.getZeroPoints().getValues<APInt>())
      result.zeroPoints.push_back(static_cast<int32_t>(z.getSExtValue()));
    result.paramShape = llvm::to_vector(
        cast<ShapedType>(subType.getScales().getType()).getShape());
  }
  bool isSigned = base.isSigned();
  bool allZero = llvm::all_of(result.zeroPoints, [](int32_t z) { return z == 0; });
  SchemeKind kind =
      isSigned && allZero ? SchemeKind::Symmetric : SchemeKind::Asymmetric;
  MLIRContext *ctx = type.getContext();
  Storage storage = isSigned ? Storage::Signed : Storage::Unsigned;
  // quant's storage range lies inside its storage type by construction, so
  // the scheme verifies; the defaults are left implicit.
  std::optional<int64_t> qmin = base.getStorageTypeMin(),
                         qmax = base.getStorageTypeMax();
  if (*qmin == ref::storageMin(bits, isSigned))
    qmin = std::nullopt;
  if (*qmax == ref::storageMax(bits, isSigned))
    qmax = std::nullopt;
  result.scheme = AffineSchemeAttr::get(ctx, kind, bits, storage, axis,
                                        groupSize, qmin, qmax, FloatAttr());
  return result;
}

/// tensor<...x!quant.uniform<iN:...>> -> tensor<...xiN>.
class QuantTypeConverter : public TypeConverter {
public:
  QuantTypeConverter() {
    addConversion([](Type type) { return type; });
    addConversion([](RankedTensorType type) -> Type {
      auto q = dyn_cast<quant::QuantizedType>(type.getElementType());
      if (!q)
        return type;
      return type.clone(IntegerType::get(type.getContext(),
                                         q.getStorageTypeIntegralWidth()));
    });
  }
};

/// The constant scale and zero-point operands of an imported scheme.
std::pair<Value, Value> materializeParams(OpBuilder &builder, Location loc,
                                          const ImportedScheme &s) {
  auto scaleType = RankedTensorType::get(s.paramShape, s.expressed);
  Value scale = createFloatConstant(builder, loc, scaleType, s.scales);
  Value zp;
  if (s.scheme.hasZeroPointOperand()) {
    auto zpType = RankedTensorType::get(s.paramShape, builder.getI32Type());
    zp = arith::ConstantOp::create(builder, loc, zpType,
                                   makeInts(zpType, s.zeroPoints));
  }
  return {scale, zp};
}

struct DequantizeCastPattern : OpConversionPattern<quant::DequantizeCastOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(quant::DequantizeCastOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    std::string why;
    FailureOr<ImportedScheme> s =
        importType(cast<RankedTensorType>(op.getInput().getType()), why);
    if (failed(s))
      return rewriter.notifyMatchFailure(op, why);
    auto [scale, zp] = materializeParams(rewriter, op.getLoc(), *s);
    rewriter.replaceOpWithNewOp<DequantizeOp>(op, op.getType(), adaptor.getInput(),
                                              scale, zp, s->scheme);
    return success();
  }
};

struct QuantizeCastPattern : OpConversionPattern<quant::QuantizeCastOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(quant::QuantizeCastOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    std::string why;
    auto resultType = cast<RankedTensorType>(op.getType());
    FailureOr<ImportedScheme> s = importType(resultType, why);
    if (failed(s))
      return rewriter.notifyMatchFailure(op, why);
    auto [scale, zp] = materializeParams(rewriter, op.getLoc(), *s);
    rewriter.replaceOpWithNewOp<QuantizeOp>(
        op, getTypeConverter()->convertType(resultType), adaptor.getInput(),
        scale, zp, s->scheme);
    return success();
  }
};

/// Storage and quantized tensors are the same values after import.
struct StorageCastPattern : OpConversionPattern<quant::StorageCastOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(quant::StorageCastOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, adaptor.getInput());
    return success();
  }
};

struct ImportQuantPass
    : squant::impl::SQuantImportQuantBase<ImportQuantPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Diagnose everything squant cannot represent first, once per value: at
    // the op that defines it or the function that takes it.
    bool ok = true;
    module.walk([&](Operation *op) {
      auto check = [&](Type type) {
        auto tensor = dyn_cast<RankedTensorType>(type);
        Type element = tensor ? tensor.getElementType() : type;
        if (!isa<quant::QuantizedType>(element))
          return;
        std::string why = "a scalar quantized value";
        if (tensor && succeeded(importType(tensor, why)))
          return;
        op->emitError() << "cannot import " << type << " into squant: " << why;
        ok = false;
      };
      for (Type t : op->getResultTypes())
        check(t);
      if (auto fn = dyn_cast<FunctionOpInterface>(op))
        for (Type t : fn.getArgumentTypes())
          check(t);
    });
    if (!ok)
      return signalPassFailure();

    QuantTypeConverter converter;
    ConversionTarget target(getContext());
    // Every quant op is rewritten; other ops are legal once their types are.
    target.addIllegalDialect<quant::QuantDialect>();
    target.addLegalDialect<SQuantDialect, arith::ArithDialect>();
    target.addDynamicallyLegalOp<func::FuncOp>([&](func::FuncOp op) {
      return converter.isSignatureLegal(op.getFunctionType()) &&
             converter.isLegal(&op.getBody());
    });
    target.markUnknownOpDynamicallyLegal(
        [&](Operation *op) { return converter.isLegal(op); });
    RewritePatternSet patterns(&getContext());
    patterns.add<DequantizeCastPattern, QuantizeCastPattern, StorageCastPattern>(
        converter, &getContext());
    populateFunctionOpInterfaceTypeConversionPattern<func::FuncOp>(patterns,
                                                                   converter);
    populateCallOpTypeConversionPattern(patterns, converter);
    populateReturnOpTypeConversionPattern(patterns, converter);
    // quant folds dcast(qcast(x)) to x; squant keeps the (lossy) round trip.
    ConversionConfig config;
    config.foldingMode = DialectConversionFoldingMode::Never;
    if (failed(applyFullConversion(module, target, std::move(patterns), config)))
      signalPassFailure();
  }
};

} // namespace
