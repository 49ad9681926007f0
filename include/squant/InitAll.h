//===- InitAll.h - Register every squant dialect and pass --------*- C++ -*-===//
//
// One entry point for tools that embed squant (squant-opt, the plugin, users'
// own tools through the CMake package).
//
//===----------------------------------------------------------------------===//

#ifndef SQUANT_INITALL_H
#define SQUANT_INITALL_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace mlir::squant {

/// Adds the squant dialect (and what its ops depend on) to `registry`.
void registerAllDialects(DialectRegistry &registry);

/// Registers every squant pass and pipeline with the global registry.
void registerAllPasses();

} // namespace mlir::squant

#endif // SQUANT_INITALL_H
