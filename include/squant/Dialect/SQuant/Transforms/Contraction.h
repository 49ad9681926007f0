//===- Contraction.h - Recognise weight x activation contractions -*- C++ -*-=//
//
// squant's rewrites care about one shape of computation:
//   y[d..., n] = init[d..., n] + sum_k x[d..., k] * w(n, k)
// with a 2-D weight indexed by exactly N and K (stored [N, K] or [K, N]).
// This recogniser accepts any linalg op of that structure (matmul with any
// operand maps, matvec, vecmat, batch_matmul with a broadcast weight,
// contraction linalg.generic) so every pass sees the same set.
//
//===----------------------------------------------------------------------===//

#ifndef SQUANT_DIALECT_SQUANT_TRANSFORMS_CONTRACTION_H
#define SQUANT_DIALECT_SQUANT_TRANSFORMS_CONTRACTION_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace mlir::squant {

/// One way to read a contraction as activations times a 2-D weight.
struct WeightedContraction {
  OpOperand *weight;
  OpOperand *activations;
  OpOperand *init;
  /// True when the weight is stored [K, N] (its map is (k, n)).
  bool transposed;
};

/// The readings of `op` as activations x weight (at most two: either input
/// may be the weight). Empty when `op` is not such a contraction.
SmallVector<WeightedContraction> getWeightedContractions(linalg::LinalgOp op);

} // namespace mlir::squant

#endif // SQUANT_DIALECT_SQUANT_TRANSFORMS_CONTRACTION_H
