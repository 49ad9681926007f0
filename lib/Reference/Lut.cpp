//===- Lut.cpp - Lookup-table dequantization and affine -> LUT ------------===//

#include "squant/Reference/Lut.h"

#include <cmath>

namespace mlir::squant::ref {

int32_t lutMinCode(const Scheme &sc) {
  return storageMin(sc.bits, sc.isSigned || sc.kind == SchemeKind::Stretched);
}

int32_t lutMaxCode(const Scheme &sc) {
  return storageMax(sc.bits, sc.isSigned || sc.kind == SchemeKind::Stretched);
}

IntLutOrReason intLutFor(const Scheme &sc, float zeroPoint) {
  IntLutOrReason result;
  if (sc.format != FloatFormat::F32) {
    result.reason = "the int8 table form computes in f32, the scheme in a "
                    "narrower float type";
    return result;
  }
  if (sc.kind == SchemeKind::FloatZeroPoint) {
    result.reason = "a float zero point gives no integer table (z/s is not an "
                    "integer in general)";
    return result;
  }
  if (!std::isfinite(zeroPoint) ||
      zeroPoint * 2 != std::trunc(zeroPoint * 2)) {
    result.reason = "the zero point is neither an integer nor a half-integer";
    return result;
  }
  // c(q) = q - zp; a half-integer zp (stretched) needs e = 1.
  int exponent = zeroPoint == std::trunc(zeroPoint) ? 0 : 1;
  IntLut lut;
  lut.exponent = exponent;
  for (int32_t q = lutMinCode(sc), e = lutMaxCode(sc); q <= e; ++q) {
    double t = std::ldexp(static_cast<double>(q) - zeroPoint, exponent);
    if (t < -128 || t > 127) {
      result.reason = "table entry " + std::to_string(static_cast<long long>(t)) +
                      " for code " + std::to_string(q) +
                      " does not fit in int8";
      return result;
    }
    lut.table.push_back(static_cast<int8_t>(t));
  }
  result.lut = std::move(lut);
  return result;
}

std::optional<float> scaleTableFor(float scale, int exponent) {
  float st = std::ldexp(scale, -exponent);
  if (std::ldexp(st, exponent) != scale)
    return std::nullopt;
  return st;
}

float lutDequantize(int8_t entry, float scaleTable) {
  return scaleTable * static_cast<float>(entry);
}

std::vector<float> floatLutFor(const Scheme &sc, QParams params) {
  std::vector<float> lut;
  for (int32_t q = lutMinCode(sc), e = lutMaxCode(sc); q <= e; ++q)
    lut.push_back(dequantize(sc, params, q));
  return lut;
}

} // namespace mlir::squant::ref
