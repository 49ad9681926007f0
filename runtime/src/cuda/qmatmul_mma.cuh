//===- qmatmul_mma.cuh - tensor-core quantized matmul, f16/bf16 activations ===//
//
// y[m][n] = sum_k x[m][k] * (q[n][k] * s[n][g] + b[n][g]) for the one-FMA
// form with f16 or bf16 activations, 2/3/4/8-bit codes packed LSB-first
// along K (the layout the SIMT kernel and generated code read), groups a
// multiple of 128. Numerics are the factorized ones of the SIMT kernel
// (D8 with the factorized term, docs/Numerics.md):
//
//   acc += s * sum(x q) + b * sum(x)     per row, group and 128-code chunk,
//
// where both sums come from mma.sync.m16n8k16 with f32 accumulation: the
// codes are exact in f16/bf16 (q < 2^11 resp. q < 2^8), their products with
// x are exact, so only the f32 accumulation rounds. sum(x) is a second MMA
// with an all-ones A operand, which hands every thread the column sums of
// exactly the output columns it holds.
//
// Work split: a block owns 16 weight rows (one MMA tile) and 8 * NT
// activation rows (NT MMA column tiles), its warps split K in 128-code
// chunks (chunk c to warp c mod warps) and sum their partial results in a
// fixed order through shared memory, so the result does not depend on
// scheduling. Each lane reads the 32 codes (4 * Bits bytes) of its chunk
// for two rows, so the loads of one chunk are 16 rows x 16 * Bits bytes;
// kDepth chunks are in flight per warp, in registers (a deeper ring cost
// occupancy or, with the registers capped, spilled or gained nothing; a
// cp.async ring in shared memory was slower; L2 prefetches of later chunks
// and a persistent grid did not help: measured in
// docs/perf/gpu-2026-11-24-session10.md and
// docs/perf/gpu-2026-11-24-session20.md).
//
// The K order inside a lane's 32 codes is free (the same permutation is
// applied to x), so codes are decoded in the pairs the magic-number trick
// makes cheapest: for 2/4/8 bits the pair (code i, code i + C/2) of a
// 32-bit word holding C codes is ((w >> shift) & mask) | magic, one LOP3,
// and one f16x2/bf16x2 FMA removes the magic (and the field's remaining
// offset); x's pairs are built to match with one PRMT each. 3-bit codes
// (fields across words) pair neighbours.
//
//===----------------------------------------------------------------------===//

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>
#include <type_traits>

namespace squant_mma {

constexpr int kMaxWarps = 8;
constexpr int kChunk = 128; // codes per row and warp step
constexpr int kDepth = 2;   // chunks in flight per warp
/// The blocks per SM that the registers must allow (the launch bounds'
/// second argument; 0 leaves the choice to ptxas). Four or eight column
/// tiles never fit two blocks of 256 threads per SM (they need more than
/// 128 registers), and asking for one lets ptxas use up to 255 registers
/// where its own choice was 136-193: on an H100, M = 32 and 64 ran
/// 1.1-1.5x faster (docs/perf/gpu-2026-11-24-session20.md).
template <int NT> constexpr int minBlocksPerSM() { return NT >= 4 ? 1 : 0; }

/// The activation type's constants and instructions: f16 (1024 + q is
/// exact for q < 1024) or bf16 (128 + q is exact for q < 128; 8-bit codes
/// take another road in decode). `magic` is 2^mantissa in both halves,
/// `negMagic` its negation, `one` 1.0.
template <typename Act> struct Type;
/// h in both 16-bit halves.
constexpr uint32_t halves(uint32_t h) { return h | h << 16; }
#define SQUANT_MMA_TYPE(ACT, TY, MANTISSA, BIAS, CONVERT)                      \
  template <> struct Type<ACT> {                                               \
    static constexpr int mantissa = MANTISSA, bias = BIAS;                     \
    static constexpr uint32_t magic = halves(uint32_t(BIAS + MANTISSA)         \
                                             << MANTISSA),                     \
                              negMagic = magic | 0x80008000u,                  \
                              one = halves(uint32_t(BIAS) << MANTISSA);        \
    static __device__ __forceinline__ uint32_t fma2(uint32_t a, uint32_t b,    \
                                                    uint32_t c) {              \
      uint32_t d;                                                              \
      asm("fma.rn." #TY "x2 %0, %1, %2, %3;"                                   \
          : "=r"(d)                                                            \
          : "r"(a), "r"(b), "r"(c));                                           \
      return d;                                                                \
    }                                                                          \
    static __device__ __forceinline__ void mma(float(&d)[4], uint32_t a0,     \
                                               uint32_t a1, uint32_t a2,       \
                                               uint32_t a3, uint32_t b0,       \
                                               uint32_t b1) {                  \
      asm volatile("mma.sync.aligned.m16n8k16.row.col.f32." #TY "." #TY        \
                   ".f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "              \
                   "{%0,%1,%2,%3};"                                            \
                   : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])            \
                   : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));    \
    }                                                                          \
    static __device__ __forceinline__ ACT fromFloat(float v) {                 \
      return CONVERT(v);                                                       \
    }                                                                          \
  };
SQUANT_MMA_TYPE(__half, f16, 10, 15, __float2half_rn)
SQUANT_MMA_TYPE(__nv_bfloat16, bf16, 7, 127, __float2bfloat16_rn)
#undef SQUANT_MMA_TYPE
static_assert(Type<__half>::magic == 0x64006400u &&
                  Type<__half>::negMagic == 0xE400E400u &&
                  Type<__half>::one == 0x3C003C00u &&
                  Type<__nv_bfloat16>::magic == 0x43004300u &&
                  Type<__nv_bfloat16>::negMagic == 0xC300C300u &&
                  Type<__nv_bfloat16>::one == 0x3F803F80u,
              "f16/bf16 constants");

/// The lane's 32 codes of one row and chunk: Bits 32-bit words.
template <int Bits>
__device__ __forceinline__ void loadCodes(const uint8_t *p,
                                          uint32_t (&w)[Bits]) {
  if constexpr (Bits % 4 == 0) {
#pragma unroll
    for (int i = 0; i < Bits / 4; ++i) {
      uint4 v = __ldcs(reinterpret_cast<const uint4 *>(p) + i);
      w[4 * i] = v.x, w[4 * i + 1] = v.y, w[4 * i + 2] = v.z,
             w[4 * i + 3] = v.w;
    }
  } else if constexpr (Bits == 2) {
    uint2 v = __ldcs(reinterpret_cast<const uint2 *>(p));
    w[0] = v.x, w[1] = v.y;
  } else {
#pragma unroll
    for (int i = 0; i < Bits; ++i)
      w[i] = __ldcs(reinterpret_cast<const unsigned *>(p) + i);
  }
}

/// Offsets (0..31) inside the lane's 32 codes of the low and high half of
/// pair j (see the file comment).
template <int Bits> struct Pairs {
  static constexpr int perWord = 32 / Bits;
  static __host__ __device__ constexpr int lo(int j) {
    return Bits == 3 ? 2 * j
                     : perWord * (j / (perWord / 2)) + j % (perWord / 2);
  }
  static __host__ __device__ constexpr int hi(int j) {
    return Bits == 3 ? 2 * j + 1 : lo(j) + perWord / 2;
  }
};

/// Every one of a lane's 32 codes is in exactly one pair (and so meets the
/// one x it multiplies): checked at compile time for every width.
template <int Bits> constexpr bool pairsCoverAllCodes() {
  int seen[32] = {};
  for (int j = 0; j < 16; ++j) {
    const int lo = Pairs<Bits>::lo(j), hi = Pairs<Bits>::hi(j);
    if (lo < 0 || lo > 31 || hi < 0 || hi > 31)
      return false;
    ++seen[lo], ++seen[hi];
  }
  for (int i = 0; i < 32; ++i)
    if (seen[i] != 1)
      return false;
  return true;
}
static_assert(pairsCoverAllCodes<2>() && pairsCoverAllCodes<3>() &&
                  pairsCoverAllCodes<4>() && pairsCoverAllCodes<8>(),
              "decode's pairs must cover each code once");

/// The 16 pairs of codes of `w` as exact f16x2/bf16x2 values.
template <int Bits, typename Act>
__device__ __forceinline__ void decode(const uint32_t (&w)[Bits],
                                       uint32_t (&p)[16]) {
  using T = Type<Act>;
  constexpr uint32_t mask = (1u << Bits) - 1;
  if constexpr (Bits == 8 && std::is_same_v<Act, __nv_bfloat16>) {
    // bf16 holds 0..255 exactly but not 128 + q: through f32.
#pragma unroll
    for (int j = 0; j < 16; ++j) {
      uint32_t word = w[j / 2] >> (8 * (j % 2));
      float lo = __uint_as_float(0x4B000000u | (word & 0xFFu)) - 8388608.f;
      float hi =
          __uint_as_float(0x4B000000u | ((word >> 16) & 0xFFu)) - 8388608.f;
      __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
      p[j] = *reinterpret_cast<uint32_t *>(&v);
    }
  } else if constexpr (Bits == 3) {
#pragma unroll
    for (int j = 0; j < 16; ++j) {
      uint32_t c[2];
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int bit = 3 * (2 * j + h), word = bit / 32, off = bit % 32;
        c[h] = off <= 29 ? (w[word] >> off) & 7u
                         : __funnelshift_r(w[word], w[word + 1], off) & 7u;
      }
      p[j] = T::fma2(c[0] | (c[1] << 16) | T::magic, T::one, T::negMagic);
    }
  } else {
    // Pair j sits at bit sh = Bits * (j % half) of its word. A field left
    // e bits up inside the mantissa is magic + q * 2^e, exact while
    // e + Bits <= mantissa, and one FMA by 2^-e with -magic * 2^-e gives q:
    // so one shift serves every pair of a word that fits above it
    // (`span` bits of fields; 2 shifts per word instead of 8 for f16 int2).
    constexpr int half = 16 / Bits; // pairs per word
    constexpr int span = T::mantissa / Bits * Bits;
    static_assert(span >= Bits, "a code must fit in the mantissa");
#pragma unroll
    for (int j = 0; j < 16; ++j) {
      const int sh = Bits * (j % half), e = sh % span;
      const uint32_t up = (mask | (mask << 16)) << e;
      const uint32_t field = (w[j / half] >> (sh - e)) & up;
      const uint32_t scale = uint32_t(T::bias - e) << T::mantissa;
      const uint32_t neg =
          0x8000u | uint32_t(T::bias + T::mantissa - e) << T::mantissa;
      p[j] = T::fma2(field | T::magic, scale | scale << 16, neg | neg << 16);
    }
  }
}

/// x's 16 pairs for the lane's 32 columns, in the order of decode's pairs.
template <int Bits>
__device__ __forceinline__ void xPairs(const uint4 (&v)[4],
                                       uint32_t (&xp)[16]) {
  uint32_t natural[16]; // (x[2i], x[2i + 1])
#pragma unroll
  for (int i = 0; i < 4; ++i)
    natural[4 * i] = v[i].x, natural[4 * i + 1] = v[i].y,
                natural[4 * i + 2] = v[i].z, natural[4 * i + 3] = v[i].w;
#pragma unroll
  for (int j = 0; j < 16; ++j) {
    const int lo = Pairs<Bits>::lo(j), hi = Pairs<Bits>::hi(j);
    if (Bits == 3) {
      xp[j] = natural[j];
    } else {
      const unsigned sel = (lo % 2 ? 0x32u : 0x10u) | (hi % 2 ? 0x7600u : 0x5400u);
      xp[j] = __byte_perm(natural[lo / 2], natural[hi / 2], sel);
    }
  }
}

template <int Bits, int NT, typename Act>
__device__ __forceinline__ void
qmatmulMma(const Act *__restrict__ x, const uint8_t *__restrict__ codes,
           const float *__restrict__ scales, const float *__restrict__ biases,
           Act *__restrict__ y, int m, int n, int k, int groupSize) {
  using T = Type<Act>;
  __shared__ float partial[kMaxWarps][NT * 4][32];
  const int lane = threadIdx.x, warp = threadIdx.y, warps = blockDim.y;
  const int g = lane >> 2, t = lane & 3;
  const int row0 = blockIdx.x * 16;
  const int rowA = min(row0 + g, n - 1), rowB = min(row0 + g + 8, n - 1);
  const int m0 = blockIdx.y * 8 * NT;
  const int64_t rowBytes = int64_t(k) / 8 * Bits;
  const uint8_t *codesA = codes + rowA * rowBytes + t * 4 * Bits;
  const uint8_t *codesB = codes + rowB * rowBytes + t * 4 * Bits;
  const int groups = k / groupSize, chunks = k / kChunk;
  const float *scaleA = scales + int64_t(rowA) * groups;
  const float *scaleB = scales + int64_t(rowB) * groups;
  const float *biasA = biases + int64_t(rowA) * groups;
  const float *biasB = biases + int64_t(rowB) * groups;

  float total[NT][4];
#pragma unroll
  for (int i = 0; i < NT; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j)
      total[i][j] = 0.f;

  // The ring of chunks in flight: codes of both rows and their parameters.
  uint32_t wordsA[kDepth][Bits], wordsB[kDepth][Bits];
  float params[kDepth][4];
  auto load = [&](int slot, int chunk) {
    if (chunk < chunks) {
      loadCodes<Bits>(codesA + int64_t(chunk) * 16 * Bits, wordsA[slot]);
      loadCodes<Bits>(codesB + int64_t(chunk) * 16 * Bits, wordsB[slot]);
      const int group = chunk * kChunk / groupSize;
      params[slot][0] = __ldg(scaleA + group);
      params[slot][1] = __ldg(biasA + group);
      params[slot][2] = __ldg(scaleB + group);
      params[slot][3] = __ldg(biasB + group);
    }
  };
#pragma unroll
  for (int d = 0; d < kDepth; ++d)
    load(d, warp + d * warps);

  for (int base = warp; base < chunks; base += kDepth * warps) {
#pragma unroll
    for (int d = 0; d < kDepth; ++d) {
      const int chunk = base + d * warps;
      if (chunk >= chunks)
        break;
      uint32_t pa[16], pb[16];
      decode<Bits, Act>(wordsA[d], pa);
      decode<Bits, Act>(wordsB[d], pb);
      const float sA = params[d][0], bA = params[d][1], sB = params[d][2],
                  bB = params[d][3];
      load(d, chunk + kDepth * warps);
#pragma unroll
      for (int nt = 0; nt < NT; ++nt) {
        const int row = m0 + 8 * nt + g;
        uint4 v[4] = {};
        if (row < m) {
          const uint4 *xr = reinterpret_cast<const uint4 *>(
              x + int64_t(row) * k + chunk * kChunk + 32 * t);
#pragma unroll
          for (int i = 0; i < 4; ++i)
            v[i] = __ldg(xr + i);
        }
        uint32_t xp[16];
        xPairs<Bits>(v, xp);
        float dot[4] = {0.f, 0.f, 0.f, 0.f}, sum[4] = {0.f, 0.f, 0.f, 0.f};
#pragma unroll
        for (int s = 0; s < 8; ++s) {
          T::mma(dot, pa[2 * s], pb[2 * s], pa[2 * s + 1], pb[2 * s + 1],
                 xp[2 * s], xp[2 * s + 1]);
          T::mma(sum, T::one, T::one, T::one, T::one, xp[2 * s],
                 xp[2 * s + 1]);
        }
        total[nt][0] = fmaf(sA, dot[0], fmaf(bA, sum[0], total[nt][0]));
        total[nt][1] = fmaf(sA, dot[1], fmaf(bA, sum[1], total[nt][1]));
        total[nt][2] = fmaf(sB, dot[2], fmaf(bB, sum[2], total[nt][2]));
        total[nt][3] = fmaf(sB, dot[3], fmaf(bB, sum[3], total[nt][3]));
      }
    }
  }

  // Warps' partial sums, added in warp order.
#pragma unroll
  for (int nt = 0; nt < NT; ++nt)
#pragma unroll
    for (int j = 0; j < 4; ++j)
      partial[warp][4 * nt + j][lane] = total[nt][j];
  __syncthreads();
  for (int idx = warp * 32 + lane; idx < NT * 4 * 32; idx += warps * 32) {
    const int value = idx / 32, owner = idx % 32;
    float acc = partial[0][value][owner];
    for (int w = 1; w < warps; ++w)
      acc += partial[w][value][owner];
    const int nt = value / 4, j = value % 4;
    const int row = row0 + (owner >> 2) + (j >= 2 ? 8 : 0);
    const int col = m0 + 8 * nt + 2 * (owner & 3) + (j & 1);
    if (row < n && col < m)
      y[int64_t(col) * n + row] = T::fromFloat(acc);
  }
}

} // namespace squant_mma
