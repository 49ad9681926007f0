//===- Elementwise.h - squant's elementwise ops as element functions -*- C++ -*-===//
//
// dequantize, quantize, fma_dequantize, lut_dequantize and unpack compute
// each result element from a few loads of their operands. One definition of
// that element function serves the CPU loop nests (SQuantToVector.cpp) and
// the GPU kernels (SQuantToGPU), which differ only in where the operand
// buffers come from and how the indices are enumerated.
//
//===----------------------------------------------------------------------===//

#ifndef SQUANT_LIB_CONVERSION_SQUANTTOVECTOR_ELEMENTWISE_H
#define SQUANT_LIB_CONVERSION_SQUANTTOVECTOR_ELEMENTWISE_H

#include "Codegen.h"

#include <functional>

namespace mlir::squant::lowering {

struct ElementFunction {
  /// The tensors the element function reads, in the order of `buffers`.
  SmallVector<Value> operands;
  /// The result element (of the result's element type) at `indices`, given
  /// the operands as buffers.
  std::function<Value(ImplicitLocOpBuilder &, ValueRange buffers,
                      ValueRange indices)>
      element;
};

/// The element function of an elementwise squant op; failure (no
/// diagnostic) for other ops.
FailureOr<ElementFunction> getElementFunction(Operation *op);

/// The code (i32, sign-extended when the layout is signed) at column `col`
/// of a row of bytes packed under `layout`; `rowBytes` bytes per row.
Value emitUnpackedCode(ImplicitLocOpBuilder &b, PackedLayoutAttr layout,
                       Value bytes, ValueRange rows, Value col,
                       int64_t rowBytes);

/// Bit position of code `col` (index) in a row of `bits`-bit codes: the
/// byte (index) and the offset in it (i32).
std::pair<Value, Value> bitPosition(ImplicitLocOpBuilder &b, Value col,
                                    unsigned bits);

/// The weight w(n, k) of `op` (f32) from the element of its weight tensor
/// at `at` = (n, k), by the reference formulas of the op's form; `scales`,
/// `bias`, `table` are the buffers of the operands the op has.
Value emitQMatmulWeight(ImplicitLocOpBuilder &b, QMatmulOp op, Value element,
                        ValueRange at, Value scales, Value bias, Value table);

/// An integer i32 (scalar) as `type` (truncated or sign-extended).
Value fromI32(ImplicitLocOpBuilder &b, Value v, Type type);

} // namespace mlir::squant::lowering

#endif // SQUANT_LIB_CONVERSION_SQUANTTOVECTOR_ELEMENTWISE_H
