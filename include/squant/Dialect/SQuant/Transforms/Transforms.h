//===- Transforms.h - squant rewrite patterns --------------------*- C++ -*-===//
//
// The patterns behind squant's passes, for tools that compose their own
// pipelines.
//
//===----------------------------------------------------------------------===//

#ifndef SQUANT_DIALECT_SQUANT_TRANSFORMS_TRANSFORMS_H
#define SQUANT_DIALECT_SQUANT_TRANSFORMS_TRANSFORMS_H

#include "mlir/Support/LLVM.h"

namespace mlir {
class Operation;
class RewritePatternSet;
} // namespace mlir

namespace mlir::squant {

/// The greedy driver every squant rewrite pass uses: no folding (folding a
/// dequantize of constants would turn a quantized weight back into floats,
/// undoing what the rewrites are for), and an error on `op` when the
/// rewrites do not converge.
LogicalResult applySQuantPatterns(Operation *op, RewritePatternSet &&patterns);

/// squant.dequantize -> squant.fma_dequantize where the fold is exact, or
/// always when `allowInexact`.
void populateFoldZeroPointsPatterns(RewritePatternSet &patterns,
                                    bool allowInexact);

/// squant.dequantize -> squant.lut_dequantize (int8 table, rule 1; float
/// tables, rule 2, when `floatLut`). Emits a remark where no table applies.
void populateToLutPatterns(RewritePatternSet &patterns, bool floatLut);

/// dequantize + contraction -> squant.qmatmul.
void populateFuseDequantMatmulPatterns(RewritePatternSet &patterns);

} // namespace mlir::squant

#endif // SQUANT_DIALECT_SQUANT_TRANSFORMS_TRANSFORMS_H
