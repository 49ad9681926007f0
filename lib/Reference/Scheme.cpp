//===- Scheme.cpp - The quantization schemes of the squant spec -----------===//

#include "squant/Reference/Scheme.h"

#include <cmath>

namespace mlir::squant::ref {

float defaultEps(SchemeKind kind) {
  return kind == SchemeKind::Stretched ? 0x1p-23f : 0x1p-126f;
}

int32_t storageMin(unsigned bits, bool isSigned) {
  return isSigned ? -(int32_t(1) << (bits - 1)) : 0;
}

int32_t storageMax(unsigned bits, bool isSigned) {
  return isSigned ? (int32_t(1) << (bits - 1)) - 1 : (int32_t(1) << bits) - 1;
}

Scheme Scheme::get(SchemeKind kind, unsigned bits, bool isSigned,
                   FloatFormat format) {
  Scheme s;
  s.kind = kind;
  s.bits = bits;
  s.isSigned = isSigned;
  s.qmin = storageMin(bits, isSigned);
  s.qmax = storageMax(bits, isSigned);
  s.eps = defaultEps(kind);
  s.format = format;
  return s;
}

bool Scheme::hasIntZeroPoint() const {
  return kind != SchemeKind::Stretched && kind != SchemeKind::FloatZeroPoint;
}

bool Scheme::hasZeroPointOperand() const {
  return kind == SchemeKind::Asymmetric ||
         kind == SchemeKind::AsymmetricNoPreserveZero ||
         kind == SchemeKind::FloatZeroPoint;
}

float Scheme::impliedZeroPoint() const {
  if (kind == SchemeKind::Stretched)
    return -0.5f;
  // int((qmax + qmin + 1) / 2) in Python: true division, then truncation.
  return std::trunc((static_cast<double>(qmax) + qmin + 1) / 2.0);
}

int32_t Scheme::minCode() const {
  return kind == SchemeKind::Stretched ? storageMin(bits, true) : qmin;
}

int32_t Scheme::maxCode() const {
  return kind == SchemeKind::Stretched ? storageMax(bits, true) : qmax;
}

} // namespace mlir::squant::ref
