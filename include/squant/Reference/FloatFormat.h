//===- FloatFormat.h - Rounding to squant's expressed float types -*- C++ -*-===//
//
// squant's expressed types are f32, bf16 and f16. torch evaluates a bf16 or
// f16 elementwise op in fp32 and rounds the fp32 result once more to the
// narrow type (SEMANTICS.md section 0), so every reference operation is
// "compute in fp32, then round to the format". This header gives that rounding
// and the bit-level conversions the folders and tests need.
//
//===----------------------------------------------------------------------===//

#ifndef SQUANT_REFERENCE_FLOATFORMAT_H
#define SQUANT_REFERENCE_FLOATFORMAT_H

#include <cstdint>
#include <cstring>

namespace mlir::squant::ref {

/// The float formats squant expresses weights in.
enum class FloatFormat { F32, BF16, F16 };

/// Returns the float whose bits are `bits`.
inline float floatFromBits(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

/// Returns the bits of `f`.
inline uint32_t bitsFromFloat(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof(bits));
  return bits;
}

/// Rounds an fp32 value to bf16 (round to nearest even) and returns its bits.
/// NaN stays NaN (quiet).
uint16_t bf16BitsFromFloat(float f);
/// Widens bf16 bits to fp32 (exact).
inline float floatFromBF16Bits(uint16_t bits) {
  return floatFromBits(static_cast<uint32_t>(bits) << 16);
}

/// Rounds an fp32 value to IEEE half (round to nearest even, subnormals kept,
/// overflow to inf) and returns its bits.
uint16_t f16BitsFromFloat(float f);
/// Widens IEEE half bits to fp32 (exact).
float floatFromF16Bits(uint16_t bits);

/// Rounds an fp32 value to `format` and returns it widened back to fp32.
/// This is the `fl` of SEMANTICS.md for a bf16 or f16 tensor.
inline float roundTo(float f, FloatFormat format) {
  switch (format) {
  case FloatFormat::F32:
    return f;
  case FloatFormat::BF16:
    return floatFromBF16Bits(bf16BitsFromFloat(f));
  case FloatFormat::F16:
    return floatFromF16Bits(f16BitsFromFloat(f));
  }
  return f;
}

/// Round half to even (D1): `torch.round`, `rintf` in the default mode,
/// without a libm call. Below 2^23, adding and removing 2^23 rounds to an
/// integer under round-to-nearest-even (the ulp there is 1); the sign is
/// restored so rint(-0.4) is -0 as in C. Larger values, inf and NaN are
/// already integers or propagate. Requires the default rounding mode and
/// no fast-math (D11).
inline float roundHalfEven(float f) {
  float a = __builtin_fabsf(f);
  float r = __builtin_copysignf((a + 0x1p23f) - 0x1p23f, f);
  return a < 0x1p23f ? r : f; // branch-free, so loops over it vectorize
}

/// Converts a rounded float code to int32 without undefined behaviour: NaN
/// gives 0, values outside the int32 range saturate. Used only where the
/// spec leaves the result unspecified (non-finite inputs, section 9).
inline int32_t toInt32Saturating(float f) {
  // Selects rather than branches, so loops over it vectorize.
  float inRange = f < -2147483648.0f ? -2147483648.0f : f;
  inRange = inRange >= 2147483648.0f ? 0.0f : inRange;
  int32_t v = static_cast<int32_t>(inRange == inRange ? inRange : 0.0f);
  return f >= 2147483648.0f ? 2147483647 : v;
}

} // namespace mlir::squant::ref

#endif // SQUANT_REFERENCE_FLOATFORMAT_H
