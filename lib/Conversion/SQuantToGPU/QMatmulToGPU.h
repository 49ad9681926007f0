//===- QMatmulToGPU.h - squant.qmatmul as a GPU kernel -----------*- C++ -*-===//

#ifndef SQUANT_LIB_CONVERSION_SQUANTTOGPU_QMATMULTOGPU_H
#define SQUANT_LIB_CONVERSION_SQUANTTOGPU_QMATMULTOGPU_H

#include "squant/Dialect/SQuant/IR/SQuant.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::squant::lowering {

struct QMatmulGpuOptions {
  /// Warps (weight rows) per block.
  int64_t rowsPerBlock = 4;
  /// Activation rows per block sharing each decoded weight.
  int64_t mTile = 8;
};

/// Replaces `op` by a launch of a kernel added to `module`: the warp-per-row
/// kernel where the weight's layout allows 16-byte loads, otherwise one
/// thread per output evaluating the reference weights.
LogicalResult lowerQMatmulToGPU(RewriterBase &rewriter, QMatmulOp op,
                                gpu::GPUModuleOp module,
                                const QMatmulGpuOptions &options);

/// A kernel function (uniquely named) at the end of `module`, with an
/// entry block whose arguments are `arguments`.
gpu::GPUFuncOp createKernel(OpBuilder &builder, Location loc,
                            gpu::GPUModuleOp module, StringRef name,
                            TypeRange arguments, TypeRange workgroup = {});

/// In a kernel of 1-D blocks of `threads`: the global thread index, with
/// `b` moved into an scf.if that keeps the threads below `count`.
Value threadPerItemIndex(ImplicitLocOpBuilder &b, int64_t threads, int64_t count);

/// Launches `kernel` on ceil(count / threads) blocks of `threads`.
void launchThreadPerItem(ImplicitLocOpBuilder &b, gpu::GPUFuncOp kernel,
                         int64_t threads, int64_t count, ValueRange args);

/// A fresh device buffer (gpu.alloc), ready when this returns.
Value deviceAlloc(ImplicitLocOpBuilder &b, MemRefType type);

} // namespace mlir::squant::lowering

#endif // SQUANT_LIB_CONVERSION_SQUANTTOGPU_QMATMULTOGPU_H
