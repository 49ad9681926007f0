//===- Codegen.h - Building blocks of convert-squant-to-vector ----*- C++ -*-===//
//
// Shared by the elementwise lowerings (SQuantToVector.cpp) and the qmatmul
// kernel (QMatmulToVector.cpp): the vector target, the tensor <-> buffer
// bridge, scalar loop nests, and the reference numerics written as arith
// (every fl() of the spec is an explicit rounding to the expressed type).
//
//===----------------------------------------------------------------------===//

#ifndef SQUANT_LIB_CONVERSION_SQUANTTOVECTOR_CODEGEN_H
#define SQUANT_LIB_CONVERSION_SQUANTTOVECTOR_CODEGEN_H

#include "squant/Dialect/SQuant/IR/SQuant.h"

#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/STLFunctionalExtras.h"

namespace mlir::squant::lowering {

/// The vector ISA the kernels are written for.
enum class Isa { Generic, Avx2, Avx512 };

struct VectorTarget {
  Isa isa = Isa::Generic;
  /// f32 lanes per register: 16 (AVX-512), 8 (AVX2), 4 (generic).
  int64_t lanes = 4;
};

/// `host` (from the CPU this compiler runs on), `avx512`, `avx2` or
/// `generic`; failure for anything else.
FailureOr<VectorTarget> resolveTarget(StringRef name);

/// Fails with "cannot be lowered<what> with dynamic shapes" on `op` when an
/// operand has a dynamic shape (what: e.g. "" or " to GPU kernels").
LogicalResult requireStaticShapes(Operation *op, StringRef what = "");

/// The squant ops under `root`, in walk order.
SmallVector<Operation *> collectSQuantOps(Operation *root);

/// A tensor as a read-only buffer with the identity layout.
Value bufferOf(ImplicitLocOpBuilder &b, Value tensor);
/// A fresh buffer of `type`'s shape (memref.alloc).
Value allocBuffer(ImplicitLocOpBuilder &b, RankedTensorType type);
/// The tensor a fresh, fully written buffer holds.
Value tensorOf(ImplicitLocOpBuilder &b, Value buffer, RankedTensorType type);

Value indexConst(ImplicitLocOpBuilder &b, int64_t v);
Value i32Const(ImplicitLocOpBuilder &b, int32_t v, Type like = {});
Value f32Const(ImplicitLocOpBuilder &b, float v, Type like = {});

/// A scalar loop nest over `shape`; `body` gets the induction variables.
void buildLoopNest(ImplicitLocOpBuilder &b, ArrayRef<int64_t> shape,
                   function_ref<void(ImplicitLocOpBuilder &, ValueRange)> body);

/// Replaces `op` by a fresh buffer of `type` filled by a loop nest that
/// stores `element(indices)` (a value of the element type) at each index.
LogicalResult replaceByLoopNest(
    RewriterBase &rewriter, ImplicitLocOpBuilder &b, Operation *op,
    RankedTensorType type,
    function_ref<Value(ImplicitLocOpBuilder &, ValueRange)> element);

/// Indices of an element's parameter: per tensor (no axis), per axis, or
/// per group of `groupSize` along `axis`.
SmallVector<Value> paramIndices(ImplicitLocOpBuilder &b, ValueRange indices,
                                std::optional<int64_t> axis,
                                std::optional<int64_t> groupSize);

/// An integer (scalar or vector, up to 32 bits) extended to i32.
Value extendToI32(ImplicitLocOpBuilder &b, Value v, bool isSigned);
/// A float (scalar or vector) to f32 / from f32 (rounding to nearest even).
Value toF32(ImplicitLocOpBuilder &b, Value v);
Value fromF32(ImplicitLocOpBuilder &b, Value v, Type elementType);
/// fl(): v (f32) rounded to `format` (f32, bf16, f16) and back to f32.
Value roundTo(ImplicitLocOpBuilder &b, Value v, Type format);

/// Reference dequantization of one code (SEMANTICS.md sections 2, 4, 5): q
/// is i32, scale and zero point f32; the result is f32 holding a value of
/// `format`.
Value emitDequantize(ImplicitLocOpBuilder &b, const ref::Scheme &scheme,
                     Value q, Value scale, Value zeroPoint, Type format);
/// Reference quantization of one f32 value to an i32 code (GroupQuantizer).
Value emitQuantize(ImplicitLocOpBuilder &b, const ref::Scheme &scheme,
                   Value x, Value scale, Value zeroPoint, Type format);
/// The one-FMA form: fl(fma(q, s, b)) with q i32 (scalar or vector).
Value emitFmaDequantize(ImplicitLocOpBuilder &b, Value q, Value scale,
                        Value bias, Type format);

/// Byte `byteIndex` of a packed row held in i8 or i32 containers (four
/// little-endian bytes per word), as i32 in [0, 255].
Value loadPackedByte(ImplicitLocOpBuilder &b, Value buffer, ValueRange rowIndices,
                     Value byteIndex);

/// One element of fma_dequantize / a fused fma-form weight: the code (i32)
/// at `indices` of a tensor grouped by `form`, its scale and bias loaded
/// from their buffers; fl(fma(q, s, b)) in `format`, as f32.
Value emitFmaElement(ImplicitLocOpBuilder &b, FmaFormAttr form, Value code,
                     ValueRange indices, Value scales, Value bias, Type format);

/// One element of lut_dequantize / a fused lut-form weight: the index (i32,
/// masked to the table) at `indices`, its table row and scale (`scales` may
/// be null) loaded from their buffers; as f32.
Value emitLutElement(ImplicitLocOpBuilder &b, LutSchemeAttr scheme, Value code,
                     ValueRange indices, Value table, Value scales,
                     Type resultType);

} // namespace mlir::squant::lowering

#endif // SQUANT_LIB_CONVERSION_SQUANTTOVECTOR_CODEGEN_H
