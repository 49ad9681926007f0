//===- FloatFormat.cpp - Rounding to squant's expressed float types -------===//
//
// Bit-exact software conversions: they do not depend on F16C, AVX512-BF16 or
// the compiler's _Float16 support, so the reference gives the same bits on
// every host.
//
//===----------------------------------------------------------------------===//

#include "squant/Reference/FloatFormat.h"

#include <cmath>
#include <limits>

namespace mlir::squant::ref {

uint16_t bf16BitsFromFloat(float f) {
  uint32_t u = bitsFromFloat(f);
  if (std::isnan(f))
    return static_cast<uint16_t>((u >> 16) | 0x0040); // keep it quiet NaN
  // Round to nearest even on the 16 dropped bits.
  uint32_t lsb = (u >> 16) & 1u;
  u += 0x7fffu + lsb;
  return static_cast<uint16_t>(u >> 16);
}

uint16_t f16BitsFromFloat(float f) {
  uint32_t u = bitsFromFloat(f);
  uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  uint32_t absBits = u & 0x7fffffffu;
  if (absBits >= 0x7f800000u) // inf or NaN
    return sign | (absBits > 0x7f800000u ? 0x7e00 : 0x7c00);
  // 65520 = the halfway point between the largest half (65504) and 2^16:
  // everything at or above it rounds to inf.
  if (absBits >= 0x477ff000u)
    return sign | 0x7c00;
  int32_t exp = static_cast<int32_t>(absBits >> 23) - 127;
  uint32_t mant = absBits & 0x7fffffu;
  if (exp >= -14) {
    // Normal half: 10 mantissa bits, drop 13 with round to nearest even.
    uint32_t bits = (static_cast<uint32_t>(exp + 15) << 10) | (mant >> 13);
    uint32_t rest = mant & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (bits & 1u)))
      ++bits; // a carry into the exponent is the correct result
    return sign | static_cast<uint16_t>(bits);
  }
  // Subnormal half: value = m * 2^-24 with m < 1024.
  if (exp < -25)
    return sign; // below half the smallest subnormal: rounds to zero
  uint32_t full = mant | 0x800000u; // 24-bit significand, value full*2^(exp-23)
  int shift = -exp - 1;             // bits to drop so the unit is 2^-24
  uint32_t bits = full >> shift;
  uint32_t rest = full & ((1u << shift) - 1u);
  uint32_t half = 1u << (shift - 1);
  if (rest > half || (rest == half && (bits & 1u)))
    ++bits;
  return sign | static_cast<uint16_t>(bits);
}

float floatFromF16Bits(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  if (exp == 0x1f)
    return floatFromBits(sign | 0x7f800000u | (mant << 13));
  if (exp != 0)
    return floatFromBits(sign | ((exp + 112) << 23) | (mant << 13));
  // Zero or subnormal: m * 2^-24 is exact in fp32.
  float v = std::ldexp(static_cast<float>(mant), -24);
  return sign ? -v : v;
}


} // namespace mlir::squant::ref
