//===- Jit.cpp - Run lowered squant code in process -----------------------===//

#include "squant/Execution/Jit.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ExecutionEngine/Orc/Mangling.h"
#include "llvm/Support/DynamicLibrary.h"
#include "llvm/Support/TargetSelect.h"

#include <deque>
#include <mutex>

using namespace mlir;

#ifndef SQUANT_LLVM_LIB_DIR
#error "SQUANT_LLVM_LIB_DIR must name the directory of libmlir_async_runtime"
#endif

void mlir::squant::initializeNativeTarget() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

namespace {

/// The symbols of the async runtime, loaded and initialized once per process
/// and never destroyed (see Jit.h).
struct AsyncRuntimeSymbols {
  llvm::StringMap<void *> symbols;
  std::string error;

  AsyncRuntimeSymbols() {
    std::string path = std::string(SQUANT_LLVM_LIB_DIR) + "/libmlir_async_runtime.so";
    auto lib = llvm::sys::DynamicLibrary::getPermanentLibrary(path.c_str(), &error);
    if (!lib.isValid())
      return;
    auto init = reinterpret_cast<ExecutionEngine::LibraryInitFn>(
        lib.getAddressOfSymbol(ExecutionEngine::kLibraryInitFnName));
    if (!init) {
      error = path + " has no " + ExecutionEngine::kLibraryInitFnName;
      return;
    }
    init(symbols);
  }

  static const AsyncRuntimeSymbols &get() {
    static AsyncRuntimeSymbols instance;
    return instance;
  }
};

} // namespace

void mlir::squant::RetireJitEngine::operator()(ExecutionEngine *engine) const {
  if (!engine)
    return;
  static std::mutex lock;
  // Never destroyed: the last engines stay mapped until the process exits.
  static auto *retired = new std::deque<std::unique_ptr<ExecutionEngine>>();
  std::unique_ptr<ExecutionEngine> oldest;
  {
    std::lock_guard<std::mutex> guard(lock);
    retired->emplace_back(engine);
    if (retired->size() > kRetiredJitEngines) {
      oldest = std::move(retired->front());
      retired->pop_front();
    }
  }
}

llvm::Expected<mlir::squant::JitEngine>
mlir::squant::createJit(ModuleOp module, unsigned optLevel) {
  initializeNativeTarget();
  const AsyncRuntimeSymbols &async = AsyncRuntimeSymbols::get();
  if (!async.error.empty())
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "cannot load the async runtime: " + async.error);

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
  JitEngine engine(created->release());
  engine->registerSymbols([&](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap map;
    for (const auto &entry : async.symbols)
      map[interner(entry.getKey())] = {llvm::orc::ExecutorAddr::fromPtr(entry.getValue()),
                                       llvm::JITSymbolFlags::Exported};
    return map;
  });
  return engine;
}
