//===- FuseDequantMatmul.cpp - squant-fuse-dequant-matmul -----------------===//
//
// A dequantized weight feeding a contraction becomes one squant.qmatmul in
// the canonical [N, K] weight layout with [N, K/g] parameters:
//   y[d..., n] = init[d..., n] + sum_k x[d..., k] * w(n, k).
// Contractions are recognised structurally (any linalg op whose body is a
// multiply-accumulate with one reduction dim), which covers linalg.matmul
// with any operand maps, matvec, vecmat, batch_matmul with a broadcast
// weight and contraction linalg.generic ops alike.
//
//===----------------------------------------------------------------------===//

#include "squant/Dialect/SQuant/Transforms/Passes.h"

#include "squant/Dialect/SQuant/IR/SQuant.h"
#include "squant/Dialect/SQuant/Transforms/Contraction.h"
#include "squant/Dialect/SQuant/Transforms/ParamTensors.h"
#include "squant/Dialect/SQuant/Transforms/Transforms.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::squant {
#define GEN_PASS_DEF_SQUANTFUSEDEQUANTMATMUL
#include "squant/Dialect/SQuant/Transforms/Passes.h.inc"
} // namespace mlir::squant

using namespace mlir;
using namespace mlir::squant;

namespace {

/// Where the weight's N and K dims are in its dequantized [.., ..] tensor.
struct WeightLayout {
  bool transposed; // stored [K, N] rather than [N, K]
  int64_t n, k;
  int64_t nAxis() const { return transposed ? 1 : 0; }
  int64_t kAxis() const { return transposed ? 0 : 1; }
};

/// Whether parameters of this granularity can be brought to [N, K/g]: per
/// tensor, per output channel, or groups along K.
bool rowsReachable(std::optional<int64_t> axis, std::optional<int64_t> groupSize,
                   const WeightLayout &layout) {
  return !axis || (*axis == layout.nAxis() && !groupSize) ||
         (*axis == layout.kAxis() && groupSize);
}

/// Whether LUT tables of this granularity map onto qmatmul's: per tensor,
/// per row, or per group along K.
bool tablesReachable(LutSchemeAttr scheme, const WeightLayout &layout) {
  std::optional<int64_t> axis = scheme.getLutAxis();
  return !axis || (*axis == layout.nAxis() && !scheme.getLutGroupSize()) ||
         (*axis == layout.kAxis() && scheme.getLutGroupSize());
}

/// A parameter tensor of the dequantized weight's granularity brought to
/// the [N, K/g] layout qmatmul wants; sets `groupSize` (g).
FailureOr<Value> paramsToRows(PatternRewriter &rewriter, Location loc,
                              Operation *op, Value param,
                              std::optional<int64_t> axis,
                              std::optional<int64_t> groupSize,
                              const WeightLayout &layout, int64_t &g) {
  auto type = cast<RankedTensorType>(param.getType());
  Type element = type.getElementType();
  if (!axis) {
    // Per tensor: one group of K per row.
    g = layout.k;
    return splatScalarTensor(rewriter, loc, param,
                             RankedTensorType::get({layout.n, 1}, element));
  }
  if (*axis == layout.nAxis() && !groupSize) {
    // Per output channel: [N] -> [N, 1].
    g = layout.k;
    return expandTensor(rewriter, loc, param,
                        RankedTensorType::get({layout.n, 1}, element), {{0, 1}});
  }
  if (*axis == layout.kAxis() && groupSize) {
    g = *groupSize;
    if (!layout.transposed)
      return param;
    return transposeTensor(rewriter, loc, param, {1, 0});
  }
  return rewriter.notifyMatchFailure(
      op, "the weight's groups do not run along K (per-group along N, or "
          "per-axis along K)");
}

/// The pieces of a qmatmul weight in [N, K] layout.
struct QWeight {
  Value codes, scales, bias, table;
  Attribute form;
};

/// The fma form of a weight whose scale and bias have the granularity
/// (axis, groupSize): both brought to [N, K/g].
FailureOr<QWeight> buildFmaRows(PatternRewriter &rewriter, Location loc,
                                Operation *dq, Value codes, Value scale,
                                Value bias, unsigned bits, Storage storage,
                                std::optional<int64_t> axis,
                                std::optional<int64_t> groupSize,
                                const WeightLayout &layout) {
  int64_t g = 0;
  FailureOr<Value> scales =
      paramsToRows(rewriter, loc, dq, scale, axis, groupSize, layout, g);
  if (failed(scales))
    return failure();
  FailureOr<Value> biasRows =
      paramsToRows(rewriter, loc, dq, bias, axis, groupSize, layout, g);
  if (failed(biasRows))
    return failure();
  QWeight w;
  w.scales = *scales;
  w.bias = *biasRows;
  w.form = FmaFormAttr::get(rewriter.getContext(), bits, storage, int64_t(1), g);
  w.codes = codes;
  return w;
}

FailureOr<QWeight> buildAffineWeight(PatternRewriter &rewriter, Location loc,
                                     DequantizeOp dq, const WeightLayout &layout) {
  AffineSchemeAttr scheme = dq.getScheme();
  // D7: inside a fused matmul every scheme may use the one-FMA form.
  Value bias = buildFoldedBias(rewriter, loc, scheme, dq.getScale(),
                               dq.getZeroPoint());
  return buildFmaRows(rewriter, loc, dq, dq.getInput(), dq.getScale(), bias,
                      scheme.getBits(), scheme.getStorage(), scheme.getAxis(),
                      scheme.getGroupSize(), layout);
}

FailureOr<QWeight> buildFmaWeight(PatternRewriter &rewriter, Location loc,
                                  FmaDequantizeOp dq, const WeightLayout &layout) {
  FmaFormAttr form = dq.getForm();
  return buildFmaRows(rewriter, loc, dq, dq.getInput(), dq.getScale(),
                      dq.getBias(), form.getBits(), form.getStorage(),
                      form.getAxis(), form.getGroupSize(), layout);
}

FailureOr<QWeight> buildLutWeight(PatternRewriter &rewriter, Location loc,
                                  LutDequantizeOp dq, const WeightLayout &layout) {
  LutSchemeAttr scheme = dq.getScheme();
  QWeight w;
  std::optional<int64_t> axis, groupSize, lutAxis, lutGroupSize;
  if (dq.getScales()) {
    int64_t g = 0;
    FailureOr<Value> scales =
        paramsToRows(rewriter, loc, dq, dq.getScales(), scheme.getAxis(),
                     scheme.getGroupSize(), layout, g);
    if (failed(scales))
      return failure();
    w.scales = *scales;
    axis = 1;
    groupSize = g;
  }
  // Tables: per tensor stays; per row (along N) -> lut_axis 0; per group
  // along K -> lut_axis 1 with [N, K/g, 2^b].
  Value table = dq.getTable();
  std::optional<int64_t> tAxis = scheme.getLutAxis();
  if (tAxis && *tAxis == layout.nAxis() && !scheme.getLutGroupSize()) {
    lutAxis = 0;
  } else if (tAxis && *tAxis == layout.kAxis() && scheme.getLutGroupSize()) {
    lutAxis = 1;
    lutGroupSize = scheme.getLutGroupSize();
    if (layout.transposed)
      table = transposeTensor(rewriter, loc, table, {1, 0, 2});
  } else if (tAxis) {
    return rewriter.notifyMatchFailure(
        dq, "the weight's tables are neither per tensor, per row nor per "
            "group along K");
  }
  w.table = table;
  w.form = LutSchemeAttr::get(rewriter.getContext(), scheme.getBits(), axis,
                              groupSize, lutAxis, lutGroupSize);
  w.codes = dq.getInput();
  return w;
}

/// True when `value` is a linalg.fill of +0.0 (the usual matmul init).
bool isZeroFill(Value value) {
  auto fill = value.getDefiningOp<linalg::FillOp>();
  return fill && matchPattern(fill.getInputs()[0], m_PosZeroFloat());
}

struct FuseDequantIntoContraction
    : OpInterfaceRewritePattern<linalg::LinalgOp> {
  using OpInterfaceRewritePattern::OpInterfaceRewritePattern;

  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    SmallVector<WeightedContraction> readings = getWeightedContractions(op);
    if (readings.empty())
      return rewriter.notifyMatchFailure(
          op, "not a contraction of activations [..., K] with a 2-D weight "
              "into [..., N]");
    for (const WeightedContraction &reading : readings) {
      OpOperand *weight = reading.weight, *act = reading.activations,
                *init = reading.init;
      bool transposed = reading.transposed;
      Operation *dq = weight->get().getDefiningOp();
      if (!isa_and_present<DequantizeOp, FmaDequantizeOp, LutDequantizeOp>(dq))
        continue;
      auto actType = cast<RankedTensorType>(act->get().getType());
      auto outType = cast<RankedTensorType>(init->get().getType());
      auto wType = cast<RankedTensorType>(weight->get().getType());
      if (!wType.hasStaticShape())
        return rewriter.notifyMatchFailure(op, "dynamic weight shape");
      if (actType.getElementType() != outType.getElementType() ||
          wType.getElementType() != outType.getElementType())
        return rewriter.notifyMatchFailure(
            op, "activations, weight and result need one element type");

      WeightLayout layout{transposed, wType.getDimSize(transposed ? 1 : 0),
                          wType.getDimSize(transposed ? 0 : 1)};
      // Check everything before creating IR: a failed pattern leaves none.
      bool reachable = true;
      if (auto affine = dyn_cast<DequantizeOp>(dq))
        reachable = rowsReachable(affine.getScheme().getAxis(),
                                  affine.getScheme().getGroupSize(), layout);
      else if (auto fma = dyn_cast<FmaDequantizeOp>(dq))
        reachable = rowsReachable(fma.getForm().getAxis(),
                                  fma.getForm().getGroupSize(), layout);
      else if (auto lut = dyn_cast<LutDequantizeOp>(dq))
        reachable = (!lut.getScales() ||
                     rowsReachable(lut.getScheme().getAxis(),
                                   lut.getScheme().getGroupSize(), layout)) &&
                    tablesReachable(lut.getScheme(), layout);
      if (!reachable)
        return rewriter.notifyMatchFailure(
            op, "the weight's groups do not run along K (per-group along N, "
                "or per-axis along K)");
      Location loc = op.getLoc();
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPoint(op);
      FailureOr<QWeight> q;
      if (auto affine = dyn_cast<DequantizeOp>(dq))
        q = buildAffineWeight(rewriter, loc, affine, layout);
      else if (auto fma = dyn_cast<FmaDequantizeOp>(dq))
        q = buildFmaWeight(rewriter, loc, fma, layout);
      else
        q = buildLutWeight(rewriter, loc, cast<LutDequantizeOp>(dq), layout);
      if (failed(q))
        return failure();
      Value codes = q->codes;
      if (transposed)
        codes = transposeTensor(rewriter, loc, codes, {1, 0});
      Value result = QMatmulOp::create(rewriter, loc, outType, act->get(), codes,
                                       q->scales, q->bias, q->table, q->form);
      if (!isZeroFill(init->get()))
        result = arith::AddFOp::create(rewriter, loc, init->get(), result);
      rewriter.replaceOp(op, result);
      return success();
    }
    return rewriter.notifyMatchFailure(op, "no dequantized weight operand");
  }
};

struct FuseDequantMatmulPass
    : squant::impl::SQuantFuseDequantMatmulBase<FuseDequantMatmulPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateFuseDequantMatmulPatterns(patterns);
    if (failed(applySQuantPatterns(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void mlir::squant::populateFuseDequantMatmulPatterns(
    RewritePatternSet &patterns) {
  patterns.add<FuseDequantIntoContraction>(patterns.getContext());
}
