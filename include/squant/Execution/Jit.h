//===- Jit.h - Run lowered squant code in process ----------------*- C++ -*-===//
//
// One way to turn the output of squant-lower-to-llvm-cpu into callable code
// in process, for the runner, the tests and the benchmarks.
//
// MLIR's ExecutionEngine calls a shared library's
// `__mlir_execution_engine_destroy` when the engine dies; the async runtime's
// resets its process-wide runtime there, so a second engine of the same
// process would dereference a null runtime. squant loads the async runtime
// once, keeps it for the life of the process and hands its symbols to every
// engine instead.
//
//===----------------------------------------------------------------------===//

#ifndef SQUANT_EXECUTION_JIT_H
#define SQUANT_EXECUTION_JIT_H

#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/BuiltinOps.h"

#include <memory>

namespace mlir::squant {

/// JIT-compiles `module` (LLVM dialect) at LLVM -O`optLevel` (>= 1 when the
/// module uses the async runtime: its coroutines need LLVM's coroutine
/// passes). The engine resolves the async runtime and MLIR's C runner
/// utilities.
llvm::Expected<std::unique_ptr<ExecutionEngine>> createJit(ModuleOp module,
                                                           unsigned optLevel = 3);

/// Initializes LLVM's native target once (idempotent).
void initializeNativeTarget();

} // namespace mlir::squant

#endif // SQUANT_EXECUTION_JIT_H
