//===- Passes.h - squant transform passes ------------------------*- C++ -*-===//

#ifndef SQUANT_DIALECT_SQUANT_TRANSFORMS_PASSES_H
#define SQUANT_DIALECT_SQUANT_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"
#include "squant/Dialect/SQuant/IR/SQuant.h"

namespace mlir::squant {

#define GEN_PASS_DECL
#include "squant/Dialect/SQuant/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "squant/Dialect/SQuant/Transforms/Passes.h.inc"

/// Registers the named pipelines (squant-optimize).
void registerSQuantPipelines();

} // namespace mlir::squant

#endif // SQUANT_DIALECT_SQUANT_TRANSFORMS_PASSES_H
