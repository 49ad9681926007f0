//===- Pipelines.cpp - squant's named pipelines ---------------------------===//
//
// squant-optimize: the transform path users take in one flag. Getting IR in
// first (upstream quant, front-end dequantization), compile-time
// quantization next (so scales and zero points are constants the rewrites
// can reason about), then the exact rewrites (to LUT where rule 1 holds,
// exact zero-point folds), then fusion into matmuls, then cleanup, then (on
// request) packing of the fused weights.
//
//===----------------------------------------------------------------------===//

#include "squant/Dialect/SQuant/Transforms/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace {

struct OptimizeOptions : public PassPipelineOptions<OptimizeOptions> {
  Option<std::string> scheme{*this, "scheme",
                             llvm::cl::desc("quantize float constant weights "
                                            "with this scheme kind"),
                             llvm::cl::init("")};
  Option<unsigned> bits{*this, "bits", llvm::cl::desc("bits per code"),
                        llvm::cl::init(4)};
  Option<int64_t> groupSize{*this, "group-size",
                            llvm::cl::desc("group size along K (0: per channel)"),
                            llvm::cl::init(128)};
  Option<std::string> storage{*this, "storage",
                              llvm::cl::desc("signed or unsigned codes"),
                              llvm::cl::init("")};
  Option<std::string> pack{*this, "pack",
                           llvm::cl::desc("store the fused matmuls' constant codes "
                                          "packed: none, lsb_first or msb_first"),
                           llvm::cl::init("none")};
  Option<bool> floatLut{*this, "float-lut",
                        llvm::cl::desc("per-group float tables where no int8 "
                                       "table exists"),
                        llvm::cl::init(false)};
};

} // namespace

void mlir::squant::registerSQuantPipelines() {
  PassPipelineRegistration<OptimizeOptions>(
      "squant-optimize",
      "squant's transform pipeline: import quant, raise front-end "
      "dequantization, compile-time quantization, to-LUT, fold zero points, "
      "fuse dequantization into matmuls, cleanup",
      [](OpPassManager &pm, const OptimizeOptions &options) {
        pm.addPass(createSQuantImportQuant());
        pm.addPass(createSQuantRaiseDequant());
        SQuantQuantizeConstantsOptions quantize;
        quantize.scheme = options.scheme;
        quantize.bits = options.bits;
        quantize.groupSize = options.groupSize;
        quantize.storage = options.storage;
        pm.addPass(createSQuantQuantizeConstants(quantize));
        SQuantToLutOptions toLut;
        toLut.floatLut = options.floatLut;
        pm.addPass(createSQuantToLut(toLut));
        pm.addPass(createSQuantFoldZeroPoints());
        pm.addPass(createSQuantFuseDequantMatmul());
        pm.addPass(createCanonicalizerPass());
        pm.addPass(createCSEPass());
        // Packing last: the fused weights have their [N, K] orientation.
        if (options.pack != "none") {
          SQuantPackWeightsOptions packing;
          packing.order = options.pack;
          pm.addPass(createSQuantPackWeights(packing));
        }
      });
}
