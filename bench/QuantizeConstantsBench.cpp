//===- QuantizeConstantsBench.cpp - Compile-time quantization throughput --===//
//
// Measures squant-quantize-constants on one large fp32 weight held in a
// dense_resource blob (as a model importer would hand it over): wall time,
// fp32 bytes quantized per second on one core (median of 3 runs), and peak
// resident memory relative to the weight's size. Not a test: prints one
// table row.
//
//   squant-bench-quantize-constants <scheme> <bits> <group-size> [N] [K] [pack]
//
//===----------------------------------------------------------------------===//

#include "squant/Dialect/SQuant/IR/SQuant.h"
#include "squant/Dialect/SQuant/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/Pass/PassManager.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace mlir;

static double peakRssBytes() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) * 1024.0;
}

static double currentRssBytes() {
  FILE *f = std::fopen("/proc/self/statm", "r");
  long pages = 0, resident = 0;
  if (f) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2)
      resident = 0;
    std::fclose(f);
  }
  return static_cast<double>(resident) * 4096.0;
}

/// Builds `linear(x) = x * W^T` around the weight buffer (lent without a
/// copy, as an importer's mmap would be), runs squant-quantize-constants and
/// returns its wall time.
static std::optional<double> quantizeOnce(MLIRContext &context,
                                          const std::vector<float> &weight,
                                          int64_t n, int64_t k,
                                          const std::string &scheme,
                                          unsigned bits, int64_t group,
                                          const std::string &pack) {
  OpBuilder b(&context);
  Location loc = b.getUnknownLoc();
  auto module = ModuleOp::create(b, loc);
  b.setInsertionPointToEnd(module.getBody());
  auto f32 = b.getF32Type();
  auto xType = RankedTensorType::get({1, k}, f32);
  auto wType = RankedTensorType::get({n, k}, f32);
  auto yType = RankedTensorType::get({1, n}, f32);
  auto fn = func::FuncOp::create(b, loc, "linear", b.getFunctionType({xType}, {yType}));
  b.setInsertionPointToStart(fn.addEntryBlock());
  auto blob = UnmanagedAsmResourceBlob::allocateInferAlign(ArrayRef<float>(weight));
  auto attr = DenseResourceElementsAttr::get(wType, "weight", std::move(blob));
  Value w = arith::ConstantOp::create(b, loc, wType, attr);
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  Value empty = tensor::EmptyOp::create(b, loc, yType.getShape(), f32);
  Value init = linalg::FillOp::create(b, loc, zero, empty).getResult(0);
  AffineExpr m, nn, kk;
  bindDims(&context, m, nn, kk);
  auto mm = linalg::MatmulOp::create(b, loc, TypeRange{yType},
                                     ValueRange{fn.getArgument(0), w},
                                     ValueRange{init});
  mm->setAttr("indexing_maps",
              b.getAffineMapArrayAttr({AffineMap::get(3, 0, {m, kk}, &context),
                                       AffineMap::get(3, 0, {nn, kk}, &context),
                                       AffineMap::get(3, 0, {m, nn}, &context)}));
  func::ReturnOp::create(b, loc, mm.getResult(0));

  PassManager pm(&context);
  squant::SQuantQuantizeConstantsOptions options;
  options.scheme = scheme;
  options.bits = bits;
  options.groupSize = group;
  options.pack = pack;
  pm.addPass(squant::createSQuantQuantizeConstants(options));
  auto start = std::chrono::steady_clock::now();
  LogicalResult result = pm.run(module);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (failed(result)) {
    std::fprintf(stderr, "squant-quantize-constants failed\n");
    return std::nullopt;
  }
  bool quantized = false;
  module.walk([&](squant::DequantizeOp) { quantized = true; });
  if (!quantized) {
    std::fprintf(stderr, "the weight was not quantized\n");
    return std::nullopt;
  }
  module->erase();
  return seconds;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s <scheme> <bits> <group-size> [N] [K] [pack]\n",
                 argv[0]);
    return 2;
  }
  std::string scheme = argv[1];
  unsigned bits = std::atoi(argv[2]);
  int64_t group = std::atoll(argv[3]);
  int64_t n = argc > 4 ? std::atoll(argv[4]) : 16384;
  int64_t k = argc > 5 ? std::atoll(argv[5]) : 16384;
  std::string pack = argc > 6 ? argv[6] : "none";

  MLIRContext context;
  DialectRegistry registry;
  registry.insert<squant::SQuantDialect, arith::ArithDialect, func::FuncDialect,
                  linalg::LinalgDialect, tensor::TensorDialect>();
  context.appendDialectRegistry(registry);
  context.loadAllAvailableDialects();
  double baseline = currentRssBytes();

  // The weight: deterministic pseudo-random values, owned here and lent to
  // the IR without a copy (an importer's mmap would look the same).
  std::vector<float> weight(static_cast<size_t>(n) * k);
  uint32_t state = 12345;
  for (float &w : weight) {
    state = state * 1664525u + 1013904223u;
    w = (static_cast<int32_t>(state) >> 8) * 0x1p-23f;
  }
  double inputBytes = static_cast<double>(weight.size()) * sizeof(float);

  // Median over repeats: each builds the IR afresh around the same buffer.
  constexpr int kRepeats = 3;
  // Peak memory is that of the first run: later runs add their own
  // (context-owned) results on top.
  std::vector<double> times;
  double peak = 0.0;
  for (int repeat = 0; repeat < kRepeats; ++repeat) {
    std::optional<double> t = quantizeOnce(context, weight, n, k, scheme, bits,
                                           group, pack);
    if (!t)
      return 1;
    times.push_back(*t);
    if (repeat == 0)
      peak = peakRssBytes() - baseline;
  }
  std::sort(times.begin(), times.end());
  double seconds = times[kRepeats / 2];
  std::printf("| %-16s | %4u | %5lld | %-9s | %6.2f GiB | %7.3f s | %6.2f GB/s | %5.2fx |\n",
              scheme.c_str(), bits, static_cast<long long>(group), pack.c_str(),
              inputBytes / (1024.0 * 1024.0 * 1024.0), seconds,
              inputBytes / seconds / 1e9, peak / inputBytes);
  return 0;
}
