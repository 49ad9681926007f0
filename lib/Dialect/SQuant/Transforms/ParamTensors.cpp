//===- ParamTensors.cpp - Scale, bias and table tensors for rewrites ------===//

#include "squant/Dialect/SQuant/Transforms/ParamTensors.h"
#include "squant/Dialect/SQuant/Transforms/Transforms.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include "squant/Dialect/SQuant/IR/ConstantValues.h"
#include "squant/Reference/OneFma.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/TypeUtilities.h"

#include <cmath>
#include <cstring>

using namespace mlir;
using namespace mlir::squant;

std::optional<std::vector<float>> mlir::squant::getConstantFloats(Value value) {
  Attribute attr;
  if (!value || !matchPattern(value, m_Constant(&attr)))
    return std::nullopt;
  return readFloats(attr);
}

std::optional<std::vector<float>>
mlir::squant::getConstantZeroPoints(AffineSchemeAttr scheme, Value zeroPoint,
                                    int64_t numParams) {
  Attribute attr;
  if (scheme.hasZeroPointOperand() &&
      (!zeroPoint || !matchPattern(zeroPoint, m_Constant(&attr))))
    return std::nullopt;
  return readZeroPoints(scheme, attr, numParams);
}

Value mlir::squant::createFloatConstant(OpBuilder &builder, Location loc,
                                        ShapedType type,
                                        const std::vector<float> &values) {
  return arith::ConstantOp::create(builder, loc, type, makeFloats(type, values));
}

FmaFormAttr mlir::squant::getFmaForm(AffineSchemeAttr scheme) {
  return FmaFormAttr::get(scheme.getContext(), scheme.getBits(),
                          scheme.getStorage(), scheme.getAxis(),
                          scheme.getGroupSize());
}

bool mlir::squant::isFoldExact(AffineSchemeAttr scheme, Type scaleElementType,
                               Value scale, Value zeroPoint, std::string &why) {
  ref::Scheme sc = scheme.toReference(getFloatFormat(scaleElementType));
  SchemeKind kind = scheme.getKind();
  if (kind == SchemeKind::FloatZeroPoint) {
    why = "tinygemm's reference rounds twice; fma(q, s, fma(s, -mid, zp)) "
          "differs by up to 2 ulp(M)";
    return false;
  }
  std::optional<std::vector<float>> scales = getConstantFloats(scale);
  std::optional<std::vector<float>> zps;
  if (scales)
    zps = getConstantZeroPoints(scheme, zeroPoint, scales->size());
  if (scales && zps) {
    // Constant parameters: check every group.
    for (size_t i = 0; i < scales->size(); ++i)
      if (!ref::foldIsExact(sc, {(*scales)[i], (*zps)[i]})) {
        why = "group " + std::to_string(i) + " has a bias zp*s that is not "
              "exactly representable";
        return false;
      }
    return true;
  }
  switch (kind) {
  case SchemeKind::Stretched:
    // s >= eps / qmax: 0.5 s is exact while s stays >= 2^-125.
    if (sc.eps / sc.stretchedQMax() < 0x1p-125f) {
      why = "eps allows a subnormal scale, where 0.5*s rounds";
      return false;
    }
    return sc.format == ref::FloatFormat::F32;
  case SchemeKind::Symmetric:
  case SchemeKind::SymmetricNoClippingErr:
    // zp is 0 or 2^(bits-1): zp*s is a power-of-two scaling.
    return true;
  default:
    why = "the INT-asymmetric bias fl(-zp*s) is rounded (up to 2 ulp(M))";
    return false;
  }
}

Value mlir::squant::buildFoldedBias(OpBuilder &builder, Location loc,
                                    AffineSchemeAttr scheme, Value scale,
                                    Value zeroPoint) {
  auto scaleType = cast<RankedTensorType>(scale.getType());
  Type elementType = scaleType.getElementType();
  ref::Scheme sc = scheme.toReference(getFloatFormat(elementType));

  // Constant parameters: the reference library's bias, bit for bit.
  std::optional<std::vector<float>> scales = getConstantFloats(scale);
  std::optional<std::vector<float>> zps;
  if (scales)
    zps = getConstantZeroPoints(scheme, zeroPoint, scales->size());
  if (scales && zps) {
    std::vector<float> bias(scales->size());
    for (size_t i = 0; i < bias.size(); ++i)
      bias[i] = ref::roundTo(ref::foldedBias(sc, {(*scales)[i], (*zps)[i]}),
                             sc.format);
    return createFloatConstant(builder, loc, scaleType, bias);
  }

  auto splat = [&](double v) -> Value {
    return arith::ConstantOp::create(
        builder, loc, scaleType,
        DenseElementsAttr::get(scaleType, builder.getFloatAttr(elementType, v)));
  };
  switch (scheme.getKind()) {
  case SchemeKind::Stretched:
    return arith::MulFOp::create(builder, loc, scale, splat(0.5));
  case SchemeKind::FloatZeroPoint:
    return math::FmaOp::create(builder, loc, scale, splat(-sc.midpoint()),
                               zeroPoint);
  case SchemeKind::Symmetric:
  case SchemeKind::SymmetricNoClippingErr: {
    float zp = sc.impliedZeroPoint();
    if (zp == 0.0f)
      return splat(0.0);
    return arith::MulFOp::create(builder, loc, scale, splat(-zp));
  }
  default: {
    // b = fl(-zp * s): zp converted exactly, negated exactly, one rounding.
    auto zpType = cast<RankedTensorType>(zeroPoint.getType());
    Type floatZpType = zpType.clone(elementType);
    Value zpFloat =
        scheme.isSigned()
            ? arith::SIToFPOp::create(builder, loc, floatZpType, zeroPoint).getResult()
            : arith::UIToFPOp::create(builder, loc, floatZpType, zeroPoint).getResult();
    Value negZp = arith::NegFOp::create(builder, loc, zpFloat);
    return arith::MulFOp::create(builder, loc, negZp, scale);
  }
  }
}

ConstantBuffer::ConstantBuffer(size_t bytes) {
  if (bytes >= kLargeBytes)
    blob = HeapAsmResourceBlob::allocate(bytes, alignof(uint64_t));
  else
    small.resize(bytes);
}

TypedAttr ConstantBuffer::finish(ShapedType type, StringRef name) {
  if (blob)
    return DenseResourceElementsAttr::get(type, name, std::move(*blob));
  return DenseElementsAttr::getFromRawBuffer(type, small);
}

/// The raw little-endian elements of `type` permuted into `resultType`: one
/// pass, no per-element attribute objects.
static TypedAttr permuted(ArrayRef<char> raw, RankedTensorType type,
                          RankedTensorType resultType, ArrayRef<int64_t> perm) {
  size_t bytes = type.getElementTypeBitWidth() / 8;
  int64_t rank = type.getRank();
  ArrayRef<int64_t> shape = resultType.getShape();
  SmallVector<int64_t> srcStrides(rank, 1);
  for (int64_t d = rank - 2; d >= 0; --d)
    srcStrides[d] = srcStrides[d + 1] * type.getDimSize(d + 1);
  ConstantBuffer out(raw.size());
  SmallVector<int64_t> idx(rank, 0);
  for (int64_t i = 0, e = type.getNumElements(); i < e; ++i) {
    int64_t src = 0;
    for (int64_t d = 0; d < rank; ++d)
      src += idx[d] * srcStrides[perm[d]];
    std::memcpy(out.data() + i * bytes, raw.data() + src * bytes, bytes);
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++idx[d] < shape[d])
        break;
      idx[d] = 0;
    }
  }
  return out.finish(resultType, "squant_transposed");
}

Value mlir::squant::transposeTensor(OpBuilder &builder, Location loc,
                                    Value value, ArrayRef<int64_t> perm) {
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back(type.getDimSize(p));
  auto resultType = RankedTensorType::get(shape, type.getElementType());

  Attribute constant;
  unsigned width = type.getElementTypeBitWidth();
  if (matchPattern(value, m_Constant(&constant)) && width % 8 == 0) {
    ArrayRef<char> raw;
    if (auto dense = dyn_cast<DenseElementsAttr>(constant)) {
      if (dense.isSplat())
        return arith::ConstantOp::create(builder, loc, resultType,
                                         dense.resizeSplat(resultType));
      raw = dense.getRawData();
    } else if (auto resource = dyn_cast<DenseResourceElementsAttr>(constant)) {
      if (AsmResourceBlob *blob = resource.getRawHandle().getBlob())
        raw = blob->getData();
    }
    size_t bytes = width / 8;
    if (raw.size() == size_t(type.getNumElements()) * bytes)
      return arith::ConstantOp::create(builder, loc, resultType,
                                       permuted(raw, type, resultType, perm));
  }
  Value init = tensor::EmptyOp::create(builder, loc, shape, type.getElementType());
  return linalg::TransposeOp::create(builder, loc, value, init, perm)
      .getResult()[0];
}

Value mlir::squant::expandTensor(OpBuilder &builder, Location loc, Value value,
                                 RankedTensorType type,
                                 ArrayRef<ReassociationIndices> reassociation) {
  DenseElementsAttr dense;
  if (matchPattern(value, m_Constant(&dense)))
    return arith::ConstantOp::create(builder, loc, type, dense.reshape(type));
  return tensor::ExpandShapeOp::create(builder, loc, type, value, reassociation);
}

Value mlir::squant::splatScalarTensor(OpBuilder &builder, Location loc,
                                      Value value, RankedTensorType type) {
  DenseElementsAttr dense;
  if (matchPattern(value, m_Constant(&dense)))
    return arith::ConstantOp::create(builder, loc, type, dense.resizeSplat(type));
  Value scalar = tensor::ExtractOp::create(builder, loc, value, ValueRange{});
  return tensor::SplatOp::create(builder, loc, type, scalar);
}

LogicalResult mlir::squant::applySQuantPatterns(Operation *op,
                                                RewritePatternSet &&patterns) {
  GreedyRewriteConfig config;
  config.enableFolding(false);
  if (succeeded(applyPatternsGreedily(op, std::move(patterns), config)))
    return success();
  return op->emitError("squant rewrites did not converge");
}
