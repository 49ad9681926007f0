//===- PackWeights.cpp - squant-pack-weights ------------------------------===//
//
// Constant codes of fused matmuls stored packed, in their [N, K] orientation:
// what a lowering reads directly (docs/Lowering.md, packed decode).
//
//===----------------------------------------------------------------------===//

#include "squant/Dialect/SQuant/Transforms/Passes.h"

#include "squant/Dialect/SQuant/IR/ConstantValues.h"
#include "squant/Dialect/SQuant/IR/SQuant.h"
#include "squant/Dialect/SQuant/Transforms/ParamTensors.h"
#include "squant/Reference/Pack.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Matchers.h"

#include <cstring>

namespace mlir::squant {
#define GEN_PASS_DEF_SQUANTPACKWEIGHTS
#include "squant/Dialect/SQuant/Transforms/Passes.h.inc"
} // namespace mlir::squant

using namespace mlir;
using namespace mlir::squant;

namespace {

struct PackWeightsPass : squant::impl::SQuantPackWeightsBase<PackWeightsPass> {
  using Base::Base;

  void runOnOperation() override {
    std::optional<PackOrder> packOrder = symbolizePackOrder(order);
    if (!packOrder) {
      getOperation()->emitError() << "squant-pack-weights: order must be lsb_first or "
                                     "msb_first, got '"
                                  << order << "'";
      return signalPassFailure();
    }
    getOperation()->walk([&](QMatmulOp op) { pack(op, *packOrder); });
  }

  void pack(QMatmulOp op, PackOrder packOrder) {
    unsigned bits;
    Storage storage;
    if (auto fma = dyn_cast<FmaFormAttr>(op.getForm())) {
      bits = fma.getBits();
      storage = fma.getStorage();
    } else {
      bits = cast<LutSchemeAttr>(op.getForm()).getBits();
      storage = Storage::Unsigned; // table indices
    }
    auto type = op.getWeight().getType();
    Attribute codesAttr;
    if (bits >= 8 || !type.hasStaticShape() || !type.getElementType().isInteger(8) ||
        !matchPattern(op.getWeight(), m_Constant(&codesAttr)))
      return;
    std::optional<std::vector<int32_t>> codes =
        readInts(codesAttr, storage == Storage::Signed);
    if (!codes)
      return;
    int64_t rows = type.getDimSize(0), cols = type.getDimSize(1);
    std::vector<uint8_t> bytes = ref::packCodes(*codes, rows, cols, bits,
                                                static_cast<ref::PackOrder>(packOrder));
    OpBuilder b(op);
    auto i8 = b.getI8Type();
    auto packedType = RankedTensorType::get({rows, ref::packedRowBytes(cols, bits)}, i8);
    ConstantBuffer buffer(bytes.size());
    std::memcpy(buffer.data(), bytes.data(), bytes.size());
    Value packed = arith::ConstantOp::create(b, op.getLoc(), packedType,
                                             buffer.finish(packedType, "squant_packed"));
    auto layout = PackedLayoutAttr::get(&getContext(), packOrder, bits, storage, 1);
    Value unpacked = UnpackOp::create(b, op.getLoc(), type, packed, layout);
    Operation *codesOp = op.getWeight().getDefiningOp();
    op.getWeightMutable().assign(unpacked);
    if (codesOp->use_empty())
      codesOp->erase();
  }
};

} // namespace
