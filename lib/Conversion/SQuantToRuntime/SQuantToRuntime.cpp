//===- SQuantToRuntime.cpp - convert-squant-to-runtime --------------------===//
//
// squant.qmatmul -> a call of squant_rt's MLIR entry point. Constant
// weights are packed at compile time with the runtime's own packers (one
// implementation of each byte format), in the layout the runtime names for
// the target (TILE16_V2, parameters inside, for AVX-512 and AMX GEMVs of
// 1-3 bits and AMX GEMVs of 4 and 8 bits; else BLOCK32_V1); run-time codes are
// packed into BLOCK32_V1 by a runtime call. Operands cross into memrefs with
// bufferization.to_buffer and the result comes back with
// bufferization.to_tensor.
//
//===----------------------------------------------------------------------===//

#include "squant/Conversion/Passes.h"

#include "squant/Dialect/SQuant/IR/ConstantValues.h"
#include "squant/Dialect/SQuant/Transforms/ParamTensors.h"
#include "squant/Dialect/SQuant/Transforms/Transforms.h"
#include "squant/runtime/squant_rt.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/StringSwitch.h"

namespace mlir::squant {
#define GEN_PASS_DEF_CONVERTSQUANTTORUNTIME
#include "squant/Conversion/Passes.h.inc"
} // namespace mlir::squant

using namespace mlir;
using namespace mlir::squant;

namespace {

constexpr StringLiteral kQgemm = "squant_rt_qgemm_memref";
constexpr StringLiteral kQgemmBf16 = "squant_rt_qgemm_bf16_memref";
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
  if (!in.getElementType().isF32() && !in.getElementType().isBF16())
    return "the runtime takes f32 or bf16 activations";
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
    Type params = op.getScales().getType().getElementType();
    if (!params.isF32() && !params.isBF16())
      return "the runtime takes f32 or bf16 scales and biases";
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

/// A float tensor as f32 (bf16 widens exactly).
Value widenToF32(PatternRewriter &rewriter, Location loc, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  if (type.getElementType().isF32())
    return tensor;
  return arith::ExtFOp::create(rewriter, loc, type.clone(rewriter.getF32Type()),
                               tensor);
}

/// The packed weight as an i8 constant.
Value packedConstant(PatternRewriter &rewriter, Location loc,
                     ArrayRef<uint8_t> bytes) {
  auto type =
      RankedTensorType::get({int64_t(bytes.size())}, rewriter.getI8Type());
  return arith::ConstantOp::create(
      rewriter, loc, type,
      DenseElementsAttr::getFromRawBuffer(
          type, ArrayRef<char>(reinterpret_cast<const char *>(bytes.data()),
                               bytes.size())));
}

struct QMatmulToRuntime : OpRewritePattern<QMatmulOp> {
  QMatmulToRuntime(MLIRContext *ctx, int32_t isa)
      : OpRewritePattern(ctx), isa(isa) {}
  int32_t isa;

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
    Type xElement = inType.getElementType();
    bool bf16 = xElement.isBF16();
    auto x2Type = RankedTensorType::get({m, k}, xElement);
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

    int64_t numTables = lut && !intTable && lut.getLutAxis() ? n : 1;
    squant_rt_qweight like = {};
    like.form = rtForm;
    like.bits = bits;
    like.is_signed = isSigned;
    like.n = n;
    like.k = k;
    like.group_size = group;
    like.num_tables = numTables;

    // Codes packed at compile time when constant: into TILE16_V2 (with the
    // scales and biases, which must be constant too) where the runtime
    // reads it fastest, else BLOCK32_V1.
    Attribute codesAttr;
    std::optional<std::vector<int32_t>> codes;
    if (matchPattern(op.getWeight(), m_Constant(&codesAttr)))
      codes = readInts(codesAttr, isSigned);
    std::optional<std::vector<float>> scaleValues, biasValues;
    int32_t layout = SQUANT_RT_LAYOUT_BLOCK32_V1;
    if (codes && squant_rt_preferred_layout(&like, m, squant_rt_isa(isa)) ==
                     SQUANT_RT_LAYOUT_TILE16_V2) {
      // An operand the form lacks reads as no values (a null pointer).
      auto valuesOf = [](Value operand) {
        return operand ? getConstantFloats(operand) : std::vector<float>{};
      };
      scaleValues = valuesOf(op.getScales());
      biasValues = valuesOf(fma ? op.getBias() : Value());
      if (scaleValues && biasValues)
        layout = SQUANT_RT_LAYOUT_TILE16_V2;
    }
    bool inlineParams = layout == SQUANT_RT_LAYOUT_TILE16_V2;
    size_t packedBytes =
        inlineParams ? squant_rt_packed_size_tile16_v2(n, k, bits, group)
                     : squant_rt_packed_size(n, k, bits);
    auto packedType = RankedTensorType::get({int64_t(packedBytes)}, i8);
    Value packed;
    if (codes) {
      std::vector<int8_t> narrow(codes->begin(), codes->end());
      std::vector<uint8_t> bytes(packedBytes);
      auto orNull = [](const std::vector<float> &v) {
        return v.empty() ? nullptr : v.data();
      };
      squant_rt_status status =
          inlineParams
              ? squant_rt_pack_tile16_v2(narrow.data(), orNull(*scaleValues),
                                         orNull(*biasValues), n, k, bits, group,
                                         bytes.data(), bytes.size())
              : squant_rt_pack_block32(narrow.data(), n, k, bits, bytes.data(),
                                       bytes.size());
      if (status != SQUANT_RT_OK)
        return rewriter.notifyMatchFailure(op, "packing failed");
      packed = packedConstant(rewriter, loc, bytes);
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

    // Parameters and tables; TILE16_V2 carries the scales and biases.
    auto params = [&](Value tensor) {
      return asBuffer(
          rewriter, loc,
          widenToF32(rewriter, loc, flatten(rewriter, loc, tensor)));
    };
    Value scales = op.getScales() && !inlineParams
                       ? params(op.getScales())
                       : emptyBuffer(rewriter, loc, f32);
    Value second, table;
    if (fma) {
      second =
          inlineParams ? emptyBuffer(rewriter, loc, f32) : params(op.getBias());
      table = emptyBuffer(rewriter, loc, i8);
    } else if (intTable) {
      second = emptyBuffer(rewriter, loc, f32);
      table = asBuffer(rewriter, loc, flatten(rewriter, loc, op.getTable()));
    } else {
      second = asBuffer(rewriter, loc, flatten(rewriter, loc, op.getTable()));
      table = emptyBuffer(rewriter, loc, i8);
    }

    Value y = memref::AllocOp::create(rewriter, loc, MemRefType::get({m, n}, f32));
    Value yDyn = memref::CastOp::create(rewriter, loc, dynamicMemRef(ctx, 2, f32), y);
    auto i32 = rewriter.getI32Type(), i64 = rewriter.getI64Type();
    // bf16 activations: squant_rt_qgemm_bf16 (fp32 y, rounded below).
    StringLiteral callee = bf16 ? kQgemmBf16 : kQgemm;
    auto qgemmType = FunctionType::get(
        ctx,
        {dynamicMemRef(ctx, 2, xElement), dynamicMemRef(ctx, 1, i8),
         dynamicMemRef(ctx, 1, f32), dynamicMemRef(ctx, 1, f32),
         dynamicMemRef(ctx, 1, i8), dynamicMemRef(ctx, 2, f32), i32, i32, i32,
         i64, i64, i32},
        {});
    declare(rewriter, module, callee, qgemmType);
    auto c32 = [&](int64_t v) { return arith::ConstantIntOp::create(rewriter, loc, v, 32); };
    auto c64 = [&](int64_t v) { return arith::ConstantIntOp::create(rewriter, loc, v, 64); };
    func::CallOp::create(
        rewriter, loc, callee, TypeRange{},
        ValueRange{asBuffer(rewriter, loc, x), asBuffer(rewriter, loc, packed),
                   scales, second, table, yDyn, c32(rtForm), c32(bits),
                   c32(isSigned), c64(group), c64(numTables), c32(layout)});
    Value result = bufferization::ToTensorOp::create(
        rewriter, loc, RankedTensorType::get({m, n}, f32), y, rewriter.getUnitAttr(),
        rewriter.getUnitAttr());
    if (bf16) // the fp32 result rounded once (to nearest even), as torch does
      result = arith::TruncFOp::create(
          rewriter, loc, RankedTensorType::get({m, n}, xElement), result);
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
    std::optional<squant_rt_isa> isa =
        llvm::StringSwitch<std::optional<squant_rt_isa>>(target)
            .Case("host", SQUANT_RT_ISA_AUTO)
            .Case("amx", SQUANT_RT_ISA_AMX)
            .Case("avx512", SQUANT_RT_ISA_AVX512)
            .Case("avx2", SQUANT_RT_ISA_AVX2)
            .Case("generic", SQUANT_RT_ISA_PORTABLE)
            .Default(std::nullopt);
    if (!isa) {
      getOperation().emitError()
          << "convert-squant-to-runtime: unknown target '" << target
          << "' (host, amx, avx512, avx2, generic)";
      return signalPassFailure();
    }
    RewritePatternSet patterns(&getContext());
    populateSQuantToRuntimePatterns(patterns, *isa);
    if (failed(applySQuantPatterns(getOperation(), std::move(patterns))))
      return signalPassFailure();
    getOperation()->walk([&](QMatmulOp op) {
      op.emitRemark() << "not lowered to the runtime: " << unsupportedReason(op);
    });
  }
};

} // namespace

void mlir::squant::populateSQuantToRuntimePatterns(RewritePatternSet &patterns,
                                                   int32_t isa) {
  patterns.add<QMatmulToRuntime>(patterns.getContext(), isa);
}
