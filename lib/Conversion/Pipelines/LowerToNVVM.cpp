//===- LowerToNVVM.cpp - squant-lower-to-nvvm -----------------------------===//
//
// squant-level IR on tensors -> kernels in a gpu.binary (PTX and cubin from
// ptxas) and host code in the LLVM dialect that launches them through the
// mgpu* ABI (libsquant_gpu):
//   canonicalize                 fold constant packs and transposes
//   convert-squant-to-gpu        kernels + launches, device result buffers
//   one-shot-bufferize           identity layouts at function boundaries
//   gpu.module(convert-math-to-llvm)  math.fma etc. as LLVM intrinsics (PTX
//                                instructions), not libdevice calls, so the
//                                kernels need no libdevice
//   gpu-lower-to-nvvm-pipeline   upstream: kernels to NVVM, nvvm target
//                                (chip, PTX features, O level), ptxas, host
//                                code to LLVM
// ptxas runs with --warn-on-spills --warn-on-local-memory-usage
// --warning-as-error by default: a kernel that spills does not compile.
//
//===----------------------------------------------------------------------===//

#include "squant/Conversion/Passes.h"

#include "mlir/Dialect/GPU/Pipelines/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;

namespace {

struct LowerToNVVMOptions : public PassPipelineOptions<LowerToNVVMOptions> {
  Option<std::string> chip{*this, "chip",
                           llvm::cl::desc("target SM (sm_80, sm_90, sm_90a)"),
                           llvm::cl::init("sm_90")};
  Option<std::string> features{
      *this, "features", llvm::cl::desc("PTX ISA version feature"),
      llvm::cl::init("+ptx80")};
  Option<std::string> format{
      *this, "format",
      llvm::cl::desc("what the gpu.binary holds: fatbin (cubin + PTX), bin "
                     "(cubin), isa (PTX), llvm"),
      llvm::cl::init("fatbin")};
  Option<int> optLevel{*this, "opt-level",
                       llvm::cl::desc("LLVM optimization level of kernels"),
                       llvm::cl::init(3)};
  Option<std::string> ptxasOptions{
      *this, "ptxas-options", llvm::cl::desc("options passed to ptxas"),
      llvm::cl::init("--warn-on-spills --warn-on-local-memory-usage "
                     "--warning-as-error")};
  Option<int64_t> rowsPerBlock{*this, "rows-per-block",
                               llvm::cl::desc("see convert-squant-to-gpu"),
                               llvm::cl::init(4)};
  Option<int64_t> mTile{*this, "m-tile",
                        llvm::cl::desc("see convert-squant-to-gpu"),
                        llvm::cl::init(8)};
};

} // namespace

void mlir::squant::registerLowerToNVVMPipeline() {
  PassPipelineRegistration<LowerToNVVMOptions>(
      "squant-lower-to-nvvm",
      "squant-level IR on tensors to GPU kernels in a gpu.binary (ptxas) and "
      "host code in the LLVM dialect calling libsquant_gpu's launcher",
      [](OpPassManager &pm, const LowerToNVVMOptions &o) {
        std::string text = llvm::formatv(
            "canonicalize,convert-squant-to-gpu{{rows-per-block={0} "
            "m-tile={1}},canonicalize,cse,"
            "one-shot-bufferize{{bufferize-function-boundaries "
            "function-boundary-type-conversion=identity-layout-map},"
            "canonicalize,gpu.module(convert-math-to-llvm)",
            o.rowsPerBlock.getValue(), o.mTile.getValue());
        if (failed(parsePassPipeline(text, pm)))
          llvm::report_fatal_error("squant-lower-to-nvvm: bad pipeline text");
        gpu::GPUToNVVMPipelineOptions nvvm;
        nvvm.cubinChip = o.chip.getValue();
        nvvm.cubinFeatures = o.features.getValue();
        nvvm.cubinFormat = o.format.getValue();
        nvvm.optLevel = o.optLevel.getValue();
        nvvm.cmdOptions = o.ptxasOptions.getValue();
        gpu::buildLowerToNVVMPassPipeline(pm, nvvm);
      });
}
