/*===- Dialects.h - squant C API ------------------------------------*- C -*-===//
 *
 * The squant dialect handle and pass registration for the MLIR C API, for
 * tools and bindings written against mlir-c.
 *
 *===----------------------------------------------------------------------===*/

#ifndef SQUANT_C_DIALECTS_H
#define SQUANT_C_DIALECTS_H

#include "mlir-c/IR.h"

#ifdef __cplusplus
extern "C" {
#endif

/* mlirGetDialectHandle__squant__() */
MLIR_DECLARE_CAPI_DIALECT_REGISTRATION(SQuant, squant);

/* Registers every squant pass and pipeline with the global registry, so
 * textual pipelines (mlirParsePassPipeline) can name them. */
MLIR_CAPI_EXPORTED void squantRegisterAllPasses(void);

#ifdef __cplusplus
}
#endif

#endif /* SQUANT_C_DIALECTS_H */
