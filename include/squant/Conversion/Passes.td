//===- Passes.td - squant conversion passes -----------------*- tablegen -*-===//

#ifndef SQUANT_CONVERSION_PASSES_TD
#define SQUANT_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertSQuantToRuntime : Pass<"convert-squant-to-runtime", "::mlir::ModuleOp"> {
  let summary = "lower squant.qmatmul to calls of the squant_rt kernels";
  let description = [{
    Replaces each `squant.qmatmul` the runtime supports (f32 activations,
    weights [N, K] with K and the group size multiples of 32; the fma form,
    an int8 table with f32 s_table, or f32 tables per tensor or per row;
    1, 2, 3, 4 or 8 bits) with a call of `squant_rt_qgemm_memref`, the
    MLIR-facing entry point of the runtime (C interface, memref
    descriptors). Constant weight codes are packed into the runtime's
    BLOCK32_V1 layout at compile time; others are packed by a call of
    `squant_rt_pack_block32_memref` first. Operands go through
    `bufferization.to_buffer`, the result is a fresh buffer returned with
    `bufferization.to_tensor`, so one-shot bufferization completes the
    lowering. The ABI is `include/squant/runtime/squant_rt.h`; link
    `libsquant_rt` (e.g. `mlir-runner -shared-libs=.../libsquant_rt.so`).

    A qmatmul the runtime cannot run is left in place with a remark that
    says why.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::tensor::TensorDialect"];
}

#endif // SQUANT_CONVERSION_PASSES_TD
