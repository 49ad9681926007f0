//===- SQuantFolders.cpp - Compile-time evaluation of squant ops ----------===//
//
// On constant operands the ops fold to constants computed by the reference
// library, bit for bit as the spec says: this is compile-time weight
// quantization. Folders never fold what the spec leaves unspecified
// (non-finite inputs, out-of-range table indices).
//
//===----------------------------------------------------------------------===//

#include "squant/Dialect/SQuant/IR/SQuant.h"

#include "squant/Dialect/SQuant/IR/ConstantValues.h"
#include "squant/Reference/Lut.h"
#include "squant/Reference/OneFma.h"
#include "squant/Reference/Pack.h"

using namespace mlir;
using namespace mlir::squant;

namespace {

/// The parameters of a (de)quantize whose scale and zero point are constant.
std::optional<ref::TensorQParams> constantParams(AffineSchemeAttr scheme,
                                                 Attribute scaleAttr,
                                                 Attribute zpAttr) {
  std::optional<std::vector<float>> scales = readFloats(scaleAttr);
  if (!scales)
    return std::nullopt;
  std::optional<std::vector<float>> zps =
      readZeroPoints(scheme, zpAttr, scales->size());
  if (!zps || zps->size() != scales->size())
    return std::nullopt;
  return ref::TensorQParams{std::move(*scales), std::move(*zps)};
}

std::vector<int64_t> staticShape(ShapedType type) {
  return std::vector<int64_t>(type.getShape().begin(), type.getShape().end());
}

} // namespace

LogicalResult ChooseQParamsOp::fold(FoldAdaptor adaptor,
                                    SmallVectorImpl<OpFoldResult> &results) {
  auto inputType = getInput().getType();
  std::optional<std::vector<float>> x = readFloats(adaptor.getInput());
  if (!x || !ref::allFinite(*x))
    return failure();
  AffineSchemeAttr scheme = getScheme();
  ref::Scheme sc = scheme.toReference(getFloatFormat(inputType.getElementType()));
  ref::TensorQParams params =
      ref::chooseQParams(sc, scheme.getGrouping(staticShape(inputType)), *x);
  results.push_back(makeFloats(getScale().getType(), params.scales));
  if (!getZeroPoint())
    return success();
  auto zpType = cast<ShapedType>(getZeroPoint().getType());
  if (scheme.hasIntZeroPoint())
    results.push_back(makeInts(
        zpType, std::vector<int32_t>(params.zeroPoints.begin(),
                                     params.zeroPoints.end())));
  else
    results.push_back(makeFloats(zpType, params.zeroPoints));
  return success();
}

OpFoldResult QuantizeOp::fold(FoldAdaptor adaptor) {
  auto inputType = getInput().getType();
  std::optional<std::vector<float>> x = readFloats(adaptor.getInput());
  if (!x || !ref::allFinite(*x))
    return {};
  AffineSchemeAttr scheme = getScheme();
  std::optional<ref::TensorQParams> params =
      constantParams(scheme, adaptor.getScale(), adaptor.getZeroPoint());
  if (!params)
    return {};
  ref::Scheme sc = scheme.toReference(getFloatFormat(inputType.getElementType()));
  std::vector<int32_t> q = ref::quantize(
      sc, scheme.getGrouping(staticShape(inputType)), *x, *params);
  return makeInts(getResult().getType(), q);
}

OpFoldResult DequantizeOp::fold(FoldAdaptor adaptor) {
  auto resultType = getResult().getType();
  AffineSchemeAttr scheme = getScheme();
  std::optional<std::vector<int32_t>> q =
      readInts(adaptor.getInput(), scheme.isSigned());
  std::optional<ref::TensorQParams> params =
      constantParams(scheme, adaptor.getScale(), adaptor.getZeroPoint());
  if (!q || !params)
    return {};
  ref::Scheme sc =
      scheme.toReference(getFloatFormat(resultType.getElementType()));
  std::vector<float> w = ref::dequantize(
      sc, scheme.getGrouping(staticShape(resultType)), *q, *params);
  return makeFloats(resultType, w);
}

OpFoldResult FmaDequantizeOp::fold(FoldAdaptor adaptor) {
  auto resultType = getResult().getType();
  FmaFormAttr form = getForm();
  std::optional<std::vector<int32_t>> q =
      readInts(adaptor.getInput(), form.isSigned());
  std::optional<std::vector<float>> scales = readFloats(adaptor.getScale());
  std::optional<std::vector<float>> bias = readFloats(adaptor.getBias());
  if (!q || !scales || !bias)
    return {};
  std::vector<int64_t> idx =
      form.getGrouping(staticShape(resultType)).paramIndices();
  ref::FloatFormat format = getFloatFormat(resultType.getElementType());
  std::vector<float> w(q->size());
  for (size_t i = 0; i < q->size(); ++i)
    w[i] = ref::roundTo(
        ref::fmaDequantize((*q)[i], (*scales)[idx[i]], (*bias)[idx[i]]), format);
  return makeFloats(resultType, w);
}

OpFoldResult LutDequantizeOp::fold(FoldAdaptor adaptor) {
  auto resultType = getResult().getType();
  LutSchemeAttr scheme = getScheme();
  int64_t entries = int64_t(1) << scheme.getBits();
  std::optional<std::vector<int32_t>> idx = readInts(adaptor.getInput(), false);
  if (!idx)
    return {};
  bool intTable = getTable().getType().getElementType().isInteger(8);
  std::optional<std::vector<float>> table;
  if (intTable) {
    std::optional<std::vector<int32_t>> ints = readInts(adaptor.getTable(), true);
    if (ints)
      table = std::vector<float>(ints->begin(), ints->end());
  } else {
    table = readFloats(adaptor.getTable());
  }
  std::optional<std::vector<float>> scales;
  if (getScales()) {
    scales = readFloats(adaptor.getScales());
    if (!scales)
      return {};
  }
  if (!table)
    return {};
  std::vector<int64_t> shape = staticShape(resultType);
  std::vector<int64_t> scaleIdx = scheme.getScaleGrouping(shape).paramIndices();
  std::vector<int64_t> tableIdx = scheme.getTableGrouping(shape).paramIndices();
  ref::FloatFormat format = getFloatFormat(resultType.getElementType());
  std::vector<float> w(idx->size());
  for (size_t i = 0; i < idx->size(); ++i) {
    int32_t code = (*idx)[i];
    // An index outside the table has no defined value: leave the op alone.
    if (code < 0 || code >= entries)
      return {};
    float entry = (*table)[tableIdx[i] * entries + code];
    if (intTable)
      w[i] = ref::lutDequantize(static_cast<int8_t>(entry), (*scales)[scaleIdx[i]]);
    else
      w[i] = scales ? ref::roundTo((*scales)[scaleIdx[i]] * entry, format) : entry;
  }
  return makeFloats(resultType, w);
}

OpFoldResult PackOp::fold(FoldAdaptor adaptor) {
  PackedLayoutAttr layout = getLayout();
  std::optional<std::vector<int32_t>> q =
      readInts(adaptor.getInput(), layout.getStorage() == Storage::Signed);
  auto inputType = getInput().getType();
  if (!q || !inputType.hasStaticShape())
    return {};
  int64_t cols = inputType.getShape().back();
  int64_t rows = cols == 0 ? 0 : inputType.getNumElements() / cols;
  std::vector<uint8_t> bytes =
      ref::packCodes(*q, rows, cols, layout.getBits(),
                     static_cast<ref::PackOrder>(layout.getOrder()));
  // Gather each row's bytes into little-endian containers (i8 or i32 words).
  auto resultType = getResult().getType();
  int64_t wordBytes = resultType.getElementTypeBitWidth() / 8;
  int64_t words = resultType.getShape().back();
  int64_t rowBytes = ref::packedRowBytes(cols, layout.getBits());
  std::vector<int32_t> containers(rows * words, 0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t b = 0; b < rowBytes; ++b)
      containers[r * words + b / wordBytes] |=
          static_cast<int32_t>(static_cast<uint32_t>(bytes[r * rowBytes + b])
                               << (8 * (b % wordBytes)));
  return makeInts(resultType, containers);
}
