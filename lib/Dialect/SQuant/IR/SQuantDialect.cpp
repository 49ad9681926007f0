//===- SQuantDialect.cpp - squant dialect registration --------------------===//

#include "squant/Dialect/SQuant/IR/SQuant.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::squant;

#include "squant/Dialect/SQuant/IR/SQuantDialect.cpp.inc"
#include "squant/Dialect/SQuant/IR/SQuantEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "squant/Dialect/SQuant/IR/SQuantAttrs.cpp.inc"

void SQuantDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "squant/Dialect/SQuant/IR/SQuantAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "squant/Dialect/SQuant/IR/SQuantOps.cpp.inc"
      >();
}

/// Folded results are dense tensors; they become arith.constant.
Operation *SQuantDialect::materializeConstant(OpBuilder &builder,
                                              Attribute value, Type type,
                                              Location loc) {
  auto elements = dyn_cast<TypedAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return arith::ConstantOp::create(builder, loc, type, elements);
}

ref::FloatFormat mlir::squant::getFloatFormat(Type type) {
  if (type.isBF16())
    return ref::FloatFormat::BF16;
  if (type.isF16())
    return ref::FloatFormat::F16;
  return ref::FloatFormat::F32;
}
