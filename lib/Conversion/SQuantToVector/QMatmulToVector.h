//===- QMatmulToVector.h - squant.qmatmul as a vector kernel -----*- C++ -*-===//

#ifndef SQUANT_LIB_CONVERSION_SQUANTTOVECTOR_QMATMULTOVECTOR_H
#define SQUANT_LIB_CONVERSION_SQUANTTOVECTOR_QMATMULTOVECTOR_H

#include "Codegen.h"

#include "mlir/IR/PatternMatch.h"

namespace mlir::squant::lowering {

struct KernelOptions {
  VectorTarget target;
  /// Largest M of the hoisted-scale register path.
  int64_t hoistMaxM = 2;
  /// Weight rows per register tile.
  int64_t rowTile = 4;
  /// Report qmatmuls that fall back to scalar loops, with the reason.
  bool remarks = false;
};

/// Replaces `op` by the vector kernel, or by scalar loops (with the reason
/// as a remark when asked) for configurations the kernel does not cover.
LogicalResult lowerQMatmul(RewriterBase &rewriter, QMatmulOp op,
                           const KernelOptions &options);

/// The scalar loops: y[m, n] = sum_k x[m, k] w(n, k) with w evaluated by the
/// reference formulas of the op's form.
LogicalResult lowerQMatmulScalar(RewriterBase &rewriter, QMatmulOp op);

} // namespace mlir::squant::lowering

#endif // SQUANT_LIB_CONVERSION_SQUANTTOVECTOR_QMATMULTOVECTOR_H
