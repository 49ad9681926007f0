//===- SQuantPlugin.cpp - squant as a plugin of stock mlir-opt ------------===//
//
// One shared library that Debian's /usr/lib/llvm-22/bin/mlir-opt loads with
// --load-dialect-plugin (the squant dialect) and --load-pass-plugin (squant's
// passes and pipelines). It links the shared libMLIR, as mlir-opt does, so
// the process has one MLIR.
//
//===----------------------------------------------------------------------===//

#include "squant/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/Plugins/DialectPlugin.h"
#include "mlir/Tools/Plugins/PassPlugin.h"
#include "llvm/Config/llvm-config.h"

using namespace mlir;

extern "C" LLVM_ATTRIBUTE_WEAK DialectPluginLibraryInfo
mlirGetDialectPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "SQuant", LLVM_VERSION_STRING,
          [](DialectRegistry *registry) { squant::registerAllDialects(*registry); }};
}

extern "C" LLVM_ATTRIBUTE_WEAK PassPluginLibraryInfo mlirGetPassPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "SQuantPasses", LLVM_VERSION_STRING,
          []() { squant::registerAllPasses(); }};
}
