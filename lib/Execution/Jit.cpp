//===- Jit.cpp - Run lowered squant code in process -----------------------===//

#include "squant/Execution/Jit.h"

#include "squant/runtime/squant_rt.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "llvm/ExecutionEngine/Orc/Mangling.h"
#include "llvm/Support/TargetSelect.h"

#include <mutex>

using namespace mlir;

#ifndef SQUANT_LLVM_LIB_DIR
#error "SQUANT_LLVM_LIB_DIR must name the directory of libmlir_c_runner_utils"
#endif

void mlir::squant::initializeNativeTarget() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

llvm::Expected<mlir::squant::JitEngine>
mlir::squant::createJit(ModuleOp module, unsigned optLevel) {
  initializeNativeTarget();

  ExecutionEngineOptions options;
  auto transformer = makeOptimizingTransformer(optLevel, 0, nullptr);
  options.transformer = transformer;
  options.jitCodeGenOptLevel = optLevel == 0 ? llvm::CodeGenOptLevel::None
                                             : llvm::CodeGenOptLevel::Aggressive;
  // No init/destroy hooks: safe to load per engine.
  std::string utils = std::string(SQUANT_LLVM_LIB_DIR) + "/libmlir_c_runner_utils.so";
  SmallVector<StringRef> libs = {utils};
  options.sharedLibPaths = libs;
  auto created = ExecutionEngine::create(module, options);
  if (!created)
    return created.takeError();
  JitEngine engine = std::move(*created);
  engine->registerSymbols([&](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap map;
    map[interner("squant_rt_parallel_for")] = {
        llvm::orc::ExecutorAddr::fromPtr(&squant_rt_parallel_for),
        llvm::JITSymbolFlags::Exported};
    return map;
  });
  return engine;
}
