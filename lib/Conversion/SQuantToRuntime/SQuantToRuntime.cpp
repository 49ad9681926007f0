//===- SQuantToRuntime.cpp - convert-squant-to-runtime --------------------===//
//
// squant.qmatmul -> a call of squant_rt's MLIR entry point. The weight's
// codes are packed into BLOCK32_V1 at compile time when constant (with the
// runtime's own packer: one implementation of the byte format), else by a
// runtime call; operands cross into memrefs with bufferization.to_buffer
// and the result comes back with bufferization.to_tensor.
//
//===----------------------------------------------------------------------===//

#include "squant/Conversion/Passes.h"

#include "squant/Dialect/SQuant/IR/ConstantValues.h"
#include "squant/Dialect/SQuant/Transforms/Transforms.h"
#include "squant/runtime/squant_rt.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::squant {
#define GEN_PASS_DEF_CONVERTSQUANTTORUNTIME
#include "squant/Conversion/Passes.h.inc"
} // namespace mlir::squant

using namespace mlir;
using namespace mlir::squant;

namespace {

constexpr StringLiteral kQgemm = "squant_rt_qgemm_memref";
constexpr StringLiteral kPack = "squant_rt_pack_block32_memref";

/// memref<?x...xT, strided<[?...], offset: ?>>: the descriptor the runtime's
/// C interface reads, whatever the buffer's actual layout.
MemRefType dynamicMemRef(MLIRContext *ctx, unsigned rank, Type element) {
  SmallVector<int64_t> shape(rank, ShapedType::kDynamic);
  auto layout = StridedLayoutAttr::get(ctx, ShapedType::kDynamic,
                                       SmallVector<int64_t>(rank, ShapedType::kDynamic));
  return MemRefType::get(shape, element, layout);
}

/// Declares `name` (once) with the C interface.
void declare(PatternRewriter &rewriter, ModuleOp module, StringRef name,
             FunctionType type) {
  if (module.lookupSymbol(name))
    return;
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPointToStart(module.getBody());
  auto fn = func::FuncOp::create(rewriter, module.getLoc(), name, type);
  fn.setPrivate();
  fn->setAttr("llvm.emit_c_interface", rewriter.getUnitAttr());
}

/// A tensor as the dynamic memref the runtime reads (read-only).
Value asBuffer(PatternRewriter &rewriter, Location loc, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  auto exact = MemRefType::get(
      type.getShape(), type.getElementType(),
      StridedLayoutAttr::get(rewriter.getContext(), ShapedType::kDynamic,
                             SmallVector<int64_t>(type.getRank(), ShapedType::kDynamic)));
  Value buffer = bufferization::ToBufferOp::create(rewriter, loc, exact, tensor,
                                                   /*read_only=*/true);
  return memref::CastOp::create(
      rewriter, loc,
      dynamicMemRef(rewriter.getContext(), type.getRank(), type.getElementType()),
      buffer);
}

/// An empty 1-D f32/i8 buffer for unused operands.
Value emptyBuffer(PatternRewriter &rewriter, Location loc, Type element) {
  Value t = tensor::EmptyOp::create(rewriter, loc, ArrayRef<int64_t>{0}, element);
  return asBuffer(rewriter, loc, t);
}

/// A tensor flattened to 1-D (parameters and tables are row-major).
Value flatten(PatternRewriter &rewriter, Location loc, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  if (type.getRank() == 1)
    return tensor;
  if (type.getRank() == 0)
    return tensor::ExpandShapeOp::create(
        rewriter, loc, RankedTensorType::get({1}, type.getElementType()), tensor,
        ArrayRef<ReassociationIndices>{});
  ReassociationIndices all;
  for (int64_t i = 0; i < type.getRank(); ++i)
    all.push_back(i);
  return tensor::CollapseShapeOp::create(rewriter, loc, tensor,
                                         ArrayRef<ReassociationIndices>{all});
}

/// Why the runtime cannot run `op`, or an empty string.
std::string unsupportedReason(QMatmulOp op) {
  auto in = op.getInput().getType();
  auto wt = op.getWeight().getType();
  if (!in.getElementType().isF32())
    return "the runtime takes f32 activations";
  if (!in.hasStaticShape() || !wt.hasStaticShape())
    return "dynamic shapes";
  int64_t k = wt.getDimSize(1);
  if (k % 32 != 0)
    return "K = " + std::to_string(k) + " is not a multiple of 32";
  Attribute form = op.getForm();
  unsigned bits;
  int64_t group = k;
  if (auto fma = dyn_cast<FmaFormAttr>(form)) {
    bits = fma.getBits();
    group = *fma.getGroupSize();
    if (!op.getScales().getType().getElementType().isF32())
      return "the runtime takes f32 scales and biases";
  } else {
    auto lut = cast<LutSchemeAttr>(form);
    bits = lut.getBits();
    if (bits > 4)
      return "the runtime's tables have 1 to 4 bits";
    bool intTable = op.getTable().getType().getElementType().isInteger(8);
    if (intTable && lut.getLutAxis())
      return "the runtime's int8 table is per tensor";
    if (!intTable && (op.getScales() || lut.getLutGroupSize() ||
                      !op.getTable().getType().getElementType().isF32()))
      return "the runtime's fp32 tables are per tensor or per row, unscaled";
    if (op.getScales()) {
      if (!lut.getGroupSize())
        return "per-channel LUT scales are not grouped along K";
      group = *lut.getGroupSize();
    }
  }
  if (!(bits == 1 || bits == 2 || bits == 3 || bits == 4 || bits == 8))
    return std::to_string(bits) + "-bit codes (the runtime packs 1, 2, 3, 4, 8)";
  if (group % 32 != 0)
    return "group size " + std::to_string(group) + " is not a multiple of 32";
  return "";
}

struct QMatmulToRuntime : OpRewritePattern<QMatmulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(QMatmulOp op,
                                PatternRewriter &rewriter) const override {
    std::string why = unsupportedReason(op);
    if (!why.empty())
      return rewriter.notifyMatchFailure(op, why);
    Location loc = op.getLoc();
    MLIRContext *ctx = getContext();
    auto module = op->getParentOfType<ModuleOp>();
    auto inType = op.getInput().getType();
    auto wType = op.getWeight().getType();
    int64_t n = wType.getDimSize(0), k = wType.getDimSize(1);
    Attribute form = op.getForm();
    auto fma = dyn_cast<FmaFormAttr>(form);
    auto lut = dyn_cast<LutSchemeAttr>(form);
    int32_t bits = fma ? fma.getBits() : lut.getBits();
    bool isSigned = fma && fma.isSigned();
    int64_t group = fma ? *fma.getGroupSize() : lut.getGroupSize().value_or(k);
    bool intTable = lut && op.getTable().getType().getElementType().isInteger(8);
    int32_t rtForm = fma ? SQUANT_RT_FORM_FMA
                         : intTable ? SQUANT_RT_FORM_LUT_INT8 : SQUANT_RT_FORM_LUT_F32;
    Type i8 = rewriter.getI8Type(), f32 = rewriter.getF32Type();

    // Activations as [M, K].
    int64_t m = 1;
    for (int64_t d : inType.getShape().drop_back())
      m *= d;
    Value x = op.getInput();
    auto x2Type = RankedTensorType::get({m, k}, f32);
    if (inType.getRank() == 1)
      x = tensor::ExpandShapeOp::create(rewriter, loc, x2Type, x,
                                        ArrayRef<ReassociationIndices>{{0, 1}});
    else if (inType.getRank() > 2) {
      ReassociationIndices lead;
      for (int64_t i = 0; i + 1 < inType.getRank(); ++i)
        lead.push_back(i);
      x = tensor::CollapseShapeOp::create(
          rewriter, loc, x,
          ArrayRef<ReassociationIndices>{lead, {inType.getRank() - 1}});
    }

    // Codes packed into BLOCK32_V1: at compile time when constant.
    size_t packedBytes = squant_rt_packed_size(n, k, bits);
    auto packedType = RankedTensorType::get({int64_t(packedBytes)}, i8);
    Value packed;
    Attribute codesAttr;
    std::optional<std::vector<int32_t>> codes;
    if (matchPattern(op.getWeight(), m_Constant(&codesAttr)))
      codes = readInts(codesAttr, isSigned);
    if (codes) {
      std::vector<int8_t> narrow(codes->begin(), codes->end());
      std::vector<int8_t> bytes(packedBytes);
      if (squant_rt_pack_block32(narrow.data(), n, k, bits,
                                 reinterpret_cast<uint8_t *>(bytes.data()),
                                 bytes.size()) != SQUANT_RT_OK)
        return rewriter.notifyMatchFailure(op, "packing failed");
      packed = arith::ConstantOp::create(
          rewriter, loc, packedType,
          DenseElementsAttr::getFromRawBuffer(
              packedType, ArrayRef<char>(reinterpret_cast<char *>(bytes.data()),
                                         bytes.size())));
    } else {
      Value codes8 = op.getWeight();
      if (wType.getElementTypeBitWidth() != 8) {
        auto t8 = wType.clone(i8);
        codes8 = wType.getElementTypeBitWidth() < 8 && isSigned
                     ? arith::ExtSIOp::create(rewriter, loc, t8, codes8).getResult()
                 : wType.getElementTypeBitWidth() < 8
                     ? arith::ExtUIOp::create(rewriter, loc, t8, codes8).getResult()
                     : arith::TruncIOp::create(rewriter, loc, t8, codes8).getResult();
      }
      Value out = memref::AllocOp::create(rewriter, loc,
                                          MemRefType::get({int64_t(packedBytes)}, i8));
      auto packType = FunctionType::get(
          ctx, {dynamicMemRef(ctx, 2, i8), dynamicMemRef(ctx, 1, i8),
                rewriter.getI32Type()},
          {});
      declare(rewriter, module, kPack, packType);
      Value outDyn = memref::CastOp::create(rewriter, loc, dynamicMemRef(ctx, 1, i8), out);
      Value bitsValue = arith::ConstantIntOp::create(rewriter, loc, bits, 32);
      func::CallOp::create(rewriter, loc, kPack, TypeRange{},
                           ValueRange{asBuffer(rewriter, loc, codes8), outDyn, bitsValue});
      packed = bufferization::ToTensorOp::create(rewriter, loc, packedType, out,
                                                 rewriter.getUnitAttr(),
                                                 rewriter.getUnitAttr());
    }

    Value scales = op.getScales() ? asBuffer(rewriter, loc, flatten(rewriter, loc, op.getScales()))
                                  : emptyBuffer(rewriter, loc, f32);
    Value second, table;
    int64_t numTables = 1;
    if (fma) {
      second = asBuffer(rewriter, loc, flatten(rewriter, loc, op.getBias()));
      table = emptyBuffer(rewriter, loc, i8);
    } else if (intTable) {
      second = emptyBuffer(rewriter, loc, f32);
      table = asBuffer(rewriter, loc, flatten(rewriter, loc, op.getTable()));
    } else {
      numTables = lut.getLutAxis() ? n : 1;
      second = asBuffer(rewriter, loc, flatten(rewriter, loc, op.getTable()));
      table = emptyBuffer(rewriter, loc, i8);
    }

    Value y = memref::AllocOp::create(rewriter, loc, MemRefType::get({m, n}, f32));
    Value yDyn = memref::CastOp::create(rewriter, loc, dynamicMemRef(ctx, 2, f32), y);
    auto i32 = rewriter.getI32Type(), i64 = rewriter.getI64Type();
    auto qgemmType = FunctionType::get(
        ctx,
        {dynamicMemRef(ctx, 2, f32), dynamicMemRef(ctx, 1, i8), dynamicMemRef(ctx, 1, f32),
         dynamicMemRef(ctx, 1, f32), dynamicMemRef(ctx, 1, i8), dynamicMemRef(ctx, 2, f32),
         i32, i32, i32, i64, i64},
        {});
    declare(rewriter, module, kQgemm, qgemmType);
    auto c32 = [&](int64_t v) { return arith::ConstantIntOp::create(rewriter, loc, v, 32); };
    auto c64 = [&](int64_t v) { return arith::ConstantIntOp::create(rewriter, loc, v, 64); };
    func::CallOp::create(rewriter, loc, kQgemm, TypeRange{},
                         ValueRange{asBuffer(rewriter, loc, x), asBuffer(rewriter, loc, packed),
                                    scales, second, table, yDyn, c32(rtForm), c32(bits),
                                    c32(isSigned), c64(group), c64(numTables)});
    Value result = bufferization::ToTensorOp::create(
        rewriter, loc, RankedTensorType::get({m, n}, f32), y, rewriter.getUnitAttr(),
        rewriter.getUnitAttr());
    auto outType = op.getType();
    if (outType.getRank() != 2) {
      ReassociationIndices lead;
      for (int64_t i = 0; i + 1 < outType.getRank(); ++i)
        lead.push_back(i);
      SmallVector<ReassociationIndices> reassoc;
      if (outType.getRank() == 1)
        reassoc = {{0, 1}};
      else
        reassoc = {lead, {outType.getRank() - 1}};
      result = outType.getRank() == 1
                   ? tensor::CollapseShapeOp::create(rewriter, loc, outType, result, reassoc)
                         .getResult()
                   : tensor::ExpandShapeOp::create(rewriter, loc, outType, result, reassoc)
                         .getResult();
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct ConvertSQuantToRuntimePass
    : squant::impl::ConvertSQuantToRuntimeBase<ConvertSQuantToRuntimePass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateSQuantToRuntimePatterns(patterns);
    if (failed(applySQuantPatterns(getOperation(), std::move(patterns))))
      return signalPassFailure();
    getOperation()->walk([&](QMatmulOp op) {
      op.emitRemark() << "not lowered to the runtime: " << unsupportedReason(op);
    });
  }
};

} // namespace

void mlir::squant::populateSQuantToRuntimePatterns(RewritePatternSet &patterns) {
  patterns.add<QMatmulToRuntime>(patterns.getContext());
}
