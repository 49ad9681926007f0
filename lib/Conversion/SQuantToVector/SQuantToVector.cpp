//===- SQuantToVector.cpp - convert-squant-to-vector ----------------------===//
//
// Lowers squant ops on tensors to loops on buffers before bufferization
// (docs/Lowering.md): operands become read-only buffers through
// bufferization.to_buffer, results fresh buffers returned through
// bufferization.to_tensor. qmatmul takes the vector kernel of
// QMatmulToVector.cpp; the elementwise ops evaluate the reference
// numerics of Codegen.cpp in scalar loops, bit-exact.
//
//===----------------------------------------------------------------------===//

#include "squant/Conversion/Passes.h"

#include "Codegen.h"
#include "QMatmulToVector.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "squant/Reference/Pack.h"
#include "llvm/ADT/TypeSwitch.h"

namespace mlir::squant {
#define GEN_PASS_DEF_CONVERTSQUANTTOVECTOR
#include "squant/Conversion/Passes.h.inc"
} // namespace mlir::squant

using namespace mlir;
using namespace mlir::squant;
using namespace mlir::squant::lowering;

namespace {

/// An integer i32 (scalar) as `type` (truncated or sign-extended).
Value fromI32(ImplicitLocOpBuilder &b, Value v, Type type) {
  unsigned width = type.getIntOrFloatBitWidth();
  if (width == 32)
    return v;
  if (width < 32)
    return arith::TruncIOp::create(b, type, v);
  return arith::ExtSIOp::create(b, type, v);
}

/// The zero point of an element, as f32: an operand (integer or float) or
/// the value the scheme implies.
Value zeroPointAt(ImplicitLocOpBuilder &b, AffineSchemeAttr scheme,
                  const ref::Scheme &sc, Value zeroPoints, ValueRange p) {
  if (!zeroPoints)
    return f32Const(b, sc.impliedZeroPoint());
  Value raw = memref::LoadOp::create(b, zeroPoints, p);
  if (isa<IntegerType>(raw.getType()))
    return arith::SIToFPOp::create(b, b.getF32Type(),
                                   extendToI32(b, raw, scheme.isSigned()));
  return toF32(b, raw);
}

/// Codes held one per element in a type narrower than a byte (i4 from
/// upstream quant's storage types) are widened to i8 first: a memref keeps
/// such elements a byte apart, while a vector of them is bit-packed, so the
/// kernel's vector loads would read the wrong bits. Bytes packed by
/// squant.unpack are read as bytes and need nothing.
void widenSubByteCodes(RewriterBase &rewriter, QMatmulOp op) {
  auto type = op.getWeight().getType();
  if (type.getElementTypeBitWidth() >= 8 || op.getWeight().getDefiningOp<UnpackOp>())
    return;
  bool isSigned = false;
  if (auto fma = dyn_cast<FmaFormAttr>(op.getForm()))
    isSigned = fma.isSigned();
  auto wide = RankedTensorType::get(type.getShape(), rewriter.getI8Type());
  Value widened =
      isSigned ? Value(arith::ExtSIOp::create(rewriter, op.getLoc(), wide, op.getWeight()))
               : Value(arith::ExtUIOp::create(rewriter, op.getLoc(), wide, op.getWeight()));
  rewriter.modifyOpInPlace(op, [&] { op.getWeightMutable().assign(widened); });
}

LogicalResult requireStaticShape(Operation *op) {
  for (Type t : op->getOperandTypes())
    if (auto shaped = dyn_cast<ShapedType>(t); shaped && !shaped.hasStaticShape())
      return op->emitOpError("cannot be lowered with dynamic shapes");
  return success();
}

LogicalResult lowerDequantize(RewriterBase &rewriter, DequantizeOp op) {
  auto type = op.getResult().getType();
  ImplicitLocOpBuilder b(op.getLoc(), rewriter);
  AffineSchemeAttr scheme = op.getScheme();
  Type format = type.getElementType();
  ref::Scheme sc = scheme.toReference(getFloatFormat(format));
  Value q = bufferOf(b, op.getInput()), s = bufferOf(b, op.getScale());
  Value zp = op.getZeroPoint() ? bufferOf(b, op.getZeroPoint()) : Value();
  return replaceByLoopNest(rewriter, b, op, type, [&](ImplicitLocOpBuilder &ib, ValueRange ivs) {
    SmallVector<Value> p =
        paramIndices(ib, ivs, scheme.getAxis(), scheme.getGroupSize());
    Value code = extendToI32(ib, memref::LoadOp::create(ib, q, ivs), scheme.isSigned());
    Value w = emitDequantize(ib, sc, code, toF32(ib, memref::LoadOp::create(ib, s, p)),
                             zeroPointAt(ib, scheme, sc, zp, p), format);
    return fromF32(ib, w, format);
  });
}

LogicalResult lowerQuantize(RewriterBase &rewriter, QuantizeOp op) {
  auto type = op.getResult().getType();
  ImplicitLocOpBuilder b(op.getLoc(), rewriter);
  AffineSchemeAttr scheme = op.getScheme();
  Type format = op.getInput().getType().getElementType();
  ref::Scheme sc = scheme.toReference(getFloatFormat(format));
  Value x = bufferOf(b, op.getInput()), s = bufferOf(b, op.getScale());
  Value zp = op.getZeroPoint() ? bufferOf(b, op.getZeroPoint()) : Value();
  return replaceByLoopNest(rewriter, b, op, type, [&](ImplicitLocOpBuilder &ib, ValueRange ivs) {
    SmallVector<Value> p =
        paramIndices(ib, ivs, scheme.getAxis(), scheme.getGroupSize());
    Value code = emitQuantize(ib, sc, toF32(ib, memref::LoadOp::create(ib, x, ivs)),
                              toF32(ib, memref::LoadOp::create(ib, s, p)),
                              zeroPointAt(ib, scheme, sc, zp, p), format);
    return fromI32(ib, code, type.getElementType());
  });
}

LogicalResult lowerFmaDequantize(RewriterBase &rewriter, FmaDequantizeOp op) {
  auto type = op.getResult().getType();
  ImplicitLocOpBuilder b(op.getLoc(), rewriter);
  FmaFormAttr form = op.getForm();
  Value q = bufferOf(b, op.getInput()), s = bufferOf(b, op.getScale()),
        bias = bufferOf(b, op.getBias());
  Type format = type.getElementType();
  return replaceByLoopNest(rewriter, b, op, type, [&](ImplicitLocOpBuilder &ib, ValueRange ivs) {
    Value code = extendToI32(ib, memref::LoadOp::create(ib, q, ivs), form.isSigned());
    Value w = emitFmaElement(ib, form, code, ivs, s, bias, format);
    return fromF32(ib, w, format);
  });
}

LogicalResult lowerLutDequantize(RewriterBase &rewriter, LutDequantizeOp op) {
  auto type = op.getResult().getType();
  ImplicitLocOpBuilder b(op.getLoc(), rewriter);
  Value q = bufferOf(b, op.getInput()), table = bufferOf(b, op.getTable());
  Value s = op.getScales() ? bufferOf(b, op.getScales()) : Value();
  Type format = type.getElementType();
  return replaceByLoopNest(rewriter, b, op, type, [&](ImplicitLocOpBuilder &ib, ValueRange ivs) {
    Value code = extendToI32(ib, memref::LoadOp::create(ib, q, ivs), false);
    Value w = emitLutElement(ib, op.getScheme(), code, ivs, table, s, format);
    return fromF32(ib, w, format);
  });
}

/// Bit position of code `col` in its row: the byte and the offset in it.
std::pair<Value, Value> bitPosition(ImplicitLocOpBuilder &b, Value col,
                                    unsigned bits) {
  Value pos = arith::MulIOp::create(b, col, indexConst(b, bits));
  Value byte = arith::DivUIOp::create(b, pos, indexConst(b, 8));
  Value off = arith::IndexCastOp::create(
      b, b.getI32Type(), arith::RemUIOp::create(b, pos, indexConst(b, 8)));
  return {byte, off};
}

LogicalResult lowerUnpack(RewriterBase &rewriter, UnpackOp op) {
  auto type = op.getResult().getType();
  ImplicitLocOpBuilder b(op.getLoc(), rewriter);
  PackedLayoutAttr layout = op.getLayout();
  unsigned bits = layout.getBits();
  int64_t cols = type.getShape().back();
  int64_t rowBytes = ref::packedRowBytes(cols, bits);
  Value in = bufferOf(b, op.getInput());
  return replaceByLoopNest(rewriter, b, op, type, [&](ImplicitLocOpBuilder &ib, ValueRange ivs) {
    auto [byte, off] = bitPosition(ib, ivs.back(), bits);
    ValueRange rows = ivs.drop_back();
    // The second byte matters only when the code crosses into it, in which
    // case it exists; otherwise re-reading the last byte is harmless.
    Value next = arith::MinUIOp::create(
        ib, arith::AddIOp::create(ib, byte, indexConst(ib, 1)),
        indexConst(ib, rowBytes - 1));
    Value b0 = loadPackedByte(ib, in, rows, byte);
    Value b1 = loadPackedByte(ib, in, rows, next);
    Value eight = i32Const(ib, 8);
    Value code;
    if (layout.getOrder() == PackOrder::LsbFirst) {
      Value word = arith::OrIOp::create(ib, b0, arith::ShLIOp::create(ib, b1, eight));
      code = arith::ShRUIOp::create(ib, word, off);
    } else {
      Value word = arith::OrIOp::create(ib, arith::ShLIOp::create(ib, b0, eight), b1);
      Value shift = arith::SubIOp::create(ib, i32Const(ib, 16 - bits), off);
      code = arith::ShRUIOp::create(ib, word, shift);
    }
    code = arith::AndIOp::create(ib, code, i32Const(ib, (1 << bits) - 1));
    if (layout.getStorage() == Storage::Signed) {
      Value sign = i32Const(ib, 1 << (bits - 1));
      code = arith::SubIOp::create(ib, arith::XOrIOp::create(ib, code, sign), sign);
    }
    return fromI32(ib, code, type.getElementType());
  });
}

/// ORs `value` (i32, < 256) into byte `byteIndex` of a packed row.
void orPackedByte(ImplicitLocOpBuilder &b, Value buffer, ValueRange rows,
                  Value byteIndex, Value value) {
  auto type = cast<MemRefType>(buffer.getType());
  SmallVector<Value> at(rows.begin(), rows.end());
  Value shifted = value;
  if (type.getElementType().isInteger(8)) {
    at.push_back(byteIndex);
  } else {
    at.push_back(arith::DivUIOp::create(b, byteIndex, indexConst(b, 4)));
    Value lane = arith::IndexCastOp::create(
        b, b.getI32Type(), arith::RemUIOp::create(b, byteIndex, indexConst(b, 4)));
    shifted = arith::ShLIOp::create(
        b, value, arith::MulIOp::create(b, lane, i32Const(b, 8)));
  }
  Value old = memref::LoadOp::create(b, buffer, at);
  Value add = fromI32(b, shifted, type.getElementType());
  memref::StoreOp::create(b, arith::OrIOp::create(b, old, add), buffer, at);
}

LogicalResult lowerPack(RewriterBase &rewriter, PackOp op) {
  auto type = op.getResult().getType();
  auto inType = op.getInput().getType();
  ImplicitLocOpBuilder b(op.getLoc(), rewriter);
  PackedLayoutAttr layout = op.getLayout();
  unsigned bits = layout.getBits();
  int64_t rowBytes = ref::packedRowBytes(inType.getShape().back(), bits);
  Value in = bufferOf(b, op.getInput());
  Value out = allocBuffer(b, type);
  Value zero = arith::ConstantOp::create(b, b.getIntegerAttr(type.getElementType(), 0));
  buildLoopNest(b, type.getShape(), [&](ImplicitLocOpBuilder &ib, ValueRange ivs) {
    memref::StoreOp::create(ib, zero, out, ivs);
  });
  buildLoopNest(b, inType.getShape(), [&](ImplicitLocOpBuilder &ib, ValueRange ivs) {
    auto [byte, off] = bitPosition(ib, ivs.back(), bits);
    ValueRange rows = ivs.drop_back();
    Value code = extendToI32(ib, memref::LoadOp::create(ib, in, ivs), true);
    code = arith::AndIOp::create(ib, code, i32Const(ib, (1 << bits) - 1));
    Value first, second;
    Value mask = i32Const(ib, 0xff), eight = i32Const(ib, 8);
    if (layout.getOrder() == PackOrder::LsbFirst) {
      Value word = arith::ShLIOp::create(ib, code, off);
      first = arith::AndIOp::create(ib, word, mask);
      second = arith::ShRUIOp::create(ib, word, eight);
    } else {
      Value shift = arith::SubIOp::create(ib, i32Const(ib, 16 - bits), off);
      Value word = arith::ShLIOp::create(ib, code, shift);
      first = arith::ShRUIOp::create(ib, word, eight);
      second = arith::AndIOp::create(ib, word, mask);
    }
    // The second byte is zero unless the code crosses into it, in which
    // case it exists; ORing zero into the clamped last byte is harmless.
    Value next = arith::MinUIOp::create(
        ib, arith::AddIOp::create(ib, byte, indexConst(ib, 1)),
        indexConst(ib, rowBytes - 1));
    orPackedByte(ib, out, rows, byte, first);
    orPackedByte(ib, out, rows, next, second);
  });
  rewriter.replaceOp(op, tensorOf(b, out, type));
  return success();
}

struct ConvertSQuantToVectorPass
    : public squant::impl::ConvertSQuantToVectorBase<ConvertSQuantToVectorPass> {
  using Base::Base;

  void runOnOperation() override {
    FailureOr<VectorTarget> vectorTarget = resolveTarget(target);
    if (failed(vectorTarget)) {
      getOperation().emitError() << "convert-squant-to-vector: unknown target '"
                                 << target << "' (host, avx512, avx2, generic)";
      return signalPassFailure();
    }
    if (hoistMaxM < 0 || rowTile < 1 || rowTile > 8) {
      getOperation().emitError()
          << "convert-squant-to-vector: hoist-max-m must be >= 0 and "
             "row-tile in [1, 8]";
      return signalPassFailure();
    }
    KernelOptions options{*vectorTarget, hoistMaxM, rowTile, remarks};

    // qmatmul first: it reads the bytes of a packing unpack directly.
    SmallVector<QMatmulOp> matmuls;
    getOperation().walk([&](QMatmulOp op) { matmuls.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (QMatmulOp op : matmuls) {
      rewriter.setInsertionPoint(op);
      widenSubByteCodes(rewriter, op);
      if (failed(requireStaticShape(op)) || failed(lowerQMatmul(rewriter, op, options)))
        return signalPassFailure();
    }

    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) {
      if (isa<SQuantDialect>(op->getDialect()))
        ops.push_back(op);
    });
    for (Operation *op : ops) {
      if (op->use_empty() && isPure(op)) {
        rewriter.eraseOp(op);
        continue;
      }
      rewriter.setInsertionPoint(op);
      if (failed(requireStaticShape(op)))
        return signalPassFailure();
      LogicalResult result =
          TypeSwitch<Operation *, LogicalResult>(op)
              .Case([&](DequantizeOp o) { return lowerDequantize(rewriter, o); })
              .Case([&](QuantizeOp o) { return lowerQuantize(rewriter, o); })
              .Case([&](FmaDequantizeOp o) { return lowerFmaDequantize(rewriter, o); })
              .Case([&](LutDequantizeOp o) { return lowerLutDequantize(rewriter, o); })
              .Case([&](PackOp o) { return lowerPack(rewriter, o); })
              .Case([&](UnpackOp o) { return lowerUnpack(rewriter, o); })
              .Default([&](Operation *o) {
                return o->emitOpError()
                       << "has no lowering to loops; fold it first (a "
                          "constant input folds under --canonicalize)";
              });
      if (failed(result))
        return signalPassFailure();
    }
  }
};

} // namespace
