//===- Affine.cpp - Exact choose_qparams / quantize / dequantize ----------===//
//
// Each function follows the operation order of one section of SEMANTICS.md;
// the section is named next to it. `fl` rounds an fp32 result to the scheme's
// format (a no-op for f32).
//
//===----------------------------------------------------------------------===//

#include "squant/Reference/Affine.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace mlir::squant::ref {
namespace {

/// NaN-propagating min / max, as torch.min / torch.max / amin / amax.
float nanMin(float a, float b) {
  if (std::isnan(a) || std::isnan(b))
    return std::numeric_limits<float>::quiet_NaN();
  return a < b ? a : b;
}
float nanMax(float a, float b) {
  if (std::isnan(a) || std::isnan(b))
    return std::numeric_limits<float>::quiet_NaN();
  return a > b ? a : b;
}
/// torch.clamp(v, min=lo): NaN stays NaN.
float clampMin(float v, float lo) { return std::isnan(v) ? v : std::max(v, lo); }
/// torch.clamp(v, lo, hi): NaN stays NaN (std::max/min return their first
/// argument when a comparison with NaN is false). Branch-free.
inline float clampRange(float v, float lo, float hi) {
  return std::min(std::max(v, lo), hi);
}

/// Section 2 and 3: the two INT-domain range choices.
QParams chooseIntDomain(const Scheme &sc, float mn, float mx) {
  auto fl = [&](float v) { return roundTo(v, sc.format); };
  float qmin = static_cast<float>(sc.qmin), qmax = static_cast<float>(sc.qmax);
  bool preserveZero = sc.kind != SchemeKind::AsymmetricNoPreserveZero;
  float mnp = preserveZero ? nanMin(mn, 0.0f) : mn;
  float mxp = preserveZero ? nanMax(mx, 0.0f) : mx;
  float zpImplied = sc.impliedZeroPoint();
  switch (sc.kind) {
  case SchemeKind::Symmetric: {
    float amax = nanMax(-mnp, mxp);
    float divisor = static_cast<float>((static_cast<double>(sc.qmax) - sc.qmin) / 2.0);
    float s = clampMin(fl(amax / divisor), sc.eps);
    return {s, zpImplied};
  }
  case SchemeKind::SymmetricNoClippingErr: {
    float smin = fl(mnp / qmin);
    float smax = fl(mxp / qmax);
    float s = smin > smax ? smin : smax; // torch.where(smin > smax, ...)
    return {clampMin(s, sc.eps), zpImplied};
  }
  default: {
    // float(qmax - qmin) is a Python scalar: not rounded to the format.
    float s = fl(fl(mxp - mnp) / (qmax - qmin));
    s = clampMin(s, sc.eps);
    float zp = qmin - roundHalfEven(fl(mnp / s));
    zp = clampRange(zp, qmin, qmax);
    // `.to(int)`: NaN has no defined value (section 9); squant uses 0.
    return {s, static_cast<float>(toInt32Saturating(zp))};
  }
  }
}

/// Section 4.1: min(b * mean|x|, max|x|) with the 8-lane cascade mean.
QParams chooseStretched(const Scheme &sc, const float *x, size_t n) {
  auto fl = [&](float v) { return roundTo(v, sc.format); };
  // Groups of up to 1024 use a stack buffer: compile-time quantization
  // calls this once per group of a whole model.
  float small[1024];
  std::vector<float> large(n > 1024 ? n : 0);
  float *a = n > 1024 ? large.data() : small;
  float amax = 0.0f;
  bool anyNaN = n == 0;
  for (size_t i = 0; i < n; ++i) { // vectorizable: a flag instead of branches
    a[i] = std::fabs(x[i]);
    anyNaN |= a[i] != a[i];
    amax = a[i] > amax ? a[i] : amax;
  }
  if (anyNaN)
    amax = std::numeric_limits<float>::quiet_NaN();
  // torch sums narrow types in an fp32 accumulator and rounds the sum once.
  float sum = fl(cascadeSum8(a, n));
  float mean = fl(sum / static_cast<float>(n));
  float maxVal = nanMin(fl(static_cast<float>(sc.bits) * mean), amax);
  maxVal = clampMin(maxVal, sc.eps);
  float s = fl(maxVal / sc.stretchedQMax());
  return {s, -0.5f};
}

/// Section 5.1: tinygemm's float zero point.
QParams chooseFloatZeroPoint(const Scheme &sc, float mn, float mx) {
  auto fl = [&](float v) { return roundTo(v, sc.format); };
  float range = static_cast<float>(sc.qmax) - static_cast<float>(sc.qmin);
  float s = clampMin(fl(fl(mx - mn) / range), sc.eps);
  float zp = fl(mn + fl(s * sc.midpoint()));
  return {s, zp};
}

} // namespace

float cascadeSum8(const float *x, size_t n) {
  constexpr size_t kLanes = 8;
  size_t m = n / kLanes;
  float acc[4][kLanes] = {};
  size_t full = 4 * (m / 4);
  for (size_t i = 0; i < full; i += 4)
    for (size_t k = 0; k < 4; ++k)
      for (size_t l = 0; l < kLanes; ++l)
        acc[k][l] = acc[k][l] + x[(i + k) * kLanes + l];
  for (size_t i = full; i < m; ++i)
    for (size_t l = 0; l < kLanes; ++l)
      acc[0][l] = acc[0][l] + x[i * kLanes + l];
  float p[kLanes];
  for (size_t l = 0; l < kLanes; ++l)
    p[l] = ((acc[0][l] + acc[1][l]) + acc[2][l]) + acc[3][l];
  float t = 0.0f;
  for (size_t e = m * kLanes; e < n; ++e)
    t = t + x[e];
  for (size_t l = 0; l < kLanes; ++l)
    t = t + p[l];
  return 0.0f + t;
}

QParams chooseQParams(const Scheme &sc, const float *x, size_t n) {
  if (sc.kind == SchemeKind::Stretched)
    return chooseStretched(sc, x, n);
  // amin / amax with NaN propagation, as a vectorizable loop plus a flag.
  float mn = std::numeric_limits<float>::infinity();
  float mx = -std::numeric_limits<float>::infinity();
  bool anyNaN = false;
  for (size_t i = 0; i < n; ++i) {
    float v = x[i];
    anyNaN |= v != v;
    mn = v < mn ? v : mn;
    mx = v > mx ? v : mx;
  }
  if (anyNaN)
    mn = mx = std::numeric_limits<float>::quiet_NaN();
  if (sc.kind == SchemeKind::FloatZeroPoint)
    return chooseFloatZeroPoint(sc, mn, mx);
  return chooseIntDomain(sc, mn, mx);
}

namespace {

/// Quantization of one group, split into what depends only on the group's
/// parameters (computed once) and the per-element step, so compile-time
/// quantization of a whole model runs one loop per group. `F32` drops the
/// rounding to a narrower format (an identity for f32), which lets the
/// contiguous f32 loops vectorize.
template <bool F32>
struct GroupQuantizer {
  const Scheme &sc;
  QParams p;
  float a = 0.0f; // m, min_val or fl(1/s), by kind: see the constructor

  float fl(float v) const { return F32 ? v : roundTo(v, sc.format); }

  GroupQuantizer(const Scheme &sc, QParams p) : sc(sc), p(p) {
    switch (sc.kind) {
    case SchemeKind::Stretched:
      a = fl(p.scale * sc.stretchedQMax()); // m: the input clamp
      break;
    case SchemeKind::FloatZeroPoint:
      a = fl(p.zeroPoint - fl(p.scale * sc.midpoint())); // min_val
      break;
    default:
      a = fl(1.0f / p.scale); // the reciprocal
      break;
    }
  }

  /// Section 4.1: clamp the input, TRUE division, add -0.5, no clamp after.
  int32_t stretched(float x) const {
    float xc = clampRange(x, -a, a);
    float v = fl(fl(xc / p.scale) + p.zeroPoint);
    return toInt32Saturating(roundHalfEven(v));
  }
  /// Section 5.2: TRUE division of the distance to min_val.
  int32_t floatZeroPoint(float x) const {
    float v = roundHalfEven(fl(fl(x - a) / p.scale));
    v = clampRange(v, static_cast<float>(sc.qmin), static_cast<float>(sc.qmax));
    return toInt32Saturating(v);
  }
  /// Section 2: reciprocal, then multiply; round; add zp; clamp.
  int32_t intDomain(float x) const {
    float v = roundHalfEven(fl(x * a)) + p.zeroPoint;
    v = clampRange(v, static_cast<float>(sc.qmin), static_cast<float>(sc.qmax));
    return toInt32Saturating(v);
  }
  int32_t operator()(float x) const {
    switch (sc.kind) {
    case SchemeKind::Stretched:
      return stretched(x);
    case SchemeKind::FloatZeroPoint:
      return floatZeroPoint(x);
    default:
      return intDomain(x);
    }
  }

  /// Codes of `n` values with element stride `stride` (1: contiguous).
  void run(const float *x, int64_t n, int8_t *out, int64_t stride) const {
    // One loop per kind: the per-element step inlines without a switch.
    if (sc.kind == SchemeKind::Stretched)
      for (int64_t e = 0; e < n; ++e)
        out[e * stride] = static_cast<int8_t>(stretched(x[e]));
    else if (sc.kind == SchemeKind::FloatZeroPoint)
      for (int64_t e = 0; e < n; ++e)
        out[e * stride] = static_cast<int8_t>(floatZeroPoint(x[e]));
    else
      for (int64_t e = 0; e < n; ++e)
        out[e * stride] = static_cast<int8_t>(intDomain(x[e]));
  }
};

} // namespace

int32_t quantize(const Scheme &sc, QParams p, float x) {
  return GroupQuantizer<false>(sc, p)(x);
}

float dequantize(const Scheme &sc, QParams p, int32_t q) {
  auto fl = [&](float v) { return roundTo(v, sc.format); };
  switch (sc.kind) {
  case SchemeKind::FloatZeroPoint:
    // Section 5.3: multiply, round, add, round (two roundings, no FMA).
    return fl(fl((static_cast<float>(q) - sc.midpoint()) * p.scale) +
              p.zeroPoint);
  default:
    // Sections 2 and 4.1: (q - zp) is exact (small integers or q + 0.5).
    return fl((static_cast<float>(q) - p.zeroPoint) * p.scale);
  }
}

std::vector<int64_t> Grouping::paramShape() const {
  if (axis < 0)
    return {};
  if (groupSize == 0)
    return {shape[axis]};
  std::vector<int64_t> result = shape;
  result[axis] /= groupSize;
  return result;
}

int64_t Grouping::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

int64_t Grouping::numParams() const {
  int64_t n = 1;
  for (int64_t d : paramShape())
    n *= d;
  return n;
}

std::vector<int64_t> Grouping::paramIndices() const {
  std::vector<int64_t> result(numElements(), 0);
  if (axis < 0)
    return result;
  // Row-major strides: inner = product of dims after `axis`.
  int64_t inner = 1;
  for (size_t d = axis + 1; d < shape.size(); ++d)
    inner *= shape[d];
  int64_t dim = shape[axis];
  int64_t div = groupSize == 0 ? 1 : groupSize;
  int64_t paramDim = dim / div;
  for (int64_t i = 0, e = numElements(); i < e; ++i) {
    int64_t outer = i / (inner * dim);
    int64_t along = (i / inner) % dim;
    int64_t rest = i % inner;
    if (groupSize == 0)
      result[i] = along;
    else
      result[i] = (outer * paramDim + along / div) * inner + rest;
  }
  return result;
}

TensorQParams chooseQParams(const Scheme &sc, const Grouping &grouping,
                            const std::vector<float> &x) {
  std::vector<int64_t> idx = grouping.paramIndices();
  std::vector<std::vector<float>> groups(grouping.numParams());
  for (size_t i = 0; i < x.size(); ++i)
    groups[idx[i]].push_back(x[i]);
  TensorQParams result;
  for (const std::vector<float> &g : groups) {
    QParams p = chooseQParams(sc, g.data(), g.size());
    result.scales.push_back(p.scale);
    result.zeroPoints.push_back(p.zeroPoint);
  }
  return result;
}

std::vector<int32_t> quantize(const Scheme &sc, const Grouping &grouping,
                              const std::vector<float> &x,
                              const TensorQParams &params) {
  std::vector<int64_t> idx = grouping.paramIndices();
  std::vector<int32_t> q(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    q[i] = quantize(sc, {params.scales[idx[i]], params.zeroPoints[idx[i]]}, x[i]);
  return q;
}

std::vector<float> dequantize(const Scheme &sc, const Grouping &grouping,
                              const std::vector<int32_t> &q,
                              const TensorQParams &params) {
  std::vector<int64_t> idx = grouping.paramIndices();
  std::vector<float> w(q.size());
  for (size_t i = 0; i < q.size(); ++i)
    w[i] = dequantize(sc, {params.scales[idx[i]], params.zeroPoints[idx[i]]}, q[i]);
  return w;
}

// The per-element loops are plain IEEE operations (no contraction, D11), so
// an AVX2 clone computes the same bits eight lanes at a time; the dynamic
// loader picks it where the CPU has AVX2.
__attribute__((target_clones("avx2", "default")))
void quantizeGroups(const Scheme &sc, const float *x, int64_t outer,
                    int64_t dim, int64_t inner, int64_t groupSize,
                    int8_t *codes, float *scales, float *zeroPoints) {
  int64_t groups = dim / groupSize;
  std::vector<float> buffer(inner == 1 ? 0 : groupSize);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t g = 0; g < groups; ++g)
      for (int64_t i = 0; i < inner; ++i) {
        int64_t base = (o * dim + g * groupSize) * inner + i;
        const float *group = x + base;
        if (inner != 1) {
          for (int64_t e = 0; e < groupSize; ++e)
            buffer[e] = x[base + e * inner];
          group = buffer.data();
        }
        QParams p = chooseQParams(sc, group, groupSize);
        int64_t param = (o * groups + g) * inner + i;
        scales[param] = p.scale;
        zeroPoints[param] = p.zeroPoint;
        int8_t *out = codes + base;
        if (sc.format == FloatFormat::F32 && inner == 1)
          GroupQuantizer<true>(sc, p).run(group, groupSize, out, 1);
        else
          GroupQuantizer<false>(sc, p).run(group, groupSize, out, inner);
      }
}

bool allFinite(const std::vector<float> &x) {
  return std::all_of(x.begin(), x.end(), [](float v) { return std::isfinite(v); });
}

} // namespace mlir::squant::ref
