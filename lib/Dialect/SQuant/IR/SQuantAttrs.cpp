//===- SQuantAttrs.cpp - squant attribute verifiers and helpers -----------===//
//
// Verifiers of the scheme attributes ((A*), (L*), (F*), (P*) in their
// descriptions) and the conversions to the reference library's types.
//
//===----------------------------------------------------------------------===//

#include "squant/Dialect/SQuant/IR/SQuant.h"

#include <cmath>

using namespace mlir;
using namespace mlir::squant;

namespace {

/// The granularity checks shared by every scheme attribute.
LogicalResult verifyGranularity(function_ref<InFlightDiagnostic()> emitError,
                                std::optional<int64_t> axis,
                                std::optional<int64_t> groupSize,
                                StringRef axisName, StringRef groupName) {
  if (groupSize && !axis)
    return emitError() << "'" << groupName << "' = " << *groupSize
                       << " needs an '" << axisName << "'";
  if (axis && *axis < 0)
    return emitError() << "'" << axisName << "' must be >= 0, got " << *axis;
  if (groupSize && *groupSize < 1)
    return emitError() << "'" << groupName << "' must be >= 1, got "
                       << *groupSize;
  return success();
}

LogicalResult verifyBits(function_ref<InFlightDiagnostic()> emitError,
                         unsigned bits) {
  if (bits < 1 || bits > 8)
    return emitError() << "bits must be in [1, 8], got " << bits;
  return success();
}

SmallVector<int64_t> paramShapeOf(ArrayRef<int64_t> shape,
                                  std::optional<int64_t> axis,
                                  std::optional<int64_t> groupSize) {
  if (!axis)
    return {};
  if (!groupSize)
    return {shape[*axis]};
  SmallVector<int64_t> result(shape);
  if (!ShapedType::isDynamic(result[*axis]))
    result[*axis] /= *groupSize;
  return result;
}

ref::Grouping groupingOf(ArrayRef<int64_t> shape, std::optional<int64_t> axis,
                         std::optional<int64_t> groupSize) {
  ref::Grouping g;
  g.shape.assign(shape.begin(), shape.end());
  g.axis = axis ? *axis : -1;
  g.groupSize = groupSize ? *groupSize : 0;
  return g;
}

ref::SchemeKind toReferenceKind(SchemeKind kind) {
  switch (kind) {
  case SchemeKind::Asymmetric:
    return ref::SchemeKind::Asymmetric;
  case SchemeKind::AsymmetricNoPreserveZero:
    return ref::SchemeKind::AsymmetricNoPreserveZero;
  case SchemeKind::Symmetric:
    return ref::SchemeKind::Symmetric;
  case SchemeKind::SymmetricNoClippingErr:
    return ref::SchemeKind::SymmetricNoClippingErr;
  case SchemeKind::Stretched:
    return ref::SchemeKind::Stretched;
  case SchemeKind::FloatZeroPoint:
    return ref::SchemeKind::FloatZeroPoint;
  }
  return ref::SchemeKind::Asymmetric;
}

} // namespace

//===----------------------------------------------------------------------===//
// AffineSchemeAttr
//===----------------------------------------------------------------------===//

LogicalResult
AffineSchemeAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                         SchemeKind kind, unsigned bits, Storage storage,
                         std::optional<int64_t> axis,
                         std::optional<int64_t> groupSize,
                         std::optional<int64_t> qmin,
                         std::optional<int64_t> qmax, FloatAttr eps) {
  // (A1)
  if (failed(verifyBits(emitError, bits)))
    return failure();
  // (A2)
  if ((kind == SchemeKind::Stretched ||
       kind == SchemeKind::SymmetricNoClippingErr) &&
      storage != Storage::Signed)
    return emitError() << "'" << stringifySchemeKind(kind)
                       << "' needs signed storage";
  // (A3)
  if (kind == SchemeKind::Stretched && (qmin || qmax))
    return emitError() << "'stretched' fixes its range to +-(2^(bits-1) - "
                          "0.5) and takes no qmin/qmax";
  bool isSigned = storage == Storage::Signed;
  int64_t lo = ref::storageMin(bits, isSigned), hi = ref::storageMax(bits, isSigned);
  int64_t effMin = qmin.value_or(lo), effMax = qmax.value_or(hi);
  if (effMin < lo || effMax > hi)
    return emitError() << "qmin = " << effMin << " and qmax = " << effMax
                       << " must lie in [" << lo << ", " << hi << "], the "
                       << stringifyStorage(storage) << " range of " << bits
                       << " bits";
  if (effMin >= effMax)
    return emitError() << "qmin = " << effMin << " must be < qmax = " << effMax;
  // (A4)
  if (failed(verifyGranularity(emitError, axis, groupSize, "axis",
                               "group_size")))
    return failure();
  // (A5)
  if (eps) {
    double v = eps.getValueAsDouble();
    if (!eps.getType().isF32() || !std::isfinite(v) || v <= 0.0)
      return emitError() << "eps must be a finite positive f32, got " << eps;
  }
  return success();
}

ref::Scheme AffineSchemeAttr::toReference(ref::FloatFormat format) const {
  ref::Scheme s =
      ref::Scheme::get(toReferenceKind(getKind()), getBits(), isSigned(), format);
  if (getQmin())
    s.qmin = static_cast<int32_t>(*getQmin());
  if (getQmax())
    s.qmax = static_cast<int32_t>(*getQmax());
  if (getEps())
    s.eps = getEps().getValue().convertToFloat();
  return s;
}

bool AffineSchemeAttr::hasZeroPointOperand() const {
  return toReference(ref::FloatFormat::F32).hasZeroPointOperand();
}

bool AffineSchemeAttr::hasIntZeroPoint() const {
  return toReference(ref::FloatFormat::F32).hasIntZeroPoint();
}

SmallVector<int64_t>
AffineSchemeAttr::getParamShape(ArrayRef<int64_t> shape) const {
  return paramShapeOf(shape, getAxis(), getGroupSize());
}

ref::Grouping AffineSchemeAttr::getGrouping(ArrayRef<int64_t> shape) const {
  return groupingOf(shape, getAxis(), getGroupSize());
}

//===----------------------------------------------------------------------===//
// LutSchemeAttr
//===----------------------------------------------------------------------===//

LogicalResult
LutSchemeAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                      unsigned bits, std::optional<int64_t> axis,
                      std::optional<int64_t> groupSize,
                      std::optional<int64_t> lutAxis,
                      std::optional<int64_t> lutGroupSize) {
  // (L1)
  if (failed(verifyBits(emitError, bits)))
    return failure();
  // (L2)
  if (failed(verifyGranularity(emitError, axis, groupSize, "axis",
                               "group_size")) ||
      failed(verifyGranularity(emitError, lutAxis, lutGroupSize, "lut_axis",
                               "lut_group_size")))
    return failure();
  return success();
}

SmallVector<int64_t>
LutSchemeAttr::getScaleShape(ArrayRef<int64_t> shape) const {
  return paramShapeOf(shape, getAxis(), getGroupSize());
}

SmallVector<int64_t>
LutSchemeAttr::getTableShape(ArrayRef<int64_t> shape) const {
  SmallVector<int64_t> result = paramShapeOf(shape, getLutAxis(), getLutGroupSize());
  result.push_back(int64_t(1) << getBits());
  return result;
}

ref::Grouping LutSchemeAttr::getScaleGrouping(ArrayRef<int64_t> shape) const {
  return groupingOf(shape, getAxis(), getGroupSize());
}

ref::Grouping LutSchemeAttr::getTableGrouping(ArrayRef<int64_t> shape) const {
  return groupingOf(shape, getLutAxis(), getLutGroupSize());
}

//===----------------------------------------------------------------------===//
// FmaFormAttr, PackedLayoutAttr
//===----------------------------------------------------------------------===//

LogicalResult FmaFormAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                  unsigned bits, Storage storage,
                                  std::optional<int64_t> axis,
                                  std::optional<int64_t> groupSize) {
  // (F1)
  if (failed(verifyBits(emitError, bits)))
    return failure();
  // (F2)
  return verifyGranularity(emitError, axis, groupSize, "axis", "group_size");
}

SmallVector<int64_t> FmaFormAttr::getParamShape(ArrayRef<int64_t> shape) const {
  return paramShapeOf(shape, getAxis(), getGroupSize());
}

ref::Grouping FmaFormAttr::getGrouping(ArrayRef<int64_t> shape) const {
  return groupingOf(shape, getAxis(), getGroupSize());
}

LogicalResult
PackedLayoutAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                         PackOrder order, unsigned bits, Storage storage,
                         unsigned version) {
  // (P1)
  if (failed(verifyBits(emitError, bits)))
    return failure();
  // (P2)
  if (version != 1)
    return emitError() << "unknown packed layout version " << version
                       << " (this squant knows version 1)";
  return success();
}
