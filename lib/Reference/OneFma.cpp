//===- OneFma.cpp - The one-FMA dequantization form w = q*s + b -----------===//

#include "squant/Reference/OneFma.h"

#include <cmath>

namespace mlir::squant::ref {

float foldedBias(const Scheme &sc, QParams p) {
  switch (sc.kind) {
  case SchemeKind::Stretched:
    return 0.5f * p.scale;
  case SchemeKind::FloatZeroPoint:
    return std::fma(p.scale, -sc.midpoint(), p.zeroPoint);
  default:
    // 0 * s is +0 for the signed symmetric scheme.
    return p.zeroPoint == 0.0f ? 0.0f : -p.zeroPoint * p.scale;
  }
}

bool foldIsExact(const Scheme &sc, QParams p) {
  if (!std::isfinite(p.scale) || !std::isfinite(p.zeroPoint))
    return false;
  switch (sc.kind) {
  case SchemeKind::Stretched:
    // 0.5*s loses a bit only when s is subnormal with its lowest bit set.
    return 2.0f * (0.5f * p.scale) == p.scale;
  case SchemeKind::FloatZeroPoint:
    return false;
  default: {
    // fl(q*s - zp*s) == fl((q - zp)*s) whenever zp*s itself is exact; the
    // fma computes the rounding error of the product.
    float b = foldedBias(sc, p);
    return std::fma(-p.zeroPoint, p.scale, -b) == 0.0f && std::isfinite(b);
  }
  }
}

float fmaDequantize(int32_t q, float scale, float bias) {
  return std::fma(static_cast<float>(q), scale, bias);
}

float ulp(float x) {
  x = std::fabs(x);
  if (!std::isfinite(x))
    return x;
  return std::nextafter(x, INFINITY) - x;
}

float foldTolerance(const Scheme &sc, QParams p, int32_t q) {
  float qf = static_cast<float>(q);
  double m;
  if (sc.kind == SchemeKind::FloatZeroPoint)
    m = std::fabs(p.zeroPoint) +
        std::fabs((static_cast<double>(qf) - sc.midpoint()) * p.scale) +
        std::fabs(static_cast<double>(qf) * p.scale);
  else
    m = std::fabs(static_cast<double>(p.zeroPoint) * p.scale) +
        std::fabs(static_cast<double>(qf) * p.scale);
  return 2.0f * ulp(static_cast<float>(m));
}

} // namespace mlir::squant::ref
