//===- Dialects.cpp - squant C API ----------------------------------------===//

#include "squant-c/Dialects.h"

#include "squant/Dialect/SQuant/IR/SQuant.h"
#include "squant/InitAll.h"

#include "mlir/CAPI/Registration.h"

MLIR_DEFINE_CAPI_DIALECT_REGISTRATION(SQuant, squant, mlir::squant::SQuantDialect)

void squantRegisterAllPasses(void) { mlir::squant::registerAllPasses(); }
