//===- Lut.h - Lookup-table dequantization and affine -> LUT ------*- C++ -*-===//
//
// Section 6 of SEMANTICS.md. An index idx = q - qmin selects an entry of a
// table: either an int8 table T scaled by an fp32 s_table (6.1), or a float
// table per tensor, row or group (6.2). Section 6.3 rule 1 says when an affine
// scheme has an exact int8 table; rule 2 builds the always-exact float table.
//
//===----------------------------------------------------------------------===//

#ifndef SQUANT_REFERENCE_LUT_H
#define SQUANT_REFERENCE_LUT_H

#include "squant/Reference/Affine.h"

#include <optional>
#include <string>
#include <vector>

namespace mlir::squant::ref {

/// An exact int8 table for a scheme (rule 1): T[i] = c(i) * 2^exponent and
/// s_table = s * 2^-exponent, so fl(s_table * T[i]) == dequantize(i + qmin).
struct IntLut {
  std::vector<int8_t> table; // 2^bits entries, indexed by q - lutMinCode
  int exponent = 0;          // e of section 6.3
};

/// A table has 2^bits entries, one per code of the storage range; entry
/// idx = q - lutMinCode(scheme) holds code q.
int32_t lutMinCode(const Scheme &scheme);
int32_t lutMaxCode(const Scheme &scheme);

/// The result of asking for an int8 table: the table, or why there is none.
struct IntLutOrReason {
  std::optional<IntLut> lut;
  std::string reason;
};

/// Rule 1 for a scheme whose every group has zero point `zeroPoint` (the
/// caller checks that the zero point is shared; stretched and symmetric imply
/// theirs). Only f32 schemes qualify: the table form computes in fp32.
IntLutOrReason intLutFor(const Scheme &scheme, float zeroPoint);

/// s_table = s * 2^-exponent, or nothing when that loses bits (underflow).
std::optional<float> scaleTableFor(float scale, int exponent);

/// w = fl(s_table * T[idx]) (section 6.1).
float lutDequantize(int8_t entry, float scaleTable);

/// Rule 2: the float table of one group, each entry computed with the
/// scheme's own rounding sequence: lut[i] = dequantize(i + lutMinCode).
std::vector<float> floatLutFor(const Scheme &scheme, QParams params);

} // namespace mlir::squant::ref

#endif // SQUANT_REFERENCE_LUT_H
