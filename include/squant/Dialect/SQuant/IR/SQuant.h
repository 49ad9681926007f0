//===- SQuant.h - squant dialect, attributes and ops -------------*- C++ -*-===//
//
// The one header users include to get the squant dialect.
//
//===----------------------------------------------------------------------===//

#ifndef SQUANT_DIALECT_SQUANT_IR_SQUANT_H
#define SQUANT_DIALECT_SQUANT_IR_SQUANT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "squant/Reference/Affine.h"

#include "squant/Dialect/SQuant/IR/SQuantDialect.h.inc"
#include "squant/Dialect/SQuant/IR/SQuantEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "squant/Dialect/SQuant/IR/SQuantAttrs.h.inc"

#define GET_OP_CLASSES
#include "squant/Dialect/SQuant/IR/SQuantOps.h.inc"

namespace mlir::squant {

/// The reference library's format for an MLIR float type (f32, bf16, f16).
ref::FloatFormat getFloatFormat(Type type);

} // namespace mlir::squant

#endif // SQUANT_DIALECT_SQUANT_IR_SQUANT_H
