//===- QMatmulWeight.h - The weight a constant qmatmul multiplies by -*- C++ -*-===//
//
// Test support shared by the rewrite and lowering tests.
//
//===----------------------------------------------------------------------===//

#ifndef SQUANT_UNITTESTS_SUPPORT_QMATMULWEIGHT_H
#define SQUANT_UNITTESTS_SUPPORT_QMATMULWEIGHT_H

#include "squant/Dialect/SQuant/IR/ConstantValues.h"
#include "squant/Dialect/SQuant/IR/SQuant.h"
#include "squant/Execution/ReferenceEvaluator.h"

#include "mlir/IR/Matchers.h"

#include <gtest/gtest.h>

namespace mlir::squant::testing {

/// The weight a squant.qmatmul with constant operands multiplies by,
/// dequantized per its recorded form: [N, K] row-major.
inline std::vector<float> qmatmulWeight(QMatmulOp op) {
  auto constant = [](Value v) {
    Attribute attr;
    if (!v)
      return attr;
    bool isConstant = matchPattern(v, m_Constant(&attr));
    EXPECT_TRUE(isConstant) << "operand is not constant";
    if (!isConstant)
      v.getParentBlock()->getParentOp()->dump();
    return attr;
  };
  std::optional<std::vector<float>> w = dequantizedQMatmulWeight(
      op, constant(op.getWeight()), constant(op.getScales()),
      constant(op.getBias()), constant(op.getTable()));
  EXPECT_TRUE(w.has_value()) << "unreadable qmatmul operands";
  return w.value_or(std::vector<float>());
}

} // namespace mlir::squant::testing

#endif // SQUANT_UNITTESTS_SUPPORT_QMATMULWEIGHT_H
