//===- Scheme.h - The quantization schemes of the squant spec ----*- C++ -*-===//
//
// A plain description of one quantization scheme (SEMANTICS.md sections 2-5):
// how its scale and zero point are chosen, its code range and its eps. The
// dialect's #squant.affine attribute converts to this struct, so the compiler's
// folders and the tests evaluate the very same reference code.
//
//===----------------------------------------------------------------------===//

#ifndef SQUANT_REFERENCE_SCHEME_H
#define SQUANT_REFERENCE_SCHEME_H

#include "squant/Reference/FloatFormat.h"

#include <cstdint>

namespace mlir::squant::ref {

/// Each affine scheme of the spec, named by how it chooses its parameters.
enum class SchemeKind {
  /// Section 2: int zero point, range forced to include 0.
  Asymmetric,
  /// Section 3 (last paragraph): int zero point, zero not forced in range.
  AsymmetricNoPreserveZero,
  /// Section 3: s = amax / ((qmax - qmin) / 2), zp = (qmax + qmin + 1) / 2.
  Symmetric,
  /// Section 3: s = max(mn / qmin, mx / qmax).
  SymmetricNoClippingErr,
  /// Section 4: PARQ/torchao stretched grid, zero point -0.5.
  Stretched,
  /// Section 5: tinygemm, float zero point = value at the midpoint code.
  FloatZeroPoint,
};

/// Default eps of decision D3: 2^-23 for stretched, 2^-126 for the others.
float defaultEps(SchemeKind kind);

/// One affine scheme. Codes are integers in [qmin, qmax]; for the stretched
/// scheme the *float* bounds are +-(2^(b-1) - 0.5) and the codes lie in
/// [-2^(b-1), 2^(b-1) - 1].
struct Scheme {
  SchemeKind kind = SchemeKind::Asymmetric;
  unsigned bits = 8;
  bool isSigned = true;
  int32_t qmin = -128;
  int32_t qmax = 127;
  float eps = 0x1p-126f;
  /// The type every choose/quantize/dequantize operation rounds to.
  FloatFormat format = FloatFormat::F32;

  /// A scheme with the full code range of `bits` and the default eps.
  static Scheme get(SchemeKind kind, unsigned bits, bool isSigned,
                    FloatFormat format = FloatFormat::F32);

  /// True when the zero point is an integer (INT zero-point domain).
  bool hasIntZeroPoint() const;
  /// True when the zero point is an operand of (de)quantize (asymmetric and
  /// float-zero-point schemes); symmetric and stretched imply theirs.
  bool hasZeroPointOperand() const;
  /// The zero point implied by symmetric and stretched schemes.
  float impliedZeroPoint() const;
  /// The stretched float bound 2^(b-1) - 0.5 (exact).
  float stretchedQMax() const {
    return static_cast<float>(int32_t(1) << (bits - 1)) - 0.5f;
  }
  /// The midpoint code (qmax + qmin + 1) / 2 of the float-zero-point scheme
  /// (exact: a small integer or half-integer).
  float midpoint() const {
    return (static_cast<float>(qmax) + static_cast<float>(qmin) + 1.0f) * 0.5f;
  }
  /// Smallest and largest code a quantize of this scheme produces.
  int32_t minCode() const;
  int32_t maxCode() const;
};

/// The code range of a `bits`-wide signed or unsigned integer.
int32_t storageMin(unsigned bits, bool isSigned);
int32_t storageMax(unsigned bits, bool isSigned);

} // namespace mlir::squant::ref

#endif // SQUANT_REFERENCE_SCHEME_H
