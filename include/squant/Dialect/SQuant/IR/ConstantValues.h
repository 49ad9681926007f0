//===- ConstantValues.h - Read and build constant tensors --------*- C++ -*-===//
//
// The folders evaluate squant ops with the reference library on constant
// operands. These helpers move values between `dense` / `dense_resource`
// attributes and the reference library's plain vectors without losing bits.
//
//===----------------------------------------------------------------------===//

#ifndef SQUANT_DIALECT_SQUANT_IR_CONSTANTVALUES_H
#define SQUANT_DIALECT_SQUANT_IR_CONSTANTVALUES_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"

#include <optional>
#include <vector>

namespace mlir::squant {

class AffineSchemeAttr;

/// The values of a constant float tensor (f32, bf16 or f16; `dense` or a
/// loaded `dense_resource`), widened exactly to fp32. Nothing for other
/// attributes.
std::optional<std::vector<float>> readFloats(Attribute attr);

/// The values of a constant integer tensor, sign- or zero-extended from the
/// element width as `isSigned` says. Nothing for other attributes.
std::optional<std::vector<int32_t>> readInts(Attribute attr, bool isSigned);

/// The zero points of a (de)quantize with `scheme` as floats: the scheme's
/// implied zero point for each of `numParams` parameters, or the values of
/// `zeroPoint` (a constant attribute; integers read with the scheme's
/// signedness). Nothing when they are not known.
std::optional<std::vector<float>>
readZeroPoints(AffineSchemeAttr scheme, Attribute zeroPoint, int64_t numParams);

/// A dense constant of `type` (f32, bf16 or f16 elements) from values that
/// are already rounded to that type.
DenseElementsAttr makeFloats(ShapedType type, const std::vector<float> &values);

/// A dense constant of `type` (integer elements); values are truncated to
/// the element width.
DenseElementsAttr makeInts(ShapedType type, const std::vector<int32_t> &values);

} // namespace mlir::squant

#endif // SQUANT_DIALECT_SQUANT_IR_CONSTANTVALUES_H
