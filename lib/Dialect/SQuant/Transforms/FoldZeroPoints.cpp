//===- FoldZeroPoints.cpp - squant-fold-zero-points -----------------------===//
//
// squant.dequantize -> squant.fma_dequantize: w = fma(q, s, b) with the
// zero point folded into a per-group bias (SEMANTICS.md section 7). Exact
// folds always; inexact ones (INT asymmetric, tinygemm) only on request.
//
//===----------------------------------------------------------------------===//

#include "squant/Dialect/SQuant/Transforms/Passes.h"

#include "squant/Dialect/SQuant/IR/SQuant.h"
#include "squant/Dialect/SQuant/Transforms/ParamTensors.h"
#include "squant/Dialect/SQuant/Transforms/Transforms.h"

#include "mlir/IR/PatternMatch.h"

namespace mlir::squant {
#define GEN_PASS_DEF_SQUANTFOLDZEROPOINTS
#include "squant/Dialect/SQuant/Transforms/Passes.h.inc"
} // namespace mlir::squant

using namespace mlir;
using namespace mlir::squant;

namespace {

struct FoldZeroPointPattern : OpRewritePattern<DequantizeOp> {
  FoldZeroPointPattern(MLIRContext *context, bool allowInexact)
      : OpRewritePattern(context), allowInexact(allowInexact) {}

  LogicalResult matchAndRewrite(DequantizeOp op,
                                PatternRewriter &rewriter) const override {
    AffineSchemeAttr scheme = op.getScheme();
    Type scaleElement = op.getScale().getType().getElementType();
    std::string why;
    if (!isFoldExact(scheme, scaleElement, op.getScale(), op.getZeroPoint(),
                     why) &&
        !allowInexact)
      return rewriter.notifyMatchFailure(op, "inexact fold: " + why);
    Value bias = buildFoldedBias(rewriter, op.getLoc(), scheme, op.getScale(),
                                 op.getZeroPoint());
    rewriter.replaceOpWithNewOp<FmaDequantizeOp>(
        op, op.getType(), op.getInput(), op.getScale(), bias,
        getFmaForm(scheme));
    return success();
  }

  bool allowInexact;
};

struct FoldZeroPointsPass
    : squant::impl::SQuantFoldZeroPointsBase<FoldZeroPointsPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateFoldZeroPointsPatterns(patterns, allowInexact);
    if (failed(applySQuantPatterns(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void mlir::squant::populateFoldZeroPointsPatterns(RewritePatternSet &patterns,
                                                  bool allowInexact) {
  patterns.add<FoldZeroPointPattern>(patterns.getContext(), allowInexact);
}
