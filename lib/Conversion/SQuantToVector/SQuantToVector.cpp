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
#include "Elementwise.h"
#include "QMatmulToVector.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "squant/Reference/Pack.h"

namespace mlir::squant {
#define GEN_PASS_DEF_CONVERTSQUANTTOVECTOR
#include "squant/Conversion/Passes.h.inc"
} // namespace mlir::squant

using namespace mlir;
using namespace mlir::squant;
using namespace mlir::squant::lowering;

namespace {

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

/// An elementwise op as a loop nest over its result, each element computed
/// by its element function (Elementwise.cpp).
LogicalResult lowerElementwise(RewriterBase &rewriter, Operation *op,
                               const ElementFunction &f) {
  auto type = cast<RankedTensorType>(op->getResult(0).getType());
  ImplicitLocOpBuilder b(op->getLoc(), rewriter);
  SmallVector<Value> buffers;
  for (Value operand : f.operands)
    buffers.push_back(bufferOf(b, operand));
  return replaceByLoopNest(rewriter, b, op, type,
                           [&](ImplicitLocOpBuilder &ib, ValueRange ivs) {
                             return f.element(ib, buffers, ivs);
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
      if (failed(requireStaticShapes(op)) || failed(lowerQMatmul(rewriter, op, options)))
        return signalPassFailure();
    }

    SmallVector<Operation *> ops = collectSQuantOps(getOperation());
    for (Operation *op : ops) {
      if (op->use_empty() && isPure(op)) {
        rewriter.eraseOp(op);
        continue;
      }
      rewriter.setInsertionPoint(op);
      if (failed(requireStaticShapes(op)))
        return signalPassFailure();
      LogicalResult result = success();
      if (auto pack = dyn_cast<PackOp>(op)) {
        result = lowerPack(rewriter, pack);
      } else if (FailureOr<ElementFunction> f = getElementFunction(op);
                 succeeded(f)) {
        result = lowerElementwise(rewriter, op, *f);
      } else {
        result = op->emitOpError()
                 << "has no lowering to loops; fold it first (a "
                    "constant input folds under --canonicalize)";
      }
      if (failed(result))
        return signalPassFailure();
    }
  }
};

} // namespace
