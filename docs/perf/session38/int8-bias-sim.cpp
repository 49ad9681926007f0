// The int8-activation mode's bias term, two ways, on min/max (asymmetric,
// zero point at the group's minimum) quantization of N(mu, 1) weights in
// groups of 128, x ~ N(0, 1) quantized per group to int8 (scale max|x| /
// 127): A, the bias times the exact sum of x (squant_rt until session 38);
// B, the bias times the sum of the quantized x (since). Relative L2 error
// of y over 1024 rows, K = 4096, against the exact product, in fp64.
//   g++ -O2 -o int8-bias-sim int8-bias-sim.cpp && ./int8-bias-sim
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>
#include <algorithm>
int main() {
  const int n = 1024, k = 4096, g = 128, G = k / g;
  std::mt19937 rng(1);
  std::normal_distribution<double> nd(0, 1);
  for (double mu : {0.0, 0.3, 1.0})
  for (int bits : {2, 3, 4, 8}) {
    std::vector<double> x(k), xq(k), xs(G);
    for (double &v : x) v = nd(rng);
    for (int gi = 0; gi < G; ++gi) {
      double amax = 0; for (int c = 0; c < g; ++c) amax = std::max(amax, std::fabs(x[gi*g+c]));
      xs[gi] = amax / 127;
      for (int c = 0; c < g; ++c) xq[gi*g+c] = std::nearbyint(x[gi*g+c] / xs[gi]);
    }
    double eA = 0, eB = 0, r = 0;
    for (int j = 0; j < n; ++j) {
      double y = 0, yA = 0, yB = 0;
      for (int gi = 0; gi < G; ++gi) {
        double w[256], mn = 1e30, mx = -1e30;
        for (int c = 0; c < g; ++c) { w[c] = mu + nd(rng); mn = std::min(mn, w[c]); mx = std::max(mx, w[c]); }
        double s = (mx - mn) / ((1 << bits) - 1), b = mn;
        double dot = 0, sx = 0, sq = 0;
        for (int c = 0; c < g; ++c) {
          double q = std::nearbyint((w[c] - b) / s);
          y += x[gi*g+c] * (s * q + b);
          dot += xq[gi*g+c] * q; sx += x[gi*g+c]; sq += xq[gi*g+c];
        }
        yA += s * xs[gi] * dot + b * sx;
        yB += s * xs[gi] * dot + b * xs[gi] * sq;
      }
      eA += (yA - y) * (yA - y); eB += (yB - y) * (yB - y); r += y * y;
    }
    std::printf("mu %.1f bits %d  A %.2e  B %.2e\n", mu, bits, std::sqrt(eA / r), std::sqrt(eB / r));
  }
}
