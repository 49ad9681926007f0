//===- Codegen.cpp - Building blocks of convert-squant-to-vector ----------===//

#include "Codegen.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;
using namespace mlir::squant;
using namespace mlir::squant::lowering;

FailureOr<VectorTarget> lowering::resolveTarget(StringRef name) {
  if (name == "avx512")
    return VectorTarget{Isa::Avx512, 16};
  if (name == "avx2")
    return VectorTarget{Isa::Avx2, 8};
  if (name == "generic")
    return VectorTarget{Isa::Generic, 4};
  if (name != "host")
    return failure();
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  if (features.lookup("avx512f") && features.lookup("avx512bw"))
    return VectorTarget{Isa::Avx512, 16};
  if (features.lookup("avx2") && features.lookup("fma"))
    return VectorTarget{Isa::Avx2, 8};
  return VectorTarget{Isa::Generic, 4};
}

LogicalResult lowering::requireStaticShapes(Operation *op, StringRef what) {
  for (Type t : op->getOperandTypes())
    if (auto shaped = dyn_cast<ShapedType>(t); shaped && !shaped.hasStaticShape())
      return op->emitOpError() << "cannot be lowered" << what
                               << " with dynamic shapes";
  return success();
}

SmallVector<Operation *> lowering::collectSQuantOps(Operation *root) {
  SmallVector<Operation *> ops;
  root->walk([&](Operation *op) {
    if (isa<SQuantDialect>(op->getDialect()))
      ops.push_back(op);
  });
  return ops;
}

Value lowering::bufferOf(ImplicitLocOpBuilder &b, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  auto memrefType = MemRefType::get(type.getShape(), type.getElementType());
  return bufferization::ToBufferOp::create(b, memrefType, tensor,
                                           /*read_only=*/true);
}

Value lowering::allocBuffer(ImplicitLocOpBuilder &b, RankedTensorType type) {
  return memref::AllocOp::create(
      b, MemRefType::get(type.getShape(), type.getElementType()));
}

Value lowering::tensorOf(ImplicitLocOpBuilder &b, Value buffer,
                         RankedTensorType type) {
  return bufferization::ToTensorOp::create(b, type, buffer, /*restrict=*/true,
                                           /*writable=*/true);
}

Value lowering::indexConst(ImplicitLocOpBuilder &b, int64_t v) {
  return arith::ConstantIndexOp::create(b, v);
}

/// A constant of `scalar` type, splat when `like` is a vector type.
static Value constantLike(ImplicitLocOpBuilder &b, TypedAttr scalar, Type like) {
  if (auto vec = dyn_cast_or_null<VectorType>(like))
    return arith::ConstantOp::create(
        b, DenseElementsAttr::get(VectorType::get(vec.getShape(), scalar.getType()),
                                  scalar));
  return arith::ConstantOp::create(b, scalar);
}

Value lowering::i32Const(ImplicitLocOpBuilder &b, int32_t v, Type like) {
  return constantLike(b, b.getI32IntegerAttr(v), like);
}

Value lowering::f32Const(ImplicitLocOpBuilder &b, float v, Type like) {
  return constantLike(b, b.getF32FloatAttr(v), like);
}

void lowering::buildLoopNest(
    ImplicitLocOpBuilder &b, ArrayRef<int64_t> shape,
    function_ref<void(ImplicitLocOpBuilder &, ValueRange)> body) {
  SmallVector<Value> lbs, ubs, steps;
  for (int64_t d : shape) {
    lbs.push_back(indexConst(b, 0));
    ubs.push_back(indexConst(b, d));
    steps.push_back(indexConst(b, 1));
  }
  scf::buildLoopNest(b, b.getLoc(), lbs, ubs, steps,
                     [&](OpBuilder &nested, Location loc, ValueRange ivs) {
                       ImplicitLocOpBuilder inner(loc, nested);
                       body(inner, ivs);
                     });
}

SmallVector<Value> lowering::paramIndices(ImplicitLocOpBuilder &b,
                                          ValueRange indices,
                                          std::optional<int64_t> axis,
                                          std::optional<int64_t> groupSize) {
  if (!axis)
    return {};
  if (!groupSize)
    return {indices[*axis]};
  SmallVector<Value> result(indices.begin(), indices.end());
  result[*axis] =
      arith::DivUIOp::create(b, indices[*axis], indexConst(b, *groupSize));
  return result;
}

Value lowering::extendToI32(ImplicitLocOpBuilder &b, Value v, bool isSigned) {
  Type type = v.getType();
  Type i32 = b.getI32Type();
  if (auto vec = dyn_cast<VectorType>(type))
    i32 = VectorType::get(vec.getShape(), i32);
  unsigned width = getElementTypeOrSelf(type).getIntOrFloatBitWidth();
  if (width == 32)
    return v;
  if (width > 32)
    return arith::TruncIOp::create(b, i32, v);
  if (isSigned)
    return arith::ExtSIOp::create(b, i32, v);
  return arith::ExtUIOp::create(b, i32, v);
}

static Type withElement(Type like, Type element) {
  if (auto vec = dyn_cast<VectorType>(like))
    return VectorType::get(vec.getShape(), element);
  return element;
}

Value lowering::toF32(ImplicitLocOpBuilder &b, Value v) {
  if (getElementTypeOrSelf(v.getType()).isF32())
    return v;
  return arith::ExtFOp::create(b, withElement(v.getType(), b.getF32Type()), v);
}

Value lowering::fromF32(ImplicitLocOpBuilder &b, Value v, Type elementType) {
  if (elementType.isF32())
    return v;
  return arith::TruncFOp::create(b, withElement(v.getType(), elementType), v);
}

Value lowering::roundTo(ImplicitLocOpBuilder &b, Value v, Type format) {
  if (format.isF32())
    return v;
  return toF32(b, fromF32(b, v, format));
}

Value lowering::emitDequantize(ImplicitLocOpBuilder &b, const ref::Scheme &scheme,
                               Value q, Value scale, Value zeroPoint,
                               Type format) {
  Value qf = arith::SIToFPOp::create(b, withElement(q.getType(), b.getF32Type()), q);
  if (scheme.kind == ref::SchemeKind::FloatZeroPoint) {
    // Section 5.3: fl(fl((q - mid)·s) + zp), two roundings, no FMA.
    Value centred = arith::SubFOp::create(b, qf, f32Const(b, scheme.midpoint(), q.getType()));
    Value product = roundTo(b, arith::MulFOp::create(b, centred, scale), format);
    return roundTo(b, arith::AddFOp::create(b, product, zeroPoint), format);
  }
  // Sections 2 and 4.1: fl((q - zp)·s); q - zp is exact.
  Value shifted = arith::SubFOp::create(b, qf, zeroPoint);
  return roundTo(b, arith::MulFOp::create(b, shifted, scale), format);
}

/// std::min(std::max(v, lo), hi) exactly, NaN and signed zeros included.
static Value clampRange(ImplicitLocOpBuilder &b, Value v, Value lo, Value hi) {
  Value below = arith::CmpFOp::create(b, arith::CmpFPredicate::OLT, v, lo);
  Value atLeast = arith::SelectOp::create(b, below, lo, v);
  Value above = arith::CmpFOp::create(b, arith::CmpFPredicate::OLT, hi, atLeast);
  return arith::SelectOp::create(b, above, hi, atLeast);
}

/// ref::toInt32Saturating: NaN gives 0, out-of-range values saturate.
static Value toInt32Saturating(ImplicitLocOpBuilder &b, Value f) {
  Value lowest = f32Const(b, -2147483648.0f);
  Value limit = f32Const(b, 2147483648.0f);
  Value below = arith::CmpFOp::create(b, arith::CmpFPredicate::OLT, f, lowest);
  Value v = arith::SelectOp::create(b, below, lowest, f);
  Value tooBig = arith::CmpFOp::create(b, arith::CmpFPredicate::OGE, v, limit);
  v = arith::SelectOp::create(b, tooBig, f32Const(b, 0.0f), v);
  Value ordered = arith::CmpFOp::create(b, arith::CmpFPredicate::ORD, v, v);
  v = arith::SelectOp::create(b, ordered, v, f32Const(b, 0.0f));
  Value i = arith::FPToSIOp::create(b, b.getI32Type(), v);
  Value overflow = arith::CmpFOp::create(b, arith::CmpFPredicate::OGE, f, limit);
  return arith::SelectOp::create(b, overflow, i32Const(b, 2147483647), i);
}

Value lowering::emitQuantize(ImplicitLocOpBuilder &b, const ref::Scheme &scheme,
                             Value x, Value scale, Value zeroPoint, Type format) {
  auto fl = [&](Value v) { return roundTo(b, v, format); };
  Value qmin = f32Const(b, static_cast<float>(scheme.qmin));
  Value qmax = f32Const(b, static_cast<float>(scheme.qmax));
  switch (scheme.kind) {
  case ref::SchemeKind::Stretched: {
    // Section 4.1: clamp the input, true division, add -0.5, round.
    Value m = fl(arith::MulFOp::create(b, scale, f32Const(b, scheme.stretchedQMax())));
    Value negM = arith::NegFOp::create(b, m);
    Value xc = clampRange(b, x, negM, m);
    Value v = fl(arith::AddFOp::create(b, fl(arith::DivFOp::create(b, xc, scale)),
                                       zeroPoint));
    return toInt32Saturating(b, math::RoundEvenOp::create(b, v));
  }
  case ref::SchemeKind::FloatZeroPoint: {
    // Section 5.2: true division of the distance to min_val.
    Value minVal = fl(arith::SubFOp::create(
        b, zeroPoint, fl(arith::MulFOp::create(b, scale, f32Const(b, scheme.midpoint())))));
    Value v = math::RoundEvenOp::create(
        b, fl(arith::DivFOp::create(b, fl(arith::SubFOp::create(b, x, minVal)), scale)));
    return toInt32Saturating(b, clampRange(b, v, qmin, qmax));
  }
  default: {
    // Section 2: reciprocal, multiply, round, add zp, clamp.
    Value inv = fl(arith::DivFOp::create(b, f32Const(b, 1.0f), scale));
    Value v = math::RoundEvenOp::create(b, fl(arith::MulFOp::create(b, x, inv)));
    v = arith::AddFOp::create(b, v, zeroPoint);
    return toInt32Saturating(b, clampRange(b, v, qmin, qmax));
  }
  }
}

Value lowering::emitFmaDequantize(ImplicitLocOpBuilder &b, Value q, Value scale,
                                  Value bias, Type format) {
  Value qf = arith::SIToFPOp::create(b, withElement(q.getType(), b.getF32Type()), q);
  return roundTo(b, math::FmaOp::create(b, qf, scale, bias), format);
}

Value lowering::loadPackedByte(ImplicitLocOpBuilder &b, Value buffer,
                               ValueRange rowIndices, Value byteIndex) {
  auto type = cast<MemRefType>(buffer.getType());
  SmallVector<Value> indices(rowIndices.begin(), rowIndices.end());
  if (type.getElementType().isInteger(8)) {
    indices.push_back(byteIndex);
    Value byte = memref::LoadOp::create(b, buffer, indices);
    return arith::ExtUIOp::create(b, b.getI32Type(), byte);
  }
  // i32 words: byte j is bits [8 (j % 4), 8 (j % 4) + 8) of word j / 4.
  indices.push_back(arith::DivUIOp::create(b, byteIndex, indexConst(b, 4)));
  Value word = memref::LoadOp::create(b, buffer, indices);
  Value lane = arith::RemUIOp::create(b, byteIndex, indexConst(b, 4));
  Value shift = arith::MulIOp::create(
      b, arith::IndexCastOp::create(b, b.getI32Type(), lane), i32Const(b, 8));
  Value shifted = arith::ShRUIOp::create(b, word, shift);
  return arith::AndIOp::create(b, shifted, i32Const(b, 0xff));
}

Value lowering::emitFmaElement(ImplicitLocOpBuilder &b, FmaFormAttr form,
                               Value code, ValueRange indices, Value scales,
                               Value bias, Type format) {
  SmallVector<Value> p =
      paramIndices(b, indices, form.getAxis(), form.getGroupSize());
  Value s = toF32(b, memref::LoadOp::create(b, scales, p));
  Value bv = toF32(b, memref::LoadOp::create(b, bias, p));
  return emitFmaDequantize(b, code, s, bv, format);
}

Value lowering::emitLutElement(ImplicitLocOpBuilder &b, LutSchemeAttr scheme,
                               Value code, ValueRange indices, Value table,
                               Value scales, Type resultType) {
  // An index outside the table has no defined value (SEMANTICS.md 6):
  // masking keeps the read inside the table.
  int64_t entries = int64_t(1) << scheme.getBits();
  Value idx = arith::AndIOp::create(b, code, i32Const(b, entries - 1));
  SmallVector<Value> t = paramIndices(b, indices, scheme.getLutAxis(),
                                      scheme.getLutGroupSize());
  t.push_back(arith::IndexCastUIOp::create(b, b.getIndexType(), idx));
  Value raw = memref::LoadOp::create(b, table, t);
  bool intTable = raw.getType().isInteger(8);
  Value entry = intTable ? Value(arith::SIToFPOp::create(
                               b, b.getF32Type(), extendToI32(b, raw, true)))
                         : toF32(b, raw);
  if (!scales)
    return entry;
  SmallVector<Value> p =
      paramIndices(b, indices, scheme.getAxis(), scheme.getGroupSize());
  Value s = toF32(b, memref::LoadOp::create(b, scales, p));
  Value w = arith::MulFOp::create(b, s, entry);
  // int8 tables give fp32 results (6.1); float tables round to their type.
  return intTable ? w : roundTo(b, w, resultType);
}

LogicalResult lowering::replaceByLoopNest(
    RewriterBase &rewriter, ImplicitLocOpBuilder &b, Operation *op,
    RankedTensorType type,
    function_ref<Value(ImplicitLocOpBuilder &, ValueRange)> element) {
  Value out = allocBuffer(b, type);
  buildLoopNest(b, type.getShape(), [&](ImplicitLocOpBuilder &ib, ValueRange ivs) {
    memref::StoreOp::create(ib, element(ib, ivs), out, ivs);
  });
  rewriter.replaceOp(op, tensorOf(b, out, type));
  return success();
}
