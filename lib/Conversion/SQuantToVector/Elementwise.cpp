//===- Elementwise.cpp - squant's elementwise ops as element functions ----===//

#include "Elementwise.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "squant/Reference/Pack.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::squant;
using namespace mlir::squant::lowering;

Value lowering::fromI32(ImplicitLocOpBuilder &b, Value v, Type type) {
  unsigned width = type.getIntOrFloatBitWidth();
  if (width == 32)
    return v;
  if (width < 32)
    return arith::TruncIOp::create(b, type, v);
  return arith::ExtSIOp::create(b, type, v);
}

namespace {

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

using Buffers = ValueRange;

/// What dequantize and quantize share: operands (input, scale, optional
/// zero point) and, per element, the input element and the element's scale
/// and zero point (f32); `finish` computes the result from them.
struct AffineElement {
  Value input, scale, zeroPoint;
};
template <typename OpTy>
ElementFunction affineElementFunction(
    OpTy op, Type format,
    std::function<Value(ImplicitLocOpBuilder &, const AffineElement &)> finish) {
  AffineSchemeAttr scheme = op.getScheme();
  ref::Scheme sc = scheme.toReference(getFloatFormat(format));
  ElementFunction f;
  f.operands = {op.getInput(), op.getScale()};
  bool hasZp = bool(op.getZeroPoint());
  if (hasZp)
    f.operands.push_back(op.getZeroPoint());
  f.element = [=](ImplicitLocOpBuilder &b, Buffers bufs, ValueRange ivs) {
    SmallVector<Value> p =
        paramIndices(b, ivs, scheme.getAxis(), scheme.getGroupSize());
    AffineElement e{memref::LoadOp::create(b, bufs[0], ivs),
                    toF32(b, memref::LoadOp::create(b, bufs[1], p)),
                    zeroPointAt(b, scheme, sc, hasZp ? bufs[2] : Value(), p)};
    return finish(b, e);
  };
  return f;
}

ElementFunction dequantize(DequantizeOp op) {
  AffineSchemeAttr scheme = op.getScheme();
  Type format = op.getResult().getType().getElementType();
  ref::Scheme sc = scheme.toReference(getFloatFormat(format));
  return affineElementFunction(
      op, format, [=](ImplicitLocOpBuilder &b, const AffineElement &e) {
        Value code = extendToI32(b, e.input, scheme.isSigned());
        Value w = emitDequantize(b, sc, code, e.scale, e.zeroPoint, format);
        return fromF32(b, w, format);
      });
}

ElementFunction quantize(QuantizeOp op) {
  AffineSchemeAttr scheme = op.getScheme();
  Type format = op.getInput().getType().getElementType();
  Type resultElement = op.getResult().getType().getElementType();
  ref::Scheme sc = scheme.toReference(getFloatFormat(format));
  return affineElementFunction(
      op, format, [=](ImplicitLocOpBuilder &b, const AffineElement &e) {
        Value code = emitQuantize(b, sc, toF32(b, e.input), e.scale,
                                  e.zeroPoint, format);
        return fromI32(b, code, resultElement);
      });
}

ElementFunction fmaDequantize(FmaDequantizeOp op) {
  FmaFormAttr form = op.getForm();
  Type format = op.getResult().getType().getElementType();
  ElementFunction f;
  f.operands = {op.getInput(), op.getScale(), op.getBias()};
  f.element = [=](ImplicitLocOpBuilder &b, Buffers bufs, ValueRange ivs) {
    Value code = extendToI32(b, memref::LoadOp::create(b, bufs[0], ivs),
                             form.isSigned());
    Value w = emitFmaElement(b, form, code, ivs, bufs[1], bufs[2], format);
    return fromF32(b, w, format);
  };
  return f;
}

ElementFunction lutDequantize(LutDequantizeOp op) {
  LutSchemeAttr scheme = op.getScheme();
  Type format = op.getResult().getType().getElementType();
  ElementFunction f;
  f.operands = {op.getInput(), op.getTable()};
  bool hasScales = bool(op.getScales());
  if (hasScales)
    f.operands.push_back(op.getScales());
  f.element = [=](ImplicitLocOpBuilder &b, Buffers bufs, ValueRange ivs) {
    Value code = extendToI32(b, memref::LoadOp::create(b, bufs[0], ivs), false);
    Value w = emitLutElement(b, scheme, code, ivs, bufs[1],
                             hasScales ? bufs[2] : Value(), format);
    return fromF32(b, w, format);
  };
  return f;
}

ElementFunction unpack(UnpackOp op) {
  PackedLayoutAttr layout = op.getLayout();
  auto type = op.getResult().getType();
  int64_t rowBytes =
      ref::packedRowBytes(type.getShape().back(), layout.getBits());
  Type element = type.getElementType();
  ElementFunction f;
  f.operands = {op.getInput()};
  f.element = [=](ImplicitLocOpBuilder &b, Buffers bufs, ValueRange ivs) {
    Value code = emitUnpackedCode(b, layout, bufs[0], ivs.drop_back(),
                                  ivs.back(), rowBytes);
    return fromI32(b, code, element);
  };
  return f;
}

} // namespace

/// Bit position of code `col` in its row: the byte and the offset in it.
std::pair<Value, Value> lowering::bitPosition(ImplicitLocOpBuilder &b, Value col,
                                    unsigned bits) {
  Value pos = arith::MulIOp::create(b, col, indexConst(b, bits));
  Value byte = arith::DivUIOp::create(b, pos, indexConst(b, 8));
  Value off = arith::IndexCastOp::create(
      b, b.getI32Type(), arith::RemUIOp::create(b, pos, indexConst(b, 8)));
  return {byte, off};
}

Value lowering::emitUnpackedCode(ImplicitLocOpBuilder &b,
                                 PackedLayoutAttr layout, Value bytes,
                                 ValueRange rows, Value col,
                                 int64_t rowBytes) {
  unsigned bits = layout.getBits();
  auto [byte, off] = bitPosition(b, col, bits);
  // The second byte matters only when the code crosses into it, in which
  // case it exists; otherwise re-reading the last byte is harmless.
  Value next = arith::MinUIOp::create(
      b, arith::AddIOp::create(b, byte, indexConst(b, 1)),
      indexConst(b, rowBytes - 1));
  Value b0 = loadPackedByte(b, bytes, rows, byte);
  Value b1 = loadPackedByte(b, bytes, rows, next);
  Value eight = i32Const(b, 8);
  Value code;
  if (layout.getOrder() == PackOrder::LsbFirst) {
    Value word = arith::OrIOp::create(b, b0, arith::ShLIOp::create(b, b1, eight));
    code = arith::ShRUIOp::create(b, word, off);
  } else {
    Value word = arith::OrIOp::create(b, arith::ShLIOp::create(b, b0, eight), b1);
    Value shift = arith::SubIOp::create(b, i32Const(b, 16 - bits), off);
    code = arith::ShRUIOp::create(b, word, shift);
  }
  code = arith::AndIOp::create(b, code, i32Const(b, (1 << bits) - 1));
  if (layout.getStorage() == Storage::Signed) {
    Value sign = i32Const(b, 1 << (bits - 1));
    code = arith::SubIOp::create(b, arith::XOrIOp::create(b, code, sign), sign);
  }
  return code;
}

Value lowering::emitQMatmulWeight(ImplicitLocOpBuilder &b, QMatmulOp op,
                                 Value element, ValueRange at, Value scales,
                                 Value bias, Value table) {
  if (auto fma = dyn_cast<FmaFormAttr>(op.getForm()))
    return emitFmaElement(
        b, fma, extendToI32(b, element, fma.isSigned()), at, scales, bias,
        cast<ShapedType>(op.getScales().getType()).getElementType());
  return emitLutElement(b, cast<LutSchemeAttr>(op.getForm()),
                        extendToI32(b, element, false), at, table, scales,
                        op.getResult().getType().getElementType());
}

FailureOr<ElementFunction> lowering::getElementFunction(Operation *op) {
  return TypeSwitch<Operation *, FailureOr<ElementFunction>>(op)
      .Case([](DequantizeOp o) { return dequantize(o); })
      .Case([](QuantizeOp o) { return quantize(o); })
      .Case([](FmaDequantizeOp o) { return fmaDequantize(o); })
      .Case([](LutDequantizeOp o) { return lutDequantize(o); })
      .Case([](UnpackOp o) { return unpack(o); })
      .Default([](Operation *) { return failure(); });
}
