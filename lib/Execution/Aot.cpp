//===- Aot.cpp - Object files and C headers from lowered squant code -------===//

#include "squant/Execution/Aot.h"

#include "squant/Execution/Jit.h"

#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"

#include <set>

using namespace mlir;

static llvm::Error error(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message.str());
}

llvm::Error mlir::squant::writeObjectFile(ModuleOp module, llvm::StringRef path,
                                          unsigned optLevel) {
  initializeNativeTarget();
  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> llvmModule = translateModuleToLLVMIR(module, context);
  if (!llvmModule)
    return error("cannot translate the lowered module to LLVM IR");
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder)
    return builder.takeError();
  builder->setRelocationModel(llvm::Reloc::PIC_);
  builder->setCodeGenOptLevel(optLevel == 0 ? llvm::CodeGenOptLevel::None
                                            : llvm::CodeGenOptLevel::Aggressive);
  auto machine = builder->createTargetMachine();
  if (!machine)
    return machine.takeError();
  ExecutionEngine::setupTargetTripleAndDataLayout(llvmModule.get(), machine->get());
  if (llvm::Error e = makeOptimizingTransformer(optLevel, 0, machine->get())(llvmModule.get()))
    return e;
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return error(path + ": cannot write: " + ec.message());
  llvm::legacy::PassManager passes;
  if ((*machine)->addPassesToEmitFile(passes, out, nullptr,
                                      llvm::CodeGenFileType::ObjectFile))
    return error("the target cannot emit object files");
  passes.run(*llvmModule);
  out.close();
  if (out.has_error())
    return error(path + ": write failed: " + out.error().message());
  return llvm::Error::success();
}

namespace {

/// The C type of one element, or nothing.
std::optional<std::string> cElementType(Type t) {
  if (t.isF32())
    return std::string("float");
  if (t.isF64())
    return std::string("double");
  if (t.isF16() || t.isBF16())
    return std::string("uint16_t"); // the bits of the half-precision value
  if (auto i = dyn_cast<IntegerType>(t)) {
    unsigned w = i.getWidth();
    if (w == 8 || w == 16 || w == 32 || w == 64)
      return std::string(i.isUnsigned() ? "uint" : "int") + std::to_string(w) + "_t";
  }
  return std::nullopt;
}

std::string typeSuffix(Type t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << t;
  return s;
}

} // namespace

FailureOr<std::string> mlir::squant::cHeaderFor(llvm::StringRef name, TypeRange inputs,
                                                TypeRange results,
                                                llvm::StringRef linkNote) {
  std::string typedefs, decl;
  std::set<std::string> defined;
  // One descriptor type per (rank, element type): MLIR's strided memref
  // descriptor, as _mlir_ciface_ functions take it.
  auto descriptor = [&](Type type) -> std::optional<std::string> {
    auto tensor = dyn_cast<RankedTensorType>(type);
    if (!tensor)
      return std::nullopt;
    std::optional<std::string> element = cElementType(tensor.getElementType());
    if (!element)
      return std::nullopt;
    std::string typeName = "squant_memref_" + std::to_string(tensor.getRank()) + "d_" +
                           typeSuffix(tensor.getElementType());
    if (defined.insert(typeName).second) {
      std::string guard = "SQUANT_" + llvm::StringRef(typeName).upper() + "_DEFINED";
      typedefs += "#ifndef " + guard + "\n#define " + guard + "\ntypedef struct {\n  " +
                  *element + " *allocated;\n  " + *element +
                  " *aligned;\n  int64_t offset;\n";
      if (tensor.getRank() > 0)
        typedefs += "  int64_t sizes[" + std::to_string(tensor.getRank()) +
                    "];\n  int64_t strides[" + std::to_string(tensor.getRank()) + "];\n";
      typedefs += "} " + typeName + ";\n#endif\n\n";
    }
    return typeName;
  };
  std::vector<std::string> params;
  if (results.size() == 1) {
    std::optional<std::string> t = descriptor(results[0]);
    if (!t)
      return failure();
    params.push_back(*t + " *result");
  } else if (results.size() > 1) {
    std::string resultStruct = "typedef struct {\n";
    for (auto [i, r] : llvm::enumerate(results)) {
      std::optional<std::string> t = descriptor(r);
      if (!t)
        return failure();
      resultStruct += "  " + *t + " r" + std::to_string(i) + ";\n";
    }
    std::string structName = (name + "_results").str();
    typedefs += resultStruct + "} " + structName + ";\n\n";
    params.push_back(structName + " *results");
  }
  for (auto [i, in] : llvm::enumerate(inputs)) {
    std::optional<std::string> t = descriptor(in);
    if (!t)
      return failure();
    params.push_back(*t + " *arg" + std::to_string(i));
  }
  decl = "void _mlir_ciface_" + name.str() + "(";
  for (size_t i = 0; i < params.size(); ++i)
    decl += (i ? ", " : "") + params[i];
  decl += ");\n";
  std::string guard = "SQUANT_AOT_" + llvm::StringRef(name).upper() + "_H";
  std::string comment = "/* Generated by squant-run: the entry point @" + name.str() +
                        " compiled ahead of time.\n";
  for (auto [i, in] : llvm::enumerate(inputs))
    comment += " *   arg" + std::to_string(i) + ": " + typeSuffix(in) + "\n";
  for (auto [i, r] : llvm::enumerate(results))
    comment += " *   result " + std::to_string(i) + ": " + typeSuffix(r) + "\n";
  comment += " * Results are malloc'ed by the callee unless they are constants: free\n"
             " * `allocated` when it is not an input's and not 0xdeadbeef.\n * " +
             linkNote.str() + "\n */\n";
  return comment + "#ifndef " + guard + "\n#define " + guard +
         "\n\n#include <stdint.h>\n\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n" +
         typedefs + decl + "\n#ifdef __cplusplus\n}\n#endif\n\n#endif\n";
}
