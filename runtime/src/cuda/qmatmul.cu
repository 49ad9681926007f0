//===- qmatmul.cu - hand-written CUDA quantized matmul kernels ------------===//
//
// y[m][n] = sum_k x[m][k] * w[n][k] for small M (<= 64), weights packed
// LSB-first along K (squant.pack lsb_first), one warp per output row:
//
//  - each lane owns runs of 32 codes (a "sub-chunk"), S of them per step, so
//    that one step of one lane reads whole 16-byte words (bits 4: one
//    uint4, bits 2: one uint4 = 2 runs, bits 8: two uint4, bits 3: three
//    uint4 = 4 runs); the loads of two steps are issued before either is
//    used (several 16-byte loads in flight per lane);
//  - codes become floats by the magic-number trick: (0x4B000000 | q) is the
//    float 2^23 + q, so one LOP3 and one FADD replace an I2F per code;
//  - the group scale leaves the K loop: per run of 32 codes (inside one
//    group, g % 32 == 0) acc += s * sum(x q) + b * sum(x), one FMA per code
//    and per activation row (D7/D8 of the spec, docs/Numerics.md);
//  - the LUT form looks codes up in a table staged in shared memory;
//  - a warp-shuffle reduction ends each row; lane 0 stores the M results.
//
// Activations are f32, f16 or bf16, read through the read-only cache; the
// MT rows of x a block handles share each decoded weight.
//
// This SIMT kernel serves what the tensor-core kernel (qmatmul_mma.cuh,
// instantiated at the end of this file) does not take: f32 activations,
// the LUT form and groups that are not a multiple of 128 codes. On an H100
// it reads 0.02-0.08 of the copy bandwidth (docs/Performance.md, "GPU").
//
//===----------------------------------------------------------------------===//

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

namespace {

constexpr int kWarpsPerBlock = 4;

__device__ __forceinline__ float toFloat(float v) { return v; }
__device__ __forceinline__ float toFloat(__half v) { return __half2float(v); }
__device__ __forceinline__ float toFloat(__nv_bfloat16 v) {
  return __bfloat162float(v);
}
template <typename T> __device__ __forceinline__ T fromFloat(float v);
template <> __device__ __forceinline__ float fromFloat<float>(float v) {
  return v;
}
template <> __device__ __forceinline__ __half fromFloat<__half>(float v) {
  return __float2half_rn(v);
}
template <>
__device__ __forceinline__ __nv_bfloat16 fromFloat<__nv_bfloat16>(float v) {
  return __float2bfloat16_rn(v);
}

/// Code `i` (0..31) of a run of 32 `Bits`-bit codes held in `words`
/// (4 * Bits / 4 = Bits 32-bit words), as the float 2^23 + code.
template <int Bits>
__device__ __forceinline__ float magicCode(const uint32_t *words, int i) {
  uint32_t field;
  if constexpr (Bits == 3) {
    // Code i at bit 3i of the 96-bit run; codes 10 and 21 straddle words.
    int bit = 3 * i, word = bit >> 5, off = bit & 31;
    uint64_t pair = words[word];
    if (word < 2)
      pair |= uint64_t(words[word + 1]) << 32;
    field = uint32_t(pair >> off) & 7u;
  } else {
    constexpr int perWord = 32 / Bits;
    field = (words[i / perWord] >> (Bits * (i % perWord))) & ((1u << Bits) - 1);
  }
  return __uint_as_float(0x4B000000u | field);
}

template <int Bits> struct Step {
  // Runs of 32 codes per lane step and 16-byte loads per step.
  static constexpr int runs = Bits == 2 ? 2 : Bits == 3 ? 4 : 1;
  static constexpr int loads = Bits == 8 ? 2 : Bits == 3 ? 3 : 1;
  static constexpr int codes = 32 * runs;
  static constexpr int wordsPerRun = Bits; // 32 codes * Bits / 32
};

template <int Bits, bool Lut, int MT, typename Act>
__device__ __forceinline__ void
qmatmulBody(const Act *__restrict__ x, const uint4 *__restrict__ codes,
                  const float *__restrict__ scales,
                  const float *__restrict__ biases,
                  const float *__restrict__ table, Act *__restrict__ y, int m,
                  int n, int k, int groupSize) {
  using S = Step<Bits>;
  __shared__ float lut[16];
  if (Lut) {
    if (threadIdx.x + 32 * threadIdx.y < (1 << Bits))
      lut[threadIdx.x + 32 * threadIdx.y] = table[threadIdx.x + 32 * threadIdx.y];
    __syncthreads();
  }
  const int lane = threadIdx.x;
  const int row = blockIdx.x * kWarpsPerBlock + threadIdx.y;
  const int m0 = blockIdx.y * MT;
  if (row >= n)
    return;
  const int rows = min(MT, m - m0);
  const int64_t rowLoads = int64_t(k) * Bits / 128; // uint4 per weight row
  const uint4 *w = codes + row * rowLoads;
  const int groups = k / groupSize;
  const int steps = k / S::codes;

  float acc[MT];
#pragma unroll
  for (int r = 0; r < MT; ++r)
    acc[r] = 0.f;

#pragma unroll 1
  for (int step = lane; step < steps; step += 32) {
    uint32_t words[4 * S::loads];
#pragma unroll
    for (int l = 0; l < S::loads; ++l) {
      uint4 v = __ldg(w + step * S::loads + l);
      words[4 * l] = v.x;
      words[4 * l + 1] = v.y;
      words[4 * l + 2] = v.z;
      words[4 * l + 3] = v.w;
    }
    // Runs are not unrolled (register pressure at MT = 8): the run's words
    // are picked with selects on constant indices, so `words` stays in
    // registers.
#pragma unroll 1
    for (int run = 0; run < S::runs; ++run) {
      uint32_t runWords[S::wordsPerRun];
#pragma unroll
      for (int j = 0; j < S::wordsPerRun; ++j) {
        runWords[j] = words[j];
#pragma unroll
        for (int r = 1; r < S::runs; ++r)
          runWords[j] = run == r ? words[r * S::wordsPerRun + j] : runWords[j];
      }
      const int k0 = step * S::codes + run * 32;
      const int g = row * groups + k0 / groupSize;
      const float s = scales[g];
      const float b = Lut ? 0.f : biases[g];
      float dot[MT], sum[MT];
#pragma unroll
      for (int r = 0; r < MT; ++r)
        dot[r] = sum[r] = 0.f;
#pragma unroll
      for (int i = 0; i < 32; ++i) {
        const float magic = magicCode<Bits>(runWords, i);
        float wv;
        if (Lut)
          wv = lut[__float_as_uint(magic) & 0xFFu];
        else
          wv = magic - 8388608.f; // exact: the code itself
#pragma unroll
        for (int r = 0; r < MT; ++r) {
          if (r < rows) {
            const float xv = toFloat(x[int64_t(m0 + r) * k + k0 + i]);
            dot[r] = fmaf(xv, wv, dot[r]);
            if (!Lut)
              sum[r] += xv;
          }
        }
      }
#pragma unroll
      for (int r = 0; r < MT; ++r) {
        acc[r] = fmaf(s, dot[r], acc[r]);
        if (!Lut)
          acc[r] = fmaf(b, sum[r], acc[r]);
      }
    }
  }

#pragma unroll
  for (int r = 0; r < MT; ++r)
#pragma unroll
    for (int offset = 16; offset > 0; offset /= 2)
      acc[r] += __shfl_xor_sync(0xFFFFFFFFu, acc[r], offset);
  if (lane == 0)
#pragma unroll
    for (int r = 0; r < MT; ++r)
      if (r < rows)
        y[int64_t(m0 + r) * n + row] = fromFloat<Act>(acc[r]);
}

} // namespace

// The instantiations the host side (qmatmul_host.c) looks up by name:
// squant_qmatmul_<form>_b<bits>_mt<MT>_<act>.
#define SQUANT_INSTANTIATE(FORM, LUT, BITS, MT, ACTNAME, ACT)                  \
  extern "C" __global__ void __launch_bounds__(32 * kWarpsPerBlock)            \
      squant_qmatmul_##FORM##_b##BITS##_mt##MT##_##ACTNAME(                    \
          const ACT *x, const uint4 *codes, const float *scales,              \
          const float *biases, const float *table, ACT *y, int m, int n,      \
          int k, int groupSize) {                                              \
    qmatmulBody<BITS, LUT, MT, ACT>(x, codes, scales, biases, table, y, m,   \
                                      n, k, groupSize);                        \
  }

#define SQUANT_INSTANTIATE_ACTS(FORM, LUT, BITS, MT)                           \
  SQUANT_INSTANTIATE(FORM, LUT, BITS, MT, f32, float)                          \
  SQUANT_INSTANTIATE(FORM, LUT, BITS, MT, f16, __half)                         \
  SQUANT_INSTANTIATE(FORM, LUT, BITS, MT, bf16, __nv_bfloat16)

#define SQUANT_INSTANTIATE_MTS(FORM, LUT, BITS)                                \
  SQUANT_INSTANTIATE_ACTS(FORM, LUT, BITS, 1)                                  \
  SQUANT_INSTANTIATE_ACTS(FORM, LUT, BITS, 8)

SQUANT_INSTANTIATE_MTS(fma, false, 2)
SQUANT_INSTANTIATE_MTS(fma, false, 3)
SQUANT_INSTANTIATE_MTS(fma, false, 4)
SQUANT_INSTANTIATE_MTS(fma, false, 8)
SQUANT_INSTANTIATE_MTS(lut, true, 2)
SQUANT_INSTANTIATE_MTS(lut, true, 3)
SQUANT_INSTANTIATE_MTS(lut, true, 4)

#include "qmatmul_mma.cuh"

// Tensor-core instantiations (qmatmul_mma.cuh):
// squant_qmatmul_mma_b<bits>_nt<NT>_<act>, 16 weight rows x 8 * NT
// activation rows per block.
#define SQUANT_INSTANTIATE_MMA(BITS, NT, ACTNAME, ACT)                         \
  extern "C" __global__ void __launch_bounds__(                                \
      32 * squant_mma::kMaxWarps, squant_mma::minBlocksPerSM<NT>())            \
      squant_qmatmul_mma_b##BITS##_nt##NT##_##ACTNAME(                         \
          const ACT *x, const uint8_t *codes, const float *scales,             \
          const float *biases, ACT *y, int m, int n, int k, int groupSize) {   \
    squant_mma::qmatmulMma<BITS, NT, ACT>(x, codes, scales, biases, y, m, n,   \
                                          k, groupSize);                       \
  }
#define SQUANT_INSTANTIATE_MMA_NTS(BITS, ACTNAME, ACT)                         \
  SQUANT_INSTANTIATE_MMA(BITS, 1, ACTNAME, ACT)                                \
  SQUANT_INSTANTIATE_MMA(BITS, 2, ACTNAME, ACT)                                \
  SQUANT_INSTANTIATE_MMA(BITS, 4, ACTNAME, ACT)                                \
  SQUANT_INSTANTIATE_MMA(BITS, 8, ACTNAME, ACT)
#define SQUANT_INSTANTIATE_MMA_ACTS(BITS)                                      \
  SQUANT_INSTANTIATE_MMA_NTS(BITS, f16, __half)                                \
  SQUANT_INSTANTIATE_MMA_NTS(BITS, bf16, __nv_bfloat16)

SQUANT_INSTANTIATE_MMA_ACTS(2)
SQUANT_INSTANTIATE_MMA_ACTS(3)
SQUANT_INSTANTIATE_MMA_ACTS(4)
SQUANT_INSTANTIATE_MMA_ACTS(8)
