//===- RuntimeBench.cpp - squant_rt qgemm next to bandwidth and BLAS ------===//
//
// Prints one table row per (shape, M, threads, variant): median time over
// windows with min/max, weight bytes per second, that as a fraction of the
// read bandwidth measured with the same thread count in the same window
// (BandwidthProbe: the faster of a one-stream and a two-stream plain read;
// until session 22 one stream only, which read 8-12 % less) and, since
// session 29, as a fraction of a read of the same number of bytes on the
// call's threads right before each call (BandwidthProbe::readNext; this
// VM's bandwidth moves by 10-20 % within minutes, between windows too),
// GFLOP/s, and time ratios against OpenBLAS and oneDNN fp32 on the
// dequantized weights of the same shape ('bf16' variants: bf16 activations,
// against oneDNN bf16 on the weights rounded to bf16). Weights are cold: each
// call reads the next of several copies spanning twice the last-level cache
// (coldBytes(): 960 MiB here, whose L3 reads as 480 MiB; until session 19,
// 256 MiB, part of which the L3 served), each its codes and its own scales
// and biases (copies of the first: the bytes do not matter for speed, and
// filling a GiB byte by byte per variant would); the weight bytes
// counted are those codes and parameters (until session 10, codes only, with
// one hot copy of the parameters). The copies lie on 2 MiB pages like the
// probe's buffer (PageBuffer; until session 23 each was malloc'd apart and
// its last partial 2 MiB, up to a ninth of it, lay on 4 KiB pages).
//
//   squant-bench-runtime [--quick] [--shapes NxK,...] [--m 1,8,...]
//                        [--threads 1,2] [--variants int4,lut2,... | --all]
//                        [--group G] [--no-generated] [--no-baselines]
//                        [--baselines-only] [--hot]
//
// By default it runs the table (kTableRows: bits 2, 3, 4 and 8, LUT
// 2 and 4, int4 with int8 activations), each row in the layout
// squant_rt_preferred_layout names at its M, that is the kernel a compiled
// model calls, and the generated code next to it; --all runs every variant
// (other layouts, forced ISAs, bf16 activations) at every M it supports,
// which takes hours, --variants the ones named. Not a test, but since
// session 37 it checks each squant_rt row's result against the portable
// kernel before timing it (offPortable; the generated code's against an
// fp64 product, offLsbFirst), prints WRONG instead of a time
// where it is off, and then exits 1: a figure is only printed for a call
// that computes what it should (a timing of a kernel reading x in the
// wrong lane order had gone unnoticed in a scratch build). One small run
// is a lit test (test/Tools/squant-bench-runtime).
// --hot keeps one copy of each weight (served from the caches where it
// fits): what a kernel computes at, apart from memory.
// OPENBLAS_CORETYPE in the environment selects OpenBLAS's core
// (bench/runtime.sh runs the baselines once more with SkylakeX).
//
//===----------------------------------------------------------------------===//

#include "squant/runtime/squant_rt.h"

#include "squant/Execution/Jit.h"
#include "squant/Execution/Timing.h"
#include "squant/InitAll.h"

#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/Support/TargetSelect.h"

#include <cblas.h>
#include <dnnl.hpp>
#include <immintrin.h>
#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

extern "C" void omp_set_num_threads(int);

using mlir::squant::BandwidthProbe;
using mlir::squant::PageBuffer;
using mlir::squant::timeWindows;
using mlir::squant::TimingStats;

namespace {

const size_t kColdBytes = mlir::squant::coldBytes();
constexpr int kWindows = 5;

/// `count` copies of an array of `bytes`, 4 KiB apart in one buffer on the
/// probe's kind of pages (PageBuffer); copy 0 is written by the caller and
/// copied to the others by fill().
template <typename T> struct Copies {
  Copies(int count, size_t elements)
      : count(count), elements(elements),
        stride((elements * sizeof(T) + 4095) / 4096 * 4096),
        buffer(size_t(count) * stride) {}
  T *operator[](int c) const { return buffer.at<T>(size_t(c) * stride); }
  void fill() const {
    for (int c = 1; c < count; ++c)
      std::memcpy((*this)[c], (*this)[0], elements * sizeof(T));
  }
  int count;
  size_t elements, stride;
  PageBuffer buffer;
};

struct Variant {
  const char *name;
  squant_rt_form form;
  int bits;
  uint32_t flags = 0;
  int32_t layout = SQUANT_RT_LAYOUT_BLOCK32_V1;
  // bf16 activations (squant_rt_qgemm_bf16), on `isa`.
  bool bf16 = false;
  squant_rt_isa isa = SQUANT_RT_ISA_AUTO;
  // A row of the table (bits 2, 3, 4, 8, LUT 2 and 4, the int8-
  // activation mode): run by default where its layout is the one
  // squant_rt_preferred_layout names at the row's M, which is what
  // convert-squant-to-runtime packs. The others run with --all or
  // --variants.
  bool inTable = false;
};

// The table: each width and form in the layouts its rows can
// prefer (BLOCK32_V1 everywhere, TILE16_V2 for the GEMV), and the
// int8-activation mode of the default int4 GEMV.
const char *const kTableRows[] = {"int4",
                                  "int3",
                                  "int2",
                                  "int8",
                                  "lut4",
                                  "lut2",
                                  "int4 tile16v2",
                                  "int3 tile16v2",
                                  "int2 tile16v2",
                                  "int8 tile16v2",
                                  "lut4 tile16v2",
                                  "lut2 tile16v2",
                                  "int4 tile16v2 int8-act"};

/// A well-mixed 64-bit hash of i (splitmix64's finalizer): the benchmark's
/// x and codes. A multiplicative hash (i * c mod 2^32 or mod 1000, until
/// session 38) lays consecutive values on a lattice, on which the
/// int8-activation rows' rounding errors of x cancel over a group and the
/// codes correlate from row to row, so the error those rows print was not
/// the one of random data.
uint64_t mix64(uint64_t i) {
  i += 0x9E3779B97F4A7C15ull;
  i = (i ^ (i >> 30)) * 0xBF58476D1CE4E5B9ull;
  i = (i ^ (i >> 27)) * 0x94D049BB133111EBull;
  return i ^ (i >> 31);
}

/// Weight rows whose results check each row (offPortable, offLsbFirst).
constexpr int64_t kCheckRows = 64;
/// The relative L2 difference a checked row may have: the kernels' own
/// rounding (the folded AMX GEMM's 2^-21 per product at most) stays far
/// below it; a kernel reading its operands in the wrong order does not.
constexpr double kCheckTolerance = 1e-4;

/// How far y (m x n, from `w` on x or, for bf16 rows, xb) lies from the
/// portable kernel's result on the first kCheckRows weight rows, which
/// BLOCK32_V1 (row by row) and TILE16_V2 (tile by tile, with its
/// parameters) hold as a prefix, so the check costs m x kCheckRows x k;
/// on all rows of TILE16_V1, which interleaves its tiles panel by panel
/// (a layout only --all runs). Relative L2 over those outputs; NaN where
/// the portable call fails or y holds a NaN.
double offPortable(const squant_rt_qweight &w, bool bf16, const float *x,
                   const uint16_t *xb, long m, const float *y) {
  squant_rt_qweight part = w;
  if (w.layout != SQUANT_RT_LAYOUT_TILE16_V1)
    part.n = std::min<int64_t>(w.n, kCheckRows);
  std::vector<float> want(size_t(m) * part.n);
  std::vector<char> ws(bf16 ? squant_rt_qgemm_bf16_workspace_size(m, &part)
                            : squant_rt_qgemm_workspace_size(m, &part));
  squant_rt_options portable{SQUANT_RT_ISA_PORTABLE, nullptr, 0};
  squant_rt_status st =
      bf16 ? squant_rt_qgemm_bf16(xb, m, w.k, &part, want.data(), part.n,
                                  ws.data(), ws.size(), &portable)
           : squant_rt_qgemm(x, m, w.k, &part, want.data(), part.n, ws.data(),
                             ws.size(), &portable);
  if (st != SQUANT_RT_OK)
    return NAN;
  double e = 0, r = 0;
  for (long i = 0; i < m; ++i)
    for (int64_t j = 0; j < part.n; ++j) {
      double got = y[i * w.n + j], ref = want[i * part.n + j];
      e += (got - ref) * (got - ref);
      r += ref * ref;
    }
  return std::sqrt(e / r);
}

/// How far the generated code's y (m x n) lies from an fp64 product on
/// the first kCheckRows weight rows of what it reads: row j's codes
/// lsb_first in its rowBytes bytes (unsigned), w = fma(q, s, b) (FMA form)
/// or s T[q] (int8 table). Relative L2, as offPortable.
double offLsbFirst(const uint8_t *packed, size_t rowBytes, const float *scales,
                   const float *bias, const int8_t *table, bool lut, int bits,
                   long m, long n, long k, int64_t group, const float *x,
                   const float *y) {
  int64_t rows = std::min<int64_t>(n, kCheckRows), groups = k / group;
  std::vector<double> w(size_t(rows) * k);
  for (int64_t j = 0; j < rows; ++j)
    for (long c = 0; c < k; ++c) {
      const uint8_t *row = packed + j * rowBytes;
      size_t bit = size_t(c) * bits, byte = bit / 8;
      unsigned word =
          row[byte] | (byte + 1 < rowBytes ? row[byte + 1] << 8 : 0);
      int q = int(word >> (bit % 8)) & ((1 << bits) - 1);
      float sc = scales[j * groups + c / group];
      w[j * k + c] =
          lut ? double(sc * float(table[q]))
              : double(std::fma(float(q), sc, bias[j * groups + c / group]));
    }
  double e = 0, r = 0;
  for (long i = 0; i < m; ++i)
    for (int64_t j = 0; j < rows; ++j) {
      double ref = 0;
      for (long c = 0; c < k; ++c)
        ref += double(x[i * k + c]) * w[j * k + c];
      double got = y[i * n + j];
      e += (got - ref) * (got - ref);
      r += ref * ref;
    }
  return std::sqrt(e / r);
}

uint16_t toBf16(float v) { // round to nearest even (v finite)
  uint32_t bits;
  std::memcpy(&bits, &v, 4);
  bits += 0x7FFFu + ((bits >> 16) & 1u);
  return uint16_t(bits >> 16);
}

/// Generated code (squant-lower-to-llvm-cpu) for one qmatmul shape: the
/// weight's packed bytes, scales and bias (or table) are arguments, so the
/// benchmark rotates cold copies exactly as for squant_rt.
struct Generated {
  mlir::squant::JitEngine engine;
  void (*fn)(void *, void *, void *, void *, void *) = nullptr;
};

struct Desc2 {
  void *allocated, *aligned;
  int64_t offset, sizes[2], strides[2];
};

Desc2 desc(const void *p, int64_t rows, int64_t cols) {
  return {const_cast<void *>(p), const_cast<void *>(p), 0, {rows, cols}, {cols, 1}};
}

Generated generate(mlir::MLIRContext &ctx, long m, long n, long k, int bits,
                   bool lut, int64_t group, int threads) {
  int64_t rowBytes = (k * bits + 7) / 8, groups = k / group;
  std::string xT = "tensor<" + std::to_string(m) + "x" + std::to_string(k) + "xf32>";
  std::string pT = "tensor<" + std::to_string(n) + "x" + std::to_string(rowBytes) + "xi8>";
  std::string qT = "tensor<" + std::to_string(n) + "x" + std::to_string(k) + "xi8>";
  std::string sT = "tensor<" + std::to_string(n) + "x" + std::to_string(groups) + "xf32>";
  std::string yT = "tensor<" + std::to_string(m) + "x" + std::to_string(n) + "xf32>";
  std::string tT = "tensor<" + std::to_string(1 << bits) + "xi8>";
  std::string g = std::to_string(group), b = std::to_string(bits);
  std::string ir =
      "func.func @k(%x: " + xT + ", %p: " + pT + ", %s: " + sT + ", %b: " +
      (lut ? tT : sT) + ") -> " + yT + " attributes {llvm.emit_c_interface} {\n"
      "  %q = squant.unpack %p layout <order = lsb_first, bits = " + b +
      ", storage = unsigned> : " + pT + " -> " + qT + "\n" +
      (lut ? "  %y = squant.qmatmul %x, %q scales(%s) table(%b) form(#squant.lut<bits = " +
                 b + ", axis = 1, group_size = " + g + ">) : (" + xT + ", " + qT +
                 ", " + sT + ", " + tT + ") -> " + yT + "\n"
           : "  %y = squant.qmatmul %x, %q scales(%s) bias(%b) form(#squant.fma<bits = " +
                 b + ", storage = unsigned, axis = 1, group_size = " + g + ">) : (" +
                 xT + ", " + qT + ", " + sT + ", " + sT + ") -> " + yT + "\n") +
      "  return %y : " + yT + "\n}\n";
  Generated gen;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(ir, &ctx);
  mlir::PassManager pm(&ctx);
  std::string pipeline =
      "squant-lower-to-llvm-cpu{threads=" + std::to_string(threads) + "}";
  if (!module || mlir::failed(mlir::parsePassPipeline(pipeline, pm)) ||
      mlir::failed(pm.run(*module))) {
    std::fprintf(stderr, "lowering failed:\n%s", ir.c_str());
    return gen;
  }
  auto engine = mlir::squant::createJit(*module, /*optLevel=*/3);
  if (!engine) {
    std::fprintf(stderr, "JIT failed: %s\n", llvm::toString(engine.takeError()).c_str());
    return gen;
  }
  gen.engine = std::move(*engine);
  auto sym = gen.engine->lookup("_mlir_ciface_k");
  if (sym)
    gen.fn = reinterpret_cast<decltype(gen.fn)>(*sym);
  else
    llvm::consumeError(sym.takeError());
  return gen;
}

std::vector<long> parseList(const char *s) {
  std::vector<long> out;
  for (const char *p = s; *p;) {
    out.push_back(std::strtol(p, const_cast<char **>(&p), 10));
    if (*p == ',' || *p == 'x')
      ++p;
  }
  return out;
}

/// The paired reads' threads: a pool's, where the library's calls run.
mlir::squant::OnThreads onPool(squant_rt_pool *pool) {
  return [pool](const std::function<void(int, int)> &task) {
    squant_rt_pool_parallel(
        pool,
        [](void *arg, int32_t index, int32_t count) {
          (*static_cast<const std::function<void(int, int)> *>(arg))(index,
                                                                     count);
        },
        const_cast<std::function<void(int, int)> *>(&task));
  };
}

/// The paired reads' threads for generated code: squant_rt_parallel_for's
/// pool of `threads`, where its loops run (one iteration per thread).
mlir::squant::OnThreads onLoopThreads(int threads) {
  return [threads](const std::function<void(int, int)> &task) {
    struct Loop {
      const std::function<void(int, int)> *task;
      int threads;
    } loop{&task, threads};
    squant_rt_parallel_for(
        [](void *ctx, int64_t begin, int64_t end) {
          auto *l = static_cast<Loop *>(ctx);
          for (int64_t i = begin; i < end; ++i)
            (*l->task)(int(i), l->threads);
        },
        &loop, threads, threads);
  };
}

} // namespace

int main(int argc, char **argv) {
  std::vector<std::pair<long, long>> shapes = {
      {4096, 4096}, {11008, 4096}, {4096, 11008}, {14336, 4096}};
  std::vector<long> ms = {1, 8, 32, 128};
  std::vector<int> threadCounts = {1, 2};
  std::vector<Variant> variants = {
      {"int4", SQUANT_RT_FORM_FMA, 4},
      {"int4 int8-act", SQUANT_RT_FORM_FMA, 4, SQUANT_RT_FLAG_INT8_ACTIVATIONS},
      {"int3", SQUANT_RT_FORM_FMA, 3},
      {"int3 tile16", SQUANT_RT_FORM_FMA, 3, 0, SQUANT_RT_LAYOUT_TILE16_V1},
      {"int3 int8-act", SQUANT_RT_FORM_FMA, 3, SQUANT_RT_FLAG_INT8_ACTIVATIONS},
      {"int2", SQUANT_RT_FORM_FMA, 2},
      {"int2 tile16", SQUANT_RT_FORM_FMA, 2, 0, SQUANT_RT_LAYOUT_TILE16_V1},
      {"int2 int8-act", SQUANT_RT_FORM_FMA, 2, SQUANT_RT_FLAG_INT8_ACTIVATIONS},
      {"int2 tile16v2", SQUANT_RT_FORM_FMA, 2, 0, SQUANT_RT_LAYOUT_TILE16_V2},
      {"int2 tile16v2 avx512", SQUANT_RT_FORM_FMA, 2, 0,
       SQUANT_RT_LAYOUT_TILE16_V2, false, SQUANT_RT_ISA_AVX512},
      {"int2 tile16v2 int8-act", SQUANT_RT_FORM_FMA, 2,
       SQUANT_RT_FLAG_INT8_ACTIVATIONS, SQUANT_RT_LAYOUT_TILE16_V2},
      {"int2 tile16v2 int8-act amx", SQUANT_RT_FORM_FMA, 2,
       SQUANT_RT_FLAG_INT8_ACTIVATIONS, SQUANT_RT_LAYOUT_TILE16_V2, false,
       SQUANT_RT_ISA_AMX},
      {"int3 tile16v2", SQUANT_RT_FORM_FMA, 3, 0, SQUANT_RT_LAYOUT_TILE16_V2},
      {"int3 tile16v2 avx512", SQUANT_RT_FORM_FMA, 3, 0,
       SQUANT_RT_LAYOUT_TILE16_V2, false, SQUANT_RT_ISA_AVX512},
      {"lut2 tile16v2", SQUANT_RT_FORM_LUT_INT8, 2, 0,
       SQUANT_RT_LAYOUT_TILE16_V2},
      {"lut2 tile16v2 avx512", SQUANT_RT_FORM_LUT_INT8, 2, 0,
       SQUANT_RT_LAYOUT_TILE16_V2, false, SQUANT_RT_ISA_AVX512},
      {"int4 tile16v2", SQUANT_RT_FORM_FMA, 4, 0, SQUANT_RT_LAYOUT_TILE16_V2},
      {"int4 tile16v2 int8-act", SQUANT_RT_FORM_FMA, 4,
       SQUANT_RT_FLAG_INT8_ACTIVATIONS, SQUANT_RT_LAYOUT_TILE16_V2},
      {"int4 tile16v2 int8-act vnni", SQUANT_RT_FORM_FMA, 4,
       SQUANT_RT_FLAG_INT8_ACTIVATIONS, SQUANT_RT_LAYOUT_TILE16_V2, false,
       SQUANT_RT_ISA_AVX512},
      {"lut4 tile16v2", SQUANT_RT_FORM_LUT_INT8, 4, 0,
       SQUANT_RT_LAYOUT_TILE16_V2},
      {"int8", SQUANT_RT_FORM_FMA, 8},
      {"int8 tile16v2", SQUANT_RT_FORM_FMA, 8, 0, SQUANT_RT_LAYOUT_TILE16_V2},
      {"int8 int8-act", SQUANT_RT_FORM_FMA, 8, SQUANT_RT_FLAG_INT8_ACTIVATIONS},
      {"lut4", SQUANT_RT_FORM_LUT_INT8, 4},
      {"lut2", SQUANT_RT_FORM_LUT_INT8, 2},
      {"lut2 tile16", SQUANT_RT_FORM_LUT_INT8, 2, 0,
       SQUANT_RT_LAYOUT_TILE16_V1},
      {"int4 avx512", SQUANT_RT_FORM_FMA, 4, 0, SQUANT_RT_LAYOUT_BLOCK32_V1,
       false, SQUANT_RT_ISA_AVX512},
      {"int3 avx512", SQUANT_RT_FORM_FMA, 3, 0, SQUANT_RT_LAYOUT_BLOCK32_V1,
       false, SQUANT_RT_ISA_AVX512},
      {"int2 avx512", SQUANT_RT_FORM_FMA, 2, 0, SQUANT_RT_LAYOUT_BLOCK32_V1,
       false, SQUANT_RT_ISA_AVX512},
      {"int8 avx512", SQUANT_RT_FORM_FMA, 8, 0, SQUANT_RT_LAYOUT_BLOCK32_V1,
       false, SQUANT_RT_ISA_AVX512},
      {"lut4 avx512", SQUANT_RT_FORM_LUT_INT8, 4, 0,
       SQUANT_RT_LAYOUT_BLOCK32_V1, false, SQUANT_RT_ISA_AVX512},
      {"int4 avx2", SQUANT_RT_FORM_FMA, 4, 0, SQUANT_RT_LAYOUT_BLOCK32_V1,
       false, SQUANT_RT_ISA_AVX2},
      {"int3 avx2", SQUANT_RT_FORM_FMA, 3, 0, SQUANT_RT_LAYOUT_BLOCK32_V1,
       false, SQUANT_RT_ISA_AVX2},
      {"int2 avx2", SQUANT_RT_FORM_FMA, 2, 0, SQUANT_RT_LAYOUT_BLOCK32_V1,
       false, SQUANT_RT_ISA_AVX2},
      {"int8 avx2", SQUANT_RT_FORM_FMA, 8, 0, SQUANT_RT_LAYOUT_BLOCK32_V1,
       false, SQUANT_RT_ISA_AVX2},
      {"lut4 avx2", SQUANT_RT_FORM_LUT_INT8, 4, 0, SQUANT_RT_LAYOUT_BLOCK32_V1,
       false, SQUANT_RT_ISA_AVX2},
      {"int4 bf16", SQUANT_RT_FORM_FMA, 4, 0, SQUANT_RT_LAYOUT_BLOCK32_V1,
       true},
      {"int4 bf16 widened", SQUANT_RT_FORM_FMA, 4, 0,
       SQUANT_RT_LAYOUT_BLOCK32_V1, true, SQUANT_RT_ISA_AVX512},
      {"int3 bf16", SQUANT_RT_FORM_FMA, 3, 0, SQUANT_RT_LAYOUT_BLOCK32_V1,
       true},
      {"int2 bf16", SQUANT_RT_FORM_FMA, 2, 0, SQUANT_RT_LAYOUT_BLOCK32_V1,
       true},
      {"int8 bf16", SQUANT_RT_FORM_FMA, 8, 0, SQUANT_RT_LAYOUT_BLOCK32_V1,
       true},
      {"lut4 bf16", SQUANT_RT_FORM_LUT_INT8, 4, 0, SQUANT_RT_LAYOUT_BLOCK32_V1,
       true}};
  for (Variant &v : variants)
    for (const char *row : kTableRows)
      v.inTable |= std::strcmp(v.name, row) == 0;
  // Default: the table's rows in their preferred layouts; --all or
  // --variants: the variants named, at every M they run at.
  bool tableOnly = true;
  int64_t group = 128;
  bool generatedRows = true;
  bool baselines = true; // --no-baselines: quicker runs, BLAS ratios read nan
  bool hot = false;      // --hot: one copy of each weight, not cold copies
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--quick") {
      shapes = {{4096, 4096}};
      ms = {1, 32};
    } else if (a == "--shapes" && i + 1 < argc) {
      std::vector<long> v = parseList(argv[++i]);
      shapes.clear();
      for (size_t j = 0; j + 1 < v.size(); j += 2)
        shapes.push_back({v[j], v[j + 1]});
    } else if (a == "--m" && i + 1 < argc) {
      ms = parseList(argv[++i]);
    } else if (a == "--no-generated") {
      generatedRows = false;
    } else if (a == "--no-baselines") {
      baselines = false;
    } else if (a == "--baselines-only") {
      variants.clear();
      generatedRows = false;
    } else if (a == "--hot") {
      hot = true;
    } else if (a == "--all") {
      tableOnly = false;
    } else if (a == "--group" && i + 1 < argc) {
      group = std::atol(argv[++i]);
    } else if (a == "--threads" && i + 1 < argc) {
      threadCounts.clear();
      for (long t : parseList(argv[++i]))
        threadCounts.push_back(int(t));
    } else if (a == "--variants" && i + 1 < argc) {
      // Names as in the table, comma-separated: --variants int4,lut2
      std::string wanted = std::string(",") + argv[++i] + ",";
      std::vector<Variant> kept;
      for (const Variant &v : variants)
        if (wanted.find("," + std::string(v.name) + ",") != std::string::npos)
          kept.push_back(v);
      variants = kept;
      tableOnly = false;
    } else {
      std::fprintf(stderr, "unknown or incomplete argument '%s'\n", a.c_str());
      return 2;
    }
  }
  const char *dnnlIsa = std::getenv("ONEDNN_MAX_CPU_ISA");
  std::printf("squant_rt qgemm, group %lld, fp32 activations ('bf16' rows: "
              "bf16); ISA %d "
              "(3 = AVX-512, 4 = AVX-512 + AMX-BF16/INT8); "
              "OpenBLAS core %s; oneDNN ISA %s; %d windows, median [min, "
              "max]\n",
              (long long)group, int(squant_rt_best_isa()),
              openblas_get_corename(), dnnlIsa ? dnnlIsa : "its best",
              kWindows);
  std::printf(
      "Rows 'gen ...' are squant-lower-to-llvm-cpu's generated code on the "
      "same weights (lsb_first packed bytes), last column: the time of the "
      "row above (squant_rt in the layout convert-squant-to-runtime packs) "
      "/ its time.\n"
      "Weight GB/s: codes + scales + biases per second, %s.\n"
      "'bf16' rows: squant_rt_qgemm_bf16 (x in bf16, y fp32); their oneDNN "
      "column is against oneDNN bf16 (x and weights bf16, y fp32; AMX where "
      "oneDNN uses it), 'widened' forces AVX-512 (x widened to fp32).\n"
      "Each squant_rt row's result is checked before it is timed: against "
      "the portable kernel's on the first %lld weight rows (TILE16_V1: all; "
      "relative L2 at "
      "most %.0e; the int8-activation rows print their error against the "
      "exact mode instead), each 'gen' row's against an fp64 product of "
      "the codes it reads; a row off by more prints 'WRONG' and the "
      "command exits 1.\n"
      "'of read BW': weight GB/s over the probe's read before each window; "
      "'of paired read': over a read of the same number of bytes (cold, "
      "two streams) on the call's threads right before each call, median "
      "per window of read time / call time, median over windows.\n",
      hot ? "HOT (--hot: one copy of each weight, served from the caches "
            "where it fits)"
          : "all cold",
      (long long)kCheckRows, kCheckTolerance);
  std::printf(
      "| N x K | M | thr | variant | time ms [min, max] | weight GB/s | "
      "of read BW | of paired read | GFLOP/s | OpenBLAS / this | "
      "oneDNN / this | squant_rt / this |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  mlir::registerAllPasses();
  mlir::squant::registerAllPasses();
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
  mlir::squant::registerAllDialects(registry);
  mlir::MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  BandwidthProbe probe;
  bool wrong = false; // a row failed its check (offPortable, offLsbFirst)
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);

  for (auto shape : shapes)
    for (long m : ms) {
      const long n = shape.first, k = shape.second;
      std::vector<float> x(m * k);
      for (size_t i = 0; i < x.size(); ++i)
        x[i] = float(mix64(i) % 1000000) / 1000000.0f - 0.5f;
      std::vector<float> y(m * n);
      std::vector<uint16_t> xb(x.size());
      for (size_t i = 0; i < x.size(); ++i)
        xb[i] = toBf16(x[i]);
      bool anyBf16 = false;
      for (const Variant &v : variants)
        anyBf16 |= v.bf16 && (v.inTable || !tableOnly);
      // Baselines on fp32 weights: copies spanning the cold-size.
      size_t fBytes = size_t(n) * k * sizeof(float);
      int fCopies =
          !baselines ? 0
          : hot      ? 1
                : int(std::max<size_t>(2, (kColdBytes + fBytes - 1) / fBytes));
      Copies<float> wf(fCopies, size_t(n) * k);
      if (baselines) {
        for (size_t i = 0; i < wf.elements; ++i)
          wf[0][i] = float((i * 40503u) % 2000) / 1000.0f - 1.0f;
        wf.fill();
      }
      for (int threads : threadCounts) {
        openblas_set_num_threads(threads);
        omp_set_num_threads(threads);
        TimingStats blas{NAN, NAN, NAN, NAN}, onednn = blas, onednnBf16 = blas;
        if (baselines) {
          blas = timeWindows(
              [&](int call) {
                int c = call % fCopies;
                if (m == 1)
                  cblas_sgemv(CblasRowMajor, CblasNoTrans, n, k, 1.0f, wf[c], k,
                              x.data(), 1, 0.0f, y.data(), 1);
                else
                  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k,
                              1.0f, x.data(), k, wf[c], k, 0.0f, y.data(), n);
              },
              probe, threads);
          using dt = dnnl::memory::data_type;
          using tag = dnnl::memory::format_tag;
          dnnl::memory::desc src({m, k}, dt::f32, tag::ab);
          dnnl::memory::desc wts({k, n}, dt::f32, tag::ba); // W^T of an [N, K] weight
          dnnl::memory::desc dst({m, n}, dt::f32, tag::ab);
          dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, wts, dst), engine);
          dnnl::matmul mm(pd);
          dnnl::memory srcMem(src, engine, x.data()), dstMem(dst, engine, y.data());
          std::vector<dnnl::memory> wMem;
          for (int c = 0; c < fCopies; ++c)
            wMem.emplace_back(wts, engine, wf[c]);
          onednn = timeWindows(
              [&](int call) {
                int c = call % fCopies;
                mm.execute(stream, {{DNNL_ARG_SRC, srcMem},
                                    {DNNL_ARG_WEIGHTS, wMem[c]},
                                    {DNNL_ARG_DST, dstMem}});
                stream.wait();
              },
              probe, threads);
          if (anyBf16) {
            // bf16 x and weights (the fp32 copies rounded), fp32 y.
            dnnl::memory::desc srcB({m, k}, dt::bf16, tag::ab);
            dnnl::memory::desc wtsB({k, n}, dt::bf16, tag::ba);
            dnnl::matmul::primitive_desc pdB(
                dnnl::matmul::desc(srcB, wtsB, dst), engine);
            dnnl::matmul mmB(pdB);
            dnnl::memory srcBMem(srcB, engine, xb.data());
            int bCopies =
                hot ? 1
                    : int(std::max<size_t>(2, (kColdBytes + fBytes / 2 - 1) /
                                                  (fBytes / 2)));
            Copies<uint16_t> wb(bCopies, wf.elements);
            for (size_t i = 0; i < wb.elements; ++i)
              wb[0][i] = toBf16(wf[0][i]);
            wb.fill();
            std::vector<dnnl::memory> wbMem;
            for (int c = 0; c < bCopies; ++c)
              wbMem.emplace_back(wtsB, engine, wb[c]);
            onednnBf16 = timeWindows(
                [&](int call) {
                  mmB.execute(stream,
                              {{DNNL_ARG_SRC, srcBMem},
                               {DNNL_ARG_WEIGHTS, wbMem[call % bCopies]},
                               {DNNL_ARG_DST, dstMem}});
                  stream.wait();
                },
                probe, threads);
          }
        }
        squant_rt_pool *pool = nullptr;
        squant_rt_pool_create(threads, &pool);
        for (const Variant &v : variants) {
          bool inlineParams = v.layout == SQUANT_RT_LAYOUT_TILE16_V2;
          if ((v.flags || inlineParams) && m != 1)
            continue; // GEMV modes and layouts
          squant_rt_qweight shape{};
          shape.form = v.form;
          shape.bits = v.bits;
          shape.n = n;
          shape.k = k;
          shape.group_size = group;
          bool preferred =
              v.layout == squant_rt_preferred_layout(&shape, m, v.isa);
          if (tableOnly && !(v.inTable && preferred))
            continue;
          // A cold weight is its codes and its parameters: each copy has
          // its own scales (and biases for the FMA form), and the bytes per
          // second count them (a per-tensor table is not counted).
          // TILE16_V2 holds them among its codes.
          size_t codeBytes =
              inlineParams
                  ? squant_rt_packed_size_tile16_v2(n, k, v.bits, group)
                  : squant_rt_packed_size_layout(v.layout, n, k, v.bits);
          int64_t groups = k / group;
          bool hasBias = v.form == SQUANT_RT_FORM_FMA;
          size_t paramBytes =
              inlineParams
                  ? 0
                  : size_t(n) * groups * sizeof(float) * (hasBias ? 2 : 1);
          size_t bytes = codeBytes + paramBytes;
          int copies =
              hot ? 1
                  : int(std::max<size_t>(2, (kColdBytes + bytes - 1) / bytes));
          // Scales of 0.01 and the bias that centres the codes' range on
          // zero, as a min/max quantization of zero-mean weights places it:
          // the values do not matter for speed, but the int8-activation
          // rows' error (the rounding of x times the weights) depends on
          // them.
          const float scale = 0.01f,
                      centre = -scale * float((1 << v.bits) - 1) / 2.0f;
          Copies<uint8_t> codes(copies, codeBytes);
          for (size_t i = 0; i < codeBytes; ++i)
            codes[0][i] = uint8_t(mix64(i) >> 56);
          if (inlineParams) {
            // Codes from the same hash, parameters as above (not random
            // bytes: those would hold denormals).
            std::vector<int8_t> q(size_t(n) * k);
            for (size_t i = 0; i < q.size(); ++i)
              q[i] = int8_t((mix64(i) >> 56) & ((1u << v.bits) - 1));
            std::vector<float> s(n * groups, scale), b(n * groups, centre);
            squant_rt_pack_tile16_v2(q.data(), s.data(),
                                     hasBias ? b.data() : nullptr, n, k, v.bits,
                                     group, codes[0], codeBytes);
          }
          codes.fill();
          Copies<float> scales(copies, size_t(n) * groups),
              bias(hasBias ? copies : 1, size_t(n) * groups);
          std::fill_n(scales[0], scales.elements, scale);
          std::fill_n(bias[0], bias.elements, centre);
          scales.fill();
          bias.fill();
          std::vector<int8_t> table(16);
          for (int i = 0; i < 16; ++i)
            table[i] = int8_t(2 * (i - 8) + 1);
          squant_rt_qweight w{
              v.layout,  v.form,  v.bits,       0,       n, k, group, nullptr,
              scales[0], bias[0], table.data(), nullptr, 0};
          auto useCopy = [&](int c) {
            w.codes = codes[c];
            w.scales = scales[c];
            w.bias = bias[hasBias ? c : 0];
          };
          std::vector<char> ws((v.bf16
                                    ? squant_rt_qgemm_bf16_workspace_size(m, &w)
                                    : squant_rt_qgemm_workspace_size(m, &w)) +
                               64);
          squant_rt_options opts{v.isa, pool, v.flags};
          std::string name = v.name;
          auto run = [&] {
            return v.bf16 ? squant_rt_qgemm_bf16(xb.data(), m, k, &w, y.data(),
                                                 n, ws.data(), ws.size(), &opts)
                          : squant_rt_qgemm(x.data(), m, k, &w, y.data(), n,
                                            ws.data(), ws.size(), &opts);
          };
          useCopy(0);
          if (squant_rt_status st = run()) {
            // E.g. the int8-activation mode without VNNI (or VBMI for 3
            // bits): say so instead of timing a call that does nothing.
            std::printf("| %ldx%ld | %ld | %d | %s | not run: status %d | | | "
                        "| | | | |\n",
                        n, k, m, threads, name.c_str(), int(st));
            continue;
          }
          if (!v.flags) {
            double off =
                offPortable(w, v.bf16, x.data(), xb.data(), m, y.data());
            if (!(off <= kCheckTolerance)) {
              std::printf("| %ldx%ld | %ld | %d | %s | WRONG: %.1e off the "
                          "portable kernel, not timed | | | | | | | |\n",
                          n, k, m, threads, name.c_str(), off);
              std::fflush(stdout);
              wrong = true;
              continue;
            }
          }
          if (v.flags) {
            // Accuracy next to speed: relative L2 error against the exact
            // fp32-activation result on the same weight.
            std::vector<float> exact(m * n), fast(m * n);
            squant_rt_options exactOpts{SQUANT_RT_ISA_AUTO, pool, 0};
            useCopy(0);
            squant_rt_qgemm(x.data(), m, k, &w, exact.data(), n, ws.data(), ws.size(),
                            &exactOpts);
            squant_rt_qgemm(x.data(), m, k, &w, fast.data(), n, ws.data(), ws.size(), &opts);
            double e = 0, r = 0;
            for (size_t i = 0; i < exact.size(); ++i) {
              e += double(fast[i] - exact[i]) * (fast[i] - exact[i]);
              r += double(exact[i]) * exact[i];
            }
            char buf[64];
            std::snprintf(buf, sizeof buf, " (rel err %.1e)", std::sqrt(e / r));
            name += buf;
          }
          mlir::squant::OnThreads callThreads = onPool(pool);
          TimingStats s = timeWindows(
              [&](int call) {
                useCopy(call % copies);
                run();
              },
              probe, threads, kWindows, 0.05, nullptr,
              [&](int) { return probe.readNext(bytes, callThreads); });
          double gbs = double(bytes) / s.median / 1e9;
          std::printf(
              "| %ldx%ld | %ld | %d | %s | %.3f [%.3f, %.3f] | %.1f | %.2f | "
              "%.2f | %.1f | %.2f | %.2f | |\n",
              n, k, m, threads, name.c_str(), s.median * 1e3, s.min * 1e3,
              s.max * 1e3, gbs, gbs * 1e9 / s.bandwidth, s.pairedFraction,
              2.0 * m * n * k / s.median / 1e9, blas.median / s.median,
              (v.bf16 ? onednnBf16 : onednn).median / s.median);
          std::fflush(stdout);
          // Generated code next to what the compiler would call instead
          // (the runtime row in the layout convert-squant-to-runtime
          // packs) and next to the AVX-512 kernels (rows forced to
          // AVX-512: the generated code's own ISA).
          if (!generatedRows || v.flags || v.bf16 ||
              !(preferred || v.isa == SQUANT_RT_ISA_AVX512))
            continue;
          // The same weights through generated code: lsb_first packed rows
          // of the same size (BLOCK32's 4-bit order differs, the bytes do not
          // matter for speed), scales and bias per group.
          bool lut = v.form != SQUANT_RT_FORM_FMA;
          Generated gen = generate(ctx, m, n, k, v.bits, lut, group, threads);
          if (!gen.fn)
            continue;
          size_t rowBytes = (size_t(k) * v.bits + 7) / 8;
          size_t genBytes = size_t(n) * rowBytes + paramBytes;
          mlir::squant::OnThreads loopThreads = onLoopThreads(threads);
          Desc2 xd = desc(x.data(), m, k);
          // Copy c's call; its y, or freed with keep false.
          auto callGenerated = [&](int c, bool keep) {
            Desc2 pd = desc(codes[c], n, rowBytes), yd;
            Desc2 sd = desc(scales[c], n, groups);
            Desc2 bd = lut ? desc(table.data(), 1, int64_t(1) << v.bits)
                           : desc(bias[c], n, groups);
            bd.sizes[0] = lut ? (int64_t(1) << v.bits) : n;
            bd.strides[0] = lut ? 1 : groups;
            gen.fn(&yd, &xd, &pd, &sd, &bd);
            if (!keep) {
              std::free(yd.allocated);
              return std::vector<float>();
            }
            const float *out =
                static_cast<const float *>(yd.aligned) + yd.offset;
            std::vector<float> got(out, out + m * n);
            std::free(yd.allocated);
            return got;
          };
          std::vector<float> genY = callGenerated(0, true);
          double genOff =
              offLsbFirst(codes[0], rowBytes, scales[0], bias[0], table.data(),
                          lut, v.bits, m, n, k, group, x.data(), genY.data());
          if (!(genOff <= kCheckTolerance)) {
            std::printf("| %ldx%ld | %ld | %d | gen %s | WRONG: %.1e off the "
                        "fp64 product, not timed | | | | | | | |\n",
                        n, k, m, threads, v.name, genOff);
            std::fflush(stdout);
            wrong = true;
            continue;
          }
          TimingStats gs = timeWindows(
              [&](int call) { callGenerated(call % copies, false); }, probe,
              threads, kWindows, 0.05, nullptr,
              [&](int) { return probe.readNext(genBytes, loopThreads); });
          double ggbs = double(genBytes) / gs.median / 1e9;
          std::printf("| %ldx%ld | %ld | %d | gen %s | %.3f [%.3f, %.3f] | "
                      "%.1f | %.2f | "
                      "%.2f | %.1f | %.2f | %.2f | %.2f |\n",
                      n, k, m, threads, v.name, gs.median * 1e3, gs.min * 1e3,
                      gs.max * 1e3, ggbs, ggbs * 1e9 / gs.bandwidth,
                      gs.pairedFraction, 2.0 * m * n * k / gs.median / 1e9,
                      blas.median / gs.median, onednn.median / gs.median,
                      s.median / gs.median);
          std::fflush(stdout);
        }
        std::printf("| %ldx%ld | %ld | %d | read BW probe | | %.1f | 1.00 | | "
                    "| | | |\n",
                    n, k, m, threads, probe.measure(threads) / 1e9);
        if (!baselines) {
          squant_rt_pool_destroy(pool);
          continue;
        }
        std::printf("| %ldx%ld | %ld | %d | OpenBLAS fp32 | %.3f | %.1f | | | "
                    "%.1f | 1.00 | | |\n",
                    n, k, m, threads, blas.median * 1e3,
                    double(fBytes) / blas.median / 1e9,
                    2.0 * m * n * k / blas.median / 1e9);
        std::printf("| %ldx%ld | %ld | %d | oneDNN fp32 | %.3f | %.1f | | | "
                    "%.1f | | 1.00 | |\n",
                    n, k, m, threads, onednn.median * 1e3,
                    double(fBytes) / onednn.median / 1e9,
                    2.0 * m * n * k / onednn.median / 1e9);
        if (anyBf16)
          std::printf("| %ldx%ld | %ld | %d | oneDNN bf16 | %.3f | %.1f | | | "
                      "%.1f | | 1.00 | |\n",
                      n, k, m, threads, onednnBf16.median * 1e3,
                      double(fBytes / 2) / onednnBf16.median / 1e9,
                      2.0 * m * n * k / onednnBf16.median / 1e9);
        squant_rt_pool_destroy(pool);
      }
    }
  if (wrong)
    std::fprintf(stderr, "squant-bench-runtime: a kernel gave a wrong result "
                         "(rows 'WRONG' above)\n");
  return wrong ? 1 : 0;
}
