//===- RuntimeTest.cpp - squant_rt kernels against the reference ----------===//
//
// Random shapes including ragged and degenerate ones (N not a multiple of
// the tile, M = 1..130), every form, bit width and scheme, every ISA this CPU
// has forced in turn. Weights are dequantized with the reference library and
// multiplied in fp64; the kernels' factorized fp32 sums must be within
//   K * 2^-22 * sum_k |x_k| * M_k,  M_k = |q_k s| + |b|  (FMA form), |w_k| (LUT)
// (D8 with the magnitude of the folded terms, as D7 measures them). Inputs
// that make every intermediate exact are compared bit for bit.
//
//===----------------------------------------------------------------------===//

#include "squant/runtime/squant_rt.h"

#include "squant/Reference/Affine.h"
#include "squant/Reference/Lut.h"
#include "squant/Reference/OneFma.h"
#include "squant/Reference/Pack.h"

#include <gtest/gtest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace mlir::squant;

namespace {

std::vector<squant_rt_isa> availableIsas() {
  std::vector<squant_rt_isa> isas = {SQUANT_RT_ISA_PORTABLE};
  for (squant_rt_isa isa : {SQUANT_RT_ISA_AVX2, SQUANT_RT_ISA_AVX512})
    if (squant_rt_isa_available(isa))
      isas.push_back(isa);
  return isas;
}

const char *isaName(squant_rt_isa isa) {
  switch (isa) {
  case SQUANT_RT_ISA_AVX2:
    return "avx2";
  case SQUANT_RT_ISA_AVX512:
    return "avx512";
  default:
    return "portable";
  }
}

/// A weight in squant_rt's form plus its exact dequantization.
struct TestWeight {
  squant_rt_qweight w{};
  std::vector<uint8_t> packed;
  std::vector<float> scales, bias, ftable;
  std::vector<int8_t> table;
  std::vector<int8_t> codes;    // [n][k], for TILE16_V2's packing in finish()
  std::vector<float> dq;        // [n][k] reference weights
  std::vector<float> magnitude; // [n][k] M_k of the tolerance
};

enum class Scheme { Stretched, Symmetric, IntAsymmetric, Tinygemm };

/// A weight's rows, columns and group size.
struct WeightShape {
  int64_t n, k, g;
};

/// Packs t.codes; TILE16_V2 (which holds the parameters too) is packed by
/// finish(), once they are known.
void packCodes(TestWeight &t, int32_t layout, int64_t n, int64_t k, int bits) {
  if (layout == SQUANT_RT_LAYOUT_TILE16_V2)
    return;
  t.packed.resize(squant_rt_packed_size_layout(layout, n, k, bits));
  EXPECT_EQ(squant_rt_pack(layout, t.codes.data(), n, k, bits, t.packed.data(),
                           t.packed.size()),
            SQUANT_RT_OK);
}

/// FMA form from a real affine quantization of random weights.
TestWeight makeFma(Scheme scheme, int bits, int64_t n, int64_t k, int64_t g,
                   std::mt19937 &rng, int32_t layout = SQUANT_RT_LAYOUT_BLOCK32_V1) {
  ref::SchemeKind kind = scheme == Scheme::Stretched   ? ref::SchemeKind::Stretched
                         : scheme == Scheme::Symmetric ? ref::SchemeKind::Symmetric
                         : scheme == Scheme::Tinygemm  ? ref::SchemeKind::FloatZeroPoint
                                                       : ref::SchemeKind::Asymmetric;
  bool isSigned = scheme != Scheme::Tinygemm;
  ref::Scheme sc = ref::Scheme::get(kind, bits, isSigned);
  std::normal_distribution<float> dist(0.3f, 1.0f);
  std::vector<float> x(n * k);
  for (float &v : x)
    v = dist(rng);
  ref::Grouping grouping{{n, k}, 1, g};
  ref::TensorQParams params = ref::chooseQParams(sc, grouping, x);
  std::vector<int32_t> q = ref::quantize(sc, grouping, x, params);
  TestWeight t;
  t.codes.assign(q.begin(), q.end());
  packCodes(t, layout, n, k, bits);
  int64_t groups = k / g;
  t.scales = params.scales;
  t.bias.resize(params.scales.size());
  for (size_t i = 0; i < t.bias.size(); ++i)
    t.bias[i] = ref::foldedBias(sc, {params.scales[i], params.zeroPoints[i]});
  t.dq.resize(n * k);
  t.magnitude.resize(n * k);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < k; ++c) {
      int64_t p = r * groups + c / g;
      t.dq[r * k + c] = ref::fmaDequantize(q[r * k + c], t.scales[p], t.bias[p]);
      t.magnitude[r * k + c] =
          std::fabs(q[r * k + c] * t.scales[p]) + std::fabs(t.bias[p]);
    }
  t.w.layout = layout;
  t.w.form = SQUANT_RT_FORM_FMA;
  t.w.bits = bits;
  t.w.is_signed = isSigned;
  t.w.n = n;
  t.w.k = k;
  t.w.group_size = g;
  return t;
}

/// LUT forms from random indices: int8 (stretched table 2q+1, s_table) or
/// fp32 tables per tensor / per row.
TestWeight makeLut(squant_rt_form form, int bits, int64_t n, int64_t k,
                   int64_t g, bool perRow, std::mt19937 &rng,
                   int32_t layout = SQUANT_RT_LAYOUT_BLOCK32_V1) {
  int64_t entries = int64_t(1) << bits, groups = k / g;
  std::uniform_int_distribution<int> idxDist(0, entries - 1);
  std::uniform_real_distribution<float> sDist(0.01f, 1.0f), fDist(-2.0f, 2.0f);
  TestWeight t;
  t.codes.resize(n * k);
  for (int8_t &i : t.codes)
    i = static_cast<int8_t>(idxDist(rng));
  const std::vector<int8_t> &idx = t.codes;
  packCodes(t, layout, n, k, bits);
  t.dq.resize(n * k);
  t.magnitude.resize(n * k);
  t.w.num_tables = 1;
  if (form == SQUANT_RT_FORM_LUT_INT8) {
    ref::Scheme sc = ref::Scheme::get(ref::SchemeKind::Stretched, bits, true);
    t.table = ref::intLutFor(sc, -0.5f).lut->table;
    t.scales.resize(n * groups);
    for (float &s : t.scales)
      s = sDist(rng);
  } else {
    t.w.num_tables = perRow ? n : 1;
    t.ftable.resize(t.w.num_tables * entries);
    for (float &v : t.ftable)
      v = fDist(rng);
  }
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < k; ++c) {
      int e = idx[r * k + c];
      float v = form == SQUANT_RT_FORM_LUT_INT8
                    ? ref::lutDequantize(t.table[e], t.scales[r * groups + c / g])
                    : t.ftable[(perRow ? r : 0) * entries + e];
      t.dq[r * k + c] = v;
      t.magnitude[r * k + c] = std::fabs(v);
    }
  t.w.layout = layout;
  t.w.form = form;
  t.w.bits = bits;
  t.w.n = n;
  t.w.k = k;
  t.w.group_size = g;
  return t;
}

void finish(TestWeight &t) {
  t.w.scales = t.scales.empty() ? nullptr : t.scales.data();
  t.w.bias = t.bias.empty() ? nullptr : t.bias.data();
  if (t.w.layout == SQUANT_RT_LAYOUT_TILE16_V2) {
    // The parameters go into the packed weight, and the weight's own
    // pointers stay null: no kernel may read them.
    t.packed.resize(squant_rt_packed_size_tile16_v2(t.w.n, t.w.k, t.w.bits,
                                                    t.w.group_size));
    EXPECT_EQ(squant_rt_pack_tile16_v2(t.codes.data(), t.w.scales, t.w.bias,
                                       t.w.n, t.w.k, t.w.bits, t.w.group_size,
                                       t.packed.data(), t.packed.size()),
              SQUANT_RT_OK);
    t.w.scales = t.w.bias = nullptr;
  }
  t.w.codes = t.packed.data();
  t.w.table = t.table.empty() ? nullptr : t.table.data();
  t.w.ftable = t.ftable.empty() ? nullptr : t.ftable.data();
}

std::vector<float> runQgemm(const TestWeight &t, const std::vector<float> &x,
                            int64_t m, squant_rt_isa isa,
                            squant_rt_pool *pool = nullptr,
                            uint32_t flags = 0) {
  std::vector<float> y(m * t.w.n, NAN); // poisoned
  std::vector<char> ws(squant_rt_qgemm_workspace_size(m, &t.w) + 1);
  squant_rt_options opts{isa, pool, flags};
  EXPECT_EQ(squant_rt_qgemm(x.data(), m, t.w.k, &t.w, y.data(), t.w.n,
                            ws.data(), ws.size(), &opts),
            SQUANT_RT_OK);
  return y;
}

/// Compares y with the fp64 product of x and the reference weights.
void expectClose(const TestWeight &t, const std::vector<float> &x, int64_t m,
                 const std::vector<float> &y, const std::string &what) {
  int64_t n = t.w.n, k = t.w.k;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double ref = 0.0, mag = 0.0;
      for (int64_t c = 0; c < k; ++c) {
        ref += double(x[i * k + c]) * t.dq[j * k + c];
        mag += std::fabs(double(x[i * k + c])) * t.magnitude[j * k + c];
      }
      double tol = double(k) * std::ldexp(1.0, -22) * mag;
      ASSERT_LE(std::fabs(y[i * n + j] - ref), tol)
          << what << " m=" << i << " n=" << j << " got " << y[i * n + j]
          << " want " << ref;
    }
}

std::vector<float> randomX(int64_t m, int64_t k, std::mt19937 &rng) {
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(m * k);
  for (float &v : x)
    v = dist(rng);
  return x;
}

} // namespace

TEST(Runtime, PackRoundTrip) {
  std::mt19937 rng(1);
  for (int bits : {1, 2, 3, 4, 8}) {
    int64_t n = 3, k = 96;
    std::vector<int8_t> codes(n * k);
    for (int8_t &c : codes)
      c = static_cast<int8_t>(rng() & ((1u << bits) - 1));
    std::vector<uint8_t> packed(squant_rt_packed_size(n, k, bits));
    ASSERT_EQ(packed.size(), size_t(n * k * bits / 8));
    ASSERT_EQ(squant_rt_pack_block32(codes.data(), n, k, bits, packed.data(),
                                     packed.size()),
              SQUANT_RT_OK);
    // The documented byte format (squant_rt.h), row 0 block 0.
    auto c = [&](int i) { return uint64_t(uint8_t(codes[i])); };
    auto word = [&](int byte, int bytes) {
      uint64_t v = 0;
      for (int i = 0; i < bytes; ++i)
        v |= uint64_t(packed[byte + i]) << (8 * i);
      return v;
    };
    if (bits == 8)
      EXPECT_EQ(packed[5], uint8_t(c(5)));
    if (bits == 4) {
      // Word 1 holds codes 16..31: code 16 + d at 32 (d % 2) + 4 (d / 2).
      uint64_t want = 0;
      for (int d = 0; d < 16; ++d)
        want |= c(16 + d) << (32 * (d % 2) + 4 * (d / 2));
      EXPECT_EQ(word(8, 8), want);
    }
    if (bits == 2) {
      uint64_t want = 0;
      for (int d = 0; d < 16; ++d)
        want |= c(16 + d) << (2 * d);
      EXPECT_EQ(word(4, 4), want);
    }
    if (bits == 1) {
      uint64_t want = 0;
      for (int d = 0; d < 32; ++d)
        want |= c(d) << d;
      EXPECT_EQ(word(0, 4), want);
    }
    if (bits == 3) {
      uint64_t lo = 0, hi = 0;
      for (int d = 0; d < 16; ++d)
        lo |= (c(d) & 3) << (2 * d);
      for (int d = 0; d < 32; ++d)
        hi |= ((c(d) >> 2) & 1) << d;
      EXPECT_EQ(word(0, 4), lo);
      EXPECT_EQ(word(8, 4), hi);
    }
  }
}

TEST(Runtime, FmaFormAllSchemesIsasShapes) {
  std::mt19937 rng(2);
  for (squant_rt_isa isa : availableIsas())
    for (Scheme scheme : {Scheme::Stretched, Scheme::Symmetric,
                          Scheme::IntAsymmetric, Scheme::Tinygemm})
      for (int bits : {2, 3, 4, 8})
        for (int64_t g : {32, 64, 128}) {
          int64_t n = 1 + rng() % 37; // ragged, not a multiple of 16
          int64_t k = g * (1 + rng() % 3);
          TestWeight t = makeFma(scheme, bits, n, k, g, rng);
          finish(t);
          for (int64_t m : {1, 3, 5}) {
            std::vector<float> x = randomX(m, k, rng);
            expectClose(t, x, m, runQgemm(t, x, m, isa),
                        std::string(isaName(isa)) + " scheme " +
                            std::to_string(int(scheme)) + " bits " +
                            std::to_string(bits) + " g " + std::to_string(g));
          }
        }
}

TEST(Runtime, LutFormsAllBits) {
  std::mt19937 rng(3);
  for (squant_rt_isa isa : availableIsas())
    for (int bits : {1, 2, 3, 4})
      for (squant_rt_form form : {SQUANT_RT_FORM_LUT_INT8, SQUANT_RT_FORM_LUT_F32})
        for (bool perRow : {false, true}) {
          int64_t n = 1 + rng() % 29, g = 64, k = 128;
          TestWeight t = makeLut(form, bits, n, k, g, perRow, rng);
          finish(t);
          // M = 1: the GEMV (AVX-512: 2-bit pairs, 1-/3-bit tables);
          // M = 2: the small-M path.
          for (int64_t m : {1, 2}) {
            std::vector<float> x = randomX(m, k, rng);
            expectClose(t, x, m, runQgemm(t, x, m, isa),
                        std::string(isaName(isa)) + " lut bits " +
                            std::to_string(bits) + " m " + std::to_string(m));
          }
        }
}

TEST(Runtime, TableGemvOneAndThreeBits) {
  // M = 1 below 4 bits on AVX-512 takes the activation-table GEMV: tiles of
  // 16 rows in lanes (runs of rows), four-block units transposed in
  // registers, a gathered tail of 1-3 blocks, rows past the last tile on
  // the K-vectorized GEMV. Shapes cover each: n = 16 (one tile), 45 (two
  // runs and a 13-row tail), 70; k = 96 (tail only), 256, 416 (three units
  // and one tail block); groups ending inside and at the end of units.
  std::mt19937 rng(11);
  const WeightShape shapes[] = {
      {16, 96, 32}, {45, 416, 32}, {70, 256, 128}, {33, 256, 64}};
  for (squant_rt_isa isa : availableIsas())
    for (const WeightShape &sh : shapes) {
      for (Scheme scheme : {Scheme::Stretched, Scheme::Symmetric,
                            Scheme::IntAsymmetric, Scheme::Tinygemm}) {
        TestWeight t = makeFma(scheme, 3, sh.n, sh.k, sh.g, rng);
        finish(t);
        std::vector<float> x = randomX(1, sh.k, rng);
        expectClose(t, x, 1, runQgemm(t, x, 1, isa),
                    std::string(isaName(isa)) + " 3-bit scheme " +
                        std::to_string(int(scheme)) + " n " + std::to_string(sh.n));
      }
      for (squant_rt_form form : {SQUANT_RT_FORM_LUT_INT8, SQUANT_RT_FORM_LUT_F32})
        for (bool perRow : {false, true}) {
          TestWeight t = makeLut(form, 1, sh.n, sh.k, sh.g, perRow, rng);
          finish(t);
          std::vector<float> x = randomX(1, sh.k, rng);
          expectClose(t, x, 1, runQgemm(t, x, 1, isa),
                      std::string(isaName(isa)) + " 1-bit lut n " + std::to_string(sh.n));
        }
    }
}

TEST(Runtime, PackTile16) {
  // TILE16_V1 holds BLOCK32_V1's words with 16 rows interleaved, in panels
  // of 16 blocks (tiles one after the other in each): word w of block j of
  // row r at byte ((16 T (j / 16) + (r / 16) P + j % 16) b + w) 64 +
  // (r % 16) 4, P the blocks of j's panel; rows padded to 16 with zero
  // codes. k = 608: a panel of 16 blocks and one of 3.
  std::mt19937 rng(12);
  for (int bits : {1, 2, 3}) {
    int64_t n = 19, k = 608, blocks = k / 32, tiles = 2;
    std::vector<int8_t> codes(n * k);
    for (int8_t &c : codes)
      c = static_cast<int8_t>(rng() & ((1u << bits) - 1));
    std::vector<uint8_t> v1(squant_rt_packed_size(n, k, bits));
    ASSERT_EQ(squant_rt_pack_block32(codes.data(), n, k, bits, v1.data(), v1.size()),
              SQUANT_RT_OK);
    size_t size = squant_rt_packed_size_layout(SQUANT_RT_LAYOUT_TILE16_V1, n, k, bits);
    ASSERT_EQ(size, size_t(32 * blocks * 4 * bits)); // two tiles of 16 rows
    std::vector<uint8_t> tiled(size, 0xAB);
    ASSERT_EQ(squant_rt_pack(SQUANT_RT_LAYOUT_TILE16_V1, codes.data(), n, k, bits,
                             tiled.data(), tiled.size()),
              SQUANT_RT_OK);
    for (int64_t r = 0; r < 32; ++r)
      for (int64_t j = 0; j < blocks; ++j)
        for (int w = 0; w < bits; ++w) {
          int64_t panelBlocks = j < 16 ? 16 : blocks - 16;
          size_t at = ((16 * tiles * (j / 16) + (r / 16) * panelBlocks + j % 16) * bits + w) * 64 +
                      (r % 16) * 4;
          for (int i = 0; i < 4; ++i) {
            uint8_t want = r < n ? v1[(r * blocks + j) * 4 * bits + 4 * w + i] : 0;
            ASSERT_EQ(tiled[at + i], want) << "bits " << bits << " row " << r << " block "
                                           << j << " word " << w;
          }
        }
    EXPECT_EQ(squant_rt_pack(SQUANT_RT_LAYOUT_TILE16_V1, codes.data(), n, k, bits,
                             tiled.data(), size - 1),
              SQUANT_RT_BUFFER_TOO_SMALL);
  }
  std::vector<int8_t> codes(64);
  std::vector<uint8_t> out(1024);
  for (int bits : {4, 8}) {
    EXPECT_EQ(squant_rt_packed_size_layout(SQUANT_RT_LAYOUT_TILE16_V1, 1, 64, bits), 0u);
    EXPECT_EQ(squant_rt_pack(SQUANT_RT_LAYOUT_TILE16_V1, codes.data(), 1, 64, bits,
                             out.data(), out.size()),
              SQUANT_RT_UNSUPPORTED);
  }
  EXPECT_EQ(squant_rt_packed_size_layout(7, 1, 64, 2), 0u);
  EXPECT_EQ(squant_rt_pack(7, codes.data(), 1, 64, 2, out.data(), out.size()),
            SQUANT_RT_UNSUPPORTED);
  EXPECT_EQ(squant_rt_pack(SQUANT_RT_LAYOUT_TILE16_V1, nullptr, 1, 64, 2, out.data(),
                           out.size()),
            SQUANT_RT_INVALID_ARGUMENT);
  EXPECT_EQ(squant_rt_pack(SQUANT_RT_LAYOUT_TILE16_V1, codes.data(), 1, 48, 2, out.data(),
                           out.size()),
            SQUANT_RT_UNSUPPORTED);
}

TEST(Runtime, Tile16EveryPath) {
  // TILE16_V1 weights through every ISA and M: on AVX-512 the GEMV reads
  // words of 16 rows panel by panel (512 columns), carrying a group's
  // partial dot across panels; the other paths copy a row's words per
  // block. Shapes: ragged last tiles (n = 1, 45), several panels with a
  // ragged last one (k = 2336), groups that straddle panels (g = 96) and
  // span several (g = 2048), M = 1, 3 (small M) and 19 (AVX-512 GEMM).
  std::mt19937 rng(13);
  const WeightShape shapes[] = {{1, 64, 32},
                                {45, 2336, 32},
                                {16, 4096, 2048},
                                {45, 2400, 96},
                                {33, 256, 128}};
  for (squant_rt_isa isa : availableIsas())
    for (const WeightShape &sh : shapes)
      for (int bits : {1, 2, 3}) {
        std::string where = std::string(isaName(isa)) + " bits " + std::to_string(bits) +
                            " n " + std::to_string(sh.n) + " k " + std::to_string(sh.k);
        std::vector<TestWeight> weights;
        for (Scheme scheme : {Scheme::Stretched, Scheme::Tinygemm})
          if (bits > 1)
            weights.push_back(makeFma(scheme, bits, sh.n, sh.k, sh.g, rng,
                                      SQUANT_RT_LAYOUT_TILE16_V1));
        for (squant_rt_form form : {SQUANT_RT_FORM_LUT_INT8, SQUANT_RT_FORM_LUT_F32})
          weights.push_back(makeLut(form, bits, sh.n, sh.k, sh.g, form == SQUANT_RT_FORM_LUT_F32 && bits == 2, rng,
                                    SQUANT_RT_LAYOUT_TILE16_V1));
        for (TestWeight &t : weights) {
          finish(t);
          for (int64_t m : {1, 3, 19}) {
            if (m > 1 && sh.k > 1024)
              continue; // the reference product is O(m n k) per case
            std::vector<float> x = randomX(m, sh.k, rng);
            expectClose(t, x, m, runQgemm(t, x, m, isa),
                        where + " form " + std::to_string(t.w.form) + " m " +
                            std::to_string(m));
          }
        }
      }
}

TEST(Runtime, PackTile16V2) {
  // TILE16_V2: per tile of 16 rows, group after group: the words of the
  // group's blocks (word w of block j at (j b + w) 64, row r % 16 at 4 (r %
  // 16)), then the 16 scales and the 16 biases. n = 19: a padded second
  // tile; g = 64, k = 192: two blocks a group, three groups. 1 to 4 and 8
  // bits.
  std::mt19937 rng(21);
  int64_t n = 19, k = 192, g = 64, groups = 3, tiles = 2, blocks = k / 32;
  std::vector<float> scales(n * groups), bias(n * groups);
  for (size_t i = 0; i < scales.size(); ++i) {
    scales[i] = 0.5f + float(i);
    bias[i] = -1.0f - float(i);
  }
  for (int bits : {1, 2, 3, 4, 8}) {
    std::vector<int8_t> codes(n * k);
    for (int8_t &c : codes)
      c = static_cast<int8_t>(rng() & ((1u << bits) - 1));
    std::vector<uint8_t> v1(squant_rt_packed_size(n, k, bits));
    ASSERT_EQ(
        squant_rt_pack_block32(codes.data(), n, k, bits, v1.data(), v1.size()),
        SQUANT_RT_OK);
    int64_t groupBytes = (2 * bits + 2) * 64;
    size_t size = squant_rt_packed_size_tile16_v2(n, k, bits, g);
    ASSERT_EQ(size, size_t(tiles * groups * groupBytes));
    std::vector<uint8_t> tiled(size, 0xAB);
    ASSERT_EQ(squant_rt_pack_tile16_v2(codes.data(), scales.data(), bias.data(),
                                       n, k, bits, g, tiled.data(),
                                       tiled.size()),
              SQUANT_RT_OK);
    for (int64_t r = 0; r < 32; ++r) {
      for (int64_t j = 0; j < blocks; ++j)
        for (int w = 0; w < bits; ++w) {
          size_t at = ((r / 16) * groups + j / 2) * groupBytes +
                      ((j % 2) * bits + w) * 64 + (r % 16) * 4;
          for (int i = 0; i < 4; ++i) {
            uint8_t want =
                r < n ? v1[(r * blocks + j) * 4 * bits + 4 * w + i] : 0;
            ASSERT_EQ(tiled[at + i], want) << "bits " << bits << " row " << r
                                           << " block " << j << " word " << w;
          }
        }
      for (int64_t gi = 0; gi < groups; ++gi) {
        size_t at = ((r / 16) * groups + gi) * groupBytes + 2 * bits * 64 +
                    (r % 16) * 4;
        float s, b;
        std::memcpy(&s, &tiled[at], 4);
        std::memcpy(&b, &tiled[at + 64], 4);
        EXPECT_EQ(s, r < n ? scales[r * groups + gi] : 0.0f)
            << "row " << r << " group " << gi;
        EXPECT_EQ(b, r < n ? bias[r * groups + gi] : 0.0f)
            << "row " << r << " group " << gi;
      }
    }
    // No biases (LUT forms): their line is zero.
    ASSERT_EQ(squant_rt_pack_tile16_v2(codes.data(), scales.data(), nullptr, n,
                                       k, bits, g, tiled.data(), tiled.size()),
              SQUANT_RT_OK);
    float b;
    std::memcpy(&b, &tiled[2 * bits * 64 + 64], 4);
    EXPECT_EQ(b, 0.0f);
    EXPECT_EQ(squant_rt_pack_tile16_v2(codes.data(), scales.data(), bias.data(),
                                       n, k, bits, g, tiled.data(), size - 1),
              SQUANT_RT_BUFFER_TOO_SMALL);
  }
  std::vector<int8_t> codes(64 * 3);
  std::vector<uint8_t> out(4096);
  for (int bits : {0, 5, 7, 9}) {
    EXPECT_EQ(squant_rt_packed_size_tile16_v2(1, 64, bits, 32), 0u) << bits;
    EXPECT_EQ(squant_rt_pack_tile16_v2(codes.data(), nullptr, nullptr, 1, 64,
                                       bits, 32, out.data(), out.size()),
              SQUANT_RT_UNSUPPORTED)
        << bits;
  }
  // Groups that are no multiple of 32, or do not divide k.
  EXPECT_EQ(squant_rt_pack_tile16_v2(codes.data(), nullptr, nullptr, 1, 96, 2,
                                     48, out.data(), out.size()),
            SQUANT_RT_UNSUPPORTED);
  EXPECT_EQ(squant_rt_pack_tile16_v2(codes.data(), nullptr, nullptr, 1, 96, 2,
                                     64, out.data(), out.size()),
            SQUANT_RT_UNSUPPORTED);
  // The parameter-less entry points do not pack it.
  EXPECT_EQ(squant_rt_packed_size_layout(SQUANT_RT_LAYOUT_TILE16_V2, 1, 64, 2),
            0u);
  EXPECT_EQ(squant_rt_pack(SQUANT_RT_LAYOUT_TILE16_V2, codes.data(), 1, 64, 2,
                           out.data(), out.size()),
            SQUANT_RT_UNSUPPORTED);
  EXPECT_EQ(squant_rt_pack_tile16_v2(nullptr, nullptr, nullptr, 1, 64, 2, 32,
                                     out.data(), out.size()),
            SQUANT_RT_INVALID_ARGUMENT);
  EXPECT_EQ(squant_rt_pack_tile16_v2(codes.data(), nullptr, nullptr, 1, 64, 2,
                                     0, out.data(), out.size()),
            SQUANT_RT_INVALID_ARGUMENT);
}

TEST(Runtime, PreferredLayout) {
  // TILE16_V2 exactly where the AVX-512 activation-table GEMV reads it
  // (M = 1; FMA 1-3 bits; LUT 1-2 bits with an int8 or one fp32 table) and,
  // on AMX, the AMX-INT8 GEMV of 2-, 4- and 8-bit codes; BLOCK32_V1 for
  // everything else. A query: it runs on any CPU.
  auto like = [](int32_t form, int32_t bits, int64_t tables = 1,
                 int64_t group = 128) {
    squant_rt_qweight w = {};
    w.form = form;
    w.bits = bits;
    w.n = 4096;
    w.k = 4096;
    w.group_size = group;
    w.num_tables = tables;
    return w;
  };
  const int32_t v2 = SQUANT_RT_LAYOUT_TILE16_V2,
                b32 = SQUANT_RT_LAYOUT_BLOCK32_V1;
  const squant_rt_isa avx512 = SQUANT_RT_ISA_AVX512;
  for (int bits : {1, 2, 3}) {
    squant_rt_qweight w = like(SQUANT_RT_FORM_FMA, bits);
    EXPECT_EQ(squant_rt_preferred_layout(&w, 1, avx512), v2) << bits;
    w.is_signed = 1;
    EXPECT_EQ(squant_rt_preferred_layout(&w, 1, avx512), v2) << bits;
    for (int64_t m : {0, 2, 8, 128})
      EXPECT_EQ(squant_rt_preferred_layout(&w, m, avx512), b32) << m;
    for (squant_rt_isa isa : {SQUANT_RT_ISA_AVX2, SQUANT_RT_ISA_PORTABLE})
      EXPECT_EQ(squant_rt_preferred_layout(&w, 1, isa), b32) << isa;
    squant_rt_isa best = squant_rt_best_isa();
    EXPECT_EQ(squant_rt_preferred_layout(&w, 1, SQUANT_RT_ISA_AUTO),
              squant_rt_preferred_layout(&w, 1, best));
  }
  for (int bits : {4, 8}) {
    squant_rt_qweight w = like(SQUANT_RT_FORM_FMA, bits);
    EXPECT_EQ(squant_rt_preferred_layout(&w, 1, avx512), b32) << bits;
  }
  // 4- and 8-bit GEMVs on AMX-INT8 (2 and 3 bits: below): the FMA form in
  // groups of 32 to 512 (a query: whatever this machine has); 4-bit
  // LUT_INT8 in whole quads only (groups of 32: BLOCK32_V1, no bias line).
  const squant_rt_isa amx = SQUANT_RT_ISA_AMX;
  for (int bits : {4, 8}) {
    for (int64_t group : {32, 64, 128, 512}) {
      squant_rt_qweight w = like(SQUANT_RT_FORM_FMA, bits, 1, group);
      EXPECT_EQ(squant_rt_preferred_layout(&w, 1, amx), v2) << group;
      w.is_signed = 1;
      EXPECT_EQ(squant_rt_preferred_layout(&w, 1, amx), v2) << group;
      EXPECT_EQ(squant_rt_preferred_layout(&w, 2, amx), b32) << group;
      EXPECT_EQ(squant_rt_preferred_layout(&w, 1, avx512), b32) << group;
    }
    for (int64_t group : {96, 1024}) { // 4096 % 96 != 0; past 512
      squant_rt_qweight w = like(SQUANT_RT_FORM_FMA, bits, 1, group);
      EXPECT_EQ(squant_rt_preferred_layout(&w, 1, amx), b32) << group;
    }
  }
  for (int64_t group : {64, 128, 512}) {
    squant_rt_qweight i8 = like(SQUANT_RT_FORM_LUT_INT8, 4, 1, group);
    EXPECT_EQ(squant_rt_preferred_layout(&i8, 1, amx), v2) << group;
  }
  squant_rt_qweight lut4g32 = like(SQUANT_RT_FORM_LUT_INT8, 4, 1, 32);
  EXPECT_EQ(squant_rt_preferred_layout(&lut4g32, 1, amx), b32);
  // 2- and 3-bit codes in groups of 32: TILE16_V2 for the table GEMV.
  for (int bits : {2, 3}) {
    squant_rt_qweight w = like(SQUANT_RT_FORM_FMA, bits, 1, 32);
    EXPECT_EQ(squant_rt_preferred_layout(&w, 1, amx), v2) << bits;
  }
  squant_rt_qweight f32x4 = like(SQUANT_RT_FORM_LUT_F32, 4);
  EXPECT_EQ(squant_rt_preferred_layout(&f32x4, 1, amx), b32);
  for (int bits : {1, 2, 3}) {
    squant_rt_qweight w = like(SQUANT_RT_FORM_FMA, bits);
    EXPECT_EQ(squant_rt_preferred_layout(&w, 1, amx), v2) << bits;
  }
  for (int bits : {1, 2}) {
    squant_rt_qweight i8 = like(SQUANT_RT_FORM_LUT_INT8, bits);
    squant_rt_qweight f32 = like(SQUANT_RT_FORM_LUT_F32, bits);
    squant_rt_qweight perRow = like(SQUANT_RT_FORM_LUT_F32, bits, 4096);
    EXPECT_EQ(squant_rt_preferred_layout(&i8, 1, avx512), v2) << bits;
    EXPECT_EQ(squant_rt_preferred_layout(&f32, 1, avx512), v2) << bits;
    EXPECT_EQ(squant_rt_preferred_layout(&perRow, 1, avx512), b32) << bits;
  }
  for (int32_t form : {SQUANT_RT_FORM_LUT_INT8, SQUANT_RT_FORM_LUT_F32}) {
    squant_rt_qweight w = like(form, 3);
    EXPECT_EQ(squant_rt_preferred_layout(&w, 1, avx512), b32) << form;
  }
  // Groups V2 cannot hold, and no weight at all.
  squant_rt_qweight ragged = like(SQUANT_RT_FORM_FMA, 2, 1, 48);
  squant_rt_qweight uneven = like(SQUANT_RT_FORM_FMA, 2, 1, 96);
  EXPECT_EQ(squant_rt_preferred_layout(&ragged, 1, avx512), b32);
  EXPECT_EQ(squant_rt_preferred_layout(&uneven, 1, avx512), b32);
  EXPECT_EQ(squant_rt_preferred_layout(nullptr, 1, avx512), b32);
}

TEST(Runtime, Tile16V2EveryPath) {
  // TILE16_V2 weights (parameters inside, the weight's pointers null)
  // through every ISA and M: on AVX-512 the GEMV of 1 to 3 bits takes 8
  // tiles at a time (the thread's tiles in 8 runs), then 4, then 1; on AMX
  // the AMX-INT8 GEMV takes 2-, 3- and 8-bit codes in groups of multiples of
  // 32 up to 512 (unforced, the table GEMV takes 2 and 3 bits in groups of
  // odd multiples of 32); every other
  // call runs the portable kernel. Shapes: ragged last tiles (n = 1, 45,
  // 343: 22 tiles, two runs of 8, then 4, 1, 1), one group (g = k = 2048),
  // groups of 96 (3 blocks), long K (2336), M = 1, 3, 19; forms: FMA
  // (unsigned float zero point, signed stretched), LUT_INT8, LUT_F32 per
  // tensor and per row (the portable kernel, as are 3-bit LUTs) up to 3
  // bits.
  std::mt19937 rng(23);
  const WeightShape shapes[] = {{1, 64, 32},
                                {45, 2336, 32},
                                {16, 2048, 2048},
                                {45, 2400, 96},
                                {343, 256, 64}};
  for (squant_rt_isa isa : availableIsas())
    for (const WeightShape &sh : shapes)
      for (int bits : {1, 2, 3, 8}) {
        std::string where = std::string(isaName(isa)) + " bits " +
                            std::to_string(bits) + " n " +
                            std::to_string(sh.n) + " k " + std::to_string(sh.k);
        std::vector<TestWeight> weights;
        for (Scheme scheme : {Scheme::Stretched, Scheme::Tinygemm})
          if (bits > 1)
            weights.push_back(makeFma(scheme, bits, sh.n, sh.k, sh.g, rng,
                                      SQUANT_RT_LAYOUT_TILE16_V2));
        for (squant_rt_form form :
             {SQUANT_RT_FORM_LUT_INT8, SQUANT_RT_FORM_LUT_F32})
          for (bool perRow : {false, true})
            if (bits <= 3 && (!perRow || form == SQUANT_RT_FORM_LUT_F32))
              weights.push_back(makeLut(form, bits, sh.n, sh.k, sh.g, perRow,
                                        rng, SQUANT_RT_LAYOUT_TILE16_V2));
        for (TestWeight &t : weights) {
          finish(t);
          for (int64_t m : {1, 3, 19}) {
            if (m > 1 && (sh.k > 1024 || sh.n > 64))
              continue; // the reference product is O(m n k) per case
            std::vector<float> x = randomX(m, sh.k, rng);
            expectClose(t, x, m, runQgemm(t, x, m, isa),
                        where + " form " + std::to_string(t.w.form) + " m " +
                            std::to_string(m));
          }
        }
      }
  // A weight without its parameter pointers in another layout is refused.
  TestWeight t = makeFma(Scheme::Stretched, 2, 16, 64, 32, rng);
  finish(t);
  t.w.scales = nullptr;
  std::vector<float> x(64), y(16);
  EXPECT_EQ(
      squant_rt_qgemm(x.data(), 1, 64, &t.w, y.data(), 16, nullptr, 0, nullptr),
      SQUANT_RT_INVALID_ARGUMENT);
}

TEST(Runtime, GemmRowsUpTo130) {
  std::mt19937 rng(4);
  TestWeight t = makeFma(Scheme::Tinygemm, 4, 19, 256, 128, rng);
  finish(t);
  for (squant_rt_isa isa : availableIsas())
    for (int64_t m : {1, 2, 3, 4, 5, 6, 7, 8, 33, 130}) {
      std::vector<float> x = randomX(m, 256, rng);
      expectClose(t, x, m, runQgemm(t, x, m, isa),
                  std::string(isaName(isa)) + " m " + std::to_string(m));
    }
}

// GEMV with more groups than a vector holds (34 groups of 32: the bias
// term sum_g b * sum(x) runs 16 groups per FMA, then a masked tail).
TEST(Runtime, GemvManyGroups) {
  std::mt19937 rng(21);
  for (int32_t bits : {2, 4, 8}) {
    TestWeight t = makeFma(Scheme::IntAsymmetric, bits, 19, 1088, 32, rng);
    finish(t);
    std::vector<float> x = randomX(1, 1088, rng);
    for (squant_rt_isa isa : availableIsas())
      expectClose(t, x, 1, runQgemm(t, x, 1, isa),
                  std::string(isaName(isa)) + " bits " + std::to_string(bits));
  }
}

// M = 2..8 (the small-M path) runs K in chunks of whole groups of about
// 1024 columns over all rows: K = 2304 with g = 32 (chunks of 1024, 1024
// and 256 columns) and g = 1152 (a group wider than a chunk), 23 rows,
// M = 5 and 8.
TEST(Runtime, SmallMAcrossKChunks) {
  std::mt19937 rng(22);
  for (int64_t g : {32, 1152})
    for (int32_t bits : {3, 4}) {
      TestWeight t = makeFma(Scheme::Tinygemm, bits, 23, 2304, g, rng);
      finish(t);
      for (int64_t m : {5, 8}) {
        std::vector<float> x = randomX(m, 2304, rng);
        for (squant_rt_isa isa : availableIsas())
          expectClose(t, x, m, runQgemm(t, x, m, isa),
                      std::string(isaName(isa)) + " bits " + std::to_string(bits) +
                          " g " + std::to_string(g) + " m " + std::to_string(m));
      }
    }
}

// The AVX-512 GEMM runs M in chunks of four slices of 32 activation rows,
// N in chunks of 16 blocks of 14 weight rows and K in chunks of 384
// columns, the AVX2 GEMM the same with blocks of 12 rows and K chunks of
// 256, in a pool thread's scratch or, without a pool, in the workspace.
// Each output is summed over k in order with one FMA per product whatever
// the blocking, so every thread count gives the same bits as the call
// without a pool, and the two GEMMs give the same bits. Shapes: K = 544
// (one full and one partial chunk) and 4160; N = 45 (a partial block) and
// 300 (a second N chunk, its last block partial); M = 12 (one slice,
// partly padding), 33 (a slice of one row), 50 (a slice of 18 rows: a
// whole and a partial half), 130 and 161 (a second M chunk).
TEST(Runtime, GemmBlockingDoesNotChangeResults) {
  std::vector<squant_rt_isa> isas;
  for (squant_rt_isa isa : {SQUANT_RT_ISA_AVX512, SQUANT_RT_ISA_AVX2})
    if (squant_rt_isa_available(isa))
      isas.push_back(isa);
  if (isas.empty())
    GTEST_SKIP() << "no AVX2 on this machine: the blocked GEMMs are AVX2 and "
                    "AVX-512 code";
  std::mt19937 rng(12);
  struct Case {
    int32_t bits;
    int64_t n, k;
  };
  for (Case c : {Case{2, 45, 544}, Case{4, 300, 544}, Case{4, 45, 4160}, Case{8, 300, 160}}) {
    TestWeight t = makeFma(Scheme::IntAsymmetric, c.bits, c.n, c.k, 32, rng);
    finish(t);
    for (int64_t m : {12, 33, 50, 130, 161}) {
      std::vector<float> x = randomX(m, c.k, rng);
      std::vector<float> first;
      for (squant_rt_isa isa : isas) {
        std::vector<float> alone = runQgemm(t, x, m, isa);
        std::string what = std::string(isaName(isa)) + " bits " +
                           std::to_string(c.bits) + " n " +
                           std::to_string(c.n) + " k " + std::to_string(c.k) +
                           " m " + std::to_string(m);
        expectClose(t, x, m, alone, what);
        for (int32_t threads : {1, 2, 3}) {
          squant_rt_pool *pool = nullptr;
          ASSERT_EQ(squant_rt_pool_create(threads, &pool), SQUANT_RT_OK);
          std::vector<float> pooled = runQgemm(t, x, m, isa, pool);
          squant_rt_pool_destroy(pool);
          for (size_t i = 0; i < pooled.size(); ++i)
            ASSERT_EQ(std::memcmp(&pooled[i], &alone[i], sizeof(float)), 0)
                << what << " threads " << threads << " output " << i << ": "
                << pooled[i] << " vs " << alone[i];
        }
        if (first.empty()) {
          first = alone;
          continue;
        }
        for (size_t i = 0; i < alone.size(); ++i)
          ASSERT_EQ(std::memcmp(&alone[i], &first[i], sizeof(float)), 0)
              << what << " output " << i << ": " << alone[i] << " vs AVX-512 "
              << first[i];
      }
    }
  }
}

// Row strides past k and n: every path reads x rows at x_stride and writes
// only the n outputs of each y row (the GEMM stores its tiles with masked
// 16-wide stores), giving the bits of the dense call; y's padding keeps
// its sentinel.
TEST(Runtime, StridedRowsMatchDense) {
  std::mt19937 rng(21);
  TestWeight t = makeFma(Scheme::IntAsymmetric, 4, 45, 160, 32, rng);
  finish(t);
  int64_t n = t.w.n, k = t.w.k, xStride = k + 7, yStride = n + 5;
  for (int64_t m : {1, 5, 40}) {
    std::vector<float> x = randomX(m, k, rng);
    std::vector<float> xs(m * xStride, NAN);
    for (int64_t i = 0; i < m; ++i)
      std::copy(x.begin() + i * k, x.begin() + (i + 1) * k, xs.begin() + i * xStride);
    for (squant_rt_isa isa : availableIsas()) {
      std::string what = std::string(isaName(isa)) + " m " + std::to_string(m);
      std::vector<float> dense = runQgemm(t, x, m, isa);
      std::vector<float> ys(m * yStride, -7.0f);
      std::vector<char> ws(squant_rt_qgemm_workspace_size(m, &t.w));
      squant_rt_options opts{isa, nullptr, 0};
      ASSERT_EQ(squant_rt_qgemm(xs.data(), m, xStride, &t.w, ys.data(), yStride, ws.data(),
                                ws.size(), &opts),
                SQUANT_RT_OK)
          << what;
      for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = 0; j < n; ++j)
          ASSERT_EQ(std::memcmp(&ys[i * yStride + j], &dense[i * n + j], sizeof(float)), 0)
              << what << " output " << i << "," << j;
        for (int64_t j = n; j < yStride; ++j)
          ASSERT_EQ(ys[i * yStride + j], -7.0f) << what << " padding " << i << "," << j;
      }
    }
  }
}

/// An FMA-form BLOCK32_V1 weight descriptor; finish() fills its pointers.
squant_rt_qweight fmaBlock32(int bits, bool isSigned, int64_t n, int64_t k,
                             int64_t g) {
  return {SQUANT_RT_LAYOUT_BLOCK32_V1,
          SQUANT_RT_FORM_FMA,
          bits,
          isSigned ? 1 : 0,
          n,
          k,
          g,
          nullptr,
          nullptr,
          nullptr,
          nullptr,
          nullptr,
          0};
}

/// A signed FMA-form weight whose every product with small-integer
/// activations is exact: codes in [-2^(b-1), 2^(b-1)), power-of-two scales,
/// biases multiples of 1/2. t.codes holds the codes.
TestWeight makeExactFma(int bits, int64_t n, int64_t k, int64_t g,
                        std::mt19937 &rng) {
  int64_t groups = k / g;
  TestWeight t;
  t.codes.resize(n * k);
  for (int8_t &c : t.codes)
    c = static_cast<int8_t>(int(rng() % (1u << bits)) - (1 << (bits - 1)));
  t.packed.resize(squant_rt_packed_size(n, k, bits));
  EXPECT_EQ(squant_rt_pack_block32(t.codes.data(), n, k, bits, t.packed.data(),
                                   t.packed.size()),
            SQUANT_RT_OK);
  t.scales.resize(n * groups);
  t.bias.resize(n * groups);
  for (size_t i = 0; i < t.scales.size(); ++i) {
    t.scales[i] = std::ldexp(1.0f, int(rng() % 5) - 2);
    t.bias[i] = std::ldexp(float(int(rng() % 7) - 3), -1);
  }
  t.w = fmaBlock32(bits, true, n, k, g);
  finish(t);
  return t;
}

/// x W^T for makeExactFma's weight, in fp64 rounded once to fp32 (exact
/// where every product and partial sum is).
static std::vector<float> exactProduct(const TestWeight &t,
                                       const std::vector<float> &x, int64_t m) {
  int64_t n = t.w.n, k = t.w.k, g = t.w.group_size, groups = k / g;
  std::vector<float> want(m * n);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0.0;
      for (int64_t c = 0; c < k; ++c)
        acc += double(x[i * k + c]) *
               (double(t.codes[j * k + c]) * t.scales[j * groups + c / g] +
                t.bias[j * groups + c / g]);
      want[i * n + j] = float(acc);
    }
  return want;
}

TEST(Runtime, ExactInputsAreBitExact) {
  // Small-integer activations, power-of-two scales and biases: every
  // product and partial sum is exact in fp32, so every ISA, every order of
  // accumulation and the fp64 reference agree bit for bit.
  int64_t n = 37, k = 160, g = 32;
  std::mt19937 rng(5);
  for (int bits : {1, 2, 3, 4, 8}) {
    TestWeight t = makeExactFma(bits, n, k, g, rng);
    // M = 1 the GEMV (activation tables for 1 and 3 bits on AVX-512),
    // M = 3 the small-M path, M = 20 the GEMM micro-tiles.
    for (int64_t m : {1, 3, 20}) {
      std::vector<float> x(m * k);
      for (float &v : x)
        v = float(int(rng() % 9) - 4);
      std::vector<float> want = exactProduct(t, x, m);
      for (squant_rt_isa isa : availableIsas()) {
        std::vector<float> y = runQgemm(t, x, m, isa);
        EXPECT_EQ(std::memcmp(y.data(), want.data(), y.size() * sizeof(float)), 0)
            << isaName(isa) << " bits " << bits << " m " << m;
      }
    }
  }
}

// The AVX-512 GEMV of 4-bit codes with K a multiple of 128 reads each row
// in 64-byte lines loaded at byte offsets 0..3 (gemm_avx512.c), with x in
// the lanes' order: every scheme and form, K from one line (its row's
// last, whose loads are masked) to ten, groups of a quarter, half, one to
// five lines, and row counts that leave 1, 2 or 3 rows beside the four
// streams.
TEST(Runtime, Gemv4BitLines) {
  const WeightShape shapes[] = {{1, 128, 128},
                                {2, 256, 128},
                                {3, 384, 128},
                                {6, 512, 256},
                                {23, 640, 128},
                                {9, 1280, 640},
                                {1, 128, 32},
                                {5, 256, 32},
                                {7, 384, 64},
                                {10, 640, 64},
                                // groups that lines neither hold whole nor are
                                // made of: the half-block decode
                                {6, 384, 96},
                                {5, 768, 192}};
  std::mt19937 rng(31);
  for (const WeightShape &s : shapes) {
    std::vector<TestWeight> weights;
    for (Scheme scheme : {Scheme::Stretched, Scheme::Symmetric,
                          Scheme::IntAsymmetric, Scheme::Tinygemm})
      weights.push_back(makeFma(scheme, 4, s.n, s.k, s.g, rng));
    weights.push_back(
        makeLut(SQUANT_RT_FORM_LUT_INT8, 4, s.n, s.k, s.g, false, rng));
    for (bool perRow : {false, true})
      weights.push_back(
          makeLut(SQUANT_RT_FORM_LUT_F32, 4, s.n, s.k, s.g, perRow, rng));
    for (TestWeight &t : weights) {
      finish(t);
      std::vector<float> x = randomX(1, s.k, rng);
      for (squant_rt_isa isa : availableIsas())
        expectClose(t, x, 1, runQgemm(t, x, 1, isa),
                    std::string(isaName(isa)) + " form " +
                        std::to_string(t.w.form) + " n " + std::to_string(s.n) +
                        " k " + std::to_string(s.k) + " g " +
                        std::to_string(s.g));
    }
  }
  // Exact inputs: the lines' order of accumulation gives the same bits.
  for (int64_t g : {32, 64, 128}) {
    TestWeight t = makeExactFma(4, 23, 640, g, rng);
    std::vector<float> x(640);
    for (float &v : x)
      v = float(int(rng() % 9) - 4);
    std::vector<float> want = exactProduct(t, x, 1);
    for (squant_rt_isa isa : availableIsas()) {
      std::vector<float> y = runQgemm(t, x, 1, isa);
      EXPECT_EQ(std::memcmp(y.data(), want.data(), y.size() * sizeof(float)), 0)
          << isaName(isa) << " g " << g;
    }
  }
}

// Packed codes that end where an unreadable page begins: no kernel may
// read a byte past the weight (the 4-bit GEMV's line loads reach up to 3
// bytes past a line and are masked in a row's last one). Every width, the
// GEMV, the small-M path and the GEMM, every ISA; the codes start wherever
// their size puts them (not 64-byte aligned for some widths).
TEST(Runtime, NoKernelReadsPastTheCodes) {
  const size_t page = size_t(sysconf(_SC_PAGESIZE));
  std::mt19937 rng(32);
  for (int bits : {1, 2, 3, 4, 8})
    for (int64_t g : {32, 128}) {
      TestWeight t = makeExactFma(bits, 7, 384, g, rng);
      size_t bytes = t.packed.size(), span = (bytes + page - 1) / page * page;
      void *map = mmap(nullptr, span + page, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      ASSERT_NE(map, MAP_FAILED);
      ASSERT_EQ(mprotect(static_cast<char *>(map) + span, page, PROT_NONE), 0);
      uint8_t *codes = static_cast<uint8_t *>(map) + (span - bytes);
      std::memcpy(codes, t.packed.data(), bytes);
      t.w.codes = codes;
      for (int64_t m : {1, 3, 12}) {
        std::vector<float> x(m * 384);
        for (float &v : x)
          v = float(int(rng() % 9) - 4);
        std::vector<float> want = exactProduct(t, x, m);
        for (squant_rt_isa isa : availableIsas()) {
          std::vector<float> y = runQgemm(t, x, m, isa);
          EXPECT_EQ(
              std::memcmp(y.data(), want.data(), y.size() * sizeof(float)), 0)
              << isaName(isa) << " bits " << bits << " g " << g << " m " << m;
        }
      }
      munmap(map, span + page);
    }
}

TEST(Runtime, ThreadCountDoesNotChangeResults) {
  // Threads split rows at multiples of 16, and each kernel orders its rows
  // within a thread's range (the GEMV's four quarters, the table GEMV's
  // runs of rows), so the grouping of rows differs with the thread count;
  // every row must still get the same bits. M = 1 (2-bit: K-vectorized
  // GEMV; 4-bit: its lines; 3-bit: activation tables; TILE16_V1: tables in K
  // chunks over whole tiles; TILE16_V2: runs of 8 tiles (the table GEMV,
  // AVX-512 forced for 2 and 3 bits; 3 bits in groups of 32), or of 2 in
  // the AMX-INT8 GEMV of 2, 3, 4 and 8 bits where this CPU has AMX, whose
  // threads each split all of x into parts: a group needing more parts than the
  // others (spread), more threads than groups, an x whose parts do not
  // fit a pool thread's scratch (the caller splits it; K = 65536), and an
  // x holding a NaN (no thread's split succeeds: the exact path runs)) and
  // M = 3 (small-M path).
  struct Case {
    int bits;
    int64_t n, k, g, m;
    int32_t layout;
    bool spread = false; // group 0 of x spans 60 binades
    bool nan = false;    // x[5] is a NaN
    squant_rt_isa isa = SQUANT_RT_ISA_AUTO;
  };
  const Case cases[] = {
      {2, 101, 512, 64, 3, SQUANT_RT_LAYOUT_BLOCK32_V1},
      {2, 101, 512, 64, 1, SQUANT_RT_LAYOUT_BLOCK32_V1},
      {4, 101, 512, 128, 1, SQUANT_RT_LAYOUT_BLOCK32_V1},
      {4, 101, 512, 32, 1, SQUANT_RT_LAYOUT_BLOCK32_V1},
      {3, 133, 416, 32, 1, SQUANT_RT_LAYOUT_BLOCK32_V1},
      {2, 101, 2336, 32, 1, SQUANT_RT_LAYOUT_TILE16_V1},
      {3, 133, 2336, 32, 1, SQUANT_RT_LAYOUT_TILE16_V1},
      {2, 343, 512, 64, 1, SQUANT_RT_LAYOUT_TILE16_V2},
      {2, 343, 512, 64, 1, SQUANT_RT_LAYOUT_TILE16_V2, false, false,
       SQUANT_RT_ISA_AVX512},
      {3, 343, 416, 32, 1, SQUANT_RT_LAYOUT_TILE16_V2},
      {3, 343, 512, 64, 1, SQUANT_RT_LAYOUT_TILE16_V2},
      {3, 343, 512, 64, 1, SQUANT_RT_LAYOUT_TILE16_V2, false, false,
       SQUANT_RT_ISA_AVX512},
      {4, 343, 512, 64, 1, SQUANT_RT_LAYOUT_TILE16_V2},
      {8, 343, 512, 128, 1, SQUANT_RT_LAYOUT_TILE16_V2},
      {4, 343, 512, 64, 1, SQUANT_RT_LAYOUT_TILE16_V2, true},
      {4, 40, 128, 128, 1, SQUANT_RT_LAYOUT_TILE16_V2},
      {4, 40, 65536, 128, 1, SQUANT_RT_LAYOUT_TILE16_V2},
      {4, 343, 512, 64, 1, SQUANT_RT_LAYOUT_TILE16_V2, false, true}};
  std::mt19937 rng(6);
  for (const Case &c : cases) {
    TestWeight t = makeFma(Scheme::Stretched, c.bits, c.n, c.k, c.g, rng, c.layout);
    finish(t);
    std::vector<float> x = randomX(c.m, c.k, rng);
    if (c.spread) {
      x[1] = 0x1p20f;
      x[2] = 0x1.8p-40f;
    }
    if (c.nan)
      x[5] = std::numeric_limits<float>::quiet_NaN();
    if (!squant_rt_isa_available(c.isa))
      continue; // AUTO's cases cover this CPU
    std::vector<float> one = runQgemm(t, x, c.m, c.isa);
    for (int threads : {2, 3}) {
      squant_rt_pool *pool = nullptr;
      ASSERT_EQ(squant_rt_pool_create(threads, &pool), SQUANT_RT_OK);
      for (int rep = 0; rep < 3; ++rep) {
        std::vector<float> y = runQgemm(t, x, c.m, c.isa, pool);
        EXPECT_EQ(std::memcmp(y.data(), one.data(), y.size() * sizeof(float)), 0)
            << threads << " threads, bits " << c.bits << " m " << c.m;
      }
      squant_rt_pool_destroy(pool);
    }
  }
}

// squant_rt_parallel_for (the loop of generated code): every iteration runs
// exactly once, for thread counts below, at and above the iteration count
// (and above the pools' limit), from one thread, from two at once, and
// nested in one of its own iterations.
namespace {
struct Counts {
  std::vector<std::atomic<int>> hits;
  std::atomic<int> ranges{0};
  explicit Counts(int64_t n) : hits(n) {}
};

void countRange(void *ctx, int64_t begin, int64_t end) {
  auto *c = static_cast<Counts *>(ctx);
  c->ranges.fetch_add(1);
  for (int64_t i = begin; i < end; ++i)
    c->hits[i].fetch_add(1);
}

void expectEachOnce(const Counts &c, const std::string &what) {
  for (size_t i = 0; i < c.hits.size(); ++i)
    ASSERT_EQ(c.hits[i].load(), 1) << what << " iteration " << i;
}

struct Nested {
  Counts inner{12};
};

void runInner(void *ctx, int64_t begin, int64_t end) {
  auto *n = static_cast<Nested *>(ctx);
  for (int64_t i = begin; i < end; ++i) {
    // Iteration i counts inner iterations [3i, 3i + 3) through a nested loop.
    struct Slice {
      Counts *c;
      int64_t base;
    } slice{&n->inner, 3 * i};
    squant_rt_parallel_for(
        [](void *p, int64_t b, int64_t e) {
          auto *sl = static_cast<Slice *>(p);
          for (int64_t j = b; j < e; ++j)
            sl->c->hits[sl->base + j].fetch_add(1);
        },
        &slice, 3, 2);
  }
}
} // namespace

TEST(Runtime, ParallelForRunsEachIterationOnce) {
  for (int32_t threads : {1, 2, 3, 8, 100000})
    for (int64_t count : {1, 2, 7, 1000}) {
      Counts c(count);
      squant_rt_parallel_for(countRange, &c, count, threads);
      std::string what = std::to_string(threads) + " threads, " +
                         std::to_string(count) + " iterations";
      expectEachOnce(c, what);
      // One contiguous range per thread that has work.
      EXPECT_LE(c.ranges.load(), std::min<int64_t>(std::max(threads, 1), count)) << what;
    }
  Counts none(0);
  squant_rt_parallel_for(countRange, &none, 0, 2);
  squant_rt_parallel_for(countRange, &none, -5, 2);
  squant_rt_parallel_for(nullptr, &none, 10, 2); // ignored, no crash
  EXPECT_EQ(none.ranges.load(), 0);

  // Two callers at once share one pool: one runs on it, the other on its
  // own thread; both see every iteration once.
  std::vector<std::unique_ptr<Counts>> results;
  for (int i = 0; i < 2 * 200; ++i)
    results.push_back(std::make_unique<Counts>(257));
  auto caller = [&](int first) {
    for (int i = first; i < 2 * 200; i += 2)
      squant_rt_parallel_for(countRange, results[i].get(), 257, 2);
  };
  std::thread a(caller, 0), b(caller, 1);
  a.join();
  b.join();
  for (size_t i = 0; i < results.size(); ++i)
    expectEachOnce(*results[i], "concurrent call " + std::to_string(i));

  Nested nested;
  squant_rt_parallel_for(runInner, &nested, 4, 2);
  expectEachOnce(nested.inner, "nested");
}

namespace {
/// What squant_rt_pool_parallel's tasks saw: per index, the calls and the
/// thread count passed, and the thread that ran it.
struct PoolCalls {
  explicit PoolCalls(int32_t threads)
      : calls(threads), counts(threads), ids(threads) {}
  std::vector<std::atomic<int>> calls;
  std::vector<int32_t> counts;
  std::vector<std::thread::id> ids;
  std::atomic<int> outOfRange{0};
};

void recordTask(void *arg, int32_t index, int32_t threads) {
  auto *c = static_cast<PoolCalls *>(arg);
  if (index < 0 || index >= int32_t(c->calls.size())) {
    c->outOfRange.fetch_add(1);
    return;
  }
  c->calls[index].fetch_add(1);
  c->counts[index] = threads;
  c->ids[index] = std::this_thread::get_id();
}
} // namespace

TEST(Runtime, PoolParallelRunsOneTaskPerThread) {
  // A NULL pool: one task, on the caller.
  PoolCalls alone(1);
  EXPECT_EQ(squant_rt_pool_parallel(nullptr, recordTask, &alone), SQUANT_RT_OK);
  EXPECT_EQ(alone.calls[0].load(), 1);
  EXPECT_EQ(alone.counts[0], 1);
  EXPECT_EQ(alone.ids[0], std::this_thread::get_id());
  EXPECT_EQ(squant_rt_pool_parallel(nullptr, nullptr, nullptr),
            SQUANT_RT_INVALID_ARGUMENT);

  for (int32_t threads : {1, 2, 3, 8}) {
    squant_rt_pool *pool = nullptr;
    ASSERT_EQ(squant_rt_pool_create(threads, &pool), SQUANT_RT_OK);
    EXPECT_EQ(squant_rt_pool_parallel(pool, nullptr, nullptr),
              SQUANT_RT_INVALID_ARGUMENT);
    // Tasks between kernel calls on the same pool, several times: every
    // index once per call, on distinct threads, index 0 on the caller; the
    // kernels' results do not change.
    const int64_t n = 37, k = 256;
    std::vector<int8_t> q(n * k);
    std::vector<float> s(n * (k / 64)), b(s.size()), x(k);
    for (size_t i = 0; i < q.size(); ++i)
      q[i] = int8_t(i * 7 % 16);
    for (size_t i = 0; i < s.size(); ++i) {
      s[i] = 0.5f + 0.25f * float(i % 3);
      b[i] = -1.0f + float(i % 5);
    }
    for (int64_t i = 0; i < k; ++i)
      x[i] = float(int(i % 9) - 4);
    std::vector<uint8_t> codes(squant_rt_packed_size(n, k, 4));
    ASSERT_EQ(squant_rt_pack(SQUANT_RT_LAYOUT_BLOCK32_V1, q.data(), n, k, 4,
                             codes.data(), codes.size()),
              SQUANT_RT_OK);
    squant_rt_qweight w{SQUANT_RT_LAYOUT_BLOCK32_V1,
                        SQUANT_RT_FORM_FMA,
                        4,
                        0,
                        n,
                        k,
                        64,
                        codes.data(),
                        s.data(),
                        b.data(),
                        nullptr,
                        nullptr,
                        0};
    std::vector<char> ws(squant_rt_qgemm_workspace_size(1, &w) + 64);
    squant_rt_options opts{SQUANT_RT_ISA_AUTO, pool, 0};
    std::vector<float> first(n), y(n);
    ASSERT_EQ(squant_rt_qgemm(x.data(), 1, k, &w, first.data(), n, ws.data(),
                              ws.size(), &opts),
              SQUANT_RT_OK);
    for (int round = 0; round < 3; ++round) {
      PoolCalls c(threads);
      ASSERT_EQ(squant_rt_pool_parallel(pool, recordTask, &c), SQUANT_RT_OK);
      std::string what =
          std::to_string(threads) + " threads, round " + std::to_string(round);
      EXPECT_EQ(c.outOfRange.load(), 0) << what;
      for (int32_t i = 0; i < threads; ++i) {
        EXPECT_EQ(c.calls[i].load(), 1) << what << ", index " << i;
        EXPECT_EQ(c.counts[i], threads) << what << ", index " << i;
        for (int32_t j = 0; j < i; ++j)
          EXPECT_NE(c.ids[i], c.ids[j])
              << what << ", indices " << j << " " << i;
      }
      EXPECT_EQ(c.ids[0], std::this_thread::get_id()) << what;
      ASSERT_EQ(squant_rt_qgemm(x.data(), 1, k, &w, y.data(), n, ws.data(),
                                ws.size(), &opts),
                SQUANT_RT_OK);
      EXPECT_EQ(std::memcmp(y.data(), first.data(), n * sizeof(float)), 0)
          << what;
    }
    squant_rt_pool_destroy(pool);
  }
}

TEST(Runtime, TinygemmImport) {
  // torchao's tinygemm inputs (even k in the high nibble, scales_and_zeros
  // [k/g][n][2]) become the FMA form; results within D7 + D8 of the spec's
  // tinygemm dequantization fl(fl((q - 8) s) + z).
  std::mt19937 rng(7);
  int64_t n = 24, k = 256, g = 64, groups = k / g;
  ref::Scheme sc = ref::Scheme::get(ref::SchemeKind::FloatZeroPoint, 4, false);
  std::vector<float> wf(n * k);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (float &v : wf)
    v = dist(rng);
  ref::Grouping grouping{{n, k}, 1, g};
  ref::TensorQParams params = ref::chooseQParams(sc, grouping, wf);
  std::vector<int32_t> q = ref::quantize(sc, grouping, wf, params);
  std::vector<uint8_t> u8(n * k / 2);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < k; c += 2)
      u8[r * k / 2 + c / 2] = uint8_t(q[r * k + c] << 4 | q[r * k + c + 1]);
  std::vector<float> sz = ref::packScalesAndZeros(params.scales, params.zeroPoints, n, groups);
  TestWeight t;
  t.packed.resize(squant_rt_packed_size(n, k, 4));
  t.scales.resize(n * groups);
  t.bias.resize(n * groups);
  ASSERT_EQ(squant_rt_pack_tinygemm(u8.data(), n, k, g, sz.data(), t.packed.data(),
                                    t.scales.data(), t.bias.data()),
            SQUANT_RT_OK);
  t.w = {SQUANT_RT_LAYOUT_BLOCK32_V1, SQUANT_RT_FORM_FMA, 4, 0, n, k, g,
         nullptr, nullptr, nullptr, nullptr, nullptr, 0};
  finish(t);
  t.dq = ref::dequantize(sc, grouping, q, params);
  t.magnitude.resize(n * k);
  std::vector<int64_t> pi = grouping.paramIndices();
  for (int64_t i = 0; i < n * k; ++i)
    t.magnitude[i] = std::fabs(params.zeroPoints[pi[i]]) +
                     2.0f * std::fabs(q[i] * params.scales[pi[i]]) +
                     8.0f * params.scales[pi[i]];
  std::vector<float> x = randomX(2, k, rng);
  expectClose(t, x, 2, runQgemm(t, x, 2, SQUANT_RT_ISA_AUTO), "tinygemm import");
}

TEST(Runtime, BadArgumentsReturnStatus) {
  std::mt19937 rng(8);
  TestWeight t = makeFma(Scheme::Symmetric, 4, 4, 64, 32, rng);
  finish(t);
  std::vector<float> x(64), y(4);
  std::vector<char> ws(squant_rt_qgemm_workspace_size(1, &t.w));
  auto call = [&](const squant_rt_qweight &w, const squant_rt_options *o = nullptr,
                  size_t wsSize = SIZE_MAX) {
    return squant_rt_qgemm(x.data(), 1, 64, &w, y.data(), 4, ws.data(),
                           wsSize == SIZE_MAX ? ws.size() : wsSize, o);
  };
  EXPECT_EQ(call(t.w), SQUANT_RT_OK);
  squant_rt_qweight bad = t.w;
  bad.codes = nullptr;
  EXPECT_EQ(call(bad), SQUANT_RT_INVALID_ARGUMENT);
  bad = t.w;
  bad.bias = nullptr;
  EXPECT_EQ(call(bad), SQUANT_RT_INVALID_ARGUMENT);
  bad = t.w;
  bad.bits = 5;
  EXPECT_EQ(call(bad), SQUANT_RT_UNSUPPORTED);
  bad = t.w;
  bad.group_size = 48;
  EXPECT_EQ(call(bad), SQUANT_RT_UNSUPPORTED);
  bad = t.w;
  bad.layout = 7;
  EXPECT_EQ(call(bad), SQUANT_RT_UNSUPPORTED);
  bad = t.w;
  bad.form = SQUANT_RT_FORM_LUT_INT8;
  bad.table = reinterpret_cast<const int8_t *>(x.data());
  bad.bits = 8;
  EXPECT_EQ(call(bad), SQUANT_RT_UNSUPPORTED);
  bad = t.w;
  bad.form = 9;
  EXPECT_EQ(call(bad), SQUANT_RT_INVALID_ARGUMENT);
  EXPECT_EQ(call(t.w, nullptr, 1), SQUANT_RT_BUFFER_TOO_SMALL);
  squant_rt_options opts{42, nullptr, 0};
  EXPECT_EQ(call(t.w, &opts), SQUANT_RT_INVALID_ARGUMENT);
  EXPECT_EQ(squant_rt_qgemm(x.data(), 1, 32, &t.w, y.data(), 4, ws.data(),
                            ws.size(), nullptr),
            SQUANT_RT_INVALID_ARGUMENT); // x_stride < k
  EXPECT_EQ(squant_rt_qgemm(nullptr, 1, 64, &t.w, y.data(), 4, ws.data(),
                            ws.size(), nullptr),
            SQUANT_RT_INVALID_ARGUMENT);
  std::vector<int8_t> codes(64);
  std::vector<uint8_t> out(16);
  EXPECT_EQ(squant_rt_pack_block32(codes.data(), 1, 64, 4, out.data(), 16),
            SQUANT_RT_BUFFER_TOO_SMALL);
  EXPECT_EQ(squant_rt_pack_block32(codes.data(), 1, 48, 4, out.data(), 16),
            SQUANT_RT_UNSUPPORTED);
  squant_rt_pool *pool = nullptr;
  EXPECT_EQ(squant_rt_pool_create(0, &pool), SQUANT_RT_INVALID_ARGUMENT);
  // Degenerate shapes: nothing to do, and nothing written.
  TestWeight empty = makeFma(Scheme::Symmetric, 4, 4, 64, 32, rng);
  finish(empty);
  EXPECT_EQ(squant_rt_qgemm(x.data(), 0, 64, &empty.w, y.data(), 4, nullptr, 0,
                            nullptr),
            SQUANT_RT_OK);
}

namespace {

/// SQUANT_RT_FLAG_INT8_ACTIVATIONS changes numerics: each activation is
/// rounded to a multiple of its group's scale xs = max|x| / 127, an error
/// of at most xs / 2 per element, so |y - y_exact| <= sum_k |w_k| xs_g / 2
/// (plus fp32 accumulation). Checks y (one row, FMA form) against that
/// bound, that it is not exact (the mode really quantizes), and that it is
/// the mode's own arithmetic up to fp32 rounding: per group s xs sum(q
/// code) + b xs sum(q), the quantized x times the weights, with
/// q = round-half-even(x / xs) and xs = max|x| / 127
/// in fp32 (a group scale off by 1 % fails this, not the bound). Over
/// many rows (`manyRows`) the error's norm is also a small fraction of y's;
/// a few rows' y may cancel to near zero.
void expectWithinInt8QuantizationError(const TestWeight &t,
                                       const std::vector<float> &x,
                                       const std::vector<float> &y,
                                       const std::string &label,
                                       bool manyRows = true) {
  int64_t n = t.w.n, k = t.w.k, g = t.w.group_size, groups = k / g;
  std::vector<float> xs(groups);
  std::vector<int> q(k);
  for (int64_t gi = 0; gi < groups; ++gi) {
    float amax = 0.0f;
    for (int64_t c = gi * g; c < (gi + 1) * g; ++c)
      amax = std::max(amax, std::fabs(x[c]));
    xs[gi] = amax > 0.0f ? amax / 127.0f : 1.0f;
    if (xs[gi] == 0.0f) // max|x| / 127 below the subnormals
      xs[gi] = std::numeric_limits<float>::denorm_min();
    for (int64_t c = gi * g; c < (gi + 1) * g; ++c)
      q[c] = int(std::clamp(std::nearbyint(x[c] / xs[gi]), -127.0f, 127.0f));
  }
  double errNorm = 0.0, refNorm = 0.0;
  for (int64_t j = 0; j < n; ++j) {
    double ref = 0.0, bound = 0.0, mode = 0.0, modeMagnitude = 0.0;
    for (int64_t gi = 0; gi < groups; ++gi) {
      double s = t.scales[j * groups + gi], b = t.bias[j * groups + gi];
      double dot = 0.0, dotMagnitude = 0.0, qsum = 0.0, qsumMagnitude = 0.0;
      for (int64_t c = gi * g; c < (gi + 1) * g; ++c) {
        ref += double(x[c]) * t.dq[j * k + c];
        bound += std::fabs(t.dq[j * k + c]) * xs[gi] / 2 +
                 std::fabs(double(x[c])) * t.magnitude[j * k + c] * double(k) *
                     std::ldexp(1.0, -22);
        int8_t raw = t.codes[j * k + c];
        int code = t.w.is_signed ? int(raw) : int(uint8_t(raw));
        dot += double(q[c]) * code;
        dotMagnitude += std::fabs(double(q[c]) * code);
        qsum += q[c];
        qsumMagnitude += std::abs(q[c]);
      }
      mode += s * xs[gi] * dot + b * xs[gi] * qsum;
      modeMagnitude += std::fabs(s * xs[gi]) * dotMagnitude +
                       std::fabs(b * xs[gi]) * qsumMagnitude;
    }
    ASSERT_LE(std::fabs(y[j] - ref), bound) << label << " row " << j;
    EXPECT_LE(std::fabs(y[j] - mode),
              modeMagnitude * double(k) * std::ldexp(1.0, -23))
        << label << " row " << j << ": not the mode's arithmetic";
    errNorm += (y[j] - ref) * (y[j] - ref);
    refNorm += ref * ref;
  }
  EXPECT_GT(errNorm, 0.0) << label;
  if (manyRows)
    EXPECT_LT(std::sqrt(errNorm / refNorm), 0.05) << label;
}

/// Makes every odd row of an IntAsymmetric weight, and every third group of
/// the even rows, all zeros: codes at the zero point, the largest code (so
/// that b = -s zp is far from 0), s a power of two, so that s q + b = 0
/// exactly. There the int8-activation mode's y is the rounding of an exact
/// zero (expectWithinInt8QuantizationError's mode check): the rounding of x
/// meets the weights, not the codes. Before finish().
void zeroSomeGroups(TestWeight &t) {
  int64_t n = t.w.n, k = t.w.k, g = t.w.group_size, groups = k / g;
  int bits = t.w.bits;
  int zp = (1 << (bits - 1)) - 1;
  float s = 0x1p-5f;
  for (int64_t j = 0; j < n; ++j)
    for (int64_t gi = 0; gi < groups; ++gi) {
      if (j % 2 == 0 && gi % 3 != 0)
        continue;
      t.scales[j * groups + gi] = s;
      t.bias[j * groups + gi] = -float(zp) * s;
      for (int64_t c = gi * g; c < (gi + 1) * g; ++c) {
        t.codes[j * k + c] = int8_t(zp);
        t.dq[j * k + c] = 0.0f;
        t.magnitude[j * k + c] = 2.0f * float(zp) * s;
      }
    }
  packCodes(t, t.w.layout, n, k, bits);
}

} // namespace

TEST(Runtime, Int8ActivationModeWithinQuantizationError) {
  // Every width the mode takes on VNNI (BLOCK32_V1), unsigned (float and
  // int zero points) and signed (stretched, symmetric) codes; int zero
  // points with groups and rows of zeros (zeroSomeGroups).
  if (!squant_rt_isa_available(SQUANT_RT_ISA_AVX512) ||
      !__builtin_cpu_supports("avx512vnni"))
    GTEST_SKIP() << "no AVX-512 VNNI on this CPU";
  std::mt19937 rng(9);
  for (int bits : {2, 3, 4, 8})
    for (Scheme scheme : {Scheme::Tinygemm, Scheme::IntAsymmetric,
                          Scheme::Stretched, Scheme::Symmetric})
      for (int64_t g : {64, 128}) {
        int64_t n = 37, k = 4 * g;
        TestWeight t = makeFma(scheme, bits, n, k, g, rng);
        if (scheme == Scheme::IntAsymmetric)
          zeroSomeGroups(t);
        finish(t);
        std::vector<float> x = randomX(1, k, rng);
        std::vector<float> y(n, NAN);
        std::vector<char> ws(squant_rt_qgemm_workspace_size(1, &t.w));
        squant_rt_options opts{SQUANT_RT_ISA_AUTO, nullptr,
                               SQUANT_RT_FLAG_INT8_ACTIVATIONS};
        squant_rt_status status = squant_rt_qgemm(
            x.data(), 1, k, &t.w, y.data(), n, ws.data(), ws.size(), &opts);
        if (bits == 3 && !__builtin_cpu_supports("avx512vbmi")) {
          // 3-bit codes also need VBMI: the status says so.
          EXPECT_EQ(status, SQUANT_RT_ISA_UNAVAILABLE);
          continue;
        }
        ASSERT_EQ(status, SQUANT_RT_OK);
        expectWithinInt8QuantizationError(
            t, x, y,
            "bits " + std::to_string(bits) + " scheme " +
                std::to_string(int(scheme)) + " g " + std::to_string(g));
      }
  // Outside what the mode supports (groups of 32, 1-bit codes, M = 2): a
  // status, not a wrong answer.
  TestWeight g32 = makeFma(Scheme::Symmetric, 4, 4, 128, 32, rng);
  finish(g32);
  {
    std::vector<float> x(128), y(4);
    std::vector<char> ws(squant_rt_qgemm_workspace_size(1, &g32.w));
    squant_rt_options opts{SQUANT_RT_ISA_AUTO, nullptr,
                           SQUANT_RT_FLAG_INT8_ACTIVATIONS};
    EXPECT_EQ(squant_rt_qgemm(x.data(), 1, 128, &g32.w, y.data(), 4, ws.data(),
                              ws.size(), &opts),
              SQUANT_RT_UNSUPPORTED);
  }
  TestWeight t2 = makeFma(Scheme::IntAsymmetric, 1, 4, 128, 64, rng);
  finish(t2);
  std::vector<float> x(2 * 128), y(8);
  std::vector<char> ws(squant_rt_qgemm_workspace_size(2, &t2.w));
  squant_rt_options opts{SQUANT_RT_ISA_AUTO, nullptr, SQUANT_RT_FLAG_INT8_ACTIVATIONS};
  EXPECT_EQ(squant_rt_qgemm(x.data(), 1, 128, &t2.w, y.data(), 4, ws.data(), ws.size(), &opts),
            SQUANT_RT_UNSUPPORTED);
  TestWeight t4 = makeFma(Scheme::Symmetric, 4, 4, 128, 64, rng);
  finish(t4);
  std::vector<char> ws4(squant_rt_qgemm_workspace_size(2, &t4.w));
  EXPECT_EQ(squant_rt_qgemm(x.data(), 2, 128, &t4.w, y.data(), 4, ws4.data(),
                            ws4.size(), &opts),
            SQUANT_RT_UNSUPPORTED);
  // The VNNI kernel reads BLOCK32_V1 rows: codes in the tiled layouts are
  // refused (2-bit TILE16_V1 codes were read as BLOCK32_V1 bytes before);
  // the AMX-INT8 GEMV reads 2- to 4- and 8-bit TILE16_V2 only.
  for (auto [bits, layout] :
       {std::pair<int, int32_t>{2, SQUANT_RT_LAYOUT_TILE16_V1},
        {1, SQUANT_RT_LAYOUT_TILE16_V2}}) {
    TestWeight tiled =
        makeFma(Scheme::Symmetric, bits, 4, 128, 64, rng, layout);
    finish(tiled);
    std::vector<char> tws(squant_rt_qgemm_workspace_size(1, &tiled.w));
    EXPECT_EQ(squant_rt_qgemm(x.data(), 1, 128, &tiled.w, y.data(), 4,
                              tws.data(), tws.size(), &opts),
              SQUANT_RT_UNSUPPORTED)
        << "layout " << layout << " bits " << bits;
  }
  squant_rt_options bad{SQUANT_RT_ISA_AUTO, nullptr, 0x80};
  EXPECT_EQ(squant_rt_qgemm(x.data(), 1, 128, &t2.w, y.data(), 4, ws.data(), ws.size(), &bad),
            SQUANT_RT_INVALID_ARGUMENT);
  // A NaN or an infinity in x runs the exact path, which carries it (the
  // int8 conversion of a NaN is undefined behaviour).
  TestWeight t8 = makeFma(Scheme::Tinygemm, 8, 5, 128, 64, rng);
  finish(t8);
  for (float bad : {NAN, INFINITY}) {
    std::vector<float> xb = randomX(1, 128, rng);
    xb[77] = bad;
    std::vector<float> exact = runQgemm(t8, xb, 1, SQUANT_RT_ISA_AUTO);
    std::vector<float> fast = runQgemm(t8, xb, 1, SQUANT_RT_ISA_AUTO, nullptr,
                                       SQUANT_RT_FLAG_INT8_ACTIVATIONS);
    EXPECT_EQ(std::memcmp(exact.data(), fast.data(), 5 * sizeof(float)), 0)
        << bad;
    EXPECT_TRUE(std::isnan(fast[0]) || std::isinf(fast[0])) << bad;
  }
}

/// Whether the CPU runs the int8-activation mode's VNNI GEMV of TILE16_V2
/// (ISA AVX512): AVX-512 with VNNI, VBMI and GFNI.
static bool vnniTile16Available() {
  return squant_rt_isa_available(SQUANT_RT_ISA_AVX512) &&
         __builtin_cpu_supports("avx512vnni") &&
         __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("gfni");
}

TEST(Runtime, Int8ActivationModeReadsTile16V2) {
  // 2-, 3-, 4- and 8-bit TILE16_V2 weights in the int8-activation mode run
  // the AMX-INT8 GEMV (ISA AMX, and AUTO where the CPU has it) or the VNNI
  // GEMV (ISA AVX512, and AUTO elsewhere), both on x's int8 quantization
  // per group (unit: the group's scale) with the same fp32 arithmetic: the
  // same bound as the BLOCK32_V1 kernel's, the same bits on either kernel
  // and any pool, every scheme (the VNNI GEMV reads signed codes in offset
  // binary), ragged tiles (37 rows) and groups of 64 to 512 and of 32 and
  // 96 (half quads), groups and rows of zeros (zeroSomeGroups); NaN and
  // infinity take the exact path.
  std::mt19937 rng(21);
  const bool amx = squant_rt_isa_available(SQUANT_RT_ISA_AMX);
  const bool vnni = vnniTile16Available();
  // The status of a 16 x 128 weight's call in the mode on `isa`.
  auto smallCall = [&](squant_rt_isa isa) {
    TestWeight t = makeFma(Scheme::Symmetric, 4, 16, 128, 64, rng,
                           SQUANT_RT_LAYOUT_TILE16_V2);
    finish(t);
    std::vector<float> x = randomX(1, 128, rng), y(16);
    std::vector<char> ws(squant_rt_qgemm_workspace_size(1, &t.w));
    squant_rt_options opts{isa, nullptr, SQUANT_RT_FLAG_INT8_ACTIVATIONS};
    return squant_rt_qgemm(x.data(), 1, 128, &t.w, y.data(), 16, ws.data(),
                           ws.size(), &opts);
  };
  EXPECT_EQ(smallCall(SQUANT_RT_ISA_AVX2), SQUANT_RT_UNSUPPORTED);
  EXPECT_EQ(smallCall(SQUANT_RT_ISA_AVX512),
            vnni ? SQUANT_RT_OK : SQUANT_RT_ISA_UNAVAILABLE);
  EXPECT_EQ(smallCall(SQUANT_RT_ISA_AMX),
            amx ? SQUANT_RT_OK : SQUANT_RT_ISA_UNAVAILABLE);
  if (!amx && !vnni) {
    EXPECT_EQ(smallCall(SQUANT_RT_ISA_AUTO), SQUANT_RT_ISA_UNAVAILABLE);
    GTEST_SKIP() << "neither AMX-INT8 nor AVX-512 VNNI/VBMI/GFNI on this CPU "
                    "(the statuses checked)";
  }
  std::vector<squant_rt_isa> kernels;
  if (vnni)
    kernels.push_back(SQUANT_RT_ISA_AVX512);
  if (amx)
    kernels.push_back(SQUANT_RT_ISA_AMX);
  squant_rt_pool *pool = nullptr;
  ASSERT_EQ(squant_rt_pool_create(2, &pool), SQUANT_RT_OK);
  for (int bits : {2, 3, 4, 8})
    for (Scheme scheme : {Scheme::Tinygemm, Scheme::IntAsymmetric,
                          Scheme::Stretched, Scheme::Symmetric})
      for (int64_t g : {32, 64, 96, 128, 512}) {
        int64_t n = 37, k = 3 * g;
        TestWeight t =
            makeFma(scheme, bits, n, k, g, rng, SQUANT_RT_LAYOUT_TILE16_V2);
        if (scheme == Scheme::IntAsymmetric)
          zeroSomeGroups(t);
        finish(t);
        std::vector<float> x = randomX(1, k, rng);
        std::string label = "bits " + std::to_string(bits) + " scheme " +
                            std::to_string(int(scheme)) + " g " +
                            std::to_string(g);
        std::vector<float> y = runQgemm(t, x, 1, SQUANT_RT_ISA_AUTO, nullptr,
                                        SQUANT_RT_FLAG_INT8_ACTIVATIONS);
        expectWithinInt8QuantizationError(t, x, y, label);
        for (squant_rt_isa isa : kernels)
          for (squant_rt_pool *on : {(squant_rt_pool *)nullptr, pool}) {
            std::vector<float> other =
                runQgemm(t, x, 1, isa, on, SQUANT_RT_FLAG_INT8_ACTIVATIONS);
            EXPECT_EQ(std::memcmp(y.data(), other.data(), n * sizeof(float)), 0)
                << label << " isa " << int(isa) << (on ? ", 2 threads" : "");
          }
        if (g == 128)
          for (float bad : {NAN, -INFINITY}) {
            x[k - 3] = bad;
            for (squant_rt_isa isa : kernels)
              for (squant_rt_pool *on : {(squant_rt_pool *)nullptr, pool}) {
                std::vector<float> fast =
                    runQgemm(t, x, 1, isa, on, SQUANT_RT_FLAG_INT8_ACTIVATIONS);
                // The exact path on the same ISA and pool.
                std::vector<float> exact = runQgemm(t, x, 1, isa, on);
                EXPECT_EQ(
                    std::memcmp(exact.data(), fast.data(), n * sizeof(float)),
                    0)
                    << label << " x " << bad << " isa " << int(isa)
                    << (on ? ", 2 threads" : "");
              }
          }
      }
  squant_rt_pool_destroy(pool);
  if (!amx)
    GTEST_SKIP() << "no AMX-INT8 on this CPU: the VNNI GEMV's part ran";
}

TEST(Runtime, Int8ActivationQuantizationIsTheStatedOne) {
  // The mode's quantization (squant_rt.h) on every kernel that takes it,
  // against the rule computed here: where every scale is a power of two and
  // x / s lands on integers and ties, every product and sum is exact, so
  // the VNNI kernels (BLOCK32_V1; TILE16_V2, signed and unsigned codes) and
  // the AMX-INT8 GEMV (TILE16_V2) give the rule's result bit for bit. Ties
  // round to even (2.5 -> 2, -3.5 -> -4); a group whose max|x| / 127 underflows
  // (values k 2^-149, |k| <= 63) takes the smallest subnormal as its scale, so
  // its values stay exact (before, the scale was 0 and x / 0 went to int8
  // undefined). Groups of 128 and of 32 (TILE16_V2's half quads; the
  // BLOCK32_V1 kernel takes multiples of 64 and says so).
  std::mt19937 rng(23);
  bool amx = squant_rt_isa_available(SQUANT_RT_ISA_AMX);
  bool vnniTiled = vnniTile16Available();
  for (int64_t g : {128, 32})
    for (int bits : {2, 3, 4, 8})
      for (bool tiny : {false, true}) {
        int64_t n = 37, k = 4 * g;
        TestWeight t = makeExactFma(bits, n, k, g, rng);
        std::vector<float> x(k);
        for (int64_t c = 0; c < k; ++c)
          x[c] = tiny ? std::ldexp(float(int(rng() % 127) - 63), -149)
                      : 0.5f * float(int(rng() % 15) - 7); // -3.5 .. 3.5
        if (!tiny) {
          x[5] = 127.0f;         // group 0: s = 1
          x[g + 7] = -0x1.fcp3f; // group 1: s = 2^-3 (127 2^-4 ... 2^3)
          std::fill(x.begin() + 2 * g, x.begin() + 3 * g, 0.0f); // s = 1
          x[3 * g + 1] = -127.0f; // group 3: s = 1
          for (int64_t c = g; c < 2 * g; ++c)
            x[c] = c == g + 7 ? x[c] : x[c] / 8.0f; // ties of 2^-4 steps
        } else {
          std::fill(t.scales.begin(), t.scales.end(), 1.0f);
          std::fill(t.bias.begin(), t.bias.end(), 0.0f);
          finish(t);
        }
        // The rule, in fp64 (exact here), rounded once.
        auto rule = [&] {
          std::vector<float> want(n);
          for (int64_t j = 0; j < n; ++j) {
            double acc = 0.0;
            for (int64_t gi = 0; gi < k / g; ++gi) {
              float amax = 0.0f;
              for (int64_t c = gi * g; c < (gi + 1) * g; ++c)
                amax = std::max(amax, std::fabs(x[c]));
              float s = amax > 0.0f ? amax / 127.0f : 1.0f;
              if (s == 0.0f)
                s = std::numeric_limits<float>::denorm_min();
              double dot = 0.0, qsum = 0.0;
              for (int64_t c = gi * g; c < (gi + 1) * g; ++c) {
                int8_t code = t.codes[j * k + c]; // 8-bit unsigned: 0..255
                double q = std::nearbyint(x[c] / s);
                dot +=
                    q * (t.w.is_signed ? double(code) : double(uint8_t(code)));
                qsum += q;
              }
              acc += t.scales[j * (k / g) + gi] * double(s) * dot +
                     t.bias[j * (k / g) + gi] * double(s) * qsum;
            }
            want[j] = float(acc);
          }
          return want;
        };
        std::string what = "g " + std::to_string(g) + " bits " +
                           std::to_string(bits) +
                           (tiny ? " tiny x" : " ties and scales");
        std::vector<float> want = rule();
        if (g % 64 == 0) {
          std::vector<float> vnni =
              runQgemm(t, x, 1, SQUANT_RT_ISA_AVX512, nullptr,
                       SQUANT_RT_FLAG_INT8_ACTIVATIONS);
          EXPECT_EQ(std::memcmp(vnni.data(), want.data(), n * 4), 0)
              << what << ": VNNI, row 0 " << vnni[0] << " want " << want[0];
        } else {
          std::vector<float> y(n);
          std::vector<char> ws(squant_rt_qgemm_workspace_size(1, &t.w));
          squant_rt_options opts{SQUANT_RT_ISA_AUTO, nullptr,
                                 SQUANT_RT_FLAG_INT8_ACTIVATIONS};
          EXPECT_EQ(squant_rt_qgemm(x.data(), 1, k, &t.w, y.data(), n,
                                    ws.data(), ws.size(), &opts),
                    SQUANT_RT_UNSUPPORTED)
              << what << ": BLOCK32_V1";
        }
        // TILE16_V2: the codes signed, then unsigned (the VNNI GEMV reads
        // both as unsigned bytes, signed ones in offset binary).
        for (bool isSigned : {true, false}) {
          t.w.is_signed = isSigned;
          if (!isSigned) {
            for (int8_t &c : t.codes)
              c = static_cast<int8_t>(c + (1 << (bits - 1)));
            want = rule();
          }
          t.w.layout = SQUANT_RT_LAYOUT_TILE16_V2;
          finish(t);
          std::string codes = what + (isSigned ? ", signed" : ", unsigned");
          if (vnniTiled) {
            std::vector<float> tiled =
                runQgemm(t, x, 1, SQUANT_RT_ISA_AVX512, nullptr,
                         SQUANT_RT_FLAG_INT8_ACTIVATIONS);
            EXPECT_EQ(std::memcmp(tiled.data(), want.data(), n * 4), 0)
                << codes << ": VNNI TILE16_V2, row 0 " << tiled[0] << " want "
                << want[0];
          }
          if (amx) {
            std::vector<float> tiled =
                runQgemm(t, x, 1, SQUANT_RT_ISA_AMX, nullptr,
                         SQUANT_RT_FLAG_INT8_ACTIVATIONS);
            EXPECT_EQ(std::memcmp(tiled.data(), want.data(), n * 4), 0)
                << codes << ": AMX, row 0 " << tiled[0] << " want " << want[0];
          }
        }
      }
  if (!amx)
    GTEST_SKIP() << "no AMX-INT8 on this CPU: the VNNI kernels' parts ran";
}

//===----------------------------------------------------------------------===//
// bf16 activations (squant_rt_qgemm_bf16)
//===----------------------------------------------------------------------===//

namespace {

uint16_t toBf16(float v) { // round to nearest even (v finite)
  uint32_t bits;
  std::memcpy(&bits, &v, 4);
  bits += 0x7FFFu + ((bits >> 16) & 1u);
  return uint16_t(bits >> 16);
}

float fromBf16(uint16_t v) {
  uint32_t bits = uint32_t(v) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

/// bf16 activations and their exact fp32 values.
struct Bf16X {
  std::vector<uint16_t> bits;
  std::vector<float> wide;
};

Bf16X randomBf16X(int64_t m, int64_t k, std::mt19937 &rng) {
  Bf16X x;
  for (float v : randomX(m, k, rng)) {
    x.bits.push_back(toBf16(v));
    x.wide.push_back(fromBf16(x.bits.back()));
  }
  return x;
}

/// Why an AMX test skips: its path is not run (kNoAmx: for fp32 calls,
/// which take the AVX-512 kernels instead).
const char *const kNoAmxRun =
    "no AMX on this machine (or the kernel refuses its tile state): the AMX "
    "path is not run";
const char *const kNoAmx =
    "no AMX on this machine (or the kernel refuses its tile state): fp32 "
    "calls run the AVX-512 kernels, tested above";

/// The bf16 entry's ISAs: the fp32 ones (x widened) and AMX.
std::vector<squant_rt_isa> bf16Isas() {
  std::vector<squant_rt_isa> isas = availableIsas();
  if (squant_rt_isa_available(SQUANT_RT_ISA_AMX))
    isas.push_back(SQUANT_RT_ISA_AMX);
  return isas;
}

const char *bf16IsaName(squant_rt_isa isa) {
  return isa == SQUANT_RT_ISA_AMX ? "amx" : isaName(isa);
}

std::vector<float> runQgemmBf16(const TestWeight &t,
                                const std::vector<uint16_t> &x, int64_t m,
                                squant_rt_isa isa,
                                squant_rt_pool *pool = nullptr,
                                int64_t xStride = 0) {
  std::vector<float> y(m * t.w.n, NAN); // poisoned
  std::vector<char> ws(squant_rt_qgemm_bf16_workspace_size(m, &t.w) + 1);
  squant_rt_options opts{isa, pool, 0};
  EXPECT_EQ(squant_rt_qgemm_bf16(x.data(), m, xStride ? xStride : t.w.k, &t.w,
                                 y.data(), t.w.n, ws.data(), ws.size(), &opts),
            SQUANT_RT_OK);
  return y;
}

/// `run(pool)` with pools of 2 and 3 threads gives `alone`'s bits.
template <typename Run>
void expectPoolsGive(const std::vector<float> &alone, Run run) {
  for (int32_t threads : {2, 3}) {
    squant_rt_pool *pool = nullptr;
    ASSERT_EQ(squant_rt_pool_create(threads, &pool), SQUANT_RT_OK);
    std::vector<float> pooled = run(pool);
    squant_rt_pool_destroy(pool);
    ASSERT_EQ(
        std::memcmp(pooled.data(), alone.data(), alone.size() * sizeof(float)),
        0)
        << threads << " threads";
  }
}

/// x's m rows of k at a stride past k (the padding `pad`) through
/// `call(xs, xStride, ys, yStride)`, which returns its status: y's rows
/// give `alone`'s bits, and y's padding past n stays untouched.
template <typename T, typename Call>
void expectStridedGive(const std::vector<T> &x, T pad, int64_t m, int64_t k,
                       int64_t n, const std::vector<float> &alone, Call call) {
  int64_t xStride = k + 40, yStride = n + 3;
  std::vector<T> xs(m * xStride, pad);
  for (int64_t i = 0; i < m; ++i)
    std::copy(x.begin() + i * k, x.begin() + (i + 1) * k,
              xs.begin() + i * xStride);
  std::vector<float> ys(m * yStride, -7.0f);
  ASSERT_EQ(call(xs.data(), xStride, ys.data(), yStride), SQUANT_RT_OK);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j)
      ASSERT_EQ(std::memcmp(&ys[i * yStride + j], &alone[i * n + j], 4), 0)
          << i << "," << j;
    for (int64_t j = n; j < yStride; ++j)
      ASSERT_EQ(ys[i * yStride + j], -7.0f) << "padding " << i << "," << j;
  }
}

} // namespace

TEST(Runtime, Bf16ActivationsEveryPath) {
  // Every form, width and ISA: the AMX tiles (FMA and LUT_INT8 forms,
  // M >= 5 for 1- to 4-bit codes in groups of multiples of 128, M >= 17
  // for 8-bit codes in groups of multiples of 64, else M >= 9) and x
  // widened to fp32 for the rest, against the reference on
  // the widened x. Shapes: N ragged (partial tiles of 16 and pairs of 32);
  // M 1, 3 (widened), 6 (AMX or widened), 9, 33, 130 (AMX: one and two
  // pairs of activation tiles, a second M chunk of 128); groups 32, 128
  // and 384 (a group in two K chunks of the AMX kernel).
  std::mt19937 rng(31);
  struct Case {
    int32_t form, bits;
    int64_t g;
  };
  std::vector<Case> cases;
  for (int32_t bits : {2, 3, 4, 8})
    cases.push_back({SQUANT_RT_FORM_FMA, bits, bits == 4 ? 384 : 128});
  cases.push_back({SQUANT_RT_FORM_FMA, 4, 32});
  for (int32_t bits : {1, 2, 3, 4})
    cases.push_back({SQUANT_RT_FORM_LUT_INT8, bits, 64});
  cases.push_back({SQUANT_RT_FORM_LUT_F32, 2, 64});
  for (const Case &c : cases) {
    int64_t n = 1 + rng() % 70,
            k = c.g * (1 + rng() % 2) + (c.g == 32 ? 64 : 0);
    TestWeight t =
        c.form == SQUANT_RT_FORM_FMA
            ? makeFma(c.bits == 8 ? Scheme::IntAsymmetric : Scheme::Tinygemm,
                      c.bits, n, k, c.g, rng)
            : makeLut(squant_rt_form(c.form), c.bits, n, k, c.g, false, rng);
    finish(t);
    for (int64_t m : {1, 3, 6, 9, 33, 130}) {
      Bf16X x = randomBf16X(m, k, rng);
      for (squant_rt_isa isa : bf16Isas()) {
        std::string what =
            std::string(bf16IsaName(isa)) + " form " + std::to_string(c.form) +
            " bits " + std::to_string(c.bits) + " g " + std::to_string(c.g) +
            " n " + std::to_string(n) + " k " + std::to_string(k) + " m " +
            std::to_string(m);
        std::vector<float> y = runQgemmBf16(t, x.bits, m, isa);
        expectClose(t, x.wide, m, y, what);
        // 8-bit codes up to M = 16 and 2- to 4-bit codes in groups of
        // multiples of 64 up to M = 8 are widened on AMX too (for its
        // AMX-INT8 kernel).
        bool widened = (c.bits == 8 && m <= 16) ||
                       (c.bits >= 2 && c.g % 64 == 0 && m <= 8);
        if (isa == SQUANT_RT_ISA_AMX && !widened)
          continue;
        // Widened: exactly squant_rt_qgemm on the fp32 copy.
        std::vector<float> fp32 = runQgemm(t, x.wide, m, isa);
        ASSERT_EQ(std::memcmp(y.data(), fp32.data(), y.size() * sizeof(float)),
                  0)
            << what;
      }
    }
  }
}

TEST(Runtime, Bf16AmxExactInputsAreBitExact) {
  // Small-integer activations and codes, power-of-two scales and biases:
  // the AMX sums are exact, so they equal the fp64 reference bit for bit.
  if (!squant_rt_isa_available(SQUANT_RT_ISA_AMX))
    GTEST_SKIP() << "no AMX-BF16 on this machine (or the kernel refuses its "
                    "tile state): the AMX path is not run; the widened path "
                    "is tested in Bf16ActivationsEveryPath";
  int64_t n = 45, k = 320, g = 64, m = 40;
  std::mt19937 rng(32);
  for (int bits : {1, 2, 3, 4, 8}) {
    TestWeight t = makeExactFma(bits, n, k, g, rng);
    std::vector<uint16_t> x(m * k);
    std::vector<float> xf(m * k);
    for (size_t i = 0; i < x.size(); ++i) {
      xf[i] = float(int(rng() % 9) - 4);
      x[i] = toBf16(xf[i]);
    }
    std::vector<float> y = runQgemmBf16(t, x, m, SQUANT_RT_ISA_AMX);
    std::vector<float> want = exactProduct(t, xf, m);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j)
        ASSERT_EQ(y[i * n + j], want[i * n + j])
            << "bits " << bits << " " << i << "," << j;
  }
}

TEST(Runtime, Bf16AmxBlocking) {
  // The AMX GEMM runs N in blocks of 8 pairs of weight tiles (256 rows), M
  // in chunks of 128 and K in blocks of whole groups of about 4096
  // columns: n = 300 (a second, partial N block), k = 8448 at g = 128
  // (blocks of 4096, 4096, 256) and k = 4608 at g = 384 (3840, 768; a
  // group in two K chunks), m = 33 and 130 (a second M chunk).
  if (!squant_rt_isa_available(SQUANT_RT_ISA_AMX))
    GTEST_SKIP() << kNoAmxRun;
  std::mt19937 rng(36);
  struct Case {
    int64_t k, g, m;
  };
  for (Case c : {Case{8448, 128, 130}, Case{4608, 384, 33}}) {
    TestWeight t = makeFma(Scheme::Tinygemm, 4, 300, c.k, c.g, rng);
    finish(t);
    Bf16X x = randomBf16X(c.m, c.k, rng);
    expectClose(t, x.wide, c.m, runQgemmBf16(t, x.bits, c.m, SQUANT_RT_ISA_AMX),
                "k " + std::to_string(c.k) + " m " + std::to_string(c.m));
  }
}

TEST(Runtime, Bf16AmxThreadsStridesAndSpecialValues) {
  if (!squant_rt_isa_available(SQUANT_RT_ISA_AMX))
    GTEST_SKIP() << kNoAmxRun;
  std::mt19937 rng(33);
  TestWeight t = makeFma(Scheme::Stretched, 4, 75, 512, 128, rng);
  finish(t);
  int64_t m = 50, k = t.w.k, n = t.w.n;
  Bf16X x = randomBf16X(m, k, rng);
  std::vector<float> alone = runQgemmBf16(t, x.bits, m, SQUANT_RT_ISA_AMX);
  expectClose(t, x.wide, m, alone, "amx alone");
  // Threads split rows at multiples of 16; each row's sums are the same.
  expectPoolsGive(alone, [&](squant_rt_pool *pool) {
    return runQgemmBf16(t, x.bits, m, SQUANT_RT_ISA_AMX, pool);
  });
  std::vector<char> ws(squant_rt_qgemm_bf16_workspace_size(m, &t.w));
  squant_rt_options amx{SQUANT_RT_ISA_AMX, nullptr, 0};
  expectStridedGive<uint16_t>(
      x.bits, 0x7FC0, m, k, n, alone,
      [&](const uint16_t *xs, int64_t xStride, float *ys, int64_t yStride) {
        return squant_rt_qgemm_bf16(xs, m, xStride, &t.w, ys, yStride,
                                    ws.data(), ws.size(), &amx);
      });
  // A NaN or an infinity in row 3 makes that row NaN or infinite, and no
  // other row changes.
  for (uint16_t special : {uint16_t(0x7FC0), uint16_t(0x7F80)}) {
    std::vector<uint16_t> xn = x.bits;
    xn[3 * k + 100] = special;
    std::vector<float> y = runQgemmBf16(t, xn, m, SQUANT_RT_ISA_AMX);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        if (i == 3)
          ASSERT_FALSE(std::isfinite(y[i * n + j])) << special << " " << j;
        else
          ASSERT_EQ(std::memcmp(&y[i * n + j], &alone[i * n + j], 4), 0)
              << special;
      }
  }
  // Subnormal activations are read as zero (squant_rt.h): a row of them
  // gives exact zeros on AMX, where the widened path sees their tiny sum;
  // subnormals among normal values change nothing beyond the tolerance.
  std::vector<uint16_t> xd = x.bits;
  std::vector<float> zeroed = x.wide;
  for (int64_t c = 0; c < k; ++c) {
    xd[5 * k + c] = uint16_t(0x0040 | (c % 2 ? 0x8000 : 0)); // +-2^-127
    zeroed[5 * k + c] = 0.0f;
  }
  for (int64_t i = 0; i < m * k; i += 7)
    if (i / k != 5) {
      xd[i] = 0x0001; // 2^-133
      zeroed[i] = 0.0f;
    }
  std::vector<float> yd = runQgemmBf16(t, xd, m, SQUANT_RT_ISA_AMX);
  for (int64_t j = 0; j < n; ++j)
    ASSERT_EQ(yd[5 * n + j], 0.0f) << j;
  expectClose(t, zeroed, m, yd, "subnormal x");
  std::vector<float> widened = runQgemmBf16(t, xd, m, SQUANT_RT_ISA_AVX512);
  int64_t nonzero = 0;
  for (int64_t j = 0; j < n; ++j)
    nonzero += widened[5 * n + j] != 0.0f;
  EXPECT_GT(nonzero, 0) << "the widened path keeps subnormals";
}

TEST(Runtime, Bf16BadArgumentsReturnStatus) {
  std::mt19937 rng(34);
  TestWeight t = makeFma(Scheme::Symmetric, 4, 4, 64, 32, rng);
  finish(t);
  std::vector<uint16_t> x(20 * 64);
  std::vector<float> y(20 * 4);
  std::vector<char> ws(squant_rt_qgemm_bf16_workspace_size(20, &t.w));
  ASSERT_GE(ws.size(), squant_rt_qgemm_workspace_size(20, &t.w));
  auto call = [&](int64_t m, const squant_rt_options *o, size_t wsSize) {
    return squant_rt_qgemm_bf16(x.data(), m, 64, &t.w, y.data(), 4, ws.data(),
                                wsSize, o);
  };
  EXPECT_EQ(call(20, nullptr, ws.size()), SQUANT_RT_OK);
  EXPECT_EQ(call(20, nullptr, ws.size() - 1), SQUANT_RT_BUFFER_TOO_SMALL);
  squant_rt_options badIsa{5, nullptr, 0},
      badFlags{SQUANT_RT_ISA_AUTO, nullptr, 0x80};
  EXPECT_EQ(call(20, &badIsa, ws.size()), SQUANT_RT_INVALID_ARGUMENT);
  EXPECT_EQ(call(20, &badFlags, ws.size()), SQUANT_RT_INVALID_ARGUMENT);
  if (!squant_rt_isa_available(SQUANT_RT_ISA_AMX)) {
    squant_rt_options amx{SQUANT_RT_ISA_AMX, nullptr, 0};
    EXPECT_EQ(call(20, &amx, ws.size()), SQUANT_RT_ISA_UNAVAILABLE);
  }
  EXPECT_EQ(squant_rt_qgemm_bf16(nullptr, 20, 64, &t.w, y.data(), 4, ws.data(),
                                 ws.size(), nullptr),
            SQUANT_RT_INVALID_ARGUMENT);
  EXPECT_EQ(squant_rt_qgemm_bf16(x.data(), 20, 32, &t.w, y.data(), 4, ws.data(),
                                 ws.size(), nullptr),
            SQUANT_RT_INVALID_ARGUMENT); // x_stride < k
  squant_rt_qweight bad = t.w;
  bad.bias = nullptr;
  EXPECT_EQ(squant_rt_qgemm_bf16(x.data(), 20, 64, &bad, y.data(), 4, ws.data(),
                                 ws.size(), nullptr),
            SQUANT_RT_INVALID_ARGUMENT);
  // The int8-activation mode widens first and keeps its own limits (M = 1).
  squant_rt_options int8{SQUANT_RT_ISA_AUTO, nullptr,
                         SQUANT_RT_FLAG_INT8_ACTIVATIONS};
  EXPECT_EQ(call(20, &int8, ws.size()), SQUANT_RT_UNSUPPORTED);
  EXPECT_EQ(squant_rt_qgemm_bf16(x.data(), 0, 64, &t.w, y.data(), 4, nullptr, 0,
                                 nullptr),
            SQUANT_RT_OK);
}

//===----------------------------------------------------------------------===//
// fp32 activations on AMX (each row in three bf16 parts)
//===----------------------------------------------------------------------===//

namespace {

/// Row `tiny` of x times 2^-100, row `subnormal` random multiples of
/// 2^-149 (the rows the AMX paths scale by a power of two).
void makeTinyRows(std::vector<float> &x, int64_t k, int64_t tiny,
                  int64_t subnormal, std::mt19937 &rng) {
  for (int64_t c = 0; c < k; ++c) {
    x[tiny * k + c] = x[tiny * k + c] * 0x1p-100f;
    x[subnormal * k + c] = float(int(rng() % 200) - 100) * 0x1p-149f;
  }
}

/// ISA AMX on x within the tolerance, row `tiny` of y nonzero, and the
/// same bits on pools, through AUTO (or, where AUTO runs another kernel,
/// the bits of ISA autoRuns) and at strides (over a workspace poisoned
/// with NaNs: the kernels read only what they wrote). Returns y.
std::vector<float>
expectAmxEverywhere(const TestWeight &t, const std::vector<float> &x, int64_t m,
                    int64_t tiny, const std::string &what,
                    squant_rt_isa autoRuns = SQUANT_RT_ISA_AMX) {
  int64_t k = t.w.k, n = t.w.n;
  std::vector<float> alone = runQgemm(t, x, m, SQUANT_RT_ISA_AMX);
  expectClose(t, x, m, alone, what);
  for (int64_t j = 0; j < n; ++j)
    EXPECT_NE(alone[tiny * n + j], 0.0f) << what << ": tiny row " << j;
  expectPoolsGive(alone, [&](squant_rt_pool *pool) {
    return runQgemm(t, x, m, SQUANT_RT_ISA_AMX, pool);
  });
  std::vector<float> autoIsa = runQgemm(t, x, m, SQUANT_RT_ISA_AUTO);
  std::vector<float> autoWant =
      autoRuns == SQUANT_RT_ISA_AMX ? alone : runQgemm(t, x, m, autoRuns);
  EXPECT_EQ(std::memcmp(autoIsa.data(), autoWant.data(), alone.size() * 4), 0)
      << what << ": AUTO";
  std::vector<char> ws(squant_rt_qgemm_workspace_size(m, &t.w), char(0xFF));
  squant_rt_options amx{SQUANT_RT_ISA_AMX, nullptr, 0};
  expectStridedGive<float>(
      x, NAN, m, k, n, alone,
      [&](const float *xs, int64_t xStride, float *ys, int64_t yStride) {
        return squant_rt_qgemm(xs, m, xStride, &t.w, ys, yStride, ws.data(),
                               ws.size(), &amx);
      });
  return alone;
}

/// A NaN whose payload lies only in the low 16 bits (which a bf16 split
/// must keep a NaN).
float lowNan() {
  uint32_t bits = 0x7F800001u;
  float v;
  std::memcpy(&v, &bits, 4);
  return v;
}

/// x with a NaN, lowNan(), an infinity or 1e30 at row 3, column col, on
/// ISA AMX: that row NaN, non-finite or finite, every other row `alone`'s
/// bits.
void expectSpecialXStaysInItsRow(const TestWeight &t,
                                 const std::vector<float> &x, int64_t m,
                                 int64_t col, const std::vector<float> &alone) {
  int64_t k = t.w.k, n = t.w.n;
  for (float special : {NAN, lowNan(), INFINITY, 1e30f}) {
    std::vector<float> xn = x;
    xn[3 * k + col] = special;
    std::vector<float> y = runQgemm(t, xn, m, SQUANT_RT_ISA_AMX);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        float v = y[i * n + j];
        if (i != 3)
          ASSERT_EQ(std::memcmp(&v, &alone[i * n + j], 4), 0) << special;
        else if (std::isnan(special))
          ASSERT_TRUE(std::isnan(v)) << j;
        else if (std::isinf(special))
          ASSERT_FALSE(std::isfinite(v)) << j;
        else
          ASSERT_TRUE(std::isfinite(v)) << j;
      }
  }
}

/// ISA AMX within the tolerance, and not the AVX-512 kernels' bits: the
/// AMX path ran.
void expectAmxPathClose(const TestWeight &t, const std::vector<float> &x,
                        int64_t m, const std::string &what) {
  std::vector<float> y = runQgemm(t, x, m, SQUANT_RT_ISA_AMX);
  expectClose(t, x, m, y, what);
  std::vector<float> v = runQgemm(t, x, m, SQUANT_RT_ISA_AVX512);
  EXPECT_NE(std::memcmp(y.data(), v.data(), y.size() * sizeof(float)), 0)
      << what << ": the same bits as the AVX-512 kernels";
}

} // namespace

TEST(Runtime, Fp32AmxEveryForm) {
  // FMA and LUT_INT8 forms at every width through the AMX tiles, against
  // the reference: M 5 and 8 (parts of 5 or 8 rows padded to 32 tile rows;
  // the four-block decode only below 9), 9, 33 and 70 (M chunks of 32
  // rows: a second and a third, partial); groups 128 and 384 (the
  // four-block decode), 32 and 64 (one block at a time). Each result also
  // differs from the AVX-512 kernels' somewhere: the other path ran.
  if (!squant_rt_isa_available(SQUANT_RT_ISA_AMX))
    GTEST_SKIP() << kNoAmx;
  std::mt19937 rng(37);
  struct Case {
    int32_t form, bits;
    int64_t g;
  };
  std::vector<Case> cases;
  for (int32_t bits : {1, 2, 3, 4, 8})
    cases.push_back({SQUANT_RT_FORM_FMA, bits, bits == 4 ? 384 : 128});
  cases.push_back({SQUANT_RT_FORM_FMA, 4, 32});
  cases.push_back({SQUANT_RT_FORM_FMA, 2, 64});
  for (int32_t bits : {1, 2, 3, 4})
    cases.push_back({SQUANT_RT_FORM_LUT_INT8, bits, bits == 2 ? 64 : 128});
  for (const Case &c : cases) {
    int64_t n = 1 + rng() % 70,
            k = c.g * (1 + rng() % 2) + (c.g < 128 ? 128 : 0);
    TestWeight t =
        c.form == SQUANT_RT_FORM_FMA
            ? makeFma(c.bits == 8 ? Scheme::IntAsymmetric : Scheme::Tinygemm,
                      c.bits, n, k, c.g, rng)
            : makeLut(squant_rt_form(c.form), c.bits, n, k, c.g, false, rng);
    finish(t);
    bool wide = c.bits <= 4 && c.g % 128 == 0;
    for (int64_t m : {5, 8, 9, 33, 70}) {
      if (m < 9 && !wide)
        continue;
      std::vector<float> x = randomX(m, k, rng);
      std::string what = "form " + std::to_string(c.form) + " bits " +
                         std::to_string(c.bits) + " g " + std::to_string(c.g) +
                         " n " + std::to_string(n) + " k " + std::to_string(k) +
                         " m " + std::to_string(m);
      expectAmxPathClose(t, x, m, what);
    }
  }
}

TEST(Runtime, Fp32AmxPartsAreExact) {
  // One nonzero activation per row (24 significant bits), 4-bit codes,
  // power-of-two scales, no bias: the parts' products are exact, the first
  // two parts' sum too, and adding the third rounds once, as the reference
  // does. So every output is the reference bit for bit, also for rows the
  // path scales by a power of two (largest value below 2^-40, subnormals
  // included) and near fp32's largest values; a dropped or truncated part
  // shows.
  if (!squant_rt_isa_available(SQUANT_RT_ISA_AMX))
    GTEST_SKIP() << kNoAmxRun;
  std::mt19937 rng(38);
  int64_t n = 40, k = 256, g = 128, groups = k / g;
  for (int bits : {2, 3, 4}) {
    TestWeight t = makeExactFma(bits, n, k, g, rng);
    std::fill(t.bias.begin(), t.bias.end(), 0.0f);
    // Up to M = 32 these codes take AMX-INT8 (tested below).
    for (int64_t m : {33, 40}) {
      std::vector<float> x(m * k, 0.0f);
      std::vector<int64_t> col(m);
      for (int64_t i = 0; i < m; ++i) {
        col[i] = rng() % k;
        // 1.m * 2^e with a full 23-bit fraction; the exponents cover the
        // scaled rows (2^-60, 2^-100, subnormal 2^-135) and 2^120.
        static const int exponents[] = {0, -5, 9, -60, -100, -135, 120};
        float v = std::ldexp(1.0f + float(rng() % (1u << 23)) * 0x1p-23f,
                             exponents[i % 7]);
        x[i * k + col[i]] = i % 2 ? -v : v;
      }
      std::vector<float> y = runQgemm(t, x, m, SQUANT_RT_ISA_AMX);
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          int64_t c = col[i];
          double want = double(x[i * k + c]) * double(t.codes[j * k + c]) *
                        double(t.scales[j * groups + c / g]);
          ASSERT_EQ(y[i * t.w.n + j], float(want))
              << "bits " << bits << " m " << m << " row " << i << " x "
              << x[i * k + c] << " n " << j;
        }
    }
  }
}

TEST(Runtime, Fp32AmxThreadsStridesAndSpecialValues) {
  if (!squant_rt_isa_available(SQUANT_RT_ISA_AMX))
    GTEST_SKIP() << kNoAmxRun;
  std::mt19937 rng(39);
  TestWeight t = makeFma(Scheme::Stretched, 4, 75, 512, 128, rng);
  finish(t);
  int64_t m = 40, k = t.w.k, n = t.w.n;
  std::vector<float> x = randomX(m, k, rng);
  // A row of tiny values (scaled by 2^100 on the tiles) and one of
  // subnormals (2^149), within the tolerance relative to their size.
  makeTinyRows(x, k, 6, 7, rng);
  std::vector<float> alone = expectAmxEverywhere(t, x, m, 6, "amx");
  // Special values in x stay in their row (an infinity makes it NaN where
  // a group's sum meets a zero code, as in the factorized GEMV).
  expectSpecialXStaysInItsRow(t, x, m, 100, alone);
  // lowNan() alone in a row of zeros: NaN everywhere (as an infinity it
  // would give infinities where its code, scale and bias agree in sign:
  // signed codes and biases of either sign).
  TestWeight e = makeExactFma(4, n, k, 128, rng);
  std::vector<float> xz(8 * k, 0.0f);
  xz[4 * k + 200] = lowNan();
  std::vector<float> yz = runQgemm(e, xz, 8, SQUANT_RT_ISA_AMX);
  for (int64_t j = 0; j < n; ++j)
    ASSERT_TRUE(std::isnan(yz[4 * n + j])) << j << ": " << yz[4 * n + j];
}

TEST(Runtime, Fp32AmxBelowItsRowsRunsAvx512) {
  // Below the AMX path's rows (2 for 2- to 8-bit codes in groups of
  // multiples of 64, 5 for the four-block decode of 1-bit codes in groups
  // of multiples of 128, else 9) and for forms it does not take, ISA AMX
  // runs the AVX-512 kernels: the same bits. Unforced, groups of 32 run
  // them at every M.
  if (!squant_rt_isa_available(SQUANT_RT_ISA_AMX))
    GTEST_SKIP() << "no AMX-BF16 on this machine: nothing to compare";
  EXPECT_EQ(squant_rt_best_isa(), SQUANT_RT_ISA_AMX);
  std::mt19937 rng(35);
  TestWeight four = makeFma(Scheme::Tinygemm, 4, 37, 256, 128, rng);
  finish(four);
  TestWeight three = makeFma(Scheme::Tinygemm, 3, 37, 256, 32, rng);
  finish(three);
  // 8-bit codes in groups of 32 (the AMX-INT8 kernel takes multiples of
  // 64; the AMX-BF16 split, M >= 9).
  TestWeight eight = makeFma(Scheme::IntAsymmetric, 8, 37, 256, 32, rng);
  finish(eight);
  TestWeight lut = makeLut(SQUANT_RT_FORM_LUT_F32, 4, 37, 256, 128, true, rng);
  finish(lut);
  struct Case {
    const TestWeight *t;
    int64_t m;
  };
  TestWeight eight128 = makeFma(Scheme::IntAsymmetric, 8, 37, 256, 128, rng);
  finish(eight128);
  // 4-bit codes in groups of 32 (no AMX-INT8; one-block decode from 9).
  TestWeight four32 = makeFma(Scheme::Tinygemm, 4, 37, 256, 32, rng);
  finish(four32);
  for (Case c : {Case{&four, 1}, Case{&four32, 4}, Case{&three, 8},
                 Case{&eight, 8}, Case{&eight128, 1}, Case{&lut, 40}}) {
    std::vector<float> x = randomX(c.m, 256, rng);
    std::vector<float> a = runQgemm(*c.t, x, c.m, SQUANT_RT_ISA_AMX);
    std::vector<float> b = runQgemm(*c.t, x, c.m, SQUANT_RT_ISA_AVX512);
    ASSERT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0)
        << c.t->w.bits << " bits, m " << c.m;
  }
  // Groups of 32 at M = 9 to 31: ISA AMX runs the AMX-BF16 split, unforced
  // calls the AVX-512 GEMM (faster there); groups of 64 stay on AMX.
  TestWeight four64 = makeFma(Scheme::Tinygemm, 4, 37, 256, 64, rng);
  finish(four64);
  for (const TestWeight *t : {&four32, &eight, &four64})
    for (int64_t m : {9, 31}) {
      std::vector<float> x = randomX(m, 256, rng);
      std::vector<float> forced = runQgemm(*t, x, m, SQUANT_RT_ISA_AMX);
      std::vector<float> avx512 = runQgemm(*t, x, m, SQUANT_RT_ISA_AVX512);
      std::vector<float> unforced = runQgemm(*t, x, m, SQUANT_RT_ISA_AUTO);
      std::string what = std::to_string(t->w.bits) + " bits, group " +
                         std::to_string(t->w.group_size) + ", m " +
                         std::to_string(m);
      expectClose(*t, x, m, forced, what);
      EXPECT_NE(std::memcmp(forced.data(), avx512.data(), forced.size() * 4), 0)
          << what << ": ISA AMX ran the AVX-512 kernels";
      const std::vector<float> &want = t->w.group_size == 32 ? avx512 : forced;
      EXPECT_EQ(std::memcmp(unforced.data(), want.data(), want.size() * 4), 0)
          << what << ": AUTO";
    }
}

//===----------------------------------------------------------------------===//
// fp32 activations on AMX-BF16 with folded weights (gemm_amx_folded.c):
// groups of 32 from M = 32, of 64 and 96 from M = 48, of 128 from M = 96
// (8-bit codes), 128 (3-bit) or 256 (2- and 4-bit), the exact weights and x
// in three bf16 parts each, six of the nine products
//===----------------------------------------------------------------------===//

TEST(Runtime, Fp32AmxFoldedEveryForm) {
  // Every form and width in groups of 32, 64 and 96, and 2-, 3-, 4- and
  // 8-bit codes in groups of 128 (a group of four blocks; x in the
  // single-block lane order there too): M = 40 (groups of 32 only; the
  // others from 48) and 48 (a chunk of 32 rows and one of 8 or 16 padded to
  // 32), 96, 130 (five chunks, the last of 2 rows), 260 (two passes of five
  // and four chunks; the only M of 2- and 4-bit codes in groups of 128).
  // Within the
  // tolerance, not the AVX-512 kernels' bits (the AMX path ran), and AUTO runs
  // it too (the same bits); at M = 31 AUTO leaves groups of 32 to the AVX-512
  // GEMM.
  if (!squant_rt_isa_available(SQUANT_RT_ISA_AMX))
    GTEST_SKIP() << kNoAmx;
  std::mt19937 rng(41);
  struct Case {
    int32_t form, bits;
    int64_t g;
    bool perRow;
  };
  std::vector<Case> cases;
  for (int32_t bits : {1, 2, 3, 4, 8})
    cases.push_back({SQUANT_RT_FORM_FMA, bits, bits == 3 ? 96 : 32, false});
  cases.push_back({SQUANT_RT_FORM_FMA, 4, 64, false});
  for (int32_t bits : {2, 3, 4, 8})
    cases.push_back({SQUANT_RT_FORM_FMA, bits, 128, false});
  for (int32_t bits : {1, 2, 3, 4})
    cases.push_back(
        {SQUANT_RT_FORM_LUT_INT8, bits, bits == 2 ? 64 : 32, false});
  cases.push_back({SQUANT_RT_FORM_LUT_F32, 4, 32, false});
  cases.push_back({SQUANT_RT_FORM_LUT_F32, 2, 64, true});
  for (const Case &c : cases) {
    int64_t n = 1 + rng() % 70, k = c.g * (2 + rng() % 3);
    TestWeight t =
        c.form == SQUANT_RT_FORM_FMA
            ? makeFma(c.bits == 8 ? Scheme::IntAsymmetric
                      : c.g == 64 ? Scheme::Stretched
                                  : Scheme::Tinygemm,
                      c.bits, n, k, c.g, rng)
            : makeLut(squant_rt_form(c.form), c.bits, n, k, c.g, c.perRow, rng);
    finish(t);
    // The M from which the folded kernel takes the case (api.c).
    int64_t from = c.g == 32     ? 32
                   : c.g != 128  ? 48
                   : c.bits == 8 ? 96
                   : c.bits == 3 ? 128
                                 : 256;
    for (int64_t m : {40, 48, 96, 130, 260}) {
      if (m < from)
        continue;
      std::vector<float> x = randomX(m, k, rng);
      std::string what = "form " + std::to_string(c.form) + " bits " +
                         std::to_string(c.bits) + " g " + std::to_string(c.g) +
                         " n " + std::to_string(n) + " k " + std::to_string(k) +
                         " m " + std::to_string(m);
      expectAmxPathClose(t, x, m, what);
      std::vector<float> forced = runQgemm(t, x, m, SQUANT_RT_ISA_AMX);
      std::vector<float> unforced = runQgemm(t, x, m, SQUANT_RT_ISA_AUTO);
      EXPECT_EQ(std::memcmp(forced.data(), unforced.data(), forced.size() * 4),
                0)
          << what << ": AUTO";
    }
  }
  TestWeight four32 = makeFma(Scheme::Tinygemm, 4, 37, 256, 32, rng);
  finish(four32);
  std::vector<float> x = randomX(31, 256, rng);
  std::vector<float> unforced = runQgemm(four32, x, 31, SQUANT_RT_ISA_AUTO);
  std::vector<float> avx512 = runQgemm(four32, x, 31, SQUANT_RT_ISA_AVX512);
  EXPECT_EQ(std::memcmp(unforced.data(), avx512.data(), avx512.size() * 4), 0)
      << "M = 31, group 32: AUTO";
}

TEST(Runtime, Fp32AmxFoldedRowsDoNotDependOnM) {
  // Every row takes the same tile products in the same order, in whichever
  // chunk, pass over the weight and K blocking it lies: of M = 300 (two
  // passes of 160 and 140 rows, K blocks of 768 columns), rows 0-36 as
  // M = 37 (one pass, K in one block), rows 98-129 as M = 32, rows 150-189
  // (across the passes' boundary) as M = 40, rows 268-299 as M = 32, the
  // same bits.
  if (!squant_rt_isa_available(SQUANT_RT_ISA_AMX))
    GTEST_SKIP() << kNoAmxRun;
  std::mt19937 rng(44);
  TestWeight t = makeFma(Scheme::Stretched, 4, 70, 1024, 32, rng);
  finish(t);
  int64_t n = t.w.n, k = t.w.k;
  std::vector<float> x = randomX(300, k, rng);
  std::vector<float> all = runQgemm(t, x, 300, SQUANT_RT_ISA_AMX);
  expectClose(t, x, 300, all, "M = 300");
  for (auto [first, m] :
       {std::pair<int64_t, int64_t>{0, 37}, {98, 32}, {150, 40}, {268, 32}}) {
    std::vector<float> part(x.begin() + first * k, x.begin() + (first + m) * k);
    std::vector<float> y = runQgemm(t, part, m, SQUANT_RT_ISA_AMX);
    EXPECT_EQ(std::memcmp(y.data(), all.data() + first * n, y.size() * 4), 0)
        << "rows " << first << " to " << first + m - 1;
  }
}

TEST(Runtime, Fp32AmxFoldedProductsAreTheStatedOnes) {
  // One nonzero activation per row and fp32 table weights (LUT_F32, a
  // table per row), M = 90 (the last chunk padded): y = x w up to the three
  // left-out products, each below 2^-22 |x w|.
  // - x a power of two (x = hi): all three parts of w count, y = x w
  //   exactly;
  // - x of 16 significant bits (hi + mid) and w of 8 (hi): y = x w
  //   exactly (x_mid w_hi counts);
  // - both of 24 significant bits: |y - x w| <= 2^-21 |x w| (without x_mid
  //   w_mid or x_lo w_hi it would reach 2^-14 or 2^-15), give or take
  //   y's rounding where x w is subnormal.
  // Rows scaled by the path's powers of two (largest value below 2^-40,
  // subnormals included) and values near 2^120 take the same.
  if (!squant_rt_isa_available(SQUANT_RT_ISA_AMX))
    GTEST_SKIP() << kNoAmxRun;
  std::mt19937 rng(42);
  int64_t n = 40, k = 256, m = 90, entries = 16;
  auto significand = [&](int bits) {
    // 1.f with a random `bits - 1`-bit fraction f.
    return 1.0f + std::ldexp(float(rng() % (1u << (bits - 1))), 1 - bits);
  };
  static const int exponents[] = {0, -5, 9, -60, -100, -135, 120};
  for (int kind = 0; kind < 3; ++kind) {
    TestWeight t = makeLut(SQUANT_RT_FORM_LUT_F32, 4, n, k, 32, true, rng);
    for (float &v : t.ftable)
      v = std::ldexp(significand(kind == 1 ? 8 : 24), int(rng() % 9) - 4) *
          (rng() % 2 ? -1.0f : 1.0f);
    finish(t);
    std::vector<float> x(m * k, 0.0f);
    std::vector<int64_t> col(m);
    for (int64_t i = 0; i < m; ++i) {
      col[i] = rng() % k;
      float v = std::ldexp(kind == 0 ? 1.0f : significand(kind == 1 ? 16 : 24),
                           exponents[i % 7]);
      x[i * k + col[i]] = i % 2 ? -v : v;
    }
    std::vector<float> y = runQgemm(t, x, m, SQUANT_RT_ISA_AMX);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        int64_t c = col[i];
        double want = double(x[i * k + c]) *
                      double(t.ftable[j * entries + t.codes[j * k + c]]);
        std::string what = "kind " + std::to_string(kind) + " row " +
                           std::to_string(i) + " n " + std::to_string(j);
        if (kind < 2)
          ASSERT_EQ(y[i * n + j], float(want)) << what;
        else // plus y's own rounding where x w is subnormal
          ASSERT_LE(std::fabs(double(y[i * n + j]) - want),
                    std::ldexp(std::fabs(want), -21) + 0x1p-149)
              << what;
      }
  }
}

TEST(Runtime, Fp32AmxFoldedBlockingThreadsAndSpecialValues) {
  // N = 600 (two N blocks of 16 tile pairs, the second ending in a partial
  // pair), K = 1184 (for a pass of 160 rows K blocks of 768 and 416: K
  // chunks of 128 and a last of 32), M = 150 (one pass of five chunks of
  // 32 rows, the last of 22): within the
  // tolerance, a row of tiny values and one of subnormals nonzero, the same
  // bits on 2 and 3 threads, through AUTO and at strides.
  if (!squant_rt_isa_available(SQUANT_RT_ISA_AMX))
    GTEST_SKIP() << kNoAmxRun;
  std::mt19937 rng(43);
  TestWeight t = makeFma(Scheme::Stretched, 4, 600, 1184, 32, rng);
  finish(t);
  int64_t m = 150, k = t.w.k;
  std::vector<float> x = randomX(m, k, rng);
  makeTinyRows(x, k, 6, 140, rng);
  std::vector<float> alone = expectAmxEverywhere(t, x, m, 6, "folded");
  expectSpecialXStaysInItsRow(t, x, m, 1000, alone);
  // Non-finite weights: a table entry of row 3 a NaN with its payload in
  // the low 16 bits, one of row 4 an infinity (LUT_F32, a table per row,
  // every entry used by every row): their columns NaN and infinite, the
  // others as before. The infinity, used at column 2 only, meets x values
  // of three nonzero parts there, so its column is the infinity with x's
  // sign: split whole into (inf, 0, 0), no part product is an infinity
  // times zero. Where x there is a power of two (mid and lo zero), x_mid
  // w_hi = 0 inf makes it NaN (runtime/README.md).
  TestWeight lut = makeLut(SQUANT_RT_FORM_LUT_F32, 2, 24, 256, 32, true, rng);
  for (int64_t r = 0; r < 24; ++r)
    for (int e = 0; e < 4; ++e)
      lut.codes[r * 256 + e] = int8_t(e);
  for (int64_t c = 4; c < 256; ++c) // row 4's entry 2 at column 2 only
    if (lut.codes[4 * 256 + c] == 2)
      lut.codes[4 * 256 + c] = 3;
  packCodes(lut, SQUANT_RT_LAYOUT_BLOCK32_V1, 24, 256, 2);
  finish(lut);
  std::vector<float> xl = randomX(72, 256, rng);
  for (int64_t i = 0; i < 72; ++i)
    xl[i * 256 + 2] = std::ldexp(i % 2 ? -1.0f : 1.0f, int(i % 5)) *
                      (i % 6 == 5 ? 1.0f : 1.0f + 0x1p-10f + 0x1p-20f);
  std::vector<float> before = runQgemm(lut, xl, 72, SQUANT_RT_ISA_AMX);
  lut.ftable[3 * 4 + 1] = lowNan();
  lut.ftable[4 * 4 + 2] = INFINITY;
  std::vector<float> after = runQgemm(lut, xl, 72, SQUANT_RT_ISA_AMX);
  for (int64_t i = 0; i < 72; ++i)
    for (int64_t j = 0; j < 24; ++j) {
      float v = after[i * 24 + j];
      if (j == 3)
        ASSERT_TRUE(std::isnan(v)) << i;
      else if (j == 4 && i % 6 == 5) // x_mid = 0: x_mid w_hi = 0 inf
        ASSERT_TRUE(std::isnan(v)) << i;
      else if (j == 4)
        ASSERT_EQ(v, xl[i * 256 + 2] > 0 ? INFINITY : -INFINITY) << i;
      else
        ASSERT_EQ(std::memcmp(&v, &before[i * 24 + j], 4), 0) << i << "," << j;
    }
}

//===----------------------------------------------------------------------===//
// fp32 activations for 8-bit codes on AMX-INT8 (each group of a row in int8
// parts times powers of two)
//===----------------------------------------------------------------------===//

namespace {

/// The b-bit weight of `codes` (signed or not), power-of-two scales and
/// zero biases, so that y = s * sum q x per group.
TestWeight makeCodesExact(const std::vector<int8_t> &codes, int bits,
                          bool isSigned, int64_t n, int64_t k, int64_t g,
                          std::mt19937 &rng) {
  TestWeight t;
  t.codes = codes;
  packCodes(t, SQUANT_RT_LAYOUT_BLOCK32_V1, n, k, bits);
  t.scales.resize(n * (k / g));
  for (float &s : t.scales)
    s = std::ldexp(1.0f, int(rng() % 9) - 4);
  t.bias.assign(n * (k / g), 0.0f);
  t.w = fmaBlock32(bits, isSigned, n, k, g);
  finish(t);
  return t;
}

} // namespace

TEST(Runtime, Fp32AmxInt8EveryShape) {
  // 8-, 4-, 3- and 2-bit codes, unsigned (tinygemm's float zero points) and
  // signed (int asymmetric, symmetric), and 4-, 3- and 2-bit LUT_INT8 codes, in
  // groups of 64, 128, 256 (one, two and
  // four 64-column steps per group) and, 4-bit, 512 (eight, the most);
  // M 2..32 (tile lanes of 4 rows by 4 parts, 8 by 2, 16 by 1, padding
  // rows; from 17 a second block of 16 rows); N ragged (a last weight tile
  // of fewer than 16 rows, or none but a second). Against the reference,
  // and not the AVX-512 kernels' bits.
  if (!squant_rt_isa_available(SQUANT_RT_ISA_AMX))
    GTEST_SKIP() << kNoAmx;
  std::mt19937 rng(41);
  for (int bits : {8, 4, 3, 2})
    for (Scheme scheme :
         {Scheme::Tinygemm, Scheme::IntAsymmetric, Scheme::Symmetric})
      for (int64_t g : {64, 128, 256, 512}) {
        if ((bits == 8 && g == 512) || (bits <= 3 && g == 256))
          continue;
        int64_t n = 1 + rng() % 70, k = g * (1 + rng() % 3);
        if (g == 128)
          n = 16 * (1 + rng() % 3) + 1;
        TestWeight t = makeFma(scheme, bits, n, k, g, rng);
        finish(t);
        for (int64_t m : {2, 3, 4, 5, 8, 9, 13, 16, 17, 27, 32}) {
          std::vector<float> x = randomX(m, k, rng);
          std::string what = "bits " + std::to_string(bits) + " scheme " +
                             std::to_string(int(scheme)) + " g " +
                             std::to_string(g) + " n " + std::to_string(n) +
                             " k " + std::to_string(k) + " m " +
                             std::to_string(m);
          expectAmxPathClose(t, x, m, what);
        }
      }
  // 4-, 3- and 2-bit LUT_INT8 codes: the int8 table's entries as the tile
  // bytes.
  for (int bits : {4, 3, 2})
    for (int64_t g : {64, 128, 256}) {
      int64_t n = 1 + rng() % 70, k = g * (1 + rng() % 3);
      TestWeight t =
          makeLut(SQUANT_RT_FORM_LUT_INT8, bits, n, k, g, false, rng);
      finish(t);
      for (int64_t m : {2, 5, 8, 16, 19, 32})
        expectAmxPathClose(t, randomX(m, k, rng), m,
                           "lut" + std::to_string(bits) + " g " +
                               std::to_string(g) + " n " + std::to_string(n) +
                               " m " + std::to_string(m));
    }
}

TEST(Runtime, Fp32AmxInt8KeepsSmallValuesBesideLargeOnes) {
  // 8-, 4-, 3- and 2-bit codes. Each row holds, in one group, a large value
  // a (a
  // full 24-bit
  // significand: four parts) and a small one b (7 bits, 25 to 60 binades
  // below: a fifth part of its own, where one exponent per group would
  // drop it). Where a's code is 0 (even weight rows), y = s q_b b exactly:
  // bit for bit. Elsewhere y is within a few roundings of the exact
  // value. Rows below 2^-40 (scaled on the way) and subnormal b included.
  if (!squant_rt_isa_available(SQUANT_RT_ISA_AMX))
    GTEST_SKIP() << kNoAmx;
  std::mt19937 rng(42);
  int64_t n = 37, k = 256, g = 128;
  for (int bits : {8, 4, 3, 2})
    for (bool isSigned : {false, true})
      for (int64_t m : {3, 8, 12, 22}) {
        std::vector<int64_t> colA(m), colB(m);
        std::vector<float> x(m * k, 0.0f);
        static const int exponents[][2] = {{0, -25},     {9, -40},
                                           {-3, -60},    {-60, -100},
                                           {-110, -135}, {100, 60}};
        for (int64_t i = 0; i < m; ++i) {
          int64_t group = rng() % (k / g);
          colA[i] = group * g + rng() % g;
          do
            colB[i] = group * g + rng() % g;
          while (colB[i] == colA[i]);
          const int *e = exponents[i % 6];
          float a =
              std::ldexp(1.0f + float(rng() % (1u << 23)) * 0x1p-23f, e[0]);
          float b = std::ldexp(float(64 + rng() % 64), e[1] - 6);
          x[i * k + colA[i]] = rng() % 2 ? -a : a;
          x[i * k + colB[i]] = rng() % 2 ? -b : b;
        }
        std::vector<int8_t> codes(n * k);
        int levels = 1 << bits;
        for (int8_t &c : codes)
          c = static_cast<int8_t>(isSigned ? int(rng() % levels) - levels / 2
                                           : int(1 + rng() % (levels - 1)));
        for (int64_t j = 0; j < n; j += 2)
          for (int64_t i = 0; i < m; ++i)
            codes[j * k + colA[i]] = 0;
        TestWeight t = makeCodesExact(codes, bits, isSigned, n, k, g, rng);
        std::vector<float> y = runQgemm(t, x, m, SQUANT_RT_ISA_AMX);
        for (int64_t i = 0; i < m; ++i)
          for (int64_t j = 0; j < n; ++j) {
            auto code = [&](int64_t c) {
              int8_t v = codes[j * k + c];
              return isSigned ? double(v) : double(uint8_t(v));
            };
            double s = t.scales[j * (k / g) + colA[i] / g];
            double termA = s * code(colA[i]) * double(x[i * k + colA[i]]);
            double termB = s * code(colB[i]) * double(x[i * k + colB[i]]);
            std::string what = "bits " + std::to_string(bits) + " signed " +
                               std::to_string(isSigned) + " m " +
                               std::to_string(m) + " row " + std::to_string(i) +
                               " n " + std::to_string(j);
            if (j % 2 == 0) {
              ASSERT_EQ(y[i * n + j], float(termB)) << what;
            } else {
              double tol = 16 * 0x1p-24 * (std::fabs(termA) + std::fabs(termB));
              ASSERT_LE(std::fabs(double(y[i * n + j]) - (termA + termB)), tol)
                  << what;
            }
          }
      }
}

TEST(Runtime, Fp32AmxInt8ThreadsStridesAndFallbacks) {
  if (!squant_rt_isa_available(SQUANT_RT_ISA_AMX))
    GTEST_SKIP() << kNoAmx;
  std::mt19937 rng(43);
  TestWeight t = makeFma(Scheme::IntAsymmetric, 8, 75, 512, 128, rng);
  finish(t);
  int64_t m = 8, k = t.w.k;
  std::vector<float> x = randomX(m, k, rng);
  // A row of tiny values (scaled by 2^100 on the way), one of subnormals
  // (2^149) and one with 2^-149 beside 1 (below the parts' last unit:
  // dropped), all within the tolerance.
  makeTinyRows(x, k, 5, 6, rng);
  x[7 * k + 3] = 1.0f;
  x[7 * k + 4] = 0x1p-149f;
  // A group zero in every row (no part tiles at all) and a row of zeros.
  for (int64_t i = 0; i < m; ++i)
    std::fill(x.begin() + i * k + 256, x.begin() + i * k + 384, 0.0f);
  std::fill(x.begin() + 1 * k, x.begin() + 2 * k, 0.0f);
  std::vector<float> alone = expectAmxEverywhere(t, x, m, 5, "amx int8");
  for (int64_t j = 0; j < t.w.n; ++j)
    ASSERT_EQ(alone[1 * t.w.n + j], 0.0f) << "zero row " << j;
  std::vector<float> vector = runQgemm(t, x, m, SQUANT_RT_ISA_AVX512);
  ASSERT_NE(std::memcmp(alone.data(), vector.data(), alone.size() * 4), 0);
  // Two blocks of rows (M = 24) on pools too.
  std::vector<float> x24 = randomX(24, k, rng);
  std::vector<float> alone24 = runQgemm(t, x24, 24, SQUANT_RT_ISA_AMX);
  expectClose(t, x24, 24, alone24, "amx int8 m 24");
  expectPoolsGive(alone24, [&](squant_rt_pool *pool) {
    return runQgemm(t, x24, 24, SQUANT_RT_ISA_AMX, pool);
  });
  // x that does not split: a non-finite value, or a group of a row whose
  // values need more than 8 parts (three full significands 30 binades
  // apart: 12). The call runs the AVX-512 kernels: their bits, NaN and
  // infinities included.
  std::vector<std::vector<float>> odd;
  for (float special : {NAN, INFINITY, -INFINITY}) {
    odd.push_back(x);
    odd.back()[2 * k + 300] = special;
  }
  odd.push_back(x);
  for (int i = 0; i < 3; ++i)
    odd.back()[4 * k + 130 + i] =
        std::ldexp(1.0f + float(rng() % (1u << 23)) * 0x1p-23f, -30 * i);
  for (const std::vector<float> &xo : odd) {
    std::vector<float> a = runQgemm(t, xo, m, SQUANT_RT_ISA_AMX);
    std::vector<float> b = runQgemm(t, xo, m, SQUANT_RT_ISA_AVX512);
    ASSERT_EQ(std::memcmp(a.data(), b.data(), a.size() * 4), 0);
  }
  // From M = 9 such x falls back to the AMX-BF16 split: within the
  // tolerance.
  for (int64_t mb : {12, 20}) {
    std::vector<float> xb = randomX(mb, k, rng);
    std::copy(odd.back().begin() + 4 * k, odd.back().begin() + 5 * k,
              xb.begin() + (mb - 3) * k);
    expectClose(t, xb, mb, runQgemm(t, xb, mb, SQUANT_RT_ISA_AMX),
                "fallback m " + std::to_string(mb));
  }
}

TEST(Runtime, Fp32AmxInt8Blocking) {
  // The kernel runs N in blocks of 8 pairs of weight tiles (256 rows) and
  // K in blocks of whole groups whose parts take about 768 KiB: M = 32 in
  // groups of 256 (64 KiB of parts per group) gives two K blocks of 7
  // groups; N = 300 a second N block of 44 rows. Pools split N elsewhere.
  if (!squant_rt_isa_available(SQUANT_RT_ISA_AMX))
    GTEST_SKIP() << kNoAmx;
  std::mt19937 rng(44);
  TestWeight t = makeFma(Scheme::Tinygemm, 8, 300, 14 * 256, 256, rng);
  finish(t);
  for (int64_t m : {20, 32}) {
    std::vector<float> x = randomX(m, t.w.k, rng);
    std::vector<float> alone = runQgemm(t, x, m, SQUANT_RT_ISA_AMX);
    expectClose(t, x, m, alone, "blocks m " + std::to_string(m));
    expectPoolsGive(alone, [&](squant_rt_pool *pool) {
      return runQgemm(t, x, m, SQUANT_RT_ISA_AMX, pool);
    });
  }
}

namespace {

/// A weight of `bits`-bit codes of `scheme` (or, scheme -1, LUT_INT8) in
/// TILE16_V2.
TestWeight makeTile16V2(int bits, int scheme, const WeightShape &sh,
                        std::mt19937 &rng) {
  TestWeight t = scheme < 0
                     ? makeLut(SQUANT_RT_FORM_LUT_INT8, bits, sh.n, sh.k, sh.g,
                               false, rng, SQUANT_RT_LAYOUT_TILE16_V2)
                     : makeFma(Scheme(scheme), bits, sh.n, sh.k, sh.g, rng,
                               SQUANT_RT_LAYOUT_TILE16_V2);
  finish(t);
  return t;
}

} // namespace

TEST(Runtime, GemvTile16V2OnAmxEveryForm) {
  // 2- to 4- and 8-bit codes in TILE16_V2, M = 1: on AMX-INT8 x's parts
  // times 16 rows' codes per 64 columns (gemv_amx_int8.c: runs of 2 tiles),
  // or per 32 (half quads) in groups of odd multiples of 32; the table GEMV
  // (2 and 3 bits) or the portable kernel elsewhere (and for fp32 tables).
  // Every scheme (unsigned float zero points, signed stretched / int
  // asymmetric / symmetric) and 2- and 4-bit LUT_INT8; one row; ragged last
  // tiles and runs (n = 45: 3 tiles; 343: 22 tiles, eleven runs of 2 or, on
  // two threads, five of 2 and one of 1 each); groups of 64 (one quad), 128,
  // 256 and 512 (the most), 32 (one half quad; 73 groups, the last split
  // alone), 96 (three) and 480 (fifteen, the most); long K. The larger
  // shapes' results are not the AVX-512 path's bits: the AMX kernel ran.
  // Unforced, half quads of 2- and 3-bit codes run the table GEMV.
  std::mt19937 rng(45);
  bool amx = squant_rt_isa_available(SQUANT_RT_ISA_AMX);
  const WeightShape shapes[] = {
      {1, 64, 64},    {45, 2304, 128}, {16, 512, 512},
      {343, 768, 64}, {70, 1024, 256}, {17, 4096, 128},
      {45, 2336, 32}, {343, 480, 96},  {70, 960, 480}};
  for (int bits : {2, 3, 4, 8})
    for (const WeightShape &sh : shapes)
      for (int scheme : {-1, int(Scheme::Tinygemm), int(Scheme::Stretched),
                         int(Scheme::IntAsymmetric), int(Scheme::Symmetric)}) {
        if (scheme < 0 && (bits == 8 || bits == 3))
          continue; // LUT forms hold 1 to 4 bits; AMX takes 2 and 4
        TestWeight t = makeTile16V2(bits, scheme, sh, rng);
        std::vector<float> x = randomX(1, sh.k, rng);
        std::string what = "bits " + std::to_string(bits) + " scheme " +
                           std::to_string(scheme) + " n " +
                           std::to_string(sh.n) + " k " + std::to_string(sh.k) +
                           " g " + std::to_string(sh.g);
        for (squant_rt_isa isa : {SQUANT_RT_ISA_AUTO, SQUANT_RT_ISA_PORTABLE,
                                  SQUANT_RT_ISA_AVX512, SQUANT_RT_ISA_AMX})
          if (squant_rt_isa_available(isa))
            expectClose(t, x, 1, runQgemm(t, x, 1, isa),
                        what + " isa " + std::to_string(isa));
        if (!amx)
          continue;
        bool tables = sh.g % 64 != 0 && bits <= 3;
        expectAmxEverywhere(t, x, 1, 0, what,
                            tables ? SQUANT_RT_ISA_AVX512 : SQUANT_RT_ISA_AMX);
        if (sh.n * sh.k >= 16 * 4096) // AVX-512: the portable or table GEMV
          expectAmxPathClose(t, x, 1, what);
      }
  // fp32 tables: the portable kernel.
  TestWeight f32 = makeLut(SQUANT_RT_FORM_LUT_F32, 4, 45, 256, 64, false, rng,
                           SQUANT_RT_LAYOUT_TILE16_V2);
  finish(f32);
  std::vector<float> x = randomX(1, 256, rng);
  expectClose(f32, x, 1, runQgemm(f32, x, 1, SQUANT_RT_ISA_AUTO), "lut f32");
  if (!amx)
    GTEST_SKIP() << kNoAmxRun << " (the portable kernel was checked)";
}

TEST(Runtime, GemvTile16V2OnAmxIsExactAndFallsBack) {
  // Small-integer x and power-of-two scales: every part, int32 dot and sum
  // is exact, so the AMX-INT8 GEMV gives the fp64 result's bits (2- to 4-
  // and 8-bit codes; whole and half quads). A group of x holding values far
  // apart takes a part per binade range (a value 2^-60 below the largest: its
  // own part), tiny rows are scaled on the way; x with a non-finite value, or a
  // group needing more than 16 parts (five full significands 30 binades apart:
  // 20), runs the portable kernel (2 and 3 bits: the table GEMV; its bits, NaN
  // and infinities included).
  if (!squant_rt_isa_available(SQUANT_RT_ISA_AMX))
    GTEST_SKIP() << kNoAmxRun;
  std::mt19937 rng(46);
  for (int bits : {2, 3, 4, 8})
    for (int64_t g : {32, 64, 96, 128, 256}) {
      std::string what =
          "bits " + std::to_string(bits) + " g " + std::to_string(g);
      // Five groups: x's split takes them two at a time, the last alone,
      // and a pair may have different part counts (the zero group).
      TestWeight t = makeExactFma(bits, 37, 5 * g, g, rng);
      t.w.layout = SQUANT_RT_LAYOUT_TILE16_V2;
      finish(t);
      std::vector<float> x(t.w.k);
      for (float &v : x)
        v = float(int(rng() % 9) - 4);
      std::fill(x.begin() + g, x.begin() + 2 * g, 0.0f); // a zero group
      std::vector<float> want = exactProduct(t, x, 1);
      std::vector<float> y = runQgemm(t, x, 1, SQUANT_RT_ISA_AMX);
      EXPECT_EQ(std::memcmp(y.data(), want.data(), y.size() * 4), 0) << what;
      // A value 2^-60 below another in one group: y keeps it (exact where
      // the large value's codes are zero: even rows).
      std::vector<float> far(t.w.k, 0.0f);
      far[3] = 0x1p20f;
      far[9] = 0x1.8p-40f;
      for (int64_t j = 0; j < t.w.n; j += 2)
        t.codes[j * t.w.k + 3] = 0;
      finish(t);
      std::vector<float> yFar = runQgemm(t, far, 1, SQUANT_RT_ISA_AMX);
      std::vector<float> wantFar = exactProduct(t, far, 1);
      for (int64_t j = 0; j < t.w.n; j += 2)
        ASSERT_EQ(yFar[j], wantFar[j]) << what << ": far values, row " << j;
    }
  std::vector<float> x = randomX(1, 512, rng);
  std::vector<std::vector<float>> odd;
  for (float special : {NAN, INFINITY, -INFINITY}) {
    odd.push_back(x);
    odd.back()[300] = special;
  }
  odd.push_back(x);
  for (int i = 0; i < 5; ++i)
    odd.back()[130 + i] =
        std::ldexp(1.0f + float(rng() % (1u << 23)) * 0x1p-23f, -30 * i);
  for (int bits : {8, 4, 3, 2}) {
    TestWeight t =
        makeTile16V2(bits, int(Scheme::Stretched), {75, 512, 128}, rng);
    squant_rt_isa fallback =
        bits <= 3 ? SQUANT_RT_ISA_AVX512 : SQUANT_RT_ISA_PORTABLE;
    std::vector<float> tiny = randomX(1, 512, rng);
    makeTinyRows(tiny, 512, 0, 0, rng); // subnormals
    expectClose(t, tiny, 1, runQgemm(t, tiny, 1, SQUANT_RT_ISA_AMX),
                "subnormal x, bits " + std::to_string(bits));
    for (const std::vector<float> &xo : odd) {
      std::vector<float> a = runQgemm(t, xo, 1, SQUANT_RT_ISA_AMX);
      std::vector<float> b = runQgemm(t, xo, 1, fallback);
      ASSERT_EQ(std::memcmp(a.data(), b.data(), a.size() * 4), 0) << bits;
    }
  }
  TestWeight t = makeTile16V2(4, int(Scheme::Stretched), {75, 512, 128}, rng);
  // The workspace covers the parts.
  std::vector<float> y(t.w.n);
  size_t need = squant_rt_qgemm_workspace_size(1, &t.w);
  std::vector<char> ws(need);
  EXPECT_GE(need, size_t(512) * 16);
  squant_rt_options opts{SQUANT_RT_ISA_AMX, nullptr, 0};
  EXPECT_EQ(squant_rt_qgemm(x.data(), 1, 512, &t.w, y.data(), t.w.n, ws.data(),
                            need - 1, &opts),
            SQUANT_RT_BUFFER_TOO_SMALL);
}

TEST(Runtime, Tile16V2GemvStreamsOutputsAtAnyAlignment) {
  // A thread share of at least 1 MiB of TILE16_V2 weight has the M = 1 GEMVs
  // (AMX-INT8 exact and int8-activation, VNNI int8-activation) write y's
  // whole 64-byte lines with streaming stores, a line joining two tiles'
  // outputs where y is not 64-byte aligned, and its partial lines at the
  // share's ends with masked stores. y at each of the 16 float offsets in
  // a line, one thread and two (967 rows: 61 tiles, the last with 7 rows;
  // 36 KiB per tile): the same bits at every offset and pool, the reference's
  // bounds, and no float written outside y.
  const bool amx = squant_rt_isa_available(SQUANT_RT_ISA_AMX);
  const bool vnni = vnniTile16Available();
  if (!amx && !vnni)
    GTEST_SKIP() << "neither AMX-INT8 nor AVX-512 VNNI/VBMI/GFNI on this CPU";
  std::mt19937 rng(47);
  const int64_t n = 967, k = 4096;
  TestWeight t = makeTile16V2(4, int(Scheme::Stretched), {n, k, 128}, rng);
  ASSERT_GE(squant_rt_packed_size_tile16_v2(n, k, 4, 128), size_t(2) << 20);
  std::vector<float> x = randomX(1, k, rng);
  squant_rt_pool *pool = nullptr;
  ASSERT_EQ(squant_rt_pool_create(2, &pool), SQUANT_RT_OK);
  std::vector<char> ws(squant_rt_qgemm_workspace_size(1, &t.w));
  const float guard = -1234.5f;
  std::vector<float> buffer(n + 48);
  // The first float of `buffer` on a 64-byte boundary.
  const size_t base =
      (64 - reinterpret_cast<uintptr_t>(buffer.data()) % 64) % 64 / 4;
  struct Path {
    squant_rt_isa isa;
    uint32_t flags;
    bool available;
  };
  for (Path path :
       {Path{SQUANT_RT_ISA_AMX, 0, amx},
        Path{SQUANT_RT_ISA_AMX, SQUANT_RT_FLAG_INT8_ACTIVATIONS, amx},
        Path{SQUANT_RT_ISA_AVX512, SQUANT_RT_FLAG_INT8_ACTIVATIONS, vnni}}) {
    if (!path.available)
      continue;
    std::string label = "isa " + std::to_string(int(path.isa)) + " flags " +
                        std::to_string(path.flags);
    std::vector<float> first;
    for (squant_rt_pool *on : {(squant_rt_pool *)nullptr, pool})
      for (size_t offset = 0; offset < 16; ++offset) {
        std::fill(buffer.begin(), buffer.end(), guard);
        float *y = buffer.data() + base + offset;
        squant_rt_options opts{path.isa, on, path.flags};
        ASSERT_EQ(squant_rt_qgemm(x.data(), 1, k, &t.w, y, n, ws.data(),
                                  ws.size(), &opts),
                  SQUANT_RT_OK)
            << label;
        std::string what = label + " offset " + std::to_string(offset) +
                           (on ? ", 2 threads" : "");
        for (size_t i = 0; i < buffer.size(); ++i)
          if (i < base + offset || i >= base + offset + n)
            ASSERT_EQ(buffer[i], guard) << what << ": float " << i;
        std::vector<float> got(y, y + n);
        if (first.empty()) {
          first = got;
          if (path.flags)
            expectWithinInt8QuantizationError(t, x, got, label);
          else
            expectClose(t, x, 1, got, label);
        }
        ASSERT_EQ(std::memcmp(got.data(), first.data(), n * sizeof(float)), 0)
            << what;
      }
  }
  squant_rt_pool_destroy(pool);
}

TEST(Runtime, RandomSweepAcrossDispatchBoundaries) {
  // Random calls drawn across the dispatcher's boundaries (layout, form,
  // width, scheme, group size, ragged N, M at and beside every threshold
  // squant_rt_qgemm's kernels switch at, forced ISA or AUTO, fp32 or bf16
  // activations), each against the reference and, on a pool of two
  // threads, against its own bits. SQUANT_RT_SWEEP_ITERATIONS sets the
  // count (and SQUANT_RT_SWEEP_SEED the seed) for longer runs by hand.
  int64_t iterations = 120;
  uint32_t seed = 37;
  if (const char *s = std::getenv("SQUANT_RT_SWEEP_ITERATIONS"))
    iterations = std::atoll(s);
  if (const char *s = std::getenv("SQUANT_RT_SWEEP_SEED"))
    seed = uint32_t(std::atoll(s));
  std::mt19937 rng(seed);
  auto pick = [&](auto const &choices) {
    return choices[rng() % std::size(choices)];
  };
  const int64_t boundaryMs[] = {1,  2,  3,   4,   5,   8,   9,   16,  17,
                                31, 32, 33,  40,  47,  48,  49,  64,  95,
                                96, 97, 127, 128, 129, 130, 255, 256, 257};
  const int64_t groups[] = {32, 64, 96, 128, 256};
  std::vector<squant_rt_isa> isas = bf16Isas();
  isas.push_back(SQUANT_RT_ISA_AUTO);
  squant_rt_pool *pool = nullptr;
  ASSERT_EQ(squant_rt_pool_create(2, &pool), SQUANT_RT_OK);
  for (int64_t it = 0; it < iterations; ++it) {
    int32_t layout = pick(std::array<int32_t, 4>{
        SQUANT_RT_LAYOUT_BLOCK32_V1, SQUANT_RT_LAYOUT_BLOCK32_V1,
        SQUANT_RT_LAYOUT_TILE16_V1, SQUANT_RT_LAYOUT_TILE16_V2});
    int32_t form = pick(std::array<int32_t, 4>{
        SQUANT_RT_FORM_FMA, SQUANT_RT_FORM_FMA, SQUANT_RT_FORM_LUT_INT8,
        SQUANT_RT_FORM_LUT_F32});
    int bits = form == SQUANT_RT_FORM_FMA
                   ? pick(std::array<int, 4>{2, 3, 4, 8})
                   : pick(std::array<int, 4>{1, 2, 3, 4});
    if (layout == SQUANT_RT_LAYOUT_TILE16_V1 && bits > 3)
      bits = 3;
    Scheme scheme =
        pick(std::array<Scheme, 4>{Scheme::Stretched, Scheme::Symmetric,
                                   Scheme::IntAsymmetric, Scheme::Tinygemm});
    bool perRow = rng() % 2;
    int64_t g = pick(groups);
    int64_t k = g * int64_t(1 + rng() % (g >= 128 ? 3 : 6));
    int64_t n = 1 + rng() % 90;
    int64_t m = rng() % 4 == 0   ? 1 // the GEMVs, with their own layouts
                : rng() % 3 != 0 ? pick(boundaryMs)
                                 : int64_t(1 + rng() % 130);
    squant_rt_isa isa = pick(isas);
    bool bf16 = rng() % 4 == 0;
    std::string what =
        "iteration " + std::to_string(it) + " seed " + std::to_string(seed) +
        ": layout " + std::to_string(layout) + " form " + std::to_string(form) +
        " bits " + std::to_string(bits) + " scheme " +
        std::to_string(int(scheme)) + " per-row " + std::to_string(perRow) +
        " g " + std::to_string(g) + " n " + std::to_string(n) + " k " +
        std::to_string(k) + " m " + std::to_string(m) + " isa " +
        std::to_string(isa) + (bf16 ? " bf16" : " fp32");
    SCOPED_TRACE(what);
    TestWeight t =
        form == SQUANT_RT_FORM_FMA
            ? makeFma(scheme, bits, n, k, g, rng, layout)
            : makeLut(squant_rt_form(form), bits, n, k, g, perRow, rng, layout);
    finish(t);
    std::vector<float> alone, pooled, wide;
    if (bf16) {
      Bf16X x = randomBf16X(m, k, rng);
      alone = runQgemmBf16(t, x.bits, m, isa);
      pooled = runQgemmBf16(t, x.bits, m, isa, pool);
      wide = x.wide;
    } else {
      wide = randomX(m, k, rng);
      if (rng() % 4 == 0) { // far from 1 (the AMX kernels scale such rows)
        int e = int(rng() % 181) - 90;
        for (float &v : wide)
          v = std::ldexp(v, e);
        what += " x * 2^" + std::to_string(e);
      }
      alone = runQgemm(t, wide, m, isa);
      pooled = runQgemm(t, wide, m, isa, pool);
      if (rng() % 4 == 0) // the same bits at strides past k and n
        expectStridedGive(
            wide, NAN, m, k, n, alone,
            [&](const float *xs, int64_t xStride, float *ys, int64_t yStride) {
              std::vector<char> ws(squant_rt_qgemm_workspace_size(m, &t.w));
              squant_rt_options opts{isa, pool, 0};
              return squant_rt_qgemm(xs, m, xStride, &t.w, ys, yStride,
                                     ws.data(), ws.size(), &opts);
            });
      if (m == 1 && form == SQUANT_RT_FORM_FMA) {
        // The int8-activation mode: within its quantization error where
        // it runs, else a status saying why not.
        std::vector<float> y(n, NAN);
        std::vector<char> ws(squant_rt_qgemm_workspace_size(1, &t.w));
        squant_rt_options opts{isa, pool, SQUANT_RT_FLAG_INT8_ACTIVATIONS};
        squant_rt_status status = squant_rt_qgemm(
            wide.data(), 1, k, &t.w, y.data(), n, ws.data(), ws.size(), &opts);
        ASSERT_TRUE(status == SQUANT_RT_OK || status == SQUANT_RT_UNSUPPORTED ||
                    status == SQUANT_RT_ISA_UNAVAILABLE)
            << "int8 activations: status " << status;
        if (status == SQUANT_RT_OK)
          expectWithinInt8QuantizationError(t, wide, y, what + " int8",
                                            /*manyRows=*/n >= 64);
      }
    }
    expectClose(t, wide, m, alone, what);
    ASSERT_EQ(
        std::memcmp(pooled.data(), alone.data(), alone.size() * sizeof(float)),
        0)
        << "two threads";
    if (HasFatalFailure())
      break;
  }
  squant_rt_pool_destroy(pool);
}
