//===- QMatmulWeight.h - The weight a constant qmatmul multiplies by -*- C++ -*-===//
//
// Test support shared by the rewrite and lowering tests.
//
//===----------------------------------------------------------------------===//

#ifndef SQUANT_UNITTESTS_SUPPORT_QMATMULWEIGHT_H
#define SQUANT_UNITTESTS_SUPPORT_QMATMULWEIGHT_H

#include "squant/Dialect/SQuant/IR/ConstantValues.h"
#include "squant/Dialect/SQuant/IR/SQuant.h"
#include "squant/Reference/OneFma.h"

#include "mlir/IR/Matchers.h"

#include <gtest/gtest.h>

namespace mlir::squant::testing {

/// The weight a squant.qmatmul with constant operands multiplies by,
/// dequantized per its recorded form: [N, K] row-major.
inline std::vector<float> qmatmulWeight(QMatmulOp op) {
  auto constant = [](Value v) {
    Attribute attr;
    bool isConstant = v && matchPattern(v, m_Constant(&attr));
    EXPECT_TRUE(isConstant) << "operand is not constant";
    if (!isConstant && v)
      v.getParentBlock()->getParentOp()->dump();
    return attr;
  };
  auto wType = op.getWeight().getType();
  int64_t n = wType.getDimSize(0), k = wType.getDimSize(1);
  std::vector<float> w(n * k);
  if (auto fma = dyn_cast<FmaFormAttr>(op.getForm())) {
    std::vector<int32_t> q = *readInts(constant(op.getWeight()), fma.isSigned());
    std::vector<float> s = *readFloats(constant(op.getScales()));
    std::vector<float> b = *readFloats(constant(op.getBias()));
    int64_t g = *fma.getGroupSize(), groups = k / g;
    ref::FloatFormat format = getFloatFormat(op.getScales().getType().getElementType());
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < k; ++j) {
        int64_t p = i * groups + j / g;
        w[i * k + j] = ref::roundTo(ref::fmaDequantize(q[i * k + j], s[p], b[p]), format);
      }
    return w;
  }
  auto lut = cast<LutSchemeAttr>(op.getForm());
  std::vector<int32_t> idx = *readInts(constant(op.getWeight()), false);
  bool intTable = op.getTable().getType().getElementType().isInteger(8);
  std::vector<float> table;
  if (intTable) {
    std::vector<int32_t> t = *readInts(constant(op.getTable()), true);
    table.assign(t.begin(), t.end());
  } else {
    table = *readFloats(constant(op.getTable()));
  }
  std::vector<float> scales;
  if (op.getScales())
    scales = *readFloats(constant(op.getScales()));
  std::vector<int64_t> si = lut.getScaleGrouping({n, k}).paramIndices();
  std::vector<int64_t> ti = lut.getTableGrouping({n, k}).paramIndices();
  int64_t entries = int64_t(1) << lut.getBits();
  for (int64_t i = 0; i < n * k; ++i) {
    float entry = table[ti[i] * entries + idx[i]];
    w[i] = scales.empty() ? entry : scales[si[i]] * entry;
  }
  return w;
}


} // namespace mlir::squant::testing

#endif // SQUANT_UNITTESTS_SUPPORT_QMATMULWEIGHT_H
