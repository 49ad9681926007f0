//===- Passes.h - squant conversion passes -----------------------*- C++ -*-===//

#ifndef SQUANT_CONVERSION_PASSES_H
#define SQUANT_CONVERSION_PASSES_H

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"
#include "squant/Dialect/SQuant/IR/SQuant.h"

namespace mlir {
class RewritePatternSet;
} // namespace mlir

namespace mlir::squant {

#define GEN_PASS_DECL
#include "squant/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "squant/Conversion/Passes.h.inc"

/// squant.qmatmul -> calls of the squant_rt kernels.
void populateSQuantToRuntimePatterns(RewritePatternSet &patterns);

} // namespace mlir::squant

#endif // SQUANT_CONVERSION_PASSES_H
