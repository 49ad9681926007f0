// The int8-activation rows' error on the benchmark's data before session 38:
// x and codes from multiplicative hashes ("hash") against Gaussian x and
// uniformly random codes ("random"), scales 0.01 and biases centring the
// codes, 4096 x 4096 in groups of 128. A: the bias times the exact sum of
// x; B: times the sum of the quantized x. Relative L2 error, fp64.
//   g++ -O2 -o hash-sim hash-sim.cpp && ./hash-sim
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <random>
#include <vector>
#include <algorithm>
int main() {
  const int n = 4096, k = 4096, g = 128, G = k / g;
  for (int mode = 0; mode < 2; ++mode)
  for (int bits : {2, 4, 8}) {
    std::mt19937 rng(3);
    std::normal_distribution<double> nd(0, 1);
    std::vector<double> x(k), xq(k), xs(G);
    for (size_t i = 0; i < (size_t)k; ++i)
      x[i] = mode == 0 ? double(float((i * 2654435761u) % 1000) / 1000.0f - 0.5f) : nd(rng);
    for (int gi = 0; gi < G; ++gi) {
      double amax = 0; for (int c = 0; c < g; ++c) amax = std::max(amax, std::fabs(x[gi*g+c]));
      xs[gi] = amax / 127;
      for (int c = 0; c < g; ++c) xq[gi*g+c] = std::nearbyint(x[gi*g+c] / xs[gi]);
    }
    double s = 0.01, b = -s * ((1 << bits) - 1) / 2.0;
    double eA = 0, eB = 0, r = 0;
    for (int j = 0; j < n; ++j) {
      double y = 0, yA = 0, yB = 0;
      for (int gi = 0; gi < G; ++gi) {
        double dot = 0, sx = 0, sq = 0;
        for (int c = 0; c < g; ++c) {
          size_t i = (size_t)j * k + gi * g + c;
          double q = mode == 0 ? double(((i * 2246822519u) >> 7) & ((1u << bits) - 1)) : double(rng() & ((1u << bits) - 1));
          y += x[gi*g+c] * (s * q + b);
          dot += xq[gi*g+c] * q; sx += x[gi*g+c]; sq += xq[gi*g+c];
        }
        yA += s * xs[gi] * dot + b * sx;
        yB += s * xs[gi] * dot + b * xs[gi] * sq;
      }
      eA += (yA - y) * (yA - y); eB += (yB - y) * (yB - y); r += y * y;
    }
    std::printf("%s bits %d  A %.2e  B %.2e\n", mode == 0 ? "hash" : "random", bits, std::sqrt(eA / r), std::sqrt(eB / r));
  }
}
