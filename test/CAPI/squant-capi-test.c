/*===- squant-capi-test.c - The squant C API from C -------------------------===//
 *
 * Registers the squant dialect through its C handle, parses squant IR, runs
 * a squant pass from a textual pipeline and prints the result (checked by
 * test/CAPI/capi.mlir with FileCheck).
 *
 *===----------------------------------------------------------------------===*/

#include "squant-c/Dialects.h"

#include "mlir-c/IR.h"
#include "mlir-c/Pass.h"
#include "mlir-c/RegisterEverything.h"

#include <stdio.h>
#include <stdlib.h>

static void print(MlirStringRef s, void *user) {
  (void)user;
  fwrite(s.data, 1, s.length, stdout);
}

int main(void) {
  MlirContext ctx = mlirContextCreate();
  MlirDialectRegistry registry = mlirDialectRegistryCreate();
  mlirRegisterAllDialects(registry);
  mlirContextAppendDialectRegistry(ctx, registry);
  mlirDialectRegistryDestroy(registry);
  mlirDialectHandleRegisterDialect(mlirGetDialectHandle__squant__(), ctx);
  mlirContextLoadAllAvailableDialects(ctx);
  squantRegisterAllPasses();

  const char *ir =
      "func.func @f(%q: tensor<2x64xi8>, %s: tensor<2x2xf32>) -> tensor<2x64xf32> {\n"
      "  %w = squant.dequantize %q, %s scheme <stretched, bits = 2, axis = 1, "
      "group_size = 32> : tensor<2x64xi8>, tensor<2x2xf32> -> tensor<2x64xf32>\n"
      "  return %w : tensor<2x64xf32>\n"
      "}\n";
  MlirModule module = mlirModuleCreateParse(ctx, mlirStringRefCreateFromCString(ir));
  if (mlirModuleIsNull(module)) {
    fprintf(stderr, "parse failed\n");
    return 1;
  }
  MlirPassManager pm = mlirPassManagerCreate(ctx);
  MlirOpPassManager opm = mlirPassManagerGetAsOpPassManager(pm);
  if (mlirLogicalResultIsFailure(mlirParsePassPipeline(
          opm, mlirStringRefCreateFromCString("builtin.module(func.func(squant-fold-zero-points))"),
          print, NULL))) {
    fprintf(stderr, "pipeline parse failed\n");
    return 1;
  }
  if (mlirLogicalResultIsFailure(
          mlirPassManagerRunOnOp(pm, mlirModuleGetOperation(module)))) {
    fprintf(stderr, "pass failed\n");
    return 1;
  }
  mlirOperationPrint(mlirModuleGetOperation(module), print, NULL);
  printf("\n");
  mlirPassManagerDestroy(pm);
  mlirModuleDestroy(module);
  mlirContextDestroy(ctx);
  return 0;
}
