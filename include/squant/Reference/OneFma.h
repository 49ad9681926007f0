//===- OneFma.h - The one-FMA dequantization form w = q*s + b ----*- C++ -*-===//
//
// Section 7 of SEMANTICS.md: folding the zero point into a per-group bias b so
// that dequantization is one fused multiply-add, and when that is bit-exact
// against the scheme's own dequantization (D6) or only within the fused-matmul
// tolerance of D7.
//
//===----------------------------------------------------------------------===//

#ifndef SQUANT_REFERENCE_ONEFMA_H
#define SQUANT_REFERENCE_ONEFMA_H

#include "squant/Reference/Affine.h"

namespace mlir::squant::ref {

/// The folded bias of one group (section 7's table):
///   stretched  b = 0.5*s         symmetric  b = fl(-zp*s) (0 for signed)
///   INT asym.  b = fl(-zp*s)     tinygemm   b = fma(s, -mid, zp)
float foldedBias(const Scheme &scheme, QParams params);

/// True when fl(q*s + b) equals dequantize(q) for every code of the group:
/// stretched when 0.5*s is exact, symmetric and INT asymmetric when zp*s is
/// exactly representable. Never for tinygemm (its reference rounds twice).
bool foldIsExact(const Scheme &scheme, QParams params);

/// w = fma(q, s, b), one rounding in fp32.
float fmaDequantize(int32_t q, float scale, float bias);

/// Section 7 / D7 bound on an inexact fold: |w - w_ref| <= 2 * ulp(M) with
/// M = |zp*s| + |q*s| (INT) or |zp| + |(q-mid)*s| + |q*s| (tinygemm).
float foldTolerance(const Scheme &scheme, QParams params, int32_t q);

/// The spacing of fp32 numbers at |x| (ulp), for tolerances.
float ulp(float x);

} // namespace mlir::squant::ref

#endif // SQUANT_REFERENCE_ONEFMA_H
