//===- SQuantToGPU.cpp - convert-squant-to-gpu ----------------------------===//
//
// Lowers squant ops on tensors to gpu-dialect kernels in one gpu.module
// (@squant_kernels) and host code that launches them, before bufferization:
// operands cross into buffers with bufferization.to_buffer, results are
// device buffers (gpu.alloc) returned through bufferization.to_tensor. The
// function's memref arguments and results are device memory.
//
//  - squant.qmatmul: one warp per weight row, M in tiles of `m-tile` rows
//    sharing each decoded weight (QMatmulToGPU.cpp);
//  - dequantize, fma_dequantize, lut_dequantize, quantize, unpack: one
//    thread per result element, each element computed by the same element
//    function as on the CPU (Elementwise.cpp), so the results are the same
//    bits (true division, explicit FMAs and roundings).
//
//===----------------------------------------------------------------------===//

#include "squant/Conversion/Passes.h"

#include "QMatmulToGPU.h"

#include "../SQuantToVector/Elementwise.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mlir::squant {
#define GEN_PASS_DEF_CONVERTSQUANTTOGPU
#include "squant/Conversion/Passes.h.inc"
} // namespace mlir::squant

using namespace mlir;
using namespace mlir::squant;
using namespace mlir::squant::lowering;

gpu::GPUFuncOp lowering::createKernel(OpBuilder &builder, Location loc,
                                      gpu::GPUModuleOp module, StringRef name,
                                      TypeRange arguments,
                                      TypeRange workgroup) {
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(module.getBody());
  auto func = gpu::GPUFuncOp::create(
      builder, loc, name, builder.getFunctionType(arguments, {}), workgroup);
  func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), builder.getUnitAttr());
  SymbolTable(module).insert(func); // uniquifies the name
  return func;
}

Value lowering::threadPerItemIndex(ImplicitLocOpBuilder &b, int64_t threads,
                                  int64_t count) {
  Value linear = arith::AddIOp::create(
      b,
      arith::MulIOp::create(b, gpu::BlockIdOp::create(b, gpu::Dimension::x),
                            indexConst(b, threads)),
      gpu::ThreadIdOp::create(b, gpu::Dimension::x));
  Value inside = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, linear,
                                       indexConst(b, count));
  auto ifOp = scf::IfOp::create(b, inside, /*withElseRegion=*/false);
  b.setInsertionPointToStart(&ifOp.getThenRegion().front());
  return linear;
}

void lowering::launchThreadPerItem(ImplicitLocOpBuilder &b,
                                   gpu::GPUFuncOp kernel, int64_t threads,
                                   int64_t count, ValueRange args) {
  Value one = indexConst(b, 1);
  gpu::LaunchFuncOp::create(
      b, kernel,
      gpu::KernelDim3{indexConst(b, (count + threads - 1) / threads), one, one},
      gpu::KernelDim3{indexConst(b, threads), one, one}, Value(), args);
}

Value lowering::deviceAlloc(ImplicitLocOpBuilder &b, MemRefType type) {
  auto token = b.getType<gpu::AsyncTokenType>();
  Value ready = gpu::WaitOp::create(b, token, ValueRange()).getAsyncToken();
  auto alloc = gpu::AllocOp::create(b, type, token, ValueRange{ready},
                                    ValueRange(), ValueRange(),
                                    /*hostShared=*/false);
  gpu::WaitOp::create(b, Type(), ValueRange{alloc.getAsyncToken()});
  return alloc.getMemref();
}

namespace {

/// One thread per result element.
LogicalResult lowerElementwise(RewriterBase &rewriter, Operation *op,
                               const ElementFunction &f,
                               gpu::GPUModuleOp module) {
  auto type = cast<RankedTensorType>(op->getResult(0).getType());
  ImplicitLocOpBuilder b(op->getLoc(), rewriter);
  SmallVector<Value> args;
  for (Value operand : f.operands)
    args.push_back(bufferOf(b, operand));
  auto outType = MemRefType::get(type.getShape(), type.getElementType());
  Value out = deviceAlloc(b, outType);
  args.push_back(out);

  std::string name = (op->getName().stripDialect() + "_kernel").str();
  std::replace(name.begin(), name.end(), '.', '_');
  gpu::GPUFuncOp kernel =
      createKernel(rewriter, op->getLoc(), module, name, ValueRange(args).getTypes());
  constexpr int64_t kThreads = 256;
  int64_t count = type.getNumElements();
  {
    OpBuilder::InsertionGuard guard(rewriter);
    Block &entry = kernel.getBody().front();
    rewriter.setInsertionPointToStart(&entry);
    ImplicitLocOpBuilder kb(op->getLoc(), rewriter);
    Value linear = threadPerItemIndex(kb, kThreads, count);
    // Delinearize, last dimension fastest.
    SmallVector<Value> ivs(type.getRank());
    Value rest = linear;
    for (int64_t d = type.getRank() - 1; d >= 0; --d) {
      Value size = indexConst(kb, type.getDimSize(d));
      ivs[d] = d == 0 ? rest : Value(arith::RemUIOp::create(kb, rest, size));
      if (d > 0)
        rest = arith::DivUIOp::create(kb, rest, size);
    }
    ValueRange buffers = entry.getArguments();
    Value v = f.element(kb, buffers.drop_back(), ivs);
    memref::StoreOp::create(kb, v, buffers.back(), ivs);
    kb.setInsertionPointToEnd(&entry);
    gpu::ReturnOp::create(kb);
  }
  launchThreadPerItem(b, kernel, kThreads, count, args);
  rewriter.replaceOp(op, tensorOf(b, out, type));
  return success();
}

struct ConvertSQuantToGPUPass
    : public squant::impl::ConvertSQuantToGPUBase<ConvertSQuantToGPUPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (rowsPerBlock < 1 || rowsPerBlock > 32 || mTile < 1 || mTile > 16) {
      module.emitError() << "convert-squant-to-gpu: rows-per-block must be in "
                            "[1, 32] and m-tile in [1, 16]";
      return signalPassFailure();
    }
    SmallVector<Operation *> ops = collectSQuantOps(module);
    if (ops.empty())
      return;

    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                    UnitAttr::get(&getContext()));
    OpBuilder builder(&getContext());
    builder.setInsertionPointToEnd(module.getBody());
    auto kernels =
        gpu::GPUModuleOp::create(builder, module.getLoc(), "squant_kernels");

    QMatmulGpuOptions options{rowsPerBlock, mTile};
    IRRewriter rewriter(&getContext());
    // qmatmul first: it reads the bytes of a packing unpack directly.
    for (Operation *op : ops) {
      auto qmatmul = dyn_cast<QMatmulOp>(op);
      if (!qmatmul)
        continue;
      rewriter.setInsertionPoint(op);
      if (failed(requireStaticShapes(op, " to GPU kernels")) ||
          failed(lowerQMatmulToGPU(rewriter, qmatmul, kernels, options)))
        return signalPassFailure();
    }
    // The rest, collected again (the qmatmuls are gone), last first so
    // that chains left without uses are erased.
    ops = collectSQuantOps(module);
    for (Operation *op : llvm::reverse(ops)) {
      if (op->use_empty() && isPure(op)) {
        rewriter.eraseOp(op);
        continue;
      }
      rewriter.setInsertionPoint(op);
      if (failed(requireStaticShapes(op, " to GPU kernels")))
        return signalPassFailure();
      FailureOr<ElementFunction> f = getElementFunction(op);
      if (failed(f)) {
        op->emitOpError() << "has no GPU lowering; fold it first (a constant "
                             "input folds under --canonicalize)";
        return signalPassFailure();
      }
      if (failed(lowerElementwise(rewriter, op, *f, kernels)))
        return signalPassFailure();
    }
  }
};

} // namespace
