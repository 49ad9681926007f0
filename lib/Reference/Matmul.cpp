//===- Matmul.cpp - fp64 reference for quantized matmuls (D8) -------------===//

#include "squant/Reference/Matmul.h"

#include <cmath>

namespace mlir::squant::ref {

std::vector<double> matmulF64(const std::vector<float> &x,
                              const std::vector<float> &w, int64_t m,
                              int64_t n, int64_t k,
                              std::vector<double> *bound) {
  std::vector<double> y(m * n, 0.0);
  if (bound)
    bound->assign(m * n, 0.0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0.0, mag = 0.0;
      for (int64_t kk = 0; kk < k; ++kk) {
        double p = static_cast<double>(x[i * k + kk]) * w[j * k + kk];
        acc += p;
        mag += std::fabs(p);
      }
      y[i * n + j] = acc;
      if (bound)
        (*bound)[i * n + j] = static_cast<double>(k) * std::ldexp(1.0, -22) * mag;
    }
  return y;
}

int64_t firstOutsideD8(const std::vector<float> &y,
                       const std::vector<double> &ref,
                       const std::vector<double> &bound) {
  for (size_t i = 0; i < y.size(); ++i)
    if (!(std::fabs(static_cast<double>(y[i]) - ref[i]) <= bound[i]))
      return static_cast<int64_t>(i);
  return -1;
}

} // namespace mlir::squant::ref
