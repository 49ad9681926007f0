//===- Aot.h - Object files and C headers from lowered squant code -*- C++ -*-===//
//
// The ahead-of-time half of squant-run: the LLVM-dialect output of
// squant-lower-to-llvm-cpu as a relocatable (PIC) object for the host CPU,
// and a C header declaring the entry point's `_mlir_ciface_` wrapper with
// its memref descriptor types.
//
//===----------------------------------------------------------------------===//

#ifndef SQUANT_EXECUTION_AOT_H
#define SQUANT_EXECUTION_AOT_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/Support/Error.h"

namespace mlir::squant {

/// Translates `module` (LLVM dialect) to LLVM IR, optimizes it at
/// -O`optLevel` for the host CPU and writes an object file to `path`.
llvm::Error writeObjectFile(ModuleOp module, llvm::StringRef path,
                            unsigned optLevel = 3);

/// The C declarations for calling `name` (a function of ranked tensors
/// `inputs` -> `results`, lowered with llvm.emit_c_interface).
/// `linkNote` goes into the header's comment.
FailureOr<std::string> cHeaderFor(llvm::StringRef name, TypeRange inputs,
                                  TypeRange results, llvm::StringRef linkNote);

} // namespace mlir::squant

#endif // SQUANT_EXECUTION_AOT_H
