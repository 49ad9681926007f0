//===- ToLut.cpp - squant-to-lut ------------------------------------------===//
//
// squant.dequantize -> squant.lut_dequantize where SEMANTICS.md section 6.3
// says a table is exact: an int8 table with an fp32 s_table (rule 1), or,
// on request, per-group float tables for constant parameters (rule 2). What
// stays affine gets an optimization remark with the reason (D9).
//
//===----------------------------------------------------------------------===//

#include "squant/Dialect/SQuant/Transforms/Passes.h"

#include "squant/Dialect/SQuant/IR/ConstantValues.h"
#include "squant/Dialect/SQuant/IR/SQuant.h"
#include "squant/Dialect/SQuant/Transforms/ParamTensors.h"
#include "squant/Dialect/SQuant/Transforms/Transforms.h"
#include "squant/Reference/Lut.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::squant {
#define GEN_PASS_DEF_SQUANTTOLUT
#include "squant/Dialect/SQuant/Transforms/Passes.h.inc"
} // namespace mlir::squant

using namespace mlir;
using namespace mlir::squant;

namespace {

/// How a dequantize becomes a table lookup, or why it cannot.
struct LutPlan {
  /// Rule 1: the int8 table and its exponent; s_table is a constant when
  /// `scaleTable` is set, else s * 2^-e computed from the scale operand.
  std::optional<ref::IntLut> intLut;
  std::optional<std::vector<float>> scaleTable;
  /// Rule 2: every group's float table, row-major [params..., 2^bits].
  std::optional<std::vector<float>> floatTables;
  std::string why;
};

LutPlan planLut(DequantizeOp op, bool floatLut) {
  LutPlan plan;
  AffineSchemeAttr scheme = op.getScheme();
  Type elementType = op.getType().getElementType();
  ref::Scheme sc = scheme.toReference(getFloatFormat(elementType));
  auto scaleType = op.getScale().getType();
  std::optional<std::vector<float>> scales = getConstantFloats(op.getScale());
  int64_t numParams = scaleType.hasStaticShape() ? scaleType.getNumElements() : -1;
  std::optional<std::vector<float>> zps =
      numParams < 0 ? std::nullopt
                    : getConstantZeroPoints(scheme, op.getZeroPoint(), numParams);

  auto tryFloatLut = [&]() {
    if (!floatLut)
      return;
    if (!scales || !zps) {
      plan.why += "; a float table needs constant scales and zero points";
      return;
    }
    std::vector<float> tables;
    for (size_t g = 0; g < scales->size(); ++g) {
      std::vector<float> t = ref::floatLutFor(sc, {(*scales)[g], (*zps)[g]});
      tables.insert(tables.end(), t.begin(), t.end());
    }
    plan.floatTables = std::move(tables);
  };

  // Reasons that hold whatever the parameters are come first.
  if (sc.kind == ref::SchemeKind::FloatZeroPoint || sc.format != ref::FloatFormat::F32) {
    plan.why = ref::intLutFor(sc, 0.0f).reason;
    tryFloatLut();
    return plan;
  }
  // Rule 1 needs one zero point for every group.
  if (!zps) {
    plan.why = "the zero point is not a compile-time constant";
    tryFloatLut();
    return plan;
  }
  for (float zp : *zps)
    if (zp != zps->front()) {
      plan.why = "zero points differ across groups (an int8 table needs one "
                 "zero point for all groups)";
      tryFloatLut();
      return plan;
    }
  float zp = zps->empty() ? sc.impliedZeroPoint() : zps->front();
  ref::IntLutOrReason lut = ref::intLutFor(sc, zp);
  if (!lut.lut) {
    plan.why = lut.reason;
    tryFloatLut();
    return plan;
  }
  int e = lut.lut->exponent;
  if (scales) {
    std::vector<float> table(scales->size());
    for (size_t g = 0; g < scales->size(); ++g) {
      std::optional<float> st = ref::scaleTableFor((*scales)[g], e);
      if (!st) {
        plan.why = "s * 2^-" + std::to_string(e) + " underflows in group " +
                   std::to_string(g);
        tryFloatLut();
        return plan;
      }
      table[g] = *st;
    }
    plan.scaleTable = std::move(table);
  } else if (e != 0 && sc.kind == ref::SchemeKind::Stretched &&
             sc.eps / sc.stretchedQMax() < 0x1p-125f) {
    plan.why = "eps allows a subnormal scale, where s_table = 0.5*s rounds";
    return plan;
  }
  plan.intLut = std::move(lut.lut);
  return plan;
}

/// idx = q - lutMinCode, in the codes' own integer type.
Value buildIndices(PatternRewriter &rewriter, Location loc, Value codes,
                   int32_t minCode) {
  if (minCode == 0)
    return codes;
  auto type = cast<RankedTensorType>(codes.getType());
  // Constant codes give constant indices (the pass does not fold, and later
  // rewrites such as transposition want constants).
  Attribute attr;
  if (matchPattern(codes, m_Constant(&attr)))
    if (std::optional<std::vector<int32_t>> q = readInts(attr, true)) {
      for (int32_t &v : *q)
        v -= minCode;
      return arith::ConstantOp::create(rewriter, loc, type, makeInts(type, *q));
    }
  auto offset = arith::ConstantOp::create(
      rewriter, loc, type,
      DenseElementsAttr::get(type, rewriter.getIntegerAttr(
                                       type.getElementType(), -minCode)));
  return arith::AddIOp::create(rewriter, loc, codes, offset);
}

struct ToLutPattern : OpRewritePattern<DequantizeOp> {
  ToLutPattern(MLIRContext *context, bool floatLut)
      : OpRewritePattern(context), floatLut(floatLut) {}

  LogicalResult matchAndRewrite(DequantizeOp op,
                                PatternRewriter &rewriter) const override {
    LutPlan plan = planLut(op, floatLut);
    if (!plan.intLut && !plan.floatTables)
      return rewriter.notifyMatchFailure(op, plan.why);
    Location loc = op.getLoc();
    AffineSchemeAttr scheme = op.getScheme();
    ref::Scheme sc = scheme.toReference(ref::FloatFormat::F32);
    Value indices = buildIndices(rewriter, loc, op.getInput(), ref::lutMinCode(sc));
    int64_t entries = int64_t(1) << scheme.getBits();
    MLIRContext *ctx = getContext();

    if (plan.intLut) {
      auto tableType = RankedTensorType::get({entries}, rewriter.getI8Type());
      std::vector<int32_t> entriesI32(plan.intLut->table.begin(),
                                      plan.intLut->table.end());
      Value table = arith::ConstantOp::create(rewriter, loc, tableType,
                                              makeInts(tableType, entriesI32));
      Value scaleTable;
      if (plan.scaleTable) {
        scaleTable = createFloatConstant(rewriter, loc, op.getScale().getType(),
                                         *plan.scaleTable);
      } else if (plan.intLut->exponent == 0) {
        scaleTable = op.getScale();
      } else {
        auto scaleType = op.getScale().getType();
        Value half = arith::ConstantOp::create(
            rewriter, loc, scaleType,
            DenseElementsAttr::get(scaleType, rewriter.getF32FloatAttr(0.5f)));
        scaleTable = arith::MulFOp::create(rewriter, loc, op.getScale(), half);
      }
      auto lutScheme = LutSchemeAttr::get(ctx, scheme.getBits(), scheme.getAxis(),
                                          scheme.getGroupSize(), std::nullopt,
                                          std::nullopt);
      rewriter.replaceOpWithNewOp<LutDequantizeOp>(op, op.getType(), indices,
                                                   table, scaleTable, lutScheme);
      return success();
    }

    // Rule 2: one float table per group, no scales.
    SmallVector<int64_t> tableShape =
        scheme.getParamShape(op.getType().getShape());
    tableShape.push_back(entries);
    auto tableType =
        RankedTensorType::get(tableShape, op.getType().getElementType());
    Value table = createFloatConstant(rewriter, loc, tableType, *plan.floatTables);
    auto lutScheme = LutSchemeAttr::get(ctx, scheme.getBits(), std::nullopt,
                                        std::nullopt, scheme.getAxis(),
                                        scheme.getGroupSize());
    rewriter.replaceOpWithNewOp<LutDequantizeOp>(op, op.getType(), indices, table,
                                                 Value(), lutScheme);
    return success();
  }

  bool floatLut;
};

struct ToLutPass : squant::impl::SQuantToLutBase<ToLutPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateToLutPatterns(patterns, floatLut);
    if (failed(applySQuantPatterns(getOperation(), std::move(patterns))))
      return signalPassFailure();
    // D9: what stays affine says why, once per op.
    getOperation()->walk([&](DequantizeOp op) {
      op.emitRemark() << "not rewritten to a lookup table: "
                      << planLut(op, floatLut).why;
    });
  }
};

} // namespace

void mlir::squant::populateToLutPatterns(RewritePatternSet &patterns,
                                         bool floatLut) {
  patterns.add<ToLutPattern>(patterns.getContext(), floatLut);
}
