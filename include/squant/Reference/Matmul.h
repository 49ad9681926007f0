//===- Matmul.h - fp64 reference for quantized matmuls (D8) ------*- C++ -*-===//
//
// D8: a matmul output y[m][n] = sum_k x[m][k] * w[n][k] is compared with the
// fp64 accumulation of the same products; the allowed absolute error is
// K * 2^-22 * sum_k |x[m][k]| * |w[n][k]| (accumulation order is free).
//
//===----------------------------------------------------------------------===//

#ifndef SQUANT_REFERENCE_MATMUL_H
#define SQUANT_REFERENCE_MATMUL_H

#include <cstdint>
#include <vector>

namespace mlir::squant::ref {

/// y = x * w^T in fp64, with x [M, K] and w [N, K] row-major; also returns
/// the D8 bound of every output in `bound`.
std::vector<double> matmulF64(const std::vector<float> &x,
                              const std::vector<float> &w, int64_t m,
                              int64_t n, int64_t k, std::vector<double> *bound);

/// Index of the first output outside its D8 bound, or -1 when all are inside.
int64_t firstOutsideD8(const std::vector<float> &y,
                       const std::vector<double> &ref,
                       const std::vector<double> &bound);

} // namespace mlir::squant::ref

#endif // SQUANT_REFERENCE_MATMUL_H
