//===- Affine.h - Exact choose_qparams / quantize / dequantize ---*- C++ -*-===//
//
// The numeric contract of SEMANTICS.md sections 2-5, operation by operation:
// every `fl` of the spec is one fp32 operation followed by a rounding to the
// scheme's float format. Built with -ffp-contract=off (D11) so the compiler
// does not fuse what the spec rounds twice.
//
//===----------------------------------------------------------------------===//

#ifndef SQUANT_REFERENCE_AFFINE_H
#define SQUANT_REFERENCE_AFFINE_H

#include "squant/Reference/Scheme.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mlir::squant::ref {

/// The parameters of one group. `zeroPoint` holds an integer value for the
/// INT domain, -0.5 for stretched and the float midpoint value for tinygemm.
struct QParams {
  float scale;
  float zeroPoint;
};

/// ATen's CPU cascade sum with L = 8 lanes (section 4.4, decision D2).
float cascadeSum8(const float *x, size_t n);

/// Chooses the parameters of one group of `n` values (sections 2-5).
QParams chooseQParams(const Scheme &scheme, const float *x, size_t n);

/// Quantizes one value with its group's parameters.
int32_t quantize(const Scheme &scheme, QParams params, float x);

/// Dequantizes one code with its group's parameters (the scheme's own
/// rounding sequence, not the one-FMA form).
float dequantize(const Scheme &scheme, QParams params, int32_t q);

/// Which parameter a tensor element uses: per tensor (axis < 0), per axis
/// (groupSize == 0: one parameter per index along `axis`) or per group
/// (groupSize consecutive indices along `axis` share one).
struct Grouping {
  std::vector<int64_t> shape;
  int64_t axis = -1;
  int64_t groupSize = 0;

  /// Shape of the scale / zero-point tensor: [] per tensor, [shape[axis]]
  /// per axis, `shape` with shape[axis] / groupSize per group.
  std::vector<int64_t> paramShape() const;
  int64_t numElements() const;
  int64_t numParams() const;
  /// For every element (row-major), the row-major index of its parameter.
  std::vector<int64_t> paramIndices() const;
};

/// Scales and zero points of a whole tensor, row-major over paramShape().
struct TensorQParams {
  std::vector<float> scales;
  std::vector<float> zeroPoints;
};

/// Whole-tensor versions. The elements of each group are taken in row-major
/// order, which for groups along an axis is the order along that axis.
TensorQParams chooseQParams(const Scheme &scheme, const Grouping &grouping,
                            const std::vector<float> &x);
std::vector<int32_t> quantize(const Scheme &scheme, const Grouping &grouping,
                              const std::vector<float> &x,
                              const TensorQParams &params);
std::vector<float> dequantize(const Scheme &scheme, const Grouping &grouping,
                              const std::vector<int32_t> &q,
                              const TensorQParams &params);

/// Compile-time quantization of a whole weight in one pass over memory: x is
/// [outer, dim, inner] row-major with groups of `groupSize` consecutive
/// indices along `dim` (groupSize == dim: one group per (outer, inner)).
/// Writes int8 codes in x's layout and the [outer, dim / groupSize, inner]
/// scales and zero points. Same values as chooseQParams + quantize.
void quantizeGroups(const Scheme &scheme, const float *x, int64_t outer,
                    int64_t dim, int64_t inner, int64_t groupSize,
                    int8_t *codes, float *scales, float *zeroPoints);

/// True when every value is finite (D5: squant rejects other constants).
bool allFinite(const std::vector<float> &x);

} // namespace mlir::squant::ref

#endif // SQUANT_REFERENCE_AFFINE_H
