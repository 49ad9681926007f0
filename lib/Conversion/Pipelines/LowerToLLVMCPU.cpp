//===- LowerToLLVMCPU.cpp - squant-lower-to-llvm-cpu ----------------------===//
//
// squant-level IR on tensors -> the LLVM dialect, for the CPU:
//   [convert-squant-to-runtime]  qmatmuls the runtime takes become calls
//   convert-squant-to-vector     everything else becomes loops on buffers
//   convert-elementwise-to-linalg  arith/math on tensors (e.g. a bias computed
//                                from run-time scales) become linalg.generic
//   one-shot-bufferize           identity layouts at function boundaries
//   buffer-deallocation-pipeline
//   [squant-parallel-to-runtime] threads > 1: the row loop (scf.parallel) on
//                                squant_rt's thread pool
//   vector/scf/memref/arith/math/func -> llvm
// Textual so that `--dump-pass-pipeline` shows exactly what runs.
//
//===----------------------------------------------------------------------===//

#include "squant/Conversion/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;

namespace {

struct LowerToLLVMCPUOptions
    : public PassPipelineOptions<LowerToLLVMCPUOptions> {
  Option<std::string> target{*this, "target",
                             llvm::cl::desc("vector ISA: host, avx512, avx2, generic"),
                             llvm::cl::init("host")};
  Option<unsigned> threads{
      *this, "threads",
      llvm::cl::desc("threads for the qmatmul row loop (1: sequential; "
                     "more calls squant_rt_parallel_for: link libsquant_rt)"),
      llvm::cl::init(1)};
  Option<bool> useRuntime{
      *this, "use-runtime",
      llvm::cl::desc("call squant_rt's kernels for the qmatmuls it supports "
                     "(link libsquant_rt)"),
      llvm::cl::init(false)};
  Option<int64_t> hoistMaxM{*this, "hoist-max-m",
                            llvm::cl::desc("see convert-squant-to-vector"),
                            llvm::cl::init(2)};
  Option<int64_t> rowTile{*this, "row-tile",
                          llvm::cl::desc("see convert-squant-to-vector"),
                          llvm::cl::init(4)};
};

std::string pipelineText(const LowerToLLVMCPUOptions &o) {
  std::string text;
  if (o.useRuntime)
    text += llvm::formatv("convert-squant-to-runtime{{target={0}},",
                          o.target.getValue());
  text += llvm::formatv("convert-squant-to-vector{{target={0} hoist-max-m={1} "
                        "row-tile={2}},canonicalize,cse,convert-elementwise-to-linalg,",
                        o.target.getValue(), o.hoistMaxM.getValue(),
                        o.rowTile.getValue());
  text += "one-shot-bufferize{bufferize-function-boundaries "
          "function-boundary-type-conversion=identity-layout-map},"
          "buffer-deallocation-pipeline,canonicalize,";
  if (o.threads > 1)
    text += llvm::formatv("squant-parallel-to-runtime{{threads={0}},",
                          o.threads.getValue());
  text += "convert-linalg-to-loops,lower-affine,expand-strided-metadata,"
          "convert-vector-to-scf,convert-scf-to-cf,"
          "convert-vector-to-llvm{reassociate-fp-reductions=true},"
          "finalize-memref-to-llvm,convert-math-to-llvm,convert-to-llvm,"
          "reconcile-unrealized-casts";
  return text;
}

} // namespace

void mlir::squant::registerSQuantLoweringPipelines() {
  PassPipelineRegistration<LowerToLLVMCPUOptions>(
      "squant-lower-to-llvm-cpu",
      "squant-level IR on tensors to the LLVM dialect for the CPU "
      "(convert-squant-to-vector, one-shot bufferization, LLVM)",
      [](OpPassManager &pm, const LowerToLLVMCPUOptions &options) {
        // Module-level passes on a nested builtin.module pipeline.
        if (failed(parsePassPipeline(pipelineText(options), pm)))
          llvm::report_fatal_error("squant-lower-to-llvm-cpu: bad pipeline text");
      });
  registerLowerToNVVMPipeline();
}
