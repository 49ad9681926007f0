//===- Contraction.cpp - Recognise weight x activation contractions -------===//

#include "squant/Dialect/SQuant/Transforms/Contraction.h"

using namespace mlir;
using namespace mlir::squant;

SmallVector<WeightedContraction>
mlir::squant::getWeightedContractions(linalg::LinalgOp op) {
  SmallVector<WeightedContraction> result;
  if (!op.hasPureTensorSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1 || !linalg::isaContractionOpInterface(op))
    return result;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  if (llvm::count(iterators, utils::IteratorType::reduction) != 1)
    return result;
  unsigned kDim =
      llvm::find(iterators, utils::IteratorType::reduction) - iterators.begin();
  OpOperand *init = op.getDpsInitOperand(0);
  AffineMap oMap = op.getMatchingIndexingMap(init);
  if (!oMap.isProjectedPermutation())
    return result;
  for (int64_t wi = 0; wi < 2; ++wi) {
    OpOperand *weight = op.getDpsInputOperand(wi);
    OpOperand *act = op.getDpsInputOperand(1 - wi);
    AffineMap wMap = op.getMatchingIndexingMap(weight);
    AffineMap aMap = op.getMatchingIndexingMap(act);
    if (wMap.getNumResults() != 2 || !wMap.isProjectedPermutation() ||
        !aMap.isProjectedPermutation())
      continue;
    unsigned w0 = wMap.getDimPosition(0), w1 = wMap.getDimPosition(1);
    if (w0 != kDim && w1 != kDim)
      continue;
    bool transposed = w0 == kDim;
    unsigned nDim = transposed ? w1 : w0;
    // Activations [d..., k] and result [d..., n] with the same d...
    unsigned aRank = aMap.getNumResults(), oRank = oMap.getNumResults();
    if (aRank != oRank || aMap.getDimPosition(aRank - 1) != kDim ||
        oMap.getDimPosition(oRank - 1) != nDim)
      continue;
    bool sameLeading = true;
    for (unsigned i = 0; i + 1 < aRank; ++i)
      sameLeading &= aMap.getDimPosition(i) == oMap.getDimPosition(i);
    if (!sameLeading)
      continue;
    result.push_back({weight, act, init, transposed});
  }
  return result;
}
