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
// An engine whose code ran on the async runtime's workers must not be freed
// the moment its function returns: the function returns when the last task
// has signalled completion, while that worker may still be executing the
// task's few final instructions — in the engine's code. Engines from
// createJit are therefore retired, not freed: the last kRetiredJitEngines
// stay mapped and the oldest is freed when another is retired (by then its
// workers have long left it; one compile of another engine takes far
// longer than a task's tail). The last few live until the process exits.
//
//===----------------------------------------------------------------------===//

#ifndef SQUANT_EXECUTION_JIT_H
#define SQUANT_EXECUTION_JIT_H

#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/BuiltinOps.h"

#include <memory>

namespace mlir::squant {

/// Engines kept mapped after their owner drops them (see above).
constexpr unsigned kRetiredJitEngines = 8;

/// Retires an engine instead of freeing it at once (see above).
struct RetireJitEngine {
  void operator()(ExecutionEngine *engine) const;
};
using JitEngine = std::unique_ptr<ExecutionEngine, RetireJitEngine>;

/// JIT-compiles `module` (LLVM dialect) at LLVM -O`optLevel` (>= 1 when the
/// module uses the async runtime: its coroutines need LLVM's coroutine
/// passes). The engine resolves the async runtime and MLIR's C runner
/// utilities.
llvm::Expected<JitEngine> createJit(ModuleOp module, unsigned optLevel = 3);

/// Initializes LLVM's native target once (idempotent).
void initializeNativeTarget();

} // namespace mlir::squant

#endif // SQUANT_EXECUTION_JIT_H
