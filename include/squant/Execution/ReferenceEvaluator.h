//===- ReferenceEvaluator.h - squant IR on concrete tensors ------*- C++ -*-===//
//
// Evaluates a function of squant-level IR on constant arguments with the
// reference library: squant ops by their folders (bit-exact with the spec),
// squant.unpack by the reference unpacking, squant.qmatmul and linalg.matmul
// in fp64 with their D8 bound, and other linalg ops by interpreting their
// scalar bodies with one IEEE rounding per op. This is what `squant-run
// --check` holds compiled code to, and what the main job's accuracy column
// compares against.
//
// Every result carries how far compiled code may be from it:
//  - exact: every op on its path is exact in the spec (squant's
//    (de)quantization, packing, correctly rounded elementwise arithmetic);
//  - d8: a matmul of exact operands; compiled code must be within `bound`
//    of the fp64 value (D8, plus the factorized accumulation term of
//    docs/Numerics.md for squant.qmatmul's hoisted path);
//  - unbounded: anything after a matmul or a libm function; the error is
//    reported, not judged.
//
//===----------------------------------------------------------------------===//

#ifndef SQUANT_EXECUTION_REFERENCEEVALUATOR_H
#define SQUANT_EXECUTION_REFERENCEEVALUATOR_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"

#include <optional>
#include <string>
#include <vector>

namespace mlir::squant {

class QMatmulOp;

struct ReferenceValue {
  enum class Accuracy { Exact, D8, Unbounded };
  Attribute value;                 ///< rounded to the result's element type
  Accuracy accuracy = Accuracy::Exact;
  std::vector<double> f64, bound;  ///< D8 values: fp64 result and its bound
  std::string why;                 ///< Unbounded: the op that made it so
};

/// Evaluates `func` with its arguments bound to `args` (dense or
/// dense_resource tensors, or scalar attributes). Emits an error at the op
/// that cannot be evaluated and fails.
FailureOr<SmallVector<ReferenceValue>>
evaluateReference(func::FuncOp func, ArrayRef<Attribute> args);

/// The weight [N, K] a squant.qmatmul multiplies by, dequantized from the
/// given operand values in its recorded form; nothing when an operand is
/// not a readable constant.
std::optional<std::vector<float>>
dequantizedQMatmulWeight(QMatmulOp op, Attribute weight, Attribute scales,
                         Attribute bias, Attribute table);

/// Compiled results against a reference value.
struct ReferenceComparison {
  int64_t elements = 0;
  int64_t outside = 0;     ///< elements outside the bound (not bit-equal when exact)
  double maxAbsError = 0;  ///< max |got - ref|
  double relError = 0;     ///< ||got - ref||_2 / ||ref||_2 (0 when ref is 0)
  double maxBoundRatio = 0;///< D8: max |got - ref| / bound
  std::string firstOutside;///< where and by how much, for the report
};

/// Compares `data` (the compiled result, row-major in the element type of
/// `ref.value`) with `ref` under its accuracy.
ReferenceComparison compareWithReference(const ReferenceValue &ref,
                                         const void *data);

} // namespace mlir::squant

#endif // SQUANT_EXECUTION_REFERENCEEVALUATOR_H
