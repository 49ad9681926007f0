//===- Passes.h - squant conversion passes -----------------------*- C++ -*-===//

#ifndef SQUANT_CONVERSION_PASSES_H
#define SQUANT_CONVERSION_PASSES_H

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
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

/// squant.qmatmul -> calls of the squant_rt kernels, constant weights packed
/// in the layout squant_rt_preferred_layout names for `isa` (a
/// squant_rt_isa; 0, SQUANT_RT_ISA_AUTO: this machine's).
void populateSQuantToRuntimePatterns(RewritePatternSet &patterns,
                                     int32_t isa = 0);

/// Registers squant's pipelines from squant-level IR on tensors to the LLVM
/// dialect: squant-lower-to-llvm-cpu and squant-lower-to-nvvm.
void registerSQuantLoweringPipelines();
void registerLowerToNVVMPipeline();

} // namespace mlir::squant

#endif // SQUANT_CONVERSION_PASSES_H
