//===- InitAll.cpp - Register every squant dialect and pass ---------------===//

#include "squant/InitAll.h"

#include "squant/Dialect/SQuant/IR/SQuant.h"
#include "squant/Conversion/Passes.h"
#include "squant/Dialect/SQuant/Transforms/Passes.h"

#include "mlir/IR/DialectRegistry.h"

void mlir::squant::registerAllDialects(DialectRegistry &registry) {
  registry.insert<SQuantDialect, arith::ArithDialect>();
}

void mlir::squant::registerAllPasses() {
  registerSQuantPasses();
  registerSQuantConversionPasses();
  registerSQuantPipelines();
  registerSQuantLoweringPipelines();
}
