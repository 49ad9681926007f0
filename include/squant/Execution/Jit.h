//===- Jit.h - Run lowered squant code in process ----------------*- C++ -*-===//
//
// One way to turn the output of squant-lower-to-llvm-cpu into callable code
// in process, for the runner, the tests and the benchmarks.
//
// Threaded code (squant-lower-to-llvm-cpu with threads > 1) calls
// squant_rt_parallel_for, which the engine resolves to the squant_rt linked
// into this process; the call returns only after every worker has left the
// engine's code, so an engine may be freed as soon as its function returns.
//
//===----------------------------------------------------------------------===//

#ifndef SQUANT_EXECUTION_JIT_H
#define SQUANT_EXECUTION_JIT_H

#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/BuiltinOps.h"

#include <memory>

namespace mlir::squant {

using JitEngine = std::unique_ptr<ExecutionEngine>;

/// JIT-compiles `module` (LLVM dialect) at LLVM -O`optLevel`. The engine
/// resolves squant_rt_parallel_for and MLIR's C runner utilities.
llvm::Expected<JitEngine> createJit(ModuleOp module, unsigned optLevel = 3);

/// Initializes LLVM's native target once (idempotent).
void initializeNativeTarget();

} // namespace mlir::squant

#endif // SQUANT_EXECUTION_JIT_H
