//===- ParamTensors.h - Scale, bias and table tensors for rewrites -*- C++ -*-=//
//
// The rewrites turn a scheme's parameters into the tensors another form
// needs: the one-FMA bias, the LUT scale table, per-row [N, K/g] scales for
// a fused matmul. Each helper folds at compile time (with the reference
// library) when its inputs are constants and emits elementwise tensor ops on
// the parameter tensor otherwise: either way the work is per group, outside
// any loop over the weight.
//
//===----------------------------------------------------------------------===//

#ifndef SQUANT_DIALECT_SQUANT_TRANSFORMS_PARAMTENSORS_H
#define SQUANT_DIALECT_SQUANT_TRANSFORMS_PARAMTENSORS_H

#include "squant/Dialect/SQuant/IR/SQuant.h"

#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Builders.h"

#include <optional>
#include <vector>

namespace mlir::squant {

/// The float values of `value` when it is a constant tensor.
std::optional<std::vector<float>> getConstantFloats(Value value);

/// The zero points of a dequantize as floats when they are known at compile
/// time (constant operand, or implied by the scheme); `numParams` values.
std::optional<std::vector<float>>
getConstantZeroPoints(AffineSchemeAttr scheme, Value zeroPoint,
                      int64_t numParams);

/// arith.constant of `type` holding `values` (already rounded to the type).
Value createFloatConstant(OpBuilder &builder, Location loc, ShapedType type,
                          const std::vector<float> &values);

/// Whether folding the zero point of `scheme` into a bias is exact (D6).
/// For constant parameters every group is checked; for dynamic ones the
/// scheme's eps must rule out the inexact cases. `why` says why not.
bool isFoldExact(AffineSchemeAttr scheme, Type scaleElementType, Value scale,
                 Value zeroPoint, std::string &why);

/// The one-FMA bias b of every group (SEMANTICS.md section 7), with the
/// scale's type and shape.
Value buildFoldedBias(OpBuilder &builder, Location loc,
                      AffineSchemeAttr scheme, Value scale, Value zeroPoint);

/// The #squant.fma form with the granularity of `scheme`.
FmaFormAttr getFmaForm(AffineSchemeAttr scheme);

} // namespace mlir::squant


namespace mlir::squant {

/// Storage for a new constant, written in place. Large constants (a real
/// weight's codes) become dense_resource blobs that own the buffer, so the
/// codes are never copied or hashed; small ones stay readable `dense`.
class ConstantBuffer {
public:
  static constexpr size_t kLargeBytes = size_t(1) << 20;

  explicit ConstantBuffer(size_t bytes);
  char *data() { return blob ? blob->getMutableData().data() : small.data(); }

  /// The attribute holding the buffer, named `name` when it is a blob.
  TypedAttr finish(ShapedType type, StringRef name);

private:
  std::optional<AsmResourceBlob> blob;
  std::vector<char> small;
};

/// `value` permuted by `perm` (result dim i = source dim perm[i]): a new
/// constant when `value` is a constant (dense or dense_resource), else
/// linalg.transpose.
Value transposeTensor(OpBuilder &builder, Location loc, Value value,
                      ArrayRef<int64_t> perm);

/// `value` reshaped to `type` by adding unit dims (a new constant when
/// `value` is a dense constant, else tensor.expand_shape with the given
/// reassociation).
Value expandTensor(OpBuilder &builder, Location loc, Value value,
                   RankedTensorType type,
                   ArrayRef<ReassociationIndices> reassociation);

/// A rank-0 tensor broadcast to `type` (constant splat or tensor.splat).
Value splatScalarTensor(OpBuilder &builder, Location loc, Value value,
                        RankedTensorType type);

} // namespace mlir::squant

#endif // SQUANT_DIALECT_SQUANT_TRANSFORMS_PARAMTENSORS_H
