//===- BodyInterpreter.h - Evaluate a linalg.generic body on scalars -*- C++ -*-//
//
// squant-raise-dequant recognises front-end dequantization by what a
// linalg.generic computes, not by how its body is spelled: the body is run
// on concrete codes, scales and zero points and compared bit for bit with
// squant's reference numerics. This interpreter evaluates the scalar
// arith/math ops such bodies use, with IEEE single rounding per op (bf16 and
// f16 ops round through fp32 as the spec's `fl`), and refuses anything else.
//
//===----------------------------------------------------------------------===//

#ifndef SQUANT_DIALECT_SQUANT_TRANSFORMS_BODYINTERPRETER_H
#define SQUANT_DIALECT_SQUANT_TRANSFORMS_BODYINTERPRETER_H

#include "mlir/IR/Block.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <optional>

namespace mlir::squant {

/// A scalar during interpretation: an integer (its bits, zero-extended from
/// the type's width) or a float (held as fp32, already rounded to its type).
struct ScalarValue {
  bool isFloat = false;
  uint64_t bits = 0;
  float value = 0.0f;

  static ScalarValue integer(uint64_t b) { return {false, b, 0.0f}; }
  static ScalarValue floating(float v) { return {true, 0, v}; }
};

/// True when every op of `body` is one the interpreter can evaluate: integer
/// and float arithmetic, casts, shifts and masks, constants, linalg.index,
/// math.fma, float min/max, cmpf, select, exp, tanh, sqrt, absf. No control
/// flow.
bool isInterpretableBody(Block &body);

/// True when every op of `body` is correctly rounded by IEEE 754 (no exp or
/// tanh, whose results depend on the math library).
bool isCorrectlyRoundedBody(Block &body);

/// Runs `body` (a linalg.generic region) with its block arguments bound to
/// `args` and linalg.index i bound to `indices[i]`; returns the yielded
/// value, or nothing when an op cannot be evaluated.
std::optional<ScalarValue> interpretBody(Block &body,
                                         ArrayRef<ScalarValue> args,
                                         ArrayRef<int64_t> indices);

/// As interpretBody, with every yielded value (multi-result generics).
std::optional<SmallVector<ScalarValue, 1>>
interpretBodyYields(Block &body, ArrayRef<ScalarValue> args,
                    ArrayRef<int64_t> indices);

} // namespace mlir::squant

#endif // SQUANT_DIALECT_SQUANT_TRANSFORMS_BODYINTERPRETER_H
